//! Failed client authentication, aggregated for the audit log and the log.
//!
//! At most one `token.auth_failed` event is written per key per window
//! (`limits.failed_auth_window_seconds`): the key is the presented client id when that client
//! exists, else the caller's address (IPv6 by /64), together with the reason. The event is
//! written at the key's first failure in the window, with `details`
//! `{"count", "throttled", "first_at", "last_at"}`, and amended with the running count while
//! the window is open and once more when it closes (or at shutdown): the counts of a real
//! client id add up exactly, throttled failures included. One INFO line per key per window
//! goes to the log.
//!
//! Memory is bounded: real client ids and addresses live in separate tiers with fixed
//! capacities, so random ids can never push a real client's counter out. A full address tier
//! counts newcomers in one overflow entry per reason (address `*`); closed windows are
//! dropped, so memory returns after a flood.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use gatepass_store::audit::AuditEventRow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::throttle::address_bucket;

/// The audit action of an aggregated failure.
pub const ACTION: &str = "token.auth_failed";
/// Most (client id, reason) entries held.
pub const CLIENT_ENTRIES: usize = 65_536;
/// Most (address, reason) entries held; beyond, newcomers share one overflow entry.
pub const ADDRESS_ENTRIES: usize = 4_096;
/// How often an open window's event is amended with its running count (clock time).
const AMEND_EVERY: Duration = Duration::from_secs(5);

/// Whom a failure is counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A client id that exists.
    Client(String),
    /// The caller's address bucket (or `*`, the overflow).
    Address(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    subject: Subject,
    reason: &'static str,
}

struct Entry {
    row: AuditEventRow,
    started: OffsetDateTime,
    first_at: OffsetDateTime,
    last_at: OffsetDateTime,
    count: u64,
    throttled: u64,
    written: u64,
    amended_at: OffsetDateTime,
}

impl Entry {
    fn details(&self) -> String {
        let at = |t: OffsetDateTime| {
            t.replace_nanosecond(0)
                .unwrap_or(t)
                .format(&Rfc3339)
                .unwrap_or_default()
        };
        serde_json::json!({
            "count": self.count,
            "throttled": self.throttled,
            "first_at": at(self.first_at),
            "last_at": at(self.last_at),
        })
        .to_string()
    }

    /// The row with the current count, marked written.
    fn snapshot(&mut self, now: OffsetDateTime) -> AuditEventRow {
        self.written = self.count;
        self.amended_at = now;
        let mut row = self.row.clone();
        row.details = Some(self.details());
        row
    }
}

/// One failure, as the token endpoint saw it.
#[derive(Clone, Debug)]
pub struct Failure<'a> {
    /// The presented client id when that client exists.
    pub client_id: Option<&'a str>,
    /// The caller's address.
    pub address: Option<IpAddr>,
    /// Why (a `Rejection` as written to the audit log).
    pub reason: &'static str,
    /// Whether it was answered 429.
    pub throttled: bool,
    /// The request id.
    pub request_id: Option<String>,
}

/// What to write for one failure.
#[derive(Debug, Default)]
pub struct Noted {
    /// The first failure of its key in this window: the event to insert (and log).
    pub opened: Option<Written>,
    /// The previous window of the same key, closed now: its final row.
    pub closed: Option<Written>,
}

/// A row for the audit writer; `real` rows (real client ids) have priority.
#[derive(Clone, Debug)]
pub struct Written {
    /// The event (inserted, or its details amended if it exists).
    pub row: AuditEventRow,
    /// Whether it belongs to a real client id.
    pub real: bool,
}

#[derive(Default)]
struct Tier {
    entries: HashMap<Key, Entry>,
}

/// Failure counts per key and window.
pub struct FailureAggregator {
    clients: Mutex<Tier>,
    addresses: Mutex<Tier>,
    window: Duration,
    address_cap: usize,
}

impl FailureAggregator {
    /// Aggregates over `window`.
    pub fn new(window: Duration) -> Self {
        Self::with_cap(window, ADDRESS_ENTRIES)
    }

    fn with_cap(window: Duration, address_cap: usize) -> Self {
        Self {
            clients: Mutex::new(Tier::default()),
            addresses: Mutex::new(Tier::default()),
            window,
            address_cap,
        }
    }

