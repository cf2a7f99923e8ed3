//! The Internet checksum (RFC 1071) and the IP pseudo-header, shared by every layer that uses
//! them: IPv4's header checksum (RFC 791 §3.1), ICMP (RFC 792), ICMPv6 (RFC 4443 §2.3), UDP
//! (RFC 768) and TCP (RFC 9293 §3.1).
//!
//! The pseudo-header is not sent: both ends rebuild it from the IP addresses, so a segment
//! delivered to the wrong host, or handed to the wrong protocol, fails its checksum.
//!
//! ```text
//! IPv4 (RFC 768, RFC 9293 §3.1)        IPv6 (RFC 8200 §8.1)
//! +--------+--------+--------+--------+ +-----------------------------------+
//! |          source address           | |  source address (16 bytes)        |
//! +--------+--------+--------+--------+ +-----------------------------------+
//! |        destination address        | |  destination address (16 bytes)   |
//! +--------+--------+--------+--------+ +-----------------------------------+
//! |  zero  |protocol|  segment length | |  upper-layer packet length (32)   |
//! +--------+--------+--------+--------+ +--------+--------+--------+--------+
//!                                       |        zero (24)         |next hdr|
//!                                       +--------------------------+--------+
//! ```

use std::net::IpAddr;

/// RFC 1071: the one's complement of the one's-complement sum of 16-bit big-endian words, over
/// `parts` taken as one byte string (a part may end on an odd byte; an odd total is padded with
/// a zero byte). Over data that carries its own correct checksum, the result is 0 (§1).
pub fn internet_checksum(parts: &[&[u8]]) -> u16 {
    !fold(raw_sum(parts))
}

/// The sum of `parts`' 16-bit big-endian words (taken as one byte string, an odd total padded
/// with a zero byte), not yet folded. RFC 1071 §2 (B, C): the sum is the same whichever the
/// word size added at a time, once folded, so whole 32-bit words are added where the data
/// allows (eight bytes per step).
fn raw_sum(parts: &[&[u8]]) -> u64 {
    let mut sum: u64 = 0;
    let mut pending: Option<u8> = None;
    for part in parts {
        let mut rest: &[u8] = part;
        if let Some(hi) = pending {
            let Some((&lo, tail)) = rest.split_first() else { continue };
            sum += u64::from(u16::from_be_bytes([hi, lo]));
            rest = tail;
        }
        let mut chunks = rest.chunks_exact(8);
        for c in &mut chunks {
            // Each step adds at most 2 × (2^32 − 1): a u64 cannot overflow on any real input.
            sum += u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                + u64::from(u32::from_be_bytes([c[4], c[5], c[6], c[7]]));
        }
        let mut words = chunks.remainder().chunks_exact(2);
        for w in &mut words {
            sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
        }
        pending = words.remainder().first().copied();
    }
    if let Some(hi) = pending {
        sum += u64::from(u16::from_be_bytes([hi, 0]));
    }
    sum
}

/// RFC 1071 §4.1: fold the carries back in, down to 16 bits.
fn fold(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves at most 16 bits.
    sum as u16
}

/// The pseudo-header for a `len`-byte upper-layer message of protocol `proto` from `src` to
/// `dst`: 12 bytes for IPv4 (16-bit length), 40 for IPv6 (32-bit length). `None` when the two
/// addresses are of different families or `len` does not fit the length field.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> Option<Vec<u8>> {
    pseudo_header_inline(src, dst, proto, len).map(|p| p.to_vec())
}

/// [`pseudo_header`] without an allocation.
pub fn pseudo_header_inline(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> Option<PseudoHeader> {
    let mut p = PseudoHeader::default();
    match (src, dst) {
        // RFC 768 / RFC 9293 §3.1.
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = u16::try_from(len).ok()?;
            for part in [&s.octets()[..], &d.octets(), &[0, proto], &len.to_be_bytes()] {
                p.push(part);
            }
        }
        // RFC 8200 §8.1.
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = u32::try_from(len).ok()?;
            for part in [&s.octets()[..], &d.octets(), &len.to_be_bytes(), &[0, 0, 0, proto]] {
                p.push(part);
            }
        }
        _ => return None,
    }
    Some(p)
}

/// A pseudo-header's bytes, kept in place (a checksum is computed for every segment of a
/// capture): derefs to the 12 or 40 bytes; the default is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PseudoHeader {
    bytes: [u8; 40],
    len: usize,
}

impl Default for PseudoHeader {
    fn default() -> Self {
        PseudoHeader { bytes: [0; 40], len: 0 }
    }
}

impl PseudoHeader {
    /// Append `part`; the callers above never pass more than 40 bytes in all.
    fn push(&mut self, part: &[u8]) {
        let end = (self.len + part.len()).min(self.bytes.len());
        if let Some(dst) = self.bytes.get_mut(self.len..end) {
            dst.copy_from_slice(&part[..end - self.len]);
        }
        self.len = end;
    }
}

