//! One reminder pass (`municipal-kpi remind`): plans the day's messages (`domain::reminder`) from
//! the database's facts (`db::reminders`), claims each in `sent_messages` and sends it over SMTP.
//!
//! Messages are UTF-8 (`text/plain; charset=utf-8`, the body quoted-printable or base64, the
//! subject an RFC 2047 encoded word): what Outlook, Thunderbird and Gmail read correctly.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use clap::{Args, ValueEnum};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport};

use crate::db::{Database, WriteScope, reminders};
use crate::domain::collection::japan_date;
use crate::domain::reminder::{self, Message};
use crate::error::AppError;

/// How many times one message is tried before it is logged as failed.
pub const MAX_ATTEMPTS: i32 = 3;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required, never downgraded); port 587 by default
    Starttls,
    /// Implicit TLS (SMTPS); port 465 by default
    Tls,
    /// No encryption: only to a server on this machine (127.0.0.1, ::1, localhost); port 25 by default
    None,
}

/// The SMTP server and the reminders' settings, from the environment.
#[derive(Args)]
pub struct ReminderSettings {
    /// SMTP server host name; reminders are sent only when it is set
    #[arg(long, env = "SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port [default: 587 with starttls, 465 with tls, 25 with none]
    #[arg(long, env = "SMTP_PORT")]
    pub smtp_port: Option<u16>,
    #[arg(long, env = "SMTP_SECURITY", value_enum, default_value = "starttls")]
    pub smtp_security: SmtpSecurity,
    /// SMTP AUTH user name (with SMTP_PASSWORD)
    #[arg(long, env = "SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    #[arg(long, env = "SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// Sender, e.g. `ICT推進本部 <kpi@city.example.lg.jp>`
    #[arg(long, env = "REMINDER_FROM")]
    pub reminder_from: Option<String>,
    /// Days before a collection deadline the first reminder goes (0: on the day only)
    #[arg(long, env = "REMINDER_DAYS_BEFORE", default_value_t = reminder::DEFAULT_DAYS_BEFORE,
          value_parser = clap::value_parser!(u32).range(0..=60))]
    pub reminder_days_before: u32,
}

/// Shows every setting but the password (only whether one is set).
impl std::fmt::Debug for ReminderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderSettings")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "(redacted)"))
            .field("reminder_from", &self.reminder_from)
            .field("reminder_days_before", &self.reminder_days_before)
            .finish()
    }
}

impl ReminderSettings {
    /// The server's own passes every `interval_minutes`: `None` without SMTP_HOST or with an
    /// interval of 0; an error when SMTP_HOST is set and the rest does not describe a usable
    /// sender (found at start-up, not at the first pass).
    pub fn periodic_passes(&self, interval_minutes: u64) -> Result<Option<PeriodicPasses>, AppError> {
        if self.smtp_host.as_deref().is_none_or(str::is_empty) || interval_minutes == 0 {
            return Ok(None);
        }
        Ok(Some(PeriodicPasses {
            mailer: self.mailer()?,
            days_before: self.reminder_days_before,
            interval: Duration::from_secs(interval_minutes * 60),
        }))
    }
}

/// Reminder passes the server runs itself, one now and one every `interval`. Every server process
/// may run them: a message is claimed before it is sent, so it goes once whichever pass sees it
/// first.
pub struct PeriodicPasses {
    mailer: Mailer,
    days_before: u32,
    interval: Duration,
}

impl PeriodicPasses {
    /// Starts the passes on a thread of their own (they block on the database and on SMTP). What a
    /// pass did is logged as counts only: addresses are personal data, and `GET /reminders/log`
    /// shows each message.
    pub fn start(self, db: Database) -> std::io::Result<()> {
        std::thread::Builder::new().name("reminders".into()).spawn(move || {
            loop {
                let mut lines = String::new();
                let today = today_in_japan();
                match send_due(&db, &self.mailer, today, self.days_before, Duration::from_secs(2), &mut lines) {
                    Ok(report) => tracing::info!(
                        sent = report.sent,
                        failed = report.failed,
                        already_sent = report.already_sent,
                        %today,
                        "reminder pass"
                    ),
                    Err(error) => tracing::warn!(%error, "reminder pass failed; the next pass tries again"),
                }
                std::thread::sleep(self.interval);
            }
        })?;
        Ok(())
    }
}

/// A configured SMTP sender.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

