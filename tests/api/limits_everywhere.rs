//! One table of bounds, every way in: each bound declared in `domain::limits` is driven through a
//! JSON body, a plan file, a CSV import and the command line, at the limit (accepted) and one
//! character past it (refused with the bound's own message). Nothing refused is stored.

use std::process::Command;

use diesel::connection::SimpleConnection;
use municipal_kpi::error::AppError;

use municipal_kpi::domain::limits::{MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    every_way_in_meets_the_same_bounds,
    what_an_earlier_release_stored_is_shown_within_the_bounds_and_kept
);

/// The kinds of bounded text, each with a field that carries it on every way in.
const BOUNDS: [(&str, usize); 3] = [("name", MAX_NAME_CHARS), ("code", MAX_CODE_CHARS), ("text", MAX_TEXT_CHARS)];

fn message(max: usize) -> String {
    format!("at most {max} characters")
}

/// `POST /plans` with the bounded field of this kind set to `text`.
async fn by_json(app: &TestApp, kind: &str, text: &str, serial: usize) -> reqwest::Response {
    let mut body = json!({"code": format!("json-{serial}"), "name": "計画", "start_fiscal_year": 2020,
        "end_fiscal_year": 2022, "status": "draft"});
    let field = match kind {
        "name" => "name",
        "code" => "code",
        _ => "description",
    };
    body[field] = Value::String(text.to_owned());
    app.post("/plans", &app.hq, &body).await
}

/// `POST /plans/import` with the bounded field of this kind set to `text`.
async fn by_plan_file(app: &TestApp, kind: &str, text: &str, serial: usize) -> reqwest::Response {
    let (mut code, mut name, mut description) = (format!("file-{serial}"), "計画".to_owned(), String::new());
    match kind {
        "name" => name = text.to_owned(),
        "code" => code = text.to_owned(),
        _ => description = text.to_owned(),
    }
    let document = format!(
        "[municipality]\ncode = \"131199\"\nname = \"板橋区\"\n\n[plan]\ncode = \"{code}\"\nname = \"{name}\"\n\
         description = \"{description}\"\nstart_fiscal_year = 2020\nend_fiscal_year = 2022\nstatus = \"draft\"\n"
    );
    app.client
        .post(app.api("/plans/import"))
        .bearer_auth(&app.hq.token)
        .header("Content-Type", "application/toml")
        .body(document)
        .send()
        .await
        .expect("request")
}

