//! Assembly from triplets: [`MatrixData`], and COO arrays to [`Csr`] by a parallel counting
//! sort.

use crate::error::{Error, Extent, Result, check_fits, check_shape};
use crate::formats::validate::first_outside;
use crate::ops::bucket::{Triplets, group_by_key, group_sorted_keys};
use crate::{Csr, Element, Index, Scalar};

/// What COO→CSR assembly does with entries that share coordinates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Duplicates {
    /// Sum them (in input order), and sort every row by column, like scipy's `coo.tocsr()`.
    #[default]
    Sum,
    /// Keep every entry; within a row, entries stay in input order (unsorted), like LensKit's
    /// `CSR.from_coo`.
    Keep,
}

/// How a matrix's entries are stored, as declared by a Matrix Market header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Symmetry {
    /// Every entry is stored.
    #[default]
    General,
    /// `a(j, i) = a(i, j)`; one triangle is stored.
    Symmetric,
    /// `a(j, i) = -a(i, j)`, zero diagonal; one strict triangle is stored.
    SkewSymmetric,
    /// `a(j, i) = conj(a(i, j))`, real diagonal; one triangle is stored.
    Hermitian,
}

impl Symmetry {
    /// The Matrix Market name (`"skew-symmetric"`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Symmetry::General => "general",
            Symmetry::Symmetric => "symmetric",
            Symmetry::SkewSymmetric => "skew-symmetric",
            Symmetry::Hermitian => "hermitian",
        }
    }
}

/// Assembly data: a list of `(row, col, value)` triplets with the matrix size, stored as
/// three parallel arrays. Every index is checked against the size when it enters.
///
/// Duplicates and explicit zeros are allowed until [`MatrixData::sum_duplicates`] and
/// [`MatrixData::remove_zeros`] remove them.
///
/// # Examples
///
/// ```
/// use csr::{Csr, MatrixData};
///
/// let mut data = MatrixData::<f64, i32>::new(2, 2)?;
/// data.push(1, 0, 2.0)?;
/// data.push(0, 1, 1.0)?;
/// data.push(1, 0, 3.0)?;
/// let a = Csr::from_matrix_data(&data)?;
/// assert_eq!(a.iter().collect::<Vec<_>>(), vec![(0, 1, 1.0), (1, 0, 5.0)]);
/// # Ok::<(), csr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixData<T, I = i32> {
    nrows: usize,
    ncols: usize,
    rows: Vec<I>,
    cols: Vec<I>,
    values: Vec<T>,
}

impl<T: Element, I: Index> MatrixData<T, I> {
    /// An empty list for an `nrows x ncols` matrix.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if a size does not fit `I`.
    pub fn new(nrows: usize, ncols: usize) -> Result<Self> {
        check_shape::<I>(nrows, ncols)?;
        Ok(Self {
            nrows,
            ncols,
            rows: Vec::new(),
            cols: Vec::new(),
            values: Vec::new(),
        })
    }

    /// Takes triplet arrays after checking their lengths and every index.
    ///
    /// # Errors
    /// [`Error::TripletLength`] if the arrays differ in length; [`Error::EntryOutOfBounds`]
    /// naming the first triplet outside the matrix; [`Error::IndexTooNarrow`].
    pub fn try_from_triplets(
        nrows: usize,
        ncols: usize,
        rows: Vec<I>,
        cols: Vec<I>,
        values: Vec<T>,
    ) -> Result<Self> {
        let mut data = Self::new(nrows, ncols)?;
        check_triplets(nrows, ncols, &rows, &cols, values.len())?;
        data.rows = rows;
        data.cols = cols;
        data.values = values;
        Ok(data)
    }

    /// Takes triplet arrays that the caller has checked (the Matrix Market reader checks
    /// every index as it parses it).
    ///
    /// # Safety
    /// The arrays must have equal lengths, `nrows` and `ncols` must fit `I`, and every
    /// `rows[k] < nrows` and `cols[k] < ncols`: conversions to [`Csr`] write unchecked.
    pub(crate) unsafe fn from_triplets_unchecked(
        nrows: usize,
        ncols: usize,
        rows: Vec<I>,
        cols: Vec<I>,
        values: Vec<T>,
    ) -> Self {
        debug_assert!(check_triplets(nrows, ncols, &rows, &cols, values.len()).is_ok());
        Self {
            nrows,
            ncols,
            rows,
            cols,
            values,
        }
    }

