//! 施策評価 (measure evaluations), every version kept.
//!
//! A department's evaluation of a measure's year: its current state (status, version) in
//! `measure_evaluations`, its content version by version in `measure_evaluation_events`. The
//! 本部's assessment likewise in `measure_assessments` and `measure_assessment_events`; the plan
//! revisions the current assessments link to in `measure_assessment_links`, so that a measure or
//! an indicator finds the evaluations that changed it. A plan's 方向性 in
//! `plan_evaluation_directions`. Entities and their fold: `domain::measure_evaluation`.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, Actor, Change};
use super::schema::{
    departments, indicators, measure_assessment_events, measure_assessment_links, measure_assessments,
    measure_evaluation_events, measure_evaluations, measures, plan_evaluation_directions, plans, target_revisions,
    users,
};
use super::{DbConnection, enum_from_column, optional_decimal};
use crate::domain::measure_evaluation::{
    AssessmentKey, DepartmentEvaluation, DepartmentEvaluationEvent, DepartmentReport, EvaluationKey, HqAssessment,
    HqAssessmentEvent, HqDecision, LinkTarget, PlanLink, PlanLinkKind, TargetSummary, default_directions,
};
use crate::domain::plan::{ActualStatus, to_text};
use crate::domain::submission::ActualEventKind;
use crate::error::AppError;

// ---- department evaluations ------------------------------------------------------------------

#[derive(Queryable)]
struct DepartmentEventRow {
    id: i32,
    measure_id: i32,
    fiscal_year: i32,
    department_id: i32,
    department_name: String,
    version: i32,
    event: String,
    work_done: String,
    roadmap_progress: String,
    progress_reason: String,
    self_grade: String,
    issues: String,
    next_steps: String,
    status: String,
    is_sample: bool,
    comment: Option<String>,
    actor_id: Option<i32>,
    actor_username: Option<String>,
    actor_department_id: Option<i32>,
    recorded_at: NaiveDateTime,
}

/// The columns [`DepartmentEventRow`] reads, for every query of department evaluation versions.
macro_rules! department_event_columns {
    () => {
        (
            measure_evaluations::id,
            measure_evaluations::measure_id,
            measure_evaluations::fiscal_year,
            measure_evaluations::department_id,
            departments::name,
            measure_evaluation_events::version,
            measure_evaluation_events::event,
            measure_evaluation_events::work_done,
            measure_evaluation_events::roadmap_progress,
            measure_evaluation_events::progress_reason,
            measure_evaluation_events::self_grade,
            measure_evaluation_events::issues,
            measure_evaluation_events::next_steps,
            measure_evaluation_events::status,
            measure_evaluation_events::is_sample,
            measure_evaluation_events::comment,
            measure_evaluation_events::actor_id,
            users::username.nullable(),
            measure_evaluation_events::actor_department_id,
            measure_evaluation_events::recorded_at,
        )
    };
}

/// The versions of the department evaluations joined with their department and actor.
macro_rules! department_events_query {
    () => {
        measure_evaluation_events::table
            .inner_join(measure_evaluations::table.inner_join(departments::table))
            .left_join(users::table.on(users::id.nullable().eq(measure_evaluation_events::actor_id)))
    };
}

impl DepartmentEventRow {
    fn into_entities(self) -> Result<(EvaluationKey, DepartmentEvaluationEvent), AppError> {
        let key = EvaluationKey {
            id: self.id,
            measure_id: self.measure_id,
            fiscal_year: self.fiscal_year,
            department_id: self.department_id,
            department_name: self.department_name,
        };
        let event = DepartmentEvaluationEvent {
            version: self.version,
            event: enum_from_column(&self.event)?,
            report: DepartmentReport {
                work_done: self.work_done,
                roadmap_progress: enum_from_column(&self.roadmap_progress)?,
                progress_reason: self.progress_reason,
                self_grade: enum_from_column(&self.self_grade)?,
                issues: self.issues,
                next_steps: self.next_steps,
            },
            status: enum_from_column(&self.status)?,
            is_sample: self.is_sample,
            comment: self.comment,
            actor_id: self.actor_id,
            actor_username: self.actor_username,
            actor_department_id: self.actor_department_id,
            recorded_at: self.recorded_at,
        };
        Ok((key, event))
    }
}

