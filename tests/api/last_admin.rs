//! A municipality keeps an active admin: its last one is neither deactivated, demoted nor moved,
//! by itself, another admin or the system administrator (409, nothing changed).

use municipal_kpi::domain::role::Role;
use serde_json::json;

use crate::helpers::{Backend, assert_problem, create_user_in, json, spawn_app};
use crate::on_both_backends;

async fn a_municipalitys_last_active_admin_stays(backend: Backend) {
    let app = spawn_app(backend).await;
    let other =
        json(app.post("/municipalities", &app.system_admin, &json!({"code": "131067", "name": "台東区"})).await).await
            ["id"]
            .clone();
    let own = format!("/users/{}", app.admin.id);
    let audit_total = || async { json(app.get("/audit?limit=1", &app.system_admin).await).await["total"].clone() };
    let before = audit_total().await;
    let refusals = [
        (&app.admin, json!({"active": false})),
        (&app.admin, json!({"role": "hq"})),
        (&app.system_admin, json!({"active": false})),
        (&app.system_admin, json!({"role": "viewer", "display_name": "降格"})),
        (&app.system_admin, json!({"municipality_id": other})),
    ];
    for (caller, body) in refusals {
        let problem = assert_problem(app.patch(&own, caller, &body).await, 409).await;
        assert!(problem["detail"].as_str().unwrap().contains("最後の有効な管理者"), "{body}: {problem}");
    }
    let unchanged = json(app.get(&own, &app.admin).await).await;
    assert_eq!(
        (unchanged["active"].as_bool(), unchanged["role"].as_str(), unchanged["display_name"].as_str()),
        (Some(true), Some("admin"), Some("test-admin"))
    );
    assert_eq!(audit_total().await, before, "a refused change is not recorded either");
    // Renaming or a new password is no loss.
    assert_eq!(app.patch(&own, &app.admin, &json!({"display_name": "管理者"})).await.status(), 200);

    // With a second admin, either may go, but not both.
    let body = json!({"username": "second-admin", "password": "second admin password", "role": "admin"});
    assert_eq!(app.post("/users", &app.admin, &body).await.status(), 201);
    let second = create_user_in(&app.db, &app.tokens, "second-admin", Role::Admin, None, None);
    assert_eq!(app.patch(&own, &app.admin, &json!({"active": false})).await.status(), 200);
    let second_path = format!("/users/{}", second.id);
    assert_problem(app.patch(&second_path, &second, &json!({"active": false})).await, 409).await;
    assert_problem(app.patch(&second_path, &app.system_admin, &json!({"role": "hq"})).await, 409).await;
    // Reactivated, the first admin makes the second one's demotion possible again.
    assert_eq!(app.patch(&own, &second, &json!({"active": true})).await.status(), 200);
    assert_eq!(app.patch(&second_path, &app.system_admin, &json!({"role": "hq"})).await.status(), 200);
}

on_both_backends!(a_municipalitys_last_active_admin_stays);
