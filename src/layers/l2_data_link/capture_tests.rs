//! Capture-mode tests. The frames are real (a ping across a veth pair between two network
//! namespaces, captured with tcpdump) or built with Python for the rarer cases; every expected
//! value is what `tshark -T fields` (tshark 4.0.17, default preferences) printed for that frame.

use super::*;
use crate::error::ErrorKind;
use crate::trace::{Group, Severity, Trace};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn capture_cfg() -> DataLinkConfig {
    DataLinkConfig { local: MacAddr::ZERO, remote: MacAddr::ZERO, vlan: None, promiscuous: true, capture: true }
}

fn dissect(frame: &[u8]) -> (Result<Option<Pdu>>, Trace) {
    let mut cx = Context::default();
    let r = DataLink::new(capture_cfg()).decapsulate(Pdu::bytes(frame.to_vec()), &mut cx);
    (r, cx.trace)
}

/// Every value of a field, as `tshark -T fields` prints it, comma-joined.
fn fields(t: &Trace, name: &str) -> String {
    t.values(name).iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

/// Real: tcpdump on veth, `ping 192.0.2.12` from 192.0.2.11: the ARP request (42 bytes, captured
/// before padding), the reply, and the first echo request.
const ARP_REQUEST: &str = "ffffffffffff00005e0053110806000108000604000100005e005311c000020b000000000000c000020c";
const ARP_REPLY: &str = "00005e00531100005e0053120806000108000604000200005e005312c000020c00005e005311c000020b";
const ECHO: &str = "00005e00531200005e005311080045000054a6e2400040010fafc000020bc000020c0800491f43a30001f610026b\
    00000000aeed050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";

#[test]
fn real_arp_and_echo_frames() {
    let (r, t) = dissect(&hex(ARP_REQUEST));
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.ethertype, p.meta.offset, p.len()), (Some(0x0806), 14, 28));
    let protos: Vec<&str> = t.records.iter().map(|r| &*r.protocol).collect();
    assert_eq!(protos, ["eth", "arp"]);
    // tshark: ff:ff:ff:ff:ff:ff 00:00:5e:00:53:11 0x0806 1 192.0.2.11 192.0.2.12 00:00:5e:00:53:11 00:00:00:00:00:00
    for (name, want) in [
        ("eth.dst", "ff:ff:ff:ff:ff:ff"),
        ("eth.src", "00:00:5e:00:53:11"),
        ("eth.type", "0x0806"),
        ("arp.opcode", "1"),
        ("arp.src.proto_ipv4", "192.0.2.11"),
        ("arp.dst.proto_ipv4", "192.0.2.12"),
        ("arp.src.hw_mac", "00:00:5e:00:53:11"),
        ("arp.dst.hw_mac", "00:00:00:00:00:00"),
        ("eth.fcs", ""),
        ("eth.padding", ""),
    ] {
        assert_eq!(fields(&t, name), want, "{name}");
    }
    assert_eq!(t.records[1].title, "Address Resolution Protocol (request)");
    assert_eq!(t.records[1].header, 14..42);

    let (r, t) = dissect(&hex(ARP_REPLY));
    assert_eq!(r.unwrap().unwrap().len(), 28);
    assert_eq!(fields(&t, "arp.opcode"), "2");
    assert_eq!(fields(&t, "arp.dst.hw_mac"), "00:00:5e:00:53:11");

    let (r, t) = dissect(&hex(ECHO));
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.ethertype, p.len()), (Some(0x0800), 84));
    let eth = &t.records[0];
    let names: Vec<&str> = eth.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(names, ["eth.dst", "eth.dst.lg", "eth.dst.ig", "eth.src", "eth.src.lg", "eth.src.ig", "eth.type"]);
    assert_eq!((eth.header.clone(), eth.trailer.clone(), eth.payload_len, eth.pdu_len()), (0..14, None, 84, 98));
    assert!(eth.checks.is_empty() && eth.expert.is_empty());
}

