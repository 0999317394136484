//! Top-k sparse products: what [`TopK`] means, and the per-row selection every kernel runs.
//!
//! The rules are on [`TopK`]; the reference kernel sorts each full row, the others
//! select, and the tests compare them.

use std::cmp::Ordering;

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::topk_avx512::Avx512Scratch;
use super::{Handle, Kernel, KernelId, shapes};
use crate::error::{Error, Extent, Result, check_fits};
use crate::parallel::{balanced_row_blocks, piece_count};
use crate::scalar::order_key;
use crate::{Csr, CsrRef, Index, Scalar};

/// How the entries of each row of a top-k product are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TopKOrder {
    /// By increasing column (a sorted CSR row).
    #[default]
    ByColumn,
    /// By decreasing value, ties by increasing column.
    ByValueDescending,
}

/// What a top-k product ([`Kernel::mult_ab_topk`], [`Kernel::mult_abt_topk`],
/// [`select_topk`], [`cosine_topk`]) keeps of each row: at most `k` entries. Built with
/// [`TopK::new`] and builder methods; `R` is the real value type (`f64` for `Csr<f64, _>`).
///
/// The rules, identical for every kernel:
///
/// - **Largest by value**, not by magnitude (`-5` ranks below `1`), as `sparse_dot_topn`
///   keeps the largest values. **Ties** (equal values, `-0.0 == 0.0` included) go to the
///   lower column, so the result is fully determined by the product's values.
/// - **Threshold**: with [`TopK::threshold`] `t`, only values `>= t` are kept
///   (`sparse_dot_topn` keeps values `> t`). A NaN threshold keeps nothing.
/// - **Diagonal**: [`TopK::exclude_diagonal`] drops entry `(i, i)` before selecting, so a
///   row can still hold `k` other entries.
/// - **Zeros**: entries of the product that sum to exactly zero (cancellation, or explicit
///   zeros in the operands) are ordinary values, kept if they rank (like `mult_ab`, which
///   keeps them). With `k >= ncols`, no threshold and no diagonal exclusion the result is the
///   full product less its NaN entries. Positions the product does not reach are never
///   selected, even when every stored value is negative.
/// - **Non-finite values**: NaN is never selected (it has no rank); `+∞` and `-∞` rank as
///   usual (`-∞` is kept when a row has room for it and no threshold excludes it). Nothing
///   panics.
/// - **Complex values** have no order: complex matrices get [`Error::Unsupported`].
/// - **Order of each output row**: by column ([`TopKOrder::ByColumn`], the default, a
///   normal sorted CSR), or by value descending, ties by column
///   ([`TopKOrder::ByValueDescending`], `sparse_dot_topn`'s `sort=True`).
///
/// Every value kept is the one the kernel's full product computes (same summation order),
/// so results do not depend on the thread count.
///
/// # Examples
///
/// ```
/// use csr::kernel::{Kernel, NativeKernel, TopK, TopKOrder};
/// use csr::Csr;
///
/// // Rows are items, columns users: A·Aᵀ holds item-item dot products.
/// let a = Csr::<f64, i32>::try_from_dense_row_major(3, 2, &[1.0, 1.0, 1.0, 0.0, 0.0, 2.0])?;
/// let h = NativeKernel.to_handle(a.view())?;
/// let opts = TopK::new(1).exclude_diagonal(true).order(TopKOrder::ByValueDescending);
/// let s = NativeKernel.from_handle(&NativeKernel.mult_abt_topk(&h, &h, &opts)?)?;
/// // Item 0 is closest to item 2 (2 > 1); items 1 and 2 are closest to item 0.
/// assert_eq!(s.iter().collect::<Vec<_>>(), vec![(0, 2, 2.0), (1, 0, 1.0), (2, 0, 2.0)]);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[must_use = "options do nothing unless passed to a top-k product"]
pub struct TopK<R> {
    /// The most entries kept per row.
    pub k: usize,
    /// Keep only values `>= threshold` (none: no lower bound).
    pub threshold: Option<R>,
    /// Drop entry `(i, i)` of row `i` before selecting.
    pub exclude_diagonal: bool,
    /// How each output row is ordered.
    pub order: TopKOrder,
}

impl<R> TopK<R> {
    /// At most `k` entries per row, no threshold, diagonal kept, rows by column.
    pub const fn new(k: usize) -> Self {
        Self {
            k,
            threshold: None,
            exclude_diagonal: false,
            order: TopKOrder::ByColumn,
        }
    }

