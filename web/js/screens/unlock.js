// PPAP 解除 (internet-side listener): up to 5 passwords for a held password zip (the gate
// blocked it as `encrypted` and keeps it: ui.js isPpap) → POST /api/items/ID/unlock. The
// answer is said in words: a wrong password with the tries left, the limit reached (429),
// not unlockable (409), or the new verdict, what was done inside and where to download it.
// The passwords live only in the password fields: never in the URL, the state of this
// element or localStorage, and the fields are emptied as soon as they are sent.
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { jst } from '../format.js';
import { Screen, verdictBadge, reasonText, notice, isPpap, nextStep, actionsList } from '../ui.js';

const MAX_PASSWORDS = 5;

class Unlock extends Screen {
  static properties = {
    ...Screen.properties,
    held: { state: true },
    count: { state: true },
    busy: { state: true },
    error: { state: true },
    wrong: { state: true },
    result: { state: true },
    itemId: { state: true },
  };

  constructor() {
    super();
    this.held = null;
    this.count = 1;
    this.busy = false;
    this.error = '';
    this.wrong = null; // {tries_left} of the last wrong password
    this.result = null; // the answer of a successful unlock
    this.itemId = '';
  }

  willUpdate(changed) {
    if (changed.has('params') && this.params && this.params.id) this.itemId = this.params.id;
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.clearPasswords();
  }

  clearPasswords() {
    for (const i of this.querySelectorAll('input[type=password]')) i.value = '';
  }

  // the user's held PPAP zips (the gate reports them as blocked, reason encrypted)
  async load() {
    try {
      const r = await api('GET', `/api/items${query({ verdict: 'blocked', per_page: 50 })}`);
      this.held = (r.items || []).filter(isPpap);
    } catch (e) {
      this.held = [];
      this.error = errorText(e);
    }
  }

  async submit(ev) {
    ev.preventDefault();
    const f = ev.target;
    const id = this.itemId.trim();
    const inputs = [...f.querySelectorAll('input[type=password]')];
    const passwords = inputs.map((i) => i.value).filter((v) => v !== '');
    this.result = null;
    this.wrong = null;
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
    const send = api('POST', `/api/items/${encodeURIComponent(id)}/unlock`,
      { json: { passwords: passwords.slice(0, MAX_PASSWORDS) } });
    // sent: the fields are emptied now, whatever the answer
    for (const i of inputs) i.value = '';
    passwords.length = 0;
    try {
      const r = await send;
      if (r.wrong_password) {
        this.wrong = { tries_left: r.tries_left };
        const first = this.querySelector('#unlock-pw-1');
        if (first) first.focus();
      } else {
        // done: the form is ready for another zip
        this.result = r;
        this.itemId = '';
        this.count = 1;
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) this.error = t('unlock.toomany');
      else if (e instanceof ApiError && e.status === 409) this.error = t('unlock.conflict');
      else if (e instanceof ApiError && e.status === 404) this.error = t('unlock.notfound');
      else this.error = errorText(e);
    } finally {
      this.busy = false;
      this.load();
    }
  }

  resultView() {
    const r = this.result;
    if (!r) return nothing;
    const item = r.item || { verdict: r.verdict, reason: r.reason, reason_text: r.reason_text };
    const delivered = r.verdict === 'clean' || r.verdict === 'sanitized';
    const name = item.download_name || item.name || '';
    let next;
    if (delivered) next = t('unlock.get', { name });
    else next = nextStep(item);
    return html`<section class="result" id="unlock-result" aria-live="polite" data-verdict=${r.verdict}>
      ${notice(delivered ? 'success' : 'warning',
        t('unlock.done', { verdict: t(`verdict.${r.verdict}`) }),
        html`<p>${verdictBadge(r.verdict)} <span class="cell-name">${item.name || ''}</span>
          ${reasonText(r) ? html` — ${reasonText(r)}` : nothing}</p>
          ${next ? html`<p class="next">${next}</p>` : nothing}`)}
      ${r.item ? html`<h2 class="heading heading--3">${t('detail.actions')}</h2>
        ${actionsList(r.item)}` : nothing}
    </section>`;
  }

  render() {
    const pw = [];
    for (let n = 1; n <= this.count; n++) {
      pw.push(html`<div class="field field--inline">
        <label for="unlock-pw-${n}">${t('unlock.password', { n })}</label>
        <input id="unlock-pw-${n}" type="password" autocomplete="off" spellcheck="false"
          autocapitalize="off" aria-describedby=${this.wrong ? 'unlock-wrong' : nothing}>
      </div>`);
    }
    const chosen = this.held && this.held.find((i) => i.id === this.itemId.trim());
    return html`<h1 class="heading">${t('unlock.title')}</h1>
      <p class="lead">${t('unlock.lead')}</p>
      ${notice('error', this.error)}
      ${this.wrong ? html`<div class="notice notice--error" id="unlock-wrong" role="alert">
        <p>${this.wrong.tries_left === 0 ? t('unlock.wrong.last')
          : t('unlock.wrong', { n: this.wrong.tries_left ?? '?' })}</p></div>` : nothing}
      ${this.resultView()}
      <form class="card" @submit=${(e) => this.submit(e)} novalidate autocomplete="off">
        <fieldset class="fieldset">
          <legend>${t('unlock.item')}</legend>
          <div class="field">
            <label for="unlock-id">${t('unlock.item.id')} <span class="req">${t('required')}</span></label>
            <p class="help">${t('unlock.item.help')}</p>
            <input id="unlock-id" class="mono" .value=${this.itemId} spellcheck="false"
              @input=${(e) => { this.itemId = e.target.value; }}>
            ${chosen ? html`<p class="help" id="unlock-chosen">${t('unlock.selected', { name: chosen.name })}</p>` : nothing}
          </div>
          <p class="label">${t('unlock.held')}</p>
          ${this.held === null ? html`<p class="help">${t('app.loading')}</p>`
            : this.held.length === 0 ? html`<p class="help">${t('unlock.held.empty')}</p>`
            : html`<ul class="choices" id="unlock-held">${this.held.map((i) => html`<li>
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
