//! `Authorization: Basic` decoding (RFC 7617 with RFC 6749 §2.3.1 form-encoding): any header
//! decodes or is refused without a panic, and what a client encodes decodes back unchanged.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatepass_auth::client_auth::decode_basic;
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
    if let Ok(header) = std::str::from_utf8(data) {
        let _ = decode_basic(header);
    }
    // Split the input into an id (UTF-8) and a secret (any bytes), encode, decode.
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (id, secret) = (&data[..cut], data.get(cut + 1..).unwrap_or_default());
    if let Ok(id) = std::str::from_utf8(id) {
        let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", form_encode(id.as_bytes()), form_encode(secret))));
        let decoded = decode_basic(&header).expect("the Basic scheme").expect("well-formed");
        assert_eq!(decoded.0, id);
        assert_eq!(decoded.1, secret);
    }
});
