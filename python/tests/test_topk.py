"""Top-k products (``CSR.multiply_topk``, ``csr.sp_matmul_topn``) on every kernel, against a
dense numpy oracle and, where it is installed, against ``sparse_dot_topn``."""

import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as nph

import csr
from csr import CSR


@st.composite
def int_csrs(draw, nrows, ncols):
    """A CSR with small integer values (exact sums: ties and zeros are common), unsorted
    rows, duplicates and explicit zeros."""
    nnz = draw(st.integers(0, min(nrows * ncols * 2, 60)))
    rows = draw(nph.arrays(np.intc, nnz, elements=st.integers(0, nrows - 1)))
    cols = draw(nph.arrays(np.intc, nnz, elements=st.integers(0, ncols - 1)))
    vals = draw(nph.arrays("f8", nnz, elements=st.integers(-3, 3).map(float)))
    return CSR.from_coo(rows, cols, vals, (nrows, ncols))


@st.composite
def topk_cases(draw):
    """``(A, B, transpose, k, options)`` with ``A·B`` (or ``A·Bᵀ``) defined."""
    m, inner, n = (draw(st.integers(1, 12)) for _ in range(3))
    transpose = draw(st.booleans())
    a = draw(int_csrs(m, inner))
    b = draw(int_csrs(n, inner) if transpose else int_csrs(inner, n))
    k = draw(st.integers(0, n + 2))
    threshold = draw(st.none() | st.sampled_from([-2.0, -0.5, 0.0, 1.0, 2.5, 100.0]))
    opts = {"threshold": threshold, "exclude_diagonal": draw(st.booleans()),
            "sort": draw(st.booleans())}
    return a, b, transpose, k, opts


def structure(m):
    """The stored positions of ``m`` as a dense 0/1 array."""
    s = m.to_scipy().copy()
    s.data = np.ones_like(s.data)
    return s.toarray()


def oracle(a, b, k, *, transpose=False, threshold=None, exclude_diagonal=False, sort=False):
    """Each row's kept ``(column, value)`` list, from dense products, by the documented
    rules, one row at a time."""
    if transpose:
        b = b.transpose()
    d = a.to_scipy().toarray() @ b.to_scipy().toarray()
    reached = (structure(a) @ structure(b)) > 0
    out = []
    for i in range(d.shape[0]):
        cand = [(j, d[i, j]) for j in range(d.shape[1])
                if reached[i, j] and not np.isnan(d[i, j])
                and (threshold is None or d[i, j] >= threshold)
                and not (exclude_diagonal and i == j)]
        kept = sorted(cand, key=lambda e: (-e[1], e[0]))[:k]
        out.append(kept if sort else sorted(kept))
    return out


def rows_of(c):
    """Each row's stored ``(column, value)`` list, in storage order."""
    return [list(zip(c.row_cs(i).tolist(), c.row_vs(i).tolist(), strict=True))
            for i in range(c.nrows)]


@given(topk_cases())
def test_multiply_topk_matches_dense_oracle(kernel, case):
    a, b, transpose, k, opts = case
    c = a.multiply_topk(b, k, transpose=transpose, **opts)
    assert c.shape == (a.nrows, b.nrows if transpose else b.ncols)
    assert c.values.dtype == np.float64
    assert rows_of(c) == oracle(a, b, k, transpose=transpose, **opts)


@given(topk_cases())
def test_multiply_topk_in_blocks_matches_oracle(kernel, monkeypatch, case):
    """A kernel max_nnz below an operand's size: row blocks of A or column blocks of the
    product, selected again (the diagonal is the global one)."""
    a, b, transpose, k, opts = case
    limit = max(1, min(a.nnz, b.nnz) // 2, max(np.diff(a.rowptrs).max(),
                                              np.diff(b.rowptrs).max(),
                                              np.diff(b.transpose().rowptrs).max()))
    with monkeypatch.context() as mp:
        mp.setattr(kernel, "max_nnz", int(limit))
        c = a.multiply_topk(b, k, transpose=transpose, **opts)
    assert rows_of(c) == oracle(a, b, k, transpose=transpose, **opts)


