//! Service accounts: non-human identities whose roles bound their clients' scopes. A
//! service account's reach is the union of its roles' scopes: acting on one needs them all.

use gatepass_store::service_accounts::{self, ServiceAccountRow};
use gatepass_store::{Conn, StoreError};

use crate::access::{Caller, DirectoryRead, Principal, ServiceAccountsWrite};
use crate::events::{self, Event};
use crate::gate::{self, Gate};
use crate::problem::AdminError;
use crate::reach::{self, gatepass, keeping_an_admin};
use crate::requests::{AccountChange, ChangeServiceAccount, CreateServiceAccount, PendingChange};
use crate::views::{Page, ServiceAccount};
use crate::{AdminState, Ctx, Outcome, fields};

/// Creates a service account.
pub async fn create(
    state: &AdminState,
    caller: &Caller<ServiceAccountsWrite>,
    input: CreateServiceAccount,
) -> Result<Outcome<ServiceAccount>, AdminError> {
    state
        .write(
            caller,
            "service_account.created",
            input.name.clone(),
            move |conn, ctx, actor| create_in(conn, ctx, actor, Gate::Check, input),
        )
        .await
}

pub(crate) fn create_in(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    gate: Gate,
    input: CreateServiceAccount,
) -> Result<Outcome<ServiceAccount>, AdminError> {
    let name = fields::slug(&input.name)?;
    let description = fields::description(&input.description)?;
    actor.may_grant(&reach::roles_reach(conn, &input.roles)?)?;
    // Creating a service account always waits under four-eyes (docs/design.md §10).
    if gate.waits(ctx, true) {
        return gate::file(conn, ctx, actor, &PendingChange::CreateServiceAccount(input));
    }
    let row = ServiceAccountRow {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        description,
        disabled: false,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    service_accounts::insert(conn, &row, &input.roles)?;
    events::record(conn, ctx.now, actor, Event::ServiceAccountCreated(&row.id))?;
    Ok(Outcome::Done(ServiceAccount::of(&row, input.roles)))
}

/// Every service account.
pub async fn list(state: &AdminState, _: &Caller<DirectoryRead>) -> Result<Page<ServiceAccount>, AdminError> {
    state
        .read(|conn, _| {
            let items = service_accounts::list(conn)?
                .into_iter()
                .map(|(row, roles)| ServiceAccount::of(&row, roles))
                .collect();
            Ok(Page {
                items,
                next_cursor: None,
            })
        })
        .await
}

fn find(conn: &mut Conn, id: &str) -> Result<(ServiceAccountRow, Vec<String>), AdminError> {
    let row = service_accounts::get(conn, id)?.ok_or(AdminError::NotFound("service account"))?;
    let roles = service_accounts::role_names(conn, id)?;
    Ok((row, roles))
}

/// Reads a service account.
pub async fn read(state: &AdminState, _: &Caller<DirectoryRead>, id: String) -> Result<ServiceAccount, AdminError> {
    state
        .read(move |conn, _| {
            let (row, roles) = find(conn, &id)?;
            Ok(ServiceAccount::of(&row, roles))
        })
        .await
}

/// Changes a service account (name, description, roles, status).
pub async fn change(
    state: &AdminState,
    caller: &Caller<ServiceAccountsWrite>,
    id: String,
    change: ChangeServiceAccount,
) -> Result<Outcome<ServiceAccount>, AdminError> {
    state
        .write(
            caller,
            "service_account.changed",
            id.clone(),
            move |conn, ctx, actor| change_in(conn, ctx, actor, Gate::Check, AccountChange { id, change }),
        )
        .await
}

pub(crate) fn change_in(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    gate: Gate,
    request: AccountChange,
) -> Result<Outcome<ServiceAccount>, AdminError> {
    let (mut row, mut roles) = find(conn, &request.id)?;
    let before = reach::roles_reach(conn, &roles)?;
    actor.may_act_on(&before)?;
    let change = &request.change;
    let was_disabled = row.disabled;
    if let Some(value) = &change.name {
        row.name = fields::slug(value)?;
    }
    if let Some(value) = &change.description {
        row.description = fields::description(value)?;
    }
    let mut after = before.clone();
    if let Some(values) = &change.roles {
        after = reach::roles_reach(conn, values)?;
        actor.may_grant(&after)?;
        roles.clone_from(values);
    }
    if let Some(value) = &change.status {
        row.disabled = fields::disabled(value)?;
    }
    let widens = !after.is_subset(&before) || (was_disabled && !row.disabled);
    if gate.waits(ctx, widens && gatepass(&after)) {
        return gate::file(conn, ctx, actor, &PendingChange::ChangeServiceAccount(request));
    }
    row.updated_at = ctx.now;
    keeping_an_admin(conn, ctx.now, |conn| {
        service_accounts::update(conn, &row, &roles)?;
        events::record(conn, ctx.now, actor, Event::ServiceAccountChanged(&row.id))?;
        Ok(())
    })?;
    Ok(Outcome::Done(ServiceAccount::of(&row, roles)))
}

/// Deletes a service account that has no clients.
pub async fn delete(state: &AdminState, caller: &Caller<ServiceAccountsWrite>, id: String) -> Result<(), AdminError> {
    state
        .write(
            caller,
            "service_account.deleted",
            id.clone(),
            move |conn, ctx, actor| {
                let (_, roles) = find(conn, &id)?;
                actor.may_act_on(&reach::roles_reach(conn, &roles)?)?;
                keeping_an_admin(conn, ctx.now, |conn| {
                    service_accounts::delete(conn, &id).map_err(|e| match e {
                        StoreError::Conflict(_) => AdminError::Conflict(
                            "the service account still has clients; move or delete them first".into(),
                        ),
                        other => other.into(),
                    })?;
                    events::record(conn, ctx.now, actor, Event::ServiceAccountDeleted(&id))?;
                    Ok(())
                })
            },
        )
        .await
}
