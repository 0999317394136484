//! Scattering a matrix held by one rank: each rank receives its rows.

use csr::{Csr, Index};
use mpi::Count;
use mpi::datatype::Partition;
use mpi::traits::*;

use crate::Value;
use crate::comm::{Comm, count};
use crate::error::Result;
use crate::partition::RowPartition;

/// Sends `parts[r]` of `all` to rank `r` from rank 0 (which passes `Some`), receiving
/// `len` elements here (collective).
fn scatter_parts<X: Equivalence + Copy + Default>(
    comm: &Comm,
    all: Option<(&[X], &[usize])>,
    len: usize,
) -> Result<Vec<X>> {
    let mut recv = vec![X::default(); len];
    let root = comm.process(0);
    match all {
        Some((data, counts)) => {
            let counts = counts
                .iter()
                .map(|&n| count("scatter", n))
                .collect::<Result<Vec<Count>>>();
            let counts = comm.agree(counts)?;
            let displs: Vec<Count> = counts
                .iter()
                .scan(0, |acc, &n| {
                    let d = *acc;
                    *acc += n;
                    Some(d)
                })
                .collect();
            let part = Partition::new(data, &counts[..], &displs[..]);
            root.scatter_varcount_into_root(&part, &mut recv[..]);
        }
        None => {
            comm.agree(Ok(()))?;
            root.scatter_varcount_into(&mut recv[..]);
        }
    }
    Ok(recv)
}

/// This rank's rows of `a` (held by rank 0, `None` elsewhere), with global columns
/// (collective).
pub(crate) fn scatter_rows<T: Value, I: Index>(
    comm: &Comm,
    a: Option<&Csr<T, I>>,
    partition: &RowPartition,
    ncols: usize,
) -> Result<Csr<T, I>> {
    let mine = partition.range(comm.rank);
    let ranks = 0..partition.ranks();
    let lens: Option<Vec<u64>> = a.map(|a| a.row_lengths().map(|n| n as u64).collect());
    let row_counts: Vec<usize> = ranks.clone().map(|r| partition.range(r).len()).collect();
    let lengths = scatter_parts(
        comm,
        lens.as_deref().map(|l| (l, &row_counts[..])),
        mine.len(),
    )?;
    let nnz_counts: Option<Vec<usize>> = a.map(|a| {
        ranks
            .map(|r| {
                let rows = partition.range(r);
                a.row_ptrs()[rows.end].to_usize() - a.row_ptrs()[rows.start].to_usize()
            })
            .collect()
    });
    let nnz = lengths.iter().map(|&n| n as usize).sum();
    let cols: Option<Vec<u64>> =
        a.map(|a| a.col_idxs().iter().map(|c| c.to_usize() as u64).collect());
    let my_cols = scatter_parts(comm, cols.as_deref().zip(nnz_counts.as_deref()), nnz)?;
    let vals = scatter_parts(comm, a.map(|a| a.values()).zip(nnz_counts.as_deref()), nnz)?;
    let mut ptrs = Vec::with_capacity(mine.len() + 1);
    ptrs.push(I::ZERO);
    let mut acc = 0;
    for &n in &lengths {
        acc += n as usize;
        ptrs.push(I::truncate(acc));
    }
    let cols = my_cols
        .into_iter()
        .map(|c| I::truncate(c as usize))
        .collect();
    Ok(Csr::try_from_parts(mine.len(), ncols, ptrs, cols, vals)?)
}
