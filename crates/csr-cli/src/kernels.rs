//! `csr kernels`: the compute kernels, whether each can run here, and the default.

use std::io::Write;

use csr::kernel::{self, Kernel, KernelId};
use csr::{Index, Scalar};

use crate::CmdResult;

/// Runs `csr kernels`: one line per kernel, then the default and why it was chosen. A
/// `CSR_KERNEL` that names no usable kernel is reported as an error after the list.
pub fn run(out: &mut impl Write) -> CmdResult {
    let default = kernel::default_kernel();
    writeln!(out, "{:<10} {:<10} note", "kernel", "available")?;
    for info in kernel::available_kernels() {
        let (available, note) = match &info.unavailable {
            None if matches!(&default, Ok((id, _)) if *id == info.id) => ("yes", "default"),
            None => ("yes", ""),
            Some(why) => ("no", why.as_str()),
        };
        let line = format!("{:<10} {:<10} {note}", info.id.name(), available);
        writeln!(out, "{}", line.trim_end())?;
    }
    if let Ok(mkl) = kernel::mkl_info() {
        writeln!(out)?;
        writeln!(out, "mkl: {}", mkl.version)?;
        writeln!(out, "  from {}", mkl.path.display())?;
        writeln!(out, "  threading layer: {}", mkl.threading)?;
    }
    let (id, why) = default?;
    writeln!(out)?;
    writeln!(out, "default: {id} ({why})")?;
    Ok(())
}

/// The kernel named on the command line, else the process default (`CSR_KERNEL`, else
/// `mkl` if it loads, else `native`).
///
/// # Errors
/// The kernel is unavailable, or `CSR_KERNEL` names no usable kernel.
pub fn choose<T: Scalar, I: Index>(id: Option<KernelId>) -> csr::Result<&'static dyn Kernel<T, I>> {
    match id {
        Some(id) => kernel::kernel_for(id),
        None => kernel::kernel(),
    }
}
