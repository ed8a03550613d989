//! Access tokens revoked before their expiry (RFC 7009), by `jti`.

use diesel::prelude::*;

use crate::schema::revoked_tokens;
use crate::{Conn, StoreError};

/// A revoked token as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = revoked_tokens)]
#[allow(missing_docs)]
pub struct RevokedTokenRow {
    pub jti: String,
    pub client_id: String,
    pub expires_at: i64,
    pub revoked_at: i64,
}

/// Records a revocation; revoking a token twice keeps the first record. Returns whether
/// this call added it.
pub fn insert(conn: &mut Conn, row: &RevokedTokenRow) -> Result<bool, StoreError> {
    if is_revoked(conn, &row.jti)? {
        return Ok(false);
    }
    match diesel::insert_into(revoked_tokens::table).values(row).execute(conn) {
        Ok(_) => Ok(true),
        // Two nodes revoking one token at once: the other one recorded it.
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether the token with this `jti` was revoked.
pub fn is_revoked(conn: &mut Conn, jti: &str) -> Result<bool, StoreError> {
    Ok(revoked_tokens::table
        .find(jti)
        .select(revoked_tokens::jti)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Forgets revocations of tokens that expired before `now`; returns how many.
pub fn prune(conn: &mut Conn, now: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(now))).execute(conn)?)
}
