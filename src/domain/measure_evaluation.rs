//! 施策評価 (measure evaluation) of one measure and fiscal year.
//!
//! Each department that owns the measure that year reports: 取組実績 (what was done), how far the
//! year's roadmap step got against the plan, a 自己評価 on the plan's grading scale, 課題 and
//! 今後の方向性. The report goes through the same review as an actual (`domain::submission`).
//! The 本部 then records its own assessment of the measure's year: 本部評価, a 方向性 decision from
//! the plan's list with its reasons, and the plan revisions it led to (計画への反映).
//!
//! Pure: `db::measure_evaluations` stores every version; an evaluation as it stood at a time is
//! the fold of its versions up to then.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::achievement::{Grade, GradeBasis, GradingSettings};
use crate::domain::limits::{self, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use crate::domain::plan::{ActualStatus, MeasureStatus, label};
use crate::domain::submission::ActualEventKind;
use crate::error::FieldError;

/// How far the year's roadmap step got, against the plan (ロードマップの進捗).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoadmapProgress {
    /// 予定どおり
    #[serde(alias = "予定どおり", alias = "予定通り")]
    OnSchedule,
    /// 前倒し: further than planned
    #[serde(alias = "前倒し")]
    Ahead,
    /// 遅れ
    #[serde(alias = "遅れ")]
    Delayed,
    /// 未着手: the year's step has not begun
    #[serde(alias = "未着手")]
    NotStarted,
    /// 完了: the measure's work is done
    #[serde(alias = "完了")]
    Completed,
}

impl RoadmapProgress {
    pub const ALL: [Self; 5] = [Self::OnSchedule, Self::Ahead, Self::Delayed, Self::NotStarted, Self::Completed];

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::OnSchedule => "予定どおり",
            Self::Ahead => "前倒し",
            Self::Delayed => "遅れ",
            Self::NotStarted => "未着手",
            Self::Completed => "完了",
        }
    }

    /// Off the plan: ahead of it, behind it or not begun. A department says why.
    pub fn needs_reason(self) -> bool {
        matches!(self, Self::Ahead | Self::Delayed | Self::NotStarted)
    }
}

/// The 方向性 a plan offers when none are configured.
pub const DEFAULT_DIRECTIONS: [&str; 6] = ["継続", "拡充", "改善・見直し", "縮小", "完了", "廃止"];

pub fn default_directions() -> Vec<String> {
    DEFAULT_DIRECTIONS.iter().map(|d| (*d).to_owned()).collect()
}

/// A plan's list of 方向性: at least one, each named (at most [`MAX_NAME_CHARS`]) and none twice.
/// Returns the names trimmed, in the order given.
pub fn check_directions(names: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if names.is_empty() {
        errors.push(FieldError::new("directions", "方向性を1つ以上指定してください (name at least one direction)"));
    }
    if let Some(problem) = limits::list_problem(names.len()) {
        errors.push(FieldError::new("directions", problem));
    }
    let mut seen = BTreeSet::new();
    let mut checked = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let name = name.trim();
        let field = format!("directions[{i}]");
        if let Some(problem) = limits::text_problem(name, MAX_NAME_CHARS) {
            errors.push(FieldError::new(field, problem));
        } else if name.is_empty() {
            errors.push(FieldError::new(field, "方向性の名称を入力してください (must not be empty)"));
        } else if !seen.insert(name.to_owned()) {
            errors.push(FieldError::new(field, format!("「{name}」が重複しています (listed twice)")));
        }
        checked.push(name.to_owned());
    }
    if errors.is_empty() { Ok(checked) } else { Err(errors) }
}

/// One grade of the plan's scale as a form shows it (`A`: 進捗率 100% 以上).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GradeStep {
    pub grade: Grade,
    #[schema(example = "進捗率 100% 以上")]
    pub description: String,
}

