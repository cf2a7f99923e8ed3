//! L2 tests: known frames byte by byte, padding, tagging, the FCS against corruption and
//! truncation, address filtering, ARP, and property round trips.
//!
//! The known frames were built independently (Python: `zlib.crc32` for the FCS, a hand-written
//! Internet checksum for IPv4/UDP) and dissected with tshark 4.0.17
//! (`-o eth.fcs:TRUE -o eth.check_fcs:TRUE`), which reported every FCS and checksum "[correct]"
//! (tshark does not check a tagged frame's FCS; that one rests on `zlib.crc32`).

use super::arp::{ArpOp, ArpPacket};
use super::frame::{self, FrameHeader};
use super::*;
use crate::error::ErrorKind;
use crate::trace::Trace;
use proptest::prelude::*;
use std::net::Ipv4Addr;

const A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
const IP_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// IPv4 192.0.2.1 → 192.0.2.2, UDP 49152 → 7, payload "hi" (30 bytes, checksums correct).
const IPV4_UDP_HI: &str = "4500001e000140004011b6cac0000201c0000202c0000007000a53656869";
/// That packet from A to B, untagged: 14 + 30 + 16 padding + FCS c0 d7 0a c6.
const FRAME_IPV4: &str = "020000000002020000000001080045\
    00001e000140004011b6cac0000201c0000202c0000007000a5365686900000000000000000000000000000000c0d70ac6";
/// The same packet tagged PCP 5, DEI 0, VID 42 (TCI 0xa02a): 18 + 30 + 12 padding + FCS.
const FRAME_VLAN: &str = "0200000000020200000000018100a02a0800\
    4500001e000140004011b6cac0000201c0000202c0000007000a53656869000000000000000000000000d29ae46d";
/// ARP request "who has 192.0.2.2? tell 192.0.2.1" from A, to broadcast.
const FRAME_ARP_REQUEST: &str = "ffffffffffff020000000001080600010800060400010200000000\
    01c0000201000000000000c000020200000000000000000000000000000000000051a78d1c";
/// B's ARP reply "192.0.2.2 is at 02:00:00:00:00:02", to A.
const FRAME_ARP_REPLY: &str = "020000000001020000000002080600010800060400020200000000\
    02c0000202020000000001c0000201000000000000000000000000000000000000b835d96a";

fn cfg(local: MacAddr, remote: MacAddr) -> DataLinkConfig {
    DataLinkConfig { local, remote, vlan: None, promiscuous: false, capture: false }
}

fn sdu(payload: &[u8], ethertype: u16) -> Pdu {
    let mut p = Pdu::bytes(payload.to_vec());
    p.meta.ethertype = Some(ethertype);
    p
}

/// Encapsulate at a station with `c`, returning the one frame and the trace.
fn send(c: DataLinkConfig, p: Pdu) -> Result<(Vec<u8>, Trace)> {
    let mut cx = Context::default();
    let mut out = DataLink::new(c).encapsulate(p, &mut cx)?;
    assert_eq!(out.len(), 1, "one SDU, one frame");
    let (bytes, _) = out.remove(0).into_bytes(LayerId::DataLink)?;
    Ok((bytes, cx.trace))
}

/// Decapsulate at a station with `c`.
fn recv(c: DataLinkConfig, frame: &[u8]) -> (Result<Option<Pdu>>, Trace) {
    let mut cx = Context::default();
    let r = DataLink::new(c).decapsulate(Pdu::bytes(frame.to_vec()), &mut cx);
    (r, cx.trace)
}

fn value<'a>(t: &'a Trace, name: &str) -> &'a Value {
    t.values(name).first().copied().unwrap_or_else(|| panic!("no field {name} in\n{t}"))
}

fn kind(e: &Error) -> &'static str {
    match e.kind {
        ErrorKind::Truncated { .. } => "truncated",
        ErrorKind::Invalid { .. } => "invalid",
        ErrorKind::Checksum { .. } => "checksum",
        ErrorKind::Code { .. } => "code",
        ErrorKind::Config(_) => "config",
        ErrorKind::Io(_) => "io",
    }
}

// ---- FCS -------------------------------------------------------------------------------------

