//! What a router does to a packet that is not addressed to it (RFC 1812 §5.2 for IPv4, RFC 8200
//! §3 and RFC 4443 for IPv6): check the header, decrement the TTL / hop limit, fragment it for a
//! smaller next-hop MTU (IPv4 only: IPv6 routers never fragment, RFC 8200 §5), and build the ICMP
//! error a router sends back when it cannot forward (time exceeded, destination unreachable,
//! fragmentation needed / packet too big).
//!
//! These are pure functions of the bytes: the host (`crate::host`) decides where the packet goes
//! (its routing table) and when an error is due; it sends an error message through [`Network`]'s
//! encapsulate as a ready ICMP message (`meta.ip_proto` = 1 or 58, no echo configured).
//!
//! [`Network`]: super::Network

use super::icmp::{icmpv6_checksum, PROTO_ICMP, PROTO_ICMPV6};
use super::{ipv4, ipv6};
use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::layers::checksum;
use crate::trace::{Direction, Record};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const L3: LayerId = LayerId::Network;

/// The fields of a packet in transit that forwarding needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transit {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL / hop limit as received.
    pub ttl: u8,
    /// Protocol / next header.
    pub proto: u8,
    /// IPv4 "don't fragment" (always true for IPv6: routers never fragment it).
    pub dont_fragment: bool,
    /// The packet's own length (Ethernet padding after it is not part of it).
    pub len: usize,
    /// The header length (IPv4 IHL × 4; 40 for IPv6).
    pub header_len: usize,
    /// IPv4: a fragment offset or MF is set (the packet is itself a fragment).
    pub is_fragment: bool,
}

impl Transit {
    /// IPv6.
    pub fn is_v6(&self) -> bool {
        self.dst.is_ipv6()
    }
}

/// Check a packet a router received for another host (RFC 1812 §5.2.2: version, header length,
/// total length no larger than what arrived, header checksum) and read what forwarding needs.
/// `offset` is the packet's offset in the frame, for errors.
pub fn inspect(packet: &[u8], offset: usize) -> Result<Transit> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => inspect_v4(packet, offset),
        Some(6) => inspect_v6(packet, offset),
        Some(v) => Err(Error::invalid(L3, "IP", offset, "version", "4 or 6", v.to_string())),
        None => Err(Error::truncated(L3, "IP", offset, "IP header", ipv4::MIN_HEADER_LEN, 0)),
    }
}

fn inspect_v4(p: &[u8], offset: usize) -> Result<Transit> {
    if p.len() < ipv4::MIN_HEADER_LEN {
        return Err(Error::truncated(L3, "IPv4", offset, "IPv4 header", ipv4::MIN_HEADER_LEN, p.len()));
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    if ihl < ipv4::MIN_HEADER_LEN || ihl > p.len() {
        return Err(Error::invalid(
            L3,
            "IPv4",
            offset,
            "header length (RFC 791 §3.1: IHL ≥ 5 and within the packet)",
            format!("20 to {} bytes", p.len().min(60)),
            format!("{ihl} bytes"),
        ));
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if total < ihl || total > p.len() {
        return Err(Error::invalid(
            L3,
            "IPv4",
            offset + 2,
            "total length (RFC 1812 §5.2.2)",
            format!("between the header's {ihl} and the {} bytes received", p.len()),
            total.to_string(),
        ));
    }
    if !checksum::verifies(&[], &p[..ihl]) {
        let carried = u16::from_be_bytes([p[10], p[11]]);
        let mut h = p[..ihl].to_vec();
        h[10] = 0;
        h[11] = 0;
        let computed = checksum::internet_checksum(&[&h]);
        return Err(Error::checksum(L3, "IPv4", offset + 10, "header checksum", computed.into(), carried.into(), 2));
    }
    let flags_frag = u16::from_be_bytes([p[6], p[7]]);
    Ok(Transit {
        src: IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15])),
        dst: IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19])),
        ttl: p[8],
        proto: p[9],
        dont_fragment: flags_frag & 0x4000 != 0,
        len: total,
        header_len: ihl,
        is_fragment: flags_frag & 0x3fff != 0,
    })
}

