//! Command-line arguments (clap derive). Parsed here, checked into typed values, never
//! interpreted: the commands live in their own modules.

use clap::{Parser, Subcommand, ValueEnum};

/// Sparse matrices in CSR form: inspect, convert, benchmark.
#[derive(Debug, Parser)]
#[command(name = "csr", version, about)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the shape and structure of a matrix (a Matrix Market file or a generated one).
    Info(InfoArgs),
    /// Convert a Matrix Market file: mtx <-> mtx.gz, coordinate <-> array, symmetry.
    Convert(ConvertArgs),
    /// Benchmark the library's operations on built-in generated matrices.
    Bench(BenchArgs),
    /// List the compute kernels, whether each can run here, and the default kernel.
    Kernels,
    /// Multiply a sparse matrix by a vector: y = A·x, written as a Matrix Market `array`
    /// vector.
    Spmv(SpmvArgs),
    /// Multiply two sparse matrices: C = A·B, or A·Bᵀ with --transpose-b.
    Spgemm(SpgemmArgs),
}

/// Arguments of `csr info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// A Matrix Market file (`.mtx` or `.mtx.gz`).
    #[arg(
        value_name = "FILE",
        required_unless_present = "generate",
        conflicts_with = "generate"
    )]
    pub file: Option<std::path::PathBuf>,
    /// Generate the matrix from a spec such as `poisson2d:1000`, `powerlaw:1m`,
    /// `banded:1000:3`, `random:1000:500:8`, `blockdiag:100:16`, `ratings:10k:2k:40`.
    #[arg(long, value_name = "SPEC", value_parser = parse_generator)]
    pub generate: Option<csr::generate::Generator>,
    /// Seed for the generator.
    #[arg(long, default_value_t = csr::generate::DEFAULT_SEED)]
    pub seed: u64,
    /// Index type to build the matrix with.
    #[arg(long, value_enum, default_value_t = IndexType::I32)]
    pub index: IndexType,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// With --generate: also write the matrix to this Matrix Market file (`.gz`
    /// compresses; written atomically), e.g. to share it with other programs.
    #[arg(short, long, value_name = "FILE", requires = "generate")]
    pub output: Option<std::path::PathBuf>,
    /// With --generate: use the transpose of the generated matrix (e.g. a user×item
    /// rating matrix as item×user).
    #[arg(long, requires = "generate")]
    pub transpose: bool,
}

/// Arguments of `csr convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The Matrix Market file to read (`.mtx` or `.mtx.gz`).
    #[arg(value_name = "IN")]
    pub input: std::path::PathBuf,
    /// The file to write; a name ending in `.gz` is gzip-compressed. Written atomically.
    #[arg(value_name = "OUT")]
    pub output: std::path::PathBuf,
    /// Expand symmetric storage: write every entry with a `general` header.
    #[arg(long, conflicts_with = "symmetric")]
    pub general: bool,
    /// Write one triangle with a symmetric header (skew-symmetric or hermitian if the input
    /// says so); fails if the matrix is not exactly symmetric.
    #[arg(long)]
    pub symmetric: bool,
    /// Layout of the output (default: the input's).
    #[arg(long, value_enum)]
    pub format: Option<LayoutArg>,
    /// Pass the matrix through this storage format and report its size and the conversion
    /// times (the output file stays Matrix Market).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<FormatArg>,
    /// Index type of the storage format of `--to`.
    #[arg(long, value_enum, default_value_t = IndexType::I32, requires = "to")]
    pub index: IndexType,
}

/// Storage formats of `csr convert --to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Coordinate: row, column, value per entry.
    Coo,
    /// ELLPACK: every row padded to the longest, column-major.
    Ell,
    /// Sliced ELLPACK: ELL per slice of 64 rows.
    Sellp,
    /// ELL part plus COO remainder (Ginkgo's automatic split).
    Hybrid,
    /// Dense row-major (duplicates summed, zeros dropped on the way back).
    Dense,
}

/// Matrix Market layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// Sparse `row col value` entries.
    Coordinate,
    /// Every value, column by column.
    Array,
}

/// Arguments of `csr bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Matrices to run on instead of the built-in workloads: Matrix Market files (.mtx,
    /// .mtx.gz) or generator specs, optionally prefixed `permuted:` (random symmetric
    /// permutation) or `items:` (transposed, e.g. a rating matrix for item-item A·Aᵀ).
    #[arg(value_name = "MATRIX")]
    pub matrices: Vec<String>,
    /// Timed repetitions per operation (the median is reported).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub reps: u32,
    /// Small matrices and few repetitions: a smoke run that finishes in seconds.
    #[arg(long)]
    pub quick: bool,
    /// Worker threads (default: rayon's default, the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Also measure the peer libraries sprs, faer and nalgebra-sparse (cargo feature
    /// `peers`).
    #[arg(long)]
    pub peers: bool,
    /// Also measure SpMV with every storage format (COO, ELL, SELL-P, Hybrid, Dense) and
    /// the CSR -> format -> CSR conversions, on the workloads that run SpMV.
    #[arg(long)]
    pub formats: bool,
    /// Run only the SpMV rows (every kernel and strategy) on every workload.
    #[arg(long)]
    pub spmv_only: bool,
    /// Also write every result to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}

