// admin.js: users and identity providers, for administrators. The API decides
// who may do what; this page only shows the answers.
'use strict';
(function () {
  const { api, APIError, $, el, say, fail, ok, busy, formJSON, fillForm, me, fmtTime, withStepUp, confirmAction } = window.tp;
  let self = null;

  // Users: search, paging and a detail view with every action. Each action is
  // confirmed, steps up when the API asks for a recent authentication, and
  // says what it did.
  const perPage = 20;
  let query = '', page = 1, total = 0;
  let current = null; // the user in the detail view

  function roleText(u) { return u.access_type === 2 ? 'admin' : 'user'; }
  function stateText(u) {
    return [roleText(u), u.active ? 'active' : 'deactivated', u.pending_admin_approval ? 'waiting for approval' : null,
      u.mfa_enabled ? 'MFA on' : null].filter(Boolean).join(' · ');
  }

  async function loadUsers() {
    let r;
    try {
      r = await api('GET', '/api/v1/users/search?' + new URLSearchParams({ q: query, page: String(page), per_page: String(perPage) }));
    } catch (err) {
      return fail('users-error', err);
    }
    total = r.total || 0;
    const pages = Math.max(1, Math.ceil(total / perPage));
    $('users-count').textContent = (query ? total + (total === 1 ? ' user matches “' : ' users match “') + query + '”.' : total + (total === 1 ? ' user.' : ' users.'));
    $('users-page').textContent = 'Page ' + page + ' of ' + pages;
    $('users-prev').disabled = page <= 1;
    $('users-next').disabled = page >= pages;
    const rows = (r.users || []).map((u) => el('li', { dataset: { user: u.id, username: u.username } },
      el('div', {}, el('strong', { text: u.name + ' (' + u.username + ')' }), el('div', { class: 'meta', text: u.email + ' · ' + stateText(u) })),
      el('button', { type: 'button', class: 'secondary pick', 'aria-label': 'Open ' + u.username, text: 'Open', onclick: () => openUser(u.id) })));
    if (!rows.length) rows.push(el('li', { class: 'muted', text: 'No user matches.' }));
    $('users').replaceChildren(...rows);
  }

  function search(ev) {
    ev.preventDefault();
    query = $('user-q').value.trim();
    page = 1;
    loadUsers();
  }

  async function createUser(ev) {
    ev.preventDefault();
    const body = Object.assign(formJSON(ev.target), { active: true, preferred_language: 'us', units: 1, gender: 1, first_day_of_week: 1, currency: 1 });
    try {
      await busy(ev.submitter, () => withStepUp(() => api('POST', '/api/v1/users', body)));
      ev.target.reset();
      ok('users-ok', 'User ' + body.username + ' created.');
      loadUsers();
    } catch (err) {
      fail('users-error', err);
    }
  }

  function fact(term, value) { return [el('dt', { text: term }), el('dd', { text: value })]; }

  async function openUser(id, keepMessages) {
    let u, sessions, links;
    try {
      [u, sessions, links] = await Promise.all([api('GET', '/api/v1/users/id/' + id), api('GET', '/api/v1/sessions/user/' + id),
        api('GET', '/api/v1/users/' + id + '/identity-providers').catch(() => [])]);
    } catch (err) {
      return fail('users-error', err);
    }
    current = u;
    if (!keepMessages) { say('detail-ok', ''); say('detail-error', ''); }
    $('user-detail').hidden = false;
    $('user-detail').dataset.user = u.id;
    $('h-detail').textContent = u.name + ' (' + u.username + ')';
    sessions = sessions || [];
    links = links || [];
    $('detail-facts').replaceChildren(
      ...fact('Email', u.email + (u.email_verified ? ' (verified)' : ' (not verified)')),
      ...fact('Role', roleText(u) === 'admin' ? 'Administrator' : 'User'),
      ...fact('Active', u.active ? 'Yes' : 'No, deactivated'),
      ...fact('Pending approval', u.pending_admin_approval ? 'Yes' : 'No'),
      ...fact('Two-factor authentication', u.mfa_enabled ? 'On' : 'Off'),
      ...fact('Password', u.has_password ? 'Set' : 'None (signs in through an identity provider)'),
      ...fact('Linked providers', links.length ? links.map((l) => l.idp_name || 'Provider ' + l.idp_id).join(', ') : 'None'),
      ...fact('Sessions', String(sessions.length)));
    $('detail-sessions').replaceChildren(...(sessions.length ? sessions.map((s) => el('li', { class: 'session', dataset: { session: s.id } },
      el('div', {}, el('strong', { text: s.user_agent ? 'Unrecognised device: ' + s.user_agent : [s.browser, s.browser_version].filter(Boolean).join(' ') + ' on ' + (s.operating_system || 'Unknown') }),
        el('div', { class: 'meta', text: 'IP ' + (s.ip_address || '—') + ' · signed in ' + fmtTime(s.created_at) + ' · last active ' + fmtTime(s.last_active_at) })))) :
      [el('li', { class: 'muted', text: 'Not signed in anywhere.' })]));
    $('detail-links').replaceChildren(...(links.length ? links.map((l) => el('li', {}, el('span', { text: (l.idp_name || 'Provider ' + l.idp_id) + ' · linked ' + fmtTime(l.linked_at) }))) :
      [el('li', { class: 'muted', text: 'No linked identity providers.' })]));
    const isSelf = self && self.id === u.id;
    $('act-active').textContent = u.active ? 'Deactivate' : 'Activate';
    $('act-active').className = u.active ? 'danger' : '';
    $('act-active').hidden = isSelf;
    $('act-mfa').hidden = !u.mfa_enabled;
    $('act-password').hidden = false;
    $('act-signout').hidden = !sessions.length || isSelf;
    $('act-approve').hidden = !u.pending_admin_approval;
    $('act-delete').hidden = isSelf;
    $('password-set-form').hidden = true;
    fillForm($('edit-form'), u);
    if (!keepMessages) $('h-detail').focus();
  }

  // act confirms, runs call behind the step-up, reports done and reloads.
  async function act(btn, question, label, call, done, warning) {
    const u = current;
    if (!u || !(await confirmAction(question, label, warning))) return;
    try {
      const r = await busy(btn, () => withStepUp(() => call(u)));
      ok('detail-ok', typeof done === 'function' ? done(r, u) : done);
      await Promise.all([loadUsers(), openUser(u.id, true)]);
    } catch (err) {
      fail('detail-error', err);
    }
  }

  function toggleActive(ev) {
    const u = current;
    const off = u.active;
    act(ev.currentTarget, off ? 'Deactivate ' + u.username + '? They are signed out at once and cannot sign in until activated again.'
      : 'Activate ' + u.username + '? They can sign in again.', off ? 'Deactivate' : 'Activate',
    (x) => api('PUT', '/api/v1/users/' + x.id, Object.assign({}, x, { active: !off })),
    u.username + (off ? ' was deactivated and signed out everywhere.' : ' was activated.'), off ? 'Deactivating signs them out.' : '');
  }

  function resetMFA(ev) {
    const u = current;
    act(ev.currentTarget, 'Turn off two-factor authentication for ' + u.username + '? Use this when they lost their authenticator; they sign in with the password alone until they set it up again.',
      'Reset MFA', (x) => api('POST', '/api/v1/users/' + x.id + '/mfa/reset', {}),
      'Two-factor authentication was turned off for ' + u.username + '; their sessions were ended.');
  }

  function signOutEverywhere(ev) {
    const u = current;
    act(ev.currentTarget, 'Sign ' + u.username + ' out on every device?', 'Sign out everywhere', async (x) => {
      const list = (await api('GET', '/api/v1/sessions/user/' + x.id)) || [];
      for (const s of list) await api('DELETE', '/api/v1/sessions/' + encodeURIComponent(s.id) + '/user/' + x.id);
      return list.length;
    }, (n) => n === 1 ? '1 session of ' + u.username + ' was signed out.' : n + ' sessions of ' + u.username + ' were signed out.');
  }

  function approve(ev) {
    const u = current;
    act(ev.currentTarget, 'Approve ' + u.username + '? Their account becomes active and they can sign in.', 'Approve',
      (x) => api('PUT', '/api/v1/users/' + x.id + '/approve'), u.username + ' was approved and can sign in.');
  }

  async function deleteUser(ev) {
    const u = current;
    if (!u || !(await confirmAction('Delete ' + u.username + ' with everything their account holds: activities, gear, goals, photos and files?',
      'Delete user', 'This cannot be undone.'))) return;
    try {
      await busy(ev.currentTarget, () => withStepUp(() => api('DELETE', '/api/v1/users/' + u.id)));
      current = null;
      $('user-detail').hidden = true;
      ok('users-ok', u.username + ' was deleted with all their data.');
      await loadUsers();
      $('user-q').focus();
    } catch (err) {
      fail('detail-error', err);
    }
  }

  function showPasswordForm() {
    $('password-set-form').hidden = false;
    $('ps-password').value = '';
    $('ps-password').focus();
  }

  async function setPassword(ev) {
    ev.preventDefault();
    const pw = $('ps-password').value;
    if (!pw) return fail('detail-error', new APIError(0, 'Enter the new password.'));
    await act(ev.submitter, 'Set a new password for ' + current.username + '? They are signed out everywhere and must use it.', 'Set password',
      (x) => api('PUT', '/api/v1/users/' + x.id + '/password', { password: pw }),
      current.username + "'s password was set; they were signed out everywhere.");
  }

  async function saveUser(ev) {
    ev.preventDefault();
    const u = current;
    if (!u) return;
    const body = Object.assign({}, u, formJSON(ev.target));
    const what = [];
    if (body.access_type !== u.access_type) what.push('make them ' + (body.access_type === 2 ? 'an administrator' : 'a user'));
    if (body.active !== u.active) what.push(body.active ? 'activate them' : 'deactivate them');
    await act(ev.submitter, 'Save the changes to ' + u.username + (what.length ? ' and ' + what.join(' and ') : '') + '?', 'Save',
      (x) => api('PUT', '/api/v1/users/' + x.id, body), 'Changes to ' + body.username + ' were saved.');
  }

  // Server settings.
  let settings = null;
  async function loadSettings() {
    try {
      settings = await api('GET', '/api/v1/server_settings');
    } catch (err) {
      return fail('settings-error', err);
    }
    fillForm($('settings-form'), settings);
    $('s-local-warning').hidden = true;
    $('s-photo').textContent = settings.login_photo_set ? 'The sign-in page shows a photo.' : 'The sign-in page has no photo.';
  }

  async function saveSettings(ev) {
    ev.preventDefault();
    const body = formJSON(ev.target);
    if (settings && settings.local_login_enabled && !body.local_login_enabled &&
      !(await confirmAction('Turn off sign-in with username and password?', 'Turn it off',
        'Nobody will be able to sign in with a password, administrators included: only identity providers will sign people in.'))) return;
    try {
      settings = await busy(ev.submitter, () => withStepUp(() => api('PUT', '/api/v1/server_settings', body)));
      fillForm($('settings-form'), settings);
      $('s-local-warning').hidden = true;
      ok('settings-ok', 'Server settings saved.');
    } catch (err) {
      fail('settings-error', err);
    }
  }

  // Identity providers.
  let editing = null, templates = [];

  async function loadIdps() {
    let list;
    try {
      list = await api('GET', '/api/v1/idp');
    } catch (err) {
      return fail('idp-error', err);
    }
    const rows = (list || []).map((p) => el('li', { dataset: { idp: p.id } },
      el('div', {}, el('strong', { text: p.name }), el('div', { class: 'meta', text: p.slug + ' · ' + (p.enabled ? 'enabled' : 'disabled') + ' · ' + p.issuer_url })),
      el('div', {},
        el('button', { type: 'button', class: 'secondary', 'aria-label': (p.enabled ? 'Disable ' : 'Enable ') + p.name,
          text: p.enabled ? 'Disable' : 'Enable', onclick: (ev) => toggle(ev, p) }),
        el('button', { type: 'button', class: 'secondary', 'aria-label': 'Edit ' + p.name, text: 'Edit', onclick: () => edit(p) }),
        el('button', { type: 'button', class: 'danger', 'aria-label': 'Delete ' + p.name, text: 'Delete', onclick: (ev) => remove(ev, p) }))));
    if (!rows.length) rows.push(el('li', { class: 'muted', text: 'No identity providers yet.' }));
    $('idps').replaceChildren(...rows);
  }

  async function loadTemplates() {
    try { templates = (await api('GET', '/api/v1/idp/templates')) || []; } catch (e) { templates = []; }
    const sel = $('i-template');
    templates.forEach((t, i) => sel.append(el('option', { value: String(i), text: t.name || t.template_id || 'Template ' + (i + 1) })));
  }

  function edit(p) {
    editing = p;
    const form = $('idp-form');
    form.reset();
    fillForm(form, Object.assign({}, p, { client_secret: '' }));
    $('idp-form-title').textContent = 'Edit ' + p.name;
    $('idp-save').textContent = 'Save provider';
    $('idp-new').hidden = false;
    $('i-name').focus();
  }

  function newProvider() {
    editing = null;
    $('idp-form').reset();
    $('idp-form-title').textContent = 'New provider';
    $('idp-save').textContent = 'Create provider';
    $('idp-new').hidden = true;
  }

  async function saveIdp(ev) {
    ev.preventDefault();
    const body = formJSON(ev.target);
    body.slug = (body.slug || '').toLowerCase();
    // A blank secret on edit keeps the stored one.
    if (editing && !body.client_secret) delete body.client_secret;
    try {
      await busy(ev.submitter, () => withStepUp(() => editing ? api('PUT', '/api/v1/idp/' + editing.id, body) : api('POST', '/api/v1/idp', body)));
      ok('idp-ok', 'Provider ' + body.name + ' saved.');
      newProvider();
      loadIdps();
    } catch (err) {
      fail('idp-error', err);
    }
  }

  async function toggle(ev, p) {
    const body = Object.assign({}, p, { enabled: !p.enabled });
    delete body.client_secret;
    try {
      await busy(ev.currentTarget, () => withStepUp(() => api('PUT', '/api/v1/idp/' + p.id, body)));
      loadIdps();
    } catch (err) {
      fail('idp-error', err);
    }
  }

  async function remove(ev, p) {
    if (!(await confirmAction('Delete ' + p.name + '? Accounts linked to it can no longer sign in with it.', 'Delete provider'))) return;
    try {
      await busy(ev.currentTarget, () => withStepUp(() => api('DELETE', '/api/v1/idp/' + p.id)));
      ok('idp-ok', p.name + ' deleted.');
      loadIdps();
    } catch (err) {
      fail('idp-error', err);
    }
  }

  document.addEventListener('DOMContentLoaded', async () => {
    $('user-form').addEventListener('submit', createUser);
    $('user-search').addEventListener('submit', search);
    $('users-prev').addEventListener('click', () => { page = Math.max(1, page - 1); loadUsers(); });
    $('users-next').addEventListener('click', () => { page += 1; loadUsers(); });
    $('act-active').addEventListener('click', toggleActive);
    $('act-mfa').addEventListener('click', resetMFA);
    $('act-signout').addEventListener('click', signOutEverywhere);
    $('act-approve').addEventListener('click', approve);
    $('act-delete').addEventListener('click', deleteUser);
    $('act-password').addEventListener('click', showPasswordForm);
    $('ps-cancel').addEventListener('click', () => { $('password-set-form').hidden = true; });
    $('password-set-form').addEventListener('submit', setPassword);
    $('edit-form').addEventListener('submit', saveUser);
    $('detail-close').addEventListener('click', () => { $('user-detail').hidden = true; current = null; });
    $('settings-form').addEventListener('submit', saveSettings);
    $('s-local').addEventListener('change', (ev) => { $('s-local-warning').hidden = ev.target.checked; });
    $('idp-form').addEventListener('submit', saveIdp);
    $('idp-new').addEventListener('click', newProvider);
    $('i-template').addEventListener('change', (ev) => {
      const t = templates[Number(ev.target.value)];
      if (t) fillForm($('idp-form'), Object.assign({ provider_type: 'oidc', scopes: 'openid profile email' }, t));
    });
    try { self = await me(); } catch (e) { /* the lists below show the API's answer */ }
    if (self && self.access_type !== 2) {
      fail('users-error', new APIError(403, 'Only administrators can use this page.'));
      return;
    }
    loadUsers();
    loadSettings();
    loadIdps();
    loadTemplates();
  });
})();
