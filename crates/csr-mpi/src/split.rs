//! Splitting a rank's rows into the local block (owned columns) and the non-local block
//! (ghost columns, renumbered compactly).

use csr::{Csr, Index, Scalar};

use crate::error::Result;
use crate::partition::RowPartition;

/// A rank's rows split by column ownership.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Split<T, I> {
    /// Owned columns, renumbered from 0 (`rows x owned`).
    pub local: Csr<T, I>,
    /// Ghost columns, numbered by their place in `ghosts` (`rows x ghosts.len()`).
    pub nonlocal: Csr<T, I>,
    /// The global column of each ghost, increasing (so grouped by owner).
    pub ghosts: Vec<usize>,
}

/// Splits `rows` (global column indices) given the owned columns `owned`. Rows keep their
/// column order within each block.
pub(crate) fn split<T: Scalar, I: Index>(
    rows: &Csr<T, I>,
    owned: std::ops::Range<usize>,
) -> Result<Split<T, I>> {
    let mut ghosts: Vec<usize> = rows
        .col_idxs()
        .iter()
        .map(|c| c.to_usize())
        .filter(|c| !owned.contains(c))
        .collect();
    ghosts.sort_unstable();
    ghosts.dedup();
    let n = rows.nrows();
    let (mut lp, mut lc, mut lv) = (Vec::with_capacity(n + 1), Vec::new(), Vec::new());
    let (mut gp, mut gc, mut gv) = (Vec::with_capacity(n + 1), Vec::new(), Vec::new());
    lp.push(I::ZERO);
    gp.push(I::ZERO);
    for i in 0..n {
        let (cols, vals) = rows.row(i);
        for (c, &v) in cols.iter().zip(vals) {
            let c = c.to_usize();
            if owned.contains(&c) {
                lc.push(I::truncate(c - owned.start));
                lv.push(v);
            } else {
                // `ghosts` holds every non-owned column of `rows`.
                let g = ghosts.partition_point(|&x| x < c);
                gc.push(I::truncate(g));
                gv.push(v);
            }
        }
        lp.push(I::truncate(lc.len()));
        gp.push(I::truncate(gc.len()));
    }
    let local = Csr::try_from_parts(n, owned.len(), lp, lc, lv)?.with_strategy(rows.strategy());
    let nonlocal = Csr::try_from_parts(n, ghosts.len(), gp, gc, gv)?.with_strategy(rows.strategy());
    Ok(Split {
        local,
        nonlocal,
        ghosts,
    })
}

/// For each rank, the range of `ghosts` (increasing global columns) it owns.
pub(crate) fn ghost_ranges(ghosts: &[usize], cols: &RowPartition) -> Vec<std::ops::Range<usize>> {
    (0..cols.ranks())
        .map(|r| {
            let span = cols.range(r);
            let a = ghosts.partition_point(|&g| g < span.start);
            let b = ghosts.partition_point(|&g| g < span.end);
            a..b
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Csr<f64, i32> {
        // Global 2 x 8: columns 2..5 are owned.
        Csr::try_from_parts(
            2,
            8,
            vec![0, 4, 7],
            vec![7, 2, 0, 4, 3, 6, 0],
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        )
        .unwrap()
    }

    #[test]
    fn blocks_hold_every_entry_once() {
        let s = split(&rows(), 2..5).unwrap();
        assert_eq!(s.ghosts, vec![0, 6, 7]);
        assert_eq!(s.local.shape(), (2, 3));
        assert_eq!(
            s.local.iter().collect::<Vec<_>>(),
            vec![(0, 0, 2.0), (0, 2, 4.0), (1, 1, 5.0)]
        );
        assert_eq!(
            s.nonlocal.iter().collect::<Vec<_>>(),
            vec![(0, 2, 1.0), (0, 0, 3.0), (1, 1, 6.0), (1, 0, 7.0)]
        );
        // Rebuilding the global entries from both blocks gives the input back.
        let mut back: Vec<_> = s
            .local
            .iter()
            .map(|(i, j, v)| (i, j + 2, v))
            .chain(s.nonlocal.iter().map(|(i, g, v)| (i, s.ghosts[g], v)))
            .collect();
        back.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mut orig: Vec<_> = rows().iter().collect();
        orig.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(back, orig);
    }

    #[test]
    fn no_ghosts_and_no_rows() {
        let s = split(&rows(), 0..8).unwrap();
        assert!(s.ghosts.is_empty());
        assert_eq!((s.nonlocal.shape(), s.nonlocal.nnz()), ((2, 0), 0));
        let empty = Csr::<f64, i32>::empty(0, 8).unwrap();
        let s = split(&empty, 3..3).unwrap();
        assert_eq!((s.local.shape(), s.nonlocal.shape()), ((0, 0), (0, 0)));
    }

    #[test]
    fn ghosts_group_by_owner() {
        let cols = RowPartition::from_offsets(vec![0, 2, 5, 5, 8]).unwrap();
        let r = ghost_ranges(&[0, 1, 6, 7], &cols);
        assert_eq!(r, vec![0..2, 2..2, 2..2, 2..4]);
    }
}
