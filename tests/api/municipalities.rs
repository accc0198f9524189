//! More than one municipality: each sees only its own data (another's is 404, as if it did not
//! exist), the system administrator registers municipalities and their admins, and the analyst
//! reads only what municipalities publish.

use municipal_kpi::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, create_user_in, json, spawn_app};
use crate::on_both_backends;

/// 台東区 next to the test app's 板橋区, set up through the API by its own admin and hq: one plan
/// with a goal, a measure owned by one department, and a ratio indicator with a submitted actual.
pub(crate) struct Other {
    pub(crate) id: i64,
    pub(crate) admin: TestUser,
    pub(crate) hq: TestUser,
    pub(crate) department: i64,
    pub(crate) plan: i64,
    pub(crate) goal: i64,
    pub(crate) measure: i64,
    pub(crate) indicator: i64,
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, 201, "{body}");
    body
}

fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().expect("id")
}

pub(crate) async fn other_municipality(app: &TestApp) -> Other {
    let municipality =
        created(app.post("/municipalities", &app.system_admin, &json!({"code": "131067", "name": "台東区"})).await)
            .await;
    let id = id_of(&municipality);
    let admin_body = json!({"username": "taito-admin", "password": "taito admin password", "role": "admin",
        "municipality_id": id});
    let admin_user = created(app.post("/users", &app.system_admin, &admin_body).await).await;
    assert_eq!(admin_user["municipality_id"], id);
    let token_of = |user: &Value, role: Role| {
        create_user_in(&app.db, &app.tokens, user["username"].as_str().unwrap(), role, None, Some(id as i32))
    };
    let admin = token_of(&admin_user, Role::Admin);
    let hq_user = created(
        app.post("/users", &admin, &json!({"username": "taito-hq", "password": "taito hq password!", "role": "hq"}))
            .await,
    )
    .await;
    assert_eq!(hq_user["municipality_id"], id, "an admin's new account is of its own municipality");
    let hq = token_of(&hq_user, Role::Hq);
    let department =
        created(app.post("/departments", &admin, &json!({"code": "taito-it", "name": "情報政策課"})).await).await;
    let plan = created(
        app.post(
            "/plans",
            &hq,
            &json!({"code": "taito-data-2019", "name": "台東区官民データ活用推進計画", "start_fiscal_year": 2019,
                "end_fiscal_year": 2021, "status": "active"}),
        )
        .await,
    )
    .await;
    assert_eq!(plan["municipality_id"], id);
    let plan = id_of(&plan);
    let goal = id_of(
        &created(app.post(&format!("/plans/{plan}/goals"), &hq, &json!({"number": 1, "name": "ア"})).await).await,
    );
    let measure = id_of(
        &created(
            app.post(
                &format!("/plans/{plan}/measures"),
                &hq,
                &json!({"number": 1, "name": "マイナンバーカードの普及・活用", "main_goal_id": goal,
                "review_category": "new", "owner_department_ids": [id_of(&department)]}),
            )
            .await,
        )
        .await,
    );
    let indicator = id_of(&created(
        app.post(
            &format!("/measures/{measure}/indicators"),
            &hq,
            &json!({"number": 1, "name": "マイナンバーカード交付率", "kind": "ratio", "direction": "increase", "unit": "%",
                "numerator_label": "交付枚数", "denominator_label": "人口"}),
        )
        .await,
    )
    .await);
    let put = app
        .put(&format!("/indicators/{indicator}/actuals/2020"), &hq, &json!({"numerator": 60, "denominator": 240}), None)
        .await;
    assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
    Other { id, admin, hq, department: id_of(&department), plan, goal, measure, indicator }
}

