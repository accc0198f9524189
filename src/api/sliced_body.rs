//! Response bodies handed to the connection in slices of at most [`SLICE_BYTES`].
//!
//! actix-http copies each chunk a body yields into the connection's write buffer and keeps that
//! buffer's capacity for the life of the connection. A 1 MiB evaluation sent as one chunk leaves
//! every keep-alive connection that ever carried one holding a 1 MiB buffer (32 clients: 32 MiB
//! and more). Yielded in slices, the buffer stays near [`WRITE_BUFFER_BYTES`] whatever the body's
//! size. The slices are views of the stored bytes, not copies, and the length is still announced
//! (`Content-Length`), so clients see the same response.
//!
//! Both bounds are smaller than actix's defaults (32 KiB written ahead, 16 KiB slices): when a
//! client reads slowly the buffer is written out in part, and each later slice that does not fit
//! behind the unwritten rest doubles the buffer. Under the collection-week load (20 keep-alive
//! clients) the connections' buffers held 5.5 MB at the peak with the defaults (docs/benchmark.md).
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Bytes;

/// How much of a response actix writes ahead into a connection's buffer before it waits for the
/// socket (`HttpServer::h1_write_buffer_size`; actix's default is 32 KiB).
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// The largest chunk given to the connection at a time: half of [`WRITE_BUFFER_BYTES`], so a
/// buffer written out in full never holds more than 24 KiB.
pub const SLICE_BYTES: usize = WRITE_BUFFER_BYTES / 2;

/// A body of known length made of shared byte buffers, yielded [`SLICE_BYTES`] at a time.
#[derive(Debug)]
pub struct SlicedBody {
    parts: VecDeque<Bytes>,
    size: u64,
}

impl SlicedBody {
    /// The body whose bytes are `parts`, one after the other.
    pub fn new(parts: impl IntoIterator<Item = Bytes>) -> Self {
        let parts: VecDeque<Bytes> = parts.into_iter().filter(|part| !part.is_empty()).collect();
        let size = parts.iter().map(|part| part.len() as u64).sum();
        Self { parts, size }
    }
}

impl MessageBody for SlicedBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        let Some(front) = this.parts.front_mut() else {
            return Poll::Ready(None);
        };
        let slice = front.split_to(front.len().min(SLICE_BYTES));
        if front.is_empty() {
            this.parts.pop_front();
        }
        Poll::Ready(Some(Ok(slice)))
    }
}

/// Middleware: every response whose body is one buffer larger than [`SLICE_BYTES`] (any JSON a
/// handler returns, a problem, the OpenAPI document) is sent as a [`SlicedBody`].
pub async fn slice_large_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?;
    Ok(response.map_body(|_, body| slice_if_large(body.boxed())))
}

/// `body` as a [`SlicedBody`] if it is one buffer larger than a slice; as it was otherwise (no
/// body at all, as for a 304, stays none).
fn slice_if_large(body: BoxBody) -> BoxBody {
    if !matches!(body.size(), BodySize::Sized(size) if size > SLICE_BYTES as u64) {
        return body;
    }
    match body.try_into_bytes() {
        Ok(bytes) => BoxBody::new(SlicedBody::new([bytes])),
        Err(stream) => stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slices(body: SlicedBody) -> Vec<Bytes> {
        let mut body = std::pin::pin!(body);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(Ok(slice))) = body.as_mut().poll_next(&mut cx) {
            out.push(slice);
        }
        out
    }

    #[test]
    fn a_body_is_yielded_whole_in_slices_no_larger_than_the_bound() {
        let big: Vec<u8> = (0..SLICE_BYTES * 2 + 5).map(|i| (i % 251) as u8).collect();
        let parts = [Bytes::from_static(b"head"), Bytes::new(), Bytes::from(big.clone()), Bytes::from_static(b"!")];
        let body = SlicedBody::new(parts.clone());
        assert_eq!(body.size(), BodySize::Sized((4 + big.len() + 1) as u64));
        let out = slices(body);
        assert!(out.iter().all(|slice| !slice.is_empty() && slice.len() <= SLICE_BYTES));
        // head, two full slices of the big part, its 5-byte rest, and the tail.
        assert_eq!(out.iter().map(Bytes::len).collect::<Vec<_>>(), [4, SLICE_BYTES, SLICE_BYTES, 5, 1]);
        assert_eq!(out.concat(), parts.concat());
    }

    #[test]
    fn only_a_single_buffer_larger_than_a_slice_is_sliced() {
        let large = slice_if_large(BoxBody::new(Bytes::from(vec![1u8; SLICE_BYTES + 1])));
        assert_eq!(large.size(), BodySize::Sized((SLICE_BYTES + 1) as u64));
        assert!(large.try_into_bytes().is_err(), "sent in slices, not as one buffer");
        let small = slice_if_large(BoxBody::new(Bytes::from(vec![1u8; SLICE_BYTES])));
        assert!(small.try_into_bytes().is_ok());
        assert_eq!(slice_if_large(BoxBody::new(actix_web::body::None::new())).size(), BodySize::None);
    }

    #[test]
    fn an_empty_body_yields_nothing() {
        assert!(slices(SlicedBody::new([Bytes::new()])).is_empty());
    }
}