/// The plan's grading scale (A–D with its thresholds and basis), on which 自己評価 and 本部評価 are
/// given: the same scale the indicators are graded on.
pub fn grading_scale(settings: &GradingSettings) -> Vec<GradeStep> {
    let rate = match settings.basis {
        GradeBasis::Progress => "進捗率",
        GradeBasis::Attainment => "達成率",
    };
    let percent = |value: Decimal| format!("{}%", value.normalize());
    let (a, b, c) = (percent(settings.grade_a_min), percent(settings.grade_b_min), percent(settings.grade_c_min));
    [
        (Grade::A, format!("{rate} {a} 以上")),
        (Grade::B, format!("{rate} {b} 以上 {a} 未満")),
        (Grade::C, format!("{rate} {c} 以上 {b} 未満")),
        (Grade::D, format!("{rate} {c} 未満")),
    ]
    .into_iter()
    .map(|(grade, description)| GradeStep { grade, description })
    .collect()
}

/// A grade given by a person (自己評価, 本部評価): one of A–D; `—` is what a rule gives when it
/// cannot grade, never an assessment.
fn check_grade(field: &str, grade: Grade, errors: &mut Vec<FieldError>) {
    if grade == Grade::NotAssessable {
        errors.push(FieldError::new(field, "A・B・C・D のいずれかで評価してください (grade A, B, C or D)"));
    }
}

/// A free text: trimmed, at most [`MAX_TEXT_CHARS`], no NUL; `required` refuses an empty one.
fn check_text(field: &str, text: &str, required: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let text = text.trim();
    if let Some(problem) = limits::text_problem(text, MAX_TEXT_CHARS) {
        errors.push(FieldError::new(field, problem));
    } else if let (true, Some(message)) = (text.is_empty(), required) {
        errors.push(FieldError::new(field, message));
    }
    text.to_owned()
}

/// What a department reports for a measure's year: the content of one version.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DepartmentReport {
    /// 取組実績: what was done in the year
    #[schema(example = "マイナンバーカードの出張申請受付を区内12か所で実施した。")]
    pub work_done: String,
    /// Progress of the year's roadmap step against the plan
    pub roadmap_progress: RoadmapProgress,
    /// Why the step is off the plan (required for `ahead`, `delayed` and `not_started`)
    #[schema(example = "")]
    pub progress_reason: String,
    /// 自己評価 on the plan's grading scale (A–D)
    pub self_grade: Grade,
    /// 課題
    #[schema(example = "交付窓口の混雑")]
    pub issues: String,
    /// 今後の方向性, as the department sees it
    #[schema(example = "予約制の拡大")]
    pub next_steps: String,
}

/// Checks a department's report: 取組実績 is required, a reason when the roadmap step is off the
/// plan, a grade of A–D; texts bounded. Every problem is reported, each naming its field.
pub fn check_report(report: &DepartmentReport) -> Result<DepartmentReport, Vec<FieldError>> {
    let mut errors = Vec::new();
    let work_done = check_text(
        "work_done",
        &report.work_done,
        Some("取組実績を入力してください (say what was done this year)"),
        &mut errors,
    );
    let reason_message = format!(
        "進捗が「{}」の場合は理由を入力してください (say why the roadmap step is {})",
        report.roadmap_progress.label_ja(),
        crate::domain::plan::to_text(&report.roadmap_progress)
    );
    let required_reason = report.roadmap_progress.needs_reason().then_some(reason_message.as_str());
    let progress_reason = check_text("progress_reason", &report.progress_reason, required_reason, &mut errors);
    check_grade("self_grade", report.self_grade, &mut errors);
    let issues = check_text("issues", &report.issues, None, &mut errors);
    let next_steps = check_text("next_steps", &report.next_steps, None, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(DepartmentReport {
        work_done,
        roadmap_progress: report.roadmap_progress,
        progress_reason,
        self_grade: report.self_grade,
        issues,
        next_steps,
    })
}

/// What a plan revision linked to an assessment is (計画への反映).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanLinkKind {
    /// A target revision (`id`: the revision's, as `/indicators/{id}/targets` lists it)
    TargetRevision,
    /// An indicator added to the plan (`id`: the indicator's)
    IndicatorAdded,
    /// A measure marked completed (`id`: the measure's)
    MeasureCompleted,
    /// A measure retired from the plan (`id`: the measure's)
    MeasureRetired,
}

