// Hands-free on laptop speakers, in the real window: the rig's speaker is
// carried back into its microphone (50 ms later, at half volume) as a
// laptop's would be. Sori answers a typed question out loud and does not
// take its own voice for the user; then the user speaks over the reply, the
// reply is cut and marked, and what they said becomes the next question.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appSession } from '../lib/webdriver.mjs';
import { startTestkit, saveSettingsAndKey } from '../lib/testkit.mjs';
import { screenshotDir } from '../lib/browser.mjs';

const app = appSession({ before, after });
const port = 21000 + (process.pid % 1000);
const base = `http://127.0.0.1:${port}`;
let server;
let dir;
let echo;

const LONG = 'Your order left our warehouse this morning and is with the courier now. It should reach you tomorrow afternoon between two and five. You will get a text message when the driver is close, and you can change the delivery time from that message.';

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sori-hands-free-'));
  server = await startTestkit(app.app, port);
  await fetch(`${base}/__testkit/replies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contains: 'order arrive', reply: LONG }) });
  // The echo path: what the speaker plays, the microphone hears.
  echo = execFileSync('pactl', ['load-module', 'module-loopback', 'source=speaker.monitor', 'sink=micsink', 'latency_msec=50', 'adjust_time=0']).toString().trim();
  const input = execFileSync('pactl', ['list', 'short', 'sink-inputs']).toString().trim().split('\n').filter((l) => l.split('\t')[3] === 'module-loopback.c').at(-1).split('\t')[0];
  execFileSync('pactl', ['set-sink-input-volume', input, '50%']);
});

after(async () => {
  server?.kill();
  if (echo) execFileSync('pactl', ['unload-module', echo]);
  await rm(path.join(process.env.XDG_CONFIG_HOME ?? '', 'sori', 'settings.json'), { force: true });
  await rm(dir, { recursive: true, force: true });
});

const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);
const count = (selector) => run(`done(document.querySelectorAll(${JSON.stringify(selector)}).length)`);

test('hands-free on speakers: Sori is not fooled by its own echo, and the user cuts it by speaking', async () => {
  await app.get().click('#tab-settings');
  await app.get().find('#set-base_url');
  await run(`
    document.getElementById('set-base_url').value = ${JSON.stringify(`${base}/v1`)};
    document.getElementById('set-input_mode').value = 'hands_free';
    document.getElementById('set-speaker_setup').value = 'speakers';
    document.getElementById('set-speaker_setup').dispatchEvent(new Event('change'));
    done();`);
  assert.match(await app.get().text('#speaker-hint'), /^Speakers: Sori takes its own voice/);
  await saveSettingsAndKey(app.get());
  await app.get().waitForText('#ptt-label', (t) => t === 'Hands-free: just talk');

  // A typed question, answered out loud; its echo reaches the microphone.
  await app.get().type('#ask-input', 'When will my order arrive?');
  await app.get().click('#ask-send');
  await app.get().waitForText('#status', (t) => t === 'Speaking', { timeoutMs: 15000 });
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(await app.get().text('#status'), 'Speaking', 'two and a half seconds of its own echo did not stop Sori');
  assert.equal(await count('#transcript .msg.user'), 1, 'nor became a question');

  // The user speaks over the reply.
  const wav = path.join(dir, 'user.wav');
  execFileSync('espeak-ng', ['-v', 'en', '-w', wav, 'Wait, I want to change the delivery address.']);
  const user = spawn('paplay', ['-d', 'micsink', wav]);
  await app.get().waitForText('#transcript .msg.assistant.interrupted', (t) => t.length > 0, { timeoutMs: 3000 });
  await new Promise((r) => user.on('exit', r));
  // What they said is the next question, answered in turn.
  await app.get().waitForText('#status', (t) => t === 'Transcribing' || t === 'Thinking' || t === 'Speaking', { timeoutMs: 10000 });
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 40000 });
  assert.equal(await count('#transcript .msg.user'), 2, 'the interruption became one new question');
  await mkdir(screenshotDir, { recursive: true });
  await writeFile(path.join(screenshotDir, 'app-hands-free-en.png'), await app.get().screenshot());
});
