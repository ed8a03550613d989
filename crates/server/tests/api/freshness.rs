//! Credentials fresh until they change (docs/operations.md, "Credential freshness"): a change
//! made anywhere reaches a running server through the change feed within a second, nothing
//! else is read again, and a node that slept past the feed's retention starts over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatepass_core::{Clock, ManualClock};
use gatepass_store::both_backends;
use gatepass_store::testing::TestDatabase;

use crate::helpers::{ClientSpec, TestApp, eventually, spawn_in_process};

async fn status(app: &TestApp, creds: &crate::helpers::Credentials) -> u16 {
    app.token_basic(creds, &[("grant_type", "client_credentials")])
        .await
        .status()
        .as_u16()
}

both_backends! {
    async fn a_revocation_from_the_command_line_is_seen_by_a_running_server_within_a_second(backend) {
        let database = Arc::new(TestDatabase::create(backend).unwrap());
        let clock = Arc::new(ManualClock::new(gatepass_core::SystemClock.now()));
        let app = spawn_in_process(&database, &clock, "").await;
        let (creds, bystander) = (app.seed_client(&ClientSpec::default()), app.seed_client(&ClientSpec::default()));
        assert_eq!(status(&app, &creds).await, 200);
        assert_eq!(status(&app, &bystander).await, 200);
        let secret = gatepass_store::secrets::list_for_client(&mut app.db().conn().unwrap(), &creds.client_id).unwrap()[0].id.clone();

        // The CLI writes the database directly (its own process), through the admin layer.
        let revoke = app.cli(&["clients", "secrets", "revoke", &creds.client_id, &secret]);
        assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
        let revoked = Instant::now();
        let refused = eventually(Duration::from_secs(1), || async { (status(&app, &creds).await == 401).then_some(()) }).await;
        assert!(refused.is_some(), "still issued {:?} after the revocation", revoked.elapsed());

        // Disabling the other client from the CLI too; nothing else was read again meanwhile.
        let reads = app.counter("gatepass_credential_reads_total").await;
        let disable = app.cli(&["clients", "update", &bystander.client_id, "--status", "disabled"]);
        assert!(disable.status.success(), "{}", String::from_utf8_lossy(&disable.stderr));
        let refused = eventually(Duration::from_secs(1), || async { (status(&app, &bystander).await == 401).then_some(()) }).await;
        assert!(refused.is_some());
        assert_eq!(app.counter("gatepass_credential_reads_total").await, reads + 1, "one read: the changed client");
    }

    async fn a_node_that_slept_past_the_feed_retention_drops_its_whole_cache(backend) {
        let database = Arc::new(TestDatabase::create(backend).unwrap());
        let clock = Arc::new(ManualClock::new(gatepass_core::SystemClock.now()));
        let app = spawn_in_process(&database, &clock, "[cache]\nchange_feed_retention_seconds = 60\n").await;
        let creds = app.seed_client(&ClientSpec::default());
        assert_eq!(status(&app, &creds).await, 200);
        let reads = app.counter("gatepass_credential_reads_total").await;
        assert_eq!(status(&app, &creds).await, 200);
        assert_eq!(app.counter("gatepass_credential_reads_total").await, reads, "served from the cache");

        // The node's clock moves past the retention between two reads of the feed (it slept):
        // the changes it missed may be gone, so it reads every credential again.
        assert_eq!(app.counter("gatepass_credential_cache_resets_total").await, 0);
        clock.advance(time::Duration::seconds(61));
        let reset = eventually(Duration::from_secs(5), || async {
            (app.counter("gatepass_credential_cache_resets_total").await == 1).then_some(())
        })
        .await;
        assert!(reset.is_some(), "the node kept its cache");
        assert_eq!(status(&app, &creds).await, 200);
        assert_eq!(app.counter("gatepass_credential_reads_total").await, reads + 1, "read again after the reset");
    }

    async fn a_clock_that_jumps_back_an_hour_still_sees_every_change(backend) {
        let database = Arc::new(TestDatabase::create(backend).unwrap());
        let clock = Arc::new(ManualClock::new(gatepass_core::SystemClock.now()));
        let app = spawn_in_process(&database, &clock, "").await;
        let creds = app.seed_client(&ClientSpec::default());
        // Hours on (the signing key made at start long active), then the clock jumps back one.
        clock.advance(time::Duration::hours(2));
        assert_eq!(status(&app, &creds).await, 200);
        clock.advance(time::Duration::hours(-1));
        let back = app.token_basic(&creds, &[("grant_type", "client_credentials")]).await;
        assert_eq!(back.status(), 200, "served as before: {}", back.text().await.unwrap());
        let disable = app.cli(&["clients", "update", &creds.client_id, "--status", "disabled"]);
        assert!(disable.status.success(), "{}", String::from_utf8_lossy(&disable.stderr));
        let refused = eventually(Duration::from_secs(1), || async { (status(&app, &creds).await == 401).then_some(()) }).await;
        assert!(refused.is_some(), "the change feed does not depend on the clock");
    }
}
