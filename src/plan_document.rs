//! The plan file format (see `demo/FORMAT-SAMPLE.toml`) and its loader.
//!
//! A city keeps its plan as one readable TOML file; loading it goes through the same storage
//! functions the API uses, so validation and the audit trail are the same as for API writes.
//! Revisions the document records (former names, raised targets, replaced or deleted indicators,
//! added owners, completed measures) are replayed as history, not flattened.
use crate::domain::ids::{GoalId, IndicatorId, MeasureId, PlanId, StrategyId};

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::db::audit::Actor;
use crate::db::batch::WRITE_BATCH_ROWS;
use crate::db::indicators::{self, IndicatorFields, NewTarget};
use crate::db::measures::{self, InitialOwner, MeasureFields};
use crate::db::plan_making;
use crate::db::plan_references::{self, NewReference};
use crate::db::plans::{self, GoalFields, NameChange, PlanFields};
use crate::db::{DbConnection, departments};
use crate::domain::achievement::{Direction, GradingSettings};
use crate::domain::indicator::Baseline;
use crate::domain::measure::RoadmapEntry;
use crate::domain::municipality_code::MunicipalityCode;
use crate::domain::plan::Phase;
use crate::domain::plan::{IndicatorKind, IndicatorStatus, MeasureStatus, PlanStatus, ReviewCategory};
use crate::domain::plan_making::{GovernanceBody, Milestone, PlanMaking};
use crate::domain::plan_reference::ReferenceKind;
use crate::error::{AppError, FieldError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanDocument {
    pub municipality: MunicipalityEntry,
    pub plan: PlanEntry,
    #[serde(default)]
    pub departments: Vec<DepartmentEntry>,
    #[serde(default)]
    pub goals: Vec<GoalEntry>,
    #[serde(default)]
    pub strategies: Vec<NumberedEntry>,
    #[serde(default)]
    pub measures: Vec<MeasureEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityEntry {
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub code: String,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub code: String,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub start_fiscal_year: i32,
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub end_fiscal_year: i32,
    pub status: PlanStatus,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub baseline_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    pub description: String,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub phases: Vec<Phase>,
    pub grading: Option<GradingSettings>,
    /// The name the plan was made with, when it was renamed later (recorded as a rename)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub former_name: Option<String>,
    /// The first fiscal year of the current name
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub renamed_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub rename_reason: Option<String>,
    /// Code of the plan this one succeeds, loaded before it
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub predecessor: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub references: Vec<ReferenceEntry>,
    /// 検討・決定体制: the bodies that examine and decide the plan, in order, each with its source
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub governance: Vec<GovernanceBody>,
    /// The dated steps of the drafting (策定, パブリック・コメント, 議会報告), each with its source
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub milestones: Vec<Milestone>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

/// A plan above this one or a national policy it follows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceEntry {
    pub kind: ReferenceKind,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub title: String,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub notes: Option<String>,
    /// Which source names it (`seed 000 2`)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub source: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as precisely as the source dates it
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub issued: Option<String>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

/// A measure of an earlier plan: its plan's code and its number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureRefEntry {
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub plan: String,
    pub number: i32,
}

/// An indicator of an earlier plan: its plan's code, its measure's number and its own number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorRefEntry {
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub plan: String,
    pub measure: i32,
    pub number: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentEntry {
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub code: String,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub parent: Option<String>,
}

/// A goal at any level: a 基本目標 by default, or the plan's own `kind` (ICT活用ビジョン, 基本方針,
/// 計画の目的). Measures and child goals refer to it by `key`, or by number when it has no key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalEntry {
    pub number: i32,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub former_name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub revised_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub key: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub symbol: Option<String>,
    pub parent: Option<GoalRef>,
    /// Name of one of the plan's phases
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub phase: Option<String>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

/// A goal named by its number (goals without a key) or by its key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum GoalRef {
    Number(i32),
    Key(#[serde(deserialize_with = "crate::domain::limits::code")] String),
}

impl std::fmt::Display for GoalRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Key(key) => f.write_str(key),
        }
    }
}

