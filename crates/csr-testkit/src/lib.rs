//! Shared test support for `csr`.
//!
//! - proptest strategies: [`arb_triplets`], [`arb_csr`], [`arb_raw_parts`] (mostly invalid
//!   arrays, for the never-panics property), [`arb_vec`];
//! - deterministic fixtures large enough to take the parallel paths: [`big_triplets`],
//!   [`big_csr`], driven by the tiny seeded generator [`SplitMix64`];
//! - comparisons with a tolerance scaled to the precision and the number of summed terms:
//!   [`assert_close`], [`assert_slices_close`], [`assert_csr_close`];
//! - [`test_all_types!`] and [`test_all_index_types!`], which stamp out one `#[test]` per
//!   (value, index) type pair;
//! - naive reference implementations used as oracles: [`NaiveCsr`] (per-row lists with
//!   obvious sort, sum, zero removal and transpose), [`sum_map`] and
//!   [`naive_check_parts`] (the documented validation order, written the slow way).
//!
//! Generated values are small integers (as `f32`, `f64` or complex numbers with integer
//! parts), so sums are exact in any order and results can be compared with `==`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use csr::{Complex, Csr, Element, Error, Extent, Index, Scalar};
use proptest::arbitrary::Arbitrary;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index as Pick;

#[doc(hidden)]
pub mod __private {
    pub use csr::Complex;
}

// ---------------------------------------------------------------------------------------
// Element and index helpers
// ---------------------------------------------------------------------------------------

/// A matrix element the strategies and oracles know how to make and combine: the four
/// [`Scalar`] types and `()` (pattern matrices).
pub trait TestElement: Element {
    /// Small-integer values (components in `-4..=4`), zero with probability about 1/6, so
    /// that duplicates sum exactly in any order and explicit zeros occur.
    fn arb_value() -> BoxedStrategy<Self>;

    /// A deterministic value from an integer (complex types also get a nonzero imaginary
    /// part for most `k`); `()` ignores `k`.
    fn from_int(k: i64) -> Self;

    /// The sum of two values, computed the obvious way (`()` for patterns).
    #[must_use]
    fn plus(self, other: Self) -> Self;

    /// Whether the value is exactly zero (never for `()`).
    fn is_zero(self) -> bool;
}

/// A [`TestElement`] that is also a [`Scalar`], with what tolerance checks need.
pub trait TestScalar: TestElement + Scalar {
    /// The machine epsilon of the real type.
    const EPSILON: f64;

    /// The value widened to `Complex<f64>`.
    fn to_c64(self) -> Complex<f64>;
}

macro_rules! impl_real {
    ($t:ty) => {
        impl TestElement for $t {
            fn arb_value() -> BoxedStrategy<Self> {
                prop_oneof![
                    2 => Just(0.0),
                    1 => Just(-0.0),
                    15 => (-4_i8..=4).prop_map(<$t>::from),
                ]
                .boxed()
            }
            fn from_int(k: i64) -> Self {
                k as $t
            }
            fn plus(self, other: Self) -> Self {
                self + other
            }
            fn is_zero(self) -> bool {
                self == 0.0
            }
        }

        impl TestScalar for $t {
            const EPSILON: f64 = <$t>::EPSILON as f64;
            fn to_c64(self) -> Complex<f64> {
                Complex::new(f64::from(self), 0.0)
            }
        }
    };
}

macro_rules! impl_complex {
    ($t:ty) => {
        impl TestElement for Complex<$t> {
            fn arb_value() -> BoxedStrategy<Self> {
                prop_oneof![
                    1 => Just(Complex::new(0.0, 0.0)),
                    2 => (-4_i8..=4).prop_map(|re| Complex::new(<$t>::from(re), 0.0)),
                    5 => (-4_i8..=4, -4_i8..=4)
                        .prop_map(|(re, im)| Complex::new(<$t>::from(re), <$t>::from(im))),
                ]
                .boxed()
            }
            fn from_int(k: i64) -> Self {
                Complex::new(k as $t, (k % 5 - 2) as $t)
            }
            fn plus(self, other: Self) -> Self {
                self + other
            }
            fn is_zero(self) -> bool {
                self.re == 0.0 && self.im == 0.0
            }
        }

        impl TestScalar for Complex<$t> {
            const EPSILON: f64 = <$t>::EPSILON as f64;
            fn to_c64(self) -> Complex<f64> {
                Complex::new(f64::from(self.re), f64::from(self.im))
            }
        }
    };
}

impl_real!(f32);
impl_real!(f64);
impl_complex!(f32);
impl_complex!(f64);

impl TestElement for () {
    fn arb_value() -> BoxedStrategy<Self> {
        Just(()).boxed()
    }
    fn from_int(_k: i64) -> Self {}
    fn plus(self, _other: Self) -> Self {}
    fn is_zero(self) -> bool {
        false
    }
}

/// An [`Index`] type the strategies can generate arbitrary (also negative and huge) values of.
pub trait TestIndex: Index + Arbitrary {
    /// `v` converted, or the type's maximum when it does not fit (so `-1` becomes `u32::MAX`
    /// for unsigned types, as a wrapping cast would give).
    fn from_i64_or_max(v: i64) -> Self;

