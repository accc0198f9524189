//! The web view's logins through a municipality's OpenID provider: logins begun and not yet
//! finished, the one-time tickets that hand a finished login to the web view, and logout. Secrets
//! (state, ticket) are stored as hashes only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::identity_providers::{self, IdentityProvider};
use super::schema::{identity_providers as providers, municipalities, oidc_login_attempts, oidc_login_tickets, users};
use super::users::{Account, AccountRow};
use crate::domain::identity_provider::{LoginFailure, attempt_problem, ticket_usable};
use crate::error::AppError;

/// A municipality whose provider the web view can log in through: a provider with a client
/// secret (the code exchange needs one).
pub struct WebLoginProvider {
    pub municipality_code: String,
    pub municipality_name: String,
    pub provider: IdentityProvider,
}

/// Every municipality the web view can log in through its provider, by municipality code.
pub fn web_login_providers(conn: &mut DbConnection) -> Result<Vec<WebLoginProvider>, AppError> {
    let names: Vec<(i32, String, String)> = providers::table
        .inner_join(municipalities::table)
        .filter(providers::client_secret.ne(""))
        .order(municipalities::code)
        .select((municipalities::id, municipalities::code, municipalities::name))
        .load(conn)?;
    let mut found = Vec::with_capacity(names.len());
    for (municipality_id, municipality_code, municipality_name) in names {
        if let Some(provider) = identity_providers::of_municipality(conn, municipality_id)? {
            found.push(WebLoginProvider { municipality_code, municipality_name, provider });
        }
    }
    Ok(found)
}

/// The provider of the municipality with code `code`, when the web view can log in through it.
pub fn web_login_provider(conn: &mut DbConnection, code: &str) -> Result<Option<IdentityProvider>, AppError> {
    let found: Option<i32> = providers::table
        .inner_join(municipalities::table)
        .filter(municipalities::code.eq(code))
        .filter(providers::client_secret.ne(""))
        .select(municipalities::id)
        .first(conn)
        .optional()?;
    match found {
        Some(municipality_id) => identity_providers::of_municipality(conn, municipality_id),
        None => Ok(None),
    }
}

