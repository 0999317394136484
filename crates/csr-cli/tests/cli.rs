//! The `csr` binary end to end: `kernels` (and the `CSR_KERNEL` variable, which is read once
//! per process and so can only be tested in a subprocess), `spmv` and `spgemm` on tiny files
//! in a temporary folder; outputs and error exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use csr::io::mm;
use csr::{Complex, Csr};

/// A fresh, empty folder under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("csr-cli-test-{}-{test}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary folder");
        Self(dir)
    }

    /// Writes `text` to `name` in the folder and returns its path.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `csr ARGS` with `CSR_KERNEL` set to `kernel` (or removed).
fn csr_env(kernel: Option<&str>, args: &[&str]) -> Output {
    csr_mkl_env(kernel, None, args)
}

/// Runs `csr ARGS` with `CSR_KERNEL` set to `kernel` and `CSR_MKL_LIB` to `mkl_lib` (or
/// each removed).
fn csr_mkl_env(kernel: Option<&str>, mkl_lib: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_csr"));
    cmd.args(args);
    match kernel {
        Some(k) => cmd.env("CSR_KERNEL", k),
        None => cmd.env_remove("CSR_KERNEL"),
    };
    match mkl_lib {
        Some(path) => cmd.env("CSR_MKL_LIB", path),
        None => cmd.env_remove("CSR_MKL_LIB"),
    };
    cmd.output().expect("the csr binary runs")
}

fn csr(args: &[&str]) -> Output {
    csr_env(None, args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "csr failed ({}): {}",
        o.status,
        stderr(o)
    );
}

/// Asserts a failure with `code` and an error message containing `needle`.
#[track_caller]
fn assert_fails(o: &Output, code: i32, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
    assert!(
        stderr(o).contains(needle),
        "stderr lacks {needle:?}: {}",
        stderr(o)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}

/// ```text
/// [[2, 0, 1],
///  [0, 4, 0],
///  [0, -1, 0]]
/// ```
const A: &str =
    "%%MatrixMarket matrix coordinate real general\n3 3 4\n1 1 2\n1 3 1\n3 2 -1\n2 2 4\n";

/// A 2 x 3 matrix: [[1, 0, 0], [0, 1, 1]].
const B23: &str = "%%MatrixMarket matrix coordinate integer general\n2 3 3\n1 1 1\n2 2 1\n2 3 1\n";

/// The vector (1, 2, 3) as an array file.
const X: &str = "%%MatrixMarket matrix array real general\n3 1\n1\n2\n3\n";

// ---------------------------------------------------------------------------------------
// csr kernels and CSR_KERNEL
// ---------------------------------------------------------------------------------------

#[test]
fn kernels_lists_availability_and_the_default() {
    let o = csr(&["kernels"]);
    assert_success(&o);
    let out = stdout(&o);
    let line = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}: {out}"))
            .to_owned()
    };
    assert!(line("native").contains("yes"));
    assert!(line("reference").contains("yes"));
    let mkl = line("mkl");
    assert!(
        mkl.contains("yes") || (mkl.contains("no") && mkl.len() > "mkl no".len() + 10),
        "mkl is available or says why not: {mkl}"
    );
    let default = out
        .lines()
        .find(|l| l.starts_with("default: "))
        .expect("a default line");
    if mkl.contains("yes") {
        assert!(default.starts_with("default: mkl ("), "{default}");
    } else {
        assert_eq!(default, "default: native (MKL is unavailable)");
        assert!(line("native").ends_with("default"));
    }
}

#[test]
fn csr_kernel_names_the_default() {
    for value in ["reference", "REFERENCE", " reference "] {
        let o = csr_env(Some(value), &["kernels"]);
        assert_success(&o);
        assert!(
            stdout(&o).contains("default: reference (named by CSR_KERNEL)"),
            "{}",
            stdout(&o)
        );
    }
    let o = csr_env(Some("native"), &["kernels"]);
    assert_success(&o);
    assert!(stdout(&o).contains("default: native (named by CSR_KERNEL)"));
    // Empty means unset.
    let o = csr_env(Some(""), &["kernels"]);
    assert_success(&o);
    assert!(!stdout(&o).contains("named by CSR_KERNEL"));
}

