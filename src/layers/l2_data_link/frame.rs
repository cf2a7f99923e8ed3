//! The Ethernet II frame and its optional IEEE 802.1Q tag: the header as a representation
//! ([`FrameHeader`], built and read with etherparse's `Ethernet2Header` and `SingleVlanHeader`),
//! the FCS, and the trace fields under Wireshark's names.
//!
//! Read first: IEEE 802.3-2018 §3.1.1 (frame format), §3.2.9 (the FCS, and the order its bits go
//! on the wire), §4.2.3.3 (minimum frame size, padding); IEEE 802.1Q-2018 §9.6 (the tag).
//!
//! ```text
//!  0        6        12     14           14/18          ≥60 (without FCS)
//!  +--------+--------+------+ - - - - - -+--------------+---------+-----+
//!  |  dst   |  src   | type | [tag: TPID | payload      | padding | FCS |
//!  |        |        |      |  TCI type] |  0..=1500    | (zeros) |  4  |
//!  +--------+--------+------+ - - - - - -+--------------+---------+-----+
//! ```
//!
//! Every function here that takes bytes checks their length first and never panics.

use super::VlanTag;
use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::trace::{Field, Value};
use etherparse::{EtherType, Ethernet2Header, SingleVlanHeader, VlanId, VlanPcp};

/// The protocol name used in errors.
pub(super) const PROTO: &str = "Ethernet II";

/// Byte ranges of the header fields (IEEE 802.3 §3.1.1; IEEE 802.1Q §9.3).
pub mod field {
    use std::ops::Range;
    /// Destination MAC address.
    pub const DST: Range<usize> = 0..6;
    /// Source MAC address.
    pub const SRC: Range<usize> = 6..12;
    /// EtherType (or, in a tagged frame, the TPID 0x8100).
    pub const ETHERTYPE: Range<usize> = 12..14;
    /// 802.1Q tag control information: PCP (3 bits), DEI (1), VID (12).
    pub const TCI: Range<usize> = 14..16;
    /// The EtherType after the tag.
    pub const INNER_ETHERTYPE: Range<usize> = 16..18;
}

/// Length of the untagged header (dst, src, type).
pub const HEADER_LEN: usize = 14;
/// Length of an 802.1Q tag (TPID + TCI).
pub const VLAN_TAG_LEN: usize = 4;
/// Length of the frame check sequence.
pub const FCS_LEN: usize = 4;
/// IEEE 802.3 §4.4.2: minFrameSize, 512 bits, FCS included.
pub const MIN_FRAME_LEN: usize = 64;
/// The minimum without the FCS: the length a frame is padded to before the FCS is appended
/// (IEEE 802.3 §4.2.3.3; Linux pads to ETH_ZLEN = 60, tag included).
pub const MIN_FRAME_LEN_NO_FCS: usize = MIN_FRAME_LEN - FCS_LEN;
/// The MTU: IEEE 802.3 §3.2.7, at most 1500 bytes of MAC client data.
pub const MTU: usize = 1500;
/// IEEE 802.3 §3.2.7 / §4.4.2 maxUntaggedFrameSize: 1518 bytes, FCS included.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MTU + FCS_LEN;
/// IEEE 802.3 §3.5: a Q-tagged frame may be 4 bytes longer, 1522.
pub const MAX_TAGGED_FRAME_LEN: usize = MAX_FRAME_LEN + VLAN_TAG_LEN;
/// IEEE 802.1Q §9.5: the tag protocol identifier of a C-VLAN tag.
pub const TPID: u16 = 0x8100;
/// IEEE 802.3 §3.2.6: type values start at 0x0600; smaller values are an 802.3 length field.
pub const MIN_ETHERTYPE: u16 = 0x0600;
/// The CRC-32 of any frame followed by its own correct FCS (least significant byte first): the
/// "residue" of IEEE 802.3 §3.2.9, as computed by the same reflected CRC with its final inversion.
pub const FCS_RESIDUE: u32 = 0x2144_DF1C;

/// The frame check sequence (IEEE 802.3 §3.2.9): the CRC-32 (polynomial 0x04C11DB7, reflected,
/// initial value and final XOR all ones) of everything from the destination address to the end
/// of the padding. It goes on the wire least significant byte first: append
/// `fcs(f).to_le_bytes()`.
pub fn fcs(frame_without_fcs: &[u8]) -> u32 {
    crc32fast::hash(frame_without_fcs)
}

/// True when the last four bytes of `frame` are its correct FCS (the CRC over the whole frame,
/// FCS included, leaves the 802.3 residue).
pub fn fcs_ok(frame: &[u8]) -> bool {
    frame.len() >= FCS_LEN && crc32fast::hash(frame) == FCS_RESIDUE
}

