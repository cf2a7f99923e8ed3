//! The hex format: each frame as `tshark -x` prints it, then which bytes belong to which layer.

use super::frame_map;
use crate::stack::Exchange;
use std::fmt::Write as _;

/// Render as hex dumps.
pub fn hex(x: &Exchange) -> String {
    let mut out = String::new();
    for (i, (what, f, rx, n)) in x.frames().into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "Frame {} ({what}, {} bytes, FCS included; a pcap holds the first {}):",
            i + 1,
            f.bytes.len(),
            f.bytes.len() - 4
        );
        out.push_str(&hexdump(&f.bytes));
        let spans = frame_map(&rx.records, n, f.bytes.len());
        if spans.is_empty() {
            out.push_str("Layers: not decoded (the receiver stopped before this frame)\n");
        } else {
            out.push_str("Layers:\n");
            for s in spans {
                let _ = writeln!(out, "  {:04x}-{:04x}  {:>5} bytes  {}", s.start, s.end - 1, s.end - s.start, s.label);
            }
        }
    }
    if let Some(e) = &x.received.error {
        let _ = writeln!(out, "\nReceiver error: {e}");
    }
    out
}

/// `tshark -x` layout: offset, 16 hex bytes, printable ASCII.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:04x}  ", row * 16);
        for (j, b) in chunk.iter().enumerate() {
            let _ = write!(out, "{b:02x}");
            if j + 1 < chunk.len() {
                out.push(' ');
            }
        }
        let pad = (16 - chunk.len()) * 3;
        let _ = write!(out, "{:pad$}   ", "");
        out.extend(chunk.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexdump_matches_tshark_layout() {
        let d = hexdump(b"\x02\x00ABCDEFGHIJKLMNOPQ");
        assert_eq!(d, "0000  02 00 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e   ..ABCDEFGHIJKLMN\n0010  4f 50 51                                          OPQ\n");
    }
}
