//! ICMP (RFC 792) and ICMPv6 (RFC 4443) echo: building requests and replies, checking received
//! messages, and their trace records.
//!
//! An echo message is 8 header bytes, type, code, checksum, identifier, sequence number, then
//! the data (RFC 792 "Echo or Echo Reply Message"; RFC 4443 §4.1–4.2). The ICMP checksum covers
//! the whole message; the ICMPv6 checksum also covers the IPv6 pseudo-header (RFC 4443 §2.3,
//! RFC 8200 §8.1).

use super::Network;
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Pdu, PduName};
use crate::layers::checksum;
use crate::trace::{text_if, Check, Direction, Field, Record};
use etherparse::{IcmpEchoHeader, Icmpv4Header, Icmpv4Type, Icmpv6Header, Icmpv6Type};
use std::net::{IpAddr, Ipv6Addr};

/// RFC 792: ICMP echo request / reply types.
pub const ICMP_ECHO_REPLY: u8 = 0;
/// RFC 792.
pub const ICMP_ECHO_REQUEST: u8 = 8;
/// RFC 4443 §4.1.
pub const ICMPV6_ECHO_REQUEST: u8 = 128;
/// RFC 4443 §4.2.
pub const ICMPV6_ECHO_REPLY: u8 = 129;
/// The IP protocol number of ICMP (RFC 792) and the IPv6 next header of ICMPv6 (RFC 4443).
pub const PROTO_ICMP: u8 = 1;
/// RFC 4443 §1.
pub const PROTO_ICMPV6: u8 = 58;
/// Every ICMP message starts with 8 bytes: type, code, checksum and 4 type-specific bytes.
pub const HEADER_LEN: usize = 8;

/// Request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoKind {
    /// ICMP type 8 / ICMPv6 type 128.
    Request,
    /// ICMP type 0 / ICMPv6 type 129.
    Reply,
}

/// One echo message, with the addresses of the IP packet that carries it (ICMPv6 needs them
/// for its checksum; the family of `src` chooses ICMP or ICMPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// Request or reply.
    pub kind: EchoKind,
    /// Identifier.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
    /// The data, echoed back unchanged by the reply (RFC 792; RFC 4443 §4.2).
    pub data: Vec<u8>,
    /// Source of the IP packet.
    pub src: IpAddr,
    /// Destination of the IP packet.
    pub dst: IpAddr,
}

impl Echo {
    /// ICMPv6 when the addresses are IPv6.
    pub fn is_v6(&self) -> bool {
        self.src.is_ipv6()
    }

    /// The ICMP type number.
    pub fn icmp_type(&self) -> u8 {
        match (self.is_v6(), self.kind) {
            (false, EchoKind::Request) => ICMP_ECHO_REQUEST,
            (false, EchoKind::Reply) => ICMP_ECHO_REPLY,
            (true, EchoKind::Request) => ICMPV6_ECHO_REQUEST,
            (true, EchoKind::Reply) => ICMPV6_ECHO_REPLY,
        }
    }

    /// The IP protocol / next header that carries it (1 or 58).
    pub fn ip_proto(&self) -> u8 {
        if self.is_v6() {
            PROTO_ICMPV6
        } else {
            PROTO_ICMP
        }
    }

