//! ICMPv6 (RFC 4443) in capture mode, with Neighbor Discovery (RFC 4861) and MLD (RFC 2710,
//! RFC 3810), as tshark 4.0 shows them:
//!
//! - errors (1 Destination Unreachable, 2 Packet Too Big with the MTU, 3 Time Exceeded,
//!   4 Parameter Problem with the pointer) quote the invoking packet ([`quote`](super::quote));
//! - echo request / reply (128, 129): the data goes up (`meta.ip_proto` = 58);
//! - MLD query / report / done (130, 131, 132; a query of 28 bytes or more is MLDv2, RFC 3810
//!   §5.1) and MLDv2 reports (143, RFC 3810 §5.2) with their multicast address records;
//! - Router / Neighbor Solicitation and Advertisement and Redirect (133..137) with their fields
//!   and options (RFC 4861 §4.6: link-layer addresses, prefix information, redirected header,
//!   MTU);
//! - other types: Wireshark's "not implemented" note and the body as `icmpv6.data`.
//!
//! The checksum covers the pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1): a bad one is a failed
//! check and Wireshark's warning, and dissection goes on.

use super::super::icmp::{icmpv6_checksum, record, Echo, HEADER_LEN, PROTO_ICMPV6};
use super::super::Network;
use super::{be16, be32, byte, colon_hex, ipv6_at, none_field, quote};
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Pdu, PduName};
use crate::layers::checksum;
use crate::trace::{Check, Direction, Expert, Field, Group, Record, Severity, Value};
use std::net::IpAddr;

const L3: LayerId = LayerId::Network;
const PROTO: &str = "ICMPv6";

/// Wireshark's type names beyond the host's table.
fn type_name(t: u8) -> &'static str {
    match t {
        1 => "Destination Unreachable",
        2 => "Packet Too Big",
        3 => "Time Exceeded",
        4 => "Parameter Problem",
        100 | 101 | 200 | 201 => "Private experimentation",
        127 => "Reserved for expansion of ICMPv6 error messages",
        128 => "Echo (ping) request",
        129 => "Echo (ping) reply",
        130 => "Multicast Listener Query",
        131 => "Multicast Listener Report",
        132 => "Multicast Listener Done",
        133 => "Router Solicitation",
        134 => "Router Advertisement",
        135 => "Neighbor Solicitation",
        136 => "Neighbor Advertisement",
        137 => "Redirect",
        143 => "Multicast Listener Report Message v2",
        255 => "Reserved for expansion of ICMPv6 informational messages",
        _ => "Unknown",
    }
}

/// Wireshark's code names for the error types.
fn code_name(t: u8, c: u8) -> Option<String> {
    let n = match (t, c) {
        (1, 0) => "no route to destination",
        (1, 1) => "Administratively prohibited",
        (1, 2) => "Beyond scope of source address",
        (1, 3) => "Address unreachable",
        (1, 4) => "Port unreachable",
        (1, 5) => "Source address failed ingress/egress policy",
        (1, 6) => "Reject route to destination",
        (1, 7) => "Error in Source Routing Header",
        (1, _) => "Unknown",
        (3, 0) => "hop limit exceeded in transit",
        (3, 1) => "fragment reassembly time exceeded",
        (4, 0) => "erroneous header field encountered",
        (4, 1) => "unrecognized Next Header type encountered",
        (4, 2) => "unrecognized IPv6 option encountered",
        (4, 3) => "IPv6 First Fragment has incomplete IPv6 Header Chain",
        (3 | 4, _) => return Some(format!("Unknown ({c})")),
        _ => return None,
    };
    Some(n.to_string())
}

fn reserved(b: &[u8]) -> Field {
    Field::new("icmpv6.reserved", "Reserved", Value::Bytes(b.to_vec())).shown(crate::trace::hex(b))
}

fn addr(name: &'static str, label: &'static str, m: &[u8], at: usize) -> Field {
    Field::new(name, label, Value::Ipv6(ipv6_at(m, at)))
}

