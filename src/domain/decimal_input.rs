//! A decimal as a client sends it: a JSON number or a decimal string, read exactly.
//!
//! Every request field that takes a decimal (values, numerators, denominators, targets, interim
//! targets, baselines, grading thresholds) is read through [`DecimalInput`], so they all accept the
//! same forms and refuse the same way:
//!
//! - a JSON number (`1234.5`, `1.5e3`) or a string (`"1234.5"`, `"1e-10"`): exponent notation is
//!   only another way to write a value, bounded like the value it stands for (`1e-10` is
//!   `0.0000000001`, accepted; `1e-11` is refused like `0.00000000001`);
//! - full-width digits, point, comma and sign as typed with a Japanese IME (`"１２３．５"`, `"－１"`);
//! - thousands separators in groups of three (`"1,234"`, `"１，２３４，５６７.８"`);
//! - at most [`MAX_INTEGER_DIGITS`] digits before and [`MAX_FRACTION_DIGITS`] after the decimal
//!   point (leading and trailing zeros do not count). Anything longer is refused rather than
//!   rounded: a stored value is always exactly the value sent.
//!
//! Ambiguous forms (`"1,23"`, `"1.2.3"`, `"1,234,56"`) are refused with a message saying why.
//! The bounds also keep every computed rate and progress within `rust_decimal`'s 28 digits.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// Most digits before the decimal point of an accepted decimal (up to 999 兆).
pub const MAX_INTEGER_DIGITS: usize = 15;

/// Most digits after the decimal point of an accepted decimal.
pub const MAX_FRACTION_DIGITS: usize = 10;

/// The key under which serde_json (feature `arbitrary_precision`) hands over a number's text.
const JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Why a decimal input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalInputError {
    #[error("数値を入力してください (expected a number, got an empty text)")]
    Empty,
    #[error(
        "数値として読めません。1234.5 や 1,234.5 のように、数字と小数点で入力してください (expected a number such as \
         1234.5 or \"1,234.5\": digits, at most one decimal point, an optional sign)"
    )]
    NotANumber,
    #[error(
        "桁区切りのカンマは 3 桁ごとに入れてください (a thousands separator must be followed by exactly three digits, \
         as in 1,234,567.5; no separators after the decimal point)"
    )]
    AmbiguousSeparators,
    #[error(
        "整数部 {MAX_INTEGER_DIGITS} 桁・小数部 {MAX_FRACTION_DIGITS} 桁までの数値を入力してください \
         (supported precision: at most {MAX_INTEGER_DIGITS} digits before and {MAX_FRACTION_DIGITS} after the \
         decimal point)"
    )]
    TooPrecise,
}

/// A decimal read from a request: exact, within the supported precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalInput(pub Decimal);

impl DecimalInput {
    /// Reads a decimal typed by a person: half- or full-width, with or without thousands separators.
    pub fn parse(text: &str) -> Result<Self, DecimalInputError> {
        let normalised: String = text.trim().chars().map(half_width).collect();
        let normalised = normalised.trim();
        if normalised.is_empty() {
            return Err(DecimalInputError::Empty);
        }
        parse_normalised(normalised).map(Self)
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl From<DecimalInput> for Decimal {
    fn from(input: DecimalInput) -> Self {
        input.0
    }
}

/// Full-width digits, point, comma and signs to their ASCII forms; everything else unchanged.
fn half_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c),
        '．' => '.',
        '，' => ',',
        '－' | '−' => '-',
        '＋' => '+',
        'ｅ' => 'e',
        'Ｅ' => 'E',
        '\u{3000}' => ' ',
        other => other,
    }
}

