//! Reading the first sheet of an uploaded xlsx workbook cell by cell, within bounds.
//!
//! calamine's streaming cell reader reads the cells; before it opens anything, the pre-flight
//! ([`super::xlsx_preflight`]) checks the zip and every XML part it will read and gives it only
//! those parts. Rows, columns and cells are checked here as each cell arrives, before the row
//! holding it is kept. The `dimension` a sheet declares is ignored: nothing is sized from it.

use calamine::{DataRef, Reader, Xlsx};

use super::import::{
    self, Actuals, ImportFile, MAX_IMPORT_COLUMNS, Source, Table, TableFormat, TableReader, check_cell_length,
};
use super::xlsx_preflight::{self, file_error, unreadable};
use crate::error::AppError;

pub use super::xlsx_preflight::{
    MAX_XLSX_ENTRY_BYTES, MAX_XLSX_SHARED_STRING_BYTES, MAX_XLSX_SHARED_STRINGS, MAX_XLSX_SHEETS,
    MAX_XLSX_STRUCTURE_PART_BYTES, MAX_XLSX_TOTAL_BYTES, MAX_XLSX_ZIP_ENTRIES, MAX_XML_TOKEN_BYTES,
};

/// Reads the first sheet of an xlsx workbook as an import of actuals, without ever sizing anything
/// from what the file declares.
pub fn read_xlsx(bytes: &[u8]) -> Result<ImportFile, AppError> {
    read_xlsx_as::<Actuals>(bytes)
}

/// Reads the first sheet of an xlsx workbook as an import of the format `F`.
pub fn read_xlsx_as<F: TableFormat>(bytes: &[u8]) -> Result<Table<F::Row>, AppError> {
    let package = xlsx_preflight::checked_package(bytes)?;
    let mut workbook = Xlsx::new(std::io::Cursor::new(package)).map_err(unreadable)?;
    let first_sheet =
        workbook.sheet_names().into_iter().next().ok_or_else(|| file_error("the workbook has no sheet"))?;
    let mut cells = workbook.worksheet_cells_reader(&first_sheet).map_err(unreadable)?;
    let mut rows = SheetRows { table: TableReader::<F>::new(Source::Xlsx), open: None };
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        rows.place(row as usize + 1, column as usize, cell.get_value())?;
    }
    rows.finish()
}

/// A number cell as the import reads it: what Excel shows, without float noise (`0.1`, `170`).
fn number_text(number: f64) -> String {
    rust_decimal::Decimal::try_from(number).map(|d| d.normalize().to_string()).unwrap_or_else(|_| format!("{number:e}"))
}

/// A cell's value as the text the import reads: strings as written, numbers without float
/// noise, booleans and errors as Excel shows them.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => text.clone(),
        DataRef::SharedString(text) => (*text).to_owned(),
        DataRef::Float(number) => number_text(*number),
        DataRef::Int(number) => number.to_string(),
        DataRef::DateTime(date) => number_text(date.as_f64()),
        DataRef::Bool(value) => if *value { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::Error(error) => error.to_string(),
    }
}

fn cell_reference(row: usize, column: usize) -> String {
    format!("{}{row}", import::column_letters(column))
}

/// The row being read: its number (1-based), its cells and the last column filled.
struct OpenRow {
    number: usize,
    cells: Vec<String>,
    last_column: usize,
}

/// Groups the cells calamine yields, in sheet order, into rows for the table reader; each
/// cell's place is checked before anything is kept for it.
struct SheetRows<F: TableFormat> {
    table: TableReader<F>,
    open: Option<OpenRow>,
}

