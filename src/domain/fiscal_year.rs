//! Fiscal years (年度) and their era labels.
//!
//! A fiscal year runs from 1 April to 31 March and is named by the calendar year it starts in.
//! Labels combine the era with the Western year: 平成30(2018)年度, 令和元(2019)年度, 令和5(2023)年度.
//! FY2019 is 令和元年度 because the era changed on 2019-05-01, inside that fiscal year.
//!
//! Plans written before the era change name later years in the old era (平成31年度, 平成32年度);
//! parsing accepts those, output always uses the era in force for the fiscal year.
//!
//! Pure: no I/O, no clock.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

/// First fiscal year the project handles (平成元年度). Shōwa is never needed. Fiscal years in
/// paths, queries and bodies outside `MIN_YEAR..=MAX_YEAR` are refused with 422.
pub const MIN_YEAR: i32 = 1989;
/// Last fiscal year the project handles.
pub const MAX_YEAR: i32 = 2100;

/// What a client is told about a fiscal year outside the supported range.
pub fn out_of_range_message(year: i32) -> String {
    format!(
        "{MIN_YEAR}〜{MAX_YEAR} 年度の範囲で入力してください \
         (fiscal year {year} is outside the supported range {MIN_YEAR}–{MAX_YEAR})"
    )
}

/// `deserialize_with` for a fiscal year field kept as `i32`: refuses years outside the range.
pub fn supported<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    let year = i32::deserialize(deserializer)?;
    FiscalYear::new(year).map(FiscalYear::year).map_err(|_| serde::de::Error::custom(out_of_range_message(year)))
}

/// `deserialize_with` for an optional fiscal year field; pair with `#[serde(default)]`.
pub fn optional_supported<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i32>, D::Error> {
    match Option::<i32>::deserialize(deserializer)? {
        Some(year) => FiscalYear::new(year)
            .map(|y| Some(y.year()))
            .map_err(|_| serde::de::Error::custom(out_of_range_message(year))),
        None => Ok(None),
    }
}

/// A Japanese era (元号) that can name a fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// 平成: 元年 = 1989.
    Heisei,
    /// 令和: 元年 = 2019.
    Reiwa,
}

impl Era {
    /// The Japanese name as printed in labels.
    pub fn name_ja(self) -> &'static str {
        match self {
            Self::Heisei => "平成",
            Self::Reiwa => "令和",
        }
    }

    /// The romanised name, for messages.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::Heisei => "Heisei",
            Self::Reiwa => "Reiwa",
        }
    }

    /// The Western year of the era's first year (元年).
    pub fn first_year(self) -> i32 {
        match self {
            Self::Heisei => 1989,
            Self::Reiwa => 2019,
        }
    }

    /// The era that names the given fiscal year.
    fn of_fiscal_year(year: i32) -> Self {
        if year >= Self::Reiwa.first_year() { Self::Reiwa } else { Self::Heisei }
    }
}

/// Why a fiscal year or a fiscal year label was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FiscalYearError {
    #[error("fiscal year {year} is outside the supported range {MIN_YEAR} to {MAX_YEAR}")]
    OutOfRange { year: i32 },
    #[error("{input:?} is outside the supported fiscal years {MIN_YEAR} to {MAX_YEAR}")]
    LabelOutOfRange { input: String },
    #[error("fiscal year label is empty")]
    Empty,
    #[error(
        "cannot read {input:?} as a fiscal year: expected a year like 2019 or FY2019, \
         an era label with an optional Western year in parentheses, or R5 / H30"
    )]
    Unrecognized { input: String },
    #[error("{input:?} has {era} year 0, but era years start at 1")]
    EraYearZero { input: String, era: &'static str },
    #[error(
        "{input:?} is inconsistent: the era year means fiscal year {from_era} \
         but the Western year in parentheses says {western}"
    )]
    Mismatch { input: String, from_era: i64, western: i64 },
}

/// A fiscal year (年度), identified by the calendar year it starts in; 1989..=2100.
///
/// Serialised as a bare integer (`2019`); deserialising checks the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct FiscalYear(i32);

impl FiscalYear {
    /// The first supported fiscal year, 平成元(1989)年度.
    pub const MIN: Self = Self(MIN_YEAR);
    /// The last supported fiscal year.
    pub const MAX: Self = Self(MAX_YEAR);

