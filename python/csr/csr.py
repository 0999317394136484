"""The :class:`CSR` class (LensKit ``csr.csr``)."""

import warnings

import numpy as np
import scipy.sparse as sps

from csr import _csr, _topk
from csr.kernels import get_kernel, releasing

INTC_MAX = np.iinfo(np.intc).max


def _take(k, h, drop_zeros=False):
    """Kernel ``k``'s handle ``h`` as a :class:`CSR`, released; ``drop_zeros`` removes
    stored zeros. The Rust kernels move the handle's arrays into the result."""
    take = getattr(k, "_take", None)
    if take is not None:
        return take(h, drop_zeros)
    with releasing(h, k):
        c = k.from_handle(h)
    if drop_zeros and c._values is not None:
        zeros = c._values == 0
        if zeros.any():
            c = c.filter_nnzs(~zeros)
    return c


def _ptr_dtype(nnz):
    """int32 row pointers while they fit, int64 past 2³¹ − 1 entries."""
    return np.intc if nnz <= INTC_MAX else np.int64


def _ptrs_from_sizes(nrows, sizes, what="sizes"):
    """``(nnz, rowptrs)`` for rows of ``sizes[i]`` entries."""
    sizes = np.asarray(sizes)
    if sizes.shape != (nrows,):
        raise ValueError(f"{what} has shape {sizes.shape}, expected ({nrows},)")
    nnz = int(np.sum(sizes, dtype=np.int64))
    rowptrs = np.zeros(nrows + 1, dtype=_ptr_dtype(nnz))
    np.cumsum(sizes, out=rowptrs[1:])
    return nnz, rowptrs


