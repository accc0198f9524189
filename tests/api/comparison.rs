//! The national catalogue and the comparison of one national indicator across municipalities,
//! checked against hand-computed figures.

use municipal_kpi::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, create_user_in, json, spawn_app};
use crate::municipalities::other_municipality;
use crate::on_both_backends;

const CARD_RATE: &str = "dx2-mynumber-card-issuance-rate";

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"))
}

pub async fn demo_card_rate(app: &TestApp, plan_id: i32) -> Value {
    let measures = json(app.get(&format!("/plans/{plan_id}/measures?limit=500"), &app.viewer).await).await;
    let no6 = measures["items"].as_array().unwrap().iter().find(|m| m["number"] == 6).unwrap().clone();
    let indicators = json(app.get(&format!("/measures/{}/indicators", no6["id"]), &app.viewer).await).await;
    indicators["items"].as_array().unwrap().iter().find(|i| i["number"] == 2).unwrap().clone()
}

async fn the_catalogue_holds_the_six_priorities_and_their_definitions(backend: Backend) {
    let app = spawn_app(backend).await;
    // Loaded first: the load blocks the test's thread, which also serves the requests.
    let plan_id = app.load_demo();
    let page = json(app.get("/national-indicators?limit=500", &app.viewer).await).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(page["total"].as_u64().unwrap() as usize, items.len());
    let mut priorities: Vec<(i64, &str)> =
        items.iter().map(|i| (i["priority_number"].as_i64().unwrap(), i["priority_name"].as_str().unwrap())).collect();
    priorities.dedup();
    assert_eq!(
        priorities,
        [
            (1, "自治体の情報システムの標準化・共通化"),
            (2, "マイナンバーカードの普及促進"),
            (3, "自治体の行政手続きのオンライン化"),
            (4, "自治体のAI・RPAの利用推進"),
            (5, "テレワークの推進"),
            (6, "セキュリティ対策の徹底"),
        ]
    );
    let rate = json(app.get(&format!("/national-indicators/{CARD_RATE}"), &app.viewer).await).await;
    assert_eq!(
        (&rate["name"], &rate["kind"], &rate["numerator_definition"], &rate["denominator_definition"]),
        (
            &json!("マイナンバーカード交付率"),
            &json!("ratio"),
            &json!("マイナンバーカードの交付枚数(累計)"),
            &json!("住民基本台帳人口")
        )
    );
    assert_problem(app.get("/national-indicators/no-such-thing", &app.viewer).await, 404).await;
    assert_definitions_say_their_basis(items);
    // The demo's No.6 交付率 implements the national definition.
    assert_eq!(demo_card_rate(&app, plan_id).await["national_indicator_code"], CARD_RATE);
}

/// Only the マイナンバーカード rates are published by a national body (総務省); the other definitions
/// are this product's, say so, and carry no municipality's local target.
fn assert_definitions_say_their_basis(items: &[Value]) {
    let published: Vec<&str> =
        items.iter().filter(|i| i["basis"] == "national_statistic").map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(published, ["dx2-mynumber-card-holding-rate", CARD_RATE]);
    for item in items {
        let source = item["source"].as_str().unwrap();
        let description = item["description"].as_str().unwrap();
        assert!(!source.contains("総務省、令和2年12月25日"), "{source}");
        assert!(!description.contains("維持"), "a local target in a national definition: {description}");
        if item["basis"] == "national_statistic" {
            assert_eq!(
                (&item["published_by"], &item["survey"]),
                (&json!("総務省"), &json!("マイナンバーカード交付状況"))
            );
            assert!(source.starts_with("総務省「マイナンバーカード交付状況」"), "{source}");
        } else {
            assert_eq!(item["basis"], "proposed_for_comparison", "{item}");
            assert_eq!((&item["published_by"], &item["survey"]), (&Value::Null, &Value::Null));
            assert!(source.starts_with("本製品が比較のために提案する定義"), "{source}");
        }
    }
}

