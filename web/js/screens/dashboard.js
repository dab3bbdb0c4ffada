// ダッシュボード: items per day by verdict (stacked bars), top reasons for blocking and
// holding (bars and a table), pending requests and worker health. Chart.js is loaded only
// by the screens with charts (charts.js).
import { html } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { shortDay } from '../format.js';
import { Screen, notice } from '../ui.js';
import { loadChart, cssVar } from '../charts.js';

const DAYS = 14;
const VERDICTS = [
  ['clean', '--color-semantic-success-1'],
  ['sanitized', '--color-primitive-blue-700'],
  ['held', '--color-semantic-warning-orange-1'],
  ['blocked', '--color-semantic-error-1'],
];

class Dashboard extends Screen {
  static properties = { ...Screen.properties, data: { state: true }, error: { state: true } };

  constructor() {
    super();
    this.data = null;
    this.error = '';
    this.charts = [];
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.destroyCharts();
  }

  destroyCharts() {
    for (const c of this.charts) c.destroy();
    this.charts = [];
  }

  async load() {
    try {
      this.data = await api('GET', `/api/dashboard${query({ days: DAYS })}`);
      this.error = '';
    } catch (e) {
      this.data = null;
      this.error = errorText(e);
    }
  }

  async updated(changed) {
    if (!this.data || !(changed.has('data') || changed.has('lang'))) return;
    const Chart = await loadChart();
    this.destroyCharts();
    const grid = cssVar('--color-neutral-solid-gray-100', '#e6e6e6');
    const perDay = this.data.per_day || [];
    const c1 = this.querySelector('#chart-per-day');
    if (c1) {
      this.charts.push(new Chart(c1, {
        type: 'bar',
        data: {
          labels: perDay.map((d) => shortDay(d.date)),
          datasets: VERDICTS.map(([v, color]) => ({
            label: t(`verdict.${v}`),
            data: perDay.map((d) => d[v] || 0),
            backgroundColor: cssVar(color, '#666'),
            stack: 'items',
          })),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { position: 'bottom' } },
          scales: {
            x: { stacked: true, grid: { display: false } },
            y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, grid: { color: grid },
 },
          },
        },
      }));
    }
    const reasons = this.data.top_reasons || [];
    const c2 = this.querySelector('#chart-reasons');
    if (c2 && reasons.length) {
      this.charts.push(new Chart(c2, {
        type: 'bar',
        data: {
          labels: reasons.map((r) => r.reason_text || r.reason),
          datasets: [{
            label: t('dash.count'),
            data: reasons.map((r) => r.count),
            backgroundColor: cssVar('--color-semantic-error-1', '#c00'),
          }],
        },
        options: {
          indexAxis: 'y',
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: grid } },
            // long reasons cut to fit (the whole text is in the table below and the tooltip)
            y: { grid: { display: false },
              ticks: { callback(v) { const l = String(this.getLabelForValue(v)); return l.length > 12 ? `${l.slice(0, 11)}…` : l; } } } },
        },
      }));
    }
  }

  stat(id, label, value, warn) {
    return html`<div class="stat ${warn ? 'stat--warn' : ''}" id=${id}>
      <span class="stat__label">${label}</span><span class="stat__value">${value ?? '—'}</span></div>`;
  }

  render() {
    const d = this.data;
    if (!d) {
      return html`<h1 class="heading">${t('dash.title')}</h1>
        ${this.error ? notice('error', this.error) : html`<p>${t('app.loading')}</p>`}`;
    }
    const w = d.workers || {};
    const reasons = d.top_reasons || [];
    return html`<h1 class="heading">${t('dash.title')}</h1>
      <p class="lead">${t('dash.lead', { days: DAYS })}</p>
      ${notice('error', this.error)}
      <div class="stats">
        ${this.stat('stat-pending', t('dash.pending'), d.pending_requests, d.pending_requests > 0)}
        ${this.stat('stat-alive', `${t('dash.workers')}: ${t('dash.workers.alive')}`, w.alive, w.alive === 0)}
        ${this.stat('stat-jobs', t('dash.workers.jobs'), w.jobs)}
        ${this.stat('stat-restarts', t('dash.workers.restarts'), w.restarts)}
        ${this.stat('stat-crashes', t('dash.workers.crashes'), w.crashes, w.crashes > 0)}
      </div>
      <div class="dash-grid">
        <section class="card">
          <h2 class="heading heading--3">${t('dash.perday')}</h2>
          <div class="chart chart--tall"><canvas id="chart-per-day" role="img" aria-label=${t('dash.chart.label')}></canvas></div>
        </section>
        <section class="card">
          <h2 class="heading heading--3">${t('dash.reasons')}</h2>
          ${reasons.length === 0 ? html`<p class="empty">${t('dash.reasons.empty')}</p>` : html`
          <div class="chart"><canvas id="chart-reasons" role="img" aria-label=${t('dash.reasons.label')}></canvas></div>
          <table class="table table--dense"><thead><tr><th scope="col">${t('dash.reason')}</th>
            <th scope="col" class="num">${t('dash.count')}</th></tr></thead>
            <tbody>${reasons.map((r) => html`<tr><td>${r.reason_text || r.reason}</td><td class="num">${r.count}</td></tr>`)}</tbody></table>`}
        </section>
      </div>
`;
  }
}
customElements.define('sk-dashboard', Dashboard);
