//! Capture mode (`osilab dissect`): L2 as an analyzer sees frames, not as a station receives them.
//!
//! A frame arrives as pcap's LINKTYPE_ETHERNET holds it: from the destination address on, with
//! no FCS (the capturing host's NIC strips it), possibly shorter than 60 bytes (an outgoing frame
//! captured before the driver padded it) or longer than 1518 (a GSO/TSO "super-frame" captured
//! on the sending host). So, unlike a station (IEEE 802.3 §4.2.4), capture mode checks no FCS, no
//! minimum or maximum length and no destination address. It reads, as Wireshark does:
//!
//! - the Ethernet II header (IEEE 802.3 §3.1.1), and any number of 802.1Q tags (IEEE 802.1Q
//!   §9.6; at most [`MAX_TAGS`]), each its own record: `vlan` for a C-tag (TPID 0x8100),
//!   `ieee8021ad` for an S-tag (TPID 0x88a8, IEEE 802.1Q §9.5 "Q-in-Q"), as tshark names them;
//! - a length/type field of 1..=1500 as an IEEE 802.3 length (§3.2.6; 0 is an unknown type to
//!   Wireshark, as it is here): the `eth` record
//!   titled "IEEE 802.3 Ethernet" shows `eth.len` (`vlan.len` after a tag), the payload is that
//!   many bytes, passed up with `meta.ethertype` set to the length and an expert item saying LLC
//!   is not dissected; a length past the end of the frame is Wireshark's Malformed error;
//! - 1501..=1535, neither a length nor a type, as Wireshark's "Ethernet Unknown" with
//!   `eth.invalid_lentype` and a warning;
//! - ARP (RFC 826) of any hardware and protocol type ([`CapturedArp`]), whose payload is the
//!   packet alone (a packet cut short is an error naming L2 and the byte where it ends);
//! - any other EtherType: its payload passed up with `meta.ethertype`, for the dissector to show.
//!
//! What follows the layer above's packet (padding, a trailer, an FCS) is for the dissector to
//! name with [`trailer`](super::trailer::trailer), since only the layer above knows where its
//! packet ends.

use super::arp::{CapturedArp, ETHERTYPE_ARP};
use super::frame::{self, ethertype_shown, FrameHeader, HEADER_LEN, MIN_ETHERTYPE, PROTO, TPID, VLAN_TAG_LEN};
use super::{vlan_record, VlanTag};
use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Pdu, PduName};
use crate::trace::{Direction, Expert, Field, Group, Record, Severity};

/// At most this many stacked 802.1Q tags are read (tshark reads them without a bound; real
/// frames carry one or two).
pub const MAX_TAGS: usize = 8;
/// IEEE 802.1Q §9.5: the TPID of a service (S-)tag.
pub const S_TPID: u16 = 0x88a8;
/// IEEE 802.3 §3.2.6: the largest length value (the MAC client data of a basic frame).
pub const MAX_LENGTH: u16 = 1500;

/// What the length/type field after the addresses and tags holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LenType {
    /// ≥ 0x0600: an EtherType.
    Type(u16),
    /// ≤ 1500: an IEEE 802.3 length.
    Length(u16),
    /// 1501..=1535: neither.
    Invalid(u16),
}

impl LenType {
    fn of(v: u16) -> Self {
        // Wireshark (packet-eth.c) reads 0x0000 as an (unknown) EtherType, not as an empty
        // 802.3 frame.
        if v >= MIN_ETHERTYPE || v == 0 {
            LenType::Type(v)
        } else if v <= MAX_LENGTH {
            LenType::Length(v)
        } else {
            LenType::Invalid(v)
        }
    }

    fn value(self) -> u16 {
        match self {
            LenType::Type(v) | LenType::Length(v) | LenType::Invalid(v) => v,
        }
    }
}

