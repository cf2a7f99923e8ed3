//! IPv6 (RFC 8200): the fixed header, source fragmentation with the Fragment header (§4.5),
//! extension headers skipped on the way up (§4), and reassembly.
//!
//! ```text
//! |Version| Traffic Class |           Flow Label                  |  0..4
//! |         Payload Length        |  Next Header  |   Hop Limit   |  4..8
//! |                Source Address (16 bytes)                      |  8..24
//! |             Destination Address (16 bytes)                    | 24..40
//! Fragment header (RFC 8200 §4.5):
//! |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
//! |                         Identification                        |
//! ```
//!
//! Limitation: extension headers that follow the Fragment header (in the fragmentable part)
//! are not walked after reassembly; the payload goes up with their next-header number.

use super::ip::{self, ds_fields, dscp_name, ecn_names, DsNames, Family, Inbound, Outbound, Piece};
use super::reassembly::{Fragment, Key, OverlapPolicy};
use super::{icmp, proto_name, proto_shown, Network};
use crate::error::{Error, Result};
use crate::layer::{Context, LayerId, Meta, Pdu, PduName};
use crate::trace::{Direction, Field, Record, Value};
use etherparse::{IpNumber, Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header, Ipv6HeaderSlice};
use std::net::{IpAddr, Ipv6Addr};

/// The EtherType of IPv6 (RFC 2464 §3).
pub const ETHERTYPE: u16 = 0x86dd;
/// RFC 8200 §3: the fixed header.
pub const HEADER_LEN: usize = 40;
/// RFC 8200 §4.5: the Fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;
/// RFC 8200 §4.5: Next Header value of the Fragment header.
pub const NEXT_FRAGMENT: u8 = 44;
/// RFC 8200 §4.7: No Next Header.
pub const NO_NEXT_HEADER: u8 = 59;
/// RFC 8200 §3: Payload Length is 16 bits (jumbograms, RFC 2675, are not supported).
pub const MAX_PAYLOAD_LEN: usize = 65535;

const L3: LayerId = LayerId::Network;
const PROTO: &str = "IPv6";

/// Field offsets inside the fixed header (RFC 8200 §3).
mod field {
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const DST: usize = 24;
}

/// What IPv6 says in the steps it shares with IPv4.
pub(super) const FAMILY: Family = Family {
    proto: PROTO,
    version: 6,
    v6: true,
    min_header: HEADER_LEN,
    ethertype: ETHERTYPE,
    icmp: icmp::PROTO_ICMPV6,
    unit: "packet",
    fragmentation: "RFC 8200 §4.5",
    more_flag: "M",
    length_rule: "fragment length (RFC 8200 §4.5: a fragment with M = 1 carries a multiple of 8 bytes)",
    too_long: "reassembled payload length (RFC 8200 §4.5: at most 65535 bytes)",
    too_long_expected: |limit| format!("at most {limit} bytes of fragmentable part"),
    duplicate: "exact duplicate fragment dropped (RFC 8200 §4.5)",
    overlap: OverlapPolicy::ExactDuplicateOnly,
    frag_field: 2,
    length_field: "payload length",
    padding_rfc: "RFC 2464",
    ttl: ("hop limit", "RFC 8200 §3"),
    also_for_us: IpAddr::V6(ALL_NODES),
    proto_field: ("next header", "unrecognized"),
    unsupported: "next header: none of this host's (ICMPv6 Parameter Problem code 1, RFC 8200 §4)",
    supported: "58 (ICMPv6), 6 (TCP) or 17 (UDP)",
};

