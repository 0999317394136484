//! Non-temporal ("streaming") stores for outputs far larger than the cache whose old values
//! are not read (SpMV with `beta = 0`): an ordinary store first reads the cache line it
//! writes (write-allocate), so on a memory-bound product `y` costs twice its size in traffic;
//! a streaming store writes it once and keeps it out of the cache.

/// Outputs at least this large are streamed: about half this machine's last-level cache
/// (35.8 MiB, shared); anything smaller may still be in cache when the caller reads it.
const STREAM_MIN_BYTES: usize = 16 << 20;

/// Whether `len` values of `T` are large enough to be worth streaming.
pub(super) fn worth_streaming<T>(len: usize) -> bool {
    len.saturating_mul(size_of::<T>()) >= STREAM_MIN_BYTES
}

/// Writes `v` to `*dst` with streaming stores where the value's size and alignment allow
/// (4, 8 or 16 bytes on x86-64), else with an ordinary store. Follow a series of these with
/// [`fence`] before another thread reads what they wrote.
///
/// # Safety
/// `dst` is valid for writes of a `T` and aligned for `T`.
#[inline(always)]
pub(super) unsafe fn store<T: Copy>(dst: *mut T, v: T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_stream_si32, _mm_stream_si64};
        let src = (&raw const v).cast::<u8>();
        let at = dst.cast::<u8>();
        let aligned8 = (at as usize).is_multiple_of(8);
        // SAFETY: `dst` is valid for size_of::<T>() bytes (caller); `src` points to `v`,
        // size_of::<T>() bytes; the unaligned reads copy its bytes as integers (T is Copy,
        // so a bitwise copy is a copy); the integer stores need 4- or 8-byte alignment,
        // checked here.
        unsafe {
            match size_of::<T>() {
                4 if (at as usize).is_multiple_of(4) => {
                    _mm_stream_si32(at.cast(), src.cast::<i32>().read_unaligned());
                    return;
                }
                8 if aligned8 => {
                    _mm_stream_si64(at.cast(), src.cast::<i64>().read_unaligned());
                    return;
                }
                16 if aligned8 => {
                    _mm_stream_si64(at.cast(), src.cast::<i64>().read_unaligned());
                    _mm_stream_si64(at.add(8).cast(), src.add(8).cast::<i64>().read_unaligned());
                    return;
                }
                _ => {}
            }
        }
    }
    // SAFETY: the caller's contract.
    unsafe { dst.write(v) }
}

/// Makes the streaming stores issued so far visible before any later store (so a thread
/// that learns this one finished sees them).
#[inline]
pub(super) fn fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `sfence` has no preconditions (SSE, part of x86-64).
    unsafe {
        core::arch::x86_64::_mm_sfence();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Complex;

    fn round_trip<T: Copy + PartialEq + std::fmt::Debug>(values: &[T]) {
        let mut out = values.to_vec();
        out.reverse();
        for (k, &v) in values.iter().enumerate() {
            // SAFETY: k < out.len(), a Vec's element is aligned.
            unsafe { store(out.as_mut_ptr().add(k), v) };
        }
        fence();
        assert_eq!(out, values);
    }

    #[test]
    fn every_scalar_size_is_stored_exactly() {
        round_trip(&[1.5f64, -0.0, f64::NEG_INFINITY, f64::MAX]);
        round_trip(&[1.5f32, -2.25, f32::MIN_POSITIVE]);
        round_trip(&[Complex::new(1.0f64, -2.0), Complex::new(3.5, 4.25)]);
        round_trip(&[Complex::new(1.0f32, -2.0), Complex::new(3.5, 4.25)]);
        round_trip(&[7u8, 9, 11]);
    }

    #[test]
    fn only_large_outputs_stream() {
        assert!(!worth_streaming::<f64>(1000));
        assert!(worth_streaming::<f64>(4 << 20));
        assert!(!worth_streaming::<f32>(2 << 20));
        assert!(worth_streaming::<u8>(usize::MAX));
    }
}