#[test]
fn a_bad_csr_kernel_is_an_error_not_a_fallback() {
    let o = csr_env(Some("bogus"), &["kernels"]);
    assert_fails(
        &o,
        2,
        "csr: error: unknown kernel \"bogus\"; known kernels: native, reference, mkl",
    );
    // The list is still printed, without a default.
    assert!(stdout(&o).contains("reference"));
    assert!(!stdout(&o).contains("default:"));

    // Commands that use the default fail the same way...
    let dir = TempDir::new("bad_env");
    let a = dir.file("a.mtx", A);
    let o = csr_env(Some("bogus"), &["spmv", s(&a)]);
    assert_fails(&o, 2, "unknown kernel \"bogus\"");
    // ...but a kernel named on the command line does not need it.
    let o = csr_env(Some("bogus"), &["spmv", s(&a), "--kernel", "native"]);
    assert_success(&o);
}

/// With `CSR_MKL_LIB=mkl_lib` that MKL cannot run from: `csr kernels` succeeds and lists MKL
/// as unavailable with a note containing `why`, the default falls back to native, naming
/// MKL is an error containing `why`, and work that does not name it still runs.
fn check_mkl_unavailable(mkl_lib: &str, why: &str) {
    let o = csr_mkl_env(None, Some(mkl_lib), &["kernels"]);
    assert_success(&o);
    let out = stdout(&o);
    let mkl = out
        .lines()
        .find(|l| l.starts_with("mkl "))
        .expect("an mkl line");
    assert!(mkl.contains(" no ") && mkl.contains(why), "{mkl}");
    assert!(
        out.contains("default: native (MKL is unavailable)"),
        "{out}"
    );
    let o = csr_mkl_env(Some("mkl"), Some(mkl_lib), &["kernels"]);
    assert_fails(&o, 1, "csr: error: kernel mkl is unavailable: ");
    let dir = TempDir::new("mkl");
    let a = dir.file("a.mtx", A);
    let o = csr_mkl_env(None, Some(mkl_lib), &["spmv", s(&a), "--kernel", "mkl"]);
    assert_fails(&o, 1, why);
    assert_success(&csr_mkl_env(None, Some(mkl_lib), &["spmv", s(&a)]));
}

/// MKL made unloadable (`CSR_MKL_LIB` names a missing file): nothing panics.
#[test]
fn an_unloadable_mkl_is_reported_and_the_default_falls_back() {
    check_mkl_unavailable(
        "/nonexistent/libmkl_rt.so.3",
        "CSR_MKL_LIB is set but /nonexistent",
    );
}

/// A partial MKL: `libmkl_rt` alone in a folder, without the libraries it loads on first use
/// (core, interface, threading). MKL's default on that is to print a message and call
/// `exit()`; the process must instead survive and report MKL unavailable with the reason.
#[test]
fn a_partial_mkl_installation_does_not_end_the_process() {
    let venv_lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/lib");
    let Some(rt) = ["libmkl_rt.so.3", "libmkl_rt.so.2"]
        .iter()
        .map(|n| venv_lib.join(n))
        .find(|p| p.exists())
    else {
        println!("SKIPPED: no MKL in the project's .venv (run scripts/mkl-venv)");
        return;
    };
    let dir = TempDir::new("partial-mkl");
    let lonely = dir.path(
        rt.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("libmkl_rt.so"),
    );
    std::fs::copy(&rt, &lonely).expect("copy libmkl_rt");
    check_mkl_unavailable(s(&lonely), "MKL failed to start");
}

// ---------------------------------------------------------------------------------------
// csr spmv
// ---------------------------------------------------------------------------------------

fn read_vector(text: &[u8]) -> Vec<f64> {
    let d = mm::read_dense_from::<_, f64>(text).expect("the output is Matrix Market");
    assert_eq!(d.ncols(), 1, "y is a column vector");
    (0..d.nrows()).map(|r| d.row(r)[0]).collect()
}

