//! Peer libraries measured on the same matrices in the same run (`csr bench --peers`,
//! cargo feature `peers`): sprs 0.11 (with its rayon SpGEMM), faer 0.24 and
//! nalgebra-sparse 0.12. Each peer's own data structures are built outside the clock; for
//! A·Aᵀ each peer transposes with its own code inside the clock, as a user of it would.

use std::time::Instant;

use csr::Index;
use faer::Par;
use faer::sparse::{
    SparseColMatRef, SparseRowMatRef, SymbolicSparseColMatRef, SymbolicSparseRowMatRef,
};

use super::Workload;
use super::report::Record;
use super::structure::median;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A peer's SpMV, returning `y`.
type SpmvRun<'a> = (&'static str, Box<dyn FnMut() -> Vec<f64> + 'a>);

/// A peer's SpGEMM, returning nnz(C).
type SpgemmRun<'a> = (
    &'static str,
    Box<dyn FnMut() -> Result<usize, BoxError> + 'a>,
);

/// Times SpMV, A·A and A·Aᵀ (as the workload asks) for every peer.
pub fn bench(w: &Workload, reps: usize) -> Result<Vec<Record>, BoxError> {
    let a = w.matrix.view();
    let mut records = Vec::new();
    let usize_idx = |xs: &[i32]| xs.iter().map(|x| x.to_usize()).collect::<Vec<usize>>();
    let u32_idx = |xs: &[i32]| xs.iter().map(|&x| x.unsigned_abs()).collect::<Vec<u32>>();
    let (ptrs_u, cols_u) = (usize_idx(a.row_ptrs()), usize_idx(a.col_idxs()));
    let (ptrs_32, cols_32) = (u32_idx(a.row_ptrs()), u32_idx(a.col_idxs()));
    let vals = a.values().to_vec();
    let sp = sprs::CsMatI::<f64, usize, usize>::new(
        (a.nrows(), a.ncols()),
        ptrs_u.clone(),
        cols_u.clone(),
        vals.clone(),
    );
    let na =
        nalgebra_sparse::CsrMatrix::try_from_csr_data(a.nrows(), a.ncols(), ptrs_u, cols_u, vals)
            .map_err(|e| format!("nalgebra-sparse rejected the matrix: {e}"))?;
    let fa_sym = SymbolicSparseRowMatRef::new_unsorted_checked(
        a.nrows(),
        a.ncols(),
        &ptrs_32,
        None,
        &cols_32,
    );
    let fa = SparseRowMatRef::new(fa_sym, a.values());
    // The CSR arrays of A read as CSC are Aᵀ: faer's SpGEMM is column-major.
    let fa_t_csc = SparseColMatRef::new(
        SymbolicSparseColMatRef::new_unsorted_checked(
            a.ncols(),
            a.nrows(),
            &ptrs_32,
            None,
            &cols_32,
        ),
        a.values(),
    );
    let par = Par::rayon(rayon::current_num_threads());

    if w.ops.spmv {
        let x = super::kernels::spmv_input(a.ncols());
        let nx = nalgebra::DVector::from_column_slice(&x);
        let fx = faer::Mat::from_fn(a.ncols(), 1, |i, _| x[i]);
        let mut fy = faer::Mat::<f64>::zeros(a.nrows(), 1);
        let mut sy = vec![0.0; a.nrows()];
        let mut runs: Vec<SpmvRun<'_>> = vec![
            (
                "sprs",
                Box::new(|| {
                    sy.iter_mut().for_each(|v| *v = 0.0);
                    sprs::prod::mul_acc_mat_vec_csr(sp.view(), &x[..], &mut sy[..]);
                    sy.clone()
                }),
            ),
            (
                "faer",
                Box::new(|| {
                    faer::sparse::linalg::matmul::sparse_dense_matmul(
                        fy.as_mut(),
                        faer::Accum::Replace,
                        fa,
                        fx.as_ref(),
                        1.0,
                        par,
                    );
                    fy.col(0).iter().copied().collect()
                }),
            ),
            (
                "nalgebra-sparse",
                Box::new(|| (&na * &nx).as_slice().to_vec()),
            ),
        ];
        let mut times = vec![Vec::with_capacity(reps); runs.len()];
        let mut outputs = vec![Vec::new(); runs.len()];
        for round in 0..=reps {
            for (i, (_, run)) in runs.iter_mut().enumerate() {
                let t = Instant::now();
                let y = run();
                let elapsed = t.elapsed();
                if round > 0 {
                    times[i].push(elapsed);
                }
                outputs[i] = y;
            }
        }
        let expected = super::kernels::reference_spmv(a, &x)?;
        let (nnz, rows, cols) = (a.nnz() as f64, a.nrows() as f64, a.ncols() as f64);
        for (((name, _), t), y) in runs.iter().zip(times).zip(&outputs) {
            records.push(Record {
                workload: w.name.clone(),
                op: "spmv",
                kernel: (*name).to_owned(),
                strategy: String::new(),
                median: median(t),
                flops: 2.0 * nnz,
                bytes: 12.0 * nnz + 12.0 * rows + 8.0 * cols,
                max_rel_err: Some(super::kernels::max_rel_err(y, &expected)),
                note: String::new(),
            });
        }
    }

    for transpose_b in [false, true] {
        if (transpose_b && !w.ops.abt) || (!transpose_b && (!w.ops.ab || a.nrows() != a.ncols())) {
            continue;
        }
        let op = if transpose_b {
            "spgemm_abt"
        } else {
            "spgemm_ab"
        };
        let mut runs: Vec<SpgemmRun<'_>> = vec![
            (
                "sprs",
                Box::new(|| {
                    Ok(if transpose_b {
                        let bt = sp.transpose_view().to_csr();
                        (&sp * &bt).nnz()
                    } else {
                        (&sp * &sp).nnz()
                    })
                }),
            ),
            (
                "faer",
                Box::new(|| {
                    // faer's SpGEMM is column-major; CSR arrays read as CSC are the transpose, so
                    // with X = Aᵀ (a free view): A·A = (X·X)ᵀ, whose CSC arrays are the CSR arrays
                    // of A·A; A·Aᵀ = Xᵀ·X, with Xᵀ = A built in CSC by faer's own transpose.
                    let product = if transpose_b {
                        let a_csc = fa_t_csc.transpose().to_col_major()?;
                        faer::sparse::linalg::matmul::sparse_sparse_matmul(
                            a_csc.as_ref(),
                            fa_t_csc,
                            1.0,
                            par,
                        )?
                    } else {
                        faer::sparse::linalg::matmul::sparse_sparse_matmul(
                            fa_t_csc, fa_t_csc, 1.0, par,
                        )?
                    };
                    Ok(product.compute_nnz())
                }),
            ),
            (
                "nalgebra-sparse",
                Box::new(|| {
                    Ok(if transpose_b {
                        (&na * &na.transpose()).nnz()
                    } else {
                        (&na * &na).nnz()
                    })
                }),
            ),
        ];
        let mut times = vec![Vec::with_capacity(reps); runs.len()];
        let mut nnz: Vec<Result<usize, String>> = vec![Ok(0); runs.len()];
        for round in 0..=reps {
            for (i, (_, run)) in runs.iter_mut().enumerate() {
                if nnz[i].is_err() {
                    continue;
                }
                let t = Instant::now();
                // A peer that fails (faer refuses some products with IndexOverflow) gets a
                // row saying so instead of stopping the run.
                nnz[i] = run().map_err(|e| format!("failed: {e:?}"));
                if round > 0 {
                    times[i].push(t.elapsed());
                }
            }
        }
        let flops = 2.0 * super::kernels::products_of(a, transpose_b) as f64;
        for (((name, _), t), c_nnz) in runs.iter().zip(times).zip(nnz) {
            let (c_nnz, note) = match c_nnz {
                Ok(n) => (n, format!("nnz(C) = {n} (not checked)")),
                Err(e) => (0, e),
            };
            if t.is_empty() {
                eprintln!("csr bench: {name} {op} on {}: {note}", w.name);
                continue;
            }
            records.push(Record {
                workload: w.name.clone(),
                op,
                kernel: (*name).to_owned(),
                strategy: String::new(),
                median: median(t),
                flops,
                bytes: 12.0 * (2 * a.nnz() + c_nnz) as f64 + 8.0 * (3 * a.nrows()) as f64,
                max_rel_err: None,
                note,
            });
        }
    }
    Ok(records)
}
