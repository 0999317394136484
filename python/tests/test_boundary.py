"""The Rust boundary: zero copy, read-only arrays under a handle, bad inputs raising the
Rust message, int64 row pointers, threads sharing one handle, the thread-count setter."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sps

import csr
from conftest import KERNELS
from csr import CSR, _csr
from csr.kernels import get_kernel, releasing

RUST = ["native", "numba"]


def small():
    return CSR(3, 4, 4, np.array([0, 2, 3, 4]), np.array([3, 0, 1, 2]),
               np.array([1.0, 2.0, 3.0, 4.0]))


@pytest.mark.parametrize("name", RUST)
def test_handle_borrows_and_freezes_arrays(name):
    k = get_kernel(name)
    a = small()
    h = k.to_handle(a)
    for arr in (a.rowptrs, a.colinds, a.values):
        assert not arr.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a.colinds[0] = 99
    view = a.colinds[:2]
    with pytest.raises(ValueError):
        view.flags.writeable = True
    # Two handles over the same arrays: the first release keeps them frozen.
    h2 = k.to_handle(a)
    k.release_handle(h)
    assert not a.colinds.flags.writeable
    k.release_handle(h2)
    for arr in (a.rowptrs, a.colinds, a.values):
        assert arr.flags.writeable
    k.release_handle(h2)  # releasing twice does nothing
    with pytest.raises(ValueError, match="released"):
        k.mult_vec(h2, np.ones(4))


def test_frozen_base_chain():
    base = np.array([0, 2, 3, 4, 99], dtype=np.intc)
    a = CSR(3, 4, 4, base[:4], np.array([3, 0, 1, 2]), np.ones(4), _cast=False)
    k = get_kernel("native")
    with releasing(k.to_handle(a), k):
        assert not base.flags.writeable
        with pytest.raises(ValueError):
            base[0] = 1
    assert base.flags.writeable and a.rowptrs.flags.writeable


def test_rewriting_a_frozen_array_is_caught():
    k = get_kernel("native")
    a = small()
    h = k.to_handle(a)
    a.colinds.flags.writeable = True
    a.colinds[0] = 1000
    with pytest.raises(ValueError, match="made writeable"):
        k.mult_vec(h, np.ones(4))
    k.release_handle(h)


def test_read_only_input_stays_read_only():
    a = small()
    a.values.flags.writeable = False
    k = get_kernel("native")
    with releasing(k.to_handle(a), k):
        pass
    assert not a.values.flags.writeable
    assert a.rowptrs.flags.writeable


def test_handles_read_the_scipy_buffers_in_place():
    m = sps.random(200, 100, density=0.1, format="csr", random_state=2)
    m.indptr = m.indptr.astype(np.intc)
    m.indices = m.indices.astype(np.intc)
    a = CSR.from_scipy(m, copy=False)
    assert a.colinds is m.indices and a.values is m.data
    k = get_kernel("native")
    with releasing(k.to_handle(a), k) as h:
        # the handle froze the scipy matrix's own arrays: it reads them, not a copy
        assert not m.indices.flags.writeable and not m.data.flags.writeable
        np.testing.assert_allclose(k.mult_vec(h, np.ones(100)), m @ np.ones(100))
    assert m.indices.flags.writeable and m.data.flags.writeable


@pytest.mark.parametrize(
    "rowptrs, colinds, values, exc, msg",
    [
        (np.array([0, 2, 3, 4]), np.array([3, 0, 1, 9]), np.ones(4), ValueError,
         "column index 9 out of bounds at entry 3 \\(row 2\\)"),
        (np.array([0, 2, 3, 4]), np.array([3, 0, -1, 2]), np.ones(4), ValueError,
         "column index -1"),
        (np.array([0, 3, 2, 4]), np.array([3, 0, 1, 2]), np.ones(4), ValueError,
         "decreas"),
        (np.array([1, 2, 3, 4]), np.array([3, 0, 1, 2]), np.ones(4), ValueError, "row_ptrs"),
        (np.array([0, 2, 4]), np.array([3, 0, 1, 2]), np.ones(4), ValueError,
         "row_ptrs has 3 entries, expected nrows \\+ 1 = 4"),
        (np.array([0, 2, 3, 4, 4]), np.array([3, 0, 1, 2]), np.ones(4), ValueError,
         "row_ptrs has 5 entries"),
        (np.array([0, 2, 3, 5]), np.array([3, 0, 1, 2]), np.ones(4), ValueError, "5"),
        (np.array([0, 2, 3, 4]), np.array([3, 0, 1, 2]), np.ones(3), ValueError, "3"),
        (np.array([0, 2, 3, 4]), np.array([3.0, 0, 1, 2]), np.ones(4), TypeError,
         "colinds must have dtype int32 or int64, not float64"),
        (np.array([0, 2, 3, 4]), np.array([3, 0, 1, 2]), np.ones(4, np.int64), TypeError,
         "values must have dtype float32 or float64, not int64"),
        (np.array([0, 2, 3, 4]), np.array([3, 0, 1, 2, 5, 5, 5, 5], np.intc)[::2], np.ones(4),
         ValueError, "C-contiguous"),
        (np.array([0, 2, 3, 4]), np.array([[3, 0, 1, 2]], np.intc), np.ones(4), ValueError,
         "1-dimensional"),
        ([0, 2, 3, 4], np.array([3, 0, 1, 2]), np.ones(4), TypeError, "numpy array"),
    ],
)
@pytest.mark.parametrize("op", ["to_handle", "transpose", "sort_rows", "mult_vec_once"])
def test_bad_inputs_raise_the_rust_message(rowptrs, colinds, values, exc, msg, op):
    def as_given(x):
        if isinstance(x, np.ndarray) and x.dtype == np.int64:
            return x.astype(np.intc)
        return x

    args = (3, 4, as_given(rowptrs), as_given(colinds), values)
    with pytest.raises(exc, match=msg):
        if op == "to_handle":
            _csr.to_handle("native", *args)
        elif op == "transpose":
            _csr.transpose(*args)
        elif op == "mult_vec_once":
            _csr.mult_vec_once(*args, np.ones(4))
        else:
            _csr.sort_rows(*args)
    # a failed handle leaves the arrays writeable
    for x in args[2:]:
        if isinstance(x, np.ndarray) and x.base is None:
            assert x.flags.writeable


def test_bad_entry_through_csr_methods():
    a = CSR(2, 2, 2, np.array([0, 1, 2]), np.array([0, 5]), np.ones(2))
    for f in (lambda: a.mult_vec(np.ones(2)), a.transpose, a.sort_rows,
              lambda: a.multiply(a), lambda: a.normalize_rows("center")):
        with pytest.raises(ValueError, match="column index 5 out of bounds at entry 1"):
            f()


@pytest.mark.parametrize("name", RUST)
def test_taking_a_product_moves_it_out_and_releases_it(name):
    k = get_kernel(name)
    a = CSR.from_coo(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([1.0, -1.0, 2.0]))
    b = CSR.from_coo(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([1.0, 1.0, 3.0]))
    with releasing(k.to_handle(a), k) as ah, releasing(k.to_handle(b), k) as bh:
        ch = k.mult_ab(ah, bh)
        kept = k._take(ch, drop_zeros=False)
        assert ch.released
        with pytest.raises(ValueError, match="released"):
            ch.take_arrays()
        # row 0 cancels: (1)(1) + (-1)(1) = 0, kept as a stored zero unless dropped
        np.testing.assert_array_equal(kept.to_scipy().toarray(), [[0.0, -3.0], [2.0, 6.0]])
        assert kept.nnz == 4
        dropped = k._take(k.mult_ab(ah, bh), drop_zeros=True)
        assert dropped.nnz == 3
        np.testing.assert_array_equal(dropped.to_scipy().toarray(), kept.to_scipy().toarray())
    # a handle over a CSR's arrays gives a copy, and gives the arrays back writeable
    copy = k._take(k.to_handle(a))
    assert not np.shares_memory(copy.colinds, a.colinds)
    assert a.colinds.flags.writeable


@pytest.mark.parametrize("name", [k for k in KERNELS if k != "scipy"])
def test_mult_vec_checks_the_arrays_without_a_handle(name):
    a = CSR(3, 4, 4, np.array([0, 2, 3, 4], np.intc), np.array([3, 0, 1, 2], np.intc),
            np.array([1.0, 2.0, 3.0, 4.0]))
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    with csr.kernels.use_kernel(name):
        np.testing.assert_array_equal(a.mult_vec(x), [1002.0, 30.0, 400.0])
        a.colinds[1] = -7
        with pytest.raises(ValueError, match="column index -7 out of bounds at entry 1"):
            a.mult_vec(x)
    # frozen only while the call ran
    assert a.colinds.flags.writeable


def test_handles_of_different_types_do_not_multiply():
    a = small()
    b = CSR(4, 2, 1, np.array([0, 1, 1, 1, 1]), np.array([0]), np.ones(1, np.float32))
    ha = _csr.to_handle("native", *a._arrays())
    hb = _csr.to_handle("native", *b._arrays())
    with pytest.raises(TypeError, match="float32"):
        ha.mult_ab(hb)
    with pytest.raises(TypeError, match="x must be"):
        ha.mult_vec(np.ones(4, np.float32))
    with pytest.raises(ValueError, match="dimension|shape|mismatch"):
        ha.mult_vec(np.ones(7))


@pytest.mark.parametrize("kernel", ["native", "scipy"])
def test_int64_rowptrs(kernel):
    m = sps.random(30, 20, density=0.2, format="csr", random_state=5)
    a = CSR(30, 20, m.nnz, m.indptr.astype(np.int64), m.indices.astype(np.intc), m.data,
            _cast=False)
    assert a.rowptrs.dtype == np.int64
    from csr.kernels import use_kernel

    with use_kernel(kernel):
        x = np.arange(20.0)
        np.testing.assert_allclose(a.mult_vec(x), m @ x)
        np.testing.assert_allclose(a.multiply(a, True).to_scipy().toarray(),
                                   (m @ m.T).toarray())
    t = a.transpose()
    np.testing.assert_allclose(t.to_scipy().toarray(), m.T.toarray())
    a.sort_rows()
    a.normalize_rows("center")


def test_int64_column_indices():
    m = sps.random(10, 10, density=0.3, format="csr", random_state=6)
    a = CSR(10, 10, m.nnz, m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data,
            _cast=False)
    np.testing.assert_allclose(a.mult_vec(np.ones(10)), m @ np.ones(10))
    np.testing.assert_allclose(a.transpose().to_scipy().toarray(), m.T.toarray())


def test_cast_picks_pointer_dtype():
    a = CSR(2, 2, 1, np.array([0, 1, 1], np.int64), np.array([1], np.int64), np.ones(1))
    assert a.rowptrs.dtype == np.intc and a.colinds.dtype == np.intc


def test_threads_share_one_handle():
    m = sps.random(2000, 1000, density=0.01, format="csr", random_state=8)
    a = CSR.from_scipy(m)
    k = get_kernel("native")
    xs = [np.random.default_rng(i).random(1000) for i in range(32)]
    with releasing(k.to_handle(a), k) as h:
        with ThreadPoolExecutor(8) as pool:
            ys = list(pool.map(lambda x: k.mult_vec(h, x), xs))
            prods = list(pool.map(lambda _: k.from_handle(k.mult_abt(h, h)), range(4)))
    for x, y in zip(xs, ys):
        np.testing.assert_allclose(y, m @ x)
    expected = (m @ m.T).toarray()
    for p in prods:
        np.testing.assert_allclose(p.to_scipy().toarray(), expected)


def test_threads_multiply_csrs_concurrently():
    m = sps.random(300, 300, density=0.05, format="csr", random_state=9)
    a = CSR.from_scipy(m)
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: a.mult_vec(np.ones(300)), range(16)))
    for y in outs:
        np.testing.assert_allclose(y, m @ np.ones(300))


@pytest.mark.parametrize("nrows", [20_000, 40_000, 70_000, 3_000])
def test_spmv_on_the_calling_thread_and_on_the_pool_agree(nrows):
    """Matrices whose SpMV runs in one row block run on the calling thread (20k rows: 80k
    entries + rows; 70k rows of one entry each: the row pointers are checked in
    parallel), row blocks of fewer than 65 536 rows on the calling thread with the pool's
    workers taking blocks beside it (40k rows of 3 entries; 3k rows of ~300 entries over
    60k columns, `load_balance` in many blocks), larger ones on the pool: every way gives
    scipy's product, from several Python threads at once, with one thread or two."""
    m = sps.diags([1.0, -2.0, 0.5], [-1, 0, 1], shape=(nrows, nrows), format="csr")
    if nrows == 70_000:
        m = sps.identity(nrows, format="csr") * 3.0
    if nrows == 3_000:
        m = sps.random(nrows, 60_000, density=0.005, format="csr", random_state=7)
    a = CSR.from_scipy(m)
    k = get_kernel("native")
    xs = [np.random.default_rng(i).random(m.shape[1]) for i in range(8)]
    before = csr.get_num_threads()
    try:
        for threads in (1, 2):
            csr.set_num_threads(threads)
            with releasing(k.to_handle(a), k) as h, ThreadPoolExecutor(4) as pool:
                if nrows == 3_000 and threads == 2:
                    assert h.strategy == "load_balance"
                ys = list(pool.map(lambda x: k.mult_vec(h, x), xs))
                once = list(pool.map(a.mult_vec, xs))
            for x, y, z in zip(xs, ys, once):
                # Rows of 16 entries or more sum in eight lanes, scipy's left to right.
                np.testing.assert_allclose(y, m @ x, rtol=1e-15 if nrows > 3_000 else 1e-12)
                np.testing.assert_array_equal(y, z)
    finally:
        csr.set_num_threads(before)