    /// Appends one entry.
    ///
    /// # Errors
    /// [`Error::EntryOutOfBounds`] if `(row, col)` lies outside the matrix.
    pub fn push(&mut self, row: usize, col: usize, value: T) -> Result<()> {
        if row >= self.nrows || col >= self.ncols {
            return Err(Error::EntryOutOfBounds {
                entry: self.rows.len(),
                row: i128::try_from(row).unwrap_or(i128::MAX),
                col: i128::try_from(col).unwrap_or(i128::MAX),
                nrows: self.nrows,
                ncols: self.ncols,
            });
        }
        self.rows.push(I::truncate(row));
        self.cols.push(I::truncate(col));
        self.values.push(value);
        Ok(())
    }

    /// Reserves room for `additional` more entries.
    pub fn reserve(&mut self, additional: usize) {
        self.rows.reserve(additional);
        self.cols.reserve(additional);
        self.values.reserve(additional);
    }

    /// Number of rows of the matrix.
    #[must_use]
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Number of columns of the matrix.
    #[must_use]
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of triplets held (duplicates and zeros included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no triplet is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row index of every triplet.
    #[must_use]
    pub fn rows(&self) -> &[I] {
        &self.rows
    }

    /// The column index of every triplet.
    #[must_use]
    pub fn cols(&self) -> &[I] {
        &self.cols
    }

    /// The value of every triplet.
    #[must_use]
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// Every triplet as `(row, col, value)`, in storage order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, T)> + '_ {
        self.rows
            .iter()
            .zip(&self.cols)
            .zip(&self.values)
            .map(|((&r, &c), &v)| (r.to_usize(), c.to_usize(), v))
    }

    /// Takes the data apart: `(nrows, ncols, rows, cols, values)`.
    #[must_use]
    pub fn into_parts(self) -> (usize, usize, Vec<I>, Vec<I>, Vec<T>) {
        (self.nrows, self.ncols, self.rows, self.cols, self.values)
    }

    /// Sorts the triplets by (row, col), stably: duplicates keep their relative order.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if there are more triplets than `I` can count.
    pub fn sort_row_major(&mut self) -> Result<()> {
        let csr = Csr::try_from_coo(
            self.nrows,
            self.ncols,
            &self.rows,
            &self.cols,
            &self.values,
            Duplicates::Keep,
        )?;
        let mut csr = csr;
        csr.sort_by_column_index();
        *self = Self::from_csr(&csr);
        Ok(())
    }

    /// Merges triplets with equal coordinates (summing values, in input order); the result is
    /// sorted row-major. Cancelling sums stay as explicit zeros.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if there are more triplets than `I` can count.
    pub fn sum_duplicates(&mut self) -> Result<()> {
        let csr = Csr::try_from_coo(
            self.nrows,
            self.ncols,
            &self.rows,
            &self.cols,
            &self.values,
            Duplicates::Sum,
        )?;
        *self = Self::from_csr(&csr);
        Ok(())
    }

    /// The triplets of a CSR matrix, row by row in storage order.
    #[must_use]
    pub fn from_csr(a: &Csr<T, I>) -> Self {
        Self {
            nrows: a.nrows(),
            ncols: a.ncols(),
            rows: a.row_indices(),
            cols: a.col_idxs().to_vec(),
            values: a.values().to_vec(),
        }
    }
}

impl<T: Scalar, I: Index> MatrixData<T, I> {
    /// Drops triplets whose value is exactly zero, keeping the order of the rest.
    pub fn remove_zeros(&mut self) {
        let mut w = 0;
        for k in 0..self.values.len() {
            if self.values[k] != T::zero() {
                self.rows[w] = self.rows[k];
                self.cols[w] = self.cols[k];
                self.values[w] = self.values[k];
                w += 1;
            }
        }
        self.rows.truncate(w);
        self.cols.truncate(w);
        self.values.truncate(w);
    }

