//! Shared helpers of the Matrix Market tests: where the corpus is, and what MANIFEST.md says.

use std::path::{Path, PathBuf};

use csr::io::mm::{self, Field};
use csr::{Complex, Csr};

/// The shared data folder (`$CSR_TEST_DATA`, else `../shared/data` next to the workspace),
/// or `None` with a skip line printed.
pub fn data_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CSR_TEST_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    if dir.join("matrices").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIP {test}: no corpus at {} (set CSR_TEST_DATA)",
            dir.display()
        );
        None
    }
}

/// One row of a MANIFEST.md table about a matrix file.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    /// Path relative to `matrices/`.
    pub file: String,
    /// The table's cells, trimmed, backticks removed.
    pub cells: Vec<String>,
}

/// Rows of the `matrices/real/` and `matrices/edge/` tables.
pub fn manifest(dir: &Path) -> Vec<ManifestRow> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.md")).expect("MANIFEST.md is readable");
    let mut section = String::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.split_whitespace().next().unwrap_or("").to_string();
            continue;
        }
        if !line.starts_with("| `") || !section.starts_with("matrices/") {
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        let sub = section.trim_start_matches("matrices/");
        rows.push(ManifestRow {
            file: format!("{sub}{}", cells[0]),
            cells,
        });
    }
    rows
}

/// Every file under `dir`, recursively, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable folder") {
            let p = e.expect("readable entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A matrix of the corpus's `matrices/real`, read with `i64` indices.
pub enum RealMatrix {
    /// Real or integer values.
    Real(Csr<f64, i64>),
    /// Complex values.
    Complex(Csr<Complex<f64>, i64>),
}

/// Runs `check(name, matrix)` on every readable matrix of `matrices/real` (nothing, with a
/// skip line, without the corpus), skips unreadable ones with a line, and asserts that most
/// were readable.
pub fn for_each_real_matrix(test: &str, mut check: impl FnMut(&str, RealMatrix)) {
    let Some(dir) = data_dir(test) else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("matrices/real"))
        .expect("matrices/real is readable")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".mtx") || name.ends_with(".mtx.gz")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no matrices in {}", dir.display());
    let mut checked = 0;
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let header = match mm::read_header(path) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("SKIP {name}: unreadable header ({e})");
                continue;
            }
        };
        let matrix = if header.field == Field::Complex {
            mm::read_csr::<Complex<f64>, i64>(path).map(RealMatrix::Complex)
        } else {
            mm::read_csr::<f64, i64>(path).map(RealMatrix::Real)
        };
        match matrix {
            Ok(a) => {
                check(&name, a);
                checked += 1;
            }
            Err(e) => eprintln!("SKIP {name}: not readable ({e})"),
        }
    }
    eprintln!("{test}: checked {checked} of {} real matrices", files.len());
    assert!(
        checked * 2 >= files.len(),
        "most real matrices must be readable"
    );
}
