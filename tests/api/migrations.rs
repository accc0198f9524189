//! A database made by the migrations before municipalities were kept apart is carried forward
//! without loss: its users get the municipality it holds, its audit log too, and the national
//! catalogue appears.
use municipal_kpi::domain::ids::{PlanId, UserId};

use diesel::connection::SimpleConnection;
use municipal_kpi::db::audit::{self, AuditFilter};
use municipal_kpi::db::{Database, DatabaseSettings, actuals, national_indicators, plans, users};
use municipal_kpi::domain::role::Role;
use municipal_kpi::error::AppError;

use crate::helpers::{Backend, TestDatabase};
use crate::on_both_backends;

/// diesel's version of `2026-12-02-000100_municipalities_and_national_indicators`.
const FIRST_NEW_MIGRATION: &str = "20261202000100";

/// The rows an earlier release wrote: a municipality, a department, an admin and a department
/// user, the demo's No.6 with its 交付率 indicator, a submitted actual and its audit entry. Plain
/// SQL that both backends read alike, since today's storage code writes today's columns.
const EARLIER_RELEASE_ROWS: &str = "
INSERT INTO municipalities (code, name, created_at) VALUES ('131199', '板橋区', '2021-04-01 00:00:00');
INSERT INTO departments (municipality_id, code, name, active, created_at, updated_at)
    VALUES (1, 'family-registry', '戸籍住民課', TRUE, '2021-04-01 00:00:00', '2021-04-01 00:00:00');
INSERT INTO users (username, display_name, password_hash, role, department_id, active, created_at, updated_at)
    VALUES ('admin', '管理者', 'x', 'admin', NULL, TRUE, '2021-04-01 00:00:00', '2021-04-01 00:00:00'),
           ('koseki', '戸籍住民課', 'x', 'department', 1, TRUE, '2021-04-01 00:00:00', '2021-04-01 00:00:00');
INSERT INTO plans (municipality_id, code, name, start_fiscal_year, end_fiscal_year, status, created_at, updated_at)
    VALUES (1, 'itabashi-ict-2020', '板橋区ICT推進・活用計画2020', 2016, 2020, 'active', '2021-04-01 00:00:00', '2021-04-01 00:00:00');
INSERT INTO goals (plan_id, number, name) VALUES (1, 2, '区民サービスの向上');
INSERT INTO measures (plan_id, number, name, main_goal_id, review_category, status, created_at, updated_at)
    VALUES (1, 6, 'マイナンバー制度への対応', 1, 'changed', 'active', '2021-04-01 00:00:00', '2021-04-01 00:00:00');
INSERT INTO indicators (measure_id, number, name, unit, kind, direction, numerator_label, denominator_label, status,
                        created_at, updated_at)
    VALUES (1, 2, 'マイナンバーカードの交付率(交付件数/人口)', '%', 'ratio', 'increase', '交付件数', '人口', 'active',
            '2021-04-01 00:00:00', '2021-04-01 00:00:00');
INSERT INTO actuals (indicator_id, fiscal_year, numerator, denominator, note, status, is_sample, version, submitted_by,
                     submitted_at)
    VALUES (1, 2020, '114000', '570000', '確定値', 'submitted', FALSE, 1, 2, '2021-05-10 09:00:00');
INSERT INTO actual_events (actual_id, version, event, numerator, denominator, note, status, is_sample, actor_id,
                           recorded_at)
    VALUES (1, 1, 'submitted', '114000', '570000', '確定値', 'submitted', FALSE, 2, '2021-05-10 09:00:00');
INSERT INTO audit_log (occurred_at, actor_id, actor_username, action, entity_type, entity_id)
    VALUES ('2021-05-10 09:00:00', 2, 'koseki', 'submit', 'actual', 1);
";

fn earlier_release(backend: Backend, rows: &'static str) -> (TestDatabase, Database) {
    let database = TestDatabase::create(backend);
    let db = Database::open(&database.url, DatabaseSettings::default()).expect("pool");
    let applied = db.migrate_before(FIRST_NEW_MIGRATION).expect("earlier migrations");
    // The create_schema, users_token_version and data_version migrations.
    assert_eq!(applied.len(), 3, "{applied:?}");
    db.write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
        conn.batch_execute(rows).map_err(AppError::from)
    })
    .expect("earlier rows");
    (database, db)
}