fn inspect_v6(p: &[u8], offset: usize) -> Result<Transit> {
    const H: usize = 40;
    if p.len() < H {
        return Err(Error::truncated(L3, "IPv6", offset, "IPv6 header", H, p.len()));
    }
    let payload = usize::from(u16::from_be_bytes([p[4], p[5]]));
    if H + payload > p.len() {
        return Err(Error::invalid(
            L3,
            "IPv6",
            offset + 4,
            "payload length (RFC 8200 §3)",
            format!("at most the {} bytes received after the header", p.len() - H),
            payload.to_string(),
        ));
    }
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&p[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    Ok(Transit {
        src: addr(8),
        dst: addr(24),
        ttl: p[7],
        proto: p[6],
        dont_fragment: true,
        len: H + payload,
        header_len: H,
        is_fragment: p[6] == 44,
    })
}

/// Decrement the TTL (IPv4, with the header checksum updated as RFC 1624 §3 computes it:
/// HC' = ~(~HC + ~m + m')) or the hop limit (IPv6, which has no header checksum). The caller has
/// checked that the TTL is above 1 (RFC 1812 §5.3.1: a router that would forward a packet with
/// TTL 0 discards it and sends time exceeded instead).
pub fn decrement_ttl(packet: &mut [u8]) -> Result<()> {
    match packet.first().map(|b| b >> 4) {
        Some(4) if packet.len() >= ipv4::MIN_HEADER_LEN => {
            let old = u16::from_be_bytes([packet[8], packet[9]]);
            packet[8] = packet[8].saturating_sub(1);
            let new = u16::from_be_bytes([packet[8], packet[9]]);
            let hc = u16::from_be_bytes([packet[10], packet[11]]);
            let mut sum = u32::from(!hc) + u32::from(!old) + u32::from(new);
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            let hc2 = !(sum as u16);
            packet[10..12].copy_from_slice(&hc2.to_be_bytes());
            Ok(())
        }
        Some(6) if packet.len() >= 40 => {
            packet[7] = packet[7].saturating_sub(1);
            Ok(())
        }
        _ => Err(Error::truncated(L3, "IP", None, "IP header", ipv4::MIN_HEADER_LEN, packet.len())),
    }
}

/// Cut an IPv4 packet (itself possibly a fragment) into fragments that fit `mtu` (RFC 791 §3.2,
/// "Fragmentation"; RFC 1812 §4.2.2.7): each carries a multiple of 8 data bytes but the last;
/// the first keeps every option, the others only options whose "copied" flag is set (RFC 791
/// §3.1, "Options"); offsets add to the packet's own offset, and MF is set on all but the last
/// unless the packet already had it. The identification, TTL and protocol are the packet's.
pub fn fragment_v4(packet: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>> {
    let t = inspect_v4(packet, 0)?;
    if t.len <= mtu {
        return Ok(vec![packet[..t.len].to_vec()]);
    }
    if t.dont_fragment {
        return Err(Error::invalid(
            L3,
            "IPv4",
            6,
            "flags: DF set on a packet larger than the next hop's MTU (RFC 791 §3.2)",
            format!("at most {mtu} bytes"),
            format!("{} bytes", t.len),
        ));
    }
    let header = &packet[..t.header_len];
    let data = &packet[t.header_len..t.len];
    let later_header = copied_options_header(header);
    let flags_frag = u16::from_be_bytes([packet[6], packet[7]]);
    let base_offset = usize::from(flags_frag & 0x1fff) * 8;
    let had_more = flags_frag & 0x2000 != 0;
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let h: &[u8] = if at == 0 { header } else { &later_header };
        let room = mtu.saturating_sub(h.len()) & !7;
        if room == 0 {
            return Err(Error::config(
                Some(L3),
                format!("MTU {mtu} leaves no room for data after a {}-byte header", h.len()),
            ));
        }
        let end = (at + room).min(data.len());
        let last = end == data.len();
        let off = (base_offset + at) / 8;
        if off > 0x1fff {
            return Err(Error::invalid(L3, "IPv4", 6, "fragment offset", "at most 8191 blocks", off.to_string()));
        }
        let mut f = Vec::with_capacity(h.len() + end - at);
        f.extend_from_slice(h);
        f.extend_from_slice(&data[at..end]);
        let total = f.len() as u16;
        f[2..4].copy_from_slice(&total.to_be_bytes());
        let mf = if last { had_more } else { true };
        let ff = (off as u16) | if mf { 0x2000 } else { 0 };
        f[6..8].copy_from_slice(&ff.to_be_bytes());
        f[10] = 0;
        f[11] = 0;
        let c = checksum::internet_checksum(&[&f[..h.len()]]);
        f[10..12].copy_from_slice(&c.to_be_bytes());
        out.push(f);
        at = end;
    }
    Ok(out)
}

/// The header of the second and later fragments: the fixed part and only the options with the
/// "copied" flag (RFC 791 §3.1), padded with End of Option List to a multiple of 4 bytes.
fn copied_options_header(header: &[u8]) -> Vec<u8> {
    let mut h = header[..ipv4::MIN_HEADER_LEN].to_vec();
    let mut opts = Vec::new();
    let mut i = ipv4::MIN_HEADER_LEN;
    while i < header.len() {
        let kind = header[i];
        match kind {
            0 => break,
            1 => i += 1,
            _ => {
                let len = usize::from(header.get(i + 1).copied().unwrap_or(0));
                if len < 2 || i + len > header.len() {
                    break;
                }
                if kind & 0x80 != 0 {
                    opts.extend_from_slice(&header[i..i + len]);
                }
                i += len;
            }
        }
    }
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    h.extend_from_slice(&opts);
    h[0] = 0x40 | (h.len() / 4) as u8;
    h
}

/// The ICMP / ICMPv6 errors a router or a host sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    /// TTL / hop limit reached 0 in transit (ICMP 11/0, RFC 792; ICMPv6 3/0, RFC 4443 §3.3).
    TimeExceeded,
    /// Fragment reassembly time exceeded (ICMP 11/1; ICMPv6 3/1).
    ReassemblyTimeExceeded,
    /// No route to the destination network (ICMP 3/0; ICMPv6 1/0 "no route to destination").
    NetUnreachable,
    /// The next hop or destination did not answer address resolution (ICMP 3/1; ICMPv6 1/3).
    HostUnreachable,
    /// No handler for the protocol (ICMP 3/2; ICMPv6 4/1 parameter problem).
    ProtocolUnreachable,
    /// No socket on the port (ICMP 3/3; ICMPv6 1/4).
    PortUnreachable,
    /// IPv4 with DF set is larger than the next hop's MTU (ICMP 3/4 with the MTU, RFC 1191 §4).
    FragmentationNeeded {
        /// The next hop's MTU.
        mtu: u16,
    },
    /// IPv6 larger than the next hop's MTU (ICMPv6 2/0, RFC 4443 §3.2).
    PacketTooBig {
        /// The next hop's MTU.
        mtu: u32,
    },
}

