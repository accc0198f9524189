//! The demo installation: the 板橋区 plan of `demo/itabashi-ict-2020.toml` and one user per role.
//!
//! Only ever loaded into an empty database (or one that already holds exactly this demo), so demo
//! users and sample data never mix with a city's real records.
use crate::domain::ids::{IndicatorId, PlanId};

use rust_decimal::Decimal;

use crate::auth::password::hash_password;
use crate::db::WriteScope;
use crate::db::actuals::{self, NewVersion};
use crate::db::audit::Actor;
use crate::db::indicators;
use crate::db::{Database, DbConnection, collections, departments, measures, plans, users};
use crate::domain::achievement::Direction;
use crate::domain::actual::Reported;
use crate::domain::indicator::Indicator;
use crate::domain::municipality_code::MunicipalityCode;
use crate::domain::plan::{ActualStatus, IndicatorKind};
use crate::domain::role::Role;
use crate::domain::submission::ActualEventKind;
use crate::error::AppError;
use crate::plan_document::{LoadReport, PlanDocument, load};

mod sample_evaluations;
pub use sample_evaluations::SAMPLE_MARK;

pub const DEMO_PLAN_TOML: &str = include_str!("../demo/itabashi-ict-2020.toml");
pub const DEMO_PLAN_CODE: &str = "itabashi-ict-2020";

/// Plans loaded next to the 2020 plan, in this order (the successor names its predecessor): code
/// and document. They carry only what the seeds give; no sample actuals are added to them.
pub const DEMO_MORE_PLANS: &[(&str, &str)] = &[
    ("itabashi-dx-2025", include_str!("../demo/itabashi-dx-2025.toml")),
    ("bunkyo-data-2019", include_str!("../demo/bunkyo-data-2019.toml")),
];

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
    /// Loaded, with this many sample actuals and sample 施策評価 (departments' evaluations)
    Loaded {
        report: LoadReport,
        sample_actuals: usize,
        sample_evaluations: usize,
    },
    AlreadyLoaded {
        plan_id: i32,
    },
}

impl DemoOutcome {
    pub fn plan_id(&self) -> i32 {
        match self {
            Self::Loaded { report, .. } => report.plan_id,
            Self::AlreadyLoaded { plan_id } => *plan_id,
        }
    }
}

/// Marks every generated actual, in its note as well as in `is_sample`.
pub const SAMPLE_NOTE: &str = "サンプルデータ(デモ用に自動生成した値であり、実際の実績ではありません)";

/// Loads the demo plan and users unless this database already holds them; refuses a database
/// that holds anything else. With `sample_actuals`, adds generated FY2018–2020 actuals and 施策評価.
pub fn ensure_loaded(db: &Database, sample_actuals: bool) -> Result<DemoOutcome, AppError> {
    let document = PlanDocument::from_toml(DEMO_PLAN_TOML)?;
    let more = DEMO_MORE_PLANS
        .iter()
        .map(|(code, text)| PlanDocument::from_toml(text).map(|document| (*code, document)))
        .collect::<Result<Vec<_>, _>>()?;
    // argon2 is slow on purpose: the passwords are hashed on a thread of their own, one at a time
    // (19 MiB each), while the plans load, and the users are created once both are done.
    std::thread::scope(|scope| {
        let hashing = scope.spawn(|| DEMO_USERS.iter().map(|u| hash_password(u.password)).collect::<Vec<_>>());
        let hashed = move || {
            hashing
                .join()
                .map_err(|_| AppError::Internal("hashing the demo passwords failed".into()))?
                .into_iter()
                .collect()
        };
        load_with_users(db, &document, &more, sample_actuals, hashed)
    })
}

