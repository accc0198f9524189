//! The 本部's evaluation on a small fixture plan whose roll-ups are computed by hand, its `as_of`
//! reproducibility, collection status, revisions, spreadsheets, imports and the dashboard.
//!
//! Fixture (plan FY2020–2022, baselines FY2019, targets FY2022), actuals for FY2021:
//!
//! | indicator | measure (◎ goal, owners) | rule | b → t | actual | progress | status |
//! |---|---|---|---|---|---|---|
//! | I1 count | M1 (①, ○②; A) | increase | 100 → 200 | 170 | 70.0 | on_track (r = 70/66.7 = 1.05) |
//! | I2 ratio 交付件数/人口 | M1 | increase | 20 → 40 | 30/100 = 30.0 | 50.0 | behind (r = 10/13.3 = 0.75) |
//! | I3 ratio 交付件数/人口 (dept B) | M2 (②; A, B) | increase | 20 → 40 | 10/60 = 16.7 | −16.7 | deteriorating |
//! | I4 percent | M2 | maintain ≥ 100 | 100 | 100 | 100 | achieved |
//! | I5 count | M2 | retired from FY2021 | — | — | — | not counted |
//! | I6 count | M3 (②; B) | increase | 5 → 10 | none | — | no_data |
//!
//! Roll-ups (progress clamped to [0, 100], then averaged): M1 (70+50)/2 = 60.0 C; M2 (0+100)/2 =
//! 50.0 C; goal ① = M1 = 60.0; goal ② = M2 + M3 = 50.0 (3 indicators, achieved share 1/2 = 50.0);
//! department A (M1, M2) = (70+50+0+100)/4 = 55.0; department B (M2, M3) = 50.0; plan = 55.0 C,
//! achieved share 1/4 = 25.0. Pooled 交付件数/人口 for A: (30+10)/(100+60) = 25.0, not the mean of
//! percents (30.0+16.7)/2 = 23.3.
use municipal_kpi::domain::ids::PlanId;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    roll_ups_match_the_hand_computed_fixture,
    as_of_reproduces_the_earlier_evaluation,
    collection_status_lists_missing_and_late_per_department,
    rows_awaiting_review_carry_the_figures_sent,
    revisions_apply_from_their_fiscal_year,
    spreadsheets_carry_the_evaluation,
    import_checks_every_row_and_applies_all_or_none,
    an_import_correcting_an_actual_changed_since_its_check_applies_nothing,
    dashboard_is_cacheable,
    a_plan_document_can_be_imported,
);

