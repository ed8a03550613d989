//! The `client_credentials` grant, driven by oxide-auth's `ClientCredentialsFlow`.
//!
//! oxide-auth parses the request (grant type, Basic or body credentials, both at once,
//! scope syntax) and walks the grant; Gatepass plugs in a store-backed `Registrar`
//! (authentication, scope and audience policy) and a JWT-minting `Issuer`. Where the
//! flow cannot express a rule of the design (`invalid_scope`, `invalid_target`, a
//! database lookup that must not block the executor, the exact success body), the
//! outcome is recorded here and rendered by [`crate::http`]. See docs/architecture.md.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use gatepass_core::policy::{self, Decision, Refusal};
use gatepass_core::{AccessTokenClaims, Audience, Audiences, ClientSecret, ScopeSet, SecretHash};
use oxide_auth::endpoint::NormalizedParameter;
use oxide_auth::endpoint::{
    Authorizer, ClientCredentialsFlow, Endpoint, OAuthError, OwnerConsent, OwnerSolicitor, QueryParameter, Scopes,
    Solicitation, Template, WebRequest, WebResponse,
};
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::issuer::{IssuedToken, Issuer, RefreshedToken, TokenType};
use oxide_auth::primitives::registrar::{BoundClient, ClientUrl, PreGrant, Registrar, RegistrarError};
use oxide_auth::primitives::scope::Scope as OxideScope;
use url::Url;

use crate::TokenService;
use crate::client_auth::form_decode;
use crate::credentials::{Credential, Rejection};
use crate::error::TokenError;

/// A parsed token request: the form body (repeated keys already refused), the `resource`
/// parameters (RFC 8707 §2: there may be several, in order) and the `Authorization` header.
pub(crate) struct TokenRequest {
    pub form: NormalizedParameter,
    pub resources: Vec<String>,
    pub authorization: Option<String>,
}

/// Where the registrar gets stored credentials from.
pub(crate) enum Lookup {
    /// The in-memory cache only; a miss ends the flow with [`Outcome::NeedsLookup`].
    Cache,
    /// The database answer for the presented secret, read off the executor.
    Fetched(Option<Arc<Credential>>),
}

/// A minted token.
pub(crate) struct Issued {
    pub token: String,
    pub expires_in: i64,
    pub scope: String,
    pub client_id: String,
    pub secret_id: String,
}

/// How one run of the flow ended.
pub(crate) enum Outcome {
    Issued(Issued),
    Refused {
        error: TokenError,
        rejection: Option<Rejection>,
        client_id: Option<String>,
    },
    NeedsLookup(SecretHash),
    Fault(String),
}

#[derive(Default)]
struct Findings {
    presented_client: Option<String>,
    credential: Option<Arc<Credential>>,
    rejection: Option<Rejection>,
    needs_lookup: Option<SecretHash>,
    refusal: Option<Refusal>,
    decision: Option<Decision>,
    fault: Option<String>,
}

struct Exchange<'a> {
    service: &'a TokenService,
    lookup: &'a Lookup,
    basic: bool,
    audiences: Vec<String>,
    now: i64,
    findings: RefCell<Findings>,
    issued: Option<Issued>,
}

