// admin.js: users and identity providers, for administrators. The API decides
// who may do what; this page only shows the answers.
'use strict';
(function () {
  const { api, APIError, $, el, say, fail, ok, busy, formJSON, fillForm, me, withStepUp } = window.tp;
  let self = null;

  async function loadUsers() {
    let list;
    try {
      list = await api('GET', '/api/v1/users/page_number/1/num_records/100');
    } catch (err) {
      return fail('users-error', err);
    }
    $('users').replaceChildren(...(list || []).map((u) => {
      const role = u.access_type === 2 ? 'admin' : 'user';
      const info = el('div', {}, el('strong', { text: u.name + ' (' + u.username + ')' }),
        el('div', { class: 'meta', text: u.email + ' · ' + role + ' · ' + (u.active ? 'active' : 'deactivated') + (u.mfa_enabled ? ' · MFA on' : '') }));
      const acts = el('div', {});
      if (u.active && (!self || self.id !== u.id)) {
        acts.append(el('button', { type: 'button', class: 'danger', 'aria-label': 'Deactivate ' + u.username, text: 'Deactivate',
          onclick: (ev) => deactivate(ev, u) }));
      }
      if (u.mfa_enabled) {
        acts.append(el('button', { type: 'button', class: 'secondary', 'aria-label': 'Reset MFA of ' + u.username, text: 'Reset MFA',
          onclick: (ev) => resetMFA(ev, u) }));
      }
      return el('li', { dataset: { user: u.id } }, info, acts);
    }));
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

  async function deactivate(ev, u) {
    if (!confirm('Deactivate ' + u.username + '? They are signed out and cannot sign in.')) return;
    try {
      await busy(ev.currentTarget, () => withStepUp(() => api('PUT', '/api/v1/users/' + u.id, Object.assign({}, u, { active: false }))));
      ok('users-ok', u.username + ' was deactivated.');
      loadUsers();
    } catch (err) {
      fail('users-error', err);
    }
  }

  async function resetMFA(ev, u) {
    if (!confirm('Turn off two-factor authentication for ' + u.username + '?')) return;
    try {
      await busy(ev.currentTarget, () => withStepUp(() => api('POST', '/api/v1/users/' + u.id + '/mfa/reset', {})));
      ok('users-ok', 'MFA was reset for ' + u.username + '.');
      loadUsers();
    } catch (err) {
      fail('users-error', err);
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
    if (!confirm('Delete ' + p.name + '? Accounts linked to it can no longer sign in with it.')) return;
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
    loadIdps();
    loadTemplates();
  });
})();
