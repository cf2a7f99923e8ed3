//! Output formats for an [`Exchange`]: `tree` (like `tshark -V`), `hex` (like `tshark -x`), `bits`
//! (the L1 view: octets, bits in wire order and line-coded symbols), `json` and `svg` (the
//! encapsulation drawn, [`encapsulation()`]); and the ladder diagram of a simulation
//! ([`ladder`]), osilab's other figure.

mod bits;
mod encapsulation;
mod hex;
mod json;
pub mod ladder;
pub mod svg;
mod tree;

use crate::layer::LayerId;
use crate::stack::Exchange;
use crate::trace::Record;
use std::str::FromStr;

pub use bits::bits;
pub use encapsulation::encapsulation;
pub use hex::{hex, hexdump};
pub use json::json;
pub use tree::tree;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Every layer's fields, down then up.
    Tree,
    /// Each frame's bytes, with the layers' byte ranges.
    Hex,
    /// Each frame's bits and line-coded symbols.
    Bits,
    /// Everything, machine-readable.
    Json,
    /// The encapsulation drawn as an SVG figure.
    Svg,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tree" => Ok(Format::Tree),
            "hex" => Ok(Format::Hex),
            "bits" => Ok(Format::Bits),
            "json" => Ok(Format::Json),
            "svg" => Ok(Format::Svg),
            _ => Err(format!("unknown format {s:?}: expected tree, hex, bits, json or svg")),
        }
    }
}

/// Render an exchange in a format.
pub fn render(x: &Exchange, format: Format) -> String {
    match format {
        Format::Tree => tree(x),
        Format::Hex => hex(x),
        Format::Bits => bits(x),
        Format::Json => json(x),
        Format::Svg => encapsulation(x),
    }
}

/// A named byte range inside one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What it is ("eth header", "ip header", "data", "eth trailer").
    pub label: String,
}

/// Where each layer's header and trailer sit in frame `frame` (1-based), from the receiver's
/// records (which know each PDU's offset in the frame), innermost last; and the payload that no
/// layer below the application claimed, as `data`.
pub fn frame_map(records: &[Record], frame: usize, frame_len: usize) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut payload: Option<(usize, usize)> = None;
    // L1's ranges are on the wire (preamble and SFD come before the frame's first byte).
    for r in records.iter().filter(|r| r.frame == Some(frame) && r.layer != LayerId::Physical) {
        let Some(at) = r.at else { continue };
        if r.header.end > r.header.start {
            spans.push(Span {
                start: at + r.header.start,
                end: at + r.header.end,
                label: format!("{} header", r.protocol),
            });
        }
        if let Some(t) = &r.trailer {
            spans.push(Span { start: at + t.start, end: at + t.end, label: format!("{} trailer", r.protocol) });
        }
        // The payload is what the innermost layer with a header carries.
        if r.header.end > r.header.start {
            payload = (r.payload_len > 0).then_some((at + r.header.end, at + r.header.end + r.payload_len));
        }
    }
    if let Some((s, e)) = payload {
        let e = e.min(frame_len);
        if s < e {
            spans.push(Span { start: s, end: e, label: "payload".into() });
        }
    }
    spans.sort_by_key(|s| (s.start, s.end));
    // Bytes no layer claimed: Ethernet padding up to the 60-byte minimum (L3's length field ends
    // the packet before them; IEEE 802.3 §3.2.7).
    let mut gaps = Vec::new();
    let mut covered = 0;
    for s in &spans {
        if s.start > covered {
            gaps.push(Span { start: covered, end: s.start, label: "eth padding".into() });
        }
        covered = covered.max(s.end);
    }
    if !spans.is_empty() && covered < frame_len {
        gaps.push(Span { start: covered, end: frame_len, label: "eth padding".into() });
    }
    spans.extend(gaps);
    spans.sort_by_key(|s| (s.start, s.end));
    spans
}