    /// Keeps only values `>= threshold`.
    pub fn threshold(self, threshold: R) -> Self {
        Self {
            threshold: Some(threshold),
            ..self
        }
    }

    /// Drops (or keeps) the diagonal entry of each row.
    pub fn exclude_diagonal(self, exclude: bool) -> Self {
        Self {
            exclude_diagonal: exclude,
            ..self
        }
    }

    /// Orders each output row as `order` says.
    pub fn order(self, order: TopKOrder) -> Self {
        Self { order, ..self }
    }
}

/// `Err(Unsupported)` for complex values, which have no order.
pub(crate) fn check_orderable<T: Scalar>(kernel: &'static str, op: &'static str) -> Result<()> {
    if T::IS_COMPLEX {
        return Err(Error::Unsupported {
            kernel,
            op,
            reason: format!("complex values ({}) have no order to select by", T::NAME),
        });
    }
    Ok(())
}

/// The operands of a top-k product (`A·Bᵀ` with `transpose_b`) on kernel `id`: both handles
/// its own, shapes that agree, values with an order.
///
/// # Errors
/// [`Error::ForeignHandle`], [`Error::DimensionMismatch`], [`Error::Unsupported`] (complex
/// values).
pub(crate) fn topk_operands<'h, T: Scalar, I: Index>(
    id: KernelId,
    a: &'h Handle<'_, T, I>,
    b: &'h Handle<'_, T, I>,
    transpose_b: bool,
) -> Result<(CsrRef<'h, T, I>, CsrRef<'h, T, I>)> {
    let op = if transpose_b {
        "mult_abt_topk"
    } else {
        "mult_ab_topk"
    };
    a.check_kernel(id, op)?;
    b.check_kernel(id, op)?;
    let (am, bm) = (a.matrix(), b.matrix());
    shapes::product(am, bm, transpose_b, op)?;
    check_orderable::<T>(id.name(), op)?;
    Ok((am, bm))
}

/// The rank order of two candidates `(column, value)`: larger value first, then lower
/// column. Values are never NaN here ([`is_candidate`] drops them).
#[inline]
pub(crate) fn rank<R: PartialOrd>(a: (usize, R), b: (usize, R)) -> Ordering {
    b.1.partial_cmp(&a.1)
        .unwrap_or(Ordering::Equal)
        .then(a.0.cmp(&b.0))
}

/// Whether entry `(row, col)` with value `v` may be selected: not NaN, at least the
/// threshold, and not a dropped diagonal entry.
#[inline]
pub(crate) fn is_candidate<R: PartialOrd + Copy>(
    opts: &TopK<R>,
    row: usize,
    col: usize,
    v: R,
) -> bool {
    #[allow(clippy::eq_op, reason = "v == v is false exactly for NaN")]
    let ordered = v == v;
    ordered && opts.threshold.is_none_or(|t| v >= t) && !(opts.exclude_diagonal && row == col)
}

/// Selects the top entries of one row in place: `items` are the row's entries (each
/// column once), `col` and `value` read an item's column and value. Returns `n`: the kept
/// items are `items[..n]`, in `opts.order`.
///
/// Filters ([`is_candidate`]), then a partial selection (`select_nth_unstable_by`, linear
/// on average) when more than `k` remain, then sorts the `≤ k` kept.
pub(crate) fn select_row<E: Copy, R: PartialOrd + Copy>(
    items: &mut [E],
    row: usize,
    opts: &TopK<R>,
    col: impl Fn(E) -> usize,
    value: impl Fn(E) -> R,
) -> usize {
    let mut n = 0;
    for i in 0..items.len() {
        let e = items[i];
        if is_candidate(opts, row, col(e), value(e)) {
            items.swap(n, i);
            n += 1;
        }
    }
    let cmp = |x: &E, y: &E| rank((col(*x), value(*x)), (col(*y), value(*y)));
    let kept = &mut items[..n];
    if n > opts.k {
        if opts.k > 0 {
            kept.select_nth_unstable_by(opts.k - 1, cmp);
        }
        n = opts.k;
    }
    order_kept(&mut items[..n], opts.order, col, value);
    n
}

/// Sorts the kept items of a row into `order`.
pub(crate) fn order_kept<E: Copy, R: PartialOrd + Copy>(
    kept: &mut [E],
    order: TopKOrder,
    col: impl Fn(E) -> usize,
    value: impl Fn(E) -> R,
) {
    match order {
        TopKOrder::ByColumn => kept.sort_unstable_by_key(|e| col(*e)),
        TopKOrder::ByValueDescending => {
            kept.sort_unstable_by(|x, y| rank((col(*x), value(*x)), (col(*y), value(*y))));
        }
    }
}

