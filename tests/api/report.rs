//! The 進捗状況報告書: the year's report as print-ready HTML and as xlsx, with every measure, only
//! approved words and figures, sample data marked, nothing internal; scoped to the municipality.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::municipalities::other_municipality;
use crate::on_both_backends;

on_both_backends!(
    the_html_report_shows_every_measure_and_only_approved_words,
    the_workbook_holds_the_same_content_under_a_japanese_file_name,
    other_municipalities_and_bad_years_are_refused,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn demo_with_samples(app: &TestApp) -> i64 {
    let outcome = municipal_kpi::demo::ensure_loaded(&app.db, true).unwrap();
    i64::from(outcome.plan_id())
}

/// The names of the measures the plan evaluates in the year.
async fn measure_names(app: &TestApp, plan: i64, year: i32) -> Vec<String> {
    let evaluation = json(app.get(&format!("/plans/{plan}/evaluation?fiscal_year={year}"), &app.viewer).await).await;
    evaluation["measures"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect()
}

/// An FY2020 measure whose evaluation by `department` is still missing.
async fn open_evaluation(app: &TestApp, plan: i64, department: i64) -> i64 {
    let listing =
        json(app.get(&format!("/plans/{plan}/measure-evaluations?fiscal_year=2020&limit=500"), &app.viewer).await)
            .await;
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| {
            m["departments"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["department_id"] == department && d["submission"] == "missing")
                .then(|| m["measure_id"].as_i64())?
        })
        .expect("an open FY2020 evaluation in the demo")
}

async fn html_of(app: &TestApp, plan: i64, year: i32) -> String {
    let response = app.get(&format!("/plans/{plan}/report?fiscal_year={year}"), &app.viewer).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("style-src 'unsafe-inline'"), "{policy}");
    assert!(!policy.contains("script-src"), "{policy}");
    response.text().await.unwrap()
}

async fn the_html_report_shows_every_measure_and_only_approved_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = demo_with_samples(&app);
    // A department writes its evaluation; the 本部 returns it with a comment: neither is shown.
    let it = app.department_user("it-promotion", "IT推進課");
    let department = i64::from(it.department_id.unwrap());
    let measure = open_evaluation(&app, plan, department).await;
    let path = format!("/measures/{measure}/evaluations/2020/departments/{department}");
    let draft = json!({"work_done": "未承認の下書きテキスト", "roadmap_progress": "on_schedule", "self_grade": "B",
        "issues": "", "next_steps": ""});
    assert_eq!(app.put(&path, &it, &draft, None).await.status(), 201);
    let returned = app
        .post(&format!("{path}/review"), &app.hq, &json!({"action": "return", "comment": "内部向けの差戻しコメント"}))
        .await;
    assert!(returned.status().is_success());

    let html = html_of(&app, plan, 2020).await;
    for name in measure_names(&app, plan, 2020).await {
        let escaped = name.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert!(html.contains(&escaped), "measure {name} is missing");
    }
    assert!(html.contains("令和2(2020)年度 進捗状況報告書"));
    assert!(html.contains("目次") && html.contains("<svg") && html.contains("@page"));
    assert!(html.contains("サンプルデータが含まれています"), "the demo's sample data is announced");
    assert!(html.contains(r#"<span class="sample">サンプル</span>"#));
    for internal in ["未承認の下書きテキスト", "内部向けの差戻しコメント", app.hq.username.as_str(), "<script"]
    {
        assert!(!html.contains(internal), "{internal} is in the report");
    }
    // An approved evaluation is shown with its words.
    let approved = json!({"work_done": "承認された取組実績の本文", "roadmap_progress": "on_schedule", "self_grade": "A",
        "issues": "", "next_steps": ""});
    let etag = app.get(&path, &app.hq).await.headers()["etag"].to_str().unwrap().to_owned();
    assert!(app.put(&path, &it, &approved, Some(&etag)).await.status().is_success());
    assert!(app.post(&format!("{path}/review"), &app.hq, &json!({"action": "approve"})).await.status().is_success());
    let html = html_of(&app, plan, 2020).await;
    assert!(html.contains("承認された取組実績の本文"));
    assert!(!html.contains("内部向けの差戻しコメント"));
}

fn sheet_text(workbook: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> String {
    let range = workbook.worksheet_range(name).unwrap();
    range.rows().flat_map(|row| row.iter().map(ToString::to_string)).collect::<Vec<_>>().join("\t")
}

async fn the_workbook_holds_the_same_content_under_a_japanese_file_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = demo_with_samples(&app);
    let by_format = app.get(&format!("/plans/{plan}/report?fiscal_year=2019&format=xlsx"), &app.viewer).await;
    assert_eq!(by_format.status(), 200);
    assert_eq!(by_format.headers()["content-type"], XLSX);
    let disposition = by_format.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains(&format!("filename=\"progress-report-{plan}-2019.xlsx\"")), "{disposition}");
    // 進捗状況報告書 in UTF-8, percent-encoded (RFC 5987).
    assert!(disposition.contains("filename*=UTF-8''%E9%80%B2%E6%8D%97"), "{disposition}");
    let bytes = by_format.bytes().await.unwrap().to_vec();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    assert_eq!(workbook.sheet_names(), ["指標", "施策評価", "本部評価"]);
    let assessments = sheet_text(&mut workbook, "本部評価");
    for name in measure_names(&app, plan, 2019).await {
        assert!(assessments.contains(&name), "measure {name} is missing from 本部評価");
    }
    assert!(assessments.contains("サンプル"));
    let indicators = sheet_text(&mut workbook, "指標");
    assert!(indicators.contains("令和元(2019)年度"), "the title names the year");
    assert!(!sheet_text(&mut workbook, "施策評価").is_empty());

    let by_accept = app
        .client
        .get(app.api(&format!("/plans/{plan}/report?fiscal_year=2019")))
        .bearer_auth(&app.viewer.token)
        .header("Accept", XLSX)
        .send()
        .await
        .unwrap();
    assert_eq!(by_accept.headers()["content-type"], XLSX);
}

async fn other_municipalities_and_bad_years_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = demo_with_samples(&app);
    let other = other_municipality(&app).await;
    let ours = format!("/plans/{plan}/report?fiscal_year=2020");
    assert_problem(app.get(&ours, &other.hq).await, 404).await;
    assert_problem(app.get(&format!("/plans/{}/report?fiscal_year=2020", other.plan), &app.viewer).await, 404).await;
    assert_problem(app.get(&format!("/plans/{}/report?fiscal_year=2020", 999_999), &app.viewer).await, 404).await;
    let outside =
        assert_problem(app.get(&format!("/plans/{plan}/report?fiscal_year=2035"), &app.viewer).await, 422).await;
    assert_eq!(outside["errors"][0]["field"], "fiscal_year", "{outside}");
    assert_problem(app.get(&format!("/plans/{plan}/report?fiscal_year=1900"), &app.viewer).await, 422).await;
    let missing: Value = assert_problem(app.get(&format!("/plans/{plan}/report"), &app.viewer).await, 422).await;
    assert!(missing.to_string().contains("fiscal_year"), "{missing}");
    assert_problem(app.get(&format!("{ours}&format=pdf"), &app.viewer).await, 422).await;
    let json_only = app
        .client
        .get(app.api(&ours))
        .bearer_auth(&app.viewer.token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_problem(json_only, 406).await;
    let anonymous = app.client.get(app.api(&ours)).send().await.unwrap();
    assert_problem(anonymous, 401).await;
}