impl IcmpError {
    /// (type, code) for the family.
    pub fn type_code(self, v6: bool) -> (u8, u8) {
        match (self, v6) {
            (IcmpError::TimeExceeded, false) => (11, 0),
            (IcmpError::ReassemblyTimeExceeded, false) => (11, 1),
            (IcmpError::NetUnreachable, false) => (3, 0),
            (IcmpError::HostUnreachable, false) => (3, 1),
            (IcmpError::ProtocolUnreachable, false) => (3, 2),
            (IcmpError::PortUnreachable, false) => (3, 3),
            (IcmpError::FragmentationNeeded { .. } | IcmpError::PacketTooBig { .. }, false) => (3, 4),
            (IcmpError::TimeExceeded, true) => (3, 0),
            (IcmpError::ReassemblyTimeExceeded, true) => (3, 1),
            (IcmpError::NetUnreachable, true) => (1, 0),
            (IcmpError::HostUnreachable, true) => (1, 3),
            (IcmpError::ProtocolUnreachable, true) => (4, 1),
            (IcmpError::PortUnreachable, true) => (1, 4),
            (IcmpError::FragmentationNeeded { .. } | IcmpError::PacketTooBig { .. }, true) => (2, 0),
        }
    }

    /// The error from a received message's type and code, if it is one of these.
    pub fn from_type_code(v6: bool, t: u8, code: u8) -> Option<IcmpError> {
        Some(match (v6, t, code) {
            (false, 11, 0) | (true, 3, 0) => IcmpError::TimeExceeded,
            (false, 11, 1) | (true, 3, 1) => IcmpError::ReassemblyTimeExceeded,
            (false, 3, 0) | (true, 1, 0) => IcmpError::NetUnreachable,
            (false, 3, 1) | (true, 1, 3) => IcmpError::HostUnreachable,
            (false, 3, 2) | (true, 4, 1) => IcmpError::ProtocolUnreachable,
            (false, 3, 3) | (true, 1, 4) => IcmpError::PortUnreachable,
            (false, 3, 4) => IcmpError::FragmentationNeeded { mtu: 0 },
            (true, 2, 0) => IcmpError::PacketTooBig { mtu: 0 },
            _ => return None,
        })
    }

    /// What `ping` or a socket reports for it (Linux's words).
    pub fn text(self) -> &'static str {
        match self {
            IcmpError::TimeExceeded => "Time to live exceeded",
            IcmpError::ReassemblyTimeExceeded => "Fragment reassembly time exceeded",
            IcmpError::NetUnreachable => "Destination Net Unreachable",
            IcmpError::HostUnreachable => "Destination Host Unreachable",
            IcmpError::ProtocolUnreachable => "Destination Protocol Unreachable",
            IcmpError::PortUnreachable => "Destination Port Unreachable",
            IcmpError::FragmentationNeeded { .. } => "Frag needed and DF set",
            IcmpError::PacketTooBig { .. } => "Packet too big",
        }
    }
}

