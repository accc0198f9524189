//! The authenticated caller of a request: its bearer token checked, then its account read as it is
//! now.
//!
//! [`resolve_caller`] runs once per request on the `/api/v1` scope and leaves the outcome in the
//! request's extensions, so that the [`Caller`] extractor (and the role extractors of
//! [`super::roles`]) are synchronous and, as a handler's first argument, fail before its path,
//! query or body are looked at.

use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::provider_token::{self, ProviderKeys};
use super::tenancy;
use super::token::{Claims, ISSUER, LOGIN_HINT};
use crate::auth::TokenService;
use crate::db::audit::Actor;
use crate::db::caller_context::{self, CallerContext};
use crate::db::identity_providers::{self, VouchedIdentity};
use crate::db::users::Account;
use crate::db::{Database, DbConnection, WriteScope};
use crate::domain::ids::IndicatorId;
use crate::domain::indicator::Indicator;
use crate::domain::resource::OwnedResource;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::response_cache::DataVersion;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: i32,
    pub username: String,
    pub role: Role,
    pub department_id: Option<i32>,
    /// The municipality whose data the caller works on; `None` for system_admin and analyst.
    pub municipality_id: Option<i32>,
}

impl Caller {
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), AppError> {
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "この操作の権限がありません (the {} role may not {what})",
                self.role.as_str()
            )))
        }
    }

    pub fn require_hq(&self, what: &str) -> Result<(), AppError> {
        self.require(self.role.edits_plans(), what)
    }

    /// The municipality a new record of the caller goes to: its own (a body may name it, but no
    /// other: another municipality reads as none, a 422 naming `municipality_id` like any body
    /// field that refers to a missing record). The cross-municipality roles name one, or none.
    pub fn municipality_for(&self, named: Option<i32>) -> Result<Option<i32>, AppError> {
        if !self.role.belongs_to_municipality() {
            return Ok(named);
        }
        match (self.municipality_id, named) {
            (Some(own), Some(named)) if named != own => {
                Err(AppError::invalid("municipality_id", format!("no municipality {named}")))
            }
            (Some(own), _) => Ok(Some(own)),
            (None, _) => Err(AppError::Forbidden("this account belongs to no municipality yet".into())),
        }
    }

    /// [`Self::municipality_for`] where a municipality is required.
    pub fn own_municipality(&self, named: Option<i32>) -> Result<i32, AppError> {
        self.municipality_for(named)?
            .ok_or_else(|| AppError::invalid("municipality_id", "name the municipality this belongs to"))
    }

    /// A municipality's admin grants the roles of its municipality only.
    pub fn may_grant(&self, role: Role) -> Result<(), AppError> {
        self.require(
            self.role == Role::SystemAdmin || role.belongs_to_municipality(),
            "grant the system_admin or analyst role",
        )
    }

    /// The caller resolved for this request by [`resolve_caller`], or why there is none.
    pub fn of_request(req: &HttpRequest) -> Result<Self, AppError> {
        match req.extensions().get::<Resolution>() {
            Some(Resolution(Ok(caller))) => Ok(caller.clone()),
            Some(Resolution(Err(rejection))) => Err(rejection.to_error()),
            None => Err(AppError::Internal("no caller was resolved: resolve_caller does not wrap this route".into())),
        }
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Self::of_request(req))
    }
}

/// The record the request's path names and whose it is, as [`resolve_caller`] resolved it for
/// [`tenancy::admit`]: what a handler receives as its `Resolved` id, so that the id a handler
/// works on is the one isolation looked at, read once.
#[derive(Debug, Clone, Copy)]
pub struct NamedRecord {
    /// `None` when the path names no record (or names it by something other than a whole number).
    pub resource: Option<OwnedResource>,
    /// As [`crate::db::ownership::municipality_of`] answers: `None` when the record does not exist.
    pub owner: Option<Option<i32>>,
}

/// The record the request reads, read by [`resolve_caller`] in the statement that read the caller
/// (see [`tenancy::indicator_read`]), once the caller was admitted to it: the handler's
/// `ReadAlready<T>` argument, `None` where the request's record was not read so.
#[derive(Debug)]
pub struct ReadAlready<T>(pub Option<T>);

