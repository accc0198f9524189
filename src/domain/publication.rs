//! 公表 (publication): the 本部 publishes a plan's year; the public reads exactly what was published.
//!
//! A publication is never changed: a correction is a new version of the same plan and year, with
//! the reason for it. What a public snapshot may hold is decided here, once, for every format that
//! is served from it (JSON, CSV, HTML, the catalogue).

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::limits::{MAX_TEXT_CHARS, text_problem};
use crate::error::AppError;

/// A licence a publication may be released under, as data portals name them (SPDX identifiers,
/// which CKAN's licence list and DCAT-AP use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Licence {
    /// SPDX identifier (`CC-BY-4.0`)
    pub id: &'static str,
    /// The licence as a Japanese reader knows it
    pub title: &'static str,
    /// The licence text (dct:license)
    pub url: &'static str,
}

/// The licences a municipality may choose; the first is the default. 政府標準利用規約 (第2.0版) is
/// compatible with CC BY 4.0, which is why CC BY 4.0 is the default for open data.
pub const LICENCES: [Licence; 3] = [
    Licence {
        id: "CC-BY-4.0",
        title: "クリエイティブ・コモンズ 表示 4.0 国際",
        url: "https://creativecommons.org/licenses/by/4.0/deed.ja",
    },
    Licence {
        id: "CC0-1.0",
        title: "CC0 1.0 全世界 パブリック・ドメイン提供",
        url: "https://creativecommons.org/publicdomain/zero/1.0/deed.ja",
    },
    Licence {
        id: "CC-BY-SA-4.0",
        title: "クリエイティブ・コモンズ 表示-継承 4.0 国際",
        url: "https://creativecommons.org/licenses/by-sa/4.0/deed.ja",
    },
];

impl Licence {
    /// The licence named by `id` (the default when none is named); 422 for any other.
    pub fn choose(id: Option<&str>) -> Result<Self, AppError> {
        let Some(id) = id.map(str::trim) else {
            return Ok(LICENCES[0]);
        };
        LICENCES.iter().copied().find(|licence| licence.id == id).ok_or_else(|| {
            let known: Vec<&str> = LICENCES.iter().map(|l| l.id).collect();
            AppError::invalid(
                "licence",
                format!(
                    "ライセンスは {} のいずれかを指定してください (licence must be one of these)",
                    known.join(", ")
                ),
            )
        })
    }

    /// The licence a stored publication names; a stored id no longer offered still reads as itself.
    pub fn stored(id: &str) -> Result<Self, AppError> {
        Self::choose(Some(id)).map_err(|_| AppError::Internal(format!("a publication names an unknown licence {id}")))
    }
}

/// Most versions of one plan's year: the public page lists them all, so the list stays bounded.
pub const MAX_VERSIONS: i32 = 100;

/// Largest snapshot stored (bytes of JSON text), so that every public response is bounded:
/// the JSON of a version is its snapshot plus at most [`MAX_VERSIONS`] short entries.
pub const MAX_SNAPSHOT_BYTES: usize = 4 * 1024 * 1024;

/// The version a new publication of a plan's year gets: one more than the latest, within
/// [`MAX_VERSIONS`] (409 beyond).
pub fn next_version(latest: Option<i32>) -> Result<i32, AppError> {
    match latest {
        None => Ok(1),
        Some(latest) if latest < MAX_VERSIONS => Ok(latest + 1),
        Some(_) => Err(AppError::Conflict(format!(
            "この年度はすでに {MAX_VERSIONS} 回公表されており、これ以上再公表できません \
             (a plan's year can be published at most {MAX_VERSIONS} times)"
        ))),
    }
}

/// Refuses a snapshot larger than [`MAX_SNAPSHOT_BYTES`].
pub fn ensure_snapshot_size(bytes: usize) -> Result<(), AppError> {
    if bytes > MAX_SNAPSHOT_BYTES {
        return Err(AppError::Conflict(format!(
            "公表内容が大きすぎます ({bytes} バイト、上限 {MAX_SNAPSHOT_BYTES} バイト) \
             (the snapshot exceeds {MAX_SNAPSHOT_BYTES} bytes)"
        )));
    }
    Ok(())
}

/// The correction note a publication of `version` carries: required (and public) for a
/// re-publication, refused for a first publication, which corrects nothing.
pub fn correction_note(version: i32, note: Option<&str>) -> Result<Option<String>, AppError> {
    let note = note.map(str::trim).filter(|note| !note.is_empty());
    match (version, note) {
        (1, None) => Ok(None),
        (1, Some(_)) => Err(AppError::invalid(
            "correction_note",
            "初めての公表に訂正理由は指定できません (a first publication corrects nothing; leave correction_note out)",
        )),
        (_, None) => Err(AppError::invalid(
            "correction_note",
            format!(
                "公表済みの年度を再公表するには訂正理由が必要です (re-publishing needs a correction_note; this is version {version})"
            ),
        )),
        (_, Some(note)) => match text_problem(note, MAX_TEXT_CHARS) {
            Some(problem) => Err(AppError::invalid("correction_note", problem)),
            None => Ok(Some(note.to_owned())),
        },
    }
}

