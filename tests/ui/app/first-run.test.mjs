// The first run in the real app: a fresh user (no key, no models) sees the
// chooser; "Use this computer" downloads Whisper base and the Piper voice
// from a model mirror (the testkit's, serving the real models over loopback)
// with a moving progress bar, then a spoken question is transcribed on this
// computer and the reply is spoken by the Piper voice out of the virtual
// speaker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appSession } from '../lib/webdriver.mjs';
import { screenshotDir } from '../lib/browser.mjs';

const port = 19500 + (process.pid % 400);
const mirrorPort = port + 1;
const chatUrl = `http://127.0.0.1:${port}/v1`;
const models = await mkdtemp(path.join(os.tmpdir(), 'sori-models-'));
// The app inherits these through tauri-driver: an empty models folder, and the mirror instead of the model hosts.
process.env.SORI_MODELS_DIR = models;
process.env.SORI_MODEL_MIRROR = `http://127.0.0.1:${mirrorPort}`;
const app = appSession({ before, after });
let server;
let mirror;

async function up(url) {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

before(async () => {
  const bin = path.dirname(app.app);
  const cache = process.env.SORI_MODEL_CACHE ?? path.join(os.homedir(), '.cache/sori/models');
  server = spawn(path.join(bin, 'sori-testkit'), ['serve', '--port', String(port), '--no-auth'], { stdio: 'ignore' });
  mirror = spawn(path.join(bin, 'sori-testkit'), ['mirror', '--root', cache, '--port', String(mirrorPort)], { stdio: 'ignore' });
  await up(`http://127.0.0.1:${port}/__testkit/requests`);
  await up(`http://127.0.0.1:${mirrorPort}/none/none`);
  await fetch(`http://127.0.0.1:${port}/__testkit/replies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contains: 'order', reply: 'Your order arrives tomorrow afternoon.' }) });
});

after(async () => {
  server?.kill();
  mirror?.kill();
  await rm(path.join(process.env.XDG_CONFIG_HOME ?? '', 'sori', 'settings.json'), { force: true });
  await rm(models, { recursive: true, force: true });
});

const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);

test('a fresh user chooses this computer: the model downloads with progress, then a spoken turn runs here', async () => {
  await app.get().waitForText('#first-run-title', (t) => t === 'How should Sori work?');
  assert.match(await app.get().text('#first-run-sizes'), /Whisper Base \(148 MB\), Piper Joe \(English, US\) \(63 MB\)/);
  await run(`document.getElementById('first-run-chat').value = ${JSON.stringify(chatUrl)}; done();`);
  await app.get().click('#first-run-local');
  // The bar moves while the model downloads (sampled from the page itself).
  const seen = await run(`
    const bar = document.getElementById('first-run-progress'), seen = [];
    const tick = setInterval(() => { if (!bar.hidden) seen.push(bar.value); }, 20);
    const check = setInterval(() => { if (document.getElementById('first-run').hidden) { clearInterval(tick); clearInterval(check); done(seen); } }, 50);`);
  assert.ok(new Set(seen).size >= 2, `the progress bar moved: ${seen.length} samples, ${new Set(seen).size} values`);
  await app.get().waitForText('#notices [data-id="first-run"] p', (t) => t.startsWith('Ready'));

  const wav = path.join(models, 'question.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', wav, 'Where is my order?']);
  const record = spawn('parecord', ['-d', 'speaker.monitor', '--raw', '--format=s16le', '--rate=16000', '--channels=1', path.join(models, 'speaker.raw')]);
  try {
    await run(`document.getElementById('ptt').dispatchEvent(new PointerEvent('pointerdown', { bubbles: true })); done();`);
    await app.get().waitForText('#ptt-label', (t) => t.startsWith('Listening'));
    execFileSync('paplay', ['-d', 'micsink', wav]);
    await new Promise((r) => setTimeout(r, 300));
    await run(`document.getElementById('ptt').dispatchEvent(new PointerEvent('pointerup', { bubbles: true })); done();`);
    await app.get().waitForText('#status', (t) => t === 'Speaking', { timeoutMs: 30000 });
    await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 30000 });
  } finally {
    record.kill('SIGINT');
  }
  const texts = await run(`done([...document.querySelectorAll('#transcript .msg .body')].map((b) => b.textContent))`);
  assert.match(texts.at(-2).toLowerCase(), /order/, `Whisper on this computer heard: ${texts.at(-2)}`);
  assert.equal(texts.at(-1), 'Your order arrives tomorrow afternoon.');
  const requests = await (await fetch(`http://127.0.0.1:${port}/__testkit/requests`)).json();
  assert.deepEqual([...new Set(requests.map((r) => r.endpoint))], ['chat'], 'speech-to-text and speech never went to the server');
  await app.get().click('#tab-settings');
  await app.get().waitForText('[data-model="whisper-base"] .model-state', (t) => t === 'Installed');
  await app.get().waitForText('[data-model="piper-en-us-joe"] .model-state', (t) => t === 'Installed');
  // The voice loaded (a voice that cannot load is a warning at once).
  const warnings = await run(`done([...document.querySelectorAll('#notices .notice.warning, #notices .notice.error')].map((n) => n.textContent))`);
  assert.deepEqual(warnings, [], 'no model warning');
  execFileSync('import', ['-window', 'root', path.join(screenshotDir, 'app-models.png')]);
});
