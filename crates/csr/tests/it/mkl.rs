//! What only the MKL kernel has: splitting by `max_nnz`, the `u32`/`usize` index routes, the
//! SpMV hint switch, and "installed means loaded". The operation-level suite it shares with
//! every kernel is in `kernels.rs`. Without MKL these tests say so loudly and pass.

use csr::kernel::{Kernel, KernelId, MklKernel, ReferenceKernel};
use csr::{Csr, Dense, Error, Scalar};
use csr_testkit::{TestIndex, arb_csr, assert_csr_close, assert_slices_close};
use proptest::prelude::*;

/// Whether MKL loads here; prints a loud skip note if not.
pub(crate) fn mkl_here(test: &str) -> bool {
    match KernelId::Mkl.availability() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("MKL not available: {test} SKIPPED ({e})");
            false
        }
    }
}

/// If the project's venv holds MKL (the README's set-up installs it there), the kernel
/// must load: otherwise every MKL test would silently skip.
#[test]
fn installed_mkl_loads() {
    let lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/lib");
    let installed = ["libmkl_rt.so.3", "libmkl_rt.so.2"]
        .iter()
        .any(|name| lib.join(name).exists());
    if std::env::var_os(csr::kernel::MKL_LIB_ENV).is_some() || !installed {
        eprintln!("MKL not installed in .venv (or CSR_MKL_LIB set): load check SKIPPED");
        return;
    }
    let info = csr::kernel::mkl_info().expect("MKL is installed in .venv and must load");
    assert!(info.version.contains("Math Kernel Library"), "{info:?}");
}

fn reference_mult_vec<I: TestIndex>(a: &Csr<f64, I>, x: &[f64]) -> Vec<f64> {
    let r = ReferenceKernel;
    let h = Kernel::<f64, I>::to_handle(&r, a.view()).unwrap();
    let mut y = vec![0.0; a.nrows()];
    r.mult_vec(&h, 1.0, x, 0.0, &mut y).unwrap();
    y
}

fn reference_product<I: TestIndex>(
    a: &Csr<f64, I>,
    b: &Csr<f64, I>,
    transpose_b: bool,
) -> Csr<f64, I> {
    let r = ReferenceKernel;
    let (ha, hb) = (
        Kernel::<f64, I>::to_handle(&r, a.view()).unwrap(),
        Kernel::<f64, I>::to_handle(&r, b.view()).unwrap(),
    );
    let c = if transpose_b {
        r.mult_abt(&ha, &hb)
    } else {
        r.mult_ab(&ha, &hb)
    };
    r.from_handle(&c.unwrap()).unwrap()
}

/// Every operation of `k` on `a` (and `A·Aᵀ`, `A·A` when square) against the reference.
fn check_against_reference<I: TestIndex>(k: &MklKernel, a: &Csr<f64, I>) {
    let x: Vec<f64> = (0..a.ncols()).map(|j| (j % 7) as f64 - 3.0).collect();
    let h = match k.to_handle(a.view()) {
        Ok(h) => h,
        Err(Error::Unsupported { reason, .. }) if reason.contains("entries, more than max_nnz") => {
            return; // a single row longer than the limit: tested below
        }
        Err(e) => panic!("to_handle: {e}"),
    };
    let terms = a.nnz() + 1;
    let mut y = vec![f64::NAN; a.nrows()];
    k.mult_vec(&h, 1.0, &x, 0.0, &mut y).unwrap();
    assert_slices_close(&y, &reference_mult_vec(a, &x), terms);

    let xd = Dense::try_from_row_major(a.ncols(), 1, x.clone()).unwrap();
    let mut yd = Dense::try_from_row_major(a.nrows(), 1, vec![f64::NAN; a.nrows()]).unwrap();
    k.mult_dense(&h, 1.0, &xd, 0.0, &mut yd).unwrap();
    assert_slices_close(&yd.to_row_major_vec(), &y, terms);

    // A·Aᵀ: B = A must fit one MKL matrix; with a small max_nnz it may not.
    match k.mult_abt(&h, &h) {
        Ok(c) => assert_csr_close(&k.from_handle(&c).unwrap(), &reference_product(a, a, true)),
        Err(Error::Unsupported { reason, .. }) => {
            assert!(
                reason.contains("B has more entries than max_nnz"),
                "{reason}"
            );
            assert!(a.nnz() > Kernel::<f64, I>::max_nnz(k));
        }
        Err(e) => panic!("mult_abt: {e}"),
    }
}