/// Keys a public snapshot never holds, at any depth: who did what, and what was said internally
/// (review comments, notes). A snapshot that holds one is a bug in whatever built it, and is
/// refused rather than published.
pub const INTERNAL_KEYS: [&str; 14] = [
    "username",
    "display_name",
    "user_id",
    "actor_id",
    "actor_username",
    "recorded_by",
    "published_by",
    "reviewed_by",
    "comment",
    "comments",
    "review_comment",
    "internal_note",
    "note",
    "password",
];

/// Refuses a snapshot holding an internal field ([`INTERNAL_KEYS`]), naming the path to it.
pub fn ensure_public(snapshot: &Value) -> Result<(), AppError> {
    match internal_field(snapshot, "$") {
        Some(path) => Err(AppError::Internal(format!("a public snapshot would disclose the internal field {path}"))),
        None => Ok(()),
    }
}

fn internal_field(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::Object(fields) => fields.iter().find_map(|(key, value)| {
            let here = format!("{path}.{key}");
            if INTERNAL_KEYS.contains(&key.as_str()) { Some(here) } else { internal_field(value, &here) }
        }),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| internal_field(item, &format!("{path}[{index}]")))
        }
        _ => None,
    }
}

/// The hex SHA-256 of a snapshot's stored text: what its ETags are made of.
pub fn snapshot_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The formats a publication is served in; each has its own strong ETag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicFormat {
    Json,
    Csv,
    Html,
}

impl PublicFormat {
    fn suffix(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Html => "html",
        }
    }

    /// The ETag value (without quotes) of a snapshot in this format. The version is part of it:
    /// the page of a version lists the versions after it, so two versions with the same content
    /// are still different pages.
    pub fn entity_tag(self, digest: &str, version: i32, versions: usize) -> String {
        let short = digest.get(..32).unwrap_or(digest);
        format!("pub-{short}-v{version}-of{versions}-{}", self.suffix())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        assert_eq!(next_version(None).unwrap(), 1);
        assert_eq!(next_version(Some(1)).unwrap(), 2);
        assert_eq!(next_version(Some(MAX_VERSIONS - 1)).unwrap(), MAX_VERSIONS);
        assert!(next_version(Some(MAX_VERSIONS)).unwrap_err().to_string().contains("再公表できません"));
    }

    #[test]
    fn snapshots_are_bounded() {
        assert!(ensure_snapshot_size(MAX_SNAPSHOT_BYTES).is_ok());
        assert!(ensure_snapshot_size(MAX_SNAPSHOT_BYTES + 1).is_err());
    }

    #[test]
    fn a_re_publication_needs_a_reason_and_a_first_one_takes_none() {
        assert_eq!(correction_note(1, None).unwrap(), None);
        assert_eq!(correction_note(1, Some("  ")).unwrap(), None, "blank is none");
        assert!(correction_note(1, Some("誤り")).is_err());
        let missing = correction_note(2, None).unwrap_err().to_string();
        assert!(missing.contains("訂正理由") && missing.contains("version 2"), "{missing}");
        assert!(correction_note(3, Some(" ")).is_err());
        assert_eq!(correction_note(2, Some(" 指標3の実績値を訂正 ")).unwrap().as_deref(), Some("指標3の実績値を訂正"));
        assert!(correction_note(2, Some(&"あ".repeat(MAX_TEXT_CHARS + 1))).is_err());
        assert!(correction_note(2, Some("a\0b")).is_err());
    }

    #[test]
    fn licences_default_to_cc_by_and_unknown_ones_are_refused() {
        let default = Licence::choose(None).unwrap();
        assert_eq!((default.id, default.url), ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/deed.ja"));
        assert_eq!(Licence::choose(Some("CC0-1.0")).unwrap().id, "CC0-1.0");
        let refused = Licence::choose(Some("MIT")).unwrap_err().to_string();
        assert!(refused.contains("licence") && refused.contains("CC-BY-4.0"), "{refused}");
        assert!(Licence::stored("GPL").is_err());
    }

    #[test]
    fn internal_fields_are_found_at_any_depth() {
        assert!(ensure_public(&json!({"plan": {"name": "計画"}, "rows": [{"value": 1}]})).is_ok());
        let nested = ensure_public(&json!({"rows": [{"value": 1}, {"review": {"comment": "差戻し"}}]}));
        assert!(nested.unwrap_err().to_string().contains("$.rows[1].review.comment"));
        assert!(ensure_public(&json!({"published_by": 3})).is_err());
        assert!(ensure_public(&json!([{"username": "hq"}])).is_err());
        // A value equal to a key name is only text.
        assert!(ensure_public(&json!({"label": "comment"})).is_ok());
    }

    #[test]
    fn each_format_and_version_has_its_own_tag() {
        let digest = snapshot_digest("{}");
        assert_eq!(digest, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        let json_tag = PublicFormat::Json.entity_tag(&digest, 1, 1);
        assert_eq!(json_tag, "pub-44136fa355b3678a1146ad16f7e8649e-v1-of1-json");
        assert_ne!(json_tag, PublicFormat::Csv.entity_tag(&digest, 1, 1));
        assert_ne!(json_tag, PublicFormat::Json.entity_tag(&digest, 1, 2), "a newer version changes the list");
        assert_ne!(json_tag, PublicFormat::Json.entity_tag(&snapshot_digest("{ }"), 1, 1));
    }
}
