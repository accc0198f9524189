//! Caveats that travel with the data (issue 22): plans, phases, goals, measures, 所管課 links and
//! references carry a reading note; a reference names its source and issue date; a 見直し区分 no
//! source states is left empty. Through the plan file (the demo), the API and the 進捗管理表 sheets.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    the_demo_plans_carry_their_readings_of_the_seeds,
    reading_notes_are_written_and_removed_through_the_api,
    owner_reading_notes_are_added_changed_and_audited,
    the_sheets_carry_reading_notes_that_an_import_never_writes,
    how_a_plan_was_made_is_kept_with_its_sources,
);

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    json(app.get(path, &app.viewer).await).await["items"].as_array().unwrap().clone()
}

fn note(record: &Value) -> &str {
    record["reading_note"].as_str().unwrap_or_default()
}

async fn the_demo_plans_carry_their_readings_of_the_seeds(backend: Backend) {
    let app = spawn_app(backend).await;
    app.load_demo();
    let plans = items(&app, "/plans?limit=500").await;
    let plan = plans.iter().find(|p| p["code"] == "itabashi-dx-2025").unwrap();
    let plan_id = plan["id"].as_i64().unwrap();
    assert!(note(plan).contains("renamed_fiscal_year"), "{plan}");
    assert_eq!(plan["baseline_fiscal_year"], Value::Null, "no seed gives it");

    let measures = items(&app, &format!("/plans/{plan_id}/measures")).await;
    assert_eq!(measures.len(), 3);
    for measure in &measures {
        assert_eq!(measure["review_category"], Value::Null, "{measure}");
        assert_eq!(measure["review_category_label"], Value::Null, "{measure}");
        // The assumed 所管課 is said on the link it qualifies.
        assert!(note(&measure["owners"][0]).contains("所管課を記した資料はない"), "{measure}");
        assert_eq!(measure["owners"][0]["department_name"], "IT推進課");
    }
    assert!(note(&measures[2]["owners"][0]).contains("経営改革推進課"), "{}", measures[2]);

    let visions = items(&app, &format!("/plans/{plan_id}/goals?kind=ICT活用ビジョン")).await;
    assert!(visions.iter().all(|vision| note(vision).contains("仮の名称")), "{visions:?}");

    let references = items(&app, &format!("/plans/{plan_id}/references?limit=100")).await;
    let procedure_act = references.iter().find(|r| r["title"] == "デジタル手続法").unwrap();
    assert_eq!(procedure_act["issued"], "2019-05");
    assert_eq!(procedure_act["source"], "seed 000 2");
    let basic_act = references.iter().find(|r| r["title"] == "官民データ活用推進基本法").unwrap();
    assert_eq!(basic_act["issued"], "2016-12");
    assert!(note(basic_act).contains("平成28年12月14日"));
    for title in
        ["東京都ICT戦略", "TOKYO Data Highway 基本戦略", "世界最先端IT国家創造宣言・官民データ活用推進基本計画"]
    {
        assert!(references.iter().any(|r| r["title"] == title), "{title}");
    }
}

