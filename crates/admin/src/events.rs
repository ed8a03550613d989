//! What an admin command did, as one typed event written in the command's transaction: its
//! audit row, and, where it changes what a credential may do, its outbox row (the change
//! feed every node follows to drop exactly the credentials it cached for that subject).

use gatepass_store::outbox::{self, Subject};
use gatepass_store::{Conn, audit};

use crate::access::Principal;
use crate::problem::AdminError;

/// An admin event, by what it acts on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event<'a> {
    /// A client was created (by client id).
    ClientCreated(&'a str),
    /// A client was changed.
    ClientChanged(&'a str),
    /// A client and its secrets were deleted.
    ClientDeleted(&'a str),
    /// A secret was added to a client (by client id); older ones may expire with it.
    SecretCreated(&'a str),
    /// A secret of a client was revoked.
    SecretRevoked(&'a str),
    /// A secret of a client was deleted.
    SecretDeleted(&'a str),
    /// A service account was created (by id).
    ServiceAccountCreated(&'a str),
    /// A service account was changed (status, roles).
    ServiceAccountChanged(&'a str),
    /// A service account was deleted.
    ServiceAccountDeleted(&'a str),
    /// A role was created (by name).
    RoleCreated(&'a str),
    /// A role was changed (scopes).
    RoleChanged(&'a str),
    /// A role was deleted.
    RoleDeleted(&'a str),
    /// The next signing key was published.
    SigningKeyRotated,
    /// A change was filed for four-eyes approval (by request id).
    ApprovalRequested(&'a str),
    /// A four-eyes request was approved and carried out.
    ApprovalApproved(&'a str),
    /// A four-eyes request was rejected.
    ApprovalRejected(&'a str),
}

impl<'a> Event<'a> {
    /// The audit log's action and target.
    fn action_and_target(self) -> (&'static str, &'a str) {
        match self {
            Self::ClientCreated(id) => ("client.created", id),
            Self::ClientChanged(id) => ("client.changed", id),
            Self::ClientDeleted(id) => ("client.deleted", id),
            Self::SecretCreated(id) => ("secret.created", id),
            Self::SecretRevoked(id) => ("secret.revoked", id),
            Self::SecretDeleted(id) => ("secret.deleted", id),
            Self::ServiceAccountCreated(id) => ("service_account.created", id),
            Self::ServiceAccountChanged(id) => ("service_account.changed", id),
            Self::ServiceAccountDeleted(id) => ("service_account.deleted", id),
            Self::RoleCreated(name) => ("role.created", name),
            Self::RoleChanged(name) => ("role.changed", name),
            Self::RoleDeleted(name) => ("role.deleted", name),
            Self::SigningKeyRotated => ("signing_key.rotated", "signing-keys"),
            Self::ApprovalRequested(id) => ("approval.requested", id),
            Self::ApprovalApproved(id) => ("approval.approved", id),
            Self::ApprovalRejected(id) => ("approval.rejected", id),
        }
    }

    /// What the event makes stale in the nodes' credential caches, if anything. A new
    /// client, account or role is in no cache yet.
    fn stale(self) -> Option<Subject> {
        match self {
            Self::ClientChanged(id)
            | Self::ClientDeleted(id)
            | Self::SecretCreated(id)
            | Self::SecretRevoked(id)
            | Self::SecretDeleted(id) => Some(Subject::Client(id.to_owned())),
            Self::ServiceAccountChanged(id) | Self::ServiceAccountDeleted(id) => {
                Some(Subject::ServiceAccount(id.to_owned()))
            }
            Self::RoleChanged(name) | Self::RoleDeleted(name) => Some(Subject::Role(name.to_owned())),
            Self::ClientCreated(_)
            | Self::ServiceAccountCreated(_)
            | Self::RoleCreated(_)
            | Self::SigningKeyRotated
            | Self::ApprovalRequested(_)
            | Self::ApprovalApproved(_)
            | Self::ApprovalRejected(_) => None,
        }
    }
}

/// Records `event` by `actor` at `now` in the caller's transaction: the audit row and, for
/// a credential change, the outbox row, so no change commits without its events.
pub(crate) fn record(conn: &mut Conn, now: i64, actor: &Principal, event: Event<'_>) -> Result<(), AdminError> {
    let (action, target) = event.action_and_target();
    audit::append(conn, &[actor.event(now, action, target)])?;
    if let Some(subject) = event.stale() {
        outbox::append(conn, action, &subject, now)?;
    }
    Ok(())
}
