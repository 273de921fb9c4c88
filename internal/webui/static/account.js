// account.js: profile details, photo, privacy, default gear and goals.
'use strict';
(function () {
  const { api, APIError, $, el, say, fail, ok, busy, formJSON, fillForm, me, withStepUp } = window.tp;
  let user = null;

  const hideFields = ['start_time', 'location', 'map', 'hr', 'power', 'cadence', 'elevation', 'speed', 'pace', 'laps',
    'workout_sets_steps', 'gear'];
  const hideLabels = { start_time: 'Start time', location: 'Location', map: 'Map', hr: 'Heart rate', power: 'Power',
    cadence: 'Cadence', elevation: 'Elevation', speed: 'Speed', pace: 'Pace', laps: 'Laps',
    workout_sets_steps: 'Workout sets and steps', gear: 'Gear' };

  function photoURL(p) {
    if (!p) return '';
    if (/^https?:\/\//.test(p) || p.startsWith('/')) return p;
    return '/' + p;
  }

  function showPhoto(path) {
    const img = $('photo');
    img.hidden = !path;
    $('no-photo').hidden = !!path;
    $('photo-remove').hidden = !path;
    if (path) img.src = photoURL(path) + (path.includes('?') ? '&' : '?') + 't=' + Date.now();
    else img.removeAttribute('src');
  }

  async function loadProfile() {
    try {
      user = await me();
    } catch (err) {
      return fail('profile-error', err);
    }
    $('whoami').textContent = user.username;
    sessionStorage.setItem('tp.username', user.username);
    fillForm($('profile-form'), user);
    fillForm($('privacy-form'), user);
    showPhoto(user.photo_path);
  }

  async function saveProfile(ev) {
    ev.preventDefault();
    if (!user) return fail('profile-error', new APIError(0, 'The profile has not loaded yet.'));
    // Endurain's body is the whole UserRead; the server ignores what a user may not change.
    const body = Object.assign({ id: user.id, access_type: user.access_type, active: user.active, photo_path: user.photo_path },
      formJSON(ev.target));
    try {
      await busy(ev.submitter, () => withStepUp(() => api('PUT', '/api/v1/profile', body)));
      Object.assign(user, body);
      $('whoami').textContent = user.username;
      ok('profile-ok', 'Profile saved.');
    } catch (err) {
      fail('profile-error', err);
    }
  }

  async function uploadPhoto(ev) {
    ev.preventDefault();
    const f = $('photo-file').files[0];
    if (!f) return fail('photo-error', new APIError(0, 'Choose a JPEG or PNG file first.'));
    const fd = new FormData();
    fd.append('file', f);
    try {
      const path = await busy(ev.submitter, () => api('POST', '/api/v1/profile/image', fd));
      if (user) user.photo_path = path;
      ev.target.reset();
      say('photo-error', '');
      showPhoto(path);
    } catch (err) {
      fail('photo-error', err);
    }
  }

  async function removePhoto(ev) {
    try {
      await busy(ev.currentTarget, () => api('PUT', '/api/v1/profile/photo'));
      if (user) user.photo_path = null;
      say('photo-error', '');
      showPhoto(null);
    } catch (err) {
      fail('photo-error', err);
    }
  }

  async function savePrivacy(ev) {
    ev.preventDefault();
    if (!user) return fail('privacy-error', new APIError(0, 'The profile has not loaded yet.'));
    const body = Object.assign({ user_id: user.id }, formJSON(ev.target));
    try {
      await busy(ev.submitter, () => api('PUT', '/api/v1/profile/privacy', body));
      ok('privacy-ok', 'Privacy settings saved.');
    } catch (err) {
      fail('privacy-error', err);
    }
  }

  // Default gear: one select per activity kind the API returns.
  let gearBody = null;
  async function loadGear() {
    let gears;
    try {
      [gearBody, gears] = await Promise.all([api('GET', '/api/v1/profile/default_gear'), api('GET', '/api/v1/gears')]);
    } catch (err) {
      return fail('gear-error', err);
    }
    const form = $('gear-form');
    const fields = Object.keys(gearBody || {}).filter((k) => k.endsWith('_gear_id'));
    form.replaceChildren(...fields.map((k) => {
      const id = 'gear-' + k;
      const label = k.replace(/_gear_id$/, '').replace(/_/g, ' ');
      const sel = el('select', { id, name: k, onchange: saveGear }, el('option', { value: '', text: 'None' }),
        ...(gears || []).map((g) => el('option', { value: String(g.id), text: g.nickname || g.brand || 'Gear ' + g.id })));
      sel.value = gearBody[k] === null || gearBody[k] === undefined ? '' : String(gearBody[k]);
      return el('div', {}, el('label', { for: id, text: label.charAt(0).toUpperCase() + label.slice(1) }), sel);
    }));
  }

  async function saveGear(ev) {
    const v = ev.target.value;
    gearBody[ev.target.name] = v === '' ? null : Number(v);
    try {
      await api('PUT', '/api/v1/profile/default_gear', gearBody);
      ok('gear-ok', 'Default gear saved.');
    } catch (err) {
      fail('gear-error', err);
    }
  }

  // Goals.
  const goalField = { 1: 'goal_calories', 2: 'goal_activities_number', 3: 'goal_distance', 4: 'goal_elevation', 5: 'goal_duration' };
  const goalName = { 1: 'calories', 2: 'activities', 3: 'm', 4: 'm climbed', 5: 's' };

  async function loadGoals() {
    let list;
    try {
      list = await api('GET', '/api/v1/profile/goals');
    } catch (err) {
      return fail('goal-error', err);
    }
    const rows = (list || []).map((g) => {
      const target = g[goalField[g.goal_type]];
      const text = g.interval + ': ' + target + ' ' + (goalName[g.goal_type] || '') + ' (activity type ' + g.activity_type + ')';
      return el('li', {}, el('span', { text }),
        el('button', { type: 'button', class: 'danger', 'aria-label': 'Delete goal ' + text, dataset: { goal: g.id }, text: 'Delete', onclick: deleteGoal }));
    });
    if (!rows.length) rows.push(el('li', { class: 'muted', text: 'No goals yet.' }));
    $('goals').replaceChildren(...rows);
  }

  async function addGoal(ev) {
    ev.preventDefault();
    const v = formJSON(ev.target);
    if (!v.value) return fail('goal-error', new APIError(0, 'Enter a target.'));
    const body = { interval: v.interval, activity_type: v.activity_type, goal_type: v.goal_type };
    body[goalField[v.goal_type]] = v.value;
    try {
      await busy(ev.submitter, () => api('POST', '/api/v1/profile/goals', body));
      ev.target.reset();
      say('goal-error', '');
      loadGoals();
    } catch (err) {
      fail('goal-error', err);
    }
  }

  async function deleteGoal(ev) {
    const b = ev.currentTarget;
    try {
      await busy(b, () => api('DELETE', '/api/v1/profile/goals/' + encodeURIComponent(b.dataset.goal)));
      loadGoals();
    } catch (err) {
      fail('goal-error', err);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    // The name typed at sign-in shows at once; the profile replaces it when it loads.
    $('whoami').textContent = sessionStorage.getItem('tp.username') || '…';
    $('privacy-checks').replaceChildren(...hideFields.map((f) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', id: 'pv-' + f, name: 'hide_activity_' + f }), ' ' + hideLabels[f])));
    $('profile-form').addEventListener('submit', saveProfile);
    $('photo-form').addEventListener('submit', uploadPhoto);
    $('photo-remove').addEventListener('click', removePhoto);
    $('privacy-form').addEventListener('submit', savePrivacy);
    $('goal-form').addEventListener('submit', addGoal);
    loadProfile();
    loadGear();
    loadGoals();
  });
})();