async fn reading_notes_are_written_and_removed_through_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.department_user("it-promotion", "IT推進課");
    let plan = created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"code": "dx", "name": "DX推進計画", "start_fiscal_year": 2021, "end_fiscal_year": 2025,
                    "reading_note": "名称変更の年度は推定",
                    "phases": [{"name": "後期実施計画", "start_fiscal_year": 2024, "end_fiscal_year": 2025,
                                "reading_note": "期間は seed 000 3"}]}),
        )
        .await,
    )
    .await;
    let plan_id = plan["id"].as_i64().unwrap();
    assert_eq!(plan["reading_note"], "名称変更の年度は推定");
    assert_eq!(plan["phases"][0]["reading_note"], "期間は seed 000 3");

    let patched = json(app.patch(&format!("/plans/{plan_id}"), &app.hq, &json!({"reading_note": null})).await).await;
    assert_eq!(patched["reading_note"], Value::Null, "{patched}");
    assert_eq!(patched["phases"][0]["reading_note"], "期間は seed 000 3", "a PATCH without phases keeps them");

    let goal = created(
        app.post(
            &format!("/plans/{plan_id}/goals"),
            &app.hq,
            &json!({"number": 1, "name": "ICT活用ビジョン1", "kind": "ICT活用ビジョン", "reading_note": "仮の名称"}),
        )
        .await,
    )
    .await;
    assert_eq!(goal["reading_note"], "仮の名称");

    let measures = format!("/plans/{plan_id}/measures");
    let measure = created(
        app.post(
            &measures,
            &app.hq,
            &json!({"number": 1, "name": "テレワーク環境の整備", "owner_department_ids": [owner.department_id],
                    "reading_note": "所管課は仮定"}),
        )
        .await,
    )
    .await;
    assert_eq!(measure["review_category"], Value::Null, "left out: not stated");
    assert_eq!(measure["reading_note"], "所管課は仮定");
    let measure_id = measure["id"].as_i64().unwrap();
    let categorised = json(
        app.patch(
            &format!("/measures/{measure_id}"),
            &app.hq,
            &json!({"review_category": "継続", "reading_note": null}),
        )
        .await,
    )
    .await;
    assert_eq!(categorised["review_category_label"], "継続", "{categorised}");
    assert_eq!(categorised["reading_note"], Value::Null);
    let uncategorised =
        json(app.patch(&format!("/measures/{measure_id}"), &app.hq, &json!({"review_category": null})).await).await;
    assert_eq!(uncategorised["review_category"], Value::Null, "{uncategorised}");

    let references = format!("/plans/{plan_id}/references");
    let undated = app
        .post(
            &references,
            &app.hq,
            &json!({"kind": "national_policy", "title": "東京都ICT戦略", "issued": "平成29年12月"}),
        )
        .await;
    assert_eq!(assert_problem(undated, 422).await["errors"][0]["field"], "issued");
    let reference = created(
        app.post(
            &references,
            &app.hq,
            &json!({"kind": "national_policy", "title": "東京都ICT戦略", "issued": "2017-12", "source": "seed 000 2",
                    "reading_note": "月までしか記されていない"}),
        )
        .await,
    )
    .await;
    assert_eq!(reference["issued"], "2017-12");
    assert_eq!(reference["source"], "seed 000 2");
    assert_eq!(reference["reading_note"], "月までしか記されていない");
}

