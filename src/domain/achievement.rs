//! Achievement rules: what the API computes from an indicator's definition, the target in force and
//! the approved actual for one fiscal year, and how indicators roll up.
//!
//! This module is `shared/design/achievement.md` in code: one function per rule, named after the
//! rule, in the contract's order. It is pure: no I/O, no database, no clock.
//!
//! Values are exact [`Decimal`]s end to end (multiplications come before divisions, so a result is
//! exact whenever it terminates within 28 significant digits). Only the numbers returned are rounded,
//! half away from zero to one decimal place ([`round_for_output`]); every comparison (achieved, the
//! status ratio `r`, the grade thresholds, the roll-up mean) uses the unrounded values. No input
//! panics: a division by zero or an overflow gives `None`.
//!
//! Where the contract is silent, the reading taken is marked **Reading:** on the rule it concerns.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

/// How an indicator is judged against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// More is better; the target is a value to reach (203 → 230 データセット).
    Increase,
    /// Less is better; the target is a value to get down to.
    Decrease,
    /// Keep at or above a level (100%維持).
    MaintainAtLeast,
    /// Keep at or below a level (0件 for incidents).
    MaintainAtMost,
    /// `↑`: more than the baseline, no number given.
    TrendUp,
    /// `↓`: less than the baseline, no number given.
    TrendDown,
    /// A stage reached by a year (サービス開始).
    Milestone,
}

impl Direction {
    /// Whether a larger value is the better one (stages count up for milestones).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Self::Decrease | Self::MaintainAtMost | Self::TrendDown)
    }

    /// `a` is at least as good as `reference` in this direction.
    fn at_least_as_good(self, a: Decimal, reference: Decimal) -> bool {
        if self.higher_is_better() { a >= reference } else { a <= reference }
    }
}

/// Where an indicator stands in a fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The target is met this year.
    Achieved,
    /// Before the target year, `r ≥ 0.95` (milestones and trends: on the roadmap).
    OnTrack,
    /// Before the target year, `0.6 ≤ r < 0.95` (milestones and trends: short of the roadmap).
    Behind,
    /// Before the target year, `0 ≤ r < 0.6`.
    OffTrack,
    /// Before the target year, `r < 0`: worse than the baseline.
    Deteriorating,
    /// Not met in or after the target year (maintain indicators: any year).
    NotAchieved,
    /// No approved actual for the year.
    NoData,
    /// The definition lacks what the rule needs (no target, no baseline for a progress rule).
    NotAssessable,
}

impl Status {
    pub const ALL: [Self; 8] = [
        Self::Achieved,
        Self::OnTrack,
        Self::Behind,
        Self::OffTrack,
        Self::Deteriorating,
        Self::NotAchieved,
        Self::NoData,
        Self::NotAssessable,
    ];

    /// The status as the 進捗管理表 and the report print it.
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Achieved => "達成",
            Self::OnTrack => "順調",
            Self::Behind => "やや遅れ",
            Self::OffTrack => "遅れ",
            Self::Deteriorating => "悪化",
            Self::NotAchieved => "未達成",
            Self::NoData => "実績なし",
            Self::NotAssessable => "評価不能",
        }
    }
}

/// A/B/C/D, or `—` when not assessable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum Grade {
    #[serde(rename = "A")]
    A,
    #[serde(rename = "B")]
    B,
    #[serde(rename = "C")]
    C,
    #[serde(rename = "D")]
    D,
    #[serde(rename = "—")]
    NotAssessable,
}

impl Grade {
    /// `A`–`D`, or `—`.
    pub fn label(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "D",
            Self::NotAssessable => "—",
        }
    }
}

/// Which rate a grade is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum GradeBasis {
    /// 進捗率: the share of the planned change from the baseline achieved.
    #[default]
    Progress,
    /// 達成率: 実績 ÷ 目標 (目標 ÷ 実績 for decrease targets).
    Attainment,
}

/// A plan's grading settings, stored with the plan and returned with every evaluation.
///
/// Missing fields take their defaults when deserialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", default)]
pub struct GradingSettings {
    /// The plan's grade basis; an indicator may override it.
    pub basis: GradeBasis,
    /// Lowest rate graded A (default 100).
    #[serde(deserialize_with = "crate::domain::decimal_input::required")]
    pub grade_a_min: Decimal,
    /// Lowest rate graded B (default 80).
    #[serde(deserialize_with = "crate::domain::decimal_input::required")]
    pub grade_b_min: Decimal,
    /// Lowest rate graded C (default 50); below it is D.
    #[serde(deserialize_with = "crate::domain::decimal_input::required")]
    pub grade_c_min: Decimal,
    /// Lowest `r` that is `on_track` (default 0.95).
    #[serde(deserialize_with = "crate::domain::decimal_input::required")]
    pub on_track_min_ratio: Decimal,
    /// Lowest `r` that is `behind` (default 0.6); from 0 up to it is `off_track`.
    #[serde(deserialize_with = "crate::domain::decimal_input::required")]
    pub behind_min_ratio: Decimal,
}

impl Default for GradingSettings {
    /// A ≥ 100, B ≥ 80, C ≥ 50 on the progress rate; Open SDG's 0.95 and 0.6 for the status ratio.
    fn default() -> Self {
        Self {
            basis: GradeBasis::Progress,
            grade_a_min: Decimal::from(100),
            grade_b_min: Decimal::from(80),
            grade_c_min: Decimal::from(50),
            on_track_min_ratio: Decimal::new(95, 2),
            behind_min_ratio: Decimal::new(6, 1),
        }
    }
}

/// Grading settings are usable when the grade thresholds descend from A to C and do not go below
/// zero, and `0 ≤ behind_min_ratio ≤ on_track_min_ratio`.
pub fn validate_grading(settings: &GradingSettings) -> Result<(), String> {
    let GradingSettings {
        grade_a_min: a,
        grade_b_min: b,
        grade_c_min: c,
        on_track_min_ratio: on_track,
        behind_min_ratio: behind,
        ..
    } = settings;
    if !(a >= b && b >= c && c >= &Decimal::ZERO) {
        return Err(format!(
            "grade thresholds must satisfy grade_a_min ≥ grade_b_min ≥ grade_c_min ≥ 0 (got {a}, {b}, {c})"
        ));
    }
    if !(on_track >= behind && behind >= &Decimal::ZERO) {
        return Err(format!(
            "status ratios must satisfy on_track_min_ratio ≥ behind_min_ratio ≥ 0 (got {on_track}, {behind})"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Inputs for one indicator and one fiscal year `y`
// ---------------------------------------------------------------------------------------------

/// One row of an indicator's target history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub struct TargetRevision {
    /// `t`; `None` for trend (`↑`) and milestone targets.
    pub value: Option<Decimal>,
    /// Milestones: the target stage `n`, an index into the indicator's stages.
    pub stage: Option<usize>,
    /// `yt`: the fiscal year the target is due.
    pub target_year: i32,
    /// In force for evaluations of this fiscal year and later.
    pub effective_from_year: i32,
    /// Interim expected value (a stage index for milestones) per fiscal year.
    #[serde(default)]
    pub interim: BTreeMap<i32, Decimal>,
}

/// **target in force**: "the latest revision effective on or before `y`". On equal effective years
/// the later one in the slice wins. `None` if no revision is in force yet.
pub fn target_in_force(revisions: &[TargetRevision], year: i32) -> Option<&TargetRevision> {
    // `max_by_key` returns the last of equal maxima: the later revision in the slice.
    revisions
        .iter()
        .filter(|revision| revision.effective_from_year <= year)
        .max_by_key(|revision| revision.effective_from_year)
}

/// An approved actual as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActualValue {
    /// A count or a directly reported percent.
    Number(Decimal),
    /// Reported as its two parts; the rules use the percent.
    Ratio { numerator: Decimal, denominator: Decimal },
    /// A milestone stage: an index into the indicator's stages.
    Stage(usize),
}

impl ActualValue {
    /// "for a ratio, `a = numerator / denominator × 100`": the value as a number or percent.
    /// `None` for a zero denominator and for a stage.
    pub fn as_rate(&self) -> Option<Decimal> {
        match self {
            Self::Number(value) => Some(*value),
            Self::Ratio { numerator, denominator } => percent(*numerator, *denominator),
            Self::Stage(_) => None,
        }
    }

    /// The stage index of a milestone actual; `None` for numbers and ratios.
    pub fn as_stage(&self) -> Option<usize> {
        match self {
            Self::Stage(stage) => Some(*stage),
            Self::Number(_) | Self::Ratio { .. } => None,
        }
    }
}

/// What the rules need to know about an indicator, apart from its targets and actuals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub struct IndicatorDefinition {
    pub direction: Direction,
    /// `b`, the baseline value (`None` when the plan prints `—`, and for milestones).
    pub baseline: Option<Decimal>,
    /// `y0`, the baseline fiscal year.
    pub baseline_year: Option<i32>,
    /// Milestones: the baseline stage (s0, not started, when `None`).
    pub baseline_stage: Option<usize>,
    /// Milestones: the number of ordered stages `s0 … sn`; `n = stage_count − 1` unless the target
    /// revision names its stage.
    pub stage_count: usize,
    /// Grade this indicator on another basis than the plan's.
    pub grade_basis_override: Option<GradeBasis>,
}

/// One indicator in one fiscal year, as handed to [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearInput<'a> {
    /// `y`, the fiscal year evaluated.
    pub year: i32,
    /// The revision in force for `year` (see [`target_in_force`]).
    pub target: Option<&'a TargetRevision>,
    /// The approved actual; only approved actuals count.
    pub approved: Option<&'a ActualValue>,
    /// A newer submission awaits review: reported, never used.
    pub pending: bool,
}

