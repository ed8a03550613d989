//! Client authentication: what a presented secret proves, and why it may not.

use gatepass_core::policy::ClientAllowance;
use gatepass_core::{Audience, Lapse, SecretHash, Standing};
use gatepass_store::StoreError;
use gatepass_store::credentials::CredentialRecord;
use gatepass_store::outbox::Subject;

/// Why client authentication failed. The caller always sees the same `invalid_client`;
/// the audit log sees this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Neither Basic nor body credentials.
    NoCredentials,
    /// The secret is not a Gatepass secret (bad shape or checksum).
    MalformedSecret,
    /// No stored secret has this hash.
    UnknownSecret,
    /// The secret belongs to a different client id.
    ClientMismatch,
    /// The secret was revoked.
    SecretRevoked,
    /// The secret is past its expiry.
    SecretExpired,
    /// The client is disabled.
    ClientDisabled,
    /// The client is past its expiry date.
    ClientExpired,
    /// The client's service account is disabled.
    ServiceAccountDisabled,
}

impl Rejection {
    /// Whether the presented client id is known to exist: the secret matched and
    /// belongs to it (only its standing failed).
    pub fn proves_client(self) -> bool {
        matches!(
            self,
            Self::SecretRevoked
                | Self::SecretExpired
                | Self::ClientDisabled
                | Self::ClientExpired
                | Self::ServiceAccountDisabled
        )
    }

    /// The reason as written to the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoCredentials => "no_credentials",
            Self::MalformedSecret => "malformed_secret",
            Self::UnknownSecret => "unknown_secret",
            Self::ClientMismatch => "client_mismatch",
            Self::SecretRevoked => "secret_revoked",
            Self::SecretExpired => "secret_expired",
            Self::ClientDisabled => "client_disabled",
            Self::ClientExpired => "client_expired",
            Self::ServiceAccountDisabled => "service_account_disabled",
        }
    }
}

impl From<Lapse> for Rejection {
    fn from(lapse: Lapse) -> Self {
        match lapse {
            Lapse::SecretRevoked => Self::SecretRevoked,
            Lapse::SecretExpired => Self::SecretExpired,
            Lapse::ClientDisabled => Self::ClientDisabled,
            Lapse::ClientExpired => Self::ClientExpired,
            Lapse::ServiceAccountDisabled => Self::ServiceAccountDisabled,
        }
    }
}

/// What the token endpoint needs to know about a stored secret, prepared once and cached
/// until it changes ([`crate::credential_cache`]), so the hot path does not touch the database.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The client the secret belongs to.
    pub client_id: String,
    /// The secret's id.
    pub secret_id: String,
    secret_hash: SecretHash,
    standing: Standing,
    /// The service account's id, if the client belongs to one.
    pub service_account: Option<String>,
    /// Its role names.
    pub roles: Vec<String>,
    /// The scopes and audiences the client may get.
    pub allowance: ClientAllowance,
    /// The client's token lifetime override.
    pub token_ttl: Option<i64>,
}

