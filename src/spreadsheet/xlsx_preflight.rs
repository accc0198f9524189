//! What an uploaded xlsx must pass before calamine reads it, checked without keeping anything.
//!
//! An xlsx file is a zip of XML parts, and a small file can claim (or hold) far more than it
//! looks: a part that inflates to gigabytes, a shared-string table declaring billions of entries,
//! a text of hundreds of megabytes. calamine allocates from what it reads (it reserves the count
//! a shared-string table declares, keeps the whole table, and holds one whole XML token at a
//! time), so before it opens anything this pre-flight checks
//! 1. the zip directory: entries, and the inflated size each entry declares and all of them
//!    together; the `zip` crate then refuses to inflate an entry past the size it declares;
//! 2. each part calamine will read, streamed: its size, the size of one XML token, the sheets of
//!    the workbook, and the shared strings (declared count, count, length of one, bytes of all).
//!
//! It finds those parts as calamine does (package relationships → workbook → its relationships →
//! first sheet; the shared strings beside the workbook) and hands calamine a package of only them,
//! copied compressed as they are, so calamine cannot open a part that was not checked: styles,
//! themes, drawings and the other sheets are left out (the import reads nothing from them).

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use super::import::{self, MAX_IMPORT_CELL_CHARS};
use crate::error::AppError;

/// Most entries (files) in the zip of a workbook: a workbook of [`MAX_XLSX_SHEETS`] sheets with
/// their relationships, styles and a few pictures has far fewer.
pub const MAX_XLSX_ZIP_ENTRIES: usize = 1000;

/// Most sheets in a workbook (only the first is imported).
pub const MAX_XLSX_SHEETS: usize = 64;

/// Most bytes one zip entry may declare it inflates to (and so inflate to): a sheet of
/// [`import::MAX_IMPORT_ROWS`] rows of the 進捗管理表 is well below it.
pub const MAX_XLSX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// Most bytes all zip entries together may declare they inflate to.
pub const MAX_XLSX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;

/// Most bytes each part describing the package may inflate to (the package's relationships, the
/// workbook and the workbook's relationships): calamine keeps every sheet, name and relationship
/// they list, and a workbook of [`MAX_XLSX_SHEETS`] sheets needs a few kilobytes.
pub const MAX_XLSX_STRUCTURE_PART_BYTES: u64 = 4 * 1024 * 1024;

/// Most entries in a workbook's shared-string table, as declared and as read.
pub const MAX_XLSX_SHARED_STRINGS: usize = 200_000;

/// Most bytes of text in the shared-string table.
pub const MAX_XLSX_SHARED_STRING_BYTES: usize = 32 * 1024 * 1024;

/// Longest single XML token (a tag, or the text between two tags) in bytes: a cell's text is
/// at most [`import::MAX_IMPORT_CELL_CHARS`] characters, so anything longer is refused before
/// calamine buffers it whole.
pub const MAX_XML_TOKEN_BYTES: usize = 256 * 1024;

/// Chunk size when inflating a part; bounds how far reading runs past a token's limit.
const READ_BUFFER_BYTES: usize = 64 * 1024;

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

pub(super) fn file_error(message: impl Into<String>) -> AppError {
    AppError::invalid("file", message)
}

pub(super) fn unreadable(error: impl std::fmt::Display) -> AppError {
    file_error(format!("not a readable xlsx file: {error}"))
}

/// The parts of an uploaded workbook that calamine reads for its first sheet, every bound
/// checked, as a zip of their own.
pub(super) fn checked_package(bytes: &[u8]) -> Result<Vec<u8>, AppError> {
    let mut archive = open_archive(bytes)?;
    let names = PartNames::of(&archive);
    let layout = read_layout(&mut archive, &names)?;
    if let Some(shared_strings) = layout.shared_strings {
        scan_shared_strings(&mut archive, shared_strings)?;
    }
    scan_part(&mut archive, layout.first_sheet, |_| Ok(()))?;
    package_of(&mut archive, &layout.parts())
}

/// A bound hit while tokenising; carried through `io::Error` so the parser's error can be told
/// apart from a broken file.
#[derive(Debug)]
struct LimitExceeded(String);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitExceeded {}

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
            return Err(std::io::Error::other(LimitExceeded(format!(
                "the workbook holds a text or tag of more than {MAX_XML_TOKEN_BYTES} bytes \
                 (a cell holds at most {MAX_IMPORT_CELL_CHARS} characters)"
            ))));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed += amount;
        self.inner.consume(amount);
    }
}

/// Notes whether inflating a part failed, to tell a part that does not inflate as its zip entry
/// declares (the zip crate stops an entry at its declared size and checks its checksum there)
/// from broken XML.
struct Inflating<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for Inflating<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf);
        self.failed |= read.is_err();
        read
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

