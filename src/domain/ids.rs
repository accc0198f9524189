//! The ids of stored records, one type per kind, so that a plan's id cannot be passed where a
//! measure's is meant. An id is parsed once where it enters (a path, a body, a plan file, an
//! import row, a CLI flag) and carried inward as its type; it says nothing about whose the
//! record is: that is [`OwnedResource`]'s to resolve.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::resource::OwnedResource;

/// An id of a record that belongs to a municipality: what a route's `{id}` names.
pub trait RecordId: Copy + fmt::Display + Send + 'static {
    /// The record, for resolving whose it is.
    fn resource(self) -> OwnedResource;
    /// The id, when `resource` is a record of this kind.
    fn of(resource: OwnedResource) -> Option<Self>;
}

macro_rules! record_ids {
    ($($(#[$doc:meta])* $name:ident => $variant:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i32);

        impl $name {
            pub const fn new(id: i32) -> Self {
                Self(id)
            }

            /// The stored integer, for the storage layer and the wire.
            pub const fn get(self) -> i32 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        /// Stored records carry their ids as integers.
        impl PartialEq<i32> for $name {
            fn eq(&self, other: &i32) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for i32 {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl From<$name> for i32 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl RecordId for $name {
            fn resource(self) -> OwnedResource {
                OwnedResource::$variant(self)
            }

            fn of(resource: OwnedResource) -> Option<Self> {
                match resource {
                    OwnedResource::$variant(id) => Some(id),
                    _ => None,
                }
            }
        }
    )+};
}

record_ids! {
    /// A plan's id.
    PlanId => Plan,
    /// A basic goal's (基本目標) id.
    GoalId => Goal,
    /// A strategy's (重点戦略) id.
    StrategyId => Strategy,
    /// A measure's (推進施策) id.
    MeasureId => Measure,
    /// An indicator's (指標) id.
    IndicatorId => Indicator,
    /// A department's (所管課) id.
    DepartmentId => Department,
    /// A user account's id.
    UserId => User,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_knows_its_kind_and_refuses_another() {
        let plan = PlanId::new(7);
        assert_eq!(plan.resource(), OwnedResource::Plan(plan));
        assert_eq!(PlanId::of(OwnedResource::Plan(PlanId::new(7))), Some(plan));
        assert_eq!(PlanId::of(OwnedResource::Measure(MeasureId::new(7))), None);
    }

    #[test]
    fn an_id_is_a_bare_integer_on_the_wire() {
        assert_eq!(serde_json::to_string(&IndicatorId::new(16)).unwrap(), "16");
        assert_eq!(serde_json::from_str::<IndicatorId>("16").unwrap(), IndicatorId::new(16));
        assert_eq!(MeasureId::new(45).to_string(), "45");
    }
}
