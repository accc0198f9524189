//! The 進捗管理表 as spreadsheets: the evaluation as CSV (UTF-8 with BOM, for Excel) and as
//! `.xlsx`, the open-data CSV of approved actuals, and reading a year's actuals back from the same
//! columns for bulk import ([`import`], [`xlsx_reader`]). CSV text cells go through
//! [`formula_guard`] so that no spreadsheet program runs them as formulas.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use crate::domain::achievement::{Grade, Status};
use crate::domain::comparison::ReportState;
use crate::domain::plan::label;
use crate::error::AppError;
use crate::evaluation::comparison::NationalComparison;
use crate::evaluation::plan::{IndicatorEvaluation, PlanEvaluation, PlanRecords, SubmissionState};

pub mod formula_guard;
pub mod import;
pub mod measure_evaluations;
pub mod progress_report;
mod xlsx_preflight;
pub mod xlsx_reader;

pub use import::{ImportFile, ImportRow, RowCause, RowError, RowErrors, as_field_errors, read_csv};
pub use xlsx_reader::read_xlsx;

pub const CSV_MEDIA_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Columns of the 進捗管理表, shared by export and import. Import reads the ones marked below and
/// ignores the others: 注記 is export-only, so a sheet never writes a reading note.
pub const COLUMNS: [&str; 25] = [
    "基本目標",
    "施策No.",
    "推進施策",
    "指標No.",
    "指標ID", // import: which indicator
    "指標",
    "単位",
    "種別",
    "現状",
    "現状年度",
    "目標",
    "目標年度",
    "年度", // import: fiscal year (2020 or 令和2年度)
    "実績", // import: value (count, percent)
    "分子", // import: ratio numerator
    "分母", // import: ratio denominator
    "段階", // import: milestone stage name
    "達成率(%)",
    "進捗率(%)",
    "状況",
    "評価",
    "提出状況",
    "備考", // import: note
    "版",   // import: version of the actual being corrected (its ETag number)
    "注記", // export only: the reading notes of the row's goal, measure, 所管課 and indicator
];

/// The reading notes a 進捗管理表 carries: the plan's own (above the table in the workbook) and the
/// 注記 of each indicator's row, by indicator id.
#[derive(Debug, Default)]
pub struct SheetNotes {
    pub plan: Option<String>,
    pub rows: BTreeMap<i32, String>,
}

impl SheetNotes {
    pub fn of(records: &PlanRecords) -> Self {
        Self { plan: records.plan.reading_note.clone(), rows: row_notes(records) }
    }
}

/// The 注記 of each indicator's row: the reading notes of its measure's main goal, its measure,
/// the measure's current 所管課 links and the indicator itself, labelled, in that order. A reading
/// of the sources thus travels with the figures it qualifies.
fn row_notes(records: &PlanRecords) -> BTreeMap<i32, String> {
    let goal_note: BTreeMap<i32, &str> =
        records.goals.iter().filter_map(|g| g.reading_note.as_deref().map(|note| (g.id, note))).collect();
    let measure_notes: BTreeMap<i32, Vec<String>> = records
        .measures
        .iter()
        .map(|m| {
            let goal = m.main_goal_id.and_then(|id| goal_note.get(&id)).map(|note| format!("目標: {note}"));
            let measure = m.reading_note.as_ref().map(|note| format!("施策: {note}"));
            let owners =
                m.owners.iter().filter(|o| o.in_force(None)).filter_map(|o| {
                    o.reading_note.as_ref().map(|note| format!("所管課({}): {note}", o.department_name))
                });
            (m.id, goal.into_iter().chain(measure).chain(owners).collect())
        })
        .collect();
    records
        .indicators
        .iter()
        .filter_map(|i| {
            let mut parts = measure_notes.get(&i.measure_id).cloned().unwrap_or_default();
            parts.extend(i.reading_note.as_ref().map(|note| format!("指標: {note}")));
            (!parts.is_empty()).then(|| (i.id, parts.join(" / ")))
        })
        .collect()
}

pub fn status_label(status: Status) -> &'static str {
    status.label_ja()
}

fn grade_label(grade: Grade) -> &'static str {
    grade.label()
}

fn submission_label(state: SubmissionState) -> &'static str {
    match state {
        SubmissionState::Missing => "未提出",
        SubmissionState::Submitted => "審査待ち",
        SubmissionState::Returned => "差戻し",
        SubmissionState::Approved => "承認済",
    }
}