/// Offers `e` to a heap of the best `k` items seen so far, `heap[..*n]`, whose root is its
/// worst (`worse(x, y)`: `x` ranks below `y`): pushed while there are fewer than `k`
/// (`heap` has room for `k`), else put in the worst's place if it ranks above it. Returns
/// whether the heap changed.
#[inline]
pub(crate) fn heap_offer<E: Copy>(
    heap: &mut [E],
    n: &mut usize,
    k: usize,
    e: E,
    worse: impl Fn(E, E) -> bool,
) -> bool {
    if *n < k {
        // Sift up from the new leaf.
        let mut at = *n;
        heap[at] = e;
        while at > 0 && worse(heap[at], heap[(at - 1) / 2]) {
            heap.swap(at, (at - 1) / 2);
            at = (at - 1) / 2;
        }
        *n += 1;
        return true;
    }
    if !worse(heap[0], e) {
        return false;
    }
    // Replace the worst and sift it down.
    heap[0] = e;
    let mut at = 0;
    loop {
        let (l, r) = (2 * at + 1, 2 * at + 2);
        let mut w = at;
        if l < k && worse(heap[l], heap[w]) {
            w = l;
        }
        if r < k && worse(heap[r], heap[w]) {
            w = r;
        }
        if w == at {
            return true;
        }
        heap.swap(at, w);
        at = w;
    }
}

/// [`select_row`] in one pass over items in any order: a heap of the best `k` candidates
/// seen so far (kept in place, in `items`' prefix), whose worst is compared with each new
/// candidate. Once the heap is full most candidates cost one comparison with the worst
/// kept value (only an equal value goes on to compare columns), where [`select_row`]
/// partitions them all through comparisons that read the values again. Returns what
/// [`select_row`] returns for the same items.
pub(crate) fn select_row_in_one_pass<E: Copy, R: PartialOrd + Copy>(
    items: &mut [E],
    row: usize,
    opts: &TopK<R>,
    col: impl Fn(E) -> usize,
    value: impl Fn(E) -> R,
) -> usize {
    let mut best = OnePass::new();
    // Writes go to items[..=n] with n <= i: never an item not yet read.
    for i in 0..items.len() {
        best.offer(items, items[i], row, opts, &col, &value);
    }
    best.finish(items, opts.order, col, value)
}

/// The selection of [`select_row_in_one_pass`] fed one candidate at a time, so that a
/// caller can select while it walks a row it never writes out (the Gram product's dense
/// rows). The heap lives in a slice the caller passes to every call: `heap[..len]`, room
/// for `opts.k` entries (or for every candidate offered, if fewer).
pub(crate) struct OnePass<R> {
    len: usize,
    /// Once the heap is full: the value a candidate must reach (an equal value wins only
    /// with a lower column than the worst kept; NaN reaches nothing).
    bar: Option<R>,
}

impl<R: PartialOrd + Copy> OnePass<R> {
    pub(crate) const fn new() -> Self {
        Self { len: 0, bar: None }
    }

    /// Offers candidate `e` of row `row`: kept in `heap` if it passes [`is_candidate`] and
    /// ranks among the best `opts.k` offered so far.
    #[inline(always)]
    pub(crate) fn offer<E: Copy>(
        &mut self,
        heap: &mut [E],
        e: E,
        row: usize,
        opts: &TopK<R>,
        col: impl Fn(E) -> usize,
        value: impl Fn(E) -> R,
    ) {
        let v = value(e);
        #[allow(clippy::neg_cmp_op_on_partial_ord, reason = "NaN must fail the test")]
        if opts.k == 0 || self.bar.is_some_and(|b| !(v >= b)) {
            return;
        }
        let worse = |x: E, y: E| rank((col(x), value(x)), (col(y), value(y))) == Ordering::Greater;
        if is_candidate(opts, row, col(e), v)
            && heap_offer(heap, &mut self.len, opts.k, e, worse)
            && self.len == opts.k
        {
            self.bar = Some(value(heap[0]));
        }
    }

    /// Orders the kept `heap[..n]` into `order`; returns `n`.
    pub(crate) fn finish<E: Copy>(
        self,
        heap: &mut [E],
        order: TopKOrder,
        col: impl Fn(E) -> usize,
        value: impl Fn(E) -> R,
    ) -> usize {
        order_kept(&mut heap[..self.len], order, col, value);
        self.len
    }
}

