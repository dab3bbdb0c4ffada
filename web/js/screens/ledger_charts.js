// グラフ (#/ledgers?v=charts): GET /api/ledger-charts drawn with Chart.js — incidents per
// month by severity, training completion per section, self-inspection results per section
// and per chapter (of a period), open findings by age — each with its figures as a table;
// and who has not taken a required course (GET /api/training-missing).
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { Screen, notice } from '../ui.js';
import { loadChart, cssVar } from '../charts.js';
import { L, findTable } from '../ledger.js';

const SEVERITIES = [
  ['high', '--color-semantic-error-1', '#ec0000'],
  ['medium', '--color-semantic-warning-orange-1', '#fb5b01'],
  ['low', '--color-primitive-blue-700', '#264af4'],
];
// the answers' keys in the charts' JSON, their codes in the answers table, colours
const ANSWERS = [
  ['done', 'done', '--color-semantic-success-1', '#259d63'],
  ['partial', 'partial', '--color-semantic-warning-orange-1', '#fb5b01'],
  ['not_done', 'not-done', '--color-semantic-error-1', '#ec0000'],
  ['na', 'na', '--color-neutral-solid-gray-420', '#949494'],
  ['unanswered', '', '--color-neutral-solid-gray-200', '#cccccc'],
];

class LedgerCharts extends Screen {
  static properties = {
    ...Screen.properties,
    schema: { attribute: false },
    data: { state: true },
    missing: { state: true },
    period: { state: true },
    error: { state: true },
  };

  constructor() {
    super();
    this.data = null;
    this.missing = null;
    this.period = '';
    this.error = '';
    this.charts = {};
    this.required = 0;
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.destroyCharts();
  }

  willUpdate(changed) {
    if (changed.has('lang') && changed.get('lang') !== undefined) this.load();
  }

  destroyCharts() {
    for (const c of Object.values(this.charts)) c.destroy();
    this.charts = {};
  }

  async load() {
    try {
      const [d, m, plans] = await Promise.all([
        api('GET', `/api/ledger-charts${query({ period: this.period })}`),
        api('GET', '/api/training-missing'),
        // whether any course is required at all (else "completed" says nothing)
        api('GET', '/api/ledgers/training-plans?f.required=yes&per_page=1'),
      ]);
      this.required = plans.total || 0;
      this.data = d;
      this.missing = m.people || [];
      this.error = '';
    } catch (e) {
      this.error = errorText(e);
    }
  }

  choice(token, key, code) {
    const found = findTable(this.schema, token);
    const f = found && (found.table.fields || []).find((x) => x.key === key);
    const c = f && (f.choices || []).find((x) => x.code === code);
    return c ? L(c) : code;
  }

  severityLabel(s) {
    return this.choice('incidents', 'severity', s);
  }

  answerLabel(code) {
    return code ? this.choice('inspections-answers', 'answer', code) : t('insp.unanswered');
  }

  bucketLabel(b) {
    const m = /^(\d+)-(\d*)$/.exec(b);
    if (!m) return b;
    return m[2] ? t('lchart.bucket', { from: m[1], to: m[2] }) : t('lchart.bucket.over', { from: m[1] });
  }

  monthLabel(m) {
    const x = /^(\d{4})-(\d{2})$/.exec(m);
    return x ? t('lchart.month', { year: x[1], month: Number(x[2]) }) : m;
  }

  // on the axis: the month alone, with its year under January and under the first month
  monthTick(m, i) {
    const x = /^(\d{4})-(\d{2})$/.exec(m);
    if (!x) return m;
    const mm = t('lchart.month.short', { month: Number(x[2]) });
    return i === 0 || x[2] === '01' ? [mm, x[1]] : mm;
  }

  sectionName(r) {
    return r.name || r.section || t('lchart.nosection');
  }

