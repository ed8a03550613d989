//! Rule tests at the command level, on both backends, through [`crate::testing::Bench`]:
//! four-eyes (`four_eyes`), and the invariants under two concurrent writers (`races`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where its setup or check does"
)]

mod authorization;
mod four_eyes;
mod races;

use serde_json::Value;

use crate::access::ServiceAccountsWrite;
use crate::clients;
use crate::gate::Gate;
use crate::requests::CreateClient;
use crate::requests::CreateServiceAccount;
use crate::service_accounts;
use crate::testing::{Bench, text};

/// Makes a client as the operator, past four-eyes (test setup, not the rule under test);
/// its rendered view with the first secret.
async fn setup_client(bench: &Bench, input: CreateClient) -> Value {
    let caller = Bench::operator::<crate::access::ClientsWrite>();
    let made = bench
        .state
        .write(&caller, "client.created", "clients".into(), move |conn, ctx, actor| {
            clients::create_in(conn, ctx, actor, Gate::Approved, input)
        })
        .await;
    crate::testing::done(made)
}

/// An admin client (`gatepass:admin`), in `service_account` if given; its id.
async fn setup_admin(bench: &Bench, service_account: Option<&str>) -> String {
    let made = setup_client(
        bench,
        CreateClient {
            service_account_id: service_account.map(str::to_owned),
            scopes: vec!["gatepass:admin".into()],
            ..CreateClient::default()
        },
    )
    .await;
    text(&made, "/client/client_id")
}

/// A service account with `roles`, made as the operator past four-eyes; its id.
async fn setup_account(bench: &Bench, name: &str, roles: &[&str]) -> String {
    let caller = Bench::operator::<ServiceAccountsWrite>();
    let input = CreateServiceAccount {
        name: name.to_owned(),
        description: String::new(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let made = bench
        .state
        .write(
            &caller,
            "service_account.created",
            "service-accounts".into(),
            move |conn, ctx, actor| service_accounts::create_in(conn, ctx, actor, Gate::Approved, input),
        )
        .await;
    text(&crate::testing::done(made), "/id")
}

/// How many clients could sign in as `gatepass:admin` now.
async fn standing_admins(bench: &Bench) -> usize {
    bench
        .state
        .read(|conn, ctx| crate::reach::standing_admins(conn, ctx.now))
        .await
        .unwrap()
}

/// A client as the API renders it, read by the operator.
async fn client_view(bench: &Bench, client_id: &str) -> Value {
    let read = clients::read(&bench.state, &Bench::operator(), client_id.to_owned()).await;
    serde_json::to_value(read.unwrap()).unwrap()
}
