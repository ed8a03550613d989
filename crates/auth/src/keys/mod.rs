//! Signing keys: generation, encryption at rest, the schedule, the JWKS and signing.

mod material;
mod schedule;

use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_core::{AccessTokenClaims, Clock, Kid, MasterKey};
use gatepass_store::signing_keys::{self, Retirement, SigningKeyRow};
use gatepass_store::{Conn, Database, StoreError};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use thiserror::Error;
use zeroize::Zeroizing;

pub use material::{PublicJwk, SigningAlgorithm};
pub use schedule::{KeySettings, KeyState, KeyTimes, Plan};

/// What can go wrong with signing keys.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// ring refused an operation (no randomness, bad key).
    #[error("cryptographic operation failed")]
    Crypto,
    /// A stored private key did not decrypt: wrong master key or a tampered row.
    #[error("signing key {0} does not decrypt with this master key")]
    Decrypt(String),
    /// A stored key row is unreadable.
    #[error("signing key row is corrupt: {0}")]
    Corrupt(String),
    /// No key signs right now.
    #[error("no active signing key")]
    NoActiveKey,
    /// jsonwebtoken failed to encode.
    #[error("token encoding failed: {0}")]
    Encode(#[from] jsonwebtoken::errors::Error),
}

/// A key ready to use: decrypted, parsed, with its header encoded.
pub struct LoadedKey {
    /// Its schedule.
    pub times: KeyTimes,
    /// Its algorithm.
    pub algorithm: SigningAlgorithm,
    /// Its public JWK.
    pub jwk: PublicJwk,
    /// The JOSE header every token it signs carries (`typ: at+jwt`, `alg`, `kid`), already
    /// base64url-encoded: the same for every token, so encoded once, when the key is loaded.
    encoded_header: String,
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
}

/// The keys a node knows, as loaded at one moment.
#[derive(Default)]
pub struct KeyRing {
    keys: Vec<Arc<LoadedKey>>,
}

impl KeyRing {
    /// The key that signs at `now`.
    pub fn signer(&self, now: i64) -> Option<&LoadedKey> {
        schedule::signer(&self.keys, |k| &k.times, now).map(AsRef::as_ref)
    }

    /// The public keys to publish at `now`: pending, active and retired ones.
    pub fn published(&self, now: i64) -> Vec<&PublicJwk> {
        self.keys
            .iter()
            .filter(|k| k.times.state(now) != KeyState::Expired)
            .map(|k| &k.jwk)
            .collect()
    }

    /// The JWKS document published at `now`.
    pub fn jwks_json(&self, now: i64) -> String {
        serde_json::json!({ "keys": self.published(now) }).to_string()
    }

    /// The state of every loaded key at `now`.
    pub fn states(&self, now: i64) -> Vec<KeyState> {
        self.keys.iter().map(|k| k.times.state(now)).collect()
    }

    /// Whether any key signs at `now`.
    pub fn is_ready(&self, now: i64) -> bool {
        self.signer(now).is_some()
    }

    /// The claims of `token` if one of this ring's published keys signed it, with the
    /// algorithm that key has (never `none`, never another), as an RFC 9068 access token
    /// (`typ: at+jwt`) from `issuer`, unexpired and not before its `nbf` at `now`.
    /// `None` for anything else: introspection does not say why.
    pub fn verify(&self, token: &str, issuer: &str, now: i64) -> Option<AccessTokenClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let kid = header.kid.as_deref()?;
        let key = self
            .keys
            .iter()
            .find(|k| k.times.kid == kid && k.times.state(now) != KeyState::Expired)?;
        if header.alg != key.algorithm.jwt() || !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
        {
            return None;
        }
        let mut validation = Validation::new(key.algorithm.jwt());
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_aud = false;
        // Time is judged below by the service's clock, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, &key.decoding_key, &validation)
            .ok()?
            .claims;
        (claims.exp > now && claims.nbf <= now).then_some(claims)
    }
}

/// Keeps a node's key ring in step with the database and signs tokens.
pub struct KeyManager {
    db: Database,
    kek: Zeroizing<[u8; 32]>,
    master_key_id: String,
    settings: KeySettings,
    clock: Arc<dyn Clock>,
    ring: RwLock<Arc<KeyRing>>,
}

