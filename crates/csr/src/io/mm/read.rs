//! The reader: header, then the data section parsed in parallel over newline-aligned chunks.

use std::io::Read;
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::{Csr, CsrPattern, Dense, Duplicates, Index, MatrixData, Scalar, Symmetry};

use super::data::{Entries, PieceCount, check_entry_total, read_entries, read_piece};
use super::header::{Field, Header, Layout, parse_header};
use super::parse::{Lines, ParseError, newline_chunks};
use super::progress::{Progress, Stage, no_progress};
use crate::formats::common::fill_row_starts;
use crate::parallel::try_zeroed;

/// How to read a Matrix Market file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Expand symmetric, skew-symmetric and hermitian storage to general (the default), or
    /// keep the stored triangle as it is in the file.
    pub expand_symmetry: bool,
    /// What building a [`Csr`] does with repeated coordinates: [`Duplicates::Sum`] (the
    /// default, like scipy) or [`Duplicates::Keep`] (rows keep file order).
    pub duplicates: Duplicates,
    /// Build a [`Csr`]'s row pointers for any declared row count that memory allows. By
    /// default (`false`) a reader builds at most [`SHAPE_ITEMS_FLOOR`] row pointers, or two
    /// per byte of the file when that is more, so that a file of a few bytes declaring 2³¹
    /// rows fails at its size line instead of costing gigabytes.
    pub trust_shape: bool,
}

/// The number of items of an array sized by a file's declared shape (a [`Csr`]'s row
/// pointers, a [`Dense`] matrix's values) that a reader builds whatever the file's size;
/// beyond it, at most two items per byte of the file (see [`ReadOptions::trust_shape`]).
/// 2²⁰ items are 8 MiB of `i64` row pointers: a file of a few bytes costs no more than that
/// (every file of the shared corpus with more rows holds more than half a byte per row).
pub const SHAPE_ITEMS_FLOOR: usize = 1 << 20;

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            expand_symmetry: true,
            duplicates: Duplicates::Sum,
            trust_shape: false,
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

    /// Builds a [`Csr`] for any declared row count that memory allows (see
    /// [`ReadOptions::trust_shape`]).
    #[must_use]
    pub fn trust_shape(mut self) -> Self {
        self.trust_shape = true;
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

/// The text of a file: mapped, decompressed or read into memory, or the caller's. The
/// readers drop it (unmapping or freeing it) as soon as the entries are parsed, before
/// building the matrix, so that the text and the matrix's assembly are never both held.
enum Bytes<'a> {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
    Borrowed(&'a [u8]),
}

impl Deref for Bytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
            Bytes::Borrowed(b) => b,
        }
    }
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// A reader that reports the bytes taken from it.
struct Counted<'a> {
    inner: &'a [u8],
    done: usize,
    progress: Progress<'a>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n;
        (self.progress)(
            Stage::Decompressing,
            self.done as u64,
            (self.done + self.inner.len()) as u64,
        );
        Ok(n)
    }
}

fn gunzip(bytes: &[u8], path: Option<&Path>, progress: Progress<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let counted = Counted {
        inner: bytes,
        done: 0,
        progress,
    };
    flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, counted))
        .read_to_end(&mut out)
        .map_err(|e| Error::io(path, &e))?;
    Ok(out)
}

fn load_path(path: &Path, progress: Progress<'_>) -> Result<Bytes<'static>> {
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
        return Ok(Bytes::Owned(gunzip(&bytes, Some(path), progress)?));
    }
    Ok(bytes)
}

fn load_reader<R: Read>(mut reader: R) -> Result<Bytes<'static>> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(None, &e))?;
    if is_gzip(&bytes) {
        return Ok(Bytes::Owned(gunzip(&bytes, None, &no_progress)?));
    }
    Ok(Bytes::Owned(bytes))
}

