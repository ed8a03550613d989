//! The `gatepass` server: configuration, the command line and the HTTP server wiring the
//! token service and the admin API together. The binary calls [`main`]; tests start a
//! server in process with [`serve::run_with`] to drive its clock.
#![forbid(unsafe_code)]

mod admin_commands;
mod cli;
mod commands;
#[allow(missing_docs)] // each field is a key of config/default.toml, documented there
pub mod config;
mod connections;
pub mod context;
mod data_files;
mod deadlines;
mod edge;
mod logging;
mod metrics;
mod openapi;
mod routes;
pub mod serve;
mod sign_in;
mod signing_keys;
pub mod tls;

use std::process::ExitCode;

use clap::Parser;

/// `gatepass …`: parses the command line and the configuration, then runs the command.
#[must_use]
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let settings = match config::Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("gatepass: {error}");
            return ExitCode::from(2);
        }
    };
    logging::init(&settings.log.level, settings.log.format);
    match commands::run(cli.command, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gatepass: {error}");
            ExitCode::FAILURE
        }
    }
}
