// The ledger screens (台帳) in Debian's chromium, driven by playwright-core (TAP lines;
// ledger_browser.sh sets everything up and starts sekishod). Environment as browser_lib.mjs,
// and LGWAN: https://ADDR:PORT of the console listener. Users (all with PASSWORD):
//   yamada (somu: staff), joho (johoseisaku: sysadmin), bucho (johoseisaku:
//   security-director), ciso (ciso), kacho (somu: security-manager), jkacho (johoseisaku:
//   security-manager), kansa (auditor).
import {
  env, ok, diag, step, need, newPage, shot, fitsWidth, login, menu, problems, changes, messages, finish,
} from './browser_lib.mjs';

const LGWAN = env.LGWAN;
const SHOTS = env.SHOTS;
const T = messages.ja;
const E = messages.en;
const fill = (s, p) => s.replace(/\{([a-z_]+)\}/g, (a, k) => (k in p ? String(p[k]) : a));
const text = async (page, sel) => (await page.textContent(sel)).replace(/\s+/g, ' ').trim();
const CHAIN = ['staff', 'sysadmin', 'security-director', 'ciso'];

// the JSON answer of the next API call matching (method, path regexp) while fn runs
async function answerOf(page, method, re, fn) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && re.test(new URL(r.url()).pathname)),
    fn(),
  ]);
  let body = null;
  try {
    body = await resp.json();
  } catch {
    /* no JSON */
  }
  return { status: resp.status(), body };
}

async function open(page, hash, ready) {
  await page.goto(`${LGWAN}/${hash}`);
  await page.waitForSelector(ready);
}

// Chart.js is imported when the first chart is drawn: wait until each canvas has its chart
async function chartsDrawn(page, sels) {
  await page.waitForFunction(async (ss) => {
    const { Chart } = await import('/vendor/chart.js');
    return ss.every((x) => Chart.getChart(document.querySelector(x)));
  }, sels, { timeout: 15000 });
}

// the steps of the chain as the page shows them: role → {state, who, when}
async function steps(page) {
  return page.$$eval('#chain-steps li.step', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.role, {
    state: li.dataset.state,
    role: li.querySelector('.step__role').textContent.trim(),
    who: (li.querySelector('.step__who') || { textContent: '' }).textContent.trim(),
    when: (li.querySelector('.step__when') || { textContent: '' }).textContent.trim(),
  }])));
}

let answerId = null;

// ---- 1. a staff user reports an incident
const py = await newPage();
const evil = '<img src=x onerror="window.__xss=1">';
let incident = null;
await step('yamada (staff) sees 台帳 in the menu; it opens the incidents ledger only (no charts, no other ledger)', async () => {
  await login(py, LGWAN, 'yamada');
  const m = await menu(py);
  await py.click('nav.sidenav a[data-screen=ledgers]');
  await py.waitForSelector('#ledger-filters');
  const nav = await py.$$eval('nav.subnav a', (as) => as.map((a) => a.dataset.nav));
  const h1 = await text(py, '#ledger-title');
  const sch = await (await py.request.get(`${LGWAN}/api/ledgers`)).json();
  diag(`menu ${m.join(',')}; subnav [${nav.join(',')}]; ${h1}; schema ${sch.ledgers.map((l) => l.name).join(',')}`);
  return m.includes('ledgers') && nav.length === 0 && h1 === '情報セキュリティ事故管理台帳'
    && JSON.stringify(sch.ledgers.map((l) => l.name)) === JSON.stringify(['incidents']);
});

await step('事故を報告する: a missing 事象 → 400, the problem shown at the field, nothing recorded', async () => {
  await py.click('#ledger-add');
  await py.waitForSelector('#ledger-form');
  const foundBy = await py.inputValue('#ledger-form [name=found_by]');
  await py.selectOption('#ledger-form [name=severity]', 'high');
  const a = await answerOf(py, 'POST', /^\/api\/ledgers\/incidents$/, () => py.click('#ledger-save'));
  await py.waitForSelector('.field--error[data-key=what] .field-error');
  const msg = await text(py, '.field--error[data-key=what] .field-error');
  const top = await text(py, '#form-problems');
  await shot(py, 'ledger-01-incident-invalid', true);
  diag(`${a.status} ${JSON.stringify(a.body && a.body.error && a.body.error.problems)}; at the field: ${msg}; ${top}`);
  return a.status === 400 && foundBy === 'yamada' && msg.length > 0 && /[ぁ-んァ-ン一-龯]/.test(msg)
    && top.startsWith(T['ledger.invalid'].split('{n}')[0]);
});