async fn the_comparison_pools_numerators_and_denominators(backend: Backend) {
    let app = spawn_app(backend).await;
    let itabashi_plan = app.load_demo();
    let itabashi = demo_card_rate(&app, itabashi_plan).await["id"].as_i64().unwrap();
    let taito = other_municipality(&app).await;
    // 台東区's hq links its indicator to the national definition; a count definition is refused.
    let path = format!("/indicators/{}", taito.indicator);
    let wrong = app.patch(&path, &taito.hq, &json!({"national_indicator_code": "dx3-online-procedures"})).await;
    assert_problem(wrong, 422).await;
    let linked = app.patch(&path, &taito.hq, &json!({"national_indicator_code": CARD_RATE})).await;
    assert_eq!(linked.status(), 200);
    let audit =
        json(app.get(&format!("/audit?entity_type=indicator&entity_id={}", taito.indicator), &taito.hq).await).await;
    let last = audit["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["old_value"]["national_indicator_code"], &last["new_value"]["national_indicator_code"]),
        (&Value::Null, &json!(CARD_RATE))
    );

    // 板橋区 approves 114,000 / 570,000 = 20 %; 台東区's 60 / 240 = 25 % is still submitted.
    let actual = format!("/indicators/{itabashi}/actuals/2020");
    let put = app.put(&actual, &app.hq, &json!({"numerator": 114000, "denominator": 570000}), None).await;
    assert_eq!(put.status(), 201);
    assert_eq!(app.post(&format!("{actual}/review"), &app.hq, &json!({"action": "approve"})).await.status(), 200);
    let comparison_path = format!("/national-indicators/{CARD_RATE}/comparison?fiscal_year=2020");
    let before = json(app.get(&comparison_path, &app.viewer).await).await;
    let summary = &before["summary"];
    assert_eq!(
        (&summary["participating"], &summary["reported"], &summary["pending"], &summary["missing"]),
        (&json!(2), &json!(1), &json!(1), &json!(0))
    );
    assert_eq!(number(&summary["pooled_rate"]), 20.0);

    // Both approved: pooled (114,000 + 60) / (570,000 + 240) = 114,060 / 570,240 = 20.0021… % → 20.0,
    // the mean of the rates (20 + 25) / 2 = 22.5; 台東区 ranks first.
    let taito_actual = format!("/indicators/{}/actuals/2020/review", taito.indicator);
    assert_eq!(app.post(&taito_actual, &taito.hq, &json!({"action": "approve"})).await.status(), 200);
    let analyst = create_user_in(&app.db, &app.tokens, "analyst", Role::Analyst, None, None);
    let after = json(app.get(&comparison_path, &analyst).await).await;
    let summary = &after["summary"];
    // The demo's 文京区 implements no national definition: it takes no part.
    assert_eq!(
        (&summary["reported"], &summary["pending"], &summary["not_participating"]),
        (&json!(2), &json!(0), &json!(1))
    );
    assert_eq!((number(&summary["numerator_total"]), number(&summary["denominator_total"])), (114060.0, 570240.0));
    assert_eq!((number(&summary["pooled_rate"]), number(&summary["mean"])), (20.0, 22.5));
    let rows = after["rows"].as_array().unwrap();
    let line = |row: &Value| {
        (row["rank"].clone(), row["municipality"]["code"].clone(), number(&row["value"]), row["is_sample"].clone())
    };
    assert_eq!(line(&rows[0]), (json!(1), json!("131067"), 25.0, json!(false)));
    assert_eq!(line(&rows[1]), (json!(2), json!("131199"), 20.0, json!(false)));
    // 板橋区's 達成率 and 進捗率 are its own plan's: target 35.1 %, baseline 15.2 %:
    // 20 / 35.1 = 56.98… → 57.0 and (20 − 15.2) / (35.1 − 15.2) = 24.12… → 24.1.
    assert_eq!((number(&rows[1]["attainment_rate"]), number(&rows[1]["progress_rate"])), (57.0, 24.1));
    let own = json(app.get(&format!("/indicators/{itabashi}/achievement?fiscal_year=2020"), &app.hq).await).await;
    assert_eq!(number(&rows[1]["target"]), 35.1);
    assert_eq!(
        (&rows[1]["attainment_rate"], &rows[1]["progress_rate"]),
        (&own["result"]["attainment_rate"], &own["result"]["progress_rate"])
    );
    assert_eq!(rows[0]["target"], Value::Null, "台東区 set no target");

    // The same as a spreadsheet: BOM, CRLF, Japanese headers, the totals line.
    let csv = app
        .client
        .get(app.api(&comparison_path))
        .bearer_auth(&analyst.token)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = csv.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}順位,全国地方公共団体コード,地方公共団体名".as_bytes()));
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert_eq!(text.matches("\r\n").count(), 4, "header, two municipalities and the totals: {text}");
    assert!(text.contains(",20.0,114060,570240,"), "{text}");
    let xlsx = app.get(&format!("{comparison_path}&format=xlsx"), &analyst).await;
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));

    assert_problem(app.get(&format!("/national-indicators/{CARD_RATE}/comparison"), &analyst).await, 422).await;
    assert_problem(app.get("/national-indicators/none/comparison?fiscal_year=2020", &analyst).await, 404).await;
}

on_both_backends!(
    the_catalogue_holds_the_six_priorities_and_their_definitions,
    the_comparison_pools_numerators_and_denominators,
);