/// "Flags: 0xc0, Managed address configuration, Other configuration, Prf (Default Router
/// Preference): Medium" and the bits under it (RFC 4861 §4.2, RFC 4191 §2.2, RFC 4389).
fn ra_flags(v: u8, f: &mut Vec<Field>) {
    let prf = (v >> 3) & 3;
    let prf_name = match prf {
        0 => "Medium",
        1 => "High",
        2 => "Reserved",
        _ => "Low",
    };
    let mut shown = format!("0x{v:02x}");
    for (bit, name) in [(0x80, "Managed address configuration"), (0x40, "Other configuration"), (0x20, "Home Agent")] {
        if v & bit != 0 {
            shown += &format!(", {name}");
        }
    }
    shown += &format!(", Prf (Default Router Preference): {prf_name}");
    if v & 0x04 != 0 {
        shown += ", Proxy";
    }
    f.push(Field::hex("icmpv6.nd.ra.flag", "Flags", v, 2).shown(shown));
    f.push(Field::flag("icmpv6.nd.ra.flag.m", "Managed address configuration", v & 0x80 != 0).depth(1));
    f.push(Field::flag("icmpv6.nd.ra.flag.o", "Other configuration", v & 0x40 != 0).depth(1));
    f.push(Field::flag("icmpv6.nd.ra.flag.h", "Home Agent", v & 0x20 != 0).depth(1));
    f.push(
        Field::uint("icmpv6.nd.ra.flag.prf", "Prf (Default Router Preference)", prf)
            .shown(format!("{prf_name} ({prf})"))
            .depth(1),
    );
    f.push(Field::flag("icmpv6.nd.ra.flag.p", "Proxy", v & 0x04 != 0).depth(1));
    f.push(Field::uint("icmpv6.nd.ra.flag.rsv", "Reserved", v & 3).depth(1));
}

/// RFC 4861 §4.4: the Router, Solicited and Override flags.
fn na_flags(v: u32, f: &mut Vec<Field>) {
    let mut shown = format!("0x{v:08x}");
    for (bit, name) in [(0x8000_0000u32, "Router"), (0x4000_0000, "Solicited"), (0x2000_0000, "Override")] {
        if v & bit != 0 {
            shown += &format!(", {name}");
        }
    }
    f.push(Field::hex("icmpv6.nd.na.flag", "Flags", v, 8).shown(shown));
    f.push(Field::flag("icmpv6.nd.na.flag.r", "Router", v & 0x8000_0000 != 0).depth(1));
    f.push(Field::flag("icmpv6.nd.na.flag.s", "Solicited", v & 0x4000_0000 != 0).depth(1));
    f.push(Field::flag("icmpv6.nd.na.flag.o", "Override", v & 0x2000_0000 != 0).depth(1));
    f.push(Field::uint("icmpv6.nd.na.flag.rsv", "Reserved", v & 0x1fff_ffff).depth(1));
}

fn option_name(t: u8) -> &'static str {
    match t {
        1 => "Source link-layer address",
        2 => "Target link-layer address",
        3 => "Prefix information",
        4 => "Redirected header",
        5 => "MTU",
        14 => "Nonce",
        24 => "Route Information",
        25 => "Recursive DNS Server",
        31 => "DNS Search List",
        _ => "Unknown",
    }
}

/// A prefix lifetime: 0xffffffff is "Infinity" (RFC 4861 §4.6.2).
fn lifetime(name: &'static str, label: &'static str, v: u32) -> Field {
    let f = Field::uint(name, label, v);
    if v == u32::MAX {
        f.shown(format!("Infinity ({v})"))
    } else {
        f
    }
}

