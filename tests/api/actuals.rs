//! Yearly actuals: department scoping, rejections, lost-update protection, review and achievement.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    departments_write_only_the_indicators_they_own,
    bad_submissions_are_refused_and_change_nothing,
    overwriting_needs_a_current_if_match,
    concurrent_writers_never_lose_an_accepted_write,
    the_review_cycle_is_kept_in_history,
    achievement_reproduces_the_worked_examples,
    a_deactivated_department_submits_nothing,
);

/// The demo plan's indicator `number` of measure `measure`, and its id.
async fn indicator(app: &TestApp, plan_id: i32, measure: i64, number: i64) -> Value {
    let page = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.hq).await).await;
    let measure = page["items"].as_array().unwrap().iter().find(|m| m["number"] == measure).unwrap().clone();
    let indicators =
        json(app.get(&format!("/measures/{}/indicators", measure["id"]), &app.hq).await).await["items"].clone();
    indicators.as_array().unwrap().iter().find(|i| i["number"] == number && i["status"] == "active").unwrap().clone()
}

fn path(indicator: &Value, year: i32) -> String {
    format!("/indicators/{}/actuals/{year}", indicator["id"])
}

async fn submit(app: &TestApp, user: &TestUser, indicator: &Value, year: i32, body: Value) -> reqwest::Response {
    app.put(&path(indicator, year), user, &body, None).await
}

/// A message a clerk may see reads Japanese first (the English follows in parentheses): its first
/// word is not an English one (numbers may come first, as in 2015年度).
#[track_caller]
fn assert_japanese_first(text: &Value) {
    let text = text.as_str().unwrap_or_else(|| panic!("not a message: {text}"));
    assert!(text.chars().find(|c| c.is_alphabetic()).is_some_and(|c| !c.is_ascii()), "not Japanese first: {text}");
}

async fn approve(app: &TestApp, indicator: &Value, year: i32) {
    let response = app.post(&format!("{}/review", path(indicator, year)), &app.hq, &json!({"action": "approve"})).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn departments_write_only_the_indicators_they_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let koseki = app.department_user("family-registry", "戸籍住民課");
    let kouhou = app.department_user("public-relations", "広聴広報課");
    let open_data = indicator(&app, plan, 1, 1).await; // No.1, IT推進課
    let card_rate = indicator(&app, plan, 6, 2).await; // No.6, IT推進課 (lead) and 戸籍住民課 (from 2018)
    let ratio = json!({"numerator": 180000, "denominator": 570000});

    assert_eq!(submit(&app, &it, &open_data, 2019, json!({"value": 220})).await.status(), 201, "own measure");
    assert_eq!(submit(&app, &koseki, &card_rate, 2019, ratio.clone()).await.status(), 201, "co-owner");
    assert_eq!(submit(&app, &it, &card_rate, 2018, ratio.clone()).await.status(), 201, "lead owner");
    let problem = assert_problem(submit(&app, &kouhou, &card_rate, 2020, ratio.clone()).await, 403).await;
    assert!(problem["detail"].as_str().unwrap().contains("No.6"));
    assert_japanese_first(&problem["detail"]);
    assert_problem(submit(&app, &koseki, &open_data, 2020, json!({"value": 225})).await, 403).await;
    // The indicator was set in the 2018 revision: no actual for 2017, whoever sends it.
    assert_problem(submit(&app, &koseki, &card_rate, 2017, ratio.clone()).await, 422).await;
    assert_problem(submit(&app, &app.viewer, &open_data, 2020, json!({"value": 225})).await, 403).await;
    assert_problem(submit(&app, &app.admin, &open_data, 2020, json!({"value": 225})).await, 403).await;

    let by_hq = submit(&app, &app.hq, &open_data, 2020, json!({"value": 228, "note": "本部が代理入力"})).await;
    assert_eq!(by_hq.status(), 201);
    let history =
        json(app.get(&format!("{}/history", path(&open_data, 2020)), &app.viewer).await).await["items"].clone();
    assert_eq!(history[0]["actor_username"], app.hq.username.as_str());
    assert_eq!(history[0]["actor_department_id"], Value::Null, "hq acted on the department's behalf");
    let history =
        json(app.get(&format!("{}/history", path(&card_rate, 2019)), &app.viewer).await).await["items"].clone();
    assert_eq!(history[0]["actor_department_id"], koseki.department_id.unwrap());
}

