//! Progress reports of long reads and writes, for progress bars.

/// What a long read or write is doing when it reports progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Decompressing a gzipped file: counts compressed bytes.
    Decompressing,
    /// Parsing the text: counts bytes of text.
    Parsing,
    /// Writing: counts entries.
    Writing,
}

/// A progress callback: the stage, the amount done and the total. Called from worker
/// threads, a few times per megabyte at most.
pub type Progress<'a> = &'a (dyn Fn(Stage, u64, u64) + Sync);

/// The callback of calls that do not report.
pub(crate) fn no_progress(_: Stage, _: u64, _: u64) {}
