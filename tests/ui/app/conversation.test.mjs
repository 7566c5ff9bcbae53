// The whole app end to end: the real window, the real keychain, the virtual
// microphone and speaker of the rig, and the local OpenAI-compatible test
// server. Set the provider and key in Settings, type a question and watch the
// reply stream while its audio reaches the speaker, stop a reply, and hold
// push-to-talk (the button, then the global shortcut on the keyboard) while
// speech plays into the microphone, then export the conversation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appSession } from '../lib/webdriver.mjs';
import { startTestkit } from '../lib/testkit.mjs';
import { screenshotDir } from '../lib/browser.mjs';
import { recordSpeaker } from '../lib/speaker.mjs';

const app = appSession({ before, after });
const port = 19000 + (process.pid % 1000);
const baseUrl = `http://127.0.0.1:${port}/v1`;
let server;
let dir;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sori-e2e-'));
  server = await startTestkit(app.app, port);
});

after(async () => {
  server?.kill();
  // Later app tests start from the default settings.
  await rm(path.join(process.env.XDG_CONFIG_HOME ?? '', 'sori', 'settings.json'), { force: true });
  await rm(dir, { recursive: true, force: true });
});

const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);

test('the provider and its key are set in Settings, and the key checks out', async () => {
  await app.get().click('#tab-settings');
  await app.get().find('#set-base_url');
  await run(`document.getElementById('set-base_url').value = ${JSON.stringify(baseUrl)}; done();`);
  await app.get().click('#settings-save');
  await app.get().waitForText('#settings-result', (t) => t === 'Settings saved.');
  await app.get().waitForText('#provider-url', (t) => t === baseUrl);
  await app.get().type('#key-input', 'sori-test-key-0123');
  await app.get().click('#key-save');
  await app.get().waitForText('#key-status', (t) => t.includes('…0123'));
  await app.get().click('#key-check');
  const result = await app.get().waitForText('#key-result', (t) => t && t !== '…', { timeoutMs: 20000 });
  assert.match(result, /^The key works/);
});

test('a typed question: the reply streams into the window and its audio reaches the speaker', async () => {
  await app.get().click('#tab-talk');
  const speaker = recordSpeaker(dir, 'typed');
  await app.get().type('#ask-input', 'When will my order arrive?');
  // Watch the reply while it is written: seen streaming, and growing.
  const watch = run(`
    const seen = [];
    const obs = new MutationObserver(() => {
      const m = document.querySelector('#transcript .msg.assistant');
      if (m) seen.push([m.classList.contains('streaming'), m.querySelector('.body').textContent.length]);
    });
    obs.observe(document.getElementById('transcript'), { subtree: true, childList: true, characterData: true, attributes: true });
    setTimeout(() => { obs.disconnect(); done(seen); }, 6000);`);
  await app.get().click('#ask-send');
  const seen = await watch;
  const streaming = seen.filter(([s]) => s).map(([, n]) => n);
  assert.ok(streaming.length >= 3 && streaming.at(-1) > streaming[0], `the reply grew while streaming: ${JSON.stringify(seen.slice(0, 10))}`);
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 30000 });
  const reply = await app.get().text('#transcript .msg.assistant .body');
  assert.match(reply, /When will my order arrive\?/, 'the test server echoes the question in its reply');
  const heard = await speaker.stop();
  assert.ok(heard > 2, `${heard.toFixed(2)} s of the reply reached the virtual speaker`);
  await mkdir(screenshotDir, { recursive: true });
  await writeFile(path.join(screenshotDir, 'app-conversation.png'), await app.get().screenshot());
});

test('the stop button cuts the reply while it is spoken', async () => {
  await app.get().type('#ask-input', 'Please tell me everything about my refund.');
  await app.get().click('#ask-send');
  await app.get().waitForText('#status', (t) => t === 'Speaking', { timeoutMs: 20000 });
  await new Promise((r) => setTimeout(r, 500));
  const speaker = recordSpeaker(dir, 'stopped');
  await app.get().click('#stop');
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 1500));
  const after = await speaker.stop();
  assert.ok(after < 0.3, `${after.toFixed(2)} s of sound after the stop`);
  const marked = await run(`done(document.querySelectorAll('#transcript .msg.assistant.interrupted').length)`);
  assert.equal(marked, 1, 'the reply is marked as cut');
});

