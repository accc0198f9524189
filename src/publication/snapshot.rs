//! What a publication freezes: a plan's year as its approved figures stood when published. Only
//! what may be public is in it (no notes, comments or users: see
//! [`crate::domain::publication::INTERNAL_KEYS`]).

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::municipality::Municipality;
use crate::error::AppError;
use crate::evaluation::plan::PlanRecords;
use crate::spreadsheet::OpenDataRow;

/// A plan's year as published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct YearSnapshot {
    pub municipality_code: String,
    pub municipality_name: String,
    pub plan_id: i32,
    pub plan_name: String,
    pub fiscal_year: i32,
    pub fiscal_year_label: String,
    /// Every approved figure of the year, indicator by indicator.
    pub rows: Vec<SnapshotRow>,
}

/// One indicator's approved figure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotRow {
    pub measure_number: i32,
    pub measure_name: String,
    pub indicator_id: i32,
    pub indicator_name: String,
    pub unit: String,
    pub value: Option<Decimal>,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
    pub rate: Option<Decimal>,
    pub stage_name: Option<String>,
    pub approved_at: NaiveDateTime,
    /// Generated demo data (サンプル), never a real figure
    pub is_sample: bool,
}

impl YearSnapshot {
    /// The year's approved figures as they stand in `records`.
    pub fn of(records: &PlanRecords, municipality: &Municipality, year: i32) -> Self {
        let rows = records
            .approved_rows(year..=year)
            .into_iter()
            .map(|(row, is_sample)| SnapshotRow {
                measure_number: row.measure_number,
                measure_name: row.measure_name,
                indicator_id: row.indicator_id,
                indicator_name: row.indicator_name,
                unit: row.unit,
                value: row.value,
                numerator: row.numerator,
                denominator: row.denominator,
                rate: row.rate,
                stage_name: row.stage_name,
                approved_at: row.approved_at,
                is_sample,
            })
            .collect();
        Self {
            municipality_code: municipality.code.clone(),
            municipality_name: municipality.name.clone(),
            plan_id: records.plan.id,
            plan_name: records.plan.name.clone(),
            fiscal_year: year,
            fiscal_year_label: crate::domain::plan::label(year),
            rows,
        }
    }

    /// Reads a stored snapshot back.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, AppError> {
        Self::deserialize(value).map_err(|e| AppError::Internal(format!("a stored snapshot does not read back: {e}")))
    }

    /// The dataset's title in Japanese: 板橋区 板橋区ICT推進・活用計画2020 令和2(2020)年度 進捗状況.
    pub fn title(&self) -> String {
        format!("{} {} {} 進捗状況", self.municipality_name, self.plan_name, self.fiscal_year_label)
    }

    pub fn contains_sample(&self) -> bool {
        self.rows.iter().any(|row| row.is_sample)
    }

    /// The open data rows: real figures only (sample data is never open data).
    pub fn open_data_rows(&self) -> Vec<OpenDataRow> {
        self.rows
            .iter()
            .filter(|row| !row.is_sample)
            .map(|row| OpenDataRow {
                fiscal_year: self.fiscal_year,
                measure_number: row.measure_number,
                measure_name: row.measure_name.clone(),
                indicator_id: row.indicator_id,
                indicator_name: row.indicator_name.clone(),
                unit: row.unit.clone(),
                value: row.value,
                numerator: row.numerator,
                denominator: row.denominator,
                rate: row.rate,
                stage_name: row.stage_name.clone(),
                approved_at: row.approved_at,
            })
            .collect()
    }

    /// The CSV of [`Self::open_data_rows`], as the plan's open data is written.
    pub fn open_data_csv(&self) -> Result<Vec<u8>, AppError> {
        crate::spreadsheet::open_data_csv(
            &self.municipality_code,
            &self.municipality_name,
            &self.plan_name,
            &self.open_data_rows(),
        )
    }
}
