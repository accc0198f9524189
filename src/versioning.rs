//! Optimistic concurrency: entity versions, their ETags and the preconditions clients send.
//!
//! Every versioned row (plan, measure, indicator, actual) carries a version number that each write
//! increments; its ETag is `"<kind>-<id>-v<version>"`. A write that names the version it read fails
//! with 412 when another write came first.

use actix_web::http::header::EntityTag;

use crate::error::AppError;

/// The version a client read, from `If-Match: "<kind>-<id>-v<version>"` (or `*`).
pub enum Precondition {
    /// No If-Match header.
    None,
    /// `If-Match: *`: any current version.
    Any,
    Version(i32),
}

impl Precondition {
    /// Reads an `If-Match` value; an unparseable tag cannot match the current one (412).
    pub fn from_if_match(value: Option<&str>) -> Result<Self, AppError> {
        let Some(value) = value.map(str::trim) else {
            return Ok(Self::None);
        };
        if value == "*" {
            return Ok(Self::Any);
        }
        let tag = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
        tag.rsplit_once("-v")
            .and_then(|(_, version)| version.parse().ok())
            .map(Self::Version)
            .ok_or(AppError::PreconditionFailed("the If-Match tag does not match the current version".into()))
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
            "the {entity} was changed by someone else (now version {current}); reload it and try again"
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
        assert!(Precondition::from_if_match(Some("\"garbage\"")).is_err());
    }

    #[test]
    fn a_stale_version_is_refused() {
        assert!(check_version("measure", 3, Some(2)).is_err());
        assert!(check_version("measure", 3, Some(3)).is_ok());
        assert!(check_version("measure", 3, None).is_ok());
    }
}
