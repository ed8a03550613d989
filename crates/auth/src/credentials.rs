//! Client authentication: what a presented secret proves, and why it may not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::OnceCell;

use gatepass_core::policy::ClientAllowance;
use gatepass_core::{Audience, Clock, Lapse, SecretHash, Standing};
use gatepass_store::credentials::CredentialRecord;
use gatepass_store::{Fault, StoreError};

/// Why client authentication failed. The caller always sees the same `invalid_client`;
/// the audit log sees this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Neither Basic nor body credentials.
    NoCredentials,
    /// The secret is not a Gatepass secret (bad shape or checksum).
    MalformedSecret,
    /// No stored secret has this hash.
    UnknownSecret,
    /// The secret belongs to a different client id.
    ClientMismatch,
    /// The secret was revoked.
    SecretRevoked,
    /// The secret is past its expiry.
    SecretExpired,
    /// The client is disabled.
    ClientDisabled,
    /// The client is past its expiry date.
    ClientExpired,
    /// The client's service account is disabled.
    ServiceAccountDisabled,
}

impl Rejection {
    /// Whether the presented client id is known to exist: the secret matched and
    /// belongs to it (only its standing failed).
    pub fn proves_client(self) -> bool {
        matches!(
            self,
            Self::SecretRevoked
                | Self::SecretExpired
                | Self::ClientDisabled
                | Self::ClientExpired
                | Self::ServiceAccountDisabled
        )
    }

    /// The reason as written to the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoCredentials => "no_credentials",
            Self::MalformedSecret => "malformed_secret",
            Self::UnknownSecret => "unknown_secret",
            Self::ClientMismatch => "client_mismatch",
            Self::SecretRevoked => "secret_revoked",
            Self::SecretExpired => "secret_expired",
            Self::ClientDisabled => "client_disabled",
            Self::ClientExpired => "client_expired",
            Self::ServiceAccountDisabled => "service_account_disabled",
        }
    }
}

impl From<Lapse> for Rejection {
    fn from(lapse: Lapse) -> Self {
        match lapse {
            Lapse::SecretRevoked => Self::SecretRevoked,
            Lapse::SecretExpired => Self::SecretExpired,
            Lapse::ClientDisabled => Self::ClientDisabled,
            Lapse::ClientExpired => Self::ClientExpired,
            Lapse::ServiceAccountDisabled => Self::ServiceAccountDisabled,
        }
    }
}

/// What the token endpoint needs to know about a stored secret, prepared once and
/// cached briefly so the hot path does not touch the database.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The client the secret belongs to.
    pub client_id: String,
    /// The secret's id.
    pub secret_id: String,
    secret_hash: SecretHash,
    standing: Standing,
    /// The service account's id, if the client belongs to one.
    pub service_account: Option<String>,
    /// Its role names.
    pub roles: Vec<String>,
    /// The scopes and audiences the client may get.
    pub allowance: ClientAllowance,
    /// The client's token lifetime override.
    pub token_ttl: Option<i64>,
}

impl Credential {
    /// Prepares a stored record; unreadable values are corrupt data, not a refusal.
    pub fn from_record(record: &CredentialRecord) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("client {}: {what}", record.client.client_id));
        let secret_hash = SecretHash::from_slice(&record.secret.secret_hash).ok_or_else(|| corrupt("secret hash"))?;
        let audiences = record
            .client
            .audiences
            .split_whitespace()
            .map(Audience::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| corrupt("audiences"))?;
        let (service_account, roles) = match &record.service_account {
            None => (None, Vec::new()),
            Some((account, roles)) => (Some(account.id.clone()), roles.iter().map(|r| r.name.clone()).collect()),
        };
        Ok(Self {
            client_id: record.client.client_id.clone(),
            secret_id: record.secret.id.clone(),
            secret_hash,
            standing: record.standing(),
            service_account,
            roles,
            allowance: ClientAllowance {
                scopes: record.effective_scopes()?,
                audiences,
            },
            token_ttl: record.client.token_ttl_seconds,
        })
    }

    /// Checks a presentation of this credential at `now` (seconds since the epoch).
    pub fn verify(&self, client_id: &str, hash: &SecretHash, now: i64) -> Result<(), Rejection> {
        if !self.secret_hash.ct_eq(&hash.0) {
            return Err(Rejection::UnknownSecret);
        }
        if self.client_id != client_id {
            return Err(Rejection::ClientMismatch);
        }
        self.standing(now)
    }

    /// Whether the secret, its client and service account are usable at `now`.
    pub fn standing(&self, now: i64) -> Result<(), Rejection> {
        self.standing.check(now).map_err(Rejection::from)
    }
}

