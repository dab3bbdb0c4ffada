// One ledger record: every value, the incident chain as steps (with 「報告を受けました」 for
// the holder of the next step's role), the history of changes, and the add/edit form made
// from the table's fields (problems of a 400 next to their fields, a 409 explained).
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query, ApiError } from '../api.js';
import { lang, t } from '../i18n.js';
import { Screen, notice, reasonText } from '../ui.js';
import {
  L, findTable, hasPerm, isChainField, inputFields, optionsOf, valueView, timeText, toLocalInput,
  fromLocalInput, nowLocal, recordHref, tableHref, filesOf, fileHref,
} from '../ledger.js';

// a message for the next screen (after a save the page goes to the record)
let flash = null;

const ACTION_KEYS = {
  'ledger.add': 'ledger.hist.add', 'ledger.update': 'ledger.hist.update', 'ledger.import': 'ledger.hist.import',
  'ledger.step': 'ledger.hist.step', 'ledger.attach': 'ledger.hist.attach', 'ledger.detach': 'ledger.hist.detach',
};

class LedgerRecord extends Screen {
  static properties = {
    ...Screen.properties,
    schema: { attribute: false },
    token: { type: String },
    rid: { type: String },
    mode: { type: String },
    rec: { state: true },
    error: { state: true },
    message: { state: true },
    values: { state: true },
    problems: { state: true },
    conflict: { state: true },
    busy: { state: true },
  };

  constructor() {
    super();
    this.rec = null;
    this.error = '';
    this.message = null;
    this.values = {};
    this.problems = null;
    this.conflict = false;
    this.busy = false;
    this.refs = {}; // table token → [{id, label}] for the references' choices
  }

  willUpdate(changed) {
    if (changed.has('token') || changed.has('rid') || changed.has('mode')) {
      this.problems = null;
      this.conflict = false;
      this.error = '';
      this.message = flash;
      flash = null;
      if (this.mode === 'new') {
        this.rec = null;
        this.values = this.defaults();
      } else {
        if (changed.has('rid') || changed.has('token')) this.rec = null;
        this.load();
      }
      if (this.mode !== 'view') this.loadRefs();
    } else if (changed.has('lang') && changed.get('lang') !== undefined) {
      // what was said, was said in the other language
      this.message = null;
      this.problems = null;
      if (this.mode === 'view') this.load();
    }
  }

  get found() {
    return findTable(this.schema, this.token);
  }

  get me() {
    return (this.schema && this.schema.me) || {};
  }

  defaults() {
    const v = {};
    const { table } = this.found || {};
    if (!table) return v;
    for (const f of inputFields(table)) {
      if (f.type === 'section' && this.me.section) v[f.key] = this.me.section;
    }
    if (table.token === 'incidents') {
      v.found_by = this.me.name || this.me.user || '';
      v.found_at = nowLocal();
      v.state = 'open';
    }
    return v;
  }

  async load() {
    const { token, rid } = this;
    try {
      const r = await api('GET', `/api/ledgers/${encodeURIComponent(token)}/${encodeURIComponent(rid)}`);
      if (token !== this.token || rid !== this.rid) return;
      this.rec = r;
      if (this.mode === 'edit') this.values = { ...(r.values || {}) };
      this.error = '';
    } catch (e) {
      this.rec = null;
      this.error = errorText(e);
    }
  }

  // the records of referenced tables, for the choices of ref/refs fields
  async loadRefs() {
    const { table } = this.found || {};
    if (!table || !hasPerm(this.session, 'ledgers')) return;
    for (const f of inputFields(table)) {
      if ((f.type !== 'ref' && f.type !== 'refs') || !f.ref || this.refs[f.ref]) continue;
      this.refs[f.ref] = [];
      try {
        const d = await api('GET', `/api/ledgers/${encodeURIComponent(f.ref)}?per_page=500`);
        const rt = findTable(this.schema, f.ref);
        const first = rt && (rt.table.fields || []).find((x) => x.type === 'text' || x.type === 'note');
        this.refs[f.ref] = (d.records || []).map((r) => ({
          id: r.id,
          label: first ? String((r.text && r.text[first.key]) || (r.values && r.values[first.key]) || '').slice(0, 60) : '',
        }));
        this.requestUpdate();
      } catch {
        /* typed by hand then */
      }
    }
  }

  // ---- the incident chain
  nextStep() {
    const chain = (this.schema && this.schema.chain) || [];
    const v = (this.rec && this.rec.values) || {};
    return chain.find((c) => !v[`chain.${c.role}.at`]) || null;
  }