/// RFC 4291 §2.7.1: the link-local all-nodes multicast address, which every host accepts.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Going down: one packet, or its fragments (the source fragments, RFC 8200 §4.5 and §5).
pub(super) fn encapsulate(
    net: &mut Network,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    sdu: Pdu,
    cx: &mut Context,
) -> Result<Vec<Pdu>> {
    let (bytes, meta) = sdu.into_bytes(L3)?;
    let (payload, proto) = ip::payload_down(net, &FAMILY, bytes, &meta, src.into(), dst.into(), cx)?;
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(Error::invalid(
            L3,
            PROTO,
            None,
            "payload length (RFC 8200 §3: 16 bits; jumbograms are not supported)",
            format!("at most {MAX_PAYLOAD_LEN} bytes"),
            format!("{} bytes", payload.len()),
        ));
    }
    let mtu = net.cfg.mtu;
    let base = Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: 0,
        next_header: IpNumber(proto),
        hop_limit: net.cfg.ttl,
        source: src.octets(),
        destination: dst.octets(),
    };
    let mut out = Outbound::new(&FAMILY, meta, proto, src.into(), dst.into(), payload.len());
    if HEADER_LEN + payload.len() <= mtu {
        let h = Ipv6Header { payload_length: payload.len() as u16, ..base };
        let mut packet = Vec::with_capacity(HEADER_LEN + payload.len());
        packet.extend_from_slice(&h.to_bytes());
        packet.extend_from_slice(&payload);
        out.push(cx, &Piece::whole(&payload), record(Direction::Down, &h, None), packet);
        return Ok(out.finish());
    }
    let id = net.take_ident32();
    for piece in ip::cut(&payload, mtu, HEADER_LEN + FRAGMENT_HEADER_LEN) {
        let frag = Ipv6FragmentHeader::new(IpNumber(proto), piece.frag_offset(&FAMILY, HEADER_LEN)?, piece.more, id);
        let h = Ipv6Header {
            payload_length: (FRAGMENT_HEADER_LEN + piece.data.len()) as u16,
            next_header: IpNumber(NEXT_FRAGMENT),
            ..base.clone()
        };
        let mut packet = Vec::with_capacity(HEADER_LEN + FRAGMENT_HEADER_LEN + piece.data.len());
        packet.extend_from_slice(&h.to_bytes());
        packet.extend_from_slice(&frag.to_bytes());
        packet.extend_from_slice(piece.data);
        out.push(cx, &piece, record(Direction::Down, &h, Some(&frag)), packet);
    }
    Ok(out.finish())
}

