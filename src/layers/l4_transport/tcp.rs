//! The TCP segment (RFC 9293 §3.1): a 20-byte fixed header, options, then data.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |  Res|A|C|E|U|A|P|R|S|F|                               |
//! | Offset|     |E|W|C|R|C|S|S|Y|I|            Window             |
//! |       |     | |R|E|G|K|H|T|N|N|                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           [Options]                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             Data ...
//! ```
//!
//! (RFC 9293 draws 4 reserved bits and CWR..FIN; RFC 3168 / RFC 9768 name the low reserved bit
//! AE, Accurate ECN, as Wireshark 4.0 does.) [`TcpView`] checks the lengths once; every accessor
//! after that is in bounds. [`TcpSegment`] is the representation the layer, and later the
//! connection state machine, builds and reads.

use super::checksum::{self, ChecksumStatus, IP_PROTO_TCP};
use super::options::{self, TcpOption};
use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::trace::{Field, Value};
use etherparse::{TcpHeader, TcpOptions};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// Byte offsets of the fixed header's fields (RFC 9293 §3.1).
pub mod field {
    use std::ops::Range;
    /// Source port.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Sequence number.
    pub const SEQ: Range<usize> = 4..8;
    /// Acknowledgment number.
    pub const ACK: Range<usize> = 8..12;
    /// Data offset (high 4 bits), reserved (3 bits), AE (low bit).
    pub const DATA_OFFSET: usize = 12;
    /// CWR ECE URG ACK PSH RST SYN FIN.
    pub const FLAGS: usize = 13;
    /// Window.
    pub const WINDOW: Range<usize> = 14..16;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 16..18;
    /// Urgent pointer.
    pub const URGENT: Range<usize> = 18..20;
    /// The options start here.
    pub const OPTIONS: usize = 20;
}

/// The fixed header's length (data offset 5).
pub const MIN_HEADER_LEN: usize = TcpHeader::MIN_LEN;
/// The longest header (data offset 15).
pub const MAX_HEADER_LEN: usize = TcpHeader::MAX_LEN;

const PROTO: &str = "TCP";

/// The 12 control bits of bytes 12–13 (RFC 9293 §3.1, RFC 3168 §6.1): 3 reserved, AE, CWR, ECE,
/// URG, ACK, PSH, RST, SYN, FIN, in the bit positions tshark shows for `tcp.flags` (0x018 =
/// PSH, ACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN-Echo (RFC 3168).
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion Window Reduced (RFC 3168).
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// Accurate ECN (formerly the ECN nonce, RFC 3540, historic).
    pub const AE: TcpFlags = TcpFlags(0x100);
    /// The three reserved bits (RFC 9293 §3.1: must be zero).
    pub const RESERVED: TcpFlags = TcpFlags(0xe00);
    /// All 12 bits.
    pub const ALL: u16 = 0xfff;

    const NAMES: [(TcpFlags, &'static str); 10] = [
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::CWR, "CWR"),
        (TcpFlags::AE, "AE"),
        (TcpFlags::RESERVED, "Reserved"),
    ];

    /// True when any of `other`'s bits are set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// The bits as a u16 (12 significant).
    pub fn bits(self) -> u16 {
        self.0 & Self::ALL
    }

    /// As tshark lists them: "PSH, ACK"; "`<None>`" when none is set.
    pub fn names(self) -> String {
        let v: Vec<&str> = Self::NAMES.iter().filter(|(f, _)| self.contains(*f)).map(|(_, n)| *n).collect();
        if v.is_empty() {
            "<None>".into()
        } else {
            v.join(", ")
        }
    }

    /// tshark's `tcp.flags.str`: "·······AP···" (12 positions, reserved bits first).
    pub fn str(self) -> String {
        const LETTERS: [char; 12] = ['R', 'R', 'R', 'A', 'C', 'E', 'U', 'A', 'P', 'R', 'S', 'F'];
        (0..12).map(|i| if self.0 & (0x800 >> i) != 0 { LETTERS[i] } else { '·' }).collect()
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, o: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | o.0)
    }
}

impl std::ops::BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, o: TcpFlags) {
        self.0 |= o.0;
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names())
    }
}

