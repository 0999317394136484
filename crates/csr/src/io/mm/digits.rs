//! Runs of ASCII digits read eight bytes at a time (SWAR), for the indices of data lines.

/// The run of up to 8 ASCII digits at `s[i..]`: its value and length, found without a
/// branch per digit; `None` if fewer than 8 bytes remain (the caller goes digit by digit).
#[inline]
pub(crate) fn digit_run(s: &[u8], i: usize) -> Option<(u64, usize)> {
    let bytes: [u8; 8] = s.get(i..i + 8)?.try_into().ok()?;
    let v = u64::from_le_bytes(bytes);
    // A byte's top bit is set by adding 0x46 (bytes above '9') or subtracting 0x30 (bytes
    // below '0'). Digit bytes neither carry nor borrow, so the lowest flagged byte is the
    // first non-digit (a non-digit may disturb the bytes above it, which are not used).
    let flags = (v.wrapping_add(0x4646_4646_4646_4646) | v.wrapping_sub(0x3030_3030_3030_3030))
        & 0x8080_8080_8080_8080;
    let len = (flags.trailing_zeros() / 8) as usize;
    if len == 0 {
        return Some((0, 0));
    }
    // The digits' values, moved up so that the bytes below them read as leading zeros (the
    // first digit is in the lowest byte: the most significant one).
    let d = v.wrapping_sub(0x3030_3030_3030_3030) << (64 - 8 * len);
    // Combine pairs, then quads, then the two halves.
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    let lo = (d & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((d >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    Some((lo.wrapping_add(hi) >> 32, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_stop_at_the_first_non_digit() {
        assert_eq!(digit_run(b"12345678", 0), Some((12_345_678, 8)));
        assert_eq!(digit_run(b"00000009", 0), Some((9, 8)));
        assert_eq!(digit_run(b"1234567/", 0), Some((1_234_567, 7)));
        assert_eq!(digit_run(b"1234:678", 0), Some((1234, 4)));
        assert_eq!(digit_run(b"7 -0.5e3", 0), Some((7, 1)));
        assert_eq!(digit_run(b"\xff2345678", 0), Some((0, 0)));
        assert_eq!(digit_run(b"12\xff45678", 0), Some((12, 2)));
        assert_eq!(digit_run(b"x12345678", 1), Some((12_345_678, 8)));
        assert_eq!(digit_run(b"1234567", 0), None);
    }

    proptest::proptest! {
        #[test]
        fn digit_runs_match_a_digit_by_digit_scan(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![b'0'..=b'9', proptest::num::u8::ANY], 8..12)
        ) {
            let len = bytes[..8].iter().take_while(|b| b.is_ascii_digit()).count();
            let value = bytes[..len].iter().fold(0_u64, |n, &d| n * 10 + u64::from(d - b'0'));
            proptest::prop_assert_eq!(digit_run(&bytes, 0), Some((value, len)));
        }
    }
}
