//! Lazily built handle state must not deadlock when rayon re-enters it.
//!
//! A native handle builds some state on first use: the transpose that `mult_abt` keeps in
//! `B`'s handle, and the SpMV plan of a product's handle. Building either runs rayon work,
//! and a rayon worker that waits for that work steals other tasks; if a stolen task needs the
//! same state, it must not wait on the build its own thread is running (which std's
//! `OnceLock::get_or_init` documents as a deadlock). Here many tasks of pools of 2, 8 and 32
//! threads use one shared, fresh handle at once, repeatedly, under a watchdog.

use std::sync::mpsc;
use std::time::Duration;

use csr::Csr;
use csr::generate::Generator;
use csr::kernel::{Kernel, NativeKernel};
use rayon::prelude::*;

/// Gives up (failing the test) if `f` has not finished in this long: a deadlock.
const WATCHDOG: Duration = Duration::from_secs(180);

/// Tasks per round, each one product with the shared handle.
const TASKS: usize = 16;

fn within_watchdog(what: &str, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(WATCHDOG) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no progress in {WATCHDOG:?} (deadlock)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the work panicked"),
    }
}

/// A matrix big enough that its transpose and its SpMV plan run on several threads, with
/// cheap products.
fn matrix() -> Csr<f64, i32> {
    "random:400000:400000:1"
        .parse::<Generator>()
        .unwrap()
        .build(11)
        .unwrap()
}

#[test]
fn many_tasks_sharing_a_fresh_handle_for_mult_abt_do_not_deadlock() {
    let a = matrix();
    let expected = {
        let h = NativeKernel.to_handle(a.view()).unwrap();
        NativeKernel
            .from_handle(&NativeKernel.mult_abt(&h, &h).unwrap())
            .unwrap()
    };
    for threads in [2, 8, 32] {
        let (a, expected) = (a.clone(), expected.clone());
        within_watchdog(&format!("mult_abt, {threads} threads"), move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for _ in 0..2 {
                // A fresh handle each round: its transpose is not built yet.
                let h = NativeKernel.to_handle(a.view()).unwrap();
                pool.install(|| {
                    (0..TASKS).into_par_iter().for_each(|_| {
                        let c = NativeKernel.mult_abt(&h, &h).unwrap();
                        assert_eq!(NativeKernel.from_handle(&c).unwrap(), expected);
                    });
                });
            }
        });
    }
}

#[test]
fn many_tasks_sharing_a_fresh_product_handle_for_mult_vec_do_not_deadlock() {
    let a = matrix();
    let x: Vec<f64> = (0..a.ncols()).map(|j| 1.0 / (1.0 + j as f64)).collect();
    for threads in [2, 8, 32] {
        let (a, x) = (a.clone(), x.clone());
        within_watchdog(&format!("product mult_vec, {threads} threads"), move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let h = NativeKernel.to_handle(a.view()).unwrap();
            for _ in 0..2 {
                // A fresh product: its SpMV plan is made on first use.
                let c = NativeKernel.mult_ab(&h, &h).unwrap();
                let mut expected = vec![0.0; a.nrows()];
                let plain = NativeKernel.from_handle(&c).unwrap();
                NativeKernel
                    .mult_vec(
                        &NativeKernel.to_handle(plain.view()).unwrap(),
                        1.0,
                        &x,
                        0.0,
                        &mut expected,
                    )
                    .unwrap();
                pool.install(|| {
                    (0..TASKS).into_par_iter().for_each(|_| {
                        let mut y = vec![f64::NAN; a.nrows()];
                        NativeKernel.mult_vec(&c, 1.0, &x, 0.0, &mut y).unwrap();
                        assert_eq!(y, expected);
                    });
                });
            }
        });
    }
}
