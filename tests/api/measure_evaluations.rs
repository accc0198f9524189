//! 施策評価 (measure evaluations): each owning department evaluates a measure's year and the 本部
//! reviews it as it reviews actuals; the 本部 records its assessment, 方向性 and the plan revisions
//! it led to, visible from both sides; every version kept, `as_of` reproducing them; scoped to
//! the owning departments and the municipality.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::municipalities::{Other, other_municipality};
use crate::on_both_backends;

on_both_backends!(
    departments_evaluate_only_the_measures_they_own,
    bad_evaluations_are_refused_and_change_nothing,
    overwriting_needs_a_current_if_match,
    the_review_cycle_is_kept_and_as_of_reproduces_it,
    the_assessment_decides_a_direction_and_links_the_revisions_it_led_to,
    a_plan_chooses_its_own_directions,
    the_plan_evaluation_and_collection_status_carry_them,
    demo_samples_are_flagged_and_leave_each_department_a_measure_open,
    departments_import_their_evaluations_from_the_exported_table,
);

/// The demo plan's measure of this number.
async fn measure(app: &TestApp, plan_id: i32, number: i64) -> Value {
    let page = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.hq).await).await;
    page["items"].as_array().unwrap().iter().find(|m| m["number"] == number).unwrap().clone()
}

fn department_path(measure: &Value, year: i32, department: i64) -> String {
    format!("/measures/{}/evaluations/{year}/departments/{department}", measure["id"])
}

fn department_of(user: &TestUser) -> i64 {
    i64::from(user.department_id.unwrap())
}

fn report(work_done: &str) -> Value {
    json!({"work_done": work_done, "roadmap_progress": "on_schedule", "self_grade": "B",
        "issues": "窓口の混雑", "next_steps": "予約制の拡大"})
}

async fn audit_total(app: &TestApp) -> Value {
    json(app.get("/audit?limit=1", &app.hq).await).await["total"].clone()
}

async fn departments_evaluate_only_the_measures_they_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let koseki = app.department_user("family-registry", "戸籍住民課");
    let kouhou = app.department_user("public-relations", "広聴広報課");
    let mynumber = measure(&app, plan, 6).await; // IT推進課 (lead) and 戸籍住民課 (from 2018)

    let own = app
        .put(&department_path(&mynumber, 2020, department_of(&koseki)), &koseki, &report("出張申請受付"), None)
        .await;
    assert_eq!(own.status(), 201, "a co-owner evaluates its part");
    let created = json(own).await;
    assert_eq!((created["status"].as_str(), created["version"].as_i64()), (Some("submitted"), Some(1)));
    assert_eq!(created["roadmap_progress_label"], "予定どおり");
    assert_eq!(created["fiscal_year_label"], "令和2(2020)年度");
    let lead =
        app.put(&department_path(&mynumber, 2020, department_of(&it)), &it, &report("情報連携の運用"), None).await;
    assert_eq!(lead.status(), 201, "the lead owner too");

    // Not for another department, nor for a measure or a year the department does not own.
    let problem = assert_problem(
        app.put(&department_path(&mynumber, 2019, department_of(&it)), &koseki, &report("代理"), None).await,
        403,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().starts_with("ほかの所管課の施策評価は提出できません"), "{problem}");
    let problem = assert_problem(
        app.put(&department_path(&mynumber, 2020, department_of(&kouhou)), &kouhou, &report("x"), None).await,
        403,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("No.6"), "{problem}");
    assert_problem(
        app.put(&department_path(&mynumber, 2017, department_of(&koseki)), &koseki, &report("x"), None).await,
        403,
    )
    .await;
    for user in [&app.viewer, &app.admin] {
        assert_problem(
            app.put(&department_path(&mynumber, 2019, department_of(&it)), user, &report("x"), None).await,
            403,
        )
        .await;
    }

    // hq writes on an owning department's behalf, never for a department that does not own it.
    let by_hq =
        app.put(&department_path(&mynumber, 2019, department_of(&it)), &app.hq, &report("本部が代理入力"), None).await;
    assert_eq!(by_hq.status(), 201);
    let problem = assert_problem(
        app.put(&department_path(&mynumber, 2019, department_of(&kouhou)), &app.hq, &report("x"), None).await,
        422,
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "department_id");
    let history =
        json(app.get(&format!("{}/history", department_path(&mynumber, 2019, department_of(&it))), &app.viewer).await)
            .await["items"]
            .clone();
    assert_eq!(history[0]["actor_username"], app.hq.username.as_str());
    assert_eq!(history[0]["actor_department_id"], Value::Null, "hq acted on the department's behalf");

    // The measure shows every owner, lead first, with what each has submitted.
    let year = json(app.get(&format!("/measures/{}/evaluations/2020", mynumber["id"]), &kouhou).await).await;
    let departments: Vec<(&str, bool, &str)> = year["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (d["department_name"].as_str().unwrap(), d["is_lead"].as_bool().unwrap(), d["submission"].as_str().unwrap())
        })
        .collect();
    assert_eq!(departments, vec![("IT推進課", true, "submitted"), ("戸籍住民課", false, "submitted")]);
    assert_eq!(year["grading_scale"][0]["description"], "進捗率 100% 以上");
    assert_eq!(year["direction_options"][0], "継続");

    // Another municipality's measure is exactly as missing as one that does not exist.
    let Other { measure: theirs, hq: their_hq, department: their_department, .. } = other_municipality(&app).await;
    let missing_measure = 99_999;
    let path = |id: i64| format!("/measures/{id}/evaluations/2020/departments/{their_department}");
    let problem = |response: reqwest::Response, id: i64| async move {
        let mut body = assert_problem(response, 404).await;
        body.as_object_mut().unwrap().remove("instance");
        serde_json::to_string(&body).unwrap().replace(&id.to_string(), "<id>")
    };
    for request in ["GET", "PUT", "YEAR"] {
        let send = |id: i64| {
            let app = &app;
            async move {
                match request {
                    "GET" => app.get(&path(id), &app.hq).await,
                    "PUT" => app.put(&path(id), &app.hq, &report("x"), None).await,
                    _ => app.get(&format!("/measures/{id}/evaluations/2020"), &app.hq).await,
                }
            }
        };
        assert_eq!(
            problem(send(theirs).await, theirs).await,
            problem(send(missing_measure).await, missing_measure).await
        );
    }
    let their_own = app.put(&path(theirs), &their_hq, &report("台東区の取組"), None).await;
    assert_eq!(their_own.status(), 201, "their hq evaluates their measure");
}

