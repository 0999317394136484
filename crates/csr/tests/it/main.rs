//! Integration tests for `csr`: one binary, one module per area.
//!
//! Shared strategies, fixtures and oracles live in `csr-testkit`.

mod accessors;
mod assembly;
mod construction;
mod edge_shapes;
mod formats;
mod huge_shapes;
mod kernel_selection;
mod kernels;
mod mkl;
mod mm_chunks;
mod mm_corpus;
mod mm_errors;
mod mm_pieces;
mod mm_roundtrip;
mod mm_support;
mod operations;
mod ops_support;
mod oracle_sprs;
mod permute;
mod proptests;
mod reentrancy;
mod sorting;
mod spgeam;
mod strategies;
mod threads;
mod topk;
mod transpose;
