// The page of one indicator: its definition, its series over the years (across the chain of
// plans), the revisions of its target, and every version of its actual in the chosen year.
// Read-only; reached from the 進捗管理表 or a department's list, and back again.

import * as api from './api.js';
import { h, section, definitionList } from './dom.js';
import { trendChart, seriesLegend } from './charts.js';
import {
  statusLabel,
  submissionLabel,
  eventLabel,
  kindLabel,
  formatFigures,
  formatNumber,
  formatPercent,
  formatTimestamp,
} from './labels.js';

const DIRECTIONS = {
  increase: '増やす',
  decrease: '減らす',
  maintain_at_least: '維持する（以上）',
  maintain_at_most: '維持する（以下）',
  trend_up: '増加傾向（↑）',
  trend_down: '減少傾向（↓）',
  milestone: '段階の到達',
};

/** Every version of the year's actual, oldest first; none when nothing was submitted that year. */
async function historyOf(indicatorId, year) {
  // The years with an actual first: asking for a year without one would only be a 404.
  const actuals = api.items((await api.get(`/indicators/${indicatorId}/actuals?limit=100`)).data);
  if (!actuals.some((actual) => actual.fiscal_year === year)) return [];
  return api.items((await api.get(`/indicators/${indicatorId}/actuals/${year}/history?limit=100`)).data);
}

/**
 * Loads and renders the page of indicator `indicatorId` into `container`, with the actual's
 * history of `year`. `onBack` returns to where the user came from; `onYear` shows another year.
 */
export async function renderIndicatorPage(container, { indicatorId, year, evaluationRow, onBack, onYear }) {
  const [indicator, series, targets, history] = await Promise.all([
    api.get(`/indicators/${indicatorId}`).then((r) => r.data),
    api.get(`/indicators/${indicatorId}/series?limit=100`).then((r) => api.items(r.data)),
    api.get(`/indicators/${indicatorId}/targets?limit=100`).then((r) => api.items(r.data)),
    historyOf(indicatorId, year),
  ]);
  const stageName = (figures) => (figures?.stage !== null && figures?.stage !== undefined ? indicator.stages[figures.stage] : null);
  const figures = (actual) => (actual ? formatFigures({ ...actual, stage_name: actual.stage_name ?? stageName(actual) }, indicator.unit) : '—');
  const label = series.find((s) => s.fiscal_year === year)?.fiscal_year_label ?? `${year}年度`;
  document.title = `${indicator.name} | KPI進捗管理`;
  container.replaceChildren(
    h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'secondary', id: 'indicator-back', onclick: onBack }, '← 一覧に戻る')),
    h('h1', { id: 'indicator-title' }, evaluationRow ? h('span', { class: 'plan-name' }, `施策${evaluationRow.measure_number}${indicator.number !== null ? `-指標${indicator.number}` : ''}`) : null, indicator.name),
    section(
      'indicator-definition',
      '指標の定義',
      definitionList([
        ['種類', `${kindLabel(indicator.kind)}${indicator.unit ? `（単位: ${indicator.unit}）` : ''}`],
        ['方向', DIRECTIONS[indicator.direction] ?? indicator.direction],
        ['分子 / 分母', indicator.numerator_label ? `${indicator.numerator_label} / ${indicator.denominator_label ?? ''}` : null],
        ['段階', indicator.stages.length ? indicator.stages.map((s, i) => `${i}: ${s}`).join('、') : null],
        ['基準値', indicator.baseline?.text ? `${indicator.baseline.text}（${indicator.baseline.fiscal_year_label ?? ''}）` : null],
        ['現在の目標', indicator.current_target?.text ? `${indicator.current_target.text}（${indicator.current_target.target_fiscal_year_label}）` : null],
        ['所管課', evaluationRow?.department_names.join('、')],
        ['説明', indicator.description],
        ['国の定義', nationalDefinition(indicator)],
        ['読み方', indicator.reading_note],
      ]),
    ),
    renderSeries(series, figures),
    renderTargets(targets),
    renderHistory(history, { label, year, years: series.filter((s) => s.indicator_id === indicatorId).map((s) => s), figures, onYear }),
  );
}

/** The national definition an indicator is compared under, with the edition it was set under:
 * its name and date, or 「日付未登録」 where no source dates it (never a guessed date). */
function nationalDefinition(indicator) {
  const item = indicator.national_item;
  if (!item) return indicator.national_indicator_code;
  const edition = `${item.edition.name}（${item.edition.issued ?? '日付未登録'}）`;
  return `${indicator.national_indicator_code}: ${edition} 重点取組事項${item.item_number} ${item.item_name}`;
}

