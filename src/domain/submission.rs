//! What a department may report for an indicator, and how an actual moves through review; a
//! measure evaluation (施策評価) moves through the same states.
//!
//! submitted → approved, or → returned → (corrected) submitted → approved; an approved actual changes
//! only after hq reopens it (→ returned).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::achievement::ActualValue;
use crate::domain::decimal_input::{MAX_INTEGER_DIGITS, fits_integer_digits};
use crate::domain::plan::{ActualStatus, IndicatorKind};
use crate::error::FieldError;

/// The reported figures after checking them against the indicator's kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckedFigures {
    pub value: Option<Decimal>,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
    pub stage: Option<i32>,
}

/// The raw figures of a submission, before checking.
#[derive(Debug, Clone, Default)]
pub struct Figures<'a> {
    pub value: Option<Decimal>,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
    pub stage: Option<i32>,
    pub stage_name: Option<&'a str>,
}

const NEGATIVE: &str = "マイナスの値は入力できません。0 以上の数で入力してください (must not be negative)";

/// Checks that the figures fit the indicator: a value for counts and percents, numerator and
/// denominator for ratios, a stage for milestones; no negative counts, shares within 0–100,
/// a denominator above zero, a known stage. Every problem is reported, each naming its field.
pub fn check_figures(
    kind: IndicatorKind,
    stages: &[String],
    figures: &Figures<'_>,
) -> Result<CheckedFigures, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: &str| errors.push(FieldError::new(field, message));
    let expects = |field: &str| match kind {
        IndicatorKind::Count | IndicatorKind::Percent => field == "value",
        IndicatorKind::Ratio => field == "numerator" || field == "denominator",
        IndicatorKind::Milestone => field == "stage",
    };
    let given = [
        ("value", figures.value.is_some()),
        ("numerator", figures.numerator.is_some()),
        ("denominator", figures.denominator.is_some()),
        ("stage", figures.stage.is_some() || figures.stage_name.is_some()),
    ];
    let kind_name = crate::domain::plan::to_text(&kind);
    let kind_ja = kind.name_ja();
    for (field, present) in given {
        match (expects(field), present) {
            (true, false) => {
                refuse(field, &format!("{kind_ja}の指標では入力が必要です (required for a {kind_name} indicator)"))
            }
            (false, true) => {
                refuse(field, &format!("{kind_ja}の指標では使いません (not used by a {kind_name} indicator)"))
            }
            _ => {}
        }
    }
    if let Some(value) = figures.value {
        if value.is_sign_negative() && !value.is_zero() {
            refuse("value", NEGATIVE);
        } else if kind == IndicatorKind::Percent && value > Decimal::ONE_HUNDRED {
            refuse("value", "割合は 0 から 100 までの数で入力してください (a percent is between 0 and 100)");
        }
    }
    if figures.numerator.is_some_and(|n| n.is_sign_negative() && !n.is_zero()) {
        refuse("numerator", NEGATIVE);
    }
    if figures.denominator.is_some_and(|d| d <= Decimal::ZERO) {
        refuse("denominator", "分母は 0 より大きい数で入力してください (must be greater than 0)");
    } else if let (Some(numerator), Some(denominator)) = (figures.numerator, figures.denominator) {
        // The percent is stored and graded: refuse a ratio whose percent cannot be represented
        // rather than accept it and show no rate.
        let rate = ActualValue::Ratio { numerator, denominator }.as_rate();
        if !rate.is_some_and(fits_integer_digits) {
            refuse(
                "denominator",
                &format!(
                    "分子 ÷ 分母 × 100 が大きすぎます (numerator / denominator × 100 must stay below \
                     {MAX_INTEGER_DIGITS} digits before the decimal point; check the denominator)"
                ),
            );
        }
    }
    let stage = match (figures.stage, figures.stage_name) {
        (Some(index), _) => match usize::try_from(index).ok().filter(|i| *i < stages.len()) {
            Some(_) => Some(index),
            None => {
                let last = stages.len().saturating_sub(1);
                refuse("stage", &format!("段階は 0〜{last} から選んでください (must be one of the stages 0–{last})"));
                None
            }
        },
        (None, Some(name)) => match stages.iter().position(|s| s == name) {
            Some(index) => i32::try_from(index).ok(),
            None => {
                let names = stages.join(", ");
                refuse(
                    "stage_name",
                    &format!(
                        "その名前の段階はありません。次から選んでください: {names} (unknown stage; expected one of: {names})"
                    ),
                );
                None
            }
        },
        (None, None) => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CheckedFigures {
        value: figures.value.map(|v| v.normalize()),
        numerator: figures.numerator.map(|v| v.normalize()),
        denominator: figures.denominator.map(|v| v.normalize()),
        stage,
    })
}

