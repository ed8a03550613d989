//! The identifier and secret formats: parsing never panics, and what parses round-trips.
#![no_main]

use gatepass_core::{Audience, ClientId, ClientSecret, Kid, ScopeSet, parse_utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(secret) = ClientSecret::parse(text) {
        assert_eq!(secret.expose(), text);
        assert!(text.starts_with(secret.key_prefix()));
        assert_eq!(ClientSecret::parse(secret.expose()).map(|s| s.expose().to_owned()).ok(), Some(text.to_owned()));
    }
    if let Ok(id) = ClientId::parse(text) {
        assert_eq!(ClientId::parse(id.as_str()).ok(), Some(id));
    }
    let _ = Kid::parse(text);
    if let Ok(scopes) = ScopeSet::parse(text) {
        assert_eq!(ScopeSet::parse(&scopes.to_string()).ok(), Some(scopes));
    }
    let _ = Audience::parse(text);
    let _ = parse_utc(text);
});
