//! The CLI's service-account, role and audit commands: the admin crate's operations, run on
//! the database directly and recorded as actor `cli`.

use std::sync::Arc;

use gatepass_admin::AdminState;
use gatepass_admin::views::{AuditEvent, Role, ServiceAccount};
use gatepass_resource_guard::{GuardConfig, Validator};
use gatepass_store::audit::AuditFilter;
use serde_json::json;

use crate::cli::{AuditCommand, RolesCommand, ServiceAccountsCommand};
use crate::config::Settings;
use crate::context::Context;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The admin state for commands: no token validation (the CLI is trusted with the database).
fn state(settings: &Settings, context: Context) -> Result<AdminState> {
    Ok(AdminState {
        db: context.db,
        validator: Validator::from_jwks(GuardConfig::new("cli", "cli"), r#"{"keys":[]}"#)?,
        pepper: context.master_key.secret_pepper(),
        secret_prefix: settings.secret_prefix(),
        max_secrets: settings.secrets.max_per_client,
        max_secret_age: None,
        four_eyes: false,
        clock: Arc::clone(&context.clock),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn show<T: serde::Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(value)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

pub fn service_accounts(settings: &Settings, command: ServiceAccountsCommand) -> Result<()> {
    let state = state(settings, Context::open(settings, true)?)?;
    runtime()?.block_on(async {
        match command {
            ServiceAccountsCommand::List { json } => {
                let rows = state.db.run(gatepass_store::service_accounts::list).await?;
                let items: Vec<ServiceAccount> = rows
                    .into_iter()
                    .map(|(row, roles)| ServiceAccount::of(&row, roles))
                    .collect();
                show(json, &json!({ "items": items }), || {
                    serde_json::to_string_pretty(&items).unwrap_or_default()
                })
            }
            ServiceAccountsCommand::Create {
                name,
                description,
                roles,
                json,
            } => {
                let body = json!({ "name": name, "description": description, "roles": roles });
                let account = gatepass_admin::cli::create_service_account(&state, &body).await?;
                show(json, &account, || format!("created service account {name}"))
            }
        }
    })
}

pub fn roles(settings: &Settings, command: RolesCommand) -> Result<()> {
    let state = state(settings, Context::open(settings, true)?)?;
    runtime()?.block_on(async {
        match command {
            RolesCommand::List { json } => {
                let rows = state.db.run(gatepass_store::roles::list).await?;
                let items: Vec<Role> = rows.iter().map(Role::of).collect();
                show(json, &json!({ "items": items }), || {
                    rows.iter()
                        .map(|r| format!("{:<24} {}", r.name, r.scopes))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            }
            RolesCommand::Create {
                name,
                description,
                scopes,
                json,
            } => {
                let body = json!({ "name": name, "description": description, "scopes": scopes });
                let role = gatepass_admin::cli::create_role(&state, &body).await?;
                show(json, &role, || format!("created role {name}"))
            }
        }
    })
}

pub fn audit(settings: &Settings, command: AuditCommand) -> Result<()> {
    let context = Context::open(settings, true)?;
    let AuditCommand::List {
        action,
        actor,
        target,
        limit,
        json,
    } = command;
    if !(1..=10_000).contains(&limit) {
        return Err("--limit must be between 1 and 10000".into());
    }
    let filter = AuditFilter {
        action,
        actor,
        target,
        ..AuditFilter::default()
    };
    let mut conn = context.db.conn()?;
    let rows = gatepass_store::audit::search(&mut conn, &filter, limit)?;
    let items: Vec<AuditEvent> = rows.iter().map(AuditEvent::of).collect();
    show(json, &json!({ "items": items }), || {
        rows.iter()
            .map(|e| {
                format!(
                    "{} {:<28} {:<24} {:<34} {}",
                    gatepass_admin::views::date(e.occurred_at),
                    e.action,
                    e.actor,
                    e.target.as_deref().unwrap_or("-"),
                    e.reason.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}
