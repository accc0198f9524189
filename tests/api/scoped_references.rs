//! Ids and codes named inside a body, a plan file or an import row are resolved within the
//! caller's municipality: another municipality's record answers exactly as a missing one (status
//! and message, with only the caller's own words in it), and nothing is written. Codes and
//! usernames are per municipality: neither an oracle nor a name one municipality can take from
//! another.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestUser, assert_problem, json, spawn_app};
use crate::municipalities::{Other, other_municipality};
use crate::on_both_backends;

on_both_backends!(
    ids_in_bodies_of_another_municipality_read_as_missing,
    plan_files_and_imports_resolve_within_the_municipality,
    codes_and_usernames_belong_to_a_municipality,
    plan_files_keep_the_limits_of_the_json_api,
);

const MISSING: i64 = 99_999;

/// A request naming `id` somewhere in its body.
struct Attempt {
    method: &'static str,
    path: String,
    body: Box<dyn Fn(i64) -> Value>,
}

async fn send(app: &TestApp, user: &TestUser, attempt: &Attempt, id: i64) -> reqwest::Response {
    let body = (attempt.body)(id);
    match attempt.method {
        "POST" => app.post(&attempt.path, user, &body).await,
        "PATCH" => app.patch(&attempt.path, user, &body).await,
        "PUT" => app.put(&attempt.path, user, &body, None).await,
        other => panic!("no {other}"),
    }
}

/// The problem for another municipality's id, with that id replaced by the missing one's: it must
/// equal the problem for the missing id word for word.
async fn answer(app: &TestApp, user: &TestUser, attempt: &Attempt, id: i64) -> (u16, Value) {
    let response = send(app, user, attempt, id).await;
    let status = response.status().as_u16();
    // The id as a word of a message, not as a digit of the status.
    let text =
        response.text().await.unwrap().replace(&format!(" {id} "), " <id> ").replace(&format!(" {id})"), " <id>)");
    let mut problem: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    problem.as_object_mut().map(|o| o.remove("instance"));
    (status, problem)
}

async fn ids_in_bodies_of_another_municipality_read_as_missing(backend: Backend) {
    let app = spawn_app(backend).await;
    let own_plan = app.load_demo() as i64;
    let Other { plan, measure, indicator, department, .. } = other_municipality(&app).await;
    let own_measures = json(app.get(&format!("/plans/{own_plan}/measures?limit=1"), &app.hq).await).await;
    let own_measure = own_measures["items"][0]["id"].as_i64().unwrap();
    let own_indicators = json(app.get(&format!("/measures/{own_measure}/indicators?limit=1"), &app.hq).await).await;
    let own_indicator = own_indicators["items"][0]["id"].as_i64().unwrap();
    let own_department = app.department_user("scoped-dept", "情報政策課").department_id.unwrap() as i64;

    let plan_body = |id: i64| {
        json!({"code": "next-plan", "name": "次期計画", "start_fiscal_year": 2030, "end_fiscal_year": 2031,
            "status": "draft", "predecessor_id": id})
    };
    let measure_body = move |owner: i64, predecessor: Option<i64>| {
        json!({"number": 901, "name": "新施策", "review_category": "new", "owner_department_ids": [owner],
            "predecessor_id": predecessor})
    };
    let attempts: Vec<(&str, i64, Attempt)> = vec![
        ("new plan's predecessor", plan, Attempt { method: "POST", path: "/plans".into(), body: Box::new(plan_body) }),
        (
            "plan's predecessor",
            plan,
            Attempt {
                method: "PATCH",
                path: format!("/plans/{own_plan}"),
                body: Box::new(|id| json!({"predecessor_id": id})),
            },
        ),
        (
            "new measure's predecessor",
            measure,
            Attempt {
                method: "POST",
                path: format!("/plans/{own_plan}/measures"),
                body: Box::new(move |id| measure_body(own_department, Some(id))),
            },
        ),
        (
            "new measure's owner",
            department,
            Attempt {
                method: "POST",
                path: format!("/plans/{own_plan}/measures"),
                body: Box::new(move |id| measure_body(id, None)),
            },
        ),
        (
            "measure's predecessor",
            measure,
            Attempt {
                method: "PATCH",
                path: format!("/measures/{own_measure}"),
                body: Box::new(|id| json!({"predecessor_id": id})),
            },
        ),
        (
            "indicator's predecessor",
            indicator,
            Attempt {
                method: "PUT",
                path: format!("/indicators/{own_indicator}/predecessor"),
                body: Box::new(|id| json!({"predecessor_id": id})),
            },
        ),
        (
            "new indicator's department",
            department,
            Attempt {
                method: "POST",
                path: format!("/measures/{own_measure}/indicators"),
                body: Box::new(
                    |id| json!({"number": 99, "name": "新指標", "kind": "count", "direction": "increase", "department_id": id}),
                ),
            },
        ),
        (
            "reference to a plan",
            plan,
            Attempt {
                method: "POST",
                path: format!("/plans/{own_plan}/references"),
                body: Box::new(|id| json!({"kind": "related_plan", "title": "隣の区の計画", "referenced_plan_id": id})),
            },
        ),
        (
            "new user's department",
            department,
            Attempt {
                method: "POST",
                path: "/users".into(),
                body: Box::new(|id| {
                    json!({"username": "scoped-user", "password": "a long enough password", "role": "department",
                        "department_id": id})
                }),
            },
        ),
        (
            "new department's parent",
            department,
            Attempt {
                method: "POST",
                path: "/departments".into(),
                body: Box::new(|id| json!({"code": "scoped-child", "name": "子課", "parent_id": id})),
            },
        ),
    ];
    let plans_before = json(app.get("/plans", &app.hq).await).await["total"].clone();
    for (what, foreign, attempt) in &attempts {
        let user = if attempt.path.starts_with("/users") || attempt.path.starts_with("/departments") {
            &app.admin
        } else {
            &app.hq
        };
        let (status, problem) = answer(&app, user, attempt, *foreign).await;
        let (missing_status, missing_problem) = answer(&app, user, attempt, MISSING).await;
        assert_eq!(status, 422, "{what}: {problem}");
        assert_eq!((status, &problem), (missing_status, &missing_problem), "{what}: another's reads as missing");
    }
    assert_eq!(json(app.get("/plans", &app.hq).await).await["total"], plans_before, "no plan was created");
    let unchanged = json(app.get(&format!("/plans/{own_plan}"), &app.hq).await).await;
    assert_eq!(unchanged["predecessor_id"], Value::Null);
}

