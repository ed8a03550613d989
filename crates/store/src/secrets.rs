//! Client secrets: several per client, stored only as their keyed hash.

use diesel::prelude::*;

use crate::schema::client_secrets;
use crate::{Conn, StoreError};

/// A secret as stored: never the secret, only `HMAC-SHA256(pepper, secret)`.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = client_secrets)]
#[allow(missing_docs)]
pub struct SecretRow {
    pub id: String,
    pub client_id: String,
    pub secret_hash: Vec<u8>,
    pub key_prefix: String,
    pub label: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub use_count: i64,
}

/// Adds a secret.
pub fn insert(conn: &mut Conn, row: &SecretRow) -> Result<(), StoreError> {
    diesel::insert_into(client_secrets::table).values(row).execute(conn)?;
    Ok(())
}

/// The secrets of a client, oldest first.
pub fn list_for_client(conn: &mut Conn, client_id: &str) -> Result<Vec<SecretRow>, StoreError> {
    Ok(client_secrets::table
        .filter(client_secrets::client_id.eq(client_id))
        .order(client_secrets::created_at.asc())
        .select(SecretRow::as_select())
        .load(conn)?)
}

/// Every secret of every client, by client then age (for export).
pub fn list_all(conn: &mut Conn) -> Result<Vec<SecretRow>, StoreError> {
    Ok(client_secrets::table
        .order((client_secrets::client_id.asc(), client_secrets::created_at.asc()))
        .select(SecretRow::as_select())
        .load(conn)?)
}

/// A page of every secret of every client, by client then id (creation order), after the
/// (`client_id`, `id`) cursor, at most `limit`: exports read them page by page.
pub fn list_page(conn: &mut Conn, after: Option<(String, String)>, limit: i64) -> Result<Vec<SecretRow>, StoreError> {
    let mut query = client_secrets::table.select(SecretRow::as_select()).into_boxed();
    if let Some((client_id, id)) = after {
        query = query.filter(
            client_secrets::client_id
                .gt(client_id.clone())
                .or(client_secrets::client_id.eq(client_id).and(client_secrets::id.gt(id))),
        );
    }
    Ok(query
        .order((client_secrets::client_id.asc(), client_secrets::id.asc()))
        .limit(limit)
        .load(conn)?)
}

/// One secret of a client.
pub fn get(conn: &mut Conn, client_id: &str, secret_id: &str) -> Result<Option<SecretRow>, StoreError> {
    Ok(client_secrets::table
        .find(secret_id)
        .filter(client_secrets::client_id.eq(client_id))
        .select(SecretRow::as_select())
        .first(conn)
        .optional()?)
}

/// Deletes a secret permanently; returns whether it existed.
pub fn delete(conn: &mut Conn, client_id: &str, secret_id: &str) -> Result<bool, StoreError> {
    let deleted = diesel::delete(
        client_secrets::table
            .find(secret_id)
            .filter(client_secrets::client_id.eq(client_id)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Why a rotation was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RotationRefused {
    /// No such client.
    UnknownClient,
    /// The client already has this many usable secrets.
    LimitReached(usize),
}

/// Adds a secret to a client unless it already has `max_usable` usable (not revoked, not
/// expired) secrets; with `others_expire_at`, every other usable secret expires then (the
/// grace period). One transaction holding the client's row lock, so two admins rotating
/// the same client on two nodes at once can never exceed the limit or lose a secret.
pub fn rotate(
    conn: &mut Conn,
    row: &SecretRow,
    max_usable: usize,
    others_expire_at: Option<i64>,
    now: i64,
) -> Result<Result<(), RotationRefused>, StoreError> {
    use crate::schema::clients;
    conn.transaction(|conn| {
        // Locks the client row (PostgreSQL) or the database (SQLite) for this transaction.
        let locked = diesel::update(clients::table.find(&row.client_id))
            .set(clients::updated_at.eq(now))
            .execute(conn)?;
        if locked == 0 {
            return Ok(Err(RotationRefused::UnknownClient));
        }
        let usable = client_secrets::table
            .filter(client_secrets::client_id.eq(&row.client_id))
            .filter(client_secrets::revoked_at.is_null())
            .filter(
                client_secrets::expires_at
                    .is_null()
                    .or(client_secrets::expires_at.gt(now)),
            )
            .select(client_secrets::id)
            .load::<String>(conn)?;
        if usable.len() >= max_usable {
            return Ok(Err(RotationRefused::LimitReached(max_usable)));
        }
        if let Some(at) = others_expire_at {
            diesel::update(
                client_secrets::table.filter(client_secrets::id.eq_any(&usable)).filter(
                    client_secrets::expires_at
                        .is_null()
                        .or(client_secrets::expires_at.gt(at)),
                ),
            )
            .set(client_secrets::expires_at.eq(at))
            .execute(conn)?;
        }
        diesel::insert_into(client_secrets::table).values(row).execute(conn)?;
        Ok(Ok(()))
    })
}

/// Revokes a secret now; returns whether it existed and was not revoked already.
pub fn revoke(conn: &mut Conn, secret_id: &str, now: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(
        client_secrets::table
            .find(secret_id)
            .filter(client_secrets::revoked_at.is_null()),
    )
    .set(client_secrets::revoked_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Uses of one secret since the last flush.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageDelta {
    /// The secret.
    pub secret_id: String,
    /// Its client.
    pub client_id: String,
    /// How many tokens it got.
    pub count: i64,
    /// The latest use (seconds since the epoch).
    pub last_used_at: i64,
}

/// Adds usage counted by one node: increments are additive, so several nodes flushing
/// their own counts add up; `last_used_at` only moves forward.
pub fn add_usage(conn: &mut Conn, deltas: &[UsageDelta]) -> Result<(), StoreError> {
    use crate::schema::clients;
    conn.transaction(|conn| {
        for d in deltas {
            diesel::update(client_secrets::table.find(&d.secret_id))
                .set(client_secrets::use_count.eq(client_secrets::use_count + d.count))
                .execute(conn)?;
            diesel::update(
                client_secrets::table.find(&d.secret_id).filter(
                    client_secrets::last_used_at
                        .is_null()
                        .or(client_secrets::last_used_at.lt(d.last_used_at)),
                ),
            )
            .set(client_secrets::last_used_at.eq(d.last_used_at))
            .execute(conn)?;
            diesel::update(
                clients::table.find(&d.client_id).filter(
                    clients::last_used_at
                        .is_null()
                        .or(clients::last_used_at.lt(d.last_used_at)),
                ),
            )
            .set(clients::last_used_at.eq(d.last_used_at))
            .execute(conn)?;
        }
        Ok(())
    })
}
