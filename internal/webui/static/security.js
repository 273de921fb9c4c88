// security.js: password, two-factor authentication, linked accounts, sessions.
'use strict';
(function () {
  const { api, APIError, $, el, say, fail, ok, busy, fmtTime, download, passkey, withStepUp, stepUp } = window.tp;
  let mfaEnabled = false;
  // factors are the account's second factors: "totp", "passkey".
  let factors = [];

  // Password.
  async function changePassword(ev) {
    ev.preventDefault();
    const current = $('pw-current').value, next = $('pw-new').value;
    if (!current || !next) return fail('password-error', new APIError(0, 'Enter your current and your new password.'));
    if (next !== $('pw-confirm').value) return fail('password-error', new APIError(0, 'The new passwords do not match.'));
    const btn = ev.submitter;
    const signOutOthers = $('pw-signout').checked;
    try {
      // With MFA on, the current password alone is not a recent authentication.
      const r = await busy(btn, () => withStepUp(() => api('PUT', '/api/v1/profile/password',
        { password: next, current_password: current, sign_out_other_sessions: signOutOthers })));
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
      loadHistory();
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
      factors = Array.isArray(s.factors) ? s.factors : (s.mfa_enabled ? ['totp'] : []);
      mfaEnabled = factors.includes('totp');
      // The authenticator app part speaks of TOTP only; passkeys have their card.
      $('mfa-state').textContent = mfaEnabled ? 'Two-factor authentication with an authenticator app is on.'
        : factors.includes('passkey') ? 'Your passkeys are your second factor. You can add an authenticator app too.'
          : 'Two-factor authentication is off.';
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
      const s = await busy(ev.currentTarget, () => withStepUp(() => api('POST', '/api/v1/profile/mfa/setup', {})));
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
      const r = await busy(ev.submitter, () => withStepUp(() => api('POST', '/api/v1/profile/mfa/enable', { mfa_code: code })));
      ev.target.reset();
      $('mfa-setup-panel').hidden = true;
      ok('mfa-ok', (r && r.message) || 'MFA enabled successfully');
      showBackupCodes(r && r.backup_codes);
      await loadMFA();
      loadHistory();
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
      loadHistory();
    } catch (err) {
      fail('mfa-error', err);
    }
  }

  // Passkeys.
  async function loadPasskeys() {
    let list;
    try {
      list = await api('GET', '/api/v1/profile/passkeys');
    } catch (err) {
      return fail('passkeys-error', err);
    }
    const rows = (list || []).map((k) => {
      const meta = ['Added ' + fmtTime(k.created_at), k.last_used_at ? 'last used ' + fmtTime(k.last_used_at) : 'never used'];
      if (k.authenticator) meta.unshift(k.authenticator);
      if (k.backed_up) meta.push('synced');
      const info = el('div', {}, el('strong', { class: 'passkey-name', text: k.name }), el('div', { class: 'meta', text: meta.join(' · ') }));
      const actions = el('div', {},
        el('button', { type: 'button', class: 'secondary', dataset: { passkey: k.id, name: k.name }, 'aria-label': 'Rename ' + k.name, text: 'Rename', onclick: renamePasskey }),
        el('button', { type: 'button', class: 'danger', dataset: { passkey: k.id, name: k.name }, 'aria-label': 'Remove ' + k.name, text: 'Remove', onclick: removePasskey }));
      return el('li', { class: 'passkey', dataset: { passkey: k.id } }, info, actions);
    });
    if (!rows.length) rows.push(el('li', { class: 'muted', text: 'No passkeys yet.' }));
    $('passkeys').replaceChildren(...rows);
  }

  async function addPasskey(ev) {
    ev.preventDefault();
    const name = $('passkey-name').value.trim() || 'Passkey';
    say('passkeys-error', '');
    try {
      await busy($('passkey-add'), async () => {
        const options = await withStepUp(() => api('POST', '/api/v1/profile/passkeys/register/begin'));
        const credential = await passkey.create(options);
        await api('POST', '/api/v1/profile/passkeys/register/finish', { name, credential });
      });
      ev.target.reset();
      ok('passkeys-ok', 'Passkey "' + name + '" added. You can sign in with it now.');
      await Promise.all([loadPasskeys(), loadMFA()]);
    } catch (err) {
      say('passkeys-ok', '');
      say('passkeys-error', passkey.failed(err));
    }
  }

  // renamePasskey turns the row's name into a small form, in place.
  function renamePasskey(ev) {
    const b = ev.currentTarget;
    const li = b.closest('li');
    const input = el('input', { id: 'passkey-rename-' + b.dataset.passkey, maxlength: '64', value: b.dataset.name, 'aria-label': 'New name for ' + b.dataset.name });
    const form = el('form', { class: 'rename', novalidate: true },
      input,
      el('button', { type: 'submit', text: 'Save' }),
      el('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => loadPasskeys() }));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const name = input.value.trim();
      if (!name) return fail('passkeys-error', new APIError(0, 'Enter a name.'));
      try {
        await busy(e.submitter, () => api('PUT', '/api/v1/profile/passkeys/' + encodeURIComponent(b.dataset.passkey), { name }));
        ok('passkeys-ok', 'Passkey renamed.');
        loadPasskeys();
      } catch (err) {
        fail('passkeys-error', err);
      }
    });
    li.replaceChildren(form);
    input.select();
  }

  async function removePasskey(ev) {
    const b = ev.currentTarget;
    try {
      await busy(b, () => withStepUp(() => api('DELETE', '/api/v1/profile/passkeys/' + encodeURIComponent(b.dataset.passkey))));
      ok('passkeys-ok', 'Passkey "' + b.dataset.name + '" removed. Also delete it from your device or password manager.');
      await Promise.all([loadPasskeys(), loadMFA()]);
    } catch (err) {
      fail('passkeys-error', err);
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
      await busy(b, () => withStepUp(() => api('DELETE', '/api/v1/profile/idp/' + encodeURIComponent(b.dataset.idp))));
      ok('linked-ok', 'Account unlinked.');
      loadLinked();
    } catch (err) {
      fail('linked-error', err);
    }
  }

  // Sessions.
  function describe(s) {
    if (s.user_agent) return 'Unrecognised device: ' + s.user_agent;
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
      return el('li', { class: 'session', id: 'session-' + s.id, tabindex: '-1', dataset: { session: s.id, current: current ? 'true' : 'false' } }, info, btn);
    }));
  }

  async function revokeOne(ev) {
    const b = ev.currentTarget;
    try {
      await busy(b, () => api('DELETE', '/api/v1/profile/sessions/' + encodeURIComponent(b.dataset.session)));
      ok('sessions-ok', 'That session was signed out.');
      await loadSessions();
      loadHistory();
    } catch (err) {
      fail('sessions-error', err);
    }
  }

  async function revokeOthers(ev) {
    try {
      const r = await busy(ev.currentTarget, () => withStepUp(() => api('DELETE', '/api/v1/profile/sessions')));
      ok('sessions-ok', signedOutText(r && typeof r.revoked === 'number' ? r.revoked : 0));
      await loadSessions();
      loadHistory();
    } catch (err) {
      fail('sessions-error', err);
    }
  }

  // Security history, in plain words.
  const methodWords = {
    'password': 'with a password',
    'password+totp': 'with a password and an authenticator code',
    'password+backup_code': 'with a password and a backup code',
    'password+passkey': 'with a password and a passkey',
    'sso+totp': 'and an authenticator code',
    'sso+backup_code': 'and a backup code',
    'sso+passkey': 'and a passkey',
    'passkey': 'with a passkey',
    'totp': 'with an authenticator code',
    'backup_code': 'with a backup code',
  };
  function signInWords(e) {
    if (e.method && e.method.startsWith('sso')) {
      const via = 'through ' + (e.provider || 'single sign-on');
      return 'Signed in ' + via + (methodWords[e.method] && e.method !== 'sso' ? ' ' + methodWords[e.method] : '');
    }
    return 'Signed in ' + (methodWords[e.method] || '');
  }
  function plural(n, one, many) { return n === 1 ? '1 ' + one : n + ' ' + many; }
  function eventWords(e) {
    const n = typeof e.count === 'number' ? e.count : null;
    switch (e.type) {
      case 'login': return signInWords(e).trim();
      case 'login_failed':
        return e.reason === 'wrong_password' ? 'Failed sign-in: wrong password'
          : e.reason === 'inactive' ? 'Sign-in refused: the account is deactivated' : 'Failed sign-in';
      case 'logout': return 'Signed out';
      case 'refresh_token_reuse': return 'A used sign-in token came back and was refused; that session was ended';
      case 'session_revoked': return n === null ? 'A session was signed out' : 'Signed out ' + plural(n, 'other session', 'other sessions');
      case 'password_changed': return 'Password changed';
      case 'mfa_enabled': return 'Two-factor authentication turned on';
      case 'mfa_disabled': return 'Two-factor authentication turned off';
      case 'mfa_reset': return 'Two-factor authentication removed by an administrator';
      case 'mfa_replay_rejected': return 'An authenticator code that was already used was refused';
      case 'mfa_failed': return 'Wrong two-factor code at sign-in';
      case 'backup_code_used': return 'Backup code used' + (n === null ? '' : ' (' + plural(n, 'code', 'codes') + ' left)');
      case 'backup_codes_regenerated': return 'New backup codes made';
      case 'step_up': return 'Confirmed it was you ' + (methodWords[e.method] || '');
      case 'idp_login': return 'Identity confirmed by ' + (e.provider || 'an identity provider');
      case 'idp_linked': return 'Linked ' + (e.provider || 'an identity provider');
      case 'idp_unlinked': return 'Unlinked ' + (e.provider || 'an identity provider');
      case 'export': return 'Your data was exported';
      case 'import': return 'Data was imported into your account';
      case 'user_deleted': return 'You deleted an account';
      case 'passkey_added': return 'Passkey added';
      case 'passkey_renamed': return 'Passkey renamed';
      case 'passkey_removed': return 'Passkey removed';
      case 'passkey_failed': return 'A passkey could not be verified';
      case 'passkey_counter_rejected': return 'A passkey was refused: it may have been copied';
    }
    return e.type;
  }
  function deviceWords(e) {
    if (e.device) {
      const d = e.device;
      const known = (v) => v && v !== 'Unknown';
      if (known(d.browser) && known(d.operating_system)) return d.browser + ' on ' + d.operating_system;
      return known(d.browser) ? d.browser : d.operating_system;
    }
    return e.user_agent ? 'Unrecognised device (' + e.user_agent + ')' : '';
  }

  function historyRow(e) {
    const where = [deviceWords(e), e.ip_address].filter(Boolean).join(', ');
    const line = eventWords(e) + (where ? ' — ' + where : '');
    const meta = el('div', { class: 'meta' }, el('time', { datetime: e.created_at, text: fmtTime(e.created_at) }));
    if (e.type === 'login' && e.session_id) {
      if (e.current) meta.append(' · ', el('span', { class: 'badge', text: 'This session' }));
      else if (e.session_active) {
        meta.append(' · ', el('a', { href: '#session-' + e.session_id, class: 'to-session', text: 'Still signed in: see the session',
          onclick: (ev) => {
            const row = document.getElementById('session-' + e.session_id);
            if (!row) return;
            ev.preventDefault();
            row.scrollIntoView({ block: 'center' });
            row.focus();
          } }));
      } else meta.append(' · signed out since');
    }
    const cls = 'event' + (e.type === 'login_failed' || e.type === 'refresh_token_reuse' || e.type === 'mfa_failed' ? ' warn' : '');
    return el('li', { class: cls, dataset: { type: e.type, event: e.id, current: e.current ? 'true' : 'false' } },
      el('div', {}, el('span', { class: 'what', text: line }), meta));
  }

  let historyNext = null;
  async function loadHistory(more) {
    let page;
    try {
      page = await api('GET', '/api/v1/profile/security-events?limit=20' + (more && historyNext ? '&before=' + historyNext : ''));
    } catch (err) {
      return fail('history-error', err);
    }
    say('history-error', '');
    const rows = (page.events || []).map(historyRow);
    if (more) $('history').append(...rows);
    else $('history').replaceChildren(...(rows.length ? rows : [el('li', { class: 'muted', text: 'Nothing recorded yet.' })]));
    historyNext = page.next_before;
    $('history-more').hidden = !historyNext;
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
        // Turning the notice off needs a recent sign-in or step-up.
        await withStepUp(() => api('PUT', '/api/v1/profile/notices', { new_sign_in: box.checked }));
        ok('notices-ok', box.checked ? 'New sign-in notices are on.' : 'New sign-in notices are off.');
      } catch (err) {
        box.checked = !box.checked;
        fail('notices-error', err);
      }
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    const q = new URLSearchParams(location.search);
    $('history-more').addEventListener('click', (ev) => busy(ev.currentTarget, () => loadHistory(true)));
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
    if (passkey.supported) $('passkey-add-form').addEventListener('submit', addPasskey);
    else { $('passkey-add-form').hidden = true; $('passkey-unsupported').hidden = false; }
    loadPasskeys();
    const mfaLoaded = loadMFA();
    Promise.all([loadLinked(), mfaLoaded]).then(([known]) => afterLink(q, known));
    loadSessions();
    loadHistory();
  });
})();