impl PlanLinkKind {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::TargetRevision => "目標の見直し",
            Self::IndicatorAdded => "指標の追加",
            Self::MeasureCompleted => "施策の完了",
            Self::MeasureRetired => "施策の廃止",
        }
    }
}

/// A plan revision an assessment led to, as stored: its kind and the id of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanLink {
    pub kind: PlanLinkKind,
    /// The target revision's, the indicator's or the measure's id
    pub id: i32,
}

/// What the 本部 decides about a measure's year: the content of one version of its assessment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HqDecision {
    /// 本部評価 on the plan's grading scale (A–D)
    pub hq_grade: Grade,
    /// The 本部's comment on the year
    #[schema(example = "交付率は目標に届かなかったが、出張申請受付の効果が出ている。")]
    pub hq_comment: String,
    /// 方向性: one of the plan's directions (`/plans/{id}/evaluation-directions`)
    #[schema(example = "拡充")]
    pub direction: String,
    /// Why the 本部 decided so
    #[schema(example = "国の交付目標に合わせ、受付体制を拡充する。")]
    pub direction_reason: String,
    /// The plan revisions the decision led to (計画への反映)
    pub plan_links: Vec<PlanLink>,
}

/// Checks the 本部's decision: a grade of A–D, a direction the plan offers, its reasons, and each
/// linked revision named once. Texts bounded.
pub fn check_decision(decision: &HqDecision, directions: &[String]) -> Result<HqDecision, Vec<FieldError>> {
    let mut errors = Vec::new();
    check_grade("hq_grade", decision.hq_grade, &mut errors);
    let hq_comment = check_text("hq_comment", &decision.hq_comment, None, &mut errors);
    let direction = decision.direction.trim().to_owned();
    if !directions.contains(&direction) {
        errors.push(FieldError::new(
            "direction",
            format!(
                "方向性は次のいずれかを指定してください: {} (must be one of the plan's directions)",
                directions.join("、")
            ),
        ));
    }
    let direction_reason = check_text(
        "direction_reason",
        &decision.direction_reason,
        Some("方向性の理由を入力してください (say why the direction was chosen)"),
        &mut errors,
    );
    if let Some(problem) = limits::list_problem(decision.plan_links.len()) {
        errors.push(FieldError::new("plan_links", problem));
    }
    let mut seen = BTreeSet::new();
    for (i, link) in decision.plan_links.iter().enumerate() {
        if !seen.insert(*link) {
            errors.push(FieldError::new(format!("plan_links[{i}]"), "同じ改定が重複しています (listed twice)"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(HqDecision {
        hq_grade: decision.hq_grade,
        hq_comment,
        direction,
        direction_reason,
        plan_links: decision.plan_links.clone(),
    })
}

/// A target revision as a link describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSummary {
    /// The target as printed (`230 データセット`), or its value
    pub text: String,
    pub target_fiscal_year: i32,
    pub effective_from_fiscal_year: i32,
}

/// The record a link names, as read from storage: enough to check the link and describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkTarget {
    pub link: PlanLink,
    pub plan_id: i32,
    pub measure_id: i32,
    pub measure_number: i32,
    pub measure_name: String,
    pub measure_status: MeasureStatus,
    /// `(id, number, name)` of the indicator, for target revisions and added indicators
    pub indicator: Option<(i32, Option<i32>, String)>,
    pub target: Option<TargetSummary>,
}

/// A link names a record of the right state: a completed measure for `measure_completed`, a
/// retired one for `measure_retired`. (That the record exists and is the municipality's own is
/// the storage's check.)
pub fn check_link(target: &LinkTarget) -> Result<(), String> {
    let expected = match target.link.kind {
        PlanLinkKind::MeasureCompleted => MeasureStatus::Completed,
        PlanLinkKind::MeasureRetired => MeasureStatus::Retired,
        PlanLinkKind::TargetRevision | PlanLinkKind::IndicatorAdded => return Ok(()),
    };
    if target.measure_status == expected {
        return Ok(());
    }
    Err(format!(
        "施策 No.{} はまだ{}されていません: 先に施策の状態を変更してください (measure No.{} is not {} yet; change its status first)",
        target.measure_number,
        if expected == MeasureStatus::Completed { "完了" } else { "廃止" },
        target.measure_number,
        crate::domain::plan::to_text(&expected)
    ))
}

/// A plan revision as both sides show it: the assessment that led to it, and the measure or
/// indicator it changed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LinkedRevision {
    pub kind: PlanLinkKind,
    pub id: i32,
    /// `null` when the record can no longer be read
    pub plan_id: Option<i32>,
    pub measure_id: Option<i32>,
    pub indicator_id: Option<i32>,
    #[schema(
        example = "目標の見直し: No.1 指標1 オープンデータ項目数 目標 230 データセット (令和2(2020)年度), 平成30(2018)年度から"
    )]
    pub description: String,
}

