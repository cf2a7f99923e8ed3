//! L4 tests: known bytes (every byte explained from RFC 768 / RFC 9293 / RFC 7323), segmentation
//! and in-order delivery, every error path, and property round trips.

use super::*;
use crate::error::ErrorKind;
use crate::time::Instant;
use crate::trace::Value;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
/// Where L4 sits in an Ethernet + IPv4 frame: 14 + 20.
const AT: usize = 34;

fn params() -> TcpParams {
    TcpParams { snd_nxt: 1001, rcv_nxt: 2000, window: 502, mss: 1460, timestamps: true, ts_recent: 9 }
}

fn cfg(kind: TransportKind, v6: bool) -> TransportConfig {
    let (l, r) = if v6 { (A6, B6) } else { (A4, B4) };
    TransportConfig {
        kind,
        local_ip: l,
        local_port: 51000,
        remote_ip: r,
        remote_port: 3000,
        tcp: params(),
        capture: false,
    }
}

/// The receiver's view of the same connection: addresses, ports and sequence spaces swapped.
fn mirror(c: &TransportConfig) -> TransportConfig {
    TransportConfig {
        kind: c.kind,
        local_ip: c.remote_ip,
        local_port: c.remote_port,
        remote_ip: c.local_ip,
        remote_port: c.local_port,
        tcp: TcpParams { snd_nxt: c.tcp.rcv_nxt, rcv_nxt: c.tcp.snd_nxt, ..c.tcp },
        capture: false,
    }
}

fn cx_at_ms(ms: u64) -> Context {
    Context::new(Instant::from_nanos(ms * 1_000_000))
}

fn bytes(p: &Pdu) -> Vec<u8> {
    match &p.data {
        Data::Bytes(b) => b.clone(),
        Data::Signal(_) => panic!("a signal at L4"),
    }
}

/// A PDU as L3 hands it up: the sender's meta (ip_proto, addresses) and the frame offset.
fn up(p: &Pdu) -> Pdu {
    let mut meta = p.meta.clone();
    meta.offset = AT;
    meta.part = None;
    Pdu { data: p.data.clone(), meta }
}

fn raw_up(b: Vec<u8>, proto: Option<u8>, src: IpAddr, dst: IpAddr) -> Pdu {
    Pdu {
        data: Data::Bytes(b),
        meta: Meta { offset: AT, ip_proto: proto, src_ip: Some(src), dst_ip: Some(dst), ..Meta::default() },
    }
}

fn send(c: &TransportConfig, msg: &[u8], ms: u64) -> (Vec<Pdu>, Context) {
    let mut l4 = Transport::new(c.clone()).unwrap();
    let mut cx = cx_at_ms(ms);
    let out = l4.encapsulate(Pdu::bytes(msg.to_vec()), &mut cx).unwrap();
    (out, cx)
}

fn receive(c: &TransportConfig, p: Pdu) -> (Result<Option<Pdu>>, Context) {
    let mut l4 = Transport::new(mirror(c)).unwrap();
    let mut cx = Context::default();
    let r = l4.decapsulate(p, &mut cx);
    (r, cx)
}

/// RFC 1071 written out independently of the code under test: the 16-bit one's-complement sum.
fn ones_sum(words: impl IntoIterator<Item = u8>) -> u16 {
    let b: Vec<u8> = words.into_iter().collect();
    let mut s: u32 = 0;
    for c in b.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

fn field<'a>(r: &'a Record, name: &str) -> &'a Value {
    &r.field(name).unwrap_or_else(|| panic!("no field {name}")).value
}

// ---------------------------------------------------------------- UDP known bytes

/// 192.0.2.1:51000 → 192.0.2.2:3000, "hello world" (11 bytes).
///
/// RFC 768 checksum, worked by hand (RFC 1071 one's-complement sum of 16-bit words):
/// pseudo-header  c000 + 0201 + c000 + 0202 + 0011 (zero, proto 17) + 0013 (UDP length 19) = 0x1_8427
/// header         c738 (51000) + 0bb8 (3000) + 0013 (19) + 0000 (checksum as zero)        = 0x0_d303
/// data           6865 + 6c6c + 6f20 + 776f + 726c + 6400 ("d" padded with a zero byte)   = 0x2_91cc
/// total 0x4_e8f6; fold the carries: 0xe8f6 + 0x4 = 0xe8fa; complement: 0x1705.
#[test]
fn udp_known_bytes_and_hand_checksum() {
    let (out, cx) = send(&cfg(TransportKind::Udp, false), b"hello world", 0);
    assert_eq!(out.len(), 1);
    let mut want = vec![0xc7, 0x38, 0x0b, 0xb8, 0x00, 0x13, 0x17, 0x05];
    want.extend_from_slice(b"hello world");
    assert_eq!(bytes(&out[0]), want);
    let m = &out[0].meta;
    assert_eq!((m.ip_proto, m.src_ip, m.dst_ip, m.part), (Some(17), Some(A4), Some(B4), None));

    let r = &cx.trace.records[0];
    assert_eq!((&*r.protocol, r.pdu, r.direction), ("udp", PduName::Datagram, Direction::Down));
    assert_eq!(r.title, "User Datagram Protocol, Src Port: 51000, Dst Port: 3000");
    assert_eq!(r.summary, "51000 → 3000 Len=11");
    assert_eq!((r.header.clone(), r.payload_len, r.overhead), (0..8, 11, 8));
    let names: Vec<&str> = r.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(names, ["udp.srcport", "udp.dstport", "udp.length", "udp.checksum"]);
    assert_eq!(field(r, "udp.checksum").to_string(), "0x1705");
    assert_eq!(*field(r, "udp.length"), Value::Uint(19));

    // The independent RFC 1071 sum over pseudo-header + datagram (checksum included) is all ones.
    let mut all = vec![192, 0, 2, 1, 192, 0, 2, 2, 0, 17, 0, 19];
    all.extend(&want);
    assert_eq!(ones_sum(all), 0xffff);

    // And etherparse agrees.
    let h = etherparse::UdpHeader::from_slice(&want).unwrap().0;
    assert_eq!(h.calc_checksum_ipv4_raw([192, 0, 2, 1], [192, 0, 2, 2], b"hello world").unwrap(), 0x1705);
}

#[test]
fn udp_ipv6_checksum_matches_etherparse_and_rfc1071() {
    let (out, _) = send(&cfg(TransportKind::Udp, true), b"hello world", 0);
    let b = bytes(&out[0]);
    let h = etherparse::UdpHeader::from_slice(&b).unwrap().0;
    let (IpAddr::V6(s), IpAddr::V6(d)) = (A6, B6) else { unreachable!() };
    assert_eq!(h.checksum, h.calc_checksum_ipv6_raw(s.octets(), d.octets(), b"hello world").unwrap());
    // RFC 8200 §8.1 pseudo-header: addresses, 32-bit length, 3 zero bytes, next header.
    let mut all = s.octets().to_vec();
    all.extend(d.octets());
    all.extend(19u32.to_be_bytes());
    all.extend([0, 0, 0, 17]);
    all.extend(&b);
    assert_eq!(ones_sum(all), 0xffff);
}

/// RFC 768: "If the computed checksum is zero, it is transmitted as all ones."
#[test]
fn udp_computed_zero_is_sent_as_ffff() {
    // Choose the 2 payload bytes so that the sum of everything else plus them is 0xffff.
    let rest = [192, 0, 2, 1, 192, 0, 2, 2, 0, 17, 0, 10, 0xc7, 0x38, 0x0b, 0xb8, 0, 10];
    let p = 0xffff - ones_sum(rest);
    let payload = p.to_be_bytes();
    let (out, _) = send(&cfg(TransportKind::Udp, false), &payload, 0);
    let b = bytes(&out[0]);
    assert_eq!(&b[6..8], &[0xff, 0xff]);
    // And the receiver accepts 0xffff as the checksum of a datagram whose sum is 0.
    let (r, cx) = receive(&cfg(TransportKind::Udp, false), up(&out[0]));
    assert_eq!(bytes(&r.unwrap().unwrap()), payload);
    assert!(cx.trace.all_checks_ok());
}

// ---------------------------------------------------------------- TCP known bytes

