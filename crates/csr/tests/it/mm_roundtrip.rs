//! Matrix Market write → read round trips are exact, bit for bit.

use csr::io::mm::{self, Format, ReadOptions, WriteOptions};
use csr::{Complex, Csr, Dense, Duplicates, Error, Symmetry};
use csr_testkit::{TestIndex, TestScalar, arb_csr, assert_bit_identical, test_all_types};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::mm_support::{data_dir, walk};

fn keep() -> ReadOptions {
    ReadOptions::default().duplicates(Duplicates::Keep)
}

fn roundtrip<T: csr::Scalar, I: csr::Index>(a: &Csr<T, I>, options: &WriteOptions) -> Csr<T, I> {
    let mut text = Vec::new();
    mm::write_csr_to(&mut text, a, options).expect("write");
    mm::read_csr_from(&text[..], &keep()).unwrap_or_else(|e| {
        panic!("{e}\n{}", String::from_utf8_lossy(&text));
    })
}

fn random_matrices_round_trip<T: TestScalar, I: TestIndex>() {
    let mut runner = TestRunner::new(Config::with_cases(64));
    runner
        .run(&arb_csr::<T, I>(12, 12, 40), |a| {
            assert_bit_identical(&roundtrip(&a, &WriteOptions::default()), &a);
            Ok(())
        })
        .expect("round trip");
}
test_all_types!(random_matrices_round_trip);

/// Any non-NaN f64 (subnormals, infinities, signed zeros, extremes).
fn any_f64() -> impl Strategy<Value = f64> {
    prop::num::f64::ANY.prop_filter("NaN payloads are not kept", |x| !x.is_nan())
}

proptest! {
    #[test]
    fn every_f64_bit_pattern_round_trips(values in prop::collection::vec(any_f64(), 0..64)) {
        let n = values.len();
        let a = Csr::<f64, i32>::try_from_parts(1, n, vec![0, n as i32], (0..n as i32).collect(), values)
            .expect("valid");
        let b = roundtrip(&a, &WriteOptions::default());
        let bits = |m: &Csr<f64, i32>| m.values().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&b), bits(&a));
    }

    #[test]
    fn every_f32_bit_pattern_round_trips(values in prop::collection::vec(
        prop::num::f32::ANY.prop_filter("not NaN", |x| !x.is_nan()), 0..64)) {
        let n = values.len();
        let a = Csr::<f32, i64>::try_from_parts(n, 1, (0..=n as i64).collect(), vec![0; n], values)
            .expect("valid");
        let b = roundtrip(&a, &WriteOptions::default());
        let bits = |m: &Csr<f32, i64>| m.values().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&b), bits(&a));
    }

    #[test]
    fn symmetric_output_reads_back_to_the_same_matrix(
        a in arb_csr::<f64, i32>(10, 10, 30).prop_filter("square", |a| a.nrows() == a.ncols())
    ) {
        let mut s = a.clone();
        s.sum_duplicates();
        let t = s.transpose();
        let (rows, cols, vals): (Vec<i32>, Vec<i32>, Vec<f64>) = {
            let mut r = s.row_indices();
            let mut c = s.col_idxs().to_vec();
            let mut v = s.values().to_vec();
            r.extend(t.row_indices());
            c.extend(t.col_idxs());
            v.extend(t.values());
            (r, c, v)
        };
        let sym = Csr::try_from_coo(s.nrows(), s.ncols(), &rows, &cols, &vals, Duplicates::Sum)
            .expect("valid");
        let options = WriteOptions::default().symmetry(Symmetry::Symmetric);
        let mut text = Vec::new();
        mm::write_csr_to(&mut text, &sym, &options).expect("a + a^T is symmetric");
        let back = mm::read_csr_from::<_, f64, i32>(&text[..], &ReadOptions::default()).expect("read");
        prop_assert_eq!(back, sym);
    }
}

