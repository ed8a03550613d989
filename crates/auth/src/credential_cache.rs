//! Credentials fresh until they change: the token endpoint's cache of stored credentials by
//! secret hash (docs/architecture.md, "Credential freshness").
//!
//! An entry is kept until the change feed names its client, service account or role
//! ([`CredentialCache::invalidate`]) or `max_age` passes, as long as the feed is current (read
//! within [`FEED_BOUND`]): so a revocation anywhere bites on every node within about a second,
//! and many clients cost what one does. When the database does not answer, an entry the feed
//! had not named by its last good read keeps serving for `stale_if_error` after that read;
//! a credential the node never read is a fault (503). Unknown hashes are remembered in a
//! small cache of their own, so a flood of random secrets never evicts a real credential.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gatepass_core::{Clock, SecretHash};
use gatepass_store::outbox::Subject;
use gatepass_store::{Fault, StoreError};
use tokio::sync::OnceCell;

use crate::credentials::Credential;

/// How long after the last good read of the change feed cached entries count as current.
/// Past it a node may have missed a change, so entries are read again (or, while the
/// database does not answer, served stale within `stale_if_error`).
pub const FEED_BOUND: Duration = Duration::from_secs(1);

/// How many unknown secret hashes are remembered, and for how long.
const UNKNOWN_MAX: u64 = 10_000;
const UNKNOWN_TTL: Duration = Duration::from_secs(60);

/// The cache's settings (`[cache]` in the configuration).
#[derive(Clone, Copy, Debug)]
pub struct CacheSettings {
    /// An entry is read again after this long even if the feed never named it.
    pub max_age: Duration,
    /// At most this many credentials are kept; the least used go first (counted).
    pub max_entries: u64,
    /// While the database does not answer, cached credentials serve for this long after the
    /// last good feed read (zero: never).
    pub stale_if_error: Duration,
}

/// A credential and when it was read (milliseconds, by the clock).
#[derive(Clone)]
struct Entry {
    credential: Arc<Credential>,
    read_at: i64,
}

/// What one shared load produced: the credential, none, or the store's fault.
pub type Loaded = Result<Option<Arc<Credential>>, Fault>;

/// The cache; one per token service.
pub struct CredentialCache {
    entries: moka::sync::Cache<[u8; 32], Entry>,
    unknown: moka::sync::Cache<[u8; 32], ()>,
    loading: Mutex<HashMap<[u8; 32], Arc<OnceCell<Loaded>>>>,
    settings: CacheSettings,
    clock: Arc<dyn Clock>,
    /// When the feed was last read in full (ms by the clock); `i64::MIN`: never.
    feed_read_at: AtomicI64,
    /// Whether the last read of the feed failed (the database does not answer).
    feed_failing: AtomicBool,
    /// Bumped by every invalidation: a load that overlapped one is not cached, since what it
    /// read may predate the change.
    generation: AtomicU64,
    evicted: Arc<AtomicU64>,
    served_stale: AtomicU64,
}

