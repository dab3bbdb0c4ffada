// 監査ログ (auditors, administrators): the log filtered and paginated, the result of
// verifying it, and the inclusion proof of one record.
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { lang, t } from '../i18n.js';
import { jst, dayStart, dayEnd } from '../format.js';
import { Screen, notice, pager } from '../ui.js';

const PER_PAGE = 50;

class Audit extends Screen {
  static properties = {
    ...Screen.properties,
    data: { state: true },
    error: { state: true },
    verify: { state: true },
    proof: { state: true },
    page: { state: true },
  };

  constructor() {
    super();
    this.data = null;
    this.error = '';
    this.verify = null;
    this.proof = null;
    this.page = 1;
    this.filter = {};
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    try {
      this.data = await api('GET', `/api/audit${query({ ...this.filter, page: this.page, per_page: PER_PAGE })}`);
      this.error = '';
    } catch (e) {
      this.data = null;
      this.error = errorText(e);
    }
  }

  search(ev) {
    ev.preventDefault();
    const f = ev.target;
    this.filter = {
      since: dayStart(f.since.value), until: dayEnd(f.until.value), actor: f.actor.value.trim(),
      action: f.action.value.trim(), object: f.object.value.trim(),
    };
    this.page = 1;
    this.load();
  }

  async runVerify() {
    this.verify = { busy: true };
    try {
      this.verify = await api('GET', '/api/audit/verify');
    } catch (e) {
      this.verify = { ok: false, error: errorText(e) };
    }
  }

  async showProof(seq) {
    try {
      this.proof = await api('GET', `/api/audit/proof${query({ seq })}`);
    } catch (e) {
      this.proof = { seq, error: errorText(e) };
    }
    await this.updateComplete;
    const el = this.querySelector('#audit-proof');
    if (el) el.focus();
  }

  verifyView() {
    const v = this.verify;
    if (!v) return nothing;
    if (v.busy) return html`<p>${t('app.loading')}</p>`;
    if (v.error) return notice('error', v.error);
    const server = lang() === 'en' ? v.message_en : v.message;
    if (v.ok) {
      return html`<div id="audit-verify" data-ok="true">${notice('success', t('audit.verify.ok', {
        records: v.records ?? '—', checkpoints: v.checkpoints ?? '—', signed: v.signed_through ?? '—',
      }), server ? html`<p class="help">${server}</p>` : nothing)}</div>`;
    }
    return html`<div id="audit-verify" data-ok="false">${notice('error', t('audit.verify.bad'),
      server ? html`<p>${server}</p>` : nothing)}</div>`;
  }

  proofView() {
    const p = this.proof;
    if (!p) return nothing;
    const cp = p.checkpoint;
    return html`<section class="card proof" id="audit-proof" tabindex="-1" aria-labelledby="proof-title">
      <div class="proof__head">
        <h2 class="heading heading--3" id="proof-title">${t('audit.proof.title', { seq: p.seq })}</h2>
        <button class="button button--text" @click=${() => { this.proof = null; }}>${t('common.close')}</button>
      </div>
      ${p.error ? notice('error', p.error) : html`<dl class="dl dl--wide">
        <dt>${t('audit.proof.size')}</dt><dd>${p.size}</dd>
        <dt>${t('audit.proof.leaf')}</dt><dd class="mono hash">${p.leaf_hash}</dd>
        <dt>${t('audit.proof.root')}</dt><dd class="mono hash">${p.root}</dd>
        <dt>${t('audit.proof.path', { n: (p.proof || []).length })}</dt>
        <dd><ol class="hashes">${(p.proof || []).map((h) => html`<li class="mono hash">${h}</li>`)}</ol></dd>
        <dt>${t('audit.proof.checkpoint')}</dt><dd class="mono hash cell-text">${cp === null || cp === undefined ? '—'
          : typeof cp === 'object' ? `${cp.size ?? ''} ${cp.root ?? ''} ${cp.time ? jst(cp.time) : ''}`.trim()
          : String(cp)}</dd>
      </dl>`}
    </section>`;
  }

  render() {
    const d = this.data;
    return html`<h1 class="heading">${t('audit.title')}</h1>
      <p class="lead">${t('audit.lead')}</p>
      <form class="filters" @submit=${(e) => this.search(e)}>
        <div class="field"><label for="a-since">${t('common.since')}</label><input id="a-since" name="since" type="date"></div>
        <div class="field"><label for="a-until">${t('common.until')}</label><input id="a-until" name="until" type="date"></div>
        <div class="field"><label for="a-actor">${t('audit.actor')}</label><input id="a-actor" name="actor" size="12"></div>
        <div class="field"><label for="a-action">${t('audit.action')}</label><input id="a-action" name="action" size="12"></div>
        <div class="field field--grow"><label for="a-object">${t('audit.object')}</label><input id="a-object" name="object"></div>
        <div class="filters__buttons">
          <button class="button button--primary" type="submit">${t('common.search')}</button>
          <button class="button button--secondary" type="button" id="audit-verify-button"
            @click=${() => this.runVerify()}>${t('audit.verify')}</button>
        </div>
      </form>
      ${this.verifyView()}
      ${notice('error', this.error)}
      ${this.proofView()}
      ${d === null ? (this.error ? '' : html`<p>${t('app.loading')}</p>`)
        : d.records.length === 0 ? html`<p class="empty">${t('common.empty')}</p>`
        : html`<table class="table table--dense" id="audit-table"><thead><tr>
            <th scope="col" class="num">${t('audit.col.seq')}</th><th scope="col">${t('audit.col.time')}</th>
            <th scope="col">${t('audit.col.actor')}</th><th scope="col">${t('audit.col.action')}</th>
            <th scope="col">${t('audit.col.object')}</th><th scope="col">${t('audit.col.result')}</th>
            <th scope="col">${t('audit.col.detail')}</th><th scope="col"><span class="visually-hidden">${t('audit.proof')}</span></th></tr></thead>
          <tbody>${d.records.map((r) => html`<tr data-seq=${r.seq}>
            <td class="num">${r.seq}</td><td class="nowrap">${jst(r.time)}</td><td class="nowrap">${r.actor}</td>
            <td class="nowrap">${r.action}</td><td class="break col-object">${r.object}</td><td class="col-result">${r.result}</td>
            <td class="cell-text break">${typeof r.detail === 'object' && r.detail !== null ? JSON.stringify(r.detail) : r.detail}</td>
            <td class="nowrap"><button class="button button--text button--small proof-button" aria-label=${t('audit.proof.label', { seq: r.seq })}
              @click=${() => this.showProof(r.seq)}>${t('audit.proof')}</button></td></tr>`)}</tbody></table>
          ${pager(this.page, d.per_page || PER_PAGE, d.total || 0, (p) => { this.page = p; this.load(); })}`}`;
  }
}
customElements.define('sk-audit', Audit);
