//! The admin API's field rules, once: each input field parsed into a value that can only
//! hold what the rule allows (parse, don't validate). Errors name the field.

use std::collections::BTreeMap;

use gatepass_core::{Audience, Scope, ScopeSet, parse_utc};
use time::OffsetDateTime;

use crate::problem::{AdminError, invalid};

/// Token lifetimes a client may set (DESIGN §3: 60 s to 24 h), defined once for every crate.
pub use gatepass_core::TOKEN_TTL_SECONDS;
/// The longest grace period a rotation may give older secrets (90 days).
pub const MAX_GRACE_SECONDS: i64 = 90 * 86_400;

/// A client name: 1–128 printable characters, trimmed.
pub fn client_name(value: &str) -> Result<String, AdminError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 128 || trimmed.chars().any(char::is_control) {
        return Err(invalid("name", "must be 1-128 printable characters"));
    }
    Ok(trimmed.to_owned())
}

/// The name a client gets when none is given: `<service account>-<dd_mm_yyyy>-<hh_mm>`
/// (`client-…` without a service account), in UTC.
pub fn default_client_name(service_account: Option<&str>, at: OffsetDateTime) -> String {
    format!(
        "{}-{:02}_{:02}_{}-{:02}_{:02}",
        service_account.unwrap_or("client"),
        at.day(),
        u8::from(at.month()),
        at.year(),
        at.hour(),
        at.minute()
    )
}

/// A role or service-account name: 1–63 of `a-z0-9._-`.
pub fn slug(value: &str) -> Result<String, AdminError> {
    let ok = (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid("name", "must be 1-63 characters of a-z, 0-9, '.', '_', '-'"))
    }
}

/// A description: at most 512 characters, trimmed.
pub fn description(value: &str) -> Result<String, AdminError> {
    if value.chars().count() > 512 {
        return Err(invalid("description", "at most 512 characters"));
    }
    Ok(value.trim().to_owned())
}

/// A secret's label: 1–128 characters, trimmed.
pub fn secret_label(value: &str) -> Result<String, AdminError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > 128 {
        return Err(invalid("label", "must be 1-128 characters"));
    }
    Ok(trimmed.to_owned())
}

/// `status` of a client or service account: whether it is disabled.
pub fn disabled(value: &str) -> Result<bool, AdminError> {
    match value {
        "active" => Ok(false),
        "disabled" => Ok(true),
        _ => Err(invalid("status", "must be active or disabled")),
    }
}

/// A moment after `now`, as `yyyy-MM-ddTHH:mm:ssZ`; seconds since the epoch.
pub fn future(field: &'static str, value: &str, now: i64) -> Result<i64, AdminError> {
    let at = parse_utc(value)
        .map_err(|e| invalid(field, e.to_string()))?
        .unix_timestamp();
    if at <= now {
        return Err(invalid(field, "must be in the future"));
    }
    Ok(at)
}

/// A client's token lifetime override.
pub fn token_ttl(value: i64) -> Result<i64, AdminError> {
    if TOKEN_TTL_SECONDS.contains(&value) {
        Ok(value)
    } else {
        Err(invalid("token_ttl_seconds", "must be between 60 and 86400"))
    }
}

/// A rotation's grace period: 0 to 90 days.
pub fn grace_period(value: i64) -> Result<i64, AdminError> {
    if (0..=MAX_GRACE_SECONDS).contains(&value) {
        Ok(value)
    } else {
        Err(invalid("grace_period_seconds", "must be between 0 and 7776000"))
    }
}

/// A list of scopes.
pub fn scopes(values: &[String]) -> Result<ScopeSet, AdminError> {
    values
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<ScopeSet, _>>()
        .map_err(|e| invalid("scopes", e.to_string()))
}

/// A list of audiences, stored space-separated.
pub fn audiences(values: &[String]) -> Result<String, AdminError> {
    let parsed = values
        .iter()
        .map(|a| Audience::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("audiences", e.to_string()))?;
    Ok(parsed.iter().map(Audience::as_str).collect::<Vec<_>>().join(" "))
}

/// Client labels: at most 32; keys 1–63 of `a-z0-9._-`; values up to 256 printable
/// characters. Stored as canonical JSON (sorted keys), which the label filter relies on.
pub fn labels(values: &BTreeMap<String, String>) -> Result<String, AdminError> {
    if values.len() > 32 {
        return Err(invalid("labels", "at most 32 labels"));
    }
    for (key, value) in values {
        let key_ok = (1..=63).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
        if !key_ok {
            return Err(invalid(
                "labels",
                format!("label key {key:?} must be 1-63 characters of a-z, 0-9, '.', '_', '-'"),
            ));
        }
        if value.chars().count() > 256 || value.chars().any(char::is_control) {
            return Err(invalid(
                "labels",
                format!("label {key:?}: values are at most 256 printable characters"),
            ));
        }
    }
    Ok(serde_json::to_string(values).unwrap_or_else(|_| "{}".to_owned()))
}

