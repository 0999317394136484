//! The benchmark's results: a table on stdout and an optional JSON file.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// One measured row.
#[derive(Debug, Clone)]
pub struct Record {
    /// The workload (matrix spec).
    pub workload: String,
    /// The operation: `coo->csr`, `transpose`, `sort`, `spmv`, `spgemm_ab`, `spgemm_abt`.
    pub op: &'static str,
    /// The kernel or peer that ran it (`native`, `sprs`, `csr` for structural operations).
    pub kernel: String,
    /// The strategy, where one applies.
    pub strategy: String,
    /// Median time.
    pub median: Duration,
    /// Floating-point operations per run (0 where none).
    pub flops: f64,
    /// Minimal bytes moved per run.
    pub bytes: f64,
    /// Largest relative error against the reference kernel (`None`: not checked).
    pub max_rel_err: Option<f64>,
    /// Free-form detail (output nnz, for example).
    pub note: String,
}

impl Record {
    /// `kernel` or `kernel:strategy`: the row's name in the table.
    pub fn label(&self) -> String {
        if self.strategy.is_empty() {
            self.kernel.clone()
        } else {
            format!("{}:{}", self.kernel, self.strategy)
        }
    }
}

/// All rows of a run, grouped by (workload, op) in the order they were added.
pub struct Report {
    bandwidth: f64,
    records: Vec<Record>,
}

impl Report {
    /// An empty report against `bandwidth` bytes per second.
    pub fn new(bandwidth: f64) -> Self {
        Self {
            bandwidth,
            records: Vec::new(),
        }
    }

    /// Appends rows, keeping rows of the same workload and operation together (in the order
    /// the operations first appeared).
    pub fn add(&mut self, records: Vec<Record>) {
        self.records.extend(records);
        let mut first_seen: Vec<(String, &'static str)> = Vec::new();
        for r in &self.records {
            if !first_seen
                .iter()
                .any(|(w, o)| *w == r.workload && *o == r.op)
            {
                first_seen.push((r.workload.clone(), r.op));
            }
        }
        let group = |r: &Record| {
            first_seen
                .iter()
                .position(|(w, o)| *w == r.workload && *o == r.op)
                .unwrap_or(usize::MAX)
        };
        self.records.sort_by_key(group);
    }

    /// The fastest median among rows of the same workload and operation.
    fn best(&self, r: &Record) -> Duration {
        self.peers_of(r).map(|o| o.median).min().unwrap_or(r.median)
    }

    /// The rows of the same workload and operation as `r` (`r` included).
    fn peers_of<'a>(&'a self, r: &'a Record) -> impl Iterator<Item = &'a Record> + 'a {
        self.records
            .iter()
            .filter(move |o| o.workload == r.workload && o.op == r.op)
    }

    /// The groups of rows of the same workload and operation, in table order.
    fn groups(&self) -> Vec<&[Record]> {
        self.records
            .chunk_by(|a, b| a.workload == b.workload && a.op == b.op)
            .collect()
    }

