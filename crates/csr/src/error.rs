//! The crate's error type.
//!
//! Every failure the library can meet on user input is a variant of [`Error`] that says what
//! is wrong and where (row, entry, position). The library never panics on user data.

/// Which dimension or count an index type is too narrow for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// The number of rows.
    Rows,
    /// The number of columns.
    Cols,
    /// The number of stored entries.
    Nnz,
}

impl std::fmt::Display for Extent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Extent::Rows => "row count",
            Extent::Cols => "column count",
            Extent::Nnz => "number of stored entries",
        })
    }
}

/// Everything that can go wrong in this crate.
///
/// Positions are 0-based. Raw index values are shown as `i128` so that negative and very
/// large values print exactly, whatever the index type.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// `row_ptrs` does not hold `nrows + 1` entries.
    #[error("row_ptrs has {actual} entries, expected nrows + 1 = {expected}")]
    RowPtrsLength {
        /// `nrows + 1`.
        expected: usize,
        /// The length given.
        actual: usize,
    },

    /// `col_idxs` and `values` differ in length.
    #[error("col_idxs has {col_idxs} entries but values has {values}")]
    ValuesLength {
        /// Length of `col_idxs`.
        col_idxs: usize,
        /// Length of `values`.
        values: usize,
    },

    /// `row_ptrs[0]` is not zero.
    #[error("row_ptrs[0] is {first}, expected 0")]
    RowPtrsStart {
        /// The value found.
        first: i128,
    },

    /// `row_ptrs[row + 1] < row_ptrs[row]`.
    #[error("row_ptrs decreases at row {row}: row_ptrs[{row}] = {start} > row_ptrs[{}] = {end}", row + 1)]
    DecreasingRowPtrs {
        /// The row whose end lies before its start.
        row: usize,
        /// `row_ptrs[row]`.
        start: i128,
        /// `row_ptrs[row + 1]`.
        end: i128,
    },

    /// `row_ptrs[nrows]` differs from the number of stored entries.
    #[error("row_ptrs[nrows] is {last}, expected nnz = {nnz} (the length of col_idxs)")]
    RowPtrsEnd {
        /// The value found.
        last: i128,
        /// `col_idxs.len()`.
        nnz: usize,
    },

    /// A column index lies outside `0..ncols`.
    #[error("column index {col} out of bounds at entry {pos} (row {row}); ncols is {ncols}")]
    ColumnOutOfBounds {
        /// The row holding the entry.
        row: usize,
        /// The entry's position in `col_idxs`.
        pos: usize,
        /// The column index found.
        col: i128,
        /// The number of columns.
        ncols: usize,
    },

    /// A triplet's row or column index lies outside the matrix.
    #[error("entry {entry} at ({row}, {col}) lies outside the {nrows}x{ncols} matrix")]
    EntryOutOfBounds {
        /// The triplet's position.
        entry: usize,
        /// Its row index.
        row: i128,
        /// Its column index.
        col: i128,
        /// The number of rows.
        nrows: usize,
        /// The number of columns.
        ncols: usize,
    },

    /// Triplet arrays (rows, cols, values) differ in length.
    #[error("triplet arrays differ in length: {rows} rows, {cols} cols, {values} values")]
    TripletLength {
        /// Length of the row array.
        rows: usize,
        /// Length of the column array.
        cols: usize,
        /// Length of the value array.
        values: usize,
    },

    /// A dense array does not hold `nrows * ncols` values.
    #[error("dense array has {actual} values, expected {nrows}x{ncols} = {}", wide_product(*nrows, *ncols))]
    DenseLength {
        /// Rows of the dense matrix.
        nrows: usize,
        /// Columns of the dense matrix.
        ncols: usize,
        /// The length given.
        actual: usize,
    },

    /// A size does not fit the chosen index type.
    #[error("{extent} {value} does not fit index type {index_type} (max {max})")]
    IndexTooNarrow {
        /// What does not fit.
        extent: Extent,
        /// The size.
        value: usize,
        /// The index type's name.
        index_type: &'static str,
        /// The largest value the index type holds.
        max: usize,
    },

    /// An operation needs a square matrix.
    #[error("{op} needs a square matrix, got {nrows}x{ncols}")]
    NotSquare {
        /// The operation.
        op: &'static str,
        /// Rows.
        nrows: usize,
        /// Columns.
        ncols: usize,
    },

    /// A diagonal entry is not allowed by the declared symmetry (a nonzero diagonal in a
    /// skew-symmetric matrix, a non-real diagonal in a hermitian one).
    #[error("entry {entry} on the diagonal (row {row}) is not allowed in {symmetry} storage")]
    InvalidDiagonal {
        /// The triplet's position.
        entry: usize,
        /// Its row (and column).
        row: usize,
        /// The symmetry's name.
        symmetry: &'static str,
    },

    /// The operands' shapes do not agree.
    #[error("{op}: dimension mismatch, {lhs:?} vs {rhs:?}")]
    DimensionMismatch {
        /// The operation.
        op: &'static str,
        /// Shape of the left operand (rows, cols).
        lhs: (usize, usize),
        /// Shape of the right operand (rows, cols).
        rhs: (usize, usize),
    },

    /// A size computation overflowed `usize`.
    #[error("{what} overflows the address space")]
    SizeOverflow {
        /// What was being computed.
        what: &'static str,
    },

    /// An array sized by a dimension (rows, columns, a dense shape) could not be allocated.
    #[error("cannot allocate the {what} ({bytes} bytes)")]
    OutOfMemory {
        /// The array.
        what: &'static str,
        /// Its size in bytes.
        bytes: usize,
    },

    /// A generator specification could not be understood.
    #[error("invalid generator spec {spec:?}: {reason}")]
    InvalidGenerator {
        /// The spec as given.
        spec: String,
        /// What is wrong, with the expected form.
        reason: String,
    },

    /// A Matrix Market file (or stream) is malformed; `line` is 1-based.
    #[error("{}{line}: {what}", path_prefix(path.as_deref()))]
    Parse {
        /// The file, when reading from a path.
        path: Option<std::path::PathBuf>,
        /// The 1-based line where the problem was found.
        line: usize,
        /// What was wrong, and what was expected.
        what: String,
    },

    /// Reading or writing a file failed. The I/O error is kept as its kind and message so
    /// that `Error` stays `PartialEq` and `Clone`-friendly.
    #[error("{}{message}", io_prefix(path.as_deref()))]
    Io {
        /// The file, when there is one.
        path: Option<std::path::PathBuf>,
        /// The I/O error's kind.
        kind: std::io::ErrorKind,
        /// The I/O error's message.
        message: String,
    },

    /// A kernel cannot perform an operation (or not for these value/index types).
    #[error("kernel {kernel} does not support {op}: {reason}")]
    Unsupported {
        /// The kernel's name.
        kernel: &'static str,
        /// The operation.
        op: &'static str,
        /// Why.
        reason: String,
    },

    /// A kernel name is not known.
    #[error("unknown kernel {name:?}; known kernels: {known}")]
    UnknownKernel {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },

    /// An SpMV strategy name is not known.
    #[error("unknown SpMV strategy {name:?}; known strategies: {known}")]
    UnknownStrategy {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },

    /// A kernel is known but cannot be used on this machine.
    #[error("kernel {kernel} is unavailable: {reason}")]
    KernelUnavailable {
        /// The kernel's name.
        kernel: &'static str,
        /// Why it cannot be used.
        reason: String,
    },

    /// A handle made by one kernel was given to another.
    #[error("{op}: handle belongs to kernel {handle_kernel}, not {kernel}")]
    ForeignHandle {
        /// The operation.
        op: &'static str,
        /// The kernel asked to run it.
        kernel: &'static str,
        /// The kernel that made the handle.
        handle_kernel: &'static str,
    },

    /// An array of a storage format has the wrong length.
    #[error("{format}: {array} has {actual} entries, expected {expected}")]
    ArrayLength {
        /// The format (`"ell"`, `"sellp"`, ...).
        format: &'static str,
        /// The array.
        array: &'static str,
        /// The length the other arguments imply.
        expected: usize,
        /// The length given.
        actual: usize,
    },

    /// A stride is smaller than the extent it must cover.
    #[error("{format}: stride {stride} is less than the {what} ({min})")]
    StrideTooSmall {
        /// The format.
        format: &'static str,
        /// The stride given.
        stride: usize,
        /// What it must cover (`"number of rows"`).
        what: &'static str,
        /// The smallest valid stride.
        min: usize,
    },

    /// A format parameter that must be positive is zero.
    #[error("{format}: {parameter} must be positive")]
    ZeroParameter {
        /// The format.
        format: &'static str,
        /// The parameter (`"slice_size"`, `"stride_factor"`).
        parameter: &'static str,
    },

    /// COO row indices must be non-decreasing (entries stored row by row).
    #[error(
        "coo: entry {pos} has row {row} after an entry of row {prev}; rows must be non-decreasing"
    )]
    UnsortedRows {
        /// The entry's position.
        pos: usize,
        /// Its row index.
        row: usize,
        /// The row of the entry before it.
        prev: usize,
    },

    /// A slot of a padded format (ELL, SELL-P) holds a column index that is neither a
    /// column of the matrix nor the padding index.
    #[error(
        "{format}: slot {pos} (row {row}) holds column index {col}, expected one in 0..{ncols} or the padding index"
    )]
    SlotOutOfBounds {
        /// The format.
        format: &'static str,
        /// The row the slot belongs to.
        row: usize,
        /// The slot's position in the column-index array.
        pos: usize,
        /// The column index found.
        col: i128,
        /// The number of columns.
        ncols: usize,
    },

    /// A slot past the last row of a padded format (stride or slice padding) holds an entry
    /// instead of the padding index.
    #[error(
        "{format}: slot {pos} belongs to row {row} past the last row ({nrows} rows) but is not padding"
    )]
    EntryPastLastRow {
        /// The format.
        format: &'static str,
        /// The (non-existent) row the slot belongs to.
        row: usize,
        /// The slot's position.
        pos: usize,
        /// The number of rows.
        nrows: usize,
    },

    /// A padding slot of a padded format holds a nonzero value.
    #[error("{format}: padding slot {pos} (row {row}) holds a nonzero value")]
    NonZeroPadding {
        /// The format.
        format: &'static str,
        /// The row the slot belongs to.
        row: usize,
        /// The slot's position.
        pos: usize,
    },

    /// SELL-P slice sets are not the running sum of the slice lengths.
    #[error("sellp: slice_sets[{}] is {actual}, expected slice_sets[{slice}] + slice_lengths[{slice}] = {expected}", slice + 1)]
    SliceSets {
        /// The slice whose end (`slice_sets[slice + 1]`) is wrong.
        slice: usize,
        /// The value implied by the lengths.
        expected: i128,
        /// The value found.
        actual: i128,
    },

    /// `slice_sets[0]` of a SELL-P matrix is not zero.
    #[error("sellp: slice_sets[0] is {first}, expected 0")]
    SliceSetsStart {
        /// The value found.
        first: i128,
    },

    /// A SELL-P slice length is not a multiple of the stride factor.
    #[error(
        "sellp: slice {slice} has length {length}, not a multiple of the stride factor {stride_factor}"
    )]
    SliceLength {
        /// The slice.
        slice: usize,
        /// Its length.
        length: usize,
        /// The stride factor.
        stride_factor: usize,
    },

    /// An MKL routine returned a failure status (the MKL kernel never aborts on one).
    #[error("MKL call {call} failed with status {status}: {meaning}")]
    Mkl {
        /// The MKL routine (`mkl_sparse_sp2m`).
        call: &'static str,
        /// Its `sparse_status_t`.
        status: i32,
        /// What the status means.
        meaning: &'static str,
    },

    /// An MKL routine reported success but handed back something unusable (a one-based or
    /// inconsistent matrix, a product of the wrong shape).
    #[error("MKL call {call} returned an invalid result: {problem}")]
    MklOutput {
        /// The MKL routine (`mkl_sparse_export_csr`).
        call: &'static str,
        /// What was wrong with it.
        problem: String,
    },

    /// A kernel's own handle lacks the state the kernel keeps in it, dropped by an earlier
    /// operation that failed half way; a new handle works.
    #[error(
        "{op}: this {kernel} handle lost its prepared state in an earlier failed operation; make a new handle"
    )]
    HandleStateLost {
        /// The operation.
        op: &'static str,
        /// The kernel.
        kernel: &'static str,
    },

    /// A matrix lacks the symmetry an operation (such as symmetric output) requires.
    #[error("matrix is not {symmetry}: entry ({row}, {col}) has no matching mirror entry")]
    NotSymmetric {
        /// The symmetry's name.
        symmetry: &'static str,
        /// Row of the first offending entry.
        row: usize,
        /// Column of the first offending entry.
        col: usize,
    },

    /// A Matrix Market header combination the format does not allow was asked of the
    /// writer (a `pattern` file that is `skew-symmetric` or `hermitian`, an `array` file
    /// that is `pattern`).
    #[error("a Matrix Market {format} {field} file cannot be {symmetry}: {reason}")]
    InvalidMmHeader {
        /// `coordinate` or `array`.
        format: &'static str,
        /// The field's name.
        field: &'static str,
        /// The symmetry's name.
        symmetry: &'static str,
        /// Why the combination is invalid.
        reason: &'static str,
    },

    /// A value cannot be written in the Matrix Market field asked for (a non-integral
    /// value in an `integer` file).
    #[error("entry ({row}, {col}) cannot be written as {field}: {reason}")]
    ValueNotInField {
        /// The field's name.
        field: &'static str,
        /// Row of the first offending entry.
        row: usize,
        /// Column of the first offending entry.
        col: usize,
        /// What is wrong with the value.
        reason: &'static str,
    },

    /// An entry of an index list (a permutation, an index set) lies outside its range.
    #[error("{what}: entry {pos} is {index}, outside 0..{len}")]
    IndexOutOfRange {
        /// Which list.
        what: &'static str,
        /// The entry's position in the list.
        pos: usize,
        /// The index found.
        index: i128,
        /// The exclusive upper bound.
        len: usize,
    },

    /// An index appears twice in a list that must hold each index at most once (a
    /// permutation, an index set).
    #[error("{what}: entry {pos} repeats index {index}, first seen at entry {first}")]
    RepeatedIndex {
        /// Which list.
        what: &'static str,
        /// The position of the repetition.
        pos: usize,
        /// The repeated index.
        index: usize,
        /// The position where the index first appeared.
        first: usize,
    },

    /// A list (a permutation, scaling factors) does not have the length the operation needs.
    #[error("{op}: {what} has length {actual}, expected {expected}")]
    LengthMismatch {
        /// The operation.
        op: &'static str,
        /// Which list.
        what: &'static str,
        /// The length needed.
        expected: usize,
        /// The length given.
        actual: usize,
    },

    /// A range of rows or columns does not lie within the matrix (or ends before it starts).
    #[error("{what} range {start}..{end} does not lie within 0..{len}")]
    RangeOutOfBounds {
        /// `"row"` or `"column"`.
        what: &'static str,
        /// The range's start.
        start: usize,
        /// The range's end (exclusive).
        end: usize,
        /// The number of rows or columns.
        len: usize,
    },

    /// An operation needs every diagonal entry to be stored, and one is not.
    #[error("{op}: row {row} stores no diagonal entry")]
    MissingDiagonal {
        /// The operation.
        op: &'static str,
        /// The first row whose diagonal entry is absent.
        row: usize,
    },
}

