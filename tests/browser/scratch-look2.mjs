import { chromium } from 'playwright-core';
const BASE = process.env.BASE_URL;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
const page = await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.log('console:', m.text()); });
page.on('pageerror', (e) => console.log('pageerror:', String(e)));
await page.goto(`${BASE}/`);
await page.getByLabel('ユーザー名').fill(process.env.USER_NAME ?? 'hq');
await page.getByLabel('パスワード').fill(process.env.USER_PASS ?? 'hq-demo-password');
await page.getByLabel('パスワード').press('Enter');
await page.waitForTimeout(3000);
const steps = (process.env.STEPS ?? '').split(';').filter(Boolean);
for (const step of steps) { await eval(`(async () => { ${step} })()`); await page.waitForTimeout(800); }
await page.screenshot({ path: process.env.OUT ?? '/tmp/scr/look2.png', fullPage: process.env.FULL === '1' });
await browser.close();
