//! Matrix Market I/O: a strict, parallel reader and an exact, atomic writer.
//!
//! The reader accepts every Matrix Market variant: object `matrix` or `vector`, format
//! `coordinate` or `array`, field `real` (or `double`), `integer`, `complex` or `pattern`,
//! symmetry `general`, `symmetric`, `skew-symmetric` or `hermitian`, in any letter case, from a
//! path (memory-mapped), from any [`std::io::Read`], gzip-compressed or not (detected by its
//! magic bytes, not by the file name).
//!
//! It is permissive where real files need it: leading whitespace or blank lines before the
//! banner, a single-`%` banner, indented and extra-spaced lines, CRLF and CR-only line ends,
//! blank lines and comments anywhere after the banner, trailing whitespace, a missing final
//! newline. Everything else is an [`Error::Parse`](crate::Error::Parse) carrying the 1-based
//! line and what was expected: a bad banner or header word, a missing or malformed size line,
//! negative or non-numeric sizes, an index of 0 or beyond the declared size, more or fewer
//! entries than declared, a value that does not parse or overflows its type (`1e310` into
//! `f64`), `vector` with a symmetry, a complex file read into a real type, sizes too large for
//! the index type, a nonzero diagonal in a skew-symmetric file. Nothing is allocated from the
//! declared counts: the reader first counts the entry lines actually present.
//!
//! Values: `integer` files read into real types; `pattern` files give ones (or read into a
//! [`CsrPattern`](crate::CsrPattern) with [`read_pattern`]); `real` files read into complex
//! types with a zero imaginary part. `array` files give every stored value, zeros included.
//!
//! # Threads
//! The data section is cut into newline-aligned chunks parsed in parallel on the current
//! rayon pool; files under [`PARALLEL_MIN_BYTES`] are parsed on the calling thread. Results
//! are identical whatever the thread count.
//!
//! # Examples
//!
//! ```
//! use csr::io::mm;
//!
//! let text = "%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 4.0\n2 1 -1.5\n";
//! let a = mm::read_csr_from::<_, f64, i32>(text.as_bytes(), &mm::ReadOptions::default())?;
//! assert_eq!(a.iter().collect::<Vec<_>>(), vec![(0, 0, 4.0), (0, 1, -1.5), (1, 0, -1.5)]);
//!
//! let mut out = Vec::new();
//! mm::write_csr_to(&mut out, &a, &mm::WriteOptions::default())?;
//! let b = mm::read_csr_from::<_, f64, i32>(&out[..], &mm::ReadOptions::default())?;
//! assert_eq!(a, b);
//! # Ok::<(), csr::Error>(())
//! ```

mod data;
mod digits;
mod header;
mod parse;
mod progress;
mod read;
mod write;

pub use data::{PARALLEL_MIN_BYTES, PieceCount};
pub use header::{Field, Format, Header, Object};
pub use progress::{Progress, Stage};
pub use read::{
    MmFile, MmPieces, Piece, ReadOptions, SHAPE_ITEMS_FLOOR, read_csr, read_csr_from,
    read_csr_with, read_csr_with_progress, read_dense, read_dense_from, read_header,
    read_matrix_data, read_matrix_data_from, read_matrix_data_from_bytes, read_pattern,
};
pub use write::{
    WriteOptions, write_csr, write_csr_to, write_csr_with_progress, write_dense, write_dense_to,
    write_pattern, write_pattern_to,
};
