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

/// An ARP packet as a capture shows it (capture mode): any hardware and protocol type, sizes
/// and opcode, read as Wireshark's ARP dissector reads them (RFC 826 "Packet format": the
/// address fields are ar$hln and ar$pln bytes long), so that RARP (RFC 903), InARP (RFC 2390)
/// and non-Ethernet hardware types show their fields instead of being refused as a host would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedArp {
    /// ar$hrd.
    pub htype: u16,
    /// ar$pro.
    pub ptype: u16,
    /// ar$op.
    pub operation: ArpOp,
    /// ar$sha (ar$hln bytes).
    pub sha: Vec<u8>,
    /// ar$spa (ar$pln bytes).
    pub spa: Vec<u8>,
    /// ar$tha.
    pub tha: Vec<u8>,
    /// ar$tpa.
    pub tpa: Vec<u8>,
}

/// What [`CapturedArp::parse`] found when the packet is cut short: the fields of the fixed part
/// (when all 8 bytes are there) and the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpCutShort {
    /// arp.hw.type .. arp.opcode, as far as they go.
    pub fields: Vec<Field>,
    /// The truncation, at the frame offset where the bytes end.
    pub error: Error,
}

impl CapturedArp {
    /// Read an ARP packet from `bytes` (whose first byte is at `offset` in the frame). Bytes
    /// after the packet (Ethernet padding) are left alone: [`CapturedArp::len`] says where it ends.
    pub fn parse(bytes: &[u8], offset: usize) -> std::result::Result<CapturedArp, Box<ArpCutShort>> {
        let cut = |fields: Vec<Field>, what: &str, needed: usize| {
            Box::new(ArpCutShort {
                fields,
                error: Error::truncated(LayerId::DataLink, PROTO, offset + bytes.len(), what, needed, bytes.len()),
            })
        };
        let Some(fixed) = bytes.first_chunk::<FIXED_LEN>() else {
            return Err(cut(Vec::new(), "ARP header", FIXED_LEN));
        };
        let htype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let ptype = u16::from_be_bytes([fixed[2], fixed[3]]);
        let (hlen, plen) = (usize::from(fixed[field::HLEN]), usize::from(fixed[field::PLEN]));
        let op = ArpOp::from(u16::from_be_bytes([fixed[6], fixed[7]]));
        let len = FIXED_LEN + 2 * (hlen + plen);
        let mut p = CapturedArp {
            htype,
            ptype,
            operation: op,
            sha: Vec::new(),
            spa: Vec::new(),
            tha: Vec::new(),
            tpa: Vec::new(),
        };
        if bytes.len() < len {
            return Err(cut(p.fixed_fields(hlen as u8, plen as u8), "ARP packet (hardware and protocol sizes)", len));
        }
        let mut at = FIXED_LEN;
        let mut take = |n: usize| {
            let v = bytes[at..at + n].to_vec();
            at += n;
            v
        };
        p.sha = take(hlen);
        p.spa = take(plen);
        p.tha = take(hlen);
        p.tpa = take(plen);
        Ok(p)
    }

    /// The packet's length: 8 + 2 × (ar$hln + ar$pln).
    pub fn len(&self) -> usize {
        FIXED_LEN + 2 * (self.sha.len() + self.spa.len())
    }

    /// Never empty: the fixed part is 8 bytes.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Wireshark shows hardware addresses as MACs for Ethernet (1) and IEEE 802 (6) hardware
    /// with 6-byte addresses.
    fn mac_addresses(&self) -> bool {
        matches!(self.htype, 1 | 6) && self.sha.len() == 6
    }

    /// Protocol addresses are IPv4 addresses for protocol type 0x0800 with 4-byte addresses.
    fn ipv4_addresses(&self) -> bool {
        self.ptype == PTYPE_IPV4 && self.spa.len() == 4
    }

    fn ipv4(bytes: &[u8]) -> Option<Ipv4Addr> {
        <[u8; 4]>::try_from(bytes).ok().map(Ipv4Addr::from)
    }

    /// RFC 5227 §2.1.1 / §3, as Wireshark tells them apart (IPv4 only): a gratuitous ARP
    /// (sender and target IP the same), an announcement (a gratuitous request with a zero target
    /// MAC), a probe (a request from 0.0.0.0 with a zero target MAC).
    fn kinds(&self) -> (bool, bool, bool) {
        if !self.ipv4_addresses() {
            return (false, false, false);
        }
        let req = self.operation == ArpOp::Request;
        let tha_zero = self.tha.iter().all(|&b| b == 0);
        let gratuitous = matches!(self.operation, ArpOp::Request | ArpOp::Reply) && self.spa == self.tpa;
        let announcement = req && gratuitous && tha_zero;
        let probe = req && tha_zero && self.spa.iter().all(|&b| b == 0);
        (gratuitous, announcement, probe)
    }

