//! Text encoding: the application's UTF-8 text (RFC 3629) as UTF-8, UTF-16 big-endian opened by
//! the byte order mark FE FF (RFC 2781), or ISO-8859-1.
//!
//! Going down, [`encode`] re-encodes one unit. Going up, [`TextDecoder`] decodes the byte stream
//! piece by piece: a UTF-16 code unit, a surrogate pair or the byte order mark itself may be split
//! between two TCP segments, and the byte order mark opens the stream (each direction's first unit
//! carries it).
//!
//! About the label: RFC 2781 §3.3 says text labelled "UTF-16BE" must not start with a byte order
//! mark; text labelled "UTF-16" may, and FE FF says it is big-endian (§3.2, §4.3). What this layer
//! sends — big-endian with FE FF first — is therefore "UTF-16", and traces name it
//! "UTF-16 (big-endian, byte order mark FE FF)". The CLI value `utf-16be` and the variant
//! [`TextEncoding::Utf16Be`] keep their names. On receive, RFC 2781 §4.3 would read text without a
//! byte order mark as big-endian; osilab refuses it instead (its own strictness: its sender always
//! opens the stream with the mark, so a stream without one is not one it sent, or lost its start).

use super::TextEncoding;
use crate::error::{Error, Result};
use crate::layer::LayerId;

const L6: LayerId = LayerId::Presentation;

/// RFC 2781 §3.2: the byte order mark U+FEFF, big-endian.
pub const BOM_BE: [u8; 2] = [0xfe, 0xff];

impl TextEncoding {
    /// The name in traces (the `presentation.encoding` field): "UTF-16 (big-endian, byte order
    /// mark FE FF)", not "UTF-16", a label RFC 2781 §3.3 keeps for text without the mark.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf16Be => "UTF-16 (big-endian, byte order mark FE FF)",
            TextEncoding::Latin1 => "ISO-8859-1",
        }
    }

    /// The short name, in summaries and as the protocol of errors ("UTF-16").
    pub fn short_name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf16Be => "UTF-16",
            TextEncoding::Latin1 => "ISO-8859-1",
        }
    }

    /// The standard that defines it.
    pub fn standard(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "RFC 3629",
            TextEncoding::Utf16Be => "RFC 2781",
            TextEncoding::Latin1 => "ISO/IEC 8859-1",
        }
    }

    /// The title of its records: "Text encoding: UTF-8 (RFC 3629)".
    pub fn title(self) -> String {
        match self {
            TextEncoding::Utf16Be => format!("Text encoding: {}, {}", self.name(), self.standard()),
            _ => format!("Text encoding: {} ({})", self.name(), self.standard()),
        }
    }
}

/// UTF-16 big-endian (RFC 2781 §2, §3.1): each character as one big-endian code unit, or above
/// U+FFFF as a surrogate pair (§2.1); with `bom`, the byte order mark FE FF first (§3.2), which
/// makes it text labelled "UTF-16" (§4.3), not "UTF-16BE" (§3.3: no mark).
pub fn encode_utf16be(text: &str, bom: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * text.len() + 2);
    if bom {
        out.extend_from_slice(&BOM_BE);
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

/// ISO-8859-1: one byte per character, U+0000..=U+00FF only; any other character is an error
/// naming it and its index (in characters).
pub fn encode_latin1(text: &str) -> Result<Vec<u8>> {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            u8::try_from(u32::from(c)).map_err(|_| {
                Error::invalid(
                    L6,
                    "ISO-8859-1",
                    None,
                    format!("character {i} of the text"),
                    "U+0000..=U+00FF",
                    format!("{} cannot be represented in ISO-8859-1", crate::trace::char_name(c)),
                )
            })
        })
        .collect()
}

/// Encode one unit of text (`bom`: whether it opens a UTF-16 stream).
pub fn encode(text: &str, enc: TextEncoding, bom: bool) -> Result<Vec<u8>> {
    match enc {
        TextEncoding::Utf8 => Ok(text.as_bytes().to_vec()),
        TextEncoding::Utf16Be => Ok(encode_utf16be(text, bom)),
        TextEncoding::Latin1 => encode_latin1(text),
    }
}

