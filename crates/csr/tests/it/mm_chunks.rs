//! Files large enough to be parsed in parallel chunks: comment and blank lines between
//! entries, every line-end style, unsorted and repeated entries, and errors in late chunks
//! read exactly like the plain text does (checked against a line-by-line oracle), whatever
//! the thread count.

use csr::io::mm::{self, PARALLEL_MIN_BYTES, ReadOptions};
use csr::{Csr, Duplicates, Error};

const H: &str = "%%MatrixMarket matrix coordinate real general\n";

/// Entries of the test files: about 1.2 MB of text, more than one chunk.
const N: usize = 40_000;

/// `n` entries of a 5000 x 5000 matrix, row by row, values with many digits.
fn entries(n: usize) -> Vec<(usize, usize, f64)> {
    (0..n)
        .map(|k| {
            let r = k * 5000 / n;
            let c = (k * 7919) % 5000;
            #[allow(clippy::cast_precision_loss)]
            let v = (k as f64 + 0.5).sqrt() * if k % 3 == 0 { -1e-3 } else { 7.25 };
            (r, c, v)
        })
        .collect()
}

/// The file's text: `decorate` may add text before each entry line (by entry number).
fn text(entries: &[(usize, usize, f64)], eol: &str, decorate: impl Fn(usize) -> String) -> String {
    let mut s = format!("{H}5000 5000 {}{eol}", entries.len());
    for (k, &(r, c, v)) in entries.iter().enumerate() {
        s.push_str(&decorate(k));
        s.push_str(&format!("{} {} {v:e}{eol}", r + 1, c + 1));
    }
    s
}

/// The oracle: the entries as a CSR matrix, built entry by entry.
fn oracle(entries: &[(usize, usize, f64)], duplicates: Duplicates) -> Csr<f64, i32> {
    let mut d = csr::MatrixData::<f64, i32>::new(5000, 5000).expect("fits");
    for &(r, c, v) in entries {
        d.push(r, c, v).expect("inside");
    }
    Csr::from_matrix_data_with(&d, duplicates).expect("valid")
}

