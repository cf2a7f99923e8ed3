//! L6 presentation: the transforms the OSI model gives this layer, applied in this order going
//! down and undone in reverse going up: text encoding, compression, encryption.
//!
//! CONTRACT (used by the stack and the CLI; keep these names and signatures):
//! - `TextEncoding` (FromStr: utf-8|utf-16be|iso-8859-1), `Compression` (FromStr: none|deflate|gzip),
//!   `PresentationConfig`, `Presentation::new(cfg) -> Result<Self>`, `impl Layer for Presentation`.
//!
//! Added: [`seal_record`] (one record: the only place records are sealed), [`open_record`],
//! [`derive_direction_keys`], [`hkdf_expand_label`] ([`tls`]); [`compress()`], [`decompress()`], [`Inflater`] ([`mod@compress`]); [`text::encode`],
//! [`TextDecoder`] ([`text`]).
//!
//! Each direction is one stream (as TLS and TCP are): the UTF-16 byte order mark opens it (only
//! the first unit carries it), TLS records are numbered from 0 (and never past 2^64 − 1), and
//! going up every stage streams: a TLS record, a compressed stream or a UTF-16 code unit split
//! between TCP segments is held (`Ok(None)`, [`Layer::holding`]) until it is whole; when the
//! stream ends with something held, [`Layer::finish`] reports it cut short. Each unit going down
//! is one complete compressed stream, so on the way up the end of a stream is the end of a unit.
//!
//! Records: one per transform applied (protocol `presentation` for text and compression, `tls`
//! for each TLS record, with Wireshark's `tls.record.*` / `tls.app_data` fields), or one saying
//! none applied.

pub mod compress;
#[cfg(test)]
mod tests;
pub mod text;
pub mod tls;

pub use compress::{compress, decompress, Inflater};
pub use text::TextDecoder;
pub use tls::{derive_direction_keys, hkdf_expand_label, open_record, seal_record, RecordHeader, RecordReader};

use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Meta, Part, Pdu, PduName};
use crate::trace::{hex_preview, Check, Direction, Field, Record, Value};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How text is represented as bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TextEncoding {
    /// UTF-8 (RFC 3629): the application's text as it is.
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-16, big-endian, the stream opened by the byte order mark FE FF (RFC 2781 §3.2, §4.3).
    /// That is text labelled "UTF-16": RFC 2781 §3.3 says text labelled "UTF-16BE" must not start
    /// with a byte order mark, so traces name it "UTF-16 (big-endian, byte order mark FE FF)"
    /// (the variant and the CLI value `utf-16be` keep the old name).
    #[serde(rename = "utf-16be")]
    Utf16Be,
    /// ISO-8859-1 (Latin-1): one byte per character, U+0000..=U+00FF only.
    #[serde(rename = "iso-8859-1")]
    Latin1,
}

/// Compression of the (encoded) data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// None.
    None,
    /// Raw DEFLATE (RFC 1951).
    Deflate,
    /// gzip (RFC 1952).
    Gzip,
}

/// L6 configuration. Its `Debug` shows no key.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PresentationConfig {
    /// Whether the application's data is text (chat lines, raw data) or octets (DNS messages;
    /// HTTP messages, RFC 9112 §2.2, whose body's charset is declared in Content-Type):
    /// only text is re-encoded.
    pub text: bool,
    /// The text encoding on the wire.
    pub encoding: TextEncoding,
    /// The compression.
    pub compression: Compression,
    /// A pre-shared 256-bit secret: encrypt each unit with ChaCha20-Poly1305 (RFC 8439) in TLS 1.3
    /// application-data records (RFC 8446 §5.2).
    #[serde(skip)]
    pub key: Option<[u8; 32]>,
    /// This endpoint ("192.0.2.1:51000") and its peer: each direction of the dialogue gets its own
    /// key and IV, derived from the secret and the sending endpoint.
    pub local: String,
    /// The peer endpoint.
    pub remote: String,
    /// The connection's identity (the stack passes the dialogue and a per-connection nonce drawn
    /// from the seed), at most 255 bytes: the context of the HKDF-Expand-Label that derives each
    /// direction's secret, where TLS 1.3 puts a transcript hash (RFC 8446 §7.1). Without it, two
    /// connections under the same key would seal their first records under the same key and
    /// nonce. Empty: the same keys on every connection.
    #[serde(skip)]
    pub context: Vec<u8>,
}

