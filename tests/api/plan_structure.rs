//! hq edits plan structure through the API; every change keeps its history.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    a_target_revision_never_overwrites_the_old_target,
    renames_and_owner_changes_are_in_the_audit_log,
    retiring_and_replacing_indicators_keeps_the_old_one,
    stale_if_match_gets_412,
    measures_filter_by_department_goal_and_category,
    indicator_definitions_are_checked,
);

struct Fixture {
    plan_id: i64,
    goal_ids: Vec<i64>,
    measure_id: i64,
    indicator_id: i64,
    it_department: i64,
}

async fn fixture(app: &TestApp) -> Fixture {
    let plan = json(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "ict-2020", "name": "板橋区ICT推進・活用計画2020",
                "start_fiscal_year": 2016, "end_fiscal_year": 2020, "baseline_fiscal_year": 2017, "status": "active",
                "phases": [{"name": "追録版", "start_fiscal_year": 2018, "end_fiscal_year": 2020}]}),
        )
        .await,
    )
    .await;
    let plan_id = plan["id"].as_i64().unwrap();
    assert_eq!(plan["start_fiscal_year_label"], "平成28(2016)年度");
    assert_eq!(plan["grading"]["grade_b_min"].as_f64(), Some(80.0));
    let mut goal_ids = Vec::new();
    for (number, name) in [(1, "開かれた区政の実現"), (2, "区民サービスの向上"), (5, "行政事務の効率化")]
    {
        let goal =
            json(app.post(&format!("/plans/{plan_id}/goals"), &app.hq, &json!({"number": number, "name": name})).await)
                .await;
        goal_ids.push(goal["id"].as_i64().unwrap());
    }
    let it = app.department_user("it-promotion", "IT推進課");
    let measure = app
        .post(
            &format!("/plans/{plan_id}/measures"),
            &app.hq,
            &json!({"number": 1, "name": "オープンデータの公開促進", "main_goal_id": goal_ids[0],
                "secondary_goal_ids": [goal_ids[1], goal_ids[2]], "review_category": "官デ変",
                "owner_department_ids": [it.department_id],
                "roadmap": [{"fiscal_year": 2018, "activity": "公開拡大"}]}),
        )
        .await;
    assert_eq!(measure.status(), 201);
    let measure = json(measure).await;
    assert_eq!(measure["review_category"], "data_act_changed");
    assert_eq!(measure["review_category_label"], "官デ変");
    assert_eq!(measure["roadmap"][0]["fiscal_year_label"], "平成30(2018)年度");
    let measure_id = measure["id"].as_i64().unwrap();
    let indicator = app
        .post(
            &format!("/measures/{measure_id}/indicators"),
            &app.hq,
            &json!({"number": 1, "name": "区ホームページに公開しているオープンデータの項目数", "unit": "データセット",
                "kind": "count", "direction": "increase",
                "baseline": {"fiscal_year": 2017, "value": "203", "text": "203 データセット"},
                "target": {"value": 210, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2016, "reason": "当初計画"}}),
        )
        .await;
    assert_eq!(indicator.status(), 201);
    let indicator = json(indicator).await;
    assert_eq!(indicator["baseline"]["value"], json!(203));
    assert_eq!(indicator["current_target"]["value"], json!(210));
    Fixture {
        plan_id,
        goal_ids,
        measure_id,
        indicator_id: indicator["id"].as_i64().unwrap(),
        it_department: it.department_id.unwrap().into(),
    }
}

