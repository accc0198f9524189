//! Plain-language messages for input that could not be read.
//!
//! serde phrases its errors for programmers (`invalid type: string "x", expected i32`,
//! `expected struct SubmitActual with 6 elements`) and serde_json's exact-number mode adds an
//! internal key to paths (`value.$serde_json::private::Number`). Clients see instead what to send,
//! Japanese first like the problem titles, then English, and the field as they sent it.

use crate::error::FieldError;

pub const WHOLE_NUMBER: &str = "整数で入力してください (expected a whole number)";
const NUMBER: &str = "数値で入力してください (expected a number)";
const DECIMAL: &str = "数値で入力してください (expected a number or a decimal string such as \"1,234.5\")";
const BOOLEAN: &str = "true か false で入力してください (expected true or false)";
const TEXT: &str = "文字列で入力してください (expected text in double quotes)";
const OBJECT: &str = "オブジェクトで入力してください (expected a JSON object: {\"field\": value, …})";
const LIST: &str = "配列で入力してください (expected a JSON list: […])";
const DATE: &str = "日付で入力してください (expected a date such as 2021-05-31)";
const DATE_TIME: &str = "日時で入力してください (expected a time such as 2026-04-01T00:00:00)";
const CHOICE: &str = "選択肢の中から指定してください (expected one of the documented values)";
const WRONG_TYPE: &str = "値の形式が正しくありません (this value has the wrong type)";
const REQUIRED: &str = "必須項目です (required)";

/// The field error for a deserialisation failure at `path` (as serde_path_to_error prints it;
/// `.` for the top level) with serde's message `raw`. `root` names the top level (`body`, `query`).
pub fn field_error_at(root: &str, path: &str, raw: &str) -> FieldError {
    let path = client_path(path);
    // serde_path_to_error may or may not have entered the offending key already.
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(name) = backticked(raw, "missing field `") {
        return FieldError::new(join(name), REQUIRED);
    }
    if let Some(name) = backticked(raw, "unknown field `") {
        let expected = raw.split_once(", expected ").map(|(_, e)| format!("; expected {e}")).unwrap_or_default();
        return FieldError::new(
            join(name),
            format!("不明な項目です (unknown field `{name}`{expected}; check the spelling)"),
        );
    }
    if let Some(name) = backticked(raw, "duplicate field `") {
        return FieldError::new(join(name), "項目が重複しています (this field appears twice)");
    }
    let field = if path.is_empty() { root.to_owned() } else { path };
    FieldError::new(field, plain(raw))
}

/// [`field_error_at`] for JSON bodies.
pub fn field_error(path: &str, raw: &str) -> FieldError {
    field_error_at("body", path, raw)
}

/// The path without serde_json's internal number key.
fn client_path(path: &str) -> String {
    let path = path.trim_start_matches('.');
    path.split('.').filter(|segment| !segment.starts_with("$serde_json")).collect::<Vec<_>>().join(".")
}

fn backticked<'a>(raw: &'a str, prefix: &str) -> Option<&'a str> {
    raw.strip_prefix(prefix)?.split('`').next()
}

/// serde's message in plain words; messages written for clients (ours) pass through.
pub fn plain(raw: &str) -> String {
    if let Some(value) = backticked(raw, "unknown variant `") {
        let expected = raw.split_once(", expected ").map(|(_, e)| format!("; expected {e}")).unwrap_or_default();
        return format!("選択肢にない値です (unknown value `{value}`{expected})");
    }
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = raw.strip_prefix(prefix) {
            let expected = rest.rsplit_once(", expected ").map(|(_, e)| e).unwrap_or_default();
            return expectation(expected, prefix == "invalid value: ").to_owned();
        }
    }
    match raw {
        // Integer parsing (query strings, path segments).
        "invalid digit found in string"
        | "cannot parse integer from empty string"
        | "number too large to fit in target type"
        | "number too small to fit in target type" => WHOLE_NUMBER.to_owned(),
        "invalid float literal" => NUMBER.to_owned(),
        "provided string was not `true` or `false`" => BOOLEAN.to_owned(),
        // chrono's parse errors.
        "input contains invalid characters"
        | "premature end of input"
        | "trailing input"
        | "input is out of range"
        | "input is not enough for unique date and time"
        | "no possible date and time matching input"
        | "bad or unsupported format string" => {
            "日付・日時の形式が正しくありません (expected a date such as 2021-05-31 or a time such as 2026-04-01T00:00:00)"
                .to_owned()
        }
        other if other.starts_with("can not parse ") => WHOLE_NUMBER.to_owned(),
        other => other.to_owned(),
    }
}

