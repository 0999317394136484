//! Rows of `A·B` that repeat the row above them one column to the right: stencil and
//! banded matrices, whose product rows share one structure, found once per run of rows.
//!
//! Row `r` of `A` is *shifted* when it holds as many entries as row `r - 1` and each of its
//! columns is the matching column of row `r - 1` plus one (storage order kept): its columns
//! sit at the same offsets from the row. The same for `B`. When row `r` of `A` is shifted
//! and so is every row `k` of `B` that its columns name, row `r` of the product repeats row
//! `r - 1` one column to the right: the same products, in the same order, land at the same
//! offsets. A *segment* of consecutive such rows shares one [`Template`], made from its
//! first row: the product's distinct offsets, sorted, and the slot of each product in
//! summation order. Its rows then need neither the symbolic pass (their length is the
//! template's) nor the accumulator: each product adds into its slot of the output row, and
//! the columns are the row index plus the offsets. Sums are formed in the accumulator's
//! order (from zero, `A`'s row then `B`'s row in storage order), so the values are the
//! same bits; the columns come out sorted.
//!
//! A 5-point stencil on an `n × n` grid is a few segments per grid line.

use std::ops::Range;

use rayon::prelude::*;

use super::locality::sample_windows;
use crate::parallel::MIN_PARALLEL_WORK;
use crate::{CsrRef, Index, Scalar};

/// Rows a segment must span to get a template. Not resolved by measurement: on a 5-point
/// stencil with one row in every 6, 12 or 24 broken (segments of a few to a few dozen
/// rows), minimum spans of 2 to 32 and no templates at all ran within the machine's noise
/// of each other (`bench/runs/2026-12-06-stencil-spgemm`); a stencil's segments are
/// thousands of rows long, far above it.
const MIN_SEGMENT_ROWS: usize = 8;

/// Products a template may hold: rows with more are left to the accumulator. A template
/// costs 12 bytes per product, shared by at least [`MIN_SEGMENT_ROWS`] rows, so templates
/// take at most 1.5 bytes per flop of the product. Templates beat the accumulator however
/// long the rows measured (rows in any order, 2 threads, medians, accumulator →
/// template): `banded:40000:25` (2601 products per row) 169 → 95 ms, `banded:20000:50`
/// (10201) 242 → 134, `banded:8000:100` (40401) 368 → 193
/// (`bench/runs/2026-12-06-stencil-spgemm`).
const MAX_TEMPLATE_PRODUCTS: usize = 1 << 16;

/// Sampled rows (of `A` and of `B`) of which at least half must be shifted before the
/// shifts of every row are looked for: a product of unstructured matrices pays for the
/// sample only.
const SAMPLE_ROWS: usize = 64;
const SAMPLE_WINDOWS: usize = 64;

/// Whether row `r` of `m` holds the columns of row `r - 1` plus one, in the same order
/// (`false` for row 0).
fn is_shifted<T: Scalar, I: Index>(m: CsrRef<'_, T, I>, r: usize) -> bool {
    if r == 0 {
        return false;
    }
    let (ptrs, cols) = (m.row_ptrs(), m.col_idxs());
    let (above, here) = (
        &cols[ptrs[r - 1].to_usize()..ptrs[r].to_usize()],
        &cols[ptrs[r].to_usize()..ptrs[r + 1].to_usize()],
    );
    above.len() == here.len()
        && above
            .iter()
            .zip(here)
            .all(|(u, h)| u.to_usize() + 1 == h.to_usize())
}

/// Whether at least half of a sample of `m`'s rows are shifted.
fn mostly_shifted<T: Scalar, I: Index>(m: CsrRef<'_, T, I>) -> bool {
    let (mut shifted, mut total) = (0usize, 0usize);
    for r in sample_windows(m.nrows(), SAMPLE_ROWS, SAMPLE_WINDOWS)
        .into_iter()
        .flatten()
    {
        total += 1;
        shifted += usize::from(is_shifted(m, r));
    }
    total > 0 && 2 * shifted >= total
}

