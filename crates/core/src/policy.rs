//! What a client may get: the scope and audience rules of the token endpoint.

use crate::{Audience, ScopeSet};

/// What a client is allowed, as configured by an administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAllowance {
    /// The client's own scope list ∩ its service account's role scopes.
    pub scopes: ScopeSet,
    /// Audiences the client may ask for; with none requested it gets all of them.
    pub audiences: Vec<Audience>,
}

/// What one token is granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The granted scopes.
    pub scopes: ScopeSet,
    /// The audiences of the token, never empty.
    pub audiences: Vec<Audience>,
}

/// Why a request for scopes or audiences is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A requested scope is not allowed (RFC 6749 `invalid_scope`).
    Scope,
    /// The requested audience is not allowed (RFC 8707 `invalid_target`).
    Target,
}

/// The effective allowed scopes: the client's own list, narrowed to its service
/// account's role scopes when it belongs to one.
pub fn allowed_scopes(client: &ScopeSet, roles: Option<&ScopeSet>) -> ScopeSet {
    roles.map_or_else(|| client.clone(), |roles| client.intersection(roles))
}

/// Decides a token request.
///
/// - scope: requested ⊆ allowed, else [`Refusal::Scope`]; none requested → all allowed.
/// - audience: each requested one (RFC 8707 §2 allows several `resource`s) must be
///   allowed, else [`Refusal::Target`]; the token then names each once, in request order.
///   None requested → all of the client's audiences, or `fallback_audience` (the issuer)
///   when the client has none.
pub fn decide(
    allowance: &ClientAllowance,
    requested_scopes: Option<&ScopeSet>,
    requested_audiences: &[Audience],
    fallback_audience: &Audience,
) -> Result<Decision, Refusal> {
    let scopes = match requested_scopes {
        Some(requested) if requested.is_subset(&allowance.scopes) => requested.clone(),
        Some(_) => return Err(Refusal::Scope),
        None => allowance.scopes.clone(),
    };
    let audiences = if requested_audiences.is_empty() {
        if allowance.audiences.is_empty() {
            vec![fallback_audience.clone()]
        } else {
            allowance.audiences.clone()
        }
    } else {
        let mut granted: Vec<Audience> = Vec::with_capacity(requested_audiences.len());
        for requested in requested_audiences {
            if !allowance.audiences.contains(requested) {
                return Err(Refusal::Target);
            }
            if !granted.contains(requested) {
                granted.push(requested.clone());
            }
        }
        granted
    };
    Ok(Decision { scopes, audiences })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    fn aud(s: &str) -> Audience {
        Audience::parse(s).unwrap()
    }

    fn allowance() -> ClientAllowance {
        ClientAllowance {
            scopes: scopes("sites:read scripts:write"),
            audiences: vec![aud("api"), aud("billing")],
        }
    }

    #[test]
    fn no_request_grants_everything_allowed() {
        let d = decide(&allowance(), None, &[], &aud("issuer")).unwrap();
        assert_eq!(d.scopes, scopes("sites:read scripts:write"));
        assert_eq!(d.audiences, vec![aud("api"), aud("billing")]);
    }

    #[test]
    fn subset_is_granted_and_superset_refused() {
        let d = decide(&allowance(), Some(&scopes("sites:read")), &[aud("billing")], &aud("i")).unwrap();
        assert_eq!(d.scopes, scopes("sites:read"));
        assert_eq!(d.audiences, vec![aud("billing")]);
        assert_eq!(
            decide(&allowance(), Some(&scopes("sites:read admin")), &[], &aud("i")),
            Err(Refusal::Scope)
        );
        assert_eq!(
            decide(&allowance(), None, &[aud("other")], &aud("i")),
            Err(Refusal::Target)
        );
    }

    #[test]
    fn several_audiences_are_each_checked_and_named_once() {
        // RFC 8707 §2: several `resource` parameters; the token is for each of them.
        let d = decide(
            &allowance(),
            None,
            &[aud("billing"), aud("api"), aud("billing")],
            &aud("i"),
        )
        .unwrap();
        assert_eq!(d.audiences, vec![aud("billing"), aud("api")]);
        assert_eq!(
            decide(&allowance(), None, &[aud("api"), aud("other")], &aud("i")),
            Err(Refusal::Target)
        );
    }

    #[test]
    fn client_without_audiences_gets_the_fallback_and_may_not_ask_for_one() {
        let none = ClientAllowance {
            scopes: scopes("a"),
            audiences: vec![],
        };
        assert_eq!(
            decide(&none, None, &[], &aud("issuer")).unwrap().audiences,
            vec![aud("issuer")]
        );
        assert_eq!(
            decide(&none, None, &[aud("issuer")], &aud("issuer")),
            Err(Refusal::Target)
        );
    }

    #[test]
    fn roles_narrow_the_client_scopes() {
        let client = scopes("a b c");
        assert_eq!(allowed_scopes(&client, None), client);
        assert_eq!(allowed_scopes(&client, Some(&scopes("b c d"))), scopes("b c"));
        assert_eq!(allowed_scopes(&client, Some(&ScopeSet::default())), ScopeSet::default());
    }
}