/// Recently read credentials by secret hash. An entry is fresh for `ttl` (default 500 ms) by
/// the server's clock, which bounds how long a revocation made elsewhere (another node, the
/// CLI) takes to bite. Failed lookups are not cached. Concurrent misses for one hash share
/// one database read, so an entry expiring under load does not send every in-flight request
/// to the database.
pub struct CredentialCache {
    entries: moka::sync::Cache<[u8; 32], Entry>,
    loading: Mutex<HashMap<[u8; 32], Arc<OnceCell<Loaded>>>>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

/// A credential and when it was read, by the clock.
#[derive(Clone)]
struct Entry {
    credential: Arc<Credential>,
    read_at: OffsetDateTime,
}

/// What one shared load produced: the credential, none, or the store's fault.
type Loaded = Result<Option<Arc<Credential>>, Fault>;

/// How long past its freshness an entry may stay in memory (bounded by the capacity
/// anyway): freshness is judged by the clock, this only gives the memory back.
const KEEP_STALE: Duration = Duration::from_secs(60);

impl CredentialCache {
    /// A cache whose entries are fresh for `ttl` by `clock`.
    pub fn new(ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl + KEEP_STALE)
                .build(),
            loading: Mutex::new(HashMap::new()),
            ttl,
            clock,
        }
    }

    /// Drops every cached credential, so the next request of each reads the database again.
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    /// The cached credential for `hash`, if there is one still fresh.
    pub fn get(&self, hash: &SecretHash) -> Option<Arc<Credential>> {
        let entry = self.entries.get(&hash.0)?;
        (self.clock.now() - entry.read_at < self.ttl).then_some(entry.credential)
    }

    /// The credential for `hash`, loading it with `load` on a miss. Callers that miss
    /// while a load is in flight wait for that load instead of starting their own.
    pub async fn get_or_load<F, Fut>(&self, hash: &SecretHash, load: F) -> Loaded
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Credential>, StoreError>>,
    {
        if let Some(found) = self.get(hash) {
            return Ok(Some(found));
        }
        let cell = {
            let mut loading = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(loading.entry(hash.0).or_default())
        };
        let loaded = cell
            .get_or_init(|| async {
                let loaded = load().await.map(|found| found.map(Arc::new)).map_err(Fault::from);
                if let Ok(Some(credential)) = &loaded {
                    let entry = Entry {
                        credential: Arc::clone(credential),
                        read_at: self.clock.now(),
                    };
                    self.entries.insert(hash.0, entry);
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

#[cfg(test)]
mod tests {
    use super::*;
    use gatepass_store::clients::ClientRow;
    use gatepass_store::roles::RoleRow;
    use gatepass_store::secrets::SecretRow;
    use gatepass_store::service_accounts::ServiceAccountRow;

    fn record() -> CredentialRecord {
        CredentialRecord {
            secret: SecretRow {
                id: "s1".into(),
                client_id: "c1".into(),
                secret_hash: vec![7; 32],
                key_prefix: "gps_abcdefgh".into(),
                label: None,
                created_at: 0,
                expires_at: None,
                revoked_at: None,
                last_used_at: None,
                use_count: 0,
            },
            client: ClientRow {
                client_id: "c1".into(),
                name: "c".into(),
                service_account_id: None,
                scopes: "a b".into(),
                audiences: "api".into(),
                labels: "{}".into(),
                token_ttl_seconds: None,
                disabled: false,
                expires_at: None,
                created_at: 0,
                updated_at: 0,
                last_used_at: None,
            },
            service_account: None,
        }
    }

    type Case = (fn(&mut CredentialRecord), Rejection);

    #[test]
    fn each_failure_has_its_own_reason() {
        let hash = SecretHash([7; 32]);
        let ok = Credential::from_record(&record()).unwrap();
        assert_eq!(ok.verify("c1", &hash, 10), Ok(()));
        assert_eq!(ok.verify("c1", &SecretHash([8; 32]), 10), Err(Rejection::UnknownSecret));
        assert_eq!(ok.verify("c2", &hash, 10), Err(Rejection::ClientMismatch));
        let cases: [Case; 5] = [
            (|r| r.secret.revoked_at = Some(1), Rejection::SecretRevoked),
            (|r| r.secret.expires_at = Some(10), Rejection::SecretExpired),
            (|r| r.client.disabled = true, Rejection::ClientDisabled),
            (|r| r.client.expires_at = Some(5), Rejection::ClientExpired),
            (
                |r| {
                    r.service_account = Some((
                        ServiceAccountRow {
                            id: "sa".into(),
                            name: "sa".into(),
                            description: String::new(),
                            disabled: true,
                            created_at: 0,
                            updated_at: 0,
                        },
                        vec![],
                    ));
                },
                Rejection::ServiceAccountDisabled,
            ),
        ];
        for (change, reason) in cases {
            let mut r = record();
            change(&mut r);
            assert_eq!(
                Credential::from_record(&r).unwrap().verify("c1", &hash, 10),
                Err(reason)
            );
        }
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_load_and_failures_are_not_cached() {
        let clock = Arc::new(gatepass_core::ManualClock::new(
            time::macros::datetime!(2026-12-01 12:00 UTC),
        ));
        let cache = Arc::new(CredentialCache::new(Duration::from_secs(60), clock.clone()));
        let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let hash = SecretHash([7; 32]);
        let mut waiting = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (cache, loads) = (Arc::clone(&cache), Arc::clone(&loads));
            waiting.spawn(async move {
                cache
                    .get_or_load(&hash, || async move {
                        loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);

        let other = SecretHash([9; 32]);
        let failed = cache.get_or_load(&other, || async { Err(StoreError::Busy) }).await;
        assert!(failed.is_err());
        assert!(
            cache
                .get_or_load(&other, || async { Ok(None) })
                .await
                .unwrap()
                .is_none(),
            "the error was not cached"
        );
        assert!(cache.get(&other).is_none(), "absence is not cached");

        // Fresh for exactly the ttl by the clock, then read again.
        clock.advance(time::Duration::seconds(59));
        assert!(cache.get(&hash).is_some(), "fresh within the ttl");
        clock.advance(time::Duration::seconds(1));
        assert!(cache.get(&hash).is_none(), "stale once the ttl has passed on the clock");
        let reloaded = cache.get_or_load(&hash, || async { Ok(None) }).await.unwrap();
        assert!(reloaded.is_none(), "a stale entry is read again, not served");
    }

    #[test]
    fn service_account_roles_narrow_the_allowed_scopes() {
        let mut r = record();
        let account = ServiceAccountRow {
            id: "sa".into(),
            name: "sa".into(),
            description: String::new(),
            disabled: false,
            created_at: 0,
            updated_at: 0,
        };
        let role = RoleRow {
            name: "reader".into(),
            description: String::new(),
            scopes: "b c".into(),
            created_at: 0,
            updated_at: 0,
        };
        r.service_account = Some((account, vec![role]));
        let credential = Credential::from_record(&r).unwrap();
        assert_eq!(credential.allowance.scopes.to_string(), "b");
        assert_eq!(credential.roles, vec!["reader".to_owned()]);
    }
}
