//! `csr._csr`: the compiled half of the Python package `csr` (see `python/csr`).
//!
//! Thin functions over numpy buffers: each converts its arguments at the boundary (dtype,
//! shape and contiguity checks; `TypeError`/`ValueError` naming the array), borrows the
//! buffers as [`csr::CsrRef`]s without copying, checks them once, releases the GIL and
//! computes on a rayon pool. Library errors become Python exceptions carrying their
//! message; a panic would be a bug and becomes a `RuntimeError`, never an unwind into
//! Python. The algorithms are the library's: this crate holds none of its own except
//! `normalize_rows`, until the library has it.

mod arrays;
mod errors;
mod freeze;
mod handle;
mod io;
mod ops;
mod pool;

use pyo3::prelude::*;

use crate::errors::to_py;

/// Every kernel the library knows, as `(name, None)` when it can run here or
/// `(name, reason)` when it cannot.
#[pyfunction]
fn kernels() -> Vec<(&'static str, Option<String>)> {
    csr::kernel::available_kernels()
        .into_iter()
        .map(|k| (k.id.name(), k.unavailable))
        .collect()
}

/// `None` if kernel `name` can run here, else why not (`ValueError` for an unknown name).
#[pyfunction]
fn kernel_unavailable(name: &str) -> PyResult<Option<String>> {
    let id: csr::kernel::KernelId = name.parse().map_err(to_py)?;
    Ok(match id.availability() {
        Ok(()) => None,
        Err(csr::Error::KernelUnavailable { reason, .. }) => Some(reason),
        Err(e) => Some(e.to_string()),
    })
}

/// The largest number of entries kernel `name` takes in one handle with int32 indices.
#[pyfunction]
fn kernel_max_nnz(name: &str) -> PyResult<usize> {
    Ok(csr::kernel::get_kernel::<f64, i32>(name)
        .map_err(to_py)?
        .max_nnz())
}

#[pymodule]
fn _csr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<handle::Handle>()?;
    m.add_function(wrap_pyfunction!(handle::to_handle, m)?)?;
    m.add_function(wrap_pyfunction!(ops::from_coo, m)?)?;
    m.add_function(wrap_pyfunction!(ops::transpose, m)?)?;
    m.add_function(wrap_pyfunction!(ops::mult_vec_once, m)?)?;
    m.add_function(wrap_pyfunction!(ops::sort_rows, m)?)?;
    m.add_function(wrap_pyfunction!(ops::normalize_rows, m)?)?;
    m.add_function(wrap_pyfunction!(io::read_mm, m)?)?;
    m.add_function(wrap_pyfunction!(io::write_mm, m)?)?;
    m.add_function(wrap_pyfunction!(pool::set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(pool::get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(kernels, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_unavailable, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_max_nnz, m)?)?;
    Ok(())
}