impl<F: TableFormat> SheetRows<F> {
    /// Places one cell (`row` 1-based, `column` 0-based); the first cell of a row hands the
    /// previous row on.
    fn place(&mut self, row: usize, column: usize, value: &DataRef<'_>) -> Result<(), AppError> {
        let row_continues = self.open.as_ref().is_some_and(|open| open.number == row);
        if !row_continues {
            if let Some(done) = self.open.take() {
                self.table.push_row(done.number, &done.cells)?;
            }
            self.table.check_row_number(row)?;
        }
        if column >= MAX_IMPORT_COLUMNS {
            return Err(file_error(format!(
                "the sheet has a cell at {}, beyond column {}: at most {MAX_IMPORT_COLUMNS} columns are read",
                cell_reference(row, column),
                import::column_letters(MAX_IMPORT_COLUMNS - 1)
            )));
        }
        let open = self.open.get_or_insert_with(|| OpenRow { number: row, cells: Vec::new(), last_column: column });
        if row_continues && column <= open.last_column {
            return Err(file_error(format!(
                "cell {} comes after cell {}: cells must be in order",
                cell_reference(row, column),
                cell_reference(row, open.last_column)
            )));
        }
        self.table.count_cell()?;
        let text = cell_text(value);
        check_cell_length(&text, || format!("cell {}", cell_reference(row, column)))?;
        if open.cells.len() <= column {
            open.cells.resize(column + 1, String::new());
        }
        open.cells[column] = text;
        open.last_column = column;
        Ok(())
    }

