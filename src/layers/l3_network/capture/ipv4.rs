//! IPv4 (RFC 791) in capture mode: see the module above for what differs from a host.

use super::super::ip::Family;
use super::super::ipv4::{record_bytes, FAMILY, MAX_DATAGRAM_LEN, MIN_HEADER_LEN};
use super::super::reassembly::{Fragment, Key};
use super::super::Network;
use super::{be16, byte, fragments, ipv4_at, options};
use crate::error::{Error, Result};
use crate::layer::{Context, LayerId, Meta, Pdu};
use crate::layers::checksum;
use crate::trace::{Check, Direction, Expert, Field, Group, Record, Severity, Value};
use std::net::{IpAddr, Ipv4Addr};

const L3: LayerId = LayerId::Network;
const PROTO: &str = "IPv4";
const FAM: &Family = &FAMILY;

/// The record of the IPv4 header at the start of `h` (all of it or, in a quote, its first
/// bytes), with its options, a source route's `ip.cur_rt` / `ip.dst`, and Wireshark's TTL note;
/// and the destination tshark takes for the packet (a source route's last address, or the
/// header's). `frame_at` is the header's frame offset. Without `detail`, no human text.
pub(super) fn header_record(h: &[u8], frame_at: usize, detail: bool) -> (Record, Ipv4Addr) {
    let hlen = usize::from(byte(h, 0) & 0x0f) * 4;
    let present = &h[..h.len().min(hlen.max(MIN_HEADER_LEN))];
    let mut r = record_bytes(Direction::Up, present, detail);
    let mut dst = ipv4_at(h, 16);
    if present.len() < MIN_HEADER_LEN {
        return (r, dst);
    }
    if hlen > MIN_HEADER_LEN && h.len() >= hlen {
        let o = options::parse(&h[MIN_HEADER_LEN..hlen], frame_at + MIN_HEADER_LEN);
        if let Some(d) = o.final_dst {
            // Wireshark: with a source route, the header's destination is the current hop.
            if let Some(f) = r.fields.iter_mut().find(|f| f.name == "ip.dst") {
                *f = Field::new("ip.cur_rt", "Current Route", Value::Ipv4(dst));
            }
            r.title = format!("Internet Protocol Version 4, Src: {}, Dst: {d}, Via: {dst}", ipv4_at(h, 12));
            dst = d;
        }
        r.fields.extend(o.fields);
        r.expert.extend(o.expert);
        r.notes.extend(o.notes);
    }
    if let Some(e) = ttl_note(byte(h, 8), byte(h, 9), dst, frame_at + 8) {
        r.expert.push(e);
    }
    (r, dst)
}

/// Wireshark's TTL notes (packet-ip.c): a packet for the Local Network Control Block
/// (224.0.0.0/24, RFC 3171 / RFC 5771) should have TTL 1 (255 for VRRP 224.0.0.18 and GLBP
/// 224.0.0.102, any for mDNS 224.0.0.251; 1 for IGMP); any other unicast or broadcast packet
/// with a TTL below 5 is noted "\"Time To Live\" only N", except PIM (103) and OSPF (89).
fn ttl_note(ttl: u8, proto: u8, dst: Ipv4Addr, at: usize) -> Option<Expert> {
    let o = dst.octets();
    if o[0] == 224 && o[1] == 0 && o[2] == 0 {
        let valid = match (proto, o[3]) {
            (2, _) => Some(1),
            (_, 18) | (_, 102) => Some(255),
            (_, 251) => None,
            _ => Some(1),
        }?;
        return (ttl != valid).then(|| {
            Expert::new(
                Severity::Note,
                Group::Sequence,
                format!(
                    "\"Time To Live\" != {valid} for a packet sent to the Local Network Control Block (see RFC 3171)"
                ),
                at,
            )
        });
    }
    (ttl < 5 && !dst.is_multicast() && proto != 103 && proto != 89)
        .then(|| Expert::new(Severity::Note, Group::Sequence, format!("\"Time To Live\" only {ttl}"), at))
}

