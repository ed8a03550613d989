//! `gatepass`: the OAuth 2.0 client-credentials authorization server.
#![forbid(unsafe_code)]

mod admin_keys;
mod cli;
mod commands;
mod config;
mod context;
mod directory;
mod openapi;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let settings = match config::Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("gatepass: {error}");
            return ExitCode::from(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(&settings.log.level))
        .format_timestamp_millis()
        .init();
    match commands::run(cli.command, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gatepass: {error}");
            ExitCode::FAILURE
        }
    }
}