await step('事故を報告する: the incident is added (201) and opened with its chain: 4 steps, the first waiting for the reporter', async () => {
  await py.fill('#ledger-form [name=what]', `USB メモリを紛失しました。${evil}`);
  const a = await answerOf(py, 'POST', /^\/api\/ledgers\/incidents$/, () => py.click('#ledger-save'));
  incident = a.body;
  await py.waitForSelector('#chain-steps');
  const s = await steps(py);
  const button = await text(py, '#step-sign');
  const flash = await text(py, '#record-message');
  await shot(py, 'ledger-02-incident-reported', true);
  diag(`${a.status} ${incident && incident.id}; ${JSON.stringify(s)}; "${button}"; ${flash}`);
  return a.status === 201 && /^IN-\d+$/.test(incident.id) && Object.keys(s).join(',') === CHAIN.join(',')
    && s.staff.state === 'next' && s.sysadmin.state === 'waiting' && s.staff.role === '職員'
    && button === T['chain.sign.first'] && flash === fill(T['ledger.added'], { id: incident.id });
});

await step('a text with HTML in it is shown as text (no element made, no script run)', async () => {
  need(incident, 'the incident');
  const r = await py.evaluate(() => ({
    text: document.querySelector('#record dd[data-key=what]').textContent.trim(),
    imgs: document.querySelectorAll('sk-ledgers img').length,
    xss: window.__xss === 1,
  }));
  diag(JSON.stringify(r));
  return r.text === `USB メモリを紛失しました。${evil}` && r.imgs === 0 && !r.xss;
});

// sign the next step on an open record page: the step's POST and the steps after it
async function sign(page, role, note) {
  if (note) await page.fill('#step-note', note);
  const a = await answerOf(page, 'POST', /\/api\/ledgers\/incidents\/[^/]+\/step$/, () => page.click('#step-sign'));
  await page.waitForSelector(`#chain-steps li[data-role="${role}"][data-state=done]`);
  const s = await steps(page);
  const msg = await text(page, '#record-message');
  return { a, s, msg };
}

await step('yamada signs the first step (職員): done, by yamada, with the time in JST; then no button (the next step is not theirs)', async () => {
  need(incident, 'the incident');
  const { a, s, msg } = await sign(py, 'staff');
  const wait = await text(py, '#chain-wait');
  const button = await py.$('#step-sign');
  diag(`${a.status}; ${JSON.stringify(s.staff)}; ${msg}; ${wait}`);
  return a.status === 200 && s.staff.state === 'done' && s.staff.who === 'yamada'
    && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} JST$/.test(s.staff.when) && s.sysadmin.state === 'next'
    && msg === fill(T['chain.signed'], { role: '職員' }) && button === null
    && wait === fill(T['chain.other'], { role: 'システム管理者' });
});

const names = { sysadmin: 'システム管理者', 'security-director': '統括情報セキュリティ責任者', ciso: '最高情報セキュリティ責任者 (CISO)' };
const signers = [['joho', 'sysadmin'], ['bucho', 'security-director'], ['ciso', 'ciso']];
const pages = {};
for (const [user, role] of signers) {
  await step(`${user} (${role}) finds the incident in the list, opens it and signs 「報告を受けました」: the step done, by ${user}`, async () => {
    need(incident, 'the incident');
    const p = await newPage();
    pages[user] = p;
    await login(p, LGWAN, user);
    await open(p, '#/ledgers?t=incidents', '#ledger-table');
    const row = `#ledger-table tr[data-id="${incident.id}"]`;
    await p.waitForSelector(row);
    const before = await p.getAttribute(`${row} td[data-chain]`, 'data-chain');
    await p.click(`${row} a.record-link`);
    await p.waitForSelector('#step-sign');
    const button = await text(p, '#step-sign');
    const prev = await steps(p);
    const { a, s } = await sign(p, role, `${user} が確認しました`);
    await shot(p, `ledger-0${3 + signers.findIndex(([u]) => u === user)}-chain-${role}`, true);
    const done = CHAIN.slice(0, CHAIN.indexOf(role) + 1);
    diag(`list ${before}; ${a.status}; ${JSON.stringify(s[role])}`);
    return a.status === 200 && button === T['chain.sign'] && prev[role].state === 'next'
      && before === `${CHAIN.indexOf(role)}/4` && s[role].who === user && s[role].role === names[role]
      && done.every((r) => s[r].state === 'done') && /JST$/.test(s[role].when);
  });
}