impl fmt::Debug for PresentationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentationConfig")
            .field("text", &self.text)
            .field("encoding", &self.encoding)
            .field("compression", &self.compression)
            .field("key", &self.key.map(|_| "<redacted>"))
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("context", &hex_preview(&self.context, 32))
            .finish()
    }
}

/// The presentation layer: one direction's state each way (the UTF-16 byte order mark sent, the
/// record sequence numbers, the receive buffers of the TLS records, the inflater and the text
/// decoder). Not `Clone`: the inflater's stream state cannot be copied. Its `Debug` shows no key
/// or IV.
pub struct Presentation {
    cfg: PresentationConfig,
    /// Whether the first unit (which carries the UTF-16 byte order mark) has gone down.
    sent_first: bool,
    /// Key and IV of what this end sends (derived from `cfg.local`).
    tx: Option<([u8; 32], [u8; 12])>,
    /// The next record's sequence number; `None` once 2^64 − 1 has been used (RFC 8446 §5.3).
    tx_seq: Option<u64>,
    /// Reader of what the peer sends (keys derived from `cfg.remote`).
    rx: Option<RecordReader>,
    inflater: Inflater,
    decoder: TextDecoder,
}

impl fmt::Debug for Presentation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presentation")
            .field("cfg", &self.cfg)
            .field("sent_first", &self.sent_first)
            .field("tx", &self.tx.map(|_| "<redacted>"))
            .field("tx_seq", &self.tx_seq)
            .field("rx", &self.rx)
            .field("inflater", &self.inflater)
            .field("decoder", &self.decoder)
            .finish()
    }
}

/// RFC 8446 §7.1: the label "tls13 osilab " + endpoint must fit in 255 bytes.
const MAX_ENDPOINT_NAME: usize = tls::MAX_LABEL - tls::LABEL_PREFIX.len() - tls::DIRECTION_LABEL.len();