  async sign(ev) {
    ev.preventDefault();
    const step = this.nextStep();
    const note = ev.target.note.value.trim();
    this.busy = true;
    this.message = null;
    try {
      await api('POST', `/api/ledgers/incidents/${encodeURIComponent(this.rid)}/step`, { json: note ? { note } : {} });
      ev.target.reset();
      await this.load();
      this.message = { kind: 'success', text: t('chain.signed', { role: L(step) }) };
    } catch (e) {
      let text = errorText(e);
      if (e instanceof ApiError && e.status === 409) text = t('chain.all.done');
      this.message = { kind: 'error', text };
      await this.load();
    } finally {
      this.busy = false;
    }
  }

  chain() {
    const chain = (this.schema && this.schema.chain) || [];
    const v = this.rec.values || {};
    const next = this.nextStep();
    const mine = next && (this.me.roles || []).includes(next.role);
    const first = next && chain.indexOf(next) === 0;
    return html`<section class="card chain-card" aria-labelledby="chain-title">
      <h2 class="heading heading--3" id="chain-title">${t('chain.title')}</h2>
      <ol class="steps" id="chain-steps">${chain.map((c, i) => {
        const at = v[`chain.${c.role}.at`];
        const by = v[`chain.${c.role}.by`];
        const state = at ? 'done' : c === next ? 'next' : 'waiting';
        return html`<li class="step step--${state}" data-role=${c.role} data-state=${state}>
          <span class="step__num" aria-hidden="true">${at ? '✓' : i + 1}</span>
          <div class="step__body">
            <span class="step__role">${L(c)}</span>
            <span class="step__state">${at ? t('chain.done') : c === next ? t('chain.waiting.next') : t('chain.waiting')}</span>
            ${at ? html`<span class="step__who">${by || '—'}</span><span class="step__when">${timeText(at)}</span>` : nothing}
          </div></li>`;
      })}</ol>
      ${!next ? html`<p class="help" id="chain-complete">${t('chain.complete')}</p>`
        : mine ? html`<form class="step-form" id="step-form" @submit=${(e) => this.sign(e)}>
          <div class="field"><label for="step-note">${t('chain.note')} <span class="opt">${t('optional')}</span></label>
            <p class="help" id="step-note-help">${t('chain.note.help')}</p>
            <textarea id="step-note" name="note" rows="2" maxlength="1000" aria-describedby="step-note-help"></textarea></div>
          <button class="button button--primary" type="submit" id="step-sign" ?disabled=${this.busy}>${first ? t('chain.sign.first') : t('chain.sign')}</button>
        </form>`
          : html`<p class="help" id="chain-wait">${t('chain.other', { role: L(next) })}</p>`}
    </section>`;
  }

  // ---- files attached through the gate (evidence)
  async attach(ev, f) {
    ev.preventDefault();
    const input = ev.target.querySelector('input[type=file]');
    const files = [...(input.files || [])];
    if (!files.length) return;
    this.busy = true;
    this.message = null;
    const { table } = this.found;
    const done = [];
    const refused = [];
    for (const file of files) {
      try {
        await api('POST', `/api/ledgers/${encodeURIComponent(table.token)}/${encodeURIComponent(this.rid)}/files${query({ name: file.name, field: f.key })}`,
          { body: file });
        done.push(file.name);
      } catch (e) {
        const item = e instanceof ApiError && e.body && e.body.error && e.body.error.item;
        refused.push(item ? t('ledger.files.blocked', { name: file.name, reason: reasonText(item) || item.reason || '' })
          : `${file.name}: ${errorText(e)}`);
      }
    }
    input.value = '';
    await this.load();
    this.busy = false;
    const parts = [];
    if (done.length) parts.push(t('ledger.files.attached', { names: done.join('、') }));
    parts.push(...refused);
    this.message = { kind: refused.length ? 'error' : 'success', text: parts.join(' ') };
  }

  async detach(f, x) {
    if (!window.confirm(t('ledger.files.remove.confirm', { name: x.name }))) return;
    const { table } = this.found;
    this.busy = true;
    try {
      await api('DELETE', `/api/ledgers/${encodeURIComponent(table.token)}/${encodeURIComponent(this.rid)}/files${query({ item: x.item, field: f.key })}`);
      await this.load();
      this.message = { kind: 'success', text: t('ledger.files.removed', { name: x.name }) };
    } catch (e) {
      this.message = { kind: 'error', text: errorText(e) };
      await this.load();
    } finally {
      this.busy = false;
    }
  }