await step('after the fourth step: every step done, 「すべての段の報告が済みました」, the notes in 対応, the history with each step', async () => {
  need(incident, 'the incident');
  const p = need(pages.ciso, 'the ciso page');
  const s = await steps(p);
  const done = await text(p, '#chain-complete');
  const actions = await text(p, '#record dd[data-key=actions]');
  const hist = await p.$$eval('#ledger-history tbody tr', (trs) => trs.map((tr) => tr.textContent.replace(/\s+/g, ' ')));
  diag(`${actions}; ${hist.length} history rows`);
  return CHAIN.every((r) => s[r].state === 'done') && done === T['chain.complete']
    && actions.includes('[システム管理者] joho が確認しました') && actions.includes('[最高情報セキュリティ責任者 (CISO)] ciso が確認しました')
    && hist.length === 5 && hist[4].includes('ciso') && (await p.$('#step-sign')) === null;
});

await step('yamada, reloading, sees every step done (who and when)', async () => {
  need(incident, 'the incident');
  await py.reload();
  await py.waitForSelector('#chain-complete');
  const s = await steps(py);
  return CHAIN.every((r) => s[r].state === 'done') && s.ciso.who === 'ciso' && s.sysadmin.who === 'joho';
});

// ---- 2. an edit that meets someone else's change (409)
await step('編集: bucho (ledger-all) edits while the record changed meanwhile → 409, 「他の人が先に更新しました」, the reload shows the new value', async () => {
  need(incident, 'the incident');
  const p = pages.bucho;
  await open(p, `#/ledgers?t=incidents&id=${incident.id}&edit=1`, '#ledger-form');
  await p.fill('#ledger-form [name=result]', '端末を回収しました。');
  // the change by someone else: the same user through the API, with the page's session
  const sess = await (await p.request.get(`${LGWAN}/api/session`)).json();
  const cur = await (await p.request.get(`${LGWAN}/api/ledgers/incidents/${incident.id}`)).json();
  const other = await p.request.post(`${LGWAN}/api/ledgers/incidents/${incident.id}`, {
    headers: { 'X-CSRF-Token': sess.csrf }, data: { version: cur.version, values: { lessons: '持ち出し手順を見直す' } },
  });
  const a = await answerOf(p, 'POST', new RegExp(`/api/ledgers/incidents/${incident.id}$`), () => p.click('#ledger-save'));
  await p.waitForSelector('#form-conflict');
  const msg = await text(p, '#form-conflict');
  await shot(p, 'ledger-06-edit-conflict', true);
  await p.click('#conflict-reload');
  await p.waitForFunction(() => document.querySelector('#ledger-form [name=lessons]').value !== '');
  const lessons = await p.inputValue('#ledger-form [name=lessons]');
  diag(`other ${other.status()}; mine ${a.status}; ${msg}; lessons now ${lessons}`);
  return other.status() === 200 && a.status === 409 && msg.includes(T['ledger.conflict'])
    && lessons === '持ち出し手順を見直す';
});

await step('編集: saved with the current version (200), the history shows old → new', async () => {
  need(incident, 'the incident');
  const p = pages.bucho;
  await p.fill('#ledger-form [name=result]', '端末を回収しました。');
  await p.selectOption('#ledger-form [name=state]', 'closed');
  const a = await answerOf(p, 'POST', new RegExp(`/api/ledgers/incidents/${incident.id}$`), () => p.click('#ledger-save'));
  await p.waitForSelector('#ledger-history');
  const last = await p.$eval('#ledger-history tbody tr:last-child', (tr) => tr.textContent.replace(/\s+/g, ' ').trim());
  const state = await text(p, '#record dd[data-key=state]');
  await shot(p, 'ledger-07-incident-history', true);
  diag(`${a.status}; ${last}`);
  return a.status === 200 && state === '完了' && last.includes('bucho') && last.includes('対応中 → 完了')
    && last.includes('端末を回収しました。');
});

