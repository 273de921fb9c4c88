// mfa.js: the MFA step of a single sign-on, for the console and for any web app
// trailpass serves. It ends on the app's /login?sso=success, as a sign-in
// without MFA does.
'use strict';
(function () {
  const { api, APIError, $, say, errorText, safeRedirect } = window.tp;
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
      const body = await api('POST', '/api/v1/mfa/verify', { username, mfa_code: code });
      const next = new URLSearchParams({ sso: 'success', session_id: (body && body.session_id) || '' });
      if (redirect) next.set('redirect', redirect);
      location.replace('/login?' + next.toString());
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
    $('mfa-code').focus();
  });
})();