  filesPanel(f) {
    const { table } = this.found;
    const r = this.rec;
    const list = filesOf(r.values && r.values[f.key]);
    const id = `files-${f.key}`;
    return html`<section class="card files-card" aria-labelledby="${id}-title" data-key=${f.key}>
      <h2 class="heading heading--3" id="${id}-title">${L(f)}</h2>
      <p class="help">${t('ledger.files.help')}</p>
      ${list.length === 0 ? html`<p class="empty" id="${id}-empty">${t('ledger.files.none')}</p>` : html`
      <ul class="file-list" id="${id}-list">${list.map((x) => html`<li data-item=${x.item}>
        <a class="link file-list__name" href=${fileHref(table.token, r.id, x.item)} download=${x.name}>${x.name}</a>
        <span class="help mono">${t('common.id')}: ${x.item}</span>
        ${r.can_edit ? html`<button class="button button--text button--small file-remove" type="button"
          ?disabled=${this.busy} @click=${() => this.detach(f, x)}
          aria-label=${t('ledger.files.remove.label', { name: x.name })}>${t('ledger.files.remove')}</button>` : nothing}
      </li>`)}</ul>`}
      ${r.can_edit ? html`<form class="files-form" id="${id}-form" @submit=${(e) => this.attach(e, f)}>
        <label for="${id}-input">${t('ledger.files.choose')}</label>
        <input id="${id}-input" type="file" multiple>
        <button class="button button--secondary button--small" type="submit" id="${id}-attach" ?disabled=${this.busy}>${t('ledger.files.attach')}</button>
      </form>` : nothing}
    </section>`;
  }

  history() {
    const h = this.rec.history || [];
    const { table } = this.found;
    const fieldOf = (k) => (table.fields || []).find((f) => f.key === k);
    const val = (f, v) => {
      if (v === null || v === undefined || v === '') return t('ledger.hist.empty');
      if (f && f.type === 'bool') return v === 'yes' ? t('ledger.yes') : v === 'no' ? t('ledger.no') : v;
      if (f) {
        const o = (optionsOf(this.schema, f) || []).find((x) => x.value === v);
        if (o) return o.label;
        if (f.type === 'datetime') return timeText(v);
      }
      return String(v);
    };
    return html`<section aria-labelledby="hist-title">
      <h2 class="heading heading--2" id="hist-title">${t('ledger.history')}</h2>
      ${h.length === 0 ? html`<p class="empty">${t('ledger.history.empty')}</p>` : html`
      <table class="table table--dense" id="ledger-history"><thead><tr>
        <th scope="col" class="num">${t('ledger.version')}</th><th scope="col">${t('ledger.hist.when')}</th>
        <th scope="col">${t('ledger.hist.by')}</th><th scope="col">${t('ledger.hist.action')}</th>
        <th scope="col">${t('ledger.hist.changes')}</th></tr></thead>
        <tbody>${h.map((x) => html`<tr data-version=${x.version}>
          <td class="num">${x.version}</td><td class="nowrap">${timeText(x.time)}</td><td>${x.by}</td>
          <td class="nowrap">${ACTION_KEYS[x.action] ? t(ACTION_KEYS[x.action]) : x.action}</td>
          <td><ul class="changes">${Object.entries(x.changes || {}).map(([k, ov]) => {
            const f = fieldOf(k);
            const [o, n] = Array.isArray(ov) ? ov : [null, ov];
            const empty = o === null || o === undefined || o === '';
            return html`<li data-key=${k}><span class="changes__field">${f ? L(f) : k}</span>:
              ${x.action === 'ledger.add' && empty ? nothing : html`<span class="changes__old ${empty ? 'is-empty' : ''}">${val(f, o)}</span> → `}<span class="changes__new">${val(f, n)}</span></li>`;
          })}</ul></td></tr>`)}</tbody></table>`}
    </section>`;
  }

  view() {
    const { table } = this.found;
    const r = this.rec;
    const fields = (table.fields || []).filter((f) => !isChainField(f) && f.type !== 'files');
    const fileFields = (table.fields || []).filter((f) => f.type === 'files');
    return html`
      <div class="toolbar">
        <h2 class="heading heading--2 toolbar__title" id="record-title"><span class="mono">${r.id}</span> <span class="toolbar__sub">${L(table)}</span></h2>
        <div class="toolbar__buttons">
          <a class="button button--text" href=${tableHref(table.token)}>${t('ledger.back')}</a>
          ${r.can_edit ? html`<a class="button button--primary button--small" id="record-edit"
            href="${recordHref(table.token, r.id)}&edit=1">${t('ledger.edit')}</a>` : nothing}
        </div>
      </div>
      ${table.token === 'incidents' && (this.schema.chain || []).length ? this.chain() : nothing}
      <dl class="dl dl--wide record" id="record">
        ${fields.map((f) => html`<dt data-key=${f.key}>${L(f)}</dt><dd data-key=${f.key}>${valueView(this.schema, r, f, table.token)}</dd>`)}
      </dl>
      ${fileFields.map((f) => this.filesPanel(f))}
      <p class="help record-meta">${t('ledger.meta', {
        version: r.version, created: timeText(r.created), created_by: r.created_by || '—',
        updated: timeText(r.updated), updated_by: r.updated_by || '—' })}</p>
      ${this.history()}`;
  }

