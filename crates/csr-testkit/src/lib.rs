//! Shared test support for csr.
