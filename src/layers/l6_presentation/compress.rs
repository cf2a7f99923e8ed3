//! Compression: raw DEFLATE (RFC 1951) or gzip (RFC 1952) with flate2's default level.
//!
//! Going down, each unit is compressed as one complete stream. Going up, the streams arrive as a
//! byte stream in pieces: [`Inflater`] feeds a streaming decompressor and hands back each unit when
//! its stream ends; bytes after the end of a stream start the next one. For gzip it reads the
//! member header (RFC 1952 §2.3) itself and checks the trailer's CRC-32 and ISIZE (§2.3.1).

use super::Compression;
use crate::error::{Error, ErrorKind, Result};
use crate::layer::LayerId;
use flate2::{Decompress, FlushDecompress, Status};
use std::io::Write;

const L6: LayerId = LayerId::Presentation;

/// RFC 1952 §2.3.1: ID1, ID2 (the gzip magic).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// RFC 1952 §2.3.1: CM = 8, deflate.
pub const GZIP_CM_DEFLATE: u8 = 8;
/// The fixed part of a gzip member header (ID1 ID2 CM FLG MTIME(4) XFL OS).
pub const GZIP_HEADER_LEN: usize = 10;
/// The gzip trailer: CRC32 and ISIZE, little-endian.
pub const GZIP_TRAILER_LEN: usize = 8;
/// The largest unit this layer will inflate (a bound against decompression bombs): inflating
/// stops with an error as soon as a unit's output would pass it.
pub const MAX_UNIT: usize = 16 * 1024 * 1024;
/// The longest FNAME or FCOMMENT accepted (RFC 1952 §2.3.1 sets no limit; each is a
/// zero-terminated string, counted here with its zero byte).
pub const MAX_GZIP_STRING: usize = 64 * 1024;
/// The largest gzip header accepted: the fixed 10 bytes, a maximal FEXTRA (XLEN is 16 bits:
/// 2 + 65535 bytes), FNAME and FCOMMENT of at most [`MAX_GZIP_STRING`] bytes each, and FHCRC (2).
pub const MAX_GZIP_HEADER: usize = GZIP_HEADER_LEN + 2 + u16::MAX as usize + 2 * MAX_GZIP_STRING + 2;
/// The most compressed bytes one unit may take (gzip header and trailer included): DEFLATE's
/// stored blocks add 5 bytes per 65535 (RFC 1951 §3.2.4), so a unit of [`MAX_UNIT`] bytes never
/// needs more than this; 1 MiB of slack also covers the largest gzip header. Without a bound, a
/// stream that never ends (empty stored blocks, forever) would be taken forever.
pub const MAX_COMPRESSED: usize = MAX_UNIT + 1024 * 1024;
/// How much output each call to the DEFLATE decoder may write.
const INFLATE_STEP: usize = 32 * 1024;

// RFC 1952 §2.3.1: FLG bits.
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

/// The protocol name errors carry.
pub fn protocol(c: Compression) -> &'static str {
    match c {
        Compression::Gzip => "gzip",
        _ => "DEFLATE",
    }
}

/// Compress `data` as one complete stream (flate2, default level). `None` returns it unchanged.
pub fn compress(data: &[u8], c: Compression) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| Error::invalid(L6, protocol(c), None, "compression", "success", e.to_string());
    let level = flate2::Compression::default();
    match c {
        Compression::None => Ok(data.to_vec()),
        Compression::Deflate => {
            let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), level);
            enc.write_all(data).map_err(io)?;
            enc.finish().map_err(io)
        }
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), level);
            enc.write_all(data).map_err(io)?;
            enc.finish().map_err(io)
        }
    }
}

/// Decompress one complete stream (for tests and tools): the first unit, or an error when the
/// stream is corrupt or incomplete.
pub fn decompress(data: &[u8], c: Compression) -> Result<Vec<u8>> {
    if c == Compression::None {
        return Ok(data.to_vec());
    }
    let mut inf = Inflater::new(c);
    let mut units = inf.push(data, None)?;
    if units.is_empty() {
        return Err(Error::truncated(L6, protocol(c), None, "compressed stream", data.len() + 1, data.len()));
    }
    Ok(units.swap_remove(0).data)
}

/// A gzip member's header, as read (RFC 1952 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GzipHeader {
    /// FLG.
    pub flags: u8,
    /// MTIME (0: none).
    pub mtime: u32,
    /// XFL.
    pub xfl: u8,
    /// OS (255: unknown).
    pub os: u8,
    /// FNAME, if present.
    pub name: Option<Vec<u8>>,
    /// The header's length in bytes.
    pub len: usize,
}