  // ---- the form
  input(f) {
    const v = this.values[f.key] ?? '';
    const id = `lr-${f.key}`;
    const set = (val) => { this.values = { ...this.values, [f.key]: val }; };
    const probs = (this.problems && this.problems.byField[f.key]) || [];
    const describedBy = [probs.length ? `${id}-error` : '', f.type === 'datetime' || f.type === 'refs' ? `${id}-help` : ''].filter(Boolean).join(' ');
    const opts = optionsOf(this.schema, f);
    let control;
    if (opts) {
      const known = opts.some((o) => o.value === v);
      control = html`<select id=${id} name=${f.key} aria-invalid=${probs.length ? 'true' : 'false'}
        aria-describedby=${describedBy || nothing} @change=${(e) => set(e.target.value)}>
        <option value="" ?selected=${v === ''}>${t('ledger.choose')}</option>
        ${!known && v ? html`<option value=${v} selected>${v}</option>` : nothing}
        ${opts.map((o) => html`<option value=${o.value} ?selected=${o.value === v}>${o.label}</option>`)}
      </select>`;
    } else if (f.type === 'note') {
      control = html`<textarea id=${id} name=${f.key} rows="3" maxlength="2000" .value=${v}
        aria-invalid=${probs.length ? 'true' : 'false'} aria-describedby=${describedBy || nothing}
        @input=${(e) => set(e.target.value)}></textarea>`;
    } else if (f.type === 'date') {
      control = html`<input id=${id} name=${f.key} type="date" .value=${v} class="input--date"
        aria-invalid=${probs.length ? 'true' : 'false'} aria-describedby=${describedBy || nothing}
        @input=${(e) => set(e.target.value)}>`;
    } else if (f.type === 'datetime') {
      control = html`<input id=${id} name=${f.key} type="datetime-local" .value=${toLocalInput(v)} class="input--date"
        aria-invalid=${probs.length ? 'true' : 'false'} aria-describedby=${describedBy}
        @input=${(e) => set(fromLocalInput(e.target.value))}>`;
    } else {
      const list = (f.type === 'ref' || f.type === 'refs') && f.ref ? this.refs[f.ref] || [] : [];
      control = html`<input id=${id} name=${f.key} .value=${v} maxlength="2000"
        class=${f.type === 'ref' || f.type === 'refs' ? 'input--ref mono' : ''}
        list=${list.length ? `${id}-list` : nothing} autocomplete="off"
        aria-invalid=${probs.length ? 'true' : 'false'} aria-describedby=${describedBy || nothing}
        @input=${(e) => set(e.target.value)}>
        ${list.length ? html`<datalist id="${id}-list">${list.map((o) => html`<option value=${o.id}>${o.label}</option>`)}</datalist>` : nothing}`;
    }
    return html`<div class="field ${probs.length ? 'field--error' : ''}" data-key=${f.key}>
      <label for=${id}>${L(f)} ${f.required ? html`<span class="req">${t('required')}</span>` : html`<span class="opt">${t('optional')}</span>`}</label>
      ${f.type === 'datetime' ? html`<p class="help" id="${id}-help">${t('ledger.datetime.help')}</p>` : nothing}
      ${f.type === 'refs' ? html`<p class="help" id="${id}-help">${t('ledger.refs.help')}</p>` : nothing}
      ${probs.map((m, i) => html`<p class="text-error field-error" id=${i === 0 ? `${id}-error` : nothing}>${m}</p>`)}
      ${control}
    </div>`;
  }

