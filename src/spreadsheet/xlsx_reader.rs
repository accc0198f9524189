//! Reading the first sheet of an uploaded xlsx workbook cell by cell, within bounds.
//!
//! An xlsx file is a zip of XML parts, and a small file can claim (or hold) far more than it
//! looks: a cell at XFD1048576, a dimension of the whole sheet, a part that inflates to gigabytes,
//! a shared string of hundreds of megabytes. General readers allocate from those claims, so this
//! one reads only what the import needs (the workbook's sheet list, its relationships, the shared
//! strings and the first sheet) as a stream and checks every bound while reading, before keeping
//! anything: zip entries, bytes actually inflated per part and in total, the size of one XML
//! token, sheets, shared strings (count, length, bytes), rows, columns and cells. The `dimension`
//! a sheet declares is ignored: nothing is sized from it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Cursor, Read};

use quick_xml::events::{BytesRef, BytesStart, Event};

use super::import::{
    self, Actuals, ImportFile, MAX_IMPORT_COLUMNS, Source, Table, TableFormat, TableReader, check_cell_length,
};
use crate::error::AppError;

/// Most entries (files) in the zip of a workbook: a workbook of [`MAX_XLSX_SHEETS`] sheets with
/// their relationships, styles and a few pictures has far fewer.
pub const MAX_XLSX_ZIP_ENTRIES: usize = 1000;

/// Most sheets in a workbook (only the first is imported).
pub const MAX_XLSX_SHEETS: usize = 64;

/// Most bytes one zip entry may inflate to, as declared and as actually read: a sheet of
/// [`import::MAX_IMPORT_ROWS`] rows of the 進捗管理表 is well below it.
pub const MAX_XLSX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// Most bytes all zip entries together may inflate to, as declared and as actually read.
pub const MAX_XLSX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;

/// Most entries in a workbook's shared-string table.
pub const MAX_XLSX_SHARED_STRINGS: usize = 200_000;

/// Most bytes of text kept for the shared-string table.
pub const MAX_XLSX_SHARED_STRING_BYTES: usize = 32 * 1024 * 1024;

/// Longest single XML token (a tag, or the text between two tags) in bytes: a cell's text is
/// at most [`import::MAX_IMPORT_CELL_CHARS`] characters, so anything longer is refused before it
/// is buffered whole.
pub const MAX_XML_TOKEN_BYTES: usize = 256 * 1024;

/// Chunk size when inflating a part; bounds how far reading runs past a limit.
const READ_BUFFER_BYTES: usize = 64 * 1024;

fn file_error(message: impl Into<String>) -> AppError {
    AppError::invalid("file", message)
}

fn unreadable(error: impl std::fmt::Display) -> AppError {
    file_error(format!("not a readable xlsx file: {error}"))
}

/// A bound hit while inflating or tokenising; carried through `io::Error` so the parser's error
/// can be told apart from a broken file.
#[derive(Debug)]
struct LimitExceeded(String);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitExceeded {}

fn limit_error(message: String) -> std::io::Error {
    std::io::Error::other(LimitExceeded(message))
}

/// The bound behind an XML or I/O error, if one was hit; otherwise the file is broken.
fn xml_error(error: quick_xml::Error, part: &str) -> AppError {
    if let quick_xml::Error::Io(io) = &error
        && let Some(limit) = io.get_ref().and_then(|e| e.downcast_ref::<LimitExceeded>())
    {
        return file_error(limit.0.clone());
    }
    unreadable(format!("{part}: {error}"))
}

/// Inflated bytes read so far from all parts, against [`MAX_XLSX_TOTAL_BYTES`].
#[derive(Debug, Default)]
struct InflatedTotal(u64);

/// Stops reading a part once it has given more bytes than allowed: the sizes a zip declares
/// may lie, the bytes read do not.
struct BoundedPart<'a, R> {
    inner: R,
    name: &'a str,
    read: u64,
    total: &'a mut InflatedTotal,
}

impl<R: Read> Read for BoundedPart<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.total.0 += n as u64;
        if self.read > MAX_XLSX_ENTRY_BYTES {
            return Err(limit_error(format!(
                "the workbook part {} inflates to more than {MAX_XLSX_ENTRY_BYTES} bytes, the most one part may hold",
                self.name
            )));
        }
        if self.total.0 > MAX_XLSX_TOTAL_BYTES {
            return Err(limit_error(format!(
                "the workbook inflates to more than {MAX_XLSX_TOTAL_BYTES} bytes, the most one import reads"
            )));
        }
        Ok(n)
    }
}