fn config_error(message: impl Into<String>) -> AppError {
    AppError::Config(message.into())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl ReminderSettings {
    /// The sender these settings describe; an error names the setting that is missing or wrong.
    pub fn mailer(&self) -> Result<Mailer, AppError> {
        let host = self.smtp_host.as_deref().filter(|h| !h.is_empty()).ok_or_else(|| {
            config_error("SMTP_HOST is not set: reminders need an SMTP server (see README 「リマインダー」)")
        })?;
        let from = self.reminder_from.as_deref().ok_or_else(|| config_error("REMINDER_FROM is not set"))?;
        let from: Mailbox =
            from.parse().map_err(|_| config_error("REMINDER_FROM is not a mailbox like `本部 <kpi@example.jp>`"))?;
        let builder = match self.smtp_security {
            SmtpSecurity::Starttls => SmtpTransport::starttls_relay(host),
            SmtpSecurity::Tls => SmtpTransport::relay(host),
            SmtpSecurity::None if is_loopback(host) => Ok(SmtpTransport::builder_dangerous(host)),
            SmtpSecurity::None => {
                return Err(config_error("SMTP_SECURITY=none is only allowed for a server on this machine"));
            }
        }
        .map_err(|e| config_error(format!("SMTP_HOST cannot be used: {e}")))?;
        let port = self.smtp_port.unwrap_or(match self.smtp_security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        });
        let builder = builder.port(port).timeout(Some(Duration::from_secs(30)));
        let builder = match (&self.smtp_username, &self.smtp_password) {
            (Some(user), Some(password)) => builder.credentials(Credentials::new(user.clone(), password.clone())),
            (None, None) => builder,
            _ => return Err(config_error("set both SMTP_USERNAME and SMTP_PASSWORD, or neither")),
        };
        Ok(Mailer { transport: builder.build(), from })
    }
}

impl Mailer {
    fn email(&self, message: &Message) -> Result<lettre::Message, String> {
        let address = message.to.parse().map_err(|e| format!("recipient address: {e}"))?;
        lettre::Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(message.to_name.clone()), address))
            .subject(&message.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| format!("building the message: {e}"))
    }

    /// Tries up to [`MAX_ATTEMPTS`] times, waiting longer after each failure: the attempts made
    /// and the last error (the server's answer; the transport never shows the credentials).
    fn send_with_retries(&self, message: &Message, backoff: Duration) -> (i32, Result<(), String>) {
        let email = match self.email(message) {
            Ok(email) => email,
            Err(error) => return (0, Err(error)),
        };
        let mut last_error = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            match self.transport.send(&email) {
                Ok(_) => return (attempt, Ok(())),
                Err(error) => last_error = error.to_string(),
            }
            if attempt < MAX_ATTEMPTS {
                std::thread::sleep(backoff * attempt as u32);
            }
        }
        (MAX_ATTEMPTS, Err(last_error))
    }
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Due today but already in the log (sent by an earlier pass or another process)
    pub already_sent: usize,
    pub sent: usize,
    pub failed: usize,
    /// With `--dry-run`: what would go
    pub would_send: usize,
}

/// The day in Japan now: the `--today` default.
pub fn today_in_japan() -> NaiveDate {
    japan_date(Utc::now().naive_utc())
}

/// Plans the day's messages and those not yet in the log.
fn due(db: &Database, today: NaiveDate, days_before: u32) -> Result<(Vec<Message>, usize), AppError> {
    let now = Utc::now().naive_utc();
    let planned =
        reminder::plan(&db.read_blocking(|conn| reminders::facts(conn, today, days_before, now))?, today, days_before);
    let keys: Vec<String> = planned.iter().map(|m| m.key.clone()).collect();
    let claimed: std::collections::HashSet<String> =
        db.read_blocking(|conn| reminders::claimed_keys(conn, &keys))?.into_iter().collect();
    let total = planned.len();
    let pending: Vec<Message> = planned.into_iter().filter(|m| !claimed.contains(&m.key)).collect();
    let already_sent = total - pending.len();
    Ok((pending, already_sent))
}

