//! Capture-mode tests for L3 (with L2 in front, as the dissector will run them).
//!
//! `testdata/` holds real captures (tcpdump on a veth pair between two network namespaces made
//! for the purpose, documentation addresses only: ping and ping -6 with ARP / neighbor
//! discovery, fragmented pings and UDP datagrams, UDP to a closed port, TTL / hop-limit 1
//! probes through a router namespace for ICMP time exceeded quoting UDP and TCP, DF pings and a
//! large IPv6 datagram for fragmentation needed / packet too big, an IGMP join, MLDv2 reports and
//! a router solicitation on link-up) and `built-*` captures made with Python for what real
//! traffic rarely shows (802.3 and 802.1Q/802.1ad frames, padding and trailers, ARP variants,
//! every ICMP type and code, quotes cut at every length, IPv4 options, IPv6 extension headers,
//! ND options, bad checksums, lengths that disagree with the frame).
//!
//! Each `NAME.fields` is what tshark 4.0.17 printed for `NAME.pcap` with
//! `tshark -r NAME.pcap -T fields -E separator='|' -e FIELD ...` over [`FIELDS`]. The oracle
//! test runs every frame through L2 and L3 in capture mode, adds L2's [`trailer`] after the
//! packet L3 measured, and compares field by field. UDP and TCP fields of frames whose transport
//! goes up to L4 are L4's to make and are not compared here (those in ICMP quotes are).

use super::super::{Network, NetworkConfig};
use crate::addr::MacAddr;
use crate::error::ErrorKind;
use crate::layer::{Context, Layer, LayerId, Meta, Pdu};
use crate::layers::l2_data_link::{trailer, DataLink, DataLinkConfig};
use crate::time::Instant;
use crate::trace::{Group, Severity, Trace, Value};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

/// The fields compared, in the order of the `.fields` files.
const FIELDS: &str = "eth.src eth.dst eth.type vlan.id eth.padding eth.trailer vlan.trailer eth.fcs arp.opcode \
    arp.src.proto_ipv4 arp.dst.proto_ipv4 ip.version ip.hdr_len ip.len ip.id ip.flags ip.flags.mf ip.frag_offset \
    ip.ttl ip.proto ip.checksum ip.src ip.dst ip.cur_rt ip.opt.type ip.opt.len ip.opt.ptr ip.rec_rt ip.empty_rt \
    ip.src_rt ip.opt.ra ip.opt.time_stamp ip.opt.time_stamp_addr ip.options.routeralert ip.options.nop \
    ip.options.eol icmp.type icmp.code icmp.checksum icmp.ident icmp.seq icmp.unused icmp.mtu icmp.pointer \
    icmp.redir_gw icmp.length icmp.originate_timestamp icmp.address_mask icmp.num_addrs icmp.router_address \
    ip.fragments ip.fragment ip.fragment.count ip.reassembled.length udp.srcport udp.dstport udp.length \
    udp.checksum udp.payload tcp.srcport tcp.dstport tcp.seq tcp.seq_raw tcp.ack tcp.ack_raw tcp.hdr_len \
    tcp.flags tcp.window_size_value tcp.checksum tcp.len tcp.options.mss_val tcp.payload ipv6.plen ipv6.nxt \
    ipv6.hlim ipv6.src ipv6.dst ipv6.flow ipv6.tclass icmpv6.type icmpv6.code icmpv6.checksum icmpv6.reserved \
    icmpv6.mtu icmpv6.pointer icmpv6.echo.identifier icmpv6.echo.sequence_number icmpv6.nd.ns.target_address \
    icmpv6.nd.na.flag icmpv6.nd.na.flag.s icmpv6.nd.na.target_address icmpv6.nd.ra.flag \
    icmpv6.nd.ra.cur_hop_limit icmpv6.nd.rd.target_address icmpv6.opt icmpv6.opt.type icmpv6.opt.length \
    icmpv6.opt.linkaddr icmpv6.opt.mtu icmpv6.opt.prefix icmpv6.opt.prefix.valid_lifetime icmpv6.opt.reserved \
    icmpv6.mld.multicast_address icmpv6.mld.maximum_response_code icmpv6.data ipv6.hopopts ipv6.hopopts.nxt \
    ipv6.hopopts.len ipv6.hopopts.len_oct ipv6.dstopts ipv6.routing.type ipv6.routing.segleft ipv6.opt \
    ipv6.opt.type ipv6.opt.length ipv6.opt.router_alert ipv6.opt.padn ipv6.fraghdr ipv6.fraghdr.offset \
    ipv6.fraghdr.more ipv6.fraghdr.ident ipv6.fraghdr.reserved_octet ipv6.fragments ipv6.fragment \
    ipv6.fragment.count ipv6.reassembled.length icmpv6.mldr.nb_mcast_records icmpv6.mldr.mar \
    icmpv6.mldr.mar.record_type icmpv6.mldr.mar.multicast_address arp.src.hw_mac arp.dst.hw_mac arp.hw.type \
    arp.isgratuitous arp.src.proto vlan.etype vlan.len eth.len eth.invalid_lentype ieee8021ad.id ip.dsfield \
    ipv6.routing.src.addr icmpv6.mldr.mar.nb_sources ip.reassembled.data ipv6.reassembled.data data.len \
    icmp.data_time icmp.data_time_relative";

