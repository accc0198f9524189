// 施策評価 (measure evaluations) for the plan and year the user is on. A department lists the
// measures it owns with where its evaluation stands and submits or corrects it; the 本部 reads every
// owning department's evaluation of a measure side by side, approves, returns or reopens them, and
// records its own 本部評価 and 方向性 with the plan revisions they led to. Only the public API is
// used; the rules (a reason when off plan, the plan's 方向性, If-Match) are the API's.

import * as api from './api.js';
import { h, section, definitionList } from './dom.js';
import { ROADMAP_PROGRESS, REVIEW_DONE, roadmapProgressLabel, submissionLabel, formatTimestamp, clerkMessage } from './labels.js';

const PLAN_LINK_KINDS = {
  target_revision: '目標の見直し',
  indicator_added: '指標の追加',
  measure_completed: '施策の完了',
  measure_retired: '施策の廃止',
};

/** The page's state: what `renderEvaluationsPage` was given, the year's measures, what is open. */
let view = null;

const canReview = () => ['hq', 'admin'].includes(view.ctx.role);
const isDepartment = () => view.ctx.role === 'department';
const evaluationPath = (measureId) => `/measures/${measureId}/evaluations/${view.ctx.year}`;

/** The two screens of a plan and year, as tabs: the indicators' and the 施策評価. */
export function viewTabs(active, { onIndicators, onEvaluations }) {
  const tab = (key, label, onclick) =>
    h('button', { type: 'button', class: `tab${active === key ? ' tab-active' : ''}`, id: `tab-${key}`, 'aria-current': active === key ? 'page' : null, onclick: active === key ? null : onclick }, label);
  return h('nav', { class: 'view-tabs', 'aria-label': '画面の切り替え' }, tab('indicators', '指標の実績', onIndicators), tab('evaluations', '施策評価', onEvaluations));
}

/**
 * Loads and renders the 施策評価 of `ctx.plan` and `ctx.year` into `container`. `ctx`: plan, year,
 * years (`[{value, label}]`), role, departmentId, onYear(year), onIndicators(), and ui (notify,
 * describeError, showFieldErrors, guarded) shared with the other screens.
 */
export async function renderEvaluationsPage(container, ctx) {
  view = { ctx, container, measures: [], detail: null };
  await loadMeasures();
  render();
}

async function loadMeasures() {
  const { plan, year } = view.ctx;
  const list = await api.get(`/plans/${plan.id}/measure-evaluations?fiscal_year=${year}&limit=500`);
  view.measures = api.items(list.data);
}

function mySlot(measure) {
  return measure.departments.find((d) => d.department_id === view.ctx.departmentId) ?? null;
}

function render() {
  const { ctx } = view;
  const yearLabel = ctx.years.find((y) => y.value === ctx.year)?.label ?? `${ctx.year}年度`;
  document.title = `施策評価 ${yearLabel} | ${ctx.plan.name}`;
  view.container.replaceChildren(
    viewTabs('evaluations', { onIndicators: ctx.onIndicators, onEvaluations: () => {} }),
    toolbar(),
    h('h1', { id: 'evaluations-title' }, h('span', { class: 'plan-name' }, ctx.plan.name), h('span', { class: 'year-label' }, yearLabel), ' 施策評価'),
    h('p', { class: 'subtitle' }, isDepartment() ? '所管する推進施策について、この年度の取組実績・ロードマップの進捗・自己評価などを入力し、本部に提出してください。' : '所管課の評価を確認して承認・差戻しを行い、本部評価と方向性を記録します。'),
    isDepartment() ? departmentList() : hqList(),
    h('div', { id: 'evaluation-detail' }),
  );
}

function toolbar() {
  const { ctx } = view;
  const yearSelect = h(
    'select',
    { id: 'year-select', onchange: (event) => ctx.onYear(Number(event.target.value)) },
    ctx.years.map((y) => h('option', { value: y.value, selected: y.value === ctx.year }, y.label)),
  );
  return h(
    'div',
    { class: 'toolbar', role: 'group', 'aria-label': '表示する年度' },
    h('div', { class: 'field inline' }, h('label', { for: 'year-select' }, '年度'), yearSelect),
    h('button', { type: 'button', class: 'secondary', onclick: () => ctx.ui.guarded(reload) }, '再読み込み'),
  );
}

