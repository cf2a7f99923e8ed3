//! What a network card does to a frame between the kernel and the wire, done here for frames
//! that never met a card: Linux hands frames to a card with work left in them (offloads), and a
//! virtual interface (veth) passes them on to its peer's packet sockets in that state. The
//! packet socket says what is left in a `virtio_net_hdr` (`PACKET_VNET_HDR`):
//!
//! - **checksum offload** (`VIRTIO_NET_HDR_F_NEEDS_CSUM`): the TCP/UDP checksum field holds only
//!   the pseudo-header's sum; the card sums from `csum_start` to the end and stores the
//!   complement at `csum_start + csum_offset` (RFC 1071; RFC 768 and RFC 9293 §3.1 for what is
//!   summed, the pseudo-header being in the field already);
//! - **segmentation offload** (TSO, `gso_type` TCPv4/TCPv6): one "super-segment" up to 64 KiB,
//!   which the card cuts into segments of `gso_size` bytes of data, each with the headers copied,
//!   the IPv4 total length / identification / header checksum or the IPv6 payload length
//!   rewritten, the sequence number advanced, FIN and PSH kept for the last segment and CWR for
//!   the first (RFC 3168 §6.1.2), and each TCP checksum computed.
//!
//! Also: the **802.1Q tag** Linux took out of the frame into metadata (`PACKET_AUXDATA`) is put
//! back where IEEE 802.1Q §9.3 has it, after the source address.
//!
//! Everything here is a pure function of the bytes: a frame it cannot finish is an `Err` naming
//! what was missing, never a panic.

use crate::layers::checksum::{internet_checksum, pseudo_header};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The length of `struct virtio_net_hdr` (`<linux/virtio_net.h>`), which `PACKET_VNET_HDR` puts
/// before every frame read and expects before every frame written.
pub const VNET_HDR_LEN: usize = 10;

const F_NEEDS_CSUM: u8 = 1;
const GSO_TCPV4: u8 = 1;
const GSO_UDP: u8 = 3;
const GSO_TCPV6: u8 = 4;
const GSO_UDP_L4: u8 = 5;
const GSO_ECN: u8 = 0x80;

/// A segmentation offload the kernel left for the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gso {
    /// TCP over IPv4, `size` bytes of data a segment.
    TcpV4(u16),
    /// TCP over IPv6.
    TcpV6(u16),
    /// Another kind (UDP fragmentation or segmentation): `gso_type`, `gso_size`.
    Other(u8, u16),
}

/// The work left in a frame, from its `virtio_net_hdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Offload {
    /// The checksum to finish: (`csum_start`, `csum_offset`), from the frame's first byte.
    pub checksum: Option<(usize, usize)>,
    /// The segmentation to do.
    pub gso: Option<Gso>,
}

impl Offload {
    /// Read a `virtio_net_hdr` (host byte order, as packet sockets write it on a little- or
    /// big-endian host alike: `vio_le()` is the host's order for legacy headers).
    pub fn parse(h: &[u8]) -> Offload {
        let Some(h) = h.get(..VNET_HDR_LEN) else { return Offload::default() };
        let u16_at = |i: usize| usize::from(u16::from_ne_bytes([h[i], h[i + 1]]));
        let (flags, gso_type) = (h[0], h[1]);
        let gso_size = u16_at(4) as u16;
        let checksum = (flags & F_NEEDS_CSUM != 0).then(|| (u16_at(6), u16_at(8)));
        let gso = match gso_type & !GSO_ECN {
            0 => None,
            GSO_TCPV4 => Some(Gso::TcpV4(gso_size)),
            GSO_TCPV6 => Some(Gso::TcpV6(gso_size)),
            t => Some(Gso::Other(t, gso_size)),
        };
        Offload { checksum, gso }
    }

    /// Whether anything is left to do.
    pub fn pending(&self) -> bool {
        self.checksum.is_some() || self.gso.is_some()
    }

