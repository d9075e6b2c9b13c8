//! `stagesub-fleet`: roll a change out to every tenant. See `stagesub-fleet --help`.

use std::process::ExitCode;

use clap::Parser;
use stagesub_fleet::cli::{Cli, Command};
use stagesub_fleet::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("stagesub-fleet: could not start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Apply(args) => commands::apply(*args).await,
            Command::Status(args) => commands::status(args).await,
            Command::MergeReports(args) => commands::merge_reports(args),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("stagesub-fleet: {e}");
            ExitCode::from(2)
        }
    }
}
