//! `csr spmv`: `y = A·x` with a chosen kernel, `y` written as a Matrix Market `array`
//! vector.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use csr::io::mm::{self, Field, Format, WriteOptions};
use csr::kernel::KernelId;
use csr::{Complex, Dense, Error, Index, Scalar};

use crate::CmdResult;
use crate::args::{IndexType, SpmvArgs, VectorArg};
use crate::kernels::choose;
use crate::progress::with_progress;

/// Runs `csr spmv`. Values are complex if `A` or `x` is, else real (`f64`).
pub fn run(args: &SpmvArgs, out: &mut impl Write) -> CmdResult {
    let mut complex = mm::read_header(&args.matrix)?.field == Field::Complex;
    if let VectorArg::File(path) = &args.x {
        complex |= mm::read_header(path)?.field == Field::Complex;
    }
    match (complex, args.index) {
        (false, IndexType::I32) => spmv::<f64, i32>(args, out),
        (false, IndexType::I64) => spmv::<f64, i64>(args, out),
        (true, IndexType::I32) => spmv::<Complex<f64>, i32>(args, out),
        (true, IndexType::I64) => spmv::<Complex<f64>, i64>(args, out),
    }
}

fn spmv<T: Scalar, I: Index>(args: &SpmvArgs, out: &mut impl Write) -> CmdResult {
    // SpMV strategies belong to the native kernel: naming one picks it.
    let kernel = match (args.kernel, args.strategy) {
        (None, Some(_)) => Some(KernelId::Native),
        (Some(id), Some(_)) if id != KernelId::Native => {
            return Err(Error::Unsupported {
                kernel: id.name(),
                op: "spmv --strategy",
                reason: String::from("SpMV strategies are the native kernel's"),
            }
            .into());
        }
        (kernel, _) => kernel,
    };
    let k = choose::<T, I>(kernel)?;
    let mut a = with_progress(&args.matrix, "reading", |p| {
        mm::read_csr_with_progress::<T, I>(&args.matrix, &mm::ReadOptions::default(), p)
    })?;
    if let Some(strategy) = args.strategy {
        a.set_strategy(strategy);
    }
    let (one, zero) = (T::from_re_im(1.0, 0.0), T::from_re_im(0.0, 0.0));
    let x = match &args.x {
        VectorArg::Ones => vec![one; a.ncols()],
        VectorArg::File(path) => read_vector::<T>(path, a.shape())?,
    };
    let h = k.to_handle(a.view())?;
    let mut y = vec![zero; a.nrows()];
    let start = Instant::now();
    k.mult_vec(&h, one, &x, zero, &mut y)?;
    let elapsed = start.elapsed();
    let n = y.len();
    let y = Dense::try_from_row_major(n, 1, y)?;
    let options = WriteOptions::default().format(Format::Array);
    match &args.output {
        Some(path) => {
            mm::write_dense(path, &y, &options)?;
            writeln!(
                out,
                "y = A·x: {n} values, {}x{} matrix with {} stored entries, kernel {}{}, {:.3} ms -> {}",
                a.nrows(),
                a.ncols(),
                a.nnz(),
                k.name(),
                h.strategy()
                    .map_or(String::new(), |s| format!(" (strategy {s})")),
                elapsed.as_secs_f64() * 1e3,
                path.display()
            )?;
        }
        None => {
            // Formatted in memory first, so that a closed pipe is an `io::Error` (a quiet
            // exit) rather than a library error.
            let mut text = Vec::new();
            mm::write_dense_to(&mut text, &y, &options)?;
            out.write_all(&text)?;
        }
    }
    Ok(())
}

/// Reads `x`: an `n x 1` or `1 x n` Matrix Market file (array or coordinate).
fn read_vector<T: Scalar>(path: &Path, shape: (usize, usize)) -> Result<Vec<T>, Error> {
    let d = mm::read_dense::<T>(path)?;
    match d.shape() {
        (_, 1) => Ok((0..d.nrows()).map(|r| d.row(r)[0]).collect()),
        (1, _) => Ok(d.row(0).to_vec()),
        other => Err(Error::DimensionMismatch {
            op: "spmv: x must be a vector",
            lhs: shape,
            rhs: other,
        }),
    }
}