async fn owner_reading_notes_are_added_changed_and_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let it = app.department_user("it-promotion", "IT推進課");
    let reform = app.department_user("management-reform", "経営改革推進課");
    let registry = app.department_user("family-registry", "戸籍住民課");
    let plan = created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"code": "dx", "name": "DX推進計画", "start_fiscal_year": 2021, "end_fiscal_year": 2025}),
        )
        .await,
    )
    .await;
    let measure = created(
        app.post(
            &format!("/plans/{}/measures", plan["id"]),
            &app.hq,
            &json!({"number": 3, "name": "RPAの活用強化", "owner_department_ids": [it.department_id]}),
        )
        .await,
    )
    .await;
    let measure_id = measure["id"].as_i64().unwrap();
    assert_eq!(measure["owners"][0]["reading_note"], Value::Null, "a named 所管課 carries no note");

    let added = json(
        app.post(
            &format!("/measures/{measure_id}/owners"),
            &app.hq,
            &json!({"department_id": reform.department_id, "reading_note": "2020計画 No.40 の所管課を引き継ぐと仮定"}),
        )
        .await,
    )
    .await;
    assert_eq!(added["owners"][1]["reading_note"], "2020計画 No.40 の所管課を引き継ぐと仮定", "{added}");

    let link = format!("/measures/{measure_id}/owners/{}", reform.department_id.unwrap());
    let changed = json(
        app.patch(&link, &app.hq, &json!({"reading_note": "所管課を記した資料はない", "reason": "根拠の訂正"})).await,
    )
    .await;
    assert_eq!(changed["owners"][1]["reading_note"], "所管課を記した資料はない", "{changed}");
    assert_eq!(changed["owners"][0]["reading_note"], Value::Null, "only the named link changes");
    let kept = json(app.patch(&link, &app.hq, &json!({"reason": "変更なし"})).await).await;
    assert_eq!(kept["owners"][1]["reading_note"], "所管課を記した資料はない", "leaving the note out keeps it");

    assert_problem(app.patch(&link, &app.hq, &json!({"reading_note": "x".repeat(2001)})).await, 422).await;
    assert_eq!(app.patch(&link, &it, &json!({"reading_note": "所管課"})).await.status(), 403, "hq only");
    let not_an_owner = format!("/measures/{measure_id}/owners/{}", registry.department_id.unwrap());
    assert_problem(app.patch(&not_an_owner, &app.hq, &json!({"reading_note": "所管課"})).await, 404).await;

    let removed = json(app.patch(&link, &app.hq, &json!({"reading_note": null})).await).await;
    assert_eq!(removed["owners"][1]["reading_note"], Value::Null, "{removed}");

    let audit = json(app.get(&format!("/audit?entity_type=measure&entity_id={measure_id}"), &app.hq).await).await;
    let changes: Vec<&Value> =
        audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "change_owner_reading_note").collect();
    assert_eq!(changes.len(), 3, "{audit}");
    assert_eq!(changes[0]["old_value"]["owners"][1]["reading_note"], "2020計画 No.40 の所管課を引き継ぐと仮定");
    assert_eq!(changes[0]["new_value"]["owners"][1]["reading_note"], "所管課を記した資料はない");
    assert_eq!(changes[0]["reason"], "根拠の訂正");
    assert_eq!(changes[2]["new_value"]["owners"][1]["reading_note"], Value::Null);
}

/// The CSV 進捗管理表 of the demo's 2025 plan: each row's 注記 holds the notes of its measure, its
/// 所管課 link and its indicator; a sheet sent back with that column imports, and leaves notes alone.
async fn the_sheets_carry_reading_notes_that_an_import_never_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.load_demo();
    let plans = items(&app, "/plans?limit=500").await;
    let plan_id = plans.iter().find(|p| p["code"] == "itabashi-dx-2025").unwrap()["id"].as_i64().unwrap();
    let url = app.api(&format!("/plans/{plan_id}/evaluation?fiscal_year=2021&format=csv"));
    let bytes = app.client.get(&url).bearer_auth(&app.hq.token).send().await.unwrap().bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let online = rows.iter().find(|r| &r[column("施策No.")] == "2").expect("measure 2's indicator");
    let notes = &online[column("注記")];
    assert!(notes.contains("所管課(IT推進課): 所管課を記した資料はない"), "{notes}");
    assert!(notes.contains("施策: 見直し区分を記した資料はなく"), "{notes}");
    assert!(notes.contains("指標: これまでの9手続き"), "{notes}");

    // The workbook: the plan's note above the table, the same 注記 on the row.
    let xlsx =
        app.client.get(url.replace("format=csv", "format=xlsx")).bearer_auth(&app.hq.token).send().await.unwrap();
    use calamine::{Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.bytes().await.unwrap().to_vec())).unwrap();
    let sheet = workbook.worksheet_range("進捗管理表").unwrap();
    let plan_note = sheet.get((2, 0)).map(ToString::to_string).unwrap_or_default();
    assert!(plan_note.starts_with("注記(計画): ") && plan_note.contains("renamed_fiscal_year"), "{plan_note}");
    let header: Vec<String> =
        sheet.rows().find(|r| r.iter().any(|c| *c == "指標ID")).unwrap().iter().map(ToString::to_string).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = sheet
        .rows()
        .find(|r| r.get(at("指標ID")).map(ToString::to_string).as_deref() == Some(&online[column("指標ID")]))
        .unwrap();
    assert_eq!(row[at("注記")].to_string(), notes);

    let indicator_id = &online[column("指標ID")];
    let before = json(app.get(&format!("/indicators/{indicator_id}"), &app.hq).await).await;
    let sheet = format!("指標ID,年度,実績,注記\r\n{indicator_id},2021,12,シートで書き換えた注記\r\n");
    let it = app.department_user("it-promotion", "IT推進課");
    let response = app
        .client
        .post(app.api(&format!("/plans/{plan_id}/actuals/import?dry_run=false")))
        .bearer_auth(&it.token)
        .header("Content-Type", "text/csv")
        .body(sheet.into_bytes())
        .send()
        .await
        .unwrap();
    let report = json(response).await;
    assert_eq!(report["rows"][0]["action"], "create", "{report}");
    let after = json(app.get(&format!("/indicators/{indicator_id}"), &app.hq).await).await;
    assert_eq!(after["reading_note"], before["reading_note"], "an import never writes a reading note");
    assert!(note(&after).contains("これまでの9手続き"));
}

