//! The `client_credentials` grant (RFC 6749 §4.4), walked with oxide-auth's
//! `ClientCredentials` state machine, once per request.
//!
//! What oxide-auth does for us here: it validates the parsed request as the grant requires
//! (`grant_type` present, else `invalid_request`; exactly `client_credentials`, else
//! `unsupported_grant_type`; one set of client credentials; the scope's syntax) and then
//! sequences the grant: authenticate → bind → extend → negotiate → issue. Gatepass answers
//! each step itself: [`TokenRequest`] parses, [`crate::TokenService::authenticate`]
//! checks the credentials (one keyed hash), [`policy::decide`] negotiates scope and
//! audience, and the token is signed here. No oxide-auth trait is implemented and no body of
//! its is rendered. See docs/architecture.md.

use std::borrow::Cow;

use gatepass_core::policy::{self, Decision, Refusal};
use gatepass_core::{AccessTokenClaims, Audiences};
use gatepass_store::Fault;
use oxide_auth::code_grant::client_credentials::{ClientCredentials, Error, Input, Output, Request};
use oxide_auth::code_grant::error::AccessTokenErrorType;
use oxide_auth::primitives::grant::Extensions;
use oxide_auth::primitives::registrar::{BoundClient, PreGrant, RegisteredUrl};
use oxide_auth::primitives::scope::Scope;

use crate::TokenService;
use crate::client_auth::Presented;
use crate::credentials::Credential;
use crate::error::TokenError;
use crate::token_request::TokenRequest;

/// The redirect URI oxide-auth's grant binds every client to: the client-credentials grant
/// has no redirect, but the state machine's `PreGrant` carries one. Never followed or sent.
pub(crate) fn placeholder_redirect() -> Result<RegisteredUrl, url::ParseError> {
    "urn:ietf:wg:oauth:2.0:oob".parse().map(RegisteredUrl::Semantic)
}

/// A minted token.
pub(crate) struct Issued {
    pub token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// A request that passed the grant's validation and waits for its client to be authenticated.
pub struct Validated {
    machine: ClientCredentials,
}

/// How the grant ended when it issued no token.
#[derive(Debug)]
pub enum Stopped {
    /// A refusal to send as is.
    Refused(TokenError),
    /// A fault of ours (signing, or the state machine out of step).
    Fault(Fault),
}

/// Runs the grant's validation of `request` (before any credential is checked).
pub fn validate(request: &TokenRequest) -> Result<Validated, Stopped> {
    let mut machine = ClientCredentials::new(&AsOxide(request));
    match machine.advance(Input::None) {
        Output::Authenticate { .. } => Ok(Validated { machine }),
        Output::Err(error) => Err(stopped(*error)),
        Output::Binding { .. } | Output::Extend | Output::Negotiate { .. } | Output::Ok { .. } => {
            Err(out_of_step("validation"))
        }
    }
}

impl Validated {
    /// Finishes the grant for the authenticated `credential`: negotiates scope and audience
    /// ([`policy::decide`]) and signs the token.
    pub(crate) fn issue(
        mut self,
        service: &TokenService,
        request: &TokenRequest,
        credential: &Credential,
        now: i64,
    ) -> Result<Issued, Stopped> {
        let client_id = match self.machine.advance(Input::Authenticated) {
            Output::Binding { client_id } => client_id.to_owned(),
            other => return Err(unexpected(other, "binding")),
        };
        let bound_client = BoundClient {
            client_id: Cow::Owned(client_id),
            redirect_uri: Cow::Owned(service.redirect_placeholder.clone()),
        };
        match self.machine.advance(Input::Bound { bound_client }) {
            Output::Extend => {}
            other => return Err(unexpected(other, "extension")),
        }
        let extensions = Extensions::new();
        let bound_client = match self.machine.advance(Input::Extended { extensions }) {
            Output::Negotiate { bound_client, .. } => bound_client.clone(),
            other => return Err(unexpected(other, "negotiation")),
        };
        let decision = policy::decide(
            &credential.allowance,
            request.scope.as_ref(),
            &request.audiences,
            &service.issuer_audience,
        )
        .map_err(|refusal| {
            Stopped::Refused(match refusal {
                Refusal::Scope => TokenError::InvalidScope,
                Refusal::Target => TokenError::InvalidTarget,
            })
        })?;
        let granted = decision.scopes.to_string();
        let scope: Scope = granted
            .parse()
            .map_err(|_| Stopped::Fault(Fault::Bug("a granted scope is not an RFC 6749 scope".into())))?;
        let pre_grant = PreGrant {
            client_id: bound_client.client_id.into_owned(),
            redirect_uri: bound_client.redirect_uri.into_owned(),
            scope,
        };
        match self.machine.advance(Input::Negotiated { pre_grant }) {
            Output::Ok { .. } => sign(service, credential, &decision, granted, now),
            other => Err(unexpected(other, "issue")),
        }
    }
}

/// Signs the token for `decision`; `scope` is its scopes as text.
fn sign(
    service: &TokenService,
    credential: &Credential,
    decision: &Decision,
    scope: String,
    now: i64,
) -> Result<Issued, Stopped> {
    let ttl = credential.token_ttl.unwrap_or(service.settings.default_ttl_seconds);
    let claims = AccessTokenClaims {
        iss: service.settings.issuer.clone(),
        sub: credential.client_id.clone(),
        aud: Audiences::from_list(&decision.audiences),
        exp: now + ttl,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::now_v7().simple().to_string(),
        client_id: credential.client_id.clone(),
        scope,
        service_account: credential.service_account.clone(),
        roles: credential.roles.clone(),
        secret_id: Some(credential.secret_id.clone()),
    };
    let token = service
        .keys
        .sign(&claims)
        .map_err(|error| Stopped::Fault(Fault::Outage(error.to_string())))?;
    Ok(Issued {
        token,
        expires_in: ttl,
        scope: claims.scope,
    })
}

/// The state machine's refusal as our answer; every kind it can name is mapped.
fn stopped(mut error: Error) -> Stopped {
    let kind = match &mut error {
        Error::Invalid(description) | Error::Unauthorized(description, _) => description.description().kind(),
        Error::Ignore => return out_of_step("an ignored request"),
        Error::Primitive(_) => return out_of_step("a primitive"),
    };
    Stopped::Refused(match kind {
        // TokenRequest already refused doubled credentials and malformed scopes, so the one
        // request the machine calls invalid is one without `grant_type`
        // (`the_grant_judges_only_the_grant_type`).
        AccessTokenErrorType::InvalidRequest => TokenError::InvalidRequest("grant_type is required"),
        AccessTokenErrorType::UnsupportedGrantType => TokenError::UnsupportedGrantType,
        AccessTokenErrorType::InvalidClient => TokenError::InvalidClient { basic: false },
        AccessTokenErrorType::InvalidGrant | AccessTokenErrorType::UnauthorizedClient => TokenError::UnauthorizedClient,
        AccessTokenErrorType::InvalidScope => TokenError::InvalidScope,
    })
}

fn unexpected(output: Output<'_>, step: &str) -> Stopped {
    match output {
        Output::Err(error) => stopped(*error),
        Output::Authenticate { .. }
        | Output::Binding { .. }
        | Output::Extend
        | Output::Negotiate { .. }
        | Output::Ok { .. } => out_of_step(step),
    }
}

fn out_of_step(step: &str) -> Stopped {
    Stopped::Fault(Fault::Bug(format!(
        "the client-credentials grant stopped out of step at {step}"
    )))
}

/// The parsed request as oxide-auth's grant reads it.
struct AsOxide<'a>(&'a TokenRequest);

