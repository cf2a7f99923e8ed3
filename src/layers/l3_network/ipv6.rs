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

use super::ipv4::{ds_fields, dscp_name, ecn_names, held_note};
use super::reassembly::{Fragment, Key, Outcome, OverlapPolicy, Problem};
use super::{icmp, proto_name, proto_shown, supported_proto, Network, ETHERNET_MIN_PAYLOAD};
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Part, Pdu, PduName};
use crate::trace::{Direction, Field, Record, Value};
use etherparse::{IpFragOffset, IpNumber, Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header, Ipv6HeaderSlice};
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

/// The data carried in each fragment: the MTU less the IPv6 and Fragment headers, rounded
/// down to a multiple of 8 bytes (RFC 8200 §4.5).
pub fn fragment_data_len(mtu: usize) -> usize {
    mtu.saturating_sub(HEADER_LEN + FRAGMENT_HEADER_LEN) & !7
}

/// Going down: one packet, or its fragments (the source fragments, RFC 8200 §4.5 and §5).
pub(super) fn encapsulate(
    net: &mut Network,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    sdu: Pdu,
    cx: &mut Context,
) -> Result<Vec<Pdu>> {
    let (bytes, meta) = sdu.into_bytes(L3)?;
    let hlim = net.cfg.ttl;
    let (payload, proto) = if net.cfg.echo.is_some() || meta.ip_proto == Some(icmp::PROTO_ICMPV6) {
        (icmp::encapsulate(net, bytes, src.into(), dst.into(), hlim, cx)?, icmp::PROTO_ICMPV6)
    } else {
        match meta.ip_proto {
            Some(p) => (bytes, p),
            None => {
                return Err(Error::config(
                    Some(L3),
                    "the layer above did not say which protocol it carries (meta.ip_proto)",
                ))
            }
        }
    };
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
    let fragmenting = HEADER_LEN + payload.len() > mtu;
    let base = Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: 0,
        next_header: IpNumber(proto),
        hop_limit: hlim,
        source: src.octets(),
        destination: dst.octets(),
    };
    let mut m = meta;
    m.ethertype = Some(ETHERTYPE);
    m.ip_proto = Some(proto);
    m.src_ip = Some(IpAddr::V6(src));
    m.dst_ip = Some(IpAddr::V6(dst));
    if !fragmenting {
        let h = Ipv6Header { payload_length: payload.len() as u16, ..base };
        let mut packet = Vec::with_capacity(HEADER_LEN + payload.len());
        packet.extend_from_slice(&h.to_bytes());
        packet.extend_from_slice(&payload);
        cx.trace.push(record(Direction::Down, &h, None));
        return Ok(vec![Pdu { data: Data::Bytes(packet), meta: m }]);
    }
    let per = fragment_data_len(mtu);
    let chunks: Vec<&[u8]> = payload.chunks(per.max(8)).collect();
    let count = chunks.len();
    let id = net.take_ident32();
    let mut out = Vec::with_capacity(count);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let offset = i * per;
        let more = i + 1 < count;
        let units = IpFragOffset::try_new((offset / 8) as u16).map_err(|_| {
            Error::invalid(
                L3,
                PROTO,
                HEADER_LEN + 2,
                "fragment offset",
                "at most 8191 blocks",
                (offset / 8).to_string(),
            )
        })?;
        let frag = Ipv6FragmentHeader::new(IpNumber(proto), units, more, id);
        let h = Ipv6Header {
            payload_length: (FRAGMENT_HEADER_LEN + chunk.len()) as u16,
            next_header: IpNumber(NEXT_FRAGMENT),
            ..base.clone()
        };
        let mut packet = Vec::with_capacity(HEADER_LEN + FRAGMENT_HEADER_LEN + chunk.len());
        packet.extend_from_slice(&h.to_bytes());
        packet.extend_from_slice(&frag.to_bytes());
        packet.extend_from_slice(chunk);
        let mut r = record(Direction::Down, &h, Some(&frag));
        r.part = Some(Part { index: i + 1, count });
        r.notes.push(format!(
            "fragment {} of {count}: data bytes {}..{} of {} (RFC 8200 §4.5)",
            i + 1,
            offset,
            offset + chunk.len(),
            payload.len()
        ));
        cx.trace.push(r);
        let mut fm = m.clone();
        fm.part = Some(Part { index: i + 1, count });
        out.push(Pdu { data: Data::Bytes(packet), meta: fm });
    }
    Ok(out)
}

