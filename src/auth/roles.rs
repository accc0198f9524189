//! Role extractors: a [`Caller`] whose role may make the request at all.
//!
//! Put one as a handler's first argument: actix polls a handler's extractors in order and answers
//! with the first error, so a caller without the role gets 403 before its path, query or body are
//! looked at (RFC 9110 leaves the order open; ours is 401, 403, then 404/412/428, then 415/400/422).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::Caller;
use crate::domain::role::Role;
use crate::error::AppError;

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $allows:expr, $needs:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl $name {
            /// Whether a caller of this role may pass.
            pub fn allows(role: Role) -> bool {
                let allows: fn(Role) -> bool = $allows;
                allows(role)
            }
        }

        impl std::ops::Deref for $name {
            type Target = Caller;

            fn deref(&self) -> &Caller {
                &self.0
            }
        }

        impl FromRequest for $name {
            type Error = AppError;
            type Future = Ready<Result<Self, AppError>>;

            fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
                ready(Caller::of_request(req).and_then(|caller| {
                    if Self::allows(caller.role) { Ok(Self(caller)) } else { Err(forbidden(req, &caller, $needs)) }
                }))
            }
        }
    };
}

role_extractor!(
    /// The 本部: plans, measures, indicators, targets, reviews, collections.
    Hq,
    Role::edits_plans,
    "the hq role"
);
role_extractor!(
    /// The administrator: users, departments, municipalities.
    Admin,
    Role::administers,
    "the admin role"
);
role_extractor!(
    /// Accounts: a municipality's admin (its own) or the system administrator (anyone's).
    UserManager,
    Role::manages_users,
    "the admin or system_admin role"
);
role_extractor!(
    /// The system administrator: registers municipalities.
    SystemAdmin,
    Role::manages_municipalities,
    "the system_admin role"
);
role_extractor!(
    /// hq or a department: may submit actuals; which indicators a department may write is checked
    /// per indicator after this (`submission_cycle::check_scope`).
    Writer,
    |role| matches!(role, Role::Hq | Role::Department),
    "the hq or department role"
);
role_extractor!(
    /// hq or the administrator (their municipality's), or the system administrator (every one's):
    /// the audit log.
    AuditReader,
    Role::reads_audit,
    "the hq, admin or system_admin role"
);

fn forbidden(req: &HttpRequest, caller: &Caller, needs: &str) -> AppError {
    AppError::Forbidden(format!(
        "この操作の権限がありません (the {} role may not {} {}: that needs {needs})",
        caller.role.as_str(),
        req.method(),
        req.path()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_extractor_admits_exactly_its_roles() {
        let all = [Role::SystemAdmin, Role::Analyst, Role::Admin, Role::Hq, Role::Department, Role::Viewer];
        let admitted = |allows: fn(Role) -> bool| all.into_iter().filter(|r| allows(*r)).collect::<Vec<_>>();
        assert_eq!(admitted(Hq::allows), [Role::Hq]);
        assert_eq!(admitted(Admin::allows), [Role::Admin]);
        assert_eq!(admitted(Writer::allows), [Role::Hq, Role::Department]);
        assert_eq!(admitted(AuditReader::allows), [Role::SystemAdmin, Role::Admin, Role::Hq]);
        assert_eq!(admitted(UserManager::allows), [Role::SystemAdmin, Role::Admin]);
        assert_eq!(admitted(SystemAdmin::allows), [Role::SystemAdmin]);
    }
}
