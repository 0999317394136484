"""The kernel contract on every kernel, and how the active kernel is chosen."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.sparse as sps
from hypothesis import given

import csr.kernels as kernels
from conftest import KERNELS
from csr import CSR
from csr.test_utils import csrs, mm_pairs


def dense(a):
    return a.to_scipy().toarray()


def test_get_kernel_returns_modules():
    for name in KERNELS:
        k = kernels.get_kernel(name)
        assert k.__name__ == f"csr.kernels.{name}"
        for f in ("to_handle", "from_handle", "release_handle", "order_columns", "mult_ab",
                  "mult_abt", "mult_vec"):
            assert callable(getattr(k, f))
        assert isinstance(k.max_nnz, int)
    assert kernels.get_kernel("native").max_nnz == 2**63 - 1
    assert kernels.get_kernel("scipy").max_nnz == 2**63 - 1


def test_unknown_kernel_is_an_import_error():
    with pytest.raises(ImportError):
        kernels.get_kernel("cuda")


def test_use_kernel_nests_and_restores():
    outer = kernels.get_kernel()
    with kernels.use_kernel("scipy") as k1:
        assert kernels.get_kernel() is k1
        with kernels.use_kernel("native") as k2:
            assert kernels.get_kernel() is k2
        assert kernels.get_kernel() is k1
    assert kernels.get_kernel() is outer


def test_set_kernel_is_per_thread():
    seen = {}
    main_before = kernels.get_kernel()

    def worker():
        kernels.set_kernel("scipy")
        seen["worker"] = kernels.get_kernel().__name__

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["worker"] == "csr.kernels.scipy"
    assert kernels.get_kernel() is main_before


def _run(code, **env):
    full = dict(os.environ, **env)
    full.pop("CSR_KERNEL", None) if "CSR_KERNEL" not in env else None
    out = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def test_default_kernel_rule():
    code = "import csr.kernels as k; print(k._default_kernel().__name__)"
    assert _run(code, CSR_KERNEL="numba") == "csr.kernels.numba"
    assert _run(code, CSR_KERNEL="scipy") == "csr.kernels.scipy"
    expected = "csr.kernels.mkl" if "mkl" in KERNELS else "csr.kernels.numba"
    assert _run(code) == expected
    # csr.kernel binds the default kernel's functions at import
    bound = _run("import csr.kernel as k; print(k.name, k.mult_vec.__module__)",
                 CSR_KERNEL="scipy")
    assert bound == "scipy csr.kernels.scipy"


def test_mkl_import_fails_without_mkl():
    code = "import csr.kernels.mkl"
    env = dict(os.environ, CSR_MKL_LIB="/nonexistent/libmkl_rt.so.2")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "ImportError" in r.stderr
    code = "import csr.kernels as k; print(k._default_kernel().__name__)"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       check=True)
    assert r.stdout.strip() == "csr.kernels.numba"


def test_available_lists_every_kernel():
    info = {k.name: k for k in kernels.available()}
    assert set(info) == {"native", "numba", "mkl", "scipy"}
    assert info["native"].available and info["native"].reason is None
    assert info["mkl"].available == ("mkl" in KERNELS)
    if not info["mkl"].available:
        assert info["mkl"].reason


@given(csrs())
def test_contract_mult_vec(kernel, a):
    x = np.linspace(-2, 2, a.ncols)
    with kernels.releasing(kernel.to_handle(a), kernel) as h:
        y = kernel.mult_vec(h, x)
    np.testing.assert_allclose(y, dense(a) @ x, rtol=1e-5, atol=1e-8)


@given(mm_pairs(as_csr=True))
def test_contract_products(kernel, pair):
    a, b = pair
    ha, hb = kernel.to_handle(a), kernel.to_handle(b)
    c = kernel.from_handle(kernel.mult_ab(ha, hb))
    np.testing.assert_allclose(dense(c), dense(a) @ dense(b), rtol=1e-5, atol=1e-10)
    hbt = kernel.to_handle(b.transpose())
    d = kernel.from_handle(kernel.mult_abt(ha, hbt))
    np.testing.assert_allclose(dense(d), dense(a) @ dense(b), rtol=1e-5, atol=1e-10)
    for h in (ha, hb, hbt):
        kernel.release_handle(h)


@given(csrs())
def test_contract_order_columns(kernel, a):
    h = kernel.to_handle(a)
    kernel.order_columns(h)
    b = kernel.from_handle(h)
    kernel.release_handle(h)
    for i in range(b.nrows):
        assert (np.diff(b.row_cs(i)) >= 0).all()
    np.testing.assert_allclose(dense(b), dense(a))


def test_mkl_pattern_handle_has_ones():
    if "mkl" not in KERNELS:
        pytest.skip("MKL cannot be loaded")
    k = kernels.get_kernel("mkl")
    a = CSR.from_coo(np.array([0, 1]), np.array([1, 0]), None)
    with kernels.releasing(k.to_handle(a), k) as h:
        assert k.from_handle(h).values.tolist() == [1.0, 1.0]


def test_max_nnz_is_honoured_by_splitting_rows(monkeypatch):
    name = "mkl" if "mkl" in KERNELS else "native"
    k = kernels.get_kernel(name)
    m = sps.random(40, 30, density=0.3, format="csr", random_state=7)
    a = CSR.from_scipy(m)
    monkeypatch.setattr(k, "max_nnz", 25)
    with pytest.raises(ValueError, match="max_nnz"):
        k.to_handle(a)
    with kernels.use_kernel(name):
        x = np.arange(30.0)
        np.testing.assert_allclose(a.mult_vec(x), m @ x)
        np.testing.assert_allclose(dense(a.multiply(a, True)), (m @ m.T).toarray())


def test_native_handle_reports_its_strategy():
    k = kernels.get_kernel("native")
    a = CSR.from_scipy(sps.random(100, 100, density=0.1, format="csr", random_state=1))
    with kernels.releasing(k.to_handle(a), k) as h:
        assert h.strategy in {"classical", "load_balance", "merge_path", "compressed", "tiled"}
        assert h.strategy_reason
    with kernels.releasing(k.to_handle(a, strategy="merge_path"), k) as h:
        assert (h.strategy, h.strategy_reason) == ("merge_path", "requested")
        np.testing.assert_allclose(h.mult_vec(np.ones(100)), dense(a) @ np.ones(100))
    with pytest.raises(ValueError, match="unknown SpMV strategy"):
        k.to_handle(a, strategy="csr5")


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_matrix_times_itself_through_one_handle(kernel, transpose, dtype):
    # `a.multiply(a)` makes one handle and passes it as both operands (`kernel` is active).
    m = sps.random(60, 60, density=0.15, format="csr", random_state=11)
    a = CSR.from_scipy(m)
    for _ in range(2):  # the second product reuses the first's workspaces
        c = a.multiply(a, transpose, dtype=dtype)
        assert c.values.dtype == dtype
        want = (m @ m.T if transpose else m @ m).toarray()
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(dense(c), want, rtol=rtol)
