//! Whole-matrix operations on a `CSR`'s arrays: assembly from COO, transpose, row sorting,
//! row normalisation. Each checks the arrays it reads, then runs without the GIL.

use std::mem::MaybeUninit;

use numpy::{PyArray1, PyArrayMethods, PyReadwriteArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use csr::kernel::NativeKernel;
use csr::{Csr, CsrRef, Duplicates, Element, Index, Normalize};

use crate::arrays::{
    IdxArray, MatrixArrays, Parts, Structure, ValArray, Vals, parts, slice_of, vector, with_typed,
};
use crate::errors::to_py;
use crate::freeze::Frozen;
use crate::pool::{compute, joined, on_calling_thread};

/// Assembles a matrix from COO arrays by a stable counting sort by row: within a row the
/// input order is kept, duplicates are kept (LensKit's rule). `rows` and `cols` share one
/// integer dtype; `vals=None` gives a pattern matrix.
#[pyfunction]
#[pyo3(signature = (nrows, ncols, rows, cols, vals=None))]
pub(crate) fn from_coo(
    py: Python<'_>,
    nrows: usize,
    ncols: usize,
    rows: &Bound<'_, PyAny>,
    cols: &Bound<'_, PyAny>,
    vals: Option<&Bound<'_, PyAny>>,
) -> PyResult<Parts> {
    let r = IdxArray::extract("rows", rows)?;
    let c = IdxArray::extract("cols", cols)?;
    let v = ValArray::extract("vals", vals)?;
    // Read-only while the call runs without the GIL (see `freeze`).
    let (_frozen, foreign) = Frozen::matrix(rows, cols, vals)?;
    let (r, c, v) = (r.slice("rows")?, c.slice("cols")?, v.slice("vals")?);
    let st = match (r, c) {
        (crate::arrays::Idx::I32(r), crate::arrays::Idx::I32(c)) => {
            crate::arrays::Structure::I32(r.into(), c.into())
        }
        (crate::arrays::Idx::I64(r), crate::arrays::Idx::I64(c)) => {
            crate::arrays::Structure::I64(r.into(), c.into())
        }
        _ => {
            return Err(PyTypeError::new_err(
                "rows and cols must have the same integer dtype",
            ));
        }
    }
    .copied_if(foreign);
    with_typed!(st, v, |rs, cs, vs| {
        let a = compute(py, rs.len() + nrows, || {
            Csr::try_from_coo(nrows, ncols, rs, cs, vs, Duplicates::Keep).map_err(to_py)
        })?;
        Ok(parts(py, a))
    })
}

/// `A·x` in one call of the native kernel, the arrays checked as they are read
/// (`NativeKernel::mult_vec_parts`: no handle, no plan).
/// `values` and `x` share one float dtype.
#[pyfunction]
pub(crate) fn mult_vec_once(
    py: Python<'_>,
    nrows: usize,
    ncols: usize,
    rowptrs: &Bound<'_, PyAny>,
    colinds: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let arrays = MatrixArrays::extract(rowptrs, colinds, Some(values))?;
    let (_frozen, foreign) = Frozen::matrix(rowptrs, colinds, Some(values))?;
    let st = arrays.structure()?.copied_if(foreign);
    match (st, arrays.values()?) {
        (Structure::I32(r, c), Vals::F64(v)) => spmv_once(py, (nrows, ncols), (&r, &c, v), x),
        (Structure::I64(r, c), Vals::F64(v)) => spmv_once(py, (nrows, ncols), (&r, &c, v), x),
        (Structure::I32(r, c), Vals::F32(v)) => spmv_once(py, (nrows, ncols), (&r, &c, v), x),
        (Structure::I64(r, c), Vals::F32(v)) => spmv_once(py, (nrows, ncols), (&r, &c, v), x),
        (_, Vals::Pattern) => Err(PyTypeError::new_err("values must not be None")),
    }
}

fn spmv_once<T: csr::Scalar + numpy::Element, I: Index>(
    py: Python<'_>,
    (nrows, ncols): (usize, usize),
    (r, c, v): (&[I], &[I], &[T]),
    x: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let x = vector::<T>(x)?;
    let xs = slice_of("x", &x)?;
    // `y` comes from numpy, as scipy's does (a large one advised to use huge pages), sized
    // by nrows only where nrows + 1 row pointers back it; otherwise it is empty and the
    // product reports the arrays' error.
    let len = NativeKernel::one_call_output_len(nrows, r.len());
    // SAFETY: a new C-contiguous array of `len` elements that nothing else refers to; its
    // slots are handed to the product as uninitialised, and the array reaches Python only
    // once the product has written every one of them.
    let y = unsafe { PyArray1::<T>::new(py, [len], false) };
    let slots: &mut [MaybeUninit<T>] = if len == 0 {
        // numpy's data pointer of an empty array need not suit a Rust slice.
        &mut []
    } else {
        // SAFETY: as above; `len > 0` elements of T at numpy's (aligned, non-null) data
        // pointer; `y` outlives `slots`, and nothing else touches its buffer meanwhile.
        unsafe { std::slice::from_raw_parts_mut(y.data().cast::<MaybeUninit<T>>(), len) }
    };
    let product =
        || NativeKernel::mult_vec_parts_uninit(nrows, ncols, (r, c, v), xs, slots).map_err(to_py);
    if NativeKernel::one_call_runs_serially(nrows, c.len()) {
        on_calling_thread(py, product)?;
    } else if NativeKernel::one_call_joins_caller(nrows) {
        joined(py, product)?;
    } else {
        compute(py, c.len() + nrows, product)?;
    }
    Ok(y.into_any().unbind())
}

/// Checks a matrix's arrays (`ValueError` naming the first bad entry).
fn view<'a, T: Element, I: Index>(
    nrows: usize,
    ncols: usize,
    rp: &'a [I],
    ci: &'a [I],
    v: &'a [T],
) -> PyResult<CsrRef<'a, T, I>> {
    CsrRef::try_from_parts(nrows, ncols, rp, ci, v).map_err(to_py)
}