test('holding push-to-talk while speech plays into the microphone gives a transcript and a reply', async () => {
  const wav = path.join(dir, 'question.wav');
  execFileSync('espeak-ng', ['-v', 'en', '-w', wav, 'Where is my parcel right now?']);
  const before = await run(`done(document.querySelectorAll('#transcript .msg.user').length)`);
  await run(`document.getElementById('ptt').dispatchEvent(new PointerEvent('pointerdown', { bubbles: true })); done();`);
  await app.get().waitForText('#ptt-label', (t) => t.startsWith('Listening'));
  execFileSync('paplay', ['-d', 'micsink', wav]);
  await new Promise((r) => setTimeout(r, 300));
  await run(`document.getElementById('ptt').dispatchEvent(new PointerEvent('pointerup', { bubbles: true })); done();`);
  await app.get().waitForText('#status', (t) => t === 'Transcribing' || t === 'Thinking' || t === 'Speaking', { timeoutMs: 10000 });
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 30000 });
  const texts = await run(`done([...document.querySelectorAll('#transcript .msg .body')].map((b) => b.textContent))`);
  const users = await run(`done(document.querySelectorAll('#transcript .msg.user').length)`);
  assert.equal(users, before + 1, 'the spoken question is in the transcript');
  assert.ok(texts.at(-1).length > 20, `the reply: ${texts.at(-1)}`);
  await app.get().click('#tab-inspector');
  const turn = await app.get().waitForText('#turns .turn', (t) => t.includes('First audio'));
  assert.match(turn, /Transcript\s*\d+ ms/);
});

test('the global shortcut held on the keyboard talks to Sori through the system key grab', async () => {
  const wav = path.join(dir, 'global.wav');
  execFileSync('espeak-ng', ['-v', 'en', '-w', wav, 'Can I change my delivery address?']);
  await app.get().click('#tab-talk');
  // If the page saw the key, the in-window shortcut could be what answered;
  // an X key grab takes the key before any window does.
  await run(`window.__SAW_SPACE__ = false; window.addEventListener('keydown', (e) => { if (e.code === 'Space') window.__SAW_SPACE__ = true; }, true); done();`);
  const before = await run(`done(document.querySelectorAll('#transcript .msg.user').length)`);
  execFileSync('xdotool', ['keydown', 'ctrl+shift+space']);
  try {
    await app.get().waitForText('#status', (t) => t === 'Listening');
    execFileSync('paplay', ['-d', 'micsink', wav]);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    execFileSync('xdotool', ['keyup', 'ctrl+shift+space']);
  }
  await app.get().waitForText('#status', (t) => t === 'Transcribing' || t === 'Thinking' || t === 'Speaking', { timeoutMs: 10000 });
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 30000 });
  assert.equal(await run(`done(document.querySelectorAll('#transcript .msg.user').length)`), before + 1, 'the spoken question is in the transcript');
  assert.equal(await run('done(window.__SAW_SPACE__)'), false, 'the key went to the global grab, not to the page');
});

test('a conversation is exported from the history into the Downloads folder', async () => {
  // Where the desktop says downloads go (dirs reads this file on each call).
  const downloads = path.join(dir, 'downloads');
  const userDirs = path.join(process.env.XDG_CONFIG_HOME, 'user-dirs.dirs');
  await writeFile(userDirs, `XDG_DOWNLOAD_DIR="${downloads}"\n`);
  try {
    await app.get().click('#tab-history');
    await app.get().waitForText('#conversations', (t) => t.includes('Export Markdown'));
    await run(`[...document.querySelector('#conversations li').querySelectorAll('button')].find((b) => b.textContent === 'Export Markdown').click(); done();`);
    const said = await app.get().waitForText('#history-result', (t) => t.startsWith('Saved to '));
    const file = said.slice('Saved to '.length);
    assert.equal(path.dirname(file), downloads);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^# Sori conversation /);
    assert.match(text, /\*\*You:\*\* .+\n\n\*\*Sori:\*\* .{20,}/);
  } finally {
    await rm(userDirs, { force: true });
  }
});
