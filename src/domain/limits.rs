//! How much a client may send: the maximum length of every kind of text field, the maximum size of
//! every list in a request body, and the rule that no text holds the NUL character.
//!
//! The bounds live here, in one place, so that the OpenAPI schema (`#[schema(max_length = …)]`),
//! the checks and the README quote the same numbers. Lengths are counted in characters (Unicode
//! scalar values), not bytes: `板橋区` is 3 characters.
//!
//! The checks run while a body is deserialised (`#[serde(deserialize_with = "limits::name")]`), so
//! the error names the field by its path (`phases[2].name`) and a handler never sees an
//! oversized value. They apply to every format that shares the request types (JSON bodies, query
//! strings, plan documents).

use serde::de::{Deserialize, Deserializer, Error};

/// Longest name: plans, goals, strategies, measures, indicators, departments, municipalities,
/// phases, stages, display names; also units, labels and the printed form of a value.
pub const MAX_NAME_CHARS: usize = 200;

/// Longest code or identifier-like text: plan and department codes, municipality codes,
/// usernames, audit filters.
pub const MAX_CODE_CHARS: usize = 64;

/// Longest free text: descriptions, summaries, notes, comments, reasons, change notes.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Longest password accepted (the strength rules set the minimum).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Most items in one list of a request body: phases, owners, secondary goals, stages, roadmap
/// entries, interim targets.
pub const MAX_LIST_ITEMS: usize = 100;

/// The message for text that holds U+0000, which PostgreSQL cannot store and no form produces.
pub const NUL_MESSAGE: &str = "NUL 文字 (U+0000) は使用できません (text must not contain the NUL character U+0000)";

/// Why a text was refused, or `None` when it is acceptable.
pub fn text_problem(text: &str, max_chars: usize) -> Option<String> {
    if text.contains('\0') {
        return Some(NUL_MESSAGE.to_owned());
    }
    let length = text.chars().count();
    (length > max_chars)
        .then(|| format!("{max_chars} 文字以内で入力してください (at most {max_chars} characters; got {length})"))
}

/// A command-line value that must be a code (clap's `value_parser`): the same bound as in a body.
pub fn code_argument(text: &str) -> Result<String, String> {
    text_problem(text, MAX_CODE_CHARS).map_or_else(|| Ok(text.to_owned()), Err)
}

/// A command-line value that must be a name (clap's `value_parser`).
pub fn name_argument(text: &str) -> Result<String, String> {
    text_problem(text, MAX_NAME_CHARS).map_or_else(|| Ok(text.to_owned()), Err)
}

/// A text as shown, within `max_chars` whatever is stored: a record written before its bound
/// existed (or by hand) is shown clipped, with a note of how long the stored text is, so that no
/// response grows with what an earlier release let in. The stored text itself is kept, and read in
/// full by the code that rewrites the record.
pub fn shown(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    let length = text.chars().count();
    if length <= max_chars {
        return std::borrow::Cow::Borrowed(text);
    }
    let note = format!("…[全{length}文字のうち一部を表示 (clipped: {length} characters stored)]");
    let note_length = note.chars().count();
    if note_length >= max_chars {
        return text.chars().take(max_chars).collect();
    }
    text.chars().take(max_chars - note_length).chain(note.chars()).collect()
}

/// Every text inside a stored JSON document (an audit entry's old and new value), as [`shown`],
/// and every list within [`MAX_LIST_ITEMS`] items.
pub fn shown_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(shown(text, MAX_TEXT_CHARS).into_owned()),
        Value::Array(items) => Value::Array(items.iter().take(MAX_LIST_ITEMS).map(shown_json).collect()),
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(key, value)| (key.clone(), shown_json(value))).collect())
        }
        other => other.clone(),
    }
}

/// Serialisers (`#[serde(serialize_with = "limits::shown_as::name")]`) that bound what an entity
/// shows by the same numbers that bound what it accepts.
pub mod shown_as {
    use serde::Serializer;

    use super::{MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, shown, shown_json};

