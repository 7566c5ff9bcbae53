// The first run in the real app: a fresh user (no key, no models) sees the
// chooser; "Use this computer" downloads Whisper base, the chat model and
// the Piper voice from a model mirror (the testkit's, serving the real
// models over loopback) with a moving progress bar; then a typed and a
// spoken question are answered with no server at all: Whisper hears, the
// chat model (SmolLM2 in llama.cpp) answers, and the Piper voice speaks out
// of the virtual speaker. Settings then show the chat model's speed here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appSession } from '../lib/webdriver.mjs';
import { screenshotDir } from '../lib/browser.mjs';

const mirrorPort = 19500 + (process.pid % 400);
const models = await mkdtemp(path.join(os.tmpdir(), 'sori-models-'));
// The app inherits these through tauri-driver: an empty models folder, and the mirror instead of the model hosts.
process.env.SORI_MODELS_DIR = models;
process.env.SORI_MODEL_MIRROR = `http://127.0.0.1:${mirrorPort}`;
// The test's chat model stands in for the one Sori would choose for this
// computer's memory (the mirror serves only the registry-shipped models).
const settingsFile = path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'sori', 'settings.json');
await mkdir(path.dirname(settingsFile), { recursive: true });
await writeFile(settingsFile, JSON.stringify({ version: 1, local_chat_model: 'smollm2-135m-instruct', max_reply_tokens: 48 }));
const app = appSession({ before, after });
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
  mirror = spawn(path.join(bin, 'sori-testkit'), ['mirror', '--root', cache, '--port', String(mirrorPort)], { stdio: 'ignore' });
  await up(`http://127.0.0.1:${mirrorPort}/none/none`);
});

after(async () => {
  mirror?.kill();
  await rm(settingsFile, { force: true });
  await rm(models, { recursive: true, force: true });
});

const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);

test('a fresh user chooses this computer: three models download with progress, then typed and spoken turns run here', async () => {
  await app.get().waitForText('#first-run-title', (t) => t === 'How should Sori work?');
  assert.match(await app.get().text('#first-run-sizes'), /Whisper Base \(148 MB\), Piper Joe \(English, US\) \(63 MB\), SmolLM2 135M Instruct \(English, tiny\) \(98 MB\)/);
  await app.get().click('#first-run-local');
  // The bar moves while the model downloads (sampled from the page itself).
  const seen = await run(`
    const bar = document.getElementById('first-run-progress'), seen = [];
    const tick = setInterval(() => { if (!bar.hidden) seen.push(bar.value); }, 20);
    const check = setInterval(() => { if (document.getElementById('first-run').hidden) { clearInterval(tick); clearInterval(check); done(seen); } }, 50);`);
  assert.ok(new Set(seen).size >= 2, `the progress bar moved: ${seen.length} samples, ${new Set(seen).size} values`);
  await app.get().waitForText('#notices [data-id="first-run"] p', (t) => t.startsWith('Ready'));
  const answers = () => run(`done([...document.querySelectorAll('#transcript .msg.assistant .body')].map((b) => b.textContent))`);

  // A typed question, answered by the chat model on this computer.
  await app.get().type('#ask-input', 'Hello! Can you help me with my order?');
  await app.get().click('#ask-send');
  await app.get().waitForText('#status', (t) => t === 'Speaking', { timeoutMs: 60000 });
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 60000 });
  const typed = await answers();
  assert.equal(typed.length, 1);
  assert.ok(typed[0].trim().length > 0, 'the chat model answered');

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
  const spoken = await answers();
  assert.equal(spoken.length, 2);
  assert.ok(spoken[1].trim().length > 0, 'the chat model answered the spoken question');
  await app.get().click('#tab-settings');
  await app.get().waitForText('[data-model="whisper-base"] .model-state', (t) => t === 'Installed');
  await app.get().waitForText('[data-model="piper-en-us-joe"] .model-state', (t) => t === 'Installed');
  await app.get().waitForText('[data-model="smollm2-135m-instruct"] .model-state', (t) => t === 'Installed');
  // Its speed on this computer, measured on the answers above.
  await app.get().waitForText('#chat-speed', (t) => /^Measured on this computer: \d+(\.\d)? tokens per second/.test(t));
  assert.equal(await run(`done(document.getElementById('set-chat_provider').value)`), 'local');
  // The voice loaded (a voice that cannot load is a warning at once).
  const warnings = await run(`done([...document.querySelectorAll('#notices .notice.warning, #notices .notice.error')].map((n) => n.textContent))`);
  assert.deepEqual(warnings, [], 'no model warning');
  execFileSync('import', ['-window', 'root', path.join(screenshotDir, 'app-models.png')]);
});
