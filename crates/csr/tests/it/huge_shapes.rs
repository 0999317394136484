//! Issue 13: shapes at the index limit and huge declared shapes. Every constructor refuses a
//! dimension whose `+ 1` does not fit `usize`; arrays sized by a dimension are allocated
//! fallibly (an error, never an abort); the reader's memory follows the file's size.

use csr::io::mm::{self, ReadOptions, SHAPE_ITEMS_FLOOR};
use csr::{Coo, Csr, CsrRef, Duplicates, Ell, Error, MatrixData, Sellp};

#[track_caller]
fn assert_size_overflow<X: std::fmt::Debug>(r: Result<X, Error>, what: &str) {
    match r {
        Err(Error::SizeOverflow { what: w }) => assert_eq!(w, what),
        other => panic!("expected SizeOverflow {{ {what} }}, got {other:?}"),
    }
}

#[test]
fn every_constructor_refuses_a_dimension_at_usize_max() {
    let m = usize::MAX;
    assert_size_overflow(
        Coo::<f64, usize>::try_from_parts(m, 1, vec![], vec![], vec![]),
        "nrows + 1",
    );
    assert_size_overflow(
        Coo::<f64, usize>::try_from_parts(1, m, vec![], vec![], vec![]),
        "ncols + 1",
    );
    assert_size_overflow(MatrixData::<f64, usize>::new(m, 1), "nrows + 1");
    assert_size_overflow(MatrixData::<f64, usize>::new(1, m), "ncols + 1");
    assert_size_overflow(
        MatrixData::<f64, usize>::try_from_triplets(1, m, vec![], vec![], vec![]),
        "ncols + 1",
    );
    assert_size_overflow(Csr::<f64, usize>::empty(m, 1), "nrows + 1");
    assert_size_overflow(
        Csr::<f64, usize>::try_from_parts(1, m, vec![0, 0], vec![], vec![]),
        "ncols + 1",
    );
    assert_size_overflow(
        CsrRef::<f64, usize>::try_from_parts(1, m, &[0, 0], &[], &[]),
        "ncols + 1",
    );
    assert_size_overflow(
        Csr::<f64, usize>::try_from_coo(1, m, &[], &[], &[], Duplicates::Sum),
        "ncols + 1",
    );
    assert_size_overflow(
        Ell::<f64, usize>::try_from_parts(1, m, 0, 1, vec![], vec![]),
        "ncols + 1",
    );
    assert_size_overflow(
        Sellp::<f64, usize>::try_from_parts(1, m, 1, 1, vec![0], vec![0, 0], vec![], vec![]),
        "ncols + 1",
    );
    assert_size_overflow(Csr::<f64, usize>::identity(m), "nrows + 1");
    let no_values: [f64; 0] = [];
    assert_size_overflow(
        Csr::<f64, usize>::try_from_dense_row_major(m, 0, &no_values),
        "nrows + 1",
    );
}

#[test]
fn assembly_with_a_huge_row_count_is_an_error_not_an_abort() {
    // 2^63 - 1 row pointers of 8 bytes overflow the address space: once a capacity-overflow
    // panic in the counting sort's counters.
    let n = i64::MAX as usize;
    let (rows, cols, vals) = ([1_i64, 0], [0_i64, 1], [1.0_f64, 2.0]);
    for dup in [Duplicates::Sum, Duplicates::Keep] {
        assert_size_overflow(
            Csr::try_from_coo(n, 2, &rows, &cols, &vals, dup),
            "row pointer array",
        );
    }
    let data = MatrixData::try_from_triplets(n, 2, rows.to_vec(), cols.to_vec(), vals.to_vec())
        .expect("valid triplets");
    assert_size_overflow(Csr::from_matrix_data(&data), "row pointer array");
}

#[test]
fn transposing_a_huge_column_count_is_an_error_with_try_transpose() {
    let n = i64::MAX as usize;
    let a =
        Csr::<f64, i64>::try_from_parts(1, n, vec![0, 2], vec![n as i64 - 1, 0], vec![1.0, 2.0])
            .expect("valid 1 x (2^63 - 1) matrix");
    assert_size_overflow(a.try_transpose(), "row pointer array");
    // A wide matrix whose transpose fits: the same entries, sorted by the new rows.
    let b = Csr::<f64, i64>::try_from_parts(
        1,
        1 << 20,
        vec![0, 2],
        vec![(1 << 20) - 1, 0],
        vec![1.0, 2.0],
    )
    .expect("valid");
    let t = b.try_transpose().expect("2^20 + 1 row pointers");
    assert_eq!(
        t.iter().collect::<Vec<_>>(),
        vec![(0, 0, 2.0), ((1 << 20) - 1, 0, 1.0)]
    );
}

