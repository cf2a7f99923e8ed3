//! ICMP (RFC 792) in capture mode: every message type, with the fields tshark 4.0 shows, the
//! checksum checked (a bad one is a failed check and Wireshark's warning, and dissection goes
//! on), and the datagram an error quotes ([`quote`](super::quote)).
//!
//! Message layouts (RFC 792 unless noted): echo / echo reply (0, 8), information request /
//! reply (15, 16), timestamp (13, 14, with three 32-bit timestamps) and address mask (17, 18,
//! RFC 950) carry an identifier and a sequence number; destination unreachable (3), source
//! quench (4), redirect (5, with the gateway address), time exceeded (11) and parameter problem
//! (12, with a pointer) quote the invoking datagram; for 3, 11 and 12 a non-zero byte 5 is the
//! RFC 4884 length of the quote in 32-bit words; type 3 code 4 carries the next-hop MTU
//! (RFC 1191 §4); router advertisement (9, RFC 1256) lists addresses and preferences. Of a
//! redirect's quote tshark dissects only the IP header and 8 bytes, as RFC 792 defines it.

use super::super::icmp::{record, Echo, HEADER_LEN, PROTO_ICMP};
use super::super::Network;
use super::{be16, be32, byte, ipv4_at, quote};
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Pdu, PduName};
use crate::layers::checksum;
use crate::trace::{Check, Direction, Expert, Field, Group, Record, Severity, Value};

const L3: LayerId = LayerId::Network;
const PROTO: &str = "ICMP";

/// Wireshark's name for an ICMP code, for the types that have named codes.
fn code_name(t: u8, c: u8) -> Option<String> {
    let name = match (t, c) {
        (3, 0) => "Network unreachable",
        (3, 1) => "Host unreachable",
        (3, 2) => "Protocol unreachable",
        (3, 3) => "Port unreachable",
        (3, 4) => "Fragmentation needed",
        (3, 5) => "Source route failed",
        (3, 6) => "Destination network unknown",
        (3, 7) => "Destination host unknown",
        (3, 8) => "Source host isolated",
        (3, 9) => "Network administratively prohibited",
        (3, 10) => "Host administratively prohibited",
        (3, 11) => "Network unreachable for TOS",
        (3, 12) => "Host unreachable for TOS",
        (3, 13) => "Communication administratively filtered",
        (3, 14) => "Host precedence violation",
        (3, 15) => "Precedence cutoff in effect",
        (5, 0) => "Redirect for network",
        (5, 1) => "Redirect for host",
        (5, 2) => "Redirect for TOS and network",
        (5, 3) => "Redirect for TOS and host",
        (9, 0) => "Normal router advertisement",
        (9, 16) => "Does not route common traffic",
        (11, 0) => "Time to live exceeded in transit",
        (11, 1) => "Fragment reassembly time exceeded",
        (12, 0) => "Pointer indicates the error",
        (12, 1) => "Required option missing",
        (12, 2) => "Bad length",
        (3 | 5 | 9 | 11 | 12 | 42 | 43, _) => return Some(format!("Unknown code: {c}")),
        _ => return None,
    };
    Some(name.to_string())
}

/// The identifier and sequence number in both byte orders, as tshark 4.0 shows them.
fn ident_seq(m: &[u8]) -> Vec<Field> {
    let (id, seq) = (be16(m, 4), be16(m, 6));
    let (idl, seql) = (id.swap_bytes(), seq.swap_bytes());
    vec![
        Field::uint("icmp.ident", "Identifier (BE)", id).shown(format!("{id} ({id:#06x})")),
        Field::uint("icmp.ident_le", "Identifier (LE)", idl).shown(format!("{idl} ({idl:#06x})")),
        Field::uint("icmp.seq", "Sequence Number (BE)", seq).shown(format!("{seq} ({seq:#06x})")),
        Field::uint("icmp.seq_le", "Sequence Number (LE)", seql).shown(format!("{seql} ({seql:#06x})")),
    ]
}

/// RFC 792: a timestamp is milliseconds since midnight UT.
fn ts_field(name: &'static str, label: &'static str, v: u32) -> Field {
    let secs = v / 1000;
    let unit = if secs == 1 { "second" } else { "seconds" };
    Field::uint(name, label, v).shown(format!("{v} ({secs} {unit} after midnight UTC)"))
}

/// An FT_BYTES `icmp.unused` field.
fn unused(b: &[u8]) -> Field {
    Field::new("icmp.unused", "Unused", Value::Bytes(b.to_vec())).shown(crate::trace::hex(b))
}

