//! The reader: header, then the data section parsed in parallel over newline-aligned chunks.

use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::{Csr, CsrPattern, Dense, Duplicates, Index, MatrixData, Scalar, Symmetry};

use super::header::{Field, Format, Header, Layout, Object, parse_header};
use super::parse::{
    Lines, ParseError, expect_end, find_eol, is_blank_or_comment, is_eol, newline_chunks,
    parse_index, parse_integer, parse_real, skip_eol, skip_ws,
};

/// Data sections smaller than this are parsed on the calling thread.
pub const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Target size of one parallel chunk (bytes of text). Small enough to balance two to a few
/// dozen threads on files of tens of megabytes, large enough that per-chunk costs vanish.
const CHUNK_BYTES: usize = 4 << 20;

/// How to read a Matrix Market file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Expand symmetric, skew-symmetric and hermitian storage to general (the default), or
    /// keep the stored triangle as it is in the file.
    pub expand_symmetry: bool,
    /// What building a [`Csr`] does with repeated coordinates: [`Duplicates::Sum`] (the
    /// default, like scipy) or [`Duplicates::Keep`] (rows keep file order).
    pub duplicates: Duplicates,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            expand_symmetry: true,
            duplicates: Duplicates::Sum,
        }
    }
}

impl ReadOptions {
    /// Keeps the stored triangle of symmetric files instead of expanding it.
    #[must_use]
    pub fn keep_symmetry(mut self) -> Self {
        self.expand_symmetry = false;
        self
    }

    /// Sets what happens to repeated coordinates when building a [`Csr`].
    #[must_use]
    pub fn duplicates(mut self, duplicates: Duplicates) -> Self {
        self.duplicates = duplicates;
        self
    }
}

/// A Matrix Market file as read: its header and its entries as triplets, in file order
/// (mirrored entries of an expanded symmetric file follow the stored ones).
#[derive(Clone, Debug, PartialEq)]
pub struct MmFile<T, I> {
    /// The file's header.
    pub header: Header,
    /// The symmetry of `data`: the header's, or `General` once expanded.
    pub symmetry: Symmetry,
    /// The entries; for `array` files, every stored value (zeros included).
    pub data: MatrixData<T, I>,
}

/// The bytes of a file: mapped, or decompressed or read into memory.
enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

fn gunzip(bytes: &[u8], path: Option<&Path>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| Error::io(path, &e))?;
    Ok(out)
}

fn load_path(path: &Path) -> Result<Bytes> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(Some(path), &e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io(Some(path), &e))?
        .len();
    let bytes = if len == 0 {
        Bytes::Owned(Vec::new())
    } else {
        // SAFETY: the mapping is read-only and private to this call; the file's contents
        // may still change under it if another process writes the file meanwhile, which can
        // give inconsistent bytes (reported as a parse error) or SIGBUS if it is truncated.
        // That is the documented contract of `read_*` on paths, the same as every mmap-based
        // reader; `read_*_from` (a `Read`) has no such caveat.
        // `populate` pre-faults the pages once instead of on every thread's first touch.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
            .map_err(|e| Error::io(Some(path), &e))?;
        Bytes::Mapped(map)
    };
    if is_gzip(&bytes) {
        return Ok(Bytes::Owned(gunzip(&bytes, Some(path))?));
    }
    Ok(bytes)
}

fn load_reader<R: Read>(mut reader: R) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(None, &e))?;
    if is_gzip(&bytes) {
        return gunzip(&bytes, None);
    }
    Ok(bytes)
}

/// Reads only the header of a file (the whole file is decompressed if gzipped).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Parse`] for a bad banner or size line.
pub fn read_header(path: impl AsRef<Path>) -> Result<Header> {
    let path = path.as_ref();
    let bytes = load_path(path)?;
    parse_header(&bytes)
        .map(|l| l.header)
        .map_err(|e| e.into_error(Some(path)))
}

