//! `stagesub-bridge`: parses the command line and calls the library. `serve` runs the webhook server
//! and the worker; `render` prints a tenant file for given values; `jobs list | retry` shows and
//! re-queues jobs; `tenants link-owner` links a guest tenant to a Stripe customer; `console
//! hash-password` makes a `CONSOLE_USERS` hash.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use stagesub_bridge::commands;
use stagesub_bridge::config::Config;
use stagesub_bridge::error::{Error, Result};
use stagesub_bridge::logging::{self, LogFormat, one_line};
use stagesub_bridge::render::DEFAULT_MODULE_SOURCE;
use stagesub_bridge::store::JobFilter;
use stagesub_bridge::tenant::Tenant;
use tokio_util::sync::CancellationToken;

/// Turns Stripe payments into tenant files committed to the infra Git repository.
#[derive(Debug, Parser)]
#[command(name = "stagesub-bridge", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the webhook server and the worker (configuration from the environment; see README)
    Serve,
    /// Print the tenant file for the given values, checked as a webhook's would be
    Render(RenderArgs),
    /// Show and re-queue the worker's jobs (DATABASE_URL from the environment)
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Admin actions on tenants (DATABASE_URL from the environment)
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// The operator console (/console)
    #[command(subcommand)]
    Console(ConsoleCommand),
}

#[derive(Debug, Subcommand)]
enum ConsoleCommand {
    /// Read a password from stdin (asked twice, not echoed, on a terminal) and print its argon2id
    /// hash for CONSOLE_USERS (name:hash, comma-separated; quote it: it holds `$`)
    HashPassword,
}

#[derive(Debug, Subcommand)]
enum TenantsCommand {
    /// Link a guest tenant (bought without a Stripe customer) to a customer, once; recorded with
    /// who did it, and the tenant file republished
    LinkOwner {
        /// The tenant's subdomain
        subdomain: String,
        /// The Stripe customer id (cus_…)
        #[arg(long)]
        customer: String,
        /// Who links it (a name or email), for the record
        #[arg(long)]
        by: String,
    },
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// The tenant's subdomain (a DNS label)
    #[arg(long)]
    subdomain: String,
    /// The orchestra's name
    #[arg(long)]
    orchestra_name: String,
    /// Contact email address
    #[arg(long)]
    contact_email: Option<String>,
    /// Plan, e.g. free, pro, enterprise
    #[arg(long)]
    plan: Option<String>,
    /// Supabase region or smart group
    #[arg(long)]
    region: Option<String>,
    /// Write the tenant as archived
    #[arg(long)]
    archived: bool,
    /// Stripe customer id (cus_…)
    #[arg(long)]
    customer_id: Option<String>,
    /// Stripe subscription id (sub_…)
    #[arg(long)]
    subscription_id: Option<String>,
    /// Module source written into the file (relative to the tenant's root module folder)
    #[arg(long, default_value = DEFAULT_MODULE_SOURCE)]
    module_source: String,
    /// Adopt this existing database (Supabase project ref or database name) with an import block
    #[arg(long)]
    import_id: Option<String>,
    /// Folder of tenant root modules in the infra repository; the file's path is printed on stderr
    #[arg(long, env = "TENANTS_DIR", default_value = "tenants")]
    tenants_dir: String,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// List pending and parked jobs (newest last)
    List {
        /// Only parked jobs
        #[arg(long, conflicts_with = "all")]
        parked: bool,
        /// Done jobs too
        #[arg(long)]
        all: bool,
        /// At most this many (the newest)
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Make a parked or pending job due now, with a fresh retry window
    Retry {
        /// The job's id (see `jobs list`)
        #[arg(required_unless_present = "parked", conflicts_with = "parked")]
        id: Option<i64>,
        /// Every parked job
        #[arg(long)]
        parked: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve => serve(),
        Command::Render(args) => finish(render(args)),
        Command::Jobs(command) => finish(run_async(jobs(command))),
        Command::Console(ConsoleCommand::HashPassword) => finish(commands::console_hash_password()),
        Command::Tenants(TenantsCommand::LinkOwner {
            subdomain,
            customer,
            by,
        }) => finish(run_async(async {
            let store = commands::open_store().await?;
            commands::tenants_link_owner(&store, &subdomain, &customer, &by).await
        })),
    }
}

/// Prints a command's output, or its error on one line (exit 2 for wrong values or settings, else 1).
fn finish(result: Result<String>) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprint!("{}", one_line(&format!("error: {e}"), false));
            match e {
                Error::BadRequest(_) | Error::Config(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn run_async<T>(work: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let out = runtime.block_on(work);
    runtime.shutdown_timeout(Duration::from_millis(200));
    out
}

fn render(args: RenderArgs) -> Result<String> {
    let values = Tenant {
        subdomain: args.subdomain,
        orchestra_name: args.orchestra_name,
        contact_email: args.contact_email,
        plan: args.plan,
        region: args.region,
    };
    let record = commands::record_from_values(
        values,
        args.archived,
        args.customer_id,
        args.subscription_id,
    );
    let text = match args.import_id {
        None => commands::render(&record, &args.module_source)?,
        Some(id) => commands::render_adopting(&record, &args.module_source, &id)?,
    };
    // The file on stdout as it is; where the bridge writes it (its own root module) on stderr.
    eprintln!(
        "# {} (root module {}; {} is deleted in the same commit)",
        stagesub_bridge::render::tenant_path(&args.tenants_dir, &record.values.subdomain),
        stagesub_bridge::render::tenant_root(&args.tenants_dir, &record.values.subdomain),
        stagesub_bridge::render::legacy_tenant_path(&args.tenants_dir, &record.values.subdomain),
    );
    Ok(text)
}

async fn jobs(command: JobsCommand) -> Result<String> {
    let store = commands::open_store().await?;
    match command {
        JobsCommand::List { parked, all, limit } => {
            let filter = match (parked, all) {
                (true, _) => JobFilter::Parked,
                (_, true) => JobFilter::All,
                _ => JobFilter::Open,
            };
            commands::jobs_list(&store, filter, limit.max(1)).await
        }
        JobsCommand::Retry { parked: true, .. } => commands::jobs_retry_parked(&store).await,
        JobsCommand::Retry { id, .. } => {
            commands::jobs_retry(&store, id.expect("clap requires an id without --parked")).await
        }
    }
}

fn serve() -> ExitCode {
    let format = match LogFormat::from_env() {
        Ok(f) => f,
        Err(e) => {
            eprint!("{}", one_line(&format!("configuration error: {e}"), false));
            return ExitCode::from(2);
        }
    };
    logging::init(format);
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("configuration error: {e}");
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
    // Whatever the grace left running (aborted connections, jobs) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(500));
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
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
