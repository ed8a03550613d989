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

/// Replaces the details of aggregated events (a running count), inserting those that are
/// not there (their first write was lost): one transaction.
pub fn amend(conn: &mut Conn, events: &[AuditEventRow]) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        for event in events {
            let changed = diesel::update(audit_events::table.find(&event.id))
                .set(audit_events::details.eq(&event.details))
                .execute(conn)?;
            if changed == 0 {
                diesel::insert_into(audit_events::table).values(event).execute(conn)?;
            }
        }
        Ok(())
    })
}

/// Which audit events a listing wants; every field narrows.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// At or after (seconds since the epoch).
    pub since: Option<i64>,
    /// Before (seconds since the epoch).
    pub until: Option<i64>,
    /// This actor.
    pub actor: Option<String>,
    /// This action.
    pub action: Option<String>,
    /// This target.
    pub target: Option<String>,
    /// Older than this event id (the cursor; ids sort by time).
    pub before_id: Option<String>,
}

/// Events matching `filter`, newest first, at most `limit`.
pub fn search(conn: &mut Conn, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEventRow>, StoreError> {
    let mut query = audit_events::table.select(AuditEventRow::as_select()).into_boxed();
    if let Some(since) = filter.since {
        query = query.filter(audit_events::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::occurred_at.lt(until));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_events::actor.eq(actor.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(target) = &filter.target {
        query = query.filter(audit_events::target.eq(target.clone()));
    }
    if let Some(before) = &filter.before_id {
        query = query.filter(audit_events::id.lt(before.clone()));
    }
    Ok(query.order(audit_events::id.desc()).limit(limit).load(conn)?)
}

/// Events, newest first, optionally only those with `action`.
pub fn list(conn: &mut Conn, action: Option<&str>, limit: i64) -> Result<Vec<AuditEventRow>, StoreError> {
    search(
        conn,
        &AuditFilter {
            action: action.map(str::to_owned),
            ..AuditFilter::default()
        },
        limit,
    )
}
