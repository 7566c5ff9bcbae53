// Debian's Chromium driven by playwright-core, with ui/ipc.js replaced by the
// stand-in that replays recorded engine results.
import { chromium } from 'playwright-core';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveUi } from './static-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const screenshotDir = path.resolve(here, '../screenshots');

export async function openBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const ui = await serveUi();
  return {
    ui,
    async page({ lang = 'en-US', stub = {}, colorScheme = 'light' } = {}) {
      const context = await browser.newContext({ locale: lang, colorScheme, viewport: { width: 960, height: 720 } });
      const page = await context.newPage();
      await page.route('**/__fixtures__/*.json', (route) => route.fulfill({ path: path.join(here, '../fixtures/recorded', path.basename(new URL(route.request().url()).pathname)), contentType: 'application/json' }));
      await page.route('**/ipc.js', (route) => route.fulfill({ path: path.join(here, '../fixtures/ipc-stub.js'), contentType: 'text/javascript' }));
      // A user who has connected a provider, unless a test says otherwise (`key_set: false` plays a first run).
      await page.addInitScript((s) => { window.__SORI_STUB__ = s; }, { key_set: true, ...stub });
      const errors = [];
      page.on('pageerror', (e) => errors.push(e));
      await page.goto(ui.url);
      return { page, errors };
    },
    async close() {
      await browser.close();
      await ui.close();
    },
  };
}
