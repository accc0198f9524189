//! A municipality's OpenID provider (庁内の認証基盤) and the rules for the identities it vouches for:
//! which of its access tokens are acceptable at all, how the provider's claims map to a role and
//! department here, whether an identity seen for the first time gets an account, and whether the
//! municipality's users may still log in with a local password.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::role::Role;

/// The signature algorithms accepted on a provider's access tokens (RFC 8725 §3.1: an explicit
/// list, asymmetric only, so that no shared secret or `none` is ever accepted).
pub const ACCEPTED_ALGORITHMS: [&str; 2] = ["RS256", "ES256"];
/// The `typ` header of a JWT access token (RFC 9068 §2.1); `application/at+jwt` is the same type.
pub const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];
/// At most this many claim mappings per provider; the first that matches decides.
pub const MAX_CLAIM_MAPPINGS: usize = 50;

/// What happens when the provider vouches for an identity that has no account here yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provisioning {
    /// An account is created on first use, with the role and department of the first matching
    /// claim mapping (no mapping matches: refused).
    Auto,
    /// Only an account an administrator created beforehand, whose username equals the identity's
    /// username claim, is used (and linked to the identity on first use); anyone else is refused.
    PreCreated,
}

/// "Who has claim `claim` equal to (or, for a list such as `groups`, containing) `value` is a
/// `role`, of department `department_id` when the role needs one."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    #[schema(example = "groups", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub claim: String,
    #[schema(example = "kikaku", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub value: String,
    pub role: Role,
    #[serde(default)]
    pub department_id: Option<i32>,
}

impl ClaimMapping {
    fn matches(&self, claims: &serde_json::Value) -> bool {
        match claims.get(&self.claim) {
            Some(serde_json::Value::String(text)) => *text == self.value,
            Some(serde_json::Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(&self.value)),
            _ => false,
        }
    }
}

/// The role and department an identity gets here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    pub role: Role,
    pub department_id: Option<i32>,
}

/// The first mapping, in the order the administrator listed them, that the claims match. First
/// match rather than "most privileged": the administrator orders the list and can read off it which
/// rule applies, as with a firewall's rules.
pub fn map_claims(mappings: &[ClaimMapping], claims: &serde_json::Value) -> Option<Mapped> {
    mappings
        .iter()
        .find(|mapping| mapping.matches(claims))
        .map(|mapping| Mapped { role: mapping.role, department_id: mapping.department_id })
}

/// Why a mapping list cannot be stored; `None` when it can.
pub fn mapping_problem(mappings: &[ClaimMapping]) -> Option<String> {
    if mappings.len() > MAX_CLAIM_MAPPINGS {
        return Some(format!("対応付けは{MAX_CLAIM_MAPPINGS}件までです (at most {MAX_CLAIM_MAPPINGS} claim mappings)"));
    }
    mappings.iter().enumerate().find_map(|(index, mapping)| {
        if !mapping.role.belongs_to_municipality() {
            Some(format!(
                "{}番目: 自治体に属さないロール {} は割り当てられません (mapping {index} grants a role of no municipality)",
                index + 1,
                mapping.role.as_str()
            ))
        } else if mapping.role.needs_department() != mapping.department_id.is_some() {
            Some(format!(
                "{}番目: 所管課ロールには課を、それ以外には課を指定しないでください (mapping {index}: a department user needs a department, other roles none)",
                index + 1
            ))
        } else {
            None
        }
    })
}

/// What to do with an identity the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The linked (or same-named pre-created) account `user_id`.
    Existing { user_id: i32, link: bool },
    /// Create an account with this role and department, and link it.
    Provision(Mapped),
    /// Refused, with the reason shown to the caller.
    Refuse(String),
}

/// An account found for an identity: through its link, or by username among the municipality's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Linked { user_id: i32, active: bool },
    SameUsername { user_id: i32, active: bool },
    None,
}

