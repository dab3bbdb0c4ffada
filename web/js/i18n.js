// The console's language: Japanese by default, English when chosen (kept in localStorage).
import { messages } from './messages.js';

const KEY = 'sekisho.lang';
let current = 'ja';
try {
  if (localStorage.getItem(KEY) === 'en') current = 'en';
} catch {
  /* storage refused: stay in Japanese */
}

export function lang() {
  return current;
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'ja';
  try {
    localStorage.setItem(KEY, current);
  } catch {
    /* not kept: the switch still works for this page */
  }
  document.documentElement.lang = current;
  document.title = t('app.title');
}

// The string for key in the current language, {name} replaced by params.name. A missing
// key shows itself (and the key check in the browser test fails).
export function t(key, params) {
  let s = messages[current][key] ?? messages.ja[key] ?? key;
  if (params) {
    s = s.replace(/\{([a-z_]+)\}/g, (all, k) => (k in params ? String(params[k]) : all));
  }
  return s;
}
