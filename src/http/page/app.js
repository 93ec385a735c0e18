// The status page: plain script over the read-only JSON API; uPlot (global) draws the series.
// Every text from the API goes through textContent or esc(): reasons carry user-written policy text.

const SEVERITY_COLOR = { warning: '#e09100', critical: '#c62828' };
const STAGE_COLOR = {
  started: '#6a1b9a',
  executed: '#1565c0',
  'already-satisfied': '#78909c',
  verified: '#2e7d32',
  unverified: '#8d6e63',
  ineffective: '#c62828',
  failed: '#c62828',
  skipped: '#78909c',
  interrupted: '#8d6e63',
  'rolled-back': '#ad1457',
};
const charts = new Map();
let lastStatus = null;

function esc(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
function at(ms) {
  // Tables read better with month-day and time; the header shows the full date.
  return ms ? new Date(ms).toISOString().slice(5, 19).replace('T', ' ') : '–';
}
function fullTime(ms) {
  return ms
    ? new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '–';
}
async function get(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}
function table(headers, rows, empty) {
  if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
function card(title, html, id, size = '') {
  return `<div class="card ${size}" id="${id}"><h3>${esc(title)}</h3>${html}</div>`;
}
function findingLink(id) {
  return `<a href="#/finding/${encodeURIComponent(id)}" class="finding-link">${esc(id)}</a>`;
}

function renderHeader(status) {
  const health = document.getElementById('health');
  health.textContent = status.health.ok ? 'healthy' : `attention: ${status.health.problems.length}`;
  health.className = `badge ${status.health.ok ? 'ok' : 'bad'}`;
  const policy = status.policy.map((p) => `${p.replica}: mode ${p.mode}, policy ${p.hash.slice(0, 12)}`);
  document.getElementById('mode').textContent = policy.join(' · ') || 'no policy loaded';
  document.getElementById('updated').textContent = `as of ${fullTime(status.now)} (UTC)`;
}

function renderOverview(status) {
  const problems = status.health.problems.length
    ? `<ul class="problems">${status.health.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`
    : '<p class="empty">nothing needs a human</p>';
  const findings = table(
    ['finding', 'severity', 'series', 'value', 'since', 'decision'],
    status.findings.map((f) => {
      const d = f.decisions.at(-1);
      return [
        findingLink(f.id),
        `<span class="sev-${esc(f.verdict.severity)}">${esc(f.verdict.severity)}</span>`,
        `<code>${esc(f.series)}</code>`,
        esc(f.value),
        esc(at(f.since)),
        d
          ? `${esc(d.action)} <small>(${esc(d.rule ?? 'no rule')})</small><br><small>${esc(d.reason)}</small>`
          : '–',
      ];
    }),
    'no open findings',
  );
  const remediations = table(
    ['finding', 'remediation', 'started', 'outcome', 'verification'],
    status.remediations.map((r) => [
      findingLink(r.findingId),
      `${esc(r.kind)} <code>${esc(r.target)}</code><br><small>${esc(r.description ?? '')}</small>`,
      esc(at(r.startedAt)),
      esc(r.outcome ?? '–'),
      esc(r.verification ?? '–'),
    ]),
    'no remediation yet',
  );
  const controls = table(
    ['kind', 'target', 'by', 'until', 'reason'],
    status.controls.map((c) => [
      esc(c.kind),
      `<code>${esc(c.target ?? '*')}</code>`,
      esc(c.by ?? '–'),
      esc(c.until ? at(c.until) : '–'),
      esc(c.reason ?? ''),
    ]),
    'no holds, silences, pauses or overrides',
  );
  const approvals = table(
    ['finding', 'plan', 'requested', 'approve with'],
    status.approvals.map((a) => [
      findingLink(a.findingId),
      `${esc(a.remediation ?? '–')} <code>${esc(a.target ?? '')}</code><br><small>${esc(a.reason)}</small>`,
      esc(at(a.requestedAt)),
      `<code>vigil approve ${esc(a.findingId)}</code>`,
    ]),
    'nothing waits for approval',
  );
  const breakers = table(
    ['kind', 'target', 'open until'],
    status.breakers.map((b) => [esc(b.kind), `<code>${esc(b.target)}</code>`, esc(at(b.openUntil))]),
    'every breaker closed',
  );
  const budgets = table(
    ['remediation', 'left this hour', 'failures in a row', 'cooldown until'],
    status.budgets.map((b) => [
      `${esc(b.kind)} <code>${esc(b.target)}</code>`,
      b.leftThisHour === null ? '–' : `${b.leftThisHour} of ${b.maxPerHour}`,
      `${b.consecutiveFailures}${b.escalated ? ' <b class="sev-critical">escalated</b>' : ''}`,
      esc(at(b.cooldownUntil)),
    ]),
    'no remediation decided yet',
  );
  const collectors = table(
    ['collector', 'last tick', 'outcome', 'last success'],
    status.collectors.map((c) => [
      esc(c.id),
      esc(at(c.lastTickAt)),
      c.lastOutcome === 'failure'
        ? `<span class="sev-critical">failing</span> <small>${esc(c.error ?? '')}</small>`
        : esc(c.lastOutcome),
      esc(at(c.lastSuccessAt)),
    ]),
    'no tick yet',
  );
  const q = status.queue;
  const queue = q
    ? `<p>${q.waiting} waiting · ${q.active} active · ${q.delayed} delayed · ${q.failed} failed · oldest waiting ${q.oldestWaitingMs === null ? '–' : `${Math.round(q.oldestWaitingMs / 1000)} s`}</p>`
    : '<p class="empty">no queue on this replica</p>';
  document.getElementById('overview').innerHTML = `<h2>Overview</h2><div class="grid">${[
    card('Health', problems, 'card-health'),
    card('Holds, silences, pauses, overrides', controls, 'card-controls', 'wide'),
    card('Pending approvals', approvals, 'card-approvals'),
    card('Breakers', breakers, 'card-breakers'),
    card('Open findings', findings, 'card-findings', 'wide'),
    card('Recent remediations', remediations, 'card-remediations', 'wide'),
    card('Budgets', budgets, 'card-budgets'),
    card('Collectors', collectors, 'card-collectors'),
    card('Remediation queue', queue, 'card-queue'),
  ].join('')}</div>`;
}

// ---- charts ---------------------------------------------------------------------------------

function markerPlugin(state) {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          ctx.save();
          const drawn = { anomalies: [], remediations: [] };
          for (const p of state.view.points) {
            if (!p.anomalous && p.severity !== 'warning' && p.severity !== 'critical') continue;
            const color = SEVERITY_COLOR[p.severity] ?? SEVERITY_COLOR.warning;
            const x = u.valToPos(p.t / 1000, 'x', true);
            const y = u.valToPos(p.v, 'y', true);
            ctx.fillStyle = color;
            ctx.beginPath();
            ctx.arc(x, y, 5 * devicePixelRatio, 0, 2 * Math.PI);
            ctx.fill();
            drawn.anomalies.push({ t: p.t, severity: p.severity, x: x / devicePixelRatio });
          }
          for (const m of state.markers) {
            const x = u.valToPos(m.t / 1000, 'x', true);
            if (x < left || x > left + width) continue;
            ctx.strokeStyle = STAGE_COLOR[m.stage] ?? '#6a1b9a';
            ctx.globalAlpha = m.own ? 1 : 0.35;
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash(m.stage === 'started' ? [4 * devicePixelRatio, 3 * devicePixelRatio] : []);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            drawn.remediations.push({
              t: m.t,
              stage: m.stage,
              kind: m.kind,
              target: m.target,
              own: m.own,
              x: x / devicePixelRatio,
            });
          }
          ctx.restore();
          state.el.dataset.anomalies = JSON.stringify(drawn.anomalies);
          state.el.dataset.remediations = JSON.stringify(drawn.remediations);
        },
      ],
      setCursor: [(u) => hover(u, state)],
    },
  };
}

