//! Successive and two-layer plans: goal levels and phases (基本計画 / 前期・後期実施計画), a plan
//! without 基本目標, renames with the fiscal year they take effect, links across plans.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    measures_count_only_in_their_phase_and_under_the_goals_above_them,
    a_plan_without_basic_goals_takes_its_own_levels,
    phases_keep_their_ids_and_one_in_use_cannot_be_dropped,
    a_renamed_plan_keeps_its_old_name_for_earlier_years_and_earlier_moments,
    a_continued_indicator_has_one_series_across_both_plans,
    a_plan_records_its_predecessor_and_the_plans_above_it,
);

struct TwoLayerPlan {
    plan_id: i64,
    early: i64,
    late: i64,
    vision: i64,
    early_policy: i64,
    late_policy: i64,
    department_id: i32,
}

async fn expect_created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

/// 板橋区ICT推進・活用計画2025 as seed 001 describes it: 基本計画 FY2021–2025 with an ICT活用ビジョン,
/// 実施計画 前期 FY2021–2023 and 後期 FY2024–2025, each with a 基本方針 under the vision.
async fn two_layer_plan(app: &TestApp) -> TwoLayerPlan {
    let plan = expect_created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "itabashi-ict-2025",
                "name": "板橋区ICT推進・活用計画2025", "start_fiscal_year": 2021, "end_fiscal_year": 2025,
                "status": "active", "phases": [
                    {"name": "前期実施計画", "start_fiscal_year": 2021, "end_fiscal_year": 2023},
                    {"name": "後期実施計画", "start_fiscal_year": 2024, "end_fiscal_year": 2025}]}),
        )
        .await,
    )
    .await;
    let plan_id = plan["id"].as_i64().unwrap();
    let early = plan["phases"][0]["id"].as_i64().unwrap();
    let late = plan["phases"][1]["id"].as_i64().unwrap();
    let goals = format!("/plans/{plan_id}/goals");
    let vision = expect_created(
        app.post(&goals, &app.hq, &json!({"number": 1, "name": "ビジョン1", "kind": "ICT活用ビジョン"})).await,
    )
    .await;
    let vision = vision["id"].as_i64().unwrap();
    let early_policy = expect_created(
        app.post(
            &goals,
            &app.hq,
            &json!({"number": 1, "name": "前期の基本方針1", "kind": "基本方針", "parent_id": vision, "phase_id": early}),
        )
        .await,
    )
    .await;
    // The 後期 numbers its 基本方針 from 1 again.
    let late_policy = expect_created(
        app.post(
            &goals,
            &app.hq,
            &json!({"number": 1, "name": "後期の基本方針1", "kind": "基本方針", "parent_id": vision, "phase_id": late}),
        )
        .await,
    )
    .await;
    let department_id = app.department_user("it-promotion", "IT推進課").department_id.unwrap();
    TwoLayerPlan {
        plan_id,
        early,
        late,
        vision,
        early_policy: early_policy["id"].as_i64().unwrap(),
        late_policy: late_policy["id"].as_i64().unwrap(),
        department_id,
    }
}

async fn add_measure(app: &TestApp, plan: &TwoLayerPlan, number: i64, name: &str, extra: Value) -> Value {
    let mut body = json!({"number": number, "name": name, "review_category": "new",
        "owner_department_ids": [plan.department_id]});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    expect_created(app.post(&format!("/plans/{}/measures", plan.plan_id), &app.hq, &body).await).await
}

async fn evaluation(app: &TestApp, plan_id: i64, year: i32) -> Value {
    let response = app.get(&format!("/plans/{plan_id}/evaluation?fiscal_year={year}"), &app.hq).await;
    assert_eq!(response.status(), 200);
    json(response).await
}

fn measure_ids(evaluation: &Value) -> Vec<i64> {
    evaluation["measures"].as_array().unwrap().iter().map(|m| m["measure_id"].as_i64().unwrap()).collect()
}

fn goal(evaluation: &Value, id: i64) -> Option<&Value> {
    evaluation["goals"].as_array().unwrap().iter().find(|g| g["id"] == id)
}

