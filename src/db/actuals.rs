//! Yearly actuals (実績) and their version history.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::actuals;
use crate::error::AppError;

pub fn count_for_indicator(conn: &mut DbConnection, indicator_id: i32) -> Result<i64, AppError> {
    Ok(actuals::table.filter(actuals::indicator_id.eq(indicator_id)).count().get_result(conn)?)
}