/// A thread's scratch for [`select_row_by_key`] and [`select_columns_fast`], kept between
/// rows (and calls).
#[derive(Debug)]
pub(crate) struct SelectScratch<E> {
    /// Each candidate's [`order_key`], beside it.
    keys: Vec<u64>,
    /// A copy of the keys that the selection reorders.
    nth: Vec<u64>,
    /// The candidates whose value equals the k-th largest.
    ties: Vec<E>,
    /// The candidates' keys of [`select_columns_by_key`].
    wide: Vec<u128>,
    /// The buffers of the AVX-512 selection.
    #[cfg(target_arch = "x86_64")]
    avx512: Avx512Scratch,
}

impl<E> SelectScratch<E> {
    /// The bytes its buffers hold.
    pub(crate) fn bytes(&self) -> usize {
        #[cfg(target_arch = "x86_64")]
        let simd = self.avx512.bytes();
        #[cfg(not(target_arch = "x86_64"))]
        let simd = 0;
        (self.keys.capacity() + self.nth.capacity()) * size_of::<u64>()
            + self.ties.capacity() * size_of::<E>()
            + self.wide.capacity() * size_of::<u128>()
            + simd
    }
}

impl<E> Default for SelectScratch<E> {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            nth: Vec::new(),
            ties: Vec::new(),
            wide: Vec::new(),
            #[cfg(target_arch = "x86_64")]
            avx512: Avx512Scratch::default(),
        }
    }
}

/// How many candidates per kept entry make [`select_row_in_one_pass`] the faster selection:
/// in a long row most candidates fail its first comparison; in a short one the heap's
/// sifts (branches that mispredict) cost more than [`select_row_by_key`]'s selection over
/// plain integers. Measured with a scratch benchmark outside the repository (copies of both
/// functions over 20k random rows whose values come from a 20k-column accumulator, one
/// thread, 2.4 GHz Xeon VM): 93 candidates, k = 10 (TF-IDF rows): by key 1.6× faster;
/// 800, k = 20: by key 1.35×; 1000, k = 10: one pass 1.6×; 2500, k = 20: one pass 1.5×;
/// 5000, k = 2: one pass 3.2×. The crossover lies between 40 and 100 per kept entry.
const ONE_PASS_CANDIDATES_PER_KEPT: usize = 64;

/// [`select_row`] by the fastest of the selections for the row's length and `k`
/// ([`ONE_PASS_CANDIDATES_PER_KEPT`]); returns what [`select_row`] returns.
pub(crate) fn select_row_fast<E: Copy, R: Scalar + PartialOrd>(
    items: &mut [E],
    row: usize,
    opts: &TopK<R>,
    col: impl Fn(E) -> usize,
    value: impl Fn(E) -> R,
    scratch: &mut SelectScratch<E>,
) -> usize {
    if items.len() >= opts.k.saturating_mul(ONE_PASS_CANDIDATES_PER_KEPT) {
        select_row_in_one_pass(items, row, opts, col, value)
    } else {
        select_row_by_key(items, row, opts, col, value, scratch)
    }
}

/// [`select_row_fast`] for a row whose items are its columns, their values in `acc` (an
/// accumulated row of a product): the AVX-512 selection ([`topk_avx512`](super::topk_avx512))
/// where it applies (`f64` values, `i32` columns, a processor with AVX-512), else
/// [`select_row_in_one_pass`] over long rows and [`select_columns_by_key`] over short ones.
/// Returns what [`select_row`] returns.
pub(crate) fn select_columns_fast<T: Scalar, I: Index, E>(
    cols: &mut [I],
    row: usize,
    opts: &TopK<T::Real>,
    acc: &[T],
    scratch: &mut SelectScratch<E>,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(kept) =
        super::topk_avx512::select_columns(cols, row, opts, acc, &mut scratch.avx512)
    {
        return kept;
    }
    let value = |c: I| acc[c.to_usize()].re();
    if cols.len() >= opts.k.saturating_mul(ONE_PASS_CANDIDATES_PER_KEPT) {
        select_row_in_one_pass(cols, row, opts, |c: I| c.to_usize(), value)
    } else {
        select_columns_by_key(cols, row, opts, value, &mut scratch.wide)
    }
}

/// How the columns a row summed densely touched are told apart.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Touched<'a> {
    /// Those whose marker holds the row's stamp.
    Marked(u32, &'a [u32]),
    /// Those whose sum is no longer -0.0, the sentinel every sum starts from.
    NotNegativeZero,
}

