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

/// How many accounts of the same username a login that names no municipality tries; past it the
/// login must name its municipality (a username common to many municipalities, such as `hq`).
pub const MAX_LOGIN_CANDIDATES: usize = 3;

/// Decides a login among the accounts its username may be: the one active account whose password
/// matches. Usernames are unique per municipality, so a login that names no municipality may find
/// several; the password tells them apart, and two that both match (or more than
/// [`MAX_LOGIN_CANDIDATES`]) fail like a wrong password. At least one verification runs whatever
/// the outcome (against [`dummy_hash`] when no account is usable), so an unknown username costs
/// what a wrong password costs and answers the same. `verify` is [`verify_password`] in production.
pub fn check_credentials(
    candidates: Vec<Login>,
    password: &str,
    mut verify: impl FnMut(&str, &str) -> bool,
) -> Option<Login> {
    let usable: Vec<Login> = if candidates.len() > MAX_LOGIN_CANDIDATES {
        Vec::new()
    } else {
        candidates.into_iter().filter(|login| login.user.active).collect()
    };
    if usable.is_empty() {
        verify(password, dummy_hash());
        return None;
    }
    let mut matching: Vec<Login> = usable.into_iter().filter(|login| verify(password, &login.password_hash)).collect();
    match matching.len() {
        1 => matching.pop(),
        _ => None,
    }
}

pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    // A password read from standard input (the CLI) meets the bound a body's password meets.
    if let Some(problem) = crate::domain::limits::text_problem(password, crate::domain::limits::MAX_PASSWORD_CHARS) {
        return Err(AppError::invalid("password", problem));
    }
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

    fn login(id: i32, active: bool, hash: &str) -> Login {
        Login {
            user: crate::domain::account::User {
                id,
                username: "hq".into(),
                display_name: "hq".into(),
                role: crate::domain::role::Role::Hq,
                department_id: None,
                municipality_id: Some(id),
                active,
                email: None,
                created_at: Default::default(),
                updated_at: Default::default(),
            },
            password_hash: hash.into(),
            token_version: 0,
        }
    }

    /// Runs `check_credentials` with a verifier that accepts `right_hash` only and records the
    /// hashes it was asked to check; gives the id of the account logged in.
    fn checked(found: Vec<Login>, right_hash: &str) -> (Option<i32>, Vec<String>) {
        let mut hashes = Vec::new();
        let accepted = check_credentials(found, "a password", |_, hash| {
            hashes.push(hash.to_owned());
            hash == right_hash
        });
        (accepted.map(|login| login.user.id), hashes)
    }

    #[test]
    fn one_account_costs_exactly_one_verification_whatever_the_outcome() {
        let (real, dummy) = ("$argon2id$real".to_owned(), dummy_hash().to_owned());
        assert_eq!(checked(vec![], &real), (None, vec![dummy.clone()]), "unknown user: the dummy hash");
        assert_eq!(checked(vec![login(1, false, &real)], &real), (None, vec![dummy]), "deactivated: the dummy hash");
        assert_eq!(checked(vec![login(1, true, &real)], "other"), (None, vec![real.clone()]), "wrong password");
        assert_eq!(checked(vec![login(1, true, &real)], &real), (Some(1), vec![real]), "right password");
    }

    #[test]
    fn the_password_tells_accounts_of_the_same_username_apart() {
        let accounts = || vec![login(1, true, "$argon2id$itabashi"), login(2, true, "$argon2id$bunkyo")];
        assert_eq!(checked(accounts(), "$argon2id$bunkyo").0, Some(2));
        assert_eq!(checked(accounts(), "$argon2id$itabashi").0, Some(1));
        assert_eq!(checked(accounts(), "$argon2id$neither").0, None);
        let same = vec![login(1, true, "$argon2id$same"), login(2, true, "$argon2id$same")];
        assert_eq!(checked(same, "$argon2id$same").0, None, "two matching accounts: name the municipality");
    }

    #[test]
    fn more_accounts_than_tried_need_the_municipality() {
        let many: Vec<Login> = (1..=MAX_LOGIN_CANDIDATES as i32 + 1).map(|id| login(id, true, "$argon2id$x")).collect();
        assert_eq!(checked(many, "$argon2id$x"), (None, vec![dummy_hash().to_owned()]));
    }

    #[test]
    fn short_passwords_are_rejected() {
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("long enough pass").is_ok());
    }
}