async fn bad_submissions_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let count = indicator(&app, plan, 1, 1).await; // count
    let percent = indicator(&app, plan, 1, 2).await; // 充足率 (percent)
    let ratio = indicator(&app, plan, 6, 2).await;
    let milestone = indicator(&app, plan, 36, 1).await;
    // A year that has not started yet, in a plan that runs into the future.
    let future_plan = json(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "dx-2030", "name": "DX推進計画2030",
            "start_fiscal_year": 2026, "end_fiscal_year": 2030, "status": "active"}),
        )
        .await,
    )
    .await;
    let goal = json(
        app.post(
            &format!("/plans/{}/goals", future_plan["id"]),
            &app.hq,
            &json!({"number": 1, "name": "区民サービスの向上"}),
        )
        .await,
    )
    .await;
    let measure = json(
        app.post(
            &format!("/plans/{}/measures", future_plan["id"]),
            &app.hq,
            &json!({"number": 1, "name": "行政手続のオンライン化",
            "main_goal_id": goal["id"], "review_category": "new", "owner_department_ids": [it.department_id]}),
        )
        .await,
    )
    .await;
    let online = json(
        app.post(
            &format!("/measures/{}/indicators", measure["id"]),
            &app.hq,
            &json!({"name": "オンライン手続数", "kind": "count", "direction": "increase"}),
        )
        .await,
    )
    .await;
    let problem = assert_problem(submit(&app, &it, &online, 2029, json!({"value": 10})).await, 422).await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("has not started"), "{problem}");
    assert_japanese_first(&problem["errors"][0]["message"]);
    let audit_before = json(app.get("/audit?limit=1", &app.hq).await).await["total"].clone();

    let cases: Vec<(&Value, i32, Value, &str)> = vec![
        (&count, 2015, json!({"value": 1}), "fiscal_year"),
        (&count, 2021, json!({"value": 1}), "fiscal_year"),
        (&count, 2019, json!({"numerator": 1, "denominator": 2}), "numerator"),
        (&count, 2019, json!({"value": -5}), "value"),
        (&count, 2019, json!({"value": "abc"}), "value"),
        (&percent, 2019, json!({"value": 100.5}), "value"),
        (&ratio, 2019, json!({"value": 31.6}), "value"),
        (&ratio, 2019, json!({"numerator": 180000, "denominator": 0}), "denominator"),
        (&ratio, 2019, json!({"numerator": -1, "denominator": 10}), "numerator"),
        (&milestone, 2019, json!({"stage_name": "完了"}), "stage_name"),
        (&milestone, 2019, json!({"stage": 9}), "stage"),
    ];
    for (indicator, year, body, field) in cases {
        let problem = assert_problem(submit(&app, &app.hq, indicator, year, body.clone()).await, 422).await;
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
        problem["errors"].as_array().unwrap().iter().for_each(|e| assert_japanese_first(&e["message"]));
    }
    // A retired indicator (No.5 アプリダウンロード件数, 削除 from 2018) takes no actual for 2018.
    let page = json(app.get(&format!("/plans/{plan}/measures?limit=500"), &app.hq).await).await;
    let no5 = page["items"].as_array().unwrap().iter().find(|m| m["number"] == 5).unwrap().clone();
    let indicators =
        json(app.get(&format!("/measures/{}/indicators", no5["id"]), &app.hq).await).await["items"].clone();
    let retired = indicators.as_array().unwrap().iter().find(|i| i["status"] == "retired").unwrap().clone();
    let problem = assert_problem(submit(&app, &app.hq, &retired, 2018, json!({"value": 100})).await, 422).await;
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("retired"));
    assert_japanese_first(&problem["errors"][0]["message"]);
    // Nothing was written by any refused request.
    assert_eq!(json(app.get("/audit?limit=1", &app.hq).await).await["total"], audit_before);
    assert_problem(app.get(&path(&count, 2019), &it).await, 404).await;
    // A decimal string is accepted and kept exactly.
    let accepted = json(submit(&app, &it, &percent, 2019, json!({"value": "57.40"})).await).await;
    assert_eq!(accepted["value"].to_string(), "57.4");
}

