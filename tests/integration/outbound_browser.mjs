// The approve screen with held mail, in a real browser (run by daemon_outbound.sh when
// chromium and web/node_modules are there; TAP lines join the script's): the card of held
// mail shows its envelope and its DLP findings masked (never the number); approving while
// the mail server refuses shows the failure and a button to send it again; once the
// server takes mail again, that button sends it. Environment as browser_lib.mjs, and
//   BASE     the console's address (https://127.0.0.1:PORT)
//   APPROVER the user who approves; REQUEST the request's id; FAIL the file that makes the
//            test's sendmail fail (removed here before sending again)
import fs from 'node:fs';
import { env, finish, go, login, newPage, ok, problems, shot, step } from './browser_lib.mjs';

const card = `article.request[data-id="${env.REQUEST}"]`;
const page = await newPage();

// the text of sel once it holds s (selectors reach into the components' shadow roots)
async function waitText(sel, s) {
  for (let i = 0; i < 200; i++) {
    const t = await page.textContent(sel).catch(() => '');
    if (t && t.includes(s)) return t;
    await page.waitForTimeout(100);
  }
  return page.textContent(sel);
}

await step('browser: the approver logs in and opens 承認', async () => {
  await login(page, env.BASE, env.APPROVER);
  await go(page, 'approve', card);
  return true;
});

await step('browser: the held mail shows its envelope and its findings, masked', async () => {
  // the item (envelope, findings) is loaded after the list
  const text = await waitText(card, 'partner@partner.example');
  await shot(page, 'outbound-1-held-mail');
  return text.includes('kikaku@lg.test.example') && text.includes('partner@partner.example')
    && text.includes('****-****-****') && text.includes('個人番号')
    && !/(^|[^0-9A-Za-z])(3847|5629|1044)([^0-9A-Za-z]|$)/.test(text);
});

let answer = null;
await step('browser: approve while the mail server refuses: the failure and "send again" are shown', async () => {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => /\/approve$/.test(new URL(r.url()).pathname)),
    page.click(`${card} button.approve`),
  ]);
  answer = await resp.json();
  await page.waitForSelector(`.decided[data-id="${env.REQUEST}"] button.send-again`);
  const text = await page.textContent(`.decided[data-id="${env.REQUEST}"]`);
  await shot(page, 'outbound-2-send-failed');
  return resp.status() === 200 && answer.state === 'approved' && answer.mail
    && answer.mail.sent === false && text.includes('もう一度送信する');
});

await step('browser: the mail server takes mail again: "send again" sends it', async () => {
  fs.rmSync(env.FAIL, { force: true });
  const [resp] = await Promise.all([
    page.waitForResponse((r) => /\/send$/.test(new URL(r.url()).pathname)),
    page.click(`.decided[data-id="${env.REQUEST}"] button.send-again`),
  ]);
  const a = await resp.json();
  const text = await waitText(`.decided[data-id="${env.REQUEST}"]`, 'メールを宛先へ送信しました');
  await shot(page, 'outbound-3-sent');
  return resp.status() === 200 && a.mail && a.mail.sent === true
    && text.includes('メールを宛先へ送信しました')
    && (await page.$(`.decided[data-id="${env.REQUEST}"] button.send-again`)) === null;
});

ok(problems.length === 0, 'browser: no console errors', problems.join('\n'));
await finish();