impl<'a> Touched<'a> {
    /// How a row summed densely with the -0.0 `sentinel` (else with its `stamp` written
    /// into `marks`) tells its columns apart.
    pub(crate) fn of(sentinel: bool, stamp: u32, marks: &'a [u32]) -> Self {
        if sentinel {
            Touched::NotNegativeZero
        } else {
            Touched::Marked(stamp, marks)
        }
    }
}

/// The AVX-512 selection of a row summed densely over `acc` (the product's width), its
/// kept columns appended to `out`, or `None` (nothing appended) where it does not apply:
/// see [`topk_avx512`](super::topk_avx512). The caller then lists the touched columns and
/// takes [`select_columns_fast`].
pub(crate) fn select_dense_row<T: Scalar, I: Index, E>(
    acc: &[T],
    touched: Touched<'_>,
    row: usize,
    opts: &TopK<T::Real>,
    out: &mut Vec<I>,
    scratch: &mut SelectScratch<E>,
) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    return super::topk_avx512::select_dense(acc, touched, row, opts, out, &mut scratch.avx512);
    #[cfg(not(target_arch = "x86_64"))]
    return {
        let _ = (acc, touched, row, opts, out, scratch);
        None
    };
}

/// [`select_row_by_key`] for a row whose items are its columns: each candidate becomes one
/// 128-bit key, its value's [`order_key`] above its column's complement. A row holds each
/// column once, so the keys are distinct and rank exactly as [`rank`] does (larger value,
/// then lower column): one partial selection of plain integers, in place, leaves the kept
/// keys at the end, and their columns are read back from them. No copy of the keys, no pass
/// for ties. TF-IDF rows (93 candidates, k = 10), a scratch benchmark outside the
/// repository, one thread, 20k rows: 15.4–16.1 ms against 18.8–19.8 ms by
/// [`select_row_by_key`] (2026-12-06). Tried and slower: keeping the best `k` keys sorted
/// and inserting each larger key among them (for `k <= 32`), in place of the partial
/// selection: the whole TF-IDF top-10 product 13.5–14.6 → 16.3–17.0 ms on 2 threads, 25.0 →
/// 30.9 on one (its branches mispredict). Returns what [`select_row`] returns.
pub(crate) fn select_columns_by_key<I: Index, R: Scalar + PartialOrd>(
    cols: &mut [I],
    row: usize,
    opts: &TopK<R>,
    value: impl Fn(I) -> R,
    keys: &mut Vec<u128>,
) -> usize {
    keys.clear();
    keys.resize(cols.len(), 0);
    // Candidates' keys to the front, without a branch.
    let mut n = 0;
    for &c in cols.iter() {
        let v = value(c);
        keys[n] = u128::from(order_key(v)) << 64 | u128::from(u64::MAX - c.to_usize() as u64);
        n += usize::from(is_candidate(opts, row, c.to_usize(), v));
    }
    let kept = opts.k.min(n);
    if kept < n {
        if kept == 0 {
            return 0;
        }
        keys[..n].select_nth_unstable(n - kept);
    }
    for (c, &key) in cols.iter_mut().zip(&keys[n - kept..n]) {
        // The low half holds u64::MAX - column: the column, which came from an `I`.
        *c = I::truncate((u64::MAX - key as u64) as usize);
    }
    order_kept(&mut cols[..kept], opts.order, |c: I| c.to_usize(), value);
    kept
}

/// [`select_row`] over integer keys: the candidates' [`order_key`]s are gathered once, the
/// k-th largest key is found by a partial selection of plain integers (no comparison
/// reads a value again, no ordering closure), then one pass keeps the candidates above it
/// and those equal to it with the lowest columns. Returns what [`select_row`] returns.
pub(crate) fn select_row_by_key<E: Copy, R: Scalar + PartialOrd>(
    items: &mut [E],
    row: usize,
    opts: &TopK<R>,
    col: impl Fn(E) -> usize,
    value: impl Fn(E) -> R,
    scratch: &mut SelectScratch<E>,
) -> usize {
    let SelectScratch {
        keys, nth, ties, ..
    } = scratch;
    keys.clear();
    keys.resize(items.len(), 0);
    // Candidates to the front, without a branch; writes go to index n <= i, already read.
    let mut n = 0;
    for i in 0..items.len() {
        let e = items[i];
        let v = value(e);
        items[n] = e;
        keys[n] = order_key(v);
        n += usize::from(is_candidate(opts, row, col(e), v));
    }
    let k = opts.k;
    if n > k {
        if k == 0 {
            return 0;
        }
        nth.clear();
        nth.extend_from_slice(&keys[..n]);
        // The k-th largest key is at index n - k in increasing order.
        let bar = *nth.select_nth_unstable(n - k).1;
        ties.clear();
        let mut above = 0;
        for i in 0..n {
            let (e, key) = (items[i], keys[i]);
            items[above] = e;
            above += usize::from(key > bar);
            if key == bar {
                ties.push(e);
            }
        }
        // Equal keys are equal values: the lowest columns win. Without ties beyond the
        // k-th (distinct values), the sort is skipped.
        let need = k - above;
        if ties.len() > need {
            ties.sort_unstable_by_key(|e| col(*e));
        }
        items[above..k].copy_from_slice(&ties[..need]);
        n = k;
    }
    order_kept(&mut items[..n], opts.order, col, value);
    n
}

