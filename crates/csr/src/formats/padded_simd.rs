//! Run-time selected SIMD for the full blocks of the padded formats ([`Ell`](crate::Ell),
//! [`Sellp`](crate::Sellp), the ELL part of [`Hybrid`](crate::Hybrid)).
//!
//! The library is built for baseline x86-64 (SSE2), where the portable block kernel in
//! [`padded`](super::padded) multiplies two `f64` rows at a time. On a CPU with AVX2 and
//! FMA, `f64` blocks (any index type) instead use fused multiply-adds on four rows at a
//! time, sixteen rows' sums in registers, and skip the padding select in blocks without
//! padding. The choice is made once per SpMV ([`Simd::detect`]); other value types, and
//! other CPUs, take the portable kernel.

//!
//! Both kernels sum each row's slots in slot order; the fused multiply-add rounds once per
//! slot instead of twice, so the two agree to rounding, not bit for bit.

use std::any::TypeId;

use super::padded::{Block, LANES};
use crate::{Index, Scalar};

/// Which kernel computes a full block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Simd {
    /// The portable kernel (any CPU, any type).
    Portable,
    /// AVX2 and FMA (x86-64 CPUs that have both; `f64` values only).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Avx2Fma,
}

impl Simd {
    /// The best kernel this CPU runs (`is_x86_feature_detected!` caches its answer).
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Simd::Avx2Fma;
        }
        Simd::Portable
    }
}

/// Computes full block `b` into `acc` (one sum per row) with the `simd` kernel if it
/// applies to `T`; returns `false`, leaving `acc` alone, if it does not (the caller
/// then runs the portable kernel). A padding slot multiplies its zero by `x[finite]`.
///
/// # Safety
/// Every slot of `b` lies in `cols` and `vals`; every non-padding column index in them is
/// `< x.len()`; padding slots hold zero; `b.rows == LANES`; `finite < x.len()` and
/// `x[finite]` is finite; if `simd` is [`Simd::Avx2Fma`], the CPU has AVX2 and FMA.
#[inline]
pub(crate) unsafe fn full_block<T: Scalar, I: Index>(
    simd: Simd,
    cols: &[I],
    vals: &[T],
    b: Block,
    x: &[T],
    finite: usize,
    acc: &mut [T; LANES],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if simd == Simd::Avx2Fma && TypeId::of::<T>() == TypeId::of::<f64>() {
        // Same type: the casts cannot fail.
        let (vals, x) = (
            bytemuck::cast_slice::<T, f64>(vals),
            bytemuck::cast_slice::<T, f64>(x),
        );
        let acc = bytemuck::cast_slice_mut::<T, f64>(&mut acc[..]);
        // SAFETY: the caller's contract, on the same values seen as f64.
        unsafe { avx2::full_block(cols, vals, b, x, finite, acc) };
        return true;
    }
    let _ = (simd, cols, vals, b, x, finite, acc);
    false
}