/// The contract's inputs for one indicator and one fiscal year `y`, apart from the actual `a`.
///
/// For milestones the values are stage indices: `b` is the baseline stage (s0 when none is given),
/// `t` the target stage `n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleInputs {
    /// The fiscal year evaluated.
    pub y: i32,
    /// Baseline value (or stage).
    pub b: Option<Decimal>,
    /// Baseline year.
    pub y0: Option<i32>,
    /// The target in force (value or stage); `None` for trend targets.
    pub t: Option<Decimal>,
    /// The year the target in force is due.
    pub yt: i32,
    /// The interim target set for `y` itself, if any.
    pub interim: Option<Decimal>,
}

impl RuleInputs {
    /// Gathers the inputs from the definition and the target revision in force for `y`.
    pub fn new(def: &IndicatorDefinition, target: &TargetRevision, y: i32) -> Self {
        let (b, t) = match def.direction {
            Direction::Milestone => (
                Some(Decimal::from(def.baseline_stage.unwrap_or(0))),
                target.stage.or_else(|| def.stage_count.checked_sub(1)).map(Decimal::from),
            ),
            _ => (def.baseline, target.value),
        };
        Self { y, b, y0: def.baseline_year, t, yt: target.target_year, interim: target.interim.get(&y).copied() }
    }
}

/// `a` as the rules use it: the value, a ratio's percent, or a milestone's stage index. `None` when
/// the actual is of the wrong kind for the direction (or a ratio has a zero denominator).
pub fn actual_as_used(direction: Direction, actual: &ActualValue) -> Option<Decimal> {
    match direction {
        Direction::Milestone => actual.as_stage().map(Decimal::from),
        _ => actual.as_rate(),
    }
}

// ---------------------------------------------------------------------------------------------
// Per indicator and year
// ---------------------------------------------------------------------------------------------

/// **achieved**: "increase / maintain_at_least: `a ≥ t`; decrease / maintain_at_most: `a ≤ t`;
/// trend_up: `a > b`; trend_down: `a < b`; milestone: the reported stage is at or past the target
/// stage." `None` when the value compared with (`t`, or `b` for trends) is missing.
pub fn achieved(direction: Direction, a: Decimal, inputs: &RuleInputs) -> Option<bool> {
    Some(match direction {
        Direction::Increase | Direction::MaintainAtLeast | Direction::Milestone => a >= inputs.t?,
        Direction::Decrease | Direction::MaintainAtMost => a <= inputs.t?,
        Direction::TrendUp => a > inputs.b?,
        Direction::TrendDown => a < inputs.b?,
    })
}

/// **attainment_rate** (達成率, 実績 ÷ 目標): "increase and maintain_at_least: `a / t × 100` (null if
/// `t = 0`); decrease and maintain_at_most: `t / a × 100` when `a > 0` and `t > 0`; when `a ≤ t` and
/// either is zero the rate is 100; otherwise null. Null for trend and milestone indicators."
pub fn attainment_rate(direction: Direction, a: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    match direction {
        Direction::Increase | Direction::MaintainAtLeast => percent(a, inputs.t?),
        Direction::Decrease | Direction::MaintainAtMost => {
            let t = inputs.t?;
            if a > Decimal::ZERO && t > Decimal::ZERO {
                percent(t, a)
            } else if a <= t && (a.is_zero() || t.is_zero()) {
                Some(HUNDRED)
            } else {
                None
            }
        }
        Direction::TrendUp | Direction::TrendDown | Direction::Milestone => None,
    }
}

/// **progress_rate** (進捗率, share of the planned change from baseline achieved), per direction.
/// Not clamped: negative means worse than the baseline, over 100 beyond the target.
pub fn progress_rate(direction: Direction, a: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    match direction {
        Direction::Increase => increase_progress_rate(a, inputs),
        Direction::Decrease => decrease_progress_rate(a, inputs),
        Direction::MaintainAtLeast | Direction::MaintainAtMost => maintain_progress_rate(direction, a, inputs),
        Direction::TrendUp | Direction::TrendDown => trend_progress_rate(direction, a, inputs),
        Direction::Milestone => milestone_progress_rate(a, inputs),
    }
}

/// "increase: `(a − b) / (t − b) × 100`" — null when `b` is missing or `t = b`.
pub fn increase_progress_rate(a: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    let (b, t) = (inputs.b?, inputs.t?);
    percent(a.checked_sub(b)?, t.checked_sub(b)?)
}

/// "decrease: `(b − a) / (b − t) × 100`" — null when `b` is missing or `t = b`.
pub fn decrease_progress_rate(a: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    let (b, t) = (inputs.b?, inputs.t?);
    percent(b.checked_sub(a)?, b.checked_sub(t)?)
}

/// "For maintain indicators: 100 if achieved, else the attainment rate (0 when that is null)."
pub fn maintain_progress_rate(direction: Direction, a: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    if achieved(direction, a, inputs)? {
        Some(HUNDRED)
    } else {
        Some(attainment_rate(direction, a, inputs).unwrap_or(Decimal::ZERO))
    }
}

/// "Trend: 100 if achieved, else 0." Null without a baseline (achieved cannot be told).
pub fn trend_progress_rate(direction: Direction, a: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    if achieved(direction, a, inputs)? { Some(HUNDRED) } else { Some(Decimal::ZERO) }
}

/// "Milestone with ordered stages `s0 … sn` (n = target stage): `reached / n × 100`."
/// Null when the target stage is s0 (`n = 0`).
pub fn milestone_progress_rate(reached: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    percent(reached, inputs.t?)
}

/// **expected** (where the indicator should be in year `y` if on schedule): "the interim target for
/// `y` if one is set; otherwise linear from `b` at `y0` to `t` at `yt`:
/// `b + (t − b) × (y − y0) / (yt − y0)`, capped at `t` after `yt`."
///
/// **Reading:** from `yt` on the expected value is `t`, baseline or not; at or before `y0` it is
/// `b`. Maintain indicators expect their level `t` every year (there is nothing to interpolate).
/// Trends have no `t`, so only an interim target gives them an expected value. For milestones the
/// linear stage is rounded down to a whole stage (the last stage the schedule has fully reached),
/// from the baseline stage (s0 when none is given) at `y0`.
pub fn expected(direction: Direction, inputs: &RuleInputs) -> Option<Decimal> {
    if let Some(interim) = inputs.interim {
        return Some(interim);
    }
    match direction {
        Direction::Increase | Direction::Decrease => linear_expected(inputs),
        Direction::Milestone => linear_expected(inputs).map(|stage| stage.floor()),
        Direction::MaintainAtLeast | Direction::MaintainAtMost => inputs.t,
        Direction::TrendUp | Direction::TrendDown => None,
    }
}

/// `b + (t − b) × (y − y0) / (yt − y0)`, capped at `t` from `yt` on and held at `b` up to `y0`.
fn linear_expected(inputs: &RuleInputs) -> Option<Decimal> {
    let t = inputs.t?;
    if inputs.y >= inputs.yt {
        return Some(t);
    }
    let (numerator, denominator) = linear_change(inputs)?;
    inputs.b?.checked_add(numerator.checked_div(denominator)?)
}

/// `expected − b` as an exact fraction `(numerator, denominator)`, so that `r` takes one division.
fn expected_change(inputs: &RuleInputs) -> Option<(Decimal, Decimal)> {
    match inputs.interim {
        Some(interim) => Some((interim.checked_sub(inputs.b?)?, Decimal::ONE)),
        None => linear_change(inputs),
    }
}

/// `(t − b) × (y − y0) / (yt − y0)` as a fraction, with `y` held within `[y0, yt]`.
fn linear_change(inputs: &RuleInputs) -> Option<(Decimal, Decimal)> {
    let planned = inputs.t?.checked_sub(inputs.b?)?;
    if inputs.y >= inputs.yt {
        return Some((planned, Decimal::ONE));
    }
    let y0 = inputs.y0?;
    if inputs.y <= y0 {
        return Some((Decimal::ZERO, Decimal::ONE));
    }
    // Here y0 < y < yt, so the span is positive; i64 keeps the year arithmetic from overflowing.
    let elapsed = Decimal::from(i64::from(inputs.y) - i64::from(y0));
    let span = Decimal::from(i64::from(inputs.yt) - i64::from(y0));
    Some((planned.checked_mul(elapsed)?, span))
}

/// **r**: "actual change over expected change from the baseline (`(a − b) / (expected − b)` for
/// increase, mirrored for decrease)". The mirror `(b − a) / (b − expected)` is the same quotient.
///
/// `None` when the expected change is zero (`y = y0`, or an interim target equal to `b`) or points
/// against the direction (a definition whose target is on the wrong side of its baseline), when
/// `b` is missing, and when the schedule is unknown (no interim target and no `y0`).
pub fn schedule_ratio(direction: Direction, a: Decimal, inputs: &RuleInputs) -> Option<Decimal> {
    let b = inputs.b?;
    let (numerator, denominator) = expected_change(inputs)?;
    let planned_way = if direction.higher_is_better() { numerator > Decimal::ZERO } else { numerator < Decimal::ZERO };
    if !planned_way {
        return None;
    }
    a.checked_sub(b)?.checked_mul(denominator)?.checked_div(numerator)
}

