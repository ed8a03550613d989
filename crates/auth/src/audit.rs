//! Writing the audit log without making the token endpoint wait.

use std::time::Duration;

use gatepass_core::Clock;
use gatepass_store::Database;
use gatepass_store::audit::AuditEventRow;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// One thing worth recording.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent {
    /// Who did it: a client id, `cli`, or `anonymous`.
    pub actor: String,
    /// What: e.g. `token.denied`.
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

enum Message {
    Event(Box<AuditEventRow>),
    Flush(oneshot::Sender<()>),
}

/// A handle to the audit writer: events are queued and written in batches by one task.
#[derive(Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Message>,
    clock: std::sync::Arc<dyn Clock>,
}

/// Events queued before the writer catches up; beyond that an event is dropped with
/// a warning rather than making callers wait.
const QUEUE_LIMIT: usize = 65_536;

impl AuditLog {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Database, clock: std::sync::Arc<dyn Clock>) -> Self {
        let (queue, mut inbox) = mpsc::channel::<Message>(QUEUE_LIMIT);
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while let Some(first) = inbox.recv().await {
                let mut waiters = Vec::new();
                let mut next = Some(first);
                while let Some(message) = next.take() {
                    match message {
                        Message::Event(row) => batch.push(*row),
                        Message::Flush(done) => waiters.push(done),
                    }
                    if batch.len() < 500 {
                        next = inbox.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    write(&db, std::mem::take(&mut batch)).await;
                }
                for done in waiters {
                    let _ = done.send(());
                }
            }
        });
        Self { queue, clock }
    }

    /// Queues an event; never waits.
    pub fn record(&self, event: AuditEvent) {
        let row = Box::new(AuditEventRow {
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
        });
        if let Err(mpsc::error::TrySendError::Full(Message::Event(row))) = self.queue.try_send(Message::Event(row)) {
            log::warn!(
                "audit queue full, event dropped action={} target={:?}",
                row.action,
                row.target
            );
        }
    }

    /// Waits until everything queued so far is written (at shutdown, and in tests).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
        }
    }
}

async fn write(db: &Database, rows: Vec<AuditEventRow>) {
    let count = rows.len();
    let mut rows = Some(rows);
    // Retry a few times so a short database hiccup loses nothing.
    for attempt in 0..5u32 {
        let batch = rows.take().unwrap_or_default();
        let kept = batch.clone();
        match db.run(move |conn| gatepass_store::audit::append(conn, &batch)).await {
            Ok(()) => return,
            Err(error) => {
                log::warn!("audit write failed attempt={attempt} events={count} error={error}");
                rows = Some(kept);
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await;
            }
        }
    }
    log::error!("audit events lost after retries events={count}");
}