/// Runs the grant once.
pub(crate) fn run(service: &TokenService, request: &TokenRequest, lookup: &Lookup, now: i64) -> Outcome {
    let audiences = match (request.form.unique_value("audience"), request.resources.as_slice()) {
        (Some(_), [_, ..]) => {
            let error = TokenError::InvalidRequest("send either audience or resource, not both");
            return Outcome::Refused {
                error,
                rejection: None,
                client_id: None,
            };
        }
        (Some(audience), []) => vec![audience.into_owned()],
        (None, resources) => resources.to_vec(),
    };
    // RFC 6749 §5.2: a malformed scope is `invalid_scope` (not a generic `invalid_request`).
    if let Some(scope) = request.form.unique_value("scope")
        && !scope.trim().is_empty()
        && ScopeSet::parse(&scope).is_err()
    {
        return Outcome::Refused {
            error: TokenError::InvalidScope,
            rejection: None,
            client_id: None,
        };
    }
    let basic = request
        .authorization
        .as_deref()
        .and_then(|h| h.get(..6))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic "));
    let mut exchange = Exchange {
        service,
        lookup,
        basic,
        audiences,
        now,
        findings: RefCell::new(Findings::default()),
        issued: None,
    };
    let result = match ClientCredentialsFlow::prepare(&mut exchange) {
        Ok(mut flow) => {
            flow.allow_credentials_in_body(true);
            flow.execute(RequestRef(request))
        }
        Err(stop) => Err(stop),
    };
    let findings = exchange.findings.into_inner();
    match result {
        Ok(response) if response.status == 200 => match exchange.issued {
            Some(issued) => Outcome::Issued(issued),
            None => Outcome::Fault("flow answered 200 without a token".into()),
        },
        Ok(response) => {
            let error = match response.error.as_deref() {
                Some("invalid_client") => TokenError::InvalidClient { basic },
                Some("unsupported_grant_type") => TokenError::UnsupportedGrantType,
                Some("unauthorized_client") => TokenError::UnauthorizedClient,
                Some("invalid_scope") => TokenError::InvalidScope,
                _ => TokenError::InvalidRequest(describe_invalid(request, basic)),
            };
            Outcome::Refused {
                error,
                rejection: findings.rejection,
                client_id: findings.presented_client,
            }
        }
        Err(Stop::Denied) => {
            let error = match findings.refusal {
                Some(Refusal::Scope) => TokenError::InvalidScope,
                Some(Refusal::Target) => TokenError::InvalidTarget,
                None => TokenError::InvalidRequest("request refused"),
            };
            Outcome::Refused {
                error,
                rejection: None,
                client_id: findings.presented_client,
            }
        }
        Err(Stop::Primitive) => match (findings.needs_lookup, findings.fault) {
            (Some(hash), _) => Outcome::NeedsLookup(hash),
            (None, Some(fault)) => Outcome::Fault(fault),
            (None, None) => Outcome::Fault("grant flow failed".into()),
        },
    }
}

/// A better description than oxide-auth's bare `invalid_request`.
fn describe_invalid(request: &TokenRequest, basic: bool) -> &'static str {
    let form = &request.form;
    let body_credentials = form.unique_value("client_id").is_some() || form.unique_value("client_secret").is_some();
    if request.authorization.is_some() && !basic {
        "only the Basic authorization scheme is accepted"
    } else if basic && body_credentials {
        "use one client authentication method, not both"
    } else if form.unique_value("grant_type").is_none() {
        "grant_type is required"
    } else if form.unique_value("scope").is_some() {
        "scope is malformed"
    } else if basic {
        "malformed Basic authorization header"
    } else {
        "client_id and client_secret are both required"
    }
}

impl Exchange<'_> {
    fn reject(&self, rejection: Rejection) -> Result<(), RegistrarError> {
        self.findings.borrow_mut().rejection = Some(rejection);
        Err(RegistrarError::Unspecified)
    }
}

