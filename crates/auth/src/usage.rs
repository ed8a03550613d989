//! Per-secret usage (`use_count`, `last_used_at`), counted in memory and written behind.
//!
//! The token endpoint only bumps a counter; a background task flushes the counts every
//! few seconds as additive updates, so nodes never overwrite each other and the token
//! endpoint never waits on the write. A failed flush (the database down) keeps its counts for
//! the next one, for at most [`MAX_PENDING`] secrets: uses of further secrets are dropped and
//! counted (`gatepass_usage_dropped_total`), never grown without bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gatepass_store::secrets::{self, UsageDelta};
use gatepass_store::{Database, StoreError};

/// Most secrets whose uses are held between two successful flushes.
pub const MAX_PENDING: usize = 100_000;

/// Counts uses and writes them behind.
pub struct UsageRecorder {
    db: Database,
    pending: Mutex<HashMap<String, UsageDelta>>,
    dropped: AtomicU64,
}

impl UsageRecorder {
    /// A recorder writing to `db`.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            pending: Mutex::new(HashMap::new()),
            dropped: AtomicU64::new(0),
        }
    }

    /// Uses dropped so far because [`MAX_PENDING`] secrets were already held.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Counts one token issued with `secret_id` at `at`.
    pub fn record(&self, client_id: &str, secret_id: &str, at: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(delta) = pending.get_mut(secret_id) {
            delta.count += 1;
            delta.last_used_at = delta.last_used_at.max(at);
        } else if pending.len() >= MAX_PENDING {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            let delta = UsageDelta {
                secret_id: secret_id.to_owned(),
                client_id: client_id.to_owned(),
                count: 1,
                last_used_at: at,
            };
            pending.insert(secret_id.to_owned(), delta);
        }
    }

    /// Writes what has been counted. On failure the counts are kept for the next flush.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let batch: Vec<UsageDelta> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.drain().map(|(_, delta)| delta).collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        let kept = batch.clone();
        let result = self.db.run(move |conn| secrets::add_usage(conn, &batch)).await;
        if result.is_err() {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for delta in kept {
                let full = pending.len() >= MAX_PENDING;
                match pending.get_mut(&delta.secret_id) {
                    Some(newer) => {
                        newer.count += delta.count;
                        newer.last_used_at = newer.last_used_at.max(delta.last_used_at);
                    }
                    None if full => {
                        self.dropped.fetch_add(delta.count.unsigned_abs(), Ordering::Relaxed);
                    }
                    None => {
                        pending.insert(delta.secret_id.clone(), delta);
                    }
                }
            }
        }
        result
    }

    /// Flushes every `every` on the current runtime until the task is aborted.
    pub fn start(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let recorder = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(error) = recorder.flush().await {
                    log::warn!("usage flush failed; counts kept for the next one: {error}");
                }
            }
        })
    }
}