/// A stable sort by many keys (a 4M-column transpose) gives the same result in pools of
/// 1, 2, 8 and 128 threads, whichever of the sort's paths the pool size picks.
#[test]
fn transpose_by_many_keys_is_the_same_on_any_pool() {
    let (nrows, ncols) = (3000_usize, 1 << 22);
    let mut rows = Vec::new();
    let mut cols = Vec::new();
    for r in 0..nrows {
        for k in 0..30 {
            rows.push(r as i64);
            // Local keys for the first rows, scattered ones after.
            let c = if r < nrows / 2 {
                r * 1000 + k
            } else {
                (r * 7919 + k * 104_729) % ncols
            };
            cols.push(c as i64);
        }
    }
    let vals: Vec<f64> = (0..rows.len()).map(|k| k as f64).collect();
    let a = Csr::try_from_coo(nrows, ncols, &rows, &cols, &vals, Duplicates::Keep).expect("valid");
    let expected = {
        let mut e: Vec<_> = a.iter().map(|(r, c, v)| (c, r, v)).collect();
        e.sort_by_key(|x| (x.0, x.1));
        e
    };
    for threads in [1, 2, 8, 128] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let t = pool.install(|| a.transpose());
        assert_eq!(t.shape(), (ncols, nrows));
        assert_eq!(t.iter().collect::<Vec<_>>(), expected, "{threads} threads");
    }
}

const COORD: &str = "%%MatrixMarket matrix coordinate real general\n";

#[track_caller]
fn assert_parse_error<X: std::fmt::Debug>(r: Result<X, Error>, at: usize, needle: &str) {
    match r {
        Err(Error::Parse { line, what, .. }) => {
            assert_eq!(line, at, "{what}");
            assert!(what.contains(needle), "{what:?} lacks {needle:?}");
        }
        other => panic!("expected a parse error at line {at}, got {other:?}"),
    }
}

#[test]
fn the_reader_builds_no_more_row_pointers_than_the_file_justifies() {
    // The reproducer: 2^31 - 1 rows, 2 entries out of row order.
    let text = format!("{COORD}2147483647 2 2\n2 1 1.0\n1 2 2.0\n");
    let opts = ReadOptions::default();
    assert_parse_error(
        mm::read_csr_from::<_, f64, i64>(text.as_bytes(), &opts),
        2,
        "2147483648 row pointers",
    );
    assert_parse_error(
        mm::read_csr_from::<_, f64, i32>(text.as_bytes(), &opts),
        2,
        "trust_shape",
    );
    // The triplets alone follow the file.
    let file = mm::read_matrix_data_from_bytes::<f64, i64>(text.as_bytes(), &opts).expect("valid");
    assert_eq!(file.data.len(), 2);
    // Just past the floor: refused by default, built when trusted.
    let n = SHAPE_ITEMS_FLOOR;
    let text = format!("{COORD}{n} 2 2\n{n} 1 1.0\n1 2 2.0\n");
    assert_parse_error(
        mm::read_csr_from::<_, f64, i32>(text.as_bytes(), &opts),
        2,
        "row pointers",
    );
    let a =
        mm::read_csr_from::<_, f64, i32>(text.as_bytes(), &opts.trust_shape()).expect("trusted");
    assert_eq!(a.shape(), (n, 2));
    assert_eq!(
        a.iter().collect::<Vec<_>>(),
        vec![(0, 1, 2.0), (n - 1, 0, 1.0)]
    );
}