    /// Accepts 1989..=2100.
    pub fn new(year: i32) -> Result<Self, FiscalYearError> {
        if (MIN_YEAR..=MAX_YEAR).contains(&year) { Ok(Self(year)) } else { Err(FiscalYearError::OutOfRange { year }) }
    }

    /// The fiscal year a date falls in: 1 April starts the year, so 2024-03-31 is in FY2023.
    pub fn of_date(date: NaiveDate) -> Result<Self, FiscalYearError> {
        let year = if date.month() >= 4 { date.year() } else { date.year() - 1 };
        Self::new(year)
    }

    /// The calendar year the fiscal year starts in.
    pub fn year(self) -> i32 {
        self.0
    }

    /// 1 April of the starting year.
    pub fn start_date(self) -> NaiveDate {
        // Always valid for 1989..=2100; the fallback is unreachable.
        NaiveDate::from_ymd_opt(self.0, 4, 1).unwrap_or(NaiveDate::MIN)
    }

    /// 31 March of the following year.
    pub fn end_date(self) -> NaiveDate {
        // Always valid for 1989..=2100; the fallback is unreachable.
        NaiveDate::from_ymd_opt(self.0 + 1, 3, 31).unwrap_or(NaiveDate::MAX)
    }

    /// Whether the date falls within this fiscal year.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.start_date() <= date && date <= self.end_date()
    }

    /// The era naming this fiscal year (令和 from FY2019).
    pub fn era(self) -> Era {
        Era::of_fiscal_year(self.0)
    }

    /// The year within the era; 1 is 元年.
    pub fn era_year(self) -> i32 {
        self.0 - self.era().first_year() + 1
    }

    /// The display label: 平成30(2018)年度, 令和元(2019)年度, 令和5(2023)年度.
    pub fn label(self) -> String {
        self.to_string()
    }

    /// The label of a chart's axis, where a full one does not fit: `R2`, `H30`.
    pub fn short_label(self) -> String {
        let initial = self.era().name_en().chars().next().unwrap_or('?');
        format!("{initial}{}", self.era_year())
    }

    /// The following fiscal year, `None` after [`FiscalYear::MAX`].
    pub fn next(self) -> Option<Self> {
        Self::new(self.0.checked_add(1)?).ok()
    }

    /// The preceding fiscal year, `None` before [`FiscalYear::MIN`].
    pub fn prev(self) -> Option<Self> {
        Self::new(self.0.checked_sub(1)?).ok()
    }

    /// The fiscal years from `start` to `end`, both included; empty when `start > end`.
    pub fn range(start: Self, end: Self) -> impl DoubleEndedIterator<Item = Self> + Clone + use<> {
        (start.0..=end.0).map(Self)
    }

    /// Parses a fiscal year as people write it.
    ///
    /// Accepted: `2019`, `2019年度`, `FY2019`, `令和元年度`, `令和1年度`, `令和元(2019)年度`,
    /// `平成31年度` (= 2019), `平成32年度` (= 2020, the old era carried past its end),
    /// `平成 30 (2018) 年度` (spacing from PDFs, half- or full-width), full-width digits and
    /// parentheses (`令和５（2023）年度`), and the abbreviations `R5`, `H30`. When both the era
    /// year and the Western year are given they must agree. The `年度` suffix is optional.
    pub fn parse_label(input: &str) -> Result<Self, FiscalYearError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FiscalYearError::Empty);
        }
        let mut cursor = Cursor::new(trimmed);
        let year = match cursor.era() {
            Some(era) => parse_era_form(&mut cursor, era, trimmed)?,
            None => parse_western_form(&mut cursor, trimmed)?,
        };
        let year = i32::try_from(year).map_err(|_| FiscalYearError::LabelOutOfRange { input: excerpt(trimmed) })?;
        Self::new(year).map_err(|_| FiscalYearError::LabelOutOfRange { input: excerpt(trimmed) })
    }
}

