//! IPv6 (RFC 8200) in capture mode: see the module above for what differs from a host.

use super::super::ip::Family;
use super::super::ipv6::{FAMILY, HEADER_LEN, MAX_PAYLOAD_LEN, NO_NEXT_HEADER};
use super::super::reassembly::{Fragment, Key};
use super::super::Network;
use super::{be16, byte, ext, fragments, ipv6_at, ipv6_fields};
use crate::error::{Error, Result};
use crate::layer::{Context, LayerId, Meta, Pdu, PduName};
use crate::trace::{Direction, Expert, Group, Record, Severity};

const L3: LayerId = LayerId::Network;
const PROTO: &str = "IPv6";
const FAM: &Family = &FAMILY;

/// Going up in capture mode.
pub(super) fn decapsulate(net: &mut Network, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let len = bytes.len();
    let Some(&first) = bytes.first() else {
        return Err(Error::truncated(L3, PROTO, off, "IPv6 header", HEADER_LEN, 0));
    };
    // RFC 8200 §3: Version = 6.
    if first >> 4 != 6 {
        return Err(Error::invalid(L3, PROTO, off, "IP version", "6", (first >> 4).to_string()));
    }
    let (src, dst) = (ipv6_at(&bytes, 8), ipv6_at(&bytes, 24));
    let title = cx.text(|| {
        if len >= HEADER_LEN {
            format!("Internet Protocol Version 6, Src: {src}, Dst: {dst}")
        } else {
            "Internet Protocol Version 6".to_string()
        }
    });
    let mut r = Record::new(L3, Direction::Up, "ipv6", title, PduName::Packet);
    r.fields = ipv6_fields(&bytes, cx.detail);
    r.header = 0..len.min(HEADER_LEN);
    if len < HEADER_LEN {
        cx.trace.push(r);
        return Err(Error::truncated(L3, PROTO, off + len, "IPv6 header", HEADER_LEN, len));
    }
    // RFC 8200 §3: Payload Length counts the bytes after the fixed header.
    let plen = usize::from(be16(&bytes, 4));
    let end = if HEADER_LEN + plen > len {
        r.expert.push(Expert::new(
            Severity::Warning,
            Group::Protocol,
            format!("IPv6 payload length exceeds framing length ({} bytes)", len - HEADER_LEN),
            off + 4,
        ));
        len
    } else {
        if len > HEADER_LEN + plen && cx.detail {
            r.notes.push(format!(
                "{} bytes after the payload length ({plen}): Ethernet padding or a trailer, not part of the packet",
                len - HEADER_LEN - plen
            ));
        }
        HEADER_LEN + plen
    };
    let hlim = byte(&bytes, 7);
    if hlim == 0 {
        // RFC 8200 §3: a node decrements the hop limit and discards the packet at 0.
        r.expert.push(Expert::new(
            Severity::Note,
            Group::Sequence,
            "Hop limit 0: no node forwards this packet (RFC 8200 §3)",
            off + 7,
        ));
    }
    // RFC 8200 §4: extension headers, in order, up to the upper-layer header.
    let w = ext::walk(&bytes, byte(&bytes, 6), HEADER_LEN, end, off);
    r.fields.extend(w.fields);
    r.expert.extend(w.expert);
    if w.cut {
        r.notes.push("an extension header runs past the payload: the rest goes up undissected".to_string());
    }
    let pos = w.end;
    r.header = 0..pos;
    r.overhead = pos;
    r.payload_len = end - pos;
    fragments::expire(net, cx, &mut r);
    let next = w.next;
    let data = &bytes[pos..end];
    let mut meta = Meta { src_ip: Some(src.into()), dst_ip: Some(dst.into()), ip_proto: Some(next), ..meta };
    if next == NO_NEXT_HEADER && !w.cut {
        // RFC 8200 §4.7: nothing follows.
        r.notes.push("No Next Header (59)".to_string());
        cx.trace.push(r);
        return Ok(None);
    }
    match w.fragment {
        // RFC 8200 §4.5 / RFC 6946: offset 0 with M = 0 is an atomic fragment: a whole packet.
        Some(fh) if fh.more || fh.offset != 0 => {
            // RFC 8200 §4.5: the fragments of one packet share source, destination and identification.
            let key = Key { src: src.into(), dst: dst.into(), proto: None, id: fh.ident };
            let piece = Fragment { offset: fh.offset, data, more: fh.more, proto: fh.next };
            let limit = MAX_PAYLOAD_LEN - (fh.at - HEADER_LEN);
            match fragments::reassemble(net, cx, &mut r, FAM, key, piece, limit, off + fh.at) {
                Some((done, pieces)) => {
                    r.fields.extend(fragments::fields(true, &done.data, &pieces, cx.detail));
                    meta.offset = off + pos;
                    meta.detached = true;
                    meta.ip_proto = Some(done.proto);
                    super::deliver(net, FAM, r, done.data, meta, done.proto, hlim, pos, cx)
                }
                None => {
                    cx.trace.push(r);
                    Ok(None)
                }
            }
        }
        _ => {
            meta.offset = off + pos;
            super::deliver(net, FAM, r, crate::layer::keep_range(bytes, pos..end), meta, next, hlim, pos, cx)
        }
    }
}
