//! IPv6 extension headers (RFC 8200 §4) walked up to the upper-layer header, each listed as
//! tshark 4.0 lists it under the IPv6 subtree:
//!
//! - Hop-by-Hop Options (0) and Destination Options (60), RFC 8200 §4.3 / §4.6:
//!   `ipv6.hopopts` / `ipv6.dstopts` with `.nxt`, `.len`, `.len_oct`, then each option
//!   (§4.2: Pad1, PadN, and RFC 2711's Router Alert decoded): `ipv6.opt` with `ipv6.opt.type`
//!   (and its action / may-change / rest bits), `ipv6.opt.length` and the option's value;
//! - Routing (43), RFC 8200 §4.4: `ipv6.routing` with `.nxt`, `.len`, `.len_oct`, `.type`,
//!   `.segleft`, and for type 0 (RFC 2460, deprecated by RFC 5095) the addresses;
//! - Fragment (44), §4.5: `ipv6.fraghdr` with `.nxt`, `.reserved_octet`, `.offset`,
//!   `.reserved_bits`, `.more`, `.ident`; the walk stops there (what follows is fragmentable).
//!
//! A Hop-by-Hop header elsewhere than right after the fixed header gets Wireshark's error item
//! and is read anyway; a header running past the payload ends the walk (the bytes left go up
//! as they are, under the header's next-header value, for the dissector to show).

use super::{be16, be32, byte, ipv6_at, none_field};
use crate::layers::l3_network::proto_shown;
use crate::trace::{Expert, Field, Group, Severity, Value};

/// At most this many extension headers are read.
pub const MAX_HEADERS: usize = 16;

/// The Fragment header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FragHeader {
    /// Where it starts in the packet.
    pub at: usize,
    /// The upper-layer protocol of the fragmentable part.
    pub next: u8,
    /// Byte offset of this fragment's data.
    pub offset: usize,
    /// M flag.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

/// What the walk found.
#[derive(Debug, Clone)]
pub(super) struct Walk {
    /// The fields of every header read.
    pub fields: Vec<Field>,
    /// Expert items.
    pub expert: Vec<Expert>,
    /// The next-header value after the last header read (the upper-layer protocol, unless the
    /// walk stopped early).
    pub next: u8,
    /// The offset of the field holding `next`.
    pub next_at: usize,
    /// Where the headers end (the upper-layer data starts).
    pub end: usize,
    /// The Fragment header, if any.
    pub fragment: Option<FragHeader>,
    /// A header ran past the payload.
    pub cut: bool,
}

/// RFC 8200 §4.2: an option type's two high bits say what a node that does not know it does.
fn action_name(a: u8) -> &'static str {
    match a {
        0 => "Skip and continue",
        1 => "Discard packet",
        2 => "Discard packet and send ICMP Parameter Problem",
        _ => "Discard packet and send ICMP Parameter Problem for unicast addresses",
    }
}

fn option_name(t: u8) -> &'static str {
    match t {
        0 => "Pad1",
        1 => "PadN",
        5 => "Router Alert",
        0xc2 => "Jumbo Payload",
        4 => "Tunnel Encapsulation Limit",
        0xc9 => "Home Address",
        _ => "Unknown IPv6 Option",
    }
}

/// RFC 2711 §2.1 (and the IANA registry): the Router Alert values tshark names.
fn router_alert_name(v: u16) -> String {
    let n = match v {
        0 => "MLD",
        1 => "RSVP",
        2 => "Active Networks",
        _ => return format!("Unknown ({v})"),
    };
    format!("{n} ({v})")
}