async fn an_earlier_database_is_carried_forward_without_loss(backend: Backend) {
    let (_database, db) = earlier_release(backend, EARLIER_RELEASE_ROWS);
    let applied = db.migrate().expect("new migrations");
    assert!(applied.iter().any(|v| v.starts_with(FIRST_NEW_MIGRATION)), "{applied:?}");
    db.read_blocking(|conn| {
        let admin = users::get(conn, UserId::new(1))?;
        let koseki = users::get(conn, UserId::new(2))?;
        assert_eq!((admin.username.as_str(), admin.role, admin.municipality_id), ("admin", Role::Admin, Some(1)));
        assert_eq!((koseki.role, koseki.department_id, koseki.municipality_id), (Role::Department, Some(1), Some(1)));
        assert_eq!(plans::get(conn, PlanId::new(1))?.name, "板橋区ICT推進・活用計画2020");
        let kept = actuals::list_for_indicator(conn, 1, &[])?;
        assert_eq!(kept.len(), 1);
        let figures = (kept[0].reported.numerator, kept[0].reported.denominator, kept[0].note.as_str());
        assert_eq!(figures, (Some(114000.into()), Some(570000.into()), "確定値"));
        assert_eq!(actuals::events_in_year(conn, &[1], 2020)?.len(), 1);
        let (entries, total) = audit::list(conn, Some(1), &AuditFilter::default(), 50, 0)?;
        assert_eq!((total, entries[0].actor_username.as_str()), (1, "koseki"), "the audit log is 板橋区's");
        assert_eq!(national_indicators::page(conn, 50, 0)?.1, 10);
        Ok::<_, AppError>(())
    })
    .expect("reads");
    // Accounts made after the upgrade keep working in the same municipality.
    let ids: Vec<i32> =
        db.read_blocking(|conn| users::list(conn, Some(1), 50, 0)).expect("list").0.iter().map(|u| u.id).collect();
    assert_eq!(ids, [1, 2]);
}

async fn an_admin_of_a_database_without_municipalities_becomes_the_system_admin(backend: Backend) {
    let rows = "INSERT INTO users (username, display_name, password_hash, role, active, created_at, updated_at)
        VALUES ('admin', '管理者', 'x', 'admin', TRUE, '2021-04-01 00:00:00', '2021-04-01 00:00:00');";
    let (_database, db) = earlier_release(backend, rows);
    db.migrate().expect("new migrations");
    let admin = db.read_blocking(|conn| users::get(conn, UserId::new(1))).expect("admin");
    assert_eq!((admin.role, admin.municipality_id), (Role::SystemAdmin, None));
}

on_both_backends!(
    an_earlier_database_is_carried_forward_without_loss,
    an_admin_of_a_database_without_municipalities_becomes_the_system_admin,
    earlier_system_admin_entries_join_the_municipality_they_touched,
);

/// The system administrator's entries written before changes were recorded in the municipality of
/// their record: afterwards each names the municipality of the account, department or
/// municipality it touched, and the municipality's admin reads them.
async fn earlier_system_admin_entries_join_the_municipality_they_touched(backend: Backend) {
    let database = TestDatabase::create(backend);
    let db = Database::open(&database.url, DatabaseSettings::default()).expect("pool");
    db.migrate_before("20261205000200").expect("earlier migrations");
    let rows = "
INSERT INTO municipalities (code, name, created_at) VALUES ('131199', '板橋区', '2021-04-01 00:00:00'),
    ('131059', '文京区', '2021-04-01 00:00:00');
INSERT INTO departments (municipality_id, code, name, active, created_at, updated_at)
    VALUES (2, 'it', '情報政策課', TRUE, '2021-04-01 00:00:00', '2021-04-01 00:00:00');
INSERT INTO users (username, display_name, password_hash, role, municipality_id, active, created_at, updated_at)
    VALUES ('kouhou', '広報課', 'x', 'viewer', 1, TRUE, '2021-04-01 00:00:00', '2021-04-01 00:00:00');
INSERT INTO audit_log (occurred_at, actor_id, actor_username, action, entity_type, entity_id, municipality_id)
    VALUES ('2021-05-10 09:00:00', NULL, 'root', 'update', 'user', 1, NULL),
           ('2021-05-10 09:00:00', NULL, 'root', 'create', 'department', 1, NULL),
           ('2021-05-10 09:00:00', NULL, 'root', 'create', 'municipality', 2, NULL),
           ('2021-05-10 09:00:00', NULL, 'root', 'update', 'plan', 7, NULL);
";
    db.write_blocking(municipal_kpi::db::WriteScope::Installation, |conn| {
        conn.batch_execute(rows).map_err(AppError::from)
    })
    .expect("earlier rows");
    db.migrate().expect("the backfill");
    let owners: Vec<Option<i32>> = db
        .read_blocking(|conn| {
            use diesel::prelude::*;
            use municipal_kpi::db::schema::audit_log;
            audit_log::table.order(audit_log::id).select(audit_log::municipality_id).load(conn).map_err(AppError::from)
        })
        .expect("entries");
    assert_eq!(owners, vec![Some(1), Some(2), Some(2), None], "a record it cannot place stays unplaced");
}
