//! Response bodies handed to the connection in slices of at most [`SLICE_BYTES`].
//!
//! actix-http copies each chunk a body yields into the connection's write buffer and keeps that
//! buffer's capacity for the life of the connection. A 1 MiB evaluation sent as one chunk leaves
//! every keep-alive connection that ever carried one holding a 1 MiB buffer (32 clients: 32 MiB
//! and more). Yielded in slices, the buffer stays near [`WRITE_BUFFER_BYTES`] whatever the body's
//! size. The slices are views of the stored bytes, not copies, and the length is still announced
//! (`Content-Length`), so clients see the same response. Any body is resliced, not only one that
//! gives up its bytes: the request-logging layer wraps every body in a stream of its own, and a
//! check for one buffer alone let every handler's body through whole (docs/benchmark.md).
//!
//! Smaller bounds (16 KiB ahead in 8 KiB slices) held the same memory under `wrk` on the demo's
//! cached evaluation once every body was sliced, and served it 8–16 % slower (docs/benchmark.md).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Bytes;

/// How much of a response actix writes ahead into a connection's buffer before it waits for the
/// socket (`HttpServer::h1_write_buffer_size`; actix's default, stated here because the slices
/// are sized from it).
pub const WRITE_BUFFER_BYTES: usize = 32 * 1024;

/// The largest chunk given to the connection at a time: half of [`WRITE_BUFFER_BYTES`], so a
/// buffer written out in full never holds more than 48 KiB.
pub const SLICE_BYTES: usize = WRITE_BUFFER_BYTES / 2;

/// A body of known length made of shared byte buffers, one after the other, without copying them
/// into one; [`slice_large_bodies`] hands them to the connection in slices like any body.
#[derive(Debug)]
pub struct JoinedBody {
    parts: VecDeque<Bytes>,
    size: u64,
}

impl JoinedBody {
    /// The body whose bytes are `parts`, one after the other.
    pub fn new(parts: impl IntoIterator<Item = Bytes>) -> Self {
        let parts: VecDeque<Bytes> = parts.into_iter().filter(|part| !part.is_empty()).collect();
        let size = parts.iter().map(|part| part.len() as u64).sum();
        Self { parts, size }
    }
}

impl MessageBody for JoinedBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.get_mut().parts.pop_front().map(Ok))
    }
}

/// Any body, each chunk it yields handed on at most [`SLICE_BYTES`] at a time.
pub struct Resliced {
    inner: BoxBody,
    /// What is left of the chunk the inner body yielded last.
    rest: Bytes,
}

impl MessageBody for Resliced {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        loop {
            if !this.rest.is_empty() {
                let slice = this.rest.split_to(this.rest.len().min(SLICE_BYTES));
                return Poll::Ready(Some(Ok(slice)));
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.rest = chunk,
                other => return other,
            }
        }
    }
}

/// Middleware: every response whose body is larger than [`SLICE_BYTES`] (any JSON a handler
/// returns, a problem, a spreadsheet, the OpenAPI document) is sent [`Resliced`].
pub async fn slice_large_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?;
    Ok(response.map_body(|_, body| slice_if_large(body.boxed())))
}

/// `body` [`Resliced`] if it is larger than a slice or of unknown length (a stream may yield a
/// chunk of any size); as it was otherwise (no body at all, as for a 304, stays none).
fn slice_if_large(body: BoxBody) -> BoxBody {
    match body.size() {
        BodySize::None => body,
        BodySize::Sized(size) if size <= SLICE_BYTES as u64 => body,
        BodySize::Sized(_) | BodySize::Stream => BoxBody::new(Resliced { inner: body, rest: Bytes::new() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joined_body_is_yielded_whole_in_slices_no_larger_than_the_bound() {
        let big: Vec<u8> = (0..SLICE_BYTES * 2 + 5).map(|i| (i % 251) as u8).collect();
        let parts = [Bytes::from_static(b"head"), Bytes::new(), Bytes::from(big.clone()), Bytes::from_static(b"!")];
        let body = JoinedBody::new(parts.clone());
        assert_eq!(body.size(), BodySize::Sized((4 + big.len() + 1) as u64));
        let out = chunks(slice_if_large(BoxBody::new(body)));
        assert!(out.iter().all(|slice| !slice.is_empty() && slice.len() <= SLICE_BYTES));
        // head, two full slices of the big part, its 5-byte rest, and the tail.
        assert_eq!(out.iter().map(Bytes::len).collect::<Vec<_>>(), [4, SLICE_BYTES, SLICE_BYTES, 5, 1]);
        assert_eq!(out.concat(), parts.concat());
    }

    /// A body that keeps its bytes to itself, as the request-logging layer's wrapper does.
    struct Opaque(Bytes);

    impl MessageBody for Opaque {
        type Error = Infallible;

        fn size(&self) -> BodySize {
            BodySize::Sized(self.0.len() as u64)
        }

        fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
            let this = self.get_mut();
            Poll::Ready((!this.0.is_empty()).then(|| Ok(std::mem::take(&mut this.0))))
        }
    }

    fn chunks(body: impl MessageBody) -> Vec<Bytes> {
        let mut body = std::pin::pin!(body);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(Ok(chunk))) = body.as_mut().poll_next(&mut cx) {
            out.push(chunk);
        }
        out
    }

    #[test]
    fn a_large_body_is_resliced_whether_or_not_it_gives_up_its_bytes() {
        let big = Bytes::from((0..SLICE_BYTES * 3 + 7).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
        for body in [BoxBody::new(big.clone()), BoxBody::new(Opaque(big.clone()))] {
            let sliced = slice_if_large(body);
            assert_eq!(sliced.size(), BodySize::Sized(big.len() as u64), "the length is still announced");
            let out = chunks(sliced);
            assert_eq!(out.iter().map(Bytes::len).collect::<Vec<_>>(), [SLICE_BYTES, SLICE_BYTES, SLICE_BYTES, 7]);
            assert_eq!(out.concat(), big);
        }
    }

    #[test]
    fn small_bodies_and_no_body_pass_as_they_were() {
        let small = slice_if_large(BoxBody::new(Bytes::from(vec![1u8; SLICE_BYTES])));
        assert!(small.try_into_bytes().is_ok(), "one buffer, untouched");
        assert_eq!(slice_if_large(BoxBody::new(actix_web::body::None::new())).size(), BodySize::None);
    }

    /// The server's own layers around a handler's large body: what reaches the connection comes
    /// in slices.
    #[actix_web::test]
    async fn a_handlers_body_leaves_the_logging_layer_in_slices() {
        use actix_web::{App, HttpResponse, test, web};
        let app = test::init_service(
            App::new()
                .wrap(tracing_actix_web::TracingLogger::default())
                .wrap(actix_web::middleware::from_fn(slice_large_bodies))
                .route("/", web::get().to(|| async { HttpResponse::Ok().body(vec![b'x'; SLICE_BYTES * 5]) })),
        )
        .await;
        let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        let out = chunks(response.into_body());
        assert_eq!(out.len(), 5);
        assert!(out.iter().all(|chunk| chunk.len() == SLICE_BYTES));
    }

    #[test]
    fn an_empty_body_yields_nothing() {
        assert!(chunks(JoinedBody::new([Bytes::new()])).is_empty());
    }
}
