//! The top-k selection of an accumulated row with AVX-512, for `f64` values and `i32`
//! columns: what [`select_row`](super::topk::select_row) keeps, by vector passes over the
//! candidates that do not branch on their values.
//!
//! 1. **Candidates**: the row's values are gathered from the accumulator eight at a time,
//!    and those that pass [`is_candidate`](super::topk::is_candidate) (not NaN, at least the
//!    threshold, not the dropped diagonal) are compressed, with their columns, into a buffer.
//! 2. **Partition**: while more than [`FINISH_MAX`] remain, a pivot is drawn from a sample
//!    (aimed just above the `need`-th largest, so that most candidates fall below it in the
//!    first pass) and those at or above it are compressed into the other buffer (when fewer
//!    than `need` reach it, they are all kept and those below it go on). The pivot is
//!    always one of the candidates, so every pass removes at least one.
//! 3. **Finish**: the last ≤ 32 are ranked by counting, for each, those that beat it (larger
//!    value, or equal and lower column: [`rank`](super::topk::rank)'s order): the `need`
//!    with rank below `need` are kept.
//! 4. **Order**: the kept columns are sorted by counting (≤ 32 of them) or by the standard
//!    library's sort; by value, by [`order_kept`](super::topk::order_kept).
//!
//! Rows summed densely ([`select_dense`]: item-item rows, which touch most columns) read
//! their candidates straight from the accumulator, in column order, telling the touched
//! columns apart by their markers or by the -0.0 sentinel: no list of them, no gather.
//!
//! Measured with scratch programs outside the repository (2-vCPU Xeon VM, 2026-12-07; the
//! VM drifted by half during the day, so each comparison alternates the two builds):
//! - the selection alone, copies over the 20,000 rows of the TF-IDF product of
//!   `bench/topk_compare.py` (93 candidates a row, values in a 20,000-wide accumulator), one
//!   thread, medians of 30 rounds less the rounds' fixed cost: k = 10, 128-bit keys
//!   ([`select_columns_by_key`](super::topk::select_columns_by_key)) 16.5 ms, this selection
//!   8.2 ms; k = 20, 15.6 against 10.5. On 1,000 rows of the rating workload's `A·Aᵀ` (5,000
//!   candidates a row), against the one-pass heap: k = 20, 11.0 against 6.9 ms; k = 10, 6.6
//!   against 5.9 ms;
//! - the whole top-10 TF-IDF product (`mult_abt_topk`, handles kept): 2 threads, medians of
//!   40 calls, 17.2–19.6 ms before, 14.7–16.2 after; one thread (30 calls) 28.9–40.0
//!   before, 24.6–29.0 after;
//! - the rating workload's top-20 `A·Aᵀ` (5,000 × 50,000, one thread): rows summed densely
//!   and selected from a list of their columns 338–471 ms, straight from the accumulator
//!   281–297 ms (medians of 6 calls); through the Gram path (one matrix for both operands,
//!   own rows selected straight from the accumulator) 312–376 before, 255–315 after
//!   (medians of 5 calls).

use std::any::TypeId;
use std::arch::x86_64::{
    __m256i, __m512d, __mmask8, _CMP_EQ_OQ, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _CMP_ORD_Q,
    _mm256_add_epi32, _mm256_cmpneq_epi32_mask, _mm256_mask_cmpeq_epi32_mask,
    _mm256_mask_cmplt_epu32_mask, _mm256_maskz_compress_epi32, _mm256_maskz_loadu_epi32,
    _mm256_set1_epi32, _mm256_setr_epi32, _mm256_storeu_epi32, _mm512_castpd_si512,
    _mm512_cmp_pd_mask, _mm512_cmplt_epi32_mask, _mm512_mask_cmplt_epi32_mask,
    _mm512_mask_cmpneq_epi64_mask, _mm512_mask_i32gather_pd, _mm512_maskz_compress_epi32,
    _mm512_maskz_compress_pd, _mm512_maskz_loadu_epi32, _mm512_maskz_loadu_pd, _mm512_set1_epi32,
    _mm512_set1_epi64, _mm512_set1_pd, _mm512_setzero_pd, _mm512_storeu_epi32, _mm512_storeu_pd,
};

use super::topk::{TopK, TopKOrder, Touched, order_kept};
use crate::scalar::real_to_f64;
use crate::{Index, Scalar};

