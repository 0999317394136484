//! Finding and loading `libmkl_rt` at run time, once per process.
//!
//! Search order (the first library that loads wins):
//! 1. `CSR_MKL_LIB`, a full path; when set, nothing else is tried;
//! 2. `libmkl_rt.so.3`, `libmkl_rt.so.2`, `libmkl_rt.so` on the loader's search path;
//! 3. `$MKLROOT/lib`, `$MKLROOT/lib/intel64`;
//! 4. the `lib` folder of an active virtual environment (`$VIRTUAL_ENV`) or conda prefix
//!    (`$CONDA_PREFIX`);
//! 5. the project's own `.venv/lib` (where the README's set-up installs the `mkl` wheel),
//!    looked up from the running executable's folders and from the source tree;
//! 6. `/opt/intel/oneapi/mkl/latest/lib`.
//!
//! Before any compute call the threading layer is chosen with `MKL_Set_Threading_Layer` (the
//! CamelCase C entry point: the lowercase name is the Fortran one and takes a pointer):
//! the value of `MKL_THREADING_LAYER` if set (MKL reads it itself), else GNU OpenMP when
//! `libgomp.so.1` loads, else Intel OpenMP when `libiomp5.so` sits beside the library, else
//! sequential. Without this, a wheel without Intel OpenMP kills the process at the first call.

use std::ffi::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};

use libloading::Library;

use super::ffi::{
    Ilp64Api, IndexFns, MklApi, MklInt, THREADING_GNU, THREADING_INTEL, THREADING_SEQUENTIAL,
    ValueFns,
};
use super::sparse::MklMatrix;

/// The environment variable naming the MKL runtime library to load (a full path; when set,
/// nothing else is tried). Otherwise `libmkl_rt.so.3`/`.so.2`/`.so` are looked up on the
/// loader path, in `$MKLROOT/lib`, `$VIRTUAL_ENV/lib`, `$CONDA_PREFIX/lib`, the project's
/// `.venv/lib` and `/opt/intel/oneapi/mkl/latest/lib`.
pub const MKL_LIB_ENV: &str = "CSR_MKL_LIB";

/// The versioned and unversioned names of MKL's single dynamic library.
const SONAMES: [&str; 3] = ["libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so"];

/// A loaded MKL: its function table and what `csr kernels` reports about it.
pub(crate) struct Loaded {
    pub api: MklApi,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// `MKL_Get_Version_String`.
    pub version: String,
    /// The threading layer in use and why.
    pub threading: &'static str,
    /// Keeps the library mapped, so the function pointers in `api` stay valid.
    _library: Library,
}

/// The process's MKL, loaded on first use; `Err` says why it cannot be loaded.
pub(crate) fn loaded() -> Result<&'static Loaded, &'static str> {
    static LOADED: OnceLock<Result<Loaded, String>> = OnceLock::new();
    LOADED
        .get_or_init(|| load(std::env::var_os(MKL_LIB_ENV).filter(|v| !v.is_empty())))
        .as_ref()
        .map_err(String::as_str)
}

