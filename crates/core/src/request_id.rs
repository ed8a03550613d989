use std::fmt;

/// The id of one HTTP request: in every log line about it, every error response and
/// every audit event it causes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Accepts a caller's id if it is short and plain (1–64 of `A-Za-z0-9-_.`), so it
    /// can not forge log lines.
    pub fn from_header(value: &str) -> Option<Self> {
        let plain = (1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        plain.then(|| Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_ids_must_be_plain() {
        assert!(RequestId::from_header("abc-123_x.y").is_some());
        for bad in ["", "a b", "a\nb", "é", &"a".repeat(65)] {
            assert!(RequestId::from_header(bad).is_none(), "{bad:?}");
        }
        assert_eq!(RequestId::generate().as_str().len(), 32);
    }
}