/// Reads a file's entries as triplets.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Parse`] with the 1-based line for any
/// malformed content (see the [module docs](super)).
///
/// # Examples
///
/// ```no_run
/// use csr::io::mm;
///
/// let file = mm::read_matrix_data::<f64, i32>("bcsstk13.mtx", &mm::ReadOptions::default())?;
/// println!("{} stored entries, {}", file.header.entries, file.header);
/// # Ok::<(), csr::Error>(())
/// ```
pub fn read_matrix_data<T: Scalar, I: Index>(
    path: impl AsRef<Path>,
    options: &ReadOptions,
) -> Result<MmFile<T, I>> {
    let path = path.as_ref();
    let bytes = load_path(path)?;
    read_scalar(&bytes, options).map_err(|e| e.into_error(Some(path)))
}

/// Reads triplets from any reader (plain or gzipped text).
///
/// # Errors
/// As [`read_matrix_data`].
pub fn read_matrix_data_from<R: Read, T: Scalar, I: Index>(
    reader: R,
    options: &ReadOptions,
) -> Result<MmFile<T, I>> {
    let bytes = load_reader(reader)?;
    read_scalar(&bytes, options).map_err(|e| e.into_error(None))
}

/// Reads triplets from text in memory (not gzipped).
///
/// # Errors
/// As [`read_matrix_data`], without I/O errors.
pub fn read_matrix_data_from_bytes<T: Scalar, I: Index>(
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<MmFile<T, I>> {
    read_scalar(bytes, options).map_err(|e| e.into_error(None))
}

/// Reads a file into a [`Csr`], expanding symmetry and summing duplicates (like
/// `scipy.io.mmread(path).tocsr()`).
///
/// # Errors
/// As [`read_matrix_data`]; [`Error::IndexTooNarrow`] if the entry count does not fit `I`;
/// [`Error::Parse`] at the size line if the row pointers cannot be allocated.
///
/// # Examples
///
/// ```no_run
/// let a = csr::io::mm::read_csr::<f64, i32>("bcsstk13.mtx")?;
/// # Ok::<(), csr::Error>(())
/// ```
pub fn read_csr<T: Scalar, I: Index>(path: impl AsRef<Path>) -> Result<Csr<T, I>> {
    read_csr_with(path, &ReadOptions::default())
}

/// Reads a file into a [`Csr`] with the given options.
///
/// # Errors
/// As [`read_csr`].
pub fn read_csr_with<T: Scalar, I: Index>(
    path: impl AsRef<Path>,
    options: &ReadOptions,
) -> Result<Csr<T, I>> {
    let path = path.as_ref();
    let bytes = load_path(path)?;
    scalar_csr(&bytes, options).map_err(|e| e.into_error(Some(path)))
}

/// Reads a [`Csr`] from any reader (plain or gzipped text).
///
/// # Errors
/// As [`read_csr`].
pub fn read_csr_from<R: Read, T: Scalar, I: Index>(
    reader: R,
    options: &ReadOptions,
) -> Result<Csr<T, I>> {
    let bytes = load_reader(reader)?;
    scalar_csr(&bytes, options).map_err(|e| e.into_error(None))
}

/// Reads the structure of any file (values are checked, then dropped) into a pattern matrix,
/// expanding symmetry and merging duplicates.
///
/// # Errors
/// As [`read_csr`].
pub fn read_pattern<I: Index>(path: impl AsRef<Path>) -> Result<CsrPattern<I>> {
    let path = path.as_ref();
    let bytes = load_path(path)?;
    pattern_csr(&bytes).map_err(|e| e.into_error(Some(path)))
}

/// Reads a file into a [`Dense`] matrix (symmetry expanded, duplicates summed); `array` and
/// `coordinate` files are both accepted.
///
/// # Errors
/// As [`read_matrix_data`]; [`Error::Parse`] at the size line if `nrows * ncols` values
/// cannot be allocated.
pub fn read_dense<T: Scalar>(path: impl AsRef<Path>) -> Result<Dense<T>> {
    let path = path.as_ref();
    let bytes = load_path(path)?;
    dense(&bytes).map_err(|e| e.into_error(Some(path)))
}

/// Reads a [`Dense`] matrix from any reader (plain or gzipped text).
///
/// # Errors
/// As [`read_dense`].
pub fn read_dense_from<R: Read, T: Scalar>(reader: R) -> Result<Dense<T>> {
    let bytes = load_reader(reader)?;
    dense(&bytes).map_err(|e| e.into_error(None))
}

/// An error that is either already an [`Error`] or still needs the path.
enum ReadError {
    Parse(ParseError),
    Other(Error),
}

impl ReadError {
    fn into_error(self, path: Option<&Path>) -> Error {
        match self {
            ReadError::Parse(e) => e.into_error(path),
            ReadError::Other(e) => e,
        }
    }
}

impl From<ParseError> for ReadError {
    fn from(e: ParseError) -> Self {
        ReadError::Parse(e)
    }
}

impl From<Error> for ReadError {
    fn from(e: Error) -> Self {
        ReadError::Other(e)
    }
}

/// Whether `T`'s real part is `f32`, so values are parsed as `f32`.
fn narrow<T: Scalar>() -> bool {
    std::mem::size_of::<T::Real>() == 4
}

fn read_scalar<T: Scalar, I: Index>(
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<MmFile<T, I>, ReadError> {
    let layout = parse_header(bytes)?;
    if layout.header.field == Field::Complex && !T::IS_COMPLEX {
        return Err(ParseError::new(
            layout.banner_line,
            format!(
                "cannot read a complex file into real type {} (use a complex value type)",
                T::NAME
            ),
        )
        .into());
    }
    let mut data: MatrixData<T, I> = read_triplets(
        bytes,
        &layout,
        &|re, im| T::from_re_im(re, im),
        narrow::<T>(),
    )?;
    let mut symmetry = layout.header.symmetry;
    if options.expand_symmetry && symmetry != Symmetry::General {
        data = mirror(data, |v: T| match symmetry {
            Symmetry::General | Symmetry::Symmetric => v,
            Symmetry::SkewSymmetric => -v,
            Symmetry::Hermitian => v.conj(),
        })?;
        symmetry = Symmetry::General;
    }
    Ok(MmFile {
        header: layout.header,
        symmetry,
        data,
    })
}

/// Expands stored symmetric triplets: every off-diagonal `(i, j, v)` gains `(j, i, f(v))`,
/// appended after the stored ones, like [`MatrixData::expand_symmetry`]. The reader checks
/// diagonals itself (with line numbers) and keeps a hermitian diagonal's imaginary part as
/// stored, which `expand_symmetry` would reject.
fn mirror<T: crate::Element, I: Index>(
    data: MatrixData<T, I>,
    f: impl Fn(T) -> T,
) -> Result<MatrixData<T, I>> {
    let (nrows, ncols, mut rows, mut cols, mut vals) = data.into_parts();
    let n = rows.len();
    let extra = (0..n).filter(|&k| rows[k] != cols[k]).count();
    rows.reserve_exact(extra);
    cols.reserve_exact(extra);
    vals.reserve_exact(extra);
    for k in 0..n {
        if rows[k] != cols[k] {
            let (r, c, v) = (rows[k], cols[k], vals[k]);
            rows.push(c);
            cols.push(r);
            vals.push(f(v));
        }
    }
    MatrixData::try_from_triplets(nrows, ncols, rows, cols, vals)
}

/// Checks that the row pointers of an `nrows`-row CSR matrix can be allocated, so that a
/// huge declared size gives an error, not an abort.
fn check_row_ptrs_alloc<I: Index>(layout: &Layout) -> Result<(), ParseError> {
    let n = layout.header.nrows.saturating_add(1);
    let mut probe: Vec<I> = Vec::new();
    probe.try_reserve_exact(n).map_err(|_| {
        ParseError::new(
            layout.size_line,
            format!(
                "cannot allocate row pointers for {} rows",
                layout.header.nrows
            ),
        )
    })
}

fn scalar_csr<T: Scalar, I: Index>(
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<Csr<T, I>, ReadError> {
    let layout = parse_header(bytes)?;
    check_row_ptrs_alloc::<I>(&layout)?;
    let file = read_scalar::<T, I>(bytes, options)?;
    Ok(assemble(file.data, options.duplicates)?)
}

/// Builds a CSR matrix from triplets. Files listed row by row (as this crate's writer and
/// most others write them) are taken over in place: the column and value arrays become the
/// matrix's, so peak memory stays near the triplets' size. Other files go through the
/// counting sort of [`Csr::from_matrix_data_with`].
fn assemble<T: crate::Element, I: Index>(
    data: MatrixData<T, I>,
    duplicates: Duplicates,
) -> Result<Csr<T, I>> {
    let by_row = if data.len() >= crate::parallel::MIN_PARALLEL_WORK {
        data.rows().par_windows(2).all(|w| w[0] <= w[1])
    } else {
        data.rows().windows(2).all(|w| w[0] <= w[1])
    };
    if !by_row {
        return Csr::from_matrix_data_with(&data, duplicates);
    }
    crate::error::check_fits::<I>(crate::Extent::Nnz, data.len())?;
    let (nrows, ncols, rows, cols, vals) = data.into_parts();
    let mut ptrs = vec![I::ZERO; nrows + 1];
    let mut k = 0;
    for (r, ptr) in ptrs.iter_mut().enumerate().skip(1) {
        while k < rows.len() && rows[k].to_usize() < r {
            k += 1;
        }
        *ptr = I::truncate(k);
    }
    drop(rows);
    let mut a = Csr::try_from_parts(nrows, ncols, ptrs, cols, vals)?;
    if duplicates == Duplicates::Sum && (!a.is_sorted_by_column_index() || a.has_duplicates()) {
        a.sum_duplicates();
    }
    Ok(a)
}

fn pattern_csr<I: Index>(bytes: &[u8]) -> Result<CsrPattern<I>, ReadError> {
    let layout = parse_header(bytes)?;
    check_row_ptrs_alloc::<I>(&layout)?;
    let narrow = false;
    let data: MatrixData<(), I> = read_triplets(bytes, &layout, &|_, _| (), narrow)?;
    let data = if layout.header.symmetry == Symmetry::General {
        data
    } else {
        mirror(data, |()| ())?
    };
    let (nrows, ncols, rows, cols, vals) = data.into_parts();
    let data = MatrixData::try_from_triplets(nrows, ncols, rows, cols, vals)?;
    Ok(assemble(data, Duplicates::Sum)?)
}

fn dense<T: Scalar>(bytes: &[u8]) -> Result<Dense<T>, ReadError> {
    let layout = parse_header(bytes)?;
    let h = layout.header;
    let too_big = || {
        ParseError::new(
            layout.size_line,
            format!("cannot allocate a dense {}x{} matrix", h.nrows, h.ncols),
        )
    };
    let len = h.nrows.checked_mul(h.ncols).ok_or_else(too_big)?;
    let mut values: Vec<T> = Vec::new();
    values.try_reserve_exact(len).map_err(|_| too_big())?;
    // Entries are read before the dense array is filled: a file that lies about its size
    // fails on its content before anything of that size is touched.
    let file = read_scalar::<T, usize>(bytes, &ReadOptions::default())?;
    values.resize(len, T::zero());
    for (r, c, v) in file.data.iter() {
        values[r * h.ncols + c] += v;
    }
    Ok(Dense::try_from_row_major(h.nrows, h.ncols, values)?)
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

/// Per-chunk counts from the first pass.
#[derive(Clone, Copy, Default)]
struct ChunkCount {
    lines: usize,
    entries: usize,
}

fn count_chunk(chunk: &[u8]) -> ChunkCount {
    let mut c = ChunkCount::default();
    if memchr::memchr(b'\r', chunk).is_none() {
        // Only `\n` line ends: find them with one SIMD scan; most lines start with a digit.
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let line = &chunk[start..nl];
            c.lines += 1;
            let entry = line.first().is_some_and(u8::is_ascii_digit) || !is_blank_or_comment(line);
            c.entries += usize::from(entry);
            start = nl + 1;
        }
        if start < chunk.len() {
            c.lines += 1;
            c.entries += usize::from(!is_blank_or_comment(&chunk[start..]));
        }
        return c;
    }
    for line in Lines::new(chunk) {
        c.lines += 1;
        c.entries += usize::from(!is_blank_or_comment(line));
    }
    c
}

/// The 1-based line of entry `k` (0-based, counted over the whole data section).
fn line_of_entry(
    data: &[u8],
    chunks: &[std::ops::Range<usize>],
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

/// One chunk's share of the second pass.
struct Job<'a, I, T> {
    range: std::ops::Range<usize>,
    first_line: usize,
    start_entry: usize,
    rows: &'a mut [I],
    cols: &'a mut [I],
    vals: &'a mut [T],
}

/// Reads every entry of the data section into triplets (symmetry as stored).
fn read_triplets<T, I, M>(
    bytes: &[u8],
    layout: &Layout,
    make: &M,
    narrow: bool,
) -> Result<MatrixData<T, I>, ReadError>
where
    T: crate::Element,
    I: Index,
    M: Fn(f64, f64) -> T + Sync,
{
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
            )
            .into());
        }
    }
    let data = &bytes[layout.data_offset..];
    let parts = if data.len() < PARALLEL_MIN_BYTES {
        1
    } else {
        (data.len() / CHUNK_BYTES).max(2 * rayon::current_num_threads())
    };
    let chunks = newline_chunks(data, parts);
    let counts: Vec<ChunkCount> = if chunks.len() == 1 {
        vec![count_chunk(data)]
    } else {
        chunks
            .par_iter()
            .map(|r| count_chunk(&data[r.clone()]))
            .collect()
    };
    let found: usize = counts.iter().map(|c| c.entries).sum();
    let total_lines: usize = counts.iter().map(|c| c.lines).sum();
    let expected = h.entries;
    let n = found.min(expected);
    let spec = LineSpec {
        field: h.field,
        vector: h.object == Object::Vector,
        symmetry: h.symmetry,
        nrows: h.nrows,
        ncols: h.ncols,
        narrow,
    };

    // Second pass: each chunk parses its share of the first `n` entries into its own slice.
    let mut first_lines = Vec::with_capacity(chunks.len());
    let mut quotas = Vec::with_capacity(chunks.len());
    let (mut line, mut left) = (layout.data_line, n);
    for c in &counts {
        first_lines.push(line);
        line += c.lines;
        let q = c.entries.min(left);
        quotas.push(q);
        left -= q;
    }
    let coordinate = h.format == Format::Coordinate;
    let mut rows = vec![I::ZERO; if coordinate { n } else { 0 }];
    let mut cols = vec![I::ZERO; if coordinate { n } else { 0 }];
    let mut vals = vec![T::default(); n];
    {
        let mut jobs = Vec::with_capacity(chunks.len());
        let (mut rr, mut cc, mut vv) = (&mut rows[..], &mut cols[..], &mut vals[..]);
        let mut start_entry = 0;
        for (k, range) in chunks.iter().enumerate() {
            let q = quotas[k];
            let (r0, r1) = rr.split_at_mut(if coordinate { q } else { 0 });
            let (c0, c1) = cc.split_at_mut(if coordinate { q } else { 0 });
            let (v0, v1) = vv.split_at_mut(q);
            (rr, cc, vv) = (r1, c1, v1);
            jobs.push(Job {
                range: range.clone(),
                first_line: first_lines[k],
                start_entry,
                rows: r0,
                cols: c0,
                vals: v0,
            });
            start_entry += q;
        }
        let run = |job: Job<'_, I, T>| {
            let chunk = &data[job.range];
            if coordinate {
                parse_coordinate_chunk(
                    chunk,
                    job.first_line,
                    &spec,
                    make,
                    job.rows,
                    job.cols,
                    job.vals,
                )
            } else {
                parse_array_chunk(
                    chunk,
                    job.first_line,
                    job.start_entry,
                    &spec,
                    make,
                    job.vals,
                )
            }
        };
        let errors: Vec<Result<(), ParseError>> = if jobs.len() == 1 {
            jobs.into_iter().map(run).collect()
        } else {
            jobs.into_par_iter().map(run).collect()
        };
        if let Some(err) = errors.into_iter().find_map(Result::err) {
            return Err(err.into());
        }
    }
    if found > expected {
        let line = line_of_entry(data, &chunks, &counts, layout.data_line, expected);
        return Err(ParseError::new(
            line,
            format!(
                "more entries than the {expected} declared on line {}",
                layout.size_line
            ),
        )
        .into());
    }
    if found < expected {
        let last = layout.data_line + total_lines - 1;
        let line = last.max(layout.size_line);
        return Err(ParseError::new(
            line,
            format!("file ends after {found} of the {expected} declared entries"),
        )
        .into());
    }
    if !coordinate {
        let mut pos = ArrayPos::start(h.nrows, h.symmetry, 0);
        rows.reserve_exact(n);
        cols.reserve_exact(n);
        for _ in 0..n {
            rows.push(I::truncate(pos.row));
            cols.push(I::truncate(pos.col));
            pos.advance();
        }
    }
    Ok(MatrixData::try_from_triplets(
        h.nrows, h.ncols, rows, cols, vals,
    )?)
}

