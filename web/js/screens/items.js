// 受け取り (LGWAN side): my items (or my section's / all, with the right), newest first,
// paginated, filtered by date, verdict and name; a download link where there is a result.
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { jst, bytes, dayStart, dayEnd } from '../format.js';
import { Screen, verdictBadge, stateText, reasonText, notice, pager, nextStep, actionsList, actionsOf } from '../ui.js';

const PER_PAGE = 20;

class Items extends Screen {
  static properties = {
    ...Screen.properties,
    data: { state: true },
    error: { state: true },
    filter: { state: true },
    page: { state: true },
    open: { state: true },
  };

  constructor() {
    super();
    this.data = null;
    this.error = '';
    this.filter = { since: '', until: '', verdict: '', name: '', scope: 'own' };
    this.page = 1;
    this.open = new Set(); // the ids whose details are shown
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  scopes() {
    const perms = new Set((this.session && this.session.perms) || []);
    const s = ['own'];
    if (perms.has('section-items') || perms.has('all-items')) s.push('section');
    if (perms.has('all-items')) s.push('all');
    return s;
  }

  async load() {
    this.error = '';
    try {
      const f = this.filter;
      this.data = await api('GET', `/api/items${query({
        page: this.page, per_page: PER_PAGE, since: dayStart(f.since), until: dayEnd(f.until),
        verdict: f.verdict, name: f.name, scope: f.scope === 'own' ? '' : f.scope,
      })}`);
    } catch (e) {
      this.data = null;
      this.error = errorText(e);
    }
  }

  search(ev) {
    ev.preventDefault();
    const f = ev.target;
    this.filter = {
      since: f.since.value, until: f.until.value, verdict: f.verdict.value,
      name: f.name.value.trim(), scope: f.scope ? f.scope.value : 'own',
    };
    this.page = 1;
    this.load();
  }

  clear(ev) {
    const f = ev.target.form;
    f.reset();
    this.filter = { since: '', until: '', verdict: '', name: '', scope: 'own' };
    this.page = 1;
    this.load();
  }

  row(i) {
    const perms = new Set((this.session && this.session.perms) || []);
    const mine = !i.submitter || i.submitter === this.session.user;
    const canRequest = mine && perms.has('request') && i.verdict === 'held' && i.state === 'held';
    return html`<tr data-id=${i.id} data-name=${i.name}>
      <td class="nowrap">${jst(i.received)}</td>
      <td class="cell-name">${i.name}<div class="help mono">${i.id}</div>
        <button type="button" class="disclosure detail-toggle" aria-expanded=${this.open.has(i.id) ? 'true' : 'false'}
          aria-controls="detail-${i.id}" @click=${() => this.toggle(i.id)}>${t('detail.summary')}</button></td>
      <td class="num nowrap">${bytes(i.size)}</td>
      <td>${verdictBadge(i.verdict)}</td>
      <td>${reasonText(i)}${nextStep(i) ? html`<p class="help next">${nextStep(i)}</p>` : nothing}</td>
      <td class="nowrap">${i.state_text || stateText(i.state, '')}</td>
      ${this.filter.scope !== 'own' ? html`<td>${i.submitter || ''}</td>` : nothing}
      <td class="nowrap">${i.has_content
        ? html`<a class="button button--secondary button--small download" download
            href="/api/items/${encodeURIComponent(i.id)}/content"
            aria-label=${t('items.download.label', { name: i.name })}>${t('items.download')}</a>`
        : canRequest
          ? html`<a class="link" href="#/request?id=${encodeURIComponent(i.id)}">${t('items.request')}</a>`
          : html`<span class="help">${t('items.nocontent')}</span>`}</td>
    </tr>`;
  }

  toggle(id) {
    const o = new Set(this.open);
    if (o.has(id)) o.delete(id);
    else o.add(id);
    this.open = o;
  }

  // the item's details, under its row when opened: route, when decided, what the reason
  // concerns and what was done to which part
  detail(i, cols) {
    if (!this.open.has(i.id)) return nothing;
    const zone = (z) => (z ? t(`zone.${z}`) : '');
    return html`<tr class="detail-row" id="detail-${i.id}" data-for=${i.id}><td colspan=${cols}>
      <dl class="dl item-detail">
        <dt>${t('detail.route')}</dt><dd>${zone(i.from)} → ${zone(i.to)}</dd>
        ${i.decided ? html`<dt>${t('detail.decided')}</dt><dd>${jst(i.decided)}</dd>` : nothing}
        ${i.reason_detail ? html`<dt>${t('detail.target')}</dt><dd class="cell-name">${i.reason_detail}</dd>` : nothing}
        <dt>${t('detail.actions')}</dt><dd>${actionsOf(i).length ? actionsList(i) : t('detail.none')}</dd>
      </dl></td></tr>`;
  }

  render() {
    const scopes = this.scopes();
    const d = this.data;
    return html`<h1 class="heading">${t('items.title')}</h1>
      <p class="lead">${t('items.lead')}</p>
      <form class="filters" @submit=${(e) => this.search(e)} aria-label=${t('items.filter')}>
        <div class="field"><label for="f-since">${t('common.since')}</label>
          <input id="f-since" name="since" type="date" .value=${this.filter.since}></div>
        <div class="field"><label for="f-until">${t('common.until')}</label>
          <input id="f-until" name="until" type="date" .value=${this.filter.until}></div>
        <div class="field"><label for="f-verdict">${t('items.verdict')}</label>
          <select id="f-verdict" name="verdict">
            <option value="">${t('common.all')}</option>
            ${['clean', 'sanitized', 'held', 'blocked'].map((v) => html`<option value=${v}
              ?selected=${this.filter.verdict === v}>${t(`verdict.${v}`)}</option>`)}
          </select></div>
        <div class="field field--grow"><label for="f-name">${t('items.name')}</label>
          <input id="f-name" name="name" .value=${this.filter.name}></div>
        ${scopes.length > 1 ? html`<div class="field"><label for="f-scope">${t('items.scope')}</label>
          <select id="f-scope" name="scope">${scopes.map((s) => html`<option value=${s}
            ?selected=${this.filter.scope === s}>${t(`scope.${s}`)}</option>`)}</select></div>` : nothing}
        <div class="filters__buttons">
          <button class="button button--primary" type="submit">${t('common.search')}</button>
          <button class="button button--text" type="button" @click=${(e) => this.clear(e)}>${t('common.clear')}</button>
        </div>
      </form>
      ${notice('error', this.error)}
      ${d === null ? (this.error ? '' : html`<p>${t('app.loading')}</p>`)
        : d.items.length === 0 ? html`<p class="empty">${t('common.empty')}</p>`
        : html`<table class="table" id="items-table">
          <thead><tr>
            <th scope="col">${t('items.col.received')}</th><th scope="col">${t('items.col.name')}</th>
            <th scope="col" class="num">${t('items.col.size')}</th><th scope="col">${t('items.col.verdict')}</th>
            <th scope="col">${t('items.col.reason')}</th><th scope="col">${t('items.col.state')}</th>
            ${this.filter.scope !== 'own' ? html`<th scope="col">${t('items.col.submitter')}</th>` : nothing}
            <th scope="col">${t('items.col.action')}</th></tr></thead>
          <tbody>${d.items.map((i) => html`${this.row(i)}${this.detail(i, this.filter.scope !== 'own' ? 8 : 7)}`)}</tbody></table>
          ${pager(this.page, d.per_page || PER_PAGE, d.total || 0, (p) => { this.page = p; this.load(); })}`}`;
  }
}
customElements.define('sk-items', Items);
