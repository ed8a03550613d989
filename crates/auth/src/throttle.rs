//! Limits on failed client authentication, per client id and per source address.
//!
//! Only failures count, and a request whose credentials are valid is never limited: wrong
//! secrets sent for someone's client id cannot deny that client service. Once a key is over
//! its limit, further failures answer 429 with `Retry-After` until its window ends. Counters
//! live in each node's memory (with N nodes an attacker gets N times the budget).
//!
//! Memory is bounded whatever keys an attacker picks: only client ids that exist are counted
//! per client (random ids are counted by their address alone), addresses are bucketed (IPv6
//! by /64) and each map has a fixed capacity. A map at capacity evicts the least used
//! counters (moka's `TinyLFU`), so the counter of a client id under attack, hit on every
//! request, stays; entries expire with their window, so memory returns after a flood.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use gatepass_core::Clock;
use time::OffsetDateTime;

/// Most client-id counters kept (only ids that exist are counted).
pub const CLIENT_COUNTERS: u64 = 65_536;
/// Most address counters kept.
pub const ADDRESS_COUNTERS: u64 = 65_536;

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

/// The bucket an address is counted in: IPv4 as is (also when mapped into IPv6), IPv6 by
/// its /64 (one host usually holds a whole /64).
pub fn address_bucket(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(
            || IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (!0u128 << 64))),
            IpAddr::V4,
        ),
    }
}

/// One key's failures in its current window.
struct Window {
    started: OffsetDateTime,
    failures: AtomicU32,
}

/// Failure counters with a fixed window that starts at a key's first failure.
struct Counters<K: Hash + Eq + Send + Sync + 'static> {
    windows: moka::sync::Cache<K, Arc<Window>>,
    limit: u32,
    window: Duration,
}

impl<K: Hash + Eq + Send + Sync + Clone + 'static> Counters<K> {
    fn new(limit: u32, window: Duration, capacity: u64) -> Self {
        Self {
            // The time-to-live only gives memory back; windows are judged by the clock.
            windows: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(window)
                .build(),
            limit,
            window,
        }
    }

    /// Counts a failure at `now`; the time left in the window when the key is now over
    /// its limit.
    fn fail(&self, key: K, now: OffsetDateTime) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let fresh = || {
            Arc::new(Window {
                started: now,
                failures: AtomicU32::new(0),
            })
        };
        let mut window = self.windows.get_with(key.clone(), fresh);
        if now - window.started >= self.window || now < window.started {
            window = fresh();
            self.windows.insert(key, Arc::clone(&window));
        }
        let failures = window.failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let elapsed = Duration::try_from(now - window.started).unwrap_or_default();
        (failures > self.limit).then(|| self.window.saturating_sub(elapsed))
    }

    fn len(&self) -> u64 {
        self.windows.run_pending_tasks();
        self.windows.entry_count()
    }
}

/// The failure limits of one node.
pub struct Throttle {
    clients: Counters<String>,
    addresses: Counters<IpAddr>,
    clock: Arc<dyn Clock>,
}

impl Throttle {
    /// Counters for `limits`, judged by `clock`.
    pub fn new(limits: FailureLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            clients: Counters::new(limits.per_client, limits.window, CLIENT_COUNTERS),
            addresses: Counters::new(limits.per_address, limits.window, ADDRESS_COUNTERS),
            clock,
        }
    }

    /// Counts a failed authentication for a client id that exists (`None` for anything
    /// else) and an address. When either is now over its limit, the whole seconds until
    /// the later window ends.
    pub fn fail(&self, client_id: Option<&str>, address: Option<IpAddr>) -> Option<u64> {
        let by_address = address.and_then(|addr| self.fail_address(addr));
        let by_client = client_id.and_then(|id| self.fail_client(id));
        by_client.into_iter().chain(by_address).max()
    }

    /// Counts a failure from `address`; the whole seconds left when it is over its limit.
    pub fn fail_address(&self, address: IpAddr) -> Option<u64> {
        self.addresses
            .fail(address_bucket(address), self.clock.now())
            .map(whole_seconds)
    }

    /// Counts a failure for a client id that exists; the whole seconds left when it is over
    /// its limit.
    pub fn fail_client(&self, client_id: &str) -> Option<u64> {
        self.clients
            .fail(client_id.to_owned(), self.clock.now())
            .map(whole_seconds)
    }

    /// How many counters are held: (client ids, addresses).
    pub fn counters(&self) -> (u64, u64) {
        (self.clients.len(), self.addresses.len())
    }
}

/// `Retry-After` for time left: whole seconds, rounded up, at least 1.
fn whole_seconds(left: Duration) -> u64 {
    (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use gatepass_core::ManualClock;

    use super::*;

    fn limits(per_client: u32, per_address: u32, window_ms: u64) -> FailureLimits {
        FailureLimits {
            per_client,
            per_address,
            window: Duration::from_millis(window_ms),
        }
    }

    fn throttle(limits: FailureLimits) -> (Throttle, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(time::macros::datetime!(2026-12-01 12:00 UTC)));
        (Throttle::new(limits, clock.clone()), clock)
    }

    #[test]
    fn the_failure_after_the_limit_is_throttled_until_the_window_ends() {
        let (throttle, clock) = throttle(limits(3, 0, 60_000));
        for _ in 0..3 {
            assert_eq!(throttle.fail(Some("c1"), None), None);
        }
        clock.advance(time::Duration::seconds(10));
        let retry = throttle.fail(Some("c1"), None).expect("over the limit");
        assert_eq!(retry, 50);
        assert_eq!(
            throttle.fail(Some("c2"), None),
            None,
            "another client id is not affected"
        );
    }

    #[test]
    fn addresses_have_their_own_budget() {
        let (throttle, _) = throttle(limits(0, 2, 60_000));
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(throttle.fail(Some("a"), Some(here)), None);
        assert_eq!(throttle.fail(Some("b"), Some(here)), None);
        assert!(throttle.fail(Some("c"), Some(here)).is_some());
        assert_eq!(throttle.fail(Some("c"), Some(there)), None);
    }

    #[test]
    fn ipv6_addresses_share_the_budget_of_their_64() {
        let (throttle, _) = throttle(limits(0, 2, 60_000));
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(throttle.fail(None, Some(one)), None);
        assert_eq!(throttle.fail(None, Some(two)), None);
        assert!(throttle.fail(None, Some(one)).is_some(), "same /64");
        assert_eq!(throttle.fail(None, Some(elsewhere)), None, "another /64");
        assert_eq!(
            address_bucket("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_window_ends() {
        let (throttle, clock) = throttle(limits(1, 0, 50_000));
        assert_eq!(throttle.fail(Some("c"), None), None);
        assert!(throttle.fail(Some("c"), None).is_some());
        clock.advance(time::Duration::seconds(50));
        assert_eq!(throttle.fail(Some("c"), None), None, "a new window");
    }

    #[test]
    fn a_flood_of_addresses_stays_within_the_cap_and_keeps_a_hot_client_counter() {
        let (throttle, _) = throttle(limits(1_000_000, 5, 60_000));
        for i in 0..(u32::try_from(ADDRESS_COUNTERS).unwrap() + 20_000) {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            throttle.fail(Some("victim"), Some(address));
        }
        let (clients, addresses) = throttle.counters();
        assert_eq!(clients, 1);
        assert!(addresses <= ADDRESS_COUNTERS, "{addresses}");
    }
}
