//! Linux cooked capture headers: the pseudo link-layer header libpcap writes when it captures on
//! the `any` device (or on an interface whose own link layer it cannot or will not keep), version 1
//! (LINKTYPE_LINUX_SLL = 113, 16 bytes) and version 2 (LINKTYPE_LINUX_SLL2 = 276, 20 bytes).
//!
//! Read first: <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html> and
//! <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html>. All fields are big-endian:
//!
//! ```text
//!   v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2)                              = 16 bytes
//!   v2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)      = 20 bytes
//! ```
//!
//! The header is not on any wire: the kernel's packet socket (packet(7)) reports where a packet
//! went (`pkttype`: to us, broadcast, multicast, to another host, sent by us), the device's ARP
//! hardware type (`hatype`, `ARPHRD_*` of `<linux/if_arp.h>`), the *source* link-layer address
//! (halen bytes of the 8-byte addr field) and the protocol, which is an EtherType when it is above
//! 1536 and one of Linux's `ETH_P_*` pseudo-protocols (802.2 LLC, raw 802.3, CAN...) otherwise.
//!
//! Trace records match `tshark -V` / `tshark -T fields` 4.0 (packet-sll.c), checked against real
//! `tcpdump -i any -y LINUX_SLL` / `-y LINUX_SLL2` captures:
//! - the subtree is headed "Linux cooked capture v1" / "Linux cooked capture v2";
//! - fields, in tshark's order, v1: `sll.pkttype`, `sll.hatype`, `sll.halen`, the address,
//!   `sll.unused`, the protocol; v2: the protocol, `sll.ifindex`, `sll.hatype`, `sll.pkttype`,
//!   `sll.halen`, the address, `sll.unused` (the v2 reserved field is not shown);
//! - the address is `sll.src.ipv4` when halen is 4, `sll.src.eth` when it is 6, nothing when it is
//!   0, else `sll.src.other` (the first min(halen, 8) bytes); `sll.unused` is the 8 − halen
//!   address bytes after it, when halen < 8 (printed as hex, "0000" for an Ethernet address);
//! - the protocol is `sll.ltype` when it is ≤ 1536 (0x0600 included: "that's how Linux does it"),
//!   else `sll.gretype` when hatype is ARPHRD_IPGRE (778), else `sll.etype`; all three print as
//!   `0x` + 4 hex digits;
//! - `sll.pkttype`, `sll.hatype`, `sll.halen`, `sll.ifindex` print in decimal.
//!
//! One tshark behaviour the caller must copy: a frame whose hatype is ARPHRD_NETLINK (824) is
//! handed whole to tshark's netlink dissector and gets no `sll` subtree or fields at all
//! ([`SllHeader::is_netlink`]). And the `sll.trailer` field (bytes after an IP packet's own
//! length) is only known once the layer above has parsed its length: see [`trailer_field`].

use super::frame::ethertype_shown;
use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::{LayerId, PduName};
use crate::trace::{Direction, Field, Record, Value};
use std::net::Ipv4Addr;

/// The protocol name errors use.
pub const PROTO: &str = "Linux cooked capture";

/// LINKTYPE_LINUX_SLL.
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// LINKTYPE_LINUX_SLL2.
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// `ARPHRD_IPGRE` (`<linux/if_arp.h>`): the protocol field is a GRE protocol type.
pub const ARPHRD_IPGRE: u16 = 778;
/// `ARPHRD_NETLINK`: a netlink monitor device; the whole frame is a netlink message.
pub const ARPHRD_NETLINK: u16 = 824;

/// Protocol values up to this one (inclusive) are Linux `ETH_P_*` pseudo-protocols, not
/// EtherTypes (libpcap's pcap-linux.c and Wireshark's packet-sll.c both test `<= 1536`).
pub const MAX_LINUX_PROTOCOL: u16 = 1536;

/// Length of the address field in both versions.
pub const ADDR_LEN: usize = 8;

