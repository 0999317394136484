//! A row times `x` with AVX2 or AVX-512 gathers, for `f64` values and `i32` column indices:
//! the eight partial sums of [`sum_of_products`](crate::scalar::sum_of_products) held in two
//! 4-lane registers (one 8-lane register with AVX-512), each block of eight `x` entries read
//! by two gather instructions (one) instead of eight scalar loads.
//!
//! The arithmetic is [`sum_of_products`](crate::scalar::sum_of_products)'s, operation for
//! operation: lane `l` starts at `+0.0` and adds the products of entries `l, l + 8, …` in
//! turn (a multiply, then an add: never fused), the lanes are combined by
//! [`combine_lanes`]' tree, and the entries past the last block are added one by one. The
//! results are therefore the generic loop's bit for bit, and every strategy that reads rows
//! through [`dot`](super::dot::dot) stays bit-identical to the reference kernel.
//!
//! Chosen at run time (AVX2 and AVX-512 are not in the x86-64 baseline the library is
//! compiled for; AVX-512 where the processor has it); the detection is cached by the
//! standard library. Rows shorter than [`SUM_LANES_MIN`], other value or index types, and
//! other processors take the generic loop.
//!
//! Measured on the 5000 × 50000 rating matrix of `bench/compare.py` (1M entries, x of
//! 400 KB), a scratch SpMV over the same rows, 300 interleaved calls, medians: 2 threads
//! 0.561 → 0.512 ms and 0.649 → 0.559 ms, one thread 0.863 → 0.835 ms
//! (`bench/runs/2026-12-06-gather`).

#[cfg(target_arch = "x86_64")]
use std::any::TypeId;

#[cfg(target_arch = "x86_64")]
use super::dot::prefetch;
#[cfg(target_arch = "x86_64")]
use crate::scalar::{SUM_LANES, SUM_LANES_MIN, combine_lanes};
use crate::{Index, Scalar};

/// Whether the rows `rows` (their pointers `ptrs`) are worth the gathering loop: `f64`
/// values with `i32` indices, on a processor with AVX2, and rows of [`SUM_LANES_MIN`]
/// entries or more on average (the rating matrix's ~200; a stencil's or power-law's 3–5
/// keep their loop, which a call inside slows by 15–20%).
#[inline(always)]
pub(super) fn pays<T: Scalar, I: Index>(ptrs: &[I], rows: std::ops::Range<usize>) -> bool {
    #[cfg(target_arch = "x86_64")]
    return TypeId::of::<T>() == TypeId::of::<f64>()
        && TypeId::of::<I>() == TypeId::of::<i32>()
        && ptrs[rows.end].to_usize() - ptrs[rows.start].to_usize() >= SUM_LANES_MIN * rows.len()
        && std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    return {
        let _ = (ptrs, rows);
        false
    };
}

/// `Σ vals[j] * x[cols[j]]` over `range` with AVX2 gathers, or `None` where they do not
/// apply (not `f64` and `i32`, a row shorter than [`SUM_LANES_MIN`], no AVX2). With `AHEAD`,
/// the `x` entry that the entry `ahead_by` further on reads is prefetched, for entries
/// below `ahead` (the caller's bound: those whose entry ahead exists).
///
/// # Safety
/// As [`dot`](super::dot::dot): `range` lies inside `cols` and `vals`, and every column in
/// it is a valid index of `x`.
#[inline(always)]
pub(super) unsafe fn dot<const AHEAD: bool, T: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    x: &[T],
    range: std::ops::Range<usize>,
    (ahead, ahead_by): (usize, usize),
) -> Option<T> {
    #[cfg(target_arch = "x86_64")]
    if range.len() >= SUM_LANES_MIN
        && TypeId::of::<T>() == TypeId::of::<f64>()
        && TypeId::of::<I>() == TypeId::of::<i32>()
        && std::arch::is_x86_feature_detected!("avx2")
    {
        // The types were just checked: these casts between identical types cannot fail.
        let cols: &[i32] = bytemuck::cast_slice(cols);
        let (vals, x): (&[f64], &[f64]) = (bytemuck::cast_slice(vals), bytemuck::cast_slice(x));
        let sum = if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512 F is present (checked just above); the caller's contract
            // covers the ranges.
            unsafe { dot_avx512::<AHEAD>(cols, vals, x, range, (ahead, ahead_by)) }
        } else {
            // SAFETY: AVX2 is present (checked above); the caller's contract covers the
            // ranges.
            unsafe { dot_avx2::<AHEAD>(cols, vals, x, range, (ahead, ahead_by)) }
        };
        return Some(bytemuck::cast(sum));
    }
    let _ = (cols, vals, x, range, ahead, ahead_by);
    None
}

