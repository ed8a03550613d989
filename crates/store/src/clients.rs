//! API clients: the rows behind `client_id`s.

use diesel::prelude::*;

use crate::schema::clients;
use crate::{Conn, StoreError};

/// A client as stored. Scopes and audiences are space-separated; labels are a JSON object.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
#[allow(missing_docs)]
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub service_account_id: Option<String>,
    pub scopes: String,
    pub audiences: String,
    pub labels: String,
    pub token_ttl_seconds: Option<i64>,
    pub disabled: bool,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
}

/// Adds a client; a duplicate id or name is a [`StoreError::Conflict`].
pub fn insert(conn: &mut Conn, row: &ClientRow) -> Result<(), StoreError> {
    diesel::insert_into(clients::table).values(row).execute(conn)?;
    Ok(())
}

/// The client with this id, if any.
pub fn get(conn: &mut Conn, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
    Ok(clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?)
}

/// Enables or disables a client; returns whether it exists.
pub fn set_disabled(conn: &mut Conn, client_id: &str, disabled: bool, now: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(clients::table.find(client_id))
        .set((clients::disabled.eq(disabled), clients::updated_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}
