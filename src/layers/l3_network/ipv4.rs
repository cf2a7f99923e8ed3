//! IPv4 (RFC 791): the header, fragmentation on the way down, checks and reassembly on the way up.
//!
//! The header is built and read with etherparse (`Ipv4Header` to emit, `Ipv4HeaderSlice` as the
//! view over received bytes); this module owns what etherparse does not: the order of the checks
//! with their frame offsets, fragmentation, reassembly and the trace records.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version|  IHL  |   DSCP    |ECN|          Total Length         |  0..4
//! |         Identification        |Flags|     Fragment Offset     |  4..8
//! |  Time to Live |    Protocol   |         Header Checksum       |  8..12
//! |                       Source Address                          | 12..16
//! |                    Destination Address                        | 16..20
//! ```

use super::reassembly::{Fragment, Key, Outcome, OverlapPolicy, Problem};
use super::{icmp, proto_name, proto_shown, supported_proto, Network, ETHERNET_MIN_PAYLOAD};
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Part, Pdu, PduName};
use crate::layers::checksum;
use crate::trace::{Check, Direction, Field, Record, Value};
use etherparse::{IpDscp, IpEcn, IpFragOffset, IpNumber, Ipv4Header, Ipv4HeaderSlice};
use std::net::{IpAddr, Ipv4Addr};

/// The EtherType of IPv4 (RFC 894).
pub const ETHERTYPE: u16 = 0x0800;
/// RFC 791 §3.1: the header without options (IHL 5).
pub const MIN_HEADER_LEN: usize = 20;
/// RFC 791 §3.1: Total Length is 16 bits.
pub const MAX_DATAGRAM_LEN: usize = 65535;

const L3: LayerId = LayerId::Network;
const PROTO: &str = "IPv4";

/// Field offsets inside the header (RFC 791 §3.1).
mod field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const DST: usize = 16;
}

/// The data carried in each fragment: the MTU less the header, rounded down to a multiple of
/// 8 bytes (RFC 791 §3.2: fragment offsets count 8-octet blocks).
pub fn fragment_data_len(mtu: usize) -> usize {
    mtu.saturating_sub(MIN_HEADER_LEN) & !7
}

