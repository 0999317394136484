//! The data section: newline-aligned chunks parsed in parallel into triplets.
//!
//! A quick first pass counts each chunk's line ends (one vectorised scan), which bounds its
//! entries; each chunk then parses into its own slice of the output and reports how many it
//! filled, and the few holes left by comment or blank lines are closed afterwards. Files
//! with many more lines than declared entries (and `array` files, whose entries' positions
//! depend on their count) take an exact counting pass first. Line numbers and the checks of
//! the entry count need every chunk's exact line count: those are computed only when an
//! error is reported.
//!
//! Real and pattern coordinate lines of the plain form `ROW COL VALUE\n` or `ROW COL\n`
//! (single spaces, indices of at most 7 digits) are read by [`plain_entry`] without the
//! general parser's per-field dispatch; any other line, and every error, goes through the
//! general parser. Reading a 2M-entry file (69 MB, `powerlaw-800k-3` of `bench/compare.py`)
//! took 77.6–83.6 ms against 99.6–102.2 before, a 20M-entry one (704 MB) 750–754 ms against
//! 874–1053 (2 threads, medians of 7 and 3 reads, old and new binaries alternating, timed by
//! a scratch binary calling `read_csr` in a loop). The same matrix as a `pattern` file
//! (40 MB): 61.7 → 34.0 ms into a `Csr`, 46.3 → 29.8 ms by `read_pattern` (medians of 6
//! alternating runs of 7 reads).

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::parallel::zeroed_output;
use crate::{Index, MatrixData, Symmetry};

use super::header::{Field, Format, Layout, Object};
use super::parse::{
    Lines, ParseError, PlainValue, expect_end, find_eol, is_blank_or_comment, is_eol,
    newline_chunks, parse_index, parse_integer, parse_real, plain_entry, skip_eol, skip_ws,
};
use super::progress::{Progress, Stage};
use super::read::ReadError;

/// Data sections smaller than this are parsed on the calling thread.
pub const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Target size of one parallel chunk (bytes of text). Small enough to balance two to a few
/// dozen threads on files of tens of megabytes, large enough that per-chunk costs vanish.
const CHUNK_BYTES: usize = 4 << 20;

/// Triplets read from a data section, in file order.
pub(crate) struct Entries<T, I> {
    pub data: MatrixData<T, I>,
    /// Whether the entries are strictly increasing by (row, column): rows sorted, columns
    /// sorted within rows, no duplicates.
    pub row_major: bool,
}

/// What a data line must hold.
#[derive(Clone, Copy)]
struct LineSpec {
    field: Field,
    vector: bool,
    symmetry: Symmetry,
    nrows: usize,
    ncols: usize,
    narrow: bool,
}

impl LineSpec {
    fn new(layout: &Layout, narrow: bool) -> Self {
        let h = layout.header;
        Self {
            field: h.field,
            vector: h.object == Object::Vector,
            symmetry: h.symmetry,
            nrows: h.nrows,
            ncols: h.ncols,
            narrow,
        }
    }

    /// Parses the value (or real and imaginary parts) at `pos`.
    #[inline]
    fn value(&self, line: &[u8], pos: &mut usize) -> Result<(f64, f64), String> {
        Ok(match self.field {
            Field::Real => (parse_real(line, pos, self.narrow)?, 0.0),
            Field::Integer => (parse_integer(line, pos)?, 0.0),
            Field::Complex => (
                parse_real(line, pos, self.narrow)?,
                parse_real(line, pos, self.narrow)?,
            ),
            Field::Pattern => (1.0, 0.0),
        })
    }

    /// Checks a diagonal value against the symmetry. (A hermitian diagonal with an imaginary
    /// part is kept as stored, as scipy and fast_matrix_market do: real files have them.)
    #[inline]
    fn check_diagonal(&self, re: f64, im: f64) -> Result<(), String> {
        match self.symmetry {
            Symmetry::SkewSymmetric if re != 0.0 || im != 0.0 => {
                Err("nonzero diagonal entry in a skew-symmetric matrix".into())
            }
            _ => Ok(()),
        }
    }