#[test]
fn fcs_is_the_standard_crc32() {
    // The CRC-32 check value (the catalogue's "check" for CRC-32/ISO-HDLC, i.e. IEEE 802.3).
    assert_eq!(fcs(b"123456789"), 0xCBF4_3926);
    assert_eq!(fcs(b""), 0);
    // Appended least significant byte first, the whole leaves the 802.3 residue.
    let mut v = b"123456789".to_vec();
    v.extend_from_slice(&0xCBF4_3926u32.to_le_bytes());
    assert_eq!(crc32fast::hash(&v), frame::FCS_RESIDUE);
    assert!(fcs_ok(&v));
    assert!(!fcs_ok(b"123456789\x26\x39\xf4\xcc"));
    assert!(!fcs_ok(b"abc"));
}

#[test]
fn known_frames_carry_their_crc_lsb_first() {
    for (f, crc) in [
        (FRAME_IPV4, 0xc60a_d7c0u32),
        (FRAME_VLAN, 0x6de4_9ad2),
        (FRAME_ARP_REQUEST, 0x1c8d_a751),
        (FRAME_ARP_REPLY, 0x6ad9_35b8),
    ] {
        let f = hex(f);
        assert_eq!(f.len(), 64);
        assert_eq!(fcs(&f[..60]), crc);
        assert_eq!(f[60..], crc.to_le_bytes());
        assert_eq!(crc32fast::hash(&f), frame::FCS_RESIDUE);
    }
}

// ---- encapsulate: known bytes ----------------------------------------------------------------

#[test]
fn known_ipv4_frame() {
    let (f, t) = send(cfg(A, B), sdu(&hex(IPV4_UDP_HI), 0x0800)).unwrap();
    assert_eq!(f, hex(FRAME_IPV4));
    // dst, src, type, then the IPv4 packet, then zero padding to 60, then the FCS.
    assert_eq!(f[0..6], B.0);
    assert_eq!(f[6..12], A.0);
    assert_eq!(f[12..14], [0x08, 0x00]);
    assert_eq!(f[14..44], hex(IPV4_UDP_HI)[..]);
    assert!(f[44..60].iter().all(|&b| b == 0));

    assert_eq!(t.records.len(), 1);
    let r = &t.records[0];
    assert_eq!((&*r.protocol, r.direction, r.pdu), ("eth", Direction::Down, PduName::Frame));
    assert_eq!(r.title, "Ethernet II, Src: 02:00:00:00:00:01, Dst: 02:00:00:00:00:02");
    assert_eq!(r.header, 0..14);
    assert_eq!(r.trailer, Some(44..64));
    assert_eq!((r.payload_len, r.overhead, r.pdu_len()), (30, 34, 64));
    let names: Vec<&str> = r.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "eth.dst",
            "eth.dst.lg",
            "eth.dst.ig",
            "eth.src",
            "eth.src.lg",
            "eth.src.ig",
            "eth.type",
            "eth.padding",
            "eth.fcs"
        ]
    );
    assert_eq!(*value(&t, "eth.dst"), Value::Mac(B));
    assert_eq!(*value(&t, "eth.src"), Value::Mac(A));
    assert_eq!(value(&t, "eth.type").to_string(), "0x0800");
    assert_eq!(r.field("eth.type").unwrap().shown, "IPv4 (0x0800)");
    assert_eq!(*value(&t, "eth.padding"), Value::Bytes(vec![0; 16]));
    // As tshark prints it: the FCS bytes in wire order.
    assert_eq!(value(&t, "eth.fcs").to_string(), "0xc0d70ac6");
    assert!(r.checks.is_empty(), "no checks going down");
}

