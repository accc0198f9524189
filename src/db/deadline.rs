//! The client-side deadline of a database call.
//!
//! A frozen database server keeps its TCP connections open, so neither its own timeouts nor the
//! socket ever fail: only the caller can decide to stop waiting. The async side waits for the
//! blocking thread at most the deadline, then answers 503; the thread itself cannot be
//! interrupted and carries on until the server answers, but it is told that nobody waits for
//! its result, so it does not start work it has not started yet and does not commit a write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::AppError;

/// Shared between the waiting request and the blocking thread doing its database work.
#[derive(Debug, Clone, Default)]
pub struct Call {
    abandoned: Arc<AtomicBool>,
}

impl Call {
    /// A call made outside a request (command line, tests): never abandoned.
    pub fn unbounded() -> Self {
        Self::default()
    }

    /// True once the caller has stopped waiting.
    pub fn is_abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Acquire)
    }

    fn abandon(&self) {
        self.abandoned.store(true, Ordering::Release);
    }

    /// Fails with 503 if the caller has stopped waiting: checked before each step that would
    /// otherwise be done for nobody.
    pub fn still_wanted(&self) -> Result<(), AppError> {
        if self.is_abandoned() {
            return Err(AppError::Unavailable("the caller stopped waiting for this database call".into()));
        }
        Ok(())
    }
}

/// Runs `work` on a blocking thread and waits for it at most `deadline`.
pub async fn run_within<T, E, F>(deadline: Duration, work: F) -> Result<T, E>
where
    F: FnOnce(&Call) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<AppError> + Send + 'static,
{
    let call = Call::default();
    let worker = call.clone();
    let task = actix_web::web::block(move || work(&worker));
    match actix_web::rt::time::timeout(deadline, task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(blocking)) => Err(E::from(AppError::Unavailable(format!("the database call failed: {blocking}")))),
        Err(_elapsed) => {
            call.abandon();
            Err(E::from(AppError::Unavailable(format!(
                "the database did not answer within {} ms",
                deadline.as_millis()
            ))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_call_past_its_deadline_is_abandoned_and_answers_unavailable() {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (seen, saw) = std::sync::mpsc::channel::<bool>();
        let outcome: Result<(), AppError> = run_within(Duration::from_millis(50), move |call| {
            // Blocks until the test lets it go, like a thread stuck on a frozen server.
            let _ = released.recv();
            seen.send(call.is_abandoned()).expect("report");
            Ok(())
        })
        .await;
        assert!(matches!(outcome, Err(AppError::Unavailable(_))));
        release.send(()).expect("release the worker");
        assert!(saw.recv().expect("the worker reports"), "the worker learns nobody waits");
    }

    #[actix_web::test]
    async fn a_call_within_its_deadline_returns_its_result() {
        let outcome: Result<i32, AppError> =
            run_within(Duration::from_secs(30), |call| call.still_wanted().map(|()| 7)).await;
        assert_eq!(outcome.expect("answered"), 7);
    }
}
