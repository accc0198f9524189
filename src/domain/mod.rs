//! Pure domain code: no I/O, no database, no clock. Each concept in its own module.

pub mod account;
pub mod achievement;
pub mod actual;
pub mod audit;
pub mod collection;
pub mod comparison;
pub mod current_cycle;
pub mod decimal_input;
pub mod department;
pub mod fiscal_year;
pub mod identity_provider;
pub mod ids;
pub mod indicator;
pub mod limits;
pub mod lineage;
pub mod measure;
pub mod measure_evaluation;
pub mod municipality;
pub mod municipality_code;
pub mod name_history;
pub mod national_edition;
pub mod national_indicator;
pub mod plan;
pub mod plan_making;
pub mod plan_reference;
pub mod progress_report;
pub mod publication;
pub mod read_only;
pub mod reminder;
pub mod resource;
pub mod role;
pub mod submission;
pub mod timestamp;

#[cfg(test)]
mod achievement_documented;
