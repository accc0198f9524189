//! The 進捗管理表 as spreadsheets: the evaluation as CSV (UTF-8 with BOM, for Excel) and as
//! `.xlsx`, the open-data CSV of approved actuals, and reading a year's actuals back from the same
//! columns for bulk import.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use crate::db::plans::label;
use crate::domain::achievement::{Grade, Status};
use crate::error::{AppError, FieldError};
use crate::evaluation::plan::{IndicatorEvaluation, PlanEvaluation, SubmissionState};

pub const CSV_MEDIA_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Columns of the 進捗管理表, shared by export and import. Import reads the ones marked below.
pub const COLUMNS: [&str; 24] = [
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
];

pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Achieved => "達成",
        Status::OnTrack => "順調",
        Status::Behind => "やや遅れ",
        Status::OffTrack => "遅れ",
        Status::Deteriorating => "悪化",
        Status::NotAchieved => "未達成",
        Status::NoData => "実績なし",
        Status::NotAssessable => "評価不能",
    }
}

fn grade_label(grade: Grade) -> &'static str {
    match grade {
        Grade::A => "A",
        Grade::B => "B",
        Grade::C => "C",
        Grade::D => "D",
        Grade::NotAssessable => "—",
    }
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
fn rows(evaluation: &PlanEvaluation) -> Vec<(String, [String; 24])> {
    let goal_of_measure: BTreeMap<i32, (i32, String)> = evaluation
        .measures
        .iter()
        .filter_map(|m| {
            evaluation
                .goals
                .iter()
                .find(|g| g.id == m.main_goal_id)
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

pub fn evaluation_csv(evaluation: &PlanEvaluation) -> Result<Vec<u8>, AppError> {
    let mut writer = csv_writer();
    let csv_error = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    writer.write_record(COLUMNS).map_err(csv_error)?;
    for (_, row) in rows(evaluation) {
        writer.write_record(&row).map_err(csv_error)?;
    }
    finish(writer)
}

fn xlsx_error(error: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {error}"))
}

/// The 進捗管理表 workbook: a title, the grading used, then indicators under goal headings;
/// a second sheet with the roll-ups per basic goal.
pub fn evaluation_xlsx(evaluation: &PlanEvaluation) -> Result<Vec<u8>, AppError> {
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
    let header_row = 3;
    for (column, name) in COLUMNS.iter().enumerate() {
        let column = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
        sheet.write_string_with_format(header_row, column, *name, &header).map_err(xlsx_error)?;
    }
    let numeric_columns = [13usize, 14, 15, 17, 18];
    let mut row_number = header_row + 1;
    let mut current_goal = None;
    for (goal, row) in rows(evaluation) {
        if current_goal.as_ref() != Some(&goal) {
            sheet.write_string_with_format(row_number, 0, &goal, &goal_row).map_err(xlsx_error)?;
            row_number += 1;
            current_goal = Some(goal);
        }
        for (column, value) in row.iter().enumerate() {
            let column_index = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
            match value.parse::<f64>() {
                Ok(number) if numeric_columns.contains(&column) => {
                    sheet.write_number(row_number, column_index, number).map_err(xlsx_error)?;
                }
                _ if !value.is_empty() => {
                    sheet.write_string(row_number, column_index, value).map_err(xlsx_error)?;
                }
                _ => {}
            }
        }
        row_number += 1;
    }
    sheet.set_freeze_panes(header_row + 1, 0).map_err(xlsx_error)?;
    for (column, width) in [(0u16, 22.0), (2, 36.0), (5, 44.0), (22, 40.0)] {
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
        writer
            .write_record([
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
            ])
            .map_err(csv_error)?;
    }
    finish(writer)
}

/// A row of an import file, as read (before any check against the plan).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based line (CSV) or row (xlsx) number, counting the header as 1
    pub row: usize,
    pub indicator_id: i32,
    pub fiscal_year: i32,
    pub value: Option<Decimal>,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
    pub stage_name: Option<String>,
    pub note: String,
    pub version: Option<i32>,
}

/// A problem with one cell or row of an import file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    #[schema(example = "分母")]
    pub column: String,
    #[schema(example = "must be greater than 0")]
    pub reason: String,
}

/// Reads rows from a table whose first non-empty row holds the column names (a 進捗管理表
/// export: title rows and goal heading rows are skipped).
fn read_table(table: Vec<Vec<String>>) -> Result<(Vec<ImportRow>, Vec<RowError>), AppError> {
    let header_index = table.iter().position(|row| row.iter().any(|c| c.trim() == "指標ID")).ok_or_else(|| {
        AppError::invalid("file", "no header row with the column 指標ID (export a 進捗管理表 to see the format)")
    })?;
    let header: Vec<String> =
        table[header_index].iter().map(|c| c.trim().trim_start_matches('\u{feff}').to_owned()).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let indicator_column = column("指標ID").ok_or_else(|| AppError::invalid("file", "missing column 指標ID"))?;
    let year_column = column("年度").ok_or_else(|| AppError::invalid("file", "missing column 年度"))?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (offset, cells) in table.iter().enumerate().skip(header_index + 1) {
        let row = offset + 1;
        let cell = |index: Option<usize>| index.and_then(|i| cells.get(i)).map(|c| c.trim()).unwrap_or_default();
        if cell(Some(indicator_column)).is_empty() {
            continue; // goal headings, blank lines
        }
        let mut row_errors = Vec::new();
        let mut error =
            |column: &str, reason: String| row_errors.push(RowError { row, column: column.to_owned(), reason });
        let indicator_id = cell(Some(indicator_column)).parse::<i32>().map_err(|_| ()).ok();
        if indicator_id.is_none() {
            error("指標ID", format!("`{}` is not an indicator id", cell(Some(indicator_column))));
        }
        let fiscal_year = cell(Some(year_column)).parse::<crate::domain::fiscal_year::FiscalYear>().ok();
        if fiscal_year.is_none() {
            error("年度", format!("`{}` is not a fiscal year (2020 or 令和2年度)", cell(Some(year_column))));
        }
        let mut decimal = |name: &str| -> Option<Decimal> {
            let raw = cell(column(name));
            if raw.is_empty() {
                return None;
            }
            let cleaned = raw.replace(',', "");
            match cleaned.parse::<Decimal>() {
                Ok(value) => Some(value),
                Err(_) => {
                    error(name, format!("`{raw}` is not a number"));
                    None
                }
            }
        };
        let kind_is_ratio = !cell(column("分子")).is_empty() || !cell(column("分母")).is_empty();
        let value = if kind_is_ratio { None } else { decimal("実績") };
        let numerator = decimal("分子");
        let denominator = decimal("分母");
        let version_text = cell(column("版"));
        let version = if version_text.is_empty() {
            None
        } else {
            match version_text.parse::<i32>() {
                Ok(version) => Some(version),
                Err(_) => {
                    error("版", format!("`{version_text}` is not a version number"));
                    None
                }
            }
        };
        let stage_name = Some(cell(column("段階")).to_owned()).filter(|s| !s.is_empty());
        // A milestone's 実績 column shows the stage name; accept it there too.
        let stage_name = stage_name.or_else(|| {
            let raw = cell(column("実績"));
            (!raw.is_empty() && value.is_none() && !kind_is_ratio && raw.replace(',', "").parse::<Decimal>().is_err())
                .then(|| raw.to_owned())
        });
        let value = if stage_name.is_some() { None } else { value };
        if value.is_none()
            && numerator.is_none()
            && denominator.is_none()
            && stage_name.is_none()
            && row_errors.is_empty()
        {
            continue; // nothing reported for this indicator: left as it is
        }
        match (indicator_id, fiscal_year, row_errors.is_empty()) {
            (Some(indicator_id), Some(fiscal_year), true) => rows.push(ImportRow {
                row,
                indicator_id,
                fiscal_year: fiscal_year.year(),
                value,
                numerator,
                denominator,
                stage_name,
                note: cell(column("備考")).to_owned(),
                version,
            }),
            _ => errors.append(&mut row_errors),
        }
    }
    Ok((rows, errors))
}

pub fn read_csv(bytes: &[u8]) -> Result<(Vec<ImportRow>, Vec<RowError>), AppError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut table = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| AppError::invalid("file", format!("not a readable CSV file: {e}")))?;
        table.push(record.iter().map(str::to_owned).collect());
    }
    read_table(table)
}

pub fn read_xlsx(bytes: &[u8]) -> Result<(Vec<ImportRow>, Vec<RowError>), AppError> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| AppError::invalid("file", format!("not a readable xlsx file: {e}")))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| AppError::invalid("file", "the workbook has no sheet"))?
        .map_err(|e| AppError::invalid("file", format!("the first sheet cannot be read: {e}")))?;
    let table = range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Float(f) => {
                        Decimal::try_from(*f).map(|d| d.normalize().to_string()).unwrap_or_else(|_| f.to_string())
                    }
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    read_table(table)
}

/// Import row errors as API validation errors (field `rows[N].列`).
pub fn as_field_errors(errors: &[RowError]) -> Vec<FieldError> {
    errors.iter().map(|e| FieldError::new(format!("row {} {}", e.row, e.column), e.reason.clone())).collect()
}