/// Every version of the department evaluations of these measures (of one year, when given),
/// oldest first per evaluation, in one query.
pub fn department_events(
    conn: &mut DbConnection,
    measure_ids: &[i32],
    fiscal_year: Option<i32>,
) -> Result<Vec<(EvaluationKey, DepartmentEvaluationEvent)>, AppError> {
    let mut query = department_events_query!()
        .filter(measure_evaluations::measure_id.eq_any(measure_ids))
        .select(department_event_columns!())
        .order((measure_evaluations::id, measure_evaluation_events::version))
        .into_boxed();
    if let Some(year) = fiscal_year {
        query = query.filter(measure_evaluations::fiscal_year.eq(year));
    }
    let rows: Vec<DepartmentEventRow> = query.load(conn)?;
    rows.into_iter().map(DepartmentEventRow::into_entities).collect()
}

/// Groups versions by the evaluation they belong to, keeping their order.
pub fn by_evaluation<K: Ord + Clone, E>(events: Vec<(K, E)>) -> BTreeMap<K, Vec<E>> {
    let mut grouped: BTreeMap<K, Vec<E>> = BTreeMap::new();
    for (key, event) in events {
        grouped.entry(key).or_default().push(event);
    }
    grouped
}

/// One department's evaluation of a measure's year as it stood at `as_of` (now when `None`).
pub fn find(
    conn: &mut DbConnection,
    measure_id: i32,
    fiscal_year: i32,
    department_id: i32,
    as_of: Option<NaiveDateTime>,
) -> Result<Option<DepartmentEvaluation>, AppError> {
    let rows: Vec<DepartmentEventRow> = department_events_query!()
        .filter(measure_evaluations::measure_id.eq(measure_id))
        .filter(measure_evaluations::fiscal_year.eq(fiscal_year))
        .filter(measure_evaluations::department_id.eq(department_id))
        .select(department_event_columns!())
        .order(measure_evaluation_events::version)
        .load(conn)?;
    let events = rows.into_iter().map(DepartmentEventRow::into_entities).collect::<Result<Vec<_>, _>>()?;
    let Some((key, _)) = events.first() else { return Ok(None) };
    let key = key.clone();
    Ok(DepartmentEvaluation::fold(&key, events.iter().map(|(_, e)| e), as_of))
}

/// One page of the versions of one department's evaluation, oldest first, and how many there are.
pub fn history_page(
    conn: &mut DbConnection,
    measure_id: i32,
    fiscal_year: i32,
    department_id: i32,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DepartmentEvaluationEvent>, i64), AppError> {
    let of_this = measure_evaluations::measure_id
        .eq(measure_id)
        .and(measure_evaluations::fiscal_year.eq(fiscal_year))
        .and(measure_evaluations::department_id.eq(department_id));
    let total = measure_evaluation_events::table
        .inner_join(measure_evaluations::table)
        .filter(of_this)
        .count()
        .get_result(conn)?;
    let rows: Vec<DepartmentEventRow> = department_events_query!()
        .filter(of_this)
        .select(department_event_columns!())
        .order(measure_evaluation_events::version)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let events = rows.into_iter().map(|row| row.into_entities().map(|(_, e)| e)).collect::<Result<_, _>>()?;
    Ok((events, total))
}

/// A version of a department's evaluation to store.
pub struct NewReport<'a> {
    pub event: ActualEventKind,
    pub report: &'a DepartmentReport,
    pub status: ActualStatus,
    pub is_sample: bool,
    /// The 本部's comment on a return or reopening
    pub comment: Option<&'a str>,
    /// The department the actor acts for (`None` for hq)
    pub actor_department_id: Option<i32>,
}