function hover(u, state) {
  const i = u.cursor.idx;
  const out = state.el.querySelector('.hover');
  if (i === null || i === undefined) return;
  const p = state.view.points[i];
  if (!p) return;
  const covering = state.view.findings.filter(
    (f) => f.since <= p.t && (f.clearedAt === undefined || p.t <= f.clearedAt || f.state !== 'cleared'),
  );
  const decisions = covering.flatMap((f) =>
    f.decisions.map((d) => `${f.id}: ${d.action} (${d.rule ?? 'no rule'}) — ${d.reason}`),
  );
  out.innerHTML = `<b>${esc(at(p.t))}</b> ${esc(p.v)} <span class="sev-${esc(p.severity)}">${esc(p.severity)}</span> — ${esc(p.reason)}${decisions.map((d) => `<br><small>decision ${esc(d)}</small>`).join('')}`;
}

function chartData(view) {
  const xs = view.points.map((p) => p.t / 1000);
  const col = (name) => view.points.map((p) => (p[name] === null ? null : p[name]));
  return [xs, col('v'), col('lower'), col('upper'), col('warning'), col('critical')];
}

function xRange(view, markers) {
  const times = view.points.map((p) => p.t).concat(markers.map((m) => m.t));
  const min = Math.min(...times) / 1000;
  const max = Math.max(...times) / 1000;
  const pad = Math.max(3600, (max - min) * 0.02);
  return [min - pad, max + pad];
}

