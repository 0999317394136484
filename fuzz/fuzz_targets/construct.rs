//! Fuzz target: arbitrary arrays into the checked constructors (`Csr::try_from_parts`,
//! `CsrRef::try_from_parts`, `Coo::try_from_parts`, `Csr::try_from_coo`,
//! `MatrixData::try_from_triplets`), including dimensions at the index limit. They must
//! return a value or an error, never panic or abort; what they accept must survive every
//! cheap operation, each checked against the triplets it was built from.
//!
//! Run: `cargo fuzz run -s none construct -- -max_total_time=60 -dict=construct.dict`.

#![no_main]

use csr::{Coo, Csr, CsrRef, Duplicates, Ell, Hybrid, Index, MatrixData, Sellp};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// Shapes at which dimension-sized work is still cheap: beyond, only operations whose
/// memory follows nnz run.
const CHEAP_DIM: usize = 1 << 12;

/// A dimension: mostly small, sometimes at an index limit.
fn dim(u: &mut Unstructured<'_>) -> Result<usize> {
    const EDGES: [usize; 8] = [
        usize::MAX,
        usize::MAX - 1,
        i32::MAX as usize,
        i32::MAX as usize + 1,
        u32::MAX as usize,
        i64::MAX as usize,
        1 << 40,
        CHEAP_DIM + 1,
    ];
    let tag: u8 = u.arbitrary()?;
    Ok(if tag >= 240 {
        EDGES[usize::from(tag) % EDGES.len()]
    } else {
        usize::from(tag % 9)
    })
}

/// Whether building `nrows + 1` row pointers of `I` is cheap: few of them, or so many that
/// their size overflows the address space (an immediate error).
fn rows_cheap<I>(nrows: usize) -> bool {
    let bytes = nrows
        .checked_add(1)
        .and_then(|n| n.checked_mul(std::mem::size_of::<I>()));
    nrows <= CHEAP_DIM || bytes.is_none_or(|b| b > isize::MAX as usize)
}

/// An index type whose values can be any bit pattern (negative, huge).
trait Raw: Index {
    fn from_bits(bits: u64) -> Self;
}

impl Raw for i32 {
    fn from_bits(bits: u64) -> Self {
        bits as i32
    }
}

impl Raw for i64 {
    fn from_bits(bits: u64) -> Self {
        bits as i64
    }
}

impl Raw for usize {
    fn from_bits(bits: u64) -> Self {
        bits as usize
    }
}

/// An index value: mostly at most `bound` (so sometimes one past a valid index), sometimes
/// any bit pattern.
fn index<I: Raw>(u: &mut Unstructured<'_>, bound: usize) -> Result<I> {
    let tag: u8 = u.arbitrary()?;
    Ok(if tag >= 248 {
        I::from_bits(u.arbitrary()?)
    } else {
        I::from_bits((usize::from(tag) % bound.saturating_add(1).max(1)) as u64)
    })
}

fn indices<I: Raw>(u: &mut Unstructured<'_>, len: usize, bound: usize) -> Result<Vec<I>> {
    (0..len).map(|_| index(u, bound)).collect()
}

/// Small integer values: sums are exact, so results compare with `==`.
fn values(u: &mut Unstructured<'_>, len: usize) -> Result<Vec<f64>> {
    (0..len)
        .map(|_| Ok(f64::from(u.arbitrary::<i8>()?)))
        .collect()
}

/// The entries sorted by (row, column, value): the order-free content of a matrix.
fn content(it: impl Iterator<Item = (usize, usize, f64)>) -> Vec<(usize, usize, i64)> {
    let mut v: Vec<_> = it.map(|(r, c, x)| (r, c, x as i64)).collect();
    v.sort_unstable();
    v
}

/// Every cheap operation on an accepted matrix, each checked.
fn exercise<I: Index>(a: &Csr<f64, I>) {
    let (nrows, ncols) = a.shape();
    let entries = content(a.iter());
    assert_eq!(entries.len(), a.nnz());
    assert_eq!(a.row_lengths().sum::<usize>(), a.nnz());
    let view = CsrRef::try_from_parts(nrows, ncols, a.row_ptrs(), a.col_idxs(), a.values())
        .expect("a valid matrix's parts make a valid view");
    assert_eq!(view.to_csr(), *a);

    // Through triplets and COO, entry order kept.
    let data = a.to_matrix_data();
    let back = Csr::from_matrix_data_with(&data, Duplicates::Keep);
    let coo = Coo::from_csr(a.view());
    assert_eq!(coo.to_csr(), *a);
    let mut sorted = a.clone();
    sorted.sort_by_column_index();
    assert!(sorted.is_sorted_by_column_index());
    assert_eq!(content(sorted.iter()), entries);
    let mut summed = sorted.clone();
    summed.sum_duplicates();
    assert!(!summed.has_duplicates());
    assert_eq!(back.expect("small row count"), *a);
    if ncols <= CHEAP_DIM {
        let t = a.try_transpose().expect("small transpose");
        assert_eq!(t.shape(), (ncols, nrows));
        let tt = t.transpose();
        // Transposing twice sorts each row stably: the sorted matrix, entry for entry.
        assert_eq!(tt, sorted);
    }
    if nrows <= CHEAP_DIM && ncols <= CHEAP_DIM {
        let ell = Ell::from_csr(a.view()).expect("small ELL");
        assert_eq!(ell.to_csr().expect("back from ELL"), *a);
        let sellp = Sellp::from_csr(a.view()).expect("small SELL-P");
        assert_eq!(sellp.to_csr().expect("back from SELL-P"), *a);
        let hybrid = Hybrid::from_csr(a.view()).expect("small hybrid");
        assert_eq!(
            content(hybrid.to_csr().expect("back from hybrid").iter()),
            entries
        );
        let dense = a.to_dense().expect("small dense");
        let mut sums = std::collections::BTreeMap::new();
        for &(r, c, x) in &entries {
            *sums.entry((r, c)).or_insert(0.0) += x as f64;
        }
        for r in 0..nrows {
            for c in 0..ncols {
                assert_eq!(dense.row(r)[c], sums.get(&(r, c)).copied().unwrap_or(0.0));
            }
        }
        let again = Csr::<f64, I>::from_dense(&dense).expect("small from_dense");
        assert_eq!(
            content(again.iter()),
            content(summed.iter().filter(|e| e.2 != 0.0))
        );
    }
}

