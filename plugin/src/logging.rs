//! Logs on stderr as hclog JSON lines, the form Terraform reads from plugins
//! (`{"@level":"debug","@message":"...","@module":"provider.stagesub","@timestamp":"..."}`).
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG`; unset means warnings and errors only.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// The level from `TF_LOG_PROVIDER` / `TF_LOG` (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `OFF`, `JSON`).
pub fn level_from_env() -> Option<Level> {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .or_else(|_| std::env::var("TF_LOG"))
        .unwrap_or_default();
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "ERROR" => Some(Level::ERROR),
        "OFF" => None,
        _ => Some(Level::WARN),
    }
}

/// Installs the hclog JSON writer as the global subscriber for this process.
pub fn init(module: &str) {
    let Some(level) = level_from_env() else {
        return;
    };
    let layer = HclogLayer {
        module: module.to_string(),
        max: level,
    };
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
}

struct HclogLayer {
    module: String,
    max: Level,
}

#[derive(Default)]
struct Fields {
    message: String,
    extra: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.extra
                .push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.extra
                .push((field.name().to_string(), format!("{value:?}")));
        }
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        admitted(metadata, self.max)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !admitted(event.metadata(), self.max) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut obj = serde_json::Map::new();
        obj.insert(
            "@level".into(),
            level_name(*event.metadata().level()).into(),
        );
        obj.insert("@message".into(), fields.message.into());
        obj.insert("@module".into(), self.module.clone().into());
        obj.insert("@timestamp".into(), timestamp().into());
        for (k, v) in fields.extra {
            obj.insert(k, v.into());
        }
        let mut line = serde_json::Value::Object(obj).to_string();
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Transport libraries whose debug output would drown the provider's at `TF_LOG=trace`.
const NOISY_TARGETS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "rustls",
    "reqwest",
    "want",
    "mio",
];

/// Events at the configured level, except the transport libraries', which only pass from warnings up.
fn admitted(metadata: &tracing::Metadata<'_>, max: Level) -> bool {
    let crate_name = metadata.target().split("::").next().unwrap_or_default();
    let limit = if NOISY_TARGETS.contains(&crate_name) {
        max.min(Level::WARN)
    } else {
        max
    };
    *metadata.level() <= limit
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// RFC 3339 UTC timestamp with microseconds, as hclog writes it.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut s = String::new();
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros()
    );
    s
}
