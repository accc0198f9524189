//! The 本部's evaluation of a whole plan for one fiscal year: every indicator's achievement,
//! roll-ups per measure, basic goal (◎ only; ○ listed), strategy, department and plan, and the
//! lists the 本部 acts on. Loading takes a fixed number of queries, whatever the plan's size;
//! evaluating is pure.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::measure_year::{self, Context as EvaluationContext, EvaluationRecords, MeasureEvaluationSummary};
use super::{evaluate_year, indicator_counts_in};
use crate::db::DbConnection;
use crate::db::actuals;
use crate::db::collections;
use crate::db::departments;
use crate::db::indicators;
use crate::db::measures;
use crate::db::name_revisions::{self, Named};
use crate::db::plans;
use crate::domain::achievement::{Achievement, Direction, GradingSettings, RollUp, Status, pooled_rate, roll_up};
use crate::domain::actual::{ActualEvent, ActualState, Reported};
use crate::domain::collection::{Collection, lateness};
use crate::domain::department::Department;
use crate::domain::ids::PlanId;
use crate::domain::indicator::{Baseline, DefinitionRevision, Indicator, TargetRevision};
use crate::domain::measure::Measure;
use crate::domain::name_history::{NameRevision, name_in_force};
use crate::domain::plan::{ActualStatus, IndicatorKind, MeasureStatus};
use crate::domain::plan::{Goal, Plan, Strategy, label, strategy_numeral};
use crate::domain::submission::ActualEventKind;
use crate::error::AppError;

/// Everything recorded about a plan, loaded in bulk: its records besides the actuals, shared with
/// [`super::records_cache`] rather than copied for each request, and the actuals read for it.
/// The records are read through it as its own fields (`records.indicators`); changing one (the
/// report's measures with roadmaps) copies them first if the cache shares them.
pub struct PlanRecords {
    beside_actuals: Arc<RecordsBesideActuals>,
    pub events: Vec<actuals::IndicatorEvent>,
}

impl std::ops::Deref for PlanRecords {
    type Target = RecordsBesideActuals;

    fn deref(&self) -> &RecordsBesideActuals {
        &self.beside_actuals
    }
}

impl std::ops::DerefMut for PlanRecords {
    fn deref_mut(&mut self) -> &mut RecordsBesideActuals {
        Arc::make_mut(&mut self.beside_actuals)
    }
}

impl PlanRecords {
    /// The approved figures of `years`, indicator by indicator and year by year, as open data
    /// shows them, each with whether it is generated sample data (never a real figure).
    pub fn approved_rows(&self, years: std::ops::RangeInclusive<i32>) -> Vec<(crate::spreadsheet::OpenDataRow, bool)> {
        let mut rows = Vec::new();
        for indicator in &self.indicators {
            let Some(measure) = self.measures.iter().find(|m| m.id == indicator.measure_id) else { continue };
            for year in years.clone() {
                let events = self.events.iter().filter(|e| e.indicator_id == indicator.id && e.fiscal_year == year);
                let Some(approved) = ActualState::fold(events.map(|e| &e.event), None).approved else { continue };
                let row = crate::spreadsheet::OpenDataRow {
                    fiscal_year: year,
                    measure_number: measure.number,
                    measure_name: measure.name.clone(),
                    indicator_id: indicator.id,
                    indicator_name: indicator.name.clone(),
                    unit: indicator.unit.clone(),
                    value: approved.reported.value,
                    numerator: approved.reported.numerator,
                    denominator: approved.reported.denominator,
                    rate: approved.reported.rate().map(crate::domain::achievement::round_for_output),
                    stage_name: approved
                        .reported
                        .stage
                        .and_then(|s| usize::try_from(s).ok())
                        .and_then(|s| indicator.stages.get(s).cloned()),
                    approved_at: approved.recorded_at,
                };
                rows.push((row, approved.is_sample));
            }
        }
        rows
    }

    /// The name `entity` bore in `year` as recorded at `as_of`.
    fn name_of<'a>(&'a self, entity: Named, current: &'a str, year: i32, as_of: Option<NaiveDateTime>) -> &'a str {
        let revisions = self.names.get(&entity).map(Vec::as_slice).unwrap_or_default();
        name_in_force(current, revisions, Some(year), as_of)
    }
}