await step('list: the filter 重大度 = 高 and a keyword find the incident; a click on 発見日時 sorts (sort=found_at, then desc=1)', async () => {
  need(incident, 'the incident');
  const p = pages.joho;
  await open(p, '#/ledgers?t=incidents', '#ledger-table');
  await p.selectOption('#lf-severity', 'high');
  await p.fill('#lf-q', 'USB');
  const a = await answerOf(p, 'GET', /^\/api\/ledgers\/incidents$/, () => p.click('#ledger-filters button[type=submit]'));
  await p.waitForTimeout(200);
  const ids = await p.$$eval('#ledger-table tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
  const urls = [];
  p.on('request', (r) => { if (new URL(r.url()).pathname === '/api/ledgers/incidents') urls.push(new URL(r.url()).search); });
  await p.click('#ledger-table th[data-key=found_at] button');
  await p.waitForSelector('#ledger-table th[data-key=found_at][aria-sort=ascending]');
  await p.click('#ledger-table th[data-key=found_at] button');
  await p.waitForSelector('#ledger-table th[data-key=found_at][aria-sort=descending]');
  await shot(p, 'ledger-08-incidents-list');
  diag(`${a.status} ${JSON.stringify(ids)}; ${urls.join(' ')}`);
  return a.status === 200 && ids.includes(incident.id) && ids.every((id) => id === incident.id || id)
    && urls.some((u) => /sort=found_at/.test(u) && !/desc=1/.test(u)) && urls.some((u) => /sort=found_at/.test(u) && /desc=1/.test(u))
    && urls.every((u) => /f\.severity=high/.test(u) && /q=USB/.test(u));
});

// ---- 3. self-inspection: checklists generated, two sections answer, the chart
let period = '';
await step('自己点検: bucho (ledger-all) generates the checklists of every section (201, items added)', async () => {
  const p = pages.bucho;
  await open(p, '#/ledgers?v=inspect', '#insp-generate');
  await p.click('#insp-generate summary');
  period = await p.inputValue('#gen-period');
  const a = await answerOf(p, 'POST', /^\/api\/checklists$/, () => p.click('#gen-submit'));
  await p.waitForSelector('#insp-generate .notice--success');
  const msg = await text(p, '#insp-generate .notice--success');
  diag(`${period}: ${a.status} ${JSON.stringify(a.body)}; ${msg}`);
  return a.status === 201 && a.body.added > 0 && msg === fill(T['insp.gen.done'], { added: a.body.added, skipped: a.body.skipped });
});

// answers: somu (kacho) and johoseisaku (jkacho), by the index of the item on the screen
const plans = {
  kacho: { section: 'somu', name: '総務課', answers: ['done', 'done', 'done', 'partial', 'not-done', 'na'] },
  jkacho: { section: 'johoseisaku', name: '情報政策課', answers: ['done', 'done', 'na', 'partial'] },
};
const counted = {};
const needsComment = (a) => a === 'partial' || a === 'not-done';
const summaryOf = (p) => p.$$eval('#insp-summary li', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.answer, Number(li.querySelector('.insp-summary__n').textContent)])));
for (const [user, plan] of Object.entries(plans)) {
  const first = user === 'kacho';
  await step(`自己点検: ${user} (${plan.section}) answers ${plan.answers.length} items of ${plan.name} and saves (each an answers record)${
    first ? '; 未実施 without a comment is refused (400) and said at its item, then saved with one' : ''}`, async () => {
    need(period, 'the checklists');
    const p = await newPage();
    pages[user] = p;
    await login(p, LGWAN, user);
    await open(p, '#/ledgers?v=inspect', '#insp-form');
    const sel = await p.$eval('#insp-section', (s) => s.value);
    const items = await p.$$eval('#insp-form li.insp-item', (lis) => lis.map((li) => li.dataset.item));
    let late = null; // kacho's 未実施: its comment only after the refusal
    for (let i = 0; i < plan.answers.length; i++) {
      const a = plan.answers[i];
      await p.check(`li.insp-item[data-item="${items[i]}"] input[value="${a}"]`);
      if (first && a === 'not-done') late = items[i];
      else if (needsComment(a)) await p.fill(`#cm-${items[i]}`, `${user}: 手順書を改訂中 ${evil}`);
    }
    const commented = items[plan.answers.findIndex(needsComment)];
    const posts = [];
    const onResp = (r) => { if (/^\/api\/ledgers\/inspections-answers/.test(new URL(r.url()).pathname) && r.request().method() === 'POST') posts.push(r.status()); };
    p.on('response', onResp);
    let refused = '';
    if (late) {
      await p.click('#insp-save');
      await p.waitForSelector('#insp-message .notice--error');
      refused = await text(p, `li.insp-item[data-item="${late}"] .insp-item__error`);
      await shot(p, 'ledger-09-inspection-refused', 1400);
      await p.fill(`#cm-${late}`, '来年度に実施する予定です。');
    }
    await p.click('#insp-save');
    await p.waitForSelector('#insp-message .notice--success');
    p.off('response', onResp);
    const msg = await text(p, '#insp-message');
    const summary = await summaryOf(p);
    const comment = await p.inputValue(`#cm-${commented}`);
    const imgs = await p.$$eval('sk-inspection img', (x) => x.length);
    counted[plan.section] = { total: items.length, summary };
    await shot(p, `ledger-${first ? '10' : '11'}-inspection-${plan.section}`, 1400);
    diag(`${sel}: ${items.length} items; posts ${posts.join(',')}; refused: ${refused}; ${msg}; ${JSON.stringify(summary)}`);
    const want = (k) => plan.answers.filter((x) => x === k).length;
    return sel === plan.section && items.length >= plan.answers.length
      && posts.filter((s) => s === 201).length === plan.answers.length
      && posts.filter((s) => s !== 201).length === (late ? 1 : 0) && (!late || (posts.includes(400) && /コメント/.test(refused)))
      && msg === fill(T['insp.saved'], { n: late ? 1 : plan.answers.length })
      && summary.done === want('done') && summary.partial === want('partial') && summary['not-done'] === want('not-done')
      && summary.na === want('na') && summary.none === items.length - plan.answers.length
      && comment.endsWith(evil) && imgs === 0;
  });
}