    /// The message on the wire, checksum computed (RFC 792; RFC 4443 §2.3 with the pseudo-header).
    pub fn to_bytes(&self) -> Vec<u8> {
        let echo = IcmpEchoHeader { id: self.id, seq: self.seq };
        let mut out = Vec::with_capacity(HEADER_LEN + self.data.len());
        match (self.src, self.dst) {
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let t = match self.kind {
                    EchoKind::Request => Icmpv6Type::EchoRequest(echo),
                    EchoKind::Reply => Icmpv6Type::EchoReply(echo),
                };
                let mut h = Icmpv6Header::new(t);
                h.checksum = icmpv6_checksum(s, d, &h.to_bytes(), &self.data);
                out.extend_from_slice(&h.to_bytes());
            }
            _ => {
                let t = match self.kind {
                    EchoKind::Request => Icmpv4Type::EchoRequest(echo),
                    EchoKind::Reply => Icmpv4Type::EchoReply(echo),
                };
                out.extend_from_slice(&Icmpv4Header::with_checksum(t, &self.data).to_bytes());
            }
        }
        out.extend_from_slice(&self.data);
        out
    }

    /// The echo request or reply in `msg` (an ICMP message when the addresses are IPv4, ICMPv6
    /// when IPv6), or `None` when it is another type or shorter than 8 bytes. The checksum is not
    /// checked here.
    pub fn parse(msg: &[u8], src: IpAddr, dst: IpAddr) -> Option<Echo> {
        let head: [u8; HEADER_LEN] = msg.get(..HEADER_LEN)?.try_into().ok()?;
        let kind = match (src.is_ipv6(), head[0], head[1]) {
            (false, ICMP_ECHO_REQUEST, 0) | (true, ICMPV6_ECHO_REQUEST, 0) => EchoKind::Request,
            (false, ICMP_ECHO_REPLY, 0) | (true, ICMPV6_ECHO_REPLY, 0) => EchoKind::Reply,
            _ => return None,
        };
        Some(Echo {
            kind,
            id: u16::from_be_bytes([head[4], head[5]]),
            seq: u16::from_be_bytes([head[6], head[7]]),
            data: msg.get(HEADER_LEN..).unwrap_or_default().to_vec(),
            src,
            dst,
        })
    }
}

/// The reply to a received echo request: same identifier, sequence number and data, addresses
/// swapped (RFC 792: "the source and destination addresses are simply reversed, the type code
/// changed to 0, and the checksum recomputed"; RFC 4443 §4.2). `None` for a reply.
///
/// To send it, hand `reply.to_bytes()` to [`Network`]'s encapsulate with `meta.ip_proto` =
/// `reply.ip_proto()` and no echo configured: the layer sends a ready ICMP message as it is.
pub fn echo_reply(request: &Echo) -> Option<Echo> {
    match request.kind {
        EchoKind::Request => Some(Echo {
            kind: EchoKind::Reply,
            id: request.id,
            seq: request.seq,
            data: request.data.clone(),
            src: request.dst,
            dst: request.src,
        }),
        EchoKind::Reply => None,
    }
}

/// RFC 4443 §2.3: the ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1: source,
/// destination, upper-layer packet length, three zero bytes, next header 58) and the message
/// (`head` with its checksum bytes taken as zero, then `data`).
pub fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, head: &[u8], data: &[u8]) -> u16 {
    let msg = [head, data].concat();
    let pseudo = checksum::pseudo_header_inline(src.into(), dst.into(), PROTO_ICMPV6, msg.len()).unwrap_or_default();
    checksum::compute(&pseudo, &msg, 2)
}

/// Wireshark's name for an ICMP type (RFC 792).
fn icmp_type_name(t: u8) -> &'static str {
    match t {
        0 => "Echo (ping) reply",
        3 => "Destination unreachable",
        4 => "Source quench (flow control)",
        5 => "Redirect",
        8 => "Echo (ping) request",
        11 => "Time-to-live exceeded",
        12 => "Parameter problem",
        13 => "Timestamp request",
        14 => "Timestamp reply",
        _ => "Unknown",
    }
}

/// Wireshark's name for an ICMPv6 type (RFC 4443, RFC 4861).
fn icmpv6_type_name(t: u8) -> &'static str {
    match t {
        1 => "Destination Unreachable",
        2 => "Packet Too Big",
        3 => "Time Exceeded",
        4 => "Parameter Problem",
        128 => "Echo (ping) request",
        129 => "Echo (ping) reply",
        133 => "Router Solicitation",
        134 => "Router Advertisement",
        135 => "Neighbor Solicitation",
        136 => "Neighbor Advertisement",
        137 => "Redirect",
        _ => "Unknown",
    }
}

