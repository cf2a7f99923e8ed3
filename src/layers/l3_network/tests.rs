//! Tests of the L3 network layer: known bytes, fragmentation and reassembly, ICMP echo, every
//! error path, and property tests (round trips in any fragment order, arbitrary input).

use super::reassembly::REASSEMBLY_TIMEOUT;
use super::*;
use crate::error::ErrorKind;
use crate::layer::{Data, Meta, Part};
use crate::time::Instant;
use crate::trace::{Direction, Value};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const A4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const B4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const C4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
const C6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 3);
/// Ethernet II header length: where L3 starts in the frame.
const ETH: usize = 14;

fn cfg(local: IpAddr, remote: IpAddr) -> NetworkConfig {
    NetworkConfig {
        local,
        remote,
        ttl: 64,
        mtu: 1500,
        dont_fragment: false,
        ident: 1,
        echo: None,
        promiscuous: false,
        capture: false,
    }
}

fn v4() -> NetworkConfig {
    cfg(A4.into(), B4.into())
}

fn v6() -> NetworkConfig {
    cfg(A6.into(), B6.into())
}

/// The peer's view: local and remote swapped.
fn peer(c: &NetworkConfig) -> Network {
    Network::new(NetworkConfig { local: c.remote, remote: c.local, ..c.clone() }).unwrap()
}

fn sdu(bytes: &[u8], proto: u8) -> Pdu {
    let mut p = Pdu::bytes(bytes.to_vec());
    p.meta.ip_proto = Some(proto);
    p
}

fn bytes_of(p: &Pdu) -> &[u8] {
    match &p.data {
        Data::Bytes(b) => b,
        Data::Signal(_) => panic!("a signal at L3"),
    }
}

/// What L2 hands up: the packet at offset 14 with its EtherType.
fn from_l2(p: &Pdu) -> Pdu {
    let mut q = Pdu::bytes(bytes_of(p).to_vec());
    q.meta = Meta { offset: ETH, ethertype: p.meta.ethertype, ..Meta::default() };
    q
}

fn raw(bytes: Vec<u8>, ethertype: u16) -> Pdu {
    let mut q = Pdu::bytes(bytes);
    q.meta = Meta { offset: ETH, ethertype: Some(ethertype), ..Meta::default() };
    q
}

fn send(c: &NetworkConfig, payload: &[u8], proto: u8) -> Vec<Pdu> {
    let mut net = Network::new(c.clone()).unwrap();
    net.encapsulate(sdu(payload, proto), &mut Context::default()).unwrap()
}

/// Feed packets up a fresh peer; the SDUs delivered and the trace.
fn receive(c: &NetworkConfig, packets: &[Pdu]) -> (Vec<Pdu>, Context) {
    let mut net = peer(c);
    let mut cx = Context::default();
    let out = packets.iter().filter_map(|p| net.decapsulate(from_l2(p), &mut cx).unwrap()).collect();
    (out, cx)
}

fn decap_err(c: &NetworkConfig, bytes: Vec<u8>, ethertype: u16) -> Error {
    let mut net = peer(c);
    net.decapsulate(raw(bytes, ethertype), &mut Context::default()).unwrap_err()
}

fn set_ipv4_checksum(p: &mut [u8]) {
    let hlen = usize::from(p[0] & 0x0f) * 4;
    p[10..12].copy_from_slice(&[0, 0]);
    let c = internet_checksum(&[&p[..hlen]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}

/// A hand-made IPv4 fragment from A to B (protocol 17, id 7).
fn v4_fragment(offset_bytes: usize, more: bool, data: &[u8]) -> Vec<u8> {
    let total = 20 + data.len();
    let units = (offset_bytes / 8) as u16;
    let fl = if more { 0x2000 } else { 0 } | units;
    let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 7, (fl >> 8) as u8, fl as u8, 64, 17, 0, 0];
    p.extend_from_slice(&A4.octets());
    p.extend_from_slice(&B4.octets());
    p.extend_from_slice(data);
    set_ipv4_checksum(&mut p);
    p
}

/// A hand-made IPv6 fragment from A to B (next header 17, id 9).
fn v6_fragment(offset_bytes: usize, more: bool, data: &[u8]) -> Vec<u8> {
    let plen = 8 + data.len();
    let mut p = vec![0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 44, 64];
    p.extend_from_slice(&A6.octets());
    p.extend_from_slice(&B6.octets());
    let off = ((offset_bytes / 8) as u16) << 3 | u16::from(more);
    p.extend_from_slice(&[17, 0, (off >> 8) as u8, off as u8, 0, 0, 0, 9]);
    p.extend_from_slice(data);
    p
}

// ---------------------------------------------------------------- configuration

#[test]
fn new_validates_families_mtu_and_ttl() {
    let mixed = Network::new(cfg(A4.into(), B6.into())).unwrap_err();
    assert_eq!(mixed.layer, Some(LayerId::Network));
    assert!(matches!(mixed.kind, ErrorKind::Config(ref m) if m.contains("same IP version")));
    assert!(mixed.to_string().starts_with("L3 network: "), "{mixed}");
    let small4 = Network::new(NetworkConfig { mtu: 67, ..v4() }).unwrap_err();
    assert!(matches!(small4.kind, ErrorKind::Config(ref m) if m.contains("68")));
    assert_eq!(small4.layer, Some(LayerId::Network));
    assert!(Network::new(NetworkConfig { mtu: 68, ..v4() }).is_ok());
    let small6 = Network::new(NetworkConfig { mtu: 1279, ..v6() }).unwrap_err();
    assert!(matches!(small6.kind, ErrorKind::Config(ref m) if m.contains("1280")));
    assert!(Network::new(NetworkConfig { mtu: 1280, ..v6() }).is_ok());
    let ttl0 = Network::new(NetworkConfig { ttl: 0, ..v4() }).unwrap_err();
    assert_eq!(ttl0.layer, Some(LayerId::Network));
}

#[test]
fn encapsulate_needs_ip_proto() {
    let mut net = Network::new(v4()).unwrap();
    let e = net.encapsulate(Pdu::bytes(vec![1, 2, 3]), &mut Context::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config(ref m) if m.contains("ip_proto")));
}

#[test]
fn encapsulate_refuses_addresses_l4_did_not_use() {
    let mut net = Network::new(v4()).unwrap();
    let mut p = sdu(&[0; 8], 17);
    p.meta.src_ip = Some(C4.into());
    let e = net.encapsulate(p, &mut Context::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config(ref m) if m.contains("192.0.2.3")));
}

// ---------------------------------------------------------------- IPv4 down

