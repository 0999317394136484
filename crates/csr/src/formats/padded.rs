//! What the padded column-major formats share: [`Ell`](crate::Ell),
//! [`Sellp`](crate::Sellp) and the ELL part of [`Hybrid`](crate::Hybrid).
//!
//! In both layouts the `k`-th slot of a row lies at `base + k * step + lane`: ELL is one
//! slice of `stride` rows (`base = 0`, `step = stride`), SELL-P has a slice per
//! `slice_size` rows (`base = slice_sets[s] * slice_size`, `step = slice_size`). A
//! [`Layout`] cuts the rows into *groups* (the unit of parallel work, consecutive rows) and
//! each group into [`Block`]s of at most [`LANES`] rows that share `base` and `step`. Every
//! kernel here works on one block, looping over `k` outside and the rows inside, so that the
//! slots it reads are contiguous and the compiler vectorises across rows.
//!
//! Unused slots hold [`padding_index`] and the value zero.

use rayon::prelude::*;

use super::common::check_mult_vec;
use super::padded_simd::{self, Simd};
use crate::error::{Error, Extent, Result, check_fits};
use crate::parallel::{DisjointWriter, MIN_PARALLEL_WORK};
use crate::{Csr, CsrRef, Index, Scalar};

/// Rows per block: the width of the SpMV kernel's accumulator array (SELL-P's default
/// slice size, so that a default slice is exactly one block).
pub(crate) const LANES: usize = 64;

/// The column index that marks an unused (padding) slot in [`Ell`](crate::Ell),
/// [`Sellp`](crate::Sellp) and [`Hybrid`](crate::Hybrid): every bit set, that is `-1` for
/// the signed index types (as in Ginkgo) and `MAX` for the unsigned ones (`u32::MAX`,
/// `usize::MAX`), which is never a valid column either since sizes must fit the type.
///
/// # Examples
///
/// ```
/// use csr::padding_index;
///
/// assert_eq!(padding_index::<i32>(), -1);
/// assert_eq!(padding_index::<i64>(), -1);
/// assert_eq!(padding_index::<u32>(), u32::MAX);
/// assert_eq!(padding_index::<usize>(), usize::MAX);
/// ```
#[must_use]
pub fn padding_index<I: Index>() -> I {
    let mut pad = I::ZERO;
    bytemuck::bytes_of_mut(&mut pad).fill(0xFF);
    pad
}

/// At most [`LANES`] consecutive rows whose slots share `base` and `step`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block {
    /// The first row.
    pub row: usize,
    /// The number of rows (`1..=LANES`).
    pub rows: usize,
    /// The slot of the first row's first entry.
    pub base: usize,
    /// The distance between slots `k` and `k + 1` of a row.
    pub step: usize,
    /// The number of slots per row.
    pub len: usize,
}

impl Block {
    /// One past the last slot the block touches (0 if it has none).
    fn end(&self) -> usize {
        match self.len {
            0 => 0,
            len => self.base + (len - 1) * self.step + self.rows,
        }
    }
}

/// How a padded format cuts its rows into groups and blocks.
pub(crate) trait Layout: Sync {
    /// Rows per group (positive); group `g` holds rows `g * group_rows()..`, clipped to the
    /// number of rows.
    fn group_rows(&self) -> usize;

    /// Calls `f` on the blocks of group `g`, in row order, clipped to the number of rows.
    fn for_each_block(&self, g: usize, f: impl FnMut(Block));

    /// The number of rows.
    fn nrows(&self) -> usize;

    /// The number of slots (the length of the column-index and value arrays).
    fn nslots(&self) -> usize;

    /// The number of groups.
    fn ngroups(&self) -> usize {
        self.nrows().div_ceil(self.group_rows())
    }

    /// How many groups one rayon task should take at least.
    fn min_groups_per_task(&self) -> usize {
        let per_group = self.nslots() / self.ngroups().max(1) + self.group_rows();
        (MIN_PARALLEL_WORK / per_group.max(1)).max(1)
    }
}

