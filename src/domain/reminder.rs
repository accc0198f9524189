//! E-mail reminders (リマインダー): which messages one pass sends on a day in Japan. Pure: the
//! facts come from `db::reminders`, the sending and its log from `reminders`.
//!
//! - A department user whose department still has items outstanding (actuals or 施策評価 missing
//!   or returned) in an open collection hears of it from `days_before` days before the deadline
//!   until the deadline, and once more from the day after it passed (within [`LATE_NOTICE_DAYS`]).
//! - A department user hears when the 本部 returns one of the department's actuals, with the comment.
//! - The 本部 (hq users) gets one digest a day of what was submitted the day before.
//!
//! Each message carries an idempotency key naming its kind, municipality, recipient, subject
//! matter and date: the log refuses a key twice, so a message goes once however often passes run.

use chrono::{Datelike, NaiveDate, TimeDelta};

/// How many days after the deadline the overdue notice may still go (a pass that did not run on
/// the day after the deadline catches up; an old collection left open does not mail everyone).
pub const LATE_NOTICE_DAYS: i64 = 7;

/// How many days back a returned actual is still news (the first pass after a pause catches up).
pub const RETURNED_NOTICE_DAYS: i64 = 7;

/// Days before the deadline the first reminder goes by default.
pub const DEFAULT_DAYS_BEFORE: u32 = 3;

/// Longest list of items in one message: a department with more reads the rest on the screen.
pub const MAX_LISTED_ITEMS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    DeadlineApproaching,
    DeadlinePassed,
    ActualReturned,
    DailyDigest,
}

impl MessageKind {
    /// The stored name (sent_messages.kind) and the key's first part.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeadlineApproaching => "deadline_approaching",
            Self::DeadlinePassed => "deadline_passed",
            Self::ActualReturned => "actual_returned",
            Self::DailyDigest => "daily_digest",
        }
    }
}

/// An active account with an address, of a municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: i32,
    pub municipality_id: i32,
    pub display_name: String,
    pub email: String,
    /// The department of a department user; `None` for the 本部 (hq)
    pub department_id: Option<i32>,
}

/// One outstanding item of a department: an indicator's actual or a measure's 施策評価.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingItem {
    /// e.g. 「施策3 指標2 住民票等のコンビニ交付件数」 or 「施策3 施策評価」
    pub label: String,
    /// Returned by the 本部 (差戻し) rather than never submitted (未提出)
    pub returned: bool,
}

/// What one department still owes in one open collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentOutstanding {
    pub department_id: i32,
    pub department_name: String,
    pub items: Vec<OutstandingItem>,
}

/// An open collection with a deadline, and what is outstanding in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCollection {
    pub collection_id: i32,
    pub municipality_id: i32,
    pub plan_name: String,
    pub fiscal_year_label: String,
    /// Last day for submissions, inclusive, a day in Japan
    pub deadline: NaiveDate,
    pub outstanding: Vec<DepartmentOutstanding>,
}

/// An actual the 本部 returned (one `returned` event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedActual {
    pub event_id: i32,
    pub municipality_id: i32,
    pub department_ids: Vec<i32>,
    pub plan_name: String,
    pub fiscal_year_label: String,
    /// e.g. 「施策3 指標2 住民票等のコンビニ交付件数」
    pub indicator_label: String,
    pub comment: Option<String>,
    /// The day in Japan it was returned
    pub returned_on: NaiveDate,
}

/// Something a department submitted (an actual or a 施策評価), for the 本部's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub municipality_id: i32,
    pub department_name: String,
    pub plan_name: String,
    pub fiscal_year_label: String,
    pub label: String,
    /// The day in Japan it was submitted
    pub submitted_on: NaiveDate,
}

/// Everything one pass knows.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub recipients: Vec<Recipient>,
    pub collections: Vec<OpenCollection>,
    pub returned: Vec<ReturnedActual>,
    pub submissions: Vec<Submission>,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique per message: kind, municipality, recipient, subject matter and date
    pub key: String,
    pub kind: MessageKind,
    pub municipality_id: i32,
    pub recipient_user_id: i32,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub body: String,
}

