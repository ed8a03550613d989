//! Log lines (`env_logger`), as text or JSON, each carrying the id of the request being handled.

use std::io::Write;

use gatepass_core::RequestId;

use crate::config::LogFormat;

tokio::task_local! {
    /// The id of the request whose handling is running; set by the request-id middleware.
    pub static CURRENT_REQUEST: RequestId;
}

/// Starts logging at `level` (unless `RUST_LOG` says otherwise) in `format`.
pub fn init(level: &str, format: LogFormat) {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format(move |out, record| {
            #[allow(clippy::disallowed_methods, reason = "a log line's timestamp is the real time")]
            let time = time::OffsetDateTime::now_utc();
            let time = time
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let request_id = CURRENT_REQUEST.try_with(ToString::to_string).ok();
            match format {
                LogFormat::Json => {
                    let mut line = serde_json::json!({
                        "time": time,
                        "level": record.level().as_str(),
                        "target": record.target(),
                        "message": record.args().to_string(),
                    });
                    if let Some(id) = request_id {
                        line["request_id"] = id.into();
                    }
                    writeln!(out, "{line}")
                }
                LogFormat::Text => match request_id {
                    Some(id) => writeln!(
                        out,
                        "[{time} {:<5} {}] {} request_id={id}",
                        record.level(),
                        record.target(),
                        record.args()
                    ),
                    None => writeln!(
                        out,
                        "[{time} {:<5} {}] {}",
                        record.level(),
                        record.target(),
                        record.args()
                    ),
                },
            }
        })
        .init();
}