impl Presentation {
    /// A presentation layer, or a config error (a text encoding for binary data; an endpoint name
    /// too long for an HKDF label).
    pub fn new(cfg: PresentationConfig) -> Result<Self> {
        if !cfg.text && cfg.encoding != TextEncoding::Utf8 {
            return Err(Error::config(
                Some(L6),
                format!(
                    "this application's messages are octets, not text (DNS; HTTP, RFC 9112 §2.2): no text encoding ({} applies to chat lines and raw text)",
                    cfg.encoding.short_name()
                ),
            ));
        }
        if cfg.key.is_some() {
            for e in [&cfg.local, &cfg.remote] {
                if e.len() > MAX_ENDPOINT_NAME {
                    return Err(Error::config(
                        Some(L6),
                        format!("endpoint name {e:?} is too long for an HKDF label (RFC 8446 §7.1: 255 bytes)"),
                    ));
                }
            }
            if cfg.context.len() > tls::MAX_CONTEXT {
                return Err(Error::config(
                    Some(L6),
                    format!(
                        "connection context of {} bytes is too long for an HKDF context (RFC 8446 §7.1: {} bytes)",
                        cfg.context.len(),
                        tls::MAX_CONTEXT
                    ),
                ));
            }
        }
        let (tx, rx) = match cfg.key {
            Some(psk) => {
                let (k, iv) = derive_direction_keys(&psk, &cfg.remote, &cfg.context)?;
                (Some(derive_direction_keys(&psk, &cfg.local, &cfg.context)?), Some(RecordReader::new(k, iv)))
            }
            None => (None, None),
        };
        Ok(Presentation {
            inflater: Inflater::new(cfg.compression),
            decoder: TextDecoder::new(cfg.encoding),
            sent_first: false,
            tx,
            tx_seq: Some(0),
            rx,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PresentationConfig {
        &self.cfg
    }

    /// Text going down: UTF-8 from L7, re-encoded.
    fn encode_text(&mut self, bytes: Vec<u8>, cx: &mut Context) -> Result<Vec<u8>> {
        let enc = self.cfg.encoding;
        let mut r = record(Direction::Down, enc.title());
        let before = bytes.len();
        let (out, characters, bom) = match std::str::from_utf8(&bytes) {
            Ok(s) => {
                let bom = enc == TextEncoding::Utf16Be && !self.sent_first;
                (text::encode(s, enc, bom)?, Some(s.chars().count()), bom)
            }
            // Not text after all: UTF-8 leaves the bytes alone; nothing else can re-encode them.
            Err(e) if enc == TextEncoding::Utf8 => {
                r.notes.push(format!("not UTF-8 text: passed as bytes (byte {} is not UTF-8)", e.valid_up_to()));
                (bytes, None, false)
            }
            Err(e) => {
                let at = e.valid_up_to();
                return Err(Error::invalid(
                    L6,
                    enc.short_name(),
                    None,
                    format!("text at byte {at} of the message"),
                    format!("UTF-8 text (RFC 3629) to re-encode as {}", enc.short_name()),
                    format!("0x{:02x}, not UTF-8", bytes.get(at).copied().unwrap_or(0)),
                ));
            }
        };
        let bom_len = if bom { text::BOM_BE.len() } else { 0 };
        r.summary = match characters {
            Some(n) if enc == TextEncoding::Utf8 => format!("{n} characters → {} bytes (UTF-8)", out.len()),
            Some(n) => format!("{n} characters, {before} bytes of UTF-8 → {} bytes ({})", out.len(), enc.short_name()),
            None => format!("{before} bytes → {} bytes (not text)", out.len()),
        };
        if bom {
            r.summary.push_str(", byte order mark FE FF first");
            r.notes.push(
                "the byte order mark FE FF opens the UTF-16 stream: big-endian (RFC 2781 §3.2); text labelled \"UTF-16BE\" would carry none (§3.3)"
                    .into(),
            );
        }
        r.header = 0..bom_len;
        r.payload_len = out.len() - bom_len;
        r.overhead = bom_len;
        text_fields(&mut r, enc, characters, before, out.len());
        cx.trace.push(r);
        Ok(out)
    }

    /// Compression going down: one complete stream per unit.
    fn compress(&mut self, bytes: Vec<u8>, cx: &mut Context) -> Result<Vec<u8>> {
        let c = self.cfg.compression;
        let out = compress::compress(&bytes, c)?;
        let mut r = record(Direction::Down, compression_title(c));
        let gzip_header = match c {
            Compression::Gzip => compress::parse_gzip_header(&out)?.map(|h| h.len),
            _ => None,
        };
        compression_sizes(&mut r, gzip_header, out.len());
        r.summary = format!(
            "{} bytes → {} bytes ({}, {} of the original)",
            bytes.len(),
            out.len(),
            c.name(),
            ratio(out.len(), bytes.len())
        );
        compression_fields(&mut r, c, bytes.len(), out.len(), out.len(), bytes.len());
        cx.trace.push(r);
        Ok(out)
    }

    /// Encryption going down: one TLS record per 2^14 bytes (RFC 8446 §5.1), each sealed by
    /// [`seal_record`]; an empty unit is one record of just the inner content type (RFC 8446 §5.4
    /// allows it).
    fn encrypt(&mut self, bytes: Vec<u8>, cx: &mut Context) -> Result<Vec<u8>> {
        let Some((key, iv)) = self.tx else { return Ok(bytes) };
        let mut chunks: Vec<&[u8]> = bytes.chunks(tls::MAX_PLAINTEXT).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let count = chunks.len();
        let mut out = Vec::with_capacity(bytes.len() + count * (tls::HEADER_LEN + 1 + tls::TAG_LEN));
        for (i, chunk) in chunks.into_iter().enumerate() {
            // RFC 8446 §5.3: the sequence number never wraps.
            let Some(seq) = self.tx_seq else { return Err(tls::sequence_exhausted("sent")) };
            let sealed = seal_record(&key, &iv, seq, chunk)?;
            let mut r = tls_record(Direction::Down, &sealed, chunk.len(), seq, tls::record_nonce(&iv, seq));
            if count > 1 {
                r.part = Some(Part { index: i + 1, count });
            }
            r.notes.push(if self.cfg.context.is_empty() {
                format!("key and IV of the direction sent by {} (HKDF-Expand-Label, RFC 8446 §7.3)", self.cfg.local)
            } else {
                format!(
                    "key and IV of the direction sent by {} on this connection (HKDF-Expand-Label, RFC 8446 §7.3; the connection's identity, {} bytes, as the context, RFC 8446 §7.1)",
                    self.cfg.local,
                    self.cfg.context.len()
                )
            });
            cx.trace.push(r);
            out.extend_from_slice(&sealed);
            self.tx_seq = seq.checked_add(1);
        }
        Ok(out)
    }

    /// Decryption going up: whole records out of the stream. Each item: the content (no frame
    /// offset: it was encrypted).
    fn decrypt(&mut self, bytes: &[u8], base: usize, cx: &mut Context) -> Result<Vec<Vec<u8>>> {
        let Some(rx) = self.rx.as_mut() else { return Ok(vec![bytes.to_vec()]) };
        let opened = rx.push(bytes, Some(base))?;
        let mut out = Vec::with_capacity(opened.len());
        for o in opened {
            let mut wire = o.header.emit().to_vec();
            wire.extend_from_slice(&o.encrypted);
            let mut r = tls_record(Direction::Up, &wire, o.content.len(), o.seq, o.nonce);
            r.checks.push(Check::new(
                "presentation.tag.status",
                "Poly1305 tag (RFC 8439 §2.8)",
                true,
                format!("verified with the key of the direction sent by {}", self.cfg.remote),
            ));
            if o.at.is_none() {
                r.notes.push("record put together from several pieces of the stream".into());
            }
            cx.trace.push(r);
            out.push(o.content);
        }
        if rx.held() > 0 {
            let mut r = Record::new(L6, Direction::Up, "tls", "Transport Layer Security", PduName::Data);
            let missing = rx.missing();
            r.summary = format!("part of a TLS record: {} bytes held, waiting for {missing} more bytes", rx.held());
            r.notes.push(format!("waiting for {missing} more bytes (5-byte header + length, RFC 8446 §5.1)"));
            cx.trace.push(r);
        }
        Ok(out)
    }

    /// Decompression going up: each unit whose stream ended (the unit ends there).
    fn decompress(&mut self, chunk: &[u8], base: Option<usize>, cx: &mut Context) -> Result<Vec<Vec<u8>>> {
        let c = self.cfg.compression;
        let units = self.inflater.push(chunk, base)?;
        let mut out = Vec::with_capacity(units.len());
        for u in units {
            let mut r = record(Direction::Up, compression_title(c));
            compression_sizes(&mut r, u.gzip.as_ref().map(|(h, _)| h.len), u.compressed);
            r.summary = format!(
                "{} bytes → {} bytes ({}, compressed to {} of the original)",
                u.compressed,
                u.data.len(),
                c.name(),
                ratio(u.compressed, u.data.len())
            );
            compression_fields(&mut r, c, u.compressed, u.data.len(), u.compressed, u.data.len());
            if let Some((_, t)) = &u.gzip {
                r.checks.push(Check::new(
                    "presentation.crc32.status",
                    "gzip CRC-32 of the data (RFC 1952 §2.3.1)",
                    t.stored_crc == t.computed_crc,
                    format!("0x{:08x} (computed 0x{:08x}), ISIZE {}", t.stored_crc, t.computed_crc, t.isize),
                ));
            }
            cx.trace.push(r);
            out.push(u.data);
        }
        if self.inflater.holding() && !chunk.is_empty() {
            let mut r = record(Direction::Up, compression_title(c));
            r.summary = format!("{} stream: {} bytes so far, waiting for its end", c.name(), self.inflater.taken());
            r.notes.push(format!("{} compressed bytes held until the stream ends", self.inflater.taken()));
            cx.trace.push(r);
        }
        Ok(out)
    }

    /// Text going up: decoded to UTF-8 for L7.
    fn decode_text(&mut self, chunk: &[u8], base: Option<usize>, end: bool, cx: &mut Context) -> Result<Vec<u8>> {
        let enc = self.cfg.encoding;
        let d = self.decoder.push(chunk, base, end)?;
        let mut r = record(Direction::Up, enc.title());
        // The bytes of the byte order mark in this piece (it may be split between pieces).
        let bom_len = d.bom_bytes.min(chunk.len());
        r.summary = match d.characters {
            Some(n) if enc == TextEncoding::Utf8 => format!("{} bytes → {n} characters (UTF-8)", chunk.len()),
            Some(n) => {
                format!(
                    "{} bytes ({}) → {n} characters, {} bytes of UTF-8",
                    chunk.len(),
                    enc.short_name(),
                    d.bytes.len()
                )
            }
            None => format!("{} bytes → {} bytes (not text)", chunk.len(), d.bytes.len()),
        };
        if d.characters.is_none() {
            r.notes.push("not UTF-8 text: passed as bytes".into());
        }
        if d.bom {
            r.notes.push("byte order mark FE FF read: big-endian (RFC 2781 §3.2, §4.3)".into());
        }
        if d.held > 0 {
            r.notes.push(format!("{} bytes of a character held for the next piece", d.held));
        }
        r.header = 0..bom_len;
        r.payload_len = chunk.len().saturating_sub(bom_len);
        r.overhead = bom_len;
        text_fields(&mut r, enc, d.characters, chunk.len(), d.bytes.len());
        cx.trace.push(r);
        Ok(d.bytes)
    }

    fn no_transform(&self, direction: Direction, len: usize, cx: &mut Context) {
        let mut r = record(direction, "Presentation: no transform");
        r.summary = format!("{len} bytes passed unchanged: no text encoding, compression or encryption");
        r.payload_len = len;
        if !self.cfg.text {
            r.notes.push("octets, not text (DNS, HTTP): no text encoding applies".into());
        }
        cx.trace.push(r);
    }
}

const L6: LayerId = LayerId::Presentation;

impl Compression {
    /// The name in traces ("gzip").
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Deflate => "DEFLATE",
            Compression::Gzip => "gzip",
        }
    }
}

fn record(direction: Direction, title: impl Into<String>) -> Record {
    Record::new(L6, direction, "presentation", title, PduName::Data)
}

fn text_fields(r: &mut Record, enc: TextEncoding, characters: Option<usize>, before: usize, after: usize) {
    r.fields.push(Field::text("presentation.encoding", "Encoding", enc.name()));
    if let Some(n) = characters {
        r.fields.push(Field::uint("presentation.characters", "Characters", n as u64));
    }
    r.fields.push(Field::uint("presentation.size_before", "Size before", before as u64));
    r.fields.push(Field::uint("presentation.size_after", "Size after", after as u64));
}

fn compression_title(c: Compression) -> String {
    match c {
        Compression::Gzip => "Compression: gzip (RFC 1952)".into(),
        _ => "Compression: raw DEFLATE (RFC 1951)".into(),
    }
}

/// The byte ranges of a compressed stream of `len` bytes: for gzip (`gzip_header`: the length of
/// its header as parsed, FEXTRA, FNAME, FCOMMENT and FHCRC included) the header and the 8-byte
/// trailer, the DEFLATE data between; raw DEFLATE is all payload.
fn compression_sizes(r: &mut Record, gzip_header: Option<usize>, len: usize) {
    if let Some(h) = gzip_header.filter(|&h| len >= h + compress::GZIP_TRAILER_LEN) {
        r.header = 0..h;
        r.trailer = Some(len - compress::GZIP_TRAILER_LEN..len);
        r.overhead = h + compress::GZIP_TRAILER_LEN;
    }
    r.payload_len = len.saturating_sub(r.overhead);
}

/// The compressed size as a share of the original ("37%").
fn ratio(compressed: usize, original: usize) -> String {
    if original == 0 {
        return "n/a".into();
    }
    format!("{}%", (compressed * 100 + original / 2) / original)
}

fn compression_fields(r: &mut Record, c: Compression, before: usize, after: usize, compressed: usize, original: usize) {
    r.fields.push(Field::text("presentation.compression", "Compression", c.name()));
    r.fields.push(Field::uint("presentation.size_before", "Size before", before as u64));
    r.fields.push(Field::uint("presentation.size_after", "Size after", after as u64));
    r.fields.push(
        Field::text("presentation.ratio", "Compressed size / original", ratio(compressed, original))
            .shown(format!("{} ({compressed} of {original} bytes)", ratio(compressed, original))),
    );
}

/// The record of one TLS record (`wire`: header + encrypted_record) carrying `content` bytes.
/// `nonce`: its per-record nonce (RFC 8446 §5.3).
fn tls_record(direction: Direction, wire: &[u8], content: usize, seq: u64, nonce: [u8; 12]) -> Record {
    let mut r = Record::new(L6, direction, "tls", "Transport Layer Security", PduName::Data);
    let header = RecordHeader::parse(wire);
    let length = header.map_or(0, |h| h.length);
    r.header = 0..tls::HEADER_LEN.min(wire.len());
    r.payload_len = content;
    r.trailer = Some(tls::HEADER_LEN + content..wire.len());
    r.overhead = wire.len().saturating_sub(content);
    let (before, after) = match direction {
        Direction::Down => (content, wire.len()),
        Direction::Up => (wire.len(), content),
    };
    r.summary = format!(
        "Application Data, seq {seq}: {before} bytes → {after} bytes ({}, {content} bytes of content)",
        tls::CIPHER
    );
    r.fields.push(
        Field::uint("tls.record.content_type", "Content Type", tls::ContentType::APPLICATION_DATA.0)
            .shown("Application Data (23)"),
    );
    r.fields.push(Field::hex("tls.record.version", "Version", tls::LEGACY_VERSION, 4).shown("TLS 1.2 (0x0303)"));
    r.fields.push(Field::uint("tls.record.length", "Length", length));
    let encrypted = wire.get(tls::HEADER_LEN..).unwrap_or_default();
    r.fields.push(
        Field::new("tls.app_data", "Encrypted Application Data", Value::Bytes(encrypted.to_vec()))
            .shown(hex_preview(encrypted, 32)),
    );
    r.fields.push(Field::text("presentation.cipher", "Cipher", tls::CIPHER).shown("ChaCha20-Poly1305 (RFC 8439)"));
    r.fields.push(Field::uint("presentation.record_seq", "Record sequence number", seq));
    r.fields.push(
        Field::new("presentation.nonce", "Nonce", Value::Bytes(nonce.to_vec()))
            .shown(format!("{} (IV XOR sequence number, RFC 8446 §5.3)", hex_preview(&nonce, 32))),
    );
    r.fields.push(Field::uint("presentation.size_before", "Size before", before as u64));
    r.fields.push(Field::uint("presentation.size_after", "Size after", after as u64));
    r.notes.push(
        "TLSInnerPlaintext = content || 23, no padding; additional data = the 5-byte header (RFC 8446 §5.2)".into(),
    );
    r
}

impl Layer for Presentation {
    fn id(&self) -> LayerId {
        L6
    }