/// Decapsulate one captured frame (`meta.offset` = where it starts, normally 0).
pub(super) fn decapsulate(frame: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    let base = meta.offset;
    let len = frame.len();
    let Some(head) = frame.first_chunk::<HEADER_LEN>() else {
        return Err(Error::truncated(LayerId::DataLink, PROTO, base + len, "Ethernet header", HEADER_LEN, len));
    };
    let mac = |r: std::ops::Range<usize>| {
        let mut m = [0u8; 6];
        m.copy_from_slice(&head[r]);
        MacAddr(m)
    };
    let (dst, src) = (mac(frame::field::DST), mac(frame::field::SRC));
    let outer = u16::from_be_bytes([head[12], head[13]]);

    // IEEE 802.1Q §9.5: a TPID of 0x8100 means a tag follows, and after it another length/type.
    let mut tags: Vec<(VlanTag, u16, bool)> = Vec::new();
    let mut pos = HEADER_LEN;
    let mut ty = outer;
    let mut cut_tag = None;
    while (ty == TPID || ty == S_TPID) && tags.len() < MAX_TAGS {
        let service = ty == S_TPID;
        let Some(tag) = frame.get(pos..pos + VLAN_TAG_LEN) else {
            cut_tag =
                Some(Error::truncated(LayerId::DataLink, PROTO, base + len, "802.1Q tag", pos + VLAN_TAG_LEN, len));
            break;
        };
        let tci = u16::from_be_bytes([tag[0], tag[1]]);
        ty = u16::from_be_bytes([tag[2], tag[3]]);
        tags.push((VlanTag::from_tci(tci), ty, service));
        pos += VLAN_TAG_LEN;
    }
    let hlen = pos;
    let lentype = LenType::of(ty);
    let avail = len - hlen;
    let payload_len = match lentype {
        LenType::Length(l) => usize::from(l).min(avail),
        _ => avail,
    };

    let hdr = FrameHeader { dst, src, vlan: tags.first().map(|t| t.0), ethertype: ty };
    let detail = cx.detail;
    let mut eth = Record::new(LayerId::DataLink, Direction::Up, "eth", cx.text(|| hdr.title()), PduName::Frame);
    eth.header = 0..hlen;
    eth.payload_len = payload_len;
    eth.overhead = hlen;
    eth.fields = hdr.eth_fields(detail);
    // eth_fields ends with eth.type: the outer field, which is the TPID in a tagged frame.
    eth.fields.pop();
    match (lentype, tags.is_empty()) {
        (LenType::Length(l), true) => {
            eth.title = cx.text(|| "IEEE 802.3 Ethernet".to_string());
            eth.fields.push(Field::uint("eth.len", "Length", l));
        }
        (LenType::Invalid(v), true) => {
            eth.title = cx.text(|| hdr.title().replacen("Ethernet II", "Ethernet Unknown", 1));
            let msg = format!("Invalid length/type: 0x{v:04x} ({v})");
            eth.fields.push(
                Field::hex("eth.invalid_lentype", "Invalid length/type", v, 4)
                    .shown_if(detail, || format!("0x{v:04x} ({v})")),
            );
            eth.expert.push(Expert::new(Severity::Warning, Group::Protocol, msg, base + frame::field::ETHERTYPE.start));
        }
        _ => {
            eth.fields.push(Field::hex("eth.type", "Type", outer, 4).shown_if(detail, || ethertype_shown(outer)));
        }
    }
    if detail {
        let what = match (lentype, tags.is_empty()) {
            (LenType::Length(l), true) => format!("802.3 length {l}"),
            (LenType::Invalid(v), true) => format!("invalid length/type 0x{v:04x}"),
            _ => ethertype_shown(ty),
        };
        eth.summary = format!("{} → {}, {what}, {len}-byte frame", src, frame::mac_shown(dst));
        eth.notes.push("captured frame: no FCS, any length and destination (capture mode)".into());
    }

    // One record per tag, each at its own 4 bytes; the last says what follows the tags.
    let mut vlans = Vec::with_capacity(tags.len());
    for (i, (tag, inner, service)) in tags.iter().enumerate() {
        let mut r = if *service {
            s_tag_record(*tag, *inner, payload_len)
        } else {
            vlan_record(Direction::Up, *tag, *inner, payload_len)
        };
        let at = HEADER_LEN + i * VLAN_TAG_LEN;
        r.header = at..at + VLAN_TAG_LEN;
        if let LenType::Length(l) = LenType::of(*inner) {
            if let Some(last) = r.fields.last_mut() {
                *last = Field::uint("vlan.len", "Length", l);
            }
        }
        vlans.push(r);
    }
    if let LenType::Length(l) = lentype {
        // IEEE 802.3 §3.2.6: the length counts the MAC client data (an LLC PDU, IEEE 802.2).
        let holder = vlans.last_mut().unwrap_or(&mut eth);
        let at = base + hlen - 2;
        if usize::from(l) > avail {
            holder.expert.push(Expert::new(
                Severity::Error,
                Group::Malformed,
                "Length field value goes past the end of the payload",
                at,
            ));
        }
        holder.expert.push(Expert::new(
            Severity::Note,
            Group::Undecoded,
            format!("IEEE 802.3 length frame ({l} bytes of LLC data): LLC (IEEE 802.2) is not dissected"),
            at,
        ));
    }
    cx.trace.push(eth);
    cx.trace.records.extend(vlans);
    if let Some(e) = cut_tag {
        return Err(e);
    }

    let mut payload = hlen..hlen + payload_len;
    if ty == ETHERTYPE_ARP {
        match CapturedArp::parse(&frame[payload.clone()], base + hlen) {
            Ok(p) => {
                let mut r = Record::new(LayerId::DataLink, Direction::Up, "arp", p.title(), PduName::Frame);
                r.summary = p.summary();
                r.header = hlen..hlen + p.len();
                r.fields = p.fields();
                cx.trace.push(r);
                payload = hlen..hlen + p.len();
            }
            Err(cut) => {
                if !cut.fields.is_empty() {
                    let mut r = Record::new(
                        LayerId::DataLink,
                        Direction::Up,
                        "arp",
                        "Address Resolution Protocol",
                        PduName::Frame,
                    );
                    r.header = hlen..len;
                    r.fields = cut.fields;
                    cx.trace.push(r);
                }
                return Err(cut.error);
            }
        }
    }
    let bytes = crate::layer::keep_range(frame, payload);
    let meta = Meta { offset: base + hlen, ethertype: Some(lentype.value()), dst_mac: None, ..meta };
    Ok(Some(Pdu { data: Data::Bytes(bytes), meta }))
}

/// tshark's record for an 802.1ad service tag: "IEEE 802.1ad, ID: 7", with `ieee8021ad.priority`,
/// `.dei`, `.id` and the type after it, which tshark files under `ieee8021ah.etype`.
fn s_tag_record(tag: VlanTag, ethertype: u16, payload_len: usize) -> Record {
    let mut r = Record::new(
        LayerId::DataLink,
        Direction::Up,
        "ieee8021ad",
        format!("IEEE 802.1ad, ID: {}", tag.id),
        PduName::Frame,
    );
    r.summary = format!("S-VLAN {}, priority {}", tag.id, tag.pcp);
    r.payload_len = payload_len;
    r.fields = vec![
        Field::uint("ieee8021ad.priority", "Priority", tag.pcp),
        Field::uint("ieee8021ad.dei", "DEI", u8::from(tag.dei)),
        Field::uint("ieee8021ad.id", "ID", tag.id),
        Field::hex("ieee8021ah.etype", "Type", ethertype, 4).shown(ethertype_shown(ethertype)),
    ];
    r.notes.push("the tag's 4 bytes are counted in the Ethernet record's header and overhead".into());
    r
}