/// [`dot`] for `f64` and `i32` on AVX2.
///
/// # Safety
/// AVX2 is present; `range` lies inside `cols` and `vals`; every `cols[j]` in it is a valid
/// index of `x`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2<const AHEAD: bool>(
    cols: &[i32],
    vals: &[f64],
    x: &[f64],
    range: std::ops::Range<usize>,
    (ahead, ahead_by): (usize, usize),
) -> f64 {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm256_add_pd, _mm256_i32gather_pd, _mm256_loadu_pd,
        _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };
    let blocks = range.len() / SUM_LANES;
    let tail = range.start + blocks * SUM_LANES;
    let mut low = _mm256_setzero_pd();
    let mut high = _mm256_setzero_pd();
    for b in 0..blocks {
        let j = range.start + b * SUM_LANES;
        // SAFETY: j + 8 <= tail <= range.end, inside cols and vals (caller); each gathered
        // index is a column of the row, a valid index of x (caller), scaled by 8 bytes.
        unsafe {
            if AHEAD {
                prefetch_block(cols, x, j, (ahead, ahead_by));
            }
            let c = cols.as_ptr().add(j).cast::<__m128i>();
            let x_low = _mm256_i32gather_pd::<8>(x.as_ptr(), _mm_loadu_si128(c));
            let x_high = _mm256_i32gather_pd::<8>(x.as_ptr(), _mm_loadu_si128(c.add(1)));
            let v = vals.as_ptr().add(j);
            low = _mm256_add_pd(low, _mm256_mul_pd(_mm256_loadu_pd(v), x_low));
            high = _mm256_add_pd(high, _mm256_mul_pd(_mm256_loadu_pd(v.add(4)), x_high));
        }
    }
    let mut lanes = [0.0f64; SUM_LANES];
    // SAFETY: lanes holds eight f64, two stores of four.
    unsafe {
        _mm256_storeu_pd(lanes.as_mut_ptr(), low);
        _mm256_storeu_pd(lanes.as_mut_ptr().add(4), high);
    }
    // SAFETY: the caller's contract.
    unsafe { finish::<AHEAD>(lanes, (cols, vals, x), tail..range.end, (ahead, ahead_by)) }
}

/// [`dot`] for `f64` and `i32` on AVX-512: the eight partial sums in one register, each
/// block of eight `x` entries read by one gather. On the 2-vCPU AMD EPYC VM (Zen 4), the
/// rating matrix of `bench/compare.py`, `load_balance`, 2 threads, medians of 200 calls in
/// eight alternating processes: AVX2 0.365–0.518 ms (median of the eight 0.421), AVX-512
/// 0.361–0.387 (0.376) (`bench/runs/2026-12-07-spmv-blocks`).
///
/// # Safety
/// AVX-512 F is present; `range` lies inside `cols` and `vals`; every `cols[j]` in it is a
/// valid index of `x`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dot_avx512<const AHEAD: bool>(
    cols: &[i32],
    vals: &[f64],
    x: &[f64],
    range: std::ops::Range<usize>,
    (ahead, ahead_by): (usize, usize),
) -> f64 {
    use std::arch::x86_64::{
        __m256i, _mm256_loadu_si256, _mm512_add_pd, _mm512_i32gather_pd, _mm512_loadu_pd,
        _mm512_mul_pd, _mm512_setzero_pd, _mm512_storeu_pd,
    };
    let blocks = range.len() / SUM_LANES;
    let tail = range.start + blocks * SUM_LANES;
    let mut sums = _mm512_setzero_pd();
    for b in 0..blocks {
        let j = range.start + b * SUM_LANES;
        // SAFETY: j + 8 <= tail <= range.end, inside cols and vals (caller); each gathered
        // index is a column of the row, a valid index of x (caller), scaled by 8 bytes.
        unsafe {
            if AHEAD {
                prefetch_block(cols, x, j, (ahead, ahead_by));
            }
            let c = _mm256_loadu_si256(cols.as_ptr().add(j).cast::<__m256i>());
            let xs = _mm512_i32gather_pd::<8>(c, x.as_ptr().cast());
            sums = _mm512_add_pd(
                sums,
                _mm512_mul_pd(_mm512_loadu_pd(vals.as_ptr().add(j)), xs),
            );
        }
    }
    let mut lanes = [0.0f64; SUM_LANES];
    // SAFETY: lanes holds eight f64.
    unsafe { _mm512_storeu_pd(lanes.as_mut_ptr(), sums) };
    // SAFETY: the caller's contract.
    unsafe { finish::<AHEAD>(lanes, (cols, vals, x), tail..range.end, (ahead, ahead_by)) }
}

