//! The 施策評価 of a plan's year as a table: one row per measure and owning department, with the
//! department's evaluation and the 本部's assessment of the measure; as CSV (UTF-8 with BOM) and as
//! a worksheet (its own workbook, or a sheet of the 進捗管理表 workbook). Departments' evaluations
//! are read back from the same columns ([`MeasureEvaluations`]).

use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use super::import::{
    RowCause, RowCells, Table, TableFormat, echo, fiscal_year, header_column, required_column, whole_number,
};
use super::{csv_writer, finish, formula_guard, grade_label, submission_label, write_cells, xlsx_error};
use crate::domain::achievement::Grade;
use crate::domain::measure_evaluation::{DepartmentReport, RoadmapProgress};
use crate::domain::plan::from_text;
use crate::error::AppError;
use crate::evaluation::measure_year::{DepartmentSlot, MeasureYearEvaluation};

/// The columns of the 施策評価 table.
pub const MEASURE_EVALUATION_COLUMNS: [&str; 20] = [
    "施策No.",
    "推進施策",
    "施策ID",
    "年度",
    "ロードマップ(計画)",
    "所管課",
    "所管課ID",
    "提出状況",
    "取組実績",
    "進捗",
    "進捗の理由",
    "自己評価",
    "課題",
    "今後の方向性",
    "版",
    "本部評価",
    "本部コメント",
    "方向性",
    "方向性の理由",
    "計画への反映",
];

/// Number cells: 施策No., 施策ID, 所管課ID, 版.
const NUMERIC_COLUMNS: [usize; 4] = [0, 2, 6, 14];

fn department_cells(slot: Option<&DepartmentSlot>) -> [String; 9] {
    let Some(slot) = slot else {
        return Default::default();
    };
    let evaluation = slot.evaluation.as_ref();
    let report = evaluation.map(|e| &e.report);
    [
        slot.department_name.clone(),
        slot.department_id.to_string(),
        submission_label(slot.submission).to_owned(),
        report.map(|r| r.work_done.clone()).unwrap_or_default(),
        report.map(|r| r.roadmap_progress.label_ja().to_owned()).unwrap_or_default(),
        report.map(|r| r.progress_reason.clone()).unwrap_or_default(),
        report.map(|r| grade_label(r.self_grade).to_owned()).unwrap_or_default(),
        report.map(|r| r.issues.clone()).unwrap_or_default(),
        report.map(|r| r.next_steps.clone()).unwrap_or_default(),
    ]
}