/// Which deadline notice is due for a collection on `today`, if any.
pub fn deadline_notice(deadline: NaiveDate, today: NaiveDate, days_before: u32) -> Option<MessageKind> {
    let days_left = (deadline - today).num_days();
    if (0..=i64::from(days_before)).contains(&days_left) {
        Some(MessageKind::DeadlineApproaching)
    } else if (-LATE_NOTICE_DAYS..=-1).contains(&days_left) {
        Some(MessageKind::DeadlinePassed)
    } else {
        None
    }
}

/// Whether a collection's deadline is close enough to `today` that its outstanding items matter
/// (lets the database layer skip evaluating the others).
pub fn collection_in_reach(deadline: NaiveDate, today: NaiveDate, days_before: u32) -> bool {
    deadline_notice(deadline, today, days_before).is_some()
}

/// The first day whose returned actuals and submissions one pass on `today` looks at.
pub fn earliest_news(today: NaiveDate) -> NaiveDate {
    today - TimeDelta::days(RETURNED_NOTICE_DAYS)
}

/// 2021年5月31日
pub fn japanese_date(day: NaiveDate) -> String {
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

/// Every message due on `today`, in a stable order.
pub fn plan(facts: &Facts, today: NaiveDate, days_before: u32) -> Vec<Message> {
    let mut messages = Vec::new();
    for collection in &facts.collections {
        deadline_messages(facts, collection, today, days_before, &mut messages);
    }
    for returned in &facts.returned {
        returned_messages(facts, returned, today, &mut messages);
    }
    digest_messages(facts, today, &mut messages);
    messages
}

fn department_users(facts: &Facts, municipality_id: i32, department_id: i32) -> impl Iterator<Item = &Recipient> {
    facts
        .recipients
        .iter()
        .filter(move |r| r.municipality_id == municipality_id && r.department_id == Some(department_id))
}

fn deadline_messages(
    facts: &Facts,
    collection: &OpenCollection,
    today: NaiveDate,
    days_before: u32,
    out: &mut Vec<Message>,
) {
    let Some(kind) = deadline_notice(collection.deadline, today, days_before) else { return };
    for department in collection.outstanding.iter().filter(|d| !d.items.is_empty()) {
        for recipient in department_users(facts, collection.municipality_id, department.department_id) {
            let (subject, lead) = deadline_wording(kind, collection);
            let body = format!(
                "{} 様\n\n{lead}\n\n計画: {}\n年度: {}\n提出期限: {}\n所管課: {}\n\n未提出・差戻し中の項目（{}件）:\n{}\n\n\
                 municipal-kpi にログインして提出してください。\n\
                 このメールは municipal-kpi から自動送信されています。\n",
                recipient.display_name,
                collection.plan_name,
                collection.fiscal_year_label,
                japanese_date(collection.deadline),
                department.department_name,
                department.items.len(),
                item_lines(&department.items),
            );
            out.push(Message {
                // The deadline is part of the key: a moved deadline is news again.
                key: format!(
                    "{}:{}:{}:{}:{}",
                    kind.as_str(),
                    collection.municipality_id,
                    recipient.user_id,
                    collection.collection_id,
                    collection.deadline
                ),
                kind,
                municipality_id: collection.municipality_id,
                recipient_user_id: recipient.user_id,
                to: recipient.email.clone(),
                to_name: recipient.display_name.clone(),
                subject,
                body,
            });
        }
    }
}

fn deadline_wording(kind: MessageKind, collection: &OpenCollection) -> (String, String) {
    let deadline = japanese_date(collection.deadline);
    if kind == MessageKind::DeadlinePassed {
        (
            format!(
                "【期限超過】{} {}の提出期限（{deadline}）を過ぎました",
                collection.plan_name, collection.fiscal_year_label
            ),
            format!("提出期限（{deadline}）を過ぎましたが、次の項目がまだ提出されていません。至急提出してください。"),
        )
    } else {
        (
            format!(
                "【提出期限のお知らせ】{} {}の提出期限は{deadline}です",
                collection.plan_name, collection.fiscal_year_label
            ),
            format!("提出期限（{deadline}）が近づいています。次の項目がまだ提出されていません。"),
        )
    }
}

fn item_lines(items: &[OutstandingItem]) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .take(MAX_LISTED_ITEMS)
        .map(|item| format!("・{}（{}）", item.label, if item.returned { "差戻し" } else { "未提出" }))
        .collect();
    if items.len() > MAX_LISTED_ITEMS {
        lines.push(format!("ほか{}件（画面で確認してください）", items.len() - MAX_LISTED_ITEMS));
    }
    lines.join("\n")
}

