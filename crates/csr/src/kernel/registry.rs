//! Kernel names, availability, the process default and the thread-local active kernel.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use super::Kernel;
use super::mkl::MklKernel;
use super::native::NativeKernel;
use super::reference::ReferenceKernel;
use crate::error::{Error, Result};
use crate::{Index, Scalar};

/// The environment variable that names the default kernel.
pub const KERNEL_ENV: &str = "CSR_KERNEL";

/// The kernels this library knows, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KernelId {
    /// Pure Rust, parallel on rayon ([`NativeKernel`]).
    Native,
    /// Serial textbook code, the test oracle ([`ReferenceKernel`]).
    Reference,
    /// Intel MKL's sparse BLAS, loaded at run time.
    Mkl,
}

impl KernelId {
    /// Every kernel, in the order `csr kernels` lists them.
    pub const ALL: [KernelId; 3] = [KernelId::Native, KernelId::Reference, KernelId::Mkl];

    /// The kernel's name, as `CSR_KERNEL` and [`get_kernel`] spell it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KernelId::Native => "native",
            KernelId::Reference => "reference",
            KernelId::Mkl => "mkl",
        }
    }

    /// `Ok` if the kernel can run on this machine, else why not.
    ///
    /// # Errors
    /// [`Error::KernelUnavailable`] with the reason.
    pub fn availability(self) -> Result<()> {
        match self {
            KernelId::Native | KernelId::Reference => Ok(()),
            KernelId::Mkl => MklKernel::availability(),
        }
    }

    fn known_names() -> String {
        Self::ALL.map(KernelId::name).join(", ")
    }
}

impl fmt::Display for KernelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KernelId {
    type Err = Error;

    /// Parses a kernel name (case-insensitive, surrounding spaces ignored).
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| Error::UnknownKernel {
                name: s.to_owned(),
                known: Self::known_names(),
            })
    }
}

/// A kernel and whether it can run here, as [`available_kernels`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelInfo {
    /// The kernel.
    pub id: KernelId,
    /// `None` if it can run, else why not.
    pub unavailable: Option<String>,
}

/// Every known kernel with its availability.
///
/// # Examples
///
/// ```
/// let kernels = csr::kernel::available_kernels();
/// assert!(kernels.iter().any(|k| k.id.name() == "native" && k.unavailable.is_none()));
/// ```
#[must_use]
pub fn available_kernels() -> Vec<KernelInfo> {
    KernelId::ALL
        .into_iter()
        .map(|id| KernelInfo {
            id,
            unavailable: match id.availability() {
                Ok(()) => None,
                Err(Error::KernelUnavailable { reason, .. }) => Some(reason),
                Err(other) => Some(other.to_string()),
            },
        })
        .collect()
}

/// The process default kernel and why it was chosen, fixed at first use: `CSR_KERNEL` if
/// set, else `mkl` if it can be loaded, else `native`.
///
/// # Errors
/// [`Error::UnknownKernel`] or [`Error::KernelUnavailable`] if `CSR_KERNEL` names a kernel
/// that does not exist or cannot run (the same error on every call).
pub fn default_kernel() -> Result<(KernelId, &'static str)> {
    static DEFAULT: OnceLock<Result<(KernelId, &'static str)>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            choose_default(
                std::env::var(KERNEL_ENV).ok().as_deref(),
                KernelId::availability,
            )
        })
        .clone()
}

/// The default-kernel rule, given the value of `CSR_KERNEL` and each kernel's availability.
fn choose_default(
    env: Option<&str>,
    availability: impl Fn(KernelId) -> Result<()>,
) -> Result<(KernelId, &'static str)> {
    if let Some(name) = env.filter(|s| !s.trim().is_empty()) {
        let id: KernelId = name.parse()?;
        availability(id)?;
        return Ok((id, "named by CSR_KERNEL"));
    }
    if availability(KernelId::Mkl).is_ok() {
        return Ok((KernelId::Mkl, "MKL could be loaded"));
    }
    Ok((KernelId::Native, "MKL is unavailable"))
}

/// The calling thread's kernel choices: the one [`set_kernel`] made outside any
/// [`use_kernel`] scope (`base`), and one entry per live guard, innermost last.
#[derive(Default)]
struct Choices {
    base: Option<KernelId>,
    /// `(guard token, kernel)` of every live guard, in the order they were made.
    scopes: Vec<(u64, Option<KernelId>)>,
    next_token: u64,
}

impl Choices {
    /// The choice in force: the innermost live guard's, else the base.
    fn active(&self) -> Option<KernelId> {
        self.scopes.last().map_or(self.base, |&(_, id)| id)
    }
}

thread_local! {
    static CHOICES: RefCell<Choices> = RefCell::default();
}

/// The calling thread's active kernel id: the one set by [`set_kernel`] or [`use_kernel`],
/// else the process default.
fn active_id() -> Result<KernelId> {
    match CHOICES.with(|c| c.borrow().active()) {
        Some(id) => Ok(id),
        None => Ok(default_kernel()?.0),
    }
}

/// The kernel `id` for values `T` and indices `I`.
///
/// # Errors
/// [`Error::KernelUnavailable`] if it cannot run here.
pub fn kernel_for<T: Scalar, I: Index>(id: KernelId) -> Result<&'static dyn Kernel<T, I>> {
    id.availability()?;
    match id {
        KernelId::Native => Ok(&NativeKernel),
        KernelId::Reference => Ok(&ReferenceKernel),
        KernelId::Mkl => {
            static MKL: MklKernel = MklKernel::new();
            Ok(&MKL)
        }
    }
}

