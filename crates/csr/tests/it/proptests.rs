//! Properties on random inputs, for every (value, index) type pair, checked against the
//! naive oracles of `csr-testkit`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use csr::kernel::{Kernel, NativeKernel};
use csr::{
    Csr, CsrPattern, CsrRef, Duplicates, Error, MatrixData, Strategy as SpmvStrategy, Symmetry,
};
use csr_testkit::{
    NaiveCsr, TestElement, TestIndex, TestScalar, arb_csr, arb_raw_parts, arb_triplets,
    naive_check_parts, sum_map, test_all_index_types, test_all_types, zip_triplets,
};
use proptest::prelude::*;

const CASES: u32 = 128;

/// `(row, col, value)` sorted by coordinates with a stable sort, so equal coordinates keep
/// their order: two lists with the same per-row order compare equal.
fn by_coordinates<T: Copy>(mut t: Vec<(usize, usize, T)>) -> Vec<(usize, usize, T)> {
    t.sort_by_key(|&(r, c, _)| (r, c));
    t
}

/// COO → CSR → triplets: `Keep` preserves the multiset of triplets (and the input order
/// within each row); `Sum` equals a map sum, with sorted rows and no duplicates.
fn coo_round_trip<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(CASES), |((nrows, ncols, rows, cols, values) in arb_triplets::<T, I>(10, 10, 60))| {
        let input = zip_triplets(&rows, &cols, &values);

        let kept = Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Keep).unwrap();
        prop_assert_eq!(kept.shape(), (nrows, ncols));
        prop_assert_eq!(kept.nnz(), input.len());
        prop_assert_eq!(NaiveCsr::from_csr(&kept), NaiveCsr::from_triplets(nrows, ncols, &rows, &cols, &values));
        let back = zip_triplets(&kept.row_indices(), kept.col_idxs(), kept.values());
        prop_assert_eq!(by_coordinates(back), by_coordinates(input.clone()));
        prop_assert_eq!(kept.iter().collect::<Vec<_>>(), NaiveCsr::from_csr(&kept).triplets());

        let summed = Csr::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Sum).unwrap();
        let expected = sum_map(input);
        prop_assert_eq!(summed.nnz(), expected.len());
        prop_assert_eq!(sum_map(summed.iter()), expected.clone());
        prop_assert_eq!(
            summed.iter().map(|(r, c, v)| ((r, c), v)).collect::<Vec<_>>(),
            expected.into_iter().collect::<Vec<_>>()
        );
        prop_assert!(summed.is_sorted_by_column_index());
        prop_assert!(!summed.has_duplicates());

        // Through MatrixData: the same results, and CSR → triplets → CSR is the identity.
        let data = MatrixData::try_from_triplets(nrows, ncols, rows, cols, values).unwrap();
        prop_assert_eq!(&Csr::from_matrix_data(&data).unwrap(), &summed);
        prop_assert_eq!(&Csr::from_matrix_data_with(&data, Duplicates::Keep).unwrap(), &kept);
        let again = Csr::from_matrix_data_with(&kept.to_matrix_data(), Duplicates::Keep).unwrap();
        prop_assert_eq!(again, kept);
    });
}

/// `sort_by_column_index` equals a naive stable per-row sort.
fn sort_matches_naive<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(CASES), |(a in arb_csr::<T, I>(10, 40, 80))| {
        let naive = NaiveCsr::from_csr(&a);
        prop_assert_eq!(a.is_sorted_by_column_index(), naive.is_sorted());
        prop_assert_eq!(a.has_duplicates(), naive.has_duplicates());
        let mut sorted = a.clone();
        sorted.sort_by_column_index();
        prop_assert_eq!(NaiveCsr::from_csr(&sorted), naive.sorted());
        prop_assert!(sorted.is_sorted_by_column_index());
        prop_assert_eq!(sorted.row_ptrs(), a.row_ptrs());
    });
}

/// Transposing twice gives the row-sorted input; the transpose equals the naive one.
fn transpose_twice_is_sorted_input<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(CASES), |(a in arb_csr::<T, I>(12, 12, 60))| {
        let naive = NaiveCsr::from_csr(&a);
        let t = a.transpose();
        prop_assert_eq!(NaiveCsr::from_csr(&t), naive.transposed());
        prop_assert!(t.is_sorted_by_column_index());
        let mut sorted = a.clone();
        sorted.sort_by_column_index();
        prop_assert_eq!(&t.transpose(), &sorted);
        // On sorted input, transposing twice is the identity.
        prop_assert_eq!(&sorted.transpose().transpose(), &sorted);
    });
}