fn too_many_entries(count: u64) -> AppError {
    file_error(format!("the workbook's zip holds {count} entries; at most {MAX_XLSX_ZIP_ENTRIES} are accepted"))
}

/// The archive, with its entry count and what its directory declares checked; nothing inflated.
fn open_archive(bytes: &[u8]) -> Result<Archive<'_>, AppError> {
    let declared = declared_entry_count(bytes)?;
    if declared > MAX_XLSX_ZIP_ENTRIES as u64 {
        return Err(too_many_entries(declared));
    }
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    if archive.len() > MAX_XLSX_ZIP_ENTRIES {
        return Err(too_many_entries(archive.len() as u64));
    }
    let mut declared_total = 0u64;
    for index in 0..archive.len() {
        let entry = archive.by_index_data(index).map_err(unreadable)?;
        let name = import::echo(&String::from_utf8_lossy(entry.name_raw()));
        check_entry(&name, entry.size())?;
        declared_total = declared_total.saturating_add(entry.size());
    }
    if declared_total > MAX_XLSX_TOTAL_BYTES {
        return Err(file_error(format!(
            "the workbook declares {declared_total} bytes inflated, more than the {MAX_XLSX_TOTAL_BYTES} one import reads"
        )));
    }
    Ok(archive)
}

/// One entry's declared inflated size (the zip crate inflates no entry past it).
fn check_entry(name: &str, inflated: u64) -> Result<(), AppError> {
    if inflated > MAX_XLSX_ENTRY_BYTES {
        return Err(file_error(format!(
            "the workbook part {name} declares {inflated} bytes inflated, more than the {MAX_XLSX_ENTRY_BYTES} one part may hold"
        )));
    }
    Ok(())
}

/// The archive's entry names as calamine looks a part up: `\` read as `/` and ASCII case
/// ignored, else the exact name.
struct PartNames {
    /// By entry index: the name as written and as compared (`None`: not decodable).
    names: Vec<Option<(String, String)>>,
}

impl PartNames {
    fn of(archive: &Archive<'_>) -> Self {
        let names = (0..archive.len())
            .map(|index| {
                let name = archive.name_for_index(index)?.ok()?.into_owned();
                let compared = name.replace('\\', "/").to_ascii_lowercase();
                Some((name, compared))
            })
            .collect();
        Self { names }
    }

    /// The entry calamine opens for `path` (of two with the same name, the later one).
    fn find(&self, path: &str) -> Option<usize> {
        let key = path.to_ascii_lowercase();
        let found = |matches: &dyn Fn(&(String, String)) -> bool| {
            self.names.iter().rposition(|name| name.as_ref().is_some_and(matches))
        };
        found(&|(_, compared)| *compared == key).or_else(|| found(&|(name, _)| name == path))
    }
}

/// Where the parts calamine reads are, by entry index.
struct Layout {
    package_relationships: usize,
    workbook: usize,
    workbook_relationships: usize,
    shared_strings: Option<usize>,
    first_sheet: usize,
}

impl Layout {
    fn parts(&self) -> Vec<usize> {
        let mut parts = vec![self.package_relationships, self.workbook, self.workbook_relationships, self.first_sheet];
        parts.extend(self.shared_strings);
        parts.sort_unstable();
        parts.dedup();
        parts
    }
}

/// Follows the package's relationships to the workbook and its first sheet, as calamine does,
/// checking each part on the way.
fn read_layout(archive: &mut Archive<'_>, names: &PartNames) -> Result<Layout, AppError> {
    let package_relationships =
        names.find("_rels/.rels").ok_or_else(|| unreadable("the package relationships (_rels/.rels) are missing"))?;
    let workbook_target = scan_package_relationships(archive, package_relationships)?
        .ok_or_else(|| unreadable("the package relationships name no workbook"))?;
    // As calamine splits it: the workbook's folder (without a leading `/`) and its name.
    let (folder, name) = workbook_target.split_at(workbook_target.rfind('/').map_or(0, |at| at + 1));
    let folder = folder.strip_prefix('/').unwrap_or(folder);
    let name = if name.is_empty() { "workbook.xml" } else { name };
    let workbook = names.find(&format!("{folder}{name}")).ok_or_else(|| file_error("the workbook has no sheet"))?;
    let relationships_path = format!("{folder}_rels/{name}.rels");
    let workbook_relationships = names.find(&relationships_path).ok_or_else(|| {
        unreadable(format!("the workbook's relationships ({}) are missing", import::echo(&relationships_path)))
    })?;
    let sheet_id = scan_workbook(archive, workbook)?.ok_or_else(|| file_error("the workbook has no sheet"))?;
    let sheet_target = scan_workbook_relationships(archive, workbook_relationships, &sheet_id)?.ok_or_else(|| {
        unreadable(format!(
            "the workbook's relationships name no part for its first sheet ({})",
            import::echo(&sheet_id)
        ))
    })?;
    let sheet_path = match sheet_target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("{folder}{sheet_target}"),
    };
    let first_sheet = names
        .find(&sheet_path)
        .ok_or_else(|| unreadable(format!("the first sheet {} is missing", import::echo(&sheet_path))))?;
    let shared_strings = names.find(&format!("{folder}sharedStrings.xml"));
    Ok(Layout { package_relationships, workbook, workbook_relationships, shared_strings, first_sheet })
}

