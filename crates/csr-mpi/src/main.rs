//! `csr-mpi`: distributed SpMV, CG and benchmarks, run under `mpirun`.
fn main() {}