/// One row per measure and department (a measure no department owns that year: one row without
/// one), in measure order; the assessment repeated on each of the measure's rows.
pub fn rows(evaluations: &[MeasureYearEvaluation]) -> Vec<[String; 20]> {
    let mut rows = Vec::new();
    for measure in evaluations {
        let roadmap = measure.roadmap.iter().map(|step| step.activity.as_str()).collect::<Vec<_>>().join("・");
        let assessment = measure.assessment.as_ref();
        let slots: Vec<Option<&DepartmentSlot>> =
            if measure.departments.is_empty() { vec![None] } else { measure.departments.iter().map(Some).collect() };
        for slot in slots {
            let [name, id, state, work_done, progress, reason, grade, issues, next_steps] = department_cells(slot);
            let version = slot.and_then(|s| s.evaluation.as_ref()).map(|e| e.version.to_string()).unwrap_or_default();
            rows.push([
                measure.measure_number.to_string(),
                measure.measure_name.clone(),
                measure.measure_id.to_string(),
                measure.fiscal_year_label.clone(),
                roadmap.clone(),
                name,
                id,
                state,
                work_done,
                progress,
                reason,
                grade,
                issues,
                next_steps,
                version,
                assessment.map(|a| grade_label(a.hq_grade).to_owned()).unwrap_or_default(),
                assessment.map(|a| a.hq_comment.clone()).unwrap_or_default(),
                assessment.map(|a| a.direction.clone()).unwrap_or_default(),
                assessment.map(|a| a.direction_reason.clone()).unwrap_or_default(),
                assessment
                    .map(|a| a.plan_links.iter().map(|l| l.description.as_str()).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default(),
            ]);
        }
    }
    rows
}

pub fn measure_evaluations_csv(evaluations: &[MeasureYearEvaluation]) -> Result<Vec<u8>, AppError> {
    let mut writer = csv_writer();
    let csv_error = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    writer.write_record(MEASURE_EVALUATION_COLUMNS).map_err(csv_error)?;
    for row in rows(evaluations) {
        writer.write_record(row.iter().map(|cell| formula_guard::guard(cell).into_owned())).map_err(csv_error)?;
    }
    finish(writer)
}

/// Adds the 施策評価 sheet to a workbook: a title, then the table.
pub fn add_sheet(workbook: &mut Workbook, title: &str, evaluations: &[MeasureYearEvaluation]) -> Result<(), AppError> {
    let heading = Format::new().set_bold().set_font_size(14);
    let header =
        Format::new().set_bold().set_background_color("#DDEBF7").set_text_wrap().set_align(FormatAlign::Center);
    let sheet = workbook.add_worksheet().set_name("施策評価").map_err(xlsx_error)?;
    sheet.write_string_with_format(0, 0, title, &heading).map_err(xlsx_error)?;
    let header_row = 2;
    for (column, name) in MEASURE_EVALUATION_COLUMNS.iter().enumerate() {
        let column = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
        sheet.write_string_with_format(header_row, column, *name, &header).map_err(xlsx_error)?;
    }
    for (index, row) in rows(evaluations).iter().enumerate() {
        let row_number = header_row + 1 + u32::try_from(index).map_err(|e| AppError::Internal(e.to_string()))?;
        write_cells(sheet, row_number, row, &NUMERIC_COLUMNS)?;
    }
    sheet.set_freeze_panes(header_row + 1, 0).map_err(xlsx_error)?;
    for (column, width) in
        [(1u16, 36.0), (4, 30.0), (8, 48.0), (12, 30.0), (13, 30.0), (16, 36.0), (18, 36.0), (19, 40.0)]
    {
        sheet.set_column_width(column, width).map_err(xlsx_error)?;
    }
    Ok(())
}

/// The 施策評価 workbook of a plan's year.
pub fn measure_evaluations_xlsx(title: &str, evaluations: &[MeasureYearEvaluation]) -> Result<Vec<u8>, AppError> {
    let mut workbook = Workbook::new();
    add_sheet(&mut workbook, title, evaluations)?;
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// A department's 施策評価 read from a row of the table above (before any check against the plan).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationImportRow {
    /// 1-based record (CSV) or row (xlsx) number, counting the header as a row
    pub row: usize,
    pub measure_id: i32,
    pub fiscal_year: i32,
    pub department_id: i32,
    pub report: DepartmentReport,
    /// The version of the evaluation being corrected (its ETag's number)
    pub version: Option<i32>,
}

/// The columns an import of 施策評価 reads.
pub struct EvaluationColumns {
    measure: usize,
    year: usize,
    department: usize,
    work_done: usize,
    progress: usize,
    progress_reason: Option<usize>,
    self_grade: usize,
    issues: Option<usize>,
    next_steps: Option<usize>,
    version: Option<usize>,
}

/// 施策評価 in the columns of [`MEASURE_EVALUATION_COLUMNS`]: the departments' part (取組実績 to 版);
/// the 本部's columns are not read.
pub struct MeasureEvaluations;

impl TableFormat for MeasureEvaluations {
    const KEY_COLUMN: &'static str = "施策ID";
    type Columns = EvaluationColumns;
    type Row = EvaluationImportRow;

    fn columns(header: &[&str]) -> Result<EvaluationColumns, AppError> {
        Ok(EvaluationColumns {
            measure: required_column(header, "施策ID")?,
            year: required_column(header, "年度")?,
            department: required_column(header, "所管課ID")?,
            work_done: required_column(header, "取組実績")?,
            progress: required_column(header, "進捗")?,
            progress_reason: header_column(header, "進捗の理由"),
            self_grade: required_column(header, "自己評価")?,
            issues: header_column(header, "課題"),
            next_steps: header_column(header, "今後の方向性"),
            version: header_column(header, "版"),
        })
    }

    fn read_row(cells: &RowCells<'_>, columns: &EvaluationColumns, file: &mut Table<EvaluationImportRow>) {
        let reported = [columns.work_done, columns.progress, columns.self_grade];
        if cells.trimmed(Some(columns.measure)).is_empty()
            || reported.iter().all(|c| cells.trimmed(Some(*c)).is_empty())
        {
            return; // blank lines, and departments that report nothing in the file: left as they are
        }
        let mut errors = Vec::new();
        let mut id = |column: &str, index: usize, what: &str| match whole_number(cells, column, Some(index), what) {
            Ok(Some(id)) => Some(id),
            Ok(None) => {
                errors.push(cells.error(column, RowCause::Unreadable, format!("{column} is empty")));
                None
            }
            Err(error) => {
                errors.push(error);
                None
            }
        };
        let measure_id = id("施策ID", columns.measure, "a measure id");
        let department_id = id("所管課ID", columns.department, "a department id");
        let fiscal_year = fiscal_year(cells, columns.year).map_err(|e| errors.push(e)).ok();
        let version = whole_number(cells, "版", columns.version, "a version number").map_err(|e| errors.push(e)).ok();
        let progress_text = cells.trimmed(Some(columns.progress));
        let roadmap_progress = from_text::<RoadmapProgress>(progress_text)
            .map_err(|_| {
                let expected = RoadmapProgress::ALL.map(RoadmapProgress::label_ja).join("・");
                errors.push(cells.error(
                    "進捗",
                    RowCause::Unreadable,
                    format!("`{}`: {expected} のいずれか", echo(progress_text)),
                ))
            })
            .ok();
        let grade_text = cells.trimmed(Some(columns.self_grade));
        let self_grade = from_text::<Grade>(&grade_text.to_ascii_uppercase())
            .map_err(|_| {
                errors.push(cells.error(
                    "自己評価",
                    RowCause::Unreadable,
                    format!("`{}`: A・B・C・D のいずれか", echo(grade_text)),
                ))
            })
            .ok();
        match (measure_id, department_id, fiscal_year, version, roadmap_progress, self_grade) {
            (Some(measure_id), Some(department_id), Some(fiscal_year), Some(version), Some(progress), Some(grade))
                if errors.is_empty() =>
            {
                file.rows.push(EvaluationImportRow {
                    row: cells.row,
                    measure_id,
                    fiscal_year,
                    department_id,
                    report: DepartmentReport {
                        work_done: cells.raw(Some(columns.work_done)).to_owned(),
                        roadmap_progress: progress,
                        progress_reason: cells.raw(columns.progress_reason).to_owned(),
                        self_grade: grade,
                        issues: cells.raw(columns.issues).to_owned(),
                        next_steps: cells.raw(columns.next_steps).to_owned(),
                    },
                    version,
                })
            }
            _ => errors.into_iter().for_each(|e| file.errors.push(e)),
        }
    }
}
