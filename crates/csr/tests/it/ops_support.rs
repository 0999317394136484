//! Helpers shared by the operation tests (permute, submatrix, SpGEAM, ...): literal matrices
//! written as dense rows, dense oracles, and random permutations.

use csr::{Csr, Index, Scalar};
use csr_testkit::{NaiveCsr, TestElement, TestIndex};
use proptest::prelude::*;

/// A real literal as any scalar type.
pub fn lit<T: Scalar>(x: f64) -> T {
    T::from_re_im(x, 0.0)
}

/// The sparse matrix of dense rows (zeros dropped), values converted to `T`.
pub fn from_rows<T: Scalar, I: TestIndex>(ncols: usize, rows: &[&[f64]]) -> Csr<T, I> {
    let flat: Vec<T> = rows
        .iter()
        .flat_map(|r| {
            assert_eq!(r.len(), ncols, "literal row has the wrong length");
            r.iter().map(|&x| lit::<T>(x))
        })
        .collect();
    Csr::try_from_dense_row_major(rows.len(), ncols, &flat).expect("literal matrix fits")
}

/// The dense rows of `a` (duplicates summed).
pub fn to_rows<T: Scalar, I: Index>(a: &Csr<T, I>) -> Vec<Vec<T>> {
    let d = a.to_dense().expect("small matrix");
    (0..a.nrows()).map(|r| d.row(r).to_vec()).collect()
}

/// The dense rows of literal rows, as `T`.
pub fn lit_rows<T: Scalar>(rows: &[&[f64]]) -> Vec<Vec<T>> {
    rows.iter()
        .map(|r| r.iter().map(|&x| lit::<T>(x)).collect())
        .collect()
}

/// `a` with every row stably sorted by column.
pub fn sorted<T: Scalar, I: Index>(a: &Csr<T, I>) -> Csr<T, I> {
    let mut s = a.clone();
    s.sort_by_column_index();
    s
}

/// A random permutation of `0..n`.
pub fn arb_perm(n: usize) -> impl Strategy<Value = Vec<usize>> {
    Just((0..n).collect::<Vec<_>>()).prop_shuffle()
}

/// Indices as `I`.
pub fn as_idx<I: TestIndex>(v: &[usize]) -> Vec<I> {
    v.iter().map(|&x| I::idx(x)).collect()
}

/// Random matrices of exactly `nrows x ncols`: rows of up to `max_row` entries in random
/// column order (so unsorted rows, duplicates, explicit zeros and empty rows occur).
pub fn arb_csr_shaped<T: TestElement, I: TestIndex>(
    nrows: usize,
    ncols: usize,
    max_row: usize,
) -> impl Strategy<Value = Csr<T, I>> {
    let row = if ncols == 0 {
        Just(Vec::new()).boxed()
    } else {
        proptest::collection::vec((0..ncols, T::arb_value()), 0..=max_row).boxed()
    };
    proptest::collection::vec(row, nrows)
        .prop_map(move |rows| NaiveCsr { nrows, ncols, rows }.to_csr())
}
