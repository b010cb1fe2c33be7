//! Writing embeddings for people and programs: NumPy's `.npy` (format 1.0, `<f4`, C order,
//! shape `(sentences, dims)`) and JSON lines (`{"index", "text", "embedding"}` a line).

use std::io::Write;

/// The `.npy` bytes of `rows` (all the same length).
pub fn npy(rows: &[Vec<f32>]) -> Vec<u8> {
    let dims = rows.first().map_or(0, Vec::len);
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {dims}), }}",
        rows.len()
    );
    // Magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + rows.len() * dims * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for row in rows {
        for v in row {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Reads `.npy` bytes written by [`npy`] back (for checks): the rows.
pub fn read_npy(bytes: &[u8]) -> Option<Vec<Vec<f32>>> {
    if bytes.get(..8)? != b"\x93NUMPY\x01\x00" {
        return None;
    }
    let len = u16::from_le_bytes([*bytes.get(8)?, *bytes.get(9)?]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + len)?).ok()?;
    let shape = header.split("'shape': (").nth(1)?.split(')').next()?;
    let mut dims = shape.split(',').map(|d| d.trim().parse::<usize>());
    let (rows, cols) = (dims.next()?.ok()?, dims.next()?.ok()?);
    let data = bytes.get(10 + len..)?;
    if data.len() != rows * cols * 4 {
        return None;
    }
    Some(
        data.chunks_exact(cols * 4)
            .map(concord_compute::kernels::f32s)
            .collect(),
    )
}

/// JSON lines: one `{"index", "text", "embedding"}` object per sentence.
pub fn jsonl(texts: &[String], rows: &[Vec<f32>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (text, row)) in texts.iter().zip(rows).enumerate() {
        let line = serde_json::json!({"index": i, "text": text, "embedding": row});
        writeln!(out, "{line}").expect("writing to a Vec cannot fail");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_with_an_aligned_header() {
        let rows = vec![vec![1.0f32, -2.5, 3.25], vec![0.0, 1e-3, f32::MAX]];
        let bytes = npy(&rows);
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        assert!(std::str::from_utf8(&bytes[10..10 + header_len])
            .unwrap()
            .contains("'shape': (2, 3)"));
        assert_eq!(read_npy(&bytes), Some(rows));
        assert_eq!(read_npy(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn jsonl_has_one_object_per_sentence() {
        let text = jsonl(&["a".into(), "b \"q\"".into()], &[vec![0.5], vec![-1.0]]);
        let lines: Vec<serde_json::Value> = String::from_utf8(text)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["text"], "b \"q\"");
        assert_eq!(lines[1]["embedding"][0], -1.0);
    }
}
