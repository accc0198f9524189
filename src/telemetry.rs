//! Structured logs with `tracing`: text for people, JSON for log collectors.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use tracing::Span;
use tracing_actix_web::RequestId;
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
    // Colour codes only for a person at a terminal, never into a pipe or a log file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The root span of each request ([`tracing_actix_web::TracingLogger`]'s): the default one's
/// fields except that `http.target` is the path alone, or no span when the log level records none.
/// The default builder fills its fields (the matched route, found by running the route table's
/// patterns again, the connection info, the OpenTelemetry name) before the span is known to be
/// disabled: about a tenth of the server's time for a cached answer at `LOG_LEVEL=warn`.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        if !tracing::span_enabled!(tracing::Level::INFO) {
            return Span::none();
        }
        let method = request.method().as_str();
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let connection = request.connection_info();
        let user_agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        // The query string is never logged, rather than redacting the parameters that look like
        // credentials: a client can put a token (`?access_token=`) or personal data under any name.
        tracing::info_span!(
            "HTTP request",
            http.method = %method,
            http.route = %route,
            http.flavor = ?request.version(),
            http.scheme = %connection.scheme(),
            http.host = %connection.host(),
            http.client_ip = %connection.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %request.path(),
            http.status_code = tracing::field::Empty,
            otel.name = %format!("{method} {route}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The metrics requests are recorded in, when the metrics endpoint is on.
pub struct RequestRecording(pub Option<crate::metrics::Metrics>);

/// Middleware: one log line per request (method, path, status, latency and request id; never
/// headers, so never a token), its metrics, and the request id as `X-Request-Id`.
pub async fn log_and_measure_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let recording = req.app_data::<actix_web::web::Data<RequestRecording>>().and_then(|r| r.0.clone());
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
    let (method, path) = (req.method().to_string(), req.path().to_owned());
    let mut response = next.call(req).await?;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        %request_id,
        "request"
    );
    if let Some(metrics) = &recording {
        let route = response.request().match_pattern();
        metrics.record_request(&method, route.as_deref(), response.status().as_u16(), started.elapsed());
    }
    if let Ok(id) = header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(header::HeaderName::from_static("x-request-id"), id);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_actix_web::RootSpanBuilder;

    use super::*;

    /// Log output kept in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// What a request for `uri` logs through its root span, in either format.
    fn logged(format: LogFormat, uri: &str) -> String {
        let captured = Captured::default();
        let builder = tracing_subscriber::fmt().with_writer(captured.clone()).with_ansi(false);
        let request = actix_web::test::TestRequest::get().uri(uri).to_srv_request();
        let log = move || {
            let span = RequestSpan::on_request_start(&request);
            span.in_scope(|| tracing::info!("request"));
            let response = request.into_response(actix_web::HttpResponse::Ok().finish());
            RequestSpan::on_request_end(span, &Ok(response));
        };
        match format {
            LogFormat::Text => tracing::subscriber::with_default(builder.finish(), log),
            LogFormat::Json => tracing::subscriber::with_default(builder.json().flatten_event(true).finish(), log),
        }
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_token_in_the_query_string_is_never_logged() {
        for format in [LogFormat::Text, LogFormat::Json] {
            let output = logged(format, "/api/v1/plans?access_token=eyJ.secret-token-value&fiscal_year=2025");
            assert!(output.contains("/api/v1/plans"), "{format:?}: the path is logged: {output}");
            assert!(!output.contains("secret-token-value"), "{format:?}: the token is logged: {output}");
        }
    }
}
