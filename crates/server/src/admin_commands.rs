//! The CLI's admin commands. Each one is a request to the admin API's own handlers, run in
//! this process on the database directly as the operator (audit actor `cli`), so the CLI
//! and the API validate, answer and record every operation the same way.

use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::web;
use gatepass_admin::access::Operator;
use gatepass_admin::{AdminState, Callers};
use serde_json::{Map, Value, json};

use crate::cli::{
    AuditCommand, ClientFields, ClientsCommand, Output, RolesCommand, SecretsCommand, ServiceAccountsCommand,
};
use crate::config::Settings;
use crate::context::Context;
use crate::in_process::{Call, query, segment};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Runs `call` against the admin API as the operator; the answer's body on success, the
/// problem's detail (naming the option behind its field) otherwise.
fn execute(settings: &Settings, call: Call) -> Result<Vec<u8>> {
    let context = Context::open(settings, true)?;
    let state = web::Data::new(AdminState {
        db: context.db,
        callers: Callers::Operator(Operator::new(&context.master_key)),
        pepper: Arc::new(context.master_key.secret_pepper()),
        secret_prefix: settings.secret_prefix(),
        max_secrets: settings.secrets.max_per_client,
        max_secret_age: settings.max_secret_age(),
        // The operator holds the database and the master key; a second pair of eyes is the
        // API's rule for admins, not for whoever runs the server.
        four_eyes: false,
        clock: Arc::clone(&context.clock),
        // Servers drop cached credentials within tokens.credential_cache_ttl_ms.
        on_change: Box::new(|| {}),
    });
    let answer = actix_web::rt::System::new().block_on(call.send(|cfg| {
        cfg.app_data(state).configure(gatepass_admin::configure);
    }));
    if answer.status.is_success() {
        Ok(answer.body)
    } else {
        Err(problem(answer.status, &answer.body).into())
    }
}

/// A refusal as one line: the detail, naming the option behind the field it names.
fn problem(status: StatusCode, body: &[u8]) -> String {
    let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let detail = doc["detail"]
        .as_str()
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("failed"));
    let Some(field) = doc["field"].as_str() else {
        return detail.to_owned();
    };
    let detail = detail.strip_prefix(&format!("{field}: ")).unwrap_or(detail);
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

fn run_json(settings: &Settings, call: Call) -> Result<Value> {
    let body = execute(settings, call)?;
    Ok(if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)?
    })
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

/// A field as text, `-` for nothing.
fn cell(value: &Value) -> String {
    crate::in_process::plain(value, "-")
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

fn labels(values: &[String]) -> Result<Map<String, Value>> {
    values
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                .ok_or_else(|| format!("--label {pair:?}: expected key=value").into())
        })
        .collect()
}