/// What one piece decoded to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The text as UTF-8 (for UTF-8 on the wire: the bytes as they came).
    pub bytes: Vec<u8>,
    /// Characters completed in this piece (`None` when the bytes are not UTF-8 text).
    pub characters: Option<usize>,
    /// Whether the byte order mark was completed in this piece.
    pub bom: bool,
    /// How many bytes of the byte order mark this piece held (0, 1 or 2: the mark may be split
    /// between pieces, FE in one and FF in the next). They are its first bytes.
    pub bom_bytes: usize,
    /// Bytes held for the next piece (half a code unit, a high surrogate, part of a UTF-8 sequence).
    pub held: usize,
}

/// The receiving side of one direction's text stream.
#[derive(Debug, Clone)]
pub struct TextDecoder {
    enc: TextEncoding,
    /// UTF-16: whether the byte order mark has been read.
    started: bool,
    /// Bytes of an incomplete code unit (UTF-16) or sequence (UTF-8), with their frame offsets.
    pending: Vec<u8>,
    pending_at: Option<usize>,
    /// UTF-16: a high surrogate waiting for its low half, and where it was.
    high: Option<(u16, Option<usize>)>,
}

impl TextDecoder {
    /// A decoder for text in `enc`.
    pub fn new(enc: TextEncoding) -> Self {
        TextDecoder { enc, started: false, pending: Vec::new(), pending_at: None, high: None }
    }

    /// True while part of a character is held.
    pub fn holding(&self) -> bool {
        self.enc != TextEncoding::Utf8 && (!self.pending.is_empty() || self.high.is_some())
    }

    /// Decode a piece of the stream whose first byte is at frame offset `base` when known.
    /// `end_of_unit`: the piece ends a unit (a decompressed stream), so nothing may be left half
    /// done.
    pub fn push(&mut self, input: &[u8], base: Option<usize>, end_of_unit: bool) -> Result<Decoded> {
        match self.enc {
            TextEncoding::Utf8 => Ok(self.push_utf8(input, end_of_unit)),
            TextEncoding::Latin1 => {
                // ISO-8859-1: byte n is U+00nn.
                let s: String = input.iter().map(|&b| char::from(b)).collect();
                Ok(Decoded { bytes: s.into_bytes(), characters: Some(input.len()), bom: false, bom_bytes: 0, held: 0 })
            }
            TextEncoding::Utf16Be => self.push_utf16(input, base, end_of_unit),
        }
    }

    /// UTF-8 passes as it is; the decoder only counts characters, carrying a sequence split
    /// between pieces, and says when the bytes are not UTF-8 at all.
    fn push_utf8(&mut self, input: &[u8], end_of_unit: bool) -> Decoded {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(input);
        let characters = match std::str::from_utf8(&buf) {
            Ok(s) => Some(s.chars().count()),
            // An incomplete sequence at the end: count what is complete, carry the rest.
            Err(e) if e.error_len().is_none() && !end_of_unit => {
                let n = std::str::from_utf8(&buf[..e.valid_up_to()]).map_or(0, |s| s.chars().count());
                self.pending = buf[e.valid_up_to()..].to_vec();
                Some(n)
            }
            Err(_) => None,
        };
        Decoded { bytes: input.to_vec(), characters, bom: false, bom_bytes: 0, held: self.pending.len() }
    }