/// A [`ReadAlready`] record as the request's extensions keep it until its handler takes it.
struct KeptRecord<T>(T);

impl<T: 'static> FromRequest for ReadAlready<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self(req.extensions_mut().remove::<KeptRecord<T>>().map(|kept| kept.0))))
    }
}

/// What [`resolve_caller`] found, kept in the request's extensions.
#[derive(Clone)]
struct Resolution(Result<Caller, Rejection>);

/// Why a request has no caller. `AppError` is not `Clone` (it may hold a diesel error), and a
/// request's extensions are read by reference, so the few kinds that can occur are kept here.
#[derive(Debug, Clone)]
enum Rejection {
    Unauthenticated(String),
    Forbidden(String),
    NotFound { entity: &'static str, id: String },
    Unavailable(String),
    Internal(String),
}

impl From<AppError> for Rejection {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unauthenticated(reason) => Self::Unauthenticated(reason),
            AppError::Forbidden(reason) => Self::Forbidden(reason),
            AppError::NotFound { entity, id } => Self::NotFound { entity, id },
            AppError::Unavailable(reason) => Self::Unavailable(reason),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl Rejection {
    fn to_error(&self) -> AppError {
        match self {
            Self::Unauthenticated(reason) => AppError::Unauthenticated(reason.clone()),
            Self::Forbidden(reason) => AppError::Forbidden(reason.clone()),
            Self::NotFound { entity, id } => AppError::NotFound { entity, id: id.clone() },
            Self::Unavailable(reason) => AppError::Unavailable(reason.clone()),
            Self::Internal(reason) => AppError::Internal(reason.clone()),
        }
    }
}

/// Middleware (`actix_web::middleware::from_fn`) for the `/api/v1` scope: verifies the bearer token
/// and looks its user up by primary key, on every request. Nothing is cached in the process, so
/// several server processes on one database all see a deactivation, a new role or department, or a
/// password change on the very next request. A request without a token goes on (login needs none);
/// the extractors answer 401 for it. In the same statement it reads whose the resource named by the
/// path is, for [`tenancy::admit`] to keep every caller to its own municipality (404 beyond it), and
/// the data versions, which it leaves in the extensions as a [`DataVersion`] for cached answers;
/// for `GET /indicators/{id}` also the indicator itself, handed to the handler as [`ReadAlready`]
/// once the caller is admitted (one round trip for the whole read on PostgreSQL).
pub async fn resolve_caller(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Borrowed, not cloned: routing further in needs the only reference to the request.
    let resolution = match authenticate(req.request()).await {
        Ok((caller, version, named)) => {
            req.extensions_mut().insert(version);
            req.extensions_mut().insert(named);
            Resolution(Ok(caller))
        }
        Err(error) => Resolution(Err(Rejection::from(error))),
    };
    req.extensions_mut().insert(resolution);
    next.call(req).await
}

/// Whose a verified bearer token is.
enum Verified {
    /// One of ours (`POST /auth/token`).
    Ours(Claims),
    /// An access token of a municipality's OpenID provider, for the account it maps to.
    Provider { user_id: i32 },
}

async fn authenticate(req: &HttpRequest) -> Result<(Caller, DataVersion, NamedRecord), AppError> {
    let tokens = req
        .app_data::<web::Data<TokenService>>()
        .ok_or_else(|| AppError::Internal("token service not configured".into()))?;
    let db =
        req.app_data::<web::Data<Database>>().ok_or_else(|| AppError::Internal("database not configured".into()))?;
    let token = bearer_token(req)?;
    let verified = match provider_token::claimed_issuer(token) {
        Some(issuer) if issuer != ISSUER => {
            Verified::Provider { user_id: provider_account(req, db, issuer, token).await? }
        }
        _ => Verified::Ours(tokens.verify(token)?),
    };
    let user_id: i32 = match &verified {
        Verified::Ours(claims) => {
            claims.sub.parse().map_err(|_| AppError::Unauthenticated("the token subject is not a user id".into()))?
        }
        Verified::Provider { user_id } => *user_id,
    };
    let request = RequestedRecord {
        resource: tenancy::owned_resource(req.path()),
        route: tenancy::route_kind(req.method(), req.path()),
        indicator_read: tenancy::indicator_read(req.method(), req.path()),
    };
    let (caller, version, named, indicator) =
        db.read(move |conn| resolve_and_admit(conn, &verified, user_id, request)).await?;
    if let Some(indicator) = indicator {
        req.extensions_mut().insert(KeptRecord(indicator));
    }
    Ok((caller, version, named))
}

/// What the request's path names, for [`resolve_and_admit`].
#[derive(Debug, Clone, Copy)]
struct RequestedRecord {
    resource: Option<OwnedResource>,
    route: tenancy::RouteKind,
    /// The indicator the request reads whole, read in the caller's statement.
    indicator_read: Option<IndicatorId>,
}

/// The caller of user `user_id`'s verified token as its account is stored now, admitted to the
/// request (or refused), in one statement with whose the named record is and the data versions;
/// with the indicator the request reads, once the caller may read it.
fn resolve_and_admit(
    conn: &mut DbConnection,
    verified: &Verified,
    user_id: i32,
    request: RequestedRecord,
) -> Result<(Caller, DataVersion, NamedRecord, Option<Indicator>), AppError> {
    let looked_up = match request.indicator_read {
        Some(id) => caller_context::lookup_reading_indicator(conn, user_id, id)?,
        None => caller_context::lookup(conn, user_id, request.resource)?.map(|context| (context, None)),
    };
    let Some((
        CallerContext { account, owner, installation_version, municipality_version, non_actual_version },
        stored_indicator,
    )) = looked_up
    else {
        return Err(AppError::Unauthenticated(format!("the user of this token no longer exists; {LOGIN_HINT}")));
    };
    let caller = match verified {
        Verified::Ours(claims) => caller_from_account(account, claims)?,
        Verified::Provider { .. } => caller_from_provider_account(account)?,
    };
    tenancy::admit(&caller, request.route, request.resource, owner)?;
    let indicator = stored_indicator.map(|stored| stored.into_indicator(conn)).transpose()?;
    let version = DataVersion {
        installation: installation_version,
        municipality: municipality_version,
        non_actual: non_actual_version,
    };
    Ok((caller, version, NamedRecord { resource: request.resource, owner }, indicator))
}

/// The account a provider's access token stands for: the token verified with the keys of the
/// provider registered for its issuer (another issuer: refused), then its identity linked,
/// pre-created or provisioned by the municipality's rules.
async fn provider_account(req: &HttpRequest, db: &Database, issuer: String, token: &str) -> Result<i32, AppError> {
    let keys = req
        .app_data::<web::Data<ProviderKeys>>()
        .ok_or_else(|| AppError::Internal("provider keys not configured".into()))?;
    let Some(provider) = db.read(move |conn| identity_providers::by_issuer(conn, &issuer)).await? else {
        return Err(AppError::Unauthenticated(format!("the token was issued by someone else; {LOGIN_HINT}")));
    };
    let claims = keys.verify(token, &provider).await?;
    let subject = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| AppError::Unauthenticated("the token's subject (sub) is not text".into()))?
        .to_owned();
    let (issuer, linked_subject) = (provider.issuer.clone(), subject.clone());
    if let Some(user_id) =
        db.read(move |conn| identity_providers::linked_account(conn, &issuer, &linked_subject)).await?
    {
        return Ok(user_id);
    }
    db.write(WriteScope::Municipality(provider.municipality_id), move |conn| {
        identity_providers::account_of(
            conn,
            &VouchedIdentity { provider: &provider, subject: &subject, claims: &claims },
        )
    })
    .await
}

pub(crate) fn bearer_token(req: &HttpRequest) -> Result<&str, AppError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        AppError::Unauthenticated("send Authorization: Bearer <token>; get one at POST /api/v1/auth/token".into())
    })?;
    let value =
        value.to_str().map_err(|_| AppError::Unauthenticated("the Authorization header is not valid text".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(AppError::Unauthenticated("the Authorization scheme must be Bearer".into())),
    }
}

