//! The audit log (hq and admin of a municipality; the system administrator across municipalities).

use actix_web::{HttpResponse, get, web};

use super::extract::Query;
use super::pagination::{Page, page_bounds};
use crate::auth::AuditReader;
use crate::db::Database;
use crate::db::audit::{self, AuditEntry, AuditFilter};
use crate::error::AppError;

/// Every recorded change to the caller's municipality, oldest first, filterable by entity, actor, action and time:
/// its users' changes and the system administrator's to its accounts and registration. The system
/// administrator reads every municipality's (and the accounts of none), or one with `municipality_id`.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditFilter), responses(
    (status = 200, body = Page<AuditEntry>),
))]
#[get("/audit")]
pub async fn list_audit(
    reader: AuditReader,
    db: web::Data<Database>,
    filter: Query<AuditFilter>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(filter.limit, filter.offset)?;
    let filter = filter.into_inner();
    let municipality_id = reader.municipality_for(filter.municipality_id)?;
    let found = db.read(move |conn| audit::list(conn, municipality_id, &filter, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}