    /// A valid index (`n` must fit the type).
    ///
    /// # Panics
    /// If `n` does not fit.
    #[track_caller]
    fn idx(n: usize) -> Self {
        Self::try_from_usize(n).expect("test index fits the index type")
    }
}

macro_rules! impl_test_index {
    ($($t:ty),*) => {$(
        impl TestIndex for $t {
            fn from_i64_or_max(v: i64) -> Self {
                <$t>::try_from(v).unwrap_or(<$t>::MAX)
            }
        }
    )*};
}

impl_test_index!(i32, i64, u32, usize);

/// Converts a slice of small `i64` into indices (handy for writing literal test inputs that
/// work for every index type; negative values follow [`TestIndex::from_i64_or_max`]).
#[must_use]
pub fn idxs<I: TestIndex>(v: &[i64]) -> Vec<I> {
    v.iter().map(|&x| I::from_i64_or_max(x)).collect()
}

/// Converts small integers into values with [`TestElement::from_int`].
#[must_use]
pub fn vals<T: TestElement>(v: &[i64]) -> Vec<T> {
    v.iter().map(|&x| T::from_int(x)).collect()
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// `(nrows, ncols, rows, cols, values)`: triplet arrays with the matrix size.
pub type Triplets<T, I> = (usize, usize, Vec<I>, Vec<I>, Vec<T>);

/// `(nrows, ncols, row_ptrs, col_idxs, values)`: arrays for `try_from_parts`, not
/// necessarily valid.
pub type RawParts<T, I> = (usize, usize, Vec<I>, Vec<I>, Vec<T>);

/// A dimension in `0..=max`: zero and one are over-represented.
fn arb_dim(max: usize) -> BoxedStrategy<usize> {
    if max == 0 {
        return Just(0).boxed();
    }
    prop_oneof![1 => Just(0), 1 => Just(1), 6 => 1..=max].boxed()
}

/// Coordinates inside `nrows x ncols`, often repeating (drawn from a small pool).
fn arb_coords(nrows: usize, ncols: usize, max_nnz: usize) -> BoxedStrategy<Vec<(usize, usize)>> {
    if nrows == 0 || ncols == 0 || max_nnz == 0 {
        return Just(Vec::new()).boxed();
    }
    let uniform = vec((0..nrows, 0..ncols), 0..=max_nnz);
    let pool_size = (max_nnz / 4).max(1);
    let pooled = (
        vec((0..nrows, 0..ncols), 1..=pool_size),
        vec(
            (any::<Pick>(), any::<bool>(), 0..nrows, 0..ncols),
            0..=max_nnz,
        ),
    )
        .prop_map(|(pool, picks)| {
            picks
                .into_iter()
                .map(|(pick, from_pool, r, c)| {
                    if from_pool {
                        pool[pick.index(pool.len())]
                    } else {
                        (r, c)
                    }
                })
                .collect()
        });
    prop_oneof![uniform, pooled].boxed()
}

/// Random triplets for a matrix of at most `max_rows x max_cols` (either may be 0) with at
/// most `max_nnz` entries in arbitrary order: duplicate coordinates are likely, explicit
/// zeros possible, values small integers ([`TestElement::arb_value`]).
///
/// # Examples
///
/// ```
/// use csr_testkit::arb_triplets;
/// use proptest::prelude::*;
///
/// proptest!(ProptestConfig::with_cases(8), |((nr, nc, rows, cols, vals) in arb_triplets::<f64, i32>(4, 4, 10))| {
///     prop_assert!(rows.len() == cols.len() && cols.len() == vals.len());
///     prop_assert!(rows.iter().all(|&r| (r as usize) < nr));
///     prop_assert!(cols.iter().all(|&c| (c as usize) < nc));
/// });
/// ```
pub fn arb_triplets<T: TestElement, I: TestIndex>(
    max_rows: usize,
    max_cols: usize,
    max_nnz: usize,
) -> impl Strategy<Value = Triplets<T, I>> {
    (arb_dim(max_rows), arb_dim(max_cols)).prop_flat_map(move |(nrows, ncols)| {
        arb_coords(nrows, ncols, max_nnz)
            .prop_flat_map(|coords| {
                let n = coords.len();
                (Just(coords), vec(T::arb_value(), n))
            })
            .prop_map(move |(coords, values)| {
                let rows = coords.iter().map(|&(r, _)| I::idx(r)).collect();
                let cols = coords.iter().map(|&(_, c)| I::idx(c)).collect();
                (nrows, ncols, rows, cols, values)
            })
    })
}

/// Random valid matrices of at most `max_rows x max_cols`: 0x0, 0xn and nx0 shapes, empty
/// rows, unsorted rows (sorted ones about a quarter of the time), duplicates, explicit zeros,
/// and now and then one dense row holding every column in shuffled order.
///
/// At most `max_nnz` entries lie outside the dense row, which adds at most `max_cols`.
pub fn arb_csr<T: TestElement, I: TestIndex>(
    max_rows: usize,
    max_cols: usize,
    max_nnz: usize,
) -> impl Strategy<Value = Csr<T, I>> {
    (
        arb_dim(max_rows),
        arb_dim(max_cols),
        prop::bool::weighted(0.25),
    )
        .prop_flat_map(move |(nrows, ncols, sorted)| {
            let long = (2 * max_nnz / nrows.max(1)).max(1);
            let entry = (0..ncols.max(1), T::arb_value());
            let row = if ncols == 0 {
                Just(Vec::new()).boxed()
            } else {
                prop_oneof![
                    3 => Just(Vec::new()),
                    5 => vec(entry.clone(), 1..=long.min(4)),
                    2 => vec(entry, 0..=long),
                ]
                .boxed()
            };
            let dense = if nrows == 0 || ncols == 0 {
                Just(None).boxed()
            } else {
                prop::option::weighted(
                    0.2,
                    (
                        0..nrows,
                        Just((0..ncols).collect::<Vec<_>>()).prop_shuffle(),
                        vec(T::arb_value(), ncols),
                    ),
                )
                .boxed()
            };
            (Just((nrows, ncols, sorted)), vec(row, nrows), dense)
        })
        .prop_map(move |((nrows, ncols, sorted), mut rows, dense)| {
            let dense_row = dense.map(|(r, cols, values)| {
                rows[r] = cols.into_iter().zip(values).collect();
                r
            });
            let mut budget = max_nnz;
            for (r, row) in rows.iter_mut().enumerate() {
                if Some(r) != dense_row {
                    row.truncate(budget);
                    budget -= row.len();
                }
                if sorted {
                    row.sort_by_key(|&(c, _)| c);
                }
            }
            NaiveCsr { nrows, ncols, rows }.to_csr()
        })
}

/// One change that (usually) breaks a valid set of CSR arrays.
#[derive(Clone, Debug)]
enum Mutation<I> {
    SetRowPtr(Pick, I),
    SetCol(Pick, I),
    PushRowPtr(I),
    PopRowPtr,
    PushCol(I),
    PopCol,
    PushValue,
    PopValue,
    SwapRowPtrs(Pick, Pick),
    SetNrows(usize),
    SetNcols(usize),
}

/// Index values: mostly small and in range, sometimes -1, the type's extremes or anything.
fn arb_index_value<I: TestIndex>(valid_max: usize) -> BoxedStrategy<I> {
    prop_oneof![
        6 => (0..=valid_max).prop_map(|v| I::from_i64_or_max(i64::try_from(v).unwrap_or(i64::MAX))),
        1 => Just(I::from_i64_or_max(-1)),
        1 => Just(I::from_i64_or_max(i64::MIN)),
        1 => Just(I::from_i64_or_max(i64::MAX)),
        1 => any::<I>(),
    ]
    .boxed()
}

/// Sizes: mostly small, sometimes at or just past the index type's limit, or `usize::MAX`.
fn arb_size<I: TestIndex>(max: usize) -> BoxedStrategy<usize> {
    prop_oneof![
        8 => 0..=max,
        1 => Just(I::MAX_USIZE),
        1 => Just(I::MAX_USIZE.saturating_add(1)),
        1 => Just(usize::MAX),
        1 => any::<usize>(),
    ]
    .boxed()
}

fn arb_mutation<I: TestIndex>(
    max_rows: usize,
    max_cols: usize,
    max_nnz: usize,
) -> BoxedStrategy<Mutation<I>> {
    let ptr = arb_index_value::<I>(max_nnz + 2);
    let col = arb_index_value::<I>(max_cols + 1);
    prop_oneof![
        3 => (any::<Pick>(), ptr.clone()).prop_map(|(p, v)| Mutation::SetRowPtr(p, v)),
        3 => (any::<Pick>(), col.clone()).prop_map(|(p, v)| Mutation::SetCol(p, v)),
        1 => ptr.prop_map(Mutation::PushRowPtr),
        1 => Just(Mutation::PopRowPtr),
        1 => col.prop_map(Mutation::PushCol),
        1 => Just(Mutation::PopCol),
        1 => Just(Mutation::PushValue),
        1 => Just(Mutation::PopValue),
        2 => (any::<Pick>(), any::<Pick>()).prop_map(|(a, b)| Mutation::SwapRowPtrs(a, b)),
        1 => arb_size::<I>(max_rows + 1).prop_map(Mutation::SetNrows),
        1 => arb_size::<I>(max_cols + 1).prop_map(Mutation::SetNcols),
    ]
    .boxed()
}

fn apply<T: TestElement, I: TestIndex>(parts: &mut RawParts<T, I>, m: Mutation<I>) {
    let (nrows, ncols, row_ptrs, col_idxs, values) = parts;
    match m {
        Mutation::SetRowPtr(p, v) if !row_ptrs.is_empty() => {
            let k = p.index(row_ptrs.len());
            row_ptrs[k] = v;
        }
        Mutation::SetCol(p, v) if !col_idxs.is_empty() => {
            let k = p.index(col_idxs.len());
            col_idxs[k] = v;
        }
        Mutation::PushRowPtr(v) => row_ptrs.push(v),
        Mutation::PopRowPtr => drop(row_ptrs.pop()),
        Mutation::PushCol(v) => col_idxs.push(v),
        Mutation::PopCol => drop(col_idxs.pop()),
        Mutation::PushValue => values.push(T::from_int(1)),
        Mutation::PopValue => drop(values.pop()),
        Mutation::SwapRowPtrs(a, b) if !row_ptrs.is_empty() => {
            let n = row_ptrs.len();
            row_ptrs.swap(a.index(n), b.index(n));
        }
        Mutation::SetNrows(n) => *nrows = n,
        Mutation::SetNcols(n) => *ncols = n,
        Mutation::SetRowPtr(..) | Mutation::SetCol(..) | Mutation::SwapRowPtrs(..) => {}
    }
}

/// Arbitrary arrays for `try_from_parts`, mostly invalid: valid matrices from [`arb_csr`]
/// with up to three mutations (a row pointer or column set to a negative, huge or
/// off-by-one value, arrays one entry too long or short, swapped row pointers, sizes at or
/// past the index type's limit or `usize::MAX`), and wholly random arrays.
///
/// About a quarter of the outputs are still valid (no mutation, or a harmless one).
pub fn arb_raw_parts<T: TestElement, I: TestIndex>(
    max_rows: usize,
    max_cols: usize,
    max_nnz: usize,
) -> impl Strategy<Value = RawParts<T, I>> {
    let mutated = (
        arb_csr::<T, I>(max_rows, max_cols, max_nnz),
        vec(arb_mutation::<I>(max_rows, max_cols, max_nnz), 0..=3),
    )
        .prop_map(|(a, mutations)| {
            let mut parts = a.into_parts();
            for m in mutations {
                apply(&mut parts, m);
            }
            parts
        });
    let random = (
        arb_size::<I>(max_rows),
        arb_size::<I>(max_cols),
        vec(arb_index_value::<I>(max_nnz + 1), 0..=max_rows + 2),
        vec(arb_index_value::<I>(max_cols + 1), 0..=max_nnz),
        vec(T::arb_value(), 0..=max_nnz),
    );
    prop_oneof![3 => mutated, 1 => random]
}

/// A dense vector of `len` small-integer values.
pub fn arb_vec<T: TestElement>(len: usize) -> impl Strategy<Value = Vec<T>> {
    vec(T::arb_value(), len)
}

// ---------------------------------------------------------------------------------------
// Deterministic fixtures
// ---------------------------------------------------------------------------------------

/// A tiny seeded generator (SplitMix64) for deterministic fixtures.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`; slightly biased, which does not matter here).
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        usize::try_from(self.next_u64() % u64::try_from(n).unwrap_or(u64::MAX)).unwrap_or(0)
    }

    /// A row or column skewed towards 0 half of the time (a few hot rows get most entries),
    /// uniform otherwise.
    pub fn skewed(&mut self, n: usize) -> usize {
        if self.next_u64() & 1 == 0 {
            self.below(n)
        } else {
            let u = self.below(n);
            u * self.below(n) / n
        }
    }
}