impl std::ops::Deref for PseudoHeader {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The checksum a sender puts in the 2-byte field at `field` of `msg` (an even offset): the
/// Internet checksum over `prefix` (a pseudo-header, or nothing) and `msg` with that field taken
/// as zero.
pub fn compute(prefix: &[u8], msg: &[u8], field: usize) -> u16 {
    let before = msg.get(..field).unwrap_or(msg);
    let after = msg.get(field + 2..).unwrap_or(&[]);
    internet_checksum(&[prefix, before, after])
}

/// RFC 1071 §1: `msg`, carrying its checksum, verifies when the sum over `prefix` and `msg` is
/// all ones (so 0x0000 and 0xFFFF both verify where the computed value is 0).
pub fn verifies(prefix: &[u8], msg: &[u8]) -> bool {
    internet_checksum(&[prefix, msg]) == 0
}

/// [`compute`] and [`verifies`] at once, in one pass over the bytes where the field is a whole
/// word of the sum (`prefix` of even length, `field` even and inside `msg`): the sum with the
/// field is the sum without it plus the field (RFC 1071 §2 (A), (B)).
pub fn compute_and_verify(prefix: &[u8], msg: &[u8], field: usize) -> (u16, bool) {
    let Some(&[hi, lo]) = msg.get(field..field + 2) else {
        return (compute(prefix, msg, field), verifies(prefix, msg));
    };
    if prefix.len() % 2 != 0 || field % 2 != 0 {
        return (compute(prefix, msg, field), verifies(prefix, msg));
    }
    let without = raw_sum(&[prefix, &msg[..field], &msg[field + 2..]]);
    let with = without + u64::from(u16::from_be_bytes([hi, lo]));
    (!fold(without), !fold(with) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn rfc1071_example_and_odd_parts() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&[&data]), !0xddf2);
        assert_eq!(internet_checksum(&[&data[..3], &data[3..]]), !0xddf2);
        assert_eq!(internet_checksum(&[&[0x01]]), !0x0100);
    }

    /// The byte-at-a-time sum of RFC 1071 §4.1, as the reference.
    fn reference(parts: &[&[u8]]) -> u16 {
        let bytes: Vec<u8> = parts.concat();
        let mut sum: u64 = 0;
        for w in bytes.chunks(2) {
            sum += u64::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)]));
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    proptest::proptest! {
        #[test]
        fn word_sums_match_the_byte_at_a_time_sum(
            a in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            c in proptest::collection::vec(proptest::num::u8::ANY, 0..20),
            field in 0usize..90,
        ) {
            proptest::prop_assert_eq!(internet_checksum(&[&a, &b, &c]), reference(&[&a, &b, &c]));
            proptest::prop_assert_eq!(internet_checksum(&[&a]), reference(&[&a]));
            let both = compute_and_verify(&c, &a, field);
            proptest::prop_assert_eq!(both, (compute(&c, &a, field), verifies(&c, &a)));
            // A message carrying its own checksum.
            let mut m = a.clone();
            if m.len() >= 4 {
                let s = compute(&b[..b.len() & !1], &m, 2);
                m[2..4].copy_from_slice(&s.to_be_bytes());
                proptest::prop_assert_eq!(compute_and_verify(&b[..b.len() & !1], &m, 2), (s, true));
            }
        }
    }

    #[test]
    fn compute_then_verify() {
        let mut msg = vec![8, 0, 0xaa, 0xbb, 0x12, 0x34, 0, 1, b'h', b'i', b'!'];
        let c = compute(&[], &msg, 2);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        assert!(verifies(&[], &msg));
        msg[9] ^= 1;
        assert!(!verifies(&[], &msg));
    }

    #[test]
    fn pseudo_headers() {
        let v4 = pseudo_header(Ipv4Addr::new(192, 0, 2, 1).into(), Ipv4Addr::new(192, 0, 2, 2).into(), 17, 10);
        assert_eq!(v4.unwrap(), [192, 0, 2, 1, 192, 0, 2, 2, 0, 17, 0, 10]);
        let a: IpAddr = Ipv6Addr::LOCALHOST.into();
        let v6 = pseudo_header(a, a, 58, 70_000).unwrap();
        assert_eq!(v6.len(), 40);
        assert_eq!(&v6[32..], &[0, 1, 0x11, 0x70, 0, 0, 0, 58]);
        assert!(pseudo_header(a, Ipv4Addr::LOCALHOST.into(), 6, 1).is_none());
        assert!(pseudo_header(Ipv4Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into(), 6, 65_536).is_none());
        assert_eq!(*pseudo_header_inline(a, a, 58, 70_000).unwrap(), v6[..]);
    }
}
