//! Fuzz target: the Matrix Market reader on arbitrary bytes must return a value or an
//! `Error::Parse` with a 1-based line, never panic; what it accepts must round-trip through
//! the writer.
//!
//! Run: `cargo fuzz run -s none mm_read -- -max_total_time=60 -dict=mm_read.dict
//! -rss_limit_mb=512 -malloc_limit_mb=256`.

#![no_main]

use csr::io::mm::{self, ReadOptions, WriteOptions};
use csr::{Complex, Duplicates, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keep = ReadOptions::default().keep_symmetry();
    match mm::read_matrix_data_from_bytes::<Complex<f64>, i64>(data, &keep) {
        Ok(file) => assert_eq!(file.data.len(), file.header.entries),
        Err(Error::Parse { line, .. }) => {
            assert!(line >= 1);
            return;
        }
        Err(e) => panic!("unexpected error kind: {e:?}"),
    };
    // Whatever the header declares, the readers' memory follows the file's size (up to
    // `mm::SHAPE_ITEMS_FLOOR` row pointers or dense values): run under
    // `-malloc_limit_mb=256 -rss_limit_mb=512`, an allocation driven by the header crashes.
    let opts = ReadOptions::default().duplicates(Duplicates::Keep);
    if let Ok(a) = mm::read_csr_from::<_, f64, i64>(data, &opts) {
        let mut text = Vec::new();
        mm::write_csr_to(&mut text, &a, &WriteOptions::default()).expect("write to memory");
        let b = mm::read_csr_from::<_, f64, i64>(&text[..], &opts).expect("own output reads");
        let bits =
            |m: &csr::Csr<f64, i64>| m.values().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            (a.shape(), a.row_ptrs(), a.col_idxs()),
            (b.shape(), b.row_ptrs(), b.col_idxs())
        );
        // NaN payloads are not kept; every other value is bit-exact.
        if a.values().iter().all(|x| !x.is_nan()) {
            assert_eq!(bits(&a), bits(&b));
        }
    }
    let _ = mm::read_dense_from::<_, f32>(data);
    let _ = mm::read_csr_from::<_, Complex<f32>, u32>(data, &ReadOptions::default());
});
