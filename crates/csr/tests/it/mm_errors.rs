//! Malformed Matrix Market text: each problem is an `Error::Parse` at the right line, and
//! random damage to valid files never panics.

use csr::io::mm::{self, ReadOptions};
use csr::{Complex, CsrPattern, Error};
use proptest::prelude::*;

fn err(text: &str) -> (usize, String) {
    match mm::read_matrix_data_from_bytes::<f64, i32>(text.as_bytes(), &ReadOptions::default()) {
        Err(Error::Parse {
            path: None,
            line,
            what,
        }) => (line, what),
        other => panic!("expected a parse error for {text:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_err(text: &str, line: usize, needle: &str) {
    let (l, what) = err(text);
    assert_eq!(l, line, "{what}");
    assert!(what.contains(needle), "{what:?} lacks {needle:?}");
}

const H: &str = "%%MatrixMarket matrix coordinate real general\n";

#[test]
fn header_problems_name_their_line() {
    assert_err("", 1, "banner");
    assert_err("hello\n", 1, "banner");
    assert_err(
        "\n\n%%MatrixMarket matrix coordinate real\n1 1 0\n",
        3,
        "symmetry",
    );
    assert_err(
        "%%MatrixMarket tensor coordinate real general\n",
        1,
        "unknown object",
    );
    assert_err(
        "%%MatrixMarket matrix sparse real general\n",
        1,
        "unknown format",
    );
    assert_err(
        "%%MatrixMarket matrix coordinate float general\n",
        1,
        "unknown field",
    );
    assert_err(
        "%%MatrixMarket matrix coordinate real upper\n",
        1,
        "unknown symmetry",
    );
    assert_err(
        "%%MatrixMarket vector coordinate real symmetric\n4 1\n",
        1,
        "vector",
    );
    assert_err(
        "%%MatrixMarket matrix array pattern general\n",
        1,
        "pattern",
    );
    assert_err(
        "%%MatrixMarket matrix coordinate pattern hermitian\n2 2 1\n2 1\n",
        1,
        "cannot be hermitian",
    );
    assert_err(
        "\n%%MatrixMarket matrix coordinate pattern skew-symmetric\n2 2 1\n2 1\n",
        2,
        "cannot be skew-symmetric",
    );
    assert_err(H, 2, "size line");
    assert_err(&format!("{H}% c\n\n3 -3 1\n"), 4, "negative");
    assert_err(&format!("{H}3 x 1\n"), 2, "non-negative integer");
    assert_err(&format!("{H}3 3\n"), 2, "entries");
    assert_err(&format!("{H}3 3 1 1\n"), 2, "unexpected");
    assert_err(
        "%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n",
        2,
        "square",
    );
}

#[test]
fn entry_problems_name_their_line() {
    assert_err(&format!("{H}3 3 2\n1 1 1\n0 1 1\n"), 4, "1-based");
    assert_err(&format!("{H}3 3 2\n1 1 1\n% c\n\n1 4 1\n"), 6, "exceeds");
    assert_err(&format!("{H}3 3 1\n1 1 abc\n"), 3, "expected a number");
    assert_err(&format!("{H}3 3 1\n1 1 1e310\n"), 3, "overflows f64");
    assert_err(&format!("{H}3 3 1\n1 1\n"), 3, "before the value");
    assert_err(&format!("{H}3 3 1\n1\n"), 3, "column index");
    assert_err(
        &format!("{H}3 3 2\n1 1 1\n2 2 2\n3 3 3\n"),
        5,
        "more entries",
    );
    assert_err(&format!("{H}3 3 3\n1 1 1\n2 2 2"), 4, "2 of the 3");
    assert_err(
        &format!("{H}3 3 1\n99999999999999999999999 1 1\n"),
        3,
        "64 bits",
    );
    assert_err(
        "%%MatrixMarket matrix coordinate integer general\n1 1 1\n1 1 19223372036854775808\n",
        3,
        "overflows 64 bits",
    );
    assert_err(
        "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n1 1 5\n",
        3,
        "skew-symmetric",
    );
    assert_err(
        "%%MatrixMarket matrix array real general\n2 1\n1\n2 3\n",
        4,
        "unexpected",
    );
    assert_err(
        "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n",
        5,
        "3 of the 4",
    );
}

#[test]
fn complex_into_real_and_narrow_indices_are_refused_at_the_header() {
    let short = "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1.0\n";
    let e = mm::read_csr_from::<_, Complex<f64>, i32>(short.as_bytes(), &ReadOptions::default());
    assert!(matches!(e, Err(Error::Parse { line: 3, .. })), "{e:?}");
    let complex = "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 2\n";
    assert_err(complex, 1, "complex");
    let ok = mm::read_csr_from::<_, Complex<f64>, i32>(complex.as_bytes(), &ReadOptions::default())
        .expect("complex into complex");
    assert_eq!(ok.values(), &[Complex::new(1.0, 2.0)]);
    let wide = format!("{H}3000000000 1 0\n");
    let e = mm::read_matrix_data_from_bytes::<f64, i32>(wide.as_bytes(), &ReadOptions::default())
        .expect_err("too wide");
    assert!(matches!(e, Error::Parse { line: 2, .. }), "{e}");
    let e = mm::read_matrix_data_from_bytes::<f64, i64>(wide.as_bytes(), &ReadOptions::default());
    assert!(e.is_ok());
}

#[test]
fn huge_declared_sizes_are_not_allocated() {
    // 2^60 entries declared, three present: an error, not an abort.
    let text = format!("{H}10 10 1152921504606846976\n1 1 1\n2 2 2\n");
    assert_err(&text, 4, "2 of the 1152921504606846976");
    // 2^62 rows: the CSR row pointers cannot exist; the reader says so.
    let text = format!("{H}4611686018427387904 1 1\n1 1 1\n");
    let e = mm::read_csr_from::<_, f64, i64>(text.as_bytes(), &ReadOptions::default())
        .expect_err("row pointers");
    assert!(matches!(e, Error::Parse { line: 2, .. }), "{e}");
    let text = "%%MatrixMarket matrix array real general\n4294967296 4294967296\n1\n";
    let e = mm::read_dense_from::<_, f64>(text.as_bytes()).expect_err("dense");
    assert!(matches!(e, Error::Parse { line: 2, .. }), "{e}");
}

/// `read_header` reads a file's first bytes only, more when comments run past them: the
/// header and its errors are those of a whole-file read, plain or gzipped, with the size
/// line at or across every offset near the first read's end (64 KiB).
#[test]
fn headers_read_from_a_prefix_match_whole_file_reads() {
    use std::io::Write;
    let tmp = std::env::temp_dir().join(format!("csr-mm-header-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let whole_file = |text: &str| {
        mm::read_matrix_data_from_bytes::<f64, i32>(text.as_bytes(), &ReadOptions::default())
            .map(|f| f.header)
    };
    let mut checked = 0;
    // A bad banner is reported from the first read; the others need the comments read.
    let bad_banner = "%%MatrixMarket matrix coordinate real upper\n";
    let cases = ["3 4 1\n", "3 4 1", "3 4 1x\n", "3 44444 1\r\n"]
        .map(|size_line| (H, size_line))
        .into_iter()
        .chain([(bad_banner, "3 4 1\n")]);
    for (banner, size_line) in cases {
        for pad in (65_500..65_560).step_by(3).chain([150_000]) {
            let comment = format!("%{}\n", "c".repeat(pad - banner.len() - 2));
            let text = format!("{banner}{comment}{size_line}1 1 1.0\n");
            for gz in [false, true] {
                let path = tmp.join(if gz { "h.mtx.gz" } else { "h.mtx" });
                let bytes = if gz {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(text.as_bytes()).expect("gzip");
                    e.finish().expect("gzip")
                } else {
                    text.clone().into_bytes()
                };
                std::fs::write(&path, bytes).expect("write");
                let got = mm::read_header(&path);
                match (got, whole_file(&text)) {
                    (Ok(h), Ok(want)) => assert_eq!(h, want),
                    (
                        Err(Error::Parse { line, what, .. }),
                        Err(Error::Parse {
                            line: l, what: w, ..
                        }),
                    ) => {
                        assert_eq!((line, &what), (l, &w));
                    }
                    (got, want) => panic!("{size_line:?} pad {pad}: {got:?} against {want:?}"),
                }
                checked += 1;
            }
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    assert_eq!(checked, 5 * 21 * 2);
}

#[test]
fn permissive_forms_read() {
    let text = "  \n %MatrixMarket MATRIX Coordinate REAL General\r\n% c\r\n\r\n 2  2   2 \r\n  1 1   1.5  \r\n% mid\r\n\r\n2\t2\t-2\r\n";
    let a = mm::read_csr_from::<_, f64, i32>(text.as_bytes(), &ReadOptions::default())
        .expect("permissive");
    assert_eq!(a.values(), &[1.5, -2.0]);
    let cr = "%%MatrixMarket matrix coordinate real general\r2 2 1\r2 1 7\r";
    let b =
        mm::read_csr_from::<_, f64, i32>(cr.as_bytes(), &ReadOptions::default()).expect("CR only");
    assert_eq!(b.iter().collect::<Vec<_>>(), vec![(1, 0, 7.0)]);
}

#[test]
fn integer_and_pattern_files_read_into_real_and_pattern_types() {
    let int = "%%MatrixMarket matrix coordinate integer general\n2 2 1\n2 1 -7\n";
    let a = mm::read_csr_from::<_, f32, i32>(int.as_bytes(), &ReadOptions::default()).expect("int");
    assert_eq!(a.values(), &[-7.0]);
    let pat = "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 3\n";
    let b =
        mm::read_csr_from::<_, f64, i32>(pat.as_bytes(), &ReadOptions::default()).expect("pattern");
    assert_eq!(
        b.iter().collect::<Vec<_>>(),
        vec![(0, 1, 1.0), (1, 0, 1.0), (2, 2, 1.0)]
    );
    let kept = mm::read_matrix_data_from_bytes::<f64, i32>(
        pat.as_bytes(),
        &ReadOptions::default().keep_symmetry(),
    )
    .expect("kept");
    assert_eq!(kept.data.len(), 2);
    assert_eq!(kept.symmetry, csr::Symmetry::Symmetric);
    let tmp = std::env::temp_dir().join(format!("csr-mm-pat-{}.mtx", std::process::id()));
    std::fs::write(&tmp, pat).expect("write");
    let p: CsrPattern<u32> = mm::read_pattern(&tmp).expect("pattern");
    assert_eq!(p.col_idxs(), &[1, 0, 2]);
    let e = mm::read_csr::<f64, i32>(tmp.with_extension("missing")).expect_err("missing file");
    assert!(matches!(
        e,
        Error::Io {
            kind: std::io::ErrorKind::NotFound,
            ..
        }
    ));
    std::fs::remove_file(&tmp).ok();
}

#[test]
fn vectors_read_as_one_column() {
    let v = "%%MatrixMarket vector coordinate real general\n4 2\n2 1.5\n4 -1\n";
    let a =
        mm::read_csr_from::<_, f64, i32>(v.as_bytes(), &ReadOptions::default()).expect("vector");
    assert_eq!(a.shape(), (4, 1));
    assert_eq!(
        a.iter().collect::<Vec<_>>(),
        vec![(1, 0, 1.5), (3, 0, -1.0)]
    );
    let d = mm::read_dense_from::<_, f64>(
        "%%MatrixMarket vector array real general\n3\n1\n2\n3\n".as_bytes(),
    )
    .expect("array vector");
    assert_eq!(d.to_row_major_vec(), vec![1.0, 2.0, 3.0]);
}

const VALID: &[&str] = &[
    "%%MatrixMarket matrix coordinate real general\n% c\n3 3 3\n1 1 1.5\n2 3 -2e-3\n3 1 4\n",
    "%%MatrixMarket matrix coordinate complex hermitian\n2 2 2\n1 1 1 0\n2 1 2 -3\n",
    "%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n",
    "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 1\n2 1\n",
    "%%MatrixMarket vector array integer general\n2\n7\n-8\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn damaged_files_never_panic(
        which in 0..VALID.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3_u8), 1..6),
    ) {
        let mut bytes = VALID[which].as_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        let opts = ReadOptions::default();
        if let Err(e) = mm::read_matrix_data_from_bytes::<Complex<f64>, i32>(&bytes, &opts) {
            prop_assert!(matches!(e, Error::Parse { line, .. } if line >= 1), "{e:?}");
        }
        let _ = mm::read_csr_from::<_, f32, i64>(&bytes[..], &opts.keep_symmetry());
        let _ = mm::read_dense_from::<_, f64>(&bytes[..]);
    }
}