async function reload() {
  await loadMeasures();
  const open = view.detail;
  render();
  if (open?.kind === 'department') await openDepartmentForm(open.measureId);
  if (open?.kind === 'hq') await openMeasure(open.measureId);
}

function sampleBadge(record) {
  return record?.is_sample ? h('span', { class: 'badge sample', title: 'デモ用に自動生成した文章です。区の実際の評価ではありません。' }, 'サンプル') : null;
}

function submissionBadge(state) {
  return h('span', { class: `badge submission-${state}` }, submissionLabel(state));
}

function roadmapText(measure) {
  if (!measure.roadmap.length) return 'ロードマップの記載なし';
  return measure.roadmap.map((step) => (step.track ? `${step.track}: ${step.activity}` : step.activity)).join('、');
}

function measureName(measure) {
  return [h('span', { class: 'code' }, `施策${measure.measure_number}`), ' ', measure.measure_name];
}

// ---------------------------------------------------------------- 所管課

const DEPARTMENT_COLUMNS = ['施策', 'この年度のロードマップ', '提出状況', '自己評価', '本部のコメント', '操作'];

function departmentList() {
  const mine = view.measures.filter((m) => mySlot(m));
  const rows = mine.map((measure) => {
    const slot = mySlot(measure);
    const evaluation = slot.evaluation;
    const cells = [
      h('th', { scope: 'row' }, measureName(measure)),
      h('td', {}, roadmapText(measure)),
      h('td', { class: 'cell-submission' }, submissionBadge(slot.submission), sampleBadge(evaluation)),
      h('td', {}, evaluation ? evaluation.self_grade : '—'),
      h('td', { class: 'cell-comment' }, slot.submission === 'returned' ? h('blockquote', { class: 'comment' }, h('p', {}, evaluation.review_comment ?? '（コメントなし）'), h('footer', {}, `本部より・${formatTimestamp(evaluation.reviewed_at)}`)) : ''),
      h(
        'td',
        {},
        h(
          'button',
          { type: 'button', class: slot.submission === 'approved' ? 'small secondary' : 'small', onclick: () => view.ctx.ui.guarded(() => openDepartmentForm(measure.measure_id)) },
          { missing: '入力', returned: '修正して再提出', submitted: '修正', approved: '確認' }[slot.submission] ?? '開く',
          h('span', { class: 'visually-hidden' }, `: ${measure.measure_name}`),
        ),
      ),
    ];
    cells.forEach((cell, index) => cell.tagName === 'TD' && (cell.dataset.label = DEPARTMENT_COLUMNS[index]));
    return h('tr', { id: `measure-eval-${measure.measure_id}`, dataset: { submission: slot.submission }, tabindex: '-1' }, cells);
  });
  const counts = Object.fromEntries(['missing', 'returned', 'submitted', 'approved'].map((s) => [s, mine.filter((m) => mySlot(m).submission === s).length]));
  return section(
    'evaluation-list',
    `担当する推進施策 ${mine.length}件`,
    h('p', { id: 'evaluation-counts' }, `未提出 ${counts.missing}件・差戻し ${counts.returned}件・確認待ち ${counts.submitted}件・承認済 ${counts.approved}件`),
    mine.length
      ? h(
          'div',
          { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': '担当する推進施策' },
          h('table', { id: 'evaluation-measures', class: 'stacked' }, h('thead', {}, h('tr', {}, DEPARTMENT_COLUMNS.map((label) => h('th', { scope: 'col' }, label)))), h('tbody', {}, rows)),
        )
      : h('p', { class: 'empty' }, 'この年度に所管する推進施策はありません。'),
  );
}

/** The department's own evaluation with its ETag, or nothing yet (404). */
async function fetchOwnEvaluation(measureId, departmentId) {
  try {
    const { data, etag } = await api.get(`${evaluationPath(measureId)}/departments/${departmentId}`);
    return { evaluation: data, etag };
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 404) return { evaluation: null, etag: null };
    throw error;
  }
}

function textArea(name, label, value, { hint, rows = 3 } = {}) {
  const id = `evaluation-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    h('textarea', { id, name, rows, 'aria-describedby': `${id}-error${hint ? ` ${id}-hint` : ''}` }, value ?? ''),
    h('p', { class: 'field-error', id: `${id}-error`, 'data-field': name }),
  );
}

function choiceField(name, label, options, selected) {
  const id = `evaluation-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, name, 'aria-describedby': `${id}-error` }, h('option', { value: '' }, '選択してください'), options.map(([value, text]) => h('option', { value, selected: value === selected }, text))),
    h('p', { class: 'field-error', id: `${id}-error`, 'data-field': name }),
  );
}

