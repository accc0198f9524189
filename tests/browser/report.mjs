// The 進捗状況報告書 printed to PDF by headless Chromium, as a clerk's browser would print it: the
// report of the demo plan's FY2020 is loaded from a live `serve --demo` (scripts/browser-test.sh sets
// BASE_URL) with the 本部's token and its own CSP, printed on A4, and the PDF read back with pdf.js:
// - every measure the plan evaluates in the year is in the document (and in the PDF's text);
// - no table row straddles a page edge: all the text of each row is on one page (a row split by a
//   page break leaves part of its text on each page, so no single page holds all of it);
// - the page count is sensible for the demo plan: at least one page per 基本目標 (each starts a page)
//   plus the cover and contents, and at most three pages per measure.
// The PDF goes to SCREENSHOT_DIR (target/browser-screenshots/report-2020.pdf) for review.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8091';
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? 'target/browser-screenshots';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const HQ = { username: 'hq', password: 'hq-demo-password' };
const YEAR = 2020;

let browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
});

async function api(token, path) {
  const response = await fetch(`${BASE_URL}/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return response.json();
}

async function hqToken() {
  const response = await fetch(`${BASE_URL}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(HQ),
  });
  assert.equal(response.status, 200);
  return (await response.json()).access_token;
}

/**
 * Text as compared between the page and the PDF: without any white space, and with the characters a
 * CJK font draws with one glyph made one (the PDF's text maps such a glyph back to only one of them:
 * 土 comes back as the Kangxi radical ⼟, ・ as ‧), by NFKC and by unifying the middle dots and dashes.
 */
function squeezed(text) {
  return text
    .normalize('NFKC')
    .replace(/[\u00B7\u2027\u2022\u30FB\uFF65]/gu, '・')
    .replace(/[\u2010-\u2015\u2212\uFF0D]/gu, '-')
    .replace(/[\u2215\u2044\uFF0F]/gu, '/')
    .replace(/\s+/gu, '');
}

/**
 * What of a text can be compared however its kanji came back: kana, Latin letters and figures. Some
 * kanji come back as CJK radicals that no normalisation maps back (民 as ⺠), so rows are compared on
 * this; a row cut by a page edge still leaves part of it on each page.
 */
function skeleton(text) {
  return squeezed(text).replace(/[^\p{Script=Hiragana}\p{Script=Katakana}A-Za-z0-9%.]/gu, '');
}

async function pdfPages(bytes) {
  const document = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, isEvalSupported: false }).promise;
  const pages = [];
  for (let number = 1; number <= document.numPages; number += 1) {
    const content = await (await document.getPage(number)).getTextContent();
    pages.push(squeezed(content.items.map((item) => item.str ?? '').join('')));
  }
  await document.destroy();
  return pages;
}

test('the report prints on A4 with every measure, no row cut at a page edge and a sensible page count', async () => {
  const token = await hqToken();
  const plans = await api(token, '/plans');
  const plan = plans.items[0];
  const evaluation = await api(token, `/plans/${plan.id}/evaluation?fiscal_year=${YEAR}`);
  const measureNames = evaluation.measures.map((m) => m.name);
  const goalsWithMeasures = new Set(evaluation.measures.map((m) => m.main_goal_id)).size;
  assert.ok(measureNames.length > 10, `the demo plan evaluates ${measureNames.length} measures in ${YEAR}`);

  const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  const externalRequests = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(`${BASE_URL}/api/v1/plans/${plan.id}/report`)) externalRequests.push(request.url());
  });
  await page.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
  const response = await page.goto(`${BASE_URL}/api/v1/plans/${plan.id}/report?fiscal_year=${YEAR}`);
  assert.equal(response.status(), 200);
  await page.emulateMedia({ media: 'print' });

  const text = await page.evaluate(() => document.body.innerText);
  for (const name of measureNames) assert.ok(text.includes(name), `measure ${name} is in the report`);
  assert.ok(text.includes('目次'));
  const rows = await page.$$eval('table tr', (trs) =>
    trs.map((tr) => Array.from(tr.cells, (cell) => cell.innerText)),
  );
  assert.ok(rows.length > measureNames.length, `${rows.length} table rows`);

  const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  writeFileSync(`${SCREENSHOTS}/report-${YEAR}.pdf`, pdf);
  const pages = await pdfPages(pdf);
  const all = pages.join('');

  for (const name of measureNames) assert.ok(all.includes(squeezed(name)), `measure ${name} is in the PDF`);

  const pageSkeletons = pages.map(skeleton);
  const cut = [];
  for (const cells of rows) {
    const parts = cells.map(skeleton).filter((part) => part.length > 0);
    if (parts.length === 0) continue;
    if (!pageSkeletons.some((page) => parts.every((part) => page.includes(part)))) cut.push(cells.join(' | ').slice(0, 120));
  }
  assert.deepEqual(cut, [], 'rows whose text is not all on one page (cut by a page edge)');

  const fewest = goalsWithMeasures + 2;
  const most = measureNames.length * 3;
  assert.ok(
    pages.length >= fewest && pages.length <= most,
    `${pages.length} pages for ${measureNames.length} measures under ${goalsWithMeasures} goals (expected ${fewest}–${most})`,
  );
  assert.deepEqual(externalRequests, [], 'the report loads nothing else');
  assert.deepEqual(consoleErrors, [], 'no errors (such as CSP violations) while rendering');
  await context.close();
});
