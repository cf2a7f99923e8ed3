//! The datagram an ICMP or ICMPv6 error quotes (RFC 792: "Internet Header + 64 bits of Original
//! Data Datagram"; RFC 1812 §4.3.2.3 lets routers quote more; RFC 4443 §2.4: "as much of
//! invoking packet as possible"), dissected as tshark dissects it:
//!
//! - an inner `ip` / `ipv6` record built by the same code as the outer one, so `ip.src`,
//!   `ip.dst` ... print twice in a frame ("outer,inner"); with only part of the header quoted,
//!   only the fields whose bytes are there;
//! - if the quote reaches into the transport header of a first fragment, an inner `udp`, `tcp`
//!   or `icmp` / `icmpv6` record with as many fields as the quoted bytes hold. tshark 4.0 shows:
//!   UDP: the ports from 4 bytes, the length from 6, the checksum from 8, then the payload;
//!   TCP under IPv4: the ports from 4 bytes, `tcp.seq` (the raw number) from 8, the whole header
//!   from 20, with `tcp.seq` raw, `tcp.ack` always, and neither `tcp.seq_raw` nor `tcp.len`;
//!   TCP under IPv6: the ports from 4 bytes, the whole header from 20 with `tcp.seq` and
//!   `tcp.seq_raw` (both the raw number), `tcp.ack` always, no `tcp.len`.
//!
//! The quoted transport payload ([`Quote`]) is kept for the dissector, which may hand it to the
//! application layer as tshark does (a quoted DNS query prints `dns.id` ... for the ICMP frame).
//! Records made here are L3 records (the quote is part of the ICMP message), their header
//! ranges counted, like the ICMP record's, from the start of the outer IP packet.
//!
//! Generated fields tshark adds from its conversation tables (`udp.stream`, `tcp.stream`,
//! `tcp.completeness`, `tcp.window_size`, status items) are not made here.

use super::{be16, byte, ext, ipv4, ipv6_at};
use crate::layer::{Context, LayerId, PduName};
use crate::layers::l3_network::{icmp as host_icmp, ipv4 as host_ipv4, ipv6 as host_ipv6};
use crate::layers::l4_transport::tcp::{RelativeTo, TcpFlags, TcpSegment, TcpView};
use crate::layers::l4_transport::udp;
use crate::trace::{Direction, Field, Record, Value};
use std::net::{IpAddr, Ipv4Addr};

/// What an ICMP error quotes of the invoking packet's transport, for the dissector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The quoted packet's source address.
    pub src: IpAddr,
    /// Its destination address.
    pub dst: IpAddr,
    /// Its protocol / upper-layer next header.
    pub proto: u8,
    /// The transport source port, when quoted.
    pub src_port: Option<u16>,
    /// The transport destination port, when quoted.
    pub dst_port: Option<u16>,
    /// The quoted bytes after the transport header (all the bytes after the IP headers when the
    /// transport is not UDP, TCP or ICMP, or the quoted packet is not a first fragment).
    pub payload: Vec<u8>,
    /// The frame offset of `payload`'s first byte.
    pub offset: usize,
}

/// Dissect `quote`, the bytes after an ICMP error's 8-byte header (`v6`: after an ICMPv6 one),
/// whose first byte is `at` bytes into the outer IP packet and at frame offset `frame_at`.
/// Records go on the trace; the quoted transport data is returned.
pub(super) fn dissect(quote: &[u8], v6: bool, at: usize, frame_at: usize, cx: &mut Context) -> Option<Quote> {
    if quote.is_empty() {
        return None;
    }
    let (src, dst, proto, hlen, first_fragment) =
        if v6 { inner_ipv6(quote, at, frame_at, cx)? } else { inner_ipv4(quote, at, frame_at, cx)? };
    let rest = quote.get(hlen..).unwrap_or_default();
    let mut q =
        Quote { src, dst, proto, src_port: None, dst_port: None, payload: rest.to_vec(), offset: frame_at + hlen };
    if !first_fragment {
        return Some(q);
    }
    let tat = at + hlen;
    let consumed = match proto {
        17 => udp_record(rest, tat, cx),
        6 => tcp_record(rest, v6, tat, frame_at + hlen, cx),
        1 if !v6 => icmp_record(rest, false, tat, cx),
        58 if v6 => icmp_record(rest, true, tat, cx),
        _ => 0,
    };
    if matches!(proto, 6 | 17) && rest.len() >= 4 {
        q.src_port = Some(be16(rest, 0));
        q.dst_port = Some(be16(rest, 2));
    }
    q.payload = rest.get(consumed..).unwrap_or_default().to_vec();
    q.offset = frame_at + hlen + consumed;
    Some(q)
}

fn shift(r: &mut Record, at: usize) {
    r.header = r.header.start + at..r.header.end + at;
    r.notes.push("quoted in an ICMP error message".to_string());
}