async fn bad_evaluations_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = measure(&app, plan, 1).await;
    let own = |year: i32| department_path(&open_data, year, department_of(&it));
    let audit_before = audit_total(&app).await;
    let long = "区".repeat(2001);
    let cases: Vec<(i32, Value, &str)> = vec![
        (2019, json!({"roadmap_progress": "on_schedule", "self_grade": "B"}), "work_done"),
        (2019, json!({"work_done": "  ", "roadmap_progress": "on_schedule", "self_grade": "B"}), "work_done"),
        (2019, json!({"work_done": "実施", "roadmap_progress": "delayed", "self_grade": "B"}), "progress_reason"),
        (
            2019,
            json!({"work_done": "実施", "roadmap_progress": "未着手", "self_grade": "C", "progress_reason": " "}),
            "progress_reason",
        ),
        (2019, json!({"work_done": "実施", "roadmap_progress": "on_schedule", "self_grade": "—"}), "self_grade"),
        (2019, json!({"work_done": "実施", "roadmap_progress": "on_schedule", "self_grade": "E"}), "self_grade"),
        (2019, json!({"work_done": "実施", "roadmap_progress": "soon", "self_grade": "A"}), "roadmap_progress"),
        (2019, json!({"work_done": long, "roadmap_progress": "on_schedule", "self_grade": "A"}), "work_done"),
        (
            2019,
            json!({"work_done": "実施", "roadmap_progress": "on_schedule", "self_grade": "A", "issues": "a\u{0}b"}),
            "issues",
        ),
        (2019, json!({"work_done": "実施", "roadmap_progress": "on_schedule", "self_grade": "A", "score": 1}), "score"),
        (2015, report("実施"), "fiscal_year"),
        (2021, report("実施"), "fiscal_year"),
    ];
    for (year, body, field) in cases {
        let problem = assert_problem(app.put(&own(year), &it, &body, None).await, 422).await;
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.iter().any(|f| f.contains(field)), "{body}: {problem}");
    }
    let reason = assert_problem(
        app.put(&own(2019), &it, &json!({"work_done": "実施", "roadmap_progress": "delayed", "self_grade": "B"}), None)
            .await,
        422,
    )
    .await;
    assert!(
        reason["errors"][0]["message"].as_str().unwrap().starts_with("進捗が「遅れ」の場合は理由を入力してください")
    );
    assert_eq!(audit_total(&app).await, audit_before, "nothing was written");
    assert_problem(app.get(&own(2019), &it).await, 404).await;
    // Accepted with the Japanese names of the progress, texts trimmed.
    let accepted = app
        .put(
            &own(2019),
            &it,
            &json!({"work_done": " 公開データを追加 ", "roadmap_progress": "前倒し", "progress_reason": "庁内調整が早く済んだ",
                "self_grade": "A"}),
            None,
        )
        .await;
    assert_eq!(accepted.status(), 201);
    let accepted = json(accepted).await;
    assert_eq!(
        (accepted["work_done"].as_str(), accepted["roadmap_progress"].as_str()),
        (Some("公開データを追加"), Some("ahead"))
    );
}