macro_rules! capture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("testdata/", $name, ".pcap")),
            include_str!(concat!("testdata/", $name, ".fields")),
        )
    };
}

/// Every capture and what tshark printed for it.
const CAPTURES: &[(&str, &[u8], &str)] = &[
    capture!("ping4"),
    capture!("ping4frag"),
    capture!("udpunreach4"),
    capture!("tcpttl4"),
    capture!("udpttl4"),
    capture!("fragneeded4"),
    capture!("igmp"),
    capture!("udpfrag4"),
    capture!("ping6"),
    capture!("ping6frag"),
    capture!("udpunreach6"),
    capture!("tcpttl6"),
    capture!("ptb6"),
    capture!("linkup"),
    capture!("udpfrag6"),
    capture!("built-icmpx"),
    capture!("built-icmpx2"),
    capture!("built-udpq"),
    capture!("built-misc4"),
    capture!("built-ipopts"),
    capture!("built-pad"),
    capture!("built-e8023"),
    capture!("built-vlan2"),
    capture!("built-arp2"),
    capture!("built-arp3"),
    capture!("built-icmp6x"),
    capture!("built-misc6"),
    capture!("built-codes"),
    capture!("built-dtime"),
    capture!("built-icmpx3"),
];

/// Where tshark goes further than L2/L3 here, by design (file, frame, field):
/// - icmpx 13: type 42 (RFC 8335 extended echo) is not dissected, so no `icmp.ident`;
/// - icmpx 25: a quoted GRE packet: tshark dissects GRE and the (bogus) IP inside it.
const KNOWN_GAPS: &[(&str, usize, &str)] = &[("built-icmpx", 13, "icmp.ident"), ("built-icmpx", 25, "ip.version")];

/// One frame of a classic little-endian pcap: (time, original length, bytes).
fn frames(pcap: &[u8]) -> Vec<(Instant, usize, Vec<u8>)> {
    let le = |o: usize| u32::from_le_bytes([pcap[o], pcap[o + 1], pcap[o + 2], pcap[o + 3]]) as usize;
    let mut out = Vec::new();
    let mut o = 24;
    while o + 16 <= pcap.len() {
        let (sec, usec, cap, orig) = (le(o), le(o + 4), le(o + 8), le(o + 12));
        let at = Instant::from_nanos(sec as u64 * 1_000_000_000 + usec as u64 * 1000);
        out.push((at, orig, pcap[o + 16..o + 16 + cap].to_vec()));
        o += 16 + cap;
    }
    out
}

fn l2() -> DataLink {
    DataLink::new(DataLinkConfig {
        local: MacAddr::ZERO,
        remote: MacAddr::ZERO,
        vlan: None,
        promiscuous: true,
        capture: true,
    })
}

fn l3() -> Network {
    let any: IpAddr = Ipv4Addr::UNSPECIFIED.into();
    Network::new(NetworkConfig {
        local: any,
        remote: any,
        ttl: 64,
        mtu: 1500,
        dont_fragment: false,
        ident: 0,
        echo: None,
        promiscuous: true,
        capture: true,
    })
    .unwrap()
}

