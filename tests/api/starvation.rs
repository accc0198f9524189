//! Reads never queue behind writes: while one write holds the write lock and more writes queue
//! for it, reads and `/readyz` are answered, and the queued writes are refused with a 503 and
//! `Retry-After` once their bounded wait is over, changing nothing.

use std::sync::mpsc;
use std::time::Duration;

use municipal_kpi::db::{Database, DatabaseSettings};
use municipal_kpi::error::AppError;
use municipal_kpi::startup::ServerSettings;
use serde_json::json;

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(reads_are_answered_while_writes_queue_behind_a_held_write);

/// More queued writes than the read pool has connections: with writers taking a connection
/// before waiting for the lock, they used to leave none for readers.
const QUEUED_WRITES: usize = 12;

fn plan_body(app: &TestApp, code: &str) -> serde_json::Value {
    json!({"municipality_id": app.municipality_id, "code": code, "name": format!("計画 {code}"),
        "start_fiscal_year": 2016, "end_fiscal_year": 2020, "baseline_fiscal_year": 2017, "status": "active",
        "phases": []})
}

/// Holds the write lock on a thread of its own until the returned sender is used or dropped.
fn hold_the_write_lock(db: &Database) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (held, is_held) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let db = db.clone();
    let holder = std::thread::spawn(move || {
        db.write_blocking(municipal_kpi::db::WriteScope::Installation, |_conn| {
            held.send(()).expect("report the lock is held");
            let _ = released.recv();
            Ok::<_, AppError>(())
        })
        .expect("the holder's write");
    });
    is_held.recv().expect("the holder took the write lock");
    (release, holder)
}

async fn reads_are_answered_while_writes_queue_behind_a_held_write(backend: Backend) {
    let settings = DatabaseSettings {
        read_pool_size: 4,
        write_pool_size: 1,
        write_wait: Duration::from_millis(1500),
        max_queued_writes: QUEUED_WRITES,
        ..DatabaseSettings::default()
    };
    let app = spawn_app_with(backend, settings, ServerSettings::default()).await;
    let (release, holder) = hold_the_write_lock(&app.db);

    let mut writes = Vec::new();
    for i in 0..QUEUED_WRITES {
        let request =
            app.client.post(app.api("/plans")).bearer_auth(&app.hq.token).json(&plan_body(&app, &format!("q{i}")));
        writes.push(actix_web::rt::spawn(async move { request.send().await.expect("request") }));
    }
    // Every write has reached the queue (bounded wait: the test fails rather than hangs).
    for _ in 0..500 {
        if app.db.queued_writes() == QUEUED_WRITES {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(app.db.queued_writes(), QUEUED_WRITES, "the writes wait for the held lock");

    for path in ["/plans", "/me", "/departments"] {
        let response = app.get(path, &app.viewer).await;
        assert_eq!(response.status(), 200, "GET {path} while writes queue");
    }
    let ready = app.client.get(app.url("/readyz")).send().await.expect("request");
    assert_eq!(ready.status(), 200, "/readyz while writes queue");

    // One more write than the queue holds is refused at once, while the lock is still held.
    let overflow = app.post("/plans", &app.hq, &plan_body(&app, "overflow")).await;
    assert!(overflow.headers().contains_key("retry-after"));
    assert_problem(overflow, 503).await;

    for write in writes {
        let response = write.await.expect("the request task");
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert!(retry_after.is_some_and(|v| v.parse::<u32>().is_ok_and(|s| s > 0)), "Retry-After in seconds");
        assert_problem(response, 503).await;
    }

    release.send(()).expect("release the lock");
    holder.join().expect("the holder finishes");
    let created = app.post("/plans", &app.hq, &plan_body(&app, "after")).await;
    assert_eq!(created.status(), 201, "writes go through again");
    let plans = json(app.get("/plans", &app.viewer).await).await;
    let codes: Vec<&str> =
        plans["items"].as_array().expect("items").iter().filter_map(|p| p["code"].as_str()).collect();
    assert_eq!(codes, ["after"], "the refused writes changed nothing");
}