/// The caller a verified token stands for, from its account as stored now: role and department
/// come from the account, never from the token.
pub fn caller_from_account(account: Account, claims: &Claims) -> Result<Caller, AppError> {
    if !account.active {
        return Err(AppError::Unauthenticated(
            "this account has been deactivated; an administrator can reactivate it".into(),
        ));
    }
    if account.token_version != claims.ver {
        return Err(AppError::Unauthenticated(format!(
            "the token was issued before the account's password was changed, the account was deactivated \
             or logged out; {LOGIN_HINT}"
        )));
    }
    Ok(Caller {
        user_id: account.id,
        username: account.username,
        role: account.role,
        department_id: account.department_id,
        municipality_id: account.municipality_id,
    })
}

/// The caller a provider's verified access token stands for: the account as stored now, refused
/// when deactivated here whatever the provider says. Our token versions do not apply to it.
fn caller_from_provider_account(account: Account) -> Result<Caller, AppError> {
    if !account.active {
        return Err(AppError::Unauthenticated(
            "このアカウントは無効化されています (this account has been deactivated; an administrator can reactivate it)"
                .into(),
        ));
    }
    Ok(Caller {
        user_id: account.id,
        username: account.username,
        role: account.role,
        department_id: account.department_id,
        municipality_id: account.municipality_id,
    })
}

