// ファイル送信 (internet-side listener): drag-and-drop or a file chooser; each file is
// POST /api/items?name=… (raw body) and its verdict shown with the reason in words.
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { bytes } from '../format.js';
import { Screen, verdictBadge, reasonText, actionsList, isPpap, nextStep } from '../ui.js';

let seq = 0;

class Upload extends Screen {
  static properties = { ...Screen.properties, results: { state: true }, over: { state: true }, asset: { state: true } };

  constructor() {
    super();
    this.results = []; // {key, name, size, state: 'sending'|'done'|'error', item, error}
    this.over = false;
    this.asset = ''; // an asset of the ledger the files are (optional): its class decides
  }

  async send(files) {
    for (const file of files) {
      const r = { key: ++seq, name: file.name, size: file.size, state: 'sending', item: null, error: '' };
      this.results = [r, ...this.results];
      try {
        r.item = await api('POST', `/api/items${query({ name: file.name, asset: this.asset.trim() })}`, { body: file });
        r.state = 'done';
      } catch (e) {
        r.state = 'error';
        r.error = errorText(e);
      }
      this.results = [...this.results];
    }
  }

  onDrop(ev) {
    ev.preventDefault();
    this.over = false;
    const files = [...(ev.dataTransfer ? ev.dataTransfer.files : [])];
    if (files.length) this.send(files);
  }

  onChoose(ev) {
    const files = [...ev.target.files];
    ev.target.value = '';
    if (files.length) this.send(files);
  }

  row(r) {
    const it = r.item;
    let verdict;
    let detail;
    if (r.state === 'sending') {
      verdict = html`<span class="badge badge--pending">${t('upload.sending')}</span>`;
      detail = nothing;
    } else if (r.state === 'error') {
      verdict = verdictBadge('error');
      detail = html`<p class="text-error">${r.error}</p>`;
    } else {
      verdict = verdictBadge(it.verdict);
      let next;
      if (isPpap(it)) {
        // a PPAP zip: what it is and where to type its password
        next = html`<div class="hint hint--ppap">
          <p>${t('upload.ppap')}</p>
          <p><a class="button button--secondary button--small unlock-link"
            href="#/unlock?id=${encodeURIComponent(it.id)}">${t('upload.ppap.link')}</a></p></div>`;
      } else if (it.verdict === 'held') {
        next = html`<p class="help">${t('upload.next.held')}</p>`;
      } else if (it.verdict === 'blocked') {
        next = html`<p class="help">${nextStep(it)}</p>`;
      } else {
        next = html`<p class="help">${t('upload.next.ok')}</p>`;
      }
      detail = html`${reasonText(it) ? html`<p class="reason">${reasonText(it)}</p>` : nothing}
        ${actionsList(it)}
        ${next}`;
    }
    return html`<tr data-name=${r.name} data-state=${r.state}>
      <td class="cell-name"><span class="file-name">${r.name}</span>${it && it.id ? html`<div class="help mono">${t('common.id')}: ${it.id}</div>` : nothing}</td>
      <td class="num nowrap">${bytes(r.size)}</td>
      <td>${verdict}</td>
      <td>${detail}</td>
    </tr>`;
  }

  render() {
    return html`<h1 class="heading">${t('upload.title')}</h1>
      <p class="lead">${t('upload.lead')}</p>
      <div class="field upload-asset">
        <label for="upload-asset">${t('upload.asset')} <span class="opt">${t('optional')}</span></label>
        <p class="help" id="upload-asset-help">${t('upload.asset.help')}</p>
        <input id="upload-asset" class="input--ref mono" maxlength="23" autocomplete="off" placeholder="AS-0001"
          aria-describedby="upload-asset-help" .value=${this.asset} @input=${(e) => { this.asset = e.target.value; }}>
      </div>
      <div class="dropzone ${this.over ? 'is-over' : ''}" id="dropzone"
        @dragover=${(e) => { e.preventDefault(); this.over = true; }}
        @dragleave=${() => { this.over = false; }}
        @drop=${(e) => this.onDrop(e)}>
        <svg aria-hidden="true" viewBox="0 0 48 48" width="48" height="48" class="dropzone__icon">
          <path d="M24 6 L12 18 h8 v14 h8 V18 h8 Z" fill="currentColor"></path>
          <rect x="8" y="36" width="32" height="4" fill="currentColor"></rect>
        </svg>
        <p class="dropzone__text">${t('upload.drop')}</p>
        <p class="dropzone__or">${t('upload.or')}</p>
        <input id="upload-input" class="visually-hidden file-input" type="file" multiple
          @change=${(e) => this.onChoose(e)}>
        <label class="button button--primary" for="upload-input">${t('upload.choose')}</label>
      </div>
      <h2 class="heading heading--2">${t('upload.results')}</h2>
      ${this.results.length === 0 ? html`<p class="help">${t('upload.results.empty')}</p>` : html`
      <table class="table" id="upload-results">
        <thead><tr><th scope="col">${t('upload.col.name')}</th><th scope="col" class="num">${t('upload.col.size')}</th>
          <th scope="col">${t('upload.col.verdict')}</th><th scope="col">${t('upload.col.reason')}</th></tr></thead>
        <tbody>${this.results.map((r) => this.row(r))}</tbody>
      </table>`}
`;
  }
}
customElements.define('sk-upload', Upload);
