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
      loadGoals(); // units or the first day of the week may have changed
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

  // Goals. The API speaks metres, seconds and numeric types; the page speaks
  // the user's units and names.
  const goalField = { 1: 'goal_calories', 2: 'goal_activities_number', 3: 'goal_distance', 4: 'goal_elevation', 5: 'goal_duration' };
  const totalField = { 1: 'total_calories', 2: 'total_activities_number', 3: 'total_distance', 4: 'total_elevation', 5: 'total_duration' };
  const goalActivity = { 1: 'Run', 2: 'Ride', 3: 'Swim', 4: 'Walk', 5: 'Strength', 6: 'Cardio' };
  const goalKind = { 1: 'calories', 2: 'activities', 3: 'distance', 4: 'elevation gain', 5: 'time' };
  const intervalName = { daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly', yearly: 'Yearly' };
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const monthsLong = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const imperial = () => !!user && user.units === 2;

  function num(v, digits) {
    return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits });
  }

  // amount writes a goal quantity (API units) in the user's units.
  function amount(goalType, v) {
    v = Number(v) || 0;
    switch (goalType) {
      case 1: return num(v, 0) + ' kcal';
      case 2: return num(v, 0) + (v === 1 ? ' activity' : ' activities');
      case 3: return imperial() ? num(v / 1609.344, 1) + ' mi' : num(v / 1000, 1) + ' km';
      case 4: return imperial() ? num(v / 0.3048, 0) + ' ft' : num(v, 0) + ' m';
      case 5: {
        const m = Math.round(v / 60), h = Math.floor(m / 60);
        if (!h) return m + ' min';
        return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
      }
    }
    return String(v);
  }

  // Target input units per goal type, and the factor to the API's unit.
  function targetUnit(goalType) {
    switch (goalType) {
      case 1: return ['kcal', 1];
      case 2: return ['activities', 1];
      case 3: return imperial() ? ['miles', 1609.344] : ['km', 1000];
      case 4: return imperial() ? ['feet', 0.3048] : ['metres', 1];
      case 5: return ['minutes', 60];
    }
    return ['', 1];
  }

  function showTargetUnit() {
    $('g-value-label').textContent = 'Target (' + targetUnit(Number($('g-type').value))[0] + ')';
  }

  function ymd(s) {
    const [y, m, d] = String(s).split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d));
  }
  function dayText(d) { return days[d.getUTCDay()] + ' ' + d.getUTCDate(); }

  // period names the window a result counts in: "this week, Mon 23 – Sun 29 Nov".
  function period(r) {
    if (!r || !r.start_date) return '';
    const a = ymd(r.start_date), b = ymd(r.end_date);
    switch (r.interval) {
      case 'daily': return 'today, ' + dayText(a) + ' ' + months[a.getUTCMonth()];
      case 'monthly': return 'this month, ' + monthsLong[a.getUTCMonth()] + ' ' + a.getUTCFullYear();
      case 'yearly': return 'this year, ' + a.getUTCFullYear();
    }
    const from = dayText(a) + (a.getUTCMonth() !== b.getUTCMonth() ? ' ' + months[a.getUTCMonth()] : '');
    return 'this week, ' + from + ' – ' + dayText(b) + ' ' + months[b.getUTCMonth()];
  }

  function goalRow(g, r) {
    const target = g[goalField[g.goal_type]];
    const title = (intervalName[g.interval] || g.interval) + ' ' + (goalActivity[g.activity_type] || 'activity') + ' ' +
      (goalKind[g.goal_type] || 'goal') + ': ' + amount(g.goal_type, target);
    const total = r ? Number(r[totalField[g.goal_type]]) || 0 : 0;
    const pct = r ? Number(r.percentage_completed) || 0 : 0;
    const barID = 'goal-bar-' + g.id;
    const info = el('div', { class: 'goal' },
      el('strong', { text: title }),
      el('label', { for: barID, class: 'meta', text: 'Progress ' + period(r) }),
      el('progress', { id: barID, max: '100', value: String(pct) }),
      el('div', { class: 'meta goal-total', dataset: { total: String(total), percent: String(pct) },
        text: amount(g.goal_type, total) + ' of ' + amount(g.goal_type, target) + ' · ' + pct + '%' }));
    return el('li', { dataset: { goal: g.id } }, info,
      el('button', { type: 'button', class: 'danger', 'aria-label': 'Delete goal ' + title, dataset: { goal: g.id }, text: 'Delete', onclick: deleteGoal }));
  }

  async function loadGoals() {
    let list, results, u;
    try {
      [list, results, u] = await Promise.all([api('GET', '/api/v1/profile/goals'), api('GET', '/api/v1/profile/goals/results'), me().catch(() => null)]);
    } catch (err) {
      return fail('goal-error', err);
    }
    if (!user && u) user = u;
    const byID = new Map((results || []).map((r) => [r.goal_id, r]));
    const rows = (list || []).map((g) => goalRow(g, byID.get(g.id)));
    if (!rows.length) rows.push(el('li', { class: 'muted', text: 'No goals yet.' }));
    $('goals').replaceChildren(...rows);
  }

  async function addGoal(ev) {
    ev.preventDefault();
    const v = formJSON(ev.target);
    const n = Number(v.value);
    if (!v.value || !(n > 0)) return fail('goal-error', new APIError(0, 'Enter a target above zero.'));
    const body = { interval: v.interval, activity_type: v.activity_type, goal_type: v.goal_type };
    body[goalField[v.goal_type]] = Math.round(n * targetUnit(v.goal_type)[1]);
    try {
      await busy(ev.submitter, () => api('POST', '/api/v1/profile/goals', body));
      ev.target.reset();
      showTargetUnit();
      ok('goal-ok', 'Goal added.');
      loadGoals();
    } catch (err) {
      fail('goal-error', err);
    }
  }

  async function deleteGoal(ev) {
    const b = ev.currentTarget;
    try {
      await busy(b, () => api('DELETE', '/api/v1/profile/goals/' + encodeURIComponent(b.dataset.goal)));
      ok('goal-ok', 'Goal deleted.');
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
    $('g-type').addEventListener('change', showTargetUnit);
    loadProfile().then(showTargetUnit);
    loadGear();
    loadGoals();
  });
})();