fn parse_coordinate_chunk<T, I: Index, M: Fn(f64, f64) -> T>(
    chunk: &[u8],
    first_line: usize,
    spec: &LineSpec,
    make: &M,
    rows: &mut [I],
    cols: &mut [I],
    vals: &mut [T],
) -> Result<(), ParseError> {
    // A cursor over the chunk, line by line, without first finding each line's end.
    let quota = vals.len();
    let (mut k, mut line_no, mut p) = (0, first_line, 0);
    while k < quota && p < chunk.len() {
        skip_ws(chunk, &mut p);
        match chunk.get(p) {
            None => break,
            Some(b'\n' | b'\r') => {}
            Some(b'%') => p = find_eol(chunk, p),
            Some(_) => {
                let (r, c, re, im) = spec
                    .coordinate(chunk, &mut p)
                    .map_err(|what| ParseError::new(line_no, what))?;
                rows[k] = I::truncate(r);
                cols[k] = I::truncate(c);
                vals[k] = make(re, im);
                k += 1;
                if chunk.get(p).is_some_and(|&b| !is_eol(b)) {
                    p = find_eol(chunk, p);
                }
            }
        }
        p = skip_eol(chunk, p);
        line_no += 1;
    }
    Ok(())
}

fn parse_array_chunk<T, M: Fn(f64, f64) -> T>(
    chunk: &[u8],
    first_line: usize,
    start_entry: usize,
    spec: &LineSpec,
    make: &M,
    vals: &mut [T],
) -> Result<(), ParseError> {
    let quota = vals.len();
    let mut pos = ArrayPos::start(spec.nrows, spec.symmetry, start_entry);
    let (mut k, mut line_no) = (0, first_line);
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
            let (re, im) = parse().map_err(|what| ParseError::new(line_no, what))?;
            vals[k] = make(re, im);
            pos.advance();
            k += 1;
        }
        line_no += 1;
    }
    Ok(())
}
