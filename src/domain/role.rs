//! Who may do what: the four roles of `domain.md`, each within one municipality, and the two roles
//! that work across municipalities.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers municipalities and creates their administrators; belongs to no municipality.
    SystemAdmin,
    /// Prefecture or national analyst: reads the comparisons and published data (open data) of
    /// every municipality, nothing else; belongs to no municipality.
    Analyst,
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
            Self::SystemAdmin => "system_admin",
            Self::Analyst => "analyst",
            Self::Admin => "admin",
            Self::Hq => "hq",
            Self::Department => "department",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "system_admin" => Some(Self::SystemAdmin),
            "analyst" => Some(Self::Analyst),
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

    /// Every role but the two cross-municipality ones acts within exactly one municipality.
    pub fn belongs_to_municipality(self) -> bool {
        !matches!(self, Self::SystemAdmin | Self::Analyst)
    }

    /// Municipalities are registered by the system administrator.
    pub fn manages_municipalities(self) -> bool {
        self == Self::SystemAdmin
    }

    /// Accounts: a municipality's admin manages its own, the system administrator anyone's.
    pub fn manages_users(self) -> bool {
        matches!(self, Self::Admin | Self::SystemAdmin)
    }

    /// Plan structure, targets and reviews are the 本部's.
    pub fn edits_plans(self) -> bool {
        self == Self::Hq
    }

    /// Users and departments are the administrator's.
    pub fn administers(self) -> bool {
        self == Self::Admin
    }

    /// hq and admin see their municipality's audit log; the system administrator every
    /// municipality's.
    pub fn reads_audit(self) -> bool {
        matches!(self, Self::Hq | Self::Admin | Self::SystemAdmin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_text() {
        for role in [Role::SystemAdmin, Role::Analyst, Role::Admin, Role::Hq, Role::Department, Role::Viewer] {
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

    #[test]
    fn only_the_cross_municipality_roles_belong_to_no_municipality() {
        assert!(!Role::SystemAdmin.belongs_to_municipality());
        assert!(!Role::Analyst.belongs_to_municipality());
        assert!(Role::Admin.belongs_to_municipality() && Role::Viewer.belongs_to_municipality());
        assert!(Role::SystemAdmin.manages_users() && Role::Admin.manages_users() && !Role::Hq.manages_users());
        assert!(Role::SystemAdmin.manages_municipalities() && !Role::Admin.manages_municipalities());
        assert!(!Role::Analyst.edits_plans() && !Role::Analyst.reads_audit());
        assert!(Role::SystemAdmin.reads_audit() && !Role::Viewer.reads_audit() && !Role::Department.reads_audit());
    }
}
