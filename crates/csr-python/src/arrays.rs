//! Typed views of numpy arrays: index and value arrays checked for dtype, shape and
//! contiguity, index arrays brought to one integer type, and results handed back as arrays.

use std::borrow::Cow;

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use csr::{Csr, Index};

/// A borrowed index array (`rowptrs`, `colinds`, COO rows or columns).
#[derive(Clone, Copy)]
pub(crate) enum Idx<'a> {
    I32(&'a [i32]),
    I64(&'a [i64]),
}

/// A borrowed value array, or none (a pattern matrix, whose entries are all one).
#[derive(Clone, Copy)]
pub(crate) enum Vals<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    Pattern,
}

/// The read guard of `x`, a 1-D array of dtype `T` (else `TypeError`).
pub(crate) fn vector<'py, T: numpy::Element>(
    x: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    let x = x.cast::<PyArray1<T>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "x must be a 1-D array of dtype {}",
            std::any::type_name::<T>()
        ))
    })?;
    Ok(x.try_readonly()?)
}

/// The read guard of an index array of either integer type.
pub(crate) enum IdxArray<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
}

/// The read guard of a value array, or `None` for a pattern matrix.
pub(crate) enum ValArray<'py> {
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
    Pattern,
}

/// `TypeError` unless `obj` is a 1-D numpy array.
fn one_d<'py>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<()> {
    let ndim: usize = obj
        .getattr("ndim")
        .and_then(|n| n.extract())
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a numpy array")))?;
    if ndim != 1 {
        return Err(PyValueError::new_err(format!(
            "{name} must be 1-dimensional, not {ndim}-dimensional"
        )));
    }
    Ok(())
}

fn dtype_name(obj: &Bound<'_, PyAny>) -> String {
    obj.getattr("dtype")
        .and_then(|d| d.str())
        .map(|s| s.to_string())
        .unwrap_or_else(|_| String::from("?"))
}

/// The slice of a contiguous array, else a `ValueError` naming it.
pub(crate) fn slice_of<'a, T: numpy::Element>(
    name: &str,
    a: &'a PyReadonlyArray1<'_, T>,
) -> PyResult<&'a [T]> {
    a.as_slice().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be C-contiguous (use numpy.ascontiguousarray)"
        ))
    })
}

impl<'py> IdxArray<'py> {
    /// Reads `obj`, a 1-D int32 or int64 array.
    pub(crate) fn extract(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        one_d(name, obj)?;
        if let Ok(a) = obj.cast::<PyArray1<i32>>() {
            return Ok(IdxArray::I32(a.try_readonly()?));
        }
        if let Ok(a) = obj.cast::<PyArray1<i64>>() {
            return Ok(IdxArray::I64(a.try_readonly()?));
        }
        Err(PyTypeError::new_err(format!(
            "{name} must have dtype int32 or int64, not {}",
            dtype_name(obj)
        )))
    }

    /// The borrowed slice (`ValueError` if not contiguous).
    pub(crate) fn slice(&self, name: &str) -> PyResult<Idx<'_>> {
        Ok(match self {
            IdxArray::I32(a) => Idx::I32(slice_of(name, a)?),
            IdxArray::I64(a) => Idx::I64(slice_of(name, a)?),
        })
    }
}

impl<'py> ValArray<'py> {
    /// Reads `obj`: `None`, or a 1-D float32 or float64 array.
    pub(crate) fn extract(name: &str, obj: Option<&Bound<'py, PyAny>>) -> PyResult<Self> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(ValArray::Pattern);
        };
        one_d(name, obj)?;
        if let Ok(a) = obj.cast::<PyArray1<f64>>() {
            return Ok(ValArray::F64(a.try_readonly()?));
        }
        if let Ok(a) = obj.cast::<PyArray1<f32>>() {
            return Ok(ValArray::F32(a.try_readonly()?));
        }
        Err(PyTypeError::new_err(format!(
            "{name} must have dtype float32 or float64, not {}",
            dtype_name(obj)
        )))
    }

    /// The borrowed slice (`ValueError` if not contiguous).
    pub(crate) fn slice(&self, name: &str) -> PyResult<Vals<'_>> {
        Ok(match self {
            ValArray::F32(a) => Vals::F32(slice_of(name, a)?),
            ValArray::F64(a) => Vals::F64(slice_of(name, a)?),
            ValArray::Pattern => Vals::Pattern,
        })
    }
}

/// The read guards of a matrix's three arrays, as the Python side passes them.
pub(crate) struct MatrixArrays<'py> {
    rowptrs: IdxArray<'py>,
    colinds: IdxArray<'py>,
    values: ValArray<'py>,
}

impl<'py> MatrixArrays<'py> {
    /// Reads `rowptrs`, `colinds` and `values` (`None`: a pattern matrix).
    pub(crate) fn extract(
        rowptrs: &Bound<'py, PyAny>,
        colinds: &Bound<'py, PyAny>,
        values: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Self {
            rowptrs: IdxArray::extract("rowptrs", rowptrs)?,
            colinds: IdxArray::extract("colinds", colinds)?,
            values: ValArray::extract("values", values)?,
        })
    }

    /// Row pointers and column indices brought to one integer type ([`unify`]).
    pub(crate) fn structure(&self) -> PyResult<Structure<'_>> {
        unify(
            self.rowptrs.slice("rowptrs")?,
            self.colinds.slice("colinds")?,
        )
    }

    /// The values.
    pub(crate) fn values(&self) -> PyResult<Vals<'_>> {
        self.values.slice("values")
    }
}