#[test]
fn known_vlan_frame() {
    let c = DataLinkConfig { vlan: Some(VlanTag { pcp: 5, dei: false, id: 42 }), ..cfg(A, B) };
    let (f, t) = send(c, sdu(&hex(IPV4_UDP_HI), 0x0800)).unwrap();
    assert_eq!(f, hex(FRAME_VLAN));
    // TPID 0x8100, then TCI = 101 0 000000101010 = 0xa02a, then the real type.
    assert_eq!(f[12..18], [0x81, 0x00, 0xa0, 0x2a, 0x08, 0x00]);

    assert_eq!(t.records.len(), 2);
    let (eth, vlan) = (&t.records[0], &t.records[1]);
    assert_eq!(eth.header, 0..18);
    assert_eq!(eth.trailer, Some(48..64));
    assert_eq!((eth.payload_len, eth.overhead, eth.pdu_len()), (30, 34, 64));
    assert_eq!(eth.field("eth.type").unwrap().shown, "802.1Q Virtual LAN (0x8100)");
    assert_eq!(*value(&t, "eth.padding"), Value::Bytes(vec![0; 12]));
    assert_eq!(value(&t, "eth.fcs").to_string(), "0xd29ae46d");

    assert_eq!(vlan.protocol, "vlan");
    assert_eq!(vlan.title, "802.1Q Virtual LAN, PRI: 5, DEI: 0, ID: 42");
    assert_eq!(vlan.header, 14..18);
    assert_eq!(vlan.overhead, 0);
    let f: Vec<(String, String)> = vlan.fields.iter().map(|f| (f.name.to_string(), f.value.to_string())).collect();
    let want = [("vlan.priority", "5"), ("vlan.dei", "0"), ("vlan.id", "42"), ("vlan.etype", "0x0800")];
    assert_eq!(f, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(vlan.fields[0].shown, "Voice, < 10ms latency and jitter (5)");
    assert_eq!(vlan.fields[1].shown, "Ineligible");
}

#[test]
fn known_arp_request_and_reply() {
    let req = ArpPacket::request(A, IP_A, IP_B);
    // RFC 826: hrd=1, pro=0x0800, hln=6, pln=4, op=1, sha, spa, tha (unknown: zeros), tpa.
    assert_eq!(req.emit(), hex("0001080006040001020000000001c0000201000000000000c0000202"));
    let mut p = sdu(&req.emit(), 0x0806);
    p.meta.dst_mac = Some(MacAddr::BROADCAST);
    let (f, t) = send(cfg(A, B), p).unwrap();
    assert_eq!(f, hex(FRAME_ARP_REQUEST));
    assert_eq!(t.records.len(), 2);
    assert_eq!(t.records[0].title, "Ethernet II, Src: 02:00:00:00:00:01, Dst: Broadcast (ff:ff:ff:ff:ff:ff)");
    assert_eq!(t.records[0].field("eth.dst.ig").unwrap().value, Value::Bool(true));
    let arp = &t.records[1];
    assert_eq!((&*arp.protocol, arp.title.as_str()), ("arp", "Address Resolution Protocol (request)"));
    assert_eq!(arp.summary, "Who has 192.0.2.2? Tell 192.0.2.1");
    assert_eq!(arp.header, 14..42);
    let names: Vec<&str> = arp.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "arp.hw.type",
            "arp.proto.type",
            "arp.hw.size",
            "arp.proto.size",
            "arp.opcode",
            "arp.src.hw_mac",
            "arp.src.proto_ipv4",
            "arp.dst.hw_mac",
            "arp.dst.proto_ipv4"
        ]
    );
    assert_eq!(arp.field("arp.opcode").unwrap().shown, "request (1)");
    assert_eq!(arp.field("arp.dst.hw_mac").unwrap().value, Value::Mac(MacAddr::ZERO));
    assert_eq!(arp.field("arp.proto.type").unwrap().value.to_string(), "0x0800");

    let rep = ArpPacket::reply_to(&req, B);
    assert_eq!(
        rep,
        ArpPacket { operation: ArpOp::Reply, sender_mac: B, sender_ip: IP_B, target_mac: A, target_ip: IP_A }
    );
    assert_eq!(rep.emit(), hex("0001080006040002020000000002c0000202020000000001c0000201"));
    assert_eq!(rep.summary(), "192.0.2.2 is at 02:00:00:00:00:02");
    assert_eq!(rep.title(), "Address Resolution Protocol (reply)");
    let mut p = sdu(&rep.emit(), 0x0806);
    p.meta.dst_mac = Some(req.sender_mac);
    let (f, _) = send(cfg(B, A), p).unwrap();
    assert_eq!(f, hex(FRAME_ARP_REPLY));
}

// ---- encapsulate: sizes and configuration -----------------------------------------------------