/// The request body for the fields given; lists only when at least one item was given.
fn client_body(fields: ClientFields) -> Result<Map<String, Value>> {
    let mut body = Map::new();
    if let Some(name) = fields.name {
        body.insert("name".into(), json!(name));
    }
    if !fields.scopes.is_empty() {
        body.insert("scopes".into(), json!(fields.scopes));
    }
    if !fields.audiences.is_empty() {
        body.insert("audiences".into(), json!(fields.audiences));
    }
    if !fields.labels.is_empty() {
        body.insert("labels".into(), Value::Object(labels(&fields.labels)?));
    }
    if let Some(ttl) = fields.ttl {
        body.insert("token_ttl_seconds".into(), json!(ttl));
    }
    if let Some(at) = fields.expires_at {
        body.insert("expires_at".into(), json!(at));
    }
    Ok(body)
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
    let name = name.unwrap_or_else(|| {
        let now = time::OffsetDateTime::now_utc();
        format!(
            "bootstrap-{:02}_{:02}_{}-{:02}_{:02}",
            now.day(),
            u8::from(now.month()),
            now.year(),
            now.hour(),
            now.minute()
        )
    });
    let body = json!({"name": name, "scopes": ["gatepass:admin"], "labels": {"created_by": "bootstrap"}});
    let doc = run_json(settings, Call::new(Method::POST, "/admin/v1/clients").json(body))?;
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
            let limit = limit.map(|l| l.to_string());
            let query = query(&[
                ("label", label.as_deref()),
                ("status", status.as_deref()),
                ("limit", limit.as_deref()),
                ("cursor", cursor.as_deref()),
            ]);
            let doc = run_json(settings, Call::get(format!("/admin/v1/clients{query}")))?;
            show(output, &doc, |doc| table(doc, COLUMNS));
        }
        ClientsCommand::Show { client_id, output } => {
            let doc = run_json(
                settings,
                Call::get(format!("/admin/v1/clients/{}", segment(&client_id))),
            )?;
            show(output, &doc, pretty);
        }
        ClientsCommand::Create {
            fields,
            service_account,
            output,
        } => {
            let mut body = client_body(fields)?;
            if let Some(id) = service_account {
                body.insert("service_account_id".into(), json!(id));
            }
            let call = Call::new(Method::POST, "/admin/v1/clients").json(Value::Object(body));
            let doc = run_json(settings, call)?;
            show(output, &doc, created_client);
        }
        ClientsCommand::Update {
            client_id,
            fields,
            status,
            output,
        } => {
            let mut body = client_body(fields)?;
            if let Some(status) = status {
                body.insert("status".into(), json!(status));
            }
            let path = format!("/admin/v1/clients/{}", segment(&client_id));
            let doc = run_json(settings, Call::new(Method::PATCH, path).json(Value::Object(body)))?;
            show(output, &doc, pretty);
        }
        ClientsCommand::Delete { client_id, output } => {
            let path = format!("/admin/v1/clients/{}", segment(&client_id));
            run_json(settings, Call::new(Method::DELETE, path))?;
            show(output, &json!({"deleted": client_id}), |_| {
                format!("deleted client {client_id}")
            });
        }
        ClientsCommand::Secrets(command) => secrets(settings, command)?,
        ClientsCommand::Export { what, csv } => {
            if !["clients", "secrets", "audit-events"].contains(&what.as_str()) {
                return Err(format!("export {what:?}: expected clients, secrets or audit-events").into());
            }
            let mut call = Call::get(format!("/admin/v1/export/{what}"));
            if csv {
                call = call.header("accept", "text/csv");
            }
            let body = execute(settings, call)?;
            println!("{}", String::from_utf8_lossy(&body).trim_end());
        }
    }
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
    let path = |client_id: &str| format!("/admin/v1/clients/{}/secrets", segment(client_id));
    match command {
        SecretsCommand::List { client_id, output } => {
            let doc = run_json(settings, Call::get(path(&client_id)))?;
            show(output, &doc, |doc| table(doc, COLUMNS));
        }
        SecretsCommand::Rotate {
            client_id,
            label,
            grace_period,
            expires_at,
            output,
        } => {
            let body = json!({"label": label, "grace_period_seconds": grace_period, "expires_at": expires_at});
            let doc = run_json(settings, Call::new(Method::POST, path(&client_id)).json(body))?;
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
            let call = Call::new(
                Method::POST,
                format!("{}/{}/revoke", path(&client_id), segment(&secret_id)),
            );
            let doc = run_json(settings, call)?;
            show(output, &doc, |_| format!("revoked secret {secret_id}"));
        }
        SecretsCommand::Delete {
            client_id,
            secret_id,
            force,
            output,
        } => {
            let force = if force { "?force=true" } else { "" };
            let call = Call::new(
                Method::DELETE,
                format!("{}/{}{force}", path(&client_id), segment(&secret_id)),
            );
            run_json(settings, call)?;
            show(output, &json!({"deleted": secret_id}), |_| {
                format!("deleted secret {secret_id}")
            });
        }
        SecretsCommand::Due { output } => {
            let doc = run_json(settings, Call::get("/admin/v1/secrets/due"))?;
            let mut columns = vec![("CLIENT_ID", "client_id")];
            columns.extend_from_slice(COLUMNS);
            show(output, &doc, |doc| table(doc, &columns));
        }
    }
    Ok(())
}