    /// Parses one coordinate entry starting at `pos`, leaving `pos` after its last field.
    #[inline]
    fn coordinate(&self, line: &[u8], pos: &mut usize) -> Result<(usize, usize, f64, f64), String> {
        let r = parse_index(line, pos, "row", self.nrows)?;
        let c = if self.vector {
            0
        } else {
            parse_index(line, pos, "column", self.ncols)?
        };
        // Text after the entry is ignored, like fast_matrix_market and Ginkgo do: real
        // pattern files carry a value column.
        let (re, im) = self.value(line, pos)?;
        if r == c {
            self.check_diagonal(re, im)?;
        }
        Ok((r, c, re, im))
    }
}

/// Position of the `k`-th value of an array file, column by column.
#[derive(Clone, Copy)]
struct ArrayPos {
    row: usize,
    col: usize,
    nrows: usize,
    /// First stored row of column `j` is `j + first` (triangular storage), or 0.
    triangle: Option<usize>,
}

impl ArrayPos {
    fn start(nrows: usize, symmetry: Symmetry, k: usize) -> Self {
        let triangle = match symmetry {
            Symmetry::General => None,
            Symmetry::Symmetric | Symmetry::Hermitian => Some(0),
            Symmetry::SkewSymmetric => Some(1),
        };
        let Some(first) = triangle else {
            return Self {
                row: k % nrows.max(1),
                col: k / nrows.max(1),
                nrows,
                triangle,
            };
        };
        let (mut col, mut k) = (0, k);
        loop {
            let len = nrows.saturating_sub(col + first);
            if k < len || len == 0 {
                break;
            }
            k -= len;
            col += 1;
        }
        Self {
            row: col + first + k,
            col,
            nrows,
            triangle,
        }
    }

    #[inline]
    fn advance(&mut self) {
        self.row += 1;
        if self.row >= self.nrows {
            self.col += 1;
            self.row = match self.triangle {
                None => 0,
                Some(first) => self.col + first,
            };
        }
    }
}

/// Counts the `\n` and `\r` bytes of `s` (vectorised: byte counters per lane, folded every
/// 255 blocks before they can overflow).
fn count_line_ends(s: &[u8]) -> (usize, usize) {
    const LANES: usize = 32;
    let fold = |acc: &[u8; LANES]| acc.iter().map(|&x| usize::from(x)).sum::<usize>();
    let (mut nl, mut cr) = (0, 0);
    let mut blocks = s.chunks_exact(LANES * 255);
    for block in &mut blocks {
        let (mut an, mut ar) = ([0_u8; LANES], [0_u8; LANES]);
        for v in block.chunks_exact(LANES) {
            for k in 0..LANES {
                an[k] += u8::from(v[k] == b'\n');
                ar[k] += u8::from(v[k] == b'\r');
            }
        }
        nl += fold(&an);
        cr += fold(&ar);
    }
    let rest = blocks.remainder();
    nl += rest.iter().filter(|&&b| b == b'\n').count();
    cr += rest.iter().filter(|&&b| b == b'\r').count();
    (nl, cr)
}

/// The number of lines of a chunk (an unterminated last line counts): at least its entries.
fn line_count(chunk: &[u8]) -> usize {
    let (nl, cr) = count_line_ends(chunk);
    if cr > 0 {
        return Lines::new(chunk).count();
    }
    nl + usize::from(chunk.last().is_some_and(|&b| b != b'\n'))
}

/// Exact per-chunk counts.
#[derive(Clone, Copy, Default)]
struct ChunkCount {
    lines: usize,
    entries: usize,
}

fn count_chunk(chunk: &[u8]) -> ChunkCount {
    let mut c = ChunkCount::default();
    for line in Lines::new(chunk) {
        c.lines += 1;
        c.entries += usize::from(!is_blank_or_comment(line));
    }
    c
}

