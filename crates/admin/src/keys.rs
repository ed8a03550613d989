//! Signing keys: the schedule, and rotation on demand. The keys belong to the token service
//! (`gatepass-auth`), which this crate does not know: the server hands [`AdminState`] a
//! [`KeySchedule`], and the API, the CLI (`gatepass keys rotate`) and the console all rotate
//! through [`rotate`], which writes the new key and its audit event in one transaction.

use std::future::Future;
use std::pin::Pin;

use gatepass_store::Conn;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AdminState;
use crate::access::{Caller, KeysRead, KeysWrite};
use crate::events::{self, Event};
use crate::problem::AdminError;
use crate::views::date;

/// One signing key as listings show it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SigningKey {
    /// Key id (the JWT header's `kid`).
    pub kid: String,
    /// `ES256` or `EdDSA`.
    pub algorithm: String,
    /// `pending`, `active`, `retired` or `expired`, now.
    pub state: String,
    /// Created (and published).
    pub created_at: String,
    /// Starts signing.
    pub activates_at: String,
    /// Stops signing.
    pub retires_at: Option<String>,
    /// Leaves the JWKS.
    pub expires_at: Option<String>,
}

/// What a rotation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// A new key was published; it signs from then (seconds since the epoch).
    Scheduled(i64),
    /// A new key was already published and signs from then: nothing done.
    AlreadyPending(i64),
    /// Nothing to do.
    Unchanged,
}

/// The answer to a rotation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Rotated {
    /// `scheduled`, `already_pending` or `unchanged`.
    pub status: &'static str,
    /// When the new key starts signing (`yyyy-MM-ddTHH:mm:ssZ`), if there is one.
    pub activates_at: Option<String>,
}

impl Rotated {
    fn of(rotation: Rotation) -> Self {
        match rotation {
            Rotation::Scheduled(at) => Self {
                status: "scheduled",
                activates_at: Some(date(at)),
            },
            Rotation::AlreadyPending(at) => Self {
                status: "already_pending",
                activates_at: Some(date(at)),
            },
            Rotation::Unchanged => Self {
                status: "unchanged",
                activates_at: None,
            },
        }
    }
}

/// The signing-key schedule, as the server keeps it.
pub trait KeySchedule: Send + Sync {
    /// Every key with its state at `now`.
    fn list(&self, conn: &mut Conn, now: i64) -> Result<Vec<SigningKey>, AdminError>;

    /// Publishes the next key now, inside the caller's transaction.
    fn rotate(&self, conn: &mut Conn, now: i64) -> Result<Rotation, AdminError>;

    /// After a committed rotation: this node takes up the new key (a no-op for the CLI).
    fn rotated(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The signing-key schedule: every key and its state.
pub async fn list(state: &AdminState, _: &Caller<KeysRead>) -> Result<Vec<SigningKey>, AdminError> {
    let keys = std::sync::Arc::clone(&state.keys);
    state.read(move |conn, ctx| keys.list(conn, ctx.now)).await
}

/// Publishes the next signing key now; it signs after `keys.publish_ahead_seconds`. The new
/// key and its audit event commit together.
pub async fn rotate(state: &AdminState, caller: &Caller<KeysWrite>) -> Result<Rotated, AdminError> {
    let keys = std::sync::Arc::clone(&state.keys);
    let rotation = state
        .write(
            caller,
            "signing_key.rotated",
            "signing-keys".to_owned(),
            move |conn, ctx, actor| {
                let rotation = keys.rotate(conn, ctx.now)?;
                if let Rotation::Scheduled(_) = rotation {
                    events::record(conn, ctx.now, actor, Event::SigningKeyRotated)?;
                }
                Ok(rotation)
            },
        )
        .await?;
    if let Rotation::Scheduled(_) = rotation {
        state.keys.rotated().await;
    }
    Ok(Rotated::of(rotation))
}
