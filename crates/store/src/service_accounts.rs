//! Service accounts: non-human identities that clients belong to.

use diesel::prelude::*;

use crate::schema::{service_account_roles, service_accounts};
use crate::{Conn, StoreError};

/// A service account as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_accounts)]
#[allow(missing_docs)]
pub struct ServiceAccountRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Adds a service account with its roles, in one transaction.
pub fn insert(conn: &mut Conn, row: &ServiceAccountRow, roles: &[String]) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::insert_into(service_accounts::table).values(row).execute(conn)?;
        for role in roles {
            diesel::insert_into(service_account_roles::table)
                .values((
                    service_account_roles::service_account_id.eq(&row.id),
                    service_account_roles::role_name.eq(role),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Enables or disables a service account; returns whether it exists.
pub fn set_disabled(conn: &mut Conn, id: &str, disabled: bool, now: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(service_accounts::table.find(id))
        .set((
            service_accounts::disabled.eq(disabled),
            service_accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// The service account with this id, if any.
pub fn get(conn: &mut Conn, id: &str) -> Result<Option<ServiceAccountRow>, StoreError> {
    Ok(service_accounts::table
        .find(id)
        .select(ServiceAccountRow::as_select())
        .first(conn)
        .optional()?)
}