/// Loads a plan's records with a fixed number of queries (no query per measure or indicator),
/// with the actuals of every year.
pub fn load(conn: &mut DbConnection, plan_id: PlanId) -> Result<PlanRecords, AppError> {
    let beside_actuals = RecordsBesideActuals::load(conn, plan_id, None)?;
    with_actuals(conn, Arc::new(beside_actuals), None)
}

/// [`load`] with only the actuals of `year`: all that [`evaluate`] uses for that year.
pub fn load_year(conn: &mut DbConnection, plan_id: PlanId, year: i32) -> Result<PlanRecords, AppError> {
    let beside_actuals = RecordsBesideActuals::load(conn, plan_id, Some(year))?;
    with_actuals(conn, Arc::new(beside_actuals), Some(year))
}

/// A plan's records but its actuals: what the writes of actuals, most of collection week's, leave
/// as it was ([`crate::db::WriteScope::MunicipalityActuals`]), so it can be kept across them
/// ([`super::records_cache`]).
#[derive(Debug, Clone)]
pub struct RecordsBesideActuals {
    pub plan: Plan,
    pub goals: Vec<Goal>,
    pub strategies: Vec<Strategy>,
    pub measures: Vec<Measure>,
    pub indicators: Vec<Indicator>,
    pub targets: BTreeMap<i32, Vec<TargetRevision>>,
    pub definitions: Vec<DefinitionRevision>,
    pub departments: Vec<Department>,
    pub collections: Vec<Collection>,
    pub names: BTreeMap<Named, Vec<NameRevision>>,
    pub measure_evaluations: EvaluationRecords,
}

impl RecordsBesideActuals {
    /// A fixed number of queries, whatever the plan's size; the measures' 施策評価 of `year` (of
    /// every year: `None`).
    pub fn load(conn: &mut DbConnection, plan_id: PlanId, year: Option<i32>) -> Result<Self, AppError> {
        let plan = plans::get(conn, plan_id)?;
        let goals = plans::list_goals(conn, plan_id)?;
        let strategies = plans::list_strategies(conn, plan_id)?;
        // The measures' yearly roadmaps are not evaluated: not read.
        let measures = measures::list_for_plan_without_roadmaps(conn, plan_id)?;
        let (indicators, targets) = indicators::list_for_plan_with_targets(conn, plan_id)?;
        let ids: Vec<i32> = indicators.iter().map(|i| i.id).collect();
        let definitions = indicators::list_definitions(conn, &ids)?;
        // A plan's owners are of its municipality; the others' departments are not read.
        let departments = departments::list_for_municipality(conn, plan.municipality_id)?;
        let collections = collections::list(conn, plan_id)?;
        let measure_ids: Vec<i32> = measures.iter().map(|m| m.id).collect();
        let names = name_revisions::for_entities(conn, &[plan_id.get()], &measure_ids, &ids)?;
        let measure_evaluations = EvaluationRecords::load(conn, &measure_ids, year)?;
        Ok(Self {
            plan,
            goals,
            strategies,
            measures,
            indicators,
            targets,
            definitions,
            departments,
            collections,
            names,
            measure_evaluations,
        })
    }

    /// How many records it holds: a measure of what keeping it costs.
    pub fn record_count(&self) -> usize {
        self.goals.len()
            + self.strategies.len()
            + self.measures.len()
            + self.indicators.len()
            + self.targets.values().map(Vec::len).sum::<usize>()
            + self.definitions.len()
            + self.departments.len()
            + self.collections.len()
            + self.names.values().map(Vec::len).sum::<usize>()
            + self.measure_evaluations.record_count()
    }
}

/// The plan's records: `records` with the actuals of `year` (of every year: `None`), read now.
pub fn with_actuals(
    conn: &mut DbConnection,
    records: Arc<RecordsBesideActuals>,
    year: Option<i32>,
) -> Result<PlanRecords, AppError> {
    // The plan's indicators as they are now: those of `records`, unless the plan changed since they
    // were read; an answer computed then is kept at the older version, which no later request reads.
    let plan_id = PlanId::new(records.plan.id);
    let events = match year {
        Some(year) => actuals::events_of_plan_in_year(conn, plan_id, year)?,
        None => actuals::events_of_plan(conn, plan_id)?,
    };
    Ok(PlanRecords { beside_actuals: records, events })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    Missing,
    Submitted,
    Returned,
    Approved,
}

