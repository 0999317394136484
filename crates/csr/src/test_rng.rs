//! A seeded pseudo-random stream for unit tests: cases that are varied yet the same on
//! every run.

/// Marsaglia's xorshift64 from `seed` (not zero): each call gives the next 64 bits.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