/// What one frame gave: the trace, L3's result, whether its transport went up to L4, and the
/// `data.len` the dissector will show where L3 decides it (an ICMP echo's data, a fragment held
/// for reassembly).
struct Dissected {
    trace: Trace,
    l3: Option<crate::error::Result<Option<Pdu>>>,
    to_l4: bool,
    data_len: Option<usize>,
}

/// L2, then L3 for IP, then the trailer after the packet (as the dissector will do it).
fn dissect(dl: &mut DataLink, net: &mut Network, number: usize, at: Instant, orig: usize, frame: &[u8]) -> Dissected {
    let mut cx = Context::new(at);
    let mut out = Dissected { trace: Trace::default(), l3: None, to_l4: false, data_len: None };
    let Ok(Some(p)) = dl.decapsulate(Pdu::bytes(frame.to_vec()), &mut cx) else {
        out.trace = cx.trace;
        return out;
    };
    let tagged = cx.trace.records.iter().any(|r| r.protocol == "vlan" || r.protocol == "ieee8021ad");
    let start = p.meta.offset;
    let end = if matches!(p.meta.ethertype, Some(0x0800 | 0x86dd)) {
        net.set_frame_number(number);
        let first = cx.trace.records.len();
        let r = net.decapsulate(p, &mut cx);
        out.to_l4 = matches!(&r, Ok(Some(p)) if matches!(p.meta.ip_proto, Some(6 | 17)));
        out.data_len = match &r {
            Ok(Some(p)) if matches!(p.meta.ip_proto, Some(1 | 58)) && !p.is_empty() => Some(p.len()),
            // A fragment held: the last record is its IP record; its payload is shown as data.
            Ok(None) => cx
                .trace
                .records
                .last()
                .filter(|r| r.protocol == "ip" || r.protocol == "ipv6")
                .filter(|r| r.notes.iter().any(|n| n.starts_with("fragment held")))
                .map(|r| r.payload_len),
            _ => None,
        };
        let measured =
            cx.trace.records.get(first).filter(|r| r.protocol == "ip" || r.protocol == "ipv6").map(|r| r.pdu_len());
        let end = if r.is_ok() { measured.map(|l| start + l) } else { None };
        out.l3 = Some(r);
        end
    } else {
        Some(start + p.len())
    };
    if let Some(end) = end.filter(|&e| e < frame.len()) {
        let t = trailer(orig, &frame[end..], tagged, Some(end));
        if let Some(r) = cx.trace.records.iter_mut().filter(|r| r.protocol == "eth" || r.protocol == "vlan").last() {
            r.fields.extend(t.fields);
        }
    }
    out.trace = cx.trace;
    out
}