async fn measures_count_only_in_their_phase_and_under_the_goals_above_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = two_layer_plan(&app).await;
    let telework = add_measure(
        &app,
        &plan,
        1,
        "テレワーク環境の整備",
        json!({"phase_id": plan.early, "main_goal_id": plan.early_policy}),
    )
    .await;
    assert_eq!(telework["phase_id"], plan.early);
    assert_eq!(telework["phase_span"], json!({"start_fiscal_year": 2021, "end_fiscal_year": 2023}));
    // Runs through both phases: no phase, and no goal is needed either.
    let online = add_measure(&app, &plan, 2, "行政手続きにおけるオンライン申請の拡大", json!({})).await;
    assert_eq!(online["phase_id"], Value::Null);
    assert_eq!(online["main_goal_id"], Value::Null);
    // Added by the 後期 in its first year.
    let talent = add_measure(
        &app,
        &plan,
        3,
        "デジタル人材の育成・確保",
        json!({"phase_id": plan.late, "main_goal_id": plan.late_policy, "added_fiscal_year": 2024}),
    )
    .await;

    let fy2022 = evaluation(&app, plan.plan_id, 2022).await;
    assert_eq!(measure_ids(&fy2022), vec![telework["id"].as_i64().unwrap(), online["id"].as_i64().unwrap()]);
    assert_eq!(goal(&fy2022, plan.vision).unwrap()["measure_ids"], json!([telework["id"]]));
    assert_eq!(goal(&fy2022, plan.vision).unwrap()["kind"], "ICT活用ビジョン");
    assert!(goal(&fy2022, plan.late_policy).is_none(), "the 後期's 基本方針 is not in force in FY2022");

    let fy2024 = evaluation(&app, plan.plan_id, 2024).await;
    assert_eq!(measure_ids(&fy2024), vec![online["id"].as_i64().unwrap(), talent["id"].as_i64().unwrap()]);
    assert_eq!(goal(&fy2024, plan.vision).unwrap()["measure_ids"], json!([talent["id"]]));
    assert!(goal(&fy2024, plan.early_policy).is_none());

    // The 後期 lists its own measures.
    let late_measures =
        json(app.get(&format!("/plans/{}/measures?phase_id={}", plan.plan_id, plan.late), &app.viewer).await).await;
    assert_eq!(late_measures["total"], 1);
    assert_eq!(late_measures["items"][0]["id"], talent["id"]);
    let policies = json(app.get(&format!("/plans/{}/goals?kind=基本方針", plan.plan_id), &app.viewer).await).await;
    assert_eq!(policies["total"], 2);
    assert_eq!(policies["items"][0]["parent_id"], plan.vision);

    // A measure cannot be placed in a phase of another plan, nor added outside its phase.
    let other = add_measure(&app, &plan, 4, "別計画の施策", json!({})).await;
    let bad = app
        .post(
            &format!("/plans/{}/measures", plan.plan_id),
            &app.hq,
            &json!({"number": 5, "name": "前期に追加", "review_category": "new", "phase_id": plan.early,
                "added_fiscal_year": 2024, "owner_department_ids": [plan.department_id]}),
        )
        .await;
    let problem = assert_problem(bad, 422).await;
    assert_eq!(problem["errors"][0]["field"], "added_fiscal_year");
    let moved = app.patch(&format!("/measures/{}", other["id"]), &app.hq, &json!({"phase_id": 999_999})).await;
    let problem = assert_problem(moved, 422).await;
    assert_eq!(problem["errors"][0]["field"], "phase_id");
    // The same number twice in one phase and kind is a conflict.
    let duplicate = app
        .post(
            &format!("/plans/{}/goals", plan.plan_id),
            &app.hq,
            &json!({"number": 1, "name": "重複", "kind": "基本方針", "phase_id": plan.early}),
        )
        .await;
    assert_problem(duplicate, 409).await;
}

async fn a_plan_without_basic_goals_takes_its_own_levels(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = expect_created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "bunkyo-data-2019",
                "name": "文京区官民データ活用推進計画", "start_fiscal_year": 2019, "end_fiscal_year": 2021}),
        )
        .await,
    )
    .await;
    let plan_id = plan["id"].as_i64().unwrap();
    let mut purposes = Vec::new();
    for (number, symbol, name) in [
        (1, "ア", "官民のデータを活用しながら区民・事業者等が協働して、本区の課題を解決できるような取り組みを進める。"),
        (2, "イ", "時代に即した便利な区民サービスを提供し、快適な生活環境の実現に寄与していく。"),
    ] {
        let purpose = expect_created(
            app.post(
                &format!("/plans/{plan_id}/goals"),
                &app.hq,
                &json!({"number": number, "name": name, "kind": "計画の目的", "symbol": symbol}),
            )
            .await,
        )
        .await;
        assert_eq!(purpose["kind"], "計画の目的");
        purposes.push(purpose["id"].as_i64().unwrap());
    }
    let department_id = app.department_user("it-security", "情報政策課").department_id.unwrap();
    let measure = expect_created(
        app.post(
            &format!("/plans/{plan_id}/measures"),
            &app.hq,
            &json!({"number": 1, "name": "電子申請", "review_category": "new", "main_goal_id": purposes[1],
                "owner_department_ids": [department_id]}),
        )
        .await,
    )
    .await;
    let fy2019 = evaluation(&app, plan_id, 2019).await;
    let purpose = goal(&fy2019, purposes[1]).unwrap();
    assert_eq!(purpose["label"], "イ時代に即した便利な区民サービスを提供し、快適な生活環境の実現に寄与していく。");
    assert_eq!(purpose["measure_ids"], json!([measure["id"]]));
    assert_eq!(fy2019["strategies"], json!([]));
}

