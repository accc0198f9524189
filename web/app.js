// The web view: log in, then the 本部's 進捗管理表 (evaluation, sortable table, bulk approval,
// collection status, charts, lists, downloads, review) or a department's own indicators (submit
// and correct actuals, any year), and the page of one indicator (series, targets, history).
// Everything comes from the public /api/v1 API; nothing is stored but the session token.

import * as api from './api.js';
import * as oidc from './oidc.js';
import { $, h, section, definitionList, readingNote } from './dom.js';
import { renderIndicatorPage } from './indicator.js';
import { renderEvaluationsPage, viewTabs } from './evaluations.js';
import { reportPublicationPanel } from './report-publication.js';
import { statusBars, statusLegend, trendChart, seriesLegend } from './charts.js';
import {
  STATUSES,
  SUBMISSIONS,
  REVIEW_DONE,
  statusLabel,
  submissionLabel,
  kindLabel,
  roleLabel,
  formatNumber,
  formatPercent,
  formatFigures,
  formatTimestamp,
  formatDate,
  departmentProgress,
  fieldLabel,
  clerkMessage,
  todayInJapan,
  currentFiscalYear,
  fiscalYearLabel,
} from './labels.js';

const state = {
  me: null,
  plans: [],
  plan: null,
  dashboard: null,
  collections: [],
  year: null,
  evaluation: null,
  submissions: null,
  filters: { status: '', submission: '', department: '', text: '' },
  // The 進捗管理表's order: a column key and a direction.
  sort: { key: 'code', direction: 'ascending' },
  // Rows awaiting review picked for bulk approval (indicator ids).
  selected: new Set(),
  // What the API warned about when the collection was last opened or its deadline moved.
  collectionWarnings: [],
  review: null,
  // The row whose indicator page was opened, to return to it.
  lastRow: null,
  departmentRows: [],
  form: null,
};

const canReview = () => ['hq', 'admin'].includes(state.me?.user.role);

// ---------------------------------------------------------------- notices and errors

let noticeTimer = null;

/**
 * Goes to another page of the view (an indicator's, the 施策評価, the list) as a new history entry.
 * The notice of what was just done stays behind: it belongs to the page it was done on.
 */
function enterPage(entry, url) {
  history.pushState(entry, '', url);
  clearNotice();
}

function clearNotice() {
  clearTimeout(noticeTimer);
  const notice = $('notice');
  notice.className = 'notice';
  notice.textContent = '';
}

/** A short message in the live region (read out by screen readers). */
function notify(message, kind = 'info') {
  const notice = $('notice');
  notice.className = `notice notice-${kind}`;
  notice.textContent = message;
  clearTimeout(noticeTimer);
  if (kind === 'info') noticeTimer = setTimeout(() => (notice.textContent = ''), 12000);
}

/** What a refusal means, when the API's own words are not Japanese. */
const STATUS_MEANINGS = {
  400: 'リクエストの形式が正しくありません。',
  404: '対象のデータが見つかりません。画面を再読み込みしてください。',
  409: '現在の状態ではこの操作はできません。画面を再読み込みしてください。',
  412: '読み込んだ後に他の人が変更しました。画面を再読み込みしてください。',
  413: '送信する内容が大きすぎます。',
  422: '入力内容を確認してください。',
  428: '最新の内容を読み込んでから操作してください。',
};

/** A field error as a clerk reads it: the field's Japanese name and the Japanese message. */
function fieldText(error) {
  return `${fieldLabel(error.field)}: ${clerkMessage(error.message) ?? '値を確認してください。'}`;
}

/** What to tell the user about a failed call, in Japanese only. */
function describeError(error) {
  // The browser's own words (Failed to fetch) are English; the console keeps them.
  if (!(error instanceof api.ApiError)) return 'サーバーに接続できません。ネットワークの状態を確認して、もう一度お試しください。';
  if (error.status === 429) {
    return `リクエストが多すぎます。${error.retryAfter ? `${error.retryAfter}秒後に` : 'しばらくしてから'}もう一度お試しください。`;
  }
  if (error.status === 403) return clerkMessage(error.problem.detail) ?? 'この操作の権限がありません。';
  if (error.status >= 500) return 'サーバーが一時的に利用できません。しばらくしてからもう一度お試しください。';
  const fields = error.fieldErrors.map(fieldText).join(' / ');
  // A 422's detail repeats its field errors.
  const detail = error.fieldErrors.length ? null : clerkMessage(error.problem.detail);
  const meaning = detail ?? (fields ? null : STATUS_MEANINGS[error.status]);
  return [clerkMessage(error.problem.title), meaning, fields].filter(Boolean).join(' — ') || `エラーが発生しました（HTTP ${error.status}）。`;
}

/** Runs an action; errors other than an ended session go to the notice. */
async function guarded(action) {
  try {
    await action();
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 401) return; // the login screen says why
    console.error(error);
    notify(describeError(error), 'error');
  }
}

function showFieldErrors(container, errors) {
  for (const slot of container.querySelectorAll('.field-error')) slot.textContent = '';
  for (const input of container.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  const unplaced = [];
  for (const error of errors) {
    const slot = container.querySelector(`.field-error[data-field="${CSS.escape(error.field)}"]`);
    const input = container.querySelector(`[name="${CSS.escape(error.field)}"]`);
    if (slot) slot.textContent = clerkMessage(error.message) ?? '値を確認してください。';
    else unplaced.push(fieldText(error));
    input?.setAttribute('aria-invalid', 'true');
  }
  container.querySelector('[aria-invalid="true"]')?.focus();
  return unplaced;
}

// ---------------------------------------------------------------- badges

function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, statusLabel(status));
}

function gradeBadge(grade) {
  const name = { A: 'a', B: 'b', C: 'c', D: 'd' }[grade] ?? 'none';
  return h('span', { class: `badge grade grade-${name}`, title: '評価' }, grade ?? '—');
}

function submissionBadge(state) {
  return h('span', { class: `badge submission-${state}` }, submissionLabel(state));
}

function indicatorCode(ref) {
  const number = ref.indicator_number ?? ref.number;
  return `施策${ref.measure_number}${number !== null && number !== undefined ? `-指標${number}` : ''}`;
}

// ---------------------------------------------------------------- session

function showLogin(message) {
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  $('app-view').hidden = true;
  $('app-view').replaceChildren();
  $('session-bar').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message ?? '';
  state.me = null;
  document.title = 'ログイン | KPI進捗管理';
  $('login-username').focus();
}

let loginRetryTimer = null;

async function onLogin(event) {
  event.preventDefault();
  const form = $('login-form');
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const municipality = $('login-municipality').value.trim();
  $('login-error').textContent = '';
  if (!username || !password) {
    $('login-error').textContent = 'ユーザー名とパスワードを入力してください。';
    (username ? $('login-password') : $('login-username')).focus();
    return;
  }
  const button = $('login-button');
  button.disabled = true;
  try {
    await api.login(username, password, municipality || undefined);
    $('login-password').value = '';
    await enterApp();
    button.disabled = false;
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 429) {
      let wait = error.retryAfter ?? 60;
      const tick = () => {
        $('login-error').textContent = `ログインの試行が多すぎます。${wait}秒後にもう一度お試しください。`;
        if (wait-- <= 0) {
          clearInterval(loginRetryTimer);
          $('login-error').textContent = 'もう一度ログインできます。';
          button.disabled = false;
        }
      };
      clearInterval(loginRetryTimer);
      tick();
      loginRetryTimer = setInterval(tick, 1000);
      return;
    }
    button.disabled = false;
    if (error instanceof api.ApiError && error.status === 401) {
      $('login-error').textContent = 'ユーザー名またはパスワードが違います。同じユーザー名が他の自治体にもある場合は自治体コードを入力してください。';
      $('login-password').select();
    } else {
      $('login-error').textContent = describeError(error);
    }
    form.querySelector('input')?.focus();
  }
}

async function logout() {
  // A session begun at the provider goes on there to end it; this page is left.
  if (await oidc.logoutEverywhere()) return;
  showLogin();
  notify('ログアウトしました。');
}

async function enterApp() {
  const me = (await api.get('/me')).data;
  state.me = me;
  const who = [me.user.display_name, roleLabel(me.user.role), me.department?.name].filter(Boolean);
  $('session-user').textContent = `${who[0]}（${who.slice(1).join('・')}）`;
  $('session-bar').hidden = false;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  state.plans = api.items((await api.get('/plans?limit=100')).data);
  if (!state.plans.length) {
    $('app-view').replaceChildren(h('p', { class: 'empty' }, '計画が登録されていません。'));
    return;
  }
  // The API says where the yearly cycle stands: the open collection, else the latest year with data.
  const cycle = me.current_cycle;
  state.plan = state.plans.find((plan) => plan.id === cycle?.plan_id) ?? latestPlan(state.plans);
  state.year = cycle?.plan_id === state.plan.id ? cycle.fiscal_year : null;
  await showMain();
  $('main').focus({ preventScroll: true });
  const linked = /^#indicator-(\d+)$/.exec(location.hash);
  if (linked) await showIndicator(Number(linked[1]), { push: false });
  if (location.hash === '#evaluations') await showEvaluations({ push: false });
}

