//! Format-level operations on [`Csr`](crate::Csr): sorting and cleanup, transposition,
//! dense conversion.

pub(crate) mod bucket;
mod dense;
mod sort;
mod transpose;
