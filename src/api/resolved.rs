//! The records a request's path names, as handlers receive them: parsed and resolved to their
//! municipality once, by [`resolve_caller`](crate::auth::resolve_caller), in the statement that
//! reads the caller. A handler never parses an `{id}` itself, so the id it works on is the one
//! isolation looked at; and a missing record and another municipality's answer the same 404 from
//! the same place, after the same one statement.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use super::extract::path_parameter_error;
use crate::auth::Caller;
use crate::auth::caller::NamedRecord;
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::ids::{DepartmentId, RecordId};
use crate::error::AppError;

/// The record of kind `Id` the path's `{id}` names, known not to be another municipality's.
/// Whether it exists is asked with [`Resolved::existing`], after the handler has checked what the
/// caller may do: a caller who may not act learns nothing, not even that the record is missing.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<Id> {
    id: Id,
    /// As [`NamedRecord::owner`]: `None` when the record does not exist.
    owner: Option<Option<i32>>,
}

impl<Id: RecordId> Resolved<Id> {
    /// The id as the path names it, for a decision that does not depend on the record existing
    /// (a user reading their own account).
    pub fn named(self) -> Id {
        self.id
    }

    /// The id of the record, which exists (404 otherwise, exactly as for another municipality's).
    pub fn existing(self) -> Result<Id, AppError> {
        match self.owner {
            Some(_) => Ok(self.id),
            None => Err(AppError::not_found(self.id.resource().entity(), self.id)),
        }
    }

    fn of_request(req: &HttpRequest) -> Result<Self, AppError> {
        // The caller's own rejection (401, 403, or 404 for another municipality's) comes first.
        Caller::of_request(req)?;
        let Some(named) = req.extensions().get::<NamedRecord>().copied() else {
            return Err(AppError::Internal("resolve_caller did not run for this route".into()));
        };
        let Some(resource) = named.resource else {
            return Err(path_parameter_error(req));
        };
        let id = Id::of(resource).ok_or_else(|| {
            AppError::Internal(format!(
                "the route names a {} where its handler expects another kind",
                resource.entity()
            ))
        })?;
        Ok(Self { id, owner: named.owner })
    }
}

impl<Id: RecordId> FromRequest for Resolved<Id> {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Self::of_request(req))
    }
}

/// The path's `{fiscal_year}`, within the supported years (422 naming `fiscal_year` otherwise).
#[derive(Debug, Clone, Copy)]
pub struct YearInPath(pub FiscalYear);

impl FromRequest for YearInPath {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let parsed = match req.match_info().get("fiscal_year").map(str::parse::<i32>) {
            Some(Ok(year)) => FiscalYear::new(year)
                .map(Self)
                .map_err(|_| AppError::invalid("fiscal_year", crate::domain::fiscal_year::out_of_range_message(year))),
            _ => Err(path_parameter_error(req)),
        };
        ready(parsed)
    }
}

/// A department named by the path beside the record it belongs to (`/measures/{id}/owners/{department_id}`):
/// only meaningful together with that record, which is what isolation resolved.
#[derive(Debug, Clone, Copy)]
pub struct DepartmentInPath(pub DepartmentId);

impl FromRequest for DepartmentInPath {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(match req.match_info().get("department_id").map(str::parse::<i32>) {
            Some(Ok(id)) => Ok(Self(DepartmentId::new(id))),
            _ => Err(path_parameter_error(req)),
        })
    }
}

#[cfg(test)]
mod tests {
    /// Every record id a handler uses comes through [`super::Resolved`]: a handler that parsed its
    /// own `{id}` would skip the one place isolation and existence are decided.
    #[test]
    fn no_handler_parses_a_record_id_from_the_path_itself() {
        let handlers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        for entry in std::fs::read_dir(handlers).expect("src/api") {
            let path = entry.expect("entry").path();
            let source = std::fs::read_to_string(&path).expect("source");
            // Spelt in two halves, so that this file does not find itself.
            for parsed in [concat!("web::Path", "<i32>"), concat!("web::Path", "<(i32")] {
                assert!(!source.contains(parsed), "{} parses {parsed} itself", path.display());
            }
        }
    }
}
