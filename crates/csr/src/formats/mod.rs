//! Storage formats. [`Csr`](crate::Csr) is the hub; [`Dense`](crate::Dense) is the dense
//! matrix and vector type.

pub(crate) mod csr;
pub(crate) mod dense;
pub(crate) mod validate;
