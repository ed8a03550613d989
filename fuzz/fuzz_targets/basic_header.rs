//! `Authorization: Basic` (RFC 7617 with RFC 6749 §2.3.1 form-encoding) through the one
//! credential parser of the token, introspection and revocation endpoints
//! (`client_auth::authorization` and `client_auth::presented`): any header is read or refused
//! without a panic, and what a client encodes is presented back unchanged.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatepass_auth::client_auth::{self, Presented};
use gatepass_auth::form::Form;
use libfuzzer_sys::fuzz_target;

/// RFC 6749 Appendix B: form-urlencode each half before joining them with ':'.
fn form_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => char::from(b).to_string(),
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let none = Form::default();
    if let Ok(Some(header)) = client_auth::authorization(&[data]) {
        if let Ok(Presented::Secret { basic, .. }) = client_auth::presented(Some(header), &none) {
            assert!(basic);
        }
    }
    // Split the input into an id (UTF-8) and a secret (any bytes), encode, parse.
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (id, secret) = (&data[..cut], data.get(cut + 1..).unwrap_or_default());
    if let Ok(id) = std::str::from_utf8(id) {
        let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", form_encode(id.as_bytes()), form_encode(secret))));
        let read = client_auth::authorization(&[header.as_bytes()]).expect("visible ASCII");
        let presented = client_auth::presented(read, &none).expect("well-formed");
        assert_eq!(presented, Presented::Secret { client_id: id.to_owned(), secret: secret.to_vec(), basic: true });
    }
});