/// Going up: check the fixed header (RFC 8200 §3), skip extension headers (§4), reassemble
/// fragments (§4.5), hand the payload up.
pub(super) fn decapsulate(net: &mut Network, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let len = bytes.len();
    // RFC 8200 §3: Version = 6.
    ip::check_version(&FAMILY, &bytes, off)?;
    let view = Ipv6HeaderSlice::from_slice(&bytes[..HEADER_LEN])
        .map_err(|e| Error::invalid(L3, PROTO, off, "IPv6 header", "a well-formed header", e.to_string()))?;
    // RFC 8200 §3: Payload Length counts the bytes after the fixed header, extension headers
    // included; they must all be present.
    let plen = usize::from(view.payload_length());
    let end = HEADER_LEN + plen;
    if end > len {
        return Err(Error::truncated(L3, PROTO, off + field::PAYLOAD_LEN, "IPv6 payload (payload length)", end, len));
    }
    // RFC 8200 §4: walk the extension headers up to the upper-layer header or the Fragment header.
    let mut next = view.next_header().0;
    let mut next_at = field::NEXT_HEADER;
    let mut pos = HEADER_LEN;
    let mut skipped = Vec::new();
    let mut frag = None;
    loop {
        match next {
            0 | 43 | 60 => {
                // RFC 8200 §4.1: the Hop-by-Hop Options header comes only right after the
                // fixed header.
                if next == 0 && pos != HEADER_LEN {
                    return Err(Error::invalid(
                        L3,
                        PROTO,
                        off + pos,
                        "extension header order (RFC 8200 §4.1)",
                        "Hop-by-Hop Options only right after the IPv6 header",
                        "a Hop-by-Hop Options header further on",
                    ));
                }
                let Some(&[nh, units]) = bytes.get(pos..pos + 2).filter(|_| pos + 2 <= end) else {
                    return Err(Error::truncated(L3, PROTO, off + pos, proto_name(next), 8, end.saturating_sub(pos)));
                };
                // RFC 8200 §4.3: Hdr Ext Len counts 8-octet units, not including the first 8.
                let elen = (usize::from(units) + 1) * 8;
                if pos + elen > end {
                    return Err(Error::truncated(L3, PROTO, off + pos, proto_name(next), elen, end - pos));
                }
                skipped.push(format!("{} ({elen} bytes) skipped", proto_name(next)));
                next = nh;
                next_at = pos;
                pos += elen;
            }
            NEXT_FRAGMENT => {
                let slice = bytes.get(pos..end).unwrap_or_default();
                let (fh, _) = Ipv6FragmentHeader::from_slice(slice).map_err(|_| {
                    Error::truncated(L3, PROTO, off + pos, "IPv6 Fragment header", FRAGMENT_HEADER_LEN, end - pos)
                })?;
                next = fh.next_header.0;
                next_at = pos;
                frag = Some((pos, fh));
                pos += FRAGMENT_HEADER_LEN;
                break;
            }
            _ => break,
        }
    }
    let mut r = record(Direction::Up, &view.to_header(), frag.as_ref().map(|(_, f)| f));
    r.header = 0..pos;
    r.overhead = pos;
    r.payload_len = end - pos;
    r.notes.extend(skipped);
    net.expire_reassembly(cx, &mut r);
    let (src, dst) = (view.source_addr(), view.destination_addr());
    let up = Inbound::new(net, cx, &FAMILY, r, src.into(), dst.into());
    let up = up.trim_padding(len, end, plen, || {
        Error::invalid(
            L3,
            PROTO,
            off + field::PAYLOAD_LEN,
            "payload length (the bytes after the payload are too many to be Ethernet padding)",
            format!("{}, the bytes received after the header", len - HEADER_LEN),
            plen.to_string(),
        )
    })?;
    let hlim = view.hop_limit();
    let up = up.check_ttl(hlim, off + field::HOP_LIMIT)?.check_destination(off + field::DST)?;
    // RFC 8200 §4: an unrecognized Next Header discards the packet (ICMPv6 Parameter Problem,
    // code 1); No Next Header (59) means there is nothing after the headers.
    if next == NO_NEXT_HEADER {
        return Ok(up.stop("No Next Header (59): nothing to deliver"));
    }
    let mut up = up.check_proto(next, off + next_at)?;
    let data = bytes.get(pos..end).unwrap_or_default();
    match frag {
        // RFC 8200 §4.5 / RFC 6946: offset 0 with M = 0 is an "atomic fragment": a whole packet.
        Some((at, fh)) if fh.is_fragmenting_payload() => {
            // RFC 8200 §4.5: the fragments of one packet share source, destination and
            // identification.
            let key = Key { src: src.into(), dst: dst.into(), proto: None, id: fh.identification };
            let piece = Fragment {
                offset: usize::from(fh.fragment_offset.byte_offset()),
                data,
                more: fh.more_fragments,
                proto: fh.next_header.0,
            };
            // RFC 8200 §4.5: the reassembled Payload Length (unfragmentable extension headers
            // plus fragmentable part) must not exceed 65535.
            let limit = MAX_PAYLOAD_LEN - (at - HEADER_LEN);
            match up.reassemble(key, piece, limit, off + at)? {
                Some((up, done)) => up.deliver(done.data, meta, done.proto, hlim, pos),
                None => Ok(None),
            }
        }
        Some(_) => {
            up.r.notes.push("atomic fragment (offset 0, M = 0): processed as a whole packet (RFC 6946)".to_string());
            up.deliver(data.to_vec(), meta, next, hlim, pos)
        }
        None => up.deliver(data.to_vec(), meta, next, hlim, pos),
    }
}