/// The ND options (RFC 4861 §4.6) in `m[from..]`; `at` is the frame offset of `m`. A redirected
/// header's packet is added to `quotes` (its start and end in `m`).
fn nd_options(m: &[u8], from: usize, at: usize, r: &mut Record, quotes: &mut Vec<(usize, usize)>) {
    let mut i = from;
    while i + 2 <= m.len() {
        let (t, units) = (m[i], m[i + 1]);
        let name = option_name(t);
        let len = usize::from(units) * 8;
        if len == 0 {
            // RFC 4861 §4.6: "Nodes MUST silently discard an ND packet that contains an option
            // with length zero."
            r.expert.push(Expert::new(Severity::Error, Group::Malformed, "Invalid option length (Zero)", at + i + 1));
            return;
        }
        let Some(o) = m.get(i..i + len) else {
            r.expert.push(Expert::new(
                Severity::Error,
                Group::Malformed,
                format!("{name} option of {len} bytes runs past the message"),
                at + i,
            ));
            return;
        };
        let f = &mut r.fields;
        let summary = match t {
            1 | 2 => colon_hex(&o[2..]),
            3 => format!("{}/{}", ipv6_at(o, 16), byte(o, 2)),
            5 => be32(o, 4).to_string(),
            _ => String::new(),
        };
        let heading = if summary.is_empty() { format!("({name})") } else { format!("({name} : {summary})") };
        f.push(none_field("icmpv6.opt", "ICMPv6 Option", heading));
        f.push(Field::uint("icmpv6.opt.type", "Type", t).shown(format!("{name} ({t})")).depth(1));
        f.push(Field::uint("icmpv6.opt.length", "Length", units).shown(format!("{units} ({len} bytes)")).depth(1));
        match t {
            1 | 2 => {
                let a = &o[2..];
                let field = match <[u8; 6]>::try_from(a) {
                    Ok(mac) => {
                        Field::new("icmpv6.opt.linkaddr", "Link-layer address", Value::Mac(crate::addr::MacAddr(mac)))
                    }
                    Err(_) => Field::text("icmpv6.opt.linkaddr", "Link-layer address", colon_hex(a)),
                };
                f.push(field.depth(1));
            }
            3 if len >= 32 => {
                let fl = o[3];
                let mut shown = format!("0x{fl:02x}");
                for (bit, n) in [
                    (0x80, "On-link flag(L)"),
                    (0x40, "Autonomous address-configuration flag(A)"),
                    (0x20, "Router address flag(R)"),
                ] {
                    if fl & bit != 0 {
                        shown += &format!(", {n}");
                    }
                }
                f.push(Field::uint("icmpv6.opt.prefix.length", "Prefix Length", o[2]).depth(1));
                f.push(Field::hex("icmpv6.opt.prefix.flag", "Flag", fl, 2).shown(shown).depth(1));
                f.push(Field::flag("icmpv6.opt.prefix.flag.l", "On-link flag(L)", fl & 0x80 != 0).depth(2));
                f.push(
                    Field::flag("icmpv6.opt.prefix.flag.a", "Autonomous address-configuration flag(A)", fl & 0x40 != 0)
                        .depth(2),
                );
                f.push(Field::flag("icmpv6.opt.prefix.flag.r", "Router address flag(R)", fl & 0x20 != 0).depth(2));
                f.push(Field::uint("icmpv6.opt.prefix.flag.reserved", "Reserved", fl & 0x1f).depth(2));
                f.push(lifetime("icmpv6.opt.prefix.valid_lifetime", "Valid Lifetime", be32(o, 4)).depth(1));
                f.push(lifetime("icmpv6.opt.prefix.preferred_lifetime", "Preferred Lifetime", be32(o, 8)).depth(1));
                f.push(none_field("icmpv6.opt.reserved", "Reserved", "").depth(1));
                f.push(addr("icmpv6.opt.prefix", "Prefix", o, 16).depth(1));
            }
            4 => {
                // RFC 4861 §4.6.3: 6 reserved bytes, then as much of the redirected packet as fits.
                f.push(none_field("icmpv6.opt.reserved", "Reserved", "").depth(1));
                f.push(none_field("icmpv6.opt.redirected_packet", "Redirected Packet", "").depth(1));
                quotes.push((i + 8, i + len));
            }
            5 if len >= 8 => {
                f.push(none_field("icmpv6.opt.reserved", "Reserved", "").depth(1));
                f.push(Field::uint("icmpv6.opt.mtu", "MTU", be32(o, 4)).depth(1));
            }
            _ => r.notes.push(format!("ICMPv6 option {name} ({t}) not decoded")),
        }
        i += len;
    }
}

