//! The Matrix Market header: the banner line and the size line.

use std::fmt;

use crate::Symmetry;

use super::parse::{Lines, ParseError, is_blank_or_comment, show, skip_ws, token_end};

/// What a Matrix Market file holds: `matrix` or `vector` (an `n x 1` matrix).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Object {
    /// A matrix.
    #[default]
    Matrix,
    /// A vector, read as an `n x 1` matrix; it cannot declare a symmetry.
    Vector,
}

/// How a Matrix Market file lays out its entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// `row col value` triplets, 1-based (sparse).
    #[default]
    Coordinate,
    /// Every value, column by column (dense).
    Array,
}

/// The kind of values a Matrix Market file stores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Field {
    /// Floating-point values (`real`, or `double` as some writers spell it).
    #[default]
    Real,
    /// Integer values (read into real types, exactly up to 2^53).
    Integer,
    /// Complex values: a real and an imaginary part.
    Complex,
    /// No values: every stored entry is one.
    Pattern,
}

impl Object {
    /// The Matrix Market name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Object::Matrix => "matrix",
            Object::Vector => "vector",
        }
    }
}

impl Format {
    /// The Matrix Market name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Coordinate => "coordinate",
            Format::Array => "array",
        }
    }
}

impl Field {
    /// The Matrix Market name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Field::Real => "real",
            Field::Integer => "integer",
            Field::Complex => "complex",
            Field::Pattern => "pattern",
        }
    }
}

/// A Matrix Market header: the banner's four words and the sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// `matrix` or `vector`.
    pub object: Object,
    /// `coordinate` or `array`.
    pub format: Format,
    /// The value kind.
    pub field: Field,
    /// How entries are stored.
    pub symmetry: Symmetry,
    /// Number of rows (the length, for a vector).
    pub nrows: usize,
    /// Number of columns (1 for a vector).
    pub ncols: usize,
    /// Number of entries stored in the file: as declared for `coordinate`; for `array`, the
    /// number of values its shape and symmetry imply.
    pub entries: usize,
}

impl fmt::Display for Header {
    /// The banner line, without a line end.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "%%MatrixMarket {} {} {} {}",
            self.object.name(),
            self.format.name(),
            self.field.name(),
            self.symmetry.name()
        )
    }
}

/// A parsed header and where the data section begins.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub header: Header,
    /// Byte offset of the first data line.
    pub data_offset: usize,
    /// 1-based line number of the first data line.
    pub data_line: usize,
    /// 1-based line number of the size line.
    pub size_line: usize,
    /// 1-based line number of the banner.
    pub banner_line: usize,
}

fn word<'a>(line: &'a [u8], pos: &mut usize) -> &'a [u8] {
    skip_ws(line, pos);
    let start = *pos;
    *pos = token_end(line, start);
    &line[start..*pos]
}

fn lower(w: &[u8]) -> Vec<u8> {
    w.to_ascii_lowercase()
}

