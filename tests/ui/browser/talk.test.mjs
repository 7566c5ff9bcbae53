// The conversation view in Chromium, replaying the engine's recorded events:
// a streamed Korean reply, a reply cut by the user, push-to-talk, errors
// users can act on, the level meter, in Korean and English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, screenshotDir } from '../lib/browser.mjs';

const recorded = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/recorded');
const fixture = async (name) => JSON.parse(await readFile(path.join(recorded, `${name}.json`), 'utf8'));
const replyOf = (events) => events.filter((e) => e.type === 'assistant_delta').map((e) => e.text).join('');

let browser;
before(async () => {
  browser = await openBrowser();
  await mkdir(screenshotDir, { recursive: true });
});
after(() => browser.close());

test('a typed Korean question: the reply streams in, the status follows the engine', async () => {
  const { page, errors } = await browser.page({ lang: 'ko-KR' });
  const events = await fixture('korean-turn');
  await page.evaluate(() => {
    window.__STATES__ = [];
    new MutationObserver(() => window.__STATES__.push(document.getElementById('status').dataset.state))
      .observe(document.getElementById('status'), { attributes: true });
  });
  await page.fill('#ask-input', '주문한 상품이 언제 도착하나요?');
  await page.press('#ask-input', 'Enter');
  await page.locator('#transcript .msg.assistant.streaming').waitFor();
  assert.equal(await page.inputValue('#ask-input'), '', 'the box is emptied once sent');
  await page.locator('#transcript .msg.assistant:not(.streaming)').waitFor();
  assert.equal(await page.textContent('#transcript .msg.user .body'), '주문한 상품이 언제 도착하나요?');
  assert.equal(await page.textContent('#transcript .msg.assistant .body'), replyOf(events));
  assert.equal(await page.textContent('#transcript .msg.user .who'), '나');
  await page.locator('#status[data-state="idle"]', { hasText: '대기 중' }).waitFor();
  const states = (await page.evaluate(() => window.__STATES__)).filter((s, i, all) => s !== all[i - 1]);
  assert.deepEqual(states, ['thinking', 'speaking', 'idle']);
  assert.deepEqual(await page.evaluate(() => window.__SORI_ASKED__), [{ text: '주문한 상품이 언제 도착하나요?', speak: true }]);
  await page.evaluate(() => window.__SORI_EMIT__({ type: 'level', dbfs: -18, speech: true }));
  await page.screenshot({ path: path.join(screenshotDir, 'main-ko.png') });
  assert.deepEqual(errors, []);
});

test('speech can be turned off for typed questions', async () => {
  const { page } = await browser.page();
  await page.uncheck('#speak-typed');
  await page.fill('#ask-input', 'Hello');
  await page.click('#ask-send');
  await page.locator('#transcript .msg.assistant').waitFor();
  assert.deepEqual(await page.evaluate(() => window.__SORI_ASKED__), [{ text: 'Hello', speak: false }]);
});

test('a reply cut by the user is marked where it was cut', async () => {
  const { page } = await browser.page({ stub: { next_turn: 'interrupted-turn' } });
  const events = await fixture('interrupted-turn');
  const end = events.at(-1);
  await page.fill('#ask-input', 'When will my order arrive?');
  await page.press('#ask-input', 'Enter');
  const msg = page.locator('#transcript .msg.assistant.interrupted');
  await msg.waitFor();
  assert.equal(await msg.locator('.cut').textContent(), 'cut here');
  // Exactly where the engine says the voice stopped, though sentences are a blank line apart.
  const chars = [...replyOf(events)];
  assert.ok(end.heard.includes('\n\n'), 'the heard part spans a paragraph break');
  assert.equal(await msg.locator('.body > span').first().textContent(), chars.slice(0, end.heard_chars).join(''));
  assert.equal(await msg.locator('.body > span').first().textContent(), end.heard);
  assert.equal(await msg.locator('.unheard').textContent(), chars.slice(end.heard_chars).join(''));
  await page.screenshot({ path: path.join(screenshotDir, 'main-en.png') });
});

