//! JWT access tokens (RFC 8725): HS256 only, `exp`, `iss` and `aud` required.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::domain::role::Role;
use crate::error::AppError;

pub const ISSUER: &str = "municipal-kpi";
pub const AUDIENCE: &str = "municipal-kpi-api";
pub const MIN_SECRET_BYTES: usize = 32;
/// Clock difference tolerated between the server that issued a token and the one checking it,
/// for `exp`, `nbf` and `iat`.
pub const CLOCK_LEEWAY_SECONDS: u64 = 30;
// A larger leeway would let expired or future-dated tokens through for longer.
const _: () = assert!(CLOCK_LEEWAY_SECONDS <= 30);
/// Where a client gets a new token; named in every rejection.
pub const LOGIN_HINT: &str = "log in again at POST /api/v1/auth/token";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub username: String,
    pub role: Role,
    pub department_id: Option<i32>,
    pub iat: i64,
    /// Not before; absent in tokens of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// The user's token version when the token was issued; absent (0) in tokens of earlier versions.
    #[serde(default)]
    pub ver: i32,
    /// The issuer of the OpenID provider the session began at (the web view's login through it);
    /// absent after a password login. Logout sends the browser on to that provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
}

/// The identity to put in a token.
pub struct Subject<'a> {
    pub user_id: i32,
    pub username: &'a str,
    pub role: Role,
    pub department_id: Option<i32>,
    /// The account's current token version (`users.token_version`).
    pub token_version: i32,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl std::fmt::Debug for TokenService {
    // The keys are secrets: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService").field("ttl_seconds", &self.ttl_seconds).finish_non_exhaustive()
    }
}

impl TokenService {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Result<Self, AppError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AppError::Config(format!("JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        })
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue(&self, subject: &Subject<'_>) -> Result<String, AppError> {
        self.issue_with(subject, None)
    }

    /// A token for a session begun at the OpenID provider `issuer`.
    pub fn issue_after_provider_login(&self, subject: &Subject<'_>, issuer: &str) -> Result<String, AppError> {
        self.issue_with(subject, Some(issuer))
    }

    fn issue_with(&self, subject: &Subject<'_>, idp: Option<&str>) -> Result<String, AppError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: subject.user_id.to_string(),
            username: subject.username.to_owned(),
            role: subject.role,
            department_id: subject.department_id,
            iat: now,
            nbf: Some(now),
            exp: now + self.ttl_seconds,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            ver: subject.token_version,
            idp: idp.map(str::to_owned),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(format!("token signing failed: {e}")))
    }

    /// Validates signature, algorithm, expiry, not-before, issue time, issuer and audience. The
    /// reason for a rejection is plain, says what to do, and never echoes the token.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        use jsonwebtoken::errors::ErrorKind;
        let claims =
            decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(|e| {
                let reason = match e.kind() {
                    ErrorKind::ExpiredSignature => format!("the token has expired; {LOGIN_HINT}"),
                    ErrorKind::ImmatureSignature => {
                        "the token is not valid yet (its nbf lies in the future)".to_owned()
                    }
                    ErrorKind::InvalidIssuer => "the token was issued by someone else".to_owned(),
                    ErrorKind::InvalidAudience => "the token is not meant for this API".to_owned(),
                    ErrorKind::InvalidAlgorithm => "the token uses a disallowed algorithm".to_owned(),
                    ErrorKind::InvalidSignature => format!(
                        "the token was signed with another key (for example by this server before a restart with \
                     --demo, whose key lasts only until it stops, or by another installation); {LOGIN_HINT}"
                    ),
                    ErrorKind::MissingRequiredClaim(claim) => format!("the token lacks the required claim {claim}"),
                    _ => "the token is malformed".to_owned(),
                };
                AppError::Unauthenticated(reason)
            })?;
        check_issued_at(claims.iat, Utc::now().timestamp())?;
        Ok(claims)
    }
}