/// 192.0.2.1:51000 → 192.0.2.2:3000, SND.NXT 1001, RCV.NXT 2000, window 502, at t = 5 ms with
/// TS.Recent 9, "hello world". tshark 4.0 shows this segment "Checksum: 0x802a [correct]".
#[test]
fn tcp_known_bytes_with_linux_timestamps() {
    let (out, cx) = send(&cfg(TransportKind::Tcp, false), b"hello world", 5);
    assert_eq!(out.len(), 1);
    #[rustfmt::skip]
    let mut want = vec![
        0xc7, 0x38, 0x0b, 0xb8,             // ports 51000, 3000
        0x00, 0x00, 0x03, 0xe9,             // seq 1001 (SND.NXT)
        0x00, 0x00, 0x07, 0xd0,             // ack 2000 (RCV.NXT)
        0x80, 0x18,                         // data offset 8 (32 bytes); PSH ACK
        0x01, 0xf6,                         // window 502
        0x80, 0x2a,                         // checksum
        0x00, 0x00,                         // urgent pointer
        0x01, 0x01,                         // NOP NOP: align the timestamps (RFC 7323 App. A)
        0x08, 0x0a,                         // kind 8, length 10
        0x00, 0x00, 0x00, 0x05,             // TSval 5 (ms)
        0x00, 0x00, 0x00, 0x09,             // TSecr 9 (TS.Recent)
    ];
    want.extend_from_slice(b"hello world");
    assert_eq!(bytes(&out[0]), want);
    let m = &out[0].meta;
    assert_eq!((m.ip_proto, m.src_ip, m.dst_ip, m.part), (Some(6), Some(A4), Some(B4), None));

    let r = &cx.trace.records[0];
    assert_eq!((&*r.protocol, r.pdu), ("tcp", PduName::Segment));
    assert_eq!(r.title, "Transmission Control Protocol, Src Port: 51000, Dst Port: 3000, Seq: 1, Ack: 1, Len: 11");
    assert_eq!(r.summary, "51000 → 3000 [PSH, ACK] Seq=1 Ack=1 Win=502 Len=11 TSval=5 TSecr=9");
    assert_eq!((r.header.clone(), r.payload_len, r.overhead, r.part), (0..32, 11, 32, None));
    assert_eq!(r.field("tcp.flags").unwrap().shown, "0x018 (PSH, ACK)");
    assert_eq!(field(r, "tcp.flags").to_string(), "0x0018", "the value as tshark -T fields prints it");
    assert_eq!(field(r, "tcp.checksum").to_string(), "0x802a");
    assert_eq!(*field(r, "tcp.seq_raw"), Value::Uint(1001));
    assert_eq!(*field(r, "tcp.ack_raw"), Value::Uint(2000));
    assert_eq!(*field(r, "tcp.hdr_len"), Value::Uint(32));
    assert_eq!(*field(r, "tcp.flags.push"), Value::Bool(true));
    assert_eq!(*field(r, "tcp.flags.ae"), Value::Bool(false));
    assert_eq!(*field(r, "tcp.options.timestamp.tsval"), Value::Uint(5));
    assert_eq!(*field(r, "tcp.options.timestamp.tsecr"), Value::Uint(9));
    assert_eq!(*field(r, "tcp.len"), Value::Uint(11));
    assert_eq!(r.fields.last().unwrap().name, "tcp.len");
    let kinds: Vec<String> =
        r.fields.iter().filter(|f| f.name == "tcp.option_kind").map(|f| f.value.to_string()).collect();
    assert_eq!(kinds, ["1", "1", "8"]);
    let flag_names: Vec<&str> =
        r.fields.iter().filter(|f| f.depth == 1 && f.name.starts_with("tcp.flags.")).map(|f| &*f.name).collect();
    assert_eq!(
        flag_names,
        [
            "tcp.flags.res",
            "tcp.flags.ae",
            "tcp.flags.cwr",
            "tcp.flags.ece",
            "tcp.flags.urg",
            "tcp.flags.ack",
            "tcp.flags.push",
            "tcp.flags.reset",
            "tcp.flags.syn",
            "tcp.flags.fin",
            "tcp.flags.str"
        ]
    );
    assert_eq!(field(r, "tcp.flags.str").to_string(), "·······AP···");

    // etherparse reads the same header and computes the same checksum.
    let (h, rest) = etherparse::TcpHeader::from_slice(&want).unwrap();
    assert_eq!(
        (h.sequence_number, h.acknowledgment_number, h.psh, h.ack, h.window_size),
        (1001, 2000, true, true, 502)
    );
    assert_eq!(rest, b"hello world");
    assert_eq!(h.calc_checksum_ipv4_raw([192, 0, 2, 1], [192, 0, 2, 2], rest).unwrap(), 0x802a);
}

#[test]
fn tcp_without_timestamps_has_a_bare_20_byte_header() {
    let mut c = cfg(TransportKind::Tcp, false);
    c.tcp.timestamps = false;
    let (out, cx) = send(&c, b"hi", 5);
    let b = bytes(&out[0]);
    assert_eq!(b.len(), 22);
    assert_eq!(b[12], 0x50);
    assert!(cx.trace.records[0].field("tcp.options").is_none());
    let mut all = vec![192, 0, 2, 1, 192, 0, 2, 2, 0, 6, 0, 22];
    all.extend(&b);
    assert_eq!(ones_sum(all), 0xffff);
}

/// Linux's SYN options (tcp_options_write): MSS, SACK-permitted packed before the timestamps,
/// NOP, window scale: 02 04 05 b4 | 04 02 08 0a tsval tsecr | 01 03 03 07.
#[test]
fn syn_options_in_linux_order() {
    let o = TcpOption::linux_syn(1460, true, Some((1, 0)), Some(7));
    assert_eq!(
        o,
        [
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps { tsval: 1, tsecr: 0 },
            TcpOption::Nop,
            TcpOption::WindowScale(7)
        ]
    );
    #[rustfmt::skip]
    assert_eq!(options::emit_all(&o).unwrap(), [
        0x02, 0x04, 0x05, 0xb4,
        0x04, 0x02, 0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0,
        0x01, 0x03, 0x03, 0x07,
    ]);
    // Without SACK the timestamps get two NOPs; without timestamps SACK-permitted does.
    assert_eq!(
        options::emit_all(&TcpOption::linux_syn(1460, false, Some((1, 0)), None)).unwrap(),
        [2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0]
    );
    assert_eq!(
        options::emit_all(&TcpOption::linux_syn(536, true, None, Some(0))).unwrap(),
        [2, 4, 2, 0x18, 1, 1, 4, 2, 1, 3, 3, 0]
    );

    // The whole SYN, as tshark 4.0 dissects it: "Checksum: 0xea61 [correct]",
    // "[SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128".
    let syn = TcpSegment {
        src_port: 51000,
        dst_port: 3000,
        seq: 1000,
        ack: 2000,
        flags: TcpFlags::SYN,
        window: 64240,
        urgent: 0,
        options: o,
        payload: vec![],
    };
    let b = syn.emit(A4, B4).unwrap();
    assert_eq!(b.len(), 40);
    assert_eq!((b[12], b[13], &b[16..18]), (0xa0, 0x02, &[0xea, 0x61][..]));
    assert_eq!(syn.seg_len(), 1);
    let rel = RelativeTo { seq: 1000, ack: 1999 };
    assert_eq!(
        syn.summary(Some(rel)),
        "51000 → 3000 [SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=128"
    );
    assert_eq!(syn.title(Some(rel)), "Transmission Control Protocol, Src Port: 51000, Dst Port: 3000, Seq: 0, Len: 0");
    let f = syn.fields(&TcpView::new(&b, 0).unwrap(), None, true);
    let opt = f.iter().find(|f| f.name == "tcp.options").unwrap();
    assert_eq!(
        opt.shown,
        "(20 bytes), Maximum segment size, SACK permitted, Timestamps, No-Operation (NOP), Window scale"
    );
    let ws = f.iter().find(|f| f.name == "tcp.options.wscale").unwrap();
    assert_eq!(ws.shown, "7 (multiply by 128)");
    let (parsed, info) = TcpSegment::parse(&b, A4, B4, 0).unwrap();
    assert_eq!(parsed, syn);
    assert_eq!(info.status, ChecksumStatus::Good { value: 0xea61 });
    assert_eq!(info.header_len, 40);
}

#[test]
fn flags_print_like_tshark() {
    assert_eq!(TcpFlags(0xfff).names(), "FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, AE, Reserved");
    assert_eq!(TcpFlags(0xfff).str(), "RRRACEUAPRSF");
    assert_eq!(TcpFlags(0x111).str(), "···A···A···F");
    assert_eq!(TcpFlags(0).names(), "<None>");
    assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "SYN, ACK");
}

#[test]
fn reserved_and_ae_bits_survive_a_round_trip() {
    let seg = TcpSegment {
        src_port: 1,
        dst_port: 2,
        seq: 3,
        ack: 4,
        flags: TcpFlags(0xfff),
        window: 5,
        urgent: 6,
        options: vec![],
        payload: b"x".to_vec(),
    };
    let b = seg.emit(A4, B4).unwrap();
    assert_eq!((b[12], b[13]), (0x5f, 0xff));
    let (back, info) = TcpSegment::parse(&b, A4, B4, 0).unwrap();
    assert_eq!(back, seg);
    assert!(info.status.is_acceptable());
}

// ---------------------------------------------------------------- segmentation and delivery

#[test]
fn a_3000_byte_sdu_at_mss_1460_is_three_segments() {
    let c = cfg(TransportKind::Tcp, false);
    let msg: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut l4 = Transport::new(c.clone()).unwrap();
    let mut cx = cx_at_ms(7);
    let out = l4.encapsulate(Pdu::bytes(msg.clone()), &mut cx).unwrap();
    assert_eq!(out.len(), 3);
    let segs: Vec<TcpSegment> = out.iter().map(|p| TcpSegment::parse(&bytes(p), A4, B4, 0).unwrap().0).collect();
    assert_eq!(segs.iter().map(|s| s.seq).collect::<Vec<_>>(), [1001, 2461, 3921]);
    assert_eq!(segs.iter().map(|s| s.payload.len()).collect::<Vec<_>>(), [1460, 1460, 80]);
    assert_eq!(
        segs.iter().map(|s| s.flags).collect::<Vec<_>>(),
        [TcpFlags::ACK, TcpFlags::ACK, TcpFlags::ACK | TcpFlags::PSH]
    );
    assert!(segs.iter().all(|s| s.ack == 2000 && s.timestamps() == Some((7, 9))));
    assert_eq!(segs.iter().flat_map(|s| s.payload.clone()).collect::<Vec<_>>(), msg);
    for (i, p) in out.iter().enumerate() {
        assert_eq!(p.meta.part, Some(Part { index: i + 1, count: 3 }));
        assert_eq!(cx.trace.records[i].part, Some(Part { index: i + 1, count: 3 }));
    }
    assert_eq!(cx.trace.records.len(), 3);
    assert_eq!(cx.trace.records[1].summary, "51000 → 3000 [ACK] Seq=1461 Ack=1 Win=502 Len=1460 TSval=7 TSecr=9");
    assert_eq!(l4.snd_nxt(), 1001 + 3000);

    // The next SDU continues from SND.NXT.
    let more = l4.encapsulate(Pdu::bytes(b"next".to_vec()), &mut cx).unwrap();
    assert_eq!(TcpSegment::parse(&bytes(&more[0]), A4, B4, 0).unwrap().0.seq, 4001);
    assert_eq!(more[0].meta.part, None);
}

#[test]
fn an_empty_sdu_is_one_segment_without_data() {
    let c = cfg(TransportKind::Tcp, false);
    let (out, cx) = send(&c, b"", 0);
    assert_eq!(out.len(), 1);
    let (seg, _) = TcpSegment::parse(&bytes(&out[0]), A4, B4, 0).unwrap();
    assert!(seg.payload.is_empty());
    assert_eq!(seg.flags, TcpFlags::ACK | TcpFlags::PSH);
    assert_eq!(cx.trace.records[0].part, None);
    let (r, _) = receive(&c, up(&out[0]));
    assert_eq!(bytes(&r.unwrap().unwrap()), b"");
}