/// `sll.pkttype` values (`PACKET_*` of `<linux/if_packet.h>`).
pub mod pkttype {
    /// PACKET_HOST: addressed to this host.
    pub const HOST: u16 = 0;
    /// PACKET_BROADCAST.
    pub const BROADCAST: u16 = 1;
    /// PACKET_MULTICAST.
    pub const MULTICAST: u16 = 2;
    /// PACKET_OTHERHOST: addressed to another host (seen in promiscuous mode).
    pub const OTHERHOST: u16 = 3;
    /// PACKET_OUTGOING: sent by this host.
    pub const OUTGOING: u16 = 4;
}

/// A Linux cooked capture header, either version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SllHeader {
    /// 1 (LINKTYPE_LINUX_SLL) or 2 (LINKTYPE_LINUX_SLL2).
    pub version: u8,
    /// Where the packet went ([`pkttype`]); one byte on the wire in v2, two in v1.
    pub pkttype: u16,
    /// The device's ARP hardware type (ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772...).
    pub hatype: u16,
    /// How many bytes of `addr` are the source address; two bytes on the wire in v1, one in v2.
    /// It may exceed 8 (the address was then cut to 8 bytes).
    pub halen: u16,
    /// The address field as captured (only the first `halen` bytes, at most 8, are meaningful).
    pub addr: [u8; 8],
    /// An EtherType if > 1536, else a Linux pseudo-protocol ([`SllHeader::ethertype`]).
    pub protocol: u16,
    /// The capturing interface's index (v2 only).
    pub ifindex: Option<u32>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn addr8(b: &[u8], at: usize) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + ADDR_LEN]);
    a
}

impl SllHeader {
    /// Length of a v1 header.
    pub const V1_LEN: usize = 16;
    /// Length of a v2 header.
    pub const V2_LEN: usize = 20;

    /// Parse a v1 header from the start of `b`, whose first byte is byte `base` of the frame (for
    /// errors). LINKTYPE_LINUX_SLL: pkttype(2) hatype(2) halen(2) addr(8) protocol(2).
    pub fn parse_v1(b: &[u8], base: usize) -> Result<SllHeader> {
        if b.len() < Self::V1_LEN {
            return Err(Self::short(1, b.len(), base));
        }
        Ok(SllHeader {
            version: 1,
            pkttype: be16(b, 0),
            hatype: be16(b, 2),
            halen: be16(b, 4),
            addr: addr8(b, 6),
            protocol: be16(b, 14),
            ifindex: None,
        })
    }

    /// Parse a v2 header from the start of `b`, whose first byte is byte `base` of the frame.
    /// LINKTYPE_LINUX_SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1)
    /// addr(8). The reserved field is not checked (the spec says it must be zero; tshark ignores
    /// it).
    pub fn parse_v2(b: &[u8], base: usize) -> Result<SllHeader> {
        if b.len() < Self::V2_LEN {
            return Err(Self::short(2, b.len(), base));
        }
        Ok(SllHeader {
            version: 2,
            protocol: be16(b, 0),
            ifindex: Some(u32::from_be_bytes([b[4], b[5], b[6], b[7]])),
            hatype: be16(b, 8),
            pkttype: u16::from(b[10]),
            halen: u16::from(b[11]),
            addr: addr8(b, 12),
        })
    }

    fn short(version: u8, available: usize, base: usize) -> Error {
        let needed = if version == 1 { Self::V1_LEN } else { Self::V2_LEN };
        Error::truncated(
            LayerId::DataLink,
            PROTO,
            base + available,
            format!("Linux cooked capture v{version} header"),
            needed,
            available,
        )
    }

    /// The header's length: 16 (v1) or 20 (v2).
    pub fn len(&self) -> usize {
        if self.version == 2 {
            Self::V2_LEN
        } else {
            Self::V1_LEN
        }
    }

