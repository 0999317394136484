//! The writer: shortest round-trip values (ryu), parallel formatting, atomic file replacement.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::scalar::real_to_f64;
use crate::{Csr, CsrPattern, Dense, Element, Index, Scalar, Symmetry};

use super::header::{Field, Format};
use super::progress::{Progress, Stage, no_progress};

/// Entries formatted per parallel piece; a piece's text (about 25 bytes an entry) is held in
/// memory until it is written.
const PIECE_ENTRIES: usize = 1 << 18;

/// How to write a Matrix Market file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Storage to declare. Anything but `General` writes one triangle (lower, diagonal
    /// included except for skew-symmetric) after checking that the matrix has that symmetry
    /// exactly; the check fails with [`Error::NotSymmetric`].
    pub symmetry: Symmetry,
    /// `Coordinate` (the default) or `Array` (every value, column by column, zeros included).
    pub format: Format,
    /// Field to declare: `None` (the default) writes `real` or `complex` after the value
    /// type; `Integer` writes every value as an integer (each must be a real whole number
    /// within ±2⁶³, else [`Error::ValueNotInField`]); `Pattern` writes the structure only
    /// (coordinate, not skew-symmetric nor hermitian, else [`Error::InvalidMmHeader`]).
    pub field: Option<Field>,
    /// Extra comment text, written after the producer line (each line prefixed by `%`).
    pub comment: Option<String>,
    /// Flush the file to disk (`fsync`) before renaming it into place, so that even a power
    /// loss cannot leave an empty file. Off by default: the rename alone already makes the
    /// write atomic for every reader and against a crash of this process.
    pub sync: bool,
}

impl WriteOptions {
    /// Sets the declared symmetry.
    #[must_use]
    pub fn symmetry(mut self, symmetry: Symmetry) -> Self {
        self.symmetry = symmetry;
        self
    }

    /// Sets the layout.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Sets the field to declare (see [`WriteOptions::field`]).
    #[must_use]
    pub fn field(mut self, field: Field) -> Self {
        self.field = Some(field);
        self
    }
}

/// Writes `a` to `path` atomically: the text goes to a temporary file in the same folder,
/// renamed over `path` only once complete, so a failure never leaves a truncated file. A path
/// ending in `.gz` is gzip-compressed.
///
/// Values are written in the shortest form that reads back to the same bits (ryu), so
/// [`read_csr_with`](super::read_csr_with) with [`Duplicates::Keep`](crate::Duplicates::Keep)
/// returns a matrix equal to `a` (rows in the same order, duplicates kept).
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; [`Error::NotSymmetric`] if `options` ask for
/// a symmetry the matrix does not have.
///
/// # Examples
///
/// ```
/// use csr::{Csr, io::mm};
///
/// let a = Csr::<f64, i32>::identity(3)?;
/// let path = std::env::temp_dir().join(format!("csr-doc-{}.mtx", std::process::id()));
/// mm::write_csr(&path, &a, &mm::WriteOptions::default())?;
/// assert_eq!(mm::read_csr::<f64, i32>(&path)?, a);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), csr::Error>(())
/// ```
pub fn write_csr<T: Scalar, I: Index>(
    path: impl AsRef<Path>,
    a: &Csr<T, I>,
    options: &WriteOptions,
) -> Result<()> {
    write_atomically(path.as_ref(), options.sync, |w| write_csr_to(w, a, options))
}

/// Writes `a` as Matrix Market text to any writer (uncompressed).
///
/// # Errors
/// As [`write_csr`].
pub fn write_csr_to<W: Write, T: Scalar, I: Index>(
    w: W,
    a: &Csr<T, I>,
    options: &WriteOptions,
) -> Result<()> {
    write_csr_reporting(w, a, options, &no_progress)
}

/// Writes `a` to `path` like [`write_csr`], reporting the entries written so far to
/// `progress` ([`Stage::Writing`]) every few hundred thousand entries.
///
/// # Errors
/// As [`write_csr`].
pub fn write_csr_with_progress<T: Scalar, I: Index>(
    path: impl AsRef<Path>,
    a: &Csr<T, I>,
    options: &WriteOptions,
    progress: Progress<'_>,
) -> Result<()> {
    write_atomically(path.as_ref(), options.sync, |w| {
        write_csr_reporting(w, a, options, progress)
    })
}

