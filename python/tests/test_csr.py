"""Every CSR method of LensKit csr 0.5.2's API, against scipy.sparse as the oracle."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import given
from hypothesis import strategies as st

import csr
from csr import CSR
from csr.test_utils import csrs, mm_pairs, sparse_matrices

RTOL, ATOL = 1e-5, 1e-10


def dense(a):
    return a.to_scipy().toarray()


# ----- modules and constructors ---------------------------------------------------------

def test_module_exports():
    from csr.csr import CSR as CSR2

    assert CSR2 is CSR
    assert csr.constructors.create is csr.create
    for f in ("create", "create_novalues", "create_empty", "create_from_sizes"):
        assert callable(getattr(csr, f))
    assert isinstance(csr.__version__, str)


def test_create_from_sizes():
    a = csr.create_from_sizes(3, 4, np.array([2, 0, 1]))
    assert a.rowptrs.dtype == np.intc
    assert a.rowptrs.tolist() == [0, 2, 2, 3]
    assert (a.colinds == -1).all()
    assert a.values.dtype == np.float64 and np.isnan(a.values).all()


def test_create_variants():
    e = csr.create_empty(3, 2)
    assert (e.nrows, e.ncols, e.nnz) == (3, 2, 0)
    p = csr.create_novalues(2, 2, 1, np.array([0, 1, 1]), np.array([1]))
    assert p.values is None
    c = csr.create(2, 2, 1, np.array([0, 1, 1]), np.array([1]), np.array([3.0]))
    assert dense(c).tolist() == [[0, 3], [0, 0]]


def test_constructor_casts():
    a = CSR(2, 3, 2, np.array([0, 1, 2], dtype=np.int64), np.array([0, 2], dtype=np.int64),
            np.array([1, 2], dtype=np.float32))
    assert a.rowptrs.dtype == np.intc and a.colinds.dtype == np.intc
    assert a.values.dtype == np.float32


def test_constructor_keeps_arrays_without_cast():
    rp = np.array([0, 1, 2], dtype=np.int64)
    ci = np.array([0, 2], dtype=np.intc)
    a = CSR(2, 3, 2, rp, ci, None, _cast=False)
    assert a.rowptrs is rp and a.colinds is ci


def test_constructor_checks_shapes():
    with pytest.raises(ValueError, match="rowptrs"):
        CSR(3, 3, 1, np.array([0, 1]), np.array([0]), np.ones(1))


@pytest.mark.parametrize("values", [True, False, "f4", "f8"])
def test_empty(values):
    a = CSR.empty(3, 4, values=values)
    assert a.nnz == 0 and a.rowptrs.dtype == np.intc and (a.rowptrs == 0).all()
    b = CSR.empty(3, 4, row_nnzs=np.array([1, 0, 2]), values=values)
    assert b.rowptrs.tolist() == [0, 1, 1, 3] and (b.colinds == 0).all()
    if values is False:
        assert b.values is None
    else:
        assert b.values.dtype == (np.float64 if values is True else np.dtype(values))


# ----- identity and zero copy -----------------------------------------------------------

def test_arrays_are_identical_objects():
    a = CSR.from_scipy(sps.random(10, 10, density=0.3, format="csr", random_state=0))
    assert a.rowptrs is a.rowptrs and a.colinds is a.colinds and a.values is a.values
    b = a.copy(copy_structure=False)
    assert b.rowptrs is a.rowptrs and b.colinds is a.colinds
    assert not np.shares_memory(b.values, a.values)
    c = a.copy()
    assert not np.shares_memory(c.rowptrs, a.rowptrs)
    assert not np.shares_memory(c.colinds, a.colinds)


def test_writes_through_arrays_are_seen():
    a = CSR.from_coo(np.array([0, 1]), np.array([0, 1]), np.array([1.0, 2.0]))
    a.values[1] = 5.0
    a.colinds[0] = 1
    assert dense(a).tolist() == [[0, 1], [0, 5]]


def test_from_scipy_no_copy_shares_buffers(kernel):
    m = sps.random(30, 20, density=0.2, format="csr", random_state=3)
    m.indptr = m.indptr.astype(np.intc)
    m.indices = m.indices.astype(np.intc)
    a = CSR.from_scipy(m, copy=False)
    assert np.shares_memory(a.rowptrs, m.indptr)
    assert np.shares_memory(a.colinds, m.indices)
    assert np.shares_memory(a.values, m.data)
    s = a.to_scipy()
    assert np.shares_memory(s.indices, a.colinds) and np.shares_memory(s.data, a.values)
    x = np.arange(20.0)
    np.testing.assert_allclose(a.mult_vec(x), m @ x, rtol=RTOL, atol=ATOL)


# ----- from_coo / from_scipy / to_scipy ---------------------------------------------------

@given(st.data())
def test_from_coo_matches_scipy(data):
    n, m = data.draw(st.integers(0, 30)), data.draw(st.integers(0, 30))
    nnz = data.draw(st.integers(0, 100)) if n and m else 0
    rows = np.array(data.draw(st.lists(st.integers(0, max(n - 1, 0)), min_size=nnz,
                                       max_size=nnz)), dtype=np.int64)
    cols = np.array(data.draw(st.lists(st.integers(0, max(m - 1, 0)), min_size=nnz,
                                       max_size=nnz)), dtype=np.int64)
    vals = np.arange(1.0, nnz + 1)
    a = CSR.from_coo(rows, cols, vals, shape=(n, m))
    assert a.shape == (n, m) and a.nnz == nnz
    expected = sps.coo_matrix((vals, (rows, cols)), shape=(n, m)).toarray()
    np.testing.assert_array_equal(dense(a), expected)
    # within a row the input order is kept (stable), duplicates kept
    for r in range(n):
        np.testing.assert_array_equal(a.row_vs(r), vals[rows == r])


def test_from_coo_infers_shape_and_pattern():
    a = CSR.from_coo(np.array([0, 2]), np.array([3, 1]), None)
    assert a.shape == (3, 4) and a.values is None
    f = CSR.from_coo(np.array([0]), np.array([0]), np.array([1.5], dtype=np.float32))
    assert f.values.dtype == np.float32
    w = CSR.from_coo(np.array([0]), np.array([0]), np.array([1.0]), rpdtype=np.int64)
    assert w.rowptrs.dtype == np.int64


@pytest.mark.parametrize("shape", [(0, 4), (4, 0), (0, 0)])
def test_from_coo_zero_sized(shape):
    a = CSR.from_coo(np.zeros(0, np.intc), np.zeros(0, np.intc), np.zeros(0), shape=shape)
    assert a.shape == shape and a.nnz == 0 and a.rowptrs.shape == (shape[0] + 1,)


def test_from_coo_out_of_range_raises_with_entry():
    with pytest.raises(ValueError, match="entry 1"):
        CSR.from_coo(np.array([0, 5]), np.array([0, 0]), np.ones(2), shape=(2, 2))


@given(sparse_matrices(format="coo"))
def test_from_scipy_equals_tocsr(m):
    a = CSR.from_scipy(m)
    t = m.tocsr()
    np.testing.assert_array_equal(a.rowptrs, t.indptr)
    np.testing.assert_array_equal(a.colinds, t.indices)
    np.testing.assert_array_equal(a.values, t.data)
    s = a.to_scipy()
    assert type(s) is sps.csr_matrix
    np.testing.assert_array_equal(s.toarray(), m.toarray())


def test_to_scipy_of_pattern_has_ones():
    a = CSR.from_coo(np.array([0, 1]), np.array([1, 0]), None)
    assert a.to_scipy().data.tolist() == [1.0, 1.0]


# ----- values -----------------------------------------------------------------------------

def test_values_setter():
    a = CSR.from_coo(np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0]))
    a.values = None
    assert a.values is None
    a.values = np.arange(5.0)
    assert a.values.tolist() == [0.0, 1.0]
    with pytest.raises(ValueError):
        a.values = np.ones(1)
    assert a.values.tolist() == [0.0, 1.0]


def test_drop_and_fill_values():
    a = CSR.from_coo(np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0]))
    with pytest.warns(DeprecationWarning):
        a.drop_values()
    assert a.values is None
    a.fill_values(3.0)
    assert a.values.dtype == np.float64 and a.values.tolist() == [3.0, 3.0]
    a.fill_values(4.0)
    assert a.values.tolist() == [4.0, 4.0]


# ----- rows -------------------------------------------------------------------------------

@given(csrs())
def test_row_accessors(a):
    s = a.to_scipy()
    for i in range(a.nrows):
        sp, ep = a.row_extent(i)
        assert (sp, ep) == (a.rowptrs[i], a.rowptrs[i + 1])
        np.testing.assert_array_equal(a.row_cs(i), a.colinds[sp:ep])
        expected_vs = np.ones(ep - sp) if a.values is None else a.values[sp:ep]
        np.testing.assert_array_equal(a.row_vs(i), expected_vs)
        np.testing.assert_allclose(a.row(i), s[i, :].toarray()[0])
        mask = np.zeros(a.ncols, bool)
        mask[a.colinds[sp:ep]] = True
        np.testing.assert_array_equal(a.row_mask(i), mask)
    rows = list(range(0, a.nrows, 2))
    np.testing.assert_allclose(a.row(rows), s[rows, :].toarray())
    assert a.row([]).shape == (0, a.ncols)
    np.testing.assert_array_equal(a.row_nnzs(), np.diff(a.rowptrs))
    ri = a.rowinds()
    assert ri.dtype == np.intc
    np.testing.assert_array_equal(ri, s.tocoo().row if a.nnz else ri)


@given(csrs())
def test_rowinds_match_coo(a):
    ri = a.rowinds()
    for i in range(a.nrows):
        sp, ep = a.row_extent(i)
        assert (ri[sp:ep] == i).all()


# ----- copies and subsets -------------------------------------------------------------------

@given(csrs())
def test_copy_without_values(a):
    b = a.copy(False)
    assert b.values is None
    np.testing.assert_array_equal(b.colinds, a.colinds)


@given(csrs(), st.data())
def test_subset_rows(a, data):
    b = data.draw(st.integers(0, a.nrows))
    e = data.draw(st.integers(b, a.nrows))
    s = a.subset_rows(b, e)
    np.testing.assert_allclose(dense(s), dense(a)[b:e, :])


@given(csrs(), st.data())
def test_pick_rows(a, data):
    rows = np.array(data.draw(st.lists(st.integers(0, a.nrows - 1), max_size=20)),
                    dtype=np.int64)
    p = a.pick_rows(rows)
    assert p.shape == (len(rows), a.ncols)
    np.testing.assert_allclose(dense(p), dense(a)[rows, :].reshape(len(rows), a.ncols))
    assert a.pick_rows(rows, include_values=False).values is None


@given(csrs(), st.data())
def test_filter_nnzs(a, data):
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=a.nnz, max_size=a.nnz)),
                    dtype=bool)
    f = a.filter_nnzs(mask)
    coo = a.to_scipy().tocoo()
    expected = sps.coo_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])),
                              shape=a.shape).toarray()
    np.testing.assert_allclose(dense(f), expected)
    with pytest.raises(ValueError):
        a.filter_nnzs(np.ones(a.nnz + 1, bool))


# ----- in-place ---------------------------------------------------------------------------

@given(csrs())
def test_sort_rows(a):
    before = dense(a)
    a.sort_rows()
    for i in range(a.nrows):
        cs = a.row_cs(i)
        assert (np.diff(cs) >= 0).all()
    np.testing.assert_allclose(dense(a), before)


def test_sort_rows_strict_without_duplicates():
    a = CSR.from_coo(np.array([0, 0, 0]), np.array([2, 0, 1]), np.array([3.0, 1.0, 2.0]))
    a.sort_rows()
    assert a.colinds.tolist() == [0, 1, 2] and a.values.tolist() == [1.0, 2.0, 3.0]


@given(csrs(values=True), st.sampled_from(["f4", "f8"]))
def test_normalize_center(a, dtype):
    a.values = a.values.astype(dtype)
    before = a.copy()
    means = a.normalize_rows("center")
    assert means.dtype == np.dtype(dtype)
    rtol = 1e-5 if dtype == "f4" else 1e-6
    for i in range(a.nrows):
        vs = before.row_vs(i).astype(np.float64)
        m = vs.mean() if len(vs) else 0.0
        np.testing.assert_allclose(means[i], m, rtol=rtol, atol=1e-3 if dtype == "f4" else 1e-9)
        np.testing.assert_allclose(a.row_vs(i), vs - m, rtol=rtol, atol=1e-2 if dtype == "f4"
                                   else 1e-8)


@given(csrs(values=True))
def test_normalize_unit(a):
    before = a.copy()
    norms = a.normalize_rows("unit")
    for i in range(a.nrows):
        vs = before.row_vs(i)
        n = np.linalg.norm(vs)
        np.testing.assert_allclose(norms[i], n, rtol=1e-6)
        if n > 0:
            np.testing.assert_allclose(a.row_vs(i), vs / n, rtol=1e-6, atol=1e-12)


def test_normalize_unit_subnormal_and_zero_rows():
    tiny = 5e-324 * np.array([3.0, 4.0])
    a = CSR(3, 2, 5, np.array([0, 2, 4, 5]), np.array([0, 1, 0, 1, 0]),
            np.concatenate([tiny, [0.0, 0.0], [2.0]]))
    norms = a.normalize_rows("unit")
    np.testing.assert_allclose(a.row_vs(0), [0.6, 0.8])
    np.testing.assert_allclose(norms[0], 5 * 5e-324)
    assert norms[1] == 0 and np.isnan(a.row_vs(1)).all()
    assert norms[2] == 2.0 and a.row_vs(2).tolist() == [1.0]
    e = CSR.empty(2, 2, values="f4")
    assert e.normalize_rows("unit").tolist() == [0.0, 0.0]


def test_normalize_bad_mode():
    a = CSR.from_coo(np.array([0]), np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError, match="mode"):
        a.normalize_rows("max")


# ----- transpose, products ----------------------------------------------------------------

@given(csrs())
def test_transpose(a):
    t = a.transpose()
    assert t.shape == (a.ncols, a.nrows)
    np.testing.assert_array_equal(t.rowptrs, a.to_scipy().T.tocsr().indptr)
    np.testing.assert_allclose(dense(t), dense(a).T)
    assert (a.values is None) == (t.values is None)
    s = a.transpose_structure()
    assert s.values is None
    np.testing.assert_array_equal(s.colinds, t.colinds)


def test_transpose_of_long_rows_over_many_columns():
    """A rating-like matrix (few long sorted rows over 40k columns) is transposed one block
    of columns at a time: same arrays as scipy's, duplicates in row order, and a bad column
    reported like any other path's."""
    rng = np.random.default_rng(7)
    m = sps.random(300, 40_000, density=0.015, format="csr", random_state=rng)
    m.sort_indices()
    a = CSR.from_scipy(m)
    t = a.transpose()
    want = m.T.tocsr()
    want.sort_indices()
    np.testing.assert_array_equal(t.rowptrs, want.indptr)
    np.testing.assert_array_equal(t.colinds, want.indices)
    np.testing.assert_array_equal(t.values, want.data)
    cols = a.colinds.copy()
    cols[len(cols) // 2] = 40_000
    bad = CSR(a.nrows, a.ncols, a.nnz, a.rowptrs, cols, a.values)
    with pytest.raises(ValueError, match="40000"):
        bad.transpose()


@given(mm_pairs(as_csr=True))
def test_multiply(kernel, pair):
    a, b = pair
    c = a.multiply(b)
    assert c.values.dtype == np.float64
    assert (c.values != 0).all()
    np.testing.assert_allclose(dense(c), dense(a) @ dense(b), rtol=RTOL, atol=ATOL)


@given(mm_pairs(as_csr=True))
def test_multiply_transpose(kernel, pair):
    a, b = pair
    bt = b.transpose()
    c = a.multiply(bt, True)
    np.testing.assert_allclose(dense(c), dense(a) @ dense(bt).T, rtol=RTOL, atol=ATOL)
    assert (c.values != 0).all()


@given(mm_pairs(as_csr=True))
def test_multiply_in_float32_when_asked(kernel, pair):
    a, b = pair
    a.values = a.values.astype(np.float32)
    c = a.multiply(b, dtype=np.float32)
    assert c.values.dtype == np.float32
    np.testing.assert_allclose(dense(c), dense(a) @ dense(b), rtol=1e-4, atol=1e-5)


@given(mm_pairs(as_csr=True), st.booleans())
def test_multiply_rows_sorted_or_in_any_order(kernel, pair, transpose):
    """Sorted rows by default; with ``order_columns=False`` the same row pointers, and the
    same columns and values (bit for bit) once each row is sorted."""
    a, b = pair
    if transpose:
        b = b.transpose()
    c = a.multiply(b, transpose)
    assert c.to_scipy().has_sorted_indices
    u = a.multiply(b, transpose, order_columns=False)
    np.testing.assert_array_equal(u.rowptrs, c.rowptrs)
    u.sort_rows()
    np.testing.assert_array_equal(u.colinds, c.colinds)
    np.testing.assert_array_equal(u.values.view(np.uint64), c.values.view(np.uint64))


def test_multiply_in_any_order_skips_the_sort(kernel):
    """Where the kernel's accumulator leaves rows unsorted (native, its legacy alias,
    scipy), ``order_columns=False`` returns them so; MKL's product is sorted either way."""
    rng = np.random.default_rng(3)
    m = sps.random(2000, 2000, density=0.004, format="csr", random_state=rng)
    a = CSR.from_scipy(m)
    u = a.multiply(a, order_columns=False)
    want = (m @ m).tocsr()
    want.sort_indices()
    got = u.to_scipy()
    assert got.has_sorted_indices == (kernel.name == "mkl")
    np.testing.assert_allclose(got.toarray(), want.toarray(), rtol=1e-12, atol=1e-15)


@given(st.integers(8, 30), st.integers(0, 40), st.booleans())
def test_multiply_stencils_match_scipy(kernel, n, broken, transpose):
    """A 5-point stencil with some rows broken (an entry dropped): the rows that repeat
    the row above them take the native kernel's templates; every kernel equals scipy."""
    one = sps.diags([np.ones(n - 1), np.ones(n), np.ones(n - 1)], [-1, 0, 1])
    m = (sps.kron(one, sps.identity(n)) + sps.kron(sps.identity(n), one)).tocsr()
    rng = np.random.default_rng(n * 41 + broken)
    keep = np.ones(m.nnz, bool)
    keep[m.indptr[rng.integers(0, n * n, broken)]] = False
    coo = m.tocoo()
    m = sps.csr_matrix((rng.integers(-3, 4, keep.sum()).astype(float),
                        (coo.row[keep], coo.col[keep])), shape=m.shape)
    a = CSR.from_scipy(m)
    want = (m @ (m.T if transpose else m)).tocsr()
    want.eliminate_zeros()
    want.sort_indices()
    for order in (True, False):
        got = a.multiply(a, transpose, order_columns=order).to_scipy()
        got.sort_indices()
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.data, want.data)