#[test]
fn pads_to_60_bytes_before_the_fcs() {
    for (vlan, hlen) in [(None, 14), (Some(VlanTag { pcp: 0, dei: false, id: 1 }), 18)] {
        for n in 0..=100usize {
            let (f, t) = send(DataLinkConfig { vlan, ..cfg(A, B) }, sdu(&vec![0xab; n], 0x88b5)).unwrap();
            assert_eq!(f.len(), (hlen + n).max(60) + 4, "payload {n}, header {hlen}");
            assert!(f[hlen..hlen + n].iter().all(|&b| b == 0xab));
            assert!(f[hlen + n..f.len() - 4].iter().all(|&b| b == 0));
            assert!(fcs_ok(&f));
            let pad = 60usize.saturating_sub(hlen + n);
            let r = &t.records[0];
            assert_eq!(r.trailer, Some(hlen + n..hlen + n + pad + 4));
            assert_eq!(r.overhead, hlen + pad + 4);
            assert_eq!(r.pdu_len(), f.len());
            assert_eq!(r.field("eth.padding").is_some(), pad > 0);
        }
    }
}

#[test]
fn mtu_is_1500() {
    let (f, _) = send(cfg(A, B), sdu(&[1; 1500], 0x0800)).unwrap();
    assert_eq!(f.len(), MAX_FRAME_LEN);
    let tagged = DataLinkConfig { vlan: Some(VlanTag { pcp: 7, dei: true, id: 4094 }), ..cfg(A, B) };
    let (f, _) = send(tagged.clone(), sdu(&[1; 1500], 0x0800)).unwrap();
    assert_eq!(f.len(), MAX_TAGGED_FRAME_LEN);
    for c in [cfg(A, B), tagged] {
        let e = send(c, sdu(&[1; 1501], 0x0800)).unwrap_err();
        assert_eq!((e.layer, kind(&e)), (Some(LayerId::DataLink), "invalid"));
        assert!(e.to_string().contains("MTU"), "{e}");
    }
}

#[test]
fn destination_comes_from_meta_or_config() {
    let mut p = sdu(&[0; 46], 0x0800);
    p.meta.dst_mac = Some(MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]));
    let (f, _) = send(cfg(A, B), p).unwrap();
    assert_eq!(f[0..6], [0x01, 0x00, 0x5e, 0, 0, 1]);
    let (f, _) = send(cfg(A, B), sdu(&[0; 46], 0x0800)).unwrap();
    assert_eq!(f[0..6], B.0);
}

#[test]
fn meta_is_copied_through() {
    let mut p = sdu(&[0; 46], 0x0800);
    p.meta.ip_proto = Some(17);
    p.meta.part = Some(crate::layer::Part { index: 2, count: 3 });
    let mut cx = Context::default();
    let out = DataLink::new(cfg(A, B)).encapsulate(p.clone(), &mut cx).unwrap();
    assert_eq!(out[0].meta, p.meta);
}

#[test]
fn bad_sends_are_errors_naming_l2() {
    let payload = vec![0; 46];
    let e = send(cfg(A, B), Pdu::bytes(payload.clone())).unwrap_err();
    assert_eq!((e.layer, kind(&e)), (Some(LayerId::DataLink), "config"));
    assert!(e.to_string().contains("ethertype"), "{e}");
    for t in [0x0000, 0x05dc, 0x05ff, 0x8100] {
        let e = send(cfg(A, B), sdu(&payload, t)).unwrap_err();
        assert_eq!((e.layer, kind(&e)), (Some(LayerId::DataLink), "config"), "type {t:#x}");
    }
    assert!(send(cfg(A, B), sdu(&payload, 0x0600)).is_ok());
    for tag in [
        VlanTag { pcp: 0, dei: false, id: 0 },
        VlanTag { pcp: 0, dei: false, id: 4095 },
        VlanTag { pcp: 0, dei: false, id: 5000 },
        VlanTag { pcp: 8, dei: false, id: 10 },
    ] {
        let e = send(DataLinkConfig { vlan: Some(tag), ..cfg(A, B) }, sdu(&payload, 0x0800)).unwrap_err();
        assert_eq!((e.layer, kind(&e)), (Some(LayerId::DataLink), "config"), "{tag:?}");
    }
    let e = send(cfg(MacAddr::BROADCAST, B), sdu(&payload, 0x0800)).unwrap_err();
    assert_eq!((e.layer, kind(&e)), (Some(LayerId::DataLink), "config"));
    // An ARP payload that is not ARP.
    let e = send(cfg(A, B), sdu(&[0; 28], 0x0806)).unwrap_err();
    assert_eq!((e.layer, kind(&e), e.offset), (Some(LayerId::DataLink), "invalid", Some(14)));
}