impl Credential {
    /// Prepares a stored record; unreadable values are corrupt data, not a refusal.
    pub fn from_record(record: &CredentialRecord) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("client {}: {what}", record.client.client_id));
        let secret_hash = SecretHash::from_slice(&record.secret.secret_hash).ok_or_else(|| corrupt("secret hash"))?;
        let audiences = record
            .client
            .audiences
            .split_whitespace()
            .map(Audience::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| corrupt("audiences"))?;
        let (service_account, roles) = match &record.service_account {
            None => (None, Vec::new()),
            Some((account, roles)) => (Some(account.id.clone()), roles.iter().map(|r| r.name.clone()).collect()),
        };
        Ok(Self {
            client_id: record.client.client_id.clone(),
            secret_id: record.secret.id.clone(),
            secret_hash,
            standing: record.standing(),
            service_account,
            roles,
            allowance: ClientAllowance {
                scopes: record.effective_scopes()?,
                audiences,
            },
            token_ttl: record.client.token_ttl_seconds,
        })
    }

    /// Checks a presentation of this credential at `now` (seconds since the epoch).
    pub fn verify(&self, client_id: &str, hash: &SecretHash, now: i64) -> Result<(), Rejection> {
        if !self.secret_hash.ct_eq(&hash.0) {
            return Err(Rejection::UnknownSecret);
        }
        if self.client_id != client_id {
            return Err(Rejection::ClientMismatch);
        }
        self.standing(now)
    }

    /// Whether a change of `subject` can change what this credential may do.
    pub fn depends_on(&self, subject: &Subject) -> bool {
        match subject {
            Subject::Client(id) => self.client_id == *id,
            Subject::ServiceAccount(id) => self.service_account.as_deref() == Some(id.as_str()),
            Subject::Role(name) => self.roles.iter().any(|role| role == name),
        }
    }

    /// Whether the secret, its client and service account are usable at `now`.
    pub fn standing(&self, now: i64) -> Result<(), Rejection> {
        self.standing.check(now).map_err(Rejection::from)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gatepass_store::clients::ClientRow;
    use gatepass_store::roles::RoleRow;
    use gatepass_store::secrets::SecretRow;
    use gatepass_store::service_accounts::ServiceAccountRow;

    /// A stored credential: secret `s1` (hash 7s) of client `c1`, scopes `a b`, no account.
    pub(crate) fn record() -> CredentialRecord {
        CredentialRecord {
            secret: SecretRow {
                id: "s1".into(),
                client_id: "c1".into(),
                secret_hash: vec![7; 32],
                key_prefix: "gps_abcdefgh".into(),
                label: None,
                created_at: 0,
                expires_at: None,
                revoked_at: None,
                last_used_at: None,
                use_count: 0,
            },
            client: ClientRow {
                client_id: "c1".into(),
                name: "c".into(),
                service_account_id: None,
                scopes: "a b".into(),
                audiences: "api".into(),
                labels: "{}".into(),
                token_ttl_seconds: None,
                disabled: false,
                expires_at: None,
                created_at: 0,
                updated_at: 0,
                last_used_at: None,
            },
            service_account: None,
        }
    }

    /// `r` in service account `account` (active), whose one role `reader` grants `scopes`.
    pub(crate) fn in_account(mut r: CredentialRecord, account: &str, scopes: &str) -> CredentialRecord {
        let account = ServiceAccountRow {
            id: account.into(),
            name: account.into(),
            description: String::new(),
            disabled: false,
            created_at: 0,
            updated_at: 0,
        };
        let role = RoleRow {
            name: "reader".into(),
            description: String::new(),
            scopes: scopes.into(),
            created_at: 0,
            updated_at: 0,
        };
        r.service_account = Some((account, vec![role]));
        r
    }

    type Case = (fn(&mut CredentialRecord), Rejection);

    #[test]
    fn each_failure_has_its_own_reason() {
        let hash = SecretHash([7; 32]);
        let ok = Credential::from_record(&record()).unwrap();
        assert_eq!(ok.verify("c1", &hash, 10), Ok(()));
        assert_eq!(ok.verify("c1", &SecretHash([8; 32]), 10), Err(Rejection::UnknownSecret));
        assert_eq!(ok.verify("c2", &hash, 10), Err(Rejection::ClientMismatch));
        let cases: [Case; 5] = [
            (|r| r.secret.revoked_at = Some(1), Rejection::SecretRevoked),
            (|r| r.secret.expires_at = Some(10), Rejection::SecretExpired),
            (|r| r.client.disabled = true, Rejection::ClientDisabled),
            (|r| r.client.expires_at = Some(5), Rejection::ClientExpired),
            (
                |r| {
                    r.service_account = Some((
                        ServiceAccountRow {
                            id: "sa".into(),
                            name: "sa".into(),
                            description: String::new(),
                            disabled: true,
                            created_at: 0,
                            updated_at: 0,
                        },
                        vec![],
                    ));
                },
                Rejection::ServiceAccountDisabled,
            ),
        ];
        for (change, reason) in cases {
            let mut r = record();
            change(&mut r);
            assert_eq!(
                Credential::from_record(&r).unwrap().verify("c1", &hash, 10),
                Err(reason)
            );
        }
    }

    #[test]
    fn service_account_roles_narrow_the_allowed_scopes() {
        let r = in_account(record(), "sa", "b c");
        let credential = Credential::from_record(&r).unwrap();
        assert_eq!(credential.allowance.scopes.to_string(), "b");
        assert_eq!(credential.roles, vec!["reader".to_owned()]);
    }
}
