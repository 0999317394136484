//! `Handle`: a matrix prepared by a kernel, over the numpy arrays of a `CSR` (zero copy).

use std::sync::{Mutex, RwLock};

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use csr::kernel::{self, Kernel, KernelId, MklKernel, TopK, TopKOrder};
use csr::{CsrRef, Dense, Index, Scalar, Strategy};

use crate::arrays::{MatrixArrays, OutValues, Parts, Structure, Vals, parts};
use crate::errors::to_py;
use crate::freeze::Frozen;
use crate::pool::{PARALLEL_ZEROS, Placement, compute, joined, on_calling_thread};

type KHandle<T, I> = kernel::Handle<'static, T, I>;

/// A kernel handle of one of the value/index type pairs the bindings support.
enum Typed {
    F64I32(KHandle<f64, i32>),
    F64I64(KHandle<f64, i64>),
    F32I32(KHandle<f32, i32>),
    F32I64(KHandle<f32, i64>),
}

/// Runs `$body` with `$h` bound to the typed kernel handle inside `$t`.
macro_rules! on_typed {
    ($t:expr, |$h:ident| $body:expr) => {
        match $t {
            Typed::F64I32($h) => $body,
            Typed::F64I64($h) => $body,
            Typed::F32I32($h) => $body,
            Typed::F32I64($h) => $body,
        }
    };
}

impl Typed {
    fn types(&self) -> &'static str {
        match self {
            Typed::F64I32(_) => "float64 values, int32 indices",
            Typed::F64I64(_) => "float64 values, int64 indices",
            Typed::F32I32(_) => "float32 values, int32 indices",
            Typed::F32I64(_) => "float32 values, int64 indices",
        }
    }
}

/// Arrays converted when the handle was made (index widening/narrowing, the ones of a
/// pattern matrix), which the handle's matrix borrows.
enum Buffer {
    I32(Vec<i32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

/// A matrix prepared by a kernel (`to_handle`), or a product a kernel computed.
///
/// A handle over a `CSR` reads the CSR's numpy arrays in place, checked once when it was
/// made; those arrays are read-only until the handle is released (see `csr.kernels`).
/// Handles may be shared between threads: every call releases the GIL.
#[pyclass(module = "csr._csr", frozen)]
pub(crate) struct Handle {
    kernel: KernelId,
    nrows: usize,
    ncols: usize,
    nnz: usize,
    /// Declared before `buffers` and `frozen`, so dropped before the arrays it borrows.
    inner: RwLock<Option<Typed>>,
    /// Kept alive and unmoved (a `Vec`'s buffer does not move with it) for `inner`.
    _buffers: Vec<Buffer>,
    /// The numpy arrays `inner` borrows: references keep them alive, frozen read-only.
    frozen: Mutex<Frozen>,
}

/// Extends a slice's lifetime to `'static`.
///
/// # Safety
/// The memory must stay allocated, unmoved and unwritten for as long as the result is
/// used: here, a numpy buffer the handle holds a reference to and froze read-only, or a
/// `Buffer` the handle owns; both outlive `inner`, which is dropped first.
unsafe fn extend<T>(s: &[T]) -> &'static [T] {
    // SAFETY: the caller keeps the memory alive and unwritten (see above).
    unsafe { std::slice::from_raw_parts(s.as_ptr(), s.len()) }
}

/// The slice behind a `Cow`, with `'static` lifetime, moving an owned vector into `keep`.
///
/// # Safety
/// As [`extend`]: a borrowed slice must point into a frozen numpy buffer the handle keeps.
unsafe fn pin<T: Clone>(
    c: std::borrow::Cow<'_, [T]>,
    keep: &mut Vec<Buffer>,
    wrap: fn(Vec<T>) -> Buffer,
    get: fn(&Buffer) -> &[T],
) -> &'static [T] {
    match c {
        std::borrow::Cow::Borrowed(s) => {
            // SAFETY: the caller's guarantee.
            unsafe { extend(s) }
        }
        std::borrow::Cow::Owned(v) => {
            keep.push(wrap(v));
            let last = keep.last().map(get).unwrap_or(&[]);
            // SAFETY: the vector lives in `keep`, owned by the handle, and is never changed.
            unsafe { extend(last) }
        }
    }
}