struct Fixture {
    plan: i64,
    goals: [i64; 2],
    measures: [i64; 3],
    indicators: [i64; 6],
    a: TestUser,
    b: TestUser,
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body = json(response).await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn fixture(app: &TestApp) -> Fixture {
    let a = app.department_user("dept-a", "IT推進課");
    let b = app.department_user("dept-b", "戸籍住民課");
    let plan = created(
        app.post(
            "/plans",
            &app.hq,
            &json!({"municipality_id": app.municipality_id, "code": "fixture", "name": "評価テスト計画",
                "start_fiscal_year": 2020, "end_fiscal_year": 2022, "baseline_fiscal_year": 2019, "status": "active"}),
        )
        .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut goals = [0; 2];
    for (i, name) in ["開かれた区政の実現", "区民サービスの向上"].iter().enumerate() {
        goals[i] =
            created(app.post(&format!("/plans/{plan}/goals"), &app.hq, &json!({"number": i + 1, "name": name})).await)
                .await["id"]
                .as_i64()
                .unwrap();
    }
    let strategy = created(
        app.post(&format!("/plans/{plan}/strategies"), &app.hq, &json!({"number": 1, "name": "官民データの利活用"}))
            .await,
    )
    .await["id"]
        .clone();
    let measure = |number: i64, goal: i64, secondary: Vec<i64>, owners: Vec<i32>| {
        json!({"number": number, "name": format!("施策{number}"), "main_goal_id": goal, "secondary_goal_ids": secondary,
            "strategy_id": if number == 1 { strategy.clone() } else { Value::Null },
            "review_category": "continued", "owner_department_ids": owners})
    };
    let (da, db) = (a.department_id.unwrap(), b.department_id.unwrap());
    let mut measures = [0; 3];
    for (i, body) in [
        measure(1, goals[0], vec![goals[1]], vec![da]),
        measure(2, goals[1], vec![], vec![da, db]),
        measure(3, goals[1], vec![], vec![db]),
    ]
    .into_iter()
    .enumerate()
    {
        measures[i] =
            created(app.post(&format!("/plans/{plan}/measures"), &app.hq, &body).await).await["id"].as_i64().unwrap();
    }
    let target = |value: i64| json!({"value": value, "target_fiscal_year": 2022, "effective_from_fiscal_year": 2020, "reason": "当初計画"});
    let baseline = |value: i64| json!({"fiscal_year": 2019, "value": value});
    let definitions = [
        (
            measures[0],
            json!({"number": 1, "name": "I1", "kind": "count", "direction": "increase", "baseline": baseline(100), "target": target(200)}),
        ),
        (
            measures[0],
            json!({"number": 2, "name": "I2", "kind": "ratio", "direction": "increase", "unit": "%",
            "numerator_label": "交付件数", "denominator_label": "人口", "baseline": baseline(20), "target": target(40)}),
        ),
        (
            measures[1],
            json!({"number": 1, "name": "I3", "kind": "ratio", "direction": "increase", "unit": "%",
            "numerator_label": "交付件数", "denominator_label": "人口", "department_id": db, "baseline": baseline(20), "target": target(40)}),
        ),
        (
            measures[1],
            json!({"number": 2, "name": "I4", "kind": "percent", "direction": "maintain_at_least", "unit": "%",
            "baseline": baseline(100), "target": target(100)}),
        ),
        (
            measures[1],
            json!({"number": 3, "name": "I5", "kind": "count", "direction": "increase", "baseline": baseline(1), "target": target(2)}),
        ),
        (
            measures[2],
            json!({"number": 1, "name": "I6", "kind": "count", "direction": "increase", "baseline": baseline(5), "target": target(10)}),
        ),
    ];
    let mut indicators = [0; 6];
    for (i, (measure, body)) in definitions.into_iter().enumerate() {
        indicators[i] = created(app.post(&format!("/measures/{measure}/indicators"), &app.hq, &body).await).await["id"]
            .as_i64()
            .unwrap();
    }
    created(
        app.post(
            &format!("/indicators/{}/retire", indicators[4]),
            &app.hq,
            &json!({"from_fiscal_year": 2021, "reason": "指標の削除"}),
        )
        .await,
    )
    .await;
    Fixture { plan, goals, measures, indicators, a, b }
}

async fn report(app: &TestApp, user: &TestUser, indicator: i64, year: i32, body: Value) {
    let response = app.put(&format!("/indicators/{indicator}/actuals/{year}"), user, &body, None).await;
    created(response).await;
    let review = app
        .post(&format!("/indicators/{indicator}/actuals/{year}/review"), &app.hq, &json!({"action": "approve"}))
        .await;
    created(review).await;
}

async fn report_fixture_actuals(app: &TestApp, f: &Fixture) {
    report(app, &f.a, f.indicators[0], 2021, json!({"value": 170, "note": "オープンデータ追加"})).await;
    report(app, &f.a, f.indicators[1], 2021, json!({"numerator": 30, "denominator": 100})).await;
    report(app, &f.b, f.indicators[2], 2021, json!({"numerator": 10, "denominator": 60})).await;
    report(app, &f.b, f.indicators[3], 2021, json!({"value": 100})).await;
}

async fn evaluation(app: &TestApp, plan: i64, query: &str) -> Value {
    let response = app.get(&format!("/plans/{plan}/evaluation?{query}"), &app.hq).await;
    assert_eq!(response.status(), 200);
    json(response).await
}

fn number(value: &Value) -> Option<f64> {
    value.as_f64()
}

fn by_id<'a>(list: &'a Value, key: &str, id: i64) -> &'a Value {
    list.as_array().unwrap().iter().find(|item| item[key] == id).unwrap_or_else(|| panic!("{key} {id} in {list}"))
}

