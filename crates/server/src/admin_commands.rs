//! The CLI's admin commands: the admin service layer's own commands, run in this process on
//! the database directly as the operator (audit actor `cli`), so the CLI and the API
//! validate, answer and record every operation the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::web;
use gatepass_admin::access::Operator;
use gatepass_admin::audit::AuditQuery;
use gatepass_admin::clients::ListQuery;
use gatepass_admin::keys::{self, Rotated};
use gatepass_admin::problem::AdminError;
use gatepass_admin::requests::{
    ChangeClient, ChangeRole, ChangeServiceAccount, CreateClient, CreateRole, CreateSecret, CreateServiceAccount,
};
use gatepass_admin::{AdminState, Callers, Outcome, clients, export, roles, secrets, service_accounts};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{
    AuditCommand, ClientFields, ClientsCommand, KeysCommand, Output, RolesCommand, SecretsCommand,
    ServiceAccountsCommand,
};
use crate::config::Settings;
use crate::context::Context;
use crate::signing_keys::Schedule;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Runs `work` on the admin service layer as the operator; its result on success, the
/// problem's detail (naming the option behind its field) otherwise.
fn run<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&web::Data<AdminState>, &Operator) -> std::result::Result<T, AdminError>,
) -> Result<T> {
    let context = Context::open(settings, true)?;
    let operator = Operator::new(&context.master_key);
    let state = web::Data::new(AdminState {
        db: context.db,
        callers: Callers::CommandLine,
        pepper: Arc::new(context.master_key.secret_pepper()),
        secret_prefix: settings.secret_prefix(),
        max_secrets: settings.secrets.max_per_client,
        max_secret_age: settings.max_secret_age(),
        // The operator holds the database and the master key; a second pair of eyes is the
        // API's rule for admins, not for whoever runs the server.
        four_eyes: false,
        // Only four-eyes asks which changes open the admin plane.
        admin_audience: settings.issuer(settings.bind_addr()?),
        keys: Arc::new(Schedule::offline(&context.master_key, settings.key_settings())),
        clock: Arc::clone(&context.clock),
    });
    actix_web::rt::System::new()
        .block_on(work(&state, &operator))
        .map_err(|error| problem(&error).into())
}

/// A refusal as one line: the detail, naming the option behind the field it names.
fn problem(error: &AdminError) -> String {
    let detail = error.detail();
    let Some(field) = error.field() else {
        return detail;
    };
    let detail = detail.strip_prefix(&format!("{field}: ")).unwrap_or(&detail);
    let option = match field {
        "token_ttl_seconds" => "--ttl",
        "scopes" => "--scope",
        "audiences" => "--audience",
        "labels" | "label" => "--label",
        "expires_at" => "--expires-at",
        "grace_period_seconds" => "--grace-period",
        "service_account_id" => "--service-account",
        "roles" => "--role",
        "name" => "--name",
        "status" => "--status",
        "description" => "--description",
        "limit" => "--limit",
        "cursor" => "--cursor",
        other => return format!("{other}: {detail}"),
    };
    format!("{option} ({field}): {detail}")
}

/// A view as the JSON document `--json` prints.
fn doc<T: Serialize>(value: T) -> Result<Value> {
    Ok(serde_json::to_value(value)?)
}

/// A change's result, or the four-eyes request it became.
fn done<T: Serialize>(outcome: Outcome<T>) -> Result<Value> {
    match outcome {
        Outcome::Done(value) => doc(value),
        Outcome::Pending(approval) => doc(approval),
    }
}

/// Prints `doc` as JSON, or the text `render` makes of it.
fn show(output: Output, doc: &Value, render: impl FnOnce(&Value) -> String) {
    if output.json {
        println!("{doc}");
    } else {
        println!("{}", render(doc));
    }
}

fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

/// A field as text for people: lists joined by spaces, objects as `key=value` pairs, `-`
/// for null or empty.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) if s.is_empty() => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(" "),
        Value::Object(map) if map.is_empty() => "-".to_owned(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// A page as a table of `columns` (header, field), with the next page's cursor under it.
fn table(doc: &Value, columns: &[(&str, &str)]) -> String {
    let empty = Vec::new();
    let items = doc["items"].as_array().unwrap_or(&empty);
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|(_, field)| cell(&item[*field])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (header, _))| rows.iter().map(|r| r[i].len()).chain([header.len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(columns.iter().map(|(h, _)| (*h).to_owned()).collect())];
    out.extend(rows.into_iter().map(line));
    if let Some(cursor) = doc["next_cursor"].as_str() {
        out.push(format!("more: --cursor {cursor}"));
    }
    out.join("\n")
}

fn labels(values: &[String]) -> Result<BTreeMap<String, String>> {
    values
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("--label {pair:?}: expected key=value").into())
        })
        .collect()
}