  async save(ev) {
    ev.preventDefault();
    const { table } = this.found;
    const edit = this.mode === 'edit';
    const stored = (edit && this.rec && this.rec.values) || {};
    const values = {};
    for (const f of inputFields(table)) {
      const v = (this.values[f.key] ?? '').toString();
      if (edit) {
        if (v !== (stored[f.key] ?? '')) values[f.key] = v;
      } else if (v !== '') {
        values[f.key] = v;
      }
    }
    this.busy = true;
    this.problems = null;
    this.conflict = false;
    this.error = '';
    try {
      let r;
      if (edit) {
        r = await api('POST', `/api/ledgers/${encodeURIComponent(table.token)}/${encodeURIComponent(this.rid)}`,
          { json: { version: this.rec.version, values } });
      } else {
        r = await api('POST', `/api/ledgers/${encodeURIComponent(table.token)}`, { json: { values } });
      }
      flash = { kind: 'success', text: edit ? t('ledger.saved', { id: r.id }) : t('ledger.added', { id: r.id }) };
      location.hash = recordHref(table.token, r.id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.body && Array.isArray(e.body.problems || (e.body.error && e.body.error.problems))) {
        const list = e.body.problems || e.body.error.problems;
        const keys = new Set(inputFields(table).map((f) => f.key));
        const byField = {};
        const general = [];
        for (const p of list) {
          const msg = lang() === 'en' ? p.message_en || p.message : p.message || p.message_en;
          let key = p.field || '';
          if (key && !keys.has(key)) {
            const f = (table.fields || []).find((x) => x.ja === key || x.en === key);
            key = f ? f.key : key;
          }
          if (key && keys.has(key)) (byField[key] = byField[key] || []).push(msg);
          else general.push(key ? `${key}: ${msg}` : msg);
        }
        this.problems = { byField, general, count: list.length };
        await this.updateComplete;
        const first = this.querySelector('.field--error select, .field--error input, .field--error textarea');
        (this.querySelector('#form-problems') || first)?.focus();
      } else if (e instanceof ApiError && e.status === 409) {
        this.conflict = true;
      } else {
        this.error = errorText(e);
      }
    } finally {
      this.busy = false;
    }
  }

  async reloadAfterConflict() {
    this.conflict = false;
    await this.load();
    this.message = { kind: 'info', text: t('ledger.conflict.reloaded') };
  }

  form() {
    const { table } = this.found;
    const edit = this.mode === 'edit';
    if (edit && !this.rec) return nothing;
    if (edit && !this.rec.can_edit) return notice('warning', t('ledger.readonly'));
    if (!edit && !table.can_add) return notice('warning', t('ledger.readonly'));
    const pr = this.problems;
    return html`
      <div class="toolbar">
        <h2 class="heading heading--2 toolbar__title" id="form-title">${edit
          ? html`<span class="mono">${this.rid}</span> <span class="toolbar__sub">${t('ledger.edit.title', { table: L(table) })}</span>`
          : t('ledger.add.title', { table: L(table) })}</h2>
        <div class="toolbar__buttons"><a class="button button--text" href=${edit ? recordHref(table.token, this.rid) : tableHref(table.token)}>${t('ledger.cancel')}</a></div>
      </div>
      ${pr ? html`<div class="notice notice--error" role="alert" id="form-problems" tabindex="-1">
        <p>${t('ledger.invalid', { n: pr.count })}</p>
        ${pr.general.map((m) => html`<p>${m}</p>`)}</div>` : nothing}
      ${this.conflict ? html`<div class="notice notice--warning" role="alert" id="form-conflict">
        <p>${t('ledger.conflict')}</p>
        <p><button class="button button--secondary button--small" type="button" id="conflict-reload"
          @click=${() => this.reloadAfterConflict()}>${t('ledger.conflict.reload')}</button></p></div>` : nothing}
      <form class="card ledger-form" id="ledger-form" novalidate @submit=${(e) => this.save(e)}>
        <div class="form-grid">${inputFields(table).map((f) => this.input(f))}</div>
        <div class="buttons">
          <button class="button button--primary" type="submit" id="ledger-save" ?disabled=${this.busy}>${edit ? t('ledger.save') : t('ledger.register')}</button>
          <a class="button button--secondary" href=${edit ? recordHref(table.token, this.rid) : tableHref(table.token)}>${t('ledger.cancel')}</a>
        </div>
      </form>`;
  }

  render() {
    if (!this.found) return notice('error', t('ledger.unknown'));
    const m = this.message;
    return html`${m ? html`<div id="record-message">${notice(m.kind, m.text)}</div>` : nothing}
      ${notice('error', this.error)}
      ${this.mode === 'new' ? this.form()
        : !this.rec ? (this.error ? nothing : html`<p>${t('app.loading')}</p>`)
        : this.mode === 'edit' ? this.form() : this.view()}`;
  }
}
customElements.define('sk-ledger-record', LedgerRecord);
