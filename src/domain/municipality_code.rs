//! 全国地方公共団体コード: the 6-digit code identifying a local government.
//!
//! Five digits (2 for the prefecture, 3 for the municipality) followed by a check digit:
//! the five digits are weighted 6, 5, 4, 3, 2, the sum is taken mod 11 (= r), and the check
//! digit is the last digit of 11 − r (r = 0 → 1, r = 1 → 0).
//!
//! Pure: no I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

const WEIGHTS: [u32; 5] = [6, 5, 4, 3, 2];

/// Why a municipality code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MunicipalityCodeError {
    #[error("municipality code is empty")]
    Empty,
    #[error("municipality code {input:?} contains {found:?}; only digits are allowed")]
    InvalidCharacter { input: String, found: char },
    #[error("municipality code {input:?} has {length} digits; expected 5 or 6")]
    WrongLength { input: String, length: usize },
    #[error(
        "municipality code {input:?} has check digit {given}, but the first five digits \
         require {expected}"
    )]
    CheckDigitMismatch { input: String, expected: u8, given: u8 },
}

/// A validated municipality code, always held in its 6-digit form (`131199`).
///
/// Serialised as the 6-digit string; deserialising accepts what [`MunicipalityCode::parse`]
/// accepts and validates the check digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct MunicipalityCode(String);

impl MunicipalityCode {
    /// Parses the 6-digit form (check digit verified) or the 5-digit form (check digit
    /// computed). Surrounding whitespace is trimmed; full-width digits are accepted.
    pub fn parse(input: &str) -> Result<Self, MunicipalityCodeError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(MunicipalityCodeError::Empty);
        }
        let mut digits: Vec<u8> = Vec::with_capacity(6);
        for c in trimmed.chars() {
            match digit_value(c) {
                Some(d) => digits.push(d),
                None => {
                    return Err(MunicipalityCodeError::InvalidCharacter { input: excerpt(trimmed), found: c });
                }
            }
        }
        match digits.as_slice() {
            [d1, d2, d3, d4, d5] => Ok(Self::from_digits([*d1, *d2, *d3, *d4, *d5])),
            [d1, d2, d3, d4, d5, given] => {
                let expected = check_digit([*d1, *d2, *d3, *d4, *d5]);
                if expected == *given {
                    Ok(Self::from_digits([*d1, *d2, *d3, *d4, *d5]))
                } else {
                    Err(MunicipalityCodeError::CheckDigitMismatch { input: excerpt(trimmed), expected, given: *given })
                }
            }
            _ => Err(MunicipalityCodeError::WrongLength { input: excerpt(trimmed), length: digits.len() }),
        }
    }

    /// The 6-digit form, check digit included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 5-digit form, without the check digit.
    pub fn five_digit(&self) -> &str {
        self.0.get(..5).unwrap_or(&self.0)
    }

    /// The 2-digit prefecture code (`13` for Tokyo).
    pub fn prefecture_code(&self) -> &str {
        self.0.get(..2).unwrap_or(&self.0)
    }

    /// The check digit (the sixth digit).
    pub fn check_digit(&self) -> u8 {
        self.0.as_bytes().get(5).map_or(0, |b| b.wrapping_sub(b'0'))
    }

    fn from_digits(digits: [u8; 5]) -> Self {
        let check = check_digit(digits);
        let code = digits.iter().chain(std::iter::once(&check)).map(|d| char::from(b'0' + d)).collect();
        Self(code)
    }
}

/// The check digit for five digits (each 0..=9): weights 6, 5, 4, 3, 2, r = sum mod 11,
/// check = last digit of 11 − r.
pub fn check_digit(digits: [u8; 5]) -> u8 {
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(&d, w)| u32::from(d) * w).sum();
    let r = sum % 11;
    // r is 0..=10, so 11 - r is 1..=11 and its last digit is 0..=9.
    ((11 - r) % 10) as u8
}