/// Lanes of `f64` in a vector; every buffer has this much room past its last element, for
/// the full-width stores of compressed lanes.
const LANES: usize = 8;

/// The most candidates ranked by counting (four vectors of values).
const FINISH_MAX: usize = 32;

/// Working sets of at least this many candidates draw their pivot from [`LONG_SAMPLES`]
/// samples, fewer from [`LANES`]: a long row's first pass then keeps about `need +
/// len / 65` instead of `need + len / 9`.
const LONG_ROW: usize = 512;

/// See [`LONG_ROW`].
const LONG_SAMPLES: usize = 64;

/// The most candidates a row may offer to these selections (the gathered row's columns, or a
/// dense row's width): their buffers hold 24 bytes per candidate per thread (two copies of
/// each value and column), 1.5 MB at this bound, within the slack that the top-k products'
/// memory bound allows (threads × ncols × 16 B + 64 MB). Longer rows, from products wider
/// than 65,536 columns, take the generic selections (the one-pass heap, no buffer).
const MAX_CANDIDATES: usize = 1 << 16;

/// A thread's buffers for [`select_columns`], kept between rows (and calls).
#[derive(Debug, Default)]
pub(crate) struct Avx512Scratch {
    values: [Vec<f64>; 2],
    columns: [Vec<i32>; 2],
}

impl Avx512Scratch {
    /// The bytes its buffers hold.
    pub(crate) fn bytes(&self) -> usize {
        self.values.iter().map(Vec::capacity).sum::<usize>() * size_of::<f64>()
            + self.columns.iter().map(Vec::capacity).sum::<usize>() * size_of::<i32>()
    }

    /// Room for `len` candidates (and the stores' overhang) in every buffer.
    fn room(&mut self, len: usize) {
        for v in &mut self.values {
            if v.len() < len + LANES {
                v.resize(len + LANES, 0.0);
            }
        }
        for c in &mut self.columns {
            if c.len() < len + LANES {
                c.resize(len + LANES, 0);
            }
        }
    }
}

/// [`select_columns_fast`](super::topk::select_columns_fast)'s selection with AVX-512, or
/// `None` where it does not apply (values not `f64`, columns not `i32`, no AVX-512F/VL or
/// POPCNT).
/// `cols` are the row's columns (each once), `acc` holds their values; returns `n`, the
/// kept columns being `cols[..n]` in `opts.order`, what [`select_row`](super::topk::select_row)
/// keeps.
pub(crate) fn select_columns<T: Scalar, I: Index>(
    cols: &mut [I],
    row: usize,
    opts: &TopK<T::Real>,
    acc: &[T],
    scratch: &mut Avx512Scratch,
) -> Option<usize> {
    if !applies::<T, I>() || cols.len() > MAX_CANDIDATES {
        return None;
    }
    // The types were just checked: these casts between identical types cannot fail.
    let cols: &mut [i32] = bytemuck::cast_slice_mut(cols);
    let acc: &[f64] = bytemuck::cast_slice(acc);
    let opts = real_options(opts);
    scratch.room(cols.len());
    // SAFETY: AVX-512F, VL and POPCNT are present (checked above); the scratch has room for
    // the row (`room`).
    unsafe { select(cols, row, &opts, acc, scratch) }
}

/// [`select_columns`] for a row summed densely over `acc` (its width the product's): the
/// candidates are read straight from `acc`, in column order, `touched` telling the row's
/// columns apart (no list of them, no gather); the kept columns are appended to `out`.
/// `None` (and nothing appended) where it does not apply (as [`select_columns`], or
/// markers narrower than `acc`).
pub(crate) fn select_dense<T: Scalar, I: Index>(
    acc: &[T],
    touched: Touched<'_>,
    row: usize,
    opts: &TopK<T::Real>,
    out: &mut Vec<I>,
    scratch: &mut Avx512Scratch,
) -> Option<usize> {
    if !applies::<T, I>()
        || acc.len() > MAX_CANDIDATES
        || matches!(touched, Touched::Marked(_, marks) if marks.len() < acc.len())
    {
        return None;
    }
    // The types were just checked: these casts between identical types cannot fail.
    let acc: &[f64] = bytemuck::cast_slice(acc);
    let opts = real_options(opts);
    scratch.room(acc.len());
    // SAFETY: AVX-512F, VL and POPCNT are present (`applies`); the scratch has room for every
    // column (`room`); markers as wide as `acc` (checked above).
    let n = unsafe {
        dense_candidates(
            acc,
            touched,
            row,
            &opts,
            (&mut scratch.values[0], &mut scratch.columns[0]),
        )
    };
    let start = out.len();
    out.resize(start + opts.k.min(n), I::ZERO);
    let kept_cols: &mut [i32] = bytemuck::cast_slice_mut(&mut out[start..]);
    // SAFETY: as above; `kept_cols` has room for min(k, n) columns.
    let kept = unsafe { best_of(n, &opts, acc, scratch, kept_cols) };
    out.truncate(start + kept);
    Some(kept)
}

