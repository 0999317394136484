//! Seeded, deterministic test and benchmark matrices.
//!
//! A [`Generator`] names a family of sparse matrices and its size: 2D and 3D Poisson stencils,
//! banded, uniformly random, power-law (Pareto row lengths), block-diagonal and a synthetic
//! user × item rating matrix. [`Generator::build`] turns it and a seed into a [`Csr`]. Specs
//! parse from short strings (`"poisson2d:2000"`, `"powerlaw:1m"`) for command lines and
//! benchmark ids, and print back in the same form.
//!
//! # Determinism
//! The same generator, seed, value type and index type always give the same matrix, whatever
//! the rayon thread count: rows are generated in fixed blocks of 4096, each with its own
//! random number generators ([`Pcg64Mcg`]) seeded from the seed and the block number. The
//! pattern depends only on the generator and the seed, not on `T` or `I`; the values of an
//! `f32` build are those of the `f64` build rounded, and the real parts of a complex build
//! equal the values of the real one.
//!
//! # Output
//! Every row is sorted by column index, with no duplicates and no explicit zeros (barring a
//! uniform draw of exactly zero, which has probability 2⁻⁵³ per entry). Values are random,
//! not constant, so that kernels cannot compress them: see each variant of [`Generator`].
//!
//! # Threads
//! [`Generator::build`] runs on the current rayon pool, one task per block of rows.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Pareto};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use crate::error::{check_fits, check_shape};
use crate::parallel::try_filled;
use crate::{Csr, Error, Extent, Index, Result, Scalar};

/// The seed used by the CLI, the benchmarks and the tests unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;

/// Mean row length of [`Generator::PowerLaw`] when a spec leaves it out.
pub const DEFAULT_POWER_LAW_MEAN: f64 = 16.0;

/// Pareto shape (tail exponent) of [`Generator::PowerLaw`] when a spec leaves it out.
pub const DEFAULT_POWER_LAW_ALPHA: f64 = 1.2;

/// Mean number of ratings per user of [`Generator::Ratings`] when a spec leaves it out.
pub const DEFAULT_RATINGS_PER_USER: f64 = 20.0;

/// Rows per block; each block has its own random streams. Part of the definition of every
/// random matrix: changing it changes the output for a given seed.
const BLOCK_ROWS: usize = 4096;

/// Pareto shape of the number of ratings per user in [`Generator::Ratings`].
const RATINGS_ACTIVITY_ALPHA: f64 = 1.5;

/// Relative frequencies (percent) of the ratings 0.5, 1.0, ..., 5.0: skewed towards 3 to 4
/// stars, with half stars rarer than whole ones, as in public rating data sets.
const RATING_WEIGHTS: [u32; 10] = [2, 3, 2, 7, 5, 19, 13, 26, 9, 14];

/// Random stream numbers within a block: row lengths, column choice and values are drawn from
/// separate streams, so that the pattern does not depend on the value type.
const STREAM_LENGTHS: u64 = 0;
const STREAM_COLUMNS: u64 = 1;
const STREAM_VALUES: u64 = 2;

/// A family of generated sparse matrices with its size.
///
/// Build one with [`Generator::build`], or parse a spec string (case-insensitive names;
/// integers may use `_` separators and a `k` (10³) or `m` (10⁶) suffix):
///
/// | spec | variant |
/// |---|---|
/// | `poisson2d:N` | [`Generator::Poisson2d`] |
/// | `poisson3d:N` | [`Generator::Poisson3d`] |
/// | `banded:N:BANDWIDTH` | [`Generator::Banded`] |
/// | `random:ROWS:COLS:PER_ROW` | [`Generator::Random`] |
/// | `powerlaw:N[:MEAN[:ALPHA]]` | [`Generator::PowerLaw`] (defaults 16 and 1.2) |
/// | `blockdiag:BLOCKS:BLOCK_SIZE` | [`Generator::BlockDiagonal`] |
/// | `ratings:USERS:ITEMS[:PER_USER]` | [`Generator::Ratings`] (default 20) |
///
/// Parsing rejects zero sizes, a mean that is not positive and a Pareto shape `ALPHA <= 1`
/// (no finite mean). `Display` prints a spec that parses back to the same value: exact
/// thousands from 10 000 up in the short form (`powerlaw:1m`, `ratings:50k:2000`), defaulted
/// parameters left out.
///
/// Unless a variant says otherwise, values are uniform in `[-1, 1)`; complex types get an
/// imaginary part uniform in `[-1, 1)` too.
///
/// # Examples
///
/// ```
/// use csr::Csr;
/// use csr::generate::Generator;
///
/// let g: Generator = "poisson2d:3".parse()?;
/// assert_eq!(g, Generator::Poisson2d { n: 3 });
/// assert_eq!(g.shape(), (9, 9));
/// assert_eq!(g.estimated_nnz(), 33);
///
/// let a: Csr<f64, i32> = g.build(7)?;
/// assert_eq!(a.nnz(), 33);
/// assert_eq!(a, g.build(7)?); // same seed, same matrix
///
/// let p: Generator = "PowerLaw:1_000k".parse()?;
/// assert_eq!(p.to_string(), "powerlaw:1m");
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Generator {
    /// 2D 5-point Poisson stencil on an `n x n` grid (`n²` rows), natural (row-major)
    /// ordering: row `i·n + j` couples grid point `(i, j)` with its up to four neighbours.
    ///
    /// Diagonal values are uniform in `[4, 5)`, off-diagonal ones in `[-1, 0)`, so every
    /// row is diagonally dominant (strictly on the boundary) and the matrix is nonsingular.
    /// Complex types get imaginary parts that keep this: uniform in `[-1, 1)` on the
    /// diagonal, and off the diagonal scaled so that each modulus is at most 1.
    Poisson2d {
        /// Grid side.
        n: usize,
    },
    /// 3D 7-point Poisson stencil on an `n x n x n` grid (`n³` rows), natural ordering.
    ///
    /// Values as for [`Generator::Poisson2d`], with the diagonal in `[6, 7)`.
    Poisson3d {
        /// Grid side.
        n: usize,
    },
    /// `n x n` banded matrix holding every `(i, j)` with `|i - j| <= bandwidth`.
    Banded {
        /// Rows and columns.
        n: usize,
        /// Entries each side of the diagonal (0: diagonal only).
        bandwidth: usize,
    },
    /// `nrows x ncols`; each row holds exactly `min(per_row, ncols)` distinct columns, drawn
    /// uniformly.
    Random {
        /// Rows.
        nrows: usize,
        /// Columns.
        ncols: usize,
        /// Entries per row.
        per_row: usize,
    },
    /// `n x n` with Pareto-distributed row lengths: a few very long rows, many short ones.
    ///
    /// Row lengths are Pareto with shape `alpha`, rounded and clamped to `[1, n]`, with the
    /// scale chosen so that the mean row length is about `mean` after clamping (clamped to
    /// `[1, n]` itself). Columns are distinct and uniform.
    PowerLaw {
        /// Rows and columns.
        n: usize,
        /// Target mean row length ([`DEFAULT_POWER_LAW_MEAN`] in specs that leave it out).
        mean: f64,
        /// Pareto shape, `> 1`; smaller is heavier-tailed ([`DEFAULT_POWER_LAW_ALPHA`]).
        alpha: f64,
    },
    /// `blocks` dense blocks of `block_size x block_size` on the diagonal.
    BlockDiagonal {
        /// Number of blocks.
        blocks: usize,
        /// Side of each block.
        block_size: usize,
    },
    /// Synthetic `users x items` rating matrix, like implicit-feedback or star-rating data.
    ///
    /// Each user (row) rates a Pareto-distributed number of items (shape 1.5, mean about
    /// `per_user`, at least 1, at most `items`). Items are drawn by Zipf popularity
    /// (exponent 1) without repeats, so a few items are rated by many users; popularity
    /// ranks are spread over the item ids by a fixed permutation. Values are ratings in
    /// `{0.5, 1.0, ..., 5.0}`, skewed towards 3 to 4 stars (imaginary part zero).
    Ratings {
        /// Users (rows).
        users: usize,
        /// Items (columns).
        items: usize,
        /// Target mean ratings per user ([`DEFAULT_RATINGS_PER_USER`] in specs that leave it
        /// out).
        per_user: f64,
    },
}