    fn finish(mut self) -> Result<Table<F::Row>, AppError> {
        if let Some(done) = self.open.take() {
            self.table.push_row(done.number, &done.cells)?;
        }
        self.table.finish()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use super::*;
    use crate::spreadsheet::import::{MAX_IMPORT_CELLS, MAX_IMPORT_ROWS};

    /// Writes one zip entry's content (streamed, so a test can make a huge one cheaply).
    type EntryWriter = Box<dyn Fn(&mut dyn Write)>;

    const PACKAGE_RELATIONSHIPS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
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
            ("_rels/.rels", text(PACKAGE_RELATIONSHIPS.into())),
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
    fn a_zip_bomb_that_lies_about_its_size_is_stopped_at_the_size_it_declares() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        // Without the zip64 extra field, so that the 32-bit sizes are the only ones.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        for (name, content) in [
            ("_rels/.rels", PACKAGE_RELATIONSHIPS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", RELATIONSHIPS),
        ] {
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
        assert!(
            message.contains("xl/worksheets/sheet1.xml does not inflate to the 1000 bytes its zip entry declares"),
            "{message}"
        );
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
            ("_rels/.rels", text(PACKAGE_RELATIONSHIPS.into())),
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

    #[test]
    fn a_declared_shared_string_count_over_the_limit_is_refused_before_room_is_made_for_it() {
        let strings = text(r#"<sst uniqueCount="1000000000000"><si><t>x</t></si></sst>"#.into());
        let message = refused(&workbook_with(sheet(HEADER_ROW), Some(strings)));
        assert!(message.contains("more than 200000 shared strings"), "{message}");
    }

    #[test]
    fn a_huge_text_in_the_sheet_is_refused_before_it_is_buffered() {
        let rows = format!(
            r#"{HEADER_ROW}<row r="2"><c r="A2" t="inlineStr"><is><t>{}</t></is></c></row>"#,
            "x".repeat(1 << 20)
        );
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains("more than 262144 bytes"), "{message}");
    }

    #[test]
    fn an_inline_text_over_the_cell_length_is_refused_naming_the_cell() {
        let rows = format!(
            r#"{HEADER_ROW}<row r="2"><c r="D2" t="inlineStr"><is><t>{}</t></is></c></row>"#,
            "区".repeat(2001)
        );
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains("cell D2 is longer than 2000 characters"), "{message}");
    }

    #[test]
    fn a_large_part_describing_the_workbook_is_refused() {
        let names: String = (0..200_000).map(|i| format!(r#"<definedName name="n{i}">s!A1</definedName>"#)).collect();
        let workbook = WORKBOOK.replace("</sheets>", &format!("</sheets><definedNames>{names}</definedNames>"));
        assert!(workbook.len() as u64 > MAX_XLSX_STRUCTURE_PART_BYTES);
        let bytes = zip_of(vec![
            ("_rels/.rels", text(PACKAGE_RELATIONSHIPS.into())),
            ("xl/workbook.xml", text(workbook)),
            ("xl/_rels/workbook.xml.rels", text(RELATIONSHIPS.into())),
            ("xl/worksheets/sheet1.xml", text(sheet(HEADER_ROW))),
        ]);
        let message = refused(&bytes);
        assert!(
            message.contains("xl/workbook.xml declares") && message.contains("a part describing the workbook"),
            "{message}"
        );
    }

    /// A text token far longer than [`MAX_XML_TOKEN_BYTES`], as a part of its own.
    fn overlong_token() -> EntryWriter {
        text(format!("<x>{}</x>", "y".repeat(2 * MAX_XML_TOKEN_BYTES)))
    }

    #[test]
    fn parts_the_import_does_not_read_are_not_read() {
        let rows = format!(
            r#"{HEADER_ROW}<row r="2"><c r="A2"><v>7</v></c><c r="B2"><v>2020</v></c><c r="C2"><v>1</v></c></row>"#
        );
        let bytes = zip_of(vec![
            ("_rels/.rels", text(PACKAGE_RELATIONSHIPS.into())),
            ("xl/workbook.xml", text(WORKBOOK.replace("</sheets>", r#"<sheet name="2" sheetId="2" r:id="rId3"/></sheets>"#))),
            (
                "xl/_rels/workbook.xml.rels",
                text(RELATIONSHIPS.replace(
                    "</Relationships>",
                    r#"<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>"#,
                )),
            ),
            // Found as calamine finds parts: ignoring ASCII case.
            ("XL/Worksheets/Sheet1.xml", text(sheet(&rows))),
            ("xl/worksheets/sheet2.xml", overlong_token()),
            ("xl/styles.xml", overlong_token()),
            ("customXml/item1.xml", overlong_token()),
        ]);
        let read = read_xlsx(&bytes).unwrap();
        assert_eq!(read.rows.len(), 1);
        assert_eq!((read.rows[0].row, read.rows[0].indicator_id), (2, 7));
    }

    #[test]
    fn the_first_sheet_is_checked_wherever_the_relationships_put_it() {
        let bytes = zip_of(vec![
            ("_rels/.rels", text(PACKAGE_RELATIONSHIPS.into())),
            ("xl/workbook.xml", text(WORKBOOK.into())),
            (
                "xl/_rels/workbook.xml.rels",
                text(RELATIONSHIPS.replace("worksheets/sheet1.xml", "/customXml/item1.xml")),
            ),
            ("xl/worksheets/sheet1.xml", text(sheet(HEADER_ROW))),
            ("customXml/item1.xml", overlong_token()),
        ]);
        let message = refused(&bytes);
        assert!(message.contains("more than 262144 bytes"), "{message}");
    }

    #[test]
    fn cells_of_a_row_must_go_right() {
        let rows = format!(r#"{HEADER_ROW}<row r="2"><c r="B2"><v>1</v></c><c r="A2"><v>2</v></c></row>"#);
        let message = refused(&workbook_with(sheet(&rows), None));
        assert!(message.contains("cell A2 comes after cell B2: cells must be in order"), "{message}");
    }

    #[test]
    fn a_missing_shared_string_is_unreadable() {
        let strings = text("<sst><si><t>指標ID</t></si></sst>".into());
        let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>5</v></c></row>"#;
        let message = refused(&workbook_with(sheet(rows), Some(strings)));
        assert!(message.contains("not a readable xlsx file"), "{message}");
    }

    #[test]
    fn a_package_without_relationships_is_unreadable() {
        let bytes = zip_of(vec![
            ("xl/workbook.xml", text(WORKBOOK.into())),
            ("xl/_rels/workbook.xml.rels", text(RELATIONSHIPS.into())),
            ("xl/worksheets/sheet1.xml", text(sheet(HEADER_ROW))),
        ]);
        let message = refused(&bytes);
        assert!(message.contains("not a readable xlsx file") && message.contains("_rels/.rels"), "{message}");
    }

    #[test]
    fn cells_read_as_excel_shows_them() {
        assert_eq!(cell_text(&DataRef::Float(170.0)), "170");
        assert_eq!(cell_text(&DataRef::Float(0.1 + 0.2)), "0.3");
        assert_eq!(cell_text(&DataRef::Float(1e300)), "1e300", "beyond a decimal: as written, not 301 digits");
        assert_eq!(cell_text(&DataRef::Bool(true)), "TRUE");
        assert_eq!(cell_text(&DataRef::Error(calamine::CellErrorType::Div0)), "#DIV/0!");
        assert_eq!(cell_text(&DataRef::SharedString("板橋区")), "板橋区");
    }
}