/// The 1-based line of entry `k` (0-based, counted over the whole data section).
fn line_of_entry(
    data: &[u8],
    chunks: &[Range<usize>],
    counts: &[ChunkCount],
    first_line: usize,
    k: usize,
) -> usize {
    let (mut line, mut seen) = (first_line, 0);
    for (range, count) in chunks.iter().zip(counts) {
        if seen + count.entries <= k {
            seen += count.entries;
            line += count.lines;
            continue;
        }
        for l in Lines::new(&data[range.clone()]) {
            if !is_blank_or_comment(l) {
                if seen == k {
                    return line;
                }
                seen += 1;
            }
            line += 1;
        }
    }
    line
}

/// What parsing one chunk gave.
struct Outcome {
    /// Entries written (a prefix of the chunk's slots).
    filled: usize,
    /// The first bad entry: its index within the chunk, and the error at its 0-based line
    /// within the chunk.
    error: Option<(usize, ParseError)>,
    /// Whether the chunk's entries are strictly increasing by (row, column), and the first
    /// and last of them.
    increasing: bool,
    first: (usize, usize),
    last: (usize, usize),
}

impl Outcome {
    fn new() -> Self {
        Self {
            filled: 0,
            error: None,
            increasing: true,
            first: (0, 0),
            last: (0, 0),
        }
    }
}

/// One chunk's share of the parse.
struct Job<'a, I, T> {
    range: Range<usize>,
    start_entry: usize,
    rows: &'a mut [I],
    cols: &'a mut [I],
    vals: &'a mut [T],
}

/// Checks that the declared sizes fit the index type.
fn check_sizes_fit<I: Index>(layout: &Layout) -> Result<(), ParseError> {
    let h = layout.header;
    for (n, what) in [(h.nrows, "rows"), (h.ncols, "columns")] {
        if n > I::MAX_USIZE {
            return Err(ParseError::new(
                layout.size_line,
                format!(
                    "{n} {what} do not fit index type {} (max {}); use a wider index type",
                    I::NAME,
                    I::MAX_USIZE
                ),
            ));
        }
    }
    Ok(())
}

/// The lines and entry lines of a piece of the data section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PieceCount {
    /// Lines (an unterminated last line counts).
    pub lines: usize,
    /// Lines holding an entry (not blank, not a comment).
    pub entries: usize,
}

impl PieceCount {
    /// Counts the lines and entries of `piece`.
    pub(crate) fn of(piece: &[u8]) -> Self {
        let c = count_chunk(piece);
        Self {
            lines: c.lines,
            entries: c.entries,
        }
    }
}

/// The "more entries than declared" error at the line of the `k`-th entry (0-based) of
/// `piece`, whose first line is `first_line`.
fn too_many_at(layout: &Layout, piece: &[u8], first_line: usize, k: usize) -> ParseError {
    let counts = [count_chunk(piece)];
    let whole = 0..piece.len();
    let line = line_of_entry(piece, std::slice::from_ref(&whole), &counts, first_line, k);
    too_many_error(layout, line)
}

/// "More entries than declared", at `line`.
fn too_many_error(layout: &Layout, line: usize) -> ParseError {
    ParseError::new(
        line,
        format!(
            "more entries than the {} declared on line {}",
            layout.header.entries, layout.size_line
        ),
    )
}