impl KeyManager {
    /// A manager with an empty ring; call [`KeyManager::maintain`] before serving.
    pub fn new(db: Database, master_key: &MasterKey, settings: KeySettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            kek: master_key.key_encryption_key(),
            master_key_id: master_key.id(),
            settings,
            clock,
            ring: RwLock::new(Arc::new(KeyRing::default())),
        }
    }

    /// The schedule settings.
    pub fn settings(&self) -> &KeySettings {
        &self.settings
    }

    /// The ring as last loaded.
    pub fn ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs the schedule (makes the first key, or the next one when due) and reloads
    /// the ring. Called at start and every `refresh_interval`.
    pub async fn maintain(&self) -> Result<(), KeyError> {
        let now = self.clock.now().unix_timestamp();
        let kek = self.kek.clone();
        let (id, settings) = (self.master_key_id.clone(), self.settings.clone());
        let result = self
            .db
            .run(move |conn| Ok(rotate(conn, &kek, &id, &settings, now, false)))
            .await?;
        result?;
        self.reload().await
    }

    /// Loads the unexpired keys, reusing the ones already decrypted.
    pub async fn reload(&self) -> Result<(), KeyError> {
        let now = self.clock.now().unix_timestamp();
        let rows = self.db.run(move |conn| signing_keys::list_unexpired(conn, now)).await?;
        let current = self.ring();
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let times = times_of(&row);
            match current.keys.iter().find(|k| k.times.kid == row.kid) {
                Some(known) if known.times == times => keys.push(Arc::clone(known)),
                _ => keys.push(Arc::new(self.load(&row, times)?)),
            }
        }
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(KeyRing { keys });
        Ok(())
    }

    fn load(&self, row: &SigningKeyRow, times: KeyTimes) -> Result<LoadedKey, KeyError> {
        let algorithm: SigningAlgorithm = row.algorithm.parse()?;
        let jwk: PublicJwk = serde_json::from_str(&row.public_jwk).map_err(|e| KeyError::Corrupt(e.to_string()))?;
        let pkcs8 = material::open(&self.kek, &row.kid, &row.private_key)?;
        let encoding_key = match algorithm {
            SigningAlgorithm::ES256 => EncodingKey::from_ec_der(&pkcs8),
            SigningAlgorithm::EdDSA => EncodingKey::from_ed_der(&pkcs8),
        };
        let decoding_key = match (algorithm, &jwk.y) {
            (SigningAlgorithm::ES256, Some(y)) => DecodingKey::from_ec_components(&jwk.x, y)?,
            (SigningAlgorithm::EdDSA, None) => DecodingKey::from_ed_components(&jwk.x)?,
            _ => {
                return Err(KeyError::Corrupt(format!(
                    "public key of {} does not fit its algorithm",
                    row.kid
                )));
            }
        };
        let mut header = Header::new(algorithm.jwt());
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some(row.kid.clone());
        let encoded_header =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(jsonwebtoken::errors::Error::from)?);
        Ok(LoadedKey {
            times,
            algorithm,
            jwk,
            encoded_header,
            encoding_key,
            decoding_key,
        })
    }

    /// Signs access-token claims with the key active now.
    pub fn sign(&self, claims: &AccessTokenClaims) -> Result<String, KeyError> {
        let ring = self.ring();
        let key = ring
            .signer(self.clock.now().unix_timestamp())
            .ok_or(KeyError::NoActiveKey)?;
        // What `jsonwebtoken::encode` does, with the header encoded once per key instead of
        // once per token: `base64url(header) . base64url(claims)`, signed by jsonwebtoken's
        // crypto provider (ring).
        let claims = crate::json::claims(claims).map_err(jsonwebtoken::errors::Error::from)?;
        let mut token = String::with_capacity(key.encoded_header.len() + claims.len() * 4 / 3 + 100);
        token.push_str(&key.encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = jsonwebtoken::crypto::sign(token.as_bytes(), &key.encoding_key, key.algorithm.jwt())?;
        token.push('.');
        token.push_str(&signature);
        Ok(token)
    }
}

