//! Prepared SpMV calls for the benchmark: each owns its `y`, so the clock measures the
//! product alone, and reading `y` back (widened to f64 for the error check) happens outside it.

use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A product writing into the `y` it is handed.
type Product<'a, Y> = Box<dyn FnMut(&mut [Y]) -> Result<(), BoxError> + 'a>;

/// Per call: the counted times and the `y` of the warm-up round.
pub type Timings = (Vec<Vec<Duration>>, Vec<Vec<f64>>);

/// A prepared `y = A·x`.
pub trait TimedSpmv {
    /// Runs the product once into the call's own `y`.
    fn run(&mut self) -> Result<(), BoxError>;
    /// The `y` of the last run, widened to f64.
    fn output(&self) -> Vec<f64>;
}

/// A `y = A·x` closure with the `y` it writes.
struct SpmvCall<'a, Y> {
    y: Vec<Y>,
    call: Product<'a, Y>,
}

impl<Y: Copy + Into<f64>> TimedSpmv for SpmvCall<'_, Y> {
    fn run(&mut self) -> Result<(), BoxError> {
        (self.call)(&mut self.y)
    }

    fn output(&self) -> Vec<f64> {
        self.y.iter().map(|&v| v.into()).collect()
    }
}

/// A timed SpMV writing `rows` values of type `Y` with `call`.
pub fn spmv_call<'a, Y: Copy + Default + Into<f64> + 'a>(
    rows: usize,
    call: impl FnMut(&mut [Y]) -> Result<(), BoxError> + 'a,
) -> Box<dyn TimedSpmv + 'a> {
    Box::new(SpmvCall {
        y: vec![Y::default(); rows],
        call: Box::new(call),
    })
}

/// Runs every call once per round, `reps` counted rounds after one warm-up round (so that
/// machine noise spreads over all of them), and returns each call's times and its `y` from
/// the warm-up round.
///
/// A call faster than [`BATCH`] runs in batches: each round times as many back-to-back
/// calls as fill [`BATCH`] (judged from the warm-up) and records their mean, so that the
/// clock's resolution and the cold start after [`settle`] do not swamp a microsecond call.
/// That is the rate of a caller running many small products in a loop.
pub fn time_rounds(
    calls: &mut [Box<dyn TimedSpmv + '_>],
    reps: usize,
) -> Result<Timings, BoxError> {
    let mut times = vec![Vec::with_capacity(reps); calls.len()];
    let mut outputs = vec![Vec::new(); calls.len()];
    let mut batch = vec![1u32; calls.len()];
    for round in 0..=reps {
        for (i, call) in calls.iter_mut().enumerate() {
            settle();
            let t = Instant::now();
            for _ in 0..batch[i] {
                call.run()?;
            }
            let elapsed = t.elapsed() / batch[i];
            if round == 0 {
                outputs[i] = call.output();
                batch[i] = batch_size(elapsed);
            } else {
                times[i].push(elapsed);
            }
        }
    }
    Ok((times, outputs))
}

/// Calls shorter than this are timed in batches that last about this long.
pub const BATCH: Duration = Duration::from_millis(2);

/// How many calls of `once` make a batch of about [`BATCH`] (1 for slower calls).
fn batch_size(once: Duration) -> u32 {
    let per_batch = BATCH.as_nanos() / once.as_nanos().max(1);
    u32::try_from(per_batch)
        .unwrap_or(u32::MAX)
        .clamp(1, 100_000)
}

/// Pauses before a timed call so that worker threads a vendor library left spinning after
/// the previous call (OpenMP runtimes busy-wait for a while, e.g. libgomp's
/// `GOMP_SPINCOUNT`) are idle again and do not steal a core from the next one: without it
/// the row timed right after an MKL row read about 10% slow.
pub fn settle() {
    std::thread::sleep(Duration::from_millis(5));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_calls_are_batched_to_fill_a_batch() {
        assert_eq!(batch_size(Duration::from_micros(1)), 2000);
        assert_eq!(batch_size(Duration::from_micros(300)), 6);
        assert_eq!(batch_size(BATCH), 1);
        assert_eq!(batch_size(Duration::from_millis(40)), 1);
        assert_eq!(batch_size(Duration::ZERO), 100_000);
    }
}