/// The record of one ICMP / ICMPv6 message (`msg` at least 8 bytes). `ttl` is the carrying
/// packet's TTL / hop limit, which Wireshark's Info column shows. Without `detail`, no human
/// text ([`Context::detail`]).
pub(super) fn record(direction: Direction, v6: bool, msg: &[u8], ttl: u8, detail: bool) -> Record {
    let b = |i: usize| msg.get(i).copied().unwrap_or(0);
    let (t, code) = (b(0), b(1));
    let checksum = u16::from_be_bytes([b(2), b(3)]);
    let id = u16::from_be_bytes([b(4), b(5)]);
    let seq = u16::from_be_bytes([b(6), b(7)]);
    let echo = if v6 { matches!(t, 128 | 129) } else { matches!(t, 0 | 8) };
    let mut r = if v6 {
        Record::new(LayerId::Network, direction, "icmpv6", "Internet Control Message Protocol v6", PduName::Packet)
    } else {
        Record::new(LayerId::Network, direction, "icmp", "Internet Control Message Protocol", PduName::Packet)
    };
    r.header = 0..HEADER_LEN.min(msg.len());
    r.payload_len = msg.len().saturating_sub(HEADER_LEN);
    r.overhead = HEADER_LEN;
    // The header's 3 to 7 fields, and an echo's data time (capture mode).
    r.fields.reserve(10);
    if v6 {
        let name = icmpv6_type_name(t);
        r.summary = text_if(detail, || {
            if echo {
                format!("{name} id={id:#06x}, seq={seq}, hop limit={ttl}")
            } else {
                name.to_string()
            }
        });
        r.fields.push(Field::uint("icmpv6.type", "Type", t).shown_if(detail, || format!("{name} ({t})")));
        r.fields.push(Field::uint("icmpv6.code", "Code", code));
        r.fields.push(Field::hex("icmpv6.checksum", "Checksum", checksum, 4));
        if echo {
            r.fields.push(Field::hex("icmpv6.echo.identifier", "Identifier", id, 4));
            r.fields.push(Field::uint("icmpv6.echo.sequence_number", "Sequence", seq));
        }
    } else {
        let name = icmp_type_name(t);
        r.summary = text_if(detail, || {
            if echo {
                format!("{name}  id={id:#06x}, seq={seq}/{}, ttl={ttl}", seq.swap_bytes())
            } else {
                name.to_string()
            }
        });
        r.fields.push(Field::uint("icmp.type", "Type", t).shown_if(detail, || format!("{t} ({name})")));
        r.fields.push(Field::uint("icmp.code", "Code", code));
        r.fields.push(Field::hex("icmp.checksum", "Checksum", checksum, 4));
        if echo {
            // tshark 4.0 shows both byte orders, since hosts disagree on which to use.
            let shown = |v: u16| text_if(detail, || format!("{v} ({v:#06x})"));
            r.fields.push(Field::uint("icmp.ident", "Identifier (BE)", id).shown(shown(id)));
            let le = id.swap_bytes();
            r.fields.push(Field::uint("icmp.ident_le", "Identifier (LE)", le).shown(shown(le)));
            r.fields.push(Field::uint("icmp.seq", "Sequence Number (BE)", seq).shown(shown(seq)));
            let le = seq.swap_bytes();
            r.fields.push(Field::uint("icmp.seq_le", "Sequence Number (LE)", le).shown(shown(le)));
        }
    }
    r
}