impl Registrar for Exchange<'_> {
    fn bound_redirect<'a>(&self, bound: ClientUrl<'a>) -> Result<BoundClient<'a>, RegistrarError> {
        Ok(BoundClient {
            client_id: bound.client_id,
            redirect_uri: Cow::Owned(self.service.redirect_placeholder.clone()),
        })
    }

    fn negotiate(&self, bound: BoundClient, scope: Option<OxideScope>) -> Result<PreGrant, RegistrarError> {
        let mut findings = self.findings.borrow_mut();
        let Some(credential) = findings.credential.clone() else {
            return Err(RegistrarError::PrimitiveError);
        };
        // `scope=` with nothing in it is no request: every scope the client may have.
        let requested = scope.map(|s| s.to_string()).filter(|s| !s.trim().is_empty());
        let Ok(requested) = requested.map(|s| ScopeSet::parse(&s)).transpose() else {
            findings.refusal = Some(Refusal::Scope);
            return Err(RegistrarError::Unspecified);
        };
        let Ok(audiences) = self
            .audiences
            .iter()
            .map(|a| Audience::parse(a))
            .collect::<Result<Vec<_>, _>>()
        else {
            findings.refusal = Some(Refusal::Target);
            return Err(RegistrarError::Unspecified);
        };
        match policy::decide(
            &credential.allowance,
            requested.as_ref(),
            &audiences,
            &self.service.issuer_audience,
        ) {
            Ok(decision) => {
                let scope = decision
                    .scopes
                    .to_string()
                    .parse()
                    .map_err(|_| RegistrarError::PrimitiveError)?;
                findings.decision = Some(decision);
                Ok(PreGrant {
                    client_id: bound.client_id.into_owned(),
                    redirect_uri: bound.redirect_uri.into_owned(),
                    scope,
                })
            }
            Err(refusal) => {
                findings.refusal = Some(refusal);
                Err(RegistrarError::Unspecified)
            }
        }
    }

    fn check(&self, client_id: &str, passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        let client_id = if self.basic {
            form_decode(client_id.as_bytes())
        } else {
            Cow::Borrowed(client_id.as_bytes())
        };
        let client_id = String::from_utf8_lossy(&client_id).into_owned();
        self.findings.borrow_mut().presented_client = Some(client_id.clone());
        let Some(passphrase) = passphrase else {
            return self.reject(Rejection::NoCredentials);
        };
        let passphrase = if self.basic {
            form_decode(passphrase)
        } else {
            Cow::Borrowed(passphrase)
        };
        let Some(secret) = std::str::from_utf8(&passphrase)
            .ok()
            .and_then(|s| ClientSecret::parse(s).ok())
        else {
            return self.reject(Rejection::MalformedSecret);
        };
        let hash = self.service.pepper.hash(&secret);
        let credential = match self.lookup {
            Lookup::Cache => {
                let Some(found) = self.service.credentials.get(&hash) else {
                    self.findings.borrow_mut().needs_lookup = Some(hash);
                    return Err(RegistrarError::PrimitiveError);
                };
                found
            }
            Lookup::Fetched(None) => return self.reject(Rejection::UnknownSecret),
            Lookup::Fetched(Some(found)) => Arc::clone(found),
        };
        if let Err(rejection) = credential.verify(&client_id, &hash, self.now) {
            return self.reject(rejection);
        }
        self.findings.borrow_mut().credential = Some(credential);
        Ok(())
    }
}

impl Issuer for Exchange<'_> {
    fn issue(&mut self, _grant: Grant) -> Result<IssuedToken, ()> {
        let findings = self.findings.get_mut();
        let (Some(credential), Some(decision)) = (findings.credential.clone(), findings.decision.take()) else {
            return Err(());
        };
        let ttl = credential
            .token_ttl
            .unwrap_or(self.service.settings.default_ttl_seconds);
        let scope = decision.scopes.to_string();
        let claims = AccessTokenClaims {
            iss: self.service.settings.issuer.clone(),
            sub: credential.client_id.clone(),
            aud: Audiences::from_list(&decision.audiences),
            exp: self.now + ttl,
            iat: self.now,
            nbf: self.now,
            jti: uuid::Uuid::now_v7().simple().to_string(),
            client_id: credential.client_id.clone(),
            scope: scope.clone(),
            service_account: credential.service_account.clone(),
            roles: credential.roles.clone(),
            secret_id: Some(credential.secret_id.clone()),
        };
        match self.service.keys.sign(&claims) {
            Ok(token) => {
                self.issued = Some(Issued {
                    token: token.clone(),
                    expires_in: ttl,
                    scope,
                    client_id: credential.client_id.clone(),
                    secret_id: credential.secret_id.clone(),
                });
                let until = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
                Ok(IssuedToken {
                    token,
                    refresh: None,
                    until,
                    token_type: TokenType::Bearer,
                })
            }
            Err(error) => {
                findings.fault = Some(error.to_string());
                Err(())
            }
        }
    }

    fn refresh(&mut self, _: &str, _: Grant) -> Result<RefreshedToken, ()> {
        Err(())
    }

    fn recover_token(&self, _: &str) -> Result<Option<Grant>, ()> {
        Ok(None)
    }

    fn recover_refresh(&self, _: &str) -> Result<Option<Grant>, ()> {
        Ok(None)
    }
}

