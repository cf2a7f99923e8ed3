//! L2 data link: Ethernet II frames with an optional IEEE 802.1Q tag, the FCS, and ARP.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `VlanTag`, `DataLinkConfig`, `DataLink::new(cfg)`, `impl Layer for DataLink`
//! - `fcs(frame_without_fcs) -> u32`
//! - `arp` module: `ArpPacket` (op, sender/target MAC+IPv4) with `parse`/`emit`, `request`, `reply_to`
//! - capture mode (`DataLinkConfig::capture`, [`capture`]): frames as pcap holds them; and
//!   [`trailer()`] / [`trailer_fields`], tshark's names for the bytes after the packet of a frame
//!
//! Read first: IEEE 802.3-2018 §3 (the MAC frame: §3.1.1 format, §3.2.9 FCS, §4.2.3.3 padding),
//! IEEE 802.1Q-2018 §9 (the tag), RFC 826 (ARP). The frame layout and the FCS live in
//! [`frame`]; ARP in [`arp`].
//!
//! Trace records, matching `tshark -V`: one `eth` record per frame (eth.dst, eth.src with their
//! LG/IG bits, eth.type, eth.padding when there is any, eth.fcs); for a tagged frame eth.type is
//! 0x8100 and a separate `vlan` record follows (vlan.priority, vlan.dei, vlan.id, vlan.etype), as
//! tshark shows an "802.1Q Virtual LAN" subtree after the Ethernet one; for an ARP payload an
//! `arp` record follows. Padding and FCS stay in the `eth` record for tagged frames too, because
//! they are Ethernet's trailer (tshark 4.0 happens to list the padding under the VLAN subtree and
//! shows a tagged frame's FCS only as `vlan.trailer`, without checking it). The `vlan` and `arp`
//! records give their byte ranges within the frame and an overhead of 0: the tag's 4 bytes are
//! counted in the `eth` record's header and overhead, and the ARP packet is the frame's payload.

pub mod arp;
pub mod capture;
#[cfg(test)]
mod capture_tests;
pub mod frame;
#[cfg(test)]
mod nic_tests;
pub mod sll;
#[cfg(test)]
mod tests;
pub mod trailer;

pub use frame::{
    fcs, fcs_ok, FrameHeader, FCS_LEN, HEADER_LEN, MAX_FRAME_LEN, MAX_TAGGED_FRAME_LEN, MIN_FRAME_LEN, MTU,
};
pub use trailer::{trailer, trailer_fields, Trailer};

use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Meta, Pdu, PduName};
use crate::trace::{Check, Direction, Field, Record, Value};
use arp::ArpPacket;
use frame::{PROTO, TPID};
use serde::Serialize;
use std::ops::Range;

/// An IEEE 802.1Q tag's control information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VlanTag {
    /// Priority code point, 0..=7.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier, 1..=4094.
    pub id: u16,
}

/// L2 configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataLinkConfig {
    /// This station's MAC address (the source of frames sent).
    pub local: MacAddr,
    /// The neighbour frames are sent to (unless the SDU's meta names another).
    pub remote: MacAddr,
    /// Tag frames with this 802.1Q tag.
    pub vlan: Option<VlanTag>,
    /// Accept frames addressed to any station (a capture), not only to `local`/broadcast/multicast.
    pub promiscuous: bool,
    /// Capture mode (`osilab dissect`): frames arrive as pcap's LINKTYPE_ETHERNET holds them, with
    /// no FCS, of any length and for any destination; see [`capture`].
    pub capture: bool,
}

impl DataLinkConfig {
    /// Capture mode, as `osilab dissect` and the simulator's tap read frames: promiscuous, and
    /// the addresses (unused when only reading) locally administered placeholders.
    pub fn capture() -> Self {
        DataLinkConfig {
            local: MacAddr([0x02, 0, 0, 0, 0, 0x01]),
            remote: MacAddr([0x02, 0, 0, 0, 0, 0x02]),
            vlan: None,
            promiscuous: true,
            capture: true,
        }
    }

    /// Check what a sender needs: a unicast source address (IEEE 802.3 §3.2.3: the I/G bit of a
    /// source address is 0) and, if tagging, a usable tag ([`VlanTag::validate`]).
    pub fn validate(&self) -> Result<()> {
        if self.local.is_multicast() {
            return Err(Error::config(
                Some(LayerId::DataLink),
                format!(
                    "local MAC {} is a group address: a source address must be individual (IEEE 802.3 §3.2.3)",
                    self.local
                ),
            ));
        }
        match self.vlan {
            Some(tag) => tag.validate(),
            None => Ok(()),
        }
    }
}