    /// Never: a header has 16 or 20 bytes (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The EtherType that selects the next layer (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP...), or
    /// `None` when the protocol is one of Linux's pseudo-protocols (≤ 1536: 0x0004 802.2 LLC,
    /// 0x0001 raw 802.3, 0x0003 a whole Ethernet frame...), which osilab only reports. For an
    /// ARPHRD_IPGRE device the value is a GRE protocol type, which for IP is the same EtherType.
    pub fn ethertype(&self) -> Option<u16> {
        (self.protocol > MAX_LINUX_PROTOCOL).then_some(self.protocol)
    }

    /// True for ARPHRD_NETLINK (824): tshark shows such a frame as netlink, with no `sll` fields.
    pub fn is_netlink(&self) -> bool {
        self.hatype == ARPHRD_NETLINK
    }

    /// The source address bytes as tshark takes them: the first min(halen, 8) bytes.
    pub fn src_bytes(&self) -> &[u8] {
        &self.addr[..usize::from(self.halen).min(ADDR_LEN)]
    }

    /// The source address as a MAC, when halen is 6 (tshark's `sll.src.eth`; it does not look at
    /// hatype: loopback frames have hatype 772 and an all-zero 6-byte address).
    pub fn src_mac(&self) -> Option<MacAddr> {
        (self.halen == 6)
            .then(|| MacAddr([self.addr[0], self.addr[1], self.addr[2], self.addr[3], self.addr[4], self.addr[5]]))
    }

    /// The fields in tshark's order, with its display-filter names and `-T fields` values.
    pub fn fields(&self) -> Vec<Field> {
        let mut f = Vec::with_capacity(8);
        if self.version == 2 {
            f.push(self.protocol_field());
            f.push(Field::uint("sll.ifindex", "Interface index", self.ifindex.unwrap_or(0)));
            f.push(self.hatype_field());
            f.push(self.pkttype_field());
            f.push(Field::uint("sll.halen", "Link-layer address length", self.halen));
            self.push_address(&mut f);
        } else {
            f.push(self.pkttype_field());
            f.push(self.hatype_field());
            f.push(Field::uint("sll.halen", "Link-layer address length", self.halen));
            self.push_address(&mut f);
            f.push(self.protocol_field());
        }
        f
    }

    /// The fields tshark 4.0 still shows for a header cut short after `b.len()` bytes (it adds
    /// fields in wire order until one does not fit, then reports the frame as malformed): none
    /// when fewer than 4 (v1) or 12 (v2) bytes are there, since packet-sll.c reads the hardware
    /// type (and, in v2, the packet type) before it adds any field; none for a netlink frame.
    /// For a dissector that reports the truncation error and still prints what tshark prints.
    pub fn partial_fields(b: &[u8], version: u8) -> Vec<Field> {
        let (full, gate) = if version == 2 { (Self::V2_LEN, 12) } else { (Self::V1_LEN, 4) };
        if b.len() < gate {
            return Vec::new();
        }
        let mut padded = [0u8; Self::V2_LEN];
        let n = b.len().min(full);
        padded[..n].copy_from_slice(&b[..n]);
        let parsed = if version == 2 { Self::parse_v2(&padded, 0) } else { Self::parse_v1(&padded[..full], 0) };
        let Ok(h) = parsed else { return Vec::new() };
        if h.is_netlink() {
            return Vec::new();
        }
        let addr_at = if version == 2 { 12 } else { 6 };
        let end = |name: &str| -> usize {
            match (name, version) {
                ("sll.pkttype", 2) => 11,
                ("sll.pkttype", _) => 2,
                ("sll.hatype", 2) => 10,
                ("sll.hatype", _) => 4,
                ("sll.halen", 2) => 12,
                ("sll.halen", _) => 6,
                ("sll.ifindex", _) => 8,
                ("sll.unused", _) => addr_at + ADDR_LEN,
                (n, _) if n.starts_with("sll.src.") => addr_at + h.src_bytes().len(),
                (_, 2) => 2,
                _ => 16,
            }
        };
        h.fields().into_iter().take_while(|f| end(&f.name) <= b.len()).collect()
    }

