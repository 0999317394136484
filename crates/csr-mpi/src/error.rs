//! The errors of distributed operations.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What went wrong in a distributed operation.
///
/// Collective constructors agree on errors: when any rank fails, every rank returns an
/// error. The first failing rank (in rank order, which for a file read is file order)
/// returns its own error; the others return a copy of it: a Matrix Market parse error
/// exactly (same path, line and message), anything else as [`Error::OnRank`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the `csr` library (construction, I/O, parsing, kernels).
    #[error(transparent)]
    Csr(#[from] csr::Error),
    /// A row partition that does not describe `0..n` in order.
    #[error("invalid partition: {what}")]
    Partition {
        /// What is wrong.
        what: String,
    },
    /// Operands that do not fit together (shapes, partitions, communicators).
    #[error("{op}: {what}")]
    Mismatch {
        /// The operation.
        op: &'static str,
        /// What differs.
        what: String,
    },
    /// A zero on the diagonal where Jacobi preconditioning divides by it.
    #[error("jacobi: the diagonal entry of row {row} is zero or missing")]
    ZeroDiagonal {
        /// Global row.
        row: usize,
    },
    /// A count too large for an MPI message (more than `i32::MAX` elements).
    #[error("{what}: {count} elements do not fit one MPI message")]
    TooLarge {
        /// What was sent.
        what: &'static str,
        /// How many elements.
        count: usize,
    },
    /// The error another rank reported, as text.
    #[error("rank {rank}: {message}")]
    OnRank {
        /// The rank that failed.
        rank: usize,
        /// Its error, displayed.
        message: String,
    },
}

/// The result of distributed operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error as bytes, for another rank to rebuild with [`Error::decode`].
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Error::Csr(csr::Error::Parse { path, line, what }) => {
                out.push(0);
                let path = path.as_deref().map(|p| p.as_os_str().as_bytes().to_vec());
                out.push(u8::from(path.is_some()));
                let path = path.unwrap_or_default();
                out.extend_from_slice(&(*line as u64).to_le_bytes());
                out.extend_from_slice(&(path.len() as u64).to_le_bytes());
                out.extend_from_slice(&path);
                out.extend_from_slice(what.as_bytes());
            }
            other => {
                out.push(1);
                out.extend_from_slice(other.to_string().as_bytes());
            }
        }
        out
    }

    /// Rebuilds an error encoded by `rank` with [`Error::encode`].
    pub(crate) fn decode(rank: usize, bytes: &[u8]) -> Self {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let word = |b: &[u8]| -> Option<usize> {
            let b: [u8; 8] = b.try_into().ok()?;
            usize::try_from(u64::from_le_bytes(b)).ok()
        };
        let parse = || -> Option<Self> {
            let has_path = *bytes.get(1)? == 1;
            let line = word(bytes.get(2..10)?)?;
            let len = word(bytes.get(10..18)?)?;
            let path = bytes.get(18..18usize.checked_add(len)?)?;
            let what = bytes.get(18 + len..)?;
            let path = has_path.then(|| Path::new(OsStr::from_bytes(path)).to_path_buf());
            Some(Error::Csr(csr::Error::Parse {
                path,
                line,
                what: text(what),
            }))
        };
        match bytes.first() {
            Some(0) => parse(),
            _ => None,
        }
        .unwrap_or_else(|| Error::OnRank {
            rank,
            message: text(bytes.get(1..).unwrap_or_default()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn parse_errors_travel_exactly() {
        let e = Error::Csr(csr::Error::Parse {
            path: Some(PathBuf::from("/data/a b.mtx")),
            line: 17,
            what: "bad value \"x\"".into(),
        });
        assert_eq!(Error::decode(3, &e.encode()), e);
        let e = Error::Csr(csr::Error::Parse {
            path: None,
            line: 2,
            what: String::new(),
        });
        assert_eq!(Error::decode(0, &e.encode()), e);
    }

    #[test]
    fn other_errors_travel_as_text() {
        let e = Error::ZeroDiagonal { row: 4 };
        assert_eq!(
            Error::decode(2, &e.encode()),
            Error::OnRank {
                rank: 2,
                message: e.to_string()
            }
        );
        assert!(matches!(
            Error::decode(1, &[]),
            Error::OnRank { rank: 1, .. }
        ));
        assert!(matches!(Error::decode(1, &[0, 1, 2]), Error::OnRank { .. }));
    }
}
