//! `csr info`: shape and structure of a matrix.

use std::io::Write;

use csr::{Csr, Index, RowStats};

use crate::CmdResult;
use crate::args::{IndexType, InfoArgs};

/// Runs `csr info`.
pub fn run(args: &InfoArgs, out: &mut impl Write) -> CmdResult {
    let source = format!("generated {} (seed {})", args.generate, args.seed);
    let summary = match args.index {
        IndexType::I32 => Summary::of(&args.generate.build::<f64, i32>(args.seed)?),
        IndexType::I64 => Summary::of(&args.generate.build::<f64, i64>(args.seed)?),
    };
    if args.json {
        summary.write_json(&source, out)?;
    } else {
        summary.write_text(&source, out)?;
    }
    Ok(())
}

/// What `csr info` reports about a matrix.
struct Summary {
    nrows: usize,
    ncols: usize,
    stats: RowStats,
    sorted: bool,
    duplicates: bool,
    explicit_zeros: usize,
}

impl Summary {
    fn of<I: Index>(a: &Csr<f64, I>) -> Self {
        Self {
            nrows: a.nrows(),
            ncols: a.ncols(),
            stats: RowStats::of(a.view()),
            sorted: a.is_sorted_by_column_index(),
            duplicates: a.has_duplicates(),
            explicit_zeros: a.values().iter().filter(|&&v| v == 0.0).count(),
        }
    }

    fn write_text(&self, source: &str, out: &mut impl Write) -> std::io::Result<()> {
        let s = &self.stats;
        writeln!(out, "matrix          {source}")?;
        writeln!(out, "rows            {}", self.nrows)?;
        writeln!(out, "cols            {}", self.ncols)?;
        writeln!(out, "nnz             {}", s.nnz)?;
        writeln!(
            out,
            "row length      min {} / mean {:.2} / max {}",
            s.min, s.mean, s.max
        )?;
        writeln!(out, "empty rows      {}", s.empty_rows)?;
        writeln!(out, "sorted          {}", yes_no(self.sorted))?;
        writeln!(out, "duplicates      {}", yes_no(self.duplicates))?;
        writeln!(out, "explicit zeros  {}", self.explicit_zeros)
    }

    fn write_json(&self, source: &str, out: &mut impl Write) -> std::io::Result<()> {
        let s = &self.stats;
        let obj = serde_json::json!({
            "source": source,
            "rows": self.nrows,
            "cols": self.ncols,
            "nnz": s.nnz,
            "row_min": s.min,
            "row_mean": s.mean,
            "row_max": s.max,
            "empty_rows": s.empty_rows,
            "sorted": self.sorted,
            "duplicates": self.duplicates,
            "explicit_zeros": self.explicit_zeros,
        });
        writeln!(out, "{obj}")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