#[test]
fn header_round_trips_through_etherparse() {
    for vlan in [None, Some(VlanTag { pcp: 3, dei: true, id: 100 })] {
        let h = FrameHeader { dst: B, src: A, vlan, ethertype: 0x86dd };
        let b = h.emit();
        assert_eq!(b.len(), h.len());
        assert_eq!(FrameHeader::parse(&b, 0).unwrap(), h);
        for n in 0..b.len() {
            let e = FrameHeader::parse(&b[..n], 5).unwrap_err();
            assert_eq!((kind(&e), e.offset), ("truncated", Some(5 + n)));
        }
    }
    assert_eq!(VlanTag { pcp: 3, dei: true, id: 100 }.tci(), 0x7064);
    assert_eq!(VlanTag::from_tci(0x7064), VlanTag { pcp: 3, dei: true, id: 100 });
}

// ---- decapsulate ------------------------------------------------------------------------------

#[test]
fn receives_known_ipv4_frame() {
    let (r, t) = recv(cfg(B, A), &hex(FRAME_IPV4));
    let p = r.unwrap().unwrap();
    assert_eq!(p.meta.ethertype, Some(0x0800));
    assert_eq!(p.meta.offset, 14);
    assert_eq!(p.meta.dst_mac, None);
    let (bytes, _) = p.into_bytes(LayerId::DataLink).unwrap();
    // L2 cannot tell padding from payload: the 16 zeros stay for L3 to trim.
    assert_eq!(bytes.len(), 46);
    assert_eq!(bytes[..30], hex(IPV4_UDP_HI)[..]);
    assert_eq!(t.records.len(), 1);
    let r = &t.records[0];
    assert_eq!(r.direction, Direction::Up);
    assert_eq!(r.header, 0..14);
    assert_eq!(r.trailer, Some(60..64));
    assert_eq!((r.payload_len, r.overhead), (46, 18));
    assert_eq!(r.checks.len(), 1);
    let c = &r.checks[0];
    assert_eq!((&*c.name, c.ok), ("eth.fcs.status", true));
    assert_eq!(c.detail, "0xc0d70ac6 (computed 0xc0d70ac6)");
    assert_eq!(r.field("eth.fcs").unwrap().shown, "0xc0d70ac6 [correct]");
    assert!(t.all_checks_ok());
}

#[test]
fn receives_tagged_frame_whatever_the_config() {
    for local_vlan in [None, Some(VlanTag { pcp: 0, dei: false, id: 42 }), Some(VlanTag { pcp: 0, dei: false, id: 7 })]
    {
        let (r, t) = recv(DataLinkConfig { vlan: local_vlan, ..cfg(B, A) }, &hex(FRAME_VLAN));
        let p = r.unwrap().unwrap();
        assert_eq!((p.meta.ethertype, p.meta.offset), (Some(0x0800), 18));
        assert_eq!(p.len(), 42);
        assert_eq!(t.records.len(), 2);
        assert_eq!(t.records[1].title, "802.1Q Virtual LAN, PRI: 5, DEI: 0, ID: 42");
        assert_eq!(t.records[1].notes.len(), usize::from(local_vlan.map(|v| v.id) != Some(42)) + 1);
        assert_eq!(t.records[0].header, 0..18);
    }
}

#[test]
fn receives_arp_with_its_record() {
    let (r, t) = recv(cfg(B, A), &hex(FRAME_ARP_REQUEST));
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.ethertype, p.meta.offset), (Some(0x0806), 14));
    let (bytes, _) = p.into_bytes(LayerId::DataLink).unwrap();
    assert_eq!(ArpPacket::parse(&bytes, 14).unwrap(), ArpPacket::request(A, IP_A, IP_B));
    assert_eq!(bytes.len(), 28, "ARP's length is known, so the padding is trimmed");
    let protos: Vec<&str> = t.records.iter().map(|r| &*r.protocol).collect();
    assert_eq!(protos, ["eth", "arp"]);
    assert_eq!(*value(&t, "eth.padding"), Value::Bytes(vec![0; 18]));
    assert_eq!(t.records[0].trailer, Some(42..64));
    assert_eq!(t.records[1].summary, "Who has 192.0.2.2? Tell 192.0.2.1");

    let (r, t) = recv(cfg(A, B), &hex(FRAME_ARP_REPLY));
    assert!(r.unwrap().is_some());
    assert_eq!(t.records[1].summary, "192.0.2.2 is at 02:00:00:00:00:02");
}

