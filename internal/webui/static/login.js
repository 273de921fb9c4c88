// login.js: password sign-in, the MFA step and single sign-on buttons.
'use strict';
(function () {
  const { api, $, el, say, errorText, safeRedirect } = window.tp;
  let pendingUser = '';

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
      if (body && body.mfa_required) {
        pendingUser = body.username || username;
        $('login-form').hidden = true;
        $('mfa-form').hidden = false;
        $('mfa-code').focus();
        return;
      }
      signedIn(body, username);
    } catch (err) {
      say('login-error', errorText(err));
      $('password').select();
    } finally {
      btn.disabled = false;
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
