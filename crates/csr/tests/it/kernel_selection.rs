//! Kernel selection: names, availability, the process default, the thread-local active
//! kernel, `use_kernel` guards.
//!
//! Every test that changes the active kernel does so on threads of its own, so that it
//! cannot leak into other tests of this binary. The `CSR_KERNEL` variable is read once per
//! process, so it is tested in subprocesses (`crates/csr-cli/tests/cli.rs`).

use csr::kernel::{
    self, KERNEL_ENV, KernelId, available_kernels, default_kernel, get_kernel, set_kernel,
    use_kernel,
};
use csr::{Complex, Error};

/// The active kernel's id for a few type pairs (the active kernel is the same for all).
fn active() -> KernelId {
    let id = kernel::kernel::<f64, i32>().unwrap().id();
    assert_eq!(kernel::kernel::<f32, i64>().unwrap().id(), id);
    assert_eq!(kernel::kernel::<Complex<f64>, u32>().unwrap().id(), id);
    id
}

/// The process default, as this test process sees it.
fn default_id() -> KernelId {
    default_kernel().unwrap().0
}

/// Runs `f` on a fresh thread (with a fresh thread-local active kernel).
fn on_new_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(f).join().expect("test thread panicked"))
}

#[test]
fn names_are_case_insensitive() {
    for (name, id) in [
        ("native", KernelId::Native),
        ("NATIVE", KernelId::Native),
        ("Native", KernelId::Native),
        (" native ", KernelId::Native),
        ("reference", KernelId::Reference),
        ("Reference", KernelId::Reference),
        ("rEfErEnCe", KernelId::Reference),
    ] {
        assert_eq!(get_kernel::<f64, i32>(name).unwrap().id(), id, "{name:?}");
        assert_eq!(get_kernel::<Complex<f32>, i64>(name).unwrap().id(), id);
        assert_eq!(name.parse::<KernelId>().unwrap(), id);
    }
    for id in KernelId::ALL {
        assert_eq!(id.to_string(), id.name());
        assert_eq!(id.name().parse::<KernelId>().unwrap(), id);
        if let Ok(k) = kernel::kernel_for::<f64, i64>(id) {
            assert_eq!((k.id(), k.name()), (id, id.name()));
        }
    }
}

#[test]
fn unknown_names_list_the_known_kernels() {
    for name in ["bogus", "", "nativ", "native2", "mkl-ilp64"] {
        let err = get_kernel::<f64, i32>(name).map(|k| k.id()).unwrap_err();
        assert_eq!(
            err,
            Error::UnknownKernel {
                name: name.to_owned(),
                known: "native, reference, mkl".to_owned()
            }
        );
        assert_eq!(
            err.to_string(),
            format!("unknown kernel {name:?}; known kernels: native, reference, mkl")
        );
    }
}

#[test]
fn unavailable_kernels_say_why() {
    let infos = available_kernels();
    assert_eq!(
        infos.iter().map(|k| k.id).collect::<Vec<_>>(),
        KernelId::ALL.to_vec()
    );
    for info in &infos {
        match (info.id, &info.unavailable) {
            (KernelId::Native | KernelId::Reference, None) => {}
            (KernelId::Native | KernelId::Reference, Some(why)) => {
                panic!("{} must always be available, but: {why}", info.id)
            }
            (id, None) => assert!(get_kernel::<f64, i32>(id.name()).is_ok()),
            (id, Some(why)) => {
                assert!(!why.is_empty());
                match get_kernel::<f64, i32>(id.name()).map(|k| k.id()) {
                    Err(Error::KernelUnavailable { kernel, reason }) => {
                        assert_eq!(kernel, id.name());
                        assert!(!reason.is_empty());
                    }
                    other => panic!("{id}: expected KernelUnavailable, got {other:?}"),
                }
                assert!(matches!(
                    set_kernel(Some(id.name())),
                    Err(Error::KernelUnavailable { .. })
                ));
                assert!(matches!(
                    use_kernel(id.name()).map(drop),
                    Err(Error::KernelUnavailable { .. })
                ));
            }
        }
    }
}

/// MKL cannot be loaded until its kernel is built (issue "MKL kernel").
#[test]
fn mkl_is_usable_or_says_why_not() {
    if KernelId::Mkl.availability().is_ok() {
        // The unavailable case is tested in a separate process (csr-cli's tests, with
        // CSR_MKL_LIB pointing at a missing file).
        assert_eq!(get_kernel::<f64, i32>("MKL").unwrap().id(), KernelId::Mkl);
        let info = csr::kernel::mkl_info().unwrap();
        assert!(info.version.contains("Math Kernel Library"), "{info:?}");
        return;
    }
    eprintln!("NOTE: MKL not available: only the unavailable case is tested");
    match get_kernel::<f64, i32>("mkl").map(|k| k.id()) {
        Err(Error::KernelUnavailable {
            kernel: "mkl",
            reason,
        }) => assert!(!reason.is_empty()),
        other => panic!("expected KernelUnavailable, got {other:?}"),
    }
    match get_kernel::<f64, i32>("MKL").map(|k| k.id()) {
        Err(Error::KernelUnavailable { kernel: "mkl", .. }) => {}
        other => panic!("expected KernelUnavailable, got {other:?}"),
    }
}