/// With `AHEAD`, prefetches the `x` entries that the entries `ahead_by` after the block at
/// `j` read, for entries below `ahead`.
///
/// # Safety
/// `j + SUM_LANES <= cols.len()`, and `e + ahead_by < cols.len()` for every `e < ahead`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn prefetch_block(cols: &[i32], x: &[f64], j: usize, (ahead, ahead_by): (usize, usize)) {
    for e in j..j + SUM_LANES {
        if e < ahead {
            // SAFETY: e < ahead, so e + ahead_by is inside cols (caller); prefetching any
            // address is harmless.
            prefetch(
                x.as_ptr()
                    .wrapping_add(unsafe { *cols.get_unchecked(e + ahead_by) } as usize),
            );
        }
    }
}

/// The partial sums `lanes` combined, plus the entries `tail` (past the last block of
/// eight) one by one, prefetching as [`prefetch_block`] with `AHEAD`.
///
/// # Safety
/// `tail` lies inside `cols` and `vals`, its columns index `x`; as [`prefetch_block`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn finish<const AHEAD: bool>(
    lanes: [f64; SUM_LANES],
    (cols, vals, x): (&[i32], &[f64], &[f64]),
    tail: std::ops::Range<usize>,
    (ahead, ahead_by): (usize, usize),
) -> f64 {
    let mut sum = combine_lanes(lanes);
    for j in tail {
        // SAFETY: j < tail.end, inside cols and vals, and cols[j] indexes x (caller).
        unsafe {
            if AHEAD && j < ahead {
                prefetch(
                    x.as_ptr()
                        .wrapping_add(*cols.get_unchecked(j + ahead_by) as usize),
                );
            }
            sum += *vals.get_unchecked(j) * *x.get_unchecked(*cols.get_unchecked(j) as usize);
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::sum_of_products;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn gathered_rows_sum_like_the_generic_loop_bit_for_bit() {
        // Values of mixed signs and magnitudes, so that the order of the additions shows in
        // the last bits; rows of every length around the lane boundaries.
        let n = 1000usize;
        let x: Vec<f64> = (0..n)
            .map(|i| (i as f64 * 0.731).sin() * 10f64.powi((i % 7) as i32 - 3))
            .collect();
        let cols: Vec<i32> = (0..n).map(|i| ((i * 7919) % n) as i32).collect();
        let vals: Vec<f64> = (0..n)
            .map(|i| (i as f64 * 1.37).cos() * 10f64.powi((i % 5) as i32 - 2))
            .collect();
        for start in [0, 1, 5] {
            for len in [0, 1, 15, 16, 17, 23, 24, 25, 31, 32, 33, 100, 993] {
                let range = start..start + len;
                let generic = sum_of_products(len, |i| {
                    let j = start + i;
                    vals[j] * x[cols[j] as usize]
                });
                // SAFETY: the range lies inside cols and vals; every column is below n.
                let (plain, ahead) = unsafe {
                    (
                        dot::<false, _, _>(&cols, &vals, &x, range.clone(), (0, 0)),
                        dot::<true, _, _>(&cols, &vals, &x, range, (n - 24, 24)),
                    )
                };
                if len < SUM_LANES_MIN || !std::arch::is_x86_feature_detected!("avx2") {
                    assert_eq!(plain, None);
                    continue;
                }
                let mut sums = vec![("dispatched", plain), ("dispatched, ahead", ahead)];
                // Each instruction set's loop on its own, whichever `dot` picks here.
                let both = |f: unsafe fn(&[i32], &[f64], &[f64], _, _) -> f64| {
                    // SAFETY: as above; the caller checked the instruction set.
                    unsafe { f(&cols, &vals, &x, start..start + len, (n - 24, 24)) }
                };
                sums.push(("avx2", Some(both(dot_avx2::<false>))));
                sums.push(("avx2, ahead", Some(both(dot_avx2::<true>))));
                if std::arch::is_x86_feature_detected!("avx512f") {
                    sums.push(("avx512", Some(both(dot_avx512::<false>))));
                    sums.push(("avx512, ahead", Some(both(dot_avx512::<true>))));
                }
                for (what, sum) in sums {
                    assert_eq!(
                        sum.map(f64::to_bits),
                        Some(generic.to_bits()),
                        "{what}: {start} {len}"
                    );
                }
            }
        }
        // Other types take the generic loop.
        let cols64: Vec<i64> = cols.iter().map(|&c| i64::from(c)).collect();
        // SAFETY: as above.
        let wide = unsafe { dot::<false, _, _>(&cols64, &vals, &x, 0..100, (0, 0)) };
        assert_eq!(wide, None);
    }
}