function renderSeries(series, figures) {
  const lines = [
    { name: '進捗率', values: series.map((s) => s.result.progress_rate) },
    { name: '達成率', values: series.map((s) => s.result.attainment_rate) },
  ];
  const text = lines.map((line) => `${line.name}: ${line.values.map((v, i) => `${series[i].fiscal_year_label} ${formatPercent(v)}`).join('、')}`).join('。');
  return section(
    'indicator-series',
    '年度別の推移',
    series.length > 1 && new Set(series.map((s) => s.plan_id)).size > 1 ? h('p', { class: 'hint' }, '前の計画から引き継いだ指標は、計画をまたいで表示しています。') : null,
    h('figure', {}, trendChart(series, lines, { caption: `年度別の推移。${text}` }), h('figcaption', {}, seriesLegend(lines))),
    h(
      'div',
      { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': '年度別の推移' },
      h(
        'table',
        { id: 'series-table' },
        h('caption', {}, '年度別の目標・実績（承認済みの値）と評価'),
        h('thead', {}, h('tr', {}, ['年度', '計画', '目標', '実績', '達成率', '進捗率', '状況', '評価'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          series.map((s) =>
            h(
              'tr',
              { dataset: { year: s.fiscal_year } },
              h('th', { scope: 'row' }, s.fiscal_year_label),
              h('td', {}, s.plan_name, s.phase_name ? h('span', { class: 'sub' }, s.phase_name) : null),
              h('td', {}, s.target?.text ?? '—'),
              h('td', {}, figures(s.approved_actual), s.result.pending ? h('span', { class: 'sub' }, '新しい提出が確認待ち') : null),
              h('td', { class: 'num' }, formatPercent(s.result.attainment_rate)),
              h('td', { class: 'num' }, formatPercent(s.result.progress_rate)),
              h('td', {}, h('span', { class: `badge status-${s.result.status}` }, statusLabel(s.result.status))),
              h('td', {}, s.result.grade ?? '—'),
            ),
          ),
        ),
      ),
    ),
  );
}

function renderTargets(targets) {
  return section(
    'indicator-targets',
    '目標の改定',
    targets.length
      ? h(
          'div',
          { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': '目標の改定' },
          h(
            'table',
            {},
            h('caption', {}, '目標の改定（適用開始年度から後の評価に使います）'),
            h('thead', {}, h('tr', {}, ['適用開始', '目標', '目標年度', '理由', '記録日時'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              targets.map((t) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row' }, t.effective_from_fiscal_year_label),
                  h('td', {}, t.text ?? formatNumber(t.value)),
                  h('td', {}, t.target_fiscal_year_label),
                  h('td', {}, t.reason),
                  h('td', {}, formatTimestamp(t.recorded_at)),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'empty' }, '目標は設定されていません。'),
  );
}

function renderHistory(events, { label, year, years, figures, onYear }) {
  const yearSelect = h(
    'select',
    { id: 'history-year', onchange: (event) => onYear(Number(event.target.value)) },
    years.map((s) => h('option', { value: s.fiscal_year, selected: s.fiscal_year === year }, s.fiscal_year_label)),
  );
  return section(
    'indicator-history',
    `実績の履歴（${label}）`,
    years.length > 1 ? h('div', { class: 'toolbar' }, h('div', { class: 'field inline' }, h('label', { for: 'history-year' }, '年度'), yearSelect)) : null,
    events.length
      ? h(
          'div',
          { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': '実績の履歴' },
          h(
            'table',
            { id: 'history-table' },
            h('caption', {}, `${label}の実績の版（古い順）`),
            h('thead', {}, h('tr', {}, ['版', '操作', '値', '備考', '状態', 'コメント', '担当', '日時'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              {},
              events.map((e) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row' }, `版${e.version}`),
                  h('td', {}, eventLabel(e.event)),
                  h('td', {}, figures(e), e.is_sample ? h('span', { class: 'badge sample' }, 'サンプル') : null),
                  h('td', {}, e.note),
                  h('td', {}, submissionLabel(e.status)),
                  h('td', {}, e.comment ?? ''),
                  h('td', {}, e.actor_username ?? '（システム）'),
                  h('td', {}, formatTimestamp(e.recorded_at)),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'empty' }, `${label}の実績はまだ提出されていません。`),
  );
}