/// **status** for year `y`:
/// - "`achieved` if achieved;
/// - otherwise, in or after the target year: `not_achieved`;
/// - otherwise, before the target year" — by `r` for increase and decrease
///   ([`status_from_schedule_ratio`]), by the roadmap for trends and milestones;
/// - "`no_data` when there is no approved actual" (`a` is `None`);
/// - "`not_assessable` when the definition lacks what the rule needs".
///
/// "Maintain indicators: `achieved` or `not_achieved` every year."
pub fn status(direction: Direction, a: Option<Decimal>, inputs: &RuleInputs, settings: &GradingSettings) -> Status {
    let Some(a) = a else {
        return Status::NoData;
    };
    let Some(achieved) = achieved(direction, a, inputs) else {
        return Status::NotAssessable;
    };
    if achieved {
        return Status::Achieved;
    }
    match direction {
        Direction::MaintainAtLeast | Direction::MaintainAtMost => Status::NotAchieved,
        _ if inputs.y >= inputs.yt => Status::NotAchieved,
        Direction::Increase | Direction::Decrease => status_before_target_year(direction, a, inputs, settings),
        Direction::TrendUp | Direction::TrendDown => trend_status_before_target_year(direction, a, inputs),
        Direction::Milestone => milestone_status_before_target_year(a, inputs),
    }
}

/// Increase and decrease before the target year, not yet achieved: `r` against the plan's
/// thresholds. `not_assessable` without a baseline ("no baseline for a progress rule") or without a
/// schedule (no interim target and no baseline year).
///
/// **Reading:** when `r` is undefined because the expected change is zero (in the baseline year,
/// or an interim target equal to `b`) or points the wrong way, the indicator is `on_track` if `a`
/// is at least as good as expected, else `deteriorating` (it is then worse than the baseline).
pub fn status_before_target_year(
    direction: Direction,
    a: Decimal,
    inputs: &RuleInputs,
    settings: &GradingSettings,
) -> Status {
    if inputs.b.is_none() {
        return Status::NotAssessable;
    }
    if let Some(r) = schedule_ratio(direction, a, inputs) {
        return status_from_schedule_ratio(r, settings);
    }
    match expected(direction, inputs) {
        Some(expected) if direction.at_least_as_good(a, expected) => Status::OnTrack,
        Some(_) => Status::Deteriorating,
        None => Status::NotAssessable,
    }
}

/// "`on_track` if `r ≥ 0.95`, `behind` if `0.6 ≤ r < 0.95`, `off_track` if `0 ≤ r < 0.6`,
/// `deteriorating` if `r < 0`" — the thresholds being the plan's settings.
pub fn status_from_schedule_ratio(r: Decimal, settings: &GradingSettings) -> Status {
    if r >= settings.on_track_min_ratio {
        Status::OnTrack
    } else if r >= settings.behind_min_ratio {
        Status::Behind
    } else if r >= Decimal::ZERO {
        Status::OffTrack
    } else {
        Status::Deteriorating
    }
}

/// "Trend … indicators before the target year: `achieved`, `on_track` … or `behind`."
///
/// **Reading:** a trend not yet above (below, for trend_down) its baseline is `on_track` while it
/// has not moved the wrong way — `a` at least as good as the interim target for `y` if one is set,
/// else as `b` — because `↑` only has to show by the target year; otherwise `behind`.
pub fn trend_status_before_target_year(direction: Direction, a: Decimal, inputs: &RuleInputs) -> Status {
    match inputs.interim.or(inputs.b) {
        Some(reference) if direction.at_least_as_good(a, reference) => Status::OnTrack,
        Some(_) => Status::Behind,
        None => Status::NotAssessable,
    }
}

/// "Milestone indicators before the target year: `achieved`, `on_track` (milestone stage ≥ the
/// roadmap's stage for `y`) or `behind`." The roadmap's stage is [`expected`]: the interim stage
/// for `y`, else the linear schedule rounded down; `not_assessable` when neither is known.
pub fn milestone_status_before_target_year(stage: Decimal, inputs: &RuleInputs) -> Status {
    match expected(Direction::Milestone, inputs) {
        Some(roadmap_stage) if stage >= roadmap_stage => Status::OnTrack,
        Some(_) => Status::Behind,
        None => Status::NotAssessable,
    }
}

/// The basis an indicator is graded on: "the progress rate (or the attainment rate where the plan,
/// or the indicator, says so)" — the indicator's override first, then the plan's setting.
///
/// **Reading:** the attainment basis applies to increase and decrease indicators, where the two
/// rates differ ("for decrease targets cities differ between 目標÷実績 and the baseline-relative
/// rule"). Maintain indicators always grade on progress, which is already their attainment with the
/// gaps filled (100 when achieved, 0 when null); trends and milestones have no attainment rate.
pub fn grade_basis(
    direction: Direction,
    grade_basis_override: Option<GradeBasis>,
    settings: &GradingSettings,
) -> GradeBasis {
    match direction {
        Direction::Increase | Direction::Decrease => grade_basis_override.unwrap_or(settings.basis),
        _ => GradeBasis::Progress,
    }
}

/// **grade**: "defaults A ≥ 100, B ≥ 80, C ≥ 50, D below; `—` when not assessable" (no rate).
/// The rate compared is the unrounded one.
pub fn grade(rate: Option<Decimal>, settings: &GradingSettings) -> Grade {
    match rate {
        None => Grade::NotAssessable,
        Some(rate) if rate >= settings.grade_a_min => Grade::A,
        Some(rate) if rate >= settings.grade_b_min => Grade::B,
        Some(rate) if rate >= settings.grade_c_min => Grade::C,
        Some(_) => Grade::D,
    }
}

/// One indicator's achievement in one fiscal year. Rates and values are rounded for output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub struct Achievement {
    /// Whether the target is met this year; `null` without data or without what the rule compares.
    pub achieved: Option<bool>,
    /// `a` as used: the value, a ratio as a percent, or a milestone's stage index.
    pub actual_rate_or_value: Option<Decimal>,
    /// Where the indicator should be this year if on schedule.
    pub expected: Option<Decimal>,
    /// 達成率.
    pub attainment_rate: Option<Decimal>,
    /// 進捗率, not clamped.
    pub progress_rate: Option<Decimal>,
    pub status: Status,
    pub grade: Grade,
    /// The rate the grade was read from.
    pub grade_basis: GradeBasis,
    /// A newer submission awaits review (it is not used).
    pub pending: bool,
    /// The unrounded progress rate, for roll-ups; not part of the API.
    #[serde(skip)]
    exact_progress: Option<Decimal>,
}

impl Achievement {
    /// The unrounded progress rate (roll-ups clamp and average exact values).
    pub fn exact_progress(&self) -> Option<Decimal> {
        self.exact_progress
    }
}

/// All of the per-indicator rules for one fiscal year.
///
/// `no_data` when there is no approved actual (`expected` is still given, and `pending` is
/// reported); `not_assessable` when no target is in force or the actual is of the wrong kind.
pub fn evaluate(def: &IndicatorDefinition, input: &YearInput, settings: &GradingSettings) -> Achievement {
    let direction = def.direction;
    let inputs = input.target.map(|target| RuleInputs::new(def, target, input.year));
    let no_data = Achievement {
        achieved: None,
        actual_rate_or_value: None,
        expected: inputs.as_ref().and_then(|inputs| expected(direction, inputs)).map(round_for_output),
        attainment_rate: None,
        progress_rate: None,
        status: Status::NoData,
        grade: Grade::NotAssessable,
        grade_basis: grade_basis(direction, def.grade_basis_override, settings),
        pending: input.pending,
        exact_progress: None,
    };
    let Some(actual) = input.approved else {
        return no_data;
    };
    let a = actual_as_used(direction, actual);
    let (Some(a), Some(inputs)) = (a, inputs) else {
        return Achievement { actual_rate_or_value: a.map(round_for_output), status: Status::NotAssessable, ..no_data };
    };
    let attainment = attainment_rate(direction, a, &inputs);
    let progress = progress_rate(direction, a, &inputs);
    let graded_rate = match no_data.grade_basis {
        GradeBasis::Progress => progress,
        GradeBasis::Attainment => attainment,
    };
    Achievement {
        achieved: achieved(direction, a, &inputs),
        actual_rate_or_value: Some(round_for_output(a)),
        attainment_rate: attainment.map(round_for_output),
        progress_rate: progress.map(round_for_output),
        status: status(direction, Some(a), &inputs, settings),
        grade: grade(graded_rate, settings),
        exact_progress: progress,
        ..no_data
    }
}

// ---------------------------------------------------------------------------------------------
// Roll-ups (measure, basic goal, strategy, department, plan)
// ---------------------------------------------------------------------------------------------

/// Indicators per status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub struct StatusCounts {
    pub achieved: usize,
    pub on_track: usize,
    pub behind: usize,
    pub off_track: usize,
    pub deteriorating: usize,
    pub not_achieved: usize,
    pub no_data: usize,
    pub not_assessable: usize,
}

impl StatusCounts {
    /// How many indicators have this status.
    pub fn get(&self, status: Status) -> usize {
        match status {
            Status::Achieved => self.achieved,
            Status::OnTrack => self.on_track,
            Status::Behind => self.behind,
            Status::OffTrack => self.off_track,
            Status::Deteriorating => self.deteriorating,
            Status::NotAchieved => self.not_achieved,
            Status::NoData => self.no_data,
            Status::NotAssessable => self.not_assessable,
        }
    }

    fn count(&mut self, status: Status) {
        let slot = match status {
            Status::Achieved => &mut self.achieved,
            Status::OnTrack => &mut self.on_track,
            Status::Behind => &mut self.behind,
            Status::OffTrack => &mut self.off_track,
            Status::Deteriorating => &mut self.deteriorating,
            Status::NotAchieved => &mut self.not_achieved,
            Status::NoData => &mut self.no_data,
            Status::NotAssessable => &mut self.not_assessable,
        };
        *slot += 1;
    }
}

/// Indicators per grade, keyed as grades are written (`A` … `D`, `—`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GradeCounts {
    #[serde(rename = "A")]
    pub a: usize,
    #[serde(rename = "B")]
    pub b: usize,
    #[serde(rename = "C")]
    pub c: usize,
    #[serde(rename = "D")]
    pub d: usize,
    #[serde(rename = "—")]
    pub not_assessable: usize,
}