    pub fn code<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&shown(text, MAX_CODE_CHARS))
    }

    pub fn name<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&shown(text, MAX_NAME_CHARS))
    }

    pub fn text<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&shown(text, MAX_TEXT_CHARS))
    }

    pub fn optional_name<S: Serializer>(text: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
        match text {
            Some(text) => name(text, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn optional_text<S: Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => text(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn optional_json<S: Serializer>(value: &Option<serde_json::Value>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serde::Serialize::serialize(&shown_json(value), serializer),
            None => serializer.serialize_none(),
        }
    }
}

/// Why a list was refused, or `None` when it is acceptable.
pub fn list_problem(length: usize) -> Option<String> {
    (length > MAX_LIST_ITEMS)
        .then(|| format!("{MAX_LIST_ITEMS} 件以内で指定してください (at most {MAX_LIST_ITEMS} items; got {length})"))
}

fn bounded<'de, D: Deserializer<'de>>(deserializer: D, max_chars: usize) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text_problem(&text, max_chars) {
        Some(problem) => Err(D::Error::custom(problem)),
        None => Ok(text),
    }
}

fn bounded_optional<'de, D: Deserializer<'de>>(deserializer: D, max_chars: usize) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    match text.as_deref().and_then(|t| text_problem(t, max_chars)) {
        Some(problem) => Err(D::Error::custom(problem)),
        None => Ok(text),
    }
}

/// A name: at most [`MAX_NAME_CHARS`].
pub fn name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    bounded(deserializer, MAX_NAME_CHARS)
}

/// An optional name; pair with `#[serde(default)]`.
pub fn optional_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    bounded_optional(deserializer, MAX_NAME_CHARS)
}

/// A code: at most [`MAX_CODE_CHARS`].
pub fn code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    bounded(deserializer, MAX_CODE_CHARS)
}

/// An optional code; pair with `#[serde(default)]`.
pub fn optional_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    bounded_optional(deserializer, MAX_CODE_CHARS)
}

/// A PATCH field holding a code or `null`: absent is `None`, `null` is `Some(None)`; pair with
/// `#[serde(default)]`.
pub fn optional_nullable_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    bounded_optional(deserializer, MAX_CODE_CHARS).map(Some)
}

/// Free text: at most [`MAX_TEXT_CHARS`].
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    bounded(deserializer, MAX_TEXT_CHARS)
}

/// Optional free text; pair with `#[serde(default)]`.
pub fn optional_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    bounded_optional(deserializer, MAX_TEXT_CHARS)
}

/// A PATCH field holding free text or `null` (a reading note removed): absent is `None`, `null` is
/// `Some(None)`; pair with `#[serde(default)]`.
pub fn optional_nullable_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    bounded_optional(deserializer, MAX_TEXT_CHARS).map(Some)
}

/// A password: at most [`MAX_PASSWORD_CHARS`].
pub fn password<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    bounded(deserializer, MAX_PASSWORD_CHARS)
}

/// An optional password; pair with `#[serde(default)]`.
pub fn optional_password<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    bounded_optional(deserializer, MAX_PASSWORD_CHARS)
}

/// A list of at most [`MAX_LIST_ITEMS`] items.
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Vec::<T>::deserialize(deserializer)?;
    match list_problem(items.len()) {
        Some(problem) => Err(D::Error::custom(problem)),
        None => Ok(items),
    }
}

/// An optional list of at most [`MAX_LIST_ITEMS`] items; pair with `#[serde(default)]`.
pub fn optional_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Option::<Vec<T>>::deserialize(deserializer)?;
    match items.as_ref().and_then(|i| list_problem(i.len())) {
        Some(problem) => Err(D::Error::custom(problem)),
        None => Ok(items),
    }
}

/// A list of names (milestone stages), each at most [`MAX_NAME_CHARS`].
pub fn names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let items: Vec<String> = list(deserializer)?;
    check_names(&items).map_err(D::Error::custom)?;
    Ok(items)
}

/// An optional list of names; pair with `#[serde(default)]`.
pub fn optional_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    let items: Option<Vec<String>> = optional_list(deserializer)?;
    if let Some(items) = &items {
        check_names(items).map_err(D::Error::custom)?;
    }
    Ok(items)
}

/// A list of codes (a measure's owning departments), each at most [`MAX_CODE_CHARS`].
pub fn codes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let items: Vec<String> = list(deserializer)?;
    check_each(&items, MAX_CODE_CHARS).map_err(D::Error::custom)?;
    Ok(items)
}

