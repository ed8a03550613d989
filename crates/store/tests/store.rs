//! Repository tests: one body each, run on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where its setup or check does"
)]

use std::sync::{Arc, Barrier};

use gatepass_store::both_backends;
use gatepass_store::clients::ClientRow;
use gatepass_store::roles::RoleRow;
use gatepass_store::secrets::SecretRow;
use gatepass_store::service_accounts::ServiceAccountRow;
use gatepass_store::signing_keys::SigningKeyRow;
use gatepass_store::testing::{TestBackend, TestDatabase};
use gatepass_store::{Database, DatabaseSettings, StoreError};

fn open(backend: TestBackend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(backend).expect("test database");
    let db = Database::open(&DatabaseSettings::new(&test.url)).unwrap();
    db.migrate().unwrap();
    (test, db)
}

fn client(id: &str, service_account: Option<&str>) -> ClientRow {
    ClientRow {
        client_id: id.into(),
        name: format!("name-{id}"),
        service_account_id: service_account.map(Into::into),
        scopes: "a b c".into(),
        audiences: "api".into(),
        labels: "{}".into(),
        token_ttl_seconds: Some(300),
        disabled: false,
        expires_at: None,
        created_at: 1,
        updated_at: 1,
        last_used_at: None,
    }
}

fn secret(id: &str, client_id: &str, hash: u8) -> SecretRow {
    SecretRow {
        id: id.into(),
        client_id: client_id.into(),
        secret_hash: vec![hash; 32],
        key_prefix: "gps_abcdefgh".into(),
        label: None,
        created_at: 1,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        use_count: 0,
    }
}

fn key(kid: &str, activates_at: i64) -> SigningKeyRow {
    SigningKeyRow {
        kid: kid.into(),
        algorithm: "ES256".into(),
        public_jwk: "{}".into(),
        private_key: vec![1, 2, 3],
        master_key_id: "m".into(),
        created_at: activates_at,
        activates_at,
        retires_at: None,
        expires_at: None,
    }
}

both_backends! {
    async fn migrations_apply_once_and_the_database_answers(backend) {
        let (_test, db) = open(backend);
        assert!(db.migrate().unwrap().is_empty(), "second run applies nothing");
        db.ping().await.unwrap();
    }

    async fn a_secret_is_found_by_its_hash_with_client_service_account_and_roles(backend) {
        let (_test, db) = open(backend);
        let mut conn = db.conn().unwrap();
        let role = RoleRow { name: "reader".into(), description: String::new(), scopes: "b c".into(), created_at: 1, updated_at: 1 };
        gatepass_store::roles::insert(&mut conn, &role).unwrap();
        let account = ServiceAccountRow { id: "sa1".into(), name: "billing".into(), description: String::new(), disabled: false, created_at: 1, updated_at: 1 };
        gatepass_store::service_accounts::insert(&mut conn, &account, &["reader".to_owned()]).unwrap();
        gatepass_store::clients::insert(&mut conn, &client("c1", Some("sa1"))).unwrap();
        gatepass_store::secrets::insert(&mut conn, &secret("s1", "c1", 7)).unwrap();

        let found = gatepass_store::credentials::find_by_hash(&mut conn, &[7; 32]).unwrap().unwrap();
        assert_eq!(found.client.client_id, "c1");
        assert_eq!(found.secret.secret_hash, vec![7; 32]);
        let (sa, roles) = found.service_account.unwrap();
        assert_eq!(sa.name, "billing");
        assert_eq!(roles, vec![role]);
        assert!(gatepass_store::credentials::find_by_hash(&mut conn, &[8; 32]).unwrap().is_none());
    }

    async fn duplicates_are_conflicts_not_faults(backend) {
        let (_test, db) = open(backend);
        let mut conn = db.conn().unwrap();
        gatepass_store::clients::insert(&mut conn, &client("c1", None)).unwrap();
        let again = gatepass_store::clients::insert(&mut conn, &client("c1", None));
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        gatepass_store::secrets::insert(&mut conn, &secret("s1", "c1", 1)).unwrap();
        let same_hash = gatepass_store::secrets::insert(&mut conn, &secret("s2", "c1", 1));
        assert!(matches!(same_hash, Err(StoreError::Conflict(_))), "{same_hash:?}");
        let orphan = gatepass_store::secrets::insert(&mut conn, &secret("s3", "nobody", 2));
        assert!(matches!(orphan, Err(StoreError::Conflict(_))), "{orphan:?}");
    }

    async fn revoking_and_disabling_are_seen_by_the_lookup(backend) {
        let (_test, db) = open(backend);
        let mut conn = db.conn().unwrap();
        gatepass_store::clients::insert(&mut conn, &client("c1", None)).unwrap();
        gatepass_store::secrets::insert(&mut conn, &secret("s1", "c1", 3)).unwrap();
        assert!(gatepass_store::secrets::revoke(&mut conn, "s1", 50).unwrap());
        assert!(!gatepass_store::secrets::revoke(&mut conn, "s1", 60).unwrap(), "revoked once");
        let disabled = ClientRow { disabled: true, updated_at: 50, ..client("c1", None) };
        assert!(gatepass_store::clients::update(&mut conn, &disabled).unwrap());
        let found = gatepass_store::credentials::find_by_hash(&mut conn, &[3; 32]).unwrap().unwrap();
        assert_eq!(found.secret.revoked_at, Some(50));
        assert!(found.client.disabled);
    }

    async fn concurrent_schedule_changes_on_two_connections_make_one_key(backend) {
        let (_test, db) = open(backend);
        let barrier = Arc::new(Barrier::new(2));
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (db, barrier) = (db.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let mut conn = db.conn().unwrap();
                    barrier.wait();
                    gatepass_store::signing_keys::rotate_if(&mut conn, 100, |existing| {
                        // Slow decision, so both would create a key without the lock.
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        if existing.is_empty() { (true, Some((key(&format!("k{i}"), 100), vec![]))) } else { (false, None) }
                    })
                    .unwrap()
                })
            })
            .collect();
        let created: Vec<bool> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
        assert_eq!(gatepass_store::signing_keys::list(&mut db.conn().unwrap()).unwrap().len(), 1);
    }
}