impl CredentialCache {
    /// An empty cache, current as of no feed read yet.
    pub fn new(settings: CacheSettings, clock: Arc<dyn Clock>) -> Self {
        let evicted = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&evicted);
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(settings.max_entries)
                // Memory only: freshness is judged by the clock below.
                .time_to_live(settings.max_age + settings.stale_if_error + FEED_BOUND)
                .support_invalidation_closures()
                .eviction_listener(move |_, _, cause| {
                    if cause == moka::notification::RemovalCause::Size {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .build(),
            unknown: moka::sync::Cache::builder()
                .max_capacity(UNKNOWN_MAX)
                .time_to_live(UNKNOWN_TTL)
                .build(),
            loading: Mutex::new(HashMap::new()),
            settings,
            clock,
            feed_read_at: AtomicI64::new(i64::MIN),
            feed_failing: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            evicted,
            served_stale: AtomicU64::new(0),
        }
    }

    fn now(&self) -> i64 {
        i64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// Whether the feed was read recently enough that every change up to about a second ago
    /// has been applied.
    fn feed_current(&self, now: i64) -> bool {
        let read_at = self.feed_read_at.load(Ordering::Acquire);
        read_at != i64::MIN && now.saturating_sub(read_at) <= millis(FEED_BOUND)
    }

    /// Whether entries not named by the last good feed read may still serve, the database
    /// not answering.
    fn stale_allowed(&self, now: i64) -> bool {
        let read_at = self.feed_read_at.load(Ordering::Acquire);
        read_at != i64::MIN && now.saturating_sub(read_at) < millis(self.settings.stale_if_error)
    }

    /// The feed was read in full just now: every change up to now has been applied.
    pub fn feed_read(&self) {
        self.feed_read_at.store(self.now(), Ordering::Release);
        self.feed_failing.store(false, Ordering::Release);
    }

    /// The feed could not be read: the database does not answer.
    pub fn feed_failed(&self) {
        self.feed_failing.store(true, Ordering::Release);
    }

    /// Whether the database answered the last read of the feed.
    pub fn database_up(&self) -> bool {
        !self.feed_failing.load(Ordering::Acquire)
    }

    /// Whether cached credentials are serving stale now: the database does not answer, and the
    /// stale window since the last good feed read is still open.
    pub fn serving_stale(&self) -> bool {
        !self.database_up() && self.stale_allowed(self.now())
    }

    /// Seconds since the feed was current, while it is not (0 while it is).
    pub fn stale_seconds(&self) -> f64 {
        let now = self.now();
        let read_at = self.feed_read_at.load(Ordering::Acquire);
        if read_at == i64::MIN || self.feed_current(now) {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss, reason = "a gauge in seconds")]
        let seconds = now.saturating_sub(read_at) as f64 / 1000.0;
        seconds
    }

    /// Credentials dropped for room (`cache.max_entries`), and served stale, so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.evicted.load(Ordering::Relaxed),
            self.served_stale.load(Ordering::Relaxed),
        )
    }

    /// Drops every credential that depends on `subject`; the next request reads it again.
    pub fn invalidate(&self, subject: &Subject) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let subject = subject.clone();
        if self
            .entries
            .invalidate_entries_if(move |_, entry| entry.credential.depends_on(&subject))
            .is_err()
        {
            // Built with invalidation closures, so this cannot happen; be safe anyway.
            self.clear();
        }
    }

    /// Drops every credential (the node fell too far behind the feed).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    /// Runs the cache's pending maintenance (applies invalidations, counts evictions).
    pub fn maintain(&self) {
        self.entries.run_pending_tasks();
    }

    /// The credential for `hash`: cached, or read with `load` (callers that miss while a load
    /// is in flight wait for that load instead of starting their own).
    pub async fn get_or_load<F, Fut>(&self, hash: &SecretHash, load: F) -> Loaded
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Credential>, StoreError>>,
    {
        let now = self.now();
        let cached = self.entries.get(&hash.0);
        if self.feed_current(now) {
            if let Some(entry) = &cached
                && now.saturating_sub(entry.read_at) < millis(self.settings.max_age)
            {
                return Ok(Some(Arc::clone(&entry.credential)));
            }
            if self.unknown.contains_key(&hash.0) {
                return Ok(None);
            }
        } else if !self.database_up() {
            // The database does not answer: no read is tried per request.
            return match cached {
                Some(entry) if self.stale_allowed(now) => Ok(Some(self.stale(&entry))),
                _ => Err(Fault::Outage("the database does not answer".into())),
            };
        }
        match self.load_shared(hash, load).await {
            Err(fault) if fault.is_outage() => match cached {
                Some(entry) if self.stale_allowed(now) => Ok(Some(self.stale(&entry))),
                _ => Err(fault),
            },
            loaded => loaded,
        }
    }

    fn stale(&self, entry: &Entry) -> Arc<Credential> {
        self.served_stale.fetch_add(1, Ordering::Relaxed);
        Arc::clone(&entry.credential)
    }

    async fn load_shared<F, Fut>(&self, hash: &SecretHash, load: F) -> Loaded
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Credential>, StoreError>>,
    {
        let cell = {
            let mut loading = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(loading.entry(hash.0).or_default())
        };
        let loaded = cell
            .get_or_init(|| async {
                let (read_at, generation) = (self.now(), self.generation.load(Ordering::Acquire));
                let loaded = load().await.map(|found| found.map(Arc::new)).map_err(Fault::from);
                if self.generation.load(Ordering::Acquire) != generation {
                    // A change arrived while this read ran: answer with it, cache nothing.
                    return loaded;
                }
                match &loaded {
                    Ok(Some(credential)) => {
                        let entry = Entry {
                            credential: Arc::clone(credential),
                            read_at,
                        };
                        self.entries.insert(hash.0, entry);
                    }
                    Ok(None) => self.unknown.insert(hash.0, ()),
                    Err(_) => {}
                }
                loaded
            })
            .await
            .clone();
        let mut loading = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
        if loading.get(&hash.0).is_some_and(|current| Arc::ptr_eq(current, &cell)) {
            loading.remove(&hash.0);
        }
        loaded
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use gatepass_core::ManualClock;

    use super::*;
    use crate::credentials::tests::{in_account, record};

    const SETTINGS: CacheSettings = CacheSettings {
        max_age: Duration::from_secs(300),
        max_entries: 1000,
        stale_if_error: Duration::from_secs(300),
    };

    fn cache(settings: CacheSettings) -> (Arc<ManualClock>, CredentialCache) {
        let clock = Arc::new(ManualClock::new(time::macros::datetime!(2026-12-01 12:00 UTC)));
        let cache = CredentialCache::new(settings, clock.clone());
        cache.feed_read();
        (clock, cache)
    }

    /// A credential of `client` in service account `sa-<client>` with role `reader`, secret hash `byte`.
    fn credential(client: &str, byte: u8) -> Credential {
        let mut r = in_account(record(), &format!("sa-{client}"), "a b");
        r.client.client_id = client.into();
        r.secret.client_id = client.into();
        r.secret.secret_hash = vec![byte; 32];
        Credential::from_record(&r).unwrap()
    }

    /// Loads through the cache, counting reads; `answer` is what the database says.
    async fn load(
        cache: &CredentialCache,
        reads: &AtomicUsize,
        byte: u8,
        answer: Result<Option<Credential>, StoreError>,
    ) -> Loaded {
        cache
            .get_or_load(&SecretHash([byte; 32]), || async {
                reads.fetch_add(1, Ordering::SeqCst);
                answer
            })
            .await
    }

    /// Reads `client`'s credential (hash `byte`) into the cache.
    async fn warm(cache: &CredentialCache, reads: &AtomicUsize, byte: u8, client: &str) {
        let loaded = load(cache, reads, byte, Ok(Some(credential(client, byte)))).await;
        assert!(loaded.unwrap().is_some());
    }

    #[tokio::test]
    async fn an_entry_lives_until_the_feed_names_it_or_max_age_passes() {
        let (clock, cache) = cache(SETTINGS);
        let reads = AtomicUsize::new(0);
        for (byte, client) in [(1, "c1"), (2, "c2"), (3, "c3")] {
            warm(&cache, &reads, byte, client).await;
        }
        // Minutes on, with the feed read all along: no database read.
        for _ in 0..4 {
            clock.advance(time::Duration::minutes(1));
            cache.feed_read();
            for byte in 1..=3 {
                assert!(
                    load(&cache, &reads, byte, Err(StoreError::Busy))
                        .await
                        .unwrap()
                        .is_some()
                );
            }
        }
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        // Each subject drops exactly what depends on it.
        cache.invalidate(&Subject::Client("c1".into()));
        cache.invalidate(&Subject::ServiceAccount("sa-c2".into()));
        for byte in [1, 2] {
            assert!(
                load(&cache, &reads, byte, Ok(None)).await.unwrap().is_none(),
                "{byte} read again"
            );
        }
        assert!(
            load(&cache, &reads, 3, Err(StoreError::Busy)).await.unwrap().is_some(),
            "c3 untouched"
        );
        cache.invalidate(&Subject::Role("reader".into()));
        assert!(
            load(&cache, &reads, 3, Ok(None)).await.unwrap().is_none(),
            "a role change reaches c3"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 6);
        // And max_age bounds an entry no change named.
        warm(&cache, &reads, 4, "c4").await;
        clock.advance(time::Duration::seconds(299));
        cache.feed_read();
        assert!(load(&cache, &reads, 4, Err(StoreError::Busy)).await.unwrap().is_some());
        clock.advance(time::Duration::seconds(1));
        cache.feed_read();
        assert!(
            load(&cache, &reads, 4, Ok(None)).await.unwrap().is_none(),
            "read again at max_age"
        );
    }

    #[tokio::test]
    async fn a_load_that_overlaps_a_change_is_answered_but_not_cached() {
        let (_, cache) = cache(SETTINGS);
        let reads = AtomicUsize::new(0);
        let hash = SecretHash([1; 32]);
        let loaded = cache
            .get_or_load(&hash, || async {
                reads.fetch_add(1, Ordering::SeqCst);
                // The feed brings a change of this client while its old row is being read.
                cache.invalidate(&Subject::Client("c1".into()));
                Ok(Some(credential("c1", 1)))
            })
            .await;
        assert!(loaded.unwrap().is_some());
        assert!(load(&cache, &reads, 1, Ok(None)).await.unwrap().is_none());
        assert_eq!(
            reads.load(Ordering::SeqCst),
            2,
            "read again, not served from what predates the change"
        );
    }

    #[tokio::test]
    async fn while_the_database_is_down_cached_credentials_serve_for_the_stale_window_only() {
        let (clock, cache) = cache(SETTINGS);
        let reads = AtomicUsize::new(0);
        warm(&cache, &reads, 1, "c1").await;
        warm(&cache, &reads, 2, "c2").await;
        // Revoked before the outage: dropped, so never served stale.
        cache.invalidate(&Subject::Client("c2".into()));
        cache.feed_failed();
        clock.advance(time::Duration::seconds(2));
        assert!(!cache.database_up());
        assert!((cache.stale_seconds() - 2.0).abs() < 1e-9);
        let before = reads.load(Ordering::SeqCst);
        assert!(
            load(&cache, &reads, 1, Ok(None)).await.unwrap().is_some(),
            "served stale"
        );
        assert!(
            matches!(load(&cache, &reads, 2, Ok(None)).await, Err(Fault::Outage(_))),
            "revoked stays refused"
        );
        assert!(
            matches!(load(&cache, &reads, 9, Ok(None)).await, Err(Fault::Outage(_))),
            "never seen: 503"
        );
        assert_eq!(
            reads.load(Ordering::SeqCst),
            before,
            "no read is tried while the feed fails"
        );
        assert_eq!(cache.counts().1, 1);
        clock.advance(time::Duration::seconds(297));
        assert!(
            load(&cache, &reads, 1, Ok(None)).await.unwrap().is_some(),
            "inside the window"
        );
        clock.advance(time::Duration::seconds(1));
        assert!(
            matches!(load(&cache, &reads, 1, Ok(None)).await, Err(Fault::Outage(_))),
            "the window is over"
        );
        // The database answers again: normal service at once.
        cache.feed_read();
        assert!(cache.database_up());
        assert!(cache.stale_seconds().abs() < f64::EPSILON);
        warm(&cache, &reads, 1, "c1").await;
    }

    #[tokio::test]
    async fn with_the_stale_window_off_an_outage_is_503_for_everyone() {
        let (clock, cache) = cache(CacheSettings {
            stale_if_error: Duration::ZERO,
            ..SETTINGS
        });
        let reads = AtomicUsize::new(0);
        warm(&cache, &reads, 1, "c1").await;
        cache.feed_failed();
        clock.advance(time::Duration::seconds(2));
        assert!(matches!(load(&cache, &reads, 1, Ok(None)).await, Err(Fault::Outage(_))));
    }

    #[tokio::test]
    async fn unknown_secrets_are_remembered_apart_and_never_evict_credentials() {
        let (_, cache) = cache(CacheSettings {
            max_entries: 100,
            ..SETTINGS
        });
        let reads = AtomicUsize::new(0);
        warm(&cache, &reads, 1, "c1").await;
        for n in 0..5000u32 {
            let hash = ring::digest::digest(&ring::digest::SHA256, &n.to_be_bytes());
            let mut key = [0; 32];
            key.copy_from_slice(hash.as_ref());
            let found = cache.get_or_load(&SecretHash(key), || async { Ok(None) }).await;
            assert!(found.unwrap().is_none());
        }
        cache.maintain();
        assert!(cache.unknown.entry_count() <= UNKNOWN_MAX);
        let reads_before = reads.load(Ordering::SeqCst);
        assert!(
            load(&cache, &reads, 1, Err(StoreError::Busy)).await.unwrap().is_some(),
            "still cached"
        );
        assert_eq!(reads.load(Ordering::SeqCst), reads_before);
        // An unknown hash asked again is not read again.
        assert!(load(&cache, &reads, 7, Ok(None)).await.unwrap().is_none());
        assert!(load(&cache, &reads, 7, Err(StoreError::Busy)).await.unwrap().is_none());
        assert_eq!(reads.load(Ordering::SeqCst), reads_before + 1);
    }

    #[tokio::test]
    async fn past_max_entries_the_least_used_go_and_are_counted() {
        let (_, cache) = cache(CacheSettings {
            max_entries: 100,
            ..SETTINGS
        });
        let reads = AtomicUsize::new(0);
        for byte in 0..=250u8 {
            let client = format!("c{byte}");
            warm(&cache, &reads, byte, &client).await;
        }
        cache.maintain();
        assert!(cache.entries.entry_count() <= 100);
        assert!(cache.counts().0 >= 151, "evictions counted: {:?}", cache.counts());
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_load_and_failures_are_not_cached() {
        let (_, cache) = cache(SETTINGS);
        let cache = Arc::new(cache);
        let loads = Arc::new(AtomicUsize::new(0));
        let hash = SecretHash([7; 32]);
        let mut waiting = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (cache, loads) = (Arc::clone(&cache), Arc::clone(&loads));
            waiting.spawn(async move {
                cache
                    .get_or_load(&hash, || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        // Keeps this load in flight while the other 19 callers arrive: a race
                        // widener (what it waits for is the scheduler, not time).
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Credential::from_record(&record()).map(Some)
                    })
                    .await
            });
        }
        while let Some(done) = waiting.join_next().await {
            assert!(done.unwrap().unwrap().is_some());
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        let reads = AtomicUsize::new(0);
        assert!(load(&cache, &reads, 9, Err(StoreError::Busy)).await.is_err());
        assert!(
            load(&cache, &reads, 9, Ok(None)).await.unwrap().is_none(),
            "the error was not cached"
        );
    }
}