/// RFC 1812 §4.3.2.3: an ICMPv4 error quotes as much of the offending packet as fits in a
/// 576-byte datagram (RFC 792 asks for at least the header and 64 bits of data).
const QUOTE_V4: usize = 576 - 20 - 8;
/// RFC 4443 §2.4 (c): an ICMPv6 error quotes as much as fits in the minimum MTU, 1280 bytes.
const QUOTE_V6: usize = 1280 - 40 - 8;

/// The ICMP (ICMPv6 when `src` is IPv6) error message `kind` about `original` (the offending
/// packet, from its IP header on), sent from `src` to the original's source `dst`, checksum
/// computed. Never for an ICMP error, a fragment other than the first, or a broadcast/multicast
/// destination (RFC 1122 §3.2.2, RFC 4443 §2.4 (e)): [`should_answer`] tells.
pub fn icmp_error(kind: IcmpError, original: &[u8], src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let v6 = src.is_ipv6();
    let (t, code) = kind.type_code(v6);
    let rest: u32 = match kind {
        IcmpError::FragmentationNeeded { mtu } => u32::from(mtu),
        IcmpError::PacketTooBig { mtu } => mtu,
        _ => 0,
    };
    let quote = &original[..original.len().min(if v6 { QUOTE_V6 } else { QUOTE_V4 })];
    let mut head = vec![t, code, 0, 0];
    head.extend_from_slice(&rest.to_be_bytes());
    let c = match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => icmpv6_checksum(s, d, &head, quote),
        _ => checksum::internet_checksum(&[&head, quote]),
    };
    head[2..4].copy_from_slice(&c.to_be_bytes());
    head.extend_from_slice(quote);
    head
}

/// RFC 1122 §3.2.2 and RFC 4443 §2.4 (e): no ICMP error about an ICMP error, about a fragment
/// other than the first, or about a packet sent to a broadcast or multicast address or from an
/// address that names no single host.
pub fn should_answer(original: &[u8]) -> bool {
    let Ok(t) = inspect(original, 0) else { return false };
    let group = |a: IpAddr| match a {
        IpAddr::V4(a) => a.is_broadcast() || a.is_multicast() || a.is_unspecified(),
        IpAddr::V6(a) => a.is_multicast() || a.is_unspecified(),
    };
    if group(t.dst) || group(t.src) {
        return false;
    }
    let payload = original.get(t.header_len..t.len).unwrap_or_default();
    match t.dst {
        IpAddr::V4(_) => {
            let later_fragment = u16::from_be_bytes([original[6], original[7]]) & 0x1fff != 0;
            let is_error = t.proto == PROTO_ICMP && !matches!(payload.first(), Some(0 | 8) | None);
            !later_fragment && !is_error
        }
        IpAddr::V6(_) => {
            // ICMPv6 errors are types 0–127 (RFC 4443 §2.1).
            !(t.proto == PROTO_ICMPV6 && payload.first().is_some_and(|&ty| ty < 128))
        }
    }
}

/// The record of a packet in transit through a router (its IP header as tshark shows it), for
/// the router's trace.
pub fn transit_record(direction: Direction, packet: &[u8]) -> Record {
    match packet.first().map(|b| b >> 4) {
        Some(6) => {
            let mut r =
                Record::new(L3, direction, "ipv6", "Internet Protocol Version 6", crate::layer::PduName::Packet);
            r.fields = ipv6::fixed_fields(packet, true, true);
            r.header = 0..40.min(packet.len());
            r.payload_len = packet.len().saturating_sub(40);
            r.overhead = 40;
            r
        }
        _ => ipv4::record_bytes(direction, packet, true),
    }
}

/// The (type, code) and quoted packet of a received ICMP / ICMPv6 error message `msg`, if it is
/// one of [`IcmpError`]'s kinds (the MTU filled in for "fragmentation needed" / "packet too big").
pub fn parse_icmp_error(msg: &[u8], v6: bool) -> Option<(IcmpError, &[u8])> {
    let (&t, &code) = (msg.first()?, msg.get(1)?);
    let rest = u32::from_be_bytes(msg.get(4..8)?.try_into().ok()?);
    let kind = match IcmpError::from_type_code(v6, t, code)? {
        IcmpError::FragmentationNeeded { .. } => IcmpError::FragmentationNeeded { mtu: (rest & 0xffff) as u16 },
        IcmpError::PacketTooBig { .. } => IcmpError::PacketTooBig { mtu: rest },
        k => k,
    };
    Some((kind, msg.get(8..)?))
}