def test_multiply_removes_cancellations(kernel):
    a = CSR.from_coo(np.array([0, 0]), np.array([0, 1]), np.array([1.0, -1.0]))
    b = CSR.from_coo(np.array([0, 1]), np.array([0, 0]), np.array([1.0, 1.0]))
    c = a.multiply(b)
    assert c.nnz == 0


@given(csrs(), st.sampled_from(["f4", "f8"]))
def test_mult_vec(kernel, a, dtype):
    if a.values is not None:
        a.values = a.values.astype(dtype)
    x = np.linspace(-1, 1, a.ncols)
    y = a.mult_vec(x)
    assert y.dtype == np.float64 and y.shape == (a.nrows,)
    # float32 values compute in float64: so does the oracle (toarray of the float32
    # matrix would sum its duplicates in float32).
    a64 = a.copy()
    if a64.values is not None:
        a64.values = a64.values.astype(np.float64)
    np.testing.assert_allclose(y, dense(a64) @ x, rtol=RTOL, atol=1e-8)


def test_mult_vec_f32_stays_f32_when_asked(kernel):
    a = CSR.from_coo(np.array([0, 1]), np.array([1, 0]), np.array([1.0, 2.0], np.float32))
    y = a.mult_vec(np.array([1.0, 2.0], np.float32))
    assert y.dtype == np.float32 and y.tolist() == [2.0, 2.0]


