// Browser tests of the web view: headless Chromium drives the page served at `/` by a live server
// started with `serve --demo` (scripts/browser-test.sh starts it and sets BASE_URL).
//
// The flows run in order and share the server's state: the 本部 lands on the year being collected,
// sets its deadline, opens another year with a past deadline (and is warned), sorts the table,
// approves one actual, approves several at once (one changed behind its back is refused), returns
// another and reads an indicator's page; the department then sees the return, resubmits, meets
// Japanese field errors and a 412, and looks at another year. Then the 施策評価 of a measure goes
// round: submitted (a missing reason refused), returned, corrected past a 412, approved, assessed.
// Last the 本部 opens the year's report, publishes a correction, and a citizen reads the public page.
// Screenshots go to SCREENSHOT_DIR (target/browser-screenshots/) for review; with DOCS_DIR set, the
// README's screenshot (web-hq-overview.png, a fresh demo as the 本部 first sees it) is written there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8091';
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? 'target/browser-screenshots';
const DOCS_DIR = process.env.DOCS_DIR;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const PLAN_NAME = '板橋区ICT推進・活用計画2020（追録版）';
const YEAR_LABEL = '令和2(2020)年度';
const EARLIER_YEAR_LABEL = '令和元(2019)年度';
const PAST_DEADLINE = '2020-05-31';
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
  const others = pending.filter((i) => !i.department_names.includes('戸籍住民課'));
  assert.ok(others.length >= 4, 'other departments have at least four FY2020 actuals awaiting review');
  const [toApprove, stale, ...bulk] = others;
  return { token, plan, evaluation, toApprove, stale, bulk: bulk.slice(0, 2), toReturn: kosekiPending[0], toCorrect: kosekiPending[1] };
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

test('本部: lands on the year being collected and reads the 進捗管理表 as it is', async () => {
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
  // The demo's 本部 has opened FY2020 of the 2020 plan: the page opens there, not on an empty year
  // of the newer plan.
  await assertText(title, PLAN_NAME);
  await assertText(title, YEAR_LABEL);
  await assertText(page.locator('#evaluation-collection'), '受付中です（期限なし）。');
  assert.match(await page.locator('#session-user').textContent(), /本部/);
  const e = fixture.evaluation;
  await page.locator(`#row-${fixture.toApprove.indicator_id}`).waitFor();
  await shot(page, 'web-hq-overview', false);
  if (DOCS_DIR) await page.screenshot({ path: `${DOCS_DIR}/web-hq-overview.png` });

  // The tiles tell the cycle's figures as the API gives them; nothing is late without a deadline.
  const tiles = { submitted: e.lists.pending_review, missing: e.lists.missing, returned: e.lists.returned, late: e.lists.late, submitted_late: e.lists.submitted_late };
  for (const [key, list] of Object.entries(tiles)) await assertText(page.locator(`#tile-${key} .card-value`), `${list.length}件`);
  assert.equal(e.lists.late.length, 0);
  await assertText(page.locator('#summary'), `${e.plan_roll_up.indicator_count}`);

  // The 進捗管理表 starts on the first screen, right under the figures.
  const tableTop = await page.evaluate(() => document.getElementById('table').getBoundingClientRect().top + window.scrollY);
  assert.ok(tableTop < 900, `the table starts ${tableTop}px down the page`);
  const rows = page.locator('#evaluation-rows tr');
  assert.equal(await rows.count(), e.indicators.length);
  const achievedRow = page.locator('#evaluation-rows tr[data-status="achieved"]').first();
  await assertText(achievedRow.locator('.cell-status'), '達成');
  await assertText(achievedRow.locator('.cell-grade'), 'A');

  // A row awaiting review shows the figures sent, with the badge, and is not called データなし.
  const approveRow = page.locator(`#row-${fixture.toApprove.indicator_id}`);
  await assertText(approveRow.locator('.cell-submission'), '確認待ち');
  await assertText(approveRow.locator('.cell-actual'), '確認待ち');
  await assertText(approveRow.locator('.cell-actual .pending-value'), sentFigures(fixture.toApprove.pending_actual));
  await assertText(approveRow.locator('.cell-status'), '承認待ち');
  assert.doesNotMatch(await approveRow.locator('.cell-status').textContent(), /データなし/);

  // Sorting by a column, both ways; rows without a value stay last.
  await page.locator('#sort-progress').click();
  assert.equal(await page.locator('th[data-column="progress"]').getAttribute('aria-sort'), 'ascending');
  assertSorted(await shownProgress(page, e), 1);
  await page.locator('#sort-progress').click();
  assert.equal(await page.locator('th[data-column="progress"]').getAttribute('aria-sort'), 'descending');
  assertSorted(await shownProgress(page, e), -1);
  await shot(page, '02-hq-sorted-by-progress', false);
  await page.locator('#sort-code').click();
  assert.equal(await page.locator('th[data-column="code"]').getAttribute('aria-sort'), 'ascending');

  // Charts are drawn as SVG in the page, one bar per basic goal, and the trend over the plan's years.
  const goals = (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/dashboard`)).data.years[0].goals;
  assert.equal(await page.locator('#goals svg .bar-row').count(), goals.length);
  await assertText(page.locator('#goals svg'), goals[0].label);
  await assertText(page.locator('#trend svg').first(), '平成28');
  assert.ok((await page.locator('#trend svg .series-0 .marker').count()) >= 3, 'the trend has a point for each year with data');
  await assertDrawnWhereTheyAre(page.locator('#trend svg').first());
  await assertText(page.locator('#list-pending_review-heading'), '確認待ち');
  await assertText(page.locator('#actions'), fixture.toApprove.name);

  // The collection status says per department what is true.
  const status = (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/submissions?fiscal_year=2020`)).data;
  for (const department of status.departments) {
    const text = await page.locator(`#submissions-table tr[data-department-id="${department.department_id}"] .cell-progress`).textContent();
    const { missing, returned, submitted } = department.counts;
    assert.equal(text.includes(`未提出 ${missing}件`), missing > 0, `${department.department_name}: ${text}`);
    assert.equal(text.includes('差戻し'), returned > 0, `${department.department_name}: ${text}`);
    assert.equal(text.includes(`確認待ち ${submitted}件`), submitted > 0, `${department.department_name}: ${text}`);
    assert.equal(text.startsWith('完了'), missing + returned + submitted === 0, `${department.department_name}: ${text}`);
  }
  await page.context().close();
});

