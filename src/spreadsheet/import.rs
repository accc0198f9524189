//! Reading a year's actuals back from the columns of the 進捗管理表, as CSV or xlsx.
//!
//! Files come from any department user, so reading is bounded: rows, columns, cells and the length
//! of each cell are checked as the file is read, row by row, and a file past a bound is refused
//! with a 422 naming it. Nothing is kept per row beyond the parsed figures, and row errors keep
//! only the first [`MAX_REPORTED_ROW_ERRORS`] (with the total), each echoing at most
//! [`MAX_ECHOED_CELL_CHARS`] of the offending cell.

use rust_decimal::Decimal;

use super::formula_guard;
use crate::domain::decimal_input::{DecimalInput, DecimalInputError};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::limits;
use crate::error::{AppError, FieldError};

/// Most data rows (the rows after the header) in one import: the largest file a department or hq
/// may send. Larger files are refused; split them by year or department.
pub const MAX_IMPORT_ROWS: usize = 100_000;

/// The header row (the one naming 指標ID) must be within this many rows from the top; a 進捗管理表
/// export has a title and grading line above it.
pub const MAX_ROWS_BEFORE_HEADER: usize = 50;

/// Most columns read per row (fields of a CSV line, columns of a sheet). The 進捗管理表 has 24.
pub const MAX_IMPORT_COLUMNS: usize = 64;

/// Most non-empty cells in one file: [`MAX_IMPORT_ROWS`] full rows of the 進捗管理表 and a margin.
pub const MAX_IMPORT_CELLS: usize = 3_000_000;

/// Longest cell, in characters: the longest free text (a note) the API accepts.
pub const MAX_IMPORT_CELL_CHARS: usize = limits::MAX_TEXT_CHARS;

/// Most row errors listed in an import report; the report also gives the total.
pub const MAX_REPORTED_ROW_ERRORS: usize = 100;

/// Longest piece of a cell quoted back in a row error, in characters.
pub const MAX_ECHOED_CELL_CHARS: usize = 200;

/// A row of an import file, as read (before any check against the plan).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 1-based record (CSV) or row (xlsx) number, counting the header as a row
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
    pub cause: RowCause,
    /// The cause in words, with the cell's own text where it helps
    #[schema(example = "分母は 0 より大きい数で入力してください (must be greater than 0)")]
    pub reason: String,
}

/// Why a row was refused: what a program reading the report acts on (`reason` is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowCause {
    /// A cell that is not what its column holds: an indicator id, a fiscal year, a number, a version
    Unreadable,
    /// A text over its bound, or holding U+0000
    TextBound,
    /// The same indicator and year (a 施策評価: measure, year and department) as an earlier row
    Duplicate,
    /// No indicator of this id in the plan (another municipality's reads the same)
    UnknownIndicator,
    /// An indicator of another of the municipality's plans
    IndicatorOfAnotherPlan,
    /// An actual exists for the year and the row names no 版 to overwrite
    VersionMissing,
    /// The 版 the row names is not the actual's current one (or there is no actual yet)
    VersionStale,
    /// Figures the indicator does not accept (kind, range, year)
    InvalidFigures,
    /// Outside the caller's scope: another department's indicator, a deactivated department
    OutOfScope,
    /// The actual's state does not allow the change (e.g. already approved)
    StateConflict,
    /// 施策評価: no measure of this id in the plan (another municipality's reads the same)
    UnknownMeasure,
    /// 施策評価: a report the evaluation does not accept (texts, progress, grade, year)
    InvalidReport,
}

impl RowError {
    pub fn new(row: usize, column: &str, cause: RowCause, reason: String) -> Self {
        Self { row, column: column.to_owned(), cause, reason }
    }
}

/// Row errors of one import: the first [`MAX_REPORTED_ROW_ERRORS`] by row, and how many there were.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowErrors {
    listed: Vec<RowError>,
    total: usize,
}

impl RowErrors {
    /// Records an error. Errors arrive roughly in row order, so the listed ones are kept sorted
    /// and the one past the cap with the highest row is dropped.
    pub fn push(&mut self, error: RowError) {
        self.total += 1;
        let at = self.listed.partition_point(|e| e.row <= error.row);
        if at < MAX_REPORTED_ROW_ERRORS {
            self.listed.insert(at, error);
            self.listed.truncate(MAX_REPORTED_ROW_ERRORS);
        }
    }

