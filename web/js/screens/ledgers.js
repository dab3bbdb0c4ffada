// 台帳 (#/ledgers): the ledgers of docs/api.md "Ledgers". The schema of GET /api/ledgers
// drives everything: the ledgers' links, each table's list (search, filters, sort by a
// column, pages), a record's detail with its history, the add/edit form, the incident
// chain; 自己点検 and グラフ have their own elements. Routes (the hash's query):
//   (none)            the ledgers, the Excel files and the yearly report
//   t=TOKEN           a table's list (the tables of one ledger as tabs)
//   t=TOKEN&id=ID     a record (&edit=1: its form)   t=TOKEN&new=1: a new record
//   v=inspect         自己点検 (a section answers its checklist)
//   v=charts          グラフ
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { Screen, notice, pager } from '../ui.js';
import {
  loadSchema, L, findTable, hasPerm, isChainField, valueView, tableHref, recordHref, fiscalYear,
  optionsOf as ledgerOptions,
} from '../ledger.js';
import './ledger_record.js';
import './inspection.js';
import './ledger_charts.js';

const PER_PAGE = 50;
const FILTER_TYPES = ['choice', 'level', 'section', 'zone'];
// the list's columns: the fields in order within this many characters of Excel width
// (the first note only, clamped to two lines; the chain's steps as one column)
const LIST_WIDTH = 120;

function listFields(table) {
  const out = [];
  let width = 0;
  let hasNote = false;
  for (const f of table.fields || []) {
    if (isChainField(f)) continue;
    if (f.type === 'note' && hasNote) continue;
    const w = Math.max(6, Math.min(f.width || 12, 30));
    if (width + w > LIST_WIDTH && out.length >= 3) break;
    out.push(f);
    width += w;
    if (f.type === 'note') hasNote = true;
  }
  return out;
}

class LedgerList extends Screen {
  static properties = {
    ...Screen.properties,
    schema: { attribute: false },
    token: { type: String },
    data: { state: true },
    error: { state: true },
    state: { state: true },
  };

  constructor() {
    super();
    this.data = null;
    this.error = '';
    this.state = { q: '', sort: '', desc: false, filters: {}, page: 1 };
  }

  willUpdate(changed) {
    if (changed.has('token')) {
      this.state = { q: '', sort: '', desc: false, filters: {}, page: 1 };
      this.data = null;
      this.load();
    } else if (changed.has('lang') && changed.get('lang') !== undefined) {
      this.load();
    }
  }

  async load() {
    const token = this.token;
    const s = this.state;
    const params = { q: s.q, sort: s.sort, desc: s.desc ? 1 : '', page: s.page, per_page: PER_PAGE };
    for (const [k, v] of Object.entries(s.filters)) if (v) params[`f.${k}`] = v;
    try {
      const d = await api('GET', `/api/ledgers/${encodeURIComponent(token)}${query(params)}`);
      if (token !== this.token) return;
      this.data = d;
      this.error = '';
    } catch (e) {
      if (token !== this.token) return;
      this.data = null;
      this.error = errorText(e);
    }
  }

  set(patch) {
    this.state = { ...this.state, ...patch };
    this.load();
  }

  search(ev) {
    ev.preventDefault();
    const f = ev.target;
    const filters = {};
    for (const sel of f.querySelectorAll('select[data-filter]')) filters[sel.dataset.filter] = sel.value;
    this.set({ q: f.q.value.trim(), filters, page: 1 });
  }

  clear(ev) {
    ev.target.form.reset();
    this.set({ q: '', filters: {}, page: 1 });
  }

  sortBy(key) {
    const s = this.state;
    this.set({ sort: key, desc: s.sort === key ? !s.desc : false, page: 1 });
  }

  th(key, label) {
    const s = this.state;
    const cur = s.sort === key || (!s.sort && key === 'id');
    const dir = cur ? (s.desc ? 'descending' : 'ascending') : 'none';
    return html`<th scope="col" aria-sort=${dir} data-key=${key}><button type="button" class="sort"
      @click=${() => this.sortBy(key)} title=${t('ledger.sort.by', { name: label })}>${label}<span class="sort__mark"
      aria-hidden="true">${cur ? (s.desc ? '▼' : '▲') : '⇅'}</span></button></th>`;
  }

  chainCell(rec) {
    const chain = (this.schema && this.schema.chain) || [];
    const done = chain.filter((c) => rec.values && rec.values[`chain.${c.role}.at`]).length;
    const next = chain.find((c) => !(rec.values && rec.values[`chain.${c.role}.at`]));
    return html`<td class="nowrap" data-chain=${`${done}/${chain.length}`}>
      <span class="progress progress--small">${t('chain.progress', { done, total: chain.length })}</span>
      ${next ? html`<div class="help">${t('chain.next', { role: L(next) })}</div>` : nothing}</td>`;
  }