/// The first bytes of a file [`read_header`] reads; it reads twice as many each time the
/// header runs past them (long comments), up to the whole file.
const HEADER_PREFIX_BYTES: u64 = 1 << 16;

/// Reads only the header of a file: the text up to its size line (decompressed as far as
/// that if gzipped), not the whole file.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Parse`] for a bad banner or size line.
pub fn read_header(path: impl AsRef<Path>) -> Result<Header> {
    let path = path.as_ref();
    let io = |e: std::io::Error| Error::io(Some(path), &e);
    let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let gzipped = is_gzip(std::io::BufRead::fill_buf(&mut file).map_err(io)?);
    let mut text: Box<dyn Read> = if gzipped {
        Box::new(flate2::bufread::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut prefix = Vec::new();
    let mut want = HEADER_PREFIX_BYTES;
    loop {
        let missing = want.saturating_sub(prefix.len() as u64);
        let read = text.by_ref().take(missing).read_to_end(&mut prefix);
        read.map_err(io)?;
        let whole = (prefix.len() as u64) < want;
        // Only whole lines: a size line cut short could read as a different one.
        let lines = if whole {
            prefix.len()
        } else {
            memchr::memrchr2(b'\n', b'\r', &prefix).map_or(0, |i| i + 1)
        };
        match parse_header(&prefix[..lines]) {
            Ok(layout) => return Ok(layout.header),
            // An error at a line the prefix holds whole is the whole file's error too; only
            // "file ends before ..." (the line after the last) may change with more text.
            Err(e) if whole || e.line <= Lines::new(&prefix[..lines]).count() => {
                return Err(e.into_error(Some(path)));
            }
            Err(_) => want = want.saturating_mul(2),
        }
    }
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
    let bytes = load_path(path, &no_progress)?;
    read_scalar(bytes, options).map_err(|e| e.into_error(Some(path)))
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
    read_scalar(bytes, options).map_err(|e| e.into_error(None))
}

/// Reads triplets from text in memory (not gzipped).
///
/// # Errors
/// As [`read_matrix_data`], without I/O errors.
pub fn read_matrix_data_from_bytes<T: Scalar, I: Index>(
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<MmFile<T, I>> {
    read_scalar(Bytes::Borrowed(bytes), options).map_err(|e| e.into_error(None))
}

/// Reads a file into a [`Csr`], expanding symmetry and summing duplicates (like
/// `scipy.io.mmread(path).tocsr()`).
///
/// # Errors
/// As [`read_matrix_data`]; [`Error::IndexTooNarrow`] if the entry count does not fit `I`;
/// [`Error::Parse`] at the size line if the row pointers cannot be allocated, or if there
/// are more than [`SHAPE_ITEMS_FLOOR`] of them and two per byte of the file (see
/// [`ReadOptions::trust_shape`]).
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
    let bytes = load_path(path, &no_progress)?;
    scalar_csr(bytes, options, &no_progress).map_err(|e| e.into_error(Some(path)))
}

/// Reads a file into a [`Csr`] like [`read_csr_with`], reporting how far it has got to
/// `progress` (from worker threads, every few megabytes): bytes decompressed, then bytes of
/// text parsed, each with its total.
///
/// # Errors
/// As [`read_csr`].
///
/// # Examples
///
/// ```no_run
/// use csr::io::mm::{self, ReadOptions, Stage};
///
/// let report = |stage: Stage, done: u64, total: u64| eprintln!("{stage:?} {done}/{total}");
/// let a = mm::read_csr_with_progress::<f64, i32>("big.mtx", &ReadOptions::default(), &report)?;
/// # Ok::<(), csr::Error>(())
/// ```
pub fn read_csr_with_progress<T: Scalar, I: Index>(
    path: impl AsRef<Path>,
    options: &ReadOptions,
    progress: Progress<'_>,
) -> Result<Csr<T, I>> {
    let path = path.as_ref();
    let bytes = load_path(path, progress)?;
    scalar_csr(bytes, options, progress).map_err(|e| e.into_error(Some(path)))
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
    scalar_csr(bytes, options, &no_progress).map_err(|e| e.into_error(None))
}

/// Reads the structure of any file (values are checked, then dropped) into a pattern matrix,
/// expanding symmetry and merging duplicates.
///
/// # Errors
/// As [`read_csr`].
pub fn read_pattern<I: Index>(path: impl AsRef<Path>) -> Result<CsrPattern<I>> {
    let path = path.as_ref();
    let bytes = load_path(path, &no_progress)?;
    pattern_csr(bytes).map_err(|e| e.into_error(Some(path)))
}

/// Reads a file into a [`Dense`] matrix (symmetry expanded, duplicates summed); `array` and
/// `coordinate` files are both accepted.
///
/// # Errors
/// As [`read_matrix_data`]; [`Error::Parse`] at the size line if `nrows * ncols` values
/// cannot be allocated, or if there are more than [`SHAPE_ITEMS_FLOOR`] of them and two per
/// byte of the file (a coordinate file declaring a huge shape: build the [`Dense`] from
/// [`read_matrix_data`] instead).
pub fn read_dense<T: Scalar>(path: impl AsRef<Path>) -> Result<Dense<T>> {
    let path = path.as_ref();
    let bytes = load_path(path, &no_progress)?;
    dense(bytes).map_err(|e| e.into_error(Some(path)))
}

/// Reads a [`Dense`] matrix from any reader (plain or gzipped text).
///
/// # Errors
/// As [`read_dense`].
pub fn read_dense_from<R: Read, T: Scalar>(reader: R) -> Result<Dense<T>> {
    let bytes = load_reader(reader)?;
    dense(bytes).map_err(|e| e.into_error(None))
}

/// A Matrix Market file opened to be read piece by piece, for example by the ranks of a
/// distributed reader, each parsing one newline-aligned byte range of the data section
/// into triplets. Errors carry the line they would have in a whole-file read ([`read_csr`]
/// and the others), so every reader of a file reports the same error at the same line.
///
/// A gzipped file is decompressed whole on [`open`](Self::open): only plain text is read
/// in pieces without being loaded.
///
/// # Examples
///
/// ```
/// use csr::io::mm::{MmPieces, PieceCount, ReadOptions};
///
/// let text = "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 4.0\n2 2 5.0\n";
/// let file = MmPieces::from_bytes(text.as_bytes().to_vec())?;
/// let (first, second) = (file.piece(0, 2), file.piece(1, 2));
/// let before = PieceCount { lines: first.count().lines, entries: first.count().entries };
/// let a = file.read_piece::<f64, i32>(&first, PieceCount::default(), &ReadOptions::default())?;
/// let b = file.read_piece::<f64, i32>(&second, before, &ReadOptions::default())?;
/// assert_eq!(a.len() + b.len(), 2);
/// file.check_entry_total(PieceCount { lines: 2, entries: 2 })?;
/// # Ok::<(), csr::Error>(())
/// ```
pub struct MmPieces {
    bytes: Bytes<'static>,
    layout: Layout,
    path: Option<PathBuf>,
}

/// A newline-aligned byte range of a file's data section, with its line and entry counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    range: Range<usize>,
    count: PieceCount,
}

impl Piece {
    /// The range of bytes of the data section.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    /// Its lines and entries.
    pub fn count(&self) -> PieceCount {
        self.count
    }
}

impl MmPieces {
    /// Maps (or decompresses) a file and parses its header.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::Parse`] for a bad header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = load_path(path, &no_progress)?;
        Self::new(bytes, Some(path.to_path_buf()))
    }

    /// Takes text in memory (plain or gzipped) and parses its header.
    ///
    /// # Errors
    /// [`Error::Io`] for a bad gzip stream; [`Error::Parse`] for a bad header.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let bytes = if is_gzip(&bytes) {
            Bytes::Owned(gunzip(&bytes, None, &no_progress)?)
        } else {
            Bytes::Owned(bytes)
        };
        Self::new(bytes, None)
    }

    fn new(bytes: Bytes<'static>, path: Option<PathBuf>) -> Result<Self> {
        let layout = parse_header(&bytes).map_err(|e| e.into_error(path.as_deref()))?;
        Ok(Self {
            bytes,
            layout,
            path,
        })
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.layout.header
    }

    fn data(&self) -> &[u8] {
        &self.bytes[self.layout.data_offset..]
    }

    /// Piece `k` of `parts` (counted from 0) of the data section: the pieces are
    /// consecutive, newline-aligned and about equal in bytes; some are empty when the
    /// section has fewer lines than `parts`, and all are empty for `k >= parts`.
    pub fn piece(&self, k: usize, parts: usize) -> Piece {
        let data = self.data();
        let chunks = newline_chunks(data, parts.max(1));
        let range = chunks.get(k).cloned().unwrap_or(data.len()..data.len());
        let count = PieceCount::of(&data[range.clone()]);
        Piece { range, count }
    }

    /// Parses the entries of `piece` (symmetry expanded if `options` say so: the mirrored
    /// entries follow the stored ones), given the lines and entries of all the pieces
    /// before it.
    ///
    /// # Errors
    /// [`Error::Parse`] at the line a whole-file read would report: a malformed entry, an
    /// entry past the declared count, sizes too large for `I`, a complex file read into a
    /// real type.
    pub fn read_piece<T: Scalar, I: Index>(
        &self,
        piece: &Piece,
        before: PieceCount,
        options: &ReadOptions,
    ) -> Result<MatrixData<T, I>> {
        let located = |e: ParseError| e.into_error(self.path.as_deref());
        check_field::<T>(&self.layout).map_err(located)?;
        let text = self.data().get(piece.range()).unwrap_or_default();
        let data = read_piece(
            text,
            piece.count,
            before,
            &self.layout,
            &|re, im| T::from_re_im(re, im),
            narrow::<T>(),
        )
        .map_err(located)?;
        let symmetry = self.layout.header.symmetry;
        if !options.expand_symmetry || symmetry == Symmetry::General {
            return Ok(data);
        }
        let entries = Entries {
            data,
            row_major: false,
        };
        Ok(mirror_scalar(entries, symmetry).data)
    }

    /// Checks the total lines and entries of all the pieces against the declared count
    /// (more entries than declared are reported by [`read_piece`](Self::read_piece)).
    ///
    /// # Errors
    /// [`Error::Parse`] at the last line if the file holds fewer entries than declared.
    pub fn check_entry_total(&self, total: PieceCount) -> Result<()> {
        check_entry_total(&self.layout, total).map_err(|e| e.into_error(self.path.as_deref()))
    }
}

