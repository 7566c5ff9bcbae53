// Every view in Korean and in English, with content in it (a streamed turn,
// device warnings, field errors, past conversations): nothing of the other
// language's table may show, and no raw string key. Then the dark look: every
// visible text against its background, light and dark, must be readable
// (WCAG AA contrast).
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

/** Visible texts (text nodes, placeholders, labels, titles) that belong only
 * to the other language's table, or are a bare string key. Runs in the page. */
async function foreignTexts(page, lang) {
  return page.evaluate(async (lang) => {
    const { STRINGS } = await import('/i18n.js');
    const other = lang === 'ko' ? 'en' : 'ko';
    const pattern = (s) => new RegExp(`^${s.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{\w+\\\}/g, '.*')}$`, 's');
    const mine = Object.values(STRINGS[lang]).map(pattern);
    // Strings of a few letters ("OK", a unit) may be the same in both.
    const theirs = Object.values(STRINGS[other]).filter((s) => s.replace(/\{\w+\}/g, '').trim().length >= 3).map(pattern);
    const keys = new Set(Object.keys(STRINGS.en));
    const texts = [];
    for (const el of document.querySelectorAll('body *')) {
      if (!el.checkVisibility()) continue;
      for (const n of el.childNodes) if (n.nodeType === Node.TEXT_NODE && n.textContent.trim()) texts.push(n.textContent.trim());
      for (const a of ['placeholder', 'aria-label', 'title']) if (el.getAttribute(a)?.trim()) texts.push(el.getAttribute(a).trim());
    }
    return texts.filter((s) => keys.has(s) || (theirs.some((r) => r.test(s)) && !mine.some((r) => r.test(s))));
  }, lang);
}

const tString = (page, key, vars) => page.evaluate(async ([key, vars]) => (await import('/i18n.js')).t(key, vars), [key, vars]);

test('both tables have the same keys, and every field error the engine gives has words in both', async () => {
  const { page } = await browser.page();
  const result = await page.evaluate(async () => {
    const { STRINGS } = await import('/i18n.js');
    const errors = await (await fetch('/__fixtures__/field-errors.json')).json();
    const worded = (lang, f) => STRINGS[lang][`fe_${f.field}_${f.code}`] ?? STRINGS[lang][`fe_${f.code}`];
    return {
      onlyKo: Object.keys(STRINGS.ko).filter((k) => !(k in STRINGS.en)),
      onlyEn: Object.keys(STRINGS.en).filter((k) => !(k in STRINGS.ko)),
      count: errors.length,
      unworded: errors.filter((f) => !worded('ko', f) || !worded('en', f)).map((f) => `${f.field}/${f.code}`),
    };
  });
  assert.deepEqual(result.onlyKo, []);
  assert.deepEqual(result.onlyEn, []);
  assert.ok(result.count >= 10, `${result.count} field errors recorded from the engine`);
  assert.deepEqual(result.unworded, []);
});