/// Refuses an XML token longer than [`MAX_XML_TOKEN_BYTES`]: counts what the parser consumes
/// since the last token ended (see [`TokenBudget::next_token`]).
struct TokenBudget<R> {
    inner: R,
    consumed: usize,
}

impl<R> TokenBudget<R> {
    fn next_token(&mut self) {
        self.consumed = 0;
    }
}

impl<R: BufRead> Read for TokenBudget<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for TokenBudget<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.consumed > MAX_XML_TOKEN_BYTES {
            return Err(limit_error(format!(
                "the workbook holds a text or tag of more than {MAX_XML_TOKEN_BYTES} bytes \
                 (a cell holds at most {} characters)",
                import::MAX_IMPORT_CELL_CHARS
            )));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed += amount;
        self.inner.consume(amount);
    }
}

/// The number of entries the zip's end record declares, read before the archive is opened so
/// that no directory is built for a hostile count.
fn declared_entry_count(bytes: &[u8]) -> Result<u64, AppError> {
    const END_SIGNATURE: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const ZIP64_LOCATOR_SIGNATURE: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const ZIP64_END_SIGNATURE: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    const END_RECORD_BYTES: usize = 22;
    let not_zip = || unreadable("it is not a zip archive");
    let search_from = bytes.len().saturating_sub(END_RECORD_BYTES + usize::from(u16::MAX));
    let end = (search_from..=bytes.len().saturating_sub(END_RECORD_BYTES))
        .rev()
        .find(|&at| bytes[at..].starts_with(&END_SIGNATURE))
        .ok_or_else(not_zip)?;
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let count = u64::from(u16_at(end + 10).ok_or_else(not_zip)?);
    // A zip64 archive keeps the real count in a second end record, found through a locator.
    let locator = end.checked_sub(20).filter(|&at| bytes[at..].starts_with(&ZIP64_LOCATOR_SIGNATURE));
    let Some(locator) = locator else { return Ok(count) };
    let u64_at = |at: usize| bytes.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_le_bytes);
    let record = u64_at(locator + 8).and_then(|at| usize::try_from(at).ok()).ok_or_else(not_zip)?;
    if !bytes.get(record..).is_some_and(|b| b.starts_with(&ZIP64_END_SIGNATURE)) {
        return Err(not_zip());
    }
    Ok(count.max(u64_at(record + 32).ok_or_else(not_zip)?))
}

/// A workbook opened for reading, with the inflated-bytes budget shared by its parts.
struct Workbook<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    inflated: InflatedTotal,
}

impl<'a> Workbook<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, AppError> {
        let declared = declared_entry_count(bytes)?;
        if declared > MAX_XLSX_ZIP_ENTRIES as u64 {
            return Err(file_error(format!(
                "the workbook's zip holds {declared} entries; at most {MAX_XLSX_ZIP_ENTRIES} are accepted"
            )));
        }
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
        if archive.len() > MAX_XLSX_ZIP_ENTRIES {
            return Err(file_error(format!(
                "the workbook's zip holds {} entries; at most {MAX_XLSX_ZIP_ENTRIES} are accepted",
                archive.len()
            )));
        }
        let mut declared_total = 0u64;
        for index in 0..archive.len() {
            let entry = archive.by_index_raw(index).map_err(unreadable)?;
            if entry.size() > MAX_XLSX_ENTRY_BYTES {
                return Err(file_error(format!(
                    "the workbook part {} declares {} bytes inflated, more than the {MAX_XLSX_ENTRY_BYTES} one part may hold",
                    import::echo(entry.name()),
                    entry.size()
                )));
            }
            declared_total = declared_total.saturating_add(entry.size());
        }
        if declared_total > MAX_XLSX_TOTAL_BYTES {
            return Err(file_error(format!(
                "the workbook declares {declared_total} bytes inflated, more than the {MAX_XLSX_TOTAL_BYTES} one import reads"
            )));
        }
        Ok(Self { archive, inflated: InflatedTotal::default() })
    }

    fn has(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// Streams the XML events of one part to `on_event`, every bound checked while reading.
    fn read_part(
        &mut self,
        name: &str,
        mut on_event: impl FnMut(Event<'_>) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let entry = self.archive.by_name(name).map_err(|e| unreadable(format!("{name}: {e}")))?;
        let part = BoundedPart { inner: entry, name, read: 0, total: &mut self.inflated };
        let tokens = TokenBudget { inner: BufReader::with_capacity(READ_BUFFER_BYTES, part), consumed: 0 };
        let mut reader = quick_xml::Reader::from_reader(tokens);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            let event = reader.read_event_into(&mut buffer).map_err(|e| xml_error(e, name))?;
            if matches!(event, Event::Eof) {
                return Ok(());
            }
            on_event(event)?;
            reader.get_mut().next_token();
        }
    }
}