/// Whether the AVX-512 selections apply: `f64` values, `i32` columns, and a processor with
/// AVX-512F, VL and POPCNT (whose detection the standard library caches).
fn applies<T: Scalar, I: Index>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f64>()
        && TypeId::of::<I>() == TypeId::of::<i32>()
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("popcnt")
}

/// `opts` with an `f64` threshold (`R` is `f64` where the selections apply).
fn real_options<R: Scalar>(opts: &TopK<R>) -> TopK<f64> {
    TopK {
        k: opts.k,
        threshold: opts.threshold.map(real_to_f64),
        exclude_diagonal: opts.exclude_diagonal,
        order: opts.order,
    }
}

/// [`select_columns`] once its conditions hold; `None` (and `cols` untouched) if a column
/// does not index `acc`.
///
/// # Safety
/// AVX-512F, VL and POPCNT are present; every buffer of `scratch` holds at least
/// `cols.len() + LANES` elements.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn select(
    cols: &mut [i32],
    row: usize,
    opts: &TopK<f64>,
    acc: &[f64],
    scratch: &mut Avx512Scratch,
) -> Option<usize> {
    // SAFETY: the caller's contract.
    let n = unsafe {
        candidates(
            cols,
            row,
            opts,
            acc,
            (&mut scratch.values[0], &mut scratch.columns[0]),
        )
    }?;
    // SAFETY: the caller's contract; `cols` has room for n >= min(k, n) columns.
    Some(unsafe { best_of(n, opts, acc, scratch, cols) })
}

/// The best `opts.k` of the `n` candidates in the scratch's first buffers, their columns
/// written to `out[..kept]` in `opts.order` (`acc` holds their values); returns `kept`.
///
/// # Safety
/// AVX-512F, VL and POPCNT are present; every buffer of `scratch` holds at least
/// `n + LANES` elements; `out` has room for `min(opts.k, n)` columns.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn best_of(
    n: usize,
    opts: &TopK<f64>,
    acc: &[f64],
    scratch: &mut Avx512Scratch,
    cols: &mut [i32],
) -> usize {
    let Avx512Scratch {
        values: [v, xv],
        columns: [c, xc],
    } = scratch;
    let mut need = opts.k.min(n);
    let mut kept = 0;
    // The working set is v[..l], c[..l]; each pass leaves the next one in xv, xc and swaps.
    let mut l = n;
    while need > 0 {
        if l <= need {
            cols[kept..kept + l].copy_from_slice(&c[..l]);
            kept += l;
            break;
        }
        if l <= FINISH_MAX {
            // SAFETY: l <= FINISH_MAX; v and c hold l elements.
            let best = unsafe { finish(&v[..l], &c[..l], need) };
            cols[kept..kept + need].copy_from_slice(&best[..need]);
            kept += need;
            break;
        }
        // SAFETY: AVX-512 is present (caller).
        let p = unsafe { pivot(&v[..l], need) };
        // SAFETY: AVX-512 is present (caller), and xv and xc (here and in the passes below)
        // hold at least l + LANES elements (caller: n + LANES, and l <= n).
        let ge = unsafe { keep_where::<_CMP_GE_OQ>((&v[..l], &c[..l]), p, (xv, xc)) };
        let next = if ge >= need && ge < l {
            ge
        } else if ge == l {
            // The pivot is the smallest: those above it, then the lowest columns of those
            // equal to it.
            // SAFETY: as for the pass above.
            let gt = unsafe { keep_where::<_CMP_GT_OQ>((&v[..l], &c[..l]), p, (xv, xc)) };
            if gt < need {
                cols[kept..kept + gt].copy_from_slice(&xc[..gt]);
                kept += gt;
                need -= gt;
                // SAFETY: as for the pass above.
                let eq = unsafe { keep_where::<_CMP_EQ_OQ>((&v[..l], &c[..l]), p, (xv, xc)) };
                let ties = &mut xc[..eq];
                ties.sort_unstable();
                cols[kept..kept + need].copy_from_slice(&ties[..need]);
                kept += need;
                break;
            }
            gt
        } else {
            // Fewer than `need` reach the pivot: all are kept; the rest come from below it.
            cols[kept..kept + ge].copy_from_slice(&xc[..ge]);
            kept += ge;
            need -= ge;
            // SAFETY: as for the pass above.
            unsafe { keep_where::<_CMP_LT_OQ>((&v[..l], &c[..l]), p, (xv, xc)) }
        };
        std::mem::swap(v, xv);
        std::mem::swap(c, xc);
        l = next;
    }
    let kept_cols = &mut cols[..kept];
    match opts.order {
        // SAFETY: at most FINISH_MAX columns, each once.
        TopKOrder::ByColumn if kept <= FINISH_MAX => unsafe { sort_distinct(kept_cols) },
        TopKOrder::ByColumn => kept_cols.sort_unstable(),
        TopKOrder::ByValueDescending => {
            order_kept(kept_cols, opts.order, |c| c as usize, |c| acc[c as usize]);
        }
    }
    kept
}

