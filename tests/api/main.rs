//! Integration tests: the real application against a fresh database per test, each test run on
//! SQLite and on PostgreSQL. One binary so the suite compiles once, with its own runner
//! (harness.rs): register tests with the macros of helpers.rs, never with `#[test]`.

mod harness;
mod helpers;

mod actuals;
mod audit_trail;
mod auth;
mod authorization_order;
mod backup;
mod cli;
mod comparison;
mod connections;
mod data_versions;
mod demo;
mod errors;
mod evaluation;
mod first_start;
mod import_limits;
mod indicator_read;
mod inputs;
mod last_admin;
mod limits_everywhere;
mod login_throttle;
mod measure_evaluations;
mod metrics;
mod migrations;
mod municipalities;
mod national_editions;
mod oidc;
mod oidc_login;
mod openapi;
mod outage;
mod plan_import_bulk;
mod plan_lineage;
mod plan_structure;
mod pools;
mod publication;
mod query_count;
mod reading_notes;
mod reminders;
mod report;
mod response_cache;
mod revocation;
mod scoped_references;
mod security_headers;
mod starvation;
mod walkthrough;
mod web_view;

fn main() -> std::process::ExitCode {
    harness::main()
}
