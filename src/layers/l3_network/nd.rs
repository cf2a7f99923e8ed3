//! IPv6 neighbor discovery's address resolution (RFC 4861 §4.3, §4.4, §7.2): the neighbor
//! solicitation a host multicasts to a target's solicited-node group, and the advertisement
//! the target answers with, each carrying a link-layer address option (§4.6.1).

use super::icmp::icmpv6_checksum;
use crate::addr::MacAddr;
use std::net::Ipv6Addr;

/// ICMPv6 type of a neighbor solicitation.
pub const NEIGHBOR_SOLICITATION: u8 = 135;
/// ICMPv6 type of a neighbor advertisement.
pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
/// RFC 4861 §7.1.1 / §7.1.2: neighbor discovery is sent, and only accepted, with hop limit 255
/// (proof that it did not cross a router).
pub const HOP_LIMIT: u8 = 255;

/// RFC 4291 §2.7.1: the solicited-node multicast address of `a`, ff02::1:ffXX:XXXX with the low
/// 24 bits of `a`.
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00 | u16::from(o[13]), u16::from_be_bytes([o[14], o[15]]))
}

/// A neighbor solicitation (or advertisement) read from an ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdMessage {
    /// Solicitation (135) or advertisement (136).
    pub icmp_type: u8,
    /// The target address.
    pub target: Ipv6Addr,
    /// The source (solicitation) or target (advertisement) link-layer address option.
    pub lladdr: Option<MacAddr>,
    /// Advertisement flags: router, solicited, override (R S O in the top bits).
    pub flags: u8,
}

/// A neighbor solicitation from `src` (with our MAC as source link-layer address, option type 1)
/// for `target`, sent to the target's solicited-node group: the ICMPv6 message, checksum
/// computed over the pseudo-header (RFC 4443 §2.3).
pub fn solicitation(src: Ipv6Addr, mac: MacAddr, target: Ipv6Addr) -> Vec<u8> {
    message(NEIGHBOR_SOLICITATION, 0, target, 1, mac, src, solicited_node(target))
}

/// The advertisement answering a solicitation from `to`: solicited and override flags set
/// (§7.2.4), our MAC as target link-layer address (option type 2).
pub fn advertisement(src: Ipv6Addr, mac: MacAddr, target: Ipv6Addr, to: Ipv6Addr) -> Vec<u8> {
    message(NEIGHBOR_ADVERTISEMENT, 0x60, target, 2, mac, src, to)
}

fn message(t: u8, flags: u8, target: Ipv6Addr, opt: u8, mac: MacAddr, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let head = [t, 0, 0, 0];
    let mut data = vec![flags, 0, 0, 0];
    data.extend_from_slice(&target.octets());
    data.extend_from_slice(&[opt, 1]);
    data.extend_from_slice(&mac.octets());
    let c = icmpv6_checksum(src, dst, &head, &data);
    let mut m = vec![t, 0];
    m.extend_from_slice(&c.to_be_bytes());
    m.extend_from_slice(&data);
    m
}

/// Read a solicitation or advertisement (24 bytes and options, §4.3/§4.4); `None` for other
/// messages or a short one. Options are walked by their length in 8-byte units (§4.6); one of
/// length 0 ends the walk (§4.6: such a packet is invalid).
pub fn parse(msg: &[u8]) -> Option<NdMessage> {
    let t = *msg.first()?;
    if !(t == NEIGHBOR_SOLICITATION || t == NEIGHBOR_ADVERTISEMENT) || msg.len() < 24 || msg[1] != 0 {
        return None;
    }
    let target: [u8; 16] = msg[8..24].try_into().ok()?;
    let want = if t == NEIGHBOR_SOLICITATION { 1 } else { 2 };
    let mut lladdr = None;
    let mut i = 24;
    while i + 2 <= msg.len() {
        let len = usize::from(msg[i + 1]) * 8;
        if len == 0 || i + len > msg.len() {
            break;
        }
        if msg[i] == want && len >= 8 {
            let m: [u8; 6] = msg[i + 2..i + 8].try_into().ok()?;
            lladdr = Some(MacAddr(m));
        }
        i += len;
    }
    Some(NdMessage { icmp_type: t, target: Ipv6Addr::from(target), lladdr, flags: msg[4] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::checksum;
    use std::net::IpAddr;

    #[test]
    fn solicitation_round_trip_with_a_valid_checksum() {
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let target: Ipv6Addr = "2001:db8::abcd:1234".parse().unwrap();
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let m = solicitation(src, mac, target);
        assert_eq!(solicited_node(target), "ff02::1:ffcd:1234".parse::<Ipv6Addr>().unwrap());
        let pseudo =
            checksum::pseudo_header_inline(IpAddr::V6(src), IpAddr::V6(solicited_node(target)), 58, m.len()).unwrap();
        assert!(checksum::verifies(&pseudo, &m));
        let p = parse(&m).unwrap();
        assert_eq!((p.icmp_type, p.target, p.lladdr), (135, target, Some(mac)));
        let a = parse(&advertisement(target, mac, target, src)).unwrap();
        assert_eq!((a.icmp_type, a.flags), (136, 0x60));
        assert!(parse(&m[..20]).is_none());
    }
}
