//! The communicator the distributed objects share, and the collective helpers they use.

use mpi::Count;
use mpi::collective::SystemOperation;
use mpi::datatype::{Partition, PartitionMut};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::error::{Error, Result};

/// A duplicate of the caller's communicator (so that our messages never match theirs),
/// with its rank and size.
pub(crate) struct Comm {
    pub world: SimpleCommunicator,
    pub rank: usize,
    pub size: usize,
}

/// Converts a count to an MPI count.
pub(crate) fn count(what: &'static str, n: usize) -> Result<Count> {
    Count::try_from(n).map_err(|_| Error::TooLarge { what, count: n })
}

/// A rank number as MPI takes it (ranks fit `Count` by construction).
fn mpi_rank(r: usize) -> mpi::Rank {
    mpi::Rank::try_from(r).unwrap_or(mpi::Rank::MAX)
}

impl Comm {
    /// Duplicates `comm` (collective).
    pub fn new(comm: &impl Communicator) -> Self {
        let world = comm.duplicate();
        let rank = usize::try_from(world.rank()).unwrap_or(0);
        let size = usize::try_from(world.size()).unwrap_or(1);
        Self { world, rank, size }
    }

    /// The process with rank `r`.
    pub fn process(&self, r: usize) -> mpi::topology::Process<'_> {
        self.world.process_at_rank(mpi_rank(r))
    }

    /// Makes every rank fail when any does (collective): the first failing rank keeps its
    /// error and the others get a copy (see [`Error`]).
    pub fn agree<X>(&self, local: Result<X>) -> Result<X> {
        let mine = if local.is_err() { self.rank } else { self.size } as u64;
        let mut first = 0_u64;
        self.world
            .all_reduce_into(&mine, &mut first, SystemOperation::min());
        let Ok(first) = usize::try_from(first) else {
            return local;
        };
        if first >= self.size {
            return local;
        }
        let mut bytes = match &local {
            Err(e) if self.rank == first => e.encode(),
            _ => Vec::new(),
        };
        let mut len = bytes.len() as u64;
        self.process(first).broadcast_into(&mut len);
        bytes.resize(usize::try_from(len).unwrap_or(0), 0);
        self.process(first).broadcast_into(&mut bytes[..]);
        match local {
            Err(e) if self.rank == first => Err(e),
            _ => Err(Error::decode(first, &bytes)),
        }
    }

    /// Every rank's `x`, in rank order (collective).
    pub fn all_gather(&self, x: u64) -> Vec<u64> {
        let mut all = vec![0_u64; self.size];
        self.world.all_gather_into(&x, &mut all[..]);
        all
    }

    /// The elementwise sum over ranks of `values`, in place (collective).
    pub fn sum_in_place<T: Equivalence + Copy>(&self, values: &mut [T]) {
        if self.size == 1 || values.is_empty() {
            return;
        }
        let mine = values.to_vec();
        self.world
            .all_reduce_into(&mine[..], values, SystemOperation::sum());
    }

    /// Sends `send[displs[r]..displs[r] + counts[r]]` to each rank `r` (the parts in rank
    /// order) and returns what each rank sent here, concatenated in rank order, with the
    /// count from each (collective).
    pub fn all_to_all_v<T: Equivalence + Copy + Default>(
        &self,
        what: &'static str,
        send: &[T],
        counts: &[usize],
    ) -> Result<(Vec<T>, Vec<usize>)> {
        let send_counts = counts
            .iter()
            .map(|&n| count(what, n))
            .collect::<Result<Vec<_>>>();
        let send_counts = self.agree(send_counts.and_then(|c| {
            count(what, send.len())?;
            Ok(c)
        }))?;
        let mut recv_counts = vec![0 as Count; self.size];
        self.world
            .all_to_all_into(&send_counts[..], &mut recv_counts[..]);
        let received: usize = recv_counts
            .iter()
            .map(|&c| usize::try_from(c).unwrap_or(0))
            .sum();
        self.agree(count(what, received))?;
        let displs = |c: &[Count]| {
            c.iter()
                .scan(0, |acc, &n| {
                    let d = *acc;
                    *acc += n;
                    Some(d)
                })
                .collect::<Vec<Count>>()
        };
        let send_displs = displs(&send_counts);
        let recv_displs = displs(&recv_counts);
        let mut recv = vec![T::default(); received];
        {
            let sp = Partition::new(send, &send_counts[..], &send_displs[..]);
            let mut rp = PartitionMut::new(&mut recv[..], &recv_counts[..], &recv_displs[..]);
            self.world.all_to_all_varcount_into(&sp, &mut rp);
        }
        let from = recv_counts
            .iter()
            .map(|&c| usize::try_from(c).unwrap_or(0))
            .collect();
        Ok((recv, from))
    }
}