function gradeOptions(measure) {
  return measure.grading_scale.map((step) => [step.grade, `${step.grade}（${step.description}）`]);
}

async function openDepartmentForm(measureId) {
  const measure = view.measures.find((m) => m.measure_id === measureId);
  const departmentId = view.ctx.departmentId;
  // Nothing to fetch where the list says nothing was submitted (a 404 would only be noise).
  const missing = mySlot(measure)?.submission === 'missing';
  const { evaluation, etag } = missing ? { evaluation: null, etag: null } : await fetchOwnEvaluation(measureId, departmentId);
  view.detail = { kind: 'department', measureId, etag, evaluation };
  const closed = evaluation?.status === 'approved';
  const form = h(
    'form',
    { id: 'evaluation-form', novalidate: true, onsubmit: (event) => { event.preventDefault(); view.ctx.ui.guarded(() => submitDepartmentEvaluation(measure)); } },
    formContext(measure, evaluation),
    h('div', { id: 'evaluation-conflict', class: 'conflict', role: 'alert', tabindex: '-1', hidden: true }),
    h('fieldset', { class: 'plain', disabled: closed },
      textArea('work_done', '取組実績（必須）', evaluation?.work_done, { rows: 4 }),
      choiceField('roadmap_progress', 'ロードマップの進捗', ROADMAP_PROGRESS, evaluation?.roadmap_progress),
      textArea('progress_reason', '進捗の理由', evaluation?.progress_reason, { hint: '「前倒し」「遅れ」「未着手」のときは理由を入力してください。' }),
      choiceField('self_grade', '自己評価', gradeOptions(measure), evaluation?.self_grade),
      textArea('issues', '課題', evaluation?.issues),
      textArea('next_steps', '今後の方向性', evaluation?.next_steps),
    ),
    h('p', { id: 'evaluation-error', class: 'form-error', role: 'alert' }, closed ? '承認済みのため変更できません。修正が必要な場合は本部に再開を依頼してください。' : ''),
    h(
      'div',
      { class: 'actions' },
      closed ? null : h('button', { type: 'submit', id: 'evaluation-submit' }, evaluation ? '修正して提出する' : '提出する'),
      h('button', { type: 'button', class: 'secondary', onclick: closeDetail }, '閉じる'),
    ),
  );
  showDetail(section('evaluation-editor', `施策評価の入力: 施策${measure.measure_number} ${measure.measure_name}`, form), { focusField: true });
}

/** Shows a measure's form or page under the list; focus goes to its first field, else its heading. */
/** What the department's form is about, and its evaluation as last read from the server. */
function formContext(measure, evaluation) {
  const facts = definitionList([
    ['年度', measure.fiscal_year_label],
    ['この年度のロードマップ', roadmapText(measure)],
    ['現在の状態', evaluation ? h('span', {}, submissionBadge(evaluation.status), sampleBadge(evaluation), ` 版${evaluation.version}・${formatTimestamp(evaluation.submitted_at)}`) : '未提出'],
    [evaluation?.status === 'returned' ? '本部のコメント' : '前回の本部のコメント', evaluation?.review_comment],
  ]);
  facts.id = 'evaluation-context';
  return facts;
}

function showDetail(content, { focusField = false } = {}) {
  const slot = document.getElementById('evaluation-detail');
  slot.replaceChildren(content);
  content.scrollIntoView({ block: 'start' });
  const heading = content.querySelector('h2');
  heading.setAttribute('tabindex', '-1');
  const field = focusField ? content.querySelector('textarea:not([disabled]), select:not([disabled])') : null;
  (field ?? heading).focus({ preventScroll: true });
}

function closeDetail() {
  const open = view.detail;
  view.detail = null;
  document.getElementById('evaluation-detail').replaceChildren();
  document.getElementById(`measure-eval-${open?.measureId}`)?.focus();
}

function formValues(form, names) {
  return Object.fromEntries(names.map((name) => [name, form.elements[name].value.trim()]));
}