@pytest.mark.parametrize("rows_of_a", [30, 3])
def test_blocks_keep_the_global_diagonal(kernel, monkeypatch, rows_of_a):
    """Both operands over max_nnz (row blocks of A, then column blocks), or only B."""
    rng = np.random.default_rng(7)
    m = CSR.from_scipy(sps.random(30, 8, density=0.5, format="csr", random_state=rng,
                                  data_rvs=lambda n: rng.integers(-3, 4, n).astype(float)))
    a = m.subset_rows(0, rows_of_a)
    limit = max(m.nnz // 4, int(np.diff(m.rowptrs).max()))
    assert m.nnz > limit and (a.nnz > limit) == (rows_of_a == 30)
    for sort in (False, True):
        with monkeypatch.context() as mp:
            mp.setattr(kernel, "max_nnz", limit)
            c = a.multiply_topk(m, 4, transpose=True, exclude_diagonal=True, sort=sort)
        assert rows_of(c) == oracle(a, m, 4, transpose=True, exclude_diagonal=True, sort=sort)


def test_ties_go_to_the_lower_column(kernel):
    a = CSR.from_coo(np.array([0, 0]), np.array([0, 1]), np.array([1.0, 1.0]))
    b = CSR.from_coo(np.array([0, 0, 0, 1, 1]), np.array([3, 1, 2, 0, 2]),
                     np.array([2.0, 2.0, 1.0, 2.0, 1.0]), shape=(2, 4))
    # Row of A·B: [2, 2, 2, 2]: every value tied.
    c = a.multiply_topk(b, 2, sort=True)
    assert rows_of(c) == [[(0, 2.0), (1, 2.0)]]


def test_k_zero_and_threshold_above_everything_give_empty_rows(kernel):
    a = CSR.from_scipy(sps.random(6, 5, density=0.6, random_state=1))
    for c in (a.multiply_topk(a, 0, transpose=True),
              a.multiply_topk(a, 3, transpose=True, threshold=1e9)):
        assert c.shape == (6, 6) and c.nnz == 0
        assert c.rowptrs.tolist() == [0] * 7


def test_k_at_least_ncols_is_the_full_product_with_zero_sums(kernel):
    # Row 0 of A·Aᵀ: (0, 0) = 2, (0, 1) = 1 - 1 = 0 (a cancellation, kept as a value).
    a = CSR.from_coo(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
                     np.array([1.0, 1.0, 1.0, -1.0]))
    c = a.multiply_topk(a, 5, transpose=True)
    assert rows_of(c) == [[(0, 2.0), (1, 0.0)], [(0, 0.0), (1, 2.0)]]
    full = a.multiply(a, transpose=True)
    assert full.nnz == 2  # multiply removes the cancellations; top-k keeps them


def test_empty_rows_and_empty_operands(kernel):
    a = CSR.from_coo(np.array([2]), np.array([1]), np.array([3.0]), shape=(4, 3))
    c = a.multiply_topk(a, 2, transpose=True, exclude_diagonal=True)
    assert c.nnz == 0 and c.shape == (4, 4)
    d = a.multiply_topk(a, 2, transpose=True)
    assert rows_of(d) == [[], [], [(2, 9.0)], []]
    e = CSR.empty(3, 3)
    assert e.multiply_topk(e, 4).nnz == 0


def test_exclude_diagonal_keeps_k_others(kernel):
    a = CSR.from_scipy(sps.csr_matrix(np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 0.5]])))
    c = a.multiply_topk(a, 1, transpose=True, exclude_diagonal=True)
    # A·Aᵀ row 0: [10, 4, 6.5]; row 1: [4, 2, 2.5]; row 2: [6.5, 2.5, 4.25].
    assert rows_of(c) == [[(2, 6.5)], [(0, 4.0)], [(0, 6.5)]]


def test_nan_is_never_kept_and_infinities_rank(kernel):
    a = CSR.from_coo(np.array([0, 0, 0]), np.array([0, 1, 2]),
                     np.array([np.nan, np.inf, -np.inf]))
    b = CSR.from_coo(np.array([0, 1, 2]), np.array([0, 1, 2]), np.array([1.0, 1.0, 1.0]))
    c = a.multiply_topk(b, 3, sort=True)
    assert rows_of(c) == [[(1, np.inf), (2, -np.inf)]]
    assert a.multiply_topk(b, 3, threshold=np.nan).nnz == 0