    /// Down: text encoding, then compression, then encryption; one record per transform applied.
    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        let (mut bytes, meta) = sdu.into_bytes(L6)?;
        let mut applied = false;
        if self.cfg.text {
            bytes = self.encode_text(bytes, cx)?;
            applied = true;
        }
        if self.cfg.compression != Compression::None {
            bytes = self.compress(bytes, cx)?;
            applied = true;
        }
        if self.tx.is_some() {
            bytes = self.encrypt(bytes, cx)?;
            applied = true;
        }
        if !applied {
            self.no_transform(Direction::Down, bytes.len(), cx);
        }
        self.sent_first = true;
        Ok(vec![Pdu { data: Data::Bytes(bytes), meta }])
    }

    /// Up: decryption, then decompression, then text decoding, each streaming across pieces.
    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(L6)?;
        let encrypted = self.rx.is_some();
        let compressed = self.cfg.compression != Compression::None;
        if !encrypted && !compressed && !self.cfg.text {
            self.no_transform(Direction::Up, bytes.len(), cx);
            return Ok(Some(Pdu { data: Data::Bytes(bytes), meta }));
        }
        // Each stage's output: (bytes, frame offset of the first when still known, ends a unit).
        let mut chunks: Vec<(Vec<u8>, Option<usize>, bool)> = if encrypted {
            self.decrypt(&bytes, meta.offset, cx)?.into_iter().map(|c| (c, None, false)).collect()
        } else {
            vec![(bytes, Some(meta.offset), false)]
        };
        if compressed {
            let mut units = Vec::new();
            for (c, base, _) in chunks {
                units.extend(self.decompress(&c, base, cx)?.into_iter().map(|u| (u, None, true)));
            }
            chunks = units;
        }
        let mut out = Vec::new();
        for (c, base, end) in chunks {
            if self.cfg.text {
                out.extend(self.decode_text(&c, base, end, cx)?);
            } else {
                out.extend(c);
            }
        }
        if out.is_empty() && self.holding() {
            return Ok(None);
        }
        // Decrypted, decompressed or re-encoded bytes are no longer the frame's bytes.
        let detached = meta.detached || encrypted || compressed || self.cfg.encoding != TextEncoding::Utf8;
        Ok(Some(Pdu { data: Data::Bytes(out), meta: Meta { detached, ..meta } }))
    }

    fn holding(&self) -> bool {
        self.rx.as_ref().is_some_and(|r| r.held() > 0) || self.inflater.holding() || self.decoder.holding()
    }

    /// The stream ended: a TLS record, a compressed stream or a UTF-16 character still held can
    /// never be completed. Each stage holding something gets a record with a failed check; the
    /// error is the first stage's (a cut record leaves the stages after it cut too).
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        let mut first: Option<Error> = None;
        if let Some(rx) = self.rx.as_ref().filter(|rx| rx.held() > 0) {
            let (held, expected) = (rx.held(), rx.expected());
            let e = tls::truncated_record(held, expected);
            let mut r = Record::new(L6, Direction::Up, "tls", "Transport Layer Security", PduName::Data);
            r.summary = match expected {
                Some(n) => format!("end of the stream: {held} of the record's {n} bytes, truncated"),
                None => {
                    format!("end of the stream: {held} bytes of a record's {}-byte header, truncated", tls::HEADER_LEN)
                }
            };
            r.checks.push(Check::new(
                "presentation.tag.status",
                "Poly1305 tag (RFC 8439 §2.8)",
                false,
                "not verified: the record is truncated (RFC 8446 §5.2: bad_record_mac)",
            ));
            cx.trace.push(r);
            first.get_or_insert(e);
        }
        if self.inflater.holding() {
            let c = self.cfg.compression;
            let e = self.inflater.finish();
            let mut r = record(Direction::Up, compression_title(c));
            r.summary = format!(
                "end of the stream: the {} stream ended early, after {} bytes",
                c.name(),
                self.inflater.taken()
            );
            r.checks.push(Check::new(
                "presentation.stream.status",
                format!("end of the {} stream", c.name()),
                false,
                e.as_ref().err().map_or_else(String::new, |e| e.to_string()),
            ));
            cx.trace.push(r);
            if let Err(e) = e {
                first.get_or_insert(e);
            }
        }
        if let Err(e) = self.decoder.finish() {
            let enc = self.cfg.encoding;
            let mut r = record(Direction::Up, enc.title());
            r.summary = "end of the stream: a character cut short".into();
            r.checks.push(Check::new("presentation.text.status", "whole characters", false, e.to_string()));
            cx.trace.push(r);
            first.get_or_insert(e);
        }
        first.map_or(Ok(()), Err)
    }
}

impl FromStr for TextEncoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(TextEncoding::Utf8),
            "utf-16be" | "utf16be" | "utf-16" => Ok(TextEncoding::Utf16Be),
            "iso-8859-1" | "latin1" | "latin-1" => Ok(TextEncoding::Latin1),
            _ => Err(format!("unknown encoding {s:?}: expected utf-8, utf-16be or iso-8859-1")),
        }
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "deflate" => Ok(Compression::Deflate),
            "gzip" => Ok(Compression::Gzip),
            _ => Err(format!("unknown compression {s:?}: expected deflate or gzip")),
        }
    }
}
