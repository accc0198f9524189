//! Optimistic concurrency: entity versions, their ETags and the preconditions clients send.
//!
//! Every versioned row (plan, measure, indicator, actual) carries a version number that each write
//! increments; its ETag is `"<kind>-<id>-v<version>"`. A write that names the version it read fails
//! with 412 when another write came first.

use actix_web::http::header::EntityTag;

use crate::error::AppError;

/// The version an unparseable `If-Match` tag stands for: records start at version 1.
const UNMATCHABLE_VERSION: i32 = 0;

/// The version a client read, from `If-Match: "<kind>-<id>-v<version>"` (or `*`).
pub enum Precondition {
    /// No If-Match header.
    None,
    /// `If-Match: *`: any current version.
    Any,
    Version(i32),
}

impl Precondition {
    /// Reads an `If-Match` value. A tag that names no version (`"garbage"`, empty) can never
    /// match, so it reads as version 0, which no record has: the write fails with 412 at the
    /// version check, once the record is found and the request is otherwise valid. Refusing it
    /// here, before the lookup, would answer 412 where the request without the header would get
    /// 404 or 422; RFC 9110 §13.2.1 has preconditions ignored then.
    pub fn from_if_match(value: Option<&str>) -> Result<Self, AppError> {
        let Some(value) = value.map(str::trim) else {
            return Ok(Self::None);
        };
        if value == "*" {
            return Ok(Self::Any);
        }
        let tag = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
        let version = tag.rsplit_once("-v").and_then(|(_, version)| version.parse().ok());
        Ok(Self::Version(version.unwrap_or(UNMATCHABLE_VERSION)))
    }

    /// The version to compare with, for writes where If-Match is optional.
    pub fn expected(&self) -> Option<i32> {
        match self {
            Self::Version(v) => Some(*v),
            Self::None | Self::Any => None,
        }
    }
}

/// Strong entity tag for a versioned entity.
pub fn etag(kind: &str, id: i32, version: i32) -> EntityTag {
    EntityTag::new_strong(format!("{kind}-{id}-v{version}"))
}

/// A write that names the version it read fails if another write came first.
pub fn check_version(entity: &str, current: i32, expected: Option<i32>) -> Result<(), AppError> {
    match expected {
        Some(expected) if expected != current => Err(AppError::PreconditionFailed(format!(
            "the {entity} was changed by someone else (now version {current}); GET it again for its current ETag \
             header and send your change with that value as If-Match"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_names_the_version_read() {
        assert_eq!(Precondition::from_if_match(Some("\"actual-3-v7\"")).unwrap().expected(), Some(7));
        assert!(matches!(Precondition::from_if_match(Some("*")), Ok(Precondition::Any)));
        assert!(matches!(Precondition::from_if_match(None), Ok(Precondition::None)));
        // A tag naming no version is kept, so that it fails the version check (412) later.
        assert_eq!(Precondition::from_if_match(Some("\"garbage\"")).unwrap().expected(), Some(0));
        assert_eq!(Precondition::from_if_match(Some("")).unwrap().expected(), Some(0));
        assert!(check_version("plan", 1, Precondition::from_if_match(Some("garbage")).unwrap().expected()).is_err());
    }

    #[test]
    fn a_stale_version_is_refused() {
        assert!(check_version("measure", 3, Some(2)).is_err());
        assert!(check_version("measure", 3, Some(3)).is_ok());
        assert!(check_version("measure", 3, None).is_ok());
    }
}