async function submitDepartmentEvaluation(measure) {
  const form = document.getElementById('evaluation-form');
  const { ui } = view.ctx;
  const body = formValues(form, ['work_done', 'roadmap_progress', 'progress_reason', 'self_grade', 'issues', 'next_steps']);
  document.getElementById('evaluation-error').textContent = '';
  ui.showFieldErrors(form, []);
  const button = document.getElementById('evaluation-submit');
  button.disabled = true;
  try {
    const { data } = await api.call('PUT', `${evaluationPath(measure.measure_id)}/departments/${view.ctx.departmentId}`, {
      body,
      headers: view.detail.etag ? { 'If-Match': view.detail.etag } : {},
    });
    await loadMeasures();
    view.detail = null;
    render();
    ui.notify(`「${measure.measure_name}」の施策評価を提出しました（版${data.version}）。本部の確認を待っています。`);
    document.getElementById(`measure-eval-${measure.measure_id}`)?.focus();
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status === 401) throw error;
    await explainRefusal(error, form, measure);
  } finally {
    button.disabled = false;
  }
}

/** A refused submission: a change by someone else is shown (the input kept), field errors placed. */
async function explainRefusal(error, form, measure) {
  const message = document.getElementById('evaluation-error');
  if (error.status === 412 || error.status === 428) {
    const { evaluation, etag } = await fetchOwnEvaluation(measure.measure_id, view.ctx.departmentId);
    view.detail = { ...view.detail, evaluation, etag };
    await loadMeasures();
    // The list and the form's header say what is there now; the input below is left as typed.
    document.getElementById('evaluation-list').replaceWith(departmentList());
    document.getElementById('evaluation-context').replaceWith(formContext(measure, evaluation));
    const conflict = document.getElementById('evaluation-conflict');
    conflict.hidden = false;
    conflict.replaceChildren(
      h('p', {}, h('strong', {}, '他の人がこの施策評価を変更しました。'), ' この画面を開いた後に、別の人（または別の画面）が保存しています。最新の内容を読み込みました。'),
      evaluation
        ? definitionList([
            ['現在の版', h('span', { id: 'evaluation-conflict-version' }, `版${evaluation.version}`)],
            ['状態', submissionLabel(evaluation.status)],
            ['取組実績', evaluation.work_done],
            ['ロードマップの進捗', evaluation.progress_reason ? `${evaluation.roadmap_progress_label}（理由: ${evaluation.progress_reason}）` : evaluation.roadmap_progress_label],
            ['自己評価', evaluation.self_grade],
            ['課題', evaluation.issues],
            ['今後の方向性', evaluation.next_steps],
            ['保存日時', formatTimestamp(evaluation.submitted_at)],
          ])
        : null,
      h('p', {}, '入力した内容はそのまま残しています。現在の内容を確認し、上書きしてよければもう一度提出してください。'),
    );
    conflict.focus();
  } else if (error.status === 409) {
    message.textContent = clerkMessage(error.problem.detail) ?? '承認済みの施策評価は、本部が再開するまで変更できません。';
  } else {
    const unplaced = view.ctx.ui.showFieldErrors(form, error.fieldErrors);
    message.textContent = [error.status === 422 ? '入力内容を確認してください。' : view.ctx.ui.describeError(error), ...unplaced].filter(Boolean).join(' ');
  }
}

// ---------------------------------------------------------------- 本部

const HQ_COLUMNS = ['施策', '所管課の提出状況', '本部評価', '方向性', '操作'];

function hqList() {
  const slots = view.measures.flatMap((m) => m.departments);
  const count = (state) => slots.filter((d) => d.submission === state).length;
  const rows = view.measures.map((measure) => {
    const a = measure.assessment;
    const cells = [
      h('th', { scope: 'row' }, measureName(measure)),
      h('td', { class: 'cell-departments' }, h('ul', { class: 'slot-list' }, measure.departments.map((d) => h('li', {}, `${d.department_name} `, submissionBadge(d.submission))))),
      h('td', { class: 'cell-grade' }, a ? a.hq_grade : '未記録', sampleBadge(a)),
      h('td', {}, a ? a.direction : '—'),
      h('td', {}, h('button', { type: 'button', class: 'small', onclick: () => view.ctx.ui.guarded(() => openMeasure(measure.measure_id)) }, '開く', h('span', { class: 'visually-hidden' }, `: ${measure.measure_name}`))),
    ];
    cells.forEach((cell, index) => cell.tagName === 'TD' && (cell.dataset.label = HQ_COLUMNS[index]));
    return h('tr', { id: `measure-eval-${measure.measure_id}`, tabindex: '-1' }, cells);
  });
  return section(
    'evaluation-list',
    `推進施策 ${view.measures.length}件`,
    h('p', { id: 'evaluation-counts' }, `所管課の評価: 確認待ち ${count('submitted')}件・未提出 ${count('missing')}件・差戻し ${count('returned')}件・承認済 ${count('approved')}件／本部評価 記録済 ${view.measures.filter((m) => m.assessment).length}件`),
    h(
      'div',
      { class: 'table-scroll tall', tabindex: '0', role: 'region', 'aria-label': '推進施策の施策評価' },
      h('table', { id: 'evaluation-measures', class: 'stacked' }, h('thead', {}, h('tr', {}, HQ_COLUMNS.map((label) => h('th', { scope: 'col' }, label)))), h('tbody', {}, rows)),
    ),
  );
}