fn load_with_users(
    db: &Database,
    document: &PlanDocument,
    more: &[(&str, PlanDocument)],
    sample_actuals: bool,
    hashed: impl FnOnce() -> Result<Vec<String>, AppError>,
) -> Result<DemoOutcome, AppError> {
    db.write_blocking(WriteScope::Installation, move |conn| {
        let actor = Actor::system("demo");
        if let Some(plan) = find_plan(conn, document)? {
            // A demo database made before the other demo plans existed gets them now.
            load_missing(conn, &actor, more)?;
            return Ok(DemoOutcome::AlreadyLoaded { plan_id: plan.id });
        }
        if plans::count(conn)? > 0 {
            return Err(AppError::Conflict(
                "this database already holds other plans; --demo only loads into an empty database".into(),
            ));
        }
        let report = load(conn, &actor, document)?;
        load_missing(conn, &actor, more)?;
        let municipality_id = plans::get(conn, PlanId::new(report.plan_id))?.municipality_id;
        let actor = actor.within(municipality_id);
        for (user, hash) in DEMO_USERS.iter().zip(&hashed()?) {
            let department_id = match user.department_code {
                Some(code) => Some(
                    departments::find_by_code_or_name(conn, municipality_id, code)?
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
                    municipality_id: Some(municipality_id),
                    email: None,
                },
            )?;
        }
        let (samples, sample_evaluations) = if sample_actuals {
            let actuals = add_sample_actuals(conn, &actor, report.plan_id)?;
            let evaluations = sample_evaluations::add_sample_evaluations(conn, &actor, report.plan_id)?;
            // The 本部 has opened the year the samples stop in (no deadline, so nothing is late
            // whenever the demo is tried): screens open on it and say it is being collected.
            collections::open(conn, &actor, PlanId::new(report.plan_id), OPEN_YEAR, None)?;
            publish_sample_year(conn, &actor, report.plan_id)?;
            (actuals, evaluations)
        } else {
            (0, 0)
        };
        Ok(DemoOutcome::Loaded { report, sample_actuals: samples, sample_evaluations })
    })
}

/// The 本部 has published the sample year as it stands (its approved figures, every one flagged
/// サンプル), so that the public view and the catalogue have something to show.
fn publish_sample_year(conn: &mut DbConnection, actor: &Actor, plan_id: i32) -> Result<(), AppError> {
    let fiscal_year = crate::domain::fiscal_year::FiscalYear::new(OPEN_YEAR)
        .map_err(|_| AppError::Internal("the demo's open year is out of range".into()))?;
    let request = crate::publication::PublishRequest { fiscal_year, licence: None, correction_note: None };
    crate::publication::publish(conn, actor, PlanId::new(plan_id), &request).map(|_| ())
}

/// Loads each of the other demo plans this database does not hold yet.
fn load_missing(conn: &mut DbConnection, actor: &Actor, more: &[(&str, PlanDocument)]) -> Result<(), AppError> {
    for (_, document) in more {
        if find_plan(conn, document)?.is_none() {
            load(conn, actor, document)?;
        }
    }
    Ok(())
}

/// The document's plan, if this database holds it: its code within its municipality's.
fn find_plan(conn: &mut DbConnection, document: &PlanDocument) -> Result<Option<crate::domain::plan::Plan>, AppError> {
    let code = MunicipalityCode::parse(&document.municipality.code)
        .map_err(|e| AppError::invalid("municipality.code", e.to_string()))?;
    match departments::find_municipality_by_code(conn, &code)? {
        Some(municipality) => plans::find_by_code(conn, municipality.id, &document.plan.code),
        None => Ok(None),
    }
}

const SAMPLE_YEARS: [i32; 3] = [2018, 2019, 2020];

/// The plan's last year, whose collection the demo opens: every department keeps at least one
/// indicator without an actual in it, so a department user's first `PUT` creates one (the
/// README's walk-through) instead of meeting a sample that needs `If-Match`.
const OPEN_YEAR: i32 = 2020;

/// The departments that may write an indicator's actual in `year`: the measure's owners then and
/// the indicator's own department.
fn writing_departments(measure: &crate::domain::measure::Measure, indicator: &Indicator, year: i32) -> Vec<i32> {
    let owners = measure.owners.iter().map(|owner| owner.department_id).filter(|id| measure.owned_by(*id, Some(year)));
    owners.chain(indicator.department_id).collect()
}

/// A fixed pseudo-random fraction in [0, 1) per indicator and year, so every demo is the same.
fn sample_fraction(indicator_id: i32, year: i32) -> Decimal {
    let mixed = (i64::from(indicator_id) * 7919 + i64::from(year) * 104_729).rem_euclid(1000);
    Decimal::new(mixed, 3)
}

