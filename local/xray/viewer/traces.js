/* global document, window, fetch, URLSearchParams */
// The trace page. Trace data is attacker-influenced: it only ever reaches the page through textContent,
// title and numeric style values, never as HTML.
'use strict';

const FILTERS = ['org', 'principalOu', 'decision', 'findingCount'];

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function currentQuery() {
  const form = document.getElementById('filters');
  const query = new URLSearchParams();
  for (const name of [...FILTERS, 'last']) {
    const value = form.elements[name].value.trim();
    if (value) query.set(name, value);
  }
  return query;
}

function showFilterExpression(query) {
  // The same filter in the X-Ray console: annotation.<key> = "<value>" joined by AND.
  const parts = FILTERS.filter((name) => query.has(name)).map((name) =>
    name === 'findingCount' && /^\d+$/.test(query.get(name))
      ? `annotation.${name} = ${query.get(name)}`
      : `annotation.${name} = ${JSON.stringify(query.get(name))}`,
  );
  document.getElementById('filter-expression').textContent = parts.length ? parts.join(' AND ') : '(none)';
}

function statusClass(status) {
  if (typeof status !== 'number') return '';
  return status >= 500 ? 'status-fault' : status >= 400 ? 'status-error' : '';
}

async function loadList() {
  const query = currentQuery();
  showFilterExpression(query);
  const response = await fetch(`/traces/api/traces?${query}`, { headers: { accept: 'application/json' } });
  const { traces } = await response.json();
  const body = document.querySelector('#requests tbody');
  body.replaceChildren();
  for (const trace of traces) {
    const row = element('tr');
    row.dataset.traceId = trace.traceId;
    row.append(
      element('td', new Date(trace.time).toISOString().replace('T', ' ').replace('Z', '')),
      element('td', trace.method ?? '-'),
      element('td', trace.path ?? '-'),
      element('td', trace.status ?? (trace.inProgress ? '…' : '-'), statusClass(trace.status)),
      element('td', trace.latencyMs === undefined ? '-' : `${trace.latencyMs} ms`),
      element('td', trace.annotations.org ?? ''),
      element('td', trace.annotations.principalOu ?? ''),
      element('td', trace.traceId, 'trace-id'),
    );
    row.addEventListener('click', () => {
      window.location.hash = `trace=${encodeURIComponent(trace.traceId)}`;
    });
    body.append(row);
  }
  document.getElementById('empty').hidden = traces.length > 0;
  markSelected();
}

function selectedTraceId() {
  const match = /^#trace=([0-9a-f-]{35})$/.exec(window.location.hash);
  return match ? match[1] : undefined;
}

function markSelected() {
  const id = selectedTraceId();
  for (const row of document.querySelectorAll('#requests tbody tr'))
    row.classList.toggle('selected', row.dataset.traceId === id);
}

async function loadTrace() {
  markSelected();
  const id = selectedTraceId();
  const section = document.getElementById('trace');
  if (!id) {
    section.hidden = true;
    return;
  }
  const response = await fetch(`/traces/api/traces/${encodeURIComponent(id)}`, {
    headers: { accept: 'application/json' },
  });
  if (!response.ok) {
    section.hidden = true;
    return;
  }
  const { summary, rows } = await response.json();
  document.getElementById('trace-title').textContent =
    `${summary.method ?? ''} ${summary.path ?? ''} → ${summary.status ?? '…'} · ${summary.traceId}`;
  const total = Math.max(1, ...rows.map((row) => row.offsetMs + (row.durationMs ?? 0)));
  const waterfall = document.getElementById('waterfall');
  waterfall.replaceChildren();
  for (const row of rows) {
    const line = element('div', undefined, 'segment');
    if (row.error) line.classList.add('error');
    if (row.fault) line.classList.add('fault');
    if (row.inProgress) line.classList.add('in-progress');
    const name = element('div', undefined, 'name');
    name.style.paddingLeft = `${Math.min(row.depth, 20) * 1.1}rem`;
    name.append(element('span', row.name), element('span', row.kind, 'kind'));
    if (row.exception) name.append(element('span', row.exception, 'exception'));
    const annotations = Object.entries(row.annotations).map(([key, value]) => `${key}=${value}`);
    name.title = [row.name, row.kind, ...annotations].join('\n');
    const track = element('div', undefined, 'track');
    const bar = element('div', undefined, 'bar');
    const width = row.durationMs === undefined ? total - row.offsetMs : row.durationMs;
    bar.style.left = `${(Number(row.offsetMs) / total) * 100}%`;
    bar.style.width = `${Math.max(0.2, (Number(width) / total) * 100)}%`;
    track.append(bar);
    const outcome = row.fault ? ' fault' : row.error ? ' error' : row.throttle ? ' throttled' : '';
    line.append(
      name,
      track,
      element('div', `${row.durationMs === undefined ? '…' : `${row.durationMs.toFixed(1)} ms`}${outcome}`, 'duration'),
    );
    waterfall.append(line);
  }
  section.hidden = false;
}

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('filters');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void loadList();
  });
  form.addEventListener('reset', () => window.setTimeout(() => void loadList(), 0));
  window.addEventListener('hashchange', () => void loadTrace());
  void loadList().then(loadTrace);
  window.setInterval(() => void loadList(), 5000);
});