#[test]
fn spmv_prints_y_as_an_array_vector() {
    let dir = TempDir::new("spmv_stdout");
    let a = dir.file("a.mtx", A);
    let o = csr(&["spmv", s(&a)]);
    assert_success(&o);
    let out = stdout(&o);
    assert!(
        out.starts_with("%%MatrixMarket matrix array real general\n"),
        "{out}"
    );
    assert_eq!(read_vector(out.as_bytes()), vec![3.0, 4.0, -1.0]);
    // --x ones is the default.
    let o2 = csr(&["spmv", s(&a), "--x", "ones"]);
    assert_eq!(o2.stdout, o.stdout);
}

#[test]
fn spmv_reads_x_and_writes_y() {
    let dir = TempDir::new("spmv_files");
    let a = dir.file("a.mtx", A);
    let x = dir.file("x.mtx", X);
    let y = dir.path("y.mtx");
    for kernel in ["native", "reference", "Reference"] {
        let o = csr(&["spmv", s(&a), "--x", s(&x), "--kernel", kernel, "-o", s(&y)]);
        assert_success(&o);
        assert!(
            stdout(&o).contains(&format!("kernel {}", kernel.to_lowercase())),
            "{}",
            stdout(&o)
        );
        let d = mm::read_dense::<f64>(&y).unwrap();
        assert_eq!(d.shape(), (3, 1));
        assert_eq!(d.to_row_major_vec(), vec![5.0, 8.0, -2.0]);
        let header = mm::read_header(&y).unwrap();
        assert_eq!(header.format, mm::Format::Array);
        std::fs::remove_file(&y).unwrap();
    }
    // A 1 x n row vector and a coordinate file are accepted as x too.
    let xr = dir.file(
        "xr.mtx",
        "%%MatrixMarket matrix coordinate real general\n1 3 2\n1 1 1\n1 3 3\n",
    );
    let o = csr(&["spmv", s(&a), "--x", s(&xr), "--index", "i64"]);
    assert_success(&o);
    assert_eq!(read_vector(&o.stdout), vec![5.0, 0.0, 0.0]);
}

#[test]
fn spmv_runs_every_strategy() {
    let dir = TempDir::new("spmv_strategy");
    let a = dir.file("a.mtx", A);
    let x = dir.file("x.mtx", X);
    let y = dir.path("y.mtx");
    for strategy in ["classical", "load_balance", "merge_path", "automatic"] {
        let o = csr(&[
            "spmv",
            s(&a),
            "--x",
            s(&x),
            "--strategy",
            strategy,
            "-o",
            s(&y),
        ]);
        assert_success(&o);
        let resolved = if strategy == "automatic" {
            "classical"
        } else {
            strategy
        };
        assert!(
            stdout(&o).contains(&format!("(strategy {resolved})")),
            "{}",
            stdout(&o)
        );
        let d = mm::read_dense::<f64>(&y).unwrap();
        assert_eq!(d.to_row_major_vec(), vec![5.0, 8.0, -2.0]);
    }
    // sparselib runs through MKL, or says why it cannot.
    let o = csr(&["spmv", s(&a), "--strategy", "sparselib"]);
    if !o.status.success() {
        assert_fails(&o, 1, "the sparselib SpMV strategy needs the MKL kernel");
    }
    assert_fails(
        &csr(&["spmv", s(&a), "--strategy", "csr5"]),
        2,
        "unknown SpMV strategy \"csr5\"",
    );
}

#[test]
fn spmv_handles_complex_values() {
    let dir = TempDir::new("spmv_complex");
    let a = dir.file(
        "a.mtx",
        "%%MatrixMarket matrix coordinate complex general\n2 2 2\n1 1 1 1\n2 1 0 2\n",
    );
    let y = dir.path("y.mtx");
    let o = csr(&["spmv", s(&a), "-o", s(&y)]);
    assert_success(&o);
    let d = mm::read_dense::<Complex<f64>>(&y).unwrap();
    assert_eq!(
        d.to_row_major_vec(),
        vec![Complex::new(1.0, 1.0), Complex::new(0.0, 2.0)]
    );
}