/** Everything the 本部's page of one measure needs: the year's evaluation, ETags, link candidates. */
async function loadMeasure(measureId) {
  const [year, measure, indicators, origins] = await Promise.all([
    api.get(evaluationPath(measureId)).then((r) => r.data),
    api.get(`/measures/${measureId}`).then((r) => r.data),
    api.get(`/measures/${measureId}/indicators?limit=100`).then((r) => api.items(r.data)),
    api.get(`/measures/${measureId}/revision-origins?limit=100`).then((r) => api.items(r.data)),
  ]);
  const etags = new Map();
  await api.mapLimited(year.departments.filter((d) => d.evaluation), 3, async (d) => {
    etags.set(d.department_id, (await api.get(`${evaluationPath(measureId)}/departments/${d.department_id}`)).etag);
  });
  const assessmentEtag = year.assessment ? (await api.get(`${evaluationPath(measureId)}/assessment`)).etag : null;
  const targets = await api.mapLimited(indicators, 3, async (i) => ({ indicator: i, targets: api.items((await api.get(`/indicators/${i.id}/targets?limit=100`)).data) }));
  return { year, measure, targets, origins, etags, assessmentEtag };
}

async function openMeasure(measureId) {
  const loaded = await loadMeasure(measureId);
  view.detail = { kind: 'hq', measureId, ...loaded };
  const { year } = loaded;
  showDetail(
    section(
      'measure-evaluation',
      `施策${year.measure_number} ${year.measure_name}（${year.fiscal_year_label}）`,
      definitionList([
        ['この年度のロードマップ', roadmapText(year)],
        ['評価の尺度', year.grading_scale.map((s) => `${s.grade}: ${s.description}`).join('／')],
      ]),
      h('h3', {}, '所管課の評価'),
      h('div', { class: 'eval-cards' }, year.departments.map(departmentCard)),
      h('h3', {}, '本部評価と方向性'),
      assessmentPart(),
      h('h3', {}, 'この施策の改定の経緯（施策評価から）'),
      originsPart(loaded.origins),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: closeDetail }, '閉じる')),
    ),
  );
}

function evaluationFacts(e) {
  return definitionList([
    ['取組実績', e.work_done],
    ['ロードマップの進捗', e.progress_reason ? `${e.roadmap_progress_label}（理由: ${e.progress_reason}）` : e.roadmap_progress_label],
    ['自己評価', e.self_grade],
    ['課題', e.issues],
    ['今後の方向性', e.next_steps],
    ['版', `版${e.version}・${formatTimestamp(e.submitted_at)}`],
    ['本部のコメント', e.review_comment],
  ]);
}

function departmentCard(slot) {
  const e = slot.evaluation;
  const heading = h('h4', {}, slot.department_name, slot.is_lead ? h('span', { class: 'badge lead' }, '主管') : null, slot.owns ? null : h('span', { class: 'badge lead' }, '前所管'));
  const card = h('article', { class: 'eval-card', dataset: { departmentId: slot.department_id, submission: slot.submission } }, heading, h('p', {}, submissionBadge(slot.submission), sampleBadge(e)));
  if (!e) {
    card.append(h('p', { class: 'empty' }, 'まだ提出されていません。'));
    return card;
  }
  card.append(evaluationFacts(e));
  if (canReview()) card.append(reviewControls(slot));
  return card;
}