/// Reads stored labels back.
pub fn labels_of(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// `key:value` from a `?label=` filter.
pub fn label_filter(filter: &str) -> Result<(String, String), AdminError> {
    let (key, value) = filter
        .split_once(':')
        .ok_or_else(|| invalid("label", "use label=key:value"))?;
    Ok((key.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: AdminError) -> &'static str {
        match error {
            AdminError::InvalidField { field, .. } => field,
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn client_names_are_trimmed_printable_and_bounded() {
        assert_eq!(client_name("  billing sync ").unwrap(), "billing sync");
        assert_eq!(client_name(&"é".repeat(128)).unwrap().chars().count(), 128);
        for bad in ["", "   ", "a\u{7}b", "line\nbreak", &"x".repeat(129)] {
            assert_eq!(field_of(client_name(bad).unwrap_err()), "name", "{bad:?}");
        }
    }

    #[test]
    fn the_default_name_is_the_account_and_the_utc_minute() {
        let at = time::macros::datetime!(2026-03-04 05:06:59 UTC);
        assert_eq!(default_client_name(Some("billing"), at), "billing-04_03_2026-05_06");
        assert_eq!(default_client_name(None, at), "client-04_03_2026-05_06");
    }

    #[test]
    fn slugs_allow_only_lowercase_digits_and_three_marks() {
        assert_eq!(slug("ci.deploy_bot-2").unwrap(), "ci.deploy_bot-2");
        for bad in ["", "Admin", "a b", "a/b", "ä", &"a".repeat(64)] {
            assert_eq!(field_of(slug(bad).unwrap_err()), "name", "{bad:?}");
        }
    }

    #[test]
    fn descriptions_and_labels_are_bounded() {
        assert_eq!(description(" x ").unwrap(), "x");
        assert_eq!(field_of(description(&"d".repeat(513)).unwrap_err()), "description");
        assert_eq!(secret_label(" ci ").unwrap(), "ci");
        assert_eq!(field_of(secret_label(" ").unwrap_err()), "label");
        assert_eq!(field_of(secret_label(&"l".repeat(129)).unwrap_err()), "label");
    }

    #[test]
    fn statuses_are_active_or_disabled() {
        assert!(!disabled("active").unwrap());
        assert!(disabled("disabled").unwrap());
        for bad in ["expired", "Active", ""] {
            assert_eq!(field_of(disabled(bad).unwrap_err()), "status");
        }
    }

    #[test]
    fn future_times_must_be_utc_and_after_now() {
        let now = time::macros::datetime!(2026-01-01 00:00:00 UTC).unix_timestamp();
        assert_eq!(future("expires_at", "2026-01-01T00:00:01Z", now).unwrap(), now + 1);
        for bad in ["2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", "tomorrow", "2026-01-02"] {
            assert_eq!(
                field_of(future("expires_at", bad, now).unwrap_err()),
                "expires_at",
                "{bad}"
            );
        }
    }

    #[test]
    fn lifetimes_and_grace_periods_have_ranges() {
        assert_eq!(token_ttl(60).unwrap(), 60);
        assert_eq!(token_ttl(86_400).unwrap(), 86_400);
        assert!(token_ttl(59).is_err() && token_ttl(86_401).is_err());
        assert_eq!(grace_period(0).unwrap(), 0);
        assert!(grace_period(-1).is_err() && grace_period(MAX_GRACE_SECONDS + 1).is_err());
    }

    #[test]
    fn scopes_audiences_and_labels_parse_or_name_their_field() {
        assert_eq!(scopes(&["b".into(), "a".into()]).unwrap().to_string(), "a b");
        assert_eq!(field_of(scopes(&["a b".into()]).unwrap_err()), "scopes");
        assert_eq!(
            audiences(&["https://api".into(), "billing".into()]).unwrap(),
            "https://api billing"
        );
        assert_eq!(field_of(audiences(&[String::new()]).unwrap_err()), "audiences");
        let good = BTreeMap::from([("team".to_owned(), "payments".to_owned())]);
        assert_eq!(labels(&good).unwrap(), r#"{"team":"payments"}"#);
        assert_eq!(labels_of(&labels(&good).unwrap()), good);
        let bad_key = BTreeMap::from([("Team".to_owned(), "x".to_owned())]);
        assert_eq!(field_of(labels(&bad_key).unwrap_err()), "labels");
        let many: BTreeMap<_, _> = (0..33).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(field_of(labels(&many).unwrap_err()), "labels");
        assert_eq!(label_filter("team:a:b").unwrap(), ("team".into(), "a:b".into()));
        assert_eq!(field_of(label_filter("team").unwrap_err()), "label");
    }
}