/// Parses one newline-aligned piece of the data section (symmetry as stored), given the
/// lines and entries of the pieces before it; errors carry the line they would have in a
/// whole-file read, "more entries than declared" included. (Too few entries can only be
/// told from the total: see [`check_entry_total`].)
pub(crate) fn read_piece<T, I, M>(
    piece: &[u8],
    count: PieceCount,
    before: PieceCount,
    layout: &Layout,
    make: &M,
    narrow: bool,
) -> Result<MatrixData<T, I>, ParseError>
where
    T: crate::Element,
    I: Index,
    M: Fn(f64, f64) -> T,
{
    check_sizes_fit::<I>(layout)?;
    let h = layout.header;
    let coordinate = h.format == Format::Coordinate;
    let first_line = layout.data_line + before.lines;
    let quota = count.entries.min(h.entries.saturating_sub(before.entries));
    let spec = LineSpec::new(layout, narrow);
    let mut rows = zeroed_output(if coordinate { quota } else { 0 });
    let mut cols = zeroed_output(if coordinate { quota } else { 0 });
    let mut vals = zeroed_output(quota);
    let outcome = if coordinate {
        parse_coordinate_chunk(piece, &spec, make, &mut rows, &mut cols, &mut vals)
    } else {
        parse_array_chunk(piece, before.entries, &spec, make, &mut vals)
    };
    if let Some((_, err)) = outcome.error {
        return Err(ParseError::new(first_line + err.line, err.what));
    }
    if count.entries > quota {
        return Err(too_many_at(layout, piece, first_line, quota));
    }
    if !coordinate {
        let mut pos = ArrayPos::start(h.nrows, h.symmetry, before.entries);
        rows.reserve_exact(quota);
        cols.reserve_exact(quota);
        for _ in 0..quota {
            rows.push(I::truncate(pos.row));
            cols.push(I::truncate(pos.col));
            pos.advance();
        }
    }
    // SAFETY: the three arrays hold `quota` entries each (every slot was parsed: the piece
    // holds `count.entries >= quota` entry lines and no error was reported); the sizes fit `I`
    // (checked above); coordinate indices passed `parse_index` against the declared sizes, and
    // array positions stay inside the shape for the first `h.entries` values.
    Ok(unsafe { MatrixData::from_triplets_unchecked(h.nrows, h.ncols, rows, cols, vals) })
}

/// The error of a data section whose pieces hold `total` lines and entries in all, if it
/// holds fewer entries than declared (more are reported by [`read_piece`]).
pub(crate) fn check_entry_total(layout: &Layout, total: PieceCount) -> Result<(), ParseError> {
    let expected = layout.header.entries;
    if total.entries >= expected {
        return Ok(());
    }
    let line = (layout.data_line + total.lines)
        .saturating_sub(1)
        .max(layout.size_line);
    Err(ParseError::new(
        line,
        format!(
            "file ends after {} of the {expected} declared entries",
            total.entries
        ),
    ))
}