#[test]
fn non_symmetric_matrix_is_refused_for_symmetric_output() {
    let a =
        Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 1], vec![1], vec![3.0]).expect("valid");
    let err = mm::write_csr_to(
        Vec::new(),
        &a,
        &WriteOptions::default().symmetry(Symmetry::Symmetric),
    )
    .expect_err("not symmetric");
    assert!(
        matches!(err, Error::NotSymmetric { row: 0, col: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn dense_round_trips_as_array() {
    let values: Vec<Complex<f64>> = (0..12)
        .map(|k| Complex::new(k as f64 / 7.0, -(k as f64)))
        .collect();
    let d = Dense::try_from_row_major(3, 4, values).expect("dense");
    let mut text = Vec::new();
    mm::write_dense_to(
        &mut text,
        &d,
        &WriteOptions::default().format(Format::Array),
    )
    .expect("write");
    assert!(
        String::from_utf8_lossy(&text)
            .starts_with("%%MatrixMarket matrix array complex general\n% written by csr")
    );
    assert_eq!(
        mm::read_dense_from::<_, Complex<f64>>(&text[..]).expect("read"),
        d
    );
}

#[test]
fn sparse_written_as_array_reads_back_dense() {
    let a =
        Csr::<f64, i32>::try_from_parts(2, 3, vec![0, 2, 3], vec![0, 2, 1], vec![1.5, -2.0, 3.0])
            .expect("valid");
    let mut text = Vec::new();
    mm::write_csr_to(
        &mut text,
        &a,
        &WriteOptions::default().format(Format::Array),
    )
    .expect("write");
    let d = mm::read_dense_from::<_, f64>(&text[..]).expect("read");
    assert_eq!(d.to_row_major_vec(), vec![1.5, 0.0, -2.0, 0.0, 3.0, 0.0]);
}

fn file_round_trip<T: TestScalar>(path: &std::path::Path, out: &std::path::Path, sym: Symmetry) {
    let a = mm::read_csr_with::<T, i64>(path, &keep()).unwrap_or_else(|e| panic!("{e}"));
    mm::write_csr(out, &a, &WriteOptions::default()).expect("write");
    let b = mm::read_csr_with::<T, i64>(out, &keep()).expect("read back");
    assert_bit_identical(&b, &a);
    // Symmetric files also round trip through symmetric output.
    if sym != Symmetry::General {
        let s = mm::read_csr::<T, i64>(path).expect("expanded");
        mm::write_csr(out, &s, &WriteOptions::default().symmetry(sym)).expect("symmetric write");
        assert_eq!(
            mm::read_csr::<T, i64>(out).expect("read back"),
            s,
            "{}",
            path.display()
        );
    }
}

#[test]
fn every_real_matrix_round_trips_exactly_through_files() {
    let Some(dir) = data_dir("every_real_matrix_round_trips_exactly_through_files") else {
        return;
    };
    let tmp = std::env::temp_dir().join(format!("csr-mm-rt-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut n = 0;
    for path in walk(&dir.join("matrices/real")) {
        let out = tmp.join(if n % 8 == 0 { "m.mtx.gz" } else { "m.mtx" });
        let header = mm::read_header(&path).expect("header");
        if header.field == mm::Field::Complex {
            file_round_trip::<Complex<f64>>(&path, &out, header.symmetry);
        } else {
            file_round_trip::<f64>(&path, &out, header.symmetry);
        }
        n += 1;
    }
    std::fs::remove_dir_all(&tmp).ok();
    assert!(n >= 50, "only {n} real matrices");
}

#[test]
fn failed_write_leaves_the_old_file_and_no_temporary() {
    let tmp = std::env::temp_dir().join(format!("csr-mm-atomic-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let out = tmp.join("a.mtx");
    let a = Csr::<f64, i32>::identity(3).expect("identity");
    mm::write_csr(&out, &a, &WriteOptions::default()).expect("write");
    let before = std::fs::read(&out).expect("read");
    let b =
        Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 1], vec![1], vec![3.0]).expect("valid");
    let err = mm::write_csr(
        &out,
        &b,
        &WriteOptions::default().symmetry(Symmetry::Symmetric),
    );
    assert!(matches!(err, Err(Error::NotSymmetric { .. })));
    assert_eq!(std::fs::read(&out).expect("read"), before);
    let names: Vec<_> = std::fs::read_dir(&tmp)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let missing = tmp.join("no/such/dir/a.mtx");
    assert!(matches!(
        mm::write_csr(&missing, &a, &WriteOptions::default()),
        Err(Error::Io { .. })
    ));
    std::fs::remove_dir_all(&tmp).ok();
}

/// A write to a device (`/dev/null`) goes into the device: a rename over it would replace
/// `/dev/null` with a regular file, which then collects every process's discarded output.
#[test]
fn write_to_a_device_keeps_the_device() {
    use std::os::unix::fs::FileTypeExt;
    let null = std::path::Path::new("/dev/null");
    let is_device = |p: &std::path::Path| {
        std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device())
    };
    if !is_device(null) {
        eprintln!("skipped: /dev/null is not a character device on this machine");
        return;
    }
    let a = Csr::<f64, i32>::identity(3).expect("identity");
    mm::write_csr(null, &a, &WriteOptions::default()).expect("write to /dev/null");
    let synced = WriteOptions {
        sync: true,
        ..WriteOptions::default()
    };
    mm::write_csr(null, &a, &synced).expect("a synced write to /dev/null");
    let d = Dense::<f64>::zeros(2, 2).expect("zeros");
    mm::write_dense(null, &d, &WriteOptions::default()).expect("write to /dev/null");
    assert!(is_device(null), "/dev/null was replaced by a regular file");
}

/// A write through a symbolic link replaces the file it points to and keeps the link.
#[test]
fn write_through_a_symlink_keeps_the_link() {
    let tmp = std::env::temp_dir().join(format!("csr-mm-link-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let (target, link) = (tmp.join("target.mtx"), tmp.join("link.mtx"));
    std::fs::write(&target, "old").expect("write");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let a = Csr::<f64, i32>::identity(3).expect("identity");
    mm::write_csr(&link, &a, &WriteOptions::default()).expect("write through the link");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    let back: Csr<f64, i32> = mm::read_csr(&target).expect("read the target");
    assert_eq!(back, a);
    std::fs::remove_dir_all(&tmp).ok();
}

fn written(a: &Csr<f64, i32>, options: &WriteOptions) -> Result<String, Error> {
    let mut text = Vec::new();
    mm::write_csr_to(&mut text, a, options)?;
    Ok(String::from_utf8(text).expect("ASCII"))
}

#[test]
fn integer_field_writes_integers_and_reads_back() {
    let a = Csr::<f64, i32>::try_from_parts(
        2,
        3,
        vec![0, 2, 3],
        vec![0, 2, 1],
        vec![-42.0, 9.007_199_254_740_992e15, 0.0],
    )
    .expect("valid");
    let options = WriteOptions::default().field(mm::Field::Integer);
    let text = written(&a, &options).expect("whole numbers");
    assert!(
        text.starts_with("%%MatrixMarket matrix coordinate integer general\n"),
        "{text}"
    );
    assert!(
        text.contains("1 1 -42\n") && text.contains("1 3 9007199254740992\n"),
        "{text}"
    );
    let back = mm::read_csr_from::<_, f64, i32>(text.as_bytes(), &keep()).expect("read");
    assert_eq!(back, a);
    let array = written(&a, &options.clone().format(Format::Array)).expect("array");
    assert!(
        array.starts_with("%%MatrixMarket matrix array integer general\n"),
        "{array}"
    );
    let dense = mm::read_dense_from::<_, f64>(array.as_bytes()).expect("read");
    assert_eq!(dense.row(0), &[-42.0, 0.0, 9.007_199_254_740_992e15]);

    for (bad, why) in [(0.5, "whole"), (f64::INFINITY, "whole"), (1e19, "64 bits")] {
        let b =
            Csr::<f64, i32>::try_from_parts(1, 2, vec![0, 1], vec![1], vec![bad]).expect("valid");
        match written(&b, &options) {
            Err(e @ Error::ValueNotInField { row: 0, col: 1, .. }) => {
                assert!(e.to_string().contains(why), "{e}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let c = Csr::<Complex<f64>, i32>::try_from_parts(
        1,
        1,
        vec![0, 1],
        vec![0],
        vec![Complex::new(1.0, 1.0)],
    )
    .expect("valid");
    let err = mm::write_csr_to(Vec::new(), &c, &options).expect_err("imaginary part");
    assert!(err.to_string().contains("imaginary"), "{err}");
}

#[test]
fn pattern_field_writes_the_structure() {
    let a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![1, 0], vec![3.0, 3.0])
        .expect("valid");
    let options = WriteOptions::default().field(mm::Field::Pattern);
    let text = written(&a, &options).expect("pattern");
    assert!(
        text.starts_with("%%MatrixMarket matrix coordinate pattern general\n"),
        "{text}"
    );
    assert!(text.ends_with("2 2 2\n1 2\n2 1\n"), "{text}");
    let sym = written(&a, &options.clone().symmetry(Symmetry::Symmetric)).expect("symmetric");
    assert!(sym.ends_with("2 2 1\n2 1\n"), "{sym}");
    for symmetry in [Symmetry::SkewSymmetric, Symmetry::Hermitian] {
        let err = written(&a, &options.clone().symmetry(symmetry)).expect_err("invalid");
        assert!(
            matches!(
                err,
                Error::InvalidMmHeader {
                    field: "pattern",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(symmetry.name()), "{err}");
        let err = mm::write_pattern_to(
            Vec::new(),
            &a.to_pattern(),
            &WriteOptions::default().symmetry(symmetry),
        )
        .expect_err("invalid");
        assert!(matches!(err, Error::InvalidMmHeader { .. }), "{err:?}");
    }
}
