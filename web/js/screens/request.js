// 申請 (LGWAN side): ask for the release of a held item with a reason
// (POST /api/items/ID/requests), and my requests with their approvals ("1/2 承認").
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { jst } from '../format.js';
import { Screen, notice, requestStateBadge, kindText } from '../ui.js';

export function progress(r) {
  const done = Array.isArray(r.approvals) ? r.approvals.length : 0;
  const needed = r.needed || Math.max(done, 1);
  return t('progress.approvals', { done, needed });
}

// a request's item: an object from the server, or an id
export function itemOf(r, names) {
  if (r.item && typeof r.item === 'object') return r.item;
  const id = r.item || r.item_id;
  return { id, name: r.item_name || (names && names.get(id)) || '' };
}

class Request extends Screen {
  static properties = {
    ...Screen.properties,
    held: { state: true },
    mine: { state: true },
    error: { state: true },
    done: { state: true },
    busy: { state: true },
    chosen: { state: true },
    kind: { state: true },
  };

  constructor() {
    super();
    this.held = null;
    this.mine = null;
    this.error = '';
    this.done = '';
    this.busy = false;
    this.chosen = '';
    this.kind = 'release';
    this.names = new Map();
  }

  willUpdate(changed) {
    if (changed.has('params') && this.params && this.params.id) this.chosen = this.params.id;
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    try {
      const r = await api('GET', `/api/items${query({ verdict: 'held', per_page: 100 })}`);
      const items = r.items || [];
      for (const i of items) this.names.set(i.id, i.name);
      this.held = items.filter((i) => i.state === 'held'
        && (!i.submitter || i.submitter === this.session.user));
      if (!this.chosen && this.held.length === 1) this.chosen = this.held[0].id;
    } catch (e) {
      this.held = null;
      this.error = errorText(e);
    }
    try {
      const r = await api('GET', '/api/requests');
      this.mine = (r.requests || []).filter((q) => !q.by || q.by === this.session.user);
    } catch (e) {
      this.mine = null;
      this.error = errorText(e);
    }
  }

  async submit(ev) {
    ev.preventDefault();
    const f = ev.target;
    const reason = f.reason.value.trim();
    this.done = '';
    if (!this.chosen) {
      this.error = t('request.need.item');
      return;
    }
    if (!reason) {
      this.error = t('request.need.reason');
      f.reason.focus();
      return;
    }
    this.busy = true;
    this.error = '';
    try {
      const r = await api('POST', `/api/items/${encodeURIComponent(this.chosen)}/requests`,
        { json: { kind: this.kind, reason } });
      this.done = t('request.done', { id: r.id });
      f.reason.value = '';
      this.chosen = '';
      await this.load();
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }

  form() {
    const kinds = ['release', 'original'];
    return html`<form class="card" id="request-form" @submit=${(e) => this.submit(e)} novalidate>
      <h2 class="heading heading--2">${t('request.new')}</h2>
      <fieldset class="fieldset">
        <legend>${t('request.item')} <span class="req">${t('required')}</span></legend>
        ${this.held === null ? (this.error ? '' : html`<p class="help">${t('app.loading')}</p>`)
          : this.held.length === 0 ? html`<p class="help">${t('request.item.empty')}</p>`
          : html`<ul class="choices">${this.held.map((i) => html`<li>
            <label class="choice"><input type="radio" name="item" .value=${i.id} .checked=${this.chosen === i.id}
              @change=${() => { this.chosen = i.id; }}>
              <span class="cell-name">${i.name}</span>
              <span class="help">${jst(i.received)} · ${i.reason_text || i.reason || ''}</span></label></li>`)}</ul>`}
      </fieldset>
      <fieldset class="fieldset">
        <legend>${t('request.kind')}</legend>
        ${kinds.map((k) => html`<label class="choice"><input type="radio" name="kind" .value=${k}
          .checked=${this.kind === k} @change=${() => { this.kind = k; }}>
          <span>${kindText(k)}</span><span class="help">${t(`request.kind.${k}.help`)}</span></label>`)}
      </fieldset>
      <div class="field">
        <label for="request-reason">${t('request.reason')} <span class="req">${t('required')}</span></label>
        <p class="help" id="request-reason-help">${t('request.reason.help')}</p>
        <textarea id="request-reason" name="reason" rows="3" maxlength="1000"
          aria-describedby="request-reason-help"></textarea>
      </div>
      <button class="button button--primary" type="submit" ?disabled=${this.busy}>${t('request.submit')}</button>
    </form>`;
  }

  render() {
    return html`<h1 class="heading">${t('request.title')}</h1>
      <p class="lead">${t('request.lead')}</p>
      ${notice('error', this.error)}
      ${notice('success', this.done)}
      ${this.form()}
      <h2 class="heading heading--2">${t('request.mine')}</h2>
      ${this.mine === null ? (this.error ? '' : html`<p>${t('app.loading')}</p>`)
        : this.mine.length === 0 ? html`<p class="empty">${t('request.mine.empty')}</p>`
        : html`<table class="table" id="my-requests"><thead><tr>
          <th scope="col">${t('request.col.at')}</th><th scope="col">${t('request.col.item')}</th>
          <th scope="col">${t('request.col.kind')}</th><th scope="col">${t('request.col.reason')}</th>
          <th scope="col">${t('request.col.state')}</th><th scope="col">${t('request.col.progress')}</th></tr></thead>
          <tbody>${this.mine.map((r) => {
            const it = itemOf(r, this.names);
            return html`<tr data-id=${r.id}>
            <td class="nowrap">${jst(r.at)}</td>
            <td class="cell-name">${it.name || it.id}<div class="help mono">${it.id}</div></td>
            <td>${kindText(r.kind)}</td><td class="cell-text">${r.reason}</td>
            <td>${requestStateBadge(r.state)}${r.comment ? html`<div class="help">${r.comment}</div>` : nothing}</td>
            <td class="nowrap">${progress(r)}</td></tr>`;
          })}</tbody></table>`}`;
  }
}
customElements.define('sk-request', Request);
