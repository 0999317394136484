"""Type stubs of the compiled module ``csr._csr`` (crates/csr-python)."""

from os import PathLike

import numpy as np
from numpy.typing import NDArray

__version__: str

_Parts = tuple[int, int, NDArray[np.integer], NDArray[np.integer], NDArray[np.floating] | None]
_Path = str | PathLike[str]

class Handle:
    """A matrix prepared by a kernel; its arrays are read-only until it is released."""

    @property
    def kernel(self) -> str: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def nnz(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def strategy(self) -> str | None: ...
    @property
    def strategy_reason(self) -> str | None: ...
    @property
    def released(self) -> bool: ...
    def mult_vec(self, x: NDArray[np.floating]) -> NDArray[np.floating]: ...
    def mult_mat(self, x: NDArray[np.floating]) -> NDArray[np.floating]: ...
    def mult_ab(self, other: Handle, order_columns: bool = True) -> Handle: ...
    def mult_abt(self, other: Handle, order_columns: bool = True) -> Handle: ...
    def mult_ab_topk(
        self,
        other: Handle,
        k: int,
        threshold: float | None = None,
        exclude_diagonal: bool = False,
        sort: bool = False,
    ) -> Handle: ...
    def mult_abt_topk(
        self,
        other: Handle,
        k: int,
        threshold: float | None = None,
        exclude_diagonal: bool = False,
        sort: bool = False,
    ) -> Handle: ...
    def order_columns(self) -> None: ...
    def to_arrays(self, drop_zeros: bool = False) -> _Parts: ...
    def take_arrays(self, drop_zeros: bool = False) -> _Parts: ...
    def release(self) -> None: ...

def to_handle(
    kernel: str,
    nrows: int,
    ncols: int,
    rowptrs: NDArray[np.integer],
    colinds: NDArray[np.integer],
    values: NDArray[np.floating] | None = None,
    strategy: str | None = None,
) -> Handle: ...
def from_coo(
    nrows: int,
    ncols: int,
    rows: NDArray[np.integer],
    cols: NDArray[np.integer],
    vals: NDArray[np.floating] | None = None,
) -> _Parts: ...
def transpose(
    nrows: int,
    ncols: int,
    rowptrs: NDArray[np.integer],
    colinds: NDArray[np.integer],
    values: NDArray[np.floating] | None = None,
) -> _Parts: ...
def mult_vec_once(
    nrows: int,
    ncols: int,
    rowptrs: NDArray[np.integer],
    colinds: NDArray[np.integer],
    values: NDArray[np.floating],
    x: NDArray[np.floating],
) -> NDArray[np.floating]: ...
def sort_rows(
    nrows: int,
    ncols: int,
    rowptrs: NDArray[np.integer],
    colinds: NDArray[np.integer],
    values: NDArray[np.floating] | None = None,
) -> None: ...
def normalize_rows(
    nrows: int,
    ncols: int,
    rowptrs: NDArray[np.integer],
    colinds: NDArray[np.integer],
    values: NDArray[np.floating],
    mode: str,
) -> NDArray[np.floating]: ...
def read_mm(path: _Path) -> _Parts: ...
def write_mm(
    path: _Path,
    nrows: int,
    ncols: int,
    rowptrs: NDArray[np.integer],
    colinds: NDArray[np.integer],
    values: NDArray[np.floating] | None = None,
) -> None: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def kernels() -> list[tuple[str, str | None]]: ...
def kernel_unavailable(name: str) -> str | None: ...
def kernel_max_nnz(name: str) -> int: ...
