//! Hand-written bindings to the part of MKL's sparse BLAS (inspector-executor API) that the
//! kernel uses, resolved at run time from `libmkl_rt` (see `library.rs`).
//!
//! Every constant below is the value `mkl_spblas.h` / `mkl_service.h` gives it; a unit test
//! pins them against the header when the `mkl-include` wheel is installed.
//!
//! Function tables are generic over the value type `V` (f32, f64, `Complex<f32>`,
//! `Complex<f64>`, which have the layout of `MKL_Complex8`/`MKL_Complex16`) and the MKL
//! integer `N` (`i32` for the LP64 API, `i64` for the `_64` ILP64 twins). Generic code picks
//! the right table with [`MklApi::values`] / [`MklInt::fns`], a safe `Any` downcast.

use std::any::Any;
use std::ffi::{c_int, c_void};

use num_complex::Complex;

/// MKL's `sparse_matrix_t`: an opaque handle.
pub(crate) type SparseMatrix = *mut c_void;
/// MKL's `sparse_status_t`.
pub(crate) type Status = c_int;

pub(crate) const STATUS_SUCCESS: Status = 0;
pub(crate) const OPERATION_NON_TRANSPOSE: c_int = 10;
pub(crate) const OPERATION_TRANSPOSE: c_int = 11;
pub(crate) const MATRIX_TYPE_GENERAL: c_int = 20;
pub(crate) const INDEX_BASE_ZERO: c_int = 0;
pub(crate) const FILL_MODE_LOWER: c_int = 40;
pub(crate) const DIAG_NON_UNIT: c_int = 50;
pub(crate) const LAYOUT_ROW_MAJOR: c_int = 101;
pub(crate) const STAGE_FULL_MULT: c_int = 90;

pub(crate) const THREADING_INTEL: c_int = 0;
pub(crate) const THREADING_SEQUENTIAL: c_int = 1;
pub(crate) const THREADING_GNU: c_int = 3;

/// What a `sparse_status_t` means, as `mkl_spblas.h` documents it.
pub(crate) fn status_meaning(status: Status) -> &'static str {
    match status {
        0 => "success",
        1 => "empty handle or matrix arrays (SPARSE_STATUS_NOT_INITIALIZED)",
        2 => "memory allocation failed (SPARSE_STATUS_ALLOC_FAILED)",
        3 => "invalid input value (SPARSE_STATUS_INVALID_VALUE)",
        4 => "execution failed (SPARSE_STATUS_EXECUTION_FAILED)",
        5 => "internal error (SPARSE_STATUS_INTERNAL_ERROR)",
        6 => "operation not supported (SPARSE_STATUS_NOT_SUPPORTED)",
        _ => "unknown status",
    }
}

/// MKL's `struct matrix_descr`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatrixDescr {
    kind: c_int,
    mode: c_int,
    diag: c_int,
}

/// The descriptor of a general (unstructured) matrix, the only kind this kernel uses.
pub(crate) const GENERAL: MatrixDescr = MatrixDescr {
    kind: MATRIX_TYPE_GENERAL,
    mode: FILL_MODE_LOWER,
    diag: DIAG_NON_UNIT,
};

/// The functions that exist once per value type (`mkl_sparse_{s,d,c,z}_*[_64]`).
pub(crate) struct ValueFns<V, N> {
    /// `mkl_sparse_?_create_csr`: wraps the caller's arrays, no copy.
    pub create_csr: unsafe extern "C" fn(
        *mut SparseMatrix,
        c_int,
        N,
        N,
        *mut N,
        *mut N,
        *mut N,
        *mut V,
    ) -> Status,
    /// `mkl_sparse_?_export_csr`: pointers into MKL's own arrays of a matrix it made.
    pub export_csr: unsafe extern "C" fn(
        SparseMatrix,
        *mut c_int,
        *mut N,
        *mut N,
        *mut *mut N,
        *mut *mut N,
        *mut *mut N,
        *mut *mut V,
    ) -> Status,
    /// `mkl_sparse_?_mv`: `y = alpha·op(A)·x + beta·y`.
    pub mv:
        unsafe extern "C" fn(c_int, V, SparseMatrix, MatrixDescr, *const V, V, *mut V) -> Status,
    /// `mkl_sparse_?_mm`: `Y = alpha·op(A)·X + beta·Y` for dense `X`, `Y`.
    pub mm: unsafe extern "C" fn(
        c_int,
        V,
        SparseMatrix,
        MatrixDescr,
        c_int,
        *const V,
        N,
        N,
        V,
        *mut V,
        N,
    ) -> Status,
}

/// The functions that exist once per integer width (`mkl_sparse_*[_64]`).
pub(crate) struct IndexFns<N> {
    /// `mkl_sparse_destroy`.
    pub destroy: unsafe extern "C" fn(SparseMatrix) -> Status,
    /// `mkl_sparse_optimize`.
    pub optimize: unsafe extern "C" fn(SparseMatrix) -> Status,
    /// `mkl_sparse_order`: sorts each row by column, in the arrays the matrix was made from.
    pub order: unsafe extern "C" fn(SparseMatrix) -> Status,
    /// `mkl_sparse_set_mv_hint`.
    pub set_mv_hint: unsafe extern "C" fn(SparseMatrix, c_int, MatrixDescr, N) -> Status,
    /// `mkl_sparse_sp2m`: `C = op(A)·op(B)` into a new MKL-owned matrix.
    pub sp2m: unsafe extern "C" fn(
        c_int,
        MatrixDescr,
        SparseMatrix,
        c_int,
        MatrixDescr,
        SparseMatrix,
        c_int,
        *mut SparseMatrix,
    ) -> Status,
}

