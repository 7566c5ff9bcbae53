// The customer-service agent in the window, in Chromium with the engine's
// recorded events: the tool at work and the request-type chip on a question
// about an order; the card that holds a complaint until the user confirms,
// answered by a click; the tools in the inspector; the customer picker; the
// request-type counts in the history. Both languages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { openBrowser, screenshotDir } from '../lib/browser.mjs';

let browser;
before(async () => {
  browser = await openBrowser();
  await mkdir(screenshotDir, { recursive: true });
});
after(() => browser.close());

async function ask(page, text) {
  await page.fill('#ask-input', text);
  await page.click('#ask-send');
}

test('an order question shows the tool at work, the request type, and the tool in the inspector (Korean)', async () => {
  const { page, errors } = await browser.page({ lang: 'ko-KR', stub: { next_turn: 'tool-turn' } });
  await ask(page, '주문한 상품이 언제 도착하나요?');
  await page.locator('#transcript .tool:not(.running)', { hasText: /주문 조회 완료 \(\d+ ms\)/ }).waitFor();
  const chip = page.locator('#transcript li.msg.user .request-type');
  await chip.waitFor();
  assert.equal(await chip.textContent(), '주문 조회');
  assert.equal(await chip.getAttribute('data-type'), 'order_status');
  await page.locator('#transcript li.msg.assistant:not(.streaming)').waitFor();
  assert.match(await page.textContent('#transcript li.msg.assistant .body'), /^잠시만요, 주문을 확인해 볼게요\. 조회 결과를 알려 드릴게요\. .*A-1001/);
  await page.screenshot({ path: path.join(screenshotDir, 'agent-tool-ko.png'), fullPage: true });

  await page.click('#tab-inspector');
  const call = page.locator('#turns .tool-calls li');
  await call.waitFor();
  assert.equal(await call.locator('.tool-name').textContent(), 'lookup_order');
  assert.match(await call.locator('.tool-result').textContent(), /"recent_orders"/);
  assert.match(await call.locator('.ms').textContent(), /^\d+ ms$/);
  assert.equal(await page.locator('#turns li[data-mark="tool_ms"] .mark').textContent(), '도구 실행');
  assert.match(await page.locator('#turns li[data-mark="answer_audio_ms"] .ms').textContent(), /^\d+ ms$/);
  assert.deepEqual(errors, []);
});

test('a complaint waits on a card until the user confirms it; the click answers as a turn', async () => {
  const { page, errors } = await browser.page({ stub: { next_turn: 'confirm-ask' } });
  await ask(page, 'I want to file complaint: my earphones arrived broken.');
  const card = page.locator('#transcript .confirm-card');
  await card.waitFor();
  assert.equal(await card.locator('.confirm-title').textContent(), 'Complaint: go ahead?');
  assert.match(await card.locator('.confirm-summary').textContent(), /earphones arrived broken/);
  assert.equal(await card.locator('.confirm-hint').textContent(), 'Click, or say “yes” or “no”.');
  assert.equal(await page.locator('#transcript li.msg.user .request-type').textContent(), 'Complaint');
  assert.equal(await page.locator('#transcript .tool[data-held]').textContent(), 'Complaint: waiting for your yes', 'held, not done');
  await page.screenshot({ path: path.join(screenshotDir, 'agent-confirm-en.png'), fullPage: true });

  await card.locator('.confirm-yes').click();
  await page.locator('#transcript .confirm-card[data-settled="approved"]').waitFor();
  assert.equal(await card.locator('.confirm-hint').textContent(), 'Done.');
  assert.equal(await card.locator('.confirm-yes').isDisabled(), true);
  const asked = await page.evaluate(() => window.__SORI_ASKED__.at(-1));
  assert.deepEqual(asked, { text: 'Yes, go ahead.', speak: true, approve: true });
  await page.locator('#transcript li.msg.user', { hasText: 'Yes, go ahead.' }).waitFor();
  await page.locator('#transcript .tool', { hasText: /Complaint done/ }).waitFor();
  assert.deepEqual(errors, []);
});

test('the card and its buttons speak Korean too, and Cancel sends no', async () => {
  const { page } = await browser.page({ lang: 'ko-KR', stub: { next_turn: 'confirm-ask' } });
  await ask(page, '불만 접수하고 싶어요');
  const card = page.locator('#transcript .confirm-card');
  await card.waitFor();
  assert.equal(await card.locator('.confirm-title').textContent(), '불만 접수: 진행할까요?');
  assert.deepEqual([await card.locator('.confirm-yes').textContent(), await card.locator('.confirm-no').textContent()], ['진행', '취소']);
  await card.locator('.confirm-no').click();
  const asked = await page.evaluate(() => window.__SORI_ASKED__.at(-1));
  assert.deepEqual(asked, { text: '아니요, 취소할게요.', speak: true, approve: false });
});

test('the customer picker lists the shop and saves the choice; a broken shop says why', async () => {
  const { page, errors } = await browser.page({ stub: { settings: { customer: 'C-002' } } });
  const picker = page.locator('#customer-picker');
  await page.waitForFunction(() => document.querySelectorAll('#customer-picker option').length === 4);
  assert.equal(await picker.inputValue(), 'C-002');
  assert.deepEqual(await picker.locator('option').allTextContents(), ['No customer', '김민지 · Gold (C-001)', 'Emily Carter · Silver (C-002)', '박서준 · Basic (C-003)']);
  await picker.selectOption('C-001');
  await page.waitForFunction(() => (window.__SORI_SAVED__ ?? []).at(-1)?.customer === 'C-001');
  await picker.selectOption('');
  await page.waitForFunction(() => (window.__SORI_SAVED__ ?? []).at(-1)?.customer === null);
  // Picking saves the settings, which does not read the shop again.
  assert.equal((await page.evaluate(() => window.__SORI_CALLS__)).filter((c) => c === 'list_customers').length, 1);
  assert.deepEqual(errors, []);

  const broken = await browser.page({ lang: 'ko-KR', stub: { customers_error: 'The shop database /tmp/x.sqlite is not there: fix the path in Settings.' } });
  await broken.page.locator('#notices [data-id="customers"]', { hasText: '고객 목록을 읽지 못했어요: The shop database /tmp/x.sqlite is not there' }).waitFor();
  // With the agent's tools off there is no one to pick.
  const off = await browser.page({ stub: { settings: { agent_tools: false } } });
  await off.page.waitForFunction(() => document.getElementById('customer-field').hidden);
});

test('the history counts request types, per conversation and in all', async () => {
  const { page } = await browser.page({ lang: 'ko-KR' });
  await page.click('#tab-history');
  await page.locator('#history-counts .request-type').first().waitFor();
  assert.deepEqual(await page.locator('#history-counts .request-type').allTextContents(), ['주문 조회 2', '기타 1']);
  const first = page.locator('#conversations li').first();
  assert.deepEqual(await first.locator('.request-type').allTextContents(), ['주문 조회 1', '기타 1']);
});
