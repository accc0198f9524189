//! Integration tests: the real application against a fresh database per test, each test run on
//! SQLite and on PostgreSQL. One binary so the suite compiles once.

mod helpers;

mod actuals;
mod auth;
mod demo;
mod errors;
mod evaluation;
mod openapi;
mod outage;
mod plan_structure;
mod query_count;
mod web_view;
