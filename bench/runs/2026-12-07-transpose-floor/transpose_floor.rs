//! The transpose of a Matrix Market file (path as the first argument) against what any
//! transpose must do at least, 2 threads: `csr::Csr::try_transpose_parts` (as Python's
//! `CSR.transpose` calls it), a replica of its one-level counting sort timed phase by phase
//! (count, prefix, scatter into fresh output, the same scatter into the now-warm output),
//! and the floor: one parallel read of the column indices (the count's input) plus a
//! parallel copy of the row pointers, columns and values into fresh, huge-page-advised
//! memory (the output's size, written once). Built as a scratch crate with `csr` (path),
//! `rayon`, `bytemuck` (`extern_crate_alloc`) and `libc`.
use rayon::prelude::*;
use std::time::Instant;

fn fresh<X: bytemuck::Zeroable>(n: usize) -> Vec<X> {
    let v: Vec<X> = bytemuck::zeroed_vec(n);
    let (h, s) = (2usize << 20, v.as_ptr() as usize);
    let (lo, hi) = (s.next_multiple_of(h), (s + n * size_of::<X>()) / h * h);
    if hi > lo {
        // SAFETY: [lo, hi) lies inside v's allocation; the advice never changes contents.
        unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE) };
    }
    v
}

fn copy_fresh<X: Copy + Send + Sync + bytemuck::Zeroable>(src: &[X]) -> Vec<X> {
    let mut out: Vec<X> = fresh(src.len());
    let piece = src.len().div_ceil(2);
    out.par_chunks_mut(piece)
        .zip(src.par_chunks(piece))
        .for_each(|(d, s)| d.copy_from_slice(s));
    out
}

struct Out<T>(*mut T);
// SAFETY: each thread writes its own disjoint slots (the counting sort's plan).
unsafe impl<T> Sync for Out<T> {}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn scatter(
    (ptr, cols, vals): (&[i32], &[i32], &[f64]),
    chunks: &[std::ops::Range<usize>],
    cursors: &mut [Vec<i32>],
    (oc, ov): (&Out<i32>, &Out<f64>),
) {
    chunks.par_iter().zip(cursors.par_iter_mut()).for_each(|(rows, cur)| {
        for row in rows.clone() {
            for e in ptr[row] as usize..ptr[row + 1] as usize {
                let k = cols[e] as usize;
                let at = cur[k] as usize;
                cur[k] += 1;
                // SAFETY: `at` is this chunk's next slot for key k, inside the output.
                unsafe {
                    *oc.0.add(at) = row as i32;
                    *ov.0.add(at) = vals[e];
                }
            }
        }
    });
}

fn main() {
    let path = std::env::args().nth(1).expect("a Matrix Market file");
    let a = csr::io::mm::read_csr::<f64, i32>(&path).expect("read");
    let (ptr, cols, vals) = (a.row_ptrs(), a.col_idxs(), a.values());
    let (n, nk, nnz) = (a.nrows(), a.ncols(), a.nnz());
    let mid = ptr.partition_point(|&p| (p as usize) < nnz / 2);
    let chunks = [0..mid, mid..n];
    println!("{path}: {n} x {nk}, {nnz} entries");
    for round in 0..6 {
        let t = Instant::now();
        let lib = csr::Csr::try_transpose_parts(n, nk, ptr, cols, vals).expect("valid");
        let t_lib = ms(t);
        let t = Instant::now();
        let mut counts: Vec<Vec<i32>> = chunks
            .par_iter()
            .map(|r| {
                let mut c: Vec<i32> = fresh(nk);
                for &k in &cols[ptr[r.start] as usize..ptr[r.end] as usize] {
                    c[k as usize] += 1;
                }
                c
            })
            .collect();
        let t_count = ms(t);
        let t = Instant::now();
        let mut optr: Vec<i32> = fresh(nk + 1);
        let mut offset = 0i32;
        for b in 0..nk {
            optr[b] = offset;
            for c in counts.iter_mut() {
                let x = c[b];
                c[b] = offset;
                offset += x;
            }
        }
        optr[nk] = offset;
        let t_prefix = ms(t);
        let first = counts.clone();
        let t = Instant::now();
        let (mut oc, mut ov): (Vec<i32>, Vec<f64>) = (fresh(nnz), fresh(nnz));
        let outs = (&Out(oc.as_mut_ptr()), &Out(ov.as_mut_ptr()));
        scatter((ptr, cols, vals), &chunks, &mut counts, outs);
        let t_scatter = ms(t);
        let mut counts = first;
        let t = Instant::now();
        scatter((ptr, cols, vals), &chunks, &mut counts, outs);
        let t_warm = ms(t);
        assert!(lib.row_ptrs() == optr && lib.col_idxs() == oc && lib.values() == ov);
        drop((lib, oc, ov, optr, counts));
        let t = Instant::now();
        let s: i64 = cols
            .par_chunks(1 << 16)
            .map(|c| c.iter().map(|&x| i64::from(x)).sum::<i64>())
            .sum();
        let t_read = ms(t);
        let t = Instant::now();
        let copies = (copy_fresh(ptr), copy_fresh(cols), copy_fresh(vals));
        let t_copy = ms(t);
        drop(copies);
        std::hint::black_box(s);
        println!(
            "round {round}: transpose {t_lib:.1} ms | replica: count {t_count:.1} + prefix \
             {t_prefix:.1} + scatter {t_scatter:.1} (into warm output {t_warm:.1}) | floor: \
             read {t_read:.1} + fresh copy {t_copy:.1} = {:.1} ms",
            t_read + t_copy
        );
    }
}