/// Checks that every block of `layout` lies inside arrays of `nslots` slots (a broken
/// internal invariant otherwise).
fn debug_check_blocks(layout: &impl Layout) {
    if cfg!(debug_assertions) {
        for g in 0..layout.ngroups() {
            layout.for_each_block(g, |b| assert!(b.end() <= layout.nslots()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// SpMV
// ---------------------------------------------------------------------------------------

/// Adds to `acc[lane]` the products of block `b`'s row `b.row + lane` with `x`, skipping
/// padding by selecting a zero product. `acc.len() == b.rows`. Correct for any `x`; used
/// for partial blocks and when no entry of `x` is finite.
///
/// # Safety
/// Every slot of `b` lies in `cols` and `vals`; every non-padding column index in them is
/// `< x.len()`; `x` is not empty.
#[inline(always)]
unsafe fn accumulate<T: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    b: Block,
    x: &[T],
    acc: &mut [T],
) {
    let pad = padding_index::<I>();
    let n = acc.len();
    for k in 0..b.len {
        let off = b.base + k * b.step;
        // SAFETY: off + n <= b.end() <= cols.len() == vals.len() (caller's contract).
        let (c, v) = unsafe {
            (
                cols.get_unchecked(off..off + n),
                vals.get_unchecked(off..off + n),
            )
        };
        for ((&c, &v), a) in c.iter().zip(v).zip(acc.iter_mut()) {
            let keep = c != pad;
            let j = if keep { c.to_usize() } else { 0 };
            // SAFETY: j is a non-padding column (< x.len(), caller's contract) or 0 (x is not
            // empty, caller's contract).
            let p = v * unsafe { *x.get_unchecked(j) };
            *a += if keep { p } else { T::zero() };
        }
    }
}

/// Lanes whose `x` values [`accumulate_full`] loads before multiplying them: a group the
/// compiler packs into SIMD multiplies and adds (2 `f64` lanes with SSE2, 4 with AVX2).
const GROUP: usize = 8;

/// [`accumulate`] for a full block of [`LANES`] rows, branch-free: a padding slot reads
/// `x[finite]` instead of a column, and its zero value makes the product exactly zero.
///
/// The lanes are taken [`GROUP`] at a time with their accumulators in registers; for each
/// `k` the group's `x` values are loaded (scalar gathers), then multiplied and added as
/// packed vectors: SIMD across rows (`mulpd`/`addpd` on two `f64` lanes with the default
/// x86-64 target, checked in the assembly of the `csr` binary). A block's slots (64 rows x
/// its length) stay in L1 while its groups are processed.
///
/// # Safety
/// As [`accumulate`], and `finite < x.len()` with `x[finite]` finite; padding slots hold
/// zero (a format invariant).
#[inline(always)]
unsafe fn accumulate_full<T: Scalar, I: Index>(
    cols: &[I],
    vals: &[T],
    b: Block,
    x: &[T],
    finite: usize,
    acc: &mut [T; LANES],
) {
    let pad = padding_index::<I>();
    for (g, out) in acc.chunks_exact_mut(GROUP).enumerate() {
        let mut sums = [T::zero(); GROUP];
        for k in 0..b.len {
            let off = b.base + k * b.step + g * GROUP;
            // SAFETY: off + GROUP <= b.base + k * b.step + LANES <= b.end() <= cols.len()
            // == vals.len() (caller's contract).
            let (c, v) = unsafe {
                (
                    cols.get_unchecked(off..off + GROUP),
                    vals.get_unchecked(off..off + GROUP),
                )
            };
            let mut xs = [T::zero(); GROUP];
            for (xv, &c) in xs.iter_mut().zip(c) {
                let j = if c != pad { c.to_usize() } else { finite };
                // SAFETY: j is a non-padding column (< x.len()) or `finite` (< x.len()),
                // caller's contract.
                *xv = unsafe { *x.get_unchecked(j) };
            }
            for ((s, &v), &xv) in sums.iter_mut().zip(v).zip(&xs) {
                *s += v * xv;
            }
        }
        out.copy_from_slice(&sums);
    }
}

/// `y = alpha * A[b] * x + beta * y` for block `b`, `y` holding its rows. With `beta == 0`
/// the old `y` is not read. `finite` is the position of a finite value of `x`, if any.
///
/// # Safety
/// Every slot of `b` lies in `cols` and `vals`, every non-padding column index in them
/// is `< x.len()`, padding slots hold zero, `finite` (if any) is a finite entry of `x`,
/// and the CPU has the features `simd` needs.
#[inline]
#[allow(
    clippy::too_many_arguments,
    reason = "one block of one SpMV, all needed"
)]
unsafe fn block_mult_vec<T: Scalar, I: Index>(
    simd: Simd,
    cols: &[I],
    vals: &[T],
    b: Block,
    alpha: T,
    x: &[T],
    finite: Option<usize>,
    beta: T,
    y: &mut [T],
) {
    let mut acc = [T::zero(); LANES];
    // Without columns every slot is padding: the sums stay zero.
    if !x.is_empty() {
        match finite {
            Some(f) if b.rows == LANES => {
                // SAFETY: the caller's contract (b.rows == LANES, f a finite entry).
                if !unsafe { padded_simd::full_block(simd, cols, vals, b, x, f, &mut acc) } {
                    // SAFETY: the caller's contract.
                    unsafe { accumulate_full(cols, vals, b, x, f, &mut acc) };
                }
            }
            // SAFETY: the caller's contract, and x is not empty.
            _ => unsafe { accumulate(cols, vals, b, x, &mut acc[..b.rows]) },
        }
    }
    for (yr, &a) in y.iter_mut().zip(&acc) {
        *yr = crate::scalar::finish(alpha, a, beta, *yr);
    }
}

/// A padded format's storage: its layout and slot arrays.
///
/// # Safety
/// Implementors guarantee, for the values they return: `cols` and `vals` hold
/// `layout().nslots()` slots and every block of the layout lies inside them; every
/// non-padding column index is `< shape().1`; padding slots hold zero;
/// `layout().nrows() == shape().0`.
pub(crate) unsafe trait PaddedStorage<T, I> {
    /// The layout of the slots.
    type Layout<'a>: Layout
    where
        Self: 'a;
    /// The operation named in a shape error (`"ell mult_vec"`).
    const OP: &'static str;
    /// The layout.
    fn layout(&self) -> Self::Layout<'_>;
    /// `(nrows, ncols)`.
    fn dims(&self) -> (usize, usize);
    /// The column indices and values of every slot.
    fn slots(&self) -> (&[I], &[T]);
}

/// `y = alpha * A * x + beta * y` for a padded format, with the `simd` kernel on full blocks
/// where it applies; parallel over groups. With `beta == 0` the old `y` is not read.
///
/// # Errors
/// [`Error::DimensionMismatch`] unless `x.len() == ncols` and `y.len() == nrows`.
pub(crate) fn mult_vec<T: Scalar, I: Index, P: PaddedStorage<T, I>>(
    m: &P,
    simd: Simd,
    alpha: T,
    x: &[T],
    beta: T,
    y: &mut [T],
) -> Result<()> {
    check_mult_vec(P::OP, m.dims(), x.len(), y.len())?;
    let layout = m.layout();
    let (cols, vals) = m.slots();
    debug_check_blocks(&layout);
    // Only the kernels the CPU runs.
    let simd = if simd == Simd::detect() {
        simd
    } else {
        Simd::Portable
    };
    let g_rows = layout.group_rows();
    // Usually x[0]: found at once.
    let finite = x.iter().position(|v| v.is_finite());
    y.par_chunks_mut(g_rows)
        .enumerate()
        .with_min_len(layout.min_groups_per_task())
        .for_each(|(g, yg)| {
            layout.for_each_block(g, |b| {
                let y = &mut yg[b.row - g * g_rows..][..b.rows];
                // SAFETY: the storage's contract (PaddedStorage) with x.len() == ncols and
                // y.len() == nrows checked above; `finite` points at a finite entry of x;
                // `simd` is the detected kernel or the portable one.
                unsafe { block_mult_vec(simd, cols, vals, b, alpha, x, finite, beta, y) };
            });
        });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

/// The first invalid slot of `layout`'s storage in slot order, as an error: a column index
/// that is neither padding nor `< ncols`, an entry in a row `>= nrows`, or a padding slot
/// with a nonzero value. `segments` lists runs of slots `(first slot, first row, length)`
/// in slot order, each run holding consecutive rows.
pub(crate) fn check_slots<T: Scalar, I: Index>(
    format: &'static str,
    nrows: usize,
    ncols: usize,
    cols: &[I],
    vals: &[T],
    segments: impl IndexedParallelIterator<Item = (usize, usize, usize)>,
) -> Result<()> {
    let pad = padding_index::<I>();
    let check = |(slot0, row0, len): (usize, usize, usize)| {
        (0..len).find_map(|lane| {
            let (pos, row) = (slot0 + lane, row0 + lane);
            let c = cols[pos];
            if c == pad {
                return (vals[pos] != T::zero()).then_some(Error::NonZeroPadding {
                    format,
                    row,
                    pos,
                });
            }
            if row >= nrows {
                return Some(Error::EntryPastLastRow {
                    format,
                    row,
                    pos,
                    nrows,
                });
            }
            c.try_to_usize()
                .is_none_or(|c| c >= ncols)
                .then(|| Error::SlotOutOfBounds {
                    format,
                    row,
                    pos,
                    col: c.to_i128(),
                    ncols,
                })
        })
    };
    match segments.with_min_len(64).find_map_first(check) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// `rows * len` slots, or [`Error::SizeOverflow`] naming `what`.
pub(crate) fn slot_count(rows: usize, len: usize, what: &'static str) -> Result<usize> {
    rows.checked_mul(len).ok_or(Error::SizeOverflow { what })
}

/// Fails with [`Error::ArrayLength`] unless `actual == expected`.
pub(crate) fn check_len(
    format: &'static str,
    array: &'static str,
    expected: usize,
    actual: usize,
) -> Result<()> {
    if actual != expected {
        return Err(Error::ArrayLength {
            format,
            array,
            expected,
            actual,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

/// Slots filled with padding (column [`padding_index`], value zero): the columns written
/// in parallel, the values left as fresh zero pages for the caller's fill to touch.
///
/// # Errors
/// [`Error::SizeOverflow`] naming `what` if the arrays cannot be allocated.
pub(crate) fn padding_slots<T: Scalar, I: Index>(
    nslots: usize,
    what: &'static str,
) -> Result<(Vec<I>, Vec<T>)> {
    let bytes = nslots.checked_mul(std::mem::size_of::<I>() + std::mem::size_of::<T>());
    // Refuse what the address space cannot hold before touching it.
    if bytes.is_none_or(|b| b > isize::MAX as usize) {
        return Err(Error::SizeOverflow { what });
    }
    let mut cols: Vec<I> = Vec::new();
    let mut vals: Vec<T> = Vec::new();
    cols.try_reserve_exact(nslots)
        .and_then(|()| vals.try_reserve_exact(nslots))
        .map_err(|_| Error::SizeOverflow { what })?;
    drop((cols, vals));
    Ok((
        crate::parallel::alloc_output(nslots, padding_index::<I>()),
        // Zero bits are the value zero of every scalar type.
        crate::parallel::zeroed_output(nslots),
    ))
}

/// Writes the first `b.len` entries of each of block `b`'s rows of `a` into their slots.
///
/// # Safety
/// No other thread writes the slots of `b`, which lie inside both writers.
unsafe fn block_from_csr<T: Scalar, I: Index>(
    a: CsrRef<'_, T, I>,
    b: Block,
    cols: &DisjointWriter<'_, I>,
    vals: &DisjointWriter<'_, T>,
) {
    let (ptrs, acols, avals) = (a.row_ptrs(), a.col_idxs(), a.values());
    for lane in 0..b.rows {
        let r = b.row + lane;
        let start = ptrs[r].to_usize();
        let len = (ptrs[r + 1].to_usize() - start).min(b.len);
        for k in 0..len {
            let slot = b.base + k * b.step + lane;
            // SAFETY: the slots of b are this thread's alone (caller's contract).
            unsafe {
                cols.write(slot, acols[start + k]);
                vals.write(slot, avals[start + k]);
            }
        }
    }
}

/// Fills prepared padding storage of `layout` with the first `len` entries of every row of
/// `a` (`len` being the block's slots per row), parallel over groups.
///
/// # Panics
/// If a block lies outside the arrays (a broken internal invariant).
pub(crate) fn fill_from_csr<T: Scalar, I: Index>(
    layout: &impl Layout,
    a: CsrRef<'_, T, I>,
    cols: &mut [I],
    vals: &mut [T],
) {
    debug_check_blocks(layout);
    let (cw, vw) = (DisjointWriter::new(cols), DisjointWriter::new(vals));
    (0..layout.ngroups())
        .into_par_iter()
        .with_min_len(layout.min_groups_per_task())
        .for_each(|g| {
            layout.for_each_block(g, |b| {
                // SAFETY: blocks of distinct groups, and distinct blocks of one group, cover
                // distinct rows, hence distinct slots (base + k * step + lane is injective
                // over a layout's rows); each group runs on one thread.
                unsafe { block_from_csr(a, b, &cw, &vw) };
            });
        });
}

/// Entries beyond the padded part of each row, appended after it when converting to CSR
/// (the COO part of a Hybrid matrix, as row pointers into its arrays).
pub(crate) struct Overflow<'a, T, I> {
    /// `nrows + 1` offsets into `cols` and `vals`.
    pub ptrs: &'a [usize],
    /// Column indices.
    pub cols: &'a [I],
    /// Values.
    pub vals: &'a [T],
}

/// Counts the non-padding slots of each row of block `b` into `lens` (one per row).
fn block_row_lengths<I: Index>(cols: &[I], b: Block, lens: &mut [usize]) {
    let pad = padding_index::<I>();
    for k in 0..b.len {
        let off = b.base + k * b.step;
        for (len, &c) in lens.iter_mut().zip(&cols[off..off + b.rows]) {
            *len += usize::from(c != pad);
        }
    }
}

/// The CSR matrix of padded storage `m`, each row's slots in slot order, followed by its
/// `overflow` entries. Parallel over groups.
///
/// # Errors
/// [`Error::IndexTooNarrow`] if the number of entries does not fit `I`;
/// [`Error::OutOfMemory`] if the row pointers cannot be allocated (an empty ELL of 2⁴⁰ rows).
pub(crate) fn to_csr<T: Scalar, I: Index, P: PaddedStorage<T, I>>(
    m: &P,
    overflow: Option<&Overflow<'_, T, I>>,
) -> Result<Csr<T, I>> {
    let (layout, ncols, (cols, vals)) = (&m.layout(), m.dims().1, m.slots());
    let (nrows, g_rows) = (layout.nrows(), layout.group_rows());
    let min_len = layout.min_groups_per_task();
    let mut lens: Vec<usize> = crate::parallel::try_zeroed(nrows, "row length array")?;
    // After the O(nrows) allocation: a row count that no array backs (an empty ELL of 2^46
    // rows) fails above instead of walking its groups here.
    debug_check_blocks(layout);
    lens.par_chunks_mut(g_rows)
        .enumerate()
        .with_min_len(min_len)
        .for_each(|(g, lg)| {
            layout.for_each_block(g, |b| {
                block_row_lengths(cols, b, &mut lg[b.row - g * g_rows..][..b.rows]);
            });
            if let Some(o) = overflow {
                for (i, len) in lg.iter_mut().enumerate() {
                    let r = g * g_rows + i;
                    *len += o.ptrs[r + 1] - o.ptrs[r];
                }
            }
        });
    // nrows + 1 fits usize: every constructor checks it.
    let mut ptrs = crate::parallel::try_with_capacity(nrows + 1, "row pointer array")?;
    ptrs.push(0usize);
    let mut total = 0usize;
    for &len in &lens {
        total += len;
        ptrs.push(total);
    }
    drop(lens);
    check_fits::<I>(Extent::Nnz, total)?;
    let mut out_cols = crate::parallel::zeroed_output(total);
    let mut out_vals = crate::parallel::zeroed_output(total);
    // Cut the outputs into one piece per group.
    let mut pieces = Vec::with_capacity(layout.ngroups());
    let (mut crest, mut vrest) = (out_cols.as_mut_slice(), out_vals.as_mut_slice());
    for g in 0..layout.ngroups() {
        let rows = g * g_rows..((g + 1) * g_rows).min(nrows);
        let n = ptrs[rows.end] - ptrs[rows.start];
        let (c, cr) = crest.split_at_mut(n);
        let (v, vr) = vrest.split_at_mut(n);
        (crest, vrest) = (cr, vr);
        pieces.push((g, rows, c, v));
    }
    let pad = padding_index::<I>();
    pieces
        .into_par_iter()
        .with_min_len(min_len)
        .for_each(|(g, rows, oc, ov)| {
            let base = ptrs[rows.start];
            let mut next: Vec<usize> = ptrs[rows.clone()].iter().map(|p| p - base).collect();
            layout.for_each_block(g, |b| {
                let cursors = &mut next[b.row - rows.start..][..b.rows];
                for k in 0..b.len {
                    let off = b.base + k * b.step;
                    let slots = off..off + b.rows;
                    for ((cur, &c), &v) in cursors
                        .iter_mut()
                        .zip(&cols[slots.clone()])
                        .zip(&vals[slots])
                    {
                        if c != pad {
                            oc[*cur] = c;
                            ov[*cur] = v;
                            *cur += 1;
                        }
                    }
                }
            });
            if let Some(o) = overflow {
                for (r, cur) in rows.zip(&next) {
                    let src = o.ptrs[r]..o.ptrs[r + 1];
                    oc[*cur..*cur + src.len()].copy_from_slice(&o.cols[src.clone()]);
                    ov[*cur..*cur + src.len()].copy_from_slice(&o.vals[src]);
                }
            }
        });
    let row_ptrs = ptrs.par_iter().map(|&p| I::truncate(p)).collect();
    // SAFETY: row_ptrs start at 0, are non-decreasing and end at total == nnz (a prefix sum
    // of lengths, total checked to fit I); every column was a validated non-padding column
    // (< ncols) of the source; nrows and ncols fit I (checked when the source was built).
    Ok(unsafe { Csr::from_parts_unchecked(nrows, ncols, row_ptrs, out_cols, out_vals) })
}
