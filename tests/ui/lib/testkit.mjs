// The test server beside the app binary, started for a real-app test and
// waited for until it answers.
import { spawn } from 'node:child_process';
import path from 'node:path';

/** Starts `sori-testkit serve` on `port` under the typical latency model; resolves once it answers. */
export async function startTestkit(appPath, port) {
  const server = spawn(path.join(path.dirname(appPath), 'sori-testkit'), ['serve', '--port', String(port), '--latency', 'typical'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/__testkit/requests`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return server;
}

/** Saves the settings form as it stands, then the test server's key, and goes back to Talk. */
export async function saveSettingsAndKey(session) {
  await session.click('#settings-save');
  await session.waitForText('#settings-result', (t) => t === 'Settings saved.');
  await session.type('#key-input', 'sori-test-key-0123');
  await session.click('#key-save');
  await session.waitForText('#key-status', (t) => t.includes('…0123'));
  await session.click('#tab-talk');
}
