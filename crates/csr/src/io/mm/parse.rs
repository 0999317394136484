//! Low-level text scanning: lines, tokens and numbers, without allocation on the good path.

use std::path::Path;

use crate::Error;

use super::digits::digit_run;

/// A problem at a 1-based line, before the file's path is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: usize,
    pub what: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, what: impl Into<String>) -> Self {
        Self {
            line,
            what: what.into(),
        }
    }

    pub(crate) fn into_error(self, path: Option<&Path>) -> Error {
        Error::Parse {
            path: path.map(Path::to_path_buf),
            line: self.line,
            what: self.what,
        }
    }
}

/// Lines of a buffer; a line ends at `\n`, `\r\n` or a lone `\r` (which is not included).
pub(crate) struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Offset of the first byte not yet returned.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let mut advance = i + 1;
                if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    advance += 1;
                }
                self.pos += advance;
                Some(&rest[..i])
            }
            None => {
                self.pos = self.buf.len();
                Some(rest)
            }
        }
    }
}

/// Whether `b` separates tokens on a line.
#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c)
}

/// Advances `pos` past separators.
#[inline]
pub(crate) fn skip_ws(line: &[u8], pos: &mut usize) {
    while *pos < line.len() && is_ws(line[*pos]) {
        *pos += 1;
    }
}

/// Whether `b` ends a line.
#[inline]
pub(crate) fn is_eol(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The end of the token starting at `start` (at a separator, a line end or the end).
#[inline]
pub(crate) fn token_end(line: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < line.len() && !is_ws(line[end]) && !is_eol(line[end]) {
        end += 1;
    }
    end
}

/// Whether the byte at `pos` (if any) ends a token.
#[inline]
fn at_token_end(line: &[u8], pos: usize) -> bool {
    line.get(pos).is_none_or(|&b| is_ws(b) || is_eol(b))
}

/// Whether a line holds nothing, or only a comment.
#[inline]
pub(crate) fn is_blank_or_comment(line: &[u8]) -> bool {
    let mut pos = 0;
    skip_ws(line, &mut pos);
    pos == line.len() || line[pos] == b'%'
}

/// Text for a message: lossy UTF-8, shortened to 40 characters.
pub(crate) fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim();
    if s.chars().count() > 40 {
        let short: String = s.chars().take(40).collect();
        format!("{short}...")
    } else {
        s.to_string()
    }
}

/// Reads the next token of `line` as a 1-based index into `1..=limit`, returning it 0-based.
/// `line` may extend past the line's end: tokens stop at line ends.
#[inline]
pub(crate) fn parse_index(
    line: &[u8],
    pos: &mut usize,
    name: &str,
    limit: usize,
) -> Result<usize, String> {
    skip_ws(line, pos);
    let start = *pos;
    // Up to 7 digits (and the byte after them) at once; longer runs go digit by digit.
    if let Some((n, len)) = digit_run(line, start)
        && len < 8
    {
        *pos = start + len;
        if len > 0
            && at_token_end(line, *pos)
            && let Ok(i) = usize::try_from(n)
            && i >= 1
            && i <= limit
        {
            return Ok(i - 1);
        }
        return index_error(line, pos, start, name, limit);
    }
    let mut n: u64 = 0;
    // 19 digits always fit a u64; longer tokens take the checked path.
    while let Some(&b) = line.get(*pos) {
        let d = b.wrapping_sub(b'0');
        if d > 9 || *pos - start == 19 {
            break;
        }
        n = n * 10 + u64::from(d);
        *pos += 1;
    }
    if *pos > start
        && at_token_end(line, *pos)
        && let Ok(i) = usize::try_from(n)
        && i >= 1
        && i <= limit
    {
        return Ok(i - 1);
    }
    index_error(line, pos, start, name, limit)
}

#[cold]
fn index_error(
    line: &[u8],
    pos: &mut usize,
    start: usize,
    name: &str,
    limit: usize,
) -> Result<usize, String> {
    let end = token_end(line, start);
    *pos = end;
    let tok = &line[start..end];
    if tok.is_empty() {
        return Err(format!("line ends before the {name} index"));
    }
    if !tok.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "expected a positive integer {name} index, found '{}'",
            show(tok)
        ));
    }
    let n = tok.iter().try_fold(0_u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    match n.map(usize::try_from) {
        None | Some(Err(_)) => Err(format!("{name} index {} does not fit 64 bits", show(tok))),
        Some(Ok(0)) => Err(format!(
            "{name} index 0 is out of range (indices are 1-based)"
        )),
        Some(Ok(i)) if i <= limit => Ok(i - 1),
        Some(Ok(i)) => Err(format!("{name} index {i} exceeds the {limit} declared")),
    }
}