  render() {
    const found = findTable(this.schema, this.token);
    if (!found) return notice('error', t('ledger.unknown'));
    const { ledger, table } = found;
    const cols = listFields(table);
    const filterFields = (table.fields || []).filter((f) => FILTER_TYPES.includes(f.type));
    const d = this.data;
    const s = this.state;
    const incidents = table.token === 'incidents';
    return html`
      ${(ledger.tables || []).length > 1 ? html`<nav class="tabs" aria-label=${t('ledger.tables', { name: L(ledger) })}>
        ${ledger.tables.map((tb) => html`<a class="tabs__tab ${tb.token === table.token ? 'is-current' : ''}"
          href=${tableHref(tb.token)} data-table=${tb.token}
          aria-current=${tb.token === table.token ? 'page' : 'false'}>${L(tb)}</a>`)}</nav>` : nothing}
      <div class="toolbar">
        <h2 class="heading heading--2 toolbar__title ${(ledger.tables || []).length > 1 ? '' : 'visually-hidden'}" id="ledger-table-title">${L(table)}</h2>
        <div class="toolbar__buttons">
          ${hasPerm(this.session, 'ledgers') ? html`<a class="button button--secondary button--small xlsx"
            href="/api/ledgers/${encodeURIComponent(ledger.name)}.xlsx" download>${t('ledger.xlsx')}</a>` : nothing}
          ${table.can_add ? html`<a class="button button--primary button--small" id="ledger-add"
            href="#/ledgers?t=${encodeURIComponent(table.token)}&new=1">${incidents ? t('ledger.add.incident') : t('ledger.add')}</a>` : nothing}
        </div>
      </div>
      <form class="filters" id="ledger-filters" @submit=${(e) => this.search(e)} aria-label=${t('ledger.filter')}>
        <div class="field field--grow"><label for="lf-q">${t('ledger.q')}</label>
          <input id="lf-q" name="q" type="search" .value=${s.q}></div>
        ${filterFields.map((f) => html`<div class="field"><label for="lf-${f.key}">${L(f)}</label>
          <select id="lf-${f.key}" data-filter=${f.key}>
            <option value="">${t('common.all')}</option>
            ${(this.optionsOf(f) || []).map((o) => html`<option value=${o.value}
              ?selected=${s.filters[f.key] === o.value}>${o.label}</option>`)}
          </select></div>`)}
        <div class="filters__buttons">
          <button class="button button--primary" type="submit">${t('common.search')}</button>
          <button class="button button--text" type="button" @click=${(e) => this.clear(e)}>${t('common.clear')}</button>
        </div>
      </form>
      ${notice('error', this.error)}
      ${d === null ? (this.error ? nothing : html`<p>${t('app.loading')}</p>`)
        : (d.records || []).length === 0 ? html`<p class="empty" id="ledger-empty">${t('common.empty')}</p>`
        : html`<div class="table-wrap"><table class="table table--dense ledger-table" id="ledger-table" data-table=${table.token}>
          <thead><tr>${this.th('id', t('common.id'))}${cols.map((f) => this.th(f.key, L(f)))}
            ${incidents ? html`<th scope="col">${t('chain.title')}</th>` : nothing}</tr></thead>
          <tbody>${d.records.map((r) => html`<tr data-id=${r.id}>
            <td class="nowrap"><a class="link mono record-link" href=${recordHref(table.token, r.id)}>${r.id}</a></td>
            ${cols.map((f) => html`<td class=${f.type === 'note' ? 'cell-clamp' : ''} data-key=${f.key}>${valueView(this.schema, r, f, table.token)}</td>`)}
            ${incidents ? this.chainCell(r) : nothing}
          </tr>`)}</tbody></table></div>
          ${pager(d.page || s.page, d.per_page || PER_PAGE, d.total || 0, (p) => this.set({ page: p }))}`}`;
  }

  optionsOf(f) {
    return ledgerOptions(this.schema, f);
  }
}
customElements.define('sk-ledger-list', LedgerList);

class Ledgers extends Screen {
  static properties = {
    ...Screen.properties,
    schema: { state: true },
    error: { state: true },
    year: { state: true },
  };

