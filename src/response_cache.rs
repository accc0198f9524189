//! Computed read answers (an evaluation, the dashboard feed, an indicator's achievement) kept as
//! serialised JSON and served again while the [data versions](crate::db::data_version) they depend
//! on, the installation's and their municipality's, are the ones they were computed at.
//!
//! Each request's data versions are read with its caller ([`DataVersion`]); the request then
//! either takes the stored bytes, without a database call, or computes, serialises and stores them.
//! A write raises its municipality's version (or the installation's) in its own transaction, so the
//! next request for that municipality's data computes afresh, on this process or any other sharing
//! the database, while the answers of every other municipality stay valid. What is stored is what a fresh computation
//! would send, byte for byte: the one part of an evaluation that depends on the clock,
//! `evaluated_at`, is rewritten per request ([`restamp_evaluated_at`]), and its other
//! clock-dependent part (`late`, judged by the UTC date) is covered by the date in the key.
//!
//! Bounded: at most [`MAX_CACHED_RESPONSES`] answers and [`MAX_CACHED_BYTES`] bytes; the oldest
//! stored go first, and a single answer larger than the byte bound is never stored.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use actix_web::dev::Payload;
use actix_web::http::header::EntityTag;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

use crate::db::measures::MeasureFilter;
use crate::db::{Database, DbConnection};
use crate::domain::ids::{IndicatorId, MeasureId, PlanId};
use crate::error::AppError;
use crate::versioned_cache::VersionedCache;

/// The [data versions](crate::db::data_version) read for this request, with its caller, by
/// [`resolve_caller`](crate::auth::resolve_caller): cached answers are served at them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataVersion {
    /// Raised by writes of no one municipality; every answer depends on it.
    pub installation: i64,
    /// Raised by writes of the municipality that owns the requested record.
    pub municipality: i64,
    /// Raised by that municipality's writes other than of its actuals: the plan records kept by
    /// [`crate::evaluation::records_cache`] are served at it.
    pub non_actual: i64,
}

impl FromRequest for DataVersion {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<Self>().copied().ok_or_else(|| {
            AppError::Internal("no data version was read: resolve_caller does not wrap this route".into())
        }))
    }
}

/// At most this many answers are kept. Sized so that the bytes, not the count, bound the cache: the
/// collection week's 100 polled municipalities alone ask for about 1,200 answers (an evaluation, a
/// dashboard and ten indicators' achievements each), and 256 kept a fifth of them, so most reads
/// computed afresh (docs/benchmark.md, 6 Dec).
pub const MAX_CACHED_RESPONSES: usize = 4096;
/// At most this many bytes of answers are kept (the 10× plan's evaluation is about 1 MiB, a
/// nationwide municipality's about 90 KB; those 1,200 answers take about 10.3 MB).
pub const MAX_CACHED_BYTES: usize = 12 * 1024 * 1024;

/// What an answer was computed for. Evaluations `as_of` a past time and xlsx workbooks are not
/// cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// `GET /plans/{id}/evaluation` as JSON; `day` is the UTC date lateness was judged on.
    Evaluation { plan_id: PlanId, fiscal_year: i32, day: NaiveDate },
    /// `GET /plans/{id}/evaluation` as the CSV 進捗管理表 (no clock in it but lateness).
    EvaluationCsv { plan_id: PlanId, fiscal_year: i32, day: NaiveDate },
    /// `GET /plans/{id}/submissions`, the collection status the 本部 polls.
    Submissions { plan_id: PlanId, fiscal_year: i32, day: NaiveDate },
    /// `GET /plans/{id}/measures` with its filter and page
    Measures { plan_id: PlanId, filter: MeasureFilter, limit: i64, offset: i64 },
    /// `GET /measures/{id}/indicators` with its page
    MeasureIndicators { measure_id: MeasureId, limit: i64, offset: i64 },
    /// `GET /plans/{id}/dashboard`
    Dashboard { plan_id: PlanId },
    /// `GET /indicators/{id}/achievement` with its year and page
    Achievement { indicator_id: IndicatorId, fiscal_year: Option<i32>, limit: i64, offset: i64 },
}

/// A stored answer: the JSON body and its strong ETag (a digest of the body).
#[derive(Debug)]
pub struct CachedResponse {
    pub body: Bytes,
    /// Digested on first use: most answers are sent without one (an evaluation right after a write
    /// would spend a tenth of its time digesting its 150 KB).
    etag: OnceLock<EntityTag>,
}