fn idx32(b: &Buffer) -> &[i32] {
    match b {
        Buffer::I32(v) => v,
        _ => &[],
    }
}

fn idx64(b: &Buffer) -> &[i64] {
    match b {
        Buffer::I64(v) => v,
        _ => &[],
    }
}

fn ones(b: &Buffer) -> &[f64] {
    match b {
        Buffer::F64(v) => v,
        _ => &[],
    }
}

/// Checks the view and makes the kernel's handle, without the GIL.
fn make<T: Scalar, I: Index>(
    id: KernelId,
    nrows: usize,
    ncols: usize,
    ptrs: &'static [I],
    cols: &'static [I],
    vals: &'static [T],
    strategy: Strategy,
) -> PyResult<KHandle<T, I>> {
    let view = CsrRef::try_from_parts(nrows, ncols, ptrs, cols, vals).map_err(to_py)?;
    let k = kernel::kernel_for::<T, I>(id).map_err(to_py)?;
    if id == KernelId::Mkl && strategy != Strategy::Automatic {
        // A one-shot handle (`CSR.mult_vec`, `multiply`: a named strategy): MKL's SpMV hint
        // makes `mkl_sparse_optimize` analyse the matrix for many products, which costs
        // several products' worth for the one this handle serves.
        let once = MklKernel::new().with_expected_mv_calls(0);
        return Kernel::<T, I>::to_handle(&once, view).map_err(to_py);
    }
    k.to_handle(view.with_strategy(strategy)).map_err(to_py)
}

/// The `Typed` variants of float64 and float32 values over indices `I`.
type Wraps<I> = (fn(KHandle<f64, I>) -> Typed, fn(KHandle<f32, I>) -> Typed);

/// Makes the typed handle over `'static` index slices and `vals` (a pattern gets ones,
/// kept in `keep`).
#[allow(clippy::too_many_arguments, reason = "the parts of one matrix")]
fn build<I: Index>(
    py: Python<'_>,
    id: KernelId,
    (nrows, ncols, nnz): (usize, usize, usize),
    r: &'static [I],
    c: &'static [I],
    vals: Vals<'_>,
    strategy: Strategy,
    keep: &mut Vec<Buffer>,
    (wrap64, wrap32): Wraps<I>,
) -> PyResult<Typed> {
    match vals {
        Vals::F64(v) => {
            // SAFETY: `v` is the numpy buffer of `values`, referenced and frozen read-only
            // by the handle's `frozen`, which is dropped after `inner`.
            let v = unsafe { extend(v) };
            compute(py, nnz + nrows, || {
                make(id, nrows, ncols, r, c, v, strategy)
            })
            .map(wrap64)
        }
        Vals::F32(v) => {
            // SAFETY: as for float64 values above.
            let v = unsafe { extend(v) };
            compute(py, nnz + nrows, || {
                make(id, nrows, ncols, r, c, v, strategy)
            })
            .map(wrap32)
        }
        Vals::Pattern => {
            keep.push(Buffer::F64(vec![1.0; nnz]));
            // SAFETY: the ones live in `keep`, owned by the handle, dropped after `inner`
            // and never changed; moving `keep` does not move a vector's buffer.
            let v = unsafe { extend(keep.last().map(ones).unwrap_or(&[])) };
            compute(py, nnz + nrows, || {
                make(id, nrows, ncols, r, c, v, strategy)
            })
            .map(wrap64)
        }
    }
}

