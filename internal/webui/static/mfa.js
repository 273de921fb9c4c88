// mfa.js: the MFA step of a single sign-on, for the console and for any web app
// trailpass serves. It ends on the app's /login?sso=success, as a sign-in
// without MFA does.
'use strict';
(function () {
  const { api, APIError, $, say, errorText, safeRedirect, passkey } = window.tp;
  const q = new URLSearchParams(location.search);
  // Sent with the code only, never shown: the server checks it against the
  // sign-in ticket in its HttpOnly cookie.
  const username = q.get('username') || '';
  const redirect = safeRedirect(q.get('redirect') || '');

  function restart() {
    $('mfa-form').hidden = true;
    $('mfa-none').hidden = false;
    $('mfa-restart').focus();
  }

  function done(body) {
    const next = new URLSearchParams({ sso: 'success', session_id: (body && body.session_id) || '' });
    if (redirect) next.set('redirect', redirect);
    location.replace('/login?' + next.toString());
  }

  // offerPasskey shows the passkey button when the account has a passkey:
  // only then does the server answer the options.
  async function offerPasskey() {
    if (!passkey.supported) return;
    try {
      await api('POST', '/api/v1/mfa/passkey/begin', { username });
      $('mfa-help').textContent = 'Your identity provider signed you in. Your account also has two-factor authentication: confirm with your passkey, or enter the 6-digit code from your authenticator app or one of your backup codes.';
      $('mfa-passkey-box').hidden = false;
    } catch (e) { /* no passkey, or no sign-in waiting: the code form says */ }
  }

  async function usePasskey() {
    say('mfa-error', '');
    const btn = $('mfa-passkey');
    btn.disabled = true;
    try {
      const options = await api('POST', '/api/v1/mfa/passkey/begin', { username });
      const credential = await passkey.get(options);
      done(await api('POST', '/api/v1/mfa/passkey/finish', { username, credential }));
    } catch (err) {
      btn.disabled = false;
      if (err instanceof APIError && err.status === 400 && /pending MFA/.test(err.message)) return restart();
      say('mfa-error', passkey.failed(err));
    }
  }

  async function verify(ev) {
    ev.preventDefault();
    say('mfa-error', '');
    const code = $('mfa-code').value.replace(/\s+/g, '');
    if (!code) {
      say('mfa-error', 'Enter a code.');
      $('mfa-code').focus();
      return;
    }
    const btn = $('mfa-submit');
    btn.disabled = true;
    try {
      done(await api('POST', '/api/v1/mfa/verify', { username, mfa_code: code }));
    } catch (err) {
      btn.disabled = false;
      // 400: no sign-in is waiting (expired, used, or another browser's).
      if (err instanceof APIError && err.status === 400) return restart();
      say('mfa-error', errorText(err));
      $('mfa-code').select();
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    if (!username) return restart();
    $('mfa-form').hidden = false;
    $('mfa-form').addEventListener('submit', verify);
    $('mfa-passkey').addEventListener('click', usePasskey);
    offerPasskey();
    $('mfa-code').focus();
  });
})();
