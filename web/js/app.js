// The console's shell: session, language switch, the menu of the screens this session's
// perms allow, and hash routing (#/items?page=2).
import { LitElement, html, nothing } from '../vendor/lit.js';
import { api, setCsrf, errorText } from './api.js';
import { lang, setLang, t } from './i18n.js';
import { notice } from './ui.js';
import './screens/login.js';
import './screens/upload.js';
import './screens/unlock.js';
import './screens/items.js';
import './screens/request.js';
import './screens/approve.js';
import './screens/audit.js';
import './screens/dashboard.js';
import './screens/users.js';
import './screens/ledgers.js';

// console: true → only on the console (LGWAN) listener; false → only on upload listeners.
// perms: any one of them is needed (empty: any logged-in user).
export const SCREENS = [
  { id: 'upload', tag: 'sk-upload', console: false, perms: ['upload'] },
  { id: 'unlock', tag: 'sk-unlock', console: false, perms: ['upload'] },
  { id: 'items', tag: 'sk-items', console: true, perms: ['download', 'section-items', 'all-items'] },
  { id: 'request', tag: 'sk-request', console: true, perms: ['request'] },
  { id: 'approve', tag: 'sk-approve', console: true, perms: ['approve', 'release-original'] },
  { id: 'audit', tag: 'sk-audit', console: true, perms: ['audit'] },
  { id: 'dashboard', tag: 'sk-dashboard', console: true, perms: [] },
  { id: 'ledgers', tag: 'sk-ledgers', console: true, perms: ['ledgers', 'incident-report'] },
  { id: 'users', tag: 'sk-users', console: true, perms: ['admin'] },
];

export function screensFor(session) {
  if (!session) return [];
  const perms = new Set(session.perms || []);
  return SCREENS.filter((s) => s.console === Boolean(session.console)
    && (s.perms.length === 0 || s.perms.some((p) => perms.has(p))));
}

