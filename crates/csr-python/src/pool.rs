//! The rayon pool the bindings compute on, its size, and running work on it without the GIL.

use std::sync::{Arc, RwLock};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::errors::no_panic;

/// Environment variables naming the thread count, first match wins.
const THREAD_ENV: [&str; 2] = ["CSR_NUM_THREADS", "RAYON_NUM_THREADS"];

/// The pool every call runs on; `None` until first use or after a failed resize.
static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);

/// The thread count the environment asks for (`0`: rayon's default, one per core).
fn env_threads() -> usize {
    THREAD_ENV
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find_map(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
}

fn build(threads: usize) -> PyResult<Arc<ThreadPool>> {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("csr-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| PyValueError::new_err(format!("cannot start {threads} threads: {e}")))
}

/// The current pool, made on first use from `CSR_NUM_THREADS` / `RAYON_NUM_THREADS`.
fn pool() -> PyResult<Arc<ThreadPool>> {
    if let Some(p) = POOL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Ok(Arc::clone(p));
    }
    let mut slot = POOL.write().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = slot.as_ref() {
        return Ok(Arc::clone(p));
    }
    let p = build(env_threads())?;
    *slot = Some(Arc::clone(&p));
    Ok(p)
}

/// Work (entries + rows) below which the library runs on the calling thread (its
/// documented threshold, about 65 000): such calls skip the hand-over to the pool, whose
/// wake-up would cost more than the work.
const SERIAL_WORK: usize = 1 << 16;

/// Runs `f` with the GIL released, a panic becoming a `RuntimeError`: on the pool when
/// `work` (entries + rows, or bytes for files) is large enough to be split, else on the
/// calling thread.
pub(crate) fn compute<R: Send>(
    py: Python<'_>,
    work: usize,
    f: impl FnOnce() -> PyResult<R> + Send,
) -> PyResult<R> {
    if work < SERIAL_WORK {
        return on_calling_thread(py, f);
    }
    let p = pool()?;
    py.detach(|| no_panic(|| p.install(f)))
}

/// Where a call on a handle runs.
#[derive(Clone, Copy, Default)]
pub(crate) enum Placement {
    /// [`on_calling_thread`].
    CallingThread,
    /// [`joined`].
    Joined,
    /// [`compute`] (also for a released handle, whose call then reports it).
    #[default]
    Pool,
}

/// Runs `f` with the GIL released on the calling thread with the pool's workers as
/// helpers (`csr::joined::with_helpers`), a panic becoming a `RuntimeError`: for an SpMV
/// whose only parallel step is its row blocks (`Handle::spmv_joins_caller`), which the
/// calling thread then takes too instead of waiting for a worker to wake.
pub(crate) fn joined<R: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> PyResult<R> + Send,
) -> PyResult<R> {
    let p = pool()?;
    py.detach(|| no_panic(|| csr::joined::with_helpers(&p, f)))
}

/// Runs `f` with the GIL released on the calling thread, a panic becoming a
/// `RuntimeError`: for work the library says it runs serially, with no rayon call.
pub(crate) fn on_calling_thread<R: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> PyResult<R> + Send,
) -> PyResult<R> {
    py.detach(|| no_panic(f))
}

/// Entries of a zeroed output below which one thread writes them all.
pub(crate) const PARALLEL_ZEROS: usize = 1 << 16;

/// `n` zeros for an output vector, written by the current pool's threads when `n` is large
/// and the caller runs on the pool (inside [`compute`]). The allocator hands a large block
/// freed by an earlier call back without clearing it, so `vec![0; n]` clears it with a
/// `memset` on one thread: for the 32 MB `y` of a one-call SpMV on poisson2d(2000), 6.7 %
/// of the call's samples.
pub(crate) fn zeros<T: csr::Scalar>(n: usize) -> Vec<T> {
    use rayon::prelude::*;
    // Outside the pool (a serial call on the calling thread), no rayon call.
    if n < PARALLEL_ZEROS || rayon::current_thread_index().is_none() {
        return vec![T::zero(); n];
    }
    let mut v = Vec::with_capacity(n);
    v.par_extend(rayon::iter::repeat_n(T::zero(), n).with_min_len(PARALLEL_ZEROS));
    v
}

/// Sets the number of threads later calls run on (`0`: one per core). Calls already
/// running finish on the old pool. A pool of that size already in place is kept: a call
/// such as `sp_matmul_topn(..., n_threads=2)` sets the count and puts it back around every
/// product, and a new pool would start (and stop) its threads each time.
#[pyfunction]
pub(crate) fn set_num_threads(py: Python<'_>, n: usize) -> PyResult<()> {
    let current = POOL
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|p| p.current_num_threads());
    if n > 0 && current == Some(n) {
        return Ok(());
    }
    let p = build(n)?;
    let old = POOL.write().unwrap_or_else(|e| e.into_inner()).replace(p);
    // The old pool's threads stop once no call runs on it; drop it without the GIL.
    py.detach(move || drop(old));
    Ok(())
}

/// The number of threads calls run on.
#[pyfunction]
pub(crate) fn get_num_threads() -> PyResult<usize> {
    Ok(pool()?.current_num_threads())
}
