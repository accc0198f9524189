//! 公表 (publication): the 本部 publishes a plan's year; anyone reads exactly what was published,
//! without a token (JSON, CSV, HTML, the DCAT catalogue); a later change waits for a
//! re-publication, which needs a reason; every version stays; nothing internal leaks; another
//! municipality's unpublished plan is as missing as a missing one.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::municipalities::other_municipality;
use crate::on_both_backends;

on_both_backends!(
    a_published_year_is_readable_without_a_token_in_every_format,
    a_change_after_publication_waits_for_a_re_publication_with_a_reason,
    unpublished_and_other_municipalities_plans_answer_as_missing,
    the_demo_publishes_its_sample_year_flagged_as_sample,
);

const NOTE: &str = "内部備考-出張受付の件数を含む";
const RETURN_COMMENT: &str = "差戻し理由-年度末人口で再計算してください";

/// The demo plan's indicator No.1 of measure No.1 (IT推進課, a count).
async fn open_data_indicator(app: &TestApp, plan: i32) -> Value {
    let page = json(app.get(&format!("/plans/{plan}/measures?limit=500"), &app.hq).await).await;
    let measure = page["items"].as_array().unwrap().iter().find(|m| m["number"] == 1).unwrap().clone();
    let indicators = json(app.get(&format!("/measures/{}/indicators", measure["id"]), &app.hq).await).await;
    indicators["items"].as_array().unwrap().iter().find(|i| i["number"] == 1).unwrap().clone()
}

