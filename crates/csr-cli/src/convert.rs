//! `csr convert`: reads a Matrix Market file and writes it again, changing compression,
//! layout or symmetry; with `--to FORMAT`, passes the matrix through a storage format and
//! reports its size and the conversion times.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use csr::io::mm::{self, Field, Format, ReadOptions, WriteOptions};
use csr::{
    Complex, Coo, Csr, Dense, Duplicates, Ell, Hybrid, Index, MatrixFormat, Scalar, Sellp, Symmetry,
};

use crate::CmdResult;
use crate::args::{ConvertArgs, FormatArg, IndexType, LayoutArg};
use crate::progress::{with_progress, writing};

/// Runs `csr convert`.
pub fn run(args: &ConvertArgs, out: &mut impl Write) -> CmdResult {
    let header = mm::read_header(&args.input)?;
    let symmetry = if args.general {
        Symmetry::General
    } else if args.symmetric && header.symmetry == Symmetry::General {
        Symmetry::Symmetric
    } else {
        header.symmetry
    };
    let format = match args.format {
        Some(LayoutArg::Coordinate) => Format::Coordinate,
        Some(LayoutArg::Array) => Format::Array,
        None => header.format,
    };
    let mut options = WriteOptions::default().symmetry(symmetry).format(format);
    // The output keeps the input's field: integer stays integer, pattern stays pattern
    // (except as `array`, which cannot be pattern: ones are written as real values).
    options.field = match (header.field, format) {
        (Field::Pattern, Format::Array) => None,
        (Field::Integer | Field::Pattern, _) => Some(header.field),
        (Field::Real | Field::Complex, _) => None,
    };
    if let Some(to) = args.to {
        let complex = header.field == Field::Complex;
        return match (complex, args.index) {
            (false, IndexType::I32) => through::<f64, i32>(args, to, &options, out),
            (false, IndexType::I64) => through::<f64, i64>(args, to, &options, out),
            (true, IndexType::I32) => through::<Complex<f64>, i32>(args, to, &options, out),
            (true, IndexType::I64) => through::<Complex<f64>, i64>(args, to, &options, out),
        };
    }
    if header.field == Field::Complex {
        convert::<Complex<f64>>(&args.input, &args.output, &options)
    } else {
        convert::<f64>(&args.input, &args.output, &options)
    }
}

fn convert<T: Scalar>(input: &Path, output: &Path, options: &WriteOptions) -> CmdResult {
    // Duplicates are kept as stored unless symmetric output needs them merged.
    let read = ReadOptions::default().duplicates(Duplicates::Keep);
    let a = with_progress(input, "reading", |progress| {
        mm::read_csr_with_progress::<T, i64>(input, &read, progress)
    })?;
    writing(input, output, |progress| {
        mm::write_csr_with_progress(output, &a, options, progress)
    })?;
    Ok(())
}

/// What a pass through a storage format measured.
struct Pass<T, I> {
    name: &'static str,
    slots: usize,
    bytes: usize,
    to: Duration,
    back: Duration,
    csr: Csr<T, I>,
}

/// Converts `a` to `F` and back, timing each way.
fn pass<F: MatrixFormat<T, I>, T: Scalar, I: Index>(a: &Csr<T, I>) -> csr::Result<Pass<T, I>> {
    let t = Instant::now();
    let f = F::try_from_csr(a.view())?;
    let to = t.elapsed();
    let t = Instant::now();
    let csr = f.to_csr()?;
    let back = t.elapsed();
    Ok(Pass {
        name: F::NAME,
        slots: f.stored_slots(),
        bytes: f.storage_bytes(),
        to,
        back,
        csr,
    })
}

/// `csr convert --to FORMAT`: reads the file (duplicates kept), converts it to the format
/// and back, prints the format's size and both conversion times, and writes the matrix
/// that came back (through `dense`: duplicates summed and zeros dropped).
fn through<T: Scalar, I: Index>(
    args: &ConvertArgs,
    to: FormatArg,
    options: &WriteOptions,
    out: &mut impl Write,
) -> CmdResult {
    let read = ReadOptions::default().duplicates(Duplicates::Keep);
    let input = &args.input;
    let a = with_progress(input, "reading", |progress| {
        mm::read_csr_with_progress::<T, I>(input, &read, progress)
    })?;
    let p = match to {
        FormatArg::Coo => pass::<Coo<T, I>, T, I>(&a),
        FormatArg::Ell => pass::<Ell<T, I>, T, I>(&a),
        FormatArg::Sellp => pass::<Sellp<T, I>, T, I>(&a),
        FormatArg::Hybrid => pass::<Hybrid<T, I>, T, I>(&a),
        FormatArg::Dense => pass::<Dense<T>, T, I>(&a),
    }?;
    let csr_bytes = (a.nrows() + 1) * size_of::<I>() + a.nnz() * (size_of::<I>() + size_of::<T>());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    writeln!(
        out,
        "{}: {} x {}, {} entries ({} values, {} indices)",
        input.display(),
        a.nrows(),
        a.ncols(),
        a.nnz(),
        T::NAME,
        I::NAME
    )?;
    writeln!(
        out,
        "{}: {} slots, {} bytes ({:.2}x the CSR's {} bytes)",
        p.name,
        p.slots,
        p.bytes,
        p.bytes as f64 / csr_bytes.max(1) as f64,
        csr_bytes
    )?;
    writeln!(
        out,
        "csr -> {0}: {1:.3} ms; {0} -> csr: {2:.3} ms",
        p.name,
        ms(p.to),
        ms(p.back)
    )?;
    let output = &args.output;
    writing(input, output, |progress| {
        mm::write_csr_with_progress(output, &p.csr, options, progress)
    })?;
    Ok(())
}