impl Generator {
    /// `(nrows, ncols)` of the matrices this generator builds; a size that overflows `usize`
    /// (e.g. `poisson3d:10m`) shows as `usize::MAX`, and [`Generator::build`] reports it.
    #[must_use]
    pub fn shape(&self) -> (usize, usize) {
        self.checked_shape().unwrap_or((usize::MAX, usize::MAX))
    }

    /// The number of stored entries: exact for the stencils, `Banded`, `Random` and
    /// `BlockDiagonal`, the expected value for `PowerLaw` and `Ratings`. Saturates at
    /// `usize::MAX`.
    #[must_use]
    pub fn estimated_nnz(&self) -> usize {
        match self.exact_nnz() {
            Ok(Some(nnz)) => nnz,
            Err(_) => usize::MAX,
            Ok(None) => {
                let (rows, mean, cap) = match *self {
                    Generator::PowerLaw { n, mean, .. } => (n, mean, n),
                    Generator::Ratings {
                        users,
                        items,
                        per_user,
                        ..
                    } => (users, per_user, items),
                    // exact_nnz() is Some for every other variant.
                    _ => return usize::MAX,
                };
                // A float-to-integer `as` saturates; NaN (an invalid mean) gives 0.
                (rows as f64 * target_mean(mean, cap)).round() as usize
            }
        }
    }

    /// Builds the matrix for `seed`: rows sorted by column, no duplicates.
    ///
    /// The result depends only on `self`, `seed`, `T` and `I`, never on the number of
    /// threads (see the [module docs](self)). Runs on the current rayon pool.
    ///
    /// # Errors
    /// - [`Error::InvalidGenerator`] if a parameter is out of range (as [`str::parse`]
    ///   would reject it: zero sizes, `alpha <= 1`, a mean that is not positive);
    /// - [`Error::SizeOverflow`] if the shape or the storage overflows `usize`, or the
    ///   arrays cannot be allocated;
    /// - [`Error::IndexTooNarrow`] if the row count, column count or number of entries does
    ///   not fit `I`.
    ///
    /// Sizes are checked before any array is allocated, except the number of entries of
    /// `PowerLaw` and `Ratings`, known only once the row lengths are drawn (into the row
    /// pointer array).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, Error, Extent};
    /// use csr::generate::{Generator, DEFAULT_SEED};
    ///
    /// let g = Generator::Random { nrows: 100, ncols: 50, per_row: 8 };
    /// let a: Csr<f32, i64> = g.build(DEFAULT_SEED)?;
    /// assert_eq!(a.shape(), (100, 50));
    /// assert!(a.row_lengths().all(|len| len == 8));
    /// assert!(a.is_sorted_by_column_index() && !a.has_duplicates());
    ///
    /// // 2.5e9 rows do not fit i32: an error, found before anything is allocated.
    /// let big = Generator::Poisson2d { n: 50_000 };
    /// let err = big.build::<f64, i32>(DEFAULT_SEED).unwrap_err();
    /// assert!(matches!(err, Error::IndexTooNarrow { extent: Extent::Rows, .. }));
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn build<T: Scalar, I: Index>(&self, seed: u64) -> Result<Csr<T, I>> {
        self.check().map_err(|reason| Error::InvalidGenerator {
            spec: self.to_string(),
            reason,
        })?;
        let (nrows, ncols) = self.checked_shape()?;
        check_shape::<I>(nrows, ncols)?;
        if let Some(nnz) = self.exact_nnz()? {
            check_fits::<I>(Extent::Nnz, nnz)?;
            check_storage::<T, I>(nnz)?;
        }
        let plan = Plan::new(self, ncols)?;

        // Pass 1: row lengths into row_ptrs[1..], one block of rows per task. Each length is
        // at most ncols, which fits I.
        let ptrs_len = nrows
            .checked_add(1)
            .ok_or(Error::SizeOverflow { what: "nrows + 1" })?;
        let mut row_ptrs = try_filled(ptrs_len, I::ZERO, "row pointer array")?;
        row_ptrs[1..]
            .par_chunks_mut(BLOCK_ROWS)
            .enumerate()
            .for_each(|(block, lens)| plan.row_lengths(seed, block, lens));
        let nnz = row_ptrs[1..]
            .iter()
            .try_fold(0_usize, |sum, len| sum.checked_add(len.to_usize()))
            .ok_or(Error::SizeOverflow {
                what: "number of stored entries",
            })?;
        check_fits::<I>(Extent::Nnz, nnz)?;
        check_storage::<T, I>(nnz)?;
        let mut sum = 0;
        for p in &mut row_ptrs[1..] {
            sum += p.to_usize();
            // sum <= nnz, checked to fit I above.
            *p = I::truncate(sum);
        }

        // Pass 2: columns and values, each block writing its own slice of the arrays.
        let mut col_idxs = try_filled(nnz, I::ZERO, "column index array")?;
        let mut values = try_filled(nnz, T::zero(), "value array")?;
        let mut tasks = Vec::with_capacity(nrows.div_ceil(BLOCK_ROWS));
        let (mut cols_rest, mut vals_rest) = (&mut col_idxs[..], &mut values[..]);
        for (block, start) in (0..nrows).step_by(BLOCK_ROWS).enumerate() {
            let rows = start..nrows.min(start + BLOCK_ROWS);
            let len = row_ptrs[rows.end].to_usize() - row_ptrs[rows.start].to_usize();
            let (cols, rest) = std::mem::take(&mut cols_rest).split_at_mut(len);
            cols_rest = rest;
            let (vals, rest) = std::mem::take(&mut vals_rest).split_at_mut(len);
            vals_rest = rest;
            tasks.push((block, rows, cols, vals));
        }
        tasks.into_par_iter().for_each(|(block, rows, cols, vals)| {
            let ptrs = &row_ptrs[rows.start..=rows.end];
            plan.fill_block(seed, block, rows, ptrs, cols, vals);
        });
        Csr::try_from_parts(nrows, ncols, row_ptrs, col_idxs, values)
    }

    /// The shape, or [`Error::SizeOverflow`].
    fn checked_shape(&self) -> Result<(usize, usize)> {
        let overflow = |what| Error::SizeOverflow { what };
        Ok(match *self {
            Generator::Poisson2d { n } => {
                let rows = n.checked_mul(n).ok_or(overflow("poisson2d row count n²"))?;
                (rows, rows)
            }
            Generator::Poisson3d { n } => {
                let rows = n
                    .checked_mul(n)
                    .and_then(|n2| n2.checked_mul(n))
                    .ok_or(overflow("poisson3d row count n³"))?;
                (rows, rows)
            }
            Generator::Banded { n, .. } | Generator::PowerLaw { n, .. } => (n, n),
            Generator::Random { nrows, ncols, .. } => (nrows, ncols),
            Generator::BlockDiagonal { blocks, block_size } => {
                let n = blocks
                    .checked_mul(block_size)
                    .ok_or(overflow("blockdiag row count blocks * block_size"))?;
                (n, n)
            }
            Generator::Ratings { users, items, .. } => (users, items),
        })
    }

