use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::ParseError;

const FORMAT: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Formats a time as `yyyy-MM-ddTHH:mm:ssZ` in UTC, the one date format of Gatepass.
pub fn format_utc(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Parses `yyyy-MM-ddTHH:mm:ssZ`.
pub fn parse_utc(text: &str) -> Result<OffsetDateTime, ParseError> {
    PrimitiveDateTime::parse(text, FORMAT)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| ParseError::Timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_and_parses_utc_seconds() {
        let at = datetime!(2026-11-24 03:04:05.678 +02:00);
        assert_eq!(format_utc(at), "2026-11-24T01:04:05Z");
        assert_eq!(
            parse_utc("2026-11-24T01:04:05Z").unwrap(),
            datetime!(2026-11-24 01:04:05 UTC)
        );
        assert!(parse_utc("2026-11-24 01:04:05").is_err());
        assert!(parse_utc("2026-13-24T01:04:05Z").is_err());
    }
}
