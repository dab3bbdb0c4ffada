// The console in Debian's chromium, driven by playwright-core (TAP lines; browser.sh sets
// everything up and starts sekishod). Environment:
//   WEB          the web/ folder (node_modules/playwright-core, js/messages.js)
//   INTERNET     https://ADDR:PORT of the internet-zone listener
//   LGWAN        https://ADDR:PORT of the LGWAN-zone (console) listener
//   USERS        "name:base32secret,…" (tanaka: staff + security-manager, kacho and hosa:
//                security-manager, joho: sysadmin + auditor), all with PASSWORD
//   FILES        folder with the inputs (browser.sh makes them)
//   SHOTS        folder for the screenshots
//   TAP_START    the number of the last TAP line browser.sh printed; TAP_OUT: a file
//                that gets "count failures" at the end
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  env, ok, diag, step, need, totp, newPage, shot, fitsWidth, login, menu, go, problems, changes, messages,
  finish,
} from './browser_lib.mjs';

const { WEB } = env;
const INTERNET = env.INTERNET;
const LGWAN = env.LGWAN;
const PASSWORD = env.PASSWORD;
const FILES = env.FILES;
const SHOTS = env.SHOTS;

function zipNames(file) {
  const r = spawnSync('unzip', ['-Z1', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unzip -Z1 ${file}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

const T = messages.ja;
const E = messages.en;

// ---- 0. the messages file
{
  const ja = Object.keys(messages.ja).sort();
  const en = Object.keys(messages.en).sort();
  const onlyJa = ja.filter((k) => !(k in messages.en));
  const onlyEn = en.filter((k) => !(k in messages.ja));
  ok(onlyJa.length === 0 && onlyEn.length === 0 && ja.length > 100,
    `messages.js: every one of the ${ja.length} strings in Japanese and English`,
    `only ja: ${onlyJa.join(' ')}; only en: ${onlyEn.join(' ')}`);
  const used = new Set();
  for (const f of fs.readdirSync(path.join(WEB, 'js'), { recursive: true })) {
    if (!String(f).endsWith('.js')) continue;
    const src = fs.readFileSync(path.join(WEB, 'js', String(f)), 'utf8');
    for (const m of src.matchAll(/\bt\('([a-z0-9._-]+)'/g)) used.add(m[1]);
  }
  const missing = [...used].filter((k) => !(k in messages.ja));
  ok(missing.length === 0, `every t('key') in web/js names a message (${used.size} keys used)`, missing.join(' '));
}

// ---- 1. the internet side: login, upload, PPAP
const pi = await newPage();
await step('login page in Japanese (lang="ja", ログイン) with no console error', async () => {
  await pi.goto(`${INTERNET}/`);
  await pi.waitForSelector('#login-user');
  const lang = await pi.getAttribute('html', 'lang');
  const h = await pi.textContent('#login-title');
  await shot(pi, '01-login');
  if (lang !== 'ja' || h.trim() !== T['login.title']) throw new Error(`lang=${lang} heading=${h}`);
  return problems.length === 0 || (diag(problems.join('\n')), false);
});

await step('a wrong TOTP code is refused: 401 and the message shown', async () => {
  await pi.fill('#login-user', 'tanaka');
  await pi.fill('#login-password', PASSWORD);
  const good = await totp('tanaka');
  await pi.fill('#login-totp', good === '000000' ? '111111' : '000000');
  const [resp] = await Promise.all([
    pi.waitForResponse((r) => new URL(r.url()).pathname === '/api/session'),
    pi.click('sk-login button[type=submit]'),
  ]);
  await pi.waitForSelector('sk-app .notice--error');
  const msg = await pi.textContent('sk-app .notice--error');
  await shot(pi, '02-login-failed');
  if (resp.status() !== 401) throw new Error(`status ${resp.status()}`);
  return msg.includes(T['login.failed']) || (diag(msg), false);
});

let sessionInternet = null;
await step('tanaka logs in on the internet listener with password + TOTP', async () => {
  sessionInternet = await login(pi, INTERNET, 'tanaka');
  return sessionInternet.zone === 'internet' && sessionInternet.console === false
    && typeof sessionInternet.csrf === 'string' && sessionInternet.csrf.length > 0;
});

await step('internet side: the menu is ファイル送信 and PPAP 解除 only', async () => {
  const m = await menu(pi);
  return JSON.stringify(m) === JSON.stringify(['upload', 'unlock']) || (diag(m.join(',')), false);
});

const evilName = '<img src=x onerror="window.__xss=1">.txt';
const upload = {};
await step('upload (file chooser): the docm, the text with a 個人番号, the PPAP zip and an HTML-like name', async () => {
  const names = ['通知文.docm', '名簿.txt', '見積書.zip', evilName];
  const files = names.map((nm) => ({
    name: nm, mimeType: 'application/octet-stream',
    buffer: fs.readFileSync(path.join(FILES, nm === evilName ? 'evil.txt' : nm)),
  }));
  const answers = [];
  const onResp = async (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/items' && r.request().method() === 'POST') {
      answers.push({ status: r.status(), body: await r.json().catch(() => null), name: u.searchParams.get('name') });
    }
  };
  pi.on('response', onResp);
  await pi.setInputFiles('#upload-input', files);
  await pi.waitForFunction((k) => document.querySelectorAll('#upload-results tr[data-state=done], #upload-results tr[data-state=error]').length === k, names.length, { timeout: 120000 });
  await pi.waitForTimeout(200);
  pi.off('response', onResp);
  for (const a of answers) upload[a.name] = a;
  await shot(pi, '03-upload', true);
  const bad = answers.filter((a) => a.status !== 201);
  if (answers.length !== names.length || bad.length) throw new Error(JSON.stringify(answers));
  return true;
});

await step('upload results: the docm 無害化済み (its macro removal said in Japanese), the 個人番号 text 承認待ち, the PPAP zip held for its password with the hint and a link to PPAP 解除', async () => {
  const v = async (nm) => pi.$eval(`#upload-results tr[data-name="${nm}"] .badge`, (b) => [b.dataset.verdict, b.textContent.trim()]);
  const docm = await v('通知文.docm');
  const txt = await v('名簿.txt');
  const zip = await v('見積書.zip');
  const z = upload['見積書.zip'].body;
  const docmActions = await pi.$eval('#upload-results tr[data-name="通知文.docm"] .actions', (u) => u.textContent.replace(/\s+/g, ' ').trim());
  const hint = (await pi.textContent('#upload-results tr[data-name="見積書.zip"] .hint--ppap p')).trim();
  const link = await pi.getAttribute('#upload-results tr[data-name="見積書.zip"] a.unlock-link', 'href');
  diag(`docm ${docm} (${docmActions}); txt ${txt}; zip ${zip} (${z.verdict}/${z.reason}/${z.state}): ${hint} → ${link}`);
  return docm[0] === 'sanitized' && docm[1] === T['verdict.sanitized']
    && docmActions.includes(`${T['what.macro']}: ${T['action.removed']}`) && !/\b(removed|converted|noted)\b/.test(docmActions)
    && txt[0] === 'held' && txt[1] === T['verdict.held']
    && z.verdict === 'blocked' && z.reason === 'encrypted' && z.state === 'held'
    && zip[0] === 'blocked' && hint === T['upload.ppap'] && link === `#/unlock?id=${encodeURIComponent(z.id)}`;
});

await step('情報資産番号: an asset ID typed on the upload screen goes with the file (asset=); one the ledger does not have is refused in Japanese, and the field cleared sends none', async () => {
  const sent = [];
  const onReq = (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/items' && r.method() === 'POST') sent.push(u.searchParams.get('asset'));
  };
  pi.on('request', onReq);
  await pi.fill('#upload-asset', ' AS-9999 ');
  await pi.setInputFiles('#upload-input', [{ name: '資産.txt', mimeType: 'text/plain', buffer: Buffer.from('資産\n') }]);
  await pi.waitForSelector('#upload-results tr[data-name="資産.txt"][data-state=error]');
  const err = (await pi.textContent('#upload-results tr[data-name="資産.txt"] .text-error')).trim();
  await shot(pi, '03a-upload-asset', 900);
  await pi.fill('#upload-asset', '');
  await pi.setInputFiles('#upload-input', [{ name: '資産2.txt', mimeType: 'text/plain', buffer: Buffer.from('資産\n') }]);
  await pi.waitForSelector('#upload-results tr[data-name="資産2.txt"][data-state=done]');
  pi.off('request', onReq);
  diag(`${JSON.stringify(sent)}; ${err}`);
  return sent.length === 2 && sent[0] === 'AS-9999' && sent[1] === null && err.includes('資産番号');
});

await step('a file name with HTML in it is shown as text (no element made, no script run)', async () => {
  const r = await pi.evaluate((nm) => {
    const row = [...document.querySelectorAll('#upload-results tr')].find((tr) => tr.dataset.name === nm);
    return row && {
      text: row.querySelector('.file-name').textContent,
      imgs: row.querySelectorAll('img').length,
      xss: window.__xss === 1,
    };
  }, evilName);
  return r && r.text === evilName && r.imgs === 0 && !r.xss || (diag(JSON.stringify(r)), false);
});

// the unlock answers, as the page got them
const unlockAnswers = [];
pi.on('response', async (r) => {
  if (/\/unlock$/.test(new URL(r.url()).pathname)) {
    unlockAnswers.push({ status: r.status(), body: await r.json().catch(() => null) });
  }
});
async function unlockClick(page) {
  const before = unlockAnswers.length;
  await page.click('#unlock-submit');
  await page.waitForFunction(() => !document.querySelector('#unlock-submit').disabled
    && document.querySelector('#unlock-submit').textContent.trim() !== '');
  for (let i = 0; i < 100 && unlockAnswers.length === before; i++) await page.waitForTimeout(50);
  await page.waitForTimeout(150);
  return unlockAnswers[unlockAnswers.length - 1];
}
// the passwords are never kept by the page: not in the URL, not in localStorage, the
// fields empty once sent
async function passwordsGone(page, ...pws) {
  const r = await page.evaluate(() => ({
    url: location.href,
    storage: JSON.stringify(Object.entries(localStorage)),
    fields: [...document.querySelectorAll('input[type=password]')].map((i) => i.value),
    auto: [...document.querySelectorAll('input[type=password]')].map((i) => i.getAttribute('autocomplete')),
  }));
  const leak = pws.filter((p) => r.url.includes(p) || r.storage.includes(p));
  if (leak.length || r.fields.some((v) => v !== '') || r.auto.some((a) => a !== 'off')) {
    throw new Error(`passwords kept: ${JSON.stringify({ leak, fields: r.fields, auto: r.auto })}`);
  }
  return true;
}

const zipItem = upload['見積書.zip'] && upload['見積書.zip'].status === 201 && upload['見積書.zip'].body;
await step('PPAP 解除: the hint\'s link opens the page with the zip chosen (its name shown, in the list of held zips)', async () => {
  need(zipItem, 'the zip upload');
  await pi.click('#upload-results tr[data-name="見積書.zip"] a.unlock-link');
  await pi.waitForSelector('#unlock-id');
  await pi.waitForSelector(`#unlock-held input[name=unlock-item]`);
  const id = await pi.inputValue('#unlock-id');
  const listed = await pi.$$eval('#unlock-held input[name=unlock-item]', (is) => is.map((i) => [i.value, i.checked]));
  const chosen = (await pi.textContent('#unlock-chosen')).trim();
  await shot(pi, '04-unlock', true);
  diag(`id ${id}; listed ${JSON.stringify(listed)}; ${chosen}`);
  return id === zipItem.id && listed.some(([v, c]) => v === zipItem.id && c)
    && chosen === T['unlock.selected'].replace('{name}', '見積書.zip');
});

await step('PPAP 解除: a wrong password → 200 wrong_password, 「パスワードが違います。あと 9 回試せます。」, the field emptied', async () => {
  need(zipItem, 'the zip upload');
  await pi.fill('#unlock-pw-1', 'wrong-password');
  const a = await unlockClick(pi);
  await pi.waitForSelector('#unlock-wrong');
  const msg = (await pi.textContent('#unlock-wrong')).trim();
  await shot(pi, '05-unlock-wrong', true);
  diag(`${a.status} ${JSON.stringify(a.body && { ...a.body, item: undefined })}: ${msg}`);
  return a.status === 200 && a.body.wrong_password === true && a.body.tries_left === 9
    && a.body.verdict === 'blocked' && a.body.reason === 'encrypted'
    && msg === T['unlock.wrong'].replace('{n}', '9') && (await pi.$('#unlock-result')) === null
    && await passwordsGone(pi, 'wrong-password');
});

await step('PPAP 解除: two passwords (a wrong one, the right one) → 無害化済み, where to download it, what was done to the docm inside', async () => {
  need(zipItem, 'the zip upload');
  await pi.click('#unlock-add');
  await pi.fill('#unlock-pw-1', 'wrong-again');
  await pi.fill('#unlock-pw-2', 'ppap-Secret-42');
  const a = await unlockClick(pi);
  await pi.waitForSelector('#unlock-result');
  const badge = await pi.$eval('#unlock-result .badge', (b) => [b.dataset.verdict, b.textContent.trim()]);
  const next = (await pi.textContent('#unlock-result .next')).trim();
  const acts = await pi.$eval('#unlock-result .actions', (u) => u.textContent.replace(/\s+/g, ' ').trim());
  const wrongGone = (await pi.$('#unlock-wrong')) === null;
  const listed = await pi.$$eval('#unlock-held input[name=unlock-item]', (is) => is.map((i) => i.value));
  await shot(pi, '06-unlock-done', true);
  diag(`${a.status} ${a.body && a.body.verdict}; ${badge}; ${next}; ${acts}`);
  return a.status === 200 && a.body.wrong_password === false && a.body.verdict === 'sanitized'
    && a.body.item && a.body.item.has_content === true
    && badge[0] === 'sanitized' && badge[1] === T['verdict.sanitized']
    && next === T['unlock.get'].replace('{name}', a.body.item.download_name)
    && acts.includes(`${T['what.macro']}: ${T['action.removed']}`) && acts.includes('見積書.docm')
    && wrongGone && !listed.includes(zipItem.id) && await passwordsGone(pi, 'wrong-again', 'ppap-Secret-42');
});

await step('PPAP 解除: the same zip again → 409, 「解除できません」 said', async () => {
  need(zipItem, 'the zip upload');
  await pi.fill('#unlock-id', zipItem.id);
  await pi.fill('#unlock-pw-1', 'ppap-Secret-42');
  const a = await unlockClick(pi);
  const msg = (await pi.textContent('sk-unlock .notice--error')).trim();
  return a.status === 409 && msg === T['unlock.conflict'] && await passwordsGone(pi, 'ppap-Secret-42')
    || (diag(`${a.status} ${msg}`), false);
});

let zip2 = null;
await step('PPAP 解除: after 10 wrong tries the page says the limit is reached, and then 429 「試行回数の上限に達しました」 even with the right password', async () => {
  // a second PPAP zip sent through the API with the page's session; 9 wrong tries there
  const r = await pi.request.post(`${INTERNET}/api/items?name=${encodeURIComponent('請求書.zip')}`, {
    headers: { 'X-CSRF-Token': sessionInternet.csrf, 'Content-Type': 'application/octet-stream' },
    data: fs.readFileSync(path.join(FILES, '請求書.zip')),
  });
  zip2 = await r.json();
  if (r.status() !== 201 || zip2.reason !== 'encrypted') throw new Error(`upload ${r.status()} ${JSON.stringify(zip2)}`);
  for (let i = 1; i <= 9; i++) {
    const u = await pi.request.post(`${INTERNET}/api/items/${zip2.id}/unlock`, {
      headers: { 'X-CSRF-Token': sessionInternet.csrf }, data: { passwords: [`guess-${i}`] },
    });
    const b = await u.json();
    if (u.status() !== 200 || b.tries_left !== 10 - i) throw new Error(`try ${i}: ${u.status()} ${JSON.stringify(b)}`);
  }
  // a fresh page: the list of held zips is read when the screen opens
  await pi.goto(`${INTERNET}/#/unlock`);
  await pi.reload();
  await pi.waitForSelector('#unlock-id');
  await pi.waitForSelector(`#unlock-held input[value="${zip2.id}"]`);
  await pi.check(`#unlock-held input[value="${zip2.id}"]`);
  await pi.fill('#unlock-pw-1', 'guess-10');
  const a10 = await unlockClick(pi);
  const last = (await pi.textContent('#unlock-wrong')).trim();
  await pi.fill('#unlock-pw-1', 'other-Secret-7');
  const a11 = await unlockClick(pi);
  const msg = (await pi.textContent('sk-unlock .notice--error')).trim();
  await shot(pi, '07-unlock-limit', true);
  diag(`10th: ${a10.status} tries_left ${a10.body && a10.body.tries_left} "${last}"; 11th: ${a11.status} "${msg}"`);
  return a10.status === 200 && a10.body.tries_left === 0 && last === T['unlock.wrong.last']
    && a11.status === 429 && msg === T['unlock.toomany'] && await passwordsGone(pi, 'guess-10', 'other-Secret-7');
});

await step('works at 1366×768 on the internet side (no horizontal scrolling)', async () => fitsWidth(pi));

// ---- 2. the LGWAN side
const pl = await newPage();
let sessionLgwan = null;
await step('the internet session is not valid on the LGWAN listener (401 without a new login)', async () => {
  const cookies = await pi.context().cookies();
  const c = cookies.find((k) => k.name === 'sk_session');
  if (!c) throw new Error('no sk_session cookie');
  const flags = c.httpOnly && c.secure && c.sameSite === 'Strict';
  const lg = new URL(LGWAN);
  await pl.context().addCookies([{ name: 'sk_session', value: c.value, domain: lg.hostname, path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
  const r = await pl.request.get(`${LGWAN}/api/session`);
  await pl.context().clearCookies();
  diag(`cookie HttpOnly=${c.httpOnly} Secure=${c.secure} SameSite=${c.sameSite}; LGWAN answer ${r.status()}`);
  return flags && r.status() === 401;
});

await step('tanaka logs in on the LGWAN listener: 受け取り, 申請, 承認, ダッシュボード, 台帳 (no 監査ログ, no 利用者)', async () => {
  sessionLgwan = await login(pl, LGWAN, 'tanaka');
  const m = await menu(pl);
  diag(m.join(','));
  return sessionLgwan.zone === 'lgwan' && sessionLgwan.console === true
    && JSON.stringify(m) === JSON.stringify(['items', 'request', 'approve', 'dashboard', 'ledgers']);
});

await step('受け取り: the docm arrived as a docx without vbaProject.bin (downloaded through the page)', async () => {
  const id = need(upload['通知文.docm'] && upload['通知文.docm'].status === 201 && upload['通知文.docm'].body, 'the docm upload').id;
  await pl.waitForSelector('#items-table');
  const row = `#items-table tr[data-id="${id}"]`;
  await pl.waitForSelector(row);
  await shot(pl, '08-items');
  const [dl] = await Promise.all([pl.waitForEvent('download'), pl.click(`${row} a.download`)]);
  const file = path.join(SHOTS, '..', 'browser-download.docx');
  await dl.saveAs(file);
  const names = zipNames(file);
  diag(`suggested ${dl.suggestedFilename()}; ${names.length} entries`);
  return dl.suggestedFilename().endsWith('.docx') && names.includes('word/document.xml')
    && !names.some((x) => /vbaProject\.bin$/i.test(x));
});

await step('受け取り: the unlocked PPAP zip downloaded on the LGWAN side; the docm inside has no vbaProject.bin', async () => {
  need(zipItem, 'the zip upload');
  const row = `#items-table tr[data-id="${zipItem.id}"]`;
  await pl.waitForSelector(`${row} a.download`);
  const badge = await pl.$eval(`${row} .badge`, (b) => b.dataset.verdict);
  const [dl] = await Promise.all([pl.waitForEvent('download'), pl.click(`${row} a.download`)]);
  const file = path.join(SHOTS, '..', 'browser-download-ppap.zip');
  await dl.saveAs(file);
  const names = zipNames(file);
  const doc = names.find((x) => /^見積書\.doc[xm]$/.test(x));
  let inner = [];
  if (doc) {
    const bytes = spawnSync('unzip', ['-p', file, doc], { maxBuffer: 1 << 24 });
    const f2 = path.join(SHOTS, '..', 'browser-download-ppap-doc.zip');
    fs.writeFileSync(f2, bytes.stdout);
    inner = zipNames(f2);
  }
  const encrypted = spawnSync('unzip', ['-Z', '-v', file], { encoding: 'utf8' }).stdout.match(/file security status:.*/g) || [];
  diag(`${badge}; ${dl.suggestedFilename()}: ${names.join(', ')}; ${doc}: ${inner.join(', ')}; ${encrypted.join(' ')}`);
  return badge === 'sanitized' && names.includes('見積内訳.txt') && doc && inner.includes('word/document.xml')
    && !inner.some((x) => /vbaProject\.bin$/i.test(x)) && encrypted.length > 0
    && encrypted.every((x) => /not encrypted/.test(x));
});

await step('受け取り: the locked-out PPAP zip says why and what to do (the PPAP hint), and its details fold open', async () => {
  need(zip2, 'the second PPAP zip');
  const row = `#items-table tr[data-id="${zip2.id}"]`;
  await pl.waitForSelector(row);
  const next = (await pl.textContent(`${row} .next`)).trim();
  await pl.click(`${row} button.detail-toggle`);
  const route = (await pl.textContent(`#items-table tr.detail-row[data-for="${zip2.id}"] dd`)).trim();
  // the docm's details: what was done, in words
  const docm = upload['通知文.docm'].body.id;
  await pl.click(`#items-table tr[data-id="${docm}"] button.detail-toggle`);
  const acts = await pl.$eval(`#items-table tr.detail-row[data-for="${docm}"] .actions`, (u) => u.textContent.replace(/\s+/g, ' ').trim());
  await shot(pl, '09-items-detail', true);
  diag(`${next}; ${route}; ${acts}`);
  return next === T['next.ppap'] && route === `${T['zone.internet']} → ${T['zone.lgwan']}`
    && acts.includes(`${T['what.macro']}: ${T['action.removed']}`);
});

await step('受け取り: filter by verdict 承認待ち shows only held items', async () => {
  need(upload['名簿.txt'] && upload['名簿.txt'].status === 201, 'the upload of the held text');
  await pl.selectOption('#f-verdict', 'held');
  await Promise.all([
    pl.waitForResponse((r) => new URL(r.url()).pathname === '/api/items' && new URL(r.url()).searchParams.get('verdict') === 'held'),
    pl.click('sk-items form.filters button[type=submit]'),
  ]);
  await pl.waitForTimeout(200);
  const v = await pl.$$eval('#items-table tbody .badge[data-verdict]', (bs) => bs.map((b) => b.dataset.verdict));
  return v.length > 0 && v.every((x) => x === 'held') || (diag(v.join(',')), false);
});

let requestId = '';
await step('申請: tanaka asks for the release of the held text with a reason', async () => {
  const held = need(upload['名簿.txt'] && upload['名簿.txt'].status === 201 && upload['名簿.txt'].body, 'the upload of the held text').id;
  await go(pl, 'request', '#request-form');
  await pl.waitForSelector(`#request-form input[name=item][value="${held}"]`);
  await pl.check(`#request-form input[name=item][value="${held}"]`);
  await pl.fill('#request-reason', '住民からの問い合わせに回答するため、名簿を確認します。');
  await shot(pl, '10-request');
  const [resp] = await Promise.all([
    pl.waitForResponse((r) => /\/requests$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST'),
    pl.click('#request-form button[type=submit]'),
  ]);
  const body = await resp.json();
  requestId = body.id;
  await pl.waitForSelector('sk-request .notice--success');
  await pl.waitForSelector(`#my-requests tr[data-id="${requestId}"]`);
  await shot(pl, '11-request-done', true);
  const prog = await pl.textContent(`#my-requests tr[data-id="${requestId}"] td:last-child`);
  diag(`request ${requestId}: ${prog.trim()}`);
  return resp.status() === 201 && prog.trim() === `0/${body.needed} 承認` && body.needed === 2;
});

await step('承認: tanaka cannot approve their own request (403, the refusal shown)', async () => {
  need(requestId, 'the request');
  await go(pl, 'approve', `article.request[data-id="${requestId}"]`);
  const card = `article.request[data-id="${requestId}"]`;
  const [resp] = await Promise.all([
    pl.waitForResponse((r) => /\/approve$/.test(new URL(r.url()).pathname)),
    pl.click(`${card} button.approve`),
  ]);
  await pl.waitForSelector(`${card} .notice--error`);
  const msg = (await pl.textContent(`${card} .notice--error`)).trim();
  await shot(pl, '12-approve-self');
  diag(`self-approval: ${resp.status()} "${msg}"`);
  return resp.status() === 403 && msg.length > 0;
});

// ---- 3. two other approvers
const pk = await newPage();
await step('承認: kacho approves (1/2 承認 shown, then the request still pending)', async () => {
  await login(pk, LGWAN, 'kacho');
  need(requestId, 'the request');
  await go(pk, 'approve', `article.request[data-id="${requestId}"]`);
  const card = `article.request[data-id="${requestId}"]`;
  const before = await pk.$eval(`${card} .progress`, (e) => e.textContent.trim());
  await pk.fill(`${card} textarea`, '内容を確認しました。');
  await shot(pk, '13-approve');
  const [resp] = await Promise.all([
    pk.waitForResponse((r) => /\/approve$/.test(new URL(r.url()).pathname)),
    pk.click(`${card} button.approve`),
  ]);
  await pk.waitForSelector(`${card} .notice--info, ${card} .notice--success`);
  const after = await pk.$eval(`${card} .progress`, (e) => e.textContent.trim());
  await shot(pk, '14-approve-1of2', true);
  diag(`before ${before}, after ${after}, status ${resp.status()}`);
  return resp.status() === 200 && before === '0/2 承認' && after === '1/2 承認';
});

const ph = await newPage();
await step('承認: hosa approves: 2/2, the request approved and leaves the pending list', async () => {
  await login(ph, LGWAN, 'hosa');
  need(requestId, 'the request');
  await go(ph, 'approve', `article.request[data-id="${requestId}"]`);
  const card = `article.request[data-id="${requestId}"]`;
  const [resp] = await Promise.all([
    ph.waitForResponse((r) => /\/approve$/.test(new URL(r.url()).pathname)),
    ph.click(`${card} button.approve`),
  ]);
  const body = await resp.json();
  const req = body.request || body;
  await ph.waitForSelector(`.decided[data-id="${requestId}"]`);
  await shot(ph, '15-approve-done');
  return resp.status() === 200 && req.state === 'approved' && (await ph.$(card)) === null;
});

await step('受け取り: tanaka now downloads the released text', async () => {
  need(requestId, 'the request');
  const id = upload['名簿.txt'].body.id;
  await go(pl, 'items', '#items-table');
  await pl.waitForSelector(`#items-table tr[data-id="${id}"] a.download`);
  const [dl] = await Promise.all([pl.waitForEvent('download'), pl.click(`#items-table tr[data-id="${id}"] a.download`)]);
  const file = path.join(SHOTS, '..', 'browser-download.txt');
  await dl.saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  return text.includes('名簿') || (diag(text.slice(0, 200)), false);
});

await step('works at 1366×768 on the LGWAN side (no horizontal scrolling)', async () => fitsWidth(pl));

// ---- 4. audit, dashboard, users (joho: sysadmin + auditor)
const pj = await newPage();
await step('joho (sysadmin, auditor) sees 監査ログ and 利用者; kacho does not', async () => {
  await login(pj, LGWAN, 'joho');
  const m = await menu(pj);
  const mk = await menu(pk);
  diag(`joho: ${m.join(',')}; kacho: ${mk.join(',')}`);
  return m.includes('audit') && m.includes('users') && !mk.includes('audit') && !mk.includes('users');
});

await step('監査ログ: the approvals are records naming kacho and hosa; verify ok; a proof shown', async () => {
  need(requestId, 'the request');
  await go(pj, 'audit', '#audit-table');
  const rows = await pj.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => [
    tr.children[2].textContent.trim(), tr.children[3].textContent.trim()]));
  const approvers = rows.filter(([, action]) => /approv/.test(action)).map(([actor]) => actor);
  await pj.click('#audit-verify-button');
  await pj.waitForSelector('#audit-verify');
  const okv = await pj.getAttribute('#audit-verify', 'data-ok');
  await pj.click('#audit-table .proof-button >> nth=0');
  await pj.waitForSelector('#audit-proof dl');
  const root = await pj.textContent('#audit-proof dd.hash >> nth=1');
  await shot(pj, '16-audit', 1500);
  diag(`approvals by ${approvers.join(',')}; verify ${okv}; root ${root.trim().slice(0, 16)}…`);
  return okv === 'true' && approvers.includes('kacho') && approvers.includes('hosa') && /^[0-9a-f]{64}$/.test(root.trim());
});

await step('ダッシュボード: a stacked bar chart drawn, worker health and pending requests shown', async () => {
  await go(pj, 'dashboard', '#chart-per-day');
  // Chart.js is imported when the first chart is drawn: wait until it sized the canvas
  await pj.waitForFunction(() => document.querySelector('#chart-per-day').width !== 300, null, { timeout: 15000 }).catch(() => {});
  await pj.waitForTimeout(100);
  const drawn = await pj.evaluate(() => {
    const c = document.querySelector('#chart-per-day');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) ink++;
    return { w: c.width, h: c.height, ink };
  });
  const alive = (await pj.textContent('#stat-alive .stat__value')).trim();
  await shot(pj, '17-dashboard');
  diag(`canvas ${drawn.w}×${drawn.h}, ${drawn.ink} painted pixels; workers alive ${alive}`);
  return drawn.ink > 1000 && /^\d+$/.test(alive);
});

await step('利用者: the list has tanaka, kacho, hosa and joho, with section and role names (not their ids)', async () => {
  await go(pj, 'users', '#users-table');
  const names = await pj.$$eval('#users-table tbody tr', (trs) => trs.map((t) => t.dataset.user));
  const kacho = await pj.$eval('#users-table tr[data-user=kacho]', (tr) => [...tr.children].map((td) => td.textContent.trim()));
  await shot(pj, '18-users');
  diag(`${names.join(',')}; kacho ${kacho.join(' | ')}`);
  return ['tanaka', 'kacho', 'hosa', 'joho'].every((x) => names.includes(x)) && kacho[2] === '総務課' && kacho[3] === '情報セキュリティ管理者';
});

await step('English switch: the console in English, kept after a reload', async () => {
  await pj.click('#lang-switch');
  await go(pj, 'dashboard', '#chart-per-day');
  const h1 = (await pj.textContent('sk-dashboard h1')).trim();
  const lang1 = await pj.getAttribute('html', 'lang');
  await shot(pj, '19-dashboard-en');
  await pj.reload();
  await pj.waitForSelector('nav.sidenav');
  const nav = (await pj.textContent('nav.sidenav a[data-screen=audit]')).trim();
  const lang2 = await pj.getAttribute('html', 'lang');
  await go(pj, 'audit', '#audit-table');
  await shot(pj, '20-audit-en');
  return h1 === E['dash.title'] && nav === E['nav.audit'] && lang1 === 'en' && lang2 === 'en';
});

await step('logout: the session is gone (login page, GET /api/session 401)', async () => {
  await pj.click('#logout');
  await pj.waitForSelector('#login-user');
  const r = await pj.request.get(`${LGWAN}/api/session`);
  return r.status() === 401;
});

// ---- 5. over the whole walk
ok(changes.length > 0 && changes.every((c) => c.path === '/api/session' && c.method === 'POST' || c.csrf.length > 0),
  `every POST/DELETE the pages sent (${changes.length}) carried X-CSRF-Token (login excepted)`,
  changes.filter((c) => !c.csrf).map((c) => `${c.method} ${c.path}`).join('\n'));
ok(problems.length === 0, 'no console error, page error or CSP violation in the whole walk', problems.join('\n'));
diag(`screenshots in ${SHOTS}`);

await finish();