/// An error that is either already an [`Error`] or still needs the path.
pub(crate) enum ReadError {
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
    bytes: Bytes<'_>,
    options: &ReadOptions,
) -> Result<MmFile<T, I>, ReadError> {
    let layout = parse_header(&bytes)?;
    let (symmetry, entries) = scalar_entries(bytes, &layout, options, &no_progress)?;
    Ok(MmFile {
        header: layout.header,
        symmetry,
        data: entries.data,
    })
}

/// The entries of a file of values, with symmetry expanded if `options` say so (after the
/// text is dropped), and the symmetry they have.
fn scalar_entries<T: Scalar, I: Index>(
    bytes: Bytes<'_>,
    layout: &Layout,
    options: &ReadOptions,
    progress: Progress<'_>,
) -> Result<(Symmetry, Entries<T, I>), ReadError> {
    check_field::<T>(layout)?;
    let mut entries = read_entries(
        &bytes,
        layout,
        &|re, im| T::from_re_im(re, im),
        narrow::<T>(),
        progress,
    )?;
    drop(bytes);
    let mut symmetry = layout.header.symmetry;
    if options.expand_symmetry && symmetry != Symmetry::General {
        entries = mirror_scalar(entries, symmetry);
        symmetry = Symmetry::General;
    }
    Ok((symmetry, entries))
}