    /// The exact number of entries where the pattern fixes it (`None` for random row
    /// lengths), or [`Error::SizeOverflow`].
    fn exact_nnz(&self) -> Result<Option<usize>> {
        let overflow = Error::SizeOverflow {
            what: "number of stored entries",
        };
        let nnz = match *self {
            // 5 entries per grid point, less one per missing neighbour: 4 sides of n points.
            Generator::Poisson2d { n } => n
                .checked_mul(n)
                .and_then(|n2| n2.checked_mul(5))
                .map(|x| x - 4 * n),
            // 7 per point, less 6 faces of n² points.
            Generator::Poisson3d { n } => n.checked_mul(n).and_then(|n2| {
                n2.checked_mul(n)
                    .and_then(|n3| n3.checked_mul(7))
                    .map(|x| x - 6 * n2)
            }),
            Generator::Banded { n, bandwidth } => {
                // n(2b + 1) - b(b + 1) with b capped at n - 1 (a full band is dense).
                let b = bandwidth.min(n.saturating_sub(1));
                b.checked_mul(2)
                    .and_then(|x| x.checked_add(1))
                    .and_then(|x| x.checked_mul(n))
                    .map(|x| x - b * (b + 1))
            }
            Generator::Random {
                nrows,
                ncols,
                per_row,
            } => nrows.checked_mul(per_row.min(ncols)),
            Generator::BlockDiagonal { blocks, block_size } => blocks
                .checked_mul(block_size)
                .and_then(|x| x.checked_mul(block_size)),
            Generator::PowerLaw { .. } | Generator::Ratings { .. } => return Ok(None),
        };
        nnz.map(Some).ok_or(overflow)
    }

    /// Checks the parameters; the error is a reason naming the expected form.
    fn check(&self) -> std::result::Result<(), String> {
        let form = self.kind().form;
        let at_least_one = |field: &str, value: usize| {
            if value == 0 {
                Err(format!("{field} must be at least 1; expected {form}"))
            } else {
                Ok(())
            }
        };
        let positive = |field: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "{field} must be a positive finite number, got {value}; expected {form}"
                ))
            }
        };
        match *self {
            Generator::Poisson2d { n } | Generator::Poisson3d { n } => at_least_one("N", n),
            Generator::Banded { n, .. } => at_least_one("N", n),
            Generator::Random {
                nrows,
                ncols,
                per_row,
            } => {
                at_least_one("ROWS", nrows)?;
                at_least_one("COLS", ncols)?;
                at_least_one("PER_ROW", per_row)
            }
            Generator::PowerLaw { n, mean, alpha } => {
                at_least_one("N", n)?;
                positive("MEAN", mean)?;
                if alpha.is_finite() && alpha > 1.0 {
                    Ok(())
                } else {
                    Err(format!(
                        "ALPHA must be a finite number > 1 (a Pareto shape <= 1 has no finite \
                         mean), got {alpha}; expected {form}"
                    ))
                }
            }
            Generator::BlockDiagonal { blocks, block_size } => {
                at_least_one("BLOCKS", blocks)?;
                at_least_one("BLOCK_SIZE", block_size)
            }
            Generator::Ratings {
                users,
                items,
                per_user,
            } => {
                at_least_one("USERS", users)?;
                at_least_one("ITEMS", items)?;
                positive("PER_USER", per_user)
            }
        }
    }

    /// The spec name and form of this variant.
    fn kind(&self) -> &'static Kind {
        let name = match self {
            Generator::Poisson2d { .. } => "poisson2d",
            Generator::Poisson3d { .. } => "poisson3d",
            Generator::Banded { .. } => "banded",
            Generator::Random { .. } => "random",
            Generator::PowerLaw { .. } => "powerlaw",
            Generator::BlockDiagonal { .. } => "blockdiag",
            Generator::Ratings { .. } => "ratings",
        };
        // Every name above is in KINDS.
        KINDS.iter().find(|k| k.name == name).unwrap_or(&KINDS[0])
    }
}

/// `P·A·Pᵀ` for a random permutation `P` drawn from `seed`: the same matrix with its rows
/// and columns renumbered alike, which destroys the locality of a stencil (the workload
/// "randomly permuted poisson2d" of the benchmarks). Rows of the result are sorted.
///
/// # Errors
/// [`Error::NotSquare`] for a non-square matrix.
///
/// # Examples
///
/// ```
/// use csr::generate::{Generator, permute_symmetric};
///
/// let a: csr::Csr<f64, i32> = "poisson2d:30".parse::<Generator>()?.build(1)?;
/// let p = permute_symmetric(&a, 7)?;
/// assert_eq!((p.nnz(), p.is_sorted_by_column_index()), (a.nnz(), true));
/// assert_ne!(p, a);
/// # Ok::<(), csr::Error>(())
/// ```
pub fn permute_symmetric<T: Scalar, I: Index>(a: &Csr<T, I>, seed: u64) -> Result<Csr<T, I>> {
    let n = a.nrows();
    if n != a.ncols() {
        return Err(Error::NotSquare {
            op: "permute_symmetric",
            nrows: n,
            ncols: a.ncols(),
        });
    }
    // new_index[old] is where row/column `old` goes; n fits I because the matrix exists.
    let mut new_index: Vec<I> = (0..n).map(I::truncate).collect();
    new_index.shuffle(&mut Pcg64Mcg::seed_from_u64(seed));
    let rows: Vec<I> = a
        .row_indices()
        .into_par_iter()
        .map(|r| new_index[r.to_usize()])
        .collect();
    let cols: Vec<I> = a
        .col_idxs()
        .par_iter()
        .map(|c| new_index[c.to_usize()])
        .collect();
    let mut p = Csr::try_from_coo(n, n, &rows, &cols, a.values(), crate::Duplicates::Keep)?;
    p.sort_by_column_index();
    Ok(p)
}

/// A spec name and its form, as shown in error messages.
struct Kind {
    name: &'static str,
    form: &'static str,
}

const KINDS: [Kind; 7] = [
    Kind {
        name: "poisson2d",
        form: "poisson2d:N",
    },
    Kind {
        name: "poisson3d",
        form: "poisson3d:N",
    },
    Kind {
        name: "banded",
        form: "banded:N:BANDWIDTH",
    },
    Kind {
        name: "random",
        form: "random:ROWS:COLS:PER_ROW",
    },
    Kind {
        name: "powerlaw",
        form: "powerlaw:N[:MEAN[:ALPHA]]",
    },
    Kind {
        name: "blockdiag",
        form: "blockdiag:BLOCKS:BLOCK_SIZE",
    },
    Kind {
        name: "ratings",
        form: "ratings:USERS:ITEMS[:PER_USER]",
    },
];

impl FromStr for Generator {
    type Err = Error;

    /// Parses a spec such as `poisson2d:2000` or `powerlaw:1m:8:1.5` (see [`Generator`]).
    ///
    /// # Errors
    /// [`Error::InvalidGenerator`], whose reason names the expected form: an unknown name,
    /// a wrong number of fields, a field that is not a number, or a value out of range.
    fn from_str(spec: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidGenerator {
            spec: spec.to_owned(),
            reason,
        };
        let mut parts = spec.trim().split(':');
        // split() always yields at least one piece.
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let fields: Vec<&str> = parts.collect();
        let Some(kind) = KINDS.iter().find(|k| k.name == name) else {
            let forms: Vec<&str> = KINDS.iter().map(|k| k.form).collect();
            return Err(invalid(format!(
                "unknown generator {name:?}; expected one of {}",
                forms.join(", ")
            )));
        };
        let f = Fields {
            form: kind.form,
            fields,
        };
        let generator = f.parse(kind.name).map_err(invalid)?;
        generator.check().map_err(invalid)?;
        Ok(generator)
    }
}

/// A parse error before the spec string is attached: the reason.
type FieldResult<T> = std::result::Result<T, String>;

/// The fields after the name of a spec.
struct Fields<'a> {
    form: &'static str,
    fields: Vec<&'a str>,
}