/// Streams the XML events of one part to `on_event`, refusing a token longer than
/// [`MAX_XML_TOKEN_BYTES`] before it is buffered whole.
fn scan_part(
    archive: &mut Archive<'_>,
    index: usize,
    mut on_event: impl FnMut(&Event<'_>) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let entry = archive.by_index(index).map_err(unreadable)?;
    let name = import::echo(&String::from_utf8_lossy(entry.name_raw()));
    let declared = entry.size();
    let inflating = Inflating { inner: entry, failed: false };
    let tokens = TokenBudget { inner: BufReader::with_capacity(READ_BUFFER_BYTES, inflating), consumed: 0 };
    let mut reader = quick_xml::Reader::from_reader(tokens);
    // As lenient as calamine's own reader: a file it reads is not refused here.
    reader.config_mut().check_end_names = false;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let event = match reader.read_event_into(&mut buffer) {
            Ok(Event::Eof) => return Ok(()),
            Ok(event) => event,
            Err(error) => {
                let inflating_failed = reader.get_ref().inner.get_ref().failed;
                return Err(scan_error(error, &name, declared, inflating_failed));
            }
        };
        on_event(&event)?;
        reader.get_mut().next_token();
    }
}

/// The bound behind an XML or I/O error, if one was hit; otherwise the file is broken.
fn scan_error(error: quick_xml::Error, part: &str, declared: u64, inflating_failed: bool) -> AppError {
    if let quick_xml::Error::Io(io) = &error {
        if let Some(limit) = io.get_ref().and_then(|e| e.downcast_ref::<LimitExceeded>()) {
            return file_error(limit.0.clone());
        }
        if inflating_failed {
            return file_error(format!(
                "the workbook part {part} does not inflate to the {declared} bytes its zip entry declares: {io}"
            ));
        }
    }
    unreadable(format!("{part}: {error}"))
}

/// Refuses a part describing the package that is larger than [`MAX_XLSX_STRUCTURE_PART_BYTES`].
fn check_structure_part(archive: &Archive<'_>, index: usize) -> Result<(), AppError> {
    let entry = archive.by_index_data(index).map_err(unreadable)?;
    if entry.size() > MAX_XLSX_STRUCTURE_PART_BYTES {
        return Err(file_error(format!(
            "the workbook part {} declares {} bytes inflated, more than the {MAX_XLSX_STRUCTURE_PART_BYTES} a \
             part describing the workbook may hold",
            import::echo(&String::from_utf8_lossy(entry.name_raw())),
            entry.size()
        )));
    }
    Ok(())
}

/// The element an event opens (empty or not) if its local name is `name`.
fn element_named<'a>(event: &'a Event<'_>, name: &str) -> Option<&'a BytesStart<'a>> {
    match event {
        Event::Start(element) | Event::Empty(element) if element.local_name().as_ref() == name => Some(element),
        _ => None,
    }
}

/// The raw (still escaped) value of the attribute named exactly `key`; a duplicated attribute
/// makes the file unreadable.
fn attribute<'a>(element: &'a BytesStart<'_>, key: &str) -> Result<Option<Cow<'a, str>>, AppError> {
    for found in element.attributes() {
        let found = found.map_err(unreadable)?;
        if found.key.as_ref() == key {
            return Ok(Some(found.value));
        }
    }
    Ok(None)
}

/// The workbook part the package relationships name (`officeDocument`; of several, the last).
fn scan_package_relationships(archive: &mut Archive<'_>, index: usize) -> Result<Option<String>, AppError> {
    check_structure_part(archive, index)?;
    let mut target = None;
    scan_part(archive, index, |event| {
        if let Some(element) = element_named(event, "Relationship")
            && attribute(element, "Type")?.is_some_and(|kind| kind.ends_with("/relationships/officeDocument"))
            && let Some(found) = attribute(element, "Target")?
        {
            target = Some(quick_xml::escape::unescape(&found).map_err(unreadable)?.into_owned());
        }
        Ok(())
    })?;
    Ok(target)
}

