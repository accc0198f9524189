//! A record that belongs to one municipality, named by its id wherever it enters: a path, a body,
//! a plan file, an import row or a CLI flag. Resolving it against the caller's municipality is
//! `db::ownership`'s; deciding what a caller may do with it is `auth::tenancy`'s.

/// A stored resource, which belongs to one municipality (users: at most one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedResource {
    Plan(i32),
    Goal(i32),
    Strategy(i32),
    Measure(i32),
    Indicator(i32),
    Department(i32),
    User(i32),
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

    pub fn id(self) -> i32 {
        match self {
            Self::Plan(id)
            | Self::Goal(id)
            | Self::Strategy(id)
            | Self::Measure(id)
            | Self::Indicator(id)
            | Self::Department(id)
            | Self::User(id) => id,
        }
    }
}