test('holding push-to-talk listens; releasing sends; the stop button stops', async () => {
  const { page } = await browser.page();
  await page.locator('#ptt-hint', { hasText: 'Ctrl+Shift+Space' }).waitFor();
  const box = await page.locator('#ptt').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.locator('#status[data-state="listening"]').waitFor();
  assert.equal(await page.getAttribute('#ptt', 'aria-pressed'), 'true');
  assert.equal(await page.textContent('#ptt-label'), 'Listening… release to send');
  await page.waitForTimeout(400);
  await page.mouse.up();
  assert.equal(await page.getAttribute('#ptt', 'aria-pressed'), 'false');
  await page.locator('#transcript .msg.user').waitFor();
  await page.click('#stop');
  const calls = await page.evaluate(() => window.__SORI_CALLS__);
  assert.deepEqual(calls.filter((c) => /ptt|stop/.test(c)), ['ptt_press', 'ptt_release', 'stop']);
});

test('the keyboard drives push-to-talk too: Space on the button, and the shortcut in the window', async () => {
  const { page } = await browser.page();
  await page.focus('#ptt');
  await page.keyboard.down(' ');
  await page.locator('#ptt[aria-pressed="true"]').waitFor();
  await page.waitForTimeout(300);
  await page.keyboard.up(' ');
  await page.locator('#ptt[aria-pressed="false"]').waitFor();
  await page.focus('#ask-input');
  await page.keyboard.down('Control');
  await page.keyboard.down('Shift');
  await page.keyboard.down('Space');
  await page.locator('#ptt[aria-pressed="true"]').waitFor();
  await page.keyboard.up('Space');
  await page.keyboard.up('Shift');
  await page.keyboard.up('Control');
  await page.locator('#ptt[aria-pressed="false"]').waitFor();
  const calls = await page.evaluate(() => window.__SORI_CALLS__.filter((c) => c.startsWith('ptt')));
  assert.deepEqual(calls, ['ptt_press', 'ptt_release', 'ptt_press', 'ptt_release']);
});

test('the in-window shortcut is the configured one, not a fixed key', async () => {
  const { page } = await browser.page({ stub: { settings: { hotkey: 'Alt+F9' } } });
  await page.locator('#ptt-hint', { hasText: 'Alt+F9' }).waitFor();
  await page.focus('#ask-input');
  // The old fixed key does nothing now.
  await page.keyboard.press('Control+Shift+Space');
  await page.keyboard.down('Alt');
  await page.keyboard.down('F9');
  await page.locator('#ptt[aria-pressed="true"]').waitFor();
  // Letting go of another key (Space while typing) does not send.
  await page.keyboard.press('Space');
  assert.equal(await page.getAttribute('#ptt', 'aria-pressed'), 'true');
  await page.keyboard.up('F9');
  await page.keyboard.up('Alt');
  await page.locator('#ptt[aria-pressed="false"]').waitFor();
  // Letting go of the modifier first also sends (some systems never report the key's release).
  await page.keyboard.down('Alt');
  await page.keyboard.down('F9');
  await page.locator('#ptt[aria-pressed="true"]').waitFor();
  await page.keyboard.up('Alt');
  await page.locator('#ptt[aria-pressed="false"]').waitFor();
  await page.keyboard.up('F9');
  const calls = await page.evaluate(() => window.__SORI_CALLS__.filter((c) => c.startsWith('ptt')));
  assert.deepEqual(calls, ['ptt_press', 'ptt_release', 'ptt_press', 'ptt_release']);
  const parsed = await page.evaluate(async () => {
    const { parseAccelerator } = await import('./views/talk.js');
    return ['Ctrl+Shift+Space', 'CommandOrControl+K', 'Super+1', 'Shift+F12', 'Ctrl+Nope', 'Alt+KeyB', 'Ctrl+Escape', 'Ctrl+['].map(parseAccelerator);
  });
  assert.deepEqual(parsed.map((p) => p?.code ?? null), ['Space', 'KeyK', 'Digit1', 'F12', null, 'KeyB', 'Escape', 'BracketLeft']);
  assert.equal(parsed[2].metaKey, true);
});

