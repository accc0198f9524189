//! The 進捗状況報告書 as one print-ready HTML document: A4 page rules, a 目次 with anchors, per
//! 基本目標 the KPI tables and charts, and each measure's 施策評価. Self-contained: inline CSS and
//! SVG, system fonts, no script and no external reference, so it prints offline and passes a CSP
//! that allows inline styles only. Every text from the records is escaped.

use std::borrow::Cow;
use std::fmt::Write;

use rust_decimal::Decimal;

use super::chart::indicator_chart;
use crate::domain::achievement::{Grade, Status};
use crate::domain::progress_report::{
    ProgressReport, ReportAssessment, ReportDepartmentEvaluation, ReportGoal, ReportIndicator, ReportMeasure,
    ReportRollUp,
};

/// How a report is rendered beyond its content.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// A line above the cover, e.g. `公表版 第2版 2026-12-05` for a published snapshot
    pub banner: Option<String>,
    /// The document's title; by default `{plan} {year} 進捗状況報告書`
    pub title: Option<String>,
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    Cow::Owned(escaped)
}

const STYLE: &str = r#"
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
html { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", Meiryo, sans-serif; font-size: 10pt; line-height: 1.5; color: #111; }
body { margin: 0 auto; max-width: 190mm; padding: 0 4mm; }
h1 { font-size: 18pt; margin: 0.3em 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #234; padding-bottom: 2px; margin: 1em 0 0.5em; break-after: avoid; }
h3 { font-size: 12pt; margin: 1.2em 0 0.4em; break-after: avoid; }
h4 { font-size: 10.5pt; margin: 0.8em 0 0.3em; break-after: avoid; }
.banner { border: 1px solid #555; padding: 2mm 3mm; font-weight: bold; text-align: center; }
.cover { padding: 8mm 0 4mm; border-bottom: 1px solid #999; }
.cover .document { font-size: 14pt; font-weight: bold; }
.notice { border: 2px solid #b45f06; background: #fff4e5; padding: 2mm 3mm; margin: 3mm 0; break-inside: avoid; }
nav.toc ol { padding-left: 1.4em; margin: 0.2em 0; }
nav.toc a { color: inherit; text-decoration: none; }
section.goal { break-before: page; }
article.measure { margin-bottom: 6mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 9pt; }
thead { display: table-header-group; }
tr, figure, .keep { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #777; padding: 1mm 1.5mm; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #e8ecf0; font-weight: bold; }
td.number { text-align: right; white-space: nowrap; }
table.evaluation th { width: 24%; }
.status { display: inline-block; padding: 0 1.5mm; border-radius: 2px; white-space: nowrap; border: 1px solid #666; }
.status-achieved { background: #cfe8d5; }
.status-on_track { background: #dcefd0; }
.status-behind { background: #fff1b8; }
.status-off_track { background: #ffd8a8; }
.status-deteriorating { background: #f8c0c0; }
.status-not_achieved { background: #f3c4c4; }
.status-no_data, .status-not_assessable { background: #eeeeee; }
.sample { display: inline-block; border: 1px dashed #b45f06; color: #8a4500; font-size: 8pt; padding: 0 1mm; margin-left: 1mm; white-space: nowrap; }
.charts { display: flex; flex-wrap: wrap; gap: 3mm; }
figure { margin: 0; width: 88mm; }
figcaption { font-size: 8.5pt; }
svg.chart { width: 88mm; height: auto; }
svg .axis { stroke: #333; stroke-width: 0.8; }
svg .tick { font-size: 8px; fill: #333; }
svg .bar { fill: #4a78a8; }
svg .sample-bar { fill: #c9a46a; }
svg .target { fill: none; stroke: #c0392b; stroke-width: 1.2; stroke-dasharray: 4 3; }
svg circle.target { fill: #c0392b; }
svg .expected { fill: none; stroke: #555; stroke-width: 1; }
svg circle.expected { fill: #555; }
.legend { font-size: 8pt; color: #333; }
.muted { color: #555; }
p.text { white-space: pre-wrap; margin: 0; }
@media screen { body { padding: 6mm; } section.goal { border-top: 3px double #999; margin-top: 10mm; } }
"#;

/// The report as one HTML document.
pub fn render_html(report: &ProgressReport, options: &RenderOptions) -> String {
    let default_title = format!("{} {} 進捗状況報告書", report.plan_name, report.fiscal_year_label);
    let title = options.title.as_deref().unwrap_or(&default_title);
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{STYLE}</style></head><body>"#,
        escape(title)
    );
    if let Some(banner) = &options.banner {
        let _ = write!(html, r#"<div class="banner">{}</div>"#, escape(banner));
    }
    cover(&mut html, report);
    table_of_contents(&mut html, report);
    summary(&mut html, report);
    for goal in &report.goals {
        goal_section(&mut html, goal);
    }
    if !report.measures_without_goal.is_empty() {
        html.push_str(r#"<section class="goal" id="goal-none"><h2>基本目標の指定がない施策</h2>"#);
        for measure in &report.measures_without_goal {
            measure_article(&mut html, measure);
        }
        html.push_str("</section>");
    }
    html.push_str("</body></html>");
    html
}

fn cover(html: &mut String, report: &ProgressReport) {
    let _ = write!(
        html,
        r#"<header class="cover"><p>{municipality}</p><h1>{plan}</h1><p class="document">{year} 進捗状況報告書</p><p>計画期間: {period}</p></header>"#,
        municipality = escape(&report.municipality_name),
        plan = escape(&report.plan_name),
        year = escape(&report.fiscal_year_label),
        period = escape(&report.plan_period_label),
    );
    if report.contains_sample {
        html.push_str(
            r#"<p class="notice">この報告書にはデモ用のサンプルデータが含まれています。「サンプル」と記した数値・文章は実際の実績や評価ではありません。</p>"#,
        );
    }
}

fn table_of_contents(html: &mut String, report: &ProgressReport) {
    html.push_str(r##"<nav class="toc"><h2>目次</h2><ol><li><a href="#summary">計画全体の状況</a></li>"##);
    let goals = report.goals.iter().map(|g| (format!("goal-{}", g.id), g.label.as_str(), &g.measures));
    let rest = (!report.measures_without_goal.is_empty())
        .then(|| ("goal-none".to_owned(), "基本目標の指定がない施策", &report.measures_without_goal));
    for (anchor, label, measures) in goals.chain(rest) {
        let _ = write!(html, r##"<li><a href="#{anchor}">{}</a>"##, escape(label));
        if !measures.is_empty() {
            html.push_str("<ol>");
            for measure in measures {
                let _ = write!(
                    html,
                    r##"<li><a href="#measure-{}">施策{} {}</a></li>"##,
                    measure.id,
                    measure.number,
                    escape(&measure.name)
                );
            }
            html.push_str("</ol>");
        }
        html.push_str("</li>");
    }
    html.push_str("</ol></nav>");
}

fn summary(html: &mut String, report: &ProgressReport) {
    html.push_str(r#"<section id="summary"><h2>計画全体の状況</h2>"#);
    roll_up_table(html, &report.summary);
    html.push_str(
        r#"<h4>評価の基準</h4><table class="keep"><thead><tr><th>評価</th><th>基準</th></tr></thead><tbody>"#,
    );
    for step in &report.grading_scale {
        let _ = write!(html, "<tr><td>{}</td><td>{}</td></tr>", grade_text(step.grade), escape(&step.description));
    }
    html.push_str("</tbody></table></section>");
}

fn roll_up_table(html: &mut String, roll_up: &ReportRollUp) {
    html.push_str(r#"<table class="keep"><thead><tr><th>指標数</th><th>状況の内訳</th><th>達成割合</th><th>平均進捗率</th><th>評価</th></tr></thead><tbody><tr>"#);
    let breakdown: Vec<String> =
        roll_up.status_counts.iter().map(|c| format!("{} {}件", status_badge(c.status, &c.label), c.count)).collect();
    let _ = write!(
        html,
        r#"<td class="number">{}</td><td>{}</td><td class="number">{}</td><td class="number">{}</td><td>{}</td></tr></tbody></table>"#,
        roll_up.indicator_count,
        breakdown.join("　"),
        percent(roll_up.achieved_share),
        percent(roll_up.mean_progress),
        grade_text(roll_up.grade)
    );
}

fn goal_section(html: &mut String, goal: &ReportGoal) {
    let kind = if goal.kind.is_empty() { "基本目標" } else { goal.kind.as_str() };
    let _ = write!(
        html,
        r#"<section class="goal" id="goal-{}"><h2>{}　{}</h2>"#,
        goal.id,
        escape(kind),
        escape(&goal.label)
    );
    roll_up_table(html, &goal.roll_up);
    if goal.measures.is_empty() {
        html.push_str(r#"<p class="muted">この目標を主な目標（◎）とする施策はありません。</p>"#);
    }
    for measure in &goal.measures {
        measure_article(html, measure);
    }
    html.push_str("</section>");
}

fn measure_article(html: &mut String, measure: &ReportMeasure) {
    let _ = write!(
        html,
        r#"<article class="measure" id="measure-{}"><h3>施策{}　{}</h3><p class="muted">"#,
        measure.id,
        measure.number,
        escape(&measure.name)
    );
    if let Some(strategy) = &measure.strategy_label {
        let _ = write!(html, "推進戦略: {}　", escape(strategy));
    }
    let _ = write!(html, "所管: {}</p>", escape(&measure.departments.join("、")));
    indicator_table(html, &measure.indicators);
    charts(html, &measure.indicators);
    roadmap(html, measure);
    html.push_str("<h4>施策評価</h4>");
    for evaluation in &measure.department_evaluations {
        department_evaluation(html, evaluation);
    }
    if !measure.departments_without_evaluation.is_empty() {
        let _ = write!(
            html,
            r#"<p class="muted">評価未確定: {}</p>"#,
            escape(&measure.departments_without_evaluation.join("、"))
        );
    }
    assessment(html, measure.assessment.as_ref());
    html.push_str("</article>");
}

fn indicator_table(html: &mut String, indicators: &[ReportIndicator]) {
    if indicators.is_empty() {
        html.push_str(r#"<p class="muted">この年度に評価する指標はありません。</p>"#);
        return;
    }
    html.push_str(r#"<table class="kpi"><thead><tr><th>No.</th><th>指標</th><th>現状</th><th>目標</th><th>実績</th><th>達成率</th><th>進捗率</th><th>状況</th><th>評価</th></tr></thead><tbody>"#);
    for indicator in indicators {
        let unit = escape(&indicator.unit);
        let actual = match &indicator.actual {
            Some(actual) => format!("{} {unit}{}", escape(actual), sample_badge(indicator.actual_is_sample)),
            None => "—".to_owned(),
        };
        let _ = write!(
            html,
            r#"<tr><td class="number">{number}</td><td>{name}</td><td>{baseline}{baseline_year}</td><td>{target}{target_year}</td><td>{actual}</td><td class="number">{attainment}</td><td class="number">{progress}</td><td>{status}</td><td>{grade}</td></tr>"#,
            number = indicator.number.map(|n| n.to_string()).unwrap_or_default(),
            name = escape(&indicator.name),
            baseline = escape(&indicator.baseline),
            baseline_year = year_note(indicator.baseline_year_label.as_deref()),
            target = escape(&indicator.target),
            target_year = year_note(indicator.target_year_label.as_deref()),
            attainment = percent(indicator.attainment_rate),
            progress = percent(indicator.progress_rate),
            status = status_badge(indicator.status, &indicator.status_label),
            grade = grade_text(indicator.grade),
        );
    }
    html.push_str("</tbody></table>");
}

fn charts(html: &mut String, indicators: &[ReportIndicator]) {
    let drawn: Vec<(&ReportIndicator, String)> =
        indicators.iter().filter_map(|i| indicator_chart(i).map(|svg| (i, svg))).collect();
    if drawn.is_empty() {
        return;
    }
    html.push_str(r#"<div class="charts">"#);
    for (indicator, svg) in drawn {
        let sample = indicator.series.iter().any(|p| p.actual_is_sample);
        let _ = write!(
            html,
            r#"<figure>{svg}<figcaption>{name}（{unit}）<br><span class="legend">棒: 実績　破線: 目標　実線: 計画どおりの推移</span>{sample}</figcaption></figure>"#,
            name = escape(&indicator.name),
            unit = escape(&indicator.unit),
            sample = sample_badge(sample),
        );
    }
    html.push_str("</div>");
}

fn roadmap(html: &mut String, measure: &ReportMeasure) {
    if measure.roadmap.is_empty() {
        return;
    }
    html.push_str(r#"<h4>ロードマップ（当該年度）</h4><ul class="keep">"#);
    for step in &measure.roadmap {
        if step.track.is_empty() {
            let _ = write!(html, "<li>{}</li>", escape(&step.activity));
        } else {
            let _ = write!(html, "<li>{}: {}</li>", escape(&step.track), escape(&step.activity));
        }
    }
    html.push_str("</ul>");
}

fn department_evaluation(html: &mut String, evaluation: &ReportDepartmentEvaluation) {
    let lead = if evaluation.is_lead { "（主管）" } else { "" };
    let progress = if evaluation.progress_reason.is_empty() {
        escape(&evaluation.roadmap_progress_label).into_owned()
    } else {
        format!("{}（理由: {}）", escape(&evaluation.roadmap_progress_label), escape(&evaluation.progress_reason))
    };
    let _ = write!(
        html,
        r#"<table class="evaluation"><thead><tr><th colspan="2">{department}{lead}{sample}</th></tr></thead><tbody><tr><th>取組実績</th><td><p class="text">{work}</p></td></tr><tr><th>ロードマップの進捗</th><td>{progress}</td></tr><tr><th>自己評価</th><td>{grade}</td></tr><tr><th>課題</th><td><p class="text">{issues}</p></td></tr><tr><th>今後の方向性</th><td><p class="text">{next}</p></td></tr></tbody></table>"#,
        department = escape(&evaluation.department_name),
        sample = sample_badge(evaluation.is_sample),
        work = escape(&evaluation.work_done),
        grade = grade_text(evaluation.self_grade),
        issues = or_dash(&evaluation.issues),
        next = or_dash(&evaluation.next_steps),
    );
}

fn assessment(html: &mut String, assessment: Option<&ReportAssessment>) {
    let Some(assessment) = assessment else {
        html.push_str(r#"<p class="muted">本部評価: 未実施</p>"#);
        return;
    };
    let _ = write!(
        html,
        r#"<table class="evaluation"><thead><tr><th colspan="2">本部評価{sample}</th></tr></thead><tbody><tr><th>本部評価</th><td>{grade}</td></tr><tr><th>評価の理由</th><td><p class="text">{comment}</p></td></tr><tr><th>方向性</th><td>{direction}</td></tr><tr><th>方向性の理由</th><td><p class="text">{reason}</p></td></tr></tbody></table>"#,
        sample = sample_badge(assessment.is_sample),
        grade = grade_text(assessment.hq_grade),
        comment = or_dash(&assessment.hq_comment),
        direction = escape(&assessment.direction),
        reason = or_dash(&assessment.direction_reason),
    );
}

/// A status with its colour and its words: colour is never the only sign.
fn status_badge(status: Status, label: &str) -> String {
    let class = crate::domain::plan::to_text(&status);
    format!(r#"<span class="status status-{}">{}</span>"#, escape(&class), escape(label))
}

fn sample_badge(is_sample: bool) -> &'static str {
    if is_sample { r#"<span class="sample">サンプル</span>"# } else { "" }
}

fn grade_text(grade: Grade) -> &'static str {
    grade.label()
}

fn percent(value: Option<Decimal>) -> String {
    value.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "—".to_owned())
}

fn year_note(label: Option<&str>) -> String {
    label.map(|l| format!(r#"<br><span class="muted">（{}）</span>"#, escape(l))).unwrap_or_default()
}

fn or_dash(text: &str) -> Cow<'_, str> {
    if text.is_empty() { Cow::Borrowed("—") } else { escape(text) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress_report::fixture;

    #[test]
    fn every_measure_is_in_the_contents_and_has_its_section() {
        let report = fixture::report();
        let html = render_html(&report, &RenderOptions::default());
        for measure in report.measures() {
            let anchor = format!(r##"href="#measure-{}""##, measure.id);
            assert!(html.contains(&anchor), "no 目次 entry for measure {}", measure.id);
            assert!(html.contains(&format!(r#"id="measure-{}""#, measure.id)), "no section for {}", measure.id);
        }
        assert!(html.contains("庁内ネットワークの更新"));
        assert!(html.contains("目次"));
    }

    #[test]
    fn texts_from_the_records_are_escaped() {
        let html = render_html(&fixture::report(), &RenderOptions::default());
        assert!(!html.contains("<script"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;電子申請"));
        assert!(html.contains("交付率 &lt;b&gt;&amp;&lt;/b&gt;"));
    }

    #[test]
    fn the_cover_names_the_year_in_the_japanese_era_and_the_banner_is_shown_escaped() {
        let options = RenderOptions { banner: Some("公表版 第2版 <2026-12-05>".into()), title: None };
        let html = render_html(&fixture::report(), &options);
        assert!(html.contains("令和2(2020)年度 進捗状況報告書"));
        assert!(html.contains(r#"<div class="banner">公表版 第2版 &lt;2026-12-05&gt;</div>"#));
        assert!(html.contains("<title>板橋区ICT推進・活用計画2020 令和2(2020)年度 進捗状況報告書</title>"));
    }

    #[test]
    fn sample_data_is_marked_and_announced_and_real_data_is_not() {
        let mut report = fixture::report();
        let html = render_html(&report, &RenderOptions::default());
        assert!(html.contains("サンプルデータが含まれています"));
        // Measure 1 shows sample figures, its evaluation and assessment: each marked.
        let first = &html[html.find(r#"id="measure-1""#).unwrap()..html.find(r#"id="measure-2""#).unwrap()];
        assert!(first.matches(r#"class="sample""#).count() >= 3);
        let second = &html[html.find(r#"id="measure-2""#).unwrap()..html.find(r#"id="measure-3""#).unwrap()];
        assert!(!second.contains(r#"class="sample""#));
        report.contains_sample = false;
        assert!(!render_html(&report, &RenderOptions::default()).contains("サンプルデータが含まれています"));
    }

    #[test]
    fn the_document_is_self_contained_for_print_on_a4() {
        let html = render_html(&fixture::report(), &RenderOptions::default());
        for required in ["@page { size: A4", "break-inside: avoid", "display: table-header-group", "<svg", "sans-serif"]
        {
            assert!(html.contains(required), "missing {required}");
        }
        for external in ["<script", "<link", "src=", "url(", "@import", "http://", "https://"] {
            let outside_svg_namespace = html.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
            assert!(!outside_svg_namespace.contains(external), "found {external}");
        }
    }

    #[test]
    fn a_status_is_shown_in_words_as_well_as_colour() {
        let html = render_html(&fixture::report(), &RenderOptions::default());
        assert!(html.contains(r#"<span class="status status-on_track">順調</span>"#));
        assert!(html.contains(r#"<span class="status status-no_data">実績なし</span>"#));
    }
}
