//! Format-level operations on [`Csr`](crate::Csr): sorting and cleanup, transposition,
//! dense conversion, permutations.

pub(crate) mod bucket;
mod dense;
pub(crate) mod permutation;
mod permute;
mod sort;
mod transpose;
