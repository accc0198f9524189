//! One deadline for every request body: the body must arrive in full within
//! `REQUEST_BODY_TIMEOUT_MS` of its head, whichever extractor or handler reads it. Past it the
//! reader gets [`timed_out`], which [`super::extract::read_body`] answers as 408 with
//! `Connection: close` ([`crate::error::AppError::RequestTimeout`]).
//!
//! actix times only the head of a connection's first request; without this a client that sends
//! a large `Content-Length` and then a byte now and then (or nothing) holds its connection forever.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::web::Bytes;
use futures_util::Stream;

/// actix's boxed body stream (`actix_http::BoxedPayloadStream`, not re-exported by actix-web).
type BoxedPayloadStream = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// How long a request's body may take to arrive (`REQUEST_BODY_TIMEOUT_MS`), as app data.
pub struct BodyTimeout(pub Duration);

/// Middleware: the body of every request must arrive within [`BodyTimeout`].
pub async fn limit_body_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(timeout) = req.app_data::<actix_web::web::Data<BodyTimeout>>().map(|t| t.0) {
        apply(&mut req, timeout);
    }
    next.call(req).await
}

/// Puts the deadline on the request's body, if it has one.
pub fn apply(req: &mut ServiceRequest, timeout: Duration) {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        return;
    }
    let timed: BoxedPayloadStream =
        Box::pin(DeadlinePayload { inner: payload, deadline: Box::pin(sleep(timeout)), expired: false });
    req.set_payload(Payload::from(timed));
}

/// The error a body read gets past the deadline.
fn timed_out() -> PayloadError {
    PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body did not arrive in time"))
}

/// Whether a body read failed because the deadline passed.
pub fn is_timed_out(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

struct DeadlinePayload {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    expired: bool,
}

impl Stream for DeadlinePayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        // Bytes that have arrived are handed out even past the deadline: only waiting for more
        // is cut short, so a handler that reads late does not fail a client that sent in time.
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired = true;
                Poll::Ready(Some(Err(timed_out())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn payload_of(stream: impl Stream<Item = Result<Bytes, PayloadError>> + 'static) -> DeadlinePayload {
        let inner: BoxedPayloadStream = Box::pin(stream);
        DeadlinePayload {
            inner: Payload::from(inner),
            deadline: Box::pin(sleep(Duration::from_millis(50))),
            expired: false,
        }
    }

    #[actix_web::test]
    async fn a_body_that_stalls_ends_in_the_timeout_error_once() {
        let stalled =
            futures_util::stream::once(async { Ok(Bytes::from_static(b"{")) }).chain(futures_util::stream::pending());
        let mut payload = payload_of(stalled);
        assert_eq!(payload.next().await.unwrap().unwrap(), Bytes::from_static(b"{"));
        let error = payload.next().await.unwrap().unwrap_err();
        assert!(is_timed_out(&error), "{error}");
        assert!(payload.next().await.is_none());
    }

    #[actix_web::test]
    async fn a_body_that_arrived_is_read_whole_even_after_the_deadline() {
        let mut payload = payload_of(futures_util::stream::iter([Ok(Bytes::from_static(b"{}"))]));
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(payload.next().await.unwrap().unwrap(), Bytes::from_static(b"{}"));
        assert!(payload.next().await.is_none());
    }
}
