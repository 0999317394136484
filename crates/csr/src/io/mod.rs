//! Reading and writing matrices in files.
//!
//! - [`mm`]: Matrix Market (`.mtx`, `.mtx.gz`), the text format of the SuiteSparse Matrix
//!   Collection, scipy (`scipy.io.mmread`), Ginkgo and most sparse libraries.

pub mod mm;