function reviewControls(slot) {
  const status = slot.evaluation.status;
  const id = `review-comment-${slot.department_id}`;
  const controls = h('div', { class: 'review-controls' });
  if (status === 'returned') {
    controls.append(h('p', { class: 'hint' }, '差し戻し中です。所管課の再提出を待っています。'));
    return controls;
  }
  const act = (action) => () => view.ctx.ui.guarded(() => reviewEvaluation(slot, action, controls));
  controls.append(
    h('div', { class: 'field' }, h('label', { for: id }, 'コメント（差戻し・再開には必須）'), h('textarea', { id, name: 'comment', rows: 2, 'aria-describedby': `${id}-error` }), h('p', { class: 'field-error', id: `${id}-error`, 'data-field': 'comment' })),
    h('p', { class: 'form-error review-error', role: 'alert' }),
    h(
      'div',
      { class: 'actions' },
      status === 'submitted' ? h('button', { type: 'button', onclick: act('approve') }, '承認する') : null,
      status === 'submitted' ? h('button', { type: 'button', class: 'warning', onclick: act('return') }, '差し戻す') : null,
      status === 'approved' ? h('button', { type: 'button', class: 'warning', onclick: act('reopen') }, '承認を取り消して再開する') : null,
    ),
  );
  return controls;
}

async function reviewEvaluation(slot, action, controls) {
  const { ui } = view.ctx;
  const measureId = view.detail.measureId;
  const comment = controls.querySelector('textarea').value.trim();
  controls.querySelector('.review-error').textContent = '';
  ui.showFieldErrors(controls, []);
  try {
    await api.call('POST', `${evaluationPath(measureId)}/departments/${slot.department_id}/review`, {
      body: comment ? { action, comment } : { action },
      headers: { 'If-Match': view.detail.etags.get(slot.department_id) },
    });
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status === 401) throw error;
    if (error.status === 412 || error.status === 409) {
      await refreshMeasure();
      ui.notify(`開いた後に他の人が${slot.department_name}の施策評価を変更しました。最新の内容を表示しています。確認してからもう一度操作してください。`, 'error');
      return;
    }
    const unplaced = ui.showFieldErrors(controls, error.fieldErrors);
    const detail = error.fieldErrors.length ? null : clerkMessage(error.problem.detail);
    controls.querySelector('.review-error').textContent = [detail, ...unplaced].filter(Boolean).join(' / ') || ui.describeError(error);
    return;
  }
  await refreshMeasure();
  ui.notify(`${REVIEW_DONE[action]}: ${slot.department_name}（施策${view.detail.year.measure_number}）`);
}

/** Reads the open measure and the year's list again, after a write or a refusal. */
async function refreshMeasure() {
  const measureId = view.detail.measureId;
  await loadMeasures();
  render();
  await openMeasure(measureId);
}

function assessmentPart() {
  const { year } = view.detail;
  const a = year.assessment;
  const current = a
    ? h(
        'div',
        { id: 'assessment-current', class: 'assessment' },
        h('p', {}, h('strong', {}, `本部評価 ${a.hq_grade}・方向性「${a.direction}」`), sampleBadge(a), h('span', { class: 'sub' }, `版${a.version}・${formatTimestamp(a.recorded_at)}`)),
        definitionList([
          ['本部のコメント', a.hq_comment],
          ['方向性の理由', a.direction_reason],
          ['計画への反映', a.plan_links.length ? h('ul', { class: 'links' }, a.plan_links.map((link) => h('li', {}, link.description))) : 'なし'],
        ]),
      )
    : h('p', { id: 'assessment-current', class: 'empty' }, '本部評価はまだ記録されていません。');
  return h('div', {}, current, canReview() ? assessmentForm() : null);
}