  constructor() {
    super();
    this.schema = null;
    this.error = '';
    this.year = 0;
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  willUpdate(changed) {
    if (changed.has('lang') && changed.get('lang') !== undefined) this.load();
  }

  async load(force = false) {
    try {
      this.schema = await loadSchema(force);
      this.error = '';
      if (!this.year) this.year = fiscalYear(this.schema.today);
    } catch (e) {
      this.error = errorText(e);
    }
  }

  subnav(view, token) {
    const s = this.schema;
    const cur = view || (token ? (findTable(s, token) || {}).ledger?.name : '');
    const reader = hasPerm(this.session, 'ledgers');
    const hasInspections = (s.ledgers || []).some((l) => l.name === 'inspections');
    const link = (id, href, label) => html`<li><a class="subnav__link ${cur === id ? 'is-current' : ''}"
      href=${href} data-nav=${id} aria-current=${cur === id ? 'page' : 'false'}>${label}</a></li>`;
    // one ledger and nothing else (a reporter of incidents): no menu of one link
    if (!reader && (s.ledgers || []).length <= 1) return nothing;
    return html`<nav class="subnav" aria-label=${t('ledger.nav')}><ul>
      ${reader || (s.ledgers || []).length > 1 ? link('', '#/ledgers', t('ledger.home')) : nothing}
      ${(s.ledgers || []).map((l) => link(l.name, tableHref(l.tables[0].token), L(l)))}
      ${reader && hasInspections ? link('inspect', '#/ledgers?v=inspect', t('insp.nav')) : nothing}
      ${reader ? link('charts', '#/ledgers?v=charts', t('lchart.nav')) : nothing}
    </ul></nav>`;
  }

  home() {
    const s = this.schema;
    const reader = hasPerm(this.session, 'ledgers');
    const years = [];
    const fy = fiscalYear(s.today);
    for (let y = fy; y > fy - 5; y--) years.push(y);
    return html`<div class="ledger-cards">${(s.ledgers || []).map((l) => html`<section class="card ledger-card" data-ledger=${l.name}>
        <h2 class="heading heading--3"><a href=${tableHref(l.tables[0].token)}>${L(l)}</a></h2>
        ${l.tables.length > 1 ? html`<ul class="plain">${l.tables.map((tb) => html`<li><a href=${tableHref(tb.token)}>${L(tb)}</a></li>`)}</ul>` : nothing}
        ${reader ? html`<p class="ledger-card__xlsx"><a class="xlsx" href="/api/ledgers/${encodeURIComponent(l.name)}.xlsx" download>${t('ledger.xlsx')}</a></p>` : nothing}
      </section>`)}</div>
      ${reader ? html`<section class="card" id="yearly-report">
        <h2 class="heading heading--3">${t('report.title')}</h2>
        <p class="help">${t('report.lead')}</p>
        <div class="report-row">
          <div class="field"><label for="report-year">${t('report.year')}</label>
            <select id="report-year" @change=${(e) => { this.year = Number(e.target.value); }}>
              ${years.map((y) => html`<option value=${y} ?selected=${y === this.year}>${t('report.fy', { year: y, next: y + 1 })}</option>`)}
            </select></div>
          <a class="button button--secondary" id="report-xlsx" href="/api/report/${this.year}.xlsx" download>${t('report.xlsx')}</a>
          <a class="button button--secondary" id="report-pdf" href="/api/report/${this.year}.pdf" download>${t('report.pdf')}</a>
        </div>
      </section>` : nothing}`;
  }

  render() {
    const s = this.schema;
    if (!s) {
      return html`<h1 class="heading">${t('ledger.title')}</h1>
        ${this.error ? notice('error', this.error) : html`<p>${t('app.loading')}</p>`}`;
    }
    const p = this.params || {};
    let token = p.t || '';
    // a user who reads only the incidents (incident-report) goes straight to them
    if (!token && !p.v && !hasPerm(this.session, 'ledgers') && (s.ledgers || []).length === 1) {
      token = s.ledgers[0].tables[0].token;
    }
    const found = token ? findTable(s, token) : null;
    let body;
    if (p.v === 'inspect') {
      body = html`<sk-inspection .session=${this.session} .schema=${s} lang=${this.lang}></sk-inspection>`;
    } else if (p.v === 'charts') {
      body = html`<sk-ledger-charts .session=${this.session} .schema=${s} lang=${this.lang}></sk-ledger-charts>`;
    } else if (token && !found) {
      body = notice('error', t('ledger.unknown'));
    } else if (found && (p.id || p.new)) {
      body = html`<sk-ledger-record .session=${this.session} .schema=${s} lang=${this.lang}
        token=${found.table.token} rid=${p.id || ''} mode=${p.new ? 'new' : p.edit ? 'edit' : 'view'}
        @sk-schema=${() => this.load(true)}></sk-ledger-record>`;
    } else if (found) {
      body = html`<sk-ledger-list .session=${this.session} .schema=${s} lang=${this.lang}
        token=${found.table.token}></sk-ledger-list>`;
    } else {
      body = this.home();
    }
    const title = found ? L(found.ledger) : p.v === 'inspect' ? t('insp.title') : p.v === 'charts' ? t('lchart.title') : t('ledger.title');
    return html`<h1 class="heading" id="ledger-title">${title}</h1>
      ${!found && !p.v ? html`<p class="lead">${hasPerm(this.session, 'ledgers') ? t('ledger.lead') : t('ledger.lead.report')}</p>` : nothing}
      ${this.subnav(p.v, found && found.table.token)}
      ${notice('error', this.error)}
      ${body}`;
  }
}
customElements.define('sk-ledgers', Ledgers);