async fn every_way_in_meets_the_same_bounds(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut serial = 0;
    for (kind, max) in BOUNDS {
        for (way, accepted_status) in [("JSON", 201), ("plan file", 201)] {
            // A code is ASCII in practice (one per way, so the two plans at the limit differ);
            // names and texts are counted in characters, not bytes.
            let unit = match (kind, way) {
                ("code", "JSON") => "j",
                ("code", _) => "f",
                _ => "区",
            };
            for (length, accepted) in [(max, true), (max + 1, false)] {
                serial += 1;
                let text = unit.repeat(length);
                let response = match way {
                    "JSON" => by_json(&app, kind, &text, serial).await,
                    _ => by_plan_file(&app, kind, &text, serial).await,
                };
                if accepted {
                    let status = response.status().as_u16();
                    assert_eq!(status, accepted_status, "{way} {kind} of {length}: {}", response.text().await.unwrap());
                } else {
                    let problem = assert_problem(response, 422).await;
                    assert!(problem.to_string().contains(&message(max)), "{way} {kind} of {length}: {problem}");
                }
            }
        }
    }
    let plans = json(app.get("/plans?limit=500", &app.hq).await).await;
    assert_eq!(plans["total"], 2 * BOUNDS.len(), "only the plans at the limits were stored: {plans}");

    // The CSV import: a 備考 is free text.
    let department = app.department_user("limits-dept", "情報政策課");
    let plan = plans["items"][0]["id"].as_i64().unwrap();
    let measure = json(
        app.post(
            &format!("/plans/{plan}/measures"),
            &app.hq,
            &json!({"number": 1, "name": "施策", "review_category": "new",
                "owner_department_ids": [department.department_id.unwrap()]}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let indicator = json(
        app.post(
            &format!("/measures/{measure}/indicators"),
            &app.hq,
            &json!({"number": 1, "name": "指標", "kind": "count", "direction": "increase"}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for (length, accepted) in [(MAX_TEXT_CHARS, true), (MAX_TEXT_CHARS + 1, false)] {
        let csv = format!("指標ID,年度,実績,備考\r\n{indicator},2020,1,{}\r\n", "区".repeat(length));
        let response = app
            .client
            .post(app.api(&format!("/plans/{plan}/actuals/import?dry_run=true")))
            .bearer_auth(&department.token)
            .header("Content-Type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        if accepted {
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        } else {
            let problem = assert_problem(response, 422).await;
            // Read before any field is: the cell's bound, which is the longest text's.
            assert!(problem.to_string().contains(&format!("longer than {MAX_TEXT_CHARS} characters")), "{problem}");
        }
    }

    // The command line: a username is a code, a display name a name.
    for (flag, max, unit) in [("--username", MAX_CODE_CHARS, "u"), ("--display-name", MAX_NAME_CHARS, "名")] {
        let over = unit.repeat(max + 1);
        let mut args = vec!["user", "create", "--role", "viewer", flag, over.as_str()];
        if flag != "--username" {
            args.extend(["--username", "cli-user"]);
        }
        let output = Command::new(env!("CARGO_BIN_EXE_municipal-kpi"))
            .env_clear()
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none")
            .args(&args)
            .output()
            .expect("the binary runs");
        assert!(!output.status.success(), "{flag} of {} passed", max + 1);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&message(max)), "{flag}: {stderr}");
    }
}

/// A plan stored before the bounds (a 5,000-character name, a 3 MB description) is shown within
/// them wherever it appears, saying how long the stored text is, and kept whole in storage when
/// another field of it is changed.
async fn what_an_earlier_release_stored_is_shown_within_the_bounds_and_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = json(by_json(&app, "name", "計画", 0).await).await;
    let id = created["id"].as_i64().expect("plan id");
    let (long_name, long_description) = ("名".repeat(5000), "d".repeat(3_000_000));
    let earlier = format!("UPDATE plans SET name = '{long_name}', description = '{long_description}' WHERE id = {id}");
    app.db
        .write_blocking(municipal_kpi::db::WriteScope::Installation, move |conn| {
            conn.batch_execute(&earlier).map_err(AppError::from)
        })
        .expect("earlier row");

    for path in [format!("/plans/{id}"), "/plans".to_owned()] {
        let response = app.get(&path, &app.viewer).await;
        assert_eq!(response.status(), 200, "{path}");
        let body = response.text().await.expect("body");
        assert!(body.len() < 16 * 1024, "{path} answered {} bytes", body.len());
        let page: Value = serde_json::from_str(&body).expect("json");
        let plan = if path == "/plans" { page["items"][0].clone() } else { page };
        let name = plan["name"].as_str().expect("name");
        assert_eq!(name.chars().count(), MAX_NAME_CHARS, "{path}");
        assert!(name.contains("clipped: 5000 characters stored"), "{path}: {name}");
        assert_eq!(plan["description"].as_str().expect("description").chars().count(), MAX_TEXT_CHARS);
    }

    let renamed = app.patch(&format!("/plans/{id}"), &app.hq, &json!({"status": "active"})).await;
    assert_eq!(renamed.status(), 200);
    let stored = app
        .db
        .read_blocking(move |conn| {
            municipal_kpi::db::plans::get(conn, municipal_kpi::domain::ids::PlanId::new(id as i32))
        })
        .expect("stored plan");
    assert_eq!((stored.name.chars().count(), stored.description.len()), (5000, 3_000_000), "nothing is lost");
    let audit = app.get("/audit?limit=100", &app.admin).await;
    assert_eq!(audit.status(), 200);
    let audit_body = audit.text().await.expect("audit");
    assert!(audit_body.len() < 64 * 1024, "the audit log answered {} bytes", audit_body.len());
}