pub fn service_accounts(settings: &Settings, command: ServiceAccountsCommand) -> Result<()> {
    let one = |id: &str| format!("/admin/v1/service-accounts/{}", segment(id));
    match command {
        ServiceAccountsCommand::List { output } => {
            let doc = run_json(settings, Call::get("/admin/v1/service-accounts"))?;
            show(output, &doc, |doc| {
                table(
                    doc,
                    &[("ID", "id"), ("NAME", "name"), ("STATUS", "status"), ("ROLES", "roles")],
                )
            });
        }
        ServiceAccountsCommand::Show { id, output } => {
            show(output, &run_json(settings, Call::get(one(&id)))?, pretty);
        }
        ServiceAccountsCommand::Create {
            name,
            description,
            roles,
            output,
        } => {
            let body = json!({"name": name, "description": description.unwrap_or_default(), "roles": roles});
            let call = Call::new(Method::POST, "/admin/v1/service-accounts").json(body);
            show(output, &run_json(settings, call)?, pretty);
        }
        ServiceAccountsCommand::Update {
            id,
            name,
            description,
            roles,
            status,
            output,
        } => {
            let mut body = Map::new();
            for (key, value) in [("name", name), ("description", description), ("status", status)] {
                if let Some(value) = value {
                    body.insert(key.into(), json!(value));
                }
            }
            if !roles.is_empty() {
                body.insert("roles".into(), json!(roles));
            }
            let call = Call::new(Method::PATCH, one(&id)).json(Value::Object(body));
            show(output, &run_json(settings, call)?, pretty);
        }
        ServiceAccountsCommand::Delete { id, output } => {
            run_json(settings, Call::new(Method::DELETE, one(&id)))?;
            show(output, &json!({"deleted": id}), |_| {
                format!("deleted service account {id}")
            });
        }
    }
    Ok(())
}

pub fn roles(settings: &Settings, command: RolesCommand) -> Result<()> {
    let one = |name: &str| format!("/admin/v1/roles/{}", segment(name));
    match command {
        RolesCommand::List { output } => {
            let doc = run_json(settings, Call::get("/admin/v1/roles"))?;
            show(output, &doc, |doc| {
                table(
                    doc,
                    &[("NAME", "name"), ("SCOPES", "scopes"), ("DESCRIPTION", "description")],
                )
            });
        }
        RolesCommand::Show { name, output } => {
            show(output, &run_json(settings, Call::get(one(&name)))?, pretty);
        }
        RolesCommand::Create {
            name,
            description,
            scopes,
            output,
        } => {
            let body = json!({"name": name, "description": description.unwrap_or_default(), "scopes": scopes});
            let call = Call::new(Method::POST, "/admin/v1/roles").json(body);
            show(output, &run_json(settings, call)?, pretty);
        }
        RolesCommand::Update {
            name,
            description,
            scopes,
            output,
        } => {
            let mut body = Map::new();
            if let Some(description) = description {
                body.insert("description".into(), json!(description));
            }
            if !scopes.is_empty() {
                body.insert("scopes".into(), json!(scopes));
            }
            let call = Call::new(Method::PATCH, one(&name)).json(Value::Object(body));
            show(output, &run_json(settings, call)?, pretty);
        }
        RolesCommand::Delete { name, output } => {
            run_json(settings, Call::new(Method::DELETE, one(&name)))?;
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
    let limit = limit.map(|l| l.to_string());
    let query = query(&[
        ("since", since.as_deref()),
        ("until", until.as_deref()),
        ("actor", actor.as_deref()),
        ("action", action.as_deref()),
        ("target", target.as_deref()),
        ("limit", limit.as_deref()),
        ("cursor", cursor.as_deref()),
    ]);
    let doc = run_json(settings, Call::get(format!("/admin/v1/audit-events{query}")))?;
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
