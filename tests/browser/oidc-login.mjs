// The web view's login through the municipality's OpenID provider, in headless Chromium: a real
// provider (tests/oidc/provider.mjs, npm oidc-provider) on loopback, registered for the demo
// municipality; the clerk clicks the login button, signs in on the provider's page, consents, lands
// in the web view with no ticket left in the address, and logs out at both ends.
// Run by scripts/browser-test.sh after flows.mjs and report.mjs: it registers a provider for the
// demo municipality, which those do not expect.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8091';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? 'target/browser-screenshots';
const ADMIN = { username: 'admin', password: 'admin-demo-pass' };
const PROVIDER_DIR = fileURLToPath(new URL('../oidc/', import.meta.url));

let browser;
let provider;
let issuer;

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startProvider() {
  const port = await freePort();
  provider = spawn('node', ['provider.mjs'], {
    cwd: PROVIDER_DIR,
    env: { ...process.env, PORT: String(port), WEB_ORIGIN: BASE_URL },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [line] = await new Promise((resolve) => {
    const lines = createInterface({ input: provider.stdout });
    lines.once('line', (first) => resolve([first]));
  });
  assert.match(line, /^ready /, 'the OpenID provider starts');
  return line.slice('ready '.length).trim();
}

async function api(method, path, { token, body } = {}) {
  const response = await fetch(`${BASE_URL}/api/v1${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, data: text ? JSON.parse(text) : null };
}

before(async () => {
  issuer = await startProvider();
  const login = await api('POST', '/auth/token', { body: ADMIN });
  assert.equal(login.status, 200, 'the demo admin logs in');
  const registered = await api('PUT', '/identity-provider', {
    token: login.data.access_token,
    body: {
      issuer, client_id: 'kpi-web', client_secret: 'kpi-web-secret', audience: 'urn:municipal-kpi',
      provisioning: 'auto', local_passwords_allowed: true,
      claim_mappings: [{ claim: 'groups', value: 'kikaku', role: 'hq' }],
    },
  });
  assert.equal(registered.status, 200, 'the provider is registered');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  provider?.kill();
});

test('a clerk logs in with the provider button, and logout ends the session here and at the provider', async () => {
  const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`${BASE_URL}/`);
  const button = page.getByRole('button', { name: /職員アカウントでログイン$/ });
  await button.waitFor();
  await page.screenshot({ path: `${SCREENSHOTS}/oidc-login-button.png` });
  await button.click();

  // The provider's own pages: sign in, then consent.
  await page.waitForURL((url) => url.href.startsWith(issuer));
  await page.locator('input[name="login"]').fill('kikaku-taro');
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]').filter({ hasText: /Continue/i }).click();

  await page.locator('#session-bar').waitFor({ state: 'visible' });
  assert.match(await page.locator('#session-user').textContent(), /kikaku-taro/);
  assert.equal(new URL(page.url()).search, '', 'the login ticket is gone from the address');
  await page.screenshot({ path: `${SCREENSHOTS}/oidc-logged-in.png`, fullPage: true });
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('municipal-kpi.session')).token);
  assert.equal((await api('GET', '/me', { token })).status, 200);

  // Logout: the server ends the session, then the browser goes to the provider to end its own.
  await page.locator('#logout-button').click();
  await page.waitForURL((url) => url.href.startsWith(issuer));
  await page.locator('button[name="logout"]').click();
  await page.waitForURL((url) => url.href.startsWith(BASE_URL));
  await page.locator('#login-view').waitFor({ state: 'visible' });
  assert.equal((await api('GET', '/me', { token })).status, 401, 'the token is refused after logout');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a failed provider login is explained in Japanese and its code leaves the address', async () => {
  const page = await browser.newPage({ locale: 'ja-JP' });
  await page.goto(`${BASE_URL}/?login_error=account_refused`);
  await page.locator('#login-view').waitFor({ state: 'visible' });
  assert.match(await page.locator('#login-error').textContent(), /管理者に連絡してください/);
  assert.equal(new URL(page.url()).search, '');
  await page.close();
});
