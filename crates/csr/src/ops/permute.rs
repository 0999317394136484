//! Row and column permutations of a [`Csr`], plain and scaled (Ginkgo's `permute` and
//! `scale_permute`).
//!
//! Every form resolves the permutation into two index maps (output row `r` copies input row
//! `row_src[r]`; input column `c` becomes output column `col_map[c]`), then copies rows in
//! parallel into freshly counted row pointers, re-sorting a row only when its columns moved.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::ops::rows::{fill_rows, row_ptrs_from_counts};
use crate::parallel::copy_of;
use crate::{Csr, CsrRef, Element, Index, Permutation, PermuteMode, Scalar, ScaledPermutation};

/// The index map of one side: `p` itself when gathering (`out[k]` comes from `p[k]`, or input
/// column `c` goes to `p[c]`), its inverse otherwise.
fn index_map<I: Index>(p: &Permutation<I>, gather: bool) -> Cow<'_, [I]> {
    if gather {
        Cow::Borrowed(p.as_slice())
    } else {
        Cow::Owned(p.inverse().into_vec())
    }
}

/// The scaling factor of each index of the map built by [`index_map`] with the same `gather`:
/// `s[p[k]]` when gathering, `s[k]` otherwise (the factor of the source row or column in the
/// forward modes, of the destination in the inverse ones).
fn factors<T: Scalar, I: Index>(sp: &ScaledPermutation<T, I>, gather: bool) -> Vec<T> {
    let s = sp.scale();
    if gather {
        sp.permutation()
            .as_slice()
            .iter()
            .map(|q| s[q.to_usize()])
            .collect()
    } else {
        s.to_vec()
    }
}

/// `Err(LengthMismatch)` unless a permutation of length `actual` fits a dimension `expected`.
fn check_len(op: &'static str, what: &'static str, expected: usize, actual: usize) -> Result<()> {
    if expected != actual {
        return Err(Error::LengthMismatch {
            op,
            what,
            expected,
            actual,
        });
    }
    Ok(())
}

/// Checks a permutation of length `len` against `a` for `mode`; returns whether rows and
/// columns move.
fn check_mode<T: Element, I: Index>(
    a: &CsrRef<'_, T, I>,
    len: usize,
    mode: PermuteMode,
) -> Result<(bool, bool)> {
    let (rows, cols) = (mode.moves_rows(), mode.moves_columns());
    if rows && cols && a.nrows() != a.ncols() {
        return Err(Error::NotSquare {
            op: "symmetric permute",
            nrows: a.nrows(),
            ncols: a.ncols(),
        });
    }
    if rows {
        check_len("permute", "permutation", a.nrows(), len)?;
    }
    if cols {
        check_len("permute", "permutation", a.ncols(), len)?;
    }
    Ok((rows, cols))
}

/// Output row `r` is input row `row_src[r]` (or `r`), input column `c` becomes `col_map[c]`
/// (or `c`), and each value `v` of output row `r` and input column `c` becomes
/// `value(r, c, v)`. Rows whose columns moved are re-sorted (stably).
///
/// # Errors
/// None in practice: the output has the input's nnz, which fits `I`.
fn permute_core<T: Element, I: Index>(
    a: CsrRef<'_, T, I>,
    row_src: Option<&[I]>,
    col_map: Option<&[I]>,
    value: impl Fn(usize, usize, T) -> T + Sync,
) -> Result<Csr<T, I>> {
    let n = a.nrows();
    let src = |r: usize| row_src.map_or(r, |s| s[r].to_usize());
    let row_ptrs = match row_src {
        None => copy_of(a.row_ptrs()),
        Some(_) => row_ptrs_from_counts(n, |r| a.row_range(src(r)).len())?,
    };
    let (cols, vals) = fill_rows(&row_ptrs, col_map.is_some(), |r, out_cols, out_vals| {
        let (in_cols, in_vals) = a.row(src(r));
        for (k, (&c, &v)) in in_cols.iter().zip(in_vals).enumerate() {
            let cu = c.to_usize();
            out_cols[k] = col_map.map_or(c, |m| m[cu]);
            out_vals[k] = value(r, cu, v);
        }
    });
    // SAFETY: row `r` of the output holds exactly the entries of input row `src(r)` (whose
    // length set row_ptrs[r + 1] - row_ptrs[r]), and src is a bijection on rows, so the
    // pointers are non-decreasing from 0 to nnz; columns are input columns or their images
    // under a bijection of 0..ncols (checked lengths), so they stay below ncols; the shape
    // and nnz are the input's, which fit `I`.
    let out = unsafe { Csr::from_parts_unchecked(n, a.ncols(), row_ptrs, cols, vals) };
    Ok(out.with_strategy(a.strategy()))
}