/// Reads the next token of `line` as a floating-point value. With `narrow`, the text is
/// parsed as `f32` (so that every `f32` round-trips exactly) and widened.
#[inline]
pub(crate) fn parse_real(line: &[u8], pos: &mut usize, narrow: bool) -> Result<f64, String> {
    skip_ws(line, pos);
    let start = *pos;
    let rest = &line[start..];
    let parsed = if narrow {
        fast_float2::parse_partial::<f32, _>(rest).map(|(x, n)| (f64::from(x), n))
    } else {
        fast_float2::parse_partial::<f64, _>(rest)
    };
    if let Ok((x, n)) = parsed
        && at_token_end(line, start + n)
        && (x.is_finite() || is_inf_text(&rest[..n]))
    {
        *pos = start + n;
        return Ok(x);
    }
    real_error(line, start, narrow)
}

/// The value a plain data line holds (see [`plain_entry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlainValue {
    /// A real value, parsed as `f64`.
    Real,
    /// A real value, parsed as `f32` (so that every `f32` round-trips) and widened.
    Narrow,
    /// None: a `pattern` line, whose value is 1.
    Pattern,
}

/// The common data line at `p`: `ROW COL VALUE\n` (or `ROW COL\n` for [`PlainValue::Pattern`]),
/// two runs of at most 7 digits separated by one space, then one space and a finite real
/// value, the line ending in `\n`, the indices within `1..=nrows` and `1..=ncols`. Returns
/// the 0-based row and column, the value and the position of the `\n`; `None` for any other
/// line (the general parser then reads it, and reports its errors), so this accepts exactly
/// what the general parser reads the same way.
#[inline(always)]
pub(crate) fn plain_entry(
    chunk: &[u8],
    p: usize,
    (nrows, ncols): (usize, usize),
    value: PlainValue,
) -> Option<(usize, usize, f64, usize)> {
    let index = |at: usize, limit: usize, then: u8| -> Option<(usize, usize)> {
        let (n, len) = digit_run(chunk, at)?;
        // len < 8, and digit_run saw 8 bytes, so the byte after the digits exists.
        let i = usize::try_from(n).ok()?;
        (len > 0 && len < 8 && chunk[at + len] == then && i >= 1 && i <= limit)
            .then(|| (i - 1, at + len + 1))
    };
    let (r, q) = index(p, nrows, b' ')?;
    if value == PlainValue::Pattern {
        let (c, next) = index(q, ncols, b'\n')?;
        return Some((r, c, 1.0, next - 1));
    }
    let (c, v) = index(q, ncols, b' ')?;
    let rest = chunk.get(v..)?;
    let (x, n) = if value == PlainValue::Narrow {
        fast_float2::parse_partial::<f32, _>(rest).map(|(x, n)| (f64::from(x), n))
    } else {
        fast_float2::parse_partial::<f64, _>(rest)
    }
    .ok()?;
    let end = v + n;
    (n > 0 && chunk.get(end) == Some(&b'\n') && x.is_finite()).then_some((r, c, x, end))
}

/// Whether a token that parsed to infinity spells it (rather than overflowing).
fn is_inf_text(tok: &[u8]) -> bool {
    tok.iter().any(|b| matches!(b, b'i' | b'I' | b'n' | b'N'))
}

#[cold]
fn real_error(line: &[u8], start: usize, narrow: bool) -> Result<f64, String> {
    let tok = &line[start..token_end(line, start)];
    if tok.is_empty() {
        return Err("line ends before the value".into());
    }
    let ok = if narrow {
        fast_float2::parse::<f32, _>(tok).is_ok()
    } else {
        fast_float2::parse::<f64, _>(tok).is_ok()
    };
    if ok {
        Err(format!(
            "value {} overflows {}",
            show(tok),
            if narrow { "f32" } else { "f64" }
        ))
    } else {
        Err(format!("expected a number, found '{}'", show(tok)))
    }
}

/// Reads the next token of `line` as an integer value (an `integer` field), as `f64`.
#[inline]
pub(crate) fn parse_integer(line: &[u8], pos: &mut usize) -> Result<f64, String> {
    skip_ws(line, pos);
    let start = *pos;
    let end = token_end(line, start);
    *pos = end;
    let tok = &line[start..end];
    if tok.is_empty() {
        return Err("line ends before the value".into());
    }
    let (neg, digits) = match tok[0] {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!("expected an integer, found '{}'", show(tok)));
    }
    let mut n: i64 = 0;
    for &d in digits {
        let d = i64::from(d - b'0');
        n = n
            .checked_mul(10)
            .and_then(|n| {
                if neg {
                    n.checked_sub(d)
                } else {
                    n.checked_add(d)
                }
            })
            .ok_or_else(|| format!("integer value {} overflows 64 bits", show(tok)))?;
    }
    // Exact up to 2^53, the nearest f64 beyond: what every reader of integer files does.
    #[allow(clippy::cast_precision_loss)]
    Ok(n as f64)
}