/// The gzip header at the start of `b`: `Ok(None)` when more bytes are needed.
pub fn parse_gzip_header(b: &[u8]) -> Result<Option<GzipHeader>> {
    let bad = |off: usize, what: &str, exp: &str, found: String| Error::invalid(L6, "gzip", off, what, exp, found);
    if let Some(&m) = b.first() {
        if m != GZIP_MAGIC[0] {
            return Err(bad(0, "gzip ID1 (RFC 1952 §2.3.1)", "0x1f", format!("0x{m:02x}")));
        }
    }
    if let Some(&m) = b.get(1) {
        if m != GZIP_MAGIC[1] {
            return Err(bad(1, "gzip ID2 (RFC 1952 §2.3.1)", "0x8b", format!("0x{m:02x}")));
        }
    }
    if let Some(&cm) = b.get(2) {
        if cm != GZIP_CM_DEFLATE {
            return Err(bad(2, "gzip CM (RFC 1952 §2.3.1)", "8 (deflate)", cm.to_string()));
        }
    }
    if let Some(&flg) = b.get(3) {
        // RFC 1952 §2.3.1.2: a compliant decompressor must give an error if a reserved bit is set.
        if flg & FRESERVED != 0 {
            return Err(bad(3, "gzip FLG (RFC 1952 §2.3.1.2)", "reserved bits 5–7 zero", format!("0x{flg:02x}")));
        }
    }
    let [_, _, _, flags, m0, m1, m2, m3, xfl, os, ..] = *b else {
        return Ok(None);
    };
    let mut p = GZIP_HEADER_LEN;
    // RFC 1952 §2.3.1.1: FEXTRA, XLEN (2 bytes, little-endian) and XLEN bytes.
    if flags & FEXTRA != 0 {
        let Some(x) = b.get(p..p + 2) else { return Ok(None) };
        p += 2 + usize::from(u16::from_le_bytes([x[0], x[1]]));
        if b.len() < p {
            return Ok(None);
        }
    }
    let mut name = None;
    // RFC 1952 §2.3.1: FNAME, then FCOMMENT, each zero-terminated.
    for (bit, field) in [(FNAME, "gzip FNAME (RFC 1952 §2.3.1)"), (FCOMMENT, "gzip FCOMMENT (RFC 1952 §2.3.1)")] {
        if flags & bit != 0 {
            let rest = b.get(p..).unwrap_or_default();
            let Some(z) = rest.iter().position(|&c| c == 0) else {
                if rest.len() >= MAX_GZIP_STRING {
                    return Err(long_string(p, field, rest.len(), false));
                }
                return Ok(None);
            };
            if z + 1 > MAX_GZIP_STRING {
                return Err(long_string(p, field, z + 1, true));
            }
            if bit == FNAME {
                name = b.get(p..p + z).map(<[u8]>::to_vec);
            }
            p += z + 1;
        }
    }
    if flags & FHCRC != 0 {
        let Some(x) = b.get(p..p + 2) else { return Ok(None) };
        // RFC 1952 §2.3.1: CRC16 = the two least significant bytes of the CRC-32 of the header.
        let stored = u16::from_le_bytes([x[0], x[1]]);
        let computed = (crc32fast::hash(&b[..p]) & 0xffff) as u16;
        if stored != computed {
            return Err(Error {
                layer: Some(L6),
                protocol: "gzip",
                offset: Some(p),
                kind: ErrorKind::Checksum {
                    what: "gzip header CRC16 (RFC 1952 §2.3.1)".into(),
                    expected: u64::from(computed),
                    found: u64::from(stored),
                    width: 2,
                },
            });
        }
        p += 2;
    }
    Ok(Some(GzipHeader { flags, mtime: u32::from_le_bytes([m0, m1, m2, m3]), xfl, os, name, len: p }))
}

fn long_string(off: usize, field: &str, len: usize, ended: bool) -> Error {
    Error::invalid(
        L6,
        "gzip",
        off,
        field,
        format!("at most {MAX_GZIP_STRING} bytes with its zero byte (osilab's bound)"),
        if ended { format!("{len} bytes") } else { format!("{len} bytes and not ended") },
    )
}

/// A gzip member's trailer as read, and the CRC-32 computed over the inflated data
/// (RFC 1952 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GzipTrailer {
    /// CRC32 as the trailer carries it.
    pub stored_crc: u32,
    /// CRC-32 of the data as inflated here.
    pub computed_crc: u32,
    /// ISIZE as the trailer carries it.
    pub isize: u32,
}

/// One unit, inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The compressed stream's length (gzip header and trailer included).
    pub compressed: usize,
    /// The data.
    pub data: Vec<u8>,
    /// For gzip, the header read and the trailer (checked).
    pub gzip: Option<(GzipHeader, GzipTrailer)>,
}

