//! The admin API's field rules, once: each input field parsed into a value that can only
//! hold what the rule allows (parse, don't validate). Errors name the field. [`schema`]
//! describes each rule for the OpenAPI document from the same constants, so the document
//! promises what the server checks.

use std::collections::BTreeMap;

use gatepass_core::{Audience, Scope, ScopeSet, parse_utc};
use time::OffsetDateTime;

use crate::problem::{AdminError, invalid};

/// Token lifetimes a client may set (docs/design.md §3: 60 s to 24 h), defined once for every crate.
pub use gatepass_core::TOKEN_TTL_SECONDS;
/// The longest grace period a rotation may give older secrets (90 days).
pub const MAX_GRACE_SECONDS: i64 = 90 * 86_400;
/// The longest client name and secret label, in characters.
pub const NAME_MAX_CHARS: usize = 128;
/// The longest role or service-account name (and label key), in bytes.
pub const SLUG_MAX: usize = 63;
/// The longest description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 512;
/// The most labels a client may carry.
pub const LABELS_MAX: usize = 32;
/// The longest label value, in characters.
pub const LABEL_VALUE_MAX_CHARS: usize = 256;
/// `status` of a client or service account.
pub const STATUSES: [&str; 2] = ["active", "disabled"];
/// `status` filter of the client list.
pub const CLIENT_LIST_STATUSES: [&str; 3] = ["active", "disabled", "expired"];
/// `status` filter of the approvals list.
pub const APPROVAL_STATUSES: [&str; 3] = ["pending", "approved", "rejected"];

/// Page sizes of a list: the default and the largest.
#[derive(Clone, Copy)]
pub struct PageSize {
    /// Without `limit`.
    pub default: i64,
    /// The largest `limit`.
    pub max: i64,
}

/// The client list's page size.
pub const CLIENT_PAGE: PageSize = PageSize { default: 50, max: 500 };
/// The audit log's page size.
pub const AUDIT_PAGE: PageSize = PageSize {
    default: 100,
    max: 1000,
};

/// A JSON number that is whole, as `i64`: `600` or `600.0` (JSON Schema's `integer` is both).
struct Whole(i64);

impl<'de> serde::Deserialize<'de> for Whole {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Whole;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Whole, E> {
                Ok(Whole(value))
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Whole, E> {
                i64::try_from(value)
                    .map(Whole)
                    .map_err(|_| E::custom("a number too large"))
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)] // whole and in range: exact
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Whole, E> {
                if value.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(&value) {
                    Ok(Whole(value as i64))
                } else {
                    Err(E::custom(format!("{value} is not a whole number")))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `#[serde(deserialize_with)]` of an optional whole number.
pub(crate) fn whole<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    <Option<Whole> as serde::Deserialize>::deserialize(deserializer).map(|w| w.map(|w| w.0))
}

/// `#[serde(deserialize_with)]` of a whole number that may be absent (unchanged) or `null` (cleared).
#[allow(clippy::option_option)] // absent = unchanged, null = cleared
pub(crate) fn present_whole<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    whole(deserializer).map(Some)
}

/// A byte of a slug: `a-z0-9._-`.
fn slug_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
}

fn is_slug(value: &str) -> bool {
    (1..=SLUG_MAX).contains(&value.len()) && value.bytes().all(slug_byte)
}

/// A client name: 1–128 printable characters, not only spaces; stored trimmed.
pub fn client_name(value: &str) -> Result<String, AdminError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > NAME_MAX_CHARS || value.chars().any(char::is_control) {
        return Err(invalid("name", "must be 1-128 printable characters, not only spaces"));
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
    if is_slug(value) {
        Ok(value.to_owned())
    } else {
        Err(invalid("name", "must be 1-63 characters of a-z, 0-9, '.', '_', '-'"))
    }
}

/// A description: at most 512 characters, trimmed.
pub fn description(value: &str) -> Result<String, AdminError> {
    if value.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(invalid("description", "at most 512 characters"));
    }
    Ok(value.trim().to_owned())
}

/// A secret's label: 1–128 characters, trimmed.
pub fn secret_label(value: &str) -> Result<String, AdminError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > NAME_MAX_CHARS {
        return Err(invalid("label", "must be 1-128 characters, not only spaces"));
    }
    Ok(trimmed.to_owned())
}