/// Why the flow stopped without a response of its own.
enum Stop {
    /// The registrar refused negotiation (scope or audience policy).
    Denied,
    /// A primitive failed: a cache miss, a signing or storage fault.
    Primitive,
}

struct RequestRef<'a>(&'a TokenRequest);

/// The flow's view of its answer: a status and, for errors, the RFC error code.
#[derive(Default)]
struct FlowResponse {
    status: u16,
    error: Option<String>,
}

impl WebRequest for RequestRef<'_> {
    type Error = ();
    type Response = FlowResponse;

    fn query(&mut self) -> Result<Cow<'_, dyn QueryParameter + 'static>, ()> {
        Err(())
    }

    fn urlbody(&mut self) -> Result<Cow<'_, dyn QueryParameter + 'static>, ()> {
        Ok(Cow::Borrowed(&self.0.form))
    }

    fn authheader(&mut self) -> Result<Option<Cow<'_, str>>, ()> {
        Ok(self.0.authorization.as_deref().map(Cow::Borrowed))
    }
}

impl WebResponse for FlowResponse {
    type Error = ();

    fn ok(&mut self) -> Result<(), ()> {
        self.status = 200;
        Ok(())
    }

    fn redirect(&mut self, _: Url) -> Result<(), ()> {
        Err(())
    }

    fn client_error(&mut self) -> Result<(), ()> {
        self.status = 400;
        Ok(())
    }

    fn unauthorized(&mut self, _: &str) -> Result<(), ()> {
        self.status = 401;
        Ok(())
    }

    fn body_text(&mut self, _: &str) -> Result<(), ()> {
        Ok(())
    }

    fn body_json(&mut self, data: &str) -> Result<(), ()> {
        if self.status != 200 {
            self.error = serde_json::from_str::<serde_json::Value>(data)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str().map(str::to_owned)));
        }
        Ok(())
    }
}

impl<'r> Endpoint<RequestRef<'r>> for Exchange<'_> {
    type Error = Stop;

    fn registrar(&self) -> Option<&dyn Registrar> {
        Some(self)
    }

    fn authorizer_mut(&mut self) -> Option<&mut dyn Authorizer> {
        None
    }

    fn issuer_mut(&mut self) -> Option<&mut dyn Issuer> {
        Some(self)
    }

    fn owner_solicitor(&mut self) -> Option<&mut dyn OwnerSolicitor<RequestRef<'r>>> {
        Some(self)
    }

    fn scopes(&mut self) -> Option<&mut dyn Scopes<RequestRef<'r>>> {
        None
    }

    fn response(&mut self, _: &mut RequestRef<'r>, _: Template) -> Result<FlowResponse, Stop> {
        Ok(FlowResponse {
            status: 200,
            error: None,
        })
    }

    fn error(&mut self, error: OAuthError) -> Stop {
        match error {
            OAuthError::DenySilently => Stop::Denied,
            _ => Stop::Primitive,
        }
    }

    fn web_error(&mut self, (): ()) -> Stop {
        Stop::Primitive
    }
}

impl<'r> OwnerSolicitor<RequestRef<'r>> for Exchange<'_> {
    fn check_consent(&mut self, _: &mut RequestRef<'r>, solicitation: Solicitation) -> OwnerConsent<FlowResponse> {
        // Client credentials: the client is the resource owner.
        OwnerConsent::Authorized(solicitation.pre_grant().client_id.clone())
    }
}