#[test]
fn out_of_order_is_held_and_duplicates_are_dropped() {
    let mut c = cfg(TransportKind::Tcp, false);
    // A window that covers all three segments (RFC 9293 §3.10.7.4: beyond it they are dropped).
    c.tcp.window = 64240;
    let msg: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let (out, _) = send(&c, &msg, 0);
    let mut rx = Transport::new(mirror(&c)).unwrap();
    let mut cx = Context::default();

    // Segment 3, then 2: both beyond RCV.NXT 1001, held.
    assert_eq!(rx.decapsulate(up(&out[2]), &mut cx).unwrap(), None);
    assert_eq!(rx.decapsulate(up(&out[1]), &mut cx).unwrap(), None);
    assert_eq!(rx.rcv_nxt(), 1001);
    assert_eq!(rx.held_bytes(), 1540);
    assert!(cx.trace.records[0].notes.iter().any(|n| n == "out of order: held until seq 1001 (relative 1) arrives"));

    // Segment 1 fills the gap: all 3000 bytes go up at once.
    let got = rx.decapsulate(up(&out[0]), &mut cx).unwrap().unwrap();
    assert_eq!(bytes(&got), msg);
    assert_eq!(got.meta.offset, AT + 32);
    assert_eq!(rx.rcv_nxt(), 4001);
    assert_eq!(rx.held_bytes(), 0);
    assert!(cx.trace.records[2].notes[0].contains("1460 bytes from this segment and 1540 from 2 held segment(s)"));

    // A retransmission of segment 2: wholly before RCV.NXT, a duplicate.
    assert_eq!(rx.decapsulate(up(&out[1]), &mut cx).unwrap(), None);
    assert!(cx.trace.records[3].notes[0].starts_with("duplicate: seq 2461..3921"));
    assert!(cx.trace.all_checks_ok());
    assert_eq!(cx.trace.records.len(), 4);
    assert!(cx.trace.records.iter().all(|r| r.direction == Direction::Up && r.protocol == "tcp"));
}

#[test]
fn overlapping_retransmission_is_trimmed() {
    let mut q = RecvQueue::new(100, 65535);
    assert!(matches!(q.arrive(100, b"abcd"), Arrival::Deliver { .. }));
    // Bytes 102..108: 102 and 103 were delivered already.
    let Arrival::Deliver { data, trimmed, .. } = q.arrive(102, b"cdefgh") else { panic!() };
    assert_eq!((data.as_slice(), trimmed), (&b"efgh"[..], 2));
    assert_eq!(q.rcv_nxt(), 108);
}

#[test]
fn receive_queue_works_across_the_sequence_wrap() {
    let start = u32::MAX - 2;
    let mut q = RecvQueue::new(start, 65535);
    assert_eq!(q.arrive(start.wrapping_add(4), b"efgh"), Arrival::Held { waiting_for: start });
    assert_eq!(q.sack_blocks(), [(1, 5)]);
    let Arrival::Deliver { data, from_held, .. } = q.arrive(start, b"abcd") else { panic!() };
    assert_eq!((data.as_slice(), from_held), (&b"abcdefgh"[..], 1));
    assert_eq!(q.rcv_nxt(), 5);
    assert_eq!(q.arrive(start, b"ab"), Arrival::Duplicate);
}

// ---------------------------------------------------------------- receive acceptability (RFC 9293 §3.10.7.4)

/// The receiver of `cfg(Tcp, false)`: RCV.NXT 1001, RCV.WND 502 (window [1001, 1503)), SND.NXT
/// 2000; relative numbers count from 1000.
fn receiver(window: u16) -> Transport {
    let mut c = mirror(&cfg(TransportKind::Tcp, false));
    c.tcp.window = window;
    Transport::new(c).unwrap()
}

/// A segment from the sender (192.0.2.1:51000) to the receiver, as L3 hands it up.
fn seg_up(seq: u32, ack: u32, flags: TcpFlags, payload: &[u8]) -> Pdu {
    let seg = TcpSegment {
        src_port: 51000,
        dst_port: 3000,
        seq,
        ack,
        flags,
        window: 502,
        urgent: 0,
        options: vec![],
        payload: payload.to_vec(),
    };
    raw_up(seg.emit(A4, B4).unwrap(), Some(6), A4, B4)
}

/// Decapsulate one segment; the result and the notes of its one record.
fn arrive_at(rx: &mut Transport, p: Pdu) -> (Option<Vec<u8>>, Vec<String>) {
    let mut cx = Context::default();
    let got = rx.decapsulate(p, &mut cx).unwrap().map(|d| bytes(&d));
    assert_eq!(cx.trace.records.len(), 1, "one record per segment, delivered or dropped");
    (got, cx.trace.records[0].notes.clone())
}

#[test]
fn acceptability_follows_the_rfc_9293_table() {
    use reassembly::acceptable;
    // SEG.LEN 0, RCV.WND 0: only SEG.SEQ = RCV.NXT.
    assert!(acceptable(100, 0, 100, 0));
    assert!(!acceptable(100, 0, 101, 0));
    assert!(!acceptable(100, 0, 99, 0));
    // SEG.LEN 0, RCV.WND > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND.
    assert!(acceptable(100, 10, 100, 0));
    assert!(acceptable(100, 10, 109, 0));
    assert!(!acceptable(100, 10, 110, 0));
    assert!(!acceptable(100, 10, 99, 0));
    // SEG.LEN > 0, RCV.WND 0: never, not even at RCV.NXT.
    assert!(!acceptable(100, 0, 100, 1));
    assert!(!acceptable(100, 0, 99, 2));
    // SEG.LEN > 0, RCV.WND > 0: the first or the last sequence number in the window.
    assert!(acceptable(100, 10, 100, 5));
    assert!(acceptable(100, 10, 109, 50), "first in, the tail past the window");
    assert!(acceptable(100, 10, 95, 6), "last (100) in: old data plus one new byte");
    assert!(!acceptable(100, 10, 95, 5), "ends at 99: wholly old");
    assert!(!acceptable(100, 10, 110, 1), "starts at the right edge");
    // Starts before RCV.NXT and ends past the right edge: it overlaps the window.
    assert!(acceptable(100, 10, 90, 30));
    // Modulo 2^32: a window across the wrap, and a segment 2^30 or 2^31 + 1 away.
    let nxt = u32::MAX - 4;
    assert!(acceptable(nxt, 10, 4, 1));
    assert!(!acceptable(nxt, 10, 5, 1));
    assert!(acceptable(nxt, 10, nxt.wrapping_sub(3), 4), "last = u32::MAX - 4 = RCV.NXT");
    assert!(!acceptable(100, 65535, 100 + (1 << 30), 1));
    assert!(!acceptable(100, 65535, 100u32.wrapping_add((1 << 31) + 1), 1));
}

#[test]
fn a_segment_2_to_the_30_ahead_is_dropped_not_held() {
    let mut rx = receiver(502);
    let far = 1001 + (1 << 30);
    let (got, notes) = arrive_at(&mut rx, seg_up(far, 2000, TcpFlags::ACK, b"far"));
    assert_eq!(got, None);
    assert_eq!(
        notes,
        ["seq 1073742825..1073742828 (relative 1073741825..1073741828) outside the receive window [1001, 1503): \
          dropped; a real TCP would answer with an ACK"]
    );
    assert_eq!((rx.held_bytes(), rx.holding(), rx.rcv_nxt()), (0, false, 1001));
    // The queue alone refuses it too.
    let mut q = RecvQueue::new(1001, 502);
    assert_eq!(q.arrive(far, b"far"), Arrival::OutsideWindow);
    assert_eq!(q.held_bytes(), 0);
}

#[test]
fn the_window_edges_decide() {
    let mut rx = receiver(502);
    // The last byte of the window: held.
    let (got, notes) = arrive_at(&mut rx, seg_up(1502, 2000, TcpFlags::ACK, b"z"));
    assert_eq!((got, notes[0].as_str()), (None, "out of order: held until seq 1001 (relative 1) arrives"));
    // Starts at the window's right edge: dropped.
    let (got, notes) = arrive_at(&mut rx, seg_up(1503, 2000, TcpFlags::ACK, b"z"));
    assert_eq!(got, None);
    assert_eq!(
        notes,
        ["seq 1503..1504 (relative 503..504) outside the receive window [1001, 1503): dropped; a real TCP would \
          answer with an ACK"]
    );
    // Starts inside, ends past the edge: held whole (the tail is not trimmed).
    let (got, _) = arrive_at(&mut rx, seg_up(1500, 2000, TcpFlags::ACK, b"wxyz"));
    assert_eq!(got, None);
    assert_eq!(rx.held_bytes(), 5);
    // Wholly before RCV.NXT: an old duplicate, unacceptable.
    let (got, notes) = arrive_at(&mut rx, seg_up(990, 2000, TcpFlags::ACK, &[0; 11]));
    assert_eq!(got, None);
    assert_eq!(
        notes,
        ["duplicate: seq 990..1001 (relative -10..1) was delivered already (a retransmission), outside the \
          receive window [1001, 1503): dropped; a real TCP would answer with an ACK"
            .replace("-10", &990u32.wrapping_sub(1000).to_string())]
    );
    // Starts before RCV.NXT, ends past the right edge: its new part goes up, the held data follows.
    let mut msg = vec![7u8; 600];
    msg[499..503].copy_from_slice(b"wxyz");
    let (got, _) = arrive_at(&mut rx, seg_up(1000, 2000, TcpFlags::ACK, &msg));
    assert_eq!(got.unwrap(), &msg[1..]);
    assert_eq!((rx.rcv_nxt(), rx.held_bytes()), (1600, 0));
}