/// Decides on an identity. A deactivated account here is refused whatever the provider says.
pub fn admit(found: Found, provisioning: Provisioning, mapped: Option<Mapped>) -> Admission {
    let (user_id, active, link) = match found {
        Found::Linked { user_id, active } => (user_id, active, false),
        Found::SameUsername { user_id, active } => (user_id, active, true),
        Found::None => {
            return match (provisioning, mapped) {
                (Provisioning::Auto, Some(mapped)) => Admission::Provision(mapped),
                (Provisioning::Auto, None) => Admission::Refuse(
                    "認証基盤の属性がどの対応付けにも当てはまりません。管理者に連絡してください \
                     (no claim mapping matches this identity)"
                        .into(),
                ),
                (Provisioning::PreCreated, _) => Admission::Refuse(
                    "このアカウントは登録されていません。管理者に事前登録を依頼してください \
                     (accounts must be created beforehand by an administrator)"
                        .into(),
                ),
            };
        }
    };
    if active {
        Admission::Existing { user_id, link }
    } else {
        Admission::Refuse("このアカウントは無効化されています (this account has been deactivated)".into())
    }
}

/// Whether a user may log in with a local password. A municipality that switched local passwords
/// off has its users log in through its provider only; the system administrator and analysts
/// belong to no municipality and keep their passwords: the system administrator is the break-glass
/// who can switch local passwords back on when the provider is down.
pub fn password_login_allowed(role: Role, local_passwords_allowed: bool) -> bool {
    !role.belongs_to_municipality() || local_passwords_allowed
}

/// Whether a provider's token (access or ID token) is signed with an algorithm this API accepts.
pub fn algorithm_problem(alg: &str) -> Option<&'static str> {
    (!ACCEPTED_ALGORITHMS.contains(&alg)).then_some("the token uses a disallowed algorithm (RS256 or ES256 only)")
}

/// Whether a provider token's header is one this API accepts (RFC 8725, RFC 9068).
pub fn header_problem(alg: &str, typ: Option<&str>) -> Option<&'static str> {
    if let Some(problem) = algorithm_problem(alg) {
        return Some(problem);
    }
    match typ {
        Some(typ) if ACCESS_TOKEN_TYPES.iter().any(|accepted| typ.eq_ignore_ascii_case(accepted)) => None,
        _ => Some("the token is not an access token (its typ must be at+jwt, RFC 9068)"),
    }
}

/// How long a login begun at the provider may take to come back (the clerk types a password there).
pub const LOGIN_ATTEMPT_SECONDS: i64 = 10 * 60;
/// How long the one-time ticket the callback hands the web view stays exchangeable: the web view
/// exchanges it as soon as it loads.
pub const LOGIN_TICKET_SECONDS: i64 = 60;

/// Why a login through the provider ended without an account, as the short code the callback puts
/// in the web view's address (`/?login_error=CODE`); the login screen explains each in Japanese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// The provider answered with an error (the clerk cancelled, or the provider refused).
    Provider,
    /// The state is unknown or was already used (a reload, a replay, another browser's link).
    State,
    /// The login took longer than [`LOGIN_ATTEMPT_SECONDS`].
    Expired,
    /// The provider's answer did not verify (code exchange, ID token, nonce).
    Verification,
    /// The identity has no usable account here (deactivated, not pre-created, no mapping).
    Refused,
    /// The provider could not be reached.
    Unavailable,
}

impl LoginFailure {
    pub fn code(self) -> &'static str {
        match self {
            Self::Provider => "provider_error",
            Self::State => "invalid_state",
            Self::Expired => "expired",
            Self::Verification => "verification_failed",
            Self::Refused => "account_refused",
            Self::Unavailable => "provider_unavailable",
        }
    }
}

/// Whether a pending login may be finished now: once, and before it expires.
pub fn attempt_problem(used: bool, expires_at: NaiveDateTime, now: NaiveDateTime) -> Option<LoginFailure> {
    if used {
        Some(LoginFailure::State)
    } else if now >= expires_at {
        Some(LoginFailure::Expired)
    } else {
        None
    }
}

