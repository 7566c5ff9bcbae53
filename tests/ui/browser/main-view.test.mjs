// The window's frame and its device list in a real browser (Chromium), with
// recorded engine results.
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

test('shows the version, and the devices from the engine with defaults marked', async () => {
  const { page, errors } = await browser.page();
  await page.click('#tab-settings');
  await page.locator('#app-version').filter({ hasText: 'Sori 0.1.0' }).waitFor();
  assert.equal(await page.textContent('#app-version'), 'Sori 0.1.0 · engine 0.1.0');
  const inputs = page.locator('#input-list li');
  assert.equal(await inputs.count(), 2);
  assert.match(await inputs.nth(0).textContent(), /^Virtual-Microphone default$/);
  assert.equal(await page.locator('#output-list .badge').count(), 1);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.deepEqual(errors, []);
});

test('follows a Korean system language and switches back and forth', async () => {
  const { page } = await browser.page({ lang: 'ko-KR' });
  await page.click('#tab-settings');
  await page.locator('#input-list li').first().waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'ko');
  assert.equal(await page.textContent('#refresh-devices'), '장치 확인');
  assert.equal(await page.textContent('#tab-settings'), '설정');
  assert.match(await page.locator('#input-list li').first().textContent(), /기본$/);
  await page.click('#lang-toggle');
  assert.equal(await page.textContent('#refresh-devices'), 'Check devices');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.keyboard.press('Tab');
});

test('refreshing asks the engine again and renders the new list', async () => {
  const { page } = await browser.page();
  await page.click('#tab-settings');
  await page.locator('#input-list li').first().waitFor();
  await page.evaluate(() => {
    window.__SORI_STUB__ = { audio_devices: { host: 'ALSA', inputs: [], outputs: [{ id: 'x', name: 'USB Headset', is_default: true }] } };
  });
  const before = await page.evaluate(() => window.__SORI_CALLS__.filter((c) => c === 'audio_devices').length);
  await page.click('#refresh-devices');
  await page.locator('#output-list li', { hasText: 'USB Headset' }).waitFor();
  assert.equal(await page.textContent('#input-list li'), 'No devices');
  const calls = await page.evaluate(() => window.__SORI_CALLS__.filter((c) => c === 'audio_devices').length);
  assert.equal(calls, before + 1);
});

test('a failing engine call is shown, not swallowed', async () => {
  const { page } = await browser.page({ stub: { audio_devices: { error: { kind: 'audio_devices', message: 'no sound server' } } } });
  await page.click('#tab-settings');
  const alert = page.locator('#devices-error');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('role'), 'alert');
  assert.equal(await alert.textContent(), 'Could not list the devices: no sound server');
});

test('buttons are reachable by keyboard with a visible focus ring', async () => {
  const { page } = await browser.page();
  await page.locator('#ptt-hint', { hasText: 'Ctrl' }).waitFor();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.id);
  assert.equal(focused, 'lang-toggle');
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow);
  assert.notEqual(ring, 'none');
});