#[test]
fn spmv_errors() {
    let dir = TempDir::new("spmv_errors");
    let a = dir.file("a.mtx", A);
    // x of the wrong length: bad input, exit 2.
    let x2 = dir.file(
        "x2.mtx",
        "%%MatrixMarket matrix array real general\n2 1\n1\n2\n",
    );
    assert_fails(
        &csr(&["spmv", s(&a), "--x", s(&x2)]),
        2,
        "mult_vec: dimension mismatch",
    );
    // x that is not a vector.
    let xm = dir.file(
        "xm.mtx",
        "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
    );
    assert_fails(
        &csr(&["spmv", s(&a), "--x", s(&xm)]),
        2,
        "x must be a vector",
    );
    // A missing file: exit 1, naming it.
    let missing = dir.path("missing.mtx");
    assert_fails(&csr(&["spmv", s(&missing)]), 1, "missing.mtx");
    // A malformed file: exit 2 with the line.
    let bad = dir.file(
        "bad.mtx",
        "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n",
    );
    assert_fails(&csr(&["spmv", s(&bad)]), 2, "bad.mtx:3:");
    // An unknown kernel is a usage error.
    assert_fails(
        &csr(&["spmv", s(&a), "--kernel", "cuda"]),
        2,
        "unknown kernel \"cuda\"; known kernels: native, reference, mkl",
    );
    // Nothing was written where an output was asked for.
    let y = dir.path("y.mtx");
    let _ = csr(&["spmv", s(&a), "--x", s(&x2), "-o", s(&y)]);
    assert!(!y.exists());
}

// ---------------------------------------------------------------------------------------
// csr spgemm
// ---------------------------------------------------------------------------------------

#[test]
fn spgemm_writes_the_product() {
    let dir = TempDir::new("spgemm");
    let a = dir.file("a.mtx", A);
    let b = dir.file("b.mtx", B23);
    let c = dir.path("c.mtx");
    let expected_aa = Csr::<f64, i32>::try_from_parts(
        3,
        3,
        vec![0, 3, 4, 5],
        vec![0, 1, 2, 1, 1],
        vec![4.0, -1.0, 2.0, 16.0, -4.0],
    )
    .unwrap();
    for kernel in ["native", "reference"] {
        let o = csr(&["spgemm", s(&a), s(&a), "--kernel", kernel, "-o", s(&c)]);
        assert_success(&o);
        assert!(
            stdout(&o).contains("C = A·B: 3x3, 5 stored entries"),
            "{}",
            stdout(&o)
        );
        assert_eq!(mm::read_csr::<f64, i32>(&c).unwrap(), expected_aa);
    }
    // Rows in any order: the same entries.
    for kernel in ["native", "reference"] {
        let o = csr(&[
            "spgemm",
            s(&a),
            s(&a),
            "--any-order",
            "--kernel",
            kernel,
            "-o",
            s(&c),
        ]);
        assert_success(&o);
        let mut c = mm::read_csr::<f64, i32>(&c).unwrap();
        c.sort_by_column_index();
        assert_eq!(c, expected_aa);
    }
    let o = csr(&[
        "spgemm",
        s(&a),
        s(&a),
        "--any-order",
        "--top-k",
        "1",
        "-o",
        s(&c),
    ]);
    assert!(!o.status.success(), "--any-order with --top-k is refused");
    // B·A: 2x3 times 3x3.
    let o = csr(&["spgemm", s(&b), s(&a), "-o", s(&c), "--index", "i64"]);
    assert_success(&o);
    let ba = mm::read_csr::<f64, i64>(&c).unwrap();
    assert_eq!(
        ba.iter().collect::<Vec<_>>(),
        vec![(0, 0, 2.0), (0, 2, 1.0), (1, 1, 3.0)]
    );
}

