//! Four-eyes requests waiting for a second admin.

use diesel::prelude::*;

use crate::schema::approvals;
use crate::{Conn, StoreError};

/// A request as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = approvals)]
#[allow(missing_docs)]
pub struct ApprovalRow {
    pub id: String,
    pub action: String,
    pub payload: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// The requester's service account when the request was filed.
    pub requested_by_service_account: Option<String>,
}

/// Adds a pending request.
pub fn insert(conn: &mut Conn, row: &ApprovalRow) -> Result<(), StoreError> {
    diesel::insert_into(approvals::table).values(row).execute(conn)?;
    Ok(())
}

/// One request.
pub fn get(conn: &mut Conn, id: &str) -> Result<Option<ApprovalRow>, StoreError> {
    Ok(approvals::table
        .find(id)
        .select(ApprovalRow::as_select())
        .first(conn)
        .optional()?)
}

/// Requests, newest first, optionally only those with `status`.
pub fn list(conn: &mut Conn, status: Option<&str>) -> Result<Vec<ApprovalRow>, StoreError> {
    let mut query = approvals::table.select(ApprovalRow::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(approvals::status.eq(status.to_owned()));
    }
    Ok(query.order(approvals::id.desc()).load(conn)?)
}

/// Decides a pending request; returns false if it was not pending (decided already, by
/// someone else, perhaps on another node).
pub fn decide(conn: &mut Conn, id: &str, status: &str, by: &str, at: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(approvals::table.find(id).filter(approvals::status.eq("pending")))
        .set((
            approvals::status.eq(status),
            approvals::decided_by.eq(by),
            approvals::decided_at.eq(at),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}