/// The fields after type, code and checksum, and how many bytes of quote follow (for errors).
fn body(m: &[u8], fields: &mut Vec<Field>) -> Option<usize> {
    let (t, c) = (byte(m, 0), byte(m, 1));
    let rest = m.len().saturating_sub(HEADER_LEN);
    // RFC 4884 §4.1: for destination unreachable, time exceeded and parameter problem, a
    // non-zero byte 5 is the length of the original datagram in 32-bit words.
    let words = usize::from(byte(m, 5));
    let rfc4884 = words > 0 && matches!(t, 3 | 11 | 12);
    let length_fields = |fields: &mut Vec<Field>| {
        fields.push(Field::uint("icmp.length", "Length", words as u64));
        fields.push(Field::uint("icmp.length.original_datagram", "Length of original datagram", (words * 4) as u64));
    };
    match t {
        0 | 8 => return None,
        13 | 14 => {
            fields.extend(ident_seq(m));
            if m.len() >= 20 {
                fields.push(ts_field("icmp.originate_timestamp", "Originate Timestamp", be32(m, 8)));
                fields.push(ts_field("icmp.receive_timestamp", "Receive Timestamp", be32(m, 12)));
                fields.push(ts_field("icmp.transmit_timestamp", "Transmit Timestamp", be32(m, 16)));
            }
            return None;
        }
        15 | 16 => {
            fields.extend(ident_seq(m));
            return None;
        }
        17 | 18 => {
            fields.extend(ident_seq(m));
            if m.len() >= 12 {
                fields.push(Field::new("icmp.address_mask", "Address Mask", Value::Ipv4(ipv4_at(m, 8))));
            }
            return None;
        }
        3 => {
            if rfc4884 {
                fields.push(unused(&m[4..5]));
                length_fields(fields);
                if c == 4 {
                    fields.push(Field::uint("icmp.mtu", "MTU of next hop", be16(m, 6)));
                } else {
                    fields.push(unused(&m[6..8]));
                }
            } else if c == 4 {
                // RFC 1191 §4: the next-hop MTU in the low 16 bits.
                fields.push(unused(&m[4..6]));
                fields.push(Field::uint("icmp.mtu", "MTU of next hop", be16(m, 6)));
            } else {
                fields.push(unused(&m[4..8]));
            }
        }
        11 => {
            if rfc4884 {
                fields.push(unused(&m[4..5]));
                length_fields(fields);
                fields.push(unused(&m[6..8]));
            } else {
                fields.push(unused(&m[4..8]));
            }
        }
        12 => {
            fields.push(Field::uint("icmp.pointer", "Pointer", byte(m, 4)));
            if rfc4884 {
                length_fields(fields);
                fields.push(unused(&m[6..8]));
            } else {
                fields.push(unused(&m[5..8]));
            }
        }
        4 => {}
        5 => fields.push(Field::new("icmp.redir_gw", "Gateway Address", Value::Ipv4(ipv4_at(m, 4)))),
        9 => {
            // RFC 1256 §3: number of addresses, entry size (words), lifetime, then the entries,
            // which tshark lists only for the standard entry size of 2 words.
            let (n, size) = (byte(m, 4), byte(m, 5));
            let life = be16(m, 6);
            fields.push(Field::uint("icmp.num_addrs", "Number of addresses", n));
            fields.push(Field::uint("icmp.addr_entry_size", "Address entry size", size));
            fields.push(Field::uint("icmp.lifetime", "Lifetime", life).shown(lifetime(life)));
            if size == 2 {
                for k in 0..usize::from(n) {
                    let at = HEADER_LEN + k * 8;
                    if at + 8 > m.len() {
                        break;
                    }
                    fields.push(Field::new("icmp.router_address", "Router address", Value::Ipv4(ipv4_at(m, at))));
                    // A signed 32-bit preference (RFC 1256 §3: "twos-complement").
                    let pref = be32(m, at + 4) as i32;
                    let f = if pref < 0 {
                        Field::text("icmp.pref_level", "Preference level", pref.to_string())
                    } else {
                        Field::uint("icmp.pref_level", "Preference level", pref as u64)
                    };
                    fields.push(f);
                }
            }
            return None;
        }
        _ => return None,
    }
    // What of the rest is the original datagram, as Wireshark decides it (packet-icmp.c): for a
    // redirect, the quoted header and 8 bytes; with an RFC 4884 length (any error type but a
    // redirect) when the message is longer and the quoted total length larger, (quoted IHL +
    // length) words; else all of it.
    let q = m.get(HEADER_LEN..).unwrap_or_default();
    let ihl_bytes = usize::from(byte(q, 0) & 0x0f) * 4;
    let quoted_len = usize::from(be16(q, 2));
    let n = if t == 5 {
        ihl_bytes + 8
    } else if words > 0 && rest > words * 4 && quoted_len > words * 4 {
        ihl_bytes + words * 4
    } else {
        rest
    };
    Some(n.min(rest))
}

