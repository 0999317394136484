//! The conjugate gradient method, written once over [`Operator`]: serial on a [`Csr`]
//! ([`SerialOperator`]) and distributed on a [`DistCsr`] ([`DistOperator`]).

use csr::kernel::{Handle, Kernel};
use csr::{CsrRef, Index};
use num_traits::Float;

use crate::Value;
use crate::error::{Error, Result};
use crate::spmv::DistOperator;
use crate::vector::{DistVector, axpy, local_dot};

/// What CG needs of a matrix and its vectors: a product, global sums of per-rank partial
/// sums, and the diagonal. Vectors expose this rank's entries as slices; elementwise
/// updates act on those.
pub trait Operator<T: Value> {
    /// The vector type.
    type Vector: AsRef<[T]> + AsMut<[T]> + Clone;

    /// `y = A·x`.
    ///
    /// # Errors
    /// The product's errors.
    fn apply(&self, x: &Self::Vector, y: &mut Self::Vector) -> Result<()>;

    /// Replaces each value by its sum over ranks (one `allreduce` when distributed).
    fn sum(&self, values: &mut [T]);

    /// This rank's part of the diagonal (duplicates summed, missing entries zero), and the
    /// global index of its first row.
    fn diagonal(&self) -> (Vec<T>, usize);

    /// Makes every rank fail when any does (a no-op when serial).
    ///
    /// # Errors
    /// The first failing rank's error.
    fn agree<X>(&self, local: Result<X>) -> Result<X>;
}

/// How to run CG.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CgOptions {
    /// Stop when `‖r‖ ≤ tol·‖b‖`.
    pub tol: f64,
    /// Stop after this many iterations.
    pub max_iter: usize,
    /// Precondition with the inverse diagonal (Jacobi).
    pub jacobi: bool,
}

impl Default for CgOptions {
    fn default() -> Self {
        Self {
            tol: 1e-8,
            max_iter: 1000,
            jacobi: false,
        }
    }
}

/// What CG returned.
#[derive(Clone, Debug)]
pub struct CgResult<V> {
    /// The solution found.
    pub x: V,
    /// Iterations run (products with `A`).
    pub iterations: usize,
    /// `‖r‖` before the first iteration and after each.
    pub residuals: Vec<f64>,
    /// Whether `‖r‖ ≤ tol·‖b‖` was reached.
    pub converged: bool,
}

/// The diagonal entries of `a`'s rows, row `i` holding column `i + offset`.
pub(crate) fn diagonal_of<T: Value, I: Index>(a: CsrRef<'_, T, I>, offset: usize) -> Vec<T> {
    (0..a.nrows())
        .map(|i| {
            let (cols, vals) = a.row(i);
            cols.iter()
                .zip(vals)
                .filter(|(c, _)| c.to_usize() == i + offset)
                .map(|(_, &v)| v)
                .sum()
        })
        .collect()
}