/// The figures that were used (approved), as a reader of the 進捗管理表 expects them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsedActual {
    #[serde(flatten)]
    pub reported: Reported,
    /// Ratios: the percent, rounded
    #[schema(value_type = Option<f64>)]
    pub rate: Option<Decimal>,
    pub stage_name: Option<String>,
    pub note: String,
    pub is_sample: bool,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub approved_at: NaiveDateTime,
}

/// Figures a department sent that are not the official ones (yet): awaiting review, or returned.
/// Shown beside the approved figures; never graded or counted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingActual {
    #[serde(flatten)]
    pub reported: Reported,
    /// Ratios: the percent, rounded
    #[schema(value_type = Option<f64>)]
    pub rate: Option<Decimal>,
    pub stage_name: Option<String>,
    pub note: String,
    pub is_sample: bool,
    /// `submitted` (awaiting review) or `returned`
    pub status: ActualStatus,
    pub version: i32,
    /// When this version was recorded
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorEvaluation {
    pub indicator_id: i32,
    pub measure_id: i32,
    pub measure_number: i32,
    pub number: Option<i32>,
    /// The name in force this year (a definition revision may have renamed it)
    #[schema(example = "マイナンバーカードの交付率(交付件数/人口)")]
    pub name: String,
    pub unit: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    /// Who reports it: the indicator's own department, else the measure's owners this year
    pub department_ids: Vec<i32>,
    pub department_names: Vec<String>,
    pub baseline: Baseline,
    pub target: Option<TargetRevision>,
    /// The definition revision used, when the indicator's definition was revised
    pub definition: Option<DefinitionRevision>,
    /// The approved figures used for the result
    pub actual: Option<UsedActual>,
    /// Newer figures awaiting review or returned (the approved ones, if any, still count)
    pub pending_actual: Option<PendingActual>,
    pub submission: SubmissionState,
    /// Version of the latest actual (the ETag's number; import files carry it as 版)
    pub actual_version: Option<i32>,
    /// 期限超過: still outstanding (missing or returned) after the collection's deadline
    pub late: bool,
    /// 期限後提出: the figures now in (awaiting review or approved) came in after the deadline
    pub submitted_late: bool,
    pub result: Achievement,
}

/// Ratio indicators with the same definition in a group, pooled: Σ numerator / Σ denominator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PooledRatio {
    #[schema(example = "データ化完了数")]
    pub numerator_label: String,
    #[schema(example = "資料数")]
    pub denominator_label: String,
    #[schema(value_type = f64)]
    pub numerator: Decimal,
    #[schema(value_type = f64)]
    pub denominator: Decimal,
    #[schema(value_type = Option<f64>, example = 97.5)]
    pub rate: Option<Decimal>,
    pub indicator_ids: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureEvaluation {
    pub measure_id: i32,
    pub number: i32,
    #[schema(example = "マイナンバー制度への対応")]
    pub name: String,
    pub main_goal_id: Option<i32>,
    pub secondary_goal_ids: Vec<i32>,
    pub strategy_id: Option<i32>,
    pub owner_department_ids: Vec<i32>,
    pub status: MeasureStatus,
    pub roll_up: RollUp,
    pub pooled_ratios: Vec<PooledRatio>,
    /// The year's 施策評価 in brief: each owning department's evaluation, 本部評価 and 方向性
    pub measure_evaluation: MeasureEvaluationSummary,
}

/// One department's 施策評価 of one measure in a list the 本部 acts on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureDepartmentRef {
    pub measure_id: i32,
    pub measure_number: i32,
    pub measure_name: String,
    pub department_id: i32,
    pub department_name: String,
}

/// A measure in a list the 本部 acts on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureRef {
    pub measure_id: i32,
    pub measure_number: i32,
    pub measure_name: String,
}

/// A roll-up over a basic goal, a strategy or a department.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupEvaluation {
    pub id: i32,
    pub number: Option<i32>,
    /// Goals only: the level (`基本目標`, `ICT活用ビジョン`, `基本方針`, `計画の目的`)
    #[schema(example = "基本目標")]
    pub kind: Option<String>,
    /// `①開かれた区政の実現`, `Ⅰ 官民データの利活用`, `戸籍住民課`
    #[schema(example = "②区民サービスの向上")]
    pub label: String,
    pub name: String,
    /// Measures counted here (◎ for goals, also under the goals below it; lead or co-owner for
    /// departments)
    pub measure_ids: Vec<i32>,
    /// Goals only: measures that list this goal as ○ (not counted)
    pub secondary_measure_ids: Vec<i32>,
    pub roll_up: RollUp,
    pub pooled_ratios: Vec<PooledRatio>,
}