/// `status` of a client or service account: whether it is disabled.
pub fn disabled(value: &str) -> Result<bool, AdminError> {
    Ok(one_of("status", value, &STATUSES)? == "disabled")
}

/// `value`, one of `allowed`.
pub fn one_of(field: &'static str, value: &str, allowed: &[&'static str]) -> Result<&'static str, AdminError> {
    allowed
        .iter()
        .find(|a| **a == value)
        .copied()
        .ok_or_else(|| invalid(field, format!("must be one of {}", allowed.join(", "))))
}

/// A list's `limit`: 1 to the page's largest, its default when absent.
pub fn limit(value: Option<i64>, page: PageSize) -> Result<i64, AdminError> {
    let limit = value.unwrap_or(page.default);
    if (1..=page.max).contains(&limit) {
        Ok(limit)
    } else {
        Err(invalid("limit", format!("must be between 1 and {}", page.max)))
    }
}

/// A moment, as `yyyy-MM-ddTHH:mm:ssZ`; seconds since the epoch.
pub fn moment(field: &'static str, value: &str) -> Result<i64, AdminError> {
    parse_utc(value)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| invalid(field, e.to_string()))
}

/// A moment after `now`, as `yyyy-MM-ddTHH:mm:ssZ`; seconds since the epoch.
pub fn future(field: &'static str, value: &str, now: i64) -> Result<i64, AdminError> {
    let at = moment(field, value)?;
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
        Err(invalid(
            "token_ttl_seconds",
            format!(
                "must be between {} and {}",
                TOKEN_TTL_SECONDS.start(),
                TOKEN_TTL_SECONDS.end()
            ),
        ))
    }
}