def test_num_threads_setter():
    before = csr.get_num_threads()
    try:
        csr.set_num_threads(1)
        assert csr.get_num_threads() == 1
        csr.set_num_threads(3)
        assert csr.get_num_threads() == 3
        a = CSR.from_scipy(sps.random(100, 100, density=0.1, format="csr", random_state=1))
        np.testing.assert_allclose(a.mult_vec(np.ones(100)), a.to_scipy() @ np.ones(100))
    finally:
        csr.set_num_threads(before)


def test_thread_count_from_environment():
    import subprocess
    import sys

    env = {"CSR_NUM_THREADS": "3", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", "import csr; print(csr.get_num_threads())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
    env = {"RAYON_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", "import csr; print(csr.get_num_threads())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"


# The size of the matrix of the zero-copy test (12 bytes per entry); the 1 GB case:
# CSR_ZERO_COPY_BYTES=1e9 pytest -s -k copies_nothing python/tests/test_boundary.py
ZERO_COPY_BYTES = float(os.environ.get("CSR_ZERO_COPY_BYTES", 120e6))


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
@pytest.mark.parametrize("origin", ["scipy", "ours"])
def test_mult_vec_of_shared_arrays_copies_nothing(origin):
    # In a fresh process, with its peak RSS reset after the matrix is built: the peak grows
    # by the output vector and small bookkeeping only, not by a copy of the matrix. The
    # matrix shares scipy's arrays, or is one of our own results (arrays over Rust vectors,
    # as every operation returns: here a transpose).
    import subprocess
    import sys

    code = """
import re, sys, numpy as np, scipy.sparse as sps
from csr import CSR
from csr.kernels import set_kernel
set_kernel("native")
nnz = int(float(sys.argv[1]) / 12)
per = 10
n = nnz // per
indptr = np.arange(0, n * per + 1, per, dtype=np.int32)
indices = np.empty(n * per, np.int32)
data = np.empty(n * per)
rng = np.random.default_rng(0)
for s in range(0, n * per, 1 << 22):
    e = min(s + (1 << 22), n * per)
    indices[s:e] = rng.integers(0, n, e - s, dtype=np.int32)
    data[s:e] = rng.random(e - s)
m = sps.csr_matrix((data, indices, indptr), shape=(n, n), copy=False)
x = rng.random(n)
def kib(field):
    return int(re.search(field + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak RSS to the current RSS
except OSError as e:
    print("SKIP", e)
    sys.exit(0)
if sys.argv[2] == "ours":
    a = CSR.from_scipy(m, copy=False).transpose()
    m = None
    want = a.to_scipy()[:1000] @ x
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
base = kib("VmRSS")
if sys.argv[2] == "scipy":
    a = CSR.from_scipy(m, copy=False)
    assert a.colinds is m.indices and a.values is m.data
    want = m[:1000] @ x
y = a.mult_vec(x)
print(n * per * 12, n * 8, (kib("VmHWM") - base) * 1024)
assert np.allclose(y[:1000], want)
"""
    out = subprocess.run([sys.executable, "-c", code, str(ZERO_COPY_BYTES), origin],
                         capture_output=True, text=True, check=True)
    if out.stdout.startswith("SKIP"):
        pytest.skip(f"cannot reset the peak RSS here: {out.stdout.strip()}")
    matrix, output, grown = (int(v) for v in out.stdout.split())
    print(f"matrix {matrix / 1e6:.0f} MB, output {output / 1e6:.1f} MB, "
          f"peak RSS grew {grown / 1e6:.1f} MB")
    assert grown < output + 4_000_000, f"peak RSS grew by {grown} bytes"


def test_one_shot_calls_give_the_arrays_back():
    a = small()
    a.transpose()
    a.sort_rows()
    a.normalize_rows("center")
    CSR.from_coo(a.rowinds(), a.colinds, a.values)
    for arr in (a.rowptrs, a.colinds, a.values):
        assert arr.flags.writeable


def test_memory_owned_outside_numpy_is_copied():
    # A bytearray can be written without numpy, whatever the array's flags say: the handle
    # copies the index arrays, so a later bad write cannot reach the kernel.
    raw = bytearray(np.array([3, 0, 1, 2], dtype=np.intc).tobytes())
    colinds = np.frombuffer(raw, dtype=np.intc)
    a = CSR(3, 4, 4, np.array([0, 2, 3, 4], np.intc), colinds, np.array([1.0, 2, 3, 4]),
            _cast=False)
    k = get_kernel("native")
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    with releasing(k.to_handle(a), k) as h:
        raw[0:4] = np.array([1 << 30], dtype=np.intc).tobytes()  # column 2^30
        np.testing.assert_allclose(k.mult_vec(h, x), [1002.0, 30.0, 400.0])