await step('自己点検: kacho changes one answer 実施 → 該当なし (an update with its version), and sees 情報政策課 read-only', async () => {
  need(counted.somu, 'the answers of somu');
  const p = pages.kacho;
  const first = await p.$eval('#insp-form li.insp-item', (li) => li.dataset.item);
  await p.check(`li.insp-item[data-item="${first}"] input[value="na"]`);
  const a = await answerOf(p, 'POST', /^\/api\/ledgers\/inspections-answers\/[^/]+$/, () => p.click('#insp-save'));
  await p.waitForSelector('#insp-message .notice--success');
  const s = await summaryOf(p);
  counted.somu.summary = s;
  await p.selectOption('#insp-section', 'johoseisaku');
  await p.click('#insp-select button[type=submit]');
  await p.waitForSelector('#insp-readonly');
  const disabled = await p.$$eval('#insp-form fieldset', (fs) => fs.every((f) => f.disabled));
  const save = await p.$('#insp-save');
  diag(`${a.status}; ${JSON.stringify(s)}`);
  answerId = a.body && a.body.id;
  return a.status === 200 && s.done === 2 && s.na === 2 && s.partial === 1 && disabled && save === null;
});

await step('証跡ファイル (and the header names the section 総務課, not its id): kacho attaches evidence to the answer (through the gate: sanitised and listed; an .exe blocked and not attached); the download is the sanitised file', async () => {
  need(answerId, 'the answer of the step before');
  const p = pages.kacho;
  await open(p, `#/ledgers?t=inspections-answers&id=${encodeURIComponent(answerId)}`, '#files-evidence_files-form');
  const name = `点検記録${evil}.csv`;
  await p.setInputFiles('#files-evidence_files-input', [
    { name, mimeType: 'text/csv', buffer: Buffer.from('月,件数\r\n4月,=1+1\r\n', 'utf8') },
    { name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.concat([Buffer.from('MZ\x90\x00'), Buffer.alloc(300)]) },
  ]);
  await p.click('#files-evidence_files-attach');
  await p.waitForSelector('#record-message .notice--error');
  const msg = await text(p, '#record-message');
  const names = await p.$$eval('#files-evidence_files-list li .file-list__name', (as) => as.map((a) => a.textContent.trim()));
  const href = await p.$eval('#files-evidence_files-list li .file-list__name', (a) => a.getAttribute('href'));
  const body = await p.evaluate(async (h) => (await fetch(h)).text(), href);
  const hist = await p.$$eval('#ledger-history tbody tr', (trs) => trs.map((tr) => tr.children[3].textContent.trim()));
  const imgs = await p.$$eval('sk-ledger-record img', (x) => x.length);
  const section = await text(p, '.header__section');
  await shot(p, 'ledger-12a-evidence', true);
  diag(`${msg} | ${names.join(', ')} | ${hist.join(', ')} | ${section}`);
  return section === '(総務課)' && names.length === 1 && names[0] === name && msg.includes(fill(T['ledger.files.attached'], { names: name }))
    && msg.includes('tool.exe') && /ゲートで遮断/.test(msg) && body.includes("'=1+1") && hist.includes(T['ledger.hist.attach'])
    && imgs === 0;
});

