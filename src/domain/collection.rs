//! A collection window: hq opens a fiscal year of a plan for actuals, optionally until a deadline,
//! and closes it again. Pure: `db::collections` stores it.
//!
//! A window announces the year and its deadline; it does not lock submissions (a department may
//! report before it opens and after it closes). What the deadline decides is lateness: an actual
//! still outstanding (missing or returned) once the deadline is over is late (期限超過); figures
//! that came in after it are flagged as submitted late (期限後提出).

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Collection {
    pub id: i32,
    pub plan_id: i32,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    /// Last day for submissions (inclusive, a day in Japan); `null`: no deadline
    #[schema(example = "2021-05-31")]
    pub deadline: Option<NaiveDate>,
    pub opened_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub opened_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub closed_at: Option<NaiveDateTime>,
}

/// Japan has one time zone, UTC+9, without daylight saving time.
const JAPAN_UTC_OFFSET_HOURS: i64 = 9;

/// The calendar day in Japan at `utc`: deadlines are days as the municipality's clerks read them,
/// so a submission at 08:00 on 1 June in Japan (23:00 UTC on 31 May) comes after a 31 May deadline.
pub fn japan_date(utc: NaiveDateTime) -> NaiveDate {
    (utc + TimeDelta::hours(JAPAN_UTC_OFFSET_HOURS)).date()
}

/// When the day `day` begins in Japan, in UTC: the first instant `japan_date` maps to `day`.
pub fn japan_midnight_utc(day: NaiveDate) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) - TimeDelta::hours(JAPAN_UTC_OFFSET_HOURS)
}

/// Whether `at` (UTC) falls after the inclusive `deadline`.
fn after(deadline: NaiveDate, at: NaiveDateTime) -> bool {
    japan_date(at) > deadline
}

/// An indicator's actual against its year's deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lateness {
    /// Outstanding (missing or returned) and the deadline is over: 期限超過.
    pub late: bool,
    /// The figures now in (awaiting review or approved) came in after the deadline: 期限後提出.
    pub submitted_late: bool,
}

/// Judges one actual at `now` (UTC). `outstanding`: nothing is in, or it was returned;
/// `last_submitted_at`: when the figures now in were last submitted, corrected or resubmitted.
pub fn lateness(
    deadline: Option<NaiveDate>,
    outstanding: bool,
    last_submitted_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Lateness {
    let Some(deadline) = deadline else { return Lateness::default() };
    Lateness {
        late: outstanding && after(deadline, now),
        submitted_late: !outstanding && last_submitted_at.is_some_and(|at| after(deadline, at)),
    }
}

/// What a response that opens a collection or moves its deadline warns about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectionWarningCode {
    /// The deadline is already over: everything outstanding counts as late at once
    DeadlinePassed,
}

/// A warning about a write that was made (it is not refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CollectionWarning {
    pub code: CollectionWarningCode,
    #[schema(example = "提出期限（2021年5月31日）は既に過ぎています。…")]
    pub message: String,
}

/// A deadline set at `now` (UTC) that is already over deserves a second look: hq may have meant
/// next year's date, and every outstanding indicator turns late at once.
pub fn deadline_warning(deadline: Option<NaiveDate>, now: NaiveDateTime) -> Option<CollectionWarning> {
    let deadline = deadline.filter(|d| after(*d, now))?;
    Some(CollectionWarning {
        code: CollectionWarningCode::DeadlinePassed,
        message: format!(
            "提出期限（{}）は既に過ぎています。未提出・差戻し中の指標はすべて期限超過になります。日付を確認してください \
             (the deadline {deadline} has already passed: every indicator still missing or returned counts as late)",
            deadline.format("%Y年%-m月%-d日")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_deadline_is_a_day_in_japan() {
        assert_eq!(japan_date(utc("2021-05-31T14:59:59")), day("2021-05-31"), "23:59:59 in Japan");
        assert_eq!(japan_date(utc("2021-05-31T15:00:00")), day("2021-06-01"), "midnight in Japan");
        assert_eq!(japan_midnight_utc(day("2021-06-01")), utc("2021-05-31T15:00:00"));
    }

    #[test]
    fn only_what_is_outstanding_after_the_deadline_is_late() {
        let deadline = Some(day("2021-05-31"));
        let after_it = utc("2021-06-10T00:00:00");
        let missing = lateness(deadline, true, None, after_it);
        assert_eq!(missing, Lateness { late: true, submitted_late: false });
        let returned_on_time = lateness(deadline, true, Some(utc("2021-05-01T00:00:00")), after_it);
        assert!(returned_on_time.late, "a returned actual is outstanding");
        let in_on_time = lateness(deadline, false, Some(utc("2021-05-31T14:00:00")), after_it);
        assert_eq!(in_on_time, Lateness::default());
        let in_late = lateness(deadline, false, Some(utc("2021-05-31T15:30:00")), after_it);
        assert_eq!(in_late, Lateness { late: false, submitted_late: true }, "00:30 on 1 June in Japan");
    }

    #[test]
    fn nothing_is_late_before_the_deadline_or_without_one() {
        let before_it = utc("2021-05-20T00:00:00");
        assert_eq!(lateness(Some(day("2021-05-31")), true, None, before_it), Lateness::default());
        assert_eq!(lateness(None, true, None, utc("2030-01-01T00:00:00")), Lateness::default());
        assert_eq!(lateness(None, false, Some(utc("2030-01-01T00:00:00")), before_it), Lateness::default());
    }

    #[test]
    fn a_deadline_already_over_is_warned_about() {
        let now = utc("2026-04-10T03:00:00");
        let warning = deadline_warning(Some(day("2021-05-31")), now).unwrap();
        assert_eq!(warning.code, CollectionWarningCode::DeadlinePassed);
        assert!(warning.message.starts_with("提出期限（2021年5月31日）は既に過ぎています。"), "{}", warning.message);
        assert_eq!(deadline_warning(Some(day("2026-04-10")), now), None, "today is still open");
        assert_eq!(deadline_warning(Some(day("2027-05-31")), now), None);
        assert_eq!(deadline_warning(None, now), None);
    }
}