#[test]
fn an_array_that_declares_more_values_than_it_holds_fails_before_allocating() {
    let text = "%%MatrixMarket matrix array real general\n2147483647 2\n1.0\n2.0\n";
    let opts = ReadOptions::default();
    let needle = "file ends after 2 of the 4294967294";
    assert_parse_error(
        mm::read_csr_from::<_, f64, i64>(text.as_bytes(), &opts),
        4,
        needle,
    );
    assert_parse_error(mm::read_dense_from::<_, f64>(text.as_bytes()), 4, needle);
    // A coordinate file read as dense needs nrows * ncols values: refused for a tiny file.
    let text = format!("{COORD}2147483647 2 1\n1 1 1.0\n");
    assert_parse_error(
        mm::read_dense_from::<_, f64>(text.as_bytes()),
        2,
        "dense values",
    );
    // 2^31 - 1 columns cost nothing: two rows.
    let text = format!("{COORD}2 2147483647 2\n2 2147483647 1.0\n1 1 2.0\n");
    let a = mm::read_csr_from::<_, f64, i32>(text.as_bytes(), &opts).expect("valid");
    assert_eq!(
        a.iter().collect::<Vec<_>>(),
        vec![(0, 0, 2.0), (1, 2147483646, 1.0)]
    );
}

/// A `B` of 2^45 columns: the native kernel's per-thread SpGEMM workspace (sized by
/// `ncols(B)`) is an error, not an abort; the reference kernel's memory follows nnz.
#[test]
fn spgemm_with_a_huge_column_count_follows_the_flops() {
    use csr::kernel::{Kernel, NativeKernel, ReferenceKernel, TopK};
    let n = 1_usize << 45;
    let a = Csr::<f64, i64>::try_from_parts(1, 1, vec![0, 1], vec![0], vec![2.0]).expect("valid");
    let b = Csr::<f64, i64>::try_from_parts(1, n, vec![0, 1], vec![n as i64 - 1], vec![3.0])
        .expect("valid");
    let native = NativeKernel;
    let (ha, hb) = (
        native.to_handle(a.view()).unwrap(),
        native.to_handle(b.view()).unwrap(),
    );
    // Rows accumulate by sorting their products: no 2^45-column workspace.
    let c = native
        .from_handle(&native.mult_ab(&ha, &hb).unwrap())
        .unwrap();
    assert_eq!(c.shape(), (1, n));
    assert_eq!(c.iter().collect::<Vec<_>>(), vec![(0, n - 1, 6.0)]);
    let top = native
        .from_handle(&native.mult_ab_topk(&ha, &hb, &TopK::new(3)).unwrap())
        .unwrap();
    assert_eq!(top, c);
    let reference = ReferenceKernel;
    let (ra, rb) = (
        reference.to_handle(a.view()).unwrap(),
        reference.to_handle(b.view()).unwrap(),
    );
    let c = reference
        .from_handle(&reference.mult_ab(&ra, &rb).unwrap())
        .unwrap();
    assert_eq!(c.iter().collect::<Vec<_>>(), vec![(0, n - 1, 6.0)]);
    // A·Bᵀ with B = A of 2^45 columns: the transpose's row pointers cannot be allocated.
    let w = b.clone();
    let hw = reference.to_handle(w.view()).unwrap();
    assert!(matches!(
        reference.mult_abt(&hw, &hw),
        Err(Error::OutOfMemory { .. } | Error::SizeOverflow { .. })
    ));
}
/// Formats whose row count is not backed by stored arrays (an ELL of width 0, a COO): their
/// CSR form's 2^46 + 1 row pointers are an error, not an abort.
#[test]
fn csr_forms_of_huge_empty_formats_are_errors_not_aborts() {
    use csr::Hybrid;
    let n = 1_usize << 46;
    let ell = Ell::<f64, i64>::try_from_parts(n, 2, 0, n, vec![], vec![]).expect("valid ELL");
    assert!(matches!(
        ell.to_csr(),
        Err(Error::OutOfMemory {
            what: "row length array",
            ..
        })
    ));
    let coo = Coo::<f64, i64>::try_from_parts(n, 2, vec![n as i64 - 1], vec![1], vec![1.0])
        .expect("valid COO");
    assert!(matches!(
        coo.try_to_csr(),
        Err(Error::OutOfMemory {
            what: "row pointer array",
            ..
        })
    ));
    let hybrid = Hybrid::try_from_parts(ell, coo).expect("valid hybrid");
    assert!(matches!(
        hybrid.to_csr(),
        Err(Error::OutOfMemory {
            what: "row pointer array",
            ..
        })
    ));
    // The same formats at a small row count convert.
    let coo = Coo::<f64, i64>::try_from_parts(3, 2, vec![0, 2], vec![1, 0], vec![1.0, 2.0])
        .expect("valid COO");
    let a = coo.try_to_csr().expect("small");
    assert_eq!(a.row_ptrs(), &[0, 1, 1, 2]);
}
