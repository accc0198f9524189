//! Cross-origin access for other city systems' browser dashboards: an allow-list of exact
//! origins (`CORS_ALLOWED_ORIGINS`), none by default.
//!
//! A preflight from an allowed origin is answered before routing and authentication, so it is
//! never a 401 or 405. Any other origin gets no CORS headers, and its browser withholds the
//! response; the request itself is still served (same-origin pages such as `/docs` send an
//! `Origin` too).

use actix_cors::Cors;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap};

use crate::error::AppError;

/// How long a browser may reuse a preflight answer, in seconds.
pub const CORS_PREFLIGHT_MAX_AGE_SECONDS: usize = 600;

/// Most origins accepted in `CORS_ALLOWED_ORIGINS`.
pub const MAX_CORS_ORIGINS: usize = 64;

/// Methods a cross-origin caller may use.
const ALLOWED_METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

/// Validated origins, each `scheme://host[:port]` exactly as browsers send them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Parses a comma-separated list; blank entries are ignored, anything but an exact origin
    /// (a path, a wildcard, a trailing slash) is refused, naming the entry.
    pub fn parse(list: &str) -> Result<Self, AppError> {
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let origin = parse_origin(entry)
                .map_err(|why| AppError::Config(format!("CORS_ALLOWED_ORIGINS: `{entry}` is not an origin: {why}")))?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if origins.len() > MAX_CORS_ORIGINS {
            return Err(AppError::Config(format!(
                "CORS_ALLOWED_ORIGINS lists {} origins; at most {MAX_CORS_ORIGINS} are allowed",
                origins.len()
            )));
        }
        Ok(Self(origins))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The middleware for these origins.
    pub fn middleware(&self) -> Cors {
        let cors = self.0.iter().fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
        cors.allowed_methods(ALLOWED_METHODS)
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, header::IF_NONE_MATCH])
            .expose_headers([header::ETAG, header::RETRY_AFTER, header::LOCATION])
            .max_age(CORS_PREFLIGHT_MAX_AGE_SECONDS)
            // Serve requests from other origins without CORS headers instead of refusing them.
            .block_on_origin_mismatch(false)
    }
}

/// Removes the CORS headers of a response that allows no origin: the middleware adds
/// `Access-Control-Expose-Headers` to every response, but a caller from an origin not on the
/// list (or a same-origin caller) is told nothing about CORS.
pub fn remove_unless_origin_allowed(headers: &mut HeaderMap) {
    if headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        return;
    }
    for name in [
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        header::ACCESS_CONTROL_MAX_AGE,
    ] {
        headers.remove(name);
    }
}

/// `scheme://host[:port]`, lower-cased scheme and host, the port only when not the default.
fn parse_origin(entry: &str) -> Result<String, &'static str> {
    let (scheme, rest) = entry.split_once("://").ok_or("it needs a scheme, e.g. https://dashboard.example.jp")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err("the scheme must be http or https");
    }
    if rest.is_empty() {
        return Err("the host is missing");
    }
    if rest.contains(['/', '?', '#', '@', '*', ' ']) {
        return Err("an origin is a scheme, a host and an optional port, without path, wildcard or user");
    }
    let (host, port) = match rest.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8080`.
        Some(literal) => {
            let (address, tail) = literal.split_once(']').ok_or("the IPv6 address lacks its closing `]`")?;
            let host = &rest[..address.len() + 2];
            match tail {
                "" => (host, None),
                tail => (host, Some(tail.strip_prefix(':').ok_or("only a port may follow the host")?)),
            }
        }
        None => match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    if host.is_empty() {
        return Err("the host is missing");
    }
    let port = match port {
        Some(port) => Some(port.parse::<u16>().map_err(|_| "the port must be a number from 1 to 65535")?),
        None => None,
    }
    .filter(|port| !(scheme == "https" && *port == 443 || scheme == "http" && *port == 80));
    if port == Some(0) {
        return Err("the port must be a number from 1 to 65535");
    }
    let host = host.to_ascii_lowercase();
    Ok(match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_are_accepted_and_normalised() {
        let origins =
            AllowedOrigins::parse(" https://Dashboard.City.example.jp , http://localhost:3000,,https://a.example:443")
                .unwrap();
        assert_eq!(
            origins.as_slice(),
            ["https://dashboard.city.example.jp", "http://localhost:3000", "https://a.example"]
        );
        let ipv6 = AllowedOrigins::parse("http://[::1]:8080,https://[::1]").unwrap();
        assert_eq!(ipv6.as_slice(), ["http://[::1]:8080", "https://[::1]"]);
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert!(AllowedOrigins::parse("").unwrap().as_slice().is_empty());
    }

    #[test]
    fn anything_but_an_origin_is_refused_naming_the_entry() {
        for entry in [
            "*",
            "https://*.example.jp",
            "dashboard.example.jp",
            "https://dashboard.example.jp/",
            "https://dashboard.example.jp/path",
            "ftp://dashboard.example.jp",
            "https://",
            "https://host:99999",
            "https://user@host",
        ] {
            let error = AllowedOrigins::parse(entry).expect_err(entry).to_string();
            assert!(error.contains(entry), "{error}");
        }
    }

    #[test]
    fn too_many_origins_are_refused() {
        let list: Vec<String> = (0..=MAX_CORS_ORIGINS).map(|i| format!("https://host{i}.example")).collect();
        assert!(AllowedOrigins::parse(&list.join(",")).is_err());
    }
}