async fn overwriting_needs_a_current_if_match(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let count = indicator(&app, plan, 1, 1).await;
    let first = submit(&app, &it, &count, 2019, json!({"value": 218})).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(!etag.starts_with("W/"), "strong ETag");
    assert_japanese_first(
        &assert_problem(submit(&app, &it, &count, 2019, json!({"value": 219})).await, 428).await["detail"],
    );
    let corrected = app.put(&path(&count, 2019), &it, &json!({"value": 220, "note": "再集計"}), Some(&etag)).await;
    assert_eq!(corrected.status(), 200);
    let new_etag = corrected.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let stale = assert_problem(app.put(&path(&count, 2019), &it, &json!({"value": 221}), Some(&etag)).await, 412).await;
    assert_japanese_first(&stale["detail"]);
    let current = json(app.get(&path(&count, 2019), &it).await).await;
    assert_eq!(current["value"], json!(220));
    assert_eq!(current["version"], 2);
}

async fn concurrent_writers_never_lose_an_accepted_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let count = indicator(&app, plan, 1, 1).await;
    assert_eq!(submit(&app, &it, &count, 2019, json!({"value": 200, "note": "writer-start"})).await.status(), 201);
    let writers = 8;
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let client = app.client.clone();
        let url = app.api(&path(&count, 2019));
        let token = it.token.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let mut accepted = Vec::new();
            let mut refused = 0;
            for attempt in 0..3 {
                let current = client.get(&url).bearer_auth(&token).send().await.unwrap();
                let etag = current.headers()["etag"].to_str().unwrap().to_owned();
                let note = format!("writer-{writer}-attempt-{attempt}");
                let response = client
                    .put(&url)
                    .bearer_auth(&token)
                    .header("If-Match", etag)
                    .json(&json!({"value": 200 + writer, "note": note}))
                    .send()
                    .await
                    .unwrap();
                match response.status().as_u16() {
                    200 => accepted.push(note),
                    412 => refused += 1,
                    other => panic!("unexpected status {other}: {}", response.text().await.unwrap()),
                }
            }
            (accepted, refused)
        }));
    }
    let mut accepted = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (notes, refusals) = task.await.unwrap();
        accepted.extend(notes);
        refused += refusals;
    }
    assert_eq!(accepted.len() + refused, writers as usize * 3);
    assert!(!accepted.is_empty());
    let history = json(app.get(&format!("{}/history", path(&count, 2019)), &it).await).await["items"].clone();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 1 + accepted.len(), "one version per accepted write");
    let versions: Vec<i64> = history.iter().map(|e| e["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, (1..=history.len() as i64).collect::<Vec<_>>());
    for note in &accepted {
        assert_eq!(history.iter().filter(|e| e["note"] == note.as_str()).count(), 1, "{note} is in the history");
    }
}

async fn the_review_cycle_is_kept_in_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let koseki = app.department_user("family-registry", "戸籍住民課");
    let rate = indicator(&app, plan, 6, 2).await;
    let review = format!("{}/review", path(&rate, 2020));
    let first = submit(&app, &koseki, &rate, 2020, json!({"numerator": 180000, "denominator": 575000})).await;
    assert_eq!(first.status(), 201);
    // Pending actuals are reported, never used.
    let achievement =
        json(app.get(&format!("/indicators/{}/achievement?fiscal_year=2020", rate["id"]), &app.viewer).await).await;
    assert_eq!(achievement["result"]["status"], "no_data", "one year is one object");
    assert_eq!(achievement["result"]["pending"], true);
    // Departments cannot review; returning needs a comment.
    assert_japanese_first(
        &assert_problem(app.post(&review, &koseki, &json!({"action": "approve"})).await, 403).await["detail"],
    );
    let uncommented = assert_problem(app.post(&review, &app.hq, &json!({"action": "return"})).await, 422).await;
    assert_japanese_first(&uncommented["errors"][0]["message"]);
    let returned =
        app.post(&review, &app.hq, &json!({"action": "return", "comment": "人口は年度末の住民基本台帳人口で"})).await;
    let returned_etag = returned.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(json(returned).await["status"], "returned");
    let resubmitted = app
        .put(
            &path(&rate, 2020),
            &koseki,
            &json!({"numerator": 180000, "denominator": 570000, "note": "人口を修正"}),
            Some(&returned_etag),
        )
        .await;
    assert_eq!(json(resubmitted).await["status"], "submitted");
    approve(&app, &rate, 2020).await;
    let approved = app.get(&path(&rate, 2020), &koseki).await;
    let approved_etag = approved.headers()["etag"].to_str().unwrap().to_owned();
    let approved = json(approved).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["rate"].as_f64(), Some(31.6));
    // An approved actual is closed until hq reopens it.
    let closed =
        app.put(&path(&rate, 2020), &koseki, &json!({"numerator": 1, "denominator": 2}), Some(&approved_etag)).await;
    assert_japanese_first(&assert_problem(closed, 409).await["detail"]);
    let twice = app.post(&review, &app.hq, &json!({"action": "approve"})).await;
    assert_eq!(
        assert_problem(twice, 409).await["detail"],
        "承認済みの実績は承認できません (cannot approve an actual that is approved)"
    );
    let reopened = app.post(&review, &app.hq, &json!({"action": "reopen", "comment": "国の確定値で再報告"})).await;
    assert_eq!(json(reopened).await["status"], "returned");
    let events: Vec<String> =
        json(app.get(&format!("{}/history", path(&rate, 2020)), &app.viewer).await).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(events, vec!["submitted", "returned", "resubmitted", "approved", "reopened"]);
    // While reopened, the last approved figures still count.
    let achievement =
        json(app.get(&format!("/indicators/{}/achievement?fiscal_year=2020", rate["id"]), &app.viewer).await).await;
    assert_eq!(achievement["result"]["actual_rate_or_value"].as_f64(), Some(31.6));
    let audit = json(app.get("/audit?entity_type=actual&action=approved", &app.hq).await).await;
    assert_eq!(audit["total"], 1);
}

