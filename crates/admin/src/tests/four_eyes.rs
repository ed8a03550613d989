//! Four-eyes decides on the identity and standing recorded when the request was filed, and
//! undoing an expiry or opening the admin audience is widening.

use gatepass_store::both_backends;
use serde_json::{Value, json};

use super::{client_view, setup_account, setup_admin, setup_client};
use crate::access::{Admin, ClientsWrite, ServiceAccountsWrite};
use crate::clients;
use crate::four_eyes::{self, ApprovalQuery};
use crate::problem::AdminError;
use crate::requests::{ChangeClient, CreateClient};
use crate::requests::{ChangeServiceAccount, CreateRole};
use crate::roles;
use crate::service_accounts;
use crate::testing::{Bench, ISSUER, done, filed, text};

/// A request `requester` files: a new role `name` with a `gatepass:*` scope.
async fn file_role(bench: &Bench, requester: &str, name: &str) -> String {
    let caller = bench.as_client::<ServiceAccountsWrite>(requester).await;
    let input = CreateRole {
        name: name.to_owned(),
        description: String::new(),
        scopes: vec!["gatepass:audit:read".into()],
    };
    filed(roles::create(&bench.state, &caller, input).await)
}

/// The pending request `id` as the approvals list shows it.
async fn listed(bench: &Bench, id: &str) -> Value {
    let caller = Bench::operator();
    let page = four_eyes::list(&bench.state, &caller, ApprovalQuery::default())
        .await
        .unwrap();
    let page = serde_json::to_value(page).unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not listed: {page}"))
}

async fn role_exists(bench: &Bench, name: &str) -> bool {
    let name = name.to_owned();
    bench
        .with_conn(move |conn| gatepass_store::roles::get(conn, &name))
        .await
        .is_some()
}

async fn patch(
    bench: &Bench,
    by: &str,
    client_id: &str,
    change: ChangeClient,
) -> Result<crate::Outcome<crate::views::Client>, AdminError> {
    let caller = bench.as_client::<ClientsWrite>(by).await;
    clients::change(&bench.state, &caller, client_id.to_owned(), change).await
}