/// One indicator in a list the 本部 acts on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorRef {
    pub indicator_id: i32,
    pub measure_number: i32,
    pub indicator_number: Option<i32>,
    pub name: String,
    pub department_names: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ActionLists {
    /// No actual submitted
    pub missing: Vec<IndicatorRef>,
    /// Submitted, waiting for review
    pub pending_review: Vec<IndicatorRef>,
    /// Returned to the department
    pub returned: Vec<IndicatorRef>,
    /// 期限超過: still outstanding (missing or returned) after the collection's deadline
    pub late: Vec<IndicatorRef>,
    /// 期限後提出: in, but submitted after the deadline
    pub submitted_late: Vec<IndicatorRef>,
    pub off_track: Vec<IndicatorRef>,
    pub deteriorating: Vec<IndicatorRef>,
    pub not_achieved: Vec<IndicatorRef>,
    /// 施策評価 not submitted by an owning department
    pub evaluations_missing: Vec<MeasureDepartmentRef>,
    /// 施策評価 submitted, waiting for review
    pub evaluations_pending_review: Vec<MeasureDepartmentRef>,
    /// 施策評価 returned to the department
    pub evaluations_returned: Vec<MeasureDepartmentRef>,
    /// 施策評価 missing or returned after the collection deadline
    pub evaluations_late: Vec<MeasureDepartmentRef>,
    /// Measures without a 本部評価 yet
    pub unassessed: Vec<MeasureRef>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanEvaluation {
    pub plan_id: i32,
    /// The plan's name in force in the fiscal year, as recorded at `as_of`
    #[schema(example = "板橋区ICT推進・活用計画2020（追録版）")]
    pub plan_name: String,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    /// Evaluated with only what was recorded by this time (UTC), when given
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub as_of: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub evaluated_at: NaiveDateTime,
    /// The grading settings used
    pub grading: GradingSettings,
    pub collection: Option<Collection>,
    /// The whole plan
    pub plan_roll_up: RollUp,
    pub goals: Vec<GroupEvaluation>,
    pub strategies: Vec<GroupEvaluation>,
    pub departments: Vec<GroupEvaluation>,
    pub measures: Vec<MeasureEvaluation>,
    pub indicators: Vec<IndicatorEvaluation>,
    pub lists: ActionLists,
}

/// Whether a measure is part of the plan in `year` as recorded at `as_of`.
pub(crate) fn measure_counts_in(measure: &Measure, year: i32, as_of: Option<NaiveDateTime>) -> bool {
    let recorded = |at: NaiveDateTime| as_of.is_none_or(|t| at <= t);
    if !recorded(measure.created_at)
        || !measure.in_phase(year)
        || measure.added_fiscal_year.is_some_and(|added| added > year)
    {
        return false;
    }
    let end_known = measure.status != MeasureStatus::Active && measure.status_recorded_at.is_some_and(recorded);
    !(end_known && measure.status_fiscal_year.is_some_and(|end| year > end))
}

/// The measure's owners in `year` as recorded at `as_of`.
pub(crate) fn owners_in(measure: &Measure, year: i32, as_of: Option<NaiveDateTime>) -> Vec<i32> {
    measure
        .owners
        .iter()
        .filter(|owner| as_of.is_none_or(|t| owner.recorded_at <= t))
        .filter(|owner| {
            let removal_known = owner.removed_at.is_some_and(|at| as_of.is_none_or(|t| at <= t));
            owner.from_fiscal_year.is_none_or(|from| from <= year)
                && !(removal_known && owner.until_fiscal_year.is_some_and(|until| year > until))
        })
        .map(|owner| owner.department_id)
        .collect()
}

fn pool(indicators: &[&IndicatorEvaluation], all: &BTreeMap<i32, &Indicator>) -> Vec<PooledRatio> {
    let mut groups: BTreeMap<(String, String), PooledRatio> = BTreeMap::new();
    for evaluation in indicators.iter().filter(|e| e.kind == IndicatorKind::Ratio) {
        let (Some(actual), Some(indicator)) = (&evaluation.actual, all.get(&evaluation.indicator_id)) else {
            continue;
        };
        let (Some(numerator), Some(denominator)) = (actual.reported.numerator, actual.reported.denominator) else {
            continue;
        };
        let numerator_label = evaluation
            .definition
            .as_ref()
            .and_then(|d| d.numerator_label.clone())
            .or_else(|| indicator.numerator_label.clone())
            .unwrap_or_default();
        let denominator_label = evaluation
            .definition
            .as_ref()
            .and_then(|d| d.denominator_label.clone())
            .or_else(|| indicator.denominator_label.clone())
            .unwrap_or_default();
        let entry = groups.entry((numerator_label.clone(), denominator_label.clone())).or_insert(PooledRatio {
            numerator_label,
            denominator_label,
            numerator: Decimal::ZERO,
            denominator: Decimal::ZERO,
            rate: None,
            indicator_ids: Vec::new(),
        });
        entry.numerator += numerator;
        entry.denominator += denominator;
        entry.indicator_ids.push(evaluation.indicator_id);
    }
    groups
        .into_values()
        .filter(|pooled| pooled.indicator_ids.len() > 1)
        .map(|mut pooled| {
            pooled.rate = pooled_rate(&[(pooled.numerator, pooled.denominator)])
                .map(crate::domain::achievement::round_for_output);
            pooled
        })
        .collect()
}

/// The name of the milestone stage the figures report, if they report one.
fn stage_name(indicator: &Indicator, reported: &Reported) -> Option<String> {
    reported.stage.and_then(|s| usize::try_from(s).ok()).and_then(|s| indicator.stages.get(s).cloned())
}

/// When the figures now in were last submitted, corrected or resubmitted (reviews do not count),
/// as recorded at `as_of`.
fn last_submitted_at(events: &[&ActualEvent], as_of: Option<NaiveDateTime>) -> Option<NaiveDateTime> {
    events
        .iter()
        .filter(|e| as_of.is_none_or(|t| e.recorded_at <= t))
        .filter(|e| {
            matches!(e.event, ActualEventKind::Submitted | ActualEventKind::Corrected | ActualEventKind::Resubmitted)
        })
        .map(|e| e.recorded_at)
        .max()
}

fn reference(evaluation: &IndicatorEvaluation) -> IndicatorRef {
    IndicatorRef {
        indicator_id: evaluation.indicator_id,
        measure_number: evaluation.measure_number,
        indicator_number: evaluation.number,
        name: evaluation.name.clone(),
        department_names: evaluation.department_names.clone(),
    }
}

/// Evaluates the plan for `year`. `as_of` limits every record to what existed then; `now` is the
/// evaluation time (deadlines are judged against `as_of` or `now`).
pub fn evaluate(records: &PlanRecords, year: i32, as_of: Option<NaiveDateTime>, now: NaiveDateTime) -> PlanEvaluation {
    let settings = &records.plan.grading;
    let department_name =
        |id: i32| records.departments.iter().find(|d| d.id == id).map(|d| d.name.clone()).unwrap_or_default();
    let collection =
        records.collections.iter().find(|c| c.fiscal_year == year && as_of.is_none_or(|t| c.opened_at <= t)).cloned();
    let reference_time = as_of.unwrap_or(now);
    let deadline = collection.as_ref().and_then(|c| c.deadline);

    let mut events_by_indicator: BTreeMap<i32, Vec<&ActualEvent>> = BTreeMap::new();
    for event in records.events.iter().filter(|e| e.fiscal_year == year) {
        events_by_indicator.entry(event.indicator_id).or_default().push(&event.event);
    }
    let no_targets = Vec::new();
    // Looked up by id once, not scanned per measure, indicator or group (quadratic in plan size).
    let mut indicators_by_id: BTreeMap<i32, &Indicator> = BTreeMap::new();
    let mut indicators_by_measure: BTreeMap<i32, Vec<&Indicator>> = BTreeMap::new();
    for indicator in &records.indicators {
        indicators_by_id.entry(indicator.id).or_insert(indicator);
        indicators_by_measure.entry(indicator.measure_id).or_default().push(indicator);
    }
    let mut definitions_by_indicator: BTreeMap<i32, Vec<DefinitionRevision>> = BTreeMap::new();
    for definition in &records.definitions {
        definitions_by_indicator.entry(definition.indicator_id).or_default().push(definition.clone());
    }
    let measures: Vec<&Measure> = records.measures.iter().filter(|m| measure_counts_in(m, year, as_of)).collect();
    // Whether anything still outstanding now counts as late: the actuals' rule, for the 施策評価.
    let deadline_passed = lateness(deadline, true, None, reference_time).late;
    let mut owners: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    let mut evaluations = Vec::new();
    for measure in &measures {
        let measure_owners = owners_in(measure, year, as_of);
        owners.insert(measure.id, measure_owners.clone());
        for indicator in indicators_by_measure.get(&measure.id).into_iter().flatten().copied() {
            if !indicator_counts_in(indicator, year, as_of) {
                continue;
            }
            let events = events_by_indicator.get(&indicator.id).map(Vec::as_slice).unwrap_or_default();
            let definitions = definitions_by_indicator.get(&indicator.id).map(Vec::as_slice).unwrap_or_default();
            let targets = records.targets.get(&indicator.id).unwrap_or(&no_targets);
            let year_result = evaluate_year(indicator, targets, definitions, events, settings, year, as_of);
            let state = ActualState::fold(events.iter().copied(), as_of);
            let submission = match state.latest.as_ref().map(|e| e.status) {
                None => SubmissionState::Missing,
                Some(ActualStatus::Submitted) => SubmissionState::Submitted,
                Some(ActualStatus::Returned) => SubmissionState::Returned,
                Some(ActualStatus::Approved) => SubmissionState::Approved,
            };
            let against_deadline = lateness(
                deadline,
                matches!(submission, SubmissionState::Missing | SubmissionState::Returned),
                last_submitted_at(events, as_of),
                reference_time,
            );
            let department_ids = match indicator.department_id {
                Some(own) => vec![own],
                None => measure_owners.clone(),
            };
            let actual = state.approved.as_ref().map(|event| UsedActual {
                reported: event.reported.clone(),
                rate: event.reported.rate(),
                stage_name: stage_name(indicator, &event.reported),
                note: event.note.clone(),
                is_sample: event.is_sample,
                approved_at: event.recorded_at,
            });
            let pending_actual =
                state.latest.as_ref().filter(|e| e.status != ActualStatus::Approved).map(|event| PendingActual {
                    reported: event.reported.clone(),
                    rate: event.reported.rate(),
                    stage_name: stage_name(indicator, &event.reported),
                    note: event.note.clone(),
                    is_sample: event.is_sample,
                    status: event.status,
                    version: event.version,
                    recorded_at: event.recorded_at,
                });
            evaluations.push(IndicatorEvaluation {
                indicator_id: indicator.id,
                measure_id: measure.id,
                measure_number: measure.number,
                number: indicator.number,
                name: year_result.inputs.definition.as_ref().map_or_else(
                    || records.name_of(Named::Indicator(indicator.id), &indicator.name, year, as_of).to_owned(),
                    |d| d.name.clone(),
                ),
                unit: indicator.unit.clone(),
                kind: indicator.kind,
                direction: indicator.direction,
                department_names: department_ids.iter().map(|id| department_name(*id)).collect(),
                department_ids,
                baseline: indicator.baseline.clone(),
                target: year_result.inputs.target,
                definition: year_result.inputs.definition,
                actual,
                pending_actual,
                submission,
                actual_version: state.latest.as_ref().map(|e| e.version),
                late: against_deadline.late,
                submitted_late: against_deadline.submitted_late,
                result: year_result.result,
            });
        }
    }

    let mut positions_by_measure: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (position, evaluation) in evaluations.iter().enumerate() {
        positions_by_measure.entry(evaluation.measure_id).or_default().push(position);
    }
    let group = |measure_ids: &BTreeSet<i32>| -> (RollUp, Vec<PooledRatio>) {
        // The members in the order of `evaluations`, as a filter over it would give them.
        let mut positions: Vec<usize> =
            measure_ids.iter().filter_map(|id| positions_by_measure.get(id)).flatten().copied().collect();
        positions.sort_unstable();
        let members: Vec<&IndicatorEvaluation> = positions.into_iter().map(|p| &evaluations[p]).collect();
        let results: Vec<Achievement> = members.iter().map(|e| e.result.clone()).collect();
        (roll_up(&results, settings), pool(&members, &indicators_by_id))
    };

    // The brief needs neither the plan's 方向性 nor the records its links name.
    let no_link_targets = BTreeMap::new();
    let evaluation_context = EvaluationContext {
        plan: &records.plan,
        departments: &records.departments,
        directions: &[],
        targets: &no_link_targets,
    };
    let measure_evaluations: Vec<MeasureEvaluation> = measures
        .iter()
        .map(|measure| {
            let (roll_up, pooled_ratios) = group(&BTreeSet::from([measure.id]));
            let year_evaluation =
                measure_year::compose(&evaluation_context, &records.measure_evaluations, measure, year, as_of);
            MeasureEvaluation {
                measure_id: measure.id,
                number: measure.number,
                name: records.name_of(Named::Measure(measure.id), &measure.name, year, as_of).to_owned(),
                main_goal_id: measure.main_goal_id,
                secondary_goal_ids: measure.secondary_goal_ids.clone(),
                strategy_id: measure.strategy_id,
                owner_department_ids: owners.get(&measure.id).cloned().unwrap_or_default(),
                status: measure.status,
                roll_up,
                pooled_ratios,
                measure_evaluation: MeasureEvaluationSummary::of(&year_evaluation, deadline_passed),
            }
        })
        .collect();

    let phase_covers = |phase_id: Option<i32>| {
        phase_id.is_none_or(|id| {
            records.plan.phases.iter().any(|p| p.id == id && (p.start_fiscal_year..=p.end_fiscal_year).contains(&year))
        })
    };
    let goals = records
        .goals
        .iter()
        .filter(|goal| phase_covers(goal.phase_id))
        .map(|goal| {
            let below = goal_and_descendants(&records.goals, goal.id);
            let main: BTreeSet<i32> = measures
                .iter()
                .filter(|m| m.main_goal_id.is_some_and(|id| below.contains(&id)))
                .map(|m| m.id)
                .collect();
            let (roll_up, pooled_ratios) = group(&main);
            GroupEvaluation {
                id: goal.id,
                number: Some(goal.number),
                kind: Some(goal.kind.clone()),
                label: format!("{}{}", goal.marker(), goal.name),
                name: goal.name.clone(),
                measure_ids: main.into_iter().collect(),
                secondary_measure_ids: measures
                    .iter()
                    .filter(|m| m.secondary_goal_ids.contains(&goal.id))
                    .map(|m| m.id)
                    .collect(),
                roll_up,
                pooled_ratios,
            }
        })
        .collect();

    let strategies = records
        .strategies
        .iter()
        .map(|strategy| {
            let members: BTreeSet<i32> =
                measures.iter().filter(|m| m.strategy_id == Some(strategy.id)).map(|m| m.id).collect();
            let (roll_up, pooled_ratios) = group(&members);
            GroupEvaluation {
                id: strategy.id,
                number: Some(strategy.number),
                kind: None,
                label: format!("{} {}", strategy_numeral(strategy.number), strategy.name),
                name: strategy.name.clone(),
                measure_ids: members.into_iter().collect(),
                secondary_measure_ids: Vec::new(),
                roll_up,
                pooled_ratios,
            }
        })
        .collect();

    let departments = records
        .departments
        .iter()
        .filter_map(|department| {
            let owned: BTreeSet<i32> =
                owners.iter().filter(|(_, ids)| ids.contains(&department.id)).map(|(measure, _)| *measure).collect();
            if owned.is_empty() {
                return None;
            }
            let (roll_up, pooled_ratios) = group(&owned);
            Some(GroupEvaluation {
                id: department.id,
                number: None,
                kind: None,
                label: department.name.clone(),
                name: department.name.clone(),
                measure_ids: owned.into_iter().collect(),
                secondary_measure_ids: Vec::new(),
                roll_up,
                pooled_ratios,
            })
        })
        .collect();

    let all_results: Vec<Achievement> = evaluations.iter().map(|e| e.result.clone()).collect();
    let mut lists = ActionLists::default();
    for evaluation in &evaluations {
        let entry = reference(evaluation);
        match evaluation.submission {
            SubmissionState::Missing => lists.missing.push(entry.clone()),
            SubmissionState::Submitted => lists.pending_review.push(entry.clone()),
            SubmissionState::Returned => lists.returned.push(entry.clone()),
            SubmissionState::Approved => {}
        }
        if evaluation.late {
            lists.late.push(entry.clone());
        }
        if evaluation.submitted_late {
            lists.submitted_late.push(entry.clone());
        }
        match evaluation.result.status {
            Status::OffTrack => lists.off_track.push(entry),
            Status::Deteriorating => lists.deteriorating.push(entry),
            Status::NotAchieved => lists.not_achieved.push(entry),
            _ => {}
        }
    }

    list_measure_evaluations(&measure_evaluations, &mut lists);

    PlanEvaluation {
        plan_id: records.plan.id,
        plan_name: records.name_of(Named::Plan(records.plan.id), &records.plan.name, year, as_of).to_owned(),
        fiscal_year: year,
        fiscal_year_label: label(year),
        as_of,
        evaluated_at: now,
        grading: settings.clone(),
        collection,
        plan_roll_up: roll_up(&all_results, settings),
        goals,
        strategies,
        departments,
        measures: measure_evaluations,
        indicators: evaluations,
        lists,
    }
}

/// Adds to the lists each department's 施策評価 that is missing, waiting for review, returned or
/// late, and each measure without a 本部評価.
fn list_measure_evaluations(measures: &[MeasureEvaluation], lists: &mut ActionLists) {
    for measure in measures {
        let summary = &measure.measure_evaluation;
        for department in &summary.departments {
            let entry = MeasureDepartmentRef {
                measure_id: measure.measure_id,
                measure_number: measure.number,
                measure_name: measure.name.clone(),
                department_id: department.department_id,
                department_name: department.department_name.clone(),
            };
            if department.late {
                lists.evaluations_late.push(entry.clone());
            }
            match department.submission {
                SubmissionState::Missing => lists.evaluations_missing.push(entry),
                SubmissionState::Submitted => lists.evaluations_pending_review.push(entry),
                SubmissionState::Returned => lists.evaluations_returned.push(entry),
                SubmissionState::Approved => {}
            }
        }
        if summary.hq_grade.is_none() {
            lists.unassessed.push(MeasureRef {
                measure_id: measure.measure_id,
                measure_number: measure.number,
                measure_name: measure.name.clone(),
            });
        }
    }
}

/// A goal's id with the ids of every goal below it (its 基本方針 under an ICT活用ビジョン); a
/// parent cycle cannot loop, each goal is taken once.
pub fn goal_and_descendants(goals: &[Goal], root: i32) -> BTreeSet<i32> {
    let mut found = BTreeSet::from([root]);
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for child in goals.iter().filter(|g| g.parent_id == Some(parent)) {
            if found.insert(child.id) {
                frontier.push(child.id);
            }
        }
    }
    found
}

