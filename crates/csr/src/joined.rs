//! Work split into blocks, run from a thread outside every rayon pool, with the calling
//! thread taking blocks itself while the pool's workers join as they wake.
//!
//! A rayon call from outside its pool (`install`, or a parallel iterator on a thread that
//! is not a worker) hands the whole call to a worker and blocks the caller until the work
//! is done: a worker must wake before anything starts, and the caller must be woken at the
//! end. On a 2-vCPU VM that hand-off cost 30–60 µs per call back to back and more after a
//! pause, more than a whole SpMV of 50k–100k entries and about a tenth of one of 1M
//! entries. Here the caller publishes the blocks, asks the pool for helpers
//! (`ThreadPool::spawn`), and starts on the blocks at once; a helper that wakes while blocks
//! are left takes them too. The caller then waits only for the blocks a helper has taken,
//! never for a helper to wake: a helper that arrives after the caller closed the work
//! leaves without touching it. Measured with a scratch executor of the same scheme in
//! `bench/runs/2026-12-08-caller-joins`.
//!
//! The blocks must be independent (each index runs once, on some thread, in any order).

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::ThreadPool;

thread_local! {
    /// The pool whose workers help this (non-worker) thread, set by [`with_helpers`] for
    /// the duration of its closure.
    static HELPERS: Cell<Option<*const ThreadPool>> = const { Cell::new(None) };
}

/// Runs `f` on the calling thread with `pool`'s workers as helpers for the block-split
/// work inside it that supports this (the native kernel's row-block SpMV: `classical` and
/// `load_balance`): the calling thread takes blocks itself instead of waiting for a worker
/// to wake. Other parallel work inside `f` runs as it would on this thread without it (on
/// rayon's global pool, cut into pieces for `pool`'s thread count), so `f` should hold
/// nothing else parallel; work on a thread that is already a rayon worker is unaffected.
///
/// # Examples
///
/// ```
/// use csr::Csr;
/// use csr::kernel::{Kernel, NativeKernel};
///
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// let a = Csr::<f64, i32>::try_from_parts(2, 2, vec![0, 1, 2], vec![0, 1], vec![2.0, 3.0])?;
/// let k = NativeKernel;
/// let h = pool.install(|| Kernel::<f64, i32>::to_handle(&k, a.view()))?;
/// let mut y = vec![0.0; 2];
/// csr::joined::with_helpers(&pool, || k.mult_vec(&h, 1.0, &[1.0, 1.0], 0.0, &mut y))?;
/// assert_eq!(y, vec![2.0, 3.0]);
/// # Ok::<(), csr::Error>(())
/// ```
pub fn with_helpers<R>(pool: &ThreadPool, f: impl FnOnce() -> R) -> R {
    /// Puts the previous setting back, on return and on unwinding.
    struct Restore(Option<*const ThreadPool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            HELPERS.with(|h| h.set(self.0));
        }
    }
    let _restore = Restore(HELPERS.with(|h| h.replace(Some(std::ptr::from_ref(pool)))));
    f()
}

/// The number of threads work started here runs on: the current rayon pool's on one of its
/// workers, else the helpers' of [`with_helpers`] (whose threads, the caller among them,
/// take the blocks), else the global pool's.
pub(crate) fn current_threads() -> usize {
    match helpers() {
        // SAFETY: as in `for_each_block`.
        Some(pool) => unsafe { &*pool }.current_num_threads(),
        None => rayon::current_num_threads(),
    }
}

/// The pool set by [`with_helpers`], when this thread is not a rayon worker.
fn helpers() -> Option<*const ThreadPool> {
    if rayon::current_thread_index().is_none() {
        HELPERS.with(Cell::get)
    } else {
        None
    }
}

/// Runs `block(i)` once for every `i` in `0..n`: on the helpers of [`with_helpers`] with
/// the caller taking blocks when this thread is not a rayon worker and has them, else as
/// one rayon task per block. A panic in a block is re-raised here once every block that
/// started has ended.
pub(crate) fn for_each_block(n: usize, block: &(dyn Fn(usize) + Sync)) {
    use rayon::prelude::*;
    match helpers() {
        _ if n <= 1 => (0..n).for_each(block),
        // SAFETY: the pointer was set by `with_helpers` on this thread from a reference
        // that outlives the closure running now (it is put back before `with_helpers`
        // returns or unwinds), and this call happens inside that closure.
        Some(pool) => run_joined(unsafe { &*pool }, n, block),
        None => (0..n).into_par_iter().with_max_len(1).for_each(block),
    }
}

