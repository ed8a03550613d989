//! Fixed-width base32 (Crockford, lowercase) and base62 encodings of big-endian integers.

/// Crockford's base32 alphabet in lowercase: no `i`, `l`, `o`, `u`.
pub(crate) const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Base62: digits, upper case, lower case (sorts the same as the numbers it encodes).
pub(crate) const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes a 128-bit number as exactly 26 Crockford base32 characters.
pub(crate) fn crockford_u128(mut value: u128) -> String {
    let mut out = [b'0'; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// Encodes a big-endian unsigned number as exactly `width` base62 digits.
///
/// The caller picks a width large enough for the number (`62^width > 2^(8*len)`).
pub(crate) fn base62_fixed(bytes: &[u8], width: usize) -> String {
    let mut number = bytes.to_vec();
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        // Long division of `number` by 62; the remainder is the next digit.
        let mut remainder: u32 = 0;
        for byte in &mut number {
            let acc = (remainder << 8) | u32::from(*byte);
            *byte = u8::try_from(acc / 62).unwrap_or(u8::MAX);
            remainder = acc % 62;
        }
        *slot = BASE62[remainder as usize];
    }
    debug_assert!(number.iter().all(|&b| b == 0), "width too small for the number");
    digits.into_iter().map(char::from).collect()
}

pub(crate) fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crockford_is_fixed_width_and_order_preserving() {
        assert_eq!(crockford_u128(0), "0".repeat(26));
        assert_eq!(crockford_u128(u128::MAX), format!("7{}", "z".repeat(25)));
        assert!(crockford_u128(41) < crockford_u128(42));
    }

    #[test]
    fn base62_encodes_known_values() {
        assert_eq!(base62_fixed(&[0, 61], 3), "00z");
        assert_eq!(base62_fixed(&[0, 62], 3), "010");
        assert_eq!(base62_fixed(&[0xff; 4], 6), "4gfFC3");
        // 2^256 - 1 fits in 43 base62 digits.
        assert_eq!(base62_fixed(&[0xff; 32], 43).len(), 43);
    }
}