// a date input takes what the keyboard types in the page's locale; fill() sets the value
await step('研修計画 and 指摘事項 added through their forms (a date input, はい/いいえ, choices; a finding from 未実施, open)', async () => {
  const p = pages.bucho;
  await open(p, '#/ledgers?t=training-plans&new=1', '#ledger-form');
  await p.fill('#ledger-form [name=course]', '情報セキュリティ研修 (全職員)');
  await p.fill('#ledger-form [name=date]', '2026-04-10');
  await p.fill('#ledger-form [name=trainer]', '情報政策課');
  await p.fill('#ledger-form [name=audience]', '全職員');
  await p.selectOption('#ledger-form [name=measure]', 'test');
  const boolOpts = await p.$$eval('#ledger-form [name=required] option', (os) => os.map((o) => o.textContent.trim()));
  await p.selectOption('#ledger-form [name=required]', 'yes');
  const a = await answerOf(p, 'POST', /^\/api\/ledgers\/training-plans$/, () => p.click('#ledger-save'));
  await p.waitForSelector('#record');
  const req = await text(p, '#record dd[data-key=required]');
  await open(p, '#/ledgers?t=inspections-findings&new=1', '#ledger-form');
  await p.fill('#ledger-form [name=finding]', 'USB メモリの持ち出し手順が未整備');
  await p.fill('#ledger-form [name=owner]', 'kacho');
  await p.fill('#ledger-form [name=due]', '2027-03-31');
  await p.selectOption('#ledger-form [name=state]', 'open');
  const b = await answerOf(p, 'POST', /^\/api\/ledgers\/inspections-findings$/, () => p.click('#ledger-save'));
  await p.waitForSelector('#record');
  await shot(p, 'ledger-12-finding', true);
  diag(`plan ${a.status} ${a.body && a.body.id} (${boolOpts.join('/')}; ${req}); finding ${b.status} ${b.body && b.body.id}`);
  return a.status === 201 && b.status === 201 && req === 'はい' && boolOpts.join('/') === `${T['ledger.choose']}/はい/いいえ`;
});

await step('グラフ: the self-inspection chart per section has what the two sections answered (the chart\'s data and the table on screen)', async () => {
  need(counted.somu && counted.johoseisaku, 'the answers of both sections');
  const p = pages.bucho;
  await open(p, '#/ledgers?v=charts', '#insp-section-table');
  await chartsDrawn(p, ['#chart-insp-section', '#chart-insp-chapter']);
  const chart = await p.evaluate(async () => {
    const { Chart } = await import('/vendor/chart.js');
    const c = Chart.getChart(document.querySelector('#chart-insp-section'));
    const k = Chart.getChart(document.querySelector('#chart-insp-chapter'));
    return c && {
      labels: c.data.labels,
      sets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })),
      stacked: Boolean(c.options.scales.y.stacked && c.options.scales.x.stacked),
      chapters: k ? k.data.labels.length : 0,
      chapterTotal: k ? k.data.datasets.reduce((a, d) => a + d.data.reduce((x, y) => x + y, 0), 0) : 0,
    };
  });
  const rows = await p.$$eval('#insp-section-table tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.row,
    Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset.k, Number(td.textContent)]))])));
  const ink = await p.evaluate(() => {
    const c = document.querySelector('#chart-insp-section');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
    return n;
  });
  await shot(p, 'ledger-13-charts', true);
  diag(`${JSON.stringify(chart)}; table ${JSON.stringify(rows)}; ${ink} painted pixels`);
  const set = (label) => chart.sets.find((s) => s.label === label).data;
  const iSomu = chart.labels.indexOf('総務課');
  const iJoho = chart.labels.indexOf('情報政策課');
  const s = counted.somu;
  const j = counted.johoseisaku;
  return chart && chart.stacked && iSomu >= 0 && iJoho >= 0
    && set('実施')[iSomu] === s.summary.done && set('一部')[iSomu] === s.summary.partial
    && set('未実施')[iSomu] === s.summary['not-done'] && set('該当なし')[iSomu] === s.summary.na
    && set('未回答')[iSomu] === s.summary.none
    && set('実施')[iJoho] === j.summary.done && set('該当なし')[iJoho] === j.summary.na && set('一部')[iJoho] === j.summary.partial
    && set('未回答')[iJoho] === j.summary.none
    && rows.somu && rows.somu.done === s.summary.done && rows.somu.not_done === s.summary['not-done']
    && rows.johoseisaku && rows.johoseisaku.na === j.summary.na
    && chart.chapters > 1 && chart.chapterTotal === s.total + j.total && ink > 1000;
});