    /// Expands symmetric, skew-symmetric or hermitian storage to general: every off-diagonal
    /// triplet `(i, j, v)` gains its mirror `(j, i, v)`, `(j, i, -v)` or `(j, i, conj(v))`.
    /// Mirrors are appended after the stored triplets. `General` changes nothing.
    ///
    /// Both triangles may be stored; each stored off-diagonal entry gets its own mirror.
    ///
    /// # Errors
    /// [`Error::NotSquare`] for a non-square matrix; [`Error::InvalidDiagonal`] for a nonzero
    /// diagonal entry in skew-symmetric storage or a non-real one in hermitian storage. On
    /// error the data is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{MatrixData, Symmetry};
    ///
    /// let mut data = MatrixData::<f64, i32>::try_from_triplets(2, 2, vec![0, 1], vec![0, 0], vec![4.0, 1.0])?;
    /// data.expand_symmetry(Symmetry::Symmetric)?;
    /// assert_eq!(data.iter().collect::<Vec<_>>(), vec![(0, 0, 4.0), (1, 0, 1.0), (0, 1, 1.0)]);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn expand_symmetry(&mut self, symmetry: Symmetry) -> Result<()> {
        if symmetry == Symmetry::General {
            return Ok(());
        }
        if self.nrows != self.ncols {
            return Err(Error::NotSquare {
                op: "symmetric expansion",
                nrows: self.nrows,
                ncols: self.ncols,
            });
        }
        let mirror = |v: T| match symmetry {
            Symmetry::General | Symmetry::Symmetric => v,
            Symmetry::SkewSymmetric => -v,
            Symmetry::Hermitian => v.conj(),
        };
        let n = self.len();
        // Check every diagonal entry first, so an error leaves the data unchanged.
        let invalid_diagonal = |k: usize| {
            let v = self.values[k];
            self.rows[k] == self.cols[k]
                && match symmetry {
                    Symmetry::SkewSymmetric => v != T::zero(),
                    Symmetry::Hermitian => v.im() != <T::Real as num_traits::Zero>::zero(),
                    Symmetry::General | Symmetry::Symmetric => false,
                }
        };
        if let Some(k) = (0..n).find(|&k| invalid_diagonal(k)) {
            return Err(Error::InvalidDiagonal {
                entry: k,
                row: self.rows[k].to_usize(),
                symmetry: symmetry.name(),
            });
        }
        let off_diagonal = (0..n).filter(|&k| self.rows[k] != self.cols[k]).count();
        self.reserve(off_diagonal);
        for k in 0..n {
            let (r, c, v) = (self.rows[k], self.cols[k], self.values[k]);
            if r != c {
                self.rows.push(c);
                self.cols.push(r);
                self.values.push(mirror(v));
            }
        }
        Ok(())
    }
}

/// Checks triplet array lengths and that every index lies inside `nrows x ncols`.
fn check_triplets<I: Index>(
    nrows: usize,
    ncols: usize,
    rows: &[I],
    cols: &[I],
    nvalues: usize,
) -> Result<()> {
    if rows.len() != cols.len() || rows.len() != nvalues {
        return Err(Error::TripletLength {
            rows: rows.len(),
            cols: cols.len(),
            values: nvalues,
        });
    }
    // The first entry outside: the earlier of the first bad row and the first bad column.
    let bad = match (first_outside(rows, nrows), first_outside(cols, ncols)) {
        (Some(r), Some(c)) => Some(r.min(c)),
        (r, c) => r.or(c),
    };
    match bad {
        Some(entry) => Err(Error::EntryOutOfBounds {
            entry,
            row: rows[entry].to_i128(),
            col: cols[entry].to_i128(),
            nrows,
            ncols,
        }),
        None => Ok(()),
    }
}

