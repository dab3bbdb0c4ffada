// What the console's browser tests share (browser.mjs, ledger_browser.mjs): TAP lines,
// TOTP codes, Debian's chromium through playwright-core, pages that record console errors
// and every changing API request, screenshots, the login form. Environment:
//   WEB          the web/ folder (node_modules/playwright-core, js/messages.js)
//   USERS        "name:base32secret,…", all with PASSWORD
//   SHOTS        folder for the screenshots
//   TAP_START    the number of the last TAP line the shell script printed; TAP_OUT: a file
//                that gets "count failures" at the end (finish())
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const env = process.env;
const WEB = env.WEB;
const { chromium } = await import(pathToFileURL(path.join(WEB, 'node_modules/playwright-core/index.mjs')).href);
export const { messages } = await import(pathToFileURL(path.join(WEB, 'js/messages.js')).href);
const PASSWORD = env.PASSWORD;
const SHOTS = env.SHOTS;
const SECRETS = Object.fromEntries(env.USERS.split(',').map((kv) => kv.split(':')));
fs.mkdirSync(SHOTS, { recursive: true });

let n = Number(env.TAP_START || 0);
let failures = 0;
export function ok(cond, desc, why) {
  n += 1;
  if (cond) {
    console.log(`ok ${n} - ${desc}`);
  } else {
    failures += 1;
    console.log(`not ok ${n} - ${desc}`);
    if (why) for (const l of String(why).split('\n').slice(0, 8)) console.log(`# ${l}`);
  }
  return cond;
}
export function diag(s) {
  for (const l of String(s).split('\n')) console.log(`# ${l}`);
}
// step(desc, fn): ok when fn returns without throwing and returns something other than
// false; the error is the diagnostic.
export async function step(desc, fn) {
  try {
    const r = await fn();
    return ok(r !== false, desc, r === false ? 'condition false' : '');
  } catch (e) {
    return ok(false, desc, e && e.stack ? e.stack : e);
  }
}

// need(value, what): a step that depends on an earlier one fails at once when it failed
export function need(v, what) {
  if (!v) throw new Error(`not tried: ${what} failed earlier`);
  return v;
}

// ---- TOTP: a code for a 30 s step never used before by that user (the server may refuse
// a replayed code); the next step's code is valid too (window 1), so at most one wait.
const lastStep = {};
export async function totp(user) {
  let now = Math.floor(Date.now() / 1000 / 30);
  let s = Math.max(now, (lastStep[user] ?? -1) + 1);
  while (s > now + 1) {
    await new Promise((r) => setTimeout(r, 1000));
    now = Math.floor(Date.now() / 1000 / 30);
  }
  lastStep[user] = s;
  const r = spawnSync('oathtool', ['--totp', '-b', SECRETS[user], '-N', `@${s * 30 + 1}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`oathtool: ${r.stderr}`);
  return r.stdout.trim();
}

// ---- the browser
// chromium in Japanese as on a municipal PC: its own texts (the date fields' 年/月/日) come
// from LANG/LANGUAGE and chromium-l10n, not from --lang alone
export const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  env: { ...process.env, LANG: 'ja_JP.UTF-8', LANGUAGE: 'ja' },
  args: ['--no-sandbox', '--ignore-certificate-errors', '--lang=ja-JP', '--disable-gpu',
    '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
export const problems = []; // console errors, page errors, CSP violations
export const changes = []; // every POST/PUT/PATCH/DELETE to /api/: {method, url, csrf}

export async function newPage() {
  const ctx = await browser.newContext({
    viewport: { width: 1366, height: 768 }, ignoreHTTPSErrors: true, acceptDownloads: true,
    locale: 'ja-JP', timezoneId: 'Asia/Tokyo',
  });
  ctx.setDefaultTimeout(20000);
  const page = await ctx.newPage();
  page.on('console', (m) => {
    // a refused request (401/403/404 on purpose) is logged by chromium as an error
    // "Failed to load resource": those are asserted through the API answers instead
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/') && !['GET', 'HEAD'].includes(r.method())) {
      changes.push({ method: r.method(), path: u.pathname, csrf: r.headers()['x-csrf-token'] || '' });
    }
  });
  return page;
}

// full: the whole page, or its first `full` pixels when a number (a long list)
export async function shot(page, name, full = false) {
  // a full page from its top; the pointer on the header, so that no hover highlight is
  // left where the last click was
  if (full) await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(1, 1);
  await page.waitForTimeout(100); // let lit finish its render
  await page.screenshot({
    path: path.join(SHOTS, `${name}.png`), fullPage: Boolean(full),
    ...(typeof full === 'number' ? { clip: { x: 0, y: 0, width: 1366, height: full } } : {}),
  });
}

export async function fitsWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

// Logs in through the form; returns the session JSON the server answered.
export async function login(page, base, user, code) {
  await page.goto(`${base}/`);
  await page.waitForSelector('#login-user');
  await page.fill('#login-user', user);
  await page.fill('#login-password', PASSWORD);
  await page.fill('#login-totp', code ?? await totp(user));
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/session' && r.request().method() === 'POST'),
    page.click('sk-login button[type=submit]'),
  ]);
  if (resp.status() !== 200) throw new Error(`POST /api/session: ${resp.status()} ${await resp.text()}`);
  await page.waitForSelector('nav.sidenav');
  return resp.json();
}

export async function menu(page) {
  return page.$$eval('nav.sidenav a', (as) => as.map((a) => a.dataset.screen));
}

export async function go(page, screen, ready) {
  await page.click(`nav.sidenav a[data-screen=${screen}]`);
  if (ready) await page.waitForSelector(ready);
}

// The end: the count of TAP lines and failures for the shell script, the browser closed.
export async function finish() {
  await browser.close();
  fs.writeFileSync(env.TAP_OUT, `${n} ${failures}\n`);
}