#[test]
fn bad_arp_in_a_good_frame_is_an_error_at_its_byte() {
    let mut f = hex(FRAME_ARP_REQUEST);
    f[15] = 6; // hardware type 6 (IEEE 802)
    let crc = fcs(&f[..60]);
    f[60..].copy_from_slice(&crc.to_le_bytes());
    let e = recv(cfg(B, A), &f).0.unwrap_err();
    assert_eq!((e.layer, kind(&e), e.offset), (Some(LayerId::DataLink), "invalid", Some(14)));
}

#[test]
fn every_corrupted_byte_fails_the_fcs() {
    for known in [FRAME_IPV4, FRAME_VLAN, FRAME_ARP_REQUEST] {
        let good = hex(known);
        for i in 0..good.len() {
            for x in 1..=255u8 {
                let mut f = good.clone();
                f[i] ^= x;
                let (r, t) = recv(DataLinkConfig { promiscuous: true, ..cfg(B, A) }, &f);
                let e = r.expect_err("a damaged frame must not pass");
                assert_eq!((e.layer, kind(&e), e.offset), (Some(LayerId::DataLink), "checksum", Some(60)), "byte {i}");
                assert!(matches!(e.kind, ErrorKind::Checksum { width: 4, .. }));
                assert!(!t.all_checks_ok());
            }
        }
    }
}

#[test]
fn fcs_error_names_both_values_in_wire_order() {
    let mut f = hex(FRAME_IPV4);
    f[63] = 0x00;
    let (r, t) = recv(cfg(B, A), &f);
    let e = r.unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Checksum { what: "Ethernet FCS".into(), expected: 0xc0d70ac6, found: 0xc0d70a00, width: 4 }
    );
    assert_eq!(
        e.to_string(),
        "L2 data link (Ethernet II) at byte 60: Ethernet FCS mismatch: computed 0xc0d70ac6, frame carries 0xc0d70a00"
    );
    assert_eq!(t.records[0].field("eth.fcs").unwrap().shown, "0xc0d70a00 incorrect, should be 0xc0d70ac6");
    assert!(!t.records[0].checks[0].ok);
}

#[test]
fn truncation_at_every_length() {
    let (long, _) = send(cfg(A, B), sdu(&[0x5a; 100], 0x0800)).unwrap();
    for f in [hex(FRAME_IPV4), hex(FRAME_VLAN), long] {
        for n in 0..f.len() {
            let (r, _) = recv(cfg(B, A), &f[..n]);
            let e = r.expect_err("a cut frame must not pass");
            if n < 64 {
                assert_eq!((kind(&e), e.offset), ("truncated", Some(n)), "length {n}");
                assert!(matches!(e.kind, ErrorKind::Truncated { needed: 64, available, .. } if available == n));
            } else {
                assert_eq!((kind(&e), e.offset), ("checksum", Some(n - 4)), "length {n}");
            }
        }
    }
}

#[test]
fn offsets_are_counted_from_the_frame_start() {
    let mut p = Pdu::bytes(hex(FRAME_IPV4));
    p.meta.offset = 8;
    let mut cx = Context::default();
    let out = DataLink::new(cfg(B, A)).decapsulate(p, &mut cx).unwrap().unwrap();
    assert_eq!(out.meta.offset, 22);
    let mut p = Pdu::bytes(hex(FRAME_IPV4)[..63].to_vec());
    p.meta.offset = 8;
    let e = DataLink::new(cfg(B, A)).decapsulate(p, &mut cx).unwrap_err();
    assert_eq!(e.offset, Some(71));
}

#[test]
fn destination_filter() {
    let f = hex(FRAME_IPV4); // to B
    let c = MacAddr([0x02, 0, 0, 0, 0, 0x03]);
    let (r, t) = recv(cfg(c, A), &f);
    let e = r.unwrap_err();
    assert_eq!((e.layer, kind(&e), e.offset), (Some(LayerId::DataLink), "invalid", Some(0)));
    assert!(e.to_string().contains("destination MAC not this station"), "{e}");
    assert!(t.records[0].checks[0].ok, "the FCS was checked first and passed");
    // Promiscuous: taken, with a note.
    let (r, t) = recv(DataLinkConfig { promiscuous: true, ..cfg(c, A) }, &f);
    assert!(r.unwrap().is_some());
    assert!(t.records[0].notes.iter().any(|n| n.contains("promiscuous")));
    // Broadcast and multicast are for everyone.
    for dst in [MacAddr::BROADCAST, MacAddr([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]), MacAddr([0x33, 0x33, 0, 0, 0, 1])] {
        let mut p = sdu(&hex(IPV4_UDP_HI), 0x0800);
        p.meta.dst_mac = Some(dst);
        let (f, _) = send(cfg(A, B), p).unwrap();
        assert!(recv(cfg(c, A), &f).0.unwrap().is_some(), "{dst}");
    }
}

