//! Scratch: SpMV rows of >= 16 entries with AVX-512 gathers (the library's loop) against
//! the same loop that, for a block of 8 entries whose columns lie within 16 of the first,
//! loads x[c0..c0+16] as two vectors and permutes (vpermt2pd) instead of gathering; the
//! same blocks read by eight scalar loads put together (no gather); the stream of the
//! matrix alone (no x); and the gather loop with the row's last n % 8 entries read by one
//! masked gather (then added one by one, as the reference does). One thread, every row of
//! the file, the variants alternating call by call; MASK ands every column index (x's
//! footprint: -1 all of x, 4095 32 KB, 0 one entry). Every variant's y is checked bit for
//! bit against the gather loop's (the stream's is not). The loop over variants and the
//! printed ones were edited between runs (`perm-out.txt`: 0-4; `perm-tail.txt`: 0, 4, 5).
//! Cargo.toml: package `perm`, edition 2024, dependency `csr = { path = "<repo>/crates/csr" }`.
use std::arch::x86_64::*;
use std::time::Instant;

#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn row_gather(cols: &[i32], vals: &[f64], x: &[f64], s: usize, e: usize) -> f64 {
    unsafe {
        let blocks = (e - s) / 8;
        let mut sums = _mm512_setzero_pd();
        for b in 0..blocks {
            let j = s + b * 8;
            let c = _mm256_loadu_si256(cols.as_ptr().add(j).cast());
            let xs = _mm512_i32gather_pd::<8>(c, x.as_ptr().cast());
            sums = _mm512_add_pd(sums, _mm512_mul_pd(_mm512_loadu_pd(vals.as_ptr().add(j)), xs));
        }
        finish(sums, cols, vals, x, s + blocks * 8, e)
    }
}

#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn row_perm(cols: &[i32], vals: &[f64], x: &[f64], s: usize, e: usize, hits: &mut usize) -> f64 {
    unsafe {
        let blocks = (e - s) / 8;
        let mut sums = _mm512_setzero_pd();
        let sixteen = _mm256_set1_epi32(16);
        let limit = x.len().saturating_sub(16);
        for b in 0..blocks {
            let j = s + b * 8;
            let c = _mm256_loadu_si256(cols.as_ptr().add(j).cast());
            let c0 = *cols.get_unchecked(j);
            let rel = _mm256_sub_epi32(c, _mm256_set1_epi32(c0));
            let near = _mm256_cmplt_epu32_mask(rel, sixteen);
            let xs = if near == 0xff && (c0 as usize) <= limit {
                *hits += 1;
                let lo = _mm512_loadu_pd(x.as_ptr().add(c0 as usize));
                let hi = _mm512_loadu_pd(x.as_ptr().add(c0 as usize + 8));
                _mm512_permutex2var_pd(lo, _mm512_cvtepu32_epi64(rel), hi)
            } else {
                _mm512_i32gather_pd::<8>(c, x.as_ptr().cast())
            };
            sums = _mm512_add_pd(sums, _mm512_mul_pd(_mm512_loadu_pd(vals.as_ptr().add(j)), xs));
        }
        finish(sums, cols, vals, x, s + blocks * 8, e)
    }
}

#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn finish(sums: __m512d, cols: &[i32], vals: &[f64], x: &[f64], t: usize, e: usize) -> f64 {
    unsafe {
        let mut l = [0.0f64; 8];
        _mm512_storeu_pd(l.as_mut_ptr(), sums);
        let mut sum = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        for j in t..e {
            sum += vals[j] * x[cols[j] as usize];
        }
        sum
    }
}

#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn row_stream(cols: &[i32], vals: &[f64], s: usize, e: usize) -> f64 {
    unsafe {
        let blocks = (e - s) / 8;
        let mut sums = _mm512_setzero_pd();
        for b in 0..blocks {
            let j = s + b * 8;
            let c = _mm256_loadu_si256(cols.as_ptr().add(j).cast());
            let xs = _mm512_cvtepi32_pd(c);
            sums = _mm512_add_pd(sums, _mm512_mul_pd(_mm512_loadu_pd(vals.as_ptr().add(j)), xs));
        }
        let mut l = [0.0f64; 8];
        _mm512_storeu_pd(l.as_mut_ptr(), sums);
        l.iter().sum()
    }
}

#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn row_build(cols: &[i32], vals: &[f64], x: &[f64], s: usize, e: usize) -> f64 {
    unsafe {
        let blocks = (e - s) / 8;
        let mut sums = _mm512_setzero_pd();
        let xp = x.as_ptr();
        for b in 0..blocks {
            let j = s + b * 8;
            let c = cols.as_ptr().add(j);
            let g = |k: usize| xp.add(*c.add(k) as usize);
            let x01 = _mm_loadh_pd(_mm_load_sd(g(0)), g(1));
            let x23 = _mm_loadh_pd(_mm_load_sd(g(2)), g(3));
            let x45 = _mm_loadh_pd(_mm_load_sd(g(4)), g(5));
            let x67 = _mm_loadh_pd(_mm_load_sd(g(6)), g(7));
            let lo = _mm256_insertf128_pd::<1>(_mm256_castpd128_pd256(x01), x23);
            let hi = _mm256_insertf128_pd::<1>(_mm256_castpd128_pd256(x45), x67);
            let xs = _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(lo), hi);
            sums = _mm512_add_pd(sums, _mm512_mul_pd(_mm512_loadu_pd(vals.as_ptr().add(j)), xs));
        }
        finish(sums, cols, vals, x, s + blocks * 8, e)
    }
}