    fn pkttype_field(&self) -> Field {
        Field::uint("sll.pkttype", "Packet type", self.pkttype).shown(format!(
            "{} ({})",
            pkttype_name(self.pkttype),
            self.pkttype
        ))
    }

    fn hatype_field(&self) -> Field {
        Field::uint("sll.hatype", "Link-layer address type", self.hatype).shown(format!(
            "{} ({})",
            hatype_name(self.hatype),
            self.hatype
        ))
    }

    /// `sll.src.*` for halen 4, 6 or anything but 0, then `sll.unused` for what is left of the
    /// 8-byte field (packet-sll.c `add_ll_address`).
    fn push_address(&self, f: &mut Vec<Field>) {
        match self.halen {
            0 => {}
            4 => {
                let a = Ipv4Addr::new(self.addr[0], self.addr[1], self.addr[2], self.addr[3]);
                f.push(Field::new("sll.src.ipv4", "Source", Value::Ipv4(a)));
            }
            6 => {
                if let Some(mac) = self.src_mac() {
                    f.push(Field::new("sll.src.eth", "Source", Value::Mac(mac)));
                }
            }
            _ => f.push(Field::new("sll.src.other", "Source", Value::Bytes(self.src_bytes().to_vec()))),
        }
        let used = usize::from(self.halen);
        if used < ADDR_LEN {
            f.push(Field::new("sll.unused", "Unused", Value::Bytes(self.addr[used..].to_vec())));
        }
    }

    /// `sll.ltype` (≤ 1536), `sll.gretype` (hatype ARPHRD_IPGRE) or `sll.etype`.
    fn protocol_field(&self) -> Field {
        let p = self.protocol;
        if p <= MAX_LINUX_PROTOCOL {
            Field::hex("sll.ltype", "Protocol", p, 4).shown(format!("{} (0x{p:04x})", ltype_name(p)))
        } else if self.hatype == ARPHRD_IPGRE {
            Field::hex("sll.gretype", "Protocol", p, 4).shown(format!("{} (0x{p:04x})", gretype_name(p)))
        } else {
            Field::hex("sll.etype", "Protocol", p, 4).shown(ethertype_shown(p))
        }
    }

    /// The subtree heading, as `tshark -V` prints it.
    pub fn title(&self) -> String {
        format!("Linux cooked capture v{}", self.version)
    }

    /// A one-line summary: "Sent by us, from de:1b:7c:48:1f:02 (Ethernet), IPv4 (0x0800)".
    pub fn summary(&self) -> String {
        let mut s = pkttype_name(self.pkttype).to_string();
        if let Some(i) = self.ifindex {
            s.push_str(&format!(" on interface {i}"));
        }
        match self.halen {
            0 => {}
            4 | 6 => {
                let shown = self
                    .fields()
                    .into_iter()
                    .find(|f| f.name.starts_with("sll.src."))
                    .map(|f| f.shown_text().into_owned());
                s.push_str(&format!(", from {} ({})", shown.unwrap_or_default(), hatype_name(self.hatype)));
            }
            _ => s.push_str(&format!(", from {} ({})", crate::trace::hex(self.src_bytes()), hatype_name(self.hatype))),
        }
        s.push_str(", ");
        s.push_str(&self.protocol_field().shown_text());
        s
    }

    /// The `sll` record of a received frame: header `0..len()`, overhead `len()` (the header is
    /// all the capture added; there is no trailer or FCS), `payload_len` the bytes after it.
    pub fn record(&self, payload_len: usize) -> Record {
        let mut r = Record::new(LayerId::DataLink, Direction::Up, "sll", self.title(), PduName::Frame);
        r.summary = self.summary();
        r.header = 0..self.len();
        r.payload_len = payload_len;
        r.overhead = self.len();
        r.fields = self.fields();
        if self.ethertype().is_none() {
            r.notes.push(format!(
                "protocol 0x{:04x} is a Linux pseudo-protocol ({}), not an EtherType: the payload is not dissected",
                self.protocol,
                ltype_name(self.protocol)
            ));
        }
        if self.halen > 8 {
            r.notes.push(format!("the {}-byte source address was cut to the header's 8 bytes", self.halen));
        }
        r
    }
}