/// Rejects a complex file read into a real type.
fn check_field<T: Scalar>(layout: &Layout) -> Result<(), ParseError> {
    if layout.header.field == Field::Complex && !T::IS_COMPLEX {
        return Err(ParseError::new(
            layout.banner_line,
            format!(
                "cannot read a complex file into real type {} (use a complex value type)",
                T::NAME
            ),
        ));
    }
    Ok(())
}

/// [`mirror`] with the mirrored value `symmetry` implies.
fn mirror_scalar<T: Scalar, I: Index>(entries: Entries<T, I>, symmetry: Symmetry) -> Entries<T, I> {
    mirror(entries, |v: T| match symmetry {
        Symmetry::General | Symmetry::Symmetric => v,
        Symmetry::SkewSymmetric => -v,
        Symmetry::Hermitian => v.conj(),
    })
}

/// Expands stored symmetric triplets: every off-diagonal `(i, j, v)` gains `(j, i, f(v))`,
/// appended after the stored ones, like [`MatrixData::expand_symmetry`]. The reader checks
/// diagonals itself (with line numbers) and keeps a hermitian diagonal's imaginary part as
/// stored, which `expand_symmetry` would reject.
fn mirror<T: crate::Element, I: Index>(
    entries: Entries<T, I>,
    f: impl Fn(T) -> T,
) -> Entries<T, I> {
    let (nrows, ncols, mut rows, mut cols, mut vals) = entries.data.into_parts();
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
    // SAFETY: the added entries swap the indices of checked ones, and symmetric storage is
    // square (the header parser checks it), so every index stays inside the matrix; the three
    // arrays grew together.
    let data = unsafe { MatrixData::from_triplets_unchecked(nrows, ncols, rows, cols, vals) };
    Entries {
        data,
        row_major: false,
    }
}

