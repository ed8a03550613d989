//! What an object can reach — the scopes a caller must be able to grant before it may act
//! on it (docs/design.md §10) — and the one invariant every write keeps: the house is never locked.

use gatepass_core::ScopeSet;
use gatepass_core::policy::allowed_scopes;
use gatepass_store::clients::ClientRow;
use gatepass_store::{Conn, clients, credentials, roles, service_accounts};

use crate::access::ADMIN;
use crate::problem::{AdminError, invalid};

/// Whether a set holds a `gatepass:*` scope (what four-eyes guards).
pub fn gatepass(scopes: &ScopeSet) -> bool {
    scopes.iter().any(|s| s.as_str().starts_with("gatepass:"))
}

fn stored(text: &str, what: &str) -> Result<ScopeSet, AdminError> {
    ScopeSet::parse(text).map_err(|_| AdminError::Internal(format!("stored scopes of {what} are unreadable")))
}

/// The scopes of the named roles together; an unknown role is a refusal naming `roles`.
pub fn roles_reach(conn: &mut Conn, names: &[String]) -> Result<ScopeSet, AdminError> {
    let mut all = Vec::new();
    for name in names {
        let role = roles::get(conn, name)?.ok_or_else(|| invalid("roles", format!("no role named {name:?}")))?;
        all.extend(stored(&role.scopes, "a role")?.iter().cloned());
    }
    Ok(all.into_iter().collect())
}

/// A service account's reach: its roles' scopes.
pub fn account_reach(conn: &mut Conn, id: &str) -> Result<ScopeSet, AdminError> {
    let names = service_accounts::role_names(conn, id)?;
    roles_reach(conn, &names)
}

/// A client's reach: its effective scopes (its own list ∩ its service account's roles).
pub fn client_reach(conn: &mut Conn, client: &ClientRow) -> Result<ScopeSet, AdminError> {
    let own = stored(&client.scopes, "a client")?;
    let roles = client
        .service_account_id
        .as_deref()
        .map(|id| account_reach(conn, id))
        .transpose()?;
    Ok(allowed_scopes(&own, roles.as_ref()))
}

/// How many clients could sign in as `gatepass:admin` right now: effectively holding
/// `gatepass:admin`, with a secret that stands (the token endpoint's rule: the secret, the
/// client and its service account all usable).
pub(crate) fn standing_admins(conn: &mut Conn, now: i64) -> Result<usize, AdminError> {
    let mut count = 0;
    for client in clients::holding_scope(conn, ADMIN)? {
        if !client_reach(conn, &client)?.contains(ADMIN) {
            continue;
        }
        let records = credentials::of_client(conn, &client.client_id)?;
        if records.iter().any(|record| record.standing().check(now).is_ok()) {
            count += 1;
        }
    }
    Ok(count)
}

/// Runs a write that could take admin power away, and refuses it (the transaction rolls
/// back) when it would leave no client standing with `gatepass:admin` where there was one.
pub fn keeping_an_admin<T>(
    conn: &mut Conn,
    now: i64,
    write: impl FnOnce(&mut Conn) -> Result<T, AdminError>,
) -> Result<T, AdminError> {
    let before = standing_admins(conn, now)?;
    let done = write(conn)?;
    if before > 0 && standing_admins(conn, now)? == 0 {
        return Err(AdminError::LastAdmin);
    }
    Ok(done)
}
