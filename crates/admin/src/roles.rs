//! Roles: a name and a set of scopes, assigned to service accounts. A role's reach is its
//! scopes: acting on one needs them all.

use gatepass_core::ScopeSet;
use gatepass_store::Conn;
use gatepass_store::roles::{self, RoleRow};

use crate::access::{Caller, DirectoryRead, Principal, ServiceAccountsWrite};
use crate::events::{self, Event};
use crate::gate::{self, Gate};
use crate::problem::AdminError;
use crate::reach::{gatepass, keeping_an_admin};
use crate::requests::{ChangeRole, CreateRole, PendingChange, RoleChange};
use crate::views::{Page, Role};
use crate::{AdminState, Ctx, Outcome, fields};

fn stored_scopes(row: &RoleRow) -> Result<ScopeSet, AdminError> {
    ScopeSet::parse(&row.scopes).map_err(|_| AdminError::Internal(format!("role {} has unreadable scopes", row.name)))
}

/// Creates a role.
pub async fn create(
    state: &AdminState,
    caller: &Caller<ServiceAccountsWrite>,
    input: CreateRole,
) -> Result<Outcome<Role>, AdminError> {
    state
        .write(caller, "role.created", input.name.clone(), move |conn, ctx, actor| {
            create_in(conn, ctx, actor, Gate::Check, input)
        })
        .await
}

pub(crate) fn create_in(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    gate: Gate,
    input: CreateRole,
) -> Result<Outcome<Role>, AdminError> {
    let name = fields::slug(&input.name)?;
    let description = fields::description(&input.description)?;
    let scopes = fields::scopes(&input.scopes)?;
    actor.may_grant(&scopes)?;
    if gate.waits(ctx, gatepass(&scopes)) {
        return gate::file(conn, ctx, actor, &PendingChange::CreateRole(input));
    }
    let row = RoleRow {
        name,
        description,
        scopes: scopes.to_string(),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    roles::insert(conn, &row)?;
    events::record(conn, ctx.now, actor, Event::RoleCreated(&row.name))?;
    Ok(Outcome::Done(Role::of(&row)))
}

/// Every role.
pub async fn list(state: &AdminState, _: &Caller<DirectoryRead>) -> Result<Page<Role>, AdminError> {
    state
        .read(|conn, _| {
            Ok(Page {
                items: roles::list(conn)?.iter().map(Role::of).collect(),
                next_cursor: None,
            })
        })
        .await
}

fn find(conn: &mut Conn, name: &str) -> Result<RoleRow, AdminError> {
    roles::get(conn, name)?.ok_or(AdminError::NotFound("role"))
}

/// Reads a role.
pub async fn read(state: &AdminState, _: &Caller<DirectoryRead>, name: String) -> Result<Role, AdminError> {
    state.read(move |conn, _| Ok(Role::of(&find(conn, &name)?))).await
}

/// Changes a role's description or scopes.
pub async fn change(
    state: &AdminState,
    caller: &Caller<ServiceAccountsWrite>,
    name: String,
    change: ChangeRole,
) -> Result<Outcome<Role>, AdminError> {
    state
        .write(caller, "role.changed", name.clone(), move |conn, ctx, actor| {
            change_in(conn, ctx, actor, Gate::Check, RoleChange { name, change })
        })
        .await
}

pub(crate) fn change_in(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    gate: Gate,
    request: RoleChange,
) -> Result<Outcome<Role>, AdminError> {
    let mut row = find(conn, &request.name)?;
    let before = stored_scopes(&row)?;
    actor.may_act_on(&before)?;
    if let Some(value) = &request.change.description {
        row.description = fields::description(value)?;
    }
    let mut after = before.clone();
    if let Some(values) = &request.change.scopes {
        after = fields::scopes(values)?;
        actor.may_grant(&after)?;
        row.scopes = after.to_string();
    }
    if gate.waits(ctx, gatepass(&after) && !after.is_subset(&before)) {
        return gate::file(conn, ctx, actor, &PendingChange::ChangeRole(request));
    }
    row.updated_at = ctx.now;
    keeping_an_admin(conn, ctx.now, |conn| {
        roles::update(conn, &row)?;
        events::record(conn, ctx.now, actor, Event::RoleChanged(&row.name))?;
        Ok(())
    })?;
    Ok(Outcome::Done(Role::of(&row)))
}

/// Deletes a role.
pub async fn delete(state: &AdminState, caller: &Caller<ServiceAccountsWrite>, name: String) -> Result<(), AdminError> {
    state
        .write(caller, "role.deleted", name.clone(), move |conn, ctx, actor| {
            let row = find(conn, &name)?;
            actor.may_act_on(&stored_scopes(&row)?)?;
            keeping_an_admin(conn, ctx.now, |conn| {
                roles::delete(conn, &name)?;
                events::record(conn, ctx.now, actor, Event::RoleDeleted(&name))?;
                Ok(())
            })
        })
        .await
}