await step('グラフ: incidents per month count the incident (high); the open finding is 0〜30 日; training completion: nobody took the required course, everyone on the not-taken list', async () => {
  const p = pages.bucho;
  if (!(await p.$('#chart-incidents'))) await open(p, '#/ledgers?v=charts', '#chart-incidents');
  await chartsDrawn(p, ['#chart-incidents', '#chart-findings', '#chart-training']);
  const r = await p.evaluate(async () => {
    const { Chart } = await import('/vendor/chart.js');
    const c = Chart.getChart(document.querySelector('#chart-incidents'));
    const f = Chart.getChart(document.querySelector('#chart-findings'));
    const tr = Chart.getChart(document.querySelector('#chart-training'));
    return {
      high: c.data.datasets[0].label, highSum: c.data.datasets[0].data.reduce((a, b) => a + b, 0),
      buckets: f ? f.data.labels : [], open: f ? f.data.datasets[0].data : [],
      completed: tr ? tr.data.datasets[0].data : null, notyet: tr ? tr.data.datasets[1].data : null,
      missing: [...document.querySelectorAll('#missing-table tbody tr')].map((x) => x.dataset.user),
      course: (document.querySelector('#missing-table tbody td:last-child') || { textContent: '' }).textContent,
    };
  });
  diag(JSON.stringify(r));
  return r.high === '高' && r.highSum >= 1 && r.buckets.length === 4 && r.buckets[0] === '0〜30 日' && r.open[0] === 1
    && r.completed && r.completed.every((x) => x === 0) && r.notyet.reduce((a, b) => a + b, 0) >= 7
    && ['yamada', 'joho', 'bucho', 'ciso', 'kacho', 'jkacho', 'kansa'].every((u) => r.missing.includes(u))
    && r.course.includes('情報セキュリティ研修 (全職員)');
});

// ---- 4. the auditor reads and changes nothing
await step('監査員 (kansa): the ledgers (a ledger\'s tables as tabs) and the incident are shown without 新規登録 or 編集; 自己点検 read-only; no checklist generation; evidence downloadable, not changeable', async () => {
  need(incident, 'the incident');
  const p = await newPage();
  await login(p, LGWAN, 'kansa');
  await open(p, '#/ledgers', '.ledger-cards');
  const cards = await p.$$eval('.ledger-card', (cs) => cs.map((c) => c.dataset.ledger));
  await shot(p, 'ledger-14-auditor-home');
  const noAdd = [];
  const tabs = {};
  for (const tok of ['assets', 'incidents', 'training-plans', 'inspections-answers', 'laws']) {
    await open(p, `#/ledgers?t=${tok}`, '#ledger-filters');
    await p.waitForSelector('#ledger-table, #ledger-empty');
    noAdd.push((await p.$('#ledger-add')) === null);
    tabs[tok] = await p.$$eval('nav.tabs a', (as) => as.map((a) => `${a.dataset.table}${a.getAttribute('aria-current') === 'page' ? '*' : ''}`).join(' '));
  }
  await open(p, `#/ledgers?t=incidents&id=${incident.id}`, '#record');
  const edit = await p.$('#record-edit');
  const stepButton = await p.$('#step-sign');
  await open(p, '#/ledgers?v=inspect', '#insp-select');
  await p.waitForSelector('#insp-readonly');
  const gen = await p.$('#insp-generate');
  const save = await p.$('#insp-save');
  let evidence = [1, 1, 0];
  if (answerId) { // the evidence is listed and downloadable, without 添付 or 外す
    await open(p, `#/ledgers?t=inspections-answers&id=${encodeURIComponent(answerId)}`, '#files-evidence_files-list');
    const href = await p.$eval('#files-evidence_files-list .file-list__name', (a) => a.getAttribute('href'));
    const status = await p.evaluate(async (h) => (await fetch(h)).status, href);
    evidence = [await p.$$eval('#files-evidence_files-form, .file-remove', (x) => x.length), 0, status];
  }
  diag(`cards ${cards.join(',')}; no add ${noAdd.join(',')}; tabs ${JSON.stringify(tabs)}; evidence ${evidence}`);
  return cards.length === 8 && noAdd.every(Boolean) && edit === null && stepButton === null && gen === null && save === null
    && evidence[0] === 0 && evidence[2] === 200
    && tabs['training-plans'] === 'training-plans* training-sessions training-attendance'
    && tabs['inspections-answers'] === 'inspections-checklists inspections-answers* inspections-findings' && tabs.assets === '';
});

