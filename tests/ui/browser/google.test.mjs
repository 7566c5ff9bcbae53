// Google Cloud speech in Chromium: the provider choice for the speech stages
// (not chat), the Google key panel (an API key, a service account's key file
// by its text, never shown back), Google's voice list and pitch in the voice
// picker, and all of it in Korean too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openBrowser, screenshotDir } from '../lib/browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(() => browser.close());

const KEY_FILE = JSON.stringify({
  type: 'service_account', project_id: 'sori-test', private_key_id: 'abc123',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-browser-test\n-----END PRIVATE KEY-----\n',
  client_email: 'sori-test@sori-test.iam.gserviceaccount.com', token_uri: 'https://oauth2.googleapis.com/token',
}, null, 2);

test('the speech stages can run on Google Cloud, chat cannot, and Google has its own settings', async () => {
  const { page, errors } = await browser.page();
  await page.click('#tab-settings');
  await page.locator('#set-stt_provider').waitFor();
  const options = (id) => page.locator(`#set-${id} option`).allTextContents();
  assert.deepEqual(await options('stt_provider'), ['An OpenAI-compatible server', 'On this computer', 'Google Cloud']);
  assert.deepEqual(await options('tts_provider'), ['An OpenAI-compatible server', 'On this computer', 'Google Cloud']);
  assert.deepEqual(await options('chat_provider'), ['An OpenAI-compatible server', 'On this computer']);
  assert.equal(await page.inputValue('#set-google_languages'), 'ko-KR, en-US');
  assert.equal(await page.inputValue('#set-google_stt_model'), 'latest_short');
  await page.selectOption('#set-stt_provider', 'google');
  await page.selectOption('#set-tts_provider', 'google');
  await page.fill('#set-google_languages', 'ko-KR en-US, ja-JP');
  await page.fill('#set-vocabulary', '소리샵, 주문번호');
  await page.click('#settings-save');
  await page.locator('#settings-result', { hasText: 'Settings saved.' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.deepEqual([saved.stt_provider, saved.tts_provider, saved.google_languages, saved.vocabulary], ['google', 'google', ['ko-KR', 'en-US', 'ja-JP'], '소리샵, 주문번호']);
  await page.fill('#set-google_languages', 'ko_KR');
  await page.click('#settings-save');
  await page.locator('#err-google_languages', { hasText: 'List one to four language codes such as ko-KR and en-US.' }).waitFor();
  assert.deepEqual(errors, []);
});

test('a service account key file is handed over by its text and shown only by its e-mail address', async () => {
  const { page, errors } = await browser.page();
  await page.click('#tab-settings');
  await page.locator('#google-status', { hasText: 'No Google key yet.' }).waitFor();
  assert.equal(await page.isDisabled('#google-clear'), true);
  await page.setInputFiles('#google-file', { name: 'sori-test.json', mimeType: 'application/json', buffer: Buffer.from(KEY_FILE) });
  await page.locator('#google-status', { hasText: 'Key set · service account sori-test@sori-test.iam.gserviceaccount.com · Secret Service' }).waitFor();
  const sent = await page.evaluate(() => window.__SORI_GOOGLE_SENT__);
  assert.deepEqual(sent, [{ key: KEY_FILE, sessionOnly: false }], 'the file’s text went to Rust, not its name or path');
  assert.ok(!(await page.content()).includes('browser-test'), 'the private key is nowhere in the page');
  assert.equal(await page.inputValue('#google-input'), '');
  await page.click('#google-check');
  await page.locator('#google-result', { hasText: 'The key works: Google lists 18 voices.' }).waitFor();
  // An API key typed in replaces it.
  await page.fill('#google-input', 'AIzaSyBrowserTest-9f3k');
  await page.click('#google-save');
  await page.locator('#google-status', { hasText: 'Key set · API key …9f3k · Secret Service' }).waitFor();
  assert.equal(await page.inputValue('#google-input'), '', 'the field is emptied');
  await page.fill('#google-input', '{"type": "authorized_user"}');
  await page.click('#google-save');
  await page.locator('#google-result', { hasText: 'not a service account' }).waitFor();
  await page.click('#google-clear');
  await page.locator('#google-status', { hasText: 'No Google key yet.' }).waitFor();
  assert.deepEqual(errors, []);
});

test('Google’s voices fill the voice picker, with their gender, and pitch is saved', async () => {
  const { page, errors } = await browser.page({ stub: { settings: { tts_provider: 'google', google_voice: 'ko-KR-Standard-A' } } });
  await page.click('#tab-settings');
  await page.fill('#google-input', 'AIzaSyBrowserTest-1111');
  await page.click('#google-save');
  await page.locator('#google-status', { hasText: '…1111' }).waitFor();
  await page.click('#tab-voice');
  await page.locator('#voice-select option', { hasText: 'ko-KR-Neural2-C · male' }).waitFor({ state: 'attached' });
  const names = await page.locator('#voice-select option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(names, ['', 'ko-KR-Neural2-A', 'ko-KR-Neural2-C', 'ko-KR-Standard-A', 'ko-KR-Standard-C', 'en-US-Neural2-F', 'ja-JP-Standard-A'], 'the recognition languages’ voices first, in their order');
  assert.equal(await page.inputValue('#voice-select'), 'ko-KR-Standard-A');
  assert.equal(await page.isVisible('#pitch-row'), true);
  await page.selectOption('#voice-select', 'ko-KR-Neural2-C');
  await page.fill('#pitch', '-3.5');
  assert.equal(await page.textContent('#pitch-value'), '-3.5');
  await page.click('#preview');
  await page.click('#voice-save');
  await page.locator('#voice-result', { hasText: 'Saved' }).waitFor();
  const saved = (await page.evaluate(() => window.__SORI_SAVED__)).at(-1);
  assert.deepEqual([saved.google_voice, saved.google_pitch, saved.voice], ['ko-KR-Neural2-C', -3.5, 'coral'], 'the OpenAI voice is left alone');
  const preview = (await page.evaluate(() => window.__SORI_PREVIEWS__)).at(-1);
  assert.deepEqual([preview.voice, preview.pitch], ['ko-KR-Neural2-C', -3.5]);
  assert.deepEqual(errors, []);
});

test('in Korean: the choice, the key panel and the voice picker', async () => {
  const { page, errors } = await browser.page({ lang: 'ko-KR', stub: { settings: { tts_provider: 'google' } } });
  await page.click('#tab-settings');
  await page.locator('#google-status', { hasText: '아직 Google 키가 없어요.' }).waitFor();
  assert.equal(await page.textContent('#google-title'), 'Google Cloud 키');
  assert.equal(await page.textContent('#google-file-choose'), '서비스 계정 키 파일…');
  assert.deepEqual(await page.locator('#set-stt_provider option').allTextContents(), ['OpenAI 호환 서버', '이 컴퓨터에서', 'Google Cloud']);
  assert.equal(await page.textContent('label[for="set-google_stt_model"]'), 'Google 받아쓰기 모델');
  await page.setInputFiles('#google-file', { name: 'k.json', mimeType: 'application/json', buffer: Buffer.from(KEY_FILE) });
  await page.locator('#google-status', { hasText: '서비스 계정 sori-test@sori-test.iam.gserviceaccount.com' }).waitFor();
  assert.equal(await page.inputValue('#set-google_stt_model'), 'latest_short');
  await page.screenshot({ path: path.join(screenshotDir, 'google-settings-ko.png'), fullPage: true });
  await page.click('#tab-voice');
  await page.locator('#voice-select option', { hasText: 'ko-KR-Standard-A · 여성' }).waitFor({ state: 'attached' });
  assert.equal(await page.textContent('#pitch-row label span'), '음높이');
  assert.deepEqual(errors, []);
});