/// Going down: one datagram, or its fragments when it exceeds the MTU.
pub(super) fn encapsulate(
    net: &mut Network,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sdu: Pdu,
    cx: &mut Context,
) -> Result<Vec<Pdu>> {
    let (bytes, meta) = sdu.into_bytes(L3)?;
    let ttl = net.cfg.ttl;
    let (payload, proto) = if net.cfg.echo.is_some() || meta.ip_proto == Some(icmp::PROTO_ICMP) {
        (icmp::encapsulate(net, bytes, src.into(), dst.into(), ttl, cx)?, icmp::PROTO_ICMP)
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
    let total = MIN_HEADER_LEN + payload.len();
    if total > MAX_DATAGRAM_LEN {
        return Err(Error::invalid(
            L3,
            PROTO,
            None,
            "datagram length (RFC 791 §3.1: Total Length is 16 bits)",
            format!("at most {MAX_DATAGRAM_LEN} bytes"),
            format!("{total} bytes"),
        ));
    }
    let mtu = net.cfg.mtu;
    let df = net.cfg.dont_fragment;
    if total > mtu && df {
        // RFC 791 §3.2 / RFC 792: a router would drop it and answer ICMP type 3 code 4.
        return Err(Error::invalid(
            L3,
            PROTO,
            None,
            "datagram size: needs fragmentation but DF set (ICMP type 3 code 4, RFC 792)",
            format!("at most the MTU, {mtu} bytes"),
            format!("{total} bytes"),
        ));
    }
    let per = if total > mtu { fragment_data_len(mtu) } else { payload.len().max(1) };
    let chunks: Vec<&[u8]> = if payload.is_empty() { vec![&payload[..]] } else { payload.chunks(per).collect() };
    let count = chunks.len();
    let id = net.take_ident16();
    let mut out = Vec::with_capacity(count);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let offset = i * per;
        let more = i + 1 < count;
        let header = Ipv4Header {
            dscp: IpDscp::ZERO,
            ecn: IpEcn::ZERO,
            total_len: (MIN_HEADER_LEN + chunk.len()) as u16,
            identification: id,
            dont_fragment: df,
            more_fragments: more,
            fragment_offset: IpFragOffset::try_new((offset / 8) as u16).map_err(|_| {
                Error::invalid(L3, PROTO, 6, "fragment offset", "at most 8191 blocks", format!("{}", offset / 8))
            })?,
            time_to_live: ttl,
            protocol: IpNumber(proto),
            header_checksum: 0,
            source: src.octets(),
            destination: dst.octets(),
            options: Default::default(),
        };
        let header = Ipv4Header { header_checksum: header.calc_header_checksum(), ..header };
        let mut packet = Vec::with_capacity(MIN_HEADER_LEN + chunk.len());
        packet.extend_from_slice(&header.to_bytes());
        packet.extend_from_slice(chunk);
        let view = Ipv4HeaderSlice::from_slice(&packet)
            .map_err(|e| Error::config(Some(L3), format!("emitted a bad IPv4 header: {e}")))?;
        let mut r = record(Direction::Down, &view);
        if count > 1 {
            r.part = Some(Part { index: i + 1, count });
            r.notes.push(format!(
                "fragment {} of {count}: data bytes {}..{} of {} (RFC 791 §3.2)",
                i + 1,
                offset,
                offset + chunk.len(),
                payload.len()
            ));
        }
        cx.trace.push(r);
        let mut m = meta.clone();
        m.ethertype = Some(ETHERTYPE);
        m.ip_proto = Some(proto);
        m.src_ip = Some(IpAddr::V4(src));
        m.dst_ip = Some(IpAddr::V4(dst));
        if count > 1 {
            m.part = Some(Part { index: i + 1, count });
        }
        out.push(Pdu { data: Data::Bytes(packet), meta: m });
    }
    Ok(out)
}