#[derive(Debug)]
enum State {
    /// Between streams.
    Idle,
    /// Reading a gzip header.
    Header(Vec<u8>),
    /// Inflating.
    Body,
    /// Reading a gzip trailer.
    Trailer(Vec<u8>),
}

/// The streaming decompressor of one direction. (flate2's stream state cannot be cloned, so
/// neither can this.)
#[derive(Debug)]
pub struct Inflater {
    kind: Compression,
    state: State,
    inflate: Decompress,
    header: Option<GzipHeader>,
    /// Compressed bytes of the stream in progress taken so far (gzip header and trailer
    /// included).
    taken: usize,
    /// The unit being inflated.
    pub(super) out: Vec<u8>,
    /// The bounds: [`MAX_UNIT`] and [`MAX_COMPRESSED`] unless set by [`Inflater::with_limits`].
    max_unit: usize,
    max_compressed: usize,
}

impl Inflater {
    /// An inflater for streams of kind `kind`, with the bounds [`MAX_UNIT`] and
    /// [`MAX_COMPRESSED`].
    pub fn new(kind: Compression) -> Self {
        Inflater::with_limits(kind, MAX_UNIT, MAX_COMPRESSED)
    }

    /// An inflater with its own bounds: at most `max_unit` bytes inflated and `max_compressed`
    /// bytes taken per unit.
    pub fn with_limits(kind: Compression, max_unit: usize, max_compressed: usize) -> Self {
        Inflater {
            kind,
            state: State::Idle,
            inflate: Decompress::new(false),
            header: None,
            taken: 0,
            out: Vec::new(),
            max_unit,
            max_compressed,
        }
    }