    /// What is left, in words, for a trace note.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((s, o)) = self.checksum {
            parts.push(format!("checksum at byte {} left to the card", s + o));
        }
        match self.gso {
            Some(Gso::TcpV4(n)) | Some(Gso::TcpV6(n)) => parts.push(format!("TCP segmentation into {n}-byte segments")),
            Some(Gso::Other(t, n)) => parts.push(format!("segmentation of type {t} ({n} bytes)")),
            None => {}
        }
        parts.join(", ")
    }
}

/// The frame(s) a card would put on the wire for `frame` with `o` left to do.
pub fn finish(frame: &[u8], o: &Offload) -> Result<Vec<Vec<u8>>, String> {
    match o.gso {
        Some(Gso::TcpV4(mss)) | Some(Gso::TcpV6(mss)) => segment_tcp(frame, mss),
        Some(Gso::Other(t, _)) => Err(format!(
            "the kernel left a segmentation of type {t} ({}) to the card, which osilab does not do",
            match t {
                GSO_UDP => "UDP fragmentation",
                GSO_UDP_L4 => "UDP segmentation",
                _ => "unknown",
            }
        )),
        None => {
            let mut f = frame.to_vec();
            if let Some((start, offset)) = o.checksum {
                complete_checksum(&mut f, start, offset)?;
            }
            Ok(vec![f])
        }
    }
}

