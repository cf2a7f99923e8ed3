//! The bytes after the packet a frame carries, as tshark 4.0 names them (default preferences:
//! `eth.padding: Zeros`, `eth.fcs: heuristic`, no fixed trailer length).
//!
//! A captured Ethernet frame can end in more bytes than its payload: the zero padding a sender
//! adds to reach the 60-byte minimum (IEEE 802.3 §4.2.3.3), an FCS kept by the capturing NIC
//! (IEEE 802.3 §3.2.9), or bytes some device appended. L2 cannot tell where its payload ends; the
//! layer above can (the IPv4 total length, the IPv6 payload length, ARP's 28 bytes), so the
//! dissector calls [`trailer`] with what that layer left over. The rules are Wireshark's
//! `add_ethernet_trailer` (packet-eth.c), checked against tshark 4.0.17 (see the tests):
//!
//! 1. Padding: only when the frame is at least 60 bytes long and the payload ended before byte 60;
//!    then the bytes up to byte 60 are `eth.padding` if they are all zeros. If they are not, no
//!    padding is shown and the trailer gets an expert note.
//! 2. FCS (untagged frames only): when the frame is at least 64 bytes long and at least 4 bytes
//!    remain after the padding, the last 4 are taken for an FCS (`eth.fcs`, unverified, read in
//!    wire order).
//! 3. Whatever is left is the trailer: `eth.trailer`, or `vlan.trailer` for a tagged frame (whose
//!    802.1Q dissector never assumes an FCS). tshark lists the padding and trailer of a tagged
//!    frame under its 802.1Q subtree, though the padding keeps the name `eth.padding`.

use crate::trace::{Expert, Field, Group, Severity, Value};

/// IEEE 802.3 §4.2.3.3 / §4.4.2: the minimum frame length without its FCS (what padding reaches).
const MIN_LEN: usize = 60;
/// The minimum frame length with its FCS: below it tshark never assumes a trailer holds an FCS.
const MIN_LEN_WITH_FCS: usize = 64;
/// IEEE 802.3 §3.2.9: the FCS.
const FCS_LEN: usize = 4;

/// The message of Wireshark's `eth.padding_bad` expert item.
pub const NONZERO_PADDING: &str =
    "Didn't find padding of zeros, and an undecoded trailer exists. There may be padding of non-zeros.";

/// What follows the packet in a frame: fields in tshark's order (`eth.padding`, `eth.trailer` or
/// `vlan.trailer`, `eth.fcs`, `eth.fcs.status`) and the expert item tshark attaches, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trailer {
    /// The fields, in order; empty when there is no trailer.
    pub fields: Vec<Field>,
    /// Wireshark's note when bytes that should have been zero padding were not zeros.
    pub expert: Option<Expert>,
}

/// The trailer fields of an untagged frame: [`trailer`] without a tag and without the expert
/// item. `frame_len` is the frame's length on the wire (pcap's original length), `trailer` the
/// bytes after the packet the frame carries.
pub fn trailer_fields(frame_len: usize, trailer_bytes: &[u8]) -> Vec<Field> {
    trailer(frame_len, trailer_bytes, false, None).fields
}