fn write_csr_reporting<W: Write, T: Scalar, I: Index>(
    w: W,
    a: &Csr<T, I>,
    options: &WriteOptions,
    progress: Progress<'_>,
) -> Result<()> {
    let mirror = move |v: T| match options.symmetry {
        Symmetry::General | Symmetry::Symmetric => v,
        Symmetry::SkewSymmetric => -v,
        Symmetry::Hermitian => v.conj(),
    };
    match options.field {
        None | Some(Field::Real | Field::Complex) => {
            let field = if T::IS_COMPLEX {
                Field::Complex
            } else {
                Field::Real
            };
            write_sparse(w, a, options, field, mirror, push_scalar::<T>, progress)
        }
        Some(Field::Integer) => {
            check_integers(a)?;
            write_sparse(
                w,
                a,
                options,
                Field::Integer,
                mirror,
                push_integer::<T>,
                progress,
            )
        }
        Some(Field::Pattern) => write_pattern_to(w, &a.to_pattern(), options),
    }
}

/// Checks that every value of `a` is a real whole number that an `integer` file can hold.
fn check_integers<T: Scalar, I: Index>(a: &Csr<T, I>) -> Result<()> {
    let bad = (0..a.nrows()).into_par_iter().find_map_first(|r| {
        let (cols, vals) = a.row(r);
        cols.iter()
            .zip(vals)
            .find_map(|(c, &v)| Some((r, c.to_usize(), integer_problem(v)?)))
    });
    not_integer(bad)
}

/// The error for the first value that is not a whole number, if any.
fn not_integer(bad: Option<(usize, usize, &'static str)>) -> Result<()> {
    match bad {
        None => Ok(()),
        Some((row, col, reason)) => Err(Error::ValueNotInField {
            field: Field::Integer.name(),
            row,
            col,
            reason,
        }),
    }
}

/// Why `v` cannot be written in an `integer` file, if it cannot.
fn integer_problem<T: Scalar>(v: T) -> Option<&'static str> {
    let re = real_to_f64(v.re());
    if real_to_f64(v.im()) != 0.0 {
        Some("it has an imaginary part")
    } else if !re.is_finite() || re.fract() != 0.0 {
        Some("it is not a whole number")
    } else if re.abs() >= INTEGER_LIMIT {
        Some("it does not fit 64 bits")
    } else {
        None
    }
}

/// Integer values are written as `i64`: magnitudes must stay below 2⁶³.
const INTEGER_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// Writes a pattern matrix to `path` atomically (see [`write_csr`]).
///
/// # Errors
/// As [`write_csr`].
pub fn write_pattern<I: Index>(
    path: impl AsRef<Path>,
    a: &CsrPattern<I>,
    options: &WriteOptions,
) -> Result<()> {
    write_atomically(path.as_ref(), options.sync, |w| {
        write_pattern_to(w, a, options)
    })
}

/// Writes a pattern matrix (field `pattern`) to any writer. A pattern `array` file does not
/// exist: with `options.format == Array` the matrix is written as `real` ones and zeros.
///
/// # Errors
/// As [`write_csr`]; [`Error::InvalidMmHeader`] for `skew-symmetric` or `hermitian` coordinate
/// output, which the Matrix Market format does not allow for a pattern.
pub fn write_pattern_to<W: Write, I: Index>(
    w: W,
    a: &CsrPattern<I>,
    options: &WriteOptions,
) -> Result<()> {
    if options.format == Format::Array {
        let options = WriteOptions {
            field: None,
            ..options.clone()
        };
        return write_csr_to(w, &a.to_valued::<f64>(), &options);
    }
    let reason = match options.symmetry {
        Symmetry::General | Symmetry::Symmetric => None,
        Symmetry::SkewSymmetric => {
            Some("the mirror of a stored entry is its negation, which a pattern cannot hold")
        }
        Symmetry::Hermitian => Some("hermitian storage needs complex values"),
    };
    if let Some(reason) = reason {
        return Err(Error::InvalidMmHeader {
            format: Format::Coordinate.name(),
            field: Field::Pattern.name(),
            symmetry: options.symmetry.name(),
            reason,
        });
    }
    write_sparse(
        w,
        a,
        options,
        Field::Pattern,
        |v| v,
        |_, (), _| {},
        &no_progress,
    )
}

/// Writes a dense matrix to `path` atomically (see [`write_csr`]); `array` format unless
/// `options.format` says `Coordinate` (then every value, zeros included, is an entry).
///
/// # Errors
/// As [`write_csr`].
pub fn write_dense<T: Scalar>(
    path: impl AsRef<Path>,
    d: &Dense<T>,
    options: &WriteOptions,
) -> Result<()> {
    write_atomically(path.as_ref(), options.sync, |w| {
        write_dense_to(w, d, options)
    })
}

