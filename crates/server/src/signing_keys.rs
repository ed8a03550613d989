//! The admin crate's view of the signing-key schedule, kept by the token service: listing
//! and rotation run inside the admin command's transaction (so the new key and its audit
//! event commit together); a serving node then reloads its key ring.

use std::sync::Arc;

use gatepass_admin::keys::{KeySchedule, Rotation, SigningKey};
use gatepass_admin::problem::AdminError;
use gatepass_auth::keys::{self, KeyError, KeyManager, KeySettings, Plan};
use gatepass_core::MasterKey;
use gatepass_store::{Conn, signing_keys};
use zeroize::Zeroizing;

/// The schedule of an installation: its key settings, the master key that seals new keys
/// and, in `gatepass serve`, the node's key manager.
pub struct Schedule {
    kek: Zeroizing<[u8; 32]>,
    master_key_id: String,
    settings: KeySettings,
    node: Option<Arc<KeyManager>>,
}

impl Schedule {
    /// The schedule for `gatepass serve`: a rotation reloads `node`'s ring at once.
    pub fn serving(master_key: &MasterKey, node: Arc<KeyManager>) -> Self {
        Self {
            kek: master_key.key_encryption_key(),
            master_key_id: master_key.id(),
            settings: node.settings().clone(),
            node: Some(node),
        }
    }

    /// The schedule for a one-shot command: servers pick a rotation up at their next
    /// `keys.refresh_interval_seconds`.
    pub fn offline(master_key: &MasterKey, settings: KeySettings) -> Self {
        Self {
            kek: master_key.key_encryption_key(),
            master_key_id: master_key.id(),
            settings,
            node: None,
        }
    }
}

fn unavailable(error: &KeyError) -> AdminError {
    log::error!("signing key operation failed: {error}");
    AdminError::Store(gatepass_store::StoreError::Unavailable(error.to_string()))
}

impl KeySchedule for Schedule {
    fn list(&self, conn: &mut Conn, now: i64) -> Result<Vec<SigningKey>, AdminError> {
        let rows = signing_keys::list(conn)?;
        Ok(keys::summarize(&rows, now)
            .into_iter()
            .map(|key| SigningKey {
                kid: key.kid,
                algorithm: key.algorithm,
                state: serde_json::to_value(key.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                created_at: key.created_at,
                activates_at: key.activates_at,
                retires_at: key.retires_at,
                expires_at: key.expires_at,
            })
            .collect())
    }

    fn rotate(&self, conn: &mut Conn, now: i64) -> Result<Rotation, AdminError> {
        let plan = keys::rotate(conn, &self.kek, &self.master_key_id, &self.settings, now, true)
            .map_err(|e| unavailable(&e))?;
        Ok(match plan {
            Plan::Create { activates_at, .. } => Rotation::Scheduled(activates_at),
            Plan::AlreadyPending(activates_at) => Rotation::AlreadyPending(activates_at),
            Plan::Keep => Rotation::Unchanged,
        })
    }

    fn rotated(&self) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Some(node) = &self.node
                && let Err(error) = node.reload().await
            {
                log::error!("the new signing key is in the database but this node could not load it: {error}");
            }
        })
    }
}