/// Going up: check the fixed header (RFC 8200 §3), skip extension headers (§4), reassemble
/// fragments (§4.5), hand the payload up.
pub(super) fn decapsulate(net: &mut Network, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let len = bytes.len();
    let Some(&first) = bytes.first() else {
        return Err(Error::truncated(L3, PROTO, off, "IPv6 header", HEADER_LEN, 0));
    };
    // RFC 8200 §3: Version = 6.
    let version = first >> 4;
    if version != 6 {
        return Err(Error::invalid(L3, PROTO, off, "IP version", "6", version.to_string()));
    }
    if len < HEADER_LEN {
        return Err(Error::truncated(L3, PROTO, off, "IPv6 header", HEADER_LEN, len));
    }
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
    // Bytes after the payload are Ethernet padding only if the frame needed padding at all.
    if len > end {
        if len > ETHERNET_MIN_PAYLOAD {
            r.notes.push("bytes after the payload length, too many to be Ethernet padding: discarded".into());
            cx.trace.push(r);
            return Err(Error::invalid(
                L3,
                PROTO,
                off + field::PAYLOAD_LEN,
                "payload length (the bytes after the payload are too many to be Ethernet padding)",
                format!("{}, the bytes received after the header", len - HEADER_LEN),
                plen.to_string(),
            ));
        }
        r.notes.push(format!(
            "{} bytes after the payload length ({plen}) are Ethernet padding: trimmed (RFC 2464)",
            len - end
        ));
    }
    // RFC 8200 §3: a packet whose Hop Limit is 0 has been decremented to 0 by a router that
    // should have discarded it (a host never sends 0).
    if view.hop_limit() == 0 {
        r.notes.push("hop limit 0: discarded".to_string());
        cx.trace.push(r);
        return Err(Error::invalid(L3, PROTO, off + field::HOP_LIMIT, "hop limit (RFC 8200 §3)", "at least 1", "0"));
    }
    let (src, dst) = (view.source_addr(), view.destination_addr());
    let local = net.cfg.local;
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    if IpAddr::V6(dst) != local && dst != all_nodes && !net.cfg.promiscuous {
        r.notes.push("not addressed to this host: discarded".to_string());
        cx.trace.push(r);
        return Err(Error::invalid(
            L3,
            PROTO,
            off + field::DST,
            "destination address: not addressed to this host",
            local.to_string(),
            dst.to_string(),
        ));
    }
    // RFC 8200 §4: an unrecognized Next Header discards the packet (ICMPv6 Parameter Problem,
    // code 1); No Next Header (59) means there is nothing after the headers.
    if next == NO_NEXT_HEADER {
        r.notes.push("No Next Header (59): nothing to deliver".into());
        cx.trace.push(r);
        return Ok(None);
    }
    if !supported_proto(true, next) {
        if !net.cfg.promiscuous {
            r.notes.push(format!("unrecognized next header {next}: discarded"));
            cx.trace.push(r);
            return Err(Error::invalid(
                L3,
                PROTO,
                off + next_at,
                "next header: none of this host's (ICMPv6 Parameter Problem code 1, RFC 8200 §4)",
                "58 (ICMPv6), 6 (TCP) or 17 (UDP)",
                proto_shown(next),
            ));
        }
        r.notes.push(format!("no handler for next header {next} on this host (captured anyway)"));
    }
    let hlim = view.hop_limit();
    let mut out = meta;
    out.src_ip = Some(IpAddr::V6(src));
    out.dst_ip = Some(IpAddr::V6(dst));
    out.offset = off + pos;
    let data = bytes.get(pos..end).unwrap_or_default();
    let (payload, proto) = match frag {
        // RFC 8200 §4.5 / RFC 6946: offset 0 with M = 0 is an "atomic fragment": a whole packet.
        Some((at, fh)) if fh.is_fragmenting_payload() => {
            let key = Key { src: IpAddr::V6(src), dst: IpAddr::V6(dst), proto: None, id: fh.identification };
            let piece = Fragment {
                offset: usize::from(fh.fragment_offset.byte_offset()),
                data,
                more: fh.more_fragments,
                proto: fh.next_header.0,
            };
            // RFC 8200 §4.5: the reassembled Payload Length (unfragmentable extension headers
            // plus fragmentable part) must not exceed 65535.
            let limit = MAX_PAYLOAD_LEN - (at - HEADER_LEN);
            let (result, evicted) =
                net.reassembler.insert(key, cx.now, piece, limit, OverlapPolicy::ExactDuplicateOnly);
            if let Some(gone) = evicted {
                r.notes.push(super::expired_note(&gone));
            }
            match result {
                Ok(Outcome::Held { received, total }) => {
                    r.notes.push(held_note(received, total));
                    cx.trace.push(r);
                    return Ok(None);
                }
                Ok(Outcome::Duplicate { received, total }) => {
                    r.notes.push(format!(
                        "exact duplicate fragment dropped (RFC 8200 §4.5); {}",
                        held_note(received, total)
                    ));
                    cx.trace.push(r);
                    return Ok(None);
                }
                // RFC 1122 §3.3.2: the buffer is the host's to bound; the datagram is given up, as
                // on eviction, and this fragment with it.
                Ok(Outcome::Abandoned(gone)) => {
                    r.notes.push(super::expired_note(&gone));
                    cx.trace.push(r);
                    return Ok(None);
                }
                Ok(Outcome::Complete(done)) => {
                    r.notes.push(format!("reassembled from {} fragments ({} bytes)", done.fragments, done.data.len()));
                    (done.data, done.proto)
                }
                Err(p) => {
                    let e = problem_error(&p, off + at);
                    r.notes.push(format!("fragment refused, packet discarded: {e}"));
                    cx.trace.push(r);
                    return Err(e);
                }
            }
        }
        Some(_) => {
            r.notes.push("atomic fragment (offset 0, M = 0): processed as a whole packet (RFC 6946)".to_string());
            (data.to_vec(), next)
        }
        None => (data.to_vec(), next),
    };
    out.ip_proto = Some(proto);
    cx.trace.push(r);
    if proto == icmp::PROTO_ICMPV6 {
        return icmp::decapsulate(net, payload, out, hlim, pos, cx);
    }
    Ok(Some(Pdu { data: Data::Bytes(payload), meta: out }))
}