/// A plan document for 台東区 (the other municipality) naming `predecessor` as its predecessor.
fn taito_plan(code: &str, predecessor: &str) -> String {
    format!(
        "[municipality]\ncode = \"131067\"\nname = \"台東区\"\n\n[plan]\ncode = \"{code}\"\nname = \"次期計画\"\n\
         start_fiscal_year = 2030\nend_fiscal_year = 2031\nstatus = \"draft\"\npredecessor = \"{predecessor}\"\n"
    )
}

async fn plan_files_and_imports_resolve_within_the_municipality(backend: Backend) {
    let app = spawn_app(backend).await;
    app.load_demo();
    let other = other_municipality(&app).await;

    // 板橋区's plan code means nothing to 台東区: the same answer as a code nobody uses.
    let foreign =
        assert_problem(app.import_plan(&other.hq, taito_plan("taito-next", "itabashi-ict-2020")).await, 422).await;
    let missing = assert_problem(app.import_plan(&other.hq, taito_plan("taito-next", "no-such-plan")).await, 422).await;
    assert_eq!(
        foreign["errors"][0]["message"].as_str().unwrap().replace("itabashi-ict-2020", "<code>"),
        missing["errors"][0]["message"].as_str().unwrap().replace("no-such-plan", "<code>"),
    );
    // Its own plan is found by code.
    let own = app.import_plan(&other.hq, taito_plan("taito-next", "taito-data-2019")).await;
    let status = own.status();
    assert_eq!(status, 201, "{}", own.text().await.unwrap());

    // Actuals naming 板橋区's indicator: as unknown as an id that names nothing.
    let itabashi_indicator = {
        let plans = json(app.get("/plans", &app.hq).await).await;
        let plan = plans["items"][0]["id"].as_i64().unwrap();
        let measures = json(app.get(&format!("/plans/{plan}/measures?limit=1"), &app.hq).await).await;
        let measure = measures["items"][0]["id"].as_i64().unwrap();
        json(app.get(&format!("/measures/{measure}/indicators?limit=1"), &app.hq).await).await["items"][0]["id"]
            .as_i64()
            .unwrap()
    };
    let mut reasons = Vec::new();
    for id in [itabashi_indicator, MISSING] {
        let response = app
            .client
            .post(app.api(&format!("/plans/{}/actuals/import?dry_run=true", other.plan)))
            .bearer_auth(&other.hq.token)
            .header("Content-Type", "text/csv")
            .body(format!("指標ID,年度,実績\r\n{id},2020,1\r\n"))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422).await;
        assert_eq!(problem["report"]["errors"][0]["cause"], "unknown_indicator", "{problem}");
        reasons.push(problem["errors"][0]["message"].as_str().unwrap().replace(&id.to_string(), "<id>"));
    }
    assert_eq!(reasons[0], reasons[1]);
}