/// `<era> <n|元> [ ( <western> ) ] [年度]`
fn parse_era_form(cursor: &mut Cursor, era: Era, input: &str) -> Result<i64, FiscalYearError> {
    let unrecognized = || FiscalYearError::Unrecognized { input: excerpt(input) };
    cursor.skip_ws();
    let era_year = if cursor.eat("元") { 1 } else { cursor.number(input)?.ok_or_else(unrecognized)? };
    if era_year == 0 {
        return Err(FiscalYearError::EraYearZero { input: excerpt(input), era: era.name_en() });
    }
    let from_era = i64::from(era.first_year()) - 1 + era_year;
    cursor.skip_ws();
    if cursor.eat("(") {
        cursor.skip_ws();
        let western = cursor.number(input)?.ok_or_else(unrecognized)?;
        cursor.skip_ws();
        if !cursor.eat(")") {
            return Err(unrecognized());
        }
        if western != from_era {
            return Err(FiscalYearError::Mismatch { input: excerpt(input), from_era, western });
        }
        cursor.skip_ws();
    }
    cursor.eat("年度");
    cursor.skip_ws();
    if cursor.at_end() { Ok(from_era) } else { Err(unrecognized()) }
}

/// `[FY] <western> [年度]`
fn parse_western_form(cursor: &mut Cursor, input: &str) -> Result<i64, FiscalYearError> {
    let unrecognized = || FiscalYearError::Unrecognized { input: excerpt(input) };
    if cursor.eat("fy") {
        cursor.skip_ws();
    }
    let year = cursor.number(input)?.ok_or_else(unrecognized)?;
    cursor.skip_ws();
    cursor.eat("年度");
    cursor.skip_ws();
    if cursor.at_end() { Ok(year) } else { Err(unrecognized()) }
}

/// At most 40 characters of the input, for error messages.
fn excerpt(input: &str) -> String {
    const LIMIT: usize = 40;
    if input.chars().count() <= LIMIT {
        input.to_owned()
    } else {
        let mut short: String = input.chars().take(LIMIT).collect();
        short.push('…');
        short
    }
}

/// Full-width ASCII (digits, letters, parentheses) to half-width; the ideographic space to a space.
fn to_half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// A small scanner over the normalised characters of a label.
struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

impl Cursor {
    fn new(input: &str) -> Self {
        Self { chars: input.chars().map(to_half_width).collect(), pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes `word` if it comes next (ASCII letters compared case-insensitively).
    fn eat(&mut self, word: &str) -> bool {
        let mut pos = self.pos;
        for expected in word.chars() {
            match self.chars.get(pos) {
                Some(c) if c.eq_ignore_ascii_case(&expected) => pos += 1,
                _ => return false,
            }
        }
        self.pos = pos;
        true
    }

    /// Consumes an era name or its one-letter abbreviation (`H30`, `R5`).
    fn era(&mut self) -> Option<Era> {
        if self.eat("平成") || self.eat("heisei") || self.eat("h") {
            Some(Era::Heisei)
        } else if self.eat("令和") || self.eat("reiwa") || self.eat("r") {
            Some(Era::Reiwa)
        } else {
            None
        }
    }

    /// Consumes a run of ASCII digits; `Ok(None)` when none comes next.
    fn number(&mut self, input: &str) -> Result<Option<i64>, FiscalYearError> {
        let mut value: Option<i64> = None;
        while let Some(digit) = self.peek().and_then(|c| c.to_digit(10)) {
            let next = value
                .unwrap_or(0)
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(digit)))
                .ok_or_else(|| FiscalYearError::LabelOutOfRange { input: excerpt(input) })?;
            value = Some(next);
            self.pos += 1;
        }
        Ok(value)
    }
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let era = self.era();
        let era_year = self.era_year();
        if era_year == 1 {
            write!(f, "{}元({})年度", era.name_ja(), self.0)
        } else {
            write!(f, "{}{}({})年度", era.name_ja(), era_year, self.0)
        }
    }
}

impl FromStr for FiscalYear {
    type Err = FiscalYearError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_label(s)
    }
}

impl TryFrom<i32> for FiscalYear {
    type Error = FiscalYearError;

    fn try_from(year: i32) -> Result<Self, Self::Error> {
        Self::new(year)
    }
}

impl From<FiscalYear> for i32 {
    fn from(year: FiscalYear) -> Self {
        year.0
    }
}

impl PartialSchema for FiscalYear {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .description(Some("Fiscal year (April to March), named by the calendar year it starts in"))
            .minimum(Some(MIN_YEAR))
            .maximum(Some(MAX_YEAR))
            .examples([2019])
            .into()
    }
}

