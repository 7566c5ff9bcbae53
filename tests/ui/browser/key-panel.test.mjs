// The API-key panel in Chromium: status only (never the key), saving, checking,
// forgetting, and the choice offered when the computer has no keychain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openBrowser, screenshotDir } from '../lib/browser.mjs';

let browser;
before(async () => { browser = await openBrowser(); });
after(() => browser.close());

test('a saved key shows as its last 4 characters and leaves the page', async () => {
  const { page, errors } = await browser.page({ stub: { key_set: false } });
  await page.click('#tab-settings');
  await page.locator('#key-status', { hasText: 'No key yet.' }).waitFor();
  assert.equal(await page.textContent('#provider-url'), 'https://api.openai.com/v1');
  assert.equal(await page.getAttribute('#key-input', 'type'), 'password');
  assert.equal(await page.isDisabled('#key-clear'), true);
  await page.fill('#key-input', 'test-key-abcd1234');
  await page.press('#key-input', 'Enter');
  await page.locator('#key-status', { hasText: 'Key set · …1234 · Secret Service' }).waitFor();
  assert.equal(await page.inputValue('#key-input'), '', 'the field is emptied');
  const html = await page.content();
  assert.ok(!html.includes('abcd1234'), 'the key is nowhere in the page');
  assert.equal(await page.isDisabled('#key-clear'), false);
  await page.click('#key-check');
  await page.locator('#key-result', { hasText: 'The key works: the server lists 9 models.' }).waitFor();
  await page.click('#key-clear');
  await page.locator('#key-status', { hasText: 'No key yet.' }).waitFor();
  assert.deepEqual(errors, []);
});

test('without a keychain the user is told and chooses to keep it for the session', async () => {
  const { page } = await browser.page({ stub: { keychain_available: false, key_set: false } });
  await page.click('#tab-settings');
  await page.fill('#key-input', 'session-key-9876');
  await page.click('#key-save');
  const notice = page.locator('#no-keychain');
  await notice.waitFor();
  assert.match(await notice.textContent(), /no usable keychain.*never writes keys to a file.*no Secret Service is running/s);
  assert.equal(await page.textContent('#key-status'), 'No key yet.', 'nothing was kept without asking');
  await page.screenshot({ path: path.join(screenshotDir, 'browser-no-keychain-en.png') });
  await page.click('#key-session');
  await page.locator('#key-status', { hasText: 'Key set · …9876 · this session only' }).waitFor();
  assert.equal(await notice.isHidden(), true);
  const sent = await page.evaluate(() => window.__SORI_KEYS_SENT__);
  assert.deepEqual(sent, [{ key: 'session-key-9876', sessionOnly: false }, { key: 'session-key-9876', sessionOnly: true }]);
});

test('the panel speaks Korean, and a rejected key says so', async () => {
  const { page } = await browser.page({ lang: 'ko-KR', stub: { key_set: false, check_key: { result: 'rejected', message: '키를 확인하세요.' } } });
  await page.click('#tab-settings');
  await page.locator('#key-status', { hasText: '아직 키가 없어요.' }).waitFor();
  assert.equal(await page.textContent('#key-save'), '키 저장');
  await page.click('#key-check');
  await page.locator('#key-result', { hasText: '키가 거부되었어요: 키를 확인하세요.' }).waitFor();
  await page.click('#key-save');
  await page.locator('#key-result', { hasText: '먼저 키를 붙여 넣으세요.' }).waitFor();
});
