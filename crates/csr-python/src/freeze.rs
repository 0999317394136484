//! Read-only arrays while a handle reads them.
//!
//! A handle checks its arrays once and then lets the kernels index them without bounds
//! checks, for as long as it lives. Python could still write a bad column index into them
//! afterwards, from any thread. So a handle takes the `WRITEABLE` flag away from every
//! array it borrows, and from each numpy array under it (its `.base` chain), before it
//! checks them, and gives the flag back when it is released. While the flag is off, numpy
//! refuses writes through these arrays and through every view made of them later, and
//! refuses to make such a view writeable. Freezes nest: an array borrowed by two handles
//! becomes writeable again when the last one is released (and only if it was writeable
//! before the first).
//!
//! One-shot functions (transpose, sorting, assembly, writing files) freeze the arrays they
//! read in the same way for the duration of the call, since they too run without the GIL.
//! Memory owned by something other than a numpy array (a `bytearray`, an `mmap`) can be
//! written without numpy: the index arrays are then copied first. The Rust vectors under
//! this module's own results are the exception: only numpy arrays reach them.
//!
//! Before each call, a handle checks that its arrays are still read-only and still hold the
//! same buffer: turning the flag back on by hand, or `ndarray.resize(refcheck=False)`,
//! makes the next call raise `ValueError` instead of reading bad indices.
//!
//! **The contract** (documented in the Python package): while a handle lives, its arrays
//! are not written. numpy cannot stop a writeable view that existed *before* the handle was
//! made, nor code that turns `flags.writeable` back on while a call runs; such writes break
//! the contract as writing through `ctypes` would.

use std::sync::Mutex;

use numpy::npyffi::{NPY_ARRAY_WRITEABLE, objects::_PyArray_GET_ITEM_DATA};
use numpy::{PyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// How many live handles freeze each array, and whether the first freeze turned its flag
/// off. Keyed by object address; each entry holds a reference, so the address stays taken.
struct Entry {
    array: Py<PyUntypedArray>,
    count: usize,
    flipped: bool,
}

static FROZEN: Mutex<Vec<(usize, Entry)>> = Mutex::new(Vec::new());

/// The numpy arrays a handle froze: each borrowed array with its data pointer, and the
/// chain of arrays under it.
#[derive(Default)]
pub(crate) struct Frozen {
    /// (array, data pointer when frozen) for each array the handle reads.
    read: Vec<(Py<PyUntypedArray>, usize)>,
    /// Every array frozen (the read arrays and their bases), in freezing order.
    chain: Vec<Py<PyUntypedArray>>,
}

/// The `flags` and `data` fields of a numpy array.
fn fields(a: &Bound<'_, PyUntypedArray>) -> (i32, usize) {
    // SAFETY: `a` is a live numpy array and the GIL is held, so its object header may be
    // read; numpy's own accessors (`PyArray_FLAGS`, `PyArray_DATA`) read the same fields.
    unsafe {
        let f = _PyArray_GET_ITEM_DATA(a.as_array_ptr());
        ((*f).flags, (*f).data as usize)
    }
}

/// Turns `a`'s `WRITEABLE` flag on or off, as numpy's `PyArray_ENABLEFLAGS` and
/// `PyArray_CLEARFLAGS` do. Only arrays this module turned off are turned back on, bases
/// first, so no array becomes writeable over a read-only base.
fn set_writeable(a: &Bound<'_, PyUntypedArray>, on: bool) {
    // SAFETY: `a` is a live numpy array and the GIL is held: nothing else reads or writes
    // its flags meanwhile.
    unsafe {
        let f = _PyArray_GET_ITEM_DATA(a.as_array_ptr());
        if on {
            (*f).flags |= NPY_ARRAY_WRITEABLE;
        } else {
            (*f).flags &= !NPY_ARRAY_WRITEABLE;
        }
    }
}

/// The type of the object that owns the memory of the arrays this module returns (Rust
/// vectors handed to numpy by rust-numpy's `PyArray::from_vec`), found once from a probe.
static OWN_VECTOR_TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Whether `owner` (the non-array base of an array) is a Rust vector this module handed to
/// numpy. Its memory is reachable from Python only through numpy arrays made over it (the
/// owner is a frozen class with no buffer protocol), so freezing those arrays protects it
/// as it protects numpy's own memory: no copy is needed. Results of one call passed to the
/// next (a transpose multiplied, a matrix read from a file) are such arrays.
fn is_own_vector(owner: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = owner.py();
    let ty = OWN_VECTOR_TYPE.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        let probe = PyArray1::<u8>::from_vec(py, vec![0]);
        Ok(probe.getattr("base")?.get_type().unbind())
    })?;
    Ok(owner.get_type().is(ty.bind(py)))
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(usize, Entry)>> {
    FROZEN.lock().unwrap_or_else(|e| e.into_inner())
}

