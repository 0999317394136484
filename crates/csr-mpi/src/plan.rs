//! The communication plan of an SpMV: which ghost values each neighbour sends here, and
//! which owned `x` entries go to each neighbour.

use crate::comm::Comm;
use crate::error::{Error, Result};
use crate::partition::RowPartition;
use crate::split::ghost_ranges;

/// Who sends what, made once per matrix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// `(rank, ghosts)`: the neighbours that send here, in rank order, with how many ghost
    /// values each sends (consecutive in the ghost array, in this order).
    pub recv: Vec<(usize, usize)>,
    /// `(rank, range of send_idx)`: the neighbours this rank sends to, in rank order.
    pub send: Vec<(usize, std::ops::Range<usize>)>,
    /// Positions in the local part of `x` of the values sent, neighbour after neighbour.
    pub send_idx: Vec<usize>,
}

impl Plan {
    /// Makes the plan (collective): each rank tells each owner which of its columns it
    /// needs.
    pub fn new(comm: &Comm, ghosts: &[usize], cols: &RowPartition) -> Result<Self> {
        let ranges = ghost_ranges(ghosts, cols);
        let recv = ranges
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.is_empty())
            .map(|(rank, r)| (rank, r.len()))
            .collect();
        let wanted: Vec<u64> = ghosts.iter().map(|&g| g as u64).collect();
        let counts: Vec<usize> = ranges.iter().map(ExactSizeIterator::len).collect();
        let (asked, from) = comm.all_to_all_v("halo plan", &wanted, &counts)?;
        let owned = cols.range(comm.rank);
        let send_idx: Result<Vec<usize>> = asked
            .iter()
            .map(|&g| {
                usize::try_from(g)
                    .ok()
                    .filter(|g| owned.contains(g))
                    .map(|g| g - owned.start)
                    .ok_or_else(|| Error::Mismatch {
                        op: "halo plan",
                        what: format!("column {g} asked of a rank owning {owned:?}"),
                    })
            })
            .collect();
        let send_idx = comm.agree(send_idx)?;
        let mut send = Vec::new();
        let mut at = 0;
        for (rank, n) in from.into_iter().enumerate() {
            if n > 0 {
                send.push((rank, at..at + n));
            }
            at += n;
        }
        Ok(Self {
            recv,
            send,
            send_idx,
        })
    }
}