impl<T: Element, I: Index> CsrRef<'_, T, I> {
    /// The matrix with rows and/or columns permuted by `p` as `mode` says (Ginkgo's
    /// `permute(permutation, mode)`).
    ///
    /// Accepts unsorted rows and duplicates. Modes that move columns sort every output row
    /// by column (stably); row-only modes keep each row's storage order, so sorted input
    /// gives sorted output. [`PermuteMode::None`] returns a copy. The result keeps the
    /// matrix's SpMV strategy, as in Ginkgo. Parallel over rows.
    ///
    /// # Errors
    /// [`Error::NotSquare`] for a symmetric mode on a rectangular matrix;
    /// [`Error::LengthMismatch`] if `p` does not have as many indices as the rows (or
    /// columns) it permutes.
    pub fn permute(&self, p: &Permutation<I>, mode: PermuteMode) -> Result<Csr<T, I>> {
        let (rows, cols) = check_mode(self, p.len(), mode)?;
        let inverse = mode.is_inverse();
        let row_src = rows.then(|| index_map(p, !inverse));
        let col_map = cols.then(|| index_map(p, inverse));
        permute_core(*self, row_src.as_deref(), col_map.as_deref(), |_, _, v| v)
    }

    /// The matrix with rows permuted by `row_perm` and columns by `col_perm`:
    /// `A'(i, j) = A(row_perm[i], col_perm[j])`, or with `invert`,
    /// `A'(row_perm[i], col_perm[j]) = A(i, j)` (Ginkgo's `permute(row, col, invert)`).
    ///
    /// Accepts unsorted rows and duplicates; output rows are sorted by column.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless `row_perm` has `nrows` and `col_perm` `ncols` indices.
    pub fn permute_rows_cols(
        &self,
        row_perm: &Permutation<I>,
        col_perm: &Permutation<I>,
        invert: bool,
    ) -> Result<Csr<T, I>> {
        let op = "permute_rows_cols";
        check_len(op, "row permutation", self.nrows(), row_perm.len())?;
        check_len(op, "column permutation", self.ncols(), col_perm.len())?;
        let row_src = index_map(row_perm, !invert);
        let col_map = index_map(col_perm, invert);
        permute_core(*self, Some(&row_src), Some(&col_map), |_, _, v| v)
    }
}

/// The value transform of a scaled permutation: multiply by the row and column factors, or
/// divide by them (inverse modes).
fn scaler<'f, T: Scalar>(
    row: Option<&'f [T]>,
    col: Option<&'f [T]>,
    divide: bool,
) -> impl Fn(usize, usize, T) -> T + Sync + 'f {
    move |r, c, v| {
        let f = row.map_or(T::one(), |f| f[r]) * col.map_or(T::one(), |f| f[c]);
        if divide { v / f } else { f * v }
    }
}

impl<T: Scalar, I: Index> CsrRef<'_, T, I> {
    /// [`CsrRef::permute`] with a scaled permutation `P·S` (Ginkgo's `scale_permute`).
    ///
    /// Forward modes multiply each entry by the factors of the row and column it comes from
    /// (`Rows`: `A'(i, j) = s[p[i]]·A(p[i], j)`; `Symmetric`:
    /// `A'(i, j) = s[p[i]]·s[p[j]]·A(p[i], p[j])`); inverse modes divide by the factors of the
    /// row and column it goes to (`InverseRows`: `A'(p[i], j) = A(i, j) / s[p[i]]`), so a mode
    /// followed by its inverse restores the matrix. [`PermuteMode::None`] returns a copy.
    ///
    /// # Errors
    /// As [`CsrRef::permute`].
    pub fn scale_permute(
        &self,
        sp: &ScaledPermutation<T, I>,
        mode: PermuteMode,
    ) -> Result<Csr<T, I>> {
        let p = sp.permutation();
        let (rows, cols) = check_mode(self, p.len(), mode)?;
        let inverse = mode.is_inverse();
        let row_src = rows.then(|| index_map(p, !inverse));
        let col_map = cols.then(|| index_map(p, inverse));
        let row_f = rows.then(|| factors(sp, !inverse));
        let col_f = cols.then(|| factors(sp, inverse));
        permute_core(
            *self,
            row_src.as_deref(),
            col_map.as_deref(),
            scaler(row_f.as_deref(), col_f.as_deref(), inverse),
        )
    }

    /// [`CsrRef::permute_rows_cols`] with scaled permutations:
    /// `A'(i, j) = r[rp[i]]·c[cp[j]]·A(rp[i], cp[j])`, or with `invert`,
    /// `A'(rp[i], cp[j]) = A(i, j) / (r[rp[i]]·c[cp[j]])`.
    ///
    /// # Errors
    /// As [`CsrRef::permute_rows_cols`].
    pub fn scale_permute_rows_cols(
        &self,
        row_perm: &ScaledPermutation<T, I>,
        col_perm: &ScaledPermutation<T, I>,
        invert: bool,
    ) -> Result<Csr<T, I>> {
        let op = "scale_permute_rows_cols";
        check_len(
            op,
            "row permutation",
            self.nrows(),
            row_perm.permutation().len(),
        )?;
        check_len(
            op,
            "column permutation",
            self.ncols(),
            col_perm.permutation().len(),
        )?;
        let row_src = index_map(row_perm.permutation(), !invert);
        let col_map = index_map(col_perm.permutation(), invert);
        let (row_f, col_f) = (factors(row_perm, !invert), factors(col_perm, invert));
        permute_core(
            *self,
            Some(&row_src),
            Some(&col_map),
            scaler(Some(&row_f), Some(&col_f), invert),
        )
    }
}

