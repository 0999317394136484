//! Peer libraries measured on the same matrices in the same run (`csr bench --peers`,
//! cargo feature `peers`): sprs 0.11 (with its rayon SpGEMM), faer 0.24 and
//! nalgebra-sparse 0.12. Each peer's own data structures are built outside the clock; for
//! A·Aᵀ each peer transposes with its own code inside the clock, as a user of it would.

use std::time::Instant;

use csr::{Csr, Index};
use faer::Par;
use faer::sparse::{
    SparseColMatRef, SparseRowMatRef, SymbolicSparseColMatRef, SymbolicSparseRowMatRef,
};

use super::Workload;
use super::report::Record;
use super::structure::median;
use super::timed::{TimedSpmv, spmv_call, time_rounds};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The peers, in the order of their rows.
const PEERS: [&str; 3] = ["sprs", "faer", "nalgebra-sparse"];

/// A peer's SpGEMM, returning its product in the peer's own type.
type SpgemmRun<'a> = (
    &'static str,
    Box<dyn FnMut() -> Result<PeerProduct, BoxError> + 'a>,
);

/// A product as a peer returns it; read into our CSR outside the clock for the check.
enum PeerProduct {
    Sprs(sprs::CsMatI<f64, usize, usize>),
    /// faer's column-major product whose CSC arrays are the CSR arrays of the result.
    Faer(faer::sparse::SparseColMat<u32, f64>),
    Nalgebra(nalgebra_sparse::CsrMatrix<f64>),
}

impl PeerProduct {
    /// The number of stored entries.
    fn nnz(&self) -> usize {
        match self {
            Self::Sprs(c) => c.nnz(),
            Self::Faer(c) => c.compute_nnz(),
            Self::Nalgebra(c) => c.nnz(),
        }
    }

    /// The product as our CSR (`n × m`), rows sorted.
    fn into_csr(self, n: usize, m: usize) -> Result<Csr<f64, i32>, BoxError> {
        let narrow = |xs: &[usize]| -> Result<Vec<i32>, BoxError> {
            xs.iter()
                .map(|&x| i32::try_from(x).map_err(|_| "product too large for i32 indices".into()))
                .collect()
        };
        let widen = |xs: &[u32]| -> Result<Vec<i32>, BoxError> {
            xs.iter()
                .map(|&x| i32::try_from(x).map_err(|_| "product too large for i32 indices".into()))
                .collect()
        };
        let mut c = match self {
            Self::Sprs(c) => {
                let c = if c.is_csr() { c } else { c.to_csr() };
                let (ptrs, cols, vals) = c.into_raw_storage();
                Csr::try_from_parts(n, m, narrow(&ptrs)?, narrow(&cols)?, vals)?
            }
            Self::Faer(c) => {
                let c = c.as_ref();
                let sym = c.symbolic();
                if sym.col_nnz().is_some() {
                    return Err("faer returned a product with gaps between its columns".into());
                }
                Csr::try_from_parts(
                    n,
                    m,
                    widen(sym.col_ptr())?,
                    widen(sym.row_idx())?,
                    c.val().to_vec(),
                )?
            }
            Self::Nalgebra(c) => {
                let (ptrs, cols, vals) = c.disassemble();
                Csr::try_from_parts(n, m, narrow(&ptrs)?, narrow(&cols)?, vals)?
            }
        };
        c.sort_by_column_index();
        Ok(c)
    }
}

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
        let n = a.nrows();
        let nx = nalgebra::DVector::from_column_slice(&x);
        let fx = faer::Mat::from_fn(a.ncols(), 1, |i, _| x[i]);
        // Each peer writes into a y it is handed, through its fastest in-place call.
        let mut calls: Vec<Box<dyn TimedSpmv + '_>> = vec![
            spmv_call(n, |y: &mut [f64]| {
                // sprs only accumulates (y += A·x).
                y.fill(0.0);
                sprs::prod::mul_acc_mat_vec_csr(sp.view(), &x[..], y);
                Ok(())
            }),
            spmv_call(n, |y: &mut [f64]| {
                faer::sparse::linalg::matmul::sparse_dense_matmul(
                    faer::MatMut::from_column_major_slice_mut(y, n, 1),
                    faer::Accum::Replace,
                    fa,
                    fx.as_ref(),
                    1.0,
                    par,
                );
                Ok(())
            }),
            spmv_call(n, |y: &mut [f64]| {
                nalgebra_sparse::ops::serial::spmm_csr_dense(
                    0.0,
                    nalgebra::DMatrixViewMut::from_slice(y, n, 1),
                    1.0,
                    nalgebra_sparse::ops::Op::NoOp(&na),
                    nalgebra_sparse::ops::Op::NoOp(&nx),
                );
                Ok(())
            }),
        ];
        let (times, outputs) = time_rounds(&mut calls, reps)?;
        let expected = super::kernels::reference_spmv(a, &x)?;
        let (nnz, rows, cols) = (a.nnz() as f64, a.nrows() as f64, a.ncols() as f64);
        for ((name, t), y) in PEERS.iter().zip(times).zip(&outputs) {
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
                    Ok(PeerProduct::Sprs(if transpose_b {
                        let bt = sp.transpose_view().to_csr();
                        &sp * &bt
                    } else {
                        &sp * &sp
                    }))
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
                    Ok(PeerProduct::Faer(product))
                }),
            ),
            (
                "nalgebra-sparse",
                Box::new(|| {
                    Ok(PeerProduct::Nalgebra(if transpose_b {
                        &na * &na.transpose()
                    } else {
                        &na * &na
                    }))
                }),
            ),
        ];
        let mut times = vec![Vec::with_capacity(reps); runs.len()];
        // Each peer's last product (or why it failed), checked after the clock stops.
        let mut last: Vec<Result<Option<PeerProduct>, String>> =
            (0..runs.len()).map(|_| Ok(None)).collect();
        for round in 0..=reps {
            for (i, (_, run)) in runs.iter_mut().enumerate() {
                if last[i].is_err() {
                    continue;
                }
                last[i] = Ok(None); // free the previous product before making the next
                super::timed::settle();
                let t = Instant::now();
                // A peer that fails (faer refuses some products with IndexOverflow) gets a
                // row saying so instead of stopping the run.
                last[i] = run().map(Some).map_err(|e| format!("failed: {e:?}"));
                if round > 0 {
                    times[i].push(t.elapsed());
                }
            }
        }
        let flops = 2.0 * super::kernels::products_of(a, transpose_b) as f64;
        let at;
        let b_rows = if transpose_b {
            at = a.transpose();
            at.view()
        } else {
            a
        };
        for (((name, _), t), product) in runs.iter().zip(times).zip(last) {
            let checked = product.and_then(|p| {
                let p = p.ok_or("no rounds ran")?;
                let c_nnz = p.nnz();
                let c = p
                    .into_csr(a.nrows(), b_rows.nrows())
                    .map_err(|e| e.to_string())?;
                let err =
                    super::kernels::check_product_rows(a, b_rows, &c).map_err(|e| e.to_string())?;
                Ok((c_nnz, err))
            });
            let (c_nnz, err, note) = match checked {
                Ok((n, err)) => (n, Some(err), format!("nnz(C) = {n}")),
                Err(e) => (0, None, format!("not checked: {e}")),
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
                max_rel_err: err,
                note,
            });
        }
    }
    Ok(records)
}
