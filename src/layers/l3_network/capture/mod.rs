//! Capture mode (`osilab dissect`): L3 as an analyzer, not a host.
//!
//! A host (RFC 1122 §3.2) refuses what is not for it; an analyzer records what it sees and goes
//! on, as Wireshark does. So in capture mode, on the way up:
//!
//! - any destination and any protocol is taken; a protocol this crate has no layer for goes up
//!   with `meta.ip_proto` set, for the dissector to show as data;
//! - a bad IPv4 header checksum (RFC 791 §3.1) is a failed check and an expert item, and the
//!   packet goes on up; so is a bad ICMP / ICMPv6 checksum (RFC 792, RFC 4443 §2.3);
//! - a low TTL gets Wireshark's note (`"Time To Live" only 1`), a hop limit of 0 a note too;
//! - a total / payload length beyond the bytes captured is an expert item (Wireshark's "IPv4
//!   total length exceeds packet length"), and what is there goes up; bytes after the packet's
//!   own length are left for the dissector to name (L2's `trailer`): the record's `pdu_len()`
//!   is the packet's own length;
//! - IPv4 options (`options`) and IPv6 extension headers (`ext`) are listed with tshark's
//!   field names;
//! - fragments are reassembled as on a host (RFC 791 §3.2, RFC 8200 §4.5, RFC 815): a fragment
//!   that does not complete its datagram gives only the IP record (`Ok(None)`: the dissector
//!   shows its data), the one that does also carries tshark's `ip.fragment*` /
//!   `ip.reassembled.*` fields (`fragments`), and the datagram goes up;
//! - every ICMP and ICMPv6 message is dissected (`icmp`, `icmpv6`), errors with the datagram
//!   they quote (`quote`): an inner `ip` / `ipv6` record and, when the quote holds one, an
//!   inner `udp` / `tcp` / `icmp` record, as tshark shows them.
//!
//! `Err` is returned only where the bytes cannot be read on: a header cut short, a bad version, a
//! header length below the minimum.

mod ext;
pub(super) mod fragments;
mod icmp;
mod icmpv6;
mod ipv4;
mod ipv6;
mod options;
pub(super) mod quote;
#[cfg(test)]
mod tests;

pub use quote::Quote;

use super::Network;
use crate::error::{Error, Result};
use crate::layer::{Context, LayerId, Meta, Pdu};
use crate::trace::Field;

/// What capture mode keeps between packets.
#[derive(Debug, Clone, Default)]
pub(super) struct State {
    /// The number of the frame being dissected, if the dissector said
    /// ([`Network::set_frame_number`]): `ip.fragment` lists frame numbers.
    pub frame: Option<usize>,
    /// Where the fragments held for reassembly came from.
    pub fragments: fragments::Table,
    /// The transport data quoted by the last ICMP error.
    pub last_quote: Option<Quote>,
    /// The last packet was a fragment held for reassembly (its datagram is not complete yet).
    pub last_held: bool,
}

/// The packet's record goes on the trace, then an ICMP (ICMPv6 over IPv6) message is dissected
/// at L3 and any other payload goes up with its protocol number. `ttl` is the TTL / hop limit
/// of the carrying packet, `hlen` its IP header bytes before the payload.
#[allow(clippy::too_many_arguments)]
fn deliver(
    net: &mut Network,
    fam: &super::ip::Family,
    r: crate::trace::Record,
    payload: Vec<u8>,
    meta: Meta,
    proto: u8,
    ttl: u8,
    hlen: usize,
    cx: &mut Context,
) -> Result<Option<Pdu>> {
    cx.trace.push(r);
    match (fam.v6, proto == fam.icmp) {
        (false, true) => icmp::decapsulate(net, payload, meta, ttl, hlen, cx),
        (true, true) => icmpv6::decapsulate(net, payload, meta, ttl, hlen, cx),
        (_, false) => Ok(Some(Pdu { data: crate::layer::Data::Bytes(payload), meta })),
    }
}

/// Decapsulate one packet in capture mode.
pub(super) fn decapsulate(net: &mut Network, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
    net.capture.last_quote = None;
    net.capture.last_held = false;
    match meta.ethertype {
        Some(super::ipv4::ETHERTYPE) => ipv4::decapsulate(net, bytes, meta, cx),
        Some(super::ipv6::ETHERTYPE) => ipv6::decapsulate(net, bytes, meta, cx),
        // Without an L2 below (a raw IP capture), the version nibble decides (RFC 8200 §3).
        None => match bytes.first().map(|b| b >> 4) {
            Some(6) => ipv6::decapsulate(net, bytes, meta, cx),
            _ => ipv4::decapsulate(net, bytes, meta, cx),
        },
        Some(other) => Err(Error::invalid(
            LayerId::Network,
            "IP",
            meta.offset.saturating_sub(2),
            "EtherType for the network layer",
            "0x0800 (IPv4) or 0x86dd (IPv6)",
            format!("{other:#06x}"),
        )),
    }
}

/// The fixed IPv6 header's fields (`ipv6::fixed_fields`) plus the `ip.version` item tshark 4.0
/// adds, hidden, right after `ipv6.version` (so `tshark -T fields -e ip.version` prints 6 for
/// IPv6 packets too). The tree should not show it: its label says so.
pub(super) fn ipv6_fields(h: &[u8], detail: bool) -> Vec<Field> {
    super::ipv6::fixed_fields(h, detail, true)
}

/// A field for one of Wireshark's FT_NONE items (a subtree heading with no value of its own,
/// such as `icmpv6.opt`): `tshark -T fields` prints `1` for it.
pub(super) fn none_field(name: &'static str, label: &'static str, shown: impl Into<crate::trace::Name>) -> Field {
    Field::text(name, label, "1").shown(shown)
}

/// Bytes as Wireshark shows an FT_BYTES field in its tree, colon-separated ("00:00:00:00").
pub(super) fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// A byte at `i`, 0 past the end (callers check lengths first; this keeps indexing panic-free).
pub(super) fn byte(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// A big-endian u16 at `i`.
pub(super) fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([byte(b, i), byte(b, i + 1)])
}

/// A big-endian u32 at `i`.
pub(super) fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([byte(b, i), byte(b, i + 1), byte(b, i + 2), byte(b, i + 3)])
}

/// An IPv4 address at `i`.
pub(super) fn ipv4_at(b: &[u8], i: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(byte(b, i), byte(b, i + 1), byte(b, i + 2), byte(b, i + 3))
}

/// An IPv6 address at `i`.
pub(super) fn ipv6_at(b: &[u8], i: usize) -> std::net::Ipv6Addr {
    let mut a = [0u8; 16];
    for (k, x) in a.iter_mut().enumerate() {
        *x = byte(b, i + k);
    }
    std::net::Ipv6Addr::from(a)
}
