//! [`Strategy`]: how the native kernel spreads a sparse matrix–vector product over threads.
//!
//! | strategy | name | work split |
//! |---|---|---|
//! | [`Strategy::Classical`] | `classical` | equal numbers of rows per thread |
//! | [`Strategy::LoadBalance`] | `load_balance` | row blocks of about equal entries + rows; rows are never split |
//! | [`Strategy::MergePath`] | `merge_path` | Merrill–Garland merge-path tiles of rows + entries; long rows are split, a carry pass finishes them |
//! | [`Strategy::Sparselib`] | `sparselib` | the vendor library (MKL's inspector–executor SpMV) |
//! | [`Strategy::Compressed`] | `compressed` | nnz-balanced row blocks over a compact index encoding made with the handle: runs of rows sharing one pattern of column offsets read no column indices |
//! | [`Strategy::Tiled`] | `tiled` | bands of 65 536 rows over a copy of the matrix cut into 65 536-column tiles with 16-bit in-tile indices: scattered reads of `x` hit the L2 cache |
//! | [`Strategy::Automatic`] | `automatic` | picks one of the above from row statistics when the handle is made |
//!
//! `classical` and `load_balance` prefetch `x` ahead of its reads when a sample of rows shows
//! scattered columns (most entries more than 32 768 columns from their row).
//!
//! A strategy travels with the matrix ([`Csr::set_strategy`](crate::Csr::set_strategy)), like
//! Ginkgo's `set_strategy`; the kernel reads it when it makes a handle, computes the
//! partition once, and reports what it runs with
//! [`Handle::strategy`](crate::kernel::Handle::strategy).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// How the native kernel splits SpMV and SpMM work (`mult_vec`, `mult_dense`) over threads.
///
/// Every strategy except `merge_path` (and `tiled` on rows whose columns are not sorted or
/// that hold 16 entries or more) sums each row in the reference kernel's order (left to
/// right from zero; rows of 16 entries or more in 8 interleaved partial sums), so their
/// results are bit-identical to each other and to the reference kernel. `merge_path` splits
/// rows longer than one of its tiles and adds the pieces in order afterwards; its tiles do not
/// depend on the thread count, so its results do not either.
///
/// # Examples
///
/// ```
/// use csr::{Csr, Strategy};
///
/// let s: Strategy = "merge_path".parse()?;
/// assert_eq!(s, Strategy::MergePath);
/// assert_eq!(s.to_string(), "merge_path");
/// let a = Csr::<f64, i32>::identity(3)?.with_strategy(s);
/// assert_eq!(a.strategy(), Strategy::MergePath);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// Rows split into equal-count contiguous blocks, one per thread.
    Classical,
    /// Rows split into contiguous blocks of about equal work (entries + rows), one per thread.
    LoadBalance,
    /// Merrill & Garland's merge-based split of rows + entries: long rows are split across
    /// threads and finished by a carry pass.
    MergePath,
    /// Delegate to the vendor sparse library (MKL) through its kernel; an
    /// [`Error::KernelUnavailable`] when it cannot be used.
    Sparselib,
    /// Row blocks of about equal work over a compact copy of the column indices made when
    /// the handle is made: consecutive rows with the same entries' offsets from the diagonal
    /// (a stencil's interior) share one copy of them, so SpMV reads only values, `x` and
    /// `y` there. Sums every row like `classical`, bit for bit.
    Compressed,
    /// Bands of 65 536 rows over a copy of the matrix made when the handle is made, cut into
    /// tiles of 65 536 columns with 16-bit in-tile row and column indices and the values
    /// copied in tile order. A band runs its tiles left to right, so the part of `x` a tile
    /// reads and the band's row sums stay in the L2 cache: for scattered columns over an `x`
    /// far larger than that cache. Costs a second copy of the values. Sums every row like
    /// `classical`, bit for bit, when the rows' columns are sorted and the row holds fewer
    /// than 16 entries (longer rows: within rounding).
    Tiled,
    /// Chosen when the handle is made from the matrix's row statistics and the thread count
    /// (the default).
    #[default]
    Automatic,
}

impl Strategy {
    /// Every strategy, in the order tables list them.
    pub const ALL: [Strategy; 7] = [
        Strategy::Classical,
        Strategy::LoadBalance,
        Strategy::MergePath,
        Strategy::Sparselib,
        Strategy::Compressed,
        Strategy::Tiled,
        Strategy::Automatic,
    ];

    /// The strategy's name, as [`FromStr`] parses it (`"load_balance"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Classical => "classical",
            Strategy::LoadBalance => "load_balance",
            Strategy::MergePath => "merge_path",
            Strategy::Sparselib => "sparselib",
            Strategy::Compressed => "compressed",
            Strategy::Tiled => "tiled",
            Strategy::Automatic => "automatic",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = Error;

    /// Parses a strategy name (case-insensitive, surrounding spaces ignored, `-` read as
    /// `_`).
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| Error::UnknownStrategy {
                name: s.to_owned(),
                known: Self::ALL.map(Strategy::name).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(s.name().parse::<Strategy>(), Ok(s));
            assert_eq!(s.to_string().to_uppercase().parse::<Strategy>(), Ok(s));
        }
        assert_eq!(" load-balance ".parse(), Ok(Strategy::LoadBalance));
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = "csr5".parse::<Strategy>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown SpMV strategy \"csr5\"; known strategies: classical, load_balance, \
             merge_path, sparselib, compressed, tiled, automatic"
        );
    }
}
