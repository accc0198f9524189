//! The web view's login through a municipality's OpenID provider: the authorization code flow
//! (OpenID Connect Core §3.1) with PKCE S256 (RFC 7636), `state` and `nonce`. The `oauth2` crate
//! builds the authorization request and makes the code exchange; the ID token is checked with the
//! provider keys of [`super::provider_token`] (JWKS through discovery, refetched for an unknown
//! key id: a key rotation needs no restart). The endpoints come from the provider's discovery
//! document, read at each login, so a provider that moves them needs no change here either.

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, ExtraTokenFields,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::provider_token::{ProviderClaims, ProviderKeys};
use crate::db::identity_providers::IdentityProvider;
use crate::domain::identity_provider::{LoginFailure, authorized_party_problem, requested_claims};
use crate::error::AppError;

/// Where the provider sends the browser back to, under the public address of this server.
pub const CALLBACK_PATH: &str = "/api/v1/auth/oidc/callback";

/// The ID token of the token endpoint's answer (OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone, Deserialize, Serialize)]
struct IdTokenFields {
    id_token: String,
}

impl ExtraTokenFields for IdTokenFields {}

type OidcClient = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenFields, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A login about to begin: where to send the browser, and what to keep until it comes back.
pub struct LoginStart {
    pub authorization_url: String,
    /// The hash of the `state` sent along: the state itself is kept nowhere.
    pub state_hash: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

/// The hex SHA-256 of a one-time secret (state, ticket), as it is stored.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A fresh one-time secret: 32 random bytes, base64url.
pub fn new_secret() -> String {
    CsrfToken::new_random_len(32).into_secret()
}

fn endpoint(discovery: &serde_json::Value, name: &str) -> Result<String, AppError> {
    discovery
        .get(name)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| AppError::Unavailable(format!("the provider's discovery document has no {name}")))
}

async fn client(
    keys: &ProviderKeys,
    provider: &IdentityProvider,
    client_secret: Option<String>,
    redirect_uri: &str,
) -> Result<OidcClient, AppError> {
    let discovery = keys.discovery(&provider.issuer).await?;
    let unusable = |what: &str| AppError::Unavailable(format!("the provider's {what} is not a URL"));
    let client = oauth2::Client::new(ClientId::new(provider.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(endpoint(&discovery, "authorization_endpoint")?)
                .map_err(|_| unusable("authorization_endpoint"))?,
        )
        .set_token_uri(TokenUrl::new(endpoint(&discovery, "token_endpoint")?).map_err(|_| unusable("token_endpoint"))?)
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_owned())
                .map_err(|_| AppError::Internal("the login's redirect URI is not a URL".into()))?,
        );
    Ok(match client_secret {
        Some(secret) => client.set_client_secret(ClientSecret::new(secret)),
        None => client,
    })
}

/// Begins a login at `provider`: the authorization request (response_type code, PKCE S256, state,
/// nonce, scope openid profile, and the claims the account mapping reads asked for in the ID
/// token, OpenID Connect Core §5.5).
pub async fn start(
    keys: &ProviderKeys,
    provider: &IdentityProvider,
    redirect_uri: &str,
) -> Result<LoginStart, AppError> {
    let client = client(keys, provider, None, redirect_uri).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = new_secret();
    let wanted: serde_json::Map<String, serde_json::Value> =
        requested_claims(&provider.username_claim, &provider.claim_mappings)
            .into_iter()
            .map(|claim| (claim, serde_json::json!({"essential": true})))
            .collect();
    let claims = serde_json::json!({ "id_token": wanted }).to_string();
    let (url, state) = client
        .authorize_url(|| CsrfToken::new_random_len(32))
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .add_extra_param("nonce", &nonce)
        .add_extra_param("claims", claims)
        .url();
    Ok(LoginStart {
        authorization_url: url.into(),
        state_hash: secret_hash(state.secret()),
        pkce_verifier: verifier.into_secret(),
        nonce,
    })
}

/// What a finished login yields: the verified ID token's claims and its subject.
pub struct VerifiedLogin {
    pub subject: String,
    pub claims: ProviderClaims,
}

/// What a login needs to be finished, as kept when it began.
pub struct Finishing<'a> {
    pub code: &'a str,
    pub pkce_verifier: String,
    pub nonce: &'a str,
    pub redirect_uri: &'a str,
    pub client_secret: String,
}