    fn push_utf16(&mut self, input: &[u8], base: Option<usize>, end_of_unit: bool) -> Result<Decoded> {
        let mut text = String::new();
        let mut characters = 0;
        let mut bom = false;
        let mut bom_bytes = 0;
        // Bytes held from an earlier piece sit in an earlier frame: no offset in this one.
        self.pending_at = None;
        if let Some((_, at)) = &mut self.high {
            *at = None;
        }
        for (i, &b) in input.iter().enumerate() {
            if self.pending.is_empty() {
                self.pending_at = base.map(|o| o + i);
            }
            if !self.started {
                // Until the mark is read, every byte is one of its two.
                bom_bytes += 1;
            }
            self.pending.push(b);
            if self.pending.len() < 2 {
                continue;
            }
            let unit = u16::from_be_bytes([self.pending[0], self.pending[1]]);
            let at = self.pending_at;
            self.pending.clear();
            if !self.started {
                // RFC 2781 §3.2, §4.3: FE FF first says big-endian. §4.3 would read a stream
                // without a mark as big-endian; osilab's sender always sends one, and refusing a
                // stream without it is osilab's own strictness.
                if unit != 0xfeff {
                    let found = if unit == 0xfffe {
                        "FF FE: a little-endian byte order mark".to_string()
                    } else {
                        format!("{:02X} {:02X}: no byte order mark", unit >> 8, unit & 0xff)
                    };
                    return Err(Error::invalid(
                        L6,
                        "UTF-16",
                        at,
                        "UTF-16 byte order mark (RFC 2781 §3.2)",
                        "FE FF (osilab requires it: its sender always opens the stream with it, where RFC 2781 §4.3 would read text without one as big-endian)",
                        found,
                    ));
                }
                self.started = true;
                bom = true;
                continue;
            }
            // RFC 2781 §2.2: decoding surrogate pairs.
            match (self.high.take(), unit) {
                (Some((hi, _)), 0xdc00..=0xdfff) => {
                    let c = 0x10000 + ((u32::from(hi) - 0xd800) << 10) + (u32::from(unit) - 0xdc00);
                    text.extend(char::from_u32(c));
                    characters += 1;
                }
                (Some((hi, hi_at)), _) => return Err(unpaired(hi, hi_at, "not followed by a low surrogate")),
                (None, 0xd800..=0xdbff) => self.high = Some((unit, at)),
                (None, 0xdc00..=0xdfff) => return Err(unpaired(unit, at, "without a high surrogate before it")),
                (None, _) => {
                    text.extend(char::from_u32(u32::from(unit)));
                    characters += 1;
                }
            }
        }
        if end_of_unit {
            if !self.pending.is_empty() {
                return Err(Error::truncated(
                    L6,
                    "UTF-16",
                    self.pending_at,
                    "UTF-16 code unit at the end of the unit (RFC 2781 §2: two bytes each)",
                    2,
                    self.pending.len(),
                ));
            }
            if let Some((hi, at)) = self.high {
                return Err(unpaired(hi, at, "at the end of the unit"));
            }
        }
        let held = self.pending.len() + if self.high.is_some() { 2 } else { 0 };
        Ok(Decoded { bytes: text.into_bytes(), characters: Some(characters), bom, bom_bytes, held })
    }
}

impl TextDecoder {
    /// The stream has ended: an error for what is left half done (a byte of a code unit or of the
    /// byte order mark, a high surrogate without its low half), `Ok` when nothing is.
    pub fn finish(&self) -> Result<()> {
        if self.enc != TextEncoding::Utf16Be {
            return Ok(());
        }
        if !self.pending.is_empty() {
            let what = if self.started {
                "UTF-16 code unit at the end of the stream (RFC 2781 §2: two bytes each)"
            } else {
                "UTF-16 byte order mark at the end of the stream (RFC 2781 §3.2: FE FF)"
            };
            return Err(Error::truncated(L6, "UTF-16", None, what, 2, self.pending.len()));
        }
        if let Some((hi, _)) = self.high {
            return Err(unpaired(hi, None, "at the end of the stream"));
        }
        Ok(())
    }
}

fn unpaired(unit: u16, at: Option<usize>, why: &str) -> Error {
    Error::invalid(
        L6,
        "UTF-16",
        at,
        "UTF-16 surrogate (RFC 2781 §2.2)",
        "a high surrogate (D800–DBFF) followed by a low one (DC00–DFFF)",
        format!("unpaired surrogate {unit:04X} {why}"),
    )
}