/// Parses the banner, comments and size line.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<Layout, ParseError> {
    let mut lines = Lines::new(bytes);
    let mut line_no = 0;
    // The banner: the first line that is not blank.
    let banner = loop {
        line_no += 1;
        match lines.next() {
            None => {
                return Err(ParseError::new(
                    line_no,
                    "file ends before the '%%MatrixMarket' banner",
                ));
            }
            Some(l) if l.iter().all(u8::is_ascii_whitespace) => {}
            Some(l) => break l,
        }
    };
    let banner_line = line_no;
    let mut pos = 0;
    let magic = lower(word(banner, &mut pos));
    if magic != b"%%matrixmarket" && magic != b"%matrixmarket" {
        return Err(ParseError::new(
            banner_line,
            format!(
                "expected a '%%MatrixMarket' banner, found '{}'",
                show(banner)
            ),
        ));
    }
    let mut next_word = |what: &str, expected: &str| {
        let w = word(banner, &mut pos);
        if w.is_empty() {
            Err(ParseError::new(
                banner_line,
                format!("banner ends before the {what} (expected {expected})"),
            ))
        } else {
            Ok(lower(w))
        }
    };
    let unknown = |what: &str, w: &[u8], expected: &str| {
        ParseError::new(
            banner_line,
            format!("unknown {what} '{}' (expected {expected})", show(w)),
        )
    };
    const OBJECTS: &str = "matrix or vector";
    const FORMATS: &str = "coordinate or array";
    const FIELDS: &str = "real, double, integer, complex or pattern";
    const SYMMETRIES: &str = "general, symmetric, skew-symmetric or hermitian";
    let w = next_word("object", OBJECTS)?;
    let object = match &w[..] {
        b"matrix" => Object::Matrix,
        b"vector" => Object::Vector,
        _ => return Err(unknown("object", &w, OBJECTS)),
    };
    let w = next_word("format", FORMATS)?;
    let format = match &w[..] {
        b"coordinate" => Format::Coordinate,
        b"array" => Format::Array,
        _ => return Err(unknown("format", &w, FORMATS)),
    };
    let w = next_word("field", FIELDS)?;
    let field = match &w[..] {
        b"real" | b"double" => Field::Real,
        b"integer" => Field::Integer,
        b"complex" => Field::Complex,
        b"pattern" => Field::Pattern,
        _ => return Err(unknown("field", &w, FIELDS)),
    };
    let w = next_word("symmetry", SYMMETRIES)?;
    let symmetry = match &w[..] {
        b"general" => Symmetry::General,
        b"symmetric" => Symmetry::Symmetric,
        b"skew-symmetric" => Symmetry::SkewSymmetric,
        b"hermitian" => Symmetry::Hermitian,
        _ => return Err(unknown("symmetry", &w, SYMMETRIES)),
    };
    let extra = word(banner, &mut pos);
    if !extra.is_empty() {
        return Err(ParseError::new(
            banner_line,
            format!("unexpected '{}' after the symmetry", show(extra)),
        ));
    }
    if object == Object::Vector && symmetry != Symmetry::General {
        return Err(ParseError::new(
            banner_line,
            format!("a vector cannot be {} (only general)", symmetry.name()),
        ));
    }
    if format == Format::Array && field == Field::Pattern {
        return Err(ParseError::new(
            banner_line,
            "an array file cannot have the pattern field",
        ));
    }
    if field == Field::Pattern && symmetry == Symmetry::Hermitian {
        return Err(ParseError::new(
            banner_line,
            "a pattern file cannot be hermitian (use symmetric)",
        ));
    }
    if field == Field::Pattern && symmetry == Symmetry::SkewSymmetric {
        return Err(ParseError::new(
            banner_line,
            "a pattern file cannot be skew-symmetric: its mirrored entries would need the \
             negated values a pattern does not store (use symmetric)",
        ));
    }

    // Comments and blank lines, then the size line.
    let size = loop {
        line_no += 1;
        match lines.next() {
            None => {
                return Err(ParseError::new(line_no, "file ends before the size line"));
            }
            Some(l) if is_blank_or_comment(l) => {}
            Some(l) => break l,
        }
    };
    let size_line = line_no;
    let expected: &[&str] = match (object, format) {
        (Object::Matrix, Format::Coordinate) => &["rows", "columns", "entries"],
        (Object::Matrix, Format::Array) => &["rows", "columns"],
        (Object::Vector, Format::Coordinate) => &["length", "entries"],
        (Object::Vector, Format::Array) => &["length"],
    };
    let form = expected.join(" ");
    let mut pos = 0;
    let mut nums = [0_usize; 3];
    for (k, name) in expected.iter().enumerate() {
        let w = word(size, &mut pos);
        if w.is_empty() {
            return Err(ParseError::new(
                size_line,
                format!("size line ends before the {name} (expected '{form}')"),
            ));
        }
        nums[k] = parse_size(w).map_err(|why| {
            ParseError::new(
                size_line,
                format!("bad {name} '{}' on the size line: {why}", show(w)),
            )
        })?;
    }
    let extra = word(size, &mut pos);
    if !extra.is_empty() {
        return Err(ParseError::new(
            size_line,
            format!(
                "unexpected '{}' on the size line (expected '{form}')",
                show(extra)
            ),
        ));
    }
    let (nrows, ncols, declared) = match (object, format) {
        (Object::Matrix, Format::Coordinate) => (nums[0], nums[1], Some(nums[2])),
        (Object::Matrix, Format::Array) => (nums[0], nums[1], None),
        (Object::Vector, Format::Coordinate) => (nums[0], 1, Some(nums[1])),
        (Object::Vector, Format::Array) => (nums[0], 1, None),
    };
    if symmetry != Symmetry::General && nrows != ncols {
        return Err(ParseError::new(
            size_line,
            format!(
                "a {} matrix must be square, found {nrows}x{ncols}",
                symmetry.name()
            ),
        ));
    }
    let entries = match declared {
        Some(n) => n,
        None => array_len(nrows, ncols, symmetry).ok_or_else(|| {
            ParseError::new(
                size_line,
                format!("{nrows}x{ncols} array has more values than memory can address"),
            )
        })?,
    };
    Ok(Layout {
        header: Header {
            object,
            format,
            field,
            symmetry,
            nrows,
            ncols,
            entries,
        },
        data_offset: lines.offset(),
        data_line: size_line + 1,
        size_line,
        banner_line,
    })
}

/// Number of values an array file of this shape and symmetry stores.
pub(crate) fn array_len(nrows: usize, ncols: usize, symmetry: Symmetry) -> Option<usize> {
    match symmetry {
        Symmetry::General => nrows.checked_mul(ncols),
        Symmetry::Symmetric | Symmetry::Hermitian => {
            nrows.checked_mul(nrows.checked_add(1)?).map(|x| x / 2)
        }
        Symmetry::SkewSymmetric => nrows.checked_mul(nrows.saturating_sub(1)).map(|x| x / 2),
    }
}

/// Parses a non-negative size.
fn parse_size(w: &[u8]) -> Result<usize, &'static str> {
    if w.first() == Some(&b'-') {
        return Err("sizes cannot be negative");
    }
    let digits = w.strip_prefix(b"+").unwrap_or(w);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err("expected a non-negative integer");
    }
    let mut n: usize = 0;
    for &d in digits {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(d - b'0')))
            .ok_or("too large for this machine's address space")?;
    }
    Ok(n)
}
