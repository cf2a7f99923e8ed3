//! Capture-mode tests: segments from a real capture (socat across a veth pair, offloaded
//! checksums and all) with the values tshark 4.0.17 printed for them, hand-made segments for the
//! sequence analysis, the bounds, and arbitrary segments that must never panic.

use super::capture::{CaptureConfig, Lru, Piece, TransportCapture};
use super::*;
use crate::error::ErrorKind;
use crate::trace::{Group, Severity, Value};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
/// Ethernet + IPv4 without options.
const AT: usize = 34;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn pdu(proto: u8, src: IpAddr, dst: IpAddr, bytes: Vec<u8>) -> Pdu {
    Pdu {
        data: Data::Bytes(bytes),
        meta: Meta { offset: AT, ip_proto: Some(proto), src_ip: Some(src), dst_ip: Some(dst), ..Meta::default() },
    }
}

/// One frame through the observer at `ms`: what went up and the frame's trace.
fn feed(l4: &mut TransportCapture, ms: u64, p: Pdu) -> (Result<Option<Pdu>>, Context) {
    let mut cx = Context::new(crate::time::Instant::from_nanos(ms * 1_000_000));
    let r = l4.decapsulate(p, &mut cx);
    (r, cx)
}

/// The values of a field in the frame's trace, as tshark -T fields prints them, comma-joined.
fn field(cx: &Context, name: &str) -> String {
    cx.trace.values(name).iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

fn experts(cx: &Context) -> Vec<String> {
    cx.trace.records.iter().flat_map(|r| &r.expert).map(|e| e.message.to_string()).collect()
}

/// Experts other than the checksum's (the capture's checksums were offloaded).
fn seq_experts(cx: &Context) -> Vec<String> {
    experts(cx).into_iter().filter(|m| !m.starts_with("Bad checksum")).collect()
}

fn up_bytes(r: &Result<Option<Pdu>>) -> Option<Vec<u8>> {
    match r {
        Ok(Some(Pdu { data: Data::Bytes(b), .. })) => Some(b.clone()),
        _ => None,
    }
}

fn seg(src: u16, dst: u16, seq: u32, ack: u32, flags: TcpFlags, payload: &[u8]) -> TcpSegment {
    TcpSegment {
        src_port: src,
        dst_port: dst,
        seq,
        ack,
        flags,
        window: 502,
        urgent: 0,
        options: Vec::new(),
        payload: payload.to_vec(),
    }
}

/// A hand-made segment from `src` to `dst` with a correct checksum.
fn tcp_pdu(src: IpAddr, dst: IpAddr, s: TcpSegment) -> Pdu {
    pdu(6, src, dst, s.emit(src, dst).unwrap())
}

const ACK: TcpFlags = TcpFlags::ACK;
const PA: TcpFlags = TcpFlags(0x018);

/// tcp-socat as captured on 192.0.2.1's veth: handshake, 33 bytes of chat lines, FIN both ways.
/// (frame number, from A, TCP bytes)
const SOCAT: [(usize, bool, &str); 8] = [
    (6, true, "a8f40bb87cd57e1800000000a002faf084320000020405b40402080a572a3caf000000000103030a"),
    (7, false, "0bb8a8f492b7874b7cd57e19a012fe8884320000020405b40402080a71280806572a3caf0103030a"),
    (8, true, "a8f40bb87cd57e1992b7874c8010003f842a00000101080a572a3caf71280806"),
    (9, true, "a8f40bb87cd57e1992b7874c8018003f844b00000101080a572a3caf712808064a4f494e20616c6963650a4d53472068656c6c6f2074686572650a4c454156450a"),
    (10, false, "0bb8a8f492b7874c7cd57e3a80100040842a00000101080a71280806572a3caf"),
    (11, true, "a8f40bb87cd57e3a92b7874c8011003f842a00000101080a572a3caf71280806"),
    (12, false, "0bb8a8f492b7874c7cd57e3b80110040842a00000101080a71280807572a3caf"),
    (13, true, "a8f40bb87cd57e3b92b7874d8010003f842a00000101080a572a3cb071280807"),
];

#[test]
fn real_connection_fields_as_tshark_prints_them() {
    let mut l4 = TransportCapture::default();
    // tshark -T fields -e tcp.stream -e tcp.seq -e tcp.seq_raw -e tcp.nxtseq -e tcp.ack
    //   -e tcp.ack_raw -e tcp.len -e tcp.flags -e tcp.options.mss_val
    let want = [
        "0|0|2094366232|1|0|0|0|0x0002|1460",
        "0|0|2461501259|1|1|2094366233|0|0x0012|1460",
        "0|1|2094366233|1|1|2461501260|0|0x0010|",
        "0|1|2094366233|34|1|2461501260|33|0x0018|",
        "0|1|2461501260|1|34|2094366266|0|0x0010|",
        "0|34|2094366266|35|1|2461501260|0|0x0011|",
        "0|1|2461501260|2|35|2094366267|0|0x0011|",
        "0|35|2094366267|35|2|2461501261|0|0x0010|",
    ];
    let names = [
        "tcp.stream",
        "tcp.seq",
        "tcp.seq_raw",
        "tcp.nxtseq",
        "tcp.ack",
        "tcp.ack_raw",
        "tcp.len",
        "tcp.flags",
        "tcp.options.mss_val",
    ];
    let mut ups = Vec::new();
    for ((n, from_a, h), want) in SOCAT.iter().zip(want) {
        let (s, d) = if *from_a { (A, B) } else { (B, A) };
        let (r, cx) = feed(&mut l4, *n as u64, pdu(6, s, d, hex(h)));
        let got: Vec<String> = names.iter().map(|f| field(&cx, f)).collect();
        assert_eq!(got.join("|"), want, "frame {n}");
        ups.push((n, r, cx));
    }
    // The chat lines go up from frame 9, at their frame offset (34 + 32), not detached.
    let (_, r9, _) = &ups[3];
    assert_eq!(up_bytes(r9).unwrap(), b"JOIN alice\nMSG hello there\nLEAVE\n");
    let meta = &r9.as_ref().unwrap().as_ref().unwrap().meta;
    assert_eq!((meta.offset, meta.src_port, meta.dst_port, meta.stream), (66, Some(43252), Some(3000), Some(0)));
    assert!(!meta.detached);
    assert_eq!(Piece::of(meta), Piece::default());
    // Pure ACKs send nothing up; each FIN ends its direction with an empty, marked piece.
    assert!(up_bytes(&ups[2].1).is_none());
    for i in [5, 6] {
        let p = ups[i].1.as_ref().unwrap().as_ref().unwrap();
        assert!(p.is_empty());
        assert_eq!(Piece::of(&p.meta), Piece { gap_before: false, fin: true });
    }
    // The expert items tshark gives (its checksum check is off by default; ours is not).
    assert_eq!(seq_experts(&ups[0].2), ["Connection establish request (SYN): server port 3000"]);
    assert_eq!(seq_experts(&ups[1].2), ["Connection establish acknowledge (SYN+ACK): server port 3000"]);
    assert_eq!(seq_experts(&ups[5].2), ["Connection finish (FIN)", "This frame initiates the connection closing"]);
    assert_eq!(seq_experts(&ups[6].2), ["Connection finish (FIN)", "This frame undergoes the connection closing"]);
}

#[test]
fn offloaded_checksums_are_reported_and_the_data_still_goes_up() {
    let mut l4 = TransportCapture::default();
    let (_, _, h) = SOCAT[3];
    let (r, cx) = feed(&mut l4, 0, pdu(6, A, B, hex(h)));
    assert_eq!(up_bytes(&r).unwrap().len(), 33);
    let rec = &cx.trace.records[0];
    assert!(!rec.checks[0].ok);
    let e = rec.expert.iter().find(|e| e.group == Group::Checksum).unwrap();
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(e.offset, Some(AT + 16));
    // 0x844b is the pseudo-header's sum alone (192.0.2.1 → 192.0.2.2, TCP, 65 bytes).
    assert!(e.message.starts_with("Bad checksum [should be 0x"), "{}", e.message);
    assert!(e.message.contains("0x844b is the pseudo-header's sum alone"), "{}", e.message);
    // A checksum damaged some other way gets the general hint.
    let mut b = tcp_pdu(A, B, seg(1, 2, 5, 6, PA, b"x"));
    if let Data::Bytes(v) = &mut b.data {
        v[16] ^= 0x55;
    }
    let (r, cx) = feed(&mut l4, 1, b);
    assert!(up_bytes(&r).is_some());
    assert!(experts(&cx).iter().any(|m| m.contains("outgoing packets captured on the sending host")));
}

#[test]
fn refused_connection_rst_as_tshark_shows_it() {
    let mut l4 = TransportCapture::default();
    let syn = "e4f800098629efee00000000a002faf084320000020405b40402080a07a35537000000000103030a";
    let rst = "0009e4f8000000008629efef50140000d0b10000";
    let _ = feed(&mut l4, 0, pdu(6, A, B, hex(syn)));
    let (r, cx) = feed(&mut l4, 1, pdu(6, B, A, hex(rst)));
    // tshark: tcp.seq 1, tcp.seq_raw 0, tcp.ack 1, tcp.len 0, flags 0x0014.
    assert_eq!(field(&cx, "tcp.seq"), "1");
    assert_eq!(field(&cx, "tcp.seq_raw"), "0");
    assert_eq!(field(&cx, "tcp.ack"), "1");
    assert_eq!(field(&cx, "tcp.flags"), "0x0014");
    assert_eq!(seq_experts(&cx), ["Connection reset (RST)"]);
    let e = &cx.trace.records[0].expert[0];
    assert_eq!((e.severity, e.group), (Severity::Warning, Group::Sequence));
    assert!(matches!(r, Ok(None)));
}

#[test]
fn capture_starting_mid_stream_counts_from_the_first_segment_seen() {
    // tshark: the first segment's seq is 1 (base = seq − 1); the peer's base is the ack − 1.
    let mut l4 = TransportCapture::default();
    let (r, cx) = feed(&mut l4, 0, tcp_pdu(A, B, seg(40001, 3000, 1000, 5000, PA, &[b'a'; 10])));
    assert_eq!(
        (field(&cx, "tcp.seq"), field(&cx, "tcp.ack"), field(&cx, "tcp.nxtseq")),
        ("1".into(), "1".into(), "11".into())
    );
    assert_eq!(up_bytes(&r).unwrap(), [b'a'; 10]);
    let (_, cx) = feed(&mut l4, 1, tcp_pdu(B, A, seg(3000, 40001, 5100, 1010, ACK, b"")));
    assert_eq!((field(&cx, "tcp.seq"), field(&cx, "tcp.ack")), ("101".into(), "11".into()));
    // Without ACK, tcp.ack is the raw field, with tshark's note when it is not zero.
    let (_, cx) = feed(&mut l4, 2, tcp_pdu(A, B, seg(9, 10, 1000, 777, TcpFlags::SYN, b"")));
    assert_eq!(field(&cx, "tcp.ack"), "777");
    assert_eq!(
        seq_experts(&cx),
        [
            "The acknowledgment number field is nonzero while the ACK flag is not set",
            "Connection establish request (SYN): server port 10"
        ]
    );
}

#[test]
fn retransmissions_are_noted_and_not_passed_up_twice() {
    let mut l4 = TransportCapture::default();
    let first = seg(40001, 3000, 1000, 5000, PA, &[b'a'; 10]);
    let _ = feed(&mut l4, 0, tcp_pdu(A, B, first.clone()));
    let _ = feed(&mut l4, 1, tcp_pdu(B, A, seg(3000, 40001, 5100, 1010, ACK, b"")));
    let (r, cx) = feed(&mut l4, 2000, tcp_pdu(A, B, first));
    assert!(matches!(r, Ok(None)));
    // Already acknowledged: spurious, as tshark says.
    assert_eq!(
        seq_experts(&cx),
        ["This frame is a (suspected) spurious retransmission", "This frame is a (suspected) retransmission"]
    );
    // A gap: the data after it goes up at once, marked; the late segment is a retransmission.
    let (r, cx) = feed(&mut l4, 3000, tcp_pdu(A, B, seg(40001, 3000, 1020, 5000, PA, &[b'c'; 10])));
    assert_eq!(seq_experts(&cx), ["Previous segment(s) not captured (common at capture start)"]);
    let p = r.unwrap().unwrap();
    assert_eq!(Piece::of(&p.meta), Piece { gap_before: true, fin: false });
    let (r, cx) = feed(&mut l4, 4000, tcp_pdu(A, B, seg(40001, 3000, 1010, 5000, PA, &[b'b'; 10])));
    assert!(matches!(r, Ok(None)));
    assert_eq!(seq_experts(&cx), ["This frame is a (suspected) retransmission"]);
    // One byte of overlap on a longer segment is new data (tshark's zero-window-probe rule).
    let (r, _) = feed(&mut l4, 5000, tcp_pdu(A, B, seg(40001, 3000, 1029, 5000, PA, &[b'd'; 5])));
    assert_eq!(up_bytes(&r).unwrap(), [b'd'; 5]);
}

#[test]
fn a_new_syn_on_the_same_ports_starts_a_new_stream() {
    let mut l4 = TransportCapture::default();
    let _ = feed(&mut l4, 0, tcp_pdu(A, B, seg(40001, 3000, 100, 0, TcpFlags::SYN, b"")));
    // The same SYN again is a retransmission in stream 0.
    let (_, cx) = feed(&mut l4, 1000, tcp_pdu(A, B, seg(40001, 3000, 100, 0, TcpFlags::SYN, b"")));
    assert_eq!(field(&cx, "tcp.stream"), "0");
    let (_, cx) = feed(&mut l4, 2000, tcp_pdu(A, B, seg(40001, 3000, 90000, 0, TcpFlags::SYN, b"")));
    assert_eq!(field(&cx, "tcp.stream"), "1");
    assert!(seq_experts(&cx)
        .contains(&"A new tcp session is started with the same ports as an earlier session in this trace".into()));
    // The other direction now belongs to stream 1 as well.
    let (_, cx) = feed(&mut l4, 2001, tcp_pdu(B, A, seg(3000, 40001, 7, 90001, TcpFlags(0x012), b"")));
    assert_eq!((field(&cx, "tcp.stream"), field(&cx, "tcp.ack")), ("1".into(), "1".into()));
}

#[test]
fn tcp_and_udp_streams_are_numbered_apart_in_order_of_appearance() {
    let mut l4 = TransportCapture::default();
    let udp = |sp: u16, dp: u16, src, dst| {
        let d = UdpDatagram { src_port: sp, dst_port: dp, payload: b"hi".to_vec() };
        pdu(17, src, dst, d.emit(src, dst).unwrap())
    };
    let (_, cx) = feed(&mut l4, 0, udp(5000, 53, A, B));
    assert_eq!(field(&cx, "udp.stream"), "0");
    let (_, cx) = feed(&mut l4, 1, tcp_pdu(A, B, seg(1, 2, 5, 6, PA, b"x")));
    assert_eq!(field(&cx, "tcp.stream"), "0");
    let (r, cx) = feed(&mut l4, 2, udp(53, 5000, B, A));
    assert_eq!(field(&cx, "udp.stream"), "0");
    let p = r.unwrap().unwrap();
    assert_eq!((p.meta.stream, p.meta.src_port, p.meta.dst_port, p.meta.offset), (Some(0), Some(53), Some(5000), 42));
    let (_, cx) = feed(&mut l4, 3, udp(5001, 53, A, B));
    assert_eq!(field(&cx, "udp.stream"), "1");
    let (_, cx) = feed(&mut l4, 4, udp(5001, 53, A6, B6));
    assert_eq!(field(&cx, "udp.stream"), "2");
    assert_eq!(l4.conversations(), (1, 3));
    // A header quoted in an ICMP error finds its conversation.
    assert_eq!(l4.quoted_stream(17, (A, 5001), (B, 53)), Some(1));
    assert_eq!(l4.quoted_stream(17, (A, 9), (B, 9)), Some(3));
    assert_eq!(l4.quoted_stream(6, (B, 2), (A, 1)), Some(0));
    assert_eq!(l4.quoted_stream(1, (A, 0), (B, 0)), None);
}

#[test]
fn udp_capture_mode_reports_and_goes_on() {
    let mut l4 = TransportCapture::default();
    // A zero checksum over IPv6 is refused by a host; here it is reported and the data goes up.
    let mut b = UdpDatagram { src_port: 1, dst_port: 2, payload: b"data".to_vec() }.emit(A6, B6).unwrap();
    b[6] = 0;
    b[7] = 0;
    let (r, cx) = feed(&mut l4, 0, pdu(17, A6, B6, b));
    assert_eq!(up_bytes(&r).unwrap(), b"data");
    assert!(experts(&cx)[0].starts_with("Illegal checksum value (0)"));
    // The length field larger than the datagram: the fields tshark shows, then the error.
    let mut b = UdpDatagram { src_port: 5000, dst_port: 4000, payload: b"abcd".to_vec() }.emit(A, B).unwrap();
    b[4..6].copy_from_slice(&100u16.to_be_bytes());
    let (r, cx) = feed(&mut l4, 1, pdu(17, A, B, b.clone()));
    // tshark: the fields, "Bad length value 100 > IP payload length", and the 4 bytes there as
    // the payload.
    let p = r.unwrap().unwrap();
    assert_eq!((bytes_of(&p), p.meta.offset, p.meta.dst_port), (b"abcd".to_vec(), AT + 8, Some(4000)));
    let e = &cx.trace.records[0].expert[0];
    assert!(e.message.starts_with("Bad length value 100 > IP payload length"), "{}", e.message);
    assert_eq!((e.severity, e.group, e.offset), (Severity::Error, Group::Malformed, Some(AT + 4)));
    let got: Vec<String> = ["udp.srcport", "udp.dstport", "udp.length", "udp.checksum", "udp.stream"]
        .iter()
        .map(|f| field(&cx, f))
        .collect();
    assert_eq!(got[..3], ["5000", "4000", "100"]);
    assert_eq!(got[4], "1");
    // A length under 8: no checksum, no stream (as tshark).
    b[4..6].copy_from_slice(&4u16.to_be_bytes());
    let (r, cx) = feed(&mut l4, 2, pdu(17, A, B, b));
    assert!(r.is_err());
    assert_eq!(
        (field(&cx, "udp.length"), field(&cx, "udp.stream"), field(&cx, "udp.checksum")),
        ("4".into(), "".into(), "".into())
    );
    // Not TCP or UDP, or no addresses: errors naming L4.
    let e = l4.decapsulate(pdu(1, A, B, vec![0; 8]), &mut Context::default()).unwrap_err();
    assert_eq!(e.layer, Some(LayerId::Transport));
    let mut p = pdu(17, A, B, vec![0; 8]);
    p.meta.src_ip = None;
    assert!(l4.decapsulate(p, &mut Context::default()).is_err());
}

#[test]
fn bogus_tcp_headers_show_what_tshark_shows_then_fail() {
    let mut l4 = TransportCapture::default();
    let mut b = seg(40000, 80, 1, 1, ACK, b"hello").emit(A, B).unwrap();
    b[12] = 0x30; // data offset 3
    let (r, cx) = feed(&mut l4, 0, pdu(6, A, B, b));
    assert!(matches!(&r, Err(e) if e.offset == Some(AT + 12)));
    // tshark: tcp.stream 0, tcp.len 13, tcp.seq 1, tcp.seq_raw 1, tcp.hdr_len 12, no flags.
    let names = ["tcp.srcport", "tcp.stream", "tcp.len", "tcp.seq", "tcp.seq_raw", "tcp.hdr_len", "tcp.flags"];
    let got: Vec<String> = names.iter().map(|f| field(&cx, f)).collect();
    assert_eq!(got, ["40000", "0", "13", "1", "1", "12", ""]);
    // Data offset 15 with 20 bytes: the fixed header's fields, no tcp.len.
    let mut b = seg(40000, 80, 1, 1, ACK, b"").emit(A, B).unwrap();
    b[12] = 0xf0;
    let (r, cx) = feed(&mut l4, 1, pdu(6, A, B, b));
    assert!(matches!(r, Err(Error { kind: ErrorKind::Truncated { .. }, .. })));
    assert_eq!(
        (field(&cx, "tcp.hdr_len"), field(&cx, "tcp.flags"), field(&cx, "tcp.len")),
        ("60".into(), "0x0010".into(), "".into())
    );
    // Ten bytes: the ports only.
    let b = seg(40000, 80, 1, 1, ACK, b"").emit(A, B).unwrap();
    let (r, cx) = feed(&mut l4, 2, pdu(6, A, B, b[..10].to_vec()));
    assert!(r.is_err());
    assert_eq!((field(&cx, "tcp.dstport"), field(&cx, "tcp.stream")), ("80".into(), "".into()));
    // Three bytes: nothing to show.
    let (r, _) = feed(&mut l4, 3, pdu(6, A, B, b[..3].to_vec()));
    assert!(r.is_err());
}

#[test]
fn a_malformed_option_keeps_the_options_before_it() {
    // MSS, then a timestamps option of length 3: tshark still shows tcp.options.mss_val 1460.
    let mut l4 = TransportCapture::default();
    let mut s = seg(40001, 80, 1, 1, PA, b"GET / HTTP/1.1\r\n");
    s.options = vec![TcpOption::Mss(1460), TcpOption::Unknown { kind: 30, data: vec![0, 0] }];
    let mut b = s.emit(A, B).unwrap();
    // Turn the unknown option into kind 8 (timestamps) with length 3.
    b[24] = 8;
    b[25] = 3;
    let sum = checksum::compute(A, B, 6, &b, 16).unwrap();
    b[16..18].copy_from_slice(&sum.to_be_bytes());
    let (r, cx) = feed(&mut l4, 0, pdu(6, A, B, b));
    assert_eq!(up_bytes(&r).unwrap(), b"GET / HTTP/1.1\r\n");
    assert_eq!(field(&cx, "tcp.options.mss_val"), "1460");
    let ex = experts(&cx);
    assert!(ex.contains(&"The non-SYN packet does contain a MSS option".to_string()));
    assert!(ex.iter().any(|m| m.contains("option 8")), "{ex:?}");
}

#[test]
fn out_of_order_mode_holds_then_delivers_detached() {
    let cfg = CaptureConfig { reassemble_out_of_order: true, ..CaptureConfig::default() };
    let mut l4 = TransportCapture::new(cfg);
    let _ = feed(&mut l4, 0, tcp_pdu(A, B, seg(1, 2, 100, 0, TcpFlags::SYN, b"")));
    let (r, _) = feed(&mut l4, 1, tcp_pdu(A, B, seg(1, 2, 101, 1, PA, b"abc")));
    assert_eq!(up_bytes(&r).unwrap(), b"abc");
    let (r, _) = feed(&mut l4, 2, tcp_pdu(A, B, seg(1, 2, 107, 1, PA, b"ghi")));
    assert!(matches!(r, Ok(None)));
    assert!(l4.holding());
    let (r, _) = feed(&mut l4, 3, tcp_pdu(A, B, seg(1, 2, 104, 1, PA, b"def")));
    let p = r.unwrap().unwrap();
    assert_eq!(bytes_of(&p), b"defghi");
    assert!(p.meta.detached);
    assert!(!l4.holding());
    // A FIN beyond a gap ends the direction once the gap is filled.
    let _ = feed(&mut l4, 4, tcp_pdu(A, B, seg(1, 2, 113, 1, TcpFlags(0x011), b"")));
    let (r, _) = feed(&mut l4, 5, tcp_pdu(A, B, seg(1, 2, 110, 1, PA, b"jkl")));
    let p = r.unwrap().unwrap();
    assert_eq!((bytes_of(&p), Piece::of(&p.meta).fin), (b"jkl".to_vec(), true));
}

fn bytes_of(p: &Pdu) -> Vec<u8> {
    match &p.data {
        Data::Bytes(b) => b.clone(),
        Data::Signal(_) => Vec::new(),
    }
}

#[test]
fn out_of_order_mode_gives_up_a_gap_when_the_cap_is_hit() {
    let cfg = CaptureConfig { reassemble_out_of_order: true, max_held_total: 2500, ..CaptureConfig::default() };
    let mut l4 = TransportCapture::new(cfg);
    let _ = feed(&mut l4, 0, tcp_pdu(A, B, seg(1, 2, 1000, 0, PA, &[0; 10])));
    // 1010..1020 never comes; 2 × 1000 bytes are held, the third exceeds the 2500-byte budget.
    for (i, s) in [1020u32, 2020].iter().enumerate() {
        let (r, _) = feed(&mut l4, 1 + i as u64, tcp_pdu(A, B, seg(1, 2, *s, 0, PA, &[1; 1000])));
        assert!(matches!(r, Ok(None)));
    }
    let (r, cx) = feed(&mut l4, 3, tcp_pdu(A, B, seg(1, 2, 3020, 0, PA, &[2; 1000])));
    let p = r.unwrap().unwrap();
    assert_eq!(bytes_of(&p).len(), 3000);
    assert_eq!(Piece::of(&p.meta), Piece { gap_before: true, fin: false });
    assert!(experts(&cx)
        .iter()
        .any(|m| m.starts_with("Previous segment(s) not captured: gave up waiting for seq 11..21")));
    // The end of the capture reports what is still held.
    let _ = feed(&mut l4, 4, tcp_pdu(A, B, seg(1, 2, 5000, 0, PA, &[3; 10])));
    let mut cx = Context::default();
    l4.finish(&mut cx).unwrap();
    assert_eq!(cx.trace.records.len(), 1);
    assert!(cx.trace.records[0].expert[0].message.starts_with("The capture ended with 10 bytes held after a gap"));
}

#[test]
fn the_conversation_table_is_bounded_and_forgets_closed_ones_first() {
    let mut l4 = TransportCapture::new(CaptureConfig { max_conversations: 2, ..CaptureConfig::default() });
    let _ = feed(&mut l4, 0, tcp_pdu(A, B, seg(1, 80, 10, 0, TcpFlags::SYN, b"")));
    let _ = feed(&mut l4, 1, tcp_pdu(A, B, seg(2, 80, 10, 0, TcpFlags::SYN, b"")));
    // Stream 1 is reset: closed, so it goes first although stream 0 is older.
    let _ = feed(&mut l4, 2, tcp_pdu(B, A, seg(80, 2, 0, 11, TcpFlags(0x014), b"")));
    let (_, cx) = feed(&mut l4, 3, tcp_pdu(A, B, seg(3, 80, 10, 0, TcpFlags::SYN, b"")));
    assert_eq!(field(&cx, "tcp.stream"), "2");
    let note = experts(&cx).into_iter().find(|m| m.starts_with("Conversation table full")).unwrap();
    assert!(note.contains("TCP stream 1 (192.0.2.1:2 ↔ 192.0.2.2:80, closed)"), "{note}");
    // Stream 0 is still known; the next new one evicts it (the least recently used open one).
    let (_, cx) = feed(&mut l4, 4, tcp_pdu(A, B, seg(1, 80, 11, 0, PA, b"x")));
    assert_eq!(field(&cx, "tcp.stream"), "0");
    let (_, cx) = feed(&mut l4, 5, tcp_pdu(A, B, seg(4, 80, 10, 0, TcpFlags::SYN, b"")));
    assert!(experts(&cx).iter().any(|m| m.contains("stream 2 (") && m.contains("not closed")));
    assert_eq!(l4.conversations(), (2, 0));
    // Port 2 again is a new conversation.
    let (_, cx) = feed(&mut l4, 6, tcp_pdu(A, B, seg(2, 80, 50, 0, PA, b"y")));
    assert_eq!(field(&cx, "tcp.stream"), "4");
}

#[test]
fn a_single_capture_mode_transport_observes_one_direction() {
    let cfg = TransportConfig {
        kind: TransportKind::Tcp,
        local_ip: B,
        local_port: 0,
        remote_ip: A,
        remote_port: 0,
        tcp: TcpParams { snd_nxt: 0, rcv_nxt: 0, window: 0, mss: 0, timestamps: false, ts_recent: 0 },
        capture: true,
    };
    let mut t = Transport::new(cfg.clone()).unwrap();
    let mut cx = Context::default();
    // Any port, any window: the data goes up.
    let up = t.decapsulate(tcp_pdu(A, B, seg(7, 9, 1, 1, PA, b"hello")), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&up), b"hello");
    assert!(t.finish(&mut cx).is_ok());
    let mut u = Transport::new(TransportConfig { kind: TransportKind::Udp, ..cfg.clone() }).unwrap();
    let d = UdpDatagram { src_port: 7, dst_port: 9, payload: b"x".to_vec() }.emit(A, B).unwrap();
    assert!(u.decapsulate(pdu(17, A, B, d), &mut cx).unwrap().is_some());
    let mut i = Transport::new(TransportConfig { kind: TransportKind::Icmp, ..cfg }).unwrap();
    assert!(i.decapsulate(pdu(1, A, B, vec![1, 2]), &mut cx).unwrap().is_some());
    assert!(TransportCapture::default().encapsulate(Pdu::bytes(vec![]), &mut cx).is_err());
}