/// A review decision by hq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Approve,
    /// Send back to the department with a comment.
    Return,
    /// Reopen an approved actual so it can be corrected (needs a comment).
    Reopen,
}

/// A step of the workflow: the new status and the event name the history shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub status: ActualStatus,
    pub event: ActualEventKind,
}

/// What one version of an actual records: how it came about. Stored and sent as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActualEventKind {
    /// The first figures of the year
    Submitted,
    /// Figures changed while waiting for review
    Corrected,
    /// Figures sent again after the 本部 returned them
    Resubmitted,
    Approved,
    Returned,
    /// The 本部 took an approval back (with a comment)
    Reopened,
}

impl ActualEventKind {
    /// The stored name, also the audit log's action.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Corrected => "corrected",
            Self::Resubmitted => "resubmitted",
            Self::Approved => "approved",
            Self::Returned => "returned",
            Self::Reopened => "reopened",
        }
    }
}

/// What goes through the review workflow: its name in the messages of [`submit_record`] and
/// [`review_record`]. Actuals and measure evaluations move through the same states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reviewed {
    Actual,
    /// 施策評価: a department's evaluation of a measure's year
    MeasureEvaluation,
}

impl Reviewed {
    /// The Japanese and the English name.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Actual => ("実績", "actual"),
            Self::MeasureEvaluation => ("施策評価", "measure evaluation"),
        }
    }
}

fn status_ja(status: ActualStatus) -> &'static str {
    match status {
        ActualStatus::Submitted => "確認待ち",
        ActualStatus::Returned => "差戻し中",
        ActualStatus::Approved => "承認済み",
    }
}

fn action_ja(action: ReviewAction) -> &'static str {
    match action {
        ReviewAction::Approve => "承認",
        ReviewAction::Return => "差戻し",
        ReviewAction::Reopen => "再開",
    }
}

/// A department (or hq on its behalf) submits figures for a year.
pub fn submit(current: Option<ActualStatus>) -> Result<Step, String> {
    submit_record(Reviewed::Actual, current)
}

/// A department (or hq on its behalf) submits an actual or a measure evaluation: the first
/// version, a correction while it waits for review, or a resubmission after a return.
pub fn submit_record(reviewed: Reviewed, current: Option<ActualStatus>) -> Result<Step, String> {
    match current {
        None => Ok(Step { status: ActualStatus::Submitted, event: ActualEventKind::Submitted }),
        Some(ActualStatus::Submitted) => {
            Ok(Step { status: ActualStatus::Submitted, event: ActualEventKind::Corrected })
        }
        Some(ActualStatus::Returned) => {
            Ok(Step { status: ActualStatus::Submitted, event: ActualEventKind::Resubmitted })
        }
        Some(ActualStatus::Approved) => {
            let (ja, en) = reviewed.names();
            Err(format!(
                "承認済みの{ja}は変更できません。変更が必要な場合は本部に再開を依頼してください \
                 (the {en} is approved; hq must reopen it before it can be changed)"
            ))
        }
    }
}

/// A deactivated department (所管課) reports no more: a user acting for it may submit no actual,
/// one by one or by import. `department` is the name and active flag of the department the
/// submitter acts for, as stored now; `None` for hq, which submits on a department's behalf.
pub fn check_department_active(department: Option<(&str, bool)>) -> Result<(), String> {
    check_department_active_for(Reviewed::Actual, department)
}

/// [`check_department_active`] for what is submitted (an actual or a measure evaluation).
pub fn check_department_active_for(reviewed: Reviewed, department: Option<(&str, bool)>) -> Result<(), String> {
    let (ja, en) = reviewed.names();
    match department {
        Some((name, false)) => Err(format!(
            "所管課「{name}」は無効化されているため、{ja}を提出できません (the department {name} is deactivated: \
             its users may not submit {en}s; an admin can reactivate it)"
        )),
        _ => Ok(()),
    }
}

/// hq reviews an actual.
pub fn review(current: ActualStatus, action: ReviewAction, comment: Option<&str>) -> Result<Step, String> {
    review_record(Reviewed::Actual, current, action, comment)
}

