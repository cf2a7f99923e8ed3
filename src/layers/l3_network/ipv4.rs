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

use super::ip::{self, ds_fields, dscp_name, ecn_names, DsNames, Family, Inbound, Outbound, Piece};
use super::reassembly::{Fragment, Key, OverlapPolicy};
use super::{icmp, proto_name, proto_shown, Network};
use crate::error::{Error, Result};
use crate::layer::{Context, LayerId, Meta, Pdu, PduName};
use crate::layers::checksum;
use crate::trace::{text_if, Check, Direction, Field, Record, Value};
use etherparse::{IpDscp, IpEcn, IpNumber, Ipv4Header, Ipv4HeaderSlice};
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

/// What IPv4 says in the steps it shares with IPv6.
pub(super) const FAMILY: Family = Family {
    proto: PROTO,
    version: 4,
    v6: false,
    min_header: MIN_HEADER_LEN,
    ethertype: ETHERTYPE,
    icmp: icmp::PROTO_ICMP,
    unit: "datagram",
    fragmentation: "RFC 791 §3.2",
    more_flag: "MF",
    length_rule: "fragment length (RFC 791 §3.2: fragments other than the last carry 8-byte blocks)",
    too_long: "reassembled datagram length (RFC 791 §3.1: at most 65535 bytes)",
    too_long_expected: |limit| format!("a payload of at most {limit} bytes"),
    duplicate: "duplicate fragment dropped",
    overlap: OverlapPolicy::SameBytes,
    frag_field: field::FLAGS_FRAG,
    length_field: "total length",
    padding_rfc: "RFC 894",
    ttl: ("TTL", "RFC 1122 §3.2.1.7"),
    also_for_us: IpAddr::V4(Ipv4Addr::BROADCAST),
    proto_field: ("protocol", "no handler for"),
    unsupported: "protocol: none of this host's (a host answers ICMP Protocol Unreachable, RFC 1122 §3.2.2.1)",
    supported: "1 (ICMP), 6 (TCP) or 17 (UDP)",
};

/// Going down: one datagram, or its fragments when it exceeds the MTU.
pub(super) fn encapsulate(
    net: &mut Network,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sdu: Pdu,
    cx: &mut Context,
) -> Result<Vec<Pdu>> {
    let (bytes, meta) = sdu.into_bytes(L3)?;
    let (payload, proto) = ip::payload_down(net, &FAMILY, bytes, &meta, src.into(), dst.into(), cx)?;
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
    let pieces = if total > mtu { ip::cut(&payload, mtu, MIN_HEADER_LEN) } else { vec![Piece::whole(&payload)] };
    let id = net.take_ident16();
    let mut out = Outbound::new(&FAMILY, meta, proto, src.into(), dst.into(), payload.len());
    for piece in &pieces {
        let header = Ipv4Header {
            dscp: IpDscp::ZERO,
            ecn: IpEcn::ZERO,
            total_len: (MIN_HEADER_LEN + piece.data.len()) as u16,
            identification: id,
            dont_fragment: df,
            more_fragments: piece.more,
            fragment_offset: piece.frag_offset(&FAMILY, 0)?,
            time_to_live: net.cfg.ttl,
            protocol: IpNumber(proto),
            header_checksum: 0,
            source: src.octets(),
            destination: dst.octets(),
            options: Default::default(),
        };
        let header = Ipv4Header { header_checksum: header.calc_header_checksum(), ..header };
        let mut packet = Vec::with_capacity(MIN_HEADER_LEN + piece.data.len());
        packet.extend_from_slice(&header.to_bytes());
        packet.extend_from_slice(piece.data);
        let view = Ipv4HeaderSlice::from_slice(&packet)
            .map_err(|e| Error::config(Some(L3), format!("emitted a bad IPv4 header: {e}")))?;
        let r = record(Direction::Down, &view);
        out.push(cx, piece, r, packet);
    }
    Ok(out.finish())
}

/// Going up: check the header (RFC 791 §3.1, RFC 1122 §3.2.1), trim Ethernet padding,
/// reassemble fragments (RFC 791 §3.2, RFC 815) and hand the payload up.
pub(super) fn decapsulate(net: &mut Network, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let len = bytes.len();
    // RFC 791 §3.1: Version = 4.
    ip::check_version(&FAMILY, &bytes, off + field::VER_IHL)?;
    // RFC 791 §3.1: "the minimum value for a correct header is 5" (32-bit words).
    let ihl = usize::from(bytes[field::VER_IHL] & 0x0f);
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
    let (src, dst) = (view.source_addr(), view.destination_addr());
    let up = Inbound::new(net, cx, &FAMILY, r, src.into(), dst.into());
    let up = up.trim_padding(len, total, total, || {
        Error::invalid(
            L3,
            PROTO,
            off + field::TOTAL_LEN.start,
            "total length (the bytes after it are too many to be Ethernet padding, RFC 894)",
            format!("{len}, the bytes received"),
            total.to_string(),
        )
    })?;
    let ttl = view.ttl();
    let mut up = up.check_ttl(ttl, off + field::TTL)?.check_destination(off + field::DST)?;
    if bytes[field::FLAGS_FRAG] & 0x80 != 0 {
        up.r.notes.push("the reserved flag bit is set (RFC 791 §3.1: must be zero)".to_string());
    }
    let proto = view.protocol().0;
    let up = up.check_proto(proto, off + field::PROTOCOL)?;
    let fragment_data = &bytes[hlen..total];
    if !view.is_fragmenting_payload() {
        return up.deliver(fragment_data.to_vec(), meta, proto, ttl, hlen);
    }
    // RFC 791 §3.2: the fragments of one datagram share source, destination, protocol and
    // identification.
    let key = Key { src: src.into(), dst: dst.into(), proto: Some(proto), id: u32::from(view.identification()) };
    let frag = Fragment {
        offset: usize::from(view.fragments_offset().byte_offset()),
        data: fragment_data,
        more: view.more_fragments(),
        proto,
    };
    match up.reassemble(key, frag, MAX_DATAGRAM_LEN - hlen, off)? {
        Some((up, done)) => up.deliver(done.data, meta, proto, ttl, hlen),
        None => Ok(None),
    }
}

