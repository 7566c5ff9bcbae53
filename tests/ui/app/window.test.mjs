// The real app: the sori binary in a real WebKitGTK window under Xvfb, driven
// through tauri-driver. Text checked here came back from Rust commands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { appSession, repoRoot } from '../lib/webdriver.mjs';
import { screenshotDir } from '../lib/browser.mjs';

const app = appSession({ before, after });

test('the window shows the version the Rust command returned', async () => {
  const cargo = await readFile(path.join(repoRoot, 'Cargo.toml'), 'utf8');
  const version = cargo.match(/\[workspace\.package\][^[]*?version = "([^"]+)"/)[1];
  const text = await app.get().waitForText('#app-version', (t) => t.startsWith('Sori'));
  assert.equal(text, `Sori ${version} · engine ${version}`);
});

test('the devices come from the audio system, the rig defaults marked', async () => {
  await app.get().click('#tab-settings');
  const inputs = await app.get().waitForText('#input-list', (t) => t.includes('Virtual-Microphone'));
  assert.match(inputs, /Virtual-Microphone\s*default/);
  const outputs = await app.get().text('#output-list');
  assert.match(outputs, /Virtual-Speaker\s*default/);
});

test('clicking switches the language and refreshes through Rust again', async () => {
  const before = await app.get().text('#refresh-devices');
  await app.get().click('#lang-toggle');
  const after = await app.get().waitForText('#refresh-devices', (t) => t !== before);
  assert.deepEqual(new Set([before, after]), new Set(['Check devices', '장치 확인']));
  await app.get().click('#refresh-devices');
  await app.get().waitForText('#input-list', (t) => t.includes('Virtual-Microphone'));
  await mkdir(screenshotDir, { recursive: true });
  await writeFile(path.join(screenshotDir, 'app-window.png'), await app.get().screenshot());
  if (after === 'Check devices') await app.get().click('#lang-toggle');
});

test('a keychain that hangs does not freeze the window', async () => {
  const run = (script) => app.get().executeAsync(`const done = arguments[arguments.length - 1]; ${script}`);
  // The keychain answers first, so it is open before it hangs.
  await run(`window.__TAURI__.core.invoke('key_status').then(() => done(true), (e) => done(e))`);
  const [pid] = execFileSync('pgrep', ['-f', 'gnome-keyring-daemon']).toString().trim().split('\n');
  process.kill(Number(pid), 'SIGSTOP');
  let timing;
  try {
    timing = await run(`
      const core = window.__TAURI__.core;
      const t0 = performance.now();
      let statusMs = null;
      core.invoke('key_status').finally(() => { statusMs = performance.now() - t0; });
      core.invoke('app_info').then(() => done({ infoMs: performance.now() - t0, statusMs }), (e) => done({ error: String(e) }));`);
  } finally {
    process.kill(Number(pid), 'SIGCONT');
  }
  // The key's status waits on the hung keychain; every other command, and the window, go on.
  assert.equal(timing.statusMs, null, 'the keychain really hung');
  assert.ok(timing.infoMs < 500, `another command answered after ${timing.infoMs} ms`);
  const status = await run(`window.__TAURI__.core.invoke('key_status').then((s) => done(s), (e) => done({ error: String(e) }))`);
  assert.equal(typeof status.set, 'boolean', `the keychain answers again: ${JSON.stringify(status)}`);
});