impl LinkedRevision {
    /// The link described from what it names, when that could be read.
    pub fn describe(link: PlanLink, target: Option<&LinkTarget>) -> Self {
        let Some(target) = target else {
            return Self {
                kind: link.kind,
                id: link.id,
                plan_id: None,
                measure_id: None,
                indicator_id: None,
                description: format!("{} (id {})", link.kind.label_ja(), link.id),
            };
        };
        let measure = format!("No.{} {}", target.measure_number, target.measure_name);
        let indicator = target.indicator.as_ref().map(|(_, number, name)| match number {
            Some(number) => format!("No.{} 指標{number} {name}", target.measure_number),
            None => format!("No.{} {name}", target.measure_number),
        });
        let what = match (&indicator, &target.target) {
            (Some(indicator), Some(revision)) => format!(
                "{indicator} 目標 {} ({}), {}から",
                revision.text,
                label(revision.target_fiscal_year),
                label(revision.effective_from_fiscal_year)
            ),
            (Some(indicator), None) => indicator.clone(),
            (None, _) => measure,
        };
        Self {
            kind: link.kind,
            id: link.id,
            plan_id: Some(target.plan_id),
            measure_id: Some(target.measure_id),
            indicator_id: target.indicator.as_ref().map(|(id, _, _)| *id),
            description: format!("{}: {what}", link.kind.label_ja()),
        }
    }
}

/// One version of a department's evaluation, as the history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentEvaluationEvent {
    pub version: i32,
    pub event: ActualEventKind,
    #[serde(flatten)]
    pub report: DepartmentReport,
    pub status: ActualStatus,
    /// Generated demo text, never a department's own words
    pub is_sample: bool,
    /// The 本部's comment on a return or reopening
    pub comment: Option<String>,
    pub actor_id: Option<i32>,
    pub actor_username: Option<String>,
    /// The department the actor belonged to when acting (`null` for hq)
    pub actor_department_id: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

/// The version of a department's evaluation last approved by `as_of`: the words the municipality
/// stands by. As for actuals, a newer version awaiting review or returned does not replace it.
pub fn approved_version<'a>(
    events: impl IntoIterator<Item = &'a DepartmentEvaluationEvent>,
    as_of: Option<NaiveDateTime>,
) -> Option<&'a DepartmentEvaluationEvent> {
    events.into_iter().filter(|e| recorded_by(e.recorded_at, as_of) && e.status == ActualStatus::Approved).last()
}

/// Which department evaluation a version belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EvaluationKey {
    pub id: i32,
    pub measure_id: i32,
    pub fiscal_year: i32,
    pub department_id: i32,
    pub department_name: String,
}

/// A department's evaluation of a measure's year as it stands (or stood).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentEvaluation {
    pub id: i32,
    pub measure_id: i32,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    pub department_id: i32,
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    #[serde(flatten)]
    pub report: DepartmentReport,
    #[schema(example = "予定どおり")]
    pub roadmap_progress_label: String,
    pub status: ActualStatus,
    /// Generated demo text, never a department's own words
    pub is_sample: bool,
    /// The version (the ETag's number)
    pub version: i32,
    pub submitted_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub submitted_at: NaiveDateTime,
    pub reviewed_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub reviewed_at: Option<NaiveDateTime>,
    pub review_comment: Option<String>,
}

fn recorded_by(recorded_at: NaiveDateTime, as_of: Option<NaiveDateTime>) -> bool {
    as_of.is_none_or(|t| recorded_at <= t)
}

