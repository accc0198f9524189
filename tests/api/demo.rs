//! The demo plans as loaded by `serve --demo`: the 2020 plan checked against seed
//! 003_acbd9fd11ab82639.txt, its successor against seeds 000–002, 文京区's plan against seed 004.

use municipal_kpi::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, create_user_in, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    demo_plan_matches_the_seed,
    demo_loading_is_idempotent_and_refuses_other_plans,
    sample_actuals_are_marked_and_deterministic,
    every_demo_department_has_an_indicator_open_in_the_last_year,
    screens_open_where_collection_is_open_else_on_the_latest_year_with_actuals,
    the_successor_plan_and_bunkyo_are_loaded_next_to_the_2020_plan,
);

async fn measure(app: &TestApp, plan_id: i32, number: i64) -> Value {
    let page = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.viewer).await).await;
    page["items"].as_array().unwrap().iter().find(|m| m["number"] == number).cloned().unwrap()
}

async fn indicators(app: &TestApp, measure: &Value) -> Vec<Value> {
    json(app.get(&format!("/measures/{}/indicators", measure["id"]), &app.viewer).await).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn demo_plan_matches_the_seed(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = app.load_demo();
    let plan = json(app.get(&format!("/plans/{plan_id}"), &app.viewer).await).await;
    assert_eq!(plan["name"], "板橋区ICT推進・活用計画2020（追録版）");
    assert_eq!(plan["end_fiscal_year_label"], "令和2(2020)年度");
    let municipalities = json(app.get("/municipalities", &app.viewer).await).await["items"].clone();
    assert_eq!(municipalities[0]["code"], "131199");

    let page = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.viewer).await).await;
    assert_eq!(page["total"], 41);
    let numbers: Vec<i64> = page["items"].as_array().unwrap().iter().map(|m| m["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=41).collect::<Vec<_>>());
    let goals = json(app.get(&format!("/plans/{plan_id}/goals"), &app.viewer).await).await["items"].clone();
    assert_eq!(goals[0]["name"], "開かれた区政の実現");
    assert_eq!(goals[4]["name"], "行政事務の効率化");
    let strategies = json(app.get(&format!("/plans/{plan_id}/strategies"), &app.viewer).await).await["items"].clone();
    assert_eq!(strategies[0]["name"], "官民データの利活用");

    // No.6: two owners, renamed, ratio indicator 15.2% → 35.1%.
    let no6 = measure(&app, plan_id, 6).await;
    assert_eq!(no6["name"], "マイナンバー制度への対応");
    let owners: Vec<&str> =
        no6["owners"].as_array().unwrap().iter().map(|o| o["department_name"].as_str().unwrap()).collect();
    assert_eq!(owners, vec!["IT推進課", "戸籍住民課"]);
    assert_eq!(no6["owners"][1]["from_fiscal_year"], 2018);
    assert_eq!(no6["review_category_label"], "官デ変");
    let no6_indicators = indicators(&app, &no6).await;
    let rate = no6_indicators.iter().find(|i| i["number"] == 2).unwrap();
    assert_eq!(rate["kind"], "ratio");
    assert_eq!(rate["numerator_label"], "交付件数");
    assert_eq!(rate["denominator_label"], "人口");
    assert_eq!(rate["baseline"]["value"].as_f64(), Some(15.2));
    assert_eq!(rate["baseline"]["fiscal_year_label"], "平成29(2017)年度");
    assert_eq!(rate["current_target"]["value"].as_f64(), Some(35.1));
    assert_eq!(rate["current_target"]["target_fiscal_year_label"], "令和2(2020)年度");
    let audit = json(app.get(&format!("/audit?entity_type=measure&entity_id={}", no6["id"]), &app.hq).await).await;
    assert!(
        audit["items"].as_array().unwrap().iter().any(|e| e["old_value"]["name"] == "社会保障・税番号制度への対応")
    );

    // No.1: 210 → 230 データセット, with the reason.
    let no1 = indicators(&app, &measure(&app, plan_id, 1).await).await;
    let items = no1.iter().find(|i| i["number"] == 1).unwrap();
    let targets =
        json(app.get(&format!("/indicators/{}/targets", items["id"]), &app.viewer).await).await["items"].clone();
    let values: Vec<f64> = targets.as_array().unwrap().iter().map(|t| t["value"].as_f64().unwrap()).collect();
    assert_eq!(values, vec![210.0, 230.0]);
    assert!(targets[1]["reason"].as_str().unwrap().contains("上方修正"));
    assert_eq!(items["baseline"]["value"], json!(203));

    // No.14: 300 → 500 件.
    let no14 = indicators(&app, &measure(&app, plan_id, 14).await).await;
    let targets =
        json(app.get(&format!("/indicators/{}/targets", no14[0]["id"]), &app.viewer).await).await["items"].clone();
    let values: Vec<f64> = targets.as_array().unwrap().iter().map(|t| t["value"].as_f64().unwrap()).collect();
    assert_eq!(values, vec![300.0, 500.0]);

    // Completed measures: No.11 and No.25 in 平成29(2017)年度.
    for number in [11, 25] {
        let completed = measure(&app, plan_id, number).await;
        assert_eq!(completed["status"], "completed");
        assert_eq!(completed["status_fiscal_year_label"], "平成29(2017)年度");
    }
    // No.12 ↑, No.16 0件, No.17 100%維持, No.36 milestone + count.
    let no12 = indicators(&app, &measure(&app, plan_id, 12).await).await;
    assert_eq!(no12[0]["direction"], "trend_up");
    assert_eq!(no12[0]["baseline"]["value"], json!(2298));
    let no16 = indicators(&app, &measure(&app, plan_id, 16).await).await;
    assert_eq!(no16[0]["direction"], "maintain_at_most");
    assert_eq!(no16[0]["current_target"]["value"], json!(0));
    let no17 = indicators(&app, &measure(&app, plan_id, 17).await).await;
    assert_eq!(no17[0]["direction"], "maintain_at_least");
    assert_eq!(no17[0]["current_target"]["text"], "100%維持");
    let no36 = indicators(&app, &measure(&app, plan_id, 36).await).await;
    let milestone = no36.iter().find(|i| i["kind"] == "milestone").unwrap();
    assert_eq!(milestone["current_target"]["stage_name"], "サービス開始");
    let count = no36.iter().find(|i| i["kind"] == "count").unwrap();
    assert_eq!(count["baseline"]["value"], json!(441063));
    assert_eq!(count["current_target"]["value"], json!(460000));

    // Every active indicator in the seed: 59; deleted (No.5, 23, 28) and replaced ones are retired.
    let mut active = 0;
    let mut retired = 0;
    for m in page["items"].as_array().unwrap() {
        for indicator in indicators(&app, m).await {
            match indicator["status"].as_str().unwrap() {
                "active" => active += 1,
                _ => retired += 1,
            }
        }
    }
    assert_eq!(active, 59);
    assert!(retired >= 3, "deleted indicators are kept as retired records");
}

async fn demo_loading_is_idempotent_and_refuses_other_plans(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.load_demo();
    assert_eq!(app.load_demo(), first);
    let other = spawn_app(backend).await;
    let response = other
        .post(
            "/plans",
            &other.hq,
            &json!({"municipality_id": other.municipality_id, "code": "real", "name": "本番の計画",
            "start_fiscal_year": 2021, "end_fiscal_year": 2025}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let refused = municipal_kpi::demo::ensure_loaded(&other.db, true);
    assert!(matches!(refused, Err(municipal_kpi::error::AppError::Conflict(_))));
}

async fn sample_actuals_are_marked_and_deterministic(backend: Backend) {
    let first = spawn_app(backend).await;
    let outcome = municipal_kpi::demo::ensure_loaded(&first.db, true).unwrap();
    let municipal_kpi::demo::DemoOutcome::Loaded { sample_actuals, report, .. } = outcome else {
        panic!("fresh database")
    };
    assert!(sample_actuals > 100, "{sample_actuals} samples");
    let no6 = measure(&first, report.plan_id, 6).await;
    let rate = indicators(&first, &no6).await.into_iter().find(|i| i["number"] == 2).unwrap();
    let actuals =
        json(first.get(&format!("/indicators/{}/actuals", rate["id"]), &first.viewer).await).await["items"].clone();
    let actuals = actuals.as_array().unwrap();
    assert!(!actuals.is_empty());
    for actual in actuals {
        assert_eq!(actual["is_sample"], true);
        assert!(actual["note"].as_str().unwrap().starts_with("サンプル"));
        assert!((2018..=2020).contains(&actual["fiscal_year"].as_i64().unwrap()));
    }
    // The same demo twice gives the same figures.
    let second = spawn_app(backend).await;
    let again = municipal_kpi::demo::ensure_loaded(&second.db, true).unwrap();
    let no6_again = measure(&second, again.plan_id(), 6).await;
    let rate_again = indicators(&second, &no6_again).await.into_iter().find(|i| i["number"] == 2).unwrap();
    let actuals_again = json(second.get(&format!("/indicators/{}/actuals", rate_again["id"]), &second.viewer).await)
        .await["items"]
        .clone();
    let figures = |list: &[Value]| {
        list.iter().map(|a| (a["fiscal_year"].clone(), a["numerator"].clone(), a["status"].clone())).collect::<Vec<_>>()
    };
    assert_eq!(figures(actuals), figures(actuals_again.as_array().unwrap()));
}

/// `serve --demo` leaves FY2020 open for each department user: its first PUT creates an actual
/// instead of meeting a sample that needs If-Match (the README's walk-through starts there).
async fn every_demo_department_has_an_indicator_open_in_the_last_year(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = municipal_kpi::demo::ensure_loaded(&app.db, true).unwrap().plan_id();
    let measures =
        json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.viewer).await).await["items"].clone();
    let in_force = |from: &Value, until: &Value| {
        from.as_i64().is_none_or(|from| from <= 2020) && until.as_i64().is_none_or(|until| until >= 2020)
    };
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
        let department_id = me["user"]["department_id"].clone();
        assert!(department_id.is_i64(), "{me}");
        // The demo's 本部 has opened FY2020 of the 2020 plan: every screen opens there.
        assert_eq!(me["current_cycle"]["plan_id"], plan_id, "{me}");
        assert_eq!(me["current_cycle"]["fiscal_year"], 2020);
        assert_eq!(me["current_cycle"]["basis"], "collection_open");
        let mut open = Vec::new();
        for measure in measures.as_array().unwrap() {
            let owns = measure["owners"].as_array().unwrap().iter().any(|o| {
                o["department_id"] == department_id && in_force(&o["from_fiscal_year"], &o["until_fiscal_year"])
            });
            if !owns {
                continue;
            }
            for indicator in indicators(&app, measure).await {
                if !in_force(&indicator["added_fiscal_year"], &Value::Null)
                    || indicator["retired_from_fiscal_year"].as_i64().is_some_and(|retired| retired <= 2020)
                {
                    continue;
                }
                let path = format!("/indicators/{}/actuals/2020", indicator["id"]);
                let response = app.client.get(app.api(&path)).bearer_auth(&token).send().await.unwrap();
                if response.status() == 404 {
                    open.push(indicator["id"].clone());
                }
            }
        }
        assert!(!open.is_empty(), "{} has no indicator without an FY2020 actual", user.username);
    }
}

