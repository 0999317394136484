//! The `csr` command-line tool: parses arguments, calls the library, prints.

#![forbid(unsafe_code)]

mod args;
mod bench;
mod convert;
mod info;
mod kernels;
mod progress;
mod spgemm;
mod spmv;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Args, Command};

fn main() -> ExitCode {
    let args = Args::parse();
    let mut out = io::stdout();
    let result = match args.command {
        Command::Info(a) => info::run(&a, &mut out),
        Command::Convert(a) => convert::run(&a, &mut out),
        Command::Bench(a) => bench::run(&a, &mut out),
        Command::Kernels => kernels::run(&mut out),
        Command::Spmv(a) => spmv::run(&a, &mut out),
        Command::Spgemm(a) => spgemm::run(&a, &mut out),
    };
    let result = result.and_then(|()| out.flush().map_err(Into::into));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(err.as_ref()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut msg = format!("csr: error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                msg.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{msg}");
            exit_code(err.as_ref())
        }
    }
}

/// The error type of every command.
pub type CmdResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Exit code 2 for bad input (a malformed file, a matrix that does not fit the request), 1
/// for every other failure (I/O, resources).
fn exit_code(err: &(dyn std::error::Error + 'static)) -> ExitCode {
    use csr::Error as E;
    match err.downcast_ref::<csr::Error>() {
        Some(
            E::Parse { .. }
            | E::NotSymmetric { .. }
            | E::InvalidMmHeader { .. }
            | E::ValueNotInField { .. }
            | E::NotSquare { .. }
            | E::IndexTooNarrow { .. }
            | E::InvalidGenerator { .. }
            | E::DimensionMismatch { .. }
            | E::UnknownKernel { .. },
        ) => ExitCode::from(2),
        Some(E::Io { kind, .. }) if *kind == io::ErrorKind::InvalidData => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    }
}

fn is_broken_pipe(err: &(dyn std::error::Error + 'static)) -> bool {
    let kind = match err.downcast_ref::<csr::Error>() {
        // The library's writers report I/O failures as its own error type.
        Some(csr::Error::Io { kind, .. }) => Some(*kind),
        _ => err.downcast_ref::<io::Error>().map(io::Error::kind),
    };
    kind == Some(io::ErrorKind::BrokenPipe)
}