/// A map keyed by codes (a department's code → the year it joined), at most [`MAX_LIST_ITEMS`]
/// entries; pair with `#[serde(default)]`.
pub fn code_keys<'de, D, V>(deserializer: D) -> Result<std::collections::BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    let map = std::collections::BTreeMap::<String, V>::deserialize(deserializer)?;
    if let Some(problem) = list_problem(map.len()) {
        return Err(D::Error::custom(problem));
    }
    match map.keys().find_map(|key| text_problem(key, MAX_CODE_CHARS)) {
        Some(problem) => Err(D::Error::custom(format!("key: {problem}"))),
        None => Ok(map),
    }
}

fn check_names(items: &[String]) -> Result<(), String> {
    check_each(items, MAX_NAME_CHARS)
}

fn check_each(items: &[String], max_chars: usize) -> Result<(), String> {
    match items.iter().enumerate().find_map(|(i, text)| text_problem(text, max_chars).map(|p| (i, p))) {
        Some((index, problem)) => Err(format!("item {index}: {problem}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_within_its_bound_is_shown_whole() {
        assert_eq!(shown("板橋区", 3), "板橋区");
    }

    #[test]
    fn a_text_beyond_its_bound_is_shown_clipped_to_it_saying_how_long_it_is() {
        let name = shown(&"あ".repeat(5000), MAX_NAME_CHARS).into_owned();
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
        assert!(name.starts_with("あああ"), "{name}");
        assert!(name.ends_with("(clipped: 5000 characters stored)]"), "{name}");
        assert_eq!(shown(&"x".repeat(70), 10), "x".repeat(10), "a bound shorter than the note keeps the text only");
    }

    #[test]
    fn every_text_and_list_inside_a_stored_document_is_bounded() {
        let document = serde_json::json!({
            "name": "n", "n": 3, "plan": {"description": "d".repeat(3 * MAX_TEXT_CHARS)}, "ids": vec![1; 500],
        });
        let bounded = shown_json(&document);
        assert_eq!((bounded["name"].as_str(), bounded["n"].as_i64()), (Some("n"), Some(3)));
        assert_eq!(bounded["plan"]["description"].as_str().unwrap().chars().count(), MAX_TEXT_CHARS);
        assert_eq!(bounded["ids"].as_array().unwrap().len(), MAX_LIST_ITEMS);
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let at_limit = "区".repeat(MAX_NAME_CHARS);
        assert!(at_limit.len() > MAX_NAME_CHARS, "3 bytes a character");
        assert_eq!(text_problem(&at_limit, MAX_NAME_CHARS), None);
        let over = "区".repeat(MAX_NAME_CHARS + 1);
        let problem = text_problem(&over, MAX_NAME_CHARS).unwrap();
        assert!(problem.contains("at most 200 characters; got 201"), "{problem}");
    }

    #[test]
    fn nul_is_refused_anywhere_in_the_text() {
        for text in ["\0", "hq\0", "\0hq", "h\0q"] {
            assert_eq!(text_problem(text, MAX_NAME_CHARS).as_deref(), Some(NUL_MESSAGE));
        }
    }

    #[test]
    fn lists_over_the_limit_are_refused() {
        assert_eq!(list_problem(MAX_LIST_ITEMS), None);
        assert!(list_problem(MAX_LIST_ITEMS + 1).unwrap().contains("at most 100 items"));
    }

    #[test]
    fn deserialisers_check_while_reading() {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[serde(deserialize_with = "name")]
            #[allow(dead_code)]
            name: String,
            #[serde(default, deserialize_with = "names")]
            #[allow(dead_code)]
            stages: Vec<String>,
        }
        assert!(serde_json::from_str::<Body>(r#"{"name": "計画"}"#).is_ok());
        let long = serde_json::json!({"name": "x".repeat(MAX_NAME_CHARS + 1)}).to_string();
        assert!(serde_json::from_str::<Body>(&long).unwrap_err().to_string().contains("at most 200 characters"));
        let error = serde_json::from_str::<Body>(r#"{"name": "a", "stages": ["ok", "b\u0000"]}"#).unwrap_err();
        assert!(error.to_string().contains("item 1"), "{error}");
    }
}