/// The bytes `trailer_bytes` after the packet of a frame of `frame_len` bytes on the wire
/// (pcap's original length), as tshark 4.0 shows them. `tagged`: the frame carries an 802.1Q tag
/// (then no FCS is assumed and the trailer is `vlan.trailer`). `at`: the frame offset of the
/// trailer's first byte, for the expert item.
pub fn trailer(frame_len: usize, trailer_bytes: &[u8], tagged: bool, at: Option<usize>) -> Trailer {
    let mut out = Trailer::default();
    if trailer_bytes.is_empty() {
        return out;
    }
    let payload_end = frame_len.saturating_sub(trailer_bytes.len());
    // Rule 1: a frame shorter than 60 bytes was never padded; one whose payload reaches 60 needs none.
    let maybe_padded = frame_len >= MIN_LEN && payload_end < MIN_LEN;
    let mut padding = if maybe_padded { (MIN_LEN - payload_end).min(trailer_bytes.len()) } else { 0 };
    if trailer_bytes[..padding].iter().any(|&b| b != 0) {
        padding = 0;
    }
    if padding > 0 {
        out.fields.push(Field::new("eth.padding", "Padding", Value::Bytes(trailer_bytes[..padding].to_vec())));
    }
    let rest = &trailer_bytes[padding..];
    // Rule 2: an untagged frame of 64 bytes or more with 4 bytes to spare ends in an FCS.
    let has_fcs = !tagged && frame_len >= MIN_LEN_WITH_FCS && rest.len() >= FCS_LEN;
    let (extra, fcs) = if has_fcs { rest.split_at(rest.len() - FCS_LEN) } else { (rest, &[][..]) };
    if !extra.is_empty() {
        let name = if tagged { "vlan.trailer" } else { "eth.trailer" };
        out.fields.push(Field::new(name, "Trailer", Value::Bytes(extra.to_vec())));
        if maybe_padded && padding == 0 {
            out.expert = Some(Expert::new(Severity::Note, Group::Protocol, NONZERO_PADDING, at));
        }
    }
    if let Ok(b) = <[u8; 4]>::try_from(fcs) {
        let v = u32::from_be_bytes(b);
        out.fields.push(Field::hex("eth.fcs", "Frame check sequence", v, 8).shown(format!("0x{v:08x} [unverified]")));
        out.fields.push(Field::uint("eth.fcs.status", "FCS Status", 2u8).shown("Unverified"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_values(t: &Trailer) -> Vec<(String, String)> {
        t.fields.iter().map(|f| (f.name.to_string(), f.value.to_string())).collect()
    }

    fn nv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    /// Each case is a frame built with Python (an IPv4/ICMP packet, then the trailer bytes) and
    /// the values `tshark -T fields -e eth.padding -e eth.trailer -e vlan.trailer -e eth.fcs
    /// -e eth.fcs.status` printed for it (tshark 4.0.17, default preferences). The same frames
    /// are in l3_network/capture/testdata/built-pad.pcap, checked end to end there.
    #[test]
    fn matches_tshark() {
        // 60-byte frame, 28-byte IP packet at 14: 18 zero bytes of padding.
        let t = trailer(60, &[0; 18], false, None);
        assert_eq!(names_values(&t), nv(&[("eth.padding", "000000000000000000000000000000000000")]));
        assert_eq!(t.expert, None);
        // The same with 0x01 bytes: no padding, a trailer, and the note.
        let t = trailer(60, &[1; 18], false, Some(42));
        assert_eq!(names_values(&t), nv(&[("eth.trailer", "010101010101010101010101010101010101")]));
        let e = t.expert.unwrap();
        assert_eq!(
            (e.severity, e.group, &*e.message, e.offset),
            (Severity::Note, Group::Protocol, NONZERO_PADDING, Some(42))
        );
        // 70-byte frame whose 46-byte packet ends at 60: 10 bytes, the last 4 an FCS.
        let t = trailer(70, &[0xaa; 10], false, None);
        assert_eq!(
            names_values(&t),
            nv(&[("eth.trailer", "aaaaaaaaaaaa"), ("eth.fcs", "0xaaaaaaaa"), ("eth.fcs.status", "2")])
        );
        assert_eq!(t.fields[1].shown, "0xaaaaaaaa [unverified]");
        // 64 bytes: padding then an FCS.
        let mut b = vec![0; 18];
        b.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let t = trailer(64, &b, false, None);
        assert_eq!(
            names_values(&t),
            nv(&[
                ("eth.padding", "000000000000000000000000000000000000"),
                ("eth.fcs", "0xdeadbeef"),
                ("eth.fcs.status", "2")
            ])
        );
        // 62 bytes: padding and 2 bytes of trailer (too short a frame for an FCS).
        let t = trailer(62, &[0; 20], false, None);
        assert_eq!(
            names_values(&t),
            nv(&[("eth.padding", "000000000000000000000000000000000000"), ("eth.trailer", "0000")])
        );
        // 47 bytes: never padded, so a trailer, and no note.
        let t = trailer(47, &[0; 5], false, None);
        assert_eq!(names_values(&t), nv(&[("eth.trailer", "0000000000")]));
        assert_eq!(t.expert, None);
        // Nothing after the packet.
        assert_eq!(trailer(42, &[], false, None), Trailer::default());
        assert!(trailer_fields(1514, &[]).is_empty());
    }

    /// Tagged frames (802.1Q VID 100): padding keeps its `eth.padding` name, the rest is
    /// `vlan.trailer`, and no FCS is assumed (tshark 4.0.17 on the same built-pad.pcap).
    #[test]
    fn tagged_frames_match_tshark() {
        // 60 bytes, 28-byte packet at 18: 14 bytes of padding.
        let t = trailer(60, &[0; 14], true, None);
        assert_eq!(names_values(&t), nv(&[("eth.padding", "0000000000000000000000000000")]));
        // 70 bytes, packet ends at 64: 6 bytes of trailer, no FCS.
        let t = trailer(70, &[0xbb; 6], true, None);
        assert_eq!(names_values(&t), nv(&[("vlan.trailer", "bbbbbbbbbbbb")]));
        // 64 bytes: padding, then 4 bytes that are a trailer, not an FCS.
        let mut b = vec![0; 14];
        b.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let t = trailer(64, &b, true, None);
        assert_eq!(
            names_values(&t),
            nv(&[("eth.padding", "0000000000000000000000000000"), ("vlan.trailer", "deadbeef")])
        );
    }
}