/// The error for a refused fragment, at the Fragment header's offset field (`at` = frame offset
/// of the Fragment header).
fn problem_error(p: &Problem, at: usize) -> Error {
    let at = at + 2;
    match p {
        Problem::EmptyNotLast { offset } => Error::invalid(
            L3,
            PROTO,
            at,
            "fragment length (RFC 8200 §4.5: a fragment with M = 1 carries a multiple of 8 bytes)",
            "at least 8 bytes of data when M is set",
            format!("an empty fragment at payload offset {offset} with M set: it makes no progress"),
        ),
        Problem::NotMultipleOf8 { len } => Error::invalid(
            L3,
            PROTO,
            at,
            "fragment length (RFC 8200 §4.5: a fragment with M = 1 carries a multiple of 8 bytes)",
            "a multiple of 8",
            format!("{len} bytes"),
        ),
        Problem::TooLong { end, limit } => Error::invalid(
            L3,
            PROTO,
            at,
            "reassembled payload length (RFC 8200 §4.5: at most 65535 bytes)",
            format!("at most {limit} bytes of fragmentable part"),
            format!("{end} bytes"),
        ),
        Problem::Overlap { at: byte, earlier } => Error::invalid(
            L3,
            PROTO,
            at,
            "overlapping fragments (RFC 8200 §4.5, RFC 5722: the packet is abandoned)",
            format!("no overlap with the fragment holding {}..{}", earlier.start, earlier.end),
            format!("an overlap from payload offset {byte}"),
        ),
        Problem::BeyondEnd { end, total } => Error::invalid(
            L3,
            PROTO,
            at,
            "fragment end",
            format!("within the packet's {total} bytes set by its last fragment"),
            format!("data up to byte {end}"),
        ),
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
    let tc = h.traffic_class;
    let f = &mut r.fields;
    f.push(Field::uint("ipv6.version", "Version", 6u8));
    f.push(Field::hex("ipv6.tclass", "Traffic Class", tc, 8).shown(format!(
        "{tc:#04x} (DSCP: {}, ECN: {})",
        dscp_name(tc >> 2),
        ecn_names(tc).0
    )));
    ds_fields(f, "ipv6.tclass", tc);
    // tshark 4.0 prints this 20-bit field with 6 digits in -T fields and 5 in its tree.
    let flow = h.flow_label.value();
    f.push(Field::hex("ipv6.flow", "Flow Label", flow, 6).shown(format!("{flow:#07x}")));
    f.push(Field::uint("ipv6.plen", "Payload Length", h.payload_length));
    f.push(Field::uint("ipv6.nxt", "Next Header", nxt).shown(proto_shown(nxt)));
    f.push(Field::uint("ipv6.hlim", "Hop Limit", h.hop_limit));
    f.push(Field::new("ipv6.src", "Source Address", Value::Ipv6(src)));
    f.push(Field::new("ipv6.dst", "Destination Address", Value::Ipv6(dst)));
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