#[test]
fn ipv4_known_header_bytes() {
    let mut cx = Context::default();
    let mut net = Network::new(v4()).unwrap();
    let out = net.encapsulate(sdu(&[0xaa; 8], 17), &mut cx).unwrap();
    assert_eq!(out.len(), 1);
    // Checksum by hand (RFC 1071): 4500 + 001c + 0001 + 0000 + 4011 + 0000 + c000 + 0201
    // + c000 + 0202 = 0x20931; folded 0x0931 + 0x2 = 0x0933; complement 0xf6cc.
    #[rustfmt::skip]
    let header = [
        0x45, 0x00, 0x00, 0x1c, // version 4, IHL 5; DSCP/ECN 0; total length 28
        0x00, 0x01, 0x00, 0x00, // identification 1; no flags, offset 0
        0x40, 0x11, 0xf6, 0xcc, // TTL 64; protocol 17 (UDP); header checksum
        0xc0, 0x00, 0x02, 0x01, // 192.0.2.1
        0xc0, 0x00, 0x02, 0x02, // 192.0.2.2
    ];
    let b = bytes_of(&out[0]);
    assert_eq!(&b[..20], &header);
    assert_eq!(&b[20..], &[0xaa; 8]);
    assert_eq!(internet_checksum(&[&b[..20]]), 0);
    let m = &out[0].meta;
    assert_eq!(m.ethertype, Some(0x0800));
    assert_eq!(m.ip_proto, Some(17));
    assert_eq!((m.src_ip, m.dst_ip), (Some(A4.into()), Some(B4.into())));
    assert_eq!(m.part, None);

    let r = &cx.trace.records[0];
    assert_eq!((&*r.protocol, r.direction), ("ip", Direction::Down));
    assert_eq!(r.title, "Internet Protocol Version 4, Src: 192.0.2.1, Dst: 192.0.2.2");
    assert_eq!((r.header.clone(), r.payload_len, r.overhead), (0..20, 8, 20));
    let names: Vec<&str> = r.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "ip.version",
            "ip.hdr_len",
            "ip.dsfield",
            "ip.dsfield.dscp",
            "ip.dsfield.ecn",
            "ip.len",
            "ip.id",
            "ip.flags",
            "ip.flags.rb",
            "ip.flags.df",
            "ip.flags.mf",
            "ip.frag_offset",
            "ip.ttl",
            "ip.proto",
            "ip.checksum",
            "ip.src",
            "ip.dst"
        ]
    );
    assert_eq!(r.field("ip.id").unwrap().shown, "0x0001 (1)");
    assert_eq!(r.field("ip.id").unwrap().value.to_string(), "0x0001");
    assert_eq!(r.field("ip.checksum").unwrap().value.to_string(), "0xf6cc");
    assert_eq!(r.field("ip.hdr_len").unwrap().shown, "20 bytes (5)");
    assert_eq!(r.field("ip.dsfield").unwrap().value.to_string(), "0x00");
    assert_eq!(r.field("ip.proto").unwrap().shown, "UDP (17)");
    assert_eq!(r.field("ip.src").unwrap().value, Value::Ipv4(A4));
    assert_eq!(r.field("ip.flags").unwrap().value.to_string(), "0x00");
}

#[test]
fn ipv4_df_flag_and_ident_counts_up() {
    let c = NetworkConfig { dont_fragment: true, ident: 0xffff, ..v4() };
    let mut net = Network::new(c).unwrap();
    let mut cx = Context::default();
    let a = net.encapsulate(sdu(b"one", 6), &mut cx).unwrap();
    let b = net.encapsulate(sdu(b"two", 6), &mut cx).unwrap();
    assert_eq!(&bytes_of(&a[0])[4..8], &[0xff, 0xff, 0x40, 0x00]);
    assert_eq!(&bytes_of(&b[0])[4..8], &[0x00, 0x00, 0x40, 0x00], "identification wraps to 0");
    let f = cx.trace.records[0].field("ip.flags").unwrap();
    assert_eq!((f.value.to_string(), &*f.shown), ("0x02".to_string(), "0x02, Don't fragment"));
    assert_eq!(cx.trace.records[0].field("ip.flags.df").unwrap().value, Value::Bool(true));
}

#[test]
fn ipv4_df_too_big_is_an_error() {
    let c = NetworkConfig { dont_fragment: true, ..v4() };
    let mut net = Network::new(c).unwrap();
    let e = net.encapsulate(sdu(&[0; 1481], 17), &mut Context::default()).unwrap_err();
    assert_eq!(e.layer, Some(LayerId::Network));
    assert!(e.to_string().contains("needs fragmentation but DF set"), "{e}");
    // Exactly the MTU is fine.
    assert_eq!(net.encapsulate(sdu(&[0; 1480], 17), &mut Context::default()).unwrap().len(), 1);
}

#[test]
fn ipv4_datagram_over_65535_is_an_error() {
    let mut net = Network::new(v4()).unwrap();
    let e = net.encapsulate(sdu(&vec![0; 65516], 17), &mut Context::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Invalid { .. }));
    assert_eq!(net.encapsulate(sdu(&vec![0; 65515], 17), &mut Context::default()).unwrap().len(), 45);
}

#[test]
fn ipv4_fragments_a_3000_byte_udp_datagram_at_mtu_1500() {
    // 8 bytes of UDP header + 3000 of data = 3008 bytes of IP payload. Each fragment carries
    // (1500 − 20) & !7 = 1480 bytes: 1480 + 1480 + 48.
    let payload: Vec<u8> = (0..3008u32).map(|i| i as u8).collect();
    let mut cx = Context::default();
    let mut net = Network::new(v4()).unwrap();
    let out = net.encapsulate(sdu(&payload, 17), &mut cx).unwrap();
    let lens: Vec<usize> = out.iter().map(Pdu::len).collect();
    assert_eq!(lens, [1500, 1500, 68]);
    let flags_off: Vec<[u8; 2]> = out.iter().map(|p| [bytes_of(p)[6], bytes_of(p)[7]]).collect();
    // MF (0x20) on the first two; offsets 0, 185 (= 1480/8, 0x00b9) and 370 (0x0172).
    assert_eq!(flags_off, [[0x20, 0x00], [0x20, 0xb9], [0x01, 0x72]]);
    for (i, p) in out.iter().enumerate() {
        let b = bytes_of(p);
        assert_eq!(&b[4..6], &[0, 1], "fragments share the identification");
        assert_eq!(internet_checksum(&[&b[..20]]), 0);
        assert_eq!(p.meta.part, Some(Part { index: i + 1, count: 3 }));
        assert_eq!(p.meta.ethertype, Some(0x0800));
        assert_eq!(u16::from_be_bytes([b[2], b[3]]) as usize, b.len());
    }
    assert_eq!(cx.trace.values("ip.frag_offset"), [&Value::Uint(0), &Value::Uint(185), &Value::Uint(370)]);
    assert_eq!(cx.trace.values("ip.flags.mf"), [&Value::Bool(true), &Value::Bool(true), &Value::Bool(false)]);
    assert_eq!(cx.trace.records[1].field("ip.frag_offset").unwrap().shown, "185 (1480 bytes)");
    assert_eq!(cx.trace.records[2].part, Some(Part { index: 3, count: 3 }));
    let data: Vec<u8> = out.iter().flat_map(|p| bytes_of(p)[20..].to_vec()).collect();
    assert_eq!(data, payload);
    // The next datagram takes the next identification.
    let next = net.encapsulate(sdu(b"x", 17), &mut cx).unwrap();
    assert_eq!(&bytes_of(&next[0])[4..6], &[0, 2]);
}