async fn achievement_reproduces_the_worked_examples(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let cases = [
        // (measure, indicator, year, body, attainment, progress, status, grade)
        (1, 1, 2019, json!({"value": 220}), Some(95.7), Some(63.0), "behind", "C"),
        (6, 2, 2020, json!({"numerator": 180000, "denominator": 570000}), Some(90.0), Some(82.3), "not_achieved", "B"),
        (2, 1, 2019, json!({"numerator": 1033, "denominator": 1033}), Some(100.0), Some(100.0), "achieved", "A"),
        (17, 1, 2019, json!({"value": 98}), Some(98.0), Some(98.0), "not_achieved", "B"),
        (16, 1, 2019, json!({"value": 2}), None, Some(0.0), "not_achieved", "D"),
        (12, 1, 2019, json!({"value": 2500}), None, Some(100.0), "achieved", "A"),
    ];
    for (measure, number, year, body, attainment, progress, status, grade) in cases {
        let indicator = indicator(&app, plan, measure, number).await;
        let response = submit(&app, &app.hq, &indicator, year, body).await;
        assert_eq!(response.status(), 201, "No.{measure}: {}", response.text().await.unwrap());
        approve(&app, &indicator, year).await;
        let result = json(
            app.get(&format!("/indicators/{}/achievement?fiscal_year={year}", indicator["id"]), &app.viewer).await,
        )
        .await;
        assert_eq!(result["fiscal_year_label"], if year == 2019 { "令和元(2019)年度" } else { "令和2(2020)年度" });
        assert_eq!(result["result"]["attainment_rate"].as_f64(), attainment, "No.{measure} attainment");
        assert_eq!(result["result"]["progress_rate"].as_f64(), progress, "No.{measure} progress");
        assert_eq!(result["result"]["status"], status, "No.{measure} status");
        assert_eq!(result["result"]["grade"], grade, "No.{measure} grade");
        assert!(result["inputs"]["target"].is_object(), "the target used is shown");
        assert!(result["inputs"]["approved_actual"].is_object(), "the actual used is shown");
    }
    // No.1 in 2019: the 2018 revision (230) is in force and the expected value is 221.
    let open_data = indicator(&app, plan, 1, 1).await;
    let series =
        json(app.get(&format!("/indicators/{}/achievement", open_data["id"]), &app.viewer).await).await["items"]
            .clone();
    let years: Vec<i64> = series.as_array().unwrap().iter().map(|y| y["fiscal_year"].as_i64().unwrap()).collect();
    assert_eq!(years, vec![2016, 2017, 2018, 2019, 2020]);
    assert_eq!(series[1]["inputs"]["target"]["value"], json!(210), "before the revision: 210");
    assert_eq!(series[3]["inputs"]["target"]["value"], json!(230));
    assert_eq!(series[3]["result"]["expected"], json!(221));
    assert_eq!(series[4]["result"]["status"], "no_data");
}

