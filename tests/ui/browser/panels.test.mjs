// Settings, voice and style, the turn inspector and the history, in Chromium
// with the engine's recorded events and its field rules, in both languages.
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

test('settings: every field, models from the server, errors next to their field', async () => {
  const { page, errors } = await browser.page();
  await page.click('#tab-settings');
  await page.locator('#models-hint', { hasText: '6 models on the server' }).waitFor();
  for (const f of ['base_url', 'stt_model', 'chat_model', 'tts_model', 'max_reply_tokens', 'language', 'ui_language', 'persona', 'input_mode', 'voice_barge_in', 'speaker_setup', 'noise_suppression', 'auto_gain', 'early_transcription', 'hotkey', 'vad_aggressiveness', 'end_silence_ms', 'input_device', 'output_device', 'history_enabled']) {
    assert.equal(await page.locator(`#set-${f}`).count(), 1, f);
  }
  assert.equal(await page.locator('#model-list option').count(), 6);
  assert.deepEqual(await page.locator('#set-input_device option').allTextContents(), ['System default', 'Virtual-Microphone', 'Monitor of Virtual-Speaker']);
  await page.fill('#set-base_url', 'ftp://example');
  await page.fill('#set-end_silence_ms', '50');
  await page.click('#settings-save');
  await page.locator('#err-base_url', { hasText: 'Enter the provider’s address, like https://api.openai.com/v1.' }).waitFor();
  assert.equal(await page.textContent('#err-end_silence_ms'), 'End-of-speech silence goes from 200 to 2000 ms.');
  assert.equal(await page.getAttribute('#set-base_url', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'set-base_url');
  assert.equal(await page.textContent('#settings-result'), 'Some fields need fixing.');
  await page.screenshot({ path: path.join(screenshotDir, 'settings-en.png'), fullPage: true });
  await page.fill('#set-base_url', 'http://127.0.0.1:11434/v1');
  await page.fill('#set-end_silence_ms', '800');
  await page.selectOption('#set-input_mode', 'hands_free');
  await page.selectOption('#set-output_device', 'pulseaudio:speaker');
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.equal(saved.base_url, 'http://127.0.0.1:11434/v1');
  assert.equal(saved.end_silence_ms, 800);
  assert.equal(saved.input_mode, 'hands_free');
  assert.equal(saved.output_device, 'pulseaudio:speaker');
  assert.equal(saved.input_device, null, 'the default stays the default');
  assert.equal(await page.textContent('#err-base_url'), '');
  assert.equal(await page.textContent('#provider-url'), 'http://127.0.0.1:11434/v1');
  await page.click('#tab-talk');
  assert.equal(await page.textContent('#ptt-label'), 'Hands-free: just talk');
  assert.deepEqual(errors, []);
});

test('speakers or headset: the choice is explained, and Detect names what it found, in both languages', async () => {
  const devices = {
    host: 'PulseAudio',
    inputs: [{ id: 'pulseaudio:mic', name: 'Virtual-Microphone', is_default: true, worn: false }],
    outputs: [
      { id: 'pulseaudio:speaker', name: 'Virtual-Speaker', is_default: true, worn: false },
      { id: 'pulseaudio:headset', name: 'USB Headset', is_default: false, worn: true },
    ],
  };
  const { page, errors } = await browser.page({ stub: { audio_devices: devices } });
  await page.click('#tab-settings');
  await page.locator('#speaker-hint', { hasText: 'Detect: Virtual-Speaker looks like speakers' }).waitFor();
  assert.deepEqual(await page.locator('#set-speaker_setup option').allTextContents(), ['Detect', 'Speakers', 'Headset']);
  await page.selectOption('#set-output_device', 'pulseaudio:headset');
  assert.equal(await page.textContent('#speaker-hint'), 'Detect: USB Headset looks like a headset, so there is no echo to remove.');
  await page.selectOption('#set-speaker_setup', 'speakers');
  assert.match(await page.textContent('#speaker-hint'), /^Speakers: Sori takes its own voice \(the echo\) out/);
  await page.selectOption('#set-speaker_setup', 'headset');
  await page.uncheck('#set-noise_suppression');
  await page.check('#set-auto_gain');
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.equal(saved.speaker_setup, 'headset');
  assert.equal(saved.noise_suppression, false);
  assert.equal(saved.auto_gain, true);
  assert.equal(saved.voice_barge_in, true, 'interrupting by voice is on unless turned off');
  const ko = await browser.page({ lang: 'ko-KR', stub: { audio_devices: devices } });
  await ko.page.click('#tab-settings');
  await ko.page.locator('#speaker-hint', { hasText: '자동: Virtual-Speaker은(는) 스피커로 보여서 에코를 지워요.' }).waitFor();
  assert.equal(await ko.page.textContent('label[for="set-speaker_setup"]'), '소리 나는 곳');
  assert.equal(await ko.page.textContent('label[for="set-noise_suppression"]'), '배경 소음 줄이기');
  await ko.page.screenshot({ path: path.join(screenshotDir, 'settings-speakers-ko.png'), fullPage: true });
  assert.deepEqual([...errors, ...ko.errors], []);
});

test('what is typed in settings survives the server’s model list arriving', async () => {
  const { page } = await browser.page({ stub: { models_delay_ms: 600 } });
  await page.click('#tab-settings');
  await page.fill('#set-base_url', 'http://127.0.0.1:11434/v1');
  await page.fill('#set-chat_model', 'qwen2.5:3b');
  await page.locator('#models-hint', { hasText: '6 models on the server' }).waitFor();
  assert.equal(await page.inputValue('#set-base_url'), 'http://127.0.0.1:11434/v1');
  assert.equal(await page.inputValue('#set-chat_model'), 'qwen2.5:3b');
  assert.equal(await page.locator('#model-list option').count(), 6);
});

test('a session that could not start starts once the settings are fixed', async () => {
  const { page } = await browser.page({ stub: { start_session_refusals: 1 } });
  const notice = page.locator('#notices .notice.error', { hasText: 'unencrypted' });
  await notice.waitFor();
  await notice.locator('button.action').click();
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  await notice.waitFor({ state: 'detached' });
  assert.deepEqual(await page.evaluate(() => window.__SORI_CALLS__.filter((c) => c === 'start_session')), ['start_session', 'start_session']);
});

test('settings in Korean', async () => {
  const { page } = await browser.page({ lang: 'ko-KR' });
  await page.click('#tab-settings');
  await page.locator('#models-hint', { hasText: '서버 모델 6개' }).waitFor();
  assert.equal(await page.textContent('label[for="set-input_mode"]'), '입력 방식');
  assert.deepEqual(await page.locator('#set-language option').allTextContents(), ['자동', '한국어', 'English']);
  await page.screenshot({ path: path.join(screenshotDir, 'settings-ko.png'), fullPage: true });
});

test('voice and style: the model’s voices, presets, speed, preview and save', async () => {
  const { page } = await browser.page({ lang: 'ko-KR' });
  await page.click('#tab-voice');
  await page.locator('#voice-select option[value="marin"]').waitFor({ state: 'attached' });
  assert.equal(await page.inputValue('#voice-select'), 'coral');
  assert.deepEqual(await page.locator('#style-presets .chip').allTextContents(), ['차분한 상담원', '따뜻하고 밝게', '빠르고 간결하게']);
  await page.click('#style-presets .chip >> nth=1');
  assert.equal(await page.inputValue('#style-text'), '따뜻하고 밝은 목소리로, 미소 짓듯이 말하세요.');
  await page.selectOption('#voice-select', 'sage');
  await page.fill('#speed', '1.25');
  assert.equal(await page.textContent('#speed-value'), '1.25×');
  await page.click('#preview');
  await page.waitForFunction(() => window.__SORI_PREVIEWS__?.length === 1);
  const preview = (await page.evaluate(() => window.__SORI_PREVIEWS__))[0];
  assert.deepEqual(preview, { text: '안녕하세요, 소리입니다. 무엇을 도와드릴까요?', model: 'gpt-4o-mini-tts', voice: 'sage', style: '따뜻하고 밝은 목소리로, 미소 짓듯이 말하세요.', speed: 1.25 });
  await page.click('#voice-save');
  await page.locator('#voice-result', { hasText: '저장했어요.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.equal(saved.voice, 'sage');
  assert.equal(saved.speed, 1.25);
});

async function inspectorAfterTwoTurns(lang) {
  const { page } = await browser.page({ lang });
  await page.fill('#ask-input', 'Hello');
  await page.press('#ask-input', 'Enter');
  await page.locator('#transcript .msg.assistant:not(.streaming)').waitFor();
  const box = await page.locator('#ptt').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.waitForTimeout(350);
  await page.mouse.up();
  await page.locator('#transcript .msg.assistant:not(.streaming) >> nth=1').waitFor();
  await page.waitForTimeout(100);
  await page.click('#tab-inspector');
  return page;
}

test('the inspector shows each turn’s waterfall, and replays a spoken turn', async () => {
  const page = await inspectorAfterTwoTurns('en-US');
  const turns = page.locator('#turns .turn');
  assert.equal(await turns.count(), 2);
  const spoken = turns.nth(0);
  assert.equal(await spoken.locator('h3').textContent(), 'Turn 2');
  assert.deepEqual(await spoken.locator('.waterfall .mark').allTextContents(), ['Transcript', 'First token', 'First clause', 'TTS first byte', 'First audio', 'End']);
  for (const ms of await spoken.locator('[data-mark="llm_first_token_ms"] .ms, [data-mark="ttfa_ms"] .ms, [data-mark="total_ms"] .ms').allTextContents()) {
    assert.match(ms, /^\d+ ms$/);
  }
  // The bars as drawn: each fill's rendered width is its share of the turn's total.
  const drawn = await spoken.locator('.waterfall li').evaluateAll((rows) =>
    rows.map((li) => ({
      mark: li.dataset.mark,
      ms: Number.parseFloat(li.querySelector('.ms').textContent),
      track: li.querySelector('.track').getBoundingClientRect().width,
      fill: li.querySelector('.fill').getBoundingClientRect().width,
    })),
  );
  const total = drawn.find((d) => d.mark === 'total_ms');
  assert.ok(total.track > 100, `the track is drawn (${total.track}px)`);
  for (const d of drawn.filter((d) => Number.isFinite(d.ms))) {
    assert.ok(Math.abs(d.fill / d.track - d.ms / total.ms) < 0.02 || (d.fill > 0 && d.ms / total.ms < 0.01), `${d.mark}: ${d.fill}px of ${d.track}px for ${d.ms} of ${total.ms} ms`);
  }
  assert.ok(drawn.find((d) => d.mark === 'ttfa_ms').fill > 20, 'time to first audio has a visible bar');
  assert.equal(await turns.nth(1).locator('.replay').isDisabled(), true, 'a typed turn has no recording');
  await spoken.locator('.replay').click();
  await page.waitForFunction(() => window.__SORI_CALLS__.includes('replay_turn:2'));
  await page.screenshot({ path: path.join(screenshotDir, 'inspector-en.png'), fullPage: true });
});

test('the inspector in Korean', async () => {
  const page = await inspectorAfterTwoTurns('ko-KR');
  assert.equal(await page.locator('#turns .turn h3').first().textContent(), '턴 2');
  assert.equal(await page.locator('#turns .turn .replay').first().textContent(), '녹음 듣기');
  await page.screenshot({ path: path.join(screenshotDir, 'inspector-ko.png'), fullPage: true });
});

test('history: list, open and continue, export, delete', async () => {
  const { page } = await browser.page();
  await page.evaluate(() => { window.confirm = () => true; });
  await page.click('#tab-history');
  const items = page.locator('#conversations li');
  await items.first().waitFor();
  assert.equal(await items.count(), 2);
  assert.match(await items.nth(0).textContent(), /주문한 상품이 언제 도착하나요\?.*2 turns/);
  await items.nth(0).locator('button', { hasText: 'Open' }).click();
  await page.locator('#history-detail .msg.assistant.interrupted').waitFor();
  await items.nth(0).locator('button', { hasText: 'Export Markdown' }).click();
  await page.locator('#history-result', { hasText: 'Saved to /home/user/Downloads/sori-2026-11-20T09-15-02-a1.md' }).waitFor();
  await page.click('#history-detail button');
  await page.locator('#tab-talk[aria-selected="true"]').waitFor();
  assert.equal(await page.locator('#transcript .msg').count(), 4);
  assert.equal(await page.locator('#transcript .msg.assistant.interrupted').count(), 1);
  await page.click('#tab-history');
  await items.nth(1).locator('button', { hasText: 'Delete' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#conversations li').length === 1);
  const calls = await page.evaluate(() => window.__SORI_CALLS__.filter((c) => /conversation/.test(c)));
  assert.ok(calls.includes('resume_conversation:2026-11-20T09-15-02-a1'));
  assert.ok(calls.includes('export_conversation:2026-11-20T09-15-02-a1:markdown'));
  assert.ok(calls.includes('delete_conversation:2026-11-19T18-02-40-b2'));
});