/// Going up in capture mode.
pub(super) fn decapsulate(net: &mut Network, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let len = bytes.len();
    // RFC 791 §3.1: Version = 4 (tshark: "Bogus IP version").
    let Some(&first) = bytes.first() else {
        return Err(Error::truncated(L3, PROTO, off, "IPv4 header", MIN_HEADER_LEN, 0));
    };
    if first >> 4 != 4 {
        return Err(Error::invalid(L3, PROTO, off, "IP version", "4", (first >> 4).to_string()));
    }
    // RFC 791 §3.1: "the minimum value for a correct header is 5" (tshark: "Bogus IP header length").
    let ihl = usize::from(first & 0x0f);
    if ihl < 5 {
        // tshark shows the version and the header length, then stops.
        let mut r = record_bytes(Direction::Up, &bytes[..1], cx.detail);
        r.title = "Internet Protocol Version 4".to_string();
        r.header = 0..1;
        r.payload_len = 0;
        let msg = format!("Bogus IP header length ({}, must be at least {MIN_HEADER_LEN})", ihl * 4);
        r.expert.push(Expert::new(Severity::Error, Group::Protocol, msg, off));
        cx.trace.push(r);
        return Err(Error::invalid(
            L3,
            PROTO,
            off,
            "IHL (header length in 32-bit words)",
            "at least 5 (20 bytes)",
            ihl.to_string(),
        ));
    }
    let hlen = ihl * 4;
    let (mut r, dst) = header_record(&bytes, off, cx.detail);
    if len < hlen {
        // The header cut short: what there is, then the error.
        cx.trace.push(r);
        return Err(Error::truncated(L3, PROTO, off + len, "IPv4 header (IHL)", hlen, len));
    }
    // RFC 791 §3.1: Total Length counts header and data.
    let total = usize::from(be16(&bytes, 2));
    if total < hlen {
        r.fields.retain(|f| {
            matches!(
                f.name.as_ref(),
                "ip.version" | "ip.hdr_len" | "ip.dsfield" | "ip.dsfield.dscp" | "ip.dsfield.ecn" | "ip.len"
            )
        });
        if let Some(f) = r.fields.iter_mut().find(|f| f.name == "ip.len") {
            f.shown = format!("{total} bytes (bogus, less than header length {hlen})").into();
        }
        let e = Error::invalid(
            L3,
            PROTO,
            off + 2,
            "total length",
            format!("at least the header length, {hlen}"),
            total.to_string(),
        );
        r.expert.push(Expert::new(Severity::Error, Group::Protocol, "Bogus IP length", off + 2));
        cx.trace.push(r);
        return Err(e);
    }
    let end = if total > len {
        r.expert.push(Expert::new(
            Severity::Error,
            Group::Protocol,
            format!("IPv4 total length exceeds packet length ({len} bytes)"),
            off + 2,
        ));
        len
    } else {
        if len > total && cx.detail {
            r.notes.push(format!(
                "{} bytes after the total length ({total}): Ethernet padding or a trailer, not part of the packet",
                len - total
            ));
        }
        total
    };
    r.payload_len = end - hlen;
    fragments::expire(net, cx, &mut r);
    // RFC 791 §3.1 / RFC 1071: the header checksum sums to zero over the intact header.
    let carried = be16(&bytes, 10);
    let ok = checksum::verifies(&[], &bytes[..hlen]);
    let computed = || checksum::compute(&[], &bytes[..hlen], 10);
    r.checks.push(Check::new(
        "ip.checksum.status",
        "Header checksum (RFC 791 §3.1)",
        ok,
        cx.text(|| format!("{carried:#06x} (computed {:#06x})", computed())),
    ));
    if !ok {
        let computed = computed();
        r.expert.push(Expert::new(
            Severity::Error,
            Group::Checksum,
            format!("Bad checksum [should be 0x{computed:04x}]"),
            off + 10,
        ));
    }
    let src = Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]);
    let proto = bytes[9];
    let ttl = bytes[8];
    let frag_word = be16(&bytes, 6);
    let (more, units) = (frag_word & 0x2000 != 0, frag_word & 0x1fff);
    let data = &bytes[hlen..end];
    let mut meta = Meta { src_ip: Some(src.into()), dst_ip: Some(dst.into()), ip_proto: Some(proto), ..meta };
    if !more && units == 0 {
        meta.offset = off + hlen;
        return super::deliver(net, FAM, r, crate::layer::keep_range(bytes, hlen..end), meta, proto, ttl, hlen, cx);
    }
    // RFC 791 §3.2: fragments of one datagram share source, destination, protocol and identification.
    let key = Key {
        src: src.into(),
        dst: IpAddr::V4(ipv4_at(&bytes, 16)),
        proto: Some(proto),
        id: u32::from(be16(&bytes, 4)),
    };
    let frag = Fragment { offset: usize::from(units) * 8, data, more, proto };
    match fragments::reassemble(net, cx, &mut r, FAM, key, frag, MAX_DATAGRAM_LEN - hlen, off) {
        Some((done, pieces)) => {
            r.fields.extend(fragments::fields(false, &done.data, &pieces, cx.detail));
            // The datagram's bytes come from several frames: no single frame offset holds them.
            meta.offset = off + hlen;
            meta.detached = true;
            super::deliver(net, FAM, r, done.data, meta, proto, ttl, hlen, cx)
        }
        None => {
            cx.trace.push(r);
            Ok(None)
        }
    }
}