/// The transpose (rows sorted by column; a pattern stays a pattern), the columns checked by
/// the counting pass that reads them (`Csr::try_transpose_parts`).
#[pyfunction]
#[pyo3(signature = (nrows, ncols, rowptrs, colinds, values=None))]
pub(crate) fn transpose(
    py: Python<'_>,
    nrows: usize,
    ncols: usize,
    rowptrs: &Bound<'_, PyAny>,
    colinds: &Bound<'_, PyAny>,
    values: Option<&Bound<'_, PyAny>>,
) -> PyResult<Parts> {
    let arrays = MatrixArrays::extract(rowptrs, colinds, values)?;
    let (_frozen, foreign) = Frozen::matrix(rowptrs, colinds, values)?;
    let st = arrays.structure()?.copied_if(foreign);
    with_typed!(st, arrays.values()?, |r, c, v| {
        let t = compute(py, c.len() + nrows + ncols, || {
            Csr::try_transpose_parts(nrows, ncols, r, c, v).map_err(to_py)
        })?;
        Ok(parts(py, t))
    })
}

/// Copies `src` into a writeable numpy array of the same length and integer type.
fn write_back<I: Index + numpy::Element>(
    name: &str,
    dst: &Bound<'_, PyAny>,
    src: &[I],
) -> PyResult<()> {
    let dst = dst.cast::<PyArray1<I>>().map_err(|_| {
        PyValueError::new_err(format!(
            "{name}: cannot sort rows whose row pointers need wider integers than the column \
             indices (more than 2^31 - 1 entries with int32 column indices)"
        ))
    })?;
    let mut w: PyReadwriteArray1<'_, I> = dst.try_readwrite()?;
    w.as_slice_mut()
        .map_err(|_| PyValueError::new_err(format!("{name} must be C-contiguous")))?
        .copy_from_slice(src);
    Ok(())
}

/// Sorts every row by column index in place (values move along; `colinds` and `values`
/// must be writeable).
#[pyfunction]
#[pyo3(signature = (nrows, ncols, rowptrs, colinds, values=None))]
pub(crate) fn sort_rows(
    py: Python<'_>,
    nrows: usize,
    ncols: usize,
    rowptrs: &Bound<'_, PyAny>,
    colinds: &Bound<'_, PyAny>,
    values: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    for (name, a) in [("colinds", Some(colinds)), ("values", values)] {
        if let Some(a) = a.filter(|a| !a.is_none())
            && !a
                .getattr("flags")?
                .getattr("writeable")?
                .extract::<bool>()?
        {
            return Err(PyValueError::new_err(format!(
                "{name} is read-only (is a kernel handle holding it?)"
            )));
        }
    }
    let sorted = {
        let arrays = MatrixArrays::extract(rowptrs, colinds, values)?;
        // Read-only while the sorted copy is made; writeable again to write it back.
        let (_frozen, foreign) = Frozen::matrix(rowptrs, colinds, values)?;
        let st = arrays.structure()?.copied_if(foreign);
        with_typed!(st, arrays.values()?, |r, c, v| {
            let a = compute(py, c.len() + nrows, || {
                let mut a = view(nrows, ncols, r, c, v)?.to_csr();
                a.sort_by_column_index();
                Ok(a)
            })?;
            Sorted::from(a)
        })
    };
    sorted.write(colinds, values)
}

/// A sorted copy, by type, to copy back into the caller's arrays.
enum Sorted {
    I32(Vec<i32>, Option<Values>),
    I64(Vec<i64>, Option<Values>),
}

enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

