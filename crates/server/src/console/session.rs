//! Console sessions: a random id in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when the
//! issuer is `https://`), pointing at server-side state — the admin client's access token and
//! a CSRF token — that expires with the access token. No secret is in the cookie.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

/// The cookie's name.
pub const COOKIE: &str = "gatepass_console";

/// A signed-in administrator.
pub struct Session {
    /// The admin client's id (the audit log's actor).
    pub client_id: String,
    /// Its access token, sent to the admin API on every action.
    pub token: String,
    /// Every form must send this back.
    pub csrf: String,
    expires: Instant,
}

impl Session {
    /// Whether `presented` is this session's CSRF token (constant-time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// The sessions of this node.
pub struct Sessions {
    by_id: moka::sync::Cache<String, Arc<Session>>,
    secure: bool,
}

fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

impl Sessions {
    /// An empty store; `secure` marks cookies `Secure` (an `https://` issuer).
    pub fn new(secure: bool) -> Self {
        Self {
            by_id: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
            secure,
        }
    }

    /// Starts a session for a token that lives `lifetime`; the cookie to set.
    pub fn start(&self, client_id: String, token: String, lifetime: Duration) -> Option<Cookie<'static>> {
        let id = random_token()?;
        let session = Session {
            client_id,
            token,
            csrf: random_token()?,
            // End a little before the token does, so no action fails half-way on an expired token.
            expires: Instant::now() + lifetime.saturating_sub(Duration::from_secs(10)),
        };
        self.by_id.insert(id.clone(), Arc::new(session));
        Some(self.cookie(id, lifetime))
    }

    /// The live session the request's cookie names.
    pub fn current(&self, req: &HttpRequest) -> Option<Arc<Session>> {
        let id = req.cookie(COOKIE)?.value().to_owned();
        let session = self.by_id.get(&id)?;
        if session.expires <= Instant::now() {
            self.by_id.invalidate(&id);
            return None;
        }
        Some(session)
    }

    /// Ends the request's session; the cookie that clears it.
    pub fn end(&self, req: &HttpRequest) -> Cookie<'static> {
        if let Some(cookie) = req.cookie(COOKIE) {
            self.by_id.invalidate(cookie.value());
        }
        self.cookie(String::new(), Duration::ZERO)
    }

    fn cookie(&self, value: String, lifetime: Duration) -> Cookie<'static> {
        Cookie::build(COOKIE, value)
            .path("/console")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .max_age(actix_web::cookie::time::Duration::seconds(
                i64::try_from(lifetime.as_secs()).unwrap_or(0),
            ))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(cookie: &Cookie<'static>) -> HttpRequest {
        actix_web::test::TestRequest::default()
            .cookie(cookie.clone())
            .to_http_request()
    }

    #[test]
    fn a_session_is_a_flagged_id_cookie_ends_on_sign_out_and_is_not_started_for_a_token_about_to_expire() {
        let sessions = Sessions::new(true);
        let cookie = sessions
            .start("gpc_a".into(), "token".into(), Duration::from_secs(900))
            .unwrap();
        assert!(cookie.http_only().unwrap_or(false) && cookie.secure().unwrap_or(false));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert!(!cookie.value().contains("token"), "the cookie is only an id");
        let session = sessions.current(&request_with(&cookie)).expect("live");
        assert!(session.csrf_matches(&session.csrf.clone()));
        assert!(!session.csrf_matches("forged"));
        let cleared = sessions.end(&request_with(&cookie));
        assert_eq!(cleared.max_age(), Some(actix_web::cookie::time::Duration::ZERO));
        assert!(sessions.current(&request_with(&cookie)).is_none(), "signed out");

        // A token that has (almost) run out makes no session worth having.
        let short = sessions
            .start("gpc_a".into(), "token".into(), Duration::from_secs(5))
            .unwrap();
        assert!(sessions.current(&request_with(&short)).is_none(), "expired");
    }
}