async fn phases_keep_their_ids_and_one_in_use_cannot_be_dropped(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = two_layer_plan(&app).await;
    // Renaming a phase by its id keeps the goals placed in it.
    let renamed = app
        .patch(
            &format!("/plans/{}", plan.plan_id),
            &app.hq,
            &json!({"phases": [
                {"id": plan.early, "name": "前期実施計画(令和3～5年度)", "start_fiscal_year": 2021, "end_fiscal_year": 2023},
                {"id": plan.late, "name": "後期実施計画", "start_fiscal_year": 2024, "end_fiscal_year": 2025}]}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let renamed = json(renamed).await;
    assert_eq!(renamed["phases"][0]["id"], plan.early);
    assert_eq!(renamed["phases"][0]["name"], "前期実施計画(令和3～5年度)");
    // Dropping the 後期 while its 基本方針 is placed in it changes nothing.
    let dropped = app
        .patch(
            &format!("/plans/{}", plan.plan_id),
            &app.hq,
            &json!({"phases": [{"id": plan.early, "name": "前期実施計画", "start_fiscal_year": 2021, "end_fiscal_year": 2023}]}),
        )
        .await;
    assert_problem(dropped, 409).await;
    let unchanged = json(app.get(&format!("/plans/{}", plan.plan_id), &app.viewer).await).await;
    assert_eq!(unchanged["phases"].as_array().unwrap().len(), 2);
    assert_eq!(unchanged["phases"][0]["name"], "前期実施計画(令和3～5年度)");
}

async fn a_renamed_plan_keeps_its_old_name_for_earlier_years_and_earlier_moments(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = two_layer_plan(&app).await;
    let measure = add_measure(&app, &plan, 1, "RPAの活用", json!({})).await;
    // Everything above was recorded by this moment; the renames below come after it.
    let before_renames = measure["updated_at"].as_str().unwrap().to_owned();

    let outside = app
        .patch(
            &format!("/plans/{}", plan.plan_id),
            &app.hq,
            &json!({"name": "板橋区DX推進計画2025", "name_effective_fiscal_year": 2026}),
        )
        .await;
    assert_eq!(assert_problem(outside, 422).await["errors"][0]["field"], "name_effective_fiscal_year");
    let renamed = app
        .patch(
            &format!("/plans/{}", plan.plan_id),
            &app.hq,
            &json!({"name": "板橋区DX推進計画2025", "name_effective_fiscal_year": 2023,
                "reason": "後期実施計画の策定に併せて名称を変更"}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(json(renamed).await["name"], "板橋区DX推進計画2025");
    let measure_renamed = app
        .patch(
            &format!("/measures/{}", measure["id"]),
            &app.hq,
            &json!({"name": "RPA及び会議録作成支援システムの活用強化"}),
        )
        .await;
    assert_eq!(measure_renamed.status(), 200);

    let fy2022 = evaluation(&app, plan.plan_id, 2022).await;
    assert_eq!(fy2022["plan_name"], "板橋区ICT推進・活用計画2025");
    // A measure renamed without an effective year bears the new name in every year.
    assert_eq!(fy2022["measures"][0]["name"], "RPA及び会議録作成支援システムの活用強化");
    let fy2023 = evaluation(&app, plan.plan_id, 2023).await;
    assert_eq!(fy2023["plan_name"], "板橋区DX推進計画2025");

    let as_of = before_renames.replace('+', "%2B");
    let then = app.get(&format!("/plans/{}/evaluation?fiscal_year=2023&as_of={as_of}", plan.plan_id), &app.hq).await;
    assert_eq!(then.status(), 200);
    let then = json(then).await;
    assert_eq!(then["plan_name"], "板橋区ICT推進・活用計画2025");
    assert_eq!(then["measures"][0]["name"], "RPAの活用");

    // The rename is in the audit log with its reason.
    let audit = json(app.get(&format!("/audit?entity_type=plan&entity_id={}", plan.plan_id), &app.hq).await).await;
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["reason"] == "後期実施計画の策定に併せて名称を変更"
        && e["old_value"]["name"] == "板橋区ICT推進・活用計画2025"));
}

async fn add_indicator(app: &TestApp, measure_id: &Value, body: Value) -> Value {
    expect_created(app.post(&format!("/measures/{measure_id}/indicators"), &app.hq, &body).await).await
}

async fn approve(app: &TestApp, indicator: &Value, year: i32, value: i64) {
    let path = format!("/indicators/{}/actuals/{year}", indicator["id"]);
    assert_eq!(app.put(&path, &app.hq, &json!({"value": value}), None).await.status(), 201);
    let review = app.post(&format!("{path}/review"), &app.hq, &json!({"action": "approve"})).await;
    assert_eq!(review.status(), 200);
}

async fn a_continued_indicator_has_one_series_across_both_plans(backend: Backend) {
    let app = spawn_app(backend).await;
    let department_id = app.department_user("it-promotion", "IT推進課").department_id.unwrap();
    let old_plan = expect_created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "ict-2020", "name": "板橋区ICT推進・活用計画2020",
                "start_fiscal_year": 2016, "end_fiscal_year": 2020, "status": "closed",
                "phases": [{"name": "追録版", "start_fiscal_year": 2018, "end_fiscal_year": 2020}]}),
        )
        .await,
    )
    .await;
    let old_measure = expect_created(
        app.post(
            &format!("/plans/{}/measures", old_plan["id"]),
            &app.hq,
            &json!({"number": 8, "name": "電子申請の拡充", "review_category": "continued",
                "owner_department_ids": [department_id]}),
        )
        .await,
    )
    .await;
    let old_indicator = add_indicator(
        &app,
        &old_measure["id"],
        json!({"number": 1, "name": "オンライン申請できる手続数", "unit": "手続", "kind": "count", "direction": "increase",
            "baseline": {"fiscal_year": 2015, "value": 5},
            "target": {"value": 9, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2016, "reason": "当初計画"}}),
    )
    .await;
    approve(&app, &old_indicator, 2020, 9).await;

    let new_plan = two_layer_plan(&app).await;
    let new_measure = add_measure(
        &app,
        &new_plan,
        2,
        "行政手続きにおけるオンライン申請の拡大",
        json!({"predecessor_id": old_measure["id"], "main_goal_id": new_plan.early_policy}),
    )
    .await;
    assert_eq!(new_measure["predecessor_id"], old_measure["id"]);
    let new_indicator = add_indicator(
        &app,
        &new_measure["id"],
        json!({"number": 1, "name": "ぴったりサービスでオンライン申請できる手続数", "unit": "手続", "kind": "count",
            "direction": "increase", "baseline": {"fiscal_year": 2020, "value": 9},
            "target": {"value": 18, "target_fiscal_year": 2021, "effective_from_fiscal_year": 2021, "reason": "令和3年度の主な取組"}}),
    )
    .await;
    approve(&app, &new_indicator, 2021, 18).await;

    // Not linked yet: the new indicator's series is its own plan's five years.
    let own = json(app.get(&format!("/indicators/{}/series", new_indicator["id"]), &app.viewer).await).await;
    assert_eq!(own["total"], 5);

    // An indicator of the same plan cannot be its predecessor.
    let same_plan = add_indicator(
        &app,
        &new_measure["id"],
        json!({"number": 2, "name": "同じ計画の指標", "kind": "count", "direction": "increase"}),
    )
    .await;
    let refused = app
        .put(
            &format!("/indicators/{}/predecessor", new_indicator["id"]),
            &app.hq,
            &json!({"predecessor_id": same_plan["id"]}),
            None,
        )
        .await;
    assert_eq!(assert_problem(refused, 422).await["errors"][0]["field"], "predecessor_id");
    let forbidden = app
        .put(
            &format!("/indicators/{}/predecessor", new_indicator["id"]),
            &app.viewer,
            &json!({"predecessor_id": old_indicator["id"]}),
            None,
        )
        .await;
    assert_problem(forbidden, 403).await;
    let linked = app
        .put(
            &format!("/indicators/{}/predecessor", new_indicator["id"]),
            &app.hq,
            &json!({"predecessor_id": old_indicator["id"], "reason": "ICT推進・活用計画2020の指標を継続"}),
            None,
        )
        .await;
    assert_eq!(linked.status(), 200);
    assert_eq!(json(linked).await["predecessor_id"], old_indicator["id"]);

    // From either end: FY2016–2025, each year with its plan, phase, target, actual and achievement.
    for start in [&new_indicator, &old_indicator] {
        let series = json(app.get(&format!("/indicators/{}/series?limit=500", start["id"]), &app.viewer).await).await;
        assert_eq!(series["total"], 10);
        let years: Vec<i64> =
            series["items"].as_array().unwrap().iter().map(|y| y["fiscal_year"].as_i64().unwrap()).collect();
        assert_eq!(years, (2016..=2025).collect::<Vec<_>>());
    }
    let series =
        json(app.get(&format!("/indicators/{}/series?limit=500", new_indicator["id"]), &app.viewer).await).await;
    let year = |fy: i64| series["items"].as_array().unwrap().iter().find(|y| y["fiscal_year"] == fy).unwrap().clone();
    let fy2017 = year(2017);
    assert_eq!(fy2017["plan_name"], "板橋区ICT推進・活用計画2020");
    assert_eq!(fy2017["phase_name"], Value::Null);
    assert_eq!(fy2017["fiscal_year_label"], "平成29(2017)年度");
    let fy2020 = year(2020);
    assert_eq!(fy2020["indicator_id"], old_indicator["id"]);
    assert_eq!(fy2020["phase_name"], "追録版");
    assert_eq!(fy2020["target"]["value"], json!(9));
    assert_eq!(fy2020["approved_actual"]["value"], json!(9));
    assert_eq!(fy2020["result"]["achieved"], true);
    let fy2021 = year(2021);
    assert_eq!(fy2021["indicator_id"], new_indicator["id"]);
    assert_eq!(fy2021["plan_name"], "板橋区ICT推進・活用計画2025");
    assert_eq!(fy2021["phase_name"], "前期実施計画");
    assert_eq!(fy2021["fiscal_year_label"], "令和3(2021)年度");
    assert_eq!(fy2021["target"]["value"], json!(18));
    assert_eq!(fy2021["approved_actual"]["value"], json!(18));
    assert_eq!(fy2021["result"]["achieved"], true);
    assert_eq!(year(2024)["phase_name"], "後期実施計画");
    assert_eq!(year(2024)["approved_actual"], Value::Null);

    // Paginated by year.
    let page =
        json(app.get(&format!("/indicators/{}/series?limit=2&offset=4", new_indicator["id"]), &app.viewer).await).await;
    assert_eq!(page["total"], 10);
    assert_eq!(page["items"][0]["fiscal_year"], 2020);
    assert_eq!(page["items"][1]["fiscal_year"], 2021);
    assert_problem(app.get("/indicators/999999/series", &app.viewer).await, 404).await;
}