/** Without a current cycle (no plans with data yet): the active plan that runs latest. */
function latestPlan(plans) {
  const active = plans.filter((plan) => plan.status === 'active');
  return (active.length ? active : plans).reduce((a, b) => (b.end_fiscal_year > a.end_fiscal_year ? b : a));
}

/** The 本部's or the department's page, for the plan and year chosen. */
async function showMain() {
  if (state.me.user.role === 'department') await showDepartment();
  else await showHq();
}

/** The collection of the year shown, if the 本部 opened one. */
function yearCollection() {
  return state.collections.find((c) => c.fiscal_year === state.year) ?? null;
}

/** The open collection year of the plan (the newest not closed), if any. */
function openCollection() {
  const open = state.collections.filter((c) => !c.closed_at);
  return open.reduce((a, b) => (!a || b.fiscal_year > a.fiscal_year ? b : a), null);
}

const deadlinePassed = (collection) => Boolean(collection?.deadline) && collection.deadline < todayInJapan();

/**
 * The collection of a year as the 本部 reads it. A collection announces the year and its
 * deadline; it locks nothing, so departments can submit before it opens and after it closes.
 */
function collectionText(collection) {
  if (!collection) return 'この年度の実績の受付は開始されていません（所管課は受付開始前でも実績を提出できます）。';
  if (collection.closed_at) return `受付は終了しました（${formatTimestamp(collection.closed_at)}）。`;
  if (!collection.deadline) return '受付中です（期限なし）。';
  if (deadlinePassed(collection)) return `受付中です。提出期限（${formatDate(collection.deadline)}）を過ぎています。`;
  return `受付中です。提出期限は${formatDate(collection.deadline)}です。`;
}

function planSelect(onChange) {
  const select = h(
    'select',
    { id: 'plan-select', onchange: onChange },
    state.plans.map((plan) => h('option', { value: plan.id, selected: plan.id === state.plan.id }, plan.name)),
  );
  return h('div', { class: 'field inline' }, h('label', { for: 'plan-select' }, '計画'), select);
}

// ---------------------------------------------------------------- 本部

async function showHq() {
  const [dashboard, collections] = await Promise.all([
    api.get(`/plans/${state.plan.id}/dashboard`),
    api.get(`/plans/${state.plan.id}/collections`),
  ]);
  state.dashboard = dashboard.data;
  state.collections = api.items(collections.data);
  const years = state.dashboard.years;
  const withData = years.filter((y) => y.mean_progress !== null || y.achieved_share !== null);
  const open = openCollection();
  state.year = years.some((y) => y.fiscal_year === state.year)
    ? state.year
    : open?.fiscal_year ?? (withData.at(-1) ?? years.at(-1)).fiscal_year;

  const yearSelect = h(
    'select',
    {
      id: 'year-select',
      onchange: (event) => {
        state.year = Number(event.target.value);
        forgetYearChoices();
        guarded(loadYear);
      },
    },
    years.map((y) => h('option', { value: y.fiscal_year, selected: y.fiscal_year === state.year }, y.fiscal_year_label)),
  );
  const toolbar = h(
    'div',
    { class: 'toolbar', role: 'group', 'aria-label': '表示する計画と年度' },
    planSelect((event) => {
      state.plan = state.plans.find((p) => p.id === Number(event.target.value));
      state.year = null;
      forgetYearChoices();
      guarded(showHq);
    }),
    h('div', { class: 'field inline' }, h('label', { for: 'year-select' }, '年度'), yearSelect),
    h('button', { type: 'button', class: 'secondary', onclick: () => guarded(showHq) }, '再読み込み'),
    h(
      'div',
      { class: 'downloads' },
      h('button', { type: 'button', id: 'download-csv', onclick: () => guarded(() => download('csv')) }, 'CSVをダウンロード'),
      h('button', { type: 'button', id: 'download-xlsx', onclick: () => guarded(() => download('xlsx')) }, 'Excel(xlsx)をダウンロード'),
    ),
  );
  $('app-view').replaceChildren(indicatorTabs(), toolbar, h('div', { id: 'hq-content' }));
  await loadYear();
}

/** What was picked on one year's page does not carry over to another year. */
function forgetYearChoices() {
  state.selected.clear();
  state.collectionWarnings = [];
}

async function loadYear() {
  const plan = state.plan.id;
  // The dashboard too: a review changes the trend of the year.
  // Goals and measures too: their reading notes (and their 所管課 links') are shown beside them.
  const [evaluation, submissions, dashboard, goals, measures, making] = await Promise.all([
    api.get(`/plans/${plan}/evaluation?fiscal_year=${state.year}`),
    api.get(`/plans/${plan}/submissions?fiscal_year=${state.year}`),
    api.get(`/plans/${plan}/dashboard`),
    api.get(`/plans/${plan}/goals?limit=500`),
    api.get(`/plans/${plan}/measures?limit=500`),
    api.get(`/plans/${plan}/making`),
  ]);
  state.making = making.data;
  state.goalRecords = new Map(api.items(goals.data).map((g) => [g.id, g]));
  state.measureRecords = new Map(api.items(measures.data).map((m) => [m.id, m]));
  state.evaluation = evaluation.data;
  state.submissions = submissions.data;
  state.dashboard = dashboard.data;
  renderHq();
}

function renderHq() {
  const e = state.evaluation;
  document.title = `${e.fiscal_year_label} 進捗管理表 | ${e.plan_name}`;
  // The table first, right under the figures of the year: it is where the 本部 works.
  const toc = [
    ['summary', '概況'],
    ['table', '進捗管理表'],
    ['collection', '提出状況'],
    ['actions', '要対応'],
    ['goals', '基本目標別'],
    ['departments', '所管課別'],
    ['trend', '推移'],
    ['making', '計画の策定'],
  ];
  const content = $('hq-content');
  content.replaceChildren(
    h('h1', { id: 'evaluation-title' }, h('span', { class: 'plan-name' }, e.plan_name), ' ', h('span', { class: 'year-label' }, e.fiscal_year_label), ' 進捗管理表'),
    h(
      'p',
      { class: 'subtitle' },
      `評価日時 ${formatTimestamp(e.evaluated_at)}・評価基準 ${e.grading.basis === 'attainment' ? '達成率' : '進捗率'}（A ≥ ${e.grading.grade_a_min}%、B ≥ ${e.grading.grade_b_min}%、C ≥ ${e.grading.grade_c_min}%）・`,
      h('span', { id: 'evaluation-collection' }, collectionText(e.collection)),
    ),
    readingNote(state.plan?.reading_note),
    h('nav', { class: 'toc', 'aria-label': 'このページの内容' }, h('ul', {}, toc.map(([id, label]) => h('li', {}, h('a', { href: `#${id}` }, label))))),
    renderSummary(e),
    renderTable(e),
    renderCollection(e),
    renderActionLists(e),
    renderGoals(e),
    renderDepartments(e),
    renderTrend(),
    renderMaking(state.plan, state.making),
  );
  renderTableBody();
}

/** How the plan was made, as its sources state it: its phases with their purpose, the bodies that
 * examine and decide it in order, and the dated steps of its drafting, each with its source. */
function renderMaking(plan, making) {
  const source = (text) => (text ? h('span', { class: 'sub source' }, `出典: ${text}`) : null);
  const phases = (plan?.phases ?? []).map((p) =>
    h('li', {}, `${p.name}（${p.start_fiscal_year}〜${p.end_fiscal_year}年度）`, p.purpose ? h('p', {}, `目的: ${p.purpose}`) : null, source(p.purpose_source), readingNote(p.reading_note)),
  );
  const bodies = (making?.governance ?? []).map((b) => h('li', {}, h('strong', {}, b.name), `: ${b.role}`, source(b.source), readingNote(b.reading_note)));
  const milestones = making?.milestones ?? [];
  return section(
    'making',
    '計画の策定',
    phases.length ? [h('h3', {}, '計画の期間区分'), h('ul', { id: 'making-phases' }, phases)] : null,
    bodies.length ? [h('h3', {}, '検討・決定体制'), h('ol', { id: 'making-governance' }, bodies)] : null,
    milestones.length
      ? [
          h('h3', {}, '策定の経過'),
          h(
            'div',
            { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': '策定の経過' },
            h(
              'table',
              { id: 'making-milestones' },
              h('caption', {}, '策定の経過（資料が示す精度の日付。予定は資料にスケジュールとして示されたもの）'),
              h('thead', {}, h('tr', {}, ['日付', '内容', '会議体', '区分', '出典'].map((c) => h('th', { scope: 'col' }, c)))),
              h(
                'tbody',
                {},
                milestones.map((m) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, m.date),
                    h('th', { scope: 'row' }, m.what, readingNote(m.reading_note)),
                    h('td', {}, m.body ?? ''),
                    h('td', {}, m.planned ? '予定' : '実施'),
                    h('td', {}, m.source ?? ''),
                  ),
                ),
              ),
            ),
          ),
        ]
      : null,
    !phases.length && !bodies.length && !milestones.length ? h('p', { class: 'empty' }, '記録はありません。') : null,
  );
}

