// The real app and the real keychain: a key typed into the window lands in
// Secret Service (as sori-cli confirms), is never shown back, and is
// forgotten on request. And the web view's reach is narrow: commands it was
// not granted, core plugin commands, and network requests all fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { appSession } from '../lib/webdriver.mjs';

const app = appSession({ before, after });
const cli = path.join(path.dirname(app.app), 'sori-cli');

const keyStatus = () => JSON.parse(execFileSync(cli, ['key', '--base-url', 'https://api.openai.com/v1', 'status'], { encoding: 'utf8', env: { ...process.env, OPENAI_API_KEY: '' } }));


test('a key typed into the window is kept in Secret Service and shown only as its last 4', async () => {
  await app.get().click('#tab-settings');
  await app.get().waitForText('#key-status', (t) => t.length > 0);
  assert.equal(await app.get().text('#provider-url'), 'https://api.openai.com/v1');
  await app.get().type('#key-input', 'app-test-key-7777');
  await app.get().click('#key-save');
  const status = await app.get().waitForText('#key-status', (t) => t.includes('7777'));
  assert.match(status, /…7777 · Secret Service/);
  const fromCli = keyStatus();
  assert.deepEqual([fromCli.set, fromCli.source, fromCli.store, fromCli.last4], [true, 'keychain', 'Secret Service', '7777']);
  const page = await app.get().executeAsync('arguments[0](document.documentElement.outerHTML)');
  assert.ok(!page.includes('app-test-key'), 'the key is nowhere in the page');
});

test('checking the key without a network says the server cannot be reached', async () => {
  await app.get().click('#key-check');
  const result = await app.get().waitForText('#key-result', (t) => t && t !== '…', { timeoutMs: 30000 });
  assert.match(result, /^Cannot reach the server: Cannot reach api\.openai\.com/);
});

test('the web view can call only what it was granted, and fetch nothing', async () => {
  let hits = 0;
  const server = http.createServer((req, res) => { hits++; res.end('{}'); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/v1/models`;
  const attempt = (expr) => app.get().executeAsync(
    `const done = arguments[arguments.length - 1];
     Promise.resolve().then(() => ${expr}).then(() => done('allowed'), (e) => done('refused: ' + (e && e.message ? e.message : String(e))));`,
  );
  assert.match(await attempt(`window.__TAURI__.core.invoke('plugin:global-shortcut|unregister_all')`), /^refused/);
  assert.match(await attempt(`window.__TAURI__.core.invoke('clear_history')`), /^refused: .*(not allowed|denied)/i);
  assert.match(await attempt(`window.__TAURI__.core.invoke('plugin:window|set_title', { label: 'main', value: 'pwned' })`), /^refused/);
  assert.match(await attempt(`fetch('${url}')`), /^refused/);
  assert.equal(hits, 0, 'the content security policy stopped the request before it left');
  assert.equal(await attempt(`window.__TAURI__.core.invoke('key_status')`), 'allowed');
  server.close();
});

test('forgetting the key removes it from the keychain', async () => {
  await app.get().click('#key-clear');
  await app.get().waitForText('#key-status', (t) => t === 'No key yet.');
  assert.equal(keyStatus().set, false);
});
