//! Writing the audit log without making the token endpoint wait.
//!
//! Events wait in two bounded queues, written in batches by one task: a large one for
//! admin changes and events of real client ids, and a smaller one for anonymous callers
//! (aggregated failures of unknown ids, by address). The writer empties the first before
//! the second, and the anonymous queue fills up first, so noise never pushes out a real
//! client's events. An event that finds its queue full is dropped, counted in
//! `gatepass_audit_events_dropped_total`, and the writer records an `audit.dropped` event
//! with the count as soon as it can: nothing is lost silently. While the database does not
//! answer, the writer holds its batch and tries again until it is written.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gatepass_core::Clock;
use gatepass_store::Database;
use gatepass_store::audit::AuditEventRow;
use prometheus::{IntCounter, Registry};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// One thing worth recording.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent {
    /// Who did it: a client id, `cli`, or `anonymous`.
    pub actor: String,
    /// What: e.g. `token.revoked`.
    pub action: String,
    /// To what.
    pub target: Option<String>,
    /// `success` or `failure`.
    pub outcome: &'static str,
    /// Why, for failures.
    pub reason: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
    /// The caller's address.
    pub source_addr: Option<String>,
}

/// How a queued row is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// A new event.
    Insert,
    /// An aggregated event: its details are replaced (inserted if it is not there yet).
    Amend,
}

enum Message {
    Row(Box<AuditEventRow>, Write),
    Flush(oneshot::Sender<()>),
}

/// A handle to the audit writer.
#[derive(Clone)]
pub struct AuditLog {
    priority: mpsc::Sender<Message>,
    bulk: mpsc::Sender<Message>,
    dropped: Arc<Dropped>,
    clock: Arc<dyn Clock>,
}

/// Drops since the writer last reported them, and the counter of all drops.
struct Dropped {
    pending: AtomicU64,
    total: IntCounter,
}

/// Events of admins and real clients queued before the writer catches up.
pub const PRIORITY_QUEUE: usize = 65_536;
/// Events of anonymous callers queued before the writer catches up.
pub const BULK_QUEUE: usize = 8_192;
/// Rows written per transaction at most.
const BATCH: usize = 500;

impl AuditLog {
    /// Starts the writer task on the current runtime; registers
    /// `gatepass_audit_events_dropped_total` in `registry`.
    pub fn start(db: Database, clock: Arc<dyn Clock>, registry: &Registry) -> prometheus::Result<Self> {
        Self::start_with(db, clock, registry, PRIORITY_QUEUE, BULK_QUEUE)
    }

    fn start_with(
        db: Database,
        clock: Arc<dyn Clock>,
        registry: &Registry,
        priority_limit: usize,
        bulk_limit: usize,
    ) -> prometheus::Result<Self> {
        let total = IntCounter::new(
            "gatepass_audit_events_dropped_total",
            "Audit events dropped because the writer's queue was full",
        )?;
        registry.register(Box::new(total.clone()))?;
        let dropped = Arc::new(Dropped {
            pending: AtomicU64::new(0),
            total,
        });
        let (priority, priority_inbox) = mpsc::channel::<Message>(priority_limit);
        let (bulk, bulk_inbox) = mpsc::channel::<Message>(bulk_limit);
        tokio::spawn(writer(
            db,
            Arc::clone(&clock),
            Arc::clone(&dropped),
            priority_inbox,
            bulk_inbox,
        ));
        Ok(Self {
            priority,
            bulk,
            dropped,
            clock,
        })
    }

    /// Queues an event (an admin change or a real client's); never waits.
    pub fn record(&self, event: AuditEvent) {
        let row = AuditEventRow {
            id: Uuid::now_v7().to_string(),
            occurred_at: self.clock.now().unix_timestamp(),
            actor: event.actor,
            action: event.action,
            target: event.target,
            outcome: event.outcome.to_owned(),
            reason: event.reason,
            request_id: event.request_id,
            source_addr: event.source_addr,
            details: None,
        };
        self.queue(row, Write::Insert, true);
    }

