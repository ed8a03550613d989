//! The two migration directories describe one schema: the same migrations, and the same SQL
//! in each apart from comments, layout and the binary type (SQLite `BLOB`, PostgreSQL `BYTEA`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where its setup or check does"
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn migrations(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend)
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The statements of a migration file: comments dropped, whitespace collapsed, the binary
/// type and the auto-numbered key spelled one way.
fn statements(sql: &str) -> String {
    let code: Vec<&str> = sql
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect();
    code.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("BLOB", "BYTEA")
        .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
}

#[test]
fn sqlite_and_postgres_migrations_do_not_drift() {
    let (sqlite, postgres) = (migrations("sqlite"), migrations("postgres"));
    let names = names(&sqlite);
    assert!(!names.is_empty());
    assert_eq!(names, self::names(&postgres), "the same migrations on both backends");
    for name in &names {
        for file in ["up.sql", "down.sql"] {
            let read = |dir: &Path| fs::read_to_string(dir.join(name).join(file)).unwrap();
            let (a, b) = (statements(&read(&sqlite)), statements(&read(&postgres)));
            assert!(!a.is_empty(), "{name}/{file} is empty");
            assert_eq!(a, b, "{name}/{file} differs between sqlite and postgres");
        }
    }
}

#[test]
fn the_comparison_sees_a_real_difference() {
    assert_eq!(
        statements("CREATE TABLE t ( -- note\n  k BLOB NOT NULL\n);"),
        "CREATE TABLE t ( k BYTEA NOT NULL );"
    );
    assert_ne!(
        statements("CREATE TABLE t (k TEXT);"),
        statements("CREATE TABLE t (k BIGINT);")
    );
}