    /// Prints the table (times below 0.1 ms with four decimals, so that microseconds show).
    pub fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{:<26} {:<16} {:<22} {:>10} {:>8} {:>7} {:>6} {:>8} {:>9}  note",
            "workload", "op", "kernel", "median ms", "GFLOP/s", "GB/s", "% BW", "x best", "rel err"
        )?;
        let mut last: Option<(&str, &str)> = None;
        for r in &self.records {
            if last.is_some_and(|(w, o)| w != r.workload || o != r.op) {
                writeln!(out)?;
            }
            last = Some((&r.workload, r.op));
            let secs = r.median.as_secs_f64();
            let gbs = r.bytes / secs;
            let name = r.label();
            writeln!(
                out,
                "{:<26} {:<16} {:<22} {:>10} {:>8} {:>7.1} {:>5.0}% {:>8.2} {:>9}  {}",
                r.workload,
                r.op,
                name,
                milliseconds(secs),
                if r.flops > 0.0 {
                    format!("{:.2}", r.flops / secs / 1e9)
                } else {
                    String::from("-")
                },
                gbs / 1e9,
                100.0 * gbs / self.bandwidth,
                secs / self.best(r).as_secs_f64(),
                r.max_rel_err
                    .map_or(String::from("-"), |e| format!("{e:.1e}")),
                r.note
            )?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "x best: time relative to the fastest row of the same workload and op (1.00 = fastest)."
        )?;
        writeln!(
            out,
            "GB/s counts minimal traffic: SpMV 12 B/nnz + 12 B/row + 8 B/col; SpGEMM the bytes of A, B and C;"
        )?;
        writeln!(
            out,
            "assembly reads 16 B per triplet and writes 12 B/nnz + 4 B/row; transpose and sort 24 B/nnz + 4 B/row."
        )?;
        writeln!(
            out,
            "rel err: largest |x - ref| / max(|ref|, tiny) against the reference kernel (SpGEMM: on sampled rows)."
        )?;
        self.write_ratios(out)
    }

    /// Prints, for every group of two or more rows, the speed ratio of each row to every other
    /// row: entry (i, j) is time(j) ÷ time(i), above 1 where row i is faster than row j.
    fn write_ratios(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "speed ratio to every other row: entry (row i, column j) = time(j) / time(i); above 1: row i is faster"
        )?;
        for group in self.groups().into_iter().filter(|g| g.len() > 1) {
            writeln!(out)?;
            write!(out, "{} {}\n{:<28}", group[0].workload, group[0].op, "")?;
            for j in 1..=group.len() {
                write!(out, " {:>6}", format!("[{j}]"))?;
            }
            writeln!(out)?;
            for (i, r) in group.iter().enumerate() {
                write!(out, "{:<28}", format!("[{}] {}", i + 1, r.label()))?;
                for other in group.iter() {
                    write!(
                        out,
                        " {:>6.2}",
                        other.median.as_secs_f64() / r.median.as_secs_f64()
                    )?;
                }
                writeln!(out)?;
            }
        }
        Ok(())
    }

    /// Writes every row as JSON: `{"bandwidth_gbps": .., "results": [..]}`.
    pub fn write_json(&self, path: &Path) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let results: Vec<serde_json::Value> = self
            .records
            .iter()
            .map(|r| {
                let secs = r.median.as_secs_f64();
                serde_json::json!({
                    "workload": r.workload,
                    "op": r.op,
                    "kernel": r.kernel,
                    "strategy": r.strategy,
                    "median_s": secs,
                    "gflops": r.flops / secs / 1e9,
                    "gbps": r.bytes / secs / 1e9,
                    "ratio_to_best": secs / self.best(r).as_secs_f64(),
                    "speedup_over": self
                        .peers_of(r)
                        .map(|o| {
                            let ratio = o.median.as_secs_f64() / secs;
                            (o.label(), serde_json::Value::from(ratio))
                        })
                        .collect::<serde_json::Map<String, serde_json::Value>>(),
                    "max_rel_err": r.max_rel_err,
                    "note": r.note,
                })
            })
            .collect();
        let doc = serde_json::json!({ "bandwidth_gbps": self.bandwidth / 1e9, "results": results });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)?;
        Ok(())
    }
}

/// `secs` in milliseconds for the table: two decimals, four below 0.1 ms.
fn milliseconds(secs: f64) -> String {
    let ms = secs * 1e3;
    if ms < 0.1 {
        format!("{ms:.4}")
    } else {
        format!("{ms:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::milliseconds;

    #[test]
    fn short_times_keep_their_microseconds() {
        assert_eq!(milliseconds(0.0123), "12.30");
        assert_eq!(milliseconds(0.000_123_4), "0.12");
        assert_eq!(milliseconds(0.000_012_34), "0.0123");
    }
}