for (const [locale, lang] of [['ko-KR', 'ko'], ['en-US', 'en']]) {
  test(`every view speaks only ${lang === 'ko' ? 'Korean' : 'English'}, with content in it`, async () => {
    const { page, errors } = await browser.page({ lang: locale });
    await page.fill('#ask-input', lang === 'ko' ? '주문한 상품이 언제 도착하나요?' : 'When will my order arrive?');
    await page.press('#ask-input', 'Enter');
    await page.locator('#transcript .msg.assistant:not(.streaming)').waitFor();
    // Device changes as the engine reports them: worded by the window.
    await page.evaluate(() => {
      window.__SORI_EMIT__({ type: 'warning', code: 'speaker_lost', message: 'Virtual-Headset was disconnected. Playing on Virtual-Speaker instead.', device: 'Virtual-Speaker' });
      window.__SORI_EMIT__({ type: 'warning', code: 'microphone_lost', message: 'Virtual-Microphone was disconnected.' });
    });
    assert.equal(await page.textContent('#notices [data-id="speaker"] p'), await tString(page, 'speakerLost', { device: 'Virtual-Speaker' }));
    assert.equal(await page.textContent('#notices [data-id="mic"] p'), await tString(page, 'micLost'));
    await page.evaluate(() => window.__SORI_EMIT__({ type: 'warning', code: 'microphone_back', message: 'Listening again on Virtual-Microphone.', device: 'Virtual-Microphone' }));
    assert.equal(await page.textContent('#notices [data-id="mic"] p'), await tString(page, 'micBack', { device: 'Virtual-Microphone' }));
    assert.deepEqual(await foreignTexts(page, lang), [], 'talk view');

    await page.click('#tab-voice');
    await page.locator('#voice-select option[value="marin"]').waitFor({ state: 'attached' });
    const presets = await page.locator('#style-presets .chip').allTextContents();
    assert.deepEqual(presets, [await tString(page, 'presetCalm'), await tString(page, 'presetWarm'), await tString(page, 'presetBrisk')]);
    if (lang === 'en') assert.deepEqual(presets, ['Calm support agent', 'Warm and cheerful', 'Brisk and concise']);
    await page.click('#style-presets .chip >> nth=2');
    assert.equal(await page.inputValue('#style-text'), await tString(page, 'presetBriskText'));
    assert.deepEqual(await foreignTexts(page, lang), [], 'voice view');
    await page.screenshot({ path: path.join(screenshotDir, `voice-${lang}.png`), fullPage: true });

    await page.click('#tab-settings');
    await page.locator('#model-list option >> nth=0').waitFor({ state: 'attached' });
    await page.fill('#set-base_url', 'api.example.com');
    await page.fill('#set-end_silence_ms', '50');
    await page.fill('#set-chat_model', '');
    await page.click('#settings-save');
    await page.locator('#err-base_url:not(:empty)').waitFor();
    assert.equal(await page.textContent('#err-base_url'), await tString(page, 'fe_base_url_invalid_url'));
    assert.equal(await page.textContent('#err-end_silence_ms'), await tString(page, 'fe_end_silence_ms_out_of_range'));
    assert.equal(await page.textContent('#err-chat_model'), await tString(page, 'fe_required'));
    assert.deepEqual(await foreignTexts(page, lang), [], 'settings view');

    await page.click('#tab-inspector');
    await page.locator('#turns .turn').waitFor();
    assert.deepEqual(await foreignTexts(page, lang), [], 'inspector view');

    await page.click('#tab-history');
    const items = page.locator('#conversations li');
    await items.first().waitFor();
    assert.match(await items.nth(0).textContent(), new RegExp(await tString(page, 'turns', { n: 2 })));
    await items.nth(0).locator('button >> nth=0').click();
    await page.locator('#history-detail .msg.assistant.interrupted').waitFor();
    assert.deepEqual(await foreignTexts(page, lang), [], 'history view');
    await page.screenshot({ path: path.join(screenshotDir, `history-${lang}.png`), fullPage: true });
    assert.deepEqual(errors, []);
  });
}

/** Visible texts whose contrast with what is behind them is under 4.5:1. */
async function lowContrast(page) {
  return page.evaluate(() => {
    // rgb(…) in 0–255, or color(srgb …) (from color-mix) in 0–1.
    const rgba = (c) => {
      const n = (c.match(/[\d.]+/g) ?? []).map(Number);
      return c.startsWith('color(') ? [n[0] * 255, n[1] * 255, n[2] * 255, n[3] ?? 1] : n;
    };
    const lum = ([r, g, b]) => {
      const ch = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.backgroundImage !== 'none') return null; // a gradient: judged by eye, in the screenshots
        const c = rgba(s.backgroundColor);
        if (c.length === 3 || c[3] > 0.9) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const low = [];
    for (const el of document.querySelectorAll('body *')) {
      if (!el.checkVisibility() || ![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
      if (el.closest('[disabled], .unheard')) continue; // disabled and struck-through text may be faint
      const bg = background(el);
      if (!bg) continue;
      const [a, b] = [lum(rgba(getComputedStyle(el).color).slice(0, 3)), lum(bg)];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) low.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className}: "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return low;
  });
}

for (const colorScheme of ['light', 'dark']) {
  test(`${colorScheme}: every text is readable against its background, in every view`, async () => {
    const { page } = await browser.page({ lang: 'ko-KR', colorScheme });
    const body = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = body.match(/\d+/g).map(Number);
    if (colorScheme === 'dark') assert.ok(r + g + b < 120, `a dark background, not ${body}`);
    else assert.ok(r + g + b > 600, `a light background, not ${body}`);
    await page.fill('#ask-input', '주문한 상품이 언제 도착하나요?');
    await page.press('#ask-input', 'Enter');
    await page.locator('#transcript .msg.assistant:not(.streaming)').waitFor();
    await page.evaluate(() => window.__SORI_EMIT__({ type: 'warning', code: 'speaker_lost', message: 'x', device: 'Virtual-Speaker' }));
    if (colorScheme === 'dark') await page.screenshot({ path: path.join(screenshotDir, 'main-dark.png') });
    const low = { talk: await lowContrast(page) };
    for (const view of ['voice', 'settings', 'inspector', 'history']) {
      await page.click(`#tab-${view}`);
      await page.waitForTimeout(150);
      low[view] = await lowContrast(page);
    }
    assert.deepEqual(low, { talk: [], voice: [], settings: [], inspector: [], history: [] });
  });
}
