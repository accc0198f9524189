//! Access tokens of a municipality's OpenID provider, sent as bearer tokens by integrating systems
//! and the provider's users (RFC 9068 JWT access tokens, checked as RFC 8725 asks): RS256 or ES256
//! only, `typ` at+jwt, `iss` exactly the provider's, `aud` containing the audience configured for
//! this API, `exp`/`nbf` with a small leeway, signed by a key of the provider's JWKS.
//!
//! The JWKS is found through the provider's discovery document and cached per issuer. A token
//! whose `kid` the cache lacks makes it fetch the JWKS again, so a provider's key rotation needs no
//! restart here; but at most once per [`ProviderKeys::min_refetch`] per issuer, so that a flood of
//! tokens with made-up key ids does not become a flood of requests to the provider.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

use super::token::CLOCK_LEEWAY_SECONDS;
use crate::db::identity_providers::IdentityProvider;
use crate::domain::identity_provider::{algorithm_problem, header_problem};
use crate::error::AppError;

/// A discovery document or JWKS larger than this is refused (real ones are a few kilobytes).
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The provider claims a verified access token carries, as a JSON object.
pub type ProviderClaims = serde_json::Value;

struct CachedKeys {
    keys: Vec<Jwk>,
    /// When a fetch was last started, successful or not.
    attempted_at: Option<Instant>,
}

/// The shortest time between two fetches of one provider's JWKS (`OIDC_JWKS_MIN_REFETCH_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksRefetchInterval(pub Duration);

impl Default for JwksRefetchInterval {
    fn default() -> Self {
        Self(Duration::from_secs(30))
    }
}

pub struct ProviderKeys {
    /// Built on first use: an installation without OpenID providers never loads the system's CA
    /// certificates (about 1 MB held for the life of the process) or touches that code.
    http: OnceLock<reqwest::Client>,
    min_refetch: Duration,
    cache: Mutex<HashMap<String, CachedKeys>>,
}

impl std::fmt::Debug for ProviderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderKeys").field("min_refetch", &self.min_refetch).finish_non_exhaustive()
    }
}

impl ProviderKeys {
    pub fn new(JwksRefetchInterval(min_refetch): JwksRefetchInterval) -> Self {
        Self { http: OnceLock::new(), min_refetch, cache: Mutex::new(HashMap::new()) }
    }

    /// The shortest time between two fetches of one provider's JWKS.
    pub fn min_refetch(&self) -> Duration {
        self.min_refetch
    }

    /// The claims of the access token `token` once every rule of the module holds; 401 with the
    /// reason otherwise.
    pub async fn verify(&self, token: &str, provider: &IdentityProvider) -> Result<ProviderClaims, AppError> {
        self.verify_signed(token, &provider.issuer, &provider.audience, Kind::AccessToken).await
    }

    /// The claims of an ID token the provider's token endpoint returned to the web view's login
    /// (OpenID Connect Core §3.1.3.7): signed by a key of the provider's JWKS with RS256 or ES256,
    /// `iss` the provider's, `aud` our client id, not expired. The nonce is the caller's to check.
    pub async fn verify_id_token(&self, token: &str, provider: &IdentityProvider) -> Result<ProviderClaims, AppError> {
        self.verify_signed(token, &provider.issuer, &provider.client_id, Kind::IdToken).await
    }

