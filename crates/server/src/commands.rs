//! The one-shot commands: migrate here; the admin ones (keys too) in `admin_commands`.

use serde_json::json;

use crate::admin_commands;
use crate::cli::Command;
use crate::config::Settings;
use crate::context::Context;
use crate::serve;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Runs a command.
pub fn run(command: Command, settings: &Settings) -> Result<()> {
    match command {
        Command::Serve => serve::run(settings),
        Command::Migrate { json } => {
            let context = Context::open(settings, true)?;
            drop(context);
            print(json, &json!({"status": "migrated"}), "database is up to date");
            Ok(())
        }
        Command::Bootstrap { name, output } => admin_commands::bootstrap(settings, name, output),
        Command::Clients(command) => admin_commands::clients(settings, command),
        Command::ServiceAccounts(command) => admin_commands::service_accounts(settings, command),
        Command::Roles(command) => admin_commands::roles(settings, command),
        Command::Audit(command) => admin_commands::audit(settings, command),
        Command::Openapi => {
            println!("{}", crate::openapi::to_json());
            Ok(())
        }
        Command::Keys(command) => admin_commands::keys(settings, command),
    }
}

fn print(json: bool, document: &serde_json::Value, text: &str) {
    if json {
        println!("{document}");
    } else {
        println!("{text}");
    }
}