/// A plausible figure for the year: a share of the planned change that varies by indicator, so
/// the demo shows achieved, on-track, behind and off-track indicators.
fn sample_figures(
    indicator: &Indicator,
    target: Option<Decimal>,
    target_stage: Option<i32>,
    year: i32,
) -> Option<Reported> {
    let f = sample_fraction(indicator.id, year);
    let elapsed = Decimal::from(year - 2017);
    let baseline = indicator.baseline.value;
    let value = match (indicator.direction, baseline, target) {
        (Direction::Increase | Direction::Decrease, Some(b), Some(t)) => {
            let pace = Decimal::new(4, 1) + f * Decimal::new(8, 1); // 40 %–120 % of the planned pace
            Some(b + (t - b) * pace * elapsed / Decimal::from(3))
        }
        (Direction::MaintainAtLeast, _, Some(t)) => {
            Some(if f < Decimal::new(8, 1) { t } else { t * Decimal::new(95, 2) })
        }
        (Direction::MaintainAtMost, _, Some(t)) => Some(if f < Decimal::new(85, 2) { t } else { t + Decimal::ONE }),
        (Direction::TrendUp | Direction::TrendDown, Some(b), _) => {
            let change = (f - Decimal::new(3, 1)) * Decimal::new(1, 1) * elapsed; // -3 % … +7 % a year
            Some(b * (Decimal::ONE + change))
        }
        _ => None,
    };
    match indicator.kind {
        IndicatorKind::Milestone => {
            let last = target_stage.unwrap_or(i32::try_from(indicator.stages.len()).ok()? - 1);
            let start = indicator.baseline.stage.unwrap_or(0);
            let lag = if f < Decimal::new(3, 1) { 1 } else { 0 };
            Some(Reported { stage: Some((start + (year - 2017) - lag).clamp(0, last)), ..Default::default() })
        }
        IndicatorKind::Ratio => {
            let rate = value?.clamp(Decimal::ZERO, Decimal::from(200));
            let denominator = Decimal::from(1000);
            Some(Reported {
                numerator: Some((rate * Decimal::TEN).round()),
                denominator: Some(denominator),
                ..Default::default()
            })
        }
        IndicatorKind::Percent => Some(Reported {
            value: Some(value?.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED).round_dp(1)),
            ..Default::default()
        }),
        IndicatorKind::Count => Some(Reported { value: Some(value?.max(Decimal::ZERO).round()), ..Default::default() }),
    }
}

/// Generated actuals for FY2018–2020, flagged `is_sample` and noted as samples. FY2018–2019 are
/// approved; in FY2020 some are approved, some await review and a few are missing, among them the
/// first indicator of each department that has none missing yet ([`OPEN_YEAR`]).
pub(crate) fn add_sample_actuals(conn: &mut DbConnection, actor: &Actor, plan_id: i32) -> Result<usize, AppError> {
    let measures = measures::list_for_plan(conn, PlanId::new(plan_id))?;
    let mut added = 0;
    let mut departments_with_an_open_indicator = std::collections::HashSet::new();
    for indicator in indicators::list_for_plan(conn, PlanId::new(plan_id))? {
        let Some(measure) = measures.iter().find(|m| m.id == indicator.measure_id) else { continue };
        let targets = indicators::list_targets(conn, IndicatorId::new(indicator.id))?;
        for year in SAMPLE_YEARS {
            if !indicator.active_in(year) || !measure.active_in(year) {
                continue;
            }
            let target = targets.iter().rev().find(|t| t.effective_from_fiscal_year <= year);
            let Some(figures) =
                sample_figures(&indicator, target.and_then(|t| t.value), target.and_then(|t| t.stage), year)
            else {
                continue;
            };
            let f = sample_fraction(indicator.id, year);
            if year == OPEN_YEAR {
                let departments = writing_departments(measure, &indicator, year);
                if departments.iter().any(|id| !departments_with_an_open_indicator.contains(id)) {
                    departments_with_an_open_indicator.extend(departments);
                    continue; // left open for the department's first submission
                }
            }
            if year == 2020 && f >= Decimal::new(9, 1) {
                continue; // not yet reported
            }
            let submitted = NewVersion {
                event: ActualEventKind::Submitted,
                reported: &figures,
                note: SAMPLE_NOTE,
                status: ActualStatus::Submitted,
                is_sample: true,
                comment: None,
                actor_department_id: None,
            };
            actuals::insert(conn, actor, indicator.id, year, &submitted)?;
            if year < 2020 || f < Decimal::new(6, 1) {
                let current = actuals::find(conn, IndicatorId::new(indicator.id), year, &indicator.stages)?
                    .ok_or_else(|| AppError::Internal("sample actual missing".into()))?;
                let approved =
                    NewVersion { event: ActualEventKind::Approved, status: ActualStatus::Approved, ..submitted };
                actuals::update(conn, actor, &current, &approved)?;
            }
            added += 1;
        }
    }
    Ok(added)
}

#[cfg(test)]
mod caveat_tests {
    use super::*;
    use crate::plan_document::PlanDocument;

    fn reading_note(source: &str, measure: i32, indicator: i32) -> String {
        let document = PlanDocument::from_toml(source).unwrap();
        let measure = document.measures.iter().find(|m| m.number == measure).unwrap();
        let indicator = measure.indicators.iter().find(|i| i.number == Some(indicator)).unwrap();
        indicator.reading_note.clone().unwrap_or_default()
    }