/// Solves `A·x = b` from `x = 0` by conjugate gradients (`A` symmetric positive definite),
/// optionally Jacobi-preconditioned. Each iteration does one product and two global sums
/// (`pᵀq`, then `rᵀr` and `rᵀz` together).
///
/// # Errors
/// [`Error::ZeroDiagonal`] on every rank if Jacobi meets a zero diagonal entry; the
/// operator's errors.
///
/// # Examples
///
/// ```
/// use csr_mpi::{CgOptions, SerialOperator, cg};
///
/// // A generated stencil has random values: A + Aᵀ makes it symmetric positive definite.
/// let a: csr::Csr<f64, i32> = "poisson2d:20".parse::<csr::generate::Generator>()?.build(1)?;
/// let a = a.scale_add(1.0, 1.0, &a.transpose())?;
/// let op = SerialOperator::new(csr::kernel::kernel()?, a.view())?;
/// let b = vec![1.0; a.nrows()];
/// let out = cg(&op, &b, &CgOptions::default())?;
/// assert!(out.converged);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cg<T: Value, O: Operator<T>>(
    op: &O,
    b: &O::Vector,
    options: &CgOptions,
) -> Result<CgResult<O::Vector>> {
    let inv_diag = if options.jacobi {
        let (d, first) = op.diagonal();
        let inv = d
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                if d == T::zero() {
                    Err(Error::ZeroDiagonal { row: first + i })
                } else {
                    Ok(T::one() / d)
                }
            })
            .collect::<Result<Vec<T>>>();
        Some(op.agree(inv)?)
    } else {
        None
    };
    let precondition = |r: &[T], z: &mut [T]| match &inv_diag {
        Some(inv) => {
            for ((z, &r), &d) in z.iter_mut().zip(r).zip(inv) {
                *z = r * d;
            }
        }
        None => z.copy_from_slice(r),
    };
    let to_f64 = |x: T| x.to_f64().unwrap_or(f64::NAN);
    let mut x = b.clone();
    x.as_mut().fill(T::zero());
    let mut r = b.clone();
    let mut z = b.clone();
    precondition(r.as_ref(), z.as_mut());
    let mut p = z.clone();
    let mut q = b.clone();
    let mut sums = [
        local_dot(r.as_ref(), r.as_ref()),
        local_dot(r.as_ref(), z.as_ref()),
    ];
    op.sum(&mut sums);
    let [mut rr, mut rz] = sums;
    let bnorm = to_f64(Float::sqrt(rr));
    let target = options.tol * bnorm;
    let mut residuals = vec![bnorm];
    let mut iterations = 0;
    let mut converged = bnorm <= target;
    while !converged && iterations < options.max_iter {
        op.apply(&p, &mut q)?;
        let mut pq = [local_dot(p.as_ref(), q.as_ref())];
        op.sum(&mut pq);
        iterations += 1;
        if pq[0].partial_cmp(&T::zero()) != Some(std::cmp::Ordering::Greater) {
            // Not positive definite (or NaN): stop, not converged.
            break;
        }
        let alpha = rz / pq[0];
        axpy(x.as_mut(), alpha, p.as_ref());
        axpy(r.as_mut(), -alpha, q.as_ref());
        precondition(r.as_ref(), z.as_mut());
        let mut sums = [
            local_dot(r.as_ref(), r.as_ref()),
            local_dot(r.as_ref(), z.as_ref()),
        ];
        op.sum(&mut sums);
        let rz_new = sums[1];
        rr = sums[0];
        let rnorm = to_f64(Float::sqrt(rr));
        residuals.push(rnorm);
        converged = rnorm <= target;
        let beta = rz_new / rz;
        rz = rz_new;
        for (p, &z) in p.as_mut().iter_mut().zip(z.as_ref()) {
            *p = z + beta * *p;
        }
    }
    Ok(CgResult {
        x,
        iterations,
        residuals,
        converged,
    })
}

/// A [`Csr`](csr::Csr) on one process as a CG [`Operator`], its vectors plain `Vec`s.
pub struct SerialOperator<'a, T: Value, I: Index> {
    kernel: &'static dyn Kernel<T, I>,
    handle: Handle<'a, T, I>,
}

impl<'a, T: Value, I: Index> SerialOperator<'a, T, I> {
    /// Prepares `a` for `kernel`.
    ///
    /// # Errors
    /// [`Error::Csr`] if the kernel cannot take `a`.
    pub fn new(kernel: &'static dyn Kernel<T, I>, a: CsrRef<'a, T, I>) -> Result<Self> {
        Ok(Self {
            kernel,
            handle: kernel.to_handle(a)?,
        })
    }
}

impl<T: Value, I: Index> Operator<T> for SerialOperator<'_, T, I> {
    type Vector = Vec<T>;

    fn apply(&self, x: &Vec<T>, y: &mut Vec<T>) -> Result<()> {
        Ok(self
            .kernel
            .mult_vec(&self.handle, T::one(), x, T::zero(), y)?)
    }

    fn sum(&self, _values: &mut [T]) {}

    fn diagonal(&self) -> (Vec<T>, usize) {
        (diagonal_of(self.handle.matrix(), 0), 0)
    }

    fn agree<X>(&self, local: Result<X>) -> Result<X> {
        local
    }
}

impl<T: Value, I: Index> Operator<T> for DistOperator<'_, T, I> {
    type Vector = DistVector<T>;

    fn apply(&self, x: &DistVector<T>, y: &mut DistVector<T>) -> Result<()> {
        self.spmv(T::one(), x, T::zero(), y)
    }

    fn sum(&self, values: &mut [T]) {
        self.matrix().comm.sum_in_place(values);
    }

    fn diagonal(&self) -> (Vec<T>, usize) {
        let a = self.matrix();
        let rows = a.my_rows();
        let cols = a.col_partition().range(a.rank().0);
        // Row `i` of the local block holds global column `rows.start + i`, local column
        // `rows.start + i - cols.start`: inside the block only for a square partition.
        let d = if rows.start >= cols.start {
            diagonal_of(a.local().view(), rows.start - cols.start)
        } else {
            vec![T::zero(); rows.len()]
        };
        (d, rows.start)
    }

    fn agree<X>(&self, local: Result<X>) -> Result<X> {
        self.matrix().comm.agree(local)
    }
}