fn split_by_max_nnz<I: TestIndex>() {
    if !mkl_here("split_by_max_nnz") {
        return;
    }
    let config = ProptestConfig::with_cases(48);
    proptest!(config, |(a in arb_csr::<f64, I>(12, 12, 60), max_nnz in 1_usize..12)| {
        let k = MklKernel::new().with_max_nnz(max_nnz);
        prop_assert_eq!(Kernel::<f64, I>::max_nnz(&k), max_nnz);
        check_against_reference(&k, &a);
        // A B small enough for one block, with A split into many.
        let b = Csr::<f64, I>::identity(a.ncols()).unwrap();
        let (ha, hb) = (k.to_handle(a.view()), MklKernel::new().to_handle(b.view()).unwrap());
        if let Ok(ha) = ha {
            // Handles of two differently configured MKL kernels work together.
            let c = k.mult_ab(&ha, &hb).unwrap();
            let mut expected = a.clone();
            expected.sum_duplicates();
            assert_csr_close(&k.from_handle(&c).unwrap(), &expected);
        }
    });
}

#[test]
fn split_by_max_nnz_i32() {
    split_by_max_nnz::<i32>();
}

#[test]
fn split_by_max_nnz_i64() {
    split_by_max_nnz::<i64>();
}

/// `u32` indices go to MKL as a copy, `usize` as they are (ILP64).
fn other_index_types<I: TestIndex>() {
    if !mkl_here("other_index_types") {
        return;
    }
    let config = ProptestConfig::with_cases(32);
    proptest!(config, |(a in arb_csr::<f64, I>(12, 12, 60))| {
        check_against_reference(&MklKernel::new(), &a);
        let k = MklKernel::new();
        let mut h = k.to_handle(a.view()).unwrap();
        k.order_columns(&mut h).unwrap();
        let sorted = k.from_handle(&h).unwrap();
        prop_assert!(sorted.is_sorted_by_column_index());
        prop_assert_eq!(sorted.nnz(), a.nnz());
    });
}

#[test]
fn u32_indices() {
    other_index_types::<u32>();
}

#[test]
fn usize_indices() {
    other_index_types::<usize>();
}

#[test]
fn a_row_longer_than_max_nnz_is_a_typed_error() {
    if !mkl_here("a_row_longer_than_max_nnz_is_a_typed_error") {
        return;
    }
    let a = Csr::<f64, i32>::try_from_parts(2, 4, vec![0, 1, 5], vec![0, 0, 1, 2, 3], vec![1.0; 5])
        .unwrap();
    let k = MklKernel::new().with_max_nnz(3);
    match k.to_handle(a.view()) {
        Err(Error::Unsupported {
            kernel: "mkl",
            op: "to_handle",
            reason,
        }) => {
            assert_eq!(reason, "row 1 has 4 entries, more than max_nnz = 3");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn without_the_mv_hint_results_are_the_same() {
    if !mkl_here("without_the_mv_hint_results_are_the_same") {
        return;
    }
    let a = "poisson2d:30"
        .parse::<csr::generate::Generator>()
        .unwrap()
        .build::<f64, i32>(7)
        .unwrap();
    let x: Vec<f64> = (0..a.ncols()).map(|j| j as f64).collect();
    let expected = reference_mult_vec(&a, &x);
    for k in [MklKernel::new(), MklKernel::new().with_expected_mv_calls(0)] {
        let h = k.to_handle(a.view()).unwrap();
        let mut y = vec![0.0; a.nrows()];
        k.mult_vec(&h, 1.0, &x, 0.0, &mut y).unwrap();
        assert_slices_close(&y, &expected, 6);
    }
}

/// f32 through MKL's `s` routines and complex through `c`/`z`, on one shared fixture.
#[test]
fn every_value_type_reaches_its_routines() {
    fn check<T: Scalar>() {
        let v = |x: f64| T::from_re_im(x, -x);
        let a = Csr::<T, i32>::try_from_parts(
            2,
            2,
            vec![0, 2, 3],
            vec![0, 1, 0],
            vec![v(1.0), v(2.0), v(3.0)],
        )
        .unwrap();
        let k = MklKernel::new();
        let h = k.to_handle(a.view()).unwrap();
        let mut y = vec![T::default(); 2];
        k.mult_vec(
            &h,
            T::from_re_im(1.0, 0.0),
            &[T::from_re_im(1.0, 0.0); 2],
            T::default(),
            &mut y,
        )
        .unwrap();
        assert_eq!(y, vec![v(3.0), v(3.0)], "{}", T::NAME);
    }
    if !mkl_here("every_value_type_reaches_its_routines") {
        return;
    }
    check::<f32>();
    check::<f64>();
    check::<csr::Complex<f32>>();
    check::<csr::Complex<f64>>();
}