/** Shows the 進捗管理表 filtered to one submission state (a tile was clicked). */
function showOnly(submission) {
  state.filters = { status: '', submission, department: '', text: '' };
  renderTableBody();
  $('table').scrollIntoView({ block: 'start' });
  $('filter-submission').focus();
}

function renderSummary(e) {
  const r = e.plan_roll_up;
  const card = (label, value, extra) => h('div', { class: 'card' }, h('p', { class: 'card-label' }, label), h('p', { class: 'card-value' }, value), extra);
  // Tiles of the cycle open the table filtered to their rows.
  const countCard = (key, label, count, hint) =>
    h(
      'button',
      { type: 'button', class: `card card-button card-${key}${count ? ' card-attention' : ''}`, id: `tile-${key}`, title: hint, onclick: () => showOnly(key) },
      h('span', { class: 'card-label' }, label),
      h('span', { class: 'card-value' }, `${count}件`),
      h('span', { class: 'visually-hidden' }, `: ${hint}`),
    );
  const l = e.lists;
  return section(
    'summary',
    '概況',
    h(
      'div',
      { class: 'cards' },
      card('計画全体の評価', gradeBadge(r.grade)),
      card('平均進捗率', formatPercent(r.mean_progress)),
      card('達成した指標の割合', formatPercent(r.achieved_share)),
      card('指標数', `${r.indicator_count}`),
      countCard('submitted', '確認待ち', l.pending_review.length, '提出され、本部の確認を待っている指標'),
      countCard('missing', '未提出', l.missing.length, 'まだ実績が提出されていない指標'),
      countCard('returned', '差戻し', l.returned.length, '差し戻して再提出を待っている指標'),
      countCard('late', '期限超過', l.late.length, '提出期限を過ぎても未提出・差戻しのままの指標'),
      countCard('submitted_late', '期限後提出', l.submitted_late.length, '提出期限の後に提出された指標'),
    ),
    statusBars([{ label: '計画全体', counts: r.status_counts, trailing: `${r.indicator_count}指標` }], {
      caption: `計画全体の状況: ${statusSummary(r.status_counts)}`,
    }),
    statusLegend(),
  );
}

function statusSummary(counts) {
  return STATUSES.filter(([s]) => counts[s]).map(([s, label]) => `${label}${counts[s]}件`).join('、') || '指標なし';
}

function groupTable(caption, groups) {
  return h(
    'details',
    { class: 'data-table' },
    h('summary', {}, `${caption}を表で見る`),
    h(
      'div',
      { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
      h(
        'table',
        {},
        h('caption', {}, caption),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '区分'), h('th', { scope: 'col' }, '指標数'), STATUSES.map(([, label]) => h('th', { scope: 'col' }, label)), h('th', { scope: 'col' }, '平均進捗率'), h('th', { scope: 'col' }, '評価'))),
        h(
          'tbody',
          {},
          groups.map((g) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, g.label),
              h('td', { class: 'num' }, g.roll_up.indicator_count),
              STATUSES.map(([s]) => h('td', { class: 'num' }, g.roll_up.status_counts[s])),
              h('td', { class: 'num' }, formatPercent(g.roll_up.mean_progress)),
              h('td', {}, gradeBadge(g.roll_up.grade)),
            ),
          ),
        ),
      ),
    ),
  );
}

function groupBars(groups, caption) {
  const rows = groups.map((g) => ({
    label: g.label,
    counts: g.roll_up.status_counts,
    trailing: `${g.roll_up.indicator_count}指標・平均${formatPercent(g.roll_up.mean_progress)}・${g.roll_up.grade}`,
  }));
  return statusBars(rows, { caption: `${caption}: ${groups.map((g) => `${g.label} ${statusSummary(g.roll_up.status_counts)}`).join('。')}` });
}

/** The reading notes of a measure and of its current 所管課 links, each labelled with what it qualifies. */
function measureNotes(measureId) {
  const measure = state.measureRecords?.get(measureId);
  if (!measure) return [];
  const owners = measure.owners.filter((o) => o.until_fiscal_year === null && o.reading_note);
  return [readingNote(measure.reading_note), ...owners.map((o) => readingNote(`所管課（${o.department_name}）: ${o.reading_note}`))];
}

function renderGoals(e) {
  const goalNotes = e.goals.map((g) => [g, state.goalRecords?.get(g.id)?.reading_note]).filter(([, note]) => note);
  return section(
    'goals',
    `基本目標別の状況（${e.fiscal_year_label}）`,
    h('p', { class: 'hint' }, '◎（主たる基本目標）として位置づけられた推進施策の指標を集計しています。'),
    h('div', { id: 'goal-notes' }, goalNotes.map(([g, note]) => readingNote(`${g.label}: ${note}`))),
    groupBars(e.goals, '基本目標別の状況'),
    statusLegend(),
    groupTable('基本目標別の状況', e.goals),
  );
}

function renderDepartments(e) {
  const departments = e.departments.filter((d) => d.roll_up.indicator_count > 0);
  return section(
    'departments',
    `所管課別の状況（${e.fiscal_year_label}）`,
    groupBars(departments, '所管課別の状況'),
    statusLegend(),
    groupTable('所管課別の状況', departments),
  );
}

/** Achieved share over indicators with data, as the API computes it for roll-ups. */
function achievedShare(counts) {
  const total = STATUSES.reduce((sum, [s]) => sum + (counts[s] ?? 0), 0);
  const withData = total - (counts.no_data ?? 0);
  return withData > 0 ? (counts.achieved / withData) * 100 : null;
}

function renderTrend() {
  const years = state.dashboard.years;
  const planSeries = [
    { name: '平均進捗率', values: years.map((y) => y.mean_progress) },
    { name: '達成した指標の割合', values: years.map((y) => y.achieved_share) },
  ];
  const goalIds = years[0]?.goals.map((g) => g.goal_id) ?? [];
  const goalSeries = goalIds.map((id) => ({
    name: years.flatMap((y) => y.goals).find((g) => g.goal_id === id)?.label ?? `${id}`,
    values: years.map((y) => {
      const goal = y.goals.find((g) => g.goal_id === id);
      return goal ? achievedShare(goal.status_counts) : null;
    }),
  }));
  const seriesText = (series) => series.map((s) => `${s.name}: ${s.values.map((v, i) => `${years[i].fiscal_year_label} ${formatPercent(v)}`).join('、')}`).join('。');
  return section(
    'trend',
    '計画期間の推移',
    h('h3', {}, '計画全体'),
    h('figure', {}, trendChart(years, planSeries, { caption: `計画全体の推移。${seriesText(planSeries)}` }), h('figcaption', {}, seriesLegend(planSeries))),
    h('h3', {}, '基本目標別 達成した指標の割合'),
    h('figure', {}, trendChart(years, goalSeries, { caption: `基本目標別の達成した指標の割合。${seriesText(goalSeries)}`, firstStyle: 1 }), h('figcaption', {}, seriesLegend(goalSeries, { firstStyle: 1 }))),
    h(
      'details',
      { class: 'data-table' },
      h('summary', {}, '推移を表で見る'),
      h(
        'div',
        { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': '推移' },
        h(
          'table',
          {},
          h('caption', {}, '年度別の推移（達成した指標の割合は、実績のある指標に対する割合）'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '年度'), h('th', { scope: 'col' }, '指標数'), [...planSeries, ...goalSeries].map((s) => h('th', { scope: 'col' }, s.name)))),
          h(
            'tbody',
            {},
            years.map((y, i) =>
              h('tr', {}, h('th', { scope: 'row' }, y.fiscal_year_label), h('td', { class: 'num' }, y.indicator_count), [...planSeries, ...goalSeries].map((s) => h('td', { class: 'num' }, formatPercent(s.values[i])))),
            ),
          ),
        ),
      ),
    ),
  );
}

function jumpToRow(indicatorId) {
  state.filters = { status: '', submission: '', department: '', text: '' };
  renderTableBody();
  const row = $(`row-${indicatorId}`);
  if (!row) return;
  row.scrollIntoView({ block: 'center' });
  row.classList.add('highlight');
  setTimeout(() => row.classList.remove('highlight'), 3000);
  row.querySelector('button, th')?.focus();
}

