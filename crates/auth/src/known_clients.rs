//! The client ids that exist, held in memory so a failed authentication can tell a real
//! client id (counted exactly, by id) from an attacker's random one (counted by address)
//! without a database read per failure.
//!
//! Reloaded in the background (every few seconds and after an admin change on this node);
//! ids seen on a credential read from the database are added at once. Memory is bounded by
//! the number of real clients.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use gatepass_store::{Database, StoreError};

/// The set of client ids that exist.
#[derive(Default)]
pub struct KnownClients {
    ids: RwLock<Arc<HashSet<String>>>,
}

impl KnownClients {
    /// Whether `client_id` exists (as of the last reload).
    pub fn contains(&self, client_id: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(client_id)
    }

    /// Adds an id just seen in the database.
    pub fn learn(&self, client_id: &str) {
        if self.contains(client_id) {
            return;
        }
        let mut ids = self.ids.write().unwrap_or_else(PoisonError::into_inner);
        Arc::make_mut(&mut ids).insert(client_id.to_owned());
    }

    /// Reloads every id; returns how many exist.
    pub async fn reload(&self, db: &Database) -> Result<usize, StoreError> {
        let ids: HashSet<String> = db.run(gatepass_store::clients::ids).await?.into_iter().collect();
        let count = ids.len();
        *self.ids.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(ids);
        Ok(count)
    }
}