/// The mask of the first `len` lanes of a vector of eight (all of them from eight on).
#[inline(always)]
fn first_lanes(len: usize) -> __mmask8 {
    if len >= LANES {
        0xff
    } else {
        ((1u32 << len) - 1) as __mmask8
    }
}

/// The test of [`is_candidate`](super::topk::is_candidate) on eight lanes at once.
struct Filter {
    /// The threshold in every lane, if there is one.
    threshold: Option<__m512d>,
    /// The row in every lane, if its diagonal entry is dropped (a row past `i32::MAX` has
    /// no column of its own to drop).
    own: Option<__m256i>,
}

impl Filter {
    #[target_feature(enable = "avx512f,avx512vl")]
    fn new(row: usize, opts: &TopK<f64>) -> Self {
        Self {
            threshold: opts.threshold.map(|t| _mm512_set1_pd(t)),
            own: i32::try_from(row)
                .ok()
                .filter(|_| opts.exclude_diagonal)
                .map(|r| _mm256_set1_epi32(r)),
        }
    }

    /// Appends the lanes of `(x, idx)` (values and columns) that are in `lanes` and
    /// candidates to `v` and `c` from `n` on, compressed; returns their count.
    ///
    /// # Safety
    /// `v` and `c` hold at least `n + LANES` elements.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl,popcnt")]
    unsafe fn append(
        &self,
        (x, idx): (__m512d, __m256i),
        lanes: __mmask8,
        (v, c): (&mut [f64], &mut [i32]),
        n: usize,
    ) -> usize {
        let mut keep = lanes & _mm512_cmp_pd_mask::<_CMP_ORD_Q>(x, x);
        if let Some(t) = self.threshold {
            keep &= _mm512_cmp_pd_mask::<_CMP_GE_OQ>(x, t);
        }
        if let Some(own) = self.own {
            keep &= _mm256_cmpneq_epi32_mask(idx, own);
        }
        // SAFETY: each store writes n..n + LANES, inside v and c (caller).
        unsafe {
            _mm512_storeu_pd(v.as_mut_ptr().add(n), _mm512_maskz_compress_pd(keep, x));
            _mm256_storeu_epi32(
                c.as_mut_ptr().add(n),
                _mm256_maskz_compress_epi32(keep, idx),
            );
        }
        keep.count_ones() as usize
    }
}