/// Index types a matrix can be built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IndexType {
    /// 32-bit signed indices.
    I32,
    /// 64-bit signed indices.
    I64,
}

fn parse_generator(s: &str) -> Result<csr::generate::Generator, String> {
    s.parse().map_err(|e: csr::Error| e.to_string())
}

/// Arguments of `csr spmv`.
#[derive(Debug, clap::Args)]
pub struct SpmvArgs {
    /// The matrix A, a Matrix Market file (`.mtx` or `.mtx.gz`).
    #[arg(value_name = "A")]
    pub matrix: std::path::PathBuf,
    /// The vector x: `ones`, or a Matrix Market file holding an n x 1 or 1 x n matrix
    /// (write `./ones` for a file called `ones`).
    #[arg(long, value_name = "FILE|ones", default_value = "ones", value_parser = parse_vector)]
    pub x: VectorArg,
    /// The kernel (default: the process default, see `csr kernels`).
    #[arg(long, value_name = "KERNEL", value_parser = parse_kernel)]
    pub kernel: Option<csr::kernel::KernelId>,
    /// The SpMV strategy of the native kernel: classical, load_balance, merge_path,
    /// sparselib, compressed, tiled or automatic (default: automatic). Naming one picks the
    /// native kernel.
    #[arg(long, value_name = "STRATEGY", value_parser = parse_strategy)]
    pub strategy: Option<csr::Strategy>,
    /// Write y to this file (default: print it to stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Index type to build the matrix with.
    #[arg(long, value_enum, default_value_t = IndexType::I32)]
    pub index: IndexType,
}

/// The `x` of `csr spmv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VectorArg {
    /// All ones.
    Ones,
    /// Read from a Matrix Market file.
    File(std::path::PathBuf),
}

/// Arguments of `csr spgemm`.
#[derive(Debug, clap::Args)]
pub struct SpgemmArgs {
    /// The left matrix A, a Matrix Market file.
    #[arg(value_name = "A")]
    pub a: std::path::PathBuf,
    /// The right matrix B, a Matrix Market file.
    #[arg(value_name = "B")]
    pub b: std::path::PathBuf,
    /// Compute A·Bᵀ (B given in row form; nothing is transposed by the caller).
    #[arg(long)]
    pub transpose_b: bool,
    /// The kernel (default: the process default, see `csr kernels`).
    #[arg(long, value_name = "KERNEL", value_parser = parse_kernel)]
    pub kernel: Option<csr::kernel::KernelId>,
    /// The file to write C to (Matrix Market; `.gz` compresses). Written atomically.
    #[arg(short, long, value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// Index type to build the matrices with.
    #[arg(long, value_enum, default_value_t = IndexType::I32)]
    pub index: IndexType,
    /// Keep only the K largest values of each row of C, never forming the whole product
    /// (real values only; ties go to the lower column, NaN is never kept).
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// With --top-k: keep only values >= T.
    #[arg(
        long,
        value_name = "T",
        requires = "top_k",
        allow_negative_numbers = true
    )]
    pub threshold: Option<f64>,
    /// With --top-k: drop the diagonal entry (i, i) of each row before selecting.
    #[arg(long, requires = "top_k")]
    pub exclude_diagonal: bool,
    /// With --top-k: order each row by value, largest first (default: by column).
    #[arg(long, requires = "top_k")]
    pub sort_by_value: bool,
    /// Leave each row of C in the order the kernel found its columns instead of sorting it
    /// (faster where rows need sorting; the same entries). Not with --top-k.
    #[arg(long, conflicts_with = "top_k")]
    pub any_order: bool,
}

fn parse_vector(s: &str) -> Result<VectorArg, String> {
    if s == "ones" {
        Ok(VectorArg::Ones)
    } else {
        Ok(VectorArg::File(s.into()))
    }
}

fn parse_kernel(s: &str) -> Result<csr::kernel::KernelId, String> {
    s.parse().map_err(|e: csr::Error| e.to_string())
}

fn parse_strategy(s: &str) -> Result<csr::Strategy, String> {
    s.parse().map_err(|e: csr::Error| e.to_string())
}