impl Frozen {
    /// Freezes `array` (a numpy array the handle will read) and the arrays under it.
    ///
    /// Returns whether its memory belongs to something other than a numpy array or a
    /// vector of this module ([`is_own_vector`]): a `bytearray`, an `mmap`, another
    /// library's buffer. Such memory can be written without numpy, whatever its flags say,
    /// so callers copy what they index by.
    pub(crate) fn add(&mut self, array: &Bound<'_, PyAny>) -> PyResult<bool> {
        let array = array.cast::<PyUntypedArray>()?;
        self.read.push((array.clone().unbind(), fields(array).1));
        let mut a = array.clone();
        loop {
            self.freeze_one(&a)?;
            let base = a.getattr("base")?;
            if base.is_none() {
                return Ok(false);
            }
            match base.cast_into::<PyUntypedArray>() {
                Ok(b) => a = b,
                Err(e) => return Ok(!is_own_vector(&e.into_inner())?),
            }
        }
    }

    /// Freezes a matrix's arrays (`values` may be `None`) for as long as the result lives;
    /// the flag says whether the row pointers or column indices have a foreign owner
    /// (see [`Frozen::add`]).
    pub(crate) fn matrix(
        rowptrs: &Bound<'_, PyAny>,
        colinds: &Bound<'_, PyAny>,
        values: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Self, bool)> {
        let mut frozen = Frozen::default();
        let foreign = frozen.add(rowptrs)? | frozen.add(colinds)?;
        if let Some(v) = values.filter(|v| !v.is_none()) {
            frozen.add(v)?;
        }
        Ok((frozen, foreign))
    }

    fn freeze_one(&mut self, a: &Bound<'_, PyUntypedArray>) -> PyResult<()> {
        let key = a.as_ptr() as usize;
        let mut table = lock();
        if let Some((_, e)) = table.iter_mut().find(|(k, _)| *k == key) {
            e.count += 1;
        } else {
            let writeable = fields(a).0 & NPY_ARRAY_WRITEABLE != 0;
            if writeable {
                set_writeable(a, false);
            }
            table.push((
                key,
                Entry {
                    array: a.clone().unbind(),
                    count: 1,
                    flipped: writeable,
                },
            ));
        }
        self.chain.push(a.clone().unbind());
        Ok(())
    }

    /// `ValueError` unless every array is still read-only over the same buffer.
    pub(crate) fn check(&self, py: Python<'_>) -> PyResult<()> {
        for (a, data) in &self.read {
            let (flags, now) = fields(a.bind(py));
            if flags & NPY_ARRAY_WRITEABLE != 0 || now != *data {
                return Err(PyValueError::new_err(
                    "an array of this handle was made writeable or resized while the handle \
                     held it; release the handle before changing the matrix",
                ));
            }
        }
        Ok(())
    }

    /// Gives the arrays their flags back (bases first, so that views may become writeable).
    pub(crate) fn thaw(&mut self, py: Python<'_>) {
        self.read.clear();
        let mut table = lock();
        for a in self.chain.drain(..).rev() {
            let key = a.as_ptr() as usize;
            let Some(i) = table.iter().position(|(k, _)| *k == key) else {
                continue;
            };
            table[i].1.count -= 1;
            if table[i].1.count == 0 {
                let (_, e) = table.swap_remove(i);
                if e.flipped {
                    set_writeable(e.array.bind(py), true);
                }
            }
        }
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        if !self.chain.is_empty() {
            Python::attach(|py| self.thaw(py));
        }
    }
}