async fn a_user_of_one_municipality_finds_nothing_of_another(backend: Backend) {
    let app = spawn_app(backend).await;
    let own_plan = app.load_demo();
    let other = other_municipality(&app).await;
    let department = app.department_user("it-promotion", "IT推進課");
    let (plan, indicator, measure) = (other.plan, other.indicator, other.measure);
    let reads = [
        format!("/plans/{plan}"),
        format!("/plans/{plan}/goals"),
        format!("/plans/{plan}/strategies"),
        format!("/plans/{plan}/measures"),
        format!("/plans/{plan}/evaluation?fiscal_year=2020"),
        format!("/plans/{plan}/submissions?fiscal_year=2020"),
        format!("/plans/{plan}/dashboard"),
        format!("/plans/{plan}/collections"),
        format!("/measures/{measure}"),
        format!("/measures/{measure}/indicators"),
        format!("/indicators/{indicator}"),
        format!("/indicators/{indicator}/targets"),
        format!("/indicators/{indicator}/actuals"),
        format!("/indicators/{indicator}/actuals/2020"),
        format!("/indicators/{indicator}/actuals/2020/history"),
        format!("/indicators/{indicator}/achievement?fiscal_year=2020"),
        format!("/departments/{}", other.department),
        format!("/users/{}", other.hq.id),
    ];
    for user in [&app.admin, &app.hq, &app.viewer, &department] {
        for path in &reads {
            let response = app.get(path, user).await;
            assert_eq!(response.status(), 404, "{:?} GET {path}", user.role);
        }
    }
    let writes: [(&str, String, Value); 8] = [
        ("PATCH", format!("/plans/{plan}"), json!({"name": "乗っ取り"})),
        ("POST", format!("/plans/{plan}/goals"), json!({"number": 2, "name": "イ"})),
        ("PATCH", format!("/goals/{}", other.goal), json!({"name": "乗っ取り"})),
        ("PATCH", format!("/measures/{measure}"), json!({"name": "乗っ取り"})),
        ("POST", format!("/indicators/{indicator}/actuals/2020/review"), json!({"action": "approve"})),
        ("POST", format!("/plans/{plan}/collections"), json!({"fiscal_year": 2020})),
        ("PATCH", format!("/departments/{}", other.department), json!({"name": "乗っ取り"})),
        ("PATCH", format!("/users/{}", other.hq.id), json!({"active": false})),
    ];
    for user in [&app.admin, &app.hq] {
        for (method, path, body) in &writes {
            let request =
                app.client.request(method.parse().unwrap(), app.api(path)).bearer_auth(&user.token).json(body);
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 404, "{:?} {method} {path}", user.role);
        }
    }
    let submit =
        app.put(&format!("/indicators/{indicator}/actuals/2020"), &app.hq, &json!({"value": 1}), Some("\"1\"")).await;
    assert_problem(submit, 404).await;
    let foreign_plan = json!({"municipality_id": other.id, "code": "x", "name": "計画", "start_fiscal_year": 2021,
        "end_fiscal_year": 2025});
    // A body naming another municipality reads as naming none: 422 on the field, nothing told.
    let refused = assert_problem(app.post("/plans", &app.hq, &foreign_plan).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "municipality_id");
    let missing = json!({"municipality_id": 999_999, "code": "x", "name": "計画", "start_fiscal_year": 2021,
        "end_fiscal_year": 2025});
    let unknown = assert_problem(app.post("/plans", &app.hq, &missing).await, 422).await;
    assert_eq!(
        refused["errors"][0]["message"].as_str().unwrap().replace(&other.id.to_string(), "N"),
        unknown["errors"][0]["message"].as_str().unwrap().replace("999999", "N"),
        "another's municipality and none read the same"
    );

    // Another municipality's department cannot own one's measure.
    let own_measures = json(app.get(&format!("/plans/{own_plan}/measures?limit=1"), &app.hq).await).await;
    let own_measure = own_measures["items"][0]["id"].as_i64().unwrap();
    let foreign_owner = json!({"department_id": other.department, "from_fiscal_year": 2020});
    assert_problem(app.post(&format!("/measures/{own_measure}/owners"), &app.hq, &foreign_owner).await, 422).await;

    // Nothing changed, and the owner still reads it all.
    let mine = json(app.get(&format!("/indicators/{indicator}/actuals/2020"), &other.hq).await).await;
    assert_eq!(mine["status"], "submitted");
    assert_eq!(json(app.get(&format!("/plans/{plan}"), &other.hq).await).await["name"], "台東区官民データ活用推進計画");
    assert_problem(app.get(&format!("/plans/{own_plan}"), &other.hq).await, 404).await;

    // Lists hold one's own municipality only.
    // 板橋区's two demo plans (2020 and its successor); 台東区's and the demo's 文京区 plan are not listed.
    let plans = json(app.get("/plans", &app.viewer).await).await;
    assert_eq!((plans["total"].as_i64(), plans["items"][0]["id"].as_i64()), (Some(2), Some(i64::from(own_plan))));
    let theirs = json(app.get("/plans", &other.hq).await).await;
    assert_eq!((theirs["total"].as_i64(), theirs["items"][0]["id"].as_i64()), (Some(1), Some(plan)));
    let departments = json(app.get("/departments", &other.hq).await).await;
    assert_eq!(departments["total"], 1);
    let users = json(app.get("/users", &other.admin).await).await;
    let names: Vec<&str> = users["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["taito-admin", "taito-hq"]);
    let municipalities = json(app.get("/municipalities", &app.viewer).await).await;
    assert_eq!(
        (municipalities["total"].as_i64(), municipalities["items"][0]["code"].as_str()),
        (Some(1), Some("131199"))
    );
    let audit = json(app.get("/audit?limit=500", &other.hq).await).await;
    let entries = audit["items"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["municipality_id"] == other.id
            && (e["actor_username"].as_str().unwrap().starts_with("taito-")
                || e["actor_username"] == app.system_admin.username.as_str())),
        "台東区's audit log shows 台東区's changes only, its registration and its admin's account by the system admin          included"
    );
    let own_audit = json(app.get("/audit?limit=500", &app.hq).await).await;
    assert!(
        own_audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["actor_username"].as_str().unwrap().starts_with("taito-"))
    );
}

