//! The bits format: L1's view of each frame. One line per octet on the wire: where it is, what it
//! belongs to, its value, its eight bits in transmission order (least significant first, IEEE
//! 802.3 §3.3) and the line-code symbols that carry them.

use super::frame_map;
use crate::layers::l1_physical::{levels_to_string, LineCode, PREAMBLE, SFD};
use crate::stack::Exchange;
use std::fmt::Write as _;

/// Symbols per octet for a line code (before any start/end delimiters).
fn symbols_per_octet(code: LineCode) -> usize {
    let (n, d) = code.symbols_per_bit();
    usize::try_from(8 * n / d).unwrap_or(8)
}

/// Render the L1 view of every frame.
pub fn bits(x: &Exchange) -> String {
    let mut out = String::new();
    let code = x.config.line_code;
    let per = symbols_per_octet(code);
    let _ = writeln!(
        out,
        "Line code {} at {}; symbols: + high, - low, 0 zero; bits in wire order (LSB of each octet first)",
        code.name(),
        x.config.rate
    );
    for (i, (what, f, rx, n)) in x.frames().into_iter().enumerate() {
        let _ = writeln!(
            out,
            "\nFrame {} ({what}): {} octets on the wire, {} symbols",
            i + 1,
            f.bytes.len() + 8,
            f.signal.symbols.len()
        );
        let _ = writeln!(out, "  octet  part          hex  bits      symbols");
        let spans = frame_map(&rx.records, n, f.bytes.len());
        let wire: Vec<u8> = PREAMBLE.iter().copied().chain([SFD]).chain(f.bytes.iter().copied()).collect();
        for (k, &b) in wire.iter().enumerate() {
            let part = if k < 7 {
                "preamble".to_string()
            } else if k == 7 {
                "SFD".to_string()
            } else {
                let off = k - 8;
                spans
                    .iter()
                    .rev()
                    .find(|s| (s.start..s.end).contains(&off))
                    .map_or_else(|| "frame".to_string(), |s| s.label.clone())
            };
            let bit_str: String = (0..8).map(|j| if b >> j & 1 == 1 { '1' } else { '0' }).collect();
            let syms = levels_to_string(f.signal.symbols.get(k * per..).map_or(&[][..], |s| &s[..per.min(s.len())]));
            let pos = if k < 8 { format!("-{}", 8 - k) } else { format!("{}", k - 8) };
            let _ = writeln!(out, "  {pos:>5}  {part:<12}  {b:02x}   {bit_str}  {syms}");
        }
        let rest = f.signal.symbols.len().saturating_sub(wire.len() * per);
        if rest > 0 {
            let syms = levels_to_string(&f.signal.symbols[wire.len() * per..]);
            let what = match code {
                LineCode::FourBFiveB | LineCode::Mlt3 => "end-of-stream delimiter /T/R/",
                _ => "after the frame",
            };
            let _ = writeln!(out, "  {:>5}  {what}: {syms}", "");
        }
        if matches!(code, LineCode::FourBFiveB | LineCode::Mlt3) {
            let _ = writeln!(out, "  (the first preamble octet is sent as the start-of-stream delimiter /J/K/)");
        }
    }
    if let Some(e) = &x.received.error {
        let _ = writeln!(out, "\nReceiver error: {e}");
    }
    out
}
