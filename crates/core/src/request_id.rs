use std::cell::Cell;
use std::fmt;

thread_local! {
    /// This thread's request ids: a random start and a count.
    static NEXT: Cell<(u64, u64)> = Cell::new((uuid::Uuid::new_v4().as_u64_pair().0, 0));
}

/// The id of one HTTP request: in every log line about it, every error response and
/// every audit event it causes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// A fresh id: 32 lowercase hex digits, a random start per thread followed by that
    /// thread's count, so ids never repeat within a process and collide across threads or
    /// nodes only if two random 64-bit starts do. An id is a name for correlating log lines,
    /// not a secret: it costs no system call per request, where a random UUID costs one.
    pub fn generate() -> Self {
        NEXT.with(|next| {
            let (start, count) = next.get();
            next.set((start, count.wrapping_add(1)));
            // 32 hex digits by hand: `format!` costs several times as many instructions.
            let value = (u128::from(start) << 64) | u128::from(count);
            let mut id = String::with_capacity(32);
            for byte in value.to_be_bytes() {
                for nibble in [byte >> 4, byte & 0xf] {
                    id.push(char::from(b"0123456789abcdef"[usize::from(nibble)]));
                }
            }
            Self(id)
        })
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
    fn an_id_is_the_threads_start_then_its_count() {
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_eq!(a.as_str()[..16], b.as_str()[..16], "one start per thread");
        let count = |id: &RequestId| u64::from_str_radix(&id.as_str()[16..], 16).unwrap();
        assert_eq!(count(&b), count(&a).wrapping_add(1));
        let (start, _) = NEXT.with(Cell::get);
        assert_eq!(a.as_str()[..16], format!("{start:016x}"));
    }

    #[test]
    fn caller_ids_must_be_plain() {
        assert!(RequestId::from_header("abc-123_x.y").is_some());
        for bad in ["", "a b", "a\nb", "é", &"a".repeat(65)] {
            assert!(RequestId::from_header(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_32_hex_digits_and_never_repeat() {
        let here: Vec<RequestId> = (0..1000).map(|_| RequestId::generate()).collect();
        let there: Vec<RequestId> = std::thread::spawn(|| (0..1000).map(|_| RequestId::generate()).collect())
            .join()
            .unwrap();
        let all: std::collections::HashSet<&str> = here.iter().chain(&there).map(RequestId::as_str).collect();
        assert_eq!(all.len(), 2000, "no id twice, within a thread or across two");
        for id in &all {
            assert_eq!(id.len(), 32);
            assert!(
                id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{id}"
            );
            assert!(RequestId::from_header(id).is_some(), "a generated id is a plain one");
        }
    }
}
