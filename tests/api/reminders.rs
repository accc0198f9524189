//! E-mail reminders, black box: the built binary's `remind` against a local SMTP server this test
//! starts itself (`MailCatcher`, plain SMTP on 127.0.0.1, which `SMTP_SECURITY=none` allows), the
//! caught messages read back with a mail parser as a mail client would.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, TimeDelta, Utc};
use municipal_kpi::db::audit::Actor;
use municipal_kpi::db::{departments, users};
use municipal_kpi::domain::collection::japan_date;
use municipal_kpi::domain::municipality_code::MunicipalityCode;
use municipal_kpi::domain::role::Role;
use municipal_kpi::error::AppError;
use serde_json::{Value, json};

use crate::cli::{run, stderr, stdout};
use crate::helpers::{Backend, TestApp, assert_problem, create_user_in, json, spawn_app};
use crate::{on_both_backends, sync_tests};

on_both_backends!(reminders_go_once_and_only_to_whom_they_concern);
on_both_backends!(two_servers_send_the_due_reminders_themselves_once);
sync_tests!(remind_without_an_smtp_server_says_so_in_one_line);

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
struct Caught {
    recipients: Vec<String>,
    data: Vec<u8>,
}

/// A minimal SMTP server (RFC 5321's commands a client sends; no AUTH, no TLS) keeping what it receives.
struct MailCatcher {
    port: u16,
    caught: Arc<Mutex<Vec<Caught>>>,
}

impl MailCatcher {
    fn start() -> Self {
        // Binding a loopback port cannot be skipped: if it fails, the test fails.
        let listener = TcpListener::bind("127.0.0.1:0").expect("the test SMTP server binds a port");
        let port = listener.local_addr().expect("address").port();
        let caught = Arc::new(Mutex::new(Vec::new()));
        let store = caught.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = store.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &store);
                });
            }
        });
        Self { port, caught }
    }

    fn caught(&self) -> Vec<Caught> {
        self.caught.lock().expect("lock").clone()
    }
}

fn serve(stream: TcpStream, store: &Mutex<Vec<Caught>>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 localhost test SMTP\r\n")?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            writer.write_all(b"250-localhost\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("RCPT TO:") {
            recipients.push(line.trim_end()[8..].trim().trim_matches(['<', '>']).to_owned());
            writer.write_all(b"250 OK\r\n")?;
        } else if command == "DATA" {
            writer.write_all(b"354 go ahead\r\n")?;
            let mut data = Vec::new();
            loop {
                let mut data_line = Vec::new();
                if reader.read_until(b'\n', &mut data_line)? == 0 {
                    return Ok(());
                }
                if data_line == b".\r\n" {
                    break;
                }
                let unstuffed = if data_line.starts_with(b"..") { &data_line[1..] } else { &data_line[..] };
                data.extend_from_slice(unstuffed);
            }
            store.lock().expect("lock").push(Caught { recipients: std::mem::take(&mut recipients), data });
            writer.write_all(b"250 queued\r\n")?;
        } else if command == "QUIT" {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            // HELO, MAIL FROM, RSET, NOOP
            writer.write_all(b"250 OK\r\n")?;
        }
    }
}

/// Subject and body text as a mail client shows them (lines ended by LF).
fn read(caught: &Caught) -> (String, String) {
    let message = mail_parser::MessageParser::default().parse(&caught.data).expect("a parseable message");
    let body = message.body_text(0).expect("a text body").replace("\r\n", "\n");
    (message.subject().expect("a subject").to_owned(), body)
}

fn remind(app: &TestApp, catcher: &MailCatcher, args: &[&str]) -> Output {
    let port = catcher.port.to_string();
    let mut all = vec!["remind"];
    all.extend_from_slice(args);
    run(&all, &smtp_env(app.database_url(), &port))
}

fn smtp_env<'a>(database_url: &'a str, port: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("DATABASE_URL", database_url),
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_PORT", port),
        ("SMTP_SECURITY", "none"),
        ("REMINDER_FROM", "ICT推進本部 <kpi@city.example.lg.jp>"),
        ("REMINDER_DAYS_BEFORE", "3"),
    ]
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "stdout: {}\nstderr: {}", stdout(output), stderr(output));
    stdout(output)
}

async fn set_email(app: &TestApp, user_id: i32, email: &str) {
    let response = app.patch(&format!("/users/{user_id}"), &app.admin, &json!({"email": email})).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
}

/// The demo plan's indicator 1 of measure 1 (IT推進課).
async fn first_indicator(app: &TestApp, plan_id: i32) -> Value {
    let page = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.hq).await).await;
    let measure = page["items"].as_array().unwrap().iter().find(|m| m["number"] == 1).unwrap().clone();
    let indicators = json(app.get(&format!("/measures/{}/indicators", measure["id"]), &app.hq).await).await;
    indicators["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == 1 && i["status"] == "active")
        .unwrap()
        .clone()
}