/// Whether a one-time login ticket may be exchanged now: once, and before it expires.
pub fn ticket_usable(used: bool, expires_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    !used && now < expires_at
}

/// Whether an ID token is meant for this client beyond its `aud` containing the client id (OpenID
/// Connect Core §3.1.3.7 items 4 and 5): with several audiences, its authorized party (`azp`) must
/// be named and be this client; a named `azp` must always be this client.
pub fn authorized_party_problem(claims: &serde_json::Value, client_id: &str) -> Option<&'static str> {
    let several_audiences = claims.get("aud").and_then(serde_json::Value::as_array).is_some_and(|aud| aud.len() > 1);
    match claims.get("azp").map(serde_json::Value::as_str) {
        Some(Some(azp)) if azp == client_id => None,
        Some(_) => Some("the ID token was issued to another client (azp)"),
        None if several_audiences => Some("the ID token names several audiences but no authorized party (azp)"),
        None => None,
    }
}

/// The label of a municipality's login button on the web view's login screen.
pub fn login_button_label(municipality_name: &str) -> String {
    format!("{municipality_name}職員アカウントでログイン")
}

/// The claims the web view's login asks the provider to put in the ID token: the username claim
/// and every claim a mapping reads, each once, in the order first named.
pub fn requested_claims(username_claim: &str, mappings: &[ClaimMapping]) -> Vec<String> {
    let mut claims = vec![username_claim.to_owned()];
    for mapping in mappings {
        if !claims.contains(&mapping.claim) {
            claims.push(mapping.claim.clone());
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(claim: &str, value: &str, role: Role, department_id: Option<i32>) -> ClaimMapping {
        ClaimMapping { claim: claim.into(), value: value.into(), role, department_id }
    }

    #[test]
    fn the_first_matching_mapping_decides_for_strings_and_lists() {
        let mappings = [
            mapping("groups", "kikaku", Role::Hq, None),
            mapping("groups", "all-staff", Role::Viewer, None),
            mapping("department", "kosodate", Role::Department, Some(4)),
        ];
        let both = json!({"groups": ["all-staff", "kikaku"]});
        assert_eq!(map_claims(&mappings, &both), Some(Mapped { role: Role::Hq, department_id: None }));
        let staff = json!({"groups": ["all-staff"], "department": "kosodate"});
        assert_eq!(map_claims(&mappings, &staff).map(|m| m.role), Some(Role::Viewer));
        let single = json!({"department": "kosodate"});
        assert_eq!(map_claims(&mappings, &single), Some(Mapped { role: Role::Department, department_id: Some(4) }));
        assert_eq!(map_claims(&mappings, &json!({"groups": "kikakux", "department": 4})), None);
    }

    #[test]
    fn mappings_grant_roles_of_the_municipality_with_departments_where_needed() {
        assert!(mapping_problem(&[mapping("g", "x", Role::Hq, None)]).is_none());
        assert!(mapping_problem(&[mapping("g", "x", Role::SystemAdmin, None)]).unwrap().contains("1番目"));
        assert!(
            mapping_problem(&[mapping("g", "x", Role::Viewer, None), mapping("g", "y", Role::Department, None)])
                .unwrap()
                .contains("2番目")
        );
        assert!(mapping_problem(&[mapping("g", "x", Role::Hq, Some(1))]).is_some());
        let many = vec![mapping("g", "x", Role::Hq, None); MAX_CLAIM_MAPPINGS + 1];
        assert!(mapping_problem(&many).is_some());
    }

    #[test]
    fn unknown_identities_are_provisioned_only_in_auto_mode_with_a_mapping() {
        let mapped = Mapped { role: Role::Viewer, department_id: None };
        let viewer = Some(mapped);
        assert_eq!(admit(Found::None, Provisioning::Auto, viewer), Admission::Provision(mapped));
        assert!(matches!(admit(Found::None, Provisioning::Auto, None), Admission::Refuse(r) if r.contains("対応付け")));
        assert!(
            matches!(admit(Found::None, Provisioning::PreCreated, viewer), Admission::Refuse(r) if r.contains("事前登録"))
        );
    }

    #[test]
    fn known_accounts_are_used_and_linked_unless_deactivated() {
        let linked = Found::Linked { user_id: 3, active: true };
        assert_eq!(admit(linked, Provisioning::PreCreated, None), Admission::Existing { user_id: 3, link: false });
        let named = Found::SameUsername { user_id: 5, active: true };
        assert_eq!(admit(named, Provisioning::Auto, None), Admission::Existing { user_id: 5, link: true });
        for inactive in [Found::Linked { user_id: 3, active: false }, Found::SameUsername { user_id: 5, active: false }]
        {
            assert!(matches!(admit(inactive, Provisioning::Auto, None), Admission::Refuse(r) if r.contains("無効")));
        }
    }

    #[test]
    fn local_passwords_switched_off_bind_the_municipalitys_users_only() {
        assert!(password_login_allowed(Role::Hq, true));
        for role in [Role::Admin, Role::Hq, Role::Department, Role::Viewer] {
            assert!(!password_login_allowed(role, false), "{role:?}");
        }
        assert!(password_login_allowed(Role::SystemAdmin, false));
        assert!(password_login_allowed(Role::Analyst, false));
    }

    #[test]
    fn only_asymmetric_access_tokens_are_accepted() {
        assert_eq!(header_problem("RS256", Some("at+jwt")), None);
        assert_eq!(header_problem("ES256", Some("application/at+JWT")), None);
        for alg in ["HS256", "none", "RS512", "PS256"] {
            assert!(header_problem(alg, Some("at+jwt")).unwrap().contains("algorithm"), "{alg}");
        }
        assert!(header_problem("RS256", Some("JWT")).unwrap().contains("at+jwt"));
        assert!(header_problem("RS256", None).is_some());
    }

    fn at(minute: u32, second: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap().and_hms_opt(9, minute, second).unwrap()
    }

    #[test]
    fn a_pending_login_is_finished_once_and_before_it_expires() {
        let expires = at(10, 0);
        assert_eq!(attempt_problem(false, expires, at(9, 59)), None);
        assert_eq!(attempt_problem(false, expires, at(10, 0)), Some(LoginFailure::Expired));
        assert_eq!(attempt_problem(true, expires, at(0, 0)), Some(LoginFailure::State));
        assert_eq!(LoginFailure::State.code(), "invalid_state");
    }

    #[test]
    fn a_ticket_is_exchanged_once_and_before_it_expires() {
        assert!(ticket_usable(false, at(1, 0), at(0, 59)));
        assert!(!ticket_usable(false, at(1, 0), at(1, 0)));
        assert!(!ticket_usable(true, at(1, 0), at(0, 0)));
    }

    #[test]
    fn the_id_token_asks_for_the_username_and_each_mapped_claim_once() {
        let mappings = [
            mapping("groups", "kikaku", Role::Hq, None),
            mapping("department", "x", Role::Viewer, None),
            mapping("groups", "all-staff", Role::Viewer, None),
        ];
        assert_eq!(requested_claims("preferred_username", &mappings), ["preferred_username", "groups", "department"]);
        assert_eq!(login_button_label("板橋区"), "板橋区職員アカウントでログイン");
    }

    #[test]
    fn an_id_token_for_several_audiences_must_name_this_client_as_its_authorized_party() {
        assert_eq!(authorized_party_problem(&json!({"aud": "kpi-web"}), "kpi-web"), None);
        assert_eq!(authorized_party_problem(&json!({"aud": ["kpi-web", "other"], "azp": "kpi-web"}), "kpi-web"), None);
        assert!(authorized_party_problem(&json!({"aud": ["kpi-web", "other"]}), "kpi-web").unwrap().contains("azp"));
        assert!(authorized_party_problem(&json!({"aud": "kpi-web", "azp": "other"}), "kpi-web").is_some());
    }
}
