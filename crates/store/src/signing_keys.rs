//! Signing keys and their schedule (published → active → retired → expired).

use diesel::prelude::*;

use crate::schema::signing_keys;
use crate::{Conn, StoreError};

/// A signing key as stored; the private key is encrypted under the master key.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
#[allow(missing_docs)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub public_jwk: String,
    pub private_key: Vec<u8>,
    pub master_key_id: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retires_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"<encrypted>")
            .field("activates_at", &self.activates_at)
            .field("retires_at", &self.retires_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Every key not yet expired at `now`, oldest activation first.
pub fn list_unexpired(conn: &mut Conn, now: i64) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_keys::table
        .filter(signing_keys::expires_at.is_null().or(signing_keys::expires_at.gt(now)))
        .order((signing_keys::activates_at.asc(), signing_keys::kid.asc()))
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// Every key ever made, oldest activation first.
pub fn list(conn: &mut Conn) -> Result<Vec<SigningKeyRow>, StoreError> {
    Ok(signing_keys::table
        .order((signing_keys::activates_at.asc(), signing_keys::kid.asc()))
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// A change of schedule for a key that already exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retirement {
    /// The key.
    pub kid: String,
    /// When it stops signing.
    pub retires_at: i64,
    /// When it leaves the JWKS.
    pub expires_at: i64,
}

/// Reads the unexpired keys and lets `decide` choose a new key and retirements, then
/// writes them, all in one write transaction so two nodes can not rotate at once.
pub fn rotate_if<T>(
    conn: &mut Conn,
    now: i64,
    decide: impl FnOnce(&[SigningKeyRow]) -> (T, Option<(SigningKeyRow, Vec<Retirement>)>),
) -> Result<T, StoreError> {
    conn.transaction(|conn| {
        crate::database::lock(conn, crate::Lock::SigningKeys.name())?;
        let keys = list_unexpired(conn, now)?;
        let (outcome, change) = decide(&keys);
        if let Some((new, retire)) = change {
            diesel::insert_into(signing_keys::table).values(&new).execute(conn)?;
            for r in retire {
                diesel::update(signing_keys::table.find(&r.kid))
                    .set((
                        signing_keys::retires_at.eq(r.retires_at),
                        signing_keys::expires_at.eq(r.expires_at),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(outcome)
    })
}
