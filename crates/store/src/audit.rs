//! The append-only audit log.

use diesel::prelude::*;

use crate::schema::{audit_events, locks};
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

/// Deletes at most `batch` events that occurred before `before` (seconds since the epoch);
/// returns how many.
pub fn prune(conn: &mut Conn, before: i64, batch: i64) -> Result<usize, StoreError> {
    let oldest = audit_events::table
        .select(audit_events::id)
        .filter(audit_events::occurred_at.lt(before))
        .order(audit_events::occurred_at)
        .limit(batch)
        .load::<String>(conn)?;
    if oldest.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(audit_events::table.filter(audit_events::id.eq_any(&oldest))).execute(conn)?)
}

/// Takes the lease `name` until `now + hold` (seconds) if nobody holds it at `now`: one
/// node at a time does a periodic job, without waiting on a lock. `true`: this caller has it.
pub fn take_lease(conn: &mut Conn, name: &str, now: i64, hold: i64) -> Result<bool, StoreError> {
    let taken = diesel::update(locks::table.find(name).filter(locks::touched_at.le(now)))
        .set(locks::touched_at.eq(now + hold))
        .execute(conn)?;
    if taken == 1 {
        return Ok(true);
    }
    match diesel::insert_into(locks::table)
        .values((locks::name.eq(name), locks::touched_at.eq(now + hold)))
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Commits a one-row write (a heartbeat in `locks`): fails when the database cannot take
/// writes (disk full, read-only, a lock held too long).
pub fn probe_write(conn: &mut Conn, now: i64) -> Result<(), StoreError> {
    let name = "write_probe";
    let changed = diesel::update(locks::table.find(name))
        .set(locks::touched_at.eq(now))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(locks::table)
            .values((locks::name.eq(name), locks::touched_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
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