impl<T: Element, I: Index> Csr<T, I> {
    /// The matrix with rows and/or columns permuted by `p` as `mode` says. See
    /// [`CsrRef::permute`].
    ///
    /// # Errors
    /// As [`CsrRef::permute`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, Permutation, PermuteMode};
    ///
    /// // [[1, 3, 2],
    /// //  [0, 5, 0],
    /// //  [0, 1.5, 2]]
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(3, 3, &[1.0, 3.0, 2.0, 0.0, 5.0, 0.0, 0.0, 1.5, 2.0])?;
    /// let p = Permutation::try_new(vec![1, 2, 0])?;
    /// let rows = a.permute(&p, PermuteMode::Rows)?;
    /// assert_eq!(rows.to_dense()?.to_row_major_vec(), vec![0.0, 5.0, 0.0, 0.0, 1.5, 2.0, 1.0, 3.0, 2.0]);
    /// let back = rows.permute(&p, PermuteMode::InverseRows)?;
    /// assert_eq!(back, a);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn permute(&self, p: &Permutation<I>, mode: PermuteMode) -> Result<Csr<T, I>> {
        self.view().permute(p, mode)
    }

    /// Rows permuted by `row_perm`, columns by `col_perm`. See [`CsrRef::permute_rows_cols`].
    ///
    /// # Errors
    /// As [`CsrRef::permute_rows_cols`].
    pub fn permute_rows_cols(
        &self,
        row_perm: &Permutation<I>,
        col_perm: &Permutation<I>,
        invert: bool,
    ) -> Result<Csr<T, I>> {
        self.view().permute_rows_cols(row_perm, col_perm, invert)
    }
}

impl<T: Scalar, I: Index> Csr<T, I> {
    /// The matrix permuted and scaled by `sp` as `mode` says. See [`CsrRef::scale_permute`].
    ///
    /// # Errors
    /// As [`CsrRef::permute`].
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, Permutation, PermuteMode, ScaledPermutation};
    ///
    /// let a = Csr::<f64, i32>::try_from_dense_row_major(2, 2, &[1.0, 2.0, 0.0, 4.0])?;
    /// let sp = ScaledPermutation::try_new(Permutation::try_new(vec![1, 0])?, vec![2.0, 10.0])?;
    /// let b = a.scale_permute(&sp, PermuteMode::Rows)?;
    /// assert_eq!(b.to_dense()?.to_row_major_vec(), vec![0.0, 40.0, 2.0, 4.0]);
    /// assert_eq!(b.scale_permute(&sp, PermuteMode::InverseRows)?, a);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn scale_permute(
        &self,
        sp: &ScaledPermutation<T, I>,
        mode: PermuteMode,
    ) -> Result<Csr<T, I>> {
        self.view().scale_permute(sp, mode)
    }

    /// Rows and columns permuted and scaled. See [`CsrRef::scale_permute_rows_cols`].
    ///
    /// # Errors
    /// As [`CsrRef::permute_rows_cols`].
    pub fn scale_permute_rows_cols(
        &self,
        row_perm: &ScaledPermutation<T, I>,
        col_perm: &ScaledPermutation<T, I>,
        invert: bool,
    ) -> Result<Csr<T, I>> {
        self.view()
            .scale_permute_rows_cols(row_perm, col_perm, invert)
    }
}
