// Pieces every screen uses: the base class (light DOM, so that app.css applies), badges,
// notices and the pager. All text goes through lit's text bindings: never innerHTML.
import { LitElement, html, nothing } from '../vendor/lit.js';
import { t } from './i18n.js';

export class Screen extends LitElement {
  static properties = {
    session: { attribute: false },
    lang: { type: String },
    params: { attribute: false },
  };

  createRenderRoot() {
    return this;
  }
}

const verdictClass = {
  clean: 'badge--clean', sanitized: 'badge--sanitized', held: 'badge--held',
  blocked: 'badge--blocked', error: 'badge--blocked',
};

export function verdictBadge(v) {
  if (!v) return nothing;
  const key = `verdict.${v}`;
  const label = t(key);
  return html`<span class="badge ${verdictClass[v] || ''}" data-verdict=${v}>${label === key ? v : label}</span>`;
}

export function stateText(s, fallback) {
  if (!s) return fallback || '';
  const key = `state.${s}`;
  const v = t(key);
  return v === key ? fallback || s : v;
}

export function requestStateBadge(s) {
  const cls = { pending: 'badge--held', approved: 'badge--clean', refused: 'badge--blocked' }[s] || '';
  const key = `rstate.${s}`;
  const v = t(key);
  return html`<span class="badge ${cls}" data-state=${s}>${v === key ? s : v}</span>`;
}

export function kindText(k) {
  const key = `kind.${k}`;
  const v = t(key);
  return v === key ? k : v;
}

// kind: info | success | warning | error
export function notice(kind, text, extra) {
  if (!text) return nothing;
  return html`<div class="notice notice--${kind}" role=${kind === 'error' ? 'alert' : 'status'}>
    <p>${text}</p>${extra || nothing}</div>`;
}

export function pager(page, perPage, total, go) {
  if (!total) return nothing;
  const from = (page - 1) * perPage + 1;
  const to = Math.min(total, page * perPage);
  return html`<nav class="pager" aria-label=${t('common.page', { from, to, total })}>
    <button class="button button--secondary button--small" ?disabled=${page <= 1}
      @click=${() => go(page - 1)}>${t('common.prev')}</button>
    <span class="pager__status">${t('common.page', { from, to, total })}</span>
    <button class="button button--secondary button--small" ?disabled=${to >= total}
      @click=${() => go(page + 1)}>${t('common.next')}</button>
  </nav>`;
}

// Reason of an item in words: the server's text in the session's language, else its code.
export function reasonText(item) {
  return item.reason_text || item.reason || '';
}

// The actions list of an item: strings or {text|action} objects, shown as text.
export function actionsList(actions) {
  if (!Array.isArray(actions) || actions.length === 0) return nothing;
  return html`<ul class="actions">${actions.map((a) => html`<li>${
    typeof a === 'string' ? a : a.text || a.message || a.action || JSON.stringify(a)}</li>`)}</ul>`;
}
