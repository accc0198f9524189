//! Admission of writers, before they take a connection.
//!
//! A writer that waited for a lock *while holding* a pooled connection starved every reader of
//! the pool (one long import, a dozen queued PUTs, and `GET /plans` answered 503). Writers now
//! queue here first: the gate has as many permits as the write pool has connections, so a writer
//! that passes it finds a connection free, and one that cannot pass within its wait, or finds the
//! queue full, is refused at once with a 503 instead of piling up blocked threads.
//!
//! The gate bounds connections, it is no lock: on PostgreSQL as many writes as the pool has
//! connections run at once, whichever municipalities they belong to (they share no row: each
//! raises its own municipality's data version, `super::data_version`); on SQLite, which has one
//! writer, there is one permit.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::AppError;

/// Counting gate with a bounded queue and a bounded wait; used from blocking threads only.
#[derive(Debug)]
pub struct WriteGate {
    state: Mutex<GateState>,
    released: Condvar,
    max_queued: usize,
}

#[derive(Debug)]
struct GateState {
    free: u32,
    queued: usize,
}

/// A writer's admission; dropping it lets the next writer in.
#[derive(Debug)]
pub struct WritePermit<'a> {
    gate: &'a WriteGate,
}

impl WriteGate {
    /// A gate admitting `permits` writers at once (at least one) and keeping at most
    /// `max_queued` more waiting.
    pub fn new(permits: u32, max_queued: usize) -> Self {
        Self { state: Mutex::new(GateState { free: permits.max(1), queued: 0 }), released: Condvar::new(), max_queued }
    }

    // The state is two counters that every holder leaves consistent: a poisoned lock is usable.
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits at most `wait` for a permit.
    pub fn acquire(&self, wait: Duration) -> Result<WritePermit<'_>, AppError> {
        let mut state = self.lock();
        if state.free == 0 {
            if state.queued >= self.max_queued {
                return Err(AppError::Unavailable(format!(
                    "{} writes are already waiting for the database",
                    state.queued
                )));
            }
            state.queued += 1;
            let give_up_at = Instant::now() + wait;
            while state.free == 0 {
                let now = Instant::now();
                if now >= give_up_at {
                    state.queued -= 1;
                    return Err(AppError::Unavailable(format!(
                        "no write slot became free within {} ms",
                        wait.as_millis()
                    )));
                }
                state = self.released.wait_timeout(state, give_up_at - now).unwrap_or_else(PoisonError::into_inner).0;
            }
            state.queued -= 1;
        }
        state.free -= 1;
        Ok(WritePermit { gate: self })
    }

    /// Writers waiting for a permit now.
    pub fn queued(&self) -> usize {
        self.lock().queued
    }
}

impl Drop for WritePermit<'_> {
    fn drop(&mut self) {
        self.gate.lock().free += 1;
        self.gate.released.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn a_second_writer_waits_for_the_first() {
        let gate = Arc::new(WriteGate::new(1, 4));
        let first = gate.acquire(Duration::ZERO).expect("the gate is open");
        let (done, finished) = mpsc::channel();
        let waiting = Arc::clone(&gate);
        let second = std::thread::spawn(move || {
            let admitted = waiting.acquire(Duration::from_secs(30)).is_ok();
            done.send(()).expect("report");
            admitted
        });
        while gate.queued() == 0 {
            std::thread::yield_now();
        }
        assert!(finished.try_recv().is_err(), "the second writer is still waiting");
        drop(first);
        assert!(second.join().expect("no panic"), "released, the second writer gets in");
    }

    #[test]
    fn a_writer_that_cannot_get_in_within_its_wait_is_refused() {
        let gate = WriteGate::new(1, 4);
        let _held = gate.acquire(Duration::ZERO).expect("the gate is open");
        let refused = gate.acquire(Duration::from_millis(20)).expect_err("the only permit is held");
        assert!(matches!(refused, AppError::Unavailable(_)));
        assert_eq!(gate.queued(), 0, "a writer that gave up leaves the queue");
    }

    #[test]
    fn a_full_queue_refuses_at_once() {
        let gate = Arc::new(WriteGate::new(1, 1));
        let held = gate.acquire(Duration::ZERO).expect("the gate is open");
        let waiting = Arc::clone(&gate);
        let queued = std::thread::spawn(move || waiting.acquire(Duration::from_secs(30)).is_ok());
        while gate.queued() == 0 {
            std::thread::yield_now();
        }
        // A long wait would hang the test if the queue bound were not applied before waiting.
        let refused = gate.acquire(Duration::from_secs(3600)).expect_err("the queue is full");
        assert!(matches!(refused, AppError::Unavailable(_)));
        drop(held);
        assert!(queued.join().expect("no panic"));
    }

    #[test]
    fn permits_match_the_pool() {
        let gate = WriteGate::new(3, 0);
        let permits: Vec<_> = (0..3).map(|_| gate.acquire(Duration::ZERO).expect("free")).collect();
        assert!(gate.acquire(Duration::ZERO).is_err());
        drop(permits);
        assert!(gate.acquire(Duration::ZERO).is_ok());
    }
}