impl Fields<'_> {
    /// The generator named `name` (one of [`KINDS`]) with these fields.
    fn parse(&self, name: &str) -> FieldResult<Generator> {
        Ok(match name {
            "poisson2d" => {
                self.arity(1, 1)?;
                Generator::Poisson2d {
                    n: self.count(0, "N")?,
                }
            }
            "poisson3d" => {
                self.arity(1, 1)?;
                Generator::Poisson3d {
                    n: self.count(0, "N")?,
                }
            }
            "banded" => {
                self.arity(2, 2)?;
                Generator::Banded {
                    n: self.count(0, "N")?,
                    bandwidth: self.count(1, "BANDWIDTH")?,
                }
            }
            "random" => {
                self.arity(3, 3)?;
                Generator::Random {
                    nrows: self.count(0, "ROWS")?,
                    ncols: self.count(1, "COLS")?,
                    per_row: self.count(2, "PER_ROW")?,
                }
            }
            "powerlaw" => {
                self.arity(1, 3)?;
                Generator::PowerLaw {
                    n: self.count(0, "N")?,
                    mean: self.real_or(1, "MEAN", DEFAULT_POWER_LAW_MEAN)?,
                    alpha: self.real_or(2, "ALPHA", DEFAULT_POWER_LAW_ALPHA)?,
                }
            }
            "blockdiag" => {
                self.arity(2, 2)?;
                Generator::BlockDiagonal {
                    blocks: self.count(0, "BLOCKS")?,
                    block_size: self.count(1, "BLOCK_SIZE")?,
                }
            }
            _ => {
                self.arity(2, 3)?;
                Generator::Ratings {
                    users: self.count(0, "USERS")?,
                    items: self.count(1, "ITEMS")?,
                    per_user: self.real_or(2, "PER_USER", DEFAULT_RATINGS_PER_USER)?,
                }
            }
        })
    }

    fn arity(&self, min: usize, max: usize) -> FieldResult<()> {
        let got = self.fields.len();
        if (min..=max).contains(&got) {
            Ok(())
        } else {
            Err(format!(
                "expected {}, got {got} field{} after the name",
                self.form,
                if got == 1 { "" } else { "s" }
            ))
        }
    }

    /// A whole number: digits, optional `_` separators, optional `k`/`m` suffix.
    fn count(&self, i: usize, field: &str) -> FieldResult<usize> {
        let text = self.fields.get(i).copied().unwrap_or_default();
        parse_count(text).map_err(|what| {
            format!(
                "{field} {text:?} {what} (digits with optional _ separators and a k or m \
                 suffix, such as 2000, 4_000 or 1m); expected {}",
                self.form
            )
        })
    }

    /// A real number, or `default` if the field is absent.
    fn real_or(&self, i: usize, field: &str, default: f64) -> FieldResult<f64> {
        let Some(text) = self.fields.get(i) else {
            return Ok(default);
        };
        match text.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(format!(
                "{field} {text:?} is not a finite number; expected {}",
                self.form
            )),
        }
    }
}

/// Parses `2000`, `4_000`, `1k`, `1M`; the error says what is wrong.
fn parse_count(text: &str) -> std::result::Result<usize, &'static str> {
    let digits: String = text.trim().chars().filter(|&c| c != '_').collect();
    let (digits, scale) = match digits.as_bytes().last() {
        Some(b'k' | b'K') => (&digits[..digits.len() - 1], 1_000),
        Some(b'm' | b'M') => (&digits[..digits.len() - 1], 1_000_000),
        _ => (&digits[..], 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a whole number");
    }
    digits
        .parse::<usize>()
        .ok()
        .and_then(|x| x.checked_mul(scale))
        .ok_or("is too large")
}

/// Prints a count of 10 000 or more in the short form when it is exact (`1m`, `200k`), and
/// smaller or inexact ones in full (`2000`, `1234567`).
struct Count(usize);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            n if n >= 1_000_000 && n % 1_000_000 == 0 => write!(f, "{}m", n / 1_000_000),
            n if n >= 10_000 && n % 1_000 == 0 => write!(f, "{}k", n / 1_000),
            n => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for Generator {
    /// Prints the spec: `poisson2d:2000`, `powerlaw:1m`, `powerlaw:200k:8:1.5`. Parameters
    /// equal to their defaults are left out; the output parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.kind().name;
        match *self {
            Generator::Poisson2d { n } | Generator::Poisson3d { n } => {
                write!(f, "{name}:{}", Count(n))
            }
            Generator::Banded { n, bandwidth } => {
                write!(f, "{name}:{}:{}", Count(n), Count(bandwidth))
            }
            Generator::Random {
                nrows,
                ncols,
                per_row,
            } => write!(
                f,
                "{name}:{}:{}:{}",
                Count(nrows),
                Count(ncols),
                Count(per_row)
            ),
            Generator::PowerLaw { n, mean, alpha } => {
                write!(f, "{name}:{}", Count(n))?;
                let default_alpha = alpha.to_bits() == DEFAULT_POWER_LAW_ALPHA.to_bits();
                if !default_alpha || mean.to_bits() != DEFAULT_POWER_LAW_MEAN.to_bits() {
                    write!(f, ":{mean}")?;
                }
                if !default_alpha {
                    write!(f, ":{alpha}")?;
                }
                Ok(())
            }
            Generator::BlockDiagonal { blocks, block_size } => {
                write!(f, "{name}:{}:{}", Count(blocks), Count(block_size))
            }
            Generator::Ratings {
                users,
                items,
                per_user,
            } => {
                write!(f, "{name}:{}:{}", Count(users), Count(items))?;
                if per_user.to_bits() != DEFAULT_RATINGS_PER_USER.to_bits() {
                    write!(f, ":{per_user}")?;
                }
                Ok(())
            }
        }
    }
}

/// Checks that `nnz` entries of `T` and `I` can be addressed at all.
fn check_storage<T, I>(nnz: usize) -> Result<()> {
    nnz.checked_mul(size_of::<T>() + size_of::<I>())
        .map(|_| ())
        .ok_or(Error::SizeOverflow {
            what: "storage of the generated matrix",
        })
}

/// The random stream `stream` of row block `block`.
fn block_rng(seed: u64, block: usize, stream: u64) -> Pcg64Mcg {
    // usize has at most 64 bits on every supported target.
    let block = u64::try_from(block).unwrap_or(u64::MAX);
    let h = splitmix64(splitmix64(seed) ^ block);
    Pcg64Mcg::seed_from_u64(splitmix64(h ^ stream))
}

/// The SplitMix64 finaliser: a bijective mix of 64 bits.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `mean` clamped to `[1, cap]` (the achievable mean of lengths in `[1, cap]`); NaN gives 1.
fn target_mean(mean: f64, cap: usize) -> f64 {
    mean.min(cap as f64).max(1.0)
}

/// Distribution of row lengths for `PowerLaw` and `Ratings`.
enum RowLengths {
    /// Every row has this length (the target mean is 1 or the cap).
    Fixed(usize),
    /// `round(X)` clamped to `[1, cap]`, `X` Pareto.
    Pareto { dist: Pareto<f64>, cap: usize },
}

impl RowLengths {
    /// Lengths in `[1, cap]` with shape `alpha > 1` and mean about `mean`.
    fn new(mean: f64, alpha: f64, cap: usize) -> std::result::Result<Self, String> {
        let target = target_mean(mean, cap);
        let cap_f = cap as f64;
        if cap <= 1 || target <= 1.0 {
            return Ok(RowLengths::Fixed(1));
        }
        if target >= cap_f {
            return Ok(RowLengths::Fixed(cap));
        }
        // E[clamp(X, 1, H)] = 1 + ∫₁ᴴ P(X > x) dx for X ~ Pareto(scale s, shape α), which
        // increases with s from 1 (s → 0) to H (s = H). Bisect for the s that hits `target`.
        let h_pow = cap_f.powf(1.0 - alpha);
        let clamped_mean = |s: f64| {
            let tail = if s <= 1.0 {
                s.powf(alpha) * (1.0 - h_pow) / (alpha - 1.0)
            } else {
                (s - 1.0) + (s - s.powf(alpha) * h_pow) / (alpha - 1.0)
            };
            1.0 + tail
        };
        let (mut lo, mut hi) = (0.0_f64, cap_f);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if clamped_mean(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let scale = 0.5 * (lo + hi);
        let dist = Pareto::new(scale, alpha)
            .map_err(|e| format!("cannot draw row lengths with mean {mean}: {e}"))?;
        Ok(RowLengths::Pareto { dist, cap })
    }

    fn sample(&self, rng: &mut Pcg64Mcg) -> usize {
        match self {
            RowLengths::Fixed(len) => *len,
            // Float-to-integer `as` saturates; the value is already in [1, cap].
            RowLengths::Pareto { dist, cap } => {
                dist.sample(rng).round().clamp(1.0, *cap as f64) as usize
            }
        }
    }
}

/// Item popularity for `Ratings`: Zipf ranks (exponent 1) mapped to item ids by a fixed
/// permutation.
struct Popularity {
    items: usize,
    /// `1 + ln(items)`, the normaliser of the Zipf sampler.
    t: f64,
    /// Coprime with `items`: rank `r` is item `r * stride mod items`.
    stride: usize,
}

impl Popularity {
    fn new(items: usize) -> Self {
        // A stride near items / golden ratio spreads consecutive ranks over the ids.
        let mut stride = ((items as f64 * 0.618_033_988_75) as usize).max(1);
        while gcd(stride, items) != 1 {
            stride += 1;
        }
        Popularity {
            items,
            t: 1.0 + (items as f64).ln(),
            stride,
        }
    }

