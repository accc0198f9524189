//! Offset pagination with a stable order and the total count: every collection endpoint answers
//! `{items, total, limit, offset}` and takes `limit` (1–500, default 50) and `offset`
//! (0–1,000,000, default 0).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

/// Items per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 50;
/// Most items one page may hold.
pub const MAX_LIMIT: i64 = 500;
/// Largest accepted `offset`: beyond it a client should filter instead, and the database is
/// never asked to skip an unbounded number of rows.
pub const MAX_OFFSET: i64 = 1_000_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1–500, default 50)
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Items to skip (0–1000000, default 0)
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// Checks limit and offset, returning the values to use.
pub fn page_bounds(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), AppError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let offset = offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("1〜{MAX_LIMIT} の範囲で指定してください (must be between 1 and {MAX_LIMIT})"),
        ));
    }
    if !(0..=MAX_OFFSET).contains(&offset) {
        return Err(AppError::invalid(
            "offset",
            format!("0〜{MAX_OFFSET} の範囲で指定してください (must be between 0 and {MAX_OFFSET})"),
        ));
    }
    Ok((limit, offset))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// All items matching the filters
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl<T> Page<T> {
    pub fn new((items, total): (Vec<T>, i64), limit: i64, offset: i64) -> Self {
        Self { items, total, limit, offset }
    }

    /// The page of a list that is already in memory because it is assembled from several tables
    /// and bounded by its parent (an indicator's target revisions, an achievement series).
    pub fn of_all(all: Vec<T>, limit: i64, offset: i64) -> Self {
        let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(0);
        Self { items: all.into_iter().skip(skip).take(take).collect(), total, limit, offset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_absent() {
        assert_eq!(page_bounds(None, None).unwrap(), (DEFAULT_LIMIT, 0));
    }

    #[test]
    fn limits_outside_the_range_are_rejected() {
        assert!(page_bounds(Some(0), None).is_err());
        assert!(page_bounds(Some(MAX_LIMIT + 1), None).is_err());
        assert!(page_bounds(Some(10), Some(-1)).is_err());
        assert!(page_bounds(Some(10), Some(MAX_OFFSET + 1)).is_err());
        assert!(page_bounds(Some(MAX_LIMIT), Some(MAX_OFFSET)).is_ok());
    }

    #[test]
    fn in_memory_lists_page_like_stored_ones() {
        let page = Page::of_all((1..=7).collect(), 3, 5);
        assert_eq!((page.items, page.total, page.limit, page.offset), (vec![6, 7], 7, 3, 5));
        let beyond = Page::of_all(vec![1, 2], 3, 10);
        assert!(beyond.items.is_empty());
        assert_eq!(beyond.total, 2);
    }
}