#[test]
fn spgemm_transpose_b() {
    let dir = TempDir::new("spgemm_t");
    let a = dir.file("a.mtx", A);
    let b = dir.file("b.mtx", B23);
    let c = dir.path("c.mtx");
    // A·Bᵀ: 3x3 times 3x2.
    let o = csr(&["spgemm", s(&a), s(&b), "--transpose-b", "-o", s(&c)]);
    assert_success(&o);
    assert!(stdout(&o).contains("C = A·Bᵀ: 3x2"), "{}", stdout(&o));
    let abt = mm::read_csr::<f64, i32>(&c).unwrap();
    assert_eq!(
        abt.iter().collect::<Vec<_>>(),
        vec![(0, 0, 2.0), (0, 1, 1.0), (1, 1, 4.0), (2, 1, -1.0)]
    );
    // Without --transpose-b the shapes do not agree.
    assert_fails(
        &csr(&["spgemm", s(&a), s(&b), "-o", s(&c)]),
        2,
        "mult_ab: dimension mismatch",
    );
}

#[test]
fn spgemm_top_k() {
    let dir = TempDir::new("spgemm_topk");
    let a = dir.file("a.mtx", A);
    let c = dir.path("c.mtx");
    // A·Aᵀ = [[5, ·, ·], [·, 16, -4], [·, -4, 1]] (·: not stored).
    let full = {
        assert_success(&csr(&[
            "spgemm",
            s(&a),
            s(&a),
            "--transpose-b",
            "-o",
            s(&c),
        ]));
        mm::read_csr::<f64, i32>(&c).unwrap()
    };
    let o = csr(&[
        "spgemm",
        s(&a),
        s(&a),
        "--transpose-b",
        "--top-k",
        "1",
        "--exclude-diagonal",
        "-o",
        s(&c),
    ]);
    assert_success(&o);
    assert!(
        stdout(&o).contains("C = top 1 per row of A·Bᵀ: 3x3"),
        "{}",
        stdout(&o)
    );
    let top = mm::read_csr::<f64, i32>(&c).unwrap();
    // Each row keeps its largest off-diagonal entry of the full product.
    for r in 0..3 {
        let best = full.iter().filter(|&(i, j, _)| i == r && j != r).fold(
            None,
            |m: Option<(usize, f64)>, (_, j, v)| match m {
                Some((_, b)) if b >= v => m,
                _ => Some((j, v)),
            },
        );
        let got: Vec<(usize, f64)> = top
            .iter()
            .filter(|e| e.0 == r)
            .map(|e| (e.1, e.2))
            .collect();
        assert_eq!(got, best.into_iter().collect::<Vec<_>>(), "row {r}");
    }
    // One file on both sides is read once and multiplied through one handle (the kernel's
    // symmetric path); a copy of it under another name goes the general way: same result.
    let copy = dir.file("a_copy.mtx", A);
    let c2 = dir.path("c2.mtx");
    for (b, out) in [(&a, &c), (&copy, &c2)] {
        assert_success(&csr(&[
            "spgemm",
            s(&a),
            s(b),
            "--transpose-b",
            "--top-k",
            "2",
            "-o",
            s(out),
        ]));
    }
    assert_eq!(
        mm::read_csr::<f64, i32>(&c).unwrap(),
        mm::read_csr::<f64, i32>(&c2).unwrap()
    );
    // A threshold above every value keeps nothing; --threshold needs --top-k.
    let o = csr(&[
        "spgemm",
        s(&a),
        s(&a),
        "--transpose-b",
        "--top-k",
        "3",
        "--threshold",
        "1e9",
        "--sort-by-value",
        "-o",
        s(&c),
    ]);
    assert_success(&o);
    assert_eq!(mm::read_csr::<f64, i32>(&c).unwrap().nnz(), 0);
    assert_fails(
        &csr(&["spgemm", s(&a), s(&a), "--threshold", "-1", "-o", s(&c)]),
        2,
        "--top-k",
    );
}