impl CachedResponse {
    /// Keeps a copy of exactly the body's size: the serialiser's buffer, up to twice as large, goes
    /// back at once, and an evaluation's body (about 90 KB, above [`crate::heap::MMAP_THRESHOLD_BYTES`])
    /// gets a mapping of its own, returned whole when it is replaced.
    pub fn new(body: Vec<u8>) -> Self {
        Self { body: Bytes::copy_from_slice(&body), etag: OnceLock::new() }
    }

    pub fn etag(&self) -> &EntityTag {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(&self.body);
            EntityTag::new_strong(digest.iter().take(16).map(|b| format!("{b:02x}")).collect())
        })
    }
}

/// The cache of one server process (shared by its workers).
pub struct ResponseCache {
    /// Answers by key, at their municipality's data version; sized in bytes.
    answers: Mutex<VersionedCache<CacheKey, CachedResponse>>,
    /// One turn per key being computed: requests that miss together wait for the first one's
    /// answer instead of each loading the plan (32 clients of the 10× plan held 16 MiB more).
    computing: Mutex<HashMap<CacheKey, Arc<Mutex<()>>>>,
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::with_bounds(MAX_CACHED_RESPONSES, MAX_CACHED_BYTES)
    }
}

impl ResponseCache {
    pub fn with_bounds(max_answers: usize, max_bytes: usize) -> Self {
        Self { answers: Mutex::new(VersionedCache::with_bounds(max_answers, max_bytes)), computing: Mutex::default() }
    }

    /// The answer for `key` at the request's data version: stored, or computed by `compute` (which
    /// returns the JSON body) on a read connection and stored. A stored answer is served without
    /// a database call. What `compute` sees is at least that version: the version was read first.
    pub async fn get_or_compute(
        self: Arc<Self>,
        db: &Database,
        version: DataVersion,
        key: CacheKey,
        compute: impl FnOnce(&mut DbConnection) -> Result<Vec<u8>, AppError> + Send + 'static,
    ) -> Result<Arc<CachedResponse>, AppError> {
        if let Some(answer) = self.get(version, &key) {
            return Ok(answer);
        }
        db.read(move |conn| self.get_or_compute_at(version, key, || compute(conn))).await
    }

    /// `200 OK` with the JSON answer for `key`: [`ResponseCache::get_or_compute`] of the value
    /// `compute` reads, serialised on the same blocking thread.
    pub async fn json_response<T: serde::Serialize>(
        self: Arc<Self>,
        db: &Database,
        version: DataVersion,
        key: CacheKey,
        compute: impl FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
    ) -> Result<HttpResponse, AppError> {
        let answer = self.get_or_compute(db, version, key, move |conn| json(&compute(conn)?)).await?;
        Ok(HttpResponse::Ok().content_type(mime::APPLICATION_JSON).body(answer.body.clone()))
    }

    /// The answer for `key` at `version`: stored, or computed once by `compute` while requests
    /// missing the same key wait for it.
    fn get_or_compute_at(
        &self,
        version: DataVersion,
        key: CacheKey,
        compute: impl FnOnce() -> Result<Vec<u8>, AppError>,
    ) -> Result<Arc<CachedResponse>, AppError> {
        if let Some(answer) = self.get(version, &key) {
            return Ok(answer);
        }
        let turn = self.turn_for(key);
        let answer = {
            let _computing = turn.lock().unwrap_or_else(PoisonError::into_inner);
            // Whoever held the turn before may have stored the answer for this very version.
            match self.get(version, &key) {
                Some(answer) => Ok(answer),
                None => compute().map(|body| {
                    let answer = Arc::new(CachedResponse::new(body));
                    self.insert(version, key, Arc::clone(&answer));
                    answer
                }),
            }
        };
        self.release_turn(key, turn);
        answer
    }

    fn turn_for(&self, key: CacheKey) -> Arc<Mutex<()>> {
        let mut computing = self.computing.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(computing.entry(key).or_default())
    }

    /// Forgets the key's turn once nobody else holds or waits for it.
    fn release_turn(&self, key: CacheKey, turn: Arc<Mutex<()>>) {
        let mut computing = self.computing.lock().unwrap_or_else(PoisonError::into_inner);
        // Two references left: the map's and ours; others still holding one will remove it.
        if Arc::strong_count(&turn) == 2 {
            computing.remove(&key);
        }
    }