fn kind_label(indicator: &IndicatorEvaluation) -> &'static str {
    use crate::domain::achievement::Direction;
    use crate::domain::plan::IndicatorKind;
    match (indicator.kind, indicator.direction) {
        (_, Direction::MaintainAtLeast | Direction::MaintainAtMost) => "維持",
        (_, Direction::TrendUp | Direction::TrendDown) => "方向",
        (IndicatorKind::Count, _) => "数値",
        (IndicatorKind::Ratio, _) => "比率",
        (IndicatorKind::Percent, _) => "割合",
        (IndicatorKind::Milestone, _) => "段階",
    }
}

fn text(value: Option<Decimal>) -> String {
    value.map(|v| v.normalize().to_string()).unwrap_or_default()
}

/// Rates as the API rounds them: one decimal place (85.0, 63.0).
fn rate_text(value: Option<Decimal>) -> String {
    value.map(|v| format!("{v:.1}")).unwrap_or_default()
}

/// One row of the 進捗管理表 per indicator, grouped by basic goal (◎) and measure.
fn rows(evaluation: &PlanEvaluation, notes: &BTreeMap<i32, String>) -> Vec<(String, [String; 25])> {
    let goal_of_measure: BTreeMap<i32, (i32, String)> = evaluation
        .measures
        .iter()
        .filter_map(|m| {
            evaluation
                .goals
                .iter()
                .find(|g| Some(g.id) == m.main_goal_id)
                .map(|g| (m.measure_id, (g.number.unwrap_or(0), g.label.clone())))
        })
        .collect();
    let measure_name: BTreeMap<i32, &str> =
        evaluation.measures.iter().map(|m| (m.measure_id, m.name.as_str())).collect();
    let mut indicators: Vec<&IndicatorEvaluation> = evaluation.indicators.iter().collect();
    indicators.sort_by_key(|i| {
        (
            goal_of_measure.get(&i.measure_id).map(|(n, _)| *n).unwrap_or(i32::MAX),
            i.measure_number,
            i.number,
            i.indicator_id,
        )
    });
    indicators
        .into_iter()
        .map(|i| {
            let goal = goal_of_measure.get(&i.measure_id).map(|(_, label)| label.clone()).unwrap_or_default();
            let target = i.target.as_ref();
            let actual = i.actual.as_ref();
            let actual_text = actual.map_or(String::new(), |a| match (a.rate, a.reported.value, &a.stage_name) {
                (Some(rate), _, _) => rate_text(Some(rate)),
                (None, Some(value), _) => text(Some(value)),
                (None, None, Some(stage)) => stage.clone(),
                _ => String::new(),
            });
            let row = [
                goal.clone(),
                i.measure_number.to_string(),
                measure_name.get(&i.measure_id).copied().unwrap_or_default().to_owned(),
                i.number.map(|n| n.to_string()).unwrap_or_default(),
                i.indicator_id.to_string(),
                i.name.clone(),
                i.unit.clone(),
                kind_label(i).to_owned(),
                i.baseline.text.clone().unwrap_or_else(|| text(i.baseline.value)),
                i.baseline.fiscal_year.map(label).unwrap_or_default(),
                target.map(|t| t.text.clone().unwrap_or_else(|| text(t.value))).unwrap_or_default(),
                target.map(|t| t.target_fiscal_year_label.clone()).unwrap_or_default(),
                evaluation.fiscal_year_label.clone(),
                actual_text,
                text(actual.and_then(|a| a.reported.numerator)),
                text(actual.and_then(|a| a.reported.denominator)),
                actual.and_then(|a| a.stage_name.clone()).unwrap_or_default(),
                rate_text(i.result.attainment_rate),
                rate_text(i.result.progress_rate),
                status_label(i.result.status).to_owned(),
                grade_label(i.result.grade).to_owned(),
                submission_label(i.submission).to_owned(),
                actual.map(|a| a.note.clone()).unwrap_or_default(),
                i.actual_version.map(|v| v.to_string()).unwrap_or_default(),
                notes.get(&i.indicator_id).cloned().unwrap_or_default(),
            ];
            (goal, row)
        })
        .collect()
}

