// Japanese labels for the API's codes, and number formatting. The API's own labels (和暦 years,
// goal and department names, target texts) are shown as they come; only codes are translated here.

/** Achievement status (docs/achievement.md), in the order the 進捗管理表 reads them. */
export const STATUSES = [
  ['achieved', '達成'],
  ['on_track', '順調'],
  ['behind', 'やや遅れ'],
  ['off_track', '遅れ'],
  ['deteriorating', '悪化'],
  ['not_achieved', '未達成'],
  ['no_data', 'データなし'],
  ['not_assessable', '評価不能'],
];

const STATUS_LABELS = Object.fromEntries(STATUSES);

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? status;
}

/** Where a department's actual stands in the yearly cycle. */
export const SUBMISSIONS = [
  ['missing', '未提出'],
  ['submitted', '確認待ち'],
  ['returned', '差戻し'],
  ['approved', '承認済'],
];

const SUBMISSION_LABELS = Object.fromEntries(SUBMISSIONS);

export function submissionLabel(state) {
  return SUBMISSION_LABELS[state] ?? state;
}

/** What a review (承認・差戻し・承認の取消し) did, as the notice after it says. */
export const REVIEW_DONE = { approve: '承認しました', return: '差し戻しました', reopen: '承認を取り消し、所管課が修正できるようにしました' };

/** How far a measure's roadmap step got in the year (施策評価), in the order forms offer them. */
export const ROADMAP_PROGRESS = [
  ['on_schedule', '予定どおり'],
  ['ahead', '前倒し'],
  ['delayed', '遅れ'],
  ['not_started', '未着手'],
  ['completed', '完了'],
];

const ROADMAP_PROGRESS_LABELS = Object.fromEntries(ROADMAP_PROGRESS);

export function roadmapProgressLabel(progress) {
  return ROADMAP_PROGRESS_LABELS[progress] ?? progress;
}

const KIND_LABELS = { count: '件数・数値', percent: '割合(%)', ratio: '比率(分子/分母)', milestone: '段階' };

export function kindLabel(kind) {
  return KIND_LABELS[kind] ?? kind;
}

const ROLE_LABELS = { admin: '管理者', hq: '本部', department: '所管課', viewer: '閲覧者' };

export function roleLabel(role) {
  return ROLE_LABELS[role] ?? role;
}

/** A decimal from the API (number or string) for display; `—` when absent. */
export function formatNumber(value, digits = 1) {
  if (value === null || value === undefined || value === '') return '—';
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  return number.toLocaleString('ja-JP', { maximumFractionDigits: digits });
}

export function formatPercent(value) {
  return value === null || value === undefined ? '—' : `${formatNumber(value)}%`;
}

/** The figures of an actual (or used actual) as the 進捗管理表 prints them. */
export function formatFigures(actual, unit = '') {
  if (!actual) return '—';
  if (actual.numerator !== null && actual.numerator !== undefined && actual.denominator !== null && actual.denominator !== undefined) {
    const rate = actual.rate !== null && actual.rate !== undefined ? ` (${formatPercent(actual.rate)})` : '';
    return `${formatNumber(actual.numerator, 6)} / ${formatNumber(actual.denominator, 6)}${rate}`;
  }
  if (actual.stage_name) return actual.stage_name;
  if (actual.stage !== null && actual.stage !== undefined) return `段階 ${actual.stage}`;
  if (actual.value !== null && actual.value !== undefined) {
    return `${formatNumber(actual.value, 6)}${unit && unit !== '%' ? ' ' : ''}${unit}`;
  }
  return '—';
}

/**
 * Timestamps: RFC 3339 with an offset, or (older servers) UTC without one.
 * Shown in the browser's zone, in Japanese.
 */
export function parseTimestamp(text) {
  if (!text) return null;
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(text);
  const date = new Date(hasZone ? text : `${text}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatTimestamp(text) {
  const date = parseTimestamp(text);
  if (!date) return text ?? '—';
  return date.toLocaleString('ja-JP', { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDate(text) {
  if (!text) return '—';
  const [year, month, day] = text.split('-').map(Number);
  if (!year || !month || !day) return text;
  return `${year}年${month}月${day}日`;
}

/** Where a department's indicators stand, in words: what is still to do first, else 完了. */
export function departmentProgress(counts) {
  const parts = [
    ['missing', '未提出'],
    ['returned', '差戻し'],
    ['submitted', '確認待ち'],
  ]
    .filter(([key]) => counts[key])
    .map(([key, label]) => `${label} ${counts[key]}件`);
  if (counts.late) parts.push(`うち期限超過 ${counts.late}件`);
  return parts.length ? parts.join('・') : '完了（すべて承認済）';
}

const FIELD_LABELS = {
  value: '実績値',
  numerator: '分子',
  denominator: '分母',
  stage: '段階',
  stage_name: '段階',
  note: '備考',
  comment: 'コメント',
  deadline: '提出期限',
  fiscal_year: '年度',
  body: '入力内容',
  action: '操作',
  work_done: '取組実績',
  roadmap_progress: 'ロードマップの進捗',
  progress_reason: '進捗の理由',
  self_grade: '自己評価',
  issues: '課題',
  next_steps: '今後の方向性',
  hq_grade: '本部評価',
  hq_comment: '本部のコメント',
  direction: '方向性',
  direction_reason: '方向性の理由',
  plan_links: '計画への反映',
};

/** A field of an API error, named as the form names it. */
export function fieldLabel(field) {
  return FIELD_LABELS[field] ?? field;
}

const JAPANESE = /[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]/;

/**
 * The part of an API message a clerk reads. The API writes 「日本語 (english)」: the English in
 * parentheses at the end is for developers and is left out here. A message with no Japanese at
 * all gives `null`, so the caller says it in Japanese instead.
 */
export function clerkMessage(message) {
  if (typeof message !== 'string' || !JAPANESE.test(message)) return null;
  for (let at = message.indexOf(' ('); at > 0; at = message.indexOf(' (', at + 1)) {
    const rest = message.slice(at + 2, -1);
    if (message.endsWith(')') && balanced(rest) && /[A-Za-z]{3,}/.test(rest) && JAPANESE.test(message.slice(0, at))) {
      return message.slice(0, at).trim();
    }
  }
  return message;
}

function balanced(text) {
  let depth = 0;
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Today's date in Japan as YYYY-MM-DD (deadlines are days in Japan). */
export function todayInJapan() {
  return new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Tokyo' });
}

/** The fiscal year (April–March) that today falls in, in Japan. */
export function currentFiscalYear() {
  const [year, month] = todayInJapan().split('-').map(Number);
  return month >= 4 ? year : year - 1;
}

const EVENT_LABELS = {
  submitted: '提出',
  corrected: '修正',
  resubmitted: '再提出',
  approved: '承認',
  returned: '差戻し',
  reopened: '承認取消（再開）',
};

/** What a version in an actual's history records. */
export function eventLabel(event) {
  return EVENT_LABELS[event] ?? event;
}

/** The 和暦 label of a fiscal year as the API writes it: 令和2(2020)年度, 令和元(2019)年度. */
export function fiscalYearLabel(year) {
  const [era, number] = year >= 2019 ? ['令和', year - 2018] : ['平成', year - 1988];
  return `${era}${number === 1 ? '元' : number}(${year})年度`;
}