/// The inner IPv4 header: its record (and options), then (src, dst, proto, header length,
/// first fragment). `None` when the header is not all there.
fn inner_ipv4(q: &[u8], at: usize, frame_at: usize, cx: &mut Context) -> Option<(IpAddr, IpAddr, u8, usize, bool)> {
    let hlen = usize::from(byte(q, 0) & 0x0f) * 4;
    let (mut r, _) = ipv4::header_record(q, frame_at, cx.detail);
    shift(&mut r, at);
    cx.trace.push(r);
    if q.len() < hlen.max(host_ipv4::MIN_HEADER_LEN) || byte(q, 0) >> 4 != 4 {
        return None;
    }
    let src = Ipv4Addr::new(q[12], q[13], q[14], q[15]);
    let dst = Ipv4Addr::new(q[16], q[17], q[18], q[19]);
    let first = be16(q, 6) & 0x1fff == 0;
    Some((src.into(), dst.into(), q[9], hlen, first))
}

/// The inner IPv6 header and its extension headers, as for IPv4.
fn inner_ipv6(q: &[u8], at: usize, frame_at: usize, cx: &mut Context) -> Option<(IpAddr, IpAddr, u8, usize, bool)> {
    let whole = q.len() >= host_ipv6::HEADER_LEN;
    let title = if whole {
        format!("Internet Protocol Version 6, Src: {}, Dst: {}", ipv6_at(q, 8), ipv6_at(q, 24))
    } else {
        "Internet Protocol Version 6".to_string()
    };
    let mut r = Record::new(LayerId::Network, Direction::Up, "ipv6", title, PduName::Packet);
    r.fields = super::ipv6_fields(q, cx.detail);
    r.header = 0..q.len().min(host_ipv6::HEADER_LEN);
    if !whole || byte(q, 0) >> 4 != 6 {
        shift(&mut r, at);
        cx.trace.push(r);
        return None;
    }
    let end = q.len();
    let walk = ext::walk(q, byte(q, 6), host_ipv6::HEADER_LEN, end, frame_at);
    r.fields.extend(walk.fields);
    r.expert.extend(walk.expert);
    r.header = 0..walk.end;
    r.payload_len = end - walk.end;
    shift(&mut r, at);
    cx.trace.push(r);
    let first = walk.fragment.map_or(true, |f| f.offset == 0);
    Some((ipv6_at(q, 8).into(), ipv6_at(q, 24).into(), walk.next, walk.end, first))
}

/// The quoted UDP header (RFC 768); the bytes it took.
fn udp_record(t: &[u8], at: usize, cx: &mut Context) -> usize {
    let n = t.len();
    if n < 4 {
        return 0;
    }
    let (sp, dp, len, sum) = (be16(t, 0), be16(t, 2), be16(t, 4), be16(t, 6));
    let mut r = Record::new(LayerId::Network, Direction::Up, "udp", udp::title(sp, dp), PduName::Datagram);
    let mut f = udp::header_fields(sp, dp, len, sum);
    f.truncate(match n {
        4 | 5 => 2,
        6 | 7 => 3,
        _ => 4,
    });
    if let Some(c) = f.get_mut(3).filter(|_| sum == 0) {
        c.shown = "0x0000 [zero-value ignored]".to_string().into();
    }
    let hlen = n.min(udp::HEADER_LEN);
    let data = t.get(hlen..).unwrap_or_default();
    let data = &data[..data.len().min(usize::from(len).saturating_sub(udp::HEADER_LEN))];
    if n >= udp::HEADER_LEN && !data.is_empty() {
        f.push(
            Field::new("udp.payload", "UDP payload", Value::Bytes(data.to_vec()))
                .shown(format!("({} bytes)", data.len())),
        );
    }
    r.fields = f;
    r.header = at..at + hlen;
    r.payload_len = data.len();
    r.overhead = hlen;
    r.summary = udp::summary(sp, dp, usize::from(len).saturating_sub(udp::HEADER_LEN));
    shift(&mut r, 0);
    cx.trace.push(r);
    hlen
}

/// The quoted TCP header (RFC 9293 §3.1), with the fields tshark 4.0 shows for a quote (see the
/// module documentation); the bytes it took.
fn tcp_record(t: &[u8], v6: bool, at: usize, frame_at: usize, cx: &mut Context) -> usize {
    let n = t.len();
    if n < 4 {
        return 0;
    }
    let (sp, dp) = (be16(t, 0), be16(t, 2));
    let mut title = format!("Transmission Control Protocol, Src Port: {sp}, Dst Port: {dp}");
    let mut r = Record::new(LayerId::Network, Direction::Up, "tcp", "", PduName::Segment);
    let mut f = vec![Field::uint("tcp.srcport", "Source Port", sp), Field::uint("tcp.dstport", "Destination Port", dp)];
    let mut hlen = n.min(8);
    if n < 20 {
        if !v6 && n >= 8 {
            f.push(Field::uint("tcp.seq", "Sequence Number", super::be32(t, 4)));
        } else {
            hlen = 4;
        }
    } else {
        let real = usize::from(byte(t, 12) >> 4) * 4;
        let full = L4Fields::of(t, real, frame_at);
        title = full.title;
        hlen = full.hlen;
        f = full.fields;
        tcp_quote_variant(&mut f, v6);
    }
    r.title = title;
    r.fields = f;
    r.header = at..at + hlen;
    r.overhead = hlen;
    r.payload_len = n - hlen;
    r.summary = format!("{sp} → {dp} (quoted)");
    shift(&mut r, 0);
    cx.trace.push(r);
    hlen
}

