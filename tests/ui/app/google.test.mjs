// Google Cloud speech in the real window, against the test server's fake
// Google: both speech stages set to Google in Settings, a service account's
// key file handed in by its text and kept in Secret Service (sori-cli reads
// it back), Google's voices in the voice picker, and a Korean question spoken
// into the virtual microphone answered aloud in the chosen Google voice,
// with the chat stage on the OpenAI-compatible routes. Then the key is removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appSession } from '../lib/webdriver.mjs';
import { startTestkit, saveSettingsAndKey } from '../lib/testkit.mjs';
import { screenshotDir } from '../lib/browser.mjs';
import { recordSpeaker } from '../lib/speaker.mjs';

const app = appSession({ before, after });
const cli = path.join(path.dirname(app.app), 'sori-cli');
const port = 24000 + (process.pid % 1000);
const base = `http://127.0.0.1:${port}`;
let server;
let dir;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sori-google-'));
  server = await startTestkit(app.app, port);
});

after(async () => {
  server?.kill();
  await rm(path.join(process.env.XDG_CONFIG_HOME ?? '', 'sori', 'settings.json'), { force: true });
  await rm(dir, { recursive: true, force: true });
});

const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);
const count = (selector) => run(`done(document.querySelectorAll(${JSON.stringify(selector)}).length)`);
const googleStatus = () => JSON.parse(execFileSync(cli, ['google', 'key-status'], { encoding: 'utf8' }));
const requests = async () => (await fetch(`${base}/__testkit/requests`)).json();

test('a Korean spoken turn with Google speech, a service account from the keychain, and the voice picker', async () => {
  await app.get().click('#tab-settings');
  await app.get().find('#set-base_url');
  await run(`
    const set = (id, v) => { document.getElementById('set-' + id).value = v; };
    set('base_url', ${JSON.stringify(`${base}/v1`)});
    set('stt_provider', 'google');
    set('tts_provider', 'google');
    set('google_endpoint', ${JSON.stringify(base)});
    set('language', 'ko');
    set('input_mode', 'hands_free');
    set('speaker_setup', 'headset');
    done();`);
  await saveSettingsAndKey(app.get());

  // The key file's text goes in through the key field (as pasting it does).
  await app.get().click('#tab-settings');
  const keyFile = await (await fetch(`${base}/__testkit/google/service-account`)).text();
  await run(`document.getElementById('google-input').value = ${JSON.stringify(keyFile)}; document.getElementById('google-save').click(); done();`);
  const status = await app.get().waitForText('#google-status', (t) => t.includes('service account'), { timeoutMs: 15000 });
  assert.match(status, /^Key set · service account sori-test@sori-test\.iam\.gserviceaccount\.com · Secret Service$/);
  const stored = googleStatus();
  assert.deepEqual([stored.set, stored.source, stored.credential.type], [true, 'keychain', 'service_account']);
  const page = await run('done(document.documentElement.outerHTML)');
  assert.ok(!page.includes('PRIVATE KEY'), 'the key is nowhere in the page');
  assert.equal(await run(`done(document.getElementById('google-input').value)`), '', 'nor left in the field');

  // Google's voices in the picker; a Korean one chosen, with a lower pitch.
  await app.get().click('#tab-voice');
  await app.get().waitForText('#voice-select', (t) => t.includes('ko-KR-Neural2-C · male'), { timeoutMs: 15000 });
  await run(`
    document.getElementById('voice-select').value = 'ko-KR-Neural2-C';
    document.getElementById('pitch').value = '-2';
    done();`);
  await app.get().click('#voice-save');
  await app.get().waitForText('#voice-result', (t) => t === 'Saved.');
  await app.get().click('#tab-talk');

  // A Korean question into the virtual microphone; the log from here on is the turn's
  // (the fillers made ahead in the first voice are not).
  await fetch(`${base}/__testkit/requests`, { method: 'DELETE' });
  const wav = path.join(dir, 'question.wav');
  execFileSync('espeak-ng', ['-v', 'ko', '-w', wav, '주문한 물건이 언제 도착하나요?']);
  const speaker = recordSpeaker(dir, 'reply');
  execFileSync('paplay', ['-d', 'micsink', wav]);
  await app.get().waitForText('#status', (t) => t === 'Transcribing' || t === 'Thinking' || t === 'Speaking', { timeoutMs: 15000 });
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 40000 });
  assert.equal(await count('#transcript .msg.user'), 1, 'Google heard one question');
  assert.equal(await count('#transcript .msg.assistant'), 1);
  assert.ok((await speaker.stop()) > 0.5, 'the reply was spoken on the speaker');
  const log = await requests();
  const recognize = log.filter((r) => r.endpoint === 'google_recognize');
  assert.ok(recognize.length >= 1, 'Google heard it (an early transcript may have asked first)');
  assert.ok(recognize.every((r) => r.body.config.languageCode === 'ko-KR' && /^Bearer /.test(r.authorization ?? '')), 'in Korean, with the service account’s token');
  const synth = log.filter((r) => r.endpoint === 'google_synthesize');
  assert.ok(synth.length > 0 && synth.every((r) => r.body.voice.name === 'ko-KR-Neural2-C' && r.body.audioConfig.pitch === -2), JSON.stringify(synth.map((r) => [r.body.voice, r.body.audioConfig])));
  assert.ok(log.some((r) => r.endpoint === 'chat'), 'chat stayed on the OpenAI-compatible server');
  await mkdir(screenshotDir, { recursive: true });
  await writeFile(path.join(screenshotDir, 'app-google-en.png'), await app.get().screenshot());
});

test('in Korean, and the key removed from the keychain', async () => {
  await app.get().click('#lang-toggle');
  await app.get().click('#tab-settings');
  await app.get().waitForText('#google-title', (t) => t === 'Google Cloud 키');
  await app.get().waitForText('#google-status', (t) => t.includes('서비스 계정'));
  await app.get().click('#google-clear');
  await app.get().waitForText('#google-status', (t) => t === '아직 Google 키가 없어요.');
  assert.equal(googleStatus().set, false);
  await writeFile(path.join(screenshotDir, 'app-google-ko.png'), await app.get().screenshot());
});