/// Makes a handle of kernel `kernel` over a matrix's numpy arrays (borrowed, not copied;
/// read-only until the handle is released). The arrays are checked here, once: a bad one
/// raises `ValueError` naming the entry. `values=None` is a pattern matrix (ones).
#[pyfunction]
#[pyo3(signature = (kernel, nrows, ncols, rowptrs, colinds, values=None, strategy=None))]
#[allow(
    clippy::too_many_arguments,
    reason = "the CSR arrays, as Python passes them"
)]
pub(crate) fn to_handle(
    py: Python<'_>,
    kernel: &str,
    nrows: usize,
    ncols: usize,
    rowptrs: &Bound<'_, PyAny>,
    colinds: &Bound<'_, PyAny>,
    values: Option<&Bound<'_, PyAny>>,
    strategy: Option<&str>,
) -> PyResult<Handle> {
    let id: KernelId = kernel.parse().map_err(to_py)?;
    let strategy: Strategy = strategy.unwrap_or("automatic").parse().map_err(to_py)?;
    let arrays = MatrixArrays::extract(rowptrs, colinds, values)?;
    // Frozen before the check, so nothing can change between the check and the use.
    let (mut frozen, foreign) = Frozen::matrix(rowptrs, colinds, values)?;
    let structure = arrays.structure()?.copied_if(foreign);
    let vals = arrays.values()?;
    let nnz = match &structure {
        Structure::I32(_, c) => c.len(),
        Structure::I64(_, c) => c.len(),
    };
    if !matches!(vals, Vals::Pattern) {
        let len = match vals {
            Vals::F32(v) => v.len(),
            Vals::F64(v) => v.len(),
            Vals::Pattern => nnz,
        };
        if len != nnz {
            return Err(to_py(csr::Error::ValuesLength {
                col_idxs: nnz,
                values: len,
            }));
        }
    }
    let mut keep = Vec::new();
    let typed = match structure {
        Structure::I32(r, c) => {
            // SAFETY: a borrowed slice points into the numpy buffer of `rowptrs` or
            // `colinds`, which `frozen` references (so it stays allocated) and froze
            // read-only (so numpy refuses writes); an owned one moves into `keep`. Both are
            // fields of the handle, dropped after `inner`.
            let (r, c) = unsafe {
                (
                    pin(r, &mut keep, Buffer::I32, idx32),
                    pin(c, &mut keep, Buffer::I32, idx32),
                )
            };
            let shape = (nrows, ncols, nnz);
            let wrap = (Typed::F64I32 as fn(_) -> _, Typed::F32I32 as fn(_) -> _);
            build(py, id, shape, r, c, vals, strategy, &mut keep, wrap)
        }
        Structure::I64(r, c) => {
            // SAFETY: as for int32 indices above.
            let (r, c) = unsafe {
                (
                    pin(r, &mut keep, Buffer::I64, idx64),
                    pin(c, &mut keep, Buffer::I64, idx64),
                )
            };
            let shape = (nrows, ncols, nnz);
            let wrap = (Typed::F64I64 as fn(_) -> _, Typed::F32I64 as fn(_) -> _);
            build(py, id, shape, r, c, vals, strategy, &mut keep, wrap)
        }
    };
    let typed = match typed {
        Ok(t) => t,
        Err(e) => {
            frozen.thaw(py);
            return Err(e);
        }
    };
    Ok(Handle {
        kernel: id,
        nrows,
        ncols,
        nnz,
        inner: RwLock::new(Some(typed)),
        _buffers: keep,
        frozen: Mutex::new(frozen),
    })
}

impl Handle {
    /// A handle owning its matrix (a product).
    fn owned(kernel: KernelId, typed: Typed) -> Self {
        let (nrows, ncols, nnz) = on_typed!(&typed, |h| {
            let m = h.matrix();
            (m.nrows(), m.ncols(), m.nnz())
        });
        Handle {
            kernel,
            nrows,
            ncols,
            nnz,
            inner: RwLock::new(Some(typed)),
            _buffers: Vec::new(),
            frozen: Mutex::new(Frozen::default()),
        }
    }

    /// Runs `f` on the kernel handle without the GIL, after checking the arrays are intact.
    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Typed) -> PyResult<R> + Send,
    ) -> PyResult<R> {
        self.run(py, Placement::Pool, f)
    }

    /// What `test` says of the kernel handle (`R::default()` once released), holding it
    /// meanwhile.
    fn holds<R: Default>(&self, test: impl FnOnce(&Typed) -> R) -> R {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or_else(R::default, test)
    }

    /// [`with`](Self::with), where `placement` says: on the calling thread (work the
    /// library runs with no rayon call), on it with the pool's workers helping
    /// ([`joined`]), or as [`compute`] places work of the handle's size.
    fn run<R: Send>(
        &self,
        py: Python<'_>,
        placement: Placement,
        f: impl FnOnce(&Typed) -> PyResult<R> + Send,
    ) -> PyResult<R> {
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(py)?;
        let with_handle = || {
            let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
            match guard.as_ref() {
                Some(t) => f(t),
                None => Err(released()),
            }
        };
        match placement {
            Placement::CallingThread => on_calling_thread(py, with_handle),
            Placement::Joined => joined(py, with_handle),
            Placement::Pool => compute(py, self.nnz + self.nrows, with_handle),
        }
    }

    fn kernel_of<T: Scalar, I: Index>(&self) -> PyResult<&'static dyn Kernel<T, I>> {
        kernel::kernel_for::<T, I>(self.kernel).map_err(to_py)
    }
}

