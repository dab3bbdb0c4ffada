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

// A password-protected zip held for its password (PPAP), as the gate reports it: blocked
// for `encrypted` and still held in the quarantine. POST /api/items/ID/unlock takes it.
export function isPpap(item) {
  return Boolean(item) && item.state === 'held' && item.reason === 'encrypted'
    && item.verdict !== 'clean' && item.verdict !== 'sanitized';
}

// What a reason code asks the person to do next (next.* in messages.js).
const nextOfReason = {
  malware: 'malware', encrypted: 'encrypted', executable: 'type', 'unknown-type': 'type',
  'unsupported-legacy-office': 'type', 'unsupported-rtf': 'type', 'unsupported-odf': 'type',
  malformed: 'malformed', 'limit-depth': 'limit', 'limit-size': 'limit', 'limit-entries': 'limit',
  'limit-ratio': 'limit', 'limit-pixels': 'limit', 'limit-nodes': 'limit', 'limit-time': 'limit',
  'limit-pages': 'limit',
  'unsafe-name': 'name', 'scan-unavailable': 'retry', 'internal-error': 'retry',
  'worker-crash': 'retry', interrupted: 'retry', 'policy-deny': 'policy', dlp: 'dlp',
};

// The next step for an item that cannot be downloaded as it is, in words ('' when there
// is nothing to do): a PPAP zip → unlock it, held → ask for its release, blocked → why
// and whom to ask.
export function nextStep(item) {
  if (!item || item.verdict === 'clean' || item.verdict === 'sanitized') return '';
  if (isPpap(item)) return t('next.ppap');
  if (item.verdict === 'held') {
    return item.state === 'release-requested' ? t('next.requested') : t('next.held');
  }
  return t(`next.${nextOfReason[item.reason] || 'other'}`);
}

// The actions of an item: the server sends the gate's report ({…, actions: […]}) or the
// list itself; each is {action, what, where, detail, count}.
export function actionsOf(item) {
  const a = item && item.actions;
  if (Array.isArray(a)) return a;
  return a && Array.isArray(a.actions) ? a.actions : [];
}

function codeText(prefix, code) {
  const key = `${prefix}.${code}`;
  const s = t(key);
  return s === key ? code : s;
}

// One action in words: "マクロ (VBA): 削除 — 見積書.docm:word/vbaProject.bin (docx)". The
// detail is shown only when it is a single token (a type or a name): the gate's longer
// details are English prose meant for the log.
export function actionText(a) {
  if (typeof a === 'string') return a;
  const what = a.what ? codeText('what', a.what) : '';
  const act = a.action ? codeText('action', a.action) : '';
  let s = what && act ? `${what}: ${act}` : what || act || a.text || '';
  if (a.count > 1) s += ` ×${a.count}`;
  if (a.detail && !/\s/.test(a.detail) && a.detail.length <= 80) s += ` (${a.detail})`;
  return s;
}

// Where an action was done, in the current language: the gate writes places as
// "ENTRY line 3:7", "line 4, column 2", "page 2", "obj 12" (after an archive entry's path).
export function whereText(where) {
  return String(where)
    .replace(/\bline (\d+)(?::|, column )(\d+)/g, (m, line, col) => t('where.linecol', { line, col }))
    .replace(/\bline (\d+)/g, (m, line) => t('where.line', { line }))
    .replace(/\bpage (\d+)/g, (m, page) => t('where.page', { page }))
    .replace(/\bobj (\d+)/g, (m, n) => t('where.obj', { n }));
}

// The actions list of an item (or of a report), shown as text, with where each was done.
export function actionsList(itemOrActions) {
  const list = Array.isArray(itemOrActions) ? itemOrActions : actionsOf(itemOrActions);
  if (list.length === 0) return nothing;
  return html`<ul class="actions">${list.map((a) => html`<li>${actionText(a)}${
    a.where ? html` <span class="where">${whereText(a.where)}</span>` : nothing}</li>`)}</ul>`;
}