    /// The heading `tshark -V` gives the subtree: "Address Resolution Protocol (request)",
    /// "(ARP Announcement)", "(reply/gratuitous ARP)", "(ARP Probe)".
    pub fn title(&self) -> String {
        let (gratuitous, announcement, probe) = self.kinds();
        let kind = if announcement {
            "ARP Announcement".to_string()
        } else if probe {
            "ARP Probe".to_string()
        } else if gratuitous {
            format!("{}/gratuitous ARP", self.operation.name())
        } else {
            self.operation.name().to_string()
        };
        format!("Address Resolution Protocol ({kind})")
    }

    /// A one-line summary, Wireshark's Info column for the common cases.
    pub fn summary(&self) -> String {
        let ip = |b: &[u8]| Self::ipv4(b).map_or_else(|| crate::trace::hex(b), |a| a.to_string());
        // A hardware address as Wireshark writes one: bytes joined with colons (a MAC for Ethernet).
        let hw = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":");
        let (gratuitous, announcement, probe) = self.kinds();
        match self.operation {
            ArpOp::Request if announcement => format!("ARP Announcement for {}", ip(&self.spa)),
            ArpOp::Request if gratuitous => format!("Gratuitous ARP for {} (Request)", ip(&self.spa)),
            ArpOp::Request if probe => format!("Who has {}? (ARP Probe)", ip(&self.tpa)),
            ArpOp::Request => format!("Who has {}? Tell {}", ip(&self.tpa), ip(&self.spa)),
            ArpOp::Reply if gratuitous => format!("Gratuitous ARP for {} (Reply)", ip(&self.spa)),
            ArpOp::Reply => format!("{} is at {}", ip(&self.spa), hw(&self.sha)),
            ArpOp::Other(n) => format!("ARP opcode {n} ({})", self.operation.name()),
        }
    }

    /// arp.hw.type .. arp.opcode.
    fn fixed_fields(&self, hlen: u8, plen: u8) -> Vec<Field> {
        let htype_name = match self.htype {
            1 => "Ethernet",
            6 => "IEEE 802",
            _ => "Unknown",
        };
        let ptype_name = crate::layers::l2_data_link::frame::ethertype_shown(self.ptype);
        let op = u16::from(self.operation);
        vec![
            Field::uint("arp.hw.type", "Hardware type", self.htype).shown(format!("{htype_name} ({})", self.htype)),
            Field::hex("arp.proto.type", "Protocol type", self.ptype, 4).shown(ptype_name),
            Field::uint("arp.hw.size", "Hardware size", hlen),
            Field::uint("arp.proto.size", "Protocol size", plen),
            Field::uint("arp.opcode", "Opcode", op).shown(self.operation.to_string()),
        ]
    }

    /// The fields as tshark 4.0 shows them: the fixed part, Wireshark's generated
    /// `arp.isgratuitous` / `arp.isannouncement` / `arp.isprobe`, then the four addresses
    /// (`arp.src.hw_mac` or `arp.src.hw`, `arp.src.proto_ipv4` or `arp.src.proto`, and the same
    /// for the target).
    pub fn fields(&self) -> Vec<Field> {
        let mut f = self.fixed_fields(self.sha.len() as u8, self.spa.len() as u8);
        let (gratuitous, announcement, probe) = self.kinds();
        for (set, name, label) in [
            (gratuitous, "arp.isgratuitous", "Is gratuitous"),
            (announcement, "arp.isannouncement", "Is announcement"),
            (probe, "arp.isprobe", "Is probe"),
        ] {
            if set {
                f.push(Field::flag(name, label, true).shown("True"));
            }
        }
        let macs = self.mac_addresses();
        let ipv4 = self.ipv4_addresses();
        for (side, who, hw, proto) in [("src", "Sender", &self.sha, &self.spa), ("dst", "Target", &self.tha, &self.tpa)]
        {
            match <[u8; 6]>::try_from(hw.as_slice()) {
                Ok(m) if macs => f.push(Field::new(
                    format!("arp.{side}.hw_mac"),
                    format!("{who} MAC address"),
                    Value::Mac(MacAddr(m)),
                )),
                _ => f.push(
                    Field::new(format!("arp.{side}.hw"), format!("{who} hardware address"), Value::Bytes(hw.clone()))
                        .shown(crate::trace::hex(hw)),
                ),
            }
            match Self::ipv4(proto) {
                Some(a) if ipv4 => {
                    f.push(Field::new(format!("arp.{side}.proto_ipv4"), format!("{who} IP address"), Value::Ipv4(a)))
                }
                _ => f.push(
                    Field::new(
                        format!("arp.{side}.proto"),
                        format!("{who} protocol address"),
                        Value::Bytes(proto.clone()),
                    )
                    .shown(crate::trace::hex(proto)),
                ),
            }
        }
        f
    }
}
