// ログイン: user name, password and the 6-digit TOTP code → POST /api/session.
import { html } from '../../vendor/lit.js';
import { api, errorText, ApiError } from '../api.js';
import { t } from '../i18n.js';
import { Screen, notice } from '../ui.js';

class Login extends Screen {
  static properties = { ...Screen.properties, busy: { state: true }, error: { state: true } };

  constructor() {
    super();
    this.busy = false;
    this.error = '';
  }

  async submit(ev) {
    ev.preventDefault();
    const f = ev.target;
    const user = f.user.value.trim();
    const password = f.password.value;
    const totp = f.totp.value.trim();
    if (!user || !password || !totp) {
      this.error = t('login.required');
      return;
    }
    if (!/^[0-9]{6}$/.test(totp)) {
      this.error = t('login.totp.invalid');
      f.totp.focus();
      return;
    }
    this.busy = true;
    this.error = '';
    try {
      const s = await api('POST', '/api/session', { json: { user, password, totp } });
      f.password.value = '';
      f.totp.value = '';
      this.dispatchEvent(new CustomEvent('sk-login', { detail: s, bubbles: true }));
    } catch (e) {
      f.password.value = '';
      f.totp.value = '';
      if (e instanceof ApiError && e.code === 'locked') this.error = t('login.locked');
      else if (e instanceof ApiError && e.status === 401) this.error = t('login.failed');
      else this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }

  render() {
    return html`<section class="card login" aria-labelledby="login-title">
      <h1 id="login-title" class="heading">${t('login.title')}</h1>
      <p class="lead">${t('login.lead')}</p>
      ${notice('error', this.error)}
      <form @submit=${(e) => this.submit(e)} novalidate>
        <div class="field">
          <label for="login-user">${t('login.user')} <span class="req">${t('required')}</span></label>
          <input id="login-user" name="user" autocomplete="username" autocapitalize="none"
            spellcheck="false" required>
        </div>
        <div class="field">
          <label for="login-password">${t('login.password')} <span class="req">${t('required')}</span></label>
          <input id="login-password" name="password" type="password" autocomplete="current-password" required>
        </div>
        <div class="field">
          <label for="login-totp">${t('login.totp')} <span class="req">${t('required')}</span></label>
          <p class="help" id="login-totp-help">${t('login.totp.help')}</p>
          <input id="login-totp" name="totp" class="input--code" inputmode="numeric" pattern="[0-9]{6}"
            maxlength="6" autocomplete="one-time-code" aria-describedby="login-totp-help" required>
        </div>
        <button class="button button--primary button--wide" type="submit" ?disabled=${this.busy}>
          ${this.busy ? t('login.busy') : t('login.submit')}</button>
      </form>
    </section>`;
  }
}
customElements.define('sk-login', Login);
