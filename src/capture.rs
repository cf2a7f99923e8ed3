//! Reading captures: classic pcap and pcapng, one frame at a time.
//!
//! [`CaptureReader`] sniffs the first four bytes of its input, then hands out [`Frame`]s that
//! borrow the reader's one record buffer: memory stays flat however large the file is (only the
//! current record is ever held; records above [`MAX_RECORD_LEN`] are refused before anything is
//! allocated, and the buffer grows with the bytes actually read, not with a length the file
//! claims). Every frame says where its record starts in the file, and every fatal error
//! names the file, the record and its byte offset, so a damaged capture can be inspected with a
//! hex editor.
//!
//! Formats (the specs a check cites are these):
//! - **pcap**: pcap-savefile(5) and draft-ietf-opsawg-pcap §4–§5: a 24-byte file header whose
//!   magic gives the byte order and the timestamp unit (0xa1b2c3d4 µs, 0xa1b23c4d ns), then
//!   records of a 16-byte header (seconds, fraction, captured length, original length) and the
//!   captured bytes. The file header is decoded by `pcap_file::pcap::PcapHeader`. The "modified"
//!   pcap of old Red Hat tcpdumps (magic 0xa1b2cd34, 24-byte record headers) is read too.
//! - **pcapng**: draft-ietf-opsawg-pcapng §3–§4: blocks of type, length, body, length again.
//!   Section Header Blocks (§4.1) give the byte order and reset the interfaces; Interface
//!   Description Blocks (§4.2) give each interface its link type, snap length and timestamp
//!   resolution (`if_tsresol`, default 10^-6 s; `if_tsoffset`); Enhanced Packet Blocks (§4.3),
//!   Simple Packet Blocks (§4.4) and the obsolete Packet Block (Appendix A) carry frames. Custom
//!   Blocks (§4.8) and systemd Journal Export Blocks are handed out as frames too, because
//!   tshark 4.0 numbers them as frames ([`FrameKind`]). Every other block (name resolution,
//!   interface statistics, decryption secrets, unknown types) is skipped without being buffered
//!   and counted in [`CaptureReader::skipped_blocks`].
//!
//! pcap-file's own readers are not used for the records: its 2.0 `PcapPacket` refuses an original
//! length above the snap length (every `tcpdump -s N` capture has them), its pcapng
//! `EnhancedPacketBlock` ignores `if_tsresol`, and its fixed 8 MB read buffer reports a larger
//! record as the end of the file. This module frames records itself, over any [`Read`].
//!
//! What is fatal (an `Error::io` naming the file): a file that is not a capture (the message
//! shows its first bytes), a record cut short by the end of the file (the message names the
//! record and the byte where it starts), a record claiming more than [`MAX_RECORD_LEN`] bytes, a
//! pcapng block whose lengths do not add up or whose packet refers to an undescribed interface,
//! and read errors. What is not: a captured length above the file's snap length or above the
//! original length (tshark reads both without complaint; the frame is handed out as captured),
//! and a frame cut by the snap length (`caplen < orig_len`), which the dissector reports.

use crate::error::{Error, Result};
use pcap_file::pcap::PcapHeader;
use pcap_file::{Endianness, TsResolution};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::ops::Range;
use std::path::Path;

/// The largest record (pcap captured length, pcapng block length) accepted: 256 MiB. Larger
/// values mean a corrupt file; refusing them keeps a bad length from allocating gigabytes.
pub const MAX_RECORD_LEN: usize = 256 * 1024 * 1024;

/// Files larger than this get a progress bar ([`progress`]).
pub const PROGRESS_MIN_BYTES: u64 = 64 * 1024 * 1024;

/// The read buffer [`CaptureReader::open`] puts in front of the file.
const FILE_BUFFER: usize = 256 * 1024;

/// The container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic libpcap.
    Pcap,
    /// pcapng.
    PcapNg,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        })
    }
}

/// Link types osilab dissects, by their LINKTYPE_ numbers
/// (<https://www.tcpdump.org/linktypes.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1): Ethernet II / 802.3 frames without FCS.
    Ethernet,
    /// LINKTYPE_RAW (101): a raw IPv4 or IPv6 packet, the version nibble says which. Some old
    /// files carry the BSD DLT_RAW values 12 or 14 instead, which are read as this too.
    RawIp,
    /// LINKTYPE_IPV4 (228): a raw IPv4 packet.
    Ipv4,
    /// LINKTYPE_IPV6 (229): a raw IPv6 packet.
    Ipv6,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2.
    LinuxSll2,
    /// Anything else, by number.
    Other(u32),
}

impl LinkType {
    /// The link type of a LINKTYPE_ number.
    pub fn from_number(n: u32) -> LinkType {
        match n {
            1 => LinkType::Ethernet,
            101 | 12 | 14 => LinkType::RawIp,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            n => LinkType::Other(n),
        }
    }

    /// The LINKTYPE_ number (101 for [`LinkType::RawIp`]).
    pub fn number(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::RawIp => 101,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Other(n) => n,
        }
    }

    /// The LINKTYPE_ name.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "ETHERNET",
            LinkType::RawIp => "RAW",
            LinkType::Ipv4 => "IPV4",
            LinkType::Ipv6 => "IPV6",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::LinuxSll2 => "LINUX_SLL2",
            LinkType::Other(_) => "unsupported",
        }
    }
}

impl fmt::Display for LinkType {
    /// "LINUX_SLL (113)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.number())
    }
}

/// What a [`Frame`] holds. tshark 4.0 numbers two kinds of pcapng block that are not packets
/// as frames too (its wiretap hands them out as records): a dissector that wants tshark's frame
/// numbers must count them, and show them as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A captured packet (pcap record; pcapng Enhanced, Simple or obsolete Packet Block).
    Packet,
    /// A pcapng Custom Block (pcapng §4.8, types 0x00000BAD and 0x40000BAD): `data` is what
    /// follows the Private Enterprise Number, padding and any options included (the block does
    /// not say where its data ends; tshark shows the same bytes).
    Custom {
        /// The Private Enterprise Number.
        pen: u32,
        /// Type 0x00000BAD (may be copied to other files) rather than 0x40000BAD.
        copy: bool,
    },
    /// A pcapng systemd Journal Export Block (type 9): `data` is one journal entry in export
    /// format, its zero padding removed; the timestamp is its `__REALTIME_TIMESTAMP`.
    SystemdJournal,
}

/// One captured frame, borrowed from the reader until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based, counting frames as tshark numbers them (packets, plus pcapng custom and journal
    /// blocks: [`FrameKind`]).
    pub number: u64,
    /// Nanoseconds since the Unix epoch; 0 when the record has none ([`Frame::has_ts`]).
    pub ts_ns: u64,
    /// False for a pcapng Simple Packet Block or Custom Block, which carry no timestamp (tshark
    /// then prints `frame.time_epoch` and the other time fields empty).
    pub has_ts: bool,
    /// A packet, or one of the pcapng blocks tshark also counts as a frame.
    pub kind: FrameKind,
    /// The link type of the interface it was captured on. For a frame that is not a
    /// [`FrameKind::Packet`] there is none, and this is `Other(block type)` (9, 0xBAD or
    /// 0x40000BAD): check `kind` first.
    pub link: LinkType,
    /// Bytes captured (`data.len()`).
    pub caplen: usize,
    /// Bytes the frame had on the wire; more than `caplen` when the snap length cut it.
    pub orig_len: usize,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Byte offset in the file of this frame's record (pcap record header / pcapng block).
    pub file_offset: u64,
}

/// A streaming reader of pcap and pcapng files.
pub struct CaptureReader<R: Read> {
    input: Input<R>,
    state: State,
    /// The current record's bytes (pcap: captured data; pcapng: block body and trailer).
    buf: Vec<u8>,
    frames: u64,
    /// Records (pcap) or blocks (pcapng) started, headers included: the number errors name.
    records: u64,
    skipped: u64,
    done: bool,
}