impl DepartmentEvaluation {
    /// The evaluation as it stood at `as_of` (as it stands when `None`), from its versions oldest
    /// first; `None` before its first version.
    pub fn fold<'a>(
        key: &EvaluationKey,
        events: impl IntoIterator<Item = &'a DepartmentEvaluationEvent>,
        as_of: Option<NaiveDateTime>,
    ) -> Option<Self> {
        let mut latest: Option<&DepartmentEvaluationEvent> = None;
        let mut submitted: Option<&DepartmentEvaluationEvent> = None;
        let mut reviewed: Option<&DepartmentEvaluationEvent> = None;
        for event in events.into_iter().filter(|e| recorded_by(e.recorded_at, as_of)) {
            match event.event {
                ActualEventKind::Approved | ActualEventKind::Returned | ActualEventKind::Reopened => {
                    reviewed = Some(event)
                }
                ActualEventKind::Submitted | ActualEventKind::Corrected | ActualEventKind::Resubmitted => {
                    submitted = Some(event)
                }
            }
            latest = Some(event);
        }
        let latest = latest?;
        let submitted = submitted.unwrap_or(latest);
        Some(Self {
            id: key.id,
            measure_id: key.measure_id,
            fiscal_year: key.fiscal_year,
            fiscal_year_label: label(key.fiscal_year),
            department_id: key.department_id,
            department_name: key.department_name.clone(),
            report: latest.report.clone(),
            roadmap_progress_label: latest.report.roadmap_progress.label_ja().to_owned(),
            status: latest.status,
            is_sample: latest.is_sample,
            version: latest.version,
            submitted_by: submitted.actor_id,
            submitted_at: submitted.recorded_at,
            reviewed_by: reviewed.and_then(|e| e.actor_id),
            reviewed_at: reviewed.map(|e| e.recorded_at),
            review_comment: reviewed.and_then(|e| e.comment.clone()),
        })
    }
}

/// One version of the 本部's assessment, as the history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HqAssessmentEvent {
    pub version: i32,
    #[serde(flatten)]
    pub decision: HqDecision,
    /// Generated demo text, never the 本部's own words
    pub is_sample: bool,
    pub actor_id: Option<i32>,
    pub actor_username: Option<String>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

/// Which assessment a version belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AssessmentKey {
    pub id: i32,
    pub measure_id: i32,
    pub fiscal_year: i32,
}

/// The 本部's assessment of a measure's year as it stands (or stood).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HqAssessment {
    pub id: i32,
    pub measure_id: i32,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    /// 本部評価 (A–D)
    pub hq_grade: Grade,
    pub hq_comment: String,
    /// 方向性
    #[schema(example = "拡充")]
    pub direction: String,
    pub direction_reason: String,
    /// The plan revisions it led to (計画への反映), described
    pub plan_links: Vec<LinkedRevision>,
    /// Generated demo text, never the 本部's own words
    pub is_sample: bool,
    /// The version (the ETag's number)
    pub version: i32,
    pub recorded_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

impl HqAssessment {
    /// The assessment as it stood at `as_of` (as it stands when `None`), its links described from
    /// `targets`; `None` before its first version.
    pub fn fold<'a>(
        key: AssessmentKey,
        events: impl IntoIterator<Item = &'a HqAssessmentEvent>,
        as_of: Option<NaiveDateTime>,
        targets: &BTreeMap<PlanLink, LinkTarget>,
    ) -> Option<Self> {
        let latest = events.into_iter().filter(|e| recorded_by(e.recorded_at, as_of)).last()?;
        let decision = &latest.decision;
        Some(Self {
            id: key.id,
            measure_id: key.measure_id,
            fiscal_year: key.fiscal_year,
            fiscal_year_label: label(key.fiscal_year),
            hq_grade: decision.hq_grade,
            hq_comment: decision.hq_comment.clone(),
            direction: decision.direction.clone(),
            direction_reason: decision.direction_reason.clone(),
            plan_links: decision
                .plan_links
                .iter()
                .map(|link| LinkedRevision::describe(*link, targets.get(link)))
                .collect(),
            is_sample: latest.is_sample,
            version: latest.version,
            recorded_by: latest.actor_id,
            recorded_at: latest.recorded_at,
        })
    }
}

