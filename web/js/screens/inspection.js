// 自己点検 (#/ledgers?v=inspect): a section answers the checklist items of a period (実施 /
// 一部 / 未実施 / 該当なし and a comment); each answer is an inspections-answers record
// (added the first time, changed with its version after). Who holds ledger-all also
// generates the checklists (POST /api/checklists).
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { Screen, notice } from '../ui.js';
import { L, findTable, hasPerm, optionsOf, fiscalYear, timeText, inLang } from '../ledger.js';

const PAGE = 500;

async function all(token, params) {
  const out = [];
  for (let page = 1; page < 100; page++) {
    const d = await api('GET', `/api/ledgers/${token}${query({ ...params, per_page: PAGE, page })}`);
    out.push(...(d.records || []));
    if (out.length >= (d.total || 0) || (d.records || []).length === 0) break;
  }
  return out;
}

class Inspection extends Screen {
  static properties = {
    ...Screen.properties,
    schema: { attribute: false },
    periods: { state: true },
    sel: { state: true },
    items: { state: true },
    answers: { state: true },
    edits: { state: true },
    error: { state: true },
    message: { state: true },
    busy: { state: true },
    gen: { state: true },
    problems: { state: true },
  };

  constructor() {
    super();
    this.periods = [];
    this.sel = null;
    this.items = null;
    this.answers = new Map();
    this.edits = {};
    this.error = '';
    this.message = null;
    this.busy = false;
    this.gen = null;
    this.problems = {}; // item id → what the server said about its answer
  }

  get me() {
    return (this.schema && this.schema.me) || {};
  }

  connectedCallback() {
    super.connectedCallback();
    this.start();
  }

  willUpdate(changed) {
    if (changed.has('lang') && changed.get('lang') !== undefined && this.sel) {
      // what was said, was said in the other language
      this.message = null;
      this.problems = {};
      this.gen = null;
    }
  }

  async loadPeriods() {
    try {
      const c = await api('GET', '/api/ledger-charts');
      const ins = c.inspections || {};
      this.periods = ins.periods || [];
      return ins.period || this.periods[0] || '';
    } catch {
      this.periods = [];
      return '';
    }
  }

  async start() {
    const s = this.schema;
    const period = (await this.loadPeriods()) || `${fiscalYear(s.today)}年度`;
    const sections = s.sections || [];
    const section = this.me.section || (sections[0] && sections[0].id) || '';
    this.sel = { period, kind: 'self', section };
    this.load();
  }

  canAnswer() {
    const answers = findTable(this.schema, 'inspections-answers');
    if (!answers || !answers.table.can_add) return false;
    if (hasPerm(this.session, 'ledger-all')) return true;
    return hasPerm(this.session, 'ledger-section') && this.sel.section === this.me.section;
  }

  async load() {
    const { period, kind, section } = this.sel;
    this.error = '';
    try {
      const items = await all('inspections-checklists', {
        'f.period': period, 'f.kind': kind, 'f.section': section, sort: 'id',
      });
      const answers = section ? await all('inspections-answers', { 'f.section': section }) : [];
      const ids = new Set(items.map((i) => i.id));
      const byItem = new Map();
      for (const a of answers) {
        const item = a.values && a.values.item;
        if (ids.has(item)) byItem.set(item, a);
      }
      if (this.sel.period !== period || this.sel.section !== section || this.sel.kind !== kind) return;
      this.items = items;
      this.answers = byItem;
      this.edits = {};
    } catch (e) {
      this.items = null;
      this.error = errorText(e);
    }
  }

  choose(ev) {
    ev.preventDefault();
    const f = ev.target;
    this.sel = { period: f.period.value, kind: f.kind.value, section: f.section.value };
    this.message = null;
    this.problems = {};
    this.items = null;
    this.load();
  }

  current(id) {
    const a = this.answers.get(id);
    const stored = { answer: (a && a.values.answer) || '', comment: (a && a.values.comment) || '' };
    return { ...stored, ...(this.edits[id] || {}) };
  }

  edit(id, patch) {
    this.edits = { ...this.edits, [id]: { ...(this.edits[id] || {}), ...patch } };
  }

  changed() {
    return Object.keys(this.edits).filter((id) => {
      const a = this.answers.get(id);
      const c = this.current(id);
      return c.answer !== ((a && a.values.answer) || '') || c.comment !== ((a && a.values.comment) || '');
    });
  }