  async updated(changed) {
    if (!this.data || !(changed.has('data') || changed.has('lang'))) return;
    const Chart = await loadChart();
    this.destroyCharts();
    const grid = cssVar('--color-neutral-solid-gray-100', '#e6e6e6');
    const d = this.data;
    const has = this.has();
    const drawn = { 'chart-incidents': has.incidents, 'chart-training': has.training, 'chart-insp-section': has.inspections,
      'chart-insp-chapter': has.inspections, 'chart-findings': has.findings };
    const bar = (id, labels, datasets, opts = {}) => {
      const el = this.querySelector(`#${id}`);
      if (!el || !drawn[id]) return;
      const horizontal = opts.horizontal;
      // horizontal bars: as tall as their rows need (CSSOM, which the CSP allows; a style
      // attribute it would not)
      if (horizontal) el.parentElement.style.height = `${Math.max(12, 4 + 2.5 * labels.length)}rem`;
      const valueAxis = { stacked: true, beginAtZero: true, ticks: { precision: 0 }, grid: { color: grid } };
      const catAxis = { stacked: true, grid: { display: false } };
      if (horizontal) {
        catAxis.ticks = { callback(v) { const l = String(this.getLabelForValue(v)); return l.length > 14 ? `${l.slice(0, 13)}…` : l; } };
      }
      this.charts[id] = new Chart(el, {
        type: 'bar',
        data: { labels, datasets },
        options: {
          indexAxis: horizontal ? 'y' : 'x',
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { position: 'bottom', display: datasets.length > 1 } },
          scales: horizontal ? { x: valueAxis, y: catAxis } : { x: catAxis, y: valueAxis },
        },
      });
    };
    const months = d.incidents_by_month || [];
    bar('chart-incidents', months.map((m, i) => this.monthTick(m.month, i)), SEVERITIES.map(([s, v, fb]) => ({
      label: this.severityLabel(s), data: months.map((m) => m[s] || 0), backgroundColor: cssVar(v, fb), stack: 's',
    })));
    const tr = d.training_by_section || [];
    bar('chart-training', tr.map((r) => this.sectionName(r)), [
      { label: t('lchart.training.completed'), data: tr.map((r) => r.completed || 0), backgroundColor: cssVar('--color-semantic-success-1', '#259d63'), stack: 's' },
      { label: t('lchart.training.notyet'), data: tr.map((r) => Math.max(0, (r.people || 0) - (r.completed || 0))), backgroundColor: cssVar('--color-neutral-solid-gray-200', '#ccc'), stack: 's' },
    ]);
    const ins = d.inspections || {};
    const answerSets = (rows) => ANSWERS.map(([k, code, v, fb]) => ({
      label: this.answerLabel(code), data: rows.map((r) => r[k] || 0), backgroundColor: cssVar(v, fb), stack: 's',
    }));
    const bs = ins.by_section || [];
    bar('chart-insp-section', bs.map((r) => this.sectionName(r)), answerSets(bs), { horizontal: true });
    const bc = ins.by_chapter || [];
    bar('chart-insp-chapter', bc.map((r) => r.chapter), answerSets(bc), { horizontal: true });
    const fa = d.findings_by_age || [];
    bar('chart-findings', fa.map((r) => this.bucketLabel(r.bucket)), [
      { label: t('lchart.findings.open'), data: fa.map((r) => r.open || 0), backgroundColor: cssVar('--color-semantic-warning-orange-1', '#fb5b01') },
    ]);
  }

  // what there is to draw: an empty chart is said in words instead
  has() {
    const d = this.data || {};
    const sum = (rows, keys) => (rows || []).reduce((a, r) => a + keys.reduce((b, k) => b + (r[k] || 0), 0), 0);
    return {
      incidents: sum(d.incidents_by_month, ['high', 'medium', 'low']) > 0,
      training: this.required > 0 && (d.training_by_section || []).length > 0,
      inspections: ((d.inspections || {}).by_section || []).length > 0,
      findings: sum(d.findings_by_age, ['open']) > 0,
    };
  }

  answersTable(id, rows, first, name) {
    return html`<table class="table table--dense chart-table" id=${id}><thead><tr><th scope="col">${first}</th>
      ${ANSWERS.map(([, code]) => html`<th scope="col" class="num">${this.answerLabel(code)}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr data-row=${r.section ?? r.chapter ?? ''}><th scope="row">${name(r)}</th>
        ${ANSWERS.map(([k]) => html`<td class="num" data-k=${k}>${r[k] || 0}</td>`)}</tr>`)}</tbody></table>`;
  }

  render() {
    const d = this.data;
    if (!d) return this.error ? notice('error', this.error) : html`<p>${t('app.loading')}</p>`;
    const ins = d.inspections || {};
    const periods = ins.periods || [];
    const tr = d.training_by_section || [];
    const months = d.incidents_by_month || [];
    const fa = d.findings_by_age || [];
    const has = this.has();
    return html`<p class="lead">${t('lchart.lead', { today: d.today || '' })}</p>
      ${notice('error', this.error)}
      <div class="chart-grid">
        <section class="card" id="card-incidents">
          <h2 class="heading heading--3">${t('lchart.incidents')}</h2>
          ${has.incidents ? nothing : html`<p class="empty" id="incidents-empty">${t('lchart.incidents.none')}</p>`}
          <div class="chart ${has.incidents ? '' : 'chart--none'}"><canvas id="chart-incidents" role="img" aria-label=${t('lchart.incidents.label')}></canvas></div>
          <details class="chart-data"><summary>${t('lchart.figures')}</summary>
            <table class="table table--dense chart-table"><thead><tr><th scope="col">${t('lchart.month.col')}</th>
              ${SEVERITIES.map(([s]) => html`<th scope="col" class="num">${this.severityLabel(s)}</th>`)}</tr></thead>
              <tbody>${months.map((m) => html`<tr><th scope="row">${this.monthLabel(m.month)}</th>
                ${SEVERITIES.map(([s]) => html`<td class="num">${m[s] || 0}</td>`)}</tr>`)}</tbody></table></details>
        </section>
        <section class="card" id="card-findings">
          <h2 class="heading heading--3">${t('lchart.findings')}</h2>
          ${has.findings ? nothing : html`<p class="empty" id="findings-empty">${t('lchart.findings.none')}</p>`}
          <div class="chart ${has.findings ? '' : 'chart--none'}"><canvas id="chart-findings" role="img" aria-label=${t('lchart.findings.label')}></canvas></div>
          ${has.findings ? html`<p class="help">${t('lchart.findings.total', { n: fa.reduce((a, r) => a + (r.open || 0), 0) })}</p>` : nothing}
        </section>
        <section class="card card--wide" id="card-training">
          <h2 class="heading heading--3">${t('lchart.training')}</h2>
          ${has.training ? nothing : html`<p class="empty" id="training-empty">${this.required ? t('lchart.training.empty') : t('lchart.training.noplan')}</p>`}
          <div class="chart-pair chart-pair--even">
          <div class="chart ${has.training ? '' : 'chart--none'}"><canvas id="chart-training" role="img" aria-label=${t('lchart.training.label')}></canvas></div>
          ${has.training ? html`<table class="table table--dense chart-table" id="training-table"><thead><tr>
            <th scope="col">${t('insp.section')}</th><th scope="col" class="num">${t('lchart.training.people')}</th>
            <th scope="col" class="num">${t('lchart.training.completed')}</th><th scope="col" class="num">${t('lchart.training.rate')}</th></tr></thead>
            <tbody>${tr.map((r) => html`<tr data-row=${r.section || ''}><th scope="row">${this.sectionName(r)}</th>
              <td class="num">${r.people || 0}</td><td class="num">${r.completed || 0}</td>
              <td class="num">${r.people ? `${Math.round((100 * (r.completed || 0)) / r.people)}%` : '—'}</td></tr>`)}</tbody></table>` : nothing}
          </div>
        </section>
        <section class="card card--wide" id="card-inspections">
          <div class="toolbar">
            <h2 class="heading heading--3 toolbar__title">${t('lchart.insp', { period: ins.period || '—' })}</h2>
            ${periods.length > 1 ? html`<div class="field field--inline"><label for="chart-period">${t('insp.period')}</label>
              <select id="chart-period" @change=${(e) => { this.period = e.target.value; this.load(); }}>
                ${periods.map((p) => html`<option value=${p} ?selected=${p === ins.period}>${p}</option>`)}</select></div>` : nothing}
          </div>
          ${(ins.by_section || []).length === 0 ? html`<p class="empty" id="insp-chart-empty">${t('lchart.insp.empty')}</p>` : nothing}
          <div class="chart-pair ${has.inspections ? '' : 'chart--none'}">
            <div><h3 class="heading heading--4">${t('lchart.insp.section')}</h3>
              <div class="chart"><canvas id="chart-insp-section" role="img" aria-label=${t('lchart.insp.section.label')}></canvas></div></div>
            <div><h3 class="heading heading--4">${t('lchart.insp.chapter')}</h3>
              <div class="chart"><canvas id="chart-insp-chapter" role="img" aria-label=${t('lchart.insp.chapter.label')}></canvas></div></div>
          </div>
          ${has.inspections ? html`${this.answersTable('insp-section-table', ins.by_section || [], t('insp.section'), (r) => this.sectionName(r))}
          <details class="chart-data"><summary>${t('lchart.figures.chapter')}</summary>
            ${this.answersTable('insp-chapter-table', ins.by_chapter || [], t('lchart.chapter'), (r) => r.chapter)}</details>` : nothing}
        </section>
        <section class="card card--wide" id="card-missing">
          <h2 class="heading heading--3">${t('lchart.missing')}</h2>
          ${!this.missing || this.missing.length === 0 ? html`<p class="empty" id="missing-empty">${t('lchart.missing.none')}</p>`
            : html`<table class="table table--dense" id="missing-table"><thead><tr>
              <th scope="col">${t('lchart.missing.person')}</th><th scope="col">${t('insp.section')}</th>
              <th scope="col">${t('lchart.missing.courses')}</th></tr></thead>
              <tbody>${this.missing.map((p) => html`<tr data-user=${p.user}><td>${p.name || p.user}${p.name && p.name !== p.user ? html` <span class="help">(${p.user})</span>` : nothing}</td>
                <td class="nowrap">${this.sectionOf(p.section)}</td>
                <td><ul class="plain">${(p.missing || []).map((m) => html`<li>${m.course || m.plan} <span class="help mono">${m.plan}</span></li>`)}</ul></td></tr>`)}</tbody></table>`}
        </section>
      </div>`;
  }

  sectionOf(id) {
    const s = ((this.schema && this.schema.sections) || []).find((x) => x.id === id);
    return s ? L(s) : id || '—';
  }
}
customElements.define('sk-ledger-charts', LedgerCharts);