/// A frame of exactly `len` bytes (FCS included) with a correct FCS.
fn sized_frame(len: usize, vlan: Option<VlanTag>) -> Vec<u8> {
    let hdr = FrameHeader { dst: B, src: A, vlan, ethertype: 0x0800 };
    let mut f = hdr.emit();
    f.resize(len - 4, 0x11);
    let crc = fcs(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

#[test]
fn maximum_size() {
    let tag = Some(VlanTag { pcp: 0, dei: false, id: 9 });
    assert!(recv(cfg(B, A), &sized_frame(1518, None)).0.is_ok());
    assert!(recv(cfg(B, A), &sized_frame(1522, tag)).0.is_ok());
    for (len, vlan) in [(1519, None), (1522, None), (1523, tag), (9000, tag)] {
        let e = recv(cfg(B, A), &sized_frame(len, vlan)).0.unwrap_err();
        let max = if vlan.is_some() { 1522 } else { 1518 };
        assert_eq!((e.layer, kind(&e), e.offset), (Some(LayerId::DataLink), "invalid", Some(max)), "{len}");
    }
}

#[test]
fn length_field_frames_are_refused() {
    let mut f = sized_frame(64, None);
    f[12..14].copy_from_slice(&0x002eu16.to_be_bytes());
    let crc = fcs(&f[..60]);
    f[60..].copy_from_slice(&crc.to_le_bytes());
    let e = recv(cfg(B, A), &f).0.unwrap_err();
    assert_eq!((kind(&e), e.offset), ("invalid", Some(12)));
}

#[test]
fn unusual_tags_are_noted() {
    for (id, note) in [(0u16, "priority tag"), (4095, "reserved")] {
        let f = sized_frame(64, Some(VlanTag { pcp: 1, dei: true, id }));
        let (r, t) = recv(cfg(B, A), &f);
        assert!(r.unwrap().is_some());
        assert!(t.records[1].notes.iter().any(|n| n.contains(note)), "{t}");
    }
}

// ---- ARP --------------------------------------------------------------------------------------

#[test]
fn arp_parse_errors_name_the_byte() {
    let good = ArpPacket::request(A, IP_A, IP_B).emit();
    for (i, v, off) in [(1usize, 6u8, 0usize), (2, 0x86, 2), (4, 8, 4), (5, 16, 5)] {
        let mut b = good.clone();
        b[i] = v;
        let e = ArpPacket::parse(&b, 14).unwrap_err();
        assert_eq!((e.layer, kind(&e), e.offset), (Some(LayerId::DataLink), "invalid", Some(14 + off)), "byte {i}");
    }
    for n in 0..good.len() {
        let e = ArpPacket::parse(&good[..n], 14).unwrap_err();
        assert_eq!((kind(&e), e.offset), ("truncated", Some(14 + n)), "length {n}");
    }
    let mut padded = good.clone();
    padded.extend_from_slice(&[0xee; 18]);
    assert_eq!(ArpPacket::parse(&padded, 0).unwrap(), ArpPacket::request(A, IP_A, IP_B));
}

#[test]
fn arp_opcodes_are_open() {
    let mut b = ArpPacket::request(A, IP_A, IP_B).emit();
    b[7] = 3;
    let p = ArpPacket::parse(&b, 0).unwrap();
    assert_eq!(p.operation, ArpOp::Other(3));
    assert_eq!(p.emit(), b);
    assert_eq!(p.operation.to_string(), "reverse request (3)");
    assert_eq!(ArpOp::from(1), ArpOp::Request);
    assert_eq!(u16::from(ArpOp::Reply), 2);
}

#[test]
fn arp_summaries() {
    let g = ArpPacket { target_ip: IP_A, ..ArpPacket::request(A, IP_A, IP_B) };
    assert_eq!(g.summary(), "Gratuitous ARP for 192.0.2.1 (Request)");
    assert_eq!(g.title(), "Address Resolution Protocol (request/gratuitous ARP)");
    let probe = ArpPacket::request(A, Ipv4Addr::UNSPECIFIED, IP_B);
    assert_eq!(probe.summary(), "Who has 192.0.2.2? (ARP Probe)");
    assert_eq!(probe.title(), "Address Resolution Protocol (ARP Probe)");
}

// ---- properties -------------------------------------------------------------------------------

fn any_vlan() -> impl Strategy<Value = Option<VlanTag>> {
    proptest::option::of((0u8..8, any::<bool>(), 1u16..4095).prop_map(|(pcp, dei, id)| VlanTag { pcp, dei, id }))
}

fn any_ethertype() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(0x0800u16),
        Just(0x86dd),
        (0x0600u16..=0xffff).prop_filter("not tag/ARP", |t| *t != 0x8100 && *t != 0x0806)
    ]
}