/// Reads every entry of the data section into triplets (symmetry as stored).
pub(crate) fn read_entries<T, I, M>(
    bytes: &[u8],
    layout: &Layout,
    make: &M,
    narrow: bool,
    progress: Progress<'_>,
) -> Result<Entries<T, I>, ReadError>
where
    T: crate::Element,
    I: Index,
    M: Fn(f64, f64) -> T + Sync,
{
    let h = layout.header;
    check_sizes_fit::<I>(layout)?;
    let data = &bytes[layout.data_offset..];
    let parts = if data.len() < PARALLEL_MIN_BYTES {
        1
    } else {
        (data.len() / CHUNK_BYTES).max(2 * rayon::current_num_threads())
    };
    let chunks = newline_chunks(data, parts);
    let map_chunks = |f: &(dyn Fn(&[u8]) -> usize + Sync)| -> Vec<usize> {
        if chunks.len() == 1 {
            vec![f(data)]
        } else {
            chunks.par_iter().map(|r| f(&data[r.clone()])).collect()
        }
    };
    let expected = h.entries;
    let coordinate = h.format == Format::Coordinate;

    // Slots per chunk: its line count, when that bounds the entries closely enough;
    // otherwise exact entry counts, each chunk parsing only its share of the first
    // `expected` entries.
    let lines = map_chunks(&line_count);
    let exact_counts = || -> Vec<ChunkCount> {
        if chunks.len() == 1 {
            vec![count_chunk(data)]
        } else {
            chunks
                .par_iter()
                .map(|r| count_chunk(&data[r.clone()]))
                .collect()
        }
    };
    let quick = coordinate && lines.iter().sum::<usize>() <= expected.saturating_add(chunks.len());
    let mut counts = None;
    let slots: Vec<usize> = if quick {
        lines
    } else {
        let c = exact_counts();
        let mut left = expected;
        let slots = c
            .iter()
            .map(|c| {
                let q = c.entries.min(left);
                left -= q;
                q
            })
            .collect();
        counts = Some(c);
        slots
    };
    let n: usize = slots.iter().sum();
    let spec = LineSpec::new(layout, narrow);
    // Zero pages, huge-page advised: the parsers write every slot.
    let mut rows = zeroed_output(if coordinate { n } else { 0 });
    let mut cols = zeroed_output(if coordinate { n } else { 0 });
    let mut vals = zeroed_output(n);
    let outcomes = {
        let mut jobs = Vec::with_capacity(chunks.len());
        let (mut rr, mut cc, mut vv) = (&mut rows[..], &mut cols[..], &mut vals[..]);
        let mut start_entry = 0;
        for (range, &q) in chunks.iter().zip(&slots) {
            let (r0, r1) = rr.split_at_mut(if coordinate { q } else { 0 });
            let (c0, c1) = cc.split_at_mut(if coordinate { q } else { 0 });
            let (v0, v1) = vv.split_at_mut(q);
            (rr, cc, vv) = (r1, c1, v1);
            jobs.push(Job {
                range: range.clone(),
                start_entry,
                rows: r0,
                cols: c0,
                vals: v0,
            });
            start_entry += q;
        }
        let parsed = AtomicU64::new(0);
        let total = data.len() as u64;
        let run = |job: Job<'_, I, T>| {
            let chunk = &data[job.range];
            let outcome = if coordinate {
                parse_coordinate_chunk(chunk, &spec, make, job.rows, job.cols, job.vals)
            } else {
                parse_array_chunk(chunk, job.start_entry, &spec, make, job.vals)
            };
            let len = chunk.len() as u64;
            progress(
                Stage::Parsing,
                parsed.fetch_add(len, Ordering::Relaxed) + len,
                total,
            );
            outcome
        };
        if jobs.len() == 1 {
            jobs.into_iter().map(run).collect::<Vec<_>>()
        } else {
            jobs.into_par_iter().map(run).collect::<Vec<_>>()
        }
    };

    // Errors, in file order; an error past the declared count is one entry too many.
    let counts = || counts.clone().unwrap_or_else(exact_counts);
    let too_many = |counts: &[ChunkCount]| {
        let line = line_of_entry(data, &chunks, counts, layout.data_line, expected);
        too_many_error(layout, line)
    };
    let mut before = 0;
    for (k, o) in outcomes.iter().enumerate() {
        if let Some((entry, err)) = &o.error {
            let counts = counts();
            if before + entry >= expected {
                return Err(too_many(&counts).into());
            }
            let first: usize = counts[..k].iter().map(|c| c.lines).sum();
            let line = layout.data_line + first + err.line;
            return Err(ParseError::new(line, err.what.clone()).into());
        }
        before += o.filled;
    }
    let found = if quick {
        before
    } else {
        counts().iter().map(|c| c.entries).sum()
    };
    if found > expected {
        return Err(too_many(&counts()).into());
    }
    if found < expected {
        let lines = counts().iter().map(|c| c.lines).sum();
        check_entry_total(
            layout,
            PieceCount {
                lines,
                entries: found,
            },
        )?;
    }

    // Close the holes left by lines without entries.
    if found < n {
        let mut to = 0;
        let mut from = 0;
        for (o, &q) in outcomes.iter().zip(&slots) {
            if coordinate {
                rows.copy_within(from..from + o.filled, to);
                cols.copy_within(from..from + o.filled, to);
            }
            vals.copy_within(from..from + o.filled, to);
            to += o.filled;
            from += q;
        }
        rows.truncate(if coordinate { found } else { 0 });
        cols.truncate(if coordinate { found } else { 0 });
        vals.truncate(found);
    }
    let row_major = coordinate
        && outcomes.iter().all(|o| o.increasing)
        && outcomes
            .iter()
            .filter(|o| o.filled > 0)
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0].last < w[1].first);
    if !coordinate {
        let mut pos = ArrayPos::start(h.nrows, h.symmetry, 0);
        rows.reserve_exact(found);
        cols.reserve_exact(found);
        for _ in 0..found {
            rows.push(I::truncate(pos.row));
            cols.push(I::truncate(pos.col));
            pos.advance();
        }
    }
    // SAFETY: the arrays were allocated and truncated together; the sizes fit `I` (checked
    // above); every coordinate index passed `parse_index` against the declared sizes, and
    // array positions stay inside the shape for the `expected` values an array file holds.
    let data = unsafe { MatrixData::from_triplets_unchecked(h.nrows, h.ncols, rows, cols, vals) };
    Ok(Entries { data, row_major })
}

