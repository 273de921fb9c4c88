// security.js: password, two-factor authentication, linked accounts, sessions.
'use strict';
(function () {
  const { api, APIError, $, el, say, fail, ok, busy, fmtTime, download } = window.tp;
  let mfaEnabled = false;

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

  function stepUp() {
    const dlg = $('stepup');
    const input = $('stepup-input');
    $('stepup-label').textContent = mfaEnabled ? 'Authenticator or backup code' : 'Password';
    input.type = mfaEnabled ? 'text' : 'password';
    input.autocomplete = mfaEnabled ? 'one-time-code' : 'current-password';
    input.value = '';
    say('stepup-error', '');
    return new Promise((resolve) => {
      const done = (v) => {
        $('stepup-form').removeEventListener('submit', submit);
        $('stepup-cancel').removeEventListener('click', cancel);
        dlg.removeEventListener('cancel', cancel);
        dlg.close();
        resolve(v);
      };
      const cancel = (ev) => { ev.preventDefault(); done(false); };
      const submit = async (ev) => {
        ev.preventDefault();
        const v = input.value.trim();
        if (!v) { say('stepup-error', 'This field is required.'); return; }
        try {
          await busy($('stepup-confirm'), () => mfaEnabled
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
      dlg.addEventListener('cancel', cancel);
      dlg.showModal();
      input.focus();
    });
  }

  // Password.
  async function changePassword(ev) {
    ev.preventDefault();
    const current = $('pw-current').value, next = $('pw-new').value;
    if (!current || !next) return fail('password-error', new APIError(0, 'Enter your current and your new password.'));
    if (next !== $('pw-confirm').value) return fail('password-error', new APIError(0, 'The new passwords do not match.'));
    const btn = ev.submitter;
    const signOutOthers = $('pw-signout').checked;
    try {
      const r = await busy(btn, () => api('PUT', '/api/v1/profile/password',
        { password: next, current_password: current, sign_out_other_sessions: signOutOthers }));
      ev.target.reset();
      $('pw-signout').checked = true;
      let msg = 'Your password was changed.';
      if (signOutOthers) {
        // The server answers Endurain's one-message array; the count is in it.
        const m = /(\d+) other session/.exec(Array.isArray(r) ? r.join(' ') : '');
        msg += ' ' + signedOutText(m ? Number(m[1]) : 0);
        loadSessions();
      }
      ok('password-ok', msg);
    } catch (err) {
      return fail('password-error', err);
    }
  }

  function signedOutText(n) {
    return n === 1 ? '1 other session was signed out.' : n + ' other sessions were signed out.';
  }

  // Two-factor authentication.
  async function loadMFA() {
    try {
      const s = await api('GET', '/api/v1/profile/mfa/status');
      mfaEnabled = !!s.mfa_enabled;
      $('mfa-state').textContent = mfaEnabled ? 'Two-factor authentication is on.' : 'Two-factor authentication is off.';
      $('mfa-on').hidden = !mfaEnabled;
      $('mfa-off').hidden = mfaEnabled;
      if (mfaEnabled && typeof s.backup_codes_remaining === 'number') {
        $('backup-remaining').textContent = s.backup_codes_remaining + ' unused backup codes left.';
      }
    } catch (err) {
      $('mfa-state').textContent = '';
      fail('mfa-error', err);
    }
  }

  function groups(secret) {
    return String(secret || '').replace(/\s+/g, '').replace(/(.{4})/g, '$1 ').trim();
  }

  async function setupMFA(ev) {
    try {
      const s = await busy(ev.currentTarget, () => api('POST', '/api/v1/profile/mfa/setup', {}));
      $('mfa-qr').src = s.qr_code;
      $('mfa-secret').textContent = groups(s.secret);
      $('mfa-off').hidden = true;
      $('mfa-setup-panel').hidden = false;
      say('mfa-error', '');
      $('mfa-enable-code').focus();
    } catch (err) {
      fail('mfa-error', err);
    }
  }

  async function enableMFA(ev) {
    ev.preventDefault();
    const code = $('mfa-enable-code').value.replace(/\s+/g, '');
    if (!code) return fail('mfa-error', new APIError(0, 'Enter the code from your app.'));
    try {
      const r = await busy(ev.submitter, () => api('POST', '/api/v1/profile/mfa/enable', { mfa_code: code }));
      ev.target.reset();
      $('mfa-setup-panel').hidden = true;
      ok('mfa-ok', (r && r.message) || 'MFA enabled successfully');
      showBackupCodes(r && r.backup_codes);
      await loadMFA();
    } catch (err) {
      fail('mfa-error', err);
    }
  }

  let shownCodes = [];
  function showBackupCodes(codes) {
    shownCodes = Array.isArray(codes) ? codes : [];
    const ol = $('backup-codes');
    ol.replaceChildren(...shownCodes.map((c) => el('li', { text: c })));
    $('backup-panel').hidden = !shownCodes.length;
    if (shownCodes.length) $('backup-copy').focus();
  }

  async function copyCodes() {
    const text = shownCodes.join('\n');
    try {
      await navigator.clipboard.writeText(text);
      ok('mfa-ok', 'Backup codes copied.');
    } catch (e) {
      // Clipboard access needs a secure context; fall back to a selection.
      const range = document.createRange();
      range.selectNodeContents($('backup-codes'));
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      ok('mfa-ok', 'Press Ctrl+C (or ⌘C) to copy the selected codes.');
    }
  }

  function manageCode() {
    const code = $('mfa-manage-code').value.replace(/\s+/g, '');
    if (!code) fail('mfa-error', new APIError(0, 'Enter a code from your app or a backup code.'));
    return code;
  }

  async function regenerate(ev) {
    try {
      const r = await busy(ev.currentTarget, () => withStepUp(() => api('POST', '/api/v1/profile/mfa/backup-codes', {})));
      ok('mfa-ok', 'New backup codes made; the old ones no longer work.');
      showBackupCodes(r && r.backup_codes);
      loadMFA();
    } catch (err) {
      fail('mfa-error', err);
    }
  }

  async function disableMFA(ev) {
    const code = manageCode();
    if (!code) return;
    try {
      const r = await busy(ev.currentTarget, () => api('POST', '/api/v1/profile/mfa/disable', { mfa_code: code }));
      $('mfa-manage-form').reset();
      showBackupCodes([]);
      ok('mfa-ok', (r && r.message) || 'MFA disabled successfully');
      await loadMFA();
    } catch (err) {
      fail('mfa-error', err);
    }
  }

  // Linked accounts: every enabled provider, linked or not. Resolves to what
  // the server said, for the messages that follow a link.
  async function loadLinked() {
    let links = [], providers = [];
    try {
      [links, providers] = await Promise.all([api('GET', '/api/v1/profile/idp'), api('GET', '/api/v1/public/idp').catch(() => [])]);
    } catch (err) {
      fail('linked-error', err);
      return { links: [], providers: [] };
    }
    const byID = new Map((links || []).map((l) => [l.idp_id, l]));
    const rows = [];
    for (const p of providers || []) {
      const l = byID.get(p.id);
      byID.delete(p.id);
      rows.push(linkRow(p.id, p.name, l));
    }
    for (const l of byID.values()) rows.push(linkRow(l.idp_id, l.idp_name || 'Provider ' + l.idp_id, l));
    if (!rows.length) rows.push(el('li', { class: 'muted', text: 'No identity providers are set up on this server.' }));
    $('linked').replaceChildren(...rows);
    return { links: links || [], providers: providers || [] };
  }

  // The messages after a link come back through the URL, which anyone can
  // write: they name only what the server lists, show fixed text, and start
  // nothing without a click.
  const linkFailures = {
    conflict: 'That identity is already linked to another account.',
    forbidden: 'The session that started linking has ended, or the account is not active. Sign in and try again.',
  };
  function afterLink(q, known) {
    const id = Number(q.get('idp_id'));
    if (q.get('idp_link') === 'success') {
      const l = known.links.find((x) => x.idp_id === id);
      if (l) ok('linked-ok', 'Linked ' + (l.idp_name || 'your account') + '.');
      return;
    }
    if (q.get('idp_link') !== 'error') return;
    if (q.get('reauth_required') === 'true') {
      const p = known.providers.find((x) => x.id === id);
      if (p && !known.links.some((x) => x.idp_id === id)) offerRelink(p);
      return;
    }
    fail('linked-error', new APIError(0, linkFailures[q.get('reason')] || 'Linking did not complete. Try again.'));
  }

  // offerRelink asks before the step-up that linking p needs.
  function offerRelink(p) {
    $('relink-text').textContent = 'Linking ' + p.name + ' needs you to confirm it is you first.';
    $('relink-confirm').setAttribute('aria-label', 'Confirm and link ' + p.name);
    $('relink').hidden = false;
    $('relink-confirm').focus();
    $('relink-cancel').onclick = () => { $('relink').hidden = true; };
    $('relink-confirm').onclick = async () => {
      if (!(await stepUp())) return;
      location.assign('/api/v1/profile/idp/' + encodeURIComponent(p.id) + '/link');
    };
  }

  function linkRow(id, name, link) {
    const info = el('div', {}, el('strong', { text: name }),
      el('div', { class: 'meta', text: link ? 'Linked ' + fmtTime(link.linked_at) + (link.last_login ? ' · last used ' + fmtTime(link.last_login) : '') : 'Not linked' }));
    const action = link
      ? el('button', { type: 'button', class: 'danger', 'aria-label': 'Unlink ' + name, dataset: { idp: id }, text: 'Unlink', onclick: unlink })
      : el('a', { href: '/api/v1/profile/idp/' + encodeURIComponent(id) + '/link', class: 'button', 'aria-label': 'Link ' + name, text: 'Link' });
    return el('li', { dataset: { idp: id } }, info, action);
  }

  async function unlink(ev) {
    const b = ev.currentTarget;
    try {
      await busy(b, () => api('DELETE', '/api/v1/profile/idp/' + encodeURIComponent(b.dataset.idp)));
      ok('linked-ok', 'Account unlinked.');
      loadLinked();
    } catch (err) {
      fail('linked-error', err);
    }
  }

  // Sessions.
  function describe(s) {
    const browser = [s.browser, s.browser_version].filter(Boolean).join(' ') || 'Unknown browser';
    const os = [s.operating_system, s.operating_system_version].filter(Boolean).join(' ');
    return browser + (os ? ' on ' + os : '') + (s.device_type ? ' (' + s.device_type + ')' : '');
  }

  async function loadSessions() {
    let list;
    try {
      list = await api('GET', '/api/v1/profile/sessions');
    } catch (err) {
      return fail('sessions-error', err);
    }
    say('sessions-error', '');
    const mine = sessionStorage.getItem('tp.session_id');
    $('sessions').replaceChildren(...(list || []).map((s) => {
      const current = s.current || s.id === mine;
      const info = el('div', {},
        el('strong', { text: describe(s) }), current ? el('span', { class: 'badge', text: 'This device' }) : null,
        el('div', { class: 'meta', text: 'IP ' + (s.ip_address || '—') + ' · signed in ' + fmtTime(s.created_at) +
          ' · last active ' + fmtTime(s.last_active_at || s.created_at) + (s.auth_method ? ' · ' + s.auth_method : '') }));
      const btn = current ? null : el('button', { type: 'button', class: 'danger', dataset: { session: s.id },
        'aria-label': 'Sign out ' + describe(s), text: 'Sign out', onclick: revokeOne });
      return el('li', { class: 'session', dataset: { session: s.id, current: current ? 'true' : 'false' } }, info, btn);
    }));
  }

  async function revokeOne(ev) {
    const b = ev.currentTarget;
    try {
      await busy(b, () => api('DELETE', '/api/v1/profile/sessions/' + encodeURIComponent(b.dataset.session)));
      ok('sessions-ok', 'That session was signed out.');
      await loadSessions();
    } catch (err) {
      fail('sessions-error', err);
    }
  }

  async function revokeOthers(ev) {
    try {
      const r = await busy(ev.currentTarget, () => withStepUp(() => api('DELETE', '/api/v1/profile/sessions')));
      ok('sessions-ok', signedOutText(r && typeof r.revoked === 'number' ? r.revoked : 0));
      await loadSessions();
    } catch (err) {
      fail('sessions-error', err);
    }
  }

  // The new-device notice is the one notice a user may turn off.
  async function loadNotices() {
    const box = $('notice-new-sign-in');
    try {
      box.checked = !!(await api('GET', '/api/v1/profile/notices')).new_sign_in;
    } catch (err) {
      fail('notices-error', err);
    }
    box.addEventListener('change', async () => {
      try {
        await api('PUT', '/api/v1/profile/notices', { new_sign_in: box.checked });
        ok('notices-ok', box.checked ? 'New sign-in notices are on.' : 'New sign-in notices are off.');
      } catch (err) {
        box.checked = !box.checked;
        fail('notices-error', err);
      }
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    const q = new URLSearchParams(location.search);
    loadNotices();
    $('password-form').addEventListener('submit', changePassword);
    $('mfa-setup').addEventListener('click', setupMFA);
    $('mfa-enable-form').addEventListener('submit', enableMFA);
    $('mfa-setup-cancel').addEventListener('click', () => { $('mfa-setup-panel').hidden = true; $('mfa-off').hidden = false; });
    $('backup-copy').addEventListener('click', copyCodes);
    $('backup-download').addEventListener('click', () =>
      download(new Blob([shownCodes.join('\n') + '\n'], { type: 'text/plain' }), 'trailpass-backup-codes.txt'));
    $('backup-done').addEventListener('click', () => showBackupCodes([]));
    $('mfa-manage-form').addEventListener('submit', (ev) => ev.preventDefault());
    $('backup-regenerate').addEventListener('click', regenerate);
    $('mfa-disable').addEventListener('click', disableMFA);
    $('sessions-refresh').addEventListener('click', (ev) => busy(ev.currentTarget, loadSessions));
    $('sessions-revoke-others').addEventListener('click', revokeOthers);
    const mfaLoaded = loadMFA();
    Promise.all([loadLinked(), mfaLoaded]).then(([known]) => afterLink(q, known));
    loadSessions();
  });
})();
