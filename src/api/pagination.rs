//! Offset pagination with a stable order and the total count.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1–500, default 50)
    pub limit: Option<i64>,
    /// Items to skip (default 0)
    pub offset: Option<i64>,
}

/// Checks limit and offset, returning the values to use.
pub fn page_bounds(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), AppError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let offset = offset.unwrap_or(0);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    if offset < 0 {
        return Err(AppError::invalid("offset", "must not be negative"));
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
    }
}
