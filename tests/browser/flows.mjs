// Browser tests of the web view: headless Chromium drives the page served at `/` by a live server
// started with `serve --demo` (scripts/browser-test.sh starts it and sets BASE_URL).
//
// The flows run in order and share the server's state: the 本部 opens the collection, approves one
// actual and returns another; the department then sees the return, resubmits, and meets a 412.
// Screenshots go to SCREENSHOT_DIR (target/browser-screenshots/) for review.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8091';
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? 'target/browser-screenshots';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const PLAN_NAME = '板橋区ICT推進・活用計画2020（追録版）';
const YEAR_LABEL = '令和2(2020)年度';
const HQ = { username: 'hq', password: 'hq-demo-password' };
const KOSEKI = { username: 'koseki', password: 'koseki-demo-pass' };
const RETURN_COMMENT = '年度末時点の交付枚数で報告してください';
// A deadline ahead of today, so that nothing is late yet.
const DEADLINE_YEAR = new Date().getFullYear() + 1;
const DEADLINE = `${DEADLINE_YEAR}-05-31`;
const DEADLINE_TEXT = `提出期限は${DEADLINE_YEAR}年5月31日です。`;

let browser;
const consoleErrors = [];

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  // Playwright gives the browser a fresh temporary profile (--user-data-dir) of its own.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
});

after(async () => {
  await browser?.close();
});

async function newPage({ width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo', acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  return page;
}

async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage });
}

async function logIn(page, { username, password }) {
  await page.goto(`${BASE_URL}/`);
  await page.getByLabel('ユーザー名').fill(username);
  await page.getByLabel('パスワード').fill(password);
  // Submitting with the keyboard, as a user would.
  await page.getByLabel('パスワード').press('Enter');
  await page.locator('#session-bar').waitFor({ state: 'visible' });
}

/** The API, outside the page, for setup and for a concurrent change behind the page's back. */
async function apiToken({ username, password }) {
  const response = await fetch(`${BASE_URL}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(response.status, 200, 'log in through the API');
  return (await response.json()).access_token;
}

async function apiCall(token, method, path, { body, headers = {} } = {}) {
  const response = await fetch(`${BASE_URL}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, etag: response.headers.get('ETag'), data: text ? JSON.parse(text) : null };
}

/** The demo plan's id and the indicators this run works on, found by name through the API. */
async function demoFixture() {
  const token = await apiToken(HQ);
  const plans = (await apiCall(token, 'GET', '/plans')).data;
  const plan = (Array.isArray(plans) ? plans : plans.items).find((p) => p.name === PLAN_NAME);
  assert.ok(plan, 'the demo plan is loaded');
  const evaluation = (await apiCall(token, 'GET', `/plans/${plan.id}/evaluation?fiscal_year=2020`)).data;
  const pending = evaluation.indicators.filter((i) => i.submission === 'submitted');
  const kosekiPending = pending.filter((i) => i.department_names.includes('戸籍住民課'));
  assert.ok(kosekiPending.length >= 2, '戸籍住民課 has at least two FY2020 actuals awaiting review in the demo');
  const toApprove = pending.find((i) => !i.department_names.includes('戸籍住民課'));
  return { token, plan, toApprove, toReturn: kosekiPending[0], toCorrect: kosekiPending[1] };
}

let fixture;