#[test]
fn zero_length_segments_and_a_zero_window() {
    // Window 502: an empty segment anywhere in [1001, 1503) is acceptable, not past it.
    let mut rx = receiver(502);
    let (_, notes) = arrive_at(&mut rx, seg_up(1502, 2000, TcpFlags::ACK, b""));
    assert!(notes[0].starts_with("no data, seq 1502 (relative 502) is not RCV.NXT"), "{notes:?}");
    let (_, notes) = arrive_at(&mut rx, seg_up(1503, 2000, TcpFlags::ACK, b""));
    assert_eq!(
        notes,
        ["seq 1503 (relative 503), no data, outside the receive window [1001, 1503): dropped; a real TCP would \
          answer with an ACK"]
    );
    // Window 0: an empty segment at RCV.NXT is still acceptable (an ACK, a window probe's answer)...
    let mut rx = receiver(0);
    let (got, notes) = arrive_at(&mut rx, seg_up(1001, 2000, TcpFlags::ACK, b""));
    assert_eq!((got, notes), (None, vec!["no data: an acknowledgment only".to_string()]));
    let (got, _) = arrive_at(&mut rx, seg_up(1001, 2000, TcpFlags::ACK | TcpFlags::PSH, b""));
    assert_eq!(got, Some(vec![]));
    // ... one elsewhere is not, and no data is acceptable at all, not even at RCV.NXT.
    let (_, notes) = arrive_at(&mut rx, seg_up(1002, 2000, TcpFlags::ACK, b""));
    assert!(notes[0].contains("outside the receive window [1001, 1001): dropped"), "{notes:?}");
    let (got, notes) = arrive_at(&mut rx, seg_up(1001, 2000, TcpFlags::ACK | TcpFlags::PSH, b"data"));
    assert_eq!(got, None);
    assert_eq!(
        notes,
        ["seq 1001..1005 (relative 1..5) outside the receive window [1001, 1001): dropped; a real TCP would answer \
          with an ACK (the window is zero: only an empty segment at RCV.NXT fits)"]
    );
    assert_eq!((rx.rcv_nxt(), rx.held_bytes()), (1001, 0));
}

#[test]
fn fin_counts_in_the_segment_length() {
    // A bare FIN at RCV.NXT occupies one sequence number: unacceptable in a zero window.
    let mut rx = receiver(0);
    let (_, notes) = arrive_at(&mut rx, seg_up(1001, 2000, TcpFlags::ACK | TcpFlags::FIN, b""));
    assert!(notes[0].starts_with("seq 1001..1002 (relative 1..2) outside the receive window"), "{notes:?}");
    assert_eq!(rx.rcv_nxt(), 1001);
    // Old data re-sent with its FIN at RCV.NXT: acceptable (the FIN is new), the FIN counts.
    let mut rx = receiver(502);
    let (got, notes) = arrive_at(&mut rx, seg_up(998, 2000, TcpFlags::ACK | TcpFlags::FIN, b"old"));
    assert_eq!(got, None);
    assert!(notes[0].starts_with("duplicate: seq 998..1001 (relative"), "{notes:?}");
    assert!(notes[1].starts_with("FIN: the peer has no more data"), "{notes:?}");
    assert_eq!(rx.rcv_nxt(), 1002);
}

#[test]
fn an_unacceptable_rst_is_dropped_unanswered() {
    let mut rx = receiver(502);
    let (got, notes) = arrive_at(&mut rx, seg_up(5000, 2000, TcpFlags::RST, b""));
    assert_eq!(got, None);
    assert_eq!(
        notes,
        ["seq 5000 (relative 4000), no data, outside the receive window [1001, 1503): dropped; an RST is never \
          answered"]
    );
    // In the window, it reaches the RST step.
    let (_, notes) = arrive_at(&mut rx, seg_up(1001, 2000, TcpFlags::RST, b""));
    assert!(notes[0].starts_with("RST on an established connection"), "{notes:?}");
}

#[test]
fn an_ack_of_data_never_sent_is_dropped() {
    // The receiver's SND.NXT is 2000 (relative 1: its ISS is 1999).
    let mut rx = receiver(502);
    let (got, notes) = arrive_at(&mut rx, seg_up(1001, 2001, TcpFlags::ACK | TcpFlags::PSH, b"data"));
    assert_eq!(got, None);
    assert_eq!(
        notes,
        ["ACK 2001 (relative 2) acknowledges data never sent: SND.NXT is 2000 (relative 1): dropped; a real TCP \
          would answer with an ACK (RFC 9293 §3.10.7.4)"]
    );
    assert_eq!((rx.rcv_nxt(), rx.held_bytes()), (1001, 0));
    // SEG.ACK = SND.NXT and an old SEG.ACK are both fine.
    let (got, _) = arrive_at(&mut rx, seg_up(1001, 2000, TcpFlags::ACK | TcpFlags::PSH, b"data"));
    assert_eq!(got.unwrap(), b"data");
    let (got, _) = arrive_at(&mut rx, seg_up(1005, 1990, TcpFlags::ACK | TcpFlags::PSH, b"more"));
    assert_eq!(got.unwrap(), b"more");
    // Across the wrap: SND.NXT u32::MAX - 1, SEG.ACK 3 is ahead of it.
    let mut c = mirror(&cfg(TransportKind::Tcp, false));
    c.tcp.snd_nxt = u32::MAX - 1;
    let mut rx = Transport::new(c).unwrap();
    let (got, notes) = arrive_at(&mut rx, seg_up(1001, 3, TcpFlags::ACK, b"data"));
    assert_eq!(got, None);
    assert!(notes[0].starts_with("ACK 3 (relative 6) acknowledges data never sent"), "{notes:?}");
    let (got, _) = arrive_at(&mut rx, seg_up(1001, u32::MAX - 1, TcpFlags::ACK, b"data"));
    assert_eq!(got.unwrap(), b"data");
}

#[test]
fn duplicates_of_held_data_are_not_stored_again() {
    let mut q = RecvQueue::new(100, 1000);
    assert_eq!(q.arrive(110, b"0123456789"), Arrival::Held { waiting_for: 100 });
    assert_eq!(q.arrive(120, b"abcdefghij"), Arrival::Held { waiting_for: 100 });
    // 110..120 again, and 112..127 across both held segments: every byte is held already.
    assert_eq!(q.arrive(110, b"0123456789"), Arrival::DuplicateOfHeld { waiting_for: 100 });
    assert_eq!(q.arrive(112, b"23456789abcdefg"), Arrival::DuplicateOfHeld { waiting_for: 100 });
    assert_eq!((q.held_bytes(), q.held_segments()), (20, 2));
    // 105..115 brings 5 new bytes: stored whole (10 bytes counted).
    assert_eq!(q.arrive(105, b"vwxyz01234"), Arrival::Held { waiting_for: 100 });
    assert_eq!((q.held_bytes(), q.held_segments()), (30, 3));
    assert_eq!(q.sack_blocks(), [(105, 130)]);
    // 140..150 beyond a gap stays held when 100..105 fills the first gap.
    assert_eq!(q.arrive(140, b"KLMNOPQRST"), Arrival::Held { waiting_for: 100 });
    let Arrival::Deliver { data, own, from_held, trimmed } = q.arrive(100, b"abcde") else { panic!() };
    assert_eq!(data, b"abcdevwxyz0123456789abcdefghij");
    assert_eq!((own, from_held, trimmed), (5, 3, 0));
    assert_eq!((q.rcv_nxt(), q.held_bytes(), q.held_segments()), (130, 10, 1));
    // A segment the delivery overtook is gone with it; the count never drifts.
    assert_eq!(
        q.arrive(130, &[b'.'; 10]),
        Arrival::Deliver { data: [&[b'.'; 10][..], b"KLMNOPQRST"].concat(), own: 10, from_held: 1, trimmed: 0 }
    );
    assert_eq!((q.held_bytes(), q.held_segments()), (0, 0));

    // Through the layer: the same out-of-order segment twice is held once, with a note.
    let mut rx = receiver(502);
    arrive_at(&mut rx, seg_up(1101, 2000, TcpFlags::ACK, b"later"));
    let (got, notes) = arrive_at(&mut rx, seg_up(1101, 2000, TcpFlags::ACK, b"later"));
    assert_eq!(got, None);
    assert_eq!(
        notes,
        ["duplicate of held data: seq 1101..1106 (relative 101..106) is held already, still waiting for seq 1001 \
          (relative 1); not stored again"]
    );
    assert_eq!(rx.held_bytes(), 5);
    assert!(rx.holding());
}

proptest! {
    /// RFC 9293 §3.10.7.4 against a model without modular arithmetic: a segment is acceptable when
    /// [SEG.SEQ, SEG.SEQ+SEG.LEN) overlaps [RCV.NXT, RCV.NXT+RCV.WND), except that an empty
    /// segment must lie in the window (at RCV.NXT when the window is zero).
    #[test]
    fn acceptability_is_overlap_with_the_window(
        rcv_nxt in any::<u32>(), wnd in prop_oneof![Just(0u32), 1u32..=65535],
        off in -140_000i64..140_000, len in prop_oneof![Just(0u32), 1u32..70_000],
    ) {
        let seq = (i64::from(rcv_nxt) + off).rem_euclid(1 << 32) as u32;
        let (w, l) = (i64::from(wnd), i64::from(len));
        let want = match (len, wnd) {
            (0, 0) => off == 0,
            (0, _) => (0..w).contains(&off),
            (_, 0) => false,
            _ => off < w && off + l > 0,
        };
        prop_assert_eq!(reassembly::acceptable(rcv_nxt, wnd, seq, len), want);
    }
}

#[test]
fn timestamps_echo_the_peers_tsval() {
    let c = cfg(TransportKind::Tcp, false);
    let (out, _) = send(&c, b"ping", 1234);
    let mut rx = Transport::new(mirror(&c)).unwrap();
    let mut cx = cx_at_ms(1300);
    rx.decapsulate(up(&out[0]), &mut cx).unwrap().unwrap();
    assert_eq!(rx.ts_recent(), 1234);
    let reply = rx.encapsulate(Pdu::bytes(b"pong".to_vec()), &mut cx).unwrap();
    let (seg, _) = TcpSegment::parse(&bytes(&reply[0]), B4, A4, 0).unwrap();
    // The reply acknowledges the 4 bytes and echoes TSval 1234.
    assert_eq!((seg.seq, seg.ack, seg.timestamps()), (2000, 1005, Some((1300, 1234))));
}