fn any_mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip(payload in proptest::collection::vec(any::<u8>(), 0..=1500), vlan in any_vlan(),
                  ethertype in any_ethertype(), src in any_mac(), dst in any_mac()) {
        let src = MacAddr([src.0[0] & 0xfe, src.0[1], src.0[2], src.0[3], src.0[4], src.0[5]]);
        let tx = DataLinkConfig { local: src, remote: dst, vlan, promiscuous: false, capture: false };
        let rx = DataLinkConfig { local: dst, remote: src, vlan: None, promiscuous: false, capture: false };
        let (f, down) = send(tx, sdu(&payload, ethertype)).unwrap();
        let hlen = if vlan.is_some() { 18 } else { 14 };
        prop_assert_eq!(f.len(), (hlen + payload.len()).max(60) + 4);
        prop_assert!(fcs_ok(&f));
        prop_assert_eq!(down.records[0].pdu_len(), f.len());
        let (r, up) = recv(rx, &f);
        let p = r.unwrap().unwrap();
        prop_assert_eq!(p.meta.ethertype, Some(ethertype));
        prop_assert_eq!(p.meta.offset, hlen);
        let (bytes, _) = p.into_bytes(LayerId::DataLink).unwrap();
        prop_assert_eq!(&bytes[..payload.len()], &payload[..]);
        prop_assert!(bytes[payload.len()..].iter().all(|&b| b == 0), "only padding follows");
        prop_assert_eq!(bytes.len(), payload.len().max(60 - hlen));
        prop_assert!(up.all_checks_ok());
        prop_assert_eq!(up.records.len(), 1 + usize::from(vlan.is_some()));
        if let Some(tag) = vlan {
            let id = Value::Uint(u64::from(tag.id));
            prop_assert_eq!(up.values("vlan.id"), vec![&id]);
        }
    }

    #[test]
    fn arp_round_trip(op in any::<u16>(), sm in any_mac(), si in any::<[u8; 4]>(), tm in any_mac(), ti in any::<[u8; 4]>(),
                      vlan in any_vlan()) {
        let p = ArpPacket { operation: ArpOp::from(op), sender_mac: sm, sender_ip: si.into(), target_mac: tm, target_ip: ti.into() };
        let b = p.emit();
        prop_assert_eq!(b.len(), 28);
        prop_assert_eq!(ArpPacket::parse(&b, 0).unwrap(), p);
        let tx = DataLinkConfig { local: A, remote: B, vlan, promiscuous: false, capture: false };
        let (f, _) = send(tx, sdu(&b, 0x0806)).unwrap();
        let (r, t) = recv(cfg(B, A), &f);
        let (bytes, meta) = r.unwrap().unwrap().into_bytes(LayerId::DataLink).unwrap();
        prop_assert_eq!(bytes, b);
        prop_assert_eq!(meta.ethertype, Some(0x0806));
        prop_assert_eq!(t.records.last().map(|r| &*r.protocol), Some("arp"));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1600), promiscuous in any::<bool>()) {
        let c = DataLinkConfig { promiscuous, ..cfg(B, A) };
        let _ = recv(c.clone(), &bytes);
        // And with a correct FCS, to get past it into the header checks.
        let mut f = bytes;
        let crc = fcs(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        let (r, _) = recv(c, &f);
        if f.len() < 64 {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn arbitrary_arp_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), off in 0usize..2000) {
        if let Err(e) = ArpPacket::parse(&bytes, off) {
            prop_assert!(e.offset.is_some_and(|o| o >= off && o <= off + bytes.len()));
        }
    }
}