#[test]
fn the_default_is_native_unless_the_environment_says_otherwise() {
    let (id, why) = default_kernel().unwrap();
    assert!(!why.is_empty());
    match std::env::var(KERNEL_ENV) {
        Ok(name) if !name.trim().is_empty() => {
            assert_eq!(id, name.parse::<KernelId>().unwrap());
            assert_eq!(why, "named by CSR_KERNEL");
        }
        // The reference kernel is never chosen unless named.
        _ if KernelId::Mkl.availability().is_ok() => assert_eq!(id, KernelId::Mkl),
        _ => assert_eq!(id, KernelId::Native),
    }
    // Fixed at first use: the same answer every time, from any thread.
    assert_eq!(default_kernel().unwrap(), (id, why));
    assert_eq!(on_new_thread(|| default_kernel().unwrap()), (id, why));
    assert_eq!(on_new_thread(active), id);
}

#[test]
fn set_kernel_is_thread_local() {
    on_new_thread(|| {
        let default = default_id();
        let other = if default == KernelId::Reference {
            KernelId::Native
        } else {
            KernelId::Reference
        };
        set_kernel(Some(other.name())).unwrap();
        assert_eq!(active(), other);
        // Other threads, new or already running, still see the default.
        assert_eq!(on_new_thread(active), default);
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
            s.spawn(move || {
                go_rx.recv().unwrap();
                tx.send(active()).unwrap();
            });
            set_kernel(Some(other.name())).unwrap();
            go_tx.send(()).unwrap();
            assert_eq!(rx.recv().unwrap(), default);
        });
        assert_eq!(active(), other, "still set on this thread");
        // None goes back to the default.
        set_kernel(None).unwrap();
        assert_eq!(active(), default);
    });
}

#[test]
fn failed_set_kernel_changes_nothing() {
    on_new_thread(|| {
        set_kernel(Some("reference")).unwrap();
        assert!(matches!(
            set_kernel(Some("bogus")),
            Err(Error::UnknownKernel { .. })
        ));
        assert_eq!(active(), KernelId::Reference);
        assert!(matches!(
            use_kernel("bogus").map(drop),
            Err(Error::UnknownKernel { .. })
        ));
        assert_eq!(active(), KernelId::Reference);
        if KernelId::Mkl.availability().is_err() {
            assert!(set_kernel(Some("mkl")).is_err());
            assert!(use_kernel("mkl").is_err());
            assert_eq!(active(), KernelId::Reference);
        }
        set_kernel(None).unwrap();
    });
}

#[test]
fn use_kernel_guards_nest_and_restore_in_order() {
    on_new_thread(|| {
        let default = default_id();
        let outer = use_kernel("reference").unwrap();
        assert_eq!(active(), KernelId::Reference);
        {
            let _inner = use_kernel("native").unwrap();
            assert_eq!(active(), KernelId::Native);
            {
                let _innermost = use_kernel("REFERENCE").unwrap();
                assert_eq!(active(), KernelId::Reference);
            }
            assert_eq!(active(), KernelId::Native);
        }
        assert_eq!(
            active(),
            KernelId::Reference,
            "the outer kernel, not the default"
        );
        drop(outer);
        assert_eq!(active(), default);

        // A guard restores what was active before it, including a set_kernel choice, and
        // undoes a set_kernel made while it was alive.
        set_kernel(Some("native")).unwrap();
        {
            let _g = use_kernel("reference").unwrap();
            set_kernel(Some("native")).unwrap();
            set_kernel(None).unwrap();
            assert_eq!(active(), default);
        }
        assert_eq!(active(), KernelId::Native);
        set_kernel(None).unwrap();
        assert_eq!(active(), default);
    });
}

#[test]
fn guards_dropped_out_of_order_restore_the_right_kernel() {
    on_new_thread(|| {
        let default = default_id();
        let outer = use_kernel("reference").unwrap();
        let inner = use_kernel("native").unwrap();
        // The outer scope ends first: the inner one is still live and stays in force.
        drop(outer);
        assert_eq!(active(), KernelId::Native);
        // Then the inner one: nothing is left, not even the outer's "reference".
        drop(inner);
        assert_eq!(active(), default);

        // Three scopes, the middle dropped first, then the outer, then the inner.
        set_kernel(Some("native")).unwrap();
        let a = use_kernel("reference").unwrap();
        let b = use_kernel("native").unwrap();
        let c = use_kernel("reference").unwrap();
        drop(b);
        assert_eq!(active(), KernelId::Reference);
        drop(a);
        assert_eq!(active(), KernelId::Reference);
        drop(c);
        assert_eq!(active(), KernelId::Native, "the set_kernel choice");
        set_kernel(None).unwrap();
        assert_eq!(active(), default);
    });
}

#[test]
fn guards_on_different_threads_are_independent() {
    std::thread::scope(|s| {
        for (t, name) in ["reference", "native", "reference", "native"]
            .into_iter()
            .enumerate()
        {
            s.spawn(move || {
                let id: KernelId = name.parse().unwrap();
                for _ in 0..200 {
                    let _g = use_kernel(name).unwrap();
                    assert_eq!(active(), id, "thread {t}");
                    std::thread::yield_now();
                    assert_eq!(active(), id, "thread {t}");
                }
                assert_eq!(active(), default_id());
            });
        }
    });
}

/// The active kernel is what `kernel()` hands out, and it computes.
#[test]
fn the_active_kernel_is_usable() {
    on_new_thread(|| {
        let a = csr::Csr::<f64, i32>::identity(3).unwrap();
        for name in ["reference", "native"] {
            let _g = use_kernel(name).unwrap();
            let k = kernel::kernel::<f64, i32>().unwrap();
            assert_eq!(k.name(), name);
            let h = k.to_handle(a.view()).unwrap();
            let mut y = [f64::NAN; 3];
            k.mult_vec(&h, 2.0, &[1.0, 2.0, 3.0], 0.0, &mut y).unwrap();
            assert_eq!(y, [2.0, 4.0, 6.0]);
        }
    });
}