def test_float32_stays_float32_and_pattern_multiplies_as_ones(kernel):
    a = CSR.from_scipy(sps.random(8, 6, density=0.5, random_state=3, dtype="f4"))
    c = a.multiply_topk(a, 2, transpose=True, dtype=np.float32)
    assert c.values.dtype == np.float32
    full = a.multiply(a, transpose=True, dtype=np.float32).to_scipy().toarray()
    for i in range(c.nrows):
        assert np.all(np.isin(c.row_vs(i), full[i]))
    p = CSR.from_coo(np.array([0, 0, 1]), np.array([0, 1, 1]), None)
    assert rows_of(p.multiply_topk(p, 1, transpose=True)) == [[(0, 2.0)], [(0, 1.0)]]


def test_bad_arguments(kernel):
    a = CSR.from_coo(np.array([0]), np.array([1]), np.array([1.0]))
    with pytest.raises(ValueError, match="k must be"):
        a.multiply_topk(a, -1)
    b = CSR.empty(3, 3)
    with pytest.raises(ValueError):
        a.multiply_topk(b, 1)


# ----- sp_matmul_topn -------------------------------------------------------------------


@st.composite
def scipy_pairs(draw):
    """Scipy ``A`` (m×k) and ``B`` (k×n) with small integer values (exact sums)."""
    m, inner, n = (draw(st.integers(1, 15)) for _ in range(3))
    seed = draw(st.integers(0, 2**31))
    dtype = draw(st.sampled_from(["f4", "f8"]))
    rng = np.random.default_rng(seed)

    def rand(r, c):
        x = sps.random(r, c, density=draw(st.floats(0, 0.6)), format="csr", random_state=rng,
                       data_rvs=lambda s: rng.integers(-3, 4, s).astype(float))
        return x.astype(dtype)

    return rand(m, inner), rand(inner, n)


def sp_oracle(a, b, top_n, threshold, sort):
    """sparse_dot_topn's meaning: values strictly above ``threshold``; without one, above
    the dtype's smallest positive normal number, unless ``top_n`` is the column count and
    rows are not sorted (the full product)."""
    if threshold is None and not (top_n == b.shape[1] and not sort):
        threshold = np.finfo(a.dtype).tiny
    thr = None if threshold is None else float(np.nextafter(a.dtype.type(threshold), np.inf))
    return oracle(CSR.from_scipy(a.astype("f8")), CSR.from_scipy(b.astype("f8")), top_n,
                  threshold=thr, sort=sort)


@given(scipy_pairs(), st.integers(0, 6), st.none() | st.sampled_from([-1.0, 0.0, 2.0]),
       st.booleans(), st.booleans())
def test_sp_matmul_topn_matches_oracle(kernel, pair, top_n, threshold, sort, bt):
    a, b = pair
    # B given transposed: the product is still A·B.
    c = csr.sp_matmul_topn(a, b.T.tocsr() if bt and a.shape[1] != b.shape[1] else b, top_n,
                           threshold=threshold, sort=sort)
    assert isinstance(c, sps.csr_matrix) and c.shape == (a.shape[0], b.shape[1])
    assert c.dtype == (np.float32 if a.dtype == np.float32 else np.float64)
    # Straight from the arrays: scipy's astype would sort the rows by column.
    rows = [list(zip(c.indices[c.indptr[i]:c.indptr[i + 1]].tolist(),
                     c.data[c.indptr[i]:c.indptr[i + 1]].tolist(), strict=True))
            for i in range(c.shape[0])]
    assert rows == sp_oracle(a, b, top_n, threshold, sort)


def test_sp_matmul_topn_threshold_is_strict():
    a = sps.csr_matrix(np.array([[1.0, 2.0]]))
    b = sps.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert csr.sp_matmul_topn(a, b, 2, threshold=1.0).toarray().tolist() == [[0.0, 2.0]]