function chartMarkers(view, remediations) {
  const own = new Set(view.findings.map((f) => f.id));
  const ownMarkers = view.markers.map((m) => ({ ...m, own: true }));
  // Remediations of other findings are drawn faintly: a redeploy explains a coverage recovery.
  const others = [];
  for (const r of remediations) {
    if (own.has(r.findingId)) continue;
    const base = { findingId: r.findingId, kind: r.kind, target: r.target, own: false };
    if (r.startedAt) others.push({ ...base, t: r.startedAt, stage: 'started' });
    if (r.verifiedAt) others.push({ ...base, t: r.verifiedAt, stage: r.verification });
  }
  return ownMarkers.concat(others);
}

function controlsFor(view, controls) {
  const names = Object.values(view.labels);
  return controls.filter((c) => c.target && names.includes(c.target));
}

async function renderChart(key, view, status) {
  let state = charts.get(key);
  if (!state) {
    const el = document.createElement('div');
    el.className = 'chart';
    el.dataset.series = key;
    el.innerHTML = `<h3></h3><div class="controls"></div><div class="plot"></div><div class="hover"></div>`;
    el.querySelector('h3').textContent = key;
    document.getElementById('charts').appendChild(el);
    state = { el, view, markers: [], u: null };
    charts.set(key, state);
  }
  state.view = view;
  state.markers = chartMarkers(view, status.remediations);
  state.el.querySelector('.controls').innerHTML = controlsFor(view, status.controls)
    .map(
      (c) =>
        `<div class="control" data-control="${esc(c.kind)}">${esc(c.kind)} ${esc(c.id)} on <code>${esc(c.target)}</code> by ${esc(c.by ?? '?')}${c.until ? ` until ${esc(at(c.until))}` : ''}: ${esc(c.reason ?? '')}</div>`,
    )
    .join('');
  const data = chartData(view);
  const range = xRange(view, state.markers);
  if (state.u) {
    state.u.setScale('x', { min: range[0], max: range[1] });
    state.u.setData(data, false);
    state.u.setScale('x', { min: range[0], max: range[1] });
    return;
  }
  const width = Math.max(480, state.el.clientWidth - 16);
  const opts = {
    width,
    height: 200,
    scales: { x: { time: true, range: () => xRange(state.view, state.markers) } },
    series: [
      {},
      { label: 'value', stroke: '#1565c0', width: 1.5, points: { show: true, size: 3 } },
      { label: 'band low', stroke: 'rgba(21,101,192,0.3)', width: 1, points: { show: false } },
      { label: 'band high', stroke: 'rgba(21,101,192,0.3)', width: 1, points: { show: false } },
      { label: 'warning', stroke: '#e09100', dash: [6, 4], width: 1, points: { show: false } },
      { label: 'critical', stroke: '#c62828', dash: [6, 4], width: 1, points: { show: false } },
    ],
    bands: [{ series: [3, 2], fill: 'rgba(21,101,192,0.12)' }],
    legend: { show: false },
    plugins: [markerPlugin(state)],
  };
  state.u = new uPlot(opts, data, state.el.querySelector('.plot'));
}

async function renderCharts(status) {
  const { series } = await get('/api/series');
  const views = await Promise.all(series.map((key) => get(`/api/series?key=${encodeURIComponent(key)}`)));
  // Series with findings first (the story), then the quiet ones, each group in name order.
  const order = series.map((key, i) => ({ key, view: views[i] }));
  order.sort((a, b) => Number(b.view.findings.length > 0) - Number(a.view.findings.length > 0));
  for (const { key, view } of order) await renderChart(key, view, status);
  document.getElementById('charts').dataset.ready = 'true';
}

// ---- incident view ----------------------------------------------------------------------------