/// Every place to try, in order, given the value of `CSR_MKL_LIB`.
fn candidates(explicit: Option<std::ffi::OsString>) -> Vec<PathBuf> {
    if let Some(path) = explicit {
        return vec![PathBuf::from(path)];
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(root) = std::env::var_os("MKLROOT") {
        let root = PathBuf::from(root);
        dirs.push(root.join("lib"));
        dirs.push(root.join("lib/intel64"));
    }
    for prefix in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(p) = std::env::var_os(prefix) {
            dirs.push(PathBuf::from(p).join("lib"));
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(exe.ancestors().skip(1).map(|d| d.join(".venv/lib")));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/lib"));
    dirs.push(PathBuf::from("/opt/intel/oneapi/mkl/latest/lib"));

    let mut paths: Vec<PathBuf> = SONAMES.iter().map(PathBuf::from).collect();
    for dir in dirs {
        paths.extend(
            SONAMES
                .iter()
                .map(|name| dir.join(name))
                .filter(|p| p.exists()),
        );
    }
    paths
}

/// Loads the first candidate that works.
fn load(explicit: Option<std::ffi::OsString>) -> Result<Loaded, String> {
    let from_env = explicit.is_some();
    let mut failures = Vec::new();
    for path in candidates(explicit) {
        // SAFETY: loading MKL runs its ELF initialisers, which only set up MKL's own
        // state; the library is kept loaded for the rest of the process (in `Loaded`).
        let library = match unsafe { Library::new(&path) } {
            Ok(library) => library,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        return resolve(library, &path).map_err(|e| format!("{}: {e}", path.display()));
    }
    Err(if from_env {
        format!("{MKL_LIB_ENV} is set but {}", failures.join("; "))
    } else {
        format!(
            "libmkl_rt not found (tried the loader path, $MKLROOT, $VIRTUAL_ENV, $CONDA_PREFIX, \
             the project's .venv and /opt/intel; install the `mkl` wheel or set {MKL_LIB_ENV}); \
             last error: {}",
            failures.last().map_or("none", String::as_str)
        )
    })
}

/// Resolves one symbol as a function pointer of type `F`.
///
/// # Safety
/// `F` must be the symbol's true C signature.
unsafe fn symbol<F: Copy>(library: &Library, name: &str) -> Result<F, String> {
    // SAFETY: the caller guarantees `F` matches the symbol's signature; the pointer is
    // used only while `library` stays loaded (both live in `Loaded`).
    unsafe { library.get::<F>(name) }
        .map(|s| *s)
        .map_err(|e| format!("symbol {name}: {e}"))
}

/// Builds the function tables and selects the threading layer.
fn resolve(library: Library, path: &Path) -> Result<Loaded, String> {
    /// Resolves the four value-typed functions for prefix `p` (`s`, `d`, `c`, `z`) and
    /// suffix `sfx` (`""` or `"_64"`).
    ///
    /// # Safety
    /// `V` and `N` must be the value type and integer width of that prefix and suffix.
    unsafe fn values<V, N>(lib: &Library, p: &str, sfx: &str) -> Result<ValueFns<V, N>, String> {
        // SAFETY: the names and signatures are those of mkl_spblas.h for V and N (caller).
        unsafe {
            Ok(ValueFns {
                create_csr: symbol(lib, &format!("mkl_sparse_{p}_create_csr{sfx}"))?,
                export_csr: symbol(lib, &format!("mkl_sparse_{p}_export_csr{sfx}"))?,
                mv: symbol(lib, &format!("mkl_sparse_{p}_mv{sfx}"))?,
                mm: symbol(lib, &format!("mkl_sparse_{p}_mm{sfx}"))?,
            })
        }
    }
    /// Resolves the width-specific functions with suffix `sfx`.
    ///
    /// # Safety
    /// `N` must be the integer width of that suffix.
    unsafe fn index<N>(lib: &Library, sfx: &str) -> Result<IndexFns<N>, String> {
        // SAFETY: the names and signatures are those of mkl_spblas.h for N (caller).
        unsafe {
            Ok(IndexFns {
                destroy: symbol(lib, &format!("mkl_sparse_destroy{sfx}"))?,
                optimize: symbol(lib, &format!("mkl_sparse_optimize{sfx}"))?,
                order: symbol(lib, &format!("mkl_sparse_order{sfx}"))?,
                set_mv_hint: symbol(lib, &format!("mkl_sparse_set_mv_hint{sfx}"))?,
                sp2m: symbol(lib, &format!("mkl_sparse_sp2m{sfx}"))?,
            })
        }
    }

    // First of all, before any call that may make MKL load its other libraries: a fatal
    // error (a missing libmkl_core, an unsupported CPU) calls our handler instead of exit().
    // SAFETY: `int mkl_set_exit_handler(void (*)(int))` (mkl_service.h); `on_fatal` never
    // unwinds.
    unsafe {
        let set_exit_handler: unsafe extern "C" fn(Option<extern "C" fn(c_int)>) -> c_int =
            symbol(&library, "mkl_set_exit_handler")?;
        set_exit_handler(Some(on_fatal));
    }
    // The `_64` API is optional (MKL before 2023 lacks it): resolved all or nothing.
    let ilp64 = || -> Result<Ilp64Api, String> {
        // SAFETY: each table is resolved with the value type and width its names denote.
        unsafe {
            Ok(Ilp64Api {
                index: index(&library, "_64")?,
                s64: values(&library, "s", "_64")?,
                d64: values(&library, "d", "_64")?,
                c64: values(&library, "c", "_64")?,
                z64: values(&library, "z", "_64")?,
            })
        }
    };
    // SAFETY: as above.
    let api = unsafe {
        MklApi {
            lp64: index(&library, "")?,
            s32: values(&library, "s", "")?,
            d32: values(&library, "d", "")?,
            c32: values(&library, "c", "")?,
            z32: values(&library, "z", "")?,
            ilp64: ilp64().ok(),
            set_num_threads_local: symbol(&library, "MKL_Set_Num_Threads_Local")?,
        }
    };
    // SAFETY: signatures from mkl_service.h: `int MKL_Set_Threading_Layer(int)` and
    // `void MKL_Get_Version_String(char*, int)`.
    let (set_layer, version_string) = unsafe {
        (
            symbol::<unsafe extern "C" fn(c_int) -> c_int>(&library, "MKL_Set_Threading_Layer")?,
            symbol::<unsafe extern "C" fn(*mut c_char, c_int)>(&library, "MKL_Get_Version_String")?,
        )
    };

    let threading = match threading_layer(path) {
        Some((layer, why)) => {
            // SAFETY: called before any compute call, with a documented layer code.
            unsafe { set_layer(layer) };
            why
        }
        None => "as MKL_THREADING_LAYER says",
    };
    let mut buffer = vec![0u8; 256];
    // SAFETY: MKL writes at most `len` bytes, NUL-terminated, into the buffer.
    unsafe { version_string(buffer.as_mut_ptr().cast(), 256) };
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let version = String::from_utf8_lossy(&buffer[..end]).trim().to_owned();
    probe(&api)?;
    Ok(Loaded {
        api,
        path: path.to_path_buf(),
        version,
        threading,
        _library: library,
    })
}

/// The `why` code of the first fatal error MKL reported (0: none).
static FATAL: AtomicI32 = AtomicI32::new(0);

/// MKL's fatal-error handler: records the error. MKL then returns from the call that failed
/// without computing anything, instead of ending the process.
extern "C" fn on_fatal(why: c_int) {
    let code = if why == 0 { -1 } else { why };
    let _ = FATAL.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
}

/// The code of the fatal error MKL reported, if it ever did. MKL is unusable after one.
pub(crate) fn fatal_error() -> Option<i32> {
    match FATAL.load(Ordering::SeqCst) {
        0 => None,
        why => Some(why),
    }
}

/// Runs a 1 x 1 SpMV through each API MKL offers, which makes it load every library a
/// computation needs (its core, interface, threading and CPU-specific libraries). A partial
/// installation fails here, with a reason, rather than in the middle of a user's product.
fn probe(api: &MklApi) -> Result<(), String> {
    fn spmv<N: MklInt>(api: &MklApi) -> crate::Result<()> {
        let one = N::from_usize(1).unwrap_or_else(N::zeroed);
        let ptrs: [N; 2] = [N::zeroed(), one];
        let (mut cols, mut vals): ([N; 1], [f64; 1]) = ([N::zeroed()], [2.0]);
        // SAFETY: the arrays are a valid 1 x 1 CSR matrix that outlives `m` (dropped here).
        let m = unsafe {
            MklMatrix::wrap(
                api,
                &ptrs,
                (cols.as_mut_ptr(), vals.as_mut_ptr()),
                0..1,
                1,
                None,
            )?
        };
        let mut y = [0.0];
        m.mv::<f64, N>(api, 1.0, &[3.0], 0.0, &mut y)?;
        if y == [6.0] {
            Ok(())
        } else {
            Err(crate::Error::MklOutput {
                call: "mkl_sparse_d_mv",
                problem: format!("a 1 x 1 product gave {} instead of 6", y[0]),
            })
        }
    }
    let checked = spmv::<i32>(api).and_then(|()| match api.ilp64 {
        Some(_) => spmv::<i64>(api),
        None => Ok(()),
    });
    match (fatal_error(), checked) {
        (Some(why), _) => Err(format!(
            "MKL failed to start (fatal error {why}: a library it needs could not be loaded, \
             see its message above); MKL's other libraries must sit beside libmkl_rt"
        )),
        (None, Err(e)) => Err(format!("MKL's self-test failed: {e}")),
        (None, Ok(())) => Ok(()),
    }
}

/// The threading layer to select and why; `None` when `MKL_THREADING_LAYER` decides.
///
/// GNU OpenMP comes first: Intel OpenMP's workers spin for 200 ms (`KMP_BLOCKTIME`) after
/// every MKL call and take a core from the rayon threads that run next. Measured on
/// poisson2d(2000), 2 threads, `csr bench --spmv-only`: native SpMV 37 ms right after MKL
/// calls with the Intel layer, 22 ms with the GNU layer (MKL itself 16.8 ms either way
/// when not disturbed).
fn threading_layer(lib: &Path) -> Option<(c_int, &'static str)> {
    if std::env::var_os("MKL_THREADING_LAYER").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    // SAFETY: libgomp's initialisers only set up the GNU OpenMP runtime.
    if unsafe { Library::new("libgomp.so.1") }.is_ok() {
        return Some((THREADING_GNU, "gnu (system libgomp)"));
    }
    let beside = lib.parent().map(|d| d.join("libiomp5.so"));
    if beside.is_some_and(|p| p.exists()) {
        return Some((
            THREADING_INTEL,
            "intel (libiomp5 beside libmkl_rt; no libgomp)",
        ));
    }
    Some((THREADING_SEQUENTIAL, "sequential (no OpenMP runtime found)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_missing_library_is_an_error_not_a_fallback() {
        let err = load(Some("/nonexistent/libmkl_rt.so.3".into()))
            .err()
            .unwrap();
        assert!(
            err.starts_with("CSR_MKL_LIB is set but /nonexistent/libmkl_rt.so.3"),
            "{err}"
        );
    }

    #[test]
    fn a_library_that_is_not_mkl_is_refused() {
        let err = load(Some("libm.so.6".into())).err().unwrap();
        assert!(err.contains("symbol mkl_set_exit_handler"), "{err}");
    }

    #[test]
    fn explicit_path_is_the_only_candidate() {
        assert_eq!(
            candidates(Some("/x/y.so".into())),
            vec![PathBuf::from("/x/y.so")]
        );
        let found = candidates(None);
        assert_eq!(found[..3], SONAMES.map(PathBuf::from));
    }
}
