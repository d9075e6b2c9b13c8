//! `supabase-standin`: runs the Management API stand-in until SIGINT/SIGTERM, then drops the projects'
//! databases. The first stdout line is `listening on http://ADDR`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use supabase_standin::{Config, Faults, FaultsPatch};

const USAGE: &str = "usage: supabase-standin --postgres-url URL [--listen ADDR] [--token TOKEN]
                        [--db-host HOST] [--db-port PORT] [--KNOB VALUE]...

  --postgres-url URL  admin connection URL (env DATABASE_URL); must be able to create databases and roles
  --listen ADDR       address to bind, default 127.0.0.1:0 (env STANDIN_LISTEN)
  --token TOKEN       the only bearer token accepted (env STANDIN_TOKEN); default: any sbp_ + 40 hex
  --db-host HOST      host reported to clients (env STANDIN_DB_HOST); default: the admin URL's host
  --db-port PORT      port reported to clients (env STANDIN_DB_PORT); default: the admin URL's port

Fault knobs (flag --name-with-dashes VALUE, or env STANDIN_NAME_IN_CAPITALS; a boolean flag alone means true;
change them later with POST /_standin/faults):
";

/// Knob names, as in `Faults` and the `/_standin/faults` JSON.
const KNOBS: [&str; 15] = [
    "healthy_after_ms",
    "pooler_lag_ms",
    "pause_ms",
    "rate_limit_per_minute",
    "error_rate_5xx",
    "fail_next_create_after_commit",
    "drop_next_create_after_commit",
    "init_failed",
    "never_healthy",
    "latency_ms",
    "paid_org",
    "max_active_projects",
    "login_role_ttl_seconds",
    "resize_ms",
    "allowed_compute_sizes",
];

/// Knobs whose value is text, taken as written.
const TEXT_KNOBS: [&str; 1] = ["allowed_compute_sizes"];

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{USAGE}");
            for knob in KNOBS {
                println!("  --{}", knob.replace('_', "-"));
            }
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("supabase-standin: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let standin = match supabase_standin::start(config).await {
        Ok(standin) => standin,
        Err(error) => {
            eprintln!("supabase-standin: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", standin.base_url());
    let _ = std::io::stdout().flush();
    wait_for_signal().await;
    match standin.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("supabase-standin: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}

/// Builds the configuration from flags, then environment variables; `None` for `--help`.
fn parse(args: Vec<String>) -> Result<Option<Config>, String> {
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let Some(name) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument {arg:?}"));
        };
        let (name, value) = match name.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => {
                let value = args.next_if(|next| !next.starts_with("--"));
                (name.to_string(), value)
            }
        };
        flags.push((name.replace('-', "_"), value));
    }
    let take = |name: &str| -> Option<Option<String>> {
        flags
            .iter()
            .rev()
            .find(|(flag, _)| flag == name)
            .map(|(_, value)| value.clone())
    };
    let setting = |flag: &str, env: &str| -> Result<Option<String>, String> {
        match take(flag) {
            Some(Some(value)) => Ok(Some(value)),
            Some(None) => Err(format!("--{} needs a value", flag.replace('_', "-"))),
            None => Ok(std::env::var(env).ok().filter(|value| !value.is_empty())),
        }
    };
    for (flag, _) in &flags {
        let known = ["listen", "postgres_url", "token", "db_host", "db_port"]
            .contains(&flag.as_str())
            || KNOBS.contains(&flag.as_str());
        if !known {
            return Err(format!("unknown flag --{}", flag.replace('_', "-")));
        }
    }
    let postgres_url = setting("postgres_url", "DATABASE_URL")?
        .ok_or("missing setting: the PostgreSQL admin URL (--postgres-url or DATABASE_URL)")?;
    let mut config = Config::new(postgres_url);
    if let Some(listen) = setting("listen", "STANDIN_LISTEN")? {
        config.listen = listen.parse::<SocketAddr>().map_err(|_| {
            format!("--listen/STANDIN_LISTEN {listen:?} is not an address like 127.0.0.1:0")
        })?;
    }
    config.token = setting("token", "STANDIN_TOKEN")?;
    config.db_host = setting("db_host", "STANDIN_DB_HOST")?;
    if let Some(port) = setting("db_port", "STANDIN_DB_PORT")? {
        config.db_port = Some(
            port.parse()
                .map_err(|_| format!("--db-port/STANDIN_DB_PORT {port:?} is not a port number"))?,
        );
    }
    let mut knobs = serde_json::Map::new();
    for knob in KNOBS {
        let env = format!("STANDIN_{}", knob.to_uppercase());
        let value = match take(knob) {
            Some(Some(value)) => Some(value),
            Some(None) => Some("true".to_string()),
            None => std::env::var(&env).ok().filter(|value| !value.is_empty()),
        };
        if let Some(value) = value {
            if TEXT_KNOBS.contains(&knob) {
                knobs.insert(knob.to_string(), serde_json::Value::String(value));
                continue;
            }
            let parsed: serde_json::Value = serde_json::from_str(&value).map_err(|_| {
                format!(
                    "{knob} (--{} or {env}): {value:?} is not a number or boolean",
                    knob.replace('_', "-")
                )
            })?;
            knobs.insert(knob.to_string(), parsed);
        }
    }
    let patch: FaultsPatch = serde_json::from_value(serde_json::Value::Object(knobs))
        .map_err(|error| format!("fault knob: {error}"))?;
    let mut faults = Faults::default();
    faults.apply(&patch)?;
    config.faults = faults;
    Ok(Some(config))
}
