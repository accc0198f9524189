// The 進捗状況報告書 (report of a plan's year, HTML or xlsx) and its publication, for the plan and
// year the user is on. The report needs the bearer token, so it is fetched here and opened from a
// blob; the public page of each published version (its `html_url`) needs none. Shown under the
// 施策評価 of the plan and year the user is on.

import * as api from './api.js';
import { h, section } from './dom.js';
import { formatTimestamp, clerkMessage } from './labels.js';

/** Opens the year's report (HTML) in a new tab, or downloads it as xlsx. */
async function openReport({ plan, year, ui }, format) {
  // The tab is opened before the request, while the click still counts as the user's gesture.
  const tab = format === 'html' ? window.open('', '_blank') : null;
  const query = `fiscal_year=${year}${format === 'xlsx' ? '&format=xlsx' : ''}`;
  try {
    const { data, response } = await api.get(`/plans/${plan.id}/report?${query}`, { blob: true, accept: format === 'xlsx' ? '*/*' : 'text/html' });
    const url = URL.createObjectURL(data);
    if (tab) {
      tab.location.href = url;
    } else {
      const disposition = response.headers.get('Content-Disposition') ?? '';
      const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `report-${plan.id}-${year}.xlsx`;
      const link = h('a', { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      ui.notify(`${name} をダウンロードしました。`);
    }
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (error) {
    tab?.close();
    throw error;
  }
}

async function loadPublications(plan) {
  return api.items((await api.get(`/plans/${plan.id}/publications?limit=100`)).data);
}

async function publish(ctx, form) {
  const note = form.elements.correction_note.value.trim();
  const body = note ? { fiscal_year: ctx.year, correction_note: note } : { fiscal_year: ctx.year };
  try {
    await api.call('POST', `/plans/${ctx.plan.id}/publications`, { body });
  } catch (error) {
    if (!(error instanceof api.ApiError) || error.status === 401) throw error;
    const unplaced = ctx.ui.showFieldErrors(form, error.fieldErrors);
    form.querySelector('.form-error').textContent = [error.fieldErrors.length ? null : clerkMessage(error.problem.detail), ...unplaced].filter(Boolean).join(' ') || ctx.ui.describeError(error);
    return;
  }
  ctx.ui.notify(`${ctx.yearLabel}の進捗状況を公表しました。`);
  await ctx.onChanged();
}

function publicationForm(ctx) {
  const form = h(
    'form',
    { id: 'publication-form', novalidate: true, onsubmit: (event) => { event.preventDefault(); ctx.ui.guarded(() => publish(ctx, form)); } },
    h('div', { class: 'field' }, h('label', { for: 'publication-note' }, '訂正の説明（公表済みの内容を訂正するとき）'), h('textarea', { id: 'publication-note', name: 'correction_note', rows: 2, 'aria-describedby': 'publication-note-error' }), h('p', { class: 'field-error', id: 'publication-note-error', 'data-field': 'correction_note' })),
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit' }, `${ctx.yearLabel}の進捗状況を公表する`),
  );
  return form;
}

/**
 * The panel: report buttons for everyone, the year's publications with their public pages, and
 * (本部) the publication form. `ctx`: plan, year, yearLabel, role, ui (notify,
 * describeError, showFieldErrors, guarded), onChanged().
 */
export async function reportPublicationPanel(ctx) {
  const publications = (await loadPublications(ctx.plan)).filter((p) => p.fiscal_year === ctx.year);
  // Publishing is the 本部's decision (POST /plans/{id}/publications admits hq only).
  const canPublish = ctx.role === 'hq';
  return section(
    'report-publication',
    `進捗状況報告書と公表（${ctx.yearLabel}）`,
    h(
      'div',
      { class: 'toolbar' },
      h('button', { type: 'button', id: 'report-html', onclick: () => ctx.ui.guarded(() => openReport(ctx, 'html')) }, '進捗状況報告書を開く'),
      h('button', { type: 'button', id: 'report-xlsx', class: 'secondary', onclick: () => ctx.ui.guarded(() => openReport(ctx, 'xlsx')) }, '報告書をExcel(xlsx)でダウンロード'),
    ),
    publications.length
      ? h(
          'ul',
          { id: 'publication-list' },
          publications.map((p) =>
            h('li', {}, `第${p.version}版 ${formatTimestamp(p.published_at)} 公表`, p.correction_note ? `（訂正: ${p.correction_note}）` : '', ' ', h('a', { href: p.html_url, target: '_blank', rel: 'noopener' }, '公開ページ')),
          ),
        )
      : h('p', { class: 'empty' }, 'この年度はまだ公表されていません。'),
    canPublish ? publicationForm(ctx) : null,
  );
}