  async save(ev) {
    ev.preventDefault();
    const ids = this.changed();
    if (!ids.length) {
      this.message = { kind: 'info', text: t('insp.nothing') };
      return;
    }
    this.busy = true;
    this.message = null;
    const failed = [];
    const problems = {};
    let saved = 0;
    for (const id of ids) {
      const c = this.current(id);
      const a = this.answers.get(id);
      try {
        if (a) {
          const values = { answer: c.answer, comment: c.comment, answered_by: this.me.name || this.me.user, date: this.schema.today };
          await api('POST', `/api/ledgers/inspections-answers/${encodeURIComponent(a.id)}`, { json: { version: a.version, values } });
        } else {
          if (!c.answer) {
            problems[id] = t('insp.need.answer');
            failed.push(`${id}: ${problems[id]}`);
            continue;
          }
          const values = { item: id, section: this.sel.section, answer: c.answer, answered_by: this.me.name || this.me.user, date: this.schema.today };
          if (c.comment) values.comment = c.comment;
          await api('POST', '/api/ledgers/inspections-answers', { json: { values } });
        }
        saved += 1;
      } catch (e) {
        const probs = e.body && (e.body.problems || (e.body.error && e.body.error.problems));
        const detail = Array.isArray(probs) && probs.length ? probs.map((p) => (this.lang === 'en' ? p.message_en || p.message : p.message)).join(' ') : errorText(e);
        problems[id] = e.status === 409 ? t('ledger.conflict') : detail;
        failed.push(`${id}: ${problems[id]}`);
      }
    }
    const kept = failed.length ? { ...this.edits } : null;
    await this.load();
    // what could not be saved stays on the screen, to be corrected
    if (kept) this.edits = Object.fromEntries(Object.entries(kept).filter(([id]) => id in problems));
    this.problems = problems;
    this.busy = false;
    this.message = failed.length
      ? { kind: 'error', text: t('insp.failed', { saved, failed: failed.length }), lines: failed }
      : { kind: 'success', text: t('insp.saved', { n: saved }) };
  }

  async generate(ev) {
    ev.preventDefault();
    const f = ev.target;
    const body = { period: f.period.value.trim(), kind: f.kind.value };
    if (f.section.value) body.section = f.section.value;
    this.gen = { busy: true };
    try {
      const r = await api('POST', '/api/checklists', { json: body });
      this.gen = { kind: 'success', text: t('insp.gen.done', { added: r.added ?? 0, skipped: r.skipped ?? 0 }) };
      await this.loadPeriods();
      if (body.period === this.sel.period) this.load();
    } catch (e) {
      this.gen = { kind: 'error', text: errorText(e) };
    }
  }

  summary() {
    const n = { done: 0, partial: 0, 'not-done': 0, na: 0, none: 0 };
    for (const i of this.items) {
      const a = this.answers.get(i.id);
      const v = a && a.values.answer;
      if (v && v in n) n[v] += 1;
      else n.none += 1;
    }
    const labels = this.answerOptions();
    return html`<ul class="insp-summary" id="insp-summary">${labels.map((o) => html`<li data-answer=${o.value}>
      <span class="insp-summary__label">${o.label}</span><span class="insp-summary__n">${n[o.value] || 0}</span></li>`)}
      <li data-answer="none"><span class="insp-summary__label">${t('insp.unanswered')}</span><span class="insp-summary__n">${n.none}</span></li></ul>`;
  }

  answerOptions() {
    const found = findTable(this.schema, 'inspections-answers');
    const f = found && (found.table.fields || []).find((x) => x.key === 'answer');
    return (f && optionsOf(this.schema, f)) || [];
  }

  item(i, editable) {
    const c = this.current(i.id);
    const a = this.answers.get(i.id);
    const dirty = this.changed().includes(i.id);
    const problem = this.problems[i.id];
    return html`<li class="insp-item ${dirty ? 'is-dirty' : ''} ${problem ? 'field--error' : ''}" data-item=${i.id} data-answer=${c.answer}>
      <fieldset class="fieldset insp-item__set" ?disabled=${!editable || this.busy}>
        <legend class="insp-item__q"><span class="mono insp-item__id">${i.id}</span> <span class="cell-text">${inLang((i.text && i.text.requirement) || i.values.requirement)}</span></legend>
        <div class="insp-answers" role="radiogroup" aria-label=${t('insp.answer')}>
          ${this.answerOptions().map((o) => html`<label class="insp-answer insp-answer--${o.value}">
            <input type="radio" name="ans-${i.id}" value=${o.value} .checked=${c.answer === o.value}
              @change=${() => this.edit(i.id, { answer: o.value })}>${o.label}</label>`)}
        </div>
        ${problem ? html`<p class="text-error field-error insp-item__error" id="err-${i.id}">${problem}</p>` : nothing}
        <label class="visually-hidden" for="cm-${i.id}">${t('insp.comment')}</label>
        <textarea id="cm-${i.id}" class="insp-comment" rows="1" maxlength="2000" placeholder=${t('insp.comment')}
          aria-invalid=${problem ? 'true' : 'false'} aria-describedby=${problem ? `err-${i.id}` : nothing}
          .value=${c.comment} @input=${(e) => this.edit(i.id, { comment: e.target.value })}></textarea>
        ${a ? html`<p class="help insp-item__who">${t('insp.answered', { by: a.values.answered_by || a.updated_by || '—', when: timeText(a.updated) })}${dirty ? ` · ${t('insp.dirty')}` : ''}</p>`
          : dirty ? html`<p class="help insp-item__who">${t('insp.dirty')}</p>` : nothing}
      </fieldset></li>`;
  }

