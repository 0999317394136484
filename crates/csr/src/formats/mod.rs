//! Storage formats. [`Csr`](crate::Csr) is the hub: every other format converts to and
//! from it ([`MatrixFormat`](crate::MatrixFormat)). [`Coo`](crate::Coo),
//! [`Ell`](crate::Ell), [`Sellp`](crate::Sellp) and [`Hybrid`](crate::Hybrid) are the
//! sparse formats of Ginkgo; [`Dense`](crate::Dense) is the dense matrix and vector type.

pub(crate) mod common;
pub(crate) mod coo;
pub(crate) mod csr;
pub(crate) mod dense;
pub(crate) mod ell;
pub(crate) mod format;
pub(crate) mod hybrid;
pub(crate) mod padded;
mod padded_simd;
pub(crate) mod sellp;
pub(crate) mod validate;