    /// True while a stream is part-way in.
    pub fn holding(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// Compressed bytes of the stream in progress taken so far.
    pub fn taken(&self) -> usize {
        self.taken
    }

    /// Count `n` more compressed bytes of the stream in progress, or refuse the unit when that
    /// passes the bound (a stream that does not end within it never will, for this layer).
    fn take(&mut self, n: usize) -> Result<()> {
        self.taken += n;
        if self.taken > self.max_compressed {
            return Err(Error::invalid(
                L6,
                protocol(self.kind),
                None,
                "compressed unit",
                format!("a stream that ends within {} bytes", self.max_compressed),
                format!("{} bytes and not ended", self.taken),
            ));
        }
        Ok(())
    }

    /// The stream has ended: an error when a compressed stream is part-way in (it can never end
    /// now), `Ok` otherwise.
    pub fn finish(&self) -> Result<()> {
        let part = match &self.state {
            State::Idle => return Ok(()),
            State::Header(_) => "in its gzip header (RFC 1952 §2.3)",
            State::Body => "before its final block (RFC 1951 §3.2.3: BFINAL)",
            State::Trailer(_) => "in its gzip trailer (RFC 1952 §2.3.1: CRC32, ISIZE)",
        };
        let name = match self.kind {
            Compression::Gzip => "gzip",
            _ => "deflate",
        };
        Err(Error::invalid(
            L6,
            protocol(self.kind),
            None,
            format!("{} stream at the end of the data", protocol(self.kind)),
            "a whole stream",
            format!("the {name} stream ended early, {part}, after {} compressed bytes", self.taken()),
        ))
    }

    fn corrupt(&self, msg: String) -> Error {
        let what = match self.kind {
            Compression::Gzip => "gzip member's DEFLATE data (RFC 1951 §3.2)",
            _ => "DEFLATE stream (RFC 1951 §3.2)",
        };
        Error::invalid(L6, protocol(self.kind), None, what, "valid compressed data", format!("corrupt data: {msg}"))
    }

    /// Push a piece of the compressed byte stream, whose first byte is at frame offset `base` when
    /// known: every unit whose stream ends in it.
    pub fn push(&mut self, mut input: &[u8], base: Option<usize>) -> Result<Vec<Unit>> {
        let mut units = Vec::new();
        let total = input.len();
        while !input.is_empty() {
            let here = base.map(|b| b + total - input.len());
            match std::mem::replace(&mut self.state, State::Idle) {
                State::Idle => {
                    self.taken = 0;
                    self.out = Vec::new();
                    self.inflate.reset(false);
                    self.header = None;
                    self.state = if self.kind == Compression::Gzip { State::Header(Vec::new()) } else { State::Body };
                }
                State::Header(mut buf) => {
                    let had = buf.len();
                    buf.extend_from_slice(input);
                    let parsed = parse_gzip_header(&buf).map_err(|mut e| {
                        // Offsets of the header count from its first byte; name the frame's byte
                        // when that byte came in this piece.
                        e.offset = e.offset.and_then(|o| o.checked_sub(had)).and_then(|o| here.map(|h| h + o));
                        e
                    })?;
                    match parsed {
                        Some(h) => {
                            let used = h.len - had;
                            self.take(used)?;
                            input = &input[used..];
                            self.header = Some(h);
                            self.state = State::Body;
                        }
                        None if buf.len() > MAX_GZIP_HEADER => {
                            return Err(Error::invalid(
                                L6,
                                "gzip",
                                None,
                                "gzip header",
                                format!("at most {MAX_GZIP_HEADER} bytes"),
                                format!("{} bytes and not ended", buf.len()),
                            ));
                        }
                        None => {
                            self.take(input.len())?;
                            input = &[];
                            self.state = State::Header(buf);
                        }
                    }
                }
                State::Body => {
                    // Never more than the bound allows: one byte past it is refused.
                    let room = (self.max_compressed + 1).saturating_sub(self.taken);
                    let (used, ended) = self.inflate_some(&input[..input.len().min(room)])?;
                    self.take(used)?;
                    input = &input[used..];
                    self.state = match (ended, self.kind) {
                        (false, _) => State::Body,
                        (true, Compression::Gzip) => State::Trailer(Vec::new()),
                        (true, _) => {
                            units.push(Unit {
                                compressed: self.taken,
                                data: std::mem::take(&mut self.out),
                                gzip: None,
                            });
                            self.taken = 0;
                            State::Idle
                        }
                    };
                }
                State::Trailer(mut buf) => {
                    let n = (GZIP_TRAILER_LEN - buf.len()).min(input.len());
                    buf.extend_from_slice(&input[..n]);
                    self.take(n)?;
                    input = &input[n..];
                    if buf.len() < GZIP_TRAILER_LEN {
                        self.state = State::Trailer(buf);
                        continue;
                    }
                    // RFC 1952 §2.3.1: CRC32 of the uncompressed data, then ISIZE = its length mod 2^32.
                    let stored = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
                    let isize = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
                    let computed = crc32fast::hash(&self.out);
                    if stored != computed {
                        return Err(Error {
                            layer: Some(L6),
                            protocol: "gzip",
                            offset: None,
                            kind: ErrorKind::Checksum {
                                what: "gzip CRC32 (RFC 1952 §2.3.1)".into(),
                                expected: u64::from(computed),
                                found: u64::from(stored),
                                width: 4,
                            },
                        });
                    }
                    if isize != self.out.len() as u32 {
                        return Err(Error::invalid(
                            L6,
                            "gzip",
                            None,
                            "gzip ISIZE (RFC 1952 §2.3.1)",
                            format!("{} (the inflated length mod 2^32)", self.out.len() as u32),
                            isize.to_string(),
                        ));
                    }
                    let trailer = GzipTrailer { stored_crc: stored, computed_crc: computed, isize };
                    let header = self.header.take().map(|h| (h, trailer));
                    units.push(Unit { compressed: self.taken, data: std::mem::take(&mut self.out), gzip: header });
                    self.taken = 0;
                    self.state = State::Idle;
                }
            }
        }
        Ok(units)
    }

    /// Feed `input` to the DEFLATE decoder: (bytes it took, whether the stream ended). The output
    /// never grows past the bound plus one byte (which is refused): each call may write at most
    /// what is left of it.
    fn inflate_some(&mut self, mut input: &[u8]) -> Result<(usize, bool)> {
        let start = input.len();
        loop {
            // One byte more than the bound may be written: that byte proves the unit too long.
            let spare = INFLATE_STEP.min((self.max_unit + 1).saturating_sub(self.out.len()));
            let old = self.out.len();
            if self.out.capacity() < old + spare {
                // Doubling (amortized), but never past the bound + 1.
                let target = (2 * old).min(self.max_unit + 1).max(old + spare);
                self.out.reserve_exact(target - old);
            }
            self.out.resize(old + spare, 0);
            let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
            let result = self.inflate.decompress(input, &mut self.out[old..], FlushDecompress::None);
            let used = usize::try_from(self.inflate.total_in() - in0).unwrap_or(input.len()).min(input.len());
            let produced = usize::try_from(self.inflate.total_out() - out0).unwrap_or(0).min(spare);
            self.out.truncate(old + produced);
            let status = result.map_err(|e| self.corrupt(e.to_string()))?;
            if self.out.len() > self.max_unit {
                return Err(Error::invalid(
                    L6,
                    protocol(self.kind),
                    None,
                    "inflated unit",
                    format!("at most {} bytes", self.max_unit),
                    format!("more than {} bytes", self.max_unit),
                ));
            }
            input = &input[used..];
            if status == Status::StreamEnd {
                return Ok((start - input.len(), true));
            }
            if input.is_empty() && produced < spare {
                return Ok((start, false));
            }
            if used == 0 && produced == 0 {
                return Err(self.corrupt("the decoder made no progress".into()));
            }
        }
    }
}