#[test]
fn analysis_experts_match_tshark_on_a_hand_made_exchange() {
    // The same segments and times as a pcap checked against tshark 4.0.17's expert items.
    let mut l4 = TransportCapture::default();
    let mut t = 0u64;
    let mut step = |us: u64, from_a: bool, s: TcpSegment| {
        t += us;
        let (src, dst) = if from_a { (A, B) } else { (B, A) };
        let mut cx = Context::new(crate::time::Instant::from_nanos(t * 1000));
        let _ = l4.decapsulate(tcp_pdu(src, dst, s), &mut cx);
        seq_experts(&cx).join(",")
    };
    let w = |mut s: TcpSegment, win: u16| {
        s.window = win;
        s
    };
    let (c, s) = (41000, 3000);
    let syn = TcpFlags::SYN;
    assert!(step(0, true, w(seg(c, s, 100, 0, syn, b""), 64240)).starts_with("Connection establish request"));
    step(1000, false, w(seg(s, c, 900, 101, TcpFlags(0x012), b""), 65160));
    assert_eq!(step(1000, true, seg(c, s, 101, 901, ACK, b"")), "");
    step(10000, true, seg(c, s, 101, 901, PA, &[1; 100]));
    step(1000, false, w(seg(s, c, 901, 201, ACK, b""), 509));
    step(1000, true, seg(c, s, 201, 901, PA, &[2; 100]));
    step(1000, true, seg(c, s, 301, 901, PA, &[3; 100]));
    for n in 1..=3 {
        assert_eq!(step(1000, false, w(seg(s, c, 901, 201, ACK, b""), 509)), format!("Duplicate ACK (#{n})"));
    }
    assert_eq!(
        step(2000, true, seg(c, s, 201, 901, PA, &[2; 100])),
        "This frame is a (suspected) fast retransmission,This frame is a (suspected) retransmission"
    );
    step(1000, false, w(seg(s, c, 901, 401, ACK, b""), 509));
    assert_eq!(step(1000, false, w(seg(s, c, 901, 401, ACK, b""), 600)), "TCP window update");
    assert_eq!(step(500_000, true, seg(c, s, 400, 901, ACK, b"")), "TCP keep-alive segment");
    assert_eq!(step(1000, false, w(seg(s, c, 901, 401, ACK, b""), 600)), "ACK to a TCP keep-alive segment");
    assert_eq!(step(1000, false, w(seg(s, c, 901, 401, ACK, b""), 0)), "TCP Zero Window segment");
    assert_eq!(step(500_000, true, seg(c, s, 401, 901, ACK, b"q")), "TCP Zero Window Probe");
    assert_eq!(
        step(1000, false, w(seg(s, c, 901, 401, ACK, b""), 0)),
        "TCP Zero Window segment,ACK to a TCP Zero Window Probe"
    );
    assert_eq!(step(1000, false, w(seg(s, c, 901, 401, ACK, b""), 600)), "TCP window update");
    assert_eq!(step(1000, true, seg(c, s, 401, 901, PA, &[4; 10])), "");
    assert_eq!(
        step(500, true, seg(c, s, 421, 901, PA, &[5; 10])),
        "Previous segment(s) not captured (common at capture start)"
    );
    assert_eq!(step(500, true, seg(c, s, 411, 901, PA, &[6; 10])), "This frame is a (suspected) out-of-order segment");
    assert_eq!(step(1000, false, w(seg(s, c, 901, 431, ACK, b""), 600)), "");
    assert_eq!(
        step(1000, false, w(seg(s, c, 901, 600, ACK, b""), 600)),
        "ACKed segment that wasn't captured (common at capture start)"
    );
}