function renderActionLists(e) {
  const lists = [
    ['missing', '未提出', e.lists.missing],
    ['late', '期限超過', e.lists.late],
    ['submitted_late', '期限後提出', e.lists.submitted_late],
    ['pending_review', '確認待ち', e.lists.pending_review],
    ['returned', '差戻し中', e.lists.returned],
    ['off_track', '遅れ', e.lists.off_track],
    ['deteriorating', '悪化', e.lists.deteriorating],
    ['not_achieved', '未達成', e.lists.not_achieved],
  ];
  return section(
    'actions',
    '要対応の指標',
    h(
      'div',
      { class: 'lists' },
      lists.map(([key, label, refs]) =>
        h(
          'section',
          { class: `list list-${key}`, 'aria-labelledby': `list-${key}-heading` },
          h('h3', { id: `list-${key}-heading` }, `${label} `, h('span', { class: 'count' }, `${refs.length}件`)),
          refs.length
            ? h(
                'ul',
                {},
                refs.map((ref) =>
                  h(
                    'li',
                    {},
                    h('a', { href: `#row-${ref.indicator_id}`, onclick: (event) => { event.preventDefault(); jumpToRow(ref.indicator_id); } }, `${indicatorCode(ref)} ${ref.name}`),
                    h('span', { class: 'dept' }, ref.department_names.join('、')),
                  ),
                ),
              )
            : h('p', { class: 'empty' }, 'ありません'),
        ),
      ),
    ),
  );
}

/** The 本部 opens the year's collection, or moves its deadline; a past deadline is warned about. */
function collectionForm(e) {
  const collection = e.collection;
  if (!canReview() || collection?.closed_at) return null;
  const warning = h('p', { id: 'deadline-warning', class: 'warning-text', role: 'status' });
  const judge = (value) => {
    warning.textContent = value && value < todayInJapan() ? '提出期限が過去の日付です。このまま設定すると、未提出・差戻しの指標はすべて期限超過になります。' : '';
  };
  const input = h('input', {
    id: 'collection-deadline',
    type: 'date',
    name: 'deadline',
    value: collection?.deadline ?? '',
    'aria-describedby': 'deadline-warning',
    oninput: (event) => judge(event.target.value),
  });
  judge(collection?.deadline);
  const submit = async (event) => {
    event.preventDefault();
    await guarded(async () => {
      const deadline = input.value || null;
      const { data } = collection
        ? await api.call('PATCH', `/plans/${state.plan.id}/collections/${state.year}`, { body: { deadline } })
        : await api.call('POST', `/plans/${state.plan.id}/collections`, { body: { fiscal_year: state.year, deadline } });
      state.collectionWarnings = data.warnings ?? [];
      const done = collection ? `${e.fiscal_year_label}の提出期限を変更しました。` : `${e.fiscal_year_label}の受付を開始しました。`;
      await showHq();
      if (state.collectionWarnings.length) notify(`${done} ${state.collectionWarnings.map((w) => clerkMessage(w.message)).join(' ')}`, 'warning');
      else notify(done);
    });
  };
  return h(
    'form',
    { class: 'toolbar', id: 'collection-form', onsubmit: submit },
    h('div', { class: 'field inline' }, h('label', { for: 'collection-deadline' }, '提出期限'), input),
    h('button', { type: 'submit' }, collection ? '提出期限を変更する' : `${e.fiscal_year_label}の受付を開始する`),
    warning,
  );
}

function renderCollection(e) {
  const s = state.submissions;
  const head = ['所管課', ...SUBMISSIONS.map(([, label]) => label), '期限超過', '期限後提出', '状況'];
  const warnings = state.collectionWarnings.map((w) => h('p', { class: 'warning-box', role: 'alert' }, clerkMessage(w.message)));
  return section(
    'collection',
    `提出状況（${s.fiscal_year_label}）`,
    h('p', { id: 'collection-state' }, collectionText(s.collection)),
    h('div', { id: 'collection-warnings' }, warnings),
    collectionForm(e),
    h(
      'div',
      { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': '所管課別の提出状況' },
      h(
        'table',
        { id: 'submissions-table' },
        h('caption', {}, '所管課別の提出状況（件数）'),
        h('thead', {}, h('tr', {}, head.map((label) => h('th', { scope: 'col' }, label)))),
        h(
          'tbody',
          {},
          s.departments.map((d) => {
            const done = d.counts.missing === 0 && d.counts.returned === 0;
            return h(
              'tr',
              { class: done ? '' : 'attention', dataset: { departmentId: d.department_id } },
              h('th', { scope: 'row' }, d.department_name),
              SUBMISSIONS.map(([key]) => h('td', { class: 'num' }, d.counts[key] ?? 0)),
              h('td', { class: 'num' }, d.counts.late),
              h('td', { class: 'num' }, d.counts.submitted_late),
              h('td', { class: 'cell-progress' }, departmentProgress(d.counts)),
            );
          }),
        ),
      ),
    ),
  );
}

function filterSelect(id, label, key, options) {
  const select = h(
    'select',
    {
      id,
      onchange: (event) => {
        state.filters[key] = event.target.value;
        renderTableBody();
      },
    },
    h('option', { value: '' }, 'すべて'),
    options.map(([value, text]) => h('option', { value, selected: state.filters[key] === value }, text)),
  );
  return h('div', { class: 'field inline' }, h('label', { for: id }, label), select);
}

const GRADE_ORDER = { A: 0, B: 1, C: 2, D: 3 };
const STATUS_ORDER = Object.fromEntries(STATUSES.map(([status], index) => [status, index]));
const SUBMISSION_ORDER = { returned: 0, missing: 1, submitted: 2, approved: 3 };

/**
 * The 進捗管理表's columns: heading, and the value a column sorts by (`null` sorts last either
 * way; columns without one are not sortable).
 */
const EVALUATION_COLUMNS = [
  { key: 'code', label: '施策', sortBy: (i) => [i.measure_number, i.number ?? 0] },
  { key: 'name', label: '指標', sortBy: (i) => i.name },
  { key: 'department', label: '所管課', sortBy: (i) => i.department_names.join('、') },
  { key: 'baseline', label: '基準値' },
  { key: 'target', label: '目標' },
  { key: 'actual', label: '実績' },
  { key: 'attainment', label: '達成率', sortBy: (i) => numberOrNull(i.result.attainment_rate) },
  { key: 'progress', label: '進捗率', sortBy: (i) => numberOrNull(i.result.progress_rate) },
  { key: 'status', label: '状況', sortBy: (i) => STATUS_ORDER[i.result.status] },
  { key: 'grade', label: '評価', sortBy: (i) => GRADE_ORDER[i.result.grade] ?? null },
  { key: 'submission', label: '提出状況', sortBy: (i) => SUBMISSION_ORDER[i.submission] },
];

const numberOrNull = (value) => (value === null || value === undefined ? null : Number(value));

function evaluationColumns() {
  const head = EVALUATION_COLUMNS.map((c) => c.label);
  return canReview() ? ['選択', ...head, '操作'] : head;
}

/** Names each cell after its column, so that narrow screens can show rows as cards. */
function labelled(cells, head) {
  cells.forEach((cell, index) => {
    if (cell.tagName === 'TD') cell.dataset.label = head[index];
  });
  return cells;
}

function compareValues(a, b) {
  if (Array.isArray(a)) {
    for (let index = 0; index < a.length; index += 1) {
      const order = compareValues(a[index], b[index]);
      if (order) return order;
    }
    return 0;
  }
  if (typeof a === 'string') return a.localeCompare(b, 'ja');
  return a - b;
}

/** The rows in the chosen order; rows without a value go last, ties keep the plan's order. */
function sortedRows(rows) {
  const column = EVALUATION_COLUMNS.find((c) => c.key === state.sort.key) ?? EVALUATION_COLUMNS[0];
  const sign = state.sort.direction === 'ascending' ? 1 : -1;
  const byCode = EVALUATION_COLUMNS[0].sortBy;
  return rows
    .map((row) => ({ row, value: column.sortBy(row) }))
    .sort((a, b) => {
      const missing = (a.value === null || a.value === undefined) - (b.value === null || b.value === undefined);
      if (missing) return missing;
      return sign * compareValues(a.value, b.value) || compareValues(byCode(a.row), byCode(b.row));
    })
    .map(({ row }) => row);
}

function sortBy(key) {
  const same = state.sort.key === key;
  state.sort = { key, direction: same && state.sort.direction === 'ascending' ? 'descending' : 'ascending' };
  renderTableBody();
  $(`sort-${key}`)?.focus();
}

function tableHead() {
  const cells = EVALUATION_COLUMNS.map((column) => {
    if (!column.sortBy) return h('th', { scope: 'col', class: `col-${column.key}` }, column.label);
    const sorted = state.sort.key === column.key;
    return h(
      'th',
      { scope: 'col', class: `col-${column.key}`, 'aria-sort': sorted ? state.sort.direction : 'none', dataset: { column: column.key } },
      h(
        'button',
        { type: 'button', class: 'sort', id: `sort-${column.key}`, onclick: () => sortBy(column.key) },
        column.label,
        h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, sorted ? (state.sort.direction === 'ascending' ? '▲' : '▼') : '⇅'),
      ),
    );
  });
  if (!canReview()) return h('tr', {}, cells);
  const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': '表示中の確認待ちをすべて選択', onchange: (event) => selectAllShown(event.target.checked) });
  return h('tr', {}, h('th', { scope: 'col', class: 'cell-select' }, all), cells, h('th', { scope: 'col' }, '操作'));
}

