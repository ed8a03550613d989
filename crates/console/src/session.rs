//! Console sessions: a random id in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` when the
//! issuer is `https://`), pointing at server-side state — the admin client's access token and
//! a CSRF token — that expires with the access token, on the server's clock. No secret is
//! in the cookie.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_core::Clock;
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
    /// Ends then (seconds since the epoch).
    expires: i64,
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
    clock: Arc<dyn Clock>,
}

fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

impl Sessions {
    /// An empty store; `secure` marks cookies `Secure` (an `https://` issuer); sessions end
    /// on `clock`. (The cache's own bound of a day only keeps memory in check: tokens live at
    /// most that long.)
    pub fn new(secure: bool, clock: Arc<dyn Clock>) -> Self {
        Self {
            by_id: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
            secure,
            clock,
        }
    }

    /// Starts a session for a token that lives `lifetime` seconds; the cookie to set.
    pub fn start(&self, client_id: String, token: String, lifetime: i64) -> Option<Cookie<'static>> {
        let id = random_token()?;
        let session = Session {
            client_id,
            token,
            csrf: random_token()?,
            // End a little before the token does, so no action fails half-way on an expired token.
            expires: self.clock.now().unix_timestamp() + lifetime - 10,
        };
        self.by_id.insert(id.clone(), Arc::new(session));
        Some(self.cookie(id, lifetime))
    }

    /// The live session the request's cookie names.
    pub fn current(&self, req: &HttpRequest) -> Option<Arc<Session>> {
        let id = req.cookie(COOKIE)?.value().to_owned();
        let session = self.by_id.get(&id)?;
        if session.expires <= self.clock.now().unix_timestamp() {
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
        self.cookie(String::new(), 0)
    }

    fn cookie(&self, value: String, lifetime: i64) -> Cookie<'static> {
        Cookie::build(COOKIE, value)
            .path("/console")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .max_age(actix_web::cookie::time::Duration::seconds(lifetime.max(0)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use gatepass_core::ManualClock;

    use super::*;

    fn request_with(cookie: &Cookie<'static>) -> HttpRequest {
        actix_web::test::TestRequest::default()
            .cookie(cookie.clone())
            .to_http_request()
    }

    fn sessions() -> (Sessions, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(time::macros::datetime!(2026-11-01 12:00 UTC)));
        (Sessions::new(true, clock.clone()), clock)
    }

    #[test]
    fn a_session_is_a_flagged_id_cookie_ends_on_sign_out_and_is_not_started_for_a_token_about_to_expire() {
        let (sessions, _) = sessions();
        let cookie = sessions.start("gpc_a".into(), "token".into(), 900).unwrap();
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
        let short = sessions.start("gpc_a".into(), "token".into(), 5).unwrap();
        assert!(sessions.current(&request_with(&short)).is_none(), "expired");
    }

    #[test]
    fn a_session_lives_as_long_as_its_token() {
        let (sessions, clock) = sessions();
        let cookie = sessions.start("gpc_a".into(), "token".into(), 900).unwrap();
        clock.advance(time::Duration::seconds(889));
        assert!(
            sessions.current(&request_with(&cookie)).is_some(),
            "live until just before the token ends"
        );
        clock.advance(time::Duration::seconds(1));
        assert!(
            sessions.current(&request_with(&cookie)).is_none(),
            "ended with its token"
        );
        clock.advance(time::Duration::seconds(-100));
        assert!(
            sessions.current(&request_with(&cookie)).is_none(),
            "an ended session is gone, not paused"
        );
    }
}