    /// Queues a prepared row; `real` rows (admins, real client ids) go to the priority
    /// queue, the rest to the anonymous one. Never waits.
    pub fn queue(&self, row: AuditEventRow, write: Write, real: bool) {
        let queue = if real { &self.priority } else { &self.bulk };
        if let Err(mpsc::error::TrySendError::Full(Message::Row(row, _))) =
            queue.try_send(Message::Row(Box::new(row), write))
        {
            self.dropped.pending.fetch_add(1, Ordering::Relaxed);
            self.dropped.total.inc();
            log::warn!(
                "audit queue full, event dropped (counted, reported as audit.dropped) action={} real={real}",
                row.action
            );
        }
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.total.get()
    }

    /// Waits until everything queued so far is written (at shutdown, and in tests).
    pub async fn flush(&self) {
        for queue in [&self.priority, &self.bulk] {
            let (done, wait) = oneshot::channel();
            if queue.send(Message::Flush(done)).await.is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
            }
        }
    }
}

/// Takes the next message, the priority queue first.
async fn next(priority: &mut mpsc::Receiver<Message>, bulk: &mut mpsc::Receiver<Message>) -> Option<Message> {
    tokio::select! {
        biased;
        Some(message) = priority.recv() => Some(message),
        Some(message) = bulk.recv() => Some(message),
        else => None,
    }
}

async fn writer(
    db: Database,
    clock: Arc<dyn Clock>,
    dropped: Arc<Dropped>,
    mut priority: mpsc::Receiver<Message>,
    mut bulk: mpsc::Receiver<Message>,
) {
    while let Some(first) = next(&mut priority, &mut bulk).await {
        let mut batch = Vec::new();
        let mut waiters = Vec::new();
        let mut message = Some(first);
        while let Some(taken) = message.take() {
            match taken {
                Message::Row(row, write) => batch.push((*row, write)),
                Message::Flush(done) => waiters.push(done),
            }
            if batch.len() < BATCH {
                message = priority.try_recv().or_else(|_| bulk.try_recv()).ok();
            }
        }
        let lost = dropped.pending.swap(0, Ordering::Relaxed);
        if lost > 0 {
            batch.push((dropped_event(clock.now().unix_timestamp(), lost), Write::Insert));
        }
        if !batch.is_empty() {
            let count = batch.len();
            if !write(&db, batch).await {
                // Lost after retries (disk full, database gone): counted like a drop, and
                // reported by the next batch that can be written.
                let lost = u64::try_from(count).unwrap_or(u64::MAX);
                dropped.pending.fetch_add(lost, Ordering::Relaxed);
                dropped.total.inc_by(lost);
            }
        }
        for done in waiters {
            let _ = done.send(());
        }
    }
}

/// The summary of `count` events that could not be queued.
fn dropped_event(now: i64, count: u64) -> AuditEventRow {
    AuditEventRow {
        id: Uuid::now_v7().to_string(),
        occurred_at: now,
        actor: "gatepass".to_owned(),
        action: "audit.dropped".to_owned(),
        target: None,
        outcome: "failure".to_owned(),
        reason: Some("queue_full".to_owned()),
        request_id: None,
        source_addr: None,
        details: Some(serde_json::json!({ "count": count }).to_string()),
    }
}

/// How often a batch that fails for a bug of ours (not an outage) is tried.
const BUG_ATTEMPTS: u32 = 5;
/// The longest pause between two attempts.
const MOST_BACKOFF: Duration = Duration::from_secs(2);