    /// Adds another list's errors; the total counts those it did not list too.
    pub fn merge(&mut self, other: RowErrors) {
        let unlisted = other.total - other.listed.len();
        for error in other.listed {
            self.push(error);
        }
        self.total += unlisted;
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many errors there were, listed or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The first errors by row, at most [`MAX_REPORTED_ROW_ERRORS`].
    pub fn listed(&self) -> &[RowError] {
        &self.listed
    }

    pub fn into_listed(self) -> Vec<RowError> {
        self.listed
    }
}

/// What a file held: the rows read, and the rows that could not be read.
#[derive(Debug)]
pub struct Table<R> {
    pub rows: Vec<R>,
    pub errors: RowErrors,
}

impl<R> Default for Table<R> {
    fn default() -> Self {
        Self { rows: Vec::new(), errors: RowErrors::default() }
    }
}

/// A file of actuals: the rows with figures, and the rows that could not be read.
pub type ImportFile = Table<ImportRow>;

/// What one kind of import reads from a table: the column that marks the header row, the columns
/// found in it, and how a data row becomes a row of the import (or row errors, or nothing).
pub trait TableFormat {
    /// The header cell that marks the header row (`指標ID`).
    const KEY_COLUMN: &'static str;
    /// The columns read, found in the header row.
    type Columns;
    type Row;
    fn columns(cells: &[&str]) -> Result<Self::Columns, AppError>;
    fn read_row(cells: &RowCells<'_>, columns: &Self::Columns, file: &mut Table<Self::Row>);
}

/// One data row's cells as an import reads them.
pub struct RowCells<'a> {
    /// 1-based record (CSV) or row (xlsx) number, counting the header as a row
    pub row: usize,
    source: Source,
    cells: Vec<&'a str>,
}

impl RowCells<'_> {
    /// The cell in column `index` as written (a CSV export's formula guard removed); empty
    /// past the row's last cell or without a column.
    pub fn raw(&self, index: Option<usize>) -> &str {
        let text = index.and_then(|i| self.cells.get(i)).copied().unwrap_or_default();
        match self.source {
            Source::Csv => formula_guard::unguard(text),
            Source::Xlsx => text,
        }
    }

    /// [`Self::raw`] trimmed: ids, figures, codes.
    pub fn trimmed(&self, index: Option<usize>) -> &str {
        let text = index.and_then(|i| self.cells.get(i)).copied().unwrap_or_default().trim();
        match self.source {
            Source::Csv => formula_guard::unguard(text),
            Source::Xlsx => text,
        }
    }

    pub fn error(&self, column: &str, cause: RowCause, reason: String) -> RowError {
        RowError::new(self.row, column, cause, reason)
    }
}

/// The column named `name` in a header, if any.
pub fn header_column(header: &[&str], name: &str) -> Option<usize> {
    header.iter().position(|h| *h == name)
}

/// The column named `name`, which an import needs (a 422 naming it otherwise).
pub fn required_column(header: &[&str], name: &str) -> Result<usize, AppError> {
    header_column(header, name).ok_or_else(|| file_error(format!("missing column {name}")))
}

/// A whole-number cell (an id, a version): `None` when empty, a row error when unreadable.
pub fn whole_number(
    cells: &RowCells<'_>,
    column: &str,
    index: Option<usize>,
    what: &str,
) -> Result<Option<i32>, RowError> {
    let text = cells.trimmed(index);
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i32>()
        .map(Some)
        .map_err(|_| cells.error(column, RowCause::Unreadable, format!("`{}` is not {what}", echo(text))))
}

/// A fiscal-year cell (2020 or 令和2年度).
pub fn fiscal_year(cells: &RowCells<'_>, index: usize) -> Result<i32, RowError> {
    let text = cells.trimmed(Some(index));
    text.parse::<FiscalYear>().map(FiscalYear::year).map_err(|_| {
        cells.error("年度", RowCause::Unreadable, format!("`{}` is not a fiscal year (2020 or 令和2年度)", echo(text)))
    })
}

