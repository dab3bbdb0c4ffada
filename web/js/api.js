// The JSON API of docs/api.md: every changing request carries X-CSRF-Token; errors become
// ApiError with the server's code and message; 401 tells the app to show the login.
import { lang, t } from './i18n.js';

let csrf = null;

export function setCsrf(token) {
  csrf = token || null;
}

export class ApiError extends Error {
  constructor(status, code, message, messageEn, body) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.serverMessage = message || '';
    this.serverMessageEn = messageEn || '';
    this.body = body;
  }
}

const codeOfStatus = {
  400: 'bad-request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found',
  409: 'conflict', 413: 'too-large', 415: 'unsupported-media', 429: 'too-many-attempts',
  503: 'busy',
};

// The sentence to show for an error, in the current language: the server's own message
// (it says what exactly was refused), else ours for its code.
export function errorText(e) {
  if (e instanceof ApiError) {
    const server = lang() === 'en' ? e.serverMessageEn : e.serverMessage;
    if (server) return server;
    const key = `error.${e.code}`;
    const s = t(key);
    return s === key ? t('error.http', { status: e.status }) : s;
  }
  return t('error.network');
}

// method, path, {json: object | body: Blob, type}
export async function api(method, path, opts = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': lang() };
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = opts.type || 'application/octet-stream';
    body = opts.body;
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', '', '', null);
  }
  let data = null;
  if ((r.headers.get('Content-Type') || '').includes('json')) {
    data = await r.json().catch(() => null);
  }
  if (!r.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(r.status, e.code || codeOfStatus[r.status] || 'http', e.message,
      e.message_en, data);
    if (r.status === 401 && path !== '/api/session') {
      window.dispatchEvent(new CustomEvent('sk-unauthenticated'));
    }
    throw err;
  }
  return data;
}

// "?a=1&b=x" from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