/// Row pointers and column indices of one integer type, borrowed where the arrays share
/// one, else converted.
pub(crate) enum Structure<'a> {
    I32(Cow<'a, [i32]>, Cow<'a, [i32]>),
    I64(Cow<'a, [i64]>, Cow<'a, [i64]>),
}

impl<'a> Structure<'a> {
    /// The same arrays, copied when `copy` is set (memory that may change under us).
    pub(crate) fn copied_if(self, copy: bool) -> Structure<'a> {
        fn own<'a, T: Clone>(c: Cow<'a, [T]>) -> Cow<'a, [T]> {
            Cow::Owned(c.into_owned())
        }
        match (self, copy) {
            (Structure::I32(r, c), true) => Structure::I32(own(r), own(c)),
            (Structure::I64(r, c), true) => Structure::I64(own(r), own(c)),
            (st, false) => st,
        }
    }
}

/// Brings `rowptrs` and `colinds` to one integer type, copying as little as possible:
/// int64 row pointers over int32 columns are narrowed (O(nrows)) when nnz fits int32 (a
/// pointer that does not fit is past nnz: `ValueError` naming it), else the columns are
/// widened (O(nnz), only past 2³¹ − 1 entries); int32 row pointers over int64 columns are
/// widened.
pub(crate) fn unify<'a>(rowptrs: Idx<'a>, colinds: Idx<'a>) -> PyResult<Structure<'a>> {
    Ok(match (rowptrs, colinds) {
        (Idx::I32(r), Idx::I32(c)) => Structure::I32(Cow::Borrowed(r), Cow::Borrowed(c)),
        (Idx::I64(r), Idx::I64(c)) => Structure::I64(Cow::Borrowed(r), Cow::Borrowed(c)),
        (Idx::I32(r), Idx::I64(c)) => Structure::I64(Cow::Owned(widen(r)), Cow::Borrowed(c)),
        (Idx::I64(r), Idx::I32(c)) if i32::try_from(c.len()).is_ok() => {
            let narrow = r
                .iter()
                .enumerate()
                .map(|(k, &p)| {
                    i32::try_from(p).map_err(|_| {
                        PyValueError::new_err(format!(
                            "row pointer {k} is {p}, past the {} stored entries",
                            c.len()
                        ))
                    })
                })
                .collect::<PyResult<Vec<i32>>>()?;
            Structure::I32(Cow::Owned(narrow), Cow::Borrowed(c))
        }
        (Idx::I64(r), Idx::I32(c)) => Structure::I64(Cow::Borrowed(r), Cow::Owned(widen(c))),
    })
}

fn widen(s: &[i32]) -> Vec<i64> {
    s.iter().map(|&v| i64::from(v)).collect()
}

/// A value type the bindings hand back to Python: an array, or `None` for patterns.
pub(crate) trait OutValues: csr::Element {
    /// The values as a numpy array (moved, not copied), or `None`.
    fn into_py(py: Python<'_>, v: Vec<Self>) -> Py<PyAny>;
}

impl OutValues for f64 {
    fn into_py(py: Python<'_>, v: Vec<Self>) -> Py<PyAny> {
        PyArray1::from_vec(py, v).into_any().unbind()
    }
}

impl OutValues for f32 {
    fn into_py(py: Python<'_>, v: Vec<Self>) -> Py<PyAny> {
        PyArray1::from_vec(py, v).into_any().unbind()
    }
}

impl OutValues for () {
    fn into_py(py: Python<'_>, _: Vec<Self>) -> Py<PyAny> {
        py.None()
    }
}

/// A matrix as Python sees it: `(nrows, ncols, rowptrs, colinds, values or None)`.
pub(crate) type Parts = (usize, usize, Py<PyAny>, Py<PyAny>, Py<PyAny>);

/// Moves a matrix's arrays into numpy arrays (no copy).
pub(crate) fn parts<T: OutValues, I: Index + numpy::Element>(
    py: Python<'_>,
    a: Csr<T, I>,
) -> Parts {
    let (nrows, ncols, ptrs, cols, vals) = a.into_parts();
    (
        nrows,
        ncols,
        PyArray1::from_vec(py, ptrs).into_any().unbind(),
        PyArray1::from_vec(py, cols).into_any().unbind(),
        T::into_py(py, vals),
    )
}

/// Runs `$body` with `$rp`, `$ci` (index slices of one type) and `$v` (value slice, `()`
/// for a pattern) bound to concrete types: one expansion per (index, value) type pair.
macro_rules! with_typed {
    ($st:expr, $vals:expr, |$rp:ident, $ci:ident, $v:ident| $body:expr) => {{
        use $crate::arrays::{Structure, Vals};
        match ($st, $vals) {
            (Structure::I32(r, c), Vals::F64(v)) => {
                let ($rp, $ci, $v) = (&r[..], &c[..], v);
                $body
            }
            (Structure::I32(r, c), Vals::F32(v)) => {
                let ($rp, $ci, $v) = (&r[..], &c[..], v);
                $body
            }
            (Structure::I32(r, c), Vals::Pattern) => {
                let unit = vec![(); c.len()];
                let ($rp, $ci, $v) = (&r[..], &c[..], &unit[..]);
                $body
            }
            (Structure::I64(r, c), Vals::F64(v)) => {
                let ($rp, $ci, $v) = (&r[..], &c[..], v);
                $body
            }
            (Structure::I64(r, c), Vals::F32(v)) => {
                let ($rp, $ci, $v) = (&r[..], &c[..], v);
                $body
            }
            (Structure::I64(r, c), Vals::Pattern) => {
                let unit = vec![(); c.len()];
                let ($rp, $ci, $v) = (&r[..], &c[..], &unit[..]);
                $body
            }
        }
    }};
}
pub(crate) use with_typed;