/// The relationship id of the workbook's first sheet, its sheets counted.
fn scan_workbook(archive: &mut Archive<'_>, index: usize) -> Result<Option<String>, AppError> {
    check_structure_part(archive, index)?;
    let mut sheets = 0usize;
    let mut first_sheet_id = None;
    scan_part(archive, index, |event| {
        let Some(element) = element_named(event, "sheet") else { return Ok(()) };
        sheets += 1;
        if sheets > MAX_XLSX_SHEETS {
            return Err(file_error(format!(
                "the workbook has more than {MAX_XLSX_SHEETS} sheets, the most accepted (only the first is imported)"
            )));
        }
        if first_sheet_id.is_none() {
            // `r:id` under any prefix, as calamine reads it (of several, the last).
            let mut id = String::new();
            for found in element.attributes() {
                let found = found.map_err(unreadable)?;
                let key = found.key.as_ref();
                if key == "id" || key.strip_suffix("id").is_some_and(|prefix| prefix.ends_with(':')) {
                    id = found.value.into_owned();
                }
            }
            first_sheet_id = Some(id);
        }
        Ok(())
    })?;
    Ok(first_sheet_id)
}

/// The target of the workbook relationship `id` (of several, the last).
fn scan_workbook_relationships(archive: &mut Archive<'_>, index: usize, id: &str) -> Result<Option<String>, AppError> {
    check_structure_part(archive, index)?;
    let mut target = None;
    scan_part(archive, index, |event| {
        if let Some(element) = element_named(event, "Relationship")
            && attribute(element, "Id")?.is_some_and(|found| found == id)
        {
            target = Some(attribute(element, "Target")?.unwrap_or_default().into_owned());
        }
        Ok(())
    })?;
    Ok(target)
}

fn too_many_shared_strings() -> AppError {
    file_error(format!("the workbook has more than {MAX_XLSX_SHARED_STRINGS} shared strings, the most accepted"))
}

/// The shared-string table, bounded in declared count, count, length and bytes, as calamine
/// will keep it (phonetic readings left out).
fn scan_shared_strings(archive: &mut Archive<'_>, index: usize) -> Result<(), AppError> {
    let mut strings = 0usize;
    let (mut chars, mut bytes) = (0usize, 0usize);
    let (mut in_text, mut in_phonetic) = (false, false);
    scan_part(archive, index, |event| {
        match event {
            Event::Start(element) | Event::Empty(element) => match element.local_name().as_ref() {
                // calamine reserves room for the count the table declares.
                "sst" => {
                    let declared = attribute(element, "uniqueCount")?;
                    if declared
                        .and_then(|count| count.parse::<u128>().ok())
                        .is_some_and(|count| count > MAX_XLSX_SHARED_STRINGS as u128)
                    {
                        return Err(too_many_shared_strings());
                    }
                }
                "si" => {
                    strings += 1;
                    if strings > MAX_XLSX_SHARED_STRINGS {
                        return Err(too_many_shared_strings());
                    }
                    chars = 0;
                }
                "t" => in_text = matches!(event, Event::Start(_)),
                "rPh" => in_phonetic = matches!(event, Event::Start(_)),
                _ => {}
            },
            Event::End(element) => match element.local_name().as_ref() {
                "t" => in_text = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) if in_text && !in_phonetic => {
                // A reference (`&amp;`) stands for one character.
                let (piece_chars, piece_bytes) = match event {
                    Event::Text(text) => (text.chars().count(), text.len()),
                    Event::CData(data) => (data.chars().count(), data.len()),
                    _ => (1, 4),
                };
                chars += piece_chars;
                bytes += piece_bytes;
                if chars > MAX_IMPORT_CELL_CHARS {
                    return Err(import::cell_too_long(&format!("shared string {}", strings.saturating_sub(1))));
                }
                if bytes > MAX_XLSX_SHARED_STRING_BYTES {
                    return Err(file_error(format!(
                        "the workbook's shared strings hold more than {MAX_XLSX_SHARED_STRING_BYTES} bytes of text, \
                         the most accepted"
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// A zip of the given entries, copied compressed as they are (names, sizes and checksums kept).
fn package_of(archive: &mut Archive<'_>, parts: &[usize]) -> Result<Vec<u8>, AppError> {
    let mut package = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for &index in parts {
        let entry = archive.by_index_raw(index).map_err(unreadable)?;
        package.raw_copy_file(entry).map_err(unreadable)?;
    }
    Ok(package.finish().map_err(unreadable)?.into_inner())
}
