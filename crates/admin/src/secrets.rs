//! A client's secrets: rotate (add one, with a grace period for the older ones), list,
//! revoke, delete; and the report of secrets due for rotation. Every write needs the caller
//! to hold everything the client can reach.

use gatepass_core::ClientSecret;
use gatepass_store::Conn;
use gatepass_store::secrets::{self, RotationRefused, SecretRow};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::{Caller, ClientsRead, ClientsWrite, Principal};
use crate::clients::find;
use crate::events::{self, Event};
use crate::gate::{self, Gate};
use crate::problem::AdminError;
use crate::reach::{self, gatepass, keeping_an_admin};
use crate::requests::{CreateSecret, PendingChange, SecretRequest};
use crate::views::{CreatedSecret, Page, Secret};
use crate::{AdminState, Ctx, Outcome, fields};

/// A secret used this recently needs `force=true` to be deleted.
const RECENT_USE: i64 = 24 * 3600;

/// `force=true` deletes a secret used in the last 24 hours.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Delete even if used in the last 24 hours.
    #[serde(default)]
    pub force: bool,
}

/// Rotates: adds a secret, shown once.
pub async fn create(
    state: &AdminState,
    caller: &Caller<ClientsWrite>,
    client_id: String,
    input: CreateSecret,
) -> Result<Outcome<CreatedSecret>, AdminError> {
    state
        .write(caller, "secret.created", client_id.clone(), move |conn, ctx, actor| {
            create_in(
                conn,
                ctx,
                actor,
                Gate::Check,
                SecretRequest {
                    client_id,
                    secret: input,
                },
            )
        })
        .await
}

pub(crate) fn create_in(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    gate: Gate,
    request: SecretRequest,
) -> Result<Outcome<CreatedSecret>, AdminError> {
    let input = &request.secret;
    let label = input.label.as_deref().map(fields::secret_label).transpose()?;
    let expires_at = input
        .expires_at
        .as_deref()
        .map(|at| fields::future("expires_at", at, ctx.now))
        .transpose()?;
    let others_expire_at = input
        .grace_period_seconds
        .map(fields::grace_period)
        .transpose()?
        .map(|grace| ctx.now + grace);
    let client = find(conn, &request.client_id)?;
    let reach = reach::client_reach(conn, &client)?;
    actor.may_act_on(&reach)?;
    if gate.waits(ctx, gatepass(&reach)) {
        return gate::file(conn, ctx, actor, &PendingChange::CreateSecret(request));
    }
    let secret = ClientSecret::generate(&ctx.secret_prefix)
        .map_err(|_| AdminError::Internal("no randomness available".into()))?;
    let row = SecretRow {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client.client_id.clone(),
        secret_hash: ctx.pepper.hash(&secret).0.to_vec(),
        key_prefix: secret.key_prefix().to_owned(),
        label,
        created_at: ctx.now,
        expires_at,
        revoked_at: None,
        last_used_at: None,
        use_count: 0,
    };
    match secrets::rotate(conn, &row, ctx.max_secrets, others_expire_at, ctx.now)? {
        Ok(()) => {}
        Err(RotationRefused::UnknownClient) => return Err(AdminError::NotFound("client")),
        Err(RotationRefused::LimitReached(max)) => {
            return Err(AdminError::Conflict(format!(
                "the client already has {max} usable secrets; revoke one or rotate with a grace period that lets older ones expire first"
            )));
        }
    }
    events::record(conn, ctx.now, actor, Event::SecretCreated(&client.client_id))?;
    Ok(Outcome::Done(CreatedSecret {
        secret: Secret::of(&row, ctx.moment()),
        client_secret: secret.expose().to_owned(),
    }))
}

/// A client's secrets: metadata only, never a secret.
pub async fn list(state: &AdminState, _: &Caller<ClientsRead>, client_id: String) -> Result<Page<Secret>, AdminError> {
    state
        .read(move |conn, ctx| {
            let client = find(conn, &client_id)?;
            let rows = secrets::list_for_client(conn, &client.client_id)?;
            Ok(Page {
                items: rows.iter().map(|r| Secret::of(r, ctx.moment())).collect(),
                next_cursor: None,
            })
        })
        .await
}

/// The client and its secret, after the target check.
fn acted_on(conn: &mut Conn, actor: &Principal, client_id: &str, secret_id: &str) -> Result<SecretRow, AdminError> {
    let client = find(conn, client_id)?;
    actor.may_act_on(&reach::client_reach(conn, &client)?)?;
    secrets::get(conn, client_id, secret_id)?.ok_or(AdminError::NotFound("secret"))
}

/// Revokes a secret now.
pub async fn revoke(
    state: &AdminState,
    caller: &Caller<ClientsWrite>,
    client_id: String,
    secret_id: String,
) -> Result<Secret, AdminError> {
    state
        .write(caller, "secret.revoked", client_id.clone(), move |conn, ctx, actor| {
            let row = acted_on(conn, actor, &client_id, &secret_id)?;
            keeping_an_admin(conn, ctx.now, |conn| {
                if secrets::revoke(conn, &secret_id, ctx.now)? {
                    events::record(conn, ctx.now, actor, Event::SecretRevoked(&client_id))?;
                }
                Ok(())
            })?;
            let row = secrets::get(conn, &client_id, &secret_id)?.unwrap_or(row);
            Ok(Secret::of(&row, ctx.moment()))
        })
        .await
}

/// Deletes a secret for good (`force` if it was used in the last 24 hours).
pub async fn delete(
    state: &AdminState,
    caller: &Caller<ClientsWrite>,
    client_id: String,
    secret_id: String,
    force: bool,
) -> Result<(), AdminError> {
    state
        .write(caller, "secret.deleted", client_id.clone(), move |conn, ctx, actor| {
            let row = acted_on(conn, actor, &client_id, &secret_id)?;
            if !force && row.last_used_at.is_some_and(|at| ctx.now - at < RECENT_USE) {
                return Err(AdminError::Conflict(
                    "this secret was used in the last 24 hours; pass force=true to delete it anyway".into(),
                ));
            }
            keeping_an_admin(conn, ctx.now, |conn| {
                secrets::delete(conn, &client_id, &secret_id)?;
                events::record(conn, ctx.now, actor, Event::SecretDeleted(&client_id))?;
                Ok(())
            })
        })
        .await
}

/// Every usable secret older than the rotation policy allows (empty when no policy is set).
pub async fn due(state: &AdminState, _: &Caller<ClientsRead>) -> Result<Page<Secret>, AdminError> {
    state
        .read(|conn, ctx| {
            let items = secrets::list_all(conn)?
                .iter()
                .map(|r| Secret::with_client(r, ctx.moment()))
                .filter(Secret::is_due)
                .collect();
            Ok(Page {
                items,
                next_cursor: None,
            })
        })
        .await
}