/// Deterministic triplets with `nnz` entries in `nrows x ncols` (both nonzero): skewed rows
/// and columns, so some rows are long and duplicates are common; about one value in nine is
/// an explicit zero.
///
/// # Panics
/// If a size does not fit `I`, or `nnz > 0` with an empty shape.
#[must_use]
pub fn big_triplets<T: TestElement, I: TestIndex>(
    nrows: usize,
    ncols: usize,
    nnz: usize,
    seed: u64,
) -> Triplets<T, I> {
    let mut rng = SplitMix64(seed);
    let mut rows = Vec::with_capacity(nnz);
    let mut cols = Vec::with_capacity(nnz);
    let mut values = Vec::with_capacity(nnz);
    for _ in 0..nnz {
        rows.push(I::idx(rng.skewed(nrows)));
        cols.push(I::idx(rng.skewed(ncols)));
        values.push(T::from_int(i64::try_from(rng.below(9)).unwrap_or(0) - 4));
    }
    (nrows, ncols, rows, cols, values)
}

/// A deterministic valid matrix with about `nnz` entries: unsorted rows, duplicates,
/// explicit zeros, many empty rows, a power-law spread of row lengths (rows both shorter and
/// longer than the insertion-sort cut-off) and one dense row.
///
/// # Panics
/// If a size does not fit `I`, or `nrows` or `ncols` is 0.
#[must_use]
pub fn big_csr<T: TestElement, I: TestIndex>(
    nrows: usize,
    ncols: usize,
    nnz: usize,
    seed: u64,
) -> Csr<T, I> {
    let mut rng = SplitMix64(seed);
    let mut rows: Vec<Vec<(usize, T)>> = vec![Vec::new(); nrows];
    let dense = rng.below(nrows);
    rows[dense] = (0..ncols).rev().map(|c| (c, T::from_int(1))).collect();
    for _ in 0..nnz.saturating_sub(ncols) {
        let r = rng.skewed(nrows);
        let c = rng.below(ncols);
        let v = T::from_int(i64::try_from(rng.below(9)).unwrap_or(0) - 4);
        rows[r].push((c, v));
    }
    NaiveCsr { nrows, ncols, rows }.to_csr()
}

