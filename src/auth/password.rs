//! Password hashing with argon2id (the `argon2` crate's default algorithm and parameters).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};

use crate::error::AppError;

pub const MIN_PASSWORD_LENGTH: usize = 12;

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password; a malformed stored hash counts as a mismatch.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// Spends the same effort as a real check, so an unknown username takes as long as a wrong
/// password and the two cannot be told apart by timing.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("dummy password for timing").unwrap_or_default());
    let _ = verify_password(password, hash);
}

pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(AppError::invalid("password", format!("must be at least {MIN_PASSWORD_LENGTH} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
    }

    #[test]
    fn the_same_password_gets_a_different_salt() {
        assert_ne!(hash_password("same password!").unwrap(), hash_password("same password!").unwrap());
    }

    #[test]
    fn malformed_hash_never_verifies() {
        assert!(!verify_password("anything", "not-a-hash"));
    }

    #[test]
    fn short_passwords_are_rejected() {
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("long enough pass").is_ok());
    }
}
