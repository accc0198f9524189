//! Who may do what: the four roles of `domain.md`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users, departments and municipality settings.
    Admin,
    /// ICT推進・活用本部 and its secretariat: plans, targets, review, evaluation.
    Hq,
    /// A 所管課: submits actuals for the indicators of the measures it owns.
    Department,
    /// Read-only: dashboards and other city systems.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Hq => "hq",
            Self::Department => "department",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Self::Admin),
            "hq" => Some(Self::Hq),
            "department" => Some(Self::Department),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    /// Department users act for one department; the other roles never have one.
    pub fn needs_department(self) -> bool {
        self == Self::Department
    }

    /// Plan structure, targets and reviews are the 本部's.
    pub fn edits_plans(self) -> bool {
        self == Self::Hq
    }

    /// Users and departments are the administrator's.
    pub fn administers(self) -> bool {
        self == Self::Admin
    }

    /// hq and admin see the audit log.
    pub fn reads_audit(self) -> bool {
        matches!(self, Self::Hq | Self::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_text() {
        for role in [Role::Admin, Role::Hq, Role::Department, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_department_users_belong_to_a_department() {
        assert!(Role::Department.needs_department());
        assert!(!Role::Hq.needs_department());
        assert!(!Role::Viewer.edits_plans());
        assert!(Role::Hq.edits_plans());
        assert!(!Role::Hq.administers());
    }
}