/// The options of a Hop-by-Hop or Destination Options header (`o`: its bytes after the first two).
fn options(o: &[u8], f: &mut Vec<Field>) {
    let mut i = 0;
    while i < o.len() {
        let t = o[i];
        let name = option_name(t);
        let head = |f: &mut Vec<Field>| {
            f.push(none_field("ipv6.opt", "IPv6 Option", name).depth(1));
            f.push(Field::hex("ipv6.opt.type", "Type", t, 2).shown(format!("{name} (0x{t:02x})")).depth(2));
            let a = t >> 6;
            f.push(
                Field::uint("ipv6.opt.type.action", "Action", a).shown(format!("{} ({a})", action_name(a))).depth(3),
            );
            let change = t & 0x20 != 0;
            f.push(
                Field::flag("ipv6.opt.type.change", "May Change", change)
                    .shown(if change { "Yes" } else { "No" })
                    .depth(3),
            );
            f.push(Field::hex("ipv6.opt.type.rest", "Low-Order Bits", t & 0x1f, 2).depth(3));
        };
        if t == 0 {
            // RFC 8200 §4.2: Pad1 is a single octet with no length.
            head(f);
            f.push(none_field("ipv6.opt.pad1", "Pad1", "").depth(2));
            i += 1;
            continue;
        }
        let Some(&len) = o.get(i + 1) else { break };
        let len = usize::from(len);
        let Some(v) = o.get(i + 2..i + 2 + len) else { break };
        head(f);
        f.push(Field::uint("ipv6.opt.length", "Length", len as u64).depth(2));
        match t {
            // tshark 4.0 prints an empty byte field as "<none>".
            1 if v.is_empty() => f.push(Field::text("ipv6.opt.padn", "PadN", "<none>").depth(2)),
            1 => f.push(Field::new("ipv6.opt.padn", "PadN", Value::Bytes(v.to_vec())).depth(2)),
            5 if len == 2 => {
                let ra = be16(v, 0);
                f.push(Field::uint("ipv6.opt.router_alert", "Router Alert", ra).shown(router_alert_name(ra)).depth(2));
            }
            4 if len == 1 => f.push(Field::uint("ipv6.opt.tel", "Tunnel Encapsulation Limit", v[0]).depth(2)),
            0xc2 if len == 4 => f.push(Field::uint("ipv6.opt.jumbo", "Payload Length", be32(v, 0)).depth(2)),
            _ => {}
        }
        i += 2 + len;
    }
}