fn parse_coordinate_chunk<T, I: Index, M: Fn(f64, f64) -> T>(
    chunk: &[u8],
    spec: &LineSpec,
    make: &M,
    rows: &mut [I],
    cols: &mut [I],
    vals: &mut [T],
) -> Outcome {
    // A cursor over the chunk, line by line, without first finding each line's end.
    let quota = vals.len();
    let mut out = Outcome::new();
    let (mut k, mut line_no, mut p) = (0, 0, 0);
    let mut prev: Option<(usize, usize)> = None;
    let mut record = |out: &mut Outcome, r: usize, c: usize| {
        match prev {
            None => out.first = (r, c),
            Some(q) => out.increasing &= q < (r, c),
        }
        prev = Some((r, c));
    };
    // Real values or none (no diagonal to check): most lines take the plain form, read
    // without the general parser's per-field dispatch.
    let plain = match spec.field {
        _ if spec.vector || spec.symmetry == Symmetry::SkewSymmetric => None,
        Field::Real if spec.narrow => Some(PlainValue::Narrow),
        Field::Real => Some(PlainValue::Real),
        Field::Pattern => Some(PlainValue::Pattern),
        Field::Integer | Field::Complex => None,
    };
    while k < quota && p < chunk.len() {
        if let Some(kind) = plain
            && let Some((r, c, x, end)) = plain_entry(chunk, p, (spec.nrows, spec.ncols), kind)
        {
            rows[k] = I::truncate(r);
            cols[k] = I::truncate(c);
            vals[k] = make(x, 0.0);
            record(&mut out, r, c);
            k += 1;
            p = end + 1;
            line_no += 1;
            continue;
        }
        skip_ws(chunk, &mut p);
        match chunk.get(p) {
            None => break,
            Some(b'\n' | b'\r') => {}
            Some(b'%') => p = find_eol(chunk, p),
            Some(_) => {
                let (r, c, re, im) = match spec.coordinate(chunk, &mut p) {
                    Ok(e) => e,
                    Err(what) => {
                        out.error = Some((k, ParseError::new(line_no, what)));
                        break;
                    }
                };
                rows[k] = I::truncate(r);
                cols[k] = I::truncate(c);
                vals[k] = make(re, im);
                record(&mut out, r, c);
                k += 1;
                if chunk.get(p).is_some_and(|&b| !is_eol(b)) {
                    p = find_eol(chunk, p);
                }
            }
        }
        p = skip_eol(chunk, p);
        line_no += 1;
    }
    out.filled = k;
    out.last = prev.unwrap_or_default();
    out
}

fn parse_array_chunk<T, M: Fn(f64, f64) -> T>(
    chunk: &[u8],
    start_entry: usize,
    spec: &LineSpec,
    make: &M,
    vals: &mut [T],
) -> Outcome {
    let quota = vals.len();
    let mut out = Outcome::new();
    let mut pos = ArrayPos::start(spec.nrows, spec.symmetry, start_entry);
    let (mut k, mut line_no) = (0, 0);
    for line in Lines::new(chunk) {
        if k == quota {
            break;
        }
        if !is_blank_or_comment(line) {
            let parse = || {
                let mut p = 0;
                let (re, im) = spec.value(line, &mut p)?;
                expect_end(line, &mut p, "value")?;
                if pos.row == pos.col {
                    spec.check_diagonal(re, im)?;
                }
                Ok::<_, String>((re, im))
            };
            match parse() {
                Ok((re, im)) => vals[k] = make(re, im),
                Err(what) => {
                    out.error = Some((k, ParseError::new(line_no, what)));
                    break;
                }
            }
            pos.advance();
            k += 1;
        }
        line_no += 1;
    }
    out.filled = k;
    out
}
