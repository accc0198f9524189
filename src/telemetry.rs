//! Structured logs with `tracing`: text for people, JSON for log collectors.

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