/// A name for an EtherType as Wireshark prints it ("IPv4", "ARP"), or "Unknown".
pub fn ethertype_name(t: u16) -> &'static str {
    match EtherType(t) {
        EtherType::IPV4 => "IPv4",
        EtherType::IPV6 => "IPv6",
        EtherType::ARP => "ARP",
        EtherType::VLAN_TAGGED_FRAME => "802.1Q Virtual LAN",
        EtherType::PROVIDER_BRIDGING => "802.1ad Provider Bridge (Q-in-Q)",
        EtherType::VLAN_DOUBLE_TAGGED_FRAME => "QinQ: old non-standard 802.1ad",
        EtherType::WAKE_ON_LAN => "Wake on LAN",
        EtherType::MACSEC => "802.1AE (MACsec)",
        EtherType(0x88cc) => "802.1 Link Layer Discovery Protocol (LLDP)",
        _ => "Unknown",
    }
}

/// "IPv4 (0x0800)", as tshark shows `eth.type`.
pub fn ethertype_shown(t: u16) -> String {
    format!("{} (0x{t:04x})", ethertype_name(t))
}

/// The name IEEE 802.1Q Annex I gives a priority, as Wireshark shows `vlan.priority`.
pub fn pcp_name(pcp: u8) -> &'static str {
    match pcp {
        0 => "Best Effort (default)",
        1 => "Background",
        2 => "Excellent Effort",
        3 => "Critical Applications",
        4 => "Video, < 100ms latency and jitter",
        5 => "Voice, < 10ms latency and jitter",
        6 => "Internetwork Control",
        _ => "Network Control",
    }
}

impl VlanTag {
    /// The 16-bit tag control information: PCP (3 bits), DEI (1 bit), VID (12 bits)
    /// (IEEE 802.1Q §9.6). Out-of-range parts are masked.
    pub fn tci(self) -> u16 {
        (u16::from(self.pcp & 0x7) << 13) | (u16::from(self.dei) << 12) | (self.id & 0x0fff)
    }

    /// The tag with this TCI.
    pub fn from_tci(tci: u16) -> Self {
        // The shift leaves 3 bits, so the cast cannot truncate.
        VlanTag { pcp: (tci >> 13) as u8, dei: tci & 0x1000 != 0, id: tci & 0x0fff }
    }

    /// IEEE 802.1Q §9.6 (Table 9-2): a sender's tag must have a PCP of 0..=7 and a VID of
    /// 1..=4094: VID 0 means "priority tag only, no VLAN" and 4095 is reserved.
    pub fn validate(self) -> Result<()> {
        if self.pcp > VlanPcp::MAX_U8 {
            return Err(Error::config(
                Some(LayerId::DataLink),
                format!("802.1Q priority (PCP) {} is out of range: it is a 3-bit field, 0..=7", self.pcp),
            ));
        }
        if self.id == 0 || self.id >= VlanId::MAX_U16 {
            return Err(Error::config(
                Some(LayerId::DataLink),
                format!(
                    "802.1Q VLAN ID {} is not usable: valid IDs are 1..=4094 (0 means a priority tag \
                     without a VLAN, 4095 is reserved; IEEE 802.1Q §9.6)",
                    self.id
                ),
            ));
        }
        Ok(())
    }
}

/// The header of an Ethernet II frame, with its 802.1Q tag if it has one: the representation
/// that [`FrameHeader::emit`] writes and [`FrameHeader::parse`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// The 802.1Q tag, if the frame is tagged.
    pub vlan: Option<VlanTag>,
    /// The EtherType of the payload (after the tag, in a tagged frame).
    pub ethertype: u16,
}

impl FrameHeader {
    /// 14, or 18 with a tag.
    pub fn len(&self) -> usize {
        HEADER_LEN + if self.vlan.is_some() { VLAN_TAG_LEN } else { 0 }
    }

    /// Never empty; present for the `len` convention.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The header bytes. A tag's out-of-range PCP/VID bits are masked (validate first).
    pub fn emit(&self) -> Vec<u8> {
        let outer_type = if self.vlan.is_some() { TPID } else { self.ethertype };
        let eth = Ethernet2Header { destination: self.dst.0, source: self.src.0, ether_type: EtherType(outer_type) };
        let mut out = eth.to_bytes().to_vec();
        if let Some(tag) = self.vlan {
            let tci = tag.tci().to_be_bytes();
            let ety = self.ethertype.to_be_bytes();
            // from_bytes masks the fields into range, so it cannot fail.
            out.extend_from_slice(&SingleVlanHeader::from_bytes([tci[0], tci[1], ety[0], ety[1]]).to_bytes());
        }
        out
    }

