//! Liveness and readiness probes (no authentication).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{Backend, Database};
use crate::error::AppError;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    #[schema(value_type = String, example = "sqlite")]
    pub database: Backend,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers and every migration is applied.
///
/// Answers within its own short deadline (`DB_READINESS_DEADLINE_MS`): a database that does not
/// answer in time is a 503 with `Retry-After`. The check uses a read connection, so a long
/// write does not make the service look down.
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Readiness),
))]
#[get("/readyz")]
pub async fn readyz(db: web::Data<Database>) -> Result<HttpResponse, AppError> {
    db.ready().await?;
    Ok(HttpResponse::Ok().json(Readiness { status: "ready", database: db.backend() }))
}
