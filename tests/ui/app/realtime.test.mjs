// Realtime mode in the real window, against the test server's fake Realtime
// API over a real WebSocket: the mode is switched in Settings and the
// connection pill says so; a typed question is answered out loud on the
// virtual speaker; the server drops the socket mid-reply and the pill shows
// the reconnection and the turns given back; hands-free with the server's
// voice detection, words played into the virtual microphone become a turn.
// Then the pill, a turn and a reconnection in Korean.
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
const port = 23000 + (process.pid % 1000);
const base = `http://127.0.0.1:${port}`;
let server;
let dir;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sori-realtime-'));
  server = await startTestkit(app.app, port);
});

after(async () => {
  server?.kill();
  await rm(path.join(process.env.XDG_CONFIG_HOME ?? '', 'sori', 'settings.json'), { force: true });
  await rm(dir, { recursive: true, force: true });
});

const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);
const count = (selector) => run(`done(document.querySelectorAll(${JSON.stringify(selector)}).length)`);

/** Fills the settings form (values by field id) and saves it (with the key the first time). */
async function settings(values, { key = false } = {}) {
  await app.get().click('#tab-settings');
  await app.get().find('#set-base_url');
  const assign = Object.entries(values).map(([k, v]) => `document.getElementById('set-${k}').value = ${JSON.stringify(v)};`).join('\n');
  await run(`${assign} document.getElementById('settings-result').textContent = ''; done();`);
  if (key) return saveSettingsAndKey(app.get());
  await app.get().click('#settings-save');
  await app.get().waitForText('#settings-result', (t) => t === 'Settings saved.' || t === '설정을 저장했어요.');
  await app.get().click('#tab-talk');
}

/** Makes the test server misbehave once on the Realtime socket. */
const fault = (kind) => fetch(`${base}/__testkit/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: 'realtime', fault: { kind } }) });

/** The Realtime events the app sent the test server, in order. */
const clientEvents = async () => (await fetch(`${base}/__testkit/realtime-events`)).json();

/** Every state the connection pill goes through from now on. */
const watchLink = () => run(`
  window.__linkStates = [];
  new MutationObserver(() => window.__linkStates.push(document.getElementById('link').dataset.state))
    .observe(document.getElementById('link'), { attributes: true, attributeFilter: ['data-state'] });
  done();`);

/** Types a question and waits for its turn to end (as `ended`: Idle, or Error for a failed one). */
async function ask(question, ended = ['Idle', '대기 중']) {
  await app.get().type('#ask-input', question);
  await app.get().click('#ask-send');
  await app.get().waitForText('#status', (t) => t !== 'Idle' && t !== '대기 중', { timeoutMs: 10000 });
  await app.get().waitForText('#status', (t) => ended.includes(t), { timeoutMs: 30000 });
}

test('Realtime mode: switched in Settings, answered out loud, reconnected after a drop, hands-free by the server', async () => {
  await settings({ base_url: `${base}/v1`, conversation_mode: 'realtime' }, { key: true });
  await app.get().waitForText('#link', (t) => t === 'Realtime: connected', { timeoutMs: 15000 });

  const speaker = recordSpeaker(dir, 'typed');
  await ask('When will my order arrive?');
  assert.ok((await speaker.stop()) > 0.5, 'the Realtime voice reached the speaker');
  assert.equal(await count('#transcript .msg.assistant'), 1);

  // The server drops the socket in the middle of the next reply.
  await fault('close_mid_response');
  await watchLink();
  // The turn fails, and says so; the link comes back by itself.
  await ask('And can I change the address?', ['Error']);
  const restored = await app.get().waitForText('#link', (t) => t.startsWith('Reconnected'), { timeoutMs: 15000 });
  assert.match(restored, /^Reconnected \([12] turns of context restored\)$/, 'the conversation went to the new session');
  assert.equal(await count('#notices [data-id="error"]'), 0, 'the lost connection\'s notice went once it was back');
  const states = await run('done(window.__linkStates)');
  assert.ok(states.includes('reconnecting'), states.join(' → '));

  // Hands-free, the server's detection ends the turn: no key, no Enter.
  await watchLink();
  await settings({ input_mode: 'hands_free', realtime_turns: 'server_vad' });
  // The new session (with the server's detection) is up, not the old one.
  for (let i = 0; i < 150 && !(await run('done(window.__linkStates)')).includes('connecting'); i++) await new Promise((r) => setTimeout(r, 100));
  await app.get().waitForText('#link', (t) => t === 'Realtime: connected', { timeoutMs: 15000 });
  const users = await count('#transcript .msg.user');
  const commits = (await clientEvents()).filter((e) => e.type === 'input_audio_buffer.commit').length;
  const wav = path.join(dir, 'user.wav');
  execFileSync('espeak-ng', ['-v', 'en', '-w', wav, 'When will my order arrive?']);
  const spoken = recordSpeaker(dir, 'spoken');
  execFileSync('paplay', ['-d', 'micsink', wav]);
  await app.get().waitForText('#status', (t) => t === 'Thinking' || t === 'Speaking', { timeoutMs: 10000 });
  await app.get().waitForText('#status', (t) => t === 'Idle', { timeoutMs: 30000 });
  assert.equal(await count('#transcript .msg.user'), users + 1, 'the server heard one question');
  const sent = await clientEvents();
  assert.equal(sent.filter((e) => e.type === 'input_audio_buffer.commit').length, commits, 'the server ended the turn, not Sori');
  assert.ok(sent.filter((e) => e.type === 'input_audio_buffer.append').length > 50, 'the microphone streamed');
  assert.ok((await spoken.stop()) > 0.5, 'and it was answered out loud');
  await mkdir(screenshotDir, { recursive: true });
  await writeFile(path.join(screenshotDir, 'app-realtime-en.png'), await app.get().screenshot());
});

test('Realtime mode in Korean: the pill, a typed turn and a reconnection', async () => {
  await settings({ language: 'ko', input_mode: 'push_to_talk' });
  await app.get().click('#lang-toggle');
  await app.get().waitForText('#link', (t) => t === '실시간 연결됨', { timeoutMs: 15000 });
  const before = await count('#transcript .msg.assistant');
  await ask('주문한 상품이 언제 도착하나요?');
  assert.equal(await count('#transcript .msg.assistant'), before + 1);
  // A dropped socket, said in Korean.
  await fault('close_mid_response');
  await ask('배송지를 바꿀 수 있나요?', ['오류']);
  const restored = await app.get().waitForText('#link', (t) => t.startsWith('다시 연결됨'), { timeoutMs: 15000 });
  assert.match(restored, /^다시 연결됨 \(대화 \d+턴 복원\)$/);
  await writeFile(path.join(screenshotDir, 'app-realtime-ko.png'), await app.get().screenshot());
});
