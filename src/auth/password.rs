//! Password hashing with argon2id (the `argon2` crate's default algorithm and parameters).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};

use crate::db::users::Login;
use crate::error::AppError;

pub const MIN_PASSWORD_LENGTH: usize = 12;

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password; a malformed stored hash counts as a mismatch (after the same effort).
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(hash) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => {
            verify_against_dummy(password);
            false
        }
    }
}

/// A hash of no one's password, with the parameters real hashes get: checking a password against
/// it takes as long as checking a real one.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("dummy password for timing").unwrap_or_default())
}

/// Spends the same effort as a real check, so an unknown username takes as long as a wrong
/// password and the two cannot be told apart by timing.
pub fn verify_against_dummy(password: &str) {
    // Parsed here, not through verify_password, which falls back to this function.
    if let Ok(hash) = PasswordHash::new(dummy_hash()) {
        let _ = Argon2::default().verify_password(password.as_bytes(), &hash);
    }
}

/// Decides a login with exactly one password verification whatever the outcome: against the
/// stored hash for an active user, against [`dummy_hash`] for an unknown or deactivated one. Every
/// failure thus costs the same and answers the same. `verify` is [`verify_password`] in production.
pub fn check_credentials(
    found: Option<Login>,
    password: &str,
    verify: impl FnOnce(&str, &str) -> bool,
) -> Option<Login> {
    match found {
        Some(login) if login.user.active => verify(password, &login.password_hash).then_some(login),
        _ => {
            verify(password, dummy_hash());
            None
        }
    }
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
    fn a_malformed_hash_costs_a_dummy_verification() {
        assert!(!verify_password("anything", "$argon2id$garbage"));
        assert!(verify_password("dummy password for timing", dummy_hash()), "the dummy hash is a real hash");
    }

    fn login(active: bool) -> Login {
        Login {
            user: crate::db::users::User {
                id: 1,
                username: "hq".into(),
                display_name: "hq".into(),
                role: crate::domain::role::Role::Hq,
                department_id: None,
                municipality_id: Some(1),
                active,
                created_at: Default::default(),
                updated_at: Default::default(),
            },
            password_hash: "$argon2id$the-real-hash".into(),
            token_version: 0,
        }
    }

    /// Runs `check_credentials` with a verifier that records the hashes it was asked to check.
    fn checked(found: Option<Login>, verdict: bool) -> (bool, Vec<String>) {
        let mut hashes = Vec::new();
        let accepted = check_credentials(found, "a password", |_, hash| {
            hashes.push(hash.to_owned());
            verdict
        })
        .is_some();
        (accepted, hashes)
    }

    #[test]
    fn every_login_outcome_runs_exactly_one_verification() {
        let real = "$argon2id$the-real-hash".to_owned();
        let dummy = dummy_hash().to_owned();
        assert_eq!(checked(None, true), (false, vec![dummy.clone()]), "unknown user: the dummy hash");
        assert_eq!(checked(Some(login(false)), true), (false, vec![dummy]), "deactivated: the dummy hash");
        assert_eq!(checked(Some(login(true)), false), (false, vec![real.clone()]), "wrong password");
        assert_eq!(checked(Some(login(true)), true), (true, vec![real]), "right password");
    }

    #[test]
    fn short_passwords_are_rejected() {
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("long enough pass").is_ok());
    }
}