/// Going up: check the header (RFC 791 §3.1, RFC 1122 §3.2.1), trim Ethernet padding,
/// reassemble fragments (RFC 791 §3.2, RFC 815) and hand the payload up.
pub(super) fn decapsulate(net: &mut Network, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let len = bytes.len();
    // RFC 791 §3.1: Version = 4.
    let Some(&first) = bytes.first() else {
        return Err(Error::truncated(L3, PROTO, off, "IPv4 header", MIN_HEADER_LEN, 0));
    };
    let version = first >> 4;
    if version != 4 {
        return Err(Error::invalid(L3, PROTO, off + field::VER_IHL, "IP version", "4", version.to_string()));
    }
    if len < MIN_HEADER_LEN {
        return Err(Error::truncated(L3, PROTO, off, "IPv4 header", MIN_HEADER_LEN, len));
    }
    // RFC 791 §3.1: "the minimum value for a correct header is 5" (32-bit words).
    let ihl = usize::from(first & 0x0f);
    if ihl < 5 {
        return Err(Error::invalid(
            L3,
            PROTO,
            off + field::VER_IHL,
            "IHL (header length in 32-bit words)",
            "at least 5 (20 bytes)",
            ihl.to_string(),
        ));
    }
    let hlen = ihl * 4;
    if len < hlen {
        return Err(Error::truncated(L3, PROTO, off, "IPv4 header with options (IHL)", hlen, len));
    }
    // RFC 791 §3.1: Total Length counts header and data; it cannot be less than the header,
    // and the bytes it counts must all be present.
    let total = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    if total < hlen {
        return Err(Error::invalid(
            L3,
            PROTO,
            off + field::TOTAL_LEN.start,
            "total length",
            format!("at least the header length, {hlen}"),
            total.to_string(),
        ));
    }
    if total > len {
        return Err(Error::truncated(
            L3,
            PROTO,
            off + field::TOTAL_LEN.start,
            "IPv4 datagram (total length)",
            total,
            len,
        ));
    }
    let view = Ipv4HeaderSlice::from_slice(&bytes[..hlen])
        .map_err(|e| Error::invalid(L3, PROTO, off, "IPv4 header", "a well-formed header", e.to_string()))?;
    let mut r = record(Direction::Up, &view);
    net.expire_reassembly(cx, &mut r);
    if hlen > MIN_HEADER_LEN {
        r.notes.push(format!("{} bytes of options skipped", hlen - MIN_HEADER_LEN));
    }
    // RFC 791 §3.1 / RFC 1071: the header checksum sums to zero over the intact header.
    let carried = view.header_checksum();
    let computed = checksum::compute(&[], &bytes[..hlen], field::CHECKSUM.start);
    let ok = checksum::verifies(&[], &bytes[..hlen]);
    r.checks.push(Check::new(
        "ip.checksum.status",
        "Header checksum (RFC 791 §3.1)",
        ok,
        format!("{carried:#06x} (computed {computed:#06x})"),
    ));
    if !ok {
        cx.trace.push(r);
        return Err(Error::checksum(
            L3,
            PROTO,
            off + field::CHECKSUM.start,
            "IPv4 header checksum",
            u64::from(computed),
            u64::from(carried),
            2,
        ));
    }
    // Bytes after Total Length are Ethernet padding only if the frame needed padding at all.
    if total < len {
        if len > ETHERNET_MIN_PAYLOAD {
            r.notes.push("bytes after the total length, too many to be Ethernet padding: discarded".into());
            cx.trace.push(r);
            return Err(Error::invalid(
                L3,
                PROTO,
                off + field::TOTAL_LEN.start,
                "total length (the bytes after it are too many to be Ethernet padding, RFC 894)",
                format!("{len}, the bytes received"),
                total.to_string(),
            ));
        }
        r.notes.push(format!(
            "{} bytes after the total length ({total}) are Ethernet padding: trimmed (RFC 894)",
            len - total
        ));
    }
    // RFC 1122 §3.2.1.7: a host never sends TTL 0, and a router discards a datagram whose TTL
    // reaches 0: one that arrives with TTL 0 was never valid.
    if view.ttl() == 0 {
        r.notes.push("TTL 0: discarded".to_string());
        cx.trace.push(r);
        return Err(Error::invalid(L3, PROTO, off + field::TTL, "TTL (RFC 1122 §3.2.1.7)", "at least 1", "0"));
    }
    // RFC 1122 §3.2.1.3: a host accepts datagrams addressed to itself (or the limited broadcast).
    let dst = view.destination_addr();
    let src = view.source_addr();
    let local = net.cfg.local;
    if IpAddr::V4(dst) != local && dst != Ipv4Addr::BROADCAST && !net.cfg.promiscuous {
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
    if bytes[field::FLAGS_FRAG] & 0x80 != 0 {
        r.notes.push("the reserved flag bit is set (RFC 791 §3.1: must be zero)".to_string());
    }
    let proto = view.protocol().0;
    if !supported_proto(false, proto) {
        if !net.cfg.promiscuous {
            r.notes.push(format!("no handler for protocol {proto}: discarded"));
            cx.trace.push(r);
            return Err(Error::invalid(
                L3,
                PROTO,
                off + field::PROTOCOL,
                "protocol: none of this host's (a host answers ICMP Protocol Unreachable, RFC 1122 §3.2.2.1)",
                "1 (ICMP), 6 (TCP) or 17 (UDP)",
                proto_shown(proto),
            ));
        }
        r.notes.push(format!("no handler for protocol {proto} on this host (captured anyway)"));
    }
    let ttl = view.ttl();
    let mut out = meta;
    out.src_ip = Some(IpAddr::V4(src));
    out.dst_ip = Some(IpAddr::V4(dst));
    out.ip_proto = Some(proto);
    out.offset = off + hlen;
    let fragment_data = &bytes[hlen..total];
    let payload = if view.is_fragmenting_payload() {
        let key = Key {
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            proto: Some(proto),
            id: u32::from(view.identification()),
        };
        let frag = Fragment {
            offset: usize::from(view.fragments_offset().byte_offset()),
            data: fragment_data,
            more: view.more_fragments(),
            proto,
        };
        let (result, evicted) =
            net.reassembler.insert(key, cx.now, frag, MAX_DATAGRAM_LEN - hlen, OverlapPolicy::SameBytes);
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
                r.notes.push(format!("duplicate fragment dropped; {}", held_note(received, total)));
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
                done.data
            }
            Err(p) => {
                let e = problem_error(&p, off);
                r.notes.push(format!("fragment refused, datagram discarded: {e}"));
                cx.trace.push(r);
                return Err(e);
            }
        }
    } else {
        fragment_data.to_vec()
    };
    cx.trace.push(r);
    if proto == icmp::PROTO_ICMP {
        return icmp::decapsulate(net, payload, out, ttl, hlen, cx);
    }
    Ok(Some(Pdu { data: Data::Bytes(payload), meta: out }))
}

