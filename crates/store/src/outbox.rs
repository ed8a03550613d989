//! The outbox: admin events that change what a credential may do, appended in the
//! transaction of the change, read by every node as its change feed.

use diesel::prelude::*;

use crate::schema::outbox;
use crate::{Conn, StoreError};

/// What a change is about: the cached credentials it makes stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A client (and its secrets), by client id.
    Client(String),
    /// A service account (its status or its roles), by id.
    ServiceAccount(String),
    /// A role (its scopes), by name.
    Role(String),
}

impl Subject {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::Client(id) => ("client", id),
            Self::ServiceAccount(id) => ("service_account", id),
            Self::Role(name) => ("role", name),
        }
    }

    fn of(kind: &str, id: String) -> Result<Self, StoreError> {
        match kind {
            "client" => Ok(Self::Client(id)),
            "service_account" => Ok(Self::ServiceAccount(id)),
            "role" => Ok(Self::Role(id)),
            other => Err(StoreError::Corrupt(format!("outbox subject {other:?}"))),
        }
    }
}

/// One event of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Its position: later changes have larger ones.
    pub seq: i64,
    /// What it is, e.g. `secret.revoked`.
    pub event: String,
    /// What it makes stale.
    pub subject: Subject,
}

/// Appends `event` about `subject`, in the caller's transaction. Callers hold the admin
/// lock (`AdminState::write`), so positions grow in commit order on every backend.
pub fn append(conn: &mut Conn, event: &str, subject: &Subject, now: i64) -> Result<(), StoreError> {
    let (kind, id) = subject.parts();
    diesel::insert_into(outbox::table)
        .values((
            outbox::event.eq(event),
            outbox::subject.eq(kind),
            outbox::subject_id.eq(id),
            outbox::occurred_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// At most `limit` changes after position `after`, oldest first: one indexed read.
pub fn after(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<Change>, StoreError> {
    let rows: Vec<(i64, String, String, String)> = outbox::table
        .filter(outbox::seq.gt(after))
        .order(outbox::seq.asc())
        .limit(limit)
        .select((outbox::seq, outbox::event, outbox::subject, outbox::subject_id))
        .load(conn)?;
    rows.into_iter()
        .map(|(seq, event, kind, id)| {
            Ok(Change {
                seq,
                event,
                subject: Subject::of(&kind, id)?,
            })
        })
        .collect()
}

/// The feed's bounds: the first and last positions still kept (`None` when it is empty).
pub fn bounds(conn: &mut Conn) -> Result<Option<(i64, i64)>, StoreError> {
    let (first, last): (Option<i64>, Option<i64>) = outbox::table
        .select((diesel::dsl::min(outbox::seq), diesel::dsl::max(outbox::seq)))
        .first(conn)?;
    Ok(first.zip(last))
}

/// Drops changes that happened before `before`; returns how many.
pub fn prune(conn: &mut Conn, before: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(outbox::table.filter(outbox::occurred_at.lt(before))).execute(conn)?)
}
