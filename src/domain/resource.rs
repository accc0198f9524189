//! A record that belongs to one municipality, named by its id wherever it enters: a path, a body,
//! a plan file, an import row or a CLI flag. Resolving it against the caller's municipality is
//! `db::ownership`'s; deciding what a caller may do with it is `auth::tenancy`'s.

use super::ids::{DepartmentId, GoalId, IndicatorId, MeasureId, PlanId, StrategyId, UserId};

/// A stored resource, which belongs to one municipality (users: at most one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedResource {
    Plan(PlanId),
    Goal(GoalId),
    Strategy(StrategyId),
    Measure(MeasureId),
    Indicator(IndicatorId),
    Department(DepartmentId),
    User(UserId),
}

impl OwnedResource {
    /// The entity name used by the handlers' own 404s, so both read the same.
    pub fn entity(self) -> &'static str {
        match self {
            Self::Plan(_) => "plan",
            Self::Goal(_) => "goal",
            Self::Strategy(_) => "strategy",
            Self::Measure(_) => "measure",
            Self::Indicator(_) => "indicator",
            Self::Department(_) => "department",
            Self::User(_) => "user",
        }
    }

    /// The entity's name for clerks.
    pub fn entity_ja(self) -> &'static str {
        match self {
            Self::Plan(_) => "計画",
            Self::Goal(_) => "目標",
            Self::Strategy(_) => "重点戦略",
            Self::Measure(_) => "施策",
            Self::Indicator(_) => "指標",
            Self::Department(_) => "所管課",
            Self::User(_) => "ユーザー",
        }
    }

    /// The stored integer id, for queries and messages.
    pub fn id(self) -> i32 {
        match self {
            Self::Plan(id) => id.get(),
            Self::Goal(id) => id.get(),
            Self::Strategy(id) => id.get(),
            Self::Measure(id) => id.get(),
            Self::Indicator(id) => id.get(),
            Self::Department(id) => id.get(),
            Self::User(id) => id.get(),
        }
    }
}
