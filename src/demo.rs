//! The demo installation: the 板橋区 plan of `demo/itabashi-ict-2020.toml` and one user per role.
//!
//! Only ever loaded into an empty database (or one that already holds exactly this demo), so demo
//! users and sample data never mix with a city's real records.

use crate::auth::password::hash_password;
use crate::db::audit::Actor;
use crate::db::{Database, departments, plans, users};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::plan_document::{LoadReport, PlanDocument, load};

pub const DEMO_PLAN_TOML: &str = include_str!("../demo/itabashi-ict-2020.toml");
pub const DEMO_PLAN_CODE: &str = "itabashi-ict-2020";

pub struct DemoUser {
    pub username: &'static str,
    pub password: &'static str,
    pub role: Role,
    pub department_code: Option<&'static str>,
    pub display_name: &'static str,
}

/// Well-known demo credentials: printed at start-up, valid only in a demo database.
pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        username: "admin",
        password: "admin-demo-pass",
        role: Role::Admin,
        department_code: None,
        display_name: "システム管理者",
    },
    DemoUser {
        username: "hq",
        password: "hq-demo-password",
        role: Role::Hq,
        department_code: None,
        display_name: "ICT推進・活用本部事務局",
    },
    DemoUser {
        username: "it-promotion",
        password: "it-promotion-demo-pass",
        role: Role::Department,
        department_code: Some("it-promotion"),
        display_name: "IT推進課 担当",
    },
    DemoUser {
        username: "koseki",
        password: "koseki-demo-pass",
        role: Role::Department,
        department_code: Some("family-registry"),
        display_name: "戸籍住民課 担当",
    },
    DemoUser {
        username: "kouhou",
        password: "kouhou-demo-pass",
        role: Role::Department,
        department_code: Some("public-relations"),
        display_name: "広聴広報課 担当",
    },
    DemoUser {
        username: "viewer",
        password: "viewer-demo-pass",
        role: Role::Viewer,
        department_code: None,
        display_name: "ダッシュボード",
    },
];

#[derive(Debug)]
pub enum DemoOutcome {
    Loaded(LoadReport),
    AlreadyLoaded { plan_id: i32 },
}

/// Loads the demo plan and users unless this database already holds them; refuses a database
/// that holds anything else.
pub fn ensure_loaded(db: &Database) -> Result<DemoOutcome, AppError> {
    let document = PlanDocument::from_toml(DEMO_PLAN_TOML)?;
    // Hash outside the transaction: argon2 is slow on purpose.
    let hashes = DEMO_USERS.iter().map(|u| hash_password(u.password)).collect::<Result<Vec<_>, _>>()?;
    db.write_blocking(move |conn| {
        if let Some(plan) = plans::find_by_code(conn, DEMO_PLAN_CODE)? {
            return Ok(DemoOutcome::AlreadyLoaded { plan_id: plan.id });
        }
        if plans::count(conn)? > 0 {
            return Err(AppError::Conflict(
                "this database already holds other plans; --demo only loads into an empty database".into(),
            ));
        }
        let actor = Actor::system("demo");
        let report = load(conn, &actor, &document)?;
        for (user, hash) in DEMO_USERS.iter().zip(&hashes) {
            let department_id = match user.department_code {
                Some(code) => Some(
                    departments::find_by_code_or_name(conn, code)?
                        .ok_or_else(|| AppError::Internal(format!("demo department {code} missing")))?
                        .id,
                ),
                None => None,
            };
            users::create(
                conn,
                &actor,
                &users::NewUser {
                    username: user.username,
                    display_name: user.display_name,
                    password_hash: hash,
                    role: user.role,
                    department_id,
                },
            )?;
        }
        Ok(DemoOutcome::Loaded(report))
    })
}