#[test]
fn info_writes_a_generated_matrix() {
    let dir = TempDir::new("info_output");
    let out = dir.path("r.mtx");
    let o = csr(&[
        "info",
        "--generate",
        "ratings:100:30",
        "--transpose",
        "--output",
        s(&out),
    ]);
    assert_success(&o);
    assert!(stdout(&o).contains("transposed"), "{}", stdout(&o));
    let r = mm::read_csr::<f64, i32>(&out).unwrap();
    let g: csr::generate::Generator = "ratings:100:30".parse().unwrap();
    let expected = g
        .build::<f64, i32>(csr::generate::DEFAULT_SEED)
        .unwrap()
        .transpose();
    assert_eq!(r.shape(), (30, 100));
    assert_eq!(
        r.iter().collect::<Vec<_>>(),
        expected.iter().collect::<Vec<_>>()
    );
}

#[test]
fn spgemm_errors() {
    let dir = TempDir::new("spgemm_errors");
    let a = dir.file("a.mtx", A);
    let b = dir.file("b.mtx", B23);
    let c = dir.path("c.mtx");
    assert_fails(
        &csr(&[
            "spgemm",
            s(&b),
            s(&b),
            "--transpose-b",
            "--kernel",
            "nope",
            "-o",
            s(&c),
        ]),
        2,
        "unknown kernel \"nope\"",
    );
    // -o is required.
    assert_fails(&csr(&["spgemm", s(&a), s(&a)]), 2, "--output");
    assert_fails(
        &csr(&[
            "spgemm",
            s(&a),
            s(&b),
            "--transpose-b",
            "-o",
            s(&dir.path("no/such/dir/c.mtx")),
        ]),
        1,
        "csr: error:",
    );
    assert!(!c.exists());
}

#[test]
fn info_prints_the_strategy_automatic_picks() {
    let o = csr(&["info", "--generate", "powerlaw:50k"]);
    assert_success(&o);
    assert!(
        stdout(&o).contains("spmv strategy   load_balance (automatic, "),
        "{}",
        stdout(&o)
    );
    // A band is one run of rows with the same column offsets.
    let o = csr(&["info", "--generate", "banded:1000:3", "--json"]);
    assert_success(&o);
    let out = stdout(&o);
    assert!(out.contains("\"spmv_strategy\":\"compressed\""), "{out}");
    assert!(
        out.contains("lie in 1 runs of rows sharing their column offsets (>= 50%)"),
        "{out}"
    );
    // Random columns form no runs: a small matrix runs serially.
    let o = csr(&["info", "--generate", "random:1000:1000:5", "--json"]);
    assert_success(&o);
    let out = stdout(&o);
    assert!(out.contains("\"spmv_strategy\":\"classical\""), "{out}");
}

// ---------------------------------------------------------------------------------------
// csr convert --to FORMAT
// ---------------------------------------------------------------------------------------

#[test]
fn convert_through_each_format_reports_size_and_keeps_the_matrix() {
    let dir = TempDir::new("convert-to");
    let a = dir.file("a.mtx", A);
    let expected: Csr<f64, i64> = mm::read_csr(&a).unwrap();
    // 3 rows, longest 2: ELL has 6 slots of 12 bytes (f64 + i32).
    for (format, slots) in [
        ("coo", "4 slots"),
        ("ell", "6 slots, 72 bytes"),
        ("sellp", "128 slots"),
        ("hybrid", "4 slots"),
        ("dense", "9 slots, 72 bytes"),
    ] {
        let out = dir.path(&format!("{format}.mtx"));
        let o = csr(&["convert", s(&a), s(&out), "--to", format]);
        assert_success(&o);
        let text = stdout(&o);
        assert!(
            text.contains("3 x 3, 4 entries (f64 values, i32 indices)"),
            "{text}"
        );
        assert!(text.contains(&format!("{format}: {slots}")), "{text}");
        assert!(text.contains(&format!("csr -> {format}: ")), "{text}");
        let mut back: Csr<f64, i64> = mm::read_csr(&out).unwrap();
        back.sort_by_column_index();
        let mut want = expected.clone();
        want.sort_by_column_index();
        assert_eq!(back, want, "{format}");
    }
    let o = csr(&["convert", s(&a), s(&dir.path("x.mtx")), "--to", "csc"]);
    assert_fails(&o, 2, "invalid value 'csc'");
    let o = csr(&["convert", s(&a), s(&dir.path("x.mtx")), "--index", "i64"]);
    assert_fails(&o, 2, "--to");
}

