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
pub fn time_rounds(
    calls: &mut [Box<dyn TimedSpmv + '_>],
    reps: usize,
) -> Result<Timings, BoxError> {
    let mut times = vec![Vec::with_capacity(reps); calls.len()];
    let mut outputs = vec![Vec::new(); calls.len()];
    for round in 0..=reps {
        for (i, call) in calls.iter_mut().enumerate() {
            settle();
            let t = Instant::now();
            call.run()?;
            let elapsed = t.elapsed();
            if round == 0 {
                outputs[i] = call.output();
            } else {
                times[i].push(elapsed);
            }
        }
    }
    Ok((times, outputs))
}

/// Pauses before a timed call so that worker threads a vendor library left spinning after
/// the previous call (OpenMP runtimes busy-wait for a while, e.g. libgomp's
/// `GOMP_SPINCOUNT`) are idle again and do not steal a core from the next one: without it
/// the row timed right after an MKL row read about 10% slow.
pub fn settle() {
    std::thread::sleep(Duration::from_millis(5));
}
