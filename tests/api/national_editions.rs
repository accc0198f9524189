//! The national catalogue by edition (issue 22): the editions entered with their items as history,
//! the edition a definition and a comparison name, and the system administrator's import.

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_problem, json, spawn_app};
use crate::on_both_backends;

fn item_changes(edition: &Value) -> Vec<(i64, String, Value)> {
    edition["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let change = json!({"change": i["change"], "previous_number": i.get("previous_number")});
            (i["number"].as_i64().unwrap(), i["name"].as_str().unwrap().to_owned(), change)
        })
        .collect()
}

async fn editions_are_listed_with_their_items_as_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = json(app.get("/national-editions", &app.viewer).await).await;
    assert_eq!(page["total"], 2);
    let (first, second) = (&page["items"][0], &page["items"][1]);
    // Seed 001 states no date for the plan: 令和2年12月25日 is the デジタル・ガバメント実行計画's.
    assert_eq!(
        (&first["code"], &first["issued"], &first["previous_edition"]),
        (&json!("first"), &Value::Null, &Value::Null)
    );
    assert!(first["reading_note"].as_str().unwrap().contains("デジタル・ガバメント実行計画"));
    assert_eq!(first["items"].as_array().unwrap().len(), 6);
    assert!(first["items"].as_array().unwrap().iter().all(|i| i["change"] == "first_entered"));
    assert_eq!(
        (&second["code"], &second["issued"], &second["previous_edition"]),
        (&json!("2.3"), &json!("2024-02-05"), &json!("first"))
    );
    assert!(second["source"].as_str().unwrap().contains("issue 22"));
    let changes = item_changes(second);
    let change = |kind: &str, previous: Option<i64>| json!({"change": kind, "previous_number": previous});
    assert_eq!(
        changes,
        [
            (1, "自治体フロントヤード改革の推進".to_owned(), change("added", None)),
            (2, "自治体の情報システムの標準化・共通化".to_owned(), change("same", Some(1))),
            (3, "公金収納におけるeLTAXの活用".to_owned(), change("added", None)),
            (4, "マイナンバーカードの普及促進・利用の推進".to_owned(), change("renamed", Some(2))),
            (5, "セキュリティ対策の徹底".to_owned(), change("same", Some(6))),
            (6, "自治体のAI・RPAの利用推進".to_owned(), change("same", Some(4))),
            (7, "テレワークの推進".to_owned(), change("same", Some(5))),
        ]
    );
    assert_eq!(second["items"][3]["previous_name"], "マイナンバーカードの普及促進");
    assert_eq!(second["dropped"], json!([{"previous_number": 3, "previous_name": "自治体の行政手続きのオンライン化"}]));
    // A definition and a comparison name the edition the definition was set under.
    let code = "dx2-mynumber-card-issuance-rate";
    let definition = json(app.get(&format!("/national-indicators/{code}"), &app.viewer).await).await;
    assert_eq!((&definition["edition"]["code"], &definition["priority_number"]), (&json!("first"), &json!(2)));
    let comparison =
        json(app.get(&format!("/national-indicators/{code}/comparison?fiscal_year=2021"), &app.viewer).await).await;
    assert_eq!(
        comparison["national_indicator"]["edition"]["name"],
        "自治体デジタル・トランスフォーメーション(DX)推進計画"
    );
}

fn next_edition(code: &str, issued: &str) -> Value {
    json!({
        "code": code,
        "name": "自治体DX推進計画(試験用の版)",
        "issued": issued,
        "source": "試験用の入力",
        "items": [
            {"number": 1, "name": "自治体フロントヤード改革の推進", "continues": 1},
            {"number": 2, "name": "テレワークの推進(改)", "continues": 7},
        ],
    })
}

async fn an_edition_is_imported_by_the_system_administrator_only_when_valid(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(app.post("/national-editions", &app.hq, &next_edition("9.9", "2025-04")).await, 403).await;
    let before = next_edition("9.9", "2024-01");
    let refused = assert_problem(app.post("/national-editions", &app.system_admin, &before).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "issued");
    let mut badly_numbered = next_edition("9.9", "2025-04");
    badly_numbered["items"][1]["number"] = json!(3);
    badly_numbered["items"][1]["continues"] = json!(8);
    let refused = assert_problem(app.post("/national-editions", &app.system_admin, &badly_numbered).await, 422).await;
    let fields: Vec<&Value> = refused["errors"].as_array().unwrap().iter().map(|e| &e["field"]).collect();
    assert_eq!(fields, [&json!("items[1].number"), &json!("items[1].continues")]);
    assert_eq!(
        json(app.get("/national-editions", &app.viewer).await).await["total"],
        2,
        "a refused import adds nothing"
    );

    let response = app.post("/national-editions", &app.system_admin, &next_edition("9.9", "2025-04")).await;
    assert_eq!(response.status(), 201);
    let created = json(response).await;
    assert_eq!(created["previous_edition"], "2.3");
    assert_eq!(item_changes(&created)[1].2, json!({"change": "renamed", "previous_number": 7}));
    assert_eq!(created["dropped"].as_array().unwrap().len(), 5);
    let page = json(app.get("/national-editions", &app.viewer).await).await;
    assert_eq!((&page["total"], &page["items"][2]["code"]), (&json!(3), &json!("9.9")));
    let mut same_code = next_edition("2.3", "2025-05");
    same_code["items"] = json!([{"number": 1, "name": "自治体フロントヤード改革の推進", "continues": 1}]);
    assert_problem(app.post("/national-editions", &app.system_admin, &same_code).await, 409).await;
    let audit = json(app.get("/audit?entity_type=national_edition", &app.system_admin).await).await;
    assert_eq!(audit["items"][0]["new_value"]["code"], "9.9");
}

on_both_backends!(
    editions_are_listed_with_their_items_as_history,
    an_edition_is_imported_by_the_system_administrator_only_when_valid
);

async fn an_indicator_links_to_the_edition_item_of_its_national_definition(backend: Backend) {
    let app = spawn_app(backend).await;
    // Loaded first: the load blocks the test's thread, which also serves the requests.
    let plan_id = app.load_demo();
    let indicator = crate::comparison::demo_card_rate(&app, plan_id).await;
    assert_eq!(
        indicator["national_item"],
        json!({
            "edition": {"code": "first", "name": "自治体デジタル・トランスフォーメーション(DX)推進計画", "issued": null},
            "item_number": 2,
            "item_name": "マイナンバーカードの普及促進",
        })
    );
    let one = json(app.get(&format!("/indicators/{}", indicator["id"]), &app.viewer).await).await;
    assert_eq!(one["national_item"]["edition"]["code"], "first");
}

on_both_backends!(an_indicator_links_to_the_edition_item_of_its_national_definition);