/// The `closed` bit of [`Blocks::state`]; the bits below count the helpers at work.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// The blocks of one call, shared with the helpers it asked for.
struct Blocks {
    /// [`CLOSED`] once the caller stopped admitting helpers, plus how many are at work.
    state: AtomicUsize,
    /// The next block to take.
    next: AtomicUsize,
    n: usize,
    /// The caller's closure, its lifetime erased: called only by helpers at work (counted
    /// in `state`), while the caller waits for them.
    block: *const (dyn Fn(usize) + Sync + 'static),
    /// The first panic of a helper, re-raised by the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `block` is a `Sync` closure, called through a shared reference from any thread;
// it is dereferenced only under the protocol of `run_joined` (a helper counted in `state`,
// while the caller, who owns the closure, waits); the other fields are atomics and a mutex.
unsafe impl Send for Blocks {}
// SAFETY: as for `Send`.
unsafe impl Sync for Blocks {}

impl Blocks {
    /// Takes blocks until none is left.
    fn take_all(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n {
                return;
            }
            // SAFETY: the caller of `take_all` is the calling thread of `run_joined` (which
            // owns the closure) or a helper counted in `state` (the caller waits for it).
            unsafe { (*self.block)(i) };
        }
    }

    /// A helper's part: joins unless the caller has closed the work, then takes blocks.
    fn help(&self) {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & CLOSED != 0 {
                return;
            }
            match self
                .state
                .compare_exchange_weak(s, s + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| self.take_all())) {
            // Nobody takes more blocks; the caller re-raises the panic.
            self.next.store(self.n, Ordering::Relaxed);
            self.panic
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert(p);
        }
        // Release: the caller's Acquire load that sees the count drop sees the blocks'
        // writes.
        self.state.fetch_sub(1, Ordering::Release);
    }
}

/// Closes the work and waits for the helpers at work: on return and on unwinding, so that
/// no helper can call the closure after `run_joined` has left.
struct CloseAndWait<'b>(&'b Blocks);

impl Drop for CloseAndWait<'_> {
    fn drop(&mut self) {
        // Past the last block already on return; on unwinding, helpers stop taking more.
        self.0.next.store(self.0.n, Ordering::Relaxed);
        let state = &self.0.state;
        state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut spins = 0u32;
        while state.load(Ordering::Acquire) & !CLOSED != 0 {
            // A helper at work is running a block: short waits, then let it have the core.
            if spins < 1 << 10 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// [`for_each_block`] with the caller taking blocks and up to `threads - 1` of `pool`'s
/// workers helping (the caller is the last thread).
fn run_joined(pool: &ThreadPool, n: usize, block: &(dyn Fn(usize) + Sync)) {
    // SAFETY: only the lifetime changes. The erased closure is called by this thread and by
    // helpers counted in `state`; `CloseAndWait` keeps this function from returning or
    // unwinding past the borrow until the work is closed (no helper can join after) and no
    // helper is at work.
    let block: &'static (dyn Fn(usize) + Sync + 'static) = unsafe {
        std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static (dyn Fn(usize) + Sync)>(block)
    };
    let blocks = Arc::new(Blocks {
        state: AtomicUsize::new(0),
        next: AtomicUsize::new(0),
        n,
        block: std::ptr::from_ref(block),
        panic: Mutex::new(None),
    });
    let helpers = pool.current_num_threads().saturating_sub(1).min(n - 1);
    for _ in 0..helpers {
        let b = Arc::clone(&blocks);
        pool.spawn(move || b.help());
    }
    {
        let _close = CloseAndWait(&blocks);
        blocks.take_all();
    }
    let panic = blocks
        .panic
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(p) = panic {
        resume_unwind(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn pool(threads: usize) -> ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// Every block runs exactly once, with and without helpers, on pools of 1–4 threads,
    /// from several callers at once sharing one pool.
    #[test]
    fn every_block_runs_once_from_many_callers() {
        for threads in 1..=4 {
            let p = pool(threads);
            std::thread::scope(|s| {
                for caller in 0..4 {
                    let p = &p;
                    s.spawn(move || {
                        for n in [0usize, 1, 2, 3, 17, 200] {
                            let counts: Vec<AtomicUsize> =
                                (0..n).map(|_| AtomicUsize::new(0)).collect();
                            let f = |i: usize| {
                                counts[i].fetch_add(1, Ordering::Relaxed);
                            };
                            if caller % 2 == 0 {
                                with_helpers(p, || for_each_block(n, &f));
                            } else {
                                for_each_block(n, &f);
                            }
                            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
                        }
                    });
                }
            });
        }
    }

    /// Helpers really take blocks (the caller sleeps in each block it takes, so a helper
    /// that wakes finds blocks left), and the setting ends with `with_helpers`.
    #[test]
    fn helpers_join_and_the_setting_is_scoped() {
        let p = pool(2);
        let taken_elsewhere = AtomicBool::new(false);
        let caller = std::thread::current().id();
        let f = |_: usize| {
            if std::thread::current().id() != caller {
                taken_elsewhere.store(true, Ordering::Relaxed);
            } else {
                // Give the helper time to wake and take a block.
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        };
        with_helpers(&p, || for_each_block(8, &f));
        assert!(taken_elsewhere.load(Ordering::Relaxed));
        assert!(HELPERS.with(Cell::get).is_none());
    }

    /// A panic in a block reaches the caller after every started block ended, whichever
    /// thread ran it; the pool and the setting stay usable.
    #[test]
    fn a_panicking_block_is_re_raised_in_the_caller() {
        let p = pool(2);
        for bad in [0usize, 5] {
            let r = catch_unwind(AssertUnwindSafe(|| {
                with_helpers(&p, || {
                    for_each_block(8, &|i| assert!(i != bad, "block {i}"));
                });
            }));
            assert!(r.is_err());
            assert!(HELPERS.with(Cell::get).is_none());
        }
        let done = AtomicUsize::new(0);
        with_helpers(&p, || {
            for_each_block(8, &|_| {
                done.fetch_add(1, Ordering::Relaxed);
            });
        });
        assert_eq!(done.load(Ordering::Relaxed), 8);
    }
}