/// Gathers the values of `cols` from `acc` and compresses the candidates (values and
/// columns, in the row's order) into `v` and `c`; returns their count, or `None` if a
/// column does not index `acc` (the callers' columns come from the accumulator and are
/// valid: checked all the same, where they are loaded, since the gather would read out of
/// bounds).
///
/// # Safety
/// AVX-512F, VL and POPCNT are present; `v` and `c` hold `cols.len() + LANES` elements.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn candidates(
    cols: &[i32],
    row: usize,
    opts: &TopK<f64>,
    acc: &[f64],
    (v, c): (&mut [f64], &mut [i32]),
) -> Option<usize> {
    // Valid columns are below this (compared as unsigned: a negative column is not).
    let width = _mm256_set1_epi32(acc.len().min(1 << 31) as u32 as i32);
    let mut outside: __mmask8 = 0;
    let filter = Filter::new(row, opts);
    let mut n = 0;
    for j in (0..cols.len()).step_by(LANES) {
        let lanes = first_lanes(cols.len() - j);
        // SAFETY: the masked load reads only the lanes below cols.len(); the masked gather
        // reads acc only at those lanes' columns that index it (`inside`). `append` writes
        // n..n + LANES, inside v and c (n <= j < cols.len(), caller's room).
        unsafe {
            let idx = _mm256_maskz_loadu_epi32(lanes, cols.as_ptr().add(j));
            let inside = _mm256_mask_cmplt_epu32_mask(lanes, idx, width);
            outside |= lanes & !inside;
            let x: __m512d = _mm512_mask_i32gather_pd::<8>(
                _mm512_setzero_pd(),
                inside,
                idx,
                acc.as_ptr().cast(),
            );
            n += filter.append((x, idx), inside, (v, c), n);
        }
    }
    (outside == 0).then_some(n)
}

/// [`candidates`] of a row summed densely: the values read from `acc` in order, eight at a
/// time, the columns `touched` tells apart; returns their count.
///
/// # Safety
/// AVX-512F, VL and POPCNT are present; `acc.len() <= MAX_CANDIDATES`; with [`Touched::Marked`] the
/// markers hold at least `acc.len()` entries; `v` and `c` hold `acc.len() + LANES` elements.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn dense_candidates(
    acc: &[f64],
    touched: Touched<'_>,
    row: usize,
    opts: &TopK<f64>,
    (v, c): (&mut [f64], &mut [i32]),
) -> usize {
    let filter = Filter::new(row, opts);
    let untouched = _mm512_set1_epi64((-0.0f64).to_bits() as i64);
    let first = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mut n = 0;
    for j in (0..acc.len()).step_by(LANES) {
        let lanes = first_lanes(acc.len() - j);
        // SAFETY: masked loads read only the lanes below acc.len() (the markers are as
        // long, caller); `append` writes n..n + LANES, n <= j < acc.len(), inside v and c
        // (caller's room). j < MAX_CANDIDATES: the column indices fit i32.
        unsafe {
            let x = _mm512_maskz_loadu_pd(lanes, acc.as_ptr().add(j));
            let touched = match touched {
                Touched::Marked(stamp, marks) => _mm256_mask_cmpeq_epi32_mask(
                    lanes,
                    _mm256_maskz_loadu_epi32(lanes, marks.as_ptr().add(j).cast()),
                    _mm256_set1_epi32(stamp as i32),
                ),
                Touched::NotNegativeZero => {
                    _mm512_mask_cmpneq_epi64_mask(lanes, _mm512_castpd_si512(x), untouched)
                }
            };
            let idx = _mm256_add_epi32(_mm256_set1_epi32(j as i32), first);
            n += filter.append((x, idx), touched, (v, c), n);
        }
    }
    n
}

/// Compresses the elements of `(v, c)` whose value compares `CMP` with `p` into `(xv, xc)`,
/// in order; returns their count.
///
/// # Safety
/// AVX-512F, VL and POPCNT are present; `xv` and `xc` hold `v.len() + LANES` elements and `c` as
/// many as `v`.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn keep_where<const CMP: i32>(
    (v, c): (&[f64], &[i32]),
    p: f64,
    (xv, xc): (&mut [f64], &mut [i32]),
) -> usize {
    let pv = _mm512_set1_pd(p);
    let mut n = 0;
    for j in (0..v.len()).step_by(LANES) {
        let lanes = first_lanes(v.len() - j);
        // SAFETY: masked loads read only lanes below v.len() (c as long); the stores write
        // n..n + LANES with n <= j < v.len(), inside xv and xc (caller's room).
        unsafe {
            let x = _mm512_maskz_loadu_pd(lanes, v.as_ptr().add(j));
            let y = _mm256_maskz_loadu_epi32(lanes, c.as_ptr().add(j));
            let keep = lanes & _mm512_cmp_pd_mask::<CMP>(x, pv);
            _mm512_storeu_pd(xv.as_mut_ptr().add(n), _mm512_maskz_compress_pd(keep, x));
            _mm256_storeu_epi32(xc.as_mut_ptr().add(n), _mm256_maskz_compress_epi32(keep, y));
            n += keep.count_ones() as usize;
        }
    }
    n
}