/// The data link layer.
#[derive(Debug, Clone)]
pub struct DataLink {
    cfg: DataLinkConfig,
    /// The network card computes the FCS on the way out and checks and strips it on the way in
    /// ([`DataLink::set_fcs_by_nic`]).
    fcs_by_nic: bool,
}

impl DataLink {
    /// A data link layer with this configuration. The configuration is checked when a frame is
    /// sent ([`DataLinkConfig::validate`]).
    pub fn new(cfg: DataLinkConfig) -> Self {
        DataLink { cfg, fcs_by_nic: false }
    }

    /// Leave the FCS to the network card, as a real interface does (live mode: Linux's
    /// `AF_PACKET` sockets hand frames over without it, IEEE 802.3 §3.2.9). Frames sent are then
    /// complete but for the FCS (still padded to the minimum size, §4.2.3.3); frames received
    /// carry none, so there is no FCS to check, and no minimum length: the card already discarded
    /// runts and damaged frames (§4.2.4.2.2), and Linux's virtual interfaces (veth) do not pad.
    pub fn set_fcs_by_nic(&mut self, on: bool) {
        self.fcs_by_nic = on;
    }

    /// Whether the FCS is left to the network card ([`DataLink::set_fcs_by_nic`]).
    pub fn fcs_by_nic(&self) -> bool {
        self.fcs_by_nic
    }

    /// The configuration.
    pub fn config(&self) -> &DataLinkConfig {
        &self.cfg
    }

    /// IEEE 802.3 §3.2.3 / §4.2.4.1.1 (address recognition): a station takes frames sent to its
    /// own address and to group addresses (broadcast and multicast); in promiscuous mode, all.
    fn accepts(&self, dst: MacAddr) -> bool {
        self.cfg.promiscuous || dst == self.cfg.local || dst.is_multicast()
    }
}

/// The `eth` record for one frame. `padding` and `fcs_at` are ranges in `frame` (`fcs_at` is
/// `None` when the network card owns the FCS); `computed` is,
/// on the way up, the CRC computed over the received frame (as [`fcs`] returns it), which adds
/// the `eth.fcs.status` check.
///
/// `eth.fcs` shows the four FCS bytes read in wire order, as Wireshark does (its value is the
/// byte-swap of the CRC, which goes on the wire least significant byte first); the check detail
/// and the checksum error use the same order, so the numbers match a hex dump and Wireshark.
struct EthRecord<'a> {
    direction: Direction,
    hdr: &'a FrameHeader,
    frame: &'a [u8],
    payload_len: usize,
    padding: Option<Range<usize>>,
    fcs_at: Option<Range<usize>>,
    computed: Option<u32>,
}