#[test]
fn ipv4_fragments_at_the_minimum_mtu() {
    let c = NetworkConfig { mtu: 68, ..v4() };
    let out = send(&c, &[7; 100], 17);
    // (68 − 20) & !7 = 48 bytes per fragment: 48 + 48 + 4.
    assert_eq!(out.iter().map(Pdu::len).collect::<Vec<_>>(), [68, 68, 24]);
}

// ---------------------------------------------------------------- IPv4 up

#[test]
fn ipv4_round_trip_sets_meta() {
    let c = v4();
    let out = send(&c, b"hello", 17);
    let (up, cx) = receive(&c, &out);
    assert_eq!(bytes_of(&up[0]), b"hello");
    let m = &up[0].meta;
    assert_eq!((m.src_ip, m.dst_ip, m.ip_proto, m.offset), (Some(A4.into()), Some(B4.into()), Some(17), ETH + 20));
    assert_eq!(m.ethertype, Some(0x0800));
    let r = &cx.trace.records[0];
    assert_eq!(r.direction, Direction::Up);
    assert_eq!(r.checks.len(), 1);
    assert_eq!(r.checks[0].name, "ip.checksum.status");
    assert!(cx.trace.all_checks_ok());
}

#[test]
fn ipv4_reassembles_in_order_and_reversed() {
    let c = v4();
    let payload: Vec<u8> = (0..3008u32).map(|i| (i * 7) as u8).collect();
    let out = send(&c, &payload, 17);
    for order in [vec![0, 1, 2], vec![2, 1, 0], vec![1, 2, 0]] {
        let frags: Vec<Pdu> = order.iter().map(|&i| out[i].clone()).collect();
        let (up, cx) = receive(&c, &frags);
        assert_eq!(up.len(), 1);
        assert_eq!(bytes_of(&up[0]), &payload[..]);
        assert_eq!(cx.trace.records.len(), 3);
        let notes: Vec<&Vec<String>> = cx.trace.records.iter().map(|r| &r.notes).collect();
        assert!(notes[2].iter().any(|n| n == "reassembled from 3 fragments (3008 bytes)"), "{notes:?}");
        assert!(notes[0][0].starts_with("fragment held for reassembly ("));
    }
    // In order, the total is unknown until the last fragment.
    let (_, cx) = receive(&c, &out);
    assert_eq!(cx.trace.records[0].notes, ["fragment held for reassembly (1480 of ? bytes)"]);
    assert_eq!(cx.trace.records[1].notes, ["fragment held for reassembly (2960 of ? bytes)"]);
    // Last first: the total is known at once.
    let (_, cx) = receive(&c, &[out[2].clone()]);
    assert_eq!(cx.trace.records[0].notes, ["fragment held for reassembly (48 of 3008 bytes)"]);
}

#[test]
fn ipv4_duplicate_fragments_are_dropped() {
    let c = v4();
    let out = send(&c, &[3; 3008], 17);
    let frags = [out[0].clone(), out[0].clone(), out[1].clone(), out[1].clone(), out[2].clone()];
    let (up, cx) = receive(&c, &frags);
    assert_eq!(up.len(), 1);
    assert_eq!(up[0].len(), 3008);
    assert!(cx.trace.records[1].notes[0].starts_with("duplicate fragment dropped"));
    assert!(cx.trace.records[4].notes.iter().any(|n| n.starts_with("reassembled from 3 fragments")));
}

#[test]
fn ipv4_overlapping_fragments() {
    let c = v4();
    let mut net = peer(&c);
    let mut cx = Context::default();
    // Same bytes in the overlap: accepted (RFC 791 §3.2).
    let data: Vec<u8> = (0..32).collect();
    assert!(net.decapsulate(raw(v4_fragment(0, true, &data[..16]), 0x0800), &mut cx).unwrap().is_none());
    assert!(net.decapsulate(raw(v4_fragment(8, true, &data[8..24]), 0x0800), &mut cx).unwrap().is_none());
    let done = net.decapsulate(raw(v4_fragment(24, false, &data[24..]), 0x0800), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&done), &data[..]);
    // Different bytes in the overlap: refused, datagram discarded.
    assert!(net.decapsulate(raw(v4_fragment(0, true, &[1; 16]), 0x0800), &mut cx).unwrap().is_none());
    let e = net.decapsulate(raw(v4_fragment(8, false, &[2; 16]), 0x0800), &mut cx).unwrap_err();
    assert_eq!(e.layer, Some(LayerId::Network));
    assert!(e.to_string().contains("overlapping fragments"), "{e}");
    assert_eq!(e.offset, Some(ETH + 6));
    assert_eq!(net.pending_reassemblies(), 0);
}

#[test]
fn ipv4_reassembly_errors() {
    let c = v4();
    let mut net = peer(&c);
    let mut cx = Context::default();
    // Over 65535 bytes (the "ping of death"): offset 8189 × 8 = 65512, + 20 + 48 > 65535.
    let e = net.decapsulate(raw(v4_fragment(65512, false, &[0; 48]), 0x0800), &mut cx).unwrap_err();
    assert!(e.to_string().contains("65535"), "{e}");
    // A fragment with more to follow must carry a multiple of 8 bytes.
    let e = net.decapsulate(raw(v4_fragment(0, true, &[0; 12]), 0x0800), &mut cx).unwrap_err();
    assert!(e.to_string().contains("multiple of 8"), "{e}");
    // Data beyond the end set by the last fragment.
    assert!(net.decapsulate(raw(v4_fragment(8, false, &[0; 8]), 0x0800), &mut cx).unwrap().is_none());
    let e = net.decapsulate(raw(v4_fragment(16, true, &[0; 8]), 0x0800), &mut cx).unwrap_err();
    assert!(e.to_string().contains("fragment end"), "{e}");
}

#[test]
fn ipv4_reassembly_times_out() {
    let c = v4();
    let out = send(&c, &[1; 3008], 17);
    let mut net = peer(&c);
    let mut cx = Context::default();
    assert!(net.decapsulate(from_l2(&out[0]), &mut cx).unwrap().is_none());
    assert_eq!(net.pending_reassemblies(), 1);
    let mut later = Context::new(Instant::ZERO + REASSEMBLY_TIMEOUT + std::time::Duration::from_secs(1));
    let other = send(&c, b"unrelated", 17);
    assert!(net.decapsulate(from_l2(&other[0]), &mut later).unwrap().is_some());
    assert_eq!(net.pending_reassemblies(), 0);
    assert!(later.trace.records[0].notes.iter().any(|n| n.contains("timed out") && n.contains("1480 bytes")));
}