/// A pivot among the candidates `v` (more than [`FINISH_MAX`], none NaN) aimed just above
/// the `need`-th largest: the sample whose expected rank is the first at or past `need`
/// (a sample at position `j` from the top, of `s`, ranks about `(j + 1)(len + 1) / (s + 1)`).
///
/// # Safety
/// AVX-512F, VL and POPCNT are present.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn pivot(v: &[f64], need: usize) -> f64 {
    let len = v.len();
    let aim = |samples: usize| (need * (samples + 1)).div_ceil(len + 1).min(samples - 1);
    if len >= LONG_ROW {
        let mut s = [0.0; LONG_SAMPLES];
        for (i, x) in s.iter_mut().enumerate() {
            *x = v[i * len / LONG_SAMPLES];
        }
        return *s
            .select_nth_unstable_by(aim(LONG_SAMPLES), |a, b| b.total_cmp(a))
            .1;
    }
    let mut s = [0.0; LANES];
    for (i, x) in s.iter_mut().enumerate() {
        *x = v[i * len / LANES];
    }
    // The j-th largest sample is the smallest of those with at most j samples above them.
    let j = aim(LANES);
    // SAFETY: `s` holds LANES values.
    let all = unsafe { _mm512_maskz_loadu_pd(0xff, s.as_ptr()) };
    let mut p = f64::INFINITY;
    for &x in &s {
        let above = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(all, _mm512_set1_pd(x)).count_ones();
        if above as usize <= j && x < p {
            p = x;
        }
    }
    p
}

/// The columns of the best `need` of the candidates `(v, c)` (at most [`FINISH_MAX`],
/// `need <= v.len()`), in the candidates' order, at the front of the array returned: each
/// candidate's rank is the count of those that beat it, and those ranked below `need` are
/// kept (columns are distinct, so ranks are too).
///
/// # Safety
/// AVX-512F, VL and POPCNT are present; `v.len() == c.len() <= FINISH_MAX`.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn finish(v: &[f64], c: &[i32], need: usize) -> [i32; FINISH_MAX + 16] {
    let len = v.len();
    let valid = if len == FINISH_MAX {
        u32::MAX
    } else {
        (1u32 << len) - 1
    };
    // SAFETY: masked loads read only the lanes below len.
    let (values, columns) = unsafe {
        (
            [0, 1, 2, 3].map(|r| {
                _mm512_maskz_loadu_pd((valid >> (8 * r)) as __mmask8, v.as_ptr().add(8 * r))
            }),
            [0, 1].map(|r| {
                _mm512_maskz_loadu_epi32((valid >> (16 * r)) as u16, c.as_ptr().add(16 * r))
            }),
        )
    };
    let mut keep = 0u32;
    for (i, (&x, &col)) in v.iter().zip(c).enumerate() {
        let (x, col) = (_mm512_set1_pd(x), _mm512_set1_epi32(col));
        let (mut above, mut equal) = (0u32, 0u32);
        for (r, &vals) in values.iter().enumerate() {
            above |= u32::from(_mm512_cmp_pd_mask::<_CMP_GT_OQ>(vals, x)) << (8 * r);
            equal |= u32::from(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(vals, x)) << (8 * r);
        }
        let lower = u32::from(_mm512_cmplt_epi32_mask(columns[0], col))
            | u32::from(_mm512_cmplt_epi32_mask(columns[1], col)) << 16;
        let beaten_by = ((above | (equal & lower)) & valid).count_ones() as usize;
        keep |= u32::from(beaten_by < need) << i;
    }
    let mut best = [0; FINISH_MAX + 16];
    let low = keep as u16;
    // SAFETY: each store writes 16 lanes: at 0, then at most 16 on, inside `best`.
    unsafe {
        _mm512_storeu_epi32(
            best.as_mut_ptr().cast(),
            _mm512_maskz_compress_epi32(low, columns[0]),
        );
        _mm512_storeu_epi32(
            best.as_mut_ptr().add(low.count_ones() as usize).cast(),
            _mm512_maskz_compress_epi32((keep >> 16) as u16, columns[1]),
        );
    }
    best
}