/// A checked view of a TCP segment: at least 20 bytes, a data offset of at least 5 words that
/// lies within the bytes.
#[derive(Debug, Clone, Copy)]
pub struct TcpView<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> TcpView<'a> {
    /// Check the lengths. `offset` is where `bytes` starts in the frame, for the errors.
    pub fn new(bytes: &'a [u8], offset: usize) -> Result<Self> {
        if bytes.len() < MIN_HEADER_LEN {
            return Err(Error::truncated(LayerId::Transport, PROTO, offset, "TCP header", MIN_HEADER_LEN, bytes.len()));
        }
        let view = TcpView { bytes, offset };
        let hlen = view.header_len();
        // RFC 9293 §3.1: "Data Offset (DOffset): 4 bits. The number of 32-bit words in the TCP
        // header. This indicates where the data begins." The fixed header alone is 5 words.
        if hlen < MIN_HEADER_LEN {
            return Err(Error::invalid(
                LayerId::Transport,
                PROTO,
                offset + field::DATA_OFFSET,
                "TCP data offset",
                "at least 5 (20 bytes, the fixed header)",
                format!("{} ({hlen} bytes)", hlen / 4),
            ));
        }
        if hlen > bytes.len() {
            return Err(Error::truncated(
                LayerId::Transport,
                PROTO,
                offset + field::DATA_OFFSET,
                format!("TCP header (data offset {})", hlen / 4),
                hlen,
                bytes.len(),
            ));
        }
        Ok(view)
    }

    fn be16(&self, r: std::ops::Range<usize>) -> u16 {
        match self.bytes.get(r) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    fn be32(&self, r: std::ops::Range<usize>) -> u32 {
        self.bytes.get(r).and_then(|s| <[u8; 4]>::try_from(s).ok()).map_or(0, u32::from_be_bytes)
    }

    fn byte(&self, at: usize) -> u8 {
        self.bytes.get(at).copied().unwrap_or(0)
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.be16(field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.be16(field::DST_PORT)
    }
    /// Sequence number.
    pub fn seq(&self) -> u32 {
        self.be32(field::SEQ)
    }
    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        self.be32(field::ACK)
    }
    /// Header length in bytes: the data offset × 4.
    pub fn header_len(&self) -> usize {
        usize::from(self.byte(field::DATA_OFFSET) >> 4) * 4
    }
    /// The 12 control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(u16::from_be_bytes([self.byte(field::DATA_OFFSET) & 0x0f, self.byte(field::FLAGS)]))
    }
    /// Window.
    pub fn window(&self) -> u16 {
        self.be16(field::WINDOW)
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM)
    }
    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        self.be16(field::URGENT)
    }
    /// The options area (may include padding).
    pub fn options_bytes(&self) -> &'a [u8] {
        self.bytes.get(field::OPTIONS..self.header_len()).unwrap_or(&[])
    }
    /// The data after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(self.header_len()..).unwrap_or(&[])
    }
    /// The whole segment.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Verify the checksum over the pseudo-header (RFC 9293 §3.1).
    pub fn verify(&self, src_ip: IpAddr, dst_ip: IpAddr) -> Result<ChecksumStatus> {
        checksum::verify(src_ip, dst_ip, IP_PROTO_TCP, self.bytes, field::CHECKSUM.start)
    }
    /// Parse the options (errors for a malformed option, at its frame offset).
    pub fn options(&self) -> Result<Vec<TcpOption>> {
        TcpOption::parse_all(self.options_bytes(), self.offset + field::OPTIONS)
    }
}

/// What [`TcpSegment::parse`] found besides the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpParsed {
    /// Header length in bytes (data offset × 4).
    pub header_len: usize,
    /// The checksum field.
    pub checksum: u16,
    /// Its verification (reported, not enforced: the caller decides).
    pub status: ChecksumStatus,
}

/// Sequence numbers as Wireshark shows them, relative to each side's initial sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelativeTo {
    /// The ISN of this segment's sender (relative seq = seq − this).
    pub seq: u32,
    /// The ISN of its receiver (relative ack = ack − this).
    pub ack: u32,
}