/// The calling thread's active kernel.
///
/// # Errors
/// As [`default_kernel`].
pub fn kernel<T: Scalar, I: Index>() -> Result<&'static dyn Kernel<T, I>> {
    kernel_for(active_id()?)
}

/// The kernel called `name` (case-insensitive).
///
/// # Errors
/// [`Error::UnknownKernel`] naming the known kernels; [`Error::KernelUnavailable`].
pub fn get_kernel<T: Scalar, I: Index>(name: &str) -> Result<&'static dyn Kernel<T, I>> {
    kernel_for(name.parse()?)
}

/// Makes `name` the calling thread's active kernel; `None` goes back to the process default.
/// Other threads are not affected. Inside a [`use_kernel`] scope the change lasts until that
/// scope's guard is dropped (which restores what was active before the scope).
///
/// # Errors
/// [`Error::UnknownKernel`], [`Error::KernelUnavailable`]; the active kernel is then
/// unchanged.
pub fn set_kernel(name: Option<&str>) -> Result<()> {
    let id = match name {
        Some(name) => {
            let id: KernelId = name.parse()?;
            id.availability()?;
            Some(id)
        }
        None => None,
    };
    CHOICES.with(|c| {
        let mut c = c.borrow_mut();
        match c.scopes.last_mut() {
            Some((_, innermost)) => *innermost = id,
            None => c.base = id,
        }
    });
    Ok(())
}

/// Makes `name` the calling thread's active kernel until the returned guard is dropped,
/// which restores the kernel that was active before (so nested guards unwind correctly).
///
/// Guards form a stack per thread, and dropping one out of order is handled: the active
/// kernel is always the innermost *live* guard's (or, with none, the thread's
/// [`set_kernel`] choice or the process default). Dropping an outer guard while an inner
/// one lives removes only the outer scope.
///
/// The choice is per thread: rayon workers that run the operations of a kernel do not see
/// it, and need not (a kernel, once chosen, runs its own parallel work). Code that picks a
/// kernel *inside* a rayon task sees that worker's choice (usually the process default):
/// pass a kernel from [`kernel`] into the task rather than calling [`kernel`] there.
///
/// # Errors
/// [`Error::UnknownKernel`], [`Error::KernelUnavailable`]; nothing changes then.
///
/// # Examples
///
/// ```
/// use csr::kernel::{self, KernelId};
///
/// let outer = kernel::use_kernel("reference")?;
/// {
///     let _inner = kernel::use_kernel("native")?;
///     assert_eq!(kernel::kernel::<f64, i32>()?.id(), KernelId::Native);
/// }
/// assert_eq!(kernel::kernel::<f64, i32>()?.id(), KernelId::Reference);
/// drop(outer);
/// # Ok::<(), csr::Error>(())
/// ```
pub fn use_kernel(name: &str) -> Result<KernelGuard> {
    let id: KernelId = name.parse()?;
    id.availability()?;
    let token = CHOICES.with(|c| {
        let mut c = c.borrow_mut();
        let token = c.next_token;
        c.next_token += 1;
        c.scopes.push((token, Some(id)));
        token
    });
    Ok(KernelGuard {
        token,
        _not_send: std::marker::PhantomData,
    })
}

/// Restores the previously active kernel when dropped (see [`use_kernel`]). It is not
/// `Send`: it must be dropped on the thread whose kernel it changed.
#[must_use = "the kernel is restored as soon as the guard is dropped"]
#[derive(Debug)]
pub struct KernelGuard {
    /// This guard's entry in the thread's scope stack.
    token: u64,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for KernelGuard {
    fn drop(&mut self) {
        // `try_with`: a guard dropped while the thread's locals are being destroyed has
        // nothing left to restore.
        let _ = CHOICES.try_with(|c| {
            c.borrow_mut().scopes.retain(|&(t, _)| t != self.token);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Availability on a machine without MKL.
    fn no_mkl(id: KernelId) -> Result<()> {
        match id {
            KernelId::Mkl => Err(Error::KernelUnavailable {
                kernel: "mkl",
                reason: String::from("test"),
            }),
            _ => Ok(()),
        }
    }

    #[test]
    fn default_rule_follows_the_environment_variable() {
        let all = |_| Ok(());
        for available in [no_mkl as fn(KernelId) -> Result<()>, all] {
            assert_eq!(
                choose_default(Some("reference"), available).unwrap().0,
                KernelId::Reference
            );
            assert_eq!(
                choose_default(Some(" Native "), available).unwrap().0,
                KernelId::Native
            );
            assert!(matches!(
                choose_default(Some("cuda"), available),
                Err(Error::UnknownKernel { .. })
            ));
        }
        // Without CSR_KERNEL: MKL if it loads, else native.
        for env in [None, Some(""), Some("  ")] {
            assert_eq!(
                choose_default(env, all).unwrap(),
                (KernelId::Mkl, "MKL could be loaded")
            );
            assert_eq!(
                choose_default(env, no_mkl).unwrap(),
                (KernelId::Native, "MKL is unavailable")
            );
        }
        // Naming an unavailable kernel is an error, not a fallback.
        assert!(matches!(
            choose_default(Some("mkl"), no_mkl),
            Err(Error::KernelUnavailable { .. })
        ));
        assert_eq!(choose_default(Some("mkl"), all).unwrap().0, KernelId::Mkl);
    }

    #[test]
    fn unknown_names_list_the_known_kernels() {
        let err = "fast".parse::<KernelId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown kernel \"fast\"; known kernels: native, reference, mkl"
        );
    }
}