def test_mult_vec_wrong_length():
    a = CSR.from_coo(np.array([0]), np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError, match="shape"):
        a.mult_vec(np.ones(3))


@given(csrs(), st.integers(1, 4))
def test_mult_mat(kernel, a, k):
    x = np.arange(a.ncols * k, dtype=np.float64).reshape(a.ncols, k) / 7
    np.testing.assert_allclose(a.mult_mat(x), dense(a) @ x, rtol=RTOL, atol=1e-8)


# ----- protocol, pickling, shards -----------------------------------------------------------

def test_str():
    a = CSR.from_coo(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 0]), np.ones(4))
    assert "4x3" in str(a)
    assert str(a) == "<CSR 4x3 (4 nnz)>"


@given(csrs())
def test_pickle_round_trip(a):
    b = pickle.loads(pickle.dumps(a))
    assert (b.nrows, b.ncols, b.nnz) == (a.nrows, a.ncols, a.nnz)
    np.testing.assert_array_equal(b.rowptrs, a.rowptrs)
    np.testing.assert_array_equal(b.colinds, a.colinds)
    if a.values is None:
        assert b.values is None
    else:
        np.testing.assert_array_equal(b.values, a.values)


def test_pickle_keeps_int64_rowptrs():
    a = CSR(2, 2, 1, np.array([0, 1, 1], np.int64), np.array([1], np.intc), None, _cast=False)
    b = pickle.loads(pickle.dumps(a))
    assert b.rowptrs.dtype == np.int64 and b.values is None


@given(csrs(), st.integers(1, 50))
def test_shards_round_trip(a, tgt):
    if a.row_nnzs().max(initial=0) > tgt:
        with pytest.raises(ValueError):
            a._shard_rows(tgt)
        return
    shards = a._shard_rows(tgt)
    assert all(s.nnz <= tgt for s in shards)
    b = CSR._assemble_shards(shards)
    np.testing.assert_array_equal(b.rowptrs, a.rowptrs)
    np.testing.assert_array_equal(b.colinds, a.colinds)
    np.testing.assert_allclose(dense(b), dense(a))
