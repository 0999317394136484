//! # csr: compressed sparse row matrices with pluggable compute kernels
//!
//! `csr` is a sparse-matrix library built around the CSR format. It offers:
//!
//! - [`Csr<T, I>`](Csr), an owned CSR matrix, and [`CsrRef`], a zero-copy view over foreign
//!   arrays, both built by checked constructors that return a typed [`Error`] naming the
//!   first violated invariant and its position;
//! - assembly from triplets ([`MatrixData`], [`Csr::try_from_coo`]) by a parallel counting
//!   sort, summing duplicates like scipy or keeping them like LensKit ([`Duplicates`]);
//! - sortedness checks and in-place cleanup (sort, sum duplicates, drop zeros), and a
//!   parallel transpose;
//! - pattern matrices ([`CsrPattern`]) that store no values;
//! - [`generate`]: seeded, deterministic test and benchmark matrices;
//! - [`io::mm`]: a strict, parallel Matrix Market reader and an exact, atomic writer.
//!
//! Values are `f32`, `f64`, `Complex<f32>` or `Complex<f64>` ([`Scalar`]); indices are
//! `i32`, `i64`, `u32` or `usize` ([`Index`]).
//!
//! ## Threads
//! Parallel operations run on the current rayon thread pool (use
//! `rayon::ThreadPool::install` to pin a count). Inputs smaller than about 65 000 entries
//! run on the calling thread. Every operation of this crate's own code (construction,
//! assembly, sorting, transposes, formats, and the `native` and `reference` kernels) gives
//! bit-identical results whatever the thread count. The `mkl` kernel, the default when MKL
//! loads, does not promise this: MKL's sums may be ordered differently from one thread
//! count to another (its results agree to within rounding). Choose `native`
//! (`CSR_KERNEL=native` or [`kernel::use_kernel`]) where reproducibility matters.
//!
//! ## Example
//!
//! ```
//! use csr::{Csr, Duplicates};
//!
//! let rows = [0_i32, 2, 1, 0];
//! let cols = [1_i32, 0, 2, 1];
//! let vals = [1.0_f64, 2.0, 3.0, 4.0];
//! let a = Csr::try_from_coo(3, 3, &rows, &cols, &vals, Duplicates::Sum)?;
//! assert_eq!(a.row(0), (&[1][..], &[5.0][..]));
//! let t = a.transpose();
//! assert_eq!(t.row(0), (&[2][..], &[2.0][..]));
//! # Ok::<(), csr::Error>(())
//! ```

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(rustdoc::broken_intra_doc_links)]

mod assembly;
mod element;
mod error;
mod formats;
pub mod generate;
mod index;
pub mod io;
pub mod joined;
pub mod kernel;
mod ops;
mod parallel;
mod scalar;
mod stats;
pub mod strategy;
#[cfg(test)]
mod test_rng;

pub use assembly::{Duplicates, MatrixData, Symmetry};
pub use element::Element;
pub use error::{Error, Extent, Result};
pub use formats::coo::Coo;
pub use formats::csr::{Csr, CsrPattern, CsrRef};
pub use formats::dense::Dense;
pub use formats::ell::Ell;
pub use formats::format::MatrixFormat;
pub use formats::hybrid::{Hybrid, HybridStrategy};
pub use formats::padded::padding_index;
pub use formats::sellp::Sellp;
pub use index::Index;
pub use num_complex::Complex;
pub use ops::normalize::{Normalize, normalize_rows};
pub use ops::permutation::{Permutation, PermuteMode, ScaledPermutation};
pub use scalar::Scalar;
pub use stats::RowStats;
pub use strategy::Strategy;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
