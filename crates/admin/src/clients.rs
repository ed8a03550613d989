//! Clients (API keys): create (with the first secret, shown once), list, read, change,
//! delete. Every command takes the capability its route needs; writes on an existing client
//! also need the caller to hold everything the client can reach.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_core::policy::allowed_scopes;
use gatepass_core::{ClientId, ClientSecret};
use gatepass_store::clients::{self, ClientFilter, ClientRow};
use gatepass_store::secrets::SecretRow;
use gatepass_store::{Conn, service_accounts};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::{Caller, ClientsRead, ClientsWrite, Principal};
use crate::events::{self, Event};
use crate::gate::{self, Gate};
use crate::problem::{AdminError, invalid};
use crate::reach::{self, gatepass, keeping_an_admin};
use crate::requests::{ChangeClient, ClientChange, CreateClient, PendingChange};
use crate::views::{Client, CreatedClient, Page, Secret};
use crate::{AdminState, Ctx, Outcome, fields};

/// Filters and pagination of the client list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `key:value`.
    pub label: Option<String>,
    /// `active`, `disabled` or `expired`.
    pub status: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// Creates a client; the answer holds its first secret, shown once.
pub async fn create(
    state: &AdminState,
    caller: &Caller<ClientsWrite>,
    input: CreateClient,
) -> Result<Outcome<CreatedClient>, AdminError> {
    state
        .write(
            caller,
            "client.created",
            "clients".to_owned(),
            move |conn, ctx, actor| create_in(conn, ctx, actor, Gate::Check, input),
        )
        .await
}

pub(crate) fn create_in(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    gate: Gate,
    input: CreateClient,
) -> Result<Outcome<CreatedClient>, AdminError> {
    let scopes = fields::scopes(&input.scopes)?;
    let audiences = fields::audiences(&input.audiences)?;
    let labels = fields::labels(&input.labels)?;
    let token_ttl_seconds = input.token_ttl_seconds.map(fields::token_ttl).transpose()?;
    let expires_at = input
        .expires_at
        .as_deref()
        .map(|at| fields::future("expires_at", at, ctx.now))
        .transpose()?;
    let given_name = input.name.as_deref().map(fields::client_name).transpose()?;
    actor.may_grant(&scopes)?;
    let account = match &input.service_account_id {
        None => None,
        Some(id) => Some(
            service_accounts::get(conn, id)?.ok_or_else(|| invalid("service_account_id", "no such service account"))?,
        ),
    };
    let roles = account
        .as_ref()
        .map(|a| reach::account_reach(conn, &a.id))
        .transpose()?;
    if gate.waits(ctx, gatepass(&allowed_scopes(&scopes, roles.as_ref()))) {
        return gate::file(conn, ctx, actor, &PendingChange::CreateClient(input));
    }
    let secret = ClientSecret::generate(&ctx.secret_prefix)
        .map_err(|_| AdminError::Internal("no randomness available".into()))?;
    let name = match given_name {
        Some(name) => name,
        None => free_default_name(conn, account.as_ref().map(|a| a.name.as_str()), ctx.now)?,
    };
    let client = ClientRow {
        client_id: ClientId::generate().to_string(),
        name,
        service_account_id: account.map(|a| a.id),
        scopes: scopes.to_string(),
        audiences,
        labels,
        token_ttl_seconds,
        disabled: false,
        expires_at,
        created_at: ctx.now,
        updated_at: ctx.now,
        last_used_at: None,
    };
    let secret_row = SecretRow {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client.client_id.clone(),
        secret_hash: ctx.pepper.hash(&secret).0.to_vec(),
        key_prefix: secret.key_prefix().to_owned(),
        label: None,
        created_at: ctx.now,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        use_count: 0,
    };
    clients::insert(conn, &client)?;
    gatepass_store::secrets::insert(conn, &secret_row)?;
    events::record(conn, ctx.now, actor, Event::ClientCreated(&client.client_id))?;
    Ok(Outcome::Done(CreatedClient {
        client: Client::of(&client, ctx.now),
        secret: Secret::of(&secret_row, ctx.moment()),
        client_secret: secret.expose().to_owned(),
    }))
}

