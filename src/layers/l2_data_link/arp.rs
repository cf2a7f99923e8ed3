//! ARP for Ethernet and IPv4 (RFC 826), the only pairing osilab speaks.
//!
//! Read first: RFC 826 "Packet format" (the 28-byte layout below) and "Packet Reception" (how a
//! reply is formed by swapping the sender and target fields).
//!
//! ```text
//!  0      2      4    5    6      8            14       18           24       28
//!  +------+------+----+----+------+------------+--------+------------+--------+
//!  | htype| ptype|hlen|plen|  op  | sender MAC | snd IP | target MAC | tgt IP |
//!  +------+------+----+----+------+------------+--------+------------+--------+
//! ```
//!
//! [`ArpPacket::parse`] checks the fixed part by hand (so that each error names the byte that is
//! wrong), then hands the 28 bytes to etherparse's `ArpPacket`/`ArpEthIpv4Packet`, which also
//! builds the bytes in [`ArpPacket::emit`]. Bytes after the 28th (Ethernet padding) are ignored.

use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::trace::{Field, Value};
use std::fmt;
use std::net::Ipv4Addr;

/// The protocol name used in errors.
const PROTO: &str = "ARP";

/// Byte ranges of the fields inside an Ethernet/IPv4 ARP packet (RFC 826 "Packet format").
mod field {
    use std::ops::Range;
    /// ar$hrd: hardware address space.
    pub const HTYPE: Range<usize> = 0..2;
    /// ar$pro: protocol address space (an EtherType).
    pub const PTYPE: Range<usize> = 2..4;
    /// ar$hln: byte length of each hardware address.
    pub const HLEN: usize = 4;
    /// ar$pln: byte length of each protocol address.
    pub const PLEN: usize = 5;
    /// ar$op: opcode.
    pub const OPER: Range<usize> = 6..8;
}

/// Length of the fixed part (htype..op) that says how long the rest is.
const FIXED_LEN: usize = 8;

/// The EtherType of an ARP packet.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// ar$hrd for Ethernet (RFC 826; IANA "Hardware Types": 1 = Ethernet (10Mb)).
pub const HTYPE_ETHERNET: u16 = 1;
/// ar$pro for IPv4: the IPv4 EtherType.
pub const PTYPE_IPV4: u16 = 0x0800;
/// ar$hln for Ethernet: a 48-bit MAC.
pub const HLEN_ETHERNET: u8 = 6;
/// ar$pln for IPv4: a 32-bit address.
pub const PLEN_IPV4: u8 = 4;

/// The ARP operation (ar$op). An open enum: values other than request and reply (RARP's 3 and 4,
/// InARP's 8 and 9, ...) survive a parse/emit round trip as `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOp {
    /// 1, "who has?" (RFC 826 ares_op$REQUEST).
    Request,
    /// 2, "is at" (RFC 826 ares_op$REPLY).
    Reply,
    /// Any other opcode.
    Other(u16),
}

impl From<u16> for ArpOp {
    fn from(v: u16) -> Self {
        match v {
            1 => ArpOp::Request,
            2 => ArpOp::Reply,
            n => ArpOp::Other(n),
        }
    }
}

impl From<ArpOp> for u16 {
    fn from(op: ArpOp) -> u16 {
        match op {
            ArpOp::Request => 1,
            ArpOp::Reply => 2,
            ArpOp::Other(n) => n,
        }
    }
}

impl ArpOp {
    /// The name Wireshark gives the opcode ("request", "reply", ...).
    pub fn name(self) -> &'static str {
        match u16::from(self) {
            1 => "request",
            2 => "reply",
            3 => "reverse request",
            4 => "reverse reply",
            8 => "inverse request",
            9 => "inverse reply",
            _ => "unknown",
        }
    }
}

impl fmt::Display for ArpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), u16::from(*self))
    }
}

