// PPAP 解除 (internet-side listener): up to 5 passwords for a held encrypted zip →
// POST /api/items/ID/unlock; the new verdict and each entry's verdict shown. The passwords
// are cleared from the page once sent.
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { jst } from '../format.js';
import { Screen, verdictBadge, reasonText, notice } from '../ui.js';
import { isEncrypted } from './upload.js';

const MAX_PASSWORDS = 5;

class Unlock extends Screen {
  static properties = {
    ...Screen.properties,
    held: { state: true },
    count: { state: true },
    busy: { state: true },
    error: { state: true },
    result: { state: true },
    itemId: { state: true },
  };

  constructor() {
    super();
    this.held = null;
    this.count = 1;
    this.busy = false;
    this.error = '';
    this.result = null;
    this.itemId = '';
  }

  willUpdate(changed) {
    if (changed.has('params') && this.params && this.params.id) this.itemId = this.params.id;
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    try {
      const r = await api('GET', `/api/items${query({ verdict: 'held', per_page: 50 })}`);
      this.held = (r.items || []).filter((i) => isEncrypted(i) && i.state !== 'purged');
    } catch (e) {
      this.held = [];
      if (e.status !== 404) this.error = errorText(e);
    }
  }

  async submit(ev) {
    ev.preventDefault();
    const f = ev.target;
    const id = this.itemId.trim();
    const inputs = [...f.querySelectorAll('input[type=password]')];
    const passwords = inputs.map((i) => i.value).filter((v) => v !== '');
    this.result = null;
    if (!id) {
      this.error = t('unlock.need.id');
      return;
    }
    if (passwords.length === 0) {
      this.error = t('unlock.need.password');
      return;
    }
    this.busy = true;
    this.error = '';
    try {
      this.result = await api('POST', `/api/items/${encodeURIComponent(id)}/unlock`,
        { json: { passwords: passwords.slice(0, MAX_PASSWORDS) } });
      this.load();
    } catch (e) {
      this.error = e instanceof ApiError && e.status === 501 ? t('unlock.notbuilt') : errorText(e);
    } finally {
      for (const i of inputs) i.value = '';
      this.busy = false;
    }
  }

  resultView() {
    const r = this.result;
    if (!r) return nothing;
    const entries = Array.isArray(r.entries) ? r.entries : [];
    return html`<section class="result" id="unlock-result" aria-live="polite">
      ${notice(r.verdict === 'blocked' ? 'warning' : 'success',
        t('unlock.done', { verdict: t(`verdict.${r.verdict}`) }),
        html`<p>${verdictBadge(r.verdict)} ${reasonText(r)}</p>`)}
      ${entries.length ? html`<h2 class="heading heading--3">${t('unlock.entries')}</h2>
      <table class="table"><thead><tr><th scope="col">${t('upload.col.name')}</th>
        <th scope="col">${t('upload.col.verdict')}</th><th scope="col">${t('upload.col.reason')}</th></tr></thead>
        <tbody>${entries.map((e) => html`<tr><td class="cell-name">${e.name}</td>
          <td>${verdictBadge(e.verdict)}</td><td>${e.reason_text || e.reason || ''}</td></tr>`)}</tbody></table>` : nothing}
    </section>`;
  }

  render() {
    const pw = [];
    for (let n = 1; n <= this.count; n++) {
      pw.push(html`<div class="field field--inline">
        <label for="unlock-pw-${n}">${t('unlock.password', { n })}</label>
        <input id="unlock-pw-${n}" type="password" autocomplete="off" spellcheck="false">
      </div>`);
    }
    return html`<h1 class="heading">${t('unlock.title')}</h1>
      <p class="lead">${t('unlock.lead')}</p>
      ${notice('error', this.error)}
      ${this.resultView()}
      <form class="card" @submit=${(e) => this.submit(e)} novalidate>
        <fieldset class="fieldset">
          <legend>${t('unlock.item')}</legend>
          <div class="field">
            <label for="unlock-id">${t('unlock.item.id')} <span class="req">${t('required')}</span></label>
            <p class="help">${t('unlock.item.help')}</p>
            <input id="unlock-id" class="mono" .value=${this.itemId} spellcheck="false"
              @input=${(e) => { this.itemId = e.target.value; }}>
          </div>
          <p class="label">${t('unlock.held')}</p>
          ${this.held === null ? html`<p class="help">${t('app.loading')}</p>`
            : this.held.length === 0 ? html`<p class="help">${t('unlock.held.empty')}</p>`
            : html`<ul class="choices">${this.held.map((i) => html`<li>
              <label class="choice"><input type="radio" name="unlock-item" .value=${i.id}
                .checked=${this.itemId === i.id} @change=${() => { this.itemId = i.id; }}>
                <span class="cell-name">${i.name}</span> <span class="help">${jst(i.received)} · ${i.id}</span></label></li>`)}</ul>`}
        </fieldset>
        <fieldset class="fieldset">
          <legend>${t('unlock.password', { n: '' }).trim()}</legend>
          <p class="help">${t('unlock.password.help')}</p>
          ${pw}
          ${this.count < MAX_PASSWORDS ? html`<button type="button" class="button button--text" id="unlock-add"
            @click=${() => { this.count += 1; }}>+ ${t('unlock.add')}</button>` : nothing}
        </fieldset>
        <button class="button button--primary" type="submit" id="unlock-submit" ?disabled=${this.busy}>
          ${this.busy ? t('unlock.busy') : t('unlock.submit')}</button>
      </form>`;
  }
}
customElements.define('sk-unlock', Unlock);
