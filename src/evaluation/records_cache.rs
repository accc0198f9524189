//! Plan records kept across the writes of actuals.
//!
//! During collection week almost every write is a department's actual, and each one makes its
//! municipality's cached answers stale ([`crate::response_cache`]). Computing the next answer
//! needs that year's actuals again, but not the rest of the plan's records: reading those is most
//! of the work, and they change only when the municipality's non-actual version does
//! ([`crate::db::data_version`]). They are kept per plan and year with the installation's version
//! and that non-actual version they were read at, and served only at those; the actuals are read
//! afresh every time.
//!
//! Bounded ([`crate::versioned_cache`]): at most [`MAX_CACHED_PLAN_YEARS`] plan years and
//! [`MAX_CACHED_RECORDS`] records in all.

use std::sync::{Arc, Mutex, PoisonError};

use super::plan::{self, PlanRecords, RecordsBesideActuals};
use crate::db::DbConnection;
use crate::domain::ids::PlanId;
use crate::error::AppError;
use crate::response_cache::DataVersion;
use crate::versioned_cache::VersionedCache;

/// At most this many plan years are kept.
pub const MAX_CACHED_PLAN_YEARS: usize = 64;
/// At most this many records (goals, measures, indicators, targets, …) are kept in all: the 10×
/// plan holds about 2,100, each demo plan about 250.
pub const MAX_CACHED_RECORDS: usize = 4_000;

/// The plan records of one server process (shared by its workers), by plan and fiscal year, at
/// the non-actual version of their municipality; sized in records.
pub struct RecordsCache {
    kept: Mutex<VersionedCache<(PlanId, i32), RecordsBesideActuals>>,
}

impl Default for RecordsCache {
    fn default() -> Self {
        Self::with_bounds(MAX_CACHED_PLAN_YEARS, MAX_CACHED_RECORDS)
    }
}

impl RecordsCache {
    pub fn with_bounds(max_plan_years: usize, max_records: usize) -> Self {
        Self { kept: Mutex::new(VersionedCache::with_bounds(max_plan_years, max_records)) }
    }

    /// The plan's records with the actuals of `year`, as [`plan::load_year`] reads them: the
    /// actuals read now, the rest as kept when it was read at `version`.
    pub fn load_year(
        &self,
        conn: &mut DbConnection,
        version: DataVersion,
        plan_id: PlanId,
        year: i32,
    ) -> Result<PlanRecords, AppError> {
        let key = (plan_id, year);
        let kept = self.lock().get(version.installation, version.non_actual, &key);
        let beside_actuals = match kept {
            Some(kept) => kept,
            None => {
                let read = Arc::new(RecordsBesideActuals::load(conn, plan_id, Some(year))?);
                let size = read.record_count();
                self.lock().insert(version.installation, version.non_actual, key, Arc::clone(&read), size);
                read
            }
        };
        plan::with_actuals(conn, beside_actuals, Some(year))
    }

    /// How many plan years are kept, and their records in all.
    pub fn usage(&self) -> (usize, usize) {
        self.lock().usage()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VersionedCache<(PlanId, i32), RecordsBesideActuals>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
