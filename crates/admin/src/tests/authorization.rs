//! The target rule at the command level: a caller holding less than a client reaches can not
//! widen it by any field, and nothing changes.

use gatepass_store::both_backends;

use super::{client_view, setup_client};
use crate::access::ClientsWrite;
use crate::clients;
use crate::problem::AdminError;
use crate::requests::{ChangeClient, CreateClient};
use crate::testing::{Bench, text};

both_backends! {
    async fn a_clients_writer_can_not_reopen_an_admin_client_by_expiry_or_audience(backend) {
        let Some(bench) = Bench::new(backend, false) else { return };
        let made = setup_client(&bench, CreateClient {
            scopes: vec!["gatepass:admin".into()],
            audiences: vec!["billing".into()],
            expires_at: Some("2026-12-01T13:00:00Z".into()),
            ..CreateClient::default()
        }).await;
        let target = text(&made, "/client/client_id");
        bench.clock.advance(time::Duration::hours(2));
        let before = client_view(&bench, &target).await;
        let writer = Bench::caller::<ClientsWrite>("gpc_writer", None, "gatepass:clients:read gatepass:clients:write");
        for change in [
            ChangeClient { expires_at: Some(None), ..ChangeClient::default() },
            ChangeClient { expires_at: Some(Some("2027-01-01T00:00:00Z".into())), ..ChangeClient::default() },
            ChangeClient { audiences: Some(Vec::new()), ..ChangeClient::default() },
            ChangeClient { status: Some("active".into()), ..ChangeClient::default() },
        ] {
            let result = clients::change(&bench.state, &writer, target.clone(), change.clone()).await;
            assert!(matches!(&result, Err(AdminError::Outranked(scope)) if scope == "gatepass:admin"), "{change:?}: {:?}", result.err());
            assert_eq!(client_view(&bench, &target).await, before, "{change:?} changed something");
        }
    }
}