#[test]
fn lru_orders_by_use() {
    let mut t: Lru<u32, &str> = Lru::new(2);
    assert!(t.is_empty());
    assert_eq!(t.insert(1, "a"), None);
    assert_eq!(t.insert(2, "b"), None);
    assert_eq!(t.get_mut(&1), Some(&mut "a"));
    assert_eq!(t.insert(3, "c"), Some((2, "b")));
    t.set_closed(&3, true);
    assert_eq!(t.insert(4, "d"), Some((3, "c")));
    t.set_closed(&4, true);
    t.set_closed(&4, false);
    assert_eq!(t.peek(&4), Some(&"d"));
    assert_eq!(t.remove(&1), Some("a"));
    assert_eq!(t.len(), 1);
    assert_eq!(t.values().count(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Arbitrary bytes as a TCP segment or UDP datagram never panic, in either mode.
    #[test]
    fn arbitrary_bytes_never_panic(
        frames in prop::collection::vec((any::<bool>(), any::<bool>(), prop::collection::vec(any::<u8>(), 0..80)), 1..12),
        hold in any::<bool>(),
    ) {
        let mut l4 = TransportCapture::new(CaptureConfig { reassemble_out_of_order: hold, max_conversations: 3, max_held_total: 64 });
        for (i, (tcp, from_a, b)) in frames.into_iter().enumerate() {
            let (s, d) = if from_a { (A, B) } else { (B, A) };
            let mut cx = Context::new(crate::time::Instant::from_nanos(i as u64 * 1_000_000));
            let _ = l4.decapsulate(pdu(if tcp { 6 } else { 17 }, s, d, b), &mut cx);
        }
        let _ = l4.finish(&mut Context::default());
    }

    /// Well-formed segments with arbitrary numbers, flags and payloads (a real conversation's
    /// worst day: reordering, repeats, wraps) never panic, and never pass more bytes up than came in.
    #[test]
    fn arbitrary_segments_never_panic(
        segs in prop::collection::vec(
            (any::<bool>(), 0u32..4000, 0u32..4000, any::<u8>(), 0usize..300, 0u16..3),
            1..40,
        ),
        base in any::<u32>(),
        hold in any::<bool>(),
    ) {
        let mut l4 = TransportCapture::new(CaptureConfig { reassemble_out_of_order: hold, max_conversations: 4, max_held_total: 1500 });
        let mut sent = 0usize;
        let mut up = 0usize;
        for (i, (from_a, seq, ack, flags, len, port)) in segs.into_iter().enumerate() {
            let (s, d) = if from_a { (A, B) } else { (B, A) };
            let (sp, dp) = if from_a { (1000 + port, 80) } else { (80, 1000 + port) };
            let payload = vec![b'x'; len];
            sent += len;
            let sg = seg(sp, dp, base.wrapping_add(seq), base.wrapping_add(ack), TcpFlags(u16::from(flags)), &payload);
            let mut cx = Context::new(crate::time::Instant::from_nanos(i as u64 * 1_000_000));
            if let Ok(Some(p)) = l4.decapsulate(tcp_pdu(s, d, sg), &mut cx) {
                up += p.len();
            }
            for r in &cx.trace.records {
                prop_assert!(r.fields.iter().any(|f| f.name == "tcp.stream"));
            }
        }
        prop_assert!(up <= sent);
        let _ = l4.finish(&mut Context::default());
    }
}

#[test]
fn fields_print_as_values() {
    // tcp.stream and tcp.nxtseq are plain integers, as tshark prints them.
    let mut l4 = TransportCapture::default();
    let (_, cx) = feed(&mut l4, 0, tcp_pdu(A, B, seg(1, 2, 5, 6, PA, b"x")));
    assert_eq!(cx.trace.values("tcp.stream"), [&Value::Uint(0)]);
    assert_eq!(cx.trace.values("tcp.nxtseq"), [&Value::Uint(2)]);
}