/// A list option: `None` (unchanged) unless at least one item was given.
fn given(values: Vec<String>) -> Option<Vec<String>> {
    (!values.is_empty()).then_some(values)
}

/// `clients create`'s options as the command's input.
fn new_client(fields: ClientFields, service_account_id: Option<String>) -> Result<CreateClient> {
    Ok(CreateClient {
        labels: labels(&fields.labels)?,
        name: fields.name,
        service_account_id,
        scopes: fields.scopes,
        audiences: fields.audiences,
        token_ttl_seconds: fields.ttl,
        expires_at: fields.expires_at,
    })
}

/// `clients update`'s options as the change: only what was given changes.
fn client_change(fields: ClientFields, status: Option<String>) -> Result<ChangeClient> {
    Ok(ChangeClient {
        labels: if fields.labels.is_empty() {
            None
        } else {
            Some(labels(&fields.labels)?)
        },
        name: fields.name,
        scopes: given(fields.scopes),
        audiences: given(fields.audiences),
        token_ttl_seconds: fields.ttl.map(Some),
        expires_at: fields.expires_at.map(Some),
        status,
    })
}

fn created_client(doc: &Value) -> String {
    let client = &doc["client"];
    format!(
        "Created client {}\n  client_id:     {}\n  client_secret: {}\n  scopes:        {}\n\
         The secret is shown once: store it now.",
        cell(&client["name"]),
        cell(&client["client_id"]),
        cell(&doc["client_secret"]),
        cell(&client["scopes"]),
    )
}

/// `gatepass bootstrap`: the first admin client, holding `gatepass:admin`.
pub fn bootstrap(settings: &Settings, name: Option<String>, output: Output) -> Result<()> {
    let created = run(settings, async |state, operator| {
        let name = name.unwrap_or_else(|| {
            let now = state.clock.now();
            format!(
                "bootstrap-{:02}_{:02}_{}-{:02}_{:02}",
                now.day(),
                u8::from(now.month()),
                now.year(),
                now.hour(),
                now.minute()
            )
        });
        let input = CreateClient {
            name: Some(name),
            scopes: vec!["gatepass:admin".into()],
            labels: BTreeMap::from([("created_by".to_owned(), "bootstrap".to_owned())]),
            ..CreateClient::default()
        };
        clients::create(state, &operator.caller(), input).await
    })?;
    let doc = done(created)?;
    let short = json!({"client_id": doc["client"]["client_id"], "client_secret": doc["client_secret"]});
    show(output, &short, |_| created_client(&doc));
    Ok(())
}

pub fn clients(settings: &Settings, command: ClientsCommand) -> Result<()> {
    const COLUMNS: &[(&str, &str)] = &[
        ("CLIENT_ID", "client_id"),
        ("NAME", "name"),
        ("STATUS", "status"),
        ("SCOPES", "scopes"),
        ("LABELS", "labels"),
        ("LAST_USED", "last_used_at"),
    ];
    match command {
        ClientsCommand::List {
            label,
            status,
            limit,
            cursor,
            output,
        } => {
            let query = ListQuery {
                label,
                status,
                limit: limit.map(i64::from),
                cursor,
            };
            let doc = doc(run(settings, async |state, operator| {
                clients::list(state, &operator.caller(), query).await
            })?)?;
            show(output, &doc, |doc| table(doc, COLUMNS));
        }
        ClientsCommand::Show { client_id, output } => {
            let doc = doc(run(settings, async |state, operator| {
                clients::read(state, &operator.caller(), client_id).await
            })?)?;
            show(output, &doc, pretty);
        }
        ClientsCommand::Create {
            fields,
            service_account,
            output,
        } => {
            let input = new_client(fields, service_account)?;
            let doc = done(run(settings, async |state, operator| {
                clients::create(state, &operator.caller(), input).await
            })?)?;
            show(output, &doc, created_client);
        }
        ClientsCommand::Update {
            client_id,
            fields,
            status,
            output,
        } => {
            let change = client_change(fields, status)?;
            let doc = done(run(settings, async |state, operator| {
                clients::change(state, &operator.caller(), client_id, change).await
            })?)?;
            show(output, &doc, pretty);
        }
        ClientsCommand::Delete { client_id, output } => {
            let id = client_id.clone();
            run(settings, async |state, operator| {
                clients::delete(state, &operator.caller(), id).await
            })?;
            show(output, &json!({"deleted": client_id}), |_| {
                format!("deleted client {client_id}")
            });
        }
        ClientsCommand::Secrets(command) => secrets(settings, command)?,
        ClientsCommand::Export { what, csv } => export(settings, &what, csv)?,
    }
    Ok(())
}

