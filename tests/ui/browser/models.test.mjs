// The first run and the models on this computer, in Chromium with the
// engine's catalogue: the chooser instead of a network error, installing the
// three default models with a visible progress bar, then all three stages
// saved as local; the models panel (install, cancel, remove, starter and
// suggested tags, GGUF import); stages chosen per step in Settings with the
// local chat model and its measured speed; chat servers found on this
// computer. Both languages.
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

test('first run: two ways in, and "use this computer" installs the model with progress', async () => {
  const { page, errors } = await browser.page({ stub: { key_set: false, install_step_ms: 150 } });
  await page.locator('#first-run').waitFor();
  assert.equal(await page.isHidden('#empty'), true);
  assert.equal(
    await page.textContent('#first-run-sizes'),
    'Models to download: Whisper Base (148 MB), Piper Joe (English, US) (63 MB), Qwen2.5 1.5B Instruct (1117 MB) (1328 MB in all)',
  );
  // A typed question says what to do next instead of failing on the network.
  await page.fill('#ask-input', 'Where is my order?');
  await page.click('#ask-send');
  await page.locator('#first-run-error', { hasText: 'First choose how Sori works' }).waitFor();
  assert.equal(await page.inputValue('#ask-input'), 'Where is my order?', 'nothing typed is lost');
  assert.equal((await page.evaluate(() => window.__SORI_ASKED__ ?? [])).length, 0);
  await page.screenshot({ path: path.join(screenshotDir, 'first-run-en.png'), fullPage: true });

  await page.click('#first-run-local');
  await page.locator('#first-run-progress').waitFor();
  const seen = [];
  for (let i = 0; i < 4; i++) {
    seen.push(await page.evaluate(() => document.getElementById('first-run-progress').value));
    await page.waitForTimeout(160);
  }
  assert.ok(seen.some((v) => v > 0) && seen.some((v, i) => i > 0 && v > seen[i - 1]), `the bar moves: ${seen}`);
  assert.match(await page.textContent('#first-run-progress-text'), /MB of 148 MB/);
  await page.locator('#first-run').waitFor({ state: 'hidden' });
  await page.locator('#notices [data-id="first-run"]', { hasText: 'Ready. Press and speak.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.deepEqual([saved.stt_provider, saved.chat_provider, saved.tts_provider], ['local', 'local', 'local']);
  const calls = await page.evaluate(() => window.__SORI_CALLS__);
  for (const id of ['whisper-base', 'piper-en-us-joe', 'qwen2.5-1.5b-instruct']) assert.ok(calls.includes(`install_model:${id}`), `${id}: ${calls}`);
  // Now a typed question goes through.
  await page.click('#ask-send');
  await page.waitForFunction(() => (window.__SORI_ASKED__ ?? []).length === 1);
  assert.deepEqual(errors, []);
});

test('first run in Korean; a failed install says why and keeps the chooser', async () => {
  const { page } = await browser.page({ lang: 'ko-KR', stub: { key_set: false, install_fails: '다운로드가 끊겼어요' } });
  await page.locator('#first-run-title', { hasText: '소리를 어떻게 쓸까요?' }).waitFor();
  assert.match(await page.textContent('#first-run-sizes'), /받을 모델: Whisper Base \(148 MB\), Piper Joe \(English, US\) \(63 MB\), Qwen2.5 1.5B Instruct \(1117 MB\)/);
  await page.click('#first-run-local');
  await page.locator('#first-run-error', { hasText: '다운로드가 끊겼어요' }).waitFor();
  assert.equal(await page.isVisible('#first-run'), true);
  assert.equal(await page.evaluate(() => (window.__SORI_SAVED__ ?? []).length), 0, 'nothing is switched to a model that is not there');
  await page.screenshot({ path: path.join(screenshotDir, 'first-run-ko.png'), fullPage: true });
  // "Connect a provider" opens Settings.
  await page.click('#first-run-cloud');
  await page.locator('#view-settings').waitFor();
});

test('no chooser once a provider key is set', async () => {
  const { page } = await browser.page();
  await page.locator('#key-status[data-set="true"]').waitFor({ state: 'attached' });
  assert.equal(await page.isHidden('#first-run'), true);
  assert.equal(await page.isVisible('#empty'), true);
});

test('models panel: tags, install with a bar, cancel keeps nothing installed, remove', async () => {
  const { page, errors } = await browser.page({ stub: { install_step_ms: 200, settings: { stt_provider: 'local', tts_provider: 'local' }, models_installed: ['whisper-base'] } });
  await page.click('#tab-settings');
  const base = page.locator('[data-model="whisper-base"]');
  const small = page.locator('[data-model="whisper-small"]');
  await base.locator('.model-state', { hasText: 'Installed' }).waitFor();
  assert.match(await base.textContent(), /148 MB · ko · en.*MIT · recommended · small starter model/);
  assert.equal(await page.isVisible('#models-starter'), true, 'a starter model in use is said to be one');
  await small.locator('button', { hasText: 'Install' }).click();
  await small.locator('progress').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-model="whisper-small"] progress')?.value > 0);
  await page.screenshot({ path: path.join(screenshotDir, 'models-en.png'), fullPage: true });
  await small.locator('button', { hasText: 'Cancel' }).click();
  await small.locator('.model-state', { hasText: 'Not installed' }).waitFor();
  assert.equal(await small.locator('.field-error').textContent(), '', 'a cancel is not an error');
  await small.locator('button', { hasText: 'Install' }).click();
  await small.locator('.model-state', { hasText: 'Installed' }).waitFor({ timeout: 5000 });
  assert.equal(await page.isHidden('#models-starter'), true);
  await base.locator('button', { hasText: 'Remove' }).click();
  await base.locator('.model-state', { hasText: 'Not installed' }).waitFor();
  // Chat models: the one for this computer's memory is marked.
  assert.match(await page.textContent('[data-model="qwen2.5-1.5b-instruct"]'), /1117 MB · ko · en · Apache-2.0 · recommended for this computer/);
  assert.doesNotMatch(await page.textContent('[data-model="smollm2-135m-instruct"]'), /recommended/);
  // Any GGUF file can be imported by its path; anything else is refused with the reason.
  await page.fill('#import-gguf-path', '/home/user/Downloads/notes.txt');
  await page.click('#import-gguf button');
  await page.locator('#import-gguf-result', { hasText: 'it is not a GGUF file' }).waitFor();
  await page.fill('#import-gguf-path', '/home/user/Downloads/My-Model.Q4_K_M.gguf');
  await page.click('#import-gguf button');
  await page.locator('#import-gguf-result', { hasText: 'Imported as gguf-my-model.q4_k_m.' }).waitFor();
  assert.equal(await page.inputValue('#import-gguf-path'), '');
  assert.deepEqual(errors, []);
});

test('settings: the chat model on this computer, its measured speed, and chat servers found here', async () => {
  const servers = [
    { kind: 'ollama', base_url: 'http://127.0.0.1:11434/v1', models: ['llama3.2:3b', 'qwen2.5:1.5b'] },
    { kind: 'lm_studio', base_url: 'http://127.0.0.1:1234/v1', models: [] },
  ];
  const speed = { tokens_per_second: 14.26, first_token_ms: 612.4, reused_tokens: 279, prompt_tokens: 301 };
  const { page, errors } = await browser.page({
    stub: { settings: { chat_provider: 'local' }, models_installed: ['smollm2-135m-instruct'], chat_speed: speed, local_servers: servers },
  });
  await page.click('#tab-settings');
  await page.locator('#set-local_chat_model').waitFor();
  assert.equal(await page.inputValue('#set-chat_provider'), 'local');
  assert.deepEqual(await page.locator('#set-local_chat_model option').allTextContents(), [
    'Best for this computer (SmolLM2 135M Instruct (English, tiny))', 'Qwen2.5 1.5B Instruct (Not installed)', 'SmolLM2 135M Instruct (English, tiny)',
  ]);
  await page.locator('#chat-speed', { hasText: 'Measured on this computer: 14.3 tokens per second, first token in 612 ms' }).waitFor();
  await page.selectOption('#set-local_chat_model', 'smollm2-135m-instruct');
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  assert.deepEqual(
    ((s) => [s.chat_provider, s.local_chat_model])((await page.evaluate(() => window.__SORI_SAVED__)).at(-1)),
    ['local', 'smollm2-135m-instruct'],
  );

  // Servers already running here, with their models; one with no model cannot be used.
  await page.click('#find-servers');
  await page.locator('[data-server="http://127.0.0.1:11434/v1"]').waitFor();
  assert.match(await page.textContent('[data-server="http://127.0.0.1:11434/v1"]'), /Ollama · http:\/\/127.0.0.1:11434\/v1.*2 models: llama3.2:3b, qwen2.5:1.5b/);
  assert.equal(await page.isDisabled('[data-server="http://127.0.0.1:1234/v1"] button'), true);
  await page.click('[data-server="http://127.0.0.1:11434/v1"] button');
  await page.locator('#servers-result', { hasText: 'Chat uses llama3.2:3b at http://127.0.0.1:11434/v1.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.deepEqual([saved.chat_provider, saved.chat_base_url, saved.chat_model], ['server', 'http://127.0.0.1:11434/v1', 'llama3.2:3b']);
  await page.screenshot({ path: path.join(screenshotDir, 'chat-local-en.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('no chat server on this computer is said so, in Korean too', async () => {
  const { page } = await browser.page({ lang: 'ko-KR' });
  await page.click('#tab-settings');
  await page.click('#find-servers');
  await page.locator('#servers-result', { hasText: '실행 중인 대화 서버를 찾지 못했어요' }).waitFor();
});

test('settings: each step on a server or on this computer, saved with its own server', async () => {
  const { page } = await browser.page({ stub: { models_installed: ['whisper-base', 'piper-en-us-joe'] } });
  await page.click('#tab-settings');
  await page.locator('#set-stt_provider').waitFor();
  assert.deepEqual(await page.locator('#set-local_voice option').allTextContents(), [
    'Follow the reply’s language (neural voice for English)', 'espeak-ng 한국어', 'espeak-ng English', 'Piper Joe (English, US)',
  ]);
  assert.deepEqual(await page.locator('#set-stt_provider option').allTextContents(), ['An OpenAI-compatible server', 'On this computer', 'Google Cloud']);
  assert.deepEqual(await page.locator('#set-local_stt_model option').allTextContents(), ['Whisper Base', 'Whisper Small (Not installed)']);
  await page.selectOption('#set-stt_provider', 'local');
  await page.fill('#set-chat_base_url', 'not a url');
  await page.click('#settings-save');
  await page.locator('#err-chat_base_url', { hasText: 'http://127.0.0.1:11434/v1' }).waitFor();
  await page.fill('#set-chat_base_url', 'http://127.0.0.1:11434/v1');
  await page.selectOption('#set-local_voice', 'ko');
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.deepEqual([saved.stt_provider, saved.tts_provider, saved.chat_base_url, saved.stt_base_url, saved.local_voice], ['local', 'server', 'http://127.0.0.1:11434/v1', null, 'ko']);
  // The voice view lists the local voices once speech runs here, and says style is not followed.
  await page.selectOption('#set-tts_provider', 'local');
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  await page.click('#tab-voice');
  await page.waitForFunction(() => document.querySelectorAll('#voice-select option').length === 4);
  assert.deepEqual(await page.locator('#voice-select option').allTextContents(), [
    'Follow the reply’s language (neural voice for English)', 'espeak-ng ko', 'espeak-ng en-us', 'Piper Joe (English, US)',
  ]);
  // The neural voice is chosen and saved by its id.
  await page.selectOption('#voice-select', 'piper-en-us-joe');
  await page.click('#voice-save');
  await page.locator('#voice-result', { hasText: 'Saved' }).waitFor();
  assert.equal((await page.evaluate(() => window.__SORI_SAVED__)).at(-1).local_voice, 'piper-en-us-joe');
  assert.equal(await page.isVisible('#style-local'), true);
});

test('a neural voice previews in its own language when the window speaks another', async () => {
  const { page } = await browser.page({ lang: 'ko-KR', stub: { settings: { tts_provider: 'local' }, models_installed: ['whisper-base', 'piper-en-us-joe'] } });
  await page.click('#tab-voice');
  await page.waitForFunction(() => document.querySelectorAll('#voice-select option').length === 4);
  assert.equal(await page.locator('#voice-select option').first().textContent(), '답변 언어를 따라가기 (영어는 신경망 음성)');
  await page.selectOption('#voice-select', 'piper-en-us-joe');
  await page.click('#preview');
  await page.waitForFunction(() => (window.__SORI_PREVIEWS__ ?? []).length === 1);
  const preview = (await page.evaluate(() => window.__SORI_PREVIEWS__))[0];
  assert.deepEqual([preview.voice, preview.text], ['piper-en-us-joe', "Hi, I'm Sori. How can I help you today?"]);
  // An espeak-ng voice previews in the window's language.
  await page.selectOption('#voice-select', 'ko');
  await page.click('#preview');
  await page.waitForFunction(() => (window.__SORI_PREVIEWS__ ?? []).length === 2);
  assert.equal((await page.evaluate(() => window.__SORI_PREVIEWS__))[1].text, '안녕하세요, 소리입니다. 무엇을 도와드릴까요?');
});

test("settings: the agent's tools, the customer it serves, and where the shop and help pages are", async () => {
  const { page, errors } = await browser.page();
  await page.click('#tab-settings');
  await page.locator('#set-customer').waitFor();
  assert.equal(await page.isChecked('#set-agent_tools'), true);
  assert.equal(await page.textContent('label[for="set-shop_database"]'), 'Shop database (SQLite file; empty: the sample shop)');
  await page.fill('#set-customer', ' C-001 ');
  await page.fill('#set-faq_folder', '/home/user/help');
  await page.uncheck('#set-agent_tools');
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.deepEqual([saved.agent_tools, saved.customer, saved.shop_database, saved.faq_folder], [false, 'C-001', null, '/home/user/help']);
  assert.deepEqual(errors, []);
});

test('tools that are off are said, with the reason and a way to Settings, in both languages', async () => {
  for (const [lang, words] of [['en-US', 'Some of the agent’s tools are off.'], ['ko-KR', '상담 도구 일부를 쓸 수 없어요.']]) {
    const { page } = await browser.page({ lang });
    await page.waitForFunction(() => typeof window.__SORI_EMIT__ === 'function');
    const reason = 'Some of the agent’s tools are off. The shop database /srv/shop.sqlite is not there: fix the path in Settings.';
    await page.evaluate((message) => window.__SORI_EMIT__({ type: 'warning', code: 'tools', message }), reason);
    const notice = page.locator('#notices [data-id="tools"]');
    await notice.waitFor();
    assert.ok((await notice.textContent()).includes(words) && (await notice.textContent()).includes('/srv/shop.sqlite'), lang);
    await notice.locator('button').first().click();
    await page.locator('#view-settings').waitFor();
  }
});
