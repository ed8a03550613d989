//! Client labels: a small map of `key → value`, stored as canonical JSON.

use std::collections::BTreeMap;

use crate::problem::{AdminError, invalid};

/// Checks labels: at most 32; keys 1–63 of `a-z0-9._-`; values up to 256 printable characters.
pub fn validate(labels: &BTreeMap<String, String>) -> Result<(), AdminError> {
    if labels.len() > 32 {
        return Err(invalid("labels", "at most 32 labels"));
    }
    for (key, value) in labels {
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
    Ok(())
}

/// Parses `key:value` from a `?label=` filter.
pub fn parse_filter(filter: &str) -> Result<(String, String), AdminError> {
    let (key, value) = filter
        .split_once(':')
        .ok_or_else(|| invalid("label", "use label=key:value"))?;
    Ok((key.to_owned(), value.to_owned()))
}

/// Canonical JSON (sorted keys, no spaces), which the store's label filter relies on.
pub fn to_json(labels: &BTreeMap<String, String>) -> String {
    serde_json::to_string(labels).unwrap_or_else(|_| "{}".to_owned())
}

/// Reads stored labels back.
pub fn from_json(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}