// ---------------------------------------------------------------------------------------
// Oracles
// ---------------------------------------------------------------------------------------

/// A naive CSR matrix: one list of `(column, value)` per row. Every operation is written the
/// obvious way and serves as the oracle for the library's parallel ones.
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveCsr<T> {
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// The entries of each row, in storage order.
    pub rows: Vec<Vec<(usize, T)>>,
}

impl<T: TestElement> NaiveCsr<T> {
    /// The rows of `a`, read through its public row accessor.
    #[must_use]
    pub fn from_csr<I: Index>(a: &Csr<T, I>) -> Self {
        let rows = (0..a.nrows())
            .map(|r| {
                let (cols, values) = a.row(r);
                cols.iter()
                    .map(|c| c.to_usize())
                    .zip(values.iter().copied())
                    .collect()
            })
            .collect();
        Self {
            nrows: a.nrows(),
            ncols: a.ncols(),
            rows,
        }
    }

    /// Triplets bucketed by row, keeping input order within a row (LensKit's `from_coo`).
    ///
    /// # Panics
    /// If the arrays differ in length or an index lies outside the matrix.
    #[must_use]
    pub fn from_triplets<I: Index>(
        nrows: usize,
        ncols: usize,
        rows: &[I],
        cols: &[I],
        values: &[T],
    ) -> Self {
        assert!(rows.len() == cols.len() && cols.len() == values.len());
        let mut out = vec![Vec::new(); nrows];
        for ((r, c), v) in rows.iter().zip(cols).zip(values) {
            let (r, c) = (r.to_usize(), c.to_usize());
            assert!(
                r < nrows && c < ncols,
                "triplet ({r}, {c}) outside the matrix"
            );
            out[r].push((c, *v));
        }
        Self {
            nrows,
            ncols,
            rows: out,
        }
    }

