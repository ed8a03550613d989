//! Every rule checked by reading and then writing, raced by two writers on two connections
//! for many rounds: the two commands start together behind a barrier, and the rule must hold
//! after every round. On PostgreSQL these fail without the admin lock
//! (`gatepass_store::Lock::Admin`, taken by `AdminState::write`): READ COMMITTED lets two
//! transactions that each count and then write miss each other's write.

use std::future::Future;

use gatepass_store::both_backends;
use tokio::sync::Barrier;

use super::{setup_admin, setup_client, standing_admins};
use crate::access::{Admin, Caller, ClientsWrite};
use crate::clients;
use crate::four_eyes;
use crate::problem::AdminError;
use crate::requests::CreateSecret;
use crate::requests::{ChangeClient, CreateClient};
use crate::secrets;
use crate::testing::{Bench, filed, text};

/// Rounds per race: enough that an unprotected rule breaks in nearly every run on PostgreSQL.
const ROUNDS: usize = 12;

/// Runs `a` and `b` together: both wait at one barrier, then start.
async fn race<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let barrier = Barrier::new(2);
    tokio::join!(
        async {
            barrier.wait().await;
            a.await
        },
        async {
            barrier.wait().await;
            b.await
        }
    )
}

fn disable() -> ChangeClient {
    ChangeClient {
        status: Some("disabled".into()),
        ..ChangeClient::default()
    }
}

/// Leaves the two newest admins as the only ones standing: the earlier rounds' survivors
/// disabled by the operator.
async fn only(bench: &Bench, earlier: &[String]) {
    let operator = Bench::operator::<ClientsWrite>();
    for id in earlier {
        let result = clients::change(&bench.state, &operator, id.clone(), disable()).await;
        assert!(result.is_ok(), "{:?}", result.err());
    }
    assert_eq!(standing_admins(bench).await, 2);
}

async fn secret_count(bench: &Bench, client_id: &str) -> usize {
    let id = client_id.to_owned();
    bench
        .with_conn(move |conn| gatepass_store::secrets::list_for_client(conn, &id))
        .await
        .len()
}

/// Rounds of two admins, the only ones standing, each taking the other's power at once
/// (`take`: disable, delete): exactly one succeeds, the other is refused `LastAdmin`, and one
/// admin stands after every round.
async fn last_two_admins_race(
    bench: &Bench,
    take: impl AsyncFn(&Caller<ClientsWrite>, String) -> Result<(), AdminError>,
) {
    let mut earlier = Vec::new();
    for round in 0..ROUNDS {
        let (a, b) = (setup_admin(bench, None).await, setup_admin(bench, None).await);
        only(bench, &earlier).await;
        let (as_a, as_b) = (
            bench.as_client::<ClientsWrite>(&a).await,
            bench.as_client::<ClientsWrite>(&b).await,
        );
        let (first, second) = race(take(&as_a, b.clone()), take(&as_b, a.clone())).await;
        assert_eq!(standing_admins(bench).await, 1, "round {round}: {first:?} / {second:?}");
        let refused = [&first, &second]
            .iter()
            .filter(|r| matches!(r, Err(AdminError::LastAdmin)))
            .count();
        assert_eq!(
            (usize::from(first.is_ok()) + usize::from(second.is_ok()), refused),
            (1, 1),
            "round {round}"
        );
        // The survivor is disabled by the operator at the start of the next round.
        earlier.push(if first.is_ok() { a } else { b });
    }
}

async fn request_status(bench: &Bench, id: &str) -> String {
    let id = id.to_owned();
    bench
        .with_conn(move |conn| gatepass_store::approvals::get(conn, &id))
        .await
        .map(|row| row.status)
        .unwrap_or_default()
}

