//! The token path's JSON, written without serde's escaper when nothing needs escaping.
//!
//! `serde_json` looks at every byte of every string to decide whether to escape it, one at a
//! time; on the token path that is most of the work of writing the claims and the response.
//! What Gatepass writes there (URLs, ids, RFC 6749 scopes, a JWT) never needs escaping, so
//! [`plain`] checks each string in one pass that compiles to a loop over many bytes at once,
//! and the writers copy them as they are (the claims below, the token response in
//! [`crate::http`], both through [`field`]). Anything else goes through serde, so the
//! output is always exactly serde's (unit tests compare the two).

use std::fmt::Write as _;

use gatepass_core::{AccessTokenClaims, Audiences};

/// Whether `s` can be written into a JSON string as it is: printable ASCII without `"` and `\`.
#[allow(
    clippy::needless_bitwise_bool,
    clippy::manual_range_contains,
    reason = "no early exit and no range call, so the check compiles to a loop over many bytes at once"
)]
pub(crate) fn plain(s: &str) -> bool {
    s.bytes().fold(true, |plain, b| {
        plain & (b >= b' ') & (b <= b'~') & (b != b'"') & (b != b'\\')
    })
}

/// The claims as serde writes them (same field order, same skipped fields).
pub(crate) fn claims(claims: &AccessTokenClaims) -> Result<Vec<u8>, serde_json::Error> {
    let strings_plain = plain(&claims.iss)
        && plain(&claims.sub)
        && plain(&claims.jti)
        && plain(&claims.client_id)
        && plain(&claims.scope)
        && claims.service_account.as_deref().is_none_or(plain)
        && claims.secret_id.as_deref().is_none_or(plain)
        && claims.roles.iter().all(|role| plain(role))
        && match &claims.aud {
            Audiences::One(one) => plain(one),
            Audiences::Many(many) => many.iter().all(|a| plain(a)),
        };
    if !strings_plain {
        return serde_json::to_vec(claims);
    }
    let mut json = String::with_capacity(256);
    field(&mut json, '{', "iss", &claims.iss);
    field(&mut json, ',', "sub", &claims.sub);
    json.push_str(r#","aud":"#);
    match &claims.aud {
        Audiences::One(one) => quoted(&mut json, one),
        Audiences::Many(many) => list(&mut json, many),
    }
    // Writing to a String cannot fail.
    let _ = write!(
        json,
        r#","exp":{},"iat":{},"nbf":{}"#,
        claims.exp, claims.iat, claims.nbf
    );
    field(&mut json, ',', "jti", &claims.jti);
    field(&mut json, ',', "client_id", &claims.client_id);
    field(&mut json, ',', "scope", &claims.scope);
    if let Some(service_account) = &claims.service_account {
        field(&mut json, ',', "service_account", service_account);
    }
    if !claims.roles.is_empty() {
        json.push_str(r#","roles":"#);
        list(&mut json, &claims.roles);
    }
    if let Some(secret_id) = &claims.secret_id {
        field(&mut json, ',', "secret_id", secret_id);
    }
    json.push('}');
    Ok(json.into_bytes())
}

/// `<before>"name":"value"` for a plain value.
pub(crate) fn field(json: &mut String, before: char, name: &str, value: &str) {
    json.push(before);
    quoted(json, name);
    json.push(':');
    quoted(json, value);
}

fn quoted(json: &mut String, value: &str) {
    json.push('"');
    json.push_str(value);
    json.push('"');
}

fn list(json: &mut String, values: &[String]) {
    json.push('[');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        quoted(json, value);
    }
    json.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_with(edit: impl FnOnce(&mut AccessTokenClaims)) -> AccessTokenClaims {
        let mut claims = AccessTokenClaims {
            iss: "https://auth.example.com".into(),
            sub: "gpc_01m8vhqrqee89bfcb69cgz3px4".into(),
            aud: Audiences::One("https://api.example.com".into()),
            exp: 1_796_221_805,
            iat: 1_796_220_905,
            nbf: 1_796_220_905,
            jti: "01a2371be80f73c7997d5af65cab0c26".into(),
            client_id: "gpc_01m8vhqrqee89bfcb69cgz3px4".into(),
            scope: "sites:read scripts:write".into(),
            service_account: None,
            roles: Vec::new(),
            secret_id: Some("01a2371b-e2ee-7212-b7b1-664cd584e2f7".into()),
        };
        edit(&mut claims);
        claims
    }

    #[test]
    fn the_claims_are_the_json_serde_writes() {
        let cases = [
            claims_with(|_| {}),
            claims_with(|c| c.secret_id = None),
            claims_with(|c| {
                c.aud = Audiences::Many(vec!["a".into(), "b".into(), "c".into()]);
                c.service_account = Some("gsa_01m8vhqrqee89bfcb69cgz3px4".into());
                c.roles = vec!["deployer".into(), "reader".into()];
                c.scope = String::new();
                c.exp = -1;
            }),
            claims_with(|c| c.aud = Audiences::Many(Vec::new())),
            // Never produced, but if they were: escaped like serde does, still valid JSON.
            claims_with(|c| c.iss = "https://a\"b".into()),
            claims_with(|c| c.roles = vec!["x\\y".into()]),
            claims_with(|c| c.aud = Audiences::Many(vec!["a\nb".into()])),
            claims_with(|c| c.service_account = Some("\u{7f}\u{e9}".into())),
        ];
        for case in cases {
            let json = claims(&case).unwrap();
            assert_eq!(
                String::from_utf8(json.clone()).unwrap(),
                serde_json::to_string(&case).unwrap()
            );
            let parsed: AccessTokenClaims = serde_json::from_slice(&json).unwrap();
            assert_eq!(parsed, case);
        }
    }

    #[test]
    fn plain_is_printable_ascii_without_quote_or_backslash() {
        assert!(plain("") && plain("a b~!#[]") && plain("eyJ0.eyJz-_"));
        for bad in ["\"", "\\", "\n", "\u{7f}", "é", "a\u{0}"] {
            assert!(!plain(bad), "{bad:?}");
        }
    }
}
