//! A progress bar on stderr while a large file is read or written (feature `progress`).

use std::path::Path;

use csr::io::mm::Stage;

/// Files at least this large get a progress bar when stderr is a terminal.
#[cfg(feature = "progress")]
const PROGRESS_MIN_BYTES: u64 = 100 << 20;

/// Runs `f` with a progress callback: a bar on stderr, labelled `what` and the file name,
/// if the file is large and stderr is a terminal; a callback that does nothing otherwise.
/// Reads count bytes (decompressed, then parsed), writes count entries.
pub fn with_progress<R>(
    path: &Path,
    what: &str,
    f: impl FnOnce(&(dyn Fn(Stage, u64, u64) + Sync)) -> R,
) -> R {
    #[cfg(feature = "progress")]
    {
        use std::io::IsTerminal;
        let large = std::fs::metadata(path).is_ok_and(|m| m.len() >= PROGRESS_MIN_BYTES);
        if large && std::io::stderr().is_terminal() {
            let bar = Bar::new(format!("{what} {}", path.display()));
            let r = f(&|stage, done, total| bar.update(stage, done, total));
            bar.0.finish_and_clear();
            return r;
        }
    }
    let _ = (path, what);
    f(&|_, _, _| {})
}

/// An indicatif bar whose unit follows the stage it is told about.
#[cfg(feature = "progress")]
struct Bar(indicatif::ProgressBar, std::sync::Mutex<Option<Stage>>);

#[cfg(feature = "progress")]
impl Bar {
    fn new(message: String) -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Self(bar, std::sync::Mutex::new(None))
    }

    fn update(&self, stage: Stage, done: u64, total: u64) {
        let mut current = self
            .1
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *current != Some(stage) {
            let (name, unit) = match stage {
                Stage::Decompressing => ("decompressing", "{bytes}/{total_bytes}"),
                Stage::Parsing => ("parsing", "{bytes}/{total_bytes}"),
                _ => ("writing", "{human_pos}/{human_len} entries"),
            };
            let template = format!("{{msg}} ({name}) [{{bar:30}}] {unit} {{percent}}% eta {{eta}}");
            if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
                self.0.set_style(style.progress_chars("=> "));
            }
            self.0.set_length(total);
            *current = Some(stage);
        }
        // Workers finish chunks out of order: never move the bar back.
        self.0.set_position(done.max(self.0.position()));
    }
}