/// What L4's field builder gives for a quoted header of at least 20 bytes.
struct L4Fields {
    fields: Vec<Field>,
    title: String,
    hlen: usize,
}

impl L4Fields {
    /// `t` holds at least the fixed 20 bytes; `real` is the header length its data offset says.
    /// When the options are not all quoted (or do not parse) the fields are built from the fixed
    /// header alone and `tcp.hdr_len` is put back to the real value.
    fn of(t: &[u8], real: usize, frame_at: usize) -> L4Fields {
        let zero = Some(RelativeTo { seq: 0, ack: 0 });
        let whole = real >= 20 && t.len() >= real;
        if whole {
            if let Ok(view) = TcpView::new(t, frame_at) {
                if let Ok(seg) = TcpSegment::from_view(&view) {
                    let mut fields = seg.fields(&view, zero, true);
                    payload_field(&mut fields, &seg.payload);
                    return L4Fields { fields, title: quote_title(&seg), hlen: real };
                }
            }
        }
        // The fixed header alone: data offset 5.
        let mut fixed = t.get(..20).unwrap_or_default().to_vec();
        if let Some(b) = fixed.get_mut(12) {
            *b = (*b & 0x0f) | 0x50;
        }
        let Ok(view) = TcpView::new(&fixed, frame_at) else {
            return L4Fields { fields: Vec::new(), title: String::new(), hlen: 20 };
        };
        let seg = TcpSegment::from_view(&view).ok();
        let mut fields = seg.as_ref().map(|s| s.fields(&view, zero, true)).unwrap_or_default();
        if let Some(h) = fields.iter_mut().find(|x| x.name == "tcp.hdr_len") {
            *h = Field::uint("tcp.hdr_len", "Header Length", real as u64).shown(format!("{real} bytes ({})", real / 4));
        }
        let title = seg.as_ref().map(quote_title).unwrap_or_default();
        L4Fields { fields, title, hlen: 20 }
    }
}

/// tshark's heading for a quoted segment: no Len.
fn quote_title(seg: &TcpSegment) -> String {
    let mut t = format!(
        "Transmission Control Protocol, Src Port: {}, Dst Port: {}, Seq: {}",
        seg.src_port, seg.dst_port, seg.seq
    );
    if seg.flags.contains(TcpFlags::ACK) {
        t += &format!(", Ack: {}", seg.ack);
    }
    t
}

/// `tcp.payload`, after the header fields, when data is quoted.
fn payload_field(f: &mut Vec<Field>, data: &[u8]) {
    if !data.is_empty() {
        f.push(
            Field::new("tcp.payload", "TCP payload", Value::Bytes(data.to_vec()))
                .shown(format!("({} bytes)", data.len())),
        );
    }
}

/// Turn L4's fields (built with relative numbers based at 0, i.e. the raw numbers) into what
/// tshark 4.0 shows for a quoted segment.
fn tcp_quote_variant(f: &mut Vec<Field>, v6: bool) {
    f.retain(|x| x.name != "tcp.len");
    let seq = f.iter().find(|x| x.name == "tcp.seq_raw").map(|x| x.value.clone());
    if v6 {
        // tcp.seq (shown as relative) and tcp.seq_raw, both the raw number: as built.
    } else {
        f.retain(|x| x.name != "tcp.seq_raw");
        if let (Some(s), Some(Value::Uint(v))) = (f.iter_mut().find(|x| x.name == "tcp.seq"), seq) {
            *s = Field::uint("tcp.seq", "Sequence Number", v);
        }
    }
    if !f.iter().any(|x| x.name == "tcp.ack") {
        if let Some(i) = f.iter().position(|x| x.name == "tcp.ack_raw") {
            let v = match &f[i].value {
                Value::Uint(v) => *v,
                _ => 0,
            };
            f.insert(i, Field::uint("tcp.ack", "Acknowledgment Number", v));
        }
    }
}

/// A quoted ICMP / ICMPv6 message: its record (checksum not checked, as tshark marks it "[in
/// ICMP error packet]"); the bytes it took (the 8-byte header).
fn icmp_record(t: &[u8], v6: bool, at: usize, cx: &mut Context) -> usize {
    if t.len() < host_icmp::HEADER_LEN {
        return 0;
    }
    let mut r = host_icmp::record(Direction::Up, v6, t, 0, cx.detail);
    r.header = at..at + host_icmp::HEADER_LEN;
    // tshark guesses ping's timestamp in a quoted echo's data too.
    if !v6 && matches!(t[0], 0 | 8) {
        if let Some(f) = super::icmp::data_time_fields(&t[host_icmp::HEADER_LEN..], cx.now.as_nanos()) {
            r.fields.extend(f);
        }
    }
    r.notes.push("checksum not verified: the message is quoted in an ICMP error".to_string());
    shift(&mut r, 0);
    cx.trace.push(r);
    host_icmp::HEADER_LEN
}