#[test]
fn an_empty_fragment_with_more_to_follow_is_refused() {
    // IPv4: MF = 1, offset 16, no data. The error names L3 and the Flags / Fragment Offset field.
    let mut net = peer(&v4());
    let mut cx = Context::default();
    assert!(net.decapsulate(raw(v4_fragment(0, true, &[1; 8]), 0x0800), &mut cx).unwrap().is_none());
    let e = net.decapsulate(raw(v4_fragment(16, true, &[]), 0x0800), &mut cx).unwrap_err();
    assert_eq!((e.layer, e.protocol, e.offset), (Some(LayerId::Network), "IPv4", Some(ETH + 6)));
    assert_eq!(
        e.to_string(),
        "L3 network (IPv4) at byte 20: bad fragment length (RFC 791 §3.2: fragments other than the last carry \
         8-byte blocks): expected at least 8 bytes of data when MF is set, found an empty fragment at payload \
         offset 16 with MF set: it makes no progress"
    );
    assert_eq!(cx.trace.records[1].notes, [format!("fragment refused, datagram discarded: {e}")]);
    assert_eq!(net.pending_reassemblies(), 0);
    assert!(!net.holding());
    // IPv6: M = 1, no data; the error is at the Fragment header's offset field.
    let mut net = peer(&v6());
    let e = net.decapsulate(raw(v6_fragment(8, true, &[]), 0x86dd), &mut Context::default()).unwrap_err();
    assert_eq!((e.layer, e.protocol, e.offset), (Some(LayerId::Network), "IPv6", Some(ETH + 42)));
    assert!(e.to_string().contains("an empty fragment at payload offset 8 with M set"), "{e}");
    assert_eq!(net.pending_reassemblies(), 0);
}

#[test]
fn a_datagram_in_too_many_fragments_is_abandoned() {
    use super::reassembly::MAX_PIECES;
    let mut net = peer(&v4());
    let mut cx = Context::default();
    // Overlapping fragments with the same bytes are accepted (RFC 791 §3.2), each a new piece.
    let zeros = vec![0u8; 8 * (MAX_PIECES + 1)];
    for i in 1..=MAX_PIECES {
        assert!(net.decapsulate(raw(v4_fragment(0, true, &zeros[..8 * i]), 0x0800), &mut cx).unwrap().is_none());
    }
    assert!(net.holding());
    let mut cx = Context::default();
    let got = net.decapsulate(raw(v4_fragment(0, true, &zeros), 0x0800), &mut cx).unwrap();
    assert!(got.is_none());
    assert_eq!(
        cx.trace.records[0].notes,
        ["reassembly of datagram 192.0.2.1 → 192.0.2.2 id 0x7 abandoned after more than 1024 fragments (8192 \
          bytes discarded; RFC 1122 §3.3.2)"]
    );
    assert_eq!(net.pending_reassemblies(), 0);
    assert!(!net.holding());
}

#[test]
fn ipv4_trims_ethernet_padding() {
    let c = v4();
    let out = send(&c, b"hi", 17);
    let mut padded = bytes_of(&out[0]).to_vec();
    padded.extend_from_slice(&[0; 24]);
    let mut net = peer(&c);
    let mut cx = Context::default();
    let up = net.decapsulate(raw(padded, 0x0800), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&up), b"hi");
    assert!(cx.trace.records[0].notes.iter().any(|n| n.starts_with("24 bytes after the total length")));
}

#[test]
fn ipv4_bad_version_ihl_and_lengths() {
    let c = v4();
    let good = bytes_of(&send(&c, &[0; 8], 17)[0]).to_vec();
    let mut p = good.clone();
    p[0] = 0x55;
    let e = decap_err(&c, p, 0x0800);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what == "IP version"));
    assert_eq!(e.offset, Some(ETH));
    let mut p = good.clone();
    p[0] = 0x44;
    assert!(matches!(decap_err(&c, p, 0x0800).kind, ErrorKind::Invalid { ref what, .. } if what.starts_with("IHL")));
    let mut p = good.clone();
    p[0] = 0x48; // IHL 8: a 32-byte header in a 28-byte packet.
    assert!(matches!(decap_err(&c, p, 0x0800).kind, ErrorKind::Truncated { needed: 32, available: 28, .. }));
    let mut p = good.clone();
    p[2..4].copy_from_slice(&[0, 19]);
    set_ipv4_checksum(&mut p);
    let e = decap_err(&c, p, 0x0800);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what == "total length"));
    assert_eq!(e.offset, Some(ETH + 2));
    let mut p = good.clone();
    p[2..4].copy_from_slice(&[0, 29]);
    set_ipv4_checksum(&mut p);
    let e = decap_err(&c, p, 0x0800);
    assert!(matches!(e.kind, ErrorKind::Truncated { needed: 29, available: 28, .. }));
}

#[test]
fn ipv4_too_many_trailing_bytes_and_unknown_protocol() {
    let c = v4();
    // 28 + 24 = 52 bytes: more than Ethernet ever pads (46): the total length is wrong.
    let mut p = bytes_of(&send(&c, &[0; 8], 17)[0]).to_vec();
    p.extend_from_slice(&[0; 24]);
    let e = decap_err(&c, p, 0x0800);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what.starts_with("total length")));
    assert_eq!(e.offset, Some(ETH + 2));
    // Protocol 47 (GRE): no handler on this host (RFC 1122 §3.2.2.1).
    let out = send(&c, &[0; 8], 47);
    let e = decap_err(&c, bytes_of(&out[0]).to_vec(), 0x0800);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what.starts_with("protocol")));
    assert_eq!(e.offset, Some(ETH + 9));
}

#[test]
fn ipv4_options_are_skipped() {
    let c = v4();
    let good = bytes_of(&send(&c, b"opts", 17)[0]).to_vec();
    // IHL 6: four bytes of options (NOP NOP NOP End of Option List).
    let mut p = good[..20].to_vec();
    p[0] = 0x46;
    p.extend_from_slice(&[1, 1, 1, 0]);
    p.extend_from_slice(&good[20..]);
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    set_ipv4_checksum(&mut p);
    let mut net = peer(&c);
    let mut cx = Context::default();
    let up = net.decapsulate(raw(p, 0x0800), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&up), b"opts");
    assert_eq!(up.meta.offset, ETH + 24);
    assert_eq!(cx.trace.records[0].header, 0..24);
}

