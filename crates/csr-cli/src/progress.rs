//! A progress bar on stderr while a large file is read or written (feature `progress`).

use std::path::Path;

use csr::io::mm::Stage;

/// Files at least this large get a progress bar when stderr is a terminal.
#[cfg(feature = "progress")]
const PROGRESS_MIN_BYTES: u64 = 100 << 20;

/// A progress callback, as the library's `*_with_progress` functions take it.
type Callback<'a> = &'a (dyn Fn(Stage, u64, u64) + Sync);

/// Runs `f` with a progress callback: a bar on stderr, labelled `what` and the file name,
/// if the file is large and stderr is a terminal; a callback that does nothing otherwise.
/// Reads count bytes (decompressed, then parsed), writes count entries.
pub fn with_progress<R>(path: &Path, what: &str, f: impl FnOnce(Callback<'_>) -> R) -> R {
    labelled(path, || format!("{what} {}", path.display()), f)
}

/// Like [`with_progress`] for writing `output`, with a bar if the file `input` that the
/// matrix came from is large.
pub fn writing<R>(input: &Path, output: &Path, f: impl FnOnce(Callback<'_>) -> R) -> R {
    labelled(input, || format!("writing {}", output.display()), f)
}

fn labelled<R>(
    size_of: &Path,
    label: impl FnOnce() -> String,
    f: impl FnOnce(Callback<'_>) -> R,
) -> R {
    #[cfg(feature = "progress")]
    {
        use std::io::IsTerminal;
        let large = std::fs::metadata(size_of).is_ok_and(|m| m.len() >= PROGRESS_MIN_BYTES);
        if large && std::io::stderr().is_terminal() {
            let bar = Bar::new(label());
            let r = f(&|stage, done, total| bar.update(stage, done, total));
            bar.0.finish_and_clear();
            return r;
        }
    }
    let _ = (size_of, label);
    f(&|_, _, _| {})
}

/// An indicatif bar whose unit follows the stage it is told about.
#[cfg(feature = "progress")]
struct Bar(indicatif::ProgressBar, std::sync::Mutex<Option<Stage>>);

#[cfg(feature = "progress")]
impl Bar {
    fn new(message: String) -> Self {
        // A spinner until the first report says what is counted.
        let bar = indicatif::ProgressBar::new_spinner();
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
                Stage::Decompressing => ("decompressing: ", "{bytes}/{total_bytes}"),
                Stage::Parsing => ("parsing: ", "{bytes}/{total_bytes}"),
                _ => ("", "{human_pos}/{human_len} entries"),
            };
            let template =
                format!("{{msg}} ({name}[{{bar:30}}] {unit}, {{percent}}%, eta {{eta}})");
            if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
                self.0.set_style(style.progress_chars("=> "));
            }
            self.0.set_length(total);
            self.0.set_position(0);
            *current = Some(stage);
        }
        // Workers finish chunks out of order: never move the bar back.
        self.0.set_position(done.max(self.0.position()));
    }
}