fn attribute(element: &BytesStart<'_>, key: &[u8]) -> Result<Option<String>, AppError> {
    for found in element.attributes() {
        let found = found.map_err(unreadable)?;
        if found.key.as_ref() == key || found.key.local_name().as_ref() == key {
            return Ok(Some(found.decode_and_unescape_value(element.decoder()).map_err(unreadable)?.into_owned()));
        }
    }
    Ok(None)
}

/// The text an entity or character reference stands for (`&amp;` → `&`).
fn resolve_reference(reference: &BytesRef<'_>) -> Result<String, AppError> {
    if let Some(ch) = reference.resolve_char_ref().map_err(unreadable)? {
        return Ok(ch.to_string());
    }
    let name = reference.decode().map_err(unreadable)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| unreadable(format!("unknown entity &{name};")))
}

/// Text collected from several XML events (text is split around references), bounded by the
/// longest cell.
#[derive(Default)]
struct CellText {
    text: String,
}

impl CellText {
    fn append(&mut self, piece: &str, where_: impl FnOnce() -> String) -> Result<(), AppError> {
        self.text.push_str(piece);
        check_cell_length(&self.text, where_)
    }

    fn append_event(&mut self, event: &Event<'_>, where_: impl FnOnce() -> String) -> Result<(), AppError> {
        match event {
            Event::Text(text) => self.append(&text.decode().map_err(unreadable)?, where_),
            Event::CData(data) => self.append(&data.decode().map_err(unreadable)?, where_),
            Event::GeneralRef(reference) => self.append(&resolve_reference(reference)?, where_),
            _ => Ok(()),
        }
    }

    fn take(&mut self) -> String {
        std::mem::take(&mut self.text)
    }
}

/// Where the first sheet and the shared strings are, from the workbook and its relationships.
struct Layout {
    first_sheet: String,
    shared_strings: Option<String>,
}

/// A relationship target is relative to `xl/` unless it starts with `/`.
fn part_path(target: &str) -> String {
    match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("xl/{target}"),
    }
}

fn read_layout(workbook: &mut Workbook<'_>) -> Result<Layout, AppError> {
    let mut sheets = 0usize;
    let mut first_sheet_id = None;
    workbook.read_part("xl/workbook.xml", |event| {
        if let Event::Start(element) | Event::Empty(element) = &event
            && element.local_name().as_ref() == b"sheet"
        {
            sheets += 1;
            if sheets > MAX_XLSX_SHEETS {
                return Err(file_error(format!(
                    "the workbook has more than {MAX_XLSX_SHEETS} sheets, the most accepted (only the first is imported)"
                )));
            }
            if first_sheet_id.is_none() {
                first_sheet_id = Some(attribute(element, b"id")?.unwrap_or_default());
            }
        }
        Ok(())
    })?;
    let first_sheet_id = first_sheet_id.ok_or_else(|| file_error("the workbook has no sheet"))?;
    let mut targets: BTreeMap<String, String> = BTreeMap::new();
    let mut shared_strings = None;
    if workbook.has("xl/_rels/workbook.xml.rels") {
        workbook.read_part("xl/_rels/workbook.xml.rels", |event| {
            if let Event::Start(element) | Event::Empty(element) = &event
                && element.local_name().as_ref() == b"Relationship"
            {
                let id = attribute(element, b"Id")?.unwrap_or_default();
                let kind = attribute(element, b"Type")?.unwrap_or_default();
                let target = attribute(element, b"Target")?.unwrap_or_default();
                if kind.ends_with("/sharedStrings") {
                    shared_strings = Some(part_path(&target));
                } else if id == first_sheet_id {
                    targets.insert(id, part_path(&target));
                }
            }
            Ok(())
        })?;
    }
    let first_sheet = targets.remove(&first_sheet_id).unwrap_or_else(|| "xl/worksheets/sheet1.xml".to_owned());
    // A workbook without strings may list the part and leave it out.
    let shared_strings =
        shared_strings.or_else(|| Some("xl/sharedStrings.xml".to_owned())).filter(|part| workbook.has(part));
    Ok(Layout { first_sheet, shared_strings })
}

