// login.js: password sign-in, the MFA step and single sign-on buttons.
'use strict';
(function () {
  const { api, $, el, say, errorText, safeRedirect, passkey } = window.tp;
  let pendingUser = '';
  // conditional is the pending autofill request, aborted for a button's own.
  let conditional = null;

  // target is where to go after signing in: a path on this origin (the
  // server's rules, see tp.safeRedirect), and not this page again.
  function target() {
    const r = safeRedirect(new URLSearchParams(location.search).get('redirect') || '');
    if (!r || new URL(r, location.origin).pathname.replace(/\/+$/, '') === '/login') return '/account';
    return r;
  }

  function signedIn(body, username) {
    if (body && body.session_id) sessionStorage.setItem('tp.session_id', body.session_id);
    if (username) sessionStorage.setItem('tp.username', username);
    location.assign(target());
  }

  // ssoSucceeded acts on ?sso=success only when the browser really holds a
  // session: the query alone, which anyone can write, does nothing.
  async function ssoSucceeded(sessionID) {
    let me;
    try {
      me = await api('GET', '/api/v1/profile', undefined, { probe: true });
    } catch (e) {
      return;
    }
    if (!me || !me.username) return;
    const id = /^[0-9a-f-]{36}$/i.test(sessionID || '') ? sessionID : '';
    signedIn({ session_id: id }, me.username);
  }

  function flash(text, isError) {
    const f = $('flash');
    f.textContent = text;
    f.classList.toggle('error', !!isError);
    f.hidden = false;
  }

  async function login(ev) {
    ev.preventDefault();
    say('login-error', '');
    const username = $('username').value.trim();
    const password = $('password').value;
    if (!username || !password) {
      say('login-error', 'Enter your username and password.');
      return;
    }
    const btn = $('login-submit');
    btn.disabled = true;
    try {
      const body = await api('POST', '/api/v1/token', new URLSearchParams({ grant_type: 'password', username, password }));
      if (body && body.mfa_required) return showMFA(body.username || username);
      signedIn(body, username);
    } catch (err) {
      say('login-error', errorText(err));
      $('password').select();
    } finally {
      btn.disabled = false;
    }
  }

  // showMFA asks for the second factor, offering a passkey when the account
  // has one (the server answers the passkey options only then).
  async function showMFA(username) {
    pendingUser = username;
    stopConditional();
    $('login-form').hidden = true;
    $('mfa-form').hidden = false;
    $('mfa-passkey-box').hidden = true;
    $('mfa-help').textContent = 'Enter the 6-digit code from your authenticator app, or one of your backup codes.';
    $('mfa-code').focus();
    if (!passkey.supported) return;
    try {
      await api('POST', '/api/v1/mfa/passkey/begin', { username });
      $('mfa-help').textContent = 'Confirm with your passkey, or enter the 6-digit code from your authenticator app or one of your backup codes.';
      $('mfa-passkey-box').hidden = false;
      $('mfa-passkey').focus();
    } catch (e) { /* no passkey: the code it is */ }
  }

  async function mfaPasskey() {
    say('mfa-error', '');
    const btn = $('mfa-passkey');
    btn.disabled = true;
    try {
      const options = await api('POST', '/api/v1/mfa/passkey/begin', { username: pendingUser });
      const credential = await passkey.get(options);
      signedIn(await api('POST', '/api/v1/mfa/passkey/finish', { username: pendingUser, credential }), pendingUser);
    } catch (err) {
      say('mfa-error', passkey.failed(err));
    } finally {
      btn.disabled = false;
    }
  }

  // passkeySignIn runs a passwordless sign-in; with mediation 'conditional'
  // the browser offers the passkeys in the username field's autofill.
  async function passkeySignIn(mediation) {
    const options = await api('POST', '/api/v1/passkeys/login/begin');
    const extra = {};
    if (mediation) {
      conditional = new AbortController();
      Object.assign(extra, { mediation, signal: conditional.signal });
    }
    const credential = await passkey.get(options, extra);
    conditional = null;
    let body;
    try {
      body = await api('POST', '/api/v1/passkeys/login/finish', { credential });
    } catch (err) {
      if (err instanceof window.tp.APIError) err.chosen = true; // the user picked a passkey
      throw err;
    }
    // A passkey that did not verify the user is one factor, like a password.
    if (body && body.mfa_required) return showMFA(body.username);
    signedIn(body, '');
  }

  function stopConditional() {
    if (conditional) conditional.abort();
    conditional = null;
  }

  async function passkeyButton() {
    say('login-error', '');
    stopConditional();
    const btn = $('passkey-signin');
    btn.disabled = true;
    try {
      await passkeySignIn();
    } catch (err) {
      say('login-error', passkey.failed(err));
    } finally {
      btn.disabled = false;
    }
  }

  async function offerAutofill() {
    const pkc = window.PublicKeyCredential;
    if (!pkc || typeof pkc.isConditionalMediationAvailable !== 'function') return;
    if (!(await pkc.isConditionalMediationAvailable().catch(() => false))) return;
    try {
      await passkeySignIn('conditional');
    } catch (err) {
      // Autofill runs without being asked, so only a passkey the user chose and
      // the server refused is news to them; the browser's own refusals (aborted
      // for the button or the password form, nothing chosen, a host it will not
      // use passkeys on) stay quiet.
      if (err && err.chosen && err.status !== 429) say('login-error', passkey.failed(err));
    }
  }

  async function verify(ev) {
    ev.preventDefault();
    say('mfa-error', '');
    const code = $('mfa-code').value.replace(/\s+/g, '');
    if (!code) {
      say('mfa-error', 'Enter a code.');
      return;
    }
    const btn = $('mfa-submit');
    btn.disabled = true;
    try {
      signedIn(await api('POST', '/api/v1/mfa/verify', { username: pendingUser, mfa_code: code }), pendingUser);
    } catch (err) {
      say('mfa-error', errorText(err));
      $('mfa-code').select();
    } finally {
      btn.disabled = false;
    }
  }

  async function loadProviders() {
    let list;
    try { list = await api('GET', '/api/v1/public/idp'); } catch (e) { return; }
    if (!Array.isArray(list) || !list.length) return;
    const ul = $('sso-list');
    // The provider's way back keeps where the user was going.
    const r = safeRedirect(new URLSearchParams(location.search).get('redirect') || '');
    const back = r ? '?redirect=' + encodeURIComponent(r) : '';
    for (const p of list) {
      const href = '/api/v1/public/idp/login/' + encodeURIComponent(p.slug) + back;
      ul.append(el('li', {}, el('a', { href, class: 'sso', text: 'Sign in with ' + p.name })));
    }
    $('sso').hidden = false;
  }

  document.addEventListener('DOMContentLoaded', () => {
    const q = new URLSearchParams(location.search);
    const err = q.get('error') || '';
    if (err.startsWith('sso')) flash('Single sign-on did not complete. Try again, or sign in with your password.', true);
    else if (q.has('sessionExpired')) flash('Your session has ended. Please sign in again.', true);
    else if (q.has('logoutSuccess')) flash('You have been signed out.');
    else if (q.has('passwordChanged')) flash('Your password was changed. Sign in with the new one.');
    else if (q.has('passwordResetSuccess')) flash('Your password was reset. Sign in with the new one.');
    $('login-form').addEventListener('submit', login);
    $('mfa-form').addEventListener('submit', verify);
    $('mfa-passkey').addEventListener('click', mfaPasskey);
    if (passkey.supported) {
      $('passkey-signin-box').hidden = false;
      $('passkey-signin').addEventListener('click', passkeyButton);
      if (!q.has('sso')) offerAutofill();
    }
    $('mfa-cancel').addEventListener('click', () => {
      $('mfa-form').hidden = true;
      $('login-form').hidden = false;
      $('password').value = '';
      $('password').focus();
    });
    loadProviders();
    api('GET', '/api/v1/public/server_settings').then((st) => {
      $('signup-link').hidden = !(st && st.signup_enabled);
      $('forgot-link').hidden = !(st && st.email_enabled);
    }, () => {});
    if (q.get('sso') === 'success') ssoSucceeded(q.get('session_id'));
  });
})();