/// The options of a top-k product as Python passes them.
#[derive(Clone, Copy)]
struct TopKArgs {
    k: usize,
    threshold: Option<f64>,
    exclude_diagonal: bool,
    sort: bool,
}

impl TopKArgs {
    /// The library's options in the real type `R` of the values (the threshold rounded
    /// to it).
    fn options<R: Scalar>(&self) -> TopK<R> {
        let opts = TopK::new(self.k)
            .exclude_diagonal(self.exclude_diagonal)
            .order(if self.sort {
                TopKOrder::ByValueDescending
            } else {
                TopKOrder::ByColumn
            });
        match self.threshold {
            Some(t) => opts.threshold(R::from_re_im(t, 0.0)),
            None => opts,
        }
    }
}

fn released() -> PyErr {
    PyValueError::new_err("this handle was released")
}

fn mult_vec_t<T: Scalar + numpy::Element, I: Index>(
    py: Python<'_>,
    k: &'static dyn Kernel<T, I>,
    owner: &Handle,
    pick: fn(&Typed) -> Option<&KHandle<T, I>>,
    x: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let x = crate::arrays::vector::<T>(x)?;
    let xs = crate::arrays::slice_of("x", &x)?;
    let placement = owner.holds(|t| match pick(t) {
        Some(h) if h.spmv_runs_serially() => Placement::CallingThread,
        // Row blocks only, and a `y` that `zeros` fills on one thread anyway.
        Some(h) if h.spmv_joins_caller() && h.shape().0 < PARALLEL_ZEROS => Placement::Joined,
        _ => Placement::Pool,
    });
    let y = owner.run(py, placement, |t| {
        let h = pick(t).ok_or_else(released)?;
        let mut y = crate::pool::zeros(h.shape().0);
        k.mult_vec(h, T::one(), xs, T::zero(), &mut y)
            .map_err(to_py)?;
        Ok(y)
    })?;
    Ok(PyArray1::from_vec(py, y).into_any().unbind())
}

fn mult_mat_t<T: Scalar + numpy::Element, I: Index>(
    py: Python<'_>,
    k: &'static dyn Kernel<T, I>,
    owner: &Handle,
    pick: fn(&Typed) -> Option<&KHandle<T, I>>,
    x: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let x = x.cast::<PyArray2<T>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "X must be a 2-D array of dtype {}",
            std::any::type_name::<T>()
        ))
    })?;
    let x: PyReadonlyArray2<'_, T> = x.try_readonly()?;
    let (xr, xc) = (x.shape()[0], x.shape()[1]);
    let xs = x.as_slice().map_err(|_| {
        PyValueError::new_err("X must be C-contiguous (use numpy.ascontiguousarray)")
    })?;
    let (y, nrows) = owner.with(py, |t| {
        let h = pick(t).ok_or_else(released)?;
        let xd = Dense::try_from_row_major(xr, xc, xs.to_vec()).map_err(to_py)?;
        let nrows = h.shape().0;
        let mut y = Dense::zeros(nrows, xc).map_err(to_py)?;
        k.mult_dense(h, T::one(), &xd, T::zero(), &mut y)
            .map_err(to_py)?;
        Ok((y.to_row_major_vec(), nrows))
    })?;
    Ok(PyArray1::from_vec(py, y)
        .reshape([nrows, xc])?
        .into_any()
        .unbind())
}

macro_rules! picker {
    ($name:ident, $variant:ident, $t:ty, $i:ty) => {
        fn $name(t: &Typed) -> Option<&KHandle<$t, $i>> {
            match t {
                Typed::$variant(h) => Some(h),
                _ => None,
            }
        }
    };
}
picker!(pick_f64_i32, F64I32, f64, i32);
picker!(pick_f64_i64, F64I64, f64, i64);
picker!(pick_f32_i32, F32I32, f32, i32);
picker!(pick_f32_i64, F32I64, f32, i64);

