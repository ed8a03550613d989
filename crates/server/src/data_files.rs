//! Permissions of what Gatepass keeps on disk: the data directory is created 0700 and the
//! `SQLite` database 0600 (`SQLite` gives its `-wal` and `-shm` files the database file's
//! mode; `master.key` is written 0600 by its own code). A directory or database that already
//! exists with a looser mode is left alone and warned about at start.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and missing parents) 0700, or warns when it exists readable by others.
pub fn prepare_dir(dir: &Path) -> io::Result<()> {
    prepare(dir, "data_dir")
}

fn prepare(dir: &Path, what: &str) -> io::Result<()> {
    if dir.exists() {
        warn_if_loose(dir, what);
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates an empty `SQLite` database file 0600 before `SQLite` would create it with the
/// process umask (usually 0644); warns about an existing one readable by others.
pub fn prepare_sqlite(path: &Path) -> io::Result<()> {
    if path.exists() {
        warn_if_loose(path, "database file");
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = Path::new(&side);
            if side.exists() {
                warn_if_loose(side, "database file");
            }
        }
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        prepare(parent, "database directory")?;
    }
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

fn warn_if_loose(path: &Path, what: &str) {
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            log::warn!(
                "{what} {} has mode {mode:o}: group or others may read it; chmod {} it",
                path.display(),
                if metadata.is_dir() { "700" } else { "600" }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_directory_and_database_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        prepare_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("gatepass.db");
        prepare_sqlite(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        prepare_sqlite(&db).unwrap();
        assert_eq!(mode(&db), 0o600, "an existing file is left as it is");
    }
}