/// `sll.trailer`: bytes after the payload's own length (an IPv4/IPv6 packet shorter than what
/// the capture holds). tshark adds it to the `sll` subtree, after the header fields, once the
/// layer above has said how long it is; the dissector can push it onto the record.
pub fn trailer_field(bytes: &[u8]) -> Field {
    Field::new("sll.trailer", "Trailer", Value::Bytes(bytes.to_vec()))
}

/// The name tshark gives a packet type ("Unicast to us"), or "Unknown".
pub fn pkttype_name(t: u16) -> &'static str {
    match t {
        pkttype::HOST => "Unicast to us",
        pkttype::BROADCAST => "Broadcast",
        pkttype::MULTICAST => "Multicast",
        pkttype::OTHERHOST => "Unicast to another host",
        pkttype::OUTGOING => "Sent by us",
        _ => "Unknown",
    }
}

/// The name tshark 4.0 gives an ARP hardware type (`arp_hrd_vals` as it applies to
/// `<linux/if_arp.h>` ARPHRD_* values), or "Unknown". The common ones only.
pub fn hatype_name(t: u16) -> &'static str {
    match t {
        0 => "NET/ROM pseudo",
        1 => "Ethernet",
        2 => "Experimental Ethernet",
        3 => "AX.25",
        6 => "IEEE 802",
        7 => "ARCNET",
        15 => "Frame Relay DLCI",
        19 => "ATM (RFC 2225)",
        24 => "IEEE 1394.1995",
        27 => "EUI-64",
        32 => "InfiniBand",
        280 => "Controller Area Network",
        512 => "PPP",
        513 => "Cisco HDLC",
        516 => "LAPB",
        518 => "Raw HDLC",
        519 => "Raw IP",
        768 => "IPIP tunnel",
        769 => "IP6IP6 tunnel",
        772 => "Loopback",
        774 => "Fiber Distributed Data Interface",
        776 => "sit0 device - IPv6-in-IPv4",
        778 => "GRE over IP",
        801 => "IEEE 802.11",
        803 => "IEEE 802.11 + radiotap header",
        804 => "IEEE 802.15.4",
        823 => "GRE over IPv6",
        824 => "Netlink",
        825 => "IPv6 over LoWPAN",
        65534 => "zero header length",
        65535 => "Void type, nothing is known",
        _ => "Unknown",
    }
}

/// The name tshark gives a Linux pseudo-protocol (`sll.ltype`), or "Unknown".
pub fn ltype_name(p: u16) -> &'static str {
    match p {
        0x0001 => "Raw 802.3",
        0x0003 => "Ethernet",
        0x0004 => "802.2 LLC",
        0x0007 => "PPP (HDLC)",
        0x000c => "CAN",
        0x000d => "CAN FD",
        0x0017 => "IrDA LAP",
        0x00f5 => "ISI",
        0x00f6 => "IEEE 802.15.4",
        _ => "Unknown",
    }
}

