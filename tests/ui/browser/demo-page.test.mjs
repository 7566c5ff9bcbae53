// The server's demo page in Chromium with a fake microphone playing an
// espeak question: hold the button, speak, let go; the recording (WebM Opus,
// as the browser makes it) goes to the real `sori-cli serve` with a client
// token, and the streamed reply is shown and played. In both languages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startTestkit } from '../lib/testkit.mjs';
import { screenshotDir } from '../lib/browser.mjs';

const bin = path.dirname(process.env.SORI_APP ?? path.resolve('../../target/debug/sori'));
let dir, kit, kitPort, server, serverUrl, token, browser;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sori-demo-'));
  await mkdir(screenshotDir, { recursive: true });
  kitPort = await freePort();
  kit = await startTestkit(path.join(bin, 'sori'), kitPort);
  const env = { ...process.env, OPENAI_API_KEY: 'sori-test-key-0123', XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data') };
  const data = path.join(dir, 'server');
  token = execFileSync(path.join(bin, 'sori-cli'), ['serve', 'token', 'add', 'demo-page', '--data-dir', data], { env }).toString().trim();
  server = spawn(path.join(bin, 'sori-cli'), ['serve', '--port', '0', '--base-url', `http://127.0.0.1:${kitPort}/v1`, '--data-dir', data], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const [line] = await createInterface({ input: server.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]);
  serverUrl = line.trim().split(' ').at(-1);
  // The question the fake microphone says (Chromium wants a WAV file).
  const question = path.join(dir, 'question.wav');
  execFileSync('espeak-ng', ['-v', 'en', '-w', question, 'When will my order arrive? I ordered it last week.']);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${question}%noloop`, '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  kit?.kill();
});

test('the demo page: hold to talk, the streamed reply is shown and played', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 800, height: 700 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(serverUrl);
  assert.equal(await page.textContent('#talk'), 'Hold to talk');
  await page.fill('#token', token);
  await page.dispatchEvent('#token', 'change');
  await page.hover('#talk');
  await page.mouse.down();
  await page.locator('#talk.recording').waitFor();
  await page.waitForTimeout(3500);
  await page.mouse.up();
  await page.locator('.line.you').waitFor({ timeout: 20000 });
  await page.waitForFunction(() => document.body.dataset.turns === '1', null, { timeout: 30000 });
  const reply = await page.textContent('.line.sori');
  assert.match(reply, /order/i, reply);
  // The speech arrived and was scheduled to play: at least two seconds of it.
  const played = await page.evaluate(() => window.soriPlayed);
  assert.ok(played > 48000, `${played} samples played`);
  assert.equal(await page.textContent('#status'), 'Ready');
  // The recording reached speech-to-text: what the browser recorded, decoded by the server.
  const requests = await (await fetch(`http://127.0.0.1:${kitPort}/__testkit/requests`)).json();
  const upload = requests.find((r) => r.endpoint === 'transcriptions');
  assert.ok(upload, 'a transcription request');
  assert.ok(upload.body.file.bytes > 32000 * 2, `${upload.body.file.bytes} bytes uploaded: two seconds or more of speech`);
  await page.screenshot({ path: path.join(screenshotDir, 'demo-en.png'), fullPage: true });
  // Korean at a click.
  await page.click('#lang');
  assert.equal(await page.textContent('#talk'), '누르고 말하기');
  assert.equal(await page.textContent('#new'), '새 대화');
  assert.equal(await page.getAttribute('html', 'lang'), 'ko');
  await page.screenshot({ path: path.join(screenshotDir, 'demo-ko.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the demo page opens in Korean for a Korean browser, and a wrong token is shown, not hidden', async () => {
  const context = await browser.newContext({ locale: 'ko-KR' });
  const page = await context.newPage();
  await page.goto(serverUrl);
  assert.equal(await page.textContent('#talk'), '누르고 말하기');
  assert.equal(await page.textContent('#status'), '준비됨');
  await page.fill('#token', 'sori_wrong');
  await page.hover('#talk');
  await page.mouse.down();
  await page.waitForTimeout(800);
  await page.mouse.up();
  await page.locator('#status.error').waitFor({ timeout: 10000 });
  assert.match(await page.textContent('#status'), /401/);
  await context.close();
});