/// The client secret of the municipality's provider, for the code exchange only.
pub fn client_secret(conn: &mut DbConnection, municipality_id: i32) -> Result<String, AppError> {
    Ok(providers::table
        .filter(providers::municipality_id.eq(municipality_id))
        .select(providers::client_secret)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// The municipality a begun login is for, by the hash of its state.
pub fn attempt_municipality(conn: &mut DbConnection, state_hash: &str) -> Result<Option<i32>, AppError> {
    Ok(oidc_login_attempts::table
        .filter(oidc_login_attempts::state_hash.eq(state_hash))
        .select(oidc_login_attempts::municipality_id)
        .first(conn)
        .optional()?)
}

/// The municipality of a ticket's account, by the hash of the ticket.
pub fn ticket_municipality(conn: &mut DbConnection, ticket_hash: &str) -> Result<Option<i32>, AppError> {
    Ok(oidc_login_tickets::table
        .inner_join(users::table)
        .filter(oidc_login_tickets::ticket_hash.eq(ticket_hash))
        .select(users::municipality_id)
        .first::<Option<i32>>(conn)
        .optional()?
        .flatten())
}

/// A login begun at the provider.
pub struct NewAttempt<'a> {
    pub state_hash: &'a str,
    pub municipality_id: i32,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
    pub redirect_uri: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Keeps a begun login; logins and tickets past their time go, so that neither table grows.
pub fn begin(conn: &mut DbConnection, attempt: &NewAttempt<'_>) -> Result<(), AppError> {
    diesel::delete(oidc_login_attempts::table.filter(oidc_login_attempts::expires_at.lt(attempt.created_at)))
        .execute(conn)?;
    diesel::delete(oidc_login_tickets::table.filter(oidc_login_tickets::expires_at.lt(attempt.created_at)))
        .execute(conn)?;
    diesel::insert_into(oidc_login_attempts::table)
        .values((
            oidc_login_attempts::state_hash.eq(attempt.state_hash),
            oidc_login_attempts::municipality_id.eq(attempt.municipality_id),
            oidc_login_attempts::pkce_verifier.eq(attempt.pkce_verifier),
            oidc_login_attempts::nonce.eq(attempt.nonce),
            oidc_login_attempts::redirect_uri.eq(attempt.redirect_uri),
            oidc_login_attempts::created_at.eq(attempt.created_at),
            oidc_login_attempts::expires_at.eq(attempt.expires_at),
            oidc_login_attempts::used.eq(false),
        ))
        .execute(conn)?;
    Ok(())
}

/// A begun login, taken to be finished: what the code exchange needs.
#[derive(Queryable)]
pub struct PendingLogin {
    pub municipality_id: i32,
    pub pkce_verifier: String,
    pub nonce: String,
    pub redirect_uri: String,
    pub expires_at: NaiveDateTime,
    pub used: bool,
}

/// Takes the login whose state hashes to `state_hash`: once only (a second take, also a
/// concurrent one, finds it used), and before it expires.
pub fn take_attempt(
    conn: &mut DbConnection,
    state_hash: &str,
    now: NaiveDateTime,
) -> Result<Result<PendingLogin, LoginFailure>, AppError> {
    let row = oidc_login_attempts::table.filter(oidc_login_attempts::state_hash.eq(state_hash));
    let Some(attempt) = row
        .select((
            oidc_login_attempts::municipality_id,
            oidc_login_attempts::pkce_verifier,
            oidc_login_attempts::nonce,
            oidc_login_attempts::redirect_uri,
            oidc_login_attempts::expires_at,
            oidc_login_attempts::used,
        ))
        .first::<PendingLogin>(conn)
        .optional()?
    else {
        return Ok(Err(LoginFailure::State));
    };
    if let Some(failure) = attempt_problem(attempt.used, attempt.expires_at, now) {
        return Ok(Err(failure));
    }
    let taken = diesel::update(row.filter(oidc_login_attempts::used.eq(false)))
        .set(oidc_login_attempts::used.eq(true))
        .execute(conn)?;
    Ok(if taken == 1 { Ok(attempt) } else { Err(LoginFailure::State) })
}

/// Keeps a ticket for the account `user_id`, logged in through the provider `issuer`.
pub fn issue_ticket(
    conn: &mut DbConnection,
    ticket_hash: &str,
    user_id: i32,
    issuer: &str,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::insert_into(oidc_login_tickets::table)
        .values((
            oidc_login_tickets::ticket_hash.eq(ticket_hash),
            oidc_login_tickets::user_id.eq(user_id),
            oidc_login_tickets::issuer.eq(issuer),
            oidc_login_tickets::expires_at.eq(expires_at),
            oidc_login_tickets::used.eq(false),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account and provider issuer of the ticket hashing to `ticket_hash`, using it up; `None`
/// when it is unknown, used, expired or its account deactivated meanwhile.
pub fn redeem_ticket(
    conn: &mut DbConnection,
    ticket_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(Account, String)>, AppError> {
    let row = oidc_login_tickets::table.filter(oidc_login_tickets::ticket_hash.eq(ticket_hash));
    let found: Option<(String, NaiveDateTime, bool, AccountRow)> = row
        .inner_join(users::table)
        .select((
            oidc_login_tickets::issuer,
            oidc_login_tickets::expires_at,
            oidc_login_tickets::used,
            AccountRow::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((issuer, expires_at, used, account)) = found else { return Ok(None) };
    if !ticket_usable(used, expires_at, now) {
        return Ok(None);
    }
    let taken = diesel::update(row.filter(oidc_login_tickets::used.eq(false)))
        .set(oidc_login_tickets::used.eq(true))
        .execute(conn)?;
    let account = account.into_account()?;
    Ok((taken == 1 && account.active).then_some((account, issuer)))
}

/// Ends every session of the account: tokens issued before carry an older token version and are
/// refused from the next request on, on every server process.
pub fn end_sessions(conn: &mut DbConnection, user_id: i32) -> Result<(), AppError> {
    diesel::update(users::table.find(user_id)).set(users::token_version.eq(users::token_version + 1)).execute(conn)?;
    Ok(())
}