async fn login(app: &TestApp, body: Value) -> u16 {
    app.client.post(app.api("/auth/token")).json(&body).send().await.unwrap().status().as_u16()
}

async fn codes_and_usernames_belong_to_a_municipality(backend: Backend) {
    let app = spawn_app(backend).await;
    app.load_demo();
    let other = other_municipality(&app).await;

    // 台東区 may use the codes and usernames 板橋区 uses: no 409 tells it they exist.
    let department = json!({"code": "family-registry", "name": "戸籍住民課"});
    assert_eq!(app.post("/departments", &other.admin, &department).await.status(), 201);
    let plan = json!({"code": "itabashi-ict-2020", "name": "同じコードの計画", "start_fiscal_year": 2020,
        "end_fiscal_year": 2022, "status": "draft"});
    assert_eq!(app.post("/plans", &other.hq, &plan).await.status(), 201);
    let user = json!({"username": "koseki", "password": "taito koseki password", "role": "viewer"});
    assert_eq!(app.post("/users", &other.admin, &user).await.status(), 201);
    // Nor can it take one 板橋区 needs later.
    let squatted = app.post("/departments", &other.admin, &json!({"code": "squatted", "name": "先取り課"})).await;
    assert_eq!(squatted.status(), 201);
    let later = app.post("/departments", &app.admin, &json!({"code": "squatted", "name": "後から課"})).await;
    assert_eq!(later.status(), 201);
    // Within one municipality a code is still unique.
    let twice = app.post("/departments", &other.admin, &json!({"code": "squatted", "name": "二度目"})).await;
    assert_problem(twice, 409).await;

    // Both kosekis log in: the password tells them apart, or the municipality is named.
    assert_eq!(login(&app, json!({"username": "koseki", "password": "koseki-demo-pass"})).await, 200);
    assert_eq!(login(&app, json!({"username": "koseki", "password": "taito koseki password"})).await, 200);
    let itabashi = json!({"username": "koseki", "password": "koseki-demo-pass", "municipality": "131199"});
    assert_eq!(login(&app, itabashi).await, 200);
    let wrong_city = json!({"username": "koseki", "password": "koseki-demo-pass", "municipality": "131067"});
    assert_eq!(login(&app, wrong_city).await, 401);
    let token: Value = json(
        app.client
            .post(app.api("/auth/token"))
            .json(&json!({"username": "koseki", "password": "taito koseki password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let me = app.client.get(app.api("/me")).bearer_auth(token["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(json(me).await["user"]["municipality_id"], other.id);
}

async fn plan_files_keep_the_limits_of_the_json_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = |extra: &str| {
        format!(
            "[municipality]\ncode = \"131199\"\nname = \"板橋区\"\n\n[plan]\ncode = \"limits\"\n\
             start_fiscal_year = 2020\nend_fiscal_year = 2022\nstatus = \"draft\"\n{extra}"
        )
    };
    let long_name = "名".repeat(5_000);
    let named = assert_problem(app.import_plan(&app.hq, plan(&format!("name = \"{long_name}\"\n"))).await, 422).await;
    assert_eq!(named["errors"][0]["field"], "line 10 (plan.name)", "the field is named as in a JSON body: {named}");
    let cases = [
        ("a 5,000-character name", plan(&format!("name = \"{long_name}\"\n")), "at most 200 characters"),
        (
            "a 3 MB description",
            plan(&format!("name = \"計画\"\ndescription = \"{}\"\n", "x".repeat(3_000_000))),
            "at most 2000 characters",
        ),
        ("a NUL in a name", plan("name = \"計\\u0000画\"\n"), "U+0000"),
        (
            "an over-long department code",
            plan(&format!("name = \"計画\"\n\n[[departments]]\ncode = \"{}\"\nname = \"課\"\n", "c".repeat(65))),
            "at most 64 characters",
        ),
        ("a year outside 1989–2100", plan("name = \"計画\"\nbaseline_fiscal_year = 1200\n"), "1200"),
    ];
    for (what, document, expected) in cases {
        let problem = assert_problem(app.import_plan(&app.hq, document).await, 422).await;
        assert!(problem.to_string().contains(expected), "{what}: {problem}");
    }
    assert_eq!(json(app.get("/plans", &app.hq).await).await["total"], 0, "nothing was created");
}
