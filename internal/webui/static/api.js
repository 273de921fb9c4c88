// api.js: the console's one way to reach the JSON API, and small DOM helpers.
// Every page loads it before its own script; it defines the global `tp`.
'use strict';
(function () {
  function cookie(name) {
    for (const part of document.cookie.split(';')) {
      const i = part.indexOf('=');
      if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
    }
    return '';
  }

  // APIError carries the status and the API's detail, ready to show.
  class APIError extends Error {
    constructor(status, message, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  // detailText turns {"detail": "..."} or FastAPI's [{loc, msg}] list into one line.
  function detailText(detail, status) {
    if (typeof detail === 'string' && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail.map((d) => {
        const loc = Array.isArray(d.loc) ? d.loc.filter((x) => x !== 'body').join('.') : '';
        return (loc ? loc + ': ' : '') + (d.msg || 'invalid');
      }).join('; ');
    }
    return 'The request failed (HTTP ' + status + ').';
  }

  // Sign-in calls answer 401 for a wrong password or code: never refresh on those.
  const noRefresh = new Set(['/api/v1/token', '/api/v1/refresh', '/api/v1/mfa/verify', '/api/v1/logout',
    '/api/v1/passkeys/login/finish', '/api/v1/mfa/passkey/finish']);

  function send(method, path, body) {
    const headers = { 'X-Client-Type': 'web', 'Accept': 'application/json' };
    let payload;
    if (body instanceof FormData || body instanceof URLSearchParams) {
      payload = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      // Read at each send: a refresh rotates the CSRF cookie.
      const csrf = cookie('endurain_csrf_token');
      if (csrf) headers['X-CSRF-Token'] = csrf;
    }
    return fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  }

  // One refresh at a time: concurrent 401s share it.
  let refreshing = null;
  function refreshOnce() {
    if (!refreshing) {
      refreshing = send('POST', '/api/v1/refresh').then((r) => r.ok, () => false);
      refreshing.finally(() => setTimeout(() => { refreshing = null; }, 0));
    }
    return refreshing;
  }

  let leaving = false;
  async function sessionEnded() {
    if (leaving) return;
    leaving = true;
    try { await send('POST', '/api/v1/logout'); } catch (e) { /* signed out either way */ }
    location.assign('/login?sessionExpired=true&redirect=' + encodeURIComponent(location.pathname));
  }

  // api sends one request and returns the parsed JSON (null for an empty body),
  // or the Response itself with {raw: true}. A 401 gets one refresh and one retry;
  // when that fails too the session is over and the page goes to /login. With
  // {probe: true} a 401 is only thrown: the page asks whether there is a session.
  async function api(method, path, body, opts) {
    opts = opts || {};
    let res = await send(method, path, body);
    if (res.status === 401 && !opts.probe && !noRefresh.has(path.split('?')[0])) {
      if (await refreshOnce()) res = await send(method, path, body);
      if (res.status === 401) {
        sessionEnded();
        throw new APIError(401, 'Your session has ended. Please sign in again.');
      }
    }
    if (!res.ok) {
      let detail;
      try { detail = (await res.json()).detail; } catch (e) { /* not JSON */ }
      throw new APIError(res.status, detailText(detail, res.status), res.headers.get('Retry-After'));
    }
    if (opts.raw) return res;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  const $ = (id) => document.getElementById(id);

  // safeRedirect returns value when it is a path on this origin and '' otherwise.
  // It applies the rules of the server's idp.SafeRedirect (internal/idp/redirect.go);
  // both are tested with internal/idp/testdata/safe_redirect.json.
  function safeRedirect(value) {
    if (typeof value !== 'string' || !value || value[0] !== '/') return '';
    if (new TextEncoder().encode(value).length > 1000) return '';
    if (value.startsWith('//') || value.includes('\\')) return '';
    // Browsers drop tabs and newlines from URLs: '/\t/evil' would become '//evil'.
    if (/[\u0000-\u001f\u007f]/.test(value)) return '';
    if (/%(?![0-9a-fA-F]{2})/.test(value)) return '';
    const path = value.split(/[?#]/, 1)[0];
    if (/%(2e|2f|5c)/i.test(path)) return '';
    if (path.split('/').some((seg) => seg === '.' || seg === '..')) return '';
    const decoded = path.replace(/%([0-9a-fA-F]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16)));
    if (decoded === '/api' || decoded.startsWith('/api/')) return '';
    let u;
    try { u = new URL(value, location.origin); } catch (e) { return ''; }
    return u.origin === location.origin ? value : '';
  }

  // el builds an element: el('li', {class: 'x', dataset: {id: 1}}, 'text', child).
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'dataset') Object.assign(n.dataset, v);
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else if (k === 'text') n.textContent = v;
      else n.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) n.append(c);
    return n;
  }

  function say(id, text) {
    const n = $(id);
    if (!n) return;
    n.textContent = text || '';
    n.hidden = !text;
  }
  function errorText(err) {
    if (err instanceof APIError) {
      if (err.status === 429 && err.retryAfter) return err.message + ' (try again in ' + err.retryAfter + ' s)';
      return err.message;
    }
    return 'Could not reach the server. Check your connection and try again.';
  }
  // clearMessage empties a status line, and nothing else that shares its name.
  function clearMessage(id, cls) {
    const n = $(id);
    if (n && n.classList.contains(cls)) say(id, '');
  }
  // fail shows err in the element id and clears the matching "-ok" message.
  function fail(id, err) {
    clearMessage(id.replace(/-error$/, '-ok'), 'ok');
    say(id, errorText(err));
  }
  // ok shows a success message and clears the matching "-error" message.
  function ok(id, text) {
    clearMessage(id.replace(/-ok$/, '-error'), 'error');
    say(id, text);
  }

  // busy disables a button while fn runs, so a double click sends one request.
  async function busy(button, fn) {
    if (button) button.disabled = true;
    try { return await fn(); } finally { if (button) button.disabled = false; }
  }

  function fmtTime(s) {
    if (!s) return '—';
    const d = new Date(s);
    return isNaN(d) ? String(s) : d.toLocaleString();
  }

  // formJSON reads a form's named fields; data-int fields become numbers and
  // empty optional fields null.
  function formJSON(form) {
    const out = {};
    for (const f of form.elements) {
      if (!f.name || f.disabled) continue;
      if (f.type === 'checkbox') { out[f.name] = f.checked; continue; }
      if (f.type === 'file') continue;
      let v = f.value.trim();
      if (v === '') { out[f.name] = null; continue; }
      out[f.name] = f.hasAttribute('data-int') ? Number(v) : v;
    }
    return out;
  }
  function fillForm(form, data) {
    for (const f of form.elements) {
      if (!f.name || !(f.name in data)) continue;
      const v = data[f.name];
      if (f.type === 'checkbox') f.checked = !!v;
      else f.value = v === null || v === undefined ? '' : String(v);
    }
  }

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function signOut() {
    try { await api('POST', '/api/v1/logout'); } catch (e) { /* cookies are cleared either way */ }
    sessionStorage.clear();
    location.assign('/login?logoutSuccess=true');
  }

  // withStepUp runs action; when the API asks for a recent authentication it
  // asks the user for their password (or an MFA code), steps up and retries once.
  async function withStepUp(action) {
    try {
      return await action();
    } catch (err) {
      if (!(err instanceof APIError) || err.status !== 403 || !/recent authentication/i.test(err.message)) throw err;
      if (!(await stepUp())) throw new APIError(403, 'Cancelled: this action needs you to confirm it is you.');
      return action();
    }
  }

  // stepUp proves the user again and resolves false when they cancel: with an
  // authenticator or backup code, or a passkey, when the account has those
  // factors (an account whose only factor is a passkey uses it alone), else with
  // the password.
  async function stepUp() {
    let factors = [];
    try {
      const st = await api('GET', '/api/v1/profile/mfa/status');
      factors = Array.isArray(st.factors) ? st.factors : (st.mfa_enabled ? ['totp'] : []);
    } catch (e) { /* ask for the password */ }
    const dlg = $('stepup');
    const input = $('stepup-input');
    const totp = factors.includes('totp');
    const withPasskey = factors.includes('passkey') && passkey.supported;
    const codeless = factors.includes('passkey') && !totp;
    $('stepup-label').textContent = totp ? 'Authenticator or backup code' : 'Password';
    input.type = totp ? 'text' : 'password';
    input.autocomplete = totp ? 'one-time-code' : 'current-password';
    input.value = '';
    $('stepup-field').hidden = codeless;
    $('stepup-confirm').hidden = codeless;
    $('stepup-passkey').hidden = !withPasskey;
    say('stepup-error', '');
    return new Promise((resolve) => {
      const done = (v) => {
        $('stepup-form').removeEventListener('submit', submit);
        $('stepup-cancel').removeEventListener('click', cancel);
        $('stepup-passkey').removeEventListener('click', viaPasskey);
        dlg.removeEventListener('cancel', cancel);
        dlg.close();
        resolve(v);
      };
      const viaPasskey = async () => {
        say('stepup-error', '');
        try {
          await busy($('stepup-passkey'), async () => {
            const options = await api('POST', '/api/v1/profile/passkeys/reauth/begin');
            const credential = await passkey.get(options);
            await api('POST', '/api/v1/profile/passkeys/reauth/finish', { credential });
          });
          done(true);
        } catch (err) {
          say('stepup-error', passkey.failed(err));
        }
      };
      const cancel = (ev) => { ev.preventDefault(); done(false); };
      const submit = async (ev) => {
        ev.preventDefault();
        const v = input.value.trim();
        if (!v) { say('stepup-error', 'This field is required.'); return; }
        try {
          await busy($('stepup-confirm'), () => totp
            ? api('POST', '/api/v1/profile/mfa/verify', { mfa_code: v.replace(/\s+/g, '') })
            : api('POST', '/api/v1/profile/reauth', { password: input.value }));
          done(true);
        } catch (err) {
          fail('stepup-error', err);
          input.select();
        }
      };
      $('stepup-form').addEventListener('submit', submit);
      $('stepup-cancel').addEventListener('click', cancel);
      $('stepup-passkey').addEventListener('click', viaPasskey);
      dlg.addEventListener('cancel', cancel);
      dlg.showModal();
      (codeless ? $('stepup-passkey') : input).focus();
    });
  }

  // me is the signed-in user (GET /api/v1/profile), fetched once per page.
  let mePromise = null;
  function me() {
    if (!mePromise) mePromise = api('GET', '/api/v1/profile');
    return mePromise;
  }

  // confirmAction asks in a dialog before a consequential action and resolves
  // true when the user confirms. warning, when set, shows in the danger colour.
  function confirmAction(text, action, warning) {
    const dlg = $('confirm');
    $('confirm-text').textContent = text;
    say('confirm-warning', warning || '');
    $('confirm-ok').textContent = action || 'Confirm';
    $('confirm-ok').className = warning ? 'danger' : '';
    return new Promise((resolve) => {
      const done = (v) => {
        $('confirm-form').removeEventListener('submit', submit);
        $('confirm-cancel').removeEventListener('click', cancel);
        dlg.removeEventListener('cancel', cancel);
        dlg.close();
        resolve(v);
      };
      const cancel = (ev) => { ev.preventDefault(); done(false); };
      const submit = (ev) => { ev.preventDefault(); done(true); };
      $('confirm-form').addEventListener('submit', submit);
      $('confirm-cancel').addEventListener('click', cancel);
      dlg.addEventListener('cancel', cancel);
      dlg.showModal();
      $('confirm-cancel').focus();
    });
  }

  // Passkeys. The server sends the library's options with binary fields as
  // base64url; the browser wants ArrayBuffers, and answers with buffers the
  // server wants as base64url again (what PublicKeyCredential.toJSON() gives
  // where the browser has it).
  function fromB64(s) {
    const bin = atob(String(s).replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  }
  function toB64(buf) {
    if (!buf) return undefined;
    let bin = '';
    for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function descriptors(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: fromB64(c.id) }));
  }
  function credentialJSON(c) {
    if (typeof c.toJSON === 'function') return c.toJSON();
    const r = c.response;
    const out = { id: c.id, rawId: toB64(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      out.response.userHandle = toB64(r.userHandle);
    }
    return out;
  }
  const passkey = {
    supported: typeof window.PublicKeyCredential === 'function' && !!navigator.credentials,
    // create runs navigator.credentials.create() with the server's options.
    async create(options) {
      const pk = Object.assign({}, options.publicKey);
      pk.challenge = fromB64(pk.challenge);
      pk.user = Object.assign({}, pk.user, { id: fromB64(pk.user.id) });
      pk.excludeCredentials = descriptors(pk.excludeCredentials);
      return credentialJSON(await navigator.credentials.create({ publicKey: pk }));
    },
    // get runs navigator.credentials.get(); extra may add mediation and signal.
    async get(options, extra) {
      const pk = Object.assign({}, options.publicKey);
      pk.challenge = fromB64(pk.challenge);
      pk.allowCredentials = descriptors(pk.allowCredentials);
      return credentialJSON(await navigator.credentials.get(Object.assign({ publicKey: pk }, extra || {})));
    },
    // failed says why a ceremony ended without a credential, or rethrows.
    failed(err) {
      if (err instanceof APIError) return errorText(err);
      if (err && err.name === 'NotAllowedError') return 'The passkey request was cancelled or timed out.';
      if (err && err.name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
      return 'Your browser could not use a passkey' + (err && err.message ? ': ' + err.message : '.');
    },
  };

  window.tp = { api, APIError, $, el, say, fail, ok, busy, fmtTime, formJSON, fillForm, download, cookie, me, errorText, safeRedirect, passkey,
    withStepUp, stepUp, confirmAction };

  document.addEventListener('DOMContentLoaded', () => {
    const out = $('signout');
    if (out) {
      out.addEventListener('click', () => busy(out, signOut));
      // The admin link shows for admins only; the API enforces it anyway.
      me().then((u) => { if (u && u.access_type === 2) $('nav-admin').hidden = false; }, () => {});
    }
  });
})();
