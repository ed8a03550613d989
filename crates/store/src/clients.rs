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

/// Every client id (for the token endpoint's set of ids that exist).
pub fn ids(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    Ok(clients::table.select(clients::client_id).load(conn)?)
}

/// The client with this id, if any.
pub fn get(conn: &mut Conn, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
    Ok(clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?)
}

/// Which clients a listing wants.
#[derive(Clone, Debug, Default)]
pub struct ClientFilter {
    /// Only clients with this label (`key`, `value`).
    pub label: Option<(String, String)>,
    /// Only disabled (`Some(true)`) or enabled (`Some(false)`) clients.
    pub disabled: Option<bool>,
    /// Only clients whose `client_id` sorts after this one (the cursor).
    pub after: Option<String>,
}

/// A page of clients in `client_id` order (creation order), at most `limit`.
pub fn list(conn: &mut Conn, filter: &ClientFilter, limit: i64) -> Result<Vec<ClientRow>, StoreError> {
    let mut query = clients::table.select(ClientRow::as_select()).into_boxed();
    if let Some(after) = &filter.after {
        query = query.filter(clients::client_id.gt(after.clone()));
    }
    if let Some(disabled) = filter.disabled {
        query = query.filter(clients::disabled.eq(disabled));
    }
    if let Some((key, value)) = &filter.label {
        // Labels are stored as canonical JSON (sorted keys, no spaces), so one pair is a
        // fixed substring; LIKE wildcards in it are escaped.
        let pair = format!(
            "{}:{}",
            serde_json::Value::from(key.as_str()),
            serde_json::Value::from(value.as_str())
        );
        let escaped = pair.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        query = query.filter(clients::labels.like(format!("%{escaped}%")).escape('\\'));
    }
    Ok(query.order(clients::client_id.asc()).limit(limit).load(conn)?)
}

/// Replaces a client's changeable fields; returns whether it exists.
pub fn update(conn: &mut Conn, row: &ClientRow) -> Result<bool, StoreError> {
    let changed = diesel::update(clients::table.find(&row.client_id))
        .set((
            clients::name.eq(&row.name),
            clients::scopes.eq(&row.scopes),
            clients::audiences.eq(&row.audiences),
            clients::labels.eq(&row.labels),
            clients::token_ttl_seconds.eq(row.token_ttl_seconds),
            clients::disabled.eq(row.disabled),
            clients::expires_at.eq(row.expires_at),
            clients::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes a client and (by cascade) its secrets; returns whether it existed.
pub fn delete(conn: &mut Conn, client_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(clients::table.find(client_id)).execute(conn)? == 1)
}

/// Every client whose own scope list holds `scope` (few: used for the last-admin check).
pub fn holding_scope(conn: &mut Conn, scope: &str) -> Result<Vec<ClientRow>, StoreError> {
    let candidates = clients::table
        .filter(clients::scopes.like(format!("%{scope}%")))
        .select(ClientRow::as_select())
        .load::<ClientRow>(conn)?;
    Ok(candidates
        .into_iter()
        .filter(|row| row.scopes.split_whitespace().any(|s| s == scope))
        .collect())
}

/// Whether a client already has this name (names are unique).
pub fn name_taken(conn: &mut Conn, name: &str) -> Result<bool, StoreError> {
    let count: i64 = clients::table.filter(clients::name.eq(name)).count().get_result(conn)?;
    Ok(count > 0)
}