async fn overwriting_needs_a_current_if_match(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = measure(&app, plan, 1).await;
    let path = department_path(&open_data, 2019, department_of(&it));
    assert_problem(app.put(&path, &it, &report("初回"), Some("\"measure-evaluation-1-v1\"")).await, 412).await;
    let first = app.put(&path, &it, &report("初回"), None).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("\"measure-evaluation-") && etag.ends_with("-v1\""), "{etag}");
    let problem = assert_problem(app.put(&path, &it, &report("二回目"), None).await, 428).await;
    assert!(problem["detail"].as_str().unwrap().contains(&format!("GET /api/v1{path}")), "{problem}");
    assert_problem(app.put(&path, &it, &report("二回目"), Some("\"garbage\"")).await, 412).await;
    let corrected = app.put(&path, &it, &report("二回目"), Some(&etag)).await;
    assert_eq!(corrected.status(), 200);
    assert_ne!(corrected.headers()["etag"].to_str().unwrap(), etag);
    assert_problem(app.put(&path, &it, &report("三回目"), Some(&etag)).await, 412).await;
    let current = json(app.get(&path, &app.viewer).await).await;
    assert_eq!((current["work_done"].as_str(), current["version"].as_i64()), (Some("二回目"), Some(2)));
    let events: Vec<Value> = json(app.get(&format!("{path}/history"), &app.viewer).await).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].clone())
        .collect();
    assert_eq!(events, vec![json!("submitted"), json!("corrected")]);
}

async fn the_review_cycle_is_kept_and_as_of_reproduces_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let koseki = app.department_user("family-registry", "戸籍住民課");
    let mynumber = measure(&app, plan, 6).await;
    let path = department_path(&mynumber, 2020, department_of(&koseki));
    let review = format!("{path}/review");
    assert_eq!(app.put(&path, &koseki, &report("第1版"), None).await.status(), 201);
    let first_version =
        json(app.get(&format!("{path}/history"), &app.viewer).await).await["items"][0]["recorded_at"].clone();

    assert_problem(app.post(&review, &koseki, &json!({"action": "approve"})).await, 403).await;
    let problem = assert_problem(app.post(&review, &app.hq, &json!({"action": "return"})).await, 422).await;
    assert_eq!(problem["errors"][0]["field"], "comment");
    let returned =
        app.post(&review, &app.hq, &json!({"action": "return", "comment": "効果を数字で示してください"})).await;
    let returned_etag = returned.headers()["etag"].to_str().unwrap().to_owned();
    let returned = json(returned).await;
    assert_eq!(
        (returned["status"].as_str(), returned["review_comment"].as_str()),
        (Some("returned"), Some("効果を数字で示してください"))
    );
    let resubmitted = app.put(&path, &koseki, &report("第2版: 交付件数 18万件"), Some(&returned_etag)).await;
    assert_eq!(json(resubmitted).await["status"], "submitted");
    let approved = app.post(&review, &app.hq, &json!({"action": "approve"})).await;
    let approved_etag = approved.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(json(approved).await["status"], "approved");
    let closed = assert_problem(app.put(&path, &koseki, &report("第3版"), Some(&approved_etag)).await, 409).await;
    assert!(closed["detail"].as_str().unwrap().starts_with("承認済みの施策評価は"), "{closed}");
    let twice = assert_problem(app.post(&review, &app.hq, &json!({"action": "approve"})).await, 409).await;
    assert!(twice["detail"].as_str().unwrap().contains("cannot approve a measure evaluation that is approved"));
    let reopened = app.post(&review, &app.hq, &json!({"action": "reopen", "comment": "決算確定値で再報告"})).await;
    assert_eq!(json(reopened).await["status"], "returned");

    let history = json(app.get(&format!("{path}/history"), &app.viewer).await).await;
    let events: Vec<&str> = history["items"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["submitted", "returned", "resubmitted", "approved", "reopened"]);
    assert_eq!(history["items"][1]["comment"], "効果を数字で示してください");

    // As it stood after the first version: submitted, its first text.
    let as_of = first_version.as_str().unwrap();
    let then = json(app.get(&format!("{path}?as_of={}", urlencode(as_of)), &app.viewer).await).await;
    assert_eq!((then["version"].as_i64(), then["work_done"].as_str()), (Some(1), Some("第1版")));
    let year = json(
        app.get(&format!("/measures/{}/evaluations/2020?as_of={}", mynumber["id"], urlencode(as_of)), &app.viewer)
            .await,
    )
    .await;
    let koseki_slot =
        year["departments"].as_array().unwrap().iter().find(|d| d["department_id"] == department_of(&koseki)).unwrap();
    assert_eq!(koseki_slot["submission"], "submitted");
    let before = json(
        app.get(&format!("/measures/{}/evaluations/2020?as_of=2001-01-01T00:00:00Z", mynumber["id"]), &app.viewer)
            .await,
    )
    .await;
    assert!(before["departments"].as_array().unwrap().is_empty(), "the measure was not recorded yet: {before}");

    let audit = json(app.get("/audit?entity_type=measure_evaluation", &app.hq).await).await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["submitted", "returned", "resubmitted", "approved", "reopened"]);
    assert_eq!(audit["items"][2]["old_value"]["report"]["work_done"], "第1版");
    assert_eq!(audit["items"][2]["new_value"]["report"]["work_done"], "第2版: 交付件数 18万件");
}