fn parse_normalised(text: &str) -> Result<Decimal, DecimalInputError> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(index) => {
            let exponent: i64 = unsigned[index + 1..].parse().map_err(|_| DecimalInputError::NotANumber)?;
            (&unsigned[..index], exponent)
        }
        None => (unsigned, 0),
    };
    let (integer, fraction) = match mantissa.split_once('.') {
        Some((integer, fraction)) => (integer, fraction),
        None => (mantissa, ""),
    };
    if integer.is_empty() && fraction.is_empty() {
        return Err(DecimalInputError::NotANumber);
    }
    let only_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if !only_digits(fraction) {
        return Err(if fraction.contains(',') {
            DecimalInputError::AmbiguousSeparators
        } else {
            DecimalInputError::NotANumber
        });
    }
    if exponent != 0 && integer.contains(',') {
        return Err(DecimalInputError::NotANumber);
    }
    let integer = ungroup(integer)?;
    let digits: Vec<u8> = integer.bytes().chain(fraction.bytes()).collect();
    if digits.iter().all(|d| *d == b'0') {
        return Ok(Decimal::ZERO);
    }
    // An exponent beyond the digit budget can only produce too many digits; refuse it before
    // building a string of that length.
    let budget = (MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS + digits.len()) as i64;
    if exponent.abs() > budget {
        return Err(DecimalInputError::TooPrecise);
    }
    let point = integer.len() as i64 + exponent;
    let length = digits.len() as i64;
    let digit = |index: i64| -> u8 { if (0..length).contains(&index) { digits[index as usize] } else { b'0' } };
    let integer_digits: String = (0..point.max(0)).map(|i| char::from(digit(i))).collect();
    // From the point on; a point left of the first digit (1e-10) reads zeros up to it.
    let fraction_digits: String = (point.min(length)..length).map(|i| char::from(digit(i))).collect();
    let integer_digits = integer_digits.trim_start_matches('0');
    let fraction_digits = fraction_digits.trim_end_matches('0');
    if integer_digits.len() > MAX_INTEGER_DIGITS || fraction_digits.len() > MAX_FRACTION_DIGITS {
        return Err(DecimalInputError::TooPrecise);
    }
    let canonical = format!(
        "{}{}.{}",
        if negative { "-" } else { "" },
        if integer_digits.is_empty() { "0" } else { integer_digits },
        if fraction_digits.is_empty() { "0" } else { fraction_digits }
    );
    // At most 25 significant digits: exact in a Decimal.
    Decimal::from_str_exact(&canonical).map(|d| d.normalize()).map_err(|_| DecimalInputError::TooPrecise)
}

/// The integer part without its thousands separators, which must group digits by three.
fn ungroup(integer: &str) -> Result<String, DecimalInputError> {
    if !integer.contains(',') {
        return if integer.bytes().all(|b| b.is_ascii_digit()) {
            Ok(integer.to_owned())
        } else {
            Err(DecimalInputError::NotANumber)
        };
    }
    let groups: Vec<&str> = integer.split(',').collect();
    let digits_only = groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if !digits_only {
        return Err(DecimalInputError::NotANumber);
    }
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    if first_ok && rest_ok { Ok(groups.concat()) } else { Err(DecimalInputError::AmbiguousSeparators) }
}

impl<'de> Deserialize<'de> for DecimalInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DecimalInputVisitor)
    }
}

struct DecimalInputVisitor;

impl<'de> Visitor<'de> for DecimalInputVisitor {
    type Value = DecimalInput;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("数値 (a number or a decimal string such as \"1,234.5\")")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DecimalInput, E> {
        DecimalInput::parse(text).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<DecimalInput, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<DecimalInput, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<DecimalInput, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<DecimalInput, E> {
        self.visit_str(&value.to_string())
    }

    /// Formats without an exponent and with the shortest digits that round-trip (0.1 → "0.1").
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<DecimalInput, E> {
        if !value.is_finite() {
            return Err(E::custom(DecimalInputError::NotANumber));
        }
        self.visit_str(&value.to_string())
    }

    /// serde_json with `arbitrary_precision` passes a number as a one-entry map holding its text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DecimalInput, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == JSON_NUMBER_TOKEN => {
                let text: String = map.next_value()?;
                self.visit_str(&text)
            }
            _ => Err(de::Error::custom(DecimalInputError::NotANumber)),
        }
    }
}