/// Which typed variant this handle holds (without the GIL lock dance: the variant never
/// changes while the handle lives).
#[derive(Clone, Copy)]
enum Kind {
    F64I32,
    F64I64,
    F32I32,
    F32I64,
}

impl Handle {
    fn kind(&self) -> PyResult<Kind> {
        let g = self.inner.read().unwrap_or_else(|e| e.into_inner());
        Ok(match g.as_ref().ok_or_else(released)? {
            Typed::F64I32(_) => Kind::F64I32,
            Typed::F64I64(_) => Kind::F64I64,
            Typed::F32I32(_) => Kind::F32I32,
            Typed::F32I64(_) => Kind::F32I64,
        })
    }

    /// `A·B` or `A·Bᵀ`, in full (its rows sorted by column if `sorted`, else in any order)
    /// or (with `topk`) its top entries per row.
    fn product(
        &self,
        py: Python<'_>,
        other: &Handle,
        (transpose, sorted): (bool, bool),
        topk: Option<TopKArgs>,
    ) -> PyResult<Handle> {
        if self.kernel != other.kernel {
            return Err(to_py(csr::Error::ForeignHandle {
                op: match (transpose, topk.is_some()) {
                    (false, false) => "mult_ab",
                    (true, false) => "mult_abt",
                    (false, true) => "mult_ab_topk",
                    (true, true) => "mult_abt_topk",
                },
                kernel: self.kernel.name(),
                handle_kernel: other.kernel.name(),
            }));
        }
        other
            .frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(py)?;
        let id = self.kernel;
        let same = std::ptr::eq(self, other);
        let typed = self.with(py, |a| {
            // A·A reads through the lock `with` holds: a second read lock on it could wait
            // behind a queued writer (a `release` from another thread) forever.
            let g = (!same).then(|| other.inner.read().unwrap_or_else(|e| e.into_inner()));
            let b = match &g {
                Some(g) => g.as_ref().ok_or_else(released)?,
                None => a,
            };
            macro_rules! prod {
                ($a:expr, $b:expr, $v:ident) => {{
                    let k = kernel::kernel_for(id).map_err(to_py)?;
                    let c = match (transpose, &topk) {
                        (false, None) if sorted => k.mult_ab($a, $b),
                        (true, None) if sorted => k.mult_abt($a, $b),
                        (false, None) => k.mult_ab_unsorted($a, $b),
                        (true, None) => k.mult_abt_unsorted($a, $b),
                        (false, Some(t)) => k.mult_ab_topk($a, $b, &t.options()),
                        (true, Some(t)) => k.mult_abt_topk($a, $b, &t.options()),
                    };
                    Ok(Typed::$v(c.map_err(to_py)?))
                }};
            }
            match (a, b) {
                (Typed::F64I32(a), Typed::F64I32(b)) => prod!(a, b, F64I32),
                (Typed::F64I64(a), Typed::F64I64(b)) => prod!(a, b, F64I64),
                (Typed::F32I32(a), Typed::F32I32(b)) => prod!(a, b, F32I32),
                (Typed::F32I64(a), Typed::F32I64(b)) => prod!(a, b, F32I64),
                (a, b) => Err(PyTypeError::new_err(format!(
                    "cannot multiply a handle of {} by one of {}",
                    a.types(),
                    b.types()
                ))),
            }
        })?;
        Ok(Handle::owned(id, typed))
    }
}

fn from_handle_t<T: Scalar + OutValues, I: Index + numpy::Element>(
    py: Python<'_>,
    k: &'static dyn Kernel<T, I>,
    owner: &Handle,
    pick: fn(&Typed) -> Option<&KHandle<T, I>>,
    drop_zeros: bool,
) -> PyResult<Parts> {
    let a = owner.with(py, |t| {
        let h = pick(t).ok_or_else(released)?;
        let mut a = k.from_handle(h).map_err(to_py)?;
        if drop_zeros && !h.is_known_zero_free() {
            a.eliminate_zeros();
        }
        Ok(a)
    })?;
    Ok(parts(py, a))
}