/// The shared-string table, bounded in count, length and bytes before anything is kept.
fn read_shared_strings(workbook: &mut Workbook<'_>, part: &str) -> Result<Vec<String>, AppError> {
    let mut strings = Vec::new();
    let mut kept_bytes = 0usize;
    let mut current = CellText::default();
    // Text inside <rPh> is a phonetic reading (furigana), not part of the string.
    let (mut in_text, mut in_phonetic) = (false, false);
    workbook.read_part(part, |event| {
        match &event {
            Event::Start(element) => match element.local_name().as_ref() {
                b"si" => {
                    if strings.len() >= MAX_XLSX_SHARED_STRINGS {
                        return Err(file_error(format!(
                            "the workbook has more than {MAX_XLSX_SHARED_STRINGS} shared strings, the most accepted"
                        )));
                    }
                    current.take();
                }
                b"t" => in_text = true,
                b"rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(element) => match element.local_name().as_ref() {
                b"si" => {
                    let text = current.take();
                    kept_bytes += text.len();
                    if kept_bytes > MAX_XLSX_SHARED_STRING_BYTES {
                        return Err(file_error(format!(
                            "the workbook's shared strings hold more than {MAX_XLSX_SHARED_STRING_BYTES} bytes of text, \
                             the most accepted"
                        )));
                    }
                    strings.push(text);
                }
                b"t" => in_text = false,
                b"rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Empty(element) if element.local_name().as_ref() == b"si" => {
                if strings.len() >= MAX_XLSX_SHARED_STRINGS {
                    return Err(file_error(format!(
                        "the workbook has more than {MAX_XLSX_SHARED_STRINGS} shared strings, the most accepted"
                    )));
                }
                strings.push(String::new());
            }
            other if in_text && !in_phonetic => {
                let index = strings.len();
                current.append_event(other, || format!("shared string {index}"))?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(strings)
}

/// Column (0-based) and row (1-based) of a cell reference such as `AB12`; the row part may be
/// missing. The column is checked against [`MAX_IMPORT_COLUMNS`] as the letters are read, so a
/// reference such as `XFD1048576` never sizes anything.
fn parse_reference(reference: &str) -> Result<(usize, Option<usize>), AppError> {
    let letters = reference.bytes().take_while(u8::is_ascii_alphabetic).count();
    let mut column = 0usize;
    for letter in reference[..letters].bytes() {
        column = column * 26 + usize::from(letter.to_ascii_uppercase() - b'A' + 1);
        if column > MAX_IMPORT_COLUMNS {
            return Err(file_error(format!(
                "the sheet has a cell at {}, beyond column {}: at most {MAX_IMPORT_COLUMNS} columns are read",
                import::echo(reference),
                import::column_letters(MAX_IMPORT_COLUMNS - 1)
            )));
        }
    }
    let digits = &reference[letters..];
    let row = if digits.is_empty() {
        None
    } else {
        Some(
            digits
                .parse::<usize>()
                .map_err(|_| unreadable(format!("bad cell reference {}", import::echo(reference))))?,
        )
    };
    match (column, row) {
        (0, _) | (_, Some(0)) => Err(unreadable(format!("bad cell reference {}", import::echo(reference)))),
        (column, row) => Ok((column - 1, row)),
    }
}

/// A number cell as the import reads it: what Excel shows, without float noise (`0.1`, `170`).
fn number_text(raw: &str) -> String {
    match raw.trim().parse::<f64>() {
        Ok(number) => rust_decimal::Decimal::try_from(number)
            .map(|d| d.normalize().to_string())
            .unwrap_or_else(|_| raw.trim().to_owned()),
        Err(_) => raw.to_owned(),
    }
}

/// The cell being read: where it is, its type and its raw text.
#[derive(Default)]
struct OpenCell {
    column: usize,
    kind: Option<String>,
    value: CellText,
    in_value: bool,
    in_inline_text: bool,
    in_phonetic: bool,
}

/// Streams the first sheet into the table reader, one row at a time.
fn read_sheet<F: TableFormat>(
    workbook: &mut Workbook<'_>,
    part: &str,
    shared: &[String],
    table: &mut TableReader<F>,
) -> Result<(), AppError> {
    let mut row_number = 0usize;
    let mut in_row = false;
    let mut next_column = 0usize;
    let mut cells: Vec<String> = Vec::new();
    let mut cell: Option<OpenCell> = None;
    let finish_cell = |cell: OpenCell, cells: &mut Vec<String>, row: usize| -> Result<(), AppError> {
        let mut open = cell;
        let raw = open.value.take();
        let text = match open.kind.as_deref() {
            Some("s") => {
                let index = raw.trim().parse::<usize>().ok().filter(|i| *i < shared.len()).ok_or_else(|| {
                    unreadable(format!("a cell refers to shared string {} which does not exist", import::echo(&raw)))
                })?;
                shared[index].clone()
            }
            Some("inlineStr" | "str" | "e" | "d") => raw,
            Some("b") => if raw.trim() == "1" { "TRUE" } else { "FALSE" }.to_owned(),
            _ if raw.is_empty() => raw,
            _ => number_text(&raw),
        };
        check_cell_length(&text, || format!("cell {}{row}", import::column_letters(open.column)))?;
        if cells.len() <= open.column {
            cells.resize(open.column + 1, String::new());
        }
        cells[open.column] = text;
        Ok(())
    };
    workbook.read_part(part, |event| {
        match &event {
            Event::Start(element) | Event::Empty(element) => {
                let empty = matches!(event, Event::Empty(_));
                match element.local_name().as_ref() {
                    b"row" => {
                        row_number = match attribute(element, b"r")? {
                            Some(r) => r
                                .trim()
                                .parse::<usize>()
                                .map_err(|_| unreadable(format!("bad row number {}", import::echo(&r))))?,
                            None => row_number + 1,
                        };
                        table.check_row_number(row_number)?;
                        next_column = 0;
                        cells.clear();
                        in_row = !empty;
                        if empty {
                            table.push_row(row_number, &cells)?;
                        }
                    }
                    b"c" if in_row => {
                        let column = match attribute(element, b"r")? {
                            Some(reference) => {
                                let (column, row) = parse_reference(&reference)?;
                                if row.is_some_and(|r| r != row_number) {
                                    return Err(unreadable(format!(
                                        "cell {} is inside row {row_number}",
                                        import::echo(&reference)
                                    )));
                                }
                                column
                            }
                            None if next_column < MAX_IMPORT_COLUMNS => next_column,
                            None => {
                                return Err(file_error(format!(
                                    "row {row_number} has more than {MAX_IMPORT_COLUMNS} columns, the most read"
                                )));
                            }
                        };
                        next_column = column + 1;
                        table.count_cell()?;
                        let open = OpenCell { column, kind: attribute(element, b"t")?, ..OpenCell::default() };
                        if empty {
                            finish_cell(open, &mut cells, row_number)?;
                        } else {
                            cell = Some(open);
                        }
                    }
                    b"v" if !empty => {
                        if let Some(open) = cell.as_mut() {
                            open.in_value = true;
                        }
                    }
                    b"t" if !empty => {
                        if let Some(open) = cell.as_mut() {
                            open.in_inline_text = true;
                        }
                    }
                    b"rPh" if !empty => {
                        if let Some(open) = cell.as_mut() {
                            open.in_phonetic = true;
                        }
                    }
                    _ => {}
                }
            }
            Event::End(element) => match element.local_name().as_ref() {
                b"row" if in_row => {
                    in_row = false;
                    table.push_row(row_number, &cells)?;
                }
                b"c" => {
                    if let Some(open) = cell.take() {
                        finish_cell(open, &mut cells, row_number)?;
                    }
                }
                b"v" | b"t" | b"rPh" => {
                    if let Some(open) = cell.as_mut() {
                        match element.local_name().as_ref() {
                            b"v" => open.in_value = false,
                            b"t" => open.in_inline_text = false,
                            _ => open.in_phonetic = false,
                        }
                    }
                }
                _ => {}
            },
            other => {
                if let Some(open) = cell.as_mut()
                    && (open.in_value || (open.in_inline_text && !open.in_phonetic))
                {
                    let (column, row) = (open.column, row_number);
                    open.value.append_event(other, || format!("cell {}{row}", import::column_letters(column)))?;
                }
            }
        }
        Ok(())
    })
}

/// Reads the first sheet of an xlsx workbook as an import of actuals, without ever sizing anything
/// from what the file declares.
pub fn read_xlsx(bytes: &[u8]) -> Result<ImportFile, AppError> {
    read_xlsx_as::<Actuals>(bytes)
}

/// Reads the first sheet of an xlsx workbook as an import of the format `F`.
pub fn read_xlsx_as<F: TableFormat>(bytes: &[u8]) -> Result<Table<F::Row>, AppError> {
    let mut workbook = Workbook::open(bytes)?;
    let layout = read_layout(&mut workbook)?;
    let shared = match &layout.shared_strings {
        Some(part) => read_shared_strings(&mut workbook, part)?,
        None => Vec::new(),
    };
    if !workbook.has(&layout.first_sheet) {
        return Err(unreadable(format!("the first sheet {} is missing", import::echo(&layout.first_sheet))));
    }
    let mut table = TableReader::<F>::new(Source::Xlsx);
    read_sheet(&mut workbook, &layout.first_sheet, &shared, &mut table)?;
    table.finish()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::spreadsheet::import::{MAX_IMPORT_CELLS, MAX_IMPORT_ROWS};

    /// Writes one zip entry's content (streamed, so a test can make a huge one cheaply).
    type EntryWriter = Box<dyn Fn(&mut dyn Write)>;

    const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="進捗管理表" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const RELATIONSHIPS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    const HEADER_ROW: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>指標ID</t></is></c><c r="B1" t="inlineStr"><is><t>年度</t></is></c><c r="C1" t="inlineStr"><is><t>実績</t></is></c></row>"#;

    fn sheet(rows: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
        )
    }

    /// A zip of these parts; a part given as a writer function is streamed (for huge parts).
    fn zip_of(parts: Vec<(&str, EntryWriter)>) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .large_file(true);
        for (name, write) in parts {
            zip.start_file(name, options).unwrap();
            write(&mut zip);
        }
        zip.finish().unwrap().into_inner()
    }

    fn text(content: String) -> EntryWriter {
        Box::new(move |out| out.write_all(content.as_bytes()).unwrap())
    }

    fn workbook_with(sheet_xml: String, shared_strings: Option<EntryWriter>) -> Vec<u8> {
        let mut parts: Vec<(&str, EntryWriter)> = vec![
            ("xl/workbook.xml", text(WORKBOOK.into())),
            ("xl/_rels/workbook.xml.rels", text(RELATIONSHIPS.into())),
            ("xl/worksheets/sheet1.xml", text(sheet_xml)),
        ];
        if let Some(strings) = shared_strings {
            parts.push(("xl/sharedStrings.xml", strings));
        }
        zip_of(parts)
    }

    fn refused(bytes: &[u8]) -> String {
        match read_xlsx(bytes) {
            Err(AppError::Validation(fields)) => format!("{}: {}", fields[0].field, fields[0].message),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_far_corner_cell_is_refused_without_sizing_anything() {
        let rows = format!(r#"{HEADER_ROW}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#);
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains("more than 100000 rows after the header"), "{message}");
    }

    #[test]
    fn a_far_column_is_refused_naming_the_column_limit() {
        let rows = format!(r#"{HEADER_ROW}<row r="2"><c r="XFD2"><v>1</v></c></row>"#);
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains("XFD2") && message.contains("at most 64 columns"), "{message}");
    }

    #[test]
    fn a_sheet_reaching_row_1048576_is_refused_naming_the_row_limit() {
        let rows = format!(r#"{HEADER_ROW}<row r="1048576"><c r="Z1048576"><v>1</v></c></row>"#);
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains("more than 100000 rows after the header"), "{message}");
    }

    #[test]
    fn a_huge_dimension_is_ignored() {
        let rows = format!(
            r#"{HEADER_ROW}<row r="2"><c r="A2"><v>7</v></c><c r="B2"><v>2020</v></c><c r="C2"><v>12.5</v></c></row>"#
        );
        let xml = sheet(&rows).replace("<sheetData>", r#"<dimension ref="A1:XFD1048576"/><sheetData>"#);
        let read = read_xlsx(&workbook_with(xml, None)).unwrap();
        assert_eq!(read.rows.len(), 1);
        assert_eq!((read.rows[0].row, read.rows[0].indicator_id), (2, 7));
        assert_eq!(read.rows[0].value, Some(rust_decimal::Decimal::new(125, 1)));
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut rows = HEADER_ROW.to_owned();
        for row in 2..=MAX_IMPORT_ROWS + 2 {
            rows.push_str(&format!(r#"<row r="{row}"><c><v>1</v></c><c><v>2020</v></c><c><v>{row}</v></c></row>"#));
        }
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains("more than 100000 rows"), "{message}");
    }

    #[test]
    fn rows_must_go_down() {
        let rows = format!(r#"{HEADER_ROW}<row r="2"><c><v>1</v></c></row><row r="2"><c><v>1</v></c></row>"#);
        assert!(refused(&workbook_with(sheet(&rows), None)).contains("in order"));
    }

    #[test]
    fn too_many_cells_are_refused() {
        let cells = "<c/>".repeat(31);
        let mut rows = HEADER_ROW.to_owned();
        for row in 2..=MAX_IMPORT_ROWS + 1 {
            rows.push_str(&format!(r#"<row r="{row}">{cells}</row>"#));
        }
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains(&format!("more than {MAX_IMPORT_CELLS}")), "{message}");
    }

    /// A part of `bytes` bytes of one character, streamed into the zip.
    fn one_character(bytes: usize) -> EntryWriter {
        Box::new(move |out| {
            let chunk = vec![b'a'; 1 << 20];
            for _ in 0..bytes / chunk.len() {
                out.write_all(&chunk).unwrap();
            }
        })
    }

    #[test]
    fn a_zip_bomb_part_is_refused_by_its_declared_size() {
        let mut parts: Vec<(&str, EntryWriter)> = vec![
            ("xl/workbook.xml", text(WORKBOOK.into())),
            ("xl/_rels/workbook.xml.rels", text(RELATIONSHIPS.into())),
        ];
        parts.push(("xl/worksheets/sheet1.xml", one_character(300 << 20)));
        let bytes = zip_of(parts);
        assert!(bytes.len() < crate::api::extract::MAX_UPLOAD_BYTES, "{} bytes", bytes.len());
        let message = refused(&bytes);
        assert!(message.contains("declares") && message.contains("bytes inflated"), "{message}");
    }

    /// Rewrites the uncompressed size of every entry (local and central headers) to `size`.
    fn lie_about_sizes(mut bytes: Vec<u8>, size: u32) -> Vec<u8> {
        let patch = |bytes: &mut Vec<u8>, signature: [u8; 4], offset: usize| {
            let mut at = 0;
            while let Some(found) = bytes[at..].windows(4).position(|w| w == signature) {
                let field = at + found + offset;
                bytes[field..field + 4].copy_from_slice(&size.to_le_bytes());
                at += found + 4;
            }
        };
        patch(&mut bytes, [0x50, 0x4b, 0x03, 0x04], 22);
        patch(&mut bytes, [0x50, 0x4b, 0x01, 0x02], 24);
        bytes
    }

    #[test]
    fn a_zip_bomb_that_lies_about_its_size_is_stopped_while_inflating() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        // Without the zip64 extra field, so that the 32-bit sizes are the only ones.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        for (name, content) in [("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", RELATIONSHIPS)] {
            zip.start_file(name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        // Small tokens, so that only the inflated size can stop it.
        let chunk = b"<a/>".repeat(1 << 18);
        for _ in 0..300 {
            zip.write_all(&chunk).unwrap();
        }
        let bytes = lie_about_sizes(zip.finish().unwrap().into_inner(), 1000);
        let message = refused(&bytes);
        assert!(message.contains("inflates to more than 67108864 bytes"), "{message}");
    }

    #[test]
    fn a_huge_shared_string_is_refused_before_it_is_kept() {
        let string_of = |megabytes: usize| -> EntryWriter {
            Box::new(move |out| {
                out.write_all(b"<sst><si><t>").unwrap();
                one_character(megabytes << 20)(out);
                out.write_all(b"</t></si></sst>").unwrap();
            })
        };
        let rows = format!(r#"{HEADER_ROW}<row r="2"><c r="A2" t="s"><v>0</v></c></row>"#);
        let message = refused(&workbook_with(sheet(&rows), Some(string_of(200))));
        assert!(message.contains("sharedStrings.xml declares"), "{message}");
        let message = refused(&workbook_with(sheet(&rows), Some(string_of(50))));
        assert!(message.contains("more than 262144 bytes") && message.contains("2000 characters"), "{message}");
    }

    #[test]
    fn a_shared_string_over_the_cell_length_is_refused() {
        let strings = text(format!("<sst><si><t>{}</t></si></sst>", "区".repeat(2001)));
        let message = refused(&workbook_with(sheet(HEADER_ROW), Some(strings)));
        assert!(message.contains("shared string 0 is longer than 2000 characters"), "{message}");
    }

    #[test]
    fn too_many_shared_strings_are_refused() {
        let strings = text(format!("<sst>{}</sst>", "<si><t>x</t></si>".repeat(MAX_XLSX_SHARED_STRINGS + 1)));
        let message = refused(&workbook_with(sheet(HEADER_ROW), Some(strings)));
        assert!(message.contains("more than 200000 shared strings"), "{message}");
    }

    #[test]
    fn too_many_sheets_are_refused() {
        let sheets: String =
            (1..=MAX_XLSX_SHEETS + 1).map(|i| format!(r#"<sheet name="s{i}" sheetId="{i}" r:id="rId{i}"/>"#)).collect();
        let workbook = WORKBOOK.replace(r#"<sheet name="進捗管理表" sheetId="1" r:id="rId1"/>"#, &sheets);
        let bytes = zip_of(vec![
            ("xl/workbook.xml", text(workbook)),
            ("xl/_rels/workbook.xml.rels", text(RELATIONSHIPS.into())),
            ("xl/worksheets/sheet1.xml", text(sheet(HEADER_ROW))),
        ]);
        assert!(refused(&bytes).contains("more than 64 sheets"));
    }

    #[test]
    fn too_many_zip_entries_are_refused() {
        let names: Vec<String> = (0..MAX_XLSX_ZIP_ENTRIES).map(|i| format!("xl/media/{i}.bin")).collect();
        let mut parts: Vec<(&str, EntryWriter)> =
            vec![("xl/workbook.xml", text(WORKBOOK.into())), ("xl/worksheets/sheet1.xml", text(sheet(HEADER_ROW)))];
        parts.extend(names.iter().map(|name| (name.as_str(), text(String::new()))));
        let message = refused(&zip_of(parts));
        assert!(message.contains("1002 entries; at most 1000 are accepted"), "{message}");
    }

    #[test]
    fn shared_rich_and_inline_strings_are_read_without_phonetic_readings() {
        let strings = text(
            r#"<sst><si><t>指標ID</t></si><si><r><t>年</t></r><r><rPr><b/></rPr><t>度</t></r></si><si><t>板橋&amp;区</t><rPh sb="0" eb="2"><t>イタバシ</t></rPh></si></sst>"#
                .into(),
        );
        let rows = r#"<row r="4"><c r="A4" t="s"><v>0</v></c><c r="B4" t="s"><v>1</v></c><c r="C4" t="inlineStr"><is><t>実績</t></is></c><c r="D4" t="inlineStr"><is><t>備考</t></is></c></row>
            <row r="6"><c r="A6"><v>3</v></c><c r="B6" t="str"><f>"令和"&amp;"2年度"</f><v>令和2年度</v></c><c r="C6"><v>0.30000000000000004</v></c><c r="D6" t="s"><v>2</v></c></row>"#;
        let read = read_xlsx(&workbook_with(sheet(rows), Some(strings))).unwrap();
        let row = &read.rows[0];
        assert_eq!((row.row, row.indicator_id, row.fiscal_year), (6, 3, 2020));
        assert_eq!(row.value, Some("0.3".parse().unwrap()));
        assert_eq!(row.note, "板橋&区");
    }

    #[test]
    fn the_evaluation_export_reads_back() {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "title").unwrap();
        for (column, name) in ["指標ID", "年度", "実績", "備考"].iter().enumerate() {
            sheet.write_string(3, column as u16, *name).unwrap();
        }
        sheet.write_number(4, 0, 12.0).unwrap();
        sheet.write_string(4, 1, "令和3(2021)年度").unwrap();
        sheet.write_number(4, 2, 170.0).unwrap();
        sheet.write_string(4, 3, "=HYPERLINK(\"http://evil.example/\")").unwrap();
        workbook.add_worksheet();
        let read = read_xlsx(&workbook.save_to_buffer().unwrap()).unwrap();
        assert_eq!(read.rows.len(), 1, "{:?}", read.errors);
        let row = &read.rows[0];
        assert_eq!((row.row, row.indicator_id, row.fiscal_year), (5, 12, 2021));
        assert_eq!(row.value, Some(170.into()));
        assert_eq!(row.note, "=HYPERLINK(\"http://evil.example/\")", "xlsx text is never unquoted or evaluated");
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_unreadable() {
        assert!(refused(b"PK\x03\x04 not really").contains("not a readable xlsx file"));
        assert!(refused(b"").contains("not a readable xlsx file"));
    }
}
