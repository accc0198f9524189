// Charts drawn as SVG in the page (no library). Colours come from app.css classes; every chart has
// a text alternative (role="img" with a label, and the same numbers in a table next to it).

import { STATUSES, statusLabel, formatNumber } from './labels.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

function title(text) {
  return svg('title', {}, text);
}

/**
 * 100% stacked bars of status counts, one row per group (basic goal, department).
 * rows: [{label, counts: {achieved: n, …}, trailing: 'text after the bar'}]
 */
export function statusBars(rows, { caption }) {
  const labelWidth = 220;
  const barWidth = 400;
  const trailingWidth = 150;
  const rowHeight = 30;
  const width = labelWidth + barWidth + trailingWidth;
  const height = rows.length * rowHeight + 8;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart chart-bars',
    role: 'img',
    'aria-label': caption,
    preserveAspectRatio: 'xMinYMin meet',
  });
  rows.forEach((row, index) => {
    const y = index * rowHeight + 4;
    const total = STATUSES.reduce((sum, [status]) => sum + (row.counts[status] ?? 0), 0);
    const group = svg('g', { class: 'bar-row' });
    group.append(svg('text', { x: labelWidth - 8, y: y + 17, class: 'bar-label', 'text-anchor': 'end' }, row.label));
    group.append(svg('rect', { x: labelWidth, y: y + 3, width: barWidth, height: 20, class: 'bar-track' }));
    let x = labelWidth;
    for (const [status] of STATUSES) {
      const count = row.counts[status] ?? 0;
      if (!count || !total) continue;
      const segment = (count / total) * barWidth;
      group.append(
        svg(
          'rect',
          { x: x.toFixed(2), y: y + 3, width: segment.toFixed(2), height: 20, class: `seg seg-${status}` },
          title(`${row.label}: ${statusLabel(status)} ${count}件`),
        ),
      );
      x += segment;
    }
    group.append(svg('text', { x: labelWidth + barWidth + 8, y: y + 17, class: 'bar-trailing' }, row.trailing ?? ''));
    chart.append(group);
  });
  return chart;
}

/** A legend of the status colours, as an HTML list. */
export function statusLegend() {
  const list = document.createElement('ul');
  list.className = 'legend';
  for (const [status, label] of STATUSES) {
    const item = document.createElement('li');
    const swatch = svg('svg', { viewBox: '0 0 14 14', width: 14, height: 14, 'aria-hidden': 'true' });
    swatch.append(svg('rect', { x: 0, y: 0, width: 14, height: 14, class: `seg seg-${status}` }));
    item.append(swatch, document.createTextNode(label));
    list.append(item);
  }
  return list;
}

/** Splits an API label `令和2(2020)年度` into two lines for a narrow axis. */
function axisLines(label) {
  const at = label.indexOf('(');
  return at > 0 ? [label.slice(0, at), label.slice(at)] : [label];
}

/** Rates drawn beyond these ends sit on the edge, labelled with their value. */
const SCALE_LIMITS = { low: -100, high: 200 };

/**
 * The percent scale of a trend chart: 0–100 %, widened in steps of 25 to show a rate above 100 %
 * (a target exceeded) or below 0 (worse than the baseline) where it is, up to SCALE_LIMITS.
 */
function percentScale(series) {
  const values = series.flatMap((line) => line.values).filter((v) => v !== null && v !== undefined).map(Number);
  const high = Math.min(SCALE_LIMITS.high, Math.ceil(Math.max(100, ...values) / 25) * 25);
  const low = Math.max(SCALE_LIMITS.low, Math.floor(Math.min(0, ...values) / 25) * 25);
  const step = high - low > 150 ? 50 : 25;
  const ticks = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high; tick += step) ticks.push(tick);
  return { low, high, ticks };
}

/**
 * Lines over the plan's years on a percent scale from 0 to 100 %, wider when a rate lies outside.
 * years: [{fiscal_year, fiscal_year_label}]; series: [{name, values: [number|null]}];
 * `firstStyle` picks the line style of the first series (style 0, the heavy line, is the plan's).
 */
export function trendChart(years, series, { caption, firstStyle = 0 }) {
  const width = 760;
  const height = 300;
  const left = 52;
  const right = 64;
  const top = 16;
  const bottom = 52;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const xAt = (index) => left + (years.length > 1 ? (index / (years.length - 1)) * plotWidth : plotWidth / 2);
  const scale = percentScale(series);
  const onScale = (value) => Math.min(Math.max(value, scale.low), scale.high);
  const yAt = (value) => top + plotHeight - ((onScale(value) - scale.low) / (scale.high - scale.low)) * plotHeight;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart chart-trend',
    role: 'img',
    'aria-label': caption,
    preserveAspectRatio: 'xMinYMin meet',
  });
  for (const tick of scale.ticks) {
    chart.append(svg('line', { x1: left, x2: width - right, y1: yAt(tick), y2: yAt(tick), class: 'grid' }));
    chart.append(svg('text', { x: left - 8, y: yAt(tick) + 4, class: 'axis', 'text-anchor': 'end' }, `${tick}%`));
  }
  years.forEach((year, index) => {
    const text = svg('text', { x: xAt(index), y: height - bottom + 20, class: 'axis', 'text-anchor': 'middle' });
    axisLines(year.fiscal_year_label).forEach((line, lineIndex) => {
      text.append(svg('tspan', { x: xAt(index), dy: lineIndex === 0 ? 0 : 15 }, line));
    });
    chart.append(text);
  });
  series.forEach((line, seriesIndex) => {
    let path = '';
    let penDown = false;
    const group = svg('g', { class: `series series-${seriesIndex + firstStyle}` });
    line.values.forEach((value, index) => {
      if (value === null || value === undefined) {
        penDown = false;
        return;
      }
      const [x, y, rate] = [xAt(index), yAt(Number(value)), Number(value)];
      path += `${penDown ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
      penDown = true;
      group.append(
        svg(
          'circle',
          { cx: x.toFixed(1), cy: y.toFixed(1), r: 4, class: 'marker' },
          title(`${line.name} ${years[index].fiscal_year_label}: ${formatNumber(value)}%`),
        ),
      );
      if (onScale(rate) !== rate) {
        const above = rate > scale.high;
        group.append(svg('text', { x: x + 6, y: y + (above ? -8 : 16), class: 'axis off-scale' }, `${above ? '↑' : '↓'}${formatNumber(value)}%`));
      }
    });
    group.prepend(svg('path', { d: path, class: 'line' }));
    chart.append(group);
  });
  return chart;
}

/** The legend of a trend chart: each series' line style and name. */
export function seriesLegend(series, { firstStyle = 0 } = {}) {
  const list = document.createElement('ul');
  list.className = 'legend';
  series.forEach((line, index) => {
    const item = document.createElement('li');
    const swatch = svg('svg', { viewBox: '0 0 28 12', width: 28, height: 12, 'aria-hidden': 'true' });
    const group = svg('g', { class: `series series-${index + firstStyle}` });
    group.append(svg('path', { d: 'M1,6L27,6', class: 'line' }), svg('circle', { cx: 14, cy: 6, r: 3.5, class: 'marker' }));
    swatch.append(group);
    item.append(swatch, document.createTextNode(line.name));
    list.append(item);
  });
  return list;
}
