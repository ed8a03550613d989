//! Finding the master key: environment, key file, or a generated development key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatepass_core::MasterKey;
use ring::rand::{SecureRandom, SystemRandom};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why no master key could be had.
#[derive(Debug, Error)]
pub enum MasterKeyError {
    /// `GATEPASS_MASTER_KEY` is set but is not 32 bytes of base64.
    #[error("GATEPASS_MASTER_KEY must be 32 bytes, base64-encoded")]
    BadEnvironment,
    /// The key file could not be read or is malformed.
    #[error("master key file {0}: {1}")]
    BadFile(PathBuf, String),
    /// Production mode refuses to invent a key.
    #[error("no master key: set GATEPASS_MASTER_KEY or secrets.master_key_file")]
    Missing,
}

/// Where the master key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterKeySource {
    /// The `GATEPASS_MASTER_KEY` variable.
    Environment,
    /// A key file named in config.
    File(PathBuf),
    /// A development key generated in (or read back from) the data directory.
    Development(PathBuf),
}

/// Finds the master key: `GATEPASS_MASTER_KEY` (base64) first, then the configured key
/// file, then — unless `allow_generate` is false — `<data_dir>/master.key`, created
/// with mode 0600 on first use.
pub fn load(
    environment: Option<&str>,
    key_file: Option<&Path>,
    data_dir: &Path,
    allow_generate: bool,
) -> Result<(MasterKey, MasterKeySource), MasterKeyError> {
    if let Some(value) = environment {
        let key = MasterKey::from_base64(value).map_err(|_| MasterKeyError::BadEnvironment)?;
        return Ok((key, MasterKeySource::Environment));
    }
    if let Some(path) = key_file {
        return Ok((read(path)?, MasterKeySource::File(path.to_owned())));
    }
    if !allow_generate {
        return Err(MasterKeyError::Missing);
    }
    let path = data_dir.join("master.key");
    if path.exists() {
        return read_once_written(path);
    }
    let mut bytes = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| MasterKeyError::BadFile(path.clone(), "no randomness".into()))?;
    match write_private(&path, STANDARD.encode(bytes.as_ref()).as_bytes()) {
        Ok(()) => Ok((MasterKey::from_bytes(*bytes), MasterKeySource::Development(path))),
        // Another process (say `serve` and `bootstrap` started together) made it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_once_written(path),
        Err(e) => Err(MasterKeyError::BadFile(path.clone(), e.to_string())),
    }
}

/// Reads the development key another process may still be writing: retried for up to 1 s.
fn read_once_written(path: std::path::PathBuf) -> Result<(MasterKey, MasterKeySource), MasterKeyError> {
    let mut last = None;
    for _ in 0..20 {
        match read(&path) {
            Ok(key) => return Ok((key, MasterKeySource::Development(path))),
            Err(error) => last = Some(error),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(last.unwrap_or(MasterKeyError::Missing))
}

fn read(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let text =
        Zeroizing::new(fs::read_to_string(path).map_err(|e| MasterKeyError::BadFile(path.to_owned(), e.to_string()))?);
    MasterKey::from_base64(&text).map_err(|e| MasterKeyError::BadFile(path.to_owned(), e.to_string()))
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_key_is_generated_once_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, source) = load(None, None, dir.path(), true).unwrap();
        assert_eq!(source, MasterKeySource::Development(dir.path().join("master.key")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, _) = load(None, None, dir.path(), true).unwrap();
        assert_eq!(first.id(), second.id());
    }

    #[test]
    fn threads_racing_to_generate_the_development_key_agree_on_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let racers: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || load(None, None, &path, true).map(|(key, _)| key.id()))
            })
            .collect();
        let ids: Vec<String> = racers.into_iter().map(|r| r.join().unwrap().unwrap()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
    }

    #[test]
    fn environment_wins_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = STANDARD.encode([9u8; 32]);
        let (key, source) = load(Some(&env), None, dir.path(), true).unwrap();
        assert_eq!(source, MasterKeySource::Environment);
        assert_eq!(key.id(), MasterKey::from_bytes([9; 32]).id());
        assert!(matches!(
            load(Some("short"), None, dir.path(), true),
            Err(MasterKeyError::BadEnvironment)
        ));
        assert!(matches!(
            load(None, None, dir.path(), false),
            Err(MasterKeyError::Missing)
        ));
        assert!(!dir.path().join("master.key").exists());
    }
}