fn returned_messages(facts: &Facts, returned: &ReturnedActual, today: NaiveDate, out: &mut Vec<Message>) {
    if returned.returned_on < earliest_news(today) || returned.returned_on > today {
        return;
    }
    let mut seen = std::collections::BTreeSet::new();
    for department_id in &returned.department_ids {
        for recipient in department_users(facts, returned.municipality_id, *department_id) {
            if !seen.insert(recipient.user_id) {
                continue;
            }
            let comment = returned.comment.as_deref().filter(|c| !c.trim().is_empty()).unwrap_or("（コメントなし）");
            let body = format!(
                "{} 様\n\n本部が次の実績を差し戻しました。コメントを確認し、修正して再提出してください。\n\n\
                 計画: {}\n年度: {}\n指標: {}\n差戻し日: {}\n\n本部のコメント:\n{comment}\n\n\
                 このメールは municipal-kpi から自動送信されています。\n",
                recipient.display_name,
                returned.plan_name,
                returned.fiscal_year_label,
                returned.indicator_label,
                japanese_date(returned.returned_on),
            );
            out.push(Message {
                key: format!(
                    "{}:{}:{}:{}:{}",
                    MessageKind::ActualReturned.as_str(),
                    returned.municipality_id,
                    recipient.user_id,
                    returned.event_id,
                    returned.returned_on
                ),
                kind: MessageKind::ActualReturned,
                municipality_id: returned.municipality_id,
                recipient_user_id: recipient.user_id,
                to: recipient.email.clone(),
                to_name: recipient.display_name.clone(),
                subject: format!("【差戻し】{} {}", returned.indicator_label, returned.fiscal_year_label),
                body,
            });
        }
    }
}

