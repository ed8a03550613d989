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