#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn row_masked_tail(cols: &[i32], vals: &[f64], x: &[f64], s: usize, e: usize) -> f64 {
    unsafe {
        let blocks = (e - s) / 8;
        let mut sums = _mm512_setzero_pd();
        for b in 0..blocks {
            let j = s + b * 8;
            let c = _mm256_loadu_si256(cols.as_ptr().add(j).cast());
            let xs = _mm512_i32gather_pd::<8>(c, x.as_ptr().cast());
            sums = _mm512_add_pd(sums, _mm512_mul_pd(_mm512_loadu_pd(vals.as_ptr().add(j)), xs));
        }
        let t = s + blocks * 8;
        let mut l = [0.0f64; 8];
        _mm512_storeu_pd(l.as_mut_ptr(), sums);
        let mut sum = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        let rem = e - t;
        if rem > 0 {
            let mask = ((1u32 << rem) - 1) as u8;
            let c = _mm256_maskz_loadu_epi32(mask, cols.as_ptr().add(t).cast());
            let xs = _mm512_mask_i32gather_pd::<8>(_mm512_setzero_pd(), mask, c, x.as_ptr().cast());
            let p = _mm512_mul_pd(_mm512_maskz_loadu_pd(mask, vals.as_ptr().add(t)), xs);
            let mut q = [0.0f64; 8];
            _mm512_storeu_pd(q.as_mut_ptr(), p);
            for k in 0..rem {
                sum += q[k];
            }
        }
        sum
    }
}

fn short(cols: &[i32], vals: &[f64], x: &[f64], s: usize, e: usize) -> f64 {
    let mut sum = 0.0;
    for j in s..e {
        sum += vals[j] * x[cols[j] as usize];
    }
    sum
}

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let calls: usize = std::env::var("CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dense_ratio: f64 = std::env::var("DENSE").ok().and_then(|v| v.parse().ok()).unwrap_or(2.0);
    let a: csr::Csr<f64, i32> = csr::io::mm::read_csr(&path).unwrap();
    let mask: i32 = std::env::var("MASK").ok().and_then(|v| v.parse().ok()).unwrap_or(-1);
    let cm: Vec<i32> = a.col_idxs().iter().map(|&c| c & mask).collect();
    let (p, c, v) = (a.row_ptrs(), &cm[..], a.values());
    let n = a.ncols();
    let x: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.37).sin()).collect();
    let m = a.nrows();
    // Rows classified dense: span within DENSE times the length.
    let dense: Vec<bool> = (0..m)
        .map(|r| {
            let (s, e) = (p[r] as usize, p[r + 1] as usize);
            e - s >= 16 && ((c[e - 1] - c[s]) as f64) < dense_ratio * (e - s) as f64
        })
        .collect();
    let dense_nnz: usize = (0..m).filter(|&r| dense[r]).map(|r| (p[r + 1] - p[r]) as usize).sum();
    eprintln!("rows {m} nnz {} dense rows {} dense nnz {dense_nnz}", c.len(), dense.iter().filter(|&&d| d).count());
    let mut y = vec![0.0; m];
    let mut hits = 0usize;
    let run = |variant: usize, y: &mut [f64], hits: &mut usize| {
        for r in 0..m {
            let (s, e) = (p[r] as usize, p[r + 1] as usize);
            y[r] = if e - s < 16 {
                short(c, v, &x, s, e)
            } else {
                unsafe {
                    match variant {
                        0 => row_gather(c, v, &x, s, e),
                        1 => row_perm(c, v, &x, s, e, hits),
                        3 => row_stream(c, v, s, e),
                        4 => row_build(c, v, &x, s, e),
                        5 => row_masked_tail(c, v, &x, s, e),
                        _ => if dense[r] { row_perm(c, v, &x, s, e, hits) } else { row_gather(c, v, &x, s, e) },
                    }
                }
            };
        }
    };
    let mut y0 = vec![0.0; m];
    run(0, &mut y0, &mut hits);
    for var in [1, 2, 4, 5] {
        hits = 0;
        run(var, &mut y, &mut hits);
        assert!(y.iter().zip(&y0).all(|(a, b)| a.to_bits() == b.to_bits()), "variant {var} differs");
        eprintln!("variant {var}: blocks permuted {hits} (entries {})", hits * 8);
    }
    let mut t = vec![vec![]; 6];
    for _ in 0..calls {
        for var in [0, 5, 4] {
            let s = Instant::now();
            run(var, &mut y, &mut hits);
            t[var].push(s.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(&y);
        }
    }
    for (var, name) in ["gather", "perm all rows", "perm dense rows", "stream no x", "scalar build", "masked tail"].iter().enumerate().filter(|(v, _)| [0usize, 4, 5].contains(v)) {
        let mut v = t[var].clone();
        v.sort_by(f64::total_cmp);
        let ratio: Vec<f64> = t[0].iter().zip(&t[var]).map(|(a, b)| a / b).collect();
        let mut r = ratio.clone();
        r.sort_by(f64::total_cmp);
        println!("{name:>16}: median {:.4} ms  min {:.4}  per-call gather/this median {:.3}", v[v.len() / 2], v[0], r[r.len() / 2]);
    }
}