/// Every row's [`is_shifted`], in parallel.
fn shifts<T: Scalar, I: Index>(m: CsrRef<'_, T, I>) -> Vec<bool> {
    (0..m.nrows())
        .into_par_iter()
        .with_min_len(MIN_PARALLEL_WORK / 8)
        .map(|r| is_shifted(m, r))
        .collect()
}

/// Which rows of `A` and of `B` are shifted, for the products whose segments are worth
/// finding.
pub(super) struct Shifts {
    a: Vec<bool>,
    /// `None` when `B` is `A` (the same arrays): `a` serves both.
    b: Option<Vec<bool>>,
}

impl Shifts {
    /// The shifts of `A` and `B`, or `None` when a sample finds most rows of either
    /// unshifted.
    pub(super) fn find<T: Scalar, I: Index>(
        a: CsrRef<'_, T, I>,
        b: CsrRef<'_, T, I>,
    ) -> Option<Self> {
        let same =
            std::ptr::eq(a.row_ptrs(), b.row_ptrs()) && std::ptr::eq(a.col_idxs(), b.col_idxs());
        if !mostly_shifted(a) || !(same || mostly_shifted(b)) {
            return None;
        }
        Some(Self {
            a: shifts(a),
            b: (!same).then(|| shifts(b)),
        })
    }

    fn of_b(&self) -> &[bool] {
        self.b.as_deref().unwrap_or(&self.a)
    }

    /// Whether row `r` of `A·B` repeats row `r - 1` shifted: row `r` of `A` is, and so is
    /// every row of `B` it names.
    fn repeats<T: Scalar, I: Index>(&self, a: CsrRef<'_, T, I>, r: usize) -> bool {
        let (ptrs, cols) = (a.row_ptrs(), a.col_idxs());
        let b = self.of_b();
        self.a[r]
            && cols[ptrs[r].to_usize()..ptrs[r + 1].to_usize()]
                .iter()
                .all(|k| b[k.to_usize()])
    }

    /// The segments of rows `rows` of `A·B` and their templates.
    pub(super) fn segments<T: Scalar, I: Index>(
        &self,
        a: CsrRef<'_, T, I>,
        b: CsrRef<'_, T, I>,
        rows: Range<usize>,
    ) -> Segments {
        let mut out = Segments::default();
        let mut start = rows.start;
        for r in rows.start + 1..=rows.end {
            if r < rows.end && self.repeats(a, r) {
                continue;
            }
            if r - start >= MIN_SEGMENT_ROWS
                && let Some(t) = Template::of_row(a, b, start)
            {
                let id = match out.templates.last() {
                    Some(last) if *last == t => out.templates.len() - 1,
                    _ => {
                        out.templates.push(t);
                        out.templates.len() - 1
                    }
                };
                out.segments.push((start..r, id));
            }
            start = r;
        }
        out
    }
}

/// The structure of one product row relative to its row index.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Template {
    /// The row's columns minus its index, distinct and sorted.
    offsets: Vec<isize>,
    /// The position in `offsets` of each product's column, products in summation order.
    slots: Vec<u32>,
}