/// `sum_duplicates` equals a map sum and leaves sorted rows without duplicates.
fn sum_duplicates_matches_map_sum<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(CASES), |(a in arb_csr::<T, I>(10, 10, 60))| {
        let naive = NaiveCsr::from_csr(&a);
        let mut s = a.clone();
        s.sum_duplicates();
        prop_assert_eq!(s.shape(), a.shape());
        prop_assert_eq!(sum_map(s.iter()), naive.sum_map());
        prop_assert_eq!(NaiveCsr::from_csr(&s), naive.summed());
        prop_assert!(s.is_sorted_by_column_index());
        prop_assert!(!s.has_duplicates());
        let mut twice = s.clone();
        twice.sum_duplicates();
        prop_assert_eq!(twice, s);
    });
}

/// `eliminate_zeros` removes exactly the zero entries, keeping the order of the rest.
fn eliminate_zeros_removes_exactly_zeros<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(CASES), |(a in arb_csr::<T, I>(10, 10, 60))| {
        let naive = NaiveCsr::from_csr(&a);
        let mut z = a.clone();
        z.eliminate_zeros();
        prop_assert_eq!(NaiveCsr::from_csr(&z), naive.without_zeros());
        prop_assert!(z.values().iter().all(|v| !v.is_zero()));
        prop_assert_eq!(z.nnz(), a.values().iter().filter(|v| !v.is_zero()).count());
    });
}

/// Dense round trip: `to_dense` sums duplicates, `from_dense` drops zeros.
fn dense_round_trip<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(64), |(a in arb_csr::<T, I>(8, 8, 40))| {
        let d = a.to_dense().unwrap();
        let sums = NaiveCsr::from_csr(&a).sum_map();
        for r in 0..a.nrows() {
            for c in 0..a.ncols() {
                let expected = sums.get(&(r, c)).copied().unwrap_or_else(T::zero);
                prop_assert_eq!(d.get(r, c), Some(expected));
            }
        }
        let mut clean = a.clone();
        clean.sum_duplicates();
        clean.eliminate_zeros();
        prop_assert_eq!(Csr::<T, I>::from_dense(&d).unwrap(), clean);
    });
}

/// `MatrixData` cleanup equals the naive oracles.
fn matrix_data_cleanup<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(64), |((nrows, ncols, rows, cols, values) in arb_triplets::<T, I>(8, 8, 40))| {
        let naive = NaiveCsr::from_triplets(nrows, ncols, &rows, &cols, &values);
        let data = MatrixData::try_from_triplets(nrows, ncols, rows, cols, values).unwrap();
        let mut sorted = data.clone();
        sorted.sort_row_major().unwrap();
        prop_assert_eq!(sorted.iter().collect::<Vec<_>>(), naive.sorted().triplets());
        let mut summed = data.clone();
        summed.sum_duplicates().unwrap();
        prop_assert_eq!(summed.iter().collect::<Vec<_>>(), naive.summed().triplets());
        let mut nonzero = data.clone();
        nonzero.remove_zeros();
        let expected: Vec<_> = data.iter().filter(|e| !e.2.is_zero()).collect();
        prop_assert_eq!(nonzero.iter().collect::<Vec<_>>(), expected);
    });
}

/// Expanding one stored triangle gives a matrix equal to its transpose (symmetric),
/// negated transpose (skew) or conjugate transpose (hermitian).
fn expand_symmetry_gives_the_full_matrix<T: TestScalar, I: TestIndex>() {
    let strategy = (arb_triplets::<T, I>(6, 6, 30), 0..3_u8);
    proptest!(ProptestConfig::with_cases(64), |(((n, _, rows, cols, values), kind) in strategy)| {
        let symmetry = [Symmetry::Symmetric, Symmetry::SkewSymmetric, Symmetry::Hermitian][usize::from(kind)];
        // Keep the lower triangle (strictly for skew), square, with a real diagonal.
        let mut data = MatrixData::<T, I>::new(n, n).unwrap();
        for (r, c, v) in zip_triplets(&rows, &cols, &values) {
            if c < n && (c < r || (c == r && symmetry != Symmetry::SkewSymmetric)) {
                let v = if r == c { T::from_re_im(v.to_c64().re, 0.0) } else { v };
                data.push(r, c, v).unwrap();
            }
        }
        let stored = data.len();
        data.expand_symmetry(symmetry).unwrap();
        let off_diagonal = data.iter().take(stored).filter(|e| e.0 != e.1).count();
        prop_assert_eq!(data.len(), stored + off_diagonal);
        let a = Csr::from_matrix_data(&data).unwrap();
        let mirrored = {
            let mut t = a.transpose();
            for v in t.values_mut() {
                *v = match symmetry {
                    Symmetry::SkewSymmetric => -*v,
                    Symmetry::Hermitian => v.conj(),
                    _ => *v,
                };
            }
            t
        };
        prop_assert_eq!(a.to_dense().unwrap(), mirrored.to_dense().unwrap());
    });
}