/// The name tshark gives a GRE protocol type (`sll.gretype`), for the common ones.
pub fn gretype_name(p: u16) -> &'static str {
    match p {
        0x0800 => "IP",
        0x86dd => "IPv6",
        0x0806 => "ARP",
        0x6558 => "Transparent Ethernet bridging",
        0x8847 => "MPLS label switched packet",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field name → value as `tshark -T fields` prints it.
    fn values(h: &SllHeader) -> Vec<(String, String)> {
        h.fields().into_iter().map(|f| (f.name.into_owned(), f.value.to_string())).collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    /// Frame 2 of a real `tcpdump -i any -y LINUX_SLL` capture in a network namespace: an ARP
    /// request sent by us on a veth. `tshark -T fields` printed: sll.pkttype 4, sll.hatype 1,
    /// sll.halen 6, sll.src.eth de:1b:7c:48:1f:02, sll.unused 0000, sll.etype 0x0806.
    const V1_ARP_OUT: [u8; 16] =
        [0x00, 0x04, 0x00, 0x01, 0x00, 0x06, 0xde, 0x1b, 0x7c, 0x48, 0x1f, 0x02, 0x00, 0x00, 0x08, 0x06];

    /// Frame 22 of the same capture made with `-y LINUX_SLL2`: an IPv4 packet to another host's
    /// MAC (seen on our veth). tshark printed: sll.etype 0x0800, sll.ifindex 2, sll.hatype 1,
    /// sll.pkttype 3, sll.halen 6, sll.src.eth 5e:6d:d1:01:19:a9, sll.unused 0000.
    const V2_OTHERHOST: [u8; 20] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x03, 0x06, 0x5e, 0x6d, 0xd1, 0x01, 0x19, 0xa9,
        0x00, 0x00,
    ];

    /// Frame 8 (`-y LINUX_SLL2`): ping on lo. tshark: sll.etype 0x0800, sll.ifindex 1,
    /// sll.hatype 772, sll.pkttype 0, sll.halen 6, sll.src.eth 00:00:00:00:00:00, sll.unused 0000.
    const V2_LOOPBACK: [u8; 20] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ];

    #[test]
    fn real_v1_header() {
        let h = SllHeader::parse_v1(&V1_ARP_OUT, 0).unwrap();
        assert_eq!(h.len(), 16);
        assert_eq!(h.ethertype(), Some(0x0806));
        assert_eq!(
            values(&h),
            pairs(&[
                ("sll.pkttype", "4"),
                ("sll.hatype", "1"),
                ("sll.halen", "6"),
                ("sll.src.eth", "de:1b:7c:48:1f:02"),
                ("sll.unused", "0000"),
                ("sll.etype", "0x0806"),
            ])
        );
        let r = h.record(28);
        assert_eq!(r.protocol, "sll");
        assert_eq!(r.title, "Linux cooked capture v1");
        assert_eq!(r.header, 0..16);
        assert_eq!(r.overhead, 16);
        assert_eq!(r.payload_len, 28);
        assert_eq!(r.direction, Direction::Up);
        assert_eq!(r.layer, LayerId::DataLink);
        // tshark -V: "Packet type: Sent by us (4)", "Link-layer address type: Ethernet (1)",
        // "Protocol: ARP (0x0806)".
        assert_eq!(r.field("sll.pkttype").unwrap().shown, "Sent by us (4)");
        assert_eq!(r.field("sll.hatype").unwrap().shown, "Ethernet (1)");
        assert_eq!(r.field("sll.etype").unwrap().shown, "ARP (0x0806)");
        assert!(r.notes.is_empty());
    }

    #[test]
    fn real_v2_headers() {
        let h = SllHeader::parse_v2(&V2_OTHERHOST, 0).unwrap();
        assert_eq!(h.len(), 20);
        assert_eq!(h.ifindex, Some(2));
        assert_eq!(
            values(&h),
            pairs(&[
                ("sll.etype", "0x0800"),
                ("sll.ifindex", "2"),
                ("sll.hatype", "1"),
                ("sll.pkttype", "3"),
                ("sll.halen", "6"),
                ("sll.src.eth", "5e:6d:d1:01:19:a9"),
                ("sll.unused", "0000"),
            ])
        );
        let r = h.record(28);
        assert_eq!(r.title, "Linux cooked capture v2");
        assert_eq!(r.field("sll.pkttype").unwrap().shown, "Unicast to another host (3)");
        assert_eq!(r.header, 0..20);

        let lo = SllHeader::parse_v2(&V2_LOOPBACK, 0).unwrap();
        assert_eq!(
            values(&lo),
            pairs(&[
                ("sll.etype", "0x0800"),
                ("sll.ifindex", "1"),
                ("sll.hatype", "772"),
                ("sll.pkttype", "0"),
                ("sll.halen", "6"),
                ("sll.src.eth", "00:00:00:00:00:00"),
                ("sll.unused", "0000"),
            ])
        );
        assert_eq!(lo.record(84).field("sll.hatype").unwrap().shown, "Loopback (772)");
    }

    /// v1 header with the given fields.
    fn v1(pkttype: u16, hatype: u16, halen: u16, addr: [u8; 8], protocol: u16) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [pkttype, hatype, halen] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend_from_slice(&addr);
        b.extend_from_slice(&protocol.to_be_bytes());
        b
    }

    /// Crafted headers, values as tshark 4.0.17 printed them for the same bytes.
    #[test]
    fn address_and_protocol_variants() {
        let a = [1, 2, 3, 4, 5, 6, 7, 8];
        let case =
            |halen, hatype, protocol| values(&SllHeader::parse_v1(&v1(1, hatype, halen, a, protocol), 0).unwrap());
        // halen 4: an IPv4 address, 4 unused bytes.
        assert_eq!(
            case(4, 1, 0x0800)[3..],
            pairs(&[("sll.src.ipv4", "1.2.3.4"), ("sll.unused", "05060708"), ("sll.etype", "0x0800")])[..]
        );
        // halen 0: no address, all 8 bytes unused.
        assert_eq!(case(0, 1, 0x0800)[3..], pairs(&[("sll.unused", "0102030405060708"), ("sll.etype", "0x0800")])[..]);
        // halen 8 and 10: sll.src.other of 8 bytes, nothing unused.
        for halen in [8, 10] {
            assert_eq!(
                case(halen, 1, 0x86dd)[3..],
                pairs(&[("sll.src.other", "0102030405060708"), ("sll.etype", "0x86dd")])[..]
            );
        }
        // halen 2 on an unknown hardware type: 2 bytes of address, 6 unused.
        assert_eq!(
            case(2, 65535, 0x86dd)[3..],
            pairs(&[("sll.src.other", "0102"), ("sll.unused", "030405060708"), ("sll.etype", "0x86dd")])[..]
        );
        // ≤ 1536 is a Linux protocol (0x0600 included), 1537 an EtherType.
        assert_eq!(case(6, 1, 0x0004).last().unwrap(), &("sll.ltype".to_string(), "0x0004".to_string()));
        assert_eq!(case(6, 1, 0x0600).last().unwrap(), &("sll.ltype".to_string(), "0x0600".to_string()));
        assert_eq!(case(6, 1, 0x0601).last().unwrap(), &("sll.etype".to_string(), "0x0601".to_string()));
        // GRE device: sll.gretype.
        assert_eq!(case(4, 778, 0x0800).last().unwrap(), &("sll.gretype".to_string(), "0x0800".to_string()));

        let h = SllHeader::parse_v1(&v1(7, 778, 4, a, 0x0800), 0).unwrap();
        let r = h.record(0);
        assert_eq!(r.field("sll.pkttype").unwrap().shown, "Unknown (7)");
        assert_eq!(r.field("sll.hatype").unwrap().shown, "GRE over IP (778)");
        assert_eq!(r.field("sll.gretype").unwrap().shown, "IP (0x0800)");
        assert_eq!(h.ethertype(), Some(0x0800));

        let llc = SllHeader::parse_v1(&v1(0, 1, 6, a, 0x0004), 0).unwrap();
        assert_eq!(llc.ethertype(), None);
        let r = llc.record(13);
        assert_eq!(r.field("sll.ltype").unwrap().shown, "802.2 LLC (0x0004)");
        assert_eq!(r.notes.len(), 1);
    }

    #[test]
    fn v2_fields_one_byte_wide_and_big_ifindex() {
        let mut b = V2_OTHERHOST;
        b[2] = 0xab; // reserved: ignored
        b[4..8].copy_from_slice(&0xffff_fffeu32.to_be_bytes());
        b[10] = 0xff;
        let h = SllHeader::parse_v2(&b, 0).unwrap();
        assert_eq!(h.pkttype, 255);
        assert_eq!(h.field_value("sll.ifindex"), "4294967294");
        assert_eq!(h.field_value("sll.pkttype"), "255");
    }

    impl SllHeader {
        fn field_value(&self, name: &str) -> String {
            self.fields().into_iter().find(|f| f.name == name).map(|f| f.value.to_string()).unwrap_or_default()
        }
    }

    #[test]
    fn truncated_headers_name_layer_and_offset() {
        for n in 0..16 {
            let e = SllHeader::parse_v1(&V1_ARP_OUT[..n], 0).unwrap_err();
            assert_eq!(e.layer, Some(LayerId::DataLink));
            assert_eq!(e.protocol, PROTO);
            assert_eq!(e.offset, Some(n));
        }
        let e = SllHeader::parse_v2(&V2_OTHERHOST[..10], 100).unwrap_err();
        assert_eq!(e.offset, Some(110));
        assert_eq!(
            e.to_string(),
            "L2 data link (Linux cooked capture) at byte 110: truncated Linux cooked capture v2 header: needs 20 \
             bytes, only 10 present"
        );
    }

    #[test]
    fn netlink_and_trailer() {
        let h = SllHeader::parse_v1(&v1(4, ARPHRD_NETLINK, 0, [0; 8], 0x0000), 0).unwrap();
        assert!(h.is_netlink());
        assert_eq!(trailer_field(&[0xee, 0xee]).value.to_string(), "eeee");
    }

    /// Partial headers, checked against tshark 4.0.17 on a capture of every prefix of these
    /// headers: fields up to the first one that does not fit, none below 4 (v1) / 12 (v2) bytes.
    #[test]
    fn partial_fields_stop_where_tshark_stops() {
        let names = |b: &[u8], v| SllHeader::partial_fields(b, v).into_iter().map(|f| f.name).collect::<Vec<_>>();
        assert!(names(&V1_ARP_OUT[..3], 1).is_empty());
        assert_eq!(names(&V1_ARP_OUT[..4], 1), ["sll.pkttype", "sll.hatype"]);
        assert_eq!(names(&V1_ARP_OUT[..11], 1), ["sll.pkttype", "sll.hatype", "sll.halen"]);
        assert_eq!(
            names(&V1_ARP_OUT[..14], 1),
            ["sll.pkttype", "sll.hatype", "sll.halen", "sll.src.eth", "sll.unused"]
        );
        assert!(names(&V2_OTHERHOST[..11], 2).is_empty());
        assert_eq!(
            names(&V2_OTHERHOST[..12], 2),
            ["sll.etype", "sll.ifindex", "sll.hatype", "sll.pkttype", "sll.halen"]
        );
        assert_eq!(names(&V2_OTHERHOST[..19], 2).last().map(|n| &**n), Some("sll.src.eth"));
        assert_eq!(names(&V2_OTHERHOST, 2).len(), 7);
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24)) {
            for v in [1, 2] {
                let parsed = if v == 1 { SllHeader::parse_v1(&b, 0) } else { SllHeader::parse_v2(&b, 0) };
                if let Ok(h) = parsed {
                    let r = h.record(b.len() - h.len());
                    proptest::prop_assert_eq!(r.fields.len(), h.fields().len());
                    let _ = h.summary();
                }
                let _ = SllHeader::partial_fields(&b, v);
            }
        }
    }

    #[test]
    fn summary_reads_well() {
        let h = SllHeader::parse_v1(&V1_ARP_OUT, 0).unwrap();
        assert_eq!(h.summary(), "Sent by us, from de:1b:7c:48:1f:02 (Ethernet), ARP (0x0806)");
        let h = SllHeader::parse_v2(&V2_LOOPBACK, 0).unwrap();
        assert_eq!(h.summary(), "Unicast to us on interface 1, from 00:00:00:00:00:00 (Loopback), IPv4 (0x0800)");
    }
}