/// Loads and evaluates in one call (the API's entry point).
pub fn evaluate_plan(
    conn: &mut DbConnection,
    plan_id: PlanId,
    year: i32,
    as_of: Option<NaiveDateTime>,
) -> Result<PlanEvaluation, AppError> {
    evaluate_plan_at(conn, plan_id, year, as_of, Utc::now().naive_utc())
}

/// [`evaluate_plan`] evaluated at `now`.
pub fn evaluate_plan_at(
    conn: &mut DbConnection,
    plan_id: PlanId,
    year: i32,
    as_of: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<PlanEvaluation, AppError> {
    evaluate_records(&load_year(conn, plan_id, year)?, year, as_of, now)
}

/// The evaluation of `year` from the plan's records: 422 for a year outside the plan.
pub fn evaluate_records(
    records: &PlanRecords,
    year: i32,
    as_of: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<PlanEvaluation, AppError> {
    records.plan.check_year("fiscal_year", year)?;
    Ok(evaluate(records, year, as_of, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(id: i32, parent_id: Option<i32>) -> Goal {
        Goal {
            id,
            plan_id: 1,
            number: id,
            name: format!("goal {id}"),
            kind: "基本方針".into(),
            symbol: None,
            parent_id,
            phase_id: None,
            reading_note: None,
        }
    }

    #[test]
    fn a_vision_holds_its_policies_and_their_children_but_not_its_siblings() {
        // Vision 1 → policies 2, 3; policy 3 → 4; vision 5 stands alone.
        let goals = [goal(1, None), goal(2, Some(1)), goal(3, Some(1)), goal(4, Some(3)), goal(5, None)];
        assert_eq!(goal_and_descendants(&goals, 1), BTreeSet::from([1, 2, 3, 4]));
        assert_eq!(goal_and_descendants(&goals, 3), BTreeSet::from([3, 4]));
        assert_eq!(goal_and_descendants(&goals, 5), BTreeSet::from([5]));
    }

    #[test]
    fn a_parent_cycle_ends_instead_of_looping() {
        let goals = [goal(1, Some(2)), goal(2, Some(1))];
        assert_eq!(goal_and_descendants(&goals, 1), BTreeSet::from([1, 2]));
    }
}