/// `try_from_parts` never panics on arbitrary arrays and accepts exactly the arrays the
/// naive checker accepts, reporting the same first violation; `CsrRef` agrees.
fn try_from_parts_never_panics<T: TestElement, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(512), |((nrows, ncols, row_ptrs, col_idxs, values) in arb_raw_parts::<T, I>(8, 8, 30))| {
        let expected = naive_check_parts(nrows, ncols, &row_ptrs, &col_idxs, values.len());
        let borrowed = catch_unwind(AssertUnwindSafe(|| {
            CsrRef::try_from_parts(nrows, ncols, &row_ptrs, &col_idxs, &values).map(drop)
        }));
        let owned = catch_unwind(AssertUnwindSafe(|| {
            Csr::try_from_parts(nrows, ncols, row_ptrs.clone(), col_idxs.clone(), values.clone())
        }));
        let (Ok(borrowed), Ok(owned)) = (borrowed, owned) else {
            return Err(TestCaseError::fail("try_from_parts panicked"));
        };
        prop_assert_eq!(&borrowed, &expected);
        match owned {
            Ok(a) => {
                prop_assert_eq!(expected, Ok(()));
                let parts = a.into_parts();
                prop_assert_eq!((parts.0, parts.1), (nrows, ncols));
                prop_assert_eq!(parts.2, row_ptrs);
                prop_assert_eq!(parts.3, col_idxs);
                prop_assert_eq!(parts.4, values);
            }
            Err(e) => {
                // Printing the error must not panic either.
                let message = catch_unwind(AssertUnwindSafe(|| e.to_string()));
                prop_assert!(message.is_ok_and(|m| !m.is_empty()), "printing {:?} panicked", e);
                prop_assert_eq!(Err(e), expected);
            }
        }
    });
}

/// `NativeKernel::mult_vec_parts` (and `mult_vec_parts_to_vec`) on arbitrary arrays: where
/// the shapes of `x` and `y` fit, the error `try_from_parts` gives, or the `load_balance`
/// product bit for bit; where they do not, `try_from_parts`'s error if it is not about a
/// column, else the shape error.
fn mult_vec_parts_checks_while_multiplying<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(512), |((nrows, ncols, row_ptrs, col_idxs, values) in arb_raw_parts::<T, I>(8, 8, 30), alpha in T::arb_value(), beta in T::arb_value())| {
        let x: Vec<T> = (0..ncols.min(64)).map(|j| T::from_re_im(j as f64 - 3.0, 1.0)).collect();
        let start: Vec<T> = (0..nrows.min(64)).map(|i| T::from_re_im(i as f64 + 0.5, -1.0)).collect();
        let mut y = start.clone();
        let got = catch_unwind(AssertUnwindSafe(|| {
            NativeKernel::mult_vec_parts(nrows, ncols, &row_ptrs, &col_idxs, &values, alpha, &x, beta, &mut y)
        }));
        let Ok(got) = got else {
            return Err(TestCaseError::fail("mult_vec_parts panicked"));
        };
        // The same product into a new vector (written once, never zeroed): A·x.
        let got_new = catch_unwind(AssertUnwindSafe(|| {
            NativeKernel::mult_vec_parts_to_vec(nrows, ncols, &row_ptrs, &col_idxs, &values, &x)
        }));
        let Ok(got_new) = got_new else {
            return Err(TestCaseError::fail("mult_vec_parts_to_vec panicked"));
        };
        let expected = CsrRef::try_from_parts(nrows, ncols, &row_ptrs, &col_idxs, &values);
        let fits = x.len() == ncols && y.len() == nrows;
        match (&expected, x.len() == ncols) {
            (Ok(a), true) => {
                let h = NativeKernel.to_handle(a.with_strategy(SpmvStrategy::LoadBalance)).unwrap();
                let mut want = vec![T::zero(); nrows];
                NativeKernel.mult_vec(&h, T::one(), &x, T::zero(), &mut want).unwrap();
                prop_assert_eq!(got_new, Ok(want));
            }
            (Err(e), true) => prop_assert_eq!(got_new, Err(e.clone())),
            (Ok(_) | Err(Error::ColumnOutOfBounds { .. }), false) => {
                prop_assert!(matches!(got_new, Err(Error::DimensionMismatch { .. })), "{:?}", got_new);
            }
            (Err(e), false) => prop_assert_eq!(got_new, Err(e.clone())),
        }
        match (expected, fits) {
            (Ok(a), true) => {
                prop_assert_eq!(got, Ok(()));
                let h = NativeKernel.to_handle(a.with_strategy(SpmvStrategy::LoadBalance)).unwrap();
                let mut want = start.clone();
                NativeKernel.mult_vec(&h, alpha, &x, beta, &mut want).unwrap();
                // Small integers: sums are exact, whatever the order.
                prop_assert_eq!(y, want);
            }
            (expected, true) => prop_assert_eq!(got, expected.map(drop)),
            (Ok(_) | Err(Error::ColumnOutOfBounds { .. }), false) => {
                prop_assert!(matches!(got, Err(Error::DimensionMismatch { .. })), "{:?}", got);
            }
            (Err(e), false) => prop_assert_eq!(got, Err(e)),
        }
    });
}

