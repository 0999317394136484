//! Format-level operations on [`Csr`](crate::Csr): sorting and cleanup, transposition,
//! dense conversion, permutations, submatrices, the diagonal, scaling, row normalisation,
//! addition (SpGEAM).

pub(crate) mod bucket;
mod column_blocks;
pub(crate) mod dense;
mod diagonal;
pub(crate) mod normalize;
pub(crate) mod permutation;
mod permute;
mod rows;
mod scale;
mod sort;
mod spgeam;
mod submatrix;
mod transpose;