/// `GET /me` says where the yearly cycle stands: the newest open collection, else the latest year
/// with actuals, never an empty year of the newer plan while an older one holds data.
async fn screens_open_where_collection_is_open_else_on_the_latest_year_with_actuals(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan_id = municipal_kpi::demo::ensure_loaded(&app.db, true).unwrap().plan_id();
    let collections = json(app.get(&format!("/plans/{plan_id}/collections"), &app.viewer).await).await;
    assert_eq!(collections["total"], 1, "a fresh demo has one collection open");
    assert_eq!(
        (
            &collections["items"][0]["fiscal_year"],
            &collections["items"][0]["deadline"],
            &collections["items"][0]["closed_at"]
        ),
        (&json!(2020), &Value::Null, &Value::Null)
    );
    let cycle = |me: Value| {
        let cycle = &me["current_cycle"];
        (
            cycle["plan_id"].as_i64().unwrap(),
            cycle["fiscal_year"].as_i64().unwrap(),
            cycle["basis"].as_str().unwrap().to_owned(),
        )
    };
    let me = json(app.get("/me", &app.hq).await).await;
    assert_eq!(me["current_cycle"]["fiscal_year_label"], "令和2(2020)年度");
    assert_eq!(cycle(me), (i64::from(plan_id), 2020, "collection_open".to_owned()));

    // Closed: the latest year with actuals (FY2020 of the 2020 plan), not FY2021+ of the successor.
    let closed = app.patch(&format!("/plans/{plan_id}/collections/2020"), &app.hq, &json!({"closed": true})).await;
    assert_eq!(closed.status(), 200);
    assert_eq!(
        cycle(json(app.get("/me", &app.viewer).await).await),
        (i64::from(plan_id), 2020, "latest_actuals".to_owned())
    );

    // A collection opened for the successor's first year: the newest open year wins.
    let successor = plan_by_code(&app, "itabashi-dx-2025").await["id"].as_i64().unwrap();
    let opened = app.post(&format!("/plans/{successor}/collections"), &app.hq, &json!({"fiscal_year": 2021})).await;
    assert_eq!(opened.status(), 201);
    assert_eq!(json(opened).await["warnings"], json!([]), "no deadline, nothing to warn about");
    assert_eq!(cycle(json(app.get("/me", &app.hq).await).await), (successor, 2021, "collection_open".to_owned()));

    // Without actuals or collections: the plan running latest, within its period.
    let empty = spawn_app(backend).await;
    empty.load_demo();
    let (plan, year, basis) = cycle(json(empty.get("/me", &empty.hq).await).await);
    assert_eq!(
        (plan, basis.as_str()),
        (plan_by_code(&empty, "itabashi-dx-2025").await["id"].as_i64().unwrap(), "plan_period")
    );
    assert!((2021..=2025).contains(&year), "{year}");
}