/// A strategy (重点戦略).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberedEntry {
    pub number: i32,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub former_name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub revised_fiscal_year: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureEntry {
    pub number: i32,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::domain::limits::names")]
    pub former_names: Vec<String>,
    /// 見直し区分; leave out when no source states one
    pub review_category: Option<ReviewCategory>,
    pub strategy: Option<i32>,
    pub main_goal: Option<GoalRef>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub secondary_goals: Vec<GoalRef>,
    /// Name of the phase the measure belongs to; absent: the whole plan
    pub phase: Option<String>,
    /// The measure of an earlier plan this one carries over
    pub predecessor: Option<MeasureRefEntry>,
    #[serde(deserialize_with = "crate::domain::limits::codes")]
    pub owners: Vec<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::code_keys")]
    pub owners_added_fiscal_year: BTreeMap<String, i32>,
    /// A reading note per owning department (`{ it-promotion = "所管課を記した資料はない…" }`): how
    /// the 所管課 link reads its sources, e.g. a department assumed where no seed names one
    #[serde(default, deserialize_with = "crate::domain::limits::code_keys")]
    pub owner_reading_notes: BTreeMap<String, String>,
    #[serde(default)]
    pub owners_and_others: bool,
    pub status: MeasureStatus,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub status_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    pub summary: String,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub change_notes: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub added_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub roadmap: Vec<RoadmapEntry>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub indicators: Vec<IndicatorEntry>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub retired_indicators: Vec<RetiredIndicatorEntry>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorEntry {
    pub number: Option<i32>,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    #[serde(default, deserialize_with = "crate::domain::limits::name")]
    pub unit: String,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub numerator_label: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub denominator_label: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::names")]
    pub stages: Vec<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub department: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    pub description: String,
    pub baseline: Option<BaselineEntry>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub added_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub replaces: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::names")]
    pub former_names: Vec<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
    /// The indicator of an earlier plan this one continues
    pub predecessor: Option<IndicatorRefEntry>,
    /// The national definition the indicator implements (`national_indicators.code`).
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub national_indicator: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    pub targets: Vec<TargetEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::decimal_input::optional")]
    pub value: Option<Decimal>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub stage: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    #[serde(default, deserialize_with = "crate::domain::decimal_input::optional")]
    pub value: Option<Decimal>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub stage: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub text: Option<String>,
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub target_fiscal_year: i32,
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub effective_from_fiscal_year: i32,
    #[serde(default, deserialize_with = "crate::domain::decimal_input::by_fiscal_year")]
    pub interim: BTreeMap<i32, Decimal>,
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiredIndicatorEntry {
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub retired_fiscal_year: i32,
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub reason: String,
}

/// What a load created.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LoadReport {
    pub plan_id: i32,
    pub departments: usize,
    pub measures: usize,
    pub indicators: usize,
    pub target_revisions: usize,
    pub retired_indicators: usize,
}

impl PlanDocument {
    /// Reads a plan document; an error names the line and, for a refused value, the field's path
    /// in the document (`line 6 (plan.name)`), as a JSON body's error names its field.
    pub fn from_toml(text: &str) -> Result<Self, AppError> {
        let line_of = |e: &toml::de::Error| {
            e.span().map(|span| format!("line {}", text[..span.start.min(text.len())].lines().count().max(1)))
        };
        let deserializer = toml::Deserializer::parse(text).map_err(|e| {
            AppError::Validation(vec![FieldError::new(line_of(&e).unwrap_or_else(|| "document".into()), e.message())])
        })?;
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            let error = e.into_inner();
            let field = match (line_of(&error), path.as_str()) {
                (Some(line), "." | "") => line,
                (Some(line), path) => format!("{line} ({path})"),
                (None, "." | "") => "document".to_owned(),
                (None, path) => path.to_owned(),
            };
            AppError::Validation(vec![FieldError::new(field, error.message())])
        })
    }
}

/// The shape of indicators the document knows only by name: kept so the history shows them,
/// never evaluated after their retirement and, with no baseline, not assessable before it.
const PLACEHOLDER_NOTE: &str = "名称のみ記載: the revision names this indicator but prints no definition, \
baseline or target; kept as a retired record so the history shows it";