/// One digest per hq user of a municipality with submissions on the day before `today`.
fn digest_messages(facts: &Facts, today: NaiveDate, out: &mut Vec<Message>) {
    let yesterday = today - TimeDelta::days(1);
    let mut by_municipality: std::collections::BTreeMap<i32, Vec<&Submission>> = Default::default();
    for submission in facts.submissions.iter().filter(|s| s.submitted_on == yesterday) {
        by_municipality.entry(submission.municipality_id).or_default().push(submission);
    }
    for (municipality_id, submissions) in by_municipality {
        let lines: Vec<String> = submissions
            .iter()
            .take(MAX_LISTED_ITEMS)
            .map(|s| format!("・{} {} {}（{}）", s.plan_name, s.fiscal_year_label, s.label, s.department_name))
            .chain(
                (submissions.len() > MAX_LISTED_ITEMS)
                    .then(|| format!("ほか{}件（画面で確認してください）", submissions.len() - MAX_LISTED_ITEMS)),
            )
            .collect();
        let hq = facts.recipients.iter().filter(|r| r.municipality_id == municipality_id && r.department_id.is_none());
        for recipient in hq {
            out.push(Message {
                key: format!(
                    "{}:{}:{}:{}",
                    MessageKind::DailyDigest.as_str(),
                    municipality_id,
                    recipient.user_id,
                    yesterday
                ),
                kind: MessageKind::DailyDigest,
                municipality_id,
                recipient_user_id: recipient.user_id,
                to: recipient.email.clone(),
                to_name: recipient.display_name.clone(),
                subject: format!("【新着提出】{}の提出 {}件", japanese_date(yesterday), submissions.len()),
                body: format!(
                    "{} 様\n\n{}に次の{}件が提出されました。確認・承認をお願いします。\n\n{}\n\n\
                     このメールは municipal-kpi から自動送信されています。\n",
                    recipient.display_name,
                    japanese_date(yesterday),
                    submissions.len(),
                    lines.join("\n"),
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn recipient(user_id: i32, municipality_id: i32, department_id: Option<i32>) -> Recipient {
        Recipient {
            user_id,
            municipality_id,
            display_name: format!("利用者{user_id}"),
            email: format!("user{user_id}@example.jp"),
            department_id,
        }
    }

    fn collection(deadline: &str, outstanding: Vec<DepartmentOutstanding>) -> OpenCollection {
        OpenCollection {
            collection_id: 7,
            municipality_id: 1,
            plan_name: "ICT推進・活用計画".into(),
            fiscal_year_label: "令和2(2020)年度".into(),
            deadline: day(deadline),
            outstanding,
        }
    }

    fn owes(department_id: i32, labels: &[(&str, bool)]) -> DepartmentOutstanding {
        DepartmentOutstanding {
            department_id,
            department_name: format!("課{department_id}"),
            items: labels
                .iter()
                .map(|(label, returned)| OutstandingItem { label: (*label).into(), returned: *returned })
                .collect(),
        }
    }

    /// Department 10 (users 1, 2) owes two items; department 20 (user 3) owes nothing; user 4 is
    /// the 本部; user 5 of another municipality sits in a department with the same id.
    fn facts(deadline: &str) -> Facts {
        Facts {
            recipients: vec![
                recipient(1, 1, Some(10)),
                recipient(2, 1, Some(10)),
                recipient(3, 1, Some(20)),
                recipient(4, 1, None),
                recipient(5, 2, Some(10)),
            ],
            collections: vec![collection(
                deadline,
                vec![owes(10, &[("施策1 指標1 電子申請件数", false), ("施策1 施策評価", true)]), owes(20, &[])],
            )],
            ..Facts::default()
        }
    }

    #[test]
    fn the_notice_window_runs_from_days_before_to_a_week_after() {
        let deadline = day("2021-05-31");
        assert_eq!(deadline_notice(deadline, day("2021-05-27"), 3), None, "four days before");
        assert_eq!(deadline_notice(deadline, day("2021-05-28"), 3), Some(MessageKind::DeadlineApproaching));
        assert_eq!(
            deadline_notice(deadline, day("2021-05-31"), 3),
            Some(MessageKind::DeadlineApproaching),
            "the day itself"
        );
        assert_eq!(deadline_notice(deadline, day("2021-06-01"), 3), Some(MessageKind::DeadlinePassed), "the day after");
        assert_eq!(deadline_notice(deadline, day("2021-06-07"), 3), Some(MessageKind::DeadlinePassed));
        assert_eq!(deadline_notice(deadline, day("2021-06-08"), 3), None, "eight days after");
        assert_eq!(deadline_notice(deadline, day("2021-05-31"), 0), Some(MessageKind::DeadlineApproaching));
        assert_eq!(deadline_notice(deadline, day("2021-05-30"), 0), None);
    }

    #[test]
    fn three_days_before_the_department_users_who_owe_items_are_reminded() {
        let messages = plan(&facts("2021-05-31"), day("2021-05-28"), 3);
        let to: Vec<i32> = messages.iter().map(|m| m.recipient_user_id).collect();
        assert_eq!(to, vec![1, 2], "not the department that owes nothing, not hq, not the other city");
        let first = &messages[0];
        assert_eq!(first.kind, MessageKind::DeadlineApproaching);
        assert_eq!(first.key, "deadline_approaching:1:1:7:2021-05-31");
        assert_eq!(first.to, "user1@example.jp");
        assert_eq!(
            first.subject,
            "【提出期限のお知らせ】ICT推進・活用計画 令和2(2020)年度の提出期限は2021年5月31日です"
        );
        assert!(
            first.body.contains("・施策1 指標1 電子申請件数（未提出）\n・施策1 施策評価（差戻し）"),
            "{}",
            first.body
        );
        assert!(first.body.contains("未提出・差戻し中の項目（2件）"), "{}", first.body);
    }

    #[test]
    fn the_day_after_the_deadline_an_overdue_notice_goes_with_its_own_key() {
        let messages = plan(&facts("2021-05-31"), day("2021-06-01"), 3);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].kind, MessageKind::DeadlinePassed);
        assert_eq!(messages[0].key, "deadline_passed:1:1:7:2021-05-31");
        assert!(messages[0].subject.starts_with("【期限超過】"), "{}", messages[0].subject);
        // A later pass in the window plans the same keys: the log lets them through once.
        let later = plan(&facts("2021-05-31"), day("2021-06-03"), 3);
        assert_eq!(
            later.iter().map(|m| &m.key).collect::<Vec<_>>(),
            messages.iter().map(|m| &m.key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn nothing_outstanding_or_out_of_the_window_sends_nothing() {
        let mut all_in = facts("2021-05-31");
        all_in.collections[0].outstanding = vec![owes(10, &[]), owes(20, &[])];
        assert!(plan(&all_in, day("2021-05-30"), 3).is_empty());
        assert!(plan(&facts("2021-05-31"), day("2021-05-20"), 3).is_empty(), "eleven days before");
    }

    fn returned(on: &str) -> ReturnedActual {
        ReturnedActual {
            event_id: 42,
            municipality_id: 1,
            department_ids: vec![10],
            plan_name: "ICT推進・活用計画".into(),
            fiscal_year_label: "令和2(2020)年度".into(),
            indicator_label: "施策1 指標1 電子申請件数".into(),
            comment: Some("件数の根拠資料を添付してください".into()),
            returned_on: day(on),
        }
    }

    #[test]
    fn a_returned_actual_tells_its_department_with_the_comment() {
        let facts = Facts { returned: vec![returned("2021-06-02")], ..facts("2021-09-30") };
        let messages = plan(&facts, day("2021-06-02"), 3);
        assert_eq!(messages.iter().map(|m| m.recipient_user_id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(messages[0].key, "actual_returned:1:1:42:2021-06-02");
        assert_eq!(messages[0].subject, "【差戻し】施策1 指標1 電子申請件数 令和2(2020)年度");
        assert!(messages[0].body.contains("本部のコメント:\n件数の根拠資料を添付してください"), "{}", messages[0].body);
        assert!(plan(&facts, day("2021-06-10"), 3).is_empty(), "eight days later it is no longer news");
    }

    #[test]
    fn the_digest_lists_yesterdays_submissions_to_hq_only() {
        let submission = |on: &str, municipality_id| Submission {
            municipality_id,
            department_name: "課10".into(),
            plan_name: "ICT推進・活用計画".into(),
            fiscal_year_label: "令和2(2020)年度".into(),
            label: "施策1 指標1 電子申請件数".into(),
            submitted_on: day(on),
        };
        let facts = Facts {
            submissions: vec![submission("2021-06-01", 1), submission("2021-06-02", 1), submission("2021-06-01", 2)],
            ..facts("2021-09-30")
        };
        let messages = plan(&facts, day("2021-06-02"), 3);
        assert_eq!(messages.len(), 1, "the other municipality has no hq user with an address");
        assert_eq!(messages[0].recipient_user_id, 4);
        assert_eq!(messages[0].key, "daily_digest:1:4:2021-06-01");
        assert_eq!(messages[0].subject, "【新着提出】2021年6月1日の提出 1件");
        assert!(messages[0].body.contains("・ICT推進・活用計画 令和2(2020)年度 施策1 指標1 電子申請件数（課10）"));
    }

    #[test]
    fn a_long_list_is_cut_with_a_count_of_the_rest() {
        let items: Vec<OutstandingItem> =
            (0..MAX_LISTED_ITEMS + 2).map(|i| OutstandingItem { label: format!("指標{i}"), returned: false }).collect();
        let lines = item_lines(&items);
        assert_eq!(lines.lines().count(), MAX_LISTED_ITEMS + 1);
        assert!(lines.ends_with("ほか2件（画面で確認してください）"), "{lines}");
    }
}