/// Writes a dense matrix as an `array` file to any writer. `options.field` may ask for
/// `Integer`; `Pattern` is not a dense field and writes the values as without it.
///
/// # Errors
/// As [`write_csr`].
pub fn write_dense_to<W: Write, T: Scalar>(
    w: W,
    d: &Dense<T>,
    options: &WriteOptions,
) -> Result<()> {
    let (nrows, ncols) = d.shape();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    let sym = options.symmetry;
    let mirror = |v: T| match sym {
        Symmetry::General | Symmetry::Symmetric => v,
        Symmetry::SkewSymmetric => -v,
        Symmetry::Hermitian => v.conj(),
    };
    if sym != Symmetry::General {
        if nrows != ncols {
            return Err(Error::NotSquare {
                op: "symmetric output",
                nrows,
                ncols,
            });
        }
        for j in 0..ncols {
            for i in j..nrows {
                let ok = d.row(i)[j] == mirror(d.row(j)[i])
                    && !(i == j && sym == Symmetry::SkewSymmetric && d.row(i)[j] != T::zero());
                if !ok {
                    return Err(Error::NotSymmetric {
                        symmetry: sym.name(),
                        row: i,
                        col: j,
                    });
                }
            }
        }
    }
    let integer = options.field == Some(Field::Integer);
    if integer {
        let bad = (0..nrows)
            .find_map(|i| (0..ncols).find_map(|j| Some((i, j, integer_problem(d.row(i)[j])?))));
        not_integer(bad)?;
    }
    let field = match (integer, T::IS_COMPLEX) {
        (true, _) => "integer",
        (false, true) => "complex",
        (false, false) => "real",
    };
    let push = if integer {
        push_integer::<T>
    } else {
        push_scalar::<T>
    };
    let io = |e: std::io::Error| Error::io(None, &e);
    let first_row = |j: usize| match sym {
        Symmetry::General => 0,
        Symmetry::Symmetric | Symmetry::Hermitian => j,
        Symmetry::SkewSymmetric => j + 1,
    };
    let coordinate = options.format == Format::Coordinate;
    let count: usize = (0..ncols).map(|j| nrows.saturating_sub(first_row(j))).sum();
    let kind = if coordinate { "coordinate" } else { "array" };
    write_preamble(&mut w, kind, field, sym, options).map_err(io)?;
    if coordinate {
        writeln!(w, "{nrows} {ncols} {count}").map_err(io)?;
    } else {
        writeln!(w, "{nrows} {ncols}").map_err(io)?;
    }
    let mut buf = Vec::with_capacity(1 << 16);
    let mut ryu = ryu::Buffer::new();
    for j in 0..ncols {
        for i in first_row(j)..nrows {
            if coordinate {
                push_usize(&mut buf, i + 1);
                buf.push(b' ');
                push_usize(&mut buf, j + 1);
                buf.push(b' ');
            }
            push(&mut buf, d.row(i)[j], &mut ryu);
            buf.push(b'\n');
            if buf.len() >= 1 << 16 {
                w.write_all(&buf).map_err(io)?;
                buf.clear();
            }
        }
    }
    w.write_all(&buf).map_err(io)?;
    w.flush().map_err(io)
}

/// Banner and comment lines.
fn write_preamble(
    w: &mut impl Write,
    format: &str,
    field: &str,
    symmetry: Symmetry,
    options: &WriteOptions,
) -> std::io::Result<()> {
    writeln!(
        w,
        "%%MatrixMarket matrix {format} {field} {}",
        symmetry.name()
    )?;
    writeln!(w, "% written by csr {}", env!("CARGO_PKG_VERSION"))?;
    if let Some(comment) = &options.comment {
        for line in comment.lines() {
            writeln!(w, "% {line}")?;
        }
    }
    Ok(())
}

/// Checks that `a` has `symmetry` exactly (structure and values) and returns its sorted,
/// duplicate-free form.
fn check_symmetry<T: Element, I: Index>(
    a: &Csr<T, I>,
    symmetry: Symmetry,
    mirror: impl Fn(T) -> T,
) -> Result<Csr<T, I>> {
    if a.nrows() != a.ncols() {
        return Err(Error::NotSquare {
            op: "symmetric output",
            nrows: a.nrows(),
            ncols: a.ncols(),
        });
    }
    let mut c = a.clone();
    c.sum_duplicates();
    let t = c.transpose();
    for r in 0..c.nrows() {
        let (cc, cv) = c.row(r);
        let (tc, tv) = t.row(r);
        let n = cc.len().max(tc.len());
        for k in 0..n {
            let same = cc.get(k) == tc.get(k)
                && match (cv.get(k), tv.get(k)) {
                    (Some(&x), Some(&y)) => x == mirror(y),
                    _ => false,
                };
            let bad_diagonal = symmetry == Symmetry::SkewSymmetric
                && cc.get(k).is_some_and(|c| c.to_usize() == r)
                && cv.get(k).is_some_and(|&v| v != T::default());
            if !same || bad_diagonal {
                let col = cc.get(k).or(tc.get(k)).map_or(0, |c| c.to_usize());
                return Err(Error::NotSymmetric {
                    symmetry: symmetry.name(),
                    row: r,
                    col,
                });
            }
        }
    }
    Ok(c)
}