/// RFC 3810 §5.2.12: the record types of a Multicast Address Record.
fn record_type_name(t: u8) -> &'static str {
    match t {
        1 => "Mode is include",
        2 => "Mode is exclude",
        3 => "Changed to include",
        4 => "Changed to exclude",
        5 => "Allow new sources",
        6 => "Block old sources",
        _ => "Unknown",
    }
}

/// The fields after type, code and checksum; the (start, end) of any quoted packet.
fn body(m: &[u8], at: usize, r: &mut Record) -> Vec<(usize, usize)> {
    let t = byte(m, 0);
    let n = m.len();
    let mut quotes = Vec::new();
    let f = &mut r.fields;
    match t {
        1 | 3 => {
            // RFC 4884 §4.1: a non-zero first byte is the quote's length (in 64-bit words).
            if m[4] != 0 {
                f.push(Field::uint("icmpv6.length", "Length of original datagram", m[4]));
                f.push(reserved(&m[5..8]));
            } else {
                f.push(reserved(&m[4..8]));
            }
            quotes.push((HEADER_LEN, n));
        }
        2 => {
            f.push(Field::uint("icmpv6.mtu", "MTU", be32(m, 4)));
            quotes.push((HEADER_LEN, n));
        }
        4 => {
            f.push(Field::uint("icmpv6.pointer", "Pointer", be32(m, 4)));
            quotes.push((HEADER_LEN, n));
        }
        128 | 129 => {}
        130..=132 => {
            if t == 130 && n >= 28 {
                // RFC 3810 §5.1: the MLDv2 query.
                f.push(Field::uint("icmpv6.mld.maximum_response_code", "Maximum Response Code", be16(m, 4)));
                f.push(reserved(&m[6..8]));
                f.push(addr("icmpv6.mld.multicast_address", "Multicast Address", m, 8));
                let fl = m[24];
                f.push(Field::hex("icmpv6.mld.flag", "Flags", fl, 2));
                let s = fl & 0x08 != 0;
                f.push(
                    Field::flag("icmpv6.mld.flag.s", "Suppress Router-Side Processing", s)
                        .shown(if s { "True" } else { "False" })
                        .depth(1),
                );
                f.push(Field::uint("icmpv6.mld.flag.qrv", "QRV (Querier's Robustness Variable)", fl & 7).depth(1));
                f.push(Field::uint("icmpv6.mld.flag.reserved", "Reserved", fl >> 4).depth(1));
                f.push(Field::uint("icmpv6.mld.qqi", "QQIC (Querier's Query Interval Code)", m[25]));
                let count = be16(m, 26);
                f.push(Field::uint("icmpv6.mld.nb_sources", "Number of Sources", count));
                for k in 0..usize::from(count) {
                    let a = 28 + 16 * k;
                    if a + 16 > n {
                        break;
                    }
                    f.push(addr("icmpv6.mld.source_address", "Source Address", m, a));
                }
            } else if n >= 24 {
                // RFC 2710 §3.
                f.push(Field::uint("icmpv6.mld.maximum_response_delay", "Maximum Response Delay [ms]", be16(m, 4)));
                f.push(reserved(&m[6..8]));
                f.push(addr("icmpv6.mld.multicast_address", "Multicast Address", m, 8));
            }
        }
        133 => {
            f.push(reserved(&m[4..8]));
            nd_options(m, 8, at, r, &mut quotes);
        }
        134 if n >= 16 => {
            f.push(Field::uint("icmpv6.nd.ra.cur_hop_limit", "Cur hop limit", m[4]));
            ra_flags(m[5], f);
            f.push(Field::uint("icmpv6.nd.ra.router_lifetime", "Router lifetime (s)", be16(m, 6)));
            f.push(Field::uint("icmpv6.nd.ra.reachable_time", "Reachable time (ms)", be32(m, 8)));
            f.push(Field::uint("icmpv6.nd.ra.retrans_timer", "Retrans timer (ms)", be32(m, 12)));
            nd_options(m, 16, at, r, &mut quotes);
        }
        135 if n >= 24 => {
            f.push(reserved(&m[4..8]));
            f.push(addr("icmpv6.nd.ns.target_address", "Target Address", m, 8));
            nd_options(m, 24, at, r, &mut quotes);
        }
        136 if n >= 24 => {
            na_flags(be32(m, 4), f);
            f.push(addr("icmpv6.nd.na.target_address", "Target Address", m, 8));
            nd_options(m, 24, at, r, &mut quotes);
        }
        137 if n >= 40 => {
            f.push(reserved(&m[4..8]));
            f.push(addr("icmpv6.nd.rd.target_address", "Target Address", m, 8));
            f.push(addr("icmpv6.rd.na.destination_address", "Destination Address", m, 24));
            nd_options(m, 40, at, r, &mut quotes);
        }
        143 => {
            // RFC 3810 §5.2.
            f.push(reserved(&m[4..6]));
            let count = be16(m, 6);
            f.push(Field::uint("icmpv6.mldr.nb_mcast_records", "Number of Multicast Address Records", count));
            let mut a = 8;
            for _ in 0..count {
                if a + 20 > n {
                    break;
                }
                let (rt, aux, ns) = (m[a], m[a + 1], be16(m, a + 2));
                let maddr = ipv6_at(m, a + 4);
                f.push(none_field(
                    "icmpv6.mldr.mar",
                    "Multicast Address Record",
                    format!("{}: {maddr}", record_type_name(rt)),
                ));
                f.push(
                    Field::uint("icmpv6.mldr.mar.record_type", "Record Type", rt)
                        .shown(format!("{} ({rt})", record_type_name(rt)))
                        .depth(1),
                );
                f.push(Field::uint("icmpv6.mldr.mar.aux_data_len", "Aux Data Len", aux).depth(1));
                f.push(Field::uint("icmpv6.mldr.mar.nb_sources", "Number of Sources", ns).depth(1));
                f.push(addr("icmpv6.mldr.mar.multicast_address", "Multicast Address", m, a + 4).depth(1));
                a += 20;
                for _ in 0..ns {
                    if a + 16 > n {
                        break;
                    }
                    f.push(addr("icmpv6.mldr.mar.source_address", "Source Address", m, a).depth(1));
                    a += 16;
                }
                a += usize::from(aux) * 4;
            }
        }
        134..=137 => {}
        _ => {
            r.expert.push(Expert::new(
                Severity::Note,
                Group::Undecoded,
                format!("Dissector for ICMPv6 Type ({t}) code not implemented, Contact Wireshark developers if you want this supported"),
                at,
            ));
            if n > 4 {
                f.push(Field::new("icmpv6.data", "Data", Value::Bytes(m[4..].to_vec())));
            }
        }
    }
    quotes
}