    /// Read the header from the start of a frame whose first byte is at `offset` (for errors).
    /// A type of 0x8100 means a tag follows (IEEE 802.1Q §9.5); any other type is returned as is.
    pub fn parse(frame: &[u8], offset: usize) -> Result<FrameHeader> {
        let (eth, rest) = Ethernet2Header::from_slice(frame).map_err(|_| {
            Error::truncated(LayerId::DataLink, PROTO, offset + frame.len(), "Ethernet header", HEADER_LEN, frame.len())
        })?;
        let mut hdr = FrameHeader {
            dst: MacAddr(eth.destination),
            src: MacAddr(eth.source),
            vlan: None,
            ethertype: eth.ether_type.0,
        };
        if eth.ether_type == EtherType::VLAN_TAGGED_FRAME {
            let (tag, _) = SingleVlanHeader::from_slice(rest).map_err(|_| {
                Error::truncated(
                    LayerId::DataLink,
                    PROTO,
                    offset + frame.len(),
                    "802.1Q tag",
                    HEADER_LEN + VLAN_TAG_LEN,
                    frame.len(),
                )
            })?;
            hdr.vlan =
                Some(VlanTag { pcp: tag.pcp.value(), dei: tag.drop_eligible_indicator, id: tag.vlan_id.value() });
            hdr.ethertype = tag.ether_type.0;
        }
        Ok(hdr)
    }

    /// The heading of tshark's Ethernet subtree, without its name-resolution parentheses for
    /// ordinary addresses: "Ethernet II, Src: 02:00:00:00:00:01, Dst: 02:00:00:00:00:02".
    pub fn title(&self) -> String {
        format!("Ethernet II, Src: {}, Dst: {}", mac_shown(self.src), mac_shown(self.dst))
    }

    /// The `eth` fields of the header in wire order: eth.dst and eth.src with their LG/IG bits,
    /// eth.type (0x8100 when tagged, as tshark shows it). Without `detail`, no renderings
    /// ([`Context::detail`](crate::layer::Context::detail)).
    pub fn eth_fields(&self, detail: bool) -> Vec<Field> {
        let outer_type = if self.vlan.is_some() { TPID } else { self.ethertype };
        let mut f = Vec::with_capacity(7);
        let macs = [
            ("eth.dst", "eth.dst.lg", "eth.dst.ig", "Destination", self.dst),
            ("eth.src", "eth.src.lg", "eth.src.ig", "Source", self.src),
        ];
        for (name, lg, ig, label, mac) in macs {
            // Only broadcast is shown other than as the value.
            let field = Field::new(name, label, Value::Mac(mac));
            f.push(if detail && mac == MacAddr::BROADCAST { field.shown(mac_shown(mac)) } else { field });
            // IEEE 802-2014 §8.2: the U/L (Wireshark "LG") and I/G bits of the first octet.
            f.push(
                Field::flag(lg, "LG bit", mac.is_local())
                    .shown(if mac.is_local() {
                        "Locally administered address (this is NOT the factory default)"
                    } else {
                        "Globally unique address (factory default)"
                    })
                    .depth(1),
            );
            f.push(
                Field::flag(ig, "IG bit", mac.is_multicast())
                    .shown(if mac.is_multicast() {
                        "Group address (multicast/broadcast)"
                    } else {
                        "Individual address (unicast)"
                    })
                    .depth(1),
            );
        }
        f.push(Field::hex("eth.type", "Type", outer_type, 4).shown_if(detail, || ethertype_shown(outer_type)));
        f
    }
}

/// tshark's tree heading for the 802.1Q subtree: "802.1Q Virtual LAN, PRI: 3, DEI: 1, ID: 100".
pub fn vlan_title(tag: VlanTag) -> String {
    format!("802.1Q Virtual LAN, PRI: {}, DEI: {}, ID: {}", tag.pcp, u8::from(tag.dei), tag.id)
}

/// The `vlan` fields as tshark shows them: vlan.priority, vlan.dei, vlan.id, vlan.etype.
pub fn vlan_fields(tag: VlanTag, ethertype: u16) -> Vec<Field> {
    vec![
        Field::uint("vlan.priority", "Priority", tag.pcp).shown(format!("{} ({})", pcp_name(tag.pcp), tag.pcp)),
        Field::flag("vlan.dei", "DEI", tag.dei).shown(if tag.dei { "Eligible" } else { "Ineligible" }),
        Field::uint("vlan.id", "ID", tag.id),
        Field::hex("vlan.etype", "Type", ethertype, 4).shown(ethertype_shown(ethertype)),
    ]
}

/// A MAC as tshark shows it: "Broadcast (ff:ff:ff:ff:ff:ff)" for broadcast, else the address.
pub fn mac_shown(mac: MacAddr) -> String {
    if mac == MacAddr::BROADCAST {
        format!("Broadcast ({mac})")
    } else {
        mac.to_string()
    }
}