/// Whether a computed value (a ratio's percent) stays within [`MAX_INTEGER_DIGITS`] before the
/// decimal point, so that it can be stored, shown and used in further rules without overflow.
pub fn fits_integer_digits(value: Decimal) -> bool {
    let limit = (0..MAX_INTEGER_DIGITS).fold(Decimal::ONE, |power, _| power * Decimal::TEN);
    value.abs() < limit
}

/// `deserialize_with` for a required decimal field.
pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    DecimalInput::deserialize(deserializer).map(Decimal::from)
}

/// `deserialize_with` for an optional decimal field; pair with `#[serde(default)]`.
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
    Option::<DecimalInput>::deserialize(deserializer).map(|input| input.map(Decimal::from))
}

/// `deserialize_with` for decimals by fiscal year (interim targets), at most
/// [`crate::domain::limits::MAX_LIST_ITEMS`] entries; pair with `#[serde(default)]`.
pub fn by_fiscal_year<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<i32, Decimal>, D::Error> {
    // Keys are read as text: a key that is not a year is the client's mistake in a well-formed body
    // (422 naming it), not malformed JSON, which is what serde_json reports for a non-numeric key.
    let entries = BTreeMap::<String, DecimalInput>::deserialize(deserializer)?;
    if let Some(problem) = crate::domain::limits::list_problem(entries.len()) {
        return Err(de::Error::custom(problem));
    }
    entries
        .into_iter()
        .map(|(key, value)| {
            let year = fiscal_year_key(&key).map_err(de::Error::custom)?;
            Ok((year, value.0))
        })
        .collect()
}

/// A fiscal year written as an object key (`"2019"`), within the supported range.
fn fiscal_year_key(key: &str) -> Result<i32, String> {
    use crate::domain::fiscal_year::{FiscalYear, out_of_range_message};
    let year: i32 = key
        .parse()
        .ok()
        .filter(|_| key.len() == 4 && key.bytes().all(|b| b.is_ascii_digit()))
        .ok_or("キーは年度 (西暦 4 桁) で入力してください (each key must be a fiscal year such as \"2019\")")?;
    FiscalYear::new(year).map(FiscalYear::year).map_err(|_| out_of_range_message(year))
}

