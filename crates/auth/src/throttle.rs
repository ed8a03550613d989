//! Limits on failed client authentication, per client id and per source address.
//!
//! Only failures count, and a request whose credentials are valid is never limited: wrong
//! secrets sent for someone's client id cannot deny that client service. Once a key is over
//! its limit, further failures answer 429 with `Retry-After` until its window ends. Counters
//! live in each node's memory (with N nodes an attacker gets N times the budget).

use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The limits (`limits.*` in the configuration).
#[derive(Clone, Copy, Debug)]
pub struct FailureLimits {
    /// Failures a client id may cause per window (0: no limit).
    pub per_client: u32,
    /// Failures an address may cause per window (0: no limit).
    pub per_address: u32,
    /// The window.
    pub window: Duration,
}

/// One key's failures in its current window.
struct Window {
    started: Instant,
    failures: AtomicU32,
}

/// Failure counters with a fixed window that starts at a key's first failure.
struct Counters<K: Hash + Eq + Send + Sync + 'static> {
    windows: moka::sync::Cache<K, Arc<Window>>,
    limit: u32,
    window: Duration,
}

impl<K: Hash + Eq + Send + Sync + Clone + 'static> Counters<K> {
    fn new(limit: u32, window: Duration) -> Self {
        Self {
            windows: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(window)
                .build(),
            limit,
            window,
        }
    }

    /// Counts a failure; the time left in the window when the key is now over its limit.
    fn fail(&self, key: K) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let window = self.windows.get_with(key, || {
            Arc::new(Window {
                started: Instant::now(),
                failures: AtomicU32::new(0),
            })
        });
        let failures = window.failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        (failures > self.limit).then(|| self.window.saturating_sub(window.started.elapsed()))
    }
}

/// The failure limits of one node.
pub struct Throttle {
    clients: Counters<String>,
    addresses: Counters<IpAddr>,
}

impl Throttle {
    /// Counters for `limits`.
    pub fn new(limits: FailureLimits) -> Self {
        Self {
            clients: Counters::new(limits.per_client, limits.window),
            addresses: Counters::new(limits.per_address, limits.window),
        }
    }

    /// Counts a failed authentication for a (well-formed) client id and an address. When
    /// either is now over its limit, the whole seconds until the later window ends.
    pub fn fail(&self, client_id: Option<&str>, address: Option<IpAddr>) -> Option<u64> {
        let by_client = client_id.and_then(|id| self.clients.fail(id.to_owned()));
        let by_address = address.and_then(|addr| self.addresses.fail(addr));
        by_client
            .into_iter()
            .chain(by_address)
            .max()
            .map(|left| left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_client: u32, per_address: u32, window_ms: u64) -> FailureLimits {
        FailureLimits {
            per_client,
            per_address,
            window: Duration::from_millis(window_ms),
        }
    }

    #[test]
    fn the_failure_after_the_limit_is_throttled_until_the_window_ends() {
        let throttle = Throttle::new(limits(3, 0, 60_000));
        for _ in 0..3 {
            assert_eq!(throttle.fail(Some("c1"), None), None);
        }
        let retry = throttle.fail(Some("c1"), None).expect("over the limit");
        assert!((59..=60).contains(&retry), "{retry}");
        assert_eq!(
            throttle.fail(Some("c2"), None),
            None,
            "another client id is not affected"
        );
    }

    #[test]
    fn addresses_have_their_own_budget() {
        let throttle = Throttle::new(limits(0, 2, 60_000));
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(throttle.fail(Some("a"), Some(here)), None);
        assert_eq!(throttle.fail(Some("b"), Some(here)), None);
        assert!(throttle.fail(Some("c"), Some(here)).is_some());
        assert_eq!(throttle.fail(Some("c"), Some(there)), None);
    }

    #[test]
    fn a_window_ends() {
        let throttle = Throttle::new(limits(1, 0, 50));
        assert_eq!(throttle.fail(Some("c"), None), None);
        assert!(throttle.fail(Some("c"), None).is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(throttle.fail(Some("c"), None), None, "a new window");
    }
}