/// What to send, from serde's `expected …` clause (a Rust type or a visitor's description).
fn expectation(expected: &str, out_of_range: bool) -> &'static str {
    let integer =
        ["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize"].contains(&expected);
    if integer {
        return if out_of_range {
            "整数で入力してください (expected a whole number between -2147483648 and 2147483647)"
        } else {
            WHOLE_NUMBER
        };
    }
    match expected {
        "f32" | "f64" => NUMBER,
        "a boolean" => BOOLEAN,
        "a string" | "a borrowed string" | "a character" | "a char" => TEXT,
        "a formatted date string" | "a valid date" => DATE,
        "a formatted date and time string" | "a valid datetime" => DATE_TIME,
        "a sequence" | "a tuple" => LIST,
        "a map" => OBJECT,
        other if other.starts_with("struct ") || other.starts_with("a map") => OBJECT,
        other if other.starts_with("tuple") || other.starts_with("a sequence") => LIST,
        other if other.starts_with("数値") => DECIMAL,
        other if other.contains("variant") || other.starts_with("enum ") || other.starts_with("one of") => CHOICE,
        _ => WRONG_TYPE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERNAL_NAMES: &[&str] = &["$serde_json", "i32", "i64", "struct", "Decimal type", "SubmitActual"];

    fn assert_plain(error: &FieldError) {
        for name in INTERNAL_NAMES {
            assert!(!error.field.contains(name) && !error.message.contains(name), "{error:?} shows {name}");
        }
    }

    #[test]
    fn internal_number_keys_leave_the_path() {
        let error = field_error(
            "value.$serde_json::private::Number",
            "expected a Decimal type representing a fixed-point number",
        );
        assert_eq!(error.field, "value");
        let error = field_error("targets[0].value.$serde_json::private::Number", "invalid type: map, expected f64");
        assert_eq!(error.field, "targets[0].value");
        assert_eq!(error.message, NUMBER);
    }

    #[test]
    fn type_errors_say_what_to_send() {
        let cases = [
            ("invalid type: string \"二〇二一\", expected i32", WHOLE_NUMBER),
            ("invalid type: integer `1`, expected a boolean", BOOLEAN),
            ("invalid length 0, expected struct SubmitActual with 6 elements", OBJECT),
            ("invalid type: sequence, expected struct SubmitActual", OBJECT),
            ("invalid type: map, expected a sequence", LIST),
            ("invalid type: integer `3`, expected a string", TEXT),
            ("can not parse \"import\" to a i32", WHOLE_NUMBER),
            ("invalid digit found in string", WHOLE_NUMBER),
        ];
        for (raw, expected) in cases {
            let error = field_error("start_fiscal_year", raw);
            assert_eq!(error.message, expected, "{raw}");
            assert_plain(&error);
        }
        let out_of_range = field_error("number", "invalid value: integer `99999999999`, expected i32");
        assert!(out_of_range.message.contains("between -2147483648 and 2147483647"));
        assert_plain(&out_of_range);
    }

    #[test]
    fn missing_and_unknown_fields_are_named_by_their_own_path() {
        let missing = field_error(".", "missing field `name`");
        assert_eq!((missing.field.as_str(), missing.message.as_str()), ("name", REQUIRED));
        let nested = field_error("target", "missing field `reason`");
        assert_eq!(nested.field, "target.reason");
        let unknown = field_error(".", "unknown field `colour`, expected one of `name`, `code`");
        assert_eq!(unknown.field, "colour");
        assert!(unknown.message.contains("unknown field `colour`; expected one of `name`, `code`"));
        let top = field_error_at("query", ".", "invalid digit found in string");
        assert_eq!(top.field, "query");
    }

    #[test]
    fn our_own_messages_pass_through() {
        let message = "a percent is between 0 and 100";
        assert_eq!(plain(message), message);
    }
}