/// Where the bytes come from, how many were consumed, and the name errors give.
struct Input<R> {
    src: R,
    name: String,
    pos: u64,
    /// Bytes read ahead while sniffing, handed out again before `src` is read.
    pushback: Vec<u8>,
}

enum State {
    Pcap(PcapState),
    PcapNg(NgState),
}

#[derive(Clone, Copy)]
struct PcapState {
    big: bool,
    nanos: bool,
    /// 16, or 24 for the modified format.
    rec_hdr_len: usize,
    link: LinkType,
}

struct NgState {
    big: bool,
    ifaces: Vec<Iface>,
}

#[derive(Clone, Copy)]
struct Iface {
    link: LinkType,
    snaplen: u32,
    /// `if_tsresol`: bit 7 clear, 10^-n s; set, 2^-n s (pcapng §4.2).
    tsresol: u8,
    /// `if_tsoffset`, seconds.
    tsoffset: i64,
}

/// What the record readers found: the frame's fields, its bytes as a range of `buf`.
struct Found {
    ts_ns: Option<u64>,
    kind: FrameKind,
    link: LinkType,
    orig_len: usize,
    data: Range<usize>,
    offset: u64,
}

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const OBSOLETE_PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const SJE: u32 = 9;
const CUSTOM_COPY: u32 = 0x0000_0BAD;
const CUSTOM_NO_COPY: u32 = 0x4000_0BAD;

fn block_name(t: u32) -> String {
    let name = match t {
        SHB => "Section Header Block",
        IDB => "Interface Description Block",
        OBSOLETE_PB => "Packet Block",
        SPB => "Simple Packet Block",
        4 => "Name Resolution Block",
        5 => "Interface Statistics Block",
        EPB => "Enhanced Packet Block",
        SJE => "systemd Journal Export Block",
        10 => "Decryption Secrets Block",
        CUSTOM_COPY | CUSTOM_NO_COPY => "Custom Block",
        _ => return format!("type 0x{t:08x}"),
    };
    name.to_string()
}

fn u16_at(big: bool, b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) if big => u16::from_be_bytes([x, y]),
        Some(&[x, y]) => u16::from_le_bytes([x, y]),
        _ => 0,
    }
}

fn u32_at(big: bool, b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) if big => u32::from_be_bytes([w, x, y, z]),
        Some(&[w, x, y, z]) => u32::from_le_bytes([w, x, y, z]),
        _ => 0,
    }
}

fn spaced_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// A pcapng timestamp in `if_tsresol` units, plus `if_tsoffset` seconds, as nanoseconds since
/// the epoch (pcapng §4.2: bit 7 of if_tsresol clear means 10^-n s, set means 2^-n s). Clamped
/// to 0..=u64::MAX; a resolution too fine to represent gives 0.
fn ticks_to_ns(ticks: u64, tsresol: u8, tsoffset: i64) -> u64 {
    let exp = u32::from(tsresol & 0x7f);
    let per_second = if tsresol & 0x80 == 0 { 10u128.checked_pow(exp) } else { 1u128.checked_shl(exp) };
    let ns = match per_second {
        Some(p) if p > 0 => u128::from(ticks) * 1_000_000_000 / p,
        _ => 0,
    };
    let total = i128::try_from(ns).unwrap_or(i128::MAX).saturating_add(i128::from(tsoffset) * 1_000_000_000);
    u64::try_from(total.max(0)).unwrap_or(u64::MAX)
}

impl<R: Read> Input<R> {
    fn err(&self, msg: impl fmt::Display) -> Error {
        Error::io(format!("{}: {msg}", self.name))
    }

    /// Fill `out` from the pushback bytes and then the source; fewer bytes than `out.len()` only
    /// at the end of the input.
    fn fill(&mut self, out: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        if !self.pushback.is_empty() {
            let k = self.pushback.len().min(out.len());
            out[..k].copy_from_slice(&self.pushback[..k]);
            self.pushback.drain(..k);
            n = k;
        }
        while n < out.len() {
            match self.src.read(&mut out[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.err(format_args!("read error at byte {}: {e}", self.pos + n as u64))),
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Read `len` bytes into `buf` (replacing its contents); returns how many there were. The
    /// buffer grows a chunk at a time, so a truncated file that claims a huge record does not
    /// allocate what it claims.
    fn fill_vec(&mut self, buf: &mut Vec<u8>, len: usize) -> Result<usize> {
        const CHUNK: usize = 1 << 20;
        buf.clear();
        while buf.len() < len {
            let start = buf.len();
            buf.resize(start + (len - start).min(CHUNK), 0);
            let n = self.fill(&mut buf[start..])?;
            if start + n < buf.len() {
                buf.truncate(start + n);
                break;
            }
        }
        Ok(buf.len())
    }

    /// Discard `len` bytes without buffering them; returns how many there were.
    fn skip(&mut self, len: u64) -> Result<u64> {
        let mut scratch = [0u8; 4096];
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(scratch.len());
            let got = self.fill(&mut scratch[..want])?;
            if got == 0 {
                break;
            }
            left -= got as u64;
        }
        Ok(len - left)
    }
}

impl CaptureReader<BufReader<File>> {
    /// Open a capture file and read its header. Errors name the file.
    pub fn open(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(format!("{name}: cannot open: {e}")))?;
        Self::with_name(BufReader::with_capacity(FILE_BUFFER, file), name)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Read a capture from any reader (buffer it: records are read in small pieces); errors call
    /// it "capture". Sniffs the magic: pcap in either byte order with µs or ns timestamps, or a
    /// pcapng Section Header Block.
    pub fn new(r: R) -> Result<Self> {
        Self::with_name(r, "capture")
    }

    /// As [`CaptureReader::new`], naming the input `name` in errors.
    pub fn with_name(r: R, name: impl Into<String>) -> Result<Self> {
        let mut input = Input { src: r, name: name.into(), pos: 0, pushback: Vec::new() };
        let mut magic = [0u8; 4];
        let n = input.fill(&mut magic)?;
        let seen = &magic[..n];
        let state = match magic {
            _ if n == 0 => return Err(input.err("empty file (0 bytes): not a pcap or pcapng file")),
            _ if n < 4 => {
                return Err(
                    input.err(format_args!("not a pcap or pcapng file: only {n} bytes long ({})", spaced_hex(seen)))
                )
            }
            [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xcd, 0x34]
            | [0x34, 0xcd, 0xb2, 0xa1] => State::Pcap(Self::pcap_header(&mut input, magic)?),
            [0x0a, 0x0d, 0x0d, 0x0a] => State::PcapNg(NgState { big: false, ifaces: Vec::new() }),
            _ => {
                let hint = match magic {
                    [0x1f, 0x8b, ..] => " (it is gzip-compressed: gunzip it first)",
                    _ => "",
                };
                return Err(input.err(format_args!(
                    "not a pcap or pcapng file: it starts with {}, where a pcap file starts with a1 b2 c3 d4 or \
                     a1 b2 3c 4d (in either byte order) and a pcapng file with 0a 0d 0d 0a{hint}",
                    spaced_hex(seen)
                )));
            }
        };
        let format = match state {
            State::Pcap(_) => Format::Pcap,
            State::PcapNg(_) => Format::PcapNg,
        };
        let mut reader =
            CaptureReader { input, state, buf: Vec::new(), frames: 0, records: 0, skipped: 0, done: false };
        if format == Format::PcapNg {
            // Hand the magic back: the block reader reads the first Section Header Block whole.
            reader.input.pushback = magic.to_vec();
            reader.input.pos = 0;
            if let Some(Err(e)) = reader.read_block_until_frame(true) {
                return Err(e);
            }
        }
        Ok(reader)
    }

    /// The rest of the 24-byte pcap file header (pcap-savefile(5)), decoded by pcap-file.
    fn pcap_header(input: &mut Input<R>, magic: [u8; 4]) -> Result<PcapState> {
        let mut hdr = [0u8; 24];
        hdr[..4].copy_from_slice(&magic);
        let n = input.fill(&mut hdr[4..])?;
        if n < 20 {
            return Err(
                input.err(format_args!("pcap file header cut short: it needs 24 bytes, the file has only {}", 4 + n))
            );
        }
        // The modified format's header is the standard one with another magic.
        let modified = matches!(magic, [0xa1, 0xb2, 0xcd, 0x34] | [0x34, 0xcd, 0xb2, 0xa1]);
        match magic {
            [0xa1, 0xb2, 0xcd, 0x34] => hdr[..4].copy_from_slice(&[0xa1, 0xb2, 0xc3, 0xd4]),
            [0x34, 0xcd, 0xb2, 0xa1] => hdr[..4].copy_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1]),
            _ => {}
        }
        let (_, h) = PcapHeader::from_slice(&hdr).map_err(|e| input.err(format_args!("bad pcap file header: {e}")))?;
        // draft-ietf-opsawg-pcap §4: the low 16 bits are the link type; the top bits may carry
        // FCS information (Wireshark masks with 0x03ffffff too).
        let link = LinkType::from_number(u32::from(h.datalink) & 0x03ff_ffff);
        Ok(PcapState {
            big: h.endianness == Endianness::Big,
            nanos: h.ts_resolution == TsResolution::NanoSecond,
            rec_hdr_len: if modified { 24 } else { 16 },
            link,
        })
    }