fn urlencode(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

async fn the_assessment_decides_a_direction_and_links_the_revisions_it_led_to(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let open_data = measure(&app, plan, 1).await;
    let indicators =
        json(app.get(&format!("/measures/{}/indicators", open_data["id"]), &app.hq).await).await["items"].clone();
    let indicator =
        indicators.as_array().unwrap().iter().find(|i| i["number"] == 1 && i["status"] == "active").unwrap().clone();
    let revision = app
        .post(
            &format!("/indicators/{}/targets", indicator["id"]),
            &app.hq,
            &json!({"value": 250, "text": "250 データセット", "target_fiscal_year": 2020, "effective_from_fiscal_year": 2020,
                "reason": "施策評価を受けて上方修正"}),
        )
        .await;
    assert_eq!(revision.status(), 201);
    let revision = json(revision).await;
    let path = format!("/measures/{}/evaluations/2019/assessment", open_data["id"]);
    let decision = |direction: &str, links: Value| {
        json!({"hq_grade": "B", "hq_comment": "公開は進んだ", "direction": direction,
            "direction_reason": "利用者の要望が多い", "plan_links": links})
    };
    let link = json!([{"kind": "target_revision", "id": revision["id"]}]);

    let Other { indicator: theirs, .. } = other_municipality(&app).await;
    assert_problem(app.put(&path, &it, &decision("拡充", link.clone()), None).await, 403).await;
    let audit_before = audit_total(&app).await;
    let refused =
        assert_problem(app.put(&path, &app.hq, &json!({"hq_grade": "—", "direction": "現状維持"}), None).await, 422)
            .await;
    let fields: Vec<&str> =
        refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["hq_grade", "direction", "direction_reason"]);
    let not_completed = assert_problem(
        app.put(&path, &app.hq, &decision("完了", json!([{"kind": "measure_completed", "id": open_data["id"]}])), None)
            .await,
        422,
    )
    .await;
    assert_eq!(not_completed["errors"][0]["field"], "plan_links[0].id");
    // Another municipality's indicator reads exactly as a missing one.
    let message =
        |response: Value, id: i64| response["errors"][0]["message"].as_str().unwrap().replace(&id.to_string(), "<id>");
    let foreign = assert_problem(
        app.put(&path, &app.hq, &decision("拡充", json!([{"kind": "indicator_added", "id": theirs}])), None).await,
        422,
    )
    .await;
    let missing = assert_problem(
        app.put(&path, &app.hq, &decision("拡充", json!([{"kind": "indicator_added", "id": 99_999}])), None).await,
        422,
    )
    .await;
    assert_eq!(message(foreign, theirs), message(missing, 99_999));
    assert_eq!(audit_total(&app).await, audit_before, "nothing was written");

    let recorded = app.put(&path, &app.hq, &decision("拡充", link.clone()), None).await;
    assert_eq!(recorded.status(), 201);
    let etag = recorded.headers()["etag"].to_str().unwrap().to_owned();
    let recorded = json(recorded).await;
    assert_eq!(recorded["direction"], "拡充");
    let described = recorded["plan_links"][0]["description"].as_str().unwrap();
    assert!(described.starts_with("目標の見直し: No.1 指標1") && described.contains("250 データセット"), "{described}");
    assert_eq!(recorded["plan_links"][0]["indicator_id"], indicator["id"]);

    // From the revised side: the indicator and its measure name the assessment that led to it.
    for origins in [
        format!("/indicators/{}/revision-origins", indicator["id"]),
        format!("/measures/{}/revision-origins", open_data["id"]),
    ] {
        let page = json(app.get(&origins, &app.viewer).await).await;
        assert_eq!(page["total"], 1, "{origins}: {page}");
        assert_eq!(
            (page["items"][0]["fiscal_year"].as_i64(), page["items"][0]["direction"].as_str()),
            (Some(2019), Some("拡充"))
        );
        assert_eq!(page["items"][0]["revision"]["id"], revision["id"]);
    }

    // Revising needs the current version; every version is kept.
    assert_problem(app.put(&path, &app.hq, &decision("継続", json!([])), None).await, 428).await;
    let revised = app.put(&path, &app.hq, &decision("継続", json!([])), Some(&etag)).await;
    assert_eq!(revised.status(), 200);
    assert_problem(app.put(&path, &app.hq, &decision("縮小", json!([])), Some(&etag)).await, 412).await;
    let history = json(app.get(&format!("{path}/history"), &app.viewer).await).await;
    let directions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|e| e["direction"].as_str().unwrap()).collect();
    assert_eq!(directions, vec!["拡充", "継続"]);
    let page = json(app.get(&format!("/indicators/{}/revision-origins", indicator["id"]), &app.viewer).await).await;
    assert_eq!(page["total"], 0, "the current assessment no longer links it");
    let as_of = history["items"][0]["recorded_at"].as_str().unwrap();
    let then = json(app.get(&format!("{path}?as_of={}", urlencode(as_of)), &app.viewer).await).await;
    assert_eq!((then["direction"].as_str(), then["plan_links"].as_array().unwrap().len()), (Some("拡充"), 1));
    let audit = json(app.get("/audit?entity_type=measure_assessment", &app.hq).await).await;
    assert_eq!(audit["total"], 2);
    assert_eq!(audit["items"][1]["old_value"]["direction"], "拡充");
    assert_eq!(audit["items"][1]["new_value"]["direction"], "継続");
}