/// The record of one IPv4 packet (its header as tshark -V shows it).
fn record(direction: Direction, h: &Ipv4HeaderSlice<'_>) -> Record {
    record_bytes(direction, h.slice(), true)
}

/// The record of the IPv4 header whose bytes start `h`: all of it, or, as in the quote of an
/// ICMP error (RFC 792: "Internet Header + 64 bits of Original Data Datagram"), only its first
/// bytes, when the fields whose bytes are missing are left out, as tshark does. Options are not
/// listed here (see `capture::options`). Without `detail`, no human text
/// ([`Context::detail`](crate::layer::Context::detail)).
pub(super) fn record_bytes(direction: Direction, h: &[u8], detail: bool) -> Record {
    let b = |i: usize| h.get(i).copied().unwrap_or(0);
    let be16 = |i: usize| u16::from_be_bytes([b(i), b(i + 1)]);
    let addr = |i: usize| Ipv4Addr::new(b(i), b(i + 1), b(i + 2), b(i + 3));
    let has = |end: usize| h.len() >= end;
    let (src, dst) = (addr(12), addr(field::DST));
    let title = text_if(detail, || {
        if has(MIN_HEADER_LEN) {
            format!("Internet Protocol Version 4, Src: {src}, Dst: {dst}")
        } else {
            "Internet Protocol Version 4".to_string()
        }
    });
    let mut r = Record::new(L3, direction, "ip", title, PduName::Packet);
    // The 17 fields of the fixed header, and room for a few options' or reassembly's.
    r.fields.reserve(24);
    let ihl = b(field::VER_IHL) & 0x0f;
    let hlen = usize::from(ihl) * 4;
    let total = usize::from(be16(field::TOTAL_LEN.start));
    r.header = 0..hlen.min(h.len());
    r.payload_len = total.saturating_sub(hlen);
    r.overhead = hlen;
    let proto = b(field::PROTOCOL);
    let id = be16(4);
    let raw_flags = b(field::FLAGS_FRAG) >> 5;
    let frag_units = be16(field::FLAGS_FRAG) & 0x1fff;
    let frag_bytes = usize::from(frag_units) * 8;
    let (rb, df, mf) = (raw_flags & 4 != 0, raw_flags & 2 != 0, raw_flags & 1 != 0);
    r.summary = text_if(detail, || {
        if mf || frag_units != 0 {
            format!("Fragmented IP protocol (proto={} {proto}, off={frag_bytes}, ID={id:04x})", proto_name(proto))
        } else {
            format!("{src} → {dst} {} ({proto}), {total} bytes, id {id:#06x}", proto_name(proto))
        }
    });
    let f = &mut r.fields;
    if !has(1) {
        return r;
    }
    f.push(Field::uint("ip.version", "Version", b(field::VER_IHL) >> 4));
    f.push(
        Field::uint("ip.hdr_len", "Header Length", hlen as u64).shown_if(detail, || format!("{hlen} bytes ({ihl})")),
    );
    if !has(2) {
        return r;
    }
    let ds = b(1);
    f.push(
        Field::hex("ip.dsfield", "Differentiated Services Field", ds, 2)
            .shown_if(detail, || format!("{ds:#04x} (DSCP: {}, ECN: {})", dscp_name(ds >> 2), ecn_names(ds).0)),
    );
    ds_fields(f, DsNames::IP, ds, detail);
    if !has(4) {
        return r;
    }
    f.push(Field::uint("ip.len", "Total Length", total as u64));
    if !has(6) {
        return r;
    }
    f.push(Field::hex("ip.id", "Identification", id, 4).shown_if(detail, || format!("{id:#06x} ({id})")));
    if !has(8) {
        return r;
    }
    f.push(Field::hex("ip.flags", "Flags", raw_flags, 2).shown_if(detail, || {
        let mut flag_text = format!("{raw_flags:#04x}");
        for (set, name) in [(rb, "Reserved bit"), (df, "Don't fragment"), (mf, "More fragments")] {
            if set {
                flag_text.push_str(", ");
                flag_text.push_str(name);
            }
        }
        flag_text
    }));
    f.push(Field::flag("ip.flags.rb", "Reserved bit", rb).depth(1));
    f.push(Field::flag("ip.flags.df", "Don't fragment", df).depth(1));
    f.push(Field::flag("ip.flags.mf", "More fragments", mf).depth(1));
    f.push(
        Field::uint("ip.frag_offset", "Fragment Offset", frag_units)
            .shown_if(detail, || format!("{frag_units} ({frag_bytes} bytes)")),
    );
    if !has(9) {
        return r;
    }
    f.push(Field::uint("ip.ttl", "Time to Live", b(field::TTL)));
    if !has(10) {
        return r;
    }
    f.push(Field::uint("ip.proto", "Protocol", proto).shown_if(detail, || proto_shown(proto)));
    if !has(12) {
        return r;
    }
    f.push(Field::hex("ip.checksum", "Header Checksum", be16(field::CHECKSUM.start), 4));
    if !has(16) {
        return r;
    }
    f.push(Field::new("ip.src", "Source Address", Value::Ipv4(src)));
    if !has(MIN_HEADER_LEN) {
        return r;
    }
    f.push(Field::new("ip.dst", "Destination Address", Value::Ipv4(dst)));
    r
}