    /// Counts `failure` at `now`.
    pub fn note(&self, failure: &Failure<'_>, now: OffsetDateTime) -> Noted {
        let bucket = failure.address.map(|a| address_bucket(a).to_string());
        let (tier, subject, real) = match failure.client_id {
            Some(id) => (&self.clients, Subject::Client(id.to_owned()), true),
            None => (
                &self.addresses,
                Subject::Address(bucket.clone().unwrap_or_else(|| "-".to_owned())),
                false,
            ),
        };
        let mut tier = tier.lock().unwrap_or_else(PoisonError::into_inner);
        let mut key = Key {
            subject,
            reason: failure.reason,
        };
        let cap = if real { CLIENT_ENTRIES } else { self.address_cap };
        if !tier.entries.contains_key(&key) && tier.entries.len() >= cap {
            key.subject = Subject::Address("*".to_owned());
        }
        let mut noted = Noted::default();
        if let Some(entry) = tier.entries.get_mut(&key) {
            if now - entry.started < self.window && now >= entry.started {
                entry.count += 1;
                entry.throttled += u64::from(failure.throttled);
                entry.last_at = now;
                return noted;
            }
            if let Some(mut old) = tier.entries.remove(&key) {
                noted.closed = (old.written != old.count).then(|| Written {
                    row: old.snapshot(now),
                    real,
                });
            }
        }
        let (actor, target) = match &key.subject {
            Subject::Client(id) => (id.clone(), Some(id.clone())),
            Subject::Address(_) => ("anonymous".to_owned(), None),
        };
        let source_addr = match &key.subject {
            Subject::Address(star) if star == "*" => Some("*".to_owned()),
            _ => bucket,
        };
        let mut entry = Entry {
            row: AuditEventRow {
                id: Uuid::now_v7().to_string(),
                occurred_at: now.unix_timestamp(),
                actor,
                action: ACTION.to_owned(),
                target,
                outcome: "failure".to_owned(),
                reason: Some(failure.reason.to_owned()),
                request_id: failure.request_id.clone(),
                source_addr,
                details: None,
            },
            started: now,
            first_at: now,
            last_at: now,
            count: 1,
            throttled: u64::from(failure.throttled),
            written: 0,
            amended_at: now,
        };
        noted.opened = Some(Written {
            row: entry.snapshot(now),
            real,
        });
        tier.entries.insert(key, entry);
        noted
    }

    /// The rows to amend at `now`: every entry whose window closed (then forgotten) or whose
    /// count changed more than a few seconds ago; with `all`, every entry with news (then
    /// everything is forgotten: shutdown).
    pub fn sweep(&self, now: OffsetDateTime, all: bool) -> Vec<Written> {
        let mut out = Vec::new();
        for (tier, real) in [(&self.clients, true), (&self.addresses, false)] {
            let mut tier = tier.lock().unwrap_or_else(PoisonError::into_inner);
            tier.entries.retain(|_, entry| {
                let closed = all || now - entry.started >= self.window || now < entry.started;
                let due = closed || now - entry.amended_at >= AMEND_EVERY;
                if due && entry.written != entry.count {
                    out.push(Written {
                        row: entry.snapshot(now),
                        real,
                    });
                }
                !closed
            });
            if tier.entries.capacity() > 64 && tier.entries.len() < tier.entries.capacity() / 4 {
                tier.entries.shrink_to_fit();
            }
        }
        out
    }

    /// Entries held: (client ids, addresses).
    pub fn len(&self) -> (usize, usize) {
        let count = |tier: &Mutex<Tier>| tier.lock().unwrap_or_else(PoisonError::into_inner).entries.len();
        (count(&self.clients), count(&self.addresses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
    }

    fn failure<'a>(client: Option<&'a str>, address: &str, throttled: bool) -> Failure<'a> {
        Failure {
            client_id: client,
            address: Some(address.parse().unwrap()),
            reason: "unknown_secret",
            throttled,
            request_id: None,
        }
    }

    fn count(row: &AuditEventRow) -> u64 {
        let details: serde_json::Value = serde_json::from_str(row.details.as_deref().unwrap()).unwrap();
        details["count"].as_u64().unwrap()
    }