fn write_sparse<W, T, I, M, F>(
    w: W,
    a: &Csr<T, I>,
    options: &WriteOptions,
    field: Field,
    mirror: M,
    push_value: F,
    progress: Progress<'_>,
) -> Result<()>
where
    W: Write,
    T: Element,
    I: Index,
    M: Fn(T) -> T,
    F: Fn(&mut Vec<u8>, T, &mut ryu::Buffer) + Sync,
{
    let io = |e: std::io::Error| Error::io(None, &e);
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    let sym = options.symmetry;
    let canonical;
    let a = if sym == Symmetry::General {
        a
    } else {
        canonical = check_symmetry(a, sym, mirror)?;
        &canonical
    };
    // Which entries of row r are written: all, or those with col <= r (col < r for skew).
    let keep = |r: usize, c: usize| match sym {
        Symmetry::General => true,
        Symmetry::Symmetric | Symmetry::Hermitian => c <= r,
        Symmetry::SkewSymmetric => c < r,
    };
    if options.format == Format::Array {
        return write_sparse_array(&mut w, a, options, field, &keep, &push_value);
    }
    let count = if sym == Symmetry::General {
        a.nnz()
    } else {
        (0..a.nrows())
            .into_par_iter()
            .map(|r| a.row(r).0.iter().filter(|c| keep(r, c.to_usize())).count())
            .sum()
    };
    write_preamble(&mut w, "coordinate", field.name(), sym, options).map_err(io)?;
    writeln!(w, "{} {} {count}", a.nrows(), a.ncols()).map_err(io)?;

    let pieces = a.nnz().div_ceil(PIECE_ENTRIES).max(1);
    let bounds = crate::parallel::balanced_row_blocks(a.row_ptrs(), pieces);
    let format_rows = |rows: std::ops::Range<usize>| {
        let mut ryu = ryu::Buffer::new();
        let lo = a.row_ptrs()[rows.start].to_usize();
        let hi = a.row_ptrs()[rows.end].to_usize();
        let mut buf = Vec::with_capacity((hi - lo) * 40);
        for r in rows {
            let (cols, vals) = a.row(r);
            for (c, &v) in cols.iter().zip(vals) {
                let c = c.to_usize();
                if !keep(r, c) {
                    continue;
                }
                push_usize(&mut buf, r + 1);
                buf.push(b' ');
                push_usize(&mut buf, c + 1);
                if field != Field::Pattern {
                    buf.push(b' ');
                    push_value(&mut buf, v, &mut ryu);
                }
                buf.push(b'\n');
            }
        }
        buf
    };
    let ranges: Vec<_> = bounds.windows(2).map(|b| b[0]..b[1]).collect();
    let batch = 2 * rayon::current_num_threads().max(1);
    let total = a.nnz() as u64;
    for group in ranges.chunks(batch) {
        let texts: Vec<Vec<u8>> = if group.len() == 1 {
            vec![format_rows(group[0].clone())]
        } else {
            group.par_iter().map(|r| format_rows(r.clone())).collect()
        };
        for t in texts {
            w.write_all(&t).map_err(io)?;
        }
        let done = a.row_ptrs()[group[group.len() - 1].end].to_usize();
        progress(Stage::Writing, done as u64, total);
    }
    w.flush().map_err(io)
}