/// Checks, before anything of that size is allocated, that an array of `items` items of
/// type `X` sized by the declared shape (`what`) stays within the budget of a file of
/// `file_bytes` bytes (unless `trust`; see [`SHAPE_ITEMS_FLOOR`]) and can be allocated:
/// returns the empty, reserved array. Errors name the size line.
fn check_shape_alloc<X>(
    layout: &Layout,
    file_bytes: usize,
    items: Option<usize>,
    what: &str,
    trust: bool,
) -> Result<Vec<X>, ParseError> {
    let h = &layout.header;
    let limit = SHAPE_ITEMS_FLOOR.max(file_bytes.saturating_mul(2));
    let error = |why: String| {
        let n = items.map_or_else(|| String::from("more than usize::MAX"), |n| n.to_string());
        ParseError::new(
            layout.size_line,
            format!(
                "the declared {}x{} shape needs {n} {what}: {why}",
                h.nrows, h.ncols
            ),
        )
    };
    let n = items.ok_or_else(|| error(String::from("too many to address")))?;
    if !trust && n > limit {
        return Err(error(format!(
            "a file of {file_bytes} bytes may need at most {limit} \
             (read its entries with read_matrix_data, or set ReadOptions::trust_shape)"
        )));
    }
    let mut array = Vec::new();
    array
        .try_reserve_exact(n)
        .map_err(|_| error(String::from("they cannot be allocated")))?;
    Ok(array)
}

/// Checks the row pointers of a CSR matrix of the declared shape (see [`check_shape_alloc`]).
fn check_row_ptrs<I: Index>(
    layout: &Layout,
    file_bytes: usize,
    trust: bool,
) -> Result<(), ParseError> {
    let n = layout.header.nrows.checked_add(1);
    check_shape_alloc::<I>(layout, file_bytes, n, "row pointers", trust).map(drop)
}