    /// Draws an item id.
    fn draw(&self, rng: &mut Pcg64Mcg) -> usize {
        // Rejection-inversion sampling of Zipf over 1..=items with exponent 1: the algorithm
        // of `rand_distr::Zipf` with s = 1, which saves its two `powf` per draw (they took
        // most of the time). Each round accepts with probability at least 1/2.
        loop {
            let pt = rng.random::<f64>() * self.t;
            let inv_b = if pt <= 1.0 { pt } else { (pt - 1.0).exp() };
            let x = (inv_b + 1.0).floor();
            let ratio = if x > 1.0 { inv_b / x } else { 1.0 };
            if rng.random::<f64>() < ratio {
                // x lies in [1, items]; `as` saturates, and min() guards the end.
                let rank = (x as usize).saturating_sub(1).min(self.items - 1);
                return mul_mod(rank, self.stride, self.items);
            }
        }
    }

    /// Fills `out` with `k` distinct items (`k <= items`), sorted. `seen` is a bitset over
    /// the items, all clear on entry and on return.
    fn draw_distinct(
        &self,
        rng: &mut Pcg64Mcg,
        k: usize,
        out: &mut Vec<usize>,
        seen: &mut Vec<u64>,
    ) {
        out.clear();
        if k >= self.items {
            out.extend(0..self.items);
            return;
        }
        seen.resize(self.items.div_ceil(64), 0);
        let is_set = |seen: &[u64], i: usize| seen[i / 64] & (1 << (i % 64)) != 0;
        // Popular items repeat; give up on popularity after a fixed number of draws and take
        // the rest uniformly among the items not yet chosen (only users who rate a large
        // share of the items get there).
        let mut budget = k.saturating_mul(8).saturating_add(64);
        while out.len() < k && budget > 0 {
            budget -= 1;
            let item = self.draw(rng);
            if !is_set(seen, item) {
                seen[item / 64] |= 1 << (item % 64);
                out.push(item);
            }
        }
        if out.len() < k {
            let rest: Vec<usize> = (0..self.items).filter(|&i| !is_set(seen, i)).collect();
            let picks = sample(rng, rest.len(), k - out.len());
            out.extend(picks.iter().map(|p| rest[p]));
        }
        for &i in out.iter() {
            seen[i / 64] = 0;
        }
        out.sort_unstable();
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `a * b mod m` without overflow (`m > 0`).
fn mul_mod(a: usize, b: usize, m: usize) -> usize {
    match a.checked_mul(b) {
        Some(p) => p % m,
        None => {
            // usize has at most 64 bits, so these conversions are exact and the product
            // fits u128; the result is below m, so it fits usize.
            let wide = |x: usize| u128::try_from(x).unwrap_or(u128::MAX);
            usize::try_from(wide(a) * wide(b) % wide(m)).unwrap_or(0)
        }
    }
}

/// A rating in {0.5, 1.0, ..., 5.0} drawn from [`RATING_WEIGHTS`].
fn draw_rating(rng: &mut Pcg64Mcg) -> f64 {
    let total: u32 = RATING_WEIGHTS.iter().sum();
    let mut u = rng.random_range(0..total);
    let mut stars = 0.5;
    for w in RATING_WEIGHTS {
        if u < w {
            break;
        }
        u -= w;
        stars += 0.5;
    }
    stars
}

/// A value with real part uniform in `[lo, lo + width)` and imaginary part uniform in
/// `[-im_radius, im_radius)`. Two draws whatever `T`, so the stream does not depend on it.
fn draw_value<T: Scalar>(rng: &mut Pcg64Mcg, lo: f64, width: f64, im_radius: f64) -> T {
    let re = lo + width * rng.random::<f64>();
    let im = im_radius * (2.0 * rng.random::<f64>() - 1.0);
    T::from_re_im(re, im)
}

/// An off-diagonal stencil value: real part in `[-1, 0)`, modulus at most 1.
fn draw_stencil_off<T: Scalar>(rng: &mut Pcg64Mcg) -> T {
    let re = rng.random::<f64>() - 1.0;
    let u = rng.random::<f64>();
    let im = if T::IS_COMPLEX {
        (2.0 * u - 1.0) * (1.0 - re * re).sqrt()
    } else {
        0.0
    };
    T::from_re_im(re, im)
}

/// What a build needs besides the generator: drawn once, shared by every block.
struct Plan<'g> {
    generator: &'g Generator,
    ncols: usize,
    lengths: Option<RowLengths>,
    popularity: Option<Popularity>,
}

impl<'g> Plan<'g> {
    fn new(generator: &'g Generator, ncols: usize) -> Result<Self> {
        let invalid = |reason| Error::InvalidGenerator {
            spec: generator.to_string(),
            reason,
        };
        let (lengths, popularity) = match *generator {
            Generator::PowerLaw { mean, alpha, .. } => (
                Some(RowLengths::new(mean, alpha, ncols).map_err(invalid)?),
                None,
            ),
            Generator::Ratings {
                items, per_user, ..
            } => (
                Some(RowLengths::new(per_user, RATINGS_ACTIVITY_ALPHA, items).map_err(invalid)?),
                Some(Popularity::new(items)),
            ),
            _ => (None, None),
        };
        Ok(Plan {
            generator,
            ncols,
            lengths,
            popularity,
        })
    }

    /// Writes the lengths of the rows of `block` into `lens`.
    fn row_lengths<I: Index>(&self, seed: u64, block: usize, lens: &mut [I]) {
        let first = block * BLOCK_ROWS;
        let mut rng = block_rng(seed, block, STREAM_LENGTHS);
        for (r, len) in (first..).zip(lens.iter_mut()) {
            let l = match *self.generator {
                Generator::Poisson2d { n } => {
                    let (i, j) = (r / n, r % n);
                    1 + usize::from(i > 0)
                        + usize::from(i + 1 < n)
                        + usize::from(j > 0)
                        + usize::from(j + 1 < n)
                }
                Generator::Poisson3d { n } => {
                    let (i, j, k) = (r / (n * n), (r / n) % n, r % n);
                    1 + [i, j, k]
                        .iter()
                        .map(|&c| usize::from(c > 0) + usize::from(c + 1 < n))
                        .sum::<usize>()
                }
                Generator::Banded { n, bandwidth } => {
                    (r.saturating_add(bandwidth)).min(n - 1) - r.saturating_sub(bandwidth) + 1
                }
                Generator::Random { per_row, .. } => per_row.min(self.ncols),
                Generator::BlockDiagonal { block_size, .. } => block_size,
                Generator::PowerLaw { .. } | Generator::Ratings { .. } => match &self.lengths {
                    Some(lengths) => lengths.sample(&mut rng),
                    None => 0, // Plan::new sets lengths for both variants.
                },
            };
            debug_assert!(l <= self.ncols);
            // l <= ncols, which fits I.
            *len = I::truncate(l);
        }
    }

