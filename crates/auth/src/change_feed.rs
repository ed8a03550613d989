//! Following the change feed (the outbox every admin change appends to, in its own
//! transaction): one indexed read every `cache.change_poll_ms`, whatever the number of
//! clients, dropping exactly the cached credentials each change names.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use gatepass_store::StoreError;
use gatepass_store::outbox::{self, Subject};

use crate::TokenService;

/// Most changes read at once; a node further behind than this drops its whole cache.
const BATCH: i64 = 1000;

/// How often the feed is pruned (rows older than the retention go).
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Settings of the feed (`[cache]` in the configuration).
#[derive(Clone, Copy, Debug)]
pub struct FeedSettings {
    /// How often the feed is read.
    pub poll: Duration,
    /// Changes older than this are pruned; a node that has not read the feed for this long
    /// drops its whole cache.
    pub retention: Duration,
}

/// Where this node is in the feed.
#[derive(Debug, Default)]
pub(crate) struct FeedPosition {
    inner: Mutex<Option<(i64, i64)>>,
}

impl FeedPosition {
    fn get(&self) -> Option<(i64, i64)> {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, seq: i64, read_at: i64) {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner) = Some((seq, read_at));
    }
}

impl TokenService {
    /// Reads the feed once and applies it: the changes since this node's position drop the
    /// credentials they name. A first read, a node that slept past the retention, a feed that
    /// went back (a restored database) or one more than a batch ahead drops every cached
    /// credential instead. Returns how many changes were applied.
    pub async fn read_changes(&self) -> Result<usize, StoreError> {
        let now = self.clock.now().unix_timestamp();
        let position = self.feed_position.get();
        let retention = i64::try_from(self.feed.retention.as_secs()).unwrap_or(i64::MAX);
        let slept = position.is_some_and(|(_, read_at)| now.saturating_sub(read_at) > retention);
        let after = position.filter(|_| !slept).map(|(seq, _)| seq);
        let read = self
            .db
            .run_read(move |conn| {
                let bounds = outbox::bounds(conn)?;
                let changes = match after {
                    Some(seq) => outbox::after(conn, seq, BATCH)?,
                    None => Vec::new(),
                };
                Ok((bounds, changes))
            })
            .await;
        let (bounds, changes) = match read {
            Ok(read) => read,
            Err(error) => {
                self.credentials.feed_failed();
                return Err(error);
            }
        };
        let last = bounds.map_or(0, |(_, last)| last);
        let (seq, applied) = match after {
            Some(seq) if last >= seq && changes.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) => {
                for change in &changes {
                    self.credentials.invalidate(&change.subject);
                    if matches!(change.subject, Subject::Client(_)) {
                        self.reload_known.store(true, Ordering::Relaxed);
                    }
                }
                (changes.last().map_or(seq, |c| c.seq), changes.len())
            }
            _ => {
                if position.is_some() {
                    self.metrics.cache_reset();
                    log::warn!(
                        "change feed: position lost (slept={slept}, at={after:?}, feed ends at {last}); dropping every cached credential"
                    );
                }
                self.credentials.clear();
                self.reload_known.store(true, Ordering::Relaxed);
                (last, 0)
            }
        };
        self.credentials.maintain();
        self.feed_position.set(seq, now);
        self.credentials.feed_read();
        Ok(applied)
    }

    /// Runs until aborted: reads the feed every `cache.change_poll_ms` (and sets the
    /// freshness metrics), and prunes changes older than the retention every minute.
    pub async fn follow_changes(&self) {
        let mut tick = tokio::time::interval(self.feed.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            if let Err(error) = self.read_changes().await {
                log::warn!("could not read the change feed error={error}");
            }
            let (evicted, stale) = self.credentials.counts();
            self.metrics.freshness(
                self.credentials.database_up(),
                self.credentials.stale_seconds(),
                [evicted, stale, self.usage.dropped()],
            );
            if last_prune.elapsed() >= PRUNE_EVERY && self.credentials.database_up() {
                last_prune = tokio::time::Instant::now();
                let retention = i64::try_from(self.feed.retention.as_secs()).unwrap_or(i64::MAX);
                let before = self.clock.now().unix_timestamp().saturating_sub(retention);
                if let Err(error) = self.db.run(move |conn| outbox::prune(conn, before)).await {
                    log::warn!("could not prune the change feed error={error}");
                }
            }
        }
    }
}