/// An ARP packet for Ethernet hardware addresses and IPv4 protocol addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpPacket {
    /// ar$op.
    pub operation: ArpOp,
    /// ar$sha.
    pub sender_mac: MacAddr,
    /// ar$spa.
    pub sender_ip: Ipv4Addr,
    /// ar$tha (all zeros in a request: not yet known).
    pub target_mac: MacAddr,
    /// ar$tpa.
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// The encoded length: 8 + 2·6 + 2·4 bytes.
    pub const LEN: usize = etherparse::ArpEthIpv4Packet::LEN;

    /// A request "who has `target_ip`? tell `sender_ip`" (RFC 826 "Packet Generation"). The
    /// target MAC is 00:00:00:00:00:00 (unknown); the frame carrying it goes to broadcast.
    pub fn request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Self {
        ArpPacket { operation: ArpOp::Request, sender_mac, sender_ip, target_mac: MacAddr::ZERO, target_ip }
    }

    /// The reply a station owning `request.target_ip` with MAC `our_mac` sends (RFC 826 "Packet
    /// Reception": swap the hardware and protocol fields, putting the local addresses in the
    /// sender slots, and set the opcode to reply). The frame goes back to `request.sender_mac`.
    pub fn reply_to(request: &ArpPacket, our_mac: MacAddr) -> Self {
        ArpPacket {
            operation: ArpOp::Reply,
            sender_mac: our_mac,
            sender_ip: request.target_ip,
            target_mac: request.sender_mac,
            target_ip: request.sender_ip,
        }
    }

    /// Parse an ARP packet from `bytes`, whose first byte sits at `offset` in the frame (for
    /// errors). Only Ethernet/IPv4 is accepted (RFC 826: a station ignores pairs it does not
    /// speak); bytes after the 28th are Ethernet padding and are ignored.
    pub fn parse(bytes: &[u8], offset: usize) -> Result<ArpPacket> {
        if bytes.len() < FIXED_LEN {
            return Err(Error::truncated(
                LayerId::DataLink,
                PROTO,
                offset + bytes.len(),
                "ARP header",
                FIXED_LEN,
                bytes.len(),
            ));
        }
        let be16 = |r: std::ops::Range<usize>| u16::from_be_bytes([bytes[r.start], bytes[r.start + 1]]);
        // RFC 826: ar$hrd must name a hardware we have (Ethernet).
        let htype = be16(field::HTYPE);
        if htype != HTYPE_ETHERNET {
            return Err(Error::invalid(
                LayerId::DataLink,
                PROTO,
                offset + field::HTYPE.start,
                "ARP hardware type",
                "1 (Ethernet)",
                htype.to_string(),
            ));
        }
        // RFC 826: ar$pro must name a protocol we speak (IPv4).
        let ptype = be16(field::PTYPE);
        if ptype != PTYPE_IPV4 {
            return Err(Error::invalid(
                LayerId::DataLink,
                PROTO,
                offset + field::PTYPE.start,
                "ARP protocol type",
                "0x0800 (IPv4)",
                format!("0x{ptype:04x}"),
            ));
        }
        // RFC 826: ar$hln and ar$pln are the address lengths (6 for a MAC, 4 for IPv4).
        if bytes[field::HLEN] != HLEN_ETHERNET {
            return Err(Error::invalid(
                LayerId::DataLink,
                PROTO,
                offset + field::HLEN,
                "ARP hardware size",
                "6",
                bytes[field::HLEN].to_string(),
            ));
        }
        if bytes[field::PLEN] != PLEN_IPV4 {
            return Err(Error::invalid(
                LayerId::DataLink,
                PROTO,
                offset + field::PLEN,
                "ARP protocol size",
                "4",
                bytes[field::PLEN].to_string(),
            ));
        }
        if bytes.len() < Self::LEN {
            return Err(Error::truncated(
                LayerId::DataLink,
                PROTO,
                offset + bytes.len(),
                "ARP packet",
                Self::LEN,
                bytes.len(),
            ));
        }
        let internal = |what: String| {
            Error::invalid(LayerId::DataLink, PROTO, offset + field::OPER.start, "ARP packet", "Ethernet/IPv4", what)
        };
        let generic = etherparse::ArpPacket::from_slice(&bytes[..Self::LEN]).map_err(|e| internal(e.to_string()))?;
        let p = generic.try_eth_ipv4().map_err(|e| internal(e.to_string()))?;
        Ok(ArpPacket {
            operation: ArpOp::from(p.operation.0),
            sender_mac: MacAddr(p.sender_mac),
            sender_ip: p.sender_ipv4_addr(),
            target_mac: MacAddr(p.target_mac),
            target_ip: p.target_ipv4_addr(),
        })
    }

    /// The 28 bytes on the wire.
    pub fn emit(&self) -> Vec<u8> {
        etherparse::ArpEthIpv4Packet {
            operation: etherparse::ArpOperation(u16::from(self.operation)),
            sender_mac: self.sender_mac.0,
            sender_ipv4: self.sender_ip.octets(),
            target_mac: self.target_mac.0,
            target_ipv4: self.target_ip.octets(),
        }
        .to_bytes()
        .to_vec()
    }

    /// True for a gratuitous ARP: an announcement whose sender and target IP are the same.
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip && !self.sender_ip.is_unspecified()
    }

    /// True for an ARP probe (RFC 5227 §2.1.1): a request with sender IP 0.0.0.0.
    pub fn is_probe(&self) -> bool {
        self.operation == ArpOp::Request && self.sender_ip.is_unspecified()
    }

    /// The heading `tshark -V` gives the subtree: "Address Resolution Protocol (request)".
    pub fn title(&self) -> String {
        let kind = match (self.operation, self.is_gratuitous(), self.is_probe()) {
            (ArpOp::Request, true, _) => "request/gratuitous ARP".to_string(),
            (ArpOp::Reply, true, _) => "reply/gratuitous ARP".to_string(),
            (_, _, true) => "ARP Probe".to_string(),
            (op, _, _) => op.name().to_string(),
        };
        format!("Address Resolution Protocol ({kind})")
    }

    /// The Info column as Wireshark writes it: "Who has 192.0.2.2? Tell 192.0.2.1",
    /// "192.0.2.2 is at 02:00:00:00:00:02".
    pub fn summary(&self) -> String {
        match self.operation {
            ArpOp::Request if self.is_gratuitous() => format!("Gratuitous ARP for {} (Request)", self.target_ip),
            ArpOp::Request if self.is_probe() => format!("Who has {}? (ARP Probe)", self.target_ip),
            ArpOp::Request => format!("Who has {}? Tell {}", self.target_ip, self.sender_ip),
            ArpOp::Reply if self.is_gratuitous() => format!("Gratuitous ARP for {} (Reply)", self.sender_ip),
            ArpOp::Reply => format!("{} is at {}", self.sender_ip, self.sender_mac),
            ArpOp::Other(n) => format!("ARP opcode {n} ({})", self.operation.name()),
        }
    }

    /// The fields under tshark's names and labels, in wire order.
    pub fn fields(&self) -> Vec<Field> {
        let op = u16::from(self.operation);
        vec![
            Field::uint("arp.hw.type", "Hardware type", HTYPE_ETHERNET).shown("Ethernet (1)"),
            Field::hex("arp.proto.type", "Protocol type", PTYPE_IPV4, 4).shown("IPv4 (0x0800)"),
            Field::uint("arp.hw.size", "Hardware size", HLEN_ETHERNET),
            Field::uint("arp.proto.size", "Protocol size", PLEN_IPV4),
            Field::uint("arp.opcode", "Opcode", op).shown(self.operation.to_string()),
            Field::new("arp.src.hw_mac", "Sender MAC address", Value::Mac(self.sender_mac)),
            Field::new("arp.src.proto_ipv4", "Sender IP address", Value::Ipv4(self.sender_ip)),
            Field::new("arp.dst.hw_mac", "Target MAC address", Value::Mac(self.target_mac)),
            Field::new("arp.dst.proto_ipv4", "Target IP address", Value::Ipv4(self.target_ip)),
        ]
    }
}