/// A deactivated department's user is refused on every way in, JSON, CSV and xlsx (a dry run too),
/// and nothing is written; reactivated, it submits again.
async fn a_deactivated_department_submits_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = indicator(&app, plan, 1, 1).await; // No.1, IT推進課
    let department = format!("/departments/{}", it.department_id.unwrap());
    assert_eq!(app.patch(&department, &app.admin, &json!({"active": false})).await.status(), 200);

    let problem = assert_problem(submit(&app, &it, &open_data, 2019, json!({"value": 220})).await, 403).await;
    assert!(problem["detail"].as_str().unwrap().contains("無効化"), "{problem}");
    let csv = format!("指標ID,年度,実績\r\n{},2019,220\r\n", open_data["id"]).into_bytes();
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, header) in ["指標ID", "年度", "実績"].into_iter().enumerate() {
        sheet.write_string(0, column as u16, header).unwrap();
    }
    sheet.write_number(1, 0, open_data["id"].as_f64().unwrap()).unwrap();
    sheet.write_number(1, 1, 2019.0).unwrap();
    sheet.write_number(1, 2, 220.0).unwrap();
    let xlsx = workbook.save_to_buffer().unwrap();
    let upload = |content_type: &'static str, body: Vec<u8>, dry_run: bool| {
        let url = app.api(&format!("/plans/{plan}/actuals/import?dry_run={dry_run}"));
        let request = app.client.post(url).bearer_auth(&it.token).header("Content-Type", content_type).body(body);
        async move { request.send().await.unwrap() }
    };
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    for (content_type, body) in [("text/csv", csv.clone()), (XLSX, xlsx)] {
        for dry_run in [true, false] {
            let problem = assert_problem(upload(content_type, body.clone(), dry_run).await, 403).await;
            assert!(problem["detail"].as_str().unwrap().contains("無効化"), "{content_type}: {problem}");
        }
    }
    assert_problem(app.get(&path(&open_data, 2019), &app.hq).await, 404).await;

    // Reactivated, the department submits again.
    assert_eq!(app.patch(&department, &app.admin, &json!({"active": true})).await.status(), 200);
    assert_eq!(upload("text/csv", csv, false).await.status(), 200);
}
