// 承認 (LGWAN side): the pending requests this user may decide; approve or refuse with a
// comment. The two-person rule is shown ("1/2 承認", who approved). The server decides who
// may approve (never the requester): its refusal is shown as it says it. Held mail shows
// its envelope (sender, recipients) and its DLP findings (masked by the gate); once
// approved it is sent to the envelope, and a send the mail server did not take is shown
// with a button to send it again (POST /api/requests/{id}/send).
import { html, nothing } from '../../vendor/lit.js';
import { api, errorText, query } from '../api.js';
import { t } from '../i18n.js';
import { jst, bytes } from '../format.js';
import { Screen, notice, kindText, verdictBadge, reasonText, actionsOf, actionsList } from '../ui.js';
import { progress, itemOf } from './request.js';

// the DLP findings among an item's actions (the gate masked every number)
const DLP_WHAT = new Set(['mynumber', 'corporate-number', 'dlp-pattern', 'asset-marking', 'dlp-unscanned', 'dlp-truncated']);
function findings(item) {
  return actionsOf(item).filter((a) => a.action === 'noted' && DLP_WHAT.has(a.what));
}

// what happened to held mail after the decision ({sent, error} of the answer)
function mailText(mail) {
  if (!mail) return null;
  if (mail.sent) return { kind: 'success', text: t('approve.mail.sent') };
  if (mail.retry === false) return { kind: 'error', text: t('approve.mail.blocked', { error: mail.error || '' }) };
  return { kind: 'error', text: t('approve.mail.failed', { error: mail.error || '' }), retry: true };
}

class Approve extends Screen {
  static properties = {
    ...Screen.properties,
    requests: { state: true },
    error: { state: true },
    results: { state: true },
    busy: { state: true },
    decided: { state: true },
  };

  constructor() {
    super();
    this.requests = null;
    this.error = '';
    this.results = {}; // request id → {kind: 'success'|'error', text}
    this.busy = '';
    this.items = new Map();
    this.decided = [];
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    try {
      const r = await api('GET', `/api/requests${query({ state: 'pending' })}`);
      this.requests = r.requests || [];
      this.error = '';
      for (const q of this.requests) {
        const it = itemOf(q);
        if (it.id && !it.name && !this.items.has(it.id)) {
          this.items.set(it.id, null);
          api('GET', `/api/items/${encodeURIComponent(it.id)}`).then((i) => {
            this.items.set(it.id, i);
            this.requestUpdate();
          }).catch(() => {});
        }
      }
    } catch (e) {
      this.requests = null;
      this.error = errorText(e);
    }
  }

  async decide(r, action, card) {
    const comment = card.querySelector('textarea').value.trim();
    if (action === 'refuse' && !comment) {
      this.results = { ...this.results, [r.id]: { kind: 'error', text: t('approve.need.comment') } };
      return;
    }
    this.busy = r.id;
    try {
      const a = await api('POST', `/api/requests/${encodeURIComponent(r.id)}/${action}`, { json: { comment } });
      const req = a && a.request ? a.request : a;
      const mail = mailText(a && a.mail);
      let text;
      if (action === 'refuse') text = t('approve.done.refused');
      else if (req && req.state === 'approved') text = `${t('approve.done.approved', { progress: progress(req) })} ${mail ? '' : t('approve.done.released')}`;
      else text = t('approve.done.approved', { progress: progress(req || r) });
      card.querySelector('textarea').value = '';
      // the list first, then the result: the notice and the new "1/2 承認" show together
      await this.load();
      this.results = { ...this.results, [r.id]: { kind: 'success', text } };
      // a decided request leaves the pending list: keep its result visible above the list
      if (!(this.requests || []).some((q) => q.id === r.id)) {
        const name = (itemOf(r).name || (this.items.get(itemOf(r).id) || {}).name || itemOf(r).id);
        this.decided = [{ r: req || r, name, text, mail }, ...this.decided];
      }
    } catch (e) {
      this.results = { ...this.results, [r.id]: { kind: 'error', text: errorText(e) } };
    } finally {
      this.busy = '';
    }
  }

  // held mail the mail server did not take: send it again
  async sendAgain(d) {
    this.busy = d.r.id;
    try {
      const a = await api('POST', `/api/requests/${encodeURIComponent(d.r.id)}/send`, { json: {} });
      d.mail = mailText(a && a.mail);
    } catch (e) {
      d.mail = { kind: 'error', text: errorText(e) };
    } finally {
      this.busy = '';
      this.decided = [...this.decided];
    }
  }

