//! The log of e-mail reminders (hq and admin of a municipality; the system administrator names one).

use actix_web::{HttpResponse, get, web};
use utoipa::IntoParams;

use super::extract::Query;
use super::pagination::{Page, page_bounds};
use crate::auth::AuditReader;
use crate::db::Database;
use crate::db::reminders::{self, SentMessage};
use crate::error::AppError;

#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReminderLogQuery {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
    /// The system administrator names the municipality (others may name only their own).
    pub municipality_id: Option<i32>,
}

/// Every reminder claimed for sending in the caller's municipality, newest first: to whom, its
/// subject, whether it was sent (with the attempts made and the last error) and when.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(ReminderLogQuery), responses(
    (status = 200, body = Page<SentMessage>),
))]
#[get("/reminders/log")]
pub async fn reminder_log(
    reader: AuditReader,
    db: web::Data<Database>,
    query: Query<ReminderLogQuery>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(query.limit, query.offset)?;
    let municipality_id = reader.own_municipality(query.municipality_id)?;
    let found = db.read(move |conn| reminders::log_page(conn, municipality_id, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}
