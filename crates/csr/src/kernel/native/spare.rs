//! Where SpGEMM workspaces wait between products.
//!
//! A thread's workspace holds markers and sums over `B`'s columns and the one-phase output
//! buffers; fresh ones cost page faults on every call (a product of a 200k-column matrix
//! from a handle made for the call spends a quarter of its time faulting them in). They
//! wait in two places:
//!
//! - **`B`'s handle** ([`KeptWorkspaces`]): a handle multiplied by again and again keeps
//!   them, whatever their size, for as long as it lives;
//! - **the process's spare set** ([`take`], [`keep`]): what a product could not leave in a
//!   handle (another call's workspaces were already there, or `B` was not a native handle),
//!   and what a handle still held when it was dropped (a handle made for one product, as
//!   `CSR.multiply` in Python makes). One set (the last product's), of one value and index
//!   type, and at most [`SPARE_MAX_BYTES`]: past that the output buffers are cut to what the
//!   last product wrote in them, then dropped, then the set.

use std::any::Any;
use std::sync::Mutex;

use super::spgemm::Workspace;
use crate::{Index, Scalar};

/// The most memory the spare set keeps after the products that used it (markers, sums and
/// output buffers of every thread). Large enough for a product over 2.5M columns on two
/// threads (markers and `f64` sums: 12 bytes per column) or a one-phase product's buffers
/// (bounded by the same 64 MB); a larger set is freed when its product ends.
pub(super) const SPARE_MAX_BYTES: usize = 64 << 20;

/// The process's spare set.
static SPARE: Spare = Spare::new();

/// The spare workspaces if they are of `T`, `I` (empty otherwise, and the set stays).
pub(super) fn take<T: Scalar, I: Index>() -> Vec<Workspace<T, I>> {
    SPARE.take()
}

/// Makes `set`, trimmed to [`SPARE_MAX_BYTES`], the spare set in place of any other (the
/// last product's workspaces are the likeliest to serve the next).
pub(super) fn keep<T: Scalar, I: Index>(set: Vec<Workspace<T, I>>) {
    SPARE.keep(set, SPARE_MAX_BYTES);
}

/// A place for one set of workspaces (a `Vec<Workspace<T, I>>` of some `T`, `I`).
struct Spare(Mutex<Option<Box<dyn Any + Send>>>);

impl Spare {
    const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// [`take`] from this place.
    fn take<T: Scalar, I: Index>(&self) -> Vec<Workspace<T, I>> {
        let mut spare = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if spare
            .as_ref()
            .is_some_and(|s| s.is::<Vec<Workspace<T, I>>>())
            && let Some(set) = spare.take()
            && let Ok(set) = set.downcast::<Vec<Workspace<T, I>>>()
        {
            return *set;
        }
        Vec::new()
    }

    /// [`keep`] in this place, within `max_bytes`. Memory is freed outside the lock.
    fn keep<T: Scalar, I: Index>(&self, mut set: Vec<Workspace<T, I>>, max_bytes: usize) {
        let bytes = |set: &[Workspace<T, I>]| set.iter().map(Workspace::bytes).sum::<usize>();
        if bytes(&set) > max_bytes {
            set.iter_mut().for_each(Workspace::shrink_output);
        }
        if bytes(&set) > max_bytes {
            set.iter_mut().for_each(Workspace::drop_output);
        }
        if set.is_empty() || bytes(&set) > max_bytes {
            return;
        }
        let replaced = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(Box::new(set));
        drop(replaced);
    }
}

/// The workspaces a native handle keeps for products with it on the right; when the handle
/// is dropped (or its matrix changes), they become the spare set ([`keep`]).
#[derive(Debug)]
pub(crate) struct KeptWorkspaces<T, I> {
    pub(super) kept: Mutex<Vec<Workspace<T, I>>>,
    /// [`keep`] for `T`, `I` (a function pointer: `Drop` cannot ask for `Scalar` bounds
    /// that the type itself does not have).
    retire: fn(Vec<Workspace<T, I>>),
}

impl<T: Scalar, I: Index> KeptWorkspaces<T, I> {
    /// None kept yet.
    pub(crate) fn new() -> Self {
        Self {
            kept: Mutex::new(Vec::new()),
            retire: keep::<T, I>,
        }
    }
}

impl<T, I> Drop for KeptWorkspaces<T, I> {
    fn drop(&mut self) {
        let set = std::mem::take(self.kept.get_mut().unwrap_or_else(|p| p.into_inner()));
        if !set.is_empty() {
            (self.retire)(set);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set of two workspaces over `ncols` columns, with one-phase buffers of `out`
    /// entries.
    fn set(ncols: usize, out: usize) -> Vec<Workspace<f64, i32>> {
        (0..2)
            .map(|_| {
                let mut ws = Workspace::new();
                ws.ensure(ncols, true).unwrap();
                ws.out_cols.reserve(out);
                ws.out_vals.reserve(out);
                ws
            })
            .collect()
    }

    #[test]
    fn a_kept_set_serves_its_own_types_once() {
        let spare = Spare::new();
        spare.keep(set(1000, 0), 1 << 20);
        assert!(spare.take::<f32, i32>().is_empty());
        assert!(spare.take::<f64, i64>().is_empty());
        let got = spare.take::<f64, i32>();
        assert_eq!(got.len(), 2);
        assert!(
            got.iter()
                .all(|ws| ws.marks.len() == 1000 && ws.acc.len() == 1000)
        );
        assert!(spare.take::<f64, i32>().is_empty());
    }

    #[test]
    fn a_set_over_the_limit_loses_its_output_buffers_then_itself() {
        let spare = Spare::new();
        // Accumulators: 2 × 1000 × 12 bytes; buffers: 2 × 100k × 12 bytes.
        spare.keep(set(1000, 100_000), 100_000);
        let got = spare.take::<f64, i32>();
        assert_eq!(got.len(), 2);
        assert!(
            got.iter()
                .all(|ws| ws.out_cols.capacity() == 0 && ws.marks.len() == 1000)
        );
        spare.keep(set(10_000, 0), 100_000);
        assert!(spare.take::<f64, i32>().is_empty());
    }

    /// Buffers that hold less than their capacity (a one-phase product's reserve) are cut
    /// to what they hold before anything is dropped: the written pages stay warm.
    #[test]
    fn a_set_over_the_limit_keeps_what_its_buffers_hold() {
        let spare = Spare::new();
        let mut kept = set(1000, 100_000);
        for ws in &mut kept {
            ws.out_cols.resize(30_000, 7);
            ws.out_vals.resize(30_000, 0.5);
        }
        // Accumulators 24 000 bytes, written buffers 720 000, reserved 2 400 000.
        spare.keep(kept, 1_000_000);
        let got = spare.take::<f64, i32>();
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|ws| ws.out_cols.capacity() == 30_000
            && ws.out_vals.capacity() == 30_000
            && ws.out_vals[29_999] == 0.5));
    }

    #[test]
    fn the_last_set_kept_replaces_the_one_before() {
        let spare = Spare::new();
        spare.keep(set(1000, 0), 1 << 20);
        let mut other: Vec<Workspace<f32, i64>> = vec![Workspace::new()];
        other[0].ensure(10, true).unwrap();
        spare.keep(other, 1 << 20);
        assert!(spare.take::<f64, i32>().is_empty());
        assert_eq!(spare.take::<f32, i64>().len(), 1);
    }
}