#[test]
fn ipv4_truncated_at_every_length() {
    let c = v4();
    let good = bytes_of(&send(&c, &[9; 30], 17)[0]).to_vec();
    for n in 0..good.len() {
        let e = decap_err(&c, good[..n].to_vec(), 0x0800);
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "length {n}: {e}");
        assert_eq!(e.layer, Some(LayerId::Network));
    }
}

#[test]
fn ipv4_corruption_of_each_header_byte_is_caught() {
    let c = v4();
    let good = bytes_of(&send(&c, &[9; 30], 17)[0]).to_vec();
    for i in 0..20 {
        let mut p = good.clone();
        p[i] ^= 0x01;
        let mut net = peer(&c);
        let mut cx = Context::default();
        let e = net.decapsulate(raw(p, 0x0800), &mut cx).unwrap_err();
        match i {
            // Version/IHL and Total Length are checked for structure first.
            0 => assert!(matches!(e.kind, ErrorKind::Invalid { .. }), "byte {i}: {e}"),
            2 | 3 => assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "byte {i}: {e}"),
            _ => {
                assert!(matches!(e.kind, ErrorKind::Checksum { .. }), "byte {i}: {e}");
                assert_eq!(e.offset, Some(ETH + 10));
                let check = &cx.trace.records[0].checks[0];
                assert_eq!((&*check.name, check.ok), ("ip.checksum.status", false));
            }
        }
    }
}

#[test]
fn ipv4_ttl_zero_and_wrong_destination() {
    let c = v4();
    let mut p = bytes_of(&send(&c, b"x", 17)[0]).to_vec();
    p[8] = 0;
    set_ipv4_checksum(&mut p);
    let e = decap_err(&c, p, 0x0800);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what.starts_with("TTL")));
    assert_eq!(e.offset, Some(ETH + 8));

    // To 192.0.2.3: not for B...
    let to_c = NetworkConfig { remote: C4.into(), ..v4() };
    let out = send(&to_c, b"x", 17);
    let e = decap_err(&c, bytes_of(&out[0]).to_vec(), 0x0800);
    assert!(e.to_string().contains("not addressed to this host"), "{e}");
    assert_eq!(e.offset, Some(ETH + 16));
    // ...unless B captures everything.
    let mut sniffer =
        Network::new(NetworkConfig { promiscuous: true, local: B4.into(), remote: A4.into(), ..v4() }).unwrap();
    assert!(sniffer.decapsulate(from_l2(&out[0]), &mut Context::default()).unwrap().is_some());
}

#[test]
fn unsupported_ethertype_is_an_error() {
    let e = decap_err(&v4(), vec![0; 28], 0x0806);
    assert_eq!(e.layer, Some(LayerId::Network));
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what == "unsupported EtherType"));
}

// ---------------------------------------------------------------- ICMP

#[test]
fn icmp_echo_request_known_bytes() {
    let c = NetworkConfig { echo: Some(EchoConfig { id: 1, seq: 1 }), ..v4() };
    let mut net = Network::new(c).unwrap();
    let mut cx = Context::default();
    let out = net.encapsulate(Pdu::bytes(b"abcd".to_vec()), &mut cx).unwrap();
    let b = bytes_of(&out[0]);
    assert_eq!(b[9], 1, "protocol ICMP");
    // RFC 1071 by hand: 0800 + 0000 + 0001 + 0001 + 6162 + 6364 = 0xccc8; complement 0x3337.
    assert_eq!(&b[20..], &[0x08, 0x00, 0x33, 0x37, 0x00, 0x01, 0x00, 0x01, b'a', b'b', b'c', b'd']);
    assert_eq!(out[0].meta.ip_proto, Some(1));
    // The ICMP record comes before the IP record.
    let protos: Vec<&str> = cx.trace.records.iter().map(|r| &*r.protocol).collect();
    assert_eq!(protos, ["icmp", "ip"]);
    let r = &cx.trace.records[0];
    assert_eq!(r.title, "Internet Control Message Protocol");
    assert_eq!(r.field("icmp.type").unwrap().shown, "8 (Echo (ping) request)");
    assert_eq!(r.field("icmp.checksum").unwrap().value.to_string(), "0x3337");
    assert_eq!(r.field("icmp.ident").unwrap().value.to_string(), "1");
    assert_eq!(r.field("icmp.seq").unwrap().value.to_string(), "1");
    assert_eq!(r.field("icmp.seq_le").unwrap().value.to_string(), "256");
    assert_eq!(r.summary, "Echo (ping) request  id=0x0001, seq=1/256, ttl=64");
    // The next request takes the next sequence number, as ping does.
    let out = net.encapsulate(Pdu::bytes(b"abcd".to_vec()), &mut cx).unwrap();
    assert_eq!(&bytes_of(&out[0])[26..28], &[0, 2]);
}

#[test]
fn icmp_echo_request_reply_round_trip() {
    let c = NetworkConfig { echo: Some(EchoConfig { id: 0x1234, seq: 7 }), ..v4() };
    let mut a = Network::new(c.clone()).unwrap();
    let mut b = Network::new(NetworkConfig { local: c.remote, remote: c.local, echo: None, ..c }).unwrap();
    let mut cx = Context::default();
    let req = a.encapsulate(Pdu::bytes(b"ping data".to_vec()), &mut cx).unwrap();
    let up = b.decapsulate(from_l2(&req[0]), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&up), b"ping data");
    assert_eq!(up.meta.ip_proto, Some(1));
    assert_eq!(up.meta.offset, ETH + 28);
    let got = b.last_echo().unwrap().clone();
    assert_eq!((got.kind, got.id, got.seq), (EchoKind::Request, 0x1234, 7));
    let check = &cx.trace.records.last().unwrap().checks[0];
    assert_eq!((&*check.name, check.ok), ("icmp.checksum.status", true));

    let reply = echo_reply(&got).unwrap();
    assert_eq!((reply.src, reply.dst), (IpAddr::V4(B4), IpAddr::V4(A4)));
    assert!(echo_reply(&reply).is_none());
    let mut p = Pdu::bytes(reply.to_bytes());
    p.meta.ip_proto = Some(reply.ip_proto());
    let mut cx = Context::default();
    let back = b.encapsulate(p, &mut cx).unwrap();
    assert_eq!(cx.trace.records[0].field("icmp.type").unwrap().value, Value::Uint(0));
    let mut cx = Context::default();
    let up = a.decapsulate(from_l2(&back[0]), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&up), b"ping data");
    let e = a.last_echo().unwrap();
    assert_eq!((e.kind, e.id, e.seq, e.src), (EchoKind::Reply, 0x1234, 7, IpAddr::V4(B4)));
    assert!(cx.trace.all_checks_ok());
}