/// Cell content as quoted in an error: at most [`MAX_ECHOED_CELL_CHARS`], then `…`.
pub fn echo(cell: &str) -> String {
    match cell.char_indices().nth(MAX_ECHOED_CELL_CHARS) {
        Some((cut, _)) => format!("{}…", &cell[..cut]),
        None => cell.to_owned(),
    }
}

fn file_error(message: String) -> AppError {
    AppError::invalid("file", message)
}

/// Refuses a cell longer than [`MAX_IMPORT_CELL_CHARS`]; `where_` says which cell.
pub(super) fn check_cell_length(text: &str, where_: impl FnOnce() -> String) -> Result<(), AppError> {
    // A UTF-8 character is at most 4 bytes: short texts need no count.
    if text.len() > MAX_IMPORT_CELL_CHARS && text.chars().count() > MAX_IMPORT_CELL_CHARS {
        return Err(cell_too_long(&where_()));
    }
    Ok(())
}

/// The refusal of a cell (`where_`, e.g. `cell D6`) longer than [`MAX_IMPORT_CELL_CHARS`].
pub(super) fn cell_too_long(where_: &str) -> AppError {
    file_error(format!("{where_} is longer than {MAX_IMPORT_CELL_CHARS} characters, the most a cell may hold"))
}

/// Spreadsheet column letters of a 0-based index (0 → A, 26 → AA), for messages.
pub(super) fn column_letters(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// The columns an import of actuals reads, found in the header row.
pub struct Columns {
    indicator: usize,
    year: usize,
    value: Option<usize>,
    numerator: Option<usize>,
    denominator: Option<usize>,
    stage: Option<usize>,
    note: Option<usize>,
    version: Option<usize>,
}

/// Actuals in the columns of the 進捗管理表.
pub struct Actuals;

impl TableFormat for Actuals {
    const KEY_COLUMN: &'static str = "指標ID";
    type Columns = Columns;
    type Row = ImportRow;

    fn columns(header: &[&str]) -> Result<Columns, AppError> {
        let column = |name: &str| header_column(header, name);
        Ok(Columns {
            indicator: required_column(header, "指標ID")?,
            year: required_column(header, "年度")?,
            value: column("実績"),
            numerator: column("分子"),
            denominator: column("分母"),
            stage: column("段階"),
            note: column("備考"),
            version: column("版"),
        })
    }

    fn read_row(cells: &RowCells<'_>, columns: &Columns, file: &mut ImportFile) {
        read_row(cells, columns, file)
    }
}

/// Which kind of file is read: only CSV exports quote formula-like text (see [`formula_guard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Csv,
    Xlsx,
}

/// Turns the rows of a table, pushed one at a time, into import rows. The table's first rows up
/// to the one naming the format's key column are skipped (a 進捗管理表 export has a title above
/// it); so are goal headings and blank lines.
pub struct TableReader<F: TableFormat = Actuals> {
    source: Source,
    columns: Option<(usize, F::Columns)>,
    last_row: usize,
    cells: usize,
    file: Table<F::Row>,
}

impl<F: TableFormat> TableReader<F> {
    pub(super) fn new(source: Source) -> Self {
        Self { source, columns: None, last_row: 0, cells: 0, file: Table::default() }
    }

    /// Counts the non-empty cells read so far against [`MAX_IMPORT_CELLS`].
    pub(super) fn count_cell(&mut self) -> Result<(), AppError> {
        self.cells += 1;
        if self.cells > MAX_IMPORT_CELLS {
            return Err(file_error(format!(
                "the file has more than {MAX_IMPORT_CELLS} filled cells, the most one import reads"
            )));
        }
        Ok(())
    }

    /// Checks a row number before its cells are read: rows only go down, the header comes early,
    /// and at most [`MAX_IMPORT_ROWS`] rows follow it.
    pub(super) fn check_row_number(&self, row: usize) -> Result<(), AppError> {
        if row <= self.last_row {
            return Err(file_error(format!("row {row} comes after row {}: rows must be in order", self.last_row)));
        }
        match &self.columns {
            None if row > MAX_ROWS_BEFORE_HEADER => Err(file_error(format!(
                "no header row with the column {} in the first {MAX_ROWS_BEFORE_HEADER} rows \
                 (export the table to see the format)",
                F::KEY_COLUMN
            ))),
            Some((header_row, _)) if row - header_row > MAX_IMPORT_ROWS => Err(file_error(format!(
                "the file has more than {MAX_IMPORT_ROWS} rows after the header, the most one import takes; \
                 split it into smaller files"
            ))),
            _ => Ok(()),
        }
    }

