//! `stagesub-bridge serve` runs the webhook server and the worker; `stagesub-bridge render` prints a
//! tenant file for given values.

use std::process::ExitCode;

use stagesub_bridge::config::Config;
use stagesub_bridge::render::{DEFAULT_MODULE_SOURCE, render_tenant};
use stagesub_bridge::tenant::{TenantRecord, TenantValues};
use tokio_util::sync::CancellationToken;

const USAGE: &str = "usage:
  stagesub-bridge serve       run the webhook server and worker (configuration from the environment)
  stagesub-bridge render --subdomain NAME --orchestra-name TEXT [--contact-email E] [--plan P]
                         [--region R] [--archived] [--customer-id cus_…] [--subscription-id sub_…]
                         [--module-source PATH]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") if args.len() == 1 => serve(),
        Some("render") => match render(&args[1..]) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    // async-stripe-webhook warns on every event whose API version differs from the one it was
    // generated for; the bridge reads only stable fields, so that warning is noise unless asked for.
    let mut filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    if !filter.contains("stripe_webhook") {
        filter.push_str(",stripe_webhook=error");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,stripe_webhook=error")
            }),
        )
        .init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing in-flight requests and jobs");
            on_signal.cancel();
        });
        stagesub_bridge::serve(config, cancel).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

fn render(args: &[String]) -> Result<String, String> {
    let mut values = TenantValues {
        subdomain: String::new(),
        orchestra_name: String::new(),
        contact_email: None,
        plan: None,
        region: None,
    };
    let mut record_extra = (false, None, None);
    let mut module_source = DEFAULT_MODULE_SOURCE.to_owned();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--archived" {
            record_extra.0 = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .clone();
        match flag.as_str() {
            "--subdomain" => values.subdomain = value,
            "--orchestra-name" => values.orchestra_name = value,
            "--contact-email" => values.contact_email = Some(value),
            "--plan" => values.plan = Some(value),
            "--region" => values.region = Some(value),
            "--customer-id" => record_extra.1 = Some(value),
            "--subscription-id" => record_extra.2 = Some(value),
            "--module-source" => module_source = value,
            other => return Err(format!("unknown option {other}")),
        }
    }
    values.validate()?;
    let record = TenantRecord {
        values,
        archived: record_extra.0,
        stripe_customer_id: record_extra.1,
        stripe_subscription_id: record_extra.2,
        source_event_id: None,
        checkout_session_id: None,
    };
    Ok(render_tenant(&record, &module_source))
}