#[test]
fn echo_reply_pure_function() {
    let req = Echo { kind: EchoKind::Request, id: 1, seq: 2, data: b"abcd".to_vec(), src: A4.into(), dst: B4.into() };
    let rep = echo_reply(&req).unwrap();
    // Type 0, same id/seq/data; by hand 0000 + 0001 + 0002 + 6162 + 6364 = 0xc4c9, complement 0x3b36.
    let bytes = rep.to_bytes();
    assert_eq!(&bytes[..8], &[0, 0, 0x3b, 0x36, 0, 1, 0, 2]);
    assert_eq!(internet_checksum(&[&bytes]), 0);
    assert_eq!(Echo::parse(&bytes, B4.into(), A4.into()), Some(rep));
    let req6 = Echo { src: A6.into(), dst: B6.into(), ..req };
    let rep6 = echo_reply(&req6).unwrap();
    assert_eq!(rep6.icmp_type(), 129);
    assert_eq!(rep6.to_bytes()[0], 129);
}

#[test]
fn icmp_bad_checksum_and_short_message() {
    let c = NetworkConfig { echo: Some(EchoConfig { id: 1, seq: 1 }), ..v4() };
    let out = send(&c, b"abcd", 0);
    let mut p = bytes_of(&out[0]).to_vec();
    p[22] ^= 0xff; // the ICMP checksum's first byte
    let mut net = peer(&c);
    let mut cx = Context::default();
    let e = net.decapsulate(raw(p, 0x0800), &mut cx).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Checksum { expected: 0x3337, .. }), "{e}");
    assert_eq!(e.offset, Some(ETH + 20 + 2));
    let last = cx.trace.records.last().unwrap();
    assert_eq!((&*last.protocol, last.checks[0].ok), ("icmp", false));

    // An ICMP message of 4 bytes.
    let mut p = bytes_of(&out[0])[..24].to_vec();
    p[2..4].copy_from_slice(&[0, 24]);
    set_ipv4_checksum(&mut p);
    let e = decap_err(&c, p, 0x0800);
    assert!(matches!(e.kind, ErrorKind::Truncated { needed: 8, available: 4, .. }));
}

#[test]
fn icmp_non_echo_is_consumed() {
    let c = v4();
    // Destination unreachable (type 3, code 4) as a ready ICMP message.
    let mut msg = vec![3, 4, 0, 0, 0, 0, 0x05, 0xdc];
    let ck = internet_checksum(&[&msg]);
    msg[2..4].copy_from_slice(&ck.to_be_bytes());
    let out = send(&c, &msg, 1);
    let (up, cx) = receive(&c, &out);
    assert!(up.is_empty());
    assert_eq!(cx.trace.records[1].field("icmp.type").unwrap().shown, "3 (Destination unreachable)");
    assert!(cx.trace.all_checks_ok());
}

#[test]
fn large_ping_is_fragmented_and_reassembled() {
    let c = NetworkConfig { echo: Some(EchoConfig { id: 9, seq: 0 }), ..v4() };
    let data = vec![0x5a; 4000];
    let out = send(&c, &data, 0);
    assert_eq!(out.len(), 3);
    let (up, cx) = receive(&c, &out);
    assert_eq!(bytes_of(&up[0]), &data[..]);
    assert_eq!(cx.trace.records.last().unwrap().protocol, "icmp");
    assert!(cx.trace.all_checks_ok());
}

#[test]
fn icmpv6_checksum_covers_the_pseudo_header() {
    let c = NetworkConfig { echo: Some(EchoConfig { id: 1, seq: 1 }), ..v6() };
    let mut cx = Context::default();
    let out = Network::new(c.clone()).unwrap().encapsulate(Pdu::bytes(b"abcd".to_vec()), &mut cx).unwrap();
    let b = bytes_of(&out[0]);
    assert_eq!(b[6], 58);
    // RFC 4443 §2.3 by hand. Pseudo-header: 2001+0db8+0001 (src) + 2001+0db8+0002 (dst)
    // + 000c (length) + 003a (next header) = 0x5bbb; message 8000 + 0001 + 0001 + 6162 + 6364;
    // total 0x1a083, folded 0xa084, complement 0x5f7b.
    assert_eq!(&b[40..], &[0x80, 0x00, 0x5f, 0x7b, 0x00, 0x01, 0x00, 0x01, b'a', b'b', b'c', b'd']);
    let r = &cx.trace.records[0];
    assert_eq!(r.protocol, "icmpv6");
    assert_eq!(r.field("icmpv6.checksum").unwrap().value.to_string(), "0x5f7b");
    assert_eq!(r.field("icmpv6.echo.identifier").unwrap().value.to_string(), "0x0001");
    assert_eq!(r.field("icmpv6.echo.sequence_number").unwrap().value.to_string(), "1");
    // The same message to another destination has another checksum.
    let other = icmp::icmpv6_checksum(A6, C6, &b[40..48], &b[48..]);
    assert_ne!(other, 0x5f7b);
    // Received intact: good; with the checksum damaged: bad.
    let (up, cx) = receive(&c, &out);
    assert_eq!(bytes_of(&up[0]), b"abcd");
    assert_eq!(up[0].meta.ip_proto, Some(58));
    let check = &cx.trace.records[1].checks[0];
    assert_eq!((&*check.name, check.ok), ("icmpv6.checksum.status", true));
    let mut p = b.to_vec();
    p[42] ^= 0x10;
    let mut sniffer = Network::new(NetworkConfig { promiscuous: true, ..v6() }).unwrap();
    let e = sniffer.decapsulate(raw(p, 0x86dd), &mut Context::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Checksum { expected: 0x5f7b, .. }), "{e}");
    assert_eq!(e.offset, Some(ETH + 42));
}

// ---------------------------------------------------------------- IPv6

#[test]
fn ipv6_known_header_bytes() {
    let mut cx = Context::default();
    let out = Network::new(v6()).unwrap().encapsulate(sdu(&[0xbb; 8], 17), &mut cx).unwrap();
    let b = bytes_of(&out[0]);
    #[rustfmt::skip]
    let fixed = [
        0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
        0x00, 0x08, 0x11, 0x40, // payload length 8, next header 17 (UDP), hop limit 64
    ];
    assert_eq!(&b[..8], &fixed);
    assert_eq!(&b[8..24], &A6.octets());
    assert_eq!(&b[24..40], &B6.octets());
    assert_eq!(&b[40..], &[0xbb; 8]);
    assert_eq!(out[0].meta.ethertype, Some(0x86dd));
    let r = &cx.trace.records[0];
    assert_eq!(r.title, "Internet Protocol Version 6, Src: 2001:db8::1, Dst: 2001:db8::2");
    let names: Vec<&str> = r.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "ipv6.version",
            "ipv6.tclass",
            "ipv6.tclass.dscp",
            "ipv6.tclass.ecn",
            "ipv6.flow",
            "ipv6.plen",
            "ipv6.nxt",
            "ipv6.hlim",
            "ipv6.src",
            "ipv6.dst"
        ]
    );
    assert_eq!(r.field("ipv6.tclass").unwrap().value.to_string(), "0x00000000");
    assert_eq!(r.field("ipv6.flow").unwrap().value.to_string(), "0x000000");
    assert_eq!(r.field("ipv6.flow").unwrap().shown, "0x00000");
    assert_eq!(r.field("ipv6.nxt").unwrap().shown, "UDP (17)");
}