/** The revisions an assessment may link: the measure's indicators, their targets, its status. */
function linkCandidates() {
  const { measure, targets, year } = view.detail;
  const candidates = [];
  for (const { indicator, targets: revisions } of targets) {
    const name = `${indicator.number !== null && indicator.number !== undefined ? `指標${indicator.number} ` : ''}${indicator.name}`;
    candidates.push({ kind: 'indicator_added', id: indicator.id, text: `${PLAN_LINK_KINDS.indicator_added}: ${name}` });
    for (const t of revisions) {
      candidates.push({ kind: 'target_revision', id: t.id, text: `${PLAN_LINK_KINDS.target_revision}: ${name} 目標 ${t.text ?? t.value ?? t.stage_name ?? ''}（${t.target_fiscal_year_label}、${t.effective_from_fiscal_year_label}から）` });
    }
  }
  if (measure.status === 'completed') candidates.push({ kind: 'measure_completed', id: measure.id, text: `${PLAN_LINK_KINDS.measure_completed}: 施策${measure.number}` });
  if (measure.status === 'retired') candidates.push({ kind: 'measure_retired', id: measure.id, text: `${PLAN_LINK_KINDS.measure_retired}: 施策${measure.number}` });
  // Links already recorded to revisions elsewhere stay offered, so that saving keeps them.
  for (const link of year.assessment?.plan_links ?? []) {
    if (!candidates.some((c) => c.kind === link.kind && c.id === link.id)) candidates.push({ kind: link.kind, id: link.id, text: link.description });
  }
  return candidates;
}

function assessmentForm() {
  const { year } = view.detail;
  const a = year.assessment;
  const linked = new Set((a?.plan_links ?? []).map((link) => `${link.kind}:${link.id}`));
  const candidates = linkCandidates();
  const form = h(
    'form',
    { id: 'assessment-form', novalidate: true, onsubmit: (event) => { event.preventDefault(); view.ctx.ui.guarded(() => saveAssessment(form, candidates)); } },
    choiceField('hq_grade', '本部評価', gradeOptions(year), a?.hq_grade),
    textArea('hq_comment', '本部のコメント', a?.hq_comment),
    choiceField('direction', '方向性', year.direction_options.map((d) => [d, d]), a?.direction),
    textArea('direction_reason', '方向性の理由（必須）', a?.direction_reason),
    h(
      'fieldset',
      { class: 'links-field' },
      h('legend', {}, '計画への反映（この評価を受けて行った計画の改定）'),
      candidates.length
        ? candidates.map((c, index) =>
            h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'plan_link', value: index, checked: linked.has(`${c.kind}:${c.id}`) }), ` ${c.text}`),
          )
        : h('p', { class: 'hint' }, 'この施策には結び付けられる改定がありません。'),
      h('p', { class: 'field-error', 'data-field': 'plan_links' }),
    ),
    h('p', { id: 'assessment-error', class: 'form-error', role: 'alert' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'assessment-submit' }, a ? '本部評価を更新する' : '本部評価を記録する')),
  );
  return form;
}

async function saveAssessment(form, candidates) {
  const { ui } = view.ctx;
  const { year, assessmentEtag, measureId } = view.detail;
  const body = formValues(form, ['hq_grade', 'hq_comment', 'direction', 'direction_reason']);
  body.plan_links = [...form.querySelectorAll('input[name="plan_link"]:checked')].map((box) => {
    const { kind, id } = candidates[Number(box.value)];
    return { kind, id };
  });
  document.getElementById('assessment-error').textContent = '';
  ui.showFieldErrors(form, []);
  try {
    await api.call('PUT', `${evaluationPath(measureId)}/assessment`, { body, headers: assessmentEtag ? { 'If-Match': assessmentEtag } : {} });
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status === 401) throw error;
    if (error.status === 412 || error.status === 428) {
      await refreshMeasure();
      ui.notify('開いた後に他の人が本部評価を変更しました。最新の内容を読み込みました。確認してからもう一度記録してください。', 'error');
      return;
    }
    // Errors of one link (`plan_links[0].id`) are shown under the list of links.
    const errors = error.fieldErrors.map((e) => (e.field.startsWith('plan_links') ? { ...e, field: 'plan_links' } : e));
    const unplaced = ui.showFieldErrors(form, errors);
    document.getElementById('assessment-error').textContent = [error.status === 422 ? '入力内容を確認してください。' : ui.describeError(error), ...unplaced].filter(Boolean).join(' ');
    return;
  }
  await refreshMeasure();
  ui.notify(`本部評価を記録しました: 施策${year.measure_number} ${year.measure_name}`);
}

function originsPart(origins) {
  if (!origins.length) return h('p', { id: 'revision-origins', class: 'empty' }, '施策評価から結び付けられた改定はありません。');
  return h(
    'ul',
    { id: 'revision-origins', class: 'links' },
    origins.map((o) => h('li', {}, `${o.fiscal_year_label}の施策評価（本部評価 ${o.hq_grade}・方向性「${o.direction}」）→ ${o.revision.description}`)),
  );
}