/// Finish a checksum the kernel started: the field at `start + offset` holds the pseudo-header's
/// sum; the Internet checksum over `start..` (that field included) is the value to store (RFC
/// 1071 §2 (A): the sum is order independent). UDP sends a computed 0 as 0xFFFF (RFC 768).
pub fn complete_checksum(frame: &mut [u8], start: usize, offset: usize) -> Result<(), String> {
    let at =
        start.checked_add(offset).filter(|at| at.checked_add(2).is_some_and(|end| end <= frame.len())).ok_or_else(
            || format!("checksum offload: field at byte {start}+{offset} is outside the {}-byte frame", frame.len()),
        )?;
    let mut c = internet_checksum(&[&frame[start..]]);
    // The UDP checksum is at offset 6 of its header (RFC 768); TCP's is at 16.
    if c == 0 && offset == 6 {
        c = 0xffff;
    }
    frame[at..at + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// Where the headers of a TCP frame are.
struct TcpFrame {
    /// Start of the IP header.
    ip: usize,
    /// Start of the TCP header.
    tcp: usize,
    /// End of the TCP header (start of the data).
    data: usize,
    /// End of the IP packet (the frame may be longer: padding).
    end: usize,
    v6: bool,
    src: IpAddr,
    dst: IpAddr,
}

fn be16(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 2)
        .map(|x| usize::from(u16::from_be_bytes([x[0], x[1]])))
        .ok_or_else(|| format!("frame ends at byte {}", b.len()))
}

fn locate_tcp(f: &[u8]) -> Result<TcpFrame, String> {
    let mut ip = 14;
    let mut ethertype = be16(f, 12)?;
    if ethertype == 0x8100 {
        ethertype = be16(f, 16)?;
        ip = 18;
    }
    let short = |what: &str| format!("TCP segmentation offload: the frame ends inside the {what}");
    let (tcp, end, v6, src, dst) = match ethertype {
        0x0800 => {
            let h = f.get(ip..ip + 20).ok_or_else(|| short("IPv4 header"))?;
            let ihl = usize::from(h[0] & 0x0f) * 4;
            if h[9] != 6 || ihl < 20 {
                return Err("TCP segmentation offload on an IPv4 packet that is not TCP".into());
            }
            let src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
            let dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
            (ip + ihl, ip + be16(f, ip + 2)?, false, src, dst)
        }
        0x86dd => {
            let h = f.get(ip..ip + 40).ok_or_else(|| short("IPv6 header"))?;
            // Only TCP right after the fixed header: an extension header (or a jumbogram's
            // hop-by-hop option) is not cut here.
            if h[6] != 6 {
                return Err(format!("TCP segmentation offload on an IPv6 packet whose next header is {}", h[6]));
            }
            let a = |at: usize| -> [u8; 16] { h[at..at + 16].try_into().unwrap_or([0; 16]) };
            (
                ip + 40,
                ip + 40 + be16(f, ip + 4)?,
                true,
                IpAddr::V6(Ipv6Addr::from(a(8))),
                IpAddr::V6(Ipv6Addr::from(a(24))),
            )
        }
        t => return Err(format!("TCP segmentation offload on EtherType {t:#06x}")),
    };
    let doff = usize::from(f.get(tcp + 12).ok_or_else(|| short("TCP header"))? >> 4) * 4;
    let data = tcp + doff;
    if doff < 20 || data > end || end > f.len() {
        return Err(format!(
            "TCP segmentation offload: lengths do not fit (TCP header {doff} bytes at {tcp}, packet ends at {end}, frame {})",
            f.len()
        ));
    }
    Ok(TcpFrame { ip, tcp, data, end, v6, src, dst })
}

/// Cut a TCP super-segment into `mss`-byte segments as a card's TSO engine does.
pub fn segment_tcp(frame: &[u8], mss: u16) -> Result<Vec<Vec<u8>>, String> {
    let mss = usize::from(mss);
    if mss == 0 {
        return Err("TCP segmentation offload with a segment size of 0".into());
    }
    let t = locate_tcp(frame)?;
    let payload = &frame[t.data..t.end];
    if payload.is_empty() {
        return Err("TCP segmentation offload on a segment without data".into());
    }
    let seq0 = u32::from_be_bytes([frame[t.tcp + 4], frame[t.tcp + 5], frame[t.tcp + 6], frame[t.tcp + 7]]);
    let id0 = if t.v6 { 0 } else { be16(frame, t.ip + 4)? as u16 };
    let n = payload.len().div_ceil(mss);
    let mut out = Vec::with_capacity(n);
    for (i, chunk) in payload.chunks(mss).enumerate() {
        let mut s = Vec::with_capacity(t.data + chunk.len());
        s.extend_from_slice(&frame[..t.data]);
        s.extend_from_slice(chunk);
        let tcp_len = t.data - t.tcp + chunk.len();
        if t.v6 {
            s[t.ip + 4..t.ip + 6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
        } else {
            // RFC 791: total length; identification one more per segment, as Linux's TSO
            // (unless the kernel asked for a fixed ID, which it says with a flag we do not get);
            // the header checksum over the new header.
            let total = (t.tcp - t.ip + tcp_len) as u16;
            s[t.ip + 2..t.ip + 4].copy_from_slice(&total.to_be_bytes());
            s[t.ip + 4..t.ip + 6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
            s[t.ip + 10..t.ip + 12].copy_from_slice(&[0, 0]);
            let c = internet_checksum(&[&s[t.ip..t.tcp]]);
            s[t.ip + 10..t.ip + 12].copy_from_slice(&c.to_be_bytes());
        }
        let seq = seq0.wrapping_add((i * mss) as u32);
        s[t.tcp + 4..t.tcp + 8].copy_from_slice(&seq.to_be_bytes());
        let flags = &mut s[t.tcp + 13];
        if i + 1 < n {
            // FIN and PSH belong to the last byte sent.
            *flags &= !(0x01 | 0x08);
        }
        if i > 0 {
            // RFC 3168 §6.1.2: CWR is set on the first new segment only.
            *flags &= !0x80;
        }
        s[t.tcp + 16..t.tcp + 18].copy_from_slice(&[0, 0]);
        let ph = pseudo_header(t.src, t.dst, 6, tcp_len).ok_or("TCP segment too long for its pseudo-header")?;
        let c = internet_checksum(&[&ph, &s[t.tcp..]]);
        s[t.tcp + 16..t.tcp + 18].copy_from_slice(&c.to_be_bytes());
        out.push(s);
    }
    Ok(out)
}

/// Put an 802.1Q tag back into a frame Linux handed over without it (IEEE 802.1Q §9.3: the TPID
/// and the TCI go between the source address and the EtherType).
pub fn restore_vlan(frame: &[u8], tpid: u16, tci: u16) -> Vec<u8> {
    if frame.len() < 12 {
        return frame.to_vec();
    }
    let mut f = Vec::with_capacity(frame.len() + 4);
    f.extend_from_slice(&frame[..12]);
    f.extend_from_slice(&tpid.to_be_bytes());
    f.extend_from_slice(&tci.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::checksum::verifies;

    /// An Ethernet + IPv4 + TCP (no options) frame carrying `data`, checksums complete.
    fn tcp4_frame(data: &[u8], flags: u8) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        let total = (20 + 20 + data.len()) as u16;
        f.extend_from_slice(&[0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1]);
        f[16..18].copy_from_slice(&total.to_be_bytes());
        let c = internet_checksum(&[&f[14..34]]);
        f[24..26].copy_from_slice(&c.to_be_bytes());
        // 8000 → 40000, seq 1000, ack 7, offset 5, flags, window 502.
        f.extend_from_slice(&[
            0x1f, 0x40, 0x9c, 0x40, 0, 0, 0x03, 0xe8, 0, 0, 0, 7, 0x50, flags, 0x01, 0xf6, 0, 0, 0, 0,
        ]);
        f.extend_from_slice(data);
        let ph = pseudo_header(IpAddr::from([192, 0, 2, 2]), IpAddr::from([192, 0, 2, 1]), 6, 20 + data.len()).unwrap();
        let c = internet_checksum(&[&ph, &f[34..]]);
        f[50..52].copy_from_slice(&c.to_be_bytes());
        f
    }

    fn tcp4_ok(f: &[u8]) -> bool {
        let ph = pseudo_header(IpAddr::from([192, 0, 2, 2]), IpAddr::from([192, 0, 2, 1]), 6, f.len() - 34).unwrap();
        verifies(&[], &f[14..34]) && verifies(&ph, &f[34..])
    }

    #[test]
    fn a_partial_checksum_is_completed_as_the_card_would() {
        let good = tcp4_frame(b"hello, kernel", 0x18);
        assert!(tcp4_ok(&good));
        // What Linux hands over with checksum offload: the field holds the pseudo-header sum.
        let mut partial = good.clone();
        let ph = pseudo_header(IpAddr::from([192, 0, 2, 2]), IpAddr::from([192, 0, 2, 1]), 6, good.len() - 34).unwrap();
        let seed = !internet_checksum(&[&ph]);
        partial[50..52].copy_from_slice(&seed.to_be_bytes());
        assert!(!tcp4_ok(&partial));
        let mut hdr = [0u8; VNET_HDR_LEN];
        hdr[0] = F_NEEDS_CSUM;
        hdr[6..8].copy_from_slice(&34u16.to_ne_bytes());
        hdr[8..10].copy_from_slice(&16u16.to_ne_bytes());
        let o = Offload::parse(&hdr);
        assert_eq!(o.checksum, Some((34, 16)));
        let out = finish(&partial, &o).unwrap();
        assert_eq!(out, vec![good]);
    }

    #[test]
    fn a_checksum_field_outside_the_frame_is_an_error() {
        let mut f = vec![0u8; 20];
        assert!(complete_checksum(&mut f, 14, 16).unwrap_err().contains("outside the 20-byte frame"));
        assert!(complete_checksum(&mut f, usize::MAX, 16).is_err());
    }

    #[test]
    fn a_super_segment_is_cut_into_valid_segments() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let big = tcp4_frame(&data, 0x80 | 0x18 | 0x01); // CWR, ACK, PSH, FIN
        let segs = segment_tcp(&big, 1448).unwrap();
        assert_eq!(segs.len(), 3);
        let mut joined = Vec::new();
        for (i, s) in segs.iter().enumerate() {
            assert!(tcp4_ok(s), "segment {i} checksums");
            let seq = u32::from_be_bytes(s[38..42].try_into().unwrap());
            assert_eq!(seq, 1000 + (i * 1448) as u32);
            let id = u16::from_be_bytes([s[18], s[19]]);
            assert_eq!(id, 0x1234 + i as u16);
            let flags = s[47];
            assert_eq!(flags & 0x80 != 0, i == 0, "CWR on the first only");
            assert_eq!(flags & 0x09 != 0, i == 2, "FIN and PSH on the last only");
            assert_eq!(flags & 0x10, 0x10, "ACK on all");
            joined.extend_from_slice(&s[54..]);
        }
        assert_eq!(joined, data);
        assert_eq!(segs[2].len(), 54 + 3000 - 2 * 1448);
        let o = Offload { checksum: Some((34, 16)), gso: Some(Gso::TcpV4(1448)) };
        assert_eq!(finish(&big, &o).unwrap(), segs);
    }

    #[test]
    fn unsupported_or_broken_super_segments_are_errors_not_panics() {
        assert!(segment_tcp(&[0u8; 10], 1448).is_err());
        let f = tcp4_frame(b"", 0x10);
        assert!(segment_tcp(&f, 1448).unwrap_err().contains("without data"));
        assert!(segment_tcp(&tcp4_frame(b"x", 0x10), 0).is_err());
        let mut lying = tcp4_frame(b"abc", 0x10);
        lying[16..18].copy_from_slice(&9000u16.to_be_bytes());
        assert!(segment_tcp(&lying, 1448).unwrap_err().contains("do not fit"));
        let o = Offload { checksum: None, gso: Some(Gso::Other(GSO_UDP_L4, 1000)) };
        assert!(finish(&f, &o).unwrap_err().contains("UDP segmentation"));
    }

    proptest::proptest! {
        /// Whatever the bytes and the header say, finishing a frame returns frames or an error.
        #[test]
        fn any_bytes_and_any_offload_header_never_panic(
            frame in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            hdr in proptest::collection::vec(proptest::prelude::any::<u8>(), VNET_HDR_LEN),
        ) {
            let o = Offload::parse(&hdr);
            let _ = finish(&frame, &o);
            let _ = segment_tcp(&frame, u16::from_ne_bytes([hdr[4], hdr[5]]));
            let _ = restore_vlan(&frame, 0x8100, 1);
        }

        /// A super-segment of any length cut at any segment size: every segment verifies, none
        /// is longer than the size, and their data joined is the original.
        #[test]
        fn segmentation_keeps_every_byte_in_order(len in 1usize..6000, mss in 1u16..2000) {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let segs = segment_tcp(&tcp4_frame(&data, 0x18), mss).unwrap();
            proptest::prop_assert_eq!(segs.len(), len.div_ceil(usize::from(mss)));
            let mut joined = Vec::new();
            for s in &segs {
                proptest::prop_assert!(tcp4_ok(s));
                proptest::prop_assert!(s.len() - 54 <= usize::from(mss));
                joined.extend_from_slice(&s[54..]);
            }
            proptest::prop_assert_eq!(joined, data);
        }
    }

    #[test]
    fn the_vlan_tag_goes_back_after_the_source_address() {
        let f = tcp4_frame(b"x", 0x10);
        let t = restore_vlan(&f, 0x8100, (5 << 13) | 100);
        assert_eq!(&t[..12], &f[..12]);
        assert_eq!(&t[12..16], &[0x81, 0x00, 0xa0, 0x64]);
        assert_eq!(&t[16..], &f[12..]);
    }
}