/// Walk the headers of the packet `p` (fixed header included) starting with next-header value
/// `next` at offset `pos`, up to `end` (the payload length's end). `frame_at` is the packet's
/// frame offset, for expert items.
pub(super) fn walk(p: &[u8], mut next: u8, mut pos: usize, end: usize, frame_at: usize) -> Walk {
    let mut w = Walk { fields: Vec::new(), expert: Vec::new(), next, next_at: 6, end: pos, fragment: None, cut: false };
    for _ in 0..MAX_HEADERS {
        match next {
            0 | 60 => {
                let (proto, title) = if next == 0 {
                    ("ipv6.hopopts", "IPv6 Hop-by-Hop Option")
                } else {
                    ("ipv6.dstopts", "Destination Options for IPv6")
                };
                if pos + 2 > end {
                    w.cut = true;
                    break;
                }
                let elen = (usize::from(byte(p, pos + 1)) + 1) * 8;
                if pos + elen > end {
                    w.cut = true;
                    break;
                }
                w.fields.push(Field::text(proto, title, proto).shown(format!("{elen} bytes")));
                if next == 0 && pos != 40 {
                    w.expert.push(Expert::new(
                        Severity::Error,
                        Group::Protocol,
                        "IPv6 Hop-by-Hop extension header must appear immediately after IPv6 header",
                        frame_at + pos,
                    ));
                }
                let nh = byte(p, pos);
                w.fields.push(Field::uint(format!("{proto}.nxt"), "Next Header", nh).shown(proto_shown(nh)).depth(1));
                w.fields.push(Field::uint(format!("{proto}.len"), "Length", byte(p, pos + 1)).depth(1));
                w.fields.push(
                    Field::uint(format!("{proto}.len_oct"), "Length", elen as u64)
                        .shown(format!("{elen} bytes"))
                        .depth(1),
                );
                options(&p[pos + 2..pos + elen], &mut w.fields);
                w.next_at = pos;
                next = nh;
                pos += elen;
            }
            43 => {
                if pos + 4 > end {
                    w.cut = true;
                    break;
                }
                let elen = (usize::from(byte(p, pos + 1)) + 1) * 8;
                if pos + elen > end {
                    w.cut = true;
                    break;
                }
                let (nh, ty, left) = (byte(p, pos), byte(p, pos + 2), byte(p, pos + 3));
                let tname = match ty {
                    0 => "Source Route",
                    2 => "Type 2 Routing",
                    3 => "RPL Source Route",
                    4 => "Segment Routing",
                    _ => "Unknown",
                };
                w.fields.push(
                    Field::text("ipv6.routing", "Routing Header for IPv6", "ipv6.routing").shown(format!("({tname})")),
                );
                w.fields.push(Field::uint("ipv6.routing.nxt", "Next Header", nh).shown(proto_shown(nh)).depth(1));
                w.fields.push(Field::uint("ipv6.routing.len", "Length", byte(p, pos + 1)).depth(1));
                w.fields.push(
                    Field::uint("ipv6.routing.len_oct", "Length", elen as u64).shown(format!("{elen} bytes")).depth(1),
                );
                w.fields.push(Field::uint("ipv6.routing.type", "Type", ty).shown(format!("{tname} ({ty})")).depth(1));
                w.fields.push(Field::uint("ipv6.routing.segleft", "Segments Left", left).depth(1));
                if ty == 0 {
                    // RFC 5095: type 0 is deprecated.
                    w.expert.push(Expert::new(
                        Severity::Note,
                        Group::Protocol,
                        "Routing header type is deprecated",
                        frame_at + pos + 2,
                    ));
                    let r = &p[pos + 4..pos + 8];
                    w.fields
                        .push(Field::new("ipv6.routing.src.reserved", "Reserved", Value::Bytes(r.to_vec())).depth(1));
                    let mut k = pos + 8;
                    let mut n = 1;
                    while k + 16 <= pos + elen {
                        w.fields.push(
                            Field::new("ipv6.routing.src.addr", format!("Address[{n}]"), Value::Ipv6(ipv6_at(p, k)))
                                .depth(1),
                        );
                        k += 16;
                        n += 1;
                    }
                } else if ty == 2 && elen >= 24 {
                    let r = &p[pos + 4..pos + 8];
                    w.fields
                        .push(Field::new("ipv6.routing.mipv6.reserved", "Reserved", Value::Bytes(r.to_vec())).depth(1));
                    w.fields.push(
                        Field::new("ipv6.routing.mipv6.home_address", "Home Address", Value::Ipv6(ipv6_at(p, pos + 8)))
                            .depth(1),
                    );
                }
                w.next_at = pos;
                next = nh;
                pos += elen;
            }
            44 => {
                if pos + 8 > end {
                    w.cut = true;
                    break;
                }
                let nh = byte(p, pos);
                let word = be16(p, pos + 2);
                let units = word >> 3;
                let more = word & 1 != 0;
                let ident = be32(p, pos + 4);
                w.fields.push(Field::text("ipv6.fraghdr", "Fragment Header for IPv6", "ipv6.fraghdr").shown("8 bytes"));
                w.fields.push(Field::uint("ipv6.fraghdr.nxt", "Next header", nh).shown(proto_shown(nh)).depth(1));
                w.fields
                    .push(Field::hex("ipv6.fraghdr.reserved_octet", "Reserved octet", byte(p, pos + 1), 2).depth(1));
                w.fields.push(
                    Field::uint("ipv6.fraghdr.offset", "Offset", units)
                        .shown(format!("{units} ({} bytes)", usize::from(units) * 8))
                        .depth(1),
                );
                w.fields.push(Field::uint("ipv6.fraghdr.reserved_bits", "Reserved bits", (word >> 1) & 3).depth(1));
                w.fields.push(
                    Field::flag("ipv6.fraghdr.more", "More Fragments", more)
                        .shown(if more { "Yes" } else { "No" })
                        .depth(1),
                );
                w.fields.push(Field::hex("ipv6.fraghdr.ident", "Identification", ident, 8).depth(1));
                w.fragment = Some(FragHeader { at: pos, next: nh, offset: usize::from(units) * 8, more, ident });
                w.next_at = pos;
                next = nh;
                pos += 8;
                break;
            }
            _ => break,
        }
    }
    w.next = next;
    w.end = pos;
    w
}