def test_sp_matmul_topn_n_threads_is_for_the_call():
    before = csr.get_num_threads()
    a = sps.random(30, 20, density=0.3, random_state=5, format="csr")
    c1 = csr.sp_matmul_topn(a, a.T, 4, n_threads=1)
    for n in (0, 2, -1):
        c2 = csr.sp_matmul_topn(a, a.T, 4, n_threads=n)
        assert csr.get_num_threads() == before
        assert (c1 != c2).nnz == 0


def test_sp_matmul_topn_shape_mismatch():
    with pytest.raises(ValueError, match="columns must match"):
        csr.sp_matmul_topn(sps.eye(2, 3, format="csr"), sps.eye(2, format="csr"), 1)


def test_sp_matmul_topn_default_threshold_drops_zeros_and_negatives():
    a = sps.csr_matrix(np.array([[1.0, 1.0]]))
    b = sps.csr_matrix(np.array([[1.0, -2.0, 3.0, 1e-310], [-1.0, 0.0, 0.0, 0.0]]))
    c = csr.sp_matmul_topn(a, b, 3)
    assert c.indices.tolist() == [2] and c.data.tolist() == [3.0]
    # top_n = the column count, unsorted, no threshold: the full product.
    full = csr.sp_matmul_topn(a, b, 4)
    assert full.indices.tolist() == [0, 1, 2, 3]
    assert full.data.tolist() == [0.0, -2.0, 3.0, 1e-310]


@given(scipy_pairs(), st.integers(1, 6), st.none() | st.sampled_from([-1.0, 0.0, 2.0]),
       st.booleans())
def test_sp_matmul_topn_matches_sparse_dot_topn(kernel, pair, top_n, threshold, sort):
    sdt = pytest.importorskip("sparse_dot_topn", reason="sparse_dot_topn is not installed")
    a, b = pair
    # Its full-product shortcut (top_n = ncols, unsorted, no threshold) returned
    # uninitialised column indices and values for zero sums (1.2.0): oracle test only.
    assume(not (top_n == b.shape[1] and not sort and threshold is None))
    ours = csr.sp_matmul_topn(a, b, top_n, threshold=threshold, sort=sort)
    theirs = sdt.sp_matmul_topn(a, b, top_n, threshold=threshold, sort=sort)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    # The same values in each row (which of equal values at the k-th place is kept is
    # sparse_dot_topn's own choice; ours is the lower column, checked by the oracle above).
    for i in range(ours.shape[0]):
        ro = ours.data[ours.indptr[i]:ours.indptr[i + 1]].tolist()
        rt = theirs.data[theirs.indptr[i]:theirs.indptr[i + 1]].tolist()
        if sort:
            assert ro == rt
        else:
            assert sorted(ro) == sorted(rt)


@given(st.integers(1, 12).flatmap(lambda n: int_csrs(n, 6)), st.integers(0, 4),
       st.booleans())
def test_cosine_topk_matches_oracle(kernel, a, k, center):
    c = a.cosine_topk(k, center=center, sort=True)
    d = a.to_scipy().toarray()
    s = structure(a) > 0
    # Unit rows of the (centred) stored values; an all-zero row is NaN.
    u = np.zeros_like(d)
    for r in range(a.nrows):
        v = d[r][s[r]]
        if center and v.size:
            v = v - v.mean()
        n = np.linalg.norm(v)
        u[r][s[r]] = v / n if n > 0 else np.nan
    sim = u @ u.T
    reached = (s.astype(float) @ s.T.astype(float)) > 0
    for i, row in enumerate(rows_of(c)):
        cand = sorted((sim[i, j] for j in range(a.nrows)
                       if j != i and reached[i, j] and not np.isnan(sim[i, j])), reverse=True)
        # Rounding may order near-equal similarities differently: compare the values
        # kept, and that each kept entry is that pair's similarity.
        np.testing.assert_allclose([v for _, v in row], cand[:k], rtol=1e-9, atol=1e-12)
        for j, v in row:
            assert j != i
            np.testing.assert_allclose(v, sim[i, j], rtol=1e-9, atol=1e-12)