    /// Reads one row (`row` is its 1-based number); cells past the last one given are empty.
    pub(super) fn push_row<S: AsRef<str>>(&mut self, row: usize, cells: &[S]) -> Result<(), AppError> {
        self.check_row_number(row)?;
        self.last_row = row;
        match &self.columns {
            None => {
                if cells.iter().any(|c| c.as_ref().trim() == F::KEY_COLUMN) {
                    let header: Vec<&str> =
                        cells.iter().map(|c| c.as_ref().trim().trim_start_matches('\u{feff}')).collect();
                    self.columns = Some((row, F::columns(&header)?));
                }
            }
            Some((_, columns)) => {
                let cells = RowCells { row, source: self.source, cells: cells.iter().map(AsRef::as_ref).collect() };
                F::read_row(&cells, columns, &mut self.file);
            }
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<Table<F::Row>, AppError> {
        if self.columns.is_none() {
            return Err(file_error(format!(
                "no header row with the column {} (export the table to see the format)",
                F::KEY_COLUMN
            )));
        }
        Ok(self.file)
    }
}

/// Parses one data row into `file`: an import row, row errors, or nothing (a heading, a blank
/// line, an indicator left blank).
fn read_row(cells: &RowCells<'_>, columns: &Columns, file: &mut ImportFile) {
    let row = cells.row;
    // Figures and ids are trimmed; a note is kept exactly as written, so that a file read back
    // gives the note that was exported.
    let text_of =
        |index: Option<usize>, trim: bool| -> &str { if trim { cells.trimmed(index) } else { cells.raw(index) } };
    let cell = |index: Option<usize>| text_of(index, true);
    let indicator_text = cell(Some(columns.indicator));
    if indicator_text.is_empty() {
        return; // goal headings, blank lines
    }
    let mut row_errors = Vec::new();
    let indicator_id = whole_number(cells, "指標ID", Some(columns.indicator), "an indicator id")
        .map_err(|e| row_errors.push(e))
        .ok()
        .flatten();
    let fiscal_year = fiscal_year(cells, columns.year).map_err(|e| row_errors.push(e)).ok();
    let mut error =
        |column: &str, cause: RowCause, reason: String| row_errors.push(RowError::new(row, column, cause, reason));
    let mut decimal = |name: &str, index: Option<usize>| -> Option<Decimal> {
        let raw = cell(index);
        if raw.is_empty() {
            return None;
        }
        // The same rule as a number in a JSON body: full-width digits, separators by three,
        // exponent notation, 15 digits before and 10 after the point.
        match DecimalInput::parse(raw) {
            Ok(value) => Some(value.value()),
            Err(DecimalInputError::NotANumber | DecimalInputError::Empty) => {
                error(name, RowCause::Unreadable, format!("`{}` is not a number", echo(raw)));
                None
            }
            Err(reason) => {
                error(name, RowCause::Unreadable, format!("`{}`: {reason}", echo(raw)));
                None
            }
        }
    };
    let kind_is_ratio = !cell(columns.numerator).is_empty() || !cell(columns.denominator).is_empty();
    let value = if kind_is_ratio { None } else { decimal("実績", columns.value) };
    let numerator = decimal("分子", columns.numerator);
    let denominator = decimal("分母", columns.denominator);
    let version = whole_number(cells, "版", columns.version, "a version number").unwrap_or_else(|e| {
        error(&e.column, e.cause, e.reason);
        None
    });
    let stage_name = Some(cell(columns.stage).to_owned()).filter(|s| !s.is_empty());
    // A milestone's 実績 column shows the stage name; accept it there too.
    let stage_name = stage_name.or_else(|| {
        let raw = cell(columns.value);
        (!raw.is_empty() && value.is_none() && !kind_is_ratio && DecimalInput::parse(raw).is_err())
            .then(|| raw.to_owned())
    });
    let value = if stage_name.is_some() { None } else { value };
    let note = text_of(columns.note, false);
    // The bounds of the same fields in a JSON body.
    let stage_text = cell(columns.stage);
    for (column, text, max_chars) in
        [("備考", note, limits::MAX_TEXT_CHARS), ("段階", stage_text, limits::MAX_NAME_CHARS)]
    {
        if let Some(problem) = limits::text_problem(text, max_chars) {
            error(column, RowCause::TextBound, problem);
        }
    }
    if value.is_none() && numerator.is_none() && denominator.is_none() && stage_name.is_none() && row_errors.is_empty()
    {
        return; // nothing reported for this indicator: left as it is
    }
    match (indicator_id, fiscal_year, row_errors.is_empty()) {
        (Some(indicator_id), Some(fiscal_year), true) => file.rows.push(ImportRow {
            row,
            indicator_id,
            fiscal_year,
            value,
            numerator,
            denominator,
            stage_name,
            note: note.to_owned(),
            version,
        }),
        _ => row_errors.into_iter().for_each(|e| file.errors.push(e)),
    }
}

/// Reads a CSV import of actuals (UTF-8, optionally with a byte-order mark) record by record.
pub fn read_csv(bytes: &[u8]) -> Result<ImportFile, AppError> {
    read_csv_as::<Actuals>(bytes)
}

/// Reads a CSV import of the format `F` (UTF-8, optionally with a byte-order mark) record by record.
pub fn read_csv_as<F: TableFormat>(bytes: &[u8]) -> Result<Table<F::Row>, AppError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut table = TableReader::<F>::new(Source::Csv);
    let mut record = csv::StringRecord::new();
    let mut number = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(file_error(format!("not a readable CSV file (UTF-8 text expected): {e}"))),
        }
        number += 1;
        table.check_row_number(number)?;
        if record.len() > MAX_IMPORT_COLUMNS {
            return Err(file_error(format!(
                "row {number} has {} fields; at most {MAX_IMPORT_COLUMNS} columns are read",
                record.len()
            )));
        }
        for (index, field) in record.iter().enumerate() {
            check_cell_length(field, || format!("row {number} column {}", index + 1))?;
            if !field.is_empty() {
                table.count_cell()?;
            }
        }
        let cells: Vec<&str> = record.iter().collect();
        table.push_row(number, &cells)?;
    }
    table.finish()
}

