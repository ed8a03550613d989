//! The token, introspection and revocation endpoints' request parsing: the form body (a
//! repeated parameter is refused) and the client credentials it presents.
#![no_main]

use gatepass_auth::client_auth::{self, Presented};
use gatepass_auth::http::parse_form;
use oxide_auth::endpoint::QueryParameter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Some(form) = parse_form(body) else {
        return;
    };
    let id = form.unique_value("client_id");
    let secret = form.unique_value("client_secret");
    if let Ok(Presented { client_id, secret: presented, basic }) =
        client_auth::presented(None, id.as_deref(), secret.as_deref())
    {
        assert!(!basic);
        assert_eq!(Some(client_id.as_str()), id.as_deref());
        assert_eq!(Some(presented.as_slice()), secret.as_deref().map(str::as_bytes));
    }
});