impl ToSchema for FiscalYear {}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(year: i32) -> FiscalYear {
        match FiscalYear::new(year) {
            Ok(fy) => fy,
            Err(e) => panic!("test year {year}: {e}"),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(date) => date,
            None => panic!("bad test date {y}-{m}-{d}"),
        }
    }

    fn parsed(input: &str) -> Result<i32, FiscalYearError> {
        FiscalYear::parse_label(input).map(FiscalYear::year)
    }

    // --- range ---

    #[test]
    fn new_accepts_1989_through_2100() {
        assert_eq!(fy(1989).year(), 1989);
        assert_eq!(fy(2100).year(), 2100);
        assert_eq!(FiscalYear::MIN, fy(1989));
        assert_eq!(FiscalYear::MAX, fy(2100));
    }

    #[test]
    fn new_rejects_showa_and_far_future() {
        assert_eq!(FiscalYear::new(1988), Err(FiscalYearError::OutOfRange { year: 1988 }));
        assert!(FiscalYear::new(2101).is_err());
        assert!(FiscalYear::new(i32::MIN).is_err());
        assert!(FiscalYear::new(i32::MAX).is_err());
        let message = FiscalYear::new(1988).err().map(|e| e.to_string());
        assert_eq!(message.as_deref(), Some("fiscal year 1988 is outside the supported range 1989 to 2100"));
    }

    // --- dates ---

    #[test]
    fn march_31_belongs_to_previous_fiscal_year() {
        assert_eq!(FiscalYear::of_date(date(2024, 3, 31)), Ok(fy(2023)));
    }

    #[test]
    fn april_1_starts_the_fiscal_year() {
        assert_eq!(FiscalYear::of_date(date(2024, 4, 1)), Ok(fy(2024)));
        assert_eq!(FiscalYear::of_date(date(2024, 12, 31)), Ok(fy(2024)));
        assert_eq!(FiscalYear::of_date(date(2025, 1, 1)), Ok(fy(2024)));
    }

    #[test]
    fn of_date_rejects_dates_outside_the_range() {
        // 1989-03-31 is in FY1988 (Shōwa 63).
        assert!(FiscalYear::of_date(date(1989, 3, 31)).is_err());
        assert_eq!(FiscalYear::of_date(date(1989, 4, 1)), Ok(fy(1989)));
        assert_eq!(FiscalYear::of_date(date(2101, 3, 31)), Ok(fy(2100)));
        assert!(FiscalYear::of_date(date(2101, 4, 1)).is_err());
    }

    #[test]
    fn fiscal_year_runs_april_1_to_march_31_of_next_year() {
        assert_eq!(fy(2019).start_date(), date(2019, 4, 1));
        assert_eq!(fy(2019).end_date(), date(2020, 3, 31));
        assert!(fy(2019).contains(date(2020, 3, 31)));
        assert!(!fy(2019).contains(date(2020, 4, 1)));
        assert!(!fy(2019).contains(date(2019, 3, 31)));
    }

    #[test]
    fn start_and_end_dates_are_real_for_every_supported_year() {
        for year in FiscalYear::range(FiscalYear::MIN, FiscalYear::MAX) {
            assert_eq!(year.start_date().year(), year.year());
            assert_eq!(year.end_date().year(), year.year() + 1);
            assert_eq!(FiscalYear::of_date(year.start_date()), Ok(year));
            assert_eq!(FiscalYear::of_date(year.end_date()), Ok(year));
        }
    }

    // --- labels ---

    #[test]
    fn fiscal_2019_is_reiwa_gannen() {
        assert_eq!(fy(2019).label(), "令和元(2019)年度");
        assert_eq!(fy(2019).era(), Era::Reiwa);
        assert_eq!(fy(2019).era_year(), 1);
    }

    #[test]
    fn fiscal_2018_is_heisei_30() {
        assert_eq!(fy(2018).label(), "平成30(2018)年度");
        assert_eq!(fy(2018).era(), Era::Heisei);
    }

    #[test]
    fn fiscal_1989_is_heisei_gannen() {
        assert_eq!(fy(1989).label(), "平成元(1989)年度");
    }

    #[test]
    fn fiscal_2023_is_reiwa_5() {
        assert_eq!(fy(2023).label(), "令和5(2023)年度");
        assert_eq!(fy(2020).label(), "令和2(2020)年度");
    }

    #[test]
    fn display_is_the_label() {
        assert_eq!(format!("{}", fy(2025)), "令和7(2025)年度");
        assert_eq!(fy(2025).to_string(), fy(2025).label());
    }

    #[test]
    fn every_label_parses_back_to_its_year() {
        for year in FiscalYear::range(FiscalYear::MIN, FiscalYear::MAX) {
            assert_eq!(FiscalYear::parse_label(&year.label()), Ok(year));
        }
    }

    // --- parsing ---

    #[test]
    fn bare_and_fy_prefixed_western_years_parse() {
        assert_eq!(parsed("2019"), Ok(2019));
        assert_eq!(parsed("FY2023"), Ok(2023));
        assert_eq!(parsed("fy 2023"), Ok(2023));
        assert_eq!(parsed("2019年度"), Ok(2019));
        assert_eq!(parsed(" 2019 "), Ok(2019));
    }

    #[test]
    fn reiwa_gannen_and_reiwa_1_are_fiscal_2019() {
        assert_eq!(parsed("令和元年度"), Ok(2019));
        assert_eq!(parsed("令和1年度"), Ok(2019));
        assert_eq!(parsed("令和元(2019)年度"), Ok(2019));
    }

    #[test]
    fn heisei_31_is_fiscal_2019() {
        assert_eq!(parsed("平成31年度"), Ok(2019));
        assert_eq!(parsed("平成 31(2019)年度"), Ok(2019));
    }

    #[test]
    fn heisei_32_is_fiscal_2020() {
        assert_eq!(parsed("平成32年度"), Ok(2020));
        assert_eq!(parsed("平成32年度"), parsed("令和2年度"));
        // The old era is carried as far as old plans go (平成33年度 = FY2021).
        assert_eq!(parsed("平成33年度"), Ok(2021));
    }

    #[test]
    fn heisei_labels_written_after_the_era_change_display_in_reiwa() {
        assert_eq!(FiscalYear::parse_label("平成32年度").map(FiscalYear::label), Ok("令和2(2020)年度".to_owned()));
    }

    #[test]
    fn pdf_spacing_with_half_and_full_width_spaces_is_ignored() {
        assert_eq!(parsed("平成 32(2020)年度"), Ok(2020));
        assert_eq!(parsed("平成 30 (2018) 年度"), Ok(2018));
        assert_eq!(parsed("平成\u{3000}30\u{3000}(2018)\u{3000}年度"), Ok(2018));
        assert_eq!(parsed("\u{3000}令和 元 年度\u{3000}"), Ok(2019));
    }

    #[test]
    fn full_width_digits_and_parentheses_parse() {
        assert_eq!(parsed("令和５年度"), Ok(2023));
        assert_eq!(parsed("令和７（２０２５）年度"), Ok(2025));
        assert_eq!(parsed("令和３（2021）年度"), Ok(2021));
        assert_eq!(parsed("２０１９"), Ok(2019));
        assert_eq!(parsed("ＦＹ２０２３"), Ok(2023));
    }

    #[test]
    fn letter_abbreviations_r_and_h_parse() {
        assert_eq!(parsed("R5"), Ok(2023));
        assert_eq!(parsed("H30"), Ok(2018));
        assert_eq!(parsed("r1"), Ok(2019));
        assert_eq!(parsed("H31"), Ok(2019));
        assert_eq!(parsed("R5年度"), Ok(2023));
        assert_eq!(parsed("Ｒ５"), Ok(2023));
    }

    #[test]
    fn era_year_and_western_year_must_agree() {
        assert_eq!(
            parsed("平成30(2019)年度"),
            Err(FiscalYearError::Mismatch { input: "平成30(2019)年度".to_owned(), from_era: 2018, western: 2019 })
        );
        assert!(parsed("令和元(2018)年度").is_err());
    }

    #[test]
    fn mismatch_message_names_the_input_and_both_years() {
        let message = parsed("平成30(2019)年度").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "\"平成30(2019)年度\" is inconsistent: the era year means fiscal year 2018 \
                 but the Western year in parentheses says 2019"
            )
        );
    }

    #[test]
    fn era_year_zero_is_rejected() {
        assert_eq!(
            parsed("令和0年度"),
            Err(FiscalYearError::EraYearZero { input: "令和0年度".to_owned(), era: "Reiwa" })
        );
        assert!(parsed("H0").is_err());
    }

    #[test]
    fn labels_outside_the_range_are_rejected() {
        assert_eq!(parsed("1988"), Err(FiscalYearError::LabelOutOfRange { input: "1988".to_owned() }));
        assert!(parsed("19").is_err());
        assert!(parsed("令和83年度").is_err()); // 2101
        assert_eq!(parsed("令和82年度"), Ok(2100));
        assert!(parsed("99999999999999999999999999").is_err());
        assert!(parsed("平成99999999999999999999年度").is_err());
    }

    #[test]
    fn garbage_is_rejected_with_a_message_naming_the_input() {
        assert_eq!(parsed(""), Err(FiscalYearError::Empty));
        assert_eq!(parsed("  \u{3000} "), Err(FiscalYearError::Empty));
        for input in [
            "令和",
            "令和年度",
            "昭和60年度",
            "2019年",
            "平成30年",
            "2019-04",
            "20 19",
            "平成30(2018",
            "平成30()年度",
            "平成30(2018)年度です",
            "FY",
            "-2019",
            "+2019",
            "2019.0",
            "X2019",
            "年度",
        ] {
            match parsed(input) {
                Err(e) => assert!(e.to_string().contains(input), "message {e} does not name {input}"),
                Ok(year) => panic!("{input:?} parsed as {year}"),
            }
        }
    }

    #[test]
    fn very_long_input_is_shortened_in_the_message() {
        let input = "x".repeat(1000);
        let message = parsed(&input).err().map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.len() < 200));
    }

    #[test]
    fn error_messages_are_english_apart_from_the_input() {
        for e in [
            FiscalYearError::OutOfRange { year: 1 },
            FiscalYearError::LabelOutOfRange { input: "x".into() },
            FiscalYearError::Empty,
            FiscalYearError::Unrecognized { input: "x".into() },
            FiscalYearError::EraYearZero { input: "x".into(), era: "Reiwa" },
            FiscalYearError::Mismatch { input: "x".into(), from_era: 1, western: 2 },
        ] {
            assert!(e.to_string().is_ascii(), "{e}");
        }
    }

    #[test]
    fn from_str_is_parse_label() {
        assert_eq!("令和元年度".parse::<FiscalYear>(), Ok(fy(2019)));
        assert!("nonsense".parse::<FiscalYear>().is_err());
    }

    // --- stepping and ranges ---

    #[test]
    fn next_and_prev_step_one_year_and_stop_at_the_bounds() {
        assert_eq!(fy(2018).next(), Some(fy(2019)));
        assert_eq!(fy(2019).prev(), Some(fy(2018)));
        assert_eq!(FiscalYear::MAX.next(), None);
        assert_eq!(FiscalYear::MIN.prev(), None);
    }

    #[test]
    fn range_includes_both_ends() {
        let years: Vec<i32> = FiscalYear::range(fy(2016), fy(2020)).map(FiscalYear::year).collect();
        assert_eq!(years, [2016, 2017, 2018, 2019, 2020]);
        assert_eq!(FiscalYear::range(fy(2024), fy(2024)).count(), 1);
        assert_eq!(FiscalYear::range(fy(2025), fy(2024)).count(), 0);
        assert_eq!(FiscalYear::range(fy(2021), fy(2025)).next_back(), Some(fy(2025)));
    }

    #[test]
    fn years_order_chronologically() {
        assert!(fy(2018) < fy(2019));
        assert_eq!(fy(2020).max(fy(2019)), fy(2020));
    }

    // --- serde and schema ---

    #[test]
    fn serde_is_a_bare_integer() {
        assert_eq!(serde_json::to_string(&fy(2019)).ok().as_deref(), Some("2019"));
        assert_eq!(serde_json::from_str::<FiscalYear>("2019").ok(), Some(fy(2019)));
    }

    #[test]
    fn deserialize_checks_the_range_and_type() {
        assert!(serde_json::from_str::<FiscalYear>("1988").is_err());
        assert!(serde_json::from_str::<FiscalYear>("\"2019\"").is_err());
        assert!(serde_json::from_str::<FiscalYear>("2019.5").is_err());
        assert!(serde_json::from_str::<FiscalYear>("99999999999").is_err());
    }

    #[test]
    fn schema_is_an_integer_with_example_2019() {
        let schema = serde_json::to_value(FiscalYear::schema()).unwrap_or_default();
        assert_eq!(schema["type"], "integer");
        assert_eq!(schema["examples"][0], 2019);
        assert_eq!(schema["minimum"], 1989);
        assert_eq!(schema["maximum"], 2100);
        assert_eq!(FiscalYear::name(), "FiscalYear");
    }
}
