//! Authentication: password hashing, JWT issue/verification, and the `Caller` extractor.

pub mod caller;
pub mod password;
pub mod token;

pub use caller::Caller;
pub use token::{Claims, TokenService};
