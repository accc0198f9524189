// TEMPORARY compile stub; replaced by the real engine.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction { Increase, Decrease, MaintainAtLeast, MaintainAtMost, TrendUp, TrendDown, Milestone }
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GradeBasis { Progress, Attainment }
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GradingSettings { pub basis: GradeBasis, pub grade_a_min: Decimal, pub grade_b_min: Decimal, pub grade_c_min: Decimal, pub on_track_min_ratio: Decimal, pub behind_min_ratio: Decimal }
impl Default for GradingSettings { fn default() -> Self { Self { basis: GradeBasis::Progress, grade_a_min: Decimal::ONE_HUNDRED, grade_b_min: Decimal::from(80), grade_c_min: Decimal::from(50), on_track_min_ratio: Decimal::new(95, 2), behind_min_ratio: Decimal::new(6, 1) } } }
pub struct TargetRevision { pub value: Option<Decimal>, pub stage: Option<usize>, pub target_year: i32, pub effective_from_year: i32, pub interim: BTreeMap<i32, Decimal> }
pub fn validate_grading(_s: &GradingSettings) -> Result<(), String> { Ok(()) }
