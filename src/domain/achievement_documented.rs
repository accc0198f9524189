//! The worked examples of `docs/achievement.md`, run against [`evaluate`]: the table in the
//! documentation is the test data, so the page users read cannot drift from the code.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::achievement::{
    ActualValue, Direction, Grade, GradingSettings, IndicatorDefinition, Status, TargetRevision, YearInput, evaluate,
};

const DOCUMENT: &str = include_str!("../../docs/achievement.md");

/// One row of the worked-examples table, as written.
struct Example<'a> {
    name: &'a str,
    cells: Vec<&'a str>,
}

fn examples() -> Vec<Example<'static>> {
    let table = DOCUMENT.split("## 計算例").nth(1).expect("docs/achievement.md has a 計算例 section");
    table
        .lines()
        .filter(|line| line.starts_with('|'))
        .skip(2) // header and separator
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            Example { name: cells[0], cells: cells[1..].to_vec() }
        })
        .collect()
}

fn decimal(text: &str) -> Option<Decimal> {
    (text != "—").then(|| text.parse().unwrap_or_else(|_| panic!("`{text}` is not a decimal")))
}

/// `203 (2017)` → (Some(203), 2017); `— (2020)` → (None, 2020).
fn value_and_year(text: &str) -> (Option<Decimal>, i32) {
    let (value, year) = text.split_once(" (").unwrap_or_else(|| panic!("`{text}` is not `value (year)`"));
    (decimal(value), year.trim_end_matches(')').parse().expect("a year"))
}

fn named<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .unwrap_or_else(|_| panic!("`{text}` is not a known name"))
}

#[test]
fn every_worked_example_of_the_documentation_holds() {
    let examples = examples();
    assert!(examples.len() >= 10, "the table lost rows: {}", examples.len());
    for Example { name, cells } in examples {
        let [direction, baseline, target, year, actual, achieved, attainment, progress, expected, status, grade] =
            cells[..]
        else {
            panic!("{name}: expected 11 cells, found {}", cells.len())
        };
        let (baseline, baseline_year) = value_and_year(baseline);
        let (target, target_year) = value_and_year(target);
        let year: i32 = year.parse().expect("a fiscal year");
        let definition = IndicatorDefinition {
            direction: named::<Direction>(direction),
            baseline,
            baseline_year: Some(baseline_year),
            baseline_stage: None,
            stage_count: 0,
            grade_basis_override: None,
        };
        let revision = TargetRevision {
            value: target,
            stage: None,
            target_year,
            effective_from_year: baseline_year + 1,
            interim: BTreeMap::new(),
        };
        let actual = match actual.split_once('/') {
            Some((numerator, denominator)) => ActualValue::Ratio {
                numerator: decimal(numerator).expect("a numerator"),
                denominator: decimal(denominator).expect("a denominator"),
            },
            None => ActualValue::Number(decimal(actual).expect("an actual")),
        };
        let input = YearInput { year, target: Some(&revision), approved: Some(&actual), pending: false };
        let result = evaluate(&definition, &input, &GradingSettings::default());
        assert_eq!(result.achieved, Some(achieved == "true"), "{name}: achieved");
        assert_eq!(result.attainment_rate, decimal(attainment), "{name}: 達成率");
        assert_eq!(result.progress_rate, decimal(progress), "{name}: 進捗率");
        assert_eq!(result.expected, decimal(expected), "{name}: expected");
        assert_eq!(result.status, named::<Status>(status), "{name}: status");
        assert_eq!(result.grade, named::<Grade>(grade), "{name}: grade");
    }
}
