//! Read access: shape, rows, row lengths, iteration, views, parts, patterns, dense
//! conversion and `RowStats`.

use csr::{Complex, Csr, CsrPattern, CsrRef, Dense, RowStats};

fn sample() -> Csr<f64, i32> {
    // [[0, 1, 0, 2],
    //  [0, 0, 0, 0],
    //  [3, 0, 4, 0]]   stored unsorted in row 2
    Csr::try_from_parts(
        3,
        4,
        vec![0, 2, 2, 4],
        vec![1, 3, 2, 0],
        vec![1.0, 2.0, 4.0, 3.0],
    )
    .unwrap()
}

#[test]
fn sizes_and_arrays() {
    let a = sample();
    assert_eq!(
        (a.nrows(), a.ncols(), a.shape(), a.nnz()),
        (3, 4, (3, 4), 4)
    );
    assert_eq!(a.row_ptrs(), &[0, 2, 2, 4]);
    assert_eq!(a.col_idxs(), &[1, 3, 2, 0]);
    assert_eq!(a.values(), &[1.0, 2.0, 4.0, 3.0]);
    let v = a.view();
    assert_eq!(
        (v.nrows(), v.ncols(), v.shape(), v.nnz()),
        (3, 4, (3, 4), 4)
    );
    assert_eq!(
        (v.row_ptrs(), v.col_idxs(), v.values()),
        (a.row_ptrs(), a.col_idxs(), a.values())
    );
}

#[test]
fn rows_in_storage_order() {
    let a = sample();
    assert_eq!(a.row(0), (&[1, 3][..], &[1.0, 2.0][..]));
    assert_eq!(a.row(1), (&[][..], &[][..]));
    assert_eq!(a.row(2), (&[2, 0][..], &[4.0, 3.0][..]));
    assert_eq!(a.get_row(2), Some(a.row(2)));
    assert_eq!(a.get_row(3), None);
    assert_eq!(a.get_row(usize::MAX), None);
    let v = a.view();
    assert_eq!(v.row(2), a.row(2));
    assert_eq!(v.get_row(3), None);
    assert_eq!(v.row_range(0), 0..2);
    assert_eq!(v.row_range(1), 2..2);
    assert_eq!(v.row_range(2), 2..4);
}

#[test]
#[should_panic(expected = "row 3 out of bounds (3 rows)")]
fn row_out_of_range_panics_with_a_message() {
    let _ = sample().row(3);
}

#[test]
#[should_panic(expected = "row 5 out of bounds (3 rows)")]
fn view_row_out_of_range_panics_with_a_message() {
    let a = sample();
    let _ = a.view().row(5);
}

#[test]
fn row_lengths_and_iteration() {
    let a = sample();
    assert_eq!(a.row_lengths().collect::<Vec<_>>(), vec![2, 0, 2]);
    assert_eq!(a.view().row_lengths().collect::<Vec<_>>(), vec![2, 0, 2]);
    let expected = vec![(0, 1, 1.0), (0, 3, 2.0), (2, 2, 4.0), (2, 0, 3.0)];
    assert_eq!(a.iter().collect::<Vec<_>>(), expected);
    assert_eq!(a.view().iter().collect::<Vec<_>>(), expected);
}

#[test]
fn views_borrow_foreign_arrays() {
    let (ptrs, cols, values) = (
        vec![0_i64, 1, 3],
        vec![2_i64, 0, 1],
        vec![5.0_f32, 6.0, 7.0],
    );
    let v = CsrRef::try_from_parts(2, 3, &ptrs, &cols, &values).unwrap();
    // Zero copy: the view's slices are the caller's arrays.
    assert!(std::ptr::eq(v.row_ptrs(), &ptrs[..]));
    assert!(std::ptr::eq(v.col_idxs(), &cols[..]));
    assert!(std::ptr::eq(v.values(), &values[..]));
    let owned = v.to_csr();
    assert_eq!(owned.view(), v);
    assert_eq!(
        owned.into_parts(),
        (2, 3, ptrs.clone(), cols.clone(), values.clone())
    );
}

#[test]
fn values_mut_changes_values_only() {
    let mut a = sample();
    for v in a.values_mut() {
        *v *= 10.0;
    }
    assert_eq!(a.values(), &[10.0, 20.0, 40.0, 30.0]);
    assert_eq!(a.col_idxs(), &[1, 3, 2, 0]);
}

#[test]
fn patterns_and_values() {
    let a = sample();
    let p = a.to_pattern();
    assert_eq!((p.row_ptrs(), p.col_idxs()), (a.row_ptrs(), a.col_idxs()));
    assert_eq!(p.values().len(), 4);
    assert_eq!(
        p.iter().map(|(r, c, ())| (r, c)).collect::<Vec<_>>(),
        vec![(0, 1), (0, 3), (2, 2), (2, 0)]
    );
    let ones = p.to_valued::<Complex<f64>>();
    assert!(ones.values().iter().all(|&v| v == Complex::new(1.0, 0.0)));
    let back = p.with_values(a.values().to_vec()).unwrap();
    assert_eq!(back, a);
    let q = CsrPattern::<u32>::try_from_parts(1, 1, vec![0, 1], vec![0], vec![()]).unwrap();
    assert_eq!(q.row(0), (&[0_u32][..], &[()][..]));
}

#[test]
fn dense_conversion_sums_duplicates() {
    let a =
        Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 3, 3], vec![1, 1, 0], vec![1.0, 2.0, 5.0])
            .unwrap();
    let d = a.to_dense().unwrap();
    assert_eq!(d.to_row_major_vec(), vec![5.0, 3.0, 0.0, 0.0]);
    assert_eq!(a.view().to_dense().unwrap(), d);
    assert_eq!(
        (d.get(0, 1), d.get(2, 0), d.get(0, 2)),
        (Some(3.0), None, None)
    );
    let back = Csr::<f64, i32>::from_dense(&d).unwrap();
    assert_eq!(
        back.iter().collect::<Vec<_>>(),
        vec![(0, 0, 5.0), (0, 1, 3.0)]
    );
    let mut m = Dense::<f32>::zeros(2, 3).unwrap();
    m.row_mut(1)[2] = 4.0;
    assert_eq!(m.row(1), &[0.0, 0.0, 4.0]);
    assert_eq!(
        Csr::<f32, i64>::from_dense(&m)
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        vec![(1, 2, 4.0)]
    );
}

#[test]
#[should_panic(expected = "row 2 out of bounds (2 rows)")]
fn dense_row_out_of_range_panics_with_a_message() {
    let d = Dense::<f64>::zeros(2, 2).unwrap();
    let _ = d.row(2);
}

#[test]
fn row_stats() {
    let s = RowStats::of(sample().view());
    assert_eq!(
        s,
        RowStats {
            nrows: 3,
            nnz: 4,
            min: 0,
            max: 2,
            mean: 4.0 / 3.0,
            empty_rows: 1
        }
    );
    let full = RowStats::of(Csr::<f32, u32>::identity(4).unwrap().view());
    assert_eq!(
        (full.min, full.max, full.mean, full.empty_rows),
        (1, 1, 1.0, 0)
    );
    let none = RowStats::of(Csr::<f64, i32>::empty(0, 9).unwrap().view());
    assert_eq!(
        (
            none.nrows,
            none.nnz,
            none.min,
            none.max,
            none.mean,
            none.empty_rows
        ),
        (0, 0, 0, 0, 0.0, 0)
    );
    let pattern = RowStats::of(sample().to_pattern().view());
    assert_eq!(pattern, s);
}