function renderTable(e) {
  const departments = [...new Set(e.indicators.flatMap((i) => i.department_names))].sort((a, b) => a.localeCompare(b, 'ja'));
  const submissionFilters = [...SUBMISSIONS, ['late', '期限超過'], ['submitted_late', '期限後提出']];
  return section(
    'table',
    `進捗管理表（${e.fiscal_year_label}）`,
    h(
      'div',
      { class: 'toolbar filters', role: 'search', 'aria-label': '指標の絞り込み' },
      filterSelect('filter-status', '状況', 'status', STATUSES),
      filterSelect('filter-submission', '提出状況', 'submission', submissionFilters),
      filterSelect('filter-department', '所管課', 'department', departments.map((d) => [d, d])),
      h(
        'div',
        { class: 'field inline' },
        h('label', { for: 'filter-text' }, '指標名'),
        h('input', {
          id: 'filter-text',
          type: 'search',
          value: state.filters.text,
          oninput: (event) => {
            state.filters.text = event.target.value;
            renderTableBody();
          },
        }),
      ),
      h('p', { id: 'table-count', class: 'count', 'aria-live': 'polite' }),
    ),
    canReview()
      ? h(
          'div',
          { class: 'toolbar bulk', role: 'group', 'aria-label': 'まとめて承認' },
          h('button', { type: 'button', id: 'bulk-approve', disabled: true, onclick: () => guarded(openBulkApproval) }, '選択した実績を承認する'),
          h('p', { class: 'hint', id: 'bulk-hint' }, '確認待ちの行を選ぶと、まとめて承認できます（1件ずつ、表示した版のまま承認します）。'),
        )
      : null,
    h(
      'div',
      { class: 'table-scroll wide tall', tabindex: '0', role: 'region', 'aria-label': '進捗管理表' },
      h(
        'table',
        { id: 'evaluation-table', class: 'stacked' },
        h('caption', {}, `${e.plan_name} ${e.fiscal_year_label} 進捗管理表（列の見出しで並べ替え）`),
        h('thead', { id: 'evaluation-head' }),
        h('tbody', { id: 'evaluation-rows' }),
      ),
    ),
  );
}

function matchesFilters(indicator) {
  const f = state.filters;
  const submission =
    f.submission === 'late' ? indicator.late : f.submission === 'submitted_late' ? indicator.submitted_late : indicator.submission === f.submission;
  return (
    (!f.status || indicator.result.status === f.status) &&
    (!f.submission || submission) &&
    (!f.department || indicator.department_names.includes(f.department)) &&
    (!f.text || indicator.name.includes(f.text.trim()))
  );
}

/** The figures of a row: the approved ones, and newer ones sent but not approved (never graded). */
function figuresCell(i) {
  const sample = (actual) => (actual.is_sample ? h('span', { class: 'badge sample', title: 'デモ用に生成した値' }, 'サンプル') : null);
  const approved = i.actual ? h('span', { class: 'figures-approved' }, formatFigures(i.actual, i.unit), sample(i.actual)) : null;
  const pending = i.pending_actual
    ? h(
        'span',
        { class: 'figures-pending' },
        approved ? h('span', { class: 'sub' }, '新しい提出') : null,
        submissionBadge(i.pending_actual.status),
        ' ',
        h('span', { class: 'pending-value' }, formatFigures(i.pending_actual, i.unit)),
        approved ? null : sample(i.pending_actual),
      )
    : null;
  return approved || pending ? h('span', { class: 'stack-column' }, approved, pending) : '—';
}

/** 状況: graded on approved figures only; figures awaiting review say so instead of データなし. */
function statusCell(i) {
  if (i.result.status === 'no_data' && i.pending_actual) {
    const waiting = i.pending_actual.status === 'submitted';
    return h(
      'span',
      { class: 'badge status-pending', title: waiting ? '承認されると評価されます' : '再提出・承認の後に評価されます' },
      waiting ? '承認待ち' : '再提出待ち',
    );
  }
  return statusBadge(i.result.status);
}

function renderTableBody() {
  const e = state.evaluation;
  const body = $('evaluation-rows');
  if (!body) return;
  for (const [id, key] of [['filter-status', 'status'], ['filter-submission', 'submission'], ['filter-department', 'department'], ['filter-text', 'text']]) {
    if ($(id)) $(id).value = state.filters[key];
  }
  $('evaluation-head').replaceChildren(tableHead());
  const measures = new Map(e.measures.map((m) => [m.measure_id, m]));
  const shown = sortedRows(e.indicators.filter(matchesFilters));
  $('table-count').textContent = `${e.indicators.length}件中 ${shown.length}件を表示`;
  const head = evaluationColumns();
  body.replaceChildren(
    ...shown.map((i) => {
      const measure = measures.get(i.measure_id);
      const submission = h(
        'span',
        { class: 'stack' },
        submissionBadge(i.submission),
        i.late ? h('span', { class: 'badge late' }, '期限超過') : null,
        i.submitted_late ? h('span', { class: 'badge submitted-late' }, '期限後提出') : null,
      );
      const cells = [
        h('td', { class: 'cell-measure' }, h('span', { class: 'code' }, `施策${i.measure_number}`), ' ', measure?.name ?? '', measureNotes(i.measure_id)),
        h(
          'th',
          { scope: 'row' },
          i.number !== null ? h('span', { class: 'code' }, `指標${i.number}`) : null,
          ' ',
          indicatorLink(i),
        ),
        h('td', {}, i.department_names.join('、')),
        h('td', {}, i.baseline?.text || formatNumber(i.baseline?.value), i.baseline?.fiscal_year_label ? h('span', { class: 'sub' }, i.baseline.fiscal_year_label) : null),
        h('td', {}, i.target?.text ?? '—', i.target?.target_fiscal_year_label ? h('span', { class: 'sub' }, i.target.target_fiscal_year_label) : null),
        h('td', { class: 'cell-actual' }, figuresCell(i)),
        h('td', { class: 'num' }, formatPercent(i.result.attainment_rate)),
        h('td', { class: 'num cell-progress' }, formatPercent(i.result.progress_rate)),
        h('td', { class: 'cell-status' }, statusCell(i)),
        h('td', { class: 'cell-grade' }, gradeBadge(i.result.grade)),
        h('td', { class: 'cell-submission' }, submission),
      ];
      if (canReview()) {
        const selectable = i.submission === 'submitted';
        cells.unshift(
          h(
            'td',
            { class: 'cell-select' },
            selectable
              ? h('input', {
                  type: 'checkbox',
                  class: 'row-select',
                  checked: state.selected.has(i.indicator_id),
                  'aria-label': `選択: ${i.name}`,
                  onchange: (event) => select(i.indicator_id, event.target.checked),
                })
              : null,
          ),
        );
        cells.push(
          h(
            'td',
            {},
            i.submission === 'missing'
              ? null
              : h(
                  'button',
                  { type: 'button', class: i.submission === 'submitted' ? 'small' : 'small secondary', onclick: () => guarded(() => openReview(i)) },
                  i.submission === 'submitted' ? '審査' : '詳細',
                  h('span', { class: 'visually-hidden' }, `: ${i.name}`),
                ),
          ),
        );
      }
      const dataset = { indicatorId: i.indicator_id, status: i.result.status, submission: i.submission };
      return h('tr', { id: `row-${i.indicator_id}`, dataset, tabindex: '-1' }, labelled(cells, head));
    }),
  );
  if (!shown.length) body.append(h('tr', {}, h('td', { colspan: String(head.length), class: 'empty' }, '条件に合う指標はありません。')));
  updateBulkBar();
}

// ---------------------------------------------------------------- bulk approval (本部)

function select(indicatorId, selected) {
  if (selected) state.selected.add(indicatorId);
  else state.selected.delete(indicatorId);
  updateBulkBar();
}

function selectAllShown(selected) {
  for (const i of state.evaluation.indicators.filter((i) => matchesFilters(i) && i.submission === 'submitted')) {
    if (selected) state.selected.add(i.indicator_id);
    else state.selected.delete(i.indicator_id);
  }
  renderTableBody();
}

function updateBulkBar() {
  const button = $('bulk-approve');
  if (!button) return;
  const count = state.selected.size;
  button.disabled = count === 0;
  button.textContent = count ? `選択した${count}件を承認する` : '選択した実績を承認する';
  const waiting = state.evaluation.indicators.filter((i) => matchesFilters(i) && i.submission === 'submitted');
  const all = $('select-all');
  if (all) {
    all.checked = waiting.length > 0 && waiting.every((i) => state.selected.has(i.indicator_id));
    all.disabled = waiting.length === 0;
  }
}

