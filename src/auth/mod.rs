//! Authentication and authorisation: password hashing, JWT issue/verification, the per-request
//! `Caller`, role extractors and login throttling.

pub mod caller;
pub mod oidc_login;
pub mod password;
pub mod provider_token;
pub mod roles;
pub mod tenancy;
pub mod throttle;
pub mod token;

pub use caller::{Caller, ReadAlready, resolve_caller};
pub use roles::{Admin, AuditReader, Hq, SystemAdmin, UserManager, Writer};
pub use throttle::{LoginThrottle, LoginThrottleSettings};
pub use token::{Claims, TokenService};
