//! Non-temporal ("streaming") stores for outputs far larger than the cache whose old values
//! are not read (SpMV with `beta = 0`): an ordinary store first reads the cache line it
//! writes (write-allocate), so on a memory-bound product `y` costs twice its size in traffic;
//! a streaming store writes it once and keeps it out of the cache.
//!
//! Streaming stores are weakly ordered: another thread that learns this one finished (a rayon
//! join, a mutex) may still not see them unless the *storing* thread ran `sfence` after them.
//! [`Streaming`] makes that structural: stores go through it, it cannot leave the thread that
//! made it (neither `Send` nor `Sync`, so neither can a reference to it), and dropping it
//! fences on that thread, on every exit path.

use std::marker::PhantomData;

/// Outputs at least this large are streamed: about half this machine's last-level cache
/// (35.8 MiB, shared); anything smaller may still be in cache when the caller reads it.
const STREAM_MIN_BYTES: usize = 16 << 20;

/// Whether `len` values of `T` are large enough to be worth streaming.
pub(super) fn worth_streaming<T>(len: usize) -> bool {
    len.saturating_mul(size_of::<T>()) >= STREAM_MIN_BYTES
}

/// A run of streaming stores on the current thread, fenced when dropped.
///
/// Make one per unit of parallel work (inside the rayon closure that stores), store through
/// it, and let it drop at the end of that closure.
pub(super) struct Streaming {
    /// Neither `Send` nor `Sync`: the stores and the fence stay on one thread.
    _this_thread: PhantomData<*const ()>,
}

impl Streaming {
    /// Starts a run of streaming stores on this thread.
    pub(super) fn begin() -> Self {
        Self {
            _this_thread: PhantomData,
        }
    }

    /// Writes `v` to `*dst` with streaming stores where the value's size and alignment allow
    /// (4, 8 or 16 bytes on x86-64), else with an ordinary store. `T: NoUninit` means every
    /// byte of `v` is initialised (no padding), so it may be copied as integers.
    ///
    /// # Safety
    /// `dst` is valid for writes of a `T` and aligned for `T`.
    #[inline(always)]
    pub(super) unsafe fn store<T: bytemuck::NoUninit>(&self, dst: *mut T, v: T) {
        #[cfg(test)]
        tests::UNFENCED.set(tests::UNFENCED.get() + 1);
        #[cfg(target_arch = "x86_64")]
        {
            use core::arch::x86_64::{_mm_stream_si32, _mm_stream_si64};
            let bytes = bytemuck::bytes_of(&v);
            let at = dst.cast::<u8>();
            let aligned8 = (at as usize).is_multiple_of(8);
            let (i32_at, i64_at) = (
                |from: usize| bytemuck::pod_read_unaligned::<i32>(&bytes[from..from + 4]),
                |from: usize| bytemuck::pod_read_unaligned::<i64>(&bytes[from..from + 8]),
            );
            // SAFETY: `dst` is valid for size_of::<T>() bytes and aligned for `T` (caller);
            // the integer stores cover exactly those bytes and need 4- or 8-byte alignment,
            // checked here.
            unsafe {
                match bytes.len() {
                    4 if (at as usize).is_multiple_of(4) => {
                        _mm_stream_si32(at.cast(), i32_at(0));
                        return;
                    }
                    8 if aligned8 => {
                        _mm_stream_si64(at.cast(), i64_at(0));
                        return;
                    }
                    16 if aligned8 => {
                        _mm_stream_si64(at.cast(), i64_at(0));
                        _mm_stream_si64(at.add(8).cast(), i64_at(8));
                        return;
                    }
                    _ => {}
                }
            }
        }
        // SAFETY: the caller's contract.
        unsafe { dst.write(v) }
    }
}

impl Drop for Streaming {
    /// Makes this thread's streaming stores visible before any later store of it (so a
    /// thread that learns this one finished sees them).
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `sfence` has no preconditions (SSE, part of x86-64).
        unsafe {
            core::arch::x86_64::_mm_sfence();
        }
        #[cfg(test)]
        tests::UNFENCED.set(0);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::Complex;
    use std::cell::Cell;

    thread_local! {
        /// Streaming stores this thread issued since its last fence.
        pub(crate) static UNFENCED: Cell<usize> = const { Cell::new(0) };
    }

    /// Checks that every thread of `pool` fenced the streaming stores it issued.
    pub(crate) fn assert_every_thread_fenced(pool: &rayon::ThreadPool) {
        let left: Vec<usize> = pool.broadcast(|_| UNFENCED.get());
        assert!(
            left.iter().all(|&n| n == 0),
            "unfenced streaming stores per thread: {left:?}"
        );
    }

    fn round_trip<T: bytemuck::NoUninit + PartialEq + std::fmt::Debug>(values: &[T]) {
        let mut out = values.to_vec();
        out.reverse();
        {
            let streaming = Streaming::begin();
            for (k, &v) in values.iter().enumerate() {
                // SAFETY: k < out.len(), a Vec's element is aligned.
                unsafe { streaming.store(out.as_mut_ptr().add(k), v) };
            }
            assert_eq!(UNFENCED.get(), values.len());
        }
        assert_eq!(UNFENCED.get(), 0);
        assert_eq!(out, values);
    }

    #[test]
    fn every_scalar_size_is_stored_exactly() {
        round_trip(&[1.5f64, -0.0, f64::NEG_INFINITY, f64::MAX]);
        round_trip(&[1.5f32, -2.25, f32::MIN_POSITIVE]);
        round_trip(&[Complex::new(1.0f64, -2.0), Complex::new(3.5, 4.25)]);
        round_trip(&[Complex::new(1.0f32, -2.0), Complex::new(3.5, 4.25)]);
        round_trip(&[7u8, 9, 11]);
        round_trip(&[[1u16, 2, 3], [4, 5, 6]]);
    }

    #[test]
    fn only_large_outputs_stream() {
        assert!(!worth_streaming::<f64>(1000));
        assert!(worth_streaming::<f64>(4 << 20));
        assert!(!worth_streaming::<f32>(2 << 20));
        assert!(worth_streaming::<u8>(usize::MAX));
    }
}
