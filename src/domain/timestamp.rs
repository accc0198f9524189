//! Timestamps on the wire.
//!
//! The database keeps UTC as `NaiveDateTime` (no offset, the same on SQLite and PostgreSQL);
//! every response sends them as RFC 3339 with the `Z` offset, so clients never have to guess the
//! zone and the OpenAPI `format: date-time` holds. Response structs use these functions with
//! `#[serde(serialize_with = "...")]` on every timestamp field.

use chrono::{DateTime, NaiveDateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serializer};

/// `2026-11-24T00:31:32.877433Z`: RFC 3339, UTC, as many fractional digits as the value has.
pub fn to_rfc3339_utc(at: &NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Serialises a UTC timestamp as RFC 3339 with an offset.
pub fn serialize_utc<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&to_rfc3339_utc(at))
}

/// [`serialize_utc`] for an optional timestamp; `None` stays `null`.
pub fn serialize_optional_utc<S: Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize_utc(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// Reads a time as a client sends it: RFC 3339 with any offset (converted to UTC), or a UTC time
/// without offset as earlier versions documented (`2026-04-01T00:00:00`).
pub fn parse_utc(text: &str) -> Option<NaiveDateTime> {
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(with_offset.naive_utc());
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// Deserialises an optional query or body time with [`parse_utc`].
pub fn deserialize_optional_utc<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDateTime>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) => parse_utc(&text).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time such as 2026-04-01T09:00:00+09:00"))
        }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").unwrap()
    }

    #[test]
    fn timestamps_carry_the_utc_offset_and_parse_back_as_rfc_3339() {
        let stored = at("2026-11-24T00:31:32.877433794");
        let text = to_rfc3339_utc(&stored);
        assert_eq!(text, "2026-11-24T00:31:32.877433794Z");
        let parsed = chrono::DateTime::parse_from_rfc3339(&text).unwrap();
        assert_eq!(parsed.naive_utc(), stored);
    }

    #[test]
    fn whole_seconds_have_no_fraction_and_none_stays_null() {
        #[derive(serde::Serialize)]
        struct Row {
            #[serde(serialize_with = "serialize_utc")]
            created_at: NaiveDateTime,
            #[serde(serialize_with = "serialize_optional_utc")]
            closed_at: Option<NaiveDateTime>,
        }
        let row = Row { created_at: at("2021-04-01T00:00:00"), closed_at: None };
        let json = serde_json::to_value(&row).unwrap();
        assert_eq!(json, serde_json::json!({"created_at": "2021-04-01T00:00:00Z", "closed_at": null}));
    }

    #[test]
    fn client_times_with_an_offset_are_converted_to_utc() {
        assert_eq!(parse_utc("2026-04-01T09:00:00+09:00"), Some(at("2026-04-01T00:00:00")));
        assert_eq!(parse_utc("2026-04-01T00:00:00Z"), Some(at("2026-04-01T00:00:00")));
        assert_eq!(parse_utc("2026-04-01T00:00:00"), Some(at("2026-04-01T00:00:00")));
        assert_eq!(parse_utc("yesterday"), None);
    }
}