async fn review(app: &TestApp, indicator: &Value, year: i32, body: Value) {
    let path = format!("/indicators/{}/actuals/{year}/review", indicator["id"]);
    let response = app.post(&path, &app.hq, &body).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn submit(app: &TestApp, user: &TestUser, indicator: &Value, year: i32, value: i64) {
    let path = format!("/indicators/{}/actuals/{year}", indicator["id"]);
    let current = app.get(&path, user).await;
    let tag = current.headers().get("etag").map(|tag| tag.to_str().unwrap().to_owned());
    let response = app.put(&path, user, &json!({"value": value, "note": NOTE}), tag.as_deref()).await;
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
}

/// Submitted with an internal note, returned with a comment, resubmitted, approved.
async fn approved_through_a_return(app: &TestApp, department: &TestUser, indicator: &Value, value: i64) {
    submit(app, department, indicator, 2020, value).await;
    review(app, indicator, 2020, json!({"action": "return", "comment": RETURN_COMMENT})).await;
    submit(app, department, indicator, 2020, value).await;
    review(app, indicator, 2020, json!({"action": "approve"})).await;
}

async fn publish(app: &TestApp, plan: i32, body: Value) -> reqwest::Response {
    app.post(&format!("/plans/{plan}/publications"), &app.hq, &body).await
}

/// A GET without any token.
async fn public(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

async fn body_of(response: reqwest::Response) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

#[track_caller]
fn assert_nothing_internal(body: &str, users: &[&TestUser]) {
    for secret in [NOTE, RETURN_COMMENT] {
        assert!(!body.contains(secret), "an internal text leaked: {secret}");
    }
    for user in users {
        assert!(!body.contains(&format!("\"{}\"", user.username)), "a user name leaked: {}", user.username);
    }
    assert!(!body.contains("published_by"), "who published is internal");
}

async fn a_published_year_is_readable_without_a_token_in_every_format(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let indicator = open_data_indicator(&app, plan).await;

    let nothing = assert_problem(publish(&app, plan, json!({"fiscal_year": 2020})).await, 409).await;
    assert!(nothing["detail"].as_str().unwrap().contains("承認済みの実績がない"), "{nothing}");
    approved_through_a_return(&app, &it, &indicator, 220).await;
    assert_problem(app.post(&format!("/plans/{plan}/publications"), &it, &json!({"fiscal_year": 2020})).await, 403)
        .await;
    let refused = assert_problem(publish(&app, plan, json!({"fiscal_year": 2020, "licence": "MIT"})).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "licence");
    assert_problem(publish(&app, plan, json!({"fiscal_year": 2020, "correction_note": "初回"})).await, 422).await;

    let response = publish(&app, plan, json!({"fiscal_year": 2020})).await;
    assert_eq!(response.status(), 201);
    let published = json(response).await;
    assert_eq!((published["version"].as_i64(), published["licence"]["id"].as_str()), (Some(1), Some("CC-BY-4.0")));
    assert_eq!(published["published_by"], app.hq.id, "the 本部 sees who published");
    let listed = json(app.get(&format!("/plans/{plan}/publications"), &app.hq).await).await;
    assert_eq!(listed["total"], 1);
    let audit = json(app.get("/audit?entity_type=publication", &app.hq).await).await;
    assert_eq!(audit["items"][0]["action"], "publish", "{audit}");

    // JSON, latest version, without a token.
    let data_path = published["url"].as_str().unwrap().rsplit_once("/versions/").unwrap().0.to_owned();
    let (status, headers, body) = body_of(public(&app, &data_path).await).await;
    assert_eq!(status, 200, "{body}");
    assert_nothing_internal(&body, &[&app.hq, &it]);
    let year: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((year["version"].as_i64(), year["latest_version"].as_i64()), (Some(1), Some(1)));
    assert_eq!(year["licence"]["url"], "https://creativecommons.org/licenses/by/4.0/deed.ja");
    assert_eq!(year["report"]["rows"][0]["value"], 220, "{year}");
    assert!(year["published_at"].as_str().unwrap().ends_with('Z'));
    assert!(headers["cache-control"].to_str().unwrap().starts_with("public"));
    assert_eq!(headers["access-control-allow-origin"], "*");
    let tag = headers["etag"].to_str().unwrap().to_owned();
    let cached = app.client.get(app.url(&data_path)).header("If-None-Match", &tag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["etag"].to_str().unwrap(), tag);

    // CSV: the open data table, with a byte order mark, a different tag.
    let (status, headers, csv) = body_of(public(&app, &format!("{data_path}?format=csv")).await).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}') && csv.contains(",220,"), "{csv}");
    assert_ne!(headers["etag"].to_str().unwrap(), tag);
    assert!(headers["link"].to_str().unwrap().contains("creativecommons.org"));
    assert_nothing_internal(&csv, &[&app.hq, &it]);

    // The page.
    let (status, headers, html) = body_of(public(&app, year["distributions"]["html"].as_str().unwrap()).await).await;
    assert_eq!(status, 200, "{html}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(html.contains("第1版") && html.contains("deed.ja") && html.contains("220"), "{html}");
    assert!(!html.contains("サンプル:"), "no sample in this publication");
    assert_nothing_internal(&html, &[&app.hq, &it]);

    // The catalogue.
    let (status, headers, catalogue) = body_of(public(&app, "/api/v1/public/catalog").await).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/ld+json"));
    let catalogue: Value = serde_json::from_str(&catalogue).unwrap();
    let datasets = catalogue["@graph"][0]["dcat:dataset"].as_array().unwrap().clone();
    assert_eq!(datasets.len(), 1);
    assert_eq!(datasets[0]["dct:license"]["@id"], year["licence"]["url"]);
    assert_eq!(datasets[0]["dct:title"]["@value"], year["title"]);
    assert_eq!(datasets[0]["dcat:distribution"].as_array().unwrap().len(), 3);
    assert_nothing_internal(&catalogue.to_string(), &[&app.hq, &it]);
}

async fn a_change_after_publication_waits_for_a_re_publication_with_a_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let indicator = open_data_indicator(&app, plan).await;
    approved_through_a_return(&app, &it, &indicator, 220).await;
    let first = json(publish(&app, plan, json!({"fiscal_year": 2020})).await).await;
    let data_path = first["url"].as_str().unwrap().rsplit_once("/versions/").unwrap().0.to_owned();
    let before = json(public(&app, &data_path).await).await;

    // Corrected and approved again: not public until re-published.
    review(&app, &indicator, 2020, json!({"action": "reopen", "comment": RETURN_COMMENT})).await;
    submit(&app, &it, &indicator, 2020, 231).await;
    review(&app, &indicator, 2020, json!({"action": "approve"})).await;
    let unchanged = json(public(&app, &data_path).await).await;
    assert_eq!(unchanged, before, "the public answer is the stored snapshot");

    let missing = assert_problem(publish(&app, plan, json!({"fiscal_year": 2020})).await, 422).await;
    assert_eq!(missing["errors"][0]["field"], "correction_note");
    let response = publish(&app, plan, json!({"fiscal_year": 2020, "correction_note": "No.1 の実績値を訂正"})).await;
    assert_eq!(response.status(), 201);
    assert_eq!(json(response).await["version"], 2);

    let latest = json(public(&app, &data_path).await).await;
    assert_eq!((latest["version"].as_i64(), latest["report"]["rows"][0]["value"].as_i64()), (Some(2), Some(231)));
    assert_eq!(latest["correction_note"], "No.1 の実績値を訂正");
    let versions = latest["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert!(versions.iter().all(|v| v["published_at"].is_string()));
    let old = json(public(&app, versions[0]["url"].as_str().unwrap()).await).await;
    assert_eq!((old["version"].as_i64(), old["report"]["rows"][0]["value"].as_i64()), (Some(1), Some(220)));
    assert_eq!(old["latest_version"], 2);
    let old_page = public(&app, versions[0]["html_url"].as_str().unwrap()).await.text().await.unwrap();
    assert!(old_page.contains("第1版") && old_page.contains("最新版は第2版"), "{old_page}");
    assert!(old_page.contains("220") && !old_page.contains(">231<"), "{old_page}");
    assert_nothing_internal(&old_page, &[&app.hq, &it]);
    assert_problem(public(&app, &format!("{data_path}/versions/3")).await, 404).await;
}

async fn unpublished_and_other_municipalities_plans_answer_as_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let other = other_municipality(&app).await;

    // 台東区's plan has a figure but was never published; 板橋区's plan was never published either.
    let unpublished = assert_problem(
        public(&app, &format!("/api/v1/public/municipalities/131067/plans/{}/years/2020", other.plan)).await,
        404,
    )
    .await;
    let missing =
        assert_problem(public(&app, "/api/v1/public/municipalities/131067/plans/999999/years/2020").await, 404).await;
    let not_a_city =
        assert_problem(public(&app, "/api/v1/public/municipalities/999999/plans/1/years/2020").await, 404).await;
    for problem in [&missing, &not_a_city] {
        assert_eq!((&problem["type"], &problem["title"]), (&unpublished["type"], &unpublished["title"]));
    }
    assert_problem(public(&app, &format!("/public/131067/plans/{}/2020", other.plan)).await, 404).await;

    // Another municipality's 本部 cannot publish 板橋区's plan: it does not exist for it.
    let foreign = other.hq.clone();
    let response = app.post(&format!("/plans/{plan}/publications"), &foreign, &json!({"fiscal_year": 2020})).await;
    let foreign_problem = assert_problem(response, 404).await;
    let nowhere = assert_problem(publish(&app, 999_999, json!({"fiscal_year": 2020})).await, 404).await;
    assert_eq!(foreign_problem["title"], nowhere["title"]);
    assert_eq!(json(public(&app, "/api/v1/public/catalog").await).await["@graph"][0]["dcat:dataset"], json!([]));
}

async fn the_demo_publishes_its_sample_year_flagged_as_sample(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let listed = json(app.get(&format!("/plans/{plan}/publications"), &app.hq).await).await;
    assert_eq!((listed["total"].as_i64(), listed["items"][0]["fiscal_year"].as_i64()), (Some(1), Some(2020)));
    let data_path = listed["items"][0]["url"].as_str().unwrap().rsplit_once("/versions/").unwrap().0.to_owned();
    let year = json(public(&app, &data_path).await).await;
    assert_eq!(year["contains_sample"], true);
    let rows = year["report"]["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|row| row["is_sample"] == true), "{year}");
    let page = public(&app, year["distributions"]["html"].as_str().unwrap()).await.text().await.unwrap();
    assert!(page.contains("サンプル:") && page.contains("実際の数値ではありません"), "{page}");
    // Sample figures are never open data: the CSV is its header alone.
    let csv = public(&app, &format!("{data_path}?format=csv")).await.text().await.unwrap();
    assert_eq!(csv.trim_end().lines().count(), 1, "{csv}");
}
