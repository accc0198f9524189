//! Record ids in queries: an id type binds as the integer column it is stored in, so that a
//! typed id reaches the SQL without being unwrapped along the way.

use diesel::expression::AsExpression;
use diesel::sql_types::{Integer, Nullable};

use crate::domain::ids::{DepartmentId, GoalId, IndicatorId, MeasureId, PlanId, StrategyId, UserId};

macro_rules! bind_as_integer {
    ($($id:ty),+ $(,)?) => {$(
        impl AsExpression<Integer> for $id {
            type Expression = <i32 as AsExpression<Integer>>::Expression;

            fn as_expression(self) -> Self::Expression {
                AsExpression::<Integer>::as_expression(self.get())
            }
        }

        impl AsExpression<Integer> for &$id {
            type Expression = <i32 as AsExpression<Integer>>::Expression;

            fn as_expression(self) -> Self::Expression {
                AsExpression::<Integer>::as_expression(self.get())
            }
        }

        impl AsExpression<Nullable<Integer>> for $id {
            type Expression = <i32 as AsExpression<Nullable<Integer>>>::Expression;

            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Integer>>::as_expression(self.get())
            }
        }
    )+};
}

bind_as_integer!(PlanId, GoalId, StrategyId, MeasureId, IndicatorId, DepartmentId, UserId);