#[test]
fn control_segments_deliver_nothing_yet() {
    let c = cfg(TransportKind::Tcp, false);
    for (flags, note) in [
        (TcpFlags::RST, "RST on an established connection"),
        (TcpFlags::SYN, "SYN on an established connection"),
        (TcpFlags::PSH, "ACK bit off"),
        (TcpFlags::ACK, "no data: an acknowledgment only"),
    ] {
        let seg = TcpSegment {
            src_port: 51000,
            dst_port: 3000,
            seq: 1001,
            ack: 2000,
            flags,
            window: 1,
            urgent: 0,
            options: vec![],
            payload: if flags == TcpFlags::ACK { vec![] } else { b"data".to_vec() },
        };
        let (r, cx) = receive(&c, raw_up(seg.emit(A4, B4).unwrap(), Some(6), A4, B4));
        assert_eq!(r.unwrap(), None, "{flags}");
        assert!(cx.trace.records[0].notes[0].starts_with(note), "{:?}", cx.trace.records[0].notes);
    }
    // FIN after data: the data goes up and RCV.NXT counts the FIN.
    let seg = TcpSegment {
        src_port: 51000,
        dst_port: 3000,
        seq: 1001,
        ack: 2000,
        flags: TcpFlags::ACK | TcpFlags::FIN | TcpFlags::PSH,
        window: 1,
        urgent: 0,
        options: vec![],
        payload: b"bye".to_vec(),
    };
    let mut rx = Transport::new(mirror(&c)).unwrap();
    let mut cx = Context::default();
    let got = rx.decapsulate(raw_up(seg.emit(A4, B4).unwrap(), Some(6), A4, B4), &mut cx).unwrap().unwrap();
    assert_eq!(bytes(&got), b"bye");
    assert_eq!(rx.rcv_nxt(), 1005);
}

#[test]
fn up_records_carry_the_checksum_check() {
    let c = cfg(TransportKind::Tcp, false);
    let (out, _) = send(&c, b"hello world", 5);
    let (r, cx) = receive(&c, up(&out[0]));
    assert_eq!(bytes(&r.unwrap().unwrap()), b"hello world");
    let rec = &cx.trace.records[0];
    assert_eq!(rec.direction, Direction::Up);
    assert_eq!(rec.checks.len(), 1);
    assert_eq!(rec.checks[0].name, "tcp.checksum.status");
    assert!(rec.checks[0].ok);
    assert_eq!(rec.checks[0].detail, "0x802a (computed 0x802a)");
    // The receiver's relative numbers are those of the sender's record.
    assert_eq!(rec.title, "Transmission Control Protocol, Src Port: 51000, Dst Port: 3000, Seq: 1, Ack: 1, Len: 11");

    let cu = cfg(TransportKind::Udp, false);
    let (out, _) = send(&cu, b"hello world", 0);
    let (r, cx) = receive(&cu, up(&out[0]));
    let got = r.unwrap().unwrap();
    assert_eq!((bytes(&got), got.meta.offset), (b"hello world".to_vec(), AT + 8));
    assert_eq!(cx.trace.records[0].checks[0].name, "udp.checksum.status");
    assert!(cx.trace.records[0].checks[0].ok);
}

/// What a student sees for one received segment: the tshark -V tree, the check, the delivery.
#[test]
fn received_segment_reads_like_tshark() {
    let c = cfg(TransportKind::Tcp, false);
    let (out, _) = send(&c, b"hello world", 5);
    let (_, cx) = receive(&c, up(&out[0]));
    let want = r"L4 transport · segment · Transmission Control Protocol, Src Port: 51000, Dst Port: 3000, Seq: 1, Ack: 1, Len: 11
    51000 → 3000 [PSH, ACK] Seq=1 Ack=1 Win=502 Len=11 TSval=5 TSecr=9
    header 0..32 (32 bytes), payload 11, overhead 32
    Source Port: 51000  [tcp.srcport]
    Destination Port: 3000  [tcp.dstport]
    Sequence Number: 1    (relative sequence number)  [tcp.seq]
    Sequence Number (raw): 1001  [tcp.seq_raw]
    Acknowledgment Number: 1    (relative ack number)  [tcp.ack]
    Acknowledgment number (raw): 2000  [tcp.ack_raw]
    Header Length: 32 bytes (8)  [tcp.hdr_len]
    Flags: 0x018 (PSH, ACK)  [tcp.flags]
        Reserved: Not set  [tcp.flags.res]
        Accurate ECN: Not set  [tcp.flags.ae]
        Congestion Window Reduced: Not set  [tcp.flags.cwr]
        ECN-Echo: Not set  [tcp.flags.ece]
        Urgent: Not set  [tcp.flags.urg]
        Acknowledgment: Set  [tcp.flags.ack]
        Push: Set  [tcp.flags.push]
        Reset: Not set  [tcp.flags.reset]
        Syn: Not set  [tcp.flags.syn]
        Fin: Not set  [tcp.flags.fin]
        TCP Flags: ·······AP···  [tcp.flags.str]
    Window: 502  [tcp.window_size_value]
    Checksum: 0x802a  [tcp.checksum]
    Urgent Pointer: 0  [tcp.urgent_pointer]
    Options: (12 bytes), No-Operation (NOP), No-Operation (NOP), Timestamps  [tcp.options]
        TCP Option - No-Operation (NOP): 01  [tcp.options.nop]
            Kind: No-Operation (1)  [tcp.option_kind]
        TCP Option - No-Operation (NOP): 01  [tcp.options.nop]
            Kind: No-Operation (1)  [tcp.option_kind]
        TCP Option - Timestamps: TSval 5, TSecr 9  [tcp.options.timestamp]
            Kind: Time Stamp Option (8)  [tcp.option_kind]
            Length: 10  [tcp.option_len]
            Timestamp value: 5  [tcp.options.timestamp.tsval]
            Timestamp echo reply: 9  [tcp.options.timestamp.tsecr]
    TCP Segment Len: 11  [tcp.len]
    [ok ] Checksum: 0x802a (computed 0x802a)  [tcp.checksum.status]
    note: in order: 11 bytes delivered; RCV.NXT is now 1012 (relative 12)";
    assert_eq!(cx.trace.to_string().trim_end(), want);
}

// ---------------------------------------------------------------- ICMP (no transport)

#[test]
fn icmp_kind_passes_the_sdu_through() {
    let mut c = cfg(TransportKind::Icmp, false);
    c.remote_port = 0;
    c.local_port = 0;
    let (out, cx) = send(&c, b"ping data", 0);
    assert_eq!(bytes(&out[0]), b"ping data");
    assert_eq!(out[0].meta.ip_proto, None);
    let r = &cx.trace.records[0];
    assert_eq!((&*r.protocol, r.overhead, r.payload_len), ("none", 0, 9));
    assert_eq!(r.title, "No transport layer: the message rides in an ICMP echo, directly on IP");
    let (got, cx) = receive(&c, raw_up(b"ping data".to_vec(), Some(1), B4, A4));
    assert_eq!(bytes(&got.unwrap().unwrap()), b"ping data");
    assert_eq!(cx.trace.records[0].direction, Direction::Up);
    let (bad, _) = receive(&c, raw_up(b"x".to_vec(), Some(6), B4, A4));
    assert!(matches!(bad.unwrap_err().kind, ErrorKind::Invalid { .. }));
}

// ---------------------------------------------------------------- configuration errors

#[test]
fn config_is_validated() {
    let is_l4_config = |r: Result<Transport>| {
        let e = r.unwrap_err();
        assert_eq!(e.layer, Some(LayerId::Transport));
        assert!(matches!(e.kind, ErrorKind::Config(_)), "{e}");
        e.to_string()
    };
    let mut c = cfg(TransportKind::Tcp, false);
    c.remote_ip = B6;
    assert!(is_l4_config(Transport::new(c)).contains("different IP versions"));
    for kind in [TransportKind::Tcp, TransportKind::Udp] {
        let mut c = cfg(kind, true);
        c.remote_port = 0;
        assert!(is_l4_config(Transport::new(c)).contains("remote port 0"));
    }
    let mut c = cfg(TransportKind::Tcp, false);
    c.tcp.mss = 0;
    assert!(is_l4_config(Transport::new(c)).contains("MSS"));
    let mut c = cfg(TransportKind::Udp, false);
    c.tcp.mss = 0; // ignored for UDP
    assert!(Transport::new(c).is_ok());
}

#[test]
fn udp_payload_must_fit_one_ip_datagram() {
    for (v6, max) in [(false, 65507), (true, 65527)] {
        let c = cfg(TransportKind::Udp, v6);
        let mut l4 = Transport::new(c).unwrap();
        let mut cx = Context::default();
        assert_eq!(l4.encapsulate(Pdu::bytes(vec![0; max]), &mut cx).unwrap()[0].len(), max + 8);
        let e = l4.encapsulate(Pdu::bytes(vec![0; max + 1]), &mut cx).unwrap_err();
        assert_eq!((e.layer, e.protocol), (Some(LayerId::Transport), "UDP"));
        assert!(e.to_string().contains(&format!("at most {max} bytes")), "{e}");
    }
}

#[test]
fn tcp_segment_must_fit_one_ip_datagram() {
    let mut c = cfg(TransportKind::Tcp, false);
    c.tcp.mss = 65535;
    let mut l4 = Transport::new(c).unwrap();
    let mut cx = Context::default();
    let e = l4.encapsulate(Pdu::bytes(vec![0; 65500]), &mut cx).unwrap_err();
    assert_eq!((e.layer, e.protocol), (Some(LayerId::Transport), "TCP"));
    assert_eq!(l4.snd_nxt(), 1001, "nothing was sent");
    assert!(cx.trace.records.is_empty());
    // 65535 − 20 (IPv4) − 32 (TCP with timestamps) fits.
    assert_eq!(l4.encapsulate(Pdu::bytes(vec![0; 65483]), &mut cx).unwrap().len(), 1);
}

// ---------------------------------------------------------------- receive errors

fn expect_err(r: Result<Option<Pdu>>) -> Error {
    match r {
        Err(e) => {
            assert_eq!(e.layer, Some(LayerId::Transport), "{e}");
            e
        }
        Ok(p) => panic!("accepted: {p:?}"),
    }
}

#[test]
fn wrong_protocol_is_refused() {
    let c = cfg(TransportKind::Tcp, false);
    let (out, _) = send(&c, b"x", 0);
    for proto in [Some(17), None] {
        let mut p = up(&out[0]);
        p.meta.ip_proto = proto;
        let e = expect_err(receive(&c, p).0);
        assert!(matches!(e.kind, ErrorKind::Invalid { .. }));
        assert_eq!(e.offset, Some(AT));
    }
    let cu = cfg(TransportKind::Udp, false);
    let (out, _) = send(&cu, b"x", 0);
    let mut p = up(&out[0]);
    p.meta.ip_proto = Some(6);
    assert!(expect_err(receive(&cu, p).0).to_string().contains("17 (UDP"));
}

