//! Reading a file piece by piece (`MmPieces`, as the ranks of a distributed reader do) gives
//! the whole-file reader's entries, and its errors at the same lines, for any number of
//! pieces.

use csr::io::mm::{self, MmPieces, PieceCount, ReadOptions};
use csr::{Error, MatrixData};

/// Reads `text` in `parts` pieces, as `parts` readers would, and concatenates the triplets
/// (the stored ones of every piece, then the mirrored ones, as the whole-file reader orders
/// them). The first error in piece order wins, as it would in file order.
fn read_in_pieces(text: &str, parts: usize) -> Result<MatrixData<f64, i64>, Error> {
    let file = MmPieces::from_bytes(text.as_bytes().to_vec())?;
    let keep = ReadOptions::default().keep_symmetry();
    let mut before = PieceCount::default();
    let mut stored = Vec::new();
    for k in 0..parts {
        let piece = file.piece(k, parts);
        stored.push(file.read_piece::<f64, i64>(&piece, before, &keep)?);
        before.lines += piece.count().lines;
        before.entries += piece.count().entries;
    }
    file.check_entry_total(before)?;
    let h = file.header();
    let mut all = MatrixData::new(h.nrows, h.ncols)?;
    for d in &stored {
        for (r, c, v) in d.iter() {
            all.push(r, c, v)?;
        }
    }
    if h.symmetry != csr::Symmetry::General {
        all.expand_symmetry(h.symmetry)?;
    }
    Ok(all)
}

fn whole(text: &str) -> Result<MatrixData<f64, i64>, Error> {
    mm::read_matrix_data_from_bytes::<f64, i64>(text.as_bytes(), &ReadOptions::default())
        .map(|f| f.data)
}

const GOOD: [&str; 4] = [
    "%%MatrixMarket matrix coordinate real general\n% c\n3 4 5\n1 1 1.5\n\n3 4 -2\n% mid\n2 2 3e2\n1 4 7\n3 1 0.25\n",
    "%%MatrixMarket matrix coordinate real symmetric\r\n3 3 4\r\n1 1 4\r\n2 1 -1\r\n3 2 -1\r\n3 3 4",
    "%%MatrixMarket matrix array real general\n2 3\n1\n2\n% c\n3\n4\n5\n6\n",
    "%%MatrixMarket matrix coordinate pattern general\n4 4 3\n4 1\n1 4\n2 3\n",
];

#[test]
fn pieces_read_like_the_whole_file() {
    for text in GOOD {
        let expected = whole(text).expect("valid");
        for parts in 1..=9 {
            let got = read_in_pieces(text, parts).expect("valid");
            assert_eq!(got, expected, "{parts} pieces of {text:?}");
        }
    }
}

#[test]
fn pieces_report_the_whole_file_error() {
    let bad = [
        // A malformed entry late in the file.
        "%%MatrixMarket matrix coordinate real general\n3 3 4\n1 1 1\n2 2 2\n3 3 3\n3 x 4\n",
        // An index past the declared size, early.
        "%%MatrixMarket matrix coordinate real general\n3 3 3\n4 1 1\n2 2 2\n3 3 3\n",
        // More entries than declared, with a later malformed line.
        "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1\n2 2 2\n3 3 3\nbad\n",
        // Fewer entries than declared.
        "%%MatrixMarket matrix coordinate real general\n3 3 5\n1 1 1\n% c\n2 2 2\n\n",
        // A bad array value.
        "%%MatrixMarket matrix array real general\n2 2\n1\n2\nthree\n4\n",
        // Too many array values.
        "%%MatrixMarket matrix array real general\n2 1\n1\n2\n3\n",
    ];
    for text in bad {
        let Err(expected) = whole(text) else {
            panic!("{text:?} should fail")
        };
        assert!(matches!(expected, Error::Parse { .. }), "{expected}");
        for parts in 1..=7 {
            let got = read_in_pieces(text, parts).expect_err("bad input");
            assert_eq!(
                got.to_string(),
                expected.to_string(),
                "{parts} pieces of {text:?}"
            );
        }
    }
}

#[test]
fn pieces_past_the_count_are_empty() {
    let file = MmPieces::from_bytes(GOOD[0].as_bytes().to_vec()).expect("valid");
    let piece = file.piece(5, 3);
    assert_eq!(piece.count(), PieceCount::default());
    assert!(piece.range().is_empty());
}
