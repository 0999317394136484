//! A spinner on stderr while a large file is read or written (feature `progress`).

use std::path::Path;

/// Files at least this large get a spinner when stderr is a terminal.
#[cfg(feature = "progress")]
const PROGRESS_MIN_BYTES: u64 = 100 << 20;

/// Runs `f`, showing `what` and the file name on a spinner if the file is large and stderr is
/// a terminal.
pub fn with_progress<R>(path: &Path, what: &str, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "progress")]
    {
        use std::io::IsTerminal;
        let large = std::fs::metadata(path).is_ok_and(|m| m.len() >= PROGRESS_MIN_BYTES);
        if large && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(format!("{what} {}", path.display()));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let r = f();
            bar.finish_and_clear();
            return r;
        }
    }
    let _ = (path, what);
    f()
}
