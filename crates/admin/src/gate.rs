//! The four-eyes gate the commands pass through (`admin.four_eyes`, docs/design.md §10): a
//! change that creates or widens a path to a `gatepass:*` scope is filed as a
//! [`PendingChange`] instead of carried out. Deciding the request is [`crate::four_eyes`].

use gatepass_store::Conn;
use gatepass_store::approvals::{self, ApprovalRow};

use crate::access::Principal;
use crate::events::{self, Event};
use crate::problem::AdminError;
use crate::requests::PendingChange;
use crate::views::Approval;
use crate::{Ctx, Outcome};

/// Whether a command may be filed for approval (a request as sent) or runs now (an
/// approved request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Sent by a caller: four-eyes applies.
    Check,
    /// Approved by a second admin: run it.
    Approved,
}

impl Gate {
    /// Whether a change that `widens` a `gatepass:*` path waits for a second admin.
    pub(crate) fn waits(self, ctx: &Ctx, widens: bool) -> bool {
        self == Self::Check && ctx.four_eyes && widens
    }
}

/// Files `change` instead of carrying it out, with its audit event.
pub(crate) fn file<T>(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    change: &PendingChange,
) -> Result<Outcome<T>, AdminError> {
    let (action, payload) = change.stored()?;
    let row = ApprovalRow {
        id: uuid::Uuid::now_v7().to_string(),
        action,
        payload,
        requested_by: actor.client_id.clone(),
        requested_at: ctx.now,
        status: "pending".to_owned(),
        decided_by: None,
        decided_at: None,
        requested_by_service_account: actor.service_account_id().map(str::to_owned),
    };
    approvals::insert(conn, &row)?;
    events::record(conn, ctx.now, actor, Event::ApprovalRequested(&row.id))?;
    Ok(Outcome::Pending(Box::new(Approval::of(&row, None))))
}
