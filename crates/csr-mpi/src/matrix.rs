//! [`DistCsr`]: a row-partitioned matrix, its two blocks, ghost map and communication plan.

use std::ops::Range;
use std::rc::Rc;

use csr::{Csr, Index};
use mpi::traits::Communicator;

use crate::Value;
use crate::comm::Comm;
use crate::error::{Error, Result};
use crate::partition::RowPartition;
use crate::plan::Plan;
use crate::split::split;
use crate::vector::DistVector;

/// A sparse matrix distributed over the ranks of a communicator by contiguous blocks of
/// rows, as PETSc's `MatMPIAIJ` and Ginkgo's `distributed::Matrix` keep it.
///
/// Each rank holds its rows split in two ordinary [`Csr`] matrices, so that every kernel and
/// SpMV strategy of `csr` runs on each:
/// - the **local** block: the columns this rank owns (its block of the column partition,
///   which for a square matrix is the row partition), renumbered from 0;
/// - the **non-local** block: the other columns (*ghosts*), renumbered `0..ghosts` in
///   increasing global order, which groups them by owner.
///
/// The communication plan, made once by the constructors, lists which ghost values each
/// neighbour sends here and which owned `x` entries this rank sends to each neighbour; an
/// SpMV sends exactly those (see [`DistOperator`](crate::DistOperator)).
///
/// Every constructor is collective: all ranks of the communicator call it, and when one
/// fails all fail, with the same error (see [`Error`]).
pub struct DistCsr<T, I = i32> {
    pub(crate) comm: Rc<Comm>,
    pub(crate) rows: Rc<RowPartition>,
    pub(crate) cols: Rc<RowPartition>,
    pub(crate) local: Csr<T, I>,
    pub(crate) nonlocal: Csr<T, I>,
    pub(crate) ghosts: Vec<usize>,
    pub(crate) plan: Plan,
}

impl<T: Value, I: Index> DistCsr<T, I> {
    /// Builds the matrix from each rank's own rows, given with global column indices: rank
    /// `r`'s rows follow rank `r - 1`'s. Every rank must give the same column count. The
    /// columns are partitioned like the rows when the matrix is square, else uniformly.
    ///
    /// # Errors
    /// [`Error::Mismatch`] if the column counts differ; [`Error::TooLarge`] for messages of
    /// over `i32::MAX` elements; [`Error::Csr`] if a block cannot be built.
    pub fn from_local_rows(comm: &impl Communicator, rows: Csr<T, I>) -> Result<Self> {
        let comm = Rc::new(Comm::new(comm));
        let nrows = comm.all_gather(rows.nrows() as u64);
        let ncols = comm.all_gather(rows.ncols() as u64);
        if ncols.iter().any(|&c| c != ncols[0]) {
            return Err(Error::Mismatch {
                op: "DistCsr::from_local_rows",
                what: format!("ranks give different column counts: {ncols:?}"),
            });
        }
        let offsets = std::iter::once(0)
            .chain(nrows.iter().scan(0_usize, |acc, &n| {
                *acc += usize::try_from(n).unwrap_or(usize::MAX);
                Some(*acc)
            }))
            .collect();
        let partition = RowPartition::from_offsets(offsets)?;
        Self::assemble(comm, partition, rows)
    }