    /// A field of a plan file that no seed gives. Where the file fills it, the record holding it
    /// carries a reading note that names it; otherwise the field is left out.
    #[derive(Clone, Copy)]
    enum Unsourced {
        PlanBaselineYear,
        PlanRenamedYear,
        PlanStatus,
        GoalNames,
        MeasureReviewCategories,
        MeasureOwners,
        MeasureStatuses,
    }

    /// Where `document` fills an unsourced field without a note naming it.
    fn unnoted(document: &PlanDocument, unsourced: &[Unsourced]) -> Vec<String> {
        let names = |note: &Option<String>, word: &str| note.as_deref().is_some_and(|note| note.contains(word));
        let plan = &document.plan;
        let mut found = Vec::new();
        for field in unsourced {
            match field {
                Unsourced::PlanBaselineYear
                    if plan.baseline_fiscal_year.is_some() && !names(&plan.reading_note, "基準年度") =>
                {
                    found.push("plan.baseline_fiscal_year".to_owned());
                }
                Unsourced::PlanRenamedYear
                    if plan.renamed_fiscal_year.is_some() && !names(&plan.reading_note, "renamed_fiscal_year") =>
                {
                    found.push("plan.renamed_fiscal_year".to_owned());
                }
                Unsourced::PlanStatus if !names(&plan.reading_note, "status") => found.push("plan.status".to_owned()),
                Unsourced::GoalNames => found.extend(
                    document
                        .goals
                        .iter()
                        .filter(|goal| !names(&goal.reading_note, "仮の名称"))
                        .map(|goal| format!("goals[{}].name", goal.number)),
                ),
                Unsourced::MeasureReviewCategories => found.extend(
                    document
                        .measures
                        .iter()
                        .filter(|m| m.review_category.is_some() && !names(&m.reading_note, "見直し区分"))
                        .map(|m| format!("measures[{}].review_category", m.number)),
                ),
                // The caveat travels with the 所管課 link it qualifies, not with the measure.
                Unsourced::MeasureOwners => found.extend(document.measures.iter().flat_map(|m| {
                    m.owners
                        .iter()
                        .filter(|code| !names(&m.owner_reading_notes.get(*code).cloned(), "所管課"))
                        .map(|code| format!("measures[{}].owners.{code}", m.number))
                })),
                Unsourced::MeasureStatuses => found.extend(
                    document
                        .measures
                        .iter()
                        .filter(|m| !names(&m.reading_note, "status"))
                        .map(|m| format!("measures[{}].status", m.number)),
                ),
                _ => {}
            }
        }
        found
    }