/// The record of one IPv6 packet, with its Fragment header if any.
fn record(direction: Direction, h: &Ipv6Header, frag: Option<&Ipv6FragmentHeader>) -> Record {
    let (src, dst) = (h.source_addr(), h.destination_addr());
    let mut r = Record::new(
        L3,
        direction,
        "ipv6",
        format!("Internet Protocol Version 6, Src: {src}, Dst: {dst}"),
        PduName::Packet,
    );
    let hlen = HEADER_LEN + frag.map_or(0, |_| FRAGMENT_HEADER_LEN);
    let plen = usize::from(h.payload_length);
    r.header = 0..hlen;
    r.overhead = hlen;
    r.payload_len = (HEADER_LEN + plen).saturating_sub(hlen);
    let nxt = h.next_header.0;
    r.summary = match frag {
        Some(fh) => format!(
            "IPv6 fragment (off={} more={} ident={:#010x} nxt={})",
            fh.fragment_offset.byte_offset(),
            if fh.more_fragments { "y" } else { "n" },
            fh.identification,
            fh.next_header.0
        ),
        None => format!("{src} → {dst} {}, payload {plen} bytes", proto_shown(nxt)),
    };
    r.fields = fixed_fields(&h.to_bytes(), true, false);
    let f = &mut r.fields;
    if let Some(fh) = frag {
        let fnxt = fh.next_header.0;
        let units = fh.fragment_offset.value();
        // A subtree heading with no value of its own: `tshark -T fields` prints its name.
        f.push(
            Field::text("ipv6.fraghdr", "Fragment Header for IPv6", "ipv6.fraghdr")
                .shown(format!("{FRAGMENT_HEADER_LEN} bytes")),
        );
        f.push(Field::uint("ipv6.fraghdr.nxt", "Next header", fnxt).shown(proto_shown(fnxt)).depth(1));
        f.push(
            Field::uint("ipv6.fraghdr.offset", "Offset", units)
                .shown(format!("{units} ({} bytes)", fh.fragment_offset.byte_offset()))
                .depth(1),
        );
        f.push(
            Field::flag("ipv6.fraghdr.more", "More Fragments", fh.more_fragments)
                .shown(if fh.more_fragments { "Yes" } else { "No" })
                .depth(1),
        );
        f.push(Field::hex("ipv6.fraghdr.ident", "Identification", fh.identification, 8).depth(1));
    }
    r
}

/// The fields of the fixed header (RFC 8200 §3) whose bytes start `h`: all of them, or, for the
/// first bytes of a header quoted in an ICMPv6 error, those whose bytes are all present, as
/// tshark shows them. Without `detail`, no renderings
/// ([`Context::detail`](crate::layer::Context::detail)). `ip_version` adds the hidden
/// `ip.version` tshark 4.0 puts after `ipv6.version` (capture mode).
pub(super) fn fixed_fields(h: &[u8], detail: bool, ip_version: bool) -> Vec<Field> {
    let b = |i: usize| h.get(i).copied().unwrap_or(0);
    let addr = |i: usize| {
        let mut a = [0u8; 16];
        if let Some(s) = h.get(i..i + 16) {
            a.copy_from_slice(s);
        }
        Ipv6Addr::from(a)
    };
    let has = |end: usize| h.len() >= end;
    // The header's 12, and room for extension headers' or reassembly's.
    let mut f = Vec::with_capacity(20);
    if !has(1) {
        return f;
    }
    f.push(Field::uint("ipv6.version", "Version", b(0) >> 4));
    if ip_version {
        f.push(Field::uint("ip.version", "Version (hidden in tshark's tree)", b(0) >> 4));
    }
    if !has(2) {
        return f;
    }
    let tc = (b(0) << 4) | (b(1) >> 4);
    f.push(
        Field::hex("ipv6.tclass", "Traffic Class", tc, 8)
            .shown_if(detail, || format!("{tc:#04x} (DSCP: {}, ECN: {})", dscp_name(tc >> 2), ecn_names(tc).0)),
    );
    ds_fields(&mut f, DsNames::IPV6, tc, detail);
    if !has(4) {
        return f;
    }
    // tshark 4.0 prints this 20-bit field with 6 digits in -T fields and 5 in its tree.
    let flow = (u32::from(b(1) & 0x0f) << 16) | (u32::from(b(2)) << 8) | u32::from(b(3));
    f.push(Field::hex("ipv6.flow", "Flow Label", flow, 6).shown_if(detail, || format!("{flow:#07x}")));
    if !has(6) {
        return f;
    }
    f.push(Field::uint("ipv6.plen", "Payload Length", u16::from_be_bytes([b(4), b(5)])));
    if !has(7) {
        return f;
    }
    let nxt = b(field::NEXT_HEADER);
    f.push(Field::uint("ipv6.nxt", "Next Header", nxt).shown_if(detail, || proto_shown(nxt)));
    if !has(8) {
        return f;
    }
    f.push(Field::uint("ipv6.hlim", "Hop Limit", b(field::HOP_LIMIT)));
    if !has(24) {
        return f;
    }
    f.push(Field::new("ipv6.src", "Source Address", Value::Ipv6(addr(8))));
    if !has(HEADER_LEN) {
        return f;
    }
    f.push(Field::new("ipv6.dst", "Destination Address", Value::Ipv6(addr(field::DST))));
    f
}