/// The default name (`<service account>-<dd_mm_yyyy>-<hh_mm>`), with `-2`, `-3`, … when
/// keys made in the same minute took it already (names are unique).
fn free_default_name(conn: &mut Conn, account: Option<&str>, now: i64) -> Result<String, AdminError> {
    let at = time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let base = fields::default_client_name(account, at);
    for n in 1..=1000 {
        let name = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        if !clients::name_taken(conn, &name)? {
            return Ok(name);
        }
    }
    Err(AdminError::Conflict(format!(
        "over 1000 clients named {base}: give this one a name"
    )))
}

/// Lists clients, cursor-paginated, filtered by label and status.
pub async fn list(state: &AdminState, _: &Caller<ClientsRead>, query: ListQuery) -> Result<Page<Client>, AdminError> {
    let limit = fields::limit(query.limit, fields::CLIENT_PAGE)?;
    let after = query
        .cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid("cursor", "not a cursor from this API"))
        })
        .transpose()?;
    let label = query.label.as_deref().map(fields::label_filter).transpose()?;
    let status = query
        .status
        .as_deref()
        .map(|s| fields::one_of("status", s, &fields::CLIENT_LIST_STATUSES))
        .transpose()?;
    let (disabled, expired) = match status {
        None => (None, None),
        Some("disabled") => (Some(true), None),
        Some("expired") => (Some(false), Some(true)),
        Some(_) => (Some(false), Some(false)),
    };
    let filter = ClientFilter { label, disabled, after };
    state
        .read(move |conn, ctx| {
            let mut rows = clients::list(conn, &filter, limit + 1)?;
            let full = usize::try_from(limit).unwrap_or(usize::MAX);
            let next_cursor = (rows.len() > full).then(|| {
                rows.truncate(full);
                URL_SAFE_NO_PAD.encode(rows.last().map(|r| r.client_id.as_str()).unwrap_or_default())
            });
            let items = rows
                .iter()
                .filter(|row| expired.is_none_or(|want| row.expires_at.is_some_and(|at| at <= ctx.now) == want))
                .map(|row| Client::of(row, ctx.now))
                .collect();
            Ok(Page { items, next_cursor })
        })
        .await
}

/// A page of clients, each with the key prefixes of its usable secrets (so people can tell
/// keys apart): the console's key list.
pub async fn list_with_key_prefixes(
    state: &AdminState,
    caller: &Caller<ClientsRead>,
    query: ListQuery,
) -> Result<(Page<Client>, Vec<Vec<String>>), AdminError> {
    let page = list(state, caller, query).await?;
    let ids: Vec<String> = page.items.iter().map(|c| c.client_id().to_owned()).collect();
    let prefixes = state
        .read(move |conn, ctx| {
            ids.iter()
                .map(|id| {
                    let rows = gatepass_store::secrets::list_for_client(conn, id)?;
                    Ok(rows
                        .into_iter()
                        .filter(|r| r.revoked_at.is_none() && r.expires_at.is_none_or(|at| at > ctx.now))
                        .map(|r| r.key_prefix)
                        .collect())
                })
                .collect::<Result<Vec<Vec<String>>, AdminError>>()
        })
        .await?;
    Ok((page, prefixes))
}

/// The client, or 404.
pub(crate) fn find(conn: &mut Conn, client_id: &str) -> Result<ClientRow, AdminError> {
    clients::get(conn, client_id)?.ok_or(AdminError::NotFound("client"))
}

/// Reads a client.
pub async fn read(state: &AdminState, _: &Caller<ClientsRead>, client_id: String) -> Result<Client, AdminError> {
    state
        .read(move |conn, ctx| Ok(Client::of(&find(conn, &client_id)?, ctx.now)))
        .await
}

