//! sprs 0.11 as an independent oracle: COO→CSR with summed duplicates (scipy's behaviour)
//! against `TriMat::to_csr`, and transposition against `transpose_view().to_csr()` and
//! `to_csc()`, on random inputs. Values are small integers, so sums agree exactly although
//! sprs sums duplicates in an unspecified order.

use csr::{Csr, Duplicates};
use csr_testkit::{TestIndex, TestScalar, arb_csr, arb_triplets, test_all_types};
use proptest::prelude::*;
use sprs::{CsMatI, SpIndex, TriMatI};

/// Asserts that our CSR matrix and sprs's (CSR storage) hold identical arrays.
fn assert_same<T: TestScalar, I: TestIndex + SpIndex>(
    ours: &Csr<T, I>,
    theirs: &CsMatI<T, I, I>,
) -> Result<(), TestCaseError> {
    prop_assert!(theirs.is_csr());
    prop_assert_eq!(ours.shape(), theirs.shape());
    prop_assert_eq!(ours.row_ptrs(), &theirs.proper_indptr()[..]);
    prop_assert_eq!(ours.col_idxs(), theirs.indices());
    prop_assert_eq!(ours.values(), theirs.data());
    Ok(())
}

fn coo_sum_matches_sprs<T: TestScalar, I: TestIndex + SpIndex>() {
    let config = ProptestConfig::with_cases(96);
    proptest!(config, |((nrows, ncols, rows, cols, values) in arb_triplets::<T, I>(12, 12, 60))| {
        let ours = Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Sum).unwrap();
        let tri = TriMatI::<T, I>::from_triplets((nrows, ncols), rows, cols, values);
        let theirs: CsMatI<T, I, I> = tri.to_csr();
        assert_same(&ours, &theirs)?;
    });
}

fn transpose_matches_sprs<T: TestScalar, I: TestIndex + SpIndex>() {
    let config = ProptestConfig::with_cases(96);
    proptest!(config, |(a in arb_csr::<T, I>(12, 12, 60))| {
        // sprs needs sorted rows without duplicates.
        let mut a = a;
        a.sum_duplicates();
        let (nrows, ncols, ptrs, cols, values) = a.clone().into_parts();
        let theirs = CsMatI::<T, I, I>::try_new((nrows, ncols), ptrs, cols, values)
            .map_err(|(.., e)| TestCaseError::fail(format!("sprs rejected a valid matrix: {e}")))?;
        assert_same(&a, &theirs)?;
        let t = a.transpose();
        assert_same(&t, &theirs.transpose_view().to_csr())?;
        // CSC storage of A holds the arrays of CSR storage of A^T.
        let csc = theirs.to_csc();
        prop_assert_eq!(t.row_ptrs(), &csc.proper_indptr()[..]);
        prop_assert_eq!(t.col_idxs(), csc.indices());
        prop_assert_eq!(t.values(), csc.data());
    });
}

/// Transposing an unsorted matrix with duplicates and then summing them agrees with sprs
/// transposing the summed matrix.
fn transpose_then_sum_matches_sprs<T: TestScalar, I: TestIndex + SpIndex>() {
    let config = ProptestConfig::with_cases(64);
    proptest!(config, |((nrows, ncols, rows, cols, values) in arb_triplets::<T, I>(10, 10, 50))| {
        let kept = Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Keep).unwrap();
        let mut t = kept.transpose();
        t.sum_duplicates();
        let tri = TriMatI::<T, I>::from_triplets((nrows, ncols), rows, cols, values);
        let theirs: CsMatI<T, I, I> = tri.to_csr();
        assert_same(&t, &theirs.transpose_view().to_csr())?;
    });
}

test_all_types!(
    coo_sum_matches_sprs,
    transpose_matches_sprs,
    transpose_then_sum_matches_sprs
);

#[test]
fn unsigned_indices_match_sprs() {
    coo_sum_matches_sprs::<f64, u32>();
    coo_sum_matches_sprs::<f32, usize>();
    transpose_matches_sprs::<f64, usize>();
    transpose_matches_sprs::<f32, u32>();
}
