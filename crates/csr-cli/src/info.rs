//! `csr info`: shape and structure of a matrix, from a Matrix Market file or a generator.

use std::io::Write;
use std::path::Path;

use csr::io::mm::{self, Field, ReadOptions, WriteOptions};
use csr::kernel::{Kernel, NativeKernel};
use csr::{Complex, Csr, Duplicates, Index, RowStats, Scalar};

use crate::CmdResult;
use crate::args::{IndexType, InfoArgs};
use crate::progress::with_progress;

/// Runs `csr info`.
pub fn run(args: &InfoArgs, out: &mut impl Write) -> CmdResult {
    let summary = match (&args.file, &args.generate) {
        (Some(path), _) => match args.index {
            IndexType::I32 => of_file::<i32>(path)?,
            IndexType::I64 => of_file::<i64>(path)?,
        },
        (None, Some(generator)) => {
            let transposed = if args.transpose { ", transposed" } else { "" };
            let source = format!("generated {generator} (seed {}{transposed})", args.seed);
            let mut s = match args.index {
                IndexType::I32 => of_generated::<i32>(generator, args)?,
                IndexType::I64 => of_generated::<i64>(generator, args)?,
            };
            s.source = source;
            s
        }
        (None, None) => return Err("give a FILE or --generate SPEC".into()),
    };
    if args.json {
        summary.write_json(out)?;
    } else {
        summary.write_text(out)?;
    }
    Ok(())
}

/// Builds a generated matrix (transposed if asked), writes it if asked, and summarises it.
fn of_generated<I: Index>(
    generator: &csr::generate::Generator,
    args: &InfoArgs,
) -> Result<Summary, Box<dyn std::error::Error + Send + Sync>> {
    let mut a = generator.build::<f64, I>(args.seed)?;
    if args.transpose {
        a = a.transpose();
    }
    if let Some(path) = &args.output {
        with_progress(path, "writing", |p| {
            mm::write_csr_with_progress(path, &a, &WriteOptions::default(), p)
        })?;
    }
    Ok(Summary::of(&a))
}

/// Reads a file (symmetry expanded, duplicates kept as stored) and summarises it.
fn of_file<I: Index>(path: &Path) -> Result<Summary, Box<dyn std::error::Error + Send + Sync>> {
    let header = mm::read_header(path)?;
    let options = ReadOptions::default().duplicates(Duplicates::Keep);
    let mut s = with_progress(path, "reading", |progress| {
        if header.field == Field::Complex {
            mm::read_csr_with_progress::<Complex<f64>, I>(path, &options, progress)
                .map(|a| Summary::of(&a))
        } else {
            mm::read_csr_with_progress::<f64, I>(path, &options, progress).map(|a| Summary::of(&a))
        }
    })?;
    s.source = path.display().to_string();
    s.field = header.field.name();
    s.symmetry = header.symmetry.name();
    s.format = header.format.name();
    Ok(s)
}

/// What `csr info` reports about a matrix.
struct Summary {
    source: String,
    field: &'static str,
    symmetry: &'static str,
    format: &'static str,
    nrows: usize,
    ncols: usize,
    stats: RowStats,
    sorted: bool,
    duplicates: bool,
    explicit_zeros: usize,
    csr_bytes: usize,
    /// The SpMV strategy `automatic` picks for the native kernel here, and why.
    strategy: String,
    strategy_reason: String,
    threads: usize,
}

impl Summary {
    fn of<T: Scalar, I: Index>(a: &Csr<T, I>) -> Self {
        let idx = std::mem::size_of::<I>();
        let (strategy, strategy_reason) = match NativeKernel.to_handle(a.view()) {
            Ok(h) => (
                h.strategy().map_or(String::from("-"), |s| s.to_string()),
                h.strategy_reason().unwrap_or_default().to_owned(),
            ),
            Err(e) => (String::from("-"), e.to_string()),
        };
        Self {
            strategy,
            strategy_reason,
            threads: rayon::current_num_threads(),
            source: String::new(),
            field: if T::IS_COMPLEX { "complex" } else { "real" },
            symmetry: "general",
            format: "generated",
            nrows: a.nrows(),
            ncols: a.ncols(),
            stats: RowStats::of(a.view()),
            sorted: a.is_sorted_by_column_index(),
            duplicates: a.has_duplicates(),
            explicit_zeros: a.values().iter().filter(|&&v| v == T::zero()).count(),
            csr_bytes: (a.nrows() + 1) * idx + a.nnz() * (idx + std::mem::size_of::<T>()),
        }
    }

    fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let s = &self.stats;
        writeln!(out, "matrix          {}", self.source)?;
        writeln!(out, "rows            {}", self.nrows)?;
        writeln!(out, "cols            {}", self.ncols)?;
        writeln!(out, "nnz             {}", s.nnz)?;
        writeln!(out, "field           {}", self.field)?;
        writeln!(out, "symmetry        {}", self.symmetry)?;
        writeln!(out, "format          {}", self.format)?;
        writeln!(
            out,
            "row length      min {} / mean {:.2} / max {}",
            s.min, s.mean, s.max
        )?;
        writeln!(out, "empty rows      {}", s.empty_rows)?;
        writeln!(out, "sorted          {}", yes_no(self.sorted))?;
        writeln!(out, "duplicates      {}", yes_no(self.duplicates))?;
        writeln!(out, "explicit zeros  {}", self.explicit_zeros)?;
        writeln!(out, "csr bytes       {}", self.csr_bytes)?;
        writeln!(
            out,
            "spmv strategy   {} (automatic, {} threads: {})",
            self.strategy, self.threads, self.strategy_reason
        )
    }

    fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        let s = &self.stats;
        let obj = serde_json::json!({
            "source": self.source,
            "rows": self.nrows,
            "cols": self.ncols,
            "nnz": s.nnz,
            "field": self.field,
            "symmetry": self.symmetry,
            "format": self.format,
            "row_nnz_min": s.min,
            "row_nnz_mean": s.mean,
            "row_nnz_max": s.max,
            "empty_rows": s.empty_rows,
            "sorted": self.sorted,
            "duplicates": self.duplicates,
            "explicit_zeros": self.explicit_zeros,
            "csr_bytes": self.csr_bytes,
            "spmv_strategy": self.strategy,
            "spmv_strategy_reason": self.strategy_reason,
            "threads": self.threads,
        });
        writeln!(out, "{obj}")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