/// Every function the kernel uses, resolved from one loaded library.
pub(crate) struct MklApi {
    pub lp64: IndexFns<i32>,
    pub s32: ValueFns<f32, i32>,
    pub d32: ValueFns<f64, i32>,
    pub c32: ValueFns<Complex<f32>, i32>,
    pub z32: ValueFns<Complex<f64>, i32>,
    /// The ILP64 (`_64`) API, which MKL releases before 2023 lack: without it, `i32`
    /// indices still run (LP64) and wider ones are [`crate::Error::Unsupported`].
    pub ilp64: Option<Ilp64Api>,
    /// `MKL_Set_Num_Threads_Local` (the CamelCase C entry point, not the Fortran one).
    pub set_num_threads_local: unsafe extern "C" fn(c_int) -> c_int,
}

/// The `_64` entry points, resolved together.
pub(crate) struct Ilp64Api {
    pub index: IndexFns<i64>,
    pub s64: ValueFns<f32, i64>,
    pub d64: ValueFns<f64, i64>,
    pub c64: ValueFns<Complex<f32>, i64>,
    pub z64: ValueFns<Complex<f64>, i64>,
}

impl MklApi {
    /// The table for value type `V` and integer width `N`, if this MKL has one.
    pub(crate) fn values<V: 'static, N: 'static>(&self) -> Option<&ValueFns<V, N>> {
        let lp64: [&dyn Any; 4] = [&self.s32, &self.d32, &self.c32, &self.z32];
        let ilp64: Vec<&dyn Any> = self
            .ilp64
            .iter()
            .flat_map(|t| -> [&dyn Any; 4] { [&t.s64, &t.d64, &t.c64, &t.z64] })
            .collect();
        lp64.into_iter().chain(ilp64).find_map(|t| t.downcast_ref())
    }
}

/// An MKL integer: `i32` (LP64 API) or `i64` (ILP64 `_64` API).
pub(crate) trait MklInt: bytemuck::Pod + Copy + Send + Sync + 'static {
    /// The width's function table, if this MKL has the width's API.
    fn fns(api: &MklApi) -> Option<&IndexFns<Self>>;
    /// `n` as this integer, if it fits.
    fn from_usize(n: usize) -> Option<Self>;
    /// This (non-negative) integer as a `usize`; `None` if negative.
    fn to_usize(self) -> Option<usize>;
}

impl MklInt for i32 {
    fn fns(api: &MklApi) -> Option<&IndexFns<Self>> {
        Some(&api.lp64)
    }
    fn from_usize(n: usize) -> Option<Self> {
        Self::try_from(n).ok()
    }
    fn to_usize(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
}

impl MklInt for i64 {
    fn fns(api: &MklApi) -> Option<&IndexFns<Self>> {
        api.ilp64.as_ref().map(|t| &t.index)
    }
    fn from_usize(n: usize) -> Option<Self> {
        Self::try_from(n).ok()
    }
    fn to_usize(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `mkl_spblas.h` of the `mkl-include` wheel, if the project's venv has it.
    fn header(name: &str) -> Option<String> {
        let mut dirs: Vec<std::path::PathBuf> = Vec::new();
        if let Ok(root) = std::env::var("MKLROOT") {
            dirs.push(std::path::Path::new(&root).join("include"));
        }
        dirs.push(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/include"));
        dirs.into_iter()
            .find_map(|d| std::fs::read_to_string(d.join(name)).ok())
    }

    /// The value the header gives `name` (`NAME = 10,` or `#define NAME 10`).
    fn value_in(header: &str, name: &str) -> Option<i32> {
        header.lines().find_map(|line| {
            let line = line.trim().trim_start_matches("#define").trim();
            let rest = line.strip_prefix(name)?;
            if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                return None; // a longer name that starts with `name`
            }
            let rest = rest.trim_start().trim_start_matches('=').trim();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
    }

    #[test]
    fn constants_match_the_mkl_headers() {
        let (Some(spblas), Some(service)) = (header("mkl_spblas.h"), header("mkl_service.h"))
        else {
            eprintln!(
                "MKL headers not found (install the mkl-include wheel into .venv): \
                 constant check SKIPPED"
            );
            return;
        };
        let pinned = [
            ("SPARSE_STATUS_SUCCESS", STATUS_SUCCESS),
            ("SPARSE_OPERATION_NON_TRANSPOSE", OPERATION_NON_TRANSPOSE),
            ("SPARSE_OPERATION_TRANSPOSE", OPERATION_TRANSPOSE),
            ("SPARSE_MATRIX_TYPE_GENERAL", MATRIX_TYPE_GENERAL),
            ("SPARSE_INDEX_BASE_ZERO", INDEX_BASE_ZERO),
            ("SPARSE_FILL_MODE_LOWER", FILL_MODE_LOWER),
            ("SPARSE_DIAG_NON_UNIT", DIAG_NON_UNIT),
            ("SPARSE_LAYOUT_ROW_MAJOR", LAYOUT_ROW_MAJOR),
            ("SPARSE_STAGE_FULL_MULT", STAGE_FULL_MULT),
        ];
        for (name, ours) in pinned {
            assert_eq!(value_in(&spblas, name), Some(ours), "{name}");
        }
        for (name, ours) in [
            ("MKL_THREADING_INTEL", THREADING_INTEL),
            ("MKL_THREADING_SEQUENTIAL", THREADING_SEQUENTIAL),
            ("MKL_THREADING_GNU", THREADING_GNU),
        ] {
            assert_eq!(value_in(&service, name), Some(ours), "{name}");
        }
        for status in 1..=6 {
            let name = status_meaning(status);
            let macro_name = name.rsplit('(').next().unwrap().trim_end_matches(')');
            assert_eq!(value_in(&spblas, macro_name), Some(status), "{macro_name}");
        }
    }
}
