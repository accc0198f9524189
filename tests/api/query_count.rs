//! No N+1 in the evaluation: the demo plan and its 10× synthetic copy take the same number of
//! queries per evaluation, counted with diesel's connection instrumentation.
use municipal_kpi::domain::ids::PlanId;

use municipal_kpi::synthetic::{self, nationwide};

use crate::helpers::{Backend, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(
    evaluation_query_count_does_not_grow_with_the_plan,
    year_scoped_load_evaluates_like_the_full_load,
    comparison_query_count_does_not_grow_with_the_municipalities
);

async fn comparison_query_count_does_not_grow_with_the_municipalities(backend: Backend) {
    let app = spawn_app(backend).await;
    app.load_demo();
    let code = "dx2-mynumber-card-issuance-rate";
    let alone = synthetic::comparison_queries(&app.db, code, 2020).expect("comparison");
    let shape = nationwide::Shape { municipalities: 12, years: 3, last_fiscal_year: 2021 };
    let loaded = nationwide::load(&app.db, shape).expect("synthetic municipalities load");
    assert_eq!((loaded.municipalities, loaded.actuals), (12, 12 * 60 * 3));
    let many = synthetic::comparison_queries(&app.db, code, 2020).expect("comparison");
    assert_eq!(alone.len(), many.len(), "queries per comparison: 1 municipality {alone:#?} vs 13 {many:#?}");
    let body =
        json(app.get(&format!("/national-indicators/{code}/comparison?fiscal_year=2020"), &app.viewer).await).await;
    assert_eq!(body["summary"]["participating"], 13);
    assert_eq!(body["summary"]["reported"], 12, "the synthetic ones are approved, the demo's is missing");
    let synthetic_rows = body["rows"].as_array().unwrap().iter().filter(|row| row["is_sample"] == true).count();
    assert_eq!(synthetic_rows, 12, "every synthetic figure is flagged");
}

async fn evaluation_query_count_does_not_grow_with_the_plan(backend: Backend) {
    let app = spawn_app(backend).await;
    let demo_id = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let scaled = synthetic::load_scaled_demo_plan(&app.db, 10).expect("synthetic plan loads");
    assert_eq!(scaled.measures, 410);
    let samples = synthetic::add_sample_actuals(&app.db, scaled.plan_id).expect("sample actuals");
    assert!(samples > 0);

    let mut evaluated = Vec::new();
    let mut counts = Vec::new();
    let mut statements = String::new();
    for plan_id in [demo_id, scaled.plan_id] {
        let body = json(app.get(&format!("/plans/{plan_id}/evaluation?fiscal_year=2020"), &app.hq).await).await;
        evaluated.push(body["indicators"].as_array().expect("indicators").len());
        let queries = synthetic::evaluation_queries(&app.db, plan_id, 2020).expect("evaluation");
        counts.push(queries.len());
        // Shown only when the counts differ: which statements an evaluation ran.
        statements.push_str(&format!("{backend:?}: plan {plan_id}, {} queries:\n", queries.len()));
        for query in &queries {
            statements.push_str(&format!("  {}\n", query.chars().take(120).collect::<String>()));
        }
    }
    assert_eq!(evaluated[1], 10 * evaluated[0], "the synthetic plan evaluates 10× the indicators");
    assert_eq!(counts[0], counts[1], "queries per evaluation: demo {} vs 10× {}\n{statements}", counts[0], counts[1]);
    // The same again through the pool: the instrumentation was removed from the connection.
    assert_eq!(synthetic::count_queries(&app.db, demo_id, 2020).expect("evaluation"), counts[0]);
}

/// The single-year evaluation reads only that year's actuals and no roadmaps; every year of the
/// demo plan, with and without `as_of`, serialises exactly as when evaluated from the full load.
async fn year_scoped_load_evaluates_like_the_full_load(backend: Backend) {
    use municipal_kpi::error::AppError;
    use municipal_kpi::evaluation::plan::{evaluate, load, load_year};

    let app = spawn_app(backend).await;
    let plan_id = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let now = chrono::Utc::now().naive_utc();
    let as_of = chrono::NaiveDate::from_ymd_opt(2021, 4, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let full =
        app.db.read_blocking(move |conn| load(conn, PlanId::new(plan_id))).map_err(|e: AppError| e).expect("load");
    let mut compared = 0;
    for year in full.plan.years() {
        let scoped = app
            .db
            .read_blocking(move |conn| load_year(conn, PlanId::new(plan_id), year))
            .map_err(|e: AppError| e)
            .expect("load");
        assert!(scoped.events.iter().all(|e| e.fiscal_year == year));
        for moment in [None, Some(now), Some(as_of)] {
            let expected = serde_json::to_string(&evaluate(&full, year, moment, now)).unwrap();
            assert_eq!(serde_json::to_string(&evaluate(&scoped, year, moment, now)).unwrap(), expected, "FY{year}");
            compared += 1;
        }
    }
    assert_eq!(compared, 15, "FY2016–2020, three moments each");
}
