// The ledgers (台帳) on the console: the schema of GET /api/ledgers (kept for the page's
// life, read again after a language switch or on demand), labels in the current language,
// values for people, the links between the ledger screens. All text goes out through
// lit's text bindings.
import { html, nothing } from '../vendor/lit.js';
import { api } from './api.js';
import { lang, t } from './i18n.js';
import { jst } from './format.js';

let cached = null; // { lang, promise }

// The schema (GET /api/ledgers); force: read it again.
export function loadSchema(force = false) {
  if (force || !cached || cached.lang !== lang()) {
    const promise = api('GET', '/api/ledgers');
    cached = { lang: lang(), promise };
    promise.catch(() => {
      if (cached && cached.promise === promise) cached = null;
    });
  }
  return cached.promise;
}

// The label of anything the API names in two languages ({ja, en} or {name, name_en}).
export function L(o) {
  if (o === null || o === undefined) return '';
  if (typeof o !== 'object') return String(o);
  if (lang() === 'en') return o.en || o.name_en || o.ja || o.name || o.code || o.id || '';
  return o.ja || o.name || o.en || o.name_en || o.code || o.id || '';
}

// {ledger, table} of a table token ("training-sessions"), or of a ledger's name alone.
export function findTable(schema, token) {
  for (const ledger of (schema && schema.ledgers) || []) {
    for (const table of ledger.tables || []) {
      if (table.token === token) return { ledger, table };
    }
    if (ledger.name === token && ledger.tables && ledger.tables.length) {
      return { ledger, table: ledger.tables[0] };
    }
  }
  return null;
}

export function hasPerm(session, p) {
  return Boolean(session && (session.perms || []).includes(p));
}

// Steps of the incident chain are fields too (chain.ROLE.at, chain.ROLE.by); they are
// signed through POST …/step and shown as the steps, not as form fields.
export function isChainField(f) {
  return f.key.startsWith('chain.');
}

// The fields a person types into (not computed, not the chain's, not attached files).
export function inputFields(table) {
  return (table.fields || []).filter((f) => f.type !== 'computed' && f.type !== 'files' && !isChainField(f));
}

// The files of a files field's stored value: lines "NAME (QUARANTINE-ID)" → [{name, item}].
export function filesOf(stored) {
  return String(stored || '').split('\n').map((line) => {
    const m = /^(.*) \((\d{8}-[0-9a-f]{8})\)$/.exec(line);
    return m ? { name: m[1], item: m[2] } : null;
  }).filter(Boolean);
}

// The download address of an attached file.
export function fileHref(token, id, item) {
  return `/api/ledgers/${encodeURIComponent(token)}/${encodeURIComponent(id)}/files?item=${encodeURIComponent(item)}`;
}

// [{value, label}] of a field with a closed set of values (choice, level, zone, section,
// bool); null for the others.
export function optionsOf(schema, f) {
  const norm = (o, fallback) => (typeof o === 'object' && o !== null
    ? { value: String(o.code ?? o.id ?? o.value ?? ''), label: L(o) || String(o.code ?? o.id ?? '') }
    : { value: String(o), label: fallback ? fallback(String(o)) : String(o) });
  switch (f.type) {
    case 'choice': return (f.choices || []).map((c) => norm(c));
    case 'level': return (f.levels || []).map((c) => norm(c));
    case 'zone': return ((schema && schema.zones) || []).map((z) => norm(z, (id) => {
      const k = `zone.${id}`;
      const s = t(k);
      return s === k ? id : s;
    }));
    case 'section': {
      const s = (schema && schema.sections) || [];
      return s.length ? s.map((x) => norm(x)) : null; // no sections: any text
    }
    case 'bool': return [{ value: 'yes', label: t('ledger.yes') }, { value: 'no', label: t('ledger.no') }];
    default: return null;
  }
}

// "YYYY-MM-DD HH:MM" (stored in local time, JST) → with the zone written; ISO times and
// µs since the epoch → jst().
export function timeText(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'number') return jst(v > 1e14 ? v / 1000 : v);
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(v)) return `${v} JST`;
  return jst(v);
}

// "YYYY-MM-DD HH:MM" ⇄ the value of <input type=datetime-local>
export function toLocalInput(v) {
  return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(v || '') ? `${v.slice(0, 10)}T${v.slice(11, 16)}` : (v || '');
}
export function fromLocalInput(v) {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v || '') ? `${v.slice(0, 10)} ${v.slice(11, 16)}` : (v || '');
}

// Now in JST as "YYYY-MM-DD HH:MM".
export function nowLocal() {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date()).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

// The fiscal year (April–March) of a "YYYY-MM-DD" day.
export function fiscalYear(day) {
  const m = /^(\d{4})-(\d{2})/.exec(day || '');
  if (!m) return new Date().getFullYear();
  return Number(m[2]) >= 4 ? Number(m[1]) : Number(m[1]) - 1;
}

export function recordHref(token, id) {
  return `#/ledgers?t=${encodeURIComponent(token)}&id=${encodeURIComponent(id)}`;
}
export function tableHref(token) {
  return `#/ledgers?t=${encodeURIComponent(token)}`;
}

// A record's value of field f for people (the server's text, else the stored value).
export function valueText(rec, f) {
  const text = (rec.text && rec.text[f.key]) ?? (rec.values && rec.values[f.key]);
  if (text === undefined || text === null || text === '') return '';
  if (f.type === 'datetime') return timeText(String(text));
  return String(text);
}

// A value shown in a list or the detail: references as links, notes keeping their lines,
// attached files as download links (token: the record's table).
export function valueView(schema, rec, f, token = '') {
  const stored = rec.values ? rec.values[f.key] : undefined;
  const text = valueText(rec, f);
  if (!text) return html`<span class="help">—</span>`;
  if ((f.type === 'ref' || f.type === 'refs') && f.ref && stored) {
    const ids = String(stored).split(/\s*,\s*/).filter(Boolean);
    const shown = ids.length === 1 && text !== stored ? text : '';
    return html`${ids.map((id, i) => html`${i ? ', ' : ''}<a class="link mono ref" href=${recordHref(f.ref, id)}>${id}</a>`)}${
      shown ? html` <span class="help">${shown}</span>` : nothing}`;
  }
  if (f.type === 'computed' || f.type === 'choice') {
    const bad = ['expired', 'overdue', 'open', 'high', 'not-done'];
    const cls = f.key === 'overdue' ? (stored === 'yes' ? 'badge--blocked' : '')
      : bad.includes(stored) ? 'badge--blocked'
        : ['expiring', 'medium', 'partial', 'pending'].includes(stored) ? 'badge--held'
          : ['valid', 'closed', 'done', 'low'].includes(stored) ? 'badge--clean' : '';
    if (cls) return html`<span class="badge ${cls}" data-value=${stored}>${text}</span>`;
  }
  if (f.type === 'files') {
    return html`<ul class="files">${filesOf(stored).map((x) => html`<li>${token
      ? html`<a class="link" href=${fileHref(token, rec.id, x.item)} download=${x.name}>${x.name}</a>`
      : x.name}</li>`)}</ul>`;
  }
  if (f.type === 'note') return html`<span class="cell-text">${text}</span>`;
  return html`${text}`;
}

// A text stored in both languages as "日本語\n(English)" (the generated checklists'
// requirements): the current language's part; any other text as it is.
export function inLang(text) {
  const m = /^([^\n]+)\n\(([^\n]+)\)$/.exec(String(text ?? ''));
  if (!m) return text;
  return lang() === 'en' ? m[2] : m[1];
}