/// Another municipality with an hq user and a department user, both with addresses.
fn another_municipality(app: &TestApp) {
    let municipality_id = app
        .db
        .write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
            let code = MunicipalityCode::parse("131067").expect("code");
            departments::create_municipality(conn, &Actor::system("test"), &code, "台東区")
        })
        .map_err(|e: AppError| e)
        .expect("municipality")
        .id;
    let department_id = app
        .db
        .write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
            let new =
                departments::NewDepartment {
                    municipality_id, code: "it-promotion", name: "IT推進課", parent_id: None
                };
            departments::create(conn, &Actor::system("test"), &new)
        })
        .map_err(|e: AppError| e)
        .expect("department")
        .id;
    for (name, role, department) in [("taito-hq", Role::Hq, None), ("taito-it", Role::Department, Some(department_id))]
    {
        let user = create_user_in(&app.db, &app.tokens, name, role, department, Some(municipality_id));
        let changes =
            users::UserChanges { email: Some(Some(format!("{name}@city.taito.example.jp"))), ..Default::default() };
        app.db
            .write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
                users::update(conn, &Actor::system("test"), municipal_kpi::domain::ids::UserId::new(user.id), changes)
            })
            .map_err(|e: AppError| e)
            .expect("email");
    }
}

async fn reminders_go_once_and_only_to_whom_they_concern(backend: Backend) {
    let app = spawn_app(backend).await;
    let catcher = MailCatcher::start();
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let idle = app.department_user("reminder-idle", "リマインダー確認課"); // owns nothing
    set_email(&app, it.id, "it@city.example.lg.jp").await;
    set_email(&app, idle.id, "idle@city.example.lg.jp").await;
    set_email(&app, app.hq.id, "hq@city.example.lg.jp").await;
    let refused = app.patch(&format!("/users/{}", it.id), &app.admin, &json!({"email": "IT推進課"})).await;
    assert!(assert_problem(refused, 422).await.to_string().contains("メールアドレス"));
    another_municipality(&app);

    // Today in Japan the department submits and the 本部 returns; the deadline is three days off.
    let today: NaiveDate = japan_date(Utc::now().naive_utc());
    let deadline = today + TimeDelta::days(3);
    let opened = app
        .post(&format!("/plans/{plan}/collections"), &app.hq, &json!({"fiscal_year": 2020, "deadline": deadline}))
        .await;
    assert_eq!(opened.status(), 201, "{}", opened.text().await.unwrap_or_default());
    let indicator = first_indicator(&app, plan).await;
    let actual = format!("/indicators/{}/actuals/2020", indicator["id"]);
    assert_eq!(app.put(&actual, &it, &json!({"value": 220}), None).await.status(), 201);
    let comment = "件数の根拠資料（集計表）を添付してください";
    let returned =
        app.post(&format!("{actual}/review"), &app.hq, &json!({"action": "return", "comment": comment})).await;
    assert_eq!(returned.status(), 200, "{}", returned.text().await.unwrap_or_default());

    // Tomorrow: the deadline is two days off, yesterday's submission goes to the 本部's digest.
    let tomorrow = (today + TimeDelta::days(1)).to_string();
    let dry = succeeded(&remind(&app, &catcher, &["--dry-run", "--today", &tomorrow]));
    assert!(dry.contains("would send deadline_approaching to user-it-promotion <it@city.example.lg.jp>"), "{dry}");
    assert!(dry.contains("would send actual_returned to user-it-promotion <it@city.example.lg.jp>"), "{dry}");
    assert!(dry.contains("would send daily_digest to test-hq <hq@city.example.lg.jp>"), "{dry}");
    assert!(dry.contains(comment), "the dry run shows the bodies: {dry}");
    assert!(dry.ends_with("dry run: 3 would be sent, 0 already sent before\n"), "{dry}");
    assert!(catcher.caught().is_empty(), "a dry run sends nothing");

    let first = succeeded(&remind(&app, &catcher, &["--today", &tomorrow]));
    assert!(first.ends_with("sent 3, failed 0, already sent before 0\n"), "{first}");
    let again = succeeded(&remind(&app, &catcher, &["--today", &tomorrow]));
    assert!(again.ends_with("sent 0, failed 0, already sent before 3\n"), "{again}");
    let caught = catcher.caught();
    assert_eq!(caught.len(), 3, "each message once: {caught:?}");
    let mut to: Vec<&str> = caught.iter().flat_map(|c| c.recipients.iter().map(String::as_str)).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["hq@city.example.lg.jp", "it@city.example.lg.jp", "it@city.example.lg.jp"],
        "not the idle department, not 台東区"
    );

    // On the wire every header and body is 7-bit (RFC 2047 subject, encoded UTF-8 body): any relay passes it.
    assert!(caught.iter().all(|c| c.data.is_ascii()), "{caught:?}");
    let read_all: Vec<(String, String)> = caught.iter().map(read).collect();
    let subject_starting = |prefix: &str| {
        read_all
            .iter()
            .find(|(subject, _)| subject.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {read_all:?}"))
            .clone()
    };
    let (subject, body) = subject_starting("【提出期限のお知らせ】");
    assert!(
        subject.ends_with(&format!(
            "の提出期限は{}年{}月{}日です",
            deadline.format("%Y"),
            deadline.format("%-m"),
            deadline.format("%-d")
        )),
        "{subject}"
    );
    assert!(body.contains("（差戻し）") && body.contains("（未提出）"), "{body}");
    let (subject, body) = subject_starting("【差戻し】");
    assert!(subject.contains("施策1 指標1"), "{subject}");
    assert!(body.contains(&format!("本部のコメント:\n{comment}")), "{body}");
    let (_, body) = subject_starting("【新着提出】");
    assert!(body.contains("施策1 指標1") && body.contains("IT推進課"), "{body}");

    // The day after the deadline, two passes at once: the overdue notice goes once.
    let after = (deadline + TimeDelta::days(1)).to_string();
    let port = catcher.port.to_string();
    let env = smtp_env(app.database_url(), &port);
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_municipal-kpi"))
            .env_clear()
            .envs(env.clone())
            .args(["remind", "--today", &after])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs")
    };
    let (one, two) = (spawn(), spawn());
    for output in [one.wait_with_output().expect("exit"), two.wait_with_output().expect("exit")] {
        succeeded(&output);
    }
    let overdue: Vec<Caught> = catcher.caught().into_iter().skip(3).collect();
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0].recipients, ["it@city.example.lg.jp"]);
    assert!(read(&overdue[0]).0.starts_with("【期限超過】"), "{:?}", read(&overdue[0]));

    // The log: the 本部 reads its municipality's four; a department may not.
    let log = json(app.get("/reminders/log", &app.hq).await).await;
    assert_eq!(log["total"], 4, "{log}");
    assert!(
        log["items"].as_array().unwrap().iter().all(|line| line["status"] == "sent" && line["attempts"] == 1),
        "{log}"
    );
    assert_problem(app.get("/reminders/log", &it).await, 403).await;
}

