//! The one read the token endpoint needs: everything about a presented secret.

use diesel::prelude::*;
use gatepass_core::policy::allowed_scopes;
use gatepass_core::{Lapse, ScopeSet, Standing};

use crate::clients::ClientRow;
use crate::roles::RoleRow;
use crate::schema::{client_secrets, clients, roles, service_account_roles, service_accounts};
use crate::secrets::SecretRow;
use crate::service_accounts::ServiceAccountRow;
use crate::{Conn, StoreError};

/// A secret with its client and, when the client belongs to one, its service account
/// and that account's roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRecord {
    /// The secret that matched.
    pub secret: SecretRow,
    /// Its client.
    pub client: ClientRow,
    /// The client's service account and its roles.
    pub service_account: Option<(ServiceAccountRow, Vec<RoleRow>)>,
}

impl CredentialRecord {
    /// What decides whether the secret may still be used.
    pub fn standing(&self) -> Standing {
        Standing {
            secret_revoked: self.secret.revoked_at.is_some(),
            secret_expires_at: self.secret.expires_at,
            client_disabled: self.client.disabled,
            client_expires_at: self.client.expires_at,
            service_account_disabled: self
                .service_account
                .as_ref()
                .is_some_and(|(account, _)| account.disabled),
        }
    }

    /// The client's effective scopes: its own list, narrowed to its service account's role
    /// scopes when it belongs to one. An unreadable scope list is corrupt data.
    pub fn effective_scopes(&self) -> Result<ScopeSet, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("client {}: {what}", self.client.client_id));
        let own = ScopeSet::parse(&self.client.scopes).map_err(|_| corrupt("scopes"))?;
        let roles = match &self.service_account {
            None => None,
            Some((_, roles)) => {
                let mut scopes = Vec::new();
                for role in roles {
                    let set = ScopeSet::parse(&role.scopes).map_err(|_| corrupt("role scopes"))?;
                    scopes.extend(set.iter().cloned());
                }
                Some(scopes.into_iter().collect::<ScopeSet>())
            }
        };
        Ok(allowed_scopes(&own, roles.as_ref()))
    }
}

/// Finds the secret whose keyed hash is `hash` (an indexed lookup), with its client.
pub fn find_by_hash(conn: &mut Conn, hash: &[u8]) -> Result<Option<CredentialRecord>, StoreError> {
    let found = client_secrets::table
        .inner_join(clients::table)
        .filter(client_secrets::secret_hash.eq(hash))
        .select((SecretRow::as_select(), ClientRow::as_select()))
        .first::<(SecretRow, ClientRow)>(conn)
        .optional()?;
    complete(conn, found)
}

/// Finds the secret `secret_id` of `client_id` (the one that minted a token), with its client.
pub fn find_by_secret_id(
    conn: &mut Conn,
    client_id: &str,
    secret_id: &str,
) -> Result<Option<CredentialRecord>, StoreError> {
    let found = client_secrets::table
        .inner_join(clients::table)
        .filter(client_secrets::id.eq(secret_id))
        .filter(client_secrets::client_id.eq(client_id))
        .select((SecretRow::as_select(), ClientRow::as_select()))
        .first::<(SecretRow, ClientRow)>(conn)
        .optional()?;
    complete(conn, found)
}

/// Every secret of `client_id`, each with its client and service account (oldest first).
pub fn of_client(conn: &mut Conn, client_id: &str) -> Result<Vec<CredentialRecord>, StoreError> {
    let found = client_secrets::table
        .inner_join(clients::table)
        .filter(client_secrets::client_id.eq(client_id))
        .order(client_secrets::created_at.asc())
        .select((SecretRow::as_select(), ClientRow::as_select()))
        .load::<(SecretRow, ClientRow)>(conn)?;
    let mut records = Vec::with_capacity(found.len());
    for pair in found {
        records.extend(complete(conn, Some(pair))?);
    }
    Ok(records)
}

/// Why an issued token no longer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenLapse {
    /// Its `jti` was revoked (RFC 7009).
    Revoked,
    /// It names no credential (issued before tokens named one), or its credential is gone.
    CredentialGone,
    /// Its credential, client or service account no longer stands.
    Credential(Lapse),
}

impl TokenLapse {
    /// The reason as the logs and the audit log write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "token_revoked",
            Self::CredentialGone => "credential_gone",
            Self::Credential(lapse) => lapse.as_str(),
        }
    }
}

/// Whether a token issued to `client_id` from the secret `secret_id` (its `secret_id`
/// claim), with `jti`, still stands at `now`: not revoked, and its secret, client and service
/// account all still usable. The one rule the admin API, the console and introspection
/// share; the record is what the credential allows now.
pub fn token_standing(
    conn: &mut Conn,
    jti: &str,
    client_id: &str,
    secret_id: Option<&str>,
    now: i64,
) -> Result<Result<CredentialRecord, TokenLapse>, StoreError> {
    if crate::revoked_tokens::is_revoked(conn, jti)? {
        return Ok(Err(TokenLapse::Revoked));
    }
    let Some(secret_id) = secret_id else {
        return Ok(Err(TokenLapse::CredentialGone));
    };
    let Some(record) = find_by_secret_id(conn, client_id, secret_id)? else {
        return Ok(Err(TokenLapse::CredentialGone));
    };
    Ok(match record.standing().check(now) {
        Ok(()) => Ok(record),
        Err(lapse) => Err(TokenLapse::Credential(lapse)),
    })
}

/// Adds the service account and its roles to a secret and its client.
fn complete(conn: &mut Conn, found: Option<(SecretRow, ClientRow)>) -> Result<Option<CredentialRecord>, StoreError> {
    let Some((secret, client)) = found else {
        return Ok(None);
    };
    let service_account = match &client.service_account_id {
        None => None,
        Some(id) => {
            let account = service_accounts::table
                .find(id)
                .select(ServiceAccountRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("client {} names a missing service account", client.client_id))
                })?;
            let roles = service_account_roles::table
                .inner_join(roles::table)
                .filter(service_account_roles::service_account_id.eq(id))
                .select(RoleRow::as_select())
                .load(conn)?;
            Some((account, roles))
        }
    };
    Ok(Some(CredentialRecord {
        secret,
        client,
        service_account,
    }))
}
