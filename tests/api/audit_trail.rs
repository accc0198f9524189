//! The system administrator's changes are recorded in the audit log of the municipality they
//! touch: that municipality's admin reads them, another's does not, and the system administrator
//! reads every municipality's, or one's.

use municipal_kpi::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, assert_problem, create_user_in, json, spawn_app};
use crate::on_both_backends;

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

async fn the_system_admins_changes_are_in_the_touched_municipalitys_audit_log(backend: Backend) {
    let app = spawn_app(backend).await;
    let itabashi = i64::from(app.municipality_id);
    let kouhou = app.user("kouhou", Role::Hq, None);
    let bunkyo =
        json(app.post("/municipalities", &app.system_admin, &json!({"code": "131059", "name": "文京区"})).await).await
            ["id"]
            .as_i64()
            .expect("文京区 registered");
    let body = json!({"username": "bunkyo-admin", "password": "bunkyo admin password", "role": "admin",
        "municipality_id": bunkyo});
    assert_eq!(app.post("/users", &app.system_admin, &body).await.status(), 201);
    let bunkyo_admin = create_user_in(&app.db, &app.tokens, "bunkyo-admin", Role::Admin, None, Some(bunkyo as i32));

    let reset = json!({"password": "a brand new password", "display_name": "広報課"});
    assert_eq!(app.patch(&format!("/users/{}", kouhou.id), &app.system_admin, &reset).await.status(), 200);

    // 板橋区's admin sees who reset kouhou's password, and no secret.
    let path = format!("/audit?entity_type=user&entity_id={}", kouhou.id);
    let own = json(app.get(&path, &app.admin).await).await;
    let entry = items(&own)
        .iter()
        .find(|e| e["action"] == "update")
        .unwrap_or_else(|| panic!("the system admin's reset is in 板橋区's audit log: {own}"));
    assert_eq!(entry["actor_username"], app.system_admin.username.as_str(), "{entry}");
    assert_eq!(entry["reason"], "password reset", "{entry}");
    assert_eq!(entry["municipality_id"], itabashi, "{entry}");
    assert_eq!(
        (entry["old_value"]["display_name"].as_str(), entry["new_value"]["display_name"].as_str()),
        (Some("kouhou"), Some("広報課"))
    );
    let text = entry.to_string();
    assert!(!text.contains("password_hash") && !text.contains("argon2"), "{text}");

    // 文京区's admin does not see it, nor can it ask for 板橋区's log.
    let theirs = json(app.get(&path, &bunkyo_admin).await).await;
    assert_eq!(theirs["total"], 0, "{theirs}");
    let theirs = json(app.get("/audit?limit=500", &bunkyo_admin).await).await;
    assert!(items(&theirs).iter().all(|e| e["municipality_id"] == bunkyo), "{theirs}");
    assert!(items(&theirs).iter().any(|e| e["entity_type"] == "municipality" && e["action"] == "create"), "{theirs}");
    assert_problem(app.get(&format!("/audit?municipality_id={itabashi}"), &bunkyo_admin).await, 422).await;

    // The system administrator reads every municipality's, or one's.
    let all = app.get("/audit?limit=500", &app.system_admin).await;
    assert_eq!(all.status(), 200);
    let all = json(all).await;
    for municipality in [itabashi, bunkyo] {
        assert!(items(&all).iter().any(|e| e["municipality_id"] == municipality), "{municipality}: {all}");
    }
    let one = json(app.get(&format!("/audit?limit=500&municipality_id={bunkyo}"), &app.system_admin).await).await;
    assert!(!items(&one).is_empty() && items(&one).iter().all(|e| e["municipality_id"] == bunkyo), "{one}");
    let one = json(app.get(&format!("{path}&municipality_id={itabashi}"), &app.system_admin).await).await;
    assert!(items(&one).iter().any(|e| e["actor_username"] == app.system_admin.username.as_str()), "{one}");
}

on_both_backends!(the_system_admins_changes_are_in_the_touched_municipalitys_audit_log);