/// "fragment held for reassembly (1480 of ? bytes)".
pub(super) fn held_note(received: usize, total: Option<usize>) -> String {
    let total = total.map_or_else(|| "?".to_string(), |t| t.to_string());
    format!("fragment held for reassembly ({received} of {total} bytes)")
}

/// The error for a refused fragment, at the Flags / Fragment Offset field (`at` = frame offset
/// of the field that says where the fragment goes).
pub(super) fn problem_error(p: &Problem, at: usize) -> Error {
    let at = at + field::FLAGS_FRAG;
    match p {
        Problem::EmptyNotLast { offset } => Error::invalid(
            L3,
            PROTO,
            at,
            "fragment length (RFC 791 §3.2: fragments other than the last carry 8-byte blocks)",
            "at least 8 bytes of data when MF is set",
            format!("an empty fragment at payload offset {offset} with MF set: it makes no progress"),
        ),
        Problem::NotMultipleOf8 { len } => Error::invalid(
            L3,
            PROTO,
            at,
            "fragment length (RFC 791 §3.2: fragments other than the last carry 8-byte blocks)",
            "a multiple of 8",
            format!("{len} bytes"),
        ),
        Problem::TooLong { end, limit } => Error::invalid(
            L3,
            PROTO,
            at,
            "reassembled datagram length (RFC 791 §3.1: at most 65535 bytes)",
            format!("a payload of at most {limit} bytes"),
            format!("{end} bytes"),
        ),
        Problem::Overlap { at: byte, earlier } => Error::invalid(
            L3,
            PROTO,
            at,
            "overlapping fragments",
            format!("the same bytes as the fragment holding {}..{}", earlier.start, earlier.end),
            format!("different bytes from payload offset {byte}"),
        ),
        Problem::BeyondEnd { end, total } => Error::invalid(
            L3,
            PROTO,
            at,
            "fragment end",
            format!("within the datagram's {total} bytes set by its last fragment"),
            format!("data up to byte {end}"),
        ),
    }
}

/// Wireshark's short DSCP name (RFC 2474, RFC 2597, RFC 3246).
pub(super) fn dscp_name(d: u8) -> String {
    match d {
        0 => "CS0".into(),
        8 | 16 | 24 | 32 | 40 | 48 | 56 => format!("CS{}", d / 8),
        46 => "EF".into(),
        10 | 12 | 14 | 18 | 20 | 22 | 26 | 28 | 30 | 34 | 36 | 38 => format!("AF{}{}", d / 8, (d % 8) / 2),
        other => format!("Unknown ({other})"),
    }
}

/// ECN names (RFC 3168 §5): short, as in the DS field summary, and long.
pub(super) fn ecn_names(e: u8) -> (&'static str, &'static str) {
    match e & 3 {
        0 => ("Not-ECT", "Not ECN-Capable Transport"),
        1 => ("ECT(1)", "ECN-Capable Transport codepoint '01'"),
        2 => ("ECT(0)", "ECN-Capable Transport codepoint '10'"),
        _ => ("CE", "Congestion Experienced"),
    }
}

