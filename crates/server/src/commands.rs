//! The one-shot commands: migrate, bootstrap, keys.

use gatepass_auth::keys::{self, Plan};
use gatepass_core::{Audience, ClientId, ClientSecret, Scope, ScopeSet, format_utc};
use gatepass_store::audit::AuditEventRow;
use gatepass_store::clients::ClientRow;
use gatepass_store::secrets::SecretRow;
use gatepass_store::{audit, clients, secrets, signing_keys};
use serde_json::json;

use crate::cli::{ClientsCommand, Command, KeysCommand};
use crate::config::{Settings, TOKEN_TTL_RANGE};
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
        Command::Bootstrap { name, json } => {
            let spec = NewClient {
                name,
                prefix: "bootstrap",
                scopes: vec!["gatepass:admin".to_owned()],
                ..NewClient::default()
            };
            create_client(settings, spec, json)
        }
        Command::Clients(ClientsCommand::Create {
            name,
            scopes,
            audiences,
            ttl,
            json,
        }) => create_client(
            settings,
            NewClient {
                name,
                prefix: "client",
                scopes,
                audiences,
                ttl,
            },
            json,
        ),
        Command::ServiceAccounts(command) => crate::directory::service_accounts(settings, command),
        Command::Roles(command) => crate::directory::roles(settings, command),
        Command::Audit(command) => crate::directory::audit(settings, command),
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

/// What `bootstrap` and `clients create` make.
#[derive(Default)]
struct NewClient {
    name: Option<String>,
    /// The default name's prefix.
    prefix: &'static str,
    scopes: Vec<String>,
    audiences: Vec<String>,
    ttl: Option<i64>,
}

fn create_client(settings: &Settings, spec: NewClient, json: bool) -> Result<()> {
    let scopes = spec
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<std::result::Result<ScopeSet, _>>()
        .map_err(|e| format!("--scope: {e}"))?;
    let audiences = spec
        .audiences
        .iter()
        .map(|a| Audience::parse(a).map(|a| a.to_string()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| format!("--audience: {e}"))?;
    if spec.ttl.is_some_and(|ttl| !TOKEN_TTL_RANGE.contains(&ttl)) {
        return Err("--ttl must be between 60 and 86400".into());
    }
    let context = Context::open(settings, true)?;
    let now = context.clock.now();
    let name = spec.name.unwrap_or_else(|| {
        format!(
            "{}-{:02}_{:02}_{}-{:02}_{:02}",
            spec.prefix,
            now.day(),
            u8::from(now.month()),
            now.year(),
            now.hour(),
            now.minute()
        )
    });
    if name.trim().is_empty() || name.len() > 128 {
        return Err("--name must be 1-128 characters".into());
    }
    let client_id = ClientId::generate();
    let secret = ClientSecret::generate(&settings.secret_prefix()).map_err(|_| "no randomness available")?;
    let hash = context.master_key.secret_pepper().hash(&secret);
    let ts = now.unix_timestamp();
    let client = ClientRow {
        client_id: client_id.to_string(),
        name: name.clone(),
        service_account_id: None,
        scopes: scopes.to_string(),
        audiences: audiences.join(" "),
        labels: format!(r#"{{"created_by":"{}"}}"#, spec.prefix),
        token_ttl_seconds: spec.ttl,
        disabled: false,
        expires_at: None,
        created_at: ts,
        updated_at: ts,
        last_used_at: None,
    };
    let secret_row = SecretRow {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client_id.to_string(),
        secret_hash: hash.0.to_vec(),
        key_prefix: secret.key_prefix().to_owned(),
        label: Some(spec.prefix.to_owned()),
        created_at: ts,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        use_count: 0,
    };
    let mut conn = context.db.conn()?;
    clients::insert(&mut conn, &client).map_err(|e| format!("could not create client {name:?}: {e}"))?;
    secrets::insert(&mut conn, &secret_row)?;
    audit::append(&mut conn, &[cli_event(ts, "client.created", client_id.as_str())])?;
    let scope_list: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    print(
        json,
        &json!({"client_id": client_id, "client_secret": secret.expose(), "name": name, "scopes": scope_list, "audiences": audiences}),
        &format!(
            "Created client {name}\n  client_id:     {client_id}\n  client_secret: {}\n  scopes:        {scopes}\n\
             The secret is shown once: store it now.",
            secret.expose()
        ),
    );
    Ok(())
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