  mailRows(it) {
    const env = it && it.envelope;
    if (!env) return nothing;
    const found = findings(it);
    return html`<dt>${t('approve.mail.from')}</dt><dd class="mono">${env.from || t('approve.mail.null')}</dd>
      <dt>${t('approve.mail.to')}</dt><dd><ul class="plain mono">${(env.to || []).map((a) => html`<li>${a}</li>`)}</ul></dd>
      <dt>${t('approve.findings')}</dt><dd class="findings">${found.length ? actionsList(found) : t('approve.findings.none')}</dd>`;
  }

  card(r) {
    const base = itemOf(r);
    const it = base.name ? base : this.items.get(base.id) || base;
    const own = r.by && r.by === this.session.user;
    const mine = (Array.isArray(r.approvals) ? r.approvals : []).some((a) => a.by === this.session.user);
    const res = this.results[r.id];
    const approvals = Array.isArray(r.approvals) ? r.approvals : [];
    return html`<article class="card request" data-id=${r.id} aria-labelledby="req-${r.id}">
      <header class="request__head">
        <h2 class="heading heading--3 cell-name" id="req-${r.id}">${it.name || it.id}</h2>
        <span class="progress" data-progress=${`${approvals.length}/${r.needed || 1}`}>${progress(r)}</span>
        ${own ? html`<span class="badge badge--own">${t('approve.own')}</span>` : nothing}
      </header>
      <dl class="dl">
        <dt>${t('approve.by')}</dt><dd>${r.by}</dd>
        <dt>${t('approve.at')}</dt><dd>${jst(r.at)}</dd>
        <dt>${t('approve.kind')}</dt><dd>${it.envelope && r.kind === 'release' ? t('approve.mail.kind') : kindText(r.kind)}</dd>
        <dt>${t('approve.item')}</dt><dd><span class="mono">${it.id}</span>
          ${it.verdict ? html` · ${verdictBadge(it.verdict)} ${reasonText(it)}` : nothing}
          ${typeof it.size === 'number' ? html` · ${bytes(it.size)}` : nothing}</dd>
        ${this.mailRows(it)}
        <dt>${t('approve.reason')}</dt><dd class="cell-text">${r.reason}</dd>
        <dt>${t('approve.approvals')}</dt><dd>${approvals.length === 0 ? t('approve.approvals.none')
          : html`<ul class="plain">${approvals.map((a) => html`<li>${a.by} · ${jst(a.at)}${a.comment ? html` · <span class="cell-text">${a.comment}</span>` : nothing}</li>`)}</ul>`}</dd>
      </dl>
      ${res ? notice(res.kind, res.text) : nothing}
      ${mine ? '' : html`<div class="field">
        <label for="comment-${r.id}">${t('approve.comment')} <span class="opt">${t('optional')}</span></label>
        <textarea id="comment-${r.id}" rows="2" maxlength="1000"></textarea>
      </div>`}
      ${mine ? notice('info', t('approve.already')) : html`<div class="buttons">
        <button class="button button--primary approve" ?disabled=${this.busy === r.id}
          @click=${(e) => this.decide(r, 'approve', e.target.closest('article'))}>${t('approve.approve')}</button>
        <button class="button button--danger refuse" ?disabled=${this.busy === r.id}
          @click=${(e) => this.decide(r, 'refuse', e.target.closest('article'))}>${t('approve.refuse')}</button>
      </div>`}
    </article>`;
  }

  render() {
    return html`<h1 class="heading">${t('approve.title')}</h1>
      <p class="lead">${t('approve.lead')}</p>
      ${notice('error', this.error)}
      ${this.decided.map((d) => html`<div class="decided" data-id=${d.r.id}>${notice('success', `${d.name}: ${d.text}`)}
        ${d.mail ? html`<div class="mail-outcome">${notice(d.mail.kind, d.mail.text)}</div>` : nothing}
        ${d.mail && d.mail.retry ? html`<div class="buttons"><button class="button send-again"
          ?disabled=${this.busy === d.r.id} @click=${() => this.sendAgain(d)}>${t('approve.mail.again')}</button></div>` : nothing}</div>`)}
      ${this.requests === null ? (this.error ? '' : html`<p>${t('app.loading')}</p>`)
        : this.requests.length === 0 ? html`<p class="empty">${t('approve.empty')}</p>`
        : this.requests.map((r) => this.card(r))}`;
  }
}
customElements.define('sk-approve', Approve);