function parseHash() {
  const h = location.hash.replace(/^#\/?/, '');
  const [id, q] = h.split('?');
  return { id: id || '', params: Object.fromEntries(new URLSearchParams(q || '')) };
}

class App extends LitElement {
  static properties = {
    session: { state: true },
    route: { state: true },
    lang: { state: true },
    loading: { state: true },
    error: { state: true },
  };

  constructor() {
    super();
    this.session = null;
    this.loading = true;
    this.error = '';
    this.lang = lang();
    this.route = parseHash();
    setLang(this.lang);
    window.addEventListener('hashchange', () => {
      const before = this.route.id;
      this.route = parseHash();
      // another screen starts at its top (a link from low in a long list would
      // otherwise open the next screen scrolled past its heading)
      if (this.route.id !== before) window.scrollTo(0, 0);
    });
    // the skip link must not change the route (#main is not a screen)
    document.querySelector('.skip')?.addEventListener('click', (e) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    });
    window.addEventListener('sk-unauthenticated', () => {
      this.session = null;
      setCsrf(null);
    });
  }

  createRenderRoot() {
    return this;
  }

  async connectedCallback() {
    super.connectedCallback();
    try {
      this.setSession(await api('GET', '/api/session'));
    } catch (e) {
      if (e.status !== 401) this.error = errorText(e);
    }
    this.loading = false;
  }

  setSession(s) {
    this.session = s;
    setCsrf(s ? s.csrf : null);
  }

  switchLang() {
    setLang(lang() === 'ja' ? 'en' : 'ja');
    this.lang = lang();
  }

  async logout() {
    try {
      await api('DELETE', '/api/session');
    } catch {
      /* the session is gone either way */
    }
    this.setSession(null);
    location.hash = '';
  }

  header() {
    const s = this.session;
    return html`<header class="header">
      <div class="header__brand">
        <svg class="header__logo" aria-hidden="true" viewBox="0 0 32 32" width="32" height="32">
          <rect x="2" y="6" width="28" height="4" fill="currentColor"></rect>
          <rect x="6" y="10" width="4" height="18" fill="currentColor"></rect>
          <rect x="22" y="10" width="4" height="18" fill="currentColor"></rect>
          <rect x="0" y="2" width="32" height="3" fill="currentColor"></rect>
        </svg>
        <span class="header__title">${t('app.title')}</span>
        ${s && s.zone ? html`<span class="zone zone--${s.zone}" data-zone=${s.zone}>${t(`zone.${s.zone}`)}</span>` : nothing}
      </div>
      <div class="header__tools">
        ${s ? html`<span class="header__user" data-user=${s.user}>${t('header.user', { name: s.name || s.user })}${
          s.section ? html` <span class="header__section">(${lang() === 'en' ? s.section_name_en || s.section : s.section_name || s.section})</span>` : nothing}</span>` : nothing}
        <button class="button button--text" id="lang-switch" lang=${lang() === 'ja' ? 'en' : 'ja'}
          aria-label=${t('lang.switch.label')} @click=${() => this.switchLang()}>${t('lang.switch')}</button>
        ${s ? html`<button class="button button--secondary button--small" id="logout"
          @click=${() => this.logout()}>${t('header.logout')}</button>` : nothing}
      </div>
    </header>`;
  }

  render() {
    if (this.loading) {
      return html`${this.header()}<main class="main main--center"><p>${t('app.loading')}</p></main>`;
    }
    if (!this.session) {
      return html`${this.header()}<main class="main main--center" id="main" tabindex="-1">
        ${notice('error', this.error)}
        <sk-login lang=${this.lang} @sk-login=${(e) => {
          this.error = '';
          this.setSession(e.detail);
        }}></sk-login></main>`;
    }
    const screens = screensFor(this.session);
    let cur = screens.find((s) => s.id === this.route.id);
    if (!cur && screens.length) cur = screens[0];
    return html`${this.header()}
      <div class="layout">
        <nav class="sidenav" aria-label=${t('nav.label')}>
          <ul>${screens.map((s) => html`<li><a href="#/${s.id}" data-screen=${s.id}
            class=${cur && cur.id === s.id ? 'is-current' : ''}
            aria-current=${cur && cur.id === s.id ? 'page' : 'false'}>${t(`nav.${s.id}`)}</a></li>`)}</ul>
        </nav>
        <main class="main" id="main" tabindex="-1">
          ${cur ? this.screen(cur) : notice('info', t('nav.none'))}
        </main>
      </div>`;
  }

  screen(s) {
    const p = this.route.id === s.id ? this.route.params : {};
    switch (s.tag) {
      case 'sk-upload': return html`<sk-upload .session=${this.session} lang=${this.lang} .params=${p}></sk-upload>`;
      case 'sk-unlock': return html`<sk-unlock .session=${this.session} lang=${this.lang} .params=${p}></sk-unlock>`;
      case 'sk-items': return html`<sk-items .session=${this.session} lang=${this.lang} .params=${p}></sk-items>`;
      case 'sk-request': return html`<sk-request .session=${this.session} lang=${this.lang} .params=${p}></sk-request>`;
      case 'sk-approve': return html`<sk-approve .session=${this.session} lang=${this.lang} .params=${p}></sk-approve>`;
      case 'sk-audit': return html`<sk-audit .session=${this.session} lang=${this.lang} .params=${p}></sk-audit>`;
      case 'sk-dashboard': return html`<sk-dashboard .session=${this.session} lang=${this.lang} .params=${p}></sk-dashboard>`;
      case 'sk-ledgers': return html`<sk-ledgers .session=${this.session} lang=${this.lang} .params=${p}></sk-ledgers>`;
      case 'sk-users': return html`<sk-users .session=${this.session} lang=${this.lang} .params=${p}></sk-users>`;
      default: return nothing;
    }
  }
}
customElements.define('sk-app', App);
