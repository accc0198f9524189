//! The web view's login through a municipality's OpenID provider, and logout: the login screen
//! lists the providers, the browser goes to the provider and comes back to the callback, which
//! hands the web view a one-time ticket (never a token in an address) to exchange for the same
//! token a password login gets.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::TokenResponse;
use super::extract::{JsonBody, Query};
use crate::auth::caller::bearer_token;
use crate::auth::oidc_login::{self, CALLBACK_PATH, Finishing, PublicBaseUrl, new_secret, secret_hash};
use crate::auth::provider_token::ProviderKeys;
use crate::auth::token::Subject;
use crate::auth::{Caller, TokenService};
use crate::db::identity_providers::{self, VouchedIdentity};
use crate::db::oidc_logins::{self, NewAttempt};
use crate::db::{Database, WriteScope, audit};
use crate::domain::identity_provider::{LOGIN_ATTEMPT_SECONDS, LOGIN_TICKET_SECONDS, LoginFailure, login_button_label};
use crate::domain::municipality_code::MunicipalityCode;
use crate::error::{AppError, Problem};

/// A municipality whose staff can log in to the web view through its OpenID provider.
#[derive(Serialize, ToSchema)]
pub struct WebLoginProvider {
    #[schema(example = "131199")]
    pub municipality_code: String,
    #[schema(example = "板橋区")]
    pub municipality_name: String,
    /// The login button's label
    #[schema(example = "板橋区職員アカウントでログイン")]
    pub label: String,
    /// `false`: the municipality's users cannot log in with a password (the form is hidden)
    pub local_passwords_allowed: bool,
}

/// The municipalities whose staff log in to the web view through their OpenID provider (those
/// whose provider has a client secret), for the login screen's buttons.
#[utoipa::path(tag = "auth", responses((status = 200, body = Vec<WebLoginProvider>)))]
#[get("/auth/oidc/providers")]
pub async fn list_web_login_providers(db: web::Data<Database>) -> Result<HttpResponse, AppError> {
    let providers = db.read(oidc_logins::web_login_providers).await?;
    let shown: Vec<WebLoginProvider> = providers
        .into_iter()
        .map(|found| WebLoginProvider {
            label: login_button_label(&found.municipality_name),
            municipality_code: found.municipality_code,
            municipality_name: found.municipality_name,
            local_passwords_allowed: found.provider.local_passwords_allowed,
        })
        .collect();
    Ok(HttpResponse::Ok().json(shown))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LoginQuery {
    /// The municipality (全国地方公共団体コード, 6 digits with the check digit, or 5)
    #[param(example = "131199", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub municipality: String,
}

/// Begins a login at the municipality's OpenID provider: 302 to its authorization endpoint
/// (authorization code flow, PKCE S256, state and nonce). The login must come back within 10
/// minutes. A provider that cannot be reached: 302 to the web view's login screen
/// (`/?login_error=provider_unavailable`).
#[utoipa::path(tag = "auth", params(LoginQuery), responses(
    (status = 302, description = "to the provider's authorization endpoint, or to the login screen when the provider cannot be reached",
        headers(("Location" = String, description = "the provider's authorization request, or `/?login_error=provider_unavailable`"))),
    (status = 404, description = "the municipality has no provider the web view logs in through", body = Problem, content_type = "application/problem+json"),
))]
#[get("/auth/oidc/login")]
pub async fn begin_web_login(
    req: HttpRequest,
    db: web::Data<Database>,
    keys: web::Data<ProviderKeys>,
    base: web::Data<PublicBaseUrl>,
    query: Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let code =
        MunicipalityCode::parse(&query.municipality).map_err(|e| AppError::invalid("municipality", e.to_string()))?;
    let lookup = code.as_str().to_owned();
    let provider = db
        .read(move |conn| oidc_logins::web_login_provider(conn, &lookup))
        .await?
        .ok_or_else(|| AppError::not_found("identity provider", code.as_str()))?;
    let redirect_uri = format!("{}{CALLBACK_PATH}", base.for_request(&req));
    let start = match oidc_login::start(&keys, &provider, &redirect_uri).await {
        Ok(start) => start,
        // The clerk clicked a button: the login screen explains, rather than a problem document.
        Err(AppError::Unavailable(_)) => {
            return Ok(to_web_view(&format!("login_error={}", LoginFailure::Unavailable.code()), StatusCode::FOUND));
        }
        Err(other) => return Err(other),
    };
    let now = audit::now();
    let municipality_id = provider.municipality_id;
    db.write(WriteScope::Municipality(municipality_id), move |conn| {
        oidc_logins::begin(
            conn,
            &NewAttempt {
                state_hash: &start.state_hash,
                municipality_id,
                pkce_verifier: &start.pkce_verifier,
                nonce: &start.nonce,
                redirect_uri: &redirect_uri,
                created_at: now,
                expires_at: now + Duration::seconds(LOGIN_ATTEMPT_SECONDS),
            },
        )
    })
    .await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, start.authorization_url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// What the provider sends the browser back with (RFC 6749 §4.1.2); providers may add more.
#[derive(Deserialize, IntoParams)]
pub struct CallbackQuery {
    #[param(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub code: Option<String>,
    #[param(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub state: Option<String>,
    /// The provider's error code, when the login did not succeed there
    #[param(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub error: Option<String>,
    /// The issuer of the answer (RFC 9207): when sent, it must be the provider the login began at
    #[param(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub iss: Option<String>,
}

/// Where the provider sends the browser back: the login finished, then 303 to the web view with
/// a one-time ticket (`/?login_ticket=…`, exchanged at POST /auth/oidc/ticket within a minute), or
/// with a short error code the login screen explains (`/?login_error=…`: provider_error,
/// invalid_state, expired, verification_failed, account_refused, provider_unavailable).
#[utoipa::path(tag = "auth", params(CallbackQuery), responses(
    (status = 303, description = "to the web view, with a login ticket or an error code",
        headers(("Location" = String, description = "`/?login_ticket=…` or `/?login_error=…`"))),
))]
#[get("/auth/oidc/callback")]
pub async fn finish_web_login(
    db: web::Data<Database>,
    keys: web::Data<ProviderKeys>,
    query: Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let query = match complete_login(&db, &keys, query.into_inner()).await? {
        Ok(ticket) => format!("login_ticket={ticket}"),
        Err(failure) => format!("login_error={}", failure.code()),
    };
    Ok(to_web_view(&query, StatusCode::SEE_OTHER))
}