#[test]
fn short_long_and_foreign_frames_are_taken() {
    // 20 bytes, any destination, an unknown EtherType: passed up as it is.
    let mut f = hex("02000000000902000000000188b5");
    f.extend_from_slice(b"hello!");
    let (r, t) = dissect(&f);
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.ethertype, p.into_bytes(LayerId::DataLink).unwrap().0), (Some(0x88b5), b"hello!".to_vec()));
    assert_eq!(fields(&t, "eth.type"), "0x88b5");
    // A 9000-byte GSO frame.
    let mut big = hex(ECHO);
    big.resize(9000, 0xab);
    assert_eq!(dissect(&big).0.unwrap().unwrap().len(), 9000 - 14);
}

#[test]
fn stacked_tags_each_get_a_record() {
    // Built: two 802.1Q tags (VID 7, then 8) around a 20-byte IPv4 header. tshark: eth.type
    // 0x8100, vlan.id 7,8, vlan.etype 0x8100,0x0800.
    let (r, t) = dissect(&hex("00005e00530200005e00530181000007810000080800450000140001000040fdf5e8c0000201c0000202"));
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.ethertype, p.meta.offset, p.len()), (Some(0x0800), 22, 20));
    assert_eq!(fields(&t, "eth.type"), "0x8100");
    assert_eq!(fields(&t, "vlan.id"), "7,8");
    assert_eq!(fields(&t, "vlan.etype"), "0x8100,0x0800");
    let ranges: Vec<_> = t.records.iter().map(|r| r.header.clone()).collect();
    assert_eq!(ranges, [0..22, 14..18, 18..22]);
}

#[test]
fn ieee_802_3_length_frames() {
    // Built: an STP BPDU in an 802.3 frame, length 38, padded to 60. tshark: eth.len 38,
    // eth.padding 0000000000000000 (the padding is the dissector's to add), no eth.type.
    let stp = "0180c200000000005e0053010026424203000000000000000000000000000000000000000000000000000000000000\
        00000000000000000000000000";
    let (r, t) = dissect(&hex(stp));
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.ethertype, p.len()), (Some(38), 38));
    assert_eq!(t.records[0].title, "IEEE 802.3 Ethernet");
    assert_eq!((fields(&t, "eth.len"), fields(&t, "eth.type")), ("38".to_string(), String::new()));
    assert_eq!(t.records[0].expert[0].group, Group::Undecoded);
    // The trailer after those 38 bytes is what tshark calls eth.padding.
    let tr = trailer(60, &hex(stp)[52..], false, None);
    assert_eq!(tr.fields[0].value.to_string(), "0000000000000000");

    // Length 256 in a 60-byte frame: tshark's Malformed error "Length field value goes past the
    // end of the payload"; what there is goes up.
    let long = stp.replacen("0026", "0100", 1);
    let (r, t) = dissect(&hex(&long));
    assert_eq!(r.unwrap().unwrap().len(), 46);
    assert_eq!(fields(&t, "eth.len"), "256");
    let e = &t.records[0].expert[0];
    assert_eq!(
        (e.severity, e.group, &*e.message, e.offset),
        (Severity::Error, Group::Malformed, "Length field value goes past the end of the payload", Some(12))
    );

    // 0x05ff: neither. tshark: "Ethernet Unknown", eth.invalid_lentype 0x05ff, a warning
    // "Invalid length/type: 0x05ff (1535)", the 46 bytes as data.
    let (r, t) = dissect(&hex(&stp.replacen("0026", "05ff", 1)));
    assert_eq!(r.unwrap().unwrap().len(), 46);
    assert!(t.records[0].title.starts_with("Ethernet Unknown, Src: "));
    assert_eq!(fields(&t, "eth.invalid_lentype"), "0x05ff");
    let e = &t.records[0].expert[0];
    assert_eq!((e.severity, &*e.message), (Severity::Warning, "Invalid length/type: 0x05ff (1535)"));
}

#[test]
fn type_zero_is_an_unknown_ethertype_not_a_length() {
    // 60 zero bytes (the malformed fixture all-zeros.pcap): tshark shows "Ethernet II", eth.type
    // 0x0000 "Unknown", and 46 bytes of data.
    let (r, t) = dissect(&[0; 60]);
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.ethertype, p.len()), (Some(0), 46));
    assert_eq!((fields(&t, "eth.type"), fields(&t, "eth.len")), ("0x0000".to_string(), String::new()));
    assert!(t.records[0].title.starts_with("Ethernet II"));
}