    fn more_plan(code: &str) -> &'static str {
        DEMO_MORE_PLANS.iter().find(|(plan, _)| *plan == code).unwrap().1
    }

    /// Seed 003 prints the 2020 plan whole, except whether it is still in force.
    #[test]
    fn itabashi_ict_2020_fills_no_unsourced_field_without_a_note() {
        let document = PlanDocument::from_toml(DEMO_PLAN_TOML).unwrap();
        assert_eq!(unnoted(&document, &[Unsourced::PlanStatus]), Vec::<String>::new());
    }

    /// Seeds 000–002 give neither a 所管課, a 見直し区分, a 基準年度, the visions' names, the year of
    /// the rename nor a status.
    #[test]
    fn itabashi_dx_2025_fills_no_unsourced_field_without_a_note() {
        let document = PlanDocument::from_toml(more_plan("itabashi-dx-2025")).unwrap();
        let unsourced = [
            Unsourced::PlanBaselineYear,
            Unsourced::PlanRenamedYear,
            Unsourced::PlanStatus,
            Unsourced::GoalNames,
            Unsourced::MeasureReviewCategories,
            Unsourced::MeasureOwners,
            Unsourced::MeasureStatuses,
        ];
        assert_eq!(unnoted(&document, &unsourced), Vec::<String>::new());
        assert_eq!(document.plan.baseline_fiscal_year, None, "no seed gives it: left empty");
        assert!(document.measures.iter().all(|m| m.review_category.is_none()), "no seed gives it: left empty");
    }

    /// Seed 004 is a draft: no 所管課, 見直し区分 or status.
    #[test]
    fn bunkyo_data_2019_fills_no_unsourced_field_without_a_note() {
        let document = PlanDocument::from_toml(more_plan("bunkyo-data-2019")).unwrap();
        let unsourced = [
            Unsourced::PlanStatus,
            Unsourced::MeasureReviewCategories,
            Unsourced::MeasureOwners,
            Unsourced::MeasureStatuses,
        ];
        assert_eq!(unnoted(&document, &unsourced), Vec::<String>::new());
        assert!(document.measures.iter().all(|m| m.review_category.is_none()), "no seed gives it: left empty");
    }

    /// The check finds an invented value: the 新規 the 文京区 file used to give every measure.
    #[test]
    fn an_unsourced_field_filled_without_a_note_is_found() {
        let text = more_plan("bunkyo-data-2019").replace(
            "number = 12\nname = \"既存システムの共通基盤搭載\"\n",
            "number = 12\nname = \"既存システムの共通基盤搭載\"\nreview_category = \"新規\"\n",
        );
        let mut document = PlanDocument::from_toml(&text).unwrap();
        document.measures[11].reading_note = None;
        document.measures[11].owner_reading_notes.clear();
        document.plan.reading_note = None;
        assert_eq!(
            unnoted(&document, &[Unsourced::PlanStatus, Unsourced::MeasureReviewCategories, Unsourced::MeasureOwners]),
            ["plan.status", "measures[12].review_category", "measures[12].owners.bunkyo-it-security-board"]
        );
    }

    /// Every reference names the seed it comes from.
    #[test]
    fn every_reference_names_its_source() {
        for (code, text) in DEMO_MORE_PLANS {
            let document = PlanDocument::from_toml(text).unwrap();
            for reference in &document.plan.references {
                let source = reference.source.as_deref().unwrap_or_default();
                assert!(source.starts_with("seed 00"), "{code}: {} has source {source:?}", reference.title);
            }
        }
    }

    /// The 検討・決定体制, the milestones and a phase's purpose are seed facts: each names its seed,
    /// and a milestone whose year the seed leaves to be read from the fiscal year says so.
    #[test]
    fn how_each_plan_was_made_names_its_sources() {
        let from_a_seed = |source: &Option<String>| source.as_deref().is_some_and(|s| s.starts_with("seed 00"));
        for (code, text) in DEMO_MORE_PLANS {
            let plan = PlanDocument::from_toml(text).unwrap().plan;
            for body in &plan.governance {
                assert!(from_a_seed(&body.source), "{code}: {} has no seed", body.name);
            }
            for milestone in &plan.milestones {
                assert!(from_a_seed(&milestone.source), "{code}: {} has no seed", milestone.what);
            }
            for phase in plan.phases.iter().filter(|phase| phase.purpose.is_some()) {
                assert!(from_a_seed(&phase.purpose_source), "{code}: {}'s purpose has no seed", phase.name);
            }
        }
        let bunkyo = PlanDocument::from_toml(more_plan("bunkyo-data-2019")).unwrap().plan;
        assert!(bunkyo.milestones.iter().all(|m| m.planned && names_the_reading(&m.reading_note, "年は平成30年度")));
        let dx_2025 = PlanDocument::from_toml(more_plan("itabashi-dx-2025")).unwrap().plan;
        let governance: Vec<&str> = dx_2025.governance.iter().map(|body| body.name.as_str()).collect();
        assert_eq!(governance, ["情報化推進部会", "ICT推進・活用本部(庁議)", "議会報告"]);
        let dates: Vec<&str> = dx_2025.milestones.iter().map(|m| m.date.as_str()).collect();
        assert_eq!(dates.first(), Some(&"2021"), "令和3(2021)年: the seed gives the year only");
        assert_eq!(dates.last(), Some(&"2024-02"), "2024年2月 策定報告: the month only");
        assert_eq!(dx_2025.phases.iter().filter(|phase| phase.purpose.is_some()).count(), 1, "後期 only");
    }

    fn names_the_reading(note: &Option<String>, words: &str) -> bool {
        note.as_deref().is_some_and(|note| note.contains(words))
    }

    /// Caveats that lived only in TOML comments travel with the indicator they qualify.
    #[test]
    fn indicator_caveats_are_reading_notes_not_comments() {
        assert!(
            reading_note(DEMO_PLAN_TOML, 1, 2).contains("充足率 is printed without a numerator/denominator formula")
        );
        assert!(reading_note(DEMO_PLAN_TOML, 6, 2).contains("住民基本台帳人口"));
        let dx_2025 = DEMO_MORE_PLANS.iter().find(|(code, _)| *code == "itabashi-dx-2025").unwrap().1;
        for measure in [1, 2] {
            assert!(
                reading_note(dx_2025, measure, 1).contains("The FY2020 baseline is read from seed 001"),
                "measure {measure}"
            );
        }
    }
}