test('the page is served with a strict content security policy and works without external assets', async () => {
  const response = await fetch(`${BASE_URL}/`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/html/);
  const policy = response.headers.get('content-security-policy');
  assert.match(policy, /default-src 'self'/);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
  const html = await response.text();
  assert.doesNotMatch(html, /https?:\/\//, 'no external URL in the page');
  const script = await fetch(`${BASE_URL}/app/app.js`);
  assert.match(script.headers.get('content-type'), /javascript/);
  assert.equal((await fetch(`${BASE_URL}/app/nope.js`)).status, 404);
  fixture = await demoFixture();
});

test('本部: log in, read the evaluation, open the collection, approve one and return one', async () => {
  const page = await newPage();
  await page.goto(`${BASE_URL}/`);
  await shot(page, '01-login', false);
  // Every form control has a label.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')].filter((c) => !c.labels?.length && !c.getAttribute('aria-label')).map((c) => c.id),
  );
  assert.deepEqual(unlabelled, []);

  await page.getByLabel('ユーザー名').fill(HQ.username);
  await page.getByLabel('パスワード').fill('wrong-password');
  await page.getByRole('button', { name: 'ログイン' }).click();
  await assertText(page.locator('#login-error'), 'ユーザー名またはパスワードが違います。');

  await logIn(page, HQ);
  const title = page.locator('#evaluation-title');
  await title.waitFor();
  // With no collection open, the page opens on the plan that runs latest (DX推進計画2025); the
  // 本部 picks the 2020 plan, whose actuals the demo holds.
  await page.locator('#plan-select').selectOption({ label: PLAN_NAME });
  await assertText(title, PLAN_NAME);
  await assertText(title, YEAR_LABEL);
  assert.match(await page.locator('#session-user').textContent(), /本部/);

  // The 進捗管理表: a row with a status and a grade as the API computed them.
  const approveRow = page.locator(`#row-${fixture.toApprove.indicator_id}`);
  await approveRow.waitFor();
  const rows = page.locator('#evaluation-rows tr');
  assert.equal(await rows.count(), (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/evaluation?fiscal_year=2020`)).data.indicators.length);
  const achievedRow = page.locator('#evaluation-rows tr[data-status="achieved"]').first();
  await assertText(achievedRow.locator('.cell-status'), '達成');
  await assertText(achievedRow.locator('.cell-grade'), 'A');
  await assertText(approveRow.locator('.cell-submission'), '確認待ち');

  // Charts are drawn as SVG in the page, one bar per basic goal, and the trend over the plan's years.
  const goalBars = page.locator('#goals svg .bar-row');
  const goals = (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/dashboard`)).data.years[0].goals;
  assert.equal(await goalBars.count(), goals.length);
  await assertText(page.locator('#goals svg'), goals[0].label);
  await assertText(page.locator('#trend svg').first(), '平成28');
  assert.ok((await page.locator('#trend svg .series-0 .marker').count()) >= 3, 'the trend has a point for each year with data');
  // The lists and the collection status.
  await assertText(page.locator('#list-pending_review-heading'), '確認待ち');
  await assertText(page.locator('#actions'), fixture.toApprove.name);
  await assertText(page.locator('#collection-state'), 'この年度の実績の受付は開始されていません。');
  await assertText(page.locator('#submissions-table'), '戸籍住民課');
  await shot(page, '02-hq-evaluation');
  await shot(page, 'web-hq-overview', false);

  // Open the collection for the year with a deadline.
  await page.getByLabel('提出期限').fill(DEADLINE);
  await page.getByRole('button', { name: `${YEAR_LABEL}の受付を開始する` }).click();
  await assertText(page.locator('#collection-state'), DEADLINE_TEXT);

  // Download the 進捗管理表 as CSV and xlsx.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSVをダウンロード' }).click()]);
  assert.equal(csv.suggestedFilename(), `evaluation-${fixture.plan.id}-2020.csv`);
  const csvText = readFileSync(await csv.path(), 'utf8');
  assert.ok(csvText.includes(fixture.toApprove.name), 'the CSV holds the indicators');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Excel(xlsx)をダウンロード' }).click()]);
  assert.equal(xlsx.suggestedFilename(), `evaluation-${fixture.plan.id}-2020.xlsx`);
  assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString(), 'PK', 'an xlsx is a zip file');

  // Approve one: the dialog shows the submitted value; afterwards the row says 承認済.
  await approveRow.getByRole('button', { name: /審査/ }).click();
  const dialog = page.locator('#review-dialog');
  await dialog.waitFor({ state: 'visible' });
  await assertText(dialog, fixture.toApprove.name);
  await assertText(dialog, '確認待ち');
  await shot(page, '03-hq-review-dialog', false);
  await dialog.getByRole('button', { name: '承認する' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await assertText(page.locator(`#row-${fixture.toApprove.indicator_id} .cell-submission`), '承認済');
  await assertText(page.locator('#notice'), '承認しました');
  const approved = await apiCall(fixture.token, 'GET', `/indicators/${fixture.toApprove.indicator_id}/actuals/2020`);
  assert.equal(approved.data.status, 'approved', 'the approval reached the API');

  // Return one with a comment: a return without one is refused next to the field.
  const returnRow = page.locator(`#row-${fixture.toReturn.indicator_id}`);
  await returnRow.getByRole('button', { name: /審査/ }).click();
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByRole('button', { name: '差し戻す' }).click();
  await assertText(dialog.locator('.field-error'), '理由を入力してください');
  await dialog.getByLabel(/コメント/).fill(RETURN_COMMENT);
  await dialog.getByRole('button', { name: '差し戻す' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await assertText(page.locator(`#row-${fixture.toReturn.indicator_id} .cell-submission`), '差戻し');

  // Filters: only the returned ones.
  await page.getByLabel('提出状況', { exact: true }).selectOption('returned');
  assert.equal(await rows.count(), 1);
  await page.getByLabel('提出状況', { exact: true }).selectOption('');

  // Tablet width.
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.locator('#summary').scrollIntoViewIfNeeded();
  await shot(page, '04-hq-tablet-768');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page fits 768 px without sideways scrolling (overflow ${overflow}px)`);

  await page.getByRole('button', { name: 'ログアウト' }).click();
  await page.locator('#login-view').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'logging out forgets the token');
  await page.context().close();
});

test('所管課: sees the return with the comment, resubmits, and is told when someone changed it first', async () => {
  const page = await newPage();
  await logIn(page, KOSEKI);
  const title = page.locator('#department-title');
  await title.waitFor();
  await assertText(title, '戸籍住民課');
  await assertText(title, YEAR_LABEL);
  await assertText(page.locator('.subtitle'), DEADLINE_TEXT);

  // Only its own indicators; the returned one with the 本部's comment.
  const ownRows = page.locator('#department-rows tr');
  assert.ok((await ownRows.count()) >= 2);
  const returned = page.locator('#returned');
  await assertText(returned, fixture.toReturn.name);
  await assertText(returned, RETURN_COMMENT);
  await shot(page, '05-department-returned');
  await shot(page, 'web-department', false);

  // Resubmit the returned one: version 1 submitted, 2 returned, 3 resubmitted.
  await returned.getByRole('button', { name: /修正して再提出する/ }).click();
  const form = page.locator('#actual-dialog');
  await form.waitFor({ state: 'visible' });
  const kind = fixture.toReturn.kind;
  await fillFigures(form, kind, { value: '41.5', numerator: '41500', denominator: '100000' });
  await form.getByLabel(/備考/).fill('年度末時点の数値に修正');
  await shot(page, '06-department-form', false);
  await form.getByRole('button', { name: '送信する' }).click();
  await form.waitFor({ state: 'hidden' });
  const row = page.locator(`#mine-${fixture.toReturn.indicator_id}`);
  await assertText(row.locator('.cell-version'), '版3');
  await assertText(row.locator('.cell-submission'), '確認待ち');
  await assertText(row.locator('.cell-value'), kind === 'ratio' ? '41,500 / 100,000 (41.5%)' : '41.5');
  await assertText(page.locator('#notice'), '版3');
  const resubmitted = await apiCall(fixture.token, 'GET', `/indicators/${fixture.toReturn.indicator_id}/actuals/2020`);
  assert.equal(resubmitted.data.version, 3);
  assert.equal(resubmitted.data.note, '年度末時点の数値に修正');

  // A validation error from the API is shown next to its field.
  const other = page.locator(`#mine-${fixture.toCorrect.indicator_id}`);
  await other.getByRole('button', { name: /修正/ }).click();
  await form.waitFor({ state: 'visible' });
  if (fixture.toCorrect.kind === 'ratio') {
    await fillFigures(form, 'ratio', { numerator: '5', denominator: '0' });
    await form.getByRole('button', { name: '送信する' }).click();
    // The API's message for the field, next to the field; the field is marked invalid.
    const message = form.locator('.field-error[data-field="denominator"]');
    await message.waitFor({ state: 'visible' });
    assert.ok((await message.textContent()).trim().length > 0);
    assert.equal(await form.getByLabel(/^分母/).getAttribute('aria-invalid'), 'true');
  }

  // Someone else (hq, on the department's behalf) corrects it while the form is open.
  const current = await apiCall(fixture.token, 'GET', `/indicators/${fixture.toCorrect.indicator_id}/actuals/2020`);
  const behindTheBack = await apiCall(fixture.token, 'PUT', `/indicators/${fixture.toCorrect.indicator_id}/actuals/2020`, {
    body: figuresBody(fixture.toCorrect.kind, { value: '12', numerator: '12000', denominator: '100000' }, '本部が代理で修正'),
    headers: { 'If-Match': current.etag },
  });
  assert.equal(behindTheBack.status, 200, 'the concurrent correction is saved');
  await fillFigures(form, fixture.toCorrect.kind, { value: '13', numerator: '13000', denominator: '100000' });
  await form.getByRole('button', { name: '送信する' }).click();
  const conflict = page.locator('#actual-conflict');
  await conflict.waitFor({ state: 'visible' });
  await assertText(conflict, '他の人がこの実績を変更しました。');
  await assertText(conflict.locator('#conflict-version'), `版${behindTheBack.data.version}`);
  await assertText(conflict, '本部が代理で修正');
  await shot(page, '07-department-conflict', false);
  // The input is kept; sending again overwrites the now-current version.
  await form.getByRole('button', { name: '送信する' }).click();
  await form.waitFor({ state: 'hidden' });
  await assertText(other.locator('.cell-version'), `版${behindTheBack.data.version + 1}`);

  await page.setViewportSize({ width: 768, height: 1024 });
  await shot(page, '08-department-tablet-768');
  await page.context().close();
});

test('an expired or rejected token sends the user back to the login with a reason', async () => {
  const page = await newPage();
  await page.clock.install();
  await logIn(page, KOSEKI);
  await page.locator('#department-title').waitFor();
  // The token's lifetime (TOKEN_TTL_MINUTES) passes, on the page's clock.
  const lifetime = await page.evaluate(() => JSON.parse(sessionStorage.getItem('municipal-kpi.session')).expiresAt - Date.now());
  assert.ok(lifetime > 0);
  await page.clock.runFor(lifetime + 1000);
  await page.locator('#login-view').waitFor({ state: 'visible' });
  await assertText(page.locator('#login-error'), 'セッションの有効期限が切れました');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  // A token the server no longer accepts (e.g. signed before a restart): 401 → log in again.
  await page.evaluate(() =>
    sessionStorage.setItem('municipal-kpi.session', JSON.stringify({ token: 'not-a-valid-token', expiresAt: Date.now() + 3600000, username: 'koseki' })),
  );
  await page.reload();
  await page.locator('#login-view').waitFor({ state: 'visible' });
  await assertText(page.locator('#login-error'), 'ログインし直してください');
  await page.context().close();
});

test('the page logged no script errors', () => {
  // 4xx answers the flows provoke on purpose (wrong password, 412, 422, 401) show up as failed loads.
  const unexpected = consoleErrors.filter((text) => !/Failed to load resource: the server responded with a status of (401|409|412|422|428)/.test(text));
  assert.deepEqual(unexpected, []);
});

function figuresBody(kind, figures, note) {
  if (kind === 'ratio') return { numerator: figures.numerator, denominator: figures.denominator, note };
  return { value: figures.value, note };
}

async function fillFigures(form, kind, figures) {
  if (kind === 'ratio') {
    await form.getByLabel(/^分子/).fill(figures.numerator);
    await form.getByLabel(/^分母/).fill(figures.denominator);
  } else {
    await form.getByLabel(/^実績値/).fill(figures.value);
  }
}

/** Waits (up to 15 s, the machine may be busy) until the element's text contains `expected`, then asserts it. */
async function assertText(locator, expected) {
  const deadline = Date.now() + 15000;
  let text = '';
  while (Date.now() < deadline) {
    text = (await locator.first().textContent({ timeout: 5000 })) ?? '';
    if (text.includes(expected)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(text.includes(expected), `expected ${JSON.stringify(expected)} in ${JSON.stringify(text.slice(0, 400))}`);
}