/// A token cannot have been issued in the future; a clock difference up to the leeway is tolerated.
fn check_issued_at(iat: i64, now: i64) -> Result<(), AppError> {
    let leeway = i64::try_from(CLOCK_LEEWAY_SECONDS).unwrap_or(i64::MAX);
    if iat > now.saturating_add(leeway) {
        return Err(AppError::Unauthenticated(format!(
            "the token claims to be issued in the future (iat); check the clocks, then {LOGIN_HINT}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn service() -> TokenService {
        TokenService::new(SECRET, 3600).unwrap()
    }

    fn subject() -> Subject<'static> {
        Subject { user_id: 7, username: "koseki", role: Role::Department, department_id: Some(3), token_version: 2 }
    }

    fn sign_claims(claims: &serde_json::Value, secret: &[u8]) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn claims_json(exp_offset: i64, iss: &str, aud: &str) -> serde_json::Value {
        let now = Utc::now().timestamp();
        serde_json::json!({"sub": "7", "username": "koseki", "role": "department", "department_id": 3,
            "iat": now, "exp": now + exp_offset, "iss": iss, "aud": aud})
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let token = service().issue(&subject()).unwrap();
        let claims = service().verify(&token).unwrap();
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.role, Role::Department);
        assert_eq!(claims.department_id, Some(3));
        assert_eq!(claims.exp - claims.iat, 3600);
        assert_eq!(claims.nbf, Some(claims.iat));
        assert_eq!(claims.ver, 2);
    }

    fn rejection(token: &str) -> String {
        match service().verify(token) {
            Err(AppError::Unauthenticated(reason)) => reason,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    #[test]
    fn a_token_not_valid_yet_is_rejected() {
        let mut claims = claims_json(3600, ISSUER, AUDIENCE);
        claims["nbf"] = serde_json::json!(Utc::now().timestamp() + 600);
        assert!(rejection(&sign_claims(&claims, SECRET)).contains("nbf"));
        claims["nbf"] = serde_json::json!(Utc::now().timestamp() + 5);
        assert!(service().verify(&sign_claims(&claims, SECRET)).is_ok(), "within the leeway");
    }

    #[test]
    fn a_token_issued_in_the_future_is_rejected() {
        let mut claims = claims_json(3600, ISSUER, AUDIENCE);
        claims["iat"] = serde_json::json!(Utc::now().timestamp() + 600);
        assert!(rejection(&sign_claims(&claims, SECRET)).contains("iat"));
        claims["iat"] = serde_json::json!(Utc::now().timestamp() + 5);
        assert!(service().verify(&sign_claims(&claims, SECRET)).is_ok(), "within the leeway");
    }

    #[test]
    fn an_issue_time_up_to_the_leeway_ahead_is_tolerated() {
        assert!(check_issued_at(1_000 + 30, 1_000).is_ok());
        assert!(check_issued_at(1_000 + 31, 1_000).is_err());
    }

    #[test]
    fn tokens_of_earlier_versions_without_nbf_and_ver_still_verify() {
        let claims = service().verify(&sign_claims(&claims_json(3600, ISSUER, AUDIENCE), SECRET)).unwrap();
        assert_eq!((claims.nbf, claims.ver), (None, 0));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenService::new(b"too short", 60).is_err());
    }

    #[test]
    fn expired_wrong_issuer_and_wrong_audience_are_rejected() {
        for claims in [
            claims_json(-3600, ISSUER, AUDIENCE),
            claims_json(3600, "someone-else", AUDIENCE),
            claims_json(3600, ISSUER, "another-api"),
        ] {
            assert!(matches!(service().verify(&sign_claims(&claims, SECRET)), Err(AppError::Unauthenticated(_))));
        }
    }

    #[test]
    fn missing_audience_is_rejected() {
        let mut claims = claims_json(3600, ISSUER, AUDIENCE);
        claims.as_object_mut().unwrap().remove("aud");
        assert!(service().verify(&sign_claims(&claims, SECRET)).is_err());
    }

    #[test]
    fn another_key_is_rejected_with_a_hint_to_log_in_again() {
        let token = sign_claims(&claims_json(3600, ISSUER, AUDIENCE), b"ffffffffffffffffffffffffffffffff");
        let reason = rejection(&token);
        assert!(reason.contains("another key") && reason.contains("--demo"), "{reason}");
        assert!(reason.contains("POST /api/v1/auth/token"), "{reason}");
    }

    #[test]
    fn alg_none_is_rejected() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims_json(3600, ISSUER, AUDIENCE).to_string());
        assert!(service().verify(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn another_algorithm_with_the_same_key_is_rejected() {
        let token = encode(
            &Header::new(Algorithm::HS512),
            &claims_json(3600, ISSUER, AUDIENCE),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(service().verify(&token).is_err());
    }
}
