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
