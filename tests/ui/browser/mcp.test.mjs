// MCP tool servers in Settings, in Chromium against the stand-in engine:
// a pasted mcpServers block is saved with its secrets sent to the keychain
// and shown back only as kept; a server connects, then lists its tools,
// each of which can be switched off; a broken block or server says why.
// Both languages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { openBrowser, screenshotDir } from '../lib/browser.mjs';

let browser;
before(async () => {
  browser = await openBrowser();
  await mkdir(screenshotDir, { recursive: true });
});
after(() => browser.close());

const BLOCK = JSON.stringify({
  mcpServers: {
    everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything', 'stdio'], env: { API_TOKEN: 'tok-123456' } },
    broken: { command: 'missing' },
  },
});

test('a pasted block is saved, its secret goes to the keychain, and the tools can be switched off', async () => {
  const { page, errors } = await browser.page();
  await page.click('#tab-settings');
  await page.locator('#mcp-list li', { hasText: 'No servers are set up.' }).waitFor();
  await page.fill('#mcp-config', BLOCK);
  await page.click('#mcp-save');
  await page.locator('#mcp-result', { hasText: 'Saved. The servers are starting.' }).waitFor();
  assert.deepEqual(await page.evaluate(() => window.__SORI_MCP_KEYCHAIN__), { 'mcp:everything/API_TOKEN': 'tok-123456' });
  const shown = await page.inputValue('#mcp-config');
  assert.ok(!shown.includes('tok-123456') && shown.includes('"API_TOKEN": "(kept in the keychain)"'), shown);
  await page.locator('#mcp-list [data-server="everything"][data-state="connecting"] .mcp-state', { hasText: 'Connecting…' }).waitFor();
  await page.locator('#mcp-list [data-server="everything"][data-state="ready"] .mcp-state', { hasText: '3 tools' }).waitFor();
  const broken = page.locator('#mcp-list [data-server="broken"] .mcp-state');
  assert.match(await broken.textContent(), /^Failed: broken: missing could not be started/);
  assert.equal(await page.textContent('#mcp-list [data-server="everything"] .mcp-tool:nth-child(3) .muted'), 'asks first');
  await page.screenshot({ path: path.join(screenshotDir, 'mcp-en.png'), fullPage: true });

  await page.uncheck('#mcp-list [data-tool="get-sum"]');
  await page.locator('#mcp-list [data-server="everything"] .mcp-state', { hasText: '2 tools' }).waitFor();
  assert.ok((await page.evaluate(() => window.__SORI_CALLS__)).includes('set_mcp_tool:everything:get-sum:false'));
  // Saved again as shown, the kept secret is not overwritten.
  await page.click('#mcp-save');
  await page.locator('#mcp-result', { hasText: 'Saved.' }).waitFor();
  assert.deepEqual(await page.evaluate(() => window.__SORI_MCP_KEYCHAIN__), { 'mcp:everything/API_TOKEN': 'tok-123456' });
  assert.match(await page.inputValue('#mcp-config'), /"disabled_tools": \[\s*"get-sum"\s*\]/);
  assert.deepEqual(errors, []);
});

test('in Korean, and a block that is not JSON keeps what was typed and says why', async () => {
  const { page } = await browser.page({ lang: 'ko-KR' });
  await page.click('#tab-settings');
  await page.locator('#mcp-title', { hasText: '도구 서버 (MCP)' }).waitFor();
  await page.fill('#mcp-config', '{"mcpServers": {');
  await page.click('#mcp-save');
  await page.locator('#mcp-result.error', { hasText: 'This is not JSON' }).waitFor();
  assert.equal(await page.inputValue('#mcp-config'), '{"mcpServers": {');
  await page.fill('#mcp-config', BLOCK);
  await page.click('#mcp-save');
  await page.locator('#mcp-list [data-server="everything"] .mcp-state', { hasText: '도구 3개' }).waitFor();
  assert.equal(await page.textContent('#mcp-list [data-server="everything"] .mcp-tool:first-child .muted'), '읽기 전용');
});
