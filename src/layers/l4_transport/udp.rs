//! UDP (RFC 768): an 8-byte header in front of the payload.
//!
//! ```text
//!  0      7 8     15 16    23 24    31
//! +--------+--------+--------+--------+
//! |   source port   | destination port|
//! +--------+--------+--------+--------+
//! |     length      |    checksum     |
//! +--------+--------+--------+--------+
//! |          data octets ...
//! ```
//!
//! [`UdpView`] checks the lengths once; every accessor after that is in bounds.
//! [`UdpDatagram`] is the representation: `parse` validates a view, `emit` writes the bytes.

use super::checksum::{self, ChecksumStatus, IP_PROTO_UDP};
use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::trace::Field;
use etherparse::UdpHeader;
use std::net::IpAddr;

/// Byte offsets of the header fields (RFC 768).
pub mod field {
    use std::ops::Range;
    /// Source port.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Length of header + data.
    pub const LENGTH: Range<usize> = 4..6;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// The header length.
pub const HEADER_LEN: usize = UdpHeader::LEN;

const PROTO: &str = "UDP";

/// A checked view of a UDP datagram: at least 8 bytes, and as many as its length field says
/// (any excess beyond it is cut off and counted in [`UdpView::trimmed`]).
#[derive(Debug, Clone, Copy)]
pub struct UdpView<'a> {
    bytes: &'a [u8],
    trimmed: usize,
}

impl<'a> UdpView<'a> {
    /// Check the header and the length field. `offset` is where `bytes` starts in the frame, for
    /// the errors.
    pub fn new(bytes: &'a [u8], offset: usize) -> Result<Self> {
        let Some(head) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(Error::truncated(LayerId::Transport, PROTO, offset, "UDP header", HEADER_LEN, bytes.len()));
        };
        let header = UdpHeader::from_bytes(*head);
        let length = usize::from(header.length);
        // RFC 768: "Length is the length in octets of this user datagram including this header
        // and the data. (This means the minimum value of the length is eight.)"
        if length < HEADER_LEN {
            return Err(Error::invalid(
                LayerId::Transport,
                PROTO,
                offset + field::LENGTH.start,
                "UDP length",
                "at least 8 (the header)",
                length.to_string(),
            ));
        }
        if length > bytes.len() {
            return Err(Error::truncated(
                LayerId::Transport,
                PROTO,
                offset + field::LENGTH.start,
                "UDP datagram",
                length,
                bytes.len(),
            ));
        }
        // Bytes beyond the UDP length (link padding the layer below did not strip) are not
        // part of the datagram.
        Ok(UdpView { bytes: &bytes[..length], trimmed: bytes.len() - length })
    }

    fn be16(&self, r: std::ops::Range<usize>) -> u16 {
        match self.bytes.get(r) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        self.be16(field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        self.be16(field::DST_PORT)
    }
    /// The length field.
    pub fn length(&self) -> u16 {
        self.be16(field::LENGTH)
    }
    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        self.be16(field::CHECKSUM)
    }
    /// The data after the header, up to the length field.
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(HEADER_LEN..).unwrap_or(&[])
    }
    /// The datagram's bytes (header + data, as the length field says).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// Bytes that followed the datagram beyond its length field and were cut off.
    pub fn trimmed(&self) -> usize {
        self.trimmed
    }
    /// Verify the checksum over the pseudo-header (RFC 768; RFC 8200 §8.1 for IPv6).
    pub fn verify(&self, src_ip: IpAddr, dst_ip: IpAddr) -> Result<ChecksumStatus> {
        checksum::verify(src_ip, dst_ip, IP_PROTO_UDP, self.bytes, field::CHECKSUM.start)
    }
}

/// What [`UdpDatagram::parse`] found besides the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpParsed {
    /// The length field.
    pub length: u16,
    /// The checksum field.
    pub checksum: u16,
    /// The checksum's verification (reported, not enforced: the caller decides).
    pub status: ChecksumStatus,
    /// Bytes beyond the length field that were cut off.
    pub trimmed: usize,
}

/// A UDP datagram (RFC 768).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Source port (0: "no port", RFC 768).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The data.
    pub payload: Vec<u8>,
}

impl UdpDatagram {
    /// The encoded length: header + payload.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Never: a datagram always has its 8-byte header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The datagram's bytes, with the checksum over the pseudo-header of `src_ip` → `dst_ip`
    /// (RFC 768: a computed 0 is sent as 0xFFFF). An error when the addresses are of different
    /// families or the payload does not fit the 16-bit length field.
    pub fn emit(&self, src_ip: IpAddr, dst_ip: IpAddr) -> Result<Vec<u8>> {
        let header =
            UdpHeader::without_ipv4_checksum(self.src_port, self.dst_port, self.payload.len()).map_err(|e| {
                Error::invalid(
                    LayerId::Transport,
                    PROTO,
                    None,
                    "UDP payload length",
                    format!("at most {} bytes (the 16-bit length field)", e.max_allowed),
                    format!("{} bytes", e.actual),
                )
            })?;
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&self.payload);
        let sum = checksum::compute(src_ip, dst_ip, IP_PROTO_UDP, &out, field::CHECKSUM.start)?;
        out[field::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
        Ok(out)
    }

    /// Parse and check the lengths of a datagram received from `src_ip` for `dst_ip`; the
    /// checksum is verified and reported in [`UdpParsed::status`], not enforced.
    pub fn parse(bytes: &[u8], src_ip: IpAddr, dst_ip: IpAddr, offset: usize) -> Result<(UdpDatagram, UdpParsed)> {
        let view = UdpView::new(bytes, offset)?;
        let status = view.verify(src_ip, dst_ip)?;
        let dgram =
            UdpDatagram { src_port: view.src_port(), dst_port: view.dst_port(), payload: view.payload().to_vec() };
        let parsed = UdpParsed { length: view.length(), checksum: view.checksum(), status, trimmed: view.trimmed() };
        Ok((dgram, parsed))
    }

    /// The header fields as `tshark -V` shows them.
    pub fn fields(&self, length: u16, checksum: u16) -> Vec<Field> {
        header_fields(self.src_port, self.dst_port, length, checksum)
    }
}

/// The header fields, under Wireshark's names (tshark 4.0).
pub fn header_fields(src_port: u16, dst_port: u16, length: u16, checksum: u16) -> Vec<Field> {
    // Room for `udp.stream`, which capture mode adds.
    let mut f = Vec::with_capacity(5);
    f.extend([
        Field::uint("udp.srcport", "Source Port", src_port),
        Field::uint("udp.dstport", "Destination Port", dst_port),
        Field::uint("udp.length", "Length", length),
        Field::hex("udp.checksum", "Checksum", checksum, 4),
    ]);
    f
}

/// "User Datagram Protocol, Src Port: 51000, Dst Port: 3000".
pub fn title(src_port: u16, dst_port: u16) -> String {
    format!("User Datagram Protocol, Src Port: {src_port}, Dst Port: {dst_port}")
}

/// The Info column: "51000 → 3000 Len=11".
pub fn summary(src_port: u16, dst_port: u16, payload_len: usize) -> String {
    format!("{src_port} → {dst_port} Len={payload_len}")
}