/// hq reviews an actual or a measure evaluation: approves a submitted one, returns it with a
/// comment, or reopens an approved one with a comment.
pub fn review_record(
    reviewed: Reviewed,
    current: ActualStatus,
    action: ReviewAction,
    comment: Option<&str>,
) -> Result<Step, String> {
    let has_comment = comment.is_some_and(|c| !c.trim().is_empty());
    match (action, current) {
        (ReviewAction::Approve, ActualStatus::Submitted) => {
            Ok(Step { status: ActualStatus::Approved, event: ActualEventKind::Approved })
        }
        (ReviewAction::Return | ReviewAction::Reopen, _) if !has_comment => {
            Err("差戻し・再開の理由をコメントに入力してください (say why: a comment is required to return or reopen)"
                .to_owned())
        }
        (ReviewAction::Return, ActualStatus::Submitted) => {
            Ok(Step { status: ActualStatus::Returned, event: ActualEventKind::Returned })
        }
        (ReviewAction::Reopen, ActualStatus::Approved) => {
            Ok(Step { status: ActualStatus::Returned, event: ActualEventKind::Reopened })
        }
        (action, status) => {
            let (ja, en) = reviewed.names();
            let article = if en.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
            Err(format!(
                "{}の{ja}は{}できません (cannot {} {article} {en} that is {})",
                status_ja(status),
                action_ja(action),
                crate::domain::plan::to_text(&action),
                crate::domain::plan::to_text(&status)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_deactivated_department_submits_nothing() {
        let refused = check_department_active(Some(("戸籍住民課", false))).unwrap_err();
        assert!(
            refused.starts_with("所管課「戸籍住民課」は無効化されているため") && refused.contains("(the department")
        );
        assert_eq!(check_department_active(Some(("戸籍住民課", true))), Ok(()));
        assert_eq!(check_department_active(None), Ok(()), "hq submits on a department's behalf");
    }

    #[test]
    fn a_ratio_needs_numerator_and_denominator_and_no_value() {
        let errors =
            check_figures(IndicatorKind::Ratio, &[], &Figures { value: Some(dec("31.6")), ..Default::default() })
                .unwrap_err();
        assert_eq!(fields(&errors), vec!["value", "numerator", "denominator"]);
    }

    #[test]
    fn every_refusal_a_clerk_can_meet_reads_japanese_first() {
        let stages = vec!["構築".to_owned(), "サービス開始".to_owned()];
        let cases = [
            (IndicatorKind::Ratio, Figures { value: Some(dec("1")), ..Default::default() }),
            (
                IndicatorKind::Ratio,
                Figures { numerator: Some(dec("-1")), denominator: Some(dec("0")), ..Default::default() },
            ),
            (
                IndicatorKind::Ratio,
                Figures {
                    numerator: Some(dec("999999999999999")),
                    denominator: Some(dec("0.0000000001")),
                    ..Default::default()
                },
            ),
            (IndicatorKind::Count, Figures { value: Some(dec("-1")), ..Default::default() }),
            (IndicatorKind::Percent, Figures { value: Some(dec("100.5")), ..Default::default() }),
            (IndicatorKind::Milestone, Figures { stage: Some(5), ..Default::default() }),
            (IndicatorKind::Milestone, Figures { stage_name: Some("完了"), ..Default::default() }),
        ];
        let mut messages: Vec<String> = cases
            .iter()
            .flat_map(|(kind, figures)| check_figures(*kind, &stages, figures).unwrap_err())
            .map(|error| error.message)
            .collect();
        messages.push(submit(Some(ActualStatus::Approved)).unwrap_err());
        messages.push(review(ActualStatus::Submitted, ReviewAction::Return, None).unwrap_err());
        messages.push(review(ActualStatus::Approved, ReviewAction::Approve, None).unwrap_err());
        assert_eq!(messages.len(), 13);
        for message in messages {
            assert!(message.chars().next().is_some_and(|c| !c.is_ascii()), "{message}");
            assert!(message.ends_with(')'), "the English follows in parentheses: {message}");
        }
        assert_eq!(
            review(ActualStatus::Returned, ReviewAction::Approve, None).unwrap_err(),
            "差戻し中の実績は承認できません (cannot approve an actual that is returned)"
        );
    }

    #[test]
    fn a_zero_denominator_is_refused() {
        let figures = Figures { numerator: Some(dec("1")), denominator: Some(dec("0")), ..Default::default() };
        let errors = check_figures(IndicatorKind::Ratio, &[], &figures).unwrap_err();
        assert_eq!(fields(&errors), vec!["denominator"]);
    }

    #[test]
    fn negative_counts_and_percents_over_100_are_refused() {
        let negative =
            check_figures(IndicatorKind::Count, &[], &Figures { value: Some(dec("-1")), ..Default::default() });
        assert_eq!(fields(&negative.unwrap_err()), vec!["value"]);
        let over =
            check_figures(IndicatorKind::Percent, &[], &Figures { value: Some(dec("100.1")), ..Default::default() });
        assert_eq!(fields(&over.unwrap_err()), vec!["value"]);
        let full =
            check_figures(IndicatorKind::Percent, &[], &Figures { value: Some(dec("100")), ..Default::default() });
        assert_eq!(full.unwrap().value, Some(dec("100")));
    }

    #[test]
    fn a_ratio_whose_percent_overflows_is_refused() {
        let figures = Figures {
            numerator: Some(dec("999999999999999")),
            denominator: Some(dec("0.0000000001")),
            ..Default::default()
        };
        let errors = check_figures(IndicatorKind::Ratio, &[], &figures).unwrap_err();
        assert_eq!(fields(&errors), vec!["denominator"]);
        let fine = Figures { numerator: Some(dec("180000")), denominator: Some(dec("570000")), ..Default::default() };
        assert!(check_figures(IndicatorKind::Ratio, &[], &fine).is_ok());
    }

    #[test]
    fn values_are_kept_exactly() {
        let checked =
            check_figures(IndicatorKind::Percent, &[], &Figures { value: Some(dec("15.20")), ..Default::default() })
                .unwrap();
        assert_eq!(checked.value.unwrap().to_string(), "15.2");
    }

    #[test]
    fn milestone_stages_are_named_or_indexed() {
        let stages = vec!["仕様調整中".to_owned(), "構築".to_owned(), "サービス開始".to_owned()];
        let by_name = check_figures(
            IndicatorKind::Milestone,
            &stages,
            &Figures { stage_name: Some("構築"), ..Default::default() },
        );
        assert_eq!(by_name.unwrap().stage, Some(1));
        let unknown = check_figures(
            IndicatorKind::Milestone,
            &stages,
            &Figures { stage_name: Some("完了"), ..Default::default() },
        );
        assert_eq!(fields(&unknown.unwrap_err()), vec!["stage_name"]);
        let out_of_range =
            check_figures(IndicatorKind::Milestone, &stages, &Figures { stage: Some(3), ..Default::default() });
        assert_eq!(fields(&out_of_range.unwrap_err()), vec!["stage"]);
    }

    #[test]
    fn review_cycle_follows_the_workflow() {
        assert_eq!(submit(None).unwrap().event, ActualEventKind::Submitted);
        assert_eq!(submit(Some(ActualStatus::Submitted)).unwrap().event, ActualEventKind::Corrected);
        let returned =
            review(ActualStatus::Submitted, ReviewAction::Return, Some("人口の出典を確認してください")).unwrap();
        assert_eq!(returned.status, ActualStatus::Returned);
        assert_eq!(submit(Some(returned.status)).unwrap().event, ActualEventKind::Resubmitted);
        let approved = review(ActualStatus::Submitted, ReviewAction::Approve, None).unwrap();
        assert!(submit(Some(approved.status)).is_err(), "an approved actual is closed");
        let reopened = review(ActualStatus::Approved, ReviewAction::Reopen, Some("再集計")).unwrap();
        assert_eq!(reopened.status, ActualStatus::Returned);
    }

    #[test]
    fn returning_needs_a_comment_and_approving_twice_is_refused() {
        assert!(review(ActualStatus::Submitted, ReviewAction::Return, None).is_err());
        assert!(review(ActualStatus::Submitted, ReviewAction::Return, Some("  ")).is_err());
        assert!(review(ActualStatus::Approved, ReviewAction::Approve, None).is_err());
        assert!(review(ActualStatus::Returned, ReviewAction::Approve, None).is_err());
    }

    #[test]
    fn a_measure_evaluation_goes_through_the_same_states_and_is_named_in_the_refusals() {
        let step = submit_record(Reviewed::MeasureEvaluation, Some(ActualStatus::Returned)).unwrap();
        assert_eq!((step.status, step.event), (ActualStatus::Submitted, ActualEventKind::Resubmitted));
        let closed = submit_record(Reviewed::MeasureEvaluation, Some(ActualStatus::Approved)).unwrap_err();
        assert!(closed.starts_with("承認済みの施策評価は") && closed.contains("measure evaluation"), "{closed}");
        let twice = review_record(Reviewed::MeasureEvaluation, ActualStatus::Approved, ReviewAction::Approve, None)
            .unwrap_err();
        assert!(twice.starts_with("承認済みの施策評価は承認できません"), "{twice}");
        let refused = check_department_active_for(Reviewed::MeasureEvaluation, Some(("戸籍住民課", false)));
        assert!(refused.unwrap_err().contains("施策評価を提出できません"));
    }

    #[test]
    fn an_event_is_stored_under_the_name_it_is_sent_with() {
        use ActualEventKind::*;
        for kind in [Submitted, Corrected, Resubmitted, Approved, Returned, Reopened] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
