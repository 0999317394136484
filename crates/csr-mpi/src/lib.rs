//! # csr-mpi: distributed CSR matrices over MPI
//!
//! A [`DistCsr`] spreads a sparse matrix over the ranks of an MPI communicator by
//! contiguous blocks of rows ([`RowPartition`]); each rank keeps its rows as two ordinary
//! [`csr::Csr`] matrices, the **local** block (columns it owns) and the **non-local** block
//! (ghost columns, renumbered compactly), and a communication plan made once. A
//! [`DistOperator`] multiplies with the halo exchange overlapped with the local block's
//! product; [`DistVector`]s give dot products and norms by `allreduce`; [`cg`] solves
//! symmetric positive definite systems, serially ([`SerialOperator`]) or distributed, by
//! the same code.
//!
//! Matrices come from one rank ([`DistCsr::scatter`]), from each rank's own rows
//! ([`DistCsr::from_local_rows`]), or from one Matrix Market file read in parallel
//! ([`read_mm`]: each rank parses its byte range).
//!
//! The transport is Open MPI (or any MPI) through the `mpi` crate, re-exported as
//! [`mpi`]. MPI is initialised once per process, by the program (`mpi::initialize()`).
//! Every constructor and reduction is collective: all ranks call it, in the same order.
//!
//! Values are `f32` or `f64` ([`Value`]); indices any [`csr::Index`].

#![deny(missing_docs)]
#![deny(unsafe_code)]

mod cg;
mod comm;
mod error;
mod matrix;
mod partition;
mod plan;
mod read;
mod scatter;
mod split;
mod spmv;
mod vector;

pub use cg::{CgOptions, CgResult, Operator, SerialOperator, cg};
pub use error::{Error, Result};
pub use matrix::DistCsr;
pub use mpi;
pub use partition::RowPartition;
pub use read::read_mm;
pub use spmv::{DistOperator, Phases};
pub use vector::DistVector;

/// The value types of distributed matrices: real floating point (`f32`, `f64`) that MPI
/// can send.
pub trait Value: csr::Scalar<Real = Self> + mpi::traits::Equivalence + num_traits::Float {}

impl<T: csr::Scalar<Real = T> + mpi::traits::Equivalence + num_traits::Float> Value for T {}