/// A TCP segment (RFC 9293 §3.1), as the layer and the connection state machine build and read
/// it. `emit` computes the data offset and the checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// SEG.SEQ: the sequence number of the first data byte (the ISN on a SYN).
    pub seq: u32,
    /// SEG.ACK: the next sequence number the sender expects (significant with ACK).
    pub ack: u32,
    /// The control bits.
    pub flags: TcpFlags,
    /// SEG.WND: the receive window (unscaled header value).
    pub window: u16,
    /// SEG.UP: urgent pointer (significant with URG).
    pub urgent: u16,
    /// The options, in wire order (padding to 4 bytes is added by `emit`).
    pub options: Vec<TcpOption>,
    /// The data.
    pub payload: Vec<u8>,
}

impl TcpSegment {
    /// SEG.LEN (RFC 9293 §3.4): the payload length, plus one for SYN and one for FIN.
    pub fn seg_len(&self) -> u32 {
        let ctl = u32::from(self.flags.contains(TcpFlags::SYN)) + u32::from(self.flags.contains(TcpFlags::FIN));
        (self.payload.len() as u32).wrapping_add(ctl)
    }

    /// The timestamps option, if present.
    pub fn timestamps(&self) -> Option<(u32, u32)> {
        self.options.iter().find_map(|o| match o {
            TcpOption::Timestamps { tsval, tsecr } => Some((*tsval, *tsecr)),
            _ => None,
        })
    }

    /// The segment's bytes, with the data offset and the checksum over the pseudo-header of
    /// `src_ip` → `dst_ip` (RFC 9293 §3.1). An error when the options exceed 40 bytes or cannot
    /// be encoded, the segment exceeds 65535 bytes, or the addresses are of different families.
    pub fn emit(&self, src_ip: IpAddr, dst_ip: IpAddr) -> Result<Vec<u8>> {
        let opts = options::emit_all(&self.options)?;
        let f = self.flags;
        let header = TcpHeader {
            source_port: self.src_port,
            destination_port: self.dst_port,
            sequence_number: self.seq,
            acknowledgment_number: self.ack,
            ns: f.contains(TcpFlags::AE),
            fin: f.contains(TcpFlags::FIN),
            syn: f.contains(TcpFlags::SYN),
            rst: f.contains(TcpFlags::RST),
            psh: f.contains(TcpFlags::PSH),
            ack: f.contains(TcpFlags::ACK),
            urg: f.contains(TcpFlags::URG),
            ece: f.contains(TcpFlags::ECE),
            cwr: f.contains(TcpFlags::CWR),
            window_size: self.window,
            checksum: 0,
            urgent_pointer: self.urgent,
            // emit_all already padded and bounded the options at 40 bytes.
            options: TcpOptions::try_from_slice(&opts).unwrap_or_default(),
        };
        let total = header.header_len() + self.payload.len();
        if total > usize::from(u16::MAX) {
            return Err(Error::invalid(
                LayerId::Transport,
                PROTO,
                None,
                "TCP segment length",
                "at most 65535 bytes (one IP datagram)",
                format!("{total} bytes"),
            ));
        }
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&header.to_bytes());
        // etherparse has no field for the 3 reserved bits; they are written as given.
        if let Some(b) = out.get_mut(field::DATA_OFFSET) {
            *b |= ((f.bits() >> 8) & 0x0e) as u8;
        }
        out.extend_from_slice(&self.payload);
        let sum = checksum::compute(src_ip, dst_ip, IP_PROTO_TCP, &out, field::CHECKSUM.start)?;
        out[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
        Ok(out)
    }

    /// Parse a segment received from `src_ip` for `dst_ip`: lengths and options are checked
    /// (errors at their frame offsets, counted from `offset`); the checksum is verified and
    /// reported in [`TcpParsed::status`], not enforced.
    pub fn parse(bytes: &[u8], src_ip: IpAddr, dst_ip: IpAddr, offset: usize) -> Result<(TcpSegment, TcpParsed)> {
        let view = TcpView::new(bytes, offset)?;
        let status = view.verify(src_ip, dst_ip)?;
        let seg = TcpSegment::from_view(&view)?;
        Ok((seg, TcpParsed { header_len: view.header_len(), checksum: view.checksum(), status }))
    }