/// `Csr::try_transpose_parts` on arbitrary arrays: what `try_from_parts` then `transpose`
/// give, the same error included, never a panic.
fn transpose_parts_checks_while_counting<T: TestScalar, I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(512), |((nrows, ncols, row_ptrs, col_idxs, values) in arb_raw_parts::<T, I>(8, 8, 30))| {
        let checked = CsrRef::try_from_parts(nrows, ncols, &row_ptrs, &col_idxs, &values);
        // A valid matrix with 2^31 columns has a transpose of 2^31 rows: too big to compare.
        prop_assume!(checked.is_err() || ncols <= 1 << 16);
        let got = catch_unwind(AssertUnwindSafe(|| {
            Csr::try_transpose_parts(nrows, ncols, &row_ptrs, &col_idxs, &values)
        }));
        let Ok(got) = got else {
            return Err(TestCaseError::fail("try_transpose_parts panicked"));
        };
        prop_assert_eq!(got, checked.map(|a| a.transpose()));
    });
}

/// The raw-parts strategy produces both valid and invalid inputs (otherwise the property
/// above proves little).
#[test]
fn raw_parts_strategy_mixes_valid_and_invalid_inputs() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = arb_raw_parts::<f64, i32>(8, 8, 30);
    let mut valid = 0;
    for _ in 0..400 {
        let (nrows, ncols, p, c, v) = strategy.new_tree(&mut runner).unwrap().current();
        valid += usize::from(naive_check_parts(nrows, ncols, &p, &c, v.len()).is_ok());
    }
    assert!((40..=300).contains(&valid), "{valid} of 400 valid");
}

test_all_types!(
    coo_round_trip,
    sort_matches_naive,
    transpose_twice_is_sorted_input,
    sum_duplicates_matches_map_sum,
    eliminate_zeros_removes_exactly_zeros,
    dense_round_trip,
    matrix_data_cleanup,
    expand_symmetry_gives_the_full_matrix,
    try_from_parts_never_panics,
    mult_vec_parts_checks_while_multiplying,
    transpose_parts_checks_while_counting
);

#[test]
fn try_from_parts_never_panics_for_other_index_types() {
    try_from_parts_never_panics::<f64, u32>();
    try_from_parts_never_panics::<f32, usize>();
    try_from_parts_never_panics::<(), i32>();
    try_from_parts_never_panics::<(), u32>();
}

/// Pattern matrices through assembly, sort, transpose and deduplication.
fn pattern_operations<I: TestIndex>() {
    proptest!(ProptestConfig::with_cases(CASES), |(a in arb_csr::<(), I>(10, 10, 60))| {
        let naive = NaiveCsr::from_csr(&a);
        let mut sorted = a.clone();
        sorted.sort_by_column_index();
        prop_assert_eq!(NaiveCsr::from_csr(&sorted), naive.sorted());
        let t = a.transpose();
        prop_assert_eq!(NaiveCsr::from_csr(&t), naive.transposed());
        prop_assert_eq!(&t.transpose(), &sorted);
        let mut dedup = a.clone();
        dedup.sum_duplicates();
        prop_assert_eq!(NaiveCsr::from_csr(&dedup), naive.summed());
        prop_assert!(!dedup.has_duplicates());
        // The pattern of a valued matrix behaves like the pattern itself.
        let valued = a.to_valued::<f64>();
        prop_assert_eq!(&valued.to_pattern(), &a);
        prop_assert_eq!(valued.transpose().to_pattern(), t);
    });
    proptest!(ProptestConfig::with_cases(CASES), |((nrows, ncols, rows, cols, values) in arb_triplets::<(), I>(10, 10, 60))| {
        let naive = NaiveCsr::from_triplets(nrows, ncols, &rows, &cols, &values);
        let kept = CsrPattern::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Keep).unwrap();
        prop_assert_eq!(NaiveCsr::from_csr(&kept), naive.clone());
        let dedup = CsrPattern::try_from_coo(nrows, ncols, &rows, &cols, &values, Duplicates::Sum).unwrap();
        prop_assert_eq!(NaiveCsr::from_csr(&dedup), naive.summed());
    });
}

test_all_index_types!(pattern_operations);
