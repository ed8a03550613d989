//! The one-shot commands: migrate and keys here; the admin ones in `admin_commands`.

use gatepass_auth::keys::{self, Plan};
use gatepass_core::format_utc;
use gatepass_store::audit::AuditEventRow;
use gatepass_store::{audit, signing_keys};
use serde_json::json;

use crate::admin_commands;
use crate::cli::{Command, KeysCommand};
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
        Command::Keys(KeysCommand::List { json }) => list_keys(settings, json),
        Command::Keys(KeysCommand::Rotate { json }) => rotate_keys(settings, json),
    }
}

fn print(json: bool, document: &serde_json::Value, text: &str) {
    if json {
        println!("{document}");
    } else {
        println!("{text}");
    }
}

fn cli_event(now: i64, action: &str, target: &str) -> AuditEventRow {
    AuditEventRow {
        id: uuid::Uuid::now_v7().to_string(),
        occurred_at: now,
        actor: "cli".to_owned(),
        action: action.to_owned(),
        target: Some(target.to_owned()),
        outcome: "success".to_owned(),
        reason: None,
        request_id: None,
        source_addr: None,
        details: None,
    }
}

fn list_keys(settings: &Settings, json: bool) -> Result<()> {
    let context = Context::open(settings, true)?;
    let mut conn = context.db.conn()?;
    let rows = signing_keys::list(&mut conn)?;
    let summaries = keys::summarize(&rows, context.clock.now().unix_timestamp());
    if json {
        println!("{}", json!({ "items": summaries }));
    } else if summaries.is_empty() {
        println!("no signing keys yet: `gatepass serve` makes the first one");
    } else {
        println!(
            "{:<31} {:<6} {:<8} {:<21} {:<21}",
            "KID", "ALG", "STATE", "ACTIVATES", "RETIRES"
        );
        for key in summaries {
            let state = serde_json::to_value(key.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            println!(
                "{:<31} {:<6} {:<8} {:<21} {:<21}",
                key.kid,
                key.algorithm,
                state,
                key.activates_at,
                key.retires_at.unwrap_or_else(|| "-".to_owned())
            );
        }
    }
    Ok(())
}

fn rotate_keys(settings: &Settings, json: bool) -> Result<()> {
    gatepass_core::jwt_crypto::install();
    let context = Context::open(settings, true)?;
    let now = context.clock.now().unix_timestamp();
    let kek = context.master_key.key_encryption_key();
    let mut conn = context.db.conn()?;
    let plan = keys::rotate(
        &mut conn,
        &kek,
        &context.master_key.id(),
        &settings.key_settings(),
        now,
        true,
    )?;
    let at = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).map_or_else(|_| t.to_string(), format_utc);
    match plan {
        Plan::Create { activates_at, .. } => {
            audit::append(&mut conn, &[cli_event(now, "signing_key.rotated", "signing-keys")])?;
            print(
                json,
                &json!({"status": "scheduled", "activates_at": at(activates_at)}),
                &format!("new signing key published; it signs from {}", at(activates_at)),
            );
        }
        Plan::AlreadyPending(activates_at) => print(
            json,
            &json!({"status": "already_pending", "activates_at": at(activates_at)}),
            &format!("a new key is already published and signs from {}", at(activates_at)),
        ),
        Plan::Keep => print(json, &json!({"status": "unchanged"}), "nothing to do"),
    }
    Ok(())
}