/// The AVX2 + FMA kernel: 16 rows per pass (four vectors of four sums in registers); for
/// each slot `k`, the rows' `x` values are loaded one by one into vectors (a padding slot
/// loads `x[finite]`), then multiplied and added with fused multiply-adds.
///
/// Scalar loads, not `vgatherdpd`: on the development VM's Xeon a masked gather made the
/// whole SpMV 2x slower than the portable kernel (poisson2d(2000), 2026-11-21).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256d, _MM_HINT_T0, _mm_prefetch, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_set_pd,
        _mm256_setzero_pd, _mm256_storeu_pd,
    };

    use super::{Block, LANES};
    use crate::Index;
    use crate::formats::padded::padding_index;

    /// Rows per pass: four vectors of four `f64` sums.
    const PASS: usize = 16;

    /// Four rows' sums.
    const VEC: usize = 4;

    /// `f64` values per 64-byte cache line.
    const F64_PER_LINE: usize = 8;

    /// Blocks whose slot rows lie at most this many slots apart (SELL-P slices of up to 256
    /// rows) prefetch their values in memory order. ELL's slot rows lie `stride` apart: each
    /// is a sequential stream the hardware prefetcher follows, and the prefetch made its
    /// SpMV slower (poisson2d(2000), loaded VM, median of per-round ratios to native CSR over
    /// 41 rounds, twice: 1.07-1.08 with, 0.97 without). Measured at steps 64 and 4M only.
    const PREFETCH_MAX_STEP: usize = 256;

    /// Full block: sums of `LANES` rows into `acc`. A first pass in memory order checks the
    /// column indices for padding and prefetches the values; a block without padding then
    /// skips the padding select (one compare and one conditional move per slot).
    /// Poisson2d(2000), 2 threads, loaded VM, median of per-round ratios to the native CSR
    /// SpMV over 41 rounds, twice: SELL-P 0.97-0.98 with the prefetch, 1.24-1.25 without.
    ///
    /// # Safety
    /// As [`super::full_block`], with AVX2 and FMA present, `acc.len() == LANES`,
    /// `finite < x.len()` and `x[finite]` finite.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn full_block<C: Index>(
        cols: &[C],
        vals: &[f64],
        b: Block,
        x: &[f64],
        finite: usize,
        acc: &mut [f64],
    ) {
        debug_assert!(acc.len() == LANES && b.rows == LANES);
        let pad = padding_index::<C>();
        let mut padded = false;
        let prefetch = b.step <= PREFETCH_MAX_STEP;
        for k in 0..b.len {
            let off = b.base + k * b.step;
            // Values in memory order, before the sums read them 16 rows at a time (512 bytes
            // apart in a default SELL-P slice, an order the hardware prefetcher does not
            // follow).
            for line in (0..LANES).step_by(F64_PER_LINE).filter(|_| prefetch) {
                // SAFETY: off + line lies in the block, inside vals (caller's contract); a
                // prefetch only hints the cache.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(vals.as_ptr().add(off + line).cast()) };
            }
            padded |= cols[off..off + LANES]
                .iter()
                .fold(false, |any, &c| any | (c == pad));
        }
        // SAFETY: the caller's contract; `padded` is false only if no slot is padding.
        unsafe {
            if padded {
                sums::<C, true>(cols, vals, b, x, finite, acc);
            } else {
                sums::<C, false>(cols, vals, b, x, finite, acc);
            }
        }
    }

    /// [`full_block`]'s sums; with `PADDED == false`, every slot must hold a column.
    ///
    /// # Safety
    /// As [`full_block`], and if `!PADDED`, the block has no padding slot.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sums<C: Index, const PADDED: bool>(
        cols: &[C],
        vals: &[f64],
        b: Block,
        x: &[f64],
        finite: usize,
        acc: &mut [f64],
    ) {
        let pad = padding_index::<C>();
        let load = |c: C| {
            let j = if PADDED && c == pad {
                finite
            } else {
                c.to_usize()
            };
            // SAFETY: a non-padding column is < x.len() (caller's contract); padding occurs
            // only if PADDED and then reads x[finite], finite < x.len().
            unsafe { *x.get_unchecked(j) }
        };
        for (p, out) in acc.chunks_exact_mut(PASS).enumerate() {
            let mut sums = [_mm256_setzero_pd(); PASS / VEC];
            for k in 0..b.len {
                let off = b.base + k * b.step + p * PASS;
                for (q, s) in sums.iter_mut().enumerate() {
                    let o = off + q * VEC;
                    // SAFETY: o + VEC <= b.base + k * b.step + LANES <= the block's end, which
                    // lies inside cols and vals (caller's contract).
                    let (c, v) = unsafe {
                        (
                            cols.get_unchecked(o..o + VEC),
                            _mm256_loadu_pd(vals.as_ptr().add(o)),
                        )
                    };
                    let xs = _mm256_set_pd(load(c[3]), load(c[2]), load(c[1]), load(c[0]));
                    *s = _mm256_fmadd_pd(v, xs, *s);
                }
            }
            store(&sums, out);
        }
    }

    /// Writes a pass's sums to its `PASS` rows.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn store(sums: &[__m256d; PASS / VEC], out: &mut [f64]) {
        for (s, o) in sums.iter().zip(out.chunks_exact_mut(VEC)) {
            // SAFETY: `o` holds VEC values; unaligned store.
            unsafe { _mm256_storeu_pd(o.as_mut_ptr(), *s) };
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Simd;
    use crate::formats::padded::{self, PaddedStorage};
    use crate::{Csr, Ell, Index, Scalar, Sellp};

    /// Every kernel this CPU runs, the portable one first.
    fn kernels() -> Vec<Simd> {
        let mut k = vec![Simd::Portable];
        if Simd::detect() != Simd::Portable {
            k.push(Simd::detect());
        }
        k
    }

    /// A matrix from its rows of `(column, value)`.
    fn csr<T: Scalar, I: Index>(ncols: usize, rows: &[Vec<(usize, f64)>]) -> Csr<T, I> {
        let mut ptrs = vec![I::ZERO];
        let (mut cols, mut vals) = (Vec::new(), Vec::new());
        for row in rows {
            for &(c, v) in row {
                cols.push(I::truncate(c));
                vals.push(T::from_re_im(v, 0.0));
            }
            ptrs.push(I::truncate(cols.len()));
        }
        Csr::try_from_parts(rows.len(), ncols, ptrs, cols, vals).unwrap()
    }

    /// `alpha * A * x + beta * y` row by row in f64, with each row's `sum |a * x|` (the
    /// rounding scale).
    fn oracle(
        rows: &[Vec<(usize, f64)>],
        alpha: f64,
        x: &[f64],
        beta: f64,
        y: &[f64],
    ) -> Vec<(f64, f64)> {
        rows.iter()
            .zip(y)
            .map(|(row, &y)| {
                let dot: f64 = row.iter().map(|&(c, v)| v * x[c]).sum();
                let scale: f64 = row.iter().map(|&(c, v)| (v * x[c]).abs()).sum();
                let old = if beta == 0.0 { 0.0 } else { beta * y };
                (alpha * dot + old, (alpha * scale).abs() + old.abs())
            })
            .collect()
    }

    /// Runs every kernel on `m` and compares with the oracle.
    fn check_storage<T, I, P>(
        m: &P,
        want: &[(f64, f64)],
        args: (f64, &[f64], f64, &[f64]),
        eps: f64,
    ) where
        T: Scalar + Into<f64>,
        I: Index,
        P: PaddedStorage<T, I>,
    {
        let (alpha, x, beta, y0) = args;
        let cast = |v: &[f64]| v.iter().map(|&v| T::from_re_im(v, 0.0)).collect::<Vec<T>>();
        let x = cast(x);
        for simd in kernels() {
            let mut y = cast(y0);
            padded::mult_vec(
                m,
                simd,
                T::from_re_im(alpha, 0.0),
                &x,
                T::from_re_im(beta, 0.0),
                &mut y,
            )
            .unwrap();
            for (r, (&got, &(w, scale))) in y.iter().zip(want).enumerate() {
                let got: f64 = got.into();
                assert!(
                    (got - w).abs() <= eps * (scale + 1.0),
                    "{} {simd:?} row {r}: {got} vs {w}",
                    P::OP
                );
            }
        }
    }

    /// ELL and SELL-P (three slice shapes) of `rows`, every kernel against the oracle.
    fn check_all<T: Scalar + Into<f64>, I: Index>(
        ncols: usize,
        rows: &[Vec<(usize, f64)>],
        args: (f64, &[f64], f64, &[f64]),
        eps: f64,
    ) {
        let a = csr::<T, I>(ncols, rows);
        let want = oracle(rows, args.0, args.1, args.2, args.3);
        check_storage(&Ell::try_from(&a).unwrap(), &want, args, eps);
        for (size, factor) in [(64, 1), (128, 2), (32, 1), (100, 3)] {
            let s = Sellp::from_csr_with(a.view(), size, factor).unwrap();
            check_storage(&s, &want, args, eps);
        }
    }

    /// Rows (up to 200, so that there are full blocks of 64 and a partial last one) of up to
    /// 9 entries in any column order, duplicates and empty rows included, with `x`, `y`,
    /// `alpha` and `beta`.
    #[allow(clippy::type_complexity, reason = "a test case")]
    fn arb_case()
    -> impl Strategy<Value = (usize, Vec<Vec<(usize, f64)>>, Vec<f64>, Vec<f64>, f64, f64)> {
        (1..40usize, 0..200usize).prop_flat_map(|(ncols, nrows)| {
            let entry = (0..ncols, -4.0..4.0f64);
            (
                Just(ncols),
                prop::collection::vec(prop::collection::vec(entry, 0..10), nrows),
                prop::collection::vec(-3.0..3.0f64, ncols),
                prop::collection::vec(-3.0..3.0f64, nrows),
                prop_oneof![Just(1.0), -2.0..2.0f64],
                prop_oneof![Just(0.0), Just(1.0), -2.0..2.0f64],
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every kernel path, on the same cases, for every index type (f64: the SIMD kernel
        /// where the CPU has it; f32: the portable one).
        #[test]
        fn every_kernel_matches_the_oracle((ncols, rows, x, y, alpha, beta) in arb_case()) {
            let args = (alpha, x.as_slice(), beta, y.as_slice());
            check_all::<f64, i32>(ncols, &rows, args, 1e-14);
            check_all::<f64, i64>(ncols, &rows, args, 1e-14);
            check_all::<f64, usize>(ncols, &rows, args, 1e-14);
            check_all::<f64, u32>(ncols, &rows, args, 1e-14);
            check_all::<f32, i32>(ncols, &rows, args, 1e-5);
        }
    }

    /// Blocks without padding (every row of equal length) take the select-free path of the
    /// SIMD kernel; a block with one shorter row takes the padded path.
    #[test]
    fn blocks_with_and_without_padding() {
        let rows: Vec<Vec<(usize, f64)>> = (0..200)
            .map(|i| {
                let len = if i == 70 { 3 } else { 5 };
                (0..len)
                    .map(|k| ((i * 7 + k * 13) % 50, ((i + k) % 9) as f64 - 4.5))
                    .collect()
            })
            .collect();
        let x: Vec<f64> = (0..50).map(|j| 1.0 + (j % 7) as f64 * 0.25).collect();
        let y: Vec<f64> = (0..200).map(|i| (i % 3) as f64).collect();
        for args in [(1.0, x.as_slice(), 0.0, y.as_slice()), (-0.5, &x, 2.0, &y)] {
            check_all::<f64, i32>(50, &rows, args, 1e-14);
            check_all::<f64, i64>(50, &rows, args, 1e-14);
        }
    }

    /// Padding reads `x[finite]` times zero in every kernel: infinite and NaN entries of `x`
    /// reach exactly the rows that store their column, on full blocks.
    #[test]
    fn padding_ignores_non_finite_x_in_every_kernel() {
        // 130 rows: row i stores column i % 3 (value 1) and, for even i, column 2 (value 2),
        // so odd rows are padded.
        let rows: Vec<Vec<(usize, f64)>> = (0..130)
            .map(|i| {
                let mut r = vec![(i % 3, 1.0)];
                if i % 2 == 0 {
                    r.push((2, 2.0));
                }
                r
            })
            .collect();
        let a = csr::<f64, i32>(3, &rows);
        let x = [f64::INFINITY, f64::NAN, 1.0];
        let want: Vec<f64> = rows
            .iter()
            .map(|r| r.iter().map(|&(c, v)| v * x[c]).sum())
            .collect();
        let sellp = Sellp::try_from(&a).unwrap();
        let ell = Ell::try_from(&a).unwrap();
        for simd in kernels() {
            let mut y = vec![0.0; rows.len()];
            padded::mult_vec(&sellp, simd, 1.0, &x, 0.0, &mut y).unwrap();
            assert_eq!(format!("{y:?}"), format!("{want:?}"), "sellp {simd:?}");
            padded::mult_vec(&ell, simd, 1.0, &x, 0.0, &mut y).unwrap();
            assert_eq!(format!("{y:?}"), format!("{want:?}"), "ell {simd:?}");
        }
    }
}
