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
      });
    } catch (err) {
      $('import-progress-box').hidden = true;
      fail('import-error', err);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('export').addEventListener('click', exportData);
    $('import-form').addEventListener('submit', preview);
    $('import-run').addEventListener('click', runImport);
    me().catch(() => {});
  });
})();
