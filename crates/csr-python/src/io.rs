//! Matrix Market files (`.gz` included) through the library's reader and writer.

use std::path::PathBuf;

use pyo3::prelude::*;

use csr::io::mm::{self, Field, WriteOptions};
use csr::{Csr, CsrRef, Error};

use crate::arrays::{MatrixArrays, Parts, parts, with_typed};
use crate::errors::to_py;
use crate::freeze::Frozen;
use crate::pool::compute;

/// Reads a Matrix Market file into `(nrows, ncols, rowptrs, colinds, values)`: symmetry
/// expanded, duplicates summed (like `scipy.io.mmread(path).tocsr()`), int32 indices unless
/// the matrix needs int64; a `pattern` file gives `values=None`.
#[pyfunction]
pub(crate) fn read_mm(py: Python<'_>, path: PathBuf) -> PyResult<Parts> {
    let header = compute(py, usize::MAX, || mm::read_header(&path).map_err(to_py))?;
    if header.field == Field::Pattern {
        return match compute(py, usize::MAX, || Ok(mm::read_pattern::<i32>(&path)))? {
            Ok(a) => Ok(parts(py, a)),
            Err(Error::IndexTooNarrow { .. }) => {
                let a = compute(py, usize::MAX, || {
                    mm::read_pattern::<i64>(&path).map_err(to_py)
                })?;
                Ok(parts(py, a))
            }
            Err(e) => Err(to_py(e)),
        };
    }
    match compute(py, usize::MAX, || Ok(mm::read_csr::<f64, i32>(&path)))? {
        Ok(a) => Ok(parts(py, a)),
        Err(Error::IndexTooNarrow { .. }) => {
            let a = compute(py, usize::MAX, || {
                mm::read_csr::<f64, i64>(&path).map_err(to_py)
            })?;
            Ok(parts(py, a))
        }
        Err(e) => Err(to_py(e)),
    }
}

/// Writes a matrix's arrays as a Matrix Market file (atomically; `.gz` compresses), every
/// value in the shortest form that reads back to the same bits; `values=None` writes a
/// `pattern` file.
#[pyfunction]
#[pyo3(signature = (path, nrows, ncols, rowptrs, colinds, values=None))]
pub(crate) fn write_mm(
    py: Python<'_>,
    path: PathBuf,
    nrows: usize,
    ncols: usize,
    rowptrs: &Bound<'_, PyAny>,
    colinds: &Bound<'_, PyAny>,
    values: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let arrays = MatrixArrays::extract(rowptrs, colinds, values)?;
    let (_frozen, foreign) = Frozen::matrix(rowptrs, colinds, values)?;
    let st = arrays.structure()?.copied_if(foreign);
    with_typed!(st, arrays.values()?, |r, c, v| {
        compute(py, usize::MAX, || {
            let a: Csr<_, _> = CsrRef::try_from_parts(nrows, ncols, r, c, v)
                .map_err(to_py)?
                .to_csr();
            write(&path, a).map_err(to_py)
        })
    })
}

/// Writes a valued or pattern matrix.
trait Writable: csr::Element {
    fn write(path: &std::path::Path, a: Csr<Self, impl csr::Index>) -> csr::Result<()>;
}

impl Writable for f64 {
    fn write(path: &std::path::Path, a: Csr<Self, impl csr::Index>) -> csr::Result<()> {
        mm::write_csr(path, &a, &WriteOptions::default())
    }
}

impl Writable for f32 {
    fn write(path: &std::path::Path, a: Csr<Self, impl csr::Index>) -> csr::Result<()> {
        mm::write_csr(path, &a, &WriteOptions::default())
    }
}

impl Writable for () {
    fn write(path: &std::path::Path, a: Csr<Self, impl csr::Index>) -> csr::Result<()> {
        mm::write_pattern(path, &a, &WriteOptions::default())
    }
}

fn write<T: Writable, I: csr::Index>(path: &std::path::Path, a: Csr<T, I>) -> csr::Result<()> {
    T::write(path, a)
}