/// Every single-bit flip anywhere in the segment is caught: by the checksum (at the checksum's
/// frame offset) except where it changes a length field, which is caught as a length error.
#[test]
fn every_corrupted_bit_is_caught() {
    for kind in [TransportKind::Tcp, TransportKind::Udp] {
        for v6 in [false, true] {
            let c = cfg(kind, v6);
            let (out, _) = send(&c, b"hello world!", 5);
            let good = bytes(&out[0]);
            let (csum_at, length_bytes): (usize, &[usize]) =
                if kind == TransportKind::Tcp { (16, &[12]) } else { (6, &[4, 5]) };
            for i in 0..good.len() {
                for bit in 0..8 {
                    let mut b = good.clone();
                    b[i] ^= 1 << bit;
                    let mut p = up(&out[0]);
                    p.data = Data::Bytes(b.clone());
                    let r = receive(&c, p).0;
                    // UDP over IPv4: a checksum field flipped to 0 reads "not computed" (RFC 768).
                    if kind == TransportKind::Udp && !v6 && b[6] == 0 && b[7] == 0 {
                        assert!(r.is_ok());
                        continue;
                    }
                    let e = expect_err(r);
                    let length_field = length_bytes.contains(&i) && (kind == TransportKind::Udp || bit >= 4);
                    if !length_field {
                        assert!(matches!(e.kind, ErrorKind::Checksum { .. }), "byte {i} bit {bit}: {e}");
                        assert_eq!(e.offset, Some(AT + csum_at));
                    }
                }
            }
        }
    }
}

#[test]
fn a_bad_checksum_is_recorded_before_the_error() {
    let c = cfg(TransportKind::Tcp, false);
    let (out, _) = send(&c, b"hello", 0);
    let mut b = bytes(&out[0]);
    b[34] ^= 0x20;
    let mut p = up(&out[0]);
    p.data = Data::Bytes(b);
    let (r, cx) = receive(&c, p);
    let e = expect_err(r);
    assert!(e.to_string().starts_with("L4 transport (TCP) at byte 50: TCP checksum mismatch"), "{e}");
    assert_eq!(cx.trace.records.len(), 1);
    assert!(!cx.trace.all_checks_ok());
}

#[test]
fn truncation_at_every_length_is_an_error() {
    for kind in [TransportKind::Tcp, TransportKind::Udp] {
        for v6 in [false, true] {
            let c = cfg(kind, v6);
            let (out, _) = send(&c, b"hello world", 5);
            let good = bytes(&out[0]);
            let hlen = if kind == TransportKind::Tcp { 32 } else { 8 };
            for n in 0..good.len() {
                let mut p = up(&out[0]);
                p.data = Data::Bytes(good[..n].to_vec());
                let e = expect_err(receive(&c, p).0);
                match kind {
                    // Past the header, the length is only in the pseudo-header: the checksum fails.
                    TransportKind::Tcp if n >= hlen => {
                        assert!(matches!(e.kind, ErrorKind::Checksum { .. }), "{n}: {e}")
                    }
                    _ => assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "{kind:?} {n}: {e}"),
                }
                if n < 20.min(hlen) {
                    assert_eq!(e.offset, Some(AT));
                }
            }
        }
    }
}

fn with_checksum(mut b: Vec<u8>, src: IpAddr, dst: IpAddr, proto: u8) -> Vec<u8> {
    let at = if proto == 6 { 16 } else { 6 };
    b[at..at + 2].fill(0);
    let s = checksum::compute(src, dst, proto, &b, at).unwrap();
    b[at..at + 2].copy_from_slice(&s.to_be_bytes());
    b
}

fn tcp_raw(offset_byte: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut b =
        vec![0xc7, 0x38, 0x0b, 0xb8, 0, 0, 0x03, 0xe9, 0, 0, 0x07, 0xd0, offset_byte, 0x18, 1, 0xf6, 0, 0, 0, 0];
    b.extend(options);
    b.extend(payload);
    with_checksum(b, A4, B4, 6)
}

#[test]
fn bad_data_offsets() {
    let c = cfg(TransportKind::Tcp, false);
    for doff in 0..5u8 {
        let e = expect_err(receive(&c, raw_up(tcp_raw(doff << 4, &[], b"abcd"), Some(6), A4, B4)).0);
        assert!(matches!(e.kind, ErrorKind::Invalid { .. }), "{e}");
        assert_eq!(e.offset, Some(AT + 12));
    }
    // Data offset 15 (60 bytes) on a 24-byte segment.
    let e = expect_err(receive(&c, raw_up(tcp_raw(0xf0, &[], b"abcd"), Some(6), A4, B4)).0);
    assert!(matches!(e.kind, ErrorKind::Truncated { needed: 60, available: 24, .. }), "{e}");
    assert_eq!(e.offset, Some(AT + 12));
    // A well-formed one for contrast.
    assert!(receive(&c, raw_up(tcp_raw(0x50, &[], b"abcd"), Some(6), A4, B4)).0.unwrap().is_some());
}

#[test]
fn malformed_options_are_errors_at_their_offset() {
    let c = cfg(TransportKind::Tcp, false);
    // (options area, offset of the bad octet from the options' start)
    let cases: [(&[u8], usize); 4] = [
        (&[0xfe, 0x10, 0, 0], 1),          // unknown kind, length 16 overruns the 4 bytes
        (&[1, 1, 1, 0x22], 3),             // kind 34 with no length octet before the header ends
        (&[0x22, 1, 0, 0], 1),             // length 1 < 2 (kind and length octets)
        (&[2, 5, 5, 0xb4, 0, 0, 0, 0], 1), // MSS with length 5 (RFC 9293 §3.2: 4)
    ];
    for (i, (opts, at)) in cases.iter().enumerate() {
        let doff = 5 + (opts.len() / 4) as u8;
        let e = expect_err(receive(&c, raw_up(tcp_raw(doff << 4, opts, b""), Some(6), A4, B4)).0);
        assert!(matches!(e.kind, ErrorKind::Invalid { .. }), "case {i}: {e}");
        assert_eq!(e.offset, Some(AT + 20 + at), "case {i}: {e}");
        assert_eq!(e.protocol, "TCP");
    }
    // Timestamps whose 10 bytes run past a 12-byte options area by starting at byte 4.
    let o = [1, 1, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0];
    let e = expect_err(receive(&c, raw_up(tcp_raw(8 << 4, &o, b"data"), Some(6), A4, B4)).0);
    assert!(e.to_string().contains("overruns the header"), "{e}");
    assert_eq!(e.offset, Some(AT + 20 + 5));
    // A SACK with a length that is not 2 + 8n.
    let o = [1, 1, 5, 6, 0, 0, 0, 1];
    let e = expect_err(receive(&c, raw_up(tcp_raw(7 << 4, &o, b""), Some(6), A4, B4)).0);
    assert_eq!(e.offset, Some(AT + 20 + 3));
}

#[test]
fn unknown_options_and_padding_are_kept() {
    let o = [0xfe, 4, 1, 2, 0, 0, 0, 0];
    let b = tcp_raw(7 << 4, &o, b"");
    let (seg, _) = TcpSegment::parse(&b, A4, B4, 0).unwrap();
    assert_eq!(
        seg.options,
        [
            TcpOption::Unknown { kind: 0xfe, data: vec![1, 2] },
            TcpOption::EndOfList,
            TcpOption::EndOfList,
            TcpOption::EndOfList,
            TcpOption::EndOfList
        ]
    );
    assert_eq!(seg.emit(A4, B4).unwrap(), b);
    // After End of Option List the rest is padding, whatever it holds (RFC 9293 §3.1).
    let b = tcp_raw(6 << 4, &[0, 0xff, 0xff, 0xff], b"");
    assert_eq!(TcpSegment::parse(&b, A4, B4, 0).unwrap().0.options, [TcpOption::EndOfList]);
}

/// Options `02 04 05 b4 | 00 ff ff ff`: MSS 1460, End of Option List, then 3 bytes of padding
/// that are not zero. tshark 4.0 shows the wire: "Header Length: 28 bytes (7)", "Options: (8
/// bytes), Maximum segment size, End of Option List (EOL)", `tcp.options` 020405b400ffffff, then
/// "Non-zero header padding" (an expert error, not an option). Re-encoding the parsed options
/// would give `02 04 05 b4 00 00 00 00` and three more EOLs.
#[test]
fn eol_then_nonzero_padding_is_shown_as_on_the_wire() {
    let c = cfg(TransportKind::Tcp, false);
    let opts = [0x02, 0x04, 0x05, 0xb4, 0x00, 0xff, 0xff, 0xff];
    let b = tcp_raw(7 << 4, &opts, b"abcd");
    let (got, cx) = receive(&c, raw_up(b.clone(), Some(6), A4, B4));
    let got = got.unwrap().unwrap();
    assert_eq!((bytes(&got), got.meta.offset), (b"abcd".to_vec(), AT + 28));
    let r = &cx.trace.records[0];
    assert_eq!((r.header.clone(), r.payload_len, r.overhead), (0..28, 4, 28));
    assert_eq!(*field(r, "tcp.hdr_len"), Value::Uint(28));
    assert_eq!(r.field("tcp.hdr_len").unwrap().shown, "28 bytes (7)");
    assert_eq!(*field(r, "tcp.options"), Value::Bytes(opts.to_vec()));
    assert_eq!(field(r, "tcp.options").to_string(), "020405b400ffffff");
    assert_eq!(r.field("tcp.options").unwrap().shown, "(8 bytes), Maximum segment size, End of Option List (EOL)");
    let kinds: Vec<String> =
        r.fields.iter().filter(|f| f.name == "tcp.option_kind").map(|f| f.value.to_string()).collect();
    assert_eq!(kinds, ["2", "0"]);
    assert_eq!(*field(r, "tcp.options.mss_val"), Value::Uint(1460));
    assert_eq!(*field(r, "tcp.options.eol"), Value::Bytes(vec![0]));
    assert_eq!(
        *field(r, "tcp.checksum"),
        Value::Hex { value: u64::from(u16::from_be_bytes([b[16], b[17]])), digits: 4 }
    );
    assert_eq!(*field(r, "tcp.len"), Value::Uint(4));
    assert!(cx.trace.all_checks_ok());
    assert!(
        r.notes.iter().any(|n| n.starts_with("the 3 bytes of padding after End of Option List are not zero")),
        "{:?}",
        r.notes
    );
}

