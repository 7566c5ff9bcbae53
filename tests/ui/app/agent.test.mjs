// The customer-service agent in the real window, against the test server
// and the sample shop in the rig's data folder: a question about an order is
// looked up (the tool at work, the request-type chip, the answer with the
// order's real date, the call in the inspector); the customer is picked in
// the window; a complaint waits on a card until the user clicks to confirm
// it, and only then does the shop record it. In Korean, then English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { appSession } from '../lib/webdriver.mjs';
import { startTestkit, saveSettingsAndKey } from '../lib/testkit.mjs';
import { screenshotDir } from '../lib/browser.mjs';

const app = appSession({ before, after });
const port = 20000 + (process.pid % 1000);
const base = `http://127.0.0.1:${port}`;
let server;

const post = (route, body) => fetch(`${base}/__testkit/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

before(async () => {
  server = await startTestkit(app.app, port);
  await post('tool-replies', { contains: '언제 도착', preamble: '잠시만요, 주문을 확인해 볼게요.', calls: [{ name: 'lookup_order', arguments: '{}' }] });
  await post('tool-answers', { contains: '언제 도착', template: '주문하신 {number} 상품은 {expected_on}에 도착할 예정이에요.' });
  await post('tool-replies', { contains: 'arrived broken', preamble: '', calls: [{ name: 'file_complaint', arguments: '{"summary":"The earphones arrived broken."}' }] });
  await post('replies', { contains: 'arrived broken', reply: 'I can file a complaint about the broken earphones. Shall I?' });
  await post('tool-answers', { contains: 'Yes, go ahead', template: 'Your complaint is filed as ticket {ticket}.' });
});

after(async () => {
  server?.kill();
  await rm(path.join(process.env.XDG_CONFIG_HOME ?? '', 'sori', 'settings.json'), { force: true });
});

const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);

test('the provider is set and the customer is picked in the window', async () => {
  await app.get().click('#tab-settings');
  await app.get().find('#set-base_url');
  await run(`document.getElementById('set-base_url').value = ${JSON.stringify(`${base}/v1`)}; done();`);
  await saveSettingsAndKey(app.get());
  // The sample shop's customers, from the real SQLite file.
  const options = await run(`
    const wait = () => document.querySelectorAll('#customer-picker option').length > 1 ? done([...document.querySelectorAll('#customer-picker option')].map((o) => o.textContent)) : setTimeout(wait, 100);
    wait();`);
  assert.deepEqual(options, ['No customer', '김민지 · Gold (C-001)', 'Emily Carter · Silver (C-002)', '박서준 · Basic (C-003)']);
  await run(`const p = document.getElementById('customer-picker'); p.value = 'C-001'; p.dispatchEvent(new Event('change')); done();`);
  await app.get().click('#tab-settings');
  await app.get().waitForText('#set-customer', () => true);
  const saved = await run(`done(document.getElementById('set-customer').value)`);
  assert.equal(saved, 'C-001');
  await app.get().click('#tab-talk');
});

test('in Korean: an order question is looked up and answered with its real date', async () => {
  await app.get().click('#lang-toggle');
  await app.get().waitForText('#tab-talk', (t) => t === '대화');
  await app.get().type('#ask-input', '주문한 상품이 언제 도착하나요?');
  await app.get().click('#ask-send');
  await app.get().waitForText('#status', (t) => t === '대기 중', { timeoutMs: 30000 });
  const answer = await app.get().waitForText('#transcript .msg.assistant .body', (t) => t.includes('2026-12-08') && t.endsWith('예정이에요.'), { timeoutMs: 10000 });
  assert.equal(answer, '잠시만요, 주문을 확인해 볼게요. 주문하신 A-1001 상품은 2026-12-08에 도착할 예정이에요.');
  assert.match(await app.get().text('#transcript .tool'), /^주문 조회 완료 \(\d+ ms\)$/);
  assert.equal(await app.get().text('#transcript .msg.user .request-type'), '주문 조회');
  await mkdir(screenshotDir, { recursive: true });
  await writeFile(path.join(screenshotDir, 'app-agent-ko.png'), await app.get().screenshot());
  await app.get().click('#tab-inspector');
  const call = await app.get().waitForText('#turns .tool-calls li', (t) => t.includes('lookup_order'));
  assert.match(call, /"expected_on":"2026-12-08"/);
  await app.get().click('#tab-talk');
  await app.get().click('#lang-toggle');
  await app.get().waitForText('#tab-talk', (t) => t === 'Talk');
});

test('in English: a complaint waits for a click on Go ahead, then the shop records it', async () => {
  await app.get().type('#ask-input', 'My earphones arrived broken, I want to complain.');
  await app.get().click('#ask-send');
  const title = await app.get().waitForText('#transcript .confirm-card .confirm-title', (t) => t.length > 0, { timeoutMs: 30000 });
  assert.equal(title, 'Complaint: go ahead?');
  assert.equal(await app.get().text('#transcript .confirm-card .confirm-summary'), 'The earphones arrived broken.');
  const before = (await (await fetch(`${base}/__testkit/requests`)).json()).filter((r) => r.body?.messages?.some((m) => m.role === 'tool' && m.content.includes('"recorded":true')));
  assert.equal(before.length, 0, 'nothing is recorded before the click');
  await app.get().click('#transcript .confirm-card .confirm-yes');
  await app.get().waitForText('#transcript .confirm-card .confirm-hint', (t) => t === 'Done.', { timeoutMs: 20000 });
  const answer = await app.get().waitForText('#transcript .msg.assistant:last-of-type .body', (t) => t.endsWith('.') && t.startsWith('Your complaint is filed as ticket'), { timeoutMs: 30000 });
  // The reply streams in; waiting for its full stop keeps the check from reading half a sentence.
  assert.match(answer, /^Your complaint is filed as ticket \d+\.$/);
  const users = await run(`done([...document.querySelectorAll('#transcript .msg.user .body')].map((b) => b.textContent))`);
  assert.equal(users.at(-1), 'Yes, go ahead.');
  await writeFile(path.join(screenshotDir, 'app-agent-confirm-en.png'), await app.get().screenshot());
});