/// `"path: "` or nothing, before an I/O message.
fn io_prefix(path: Option<&std::path::Path>) -> String {
    path.map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

/// `"path:"` or `"line "`, before a line number.
fn path_prefix(path: Option<&std::path::Path>) -> String {
    match path {
        Some(p) => format!("{}:", p.display()),
        None => String::from("line "),
    }
}

impl Error {
    /// Wraps an I/O error, naming the file if there is one.
    pub(crate) fn io(path: Option<&std::path::Path>, err: &std::io::Error) -> Self {
        Error::Io {
            path: path.map(std::path::Path::to_path_buf),
            kind: err.kind(),
            message: err.to_string(),
        }
    }
}

/// `a * b` without overflow, for messages: `Dense::try_from_row_major` reports
/// [`Error::DenseLength`] even when `nrows * ncols` overflows `usize`.
fn wide_product(a: usize, b: usize) -> u128 {
    let wide = |x: usize| u128::try_from(x).unwrap_or(u128::MAX);
    wide(a).saturating_mul(wide(b))
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that `value` fits index type `I`, naming `extent` in the error.
pub(crate) fn check_fits<I: crate::Index>(extent: Extent, value: usize) -> Result<()> {
    if value > I::MAX_USIZE {
        return Err(Error::IndexTooNarrow {
            extent,
            value,
            index_type: I::NAME,
            max: I::MAX_USIZE,
        });
    }
    Ok(())
}

/// The one shape check behind every constructor: `nrows` and `ncols` fit `I`, and
/// `nrows + 1` and `ncols + 1` (the length of row pointers, of a transpose's row pointers)
/// are representable in `usize`.
pub(crate) fn check_shape<I: crate::Index>(nrows: usize, ncols: usize) -> Result<()> {
    check_fits::<I>(Extent::Rows, nrows)?;
    check_fits::<I>(Extent::Cols, ncols)?;
    nrows
        .checked_add(1)
        .ok_or(Error::SizeOverflow { what: "nrows + 1" })?;
    ncols
        .checked_add(1)
        .ok_or(Error::SizeOverflow { what: "ncols + 1" })?;
    Ok(())
}
