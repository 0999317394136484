//! Rust errors as Python exceptions, and panics kept out of Python.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::PyErr;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};

/// The Python exception for a library error, carrying its message (what and where):
/// `OSError` for I/O, `TypeError` for an operation a kernel cannot do on these types,
/// `RuntimeError` for a kernel that cannot run or fails inside, `ValueError` for the rest
/// (bad arrays, shapes, names).
pub(crate) fn to_py(e: csr::Error) -> PyErr {
    let msg = e.to_string();
    match e {
        csr::Error::Io { .. } => PyOSError::new_err(msg),
        csr::Error::Unsupported { .. } => PyTypeError::new_err(msg),
        csr::Error::KernelUnavailable { .. } | csr::Error::Mkl { .. } => {
            PyRuntimeError::new_err(msg)
        }
        _ => PyValueError::new_err(msg),
    }
}

/// Runs `f`, turning a panic (a bug) into a `RuntimeError` instead of letting it unwind
/// into Python.
pub(crate) fn no_panic<R>(f: impl FnOnce() -> Result<R, PyErr>) -> Result<R, PyErr> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| String::from("unknown panic"));
        Err(PyRuntimeError::new_err(format!(
            "internal error in the csr extension (please report it): {what}"
        )))
    })
}