fn remind_without_an_smtp_server_says_so_in_one_line() {
    let output = run(&["remind"], &[("DATABASE_URL", "sqlite::memory:")]);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("SMTP_HOST is not set"), "{error}");
}

/// A `serve` process with the reminder settings, its log going to `log`.
fn serve_with_reminders(env: &[(&str, &str)], log: &std::path::Path) -> std::process::Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_municipal-kpi"))
        .env_clear()
        .envs(env.iter().copied())
        .envs([
            ("BIND_ADDR", "127.0.0.1:0"),
            ("JWT_SECRET", "reminder-test-secret-0123456789abcdefghij"),
            ("REMINDER_INTERVAL_MINUTES", "60"),
            ("LOG_LEVEL", "info"),
            ("NO_COLOR", "1"),
        ])
        .arg("serve")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("the binary runs")
}

/// Without `remind` from cron: each server runs a pass at start-up (and hourly); two servers on
/// one database send a due reminder once between them.
async fn two_servers_send_the_due_reminders_themselves_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let catcher = MailCatcher::start();
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    set_email(&app, it.id, "it@city.example.lg.jp").await;
    let deadline = japan_date(Utc::now().naive_utc()) + TimeDelta::days(3);
    let opened = app
        .post(&format!("/plans/{plan}/collections"), &app.hq, &json!({"fiscal_year": 2020, "deadline": deadline}))
        .await;
    assert_eq!(opened.status(), 201, "{}", opened.text().await.unwrap_or_default());

    let port = catcher.port.to_string();
    let env = smtp_env(app.database_url(), &port);
    let logs = tempfile_pair();
    let mut servers = [serve_with_reminders(&env, &logs[0]), serve_with_reminders(&env, &logs[1])];
    let passed = |log: &std::path::Path| std::fs::read_to_string(log).unwrap_or_default().contains("reminder pass");
    let started = std::time::Instant::now();
    while !(passed(&logs[0]) && passed(&logs[1])) && started.elapsed() < std::time::Duration::from_secs(60) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for server in &mut servers {
        let _ = server.kill();
        let _ = server.wait();
    }
    let log_text: Vec<String> = logs.iter().map(|log| std::fs::read_to_string(log).unwrap_or_default()).collect();
    assert!(passed(&logs[0]) && passed(&logs[1]), "both servers ran a pass: {log_text:?}");
    assert!(
        log_text.iter().all(|text| !text.contains("it@city.example.lg.jp")),
        "addresses stay out of the log: {log_text:?}"
    );
    let caught = catcher.caught();
    assert_eq!(caught.len(), 1, "the reminder once, from one of the two: {caught:?}");
    assert_eq!(caught[0].recipients, ["it@city.example.lg.jp"]);
    assert!(read(&caught[0]).0.starts_with("【提出期限のお知らせ】"), "{:?}", read(&caught[0]));
    for log in logs {
        let _ = std::fs::remove_file(log);
    }
}

/// Two log files of this test run.
fn tempfile_pair() -> [std::path::PathBuf; 2] {
    let stem = format!("mkpi-reminder-serve-{}", uuid::Uuid::new_v4().simple());
    [0, 1].map(|n| std::env::temp_dir().join(format!("{stem}-{n}.log")))
}