    /// The segment a checked view holds (an error for malformed options).
    pub fn from_view(view: &TcpView<'_>) -> Result<TcpSegment> {
        Ok(TcpSegment {
            src_port: view.src_port(),
            dst_port: view.dst_port(),
            seq: view.seq(),
            ack: view.ack(),
            flags: view.flags(),
            window: view.window(),
            urgent: view.urgent(),
            options: view.options()?,
            payload: view.payload().to_vec(),
        })
    }

    /// The header length `emit` gives (20 + options padded to 4), if the options encode.
    pub fn header_len(&self) -> Option<usize> {
        options::emit_all(&self.options).ok().map(|o| MIN_HEADER_LEN + o.len())
    }

    /// The header fields as `tshark -V` shows them (tshark 4.0 names), in wire order, then
    /// `tcp.len`. `wire` is this segment's bytes as they are on the wire (the received bytes
    /// this segment was parsed from, or the bytes `emit` gave): like Wireshark, the header
    /// length, the checksum, the option bytes and the options listed are read from it, padding
    /// included, not re-encoded from `self.options` (padding after End of Option List need not
    /// be what `emit` writes). `relative`, when known, adds Wireshark's relative `tcp.seq` /
    /// `tcp.ack` before the raw ones. Without `detail`, no renderings
    /// ([`Context::detail`](crate::layer::Context::detail)).
    pub fn fields(&self, wire: &TcpView<'_>, relative: Option<RelativeTo>, detail: bool) -> Vec<Field> {
        self.fields_with(wire, relative, detail, false, &mut |_, _| {})
    }

    /// [`TcpSegment::fields`], with `more` called after `tcp.dstport` and after `tcp.seq_raw`
    /// (with the field's name) to add fields there: capture mode's `tcp.stream`, `tcp.nxtseq`.
    /// `options_read`: `self.options` are what [`TcpOption::parse_prefix`] read from `wire`'s
    /// option bytes (capture mode), so they need not be read again.
    pub fn fields_with(
        &self,
        wire: &TcpView<'_>,
        relative: Option<RelativeTo>,
        detail: bool,
        options_read: bool,
        more: &mut dyn FnMut(&'static str, &mut Vec<Field>),
    ) -> Vec<Field> {
        let hlen = wire.header_len();
        let checksum = wire.checksum();
        let opt_bytes = wire.options_bytes();
        // The options as a receiver reads them (zero padding is one EOL per byte, as Wireshark
        // lists it); bytes that do not parse can only come from a hand-built `Unknown` option
        // on the send path, and are listed as built.
        let wire_options: std::borrow::Cow<'_, [TcpOption]> = if options_read {
            // What parse_all would give: the same options, or on an error the same prefix.
            std::borrow::Cow::Borrowed(&self.options)
        } else {
            std::borrow::Cow::Owned(wire.options().unwrap_or_else(|_| self.options.clone()))
        };
        let fl = self.flags;
        // The fixed header's 24 fields, each option's (at most 6 but for SACK blocks), and room for
        // what capture mode inserts (tcp.stream, tcp.nxtseq, an unset ACK's tcp.ack).
        let mut f = Vec::with_capacity(28 + 6 * wire_options.len());
        f.push(Field::uint("tcp.srcport", "Source Port", self.src_port));
        f.push(Field::uint("tcp.dstport", "Destination Port", self.dst_port));
        more("tcp.dstport", &mut f);
        if let Some(r) = relative {
            let seq = self.seq.wrapping_sub(r.seq);
            f.push(
                Field::uint("tcp.seq", "Sequence Number", seq)
                    .shown_if(detail, || format!("{seq}    (relative sequence number)")),
            );
        }
        f.push(Field::uint("tcp.seq_raw", "Sequence Number (raw)", self.seq));
        more("tcp.seq_raw", &mut f);
        if let (Some(r), true) = (relative, fl.contains(TcpFlags::ACK)) {
            let ack = self.ack.wrapping_sub(r.ack);
            f.push(
                Field::uint("tcp.ack", "Acknowledgment Number", ack)
                    .shown_if(detail, || format!("{ack}    (relative ack number)")),
            );
        }
        f.push(Field::uint("tcp.ack_raw", "Acknowledgment number (raw)", self.ack));
        f.push(
            Field::uint("tcp.hdr_len", "Header Length", hlen as u64)
                .shown_if(detail, || format!("{hlen} bytes ({})", hlen / 4)),
        );
        f.push(
            Field::hex("tcp.flags", "Flags", fl.bits(), 4)
                .shown_if(detail, || format!("0x{:03x} ({})", fl.bits(), fl.names())),
        );
        let bit = |name: &'static str, label: &'static str, flag: TcpFlags| {
            Field::flag(name, label, fl.contains(flag)).depth(1)
        };
        f.extend([
            bit("tcp.flags.res", "Reserved", TcpFlags::RESERVED),
            bit("tcp.flags.ae", "Accurate ECN", TcpFlags::AE),
            bit("tcp.flags.cwr", "Congestion Window Reduced", TcpFlags::CWR),
            bit("tcp.flags.ece", "ECN-Echo", TcpFlags::ECE),
            bit("tcp.flags.urg", "Urgent", TcpFlags::URG),
            bit("tcp.flags.ack", "Acknowledgment", TcpFlags::ACK),
            bit("tcp.flags.push", "Push", TcpFlags::PSH),
            bit("tcp.flags.reset", "Reset", TcpFlags::RST),
            bit("tcp.flags.syn", "Syn", TcpFlags::SYN),
            bit("tcp.flags.fin", "Fin", TcpFlags::FIN),
            Field::text("tcp.flags.str", "TCP Flags", fl.str()).depth(1),
            Field::uint("tcp.window_size_value", "Window", self.window),
            Field::hex("tcp.checksum", "Checksum", checksum, 4),
            Field::uint("tcp.urgent_pointer", "Urgent Pointer", self.urgent),
        ]);
        if !opt_bytes.is_empty() {
            f.push(
                Field::new("tcp.options", "Options", Value::Bytes(opt_bytes.to_vec()))
                    .shown_if(detail, || options::summary(&wire_options, opt_bytes.len())),
            );
            let sack_base = relative.map_or(0, |r| r.ack);
            for o in wire_options.iter() {
                o.push_fields(&mut f, 1, sack_base, detail);
            }
        }
        f.push(Field::uint("tcp.len", "TCP Segment Len", self.payload.len() as u64));
        f
    }