/// The value of an ASCII or full-width digit.
fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => u8::try_from(u32::from(c) - u32::from('０')).ok(),
        _ => None,
    }
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

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for MunicipalityCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for MunicipalityCode {
    type Err = MunicipalityCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for MunicipalityCode {
    type Error = MunicipalityCodeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for MunicipalityCode {
    type Error = MunicipalityCodeError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<MunicipalityCode> for String {
    fn from(code: MunicipalityCode) -> Self {
        code.0
    }
}

impl Serialize for MunicipalityCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl PartialSchema for MunicipalityCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("全国地方公共団体コード: 6 digits with check digit, or the 5-digit form on input"))
            .pattern(Some("^[0-9]{5,6}$"))
            .examples(["131199"])
            .into()
    }
}

impl ToSchema for MunicipalityCode {}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(input: &str) -> Result<String, MunicipalityCodeError> {
        MunicipalityCode::parse(input).map(String::from)
    }

    #[test]
    fn itabashi_131199_is_valid() {
        // 1·6 + 3·5 + 1·4 + 1·3 + 9·2 = 6 + 15 + 4 + 3 + 18 = 46; 46 mod 11 = 2; 11 − 2 = 9.
        assert_eq!(code("131199"), Ok("131199".to_owned()));
    }

    #[test]
    fn bunkyo_131059_is_valid() {
        // 1·6 + 3·5 + 1·4 + 0·3 + 5·2 = 6 + 15 + 4 + 0 + 10 = 35; 35 mod 11 = 2; 11 − 2 = 9.
        assert_eq!(code("131059"), Ok("131059".to_owned()));
    }

    #[test]
    fn five_digit_form_gets_its_check_digit() {
        assert_eq!(code("13119"), Ok("131199".to_owned()));
        assert_eq!(code("13105"), Ok("131059".to_owned()));
    }

    #[test]
    fn wrong_check_digit_is_rejected_naming_the_expected_digit() {
        let err = MunicipalityCode::parse("131198");
        assert_eq!(
            err,
            Err(MunicipalityCodeError::CheckDigitMismatch { input: "131198".to_owned(), expected: 9, given: 8 })
        );
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(message, "municipality code \"131198\" has check digit 8, but the first five digits require 9");
    }

    #[test]
    fn remainder_0_gives_check_digit_1() {
        // 新宿区 13104: 1·6 + 3·5 + 1·4 + 0·3 + 4·2 = 6 + 15 + 4 + 0 + 8 = 33;
        // 33 mod 11 = 0; 11 − 0 = 11, last digit 1 → 131041.
        assert_eq!(check_digit([1, 3, 1, 0, 4]), 1);
        assert_eq!(code("13104"), Ok("131041".to_owned()));
        assert_eq!(code("131041"), Ok("131041".to_owned()));
        // 00000: sum 0, r = 0 → 1.
        assert_eq!(check_digit([0, 0, 0, 0, 0]), 1);
    }

    #[test]
    fn remainder_1_gives_check_digit_0() {
        // 渋谷区 13113: 1·6 + 3·5 + 1·4 + 1·3 + 3·2 = 6 + 15 + 4 + 3 + 6 = 34;
        // 34 mod 11 = 1; 11 − 1 = 10, last digit 0 → 131130.
        assert_eq!(check_digit([1, 3, 1, 1, 3]), 0);
        assert_eq!(code("13113"), Ok("131130".to_owned()));
        assert_eq!(code("131130"), Ok("131130".to_owned()));
        assert!(code("131131").is_err());
    }

    #[test]
    fn other_remainders_give_11_minus_r() {
        // 札幌市 01100: 0·6 + 1·5 + 1·4 + 0·3 + 0·2 = 9; 9 mod 11 = 9; 11 − 9 = 2 → 011002.
        assert_eq!(code("01100"), Ok("011002".to_owned()));
        // 99999: 9·20 = 180; 180 mod 11 = 4; 11 − 4 = 7.
        assert_eq!(check_digit([9, 9, 9, 9, 9]), 7);
    }

    #[test]
    fn whitespace_is_trimmed() {
        assert_eq!(code(" 131199\n"), Ok("131199".to_owned()));
        assert_eq!(code("\u{3000}13119\t"), Ok("131199".to_owned()));
    }

    #[test]
    fn full_width_digits_are_accepted() {
        assert_eq!(code("１３１１９９"), Ok("131199".to_owned()));
        assert_eq!(code("１３１０５"), Ok("131059".to_owned()));
        assert!(code("１３１１９８").is_err());
    }

    #[test]
    fn non_digits_are_rejected_naming_the_character() {
        assert_eq!(
            code("13119a"),
            Err(MunicipalityCodeError::InvalidCharacter { input: "13119a".to_owned(), found: 'a' })
        );
        for input in ["13-119", "1311 99", "-13119", "+13119", "13119.", "板橋区", "١٣١١٩"] {
            assert!(matches!(code(input), Err(MunicipalityCodeError::InvalidCharacter { .. })), "{input}");
        }
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        assert_eq!(code(""), Err(MunicipalityCodeError::Empty));
        assert_eq!(code("   "), Err(MunicipalityCodeError::Empty));
        for (input, length) in [("1", 1), ("1311", 4), ("1311990", 7), ("0131199", 7)] {
            assert_eq!(code(input), Err(MunicipalityCodeError::WrongLength { input: input.to_owned(), length }));
        }
        let message = code("1311").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(message, "municipality code \"1311\" has 4 digits; expected 5 or 6");
    }

    #[test]
    fn very_long_input_is_shortened_in_the_message() {
        let message = code(&"1".repeat(10_000)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.len() < 200, "{message}");
    }

    #[test]
    fn accessors_give_the_parts() {
        let itabashi = MunicipalityCode::parse("13119");
        assert_eq!(itabashi.as_ref().map(|c| c.as_str()), Ok("131199"));
        assert_eq!(itabashi.as_ref().map(|c| c.five_digit()), Ok("13119"));
        assert_eq!(itabashi.as_ref().map(|c| c.prefecture_code()), Ok("13"));
        assert_eq!(itabashi.as_ref().map(|c| c.check_digit()), Ok(9));
        assert_eq!(itabashi.as_ref().map(|c| c.to_string()), Ok("131199".to_owned()));
        assert_eq!("131059".parse::<MunicipalityCode>().map(String::from), code("13105"));
    }

    #[test]
    fn every_five_digit_code_round_trips_through_its_six_digit_form() {
        for n in 0..100_000u32 {
            let five = format!("{n:05}");
            let six = MunicipalityCode::parse(&five);
            let reparsed = six.as_ref().map_err(Clone::clone).and_then(|c| MunicipalityCode::parse(c.as_str()));
            assert_eq!(reparsed, six, "{five}");
        }
    }

    #[test]
    fn serde_is_the_six_digit_string() {
        let code = MunicipalityCode::parse("13119").ok();
        assert_eq!(serde_json::to_string(&code).ok().as_deref(), Some("\"131199\""));
        assert_eq!(
            serde_json::from_str::<MunicipalityCode>("\"131199\"").ok().map(String::from).as_deref(),
            Some("131199")
        );
    }

    #[test]
    fn deserialize_validates() {
        assert!(serde_json::from_str::<MunicipalityCode>("\"131198\"").is_err());
        assert!(serde_json::from_str::<MunicipalityCode>("\"abc\"").is_err());
        assert!(serde_json::from_str::<MunicipalityCode>("131199").is_err());
        let message =
            serde_json::from_str::<MunicipalityCode>("\"131198\"").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("require 9"), "{message}");
    }

    #[test]
    fn schema_is_a_string_with_pattern_and_example() {
        let schema = serde_json::to_value(MunicipalityCode::schema()).unwrap_or_default();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["pattern"], "^[0-9]{5,6}$");
        assert_eq!(schema["examples"][0], "131199");
        assert_eq!(MunicipalityCode::name(), "MunicipalityCode");
    }
}
