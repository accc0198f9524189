//! Response members that the server computes (fiscal-year labels) inside structs that requests
//! also use. Clients may send them back unchanged (a fetched roadmap or baseline, edited and
//! re-sent), so the OpenAPI document lists them with `readOnly` rather than rejecting them as
//! unknown; the value sent is checked for its type and then ignored.

use serde::{Deserialize, Deserializer};

/// Reads an optional string and discards it: the field keeps its default and is recomputed
/// whenever the record is read.
pub fn discard_text<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default,
{
    Option::<String>::deserialize(deserializer).map(|_| T::default())
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        fiscal_year: i32,
        #[serde(default, deserialize_with = "super::discard_text")]
        fiscal_year_label: String,
    }

    #[test]
    fn a_label_sent_back_is_accepted_and_ignored() {
        let entry: Entry = serde_json::from_str(r#"{"fiscal_year": 2018, "fiscal_year_label": "嘘"}"#).unwrap();
        assert_eq!(entry, Entry { fiscal_year: 2018, fiscal_year_label: String::new() });
        let entry: Entry = serde_json::from_str(r#"{"fiscal_year": 2018}"#).unwrap();
        assert_eq!(entry.fiscal_year_label, "");
    }

    #[test]
    fn a_label_of_the_wrong_type_is_still_rejected() {
        assert!(serde_json::from_str::<Entry>(r#"{"fiscal_year": 2018, "fiscal_year_label": 5}"#).is_err());
    }
}