/// Going up: `msg` is the ICMPv6 message (`meta.offset` its frame offset, addresses set),
/// `hlen` the bytes of IPv6 headers before it, `hlim` the carrying packet's hop limit.
pub(super) fn decapsulate(
    net: &mut Network,
    msg: Vec<u8>,
    mut meta: Meta,
    hlim: u8,
    hlen: usize,
    cx: &mut Context,
) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let (Some(IpAddr::V6(src)), Some(IpAddr::V6(dst))) = (meta.src_ip, meta.dst_ip) else {
        return Err(Error::config(Some(L3), "ICMPv6 decapsulated without IPv6 addresses"));
    };
    let mut r = if msg.len() >= HEADER_LEN {
        record(Direction::Up, true, &msg, hlim, cx.detail)
    } else {
        let mut r = Record::new(L3, Direction::Up, "icmpv6", "Internet Control Message Protocol v6", PduName::Packet);
        if let Some(&t) = msg.first() {
            r.fields.push(Field::uint("icmpv6.type", "Type", t).shown(format!("{} ({t})", type_name(t))));
        }
        if let Some(&c) = msg.get(1) {
            r.fields.push(Field::uint("icmpv6.code", "Code", c));
        }
        if msg.len() >= 4 {
            r.fields.push(Field::hex("icmpv6.checksum", "Checksum", be16(&msg, 2), 4));
        }
        r
    };
    r.header = hlen..hlen + msg.len().min(HEADER_LEN);
    r.payload_len = msg.len().saturating_sub(HEADER_LEN);
    let (t, c) = (byte(&msg, 0), byte(&msg, 1));
    if cx.detail {
        if let Some(f) = r.fields.iter_mut().find(|f| f.name == "icmpv6.type") {
            f.shown = format!("{} ({t})", type_name(t)).into();
        }
        if !matches!(t, 128 | 129) {
            r.summary = type_name(t).to_string();
        }
        if let (Some(name), Some(f)) = (code_name(t, c), r.fields.iter_mut().find(|f| f.name == "icmpv6.code")) {
            f.shown = format!("{c} ({name})").into();
            r.summary = format!("{} ({name})", r.summary);
        }
    }
    if msg.len() < HEADER_LEN {
        cx.trace.push(r);
        return Err(Error::truncated(L3, PROTO, off + msg.len(), "ICMPv6 header", HEADER_LEN, msg.len()));
    }
    // RFC 4443 §2.3: the checksum covers the pseudo-header (RFC 8200 §8.1) and the message.
    let carried = be16(&msg, 2);
    let pseudo = checksum::pseudo_header_inline(src.into(), dst.into(), PROTO_ICMPV6, msg.len()).unwrap_or_default();
    let ok = checksum::verifies(&pseudo, &msg);
    let computed = || icmpv6_checksum(src, dst, &msg[..HEADER_LEN], &msg[HEADER_LEN..]);
    if cx.detail {
        let computed = computed();
        r.checks.push(Check::new(
            "icmpv6.checksum.status",
            "Checksum (with the IPv6 pseudo-header, RFC 4443 §2.3)",
            ok,
            format!("{carried:#06x} (computed {computed:#06x})"),
        ));
        if let Some(f) = r.fields.iter_mut().find(|f| f.name == "icmpv6.checksum") {
            f.shown = if ok {
                format!("{carried:#06x} [correct]").into()
            } else {
                format!("{carried:#06x} incorrect, should be {computed:#06x}").into()
            };
        }
    } else {
        r.checks.push(Check::new(
            "icmpv6.checksum.status",
            "Checksum (with the IPv6 pseudo-header, RFC 4443 §2.3)",
            ok,
            String::new(),
        ));
    }
    if !ok {
        let computed = computed();
        // Wireshark's icmpv6.checksum_bad is a warning.
        r.expert.push(Expert::new(
            Severity::Warning,
            Group::Checksum,
            format!("Bad checksum [should be {computed:#06x}]"),
            off + 2,
        ));
    }
    let quotes = body(&msg, off, &mut r);
    cx.trace.push(r);
    for (start, end) in quotes {
        let q = msg.get(start..end.min(msg.len())).unwrap_or_default();
        let quoted = quote::dissect(q, true, hlen + start, off + start, cx);
        if start == HEADER_LEN {
            net.capture.last_quote = quoted;
        }
    }
    match Echo::parse(&msg, src.into(), dst.into()) {
        Some(echo) => {
            meta.offset += HEADER_LEN;
            meta.ip_proto = Some(PROTO_ICMPV6);
            let data = echo.data.clone();
            net.last_echo = Some(echo);
            Ok(Some(Pdu { data: Data::Bytes(data), meta }))
        }
        None => Ok(None),
    }
}