/// A measure evaluation outstanding after the deadline: missing or returned when it passed.
pub fn outstanding_after_deadline(status: Option<ActualStatus>, deadline_passed: bool) -> bool {
    deadline_passed && matches!(status, None | Some(ActualStatus::Returned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(progress: RoadmapProgress, reason: &str, grade: Grade) -> DepartmentReport {
        DepartmentReport {
            work_done: "  出張申請受付を12か所で実施  ".into(),
            roadmap_progress: progress,
            progress_reason: reason.into(),
            self_grade: grade,
            issues: String::new(),
            next_steps: String::new(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2021, 5, day).unwrap().and_hms_opt(9, 0, 0).unwrap()
    }

    #[test]
    fn a_step_off_the_plan_needs_a_reason_and_one_on_it_does_not() {
        for progress in RoadmapProgress::ALL {
            let outcome = check_report(&report(progress, "", Grade::B));
            assert_eq!(outcome.is_err(), progress.needs_reason(), "{progress:?}");
        }
        let errors = check_report(&report(RoadmapProgress::Delayed, "  ", Grade::B)).unwrap_err();
        assert_eq!(fields(&errors), vec!["progress_reason"]);
        assert!(errors[0].message.starts_with("進捗が「遅れ」の場合は理由を入力してください"));
        let checked = check_report(&report(RoadmapProgress::Delayed, "国の仕様確定が遅れたため", Grade::C)).unwrap();
        assert_eq!(checked.work_done, "出張申請受付を12か所で実施", "texts are trimmed");
    }

    #[test]
    fn a_report_without_work_done_or_a_grade_is_refused_naming_every_field() {
        let mut empty = report(RoadmapProgress::NotStarted, "", Grade::NotAssessable);
        empty.work_done = " ".into();
        empty.issues = "課".repeat(MAX_TEXT_CHARS + 1);
        let errors = check_report(&empty).unwrap_err();
        assert_eq!(fields(&errors), vec!["work_done", "progress_reason", "self_grade", "issues"]);
        assert!(errors[3].message.contains("at most 2000 characters"), "{}", errors[3].message);
        let nul = DepartmentReport { next_steps: "a\0b".into(), ..report(RoadmapProgress::OnSchedule, "", Grade::A) };
        assert_eq!(fields(&check_report(&nul).unwrap_err()), vec!["next_steps"]);
    }

    #[test]
    fn progress_is_read_in_english_or_as_the_sheet_prints_it() {
        let read = |text: &str| serde_json::from_value::<RoadmapProgress>(serde_json::json!(text)).unwrap();
        assert_eq!(read("前倒し"), RoadmapProgress::Ahead);
        assert_eq!(read("予定通り"), RoadmapProgress::OnSchedule);
        assert_eq!(read("not_started"), RoadmapProgress::NotStarted);
        assert_eq!(serde_json::to_value(RoadmapProgress::Completed).unwrap(), "completed");
    }

    #[test]
    fn the_scale_is_the_plans_thresholds_on_its_basis() {
        let scale = grading_scale(&GradingSettings::default());
        let described: Vec<String> = scale.iter().map(|s| format!("{:?} {}", s.grade, s.description)).collect();
        assert_eq!(
            described,
            vec![
                "A 進捗率 100% 以上",
                "B 進捗率 80% 以上 100% 未満",
                "C 進捗率 50% 以上 80% 未満",
                "D 進捗率 50% 未満"
            ]
        );
        let attainment = GradingSettings {
            basis: GradeBasis::Attainment,
            grade_b_min: Decimal::new(900, 1),
            ..GradingSettings::default()
        };
        assert_eq!(grading_scale(&attainment)[1].description, "達成率 90% 以上 100% 未満");
    }

    #[test]
    fn directions_are_named_once_each() {
        assert_eq!(check_directions(&default_directions()).unwrap().len(), 6);
        let names = vec![" 継続 ".to_owned(), "拡充".into(), "継続".into(), "".into()];
        let errors = check_directions(&names).unwrap_err();
        assert_eq!(fields(&errors), vec!["directions[2]", "directions[3]"]);
        assert_eq!(fields(&check_directions(&[]).unwrap_err()), vec!["directions"]);
    }

    fn decision(direction: &str, reason: &str, links: Vec<PlanLink>) -> HqDecision {
        HqDecision {
            hq_grade: Grade::B,
            hq_comment: String::new(),
            direction: direction.into(),
            direction_reason: reason.into(),
            plan_links: links,
        }
    }

    #[test]
    fn a_decision_chooses_one_of_the_plans_directions_and_says_why() {
        let directions = default_directions();
        assert_eq!(check_decision(&decision(" 拡充", "体制を拡充", vec![]), &directions).unwrap().direction, "拡充");
        let errors = check_decision(&decision("現状維持", "", vec![]), &directions).unwrap_err();
        assert_eq!(fields(&errors), vec!["direction", "direction_reason"]);
        assert!(errors[0].message.contains("継続、拡充、改善・見直し、縮小、完了、廃止"), "{}", errors[0].message);
        let custom = vec!["現状維持".to_owned()];
        assert!(check_decision(&decision("現状維持", "理由", vec![]), &custom).is_ok(), "a plan's own list");
        let link = PlanLink { kind: PlanLinkKind::TargetRevision, id: 4 };
        let twice = check_decision(&decision("継続", "理由", vec![link, link]), &directions).unwrap_err();
        assert_eq!(fields(&twice), vec!["plan_links[1]"]);
    }

    fn target(kind: PlanLinkKind, status: MeasureStatus) -> LinkTarget {
        LinkTarget {
            link: PlanLink { kind, id: 7 },
            plan_id: 1,
            measure_id: 3,
            measure_number: 1,
            measure_name: "オープンデータの推進".into(),
            measure_status: status,
            indicator: Some((9, Some(1), "オープンデータ項目数".into())),
            target: Some(TargetSummary {
                text: "230 データセット".into(),
                target_fiscal_year: 2020,
                effective_from_fiscal_year: 2018,
            }),
        }
    }

    #[test]
    fn a_measure_link_names_a_measure_in_that_state() {
        assert!(check_link(&target(PlanLinkKind::MeasureCompleted, MeasureStatus::Completed)).is_ok());
        let refused = check_link(&target(PlanLinkKind::MeasureCompleted, MeasureStatus::Active)).unwrap_err();
        assert!(refused.starts_with("施策 No.1 はまだ完了されていません"), "{refused}");
        assert!(check_link(&target(PlanLinkKind::MeasureRetired, MeasureStatus::Completed)).is_err());
        assert!(check_link(&target(PlanLinkKind::TargetRevision, MeasureStatus::Active)).is_ok());
    }

    #[test]
    fn a_link_is_described_from_what_it_names() {
        let revision = target(PlanLinkKind::TargetRevision, MeasureStatus::Active);
        let described = LinkedRevision::describe(revision.link, Some(&revision));
        assert_eq!(
            described.description,
            "目標の見直し: No.1 指標1 オープンデータ項目数 目標 230 データセット (令和2(2020)年度), 平成30(2018)年度から"
        );
        assert_eq!((described.measure_id, described.indicator_id), (Some(3), Some(9)));
        let measure = LinkTarget {
            link: PlanLink { kind: PlanLinkKind::MeasureCompleted, id: 3 },
            indicator: None,
            target: None,
            ..revision
        };
        assert_eq!(
            LinkedRevision::describe(measure.link, Some(&measure)).description,
            "施策の完了: No.1 オープンデータの推進"
        );
        let unread = LinkedRevision::describe(PlanLink { kind: PlanLinkKind::IndicatorAdded, id: 5 }, None);
        assert_eq!((unread.description.as_str(), unread.plan_id), ("指標の追加 (id 5)", None));
    }

    fn event(version: i32, kind: ActualEventKind, status: ActualStatus, day: u32) -> DepartmentEvaluationEvent {
        DepartmentEvaluationEvent {
            version,
            event: kind,
            report: DepartmentReport {
                work_done: format!("版{version}"),
                ..report(RoadmapProgress::OnSchedule, "", Grade::B)
            },
            status,
            is_sample: false,
            comment: (status == ActualStatus::Returned).then(|| "根拠を追記してください".to_owned()),
            actor_id: Some(version * 10),
            actor_username: None,
            actor_department_id: None,
            recorded_at: at(day),
        }
    }

    #[test]
    fn an_evaluation_folds_to_its_latest_version_with_who_submitted_and_who_reviewed() {
        let key = EvaluationKey {
            id: 1,
            measure_id: 6,
            fiscal_year: 2020,
            department_id: 2,
            department_name: "戸籍住民課".into(),
        };
        let events = [
            event(1, ActualEventKind::Submitted, ActualStatus::Submitted, 1),
            event(2, ActualEventKind::Returned, ActualStatus::Returned, 2),
            event(3, ActualEventKind::Resubmitted, ActualStatus::Submitted, 3),
        ];
        let now = DepartmentEvaluation::fold(&key, &events, None).unwrap();
        assert_eq!((now.version, now.status, now.report.work_done.as_str()), (3, ActualStatus::Submitted, "版3"));
        assert_eq!((now.submitted_by, now.submitted_at), (Some(30), at(3)));
        assert_eq!((now.reviewed_by, now.review_comment.as_deref()), (Some(20), Some("根拠を追記してください")));
        assert_eq!(now.fiscal_year_label, "令和2(2020)年度");
        let then = DepartmentEvaluation::fold(&key, &events, Some(at(2))).unwrap();
        assert_eq!((then.version, then.status), (2, ActualStatus::Returned));
        assert_eq!(then.submitted_at, at(1));
        assert!(DepartmentEvaluation::fold(&key, &events, Some(at(1) - chrono::Duration::seconds(1))).is_none());
    }

    #[test]
    fn an_assessment_folds_to_the_version_in_force_with_its_links_described() {
        let key = AssessmentKey { id: 4, measure_id: 3, fiscal_year: 2019 };
        let link = PlanLink { kind: PlanLinkKind::TargetRevision, id: 7 };
        let version = |number: i32, direction: &str, links: Vec<PlanLink>, day: u32| HqAssessmentEvent {
            version: number,
            decision: decision(direction, "理由", links),
            is_sample: false,
            actor_id: Some(1),
            actor_username: None,
            recorded_at: at(day),
        };
        let events = [version(1, "継続", vec![], 1), version(2, "拡充", vec![link], 5)];
        let targets = BTreeMap::from([(link, target(PlanLinkKind::TargetRevision, MeasureStatus::Active))]);
        let now = HqAssessment::fold(key, &events, None, &targets).unwrap();
        assert_eq!((now.version, now.direction.as_str(), now.plan_links.len()), (2, "拡充", 1));
        assert_eq!(now.plan_links[0].indicator_id, Some(9));
        let then = HqAssessment::fold(key, &events, Some(at(3)), &targets).unwrap();
        assert_eq!((then.version, then.direction.as_str(), then.plan_links.len()), (1, "継続", 0));
    }

    #[test]
    fn outstanding_after_the_deadline_means_missing_or_returned() {
        assert!(outstanding_after_deadline(None, true));
        assert!(outstanding_after_deadline(Some(ActualStatus::Returned), true));
        assert!(!outstanding_after_deadline(Some(ActualStatus::Submitted), true));
        assert!(!outstanding_after_deadline(Some(ActualStatus::Approved), true));
        assert!(!outstanding_after_deadline(None, false));
    }

    #[test]
    fn the_approved_version_stays_while_a_newer_one_waits_and_none_before_approval() {
        let events = [
            event(1, ActualEventKind::Submitted, ActualStatus::Submitted, 1),
            event(2, ActualEventKind::Approved, ActualStatus::Approved, 2),
            event(3, ActualEventKind::Corrected, ActualStatus::Submitted, 3),
            event(4, ActualEventKind::Returned, ActualStatus::Returned, 4),
        ];
        assert_eq!(approved_version(&events, None).map(|e| e.report.work_done.as_str()), Some("版2"));
        assert!(approved_version(&events, Some(at(1))).is_none());
        assert!(approved_version(&events[..1], None).is_none());
    }
}