/// Moves the matrix out of `h` (no copy for a product, which owns its matrix), without the
/// GIL; `drop_zeros` removes stored zeros (no scan where the product saw none).
fn take_t<T: Scalar + OutValues, I: Index + numpy::Element>(
    py: Python<'_>,
    h: KHandle<T, I>,
    drop_zeros: bool,
) -> PyResult<Parts> {
    let (nrows, _) = h.shape();
    let work = h.matrix().nnz() + nrows;
    let drop_zeros = drop_zeros && !h.is_known_zero_free();
    let a = compute(py, work, || {
        let mut a = h.into_csr();
        if drop_zeros {
            a.eliminate_zeros();
        }
        Ok(a)
    })?;
    Ok(parts(py, a))
}

#[pymethods]
impl Handle {
    /// The kernel that made the handle (`"native"`, `"mkl"`).
    #[getter]
    fn kernel(&self) -> &'static str {
        self.kernel.name()
    }

    /// `(nrows, ncols)`.
    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }

    /// Number of stored entries.
    #[getter]
    fn nnz(&self) -> usize {
        self.nnz
    }

    /// The numpy dtype name of the handle's values (`"float64"` or `"float32"`).
    #[getter]
    fn dtype(&self) -> PyResult<&'static str> {
        Ok(match self.kind()? {
            Kind::F64I32 | Kind::F64I64 => "float64",
            Kind::F32I32 | Kind::F32I64 => "float32",
        })
    }

    /// The SpMV strategy the handle runs (what `automatic` picked), or `None` for a kernel
    /// without strategies.
    #[getter]
    fn strategy(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |t| {
            Ok(on_typed!(t, |h| h.strategy().map(|s| s.name().to_owned())))
        })
    }

    /// Why the handle runs its strategy: `"requested"`, or `automatic`'s reason.
    #[getter]
    fn strategy_reason(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |t| {
            Ok(on_typed!(t, |h| h.strategy_reason().map(str::to_owned)))
        })
    }

    /// `A·x` for a 1-D array `x` of the handle's value dtype.
    fn mult_vec(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match self.kind()? {
            Kind::F64I32 => mult_vec_t(py, self.kernel_of()?, self, pick_f64_i32, x),
            Kind::F64I64 => mult_vec_t(py, self.kernel_of()?, self, pick_f64_i64, x),
            Kind::F32I32 => mult_vec_t(py, self.kernel_of()?, self, pick_f32_i32, x),
            Kind::F32I64 => mult_vec_t(py, self.kernel_of()?, self, pick_f32_i64, x),
        }
    }

    /// `A·X` for a C-contiguous 2-D array `X` (`ncols × k`) of the handle's value dtype.
    fn mult_mat(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match self.kind()? {
            Kind::F64I32 => mult_mat_t(py, self.kernel_of()?, self, pick_f64_i32, x),
            Kind::F64I64 => mult_mat_t(py, self.kernel_of()?, self, pick_f64_i64, x),
            Kind::F32I32 => mult_mat_t(py, self.kernel_of()?, self, pick_f32_i32, x),
            Kind::F32I64 => mult_mat_t(py, self.kernel_of()?, self, pick_f32_i64, x),
        }
    }

    /// `A·B` as a new handle, its rows sorted by column (with `order_columns=False`, in
    /// whatever order the kernel found them: faster where rows would need sorting).
    #[pyo3(signature = (other, order_columns=true))]
    fn mult_ab(&self, py: Python<'_>, other: &Handle, order_columns: bool) -> PyResult<Handle> {
        self.product(py, other, (false, order_columns), None)
    }

    /// `A·Bᵀ` as a new handle (`B` is not transposed by the caller); `order_columns` as
    /// for `mult_ab`.
    #[pyo3(signature = (other, order_columns=true))]
    fn mult_abt(&self, py: Python<'_>, other: &Handle, order_columns: bool) -> PyResult<Handle> {
        self.product(py, other, (true, order_columns), None)
    }

    /// The top `k` entries of each row of `A·B` as a new handle (see `TopK` in the
    /// library: largest values, ties to the lower column, NaN never kept); `threshold`
    /// keeps values `>=` it (compared in the handle's value type), `exclude_diagonal`
    /// drops `(i, i)` before selecting, `sort` orders each row by value descending
    /// instead of by column.
    #[pyo3(signature = (other, k, threshold=None, exclude_diagonal=false, sort=false))]
    fn mult_ab_topk(
        &self,
        py: Python<'_>,
        other: &Handle,
        k: usize,
        threshold: Option<f64>,
        exclude_diagonal: bool,
        sort: bool,
    ) -> PyResult<Handle> {
        let args = TopKArgs {
            k,
            threshold,
            exclude_diagonal,
            sort,
        };
        self.product(py, other, (false, true), Some(args))
    }

    /// [`mult_ab_topk`](Self::mult_ab_topk) for `A·Bᵀ` (`B` is not transposed by the
    /// caller).
    #[pyo3(signature = (other, k, threshold=None, exclude_diagonal=false, sort=false))]
    fn mult_abt_topk(
        &self,
        py: Python<'_>,
        other: &Handle,
        k: usize,
        threshold: Option<f64>,
        exclude_diagonal: bool,
        sort: bool,
    ) -> PyResult<Handle> {
        let args = TopKArgs {
            k,
            threshold,
            exclude_diagonal,
            sort,
        };
        self.product(py, other, (true, true), Some(args))
    }

    /// Sorts each row by column. A borrowed matrix is copied first: the `CSR`'s arrays are
    /// never written.
    fn order_columns(&self, py: Python<'_>) -> PyResult<()> {
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(py)?;
        let id = self.kernel;
        compute(py, self.nnz + self.nrows, || {
            let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
            let t = guard.as_mut().ok_or_else(released)?;
            on_typed!(t, |h| kernel::kernel_for(id)
                .map_err(to_py)?
                .order_columns(h)
                .map_err(to_py))
        })
    }

    /// The handle's matrix as `(nrows, ncols, rowptrs, colinds, values)` (copied out);
    /// `drop_zeros` removes stored zeros (cancellations in a product).
    #[pyo3(signature = (drop_zeros=false))]
    fn to_arrays(&self, py: Python<'_>, drop_zeros: bool) -> PyResult<Parts> {
        match self.kind()? {
            Kind::F64I32 => from_handle_t(py, self.kernel_of()?, self, pick_f64_i32, drop_zeros),
            Kind::F64I64 => from_handle_t(py, self.kernel_of()?, self, pick_f64_i64, drop_zeros),
            Kind::F32I32 => from_handle_t(py, self.kernel_of()?, self, pick_f32_i32, drop_zeros),
            Kind::F32I64 => from_handle_t(py, self.kernel_of()?, self, pick_f32_i64, drop_zeros),
        }
    }

    /// The handle's matrix as `to_arrays` gives it, moved out rather than copied (a
    /// product's arrays become the result's), releasing the handle.
    #[pyo3(signature = (drop_zeros=false))]
    fn take_arrays(&self, py: Python<'_>, drop_zeros: bool) -> PyResult<Parts> {
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(py)?;
        // Waits for calls running on other threads, as `release` does.
        let typed = py.detach(|| self.inner.write().unwrap_or_else(|e| e.into_inner()).take());
        let out = match typed.ok_or_else(released)? {
            Typed::F64I32(h) => take_t(py, h, drop_zeros),
            Typed::F64I64(h) => take_t(py, h, drop_zeros),
            Typed::F32I32(h) => take_t(py, h, drop_zeros),
            Typed::F32I64(h) => take_t(py, h, drop_zeros),
        };
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .thaw(py);
        out
    }

    /// Releases the handle now: frees what the kernel holds and makes the arrays writeable
    /// again. Later calls raise `ValueError`; releasing twice does nothing.
    fn release(&self, py: Python<'_>) {
        let old = py.detach(|| self.inner.write().unwrap_or_else(|e| e.into_inner()).take());
        py.detach(move || drop(old));
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .thaw(py);
    }

    /// Whether the handle was released.
    #[getter]
    fn released(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    fn __repr__(&self) -> String {
        format!(
            "<csr handle ({}) {}x{} ({} nnz)>",
            self.kernel.name(),
            self.nrows,
            self.ncols,
            self.nnz
        )
    }
}
