//! A municipality's OpenID provider (庁内の認証基盤): its administrator (or the system
//! administrator) reads and sets it. The client secret is written, never read back.

use actix_web::{HttpResponse, get, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, Query};
use crate::auth::UserManager;
use crate::db::audit::Actor;
use crate::db::identity_providers::{self, IdentityProvider, ProviderSettings};
use crate::db::{Database, WriteScope};
use crate::domain::identity_provider::{ClaimMapping, Provisioning};
use crate::error::{AppError, Problem};

/// The username claim when none is named: the one OpenID Connect defines for it.
const DEFAULT_USERNAME_CLAIM: &str = "preferred_username";

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProviderQuery {
    /// The municipality (the system administrator names it; an admin's own by default)
    pub municipality_id: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutIdentityProvider {
    /// The municipality (the system administrator names it; an admin's own by default)
    pub municipality_id: Option<i32>,
    /// The provider's issuer identifier, exactly as its tokens' `iss` (https; http on loopback only)
    #[schema(example = "https://login.city.example.lg.jp/realms/staff", max_length = 1000)]
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub issuer: String,
    #[schema(example = "municipal-kpi", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub client_id: String,
    /// Omit to keep the stored one; never returned
    #[schema(max_length = 1024)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_password")]
    pub client_secret: Option<String>,
    /// The `aud` the provider's access tokens carry for this API (RFC 8707 resource)
    #[schema(example = "https://kpi.city.example.lg.jp/api", max_length = 1000)]
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub audience: String,
    pub provisioning: Provisioning,
    /// `false`: the municipality's users log in through the provider only
    pub local_passwords_allowed: bool,
    /// The claim whose value is the account's username (default `preferred_username`)
    #[schema(example = "preferred_username", max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub username_claim: Option<String>,
    /// Tried in order: the first that matches decides the role and department
    #[schema(max_items = 50)]
    pub claim_mappings: Vec<ClaimMapping>,
}

fn check_issuer(issuer: &str) -> Result<(), AppError> {
    let invalid = |why: &str| AppError::invalid("issuer", why);
    let url =
        url::Url::parse(issuer).map_err(|_| invalid("発行者 (issuer) はURLで指定してください (an absolute URL)"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid("発行者はhttpsで指定してください (https, or http on loopback for tests)")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "発行者にクエリやフラグメントは含められません (no query or fragment, OpenID Connect Discovery §2)",
        ));
    }
    Ok(())
}

/// The municipality's OpenID provider, without its client secret.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(ProviderQuery), responses(
    (status = 200, body = IdentityProvider),
    (status = 404, description = "the municipality has no provider", body = Problem, content_type = "application/problem+json"),
))]
#[get("/identity-provider")]
pub async fn get_identity_provider(
    manager: UserManager,
    db: web::Data<Database>,
    query: Query<ProviderQuery>,
) -> Result<HttpResponse, AppError> {
    let municipality_id = manager.own_municipality(query.into_inner().municipality_id)?;
    let provider = db
        .read(move |conn| identity_providers::of_municipality(conn, municipality_id))
        .await?
        .ok_or_else(|| AppError::not_found("identity provider", municipality_id))?;
    Ok(HttpResponse::Ok().json(provider))
}

/// Sets the municipality's OpenID provider (audited, without the secret).
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = PutIdentityProvider, responses(
    (status = 200, body = IdentityProvider),
    (status = 409, description = "another municipality has this issuer", body = Problem, content_type = "application/problem+json"),
))]
#[put("/identity-provider")]
pub async fn put_identity_provider(
    UserManager(caller): UserManager,
    db: web::Data<Database>,
    body: JsonBody<PutIdentityProvider>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let municipality_id = caller.own_municipality(body.municipality_id)?;
    check_issuer(&body.issuer)?;
    let settings = ProviderSettings {
        issuer: body.issuer,
        client_id: body.client_id,
        client_secret: body.client_secret,
        audience: body.audience,
        provisioning: body.provisioning,
        local_passwords_allowed: body.local_passwords_allowed,
        username_claim: body.username_claim.unwrap_or_else(|| DEFAULT_USERNAME_CLAIM.to_owned()),
        claim_mappings: body.claim_mappings,
    };
    let actor = Actor::from(&caller);
    let provider = db
        .write(WriteScope::Municipality(municipality_id), move |conn| {
            identity_providers::put(conn, &actor, municipality_id, settings)
        })
        .await?;
    Ok(HttpResponse::Ok().json(provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_https_urls_or_loopback_http() {
        assert!(check_issuer("https://login.city.example.lg.jp/realms/staff").is_ok());
        assert!(check_issuer("http://127.0.0.1:4000").is_ok());
        assert!(check_issuer("http://login.city.example.lg.jp").is_err());
        assert!(check_issuer("https://idp.example/?tenant=1").is_err());
        assert!(check_issuer("not a url").is_err());
    }
}