/// EOL first, then `ff ff ff` and 4 zero bytes (data offset 7): re-encoding the one EOL the
/// parser keeps would say a 24-byte header. tshark 4.0 (`-T fields`): tcp.hdr_len 28,
/// tcp.options 00ffffff00000000, one tcp.options.eol, tcp.option_kind 0, tcp.len 4.
#[test]
fn unusual_padding_keeps_the_wire_header_length() {
    let c = cfg(TransportKind::Tcp, false);
    let opts = [0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00];
    let (got, cx) = receive(&c, raw_up(tcp_raw(7 << 4, &opts, b"abcd"), Some(6), A4, B4));
    assert_eq!(bytes(&got.unwrap().unwrap()), b"abcd");
    let r = &cx.trace.records[0];
    assert_eq!(r.header, 0..28);
    assert_eq!(*field(r, "tcp.hdr_len"), Value::Uint(28));
    assert_eq!(*field(r, "tcp.options"), Value::Bytes(opts.to_vec()));
    assert_eq!(r.field("tcp.options").unwrap().shown, "(8 bytes), End of Option List (EOL)");
    let kinds: Vec<String> =
        r.fields.iter().filter(|f| f.name == "tcp.option_kind").map(|f| f.value.to_string()).collect();
    assert_eq!(kinds, ["0"]);
    assert!(r.notes.iter().any(|n| n.starts_with("the 7 bytes of padding")), "{:?}", r.notes);

    // Zero padding is not flagged: each zero is an EOL, as tshark lists them.
    let (_, cx) = receive(&c, raw_up(tcp_raw(6 << 4, &[1, 0, 0, 0], b"abcd"), Some(6), A4, B4));
    let r = &cx.trace.records[0];
    assert_eq!(*field(r, "tcp.hdr_len"), Value::Uint(24));
    assert_eq!(
        r.field("tcp.options").unwrap().shown,
        "(4 bytes), No-Operation (NOP), End of Option List (EOL), End of Option List (EOL), End of Option List (EOL)"
    );
    assert!(!r.notes.iter().any(|n| n.contains("padding")), "{:?}", r.notes);
}

/// `udp.length` is the length field on the wire, not the bytes L3 handed up (13 here, with 3
/// bytes of excess after the datagram).
#[test]
fn udp_length_is_read_from_the_wire() {
    let c = cfg(TransportKind::Udp, false);
    let d = UdpDatagram { src_port: 51000, dst_port: 3000, payload: b"hello".to_vec() };
    let mut b = d.emit(A4, B4).unwrap();
    let sum = u16::from_be_bytes([b[6], b[7]]);
    b.extend([0xaa, 0xbb, 0xcc]);
    let (r, cx) = receive(&c, raw_up(b, Some(17), A4, B4));
    assert_eq!(bytes(&r.unwrap().unwrap()), b"hello");
    let r = &cx.trace.records[0];
    assert_eq!((r.header.clone(), r.payload_len), (0..8, 5));
    assert_eq!(*field(r, "udp.length"), Value::Uint(13));
    assert_eq!(*field(r, "udp.checksum"), Value::Hex { value: u64::from(sum), digits: 4 });
}

#[test]
fn no_socket_on_the_port() {
    let c = cfg(TransportKind::Tcp, false);
    let mut seg = TcpSegment::parse(&bytes(&send(&c, b"x", 0).0[0]), A4, B4, 0).unwrap().0;
    seg.dst_port = 4000;
    let (r, cx) = receive(&c, raw_up(seg.emit(A4, B4).unwrap(), Some(6), A4, B4));
    let e = expect_err(r);
    assert!(e.to_string().contains("no socket on port 4000: the host would answer RST"), "{e}");
    assert_eq!(e.offset, Some(AT + 2));
    assert_eq!(cx.trace.records.len(), 1);

    let cu = cfg(TransportKind::Udp, true);
    let d = UdpDatagram { src_port: 3000, dst_port: 53, payload: b"q".to_vec() };
    let e = expect_err(receive(&cu, raw_up(d.emit(A6, B6).unwrap(), Some(17), A6, B6)).0);
    assert!(e.to_string().contains("no socket on port 53: the host would answer ICMP port unreachable"), "{e}");
}

#[test]
fn udp_zero_checksum_v4_accepted_v6_refused() {
    let mut b = vec![0xc7, 0x38, 0x0b, 0xb8, 0, 13, 0, 0];
    b.extend(b"hello");
    let c4 = cfg(TransportKind::Udp, false);
    let (r, cx) = receive(&c4, raw_up(b.clone(), Some(17), A4, B4));
    assert_eq!(bytes(&r.unwrap().unwrap()), b"hello");
    assert!(cx.trace.all_checks_ok());
    assert!(cx.trace.records[0].notes[0].contains("computed none"));
    assert_eq!(cx.trace.records[0].checks[0].name, "udp.checksum.status");

    let c6 = cfg(TransportKind::Udp, true);
    let (r, cx) = receive(&c6, raw_up(b, Some(17), A6, B6));
    let e = expect_err(r);
    assert!(e.to_string().contains("RFC 8200 §8.1"), "{e}");
    assert_eq!(e.offset, Some(AT + 6));
    assert!(!cx.trace.all_checks_ok());
}

#[test]
fn udp_length_field() {
    let c = cfg(TransportKind::Udp, false);
    let d = UdpDatagram { src_port: 51000, dst_port: 3000, payload: b"hello".to_vec() };
    let good = d.emit(A4, B4).unwrap();
    // Too small.
    for len in 0..8u16 {
        let mut b = good.clone();
        b[4..6].copy_from_slice(&len.to_be_bytes());
        let e = expect_err(receive(&c, raw_up(b, Some(17), A4, B4)).0);
        assert!(matches!(e.kind, ErrorKind::Invalid { .. }));
        assert_eq!(e.offset, Some(AT + 4));
    }
    // Larger than the bytes.
    let mut b = good.clone();
    b[4..6].copy_from_slice(&14u16.to_be_bytes());
    let e = expect_err(receive(&c, raw_up(b, Some(17), A4, B4)).0);
    assert!(matches!(e.kind, ErrorKind::Truncated { needed: 14, available: 13, .. }));
    // Excess bytes after the datagram (e.g. padding) are trimmed, with a note.
    let mut b = good.clone();
    b.extend([0, 0, 0]);
    let (r, cx) = receive(&c, raw_up(b, Some(17), A4, B4));
    assert_eq!(bytes(&r.unwrap().unwrap()), b"hello");
    assert!(cx.trace.records[0].notes[0].starts_with("3 bytes after the datagram's length (13)"));
}

#[test]
fn mixed_address_families_in_meta_are_an_error_not_a_panic() {
    let c = cfg(TransportKind::Udp, false);
    let (out, _) = send(&c, b"x", 0);
    let mut p = up(&out[0]);
    p.meta.src_ip = Some(A6);
    assert!(matches!(expect_err(receive(&c, p).0).kind, ErrorKind::Invalid { .. }));
}

// ---------------------------------------------------------------- etherparse agreement

#[test]
fn options_codec_agrees_with_etherparse() {
    let opts = [
        TcpOption::Mss(1460),
        TcpOption::SackPermitted,
        TcpOption::Timestamps { tsval: 7, tsecr: 8 },
        TcpOption::Nop,
        TcpOption::WindowScale(7),
        TcpOption::Nop,
        TcpOption::Nop,
        TcpOption::Sack(vec![(1, 2)]),
    ];
    let mine = options::emit_all(&opts).unwrap();
    let elems: Vec<_> = opts.iter().map(|o| o.to_etherparse().unwrap()).collect();
    let theirs = etherparse::TcpOptions::try_from_elements(&elems).unwrap();
    assert_eq!(mine, theirs.as_slice());
    let back: Vec<TcpOption> =
        etherparse::TcpOptionsIterator::from_slice(&mine).map(|e| TcpOption::from_etherparse(&e.unwrap())).collect();
    assert_eq!(back, opts);
}

// ---------------------------------------------------------------- properties

fn option_strategy() -> impl Strategy<Value = TcpOption> {
    prop_oneof![
        Just(TcpOption::Nop),
        any::<u16>().prop_map(TcpOption::Mss),
        any::<u8>().prop_map(TcpOption::WindowScale),
        Just(TcpOption::SackPermitted),
        proptest::collection::vec(any::<(u32, u32)>(), 1..=3).prop_map(TcpOption::Sack),
        any::<(u32, u32)>().prop_map(|(tsval, tsecr)| TcpOption::Timestamps { tsval, tsecr }),
        (9u8..=255, proptest::collection::vec(any::<u8>(), 0..6))
            .prop_map(|(kind, data)| TcpOption::Unknown { kind, data }),
    ]
}

fn options_strategy() -> impl Strategy<Value = Vec<TcpOption>> {
    proptest::collection::vec(option_strategy(), 0..6).prop_map(|mut v| {
        while v.iter().map(TcpOption::len).sum::<usize>() > 40 {
            v.pop();
        }
        v
    })
}

