//! [`DistOperator`]: SpMV with the halo exchange overlapped with the local product.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use csr::kernel::{Handle, Kernel};
use csr::{Index, Strategy};
use mpi::traits::*;

use crate::Value;
use crate::error::{Error, Result};
use crate::matrix::DistCsr;
use crate::vector::DistVector;

/// The message tag of halo values.
const HALO_TAG: mpi::Tag = 16;

/// A [`DistCsr`] prepared for products by a kernel: one handle per block, each with its
/// SpMV plan made once (the native kernel's strategy partitioning, MKL's analysis).
///
/// # Examples
///
/// ```no_run
/// use csr_mpi::{DistCsr, mpi};
///
/// let universe = mpi::initialize().expect("MPI initialises once");
/// let world = universe.world();
/// let a: csr::Csr<f64, i32> = "poisson2d:100".parse::<csr::generate::Generator>()?.build(1)?;
/// let rank0 = mpi::traits::Communicator::rank(&world) == 0;
/// let a = DistCsr::scatter(&world, rank0.then_some(&a), None)?;
/// let op = a.operator(csr::kernel::kernel()?, None)?;
/// let x = a.col_vector(|_| 1.0);
/// let mut y = a.row_vector(|_| 0.0);
/// op.spmv(1.0, &x, 0.0, &mut y)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DistOperator<'a, T: Value, I: Index> {
    a: &'a DistCsr<T, I>,
    kernel: &'static dyn Kernel<T, I>,
    local: Handle<'a, T, I>,
    nonlocal: Handle<'a, T, I>,
    /// The ghost values received and the owned values sent, reused by every product.
    buffers: RefCell<Buffers<T>>,
}

struct Buffers<T> {
    ghost: Vec<T>,
    send: Vec<T>,
}

/// Where one SpMV spent its time on this rank.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phases {
    /// Packing the values to send and posting the messages.
    pub post: Duration,
    /// The local block's product (while messages travel).
    pub local: Duration,
    /// Waiting for the messages after the local product.
    pub wait: Duration,
    /// The non-local block's product.
    pub nonlocal: Duration,
}

impl<T: Value, I: Index> DistCsr<T, I> {
    /// Prepares both blocks for `kernel`, with `strategy` for the native kernel if given
    /// (else each block's own, `automatic` by default).
    ///
    /// # Errors
    /// [`Error::Csr`] if the kernel cannot take a block.
    pub fn operator(
        &self,
        kernel: &'static dyn Kernel<T, I>,
        strategy: Option<Strategy>,
    ) -> Result<DistOperator<'_, T, I>> {
        let (mut local, mut nonlocal) = (self.local.view(), self.nonlocal.view());
        if let Some(s) = strategy {
            (local, nonlocal) = (local.with_strategy(s), nonlocal.with_strategy(s));
        }
        let handles = kernel
            .to_handle(local)
            .and_then(|l| Ok((l, kernel.to_handle(nonlocal)?)));
        let (local, nonlocal) = self.comm.agree(handles.map_err(Error::from))?;
        Ok(DistOperator {
            a: self,
            kernel,
            local,
            nonlocal,
            buffers: RefCell::new(Buffers {
                ghost: vec![T::zero(); self.ghosts.len()],
                send: vec![T::zero(); self.plan.send_idx.len()],
            }),
        })
    }
}

impl<'a, T: Value, I: Index> DistOperator<'a, T, I> {
    /// The matrix.
    pub fn matrix(&self) -> &'a DistCsr<T, I> {
        self.a
    }

    /// `y = alpha·A·x + beta·y` (collective). With `beta == 0` the old `y` is ignored.
    ///
    /// Receives for the ghost values are posted first, then the sends of the owned values
    /// each neighbour needs; the local block is multiplied while they travel; after the wait
    /// the non-local block's product is added. A rank with no ghosts and no neighbours
    /// exchanges nothing.
    ///
    /// # Errors
    /// [`Error::Mismatch`] if `x` is not partitioned like the columns or `y` like the rows.
    pub fn spmv(&self, alpha: T, x: &DistVector<T>, beta: T, y: &mut DistVector<T>) -> Result<()> {
        self.spmv_phases(alpha, x, beta, y).map(|_| ())
    }

    /// [`spmv`](Self::spmv), telling where this rank spent its time.
    ///
    /// # Errors
    /// As [`spmv`](Self::spmv).
    pub fn spmv_phases(
        &self,
        alpha: T,
        x: &DistVector<T>,
        beta: T,
        y: &mut DistVector<T>,
    ) -> Result<Phases> {
        let a = self.a;
        if *x.partition != *a.cols || *y.partition != *a.rows {
            return Err(Error::Mismatch {
                op: "DistOperator::spmv",
                what: "x must be partitioned like the columns and y like the rows".into(),
            });
        }
        let plan = &a.plan;
        let comm = &a.comm;
        let mut phases = Phases::default();
        let start = Instant::now();
        let xl = x.local();
        let mut buffers = self.buffers.borrow_mut();
        let Buffers { ghost, send } = &mut *buffers;
        for (s, &k) in send.iter_mut().zip(&plan.send_idx) {
            *s = xl[k];
        }
        let send = &send[..];
        let local = mpi::request::scope(|scope| {
            let mut recvs = Vec::with_capacity(plan.recv.len());
            let mut rest = &mut ghost[..];
            for &(rank, n) in &plan.recv {
                let (head, tail) = rest.split_at_mut(n);
                rest = tail;
                recvs.push(
                    comm.process(rank)
                        .immediate_receive_into_with_tag(scope, head, HALO_TAG),
                );
            }
            let sends: Vec<_> = plan
                .send
                .iter()
                .map(|(rank, range)| {
                    comm.process(*rank).immediate_send_with_tag(
                        scope,
                        &send[range.clone()],
                        HALO_TAG,
                    )
                })
                .collect();
            let posted = Instant::now();
            phases.post = posted - start;
            let local = self
                .kernel
                .mult_vec(&self.local, alpha, xl, beta, y.local_mut());
            let multiplied = Instant::now();
            phases.local = multiplied - posted;
            for r in recvs {
                r.wait();
            }
            for s in sends {
                s.wait();
            }
            phases.wait = multiplied.elapsed();
            local
        });
        local?;
        if a.nonlocal.nnz() > 0 {
            let t = Instant::now();
            self.kernel
                .mult_vec(&self.nonlocal, alpha, ghost, T::one(), y.local_mut())?;
            phases.nonlocal = t.elapsed();
        }
        Ok(phases)
    }
}