async fn roll_ups_match_the_hand_computed_fixture(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    report_fixture_actuals(&app, &f).await;
    let e = evaluation(&app, f.plan, "fiscal_year=2021").await;
    assert_eq!(e["fiscal_year_label"], "令和3(2021)年度");
    assert_eq!(e["grading"]["grade_a_min"].as_f64(), Some(100.0));

    let indicator = |i: usize| by_id(&e["indicators"], "indicator_id", f.indicators[i]).clone();
    assert_eq!(e["indicators"].as_array().unwrap().len(), 5, "the retired I5 is not counted in 2021");
    let expected = [
        (0, 70.0, "on_track", "C"),
        (1, 50.0, "behind", "C"),
        (2, -16.7, "deteriorating", "D"),
        (3, 100.0, "achieved", "A"),
    ];
    for (i, progress, status, grade) in expected {
        let item = indicator(i);
        assert_eq!(number(&item["result"]["progress_rate"]), Some(progress), "I{}", i + 1);
        assert_eq!(item["result"]["status"], status, "I{}", i + 1);
        assert_eq!(item["result"]["grade"], grade, "I{}", i + 1);
    }
    assert_eq!(indicator(5)["result"]["status"], "no_data");
    assert_eq!(number(&indicator(1)["actual"]["rate"]), Some(30.0));

    let measure = |i: usize| by_id(&e["measures"], "measure_id", f.measures[i])["roll_up"].clone();
    assert_eq!(number(&measure(0)["mean_progress"]), Some(60.0));
    assert_eq!(measure(0)["grade"], "C");
    assert_eq!(number(&measure(1)["mean_progress"]), Some(50.0));
    assert_eq!(number(&measure(1)["achieved_share"]), Some(50.0));
    assert_eq!(measure(2)["mean_progress"], Value::Null);
    assert_eq!(measure(2)["grade"], "—");

    let goal = |i: usize| by_id(&e["goals"], "id", f.goals[i]).clone();
    assert_eq!(goal(0)["label"], "①開かれた区政の実現");
    assert_eq!(number(&goal(0)["roll_up"]["mean_progress"]), Some(60.0));
    assert_eq!(goal(1)["roll_up"]["indicator_count"], 3, "M1 counts under ① only");
    assert_eq!(number(&goal(1)["roll_up"]["mean_progress"]), Some(50.0));
    assert_eq!(goal(1)["secondary_measure_ids"], json!([f.measures[0]]), "○ is listed");
    assert_eq!(goal(1)["roll_up"]["status_counts"]["no_data"], 1);

    let department = |user: &TestUser| by_id(&e["departments"], "id", user.department_id.unwrap().into()).clone();
    assert_eq!(number(&department(&f.a)["roll_up"]["mean_progress"]), Some(55.0));
    assert_eq!(number(&department(&f.b)["roll_up"]["mean_progress"]), Some(50.0));
    let pooled = &department(&f.a)["pooled_ratios"][0];
    assert_eq!(pooled["numerator_label"], "交付件数");
    assert_eq!(number(&pooled["numerator"]), Some(40.0));
    assert_eq!(number(&pooled["denominator"]), Some(160.0));
    assert_eq!(number(&pooled["rate"]), Some(25.0), "Σ numerator / Σ denominator, not 23.3");

    assert_eq!(number(&e["plan_roll_up"]["mean_progress"]), Some(55.0));
    assert_eq!(number(&e["plan_roll_up"]["achieved_share"]), Some(25.0));
    assert_eq!(e["plan_roll_up"]["grade"], "C");
    let ids =
        |list: &Value| list.as_array().unwrap().iter().map(|r| r["indicator_id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(&e["lists"]["missing"]), vec![f.indicators[5]]);
    assert_eq!(ids(&e["lists"]["deteriorating"]), vec![f.indicators[2]]);
    assert!(ids(&e["lists"]["not_achieved"]).is_empty(), "2021 is before the target year");

    // In 2020 the retired indicator still counts.
    let earlier = evaluation(&app, f.plan, "fiscal_year=2020").await;
    assert!(earlier["indicators"].as_array().unwrap().iter().any(|i| i["indicator_id"] == f.indicators[4]));
    assert_problem(app.get(&format!("/plans/{}/evaluation?fiscal_year=2023", f.plan), &app.hq).await, 422).await;
}

async fn as_of_reproduces_the_earlier_evaluation(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    report_fixture_actuals(&app, &f).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let first_seen = chrono::Utc::now();
    let before = evaluation(&app, f.plan, "fiscal_year=2021").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // Afterwards: the target of I1 is raised from 2021 and its actual corrected (reopen → 190).
    created(
        app.post(&format!("/indicators/{}/targets", f.indicators[0]), &app.hq,
            &json!({"value": 300, "target_fiscal_year": 2022, "effective_from_fiscal_year": 2021, "reason": "目標を上方修正"}))
            .await,
    )
    .await;
    let path = format!("/indicators/{}/actuals/2021", f.indicators[0]);
    created(
        app.post(&format!("{path}/review"), &app.hq, &json!({"action": "reopen", "comment": "確定値で再報告"})).await,
    )
    .await;
    let etag = app.get(&path, &f.a).await.headers()["etag"].to_str().unwrap().to_owned();
    created(app.put(&path, &f.a, &json!({"value": 190, "note": "確定値"}), Some(&etag)).await).await;
    created(app.post(&format!("{path}/review"), &app.hq, &json!({"action": "approve"})).await).await;

    let now = evaluation(&app, f.plan, "fiscal_year=2021").await;
    let i1 = |e: &Value| by_id(&e["indicators"], "indicator_id", f.indicators[0]).clone();
    assert_eq!(number(&i1(&now)["result"]["progress_rate"]), Some(45.0), "(190−100)/(300−100)");
    assert_eq!(number(&i1(&now)["target"]["value"]), Some(300.0));

    let as_of = first_seen.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
    let reproduced = evaluation(&app, f.plan, &format!("fiscal_year=2021&as_of={as_of}")).await;
    assert_eq!(number(&i1(&reproduced)["result"]["progress_rate"]), Some(70.0));
    assert_eq!(number(&i1(&reproduced)["target"]["value"]), Some(200.0));
    assert_eq!(number(&i1(&reproduced)["actual"]["value"]), Some(170.0));
    for key in ["plan_roll_up", "goals", "departments", "measures", "lists"] {
        assert_eq!(reproduced[key], before[key], "{key} as it was first seen");
    }
    assert_problem(
        app.get(&format!("/plans/{}/evaluation?fiscal_year=2021&as_of=yesterday", f.plan), &app.hq).await,
        422,
    )
    .await;
}

async fn collection_status_lists_missing_and_late_per_department(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let opened = app
        .post(
            &format!("/plans/{}/collections", f.plan),
            &app.hq,
            &json!({"fiscal_year": 2021, "deadline": "2022-05-31"}),
        )
        .await;
    assert_eq!(opened.status(), 201);
    // The deadline is over already: accepted, with a warning to look at the date again.
    let opened = json(opened).await;
    assert_eq!(opened["deadline"], "2022-05-31");
    assert_eq!(opened["warnings"][0]["code"], "deadline_passed", "{opened}");
    assert!(
        opened["warnings"][0]["message"].as_str().unwrap().starts_with("提出期限（2022年5月31日）は既に過ぎています")
    );
    let refused = assert_problem(
        app.post(&format!("/plans/{}/collections", f.plan), &app.hq, &json!({"fiscal_year": 2021})).await,
        409,
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().starts_with("令和3(2021)年度の受付は既に開始されています"));
    assert_problem(app.post(&format!("/plans/{}/collections", f.plan), &f.a, &json!({"fiscal_year": 2022})).await, 403)
        .await;
    // I1 approved, I3 submitted only, I4 returned; I2 and I6 missing (I5 is retired). Everything
    // was submitted today, after the deadline.
    report(&app, &f.a, f.indicators[0], 2021, json!({"value": 170})).await;
    created(
        app.put(
            &format!("/indicators/{}/actuals/2021", f.indicators[2]),
            &f.b,
            &json!({"numerator": 1, "denominator": 2}),
            None,
        )
        .await,
    )
    .await;
    created(app.put(&format!("/indicators/{}/actuals/2021", f.indicators[3]), &f.b, &json!({"value": 90}), None).await)
        .await;
    created(
        app.post(
            &format!("/indicators/{}/actuals/2021/review", f.indicators[3]),
            &app.hq,
            &json!({"action": "return", "comment": "確認"}),
        )
        .await,
    )
    .await;

    let status = json(app.get(&format!("/plans/{}/submissions?fiscal_year=2021", f.plan), &app.viewer).await).await;
    assert_eq!(status["collection"]["deadline"], "2022-05-31");
    let department =
        |user: &TestUser| by_id(&status["departments"], "department_id", user.department_id.unwrap().into()).clone();
    // A reports I1, I2 (M1) and I4 (M2, no own department); I3 belongs to B alone.
    let a = department(&f.a);
    // 期限超過 is what is still outstanding (I2 missing, I4 returned); I1 came in after the deadline.
    assert_eq!(
        a["counts"],
        json!({"missing": 1, "submitted": 0, "returned": 1, "approved": 1, "late": 2, "submitted_late": 1})
    );
    let flags = |department: &Value, indicator: i64| {
        let row = by_id(&department["indicators"], "indicator_id", indicator);
        (row["late"].as_bool().unwrap(), row["submitted_late"].as_bool().unwrap())
    };
    assert_eq!(flags(&a, f.indicators[0]), (false, true), "I1 approved, submitted late");
    assert_eq!(flags(&a, f.indicators[1]), (true, false), "I2 missing");
    assert_eq!(flags(&a, f.indicators[3]), (true, false), "I4 returned");
    let b = department(&f.b);
    assert_eq!(
        b["counts"],
        json!({"missing": 1, "submitted": 1, "returned": 1, "approved": 0, "late": 2, "submitted_late": 1})
    );
    let e = evaluation(&app, f.plan, "fiscal_year=2021").await;
    let ids = |list: &str| -> Vec<i64> {
        e["lists"][list].as_array().unwrap().iter().map(|r| r["indicator_id"].as_i64().unwrap()).collect()
    };
    assert_eq!(ids("pending_review"), vec![f.indicators[2]]);
    assert_eq!(ids("returned"), vec![f.indicators[3]]);
    assert_eq!(ids("late"), vec![f.indicators[1], f.indicators[3], f.indicators[5]], "missing or returned");
    assert_eq!(ids("submitted_late"), vec![f.indicators[0], f.indicators[2]], "in, but after the deadline");
    // Moving the deadline into the future clears lateness, with no warning; closing warns of nothing.
    let moved = created(
        app.patch(&format!("/plans/{}/collections/2021", f.plan), &app.hq, &json!({"deadline": "2099-03-31"})).await,
    )
    .await;
    assert_eq!(moved["warnings"], json!([]));
    let e = evaluation(&app, f.plan, "fiscal_year=2021").await;
    assert!(e["lists"]["late"].as_array().unwrap().is_empty());
    assert!(e["lists"]["submitted_late"].as_array().unwrap().is_empty());
    let back = created(
        app.patch(&format!("/plans/{}/collections/2021", f.plan), &app.hq, &json!({"deadline": "2022-05-31"})).await,
    )
    .await;
    assert_eq!(back["warnings"][0]["code"], "deadline_passed", "moving a deadline into the past warns too");
    let closed =
        created(app.patch(&format!("/plans/{}/collections/2021", f.plan), &app.hq, &json!({"closed": true})).await)
            .await;
    assert_eq!(closed["warnings"], json!([]), "closing sets no deadline");
}

/// The 進捗管理表 shows what a department sent before it is approved (never graded), and the
/// approved figures stay official beside a newer submission.
async fn rows_awaiting_review_carry_the_figures_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let path = format!("/indicators/{}/actuals/2021", f.indicators[0]);
    let i1 = |e: &Value| by_id(&e["indicators"], "indicator_id", f.indicators[0]).clone();
    created(app.put(&path, &f.a, &json!({"value": 170, "note": "オープンデータ追加"}), None).await).await;
    let row = i1(&evaluation(&app, f.plan, "fiscal_year=2021").await);
    assert_eq!(row["actual"], Value::Null, "not approved yet");
    assert_eq!(number(&row["pending_actual"]["value"]), Some(170.0));
    assert_eq!(row["pending_actual"]["status"], "submitted");
    assert_eq!(row["pending_actual"]["note"], "オープンデータ追加");
    assert_eq!(row["pending_actual"]["version"], 1);
    assert_eq!((row["result"]["status"].as_str(), row["result"]["pending"].as_bool()), (Some("no_data"), Some(true)));

    created(app.post(&format!("{path}/review"), &app.hq, &json!({"action": "approve"})).await).await;
    let row = i1(&evaluation(&app, f.plan, "fiscal_year=2021").await);
    assert_eq!(number(&row["actual"]["value"]), Some(170.0));
    assert_eq!(row["pending_actual"], Value::Null);

    created(app.post(&format!("{path}/review"), &app.hq, &json!({"action": "reopen", "comment": "再集計"})).await)
        .await;
    let etag = app.get(&path, &f.a).await.headers()["etag"].to_str().unwrap().to_owned();
    created(app.put(&path, &f.a, &json!({"value": 180}), Some(&etag)).await).await;
    let row = i1(&evaluation(&app, f.plan, "fiscal_year=2021").await);
    assert_eq!(number(&row["actual"]["value"]), Some(170.0), "the approved figures still count");
    assert_eq!(number(&row["pending_actual"]["value"]), Some(180.0));
    assert_eq!(
        (row["pending_actual"]["status"].as_str(), row["pending_actual"]["version"].as_i64()),
        (Some("submitted"), Some(4))
    );
    assert_eq!(number(&row["result"]["progress_rate"]), Some(70.0), "graded on 170");
}

async fn revisions_apply_from_their_fiscal_year(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    // A measure added mid-plan (2021), M3 completed in 2021, owner B added to M1 from 2022, M1 renamed.
    let added = created(
        app.post(&format!("/plans/{}/measures", f.plan), &app.hq,
            &json!({"number": 4, "name": "RPAを活用した業務効率化の推進", "main_goal_id": f.goals[0], "review_category": "data_act_new",
                "owner_department_ids": [f.a.department_id], "added_fiscal_year": 2021}))
            .await,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    created(
        app.post(
            &format!("/measures/{}/status", f.measures[2]),
            &app.hq,
            &json!({"status": "completed", "fiscal_year": 2021, "reason": "完了"}),
        )
        .await,
    )
    .await;
    created(
        app.post(
            &format!("/measures/{}/owners", f.measures[0]),
            &app.hq,
            &json!({"department_id": f.b.department_id, "from_fiscal_year": 2022}),
        )
        .await,
    )
    .await;
    created(
        app.patch(
            &format!("/measures/{}", f.measures[0]),
            &app.hq,
            &json!({"name": "オープンデータの公開促進", "reason": "名称変更"}),
        )
        .await,
    )
    .await;

    let measure_ids = |e: &Value| {
        e["measures"].as_array().unwrap().iter().map(|m| m["measure_id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    let y2020 = evaluation(&app, f.plan, "fiscal_year=2020").await;
    let y2021 = evaluation(&app, f.plan, "fiscal_year=2021").await;
    let y2022 = evaluation(&app, f.plan, "fiscal_year=2022").await;
    assert!(!measure_ids(&y2020).contains(&added));
    assert!(measure_ids(&y2021).contains(&added));
    assert!(measure_ids(&y2021).contains(&f.measures[2]), "completed in 2021: still evaluated that year");
    assert!(!measure_ids(&y2022).contains(&f.measures[2]));
    let b_measures =
        |e: &Value| by_id(&e["departments"], "id", f.b.department_id.unwrap().into())["measure_ids"].clone();
    assert!(!b_measures(&y2021).as_array().unwrap().contains(&json!(f.measures[0])));
    assert!(b_measures(&y2022).as_array().unwrap().contains(&json!(f.measures[0])));
    assert_eq!(by_id(&y2022["measures"], "measure_id", f.measures[0])["name"], "オープンデータの公開促進");
    // Every revision is in the audit log.
    let audit = json(app.get(&format!("/audit?entity_type=measure&entity_id={}", f.measures[0]), &app.hq).await).await;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["create", "add_owner", "update"]);
}

async fn spreadsheets_carry_the_evaluation(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    report_fixture_actuals(&app, &f).await;
    let url = app.api(&format!("/plans/{}/evaluation?fiscal_year=2021", f.plan));
    let csv = app.client.get(&url).bearer_auth(&app.hq.token).header("Accept", "text/csv").send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = csv.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 BOM for Excel");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("column {name}"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let i1 = rows.iter().find(|r| r[column("指標ID")] == f.indicators[0].to_string()).unwrap();
    assert_eq!(&i1[column("年度")], "令和3(2021)年度");
    assert_eq!(&i1[column("基本目標")], "①開かれた区政の実現");
    assert_eq!(&i1[column("実績")], "170");
    assert_eq!(&i1[column("達成率(%)")], "85.0");
    assert_eq!(&i1[column("進捗率(%)")], "70.0");
    assert_eq!(&i1[column("状況")], "順調");
    assert_eq!(&i1[column("評価")], "C");
    assert_eq!(&i1[column("備考")], "オープンデータ追加");
    let i2 = rows.iter().find(|r| r[column("指標ID")] == f.indicators[1].to_string()).unwrap();
    assert_eq!((&i2[column("分子")], &i2[column("分母")], &i2[column("実績")]), ("30", "100", "30.0"));

    let xlsx = app.client.get(format!("{url}&format=xlsx")).bearer_auth(&app.hq.token).send().await.unwrap();
    assert_eq!(xlsx.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = xlsx.bytes().await.unwrap();
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(workbook.sheet_names(), vec!["進捗管理表", "集計", "施策評価"]);
    let sheet = workbook.worksheet_range("進捗管理表").unwrap();
    let title = sheet.get((0, 0)).unwrap().to_string();
    assert!(title.contains("評価テスト計画") && title.contains("令和3(2021)年度"), "{title}");
    let header_row = sheet.rows().position(|r| r.iter().any(|c| *c == "指標ID")).unwrap();
    let headers: Vec<String> = sheet.rows().nth(header_row).unwrap().iter().map(|c| c.to_string()).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = sheet
        .rows()
        .find(|r| r.get(col("指標ID")).map(|c| c.to_string()) == Some(f.indicators[0].to_string()))
        .unwrap();
    assert_eq!(row[col("進捗率(%)")], Data::Float(70.0));
    assert_eq!(row[col("状況")].to_string(), "順調");
    let summary = workbook.worksheet_range("集計").unwrap();
    let plan_row = summary.rows().find(|r| r[0] == "計画全体").unwrap();
    assert_eq!(plan_row[10], Data::Float(55.0));

    let open_data = app
        .client
        .get(app.api(&format!("/plans/{}/open-data", f.plan)))
        .bearer_auth(&app.viewer.token)
        .send()
        .await
        .unwrap();
    let bytes = open_data.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(&reader.headers().unwrap()[0], "全国地方公共団体コード");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 4, "the four approved actuals");
    assert!(records.iter().all(|r| &r[0] == "131199" && &r[4] == "令和3(2021)年度"));
    let refused = app.client.get(&url).bearer_auth(&app.hq.token).header("Accept", "image/png").send().await.unwrap();
    assert_problem(refused, 406).await;
}

async fn import_checks_every_row_and_applies_all_or_none(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let export = |user: TestUser| {
        let client = app.client.clone();
        let url = app.api(&format!("/plans/{}/evaluation?fiscal_year=2022&format=csv", f.plan));
        async move { client.get(url).bearer_auth(&user.token).send().await.unwrap().bytes().await.unwrap() }
    };
    // Fill in the exported sheet as a department would: I1 and I2 (dept A).
    let filled = |bytes: &[u8], edits: &[(i64, &str, &str)]| -> Vec<u8> {
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        let headers = reader.headers().unwrap().clone();
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&headers).unwrap();
        for record in reader.records() {
            let mut record: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
            for (indicator, column, value) in edits {
                if record[headers.iter().position(|h| h == "指標ID").unwrap()] == indicator.to_string() {
                    record[headers.iter().position(|h| h == *column).unwrap()] = value.to_string();
                }
            }
            writer.write_record(&record).unwrap();
        }
        writer.into_inner().unwrap()
    };
    let upload = |user: TestUser, body: Vec<u8>, dry_run: bool| {
        let client = app.client.clone();
        let url = app.api(&format!("/plans/{}/actuals/import?dry_run={dry_run}", f.plan));
        async move {
            client
                .post(url)
                .bearer_auth(&user.token)
                .header("Content-Type", "text/csv")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let sheet = export(f.a.clone()).await;
    let good = filled(
        &sheet,
        &[
            (f.indicators[0], "実績", "180"),
            (f.indicators[1], "分子", "35"),
            (f.indicators[1], "分母", "100"),
            (f.indicators[1], "備考", "年度末人口"),
        ],
    );

    let dry = upload(f.a.clone(), good.clone(), true).await;
    assert_eq!(dry.status(), 200, "{}", dry.text().await.unwrap());
    let dry = json(dry).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["applied"], false);
    assert_eq!(dry["rows"].as_array().unwrap().len(), 2);
    assert_eq!(dry["rows"][0]["action"], "create");
    assert_problem(app.get(&format!("/indicators/{}/actuals/2022", f.indicators[0]), &app.hq).await, 404).await;

    let bad = filled(
        &sheet,
        &[
            (f.indicators[0], "実績", "180"),
            (f.indicators[1], "分子", "35"),
            (f.indicators[1], "分母", "0"),
            (f.indicators[2], "分子", "x"),
        ],
    );
    let refused = upload(f.a.clone(), bad, false).await;
    assert_eq!(refused.status(), 422);
    let refused = json(refused).await;
    assert!(refused["errors"][0]["field"].as_str().unwrap().starts_with("row "));
    let errors: Vec<(String, String)> = refused["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].to_string(), e["column"].as_str().unwrap().to_owned()))
        .collect();
    assert!(errors.iter().any(|(_, c)| c == "分母"), "{errors:?}");
    assert!(errors.iter().any(|(_, c)| c == "分子"), "{errors:?}");
    assert_problem(app.get(&format!("/indicators/{}/actuals/2022", f.indicators[0]), &app.hq).await, 404).await;

    // Department B may not import A's indicators.
    let other = upload(f.b.clone(), good.clone(), false).await;
    assert_eq!(other.status(), 422);
    assert!(json(other).await["report"]["errors"][0]["reason"].as_str().unwrap().contains("does not own"));

    let applied = upload(f.a.clone(), good.clone(), false).await;
    assert_eq!(applied.status(), 200);
    assert_eq!(json(applied).await["applied"], true);
    let stored = json(app.get(&format!("/indicators/{}/actuals/2022", f.indicators[1]), &app.hq).await).await;
    assert_eq!(
        (stored["numerator"].clone(), stored["denominator"].clone(), stored["note"].clone()),
        (json!(35), json!(100), json!("年度末人口"))
    );
    // The ids an import takes are taken for good: the next single submission gets a later one.
    let single = app
        .put(
            &format!("/indicators/{}/actuals/2022", f.indicators[2]),
            &f.b,
            &json!({"numerator": 5, "denominator": 60}),
            None,
        )
        .await;
    let single = created(single).await;
    assert!(single["id"].as_i64().unwrap() > stored["id"].as_i64().unwrap(), "{single} after {stored}");

    // Re-uploading the same file overwrites nothing without 版; a fresh export carries it.
    let again = upload(f.a.clone(), good.clone(), false).await;
    let again = assert_problem(again, 422).await;
    assert_eq!(
        (&again["report"]["errors"][0]["column"], &again["report"]["errors"][0]["cause"]),
        (&json!("版"), &json!("version_missing"))
    );
    // A 版 that is not the current one is stale, and says so in the 版 column.
    let stale = format!("指標ID,年度,実績,備考,版\r\n{},2022,181,,99\r\n", f.indicators[0]);
    let stale = assert_problem(upload(f.a.clone(), stale.into_bytes(), true).await, 422).await;
    let causes: Vec<(&Value, &Value)> =
        stale["report"]["errors"].as_array().unwrap().iter().map(|e| (&e["column"], &e["cause"])).collect();
    assert!(causes.contains(&(&json!("版"), &json!("version_stale"))), "{stale}");
    let fresh = export(f.a.clone()).await;
    let corrected = filled(&fresh, &[(f.indicators[0], "実績", "185")]);
    let applied = json(upload(f.a.clone(), corrected, false).await).await;
    // The export shows approved figures only, so the unapproved I2 row is blank and left alone.
    let actions: Vec<&str> =
        applied["rows"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["correct"]);
    let history = json(app.get(&format!("/indicators/{}/actuals/2022/history", f.indicators[0]), &app.hq).await).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
    // Both writes are audited with who did them and the figures before and after.
    let actual = json(app.get(&format!("/indicators/{}/actuals/2022", f.indicators[0]), &app.hq).await).await;
    let audit = json(app.get(&format!("/audit?entity_type=actual&entity_id={}", actual["id"]), &app.hq).await).await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert!(entries.iter().all(|e| e["actor_username"] == f.a.username.as_str()), "{audit}");
    let correction = entries.iter().find(|e| !e["old_value"].is_null()).expect("the correction keeps the old figure");
    assert_eq!(correction["old_value"]["reported"]["value"], json!(180), "{correction}");
    assert_eq!(correction["new_value"]["reported"]["value"], json!(185), "{correction}");
    assert_problem(upload(f.a.clone(), b"not,a,plan\n".to_vec(), false).await, 422).await;
    let wrong_type = app
        .client
        .post(app.api(&format!("/plans/{}/actuals/import", f.plan)))
        .bearer_auth(&f.a.token)
        .header("Content-Type", "application/pdf")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(wrong_type, 415).await;
}

/// An import's corrections are written together, each only if its actual is still at the version
/// the import was checked against: one changed in between fails the whole import with 412 (all
/// or none), and the same file checked again applies.
async fn an_import_correcting_an_actual_changed_since_its_check_applies_nothing(backend: Backend) {
    use municipal_kpi::auth::Caller;
    use municipal_kpi::error::AppError;
    use municipal_kpi::{spreadsheet, submission_cycle};

    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    let path = |indicator: i64| format!("/indicators/{indicator}/actuals/2021");
    // Submitted, not yet approved: the department may still correct them.
    for (indicator, body) in
        [(f.indicators[0], json!({"value": 170})), (f.indicators[1], json!({"numerator": 30, "denominator": 100}))]
    {
        created(app.put(&path(indicator), &f.a, &body, None).await).await;
    }
    async fn stored_actual(app: &TestApp, user: &TestUser, indicator: i64) -> Value {
        json(app.get(&format!("/indicators/{indicator}/actuals/2021"), user).await).await
    }
    let stored = |indicator: i64| stored_actual(&app, &f.a, indicator);
    let (count, ratio) = (stored(f.indicators[0]).await, stored(f.indicators[1]).await);
    let csv = format!(
        "指標ID,年度,実績,分子,分母,備考,版\r\n{},2021,175,,,訂正,{}\r\n{},2021,,31,100,訂正,{}\r\n",
        f.indicators[0], count["version"], f.indicators[1], ratio["version"]
    );
    let caller = Caller {
        user_id: f.a.id,
        username: f.a.username.clone(),
        role: f.a.role,
        department_id: f.a.department_id,
        municipality_id: Some(1),
    };
    let plan = i32::try_from(f.plan).unwrap();
    let check = |caller: Caller, csv: String| {
        app.db
            .read_blocking(move |conn| {
                let file = spreadsheet::read_csv(csv.as_bytes())?;
                submission_cycle::check_import(conn, &caller, PlanId::new(plan), file, false)
            })
            .map_err(|e: AppError| e)
            .expect("checked")
    };
    let checked = check(caller.clone(), csv.clone());
    assert!(checked.can_apply(), "{:?}", checked.report.errors);

    // The ratio is corrected by hand between the check and the write.
    let by_hand = app.get(&path(f.indicators[1]), &f.a).await;
    let etag = by_hand.headers()["etag"].to_str().unwrap().to_owned();
    let corrected =
        app.put(&path(f.indicators[1]), &f.a, &json!({"numerator": 32, "denominator": 100}), Some(&etag)).await;
    assert_eq!(corrected.status(), 200);

    let applier = caller.clone();
    let outcome = app.db.write_blocking(caller.write_scope(), move |conn| {
        submission_cycle::apply_import(conn, &applier, PlanId::new(plan), checked)
    });
    match outcome {
        Err(AppError::PreconditionFailed(reason)) => {
            assert!(reason.contains(&format!("indicator {}", f.indicators[1])), "{reason}")
        }
        Err(other) => panic!("expected 412, got {other:?}"),
        Ok(_) => panic!("expected 412, the import was applied"),
    }
    let unchanged = stored(f.indicators[0]).await;
    assert_eq!((unchanged["value"].clone(), unchanged["version"].clone()), (json!(170), count["version"].clone()));
    let history = json(app.get(&format!("{}/history", path(f.indicators[0])), &f.a).await).await;
    let events_before = history["items"].as_array().unwrap().len();

    // Checked again against the versions now stored, the same corrections apply, both at once.
    let ratio = stored(f.indicators[1]).await;
    let csv = format!(
        "指標ID,年度,実績,分子,分母,備考,版\r\n{},2021,175,,,訂正,{}\r\n{},2021,,31,100,訂正,{}\r\n",
        f.indicators[0], count["version"], f.indicators[1], ratio["version"]
    );
    let checked = check(caller.clone(), csv);
    let report = app
        .db
        .write_blocking(caller.write_scope(), move |conn| {
            submission_cycle::apply_import(conn, &caller, PlanId::new(plan), checked)
        })
        .map_err(|e: AppError| e)
        .expect("applied");
    assert!(report.applied);
    let (count_now, ratio_now) = (stored(f.indicators[0]).await, stored(f.indicators[1]).await);
    assert_eq!(count_now["value"], json!(175));
    assert_eq!(count_now["version"].as_i64(), count["version"].as_i64().map(|v| v + 1));
    assert_eq!((ratio_now["numerator"].clone(), ratio_now["note"].clone()), (json!(31), json!("訂正")));
    assert_eq!(ratio_now["version"].as_i64(), ratio["version"].as_i64().map(|v| v + 1));
    let history = json(app.get(&format!("{}/history", path(f.indicators[0])), &f.a).await).await;
    assert_eq!(history["items"].as_array().unwrap().len(), events_before + 1);
}

async fn dashboard_is_cacheable(backend: Backend) {
    let app = spawn_app(backend).await;
    let f = fixture(&app).await;
    report_fixture_actuals(&app, &f).await;
    let response = app.get(&format!("/plans/{}/dashboard", f.plan), &app.viewer).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body = json(response).await;
    let years = body["years"].as_array().unwrap();
    assert_eq!(years.len(), 3);
    assert_eq!(years[1]["fiscal_year_label"], "令和3(2021)年度");
    assert_eq!(number(&years[1]["mean_progress"]), Some(55.0));
    assert_eq!(years[1]["goals"][0]["label"], "①開かれた区政の実現");
    assert_eq!(years[1]["goals"][1]["status_counts"]["achieved"], 1);
    let cached = app
        .client
        .get(app.api(&format!("/plans/{}/dashboard", f.plan)))
        .bearer_auth(&app.viewer.token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    report(&app, &f.b, f.indicators[5], 2021, json!({"value": 7})).await;
    let changed = app
        .client
        .get(app.api(&format!("/plans/{}/dashboard", f.plan)))
        .bearer_auth(&app.viewer.token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
}

async fn a_plan_document_can_be_imported(backend: Backend) {
    let app = spawn_app(backend).await;
    let document = municipal_kpi::demo::DEMO_PLAN_TOML.replace("code = \"itabashi-ict-2020\"", "code = \"imported\"");
    assert_problem(app.import_plan(&app.viewer, document.clone()).await, 403).await;
    let broken = document.replace("main_goal = 1", "main_goal = 9");
    assert_problem(app.import_plan(&app.hq, broken).await, 422).await;
    let plans = json(app.get("/plans", &app.hq).await).await;
    assert_eq!(plans["total"], 0, "a failed import leaves nothing behind");
    let response = app.import_plan(&app.hq, document.clone()).await;
    assert_eq!(response.status(), 201);
    let report = json(response).await;
    assert_eq!(report["measures"], 41);
    assert_eq!(report["indicators"], 59);
    assert_problem(app.import_plan(&app.hq, document).await, 409).await;
}