class CSR:
    """A sparse matrix in compressed sparse row form, over numpy arrays.

    Storage is public and observable, as in LensKit's ``csr``: ``rowptrs`` (int32, or int64
    past 2³¹ − 1 entries), ``colinds`` (int32; int64 for matrices wider than 2³¹ − 1
    columns), ``values`` (any float dtype, kept; ``None`` for a pattern matrix, whose
    entries are all one). The same array objects are returned on every access and writes
    through them are seen by the matrix; nothing is copied on construction.

    Construction checks shapes and dtypes only. The contents are checked (in Rust, once)
    when a kernel handle is made or an operation first reads them; a bad entry raises
    ``ValueError`` naming it.

    Parameters
    ----------
    nrows, ncols, nnz : int
        The shape and the number of stored entries.
    rowptrs, colinds, values : numpy.ndarray
        The arrays (``values`` may be ``None``).
    _cast : bool
        Cast ``colinds`` to int32 and ``rowptrs`` to int32 or int64 (by ``nnz``) and make
        every array contiguous, copying only what needs it (the default); ``False`` keeps
        the arrays exactly as given.
    """

    __slots__ = ("nrows", "ncols", "nnz", "rowptrs", "colinds", "_values", "__weakref__")

    def __init__(self, nrows=None, ncols=None, nnz=None, rowptrs=None, colinds=None,
                 values=None, _cast=True):
        if nrows is None:
            # LensKit's unpickling path builds an empty object first.
            return
        self.nrows = int(nrows)
        self.ncols = int(ncols)
        self.nnz = int(nnz)
        if _cast:
            rowptrs = np.require(rowptrs, _ptr_dtype(self.nnz), "C")
            cdtype = np.intc if self.ncols <= INTC_MAX + 1 else np.int64
            colinds = np.require(colinds, cdtype, "C")
            if values is not None:
                values = np.require(values, requirements="C")
        if rowptrs.shape != (self.nrows + 1,):
            raise ValueError(
                f"rowptrs has shape {rowptrs.shape}, expected ({self.nrows + 1},)")
        if colinds.shape[0] < self.nnz:
            raise ValueError(f"colinds holds {colinds.shape[0]} entries, fewer than nnz = {nnz}")
        self.rowptrs = rowptrs
        self.colinds = colinds
        self._values = None
        self.values = values

    # ----- storage ---------------------------------------------------------------------

    @property
    def values(self):
        """The values (an array of ``nnz`` entries), or ``None`` for a pattern matrix.

        Setting ``None`` makes a pattern matrix; a longer array is truncated to ``nnz``; a
        shorter one raises ``ValueError`` and changes nothing.
        """
        return self._values

    @values.setter
    def values(self, vs):
        if vs is None:
            self._values = None
            return
        vs = np.asarray(vs)
        if vs.ndim != 1 or vs.shape[0] < self.nnz:
            raise ValueError(f"values has shape {vs.shape}, need at least {self.nnz} entries")
        if vs.shape[0] > self.nnz:
            vs = vs[: self.nnz]
        self._values = np.require(vs, requirements="C")

    @property
    def shape(self):
        """``(nrows, ncols)``."""
        return (self.nrows, self.ncols)

    def _arrays(self):
        """The arrays as the Rust functions take them (colinds trimmed to nnz)."""
        cs = self.colinds
        if cs.shape[0] != self.nnz:
            cs = cs[: self.nnz]
        return self.nrows, self.ncols, self.rowptrs, cs, self._values

    # ----- constructors ----------------------------------------------------------------

    @classmethod
    def empty(cls, nrows, ncols, row_nnzs=None, values=True):
        """An empty matrix, or one with ``row_nnzs[i]`` zero entries in row ``i``.

        ``values``: ``True`` gives float64 zeros, ``False`` a pattern matrix, a dtype
        (``'f4'``, ``'f8'``) zeros of that dtype.
        """
        if row_nnzs is None:
            nnz = 0
            rowptrs = np.zeros(nrows + 1, dtype=np.intc)
        else:
            nnz, rowptrs = _ptrs_from_sizes(nrows, row_nnzs, "row_nnzs")
        colinds = np.zeros(nnz, dtype=np.intc)
        if values is True:
            vs = np.zeros(nnz)
        elif values is False or values is None:
            vs = None
        else:
            vs = np.zeros(nnz, dtype=values)
        return cls(nrows, ncols, nnz, rowptrs, colinds, vs, _cast=False)

    @classmethod
    def from_coo(cls, rows, cols, vals, shape=None, *, rpdtype=np.intc):
        """A matrix from COO arrays, by a stable counting sort by row.

        Within a row the input order is kept and duplicates are kept. ``vals=None`` gives a
        pattern matrix. ``shape`` defaults to the largest indices plus one. ``rpdtype`` is
        the row pointers' dtype (int64 is used anyway past 2³¹ − 1 entries).
        """
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        if rows.shape != cols.shape or rows.ndim != 1:
            raise ValueError(f"rows {rows.shape} and cols {cols.shape} must be 1-D, same length")
        if vals is not None:
            vals = np.asarray(vals)
            if vals.shape != rows.shape:
                raise ValueError(f"vals has shape {vals.shape}, expected {rows.shape}")
            if vals.dtype not in (np.float32, np.float64):
                vals = vals.astype(np.float64)
            vals = np.ascontiguousarray(vals)
        if shape is None:
            shape = (int(rows.max(initial=-1)) + 1, int(cols.max(initial=-1)) + 1)
        nrows, ncols = (int(s) for s in shape)
        wide = max(nrows, ncols, rows.shape[0]) > INTC_MAX
        idt = np.int64 if wide else np.intc
        rows = np.ascontiguousarray(rows, dtype=idt)
        cols = np.ascontiguousarray(cols, dtype=idt)
        nr, nc, rp, ci, vs = _csr.from_coo(nrows, ncols, rows, cols, vals)
        nnz = ci.shape[0]
        if rp.dtype != np.dtype(rpdtype) and nnz <= INTC_MAX:
            rp = rp.astype(rpdtype)
        if ci.dtype != np.intc and ncols <= INTC_MAX + 1:
            ci = ci.astype(np.intc)
        return cls(nr, nc, nnz, rp, ci, vs, _cast=False)

    @classmethod
    def from_scipy(cls, mat, copy=True):
        """A matrix from any scipy.sparse matrix or array, equal to ``mat.tocsr()``.

        With ``copy=False`` the arrays are shared with the scipy matrix where their dtypes
        allow.
        """
        sp = mat.tocsr(copy=copy)
        nrows, ncols = sp.shape
        return cls(nrows, ncols, sp.nnz, sp.indptr, sp.indices, sp.data)

    def to_scipy(self):
        """The matrix as a ``scipy.sparse.csr_matrix`` sharing the arrays where it can.

        A pattern matrix gets values of 1.0.
        """
        _, _, rp, ci, vs = self._arrays()
        if vs is None:
            vs = np.ones(self.nnz)
        return sps.csr_matrix((vs, ci, rp), shape=self.shape)

    # ----- rows ------------------------------------------------------------------------

    def row_extent(self, row):
        """``(start, end)`` of row ``row``'s entries in ``colinds`` / ``values``."""
        return (int(self.rowptrs[row]), int(self.rowptrs[row + 1]))

    def row_cs(self, row):
        """The column indices of row ``row`` (a view)."""
        sp, ep = self.row_extent(row)
        return self.colinds[sp:ep]

    def row_vs(self, row):
        """The values of row ``row`` (a view; ones for a pattern matrix)."""
        sp, ep = self.row_extent(row)
        if self._values is None:
            return np.full(ep - sp, 1.0)
        return self._values[sp:ep]

    def _dense_dtype(self):
        return np.float64 if self._values is None else self._values.dtype

    def row(self, row):
        """Row ``row`` as a dense array, or rows ``row`` (a list) as a ``k × ncols`` block.

        Equal to ``to_scipy()[row, :].toarray()`` (duplicates summed).
        """
        if np.ndim(row) == 0:
            out = np.zeros(self.ncols, dtype=self._dense_dtype())
            np.add.at(out, self.row_cs(row), self.row_vs(row))
            return out
        rows = np.asarray(row, dtype=np.int64).reshape(-1)
        out = np.zeros((rows.shape[0], self.ncols), dtype=self._dense_dtype())
        for k, r in enumerate(rows):
            np.add.at(out[k], self.row_cs(r), self.row_vs(r))
        return out

    def row_mask(self, row):
        """A dense bool array marking the stored columns of row ``row`` (or rows)."""
        if np.ndim(row) == 0:
            out = np.zeros(self.ncols, dtype=np.bool_)
            out[self.row_cs(row)] = True
            return out
        rows = np.asarray(row, dtype=np.int64).reshape(-1)
        out = np.zeros((rows.shape[0], self.ncols), dtype=np.bool_)
        for k, r in enumerate(rows):
            out[k, self.row_cs(r)] = True
        return out

    def row_nnzs(self):
        """The number of stored entries of each row."""
        return np.diff(self.rowptrs)

    def rowinds(self):
        """The row index of every stored entry (int32)."""
        idt = np.intc if self.nrows <= INTC_MAX else np.int64
        return np.repeat(np.arange(self.nrows, dtype=idt), self.row_nnzs())

    # ----- copies and subsets ----------------------------------------------------------

    def copy(self, include_values=True, *, copy_structure=True):
        """A copy; ``copy_structure=False`` shares the structure arrays (values are copied)."""
        _, _, rp, ci, vs = self._arrays()
        if copy_structure:
            rp = rp.copy()
            ci = ci.copy()
        else:
            rp, ci = self.rowptrs, self.colinds
        vs = vs.copy() if include_values and vs is not None else None
        return CSR(self.nrows, self.ncols, self.nnz, rp, ci, vs, _cast=False)

    def subset_rows(self, begin, end):
        """Rows ``[begin, end)``, sharing ``colinds`` and ``values`` with this matrix."""
        sp, ep = int(self.rowptrs[begin]), int(self.rowptrs[end])
        rp = self.rowptrs[begin:end + 1] - self.rowptrs[begin]
        vs = None if self._values is None else self._values[sp:ep]
        return CSR(end - begin, self.ncols, ep - sp, rp, self.colinds[sp:ep], vs)

    def pick_rows(self, rows, *, include_values=True):
        """The rows ``rows`` (repeats allowed, may be empty), in that order."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        starts = self.rowptrs[rows].astype(np.int64)
        lens = self.rowptrs[rows + 1].astype(np.int64) - starts
        nnz = int(lens.sum())
        rp = np.zeros(rows.shape[0] + 1, dtype=_ptr_dtype(nnz))
        np.cumsum(lens, out=rp[1:])
        # Position of every picked entry in the source arrays.
        idx = np.arange(nnz, dtype=np.int64) - np.repeat(rp[:-1].astype(np.int64) - starts, lens)
        vs = None
        if include_values and self._values is not None:
            vs = self._values[idx]
        return CSR(rows.shape[0], self.ncols, nnz, rp, self.colinds[idx], vs, _cast=False)

    def filter_nnzs(self, filt):
        """The entries where the bool mask ``filt`` (one per entry) is True."""
        filt = np.asarray(filt, dtype=np.bool_)
        if filt.shape != (self.nnz,):
            raise ValueError(f"filter has shape {filt.shape}, expected ({self.nnz},)")
        counts = np.bincount(self.rowinds()[filt], minlength=self.nrows)
        nnz = int(counts.sum())
        rp = np.zeros(self.nrows + 1, dtype=_ptr_dtype(nnz))
        np.cumsum(counts, out=rp[1:])
        vs = None if self._values is None else self._values[: self.nnz][filt]
        return CSR(self.nrows, self.ncols, nnz, rp, self.colinds[: self.nnz][filt], vs,
                   _cast=False)

    # ----- in-place operations ---------------------------------------------------------

    def sort_rows(self):
        """Sorts every row by column index in place (values move along)."""
        _csr.sort_rows(*self._arrays())

    def normalize_rows(self, normalization):
        """Normalises each row in place: ``'center'`` subtracts the row mean, ``'unit'``
        scales to unit L2 norm (subnormal-safe).

        Returns the per-row means or norms in the values' dtype (0 for empty rows; an
        all-zero row gets NaN values and norm 0).
        """
        if self._values is None:
            raise ValueError("a pattern matrix has no values to normalize")
        nrows, ncols, rp, ci, vs = self._arrays()
        return _csr.normalize_rows(nrows, ncols, rp, ci, vs, normalization)

    def drop_values(self):
        """Makes this a pattern matrix (deprecated: set ``values = None``)."""
        warnings.warn("drop_values is deprecated; set values = None", DeprecationWarning,
                      stacklevel=2)
        self._values = None

    def fill_values(self, x):
        """Sets every value to ``x`` (a pattern matrix gains a float64 array)."""
        if self._values is None:
            self._values = np.full(self.nnz, x, dtype=np.float64)
        else:
            self._values[:] = x

    # ----- whole-matrix operations -----------------------------------------------------

    def transpose(self, include_values=True):
        """The transpose, rows sorted by column (a pattern stays a pattern)."""
        nrows, ncols, rp, ci, vs = self._arrays()
        if not include_values:
            vs = None
        nr, nc, trp, tci, tvs = _csr.transpose(nrows, ncols, rp, ci, vs)
        return CSR(nr, nc, tci.shape[0], trp, tci, tvs)

    def transpose_structure(self):
        """The transpose without values."""
        return self.transpose(False)

    def _kernel_values(self, dtype=np.float64):
        """This matrix with values of ``dtype`` (shares the structure; a pattern matrix
        stays one: kernels treat its entries as ones)."""
        if self._values is None and np.dtype(dtype) == np.float64:
            return self
        if self._values is not None and self._values.dtype == dtype:
            return self
        vs = np.ones(self.nnz, dtype) if self._values is None else self._values.astype(dtype)
        return CSR(self.nrows, self.ncols, self.nnz, self.rowptrs, self.colinds, vs,
                   _cast=False)

    def _operands(self, x):
        """This matrix and ``x`` in the dtype of a product with them: float32 when both
        are float32, else float64."""
        f32 = self._values is not None and self._values.dtype == np.float32
        dtype = np.float32 if f32 and x.dtype == np.float32 else np.float64
        return self._kernel_values(dtype), np.ascontiguousarray(x, dtype=dtype)

    def multiply(self, other, transpose=False, *, dtype=np.float64, order_columns=True):
        """``A·B`` (or ``A·Bᵀ`` with ``transpose``) through the active kernel.

        The result has float64 values (``dtype=np.float32`` computes and returns float32)
        and no stored zeros (cancellations are removed). Its rows are sorted by column; with
        ``order_columns=False`` they come in whatever order the kernel found them (as
        scipy's and MKL's products do), which saves the sort: the same entries and values,
        only their order within rows differs (:meth:`sort_rows` sorts them later). A matrix
        larger than the kernel's ``max_nnz`` is multiplied in row blocks (of ``A``, or of
        ``Bᵀ`` giving column blocks of the product).
        """
        k = get_kernel()
        a = self._kernel_values(dtype)
        b = a if other is self else other._kernel_values(dtype)
        opts = {"dtype": dtype, "order_columns": order_columns}
        if a.nnz > k.max_nnz:
            return CSR._assemble_shards(
                [s.multiply(b, transpose, **opts) for s in a._shard_rows(k.max_nnz)])
        if b.nnz > k.max_nnz:
            # Row blocks of Bᵀ give column blocks of the product.
            bt = b if transpose else b.transpose()
            blocks = [a.multiply(s, True, **opts).to_scipy()
                      for s in bt._shard_rows(k.max_nnz)]
            return CSR.from_scipy(sps.hstack(blocks, format="csr"))
        once = getattr(k, "_one_shot", {})
        # The LensKit contract's call where rows are sorted (any kernel module takes it).
        order = {} if order_columns else {"order_columns": False}
        mult = k.mult_abt if transpose else k.mult_ab
        with releasing(k.to_handle(a, **once), k) as ah:
            if b is a:
                # One handle on both sides: the matrix is checked once.
                ch = mult(ah, ah, **order)
            else:
                with releasing(k.to_handle(b, **once), k) as bh:
                    ch = mult(ah, bh, **order)
            c = _take(k, ch, drop_zeros=True)
        if c._values is None:
            c.fill_values(1.0)
        return c._kernel_values(dtype)

    def multiply_topk(self, other, k, *, transpose=False, threshold=None,
                      exclude_diagonal=False, sort=False, dtype=np.float64):
        """The ``k`` largest entries of each row of ``A·B`` (or ``A·Bᵀ`` with
        ``transpose``) through the active kernel; the Rust kernels never hold the whole
        product (memory: the output plus a row accumulator per thread).

        - Largest **by value** (``-5`` ranks below ``1``); **ties** go to the lower column.
        - ``threshold``: keep only values ``>=`` it (compared in the product's dtype).
          ``sparse_dot_topn`` keeps values ``>`` its threshold: :func:`csr.sp_matmul_topn`
          converts.
        - ``exclude_diagonal``: drop entry ``(i, i)`` before selecting (the row can still
          hold ``k`` others): item-item neighbours without the item itself.
        - Sums that are exactly zero are values like any other (kept if they rank, unlike
          :meth:`multiply`, which removes them); NaN is never kept; ``±inf`` rank as usual.
        - ``sort``: each row ordered by value descending (ties by column) instead of by
          column.

        The result has float64 values (``dtype=np.float32`` computes and returns float32);
        a pattern operand multiplies as ones. A matrix larger than the kernel's ``max_nnz``
        is multiplied in blocks whose top entries are selected again.
        """
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        kern = get_kernel()
        a = self._valued(dtype)
        b = a if other is self else other._valued(dtype)
        opts = {"threshold": threshold, "exclude_diagonal": exclude_diagonal, "sort": sort}
        if a.nnz > kern.max_nnz or b.nnz > kern.max_nnz:
            return a._topk_in_blocks(b, k, transpose, dtype, kern.max_nnz, **opts)
        once = getattr(kern, "_one_shot", {})
        f = kern.mult_abt_topk if transpose else kern.mult_ab_topk
        with releasing(kern.to_handle(a, **once), kern) as ah:
            if b is a:
                # One handle on both sides: A·Aᵀ computes each pair once (native kernel).
                return _take(kern, f(ah, ah, k, **opts))._valued(dtype)
            with releasing(kern.to_handle(b, **once), kern) as bh:
                return _take(kern, f(ah, bh, k, **opts))._valued(dtype)

    def cosine_topk(self, k, *, center=False, threshold=None, sort=False,
                    dtype=np.float64):
        """For each row, the ``k`` other rows most similar to it by cosine similarity
        (item-item neighbours): a copy with duplicates summed, centred on each row's mean
        when ``center``, scaled to unit rows (:meth:`normalize_rows`), then
        :meth:`multiply_topk` of it with its own transpose, diagonal excluded.
        ``threshold`` and ``sort`` as there. Rows that are all zero (or become so by
        centring) have NaN similarities: they come out empty and appear in no row.
        """
        sp = self._valued(dtype).to_scipy().copy()
        sp.sum_duplicates()
        a = CSR.from_scipy(sp, copy=False)
        if center:
            a.normalize_rows("center")
        a.normalize_rows("unit")
        return a.multiply_topk(a, k, transpose=True, threshold=threshold,
                               exclude_diagonal=True, sort=sort, dtype=dtype)

    def _topk_in_blocks(self, b, k, transpose, dtype, max_nnz, *, threshold,
                        exclude_diagonal, sort):
        """:meth:`multiply_topk` by row blocks of ``A`` (or of ``Bᵀ``, giving column
        blocks): each block keeps its top ``k`` (``k + 1`` when the diagonal is excluded:
        the block does not know the global diagonal), then the rules run again on them."""
        kb = k + 1 if exclude_diagonal else k
        if self.nnz > max_nnz:
            c = CSR._assemble_shards(
                [s.multiply_topk(b, kb, transpose=transpose, threshold=threshold, dtype=dtype)
                 for s in self._shard_rows(max_nnz)]).to_scipy()
        else:
            bt = b if transpose else b.transpose()
            c = sps.hstack([self.multiply_topk(s, kb, transpose=True, threshold=threshold,
                                               dtype=dtype).to_scipy()
                            for s in bt._shard_rows(max_nnz)], format="csr")
        c = _topk.select(c, k, exclude_diagonal=exclude_diagonal, sort=sort)
        return CSR.from_scipy(c, copy=False)._valued(dtype)

    def _valued(self, dtype):
        """:meth:`_kernel_values` with explicit values (ones for a pattern matrix)."""
        a = self._kernel_values(dtype)
        if a._values is None:
            a = CSR(a.nrows, a.ncols, a.nnz, a.rowptrs, a.colinds, np.ones(a.nnz, dtype),
                    _cast=False)
        return a

    def mult_vec(self, x):
        """``A·x``: float64 (float32 when both the values and ``x`` are float32).

        A pattern matrix multiplies as ones; float32 values with a float64 ``x`` compute in
        float64. A matrix larger than the kernel's ``max_nnz`` runs in row blocks.

        Each call runs without preprocessing. On the Rust kernels (native, numba, mkl) it
        is the native ``load_balance`` product, which checks the arrays as it reads them: a
        handle made for a single product costs more than the product (an MKL one about as
        much as the product again). The scipy kernel makes a short-lived handle. For many
        products with one matrix, make a handle once (``k.to_handle(a)``: its
        ``automatic`` strategy is planned once, MKL's analysis runs once) and call
        ``k.mult_vec(h, x)``.
        """
        x = np.asarray(x)
        if x.shape != (self.ncols,):
            raise ValueError(f"x has shape {x.shape}, expected ({self.ncols},)")
        a, x = self._operands(x)
        dtype = x.dtype
        k = get_kernel()
        if a.nnz > k.max_nnz:
            return np.concatenate([s.mult_vec(x) for s in a._shard_rows(k.max_nnz)])
        once = getattr(k, "_mult_vec_once", None)
        if once is not None and a._values is not None:
            return once(*a._arrays(), x)
        h = k.to_handle(a, **getattr(k, "_one_shot", {}))
        try:
            return np.asarray(k.mult_vec(h, x), dtype=dtype)
        finally:
            k.release_handle(h)

    def mult_mat(self, x):
        """``A·X`` for a dense 2-D ``X`` of ``ncols`` rows (SpMM): float64, or float32 when
        both the values and ``X`` are float32, through the active kernel's SpMM (scipy's
        ``@`` for the scipy kernel)."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[0] != self.ncols:
            raise ValueError(f"X has shape {x.shape}, expected ({self.ncols}, k)")
        a, x = self._operands(x)
        dtype = x.dtype
        k = get_kernel()
        if k.__name__ == "csr.kernels.scipy":
            return np.asarray(a.to_scipy() @ x, dtype=dtype)
        h = k.to_handle(a, **k._one_shot)
        try:
            return h.mult_mat(x)
        finally:
            k.release_handle(h)

    # ----- shards ----------------------------------------------------------------------

    def _shard_rows(self, tgt_nnz):
        """Consecutive row blocks of at most ``tgt_nnz`` entries each."""
        if self.nnz <= tgt_nnz:
            return [self]
        shards = []
        ptrs = self.rowptrs
        start = 0
        while start < self.nrows:
            end = int(np.searchsorted(ptrs, ptrs[start] + tgt_nnz, side="right")) - 1
            end = min(end, self.nrows)
            if end <= start:
                raise ValueError(f"row {start} has {ptrs[start + 1] - ptrs[start]} entries, "
                                 f"more than the shard size {tgt_nnz}")
            shards.append(self.subset_rows(start, end))
            start = end
        return shards

    @classmethod
    def _assemble_shards(cls, shards):
        """The matrix whose consecutive row blocks are ``shards`` (inverse of
        :meth:`_shard_rows`)."""
        ncols = shards[0].ncols
        nrows = sum(s.nrows for s in shards)
        nnz = sum(s.nnz for s in shards)
        rp = np.zeros(nrows + 1, dtype=_ptr_dtype(nnz))
        pos, off = 0, 0
        for s in shards:
            rp[pos + 1:pos + s.nrows + 1] = s.rowptrs[1:] + off
            pos += s.nrows
            off += s.nnz
        ci = np.concatenate([s.colinds[: s.nnz] for s in shards])
        if all(s.values is None for s in shards):
            vs = None
        else:
            vs = np.concatenate([s.values if s.values is not None else np.ones(s.nnz)
                                 for s in shards])
        return cls(nrows, ncols, nnz, rp, ci, vs)

    # ----- Python protocol -------------------------------------------------------------

    def __str__(self):
        return f"<CSR {self.nrows}x{self.ncols} ({self.nnz} nnz)>"

    __repr__ = __str__

    def __getstate__(self):
        return {"nrows": self.nrows, "ncols": self.ncols, "nnz": self.nnz,
                "rowptrs": self.rowptrs, "colinds": self.colinds, "values": self._values}

    def __setstate__(self, state):
        self.nrows = state["nrows"]
        self.ncols = state["ncols"]
        self.nnz = state["nnz"]
        self.rowptrs = state["rowptrs"]
        self.colinds = state["colinds"]
        self._values = state["values"]