    fn get(&self, version: DataVersion, key: &CacheKey) -> Option<Arc<CachedResponse>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner).get(version.installation, version.municipality, key)
    }

    fn insert(&self, version: DataVersion, key: CacheKey, answer: Arc<CachedResponse>) {
        let size = answer.body.len();
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.insert(version.installation, version.municipality, key, answer, size);
    }

    /// How many answers and bytes are stored now.
    pub fn usage(&self) -> (usize, usize) {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner).usage()
    }
}

/// The JSON body of a value, as `HttpResponse::json` would write it.
pub fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, AppError> {
    serde_json::to_vec(value).map_err(|e| AppError::Internal(format!("cannot serialise a response: {e}")))
}

const EVALUATED_AT_KEY: &[u8] = br#""evaluated_at":""#;

/// A serialised plan evaluation with its top-level `evaluated_at` replaced by `now`, exactly as
/// serialising the evaluation at `now` writes it, in three parts to send one after the other:
/// the stored bytes before the time, the time, and the stored bytes after it (shared, not copied).
/// The key is found by its first occurrence: it precedes every nested object, and inside a JSON
/// string its quotes would be escaped.
pub fn restamp_evaluated_at(body: &Bytes, now: NaiveDateTime) -> Result<[Bytes; 3], AppError> {
    let missing = || AppError::Internal("a cached evaluation without evaluated_at".into());
    let start = body.windows(EVALUATED_AT_KEY.len()).position(|w| w == EVALUATED_AT_KEY).ok_or_else(missing)?
        + EVALUATED_AT_KEY.len();
    let length = body[start..].iter().position(|&b| b == b'"').ok_or_else(missing)?;
    let stamp = crate::domain::timestamp::to_rfc3339_utc(&now);
    Ok([body.slice(..start), Bytes::from(stamp), body.slice(start + length..)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Arc<CachedResponse> {
        Arc::new(CachedResponse::new(text.as_bytes().to_vec()))
    }

    fn at(installation: i64, municipality: i64) -> DataVersion {
        DataVersion { installation, municipality, non_actual: 0 }
    }

    fn dashboard(plan_id: i32) -> CacheKey {
        CacheKey::Dashboard { plan_id: PlanId::new(plan_id) }
    }

    #[test]
    fn an_answer_is_served_only_at_the_version_it_was_computed_at() {
        let cache = ResponseCache::default();
        cache.insert(at(3, 0), dashboard(1), answer("a"));
        assert_eq!(cache.get(at(3, 0), &dashboard(1)).map(|a| a.body.clone()), Some(Bytes::from("a")));
        assert!(cache.get(at(4, 0), &dashboard(1)).is_none());
        assert!(cache.get(at(2, 0), &dashboard(1)).is_none());
    }

    #[test]
    fn a_newer_version_drops_every_older_answer_and_an_older_one_is_not_stored() {
        let cache = ResponseCache::default();
        cache.insert(at(3, 0), dashboard(1), answer("a"));
        cache.insert(at(4, 0), dashboard(2), answer("bb"));
        assert_eq!(cache.usage(), (1, 2));
        cache.insert(at(3, 0), dashboard(1), answer("a"));
        assert!(cache.get(at(3, 0), &dashboard(1)).is_none());
        assert_eq!(cache.usage(), (1, 2));
    }

    #[test]
    fn a_write_of_its_municipality_invalidates_an_answer_and_leaves_the_others() {
        let cache = ResponseCache::default();
        // Plan 1 is municipality A's (version 5), plan 2 municipality B's (version 9).
        cache.insert(at(1, 5), dashboard(1), answer("a"));
        cache.insert(at(1, 9), dashboard(2), answer("b"));
        // A writes: A's version is 6 now, B's still 9.
        assert!(cache.get(at(1, 6), &dashboard(1)).is_none());
        assert_eq!(cache.get(at(1, 9), &dashboard(2)).map(|a| a.body.clone()), Some(Bytes::from("b")));
        // An installation-wide write invalidates both.
        assert!(cache.get(at(2, 9), &dashboard(2)).is_none());
    }

    #[test]
    fn an_answer_computed_before_a_write_of_its_municipality_does_not_replace_a_newer_one() {
        let cache = ResponseCache::default();
        cache.insert(at(1, 6), dashboard(1), answer("new"));
        cache.insert(at(1, 5), dashboard(1), answer("old"));
        assert_eq!(cache.get(at(1, 6), &dashboard(1)).map(|a| a.body.clone()), Some(Bytes::from("new")));
        assert!(cache.get(at(1, 5), &dashboard(1)).is_none());
        cache.insert(at(1, 7), dashboard(1), answer("newer"));
        assert_eq!(cache.usage(), (1, 5));
        assert_eq!(cache.get(at(1, 7), &dashboard(1)).map(|a| a.body.clone()), Some(Bytes::from("newer")));
    }

    #[test]
    fn the_oldest_answers_go_first_when_a_bound_is_reached() {
        let cache = ResponseCache::with_bounds(2, 10);
        cache.insert(at(1, 0), dashboard(1), answer("1234"));
        cache.insert(at(1, 0), dashboard(2), answer("1234"));
        cache.insert(at(1, 0), dashboard(3), answer("1234"));
        assert!(cache.get(at(1, 0), &dashboard(1)).is_none());
        assert_eq!(cache.usage(), (2, 8));
        // 8 + 6 bytes exceed 10; without the oldest, 4 + 6 do not.
        cache.insert(at(1, 0), dashboard(4), answer("123456"));
        assert_eq!(cache.usage(), (2, 10));
        assert!(cache.get(at(1, 0), &dashboard(2)).is_none());
        assert!(cache.get(at(1, 0), &dashboard(3)).is_some());
        // 10 + 8 and 6 + 8 exceed 10: both stored answers go.
        cache.insert(at(1, 0), dashboard(5), answer("12345678"));
        assert_eq!(cache.usage(), (1, 8));
        assert!(cache.get(at(1, 0), &dashboard(5)).is_some());
    }

    #[test]
    fn an_answer_larger_than_the_byte_bound_is_not_stored() {
        let cache = ResponseCache::with_bounds(10, 4);
        cache.insert(at(1, 0), dashboard(1), answer("12345"));
        assert_eq!(cache.usage(), (0, 0));
    }

    #[test]
    fn storing_a_key_again_replaces_its_answer() {
        let cache = ResponseCache::with_bounds(10, 100);
        cache.insert(at(1, 0), dashboard(1), answer("123"));
        cache.insert(at(1, 0), dashboard(1), answer("12"));
        assert_eq!(cache.usage(), (1, 2));
        assert_eq!(cache.get(at(1, 0), &dashboard(1)).map(|a| a.body.clone()), Some(Bytes::from("12")));
    }

    #[test]
    fn requests_missing_the_same_answer_together_compute_it_once() {
        let cache = ResponseCache::default();
        let computations = std::sync::atomic::AtomicUsize::new(0);
        let barrier = std::sync::Barrier::new(8);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    barrier.wait();
                    let answer = cache
                        .get_or_compute_at(at(5, 0), dashboard(1), || {
                            computations.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            // Long enough for the others to miss and queue behind this one.
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok(b"computed".to_vec())
                        })
                        .unwrap();
                    assert_eq!(answer.body, Bytes::from_static(b"computed"));
                });
            }
        });
        assert_eq!(computations.into_inner(), 1);
        assert!(cache.computing.lock().unwrap().is_empty(), "no turn is left behind");
    }

    #[test]
    fn a_failed_computation_is_not_stored_and_the_next_request_computes_again() {
        let cache = ResponseCache::default();
        let failed = cache.get_or_compute_at(at(1, 0), dashboard(1), || Err(AppError::Internal("down".into())));
        assert!(failed.is_err());
        let answer = cache.get_or_compute_at(at(1, 0), dashboard(1), || Ok(b"ok".to_vec())).unwrap();
        assert_eq!(answer.body, Bytes::from_static(b"ok"));
        assert!(cache.computing.lock().unwrap().is_empty());
    }

    #[test]
    fn restamping_replaces_only_the_top_level_evaluated_at() {
        let body = Bytes::from_static(
            br#"{"plan_name":"\"evaluated_at\":\"x","evaluated_at":"2026-01-01T00:00:00Z","n":{"evaluated_at":"k"}}"#,
        );
        let now = NaiveDateTime::parse_from_str("2026-12-02T03:04:05.5", "%Y-%m-%dT%H:%M:%S%.f").unwrap();
        let restamped = restamp_evaluated_at(&body, now).unwrap().concat();
        assert_eq!(
            std::str::from_utf8(&restamped).unwrap(),
            r#"{"plan_name":"\"evaluated_at\":\"x","evaluated_at":"2026-12-02T03:04:05.500Z","n":{"evaluated_at":"k"}}"#
        );
    }

    #[test]
    fn restamping_a_body_without_evaluated_at_is_an_error() {
        assert!(restamp_evaluated_at(&Bytes::from_static(br#"{"plan_id":1}"#), NaiveDateTime::default()).is_err());
    }
}