async fn a_plan_records_its_predecessor_and_the_plans_above_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let old_plan = expect_created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "ict-2020", "name": "板橋区ICT推進・活用計画2020",
                "start_fiscal_year": 2016, "end_fiscal_year": 2020}),
        )
        .await,
    )
    .await;
    let plan = two_layer_plan(&app).await;
    let linked =
        app.patch(&format!("/plans/{}", plan.plan_id), &app.hq, &json!({"predecessor_id": old_plan["id"]})).await;
    assert_eq!(linked.status(), 200);
    assert_eq!(json(linked).await["predecessor_id"], old_plan["id"]);
    let backwards =
        app.patch(&format!("/plans/{}", old_plan["id"]), &app.hq, &json!({"predecessor_id": plan.plan_id})).await;
    assert_eq!(assert_problem(backwards, 422).await["errors"][0]["field"], "predecessor_id");

    let references = format!("/plans/{}/references", plan.plan_id);
    for (kind, title) in [
        ("higher_plan", "板橋区基本計画2025"),
        ("higher_plan", "いたばし№1実現プラン2025"),
        ("national_policy", "自治体デジタル・トランスフォーメーション(DX)推進計画"),
    ] {
        expect_created(app.post(&references, &app.hq, &json!({"kind": kind, "title": title})).await).await;
    }
    let bad_url = app
        .post(
            &references,
            &app.hq,
            &json!({"kind": "related_plan", "title": "各種個別計画", "url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(assert_problem(bad_url, 422).await["errors"][0]["field"], "url");
    assert_problem(app.post(&references, &app.viewer, &json!({"kind": "higher_plan", "title": "x"})).await, 403).await;
    let listed = json(app.get(&references, &app.viewer).await).await;
    assert_eq!(listed["total"], 3);
    assert_eq!(listed["items"][1]["title"], "いたばし№1実現プラン2025");
    assert_eq!(listed["items"][2]["kind"], "national_policy");
}
