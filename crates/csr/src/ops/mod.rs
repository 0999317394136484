//! Format-level operations on [`Csr`](crate::Csr): sorting and cleanup, transposition,
//! dense conversion.

mod dense;
mod sort;
mod transpose;