impl Request for AsOxide<'_> {
    fn valid(&self) -> bool {
        true
    }

    fn authorization(&self) -> Option<(Cow<'_, str>, Cow<'_, [u8]>)> {
        match &self.0.presented {
            Presented::Secret {
                client_id,
                secret,
                basic: true,
            } => Some((Cow::Borrowed(client_id), Cow::Borrowed(secret))),
            Presented::Secret { basic: false, .. } => None,
        }
    }

    fn scope(&self) -> Option<Cow<'_, str>> {
        self.0.scope.as_ref().map(|scope| Cow::Owned(scope.to_string()))
    }

    fn grant_type(&self) -> Option<Cow<'_, str>> {
        self.0.grant_type.as_deref().map(Cow::Borrowed)
    }

    fn extension(&self, key: &str) -> Option<Cow<'_, str>> {
        match (&self.0.presented, key) {
            (
                Presented::Secret {
                    client_id,
                    basic: false,
                    ..
                },
                "client_id",
            ) => Some(Cow::Borrowed(client_id)),
            (
                Presented::Secret {
                    secret, basic: false, ..
                },
                "client_secret",
            ) => Some(String::from_utf8_lossy(secret)),
            (Presented::Secret { .. }, _) => None,
        }
    }

    fn allow_credentials_in_body(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::client_auth::{Head, Refused};

    use super::*;

    fn request(body: &str) -> TokenRequest {
        let head = Head {
            content_type: Some(b"application/x-www-form-urlencoded"),
            authorization: &[],
        };
        TokenRequest::parse(head, body.as_bytes()).unwrap_or_else(|e: Refused| panic!("{body}: {e:?}"))
    }

    fn refusal(body: &str) -> Option<TokenError> {
        match validate(&request(body)) {
            Ok(_) => None,
            Err(Stopped::Refused(error)) => Some(error),
            Err(Stopped::Fault(fault)) => panic!("{body}: {fault}"),
        }
    }

    #[test]
    fn the_grant_judges_only_the_grant_type() {
        let credentials = "client_id=gpc_a&client_secret=s";
        assert_eq!(refusal(&format!("grant_type=client_credentials&{credentials}")), None);
        assert_eq!(
            refusal(&format!(
                "grant_type=client_credentials&scope=a+b%3Ac&audience=x&{credentials}"
            )),
            None
        );
        assert_eq!(
            refusal(&format!("grant_type=password&{credentials}")),
            Some(TokenError::UnsupportedGrantType)
        );
        assert_eq!(
            refusal(&format!("grant_type=Client_Credentials&{credentials}")),
            Some(TokenError::UnsupportedGrantType)
        );
        assert_eq!(
            refusal(&format!("scope=a&{credentials}")),
            Some(TokenError::InvalidRequest("grant_type is required"))
        );
        // Empty values are credentials like any other to the grant (authentication refuses them).
        assert_eq!(refusal("grant_type=client_credentials&client_id=&client_secret="), None);
    }

    #[test]
    fn basic_credentials_reach_the_grant_from_the_one_parser() {
        let header = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "gpc_a:s")
        );
        let head = Head {
            content_type: Some(b"application/x-www-form-urlencoded"),
            authorization: &[header.as_bytes()],
        };
        let parsed = TokenRequest::parse(head, b"grant_type=client_credentials&client_id=gpc_a").unwrap();
        assert!(validate(&parsed).is_ok(), "Basic plus the same client_id is one method");
    }
}