/// A sparse matrix written as an `array` file (zeros filled in), column by column.
fn write_sparse_array<W: Write, T: Element, I: Index>(
    w: &mut W,
    a: &Csr<T, I>,
    options: &WriteOptions,
    field: Field,
    keep: &impl Fn(usize, usize) -> bool,
    push_value: &impl Fn(&mut Vec<u8>, T, &mut ryu::Buffer),
) -> Result<()> {
    let io = |e: std::io::Error| Error::io(None, &e);
    let sym = options.symmetry;
    let mut c = a.clone();
    c.sum_duplicates();
    let t = c.transpose();
    write_preamble(w, "array", field.name(), sym, options).map_err(io)?;
    writeln!(w, "{} {}", a.nrows(), a.ncols()).map_err(io)?;
    let mut buf = Vec::with_capacity(1 << 16);
    let mut ryu = ryu::Buffer::new();
    for j in 0..t.nrows() {
        let (rows, vals) = t.row(j);
        let mut k = 0;
        for i in 0..a.nrows() {
            if !keep(i, j) {
                continue;
            }
            while k < rows.len() && rows[k].to_usize() < i {
                k += 1;
            }
            let v = if k < rows.len() && rows[k].to_usize() == i {
                vals[k]
            } else {
                T::default()
            };
            push_value(&mut buf, v, &mut ryu);
            buf.push(b'\n');
            if buf.len() >= 1 << 16 {
                w.write_all(&buf).map_err(io)?;
                buf.clear();
            }
        }
    }
    w.write_all(&buf).map_err(io)?;
    w.flush().map_err(io)
}

/// Appends the decimal digits of `n`.
#[inline]
fn push_usize(buf: &mut Vec<u8>, mut n: usize) {
    let mut tmp = [0_u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends a whole value (checked by [`check_integers`]) as an integer.
#[inline]
fn push_integer<T: Scalar>(buf: &mut Vec<u8>, v: T, _: &mut ryu::Buffer) {
    // In range and whole: checked before writing, so the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    let n = real_to_f64(v.re()) as i64;
    if n < 0 {
        buf.push(b'-');
    }
    push_usize(buf, usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX));
}

/// Appends the shortest text that parses back to exactly `x` (an `f32` or `f64`).
#[inline]
fn push_real<R: Scalar>(buf: &mut Vec<u8>, x: R, ryu: &mut ryu::Buffer) {
    if let Ok(x) = bytemuck::try_cast::<R, f64>(x) {
        buf.extend_from_slice(ryu.format(x).as_bytes());
    } else if let Ok(x) = bytemuck::try_cast::<R, f32>(x) {
        buf.extend_from_slice(ryu.format(x).as_bytes());
    }
}

/// Appends a value: `re`, or `re im` for complex types.
#[inline]
fn push_scalar<T: Scalar>(buf: &mut Vec<u8>, v: T, ryu: &mut ryu::Buffer) {
    push_real(buf, v.re(), ryu);
    if T::IS_COMPLEX {
        buf.push(b' ');
        push_real(buf, v.im(), ryu);
    }
}

/// Distinguishes temporary files of concurrent writes in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Runs `write` into a temporary file next to `path` (gzip-compressed if `path` ends in
/// `.gz`), then renames it over `path`. On failure the temporary file is removed.
///
/// Where `path` names something that is not a regular file (a device such as `/dev/null`, a
/// FIFO), the text goes straight into it: renaming a file over it would replace the device
/// with a regular file. A symbolic link keeps pointing where it did: the renamed file
/// replaces its target.
fn write_atomically(
    path: &Path,
    sync: bool,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| Error::io(Some(p), &e);
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let file = std::fs::File::create(path).map_err(|e| io(path, e))?;
        // No fsync: a device or a pipe has nothing to flush to disk (and /dev/null refuses).
        return write_into(file, path, gz, false, write).map_err(|e| with_path(e, path));
    }
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let target = match is_link {
        true => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        false => path.to_path_buf(),
    };
    let name = target.file_name().ok_or_else(|| Error::Io {
        path: Some(path.to_path_buf()),
        kind: std::io::ErrorKind::InvalidInput,
        message: "not a file name".into(),
    })?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io(&tmp, e))?;
    let result = write_into(file, path, gz, sync, write)
        .and_then(|()| std::fs::rename(&tmp, &target).map_err(|e| io(path, e)));
    if result.is_err() {
        // Best effort: the error being returned matters more than a leftover temp file.
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| with_path(e, path))
}

/// Writes the text into `file` (buffered, gzip-compressed with `gz`), flushed, and synced
/// to disk with `sync`. `path` names the file in errors.
fn write_into(
    file: std::fs::File,
    path: &Path,
    gz: bool,
    sync: bool,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io(Some(path), &e);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    if gz {
        let mut enc = flate2::write::GzEncoder::new(&mut out, flate2::Compression::default());
        write(&mut enc)?;
        enc.finish().map_err(io)?;
    } else {
        write(&mut out)?;
    }
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    if sync {
        file.sync_all().map_err(io)?;
    }
    Ok(())
}

/// `e` with `path` where it is an I/O error that names no file.
fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Io {
            path: None,
            kind,
            message,
        } => Error::Io {
            path: Some(path.to_path_buf()),
            kind,
            message,
        },
        e => e,
    }
}