impl Template {
    /// The template of row `r` of `A·B`, unless the row has more than
    /// [`MAX_TEMPLATE_PRODUCTS`] products.
    fn of_row<T: Scalar, I: Index>(
        a: CsrRef<'_, T, I>,
        b: CsrRef<'_, T, I>,
        r: usize,
    ) -> Option<Self> {
        let (ap, ac) = (a.row_ptrs(), a.col_idxs());
        let (bp, bc) = (b.row_ptrs(), b.col_idxs());
        let a_row = &ac[ap[r].to_usize()..ap[r + 1].to_usize()];
        let products = a_row.iter().try_fold(0usize, |n, k| {
            let k = k.to_usize();
            let n = n + (bp[k + 1].to_usize() - bp[k].to_usize());
            (n <= MAX_TEMPLATE_PRODUCTS).then_some(n)
        });
        products?;
        let products: Vec<isize> = a_row
            .iter()
            .flat_map(|k| {
                let k = k.to_usize();
                bc[bp[k].to_usize()..bp[k + 1].to_usize()].iter()
            })
            .map(|c| offset(c.to_usize(), r))
            .collect();
        let mut offsets = products.clone();
        offsets.sort_unstable();
        offsets.dedup();
        // A position below MAX_TEMPLATE_PRODUCTS: it fits u32.
        let slots = products
            .iter()
            .map(|p| offsets.partition_point(|o| o < p) as u32)
            .collect();
        Some(Self { offsets, slots })
    }

    /// The length of the rows it stands for.
    pub(super) fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Writes row `r` of `A·B` (a row of this template's segment) into `cols` / `vals`,
    /// both [`Template::len`] long, `vals` all zero (a fresh output's: the first product
    /// of each slot then adds to zero, as the accumulator's first product does).
    pub(super) fn fill<T: Scalar, I: Index>(
        &self,
        a: CsrRef<'_, T, I>,
        b: CsrRef<'_, T, I>,
        r: usize,
        cols: &mut [I],
        vals: &mut [T],
    ) {
        let (ap, ac, av) = (a.row_ptrs(), a.col_idxs(), a.values());
        let (bp, bv) = (b.row_ptrs(), b.values());
        debug_assert!(vals.iter().all(|v| *v == T::zero()));
        let mut slots = self.slots.iter();
        for (k, &x) in ac[ap[r].to_usize()..ap[r + 1].to_usize()]
            .iter()
            .zip(&av[ap[r].to_usize()..ap[r + 1].to_usize()])
        {
            let k = k.to_usize();
            // B's row first: `zip` stops on it without taking a slot past the row.
            for (&y, &slot) in bv[bp[k].to_usize()..bp[k + 1].to_usize()]
                .iter()
                .zip(slots.by_ref())
            {
                vals[slot as usize] += x * y;
            }
        }
        for (c, &o) in cols.iter_mut().zip(&self.offsets) {
            // A column of the row's own products: in 0..ncols(B), which fits I.
            *c = I::truncate(r.wrapping_add_signed(o));
        }
    }
}

/// `c - r` as a signed offset (both below `isize::MAX`: indices of allocated arrays).
fn offset(c: usize, r: usize) -> isize {
    (c as isize).wrapping_sub(r as isize)
}

/// The segments of one chunk of rows, in row order, each with its template's index.
#[derive(Debug, Default)]
pub(super) struct Segments {
    segments: Vec<(Range<usize>, usize)>,
    templates: Vec<Template>,
}

impl Segments {
    /// A cursor answering, for rows asked in increasing order, the template of each.
    pub(super) fn cursor(&self) -> Cursor<'_> {
        Cursor { of: self, next: 0 }
    }
}

/// See [`Segments::cursor`].
pub(super) struct Cursor<'s> {
    of: &'s Segments,
    next: usize,
}

