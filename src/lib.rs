//! municipal-kpi: KPI tracking for municipal ICT/DX plans.
//!
//! - [`domain`]: pure rules (fiscal years, municipality codes, achievement)
//! - [`db`]: storage over SQLite or PostgreSQL
//! - [`api`]: HTTP handlers and the OpenAPI document
//! - [`heap`]: how much freed memory the process keeps
//! - [`response_cache`]: computed answers reused while the data is unchanged
//! - [`plan_document`]: the plan file format (the demo plan is one)
//! - [`cli`]: the command line
//! - [`reminders`]: e-mail reminders (`municipal-kpi remind`)
//! - [`metrics`]: request, pool and cache counters for `GET /metrics`
//! - [`web`]: the web view served at `/` (files under `web/`, embedded)

pub mod api;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod connections;
pub mod db;
pub mod demo;
pub mod domain;
pub mod effective_config;
pub mod error;
pub mod evaluation;
pub mod heap;
pub mod measure_evaluation_cycle;
pub mod metrics;
pub mod plan_document;
pub mod progress_report;
pub mod publication;
pub mod reminders;
pub mod response_cache;
pub mod spreadsheet;
pub mod startup;
pub mod submission_cycle;
pub mod synthetic;
pub mod telemetry;
pub mod versioned_cache;
pub mod versioning;
pub mod web;
