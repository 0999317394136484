//! [`Permutation`] and [`ScaledPermutation`], validated once when built, and
//! [`PermuteMode`], which says how [`Csr::permute`](crate::Csr::permute) applies one.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Extent, Result, check_fits};
use crate::parallel::{DisjointWriter, MIN_PARALLEL_WORK, alloc_output};
use crate::{Index, Scalar};

/// A permutation of `0..n`: every index appears exactly once (checked when it is built).
///
/// Entry `i` holds `p[i]`; [`PermuteMode`] says how the indices move rows and columns.
///
/// # Examples
///
/// ```
/// use csr::{Error, Permutation};
///
/// let p = Permutation::<i32>::try_new(vec![1, 2, 0])?;
/// assert_eq!(p.inverse().as_slice(), &[2, 0, 1]);
/// let bad = Permutation::<i32>::try_new(vec![1, 1, 0]);
/// assert_eq!(bad, Err(Error::RepeatedIndex { what: "permutation", pos: 1, index: 1, first: 0 }));
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permutation<I = i32> {
    indices: Vec<I>,
}

impl<I: Index> Permutation<I> {
    /// Checks that `indices` is a permutation of `0..indices.len()`.
    ///
    /// O(n), parallel for large `n`: each index sets its bit in a shared bitmap (`n / 8`
    /// bytes); only when an index is out of range or set twice is the input scanned again,
    /// serially, to name the first offending entry.
    ///
    /// # Errors
    /// The first offending entry: [`Error::IndexOutOfRange`] for a negative index or one
    /// `>= n`, [`Error::RepeatedIndex`] for an index seen before (naming both positions).
    pub fn try_new(indices: Vec<I>) -> Result<Self> {
        let n = indices.len();
        let seen: Vec<AtomicU64> = (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
        let valid = indices
            .par_iter()
            .with_min_len(MIN_PARALLEL_WORK)
            .all(|&p| match p.try_to_usize() {
                Some(k) if k < n => {
                    let bit = 1u64 << (k % 64);
                    seen[k / 64].fetch_or(bit, Ordering::Relaxed) & bit == 0
                }
                _ => false,
            });
        if valid {
            return Ok(Self { indices });
        }
        Err(first_offence(&indices))
    }

    /// The identity permutation of `0..n`.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if `n` does not fit `I`.
    pub fn identity(n: usize) -> Result<Self> {
        check_fits::<I>(Extent::Rows, n)?;
        Ok(Self {
            indices: (0..n).map(I::truncate).collect(),
        })
    }

    /// The number of indices.
    #[must_use]
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the permutation is of the empty set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The indices: entry `i` is `p[i]`.
    #[must_use]
    pub fn as_slice(&self) -> &[I] {
        &self.indices
    }

    /// The indices, owned.
    #[must_use]
    pub fn into_vec(self) -> Vec<I> {
        self.indices
    }

    /// The inverse permutation `q`, with `q[p[i]] = i`. Parallel for large `n`.
    #[must_use]
    pub fn inverse(&self) -> Self {
        let mut inv = alloc_output(self.indices.len(), I::ZERO);
        {
            let writer = DisjointWriter::new(&mut inv);
            self.indices
                .par_iter()
                .with_min_len(MIN_PARALLEL_WORK)
                .enumerate()
                .for_each(|(i, &p)| {
                    // SAFETY: the indices form a bijection on 0..n (checked by `try_new`;
                    // the field is private and never mutated), so every position `p` is
                    // written exactly once, by one thread.
                    unsafe { writer.write(p.to_usize(), I::truncate(i)) }
                });
        }
        Self { indices: inv }
    }
}

/// The first entry of `indices` that is out of `0..n` or repeats an earlier one, as an error
/// (a serial scan; `indices` is known not to be a permutation).
fn first_offence<I: Index>(indices: &[I]) -> Error {
    let n = indices.len();
    let mut first = vec![usize::MAX; n];
    for (pos, &p) in indices.iter().enumerate() {
        let k = match p.try_to_usize() {
            Some(k) if k < n => k,
            _ => {
                return Error::IndexOutOfRange {
                    what: "permutation",
                    pos,
                    index: p.to_i128(),
                    len: n,
                };
            }
        };
        if first[k] != usize::MAX {
            return Error::RepeatedIndex {
                what: "permutation",
                pos,
                index: k,
                first: first[k],
            };
        }
        first[k] = pos;
    }
    unreachable!("the parallel check found an out-of-range or repeated index")
}

/// A permutation with a scaling factor per index: the matrix `P·S` (scale, then permute), as
/// Ginkgo's `ScaledPermutation`.
///
/// Forward modes multiply an entry by the factors of the source row and column it came from;
/// inverse modes divide by the factors of the row and column it goes to, so applying a mode
/// and then its inverse restores the matrix (up to rounding).
///
/// # Examples
///
/// ```
/// use csr::{Permutation, ScaledPermutation};
///
/// let p = Permutation::<i32>::try_new(vec![1, 0])?;
/// let sp = ScaledPermutation::try_new(p, vec![2.0_f64, 3.0])?;
/// assert_eq!(sp.scale(), &[2.0, 3.0]);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ScaledPermutation<T, I = i32> {
    permutation: Permutation<I>,
    scale: Vec<T>,
}