#[test]
fn ipv6_fragments_and_reassembles() {
    let c = NetworkConfig { mtu: 1280, ident: 0x42, ..v6() };
    let payload: Vec<u8> = (0..3008u32).map(|i| (i % 251) as u8).collect();
    let mut cx = Context::default();
    let out = Network::new(c.clone()).unwrap().encapsulate(sdu(&payload, 17), &mut cx).unwrap();
    // (1280 − 40 − 8) & !7 = 1232 bytes per fragment: 1232 + 1232 + 544.
    assert_eq!(out.iter().map(Pdu::len).collect::<Vec<_>>(), [1280, 1280, 592]);
    for (i, p) in out.iter().enumerate() {
        let b = bytes_of(p);
        assert_eq!(b[6], 44, "next header: Fragment");
        assert_eq!(u16::from_be_bytes([b[4], b[5]]) as usize, b.len() - 40);
        assert_eq!(b[40], 17, "fragment header's next header: UDP");
        assert_eq!(&b[44..48], &[0, 0, 0, 0x42], "32-bit identification");
        let off_m = u16::from_be_bytes([b[42], b[43]]);
        assert_eq!((off_m >> 3, off_m & 1), ([0, 154, 308][i], u16::from(i < 2)));
        assert_eq!(p.meta.part, Some(Part { index: i + 1, count: 3 }));
    }
    assert_eq!(cx.trace.values("ipv6.fraghdr.offset"), [&Value::Uint(0), &Value::Uint(154), &Value::Uint(308)]);
    assert_eq!(cx.trace.records[1].field("ipv6.fraghdr.ident").unwrap().value.to_string(), "0x00000042");
    assert_eq!(cx.trace.records[0].header, 0..48);
    for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2]] {
        let frags: Vec<Pdu> = order.iter().map(|&i| out[i].clone()).collect();
        let (up, cx) = receive(&c, &frags);
        assert_eq!(bytes_of(&up[0]), &payload[..]);
        assert_eq!(up[0].meta.ip_proto, Some(17));
        assert_eq!(up[0].meta.offset, ETH + 48);
        assert!(cx.trace.records[2].notes.iter().any(|n| n.starts_with("reassembled from 3 fragments")));
    }
}

#[test]
fn ipv6_overlaps_and_duplicates() {
    let c = v6();
    let mut net = peer(&c);
    let mut cx = Context::default();
    let data: Vec<u8> = (0..32).collect();
    let first = v6_fragment(0, true, &data[..16]);
    assert!(net.decapsulate(raw(first.clone(), 0x86dd), &mut cx).unwrap().is_none());
    // An exact duplicate is dropped alone (RFC 8200 §4.5).
    assert!(net.decapsulate(raw(first, 0x86dd), &mut cx).unwrap().is_none());
    assert!(cx.trace.records[1].notes[0].starts_with("exact duplicate fragment dropped"));
    // Any other overlap abandons the packet (RFC 5722), even with the same bytes.
    let e = net.decapsulate(raw(v6_fragment(8, false, &data[8..]), 0x86dd), &mut cx).unwrap_err();
    assert!(e.to_string().contains("overlapping fragments"), "{e}");
    assert_eq!(e.offset, Some(ETH + 42));
    assert_eq!(net.pending_reassemblies(), 0);
    // Atomic fragment: offset 0, M = 0.
    let up = net.decapsulate(raw(v6_fragment(0, false, b"whole"), 0x86dd), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&up), b"whole");
    // Reassembled payload over 65535 bytes.
    let e = net.decapsulate(raw(v6_fragment(65528, false, &[0; 16]), 0x86dd), &mut cx).unwrap_err();
    assert!(e.to_string().contains("65535"), "{e}");
}

#[test]
fn ipv6_errors() {
    let c = v6();
    let good = bytes_of(&send(&c, &[1; 20], 17)[0]).to_vec();
    let mut p = good.clone();
    p[0] = 0x40;
    assert!(matches!(decap_err(&c, p, 0x86dd).kind, ErrorKind::Invalid { ref what, .. } if what == "IP version"));
    for n in 0..good.len() {
        let e = decap_err(&c, good[..n].to_vec(), 0x86dd);
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "length {n}: {e}");
    }
    let mut p = good.clone();
    p[7] = 0;
    let e = decap_err(&c, p, 0x86dd);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what.starts_with("hop limit")));
    assert_eq!(e.offset, Some(ETH + 7));
    let mut p = good.clone();
    p[39] = 3;
    let e = decap_err(&c, p, 0x86dd);
    assert!(e.to_string().contains("not addressed to this host"));
    assert_eq!(e.offset, Some(ETH + 24));
    // Bytes after the payload: padding when the frame needed it (42 + 4 = 46 bytes)...
    let mut p = bytes_of(&send(&c, &[1, 2], 17)[0]).to_vec();
    p.extend_from_slice(&[0; 4]);
    let mut net = peer(&c);
    let mut cx = Context::default();
    assert_eq!(net.decapsulate(raw(p, 0x86dd), &mut cx).unwrap().unwrap().len(), 2);
    assert!(cx.trace.records[0].notes.iter().any(|n| n.contains("padding")));
    // ...a wrong payload length when it did not.
    let mut p = good.clone();
    p.extend_from_slice(&[0; 6]);
    let e = decap_err(&c, p, 0x86dd);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what.starts_with("payload length")));
    assert_eq!(e.offset, Some(ETH + 4));
    // A next header this host has no handler for (RFC 8200 §4), and No Next Header.
    let mut p = good.clone();
    p[6] = 132; // SCTP
    let e = decap_err(&c, p.clone(), 0x86dd);
    assert!(matches!(e.kind, ErrorKind::Invalid { ref what, .. } if what.starts_with("next header")));
    assert_eq!(e.offset, Some(ETH + 6));
    let mut sniffer = Network::new(NetworkConfig { promiscuous: true, ..v6() }).unwrap();
    assert_eq!(
        sniffer.decapsulate(raw(p.clone(), 0x86dd), &mut Context::default()).unwrap().unwrap().meta.ip_proto,
        Some(132)
    );
    p[6] = 59;
    let mut net = peer(&c);
    assert!(net.decapsulate(raw(p, 0x86dd), &mut Context::default()).unwrap().is_none());
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let c = v6();
    let good = bytes_of(&send(&c, b"udp!", 17)[0]).to_vec();
    // Hop-by-Hop Options (8 bytes: next 17, length 0, PadN of 4) before the UDP payload.
    let mut p = good[..40].to_vec();
    p[6] = 0;
    p[5] = 12;
    p.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
    p.extend_from_slice(b"udp!");
    let mut net = peer(&c);
    let mut cx = Context::default();
    let up = net.decapsulate(raw(p.clone(), 0x86dd), &mut cx).unwrap().unwrap();
    assert_eq!(bytes_of(&up), b"udp!");
    assert_eq!((up.meta.ip_proto, up.meta.offset), (Some(17), ETH + 48));
    // Hop-by-Hop after another extension header is invalid (RFC 8200 §4.1).
    let mut q = good[..40].to_vec();
    q[6] = 60;
    q[5] = 20;
    q.extend_from_slice(&[0, 0, 1, 4, 0, 0, 0, 0]);
    q.extend_from_slice(&[17, 0, 1, 4, 0, 0, 0, 0]);
    q.extend_from_slice(b"udp!");
    assert!(matches!(decap_err(&c, q, 0x86dd).kind, ErrorKind::Invalid { .. }));
    // An extension header longer than the payload.
    let mut t = p.clone();
    t[41] = 1;
    assert!(matches!(decap_err(&c, t, 0x86dd).kind, ErrorKind::Truncated { .. }));
}