/// Import row errors as API validation errors (field `row N 列`).
pub fn as_field_errors(errors: &[RowError]) -> Vec<FieldError> {
    errors.iter().map(|e| FieldError::new(format!("row {} {}", e.row, e.column), e.reason.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(lines: &[String]) -> Vec<u8> {
        lines.join("\r\n").into_bytes()
    }

    fn problem(error: AppError) -> String {
        match error {
            AppError::Validation(fields) => format!("{}: {}", fields[0].field, fields[0].message),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn rows_after_the_header_are_bounded() {
        let mut lines = vec!["指標ID,年度,実績".to_owned()];
        lines.extend((0..MAX_IMPORT_ROWS).map(|i| format!("{},2020,{i}", i + 1)));
        let read = read_csv(&csv(&lines)).unwrap();
        assert_eq!(read.rows.len(), MAX_IMPORT_ROWS);
        lines.push("1,2020,1".into());
        let refused = problem(read_csv(&csv(&lines)).unwrap_err());
        assert!(refused.contains("more than 100000 rows"), "{refused}");
    }

    #[test]
    fn a_huge_field_is_refused_naming_the_limit() {
        let lines =
            vec!["指標ID,年度,実績,備考".to_owned(), format!("1,2020,3,{}", "x".repeat(MAX_IMPORT_CELL_CHARS + 1))];
        let refused = problem(read_csv(&csv(&lines)).unwrap_err());
        assert!(refused.contains("row 2 column 4") && refused.contains("2000 characters"), "{refused}");
        let at_limit =
            vec!["指標ID,年度,実績,備考".to_owned(), format!("1,2020,3,{}", "区".repeat(MAX_IMPORT_CELL_CHARS))];
        assert_eq!(read_csv(&csv(&at_limit)).unwrap().rows[0].note.chars().count(), MAX_IMPORT_CELL_CHARS);
    }

    #[test]
    fn too_many_fields_are_refused() {
        let lines = vec!["指標ID,年度,実績".to_owned(), format!("1,2020,3{}", ",".repeat(MAX_IMPORT_COLUMNS))];
        let refused = problem(read_csv(&csv(&lines)).unwrap_err());
        assert!(refused.contains("at most 64 columns"), "{refused}");
    }

    #[test]
    fn the_header_must_come_early() {
        let mut lines: Vec<String> = (0..MAX_ROWS_BEFORE_HEADER).map(|i| format!("title {i}")).collect();
        lines.push("指標ID,年度,実績".into());
        let refused = problem(read_csv(&csv(&lines)).unwrap_err());
        assert!(refused.contains("first 50 rows"), "{refused}");
    }

    #[test]
    fn row_errors_keep_the_first_hundred_and_the_total() {
        let mut lines = vec!["指標ID,年度,実績".to_owned()];
        lines.extend((0..1000).map(|i| format!("{i},2020,{}", "n".repeat(300 + i))));
        let read = read_csv(&csv(&lines)).unwrap();
        assert_eq!(read.errors.total(), 1000);
        assert_eq!(read.errors.listed().len(), MAX_REPORTED_ROW_ERRORS);
        assert_eq!(read.errors.listed()[0].row, 2);
        assert_eq!(read.errors.listed()[99].row, 101);
        let reason = &read.errors.listed()[0].reason;
        assert!(reason.chars().count() < MAX_ECHOED_CELL_CHARS + 40 && reason.contains('…'), "{reason}");
    }

    #[test]
    fn merged_errors_stay_in_row_order_and_count_every_one() {
        let error = |row| RowError::new(row, "実績", RowCause::Unreadable, "x".into());
        let mut first = RowErrors::default();
        (0..150).for_each(|i| first.push(error(2 * i + 10)));
        let mut second = RowErrors::default();
        (0..150).for_each(|i| second.push(error(i + 2)));
        first.merge(second);
        assert_eq!(first.total(), 300);
        let rows: Vec<usize> = first.listed().iter().map(|e| e.row).collect();
        assert_eq!(rows.len(), MAX_REPORTED_ROW_ERRORS);
        assert!(rows.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(rows[0], 2);
    }

    #[test]
    fn formula_quotes_are_removed_from_csv_cells_only() {
        let lines =
            vec!["指標ID,年度,実績,備考".to_owned(), "1,2020,3,'=1+1".to_owned(), "2,2020,-3,'hello".to_owned()];
        let read = read_csv(&csv(&lines)).unwrap();
        assert_eq!(read.rows[0].note, "=1+1");
        assert_eq!(read.rows[1].note, "'hello");
        assert_eq!(read.rows[1].value, Some(Decimal::from(-3)));
    }

    #[test]
    fn figures_follow_the_rule_of_json_numbers() {
        let lines = [
            "指標ID,年度,実績",
            "1,2020,1e-10",
            "2,2020,0.0000000001",
            "3,2020,\"１，２３４\"",
            "4,2020,1.5E3",
            "5,2020,1e-11",
            "6,2020,0.00000000001",
            "7,2020,\"1,23\"",
            "8,2020,1234567890123456",
        ]
        .map(str::to_owned);
        let read = read_csv(&csv(&lines)).unwrap();
        let values: Vec<String> = read.rows.iter().map(|r| r.value.unwrap().to_string()).collect();
        assert_eq!(values, ["0.0000000001", "0.0000000001", "1234", "1500"]);
        let refused: Vec<(usize, &str)> = read.errors.listed().iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(refused, [(6, "実績"), (7, "実績"), (8, "実績"), (9, "実績")]);
        assert!(read.errors.listed()[0].reason.contains("10 after the decimal point"), "{:?}", read.errors.listed());
    }

    #[test]
    fn nul_in_a_note_is_a_row_error() {
        let lines = vec!["指標ID,年度,実績,備考".to_owned(), "1,2020,3,a\0b".to_owned()];
        let read = read_csv(&csv(&lines)).unwrap();
        assert!(read.rows.is_empty());
        assert_eq!(read.errors.listed()[0].column, "備考");
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(16383), "XFD");
    }
}