#[test]
fn bench_json_holds_every_row_with_its_ratios_and_checks() {
    let dir = TempDir::new("bench");
    let json = dir.path("bench.json");
    let o = csr(&["bench", "--reps", "1", "poisson2d:12", "--json", s(&json)]);
    assert_success(&o);
    let out = stdout(&o);
    assert!(out.contains("speed ratio to every other row"), "{out}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("valid JSON");
    assert!(doc["bandwidth_gbps"].as_f64().is_some_and(|b| b > 0.0));
    let results = doc["results"].as_array().expect("results list");
    let spmv: Vec<&serde_json::Value> = results.iter().filter(|r| r["op"] == "spmv").collect();
    // Every native strategy that runs without MKL, plus the serial reference row.
    assert!(spmv.len() >= 5, "{spmv:?}");
    for r in results {
        for key in [
            "workload", "op", "kernel", "strategy", "median_s", "gflops", "gbps",
        ] {
            assert!(r.get(key).is_some(), "record lacks {key}: {r}");
        }
        let ratios = r["speedup_over"].as_object().expect("speedup_over");
        let own = ratios[&label(r)].as_f64().expect("ratio to itself");
        assert!((own - 1.0).abs() < 1e-12, "{r}");
    }
    // f64 products agree with the reference kernel to rounding (f32 is checked against the
    // f64 reference too, so only its presence is asserted).
    for r in results {
        let op = r["op"].as_str().unwrap();
        if op.starts_with("spmv") || op.starts_with("spgemm") {
            let err = r["max_rel_err"]
                .as_f64()
                .expect("checked against the reference");
            assert!(op == "spmv_f32" || err < 1e-9, "{r}");
        }
    }
    for op in [
        "spgemm_ab",
        "spgemm_abt",
        "abt_top20_full+select",
        "abt_top20",
        "cosine_top20",
    ] {
        assert!(results.iter().any(|r| r["op"] == op), "no {op} row");
    }
    for r in results.iter().filter(|r| r["op"] == "abt_top20") {
        assert!(r["note"].as_str().unwrap().contains("peak RSS +"), "{r}");
    }
}

/// A record's row name: `kernel` or `kernel:strategy`.
fn label(r: &serde_json::Value) -> String {
    let (k, s) = (
        r["kernel"].as_str().unwrap(),
        r["strategy"].as_str().unwrap(),
    );
    if s.is_empty() {
        k.to_owned()
    } else {
        format!("{k}:{s}")
    }
}

// ---------------------------------------------------------------------------------------
// csr info and csr convert on Matrix Market files
// ---------------------------------------------------------------------------------------

#[test]
fn info_json_has_the_issue_keys() {
    let dir = TempDir::new("info-json");
    let a = dir.file("a.mtx", A);
    let o = csr(&["info", s(&a), "--json"]);
    assert_success(&o);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    for (key, want) in [
        ("rows", serde_json::json!(3)),
        ("cols", serde_json::json!(3)),
        ("nnz", serde_json::json!(4)),
        ("field", serde_json::json!("real")),
        ("symmetry", serde_json::json!("general")),
        ("format", serde_json::json!("coordinate")),
        ("row_nnz_min", serde_json::json!(1)),
        ("row_nnz_max", serde_json::json!(2)),
        ("empty_rows", serde_json::json!(0)),
        ("sorted", serde_json::json!(true)),
        ("duplicates", serde_json::json!(false)),
        ("explicit_zeros", serde_json::json!(0)),
    ] {
        assert_eq!(v[key], want, "{key} in {v}");
    }
    assert!(
        v["row_nnz_mean"]
            .as_f64()
            .is_some_and(|m| (m - 4.0 / 3.0).abs() < 1e-12),
        "{v}"
    );
}

#[test]
fn bad_files_exit_2_with_file_and_line() {
    let dir = TempDir::new("bad-file");
    let bad = dir.file(
        "bad.mtx",
        "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n",
    );
    let needle = format!("error: {}:3: row index 3 exceeds the 2 declared", s(&bad));
    for args in [vec!["info", s(&bad)], vec!["convert", s(&bad), "out.mtx"]] {
        let o = csr(&args);
        assert_fails(&o, 2, &needle);
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
    let o = csr(&["info", s(&dir.path("missing.mtx"))]);
    assert_fails(&o, 1, "missing.mtx");
}

/// Runs `csr ARGS` under an address-space limit of `limit_kb` (`ulimit -v`), or none.
fn csr_under_ulimit(limit_kb: Option<u64>, args: &[&str]) -> Output {
    let limit = limit_kb.map_or_else(|| String::from("unlimited"), |kb| kb.to_string());
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_csr"))
        .args(args)
        .env_remove("CSR_KERNEL")
        .output()
        .expect("sh runs the csr binary")
}

/// Issue 13: a file of a few bytes that declares 2^31 - 1 rows (entries out of row order,
/// which once aborted the process in the counting sort), 2^31 - 1 columns, or a
/// 2^31 - 1 x 2 `array` either succeeds or exits 2 naming its file and line, whatever the
/// address-space limit (16 GiB once let the counting sort's counters abort).
#[test]
fn huge_declared_shapes_fail_at_their_line_or_succeed() {
    let dir = TempDir::new("huge-shape");
    let rows = dir.file(
        "rows.mtx",
        "%%MatrixMarket matrix coordinate real general\n2147483647 2 2\n2 1 1.0\n1 2 2.0\n",
    );
    let cols = dir.file(
        "cols.mtx",
        "%%MatrixMarket matrix coordinate real general\n2 2147483647 2\n2 2147483647 1\n1 1 2\n",
    );
    let array = dir.file(
        "array.mtx",
        "%%MatrixMarket matrix array real general\n2147483647 2\n1.0\n2.0\n",
    );
    for limit in [Some(16 << 20), Some(1 << 20), None] {
        for index in ["i32", "i64"] {
            let run = |path: &Path| csr_under_ulimit(limit, &["info", "--index", index, s(path)]);
            let o = run(&rows);
            assert_fails(
                &o,
                2,
                &format!("error: {}:2: the declared 2147483647x2 shape", s(&rows)),
            );
            let o = run(&array);
            assert_fails(
                &o,
                2,
                &format!(
                    "error: {}:4: file ends after 2 of the 4294967294",
                    s(&array)
                ),
            );
            let o = run(&cols);
            assert_success(&o);
            assert!(
                stdout(&o).contains("cols            2147483647"),
                "{}",
                stdout(&o)
            );
        }
    }
}

#[test]
fn convert_keeps_the_field_and_handles_gzip() {
    let dir = TempDir::new("convert-field");
    let b = dir.file("b.mtx", B23);
    let gz = dir.path("b.mtx.gz");
    assert_success(&csr(&["convert", s(&b), s(&gz)]));
    let back = dir.path("back.mtx");
    assert_success(&csr(&["convert", s(&gz), s(&back)]));
    let text = std::fs::read_to_string(&back).expect("written");
    assert!(
        text.starts_with("%%MatrixMarket matrix coordinate integer general\n"),
        "{text}"
    );
    assert!(text.ends_with("2 3 3\n1 1 1\n2 2 1\n2 3 1\n"), "{text}");

    let p = dir.file(
        "p.mtx",
        "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 3\n",
    );
    let out = dir.path("p2.mtx");
    assert_success(&csr(&["convert", s(&p), s(&out)]));
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.starts_with("%%MatrixMarket matrix coordinate pattern symmetric\n"),
        "{text}"
    );
    assert!(text.ends_with("3 3 2\n2 1\n3 3\n"), "{text}");
    assert_success(&csr(&["convert", s(&p), s(&out), "--general"]));
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.ends_with("3 3 3\n1 2\n2 1\n3 3\n"), "{text}");
    // An array cannot be pattern: ones and zeros as real values.
    assert_success(&csr(&["convert", s(&p), s(&out), "--format", "array"]));
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.starts_with("%%MatrixMarket matrix array real symmetric\n"),
        "{text}"
    );
}