fn run<I: Raw>(u: &mut Unstructured<'_>) -> Result<()> {
    let (nrows, ncols) = (dim(u)?, dim(u)?);
    let nnz = usize::from(u.arbitrary::<u8>()? % 64);
    match u.arbitrary::<u8>()? % 3 {
        0 => {
            // CSR parts: row pointers near a valid prefix sum, sometimes off.
            let ptr_len = if u.arbitrary::<u8>()? < 240 {
                nrows.saturating_add(1).min(CHEAP_DIM + 2)
            } else {
                usize::from(u.arbitrary::<u8>()? % 10)
            };
            let mut ptrs: Vec<I> = Vec::with_capacity(ptr_len);
            let mut at = 0usize;
            for k in 0..ptr_len {
                if k > 0 && k + 1 < ptr_len {
                    at = (at + usize::from(u.arbitrary::<u8>()? % 4)).min(nnz);
                }
                let p = if k + 1 == ptr_len { nnz } else { at };
                ptrs.push(if u.arbitrary::<u8>()? >= 250 {
                    index(u, nnz)?
                } else {
                    I::from_bits(p as u64)
                });
            }
            let cols = indices::<I>(u, nnz, ncols.min(CHEAP_DIM))?;
            let extra = usize::from(u.arbitrary::<u8>()? >= 250);
            let vals = values(u, nnz + extra)?;
            let by_ref =
                CsrRef::try_from_parts(nrows, ncols, &ptrs, &cols, &vals).map(|v| v.to_csr());
            let owned = Csr::try_from_parts(nrows, ncols, ptrs, cols, vals);
            assert_eq!(by_ref, owned);
            if let Ok(a) = owned {
                exercise(&a);
            }
        }
        1 => {
            // COO parts: rows must be non-decreasing.
            let mut rows = indices::<I>(u, nnz, nrows.min(CHEAP_DIM))?;
            if u.arbitrary::<bool>()? {
                rows.sort_unstable_by_key(|r| r.to_i128());
            }
            let cols = indices::<I>(u, nnz, ncols.min(CHEAP_DIM))?;
            let vals = values(u, nnz)?;
            let coo = Coo::try_from_parts(nrows, ncols, rows.clone(), cols.clone(), vals.clone());
            if let Ok(coo) = coo
                && nrows <= CHEAP_DIM
            {
                let a = coo.to_csr();
                let keep = Csr::try_from_coo(nrows, ncols, &rows, &cols, &vals, Duplicates::Keep);
                assert_eq!(Ok(&a), keep.as_ref());
                exercise(&a);
            }
        }
        _ => {
            // Triplets in any order.
            let rows = indices::<I>(u, nnz, nrows.min(CHEAP_DIM))?;
            let cols = indices::<I>(u, nnz, ncols.min(CHEAP_DIM))?;
            let vals = values(u, nnz)?;
            let data = MatrixData::try_from_triplets(
                nrows,
                ncols,
                rows.clone(),
                cols.clone(),
                vals.clone(),
            );
            if !rows_cheap::<I>(nrows) {
                return Ok(());
            }
            for dup in [Duplicates::Keep, Duplicates::Sum] {
                let a = Csr::try_from_coo(nrows, ncols, &rows, &cols, &vals, dup);
                if let Ok(d) = &data {
                    assert_eq!(a, Csr::from_matrix_data_with(d, dup));
                }
                if let Ok(a) = a {
                    if dup == Duplicates::Keep {
                        let mut got = content(a.iter());
                        let mut want: Vec<_> = rows
                            .iter()
                            .zip(&cols)
                            .zip(&vals)
                            .map(|((r, c), v)| (r.to_usize(), c.to_usize(), *v as i64))
                            .collect();
                        want.sort_unstable();
                        got.sort_unstable();
                        assert_eq!(got, want);
                    }
                    exercise(&a);
                }
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = match u.arbitrary::<u8>().unwrap_or(0) % 3 {
        0 => run::<i32>(&mut u),
        1 => run::<i64>(&mut u),
        _ => run::<usize>(&mut u),
    };
});
