//! A municipality's OpenID provider settings, and the provider identities linked to accounts. The
//! client secret is written here and read only by the login flow: never returned or audited.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::schema::{departments, external_identities, identity_providers, users};
use super::users::{self as accounts, NewUser};
use crate::domain::identity_provider::{self, Admission, ClaimMapping, Found, Provisioning};
use crate::domain::limits::MAX_CODE_CHARS;
use crate::error::AppError;

/// A provider's settings as shown: everything but the client secret, of which only whether one is
/// set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IdentityProvider {
    pub municipality_id: i32,
    #[schema(example = "https://login.city.example.lg.jp/realms/staff")]
    pub issuer: String,
    pub client_id: String,
    pub client_secret_set: bool,
    /// The `aud` the provider's access tokens carry for this API.
    pub audience: String,
    pub provisioning: Provisioning,
    pub local_passwords_allowed: bool,
    /// The claim whose value is the account's username (`preferred_username` by default).
    pub username_claim: String,
    /// Tried in order; the first that matches decides the role and department.
    pub claim_mappings: Vec<ClaimMapping>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub updated_at: NaiveDateTime,
}

/// What an administrator sets.
pub struct ProviderSettings {
    pub issuer: String,
    pub client_id: String,
    /// `None` keeps the stored secret.
    pub client_secret: Option<String>,
    pub audience: String,
    pub provisioning: Provisioning,
    pub local_passwords_allowed: bool,
    pub username_claim: String,
    pub claim_mappings: Vec<ClaimMapping>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = identity_providers)]
struct ProviderRow {
    municipality_id: i32,
    issuer: String,
    client_id: String,
    client_secret: String,
    audience: String,
    provisioning: String,
    local_passwords_allowed: bool,
    claim_mappings: String,
    username_claim: String,
    updated_at: NaiveDateTime,
}

impl ProviderRow {
    fn into_provider(self) -> Result<IdentityProvider, AppError> {
        let provisioning = match self.provisioning.as_str() {
            "auto" => Provisioning::Auto,
            "pre_created" => Provisioning::PreCreated,
            other => return Err(AppError::Internal(format!("unknown provisioning mode {other}"))),
        };
        let claim_mappings = serde_json::from_str(&self.claim_mappings)
            .map_err(|e| AppError::Internal(format!("stored claim mappings unreadable: {e}")))?;
        Ok(IdentityProvider {
            municipality_id: self.municipality_id,
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret_set: !self.client_secret.is_empty(),
            audience: self.audience,
            provisioning,
            local_passwords_allowed: self.local_passwords_allowed,
            username_claim: self.username_claim,
            claim_mappings,
            updated_at: self.updated_at,
        })
    }
}

fn provisioning_text(provisioning: Provisioning) -> &'static str {
    match provisioning {
        Provisioning::Auto => "auto",
        Provisioning::PreCreated => "pre_created",
    }
}

pub fn of_municipality(conn: &mut DbConnection, municipality_id: i32) -> Result<Option<IdentityProvider>, AppError> {
    identity_providers::table
        .filter(identity_providers::municipality_id.eq(municipality_id))
        .select(ProviderRow::as_select())
        .first(conn)
        .optional()?
        .map(ProviderRow::into_provider)
        .transpose()
}

pub fn by_issuer(conn: &mut DbConnection, issuer: &str) -> Result<Option<IdentityProvider>, AppError> {
    identity_providers::table
        .filter(identity_providers::issuer.eq(issuer))
        .select(ProviderRow::as_select())
        .first(conn)
        .optional()?
        .map(ProviderRow::into_provider)
        .transpose()
}

/// Every registered provider's issuer (a token naming another is refused before any fetch).
pub fn list(conn: &mut DbConnection) -> Result<Vec<IdentityProvider>, AppError> {
    identity_providers::table
        .order(identity_providers::municipality_id)
        .select(ProviderRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ProviderRow::into_provider)
        .collect()
}

/// Whether the municipality's users may log in with a local password (yes without a provider).
pub fn local_passwords_allowed(conn: &mut DbConnection, municipality_id: i32) -> Result<bool, AppError> {
    Ok(identity_providers::table
        .filter(identity_providers::municipality_id.eq(municipality_id))
        .select(identity_providers::local_passwords_allowed)
        .first(conn)
        .optional()?
        .unwrap_or(true))
}