fn addrs(v6: bool) -> (IpAddr, IpAddr) {
    if v6 {
        (A6, B6)
    } else {
        (A4, B4)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn tcp_segment_repr_round_trips(
        src_port in any::<u16>(), dst_port in any::<u16>(), seq in any::<u32>(), ack in any::<u32>(),
        flags in 0u16..0x1000, window in any::<u16>(), urgent in any::<u16>(),
        options in options_strategy(), payload in proptest::collection::vec(any::<u8>(), 0..300), v6 in any::<bool>(),
    ) {
        let (s, d) = addrs(v6);
        let seg = TcpSegment { src_port, dst_port, seq, ack, flags: TcpFlags(flags), window, urgent, options, payload };
        let b = seg.emit(s, d).unwrap();
        let (back, info) = TcpSegment::parse(&b, s, d, 0).unwrap();
        let good = matches!(info.status, ChecksumStatus::Good { .. });
        prop_assert!(good);
        // Padding to 4 bytes comes back as End-of-List options; otherwise equal.
        let raw: usize = seg.options.iter().map(TcpOption::len).sum();
        let mut want = seg.clone();
        want.options.extend(std::iter::repeat(TcpOption::EndOfList).take(raw.div_ceil(4) * 4 - raw));
        prop_assert_eq!(&back, &want);
        prop_assert_eq!(back.emit(s, d).unwrap(), b.clone());
        // etherparse reads the same fixed header.
        let (h, rest) = etherparse::TcpHeader::from_slice(&b).unwrap();
        prop_assert_eq!((h.source_port, h.destination_port, h.sequence_number, h.acknowledgment_number), (src_port, dst_port, seq, ack));
        prop_assert_eq!(rest, &seg.payload[..]);
        // RFC 1071 over pseudo-header + segment is all ones.
        let mut all = Vec::new();
        match (s, d) {
            (IpAddr::V4(s), IpAddr::V4(d)) => { all.extend(s.octets()); all.extend(d.octets()); all.extend([0, 6]); all.extend((b.len() as u16).to_be_bytes()); }
            (IpAddr::V6(s), IpAddr::V6(d)) => { all.extend(s.octets()); all.extend(d.octets()); all.extend((b.len() as u32).to_be_bytes()); all.extend([0, 0, 0, 6]); }
            _ => unreachable!(),
        }
        all.extend(&b);
        prop_assert_eq!(ones_sum(all), 0xffff);
    }

    /// What osilab emits and what it then reads agree field by field: the fields a segment is
    /// shown with on the send path (read from the bytes `emit` gave) are those of the segment
    /// parsed from the same bytes, and they describe those bytes.
    #[test]
    fn tcp_fields_sent_and_received_agree(
        seq in any::<u32>(), ack in any::<u32>(), flags in 0u16..0x1000, options in options_strategy(),
        payload in proptest::collection::vec(any::<u8>(), 0..40), v6 in any::<bool>(), rs in any::<u32>(), ra in any::<u32>(),
    ) {
        let (s, d) = addrs(v6);
        let seg = TcpSegment { src_port: 1, dst_port: 2, seq, ack, flags: TcpFlags(flags), window: 3, urgent: 4, options, payload };
        let b = seg.emit(s, d).unwrap();
        let view = TcpView::new(&b, 0).unwrap();
        let back = TcpSegment::from_view(&view).unwrap();
        let rel = Some(RelativeTo { seq: rs, ack: ra });
        let sent = seg.fields(&view, rel, true);
        prop_assert_eq!(&sent, &back.fields(&view, rel, true));
        let hlen = usize::from(b[12] >> 4) * 4;
        let get = |n: &str| sent.iter().find(|f| f.name == n).map(|f| f.value.clone());
        prop_assert_eq!(get("tcp.hdr_len"), Some(Value::Uint(hlen as u64)));
        prop_assert_eq!(get("tcp.options"), (hlen > 20).then(|| Value::Bytes(b[20..hlen].to_vec())));
        // The options listed: those built, then one EOL per byte of zero padding.
        let kinds: Vec<Value> = sent.iter().filter(|f| f.name == "tcp.option_kind").map(|f| f.value.clone()).collect();
        let raw: usize = seg.options.iter().map(TcpOption::len).sum();
        let want: Vec<Value> = seg.options.iter().map(|o| Value::Uint(u64::from(o.kind())))
            .chain(std::iter::repeat(Value::Uint(0)).take(hlen - 20 - raw)).collect();
        prop_assert_eq!(kinds, want);
    }

    /// Through the layer: each segment's down record and up record carry the same fields.
    #[test]
    fn tcp_records_sent_and_received_agree(payload in proptest::collection::vec(any::<u8>(), 0..3000), v6 in any::<bool>(),
                                           mss in 1u16..1500, ts in any::<bool>(), now in any::<u64>()) {
        let mut c = cfg(TransportKind::Tcp, v6);
        c.tcp.mss = mss;
        c.tcp.timestamps = ts;
        c.tcp.window = u16::MAX;
        let mut tx = Transport::new(c.clone()).unwrap();
        let mut cx = Context::new(Instant::from_nanos(now));
        let out = tx.encapsulate(Pdu::bytes(payload), &mut cx).unwrap();
        let mut rx = Transport::new(mirror(&c)).unwrap();
        let mut up_cx = Context::default();
        for p in &out {
            rx.decapsulate(up(p), &mut up_cx).unwrap();
        }
        prop_assert_eq!(cx.trace.records.len(), up_cx.trace.records.len());
        for (down, upr) in cx.trace.records.iter().zip(&up_cx.trace.records) {
            prop_assert_eq!(&down.fields, &upr.fields);
            prop_assert_eq!(&down.header, &upr.header);
        }
    }

    #[test]
    fn udp_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..3000), v6 in any::<bool>(),
                       lport in 1u16.., rport in 1u16..) {
        let mut c = cfg(TransportKind::Udp, v6);
        c.local_port = lport;
        c.remote_port = rport;
        let (out, _) = send(&c, &payload, 0);
        prop_assert_eq!(out.len(), 1);
        let (r, cx) = receive(&c, up(&out[0]));
        prop_assert_eq!(bytes(&r.unwrap().unwrap()), payload.clone());
        prop_assert!(cx.trace.all_checks_ok());
        let (d, info) = UdpDatagram::parse(&bytes(&out[0]), c.local_ip, c.remote_ip, 0).unwrap();
        prop_assert_eq!(&d.payload, &payload);
        let good = matches!(info.status, ChecksumStatus::Good { .. });
        prop_assert!(good);
        // The sender's record and the receiver's show the same fields.
        let (_, sent) = send(&c, &payload, 0);
        prop_assert_eq!(&sent.trace.records[0].fields, &cx.trace.records[0].fields);
    }

    #[test]
    fn tcp_round_trips_in_order(payload in proptest::collection::vec(any::<u8>(), 0..5000), v6 in any::<bool>(),
                                mss in 1u16..2000, snd in any::<u32>(), rcv in any::<u32>(), ts in any::<bool>(),
                                now in any::<u64>()) {
        let mut c = cfg(TransportKind::Tcp, v6);
        c.tcp = TcpParams { snd_nxt: snd, rcv_nxt: rcv, mss, timestamps: ts, ..params() };
        let mut tx = Transport::new(c.clone()).unwrap();
        let mut cx = Context::new(Instant::from_nanos(now));
        let out = tx.encapsulate(Pdu::bytes(payload.clone()), &mut cx).unwrap();
        prop_assert_eq!(out.len(), payload.len().div_ceil(usize::from(mss)).max(1));
        prop_assert_eq!(cx.trace.records.len(), out.len());
        let mut rx = Transport::new(mirror(&c)).unwrap();
        let mut got = Vec::new();
        let mut deliveries = 0;
        for p in &out {
            prop_assert!(bytes(p).len() <= usize::from(mss) + 32);
            if let Some(d) = rx.decapsulate(up(p), &mut cx).unwrap() {
                got.extend(bytes(&d));
                deliveries += 1;
            }
        }
        prop_assert_eq!(got, payload.clone());
        prop_assert_eq!(deliveries, out.len());
        prop_assert_eq!(rx.rcv_nxt(), tx.snd_nxt());
        prop_assert_eq!(tx.snd_nxt(), snd.wrapping_add(payload.len() as u32));
        prop_assert!(cx.trace.all_checks_ok());
    }

    #[test]
    fn tcp_delivers_in_order_whatever_the_arrival_order(
        payload in proptest::collection::vec(any::<u8>(), 1..3000), mss in 1u16..700, v6 in any::<bool>(),
        snd in any::<u32>(), order in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
    ) {
        let mut c = cfg(TransportKind::Tcp, v6);
        c.tcp.snd_nxt = snd;
        c.tcp.mss = mss;
        // Every segment inside the receive window, so that none is dropped as unacceptable.
        c.tcp.window = u16::MAX;
        let (out, _) = send(&c, &payload, 0);
        // Shuffle by the random indices, and send some segments twice (retransmissions).
        let mut arrivals: Vec<&Pdu> = out.iter().collect();
        for (i, ix) in order.iter().enumerate() {
            let j = ix.index(arrivals.len());
            if i % 3 == 0 {
                arrivals.push(arrivals[j]);
            } else {
                let k = i % arrivals.len();
                arrivals.swap(j, k);
            }
        }
        let mut rx = Transport::new(mirror(&c)).unwrap();
        let mut cx = Context::default();
        let mut got = Vec::new();
        for p in arrivals {
            if let Some(d) = rx.decapsulate(up(p), &mut cx).unwrap() {
                got.extend(bytes(&d));
            }
        }
        prop_assert_eq!(got, payload);
        prop_assert_eq!(rx.held_bytes(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..120), v6 in any::<bool>(),
                                   kind in 0..3u8, proto in proptest::option::of(prop_oneof![Just(6u8), Just(17u8), any::<u8>()]),
                                   offset in 0usize..100, no_addrs in any::<bool>()) {
        let kind = [TransportKind::Tcp, TransportKind::Udp, TransportKind::Icmp][usize::from(kind)];
        let c = cfg(kind, v6);
        let mut rx = Transport::new(mirror(&c)).unwrap();
        let mut cx = Context::default();
        let (s, d) = addrs(v6);
        let meta = Meta {
            offset, ip_proto: proto,
            src_ip: (!no_addrs).then_some(s), dst_ip: (!no_addrs).then_some(d), ..Meta::default()
        };
        let r = rx.decapsulate(Pdu { data: Data::Bytes(data.clone()), meta }, &mut cx);
        if let Err(e) = r {
            prop_assert_eq!(e.layer, Some(LayerId::Transport));
            if let Some(o) = e.offset { prop_assert!(o >= offset && o < offset + data.len().max(1) + 2); }
        }
        // And with the right protocol and a valid checksum, so parsing goes deeper.
        let p = if kind == TransportKind::Udp { 17 } else { 6 };
        if data.len() >= 20 {
            let b = with_checksum(data, s, d, p);
            let meta = Meta { offset, ip_proto: Some(p), src_ip: Some(s), dst_ip: Some(d), ..Meta::default() };
            let _ = rx.decapsulate(Pdu { data: Data::Bytes(b.clone()), meta }, &mut cx);
            let _ = TcpSegment::parse(&b, s, d, offset);
            let _ = UdpDatagram::parse(&b, s, d, offset);
            let _ = TcpOption::parse_all(&b, offset);
        }
    }
}