/// Checks that nothing but separators remains on `line`.
#[inline]
pub(crate) fn expect_end(line: &[u8], pos: &mut usize, what: &str) -> Result<(), String> {
    skip_ws(line, pos);
    if *pos == line.len() || is_eol(line[*pos]) {
        Ok(())
    } else {
        let end = token_end(line, *pos);
        Err(format!(
            "unexpected '{}' after the {what}",
            show(&line[*pos..end])
        ))
    }
}

/// The position of the next line end at or after `pos` (or the end).
#[inline]
pub(crate) fn find_eol(buf: &[u8], pos: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &buf[pos..]).map_or(buf.len(), |i| pos + i)
}

/// The position just past the line end at `pos` (`\n`, `\r\n` or `\r`), or `pos` at the end.
#[inline]
pub(crate) fn skip_eol(buf: &[u8], pos: usize) -> usize {
    match buf.get(pos) {
        Some(b'\r') if buf.get(pos + 1) == Some(&b'\n') => pos + 2,
        Some(b'\r' | b'\n') => pos + 1,
        _ => pos,
    }
}

/// Splits `data` into about `parts` pieces, each ending just after a `\n` (except the last).
pub(crate) fn newline_chunks(data: &[u8], parts: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for k in 1..parts {
        let target = data.len() / parts * k;
        if target <= start {
            continue;
        }
        match memchr::memchr(b'\n', &data[target..]) {
            Some(i) => {
                let end = target + i + 1;
                out.push(start..end);
                start = end;
            }
            None => break,
        }
    }
    if start < data.len() || out.is_empty() {
        out.push(start..data.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_every_line_end() {
        let text = b"a\r\nb\rc\n\nd";
        let lines: Vec<&[u8]> = Lines::new(text).collect();
        assert_eq!(lines, [&b"a"[..], b"b", b"c", b"", b"d"]);
    }

    #[test]
    fn indices_are_checked() {
        let mut p = 0;
        assert_eq!(parse_index(b" 12 3", &mut p, "row", 20), Ok(11));
        let mut p = 0;
        assert!(
            parse_index(b"0", &mut p, "row", 20)
                .unwrap_err()
                .contains("1-based")
        );
        let mut p = 0;
        assert!(
            parse_index(b"21", &mut p, "row", 20)
                .unwrap_err()
                .contains("exceeds")
        );
        let mut p = 0;
        assert!(
            parse_index(b"99999999999999999999999", &mut p, "row", 20)
                .unwrap_err()
                .contains("64 bits")
        );
        let mut p = 0;
        assert!(parse_index(b"-1", &mut p, "row", 20).is_err());
    }

    #[test]
    fn reals_reject_overflow_but_accept_inf() {
        let mut p = 0;
        assert!(parse_real(b"1e310", &mut p, false).is_err());
        let mut p = 0;
        assert_eq!(parse_real(b"-inf", &mut p, false), Ok(f64::NEG_INFINITY));
        let mut p = 0;
        assert!(parse_real(b"1e39", &mut p, true).is_err());
        let mut p = 0;
        assert_eq!(parse_real(b"1e39", &mut p, false), Ok(1e39));
    }

    #[test]
    fn integers_reject_overflow() {
        let mut p = 0;
        assert_eq!(parse_integer(b"-42", &mut p), Ok(-42.0));
        let mut p = 0;
        assert!(parse_integer(b"19223372036854775808", &mut p).is_err());
        let mut p = 0;
        assert!(parse_integer(b"1.5", &mut p).is_err());
    }

    #[test]
    fn chunks_end_at_newlines_and_cover_everything() {
        let data = b"1 1\n2 2\n3 3\n4 4";
        for parts in 1..8 {
            let chunks = newline_chunks(data, parts);
            assert_eq!(chunks.first().map(|r| r.start), Some(0));
            assert_eq!(chunks.last().map(|r| r.end), Some(data.len()));
            for w in chunks.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                assert_eq!(data[w[0].end - 1], b'\n');
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Values read back bit for bit as `str::parse` gives them, in every text form.
        #[test]
        fn reals_parse_like_std(bits in proptest::num::u64::ANY, form in 0_usize..4) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let text = match form {
                0 => ryu::Buffer::new().format(x).to_string(),
                1 => format!("{x:e}"),
                2 => format!("{x:.17e}"),
                _ => format!("{x:.6}"),
            };
            let want: f64 = text.parse().unwrap();
            let mut p = 0;
            let got = parse_real(text.as_bytes(), &mut p, false).unwrap();
            proptest::prop_assert_eq!(got.to_bits(), want.to_bits(), "{}", text);
            proptest::prop_assert_eq!(p, text.len());
        }

        /// Random decimal strings: same value as `str::parse`, or both reject.
        #[test]
        fn decimal_strings_parse_like_std(
            sign in "[-+]?", int in "[0-9]{0,22}", frac in "(\\.[0-9]{0,22})?",
            exp in "([eE][-+]?[0-9]{1,3})?"
        ) {
            let text = format!("{sign}{int}{frac}{exp}");
            let mut p = 0;
            let got = parse_real(text.as_bytes(), &mut p, false);
            match text.parse::<f64>() {
                Ok(want) if want.is_finite() => {
                    proptest::prop_assert_eq!(got.map(f64::to_bits), Ok(want.to_bits()), "{}", text);
                }
                _ => proptest::prop_assert!(got.is_err(), "{}", text),
            }
        }

        /// The plain-line reader takes only lines that the general field parsers read the
        /// same way (same indices, same value bits, the value ending at the `\n` it
        /// reports), and takes every line of the plain form; for real values in `f64` and
        /// `f32`, and for pattern lines.
        #[test]
        fn plain_lines_read_like_the_general_parsers(
            r in 0_u64..20_000_000, c in 0_u64..20_000_000, bits in proptest::num::u64::ANY,
            sep1 in "( |\t|  )", sep2 in "( |\t| {2})", sign in "[-+]?",
            special in proptest::option::weighted(0.1, "(nan|inf|1e999|1e39|-0|\\+1|x)"),
            end in "(\n|\r\n| \n| 7\n|)", pad in "[0-9 \n]{0,12}", mode in 0_usize..3
        ) {
            let (nrows, ncols) = (10_000_000, 5_000_000);
            let kind = [PlainValue::Real, PlainValue::Narrow, PlainValue::Pattern][mode];
            let value = special.clone().unwrap_or_else(|| {
                format!("{sign}{}", ryu::Buffer::new().format(f64::from_bits(bits).abs()))
            });
            let text = if kind == PlainValue::Pattern {
                format!("{r}{sep1}{c}{end}{pad}")
            } else {
                format!("{r}{sep1}{c}{sep2}{value}{end}{pad}")
            };
            let line = text.as_bytes();
            let fast = plain_entry(line, 0, (nrows, ncols), kind);
            let mut p = 0;
            let general = parse_index(line, &mut p, "row", nrows).and_then(|r| {
                let c = parse_index(line, &mut p, "column", ncols)?;
                let x = match kind {
                    PlainValue::Pattern => 1.0,
                    _ => parse_real(line, &mut p, kind == PlainValue::Narrow)?,
                };
                Ok((r, c, x, p))
            });
            if let Some((r, c, x, at)) = fast {
                let (gr, gc, gx, gp) = general.clone().unwrap();
                proptest::prop_assert_eq!((r, c, x.to_bits(), at), (gr, gc, gx.to_bits(), gp), "{:?}", text);
                proptest::prop_assert_eq!(line[at], b'\n');
            }
            let plain_form = r.to_string().len() < 8 && c.to_string().len() < 8
                && sep1 == " " && end == "\n" && general.is_ok()
                && (kind == PlainValue::Pattern
                    || (sep2 == " " && sign != "+"
                        && matches!(&general, Ok((_, _, x, _)) if x.is_finite())
                        && special.as_deref().is_none_or(|s| s == "-0")));
            // Each index is read 8 bytes at a time: near the end of the text the general path runs.
            if plain_form && line.len() >= r.to_string().len() + 1 + 8 {
                proptest::prop_assert!(fast.is_some(), "{:?}", text);
            }
        }

        /// Indices: the SWAR path agrees with a plain decimal reading.
        #[test]
        fn indices_parse_like_std(n in 0_u64..100_000_000_000, pad in " {0,3}", tail in "( [0-9]+)?") {
            let text = format!("{pad}{n}{tail}");
            let mut p = 0;
            let got = parse_index(text.as_bytes(), &mut p, "row", 50_000_000_000);
            if (1..=50_000_000_000).contains(&n) {
                proptest::prop_assert_eq!(got, Ok(usize::try_from(n - 1).unwrap()));
                proptest::prop_assert_eq!(p, pad.len() + n.to_string().len());
            } else {
                proptest::prop_assert!(got.is_err());
            }
        }
    }
}