async fn the_analyst_reads_published_data_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = other_municipality(&app).await;
    let analyst = create_user_in(&app.db, &app.tokens, "analyst", Role::Analyst, None, None);
    let open_data = app.get(&format!("/plans/{}/open-data", other.plan), &analyst).await;
    assert_eq!(open_data.status(), 200);
    let municipalities = json(app.get("/municipalities", &analyst).await).await;
    assert_eq!(municipalities["total"], 2);
    for path in [
        format!("/plans/{}/evaluation?fiscal_year=2020", other.plan),
        format!("/plans/{}", other.plan),
        "/plans".to_owned(),
        format!("/indicators/{}/actuals", other.indicator),
        "/users".to_owned(),
        "/audit".to_owned(),
    ] {
        assert_problem(app.get(&path, &analyst).await, 403).await;
    }
    // A municipality's own users read another's published open data too.
    assert_eq!(app.get(&format!("/plans/{}/open-data", other.plan), &app.viewer).await.status(), 200);
}

async fn the_system_admin_registers_municipalities_and_their_admins(backend: Backend) {
    let app = spawn_app(backend).await;
    let refused = app.post("/municipalities", &app.admin, &json!({"code": "131067", "name": "台東区"})).await;
    assert_problem(refused, 403).await;
    let other = other_municipality(&app).await;
    // A municipality's admin neither sees nor grants beyond it.
    assert_problem(app.get(&format!("/users/{}", other.admin.id), &app.admin).await, 404).await;
    assert_problem(app.get(&format!("/users/{}", app.system_admin.id), &app.admin).await, 404).await;
    let analyst = json!({"username": "prefecture", "password": "prefecture password", "role": "analyst"});
    assert_problem(app.post("/users", &app.admin, &analyst).await, 403).await;
    let foreign = json!({"username": "spy", "password": "spy password 123", "role": "hq", "municipality_id": other.id});
    assert_eq!(
        assert_problem(app.post("/users", &app.admin, &foreign).await, 422).await["errors"][0]["field"],
        "municipality_id"
    );
    // The system administrator manages accounts everywhere but reads no municipality's plans.
    let all = json(app.get("/users?limit=500", &app.system_admin).await).await;
    assert!(all["total"].as_i64().unwrap() >= 6);
    assert_problem(app.get(&format!("/plans/{}", other.plan), &app.system_admin).await, 403).await;
    let analyst = created(app.post("/users", &app.system_admin, &analyst).await).await;
    assert_eq!((analyst["role"].as_str(), analyst["municipality_id"].as_i64()), (Some("analyst"), None));
}