test('本部: sets the deadline, opens a year with a past deadline and is warned; 期限超過 is only what is outstanding', async () => {
  const page = await newPage();
  await logIn(page, HQ);
  await page.locator('#evaluation-title').waitFor();
  // FY2020 is open: the form moves its deadline.
  await page.getByLabel('提出期限').fill(DEADLINE);
  assert.equal(await page.locator('#deadline-warning').textContent(), '', 'a future deadline is not warned about');
  await page.getByRole('button', { name: '提出期限を変更する' }).click();
  await assertText(page.locator('#collection-state'), DEADLINE_TEXT);
  await assertText(page.locator('#notice'), '提出期限を変更しました');

  // FY2019 has not been opened; opening it with a deadline in the past warns before and after.
  await page.locator('#year-select').selectOption('2019');
  await assertText(page.locator('#evaluation-title'), EARLIER_YEAR_LABEL);
  await assertText(page.locator('#collection-state'), 'この年度の実績の受付は開始されていません');
  await page.getByLabel('提出期限').fill(PAST_DEADLINE);
  await assertText(page.locator('#deadline-warning'), '提出期限が過去の日付です。');
  await page.getByRole('button', { name: `${EARLIER_YEAR_LABEL}の受付を開始する` }).click();
  await assertText(page.locator('#collection-warnings'), '提出期限（2020年5月31日）は既に過ぎています。');
  await assertText(page.locator('#notice'), '既に過ぎています');
  assert.doesNotMatch(await page.locator('#collection-warnings').textContent(), /[A-Za-z]{3,}/, 'the warning is Japanese only');
  await assertText(page.locator('#collection-state'), '提出期限（2020年5月31日）を過ぎています。');

  // 期限超過 counts what is still missing or returned; what came in after the deadline is 期限後提出.
  const fy2019 = (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/evaluation?fiscal_year=2019`)).data;
  const outstanding = fy2019.indicators.filter((i) => i.submission === 'missing' || i.submission === 'returned');
  assert.deepEqual(fy2019.lists.late.map((r) => r.indicator_id), outstanding.map((i) => i.indicator_id));
  assert.ok(fy2019.lists.submitted_late.length > 0, 'the samples were submitted after 2020-05-31');
  await assertText(page.locator('#tile-late .card-value'), `${fy2019.lists.late.length}件`);
  await assertText(page.locator('#tile-submitted_late .card-value'), `${fy2019.lists.submitted_late.length}件`);
  const lateRows = await page.locator('#evaluation-rows tr:has(.badge.late)').evaluateAll((rows) => rows.map((r) => r.dataset.submission));
  assert.ok(lateRows.every((s) => s === 'missing' || s === 'returned'), `rows marked 期限超過: ${lateRows}`);
  assert.equal(lateRows.length, fy2019.lists.late.length);
  await page.locator('#tile-submitted_late').click();
  assert.equal(await page.locator('#evaluation-rows tr').count(), fy2019.lists.submitted_late.length);
  await page.locator('#collection').scrollIntoViewIfNeeded();
  await shot(page, '03-hq-past-deadline', false);
  await page.context().close();
});

test('本部: downloads, approves one, approves several at once, returns one and reads an indicator', async () => {
  const page = await newPage();
  await logIn(page, HQ);
  await page.locator('#evaluation-title').waitFor();
  await assertText(page.locator('#evaluation-title'), YEAR_LABEL);

  // Download the 進捗管理表 as CSV and xlsx.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSVをダウンロード' }).click()]);
  assert.equal(csv.suggestedFilename(), `evaluation-${fixture.plan.id}-2020.csv`);
  const csvText = readFileSync(await csv.path(), 'utf8');
  assert.ok(csvText.includes(fixture.toApprove.name), 'the CSV holds the indicators');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Excel(xlsx)をダウンロード' }).click()]);
  assert.equal(xlsx.suggestedFilename(), `evaluation-${fixture.plan.id}-2020.xlsx`);
  assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString(), 'PK', 'an xlsx is a zip file');

  // Approve one: the dialog shows the submitted value; afterwards the row says 承認済.
  const approveRow = page.locator(`#row-${fixture.toApprove.indicator_id}`);
  await approveRow.getByRole('button', { name: /審査/ }).click();
  const dialog = page.locator('#review-dialog');
  await dialog.waitFor({ state: 'visible' });
  await assertText(dialog, fixture.toApprove.name);
  await assertText(dialog, '確認待ち');
  await shot(page, '04-hq-review-dialog', false);
  await dialog.getByRole('button', { name: '承認する' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await assertText(page.locator(`#row-${fixture.toApprove.indicator_id} .cell-submission`), '承認済');
  await assertText(page.locator('#notice'), '承認しました');
  const approved = await apiCall(fixture.token, 'GET', `/indicators/${fixture.toApprove.indicator_id}/actuals/2020`);
  assert.equal(approved.data.status, 'approved', 'the approval reached the API');

  // Approve several at once; one of them is changed behind the page's back and is refused.
  for (const row of [...fixture.bulk, fixture.stale]) await page.locator(`#row-${row.indicator_id} .row-select`).check();
  await assertText(page.locator('#bulk-approve'), '選択した3件を承認する');
  const current = await apiCall(fixture.token, 'GET', `/indicators/${fixture.stale.indicator_id}/actuals/2020`);
  const changed = await apiCall(fixture.token, 'PUT', `/indicators/${fixture.stale.indicator_id}/actuals/2020`, {
    body: { ...sentBody(current.data), note: '本部が代理で修正' },
    headers: { 'If-Match': current.etag },
  });
  assert.equal(changed.status, 200, 'the concurrent correction is saved');
  await page.locator('#bulk-approve').click();
  const bulk = page.locator('#bulk-dialog');
  await bulk.waitFor({ state: 'visible' });
  assert.equal(await bulk.locator('#bulk-list li').count(), 3);
  await assertText(bulk, sentFigures(fixture.bulk[0].pending_actual));
  await bulk.getByRole('button', { name: '承認する' }).click();
  await assertText(page.locator('#bulk-title'), '2件を承認しました。1件は承認できませんでした');
  await assertText(bulk.locator(`li[data-indicator-id="${fixture.stale.indicator_id}"] .bulk-result`), '表示した後に変更されています');
  await shot(page, '05-hq-bulk-approval', false);
  await bulk.getByRole('button', { name: '閉じる' }).click();
  for (const row of fixture.bulk) {
    await assertText(page.locator(`#row-${row.indicator_id} .cell-submission`), '承認済');
    assert.equal((await apiCall(fixture.token, 'GET', `/indicators/${row.indicator_id}/actuals/2020`)).data.status, 'approved');
  }
  const stale = await apiCall(fixture.token, 'GET', `/indicators/${fixture.stale.indicator_id}/actuals/2020`);
  assert.equal(stale.data.status, 'submitted', 'the changed one waits for a review of what it now says');
  await assertText(page.locator(`#row-${fixture.stale.indicator_id} .cell-submission`), '確認待ち');

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
  await assertText(page.locator('#notice'), `差し戻しました: ${fixture.toReturn.name}`);

  // Filters: only the returned ones.
  const rows = page.locator('#evaluation-rows tr');
  await page.getByLabel('提出状況', { exact: true }).selectOption('returned');
  assert.equal(await rows.count(), 1);
  await page.getByLabel('提出状況', { exact: true }).selectOption('');

  // An indicator's page: its series and the versions of this year's actual; back to the table.
  await page.locator(`#row-${fixture.toApprove.indicator_id} a.indicator-link`).click();
  await assertText(page.locator('#indicator-title'), fixture.toApprove.name);
  assert.equal(await page.locator('#notice').textContent(), '', "the list's notice of the return stays with the list");
  const series = (await apiCall(fixture.token, 'GET', `/indicators/${fixture.toApprove.indicator_id}/series?limit=100`)).data;
  assert.equal(await page.locator('#series-table tbody tr').count(), series.items.length);
  assert.ok((await page.locator('#indicator-series svg .marker').count()) >= 1, 'the series is drawn');
  await assertDrawnWhereTheyAre(page.locator('#indicator-series svg').first());
  await assertText(page.locator('#history-table'), '承認');
  assert.equal(await page.locator('#history-table tbody tr').count(), 2, 'submitted, approved');
  await shot(page, '06-hq-indicator-page');
  await page.getByRole('button', { name: '← 一覧に戻る' }).click();
  await page.locator(`#row-${fixture.toApprove.indicator_id}`).waitFor();
  // The browser's back button returns too.
  await page.locator(`#row-${fixture.toReturn.indicator_id} a.indicator-link`).click();
  await assertText(page.locator('#indicator-title'), fixture.toReturn.name);
  await page.goBack();
  await page.locator(`#row-${fixture.toReturn.indicator_id}`).waitFor();

  // Tablet width.
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.locator('#summary').scrollIntoViewIfNeeded();
  await shot(page, '07-hq-tablet-768');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page fits 768 px without sideways scrolling (overflow ${overflow}px)`);

  await page.getByRole('button', { name: 'ログアウト' }).click();
  await page.locator('#login-view').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'logging out forgets the token');
  // Logging out ends every session of the account on the server, this run's API token included.
  const ended = await apiCall(fixture.token, 'GET', '/me');
  assert.equal(ended.status, 401, 'a token of the account is refused after its logout');
  fixture.token = await apiToken(HQ);
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

  // A validation error from the API is shown next to its field, in Japanese only.
  const other = page.locator(`#mine-${fixture.toCorrect.indicator_id}`);
  await other.getByRole('button', { name: /修正/ }).click();
  await form.waitFor({ state: 'visible' });
  const refusals =
    fixture.toCorrect.kind === 'ratio'
      ? [
          [{ numerator: '5', denominator: '0' }, 'denominator', '分母は 0 より大きい数で入力してください'],
          [{ numerator: 'abc', denominator: '10' }, 'numerator', '数値として読めません'],
          [{ numerator: '-5', denominator: '10' }, 'numerator', 'マイナスの値は入力できません'],
        ]
      : [
          [{ value: 'abc' }, 'value', '数値として読めません'],
          [{ value: '-5' }, 'value', 'マイナスの値は入力できません'],
        ];
  for (const [figures, field, expected] of refusals) {
    await fillFigures(form, fixture.toCorrect.kind, figures);
    await form.getByRole('button', { name: '送信する' }).click();
    // The API's message for the field, next to the field; the field is marked invalid.
    const message = form.locator(`.field-error[data-field="${field}"]`);
    await assertText(message, expected);
    assert.doesNotMatch(await message.textContent(), /[A-Za-z]{3,}/, 'no English in what the clerk reads');
    assert.doesNotMatch(await form.locator('#actual-error').textContent(), /[A-Za-z]{3,}/);
    assert.equal(await form.locator(`[name="${field}"]`).getAttribute('aria-invalid'), 'true');
  }
  await shot(page, '10-department-japanese-errors', false);

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

  // Another year: FY2019 (the 本部 opened it with a deadline already over).
  await page.locator('#year-select').selectOption('2019');
  await assertText(title, EARLIER_YEAR_LABEL);
  // Past its deadline, with everything of 戸籍住民課 in: nothing to chase.
  await assertText(page.locator('#department-collection'), '提出期限（2020年5月31日）は過ぎました。この年度の実績はすべて提出済みです。');
  await assertText(page.locator('#department-rows'), '承認済');
  await shot(page, '11-department-fy2019', false);
  // An indicator's page from the department's list, and back.
  await page.locator('#department-rows a.indicator-link').first().click();
  await page.locator('#indicator-title').waitFor();
  await assertText(page.locator('#indicator-history'), EARLIER_YEAR_LABEL);
  await page.getByRole('button', { name: '← 一覧に戻る' }).click();
  await assertText(title, EARLIER_YEAR_LABEL);
  await page.locator('#year-select').selectOption('2020');
  await assertText(title, YEAR_LABEL);

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
  assert.doesNotMatch(await page.locator('#login-error').textContent(), /[A-Za-z]{3,}/, 'told in Japanese only');
  await page.context().close();
});

/** A 戸籍住民課 measure of FY2020 without its evaluation yet, preferably one shared with another department. */
async function openEvaluationFixture() {
  const kosekiToken = await apiToken(KOSEKI);
  const departmentId = (await apiCall(kosekiToken, 'GET', '/me')).data.user.department_id;
  const list = (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/measure-evaluations?fiscal_year=2020&limit=500`)).data.items;
  const open = list.filter((m) => m.departments.some((d) => d.department_id === departmentId && d.submission === 'missing'));
  assert.ok(open.length > 0, 'the demo leaves 戸籍住民課 a FY2020 measure to evaluate');
  const measure = open.find((m) => m.departments.length > 1) ?? open[0];
  return { departmentId, measure, path: `/measures/${measure.measure_id}/evaluations/2020/departments/${departmentId}` };
}

async function openMeasureEvaluations(page, title) {
  await page.locator(title).waitFor();
  await page.locator('#tab-evaluations').click();
  await assertText(page.locator('#evaluations-title'), YEAR_LABEL);
}

test('施策評価: the department submits, the 本部 returns it, the department corrects, the 本部 approves and assesses', async () => {
  const { departmentId, measure, path } = await openEvaluationFixture();
  const WORK_DONE = 'マイナンバーカードの出張申請受付を区内で実施した。';
  const REASON = '会場の確保が遅れ、下半期の実施となった。';
  const EVAL_RETURN = '実施回数と受付件数を取組実績に書いてください';

  // The department: its measures of the year with their state; the form asks for a reason when off plan.
  let page = await newPage();
  await logIn(page, KOSEKI);
  await openMeasureEvaluations(page, '#department-title');
  const row = page.locator(`#measure-eval-${measure.measure_id}`);
  await assertText(row.locator('.cell-submission'), '未提出');
  await shot(page, '20-evaluations-department-list', false);
  // The year picker: FY2019's evaluations were all approved in the demo, marked サンプル; the tab
  // back to the indicators keeps the year chosen.
  await page.locator('#year-select').selectOption('2019');
  await assertText(page.locator('#evaluations-title'), EARLIER_YEAR_LABEL);
  await assertText(row.locator('.cell-submission'), '承認済');
  await assertText(row.locator('.cell-submission .badge.sample'), 'サンプル');
  await page.locator('#tab-indicators').click();
  await assertText(page.locator('#department-title'), EARLIER_YEAR_LABEL);
  await page.locator('#year-select').selectOption('2020');
  await assertText(page.locator('#department-title'), YEAR_LABEL);
  await openMeasureEvaluations(page, '#department-title');
  await assertText(row.locator('.cell-submission'), '未提出');
  await row.getByRole('button', { name: /入力/ }).click();
  const form = page.locator('#evaluation-form');
  await form.waitFor();
  await form.getByLabel(/取組実績/).fill(WORK_DONE);
  await form.getByLabel('ロードマップの進捗').selectOption('delayed');
  await form.getByLabel('自己評価').selectOption('B');
  await form.getByLabel('課題').fill('交付窓口の混雑');
  await form.getByLabel('今後の方向性').fill('予約制の拡大');
  await form.getByRole('button', { name: '提出する' }).click();
  const reasonError = form.locator('.field-error[data-field="progress_reason"]');
  await assertText(reasonError, '理由を入力してください');
  assert.doesNotMatch(await reasonError.textContent(), /[A-Za-z]{3,}/, 'the clerk reads Japanese only');
  assert.equal(await form.locator('[name="progress_reason"]').getAttribute('aria-invalid'), 'true');
  await shot(page, '21-evaluations-department-reason-missing', false);
  await form.getByLabel('進捗の理由').fill(REASON);
  await form.getByRole('button', { name: '提出する' }).click();
  await assertText(row.locator('.cell-submission'), '確認待ち');
  await assertText(page.locator('#notice'), '施策評価を提出しました');
  const submitted = await apiCall(fixture.token, 'GET', path);
  assert.deepEqual([submitted.data.status, submitted.data.roadmap_progress, submitted.data.progress_reason], ['submitted', 'delayed', REASON]);
  await page.context().close();

  // The 本部: every owning department side by side (the demo's are marked サンプル); a return needs a comment.
  page = await newPage();
  await logIn(page, HQ);
  await openMeasureEvaluations(page, '#evaluation-title');
  await page.locator(`#measure-eval-${measure.measure_id}`).getByRole('button', { name: /開く/ }).click();
  const detail = page.locator('#measure-evaluation');
  await detail.waitFor();
  assert.equal(await detail.locator('.eval-card').count(), measure.departments.length);
  const card = detail.locator(`.eval-card[data-department-id="${departmentId}"]`);
  await assertText(card, WORK_DONE);
  await assertText(card, `遅れ（理由: ${REASON}）`);
  await assertText(card, '確認待ち');
  const others = measure.departments.filter((d) => d.department_id !== departmentId && d.evaluation?.is_sample);
  for (const other of others) await assertText(detail.locator(`.eval-card[data-department-id="${other.department_id}"]`), 'サンプル');
  await shot(page, '22-evaluations-hq-side-by-side');
  await card.getByRole('button', { name: '差し戻す' }).click();
  await assertText(card.locator('.field-error[data-field="comment"]'), '理由をコメントに入力してください');
  await card.getByLabel(/コメント/).fill(EVAL_RETURN);
  await card.getByRole('button', { name: '差し戻す' }).click();
  await assertText(page.locator(`#measure-evaluation .eval-card[data-department-id="${departmentId}"]`), '差し戻し中です');
  assert.equal((await apiCall(fixture.token, 'GET', path)).data.status, 'returned');
  await page.context().close();

  // The department reads the comment and corrects; someone else saved in between (412): told, then resubmits.
  page = await newPage();
  await logIn(page, KOSEKI);
  await openMeasureEvaluations(page, '#department-title');
  const returnedRow = page.locator(`#measure-eval-${measure.measure_id}`);
  await assertText(returnedRow.locator('.cell-submission'), '差戻し');
  await assertText(returnedRow.locator('.cell-comment'), EVAL_RETURN);
  await shot(page, '23-evaluations-department-returned', false);
  await returnedRow.getByRole('button', { name: /修正して再提出/ }).click();
  const correction = page.locator('#evaluation-form');
  await correction.waitFor();
  await correction.getByLabel(/取組実績/).fill(`${WORK_DONE}区内12か所で計24回実施し、1,830件を受け付けた。`);
  const current = await apiCall(fixture.token, 'GET', path);
  const behindTheBack = await apiCall(fixture.token, 'PUT', path, {
    body: { ...Object.fromEntries(['work_done', 'roadmap_progress', 'progress_reason', 'self_grade', 'issues', 'next_steps'].map((k) => [k, current.data[k]])), issues: '本部が代理で修正' },
    headers: { 'If-Match': current.etag },
  });
  assert.equal(behindTheBack.status, 200, 'the concurrent correction is saved');
  await correction.getByRole('button', { name: '修正して提出する' }).click();
  const conflict = page.locator('#evaluation-conflict');
  await assertText(conflict, '他の人がこの施策評価を変更しました。');
  await assertText(conflict, `版${behindTheBack.data.version}`);
  await assertText(conflict, '本部が代理で修正');
  await assertText(page.locator('#evaluation-context'), `版${behindTheBack.data.version}`);
  await assertText(returnedRow.locator('.cell-submission'), submissionText(behindTheBack.data.status));
  await shot(page, '24-evaluations-department-conflict');
  await correction.getByRole('button', { name: '修正して提出する' }).click();
  await assertText(page.locator(`#measure-eval-${measure.measure_id} .cell-submission`), '確認待ち');
  const resubmitted = (await apiCall(fixture.token, 'GET', path)).data;
  assert.equal(resubmitted.version, behindTheBack.data.version + 1);
  assert.match(resubmitted.work_done, /1,830件/);
  await page.context().close();

  // The 本部 approves, records 本部評価 and 方向性 (linking a revision where the measure has one), and reloads.
  page = await newPage();
  await logIn(page, HQ);
  await openMeasureEvaluations(page, '#evaluation-title');
  await page.locator(`#measure-eval-${measure.measure_id}`).getByRole('button', { name: /開く/ }).click();
  const approveCard = page.locator(`#measure-evaluation .eval-card[data-department-id="${departmentId}"]`);
  await approveCard.getByRole('button', { name: '承認する' }).click();
  await assertText(page.locator(`#measure-evaluation .eval-card[data-department-id="${departmentId}"]`), '承認済');
  await assertText(page.locator('#notice'), '承認しました');
  const assessment = page.locator('#assessment-form');
  await assessment.getByLabel('本部評価').selectOption('B');
  await assessment.getByLabel('本部のコメント').fill('出張申請受付の効果が出ている。');
  await assessment.getByLabel('方向性', { exact: true }).selectOption('改善・見直し');
  await assessment.getByRole('button', { name: '本部評価を記録する' }).click();
  await assertText(assessment.locator('.field-error[data-field="direction_reason"]'), '方向性の理由を入力してください');
  await assessment.getByLabel(/方向性の理由/).fill('会場確保の遅れを踏まえ、実施時期を見直す。');
  const links = assessment.locator('input[name="plan_link"]');
  const linkable = await links.count();
  if (linkable) await links.first().check();
  await assessment.getByRole('button', { name: '本部評価を記録する' }).click();
  await assertText(page.locator('#assessment-current'), '本部評価 B・方向性「改善・見直し」');
  await page.reload();
  await assertText(page.locator('#evaluations-title'), YEAR_LABEL);
  const listRow = page.locator(`#measure-eval-${measure.measure_id}`);
  await assertText(listRow.locator('.cell-grade'), 'B');
  await assertText(listRow, '改善・見直し');
  await listRow.getByRole('button', { name: /開く/ }).click();
  await assertText(page.locator('#assessment-current'), '会場確保の遅れを踏まえ、実施時期を見直す。');
  if (linkable) await assertText(page.locator('#revision-origins'), '令和2(2020)年度の施策評価（本部評価 B・方向性「改善・見直し」）');
  await shot(page, '25-evaluations-hq-assessed');
  const recorded = (await apiCall(fixture.token, 'GET', `/measures/${measure.measure_id}/evaluations/2020/assessment`)).data;
  assert.deepEqual([recorded.hq_grade, recorded.direction, recorded.is_sample, recorded.plan_links.length], ['B', '改善・見直し', false, linkable ? 1 : 0]);
  await page.setViewportSize({ width: 768, height: 1024 });
  await shot(page, '26-evaluations-hq-tablet-768');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page fits 768 px without sideways scrolling (overflow ${overflow}px)`);
  await page.context().close();
});

test('本部: opens the 進捗状況報告書, publishes a correction, and the public page shows it without a login', async () => {
  let page = await newPage();
  await logIn(page, HQ);
  await openMeasureEvaluations(page, '#evaluation-title');
  const panel = page.locator('#report-publication');
  await assertText(panel, `進捗状況報告書と公表（${YEAR_LABEL}）`);

  // The report opens in a new tab, fetched with the token (the API refuses it without one).
  const [report] = await Promise.all([page.context().waitForEvent('page'), panel.locator('#report-html').click()]);
  await report.waitForLoadState();
  await assertText(report.locator('h1'), '板橋区ICT推進・活用計画2020');
  await assertText(report.locator('.cover'), `${YEAR_LABEL} 進捗状況報告書`);
  await shot(report, '30-report-html', false);
  await report.close();

  // The demo published FY2020 once; publishing it again needs the correction's reason.
  const before = (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/publications?limit=100`)).data.items.filter((p) => p.fiscal_year === 2020);
  assert.ok(before.length >= 1, 'the demo has published FY2020');
  await assertText(panel.locator('#publication-list'), `第${before.length}版`);
  await panel.getByRole('button', { name: `${YEAR_LABEL}の進捗状況を公表する` }).click();
  await assertText(panel.locator('.field-error[data-field="correction_note"]'), '訂正理由が必要です');
  const CORRECTION = '指標の実績値の誤記を訂正しました。';
  await panel.getByLabel(/訂正の説明/).fill(CORRECTION);
  await panel.getByRole('button', { name: `${YEAR_LABEL}の進捗状況を公表する` }).click();
  await assertText(page.locator('#report-publication #publication-list'), `第${before.length + 1}版`);
  await assertText(page.locator('#report-publication #publication-list'), CORRECTION);
  await shot(page, '31-publication-hq');
  const latest = (await apiCall(fixture.token, 'GET', `/plans/${fixture.plan.id}/publications?limit=100`)).data.items.find((p) => p.version === before.length + 1);
  assert.ok(latest, 'the new version is listed');
  await page.context().close();

  // A citizen, not logged in, reads the public page of the new version and finds the earlier one.
  page = await newPage();
  const response = await page.goto(latest.html_url.startsWith('http') ? latest.html_url : `${BASE_URL}${latest.html_url}`);
  assert.equal(response.status(), 200);
  const body = page.locator('body');
  await assertText(body, `第${latest.version}版`);
  await assertText(body, CORRECTION);
  await assertText(body, 'サンプル');
  await assertText(body, '第1版');
  assert.equal(await page.locator('script').count(), 0, 'the public page runs no script');
  await shot(page, '32-public-page');
  await page.context().close();
});

test('the page logged no script errors', () => {
  // 4xx answers the flows provoke on purpose (wrong password, 412, 422, 401) show up as failed loads.
  const unexpected = consoleErrors.filter((text) => !/Failed to load resource: the server responded with a status of (401|409|412|422|428)/.test(text));
  assert.deepEqual(unexpected, []);
});

/** A submission state as the page names it. */
function submissionText(status) {
  return { submitted: '確認待ち', returned: '差戻し', approved: '承認済' }[status];
}

/** The figures of an actual as the page prints them (the part before any percent). */
function sentFigures(actual) {
  const number = (value) => Number(value).toLocaleString('ja-JP', { maximumFractionDigits: 6 });
  if (actual.numerator !== null && actual.numerator !== undefined) return `${number(actual.numerator)} / ${number(actual.denominator)}`;
  if (actual.stage_name) return actual.stage_name;
  return number(actual.value);
}

/** A submission body carrying an actual's own figures. */
function sentBody(actual) {
  if (actual.numerator !== null && actual.numerator !== undefined) return { numerator: actual.numerator, denominator: actual.denominator };
  if (actual.stage !== null && actual.stage !== undefined) return { stage: actual.stage };
  return { value: actual.value };
}

/** The progress rates of the rows as shown, top to bottom. */
async function shownProgress(page, evaluation) {
  const ids = await page.locator('#evaluation-rows tr').evaluateAll((rows) => rows.map((r) => Number(r.dataset.indicatorId)));
  const byId = new Map(evaluation.indicators.map((i) => [i.indicator_id, i.result.progress_rate]));
  return ids.map((id) => byId.get(id));
}

/**
 * Every point of a trend chart is drawn at its own height: of two points whose values (from their
 * titles, `… 令和2(2020)年度: 107.4%`) differ, the larger is higher, and equal values are level.
 * A chart that cut its scale at 100 % would draw 100.7 % and 107.4 % at one height.
 */
async function assertDrawnWhereTheyAre(chart) {
  const points = await chart.locator('.marker').evaluateAll((markers) =>
    markers.map((m) => ({
      value: Number(m.querySelector('title').textContent.split(': ').pop().replace(/[,%]/g, '')),
      y: Number(m.getAttribute('cy')),
    })),
  );
  // Beyond these a point sits on the chart's edge, labelled with its value (web/charts.js).
  const drawn = points.filter((p) => Number.isFinite(p.value) && p.value >= -100 && p.value <= 200);
  for (const a of drawn) {
    for (const b of drawn) {
      if (a.value > b.value) assert.ok(a.y < b.y, `${a.value}% is drawn above ${b.value}%: ${JSON.stringify(points)}`);
      if (a.value === b.value) assert.equal(a.y, b.y, `${a.value}% is drawn at one height`);
    }
  }
}

/** Values in order (`sign` 1 ascending, -1 descending), rows without one after all the others. */
function assertSorted(values, sign) {
  const firstMissing = values.findIndex((v) => v === null || v === undefined);
  const present = firstMissing < 0 ? values : values.slice(0, firstMissing);
  if (firstMissing >= 0) assert.ok(values.slice(firstMissing).every((v) => v === null || v === undefined), 'rows without a value come last');
  for (let i = 1; i < present.length; i += 1) assert.ok(sign * (Number(present[i]) - Number(present[i - 1])) >= 0, `sorted: ${present}`);
  assert.ok(present.length > 1, 'some rows have a progress rate');
}

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