/// Wireshark's guess at the timestamp ping puts in the first 8 bytes of its echo data (Mike
/// Muuss's original ping wrote a `struct timeval` there, in host byte order): the seconds and
/// microseconds read little- and big-endian, microseconds below 10^6, the one nearest the
/// frame's time if less than a day away (tshark 4.0 reads 32-bit fields only). `now_ns` is the
/// frame's time in nanoseconds since the Unix epoch. Returns (seconds, nanoseconds).
pub(super) fn guess_timestamp(d: &[u8], now_ns: u64) -> Option<(i64, u32)> {
    let b: [u8; 8] = d.get(..8)?.try_into().ok()?;
    let now = i128::from(now_ns);
    let mut best: Option<((i64, u32), i128)> = None;
    let day = 86_400 * 1_000_000_000i128;
    for (secs, usecs) in [
        (u32::from_le_bytes([b[0], b[1], b[2], b[3]]), u32::from_le_bytes([b[4], b[5], b[6], b[7]])),
        (u32::from_be_bytes([b[0], b[1], b[2], b[3]]), u32::from_be_bytes([b[4], b[5], b[6], b[7]])),
    ] {
        if usecs >= 1_000_000 {
            continue;
        }
        let ts = i128::from(secs) * 1_000_000_000 + i128::from(usecs) * 1000;
        let delta = (now - ts).abs();
        if delta < best.map_or(day, |(_, d)| d) {
            best = Some(((i64::from(secs), usecs * 1000), delta));
        }
    }
    best.map(|(t, _)| t)
}