async fn a_move_to_another_municipality_takes_effect_on_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let own_plan = app.load_demo();
    let other = other_municipality(&app).await;
    assert_eq!(app.get(&format!("/plans/{own_plan}"), &app.hq).await.status(), 200);
    let moved =
        app.patch(&format!("/users/{}", app.hq.id), &app.system_admin, &json!({"municipality_id": other.id})).await;
    assert_eq!(moved.status(), 200);
    // The same token: the account is read as it is now.
    assert_problem(app.get(&format!("/plans/{own_plan}"), &app.hq).await, 404).await;
    assert_eq!(app.get(&format!("/plans/{}", other.plan), &app.hq).await.status(), 200);
}

on_both_backends!(
    a_user_of_one_municipality_finds_nothing_of_another,
    the_analyst_reads_published_data_only,
    the_system_admin_registers_municipalities_and_their_admins,
    a_move_to_another_municipality_takes_effect_on_the_next_request,
    links_across_plans_never_reach_another_municipality,
);

/// A plan's predecessor, a reference to another plan and an indicator's predecessor name records
/// in a request body: another municipality's reads as none, and nothing is linked.
async fn links_across_plans_never_reach_another_municipality(backend: Backend) {
    let app = spawn_app(backend).await;
    let own_plan = app.load_demo();
    let other = other_municipality(&app).await;
    let own_plan_path = format!("/plans/{own_plan}");
    let before = json(app.get(&own_plan_path, &app.hq).await).await;

    let refused = app.patch(&own_plan_path, &app.hq, &json!({"predecessor_id": other.plan})).await;
    let problem = assert_problem(refused, 422).await;
    assert_eq!(problem["errors"][0]["field"], "predecessor_id", "{problem}");
    assert_eq!(problem["errors"][0]["message"], format!("計画 {0} は見つかりません (no plan {0})", other.plan));

    let reference = json!({"kind": "related_plan", "title": "隣の区の計画", "referenced_plan_id": other.plan});
    let refused = app.post(&format!("{own_plan_path}/references"), &app.hq, &reference).await;
    assert_eq!(assert_problem(refused, 422).await["errors"][0]["field"], "referenced_plan_id");

    let measures = json(app.get(&format!("{own_plan_path}/measures?limit=1"), &app.hq).await).await;
    let indicators =
        json(app.get(&format!("/measures/{}/indicators?limit=1", measures["items"][0]["id"]), &app.hq).await).await;
    let own_indicator = indicators["items"][0]["id"].as_i64().unwrap();
    let link = json!({"predecessor_id": other.indicator});
    let refused = app.put(&format!("/indicators/{own_indicator}/predecessor"), &app.hq, &link, None).await;
    let problem = assert_problem(refused, 422).await;
    let expected = format!("指標 {0} は見つかりません (no indicator {0})", other.indicator);
    assert_eq!(problem["errors"][0]["message"], expected, "{problem}");

    let after = json(app.get(&own_plan_path, &app.hq).await).await;
    assert_eq!(before["predecessor_id"], after["predecessor_id"]);
    let indicator = json(app.get(&format!("/indicators/{own_indicator}"), &app.hq).await).await;
    assert_eq!(indicator["predecessor_id"], Value::Null);
}