  genForm() {
    const s = this.schema;
    const fy = fiscalYear(s.today);
    const g = this.gen;
    return html`<details class="card gen" id="insp-generate" ?open=${Boolean(g)}>
      <summary class="heading heading--3">${t('insp.gen.title')}</summary>
      <p class="help">${t('insp.gen.lead')}</p>
      ${g && g.text ? notice(g.kind, g.text) : nothing}
      <form class="filters" @submit=${(e) => this.generate(e)}>
        <div class="field"><label for="gen-period">${t('insp.period')}</label>
          <input id="gen-period" name="period" required .value=${`${fy}年度`}></div>
        <div class="field"><label for="gen-kind">${t('insp.kind')}</label>
          <select id="gen-kind" name="kind">${this.kinds().map((o) => html`<option value=${o.value}>${o.label}</option>`)}</select></div>
        <div class="field"><label for="gen-section">${t('insp.section')}</label>
          <select id="gen-section" name="section"><option value="">${t('insp.gen.every')}</option>
            ${(s.sections || []).map((x) => html`<option value=${x.id}>${L(x)}</option>`)}</select></div>
        <div class="filters__buttons"><button class="button button--primary" type="submit" id="gen-submit"
          ?disabled=${g && g.busy}>${t('insp.gen.submit')}</button></div>
      </form></details>`;
  }

  kinds() {
    const found = findTable(this.schema, 'inspections-checklists');
    const f = found && (found.table.fields || []).find((x) => x.key === 'kind');
    return (f && optionsOf(this.schema, f)) || [{ value: 'self', label: 'self' }, { value: 'audit', label: 'audit' }];
  }

  render() {
    const s = this.schema;
    const sel = this.sel;
    if (!sel) return html`<p>${t('app.loading')}</p>`;
    const editable = this.canAnswer();
    const chapters = [];
    for (const i of this.items || []) {
      const ch = (i.values && i.values.chapter) || '—';
      let g = chapters.find((c) => c.name === ch);
      if (!g) chapters.push(g = { name: ch, items: [] });
      g.items.push(i);
    }
    const periods = this.periods.includes(sel.period) ? this.periods : [sel.period, ...this.periods];
    const m = this.message;
    return html`<p class="lead">${t('insp.lead')}</p>
      ${hasPerm(this.session, 'ledger-all') ? this.genForm() : nothing}
      <form class="filters" id="insp-select" @submit=${(e) => this.choose(e)} aria-label=${t('insp.select')}>
        <div class="field"><label for="insp-period">${t('insp.period')}</label>
          <select id="insp-period" name="period">${periods.map((p) => html`<option value=${p} ?selected=${p === sel.period}>${p}</option>`)}</select></div>
        <div class="field"><label for="insp-kind">${t('insp.kind')}</label>
          <select id="insp-kind" name="kind">${this.kinds().map((o) => html`<option value=${o.value} ?selected=${o.value === sel.kind}>${o.label}</option>`)}</select></div>
        <div class="field"><label for="insp-section">${t('insp.section')}</label>
          <select id="insp-section" name="section">${(s.sections || []).map((x) => html`<option value=${x.id} ?selected=${x.id === sel.section}>${L(x)}</option>`)}</select></div>
        <div class="filters__buttons"><button class="button button--primary" type="submit">${t('insp.show')}</button></div>
      </form>
      ${notice('error', this.error)}
      ${m ? html`<div id="insp-message">${notice(m.kind, m.text, m.lines ? html`${m.lines.map((l) => html`<p>${l}</p>`)}` : nothing)}</div>` : nothing}
      ${this.items === null ? (this.error ? nothing : html`<p>${t('app.loading')}</p>`)
        : this.items.length === 0 ? html`<p class="empty" id="insp-empty">${t('insp.empty')}</p>`
        : html`${this.summary()}
          ${editable ? nothing : html`<p class="help" id="insp-readonly">${t('insp.readonly')}</p>`}
          <form id="insp-form" @submit=${(e) => this.save(e)}>
            ${chapters.map((c) => html`<section class="insp-chapter" data-chapter=${c.name}>
              <h2 class="heading heading--3 insp-chapter__title">${c.name} <span class="help">(${c.items.length})</span></h2>
              <ol class="insp-list">${c.items.map((i) => this.item(i, editable))}</ol></section>`)}
            ${editable ? html`<div class="insp-save">
              <button class="button button--primary" type="submit" id="insp-save" ?disabled=${this.busy}>${this.busy ? t('insp.saving') : t('insp.save')}</button>
              <span class="help">${t('insp.changed', { n: this.changed().length })}</span></div>` : nothing}
          </form>`}`;
  }
}
customElements.define('sk-inspection', Inspection);
