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

/// The service account with this id, if any.
pub fn get(conn: &mut Conn, id: &str) -> Result<Option<ServiceAccountRow>, StoreError> {
    Ok(service_accounts::table
        .find(id)
        .select(ServiceAccountRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every service account with its role names, by name.
pub fn list(conn: &mut Conn) -> Result<Vec<(ServiceAccountRow, Vec<String>)>, StoreError> {
    let accounts = service_accounts::table
        .order(service_accounts::name.asc())
        .select(ServiceAccountRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(accounts.len());
    for account in accounts {
        let roles = role_names(conn, &account.id)?;
        out.push((account, roles));
    }
    Ok(out)
}

/// The role names of a service account.
pub fn role_names(conn: &mut Conn, id: &str) -> Result<Vec<String>, StoreError> {
    Ok(service_account_roles::table
        .filter(service_account_roles::service_account_id.eq(id))
        .order(service_account_roles::role_name.asc())
        .select(service_account_roles::role_name)
        .load(conn)?)
}

/// Changes name, description, status and roles, in one transaction; returns whether it exists.
pub fn update(conn: &mut Conn, row: &ServiceAccountRow, roles: &[String]) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let changed = diesel::update(service_accounts::table.find(&row.id))
            .set((
                service_accounts::name.eq(&row.name),
                service_accounts::description.eq(&row.description),
                service_accounts::disabled.eq(row.disabled),
                service_accounts::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Ok(false);
        }
        diesel::delete(service_account_roles::table.filter(service_account_roles::service_account_id.eq(&row.id)))
            .execute(conn)?;
        for role in roles {
            diesel::insert_into(service_account_roles::table)
                .values((
                    service_account_roles::service_account_id.eq(&row.id),
                    service_account_roles::role_name.eq(role),
                ))
                .execute(conn)?;
        }
        Ok(true)
    })
}

/// Deletes a service account; one that still has clients is a [`StoreError::Conflict`]
/// (checked here rather than left to the foreign key, whose error differs per backend).
pub fn delete(conn: &mut Conn, id: &str) -> Result<bool, StoreError> {
    use crate::schema::clients;
    conn.transaction(|conn| {
        let clients: i64 = clients::table
            .filter(clients::service_account_id.eq(id))
            .count()
            .get_result(conn)?;
        if clients > 0 {
            return Err(StoreError::Conflict(format!(
                "service account {id} still has {clients} clients"
            )));
        }
        Ok(diesel::delete(service_accounts::table.find(id)).execute(conn)? == 1)
    })
}