/// The DSCP and ECN sub-fields under `prefix` (`ip.dsfield`, `ipv6.tclass`).
pub(super) fn ds_fields(fields: &mut Vec<Field>, prefix: &str, ds: u8) {
    let (dscp, ecn) = (ds >> 2, ds & 3);
    let (_, ecn_long) = ecn_names(ecn);
    let dscp_long = if dscp == 0 { "Default".to_string() } else { dscp_name(dscp) };
    fields.push(
        Field::uint(format!("{prefix}.dscp"), "Differentiated Services Codepoint", dscp)
            .shown(format!("{dscp_long} ({dscp})"))
            .depth(1),
    );
    fields.push(
        Field::uint(format!("{prefix}.ecn"), "Explicit Congestion Notification", ecn)
            .shown(format!("{ecn_long} ({ecn})"))
            .depth(1),
    );
}

/// The record of one IPv4 packet (its header as tshark -V shows it).
fn record(direction: Direction, h: &Ipv4HeaderSlice<'_>) -> Record {
    let (src, dst) = (h.source_addr(), h.destination_addr());
    let mut r = Record::new(
        L3,
        direction,
        "ip",
        format!("Internet Protocol Version 4, Src: {src}, Dst: {dst}"),
        PduName::Packet,
    );
    let hlen = usize::from(h.ihl()) * 4;
    let total = usize::from(h.total_len());
    r.header = 0..hlen;
    r.payload_len = total.saturating_sub(hlen);
    r.overhead = hlen;
    let proto = h.protocol().0;
    let frag_units = h.fragments_offset().value();
    let frag_bytes = usize::from(frag_units) * 8;
    r.summary = if h.is_fragmenting_payload() {
        format!(
            "Fragmented IP protocol (proto={} {proto}, off={frag_bytes}, ID={:04x})",
            proto_name(proto),
            h.identification()
        )
    } else {
        format!("{src} → {dst} {} ({proto}), {total} bytes, id {:#06x}", proto_name(proto), h.identification())
    };
    let ds = (h.dcp().value() << 2) | h.ecn().value();
    let f = &mut r.fields;
    f.push(Field::uint("ip.version", "Version", 4u8));
    f.push(Field::uint("ip.hdr_len", "Header Length", hlen as u64).shown(format!("{hlen} bytes ({})", h.ihl())));
    f.push(Field::hex("ip.dsfield", "Differentiated Services Field", ds, 2).shown(format!(
        "{ds:#04x} (DSCP: {}, ECN: {})",
        dscp_name(ds >> 2),
        ecn_names(ds).0
    )));
    ds_fields(f, "ip.dsfield", ds);
    f.push(Field::uint("ip.len", "Total Length", h.total_len()));
    let id = h.identification();
    f.push(Field::hex("ip.id", "Identification", id, 4).shown(format!("{id:#06x} ({id})")));
    let raw_flags = h.slice().get(field::FLAGS_FRAG).copied().unwrap_or(0) >> 5;
    let (rb, df, mf) = (raw_flags & 4 != 0, h.dont_fragment(), h.more_fragments());
    let mut flag_text = format!("{raw_flags:#04x}");
    for (set, name) in [(rb, "Reserved bit"), (df, "Don't fragment"), (mf, "More fragments")] {
        if set {
            flag_text.push_str(", ");
            flag_text.push_str(name);
        }
    }
    f.push(Field::hex("ip.flags", "Flags", raw_flags, 2).shown(flag_text));
    f.push(Field::flag("ip.flags.rb", "Reserved bit", rb).depth(1));
    f.push(Field::flag("ip.flags.df", "Don't fragment", df).depth(1));
    f.push(Field::flag("ip.flags.mf", "More fragments", mf).depth(1));
    f.push(
        Field::uint("ip.frag_offset", "Fragment Offset", frag_units)
            .shown(format!("{frag_units} ({frag_bytes} bytes)")),
    );
    f.push(Field::uint("ip.ttl", "Time to Live", h.ttl()));
    f.push(Field::uint("ip.proto", "Protocol", proto).shown(proto_shown(proto)));
    f.push(Field::hex("ip.checksum", "Header Checksum", h.header_checksum(), 4));
    f.push(Field::new("ip.src", "Source Address", Value::Ipv4(src)));
    f.push(Field::new("ip.dst", "Destination Address", Value::Ipv4(dst)));
    r
}
