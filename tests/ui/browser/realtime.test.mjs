// Realtime mode in Chromium, in Korean and English: the mode switch in the
// settings, and a recorded Realtime session replayed into the window (the
// engine's real events, made by ui_fixtures_realtime.rs): the connection
// pill through connecting, connected, reconnecting after a dropped socket
// and back with the conversation restored; the rate limits in its tooltip;
// a spoken turn whose transcript came after the reply still shown above it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, screenshotDir } from '../lib/browser.mjs';

const recorded = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/recorded');

let browser;
let session;
before(async () => {
  browser = await openBrowser();
  await mkdir(screenshotDir, { recursive: true });
  session = JSON.parse(await readFile(path.join(recorded, 'realtime-session.json'), 'utf8'));
});
after(() => browser.close());

for (const [lang, words] of [
  ['en-US', { turns: "The server's voice detection", mode: 'Realtime (Realtime API, speech to speech)', connected: 'Realtime: connected', reconnecting: 'Reconnecting (attempt 1)', restored: 'Reconnected (2 turns of context restored)', limits: 'Limits left: requests 999/1000' }],
  ['ko-KR', { turns: '서버 음성 감지', mode: '실시간 (Realtime API, 음성 대 음성)', connected: '실시간 연결됨', reconnecting: '다시 연결 중 (1번째)', restored: '다시 연결됨 (대화 2턴 복원)', limits: '남은 한도: requests 999/1000' }],
]) {
  test(`the mode is switched in the settings (${lang})`, async () => {
    const { page, errors } = await browser.page({ lang });
    await page.click('#tab-settings');
    const options = await page.locator('#set-conversation_mode option').allTextContents();
    assert.ok(options.includes(words.mode), options.join(' | '));
    await page.selectOption('#set-conversation_mode', 'realtime');
    await page.selectOption('#set-realtime_voice', 'cedar');
    const turns = await page.locator('#set-realtime_turns option').allTextContents();
    assert.ok(turns.includes(words.turns), turns.join(' | '));
    await page.selectOption('#set-realtime_turns', 'server_vad');
    await page.click('#settings-save');
    await page.locator('#settings-result').filter({ hasText: /./ }).waitFor();
    const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
    assert.deepEqual([saved.conversation_mode, saved.realtime_voice, saved.realtime_model, saved.realtime_turns], ['realtime', 'cedar', 'gpt-realtime', 'server_vad']);
    assert.deepEqual(errors, []);
  });

  test(`a Realtime session shows its connection and its turns in order (${lang})`, async () => {
    const { page, errors } = await browser.page({ lang });
    const link = page.locator('#link');
    assert.equal(await link.isHidden(), true, 'no pill in chained mode');
    const emit = (events) => page.evaluate((evs) => evs.forEach((e) => window.__SORI_EMIT__(e)), events);
    const firstEnd = session.findIndex((e) => e.type === 'turn_ended');
    await emit(session.slice(0, firstEnd + 1));
    await link.filter({ hasText: words.connected }).waitFor();
    // The user's words came after the reply began, and still stand above it.
    const roles = await page.locator('#transcript .msg').evaluateAll((els) => els.map((el) => el.className.replace('msg ', '').split(' ')[0]));
    assert.deepEqual(roles, ['user', 'assistant']);
    assert.equal(await page.textContent('#transcript .msg.user .body'), session.find((e) => e.type === 'user_transcript').text);
    // The dropped socket: reconnecting (the engine's reason in the tooltip), then back with the context.
    const reconnecting = session.findIndex((e) => e.type === 'realtime' && e.state === 'reconnecting');
    await emit(session.slice(firstEnd + 1, reconnecting + 1));
    await link.filter({ hasText: words.reconnecting }).waitFor();
    assert.equal(await link.getAttribute('data-state'), 'reconnecting');
    assert.match(await link.getAttribute('title'), /Realtime server/);
    await page.screenshot({ path: path.join(screenshotDir, `realtime-reconnecting-${lang}.png`) });
    await emit(session.slice(reconnecting + 1));
    await link.filter({ hasText: words.restored }).waitFor();
    assert.ok((await link.getAttribute('title')).includes(words.limits), await link.getAttribute('title'));
    // The failed turn is marked as failed, not as heard.
    await page.locator('#status[data-state="error"]').waitFor();
    await emit([{ type: 'realtime', state: 'off' }]);
    assert.equal(await link.isHidden(), true, 'chained again: no pill');
    assert.deepEqual(errors, []);
  });
}
