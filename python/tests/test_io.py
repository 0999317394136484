"""csr.io: Matrix Market read/write through the Rust reader and writer."""

import gzip

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sps
from hypothesis import given
from hypothesis import strategies as st

from csr import CSR, io
from csr.test_utils import csrs


@given(csrs(), st.sampled_from(["a.mtx", "a.mtx.gz"]))
def test_round_trip(tmp_path_factory, a, name):
    path = tmp_path_factory.mktemp("mm") / name
    io.write(path, a)
    b = io.read(path)
    assert b.shape == a.shape
    assert (b.values is None) == (a.values is None)
    if a.values is None:
        # a pattern file holds structure only: duplicate entries merge into one
        np.testing.assert_array_equal(b.to_scipy().toarray(), a.to_scipy().toarray() != 0)
    else:
        np.testing.assert_array_equal(b.to_scipy().toarray(), a.to_scipy().toarray())


def test_reads_what_scipy_writes(tmp_path):
    m = sps.random(20, 30, density=0.2, format="csr", random_state=4)
    scipy.io.mmwrite(tmp_path / "s.mtx", m)
    with open(tmp_path / "s.mtx", "rb") as f, gzip.open(tmp_path / "s.mtx.gz", "wb") as g:
        g.write(f.read())
    for name in ("s.mtx", "s.mtx.gz"):
        a = io.read(tmp_path / name)
        assert a.rowptrs.dtype == np.intc and a.colinds.dtype == np.intc
        np.testing.assert_allclose(a.to_scipy().toarray(), m.toarray())


def test_scipy_reads_what_we_write(tmp_path):
    m = sps.random(15, 10, density=0.3, format="csr", random_state=5)
    io.write(tmp_path / "w.mtx", CSR.from_scipy(m))
    np.testing.assert_array_equal(scipy.io.mmread(tmp_path / "w.mtx").toarray(), m.toarray())


def test_symmetric_and_pattern_files(tmp_path):
    p = tmp_path / "p.mtx"
    p.write_text("%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n1 1\n3 1\n")
    a = io.read(p)
    assert a.values is None and a.nnz == 3
    assert a.to_scipy().toarray().tolist() == [[1, 0, 1], [0, 0, 0], [1, 0, 0]]


def test_errors_name_the_line(tmp_path):
    p = tmp_path / "bad.mtx"
    p.write_text("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n3 1 2.0\n")
    with pytest.raises(ValueError, match=":4"):
        io.read(p)
    with pytest.raises(OSError):
        io.read(tmp_path / "missing.mtx")