/// The addresses, protocol and header length of the packet quoted in an ICMP error (RFC 792:
/// its header and at least 8 bytes of its data; the quote may stop short of the packet's own
/// length, so only the header must be whole).
pub fn inspect_quoted(quoted: &[u8]) -> Result<Transit> {
    match quoted.first().map(|b| b >> 4) {
        Some(4) if quoted.len() >= ipv4::MIN_HEADER_LEN => {
            let ihl = (usize::from(quoted[0] & 0x0f) * 4).max(ipv4::MIN_HEADER_LEN);
            let ff = u16::from_be_bytes([quoted[6], quoted[7]]);
            Ok(Transit {
                src: IpAddr::V4(Ipv4Addr::new(quoted[12], quoted[13], quoted[14], quoted[15])),
                dst: IpAddr::V4(Ipv4Addr::new(quoted[16], quoted[17], quoted[18], quoted[19])),
                ttl: quoted[8],
                proto: quoted[9],
                dont_fragment: ff & 0x4000 != 0,
                len: usize::from(u16::from_be_bytes([quoted[2], quoted[3]])),
                header_len: ihl,
                is_fragment: ff & 0x3fff != 0,
            })
        }
        Some(6) if quoted.len() >= 40 => {
            let addr = |at: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&quoted[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(a))
            };
            Ok(Transit {
                src: addr(8),
                dst: addr(24),
                ttl: quoted[7],
                proto: quoted[6],
                dont_fragment: true,
                len: 40 + usize::from(u16::from_be_bytes([quoted[4], quoted[5]])),
                header_len: 40,
                is_fragment: quoted[6] == 44,
            })
        }
        _ => Err(Error::truncated(L3, "IP", None, "quoted IP header", ipv4::MIN_HEADER_LEN, quoted.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 60-byte IPv4/UDP packet from 192.0.2.1 to 198.51.100.2, TTL 2, checksum right.
    fn packet(df: bool, len: usize) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0x12, 0x34, if df { 0x40 } else { 0 }, 0, 2, 17, 0, 0];
        p.extend_from_slice(&[192, 0, 2, 1, 198, 51, 100, 2]);
        p.resize(len, 0xab);
        p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        let c = checksum::internet_checksum(&[&p[..20]]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn ttl_decrement_keeps_the_checksum_right() {
        let mut p = packet(false, 60);
        decrement_ttl(&mut p).unwrap();
        assert_eq!(p[8], 1);
        assert!(checksum::verifies(&[], &p[..20]));
        assert!(inspect(&p, 0).is_ok());
    }

    #[test]
    fn fragments_carry_8_byte_blocks_and_reassemble() {
        let p = packet(false, 1020);
        let f = fragment_v4(&p, 576).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].len(), 20 + 552);
        let t0 = inspect(&f[0], 0).unwrap();
        assert!(t0.is_fragment && !t0.dont_fragment);
        assert_eq!(u16::from_be_bytes([f[1][6], f[1][7]]) & 0x1fff, 552 / 8);
        assert_eq!(u16::from_be_bytes([f[1][6], f[1][7]]) & 0x2000, 0);
        let data: Vec<u8> = f.iter().flat_map(|x| x[20..].to_vec()).collect();
        assert_eq!(data, p[20..]);
        assert!(fragment_v4(&packet(true, 1020), 576).is_err());
    }

    #[test]
    fn icmp_errors_quote_the_packet_and_are_not_sent_about_errors() {
        let p = packet(false, 60);
        let src: IpAddr = "192.0.2.254".parse().unwrap();
        let msg = icmp_error(IcmpError::TimeExceeded, &p, src, "192.0.2.1".parse().unwrap());
        assert_eq!(&msg[..2], &[11, 0]);
        assert!(checksum::verifies(&[], &msg));
        assert_eq!(&msg[8..], &p[..]);
        let (kind, quoted) = parse_icmp_error(&msg, false).unwrap();
        assert_eq!(kind, IcmpError::TimeExceeded);
        assert_eq!(inspect_quoted(quoted).unwrap().dst, "198.51.100.2".parse::<IpAddr>().unwrap());
        assert!(should_answer(&p));
        let mut about_error = packet(false, 28 + 20);
        about_error[9] = 1;
        about_error[20] = 11;
        let c = {
            about_error[10] = 0;
            about_error[11] = 0;
            checksum::internet_checksum(&[&about_error[..20]])
        };
        about_error[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(!should_answer(&about_error));
    }
}