async fn a_plan_chooses_its_own_directions(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let directions = format!("/plans/{plan}/evaluation-directions");
    let defaults = json(app.get(&directions, &app.viewer).await).await;
    assert_eq!(defaults["directions"], json!(["継続", "拡充", "改善・見直し", "縮小", "完了", "廃止"]));
    assert_eq!(defaults["is_default"], true);
    let it = app.department_user("it-promotion", "IT推進課");
    assert_problem(app.put(&directions, &it, &json!({"directions": ["継続"]}), None).await, 403).await;
    let refused =
        assert_problem(app.put(&directions, &app.hq, &json!({"directions": ["継続", " 継続 ", ""]}), None).await, 422)
            .await;
    let fields: Vec<&str> =
        refused["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["directions[1]", "directions[2]"]);
    assert_problem(app.put(&directions, &app.hq, &json!({"directions": []}), None).await, 422).await;
    let set = json(app.put(&directions, &app.hq, &json!({"directions": ["継続", "統合", "廃止"]}), None).await).await;
    assert_eq!((set["directions"].clone(), set["is_default"].clone()), (json!(["継続", "統合", "廃止"]), json!(false)));
    let open_data = measure(&app, plan, 1).await;
    let path = format!("/measures/{}/evaluations/2020/assessment", open_data["id"]);
    let body = |direction: &str| json!({"hq_grade": "A", "direction": direction, "direction_reason": "他施策と統合"});
    assert_problem(app.put(&path, &app.hq, &body("拡充"), None).await, 422).await;
    assert_eq!(app.put(&path, &app.hq, &body("統合"), None).await.status(), 201);
    let year = json(app.get(&format!("/measures/{}/evaluations/2020", open_data["id"]), &app.viewer).await).await;
    assert_eq!(year["direction_options"], json!(["継続", "統合", "廃止"]));
    assert_eq!(year["assessment"]["direction"], "統合");
    let audit = json(app.get("/audit?action=set_evaluation_directions", &app.hq).await).await;
    assert_eq!(audit["items"][0]["old_value"]["evaluation_directions"][2], "改善・見直し");
}

async fn the_plan_evaluation_and_collection_status_carry_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let koseki = app.department_user("family-registry", "戸籍住民課");
    let mynumber = measure(&app, plan, 6).await;
    let path = department_path(&mynumber, 2020, department_of(&koseki));
    assert_eq!(app.put(&path, &koseki, &report("出張申請受付"), None).await.status(), 201);
    let assessment = format!("/measures/{}/evaluations/2020/assessment", mynumber["id"]);
    let decision = json!({"hq_grade": "C", "direction": "改善・見直し", "direction_reason": "交付率が目標を下回る"});
    assert_eq!(app.put(&assessment, &app.hq, &decision, None).await.status(), 201);

    let listing =
        json(app.get(&format!("/plans/{plan}/measure-evaluations?fiscal_year=2020&limit=500"), &app.viewer).await)
            .await;
    let items = listing["items"].as_array().unwrap();
    assert_eq!(listing["total"].as_u64().unwrap() as usize, items.len());
    let no6 = items.iter().find(|m| m["measure_id"] == mynumber["id"]).unwrap();
    assert_eq!(no6["assessment"]["direction"], "改善・見直し");
    let missing = items
        .iter()
        .flat_map(|m| m["departments"].as_array().unwrap())
        .filter(|d| d["submission"] == "missing")
        .count();
    assert!(missing > 10, "every other owner's evaluation is missing: {missing}");

    let evaluation = json(app.get(&format!("/plans/{plan}/evaluation?fiscal_year=2020"), &app.hq).await).await;
    let no6 = evaluation["measures"].as_array().unwrap().iter().find(|m| m["measure_id"] == mynumber["id"]).unwrap();
    let summary = &no6["measure_evaluation"];
    assert_eq!((summary["hq_grade"].as_str(), summary["direction"].as_str()), (Some("C"), Some("改善・見直し")));
    let states: Vec<(&str, &str)> = summary["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["department_name"].as_str().unwrap(), d["submission"].as_str().unwrap()))
        .collect();
    assert_eq!(states, vec![("IT推進課", "missing"), ("戸籍住民課", "submitted")]);
    assert!(
        evaluation["lists"]["evaluations_pending_review"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["measure_id"] == mynumber["id"])
    );

    let status = json(app.get(&format!("/plans/{plan}/submissions?fiscal_year=2020"), &app.viewer).await).await;
    let departments = status["departments"].as_array().unwrap();
    let koseki_status = departments.iter().find(|d| d["department_id"] == department_of(&koseki)).unwrap();
    assert_eq!(koseki_status["evaluation_counts"]["submitted"], 1);
    let it_status = departments.iter().find(|d| d["department_name"] == "IT推進課").unwrap();
    let it_missing =
        it_status["measure_evaluations"].as_array().unwrap().iter().filter(|m| m["submission"] == "missing").count();
    assert_eq!(it_status["evaluation_counts"]["missing"].as_u64().unwrap() as usize, it_missing);
    assert!(
        it_status["measure_evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["measure_id"] == mynumber["id"] && m["submission"] == "missing")
    );

    // The 施策評価 table: one row per measure and department, the assessment on each.
    let url = app.api(&format!("/plans/{plan}/measure-evaluations?fiscal_year=2020"));
    let csv = app.client.get(&url).bearer_auth(&app.viewer.token).header("Accept", "text/csv").send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = csv.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let no6_id = mynumber["id"].to_string();
    let no6: Vec<&csv::StringRecord> = rows.iter().filter(|r| r[column("施策ID")] == *no6_id).collect();
    assert_eq!(no6.len(), 2, "IT推進課 and 戸籍住民課");
    let koseki_row = no6.iter().find(|r| &r[column("所管課")] == "戸籍住民課").unwrap();
    assert_eq!((&koseki_row[column("取組実績")], &koseki_row[column("提出状況")]), ("出張申請受付", "審査待ち"));
    assert_eq!((&koseki_row[column("自己評価")], &koseki_row[column("方向性")]), ("B", "改善・見直し"));
    let it_row = no6.iter().find(|r| &r[column("所管課")] == "IT推進課").unwrap();
    assert_eq!((&it_row[column("提出状況")], &it_row[column("本部評価")]), ("未提出", "C"));
    use calamine::{Reader, Xlsx};
    for (url, sheets) in [
        (format!("{url}&format=xlsx"), vec!["施策評価"]),
        (
            app.api(&format!("/plans/{plan}/evaluation?fiscal_year=2020&format=xlsx")),
            vec!["進捗管理表", "集計", "施策評価"],
        ),
    ] {
        let bytes = app.client.get(&url).bearer_auth(&app.viewer.token).send().await.unwrap().bytes().await.unwrap();
        let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(workbook.sheet_names(), sheets);
        let sheet = workbook.worksheet_range("施策評価").unwrap();
        assert!(sheet.rows().any(|r| r.iter().any(|c| *c == "出張申請受付")), "{url}");
    }

    let dashboard = json(app.get(&format!("/plans/{plan}/dashboard"), &app.viewer).await).await;
    let year = dashboard["years"].as_array().unwrap().iter().find(|y| y["fiscal_year"] == 2020).unwrap();
    assert_eq!(year["measure_evaluations"]["submitted"], 1);
    assert_eq!(year["measure_evaluations"]["assessed"], 1);
    assert_eq!(year["measure_evaluations"]["directions"], json!([{"direction": "改善・見直し", "count": 1}]));
}

async fn demo_samples_are_flagged_and_leave_each_department_a_measure_open(backend: Backend) {
    let app = spawn_app(backend).await;
    let outcome = municipal_kpi::demo::ensure_loaded(&app.db, true).unwrap();
    let municipal_kpi::demo::DemoOutcome::Loaded { sample_evaluations, report: loaded, .. } = outcome else {
        panic!("fresh database")
    };
    assert!(sample_evaluations > 50, "{sample_evaluations} sample evaluations");
    let plan = loaded.plan_id;
    let mark = municipal_kpi::demo::SAMPLE_MARK;
    for year in [2018, 2019] {
        let listing = json(
            app.get(&format!("/plans/{plan}/measure-evaluations?fiscal_year={year}&limit=500"), &app.viewer).await,
        )
        .await;
        for measure in listing["items"].as_array().unwrap() {
            for slot in measure["departments"].as_array().unwrap() {
                assert_eq!(slot["submission"], "approved", "{year}: {slot}");
                let evaluation = &slot["evaluation"];
                assert_eq!(evaluation["is_sample"], true);
                for text in ["work_done", "issues", "next_steps"] {
                    assert!(evaluation[text].as_str().unwrap().starts_with(mark), "{text}: {evaluation}");
                }
            }
            let assessment = &measure["assessment"];
            assert_eq!(assessment["is_sample"], true, "{year}: {measure}");
            assert!(assessment["direction_reason"].as_str().unwrap().starts_with(mark));
        }
    }
    let fy2020 =
        json(app.get(&format!("/plans/{plan}/measure-evaluations?fiscal_year=2020&limit=500"), &app.viewer).await)
            .await;
    let states: Vec<&str> = fy2020["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["departments"].as_array().unwrap())
        .map(|d| d["submission"].as_str().unwrap())
        .collect();
    for state in ["approved", "submitted", "missing"] {
        assert!(states.contains(&state), "FY2020 shows {state}: {states:?}");
    }
    // Every demo department finds a measure of its own it can evaluate with a first PUT.
    for user in municipal_kpi::demo::DEMO_USERS.iter().filter(|u| u.department_code.is_some()) {
        let login = app
            .client
            .post(app.api("/auth/token"))
            .json(&json!({"username": user.username, "password": user.password}))
            .send()
            .await
            .unwrap();
        let token = json(login).await["access_token"].as_str().unwrap().to_owned();
        let me = json(app.client.get(app.api("/me")).bearer_auth(&token).send().await.unwrap()).await;
        let department_id = me["user"]["department_id"].as_i64().unwrap();
        let open = fy2020["items"].as_array().unwrap().iter().find(|m| {
            m["departments"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["department_id"] == department_id && d["submission"] == "missing")
        });
        let open = open.unwrap_or_else(|| panic!("{} has no open measure in FY2020", user.username));
        let path = format!("/measures/{}/evaluations/2020/departments/{department_id}", open["measure_id"]);
        let created =
            app.client.put(app.api(&path)).bearer_auth(&token).json(&report("実施した取組")).send().await.unwrap();
        assert_eq!(created.status(), 201, "{}: {}", user.username, created.text().await.unwrap());
    }
}

/// The 施策評価 table of a year as CSV, read as a header and records.
async fn exported(app: &TestApp, plan: i32, year: i32) -> (Vec<String>, Vec<Vec<String>>) {
    let url = app.api(&format!("/plans/{plan}/measure-evaluations?fiscal_year={year}&format=csv"));
    let bytes = app.client.get(url).bearer_auth(&app.hq.token).send().await.unwrap().bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let records = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, records)
}

/// `records` as a CSV file with `header`.
fn csv_file(header: &[String], records: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).unwrap();
    for record in records {
        writer.write_record(record).unwrap();
    }
    writer.into_inner().unwrap()
}

async fn upload(
    app: &TestApp,
    plan: i32,
    user: &TestUser,
    content_type: &str,
    body: Vec<u8>,
    dry_run: bool,
) -> reqwest::Response {
    let url = app.api(&format!("/plans/{plan}/measure-evaluations/import?dry_run={dry_run}"));
    app.client.post(url).bearer_auth(&user.token).header("Content-Type", content_type).body(body).send().await.unwrap()
}

async fn departments_import_their_evaluations_from_the_exported_table(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.load_demo();
    let it = app.department_user("it-promotion", "IT推進課");
    let koseki = app.department_user("family-registry", "戸籍住民課");
    let (header, records) = exported(&app, plan, 2019).await;
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let number_of = |record: &Vec<String>| record[column("施策No.")].clone();
    let row_of = |number: &str, department: &str| {
        records.iter().find(|r| number_of(r) == number && r[column("所管課")] == department).unwrap().clone()
    };
    let fill = |mut record: Vec<String>, work_done: &str, progress: &str, reason: &str, grade: &str| {
        record[column("取組実績")] = work_done.into();
        record[column("進捗")] = progress.into();
        record[column("進捗の理由")] = reason.into();
        record[column("自己評価")] = grade.into();
        record
    };
    let own = fill(row_of("1", "IT推進課"), "公開データを20件追加", "予定どおり", "", "B");
    let other_department = fill(row_of("6", "戸籍住民課"), "出張申請受付", "予定どおり", "", "A");
    let no_reason = fill(row_of("6", "IT推進課"), "情報連携の運用", "遅れ", "", "C");
    let mut unknown = own.clone();
    unknown[column("施策ID")] = "99999".into();
    let audit_before = audit_total(&app).await;

    let refused = upload(
        &app,
        plan,
        &it,
        "text/csv",
        csv_file(&header, &[own.clone(), other_department, no_reason, unknown, own.clone()]),
        false,
    )
    .await;
    let problem = assert_problem(refused, 422).await;
    let causes: Vec<(&str, &str)> = problem["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["column"].as_str().unwrap(), e["cause"].as_str().unwrap()))
        .collect();
    assert_eq!(
        causes,
        vec![
            ("所管課ID", "out_of_scope"),
            ("進捗の理由", "invalid_report"),
            ("施策ID", "unknown_measure"),
            ("施策ID", "duplicate")
        ]
    );
    assert_eq!(problem["report"]["applied"], false);
    assert_eq!(audit_total(&app).await, audit_before, "all rows or none");

    // A dry run reports, then the real run creates; the rows left blank stay as they are.
    let dry = json(
        upload(
            &app,
            plan,
            &it,
            "text/csv",
            csv_file(&header, &records_with(&records, &own, [column("施策ID"), column("所管課ID")])),
            true,
        )
        .await,
    )
    .await;
    assert_eq!((dry["counts"]["create"].as_u64(), dry["applied"].as_bool()), (Some(1), Some(false)));
    assert_eq!(audit_total(&app).await, audit_before);
    let applied = json(
        upload(
            &app,
            plan,
            &it,
            "text/csv",
            csv_file(&header, &records_with(&records, &own, [column("施策ID"), column("所管課ID")])),
            false,
        )
        .await,
    )
    .await;
    assert_eq!((applied["counts"]["create"].as_u64(), applied["applied"].as_bool()), (Some(1), Some(true)));
    let measure_id = &own[column("施策ID")];
    let path = format!("/measures/{measure_id}/evaluations/2019/departments/{}", department_of(&it));
    let stored = json(app.get(&path, &app.viewer).await).await;
    assert_eq!(
        (stored["work_done"].as_str(), stored["self_grade"].as_str()),
        (Some("公開データを20件追加"), Some("B"))
    );
    let history = json(app.get(&format!("{path}/history"), &app.viewer).await).await;
    assert_eq!(history["items"][0]["actor_department_id"], department_of(&it), "written as the department");

    // Correcting needs the 版 of a fresh export; the same file again changes nothing.
    let stale = fill(own.clone(), "公開データを25件追加", "前倒し", "庁内調整が早く済んだ", "A");
    let problem = assert_problem(
        upload(&app, plan, &it, "text/csv", csv_file(&header, std::slice::from_ref(&stale)), false).await,
        422,
    )
    .await;
    assert_eq!(problem["report"]["errors"][0]["cause"], "version_missing");
    let (_, fresh) = exported(&app, plan, 2019).await;
    let fresh_row =
        fresh.iter().find(|r| r[column("施策ID")] == *measure_id && r[column("所管課")] == "IT推進課").unwrap();
    assert_eq!(fresh_row[column("版")], "1");
    let again =
        json(upload(&app, plan, &it, "text/csv", csv_file(&header, std::slice::from_ref(fresh_row)), false).await)
            .await;
    assert_eq!(again["counts"]["unchanged"], 1);
    let mut corrected = stale;
    corrected[column("版")] = "1".into();
    let applied = json(upload(&app, plan, &it, "text/csv", csv_file(&header, &[corrected]), false).await).await;
    assert_eq!(applied["counts"]["correct"], 1);
    assert_eq!(json(app.get(&path, &app.viewer).await).await["roadmap_progress"], "ahead");

    // The same columns in an xlsx workbook's first sheet.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let xlsx_row = fill(row_of("6", "戸籍住民課"), "出張申請受付", "予定どおり", "", "A");
    for (row, cells) in [header.clone(), xlsx_row].iter().enumerate() {
        for (col, cell) in cells.iter().enumerate() {
            sheet.write_string(row as u32, col as u16, cell).unwrap();
        }
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let applied = json(upload(&app, plan, &koseki, xlsx, bytes, false).await).await;
    assert_eq!(applied["counts"]["create"], 1, "{applied}");
}

/// The exported records with `row` in place of the record of the same measure and department
/// (the columns at `key`).
fn records_with(records: &[Vec<String>], row: &[String], key: [usize; 2]) -> Vec<Vec<String>> {
    let same = |record: &Vec<String>| key.iter().all(|&k| record[k] == row[k]);
    records.iter().map(|r| if same(r) { row.to_vec() } else { r.clone() }).collect()
}