    /// pcap or pcapng.
    pub fn format(&self) -> Format {
        match self.state {
            State::Pcap(_) => Format::Pcap,
            State::PcapNg(_) => Format::PcapNg,
        }
    }

    /// The name errors give the input (the path for [`CaptureReader::open`]).
    pub fn name(&self) -> &str {
        &self.input.name
    }

    /// Bytes consumed from the input so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        self.input.pos
    }

    /// pcapng blocks skipped so far because they carry no frame and no interface (name
    /// resolution, statistics, decryption secrets, custom blocks...).
    pub fn skipped_blocks(&self) -> u64 {
        self.skipped
    }

    /// The file's link type (pcap), or those of the interfaces described so far in the current
    /// pcapng section.
    pub fn link_types(&self) -> Vec<LinkType> {
        match &self.state {
            State::Pcap(p) => vec![p.link],
            State::PcapNg(n) => n.ifaces.iter().map(|i| i.link).collect(),
        }
    }

    /// The next frame; `None` at the end of the file. After an error, every later call returns
    /// `None`. Only the current record is held: the frame borrows the reader's buffer.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>>> {
        if self.done {
            return None;
        }
        let pcap = match &self.state {
            State::Pcap(p) => Some(*p),
            State::PcapNg(_) => None,
        };
        let found = match pcap {
            Some(p) => self.read_pcap_record(p),
            None => self.read_block_until_frame(false).transpose(),
        };
        match found {
            Ok(Some(f)) => {
                self.frames += 1;
                let data = self.buf.get(f.data).unwrap_or_default();
                Some(Ok(Frame {
                    number: self.frames,
                    ts_ns: f.ts_ns.unwrap_or(0),
                    has_ts: f.ts_ns.is_some(),
                    kind: f.kind,
                    link: f.link,
                    caplen: data.len(),
                    orig_len: f.orig_len,
                    data,
                    file_offset: f.offset,
                }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// "cut short" with the record number and where it starts.
    /// `what` is "record", "block" or "block (Enhanced Packet Block)"; the number is inserted.
    fn cut_short(&self, what: &str, offset: u64, needed: u64, got: u64) -> Error {
        let (kind, detail) = what.split_once(' ').unwrap_or((what, ""));
        let sep = if detail.is_empty() { "" } else { " " };
        self.input.err(format_args!(
            "cut short: {kind} {}{sep}{detail} starting at byte {offset} needs {needed} bytes, only {got} are left \
             in the file (was it still being written, or truncated?)",
            self.records
        ))
    }

    /// One pcap record (pcap-savefile(5) "Packet header"): `Ok(None)` at a clean end of file.
    fn read_pcap_record(&mut self, p: PcapState) -> Result<Option<Found>> {
        let offset = self.input.pos;
        let mut hdr_buf = [0u8; 24];
        let hdr = &mut hdr_buf[..p.rec_hdr_len];
        let n = self.input.fill(hdr)?;
        if n == 0 {
            return Ok(None);
        }
        self.records += 1;
        if n < hdr.len() {
            return Err(self.cut_short("record", offset, hdr.len() as u64, n as u64));
        }
        let (sec, frac) = (u32_at(p.big, hdr, 0), u32_at(p.big, hdr, 4));
        let (caplen, orig_len) = (u32_at(p.big, hdr, 8), u32_at(p.big, hdr, 12));
        let caplen = usize::try_from(caplen).unwrap_or(usize::MAX);
        if caplen > MAX_RECORD_LEN {
            return Err(self.input.err(format_args!(
                "record {} starting at byte {offset} claims {caplen} captured bytes, more than the {} MiB any \
                 real frame has: the file is corrupt",
                self.records,
                MAX_RECORD_LEN >> 20
            )));
        }
        let got = self.input.fill_vec(&mut self.buf, caplen)?;
        if got < caplen {
            return Err(self.cut_short(
                "record",
                offset,
                (p.rec_hdr_len + caplen) as u64,
                (p.rec_hdr_len + got) as u64,
            ));
        }
        let unit: u64 = if p.nanos { 1 } else { 1000 };
        let ts_ns = u64::from(sec).saturating_mul(1_000_000_000).saturating_add(u64::from(frac).saturating_mul(unit));
        Ok(Some(Found {
            ts_ns: Some(ts_ns),
            kind: FrameKind::Packet,
            link: p.link,
            orig_len: usize::try_from(orig_len).unwrap_or(usize::MAX),
            data: 0..caplen,
            offset,
        }))
    }

    /// Read pcapng blocks until one carries a frame (`Some(Ok)`), the file ends (`None`), or an
    /// error. With `first`, read exactly one block, which must be a Section Header Block.
    fn read_block_until_frame(&mut self, first: bool) -> Option<Result<Found>> {
        loop {
            match self.read_block(first) {
                Ok(Block::End) => return None,
                Ok(Block::Frame(f)) => return Some(Ok(f)),
                Ok(Block::Other) if first => return None,
                Ok(Block::Other) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// One pcapng block (pcapng §3.1: type, total length, body, total length).
    fn read_block(&mut self, first: bool) -> Result<Block> {
        let offset = self.input.pos;
        let mut head = [0u8; 8];
        let n = self.input.fill(&mut head)?;
        if n == 0 {
            return Ok(Block::End);
        }
        self.records += 1;
        if n < 8 {
            return Err(self.cut_short("block", offset, 8, n as u64));
        }
        let State::PcapNg(ng) = &mut self.state else { return Ok(Block::End) };
        let mut big = ng.big;
        let btype = u32_at(big, &head, 0);
        let mut body_start = 0;
        if btype == SHB {
            // §4.1: the byte-order magic after the length says how to read the length itself.
            let mut bom = [0u8; 4];
            let got = self.input.fill(&mut bom)?;
            if got < 4 {
                return Err(self.cut_short("block (Section Header Block)", offset, 12, 8 + got as u64));
            }
            big = match bom {
                [0x1a, 0x2b, 0x3c, 0x4d] => true,
                [0x4d, 0x3c, 0x2b, 0x1a] => false,
                _ => {
                    return Err(self.input.err(format_args!(
                        "block {} starting at byte {offset} is a Section Header Block with a bad byte-order magic \
                         {} (expected 1a 2b 3c 4d in either byte order)",
                        self.records,
                        spaced_hex(&bom)
                    )))
                }
            };
            body_start = 4;
        } else if first {
            return Err(self.input.err("not a pcapng file: it does not start with a Section Header Block"));
        }
        let total = u32_at(big, &head, 4);
        let total_len = usize::try_from(total).unwrap_or(usize::MAX);
        let name = block_name(btype);
        let number = self.records;
        let bad = |input: &Input<R>, why: String| {
            input.err(format_args!("block {number} ({name}) starting at byte {offset}: {why}"))
        };
        if total_len > MAX_RECORD_LEN {
            return Err(bad(
                &self.input,
                format!(
                    "its length {total} is more than the {} MiB any real block has: the file is corrupt",
                    MAX_RECORD_LEN >> 20
                ),
            ));
        }
        // §3.1: the total length is a multiple of 4 and covers at least type and both lengths.
        let min = if btype == SHB { 28 } else { 12 };
        if total_len < min || total_len % 4 != 0 {
            return Err(bad(&self.input, format!("bad block length {total} (a multiple of 4, at least {min})")));
        }
        let interesting = matches!(btype, SHB | IDB | EPB | SPB | OBSOLETE_PB | CUSTOM_COPY | CUSTOM_NO_COPY | SJE);
        // Body (after what was already read) and the trailing length.
        let rest = total_len - 8 - body_start;
        let got = if interesting {
            self.input.fill_vec(&mut self.buf, rest)?
        } else {
            let skipped = self.input.skip((rest - 4) as u64)?;
            let mut trailer = [0u8; 4];
            let t = if skipped == (rest - 4) as u64 { self.input.fill(&mut trailer)? } else { 0 };
            self.buf.clear();
            self.buf.extend_from_slice(&trailer[..t]);
            usize::try_from(skipped).unwrap_or(0) + t
        };
        if got < rest {
            let what = format!("block ({name})");
            return Err(self.cut_short(&what, offset, total_len as u64, (8 + body_start + got) as u64));
        }
        let trailer = u32_at(big, &self.buf, self.buf.len() - 4);
        if trailer != total {
            return Err(bad(
                &self.input,
                format!("its trailing length {trailer} differs from its leading length {total}"),
            ));
        }
        let body_len = self.buf.len() - 4;
        let State::PcapNg(ng) = &mut self.state else { return Ok(Block::End) };
        match btype {
            SHB => {
                // §4.1: major version 1 (minor 0, or 2 from some old writers) is all there is.
                let major = u16_at(big, &self.buf, 0);
                if major != 1 {
                    let minor = u16_at(big, &self.buf, 2);
                    return Err(bad(
                        &self.input,
                        format!("unsupported pcapng version {major}.{minor} (only 1.x exists)"),
                    ));
                }
                ng.big = big;
                ng.ifaces.clear();
                Ok(Block::Other)
            }
            IDB => {
                if body_len < 8 {
                    return Err(bad(&self.input, format!("body of {body_len} bytes, an interface needs 8")));
                }
                let mut iface = Iface {
                    link: LinkType::from_number(u32::from(u16_at(big, &self.buf, 0))),
                    snaplen: u32_at(big, &self.buf, 4),
                    tsresol: 6,
                    tsoffset: 0,
                };
                for (code, value) in Options::new(big, self.buf.get(8..body_len).unwrap_or_default()) {
                    match (code, value) {
                        // §4.2 if_tsresol (9) and if_tsoffset (14).
                        (9, [r, ..]) => iface.tsresol = *r,
                        (14, v) if v.len() == 8 => {
                            let b = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
                            iface.tsoffset = if big { i64::from_be_bytes(b) } else { i64::from_le_bytes(b) };
                        }
                        _ => {}
                    }
                }
                ng.ifaces.push(iface);
                Ok(Block::Other)
            }
            EPB | OBSOLETE_PB => {
                // §4.3 EPB: interface id (4), timestamp high, low, captured length, original
                // length. Appendix A (Packet Block): interface id (2), drops (2), then the same.
                if body_len < 20 {
                    return Err(bad(&self.input, format!("body of {body_len} bytes, a packet block needs 20")));
                }
                let if_id = if btype == EPB { u32_at(big, &self.buf, 0) } else { u32::from(u16_at(big, &self.buf, 0)) };
                let ticks = u64::from(u32_at(big, &self.buf, 4)) << 32 | u64::from(u32_at(big, &self.buf, 8));
                let caplen = u32_at(big, &self.buf, 12);
                let orig_len = u32_at(big, &self.buf, 16);
                let room = body_len - 20;
                if caplen as usize > room {
                    return Err(bad(
                        &self.input,
                        format!("its captured length {caplen} runs past the end of the block ({room} bytes of data)"),
                    ));
                }
                let Some(iface) = ng.ifaces.get(usize::try_from(if_id).unwrap_or(usize::MAX)).copied() else {
                    let k = ng.ifaces.len();
                    return Err(bad(
                        &self.input,
                        format!(
                            "its packet is from interface {if_id}, but the section describes only {k} interface(s)"
                        ),
                    ));
                };
                Ok(Block::Frame(Found {
                    ts_ns: Some(ticks_to_ns(ticks, iface.tsresol, iface.tsoffset)),
                    kind: FrameKind::Packet,
                    link: iface.link,
                    orig_len: usize::try_from(orig_len).unwrap_or(usize::MAX),
                    data: 20..20 + caplen as usize,
                    offset,
                }))
            }
            SPB => {
                // §4.4: original length, then the data, captured on the first interface; the
                // captured length is min(original length, that interface's snap length).
                if body_len < 4 {
                    return Err(bad(&self.input, format!("body of {body_len} bytes, a simple packet block needs 4")));
                }
                let Some(iface) = ng.ifaces.first().copied() else {
                    return Err(bad(&self.input, "a simple packet block before any interface is described".into()));
                };
                let orig_len = usize::try_from(u32_at(big, &self.buf, 0)).unwrap_or(usize::MAX);
                let mut caplen = orig_len.min(body_len - 4);
                if iface.snaplen > 0 {
                    caplen = caplen.min(usize::try_from(iface.snaplen).unwrap_or(usize::MAX));
                }
                Ok(Block::Frame(Found {
                    ts_ns: None,
                    kind: FrameKind::Packet,
                    link: iface.link,
                    orig_len,
                    data: 4..4 + caplen,
                    offset,
                }))
            }
            CUSTOM_COPY | CUSTOM_NO_COPY => {
                // §4.8: a Private Enterprise Number, then custom data and options that only
                // its owner can tell apart; tshark 4.0 shows all of it as a frame of data.
                if body_len < 4 {
                    return Err(bad(&self.input, format!("body of {body_len} bytes, a custom block needs 4")));
                }
                let pen = u32_at(big, &self.buf, 0);
                Ok(Block::Frame(Found {
                    ts_ns: None,
                    kind: FrameKind::Custom { pen, copy: btype == CUSTOM_COPY },
                    link: LinkType::Other(btype),
                    orig_len: body_len - 4,
                    data: 4..body_len,
                    offset,
                }))
            }
            SJE => {
                // pcapng §4.7 (systemd Journal Export Block): one entry in journal export
                // format, padded with zeros; tshark takes its time from __REALTIME_TIMESTAMP (µs).
                let entry = self.buf.get(..body_len).unwrap_or_default();
                let len = entry.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                let ts_ns = journal_realtime_us(&entry[..len]).map(|us| us.saturating_mul(1000));
                Ok(Block::Frame(Found {
                    ts_ns,
                    kind: FrameKind::SystemdJournal,
                    link: LinkType::Other(btype),
                    orig_len: len,
                    data: 0..len,
                    offset,
                }))
            }
            _ => {
                self.skipped += 1;
                Ok(Block::Other)
            }
        }
    }
}

/// The `__REALTIME_TIMESTAMP=` field of a journal entry in export format (microseconds since the
/// epoch), if it has one; like tshark, the digits it starts with ("12x" is 12).
fn journal_realtime_us(entry: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"__REALTIME_TIMESTAMP=";
    entry.split(|&b| b == b'\n').find_map(|line| {
        let value = line.strip_prefix(KEY)?;
        let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&value[..digits]).ok()?.parse().ok()
    })
}

/// What one pcapng block turned out to be.
enum Block {
    End,
    Frame(Found),
    Other,
}

/// pcapng §3.5 options: code (2), length (2), value padded to 4 bytes; `opt_endofopt` (0) or
/// the end of the block ends the list. A malformed option ends it too (the block is still used:
/// options never change how the packet data is read).
struct Options<'a> {
    big: bool,
    rest: &'a [u8],
}

impl<'a> Options<'a> {
    fn new(big: bool, rest: &'a [u8]) -> Self {
        Options { big, rest }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let code = u16_at(self.big, self.rest, 0);
        let len = usize::from(u16_at(self.big, self.rest, 2));
        if self.rest.len() < 4 || code == 0 || self.rest.len() < 4 + len {
            self.rest = &[];
            return None;
        }
        let value = &self.rest[4..4 + len];
        let padded = (4 + len + 3) & !3;
        self.rest = self.rest.get(padded..).unwrap_or_default();
        Some((code, value))
    }
}

/// A progress bar on stderr for reading a file of `total_bytes`, when stderr is a terminal and
/// the file is larger than [`PROGRESS_MIN_BYTES`]; else `None`. Update it with
/// `bar.set_position(reader.bytes_read())` (indicatif limits the redraw rate) and finish it with
/// `bar.finish_and_clear()`.
pub fn progress(total_bytes: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal as _;
    if total_bytes <= PROGRESS_MIN_BYTES || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(total_bytes), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} dissecting [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn put16(out: &mut Vec<u8>, big: bool, v: u16) {
        out.extend_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
    }

    fn put32(out: &mut Vec<u8>, big: bool, v: u32) {
        out.extend_from_slice(&if big { v.to_be_bytes() } else { v.to_le_bytes() });
    }

    /// A classic pcap file: (seconds, fraction, data, original length) per record.
    fn pcap_bytes(big: bool, nanos: bool, link: u32, snaplen: u32, recs: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        put32(&mut out, big, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        put16(&mut out, big, 2);
        put16(&mut out, big, 4);
        put32(&mut out, big, 0);
        put32(&mut out, big, 0);
        put32(&mut out, big, snaplen);
        put32(&mut out, big, link);
        for (sec, frac, data, orig) in recs {
            put32(&mut out, big, *sec);
            put32(&mut out, big, *frac);
            put32(&mut out, big, data.len() as u32);
            put32(&mut out, big, *orig);
            out.extend_from_slice(data);
        }
        out
    }

    /// A pcapng file under construction.
    struct Ng {
        big: bool,
        out: Vec<u8>,
    }

    impl Ng {
        fn new(big: bool) -> Self {
            let mut ng = Ng { big, out: Vec::new() };
            ng.shb(big);
            ng
        }

        fn shb(&mut self, big: bool) {
            self.big = big;
            let mut body = Vec::new();
            put32(&mut body, big, 0x1A2B_3C4D);
            put16(&mut body, big, 1);
            put16(&mut body, big, 0);
            body.extend_from_slice(&[0xff; 8]);
            self.block(SHB, &body);
        }

        fn block(&mut self, t: u32, body: &[u8]) {
            let padded = (body.len() + 3) & !3;
            let total = (12 + padded) as u32;
            let big = self.big;
            put32(&mut self.out, big, t);
            put32(&mut self.out, big, total);
            self.out.extend_from_slice(body);
            self.out.resize(self.out.len() + padded - body.len(), 0);
            put32(&mut self.out, big, total);
        }

        fn idb(&mut self, link: u16, snaplen: u32, opts: &[(u16, &[u8])]) {
            let big = self.big;
            let mut body = Vec::new();
            put16(&mut body, big, link);
            put16(&mut body, big, 0);
            put32(&mut body, big, snaplen);
            for (code, v) in opts {
                put16(&mut body, big, *code);
                put16(&mut body, big, v.len() as u16);
                body.extend_from_slice(v);
                body.resize((body.len() + 3) & !3, 0);
            }
            if !opts.is_empty() {
                body.extend_from_slice(&[0; 4]);
            }
            self.block(IDB, &body);
        }

        fn epb(&mut self, if_id: u32, ticks: u64, data: &[u8], orig: u32) {
            let big = self.big;
            let mut body = Vec::new();
            put32(&mut body, big, if_id);
            put32(&mut body, big, (ticks >> 32) as u32);
            put32(&mut body, big, ticks as u32);
            put32(&mut body, big, data.len() as u32);
            put32(&mut body, big, orig);
            body.extend_from_slice(data);
            self.block(EPB, &body);
        }

        fn spb(&mut self, orig: u32, data: &[u8]) {
            let mut body = Vec::new();
            put32(&mut body, self.big, orig);
            body.extend_from_slice(data);
            self.block(SPB, &body);
        }
    }

    /// Everything a frame says, owned.
    #[derive(Debug, PartialEq)]
    struct Got {
        number: u64,
        ts_ns: u64,
        has_ts: bool,
        kind: FrameKind,
        link: LinkType,
        caplen: usize,
        orig_len: usize,
        data: Vec<u8>,
        file_offset: u64,
    }

    /// All frames, and the error that ended the file if any.
    fn read_all<R: Read>(r: &mut CaptureReader<R>) -> (Vec<Got>, Option<Error>) {
        let mut got = Vec::new();
        // Bounded: a reader that never ended would fail the test, not hang it.
        for _ in 0..1_000_000 {
            match r.next_frame() {
                None => return (got, None),
                Some(Ok(f)) => got.push(Got {
                    number: f.number,
                    ts_ns: f.ts_ns,
                    has_ts: f.has_ts,
                    kind: f.kind,
                    link: f.link,
                    caplen: f.caplen,
                    orig_len: f.orig_len,
                    data: f.data.to_vec(),
                    file_offset: f.file_offset,
                }),
                Some(Err(e)) => {
                    assert!(r.next_frame().is_none(), "a reader that failed must stay ended");
                    return (got, Some(e));
                }
            }
        }
        panic!("reader did not end");
    }

    fn open_bytes(b: &[u8]) -> Result<CaptureReader<Cursor<Vec<u8>>>> {
        CaptureReader::with_name(Cursor::new(b.to_vec()), "t.pcap")
    }

    const A: &[u8] = &[0xaa; 60];
    const B: &[u8] = &[0x45, 0, 0, 20, 1, 2, 3];

    #[test]
    fn pcap_both_byte_orders_and_both_units() {
        for big in [false, true] {
            for nanos in [false, true] {
                let file =
                    pcap_bytes(big, nanos, 1, 65535, &[(1_700_000_000, 5, A, 60), (1_700_000_001, 999, B, 1500)]);
                let mut r = open_bytes(&file).unwrap();
                assert_eq!(r.format(), Format::Pcap);
                assert_eq!(r.link_types(), vec![LinkType::Ethernet]);
                let (frames, err) = read_all(&mut r);
                assert!(err.is_none(), "{err:?}");
                let unit = if nanos { 1 } else { 1000 };
                assert_eq!(
                    frames,
                    vec![
                        Got {
                            number: 1,
                            ts_ns: 1_700_000_000_000_000_000 + 5 * unit,
                            has_ts: true,
                            kind: FrameKind::Packet,
                            link: LinkType::Ethernet,
                            caplen: 60,
                            orig_len: 60,
                            data: A.to_vec(),
                            file_offset: 24,
                        },
                        Got {
                            number: 2,
                            ts_ns: 1_700_000_001_000_000_000 + 999 * unit,
                            has_ts: true,
                            kind: FrameKind::Packet,
                            link: LinkType::Ethernet,
                            caplen: 7,
                            orig_len: 1500,
                            data: B.to_vec(),
                            file_offset: 24 + 16 + 60,
                        },
                    ],
                    "big {big} nanos {nanos}"
                );
                assert_eq!(r.bytes_read(), file.len() as u64);
            }
        }
    }

    /// Files written by pcap-file's own writer read back the same.
    #[test]
    fn pcap_file_writers_cross_check() {
        use pcap_file::pcap::{PcapPacket, PcapWriter};
        use pcap_file::DataLink;
        use std::time::Duration;
        for endianness in [Endianness::Big, Endianness::Little] {
            let header = PcapHeader {
                datalink: DataLink::LINUX_SLL2,
                ts_resolution: TsResolution::NanoSecond,
                endianness,
                ..PcapHeader::default()
            };
            let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
            w.write_packet(&PcapPacket::new(Duration::new(12, 345_678_901), 20, &[7; 20])).unwrap();
            let file = w.into_writer();
            let (frames, err) = read_all(&mut open_bytes(&file).unwrap());
            assert!(err.is_none());
            assert_eq!(frames.len(), 1);
            assert_eq!((frames[0].ts_ns, frames[0].link), (12_345_678_901, LinkType::LinuxSll2));
        }

        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
        use pcap_file::pcapng::PcapNgWriter;
        for endianness in [Endianness::Big, Endianness::Little] {
            let mut w = PcapNgWriter::with_endianness(Vec::new(), endianness).unwrap();
            let mut idb = InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0);
            w.write_pcapng_block(idb.clone()).unwrap();
            idb.linktype = DataLink::IPV6;
            idb.options.push(InterfaceDescriptionOption::IfTsResol(9));
            w.write_pcapng_block(idb).unwrap();
            // pcap-file writes the timestamp's nanoseconds as ticks, whatever if_tsresol says.
            for (if_id, ticks) in [(0, 1_500_000u64), (1, 1_500_000_123)] {
                let epb = EnhancedPacketBlock {
                    interface_id: if_id,
                    timestamp: Duration::from_nanos(ticks),
                    original_len: 5,
                    data: std::borrow::Cow::Borrowed(&[1, 2, 3, 4, 5]),
                    options: vec![],
                };
                w.write_pcapng_block(epb).unwrap();
            }
            let file = w.into_inner();
            let mut r = open_bytes(&file).unwrap();
            assert_eq!(r.format(), Format::PcapNg);
            let (frames, err) = read_all(&mut r);
            assert!(err.is_none(), "{err:?}");
            let summary: Vec<_> = frames.iter().map(|f| (f.link, f.ts_ns, f.data.clone())).collect();
            assert_eq!(
                summary,
                vec![
                    (LinkType::Ethernet, 1_500_000_000, vec![1, 2, 3, 4, 5]),
                    (LinkType::Ipv6, 1_500_000_123, vec![1, 2, 3, 4, 5]),
                ]
            );
        }
    }

    #[test]
    fn modified_pcap_has_24_byte_record_headers() {
        let mut file = pcap_bytes(false, false, 1, 65535, &[]);
        file[..4].copy_from_slice(&[0x34, 0xcd, 0xb2, 0xa1]);
        for (i, d) in [A, B].iter().enumerate() {
            for v in [7, 250_000, d.len() as u32, d.len() as u32] {
                put32(&mut file, false, v);
            }
            file.extend_from_slice(&[i as u8; 8]); // ifindex, protocol, pkt_type, pad
            file.extend_from_slice(d);
        }
        let (frames, err) = read_all(&mut open_bytes(&file).unwrap());
        assert!(err.is_none());
        assert_eq!(frames.iter().map(|f| f.data.clone()).collect::<Vec<_>>(), vec![A.to_vec(), B.to_vec()]);
        assert_eq!(frames[1].file_offset, 24 + 24 + 60);
        assert_eq!(frames[0].ts_ns, 7_250_000_000);
    }

    /// Two sections; interfaces with different link types and resolutions; blocks to skip.
    fn two_interface_pcapng(big: bool) -> (Vec<u8>, Vec<u64>) {
        let mut ng = Ng::new(big);
        ng.idb(1, 0, &[]); // Ethernet, default µs
        ng.idb(101, 0, &[(2, b"raw0"), (9, &[9])]); // raw IP, ns
        let mut offsets = Vec::new();
        ng.block(4, &[0; 8]); // name resolution: skipped
        offsets.push(ng.out.len() as u64);
        ng.epb(0, 1_700_000_000_000_001, A, 60);
        offsets.push(ng.out.len() as u64);
        ng.epb(1, 1_700_000_000_000_000_002, B, 7);
        ng.block(5, &[0; 12]); // interface statistics
        ng.block(10, &[0; 5]); // decryption secrets
        offsets.push(ng.out.len() as u64);
        ng.spb(100, &[9; 100]); // on interface 0
                                // 2^-10 s ticks and an offset of -1 s.
        let off: i64 = -1;
        let off = if big { off.to_be_bytes() } else { off.to_le_bytes() };
        ng.idb(229, 64, &[(9, &[0x80 | 10]), (14, &off)]);
        offsets.push(ng.out.len() as u64);
        ng.epb(2, 3 * 1024 + 512, B, 7);
        // A new section, in the other byte order: interfaces start again.
        ng.shb(!big);
        ng.idb(113, 0, &[]);
        offsets.push(ng.out.len() as u64);
        ng.epb(0, 42, B, 7);
        (ng.out, offsets)
    }

    #[test]
    fn pcapng_interfaces_resolutions_sections_and_skipped_blocks() {
        for big in [false, true] {
            let (file, offsets) = two_interface_pcapng(big);
            let mut r = open_bytes(&file).unwrap();
            assert_eq!(r.format(), Format::PcapNg);
            let (frames, err) = read_all(&mut r);
            assert!(err.is_none(), "{err:?}");
            assert!(frames.iter().all(|f| f.kind == FrameKind::Packet));
            assert_eq!(frames.iter().map(|f| f.has_ts).collect::<Vec<_>>(), [true, true, false, true, true]);
            let got: Vec<_> = frames.iter().map(|f| (f.number, f.link, f.ts_ns, f.caplen, f.orig_len)).collect();
            assert_eq!(
                got,
                vec![
                    (1, LinkType::Ethernet, 1_700_000_000_000_001_000, 60, 60),
                    (2, LinkType::RawIp, 1_700_000_000_000_000_002, 7, 7),
                    (3, LinkType::Ethernet, 0, 100, 100),
                    (4, LinkType::Ipv6, 2_500_000_000, 7, 7),
                    (5, LinkType::LinuxSll, 42_000, 7, 7),
                ]
            );
            assert_eq!(frames.iter().map(|f| f.file_offset).collect::<Vec<_>>(), offsets);
            assert_eq!(frames[2].data, vec![9; 100]);
            assert_eq!(r.skipped_blocks(), 3);
            assert_eq!(r.link_types(), vec![LinkType::LinuxSll]);
            assert_eq!(r.bytes_read(), file.len() as u64);
        }
    }

    #[test]
    fn simple_packet_block_obeys_the_snap_length() {
        let mut ng = Ng::new(false);
        ng.idb(1, 64, &[]);
        ng.spb(1514, &[3; 100]); // 100 bytes written (more than the snap length allows)
        let (frames, err) = read_all(&mut open_bytes(&ng.out).unwrap());
        assert!(err.is_none());
        assert_eq!((frames[0].caplen, frames[0].orig_len), (64, 1514));
    }

    /// tshark 4.0 numbers custom and systemd journal blocks as frames (checked with crafted files).
    #[test]
    fn custom_and_journal_blocks_are_frames_like_in_tshark() {
        let mut ng = Ng::new(true);
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, B, 7);
        let mut custom = 32473u32.to_be_bytes().to_vec();
        custom.extend_from_slice(b"custom");
        ng.block(CUSTOM_COPY, &custom);
        ng.block(SJE, b"A=1\n__REALTIME_TIMESTAMP=1700000001500000\nMESSAGE=hi\n");
        ng.block(SJE, b"MESSAGE=no timestamp here\n");
        custom[0] = 0;
        ng.block(CUSTOM_NO_COPY, &custom);
        ng.epb(0, 2, B, 7);
        let mut r = open_bytes(&ng.out).unwrap();
        let mut seen = Vec::new();
        while let Some(f) = r.next_frame() {
            let f = f.unwrap();
            seen.push((f.number, f.kind, f.has_ts, f.ts_ns, f.data.to_vec()));
        }
        let entry = b"A=1\n__REALTIME_TIMESTAMP=1700000001500000\nMESSAGE=hi\n".to_vec();
        assert_eq!(
            seen,
            vec![
                (1, FrameKind::Packet, true, 1000, B.to_vec()),
                // The data runs to the end of the block, padding included, as tshark shows it.
                (2, FrameKind::Custom { pen: 32473, copy: true }, false, 0, b"custom\0\0".to_vec()),
                (3, FrameKind::SystemdJournal, true, 1_700_000_001_500_000_000, entry),
                (4, FrameKind::SystemdJournal, false, 0, b"MESSAGE=no timestamp here\n".to_vec()),
                (5, FrameKind::Custom { pen: 32473 & 0x00ff_ffff, copy: false }, false, 0, b"custom\0\0".to_vec()),
                (6, FrameKind::Packet, true, 2000, B.to_vec()),
            ]
        );
        assert_eq!(r.skipped_blocks(), 0);
        assert_eq!(journal_realtime_us(b"__REALTIME_TIMESTAMP=12x\n"), Some(12));
    }

    #[test]
    fn header_only_files_have_no_frames() {
        let (f, e) = read_all(&mut open_bytes(&pcap_bytes(true, false, 113, 262144, &[])).unwrap());
        assert!(f.is_empty() && e.is_none());
        let mut ng = Ng::new(false);
        let (f, e) = read_all(&mut open_bytes(&ng.out).unwrap());
        assert!(f.is_empty() && e.is_none());
        ng.idb(1, 0, &[]);
        let (f, e) = read_all(&mut open_bytes(&ng.out).unwrap());
        assert!(f.is_empty() && e.is_none());
    }

    fn err_text<T>(r: Result<T>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn not_a_capture() {
        let e = err_text(open_bytes(b"hello, world\n"));
        assert!(e.starts_with("t.pcap: not a pcap or pcapng file: it starts with 68 65 6c 6c,"), "{e}");
        let e = err_text(open_bytes(&[0x1f, 0x8b, 8, 0, 0, 0]));
        assert!(e.contains("1f 8b 08 00") && e.contains("gzip"), "{e}");
        assert_eq!(err_text(open_bytes(b"")), "t.pcap: empty file (0 bytes): not a pcap or pcapng file");
        assert_eq!(err_text(open_bytes(&[0xd4, 0xc3])), "t.pcap: not a pcap or pcapng file: only 2 bytes long (d4 c3)");
        let e = err_text(open_bytes(&pcap_bytes(false, false, 1, 65535, &[])[..10]));
        assert_eq!(e, "t.pcap: pcap file header cut short: it needs 24 bytes, the file has only 10");
        let e = err_text(open_bytes(&[0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4]));
        assert!(e.contains("bad byte-order magic 01 02 03 04"), "{e}");
    }

    #[test]
    fn truncated_pcap_names_record_and_offset() {
        let file = pcap_bytes(false, true, 1, 65535, &[(1, 0, A, 60), (2, 0, B, 7), (3, 0, A, 60)]);
        let rec2 = 24 + 16 + 60;
        let rec3 = rec2 + 16 + 7;
        for cut in 25..file.len() {
            let (frames, err) = read_all(&mut open_bytes(&file[..cut]).unwrap());
            if cut == rec2 || cut == rec3 {
                assert!(err.is_none(), "a cut between records is a clean end");
                continue;
            }
            let e = err.expect("a cut inside a record is an error").to_string();
            let (n, at, len) = if cut < rec2 {
                (1, 24, 76)
            } else if cut < rec3 {
                (2, rec2, 23)
            } else {
                (3, rec3, 76)
            };
            assert_eq!(frames.len(), n - 1);
            // A cut inside the 16-byte record header is reported against the header.
            let len = if cut - at < 16 { 16 } else { len };
            assert_eq!(
                e,
                format!(
                    "t.pcap: cut short: record {n} starting at byte {at} needs {len} bytes, only {} are left in the file \
                     (was it still being written, or truncated?)",
                    cut - at
                )
            );
        }
    }

    #[test]
    fn truncated_pcapng_is_cut_short_never_a_hang() {
        let (file, _) = two_interface_pcapng(false);
        let mut clean_ends = 0;
        for cut in 28..file.len() {
            let mut r = open_bytes(&file[..cut]).unwrap();
            let (_, err) = read_all(&mut r);
            match err {
                None => clean_ends += 1,
                Some(e) => {
                    let e = e.to_string();
                    assert!(e.contains("cut short: block") && e.contains("starting at byte"), "{e}");
                }
            }
        }
        // A clean end at each boundary before one of the 13 blocks that follow the first SHB.
        assert_eq!(clean_ends, 13);
    }

    #[test]
    fn absurd_records_are_refused_before_allocating() {
        let mut file = pcap_bytes(false, false, 1, 65535, &[(1, 0, A, 60)]);
        for v in [1, 0, 0x7fff_ffff, 0x7fff_ffff] {
            put32(&mut file, false, v);
        }
        let mut r = open_bytes(&file).unwrap();
        let (frames, err) = read_all(&mut r);
        assert_eq!(frames.len(), 1);
        assert_eq!(
            err.unwrap().to_string(),
            "t.pcap: record 2 starting at byte 100 claims 2147483647 captured bytes, more than the 256 MiB any real \
             frame has: the file is corrupt"
        );
        assert!(r.buf.capacity() < 1024);

        // A record under the limit but cut short allocates what is there, not what it claims.
        let mut file = pcap_bytes(false, false, 1, 65535, &[]);
        for v in [1, 0, 200 << 20, 200 << 20] {
            put32(&mut file, false, v);
        }
        file.extend_from_slice(&[0; 1000]);
        let mut r = open_bytes(&file).unwrap();
        let e = read_all(&mut r).1.unwrap().to_string();
        assert!(e.contains("cut short: record 1 starting at byte 24 needs 209715216 bytes, only 1016"), "{e}");
        assert!(r.buf.capacity() <= 1 << 20);

        let mut ng = Ng::new(true);
        ng.idb(1, 0, &[]);
        let at = ng.out.len();
        put32(&mut ng.out, true, EPB);
        put32(&mut ng.out, true, 0xffff_fff0);
        let mut r = open_bytes(&ng.out).unwrap();
        let e = read_all(&mut r).1.unwrap().to_string();
        assert!(e.contains(&format!("block 3 (Enhanced Packet Block) starting at byte {at}")), "{e}");
        assert!(e.contains("4294967280 is more than the 256 MiB"), "{e}");
    }

    #[test]
    fn corrupt_pcapng_blocks() {
        let check = |ng: &Ng, want: &str| {
            let e = read_all(&mut open_bytes(&ng.out).unwrap()).1.map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        };
        let mut ng = Ng::new(false);
        ng.idb(1, 0, &[]);
        ng.epb(1, 0, B, 7);
        check(&ng, "its packet is from interface 1, but the section describes only 1 interface(s)");

        let mut ng = Ng::new(false);
        ng.spb(7, B);
        check(&ng, "a simple packet block before any interface is described");

        let mut ng = Ng::new(false);
        ng.idb(1, 0, &[]);
        ng.epb(0, 0, B, 7);
        let n = ng.out.len();
        ng.out[n - 4] ^= 4;
        check(&ng, "its trailing length 44 differs from its leading length 40");

        let mut ng = Ng::new(false);
        put32(&mut ng.out, false, 6);
        put32(&mut ng.out, false, 13);
        check(&ng, "bad block length 13 (a multiple of 4, at least 12)");

        let mut ng = Ng::new(false);
        ng.idb(1, 0, &[]);
        let big_caplen = {
            let mut body = Vec::new();
            for v in [0, 0, 0, 500, 500] {
                put32(&mut body, false, v);
            }
            body
        };
        ng.block(EPB, &big_caplen);
        check(&ng, "its captured length 500 runs past the end of the block (0 bytes of data)");

        let mut ng = Ng::new(false);
        let n = ng.out.len();
        ng.out[n - 16] = 2; // major version 2
        let e = err_text(open_bytes(&ng.out));
        assert!(e.contains("unsupported pcapng version 2.0"), "{e}");
    }

    #[test]
    fn lengths_tshark_tolerates_are_not_errors() {
        // Captured length above the snap length, and above the original length.
        let file = pcap_bytes(false, false, 1, 20, &[(1, 0, A, 60), (1, 0, A, 20)]);
        let (frames, err) = read_all(&mut open_bytes(&file).unwrap());
        assert!(err.is_none());
        assert_eq!(frames.iter().map(|f| (f.caplen, f.orig_len)).collect::<Vec<_>>(), vec![(60, 60), (60, 20)]);
        // An IDB option list without opt_endofopt, and a malformed option: both tolerated.
        let mut ng = Ng::new(false);
        let mut body = Vec::new();
        put16(&mut body, false, 1);
        put16(&mut body, false, 0);
        put32(&mut body, false, 0);
        body.extend_from_slice(&[9, 0, 1, 0, 3, 0, 0, 0]); // if_tsresol 3, no end marker
        ng.block(IDB, &body);
        body.extend_from_slice(&[2, 0, 200, 0]); // if_name claiming 200 bytes
        ng.block(IDB, &body);
        ng.epb(0, 5, B, 7);
        ng.epb(1, 5, B, 7);
        let (frames, err) = read_all(&mut open_bytes(&ng.out).unwrap());
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames.iter().map(|f| f.ts_ns).collect::<Vec<_>>(), vec![5_000_000, 5_000_000]);
    }

    /// A pcap file produced on the fly: `n` records of `len` bytes.
    struct Endless {
        header: Vec<u8>,
        record: Vec<u8>,
        left: u64,
        at: usize,
    }

    impl Read for Endless {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if !self.header.is_empty() {
                let k = self.header.len().min(out.len());
                out[..k].copy_from_slice(&self.header[..k]);
                self.header.drain(..k);
                return Ok(k);
            }
            if self.left == 0 {
                return Ok(0);
            }
            let k = (self.record.len() - self.at).min(out.len());
            out[..k].copy_from_slice(&self.record[self.at..self.at + k]);
            self.at += k;
            if self.at == self.record.len() {
                self.at = 0;
                self.left -= 1;
            }
            Ok(k)
        }
    }

    #[test]
    fn memory_stays_flat_while_streaming() {
        let n = 50_000u64;
        let record = pcap_bytes(false, false, 1, 65535, &[(1, 2, &[0x5a; 200], 200)])[24..].to_vec();
        let src = Endless { header: pcap_bytes(false, false, 1, 65535, &[]), record, left: n, at: 0 };
        let mut r = CaptureReader::new(io::BufReader::new(src)).unwrap();
        let mut count = 0;
        while let Some(f) = r.next_frame() {
            let f = f.unwrap();
            assert_eq!(f.caplen, 200);
            count += 1;
        }
        assert_eq!(count, n);
        assert_eq!(r.bytes_read(), 24 + n * 216);
        assert!(r.buf.capacity() <= 256, "the reader holds one record, not the file");
    }

    #[test]
    fn timestamp_resolutions() {
        assert_eq!(ticks_to_ns(1_234_567, 6, 0), 1_234_567_000);
        assert_eq!(ticks_to_ns(1_234_567, 9, 0), 1_234_567);
        assert_eq!(ticks_to_ns(1_234_567, 12, 0), 1_234);
        assert_eq!(ticks_to_ns(3, 0, 0), 3_000_000_000);
        assert_eq!(ticks_to_ns(1 << 20, 0x80 | 20, 0), 1_000_000_000);
        assert_eq!(ticks_to_ns(5, 6, 10), 10_000_005_000);
        assert_eq!(ticks_to_ns(5, 6, -10), 0);
        assert_eq!(ticks_to_ns(u64::MAX, 0, i64::MAX), u64::MAX);
        assert_eq!(ticks_to_ns(5, 127, 0), 0);
    }

    #[test]
    fn link_types() {
        for n in [1, 101, 228, 229, 113, 276, 0, 105] {
            assert_eq!(LinkType::from_number(n).number(), n);
        }
        assert_eq!(LinkType::from_number(12), LinkType::RawIp);
        assert_eq!(LinkType::from_number(14), LinkType::RawIp);
        assert_eq!(LinkType::LinuxSll2.to_string(), "LINUX_SLL2 (276)");
    }

    #[test]
    fn open_names_the_file() {
        let dir = std::env::temp_dir().join(format!("osilab-capture-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("two.pcap");
        std::fs::write(&path, pcap_bytes(false, false, 1, 65535, &[(1, 0, A, 60), (2, 0, B, 7)])).unwrap();
        let mut r = CaptureReader::open(&path).unwrap();
        assert_eq!(r.name(), path.display().to_string());
        assert_eq!(read_all(&mut r).0.len(), 2);
        let missing = dir.join("missing.pcap");
        let e = err_text(CaptureReader::open(&missing));
        assert!(e.starts_with(&format!("{}: cannot open: ", missing.display())), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any bytes after a valid start: frames and at most one error, never a panic or a hang.
        #[test]
        fn any_input_ends(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
                          ng in proptest::prelude::any::<bool>(), big in proptest::prelude::any::<bool>()) {
            let mut file = if ng {
                let mut n = Ng::new(big);
                n.idb(1, 0, &[(9, &[9])]);
                n.epb(0, 1, B, 7);
                n.out
            } else {
                pcap_bytes(big, false, 113, 65535, &[(1, 0, B, 7)])
            };
            let keep = file.len();
            file.extend_from_slice(&tail);
            if let Ok(mut r) = open_bytes(&file) {
                let (frames, _) = read_all(&mut r);
                proptest::prop_assert!(!frames.is_empty());
                proptest::prop_assert!(r.bytes_read() <= file.len() as u64);
                proptest::prop_assert!(r.bytes_read() >= keep.min(28) as u64);
            }
        }

        /// Any bytes at all: an error or a reader, never a panic.
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            if let Ok(mut r) = open_bytes(&bytes) {
                let _ = read_all(&mut r);
            }
        }
    }

    #[test]
    fn no_progress_bar_for_small_files_or_without_a_terminal() {
        assert!(progress(1024).is_none());
        assert!(progress(PROGRESS_MIN_BYTES).is_none());
    }
}