trait IntoValues: Element {
    fn into_values(v: Vec<Self>) -> Option<Values>;
}
impl IntoValues for f32 {
    fn into_values(v: Vec<Self>) -> Option<Values> {
        Some(Values::F32(v))
    }
}
impl IntoValues for f64 {
    fn into_values(v: Vec<Self>) -> Option<Values> {
        Some(Values::F64(v))
    }
}
impl IntoValues for () {
    fn into_values(_: Vec<Self>) -> Option<Values> {
        None
    }
}

trait IntoSorted: Index {
    fn into_sorted(c: Vec<Self>, v: Option<Values>) -> Sorted;
}
impl IntoSorted for i32 {
    fn into_sorted(c: Vec<Self>, v: Option<Values>) -> Sorted {
        Sorted::I32(c, v)
    }
}
impl IntoSorted for i64 {
    fn into_sorted(c: Vec<Self>, v: Option<Values>) -> Sorted {
        Sorted::I64(c, v)
    }
}

impl Sorted {
    fn from<T: IntoValues, I: IntoSorted>(a: Csr<T, I>) -> Self {
        let (_, _, _, c, v) = a.into_parts();
        I::into_sorted(c, T::into_values(v))
    }

    fn write(self, colinds: &Bound<'_, PyAny>, values: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let v = match self {
            Sorted::I32(c, v) => {
                write_back("colinds", colinds, &c)?;
                v
            }
            Sorted::I64(c, v) => {
                write_back("colinds", colinds, &c)?;
                v
            }
        };
        match (v, values) {
            (Some(Values::F64(v)), Some(dst)) => write_values(dst, &v),
            (Some(Values::F32(v)), Some(dst)) => write_values(dst, &v),
            _ => Ok(()),
        }
    }
}

fn write_values<T: numpy::Element + Copy>(dst: &Bound<'_, PyAny>, src: &[T]) -> PyResult<()> {
    let dst = dst.cast::<PyArray1<T>>()?;
    let mut w = dst.try_readwrite()?;
    w.as_slice_mut()
        .map_err(|_| PyValueError::new_err("values must be C-contiguous"))?
        .copy_from_slice(src);
    Ok(())
}

/// Normalises each row's stored values in place and returns the per-row statistic (means
/// for `center`, L2 norms for `unit`), in the values' dtype; empty rows give 0. The work is
/// the library's [`csr::normalize_rows`] (subnormal-safe unit norm; an all-zero row gives
/// NaN values and norm 0).
#[pyfunction]
pub(crate) fn normalize_rows(
    py: Python<'_>,
    nrows: usize,
    ncols: usize,
    rowptrs: &Bound<'_, PyAny>,
    colinds: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    mode: &str,
) -> PyResult<Py<PyAny>> {
    let mode = match mode {
        "center" => Normalize::Center,
        "unit" => Normalize::Unit,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown normalization mode {other:?}; known modes: center, unit"
            )));
        }
    };
    // Structure checked first (with a pattern view: the values are not read yet).
    // The row pointers are copied (as `usize`): the loop over the values depends on
    // nothing Python could change. The check reads frozen arrays.
    let arrays = MatrixArrays::extract(rowptrs, colinds, None)?;
    let (frozen, foreign) = Frozen::matrix(rowptrs, colinds, None)?;
    let st = arrays.structure()?.copied_if(foreign);
    let ptrs: Vec<usize> = with_typed!(st, arrays.values()?, |r, c, v| {
        compute(py, c.len() + nrows, || {
            let a = view(nrows, ncols, r, c, v)?;
            Ok(a.row_ptrs().iter().map(|p| p.to_usize()).collect())
        })?
    });
    drop(frozen);
    if let Ok(a) = values.cast::<PyArray1<f64>>() {
        return normalize_values(py, &ptrs, a, mode);
    }
    if let Ok(a) = values.cast::<PyArray1<f32>>() {
        return normalize_values(py, &ptrs, a, mode);
    }
    Err(PyTypeError::new_err(
        "values must be a 1-D array of dtype float32 or float64",
    ))
}

/// Runs [`csr::normalize_rows`] on a writeable numpy array, without the GIL.
fn normalize_values<T: csr::Scalar + numpy::Element>(
    py: Python<'_>,
    ptrs: &[usize],
    values: &Bound<'_, PyArray1<T>>,
    mode: Normalize,
) -> PyResult<Py<PyAny>> {
    let mut w = values.try_readwrite()?;
    let vs = w
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("values must be C-contiguous"))?;
    if vs.len() != ptrs[ptrs.len() - 1] {
        return Err(to_py(csr::Error::ValuesLength {
            col_idxs: ptrs[ptrs.len() - 1],
            values: vs.len(),
        }));
    }
    let out = compute(py, vs.len() + ptrs.len(), || {
        csr::normalize_rows(ptrs, vs, mode).map_err(to_py)
    })?;
    Ok(PyArray1::from_vec(py, out).into_any().unbind())
}