async fn plan_by_code(app: &TestApp, code: &str) -> Value {
    plan_by_code_for(app, &app.viewer, code).await
}

async fn plan_by_code_for(app: &TestApp, user: &TestUser, code: &str) -> Value {
    let plans = json(app.get("/plans?limit=500", user).await).await;
    plans["items"].as_array().unwrap().iter().find(|p| p["code"] == code).cloned().unwrap()
}

async fn the_successor_plan_and_bunkyo_are_loaded_next_to_the_2020_plan(backend: Backend) {
    let app = spawn_app(backend).await;
    let old_id = municipal_kpi::demo::ensure_loaded(&app.db, true).unwrap().plan_id();
    // Three plans now: the 2020 plan and its successor for 板橋区, and 文京区's, which 板橋区's
    // users do not see.
    assert_eq!(json(app.get("/plans", &app.viewer).await).await["total"], 2);

    let plan = plan_by_code(&app, "itabashi-dx-2025").await;
    let plan_id = plan["id"].as_i64().unwrap();
    assert_eq!(plan["predecessor_id"], old_id);
    assert_eq!(plan["name"], "板橋区DX推進計画2025");
    let phases: Vec<&str> = plan["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(phases, vec!["前期実施計画", "後期実施計画"]);
    // Renamed for the 後期実施計画: FY2023 still bears the first name.
    let fy2023 = json(app.get(&format!("/plans/{plan_id}/evaluation?fiscal_year=2023"), &app.hq).await).await;
    assert_eq!(fy2023["plan_name"], "板橋区ICT推進・活用計画2025");
    let fy2024 = json(app.get(&format!("/plans/{plan_id}/evaluation?fiscal_year=2024"), &app.hq).await).await;
    assert_eq!(fy2024["plan_name"], "板橋区DX推進計画2025");
    let references = json(app.get(&format!("/plans/{plan_id}/references"), &app.viewer).await).await;
    let titles: Vec<&str> =
        references["items"].as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"板橋区基本計画2025") && titles.contains(&"いたばし№1実現プラン2025"), "{titles:?}");
    let visions = json(app.get(&format!("/plans/{plan_id}/goals?kind=ICT活用ビジョン"), &app.viewer).await).await;
    assert_eq!(visions["total"], 2);

    // ぴったりサービス: 9 procedures, at least 18 in FY2021; carried over from the 2020 plan's No.8.
    let online = measure(&app, plan_id as i32, 2).await;
    assert_eq!(online["predecessor_id"], measure(&app, old_id, 8).await["id"]);
    assert_eq!(online["phase_id"], plan["phases"][0]["id"]);
    let procedures = indicators(&app, &online).await;
    assert_eq!(procedures[0]["baseline"]["value"], json!(9));
    assert_eq!(procedures[0]["current_target"]["value"], json!(18));
    assert_eq!(procedures[0]["current_target"]["target_fiscal_year_label"], "令和3(2021)年度");
    // No figure the seeds do not give: no actual in the new plan.
    assert_eq!(
        json(app.get(&format!("/indicators/{}/actuals", procedures[0]["id"]), &app.viewer).await).await["total"],
        0
    );

    // RPA continues the 2020 plan's indicator: one series FY2016–2025; only the 2020 plan's
    // generated samples carry figures, flagged as samples.
    let rpa = indicators(&app, &measure(&app, plan_id as i32, 3).await).await;
    let series = json(app.get(&format!("/indicators/{}/series?limit=500", rpa[0]["id"]), &app.viewer).await).await;
    assert_eq!(series["total"], 10);
    let items = series["items"].as_array().unwrap();
    assert_eq!(items[0]["fiscal_year_label"], "平成28(2016)年度");
    assert_eq!(items[9]["plan_code"], "itabashi-dx-2025");
    assert_eq!(items[9]["phase_name"], "後期実施計画");
    for year in items {
        if let Some(actual) = year["approved_actual"].as_object() {
            assert_eq!(year["plan_code"], "itabashi-ict-2020");
            assert_eq!(actual["is_sample"], true);
        }
    }

    // 文京区: its own municipality, purposes ア/イ/ウ instead of 基本目標, the keywords as measures.
    let municipalities = json(app.get("/municipalities?limit=500", &app.system_admin).await).await;
    let bunkyo_municipality = municipalities["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "131059" && m["name"] == "文京区")
        .expect("文京区 is registered")["id"]
        .as_i64()
        .unwrap();
    let bunkyo_viewer =
        create_user_in(&app.db, &app.tokens, "bunkyo-viewer", Role::Viewer, None, Some(bunkyo_municipality as i32));
    let bunkyo = plan_by_code_for(&app, &bunkyo_viewer, "bunkyo-data-2019").await;
    assert_eq!(app.get(&format!("/plans/{}", bunkyo["id"]), &app.viewer).await.status(), 404, "another municipality's");
    assert_eq!(bunkyo["end_fiscal_year_label"], "令和3(2021)年度");
    let goals = json(app.get(&format!("/plans/{}/goals", bunkyo["id"]), &bunkyo_viewer).await).await;
    let symbols: Vec<&str> = goals["items"].as_array().unwrap().iter().map(|g| g["symbol"].as_str().unwrap()).collect();
    assert_eq!(symbols, vec!["ア", "イ", "ウ"]);
    assert_eq!(goals["items"][0]["kind"], "計画の目的");
    let keywords = json(
        app.get(&format!("/plans/{}/measures?goal_id={}", bunkyo["id"], goals["items"][2]["id"]), &bunkyo_viewer).await,
    )
    .await;
    assert_eq!(keywords["total"], 7);
    assert_eq!(keywords["items"][0]["name"], "マイナンバーカードの普及・活用");
}