test('a reply the content filter stopped says why', async () => {
  const { page } = await browser.page({ stub: { next_turn: 'filtered-turn' } });
  await page.fill('#ask-input', 'Tell me about my order.');
  await page.press('#ask-input', 'Enter');
  const why = page.locator('#transcript .msg.assistant.incomplete .why');
  await why.waitFor();
  assert.equal(await why.textContent(), 'The provider’s content filter stopped the reply.');
  await page.click('#lang-toggle');
  assert.equal(await why.textContent(), '제공자의 콘텐츠 필터가 답변을 멈췄어요.');
});

test('a rejected key says so and links into the settings', async () => {
  const { page } = await browser.page({ stub: { next_turn: 'rejected-key' } });
  await page.fill('#ask-input', 'Hello?');
  await page.press('#ask-input', 'Enter');
  const notice = page.locator('#notices .notice.error');
  await notice.waitFor();
  assert.equal(await notice.getAttribute('role'), 'alert');
  assert.match(await notice.textContent(), /The API key is wrong or has no access\./);
  await page.locator('#status[data-state="error"]').waitFor();
  await notice.locator('button.action', { hasText: 'Open settings' }).click();
  assert.equal(await page.getAttribute('#tab-settings', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#key-form'), true);
});

test('a rate limit shows "retrying in N s" in Korean', async () => {
  const { page } = await browser.page({ lang: 'ko-KR', stub: { next_turn: 'retried-turn' } });
  await page.fill('#ask-input', '환불 됐나요?');
  await page.press('#ask-input', 'Enter');
  await page.locator('#notices .notice.info', { hasText: '1초 후에 다시 시도해요…' }).waitFor();
  await page.locator('#transcript .msg.assistant:not(.streaming)').waitFor();
});

test('no microphone: push-to-talk offers to pick one; typing still works', async () => {
  const { page } = await browser.page({ stub: { microphone: false } });
  await page.click('#ptt');
  const notice = page.locator('#notices .notice', { hasText: 'No microphone was found' });
  await notice.waitFor();
  await notice.locator('button.action', { hasText: 'Choose a microphone' }).click();
  assert.equal(await page.isVisible('#set-input_device'), true);
});

test('a refused global shortcut and recovered settings are explained', async () => {
  const { page } = await browser.page({ lang: 'ko-KR', stub: { hotkey_error: 'This Wayland session does not allow global shortcuts.', settings_warnings: ['voice: reset to the default.'] } });
  await page.locator('#notices .notice', { hasText: '전역 단축키를 쓸 수 없어요' }).waitFor();
  await page.locator('#notices .notice', { hasText: '설정 파일이 손상되어' }).waitFor();
});

test('the level meter follows the microphone, speech marked', async () => {
  const { page } = await browser.page();
  await page.locator('#ptt-hint', { hasText: 'Ctrl' }).waitFor();
  await page.evaluate(() => window.__SORI_EMIT__({ type: 'level', dbfs: -30, speech: true }));
  assert.equal(await page.getAttribute('#level', 'aria-valuenow'), '-30');
  assert.equal(await page.getAttribute('#level', 'data-speech'), 'true');
  assert.equal(await page.evaluate(() => document.getElementById('level-fill').style.width), '50%');
  await page.evaluate(() => window.__SORI_EMIT__({ type: 'status', phase: 'transcribing' }));
  assert.equal(await page.textContent('#status'), 'Transcribing');
  assert.equal(await page.getAttribute('#status', 'aria-live'), 'polite');
});