async fn a_target_revision_never_overwrites_the_old_target(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let reason = "更なるオープンデータの公開促進を行うため、目標を210データセットから230データセットに上方修正";
    let response = app
        .post(
            &format!("/indicators/{}/targets", f.indicator_id),
            &app.hq,
            &json!({"value": "230", "text": "230 データセット", "target_fiscal_year": 2020, "effective_from_fiscal_year": 2018, "reason": reason}),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("etag").is_some());
    let revision = json(response).await;
    assert_eq!(revision["effective_from_fiscal_year_label"], "平成30(2018)年度");
    assert_eq!(revision["recorded_by"], app.hq.id);
    let targets =
        json(app.get(&format!("/indicators/{}/targets", f.indicator_id), &app.viewer).await).await["items"].clone();
    let values: Vec<f64> = targets.as_array().unwrap().iter().map(|t| t["value"].as_f64().unwrap()).collect();
    assert_eq!(values, vec![210.0, 230.0]);
    assert_eq!(targets[1]["reason"], reason);
    let indicator = json(app.get(&format!("/indicators/{}", f.indicator_id), &app.viewer).await).await;
    assert_eq!(indicator["current_target"]["value"], json!(230));
    let audit = json(
        app.get(&format!("/audit?entity_type=indicator&entity_id={}&action=revise_target", f.indicator_id), &app.hq)
            .await,
    )
    .await;
    let last = audit["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["old_value"]["value"], json!(210));
    assert_eq!(last["new_value"]["value"], json!(230));
    assert_eq!(last["actor_username"], app.hq.username.as_str());
    assert_eq!(last["reason"], reason);
    // A department may not revise targets.
    let department = app.department_user("it-promotion", "IT推進課");
    let refused = app
        .post(
            &format!("/indicators/{}/targets", f.indicator_id),
            &department,
            &json!({"value": 300, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2019, "reason": "x"}),
        )
        .await;
    assert_problem(refused, 403).await;
}

async fn renames_and_owner_changes_are_in_the_audit_log(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let registry = app.department_user("family-registry", "戸籍住民課");
    let response = app
        .patch(
            &format!("/measures/{}", f.measure_id),
            &app.hq,
            &json!({"name": "オープンデータの公開と活用", "reason": "名称の変更"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .post(
            &format!("/measures/{}/owners", f.measure_id),
            &app.hq,
            &json!({"department_id": registry.department_id, "from_fiscal_year": 2018, "reason": "所管課の追加"}),
        )
        .await;
    let measure = json(response).await;
    assert_eq!(measure["owners"].as_array().unwrap().len(), 2);
    assert_eq!(measure["owners"][1]["from_fiscal_year"], 2018);
    let response = app
        .client
        .delete(app.api(&format!("/measures/{}/owners/{}?last_fiscal_year=2019", f.measure_id, f.it_department)))
        .bearer_auth(&app.hq.token)
        .send()
        .await
        .unwrap();
    let measure = json(response).await;
    assert_eq!(measure["owners"][0]["until_fiscal_year"], 2019, "the removed owner is kept with its last year");
    let audit = json(app.get(&format!("/audit?entity_type=measure&entity_id={}", f.measure_id), &app.hq).await).await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["create", "update", "add_owner", "remove_owner"]);
    assert_eq!(audit["items"][1]["old_value"]["name"], "オープンデータの公開促進");
    assert_eq!(audit["items"][1]["new_value"]["name"], "オープンデータの公開と活用");
    // The last owner cannot be removed.
    let response = app
        .client
        .delete(app.api(&format!(
            "/measures/{}/owners/{}?last_fiscal_year=2020",
            f.measure_id,
            registry.department_id.unwrap()
        )))
        .bearer_auth(&app.hq.token)
        .send()
        .await
        .unwrap();
    assert_problem(response, 409).await;
}

async fn retiring_and_replacing_indicators_keeps_the_old_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let replacement = json!({
        "from_fiscal_year": 2018,
        "reason": "国が定める標準例の充足率に変更",
        "replacement": {"number": 2, "name": "標準例の項目に対する区オープンデータの充足率", "unit": "%", "kind": "percent",
            "direction": "increase", "baseline": {"fiscal_year": 2017, "value": 57, "text": "57%"},
            "target": {"value": 100, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2018, "reason": "指標2の変更"}}
    });
    let response = app.post(&format!("/indicators/{}/replace", f.indicator_id), &app.hq, &replacement).await;
    assert_eq!(response.status(), 201);
    let new = json(response).await;
    assert_eq!(new["replaces_id"], f.indicator_id);
    assert_eq!(new["added_fiscal_year"], 2018);
    let old = json(app.get(&format!("/indicators/{}", f.indicator_id), &app.hq).await).await;
    assert_eq!(old["status"], "retired");
    assert_eq!(old["retired_from_fiscal_year"], 2018);
    let all = json(app.get(&format!("/measures/{}/indicators", f.measure_id), &app.hq).await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "the retired indicator is still listed");
    // Retiring twice is a conflict, and a retired indicator takes no new target.
    let again = app
        .post(
            &format!("/indicators/{}/retire", f.indicator_id),
            &app.hq,
            &json!({"from_fiscal_year": 2019, "reason": "x"}),
        )
        .await;
    assert_problem(again, 409).await;
    let target = app
        .post(
            &format!("/indicators/{}/targets", f.indicator_id),
            &app.hq,
            &json!({"value": 1, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2019, "reason": "x"}),
        )
        .await;
    assert_problem(target, 409).await;
    // A replacement that fails validation retires nothing.
    let bad = json!({"from_fiscal_year": 2019, "reason": "r", "replacement": {"name": "x", "kind": "ratio", "direction": "increase"}});
    assert_problem(app.post(&format!("/indicators/{}/replace", new["id"]), &app.hq, &bad).await, 422).await;
    let still = json(app.get(&format!("/indicators/{}", new["id"]), &app.hq).await).await;
    assert_eq!(still["status"], "active");
}

async fn stale_if_match_gets_412(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let response = app.get(&format!("/measures/{}", f.measure_id), &app.hq).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let first = app
        .client
        .patch(app.api(&format!("/measures/{}", f.measure_id)))
        .bearer_auth(&app.hq.token)
        .header("If-Match", &etag)
        .json(&json!({"summary": "一人目の編集"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_ne!(first.headers()["etag"].to_str().unwrap(), etag);
    let second = app
        .client
        .patch(app.api(&format!("/measures/{}", f.measure_id)))
        .bearer_auth(&app.hq.token)
        .header("If-Match", &etag)
        .json(&json!({"summary": "二人目の編集"}))
        .send()
        .await
        .unwrap();
    assert_problem(second, 412).await;
    let measure = json(app.get(&format!("/measures/{}", f.measure_id), &app.hq).await).await;
    assert_eq!(measure["summary"], "一人目の編集");
}

async fn measures_filter_by_department_goal_and_category(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let pr = app.department_user("public-relations", "広聴広報課");
    let response = app
        .post(
            &format!("/plans/{}/measures", f.plan_id),
            &app.hq,
            &json!({"number": 14, "name": "ソーシャルメディアを利用した情報発信", "main_goal_id": f.goal_ids[1],
                "review_category": "continued", "owner_department_ids": [pr.department_id]}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let count = |v: Value| v["total"].as_i64().unwrap();
    let plan = f.plan_id;
    assert_eq!(count(json(app.get(&format!("/plans/{plan}/measures"), &app.viewer).await).await), 2);
    assert_eq!(
        count(
            json(app.get(&format!("/plans/{plan}/measures?department_id={}", f.it_department), &app.viewer).await)
                .await
        ),
        1
    );
    // Goal ② is ◎ of No.14 and ○ of No.1.
    assert_eq!(
        count(json(app.get(&format!("/plans/{plan}/measures?goal_id={}", f.goal_ids[1]), &app.viewer).await).await),
        2
    );
    assert_eq!(
        count(json(app.get(&format!("/plans/{plan}/measures?review_category=continued"), &app.viewer).await).await),
        1
    );
    let page = json(app.get(&format!("/plans/{plan}/measures?limit=1&offset=1"), &app.viewer).await).await;
    assert_eq!(page["items"][0]["number"], 14);
}

async fn indicator_definitions_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let path = format!("/measures/{}/indicators", f.measure_id);
    let ratio_without_labels = json!({"name": "交付率", "kind": "ratio", "direction": "increase"});
    let problem = assert_problem(app.post(&path, &app.hq, &ratio_without_labels).await, 422).await;
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"numerator_label") && fields.contains(&"denominator_label"), "{fields:?}");
    let milestone_without_stages = json!({"name": "サービス開始", "kind": "milestone", "direction": "milestone"});
    assert_problem(app.post(&path, &app.hq, &milestone_without_stages).await, 422).await;
    let share_over_100 =
        json!({"name": "充足率", "kind": "percent", "direction": "increase", "baseline": {"value": 120}});
    assert_problem(app.post(&path, &app.hq, &share_over_100).await, 422).await;
    let milestone = json!({"name": "システムの導入", "kind": "milestone", "direction": "milestone",
        "stages": ["仕様調整中", "構築", "サービス開始"], "baseline": {"fiscal_year": 2017, "stage": 0},
        "target": {"stage": 2, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2018, "reason": "新規"}});
    let created = json(app.post(&path, &app.hq, &milestone).await).await;
    assert_eq!(created["current_target"]["stage_name"], "サービス開始");
}