/// A rotation's grace period: 0 to 90 days.
pub fn grace_period(value: i64) -> Result<i64, AdminError> {
    if (0..=MAX_GRACE_SECONDS).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(
            "grace_period_seconds",
            format!("must be between 0 and {MAX_GRACE_SECONDS}"),
        ))
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
    if values.len() > LABELS_MAX {
        return Err(invalid("labels", "at most 32 labels"));
    }
    for (key, value) in values {
        if !is_slug(key) {
            return Err(invalid(
                "labels",
                format!("label key {key:?} must be 1-63 characters of a-z, 0-9, '.', '_', '-'"),
            ));
        }
        if value.chars().count() > LABEL_VALUE_MAX_CHARS || value.chars().any(char::is_control) {
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

/// Each rule above as a JSON Schema, put into the OpenAPI document by [`FieldRules`](schema::FieldRules)
/// on the request bodies and query parameters that go through it. Patterns use the characters
/// `char::is_control` refuses (`Cc`: U+0000–U+001F, U+007F–U+009F).
pub mod schema {
    use utoipa::openapi::path::Operation;
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type,
    };
    use utoipa::openapi::{Array, OpenApi, RefOr};

    use super::{
        APPROVAL_STATUSES, AUDIT_PAGE, CLIENT_LIST_STATUSES, CLIENT_PAGE, DESCRIPTION_MAX_CHARS, LABEL_VALUE_MAX_CHARS,
        LABELS_MAX, MAX_GRACE_SECONDS, NAME_MAX_CHARS, SLUG_MAX, STATUSES, TOKEN_TTL_SECONDS,
    };
    use gatepass_core::{Audience, Scope};

    /// Control characters (`char::is_control`), as a regex class body.
    const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
    /// The slug bytes, as a regex class body.
    const SLUG_CLASS: &str = "a-z0-9._-";
    /// `yyyy-MM-ddTHH:mm:ssZ` with months 01–12, days 01–31, hours 00–23.
    pub(crate) const MOMENT_PATTERN: &str =
        "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$";

    fn kind(nullable: bool, of: Type) -> SchemaType {
        if nullable {
            SchemaType::from_iter([of, Type::Null])
        } else {
            SchemaType::new(of)
        }
    }

    fn string(nullable: bool, min: usize, max: Option<usize>, pattern: Option<String>) -> Object {
        ObjectBuilder::new()
            .schema_type(kind(nullable, Type::String))
            .min_length((min > 0).then_some(min))
            .max_length(max)
            .pattern(pattern)
            .build()
    }

    fn integer(nullable: bool, min: i64, max: i64) -> Object {
        ObjectBuilder::new()
            .schema_type(kind(nullable, Type::Integer))
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(min))
            .maximum(Some(max))
            .build()
    }

    fn choice(nullable: bool, values: &[&str]) -> Object {
        let mut values: Vec<Option<&str>> = values.iter().copied().map(Some).collect();
        if nullable {
            values.push(None);
        }
        ObjectBuilder::new()
            .schema_type(kind(nullable, Type::String))
            .enum_values(Some(values))
            .build()
    }

    pub(crate) fn slug_pattern() -> String {
        format!("^[{SLUG_CLASS}]{{1,{SLUG_MAX}}}$")
    }

    /// Printable, not only spaces.
    pub(crate) fn name_pattern() -> String {
        format!("^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$")
    }

    /// Not only spaces.
    pub(crate) fn label_pattern() -> String {
        r"\S".to_owned()
    }

    /// `Scope::parse`: printable ASCII except space, `"` and `\`.
    pub(crate) fn scope_pattern() -> String {
        format!("^[!#-\\[\\]-~]{{1,{}}}$", Scope::MAX_LEN)
    }

    /// `Audience::parse`: visible ASCII.
    pub(crate) fn audience_pattern() -> String {
        format!("^[!-~]{{1,{}}}$", Audience::MAX_LEN)
    }

    /// A label filter, `key:value`.
    pub(crate) const LABEL_FILTER_PATTERN: &str = ":";

    fn list(nullable: bool, item: Object) -> Array {
        ArrayBuilder::new()
            .schema_type(kind(nullable, Type::Array))
            .items(RefOr::T(Schema::Object(item)))
            .build()
    }

    fn label_map(nullable: bool) -> Object {
        ObjectBuilder::new()
            .schema_type(kind(nullable, Type::Object))
            .max_properties(Some(LABELS_MAX))
            .property_names(Some(string(false, 1, Some(SLUG_MAX), Some(slug_pattern()))))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Object(string(
                false,
                0,
                Some(LABEL_VALUE_MAX_CHARS),
                Some(format!("^[^{CONTROL}]*$")),
            ))))))
            .build()
    }

    /// A rule's schema; `true`: the property may also be `null` (as the derived schema says).
    type Rule = fn(bool) -> Schema;

    /// `(component, property, rule)`: request-body properties and the rule each goes through.
    const BODIES: &[(&str, &str, Rule)] = &[
        ("CreateClient", "name", client_name),
        ("CreateClient", "scopes", scopes),
        ("CreateClient", "audiences", audiences),
        ("CreateClient", "labels", labels),
        ("CreateClient", "token_ttl_seconds", token_ttl),
        ("CreateClient", "expires_at", moment),
        ("ChangeClient", "name", client_name),
        ("ChangeClient", "scopes", scopes),
        ("ChangeClient", "audiences", audiences),
        ("ChangeClient", "labels", labels),
        ("ChangeClient", "token_ttl_seconds", token_ttl),
        ("ChangeClient", "expires_at", moment),
        ("ChangeClient", "status", status),
        ("CreateSecret", "label", secret_label),
        ("CreateSecret", "expires_at", moment),
        ("CreateSecret", "grace_period_seconds", grace_period),
        ("CreateRole", "name", slug),
        ("CreateRole", "description", description),
        ("CreateRole", "scopes", scopes),
        ("ChangeRole", "description", description),
        ("ChangeRole", "scopes", scopes),
        ("CreateServiceAccount", "name", slug),
        ("CreateServiceAccount", "description", description),
        ("CreateServiceAccount", "roles", role_names),
        ("ChangeServiceAccount", "name", slug),
        ("ChangeServiceAccount", "description", description),
        ("ChangeServiceAccount", "roles", role_names),
        ("ChangeServiceAccount", "status", status),
    ];

    /// A query parameter's schema.
    type QueryRule = fn() -> Schema;

    /// `(path, query parameter, rule)`.
    const QUERIES: &[(&str, &str, QueryRule)] = &[
        ("/admin/v1/clients", "label", label_filter),
        ("/admin/v1/clients", "status", client_list_status),
        ("/admin/v1/clients", "limit", client_limit),
        ("/admin/v1/approvals", "status", approval_status),
        ("/admin/v1/audit-events", "since", query_moment),
        ("/admin/v1/audit-events", "until", query_moment),
        ("/admin/v1/audit-events", "limit", audit_limit),
    ];

    fn client_name(nullable: bool) -> Schema {
        string(nullable, 1, Some(NAME_MAX_CHARS), Some(name_pattern())).into()
    }
    fn slug(nullable: bool) -> Schema {
        string(nullable, 1, Some(SLUG_MAX), Some(slug_pattern())).into()
    }
    fn description(nullable: bool) -> Schema {
        string(nullable, 0, Some(DESCRIPTION_MAX_CHARS), None).into()
    }
    fn secret_label(nullable: bool) -> Schema {
        string(nullable, 1, Some(NAME_MAX_CHARS), Some(label_pattern())).into()
    }
    fn status(nullable: bool) -> Schema {
        choice(nullable, &STATUSES).into()
    }
    fn moment(nullable: bool) -> Schema {
        string(nullable, 20, Some(20), Some(MOMENT_PATTERN.to_owned())).into()
    }
    fn token_ttl(nullable: bool) -> Schema {
        integer(nullable, *TOKEN_TTL_SECONDS.start(), *TOKEN_TTL_SECONDS.end()).into()
    }
    fn grace_period(nullable: bool) -> Schema {
        integer(nullable, 0, MAX_GRACE_SECONDS).into()
    }
    fn scopes(nullable: bool) -> Schema {
        list(nullable, string(false, 1, Some(Scope::MAX_LEN), Some(scope_pattern()))).into()
    }
    fn audiences(nullable: bool) -> Schema {
        list(
            nullable,
            string(false, 1, Some(Audience::MAX_LEN), Some(audience_pattern())),
        )
        .into()
    }
    fn role_names(nullable: bool) -> Schema {
        list(nullable, string(false, 1, Some(SLUG_MAX), Some(slug_pattern()))).into()
    }
    fn labels(nullable: bool) -> Schema {
        label_map(nullable).into()
    }
    fn label_filter() -> Schema {
        string(false, 0, None, Some(LABEL_FILTER_PATTERN.to_owned())).into()
    }
    fn client_list_status() -> Schema {
        choice(false, &CLIENT_LIST_STATUSES).into()
    }
    fn approval_status() -> Schema {
        choice(false, &APPROVAL_STATUSES).into()
    }
    fn query_moment() -> Schema {
        string(false, 20, Some(20), Some(MOMENT_PATTERN.to_owned())).into()
    }
    fn client_limit() -> Schema {
        integer(false, 1, CLIENT_PAGE.max).into()
    }
    fn audit_limit() -> Schema {
        integer(false, 1, AUDIT_PAGE.max).into()
    }

    fn description_of(schema: &Schema) -> Option<String> {
        match schema {
            Schema::Object(object) => object.description.clone(),
            Schema::Array(array) => array.description.clone(),
            _ => None,
        }
    }

    fn describe(mut schema: Schema, description: Option<String>) -> Schema {
        match &mut schema {
            Schema::Object(object) => object.description = description,
            Schema::Array(array) => array.description = description,
            _ => {}
        }
        schema
    }

    fn nullable(schema: &Schema) -> bool {
        let kind = match schema {
            Schema::Object(object) => &object.schema_type,
            Schema::Array(array) => &array.schema_type,
            _ => return false,
        };
        matches!(kind, SchemaType::Array(types) if types.contains(&Type::Null))
    }

    /// Puts each field rule into the document, keeping the descriptions the code's comments
    /// gave; answers the `(component or path, field)` pairs it did not find (a test keeps
    /// that empty, so a renamed field cannot leave its rule behind).
    pub fn apply(openapi: &mut OpenApi) -> Vec<(&'static str, &'static str)> {
        let mut missing = Vec::new();
        let mut schemas = openapi.components.as_mut().map(|c| &mut c.schemas);
        for (component, property, rule) in BODIES {
            let found = schemas
                .as_mut()
                .and_then(|s| s.get_mut(*component))
                .and_then(|s| match s {
                    RefOr::T(Schema::Object(object)) => object.properties.get_mut(*property),
                    _ => None,
                });
            match found {
                Some(RefOr::T(existing)) => {
                    let described = describe(rule(nullable(existing)), description_of(existing));
                    *existing = described;
                }
                _ => missing.push((*component, *property)),
            }
        }
        for (path, name, rule) in QUERIES {
            let parameter = openapi
                .paths
                .paths
                .get_mut(*path)
                .and_then(|item| item.get.as_mut())
                .and_then(|operation: &mut Operation| operation.parameters.as_mut())
                .and_then(|parameters| {
                    parameters.iter_mut().find_map(|p| match p {
                        RefOr::T(parameter) if parameter.name == *name => Some(parameter),
                        _ => None,
                    })
                });
            match parameter {
                Some(parameter) => parameter.schema = Some(RefOr::T(rule())),
                None => missing.push((*path, *name)),
            }
        }
        missing
    }

    /// The `utoipa` modifier of the admin document: [`apply`].
    pub struct FieldRules;

    impl utoipa::Modify for FieldRules {
        fn modify(&self, openapi: &mut OpenApi) {
            let missing = apply(openapi);
            if !missing.is_empty() {
                log::error!("field rules without a field in the OpenAPI document: {missing:?}");
            }
        }
    }
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

    /// Whether the document's pattern (and length bounds) accepts `value`.
    fn documented(pattern: &str, min: usize, max: usize, value: &str) -> bool {
        let count = value.chars().count();
        regex::Regex::new(pattern).unwrap().is_match(value) && (min..=max).contains(&count)
    }

    fn samples() -> Vec<String> {
        let mut all: Vec<String> = (0_u8..=0x7f).map(|b| char::from(b).to_string()).collect();
        all.extend(
            [
                "",
                " ",
                "  billing sync ",
                "\u{a0}",
                "\u{3000}",
                "\u{85}",
                "a\u{9f}b",
                "é",
                "a b",
                "ci.deploy_bot-2",
                "Admin",
                "team:payments",
                "https://api.example.com",
                "sites:read",
                "a\"b",
                "a\\b",
                "x\ny",
            ]
            .map(str::to_owned),
        );
        for n in [62, 63, 64, 127, 128, 129, 254, 255, 256, 512, 513] {
            all.push("a".repeat(n));
            all.push(format!(" {}", "é".repeat(n - 1)));
        }
        all
    }

    #[test]
    fn the_documented_patterns_accept_exactly_what_the_rules_accept() {
        for value in samples() {
            let v = value.as_str();
            assert_eq!(
                documented(&schema::name_pattern(), 1, NAME_MAX_CHARS, v),
                client_name(v).is_ok(),
                "name {v:?}"
            );
            assert_eq!(
                documented(&schema::slug_pattern(), 1, SLUG_MAX, v),
                slug(v).is_ok(),
                "slug {v:?}"
            );
            assert_eq!(
                documented(&schema::label_pattern(), 1, NAME_MAX_CHARS, v),
                secret_label(v).is_ok(),
                "label {v:?}"
            );
            assert_eq!(
                documented(".*", 0, DESCRIPTION_MAX_CHARS, v),
                description(v).is_ok(),
                "description {v:?}"
            );
            assert_eq!(
                documented(&schema::scope_pattern(), 1, Scope::MAX_LEN, v),
                Scope::parse(v).is_ok(),
                "scope {v:?}"
            );
            assert_eq!(
                documented(&schema::audience_pattern(), 1, Audience::MAX_LEN, v),
                Audience::parse(v).is_ok(),
                "audience {v:?}"
            );
            assert_eq!(
                documented(schema::LABEL_FILTER_PATTERN, 0, usize::MAX, v),
                label_filter(v).is_ok(),
                "label filter {v:?}"
            );
        }
        // Times: the pattern cannot tell 30 February or the past; whatever the rule takes, it takes.
        for v in ["2026-01-01T00:00:00Z", "2099-12-31T23:59:59Z", "2028-02-29T12:00:00Z"] {
            assert!(
                moment("t", v).is_ok() && documented(schema::MOMENT_PATTERN, 20, 20, v),
                "{v}"
            );
        }
        for v in [
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00+00:00",
        ] {
            assert!(
                moment("t", v).is_err() && !documented(schema::MOMENT_PATTERN, 20, 20, v),
                "{v}"
            );
        }
    }

    #[test]
    fn every_field_rule_finds_its_field_in_the_document() {
        let mut document = <crate::ApiDoc as utoipa::OpenApi>::openapi();
        assert_eq!(schema::apply(&mut document), Vec::<(&str, &str)>::new());
    }
}