fn joined(t: &Trace, name: &str) -> String {
    t.values(name).iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

#[test]
fn every_frame_matches_tshark() {
    let names: Vec<&str> = FIELDS.split_whitespace().collect();
    let mut compared = 0;
    let mut failures = Vec::new();
    for (file, pcap, expected) in CAPTURES {
        let (mut dl, mut net) = (l2(), l3());
        let lines: Vec<&str> = expected.lines().collect();
        let fr = frames(pcap);
        assert_eq!(fr.len(), lines.len(), "{file}: frames vs tshark lines");
        for (i, ((at, orig, frame), line)) in fr.iter().zip(&lines).enumerate() {
            let n = i + 1;
            let d = dissect(&mut dl, &mut net, n, *at, *orig, frame);
            let want: Vec<&str> = line.split('|').collect();
            assert_eq!(want.len(), names.len(), "{file} frame {n}: columns");
            for (name, want) in names.iter().zip(want) {
                if d.to_l4 && (name.starts_with("udp.") || name.starts_with("tcp.")) {
                    continue;
                }
                if *name == "data.len" {
                    // Compared only where L3 decides what the data is.
                    if let Some(n) = d.data_len {
                        compared += 1;
                        if n.to_string() != want {
                            failures.push(format!("{file} frame {n}: data.len tshark {want:?}, osilab {n}"));
                        }
                    }
                    continue;
                }
                if KNOWN_GAPS.contains(&(file, n, name)) {
                    continue;
                }
                compared += 1;
                let got = joined(&d.trace, name);
                if got != want {
                    failures.push(format!("{file} frame {n} {name}: tshark {want:?}, osilab {got:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {compared} values differ:\n{}", failures.len(), failures.join("\n"));
    assert!(compared > 20_000, "compared {compared}");
}

/// The frames of a test capture.
fn capture_frames(name: &str) -> Vec<(Instant, usize, Vec<u8>)> {
    let (_, pcap, _) = CAPTURES.iter().find(|c| c.0 == name).unwrap();
    frames(pcap)
}

#[test]
fn fragments_wait_then_the_last_one_delivers_the_datagram() {
    let (mut dl, mut net) = (l2(), l3());
    let fr = capture_frames("ping4frag");
    for (i, (at, orig, f)) in fr.iter().enumerate().take(2) {
        let d = dissect(&mut dl, &mut net, i + 1, *at, *orig, f);
        assert!(matches!(d.l3, Some(Ok(None))), "fragment {} is held", i + 1);
        // Only the IP record: the dissector shows the fragment's bytes as data.
        let r = d.trace.records.last().unwrap();
        assert_eq!((&*r.protocol, r.pdu_len()), ("ip", 1500));
    }
    let (at, orig, f) = &fr[2];
    let d = dissect(&mut dl, &mut net, 3, *at, *orig, f);
    let p = d.l3.unwrap().unwrap().unwrap();
    // The echo data: 3008 − 8 bytes of ICMP header − ping's 8-byte timestamp, which tshark shows
    // as icmp.data_time (data.len 2992); detached from the frame.
    assert_eq!((p.len(), p.meta.ip_proto, p.meta.detached), (2992, Some(1), true));
    assert_eq!(joined(&d.trace, "icmp.data_time").len(), "Nov 21, 2026 22:01:26.000000000 UTC".len());
    assert_eq!(joined(&d.trace, "ip.fragment"), "1,2,3");
    assert_eq!(joined(&d.trace, "ip.reassembled.length"), "3008");
    assert_eq!(net.pending_reassemblies(), 0);

    // Without frame numbers the ip.fragment items are left out, the rest stays.
    let (mut dl, mut net) = (l2(), l3());
    let mut last = None;
    for (at, _, f) in &fr[..3] {
        let mut cx = Context::new(*at);
        let p = dl.decapsulate(Pdu::bytes(f.clone()), &mut cx).unwrap().unwrap();
        net.decapsulate(p, &mut cx).unwrap();
        last = Some(cx.trace);
    }
    let t = last.unwrap();
    assert_eq!((joined(&t, "ip.fragment"), joined(&t, "ip.fragment.count")), (String::new(), "3".to_string()));
}

#[test]
fn an_icmp_error_keeps_its_quote_for_the_application_layer() {
    // udpttl4: a 100-byte DNS-port datagram with TTL 1, and the router's time exceeded quoting
    // it whole; tshark hands the quoted payload to its DNS dissector.
    let (mut dl, mut net) = (l2(), l3());
    let fr = capture_frames("udpttl4");
    let (at, orig, f) = &fr[1];
    let d = dissect(&mut dl, &mut net, 2, *at, *orig, f);
    assert!(matches!(d.l3, Some(Ok(None))));
    let q = net.last_quote().expect("a quote");
    assert_eq!((q.proto, q.src_port, q.dst_port, q.payload.len()), (17, Some(34829), Some(53), 100));
    assert_eq!(q.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)));
    // The payload sits at its frame offset: 14 + 20 + 8 + 20 + 8.
    assert_eq!(q.offset, 70);
    assert_eq!(&f[q.offset..q.offset + 100], &q.payload[..]);
    let protos: Vec<&str> = d.trace.records.iter().map(|r| &*r.protocol).collect();
    assert_eq!(protos, ["eth", "ip", "icmp", "ip", "udp"]);
    // The inner records' ranges count from the outer IP packet, like the ICMP record's.
    assert_eq!(d.trace.records[3].header, 28..48);
    assert_eq!(d.trace.records[4].header, 48..56);
    // The next packet clears it.
    let (at, orig, f) = &fr[0];
    dissect(&mut dl, &mut net, 1, *at, *orig, f);
    assert!(net.last_quote().is_none());
}

/// An IPv4/ICMP echo request 192.0.2.1 → 192.0.2.2 (checksums correct), for the tests below.
fn echo4(ttl: u8, data: &[u8]) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    icmp.extend_from_slice(data);
    let c = crate::layers::checksum::internet_checksum(&[&icmp]);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let total = (20 + icmp.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0, 0, ttl, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    let c = crate::layers::checksum::internet_checksum(&[&ip]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&icmp);
    ip
}

fn up(net: &mut Network, packet: Vec<u8>) -> (crate::error::Result<Option<Pdu>>, Trace) {
    let mut cx = Context::default();
    let mut p = Pdu::bytes(packet);
    p.meta = Meta { offset: 14, ethertype: Some(0x0800), ..Meta::default() };
    let r = net.decapsulate(p, &mut cx);
    (r, cx.trace)
}

#[test]
fn what_a_host_refuses_is_recorded_and_passed_on() {
    let mut net = l3();
    // A bad header checksum: a failed check, an Error/Checksum expert naming the right value,
    // and the echo data still goes up.
    let mut p = echo4(64, b"abc");
    p[10] ^= 0xff;
    let (r, t) = up(&mut net, p);
    assert_eq!(r.unwrap().unwrap().len(), 3);
    let ip = &t.records[0];
    assert!(!ip.checks[0].ok);
    let e = &ip.expert[0];
    assert_eq!((e.severity, e.group, e.offset), (Severity::Error, Group::Checksum, Some(24)));
    assert!(e.message.starts_with("Bad checksum [should be 0x"), "{}", e.message);

    // TTL 0 and 1: Wireshark's note, and on.
    for ttl in [0u8, 1] {
        let (r, t) = up(&mut net, echo4(ttl, b""));
        assert!(r.unwrap().is_some());
        let e = &t.records[0].expert[0];
        assert_eq!(
            (e.severity, e.group, e.message.clone()),
            (Severity::Note, Group::Sequence, format!("\"Time To Live\" only {ttl}").into())
        );
    }

    // A bad ICMP checksum: Wireshark's warning, and the data still goes up.
    let mut p = echo4(64, b"xy");
    p[22] ^= 1;
    let (r, t) = up(&mut net, p);
    assert_eq!(r.unwrap().unwrap().len(), 2);
    let e = &t.records[1].expert[0];
    assert_eq!((e.severity, e.group), (Severity::Warning, Group::Checksum));

    // An unknown protocol for another host: up, with its number.
    let mut p = echo4(64, b"");
    p[9] = 253;
    p[16..20].copy_from_slice(&[198, 51, 100, 7]);
    p[10..12].copy_from_slice(&[0, 0]);
    let c = crate::layers::checksum::internet_checksum(&[&p[..20]]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    let (r, _) = up(&mut net, p);
    assert_eq!(r.unwrap().unwrap().meta.ip_proto, Some(253));

    // Bytes after the total length: not refused, not counted: pdu_len is the packet's own length.
    let mut p = echo4(64, b"");
    p.extend_from_slice(&[0; 18]);
    let (r, t) = up(&mut net, p);
    assert!(r.unwrap().is_some());
    assert_eq!(t.records[0].pdu_len(), 28);

    // A total length beyond the bytes: Wireshark's error, and what there is goes up.
    let mut p = echo4(64, b"hello");
    p.truncate(30);
    let (r, t) = up(&mut net, p);
    assert_eq!(r.unwrap().unwrap().len(), 2);
    assert_eq!(t.records[0].expert[0].message, "IPv4 total length exceeds packet length (30 bytes)");
}

#[test]
fn unreadable_headers_are_errors_naming_l3_and_the_byte() {
    let mut net = l3();
    for (bytes, offset) in [
        (vec![0x45, 0, 0, 40, 0, 0], 20),   // cut in the header: ends at frame byte 14 + 6
        (vec![0x44; 20], 14),               // IHL 4
        (vec![0x55; 20], 14),               // version 5
        (echo4(64, b"")[..8].to_vec(), 22), // 8 bytes of header
    ] {
        let (r, _) = up(&mut net, bytes);
        let e = r.unwrap_err();
        assert_eq!((e.layer, e.offset), (Some(LayerId::Network), Some(offset)), "{e}");
    }
    // IHL 4: tshark prints ip.version 4 and ip.hdr_len 16 with "Bogus IP header length", then stops.
    let (r, t) = up(&mut net, vec![0x44; 20]);
    assert!(r.is_err());
    assert_eq!(
        (joined(&t, "ip.version"), joined(&t, "ip.hdr_len"), joined(&t, "ip.len")),
        ("4".into(), "16".into(), String::new())
    );
    assert_eq!(t.records[0].expert[0].message, "Bogus IP header length (16, must be at least 20)");
    // ICMP cut to 6 bytes: the record as far as it goes, then a truncation error at its end.
    let mut p = echo4(64, b"");
    p.truncate(26);
    p[2..4].copy_from_slice(&26u16.to_be_bytes());
    let (r, t) = up(&mut net, p);
    let e = r.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
    assert_eq!(e.offset, Some(14 + 26));
    assert_eq!(joined(&t, "icmp.ident"), "4660");
}

#[test]
fn reassembly_problems_are_expert_items_not_errors() {
    let mut net = l3();
    let mut frag = |offset_units: u16, more: bool, data: &[u8], ident: u16| {
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2];
        ip[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&ident.to_be_bytes());
        ip[6..8].copy_from_slice(&((u16::from(more) << 13) | offset_units).to_be_bytes());
        let c = crate::layers::checksum::internet_checksum(&[&ip]);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        ip.extend_from_slice(data);
        up(&mut net, ip)
    };
    assert!(matches!(frag(0, true, &[1; 16], 7).0, Ok(None)));
    // The same bytes again, differing: RFC 791 overlap with different data.
    let (r, t) = frag(1, true, &[2; 8], 7);
    assert!(matches!(r, Ok(None)));
    let e = &t.records[0].expert[0];
    assert_eq!((e.severity, e.group), (Severity::Error, Group::Reassemble));
    // A fragment with more to follow and 5 bytes.
    let (r, t) = frag(0, true, &[1; 5], 8);
    assert!(matches!(r, Ok(None)));
    assert_eq!(t.records[0].expert[0].group, Group::Reassemble);
}

#[test]
fn ipv6_extension_headers_and_nd_options_are_listed() {
    // linkup frame 1: an MLDv2 report after a Hop-by-Hop header with a Router Alert.
    let (mut dl, mut net) = (l2(), l3());
    let fr = capture_frames("linkup");
    let (at, orig, f) = &fr[0];
    let d = dissect(&mut dl, &mut net, 1, *at, *orig, f);
    assert!(matches!(d.l3, Some(Ok(None))));
    let ipv6 = d.trace.records.iter().find(|r| r.protocol == "ipv6").unwrap();
    assert_eq!(ipv6.header, 0..48);
    assert_eq!(joined(&d.trace, "ipv6.nxt"), "0");
    assert_eq!(joined(&d.trace, "ipv6.opt.router_alert"), "0");
    assert_eq!(joined(&d.trace, "icmpv6.type"), "143");
    // The last frame: a router solicitation with a source link-layer address option.
    let (at, orig, f) = fr.last().unwrap();
    let d = dissect(&mut dl, &mut net, fr.len(), *at, *orig, f);
    assert_eq!(d.trace.values("icmpv6.opt.linkaddr"), [&Value::Mac(MacAddr([0, 0, 0x5e, 0, 0x53, 0x11]))]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_packets_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), v6 in any::<bool>(), proto in prop_oneof![Just(1u8), Just(58), Just(6), Just(17), Just(0), Just(44), any::<u8>()]) {
        let mut net = l3();
        let mut b = bytes.clone();
        // Steer most inputs past the version check and into the interesting protocols.
        if b.len() > 10 {
            if v6 {
                b[0] = 0x60 | (b[0] & 0x0f);
                b[6] = proto;
            } else {
                b[0] = 0x45;
                b[9] = proto;
            }
        }
        for packet in [bytes, b] {
            let mut cx = Context::default();
            let mut p = Pdu::bytes(packet.clone());
            p.meta = Meta { offset: 14, ethertype: Some(if v6 { 0x86dd } else { 0x0800 }), ..Meta::default() };
            match net.decapsulate(p, &mut cx) {
                Ok(Some(p)) => {
                    if !p.meta.detached {
                        let (data, meta) = p.into_bytes(LayerId::Network).unwrap();
                        prop_assert!(meta.offset >= 14 && meta.offset - 14 + data.len() <= packet.len());
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    prop_assert_eq!(e.layer, Some(LayerId::Network));
                    prop_assert!(e.offset.is_some_and(|o| o <= 14 + packet.len()), "{}", e);
                }
            }
            for r in &cx.trace.records {
                prop_assert!(r.header.start <= r.header.end);
            }
        }
    }

    #[test]
    fn fragment_storms_stay_bounded(frags in proptest::collection::vec((0u16..80, 0u16..40, any::<bool>(), 0usize..40, any::<bool>()), 1..400)) {
        use super::super::reassembly::{MAX_DATAGRAMS, MAX_PIECES};
        let mut net = l3();
        for (i, (id, units, more, len, six)) in frags.into_iter().enumerate() {
            net.set_frame_number(i + 1);
            let data = vec![(i % 7) as u8; len];
            let packet = if six {
                let mut h = vec![0x60, 0, 0, 0, 0, 0, 44, 64];
                h[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
                h.extend_from_slice(&[0x20; 16]);
                h.extend_from_slice(&[0x20; 16]);
                h.extend_from_slice(&[17, 0]);
                h.extend_from_slice(&((units << 3) | u16::from(more)).to_be_bytes());
                h.extend_from_slice(&u32::from(id).to_be_bytes());
                h
            } else {
                let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2];
                h[2..4].copy_from_slice(&((20 + len) as u16).to_be_bytes());
                h[4..6].copy_from_slice(&id.to_be_bytes());
                h[6..8].copy_from_slice(&((u16::from(more) << 13) | units).to_be_bytes());
                h
            };
            let mut p = packet;
            p.extend_from_slice(&data);
            let mut cx = Context::new(Instant::from_nanos(i as u64 * 1_000_000));
            let mut pdu = Pdu::bytes(p);
            pdu.meta = Meta { offset: 14, ethertype: Some(if six { 0x86dd } else { 0x0800 }), ..Meta::default() };
            prop_assert!(net.decapsulate(pdu, &mut cx).is_ok());
            let (listed, most) = net.capture.fragments.sizes();
            prop_assert!(net.pending_reassemblies() <= MAX_DATAGRAMS);
            prop_assert!(listed <= net.pending_reassemblies());
            prop_assert!(most <= MAX_PIECES + 1);
        }
    }

    #[test]
    fn arbitrary_icmp_errors_never_panic(quote in proptest::collection::vec(any::<u8>(), 0..120), t in prop_oneof![Just(3u8), Just(4), Just(5), Just(11), Just(12), Just(9), Just(13)], six in any::<bool>(), inner in prop_oneof![Just(6u8), Just(17), Just(1), Just(58), Just(0), Just(44)]) {
        let mut net = l3();
        let mut q = quote;
        if q.len() > 10 {
            if six { q[0] = 0x60; q[6] = inner; } else { q[0] = 0x45; q[9] = inner; }
        }
        let mut msg = vec![if six { t.clamp(1, 4) } else { t }, 0, 0, 0, 0, 0, 0, 0];
        if six && t > 4 { msg[0] = 137; }
        msg.extend_from_slice(&q);
        let (src, dst): (IpAddr, IpAddr) = if six {
            ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap())
        } else {
            (Ipv4Addr::new(192, 0, 2, 1).into(), Ipv4Addr::new(192, 0, 2, 2).into())
        };
        let mut header = if six {
            let mut h = vec![0x60, 0, 0, 0, 0, 0, 58, 64];
            h[4..6].copy_from_slice(&(msg.len() as u16).to_be_bytes());
            if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) { h.extend_from_slice(&s.octets()); h.extend_from_slice(&d.octets()); }
            h
        } else {
            let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2];
            h[2..4].copy_from_slice(&((20 + msg.len()) as u16).to_be_bytes());
            h
        };
        header.extend_from_slice(&msg);
        let mut cx = Context::default();
        let mut p = Pdu::bytes(header);
        p.meta = Meta { offset: 14, ethertype: Some(if six { 0x86dd } else { 0x0800 }), ..Meta::default() };
        let r = net.decapsulate(p, &mut cx);
        prop_assert!(r.is_ok(), "{:?}", r.err());
    }
}