fn insert_department_event(
    conn: &mut DbConnection,
    actor: &Actor,
    evaluation_id: i32,
    version: i32,
    new: &NewReport<'_>,
) -> Result<(), AppError> {
    let report = new.report;
    diesel::insert_into(measure_evaluation_events::table)
        .values((
            measure_evaluation_events::evaluation_id.eq(evaluation_id),
            measure_evaluation_events::version.eq(version),
            measure_evaluation_events::event.eq(new.event.as_str()),
            measure_evaluation_events::work_done.eq(&report.work_done),
            measure_evaluation_events::roadmap_progress.eq(to_text(&report.roadmap_progress)),
            measure_evaluation_events::progress_reason.eq(&report.progress_reason),
            measure_evaluation_events::self_grade.eq(to_text(&report.self_grade)),
            measure_evaluation_events::issues.eq(&report.issues),
            measure_evaluation_events::next_steps.eq(&report.next_steps),
            measure_evaluation_events::status.eq(to_text(&new.status)),
            measure_evaluation_events::is_sample.eq(new.is_sample),
            measure_evaluation_events::comment.eq(new.comment),
            measure_evaluation_events::actor_id.eq(actor.user_id),
            measure_evaluation_events::actor_department_id.eq(new.actor_department_id),
            measure_evaluation_events::recorded_at.eq(audit::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Where a department's evaluation belongs.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationOf {
    pub measure_id: i32,
    pub fiscal_year: i32,
    pub department_id: i32,
}

/// Stores a department's first evaluation of a measure's year (version 1).
pub fn insert(conn: &mut DbConnection, actor: &Actor, of: EvaluationOf, new: &NewReport<'_>) -> Result<i32, AppError> {
    let id: QueryResult<i32> = diesel::insert_into(measure_evaluations::table)
        .values((
            measure_evaluations::measure_id.eq(of.measure_id),
            measure_evaluations::fiscal_year.eq(of.fiscal_year),
            measure_evaluations::department_id.eq(of.department_id),
            measure_evaluations::status.eq(to_text(&new.status)),
            measure_evaluations::is_sample.eq(new.is_sample),
            measure_evaluations::version.eq(1),
        ))
        .returning(measure_evaluations::id)
        .get_result(conn);
    // Someone else's first version since this one was checked hits the unique key.
    let id = id.map_err(|error| match error {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            AppError::PreconditionFailed(
                "この施策評価はたった今ほかの利用者が提出しました: 取得し直してください (the evaluation was just \
                 submitted by someone else; GET it for its ETag)"
                    .into(),
            )
        }
        other => other.into(),
    })?;
    insert_department_event(conn, actor, id, 1, new)?;
    audit::record(
        conn,
        actor,
        Change::created(
            "measure_evaluation",
            id,
            &serde_json::json!({
                "measure_id": of.measure_id, "fiscal_year": of.fiscal_year, "department_id": of.department_id,
                "report": new.report, "status": new.status, "is_sample": new.is_sample,
            }),
        )
        .with_action(new.event.as_str()),
    )?;
    Ok(id)
}

/// Stores the next version of `current`, only if it is still at the version that was read: of
/// two concurrent writers the second gets 412.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &DepartmentEvaluation,
    new: &NewReport<'_>,
) -> Result<(), AppError> {
    let version = current.version + 1;
    let still_current = measure_evaluations::id.eq(current.id).and(measure_evaluations::version.eq(current.version));
    let changed = diesel::update(measure_evaluations::table.filter(still_current))
        .set((
            measure_evaluations::status.eq(to_text(&new.status)),
            measure_evaluations::is_sample.eq(new.is_sample),
            measure_evaluations::version.eq(version),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(AppError::PreconditionFailed(format!(
            "施策評価はほかの利用者が更新しました (the measure evaluation was changed by someone else; it is no longer \
             version {})",
            current.version
        )));
    }
    insert_department_event(conn, actor, current.id, version, new)?;
    audit::record(
        conn,
        actor,
        Change::updated(
            "measure_evaluation",
            current.id,
            &serde_json::json!({"report": current.report, "status": current.status, "version": current.version}),
            &serde_json::json!({"report": new.report, "status": new.status, "version": version}),
        )
        .with_action(new.event.as_str())
        .with_reason(new.comment),
    )?;
    Ok(())
}

// ---- the 本部's assessments ---------------------------------------------------------------------

#[derive(Queryable)]
struct AssessmentEventRow {
    id: i32,
    measure_id: i32,
    fiscal_year: i32,
    version: i32,
    hq_grade: String,
    hq_comment: String,
    direction: String,
    direction_reason: String,
    plan_links: String,
    is_sample: bool,
    actor_id: Option<i32>,
    actor_username: Option<String>,
    recorded_at: NaiveDateTime,
}

macro_rules! assessment_event_columns {
    () => {
        (
            measure_assessments::id,
            measure_assessments::measure_id,
            measure_assessments::fiscal_year,
            measure_assessment_events::version,
            measure_assessment_events::hq_grade,
            measure_assessment_events::hq_comment,
            measure_assessment_events::direction,
            measure_assessment_events::direction_reason,
            measure_assessment_events::plan_links,
            measure_assessment_events::is_sample,
            measure_assessment_events::actor_id,
            users::username.nullable(),
            measure_assessment_events::recorded_at,
        )
    };
}

macro_rules! assessment_events_query {
    () => {
        measure_assessment_events::table
            .inner_join(measure_assessments::table)
            .left_join(users::table.on(users::id.nullable().eq(measure_assessment_events::actor_id)))
    };
}

impl AssessmentEventRow {
    fn into_entities(self) -> Result<(AssessmentKey, HqAssessmentEvent), AppError> {
        let plan_links: Vec<PlanLink> = serde_json::from_str(&self.plan_links)
            .map_err(|e| AppError::Internal(format!("stored plan links of assessment {} unreadable: {e}", self.id)))?;
        let key = AssessmentKey { id: self.id, measure_id: self.measure_id, fiscal_year: self.fiscal_year };
        let event = HqAssessmentEvent {
            version: self.version,
            decision: HqDecision {
                hq_grade: enum_from_column(&self.hq_grade)?,
                hq_comment: self.hq_comment,
                direction: self.direction,
                direction_reason: self.direction_reason,
                plan_links,
            },
            is_sample: self.is_sample,
            actor_id: self.actor_id,
            actor_username: self.actor_username,
            recorded_at: self.recorded_at,
        };
        Ok((key, event))
    }
}

/// Every version of the assessments of these measures (of one year, when given), oldest first
/// per assessment, in one query.
pub fn assessment_events(
    conn: &mut DbConnection,
    measure_ids: &[i32],
    fiscal_year: Option<i32>,
) -> Result<Vec<(AssessmentKey, HqAssessmentEvent)>, AppError> {
    let mut query = assessment_events_query!()
        .filter(measure_assessments::measure_id.eq_any(measure_ids))
        .select(assessment_event_columns!())
        .order((measure_assessments::id, measure_assessment_events::version))
        .into_boxed();
    if let Some(year) = fiscal_year {
        query = query.filter(measure_assessments::fiscal_year.eq(year));
    }
    let rows: Vec<AssessmentEventRow> = query.load(conn)?;
    rows.into_iter().map(AssessmentEventRow::into_entities).collect()
}

/// Every version of these assessments, oldest first, in one query.
fn assessment_events_by_id(
    conn: &mut DbConnection,
    ids: &[i32],
) -> Result<Vec<(AssessmentKey, HqAssessmentEvent)>, AppError> {
    let rows: Vec<AssessmentEventRow> = assessment_events_query!()
        .filter(measure_assessments::id.eq_any(ids))
        .select(assessment_event_columns!())
        .order((measure_assessments::id, measure_assessment_events::version))
        .load(conn)?;
    rows.into_iter().map(AssessmentEventRow::into_entities).collect()
}

/// The assessment of a measure's year as it stood at `as_of` (now when `None`), links described.
pub fn find_assessment(
    conn: &mut DbConnection,
    measure_id: i32,
    fiscal_year: i32,
    as_of: Option<NaiveDateTime>,
) -> Result<Option<HqAssessment>, AppError> {
    let events = assessment_events(conn, &[measure_id], Some(fiscal_year))?;
    let Some((key, _)) = events.first() else { return Ok(None) };
    let key = *key;
    let links: Vec<PlanLink> = events.iter().flat_map(|(_, e)| e.decision.plan_links.iter().copied()).collect();
    let targets = link_targets_by_link(conn, &links)?;
    Ok(HqAssessment::fold(key, events.iter().map(|(_, e)| e), as_of, &targets))
}

/// One page of the versions of a measure-year's assessment, oldest first, and how many there are.
pub fn assessment_history_page(
    conn: &mut DbConnection,
    measure_id: i32,
    fiscal_year: i32,
    limit: i64,
    offset: i64,
) -> Result<(Vec<HqAssessmentEvent>, i64), AppError> {
    let of_this = measure_assessments::measure_id.eq(measure_id).and(measure_assessments::fiscal_year.eq(fiscal_year));
    let total = measure_assessment_events::table
        .inner_join(measure_assessments::table)
        .filter(of_this)
        .count()
        .get_result(conn)?;
    let rows: Vec<AssessmentEventRow> = assessment_events_query!()
        .filter(of_this)
        .select(assessment_event_columns!())
        .order(measure_assessment_events::version)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let events = rows.into_iter().map(|row| row.into_entities().map(|(_, e)| e)).collect::<Result<_, _>>()?;
    Ok((events, total))
}

fn insert_assessment_event(
    conn: &mut DbConnection,
    actor: &Actor,
    assessment_id: i32,
    version: i32,
    decision: &HqDecision,
    is_sample: bool,
) -> Result<(), AppError> {
    let links = serde_json::to_string(&decision.plan_links).map_err(|e| AppError::Internal(e.to_string()))?;
    diesel::insert_into(measure_assessment_events::table)
        .values((
            measure_assessment_events::assessment_id.eq(assessment_id),
            measure_assessment_events::version.eq(version),
            measure_assessment_events::hq_grade.eq(to_text(&decision.hq_grade)),
            measure_assessment_events::hq_comment.eq(&decision.hq_comment),
            measure_assessment_events::direction.eq(&decision.direction),
            measure_assessment_events::direction_reason.eq(&decision.direction_reason),
            measure_assessment_events::plan_links.eq(links),
            measure_assessment_events::is_sample.eq(is_sample),
            measure_assessment_events::actor_id.eq(actor.user_id),
            measure_assessment_events::recorded_at.eq(audit::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the assessment's current links with those of `targets` (each checked by the caller).
fn replace_links(conn: &mut DbConnection, assessment_id: i32, targets: &[LinkTarget]) -> Result<(), AppError> {
    diesel::delete(measure_assessment_links::table.filter(measure_assessment_links::assessment_id.eq(assessment_id)))
        .execute(conn)?;
    for target in targets {
        diesel::insert_into(measure_assessment_links::table)
            .values((
                measure_assessment_links::assessment_id.eq(assessment_id),
                measure_assessment_links::kind.eq(to_text(&target.link.kind)),
                measure_assessment_links::target_id.eq(target.link.id),
                measure_assessment_links::measure_id.eq(target.measure_id),
                measure_assessment_links::indicator_id.eq(target.indicator.as_ref().map(|(id, _, _)| *id)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A version of an assessment to store, with the records its links name (read and checked).
pub struct NewDecision<'a> {
    pub decision: &'a HqDecision,
    pub targets: &'a [LinkTarget],
    pub is_sample: bool,
}

/// Stores the first assessment of a measure's year (version 1).
pub fn insert_assessment(
    conn: &mut DbConnection,
    actor: &Actor,
    measure_id: i32,
    fiscal_year: i32,
    new: &NewDecision<'_>,
) -> Result<i32, AppError> {
    let id: QueryResult<i32> = diesel::insert_into(measure_assessments::table)
        .values((
            measure_assessments::measure_id.eq(measure_id),
            measure_assessments::fiscal_year.eq(fiscal_year),
            measure_assessments::is_sample.eq(new.is_sample),
            measure_assessments::version.eq(1),
        ))
        .returning(measure_assessments::id)
        .get_result(conn);
    let id = id.map_err(|error| match error {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            AppError::PreconditionFailed(
                "本部評価はたった今ほかの利用者が登録しました: 取得し直してください (the assessment was just recorded \
                 by someone else; GET it for its ETag)"
                    .into(),
            )
        }
        other => other.into(),
    })?;
    insert_assessment_event(conn, actor, id, 1, new.decision, new.is_sample)?;
    replace_links(conn, id, new.targets)?;
    audit::record(
        conn,
        actor,
        Change::created(
            "measure_assessment",
            id,
            &serde_json::json!({"measure_id": measure_id, "fiscal_year": fiscal_year, "decision": new.decision,
                "is_sample": new.is_sample}),
        ),
    )?;
    Ok(id)
}

/// Stores the next version of `current`, only if it is still at the version that was read.
pub fn update_assessment(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &HqAssessment,
    new: &NewDecision<'_>,
) -> Result<(), AppError> {
    let version = current.version + 1;
    let still_current = measure_assessments::id.eq(current.id).and(measure_assessments::version.eq(current.version));
    let changed = diesel::update(measure_assessments::table.filter(still_current))
        .set((measure_assessments::is_sample.eq(new.is_sample), measure_assessments::version.eq(version)))
        .execute(conn)?;
    if changed == 0 {
        return Err(AppError::PreconditionFailed(format!(
            "本部評価はほかの利用者が更新しました (the assessment was changed by someone else; it is no longer version {})",
            current.version
        )));
    }
    insert_assessment_event(conn, actor, current.id, version, new.decision, new.is_sample)?;
    replace_links(conn, current.id, new.targets)?;
    let old_links: Vec<PlanLink> =
        current.plan_links.iter().map(|link| PlanLink { kind: link.kind, id: link.id }).collect();
    audit::record(
        conn,
        actor,
        Change::updated(
            "measure_assessment",
            current.id,
            &serde_json::json!({"hq_grade": current.hq_grade, "hq_comment": current.hq_comment,
                "direction": current.direction, "direction_reason": current.direction_reason,
                "plan_links": old_links, "version": current.version}),
            &serde_json::json!({"hq_grade": new.decision.hq_grade, "hq_comment": new.decision.hq_comment,
                "direction": new.decision.direction, "direction_reason": new.decision.direction_reason,
                "plan_links": new.decision.plan_links, "version": version}),
        ),
    )?;
    Ok(())
}

// ---- what links name -------------------------------------------------------------------------

type TargetRevisionColumns = (i32, Option<String>, Option<String>, Option<i32>, i32, i32);
type IndicatorColumns = (i32, Option<i32>, String);
/// A measure's id, number, name, status, plan and municipality.
type MeasureColumns = (i32, i32, String, String, i32, i32);

macro_rules! measure_columns {
    () => {
        (measures::id, measures::number, measures::name, measures::status, measures::plan_id, plans::municipality_id)
    };
}

/// The records these links name, each with the municipality it belongs to; a link naming nothing
/// is left out. At most one query per kind of link.
pub fn link_targets(conn: &mut DbConnection, links: &[PlanLink]) -> Result<Vec<(LinkTarget, i32)>, AppError> {
    let ids_of = |kind: PlanLinkKind| -> Vec<i32> { links.iter().filter(|l| l.kind == kind).map(|l| l.id).collect() };
    let mut found = Vec::new();
    let revisions = ids_of(PlanLinkKind::TargetRevision);
    if !revisions.is_empty() {
        let rows: Vec<(TargetRevisionColumns, IndicatorColumns, MeasureColumns)> = target_revisions::table
            .inner_join(indicators::table.inner_join(measures::table.inner_join(plans::table)))
            .filter(target_revisions::id.eq_any(&revisions))
            .select((
                (
                    target_revisions::id,
                    target_revisions::text,
                    target_revisions::value,
                    target_revisions::stage,
                    target_revisions::target_fiscal_year,
                    target_revisions::effective_from_fiscal_year,
                ),
                (indicators::id, indicators::number, indicators::name),
                measure_columns!(),
            ))
            .load(conn)?;
        for ((id, text, value, stage, target_year, effective_from), indicator, measure) in rows {
            let text = match (text, optional_decimal(value.as_deref())?, stage) {
                (Some(text), _, _) => text,
                (None, Some(value), _) => value.normalize().to_string(),
                (None, None, Some(stage)) => format!("段階 {stage}"),
                (None, None, None) => "—".to_owned(),
            };
            let summary =
                TargetSummary { text, target_fiscal_year: target_year, effective_from_fiscal_year: effective_from };
            let link = PlanLink { kind: PlanLinkKind::TargetRevision, id };
            found.push(link_target(link, Some(indicator), Some(summary), measure)?);
        }
    }
    let added = ids_of(PlanLinkKind::IndicatorAdded);
    if !added.is_empty() {
        let rows: Vec<(IndicatorColumns, MeasureColumns)> = indicators::table
            .inner_join(measures::table.inner_join(plans::table))
            .filter(indicators::id.eq_any(&added))
            .select(((indicators::id, indicators::number, indicators::name), measure_columns!()))
            .load(conn)?;
        for (indicator, measure) in rows {
            let link = PlanLink { kind: PlanLinkKind::IndicatorAdded, id: indicator.0 };
            found.push(link_target(link, Some(indicator), None, measure)?);
        }
    }
    for kind in [PlanLinkKind::MeasureCompleted, PlanLinkKind::MeasureRetired] {
        let ids = ids_of(kind);
        if ids.is_empty() {
            continue;
        }
        let rows: Vec<MeasureColumns> = measures::table
            .inner_join(plans::table)
            .filter(measures::id.eq_any(&ids))
            .select(measure_columns!())
            .load(conn)?;
        for measure in rows {
            found.push(link_target(PlanLink { kind, id: measure.0 }, None, None, measure)?);
        }
    }
    Ok(found)
}

fn link_target(
    link: PlanLink,
    indicator: Option<IndicatorColumns>,
    target: Option<TargetSummary>,
    (measure_id, measure_number, measure_name, status, plan_id, municipality_id): MeasureColumns,
) -> Result<(LinkTarget, i32), AppError> {
    let target = LinkTarget {
        link,
        plan_id,
        measure_id,
        measure_number,
        measure_name,
        measure_status: enum_from_column(&status)?,
        indicator,
        target,
    };
    Ok((target, municipality_id))
}

/// [`link_targets`] keyed by link, for describing stored links.
fn link_targets_by_link(
    conn: &mut DbConnection,
    links: &[PlanLink],
) -> Result<BTreeMap<PlanLink, LinkTarget>, AppError> {
    Ok(link_targets(conn, links)?.into_iter().map(|(target, _)| (target.link, target)).collect())
}

/// The current assessments that link to a revision of this measure (its completion or
/// retirement, an indicator added to it, a target of one of its indicators) or of this indicator,
/// folded, with their links described.
pub fn assessments_linking_to(
    conn: &mut DbConnection,
    measure_id: Option<i32>,
    indicator_id: Option<i32>,
) -> Result<Vec<HqAssessment>, AppError> {
    let mut query = measure_assessment_links::table.select(measure_assessment_links::assessment_id).into_boxed();
    if let Some(measure_id) = measure_id {
        query = query.filter(measure_assessment_links::measure_id.eq(measure_id));
    }
    if let Some(indicator_id) = indicator_id {
        query = query.filter(measure_assessment_links::indicator_id.eq(indicator_id));
    }
    let mut ids: Vec<i32> = query.load(conn)?;
    ids.sort_unstable();
    ids.dedup();
    let events = by_evaluation(assessment_events_by_id(conn, &ids)?);
    let links: Vec<PlanLink> = events.values().flatten().flat_map(|e| e.decision.plan_links.iter().copied()).collect();
    let targets = link_targets_by_link(conn, &links)?;
    Ok(events.into_iter().filter_map(|(key, events)| HqAssessment::fold(key, &events, None, &targets)).collect())
}

/// [`link_targets`] of the links of these assessment versions, keyed by link.
pub fn targets_of_events<'a>(
    conn: &mut DbConnection,
    events: impl IntoIterator<Item = &'a HqAssessmentEvent>,
) -> Result<BTreeMap<PlanLink, LinkTarget>, AppError> {
    let links: Vec<PlanLink> = events.into_iter().flat_map(|e| e.decision.plan_links.iter().copied()).collect();
    link_targets_by_link(conn, &links)
}

// ---- a plan's 方向性 ---------------------------------------------------------------------------

/// The 方向性 a plan's assessments choose from, in order: its own list, or the defaults.
pub fn directions(conn: &mut DbConnection, plan_id: i32) -> Result<Vec<String>, AppError> {
    let names: Vec<String> = plan_evaluation_directions::table
        .filter(plan_evaluation_directions::plan_id.eq(plan_id))
        .select(plan_evaluation_directions::name)
        .order(plan_evaluation_directions::position)
        .load(conn)?;
    Ok(if names.is_empty() { default_directions() } else { names })
}

/// Replaces a plan's list of 方向性 (checked by the caller); recorded in the audit log with the
/// list it replaces. Assessments keep the direction they recorded.
pub fn set_directions(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: i32,
    names: &[String],
) -> Result<Vec<String>, AppError> {
    let old = directions(conn, plan_id)?;
    diesel::delete(plan_evaluation_directions::table.filter(plan_evaluation_directions::plan_id.eq(plan_id)))
        .execute(conn)?;
    for (position, name) in names.iter().enumerate() {
        diesel::insert_into(plan_evaluation_directions::table)
            .values((
                plan_evaluation_directions::plan_id.eq(plan_id),
                plan_evaluation_directions::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                plan_evaluation_directions::name.eq(name),
            ))
            .execute(conn)?;
    }
    audit::record(
        conn,
        actor,
        Change::updated(
            "plan",
            plan_id,
            &serde_json::json!({"evaluation_directions": old}),
            &serde_json::json!({
                "evaluation_directions": names
            }),
        )
        .with_action("set_evaluation_directions"),
    )?;
    directions(conn, plan_id)
}
