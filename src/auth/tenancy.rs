//! Isolation between municipalities, decided in one place for every route.
//!
//! Each request's path names at most one stored resource that belongs to a municipality
//! (`/plans/{id}…`, `/goals/{id}`, `/strategies/{id}`, `/measures/{id}…`, `/indicators/{id}…`,
//! `/departments/{id}`, `/users/{id}`). [`resolve_caller`](super::resolve_caller) looks up whose it
//! is, together with the caller's account, and [`admit`] decides: a caller of one municipality gets
//! 404 for another's resource, exactly as if it did not exist, whatever the method. Lists and
//! creations are scoped by the storage functions that take the caller's municipality.
//!
//! What a municipality publishes (its plans' open data, the national catalogue and comparison) is
//! readable by every caller. The two cross-municipality roles reach only their own routes: the
//! analyst the published ones, the system administrator also municipalities, accounts and the
//! audit log of every municipality.

use actix_web::http::Method;

use super::Caller;
use crate::domain::ids::{DepartmentId, GoalId, IndicatorId, MeasureId, PlanId, RecordId, StrategyId, UserId};
pub use crate::domain::resource::OwnedResource;
use crate::domain::role::Role;
use crate::error::AppError;

/// What a route is, as far as isolation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// Readable by every authenticated caller: `/me`, the municipalities, the national catalogue
    /// and comparison, a plan's open data; and logout, which every caller may do.
    Published,
    /// Accounts, municipalities and the audit log: the system administrator's, and a
    /// municipality's own users' (by role) within their municipality.
    Administration,
    /// Everything else: a municipality's own data.
    Municipal,
}

/// The part of a request path after `/api/v1/`, split into its segments.
fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches("/api/v1").trim_matches('/').split('/').filter(|s| !s.is_empty()).collect()
}

/// The resource a path names, if any; a non-numeric id names none (the handler answers 422).
pub fn owned_resource(path: &str) -> Option<OwnedResource> {
    let segments = segments(path);
    let id: i32 = segments.get(1)?.parse().ok()?;
    Some(match *segments.first()? {
        "plans" => PlanId::new(id).resource(),
        "goals" => GoalId::new(id).resource(),
        "strategies" => StrategyId::new(id).resource(),
        "measures" => MeasureId::new(id).resource(),
        "indicators" => IndicatorId::new(id).resource(),
        "departments" => DepartmentId::new(id).resource(),
        "users" => UserId::new(id).resource(),
        _ => return None,
    })
}

/// The indicator a request reads whole (`GET /indicators/{id}`), which
/// [`resolve_caller`](super::resolve_caller) reads in the statement that reads the caller.
/// Exactly that path: with a trailing `/` it names no route, and nothing is read for it.
pub fn indicator_read(method: &Method, path: &str) -> Option<IndicatorId> {
    if method != Method::GET {
        return None;
    }
    path.strip_prefix("/api/v1/indicators/")?.parse().ok().map(IndicatorId::new)
}

pub fn route_kind(method: &Method, path: &str) -> RouteKind {
    let segments = segments(path);
    let read = method == Method::GET;
    match segments.as_slice() {
        ["me"]
        | ["municipalities"]
        | ["national-indicators", ..]
        | ["national-editions"]
        | ["plans", _, "open-data"]
        | ["public", ..]
            if read =>
        {
            RouteKind::Published
        }
        // Every caller, of any role, may end its own sessions.
        ["auth", "logout"] => RouteKind::Published,
        ["municipalities"] | ["national-editions"] | ["users", ..] | ["audit"] | ["identity-provider"] => {
            RouteKind::Administration
        }
        _ => RouteKind::Municipal,
    }
}