impl GradeCounts {
    /// How many indicators have this grade.
    pub fn get(&self, grade: Grade) -> usize {
        match grade {
            Grade::A => self.a,
            Grade::B => self.b,
            Grade::C => self.c,
            Grade::D => self.d,
            Grade::NotAssessable => self.not_assessable,
        }
    }

    fn count(&mut self, grade: Grade) {
        let slot = match grade {
            Grade::A => &mut self.a,
            Grade::B => &mut self.b,
            Grade::C => &mut self.c,
            Grade::D => &mut self.d,
            Grade::NotAssessable => &mut self.not_assessable,
        };
        *slot += 1;
    }
}

/// A group of indicators summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub struct RollUp {
    pub indicator_count: usize,
    pub status_counts: StatusCounts,
    pub grade_counts: GradeCounts,
    /// Achieved indicators as a percent of those with data (rounded); `null` when none has data.
    pub achieved_share: Option<Decimal>,
    /// Mean of the progress rates clamped to [0, 100] (rounded); `null` when none has one.
    pub mean_progress: Option<Decimal>,
    /// Graded from the unrounded mean progress.
    pub grade: Grade,
    /// Indicators with a submission awaiting review.
    pub pending_count: usize,
}

/// **Roll-ups**: "counts of indicators per status and per grade, and the share achieved"; "mean
/// progress with each indicator's progress clamped to [0, 100] first, so one runaway indicator
/// cannot hide a missed one; the roll-up's grade comes from that mean".
///
/// Indicators without a progress rate (no data, not assessable) are counted but left out of the
/// mean. The share achieved is over the indicators that have data (status other than `no_data`).
/// Which indicators belong to a group (◎ goals only, lead or co-owner, active years) is the
/// caller's choice.
pub fn roll_up(items: &[Achievement], settings: &GradingSettings) -> RollUp {
    let mut status_counts = StatusCounts::default();
    let mut grade_counts = GradeCounts::default();
    for item in items {
        status_counts.count(item.status);
        grade_counts.count(item.grade);
    }
    let mean = mean_clamped_progress(items);
    RollUp {
        indicator_count: items.len(),
        achieved_share: achieved_share(items).map(round_for_output),
        mean_progress: mean.map(round_for_output),
        grade: grade(mean, settings),
        pending_count: items.iter().filter(|item| item.pending).count(),
        status_counts,
        grade_counts,
    }
}

/// "the share achieved": achieved indicators × 100 / indicators with data (unrounded).
pub fn achieved_share(items: &[Achievement]) -> Option<Decimal> {
    let with_data = items.iter().filter(|item| item.status != Status::NoData).count();
    let achieved = items.iter().filter(|item| item.achieved == Some(true)).count();
    percent(Decimal::from(achieved), Decimal::from(with_data))
}

/// "Mean progress with each indicator's progress clamped to [0, 100] first" (unrounded); `None`
/// when no indicator has a progress rate.
pub fn mean_clamped_progress(items: &[Achievement]) -> Option<Decimal> {
    let (sum, count) = items
        .iter()
        .filter_map(Achievement::exact_progress)
        .map(|progress| progress.clamp(Decimal::ZERO, HUNDRED))
        .try_fold((Decimal::ZERO, 0_usize), |(sum, count), progress| Some((sum.checked_add(progress)?, count + 1)))?;
    sum.checked_div(Decimal::from(count))
}

/// "Ratio indicators pooled across units … use `Σ numerator / Σ denominator`, never a mean of
/// percents": `(numerator, denominator)` parts → the pooled percent (unrounded). `None` when the
/// denominators sum to zero.
pub fn pooled_rate(parts: &[(Decimal, Decimal)]) -> Option<Decimal> {
    let (numerator, denominator) = parts.iter().try_fold(
        (Decimal::ZERO, Decimal::ZERO),
        |(numerator, denominator), (part_numerator, part_denominator)| {
            Some((numerator.checked_add(*part_numerator)?, denominator.checked_add(*part_denominator)?))
        },
    )?;
    percent(numerator, denominator)
}

// ---------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------