impl EthRecord<'_> {
    fn build(self) -> Record {
        let EthRecord { direction, hdr, frame, payload_len, padding, fcs_at, computed } = self;
        let mut r = Record::new(LayerId::DataLink, direction, "eth", hdr.title(), PduName::Frame);
        let pad_len = padding.as_ref().map_or(0, |p| p.len());
        r.summary = format!(
            "{} → {}, {}, {}-byte frame{}",
            hdr.src,
            frame::mac_shown(hdr.dst),
            frame::ethertype_shown(hdr.ethertype),
            frame.len(),
            if pad_len > 0 { format!(" ({pad_len} bytes padding)") } else { String::new() }
        );
        r.header = 0..hdr.len();
        r.payload_len = payload_len;
        r.fields = hdr.eth_fields(true);
        let Some(fcs_at) = fcs_at else {
            // The network card adds (or has checked and stripped) the FCS: the trailer is the
            // padding alone.
            r.trailer = padding.clone().filter(|p| !p.is_empty());
            r.overhead = hdr.len() + pad_len;
            if let Some(p) = padding.filter(|p| !p.is_empty()) {
                let bytes = frame.get(p).unwrap_or_default().to_vec();
                r.fields.push(Field::new("eth.padding", "Padding", Value::Bytes(bytes)));
            }
            r.notes.push(match direction {
                Direction::Down => "FCS: appended by the network card (frames cross the socket without it)".into(),
                _ => "FCS: checked and stripped by the network card (frames cross the socket without it)".into(),
            });
            return r;
        };
        let carried = frame.get(fcs_at.clone()).and_then(|b| <[u8; 4]>::try_from(b).ok()).map_or(0, u32::from_be_bytes);
        r.trailer = Some(padding.as_ref().map_or(fcs_at.start, |p| p.start)..fcs_at.end);
        r.overhead = hdr.len() + pad_len + FCS_LEN;
        if let Some(p) = padding.filter(|p| !p.is_empty()) {
            let bytes = frame.get(p).unwrap_or_default().to_vec();
            r.fields.push(Field::new("eth.padding", "Padding", Value::Bytes(bytes)));
        }
        let fcs_field = Field::hex("eth.fcs", "Frame check sequence", carried, 8);
        match computed {
            None => r.fields.push(fcs_field),
            Some(c) => {
                let c = c.swap_bytes();
                let ok = c == carried;
                let verdict = if ok { "[correct]".to_string() } else { format!("incorrect, should be 0x{c:08x}") };
                r.fields.push(fcs_field.shown(format!("0x{carried:08x} {verdict}")));
                r.checks.push(Check::new(
                    "eth.fcs.status",
                    "Frame check sequence",
                    ok,
                    format!("0x{carried:08x} (computed 0x{c:08x})"),
                ));
            }
        }
        r
    }
}

/// The `vlan` record: the tag's 4 bytes at 14..18 of the frame.
fn vlan_record(direction: Direction, tag: VlanTag, ethertype: u16, payload_len: usize) -> Record {
    let mut r = Record::new(LayerId::DataLink, direction, "vlan", frame::vlan_title(tag), PduName::Frame);
    let dei = if tag.dei { "drop eligible" } else { "not drop eligible" };
    r.summary = format!("VLAN {}, priority {} ({}), {dei}", tag.id, tag.pcp, frame::pcp_name(tag.pcp));
    r.header = HEADER_LEN..HEADER_LEN + frame::VLAN_TAG_LEN;
    r.payload_len = payload_len;
    r.fields = frame::vlan_fields(tag, ethertype);
    r.notes.push("the tag's 4 bytes are counted in the Ethernet record's header and overhead".into());
    r
}

/// The `arp` record: the 28-byte packet starting at `at` in the frame.
fn arp_record(direction: Direction, p: &ArpPacket, at: usize) -> Record {
    let mut r = Record::new(LayerId::DataLink, direction, "arp", p.title(), PduName::Frame);
    r.summary = p.summary();
    r.header = at..at + ArpPacket::LEN;
    r.fields = p.fields();
    r
}

impl Layer for DataLink {
    fn id(&self) -> LayerId {
        LayerId::DataLink
    }

    /// Build an Ethernet II frame around the SDU: header (and tag), payload, zero padding to the
    /// 60-byte minimum, FCS.
    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        let (payload, meta) = sdu.into_bytes(LayerId::DataLink)?;
        let ethertype = meta.ethertype.ok_or_else(|| {
            Error::config(
                Some(LayerId::DataLink),
                "the layer above did not say what it is sending (meta.ethertype is unset): L2 needs \
                 the EtherType to build the frame",
            )
        })?;
        // IEEE 802.3 §3.2.6: a type field is ≥ 0x0600 (smaller is a length); 0x8100 is the tag's
        // TPID, which L2 writes itself when configured with a VLAN.
        if ethertype < frame::MIN_ETHERTYPE || ethertype == TPID {
            return Err(Error::config(
                Some(LayerId::DataLink),
                format!(
                    "EtherType 0x{ethertype:04x} cannot be sent as a payload type (values below 0x0600 \
                     are 802.3 lengths; 0x8100 is the VLAN tag, set by the VLAN option)"
                ),
            ));
        }
        self.cfg.validate()?;
        let hdr = FrameHeader {
            dst: meta.dst_mac.unwrap_or(self.cfg.remote),
            src: self.cfg.local,
            vlan: self.cfg.vlan,
            ethertype,
        };
        let hlen = hdr.len();
        // IEEE 802.3 §3.2.7: at most 1500 bytes of client data (the MTU).
        if payload.len() > MTU {
            return Err(Error::invalid(
                LayerId::DataLink,
                PROTO,
                None,
                "payload length",
                format!("at most {MTU} bytes (the Ethernet MTU)"),
                format!("{} bytes", payload.len()),
            ));
        }
        let arp = if ethertype == arp::ETHERTYPE_ARP { Some(ArpPacket::parse(&payload, hlen)?) } else { None };