    #[test]
    fn one_event_per_key_and_window_whose_counts_add_up() {
        let aggregator = FailureAggregator::new(Duration::from_secs(60));
        let mut rows: Vec<AuditEventRow> = Vec::new();
        for i in 0..50 {
            let noted = aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", i >= 10), at(i));
            rows.extend(noted.opened.into_iter().chain(noted.closed).map(|w| w.row));
        }
        assert_eq!(rows.len(), 1, "one event opened for the window");
        assert_eq!(count(&rows[0]), 1);
        let amended = aggregator.sweep(at(60), false);
        assert_eq!(amended.len(), 1);
        assert_eq!(amended[0].row.id, rows[0].id, "the same event, amended");
        assert_eq!(count(&amended[0].row), 50, "every failure counted, throttled ones too");
        let details: serde_json::Value = serde_json::from_str(amended[0].row.details.as_deref().unwrap()).unwrap();
        assert_eq!(details["throttled"], 40);
        assert_eq!(details["first_at"], "2027-01-15T08:00:00Z");
        assert_eq!(details["last_at"], "2027-01-15T08:00:49Z");
        assert!(amended[0].real);
        assert_eq!(aggregator.len(), (0, 0), "a closed window is forgotten");
        assert!(aggregator.sweep(at(61), false).is_empty());
    }

    #[test]
    fn a_new_window_opens_a_new_event_and_closes_the_old_one() {
        let aggregator = FailureAggregator::new(Duration::from_secs(60));
        let first = aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", false), at(0));
        aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", false), at(1));
        let second = aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", false), at(70));
        let closed = second.closed.expect("the old window's final count");
        assert_eq!(closed.row.id, first.opened.unwrap().row.id);
        assert_eq!(count(&closed.row), 2);
        assert_ne!(second.opened.unwrap().row.id, closed.row.id);
    }

    #[test]
    fn open_windows_are_amended_every_few_seconds_and_only_with_news() {
        let aggregator = FailureAggregator::new(Duration::from_secs(60));
        aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", false), at(0));
        assert!(aggregator.sweep(at(10), false).is_empty(), "nothing new");
        aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", false), at(11));
        assert_eq!(count(&aggregator.sweep(at(12), false)[0].row), 2);
        aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", false), at(13));
        assert!(aggregator.sweep(at(14), false).is_empty(), "amended at most every 5 s");
        assert_eq!(count(&aggregator.sweep(at(17), false)[0].row), 3);
        aggregator.note(&failure(Some("gpc_real"), "192.0.2.1", false), at(17));
        let last = aggregator.sweep(at(18), true);
        assert_eq!(count(&last[0].row), 4, "shutdown writes what is pending");
        assert_eq!(aggregator.len(), (0, 0));
    }

    #[test]
    fn unknown_ids_are_counted_by_address_and_a_full_tier_overflows_without_touching_clients() {
        let aggregator = FailureAggregator::with_cap(Duration::from_secs(60), 100);
        aggregator.note(&failure(Some("gpc_victim"), "198.51.100.1", false), at(0));
        let mut opened = 0;
        for i in 0..1_000u32 {
            let address = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            let noted = aggregator.note(&failure(None, &address, true), at(1));
            opened += usize::from(noted.opened.is_some());
        }
        assert_eq!(opened, 101, "100 addresses and one overflow entry");
        assert_eq!(aggregator.len(), (1, 101));
        aggregator.note(&failure(Some("gpc_victim"), "198.51.100.1", false), at(2));
        let rows = aggregator.sweep(at(61), false);
        let victim = rows.iter().find(|w| w.real).unwrap();
        assert_eq!(count(&victim.row), 2, "the real client's count is exact");
        let overflow = rows.iter().find(|w| w.row.source_addr.as_deref() == Some("*")).unwrap();
        assert_eq!(count(&overflow.row), 900);
        assert_eq!(overflow.row.actor, "anonymous");
        assert_eq!(aggregator.len(), (0, 0), "memory returns after the flood");
    }

    #[test]
    fn ipv6_callers_are_aggregated_by_their_64() {
        let aggregator = FailureAggregator::new(Duration::from_secs(60));
        let a = aggregator.note(&failure(None, "2001:db8:0:1::1", false), at(0));
        let b = aggregator.note(&failure(None, "2001:db8:0:1::2", false), at(0));
        assert_eq!(a.opened.unwrap().row.source_addr.as_deref(), Some("2001:db8:0:1::"));
        assert!(b.opened.is_none());
    }
}