/// Writes a batch; `false` when it was lost. While the database does not answer (an outage)
/// the batch is held and tried again until it is written, and new events wait in the
/// bounded queues meanwhile (a full queue drops and counts); a batch that fails for a bug
/// of ours is given up after a few tries.
async fn write(db: &Database, rows: Vec<(AuditEventRow, Write)>) -> bool {
    let count = rows.len();
    let (inserts, amends): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, write)| *write == Write::Insert);
    let inserts: Vec<AuditEventRow> = inserts.into_iter().map(|(row, _)| row).collect();
    let amends: Vec<AuditEventRow> = amends.into_iter().map(|(row, _)| row).collect();
    let mut attempt = 0u32;
    loop {
        let (inserts, amends) = (inserts.clone(), amends.clone());
        let written = db
            .run(move |conn| {
                gatepass_store::transaction(conn, |conn| {
                    gatepass_store::audit::append(conn, &inserts)?;
                    gatepass_store::audit::amend(conn, &amends)
                })
            })
            .await;
        let error = match written {
            Ok(()) => return true,
            Err(error) => error,
        };
        let fault = gatepass_store::Fault::from(error);
        let outage = fault.is_outage();
        attempt += 1;
        if !outage && attempt >= BUG_ATTEMPTS {
            log::error!("audit events lost after retries (counted as dropped) events={count} error={fault}");
            return false;
        }
        if attempt == 1 || attempt.is_multiple_of(30) {
            log::warn!("audit write failed; holding the events attempt={attempt} events={count} error={fault}");
        }
        let pause = Duration::from_millis(200 * u64::from(attempt)).min(MOST_BACKOFF);
        tokio::time::sleep(pause).await;
    }
}

/// The lease that lets one node at a time prune the audit log.
const RETENTION_LEASE: &str = "audit.retention";
/// How long a node holds it (seconds): the other nodes skip pruning meanwhile.
const RETENTION_HOLD: i64 = 600;
/// Events deleted per transaction, so pruning never holds a long lock.
const PRUNE_BATCH: i64 = 5_000;

/// Deletes the events older than `retention_days` before `now`, if this node gets the
/// retention lease (else `None`: another node is at it). Returns how many were deleted.
pub async fn prune(
    db: &Database,
    now: time::OffsetDateTime,
    retention_days: u32,
) -> Result<Option<usize>, gatepass_store::StoreError> {
    let now = now.unix_timestamp();
    let leased = db
        .run(move |conn| gatepass_store::audit::take_lease(conn, RETENTION_LEASE, now, RETENTION_HOLD))
        .await?;
    if !leased {
        return Ok(None);
    }
    let before = now - i64::from(retention_days) * 86_400;
    let mut deleted = 0;
    loop {
        let batch = db
            .run(move |conn| gatepass_store::audit::prune(conn, before, PRUNE_BATCH))
            .await?;
        deleted += batch;
        if batch < usize::try_from(PRUNE_BATCH).unwrap_or(usize::MAX) {
            return Ok(Some(deleted));
        }
    }
}

