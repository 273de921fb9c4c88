// data.js: export download and import with preview, progress and report.
'use strict';
(function () {
  const { api, APIError, $, el, say, fail, ok, busy, download, me } = window.tp;

  function exportName(res) {
    const cd = res.headers.get('Content-Disposition') || '';
    const m = /filename="?([^";]+)"?/i.exec(cd);
    if (m) return m[1];
    return 'trailpass_export_' + new Date().toISOString().slice(0, 16).replace(/:/g, '-') + '.zip';
  }

  async function exportData(ev) {
    say('export-error', '');
    ok('export-ok', 'Preparing your archive…');
    try {
      const res = await busy(ev.currentTarget, () => api('GET', '/api/v1/profile/export', undefined, { raw: true }));
      const blob = await res.blob();
      download(blob, exportName(res));
      ok('export-ok', 'Your archive was downloaded (' + Math.max(1, Math.round(blob.size / 1024)) + ' KiB).');
    } catch (err) {
      fail('export-error', err);
    }
  }

  function chosenFile() {
    const f = $('import-file').files[0];
    if (!f) fail('import-error', new APIError(0, 'Choose a .zip archive first.'));
    return f;
  }

  function formWith(f) {
    const fd = new FormData();
    fd.append('file', f);
    return fd;
  }

  // report shows the counts of a dry run or a finished import, whatever nesting
  // the API used ({counts}, {report: {counts}} or a flat object of numbers).
  function report(title, r) {
    const body = (r && (r.report || r.result)) || r || {};
    const counts = body.counts || body.imported || body;
    const rows = Object.entries(counts).filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => el('tr', { dataset: { item: k } }, el('td', { text: k.replace(/_/g, ' ') }), el('td', { text: String(v) })));
    $('import-report-title').textContent = title;
    $('import-counts').replaceChildren(...rows);
    const notes = [].concat(body.warnings || [], body.skipped_items || [], body.errors || []).map((w) =>
      el('li', { text: typeof w === 'string' ? w : JSON.stringify(w) }));
    $('import-notes').replaceChildren(...notes);
    $('import-report').hidden = false;
  }

  async function preview(ev) {
    ev.preventDefault();
    const f = chosenFile();
    if (!f) return;
    say('import-error', '');
    $('import-report').hidden = true;
    try {
      const r = await busy(ev.submitter, () => api('POST', '/api/v1/profile/import?dry_run=true', formWith(f)));
      report('Preview: this would be imported', r);
    } catch (err) {
      fail('import-error', err);
    }
  }

  function setProgress(phase, pct) {
    $('import-progress-box').hidden = false;
    if (phase) $('import-phase').textContent = phase;
    if (typeof pct === 'number' && isFinite(pct)) $('import-progress').value = Math.max(0, Math.min(100, pct));
  }

  function percentOf(d) {
    if (typeof d.percent === 'number') return d.percent;
    if (typeof d.progress === 'number') return d.progress <= 1 ? d.progress * 100 : d.progress;
    if (typeof d.done === 'number' && d.total) return (d.done / d.total) * 100;
    return undefined;
  }

  // follow reads the job's server-sent events with fetch (EventSource cannot
  // send the X-Client-Type header) until the job ends, and returns the last event.
  async function follow(jobID) {
    const res = await api('GET', '/api/v1/profile/import/jobs/' + encodeURIComponent(jobID) + '/events', undefined, { raw: true });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '', last = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return last;
      buf += value;
      let i;
      while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i).replace(/^\r?\n\r?\n/, '');
        let event = 'message', data = '';
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (!data) continue;
        let d;
        try { d = JSON.parse(data); } catch (e) { d = { message: data }; }
        last = Object.assign({ event }, d);
        setProgress(d.phase || d.message || d.status, percentOf(d));
        const status = String(d.status || event);
        if (/^(failed|error)$/.test(status)) throw new APIError(0, 'Import failed: ' + (d.error || d.detail || d.message || 'unknown error'));
        if (/^(done|completed|complete|succeeded|finished)$/.test(status)) { reader.cancel(); return last; }
      }
    }
  }

  async function runImport(ev) {
    const f = chosenFile();
    if (!f) return;
    say('import-error', '');
    $('import-report').hidden = true;
    setProgress('Uploading…', 0);
    try {
      await busy(ev.currentTarget, async () => {
        const r = await api('POST', '/api/v1/profile/import?async=true', formWith(f));
        const result = r && r.job_id ? await follow(r.job_id) : r;
        setProgress('Import finished', 100);
        report('Imported', result);
        lastImport = (result && (result.result || result)) || null;
        loadSummary();
      });
    } catch (err) {
      $('import-progress-box').hidden = true;
      fail('import-error', err);
    }
  }

  // What the account holds: counts, size, span and a chart of activities per
  // month, drawn as SVG elements (attributes and classes only, for the CSP).
  const kinds = [
    ['activities', 'Activities', 'activities'], ['laps', 'Laps', 'activity_laps'], ['streams', 'Streams', 'activity_streams'],
    ['gear', 'Gear', 'gears'], ['weights', 'Weights', 'health_weight'], ['goals', 'Goals', 'user_goals'],
    ['photos', 'Photos', 'activity_media'], ['files', 'Activity files', 'activity_files'],
  ];
  const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const svgNS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, ...children) {
    const n = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    for (const c of children) n.append(c);
    return n;
  }

  function bytes(n) {
    const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toLocaleString('en-US', { maximumFractionDigits: 1 }) : String(n)) + ' ' + units[i];
  }

  function day(s) {
    const d = new Date(s);
    return d.getUTCDate() + ' ' + monthNames[d.getUTCMonth()] + ' ' + d.getUTCFullYear();
  }

  function monthLabel(m) {
    const [y, mm] = m.split('-').map(Number);
    return monthNames[mm - 1] + ' ' + y;
  }

  // chart draws at the container's own width, so labels keep their size on a
  // phone.
  function chart(months, width) {
    const W = Math.max(260, Math.round(width || 640)), H = 160, top = 10, bottom = 22, left = 28;
    const n = months.length;
    const peak = Math.max(1, ...months.map((m) => m.activities));
    const slot = (W - left) / n;
    const bar = Math.max(1, slot * 0.8);
    const scale = (v) => (v / peak) * (H - top - bottom);
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart-svg', role: 'img', 'aria-labelledby': 'summary-chart-title' },
      svg('title', { id: 'summary-chart-title' }, 'Activities per month, ' + monthLabel(months[0].month) + ' to ' + monthLabel(months[n - 1].month) +
        ', at most ' + peak + ' in a month'));
    root.append(svg('line', { x1: left, x2: W, y1: H - bottom, y2: H - bottom, class: 'axis' }));
    root.append(svg('text', { x: left - 4, y: top + 8, class: 'tick', 'text-anchor': 'end' }, String(peak)));
    root.append(svg('text', { x: left - 4, y: H - bottom, class: 'tick', 'text-anchor': 'end' }, '0'));
    months.forEach((m, i) => {
      const h = scale(m.activities);
      const x = left + i * slot + (slot - bar) / 2;
      const r = svg('rect', { x: x.toFixed(1), y: (H - bottom - h).toFixed(1), width: bar.toFixed(1), height: h.toFixed(1), class: 'bar', 'data-month': m.month, 'data-count': m.activities },
        svg('title', {}, monthLabel(m.month) + ': ' + m.activities + (m.activities === 1 ? ' activity' : ' activities')));
      root.append(r);
      // A year label under each January, and under the first month.
      if (m.month.endsWith('-01') || (i === 0 && n < 12)) {
        root.append(svg('text', { x: (left + i * slot).toFixed(1), y: H - 6, class: 'tick' }, m.month.slice(0, 4)));
      }
    });
    return root;
  }

  let lastImport = null;
  async function loadSummary() {
    let s;
    try {
      s = await api('GET', '/api/v1/profile/summary');
    } catch (err) {
      return fail('summary-error', err);
    }
    say('summary-error', '');
    const imp = lastImport;
    for (const th of document.querySelectorAll('#summary-table th.imp')) th.hidden = !imp;
    $('summary-counts').replaceChildren(...kinds.map(([k, label, importKey]) => {
      const row = el('tr', { dataset: { kind: k } }, el('th', { scope: 'row', text: label }), el('td', { class: 'n', text: String(s.counts[k] || 0) }));
      if (imp) {
        row.append(el('td', { class: 'in', text: String((imp.imported || {})[importKey] || 0) }),
          el('td', { class: 'skipped', text: String((imp.skipped || {})[importKey] || 0) }));
      }
      return row;
    }));
    $('summary-size').textContent = 'Stored files: ' + bytes(s.file_bytes || 0) + (s.profile_photo ? ', your profile photo included.' : '.');
    $('summary-range').textContent = s.first_activity
      ? 'Activities from ' + day(s.first_activity) + ' to ' + day(s.last_activity) + '.'
      : 'No activities yet.';
    const months = s.activities_per_month || [];
    $('summary-figure').hidden = !months.length;
    shownMonths = months;
    if (months.length) {
      $('summary-chart-caption').textContent = 'Activities per month' + (months.length >= 120 ? ' (the last ten years)' : '');
      drawChart();
    }
  }

  let shownMonths = [], redraw = null;
  function drawChart() {
    if (shownMonths.length) $('summary-chart').replaceChildren(chart(shownMonths, $('summary-chart').clientWidth));
  }

  document.addEventListener('DOMContentLoaded', () => {
    loadSummary();
    window.addEventListener('resize', () => { clearTimeout(redraw); redraw = setTimeout(drawChart, 150); });
    $('export').addEventListener('click', exportData);
    $('import-form').addEventListener('submit', preview);
    $('import-run').addEventListener('click', runImport);
    me().catch(() => {});
  });
})();
