//! Structured logs with `tracing`: text for people, JSON for log collectors.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Refuses a `LOG_LEVEL` that is not a tracing filter (the server would fall back to `info`).
pub fn check_filter(level: &str) -> Result<(), crate::error::AppError> {
    EnvFilter::try_new(level)
        .map(|_| ())
        .map_err(|e| crate::error::AppError::Config(format!("LOG_LEVEL `{level}` is not a log filter: {e}")))
}

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The root span of each request ([`tracing_actix_web::TracingLogger`]'s): the default one, or
/// none when the log level records no such span. The default builder fills its fields (the
/// matched route, found by running the route table's patterns again, the connection info, the
/// OpenTelemetry name) before the span is known to be disabled: about a tenth of the server's
/// time for a cached answer at `LOG_LEVEL=warn`.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        if tracing::span_enabled!(tracing::Level::INFO) {
            tracing_actix_web::root_span!(level = tracing::Level::INFO, request)
        } else {
            Span::none()
        }
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
