//! Whole-matrix operations on a `CSR`'s arrays: assembly from COO, transpose, row sorting,
//! row normalisation. Each checks the arrays it reads, then runs without the GIL.

use numpy::{PyArray1, PyArrayMethods, PyReadwriteArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;

use csr::{Csr, CsrRef, Duplicates, Element, Index};

use crate::arrays::{IdxArray, MatrixArrays, Parts, ValArray, parts, with_typed};
use crate::errors::to_py;
use crate::freeze::Frozen;
use crate::pool::compute;

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

/// The transpose (rows sorted by column; a pattern stays a pattern).
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
            Ok(view(nrows, ncols, r, c, v)?.transpose())
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

/// How `normalize_rows` normalises.
#[derive(Clone, Copy)]
enum Mode {
    Center,
    Unit,
}

/// Normalises each row's stored values in place and returns the per-row statistic (means
/// for `center`, L2 norms for `unit`), in the values' dtype; empty rows give 0.
///
/// `unit` survives subnormal rows: each row is scaled by a power of two taken from its
/// largest magnitude (clamped to the exponent range) before the norm, and the unscaled norm
/// is reported; an all-zero row gives NaN values and norm 0.
///
/// To be replaced by the library's `normalize_rows` (Center/Unit) once it lands there.
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
        "center" => Mode::Center,
        "unit" => Mode::Unit,
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
        let mut w = a.try_readwrite()?;
        let vs = writeable_slice(&mut w, ptrs[nrows])?;
        let out = compute(py, vs.len() + nrows, || Ok(normalize(&ptrs, vs, mode)))?;
        return Ok(PyArray1::from_vec(py, out).into_any().unbind());
    }
    if let Ok(a) = values.cast::<PyArray1<f32>>() {
        let mut w = a.try_readwrite()?;
        let vs = writeable_slice(&mut w, ptrs[nrows])?;
        let out = compute(py, vs.len() + nrows, || Ok(normalize(&ptrs, vs, mode)))?;
        return Ok(PyArray1::from_vec(py, out).into_any().unbind());
    }
    Err(PyTypeError::new_err(
        "values must be a 1-D array of dtype float32 or float64",
    ))
}

fn writeable_slice<'a, T: numpy::Element>(
    w: &'a mut PyReadwriteArray1<'_, T>,
    nnz: usize,
) -> PyResult<&'a mut [T]> {
    let s = w
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("values must be C-contiguous"))?;
    if s.len() != nnz {
        return Err(to_py(csr::Error::ValuesLength {
            col_idxs: nnz,
            values: s.len(),
        }));
    }
    Ok(s)
}

/// A float type `normalize_rows` works in (through `f64`).
trait Float: Copy + Send + Sync {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}
impl Float for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}
impl Float for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[allow(
        clippy::cast_possible_truncation,
        reason = "rounding to f32 is the intent"
    )]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

/// Rows per rayon task in `normalize`.
const ROWS_PER_TASK: usize = 4096;

fn normalize<T: Float>(ptrs: &[usize], values: &mut [T], mode: Mode) -> Vec<T> {
    let nrows = ptrs.len() - 1;
    let mut rows: Vec<&mut [T]> = Vec::with_capacity(nrows);
    let mut rest = values;
    for r in 0..nrows {
        let (row, tail) = rest.split_at_mut(ptrs[r + 1] - ptrs[r]);
        rows.push(row);
        rest = tail;
    }
    rows.into_par_iter()
        .with_min_len(ROWS_PER_TASK)
        .map(|row| T::from_f64(normalize_row(row, mode)))
        .collect()
}

fn normalize_row<T: Float>(row: &mut [T], mode: Mode) -> f64 {
    if row.is_empty() {
        return 0.0;
    }
    match mode {
        Mode::Center => {
            #[allow(clippy::cast_precision_loss, reason = "a row length as a divisor")]
            let mean = row.iter().map(|v| v.to_f64()).sum::<f64>() / row.len() as f64;
            for v in row.iter_mut() {
                *v = T::from_f64(v.to_f64() - mean);
            }
            mean
        }
        Mode::Unit => {
            let max = row.iter().fold(0.0_f64, |m, v| m.max(v.to_f64().abs()));
            // 2^-e with max·2^-e in [0.5, 1), e clamped so that 2^-e is a normal f64.
            let e = if max > 0.0 && max.is_finite() {
                frexp_exponent(max).clamp(-1022, 1023)
            } else {
                0
            };
            let scale = 2.0_f64.powi(-e);
            let norm = row
                .iter()
                .map(|v| {
                    let s = v.to_f64() * scale;
                    s * s
                })
                .sum::<f64>()
                .sqrt();
            for v in row.iter_mut() {
                *v = T::from_f64(v.to_f64() * scale / norm);
            }
            norm * 2.0_f64.powi(e)
        }
    }
}

/// The exponent `e` with `x = m·2^e`, `m` in `[0.5, 1)`, for a finite `x > 0`.
fn frexp_exponent(x: f64) -> i32 {
    let bits = x.to_bits();
    #[allow(clippy::cast_possible_truncation, reason = "an 11-bit field")]
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: 2^-1074 times the mantissa, whose top set bit gives the exponent.
        let mantissa = bits & ((1 << 52) - 1);
        #[allow(clippy::cast_possible_wrap, reason = "at most 64")]
        let top = 64 - mantissa.leading_zeros() as i32;
        -1074 + top
    } else {
        biased - 1022
    }
}