/// "only the numbers the API returns are rounded: half away from zero to one decimal place
/// (57.04 → 57.0, 24.15 → 24.2)", and -24.15 → -24.2.
pub fn round_for_output(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

/// `numerator / denominator × 100`, multiplying first so that the one division is the only
/// rounding. `None` for a zero denominator or an overflow.
fn percent(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    if denominator.is_zero() {
        return None;
    }
    numerator
        .checked_mul(HUNDRED)
        .and_then(|scaled| scaled.checked_div(denominator))
        .or_else(|| numerator.checked_div(denominator)?.checked_mul(HUNDRED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal literal")
    }

    fn some(text: &str) -> Option<Decimal> {
        Some(d(text))
    }

    fn number(text: &str) -> ActualValue {
        ActualValue::Number(d(text))
    }

    fn revision(value: &str, target_year: i32, effective_from_year: i32) -> TargetRevision {
        TargetRevision {
            value: Some(d(value)),
            stage: None,
            target_year,
            effective_from_year,
            interim: BTreeMap::new(),
        }
    }

    /// A trend or milestone target: no value.
    fn valueless_revision(target_year: i32) -> TargetRevision {
        TargetRevision {
            value: None,
            stage: None,
            target_year,
            effective_from_year: target_year - 3,
            interim: BTreeMap::new(),
        }
    }

    fn indicator(direction: Direction, baseline: Option<&str>, baseline_year: Option<i32>) -> IndicatorDefinition {
        IndicatorDefinition {
            direction,
            baseline: baseline.map(d),
            baseline_year,
            baseline_stage: None,
            stage_count: 0,
            grade_basis_override: None,
        }
    }

    /// Stages 仕様調整中 (s0) → 事業者選定完了 → 構築 → サービス開始 (s3), from s0 in `baseline_year`.
    fn service_launch(baseline_year: i32) -> IndicatorDefinition {
        IndicatorDefinition {
            direction: Direction::Milestone,
            baseline: None,
            baseline_year: Some(baseline_year),
            baseline_stage: Some(0),
            stage_count: 4,
            grade_basis_override: None,
        }
    }

    fn evaluate_with(
        def: &IndicatorDefinition,
        target: &TargetRevision,
        year: i32,
        actual: &ActualValue,
        settings: &GradingSettings,
    ) -> Achievement {
        let input = YearInput { year, target: Some(target), approved: Some(actual), pending: false };
        evaluate(def, &input, settings)
    }

    fn evaluate_year(
        def: &IndicatorDefinition,
        target: &TargetRevision,
        year: i32,
        actual: &ActualValue,
    ) -> Achievement {
        evaluate_with(def, target, year, actual, &GradingSettings::default())
    }

    fn inputs(b: Option<&str>, y0: Option<i32>, t: Option<&str>, yt: i32, y: i32) -> RuleInputs {
        RuleInputs { y, b: b.map(d), y0, t: t.map(d), yt, interim: None }
    }

    /// No.1 オープンデータ項目数: 203 (FY2017) → 210 by FY2020, revised to 230 from FY2018.
    fn open_data_items() -> (IndicatorDefinition, Vec<TargetRevision>) {
        (
            indicator(Direction::Increase, Some("203"), Some(2017)),
            vec![revision("210", 2020, 2016), revision("230", 2020, 2018)],
        )
    }

    /// An increase indicator from 0 to 100 due in `year`: progress equals the actual.
    fn progress_of(actual: &str) -> Achievement {
        let def = indicator(Direction::Increase, Some("0"), Some(2020));
        evaluate_year(&def, &revision("100", 2024, 2020), 2024, &number(actual))
    }

    // --- Worked examples of achievement.md -------------------------------------------------

    #[test]
    fn worked_example_no1_open_data_items_fy2019_is_behind_with_grade_c() {
        let (def, revisions) = open_data_items();
        let target = target_in_force(&revisions, 2019).expect("230 is in force");
        let result = evaluate_year(&def, target, 2019, &number("220"));
        assert_eq!(result.achieved, Some(false));
        // 220 / 230 × 100 = 95.652… → 95.7
        assert_eq!(result.attainment_rate, some("95.7"));
        // (220 − 203) / (230 − 203) × 100 = 17/27 × 100 = 62.96… → 63.0
        assert_eq!(result.progress_rate, some("63.0"));
        // 203 + 27 × (2019 − 2017) / (2020 − 2017) = 203 + 18 = 221
        assert_eq!(result.expected, some("221"));
        // r = 17 / 18 = 0.944… < 0.95
        let r = schedule_ratio(def.direction, d("220"), &RuleInputs::new(&def, target, 2019));
        assert!(r > some("0.944") && r < some("0.945"), "{r:?}");
        assert_eq!(result.status, Status::Behind);
        // graded on progress 62.96: C
        assert_eq!(result.grade, Grade::C);
    }

    #[test]
    fn worked_example_no6_my_number_card_ratio_in_target_year_is_not_achieved_grade_b() {
        let def = indicator(Direction::Increase, Some("15.2"), Some(2017));
        let target = revision("35.1", 2020, 2018);
        let actual = ActualValue::Ratio { numerator: d("180000"), denominator: d("570000") };
        let result = evaluate_year(&def, &target, 2020, &actual);
        // a = 180000 / 570000 × 100 = 31.578… → 31.6
        assert_eq!(result.actual_rate_or_value, some("31.6"));
        // 31.578… / 35.1 × 100 = 89.968… → 90.0
        assert_eq!(result.attainment_rate, some("90.0"));
        // (31.578… − 15.2) / 19.9 × 100 = 82.306… → 82.3
        assert_eq!(result.progress_rate, some("82.3"));
        assert_eq!(result.achieved, Some(false));
        assert_eq!(result.status, Status::NotAchieved);
        assert_eq!(result.grade, Grade::B);
    }

    #[test]
    fn worked_example_no2_maintain_at_least_100_is_achieved_at_100_and_not_at_98() {
        let def = indicator(Direction::MaintainAtLeast, Some("100"), Some(2017));
        let target = revision("100", 2020, 2018);

        let kept = evaluate_year(&def, &target, 2019, &number("100"));
        assert_eq!(kept.achieved, Some(true));
        assert_eq!(kept.status, Status::Achieved);
        assert_eq!(kept.progress_rate, some("100"));
        assert_eq!(kept.grade, Grade::A);

        // not achieved: progress = attainment = 98 / 100 × 100 = 98.0
        let missed = evaluate_year(&def, &target, 2019, &number("98"));
        assert_eq!(missed.achieved, Some(false));
        assert_eq!(missed.status, Status::NotAchieved);
        assert_eq!(missed.attainment_rate, some("98.0"));
        assert_eq!(missed.progress_rate, some("98.0"));
        assert_eq!(missed.grade, Grade::B);
    }

    #[test]
    fn worked_example_security_incidents_maintain_at_most_zero() {
        let def = indicator(Direction::MaintainAtMost, Some("0"), Some(2017));
        let target = revision("0", 2020, 2018);

        // a = 0 ≤ t = 0: achieved; a ≤ t with a zero → attainment 100
        let none = evaluate_year(&def, &target, 2019, &number("0"));
        assert_eq!(none.achieved, Some(true));
        assert_eq!(none.status, Status::Achieved);
        assert_eq!(none.attainment_rate, some("100"));
        assert_eq!(none.grade, Grade::A);

        // a = 2 > t = 0: t/a needs t > 0, and a > t → attainment null, progress 0, grade D
        let two = evaluate_year(&def, &target, 2019, &number("2"));
        assert_eq!(two.achieved, Some(false));
        assert_eq!(two.status, Status::NotAchieved);
        assert_eq!(two.attainment_rate, None);
        assert_eq!(two.progress_rate, some("0"));
        assert_eq!(two.grade, Grade::D);
    }

    #[test]
    fn worked_example_no12_trend_up_above_baseline_is_achieved_grade_a() {
        let def = indicator(Direction::TrendUp, Some("2298"), Some(2017));
        let result = evaluate_year(&def, &valueless_revision(2020), 2019, &number("2500"));
        // 2500 > 2298
        assert_eq!(result.achieved, Some(true));
        assert_eq!(result.status, Status::Achieved);
        assert_eq!(result.progress_rate, some("100"));
        assert_eq!(result.attainment_rate, None);
        assert_eq!(result.grade, Grade::A);
    }

    // --- Inputs: target in force and actuals -----------------------------------------------

    #[test]
    fn target_in_force_is_the_latest_revision_effective_by_the_year() {
        let (_, revisions) = open_data_items();
        let value_in = |year| target_in_force(&revisions, year).and_then(|t| t.value);
        assert_eq!(value_in(2015), None);
        assert_eq!(value_in(2016), some("210"));
        assert_eq!(value_in(2017), some("210"));
        assert_eq!(value_in(2018), some("230"));
        assert_eq!(value_in(2021), some("230"));
    }

    #[test]
    fn target_in_force_on_equal_effective_years_is_the_later_revision() {
        let revisions = [revision("3", 2020, 2018), revision("5", 2020, 2018), revision("1", 2020, 2016)];
        let target = target_in_force(&revisions, 2019).and_then(|t| t.value);
        assert_eq!(target, some("5"));
    }

    #[test]
    fn revision_mid_plan_applies_from_its_year_and_earlier_years_keep_the_old_target() {
        let (def, revisions) = open_data_items();
        let evaluate_in = |year| {
            let target = target_in_force(&revisions, year).expect("a target is in force");
            evaluate_year(&def, target, year, &number("211"))
        };
        // FY2017: t = 210, 211 ≥ 210
        assert_eq!(evaluate_in(2017).status, Status::Achieved);
        // FY2018: t = 230, expected 203 + 27 × 1/3 = 212, r = 8/9 = 0.89 → behind
        let fy2018 = evaluate_in(2018);
        assert_eq!(fy2018.expected, some("212"));
        assert_eq!(fy2018.status, Status::Behind);
    }

    #[test]
    fn ratio_actual_is_numerator_over_denominator_times_100() {
        let ratio = ActualValue::Ratio { numerator: d("1"), denominator: d("8") };
        // 1 / 8 × 100 = 12.5
        assert_eq!(ratio.as_rate(), some("12.5"));
        assert_eq!(number("57").as_rate(), some("57"));
        assert_eq!(ActualValue::Stage(2).as_rate(), None);
        assert_eq!(ActualValue::Stage(2).as_stage(), Some(2));
    }

    #[test]
    fn ratio_with_zero_denominator_has_no_rate_and_is_not_assessable() {
        let ratio = ActualValue::Ratio { numerator: d("5"), denominator: d("0") };
        assert_eq!(ratio.as_rate(), None);
        let def = indicator(Direction::Increase, Some("15.2"), Some(2017));
        let result = evaluate_year(&def, &revision("35.1", 2020, 2018), 2020, &ratio);
        assert_eq!(result.status, Status::NotAssessable);
        assert_eq!(result.actual_rate_or_value, None);
        assert_eq!(result.grade, Grade::NotAssessable);
    }

    #[test]
    fn actual_of_the_wrong_kind_is_not_assessable() {
        let (def, revisions) = open_data_items();
        let stage_for_count = evaluate_year(&def, &revisions[1], 2019, &ActualValue::Stage(2));
        assert_eq!(stage_for_count.status, Status::NotAssessable);

        let number_for_milestone = evaluate_year(&service_launch(2017), &valueless_revision(2020), 2019, &number("2"));
        assert_eq!(number_for_milestone.status, Status::NotAssessable);
    }

    #[test]
    fn no_target_in_force_is_not_assessable_but_reports_the_actual() {
        let (def, _) = open_data_items();
        let actual = number("220");
        let input = YearInput { year: 2015, target: None, approved: Some(&actual), pending: false };
        let result = evaluate(&def, &input, &GradingSettings::default());
        assert_eq!(result.status, Status::NotAssessable);
        assert_eq!(result.actual_rate_or_value, some("220"));
        assert_eq!(result.achieved, None);
        assert_eq!(result.grade, Grade::NotAssessable);
    }

    #[test]
    fn no_data_with_a_pending_submission_reports_pending_and_no_grade() {
        let (def, revisions) = open_data_items();
        let input = YearInput { year: 2019, target: target_in_force(&revisions, 2019), approved: None, pending: true };
        let result = evaluate(&def, &input, &GradingSettings::default());
        assert_eq!(result.status, Status::NoData);
        assert!(result.pending);
        assert_eq!(result.grade, Grade::NotAssessable);
        assert_eq!(result.achieved, None);
        assert_eq!(result.actual_rate_or_value, None);
        assert_eq!(result.attainment_rate, None);
        assert_eq!(result.progress_rate, None);
        // where it should be does not depend on the actual: 221 as in No.1
        assert_eq!(result.expected, some("221"));
    }

    // --- achieved and attainment_rate ------------------------------------------------------

    #[test]
    fn increase_attainment_is_null_when_the_target_is_zero() {
        let at = inputs(None, None, Some("0"), 2020, 2020);
        assert_eq!(attainment_rate(Direction::Increase, d("5"), &at), None);
        assert_eq!(attainment_rate(Direction::MaintainAtLeast, d("5"), &at), None);
    }

    #[test]
    fn decrease_target_of_zero_is_achieved_at_zero() {
        let def = indicator(Direction::Decrease, Some("12"), Some(2017));
        let result = evaluate_year(&def, &revision("0", 2020, 2018), 2020, &number("0"));
        assert_eq!(result.achieved, Some(true));
        assert_eq!(result.status, Status::Achieved);
        // a ≤ t and both zero → 100
        assert_eq!(result.attainment_rate, some("100"));
        // (12 − 0) / (12 − 0) × 100 = 100
        assert_eq!(result.progress_rate, some("100"));
        assert_eq!(result.grade, Grade::A);
    }

    #[test]
    fn decrease_target_of_zero_missed_has_null_attainment_and_baseline_relative_progress() {
        let def = indicator(Direction::Decrease, Some("12"), Some(2017));
        let result = evaluate_year(&def, &revision("0", 2020, 2018), 2020, &number("3"));
        assert_eq!(result.status, Status::NotAchieved);
        // t = 0 and a = 3 > t: neither t/a (needs t > 0) nor 100 (needs a ≤ t)
        assert_eq!(result.attainment_rate, None);
        // (12 − 3) / (12 − 0) × 100 = 75
        assert_eq!(result.progress_rate, some("75"));
        assert_eq!(result.grade, Grade::C);
    }

    #[test]
    fn decrease_above_target_attains_target_over_actual() {
        let def = indicator(Direction::Decrease, Some("50"), Some(2017));
        let result = evaluate_year(&def, &revision("20", 2020, 2018), 2020, &number("25"));
        assert_eq!(result.achieved, Some(false));
        assert_eq!(result.status, Status::NotAchieved);
        // t / a × 100 = 20 / 25 × 100 = 80
        assert_eq!(result.attainment_rate, some("80"));
        // (50 − 25) / (50 − 20) × 100 = 83.33… → 83.3
        assert_eq!(result.progress_rate, some("83.3"));
        assert_eq!(result.grade, Grade::B);
    }

    #[test]
    fn decrease_below_target_is_achieved_with_rates_over_100() {
        let def = indicator(Direction::Decrease, Some("50"), Some(2017));
        let result = evaluate_year(&def, &revision("20", 2020, 2018), 2020, &number("16"));
        assert_eq!(result.status, Status::Achieved);
        // 20 / 16 × 100 = 125
        assert_eq!(result.attainment_rate, some("125"));
        // (50 − 16) / 30 × 100 = 113.33… → 113.3, not clamped
        assert_eq!(result.progress_rate, some("113.3"));
    }

    #[test]
    fn decrease_actual_of_zero_under_a_positive_target_attains_100() {
        // a = 0: t/a is undefined, but a ≤ t with a zero → 100
        let at = inputs(None, None, Some("20"), 2020, 2020);
        assert_eq!(attainment_rate(Direction::Decrease, d("0"), &at), some("100"));
        assert_eq!(achieved(Direction::Decrease, d("0"), &at), Some(true));
    }

    // --- progress_rate ---------------------------------------------------------------------

    #[test]
    fn target_equal_to_baseline_has_null_progress_and_no_grade() {
        let def = indicator(Direction::Increase, Some("100"), Some(2017));
        let result = evaluate_year(&def, &revision("100", 2020, 2018), 2020, &number("100"));
        assert_eq!(result.status, Status::Achieved);
        // t − b = 0: progress is null, so the progress-based grade is —
        assert_eq!(result.progress_rate, None);
        assert_eq!(result.attainment_rate, some("100"));
        assert_eq!(result.grade, Grade::NotAssessable);
    }

    #[test]
    fn target_equal_to_baseline_missed_before_target_year_is_deteriorating() {
        let def = indicator(Direction::Increase, Some("100"), Some(2017));
        // expected = 100 + 0 × … = 100: the expected change is zero, r is undefined;
        // a = 95 is worse than expected (= baseline) → deteriorating
        let result = evaluate_year(&def, &revision("100", 2020, 2018), 2018, &number("95"));
        assert_eq!(result.expected, some("100"));
        assert_eq!(result.status, Status::Deteriorating);
    }

    #[test]
    fn status_in_the_baseline_year_is_on_track_unless_worse_than_baseline() {
        let (def, revisions) = open_data_items();
        let target = &revisions[1];
        // y = y0: expected = b = 203, expected change 0
        let held = evaluate_year(&def, target, 2017, &number("203"));
        assert_eq!(held.expected, some("203"));
        assert_eq!(held.status, Status::OnTrack);
        let fell = evaluate_year(&def, target, 2017, &number("200"));
        assert_eq!(fell.status, Status::Deteriorating);
    }

    #[test]
    fn missing_baseline_leaves_progress_null_and_status_not_assessable_before_target_year() {
        let def = indicator(Direction::Increase, None, None);
        let result = evaluate_year(&def, &revision("230", 2020, 2018), 2019, &number("220"));
        assert_eq!(result.progress_rate, None);
        // attainment needs no baseline: 220 / 230 × 100 = 95.7
        assert_eq!(result.attainment_rate, some("95.7"));
        assert_eq!(result.expected, None);
        assert_eq!(result.status, Status::NotAssessable);
        assert_eq!(result.grade, Grade::NotAssessable);
    }

    #[test]
    fn missing_baseline_in_the_target_year_is_judged_against_the_target() {
        let def = indicator(Direction::Increase, None, None);
        let target = revision("230", 2020, 2018);
        let missed = evaluate_year(&def, &target, 2020, &number("220"));
        assert_eq!(missed.status, Status::NotAchieved);
        assert_eq!(missed.expected, some("230"));
        assert_eq!(missed.grade, Grade::NotAssessable);
        let met = evaluate_year(&def, &target, 2020, &number("231"));
        assert_eq!(met.status, Status::Achieved);
        // on the attainment basis the same miss has a grade: 95.65… → B
        let settings = GradingSettings { basis: GradeBasis::Attainment, ..GradingSettings::default() };
        let graded = evaluate_with(&def, &target, 2020, &number("220"), &settings);
        assert_eq!(graded.grade, Grade::B);
    }

    // --- expected --------------------------------------------------------------------------

    #[test]
    fn expected_is_linear_from_baseline_to_target() {
        let at = |y| inputs(Some("203"), Some(2017), Some("230"), 2020, y);
        // 203 + 27 × 1/3, × 2/3, × 3/3
        assert_eq!(expected(Direction::Increase, &at(2018)), some("212"));
        assert_eq!(expected(Direction::Increase, &at(2019)), some("221"));
        assert_eq!(expected(Direction::Increase, &at(2020)), some("230"));
    }

    #[test]
    fn expected_is_capped_at_the_target_after_the_target_year() {
        let (def, revisions) = open_data_items();
        // linear would give 203 + 27 × 5/3 = 248; capped at 230
        let result = evaluate_year(&def, &revisions[1], 2022, &number("229"));
        assert_eq!(result.expected, some("230"));
        assert_eq!(result.status, Status::NotAchieved);
    }

    #[test]
    fn interim_target_takes_precedence_over_the_linear_schedule() {
        let (def, mut revisions) = open_data_items();
        revisions[1].interim.insert(2019, d("210"));
        let fy2019 = evaluate_year(&def, &revisions[1], 2019, &number("220"));
        assert_eq!(fy2019.expected, some("210"));
        // r = (220 − 203) / (210 − 203) = 17/7 = 2.43 → on_track (linear gave behind)
        assert_eq!(fy2019.status, Status::OnTrack);
        // the interim target is for FY2019 only: FY2018 stays linear, 212
        let fy2018 = evaluate_year(&def, &revisions[1], 2018, &number("220"));
        assert_eq!(fy2018.expected, some("212"));
    }

    #[test]
    fn schedule_ratio_is_exact_when_expected_is_a_repeating_fraction() {
        // expected = 100 + 10 × 1/3 = 103.333…, shown 103.3
        let at = inputs(Some("100"), Some(2020), Some("110"), 2023, 2021);
        let shown = expected(Direction::Increase, &at).map(round_for_output);
        assert_eq!(shown, some("103.3"));
        // r = (103.2 − 100) × 3 / 10 = 0.96 exactly, not 3.2 / 3.333…
        assert_eq!(schedule_ratio(Direction::Increase, d("103.2"), &at), some("0.96"));
    }

    // --- status ----------------------------------------------------------------------------

    /// Increase from 100 (FY2020) to 200 (FY2024), evaluated in FY2022: expected 150.
    fn halfway_status(actual: &str, settings: &GradingSettings) -> Status {
        let def = indicator(Direction::Increase, Some("100"), Some(2020));
        evaluate_with(&def, &revision("200", 2024, 2020), 2022, &number(actual), settings).status
    }

    #[test]
    fn on_track_boundary_ratio_exactly_095_is_on_track() {
        let defaults = GradingSettings::default();
        // r = (147.5 − 100) / (150 − 100) = 0.95
        assert_eq!(halfway_status("147.5", &defaults), Status::OnTrack);
        // r = 47.4 / 50 = 0.948
        assert_eq!(halfway_status("147.4", &defaults), Status::Behind);
    }

    #[test]
    fn behind_boundary_ratio_exactly_06_is_behind_and_just_below_is_off_track() {
        let defaults = GradingSettings::default();
        // r = 30 / 50 = 0.6
        assert_eq!(halfway_status("130", &defaults), Status::Behind);
        // r = 29.9 / 50 = 0.598
        assert_eq!(halfway_status("129.9", &defaults), Status::OffTrack);
    }

    #[test]
    fn off_track_from_ratio_zero_up_to_06() {
        let defaults = GradingSettings::default();
        // r = 10 / 50 = 0.2
        assert_eq!(halfway_status("110", &defaults), Status::OffTrack);
        // r = 0 / 50 = 0: no change is off track, not deteriorating
        assert_eq!(halfway_status("100", &defaults), Status::OffTrack);
    }

    #[test]
    fn deteriorating_when_worse_than_baseline_with_negative_unclamped_progress() {
        let def = indicator(Direction::Increase, Some("100"), Some(2020));
        let result = evaluate_year(&def, &revision("200", 2024, 2020), 2022, &number("95"));
        // r = (95 − 100) / 50 = −0.1
        assert_eq!(result.status, Status::Deteriorating);
        // (95 − 100) / (200 − 100) × 100 = −5
        assert_eq!(result.progress_rate, some("-5"));
        assert_eq!(result.grade, Grade::D);
    }

    #[test]
    fn decrease_status_mirrors_increase() {
        // 100 (FY2020) down to 50 (FY2024); FY2022 expected 100 − 50 × 2/4 = 75
        let def = indicator(Direction::Decrease, Some("100"), Some(2020));
        let target = revision("50", 2024, 2020);
        let status_at = |actual| evaluate_year(&def, &target, 2022, &number(actual)).status;
        assert_eq!(evaluate_year(&def, &target, 2022, &number("80")).expected, some("75"));
        // r = (100 − 80) / (100 − 75) = 0.8
        assert_eq!(status_at("80"), Status::Behind);
        // r = 23.75 / 25 = 0.95
        assert_eq!(status_at("76.25"), Status::OnTrack);
        // r = (100 − 105) / 25 = −0.2
        assert_eq!(status_at("105"), Status::Deteriorating);
        // (100 − 80) / (100 − 50) × 100 = 40
        assert_eq!(evaluate_year(&def, &target, 2022, &number("80")).progress_rate, some("40"));
    }

    #[test]
    fn status_ratios_come_from_the_plan_settings() {
        let lenient = GradingSettings { on_track_min_ratio: d("0.9"), ..GradingSettings::default() };
        // r = 45 / 50 = 0.9
        assert_eq!(halfway_status("145", &lenient), Status::OnTrack);
        assert_eq!(halfway_status("145", &GradingSettings::default()), Status::Behind);
    }

    #[test]
    fn maintain_is_achieved_or_not_achieved_before_the_target_year_too() {
        let def = indicator(Direction::MaintainAtLeast, Some("100"), Some(2017));
        let result = evaluate_year(&def, &revision("100", 2020, 2018), 2018, &number("98"));
        assert_eq!(result.status, Status::NotAchieved);
        assert_eq!(result.expected, some("100"));
    }

    // --- trends ----------------------------------------------------------------------------

    #[test]
    fn trend_up_not_above_baseline_in_target_year_is_not_achieved_with_progress_0() {
        let def = indicator(Direction::TrendUp, Some("2298"), Some(2017));
        let result = evaluate_year(&def, &valueless_revision(2020), 2020, &number("2298"));
        // a > b is false for a = b
        assert_eq!(result.status, Status::NotAchieved);
        assert_eq!(result.progress_rate, some("0"));
        assert_eq!(result.grade, Grade::D);
    }

    #[test]
    fn trend_down_below_baseline_is_achieved() {
        let def = indicator(Direction::TrendDown, Some("100"), Some(2017));
        let result = evaluate_year(&def, &valueless_revision(2020), 2018, &number("90"));
        assert_eq!(result.status, Status::Achieved);
        assert_eq!(result.progress_rate, some("100"));
    }

    #[test]
    fn trend_before_target_year_is_on_track_while_level_and_behind_when_worse() {
        let def = indicator(Direction::TrendUp, Some("2298"), Some(2017));
        let target = valueless_revision(2020);
        let level = evaluate_year(&def, &target, 2018, &number("2298"));
        assert_eq!(level.status, Status::OnTrack);
        let worse = evaluate_year(&def, &target, 2018, &number("2200"));
        assert_eq!(worse.status, Status::Behind);
        assert_eq!(worse.grade, Grade::D);
    }

    #[test]
    fn trend_without_baseline_is_not_assessable() {
        let def = indicator(Direction::TrendUp, None, None);
        let result = evaluate_year(&def, &valueless_revision(2020), 2019, &number("2500"));
        assert_eq!(result.status, Status::NotAssessable);
        assert_eq!(result.achieved, None);
        assert_eq!(result.progress_rate, None);
        assert_eq!(result.grade, Grade::NotAssessable);
    }

    // --- milestones ------------------------------------------------------------------------

    #[test]
    fn milestone_progress_is_reached_stage_over_target_stage() {
        let def = service_launch(2017);
        let target = valueless_revision(2020);
        // n = 3 (サービス開始); reached 2: 2 / 3 × 100 = 66.67 → 66.7
        let partway = evaluate_year(&def, &target, 2020, &ActualValue::Stage(2));
        assert_eq!(partway.progress_rate, some("66.7"));
        assert_eq!(partway.status, Status::NotAchieved);
        assert_eq!(partway.attainment_rate, None);
        assert_eq!(partway.grade, Grade::C);
        let done = evaluate_year(&def, &target, 2020, &ActualValue::Stage(3));
        assert_eq!(done.status, Status::Achieved);
        assert_eq!(done.progress_rate, some("100"));
        assert_eq!(done.grade, Grade::A);
    }

    #[test]
    fn milestone_target_stage_of_the_revision_overrides_the_last_stage() {
        let mut target = valueless_revision(2020);
        target.stage = Some(2);
        // n = 2: reached 2 → 2 / 2 × 100 = 100, achieved
        let result = evaluate_year(&service_launch(2017), &target, 2020, &ActualValue::Stage(2));
        assert_eq!(result.status, Status::Achieved);
        assert_eq!(result.progress_rate, some("100"));
    }

    #[test]
    fn milestone_before_target_year_is_on_track_at_or_past_the_roadmap_stage() {
        let def = service_launch(2017);
        let mut target = valueless_revision(2020);
        target.interim = BTreeMap::from([(2018, d("1")), (2019, d("2"))]);
        let at = |year, stage| evaluate_year(&def, &target, year, &ActualValue::Stage(stage));
        assert_eq!(at(2019, 2).expected, some("2"));
        assert_eq!(at(2019, 2).status, Status::OnTrack);
        assert_eq!(at(2019, 1).status, Status::Behind);
        assert_eq!(at(2018, 1).status, Status::OnTrack);
    }

    #[test]
    fn milestone_without_roadmap_follows_the_linear_stage_rounded_down() {
        // s0 in FY2016 to s3 in FY2020; FY2018: 0 + 3 × 2/4 = 1.5 → stage 1
        let def = service_launch(2016);
        let target = valueless_revision(2020);
        let at_stage_1 = evaluate_year(&def, &target, 2018, &ActualValue::Stage(1));
        assert_eq!(at_stage_1.expected, some("1"));
        assert_eq!(at_stage_1.status, Status::OnTrack);
        let at_stage_0 = evaluate_year(&def, &target, 2018, &ActualValue::Stage(0));
        assert_eq!(at_stage_0.status, Status::Behind);
    }

    // --- grades ----------------------------------------------------------------------------

    #[test]
    fn grade_thresholds_are_inclusive_so_80_is_b() {
        let defaults = GradingSettings::default();
        let grade_of = |rate: &str| grade(some(rate), &defaults);
        assert_eq!(grade_of("100"), Grade::A);
        assert_eq!(grade_of("99.99"), Grade::B);
        assert_eq!(grade_of("80"), Grade::B);
        assert_eq!(grade_of("79.99"), Grade::C);
        assert_eq!(grade_of("50"), Grade::C);
        assert_eq!(grade_of("49.99"), Grade::D);
        assert_eq!(grade_of("-5"), Grade::D);
        assert_eq!(grade(None, &defaults), Grade::NotAssessable);
    }

    #[test]
    fn grade_thresholds_come_from_the_plan_settings() {
        let strict = GradingSettings {
            grade_a_min: d("110"),
            grade_b_min: d("90"),
            grade_c_min: d("60"),
            ..GradingSettings::default()
        };
        assert_eq!(grade(some("100"), &strict), Grade::B);
        assert_eq!(grade(some("55"), &strict), Grade::D);
    }

    #[test]
    fn grade_reads_the_unrounded_rate_so_79_96_is_c_though_shown_as_80_0() {
        // progress (79.96 − 0) / (100 − 0) × 100 = 79.96
        let result = progress_of("79.96");
        assert_eq!(result.progress_rate, some("80.0"));
        assert_eq!(result.exact_progress(), some("79.96"));
        assert_eq!(result.grade, Grade::C);
    }

    #[test]
    fn attainment_basis_grades_decrease_on_target_over_actual() {
        let def = indicator(Direction::Decrease, Some("100"), Some(2017));
        let target = revision("50", 2020, 2018);
        let actual = number("62.5");
        // progress (100 − 62.5) / (100 − 50) × 100 = 75 → C
        let by_progress = evaluate_year(&def, &target, 2020, &actual);
        assert_eq!(by_progress.grade, Grade::C);
        assert_eq!(by_progress.grade_basis, GradeBasis::Progress);
        // attainment 50 / 62.5 × 100 = 80 → B
        let settings = GradingSettings { basis: GradeBasis::Attainment, ..GradingSettings::default() };
        let by_attainment = evaluate_with(&def, &target, 2020, &actual, &settings);
        assert_eq!(by_attainment.attainment_rate, some("80"));
        assert_eq!(by_attainment.grade, Grade::B);
        assert_eq!(by_attainment.grade_basis, GradeBasis::Attainment);
    }

    #[test]
    fn indicator_grade_basis_override_wins_over_the_plan() {
        let mut def = indicator(Direction::Decrease, Some("100"), Some(2017));
        let target = revision("50", 2020, 2018);
        let actual = number("62.5");
        let attainment_plan = GradingSettings { basis: GradeBasis::Attainment, ..GradingSettings::default() };
        def.grade_basis_override = Some(GradeBasis::Progress);
        let result = evaluate_with(&def, &target, 2020, &actual, &attainment_plan);
        assert_eq!((result.grade_basis, result.grade), (GradeBasis::Progress, Grade::C));
        def.grade_basis_override = Some(GradeBasis::Attainment);
        let result = evaluate_year(&def, &target, 2020, &actual);
        assert_eq!((result.grade_basis, result.grade), (GradeBasis::Attainment, Grade::B));
    }

    #[test]
    fn attainment_basis_leaves_maintain_trend_and_milestone_graded_on_progress() {
        let settings = GradingSettings { basis: GradeBasis::Attainment, ..GradingSettings::default() };
        // two security incidents against 0: attainment null, progress 0 → still D, not —
        let def = indicator(Direction::MaintainAtMost, Some("0"), Some(2017));
        let incidents = evaluate_with(&def, &revision("0", 2020, 2018), 2019, &number("2"), &settings);
        assert_eq!((incidents.grade_basis, incidents.grade), (GradeBasis::Progress, Grade::D));
        let def = indicator(Direction::TrendUp, Some("2298"), Some(2017));
        let trend = evaluate_with(&def, &valueless_revision(2020), 2019, &number("2500"), &settings);
        assert_eq!((trend.grade_basis, trend.grade), (GradeBasis::Progress, Grade::A));
        let stage = ActualValue::Stage(3);
        let launch = evaluate_with(&service_launch(2017), &valueless_revision(2020), 2020, &stage, &settings);
        assert_eq!((launch.grade_basis, launch.grade), (GradeBasis::Progress, Grade::A));
    }

    // --- rounding --------------------------------------------------------------------------

    #[test]
    fn round_for_output_is_half_away_from_zero_including_negatives() {
        assert_eq!(round_for_output(d("57.04")), d("57.0"));
        assert_eq!(round_for_output(d("24.15")), d("24.2"));
        assert_eq!(round_for_output(d("-24.15")), d("-24.2"));
        assert_eq!(round_for_output(d("0.05")), d("0.1"));
        assert_eq!(round_for_output(d("-0.05")), d("-0.1"));
        assert_eq!(round_for_output(d("-24.14")), d("-24.1"));
        assert_eq!(round_for_output(d("221")), d("221"));
    }

    #[test]
    fn returned_rates_are_rounded_but_the_exact_progress_is_kept() {
        let (def, revisions) = open_data_items();
        let result = evaluate_year(&def, &revisions[1], 2019, &number("220"));
        // 1700 / 27 = 62.962962…
        assert_eq!(result.progress_rate, some("63.0"));
        let exact = result.exact_progress().expect("a progress rate");
        assert!(exact > d("62.9629") && exact < d("62.9630"), "{exact}");
    }

    // --- roll-ups --------------------------------------------------------------------------

    #[test]
    fn pooled_rate_sums_parts_instead_of_averaging_percents() {
        // department A 90 / 100 = 90 %, department B 100 / 1000 = 10 %
        let parts = [(d("90"), d("100")), (d("100"), d("1000"))];
        let pooled = pooled_rate(&parts).expect("a pooled rate");
        // (90 + 100) / (100 + 1000) × 100 = 17.27… → 17.3
        assert_eq!(round_for_output(pooled), d("17.3"));
        // the mean of percents would be (90 + 10) / 2 = 50
        let mean_of_percents = (d("90") + d("10")) / d("2");
        assert_ne!(round_for_output(pooled), mean_of_percents);
    }

    #[test]
    fn pooled_rate_is_none_when_the_denominators_sum_to_zero() {
        assert_eq!(pooled_rate(&[]), None);
        assert_eq!(pooled_rate(&[(d("0"), d("0"))]), None);
        assert_eq!(pooled_rate(&[(d("1"), d("5")), (d("1"), d("-5"))]), None);
    }

    #[test]
    fn roll_up_clamps_progress_to_0_100_before_the_mean() {
        let items = [progress_of("250"), progress_of("20")];
        let summary = roll_up(&items, &GradingSettings::default());
        // (min(250, 100) + 20) / 2 = 60, not (250 + 20) / 2 = 135
        assert_eq!(summary.mean_progress, some("60"));
        assert_eq!(summary.grade, Grade::C);
    }

    #[test]
    fn roll_up_clamps_negative_progress_to_zero() {
        let items = [progress_of("-40"), progress_of("80")];
        let summary = roll_up(&items, &GradingSettings::default());
        // (max(−40, 0) + 80) / 2 = 40
        assert_eq!(summary.mean_progress, some("40"));
        assert_eq!(summary.grade, Grade::D);
    }

    #[test]
    fn roll_up_counts_indicators_without_progress_but_leaves_them_out_of_the_mean() {
        let (def, revisions) = open_data_items();
        let pending = YearInput { year: 2019, target: Some(&revisions[1]), approved: None, pending: true };
        let actual = number("220");
        let no_target = YearInput { year: 2015, target: None, approved: Some(&actual), pending: false };
        let settings = GradingSettings::default();
        let items = [progress_of("100"), evaluate(&def, &pending, &settings), evaluate(&def, &no_target, &settings)];
        let summary = roll_up(&items, &settings);
        assert_eq!(summary.indicator_count, 3);
        assert_eq!(summary.mean_progress, some("100"));
        assert_eq!(summary.grade, Grade::A);
        assert_eq!(summary.status_counts.get(Status::Achieved), 1);
        assert_eq!(summary.status_counts.no_data, 1);
        assert_eq!(summary.status_counts.not_assessable, 1);
        assert_eq!(summary.grade_counts.get(Grade::A), 1);
        assert_eq!(summary.grade_counts.not_assessable, 2);
        assert_eq!(summary.pending_count, 1);
        // achieved 1 of the 2 with data: 50
        assert_eq!(summary.achieved_share, some("50"));
    }

    #[test]
    fn roll_up_achieved_share_is_over_indicators_with_data() {
        let (def, revisions) = open_data_items();
        let no_data = YearInput { year: 2019, target: Some(&revisions[1]), approved: None, pending: false };
        let settings = GradingSettings::default();
        let items = [progress_of("100"), progress_of("20"), progress_of("30"), evaluate(&def, &no_data, &settings)];
        let summary = roll_up(&items, &settings);
        // 1 achieved of 3 with data: 33.33… → 33.3 (the no-data indicator is not in the base)
        assert_eq!(summary.achieved_share, some("33.3"));
        assert_eq!(summary.status_counts.not_achieved, 2);
    }

    #[test]
    fn roll_up_of_no_indicators_has_no_mean_and_no_grade() {
        let summary = roll_up(&[], &GradingSettings::default());
        assert_eq!(summary.indicator_count, 0);
        assert_eq!(summary.mean_progress, None);
        assert_eq!(summary.achieved_share, None);
        assert_eq!(summary.grade, Grade::NotAssessable);
    }

    // --- settings and wire format ----------------------------------------------------------

    #[test]
    fn grading_settings_default_to_100_80_50_and_ratios_095_06() {
        let defaults = GradingSettings::default();
        assert_eq!(defaults.basis, GradeBasis::Progress);
        assert_eq!((defaults.grade_a_min, defaults.grade_b_min, defaults.grade_c_min), (d("100"), d("80"), d("50")));
        assert_eq!((defaults.on_track_min_ratio, defaults.behind_min_ratio), (d("0.95"), d("0.6")));
        assert_eq!(validate_grading(&defaults), Ok(()));
    }

    #[test]
    fn validate_grading_rejects_thresholds_out_of_order() {
        let with = |change: fn(&mut GradingSettings)| {
            let mut settings = GradingSettings::default();
            change(&mut settings);
            validate_grading(&settings)
        };
        assert!(with(|s| s.grade_b_min = d("120")).is_err());
        assert!(with(|s| s.grade_c_min = d("-1")).is_err());
        assert!(with(|s| s.behind_min_ratio = d("0.99")).is_err());
        assert!(with(|s| s.behind_min_ratio = d("-0.1")).is_err());
        assert!(with(|s| s.grade_a_min = d("80")).is_ok());
    }

    fn text<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).expect("json")
    }

    #[test]
    fn grades_and_statuses_serialize_as_the_contract_writes_them() {
        assert_eq!(text(&Grade::A), r#""A""#);
        assert_eq!(text(&Grade::NotAssessable), r#""—""#);
        assert_eq!(text(&Status::NotAchieved), r#""not_achieved""#);
        assert_eq!(text(&Status::OnTrack), r#""on_track""#);
        assert_eq!(text(&Direction::MaintainAtLeast), r#""maintain_at_least""#);
        assert_eq!(text(&GradeBasis::Attainment), r#""attainment""#);
        assert_eq!(text(&GradeCounts::default()), r#"{"A":0,"B":0,"C":0,"D":0,"—":0}"#);
        let parsed: Grade = serde_json::from_str(r#""—""#).expect("a grade");
        assert_eq!(parsed, Grade::NotAssessable);
    }

    #[test]
    fn grading_settings_missing_fields_take_their_defaults() {
        let settings: GradingSettings = serde_json::from_str(r#"{"basis":"attainment"}"#).expect("grading settings");
        assert_eq!(settings, GradingSettings { basis: GradeBasis::Attainment, ..GradingSettings::default() });
    }

    #[test]
    fn exact_progress_is_neither_serialized_nor_in_the_schema() {
        let json = serde_json::to_value(progress_of("20")).expect("json");
        assert!(json.get("exact_progress").is_none());
        assert!(json.get("progress_rate").is_some());
        let schema = text(&Achievement::schema());
        assert!(!schema.contains("exact_progress"));
        assert!(schema.contains("progress_rate"));
    }

    #[test]
    fn extreme_inputs_never_panic() {
        let values = [Decimal::MAX, Decimal::MIN, Decimal::ZERO, d("-1"), d("0.0000000000000000000000000001")];
        let directions = [
            Direction::Increase,
            Direction::Decrease,
            Direction::MaintainAtLeast,
            Direction::MaintainAtMost,
            Direction::TrendUp,
            Direction::TrendDown,
            Direction::Milestone,
        ];
        let settings = GradingSettings::default();
        let mut results = Vec::new();
        for direction in directions {
            for baseline in values.iter().copied().map(Some).chain([None]) {
                for t in values {
                    for (y0, yt, y) in [(i32::MIN, i32::MAX, 0), (2017, 2020, i32::MAX), (2017, 2020, 2019)] {
                        let def = IndicatorDefinition {
                            direction,
                            baseline,
                            baseline_year: Some(y0),
                            baseline_stage: Some(usize::MAX),
                            stage_count: usize::MAX,
                            grade_basis_override: None,
                        };
                        let mut target = revision("0", yt, y0);
                        target.value = Some(t);
                        target.interim.insert(y, t);
                        for a in values {
                            let actuals = [
                                ActualValue::Number(a),
                                ActualValue::Ratio { numerator: a, denominator: values[4] },
                                ActualValue::Stage(usize::MAX),
                            ];
                            for actual in &actuals {
                                results.push(evaluate_year(&def, &target, y, actual));
                                target.interim.clear();
                                results.push(evaluate_year(&def, &target, y, actual));
                                target.interim.insert(y, t);
                            }
                        }
                    }
                }
            }
        }
        let summary = roll_up(&results, &settings);
        assert_eq!(summary.indicator_count, results.len());
        assert_eq!(pooled_rate(&[(Decimal::MAX, d("1")), (Decimal::MAX, d("1"))]), None);
    }
}