/// "Nov 21, 2026 22:01:26.000000000 UTC", as `tshark -T fields` prints an absolute time (in
/// the local time zone: run tshark with TZ=UTC to compare).
pub(super) fn abs_time(secs: i64, nanos: u32) -> String {
    // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar).
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let name = MONTHS.get((month - 1) as usize).copied().unwrap_or("???");
    format!("{name} {day:2}, {year} {:02}:{:02}:{:02}.{nanos:09} UTC", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// `icmp.data_time` and `icmp.data_time_relative` when the echo data starts with what looks
/// like ping's timestamp ([`guess_timestamp`]); `now_ns` is the frame's time.
pub(super) fn data_time_fields(data: &[u8], now_ns: u64) -> Option<Vec<Field>> {
    let (secs, nanos) = guess_timestamp(data, now_ns)?;
    let rel = i128::from(now_ns) - (i128::from(secs) * 1_000_000_000 + i128::from(nanos));
    Some(vec![
        Field::text("icmp.data_time", "Timestamp from icmp data", abs_time(secs, nanos)),
        Field::text("icmp.data_time_relative", "Timestamp from icmp data (relative)", rel_time(rel))
            .shown(format!("{} seconds", rel_time(rel))),
    ])
}

/// A relative time as `tshark -T fields` prints it: "0.428000000", "-100.000001000".
pub(super) fn rel_time(ns: i128) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    format!("{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000)
}

/// "1800 (30 minutes)", as tshark shows a router lifetime.
fn lifetime(s: u16) -> String {
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut parts = Vec::new();
    for (v, unit) in [(h, "hour"), (m, "minute"), (sec, "second")] {
        if v > 0 {
            parts.push(format!("{v} {unit}{}", if v == 1 { "" } else { "s" }));
        }
    }
    if parts.is_empty() {
        parts.push("0 seconds".to_string());
    }
    format!("{s} ({})", parts.join(", "))
}

/// Wireshark's name for a type, where it differs from the host's table.
fn type_name(t: u8, c: u8) -> Option<&'static str> {
    Some(match (t, c) {
        (9, 0 | 16) => "Mobile IP Advertisement",
        (9, _) => "Router advertisement",
        (10, _) => "Router solicitation",
        (15, _) => "Information request",
        (16, _) => "Information reply",
        (17, _) => "Address mask request",
        (18, _) => "Address mask reply",
        (42, _) => "Extended Echo request",
        (43, _) => "Extended Echo reply",
        (0 | 3 | 4 | 5 | 8 | 11 | 12 | 13 | 14, _) => return None,
        _ => "Unknown ICMP (obsolete or malformed?)",
    })
}

/// Going up: `msg` is the ICMP message (`meta.offset` its frame offset, `meta.src_ip` /
/// `dst_ip` set), `ip_hlen` the bytes of IP header before it, `ttl` the carrying packet's.
pub(super) fn decapsulate(
    net: &mut Network,
    msg: Vec<u8>,
    mut meta: Meta,
    ttl: u8,
    ip_hlen: usize,
    cx: &mut Context,
) -> Result<Option<Pdu>> {
    let off = meta.offset;
    let mut r = if msg.len() >= HEADER_LEN {
        record(Direction::Up, false, &msg, ttl, cx.detail)
    } else {
        let mut r = Record::new(L3, Direction::Up, "icmp", "Internet Control Message Protocol", PduName::Packet);
        if let Some(&t) = msg.first() {
            r.fields.push(Field::uint("icmp.type", "Type", t));
        }
        if let Some(&c) = msg.get(1) {
            r.fields.push(Field::uint("icmp.code", "Code", c));
        }
        if msg.len() >= 4 {
            r.fields.push(Field::hex("icmp.checksum", "Checksum", be16(&msg, 2), 4));
        }
        // tshark shows the identifier of an echo cut short after it.
        if msg.len() >= 6 && matches!(msg[0], 0 | 8 | 13..=18) {
            r.fields.extend(ident_seq(&msg).into_iter().take(2));
        }
        r
    };
    r.header = ip_hlen..ip_hlen + msg.len().min(HEADER_LEN);
    r.payload_len = msg.len().saturating_sub(HEADER_LEN);
    let (t, c) = (byte(&msg, 0), byte(&msg, 1));
    if let Some(name) = type_name(t, c).filter(|_| cx.detail) {
        if let Some(f) = r.fields.iter_mut().find(|f| f.name == "icmp.type") {
            f.shown = format!("{t} ({name})").into();
        }
        r.summary = name.to_string();
    }
    let code = r.fields.iter_mut().find(|f| f.name == "icmp.code");
    if let (Some(name), Some(f)) = (code_name(t, c).filter(|_| cx.detail), code) {
        f.shown = format!("{c} ({name})").into();
        r.summary = format!("{} ({name})", r.summary);
    }
    if msg.len() < HEADER_LEN {
        cx.trace.push(r);
        return Err(Error::truncated(L3, PROTO, off + msg.len(), "ICMP header", HEADER_LEN, msg.len()));
    }
    // RFC 792: the checksum is the one's complement of the one's complement sum of the message.
    let carried = be16(&msg, 2);
    let (computed, ok) = checksum::compute_and_verify(&[], &msg, 2);
    r.checks.push(Check::new(
        "icmp.checksum.status",
        "Checksum (RFC 792)",
        ok,
        cx.text(|| format!("{carried:#06x} (computed {computed:#06x})")),
    ));
    if let Some(f) = r.fields.iter_mut().find(|f| f.name == "icmp.checksum").filter(|_| cx.detail) {
        f.shown = if ok {
            format!("{carried:#06x} [correct]").into()
        } else {
            format!("{carried:#06x} incorrect, should be {computed:#06x}").into()
        };
    }
    if !ok {
        // Wireshark's icmp.checksum_bad is a warning.
        r.expert.push(Expert::new(
            Severity::Warning,
            Group::Checksum,
            format!("Bad checksum [should be {computed:#06x}]"),
            off + 2,
        ));
    }
    let quoted = body(&msg, &mut r.fields);
    cx.trace.push(r);
    if let Some(n) = quoted {
        let end = (HEADER_LEN + n).min(msg.len());
        let q = msg.get(HEADER_LEN..end).unwrap_or_default();
        net.capture.last_quote = quote::dissect(q, false, ip_hlen + HEADER_LEN, off + HEADER_LEN, cx);
        return Ok(None);
    }
    let (Some(src), Some(dst)) = (meta.src_ip, meta.dst_ip) else {
        return Ok(None);
    };
    match Echo::parse(&msg, src, dst) {
        Some(echo) => {
            meta.offset += HEADER_LEN;
            meta.ip_proto = Some(PROTO_ICMP);
            let mut data = echo.data.clone();
            // tshark takes a timestamp-looking start of the data for ping's send time
            // (`icmp.data_time`) and shows the rest as data.
            if let Some(fields) = data_time_fields(&data, cx.now.as_nanos()) {
                if let Some(r) = cx.trace.records.iter_mut().rev().find(|r| r.protocol == "icmp") {
                    r.fields.extend(fields);
                    r.notes.push(
                        "the first 8 bytes of the echo data look like ping's timestamp: the data shown after them"
                            .to_string(),
                    );
                }
                data.drain(..8);
                meta.offset += 8;
            }
            net.last_echo = Some(echo);
            Ok(Some(Pdu { data: Data::Bytes(data), meta }))
        }
        None => Ok(None),
    }
}