/// Lists what a pass on `today` would send, sending nothing and writing nothing.
pub fn dry_run(db: &Database, today: NaiveDate, days_before: u32, out: &mut String) -> Result<PassReport, AppError> {
    let (pending, already_sent) = due(db, today, days_before)?;
    for message in &pending {
        let _ = writeln!(
            out,
            "would send {} to {} <{}>: {}",
            message.kind.as_str(),
            message.to_name,
            message.to,
            message.subject
        );
        for line in message.body.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    Ok(PassReport { already_sent, would_send: pending.len(), ..PassReport::default() })
}

/// Sends what is due on `today` and not yet in the log; each message is claimed first, so a
/// concurrent pass (another process) skips it.
pub fn send_due(
    db: &Database,
    mailer: &Mailer,
    today: NaiveDate,
    days_before: u32,
    backoff: Duration,
    out: &mut String,
) -> Result<PassReport, AppError> {
    let (pending, already_sent) = due(db, today, days_before)?;
    let mut report = PassReport { already_sent, ..PassReport::default() };
    for message in &pending {
        let now = Utc::now().naive_utc();
        let claimed = match db.write_blocking(WriteScope::Municipality(message.municipality_id), |conn| {
            reminders::claim(conn, message, now)
        }) {
            Ok(claimed) => claimed,
            Err(error) if reminders::is_lost_claim(&error) => false,
            Err(error) => return Err(error),
        };
        if !claimed {
            report.already_sent += 1;
            continue;
        }
        let (attempts, outcome) = mailer.send_with_retries(message, backoff);
        let kind = message.kind.as_str();
        match &outcome {
            Ok(()) => {
                report.sent += 1;
                let _ = writeln!(out, "sent {kind} to <{}>: {}", message.to, message.subject);
            }
            Err(error) => {
                report.failed += 1;
                let _ = writeln!(out, "FAILED {kind} to <{}> after {attempts} attempts: {error}", message.to);
            }
        }
        let finished = outcome.map(|()| Utc::now().naive_utc());
        db.write_blocking(WriteScope::Municipality(message.municipality_id), |conn| {
            reminders::finish(conn, &message.key, attempts, finished)
        })?;
    }
    Ok(report)
}

impl PassReport {
    /// The pass's last line.
    pub fn summary(&self, dry_run: bool) -> String {
        if dry_run {
            format!("dry run: {} would be sent, {} already sent before", self.would_send, self.already_sent)
        } else {
            format!("sent {}, failed {}, already sent before {}", self.sent, self.failed, self.already_sent)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(host: &str, security: SmtpSecurity) -> ReminderSettings {
        ReminderSettings {
            smtp_host: Some(host.into()),
            smtp_port: None,
            smtp_security: security,
            smtp_username: None,
            smtp_password: None,
            reminder_from: Some("ICT推進本部 <kpi@city.example.lg.jp>".into()),
            reminder_days_before: 3,
        }
    }

    fn error_of(settings: &ReminderSettings) -> String {
        match settings.mailer() {
            Ok(_) => panic!("accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn unencrypted_smtp_is_for_this_machine_only() {
        assert!(settings("127.0.0.1", SmtpSecurity::None).mailer().is_ok());
        assert!(settings("localhost", SmtpSecurity::None).mailer().is_ok());
        assert!(error_of(&settings("mail.example.jp", SmtpSecurity::None)).contains("SMTP_SECURITY=none"));
        assert!(settings("mail.example.jp", SmtpSecurity::Starttls).mailer().is_ok());
    }

    #[test]
    fn the_password_is_never_shown() {
        let mut with_password = settings("mail.example.jp", SmtpSecurity::Starttls);
        with_password.smtp_password = Some("hunter2-smtp".into());
        assert!(!format!("{with_password:?}").contains("hunter2"));
    }

    #[test]
    fn missing_settings_are_named() {
        let mut no_host = settings("", SmtpSecurity::Starttls);
        no_host.smtp_host = None;
        assert!(error_of(&no_host).contains("SMTP_HOST is not set"));
        let mut half_auth = settings("mail.example.jp", SmtpSecurity::Tls);
        half_auth.smtp_username = Some("kpi".into());
        assert!(error_of(&half_auth).contains("SMTP_USERNAME and SMTP_PASSWORD"));
        let mut bad_from = settings("mail.example.jp", SmtpSecurity::Tls);
        bad_from.reminder_from = Some("not a mailbox".into());
        assert!(error_of(&bad_from).contains("REMINDER_FROM"));
    }

    #[test]
    fn a_japanese_subject_is_an_encoded_word_and_the_body_utf8() {
        let mailer = settings("127.0.0.1", SmtpSecurity::None).mailer().expect("mailer");
        let message = Message {
            key: "k".into(),
            kind: reminder::MessageKind::DailyDigest,
            municipality_id: 1,
            recipient_user_id: 1,
            to: "hq@example.jp".into(),
            to_name: "本部 担当".into(),
            subject: "【新着提出】2021年6月1日の提出 1件".into(),
            body: "確認をお願いします。\n".into(),
        };
        let formatted = String::from_utf8(mailer.email(&message).expect("email").formatted()).expect("ASCII");
        assert!(formatted.is_ascii(), "every header and the body are encoded: {formatted}");
        assert!(formatted.contains("Subject: =?utf-8?b?"), "{formatted}");
        assert!(formatted.contains("Content-Type: text/plain; charset=utf-8"), "{formatted}");
    }
}