// ---- 5. downloads, English, width
await step('Excel: the incidents ledger and the yearly report download as xlsx from their links', async () => {
  const p = pages.bucho;
  await open(p, '#/ledgers', '#yearly-report');
  const href = await p.getAttribute('.ledger-card[data-ledger=incidents] a.xlsx', 'href');
  const rep = await p.getAttribute('#report-xlsx', 'href');
  const pdf = await p.getAttribute('#report-pdf', 'href');
  const x = await p.request.get(`${LGWAN}${href}`);
  const xb = await x.body();
  const y = await p.request.get(`${LGWAN}${rep}`);
  const yb = await y.body();
  await shot(p, 'ledger-15-home');
  diag(`${href} ${x.status()} ${x.headers()['content-disposition']}; ${rep} ${y.status()}; ${pdf}`);
  return href === '/api/ledgers/incidents.xlsx' && x.status() === 200 && xb.subarray(0, 2).toString() === 'PK'
    && /^\/api\/report\/\d{4}\.xlsx$/.test(rep) && pdf === rep.replace('.xlsx', '.pdf')
    && y.status() === 200 && yb.subarray(0, 2).toString() === 'PK';
});

await step('English: the incident, its chain and the charts in English (no Japanese label of ours left)', async () => {
  need(incident, 'the incident');
  const p = pages.ciso;
  await p.click('#lang-switch');
  await open(p, `#/ledgers?t=incidents&id=${incident.id}`, '#chain-steps');
  await p.waitForFunction(() => document.documentElement.lang === 'en');
  const title = await text(p, '#chain-title');
  const role = await text(p, '#chain-steps li[data-role=sysadmin] .step__role');
  const state = await text(p, '#chain-steps li[data-role=sysadmin] .step__state');
  const label = await text(p, '#record dt[data-key=what]');
  await shot(p, 'ledger-16-incident-en', true);
  diag(`${title}; ${role}; ${state}; ${label}`);
  return title === E['chain.title'] && role === 'System Administrator' && state === E['chain.done'] && label === 'What happened';
});

await step('the ledger screens fit 1366×768 (no horizontal scrolling)', async () => {
  const r = [];
  for (const [p, h, sel] of [[pages.joho, '#/ledgers?t=incidents', '#ledger-table'], [pages.bucho, '#/ledgers?v=charts', '#insp-section-table'],
    [pages.kacho, '#/ledgers?v=inspect', '#insp-form'], [pages.bucho, '#/ledgers?t=assets&new=1', '#ledger-form']]) {
    await open(p, h, sel);
    r.push(await fitsWidth(p));
  }
  await shot(pages.bucho, 'ledger-17-asset-form', true);
  return r.every(Boolean) || (diag(JSON.stringify(r)), false);
});

ok(changes.length > 0 && changes.every((c) => c.path === '/api/session' && c.method === 'POST' || c.csrf.length > 0),
  `every POST the pages sent (${changes.length}) carried X-CSRF-Token (login excepted)`,
  changes.filter((c) => !c.csrf).map((c) => `${c.method} ${c.path}`).join('\n'));
ok(problems.length === 0, 'no console error, page error or CSP violation in the whole walk', problems.join('\n'));
diag(`screenshots in ${SHOTS}`);
await finish();
