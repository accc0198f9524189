//! The web view: a small page for the 本部 and departments, served at `/` and `/app/{file}`.
//!
//! The files under `web/` are compiled into the binary, so the page works offline and needs no
//! build step; it talks to the server only through the public `/api/v1` API.

use std::sync::LazyLock;

use actix_web::http::header::{self, EntityTag, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// What the page may load: only its own files and the API (no inline script, no other origin);
/// `data:` images for SVG icons the script may draw.
pub const WEB_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The files are not fingerprinted, so browsers revalidate them (cheaply, by ETag) on every load
/// and a new binary's page is never mixed with an old script.
pub const WEB_CACHE_CONTROL: &str = "no-cache";

/// One embedded file of the web view.
pub struct WebAsset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Everything under `web/`; `/app/{name}` serves these, `/` serves `index.html`.
pub const WEB_ASSETS: &[WebAsset] = &[
    WebAsset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        bytes: include_bytes!("../web/index.html"),
    },
    WebAsset { name: "app.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../web/app.css") },
    WebAsset { name: "app.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../web/app.js") },
    WebAsset { name: "api.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../web/api.js") },
    WebAsset {
        name: "charts.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/charts.js"),
    },
    WebAsset { name: "dom.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../web/dom.js") },
    WebAsset {
        name: "oidc.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/oidc.js"),
    },
    WebAsset {
        name: "evaluations.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/evaluations.js"),
    },
    WebAsset {
        name: "indicator.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/indicator.js"),
    },
    WebAsset {
        name: "report-publication.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/report-publication.js"),
    },
    WebAsset {
        name: "labels.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../web/labels.js"),
    },
];

/// A strong ETag per asset, from its content, computed once.
static ASSET_TAGS: LazyLock<Vec<EntityTag>> = LazyLock::new(|| {
    WEB_ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.bytes);
            EntityTag::new_strong(digest.iter().take(12).map(|b| format!("{b:02x}")).collect())
        })
        .collect()
});

/// Routes of the web view (outside `/api/v1`); GET and HEAD.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/", web::head().to(index))
        .route("/app/{file}", web::get().to(asset))
        .route("/app/{file}", web::head().to(asset));
}

async fn index(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req, "index.html")
}

async fn asset(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, AppError> {
    serve(&req, &file)
}

fn serve(req: &HttpRequest, name: &str) -> Result<HttpResponse, AppError> {
    let (position, asset) =
        WEB_ASSETS.iter().enumerate().find(|(_, asset)| asset.name == name).ok_or(AppError::RouteNotFound)?;
    let tag = &ASSET_TAGS[position];
    let unchanged =
        req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.split(',').any(|candidate| candidate.trim() == tag.to_string() || candidate.trim() == "*")
        });
    let mut response = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header(header::ETag(tag.clone()))
        .insert_header((header::CACHE_CONTROL, WEB_CACHE_CONTROL))
        .insert_header((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(WEB_CONTENT_SECURITY_POLICY)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if unchanged {
        return Ok(response.finish());
    }
    Ok(response.content_type(asset.content_type).body(asset.bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_loads_is_embedded() {
        let page = std::str::from_utf8(WEB_ASSETS[0].bytes).expect("index.html is UTF-8");
        for reference in page.split("/app/").skip(1) {
            let name: String = reference.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
            assert!(WEB_ASSETS.iter().any(|asset| asset.name == name), "index.html loads /app/{name}, not embedded");
        }
    }

    #[test]
    fn every_module_a_script_imports_is_embedded() {
        for script in WEB_ASSETS.iter().filter(|asset| asset.name.ends_with(".js")) {
            let text = std::str::from_utf8(script.bytes).expect("scripts are UTF-8");
            let imports = text.split(" from './").skip(1).filter_map(|rest| rest.split('\'').next());
            for name in imports {
                assert!(
                    WEB_ASSETS.iter().any(|asset| asset.name == name),
                    "{} imports ./{name}, which is not embedded",
                    script.name
                );
            }
        }
    }

    #[test]
    fn the_page_has_no_inline_script_the_policy_would_block() {
        let page = std::str::from_utf8(WEB_ASSETS[0].bytes).expect("index.html is UTF-8");
        for tag in page.split("<script").skip(1) {
            let opening = tag.split('>').next().unwrap_or_default();
            assert!(opening.contains("src=\"/app/"), "inline <script> found: <script{opening}>");
        }
        assert!(!page.contains(" style=\""), "inline style attribute found");
        assert!(!page.contains(" onclick="), "inline event handler found");
    }
}
