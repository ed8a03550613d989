//! What every command opens: the data directory, the master key and the database.

use std::sync::Arc;

use gatepass_auth::master_key::{self, MasterKeySource};
use gatepass_core::{Clock, MasterKey, SystemClock};
use gatepass_store::Database;

use crate::config::Settings;

/// An opened installation.
pub struct Context {
    /// The master key (secret pepper, key-encryption key).
    pub master_key: MasterKey,
    /// The migrated database.
    pub db: Database,
    /// Now: the system clock, or a test's.
    pub clock: Arc<dyn Clock>,
}

impl Context {
    /// Creates the data directory, finds the master key, opens and migrates the database.
    /// `patient` (one-shot commands) waits up to 10 s for a connection instead of the
    /// request-path `database.acquire_timeout_ms` (a busy database is no reason to fail a
    /// migration or a rotation an operator asked for) and keeps no idle connection.
    pub fn open(settings: &Settings, patient: bool) -> Result<Self, Box<dyn std::error::Error>> {
        crate::data_files::prepare_dir(&settings.data_dir)
            .map_err(|e| format!("data_dir {}: {e}", settings.data_dir.display()))?;
        let environment = std::env::var("GATEPASS_MASTER_KEY").ok().filter(|v| !v.is_empty());
        let (master_key, source) = master_key::load(
            environment.as_deref(),
            settings.master_key_file(),
            &settings.data_dir,
            settings.secrets.generate_master_key,
        )?;
        if let MasterKeySource::Development(path) = &source {
            log::warn!(
                "using a development master key from {}; set GATEPASS_MASTER_KEY in production",
                path.display()
            );
        }
        let mut database = settings.database();
        if patient {
            // A one-shot command: wait longer, and keep no idle connection (see `min_idle`).
            database.acquire_timeout = database.acquire_timeout.max(std::time::Duration::from_secs(10));
            database.min_idle = 0;
        }
        if let Ok(gatepass_store::Backend::Sqlite(path)) = gatepass_store::Backend::parse(&database.url) {
            crate::data_files::prepare_sqlite(std::path::Path::new(&path))
                .map_err(|e| format!("database file {path}: {e}"))?;
        }
        let db = Database::open(&database)?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            log::info!("applied migrations {applied:?}");
        }
        Ok(Self {
            master_key,
            db,
            clock: Arc::new(SystemClock),
        })
    }
}