/// A caller's writes are recorded as its own; `db::audit` knows actors, not callers.
impl Caller {
    /// Whose data the caller's writes change: its municipality's, or the installation's for the
    /// roles of none.
    pub fn write_scope(&self) -> WriteScope {
        self.municipality_id.map_or(WriteScope::Installation, WriteScope::Municipality)
    }

    /// [`Self::write_scope`] of a write of actuals only (submissions and their reviews), which
    /// leaves the rest of the plans' records as they were.
    pub fn actuals_write_scope(&self) -> WriteScope {
        self.municipality_id.map_or(WriteScope::Installation, WriteScope::MunicipalityActuals)
    }
}

impl From<&Caller> for Actor {
    fn from(caller: &Caller) -> Self {
        Self {
            user_id: Some(caller.user_id),
            username: caller.username.clone(),
            municipality_id: caller.municipality_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(ver: i32) -> Claims {
        Claims {
            sub: "7".into(),
            username: "koseki".into(),
            role: Role::Hq,
            department_id: None,
            iat: 0,
            nbf: None,
            exp: 0,
            iss: String::new(),
            aud: String::new(),
            ver,
            idp: None,
        }
    }

    fn account() -> Account {
        Account {
            id: 7,
            username: "koseki".into(),
            role: Role::Department,
            department_id: Some(4),
            municipality_id: Some(1),
            active: true,
            token_version: 1,
        }
    }

    fn reason(result: Result<Caller, AppError>) -> String {
        match result {
            Err(AppError::Unauthenticated(reason)) => reason,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    #[test]
    fn role_and_department_come_from_the_account_not_the_token() {
        let caller = caller_from_account(account(), &claims(1)).unwrap();
        assert_eq!((caller.role, caller.department_id), (Role::Department, Some(4)));
    }

    #[test]
    fn new_records_go_to_the_callers_own_municipality_and_another_reads_as_none() {
        let caller = caller_from_account(account(), &claims(1)).unwrap();
        assert_eq!(caller.municipality_for(None).unwrap(), Some(1));
        assert_eq!(caller.municipality_for(Some(1)).unwrap(), Some(1));
        match caller.municipality_for(Some(2)) {
            Err(AppError::Validation(errors)) => {
                assert_eq!(
                    (errors[0].field.as_str(), errors[0].message.as_str()),
                    ("municipality_id", "no municipality 2")
                )
            }
            other => panic!("another municipality must read as none: {other:?}"),
        }
        let system = Caller { role: Role::SystemAdmin, municipality_id: None, ..caller.clone() };
        assert_eq!(system.municipality_for(Some(2)).unwrap(), Some(2));
        assert!(caller.may_grant(Role::Analyst).is_err() && system.may_grant(Role::Analyst).is_ok());
    }

    #[test]
    fn a_deactivated_or_outdated_account_is_unauthenticated() {
        let inactive = Account { active: false, ..account() };
        assert!(reason(caller_from_account(inactive, &claims(1))).contains("deactivated"));
        assert!(reason(caller_from_account(account(), &claims(0))).contains("password"));
    }
}