/// The OpenAPI schema of a map from fiscal year to decimal (interim targets).
pub fn by_fiscal_year_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("Fiscal year (\"2019\") → value (number or decimal string)"))
        .property_names(Some(
            ObjectBuilder::new().schema_type(Type::String).pattern(Some("^(19[89][0-9]|20[0-9][0-9]|2100)$")),
        ))
        .additional_properties(Some(ObjectBuilder::new().schema_type(Type::Number)))
        .max_properties(Some(crate::domain::limits::MAX_LIST_ITEMS))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> String {
        DecimalInput::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).0.to_string()
    }

    fn refused(text: &str) -> DecimalInputError {
        DecimalInput::parse(text).expect_err(text)
    }

    #[test]
    fn plain_decimals_are_kept_exactly() {
        assert_eq!(parsed("15.2"), "15.2");
        assert_eq!(parsed("15.20"), "15.2");
        assert_eq!(parsed("-0.5"), "-0.5");
        assert_eq!(parsed("+3"), "3");
        assert_eq!(parsed(".5"), "0.5");
        assert_eq!(parsed("5."), "5");
        assert_eq!(parsed("-0"), "0");
        assert_eq!(parsed("0.1234567891"), "0.1234567891");
        assert_eq!(parsed("999999999999999.9999999999"), "999999999999999.9999999999");
    }

    #[test]
    fn full_width_digits_and_separators_are_read() {
        assert_eq!(parsed("１２３"), "123");
        assert_eq!(parsed("１２３．５"), "123.5");
        assert_eq!(parsed("1,234"), "1234");
        assert_eq!(parsed("１，２３４"), "1234");
        assert_eq!(parsed("12,345,678.25"), "12345678.25");
        assert_eq!(parsed("－１，０００"), "-1000");
        assert_eq!(parsed("  42\u{3000}"), "42");
    }

    #[test]
    fn ambiguous_forms_are_refused_with_a_reason() {
        assert_eq!(refused("1,23"), DecimalInputError::AmbiguousSeparators);
        assert_eq!(refused("1234,567"), DecimalInputError::AmbiguousSeparators);
        assert_eq!(refused("1,234,56"), DecimalInputError::AmbiguousSeparators);
        assert_eq!(refused(",123"), DecimalInputError::AmbiguousSeparators);
        assert_eq!(refused("1.234,5"), DecimalInputError::AmbiguousSeparators);
        assert_eq!(refused("1.2.3"), DecimalInputError::NotANumber);
        assert_eq!(refused("12a"), DecimalInputError::NotANumber);
        assert_eq!(refused("."), DecimalInputError::NotANumber);
        assert_eq!(refused("-"), DecimalInputError::NotANumber);
        assert_eq!(refused("NaN"), DecimalInputError::NotANumber);
        assert_eq!(refused("   "), DecimalInputError::Empty);
    }

    #[test]
    fn more_digits_than_supported_are_refused_not_rounded() {
        let forty_digit_fraction = format!("0.{}", "1".repeat(40));
        assert_eq!(refused(&forty_digit_fraction), DecimalInputError::TooPrecise);
        assert_eq!(refused("0.12345678901"), DecimalInputError::TooPrecise);
        assert_eq!(refused("1234567890123456"), DecimalInputError::TooPrecise);
        assert_eq!(refused("1e16"), DecimalInputError::TooPrecise);
        assert_eq!(refused("1e-11"), DecimalInputError::TooPrecise);
        assert_eq!(refused("1e999999999999"), DecimalInputError::TooPrecise);
        // Zeros that carry no digit do not count.
        assert_eq!(parsed("000000000000000000001.50000000000000000000"), "1.5");
    }

    #[test]
    fn computed_values_fit_when_below_fifteen_integer_digits() {
        assert!(fits_integer_digits("999999999999999.9999".parse().unwrap()));
        assert!(!fits_integer_digits("1000000000000000".parse().unwrap()));
        assert!(!fits_integer_digits("-1000000000000000".parse().unwrap()));
    }

    /// The precision bounds are what keeps every rule's arithmetic within rust_decimal's range:
    /// with the most extreme accepted inputs, every rate and ratio still computes.
    #[test]
    fn every_rule_computes_for_the_most_extreme_accepted_inputs() {
        use crate::domain::achievement::{
            Direction, RuleInputs, attainment_rate, expected, progress_rate, schedule_ratio,
        };
        let largest = parsed("999999999999999.9999999999");
        let smallest = parsed("0.0000000001");
        let values = [
            largest.parse::<Decimal>().unwrap(),
            -largest.parse::<Decimal>().unwrap(),
            smallest.parse::<Decimal>().unwrap(),
            Decimal::ZERO,
        ];
        let directions =
            [Direction::Increase, Direction::Decrease, Direction::MaintainAtLeast, Direction::MaintainAtMost];
        for direction in directions {
            for &a in &values {
                for &b in &values {
                    for &t in &values {
                        if t == b {
                            continue;
                        }
                        let inputs =
                            RuleInputs { y: 2050, b: Some(b), y0: Some(1989), t: Some(t), yt: 2100, interim: None };
                        assert!(progress_rate(direction, a, &inputs).is_some(), "{direction:?} {a} {b} {t}");
                        assert!(expected(direction, &inputs).is_some(), "{direction:?} {b} {t}");
                        // Defined for positive actuals and targets (others are null by the rules).
                        if t > Decimal::ZERO && a > Decimal::ZERO {
                            assert!(attainment_rate(direction, a, &inputs).is_some(), "{direction:?} {a} {t}");
                        }
                        // The schedule ratio is defined only for a target on the planned side.
                        let planned_side = match direction {
                            Direction::Increase => t > b,
                            Direction::Decrease => t < b,
                            _ => false,
                        };
                        if planned_side {
                            assert!(schedule_ratio(direction, a, &inputs).is_some(), "{direction:?} {a} {b} {t}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn exponents_of_json_numbers_are_expanded() {
        assert_eq!(parsed("1.5e3"), "1500");
        assert_eq!(parsed("15E-1"), "1.5");
        assert_eq!(parsed("0e999999"), "0");
        assert_eq!(parsed("1e-1"), "0.1");
        assert_eq!(parsed("1e-2"), "0.01");
        assert_eq!(parsed("2.5e-3"), "0.0025");
        assert_eq!(parsed("-1.5E-2"), "-0.015");
        assert_eq!(parsed("123e-5"), "0.00123");
    }

    /// Exponent notation is only another way to write a value: the same digit bounds apply to the
    /// value it stands for, whichever way it is written.
    #[test]
    fn exponents_meet_the_same_bounds_as_the_plain_form() {
        for (exponent_form, plain) in [
            ("1e-10", "0.0000000001"),
            ("１Ｅ－１０", "0.0000000001"),
            ("0.5e-9", "0.0000000005"),
            ("12345e-14", "0.00000000012345"),
            ("9.99999999999999e14", "999999999999999"),
            ("1e15", "1000000000000000"),
            ("1e-11", "0.00000000001"),
            ("1.5e-10", "0.00000000015"),
        ] {
            assert_eq!(DecimalInput::parse(exponent_form), DecimalInput::parse(plain), "{exponent_form} = {plain}");
        }
        assert_eq!(parsed("1e-10"), "0.0000000001");
        assert_eq!(parsed("9.99999999999999e14"), "999999999999999");
        assert_eq!(refused("1e-11"), DecimalInputError::TooPrecise);
        assert_eq!(refused("1.5e-10"), DecimalInputError::TooPrecise);
        assert_eq!(refused("1e15"), DecimalInputError::TooPrecise);
    }

    #[test]
    fn json_numbers_and_strings_deserialise_alike() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "required")]
            value: Decimal,
        }
        let read = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.value.to_string());
        assert_eq!(read(r#"{"value": 15.2}"#).unwrap(), "15.2");
        assert_eq!(read(r#"{"value": "15.2"}"#).unwrap(), "15.2");
        assert_eq!(read(r#"{"value": 12345678901234.5}"#).unwrap(), "12345678901234.5");
        let long = format!(r#"{{"value": 0.{}}}"#, "3".repeat(40));
        assert!(read(&long).unwrap_err().to_string().contains("at most 15 digits before and 10 after"));
        assert_eq!(read(r#"{"value": 1e-10}"#).unwrap(), "0.0000000001");
        assert_eq!(read(r#"{"value": "1e-10"}"#).unwrap(), "0.0000000001");
        assert_eq!(read(r#"{"value": 0.0000000001}"#).unwrap(), "0.0000000001");
        for refused in [r#"{"value": 1e-11}"#, r#"{"value": "1e-11"}"#, r#"{"value": 0.00000000001}"#] {
            assert!(read(refused).unwrap_err().to_string().contains("10 after the decimal point"), "{refused}");
        }
        let error = read(r#"{"value": true}"#).unwrap_err().to_string();
        assert!(error.contains("a number"), "{error}");
    }

    #[test]
    fn toml_numbers_deserialise_too() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "required")]
            value: Decimal,
        }
        let body: Body = toml::from_str("value = 15.2").unwrap();
        assert_eq!(body.value.to_string(), "15.2");
        let body: Body = toml::from_str("value = 230").unwrap();
        assert_eq!(body.value.to_string(), "230");
    }
}