/// CSV writer that Excel opens as UTF-8: a byte-order mark and CRLF line ends.
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer("\u{feff}".as_bytes().to_vec())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, AppError> {
    writer.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))
}

/// The 進捗管理表 as CSV; `notes` fills the 注記 column.
pub fn evaluation_csv(evaluation: &PlanEvaluation, notes: &SheetNotes) -> Result<Vec<u8>, AppError> {
    let mut writer = csv_writer();
    let csv_error = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    writer.write_record(COLUMNS).map_err(csv_error)?;
    for (_, row) in rows(evaluation, &notes.rows) {
        writer.write_record(row.iter().map(|cell| formula_guard::guard(cell).into_owned())).map_err(csv_error)?;
    }
    finish(writer)
}

fn xlsx_error(error: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {error}"))
}

/// Writes one row of cells from column 0. Only the exports' own number format in a numeric column
/// becomes a number cell ("NaN" or "1e9" in a stage name stays text); everything else is a string
/// cell, never a formula; empty cells stay empty.
fn write_cells(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row_number: u32,
    row: &[String],
    numeric_columns: &[usize],
) -> Result<(), AppError> {
    for (column, value) in row.iter().enumerate() {
        let column_index = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
        match value.parse::<f64>() {
            Ok(number) if numeric_columns.contains(&column) && formula_guard::is_number_text(value) => {
                sheet.write_number(row_number, column_index, number).map_err(xlsx_error)?;
            }
            _ if !value.is_empty() => {
                sheet.write_string(row_number, column_index, value).map_err(xlsx_error)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The 進捗管理表 workbook: a title, the grading used, then indicators under goal headings;
/// a second sheet with the roll-ups per basic goal; a third with the year's 施策評価.
pub fn evaluation_xlsx(
    evaluation: &PlanEvaluation,
    notes: &SheetNotes,
    measure_evaluations: &[crate::evaluation::measure_year::MeasureYearEvaluation],
) -> Result<Vec<u8>, AppError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let header =
        Format::new().set_bold().set_background_color("#DDEBF7").set_text_wrap().set_align(FormatAlign::Center);
    let goal_row = Format::new().set_bold().set_background_color("#F2F2F2");
    let sheet = workbook.add_worksheet().set_name("進捗管理表").map_err(xlsx_error)?;
    sheet
        .write_string_with_format(
            0,
            0,
            format!("{} 進捗管理表 {}", evaluation.plan_name, evaluation.fiscal_year_label),
            &title,
        )
        .map_err(xlsx_error)?;
    let grading = &evaluation.grading;
    sheet
        .write_string(
            1,
            0,
            format!(
                "評価基準: A ≥ {} / B ≥ {} / C ≥ {} / D それ未満 (基準: {})",
                grading.grade_a_min,
                grading.grade_b_min,
                grading.grade_c_min,
                match grading.basis {
                    crate::domain::achievement::GradeBasis::Progress => "進捗率",
                    crate::domain::achievement::GradeBasis::Attainment => "達成率",
                }
            ),
        )
        .map_err(xlsx_error)?;
    if let Some(note) = &notes.plan {
        sheet.write_string(2, 0, format!("注記(計画): {note}")).map_err(xlsx_error)?;
    }
    let header_row = 3;
    for (column, name) in COLUMNS.iter().enumerate() {
        let column = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
        sheet.write_string_with_format(header_row, column, *name, &header).map_err(xlsx_error)?;
    }
    let numeric_columns = [13usize, 14, 15, 17, 18];
    let mut row_number = header_row + 1;
    let mut current_goal = None;
    for (goal, row) in rows(evaluation, &notes.rows) {
        if current_goal.as_ref() != Some(&goal) {
            sheet.write_string_with_format(row_number, 0, &goal, &goal_row).map_err(xlsx_error)?;
            row_number += 1;
            current_goal = Some(goal);
        }
        write_cells(sheet, row_number, &row, &numeric_columns)?;
        row_number += 1;
    }
    sheet.set_freeze_panes(header_row + 1, 0).map_err(xlsx_error)?;
    for (column, width) in [(0u16, 22.0), (2, 36.0), (5, 44.0), (22, 40.0), (24, 60.0)] {
        sheet.set_column_width(column, width).map_err(xlsx_error)?;
    }

    let summary = workbook.add_worksheet().set_name("集計").map_err(xlsx_error)?;
    let headings = [
        "区分",
        "指標数",
        "達成",
        "順調",
        "やや遅れ",
        "遅れ",
        "悪化",
        "未達成",
        "実績なし",
        "達成率(%)",
        "平均進捗率(%)",
        "評価",
    ];
    for (column, name) in headings.iter().enumerate() {
        let column = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
        summary.write_string_with_format(0, column, *name, &bold).map_err(xlsx_error)?;
    }
    let groups = evaluation
        .goals
        .iter()
        .map(|g| (g.label.clone(), &g.roll_up))
        .chain(std::iter::once(("計画全体".to_owned(), &evaluation.plan_roll_up)));
    for (index, (name, roll_up)) in groups.enumerate() {
        let row = u32::try_from(index + 1).map_err(|e| AppError::Internal(e.to_string()))?;
        let counts = &roll_up.status_counts;
        summary.write_string(row, 0, &name).map_err(xlsx_error)?;
        let numbers = [
            roll_up.indicator_count,
            counts.achieved,
            counts.on_track,
            counts.behind,
            counts.off_track,
            counts.deteriorating,
            counts.not_achieved,
            counts.no_data,
        ];
        for (offset, number) in numbers.iter().enumerate() {
            let column = u16::try_from(offset + 1).map_err(|e| AppError::Internal(e.to_string()))?;
            summary.write_number(row, column, *number as f64).map_err(xlsx_error)?;
        }
        for (column, value) in [(9u16, roll_up.achieved_share), (10, roll_up.mean_progress)] {
            if let Some(value) = value.and_then(|v| v.to_string().parse::<f64>().ok()) {
                summary.write_number(row, column, value).map_err(xlsx_error)?;
            }
        }
        summary.write_string(row, 11, grade_label(roll_up.grade)).map_err(xlsx_error)?;
    }
    summary.set_column_width(0, 28.0).map_err(xlsx_error)?;
    let title = format!("{} 施策評価 {}", evaluation.plan_name, evaluation.fiscal_year_label);
    measure_evaluations::add_sheet(&mut workbook, &title, measure_evaluations)?;
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// One approved actual for the open-data CSV.
pub struct OpenDataRow {
    pub fiscal_year: i32,
    pub measure_number: i32,
    pub measure_name: String,
    pub indicator_id: i32,
    pub indicator_name: String,
    pub unit: String,
    pub value: Option<Decimal>,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
    pub rate: Option<Decimal>,
    pub stage_name: Option<String>,
    pub approved_at: chrono::NaiveDateTime,
}

pub const OPEN_DATA_COLUMNS: [&str; 16] = [
    "全国地方公共団体コード",
    "地方公共団体名",
    "計画",
    "年度",
    "年度表記",
    "施策No.",
    "推進施策",
    "指標ID",
    "指標",
    "単位",
    "実績値",
    "分子",
    "分母",
    "比率(%)",
    "段階",
    "承認日時",
];

pub fn open_data_csv(
    municipality_code: &str,
    municipality_name: &str,
    plan_name: &str,
    rows: &[OpenDataRow],
) -> Result<Vec<u8>, AppError> {
    let mut writer = csv_writer();
    let csv_error = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    writer.write_record(OPEN_DATA_COLUMNS).map_err(csv_error)?;
    for row in rows {
        let cells = [
            municipality_code.to_owned(),
            municipality_name.to_owned(),
            plan_name.to_owned(),
            row.fiscal_year.to_string(),
            label(row.fiscal_year),
            row.measure_number.to_string(),
            row.measure_name.clone(),
            row.indicator_id.to_string(),
            row.indicator_name.clone(),
            row.unit.clone(),
            text(row.value),
            text(row.numerator),
            text(row.denominator),
            rate_text(row.rate),
            row.stage_name.clone().unwrap_or_default(),
            row.approved_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        ];
        writer.write_record(cells.iter().map(|cell| formula_guard::guard(cell).into_owned())).map_err(csv_error)?;
    }
    finish(writer)
}

/// Columns of the national comparison export.
pub const COMPARISON_COLUMNS: [&str; 16] = [
    "順位",
    "全国地方公共団体コード",
    "地方公共団体名",
    "計画",
    "指標ID",
    "指標",
    "報告状況",
    "実績値",
    "分子",
    "分母",
    "サンプル",
    "目標",
    "目標年度",
    "達成率(%)",
    "進捗率(%)",
    "状況",
];

fn report_state_label(state: ReportState) -> &'static str {
    match state {
        ReportState::Reported => "報告済",
        ReportState::Pending => "承認待ち",
        ReportState::Missing => "未報告",
    }
}

/// One line per municipality, then one line with the totals: Σ分子, Σ分母 and the pooled rate in
/// the 実績値 column (never a mean of rates).
fn comparison_rows(comparison: &NationalComparison) -> Vec<[String; 16]> {
    let mut rows: Vec<[String; 16]> = comparison
        .rows
        .iter()
        .map(|row| {
            [
                row.rank.map(|r| r.to_string()).unwrap_or_default(),
                row.municipality.code.clone(),
                row.municipality.name.clone(),
                row.plan_name.clone(),
                row.indicator_id.to_string(),
                row.indicator_name.clone(),
                report_state_label(row.state).to_owned(),
                rate_text(row.value),
                text(row.numerator),
                text(row.denominator),
                if row.is_sample { "サンプル(実際の値ではない)".to_owned() } else { String::new() },
                text(row.target),
                row.target_fiscal_year.map(label).unwrap_or_default(),
                rate_text(row.attainment_rate),
                rate_text(row.progress_rate),
                status_label(row.status).to_owned(),
            ]
        })
        .collect();
    let summary = &comparison.summary;
    let mut totals: [String; 16] = Default::default();
    totals[2] = format!(
        "全体 (報告{} / 承認待ち{} / 未報告{}; 平均 {})",
        summary.reported,
        summary.pending,
        summary.missing,
        rate_text(summary.mean)
    );
    totals[7] = rate_text(summary.pooled_rate);
    totals[8] = text(summary.numerator_total);
    totals[9] = text(summary.denominator_total);
    rows.push(totals);
    rows
}

pub fn comparison_csv(comparison: &NationalComparison) -> Result<Vec<u8>, AppError> {
    let mut writer = csv_writer();
    let csv_error = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    writer.write_record(COMPARISON_COLUMNS).map_err(csv_error)?;
    for row in comparison_rows(comparison) {
        writer.write_record(row.iter().map(|cell| formula_guard::guard(cell).into_owned())).map_err(csv_error)?;
    }
    finish(writer)
}

/// The comparison workbook: a title with the definition, then the same lines as the CSV.
pub fn comparison_xlsx(comparison: &NationalComparison) -> Result<Vec<u8>, AppError> {
    let mut workbook = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let header =
        Format::new().set_bold().set_background_color("#DDEBF7").set_text_wrap().set_align(FormatAlign::Center);
    let definition = &comparison.national_indicator;
    let sheet = workbook.add_worksheet().set_name("団体間比較").map_err(xlsx_error)?;
    sheet
        .write_string_with_format(0, 0, format!("{} {}", definition.name, comparison.fiscal_year_label), &title)
        .map_err(xlsx_error)?;
    let formula = match (&definition.numerator_definition, &definition.denominator_definition) {
        (Some(numerator), Some(denominator)) => format!("{numerator} ÷ {denominator}"),
        _ => definition.description.clone(),
    };
    sheet
        .write_string(
            1,
            0,
            format!(
                "{} 重点取組事項{}「{}」: {formula} (出典: {})",
                definition.edition.name, definition.priority_number, definition.priority_name, definition.source
            ),
        )
        .map_err(xlsx_error)?;
    let header_row = 3;
    for (column, name) in COMPARISON_COLUMNS.iter().enumerate() {
        let column = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
        sheet.write_string_with_format(header_row, column, *name, &header).map_err(xlsx_error)?;
    }
    let numeric_columns = [0usize, 4, 7, 8, 9, 11, 13, 14];
    for (index, row) in comparison_rows(comparison).iter().enumerate() {
        let row_number = header_row + 1 + u32::try_from(index).map_err(|e| AppError::Internal(e.to_string()))?;
        write_cells(sheet, row_number, row, &numeric_columns)?;
    }
    sheet.set_freeze_panes(header_row + 1, 0).map_err(xlsx_error)?;
    for (column, width) in [(2u16, 28.0), (3, 36.0), (5, 40.0)] {
        sheet.set_column_width(column, width).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}