/// Sets the municipality's provider, audited (old and new, without the secret).
pub fn put(
    conn: &mut DbConnection,
    actor: &Actor,
    municipality_id: i32,
    settings: ProviderSettings,
) -> Result<IdentityProvider, AppError> {
    if let Some(problem) = identity_provider::mapping_problem(&settings.claim_mappings) {
        return Err(AppError::invalid("claim_mappings", problem));
    }
    for (index, department_id) in
        settings.claim_mappings.iter().enumerate().filter_map(|(i, m)| Some((i, m.department_id?)))
    {
        let own: i64 = departments::table
            .filter(departments::id.eq(department_id))
            .filter(departments::municipality_id.eq(municipality_id))
            .count()
            .get_result(conn)?;
        if own == 0 {
            return Err(AppError::invalid(
                format!("claim_mappings[{index}].department_id"),
                format!("no department {department_id}"),
            ));
        }
    }
    let taken: i64 = identity_providers::table
        .filter(identity_providers::issuer.eq(&settings.issuer))
        .filter(identity_providers::municipality_id.ne(municipality_id))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(AppError::duplicate("issuer", "an identity provider", &settings.issuer));
    }
    let old = of_municipality(conn, municipality_id)?;
    let mappings = serde_json::to_string(&settings.claim_mappings).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = audit::now();
    let values = (
        identity_providers::issuer.eq(&settings.issuer),
        identity_providers::client_id.eq(&settings.client_id),
        identity_providers::audience.eq(&settings.audience),
        identity_providers::provisioning.eq(provisioning_text(settings.provisioning)),
        identity_providers::local_passwords_allowed.eq(settings.local_passwords_allowed),
        identity_providers::claim_mappings.eq(&mappings),
        identity_providers::username_claim.eq(&settings.username_claim),
        identity_providers::updated_at.eq(now),
    );
    let row = identity_providers::table.filter(identity_providers::municipality_id.eq(municipality_id));
    if old.is_some() {
        diesel::update(row).set(values).execute(conn)?;
    } else {
        diesel::insert_into(identity_providers::table)
            .values((identity_providers::municipality_id.eq(municipality_id), values))
            .execute(conn)?;
    }
    if let Some(secret) = &settings.client_secret {
        diesel::update(row).set(identity_providers::client_secret.eq(secret)).execute(conn)?;
    }
    let new = of_municipality(conn, municipality_id)?
        .ok_or_else(|| AppError::Internal("the identity provider just written is missing".into()))?;
    let change = match &old {
        Some(old) => Change::updated("identity_provider", municipality_id, old, &new),
        None => Change::created("identity_provider", municipality_id, &new),
    };
    audit::record(conn, actor, change.in_municipality(Some(municipality_id)))?;
    Ok(new)
}

/// The identity a provider vouched for in a verified token.
pub struct VouchedIdentity<'a> {
    pub provider: &'a IdentityProvider,
    pub subject: &'a str,
    pub claims: &'a serde_json::Value,
}

/// The account of a vouched identity: linked, pre-created, or provisioned now (audited, with the
/// provider as the actor), or why it is refused (401 with the reason).
pub fn account_of(conn: &mut DbConnection, identity: &VouchedIdentity<'_>) -> Result<i32, AppError> {
    let provider = identity.provider;
    let username = identity
        .claims
        .get(&provider.username_claim)
        .and_then(serde_json::Value::as_str)
        .unwrap_or(identity.subject)
        .to_owned();
    let found = find(conn, provider, identity.subject, &username)?;
    let mapped = identity_provider::map_claims(&provider.claim_mappings, identity.claims);
    let actor = Actor {
        user_id: None,
        username: format!("openid:{}", provider.issuer),
        municipality_id: Some(provider.municipality_id),
    };
    match identity_provider::admit(found, provider.provisioning, mapped) {
        Admission::Refuse(reason) => Err(AppError::Unauthenticated(reason)),
        Admission::Existing { user_id, link: false } => Ok(user_id),
        Admission::Existing { user_id, link: true } => {
            link(conn, &actor, &provider.issuer, identity.subject, user_id)?;
            Ok(user_id)
        }
        Admission::Provision(mapped) => {
            if username.is_empty() || username.chars().count() > MAX_CODE_CHARS {
                return Err(AppError::Unauthenticated(format!(
                    "認証基盤のユーザー名 ({}) が空か長すぎます (the username claim must be 1 to {MAX_CODE_CHARS} characters)",
                    provider.username_claim
                )));
            }
            let user = accounts::create(
                conn,
                &actor,
                &NewUser {
                    username: &username,
                    display_name: &username,
                    // No password: such an account logs in through its provider only.
                    password_hash: "!",
                    role: mapped.role,
                    department_id: mapped.department_id,
                    municipality_id: Some(provider.municipality_id),
                    // Reminders go to an address an admin set here, not to one a token asserts.
                    email: None,
                },
            )?;
            link(conn, &actor, &provider.issuer, identity.subject, user.id)?;
            Ok(user.id)
        }
    }
}

/// The account linked to a provider identity, if any.
pub fn linked_account(conn: &mut DbConnection, issuer: &str, subject: &str) -> Result<Option<i32>, AppError> {
    Ok(external_identities::table
        .filter(external_identities::issuer.eq(issuer))
        .filter(external_identities::subject.eq(subject))
        .select(external_identities::user_id)
        .first(conn)
        .optional()?)
}

fn find(
    conn: &mut DbConnection,
    provider: &IdentityProvider,
    subject: &str,
    username: &str,
) -> Result<Found, AppError> {
    let linked: Option<(i32, bool)> = external_identities::table
        .inner_join(users::table)
        .filter(external_identities::issuer.eq(&provider.issuer))
        .filter(external_identities::subject.eq(subject))
        .select((users::id, users::active))
        .first(conn)
        .optional()?;
    if let Some((user_id, active)) = linked {
        return Ok(Found::Linked { user_id, active });
    }
    let named: Option<(i32, bool)> = users::table
        .filter(users::municipality_id.eq(provider.municipality_id))
        .filter(users::username.eq(username))
        .select((users::id, users::active))
        .first(conn)
        .optional()?;
    Ok(named.map_or(Found::None, |(user_id, active)| Found::SameUsername { user_id, active }))
}

fn link(conn: &mut DbConnection, actor: &Actor, issuer: &str, subject: &str, user_id: i32) -> Result<(), AppError> {
    diesel::insert_into(external_identities::table)
        .values((
            external_identities::user_id.eq(user_id),
            external_identities::issuer.eq(issuer),
            external_identities::subject.eq(subject),
            external_identities::created_at.eq(audit::now()),
        ))
        .execute(conn)?;
    // The link is part of the account's history: whom it stands for at the provider.
    let linked = serde_json::json!({"issuer": issuer, "subject": subject});
    audit::record(
        conn,
        actor,
        Change::created("external_identity", user_id, &linked).in_municipality(actor.municipality_id),
    )
}