    async fn verify_signed(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        kind: Kind,
    ) -> Result<ProviderClaims, AppError> {
        let header = decode_header(token)
            .map_err(|_| AppError::Unauthenticated("the token is malformed or uses a disallowed algorithm".into()))?;
        let alg = serde_json::to_value(header.alg).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let problem = match kind {
            Kind::AccessToken => header_problem(&alg, header.typ.as_deref()),
            Kind::IdToken => algorithm_problem(&alg),
        };
        if let Some(problem) = problem {
            return Err(AppError::Unauthenticated(problem.into()));
        }
        let kid = header.kid.ok_or_else(|| AppError::Unauthenticated("the token names no signing key (kid)".into()))?;
        let jwk = self.key(issuer, &kid).await?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|_| AppError::Unauthenticated("the provider's key for this token is unusable".into()))?;
        decode::<ProviderClaims>(token, &key, &validation(header.alg, issuer, audience))
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                AppError::Unauthenticated(
                    match e.kind() {
                        ErrorKind::ExpiredSignature => "the token has expired",
                        ErrorKind::ImmatureSignature => "the token is not valid yet (its nbf lies in the future)",
                        ErrorKind::InvalidIssuer => "the token was issued by someone else",
                        ErrorKind::InvalidAudience => "the token is not meant for this API (aud)",
                        ErrorKind::InvalidSignature => "the token's signature does not verify",
                        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (exp, iss, aud, sub)",
                        _ => "the token is malformed",
                    }
                    .into(),
                )
            })
    }

    /// The HTTP client the provider's documents are fetched with (no redirects, short timeout),
    /// also for the web view's code exchange.
    pub fn http(&self) -> Result<&reqwest::Client, AppError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            // A redirect could lead a JWKS fetch anywhere; providers publish the final address.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                tracing::error!("cannot build the HTTP client for OpenID providers: {e}");
                AppError::Unavailable("the OpenID provider cannot be reached; try again later".into())
            })?;
        // Two first uses at once build two clients; one is kept, both work.
        Ok(self.http.get_or_init(|| client))
    }

    /// The provider's discovery document (OpenID Connect Discovery 1.0), refused when it names
    /// another issuer.
    pub async fn discovery(&self, issuer: &str) -> Result<serde_json::Value, AppError> {
        let discovery_url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let discovery = self.fetch_json(&discovery_url).await?;
        if discovery.get("issuer").and_then(serde_json::Value::as_str) != Some(issuer) {
            return Err(AppError::Unavailable("the provider's discovery document names another issuer".into()));
        }
        Ok(discovery)
    }

    /// The provider's key `kid`: from the cache, else from a fresh JWKS when the last fetch is old
    /// enough.
    async fn key(&self, issuer: &str, kid: &str) -> Result<Jwk, AppError> {
        let may_fetch = {
            let mut cache = self.cache.lock().map_err(|_| AppError::Internal("provider key cache poisoned".into()))?;
            let entry = cache.entry(issuer.to_owned()).or_insert(CachedKeys { keys: Vec::new(), attempted_at: None });
            if let Some(jwk) = find(&entry.keys, kid) {
                return Ok(jwk);
            }
            let due = entry.attempted_at.is_none_or(|at| at.elapsed() >= self.min_refetch);
            if due {
                entry.attempted_at = Some(Instant::now());
            }
            due
        };
        let unknown =
            || AppError::Unauthenticated("the token was signed with a key the provider does not publish".into());
        if !may_fetch {
            return Err(unknown());
        }
        let keys = self.fetch_keys(issuer).await?;
        let found = find(&keys, kid);
        if let Ok(mut cache) = self.cache.lock()
            && let Some(entry) = cache.get_mut(issuer)
        {
            entry.keys = keys;
        }
        found.ok_or_else(unknown)
    }

    async fn fetch_keys(&self, issuer: &str) -> Result<Vec<Jwk>, AppError> {
        let discovery = self.discovery(issuer).await?;
        let jwks_uri = discovery
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| AppError::Unavailable("the provider's discovery document has no jwks_uri".into()))?
            .to_owned();
        let set = self.fetch_json(&jwks_uri).await?;
        // Keys of a kind this API does not read are skipped, not fatal to the whole set.
        let keys = set
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .map(|keys| keys.iter().filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok()).collect())
            .unwrap_or_default();
        Ok(JwkSet { keys }.keys)
    }

    async fn fetch_json(&self, url: &str) -> Result<serde_json::Value, AppError> {
        let unavailable = |what: String| {
            tracing::warn!(url, "OpenID provider fetch failed: {what}");
            AppError::Unavailable("the OpenID provider cannot be reached; try again later".into())
        };
        let mut response = self.http()?.get(url).send().await.map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unavailable(e.to_string()))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(unavailable("document too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| unavailable(e.to_string()))
    }
}

fn find(keys: &[Jwk], kid: &str) -> Option<Jwk> {
    keys.iter().find(|jwk| jwk.common.key_id.as_deref() == Some(kid)).cloned()
}

/// Which of a provider's tokens is checked: their headers differ (RFC 9068 §2.1).
#[derive(Clone, Copy)]
enum Kind {
    AccessToken,
    IdToken,
}

fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = CLOCK_LEEWAY_SECONDS;
    validation
}

/// The issuer a token claims, read before any check to know whose keys check it; `None` when the
/// token is not a readable JWT.
/// The header is not read here: one with a disallowed `alg` (`none`) must still reach the issuer's
/// rules to be refused by them.
pub fn claimed_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss").and_then(serde_json::Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn unknown_key_ids_fetch_the_keys_at_most_once_per_interval() {
        let keys = ProviderKeys::new(JwksRefetchInterval(Duration::from_secs(3600)));
        // Nothing listens on port 9 of loopback: the first lookup tries (and fails to reach) the
        // provider; the next ones within the interval do not try at all.
        let issuer = "http://127.0.0.1:9";
        assert!(matches!(keys.key(issuer, "a").await, Err(AppError::Unavailable(_))));
        for kid in ["b", "c", "d"] {
            match keys.key(issuer, kid).await {
                Err(AppError::Unauthenticated(reason)) => assert!(reason.contains("does not publish")),
                other => panic!("expected no fetch, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_issuer_is_read_from_an_unverified_token() {
        use base64::Engine;
        let encode = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let token = format!("{}.{}.sig", encode(r#"{"alg":"RS256"}"#), encode(r#"{"iss":"https://idp"}"#));
        assert_eq!(claimed_issuer(&token).as_deref(), Some("https://idp"));
        let unsigned = format!("{}.{}.", encode(r#"{"alg":"none"}"#), encode(r#"{"iss":"https://idp"}"#));
        assert_eq!(claimed_issuer(&unsigned).as_deref(), Some("https://idp"));
        assert_eq!(claimed_issuer("not-a-token"), None);
    }
}
