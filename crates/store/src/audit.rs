//! The append-only audit log.

use diesel::prelude::*;

use crate::schema::audit_events;
use crate::{Conn, StoreError};

/// One audit event as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
#[allow(missing_docs)]
pub struct AuditEventRow {
    pub id: String,
    pub occurred_at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub source_addr: Option<String>,
    pub details: Option<String>,
}

/// Appends events in one transaction.
pub fn append(conn: &mut Conn, events: &[AuditEventRow]) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        // One statement per row: multi-row inserts are not portable across backends here.
        for event in events {
            diesel::insert_into(audit_events::table).values(event).execute(conn)?;
        }
        Ok(())
    })
}

/// Events, newest first, optionally only those with `action`.
pub fn list(conn: &mut Conn, action: Option<&str>, limit: i64) -> Result<Vec<AuditEventRow>, StoreError> {
    let mut query = audit_events::table.select(AuditEventRow::as_select()).into_boxed();
    if let Some(action) = action {
        query = query.filter(audit_events::action.eq(action.to_owned()));
    }
    Ok(query.order(audit_events::id.desc()).limit(limit).load(conn)?)
}