/// `gatepass clients export`: everything, as JSON or CSV, to standard output.
fn export(settings: &Settings, what: &str, csv: bool) -> Result<()> {
    let body = run(settings, async |state, operator| {
        let mut export = match what {
            "clients" => export::all_clients(state.clone(), &operator.caller(), csv).await?,
            "secrets" => export::all_secrets(state.clone(), &operator.caller(), csv).await?,
            "audit-events" => export::all_audit_events(state.clone(), &operator.caller(), csv).await?,
            _ => {
                return Err(AdminError::InvalidField {
                    field: "what",
                    message: format!("{what:?}: expected clients, secrets or audit-events"),
                });
            }
        };
        let mut body = Vec::new();
        while let Some(chunk) = export.next_chunk().await {
            let chunk = chunk.map_err(|e| AdminError::Internal(format!("export stopped early: {e}")))?;
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })?;
    println!("{}", String::from_utf8_lossy(&body).trim_end());
    Ok(())
}

fn secrets(settings: &Settings, command: SecretsCommand) -> Result<()> {
    const COLUMNS: &[(&str, &str)] = &[
        ("ID", "id"),
        ("KEY_PREFIX", "key_prefix"),
        ("LABEL", "label"),
        ("STATUS", "status"),
        ("CREATED", "created_at"),
        ("EXPIRES", "expires_at"),
        ("LAST_USED", "last_used_at"),
        ("USES", "use_count"),
    ];
    match command {
        SecretsCommand::List { client_id, output } => {
            let doc = doc(run(settings, async |state, operator| {
                secrets::list(state, &operator.caller(), client_id).await
            })?)?;
            show(output, &doc, |doc| table(doc, COLUMNS));
        }
        SecretsCommand::Rotate {
            client_id,
            label,
            grace_period,
            expires_at,
            output,
        } => {
            let input = CreateSecret {
                label,
                expires_at,
                grace_period_seconds: grace_period,
            };
            let id = client_id.clone();
            let doc = done(run(settings, async |state, operator| {
                secrets::create(state, &operator.caller(), id, input).await
            })?)?;
            show(output, &doc, |doc| {
                format!(
                    "New secret {} for {client_id}\n  client_secret: {}\n  older secrets expire: {}\n\
                     The secret is shown once: store it now.",
                    cell(&doc["secret"]["id"]),
                    cell(&doc["client_secret"]),
                    grace_period.map_or_else(
                        || "no (revoke them when callers have moved)".to_owned(),
                        |g| format!("in {g} s")
                    ),
                )
            });
        }
        SecretsCommand::Revoke {
            client_id,
            secret_id,
            output,
        } => {
            let id = secret_id.clone();
            let doc = doc(run(settings, async |state, operator| {
                secrets::revoke(state, &operator.caller(), client_id, id).await
            })?)?;
            show(output, &doc, |_| format!("revoked secret {secret_id}"));
        }
        SecretsCommand::Delete {
            client_id,
            secret_id,
            force,
            output,
        } => {
            let id = secret_id.clone();
            run(settings, async |state, operator| {
                secrets::delete(state, &operator.caller(), client_id, id, force).await
            })?;
            show(output, &json!({"deleted": secret_id}), |_| {
                format!("deleted secret {secret_id}")
            });
        }
        SecretsCommand::Due { output } => {
            let doc = doc(run(settings, async |state, operator| {
                secrets::due(state, &operator.caller()).await
            })?)?;
            let mut columns = vec![("CLIENT_ID", "client_id")];
            columns.extend_from_slice(COLUMNS);
            show(output, &doc, |doc| table(doc, &columns));
        }
    }
    Ok(())
}

pub fn service_accounts(settings: &Settings, command: ServiceAccountsCommand) -> Result<()> {
    match command {
        ServiceAccountsCommand::List { output } => {
            let doc = doc(run(settings, async |state, operator| {
                service_accounts::list(state, &operator.caller()).await
            })?)?;
            show(output, &doc, |doc| {
                table(
                    doc,
                    &[("ID", "id"), ("NAME", "name"), ("STATUS", "status"), ("ROLES", "roles")],
                )
            });
        }
        ServiceAccountsCommand::Show { id, output } => {
            let doc = doc(run(settings, async |state, operator| {
                service_accounts::read(state, &operator.caller(), id).await
            })?)?;
            show(output, &doc, pretty);
        }
        ServiceAccountsCommand::Create {
            name,
            description,
            roles,
            output,
        } => {
            let input = CreateServiceAccount {
                name,
                description: description.unwrap_or_default(),
                roles,
            };
            let doc = done(run(settings, async |state, operator| {
                service_accounts::create(state, &operator.caller(), input).await
            })?)?;
            show(output, &doc, pretty);
        }
        ServiceAccountsCommand::Update {
            id,
            name,
            description,
            roles,
            status,
            output,
        } => {
            let change = ChangeServiceAccount {
                name,
                description,
                roles: given(roles),
                status,
            };
            let doc = done(run(settings, async |state, operator| {
                service_accounts::change(state, &operator.caller(), id, change).await
            })?)?;
            show(output, &doc, pretty);
        }
        ServiceAccountsCommand::Delete { id, output } => {
            let target = id.clone();
            run(settings, async |state, operator| {
                service_accounts::delete(state, &operator.caller(), target).await
            })?;
            show(output, &json!({"deleted": id}), |_| {
                format!("deleted service account {id}")
            });
        }
    }
    Ok(())
}

pub fn roles(settings: &Settings, command: RolesCommand) -> Result<()> {
    match command {
        RolesCommand::List { output } => {
            let doc = doc(run(settings, async |state, operator| {
                roles::list(state, &operator.caller()).await
            })?)?;
            show(output, &doc, |doc| {
                table(
                    doc,
                    &[("NAME", "name"), ("SCOPES", "scopes"), ("DESCRIPTION", "description")],
                )
            });
        }
        RolesCommand::Show { name, output } => {
            let doc = doc(run(settings, async |state, operator| {
                roles::read(state, &operator.caller(), name).await
            })?)?;
            show(output, &doc, pretty);
        }
        RolesCommand::Create {
            name,
            description,
            scopes,
            output,
        } => {
            let input = CreateRole {
                name,
                description: description.unwrap_or_default(),
                scopes,
            };
            let doc = done(run(settings, async |state, operator| {
                roles::create(state, &operator.caller(), input).await
            })?)?;
            show(output, &doc, pretty);
        }
        RolesCommand::Update {
            name,
            description,
            scopes,
            output,
        } => {
            let change = ChangeRole {
                description,
                scopes: given(scopes),
            };
            let doc = done(run(settings, async |state, operator| {
                roles::change(state, &operator.caller(), name, change).await
            })?)?;
            show(output, &doc, pretty);
        }
        RolesCommand::Delete { name, output } => {
            let target = name.clone();
            run(settings, async |state, operator| {
                roles::delete(state, &operator.caller(), target).await
            })?;
            show(output, &json!({"deleted": name}), |_| format!("deleted role {name}"));
        }
    }
    Ok(())
}

pub fn audit(settings: &Settings, command: AuditCommand) -> Result<()> {
    let AuditCommand::List {
        since,
        until,
        action,
        actor,
        target,
        limit,
        cursor,
        output,
    } = command;
    let query = AuditQuery {
        since,
        until,
        actor,
        action,
        target,
        limit: limit.map(i64::from),
        cursor,
    };
    let doc = doc(run(settings, async |state, operator| {
        gatepass_admin::audit::search(state, &operator.caller(), query).await
    })?)?;
    show(output, &doc, |doc| {
        table(
            doc,
            &[
                ("TIME", "occurred_at"),
                ("ACTION", "action"),
                ("ACTOR", "actor"),
                ("TARGET", "target"),
                ("OUTCOME", "outcome"),
                ("REASON", "reason"),
            ],
        )
    });
    Ok(())
}

/// `gatepass keys list` and `gatepass keys rotate`: the schedule and rotation the admin
/// API and the console use too.
pub fn keys(settings: &Settings, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::List { json } => {
            let keys = run(settings, async |state, operator| {
                keys::list(state, &operator.caller()).await
            })?;
            if json {
                println!("{}", json!({ "items": keys }));
            } else if keys.is_empty() {
                println!("no signing keys yet: `gatepass serve` makes the first one");
            } else {
                println!(
                    "{:<31} {:<6} {:<8} {:<21} {:<21}",
                    "KID", "ALG", "STATE", "ACTIVATES", "RETIRES"
                );
                for key in keys {
                    println!(
                        "{:<31} {:<6} {:<8} {:<21} {:<21}",
                        key.kid,
                        key.algorithm,
                        key.state,
                        key.activates_at,
                        key.retires_at.unwrap_or_else(|| "-".to_owned())
                    );
                }
            }
        }
        KeysCommand::Rotate { json } => {
            gatepass_core::jwt_crypto::install();
            let rotated = run(settings, async |state, operator| {
                keys::rotate(state, &operator.caller()).await
            })?;
            let Rotated { status, activates_at } = &rotated;
            let at = activates_at.as_deref().unwrap_or("-");
            let text = match *status {
                "scheduled" => format!("new signing key published; it signs from {at}"),
                "already_pending" => format!("a new key is already published and signs from {at}"),
                _ => "nothing to do".to_owned(),
            };
            if json {
                println!("{}", doc(&rotated)?);
            } else {
                println!("{text}");
            }
        }
    }
    Ok(())
}