/** Shows what is about to be approved: each row's figures as the table showed them. */
function openBulkApproval() {
  const rows = state.evaluation.indicators.filter((i) => state.selected.has(i.indicator_id));
  $('bulk-title').textContent = `${rows.length}件の実績を承認します`;
  $('bulk-list').replaceChildren(
    ...rows.map((i) =>
      h(
        'li',
        { dataset: { indicatorId: i.indicator_id } },
        h('span', { class: 'bulk-name' }, `${indicatorCode(i)} ${i.name}`),
        ' ',
        h('strong', {}, formatFigures(i.pending_actual, i.unit)),
        h('span', { class: 'sub' }, `${i.department_names.join('、')}・版${i.pending_actual?.version ?? '—'}`),
        h('span', { class: 'bulk-result', role: 'status' }),
      ),
    ),
  );
  $('bulk-error').textContent = '';
  $('bulk-confirm').hidden = false;
  $('bulk-confirm').disabled = false;
  $('bulk-cancel').textContent = 'やめる';
  $('bulk-dialog').showModal();
  $('bulk-confirm').focus();
}

/**
 * Approves each selected row through the same API as one review: the actual is read for its ETag,
 * approved only if it is still the version the table showed, with If-Match so that a change in
 * between is refused (412) rather than approved unseen.
 */
async function approveSelected() {
  const rows = state.evaluation.indicators.filter((i) => state.selected.has(i.indicator_id));
  $('bulk-confirm').disabled = true;
  const year = state.year;
  const results = await api.mapLimited(rows, 3, async (i) => {
    try {
      const { data, etag } = await api.get(`/indicators/${i.indicator_id}/actuals/${year}`);
      if (data.status !== 'submitted' || data.version !== i.pending_actual?.version) {
        return { i, ok: false, reason: `表示した後に変更されています（現在 版${data.version}・${submissionLabel(data.status)}）。個別に確認してください。` };
      }
      await api.call('POST', `/indicators/${i.indicator_id}/actuals/${year}/review`, { body: { action: 'approve' }, headers: { 'If-Match': etag } });
      return { i, ok: true };
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 401) throw error;
      return { i, ok: false, reason: describeError(error) };
    }
  });
  for (const { i, ok, reason } of results) {
    const item = $('bulk-list').querySelector(`li[data-indicator-id="${i.indicator_id}"] .bulk-result`);
    item.textContent = ok ? '承認しました' : `承認できませんでした: ${reason}`;
    item.className = `bulk-result ${ok ? 'bulk-ok' : 'bulk-failed'}`;
    if (ok) state.selected.delete(i.indicator_id);
  }
  const approved = results.filter((r) => r.ok).length;
  const failed = results.length - approved;
  $('bulk-title').textContent = failed ? `${approved}件を承認しました。${failed}件は承認できませんでした` : `${approved}件を承認しました`;
  $('bulk-confirm').hidden = true;
  $('bulk-cancel').textContent = '閉じる';
  $('bulk-cancel').focus();
  await loadYear();
  notify(failed ? `${approved}件を承認しました。${failed}件は承認できませんでした。` : `${approved}件を承認しました。`, failed ? 'error' : 'info');
}

async function download(format) {
  const { data, response } = await api.get(`/plans/${state.plan.id}/evaluation?fiscal_year=${state.year}&format=${format}`, { blob: true, accept: '*/*' });
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `evaluation-${state.plan.id}-${state.year}.${format}`;
  const url = URL.createObjectURL(data);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  notify(`${name} をダウンロードしました。`);
}

// ---------------------------------------------------------------- review (本部)

async function openReview(indicator) {
  const dialog = $('review-dialog');
  const { data, etag } = await api.get(`/indicators/${indicator.indicator_id}/actuals/${state.year}`);
  state.review = { indicator, actual: data, etag };
  $('review-comment').value = '';
  $('review-error').textContent = '';
  showFieldErrors($('review-form'), []);
  fillReview();
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('.actions button:not([hidden])')?.focus();
}

function fillReview() {
  const { indicator, actual } = state.review;
  $('review-title').textContent = `実績の審査: ${indicator.name}`;
  $('review-body').replaceChildren(
    definitionList([
      ['指標', `${indicatorCode(indicator)} ${indicator.name}`],
      ['所管課', indicator.department_names.join('、')],
      ['年度', actual.fiscal_year_label],
      ['目標', indicator.target?.text],
      ['提出された値', h('strong', { id: 'review-value' }, formatFigures(actual, indicator.unit))],
      ['備考', actual.note],
      ['状態', submissionBadge(actual.status)],
      ['版', `${actual.version}`],
      ['提出日時', formatTimestamp(actual.submitted_at)],
      ['前回のコメント', actual.review_comment],
      ['データ', actual.is_sample ? 'デモ用に生成したサンプルデータです' : null],
    ]),
  );
  const status = actual.status;
  $('review-approve').hidden = !(status === 'submitted');
  $('review-return').hidden = !(status === 'submitted');
  $('review-reopen').hidden = !(status === 'approved');
  $('review-comment').closest('.field').hidden = status === 'returned';
  if (status === 'returned') $('review-error').textContent = '差し戻し中です。所管課の再提出を待っています。';
}

async function submitReview(action) {
  const { indicator, etag } = state.review;
  const comment = $('review-comment').value.trim();
  $('review-error').textContent = '';
  showFieldErrors($('review-form'), []);
  if (action !== 'approve' && !comment) {
    showFieldErrors($('review-form'), [{ field: 'comment', message: '差戻し・再開の理由を入力してください。' }]);
    return;
  }
  try {
    await api.call('POST', `/indicators/${indicator.indicator_id}/actuals/${state.year}/review`, {
      body: comment ? { action, comment } : { action },
      headers: etag ? { 'If-Match': etag } : {},
    });
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status === 401) throw error;
    if (error.status === 412 || error.status === 409) {
      const { data, etag: fresh } = await api.get(`/indicators/${indicator.indicator_id}/actuals/${state.year}`);
      state.review = { indicator, actual: data, etag: fresh };
      fillReview();
      $('review-error').textContent = `開いた後に他の人がこの実績を変更しました（現在 版${data.version}・${submissionLabel(data.status)}）。最新の内容を表示しています。確認してからもう一度操作してください。`;
      return;
    }
    const unplaced = showFieldErrors($('review-form'), error.fieldErrors);
    const detail = error.fieldErrors.length ? null : clerkMessage(error.problem.detail);
    $('review-error').textContent = [detail, ...unplaced].filter(Boolean).join(' / ') || describeError(error);
    return;
  }
  $('review-dialog').close();
  await loadYear();
  notify(`${REVIEW_DONE[action]}: ${indicator.name}`);
  const row = $(`row-${indicator.indicator_id}`);
  row?.scrollIntoView({ block: 'center' });
  row?.querySelector('button, th')?.focus();
}

// ---------------------------------------------------------------- one indicator

/** The indicator's name, opening its page. */
function indicatorLink(i) {
  const open = (event) => {
    event.preventDefault();
    state.lastRow = event.target.closest('tr')?.id ?? null;
    guarded(() => showIndicator(i.indicator_id));
  };
  return h('a', { href: `#indicator-${i.indicator_id}`, class: 'indicator-link', onclick: open }, i.name);
}

/**
 * The page of one indicator in place of the list; the browser's back button and 「一覧に戻る」 both
 * return to the list as it was (plan, year, filters and order are kept in `state`).
 */
async function showIndicator(indicatorId, { push = true, year = state.year } = {}) {
  const row = state.evaluation?.indicators.find((i) => i.indicator_id === indicatorId);
  if (push) enterPage({ indicator: indicatorId }, `#indicator-${indicatorId}`);
  await renderIndicatorPage($('app-view'), {
    indicatorId,
    year,
    evaluationRow: row,
    onBack: () => history.back(),
    onYear: (other) => guarded(() => showIndicator(indicatorId, { push: false, year: other })),
  });
  window.scrollTo(0, 0);
  $('indicator-title').focus?.();
}

/** Back from an indicator's page (or forward to one). */
function onHistory(event) {
  const indicator = event.state?.indicator;
  clearNotice();
  guarded(async () => {
    if (event.state?.evaluations) await showEvaluations({ push: false });
    else if (indicator) await showIndicator(indicator, { push: false });
    else {
      await showMain();
      if (state.lastRow) $(state.lastRow)?.scrollIntoView({ block: 'center' });
    }
  });
}

// ---------------------------------------------------------------- 施策評価

function indicatorTabs() {
  return viewTabs('indicators', { onIndicators: () => {}, onEvaluations: () => guarded(() => showEvaluations()) });
}

/** The years the year picker offers, as on the indicators' screen of the same role. */
function pickableYears() {
  if (state.me.user.role === 'department') return reportableYears().reverse().map((year) => ({ value: year, label: fiscalYearLabel(year) }));
  return state.dashboard.years.map((y) => ({ value: y.fiscal_year, label: y.fiscal_year_label }));
}