    /// tshark's subtree heading: "Transmission Control Protocol, Src Port: 51000, Dst Port:
    /// 3000, Seq: 1, Ack: 1, Len: 11" (Ack only with the ACK flag).
    pub fn title(&self, relative: Option<RelativeTo>) -> String {
        let (seq, ack) = match relative {
            Some(r) => (self.seq.wrapping_sub(r.seq), self.ack.wrapping_sub(r.ack)),
            None => (self.seq, self.ack),
        };
        let mut t = format!(
            "Transmission Control Protocol, Src Port: {}, Dst Port: {}, Seq: {seq}",
            self.src_port, self.dst_port
        );
        if self.flags.contains(TcpFlags::ACK) {
            t += &format!(", Ack: {ack}");
        }
        t + &format!(", Len: {}", self.payload.len())
    }

    /// The Info column: "51000 → 3000 [PSH, ACK] Seq=1 Ack=1 Win=502 Len=11 TSval=5 TSecr=9".
    pub fn summary(&self, relative: Option<RelativeTo>) -> String {
        let (seq, ack) = match relative {
            Some(r) => (self.seq.wrapping_sub(r.seq), self.ack.wrapping_sub(r.ack)),
            None => (self.seq, self.ack),
        };
        let mut s = format!("{} → {} [{}] Seq={seq}", self.src_port, self.dst_port, self.flags.names());
        if self.flags.contains(TcpFlags::ACK) {
            s += &format!(" Ack={ack}");
        }
        s += &format!(" Win={}", self.window);
        if self.flags.contains(TcpFlags::URG) {
            s += &format!(" Urg={}", self.urgent);
        }
        s += &format!(" Len={}", self.payload.len());
        let sack_base = relative.map_or(0, |r| r.ack);
        for o in self.options.iter().filter_map(|o| o.info(sack_base)) {
            s += " ";
            s += &o;
        }
        s
    }
}