    /// Scatters `a`, held by rank 0 (the argument is ignored elsewhere), by `partition` if
    /// given (read on rank 0 only), else balanced by entries plus rows
    /// ([`RowPartition::by_entries`]).
    ///
    /// # Errors
    /// [`Error::Mismatch`] on every rank if rank 0 has no matrix, or the partition is not
    /// of its rows over the communicator's ranks; as [`DistCsr::from_local_rows`].
    pub fn scatter(
        comm: &impl Communicator,
        a: Option<&Csr<T, I>>,
        partition: Option<&RowPartition>,
    ) -> Result<Self> {
        let comm = Rc::new(Comm::new(comm));
        let root = comm.rank == 0;
        let plan = || -> Result<(&Csr<T, I>, RowPartition)> {
            let mismatch = |what: String| Error::Mismatch {
                op: "DistCsr::scatter",
                what,
            };
            let a = a.ok_or_else(|| mismatch("rank 0 holds no matrix".into()))?;
            let p = match partition {
                Some(p) => p.clone(),
                None => {
                    let ptrs: Vec<usize> = a.row_ptrs().iter().map(|p| p.to_usize()).collect();
                    RowPartition::by_entries(&ptrs, comm.size)
                }
            };
            if p.ranks() != comm.size || p.len() != a.nrows() {
                return Err(mismatch(format!(
                    "a partition of {} rows over {} ranks for {} rows over {} ranks",
                    p.len(),
                    p.ranks(),
                    a.nrows(),
                    comm.size
                )));
            }
            Ok((a, p))
        };
        let planned = comm.agree(if root { plan().map(Some) } else { Ok(None) })?;
        // The shape and offsets, from rank 0.
        let mut head = vec![0_u64; comm.size + 2];
        if let Some((a, p)) = &planned {
            head[0] = a.nrows() as u64;
            head[1] = a.ncols() as u64;
            for (h, &o) in head[2..].iter_mut().zip(&p.offsets()[1..]) {
                *h = o as u64;
            }
        }
        mpi::traits::Root::broadcast_into(&comm.process(0), &mut head[..]);
        let to_usize = |x: u64| usize::try_from(x).unwrap_or(usize::MAX);
        let offsets: Vec<usize> = std::iter::once(0)
            .chain(head[2..].iter().map(|&x| to_usize(x)))
            .collect();
        let partition = RowPartition::from_offsets(offsets)?;
        let ncols = to_usize(head[1]);
        let mine = partition.range(comm.rank);
        let rows = crate::scatter::scatter_rows(
            &comm,
            planned.as_ref().map(|(a, _)| *a),
            &partition,
            ncols,
        )?;
        debug_assert_eq!(rows.nrows(), mine.len());
        Self::assemble(comm, partition, rows)
    }

    /// Builds the blocks and the plan from this rank's rows (global columns) and the row
    /// partition every rank agrees on.
    pub(crate) fn assemble(comm: Rc<Comm>, rows: RowPartition, mine: Csr<T, I>) -> Result<Self> {
        let ncols = mine.ncols();
        let cols = if ncols == rows.len() {
            rows.clone()
        } else {
            RowPartition::uniform(ncols, comm.size)
        };
        let parts = comm.agree(split(&mine, cols.range(comm.rank)))?;
        let plan = Plan::new(&comm, &parts.ghosts, &cols)?;
        Ok(Self {
            comm,
            rows: Rc::new(rows),
            cols: Rc::new(cols),
            local: parts.local,
            nonlocal: parts.nonlocal,
            ghosts: parts.ghosts,
            plan,
        })
    }

    /// The global shape.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows.len(), self.cols.len())
    }

    /// This rank's number in the communicator, and the number of ranks.
    pub fn rank(&self) -> (usize, usize) {
        (self.comm.rank, self.comm.size)
    }

    /// The partition of the rows (and of `y` in `y = A·x`).
    pub fn row_partition(&self) -> &RowPartition {
        &self.rows
    }

    /// The partition of the columns (and of `x`).
    pub fn col_partition(&self) -> &RowPartition {
        &self.cols
    }

    /// The global rows this rank holds.
    pub fn my_rows(&self) -> Range<usize> {
        self.rows.range(self.comm.rank)
    }

    /// The local block: this rank's rows, owned columns renumbered from 0.
    pub fn local(&self) -> &Csr<T, I> {
        &self.local
    }

    /// The non-local block: this rank's rows, ghost columns renumbered `0..ghosts().len()`.
    pub fn nonlocal(&self) -> &Csr<T, I> {
        &self.nonlocal
    }

    /// The global column of each ghost, increasing.
    pub fn ghosts(&self) -> &[usize] {
        &self.ghosts
    }

    /// Stored entries on this rank (both blocks).
    pub fn local_nnz(&self) -> usize {
        self.local.nnz() + self.nonlocal.nnz()
    }

    /// The `x` entries this rank sends per SpMV, and to how many neighbours.
    pub fn halo_sends(&self) -> (usize, usize) {
        (self.plan.send_idx.len(), self.plan.send.len())
    }

    /// A vector partitioned like the rows (a `y`), entry `i` (global) being `f(i)`.
    pub fn row_vector(&self, f: impl Fn(usize) -> T) -> DistVector<T> {
        DistVector::from_fn(&self.comm, &self.rows, f)
    }

    /// A vector partitioned like the columns (an `x`), entry `j` (global) being `f(j)`.
    pub fn col_vector(&self, f: impl Fn(usize) -> T) -> DistVector<T> {
        DistVector::from_fn(&self.comm, &self.cols, f)
    }
}
