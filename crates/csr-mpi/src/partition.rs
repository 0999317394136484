//! Contiguous partitions of rows (or vector entries) over ranks.

use crate::error::{Error, Result};

/// A contiguous partition of `0..n` over `P` ranks: rank `r` owns
/// `offsets[r]..offsets[r + 1]`. Ranks may own nothing.
///
/// # Examples
///
/// ```
/// use csr_mpi::RowPartition;
///
/// let p = RowPartition::from_offsets(vec![0, 3, 3, 7])?;
/// assert_eq!((p.ranks(), p.len()), (3, 7));
/// assert_eq!(p.range(1), 3..3);
/// assert_eq!(p.owner(3), 2);
/// # Ok::<(), csr_mpi::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowPartition {
    offsets: Vec<usize>,
}

impl RowPartition {
    /// The partition with the given `P + 1` offsets.
    ///
    /// # Errors
    /// [`Error::Partition`] unless there is at least one rank, the offsets start at 0 and
    /// never decrease.
    pub fn from_offsets(offsets: Vec<usize>) -> Result<Self> {
        let bad = |what: String| Err(Error::Partition { what });
        if offsets.len() < 2 {
            return bad(format!("{} offsets; need ranks + 1 >= 2", offsets.len()));
        }
        if offsets[0] != 0 {
            return bad(format!("offsets start at {}, not 0", offsets[0]));
        }
        if let Some(r) = offsets.windows(2).position(|w| w[0] > w[1]) {
            return bad(format!(
                "offsets decrease at rank {r}: {} > {}",
                offsets[r],
                offsets[r + 1]
            ));
        }
        Ok(Self { offsets })
    }

    /// `n` entries over `parts` ranks, in blocks whose sizes differ by at most one.
    pub fn uniform(n: usize, parts: usize) -> Self {
        Self::balanced(n, parts, |i| i)
    }

    /// `n` rows over `parts` ranks, balancing `weight(i)`: a nondecreasing prefix weight
    /// with `weight(0) == 0`, the total weight of rows `0..i`. Rank `r` starts at the first
    /// row whose prefix weight reaches `r · weight(n) / parts`.
    pub fn balanced(n: usize, parts: usize, weight: impl Fn(usize) -> usize) -> Self {
        let parts = parts.max(1);
        let total = weight(n) as u128;
        let mut offsets = Vec::with_capacity(parts + 1);
        offsets.push(0);
        for r in 1..parts {
            let target = total * r as u128 / parts as u128;
            let (mut lo, mut hi) = (*offsets.last().unwrap_or(&0), n);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if (weight(mid) as u128) < target {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            offsets.push(lo);
        }
        offsets.push(n);
        Self { offsets }
    }

    /// Rows balanced by stored entries plus rows (each row weighs its length + 1), given
    /// CSR row pointers (`row_ptrs[i]` entries before row `i`).
    pub fn by_entries(row_ptrs: &[usize], parts: usize) -> Self {
        let n = row_ptrs.len().saturating_sub(1);
        Self::balanced(n, parts, |i| row_ptrs[i] + i)
    }

    /// The number of ranks.
    pub fn ranks(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The number of rows partitioned.
    pub fn len(&self) -> usize {
        self.offsets[self.offsets.len() - 1]
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows of rank `r` (empty for a rank past the last).
    pub fn range(&self, r: usize) -> std::ops::Range<usize> {
        match (self.offsets.get(r), self.offsets.get(r + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => self.len()..self.len(),
        }
    }

    /// The `P + 1` offsets.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The rank owning row `i` (the last rank for `i >= len`).
    pub fn owner(&self, i: usize) -> usize {
        (self.offsets.partition_point(|&o| o <= i) - 1).min(self.ranks() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_offsets_are_refused() {
        for bad in [vec![], vec![0], vec![1, 2], vec![0, 3, 2]] {
            assert!(matches!(
                RowPartition::from_offsets(bad),
                Err(Error::Partition { .. })
            ));
        }
    }

    #[test]
    fn uniform_blocks_differ_by_at_most_one() {
        for n in 0..40 {
            for parts in 1..9 {
                let p = RowPartition::uniform(n, parts);
                assert_eq!((p.ranks(), p.len()), (parts, n));
                let sizes: Vec<usize> = (0..parts).map(|r| p.range(r).len()).collect();
                let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
                assert!(
                    hi.unwrap() - lo.unwrap() <= 1,
                    "{n} over {parts}: {sizes:?}"
                );
            }
        }
    }

    #[test]
    fn owner_inverts_range() {
        let p = RowPartition::from_offsets(vec![0, 0, 4, 4, 4, 9, 9]).unwrap();
        for r in 0..p.ranks() {
            for i in p.range(r) {
                assert_eq!(p.owner(i), r);
            }
        }
        assert_eq!(p.owner(100), 5);
    }

    #[test]
    fn by_entries_balances_a_heavy_row() {
        // Row 0 holds 100 entries, rows 1..=100 one each: weight 101 + 200.
        let mut ptrs = vec![0, 100];
        ptrs.extend((1..=100).map(|i| 100 + i));
        let p = RowPartition::by_entries(&ptrs, 2);
        // Half the weight (150.5) is reached inside the light rows, not at row 1.
        let w = |i: usize| ptrs[i] + i;
        let cut = p.offsets()[1];
        assert!(w(cut) >= 150 && w(cut - 1) < 151, "cut at {cut}");
        // More ranks than rows: the extra ranks own nothing, every row is owned once.
        let p = RowPartition::by_entries(&[0, 2, 3], 5);
        assert_eq!(p.len(), 2);
        assert_eq!((0..5).map(|r| p.range(r).len()).sum::<usize>(), 2);
    }
}
