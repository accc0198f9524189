//! The audit log (hq and admin of a municipality; the system administrator across municipalities).

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDateTime;
use utoipa::IntoParams;

use super::extract::Query;
use super::pagination::{Page, page_bounds};
use crate::auth::AuditReader;
use crate::db::Database;
use crate::db::audit::{self, AuditFilter};
use crate::domain::audit::AuditEntry;
use crate::error::AppError;

/// The query of `GET /audit`: the filter, the page and, for the system administrator, the municipality.
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `indicator`, `measure`, `actual`, `user`
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    #[param(max_length = 64)]
    pub entity_type: Option<String>,
    pub entity_id: Option<i32>,
    /// username of the actor
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    #[param(max_length = 64)]
    pub actor: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// from this time (inclusive), RFC 3339, e.g. 2026-04-01T00:00:00Z
    #[serde(default, deserialize_with = "crate::domain::timestamp::deserialize_optional_utc")]
    pub from: Option<NaiveDateTime>,
    /// until this time (exclusive), RFC 3339
    #[serde(default, deserialize_with = "crate::domain::timestamp::deserialize_optional_utc")]
    pub until: Option<NaiveDateTime>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
    /// The system administrator's view of one municipality (others may name only their own).
    pub municipality_id: Option<i32>,
}

impl AuditQuery {
    fn to_filter(&self) -> AuditFilter {
        AuditFilter {
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id,
            actor: self.actor.clone(),
            action: self.action.clone(),
            from: self.from,
            until: self.until,
        }
    }
}

/// Every recorded change to the caller's municipality, oldest first, filterable by entity, actor, action and time:
/// its users' changes and the system administrator's to its accounts and registration. The system
/// administrator reads every municipality's (and the accounts of none), or one with `municipality_id`.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditQuery), responses(
    (status = 200, body = Page<AuditEntry>),
))]
#[get("/audit")]
pub async fn list_audit(
    reader: AuditReader,
    db: web::Data<Database>,
    filter: Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(filter.limit, filter.offset)?;
    let municipality_id = reader.municipality_for(filter.municipality_id)?;
    let filter = filter.to_filter();
    let found = db.read(move |conn| audit::list(conn, municipality_id, &filter, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}