both_backends! {
    async fn deleting_the_requester_does_not_let_its_own_service_account_approve(backend) {
        let Some(bench) = Bench::new(backend, true) else { return };
        let ops = setup_account(&bench, "ops", &["admin"]).await;
        let a = setup_admin(&bench, Some(&ops)).await;
        let b = setup_admin(&bench, Some(&ops)).await;
        let other = setup_admin(&bench, None).await;
        let a_caller = bench.as_client::<ClientsWrite>(&a).await;
        let new_admin = CreateClient { scopes: vec!["gatepass:admin".into()], ..CreateClient::default() };
        let request = filed(clients::create(&bench.state, &a_caller, new_admin).await);
        assert_eq!(listed(&bench, &request).await["requested_by_service_account"], ops.as_str());

        let b_admin = bench.as_client::<Admin>(&b).await;
        let approved = four_eyes::approve(&bench.state, &b_admin, request.clone()).await;
        assert!(matches!(approved, Err(AdminError::OwnRequest)), "{approved:?}");
        // B deletes A, and is still A's service account: still its own request.
        let b_writer = bench.as_client::<ClientsWrite>(&b).await;
        clients::delete(&bench.state, &b_writer, a.clone()).await.unwrap();
        let approved = four_eyes::approve(&bench.state, &b_admin, request.clone()).await;
        assert!(matches!(approved, Err(AdminError::OwnRequest)), "{approved:?}");
        assert_eq!(listed(&bench, &request).await["status"], "pending");

        // Another identity can not carry it out either: the requester is gone. It can reject.
        let other_admin = bench.as_client::<Admin>(&other).await;
        let approved = four_eyes::approve(&bench.state, &other_admin, request.clone()).await;
        assert!(matches!(&approved, Err(AdminError::Conflict(why)) if why.contains("client_deleted")), "{approved:?}");
        four_eyes::reject(&bench.state, &other_admin, request.clone()).await.unwrap();
        assert_eq!(listed(&bench, &request).await["status"], "rejected");
    }

    async fn a_request_whose_requester_no_longer_stands_is_not_carried_out(backend) {
        let Some(bench) = Bench::new(backend, true) else { return };
        let decider = setup_admin(&bench, None).await;
        let decider_admin = bench.as_client::<Admin>(&decider).await;
        let decider_writer = bench.as_client::<ClientsWrite>(&decider).await;
        for lapse in ["client_disabled", "client_deleted", "client_expired", "service_account_disabled"] {
            let account = setup_account(&bench, &format!("sa-{}", lapse.replace('_', "-")), &["admin"]).await;
            let requester = setup_admin(&bench, Some(&account)).await;
            let role = format!("role-{lapse}").replace('_', "-");
            let request = file_role(&bench, &requester, &role).await;
            assert!(listed(&bench, &request).await.get("requester_lapsed").is_none(), "{lapse}: stands while filed");
            match lapse {
                "client_disabled" => {
                    let off = ChangeClient { status: Some("disabled".into()), ..ChangeClient::default() };
                    done(clients::change(&bench.state, &decider_writer, requester.clone(), off).await);
                }
                "client_deleted" => clients::delete(&bench.state, &decider_writer, requester.clone()).await.unwrap(),
                "client_expired" => {
                    let soon = ChangeClient { expires_at: Some(Some("2026-12-01T12:01:00Z".into())), ..ChangeClient::default() };
                    done(clients::change(&bench.state, &decider_writer, requester.clone(), soon).await);
                    bench.clock.advance(time::Duration::minutes(2));
                }
                _ => {
                    let caller = bench.as_client::<ServiceAccountsWrite>(&decider).await;
                    let off = ChangeServiceAccount { status: Some("disabled".into()), ..ChangeServiceAccount::default() };
                    done(service_accounts::change(&bench.state, &caller, account.clone(), off).await);
                }
            }
            assert_eq!(listed(&bench, &request).await["requester_lapsed"], lapse, "the approvals list says so");
            let approved = four_eyes::approve(&bench.state, &decider_admin, request.clone()).await;
            assert!(matches!(&approved, Err(AdminError::Conflict(why)) if why.contains(lapse)), "{lapse}: {approved:?}");
            assert!(!role_exists(&bench, &role).await, "{lapse}: nothing carried out");
            assert_eq!(listed(&bench, &request).await["status"], "pending", "{lapse}");
            four_eyes::reject(&bench.state, &decider_admin, request).await.unwrap();
        }
    }

    async fn undoing_an_expiry_of_a_gatepass_client_waits_for_a_second_admin(backend) {
        let Some(bench) = Bench::new(backend, true) else { return };
        let admin = setup_admin(&bench, None).await;
        let made = setup_client(&bench, CreateClient {
            scopes: vec!["gatepass:clients:write".into()],
            expires_at: Some("2026-12-01T13:00:00Z".into()),
            ..CreateClient::default()
        }).await;
        let target = text(&made, "/client/client_id");
        let plain = text(&setup_client(&bench, CreateClient {
            scopes: vec!["sites:read".into()],
            expires_at: Some("2026-12-01T13:00:00Z".into()),
            ..CreateClient::default()
        }).await, "/client/client_id");

        // Live: a later or removed expiry waits; an earlier one is narrowing.
        let later = || ChangeClient { expires_at: Some(Some("2027-06-01T00:00:00Z".into())), ..ChangeClient::default() };
        let never = || ChangeClient { expires_at: Some(None), ..ChangeClient::default() };
        filed(patch(&bench, &admin, &target, later()).await);
        filed(patch(&bench, &admin, &target, never()).await);
        let earlier = ChangeClient { expires_at: Some(Some("2026-12-01T12:30:00Z".into())), ..ChangeClient::default() };
        done(patch(&bench, &admin, &target, earlier).await);

        // Expired: bringing it back waits, and it stays expired meanwhile.
        bench.clock.advance(time::Duration::hours(1));
        assert_eq!(client_view(&bench, &target).await["status"], "expired");
        filed(patch(&bench, &admin, &target, never()).await);
        filed(patch(&bench, &admin, &target, later()).await);
        assert_eq!(client_view(&bench, &target).await["status"], "expired");
        // A client without gatepass:* scopes is not guarded.
        done(patch(&bench, &admin, &plain, never()).await);
    }

    async fn opening_the_admin_audience_of_a_gatepass_client_waits_for_a_second_admin(backend) {
        let Some(bench) = Bench::new(backend, true) else { return };
        let admin = setup_admin(&bench, None).await;
        let writer = |audiences: &[&str]| CreateClient {
            scopes: vec!["gatepass:clients:write".into()],
            audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
            ..CreateClient::default()
        };
        let target = text(&setup_client(&bench, writer(&["billing"])).await, "/client/client_id");
        let audiences = |list: &[&str]| ChangeClient {
            audiences: Some(list.iter().map(|a| (*a).to_owned()).collect()),
            ..ChangeClient::default()
        };
        // No audiences means the issuer's: the admin API.
        filed(patch(&bench, &admin, &target, audiences(&[])).await);
        filed(patch(&bench, &admin, &target, audiences(&["billing", ISSUER])).await);
        assert_eq!(client_view(&bench, &target).await["audiences"], json!(["billing"]));
        done(patch(&bench, &admin, &target, audiences(&["billing", "crm"])).await);
        // Already on the admin API: changing its other audiences opens nothing.
        let open = text(&setup_client(&bench, writer(&[ISSUER])).await, "/client/client_id");
        done(patch(&bench, &admin, &open, audiences(&[ISSUER, "crm"])).await);
        // A client without gatepass:* scopes is not guarded.
        let plain = text(&setup_client(&bench, CreateClient {
            scopes: vec!["sites:read".into()],
            audiences: vec!["billing".into()],
            ..CreateClient::default()
        }).await, "/client/client_id");
        done(patch(&bench, &admin, &plain, audiences(&[])).await);
    }
}
