//! Reading one Matrix Market file in parallel: each rank parses its byte range, then the
//! entries travel to the ranks owning their rows.

use std::path::Path;
use std::rc::Rc;

use csr::io::mm::{MmPieces, PieceCount, ReadOptions};
use csr::{Csr, Index, MatrixData};
use mpi::traits::Communicator;

use crate::Value;
use crate::comm::Comm;
use crate::error::{Error, Result};
use crate::matrix::DistCsr;
use crate::partition::RowPartition;

/// Reads a Matrix Market file into a [`DistCsr`] (collective; every rank opens the same
/// path, so the file must be visible to all of them).
///
/// Rank `r` of `P` parses the `r`-th of `P` newline-aligned byte ranges of the data section
/// (a gzipped file is decompressed by every rank first). Line numbers come from an exchange
/// of per-range line counts, so errors name the line the serial reader names, and every
/// rank returns the same error: the first in file order. Rows are then partitioned by
/// entries plus rows ([`RowPartition::by_entries`], from the row counts summed over ranks:
/// one `allreduce` of `nrows` counts), and every entry is sent to the rank owning its row,
/// in file order (stored entries first, then the mirrored ones of a symmetric file), so the
/// matrix equals [`csr::io::mm::read_csr_with`]'s, duplicates summed in the same order.
///
/// # Errors
/// As [`csr::io::mm::read_csr_with`] ([`Error::Csr`]), on every rank; [`Error::TooLarge`]
/// for messages over `i32::MAX` elements.
pub fn read_mm<T: Value, I: Index>(
    comm: &impl Communicator,
    path: impl AsRef<Path>,
    options: &ReadOptions,
) -> Result<DistCsr<T, I>> {
    let comm = Rc::new(Comm::new(comm));
    let file = comm.agree(MmPieces::open(path).map_err(Error::from))?;
    let piece = file.piece(comm.rank, comm.size);
    let lines = comm.all_gather(piece.count().lines as u64);
    let entries = comm.all_gather(piece.count().entries as u64);
    let sum = |v: &[u64]| {
        v.iter()
            .map(|&x| usize::try_from(x).unwrap_or(usize::MAX))
            .sum()
    };
    let before = PieceCount {
        lines: sum(&lines[..comm.rank]),
        entries: sum(&entries[..comm.rank]),
    };
    let data = comm.agree(
        file.read_piece::<T, I>(&piece, before, options)
            .map_err(Error::from),
    )?;
    comm.agree(
        file.check_entry_total(PieceCount {
            lines: sum(&lines),
            entries: sum(&entries),
        })
        .map_err(Error::from),
    )?;
    let (nrows, ncols) = (file.header().nrows, file.header().ncols);
    drop(file);
    // Row weights summed over ranks, then the partition every rank computes alike. A
    // declared row count too large to allocate is an error, as in the serial reader.
    let mut counts =
        comm.agree(zeros(nrows).map_err(|what| Error::Csr(csr::Error::SizeOverflow { what })))?;
    for r in data.rows() {
        counts[r.to_usize()] += 1;
    }
    comm.sum_in_place(&mut counts);
    let mut ptrs = Vec::with_capacity(nrows + 1);
    ptrs.push(0_usize);
    for &c in &counts {
        ptrs.push(ptrs[ptrs.len() - 1] + usize::try_from(c).unwrap_or(usize::MAX));
    }
    drop(counts);
    let partition = RowPartition::by_entries(&ptrs, comm.size);
    drop(ptrs);
    // The stored entries (a prefix of the piece's: `read_piece` appends mirrored ones),
    // then the mirrored ones, each routed to the owners in file order.
    let stored = piece.count().entries.min(data.len());
    let (_, _, rows, cols, vals) = data.into_parts();
    let mine = partition.range(comm.rank);
    let mut local = MatrixData::<T, I>::new(mine.len(), ncols)?;
    for part in [0..stored, stored..rows.len()] {
        let (r, c, v) = route(
            &comm,
            &partition,
            &rows[part.clone()],
            &cols[part.clone()],
            &vals[part],
        )?;
        for ((r, c), v) in r.into_iter().zip(c).zip(v) {
            local.push(r - mine.start, c, v)?;
        }
    }
    drop((rows, cols, vals));
    let a =
        comm.agree(Csr::from_matrix_data_with(&local, options.duplicates).map_err(Error::from))?;
    DistCsr::assemble(comm, partition, a)
}

/// `n` zeros, or an error if they cannot be allocated.
fn zeros(n: usize) -> Result<Vec<u64>, &'static str> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| "the row counts of the declared rows")?;
    v.resize(n, 0);
    Ok(v)
}

/// Sends each triplet to the rank owning its row (collective); returns the triplets
/// received, in rank order, each rank's in its order.
fn route<T: Value, I: Index>(
    comm: &Comm,
    partition: &RowPartition,
    rows: &[I],
    cols: &[I],
    vals: &[T],
) -> Result<(Vec<usize>, Vec<usize>, Vec<T>)> {
    let owner: Vec<usize> = rows.iter().map(|r| partition.owner(r.to_usize())).collect();
    let mut counts = vec![0_usize; comm.size];
    for &o in &owner {
        counts[o] += 1;
    }
    let mut at: Vec<usize> = counts
        .iter()
        .scan(0, |acc, &n| {
            let d = *acc;
            *acc += n;
            Some(d)
        })
        .collect();
    let n = rows.len();
    let (mut sr, mut sc, mut sv) = (vec![0_u64; n], vec![0_u64; n], vec![T::zero(); n]);
    for k in 0..n {
        let slot = &mut at[owner[k]];
        sr[*slot] = rows[k].to_usize() as u64;
        sc[*slot] = cols[k].to_usize() as u64;
        sv[*slot] = vals[k];
        *slot += 1;
    }
    let index = |v: Vec<u64>| -> Vec<usize> {
        v.into_iter()
            .map(|x| usize::try_from(x).unwrap_or(usize::MAX))
            .collect()
    };
    let (rr, _) = comm.all_to_all_v("entries", &sr, &counts)?;
    let (rc, _) = comm.all_to_all_v("entries", &sc, &counts)?;
    let (rv, _) = comm.all_to_all_v("entries", &sv, &counts)?;
    Ok((index(rr), index(rc), rv))
}
