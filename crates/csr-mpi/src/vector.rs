//! [`DistVector`]: a vector partitioned like a matrix's rows or columns.

use std::rc::Rc;

use mpi::Count;
use mpi::datatype::PartitionMut;
use mpi::traits::*;

use crate::Value;
use crate::comm::{Comm, count};
use crate::error::{Error, Result};
use crate::partition::RowPartition;

/// A dense vector split over the ranks by a [`RowPartition`]: each rank holds its block.
/// Made by a matrix ([`DistCsr::row_vector`](crate::DistCsr::row_vector),
/// [`DistCsr::col_vector`](crate::DistCsr::col_vector)), so that it shares the matrix's
/// communicator and partition.
///
/// Reductions ([`dot`](Self::dot), [`norm`](Self::norm)) are collective and give every
/// rank the same value; elementwise operations are local.
#[derive(Clone)]
pub struct DistVector<T> {
    pub(crate) comm: Rc<Comm>,
    pub(crate) partition: Rc<RowPartition>,
    local: Vec<T>,
}

/// `Σ a[i]·b[i]`, summed in order.
pub(crate) fn local_dot<T: Value>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).map(|(&x, &y)| x * y).sum()
}

/// `y += alpha·x`.
pub(crate) fn axpy<T: Value>(y: &mut [T], alpha: T, x: &[T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

impl<T: Value> DistVector<T> {
    pub(crate) fn from_fn(
        comm: &Rc<Comm>,
        partition: &Rc<RowPartition>,
        f: impl Fn(usize) -> T,
    ) -> Self {
        Self {
            comm: Rc::clone(comm),
            partition: Rc::clone(partition),
            local: partition.range(comm.rank).map(f).collect(),
        }
    }

    /// This rank's entries.
    pub fn local(&self) -> &[T] {
        &self.local
    }

    /// This rank's entries, to change.
    pub fn local_mut(&mut self) -> &mut [T] {
        &mut self.local
    }

    /// The partition.
    pub fn partition(&self) -> &RowPartition {
        &self.partition
    }

    pub(crate) fn check_same(&self, op: &'static str, other: &Self) -> Result<()> {
        if Rc::ptr_eq(&self.partition, &other.partition) || self.partition == other.partition {
            return Ok(());
        }
        Err(Error::Mismatch {
            op,
            what: format!(
                "vectors partitioned {:?} and {:?}",
                self.partition.offsets(),
                other.partition.offsets()
            ),
        })
    }

    /// `xᵀy` over all ranks (collective, one `allreduce`): each rank sums its block in
    /// order, then the blocks' sums are added.
    ///
    /// # Errors
    /// [`Error::Mismatch`] if the partitions differ.
    pub fn dot(&self, other: &Self) -> Result<T> {
        self.check_same("DistVector::dot", other)?;
        let mut s = [local_dot(&self.local, &other.local)];
        self.comm.sum_in_place(&mut s);
        Ok(s[0])
    }

    /// The 2-norm (collective, one `allreduce`).
    pub fn norm(&self) -> T {
        let mut s = [local_dot(&self.local, &self.local)];
        self.comm.sum_in_place(&mut s);
        num_traits::Float::sqrt(s[0])
    }

    /// `self += alpha·x` (local).
    ///
    /// # Errors
    /// [`Error::Mismatch`] if the partitions differ.
    pub fn axpy(&mut self, alpha: T, x: &Self) -> Result<()> {
        self.check_same("DistVector::axpy", x)?;
        axpy(&mut self.local, alpha, &x.local);
        Ok(())
    }

    /// The whole vector on rank `root` (`None` on the others) (collective).
    ///
    /// # Errors
    /// [`Error::TooLarge`] if a block holds more than `i32::MAX` entries.
    pub fn gather(&self, root: usize) -> Result<Option<Vec<T>>> {
        let comm = &self.comm;
        let p = &self.partition;
        let layout = || -> Result<(Vec<Count>, Vec<Count>)> {
            let counts = (0..p.ranks())
                .map(|r| count("gather", p.range(r).len()))
                .collect::<Result<_>>()?;
            count("gather", p.len())?;
            let displs = p.offsets()[..p.ranks()]
                .iter()
                .map(|&o| count("gather", o))
                .collect::<Result<_>>()?;
            Ok((counts, displs))
        };
        let (counts, displs) = comm.agree(layout())?;
        let process = comm.process(root);
        if comm.rank != root {
            process.gather_varcount_into(&self.local[..]);
            return Ok(None);
        }
        let mut all = vec![T::zero(); p.len()];
        {
            let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            process.gather_varcount_into_root(&self.local[..], &mut part);
        }
        Ok(Some(all))
    }
}

impl<T> AsRef<[T]> for DistVector<T> {
    fn as_ref(&self) -> &[T] {
        &self.local
    }
}

impl<T> AsMut<[T]> for DistVector<T> {
    fn as_mut(&mut self) -> &mut [T] {
        &mut self.local
    }
}