async function renderIncident(id) {
  const section = document.getElementById('incident');
  const [findings, remediations, audit] = await Promise.all([
    get('/api/findings'),
    get('/api/remediations'),
    get(`/api/audit?finding=${encodeURIComponent(id)}`),
  ]);
  const finding = findings.find((f) => f.id === id);
  const steps = [];
  if (finding) {
    const b = finding.verdict.baseline;
    steps.push([
      'finding',
      `${finding.id} <span class="sev-${esc(finding.verdict.severity)}">${esc(finding.verdict.severity)}</span> <code>${esc(finding.series)}</code> = ${esc(finding.value)} (${esc(finding.state)}, since ${esc(at(finding.since))})<br><small>${esc(finding.verdict.reason)}${b ? ` — baseline ${esc(b.center.toFixed(2))} ± ${esc(b.spread.toFixed(3))} over ${esc(b.window)}` : ''}; detector ${esc(finding.verdict.detector)}</small>`,
    ]);
    for (const d of finding.decisions)
      steps.push([
        'decision',
        `${esc(d.action)} by rule ${esc(d.rule ?? 'none')} at ${esc(at(d.time))}${d.target ? ` on <code>${esc(d.remediation)} ${esc(d.target)}</code>` : ''}<br><small>${esc(d.reason)}</small>`,
      ]);
  } else {
    steps.push(['finding', `${esc(id)} is not remembered any more (the audit below still is)`]);
  }
  for (const r of remediations.filter((r) => r.findingId === id)) {
    steps.push([
      'job',
      `${esc(r.job ?? '?')} — ${esc(r.description ?? `${r.kind} ${r.target}`)}, started ${esc(at(r.startedAt))}`,
    ]);
    steps.push(['outcome', `${esc(r.outcome ?? 'pending')} at ${esc(at(r.outcomeAt))}`]);
    steps.push([
      'verification',
      `${esc(r.verification ?? 'pending')} at ${esc(at(r.verifiedAt))}${r.detail ? `<br><small>${esc(r.detail)}</small>` : ''}`,
    ]);
  }
  const entries = audit.entries.map(
    (e) =>
      `<li class="${e.chain === 'ok' ? '' : 'bad'}" data-event="${esc(e.event)}"><span class="step">${esc(e.event)}</span>#${e.seq} ${esc(e.file)} at ${esc(at(e.time))} by ${esc(e.actor.type === 'human' ? e.actor.name : `vigil ${e.actor.replica}`)} ${e.outcome ? `<b>${esc(e.outcome)}</b>` : ''} <small>${esc(e.reason ?? '')}</small> <small class="meta">chain ${esc(e.chain)} · ${esc(e.hash.slice(0, 12))}</small></li>`,
  );
  const files = audit.files.map(
    (f) =>
      `${esc(f.file)}: ${f.problem ? `<b class="sev-critical">BROKEN ${esc(f.problem)}</b>` : `intact, ${f.entries} entries`}`,
  );
  section.innerHTML = `<h2>Incident ${esc(id)}</h2><p><a href="#/">back to the overview</a></p>
    <div class="grid"><div class="card"><h3>Finding → decision → job → outcome → verification</h3><ol class="chain" id="chain">${steps.map(([step, html]) => `<li data-step="${step}"><span class="step">${step}</span>${html}</li>`).join('')}</ol></div>
    <div class="card"><h3>Audit entries</h3><p class="meta">${files.join('<br>')}</p><ul class="chain" id="audit-entries">${entries.join('') || '<li class="empty">none</li>'}</ul></div></div>`;
  section.dataset.finding = id;
}

// ---- routing and refresh ----------------------------------------------------------------------

async function refresh() {
  try {
    const status = await get('/api/status');
    lastStatus = status;
    renderHeader(status);
    const incident = /^#\/finding\/(.+)$/.exec(location.hash);
    document.getElementById('overview').hidden = Boolean(incident);
    document.getElementById('incident').hidden = !incident;
    if (incident) await renderIncident(decodeURIComponent(incident[1]));
    else renderOverview(status);
    await renderCharts(status);
  } catch (error) {
    document.getElementById('health').textContent = `cannot read status: ${error.message}`;
    document.getElementById('health').className = 'badge bad';
  }
}

window.addEventListener('hashchange', () => void refresh());
void refresh();
setInterval(() => void refresh(), 5000);
window.vigilStatus = () => lastStatus;
