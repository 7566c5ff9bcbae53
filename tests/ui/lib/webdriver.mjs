// A minimal W3C WebDriver client over fetch, for the real app through
// tauri-driver (which hands the session to WebKitWebDriver).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/**
 * Starts tauri-driver on a free-ish port pair and waits until it answers: up
 * to 30 s, since a cold machine once took longer than 10 (the session then
 * failed with "fetch failed"); a driver that exits says so at once.
 */
export async function startDriver({ port = 4444 + (process.pid % 1000) * 2 } = {}) {
  const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(port + 1)], { stdio: ['ignore', 'inherit', 'inherit'] });
  let exited = null;
  driver.on('exit', (code) => { exited = code; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (exited !== null) throw new Error(`tauri-driver exited with ${exited} before answering on port ${port}`);
    try {
      const r = await fetch(`${base}/status`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, stop: () => driver.kill() };
}

async function call(method, url, body) {
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await r.json();
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(json.value)}`);
  return json.value;
}

export async function newSession(base, application) {
  const value = await call('POST', `${base}/session`, { capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application } } } });
  const s = `${base}/session/${value.sessionId}`;
  const session = {
    async find(css, { timeoutMs = 15000 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        try {
          const el = await call('POST', `${s}/element`, { using: 'css selector', value: css });
          return el[ELEMENT];
        } catch (e) {
          if (Date.now() > until) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    text: async (css) => call('GET', `${s}/element/${await session.find(css)}/text`),
    /**
     * Clicks `css`, scrolled into view first (WebKit's driver does not scroll
     * a scrolled panel). Right after the window opens WebKit can answer
     * "element not interactable" for a while (seen in CI on the first clicks
     * of a run, once for more than 5 s), so that answer is retried for 15 s.
     */
    async click(css, { timeoutMs = 15000 } = {}) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const id = await session.find(css);
        try {
          await call('POST', `${s}/execute/sync`, { script: 'arguments[0].scrollIntoView({ block: "center" });', args: [{ [ELEMENT]: id }] });
          return await call('POST', `${s}/element/${id}/click`, {});
        } catch (e) {
          if (!/not interactable/.test(e.message) || Date.now() > until) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    /** Waits until the text of `css` satisfies `ok`, and returns it. */
    async waitForText(css, ok, { timeoutMs = 15000 } = {}) {
      const until = Date.now() + timeoutMs;
      let last;
      for (;;) {
        try { last = await session.text(css); } catch { last = undefined; }
        if (last !== undefined && ok(last)) return last;
        if (Date.now() > until) throw new Error(`timed out waiting on ${css}; last text: ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** Types into an input. */
    type: async (css, text) => call('POST', `${s}/element/${await session.find(css)}/value`, { text }),
    /** Runs `script` in the page; it ends by calling its last argument with a JSON-able result. */
    executeAsync: (script, args = []) => call('POST', `${s}/execute/async`, { script, args }),
    screenshot: async () => Buffer.from(await call('GET', `${s}/screenshot`), 'base64'),
    close: () => call('DELETE', s),
  };
  return session;
}

/**
 * One tauri-driver and one session on the real app for a test file: call in
 * its top level; `get()` gives the session once `before` has run.
 */
export function appSession({ before, after }) {
  const app = process.env.SORI_APP ?? path.join(repoRoot, 'target/debug/sori');
  let driver;
  let session;
  before(async () => {
    if (!process.env.DISPLAY) throw new Error('needs a display: run through tests/rig/with-rig.sh');
    driver = await startDriver();
    session = await newSession(driver.base, app);
    // The session answers as soon as the page is parsed, before its modules
    // have wired the controls: a tab clicked then stays shut, and CI once saw
    // the settings panel hidden for a whole test that way. Wait for the app
    // to say it is ready (60 s: a loaded cold machine is slow to start).
    await session.find('html[data-ready="true"]', { timeoutMs: 60000 });
  });
  after(async () => {
    await session?.close().catch(() => {});
    driver?.stop();
  });
  return { app, get: () => session };
}