impl<T: Element, I: Index> Csr<T, I> {
    /// Assembles a matrix from COO arrays (`rows[k]`, `cols[k]`, `values[k]`).
    ///
    /// A stable counting sort by row, O(nnz + nrows), parallel on rayon when large. With
    /// [`Duplicates::Sum`] (scipy's behaviour) rows come out sorted and duplicates summed
    /// in input order; with [`Duplicates::Keep`] (LensKit's) every entry is kept and rows
    /// list their entries in input order.
    ///
    /// # Errors
    /// [`Error::TripletLength`], [`Error::EntryOutOfBounds`] naming the first bad triplet,
    /// [`Error::IndexTooNarrow`] if a size or the entry count does not fit `I`;
    /// [`Error::SizeOverflow`] or [`Error::OutOfMemory`] if the `nrows + 1` row pointers
    /// cannot be allocated (the sort's own memory follows the entries).
    ///
    /// # Examples
    ///
    /// ```
    /// use csr::{Csr, Duplicates};
    ///
    /// let (rows, cols, vals) = ([1_i32, 0, 1], [0_i32, 1, 0], [2.0_f64, 1.0, 3.0]);
    /// let a = Csr::try_from_coo(2, 2, &rows, &cols, &vals, Duplicates::Sum)?;
    /// assert_eq!(a.iter().collect::<Vec<_>>(), vec![(0, 1, 1.0), (1, 0, 5.0)]);
    /// let b = Csr::try_from_coo(2, 2, &rows, &cols, &vals, Duplicates::Keep)?;
    /// assert_eq!(b.nnz(), 3);
    /// # Ok::<(), csr::Error>(())
    /// ```
    pub fn try_from_coo(
        nrows: usize,
        ncols: usize,
        rows: &[I],
        cols: &[I],
        values: &[T],
        duplicates: Duplicates,
    ) -> Result<Self> {
        check_shape::<I>(nrows, ncols)?;
        check_triplets(nrows, ncols, rows, cols, values.len())?;
        check_fits::<I>(Extent::Nnz, rows.len())?;
        let mut a = bucket_by_row(nrows, ncols, rows, cols, values)?;
        if duplicates == Duplicates::Sum {
            a.sum_duplicates();
        }
        Ok(a)
    }

    /// Assembles a matrix from [`MatrixData`], summing duplicates (rows come out sorted).
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if the entry count does not fit `I`.
    pub fn from_matrix_data(data: &MatrixData<T, I>) -> Result<Self> {
        Self::from_matrix_data_with(data, Duplicates::Sum)
    }

    /// Assembles a matrix from [`MatrixData`] with the given duplicate handling.
    ///
    /// # Errors
    /// [`Error::IndexTooNarrow`] if the entry count does not fit `I`.
    pub fn from_matrix_data_with(data: &MatrixData<T, I>, duplicates: Duplicates) -> Result<Self> {
        check_fits::<I>(Extent::Nnz, data.len())?;
        let mut a = bucket_by_row(data.nrows, data.ncols, &data.rows, &data.cols, &data.values)?;
        if duplicates == Duplicates::Sum {
            a.sum_duplicates();
        }
        Ok(a)
    }

    /// The row index of every stored entry (the COO row array), in storage order.
    #[must_use]
    pub fn row_indices(&self) -> Vec<I> {
        let mut rows = Vec::with_capacity(self.nnz());
        for (r, len) in self.row_lengths().enumerate() {
            rows.extend(std::iter::repeat_n(I::truncate(r), len));
        }
        rows
    }

    /// The matrix as assembly triplets, row by row in storage order.
    #[must_use]
    pub fn to_matrix_data(&self) -> MatrixData<T, I> {
        MatrixData::from_csr(self)
    }
}

/// Stable counting sort of validated triplets by row.
///
/// # Errors
/// [`Error::OutOfMemory`] if the `nrows + 1` row pointers cannot be allocated.
fn bucket_by_row<T: Element, I: Index>(
    nrows: usize,
    ncols: usize,
    rows: &[I],
    cols: &[I],
    values: &[T],
) -> Result<Csr<T, I>> {
    let entries = Triplets {
        keys: rows,
        other: cols,
        values,
        ncols,
    };
    let grouped = match group_sorted_keys(nrows, &entries)? {
        Some(grouped) => grouped,
        None => group_by_key(nrows, &entries)?,
    };
    // SAFETY: every triplet was checked to lie inside nrows x ncols, the sizes and nnz fit
    // `I`, and the counting sort places all nnz entries under non-decreasing row pointers.
    Ok(unsafe {
        Csr::from_parts_unchecked(nrows, ncols, grouped.ptrs, grouped.other, grouped.values)
    })
}