fn read(text: &str, duplicates: Duplicates) -> Result<Csr<f64, i32>, Error> {
    mm::read_csr_from(
        text.as_bytes(),
        &ReadOptions::default().duplicates(duplicates),
    )
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

#[test]
fn decorated_multi_chunk_files_read_like_plain_ones() {
    let e = entries(N);
    let plain = text(&e, "\n", |_| String::new());
    assert!(plain.len() > PARALLEL_MIN_BYTES, "{}", plain.len());
    let want = oracle(&e, Duplicates::Keep);
    let decorations: [(&str, &dyn Fn(usize) -> String); 5] = [
        ("plain", &|_| String::new()),
        ("comments", &|k| {
            if k % 7 == 0 {
                "% a comment\n".into()
            } else {
                String::new()
            }
        }),
        ("blank lines", &|k| {
            if k % 5 == 0 {
                "\n  \n".into()
            } else {
                String::new()
            }
        }),
        ("indented", &|k| " ".repeat(k % 3)),
        ("comment block", &|k| {
            if k == N / 2 {
                "%\n".repeat(50_000)
            } else {
                String::new()
            }
        }),
    ];
    for threads in [1, 3] {
        for eol in ["\n", "\r\n", "\r"] {
            for (name, decorate) in &decorations {
                let t = text(&e, eol, decorate);
                let got = in_pool(threads, || read(&t, Duplicates::Keep))
                    .unwrap_or_else(|err| panic!("{name}, {eol:?}, {threads} threads: {err}"));
                assert_eq!(got, want, "{name}, {eol:?}, {threads} threads");
            }
        }
    }
}

#[test]
fn unsorted_and_repeated_entries_across_chunks_are_summed() {
    // Each entry three times in a row (wherever a chunk ends, repeats straddle it), then the
    // whole list again in reverse: nothing is in order any more.
    let base = entries(N / 3);
    let tripled: Vec<_> = base.iter().flat_map(|&e| [e, e, e]).collect();
    let reversed: Vec<_> = tripled.iter().rev().copied().collect();
    for e in [tripled, reversed] {
        let t = text(&e, "\n", |_| String::new());
        assert!(t.len() > PARALLEL_MIN_BYTES);
        for duplicates in [Duplicates::Sum, Duplicates::Keep] {
            let want = oracle(&e, duplicates);
            for threads in [1, 2, 4] {
                let got = in_pool(threads, || read(&t, duplicates)).expect("valid");
                assert_eq!(got, want, "{duplicates:?}, {threads} threads");
            }
        }
    }
}

fn parse_error(text: &str, threads: usize) -> (usize, String) {
    match in_pool(threads, || read(text, Duplicates::Sum)) {
        Err(Error::Parse { line, what, .. }) => (line, what),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn errors_in_late_chunks_name_their_line() {
    let e = entries(N);
    // Banner on line 1, size line on 2, then entry k after the comment lines before it.
    for every in [10, usize::MAX] {
        let comments = |k: usize| {
            if k.is_multiple_of(every) {
                "% c\n".to_string()
            } else {
                String::new()
            }
        };
        let line_of = |k: usize| k + 3 + k / every + 1;
        let with_count =
            |n: usize| text(&e, "\n", comments).replacen(&format!(" {N}\n"), &format!(" {n}\n"), 1);
        for threads in [1, 2, 3] {
            // A bad entry line inserted before the first entry of row 5000.
            let mut t = text(&e, "\n", comments);
            let data = t.find(&format!(" {N}\n")).expect("size line") + 7;
            let at = data + t[data..].find("\n5000 ").expect("row 5000") + 1;
            let k = t[..at].lines().filter(|l| !l.starts_with('%')).count() - 1;
            t.insert_str(at, "54321 1 0.5\n");
            let (line, what) = parse_error(&t, threads);
            assert_eq!(line, line_of(k), "{what}");
            assert!(what.contains("exceeds"), "{what}");

            // One entry more than declared: the error is at the first extra entry.
            let (line, what) = parse_error(&with_count(N - 1), threads);
            assert_eq!(line, line_of(N - 1), "{what}");
            assert!(what.contains("more entries"), "{what}");

            // One entry fewer: the error is at the last line.
            let (line, what) = parse_error(&with_count(N + 1), threads);
            assert_eq!(line, line_of(N - 1), "{what}");
            assert!(what.contains(&format!("{N} of the {}", N + 1)), "{what}");

            // A bad line after the declared count is reached: one entry too many.
            let mut extra = with_count(N - 1);
            extra.push_str("1 1 nonsense\n");
            let (line, what) = parse_error(&extra, threads);
            assert_eq!(line, line_of(N - 1), "{what}");
            assert!(what.contains("more entries"), "{what}");
        }
    }
}

#[test]
fn progress_reaches_the_total() {
    let e = entries(N);
    let t = text(&e, "\n", |_| String::new());
    let dir = std::env::temp_dir().join(format!("csr-mm-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");
    let path = dir.join("a.mtx");
    std::fs::write(&path, &t).expect("write");
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |stage: mm::Stage, done: u64, total: u64| {
        seen.lock().expect("lock").push((stage, done, total));
    };
    let a: Csr<f64, i32> =
        mm::read_csr_with_progress(&path, &ReadOptions::default(), &record).expect("read");
    let out = dir.join("b.mtx.gz");
    mm::write_csr_with_progress(&out, &a, &mm::WriteOptions::default(), &record).expect("write");
    let b: Csr<f64, i32> =
        mm::read_csr_with_progress(&out, &ReadOptions::default(), &record).expect("read back");
    assert_eq!(a, b);
    let seen = seen.into_inner().expect("lock");
    for stage in [
        mm::Stage::Parsing,
        mm::Stage::Writing,
        mm::Stage::Decompressing,
    ] {
        let last = seen
            .iter()
            .filter(|s| s.0 == stage)
            .map(|s| (s.1, s.2))
            .max()
            .unwrap_or_else(|| panic!("no {stage:?} report"));
        assert_eq!(last.0, last.1, "{stage:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
