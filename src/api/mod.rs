//! HTTP: one module per resource; handlers parse, authorise, call one storage or domain
//! function and shape the response.

pub mod actuals;
pub mod audit;
pub mod auth;
pub mod body_deadline;
pub mod collections;
pub mod cors;
pub mod dashboard;
pub mod departments;
pub mod evaluation;
pub mod extract;
pub mod health;
pub mod identity_providers;
pub mod indicators;
pub mod input_messages;
pub mod lineage;
pub mod measure_evaluations;
pub mod measures;
pub mod metrics;
pub mod national_editions;
pub mod national_indicators;
pub mod oidc_login;
pub mod open_data;
pub mod openapi;
pub mod pagination;
pub mod plans;
pub mod public;
pub mod publications;
pub mod reminders;
pub mod report;
pub mod resolved;
pub mod security_headers;
pub mod sliced_body;
pub mod submissions;
pub mod users;

use actix_web::web;
use serde::{Deserialize, Deserializer};

/// Routes under `/api/v1`.
///
/// actix tries the routes in the order they are registered, running each pattern's regex until
/// one matches (and only then the method): the reads that dashboards and other systems poll come
/// first. None of them can shadow a later route: no other path has their shape.
pub fn configure_v1(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard::dashboard)
        .service(evaluation::get_evaluation)
        .service(report::get_report)
        .service(actuals::indicator_achievement)
        .service(indicators::get_indicator)
        .service(indicators::list_indicators)
        .service(auth::issue_token)
        .service(auth::me)
        .service(oidc_login::list_web_login_providers)
        .service(oidc_login::begin_web_login)
        .service(oidc_login::finish_web_login)
        .service(oidc_login::exchange_login_ticket)
        .service(oidc_login::logout)
        .service(identity_providers::get_identity_provider)
        .service(identity_providers::put_identity_provider)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::update_user)
        .service(departments::list_municipalities)
        .service(departments::create_municipality)
        .service(departments::list_departments)
        .service(departments::create_department)
        .service(departments::get_department)
        .service(departments::update_department)
        .service(plans::import_plan)
        .service(plans::list_plans)
        .service(plans::create_plan)
        .service(plans::get_plan)
        .service(plans::update_plan)
        .service(plans::list_goals)
        .service(plans::create_goal)
        .service(plans::rename_goal)
        .service(plans::list_strategies)
        .service(plans::create_strategy)
        .service(plans::rename_strategy)
        .service(plans::get_making)
        .service(plans::replace_making)
        .service(measures::list_measures)
        .service(measures::create_measure)
        .service(measures::get_measure)
        .service(measures::update_measure)
        .service(measures::change_measure_status)
        .service(measures::add_owner)
        .service(measures::update_owner)
        .service(measures::remove_owner)
        .service(indicators::create_indicator)
        .service(indicators::update_indicator)
        .service(indicators::retire_indicator)
        .service(indicators::replace_indicator)
        .service(indicators::list_targets)
        .service(indicators::revise_target)
        .service(indicators::list_definitions)
        .service(indicators::revise_definition)
        .service(actuals::list_actuals)
        .service(actuals::get_actual)
        .service(actuals::submit_actual)
        .service(actuals::actual_history)
        .service(actuals::review_actual)
        .service(measure_evaluations::get_measure_year)
        .service(measure_evaluations::get_department_evaluation)
        .service(measure_evaluations::submit_department_evaluation)
        .service(measure_evaluations::department_evaluation_history)
        .service(measure_evaluations::review_department_evaluation)
        .service(measure_evaluations::get_assessment)
        .service(measure_evaluations::assess_measure)
        .service(measure_evaluations::assessment_history)
        .service(measure_evaluations::list_plan_measure_evaluations)
        .service(measure_evaluations::get_evaluation_directions)
        .service(measure_evaluations::set_evaluation_directions)
        .service(measure_evaluations::measure_revision_origins)
        .service(measure_evaluations::indicator_revision_origins)
        .service(measure_evaluations::import_measure_evaluations)
        .service(submissions::submissions)
        .service(collections::list_collections)
        .service(collections::open_collection)
        .service(collections::update_collection)
        .service(open_data::open_data)
        .service(actuals::import_actuals)
        .service(audit::list_audit)
        .service(reminders::reminder_log)
        .service(lineage::indicator_series)
        .service(lineage::link_predecessor)
        .service(lineage::list_references)
        .service(lineage::create_reference)
        .service(national_indicators::list_national_indicators)
        .service(national_indicators::national_comparison)
        .service(national_indicators::get_national_indicator)
        .service(publications::publish)
        .service(publications::list_publications)
        .service(public::published_year)
        .service(public::published_version)
        .service(public::catalog)
        .service(national_editions::list_national_editions)
        .service(national_editions::import_national_edition);
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