/// Keeps the top entries of each row of an existing matrix `c` (e.g. a full product) by
/// the rules of the top-k products (see [`TopK`]): selecting from `A·B` gives what
/// [`Kernel::mult_ab_topk`] gives. Each stored entry is a candidate of its own (sum
/// duplicates first if a row may repeat a column). Rows are processed in parallel blocks;
/// the result does not depend on the thread count.
///
/// # Errors
/// [`Error::Unsupported`] for complex values.
///
/// # Examples
///
/// ```
/// use csr::kernel::{TopK, select_topk};
/// use csr::Csr;
///
/// let c = Csr::<f64, i32>::try_from_dense_row_major(1, 4, &[3.0, -1.0, 7.0, 3.0])?;
/// let top = select_topk(c.view(), &TopK::new(2))?;
/// assert_eq!(top.row(0), (&[0, 2][..], &[3.0, 7.0][..]));
/// # Ok::<(), csr::Error>(())
/// ```
pub fn select_topk<T: Scalar, I: Index>(
    c: CsrRef<'_, T, I>,
    opts: &TopK<T::Real>,
) -> Result<Csr<T, I>> {
    check_orderable::<T>("any", "select_topk")?;
    select_rows(c, opts, 0)
}

/// [`select_topk`] (values already known to be real) for rows `first_row..` of a larger
/// matrix: row `r` of `c` is row `first_row + r` there (for `exclude_diagonal`).
pub(crate) fn select_rows<T: Scalar, I: Index>(
    c: CsrRef<'_, T, I>,
    opts: &TopK<T::Real>,
    first_row: usize,
) -> Result<Csr<T, I>> {
    let (ptrs, cols, vals) = (c.row_ptrs(), c.col_idxs(), c.values());
    let bounds = balanced_row_blocks(ptrs, piece_count(c.nnz() + c.nrows()));
    // Per block: kept entries and each row's count.
    let blocks: Vec<(Vec<usize>, Vec<I>, Vec<T>)> = bounds
        .par_windows(2)
        .map(|w| {
            let (mut counts, mut bc, mut bv) = (Vec::new(), Vec::new(), Vec::new());
            let mut pos: Vec<usize> = Vec::new();
            for r in w[0]..w[1] {
                pos.clear();
                pos.extend(ptrs[r].to_usize()..ptrs[r + 1].to_usize());
                let n = select_row(
                    &mut pos,
                    first_row + r,
                    opts,
                    |p| cols[p].to_usize(),
                    |p| vals[p].re(),
                );
                counts.push(n);
                bc.extend(pos[..n].iter().map(|&p| cols[p]));
                bv.extend(pos[..n].iter().map(|&p| vals[p]));
            }
            (counts, bc, bv)
        })
        .collect();
    concat_row_blocks(c.nrows(), c.ncols(), blocks)
}

/// The `nrows × ncols` matrix whose rows are the blocks' in order: each block gives its
/// rows' lengths, then their columns and values, concatenated.
///
/// # Errors
/// [`Error::IndexTooNarrow`] if the entries in all do not fit `I`.
pub(crate) fn concat_row_blocks<T: Scalar, I: Index>(
    nrows: usize,
    ncols: usize,
    blocks: Vec<(Vec<usize>, Vec<I>, Vec<T>)>,
) -> Result<Csr<T, I>> {
    let nnz = blocks.iter().map(|b| b.1.len()).sum();
    check_fits::<I>(Extent::Nnz, nnz)?;
    let mut row_ptrs = Vec::with_capacity(nrows + 1);
    let (mut col_idxs, mut values) = (Vec::with_capacity(nnz), Vec::with_capacity(nnz));
    row_ptrs.push(I::ZERO);
    for (counts, bc, bv) in blocks {
        for n in counts {
            // At most nnz in all, which fits I (checked above).
            row_ptrs.push(I::truncate(row_ptrs[row_ptrs.len() - 1].to_usize() + n));
        }
        col_idxs.extend(bc);
        values.extend(bv);
    }
    Csr::try_from_parts(nrows, ncols, row_ptrs, col_idxs, values)
}