/// Loads a plan document in the caller's transaction: everything or nothing.
pub fn load(conn: &mut DbConnection, actor: &Actor, document: &PlanDocument) -> Result<LoadReport, AppError> {
    let code = MunicipalityCode::parse(&document.municipality.code)
        .map_err(|e| AppError::invalid("municipality.code", e.to_string()))?;
    let municipality = match (departments::find_municipality_by_code(conn, &code)?, actor.municipality_id) {
        (Some(existing), None) => existing,
        (Some(existing), Some(own)) if existing.id == own => existing,
        // A municipality's user loads plans of its own municipality only; a tool registers new ones.
        (_, Some(_)) => {
            return Err(AppError::invalid("municipality.code", "the document is for another municipality than yours"));
        }
        (None, None) => departments::create_municipality(conn, actor, &code, &document.municipality.name)?,
    };
    let actor = &actor.within(municipality.id);
    if plans::find_by_code(conn, municipality.id, &document.plan.code)?.is_some() {
        return Err(AppError::Conflict(format!("a plan with code {} already exists", document.plan.code)));
    }

    let mut department_ids: HashMap<&str, i32> = HashMap::new();
    for (i, entry) in document.departments.iter().enumerate() {
        let existing = departments::find_by_code_or_name(conn, municipality.id, &entry.code)?;
        let id = match existing {
            Some(department) => department.id,
            None => {
                let parent_id = entry
                    .parent
                    .as_deref()
                    .map(|parent| {
                        department_ids.get(parent).copied().ok_or_else(|| {
                            AppError::invalid(
                                format!("departments[{i}].parent"),
                                format!("unknown department {parent}"),
                            )
                        })
                    })
                    .transpose()?;
                departments::create(
                    conn,
                    actor,
                    &departments::NewDepartment {
                        municipality_id: municipality.id,
                        code: &entry.code,
                        name: &entry.name,
                        parent_id,
                    },
                )?
                .id
            }
        };
        department_ids.insert(entry.code.as_str(), id);
    }
    let department = |field: String, code: &str| {
        department_ids
            .get(code)
            .copied()
            .ok_or_else(|| AppError::invalid(field, format!("unknown department code {code}")))
    };

    let plan_entry = &document.plan;
    let predecessor_plan = plan_entry
        .predecessor
        .as_deref()
        .map(|code| {
            plans::find_by_code(conn, municipality.id, code)?
                .ok_or_else(|| AppError::invalid("plan.predecessor", format!("no plan {code}; load it first")))
        })
        .transpose()?;
    let plan = plans::create(
        conn,
        actor,
        municipality.id,
        &PlanFields {
            code: plan_entry.code.clone(),
            name: plan_entry.former_name.clone().unwrap_or_else(|| plan_entry.name.clone()),
            description: plan_entry.description.clone(),
            start_fiscal_year: plan_entry.start_fiscal_year,
            end_fiscal_year: plan_entry.end_fiscal_year,
            baseline_fiscal_year: plan_entry.baseline_fiscal_year,
            status: plan_entry.status,
            predecessor_id: predecessor_plan.as_ref().map(|p| p.id),
            phases: plan_entry.phases.clone(),
            grading: plan_entry.grading.clone().unwrap_or_default(),
            reading_note: plan_entry.reading_note.clone(),
        },
    )?;
    let plan = match &plan_entry.former_name {
        Some(_) => plans::update(
            conn,
            actor,
            PlanId::new(plan.id),
            None,
            &PlanFields { name: plan_entry.name.clone(), ..PlanFields::from(&plan) },
            &NameChange {
                effective_from_fiscal_year: plan_entry.renamed_fiscal_year,
                reason: plan_entry.rename_reason.clone(),
            },
        )?,
        None => plan,
    };
    for reference in &plan_entry.references {
        plan_references::create(
            conn,
            actor,
            PlanId::new(plan.id),
            &NewReference {
                kind: reference.kind,
                title: reference.title.clone(),
                referenced_plan_id: None,
                url: reference.url.clone(),
                notes: reference.notes.clone(),
                source: reference.source.clone(),
                issued: reference.issued.clone(),
                reading_note: reference.reading_note.clone(),
            },
        )?;
    }
    if !plan_entry.governance.is_empty() || !plan_entry.milestones.is_empty() {
        let making =
            PlanMaking { governance: plan_entry.governance.clone(), milestones: plan_entry.milestones.clone() };
        plan_making::replace(conn, actor, PlanId::new(plan.id), &making, None)?;
    }

    let phase_id = |field: String, name: &str| {
        plan.phases
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.id)
            .ok_or_else(|| AppError::invalid(field, format!("unknown phase {name}")))
    };
    let mut goal_ids: HashMap<String, i32> = HashMap::new();
    let goal_key = |goal: &GoalEntry| goal.key.clone().unwrap_or_else(|| goal.number.to_string());
    let find_goal = |goal_ids: &HashMap<String, i32>, field: String, reference: &GoalRef| {
        goal_ids
            .get(&reference.to_string())
            .copied()
            .ok_or_else(|| AppError::invalid(field, format!("unknown goal {reference}")))
    };
    for (g, goal) in document.goals.iter().enumerate() {
        let fields = GoalFields {
            number: goal.number,
            name: goal.former_name.clone().unwrap_or_else(|| goal.name.clone()),
            kind: goal.kind.clone().unwrap_or_else(|| crate::domain::plan::DEFAULT_GOAL_KIND.to_owned()),
            symbol: goal.symbol.clone(),
            parent_id: goal
                .parent
                .as_ref()
                .map(|p| find_goal(&goal_ids, format!("goals[{g}].parent"), p))
                .transpose()?,
            phase_id: goal.phase.as_deref().map(|p| phase_id(format!("goals[{g}].phase"), p)).transpose()?,
            reading_note: goal.reading_note.clone(),
        };
        let created = plans::create_goal(conn, actor, PlanId::new(plan.id), &fields)?;
        if goal.former_name.is_some() {
            plans::rename_goal(
                conn,
                actor,
                GoalId::new(created.id),
                &goal.name,
                Some(&revision_reason(goal.revised_fiscal_year)),
            )?;
        }
        if goal_ids.insert(goal_key(goal), created.id).is_some() {
            return Err(AppError::invalid(format!("goals[{g}]"), format!("goal {} is defined twice", goal_key(goal))));
        }
    }
    let mut strategy_ids = HashMap::new();
    for strategy in &document.strategies {
        let created = plans::create_strategy(
            conn,
            actor,
            PlanId::new(plan.id),
            strategy.number,
            strategy.former_name.as_deref().unwrap_or(&strategy.name),
        )?;
        if strategy.former_name.is_some() {
            plans::rename_strategy(
                conn,
                actor,
                StrategyId::new(created.id),
                &strategy.name,
                Some(&revision_reason(strategy.revised_fiscal_year)),
            )?;
        }
        strategy_ids.insert(strategy.number, created.id);
    }

    let mut pending = Vec::new();
    let mut report = LoadReport {
        plan_id: plan.id,
        departments: department_ids.len(),
        measures: 0,
        indicators: 0,
        target_revisions: 0,
        retired_indicators: 0,
    };
    for (m, entry) in document.measures.iter().enumerate() {
        let at = |field: &str| format!("measures[{m}].{field}");
        check_owner_reading_notes(entry)
            .map_err(|(code, problem)| AppError::invalid(at(&format!("owner_reading_notes.{code}")), problem))?;
        let owners = entry
            .owners
            .iter()
            .enumerate()
            .map(|(o, code)| {
                Ok(InitialOwner {
                    department_id: department(at(&format!("owners[{o}]")), code)?,
                    from_fiscal_year: entry.owners_added_fiscal_year.get(code).copied(),
                    reading_note: entry.owner_reading_notes.get(code).cloned(),
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let mut fields = MeasureFields {
            number: entry.number,
            name: entry.former_names.first().unwrap_or(&entry.name).clone(),
            summary: entry.summary.clone(),
            strategy_id: entry
                .strategy
                .map(|n| {
                    strategy_ids
                        .get(&n)
                        .copied()
                        .ok_or_else(|| AppError::invalid(at("strategy"), format!("unknown strategy {n}")))
                })
                .transpose()?,
            main_goal_id: entry.main_goal.as_ref().map(|g| find_goal(&goal_ids, at("main_goal"), g)).transpose()?,
            secondary_goal_ids: entry
                .secondary_goals
                .iter()
                .enumerate()
                .map(|(g, reference)| find_goal(&goal_ids, at(&format!("secondary_goals[{g}]")), reference))
                .collect::<Result<_, _>>()?,
            phase_id: entry.phase.as_deref().map(|p| phase_id(at("phase"), p)).transpose()?,
            predecessor_id: entry
                .predecessor
                .as_ref()
                .map(|p| earlier_measure(conn, municipality.id, at("predecessor"), &p.plan, p.number).map(|m| m.id))
                .transpose()?,
            review_category: entry.review_category,
            owners_and_others: entry.owners_and_others,
            added_fiscal_year: entry.added_fiscal_year,
            change_notes: entry.change_notes.clone(),
            roadmap: entry.roadmap.clone(),
            reading_note: entry.reading_note.clone(),
        };
        let mut measure = measures::create(conn, actor, PlanId::new(plan.id), &fields, &owners)?;
        for name in entry.former_names.iter().skip(1).chain(std::iter::once(&entry.name)) {
            if *name != fields.name {
                fields.name = name.clone();
                measure = measures::update(
                    conn,
                    actor,
                    MeasureId::new(measure.id),
                    None,
                    &fields,
                    Some("推進施策名の変更 (追録版)"),
                )?;
            }
        }
        if entry.status != MeasureStatus::Active {
            measures::set_status(
                conn,
                actor,
                MeasureId::new(measure.id),
                None,
                entry.status,
                entry.status_fiscal_year,
                entry.change_notes.as_deref(),
            )?;
        }
        report.measures += 1;

        for retired in &entry.retired_indicators {
            let placeholder = placeholder_fields(&retired.name, IndicatorKind::Count, Direction::TrendUp);
            let created = indicators::create(conn, actor, measure.id, &placeholder, None)?;
            indicators::retire(
                conn,
                actor,
                IndicatorId::new(created.id),
                None,
                retired.retired_fiscal_year,
                &retired.reason,
            )?;
            report.retired_indicators += 1;
        }

        let measure_context =
            MeasureContext { plan: &plan, m, measure_id: measure.id, municipality_id: municipality.id };
        load_indicators(conn, actor, &measure_context, &entry.indicators, &department, &mut pending, &mut report)?;
    }
    create_pending(conn, actor, &plan, &mut pending, &mut report)?;
    Ok(report)
}

/// Where a measure's indicators go.
struct MeasureContext<'a> {
    plan: &'a crate::domain::plan::Plan,
    /// The measure's index in the document.
    m: usize,
    measure_id: i32,
    municipality_id: i32,
}

/// Loads one measure's indicators in document order: those that only define an indicator and its
/// targets join `pending`, written together in [bulk](indicators::bulk) (across measures, a
/// batch at a time); those that also retire, link or rename go one by one, after what is pending.
fn load_indicators(
    conn: &mut DbConnection,
    actor: &Actor,
    measure: &MeasureContext<'_>,
    entries: &[IndicatorEntry],
    department: &dyn Fn(String, &str) -> Result<i32, AppError>,
    pending: &mut Vec<indicators::bulk::NewIndicator>,
    report: &mut LoadReport,
) -> Result<(), AppError> {
    for (i, indicator) in entries.iter().enumerate() {
        let location = format!("measures[{}].indicators[{i}]", measure.m);
        let (fields, targets) = indicator_definition(indicator, &location, department)?;
        let defines_only =
            indicator.replaces.is_none() && indicator.predecessor.is_none() && indicator.former_names.is_empty();
        if defines_only {
            pending.push(indicators::bulk::NewIndicator { measure_id: measure.measure_id, fields, targets, location });
            if pending.len() >= WRITE_BATCH_ROWS {
                create_pending(conn, actor, measure.plan, pending, report)?;
            }
            continue;
        }
        create_pending(conn, actor, measure.plan, pending, report)?;
        report.target_revisions += targets.len();
        load_one_indicator(conn, actor, measure, indicator, &location, (fields, targets), report)?;
        report.indicators += 1;
    }
    Ok(())
}

fn create_pending(
    conn: &mut DbConnection,
    actor: &Actor,
    plan: &crate::domain::plan::Plan,
    pending: &mut Vec<indicators::bulk::NewIndicator>,
    report: &mut LoadReport,
) -> Result<(), AppError> {
    report.target_revisions += indicators::bulk::create_all(conn, actor, plan, pending)?;
    report.indicators += pending.len();
    pending.clear();
    Ok(())
}

/// An indicator's definition and its targets as the document gives them, stage names turned
/// into their indexes.
fn indicator_definition(
    indicator: &IndicatorEntry,
    location: &str,
    department: &dyn Fn(String, &str) -> Result<i32, AppError>,
) -> Result<(IndicatorFields, Vec<NewTarget>), AppError> {
    let at = |field: &str| format!("{location}.{field}");
    let stage_index = |field: String, name: &str| {
        indicator
            .stages
            .iter()
            .position(|s| s == name)
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| AppError::invalid(field, format!("{name} is not one of the stages")))
    };
    let baseline = match &indicator.baseline {
        Some(b) => Baseline {
            fiscal_year: b.fiscal_year,
            fiscal_year_label: None,
            value: b.value,
            stage: b.stage.as_deref().map(|s| stage_index(at("baseline.stage"), s)).transpose()?,
            text: b.text.clone(),
        },
        None => Baseline::default(),
    };
    let fields = IndicatorFields {
        number: indicator.number,
        name: indicator.former_names.first().unwrap_or(&indicator.name).clone(),
        description: indicator.description.clone(),
        unit: indicator.unit.clone(),
        kind: indicator.kind,
        direction: indicator.direction,
        numerator_label: indicator.numerator_label.clone(),
        denominator_label: indicator.denominator_label.clone(),
        stages: indicator.stages.clone(),
        department_id: indicator.department.as_deref().map(|code| department(at("department"), code)).transpose()?,
        baseline,
        grade_basis: None,
        added_fiscal_year: indicator.added_fiscal_year,
        reading_note: indicator.reading_note.clone(),
        national_indicator_code: indicator.national_indicator.clone(),
    };
    let targets = indicator
        .targets
        .iter()
        .enumerate()
        .map(|(t, target)| {
            Ok(NewTarget {
                value: target.value,
                stage: target
                    .stage
                    .as_deref()
                    .map(|s| stage_index(at(&format!("targets[{t}].stage")), s))
                    .transpose()?,
                text: target.text.clone(),
                target_fiscal_year: target.target_fiscal_year,
                effective_from_fiscal_year: target.effective_from_fiscal_year,
                interim: target.interim.clone(),
                reason: target.reason.clone(),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((fields, targets))
}

/// An indicator that replaces another, continues one of an earlier plan or was renamed: created,
/// then retired, linked or renamed as the API would, one write after the other.
fn load_one_indicator(
    conn: &mut DbConnection,
    actor: &Actor,
    measure: &MeasureContext<'_>,
    indicator: &IndicatorEntry,
    location: &str,
    (mut fields, targets): (IndicatorFields, Vec<NewTarget>),
    report: &mut LoadReport,
) -> Result<(), AppError> {
    let plan = measure.plan;
    let at = |field: &str| format!("{location}.{field}");
    let replaces_id = match &indicator.replaces {
        Some(old_name) => {
            let placeholder = placeholder_fields(old_name, indicator.kind, indicator.direction);
            let placeholder = IndicatorFields { stages: indicator.stages.clone(), ..placeholder };
            let old = indicators::create(conn, actor, measure.measure_id, &placeholder, None)?;
            let year = indicator.added_fiscal_year.unwrap_or(plan.start_fiscal_year);
            indicators::retire(
                conn,
                actor,
                IndicatorId::new(old.id),
                None,
                year,
                &format!("指標の変更: 「{}」に変更", indicator.name),
            )?;
            report.retired_indicators += 1;
            Some(old.id)
        }
        None => None,
    };
    let created = indicators::create(conn, actor, measure.measure_id, &fields, replaces_id)?;
    if let Some(predecessor) = &indicator.predecessor {
        let earlier =
            earlier_measure(conn, measure.municipality_id, at("predecessor"), &predecessor.plan, predecessor.measure)?;
        let predecessor_id = indicators::list_for_measure(conn, MeasureId::new(earlier.id))?
            .into_iter()
            .find(|i| i.number == Some(predecessor.number) && i.status == IndicatorStatus::Active)
            .ok_or_else(|| AppError::invalid(at("predecessor"), "no such indicator in that measure"))?
            .id;
        indicators::link_predecessor(
            conn,
            actor,
            IndicatorId::new(created.id),
            Some(predecessor_id),
            Some("前計画の指標を継続"),
        )?;
    }
    for name in indicator.former_names.iter().skip(1).chain(std::iter::once(&indicator.name)) {
        if *name != fields.name {
            fields.name = name.clone();
            indicators::update(conn, actor, IndicatorId::new(created.id), None, &fields, Some("指標の修正 (追録版)"))?;
        }
    }
    for target in &targets {
        indicators::revise_target(conn, actor, IndicatorId::new(created.id), None, target)?;
    }
    Ok(())
}

/// Measure `number` of the plan with `code`, loaded before this document.
fn earlier_measure(
    conn: &mut DbConnection,
    municipality_id: i32,
    field: String,
    code: &str,
    number: i32,
) -> Result<crate::domain::measure::Measure, AppError> {
    let plan = plans::find_by_code(conn, municipality_id, code)?
        .ok_or_else(|| AppError::invalid(field.clone(), format!("no plan {code}; load it first")))?;
    measures::list_for_plan(conn, PlanId::new(plan.id))?
        .into_iter()
        .find(|m| m.number == number)
        .ok_or_else(|| AppError::invalid(field, format!("plan {code} has no measure No.{number}")))
}

/// Every owner reading note names one of the measure's owners and is bounded like any text.
fn check_owner_reading_notes(entry: &MeasureEntry) -> Result<(), (String, String)> {
    for (code, note) in &entry.owner_reading_notes {
        if !entry.owners.contains(code) {
            return Err((code.clone(), format!("{code} は owners にありません (not one of the measure's owners)")));
        }
        if let Some(problem) = crate::domain::limits::text_problem(note, crate::domain::limits::MAX_TEXT_CHARS) {
            return Err((code.clone(), problem));
        }
    }
    Ok(())
}

fn revision_reason(year: Option<i32>) -> String {
    match year {
        Some(year) => format!("名称の変更 ({})", crate::domain::plan::label(year)),
        None => "名称の変更".to_owned(),
    }
}

fn placeholder_fields(name: &str, kind: IndicatorKind, direction: Direction) -> IndicatorFields {
    IndicatorFields {
        number: None,
        name: name.to_owned(),
        description: String::new(),
        unit: String::new(),
        kind,
        direction,
        numerator_label: (kind == IndicatorKind::Ratio).then(|| "(不明)".to_owned()),
        denominator_label: (kind == IndicatorKind::Ratio).then(|| "(不明)".to_owned()),
        stages: Vec::new(),
        department_id: None,
        baseline: Baseline::default(),
        grade_basis: None,
        added_fiscal_year: None,
        reading_note: Some(PLACEHOLDER_NOTE.to_owned()),
        national_indicator_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL_PLAN: &str = r#"
[municipality]
code = "131199"
name = "板橋区"

[plan]
code = "sample"
name = "計画"
start_fiscal_year = 2021
end_fiscal_year = 2025
status = "active"

[[plan.phases]]
name = "後期実施計画"
start_fiscal_year = 2024
end_fiscal_year = 2025
"#;

    #[test]
    fn a_phase_with_only_known_keys_is_read() {
        let document = PlanDocument::from_toml(MINIMAL_PLAN).unwrap();
        assert_eq!(document.plan.phases.len(), 1);
        assert_eq!(document.plan.phases[0].name, "後期実施計画");
    }

    #[test]
    fn a_milestone_or_governance_body_with_an_unknown_key_is_refused() {
        for (table, entry) in [
            ("plan.milestones", "what = \"策定報告\"\ndate = \"2024-02\"\nday = 1\n"),
            ("plan.governance", "name = \"情報化推進部会\"\nrole = \"検討\"\nrank = 1\n"),
        ] {
            let text = format!("{MINIMAL_PLAN}\n[[{table}]]\n{entry}");
            let Err(AppError::Validation(errors)) = PlanDocument::from_toml(&text) else {
                panic!("an unknown key in [[{table}]] must be refused");
            };
            assert!(errors[0].message.contains("unknown field"), "{}", errors[0].message);
            assert!(errors[0].field.contains(table), "{}", errors[0].field);
        }
    }

    #[test]
    fn a_phase_with_an_unknown_key_is_refused_naming_the_key_and_its_line() {
        let text = format!("{MINIMAL_PLAN}aim = \"新サービス導入\"\n");
        let Err(AppError::Validation(errors)) = PlanDocument::from_toml(&text) else {
            panic!("an unknown key in [[plan.phases]] must be refused");
        };
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("unknown field `aim`"), "{}", errors[0].message);
        assert!(errors[0].field.contains("plan.phases"), "{}", errors[0].field);
    }
}