/// A redirect to the web view with a login ticket or an error code in its query.
fn to_web_view(query: &str, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, format!("/?{query}")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The callback's work: the login taken (once, in time), finished at the provider, its identity
/// mapped to an account here (deactivated: refused), and a ticket for it. `Err` only when the
/// database fails.
async fn complete_login(
    db: &Database,
    keys: &ProviderKeys,
    query: CallbackQuery,
) -> Result<Result<String, LoginFailure>, AppError> {
    let Some(state) = query.state else { return Ok(Err(LoginFailure::State)) };
    let state_hash = secret_hash(&state);
    let lookup = state_hash.clone();
    let Some(municipality_id) = db.read(move |conn| oidc_logins::attempt_municipality(conn, &lookup)).await? else {
        return Ok(Err(LoginFailure::State));
    };
    let now = audit::now();
    let scope = WriteScope::Municipality(municipality_id);
    // Taken even when the provider reports an error: a state is good for one answer only.
    let attempt = match db.write(scope, move |conn| oidc_logins::take_attempt(conn, &state_hash, now)).await? {
        Ok(attempt) => attempt,
        Err(failure) => return Ok(Err(failure)),
    };
    let code = match (query.error, query.code) {
        (None, Some(code)) => code,
        _ => return Ok(Err(LoginFailure::Provider)),
    };
    let Some(provider) = db.read(move |conn| identity_providers::of_municipality(conn, municipality_id)).await? else {
        return Ok(Err(LoginFailure::State));
    };
    // A mix-up attack answers with another provider's code (RFC 9207 §2.4).
    if query.iss.as_ref().is_some_and(|iss| *iss != provider.issuer) {
        return Ok(Err(LoginFailure::Verification));
    }
    let issuer = provider.issuer.clone();
    let secret = db.read(move |conn| oidc_logins::client_secret(conn, municipality_id)).await?;
    let finishing = Finishing {
        code: &code,
        pkce_verifier: attempt.pkce_verifier,
        nonce: &attempt.nonce,
        redirect_uri: &attempt.redirect_uri,
        client_secret: secret,
    };
    let verified = match oidc_login::finish(keys, &provider, finishing).await {
        Ok(verified) => verified,
        Err(failure) => return Ok(Err(failure)),
    };
    let ticket = new_secret();
    let ticket_hash = secret_hash(&ticket);
    let issued = db
        .write(scope, move |conn| {
            let identity =
                VouchedIdentity { provider: &provider, subject: &verified.subject, claims: &verified.claims };
            let user_id = match identity_providers::account_of(conn, &identity) {
                Ok(user_id) => user_id,
                Err(AppError::Unauthenticated(reason)) => {
                    tracing::info!(issuer = %provider.issuer, "OpenID login refused: {reason}");
                    return Ok(Err(LoginFailure::Refused));
                }
                Err(other) => return Err(other),
            };
            let expires_at = audit::now() + Duration::seconds(LOGIN_TICKET_SECONDS);
            oidc_logins::issue_ticket(conn, &ticket_hash, user_id, &issuer, expires_at)?;
            Ok(Ok(()))
        })
        .await?;
    Ok(issued.map(|()| ticket))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// The `login_ticket` the callback put in the web view's address
    #[schema(max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub ticket: String,
}

impl std::fmt::Debug for TicketRequest {
    // The ticket is a credential until used: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketRequest").finish_non_exhaustive()
    }
}

