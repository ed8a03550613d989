//! Whether a credential still stands: the one rule the token endpoint, introspection and
//! the admin API's check of admin tokens share.

/// What decides whether a secret may still be used: its own state, its client's and its
/// service account's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// The secret was revoked.
    pub secret_revoked: bool,
    /// The secret's expiry, seconds since the epoch.
    pub secret_expires_at: Option<i64>,
    /// The client is disabled.
    pub client_disabled: bool,
    /// The client's expiry date, seconds since the epoch.
    pub client_expires_at: Option<i64>,
    /// The client's service account is disabled.
    pub service_account_disabled: bool,
}

/// Why a credential no longer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lapse {
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

impl Standing {
    /// `Ok` while everything is usable at `now` (seconds since the epoch); else the first
    /// reason it is not, secret before client before service account.
    pub fn check(&self, now: i64) -> Result<(), Lapse> {
        if self.secret_revoked {
            return Err(Lapse::SecretRevoked);
        }
        if self.secret_expires_at.is_some_and(|at| now >= at) {
            return Err(Lapse::SecretExpired);
        }
        if self.client_disabled {
            return Err(Lapse::ClientDisabled);
        }
        if self.client_expires_at.is_some_and(|at| now >= at) {
            return Err(Lapse::ClientExpired);
        }
        if self.service_account_disabled {
            return Err(Lapse::ServiceAccountDisabled);
        }
        Ok(())
    }
}

impl Lapse {
    /// The reason as written to the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecretRevoked => "secret_revoked",
            Self::SecretExpired => "secret_expired",
            Self::ClientDisabled => "client_disabled",
            Self::ClientExpired => "client_expired",
            Self::ServiceAccountDisabled => "service_account_disabled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_bites_at_the_second_it_names() {
        let standing = Standing {
            secret_expires_at: Some(100),
            ..Standing::default()
        };
        assert_eq!(standing.check(99), Ok(()));
        assert_eq!(standing.check(100), Err(Lapse::SecretExpired));
        let client = Standing {
            client_expires_at: Some(100),
            ..Standing::default()
        };
        assert_eq!(client.check(100), Err(Lapse::ClientExpired));
    }

    #[test]
    fn each_part_ends_the_standing_and_the_secret_is_named_first() {
        let cases = [
            (
                Standing {
                    secret_revoked: true,
                    ..Standing::default()
                },
                Lapse::SecretRevoked,
            ),
            (
                Standing {
                    client_disabled: true,
                    ..Standing::default()
                },
                Lapse::ClientDisabled,
            ),
            (
                Standing {
                    service_account_disabled: true,
                    ..Standing::default()
                },
                Lapse::ServiceAccountDisabled,
            ),
            (
                Standing {
                    secret_revoked: true,
                    client_disabled: true,
                    service_account_disabled: true,
                    ..Standing::default()
                },
                Lapse::SecretRevoked,
            ),
        ];
        for (standing, lapse) in cases {
            assert_eq!(standing.check(0), Err(lapse), "{standing:?}");
        }
        assert_eq!(Standing::default().check(i64::MAX), Ok(()));
    }
}