/** The 施策評価 of the plan and year the user is on (web/evaluations.js). */
async function showEvaluations({ push = true } = {}) {
  if (push) enterPage({ evaluations: true }, '#evaluations');
  await renderEvaluationsPage($('app-view'), {
    plan: state.plan,
    year: state.year,
    years: pickableYears(),
    role: state.me.user.role,
    departmentId: state.me.user.department_id,
    onYear: (year) => {
      state.year = year;
      forgetYearChoices();
      guarded(() => showEvaluations({ push: false }));
    },
    onIndicators: () => {
      enterPage({}, location.pathname);
      guarded(showMain);
    },
    ui: { notify, describeError, showFieldErrors, guarded },
  });
  $('app-view').append(
    await reportPublicationPanel({
      plan: state.plan,
      year: state.year,
      yearLabel: fiscalYearLabel(state.year),
      role: state.me.user.role,
      ui: { notify, describeError, showFieldErrors, guarded },
      onChanged: () => showEvaluations({ push: false }),
    }),
  );
  $('evaluations-title')?.focus?.();
}

// ---------------------------------------------------------------- 所管課

/** The years a department can report on: the plan's, up to the current fiscal year. */
function reportableYears() {
  const last = Math.min(state.plan.end_fiscal_year, Math.max(currentFiscalYear(), state.plan.start_fiscal_year));
  const years = [];
  for (let year = state.plan.start_fiscal_year; year <= last; year += 1) years.push(year);
  return years;
}

async function showDepartment() {
  const collections = await api.get(`/plans/${state.plan.id}/collections`);
  state.collections = api.items(collections.data);
  const years = reportableYears();
  if (!years.includes(state.year)) state.year = openCollection()?.fiscal_year ?? years.at(-1);
  const evaluation = (await api.get(`/plans/${state.plan.id}/evaluation?fiscal_year=${state.year}`)).data;
  state.evaluation = evaluation;
  const mine = evaluation.indicators.filter((i) => i.department_ids.includes(state.me.user.department_id));
  state.departmentRows = await api.mapLimited(mine, 6, async (indicator) => {
    // Nothing to fetch where the evaluation says nothing was submitted (a 404 would only be noise).
    const current = indicator.submission === 'missing' ? { actual: null, etag: null } : await fetchActual(indicator.indicator_id);
    return { indicator, ...current };
  });
  renderDepartment();
}

/** The latest actual of the year with its ETag, or nothing yet (404). */
async function fetchActual(indicatorId) {
  try {
    const { data, etag } = await api.get(`/indicators/${indicatorId}/actuals/${state.year}`);
    return { actual: data, etag };
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 404) return { actual: null, etag: null };
    throw error;
  }
}

function rowState(row) {
  return row.actual?.status ?? 'missing';
}

/** The year's collection as a department reads it: what to do, and until when. */
function departmentIntro(label) {
  const collection = yearCollection();
  if (!collection) return `${label}の受付は、本部がまだ開始していません（開始前でも実績を入力・提出できます）。`;
  if (collection.closed_at) return `${label}の受付は終了しました（${formatTimestamp(collection.closed_at)}）。修正が必要な場合は本部に連絡してください。`;
  if (!collection.deadline) return `${label}の実績を受け付けています（提出期限なし）。`;
  if (deadlinePassed(collection)) {
    const outstanding = state.departmentRows.filter((row) => ['missing', 'returned'].includes(rowState(row))).length;
    const deadline = formatDate(collection.deadline);
    return outstanding
      ? `${label}の提出期限（${deadline}）を過ぎています。未提出・差戻しの${outstanding}件を早めに提出してください。`
      : `${label}の提出期限（${deadline}）は過ぎました。この年度の実績はすべて提出済みです。`;
  }
  return `${label}の実績を受け付けています。提出期限は${formatDate(collection.deadline)}です。`;
}

function departmentToolbar() {
  const yearSelect = h(
    'select',
    {
      id: 'year-select',
      onchange: (event) => {
        state.year = Number(event.target.value);
        guarded(showDepartment);
      },
    },
    reportableYears()
      .reverse()
      .map((year) => {
        const open = state.collections.some((c) => c.fiscal_year === year && !c.closed_at);
        return h('option', { value: year, selected: year === state.year }, `${fiscalYearLabel(year)}${open ? '（受付中）' : ''}`);
      }),
  );
  const changePlan = (event) => {
    state.plan = state.plans.find((p) => p.id === Number(event.target.value));
    state.year = null;
    guarded(showDepartment);
  };
  return h(
    'div',
    { class: 'toolbar', role: 'group', 'aria-label': '表示する計画と年度' },
    state.plans.length > 1 ? planSelect(changePlan) : null,
    h('div', { class: 'field inline' }, h('label', { for: 'year-select' }, '年度'), yearSelect),
    h('button', { type: 'button', class: 'secondary', onclick: () => guarded(showDepartment) }, '再読み込み'),
  );
}