/// Exchanges a login ticket, once and within a minute, for a bearer token (as POST /auth/token).
#[utoipa::path(tag = "auth", request_body = TicketRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "unknown, used or expired ticket, or the account was deactivated", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/oidc/ticket")]
pub async fn exchange_login_ticket(
    db: web::Data<Database>,
    tokens: web::Data<TokenService>,
    body: JsonBody<TicketRequest>,
) -> Result<HttpResponse, AppError> {
    let ticket_hash = secret_hash(&body.parse()?.ticket);
    let now = audit::now();
    let lookup = ticket_hash.clone();
    let refused = || {
        AppError::Unauthenticated(
            "ログインの有効期限が切れたか、既に使われています。もう一度ログインしてください \
             (the login ticket is unknown, used or expired; log in again)"
                .into(),
        )
    };
    let Some(municipality_id) = db.read(move |conn| oidc_logins::ticket_municipality(conn, &lookup)).await? else {
        return Err(refused());
    };
    let (account, issuer) = db
        .write(WriteScope::Municipality(municipality_id), move |conn| {
            oidc_logins::redeem_ticket(conn, &ticket_hash, now)
        })
        .await?
        .ok_or_else(refused)?;
    let token = tokens.issue_after_provider_login(
        &Subject {
            user_id: account.id,
            username: &account.username,
            role: account.role,
            department_id: account.department_id,
            token_version: account.token_version,
        },
        &issuer,
    )?;
    tracing::info!(username = %account.username, role = account.role.as_str(), "token issued after an OpenID login");
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: tokens.ttl_seconds(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct LogoutResponse {
    /// Where the browser ends its session at the OpenID provider, when the session began there
    /// and the provider has an end_session_endpoint; `null` otherwise
    #[schema(
        example = "https://login.city.example.lg.jp/session/end?client_id=municipal-kpi&post_logout_redirect_uri=https%3A%2F%2Fkpi.city.example.lg.jp%2F"
    )]
    pub end_session_url: Option<String>,
}

/// Ends the caller's sessions: its tokens are refused from the next request on, on every server
/// process. A session begun at the OpenID provider is also to be ended there: the answer names
/// where to send the browser.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = LogoutResponse),
))]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    caller: Caller,
    db: web::Data<Database>,
    tokens: web::Data<TokenService>,
    keys: web::Data<ProviderKeys>,
    base: web::Data<PublicBaseUrl>,
) -> Result<HttpResponse, AppError> {
    // The caller was resolved from this very token; a provider's own access token has no `idp`.
    let issuer = bearer_token(&req).ok().and_then(|token| tokens.verify(token).ok()).and_then(|claims| claims.idp);
    let user_id = caller.user_id;
    db.write(caller.write_scope(), move |conn| oidc_logins::end_sessions(conn, user_id)).await?;
    let provider = match issuer {
        Some(issuer) => db.read(move |conn| identity_providers::by_issuer(conn, &issuer)).await?,
        None => None,
    };
    let end_session_url = match provider {
        Some(provider) => {
            let back = format!("{}/", base.for_request(&req));
            // The session here has ended already; a provider that cannot be reached now only
            // means the browser is not sent there.
            oidc_login::end_session_url(&keys, &provider, &back).await.unwrap_or_else(|error| {
                tracing::warn!(issuer = %provider.issuer, "OpenID logout: {error}");
                None
            })
        }
        None => None,
    };
    tracing::info!(username = %caller.username, "logged out");
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(LogoutResponse { end_session_url }))
}
