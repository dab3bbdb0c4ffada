// 利用者 (administrators): the console's users, their roles and whether they can log in.
import { html } from '../../vendor/lit.js';
import { api, errorText } from '../api.js';
import { lang, t } from '../i18n.js';
import { jst } from '../format.js';
import { Screen, notice } from '../ui.js';

class Users extends Screen {
  static properties = { ...Screen.properties, users: { state: true }, error: { state: true } };

  constructor() {
    super();
    this.users = null;
    this.error = '';
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    try {
      this.users = (await api('GET', '/api/users')).users || [];
    } catch (e) {
      this.users = null;
      this.error = errorText(e);
    }
  }

  state(u) {
    if (u.disabled) return html`<span class="badge badge--blocked">${t('users.state.disabled')}</span>`;
    if (u.locked_until && new Date(u.locked_until) > new Date()) {
      return html`<span class="badge badge--held">${t('users.state.locked', { until: jst(u.locked_until) })}</span>`;
    }
    return html`<span class="badge badge--clean">${t('users.state.active')}</span>`;
  }

  render() {
    return html`<h1 class="heading">${t('users.title')}</h1>
      <p class="lead">${t('users.lead')}</p>
      ${notice('error', this.error)}
      ${this.users === null ? (this.error ? '' : html`<p>${t('app.loading')}</p>`)
        : this.users.length === 0 ? html`<p class="empty">${t('common.empty')}</p>`
        : html`<table class="table" id="users-table"><thead><tr>
          <th scope="col" class="num">${t('users.col.id')}</th><th scope="col">${t('users.col.name')}</th>
          <th scope="col">${t('users.col.section')}</th><th scope="col">${t('users.col.roles')}</th>
          <th scope="col">${t('users.col.state')}</th></tr></thead>
          <tbody>${this.users.map((u) => html`<tr data-user=${u.name}>
            <td class="num">${u.id}</td><td>${u.name}</td><td>${(lang() === 'en' ? u.section_name_en : u.section_name) || u.section || ''}</td>
            <td>${(u.role_names || (u.roles || []).map((id) => ({ id }))).map((r) => (lang() === 'en' ? r.name_en : r.name) || r.id).join('、')}</td><td>${this.state(u)}</td></tr>`)}</tbody></table>`}`;
  }
}
customElements.define('sk-users', Users);
