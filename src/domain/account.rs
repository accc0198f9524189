//! An account (`User`) and the rules beyond its role: a municipality is never left without an
//! active admin, who alone can manage its accounts and departments.

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::role::Role;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: i32,
    #[schema(example = "koseki")]
    pub username: String,
    #[schema(example = "戸籍住民課 担当")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub display_name: String,
    pub role: Role,
    pub department_id: Option<i32>,
    /// The municipality the account works in; `null` for system_admin and analyst.
    pub municipality_id: Option<i32>,
    pub active: bool,
    /// Where reminders go (リマインダー); `null`: the account gets none
    #[schema(example = "koseki@city.example.lg.jp")]
    pub email: Option<String>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub updated_at: NaiveDateTime,
}

/// Longest e-mail address accepted (RFC 5321's limit on a forward path).
pub const EMAIL_MAX_LENGTH: usize = 254;

/// Whether `address` can take reminders: `local@domain`, ASCII (no SMTPUTF8 is assumed of the
/// municipality's mail server), no spaces or control characters, a dot in the domain.
pub fn check_email(address: &str) -> Result<(), String> {
    let invalid = || {
        format!(
            "メールアドレスの形式が正しくありません（例: koseki@city.example.lg.jp、{EMAIL_MAX_LENGTH}文字以内の半角英数字） \
             (not an e-mail address: local@domain, ASCII, at most {EMAIL_MAX_LENGTH} characters)"
        )
    };
    if address.len() > EMAIL_MAX_LENGTH || !address.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid());
    }
    let Some((local, domain)) = address.split_once('@') else { return Err(invalid()) };
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let local_ok = !local.is_empty() && !local.contains(['<', '>', '(', ')', ',', ';', ':', '\\', '"', '[', ']']);
    if domain_ok && local_ok { Ok(()) } else { Err(invalid()) }
}

/// What an account is, as far as administering a municipality goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
    pub municipality_id: Option<i32>,
}

impl Standing {
    /// The municipality this account administers: that of an active admin.
    pub fn administers(self) -> Option<i32> {
        if self.role == Role::Admin && self.active { self.municipality_id } else { None }
    }
}

/// The municipality that loses an active admin when an account changes from `before` to `after`
/// (deactivated, demoted or moved elsewhere), if any: it must keep another ([`keeps_an_admin`]).
pub fn admin_lost(before: Standing, after: Standing) -> Option<i32> {
    let municipality = before.administers()?;
    (after.administers() != Some(municipality)).then_some(municipality)
}

/// A municipality losing an admin keeps at least one other active admin, whoever makes the change
/// (the admin itself, another admin, the system administrator).
pub fn keeps_an_admin(other_active_admins: i64) -> Result<(), String> {
    if other_active_admins > 0 {
        Ok(())
    } else {
        Err("自治体の最後の有効な管理者は無効化・降格・移動できません (the last active admin of a municipality cannot \
             be deactivated, demoted or moved: make another account of the municipality admin first)"
            .to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_address_is_local_at_a_dotted_domain() {
        assert_eq!(check_email("koseki@city.itabashi.tokyo.jp"), Ok(()));
        assert_eq!(check_email("k.sato+kpi@example.lg.jp"), Ok(()));
        for wrong in [
            "koseki",
            "@example.jp",
            "koseki@",
            "koseki@localhost",
            "a@b@example.jp",
            "a b@example.jp",
            "戸籍@example.jp",
            "a@example..jp",
            "<a>@example.jp",
            "a@exa_mple.jp",
        ] {
            assert!(check_email(wrong).unwrap_err().starts_with("メールアドレス"), "{wrong}");
        }
        let longest = format!("{}@example.jp", "a".repeat(EMAIL_MAX_LENGTH - 11));
        assert_eq!(check_email(&longest), Ok(()));
        assert!(check_email(&format!("a{longest}")).is_err(), "one character over");
    }

    fn standing(role: Role, active: bool, municipality_id: Option<i32>) -> Standing {
        Standing { role, active, municipality_id }
    }

    #[test]
    fn deactivating_demoting_or_moving_an_active_admin_loses_its_municipality_an_admin() {
        let admin = standing(Role::Admin, true, Some(1));
        assert_eq!(admin_lost(admin, standing(Role::Admin, false, Some(1))), Some(1), "deactivated");
        assert_eq!(admin_lost(admin, standing(Role::Hq, true, Some(1))), Some(1), "demoted");
        assert_eq!(admin_lost(admin, standing(Role::Admin, true, Some(2))), Some(1), "moved");
        assert_eq!(admin_lost(admin, admin), None, "renamed or given a new password");
    }

    #[test]
    fn other_accounts_lose_no_admin() {
        let inactive = standing(Role::Admin, false, Some(1));
        assert_eq!(admin_lost(inactive, standing(Role::Viewer, false, Some(1))), None);
        let hq = standing(Role::Hq, true, Some(1));
        assert_eq!(admin_lost(hq, standing(Role::Hq, false, Some(1))), None);
        let system = standing(Role::SystemAdmin, true, None);
        assert_eq!(admin_lost(system, standing(Role::SystemAdmin, false, None)), None);
        assert_eq!(admin_lost(hq, standing(Role::Admin, true, Some(1))), None, "promoted");
    }

    #[test]
    fn the_last_active_admin_stays() {
        let refused = keeps_an_admin(0).unwrap_err();
        assert!(refused.starts_with("自治体の最後の有効な管理者") && refused.contains("(the last active admin"));
        assert_eq!(keeps_an_admin(1), Ok(()));
    }
}