/// Exchanges the code (with the PKCE verifier) for an ID token and verifies it (signature, iss,
/// aud, exp, nonce). The reason of a failure is logged, never a code or token.
pub async fn finish(
    keys: &ProviderKeys,
    provider: &IdentityProvider,
    finishing: Finishing<'_>,
) -> Result<VerifiedLogin, LoginFailure> {
    let unavailable = |error: AppError| {
        tracing::warn!(issuer = %provider.issuer, "OpenID login: {error}");
        LoginFailure::Unavailable
    };
    let client =
        client(keys, provider, Some(finishing.client_secret), finishing.redirect_uri).await.map_err(unavailable)?;
    let http = keys.http().map_err(unavailable)?;
    let response = client
        .exchange_code(AuthorizationCode::new(finishing.code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(finishing.pkce_verifier))
        .request_async(http)
        .await
        .map_err(|error| {
            let failure = match error {
                RequestTokenError::Request(_) => LoginFailure::Unavailable,
                _ => LoginFailure::Verification,
            };
            tracing::warn!(issuer = %provider.issuer, "OpenID login: the code exchange failed: {error}");
            failure
        })?;
    let refused = |why: &str| {
        tracing::warn!(issuer = %provider.issuer, "OpenID login: the ID token is refused: {why}");
        LoginFailure::Verification
    };
    let claims =
        keys.verify_id_token(&response.extra_fields().id_token, provider).await.map_err(|error| match error {
            AppError::Unavailable(_) => unavailable(error),
            other => refused(&other.to_string()),
        })?;
    if let Some(problem) = authorized_party_problem(&claims, &provider.client_id) {
        return Err(refused(problem));
    }
    // The nonce ties the ID token to this browser's login (OpenID Connect Core §3.1.3.7 item 11).
    if claims.get("nonce").and_then(serde_json::Value::as_str) != Some(finishing.nonce) {
        return Err(refused("its nonce is not the login's"));
    }
    let subject = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| refused("its subject (sub) is not text"))?
        .to_owned();
    Ok(VerifiedLogin { subject, claims })
}

/// Where the browser ends the session at the provider (OpenID Connect RP-Initiated Logout 1.0):
/// its end_session_endpoint with our client id and where to come back to; `None` when the
/// provider has none.
pub async fn end_session_url(
    keys: &ProviderKeys,
    provider: &IdentityProvider,
    post_logout_redirect_uri: &str,
) -> Result<Option<String>, AppError> {
    let discovery = keys.discovery(&provider.issuer).await?;
    let Some(endpoint) = discovery.get("end_session_endpoint").and_then(serde_json::Value::as_str) else {
        return Ok(None);
    };
    let mut url = url::Url::parse(endpoint)
        .map_err(|_| AppError::Unavailable("the provider's end_session_endpoint is not a URL".into()))?;
    url.query_pairs_mut()
        .append_pair("client_id", &provider.client_id)
        .append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
    Ok(Some(url.into()))
}

/// The public address of this server (`PUBLIC_BASE_URL`), under which the provider sends the
/// browser back; without it, the address the browser used for the request (enough on loopback and
/// behind no proxy: the provider accepts only the redirect URIs registered with it anyway).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicBaseUrl(Option<String>);

impl PublicBaseUrl {
    /// An absolute http(s) URL without query or fragment; a trailing slash is dropped.
    pub fn parse(text: Option<&str>) -> Result<Self, AppError> {
        let Some(text) = text.filter(|text| !text.trim().is_empty()) else { return Ok(Self(None)) };
        let invalid = || AppError::Config(format!("PUBLIC_BASE_URL `{text}` is not an absolute http(s) URL"));
        let url = url::Url::parse(text.trim()).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "https" | "http") || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid());
        }
        Ok(Self(Some(url.as_str().trim_end_matches('/').to_owned())))
    }

    /// The base URL for a request: the configured one, else the request's own scheme and host.
    pub fn for_request(&self, req: &actix_web::HttpRequest) -> String {
        match &self.0 {
            Some(base) => base.clone(),
            None => {
                let info = req.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_base_url_is_an_absolute_http_url_without_query() {
        assert_eq!(PublicBaseUrl::parse(None).unwrap(), PublicBaseUrl(None));
        assert_eq!(
            PublicBaseUrl::parse(Some("https://kpi.city.example.lg.jp/")).unwrap(),
            PublicBaseUrl(Some("https://kpi.city.example.lg.jp".into()))
        );
        assert!(PublicBaseUrl::parse(Some("kpi.city.example")).is_err());
        assert!(PublicBaseUrl::parse(Some("https://kpi.example/?a=1")).is_err());
        assert!(PublicBaseUrl::parse(Some("ftp://kpi.example")).is_err());
    }

    #[test]
    fn secrets_are_stored_as_their_sha256() {
        assert_eq!(secret_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_ne!(new_secret(), new_secret());
        assert_eq!(new_secret().len(), 43);
    }
}