    /// Writes the columns and values of `rows` into `cols` and `vals`; `ptrs` are the row
    /// pointers `rows.start..=rows.end`.
    fn fill_block<T: Scalar, I: Index>(
        &self,
        seed: u64,
        block: usize,
        rows: Range<usize>,
        ptrs: &[I],
        cols: &mut [I],
        vals: &mut [T],
    ) {
        let (base, first) = (ptrs[0].to_usize(), rows.start);
        let range = |r: usize| {
            let i = r - first;
            ptrs[i].to_usize() - base..ptrs[i + 1].to_usize() - base
        };
        let mut col_rng = block_rng(seed, block, STREAM_COLUMNS);
        let mut val_rng = block_rng(seed, block, STREAM_VALUES);
        let put = |slot: &mut [I], it: &mut dyn Iterator<Item = usize>| {
            for (s, c) in slot.iter_mut().zip(it) {
                // Every column is below ncols, which fits I.
                *s = I::truncate(c);
            }
        };
        let mut scratch = Vec::new();
        let mut seen = Vec::new();
        for r in rows.clone() {
            let row = &mut cols[range(r)];
            match *self.generator {
                Generator::Poisson2d { n } => {
                    let (i, j) = (r / n, r % n);
                    let candidates = [
                        (i > 0).then(|| r - n),
                        (j > 0).then(|| r - 1),
                        Some(r),
                        (j + 1 < n).then(|| r + 1),
                        (i + 1 < n).then(|| r + n),
                    ];
                    put(row, &mut candidates.into_iter().flatten());
                }
                Generator::Poisson3d { n } => {
                    let n2 = n * n;
                    let (i, j, k) = (r / n2, (r / n) % n, r % n);
                    let candidates = [
                        (i > 0).then(|| r - n2),
                        (j > 0).then(|| r - n),
                        (k > 0).then(|| r - 1),
                        Some(r),
                        (k + 1 < n).then(|| r + 1),
                        (j + 1 < n).then(|| r + n),
                        (i + 1 < n).then(|| r + n2),
                    ];
                    put(row, &mut candidates.into_iter().flatten());
                }
                Generator::Banded { bandwidth, .. } => {
                    put(row, &mut (r.saturating_sub(bandwidth)..));
                }
                Generator::BlockDiagonal { block_size, .. } => {
                    put(row, &mut (r - r % block_size..));
                }
                Generator::Random { .. } | Generator::PowerLaw { .. } => {
                    if row.len() == self.ncols {
                        put(row, &mut (0..));
                    } else {
                        scratch = sample(&mut col_rng, self.ncols, row.len()).into_vec();
                        scratch.sort_unstable();
                        put(row, &mut scratch.iter().copied());
                    }
                }
                Generator::Ratings { .. } => {
                    // Plan::new sets popularity for Ratings.
                    if let Some(popularity) = &self.popularity {
                        popularity.draw_distinct(&mut col_rng, row.len(), &mut scratch, &mut seen);
                        put(row, &mut scratch.iter().copied());
                    }
                }
            }
        }

        match *self.generator {
            Generator::Poisson2d { .. } | Generator::Poisson3d { .. } => {
                let diag = if matches!(self.generator, Generator::Poisson2d { .. }) {
                    4.0
                } else {
                    6.0
                };
                for r in rows {
                    let range = range(r);
                    for (c, v) in cols[range.clone()].iter().zip(&mut vals[range]) {
                        *v = if c.to_usize() == r {
                            draw_value(&mut val_rng, diag, 1.0, 1.0)
                        } else {
                            draw_stencil_off(&mut val_rng)
                        };
                    }
                }
            }
            Generator::Ratings { .. } => {
                for v in vals.iter_mut() {
                    *v = T::from_re_im(draw_rating(&mut val_rng), 0.0);
                }
            }
            _ => {
                for v in vals.iter_mut() {
                    *v = draw_value(&mut val_rng, -1.0, 2.0, 1.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_complex::Complex;

    fn build(spec: &str, seed: u64) -> Csr<f64, i32> {
        spec.parse::<Generator>().unwrap().build(seed).unwrap()
    }

    fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    /// Specs of every kind, big enough for several row blocks.
    const SPECS: [&str; 9] = [
        "poisson2d:100",
        "poisson3d:22",
        "banded:9000:3",
        "random:9000:700:9",
        "powerlaw:10k",
        "powerlaw:9000:4:2.5",
        "blockdiag:700:13",
        "ratings:9000:3000",
        "ratings:5000:40:30",
    ];

    #[test]
    fn poisson2d_has_exact_nnz() {
        for (n, nnz) in [(1, 1), (2, 12), (3, 33), (100, 49_600)] {
            let g = Generator::Poisson2d { n };
            assert_eq!(g.estimated_nnz(), nnz);
            let a: Csr<f64, i32> = g.build(1).unwrap();
            assert_eq!(a.nnz(), nnz, "n = {n}");
            assert_eq!(a.shape(), (n * n, n * n));
        }
    }

    #[test]
    fn poisson3d_has_exact_nnz() {
        for (n, nnz) in [(1, 1), (2, 32), (3, 135), (20, 53_600)] {
            let g = Generator::Poisson3d { n };
            assert_eq!(g.estimated_nnz(), nnz);
            let a: Csr<f64, u32> = g.build(1).unwrap();
            assert_eq!(a.nnz(), nnz, "n = {n}");
            assert_eq!(a.shape(), (n * n * n, n * n * n));
        }
    }

    #[test]
    fn banded_has_exact_nnz() {
        for (n, b, nnz) in [
            (10, 0, 10),
            (10, 2, 44),
            (10, 9, 100),
            (10, 50, 100),
            (1, 3, 1),
        ] {
            let g = Generator::Banded { n, bandwidth: b };
            assert_eq!(g.estimated_nnz(), nnz);
            let a: Csr<f64, i64> = g.build(1).unwrap();
            assert_eq!(a.nnz(), nnz, "n = {n}, b = {b}");
            for (r, c, _) in a.iter() {
                assert!(r.abs_diff(c) <= b);
            }
        }
    }

    #[test]
    fn block_diagonal_and_random_have_exact_nnz() {
        let a = build("blockdiag:5:3", 1);
        assert_eq!(a.nnz(), 45);
        assert!(a.iter().all(|(r, c, _)| r / 3 == c / 3));
        let a = build("random:50:7:9", 1);
        assert_eq!(a.nnz(), 350);
        assert!(a.row_lengths().all(|l| l == 7));
    }

    #[test]
    fn stencils_are_structurally_symmetric_and_diagonally_dominant() {
        for spec in ["poisson2d:1", "poisson2d:2", "poisson2d:70", "poisson3d:17"] {
            let a = build(spec, 3);
            let t = a.transpose();
            assert_eq!(a.row_ptrs(), t.row_ptrs(), "{spec}");
            assert_eq!(a.col_idxs(), t.col_idxs(), "{spec}");
            let c: Csr<Complex<f64>, i32> = spec.parse::<Generator>().unwrap().build(3).unwrap();
            for r in 0..a.nrows() {
                let (cols, vals) = a.row(r);
                let (_, cvals) = c.row(r);
                let mut diag = (0.0, 0.0);
                let mut off = (0.0, 0.0);
                for ((&col, &v), &z) in cols.iter().zip(vals).zip(cvals) {
                    if col.to_usize() == r {
                        diag = (v, z.norm());
                    } else {
                        assert!((-1.0..0.0).contains(&v));
                        off = (off.0 + v.abs(), off.1 + z.norm());
                    }
                }
                assert!(diag.0 >= off.0 && diag.1 >= off.1, "{spec} row {r}");
            }
        }
    }

    #[test]
    fn every_kind_is_sorted_without_duplicates() {
        for spec in SPECS {
            let g: Generator = spec.parse().unwrap();
            let a: Csr<f64, i32> = g.build(DEFAULT_SEED).unwrap();
            assert_eq!(a.shape(), g.shape(), "{spec}");
            assert!(a.is_sorted_by_column_index(), "{spec}");
            assert!(!a.has_duplicates(), "{spec}");
            assert!(a.row_lengths().all(|l| l >= 1), "{spec}");
            assert!(
                a.values().iter().all(|v| v.is_finite() && *v != 0.0),
                "{spec}"
            );
            if !matches!(g, Generator::PowerLaw { .. } | Generator::Ratings { .. }) {
                assert_eq!(a.nnz(), g.estimated_nnz(), "{spec}");
            }
        }
    }

    #[test]
    fn same_seed_same_matrix_whatever_the_thread_count() {
        for spec in SPECS {
            let g: Generator = spec.parse().unwrap();
            let one: Csr<f64, i32> = in_pool(1, || g.build(5).unwrap());
            let three: Csr<f64, i32> = in_pool(3, || g.build(5).unwrap());
            assert_eq!(one, three, "{spec}");
            assert_eq!(one, g.build(5).unwrap(), "{spec}");
            let other: Csr<f64, i32> = g.build(6).unwrap();
            assert_ne!(one.values(), other.values(), "{spec}");
            if !matches!(g, Generator::Poisson2d { .. } | Generator::Poisson3d { .. })
                && !matches!(
                    g,
                    Generator::Banded { .. } | Generator::BlockDiagonal { .. }
                )
            {
                assert_ne!(one.col_idxs(), other.col_idxs(), "{spec}");
            }
        }
    }

    #[test]
    fn pattern_does_not_depend_on_value_or_index_type() {
        for spec in SPECS {
            let g: Generator = spec.parse().unwrap();
            let a: Csr<f64, i32> = g.build(9).unwrap();
            let b: Csr<f32, i64> = g.build(9).unwrap();
            let c: Csr<Complex<f64>, usize> = g.build(9).unwrap();
            assert_eq!(
                a.row_lengths().collect::<Vec<_>>(),
                b.row_lengths().collect::<Vec<_>>()
            );
            assert!(
                a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| { (x.0, x.1) == (y.0, y.1) && x.2 as f32 == y.2 })
            );
            assert!(
                a.iter()
                    .zip(c.iter())
                    .all(|(x, z)| { (x.0, x.1) == (z.0, z.1) && x.2 == z.2.re })
            );
        }
    }

    #[test]
    fn complex_values_get_imaginary_parts() {
        let c: Csr<Complex<f32>, i32> = "random:100:100:5"
            .parse::<Generator>()
            .unwrap()
            .build(1)
            .unwrap();
        assert!(
            c.values()
                .iter()
                .all(|z| (-1.0..1.0).contains(&z.re) && (-1.0..1.0).contains(&z.im))
        );
        assert!(c.values().iter().any(|z| z.im != 0.0));
        let r: Csr<Complex<f64>, i32> = "ratings:100:50"
            .parse::<Generator>()
            .unwrap()
            .build(1)
            .unwrap();
        assert!(r.values().iter().all(|z| z.im == 0.0));
    }

    #[test]
    fn power_law_has_a_few_very_long_rows() {
        let a = build("powerlaw:50k", DEFAULT_SEED);
        let lens: Vec<usize> = a.row_lengths().collect();
        let mean = a.nnz() as f64 / lens.len() as f64;
        let max = *lens.iter().max().unwrap();
        assert!((12.0..20.0).contains(&mean), "mean row length {mean}");
        assert!(max as f64 > 100.0 * mean, "max row {max}, mean {mean}");
        assert!(lens.iter().all(|&l| (1..=50_000).contains(&l)));
        let estimate = "powerlaw:50k".parse::<Generator>().unwrap().estimated_nnz();
        assert_eq!(estimate, 800_000);
        // A lighter tail and a small matrix: the mean is still about right after clamping.
        let a = build("powerlaw:200:50:3", 1);
        let mean = a.nnz() as f64 / 200.0;
        assert!((45.0..55.0).contains(&mean), "mean row length {mean}");
        // A mean beyond n gives full rows; below 1, single entries.
        assert_eq!(build("powerlaw:30:100", 1).nnz(), 900);
        assert_eq!(build("powerlaw:30:0.5", 1).nnz(), 30);
    }

    #[test]
    fn ratings_look_like_ratings() {
        let a = build("ratings:20k:2k", DEFAULT_SEED);
        assert_eq!(a.shape(), (20_000, 2_000));
        let mean = a.nnz() as f64 / 20_000.0;
        assert!((16.0..24.0).contains(&mean), "mean ratings per user {mean}");
        assert!(
            a.values()
                .iter()
                .all(|&v| (0.5..=5.0).contains(&v) && (2.0 * v).fract() == 0.0)
        );
        let fours = a.values().iter().filter(|&&v| v == 4.0).count();
        let halves = a.values().iter().filter(|&&v| v == 0.5).count();
        assert!(fours > 5 * halves);
        // Popularity is skewed: the most rated item has far more ratings than the median one.
        let mut per_item: Vec<usize> = a.transpose().row_lengths().collect();
        per_item.sort_unstable();
        assert!(per_item[1999] > 20 * per_item[1000].max(1), "{per_item:?}");
        // Users who rate almost every item still get distinct items.
        let dense = build("ratings:50:30:29", 2);
        assert!(!dense.has_duplicates() && dense.is_sorted_by_column_index());
        assert!(dense.row_lengths().all(|l| (1..=30).contains(&l)));
    }

    #[test]
    fn parses_specs() {
        let cases = [
            ("poisson2d:2000", Generator::Poisson2d { n: 2000 }),
            ("Poisson3D:1_0", Generator::Poisson3d { n: 10 }),
            (
                "banded:1k:0",
                Generator::Banded {
                    n: 1000,
                    bandwidth: 0,
                },
            ),
            (
                "random:2M:3k:8",
                Generator::Random {
                    nrows: 2_000_000,
                    ncols: 3000,
                    per_row: 8,
                },
            ),
            (
                "powerlaw:1m",
                Generator::PowerLaw {
                    n: 1_000_000,
                    mean: 16.0,
                    alpha: 1.2,
                },
            ),
            (
                " powerlaw:10:8 ",
                Generator::PowerLaw {
                    n: 10,
                    mean: 8.0,
                    alpha: 1.2,
                },
            ),
            (
                "POWERLAW:10:8:2.5",
                Generator::PowerLaw {
                    n: 10,
                    mean: 8.0,
                    alpha: 2.5,
                },
            ),
            (
                "blockdiag:100:16",
                Generator::BlockDiagonal {
                    blocks: 100,
                    block_size: 16,
                },
            ),
            (
                "ratings:10k:2k",
                Generator::Ratings {
                    users: 10_000,
                    items: 2000,
                    per_user: 20.0,
                },
            ),
            (
                "ratings:10k:2k:40",
                Generator::Ratings {
                    users: 10_000,
                    items: 2000,
                    per_user: 40.0,
                },
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(spec.parse::<Generator>(), Ok(expected), "{spec}");
        }
    }

    fn reason(spec: &str) -> String {
        match spec.parse::<Generator>() {
            Err(Error::InvalidGenerator { spec: s, reason }) => {
                assert_eq!(s, spec);
                reason
            }
            other => panic!("{spec}: expected InvalidGenerator, got {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_specs_with_the_expected_form() {
        let cases = [
            ("", "unknown generator"),
            ("laplace:10", "expected one of poisson2d:N, poisson3d:N"),
            ("poisson2d", "expected poisson2d:N, got 0 fields"),
            ("poisson2d:3:4", "expected poisson2d:N, got 2 fields"),
            ("poisson2d:0", "N must be at least 1; expected poisson2d:N"),
            ("poisson2d:-3", "N \"-3\" is not a whole number"),
            ("poisson2d:1.5k", "is not a whole number"),
            ("poisson2d:k", "is not a whole number"),
            ("poisson2d:", "is not a whole number"),
            ("poisson2d:99999999999999999999", "is too large"),
            ("poisson3d:99999999999999m", "is too large"),
            ("banded:10", "expected banded:N:BANDWIDTH"),
            (
                "random:10:0:3",
                "COLS must be at least 1; expected random:ROWS:COLS:PER_ROW",
            ),
            ("random:10:10:0", "PER_ROW must be at least 1"),
            ("powerlaw:10:0", "MEAN must be a positive finite number"),
            ("powerlaw:10:-4", "MEAN must be a positive finite number"),
            ("powerlaw:10:inf", "MEAN \"inf\" is not a finite number"),
            ("powerlaw:10:NaN", "is not a finite number"),
            ("powerlaw:10:16:1", "ALPHA must be a finite number > 1"),
            ("powerlaw:10:16:0.5", "no finite mean"),
            (
                "powerlaw:10:16:1.5:2",
                "expected powerlaw:N[:MEAN[:ALPHA]], got 4 fields",
            ),
            ("blockdiag:0:4", "BLOCKS must be at least 1"),
            ("blockdiag:4:0", "BLOCK_SIZE must be at least 1"),
            ("ratings:10", "expected ratings:USERS:ITEMS[:PER_USER]"),
            ("ratings:10:0", "ITEMS must be at least 1"),
            (
                "ratings:10:10:0",
                "PER_USER must be a positive finite number",
            ),
        ];
        for (spec, expected) in cases {
            let reason = reason(spec);
            assert!(reason.contains(expected), "{spec}: {reason}");
        }
        let err = "poisson2d:x".parse::<Generator>().unwrap_err().to_string();
        assert!(
            err.starts_with("invalid generator spec \"poisson2d:x\": N \"x\""),
            "{err}"
        );
    }

    #[test]
    fn display_round_trips() {
        let generators = [
            Generator::Poisson2d { n: 2000 },
            Generator::Poisson2d { n: 1234 },
            Generator::Poisson3d { n: 1 },
            Generator::Banded {
                n: 5_000_000,
                bandwidth: 0,
            },
            Generator::Random {
                nrows: 10,
                ncols: 1_000_001,
                per_row: 3000,
            },
            Generator::PowerLaw {
                n: 1_000_000,
                mean: 16.0,
                alpha: 1.2,
            },
            Generator::PowerLaw {
                n: 200_000,
                mean: 7.25,
                alpha: 1.2,
            },
            Generator::PowerLaw {
                n: 7,
                mean: 16.0,
                alpha: 1.0000001,
            },
            Generator::PowerLaw {
                n: 7,
                mean: 0.1 + 0.2,
                alpha: 2.0 / 3.0 + 1.0,
            },
            Generator::BlockDiagonal {
                blocks: 100,
                block_size: 16,
            },
            Generator::Ratings {
                users: 10_000,
                items: 2000,
                per_user: 20.0,
            },
            Generator::Ratings {
                users: 1,
                items: 1,
                per_user: 1e-3,
            },
        ];
        for g in generators {
            let spec = g.to_string();
            assert_eq!(spec.parse::<Generator>(), Ok(g.clone()), "{spec}");
        }
        for spec in SPECS {
            let g: Generator = spec.parse().unwrap();
            assert_eq!(g.to_string().parse::<Generator>(), Ok(g), "{spec}");
        }
        assert_eq!(
            "Ratings:10_000:2000:20"
                .parse::<Generator>()
                .unwrap()
                .to_string(),
            "ratings:10k:2000"
        );
        assert_eq!(
            Generator::PowerLaw {
                n: 1_000_000,
                mean: 16.0,
                alpha: 1.2
            }
            .to_string(),
            "powerlaw:1m"
        );
        assert_eq!(
            Generator::PowerLaw {
                n: 1000,
                mean: 16.0,
                alpha: 2.0
            }
            .to_string(),
            "powerlaw:1000:16:2"
        );
        assert_eq!(
            Generator::Random {
                nrows: 10,
                ncols: 1_000_001,
                per_row: 3000
            }
            .to_string(),
            "random:10:1000001:3000"
        );
    }

    #[test]
    fn sizes_that_do_not_fit_are_errors_before_allocation() {
        let err = Generator::Poisson2d { n: 50_000 }.build::<f64, i32>(1);
        assert_eq!(
            err,
            Err(Error::IndexTooNarrow {
                extent: Extent::Rows,
                value: 2_500_000_000,
                index_type: "i32",
                max: <i32 as Index>::MAX_USIZE,
            })
        );
        // 9e8 rows fit i32 but 4.5e9 entries do not.
        let err = Generator::Poisson2d { n: 30_000 }.build::<f64, i32>(1);
        assert!(
            matches!(
                err,
                Err(Error::IndexTooNarrow {
                    extent: Extent::Nnz,
                    ..
                })
            ),
            "{err:?}"
        );
        let err = Generator::Random {
            nrows: 10,
            ncols: 1 << 40,
            per_row: 1,
        }
        .build::<f64, u32>(1);
        assert!(
            matches!(
                err,
                Err(Error::IndexTooNarrow {
                    extent: Extent::Cols,
                    ..
                })
            ),
            "{err:?}"
        );
        let err = Generator::Poisson3d { n: 10_000_000 }.build::<f64, i64>(1);
        assert!(matches!(err, Err(Error::SizeOverflow { .. })), "{err:?}");
        let g = Generator::Poisson3d { n: 10_000_000 };
        assert_eq!(g.shape(), (usize::MAX, usize::MAX));
        assert_eq!(g.estimated_nnz(), usize::MAX);
        let err = Generator::BlockDiagonal {
            blocks: 1 << 40,
            block_size: 1 << 30,
        }
        .build::<f64, i64>(1);
        assert!(matches!(err, Err(Error::SizeOverflow { .. })), "{err:?}");
        let err = Generator::Random {
            nrows: 1 << 40,
            ncols: 1 << 30,
            per_row: 1 << 30,
        }
        .build::<f64, usize>(1);
        assert!(matches!(err, Err(Error::SizeOverflow { .. })), "{err:?}");
    }

    #[test]
    fn build_rejects_invalid_parameters() {
        let g = Generator::PowerLaw {
            n: 10,
            mean: 16.0,
            alpha: 0.9,
        };
        let err = g.build::<f64, i32>(1);
        assert!(
            matches!(&err, Err(Error::InvalidGenerator { spec, reason }) if spec == "powerlaw:10:16:0.9" && reason.contains("ALPHA")),
            "{err:?}"
        );
        let g = Generator::Ratings {
            users: 10,
            items: 10,
            per_user: f64::NAN,
        };
        assert!(matches!(
            g.build::<f32, i32>(1),
            Err(Error::InvalidGenerator { .. })
        ));
        let g = Generator::Poisson2d { n: 0 };
        assert!(matches!(
            g.build::<f32, i32>(1),
            Err(Error::InvalidGenerator { .. })
        ));
        assert_eq!(g.shape(), (0, 0));
        assert_eq!(g.estimated_nnz(), 0);
    }

    #[test]
    fn count_helpers() {
        assert_eq!(parse_count("1_000"), Ok(1000));
        assert_eq!(parse_count("2K"), Ok(2000));
        assert_eq!(parse_count("3m"), Ok(3_000_000));
        assert_eq!(Count(3_000_000).to_string(), "3m");
        assert_eq!(Count(1_500_000).to_string(), "1500k");
        assert_eq!(Count(1001).to_string(), "1001");
        assert_eq!(Count(2000).to_string(), "2000");
        assert_eq!(Count(10_000).to_string(), "10k");
        assert_eq!(Count(0).to_string(), "0");
        let wide = u128::try_from(usize::MAX).unwrap();
        let expected = usize::try_from(wide * (wide - 1) % 1_000_003).unwrap();
        assert_eq!(mul_mod(usize::MAX, usize::MAX - 1, 1_000_003), expected);
        assert_eq!(mul_mod(7, 5, 6), 5);
        assert_eq!(gcd(12, 18), 6);
    }
}