        let mut out = hdr.emit();
        out.extend_from_slice(&payload);
        // IEEE 802.3 §4.2.3.3: pad with zeros to the minimum frame size (60 bytes before the FCS).
        let pad_start = out.len();
        if out.len() < frame::MIN_FRAME_LEN_NO_FCS {
            out.resize(frame::MIN_FRAME_LEN_NO_FCS, 0);
        }
        let padding = pad_start..out.len();
        let fcs_at = if self.fcs_by_nic {
            None
        } else {
            let at = out.len()..out.len() + FCS_LEN;
            // IEEE 802.3 §3.2.9: the CRC over dst..padding, least significant byte first.
            let crc = fcs(&out);
            out.extend_from_slice(&crc.to_le_bytes());
            Some(at)
        };

        cx.trace.push(
            EthRecord {
                direction: Direction::Down,
                hdr: &hdr,
                frame: &out,
                payload_len: payload.len(),
                padding: Some(padding),
                fcs_at,
                computed: None,
            }
            .build(),
        );
        if let Some(tag) = hdr.vlan {
            cx.trace.push(vlan_record(Direction::Down, tag, ethertype, payload.len()));
        }
        if let Some(p) = &arp {
            cx.trace.push(arp_record(Direction::Down, p, hlen));
        }
        Ok(vec![Pdu { data: Data::Bytes(out), meta }])
    }

    /// Check and strip the Ethernet header and FCS, in this order: minimum length, FCS,
    /// destination address, 802.1Q tag, maximum length, EtherType.
    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (frame, meta) = pdu.into_bytes(LayerId::DataLink)?;
        if self.cfg.capture {
            return capture::decapsulate(frame, meta, cx);
        }
        let base = meta.offset;
        let len = frame.len();
        // IEEE 802.3 §4.2.4.2.2: a frame shorter than minFrameSize is a fragment of a collision
        // (a runt) and is discarded (by the card itself when it owns the FCS).
        let fcs_len = if self.fcs_by_nic { 0 } else { FCS_LEN };
        if len < MIN_FRAME_LEN && !self.fcs_by_nic {
            return Err(Error::truncated(
                LayerId::DataLink,
                PROTO,
                base + len,
                "Ethernet frame (a runt: shorter than the 64-byte minimum, FCS included)",
                MIN_FRAME_LEN,
                len,
            ));
        }
        let fcs_start = len - fcs_len;
        let fcs_at = fcs_start..len;
        let hdr = FrameHeader::parse(&frame, base)?;
        let hlen = hdr.len();
        // From here on len ≥ 64 > hlen + FCS_LEN (or, without an FCS, the header parsed, so
        // len ≥ hlen): the payload range is never inverted.
        let payload = hlen..fcs_start;
        // IEEE 802.3 §3.2.9 / §4.2.4.1.2: recompute the CRC over dst..padding and compare (the
        // error reports both in wire byte order, as Wireshark shows eth.fcs).
        let (computed, carried) = if self.fcs_by_nic {
            (0, 0)
        } else {
            let carried = u32::from_le_bytes([
                frame[fcs_start],
                frame[fcs_start + 1],
                frame[fcs_start + 2],
                frame[fcs_start + 3],
            ]);
            (fcs(&frame[..fcs_start]), carried)
        };

        // An ARP packet's length is known, so what follows it is padding (RFC 826 + §4.2.3.3).
        let arp = if hdr.ethertype == arp::ETHERTYPE_ARP && computed == carried {
            Some(ArpPacket::parse(&frame[payload.clone()], base + hlen))
        } else {
            None
        };
        let (payload_len, padding) = match &arp {
            Some(Ok(_)) => (ArpPacket::LEN, Some(hlen + ArpPacket::LEN..fcs_start)),
            _ => (payload.len(), None),
        };
        let mut eth = EthRecord {
            direction: Direction::Up,
            hdr: &hdr,
            frame: &frame,
            payload_len,
            padding,
            fcs_at: (!self.fcs_by_nic).then(|| fcs_at.clone()),
            computed: (!self.fcs_by_nic).then_some(computed),
        }
        .build();
        if computed != carried {
            eth.notes.push("frame discarded: the FCS does not match (the frame was damaged on the wire)".into());
            cx.trace.push(eth);
            return Err(Error::checksum(
                LayerId::DataLink,
                PROTO,
                base + fcs_start,
                "Ethernet FCS",
                u64::from(computed.swap_bytes()),
                u64::from(carried.swap_bytes()),
                4,
            ));
        }
        if !self.accepts(hdr.dst) {
            eth.notes
                .push(format!("frame discarded: addressed to {}, not to this station ({})", hdr.dst, self.cfg.local));
            cx.trace.push(eth);
            return Err(Error::invalid(
                LayerId::DataLink,
                PROTO,
                base + frame::field::DST.start,
                "destination MAC not this station",
                format!("{}, broadcast or multicast", self.cfg.local),
                hdr.dst.to_string(),
            ));
        }
        if hdr.dst != self.cfg.local && !hdr.dst.is_multicast() {
            eth.notes.push(format!("addressed to {}: accepted because the interface is promiscuous", hdr.dst));
        }
        if arp.is_none() && payload.len() < frame::MIN_FRAME_LEN_NO_FCS - HEADER_LEN {
            eth.notes.push(
                "a minimum-size frame: the payload may end in padding, which the layer above trims by its own length field"
                    .into(),
            );
        }
        let vlan = hdr.vlan.map(|tag| {
            let mut r = vlan_record(Direction::Up, tag, hdr.ethertype, payload_len);
            // IEEE 802.1Q §9.6: VID 0 is a priority tag; 4095 is reserved. Received tags are not
            // filtered: osilab is not a bridge.
            match tag.id {
                0 => r.notes.push("VID 0: a priority tag, the frame belongs to no VLAN".into()),
                4095 => r.notes.push("VID 4095 is reserved (IEEE 802.1Q Table 9-2)".into()),
                _ => {}
            }
            if self.cfg.vlan.map(|t| t.id) != Some(tag.id) {
                r.notes.push(format!(
                    "this station is configured {}: the tagged frame is accepted anyway",
                    self.cfg.vlan.map_or("untagged".to_string(), |t| format!("for VLAN {}", t.id))
                ));
            }
            r
        });
        // IEEE 802.3 §3.2.7 / §3.5: at most 1518 bytes, 1522 with a tag (4 fewer without the FCS).
        let max = if hdr.vlan.is_some() { MAX_TAGGED_FRAME_LEN } else { MAX_FRAME_LEN } - (FCS_LEN - fcs_len);
        let invalid = if len > max {
            Some(Error::invalid(
                LayerId::DataLink,
                PROTO,
                base + max,
                "frame length",
                format!("at most {max} bytes ({})", if fcs_len > 0 { "FCS included" } else { "without the FCS" }),
                format!("{len} bytes"),
            ))
        } else if hdr.ethertype < frame::MIN_ETHERTYPE {
            // IEEE 802.3 §3.2.6: below 0x0600 the field is a length (an 802.3/LLC frame).
            Some(Error::invalid(
                LayerId::DataLink,
                PROTO,
                base + if hdr.vlan.is_some() {
                    frame::field::INNER_ETHERTYPE.start
                } else {
                    frame::field::ETHERTYPE.start
                },
                "EtherType",
                "a type of 0x0600 or more (Ethernet II); 802.3 length/LLC frames are not supported",
                format!("0x{:04x}", hdr.ethertype),
            ))
        } else {
            None
        };
        if let Some(e) = &invalid {
            eth.notes.push(format!("frame discarded: {e}"));
        }
        cx.trace.push(eth);
        if let Some(v) = vlan {
            cx.trace.push(v);
        }
        if let Some(e) = invalid {
            return Err(e);
        }
        let payload = match arp {
            Some(Ok(p)) => {
                cx.trace.push(arp_record(Direction::Up, &p, hlen));
                hlen..hlen + ArpPacket::LEN
            }
            Some(Err(e)) => return Err(e),
            None => payload,
        };
        let bytes = frame.get(payload).unwrap_or_default().to_vec();
        let meta = Meta { offset: base + hlen, ethertype: Some(hdr.ethertype), dst_mac: None, ..meta };
        Ok(Some(Pdu { data: Data::Bytes(bytes), meta }))
    }
}
