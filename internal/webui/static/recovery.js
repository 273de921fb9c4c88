// recovery.js: forgot password, set a new password, create an account and
// verify an email. One script; each page has its own form.
'use strict';
(function () {
  const { api, $, say, busy, errorText } = window.tp;

  // takeToken reads ?token= and removes it from the address bar and history,
  // so the credential does not linger where others may see it.
  function takeToken() {
    const token = new URLSearchParams(location.search).get('token') || '';
    if (token) history.replaceState(null, '', location.pathname);
    return token;
  }

  function forgot() {
    $('forgot-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      say('forgot-error', '');
      say('forgot-ok', '');
      const email = $('forgot-email').value.trim();
      if (!email) { say('forgot-error', 'Enter your email address.'); return; }
      busy($('forgot-submit'), async () => {
        try {
          const body = await api('POST', '/api/v1/password-reset/request', { email });
          say('forgot-ok', body.message + ' Check your inbox.');
        } catch (err) {
          say('forgot-error', errorText(err));
        }
      });
    });
  }

  function reset() {
    const token = takeToken();
    if (!token) {
      $('reset-form').hidden = true;
      $('reset-nolink').hidden = false;
      return;
    }
    $('reset-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      say('reset-error', '');
      const pw = $('reset-password').value;
      if (!pw) { say('reset-error', 'Enter a new password.'); return; }
      if (pw !== $('reset-repeat').value) { say('reset-error', 'The two passwords differ.'); return; }
      busy($('reset-submit'), async () => {
        try {
          await api('POST', '/api/v1/password-reset/confirm', { token, new_password: pw });
          location.assign('/login?passwordResetSuccess=true');
        } catch (err) {
          say('reset-error', errorText(err));
        }
      });
    });
  }

  async function signup() {
    try {
      const st = await api('GET', '/api/v1/public/server_settings');
      if (!st.signup_enabled) {
        $('signup-form').hidden = true;
        $('signup-off').hidden = false;
        return;
      }
    } catch (e) { /* the request itself will say */ }
    $('signup-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      say('signup-error', '');
      const body = {};
      for (const f of ['name', 'username', 'email', 'password']) body[f] = $('signup-' + f).value.trim();
      body.password = $('signup-password').value;
      if (!body.name || !body.username || !body.email || !body.password) {
        say('signup-error', 'Fill in every field.');
        return;
      }
      busy($('signup-submit'), async () => {
        try {
          const res = await api('POST', '/api/v1/sign-up/request', body);
          $('signup-form').hidden = true;
          say('signup-ok', res.message);
        } catch (err) {
          say('signup-error', errorText(err));
        }
      });
    });
  }

  async function verify() {
    const token = takeToken();
    try {
      if (!token) throw new Error('This link is incomplete.');
      const res = await api('POST', '/api/v1/sign-up/confirm', { token });
      say('verify-ok', res.message);
      $('verify-pending').hidden = !res.admin_approval_required;
    } catch (err) {
      say('verify-error', err instanceof Error && !(err instanceof window.tp.APIError) ? err.message : errorText(err));
    } finally {
      $('verify-busy').hidden = true;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    if ($('forgot-form')) forgot();
    else if ($('reset-form')) reset();
    else if ($('signup-form')) signup();
    else if ($('verify-busy')) verify();
  });
})();