    /// Builds the matrix with `try_from_parts`.
    ///
    /// # Panics
    /// If the library rejects it (a size that does not fit `I`).
    #[must_use]
    pub fn to_csr<I: TestIndex>(&self) -> Csr<T, I> {
        let mut row_ptrs = vec![I::idx(0)];
        let mut col_idxs = Vec::new();
        let mut values = Vec::new();
        for row in &self.rows {
            for &(c, v) in row {
                col_idxs.push(I::idx(c));
                values.push(v);
            }
            row_ptrs.push(I::idx(col_idxs.len()));
        }
        Csr::try_from_parts(self.nrows, self.ncols, row_ptrs, col_idxs, values)
            .expect("naive matrix is valid")
    }

    /// Every entry as `(row, col, value)`, row by row in storage order.
    #[must_use]
    pub fn triplets(&self) -> Vec<(usize, usize, T)> {
        self.rows
            .iter()
            .enumerate()
            .flat_map(|(r, row)| row.iter().map(move |&(c, v)| (r, c, v)))
            .collect()
    }

    /// Number of entries.
    #[must_use]
    pub fn nnz(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    /// Every row sorted by column with a stable sort (duplicates keep their order).
    #[must_use]
    pub fn sorted(&self) -> Self {
        let mut out = self.clone();
        for row in &mut out.rows {
            row.sort_by_key(|&(c, _)| c);
        }
        out
    }

    /// Rows sorted, entries with equal columns merged into one, summing in storage order.
    #[must_use]
    pub fn summed(&self) -> Self {
        let mut out = self.sorted();
        for row in &mut out.rows {
            let mut merged: Vec<(usize, T)> = Vec::with_capacity(row.len());
            for &(c, v) in row.iter() {
                match merged.last_mut() {
                    Some(last) if last.0 == c => last.1 = last.1.plus(v),
                    _ => merged.push((c, v)),
                }
            }
            *row = merged;
        }
        out
    }

    /// Entries whose value is exactly zero removed, the rest in order.
    #[must_use]
    pub fn without_zeros(&self) -> Self {
        let mut out = self.clone();
        for row in &mut out.rows {
            row.retain(|&(_, v)| !v.is_zero());
        }
        out
    }

    /// The transpose: row `r`'s entry `(c, v)` becomes `(r, v)` in row `c`, visited row by
    /// row in storage order (so output rows are sorted and duplicates keep input order).
    #[must_use]
    pub fn transposed(&self) -> Self {
        let mut rows = vec![Vec::new(); self.ncols];
        for (r, row) in self.rows.iter().enumerate() {
            for &(c, v) in row {
                rows[c].push((r, v));
            }
        }
        Self {
            nrows: self.ncols,
            ncols: self.nrows,
            rows,
        }
    }

    /// Whether every row is sorted by column.
    #[must_use]
    pub fn is_sorted(&self) -> bool {
        self.rows
            .iter()
            .all(|row| row.windows(2).all(|w| w[0].0 <= w[1].0))
    }

    /// Whether some row holds a column twice.
    #[must_use]
    pub fn has_duplicates(&self) -> bool {
        self.rows.iter().any(|row| {
            let mut cols: Vec<usize> = row.iter().map(|e| e.0).collect();
            cols.sort_unstable();
            cols.windows(2).any(|w| w[0] == w[1])
        })
    }

    /// The entries summed per coordinate (see [`sum_map`]).
    #[must_use]
    pub fn sum_map(&self) -> BTreeMap<(usize, usize), T> {
        sum_map(self.triplets())
    }
}

/// Sums triplets per coordinate in input order (the HashMap oracle of COO→CSR with summing).
#[must_use]
pub fn sum_map<T: TestElement>(
    entries: impl IntoIterator<Item = (usize, usize, T)>,
) -> BTreeMap<(usize, usize), T> {
    let mut map = BTreeMap::new();
    for (r, c, v) in entries {
        map.entry((r, c))
            .and_modify(|acc: &mut T| *acc = acc.plus(v))
            .or_insert(v);
    }
    map
}

/// Triplets from index arrays, as `(row, col, value)` in input order.
#[must_use]
pub fn zip_triplets<T: Copy, I: Index>(
    rows: &[I],
    cols: &[I],
    values: &[T],
) -> Vec<(usize, usize, T)> {
    rows.iter()
        .zip(cols)
        .zip(values)
        .map(|((r, c), &v)| (r.to_usize(), c.to_usize(), v))
        .collect()
}

/// The documented validation of `try_from_parts`, written the slow and obvious way (every
/// value widened to `i128`): `Ok` for valid arrays, otherwise the first violated invariant in
/// the documented order (sizes fit `I`, `nrows + 1` does not overflow, `row_ptrs` length,
/// `col_idxs`/values lengths, nnz fits `I`, `row_ptrs[0] == 0`, non-decreasing row pointers,
/// `row_ptrs[nrows] == nnz`, columns in `0..ncols`).
///
/// # Errors
/// The expected [`Error`] for invalid arrays.
pub fn naive_check_parts<I: Index>(
    nrows: usize,
    ncols: usize,
    row_ptrs: &[I],
    col_idxs: &[I],
    nvalues: usize,
) -> Result<(), Error> {
    let too_narrow = |extent, value| Error::IndexTooNarrow {
        extent,
        value,
        index_type: I::NAME,
        max: I::MAX_USIZE,
    };
    if nrows > I::MAX_USIZE {
        return Err(too_narrow(Extent::Rows, nrows));
    }
    if ncols > I::MAX_USIZE {
        return Err(too_narrow(Extent::Cols, ncols));
    }
    if nrows == usize::MAX {
        return Err(Error::SizeOverflow { what: "nrows + 1" });
    }
    if ncols == usize::MAX {
        return Err(Error::SizeOverflow { what: "ncols + 1" });
    }
    if row_ptrs.len() != nrows + 1 {
        return Err(Error::RowPtrsLength {
            expected: nrows + 1,
            actual: row_ptrs.len(),
        });
    }
    if col_idxs.len() != nvalues {
        return Err(Error::ValuesLength {
            col_idxs: col_idxs.len(),
            values: nvalues,
        });
    }
    let nnz = col_idxs.len();
    if nnz > I::MAX_USIZE {
        return Err(too_narrow(Extent::Nnz, nnz));
    }
    let p: Vec<i128> = row_ptrs.iter().map(|x| x.to_i128()).collect();
    if p[0] != 0 {
        return Err(Error::RowPtrsStart { first: p[0] });
    }
    for row in 0..nrows {
        if p[row + 1] < p[row] {
            return Err(Error::DecreasingRowPtrs {
                row,
                start: p[row],
                end: p[row + 1],
            });
        }
    }
    let nnz_i = i128::try_from(nnz).expect("a length fits i128");
    if p[nrows] != nnz_i {
        return Err(Error::RowPtrsEnd {
            last: p[nrows],
            nnz,
        });
    }
    let ncols_i = i128::try_from(ncols).expect("a size fits i128");
    for (pos, c) in col_idxs.iter().enumerate() {
        let col = c.to_i128();
        if col < 0 || col >= ncols_i {
            let pos_i = i128::try_from(pos).expect("a position fits i128");
            let row = (0..nrows)
                .find(|&r| p[r] <= pos_i && pos_i < p[r + 1])
                .expect("valid row pointers cover every entry");
            return Err(Error::ColumnOutOfBounds {
                row,
                pos,
                col,
                ncols,
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Tolerance-scaled comparisons
// ---------------------------------------------------------------------------------------

/// The relative tolerance for a result that sums `terms` values of type `T`: four machine
/// epsilons per term (at least one term).
#[must_use]
pub fn tolerance<T: TestScalar>(terms: usize) -> f64 {
    4.0 * T::EPSILON * (terms.max(1) as f64)
}

/// Whether `actual` is within [`tolerance`] of `expected`, relative to the larger modulus
/// (absolute below 1).
#[must_use]
pub fn is_close<T: TestScalar>(actual: T, expected: T, terms: usize) -> bool {
    let (a, e) = (actual.to_c64(), expected.to_c64());
    if a == e {
        return true;
    }
    let scale = a.norm().max(e.norm()).max(1.0);
    (a - e).norm() <= tolerance::<T>(terms) * scale
}

/// Asserts that `actual` is close to `expected` (see [`is_close`]).
///
/// # Panics
/// If it is not, showing both values and the tolerance.
#[track_caller]
pub fn assert_close<T: TestScalar>(actual: T, expected: T, terms: usize) {
    assert!(
        is_close(actual, expected, terms),
        "values differ: actual {actual:?}, expected {expected:?} (relative tolerance {:e})",
        tolerance::<T>(terms)
    );
}

/// Asserts that two slices have equal lengths and close values, naming the first mismatch.
///
/// # Panics
/// On a length or value mismatch.
#[track_caller]
pub fn assert_slices_close<T: TestScalar>(actual: &[T], expected: &[T], terms: usize) {
    assert_eq!(actual.len(), expected.len(), "slice lengths differ");
    if let Some(k) = (0..actual.len()).find(|&k| !is_close(actual[k], expected[k], terms)) {
        panic!(
            "values differ at position {k}: actual {:?}, expected {:?} (relative tolerance {:e})",
            actual[k],
            expected[k],
            tolerance::<T>(terms)
        );
    }
}

/// Asserts that two matrices have the same shape and structure (row pointers and column
/// indices equal) and close values; the tolerance scales with the longest row.
///
/// # Panics
/// On any mismatch.
#[track_caller]
pub fn assert_csr_close<T: TestScalar, I: Index>(actual: &Csr<T, I>, expected: &Csr<T, I>) {
    assert_eq!(actual.shape(), expected.shape(), "shapes differ");
    assert_eq!(
        actual.row_ptrs(),
        expected.row_ptrs(),
        "row pointers differ"
    );
    assert_eq!(
        actual.col_idxs(),
        expected.col_idxs(),
        "column indices differ"
    );
    let terms = expected.row_lengths().max().unwrap_or(1);
    assert_slices_close(actual.values(), expected.values(), terms);
}

/// Asserts that two matrices are identical, value bits included (so `-0.0` differs from
/// `0.0`): what "bit-identical whatever the thread count" promises.
///
/// # Panics
/// On any difference.
#[track_caller]
pub fn assert_bit_identical<T: TestScalar, I: Index + Debug>(
    actual: &Csr<T, I>,
    expected: &Csr<T, I>,
) {
    assert_eq!(actual.shape(), expected.shape(), "shapes differ");
    assert_eq!(
        actual.row_ptrs(),
        expected.row_ptrs(),
        "row pointers differ"
    );
    assert_eq!(
        actual.col_idxs(),
        expected.col_idxs(),
        "column indices differ"
    );
    let bits = |v: &[T]| -> Vec<(u64, u64)> {
        v.iter()
            .map(|x| {
                let z = x.to_c64();
                (z.re.to_bits(), z.im.to_bits())
            })
            .collect()
    };
    assert!(
        bits(actual.values()) == bits(expected.values()),
        "values differ bitwise"
    );
}

// ---------------------------------------------------------------------------------------
// Test instantiation macros
// ---------------------------------------------------------------------------------------

/// Instantiates generic test functions `fn name<T, I>()` once per pair in
/// {`f32`, `f64`, `Complex<f32>`, `Complex<f64>`} x {`i32`, `i64`}, as
/// `name::f32_i32`, `name::c64_i64`, ... (a module beside the function, of the same name).
///
/// # Examples
///
/// ```
/// use csr_testkit::{TestIndex, TestScalar, test_all_types};
///
/// fn identity_is_sorted<T: TestScalar, I: TestIndex>() {
///     assert!(csr::Csr::<T, I>::identity(3).unwrap().is_sorted_by_column_index());
/// }
/// test_all_types!(identity_is_sorted);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! test_all_types {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn f32_i32() { super::$name::<f32, i32>(); }
            #[test]
            fn f32_i64() { super::$name::<f32, i64>(); }
            #[test]
            fn f64_i32() { super::$name::<f64, i32>(); }
            #[test]
            fn f64_i64() { super::$name::<f64, i64>(); }
            #[test]
            fn c32_i32() { super::$name::<$crate::__private::Complex<f32>, i32>(); }
            #[test]
            fn c32_i64() { super::$name::<$crate::__private::Complex<f32>, i64>(); }
            #[test]
            fn c64_i32() { super::$name::<$crate::__private::Complex<f64>, i32>(); }
            #[test]
            fn c64_i64() { super::$name::<$crate::__private::Complex<f64>, i64>(); }
        }
    )+};
}

/// Instantiates generic test functions `fn name<I>()` once per index type (`i32`, `i64`,
/// `u32`, `usize`), as `name::i32`, ... (for pattern matrices and index-only checks).
#[macro_export]
macro_rules! test_all_index_types {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn i32() { super::$name::<i32>(); }
            #[test]
            fn i64() { super::$name::<i64>(); }
            #[test]
            fn u32() { super::$name::<u32>(); }
            #[test]
            fn usize() { super::$name::<usize>(); }
        }
    )+};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_scales_with_precision_and_terms() {
        assert!(is_close(1.0_f32, 1.0 + 2.0 * f32::EPSILON, 1));
        assert!(!is_close(1.0_f64, 1.0 + 1e-7, 1));
        assert!(is_close(1.0_f32, 1.0 + 1e-7, 1));
        assert!(is_close(1e6_f64, 1e6 * (1.0 + 8.0 * f64::EPSILON), 2));
        assert!(!is_close(1e6_f64, 1e6 * (1.0 + 8.0 * f64::EPSILON), 1));
        let z = Complex::new(3.0_f32, 4.0);
        assert!(is_close(z, z + Complex::new(0.0, 1e-6), 1));
        assert!(!is_close(z, z + Complex::new(0.0, 1e-3), 1));
        assert_slices_close(&[1.0_f64, 2.0], &[1.0, 2.0 + 1e-16], 1);
    }

    #[test]
    #[should_panic(expected = "values differ at position 1")]
    fn slice_mismatch_names_the_position() {
        assert_slices_close(&[1.0_f64, 2.0], &[1.0, 2.1], 1);
    }

    #[test]
    fn csr_comparisons() {
        let a = NaiveCsr {
            nrows: 2,
            ncols: 2,
            rows: vec![vec![(1, 1.0_f64)], vec![(0, 0.0)]],
        }
        .to_csr::<i32>();
        assert_csr_close(&a, &a.clone());
        assert_bit_identical(&a, &a.clone());
        let mut b = a.clone();
        b.values_mut()[1] = -0.0;
        assert_csr_close(&a, &b);
        let bits = std::panic::catch_unwind(|| assert_bit_identical(&a, &b));
        assert!(bits.is_err(), "-0.0 and 0.0 differ bitwise");
    }

    #[test]
    fn naive_oracles() {
        let m = NaiveCsr::from_triplets(
            2,
            3,
            &[1_i32, 0, 1, 1],
            &[2_i32, 1, 0, 2],
            &[1.0_f64, 2.0, 3.0, 4.0],
        );
        assert_eq!(
            m.rows,
            vec![vec![(1, 2.0)], vec![(2, 1.0), (0, 3.0), (2, 4.0)]]
        );
        assert!(!m.is_sorted() && m.has_duplicates());
        assert_eq!(m.sorted().rows[1], vec![(0, 3.0), (2, 1.0), (2, 4.0)]);
        assert_eq!(m.summed().rows[1], vec![(0, 3.0), (2, 5.0)]);
        let t = m.transposed();
        assert_eq!((t.nrows, t.ncols), (3, 2));
        assert_eq!(
            t.rows,
            vec![vec![(1, 3.0)], vec![(0, 2.0)], vec![(1, 1.0), (1, 4.0)]]
        );
        assert_eq!(m.sum_map().get(&(1, 2)), Some(&5.0));
        assert_eq!(m.nnz(), 4);
        assert_eq!(m.to_csr::<i64>().nnz(), 4);
    }

    #[test]
    fn naive_checker_follows_the_documented_order() {
        assert_eq!(naive_check_parts::<i32>(1, 1, &[0, 1], &[0], 1), Ok(()));
        assert_eq!(
            naive_check_parts::<i32>(1, 1, &[0, 1], &[0], 2),
            Err(Error::ValuesLength {
                col_idxs: 1,
                values: 2
            })
        );
        assert_eq!(
            naive_check_parts::<usize>(usize::MAX, 1, &[0], &[], 0),
            Err(Error::SizeOverflow { what: "nrows + 1" })
        );
    }

    #[test]
    fn index_helpers() {
        assert_eq!(idxs::<u32>(&[-1, 3]), vec![u32::MAX, 3]);
        assert_eq!(idxs::<i32>(&[-1, i64::MAX]), vec![-1, i32::MAX]);
        assert_eq!(vals::<Complex<f64>>(&[2]), vec![Complex::new(2.0, 0.0)]);
        assert_eq!(<f32 as TestElement>::from_int(-3), -3.0);
    }

    #[test]
    fn fixtures_are_deterministic_and_valid() {
        let a = big_csr::<f64, i32>(50, 40, 500, 9);
        assert_eq!(a, big_csr::<f64, i32>(50, 40, 500, 9));
        assert!(a.row_lengths().any(|l| l >= 40));
        let (nr, nc, r, c, v) = big_triplets::<f32, u32>(30, 20, 100, 3);
        assert_eq!((nr, nc, r.len(), c.len(), v.len()), (30, 20, 100, 100, 100));
        assert!(r.iter().all(|&x| x < 30) && c.iter().all(|&x| x < 20));
    }

    fn macro_target<T: TestScalar, I: TestIndex>() {
        let a = Csr::<T, I>::identity(2).unwrap();
        assert_eq!(a.values(), &[T::one(), T::one()]);
    }
    test_all_types!(macro_target);

    fn index_macro_target<I: TestIndex>() {
        assert_eq!(idxs::<I>(&[4]), vec![I::idx(4)]);
    }
    test_all_index_types!(index_macro_target);
}