#[test]
fn other_arp_shapes_match_tshark() {
    // Hardware type 0x1234: tshark prints arp.hw.type 4660, arp.src.hw / arp.dst.hw (not _mac).
    let (r, t) = dissect(&hex("00005e00530200005e0053010806123408000604000100005e005301c0000201000000000000c0000202"));
    assert_eq!(r.unwrap().unwrap().len(), 28);
    assert_eq!(fields(&t, "arp.hw.type"), "4660");
    assert_eq!(fields(&t, "arp.src.hw"), "00005e005301");
    assert_eq!(fields(&t, "arp.dst.proto_ipv4"), "192.0.2.2");
    // IPv6 protocol addresses: arp.src.proto / arp.dst.proto, a 52-byte packet.
    let (r, t) = dissect(&hex(
        "00005e00530200005e0053010806000186dd0610000200005e00530120010db800000000000000000000000100005e005302\
         20010db8000000000000000000000002",
    ));
    assert_eq!(r.unwrap().unwrap().len(), 52);
    assert_eq!(fields(&t, "arp.src.proto"), "20010db8000000000000000000000001");
    assert_eq!(fields(&t, "arp.dst.hw_mac"), "00:00:5e:00:53:02");
    // An announcement: tshark adds arp.isgratuitous 1 and arp.isannouncement 1.
    let (_, t) = dissect(&hex("00005e00530200005e0053010806000108000604000100005e005301c0000201000000000000c0000201"));
    assert_eq!((fields(&t, "arp.isgratuitous"), fields(&t, "arp.isannouncement")), ("1".into(), "1".into()));
    assert_eq!(t.records[1].title, "Address Resolution Protocol (ARP Announcement)");
}

#[test]
fn cut_short_frames_are_errors_at_the_byte_where_they_end() {
    let (r, t) = dissect(&hex("00005e0053020000"));
    let e = r.unwrap_err();
    assert_eq!((e.layer, e.offset), (Some(LayerId::DataLink), Some(8)));
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
    assert!(t.records.is_empty());
    // A tag cut short: the eth record, then the error.
    let (r, t) = dissect(&hex("00005e00530200005e0053018100000708"));
    assert_eq!(r.unwrap_err().offset, Some(17));
    assert_eq!(t.records.len(), 1);
    // An ARP packet cut short (tagged, 24 of 28 bytes; tshark shows the fixed part, then
    // "Malformed Packet"): eth, vlan, the fixed fields, and an error at byte 42, its end.
    let (r, t) = dissect(&hex("00005e00530200005e005301810000070806000108000604000100005e005301c0000201000000000000"));
    let e = r.unwrap_err();
    assert_eq!((e.layer, e.offset), (Some(LayerId::DataLink), Some(42)));
    assert_eq!(fields(&t, "arp.opcode"), "1");
    assert_eq!(fields(&t, "vlan.etype"), "0x0806");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_in_capture_mode(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (r, t) = dissect(&bytes);
        match r {
            Ok(Some(p)) => {
                let (payload, meta) = p.into_bytes(LayerId::DataLink).unwrap();
                prop_assert!(meta.offset + payload.len() <= bytes.len());
                prop_assert_eq!(&bytes[meta.offset..meta.offset + payload.len()], &payload[..]);
            }
            Ok(None) => prop_assert!(false, "capture mode always passes something up"),
            Err(e) => {
                prop_assert_eq!(e.layer, Some(LayerId::DataLink));
                prop_assert!(e.offset.is_some_and(|o| o <= bytes.len()));
            }
        }
        for r in &t.records {
            prop_assert!(r.header.end <= bytes.len().max(14));
        }
    }

    #[test]
    fn trailer_never_panics(frame_len in 0usize..2000, bytes in proptest::collection::vec(any::<u8>(), 0..100), tagged in any::<bool>()) {
        let t = trailer(frame_len, &bytes, tagged, None);
        let total: usize = t.fields.iter().filter_map(|f| match &f.value {
            Value::Bytes(b) => Some(b.len()),
            Value::Hex { .. } => Some(4),
            _ => None,
        }).sum();
        prop_assert_eq!(total, bytes.len());
    }
}