/// Whether the caller may make this request at all, given whose the named resource is:
/// `owner` is `None` when the path names no resource or one that does not exist (the handler
/// answers for it), `Some(municipality)` when it exists.
pub fn admit(
    caller: &Caller,
    kind: RouteKind,
    resource: Option<OwnedResource>,
    owner: Option<Option<i32>>,
) -> Result<(), AppError> {
    match (caller.role, kind) {
        (_, RouteKind::Published) => return Ok(()),
        (Role::SystemAdmin, RouteKind::Administration) => return Ok(()),
        (Role::SystemAdmin, RouteKind::Municipal) => {
            return Err(AppError::Forbidden(
                "the system_admin role manages municipalities and their accounts; a municipality's own data \
                 is for its users"
                    .into(),
            ));
        }
        (Role::Analyst, _) => {
            return Err(AppError::Forbidden(
                "the analyst role reads the national comparison and open data only".into(),
            ));
        }
        _ => {}
    }
    match (resource, owner) {
        (Some(resource), Some(owner)) if owner != caller.municipality_id => {
            Err(AppError::not_found(resource.entity(), resource.id()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, municipality_id: Option<i32>) -> Caller {
        Caller { user_id: 1, username: "u".into(), role, department_id: None, municipality_id }
    }

    #[test]
    fn paths_name_the_resource_they_start_with() {
        assert_eq!(owned_resource("/api/v1/plans/12/evaluation"), Some(PlanId::new(12).resource()));
        assert_eq!(owned_resource("/api/v1/indicators/7/actuals/2020"), Some(IndicatorId::new(7).resource()));
        assert_eq!(owned_resource("/api/v1/measures/3/owners/9"), Some(MeasureId::new(3).resource()));
        assert_eq!(owned_resource("/api/v1/plans/import"), None);
        assert_eq!(owned_resource("/api/v1/plans"), None);
        assert_eq!(owned_resource("/api/v1/national-indicators/dx3-online-procedures"), None);
    }

    #[test]
    fn only_a_get_of_one_whole_indicator_is_read_with_its_caller() {
        assert_eq!(indicator_read(&Method::GET, "/api/v1/indicators/7"), Some(IndicatorId::new(7)));
        assert_eq!(indicator_read(&Method::PATCH, "/api/v1/indicators/7"), None);
        assert_eq!(indicator_read(&Method::GET, "/api/v1/indicators/7/"), None);
        assert_eq!(indicator_read(&Method::GET, "/api/v1/indicators/7/targets"), None);
        assert_eq!(indicator_read(&Method::GET, "/api/v1/indicators/seven"), None);
        assert_eq!(indicator_read(&Method::GET, "/api/v1/indicators/99999999999"), None);
        assert_eq!(indicator_read(&Method::GET, "/api/v1/measures/7"), None);
    }

    #[test]
    fn published_routes_are_reads_of_open_data_and_the_national_catalogue() {
        assert_eq!(route_kind(&Method::GET, "/api/v1/plans/3/open-data"), RouteKind::Published);
        assert_eq!(route_kind(&Method::GET, "/api/v1/national-indicators/x/comparison"), RouteKind::Published);
        assert_eq!(route_kind(&Method::GET, "/api/v1/plans/3/evaluation"), RouteKind::Municipal);
        assert_eq!(route_kind(&Method::POST, "/api/v1/municipalities"), RouteKind::Administration);
        assert_eq!(route_kind(&Method::PATCH, "/api/v1/users/4"), RouteKind::Administration);
        assert_eq!(route_kind(&Method::GET, "/api/v1/audit"), RouteKind::Administration);
    }

    #[test]
    fn another_municipalitys_resource_is_not_found_for_every_municipal_role() {
        for role in [Role::Admin, Role::Hq, Role::Department, Role::Viewer] {
            let outcome =
                admit(&caller(role, Some(1)), RouteKind::Municipal, Some(PlanId::new(5).resource()), Some(Some(2)));
            assert!(matches!(outcome, Err(AppError::NotFound { entity: "plan", .. })), "{role:?}");
            assert!(
                admit(&caller(role, Some(1)), RouteKind::Municipal, Some(PlanId::new(5).resource()), Some(Some(1)))
                    .is_ok()
            );
        }
    }

    #[test]
    fn an_account_of_no_municipality_is_hidden_from_a_municipality_admin() {
        let admin = caller(Role::Admin, Some(1));
        let outcome = admit(&admin, RouteKind::Administration, Some(UserId::new(9).resource()), Some(None));
        assert!(matches!(outcome, Err(AppError::NotFound { entity: "user", .. })));
    }

    #[test]
    fn the_analyst_reads_published_data_only_and_the_system_admin_administers_only() {
        let analyst = caller(Role::Analyst, None);
        assert!(admit(&analyst, RouteKind::Published, Some(PlanId::new(5).resource()), Some(Some(2))).is_ok());
        assert!(matches!(admit(&analyst, RouteKind::Municipal, None, None), Err(AppError::Forbidden(_))));
        assert!(matches!(admit(&analyst, RouteKind::Administration, None, None), Err(AppError::Forbidden(_))));
        let system = caller(Role::SystemAdmin, None);
        assert!(admit(&system, RouteKind::Administration, Some(UserId::new(3).resource()), Some(Some(2))).is_ok());
        assert!(matches!(admit(&system, RouteKind::Municipal, None, None), Err(AppError::Forbidden(_))));
    }

    /// Fail closed: a route whose path names a record must name one `owned_resource` knows, or
    /// isolation would never look at it. Walks every templated path of the served document.
    #[test]
    fn every_route_that_names_a_record_declares_whose_it_is() {
        let document: serde_json::Value =
            serde_json::from_str(&crate::api::openapi::document_json()).expect("the OpenAPI document");
        let templated: Vec<&String> =
            document["paths"].as_object().expect("paths").keys().filter(|path| path.contains('{')).collect();
        assert!(templated.len() > 30, "the walk sees the route table");
        for template in templated {
            let path =
                template.split('/').map(|s| if s.starts_with('{') { "7" } else { s }).collect::<Vec<_>>().join("/");
            // The national catalogue is keyed by its own codes and belongs to no municipality.
            // Public reads need no caller: they serve published snapshots only, looked up by the
            // municipality's code, plan and year together (src/api/public.rs).
            if path.starts_with("/api/v1/public/") {
                assert_eq!(route_kind(&Method::GET, &path), RouteKind::Published, "{template}");
                continue;
            }
            // Their HTML pages are served outside the API, where no caller is resolved at all.
            if path.starts_with("/public/") {
                continue;
            }
            if path.starts_with("/api/v1/national-indicators/") {
                assert_eq!(route_kind(&Method::GET, &path), RouteKind::Published, "{template}");
                continue;
            }
            let resource = owned_resource(&path);
            assert_eq!(resource.map(OwnedResource::id), Some(7), "{template} names no resource isolation resolves");
        }
    }

    #[test]
    fn a_missing_resource_is_left_to_the_handler() {
        assert!(admit(&caller(Role::Hq, Some(1)), RouteKind::Municipal, Some(PlanId::new(5).resource()), None).is_ok());
    }
}