#[cfg(test)]
mod tests {
    use csr::Csr;
    use csr::generate::Generator;
    use csr::kernel::ReferenceKernel;

    use super::*;

    /// `A + Aᵀ` of a generated stencil (random values, so not symmetric itself): symmetric,
    /// diagonally dominant with a positive diagonal, hence positive definite.
    fn poisson(n: usize) -> Csr<f64, i32> {
        let a: Csr<f64, i32> = Generator::Poisson2d { n }.build(3).unwrap();
        a.scale_add(1.0, 1.0, &a.transpose()).unwrap()
    }

    /// `‖b - A·x‖` by the reference kernel.
    fn true_residual(a: &Csr<f64, i32>, x: &[f64], b: &[f64]) -> f64 {
        let k = ReferenceKernel;
        let h = k.to_handle(a.view()).unwrap();
        let mut r = b.to_vec();
        k.mult_vec(&h, -1.0, x, 1.0, &mut r).unwrap();
        local_dot(&r, &r).sqrt()
    }

    #[test]
    fn serial_cg_solves_a_stencil() {
        let a = poisson(30);
        let b: Vec<f64> = (0..a.nrows())
            .map(|i| ((i * 7) % 11) as f64 - 5.0)
            .collect();
        let bnorm = local_dot(&b, &b).sqrt();
        for jacobi in [false, true] {
            let op = SerialOperator::new(&ReferenceKernel, a.view()).unwrap();
            let options = CgOptions {
                tol: 1e-10,
                max_iter: 500,
                jacobi,
            };
            let out = cg(&op, &b, &options).unwrap();
            assert!(out.converged, "jacobi {jacobi}: {} its", out.iterations);
            assert_eq!(out.residuals.len(), out.iterations + 1);
            assert_eq!(out.residuals[0], bnorm);
            // The recurrence's residual tracks the true one.
            let last = *out.residuals.last().unwrap();
            assert!(last <= 1e-10 * bnorm);
            assert!(true_residual(&a, &out.x, &b) <= 1e-9 * bnorm);
        }
    }

    #[test]
    fn jacobi_pays_off_on_a_badly_scaled_matrix() {
        // D·A·D with D spanning four orders of magnitude: plain CG struggles, Jacobi undoes D.
        let a = poisson(20);
        let scale = |i: usize| 10f64.powi((i % 5) as i32 - 2);
        let vals: Vec<f64> = a.iter().map(|(i, j, v)| v * scale(i) * scale(j)).collect();
        let (n, m, ptrs, cols, _) = a.clone().into_parts();
        let a = Csr::try_from_parts(n, m, ptrs, cols, vals).unwrap();
        let b = vec![1.0; n];
        let op = SerialOperator::new(&ReferenceKernel, a.view()).unwrap();
        let run = |jacobi| {
            let options = CgOptions {
                tol: 1e-8,
                max_iter: 2000,
                jacobi,
            };
            cg(&op, &b, &options).unwrap()
        };
        let (plain, jac) = (run(false), run(true));
        assert!(jac.converged);
        assert!(
            jac.iterations * 2 < plain.iterations,
            "{} vs {}",
            jac.iterations,
            plain.iterations
        );
    }

    #[test]
    fn a_zero_diagonal_is_refused_by_jacobi() {
        let a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![1, 0], vec![1.0, 1.0])
            .unwrap();
        let op = SerialOperator::new(&ReferenceKernel, a.view()).unwrap();
        let options = CgOptions {
            jacobi: true,
            ..CgOptions::default()
        };
        let err = cg(&op, &vec![1.0, 1.0], &options).unwrap_err();
        assert_eq!(err, Error::ZeroDiagonal { row: 0 });
    }

    #[test]
    fn an_indefinite_matrix_stops_unconverged() {
        let a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![0, 1], vec![1.0, -1.0])
            .unwrap();
        let op = SerialOperator::new(&ReferenceKernel, a.view()).unwrap();
        let out = cg(&op, &vec![1.0, 1.0], &CgOptions::default()).unwrap();
        assert!(!out.converged);
        assert_eq!(out.iterations, 1);
    }

    #[test]
    fn a_zero_right_hand_side_is_solved_at_once() {
        let a = poisson(4);
        let op = SerialOperator::new(&ReferenceKernel, a.view()).unwrap();
        let out = cg(&op, &vec![0.0; 16], &CgOptions::default()).unwrap();
        assert!(out.converged);
        assert_eq!((out.iterations, out.x), (0, vec![0.0; 16]));
    }
}