impl<'s> Cursor<'s> {
    /// The template of row `r` if a segment holds it (`r` at least the last row asked).
    #[inline]
    pub(super) fn at(&mut self, r: usize) -> Option<&'s Template> {
        let segments = &self.of.segments;
        while self.next < segments.len() && segments[self.next].0.end <= r {
            self.next += 1;
        }
        match segments.get(self.next) {
            Some((rows, t)) if rows.contains(&r) => Some(&self.of.templates[*t]),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Csr;
    use crate::kernel::native::spgemm::{self, Order};
    use crate::kernel::{Kernel, ReferenceKernel};

    type M = Csr<f64, i32>;

    /// A small linear congruential generator (deterministic cases).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as usize
        }
    }

    /// An `nrows × ncols` band: row `r` holds columns `r + o` for the offsets `o` that land
    /// inside, in the given order, with small integer values (sums that cancel happen),
    /// then `faults` random rows broken: an entry dropped, two entries swapped (unsorted),
    /// or one repeated (a duplicate).
    fn band(nrows: usize, ncols: usize, offsets: &[isize], faults: usize, seed: u64) -> M {
        let mut rng = Lcg(seed);
        let mut rows: Vec<Vec<i32>> = (0..nrows)
            .map(|r| {
                offsets
                    .iter()
                    .filter_map(|&o| usize::try_from(r as isize + o).ok())
                    .filter(|&c| c < ncols)
                    .map(|c| c as i32)
                    .collect()
            })
            .collect();
        for _ in 0..faults {
            let row = &mut rows[rng.next() % nrows];
            if row.len() < 2 {
                continue;
            }
            let (i, j) = (rng.next() % row.len(), rng.next() % row.len());
            match rng.next() % 3 {
                0 => {
                    row.remove(i);
                }
                1 => {
                    let len = row.len();
                    row.swap(i, (i + 1) % len);
                }
                _ => row.insert(j, row[i]),
            }
        }
        let (mut ptrs, mut cols, mut vals) = (vec![0i32], Vec::new(), Vec::new());
        for row in rows {
            for c in row {
                cols.push(c);
                vals.push((rng.next() % 7) as f64 - 3.0);
            }
            ptrs.push(cols.len() as i32);
        }
        Csr::try_from_parts(nrows, ncols, ptrs, cols, vals).unwrap()
    }

    fn reference(a: &M, b: &M) -> M {
        let k = ReferenceKernel;
        let (ha, hb) = (
            k.to_handle(a.view()).unwrap(),
            k.to_handle(b.view()).unwrap(),
        );
        k.from_handle(&k.mult_ab(&ha, &hb).unwrap()).unwrap()
    }

    /// The segments of every row of `A·B` in one chunk (none when the sample refuses).
    fn segments_of(a: &M, b: &M) -> Segments {
        Shifts::find(a.view(), b.view())
            .map(|s| s.segments(a.view(), b.view(), 0..a.nrows()))
            .unwrap_or_default()
    }

    /// The two-phase product (forced: where segments are used) in both orders, on 1 and 3
    /// threads, equals the reference bit for bit, and reports stored zeros as it holds
    /// them.
    fn assert_matches_reference(a: &M, b: &M) {
        let expected = reference(a, b);
        let bits = |m: &M| m.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for order in [Order::Sorted, Order::Any] {
                let p = pool
                    .install(|| spgemm::multiply_with_limit(a.view(), b.view(), None, 0, order))
                    .unwrap();
                let mut c = p.matrix;
                assert_eq!(p.holds_zeros, c.values().contains(&0.0));
                if order == Order::Any {
                    c.sort_by_column_index();
                }
                let what = format!("{threads} threads, {order:?}");
                assert_eq!(c.row_ptrs(), expected.row_ptrs(), "{what}");
                assert_eq!(c.col_idxs(), expected.col_idxs(), "{what}");
                assert_eq!(bits(&c), bits(&expected), "{what}");
            }
        }
    }

    #[test]
    fn a_grid_stencil_is_a_few_segments_per_grid_line() {
        let n = 40;
        let a: M = "poisson2d:40"
            .parse::<crate::generate::Generator>()
            .unwrap()
            .build(7)
            .unwrap();
        let s = segments_of(&a, &a);
        // Each interior grid line's rows repeat each other but near its ends (where a
        // neighbour's row leaves the line); the first and last lines differ.
        let covered: usize = s.segments.iter().map(|(rows, _)| rows.len()).sum();
        assert!(covered >= n * n * 17 / 20, "{covered} of {} rows", n * n);
        assert!(s.segments.len() <= 2 * n, "{} segments", s.segments.len());
        assert_matches_reference(&a, &a);
        assert_matches_reference(&a, &a.transpose());
    }

    #[test]
    fn a_band_is_almost_all_one_segment() {
        let n = 40;
        let a = band(n * n, n * n, &[-(n as isize), -1, 0, 1, n as isize], 0, 1);
        let s = segments_of(&a, &a);
        // Every row but the first and last few repeats the one above it (the band's
        // offsets ignore the grid's edges).
        let covered: usize = s.segments.iter().map(|(rows, _)| rows.len()).sum();
        assert!(covered >= n * n * 9 / 10, "{covered} of {} rows", n * n);
        // The middle row's template: the 13 sums of two of the band's offsets.
        let mut cursor = s.cursor();
        let t = cursor.at(n * n / 2).unwrap();
        assert_eq!(
            t.offsets,
            [-80, -41, -40, -39, -2, -1, 0, 1, 2, 39, 40, 41, 80]
        );
        assert_eq!(t.slots.len(), 25);
        assert_matches_reference(&a, &a);
    }

    #[test]
    fn unstructured_products_find_no_segments() {
        let mut rng = Lcg(9);
        let (n, mut ptrs, mut cols) = (500, vec![0i32], Vec::new());
        for _ in 0..n {
            for _ in 0..rng.next() % 5 {
                cols.push((rng.next() % n) as i32);
            }
            ptrs.push(cols.len() as i32);
        }
        let vals = vec![1.0; cols.len()];
        let a = M::try_from_parts(n, n, ptrs, cols, vals).unwrap();
        assert!(Shifts::find(a.view(), a.view()).is_none());
        // A band times it: most rows of A are shifted, few of B.
        let band = band(n, n, &[-1, 0, 1], 0, 2);
        assert!(Shifts::find(band.view(), a.view()).is_none());
        assert_matches_reference(&band, &a);
        assert_matches_reference(&a, &band);
    }

    #[test]
    fn broken_rows_end_segments_and_products_stay_exact() {
        for seed in 0..12 {
            let n = 30 + seed as usize * 7;
            let offsets: &[isize] = match seed % 3 {
                0 => &[-(n as isize), -1, 0, 1, n as isize],
                1 => &[2, -3, 0, 5],
                _ => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            };
            let a = band(n * 3, n * 3, offsets, n / 6, seed);
            let b = band(n * 3, n * 2, offsets, n / 3, seed + 100);
            assert!(
                !segments_of(&a, &a).segments.is_empty(),
                "seed {seed}: the case must reach the stencil path"
            );
            assert_matches_reference(&a, &a);
            assert_matches_reference(&a, &b);
            assert_matches_reference(&b.transpose(), &a);
        }
    }

    #[test]
    fn rows_of_many_products_keep_the_accumulator() {
        // Rows 1..88 of A·B repeat each other (B's rows shorten from 344 on). With 255
        // entries per row they make a segment; with 257, 66 049 products per row, above
        // the cap, they do not.
        let wide = |width: isize| {
            let offsets: Vec<isize> = (0..width).collect();
            (
                band(300, 600, &offsets, 0, 3),
                band(600, 600, &offsets, 0, 4),
            )
        };
        let (a, b) = wide(255);
        assert!(!segments_of(&a, &b).segments.is_empty());
        let (a, b) = wide(257);
        assert!(segments_of(&a, &b).segments.is_empty());
        assert_matches_reference(&a, &b);
    }

    #[test]
    fn every_row_of_a_segment_repeats_its_first_shifted() {
        let a = band(200, 200, &[-7, -1, 0, 3], 20, 5);
        let s = segments_of(&a, &a);
        assert!(!s.segments.is_empty());
        for (rows, t) in &s.segments {
            assert!(rows.len() >= MIN_SEGMENT_ROWS);
            for r in rows.clone() {
                let here = Template::of_row(a.view(), a.view(), r).unwrap();
                assert_eq!(here, s.templates[*t], "row {r}");
            }
        }
    }
}