both_backends! {
    async fn approving_a_change_while_its_target_is_deleted_never_approves_nothing(backend) {
        let Some(bench) = Bench::new(backend, true) else { return };
        let (requester, decider) = (setup_admin(&bench, None).await, setup_admin(&bench, None).await);
        let as_requester = bench.as_client::<ClientsWrite>(&requester).await;
        let as_decider = bench.as_client::<Admin>(&decider).await;
        let deleter = bench.as_client::<ClientsWrite>(&decider).await;
        for round in 0..ROUNDS {
            let target = setup_admin(&bench, None).await;
            let request = filed(secrets::create(&bench.state, &as_requester, target.clone(), CreateSecret::default()).await);
            let (approved, deleted) = race(
                four_eyes::approve(&bench.state, &as_decider, request.clone()),
                clients::delete(&bench.state, &deleter, target.clone()),
            )
            .await;
            assert!(deleted.is_ok(), "round {round}: {:?}", deleted.err());
            let status = request_status(&bench, &request).await;
            match approved {
                Ok(_) => assert_eq!(status, "approved", "round {round}"),
                Err(error) => {
                    assert!(matches!(error, AdminError::Conflict(_)), "round {round}: {error:?}");
                    assert_eq!(status, "pending", "round {round}: a failed approval leaves the request pending");
                }
            }
            assert_eq!(secret_count(&bench, &target).await, 0, "round {round}: nothing left of the target");
        }
    }


    async fn two_last_admins_disabling_each_other_leave_one_standing(backend) {
        let Some(bench) = Bench::new(backend, false) else { return };
        last_two_admins_race(&bench, async |caller, target| {
            clients::change(&bench.state, caller, target, disable()).await.map(drop)
        })
        .await;
    }

    async fn two_last_admins_deleting_each_other_leave_one_standing(backend) {
        let Some(bench) = Bench::new(backend, false) else { return };
        last_two_admins_race(&bench, async |caller, target| clients::delete(&bench.state, caller, target).await).await;
    }

    async fn two_rotations_never_exceed_the_secrets_cap(backend) {
        let Some(bench) = Bench::new(backend, false) else { return };
        let operator = Bench::operator::<ClientsWrite>();
        for round in 0..ROUNDS {
            let client = text(&setup_client(&bench, CreateClient {
                scopes: vec!["sites:read".into()],
                ..CreateClient::default()
            }).await, "/client/client_id");
            let second = secrets::create(&bench.state, &operator, client.clone(), CreateSecret::default()).await;
            assert!(second.is_ok());
            let (a, b) = race(
                secrets::create(&bench.state, &operator, client.clone(), CreateSecret::default()),
                secrets::create(&bench.state, &operator, client.clone(), CreateSecret::default()),
            )
            .await;
            assert_eq!(secret_count(&bench, &client).await, bench.state.max_secrets, "round {round}");
            assert_eq!(usize::from(a.is_ok()) + usize::from(b.is_ok()), 1, "round {round}");
        }
    }

    async fn a_request_is_carried_out_once_however_many_decide_it_at_once(backend) {
        let Some(bench) = Bench::new(backend, true) else { return };
        let (requester, first, second) = (
            setup_admin(&bench, None).await,
            setup_admin(&bench, None).await,
            setup_admin(&bench, None).await,
        );
        let as_requester = bench.as_client::<ClientsWrite>(&requester).await;
        let (one, two) = (bench.as_client::<Admin>(&first).await, bench.as_client::<Admin>(&second).await);
        for round in 0..ROUNDS {
            let before = secret_count(&bench, &requester).await;
            let request = filed(secrets::create(&bench.state, &as_requester, requester.clone(), CreateSecret {
                grace_period_seconds: Some(0),
                ..CreateSecret::default()
            }).await);
            let (a, b) = if round % 2 == 0 {
                let (a, b) = race(
                    four_eyes::approve(&bench.state, &one, request.clone()),
                    four_eyes::approve(&bench.state, &two, request.clone()),
                )
                .await;
                (a.is_ok(), b.is_ok())
            } else {
                let (a, b) = race(
                    four_eyes::approve(&bench.state, &one, request.clone()),
                    four_eyes::reject(&bench.state, &two, request.clone()),
                )
                .await;
                (a.is_ok(), b.is_ok())
            };
            assert_eq!(usize::from(a) + usize::from(b), 1, "round {round}: one decision");
            let approved = a || round % 2 == 0;
            let after = secret_count(&bench, &requester).await;
            assert_eq!(after, before + usize::from(approved), "round {round}: carried out {}", if approved { "once" } else { "never" });
        }
    }
}