// ---------------------------------------------------------------- properties

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = crate::rng::Rng::new(seed);
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn prop_ipv4_round_trip_any_order(
        payload in proptest::collection::vec(any::<u8>(), 0..6000),
        mtu in 68usize..2000,
        ttl in 1u8..=255,
        ident in any::<u16>(),
        proto in prop_oneof![Just(6u8), Just(17u8)],
        seed in any::<u64>(),
        dup in any::<bool>(),
    ) {
        let c = NetworkConfig { mtu, ttl, ident, ..v4() };
        let out = send(&c, &payload, proto);
        let per = (mtu - 20) & !7;
        let expected = if payload.len() + 20 <= mtu { 1 } else { payload.len().div_ceil(per) };
        prop_assert_eq!(out.len(), expected);
        for p in &out {
            prop_assert!(p.len() <= mtu);
            prop_assert_eq!(internet_checksum(&[&bytes_of(p)[..20]]), 0);
        }
        let mut frags: Vec<Pdu> = shuffled(out.len(), seed).into_iter().map(|i| out[i].clone()).collect();
        if dup && frags.len() > 1 {
            frags.insert(1, frags[0].clone());
        }
        let (up, cx) = receive(&c, &frags);
        prop_assert_eq!(up.len(), 1);
        prop_assert_eq!(bytes_of(&up[0]), &payload[..]);
        prop_assert_eq!(up[0].meta.ip_proto, Some(proto));
        prop_assert!(cx.trace.all_checks_ok());
    }

    #[test]
    fn prop_ipv6_round_trip_any_order(
        payload in proptest::collection::vec(any::<u8>(), 0..6000),
        mtu in 1280usize..3000,
        seed in any::<u64>(),
    ) {
        let c = NetworkConfig { mtu, ..v6() };
        let out = send(&c, &payload, 17);
        for p in &out {
            prop_assert!(p.len() <= mtu);
        }
        let frags: Vec<Pdu> = shuffled(out.len(), seed).into_iter().map(|i| out[i].clone()).collect();
        let (up, _) = receive(&c, &frags);
        prop_assert_eq!(up.len(), 1);
        prop_assert_eq!(bytes_of(&up[0]), &payload[..]);
    }

    #[test]
    fn prop_echo_round_trip(data in proptest::collection::vec(any::<u8>(), 0..3000), id in any::<u16>(), seq in any::<u16>(), six in any::<bool>()) {
        let base = if six { v6() } else { v4() };
        let c = NetworkConfig { echo: Some(EchoConfig { id, seq }), ..base };
        let out = send(&c, &data, 0);
        let (up, cx) = receive(&c, &out);
        prop_assert_eq!(bytes_of(&up[0]), &data[..]);
        prop_assert!(cx.trace.all_checks_ok());
    }

    #[test]
    fn prop_arbitrary_bytes_never_panic(
        packets in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..120), prop_oneof![Just(Some(0x0800u16)), Just(Some(0x86dd)), Just(None), any::<u16>().prop_map(Some)]),
            1..8),
        promiscuous in any::<bool>(),
    ) {
        let mut n4 = Network::new(NetworkConfig { promiscuous, ..v4() }).unwrap();
        let mut n6 = Network::new(NetworkConfig { promiscuous, ..v6() }).unwrap();
        for (bytes, ethertype) in packets {
            for net in [&mut n4, &mut n6] {
                let mut p = Pdu::bytes(bytes.clone());
                p.meta.ethertype = ethertype;
                p.meta.offset = ETH;
                let mut cx = Context::default();
                match net.decapsulate(p, &mut cx) {
                    Ok(_) => {}
                    Err(e) => prop_assert_eq!(e.layer, Some(LayerId::Network)),
                }
            }
        }
    }

    #[test]
    fn prop_mutated_packets_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..200),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        six in any::<bool>(),
    ) {
        let c = if six { NetworkConfig { promiscuous: true, ..v6() } } else { NetworkConfig { promiscuous: true, mtu: 68, ..v4() } };
        let out = send(&c, &payload, 17);
        let mut net = peer(&c);
        for p in &out {
            let mut b = bytes_of(p).to_vec();
            for (i, v) in &edits {
                let at = i.index(b.len());
                b[at] = *v;
            }
            let _ = net.decapsulate(raw(b, p.meta.ethertype.unwrap_or(0x0800)), &mut Context::default());
        }
    }
}

// ---------------------------------------------------------------- trace snapshots

#[test]
fn snapshot_fragmented_ping_both_ways() {
    let c = NetworkConfig { echo: Some(EchoConfig { id: 0x0102, seq: 1 }), mtu: 576, ..v4() };
    let mut cx = Context::default();
    let out = Network::new(c.clone()).unwrap().encapsulate(Pdu::bytes(vec![0x61; 1000]), &mut cx).unwrap();
    let mut b = peer(&c);
    for p in &out {
        b.decapsulate(from_l2(p), &mut cx).unwrap();
    }
    insta::assert_snapshot!(cx.trace.to_string());
}

#[test]
fn snapshot_ipv6_fragments() {
    let c = NetworkConfig { mtu: 1280, ..v6() };
    let mut cx = Context::default();
    let out = Network::new(c.clone()).unwrap().encapsulate(sdu(&[0x62; 1300], 17), &mut cx).unwrap();
    let mut b = peer(&c);
    for p in &out {
        b.decapsulate(from_l2(p), &mut cx).unwrap();
    }
    insta::assert_snapshot!(cx.trace.to_string());
}