/// Runs until aborted: prunes the audit log (`audit.retention_days`, 0 = keep everything)
/// at start and then every `every`, judged by `clock`.
pub async fn retain(db: Database, clock: Arc<dyn Clock>, retention_days: u32, every: Duration) {
    if retention_days == 0 {
        return;
    }
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match prune(&db, clock.now(), retention_days).await {
            Ok(Some(deleted)) if deleted > 0 => {
                log::info!("audit events older than {retention_days} days pruned count={deleted}");
            }
            Ok(_) => {}
            Err(error) => log::warn!("audit retention failed error={error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use gatepass_core::SystemClock;
    use gatepass_store::testing::TestDatabase;
    use gatepass_store::{Database, DatabaseSettings};

    use super::*;

    fn row(actor: &str) -> AuditEventRow {
        AuditEventRow {
            id: Uuid::now_v7().to_string(),
            occurred_at: 0,
            actor: actor.to_owned(),
            action: "token.auth_failed".to_owned(),
            target: None,
            outcome: "failure".to_owned(),
            reason: None,
            request_id: None,
            source_addr: None,
            details: None,
        }
    }

    gatepass_store::both_backends! {
        async fn a_full_queue_drops_anonymous_events_first_and_reports_every_drop(backend) {
            let database = TestDatabase::create(backend).unwrap();
            let db = Database::open(&DatabaseSettings::new(&database.url)).unwrap();
            db.migrate().unwrap();
            let registry = Registry::new();
            let audit = AuditLog::start_with(db.clone(), Arc::new(SystemClock), &registry, 10, 4).unwrap();
            // The writer cannot run while this test does not yield: the queues fill up.
            for _ in 0..9 {
                audit.queue(row("anonymous"), Write::Insert, false);
            }
            for _ in 0..10 {
                audit.queue(row("gpc_real"), Write::Insert, true);
            }
            assert_eq!(audit.dropped(), 5, "only anonymous events were dropped");
            let metric = registry.gather().into_iter().find(|m| m.name() == "gatepass_audit_events_dropped_total").unwrap();
            assert!((metric.get_metric()[0].get_counter().get_value() - 5.0).abs() < f64::EPSILON);
            audit.flush().await;
            let events = gatepass_store::audit::list(&mut db.conn().unwrap(), None, 100).unwrap();
            assert_eq!(events.iter().filter(|e| e.actor == "gpc_real").count(), 10, "every real event written");
            assert_eq!(events.iter().filter(|e| e.actor == "anonymous").count(), 4);
            let summary: Vec<_> = events.iter().filter(|e| e.action == "audit.dropped").collect();
            assert_eq!(summary.len(), 1);
            assert_eq!(summary[0].details.as_deref(), Some(r#"{"count":5}"#));
        }

        async fn an_amended_event_keeps_its_id_and_takes_the_new_details(backend) {
            let database = TestDatabase::create(backend).unwrap();
            let db = Database::open(&DatabaseSettings::new(&database.url)).unwrap();
            db.migrate().unwrap();
            let audit = AuditLog::start(db.clone(), Arc::new(SystemClock), &Registry::new()).unwrap();
            let mut event = row("gpc_real");
            event.details = Some(r#"{"count":1}"#.to_owned());
            audit.queue(event.clone(), Write::Insert, true);
            event.details = Some(r#"{"count":7}"#.to_owned());
            audit.queue(event.clone(), Write::Amend, true);
            let mut lost = row("anonymous");
            lost.details = Some(r#"{"count":3}"#.to_owned());
            audit.queue(lost.clone(), Write::Amend, false);
            audit.flush().await;
            let events = gatepass_store::audit::list(&mut db.conn().unwrap(), None, 100).unwrap();
            assert_eq!(events.len(), 2);
            let found = |id: &str| events.iter().find(|e| e.id == id).unwrap().details.clone();
            assert_eq!(found(&event.id).as_deref(), Some(r#"{"count":7}"#));
            assert_eq!(found(&lost.id).as_deref(), Some(r#"{"count":3}"#), "an amend whose insert was lost inserts it");
        }

        async fn retention_prunes_old_events_one_node_at_a_time_by_the_clock(backend) {
            let database = TestDatabase::create(backend).unwrap();
            let db = Database::open(&DatabaseSettings::new(&database.url)).unwrap();
            db.migrate().unwrap();
            let clock = gatepass_core::ManualClock::new(time::OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap());
            let day = 86_400;
            let rows: Vec<AuditEventRow> = [-401 * day, -400 * day - 1, -400 * day + 1, -day, 0]
                .iter()
                .map(|age| AuditEventRow { occurred_at: 1_900_000_000 + age, ..row("cli") })
                .collect();
            gatepass_store::audit::append(&mut db.conn().unwrap(), &rows).unwrap();
            assert_eq!(prune(&db, clock.now(), 400).await.unwrap(), Some(2));
            let left = gatepass_store::audit::list(&mut db.conn().unwrap(), None, 100).unwrap();
            assert_eq!(left.len(), 3, "events inside the retention stay");
            assert!(left.iter().all(|e| e.occurred_at > 1_900_000_000 - 400 * day));
            assert_eq!(prune(&db, clock.now(), 400).await.unwrap(), None, "the lease is held: another node skips");
            clock.advance(time::Duration::days(2));
            assert_eq!(prune(&db, clock.now(), 400).await.unwrap(), Some(1), "the next run, by the clock");
        }
    }
}
