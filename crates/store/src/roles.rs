//! Roles: a name and a set of scopes.

use diesel::prelude::*;

use crate::schema::roles;
use crate::{Conn, StoreError};

/// A role as stored; scopes are space-separated.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = roles)]
#[allow(missing_docs)]
pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub scopes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Adds a role.
pub fn insert(conn: &mut Conn, row: &RoleRow) -> Result<(), StoreError> {
    diesel::insert_into(roles::table).values(row).execute(conn)?;
    Ok(())
}

/// Every role, by name.
pub fn list(conn: &mut Conn) -> Result<Vec<RoleRow>, StoreError> {
    Ok(roles::table
        .order(roles::name.asc())
        .select(RoleRow::as_select())
        .load(conn)?)
}

/// The role with this name, if any.
pub fn get(conn: &mut Conn, name: &str) -> Result<Option<RoleRow>, StoreError> {
    Ok(roles::table
        .find(name)
        .select(RoleRow::as_select())
        .first(conn)
        .optional()?)
}

/// Changes a role's description and scopes; returns whether it exists.
pub fn update(conn: &mut Conn, row: &RoleRow) -> Result<bool, StoreError> {
    let changed = diesel::update(roles::table.find(&row.name))
        .set((
            roles::description.eq(&row.description),
            roles::scopes.eq(&row.scopes),
            roles::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes a role (and its assignments); returns whether it existed.
pub fn delete(conn: &mut Conn, name: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(roles::table.find(name)).execute(conn)? == 1)
}