/// Sorts at most [`FINISH_MAX`] distinct columns: each goes to the position given by the
/// count of those below it.
///
/// # Safety
/// AVX-512F, VL and POPCNT are present; `cols.len() <= FINISH_MAX`, its columns distinct.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
unsafe fn sort_distinct(cols: &mut [i32]) {
    let len = cols.len();
    let valid = if len == FINISH_MAX {
        u32::MAX
    } else {
        (1u32 << len) - 1
    };
    let (low, high) = (valid as u16, (valid >> 16) as u16);
    // SAFETY: masked loads read only the lanes below len.
    let (a, b) = unsafe {
        (
            _mm512_maskz_loadu_epi32(low, cols.as_ptr()),
            _mm512_maskz_loadu_epi32(high, cols.as_ptr().add(16)),
        )
    };
    let mut sorted = [0; FINISH_MAX];
    for &col in cols.iter() {
        let x = _mm512_set1_epi32(col);
        let below = _mm512_mask_cmplt_epi32_mask(low, a, x).count_ones()
            + _mm512_mask_cmplt_epi32_mask(high, b, x).count_ones();
        // Distinct columns: positions 0..len, each once.
        sorted[below as usize] = col;
    }
    cols.copy_from_slice(&sorted[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::topk::select_row;

    /// Options varied by case: `k` from 0 to past the finish's 32, the diagonal dropped in
    /// every other case, a threshold in every third, rows by value in every fifth.
    fn options(case: usize, next: &mut impl FnMut() -> u64) -> TopK<f64> {
        let mut opts = TopK::new((next() % 48) as usize).exclude_diagonal(case.is_multiple_of(2));
        if case.is_multiple_of(3) {
            opts = opts.threshold((next() % 8) as f64 - 2.0);
        }
        if case.is_multiple_of(5) {
            opts = opts.order(TopKOrder::ByValueDescending);
        }
        opts
    }

    /// Rows of every length up to a few thousand candidates, values drawn from a few
    /// (ties everywhere, the pivot often the smallest), NaN and infinities among them, with
    /// and without threshold and diagonal, both orders, `k` from 0 to past the finish's 32:
    /// the AVX-512 selection keeps exactly what [`select_row`] keeps.
    #[test]
    fn avx512_selection_equals_the_partial_selection() {
        if !std::arch::is_x86_feature_detected!("avx512f")
            || !std::arch::is_x86_feature_detected!("avx512vl")
            || !std::arch::is_x86_feature_detected!("popcnt")
        {
            eprintln!("no AVX-512F/VL or POPCNT here: the AVX-512 selection is not tested");
            return;
        }
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let mut scratch = Avx512Scratch::default();
        for case in 0..4000 {
            let len = match case % 4 {
                0 => next() % 40,
                1 => next() % 200,
                2 => next() % 1200,
                _ => next() % 4000,
            } as usize;
            let width = len + 1 + (next() % 64) as usize;
            // Distinct columns, in a shuffled order (first-touch order of an accumulator).
            let mut cols: Vec<i32> = (0..width as i32).collect();
            for i in (1..cols.len()).rev() {
                cols.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            cols.truncate(len);
            let distinct = 1 + next() % 64;
            let mut acc = vec![f64::NAN; width];
            for &c in &cols {
                acc[c as usize] = match next() % 23 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => f64::NEG_INFINITY,
                    3 => -0.0,
                    _ => (next() % distinct) as f64 - (distinct / 3) as f64,
                };
            }
            let opts = options(case, &mut next);
            let k = opts.k;
            let row = next() as usize % (width + 1);
            let mut items: Vec<(usize, f64)> = cols
                .iter()
                .map(|&c| (c as usize, acc[c as usize]))
                .collect();
            let n = select_row(&mut items, row, &opts, |e| e.0, |e| e.1);
            let want: Vec<(usize, u64)> = items[..n].iter().map(|e| (e.0, e.1.to_bits())).collect();
            let mut got = cols.clone();
            let kept = select_columns(&mut got, row, &opts, &acc, &mut scratch)
                .expect("f64 values, i32 columns, AVX-512 present");
            let got: Vec<(usize, u64)> = got[..kept]
                .iter()
                .map(|&c| (c as usize, acc[c as usize].to_bits()))
                .collect();
            assert_eq!(
                got, want,
                "case {case}: {len} candidates, k = {k}, row {row}"
            );
        }
    }

    /// Rows summed densely: candidates told apart by markers or by the -0.0 sentinel, read
    /// straight from the accumulator; the same as [`select_row`] over the touched columns.
    #[test]
    fn dense_selection_equals_the_partial_selection() {
        if !applies::<f64, i32>() {
            eprintln!("no AVX-512F/VL or POPCNT here: the AVX-512 selection is not tested");
            return;
        }
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d_u64);
        let mut scratch = Avx512Scratch::default();
        for case in 0..3000 {
            let width = 1 + (next() % 3000) as usize;
            let stamp = 7;
            let distinct = 1 + next() % 64;
            let mut acc = vec![-0.0; width];
            let mut marks = vec![stamp - 1; width];
            let mut items = Vec::new();
            for c in 0..width {
                if next().is_multiple_of(4) {
                    continue;
                }
                let v = match next() % 23 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => f64::NEG_INFINITY,
                    _ => (next() % distinct) as f64 - (distinct / 3) as f64 + 0.5,
                };
                acc[c] = v;
                marks[c] = stamp;
                items.push((c, v));
            }
            let opts = options(case, &mut next);
            let k = opts.k;
            let row = next() as usize % (width + 1);
            let n = select_row(&mut items, row, &opts, |e| e.0, |e| e.1);
            let want: Vec<(usize, u64)> = items[..n].iter().map(|e| (e.0, e.1.to_bits())).collect();
            // Sums of +0.5 steps are never -0.0: the sentinel applies.
            for touched in [Touched::Marked(stamp, &marks), Touched::NotNegativeZero] {
                let mut out = vec![-1i32];
                let kept = select_dense(&acc, touched, row, &opts, &mut out, &mut scratch)
                    .expect("f64 values, i32 columns, AVX-512 present");
                assert_eq!(
                    (out.len(), out[0]),
                    (kept + 1, -1),
                    "appended after what was there"
                );
                let got: Vec<(usize, u64)> = out[1..]
                    .iter()
                    .map(|&c| (c as usize, acc[c as usize].to_bits()))
                    .collect();
                assert_eq!(
                    got, want,
                    "case {case}: width {width}, k = {k}, {touched:?}"
                );
            }
        }
    }

    /// Other types, columns that do not index the accumulator, and rows past
    /// [`MAX_CANDIDATES`] are left to the generic selections.
    #[test]
    fn other_types_bad_columns_and_long_rows_take_the_generic_path() {
        let mut scratch = Avx512Scratch::default();
        let opts = TopK::new(2);
        let acc32 = [1.0f32, 2.0, 3.0];
        assert_eq!(
            select_columns(&mut [0i32, 1, 2], 0, &opts, &acc32, &mut scratch),
            None
        );
        let acc = [1.0f64, 2.0, 3.0];
        assert_eq!(
            select_columns(&mut [0i64, 1, 2], 0, &TopK::new(2), &acc, &mut scratch),
            None
        );
        assert_eq!(
            select_columns(&mut [0i32, 3], 0, &TopK::new(2), &acc, &mut scratch),
            None
        );
        assert_eq!(
            select_columns(&mut [0i32, -1], 0, &TopK::new(2), &acc, &mut scratch),
            None
        );
        // Rows past MAX_CANDIDATES, whose buffers would outgrow the memory bound: none
        // allocated.
        let mut scratch = Avx512Scratch::default();
        let wide = vec![1.0f64; MAX_CANDIDATES + 1];
        let mut cols: Vec<i32> = (0..wide.len() as i32).collect();
        assert_eq!(
            select_columns(&mut cols, 0, &TopK::new(2), &wide, &mut scratch),
            None
        );
        let mut out: Vec<i32> = Vec::new();
        let dense = select_dense(
            &wide,
            Touched::NotNegativeZero,
            0,
            &TopK::new(2),
            &mut out,
            &mut scratch,
        );
        assert_eq!((dense, out.len(), scratch.bytes()), (None, 0, 0));
        // At the bound, where AVX-512 is present, they are selected.
        if applies::<f64, i32>() {
            let at = &wide[..MAX_CANDIDATES];
            let kept = select_columns(
                &mut cols[..MAX_CANDIDATES],
                0,
                &TopK::new(2),
                at,
                &mut scratch,
            );
            assert_eq!((kept, &cols[..2]), (Some(2), &[0, 1][..]));
        }
    }
}
