//! Distributed CSR.
pub use mpi;