/// Decrypts a stored signing key's PKCS#8 document with the master key: for tooling that
/// must sign as the server (key export, tests that forge claims with a trusted key).
pub fn decrypt_private_key(master_key: &MasterKey, row: &SigningKeyRow) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    material::open(&master_key.key_encryption_key(), &row.kid, &row.private_key)
}

fn times_of(row: &SigningKeyRow) -> KeyTimes {
    KeyTimes {
        kid: row.kid.clone(),
        activates_at: row.activates_at,
        retires_at: row.retires_at,
        expires_at: row.expires_at,
    }
}

/// Advances the key schedule in the database (the same code for the server's timer and
/// every rotation an admin asks for, through `gatepass_admin::keys::rotate`). Returns the plan that was carried out.
pub fn rotate(
    conn: &mut Conn,
    kek: &[u8; 32],
    master_key_id: &str,
    settings: &KeySettings,
    now: i64,
    forced: bool,
) -> Result<Plan, KeyError> {
    // Nearly every call (each `refresh_interval`, on every node) finds nothing due: decide
    // that from a plain read, before making and sealing a key only to throw it away. What
    // the read says is due is decided again under the lock.
    let times: Vec<KeyTimes> = signing_keys::list(conn)?.iter().map(times_of).collect();
    let unlocked = schedule::plan(&times, now, settings, forced);
    if !matches!(unlocked, Plan::Create { .. }) {
        return Ok(unlocked);
    }
    // Made before the transaction so the write lock is held only for the writes.
    let kid = Kid::generate();
    let fresh = material::generate(settings.algorithm, &kid)?;
    let sealed = material::seal(kek, &kid, &fresh.pkcs8)?;
    let jwk = serde_json::to_string(&fresh.jwk).map_err(|e| KeyError::Corrupt(e.to_string()))?;
    let plan = signing_keys::rotate_if(conn, now, |rows| {
        let times: Vec<KeyTimes> = rows.iter().map(times_of).collect();
        let plan = schedule::plan(&times, now, settings, forced);
        let change = match &plan {
            Plan::Create { activates_at, retire } => Some((
                SigningKeyRow {
                    kid: kid.to_string(),
                    algorithm: settings.algorithm.as_str().to_owned(),
                    public_jwk: jwk,
                    private_key: sealed,
                    master_key_id: master_key_id.to_owned(),
                    created_at: now,
                    activates_at: *activates_at,
                    retires_at: None,
                    expires_at: None,
                },
                retire
                    .iter()
                    .map(|(kid, retires_at, expires_at)| Retirement {
                        kid: kid.clone(),
                        retires_at: *retires_at,
                        expires_at: *expires_at,
                    })
                    .collect(),
            )),
            Plan::Keep | Plan::AlreadyPending(_) => None,
        };
        (plan, change)
    })?;
    if let Plan::Create { activates_at, .. } = &plan {
        log::info!("signing key created kid={kid} activates_at={activates_at}");
    }
    Ok(plan)
}

/// One key as the `keys list` command and the admin API show it.
#[derive(Clone, Debug, Serialize)]
pub struct KeySummary {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub algorithm: String,
    /// State now.
    pub state: KeyState,
    /// Creation (publication) time.
    pub created_at: String,
    /// Starts signing.
    pub activates_at: String,
    /// Stops signing.
    pub retires_at: Option<String>,
    /// Leaves the JWKS.
    pub expires_at: Option<String>,
}

/// Describes every key for listings.
pub fn summarize(rows: &[SigningKeyRow], now: i64) -> Vec<KeySummary> {
    let fmt =
        |t: i64| time::OffsetDateTime::from_unix_timestamp(t).map_or_else(|_| t.to_string(), gatepass_core::format_utc);
    rows.iter()
        .map(|row| KeySummary {
            kid: row.kid.clone(),
            algorithm: row.algorithm.clone(),
            state: times_of(row).state(now),
            created_at: fmt(row.created_at),
            activates_at: fmt(row.activates_at),
            retires_at: row.retires_at.map(fmt),
            expires_at: row.expires_at.map(fmt),
        })
        .collect()
}