/// Changes a client (name, scopes, audiences, labels, TTL, expiry, status).
pub async fn change(
    state: &AdminState,
    caller: &Caller<ClientsWrite>,
    client_id: String,
    change: ChangeClient,
) -> Result<Outcome<Client>, AdminError> {
    state
        .write(caller, "client.changed", client_id.clone(), move |conn, ctx, actor| {
            change_in(conn, ctx, actor, Gate::Check, ClientChange { client_id, change })
        })
        .await
}

pub(crate) fn change_in(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    gate: Gate,
    request: ClientChange,
) -> Result<Outcome<Client>, AdminError> {
    let ClientChange { client_id, change } = &request;
    let mut row = find(conn, client_id)?;
    let before = reach::client_reach(conn, &row)?;
    actor.may_act_on(&before)?;
    let was = row.clone();
    if let Some(value) = &change.name {
        row.name = fields::client_name(value)?;
    }
    if let Some(values) = &change.scopes {
        let set = fields::scopes(values)?;
        actor.may_grant(&set)?;
        row.scopes = set.to_string();
    }
    if let Some(values) = &change.audiences {
        row.audiences = fields::audiences(values)?;
    }
    if let Some(values) = &change.labels {
        row.labels = fields::labels(values)?;
    }
    if let Some(value) = change.token_ttl_seconds {
        row.token_ttl_seconds = value.map(fields::token_ttl).transpose()?;
    }
    if let Some(value) = &change.expires_at {
        row.expires_at = value
            .as_deref()
            .map(|at| fields::future("expires_at", at, ctx.now))
            .transpose()?;
    }
    if let Some(value) = &change.status {
        row.disabled = fields::disabled(value)?;
    }
    let after = reach::client_reach(conn, &row)?;
    let widens = !after.is_subset(&before) || opens(&was, &row, ctx);
    if gate.waits(ctx, widens && gatepass(&after)) {
        return gate::file(conn, ctx, actor, &PendingChange::ChangeClient(request));
    }
    row.updated_at = ctx.now;
    keeping_an_admin(conn, ctx.now, |conn| {
        clients::update(conn, &row)?;
        events::record(conn, ctx.now, actor, Event::ClientChanged(&row.client_id))?;
        Ok(())
    })?;
    Ok(Outcome::Done(Client::of(&row, ctx.now)))
}

/// Whether a change lets a client do what it could not before with the same scopes:
/// re-enabled; an expiry undone (expired → live), moved later or removed; or the admin API
/// newly among the audiences its tokens may carry (no audiences means the issuer's).
fn opens(was: &ClientRow, now: &ClientRow, ctx: &Ctx) -> bool {
    let enabled = was.disabled && !now.disabled;
    let lives_longer = match (was.expires_at, now.expires_at) {
        (Some(_), None) => true,
        (Some(before), Some(after)) => after > before,
        (None, _) => false,
    };
    let reaches_admin =
        |row: &ClientRow| row.audiences.trim().is_empty() || row.audiences.split(' ').any(|a| a == ctx.admin_audience);
    enabled || lives_longer || (!reaches_admin(was) && reaches_admin(now))
}

/// Deletes a client and its secrets.
pub async fn delete(state: &AdminState, caller: &Caller<ClientsWrite>, client_id: String) -> Result<(), AdminError> {
    state
        .write(caller, "client.deleted", client_id.clone(), move |conn, ctx, actor| {
            let row = find(conn, &client_id)?;
            actor.may_act_on(&reach::client_reach(conn, &row)?)?;
            keeping_an_admin(conn, ctx.now, |conn| {
                clients::delete(conn, &client_id)?;
                events::record(conn, ctx.now, actor, Event::ClientDeleted(&client_id))?;
                Ok(())
            })
        })
        .await
}