fn scalar_csr<T: Scalar, I: Index>(
    bytes: Bytes<'_>,
    options: &ReadOptions,
    progress: Progress<'_>,
) -> Result<Csr<T, I>, ReadError> {
    let layout = parse_header(&bytes)?;
    let file_bytes = bytes.len();
    // Entries first: their memory follows the file's content, and a file that declares
    // more than it holds fails at its own line.
    let (_, entries) = scalar_entries::<T, I>(bytes, &layout, options, progress)?;
    check_row_ptrs::<I>(&layout, file_bytes, options.trust_shape)?;
    Ok(assemble(entries, options.duplicates)?)
}

/// Builds a CSR matrix from triplets. Files listed row by row (as this crate's writer and
/// most others write them) are taken over in place: the column and value arrays become the
/// matrix's, so peak memory stays near the triplets' size. Other files go through the
/// counting sort of [`Csr::from_matrix_data_with`].
fn assemble<T: crate::Element, I: Index>(
    entries: Entries<T, I>,
    duplicates: Duplicates,
) -> Result<Csr<T, I>> {
    let Entries { data, row_major } = entries;
    let by_row = row_major
        || if data.len() >= crate::parallel::MIN_PARALLEL_WORK {
            data.rows().par_windows(2).all(|w| w[0] <= w[1])
        } else {
            data.rows().windows(2).all(|w| w[0] <= w[1])
        };
    if !by_row {
        return Csr::from_matrix_data_with(&data, duplicates);
    }
    crate::error::check_fits::<I>(crate::Extent::Nnz, data.len())?;
    let (nrows, ncols, rows, cols, vals) = data.into_parts();
    let mut ptrs = try_zeroed(nrows.saturating_add(1), "row pointer array")?;
    fill_row_starts(&rows, &mut ptrs, I::truncate);
    drop(rows);
    // SAFETY: the pointers start at 0, never decrease and end at nnz (every row index is
    // below nrows, so the scan passes every entry), nnz fits `I` (checked above), and every
    // column index is below ncols (`MatrixData`'s invariant).
    let mut a = unsafe { Csr::from_parts_unchecked(nrows, ncols, ptrs, cols, vals) };
    // Entries strictly increasing by (row, column) are sorted without duplicates.
    if duplicates == Duplicates::Sum
        && !row_major
        && (!a.is_sorted_by_column_index() || a.has_duplicates())
    {
        a.sum_duplicates();
    }
    Ok(a)
}

fn pattern_csr<I: Index>(bytes: Bytes<'_>) -> Result<CsrPattern<I>, ReadError> {
    let layout = parse_header(&bytes)?;
    let narrow = false;
    let entries: Entries<(), I> = read_entries(&bytes, &layout, &|_, _| (), narrow, &no_progress)?;
    check_row_ptrs::<I>(&layout, bytes.len(), false)?;
    drop(bytes);
    let entries = if layout.header.symmetry == Symmetry::General {
        entries
    } else {
        mirror(entries, |()| ())
    };
    Ok(assemble(entries, Duplicates::Sum)?)
}

fn dense<T: Scalar>(bytes: Bytes<'_>) -> Result<Dense<T>, ReadError> {
    let layout = parse_header(&bytes)?;
    let h = layout.header;
    let file_bytes = bytes.len();
    // Entries are read before the dense array is allocated: a file that lies about its size
    // fails on its content before anything of that size exists.
    let file = read_scalar::<T, usize>(bytes, &ReadOptions::default())?;
    let len = h.nrows.checked_mul(h.ncols);
    let mut values = check_shape_alloc::<T>(&layout, file_bytes, len, "dense values", false)?;
    values.resize(len.unwrap_or_default(), T::zero());
    for (r, c, v) in file.data.iter() {
        values[r * h.ncols + c] += v;
    }
    Ok(Dense::try_from_row_major(h.nrows, h.ncols, values)?)
}