/// The demo's 2025 plan carries its 検討・決定体制, its milestones and its 後期 purpose with their
/// seeds; a PUT replaces them as a whole, a refused date changes nothing, and the old list is audited.
async fn how_a_plan_was_made_is_kept_with_its_sources(backend: Backend) {
    let app = spawn_app(backend).await;
    app.load_demo();
    let plans = items(&app, "/plans?limit=500").await;
    let plan = plans.iter().find(|p| p["code"] == "itabashi-dx-2025").unwrap();
    let plan_id = plan["id"].as_i64().unwrap();
    let later = plan["phases"].as_array().unwrap().iter().find(|p| p["name"] == "後期実施計画").unwrap();
    assert!(later["purpose"].as_str().unwrap().contains("新サービス導入"), "{later}");
    assert_eq!(later["purpose_source"], "seed 002 1");

    let path = format!("/plans/{plan_id}/making");
    let making = json(app.get(&path, &app.viewer).await).await;
    let bodies: Vec<&str> =
        making["governance"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["情報化推進部会", "ICT推進・活用本部(庁議)", "議会報告"]);
    let report = making["milestones"].as_array().unwrap().iter().find(|m| m["what"] == "策定報告").unwrap();
    assert_eq!(
        (&report["date"], &report["planned"], &report["body"]),
        (&json!("2024-02"), &json!(true), &json!("企画総務委員会"))
    );
    assert_eq!(report["source"], "seed 002 7");

    let made_up_day =
        json!({"milestones": [{"what": "策定", "date": "2021"}, {"what": "策定報告", "date": "令和6年2月"}]});
    let refused = assert_problem(app.put(&path, &app.hq, &made_up_day, None).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "milestones[1].date", "{refused}");
    assert_eq!(json(app.get(&path, &app.viewer).await).await, making, "a refused write changes nothing");
    assert_eq!(app.put(&path, &app.viewer, &json!({"milestones": []}), None).await.status(), 403, "hq only");

    let replaced = json(
        app.put(
            &path,
            &app.hq,
            &json!({"governance": making["governance"], "milestones": [{"what": "策定", "date": "2021", "source": "seed 002"}],
                    "reason": "予定を除く"}),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(replaced["milestones"].as_array().unwrap().len(), 1, "{replaced}");
    assert_eq!(replaced["governance"], making["governance"]);
    let audit =
        json(app.get(&format!("/audit?entity_type=plan&entity_id={plan_id}&action=replace_making"), &app.hq).await)
            .await;
    let entry = audit["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["old_value"]["milestones"], making["milestones"], "{entry}");
    assert_eq!(entry["reason"], "予定を除く");
}
