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