/// Going down: the ICMP message to send for this SDU, recorded. With an echo configured the SDU
/// becomes an echo request's data; otherwise the SDU is already an ICMP message (an echo reply
/// from [`echo_reply`]) and is sent unchanged.
pub(super) fn encapsulate(
    net: &mut Network,
    sdu: Vec<u8>,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    cx: &mut Context,
) -> Result<Vec<u8>> {
    let v6 = src.is_ipv6();
    let msg = match net.take_echo() {
        Some(e) => Echo { kind: EchoKind::Request, id: e.id, seq: e.seq, data: sdu, src, dst }.to_bytes(),
        None => {
            if sdu.len() < HEADER_LEN {
                return Err(Error::invalid(
                    LayerId::Network,
                    if v6 { "ICMPv6" } else { "ICMP" },
                    None,
                    "ICMP message from the layer above",
                    "at least 8 bytes (type, code, checksum, rest of header)",
                    format!("{} bytes", sdu.len()),
                ));
            }
            sdu
        }
    };
    let mut r = record(Direction::Down, v6, &msg, ttl, true);
    if let Some(e) = Echo::parse(&msg, src, dst) {
        r.notes.push(format!("{} bytes of echo data", e.data.len()));
    }
    cx.trace.push(r);
    Ok(msg)
}

/// Going up: check an ICMP / ICMPv6 message (`meta.offset` = its offset in the frame, `ip_hlen`
/// = the IP header(s) before it), record it, and deliver an echo's data with `meta.ip_proto` =
/// 1 / 58. Other types stop here.
pub(super) fn decapsulate(
    net: &mut Network,
    msg: Vec<u8>,
    mut meta: Meta,
    ttl: u8,
    ip_hlen: usize,
    cx: &mut Context,
) -> Result<Option<Pdu>> {
    let (Some(src), Some(dst)) = (meta.src_ip, meta.dst_ip) else {
        return Err(Error::config(Some(LayerId::Network), "ICMP decapsulated without IP addresses"));
    };
    let v6 = src.is_ipv6();
    let proto = if v6 { "ICMPv6" } else { "ICMP" };
    if msg.len() < HEADER_LEN {
        return Err(Error::truncated(LayerId::Network, proto, meta.offset, "ICMP header", HEADER_LEN, msg.len()));
    }
    let carried = u16::from_be_bytes([msg[2], msg[3]]);
    // Verify by summing the message with its checksum (and the pseudo-header): RFC 1071 §1 gives
    // 0 for intact data, whichever of the two one's-complement zeros the sender wrote.
    // ICMPv6 covers the pseudo-header (RFC 4443 §2.3); ICMPv4 only the message (RFC 792).
    let pseudo = if v6 {
        checksum::pseudo_header_inline(src, dst, PROTO_ICMPV6, msg.len()).unwrap_or_default()
    } else {
        Default::default()
    };
    let (computed, ok) = checksum::compute_and_verify(&pseudo, &msg, 2);
    let mut r = record(Direction::Up, v6, &msg, ttl, true);
    // Like the IP record's, the range counts from the start of the packet L3 received.
    r.header = ip_hlen..ip_hlen + r.header.end;
    let status = if v6 { "icmpv6.checksum.status" } else { "icmp.checksum.status" };
    let label = if v6 { "Checksum (with the IPv6 pseudo-header, RFC 4443 §2.3)" } else { "Checksum (RFC 792)" };
    r.checks.push(Check::new(status, label, ok, format!("{carried:#06x} (computed {computed:#06x})")));
    if !ok {
        cx.trace.push(r);
        return Err(Error::checksum(
            LayerId::Network,
            proto,
            meta.offset + 2,
            if v6 { "ICMPv6 checksum" } else { "ICMP checksum" },
            u64::from(computed),
            u64::from(carried),
            2,
        ));
    }
    match Echo::parse(&msg, src, dst) {
        Some(echo) => {
            r.notes.push(format!("{} bytes of echo data delivered to the layer above", echo.data.len()));
            cx.trace.push(r);
            meta.offset += HEADER_LEN;
            meta.ip_proto = Some(echo.ip_proto());
            let data = echo.data.clone();
            net.last_echo = Some(echo);
            Ok(Some(Pdu { data: Data::Bytes(data), meta }))
        }
        None => {
            r.notes.push("not an echo message: consumed at L3, nothing delivered above".to_string());
            cx.trace.push(r);
            net.last_icmp = Some(msg);
            Ok(None)
        }
    }
}
