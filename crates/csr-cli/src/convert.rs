//! `csr convert`: reads a Matrix Market file and writes it again, changing compression,
//! layout or symmetry.

use std::path::Path;

use csr::io::mm::{self, Field, Format, ReadOptions, WriteOptions};
use csr::{Complex, Duplicates, Scalar, Symmetry};

use crate::CmdResult;
use crate::args::{ConvertArgs, LayoutArg};
use crate::progress::with_progress;

/// Runs `csr convert`.
pub fn run(args: &ConvertArgs) -> CmdResult {
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
    let options = WriteOptions::default().symmetry(symmetry).format(format);
    if header.field == Field::Pattern && format == Format::Coordinate {
        let a = with_progress(&args.input, "reading", || {
            mm::read_pattern::<i64>(&args.input)
        })?;
        with_progress(&args.input, "writing", || {
            mm::write_pattern(&args.output, &a, &options)
        })?;
        return Ok(());
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
    let a = with_progress(input, "reading", || {
        mm::read_csr_with::<T, i64>(input, &read)
    })?;
    with_progress(input, "writing", || mm::write_csr(output, &a, options))?;
    Ok(())
}