/// The all-empty `nrows × ncols` result (for `k == 0` or empty operands).
pub(crate) fn empty_result<T: Scalar, I: Index>(nrows: usize, ncols: usize) -> Result<Csr<T, I>> {
    Csr::try_from_parts(
        nrows,
        ncols,
        vec![I::ZERO; nrows + 1],
        Vec::new(),
        Vec::new(),
    )
}

/// Options for [`cosine_topk`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[must_use = "options do nothing unless passed to cosine_topk"]
pub struct Cosine<R> {
    /// What to keep of each row of the similarity matrix; `exclude_diagonal` is forced on.
    pub topk: TopK<R>,
    /// Subtract each row's mean from its stored entries before normalising (LensKit's
    /// item-item k-NN centres item ratings).
    pub center: bool,
}

/// The `k` rows most similar to each row of `a` by cosine similarity, itself excluded: a
/// copy of `a` (duplicates summed) is normalised (centred first with `center`, then scaled
/// to unit length; see
/// [`Csr::normalize_rows`]), then multiplied by its own transpose with
/// [`Kernel::mult_abt_topk`] on `kernel`, never forming the whole similarity matrix.
///
/// Rows of `a` that are all zero (or become so by centring) have NaN values after
/// normalising; their similarities are NaN and never selected, so their rows are empty and
/// they appear in no other row.
///
/// # Errors
/// What [`Kernel::mult_abt_topk`] returns ([`Error::Unsupported`] for complex values).
///
/// # Examples
///
/// ```
/// use csr::kernel::{Cosine, NativeKernel, TopK, cosine_topk};
/// use csr::Csr;
///
/// let a = Csr::<f64, i32>::try_from_dense_row_major(3, 2, &[1.0, 1.0, 2.0, 2.0, 1.0, 0.0])?;
/// let opts = Cosine { topk: TopK::new(1), center: false };
/// let s = cosine_topk(&NativeKernel, a.view(), &opts)?;
/// // Rows 0 and 1 point the same way: cosine 1.
/// assert_eq!(s.row(0).0, &[1]);
/// assert!((s.row(0).1[0] - 1.0).abs() < 1e-12);
/// # Ok::<(), csr::Error>(())
/// ```
pub fn cosine_topk<T: Scalar, I: Index>(
    kernel: &dyn Kernel<T, I>,
    a: CsrRef<'_, T, I>,
    opts: &Cosine<T::Real>,
) -> Result<Csr<T, I>> {
    check_orderable::<T>(kernel.name(), "cosine_topk")?;
    let mut unit = a.to_csr();
    if unit.has_duplicates() {
        // A row's norm is that of the vector its entries add up to.
        unit.sum_duplicates();
    }
    if opts.center {
        unit.normalize_rows(crate::Normalize::Center);
    }
    unit.normalize_rows(crate::Normalize::Unit);
    let h = kernel.to_handle(unit.view())?;
    let topk = opts.topk.exclude_diagonal(true);
    let s: Handle<'static, T, I> = kernel.mult_abt_topk(&h, &h, &topk)?;
    Ok(s.into_csr())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(items: &[(usize, f64)], row: usize, opts: &TopK<f64>) -> Vec<(usize, f64)> {
        let mut v = items.to_vec();
        let n = select_row(&mut v, row, opts, |e| e.0, |e| e.1);
        v.truncate(n);
        v
    }

    /// The one-pass and by-key selections (of any items, and of columns whose values are
    /// looked up) equal `select_row` on rows in column order and shuffled, with ties, NaN,
    /// infinities, signed zeros, thresholds, the diagonal, and every k.
    #[test]
    fn every_selection_equals_the_partial_selection() {
        let mut scratch = SelectScratch::default();
        let mut wide = Vec::new();
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d_u64);
        for case in 0..3000 {
            let len = (next() % 40) as usize;
            let mut col = 0;
            let row: Vec<(usize, f64)> = (0..len)
                .map(|_| {
                    col += 1 + (next() % 3) as usize;
                    let v = match next() % 11 {
                        0 => f64::NAN,
                        1 => f64::INFINITY,
                        2 => f64::NEG_INFINITY,
                        3 => 0.0,
                        4 => -0.0,
                        _ => (next() % 7) as f64 - 3.0,
                    };
                    (col, v)
                })
                .collect();
            let k = (next() % 12) as usize;
            let mut opts = TopK::new(k).exclude_diagonal(case % 2 == 0);
            if case % 3 == 0 {
                opts = opts.threshold(-1.0);
            }
            if case % 5 == 0 {
                opts = opts.order(TopKOrder::ByValueDescending);
            }
            let diagonal = (next() % 50) as usize;
            let mut v = row.clone();
            if case % 4 >= 2 {
                // Fisher-Yates: rows accumulated sparsely come in first-touch order.
                for i in (1..v.len()).rev() {
                    v.swap(i, (next() % (i as u64 + 1)) as usize);
                }
            }
            let shuffled = v.clone();
            let want = run(&row, diagonal, &opts);
            let bits =
                |x: &[(usize, f64)]| x.iter().map(|e| (e.0, e.1.to_bits())).collect::<Vec<_>>();
            let same = |x: &[(usize, f64)]| bits(x) == bits(&want);
            let n = select_row_in_one_pass(&mut v, diagonal, &opts, |e| e.0, |e| e.1);
            assert!(same(&v[..n]), "one pass, case {case}: {row:?}, k = {k}");
            let mut v = shuffled.clone();
            let n = select_row_by_key(&mut v, diagonal, &opts, |e| e.0, |e| e.1, &mut scratch);
            assert!(same(&v[..n]), "by key, case {case}: {row:?}, k = {k}");
            let mut v = shuffled.clone();
            let n = select_row_fast(&mut v, diagonal, &opts, |e| e.0, |e| e.1, &mut scratch);
            assert!(same(&v[..n]), "fast, case {case}: {row:?}, k = {k}");
            // Rows whose items are their columns, values looked up (an accumulator).
            let mut dense = vec![f64::NAN; col + 1];
            for &(c, x) in &row {
                dense[c] = x;
            }
            let with_values = |cols: &[usize]| cols.iter().map(|&c| (c, dense[c])).collect();
            let cols: Vec<usize> = shuffled.iter().map(|e| e.0).collect();
            let mut c = cols.clone();
            let n = select_columns_by_key(&mut c, diagonal, &opts, |c| dense[c], &mut wide);
            let got: Vec<_> = with_values(&c[..n]);
            assert!(same(&got), "columns by key, case {case}: {row:?}, k = {k}");
            let mut c = cols;
            let n = select_columns_fast(&mut c, diagonal, &opts, &dense, &mut scratch);
            let got: Vec<_> = with_values(&c[..n]);
            assert!(same(&got), "columns fast, case {case}: {row:?}, k = {k}");
        }
    }

    #[test]
    fn ties_go_to_the_lower_column() {
        let row = [(5, 1.0), (2, 1.0), (9, 1.0), (1, 0.5)];
        assert_eq!(run(&row, 0, &TopK::new(2)), vec![(2, 1.0), (5, 1.0)]);
        let by_value = TopK::new(3).order(TopKOrder::ByValueDescending);
        assert_eq!(run(&row, 0, &by_value), vec![(2, 1.0), (5, 1.0), (9, 1.0)]);
    }

    #[test]
    fn nan_is_never_selected_and_infinities_rank() {
        let row = [
            (0, f64::NAN),
            (1, f64::NEG_INFINITY),
            (2, f64::INFINITY),
            (3, -1.0),
        ];
        let by_value = TopK::new(4).order(TopKOrder::ByValueDescending);
        assert_eq!(
            run(&row, 9, &by_value),
            vec![(2, f64::INFINITY), (3, -1.0), (1, f64::NEG_INFINITY)]
        );
        assert_eq!(run(&row, 9, &TopK::new(1)), vec![(2, f64::INFINITY)]);
    }

    #[test]
    fn threshold_is_inclusive_and_nan_threshold_keeps_nothing() {
        let row = [(0, 0.5), (1, 0.25), (2, 0.75)];
        assert_eq!(
            run(&row, 9, &TopK::new(5).threshold(0.5)),
            vec![(0, 0.5), (2, 0.75)]
        );
        assert!(run(&row, 9, &TopK::new(5).threshold(f64::NAN)).is_empty());
    }

    #[test]
    fn diagonal_is_dropped_before_selecting() {
        let row = [(0, 3.0), (1, 9.0), (2, 1.0)];
        let opts = TopK::new(2).exclude_diagonal(true);
        assert_eq!(run(&row, 1, &opts), vec![(0, 3.0), (2, 1.0)]);
        assert_eq!(run(&row, 1, &TopK::new(0)), vec![]);
    }
}