impl<T: Scalar, I: Index> ScaledPermutation<T, I> {
    /// Attaches one scaling factor per index to `permutation`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `scale.len() == permutation.len()`.
    pub fn try_new(permutation: Permutation<I>, scale: Vec<T>) -> Result<Self> {
        if scale.len() != permutation.len() {
            return Err(Error::LengthMismatch {
                op: "ScaledPermutation::try_new",
                what: "scale",
                expected: permutation.len(),
                actual: scale.len(),
            });
        }
        Ok(Self { permutation, scale })
    }

    /// The permutation.
    #[must_use]
    pub fn permutation(&self) -> &Permutation<I> {
        &self.permutation
    }

    /// The scaling factors, indexed like the permuted rows or columns of the source matrix.
    #[must_use]
    pub fn scale(&self) -> &[T] {
        &self.scale
    }
}

/// How [`Csr::permute`](crate::Csr::permute) applies a permutation `p` to a matrix `A`,
/// giving `A'` (Ginkgo's seven `permute_mode`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PermuteMode {
    /// `A' = A` (a copy).
    None,
    /// `A'(i, j) = A(p[i], j)`: row `i` of the result is row `p[i]` of `A` (`P·A`).
    Rows,
    /// `A'(i, j) = A(i, p[j])` (`A·Pᵀ`).
    Columns,
    /// `A'(i, j) = A(p[i], p[j])` (`P·A·Pᵀ`); needs a square matrix.
    Symmetric,
    /// `A'(p[i], j) = A(i, j)`: row `i` of `A` moves to row `p[i]` (`Pᵀ·A`).
    InverseRows,
    /// `A'(i, p[j]) = A(i, j)` (`A·P`).
    InverseColumns,
    /// `A'(p[i], p[j]) = A(i, j)` (`Pᵀ·A·P`); needs a square matrix.
    InverseSymmetric,
}

impl PermuteMode {
    /// Every mode, in Ginkgo's order.
    pub const ALL: [PermuteMode; 7] = [
        PermuteMode::None,
        PermuteMode::Rows,
        PermuteMode::Columns,
        PermuteMode::Symmetric,
        PermuteMode::InverseRows,
        PermuteMode::InverseColumns,
        PermuteMode::InverseSymmetric,
    ];

    /// The mode that undoes this one with the same permutation (`None` stays `None`).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::PermuteMode;
    ///
    /// assert_eq!(PermuteMode::Rows.inverse(), PermuteMode::InverseRows);
    /// assert_eq!(PermuteMode::InverseSymmetric.inverse(), PermuteMode::Symmetric);
    /// ```
    #[must_use]
    pub fn inverse(self) -> Self {
        match self {
            PermuteMode::None => PermuteMode::None,
            PermuteMode::Rows => PermuteMode::InverseRows,
            PermuteMode::Columns => PermuteMode::InverseColumns,
            PermuteMode::Symmetric => PermuteMode::InverseSymmetric,
            PermuteMode::InverseRows => PermuteMode::Rows,
            PermuteMode::InverseColumns => PermuteMode::Columns,
            PermuteMode::InverseSymmetric => PermuteMode::Symmetric,
        }
    }

    /// Whether the mode moves rows.
    #[must_use]
    pub fn moves_rows(self) -> bool {
        matches!(
            self,
            PermuteMode::Rows
                | PermuteMode::Symmetric
                | PermuteMode::InverseRows
                | PermuteMode::InverseSymmetric
        )
    }

    /// Whether the mode moves columns.
    #[must_use]
    pub fn moves_columns(self) -> bool {
        matches!(
            self,
            PermuteMode::Columns
                | PermuteMode::Symmetric
                | PermuteMode::InverseColumns
                | PermuteMode::InverseSymmetric
        )
    }

    /// Whether the mode is one of the inverse modes.
    #[must_use]
    pub fn is_inverse(self) -> bool {
        matches!(
            self,
            PermuteMode::InverseRows | PermuteMode::InverseColumns | PermuteMode::InverseSymmetric
        )
    }
}