function renderDepartment() {
  const e = state.evaluation;
  const department = state.me.department?.name ?? '所管課';
  document.title = `${department} ${e.fiscal_year_label} | KPI進捗管理`;
  const returned = state.departmentRows.filter((row) => rowState(row) === 'returned');
  $('app-view').replaceChildren(
    indicatorTabs(),
    departmentToolbar(),
    h('h1', { id: 'department-title' }, `${department}の指標 `, h('span', { class: 'year-label' }, e.fiscal_year_label)),
    h('p', { class: 'subtitle' }, e.plan_name, '・', h('span', { id: 'department-collection' }, departmentIntro(e.fiscal_year_label))),
    section(
      'returned',
      `差し戻された実績 ${returned.length}件`,
      returned.length
        ? h(
            'ul',
            { class: 'returned-list' },
            returned.map((row) =>
              h(
                'li',
                {},
                h('p', { class: 'returned-name' }, `${indicatorCode(row.indicator)} ${row.indicator.name}`),
                h('blockquote', { class: 'comment' }, h('p', {}, row.actual.review_comment ?? '（コメントなし）'), h('footer', {}, `本部より・${formatTimestamp(row.actual.reviewed_at)}`)),
                h('button', { type: 'button', onclick: () => guarded(() => openActualForm(row.indicator.indicator_id)) }, '修正して再提出する', h('span', { class: 'visually-hidden' }, `: ${row.indicator.name}`)),
              ),
            ),
          )
        : h('p', { class: 'empty' }, '差し戻された実績はありません。'),
    ),
    section(
      'mine',
      `${e.fiscal_year_label}の指標 ${state.departmentRows.length}件`,
      h(
        'div',
        { class: 'table-scroll wide', tabindex: '0', role: 'region', 'aria-label': '担当する指標' },
        h(
          'table',
          { id: 'department-table', class: 'stacked' },
          h('caption', {}, `${department}が報告する指標（${e.fiscal_year_label}）`),
          h('thead', {}, h('tr', {}, DEPARTMENT_COLUMNS.map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', { id: 'department-rows' }),
        ),
      ),
    ),
  );
  renderDepartmentRows();
}

const DEPARTMENT_COLUMNS = ['施策', '指標', '種類', '目標', '提出状況', '提出した値', '版', '本部のコメント', '操作'];

function renderDepartmentRows() {
  const measures = new Map(state.evaluation.measures.map((m) => [m.measure_id, m]));
  $('department-rows').replaceChildren(
    ...state.departmentRows.map((row) => {
      const i = row.indicator;
      const status = rowState(row);
      const approved = status === 'approved';
      const cells = [
        h('td', {}, h('span', { class: 'code' }, `施策${i.measure_number}`), ' ', measures.get(i.measure_id)?.name ?? ''),
        h('th', { scope: 'row' }, i.number !== null ? h('span', { class: 'code' }, `指標${i.number}`) : null, ' ', indicatorLink(i)),
        h('td', {}, kindLabel(i.kind), i.unit && i.kind === 'count' ? h('span', { class: 'sub' }, i.unit) : null),
        h('td', {}, i.target?.text ?? '—'),
        h('td', { class: 'cell-submission' }, submissionBadge(status)),
        h('td', { class: 'cell-value' }, row.actual ? formatFigures(row.actual, i.unit) : '—', row.actual?.is_sample ? h('span', { class: 'badge sample' }, 'サンプル') : null),
        h('td', { class: 'cell-version num' }, row.actual ? `版${row.actual.version}` : '—'),
        h('td', {}, status === 'returned' ? row.actual.review_comment ?? '' : ''),
        h(
          'td',
          {},
          h(
            'button',
            { type: 'button', class: approved ? 'small secondary' : 'small', onclick: () => guarded(() => openActualForm(i.indicator_id)) },
            approved ? '確認' : row.actual ? '修正' : '入力',
            h('span', { class: 'visually-hidden' }, `: ${i.name}`),
          ),
        ),
      ];
      return h('tr', { id: `mine-${i.indicator_id}`, dataset: { indicatorId: i.indicator_id, submission: status }, tabindex: '-1' }, labelled(cells, DEPARTMENT_COLUMNS));
    }),
  );
}

function inputField(name, label, { value = '', hint, type = 'text', inputmode = 'decimal' } = {}) {
  const id = `actual-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    h('input', { id, name, type, inputmode, value: value ?? '', autocomplete: 'off', 'aria-describedby': `${id}-error${hint ? ` ${id}-hint` : ''}` }),
    h('p', { class: 'field-error', id: `${id}-error`, 'data-field': name }),
  );
}

const asText = (value) => (value === null || value === undefined ? '' : String(value));

async function openActualForm(indicatorId) {
  const row = state.departmentRows.find((r) => r.indicator.indicator_id === indicatorId);
  const [definition, current] = await Promise.all([api.get(`/indicators/${indicatorId}`), fetchActual(indicatorId)]);
  Object.assign(row, current);
  state.form = { row, definition: definition.data };
  renderDepartmentRows();
  const i = row.indicator;
  const d = definition.data;
  const actual = row.actual;
  $('actual-title').textContent = `実績の入力: ${i.name}`;
  renderFormContext();
  let fields;
  if (i.kind === 'ratio') {
    fields = [
      inputField('numerator', `分子: ${d.numerator_label ?? '分子'}`, { value: asText(actual?.numerator) }),
      inputField('denominator', `分母: ${d.denominator_label ?? '分母'}`, { value: asText(actual?.denominator), hint: '0より大きい数。割合(%)はサーバーが計算します。' }),
      h('p', { id: 'actual-rate', class: 'hint', 'aria-live': 'polite' }),
    ];
  } else if (i.kind === 'milestone') {
    fields = [
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'actual-stage' }, '到達した段階'),
        h('select', { id: 'actual-stage', name: 'stage', 'aria-describedby': 'actual-stage-error' }, h('option', { value: '' }, '選択してください'), d.stages.map((stage, index) => h('option', { value: index, selected: actual?.stage === index }, `${index}: ${stage}`))),
        h('p', { class: 'field-error', id: 'actual-stage-error', 'data-field': 'stage' }),
      ),
    ];
  } else {
    fields = [inputField('value', `実績値${i.unit ? `（${i.unit}）` : ''}`, { value: asText(actual?.value) })];
  }
  $('actual-fields').replaceChildren(...fields);
  $('actual-note').value = actual?.note ?? '';
  $('actual-error').textContent = '';
  $('actual-conflict').hidden = true;
  showFieldErrors($('actual-form'), []);
  const closed = actual?.status === 'approved';
  $('actual-submit').hidden = closed;
  for (const input of $('actual-form').querySelectorAll('input, select, textarea')) input.disabled = closed;
  if (closed) $('actual-error').textContent = '承認済みのため変更できません。修正が必要な場合は本部に再開を依頼してください。';
  updateRatePreview();
  $('actual-dialog').showModal();
  ($('actual-form').querySelector('input:not([disabled]), select:not([disabled])') ?? $('actual-cancel')).focus();
}

/** What the form is about, and the actual as last read from the server. */
function renderFormContext() {
  const { row } = state.form;
  const i = row.indicator;
  const actual = row.actual;
  $('actual-context').replaceChildren(
    definitionList([
      ['年度', state.evaluation.fiscal_year_label],
      ['種類', `${kindLabel(i.kind)}${i.unit ? `（単位: ${i.unit}）` : ''}`],
      ['基準値', i.baseline?.text],
      ['目標', i.target?.text],
      ['現在の状態', actual ? h('span', {}, submissionBadge(actual.status), ` 版${actual.version}・${formatFigures(actual, i.unit)}`) : '未提出'],
      ['本部のコメント', actual?.review_comment],
    ]),
  );
}

function updateRatePreview() {
  const preview = $('actual-rate');
  if (!preview) return;
  const numerator = Number($('actual-numerator').value);
  const denominator = Number($('actual-denominator').value);
  preview.textContent = $('actual-numerator').value && denominator > 0 && Number.isFinite(numerator) ? `割合の目安: ${formatPercent((numerator / denominator) * 100)}` : '';
}

function formBody() {
  const { row } = state.form;
  const body = { note: $('actual-note').value.trim() };
  const missing = [];
  const take = (name) => {
    const value = $(`actual-${name}`).value.trim().replace(/,/g, '');
    if (value === '') missing.push({ field: name, message: '入力してください。' });
    else body[name] = name === 'stage' ? Number(value) : value;
  };
  if (row.indicator.kind === 'ratio') ['numerator', 'denominator'].forEach(take);
  else if (row.indicator.kind === 'milestone') take('stage');
  else take('value');
  return { body, missing };
}

async function submitActual(event) {
  event.preventDefault();
  const { row } = state.form;
  const form = $('actual-form');
  $('actual-error').textContent = '';
  const { body, missing } = formBody();
  showFieldErrors(form, missing);
  if (missing.length) return;
  const button = $('actual-submit');
  button.disabled = true;
  try {
    const { data, etag } = await api.call('PUT', `/indicators/${row.indicator.indicator_id}/actuals/${state.year}`, {
      body,
      headers: row.etag ? { 'If-Match': row.etag } : {},
    });
    row.actual = data;
    row.etag = etag;
    $('actual-conflict').hidden = true;
    $('actual-dialog').close();
    renderDepartment();
    notify(`「${row.indicator.name}」の実績を送信しました（版${data.version}・${formatFigures(data, row.indicator.unit)}）。本部の確認を待っています。`);
    $(`mine-${row.indicator.indicator_id}`)?.querySelector('button')?.focus();
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status === 401) throw error;
    if (error.status === 412 || error.status === 428) {
      // Someone else wrote this actual since it was read: show what is there now, keep the input.
      Object.assign(row, await fetchActual(row.indicator.indicator_id));
      renderDepartmentRows();
      renderFormContext();
      const now = row.actual;
      $('actual-conflict').hidden = false;
      $('actual-conflict').replaceChildren(
        h('p', {}, h('strong', {}, '他の人がこの実績を変更しました。'), ' あなたがこの画面を開いた後に、別の人（または別の画面）が保存しています。'),
        now
          ? definitionList([
              ['現在の値', h('strong', { id: 'conflict-value' }, formatFigures(now, row.indicator.unit))],
              ['現在の版', h('span', { id: 'conflict-version' }, `版${now.version}`)],
              ['状態', submissionLabel(now.status)],
              ['備考', now.note],
              ['保存日時', formatTimestamp(now.submitted_at)],
            ])
          : null,
        h('p', {}, '入力した内容はそのまま残しています。現在の値を確認し、上書きしてよければもう一度「送信する」を押してください。'),
      );
      if (now?.status === 'approved') {
        $('actual-submit').hidden = true;
        $('actual-error').textContent = 'この実績はすでに承認されたため変更できません。';
      }
      $('actual-conflict').focus();
    } else if (error.status === 409) {
      $('actual-error').textContent = clerkMessage(error.problem.detail) ?? '承認済みの実績は、本部が再開するまで変更できません。';
    } else {
      const unplaced = showFieldErrors(form, error.fieldErrors);
      $('actual-error').textContent = [error.status === 422 ? '入力内容を確認してください。' : describeError(error), ...unplaced].filter(Boolean).join(' ');
    }
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- start

function start() {
  api.onSessionExpired((message) => {
    showLogin(message);
    notify(message, 'error');
  });
  $('login-form').addEventListener('submit', onLogin);
  $('logout-button').addEventListener('click', () => guarded(logout));
  $('login-municipality').addEventListener('input', oidc.updatePasswordForm);
  $('review-approve').addEventListener('click', () => guarded(() => submitReview('approve')));
  $('review-return').addEventListener('click', () => guarded(() => submitReview('return')));
  $('review-reopen').addEventListener('click', () => guarded(() => submitReview('reopen')));
  $('review-cancel').addEventListener('click', () => $('review-dialog').close());
  $('review-form').addEventListener('submit', (event) => event.preventDefault());
  $('actual-form').addEventListener('submit', (event) => guarded(() => submitActual(event)));
  $('actual-form').addEventListener('input', (event) => {
    if (event.target.name === 'numerator' || event.target.name === 'denominator') updateRatePreview();
  });
  $('actual-cancel').addEventListener('click', () => $('actual-dialog').close());
  $('bulk-confirm').addEventListener('click', () => guarded(approveSelected));
  $('bulk-cancel').addEventListener('click', () => $('bulk-dialog').close());
  window.addEventListener('popstate', onHistory);
  $('actual-conflict').setAttribute('tabindex', '-1');
  oidc.showProviderButtons();
  const redirect = oidc.takeLoginRedirect();
  if (redirect.error) {
    showLogin(oidc.loginErrorMessage(redirect.error));
  } else if (redirect.ticket) {
    oidc.exchangeTicket(redirect.ticket).then((done) => (done ? guarded(enterApp) : showLogin(oidc.loginErrorMessage('expired'))));
  } else if (api.currentSession()) {
    guarded(enterApp).then(() => {
      if (!state.me && $('login-view').hidden) showLogin();
    });
  } else {
    showLogin();
  }
}

start();
