//! Wireshark is the referee: every frame `osilab send --pcap` writes must dissect with no
//! malformed packet and no warning or error from tshark's expert system, with GOOD IPv4, TCP, UDP
//! and ICMP checksums when tshark validates them, and with every field osilab's receiver reports
//! printed identically by `tshark -T fields`. Skips (printing why) without tshark; fails under
//! CI=true.

mod common;

use common::{osilab_ok, require_tool, scratch};
use std::path::Path;
use std::process::Command;

/// Fields asked of tshark for each frame, in this order.
const FIELDS: &[&str] = &[
    "frame.number",
    "_ws.malformed",
    "_ws.expert.severity",
    "eth.src",
    "eth.dst",
    "vlan.id",
    "ip.src",
    "ip.dst",
    "ip.checksum.status",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.checksum.status",
    "tcp.len",
    "udp.srcport",
    "udp.dstport",
    "udp.checksum.status",
    "udp.length",
    "icmp.checksum.status",
    "icmpv6.checksum.status",
    "data.len",
    "ip.reassembled.length",
    "ipv6.fraghdr.more",
    "ipv6.reassembled.length",
];

/// One row of tshark output per frame, as field name → value.
fn tshark_rows(pcap: &Path, extra: &[&str]) -> Vec<std::collections::HashMap<&'static str, String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(pcap).args(extra).args([
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "tcp.analyze_sequence_numbers:TRUE",
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.lines()
        .map(|line| {
            let vals: Vec<&str> = line.split('|').collect();
            assert_eq!(vals.len(), FIELDS.len(), "tshark row: {line}");
            FIELDS.iter().copied().zip(vals.into_iter().map(str::to_string)).collect()
        })
        .collect()
}

/// tshark's severity numbers: PI_WARN = 0x00600000, PI_ERROR = 0x00800000 (epan/proto.h).
const PI_WARN: u64 = 0x0060_0000;

/// A field value from osilab's JSON as `tshark -T fields` prints it.
fn as_tshark(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Field-name prefixes of what Wireshark does not dissect, so has no names for: L1, the TCP/IP
/// model's session (the socket), the presentation transforms, and the chat room's protocol.
const OSILAB_ONLY: &[&str] = &["phy.", "session.", "presentation.", "chat."];

/// Field by field, osilab's receiver and tshark must read the same values from every frame:
/// every field osilab's layers report (L2 and up) is asked of tshark for that frame and must
/// print identically. The only field left out is `eth.fcs`: pcap files hold frames without
/// their FCS, so tshark has none to show.
fn agree_field_by_field(name: &str, pcap: &Path, report: &serde_json::Value, extra: &[&str]) {
    use std::collections::BTreeMap;
    let mut frames: BTreeMap<u64, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for r in report["up"].as_array().expect("up records") {
        if r["layer"] == 1 {
            continue; // L1 is not in a pcap
        }
        // Records made when the stream ended (a socket's close) come from no frame.
        let Some(frame) = r["frame"].as_u64() else {
            assert!(r["layer"] == 5, "{name}: only the session's end-of-stream record has no frame: {r}");
            continue;
        };
        let fields = frames.entry(frame).or_default();
        for f in r["fields"].as_array().expect("fields") {
            let n = f["name"].as_str().expect("name").to_string();
            if n == "eth.fcs" || OSILAB_ONLY.iter().any(|p| n.starts_with(p)) {
                continue;
            }
            let v = as_tshark(&f["value"]);
            match fields.iter_mut().find(|(k, _)| *k == n) {
                Some((_, vals)) => vals.push(v),
                None => fields.push((n, vec![v])),
            }
        }
    }
    assert!(!frames.is_empty(), "{name}: osilab reported no fields");
    for (frame, fields) in frames {
        let mut cmd = Command::new("tshark");
        cmd.args(["-n", "-r"]).arg(pcap).args(extra).args(["-Y", &format!("frame.number == {frame}")]);
        cmd.args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]);
        for (n, _) in &fields {
            cmd.args(["-e", n]);
        }
        let out = cmd.output().expect("run tshark");
        assert!(out.status.success(), "{name}: tshark refused a field name: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let theirs: Vec<&str> = text.trim_end_matches('\n').split('|').collect();
        assert_eq!(theirs.len(), fields.len(), "{name} frame {frame}: {text}");
        for ((n, ours), t) in fields.iter().zip(theirs) {
            assert_eq!(ours.join(","), t, "{name} frame {frame}: field {n}: osilab vs tshark");
        }
    }
}

/// Write a pcap with `osilab send ARGS --pcap`, dissect it, check every frame is clean, and check
/// that tshark reads every field as osilab's receiver does.
fn check(name: &str, args: &[&str]) -> Vec<std::collections::HashMap<&'static str, String>> {
    check_with(name, args, &[])
}

/// As [`check`], with extra tshark options (e.g. `-d tcp.port==3000,tls`).
fn check_with(name: &str, args: &[&str], extra: &[&str]) -> Vec<std::collections::HashMap<&'static str, String>> {
    let dir = scratch(&format!("tshark-{name}"));
    let pcap = dir.join(format!("{name}.pcap"));
    let mut full: Vec<&str> = vec!["send"];
    full.extend_from_slice(args);
    let p = pcap.to_str().expect("utf-8 path");
    full.extend_from_slice(&["--pcap", p, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&osilab_ok(&full)).expect("JSON report");
    agree_field_by_field(name, &pcap, &report, extra);
    let rows = tshark_rows(&pcap, extra);
    assert!(!rows.is_empty(), "{name}: no frames in the pcap");
    for r in &rows {
        let n = &r["frame.number"];
        assert!(r["_ws.malformed"].is_empty(), "{name} frame {n}: tshark says malformed: {r:?}");
        for sev in r["_ws.expert.severity"].split(',').filter(|s| !s.is_empty()) {
            let sev: u64 = sev.parse().expect("severity number");
            assert!(sev < PI_WARN, "{name} frame {n}: tshark expert warning/error (severity {sev:#x}): {r:?}");
        }
        // Every checksum tshark verified is good ("1"); "2" would be unverified, "0" bad.
        for f in [
            "ip.checksum.status",
            "tcp.checksum.status",
            "udp.checksum.status",
            "icmp.checksum.status",
            "icmpv6.checksum.status",
        ] {
            for v in r[f].split(',').filter(|s| !s.is_empty()) {
                assert_eq!(v, "1", "{name} frame {n}: {f} = {v}, not Good: {r:?}");
            }
        }
        assert_eq!(r["eth.src"], report["config"]["local"]["mac"].as_str().unwrap(), "{name} frame {n}");
        assert_eq!(r["eth.dst"], report["config"]["remote"]["mac"].as_str().unwrap(), "{name} frame {n}");
    }
    rows
}

#[test]
fn tcp_over_ipv4_dissects_clean() {
    if !require_tool("tshark", "tcp_over_ipv4_dissects_clean") {
        return;
    }
    let rows = check("tcp4", &["--transport", "tcp", "Olá, sala!"]);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r["ip.src"].as_str(), r["ip.dst"].as_str()), ("192.0.2.1", "192.0.2.2"));
    assert_eq!((r["tcp.srcport"].as_str(), r["tcp.dstport"].as_str()), ("51000", "3000"));
    assert_eq!(r["tcp.checksum.status"], "1");
    assert_eq!(r["ip.checksum.status"], "1");
    assert_eq!(r["tcp.len"], "11", "\"Olá, sala!\" is 11 bytes of UTF-8");
}

#[test]
fn udp_over_ipv4_dissects_clean() {
    if !require_tool("tshark", "udp_over_ipv4_dissects_clean") {
        return;
    }
    // Ports with no Wireshark dissector, so that the payload is shown as plain data.
    let rows = check("udp4", &["--transport", "udp", "--from", "192.0.2.1:40000", "--to", "192.0.2.2:40001", "hi"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["udp.checksum.status"], "1");
    assert_eq!(rows[0]["udp.length"], "10");
    assert_eq!((rows[0]["udp.srcport"].as_str(), rows[0]["udp.dstport"].as_str()), ("40000", "40001"));
    assert_eq!(rows[0]["data.len"], "2");
}

#[test]
fn ipv6_tcp_and_udp_dissect_clean() {
    if !require_tool("tshark", "ipv6_tcp_and_udp_dissect_clean") {
        return;
    }
    for t in ["tcp", "udp"] {
        // Port 40001: no Wireshark dissector claims it (UDP 3000 is DIS), so the payload is data.
        let rows = check(&format!("{t}6"), &["--transport", t, "--to", "[2001:db8::2]:40001", "hello over IPv6"]);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0]["ipv6.src"].as_str(), rows[0]["ipv6.dst"].as_str()), ("2001:db8::1", "2001:db8::2"));
        assert_eq!(rows[0][format!("{t}.checksum.status").as_str()], "1");
    }
}

#[test]
fn vlan_tagged_frame_dissects_clean() {
    if !require_tool("tshark", "vlan_tagged_frame_dissects_clean") {
        return;
    }
    let rows = check("vlan", &["--vlan", "42", "--vlan-pcp", "5", "tagged"]);
    assert_eq!(rows[0]["vlan.id"], "42");
    assert_eq!(rows[0]["tcp.checksum.status"], "1");
}

#[test]
fn icmp_echo_dissects_clean() {
    if !require_tool("tshark", "icmp_echo_dissects_clean") {
        return;
    }
    let rows = check("icmp4", &["--transport", "icmp", "ping payload"]);
    assert_eq!(rows[0]["icmp.checksum.status"], "1");
    let rows = check("icmp6", &["--transport", "icmp", "--to", "2001:db8::2", "ping payload"]);
    assert_eq!(rows[0]["icmpv6.checksum.status"], "1");
}

#[test]
fn fragmented_3000_byte_message_reassembles_in_tshark() {
    if !require_tool("tshark", "fragmented_3000_byte_message_reassembles_in_tshark") {
        return;
    }
    let message: String = (0..3000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    // UDP port 3000 is DIS to Wireshark: use a port with no dissector so the payload shows as data.
    let rows = check("frag", &["--transport", "udp", "--to", "192.0.2.2:40001", "--mtu", "1500", &message]);
    // 3000 + 8 (UDP) = 3008 bytes of IP payload at 1480 per fragment: 1480 + 1480 + 48.
    assert_eq!(rows.len(), 3, "three fragments");
    let mf: Vec<&str> = rows.iter().map(|r| r["ip.flags.mf"].as_str()).collect();
    assert_eq!(mf, ["1", "1", "0"]);
    // tshark 4.0 prints ip.frag_offset in 8-byte units: 1480 / 8 = 185.
    let offs: Vec<&str> = rows.iter().map(|r| r["ip.frag_offset"].as_str()).collect();
    assert_eq!(offs, ["0", "185", "370"]);
    // tshark reassembled the datagram on the last fragment and dissected UDP over all of it.
    let last = &rows[2];
    assert_eq!(last["ip.reassembled.length"], "3008", "{last:?}");
    assert_eq!(last["udp.length"], "3008");
    assert_eq!(last["udp.checksum.status"], "1");
    assert_eq!(last["data.len"], "3000");
}

#[test]
fn large_tcp_message_is_segmented_not_fragmented() {
    if !require_tool("tshark", "large_tcp_message_is_segmented_not_fragmented") {
        return;
    }
    let message = "x".repeat(3000);
    let rows = check("tcpseg", &["--transport", "tcp", &message]);
    // MSS at MTU 1500 with timestamps: 1500 - 20 - 20 - 12 = 1448 bytes per segment.
    let lens: Vec<&str> = rows.iter().map(|r| r["tcp.len"].as_str()).collect();
    assert_eq!(lens, ["1448", "1448", "104"]);
    assert!(rows.iter().all(|r| r["ip.flags.mf"] == "0"));
}

#[test]
fn fragmented_ipv6_datagram_reassembles_in_tshark() {
    if !require_tool("tshark", "fragmented_ipv6_datagram_reassembles_in_tshark") {
        return;
    }
    let message = "b".repeat(3000);
    let rows = check("frag6", &["--transport", "udp", "--to", "[2001:db8::2]:40001", &message]);
    // 3008 bytes of UDP at (1500 - 40 - 8) & !7 = 1448 per fragment: 1448 + 1448 + 112.
    let more: Vec<&str> = rows.iter().map(|r| r["ipv6.fraghdr.more"].as_str()).collect();
    assert_eq!(more, ["1", "1", "0"]);
    let last = &rows[2];
    assert_eq!(last["ipv6.reassembled.length"], "3008", "{last:?}");
    assert_eq!(last["udp.checksum.status"], "1");
    assert_eq!(last["data.len"], "3000");
}

#[test]
fn arp_exchange_then_message_dissects_clean() {
    if !require_tool("tshark", "arp_exchange_then_message_dissects_clean") {
        return;
    }
    let dir = scratch("tshark-arp");
    let pcap = dir.join("arp.pcap");
    osilab_ok(&["send", "--arp", "after ARP", "--pcap", pcap.to_str().unwrap(), "--format", "json"]);
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args(["-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|"])
        .args(["-e", "eth.dst", "-e", "arp.opcode", "-e", "arp.src.hw_mac", "-e", "arp.src.proto_ipv4"])
        .args([
            "-e",
            "arp.dst.proto_ipv4",
            "-e",
            "tcp.checksum.status",
            "-e",
            "_ws.malformed",
            "-e",
            "_ws.expert.severity",
        ])
        .output()
        .expect("run tshark");
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(rows[0][..5], ["ff:ff:ff:ff:ff:ff", "1", "02:00:00:00:00:01", "192.0.2.1", "192.0.2.2"], "the request");
    assert_eq!(rows[1][..5], ["02:00:00:00:00:01", "2", "02:00:00:00:00:02", "192.0.2.2", "192.0.2.1"], "the reply");
    assert_eq!(rows[2][0], "02:00:00:00:00:02", "the message goes to the resolved MAC");
    assert_eq!(rows[2][5], "1", "good TCP checksum");
    for r in &rows {
        assert!(r[6].is_empty() && r[7].is_empty(), "malformed or expert info: {r:?}");
    }
}

/// The options Linux puts on a SYN (MSS, SACK-permitted, timestamps, NOP, window scale), built
/// by osilab's TCP wire format and sent down L3 → L1 by the stack: tshark reads each option's
/// value and finds the checksum good.
#[test]
fn syn_options_as_linux_lays_them_out_dissect_clean() {
    use osilab::layer::{Data, LayerId, Meta, Pdu};
    use osilab::layers::l4_transport::{TcpFlags, TcpOption, TcpSegment};
    use osilab::pcap::PcapSink;
    use osilab::stack::{Stack, StackConfig};
    use osilab::time::Instant;
    if !require_tool("tshark", "syn_options_as_linux_lays_them_out_dissect_clean") {
        return;
    }
    let cfg = StackConfig::default();
    let syn = TcpSegment {
        src_port: cfg.local.port,
        dst_port: cfg.remote.port,
        seq: 0x1234_5678,
        ack: 0,
        flags: TcpFlags::SYN,
        window: 64240,
        urgent: 0,
        options: TcpOption::linux_syn(1460, true, Some((1_000, 0)), Some(7)),
        payload: Vec::new(),
    };
    let bytes = syn.emit(cfg.local.ip, cfg.remote.ip).expect("SYN emits");
    let meta = Meta { ip_proto: Some(6), src_ip: Some(cfg.local.ip), dst_ip: Some(cfg.remote.ip), ..Meta::default() };
    let sent = Stack::from_config(&cfg)
        .unwrap()
        .encapsulate_from(LayerId::Network, Pdu { data: Data::Bytes(bytes), meta }, Instant::ZERO)
        .expect("L3 → L1");
    let dir = scratch("tshark-syn");
    let pcap = dir.join("syn.pcap");
    let mut sink = PcapSink::new(std::fs::File::create(&pcap).unwrap()).unwrap();
    for f in &sent.frames {
        sink.write(f.signal.start, f.without_fcs()).unwrap();
    }
    drop(sink);
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args(["-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|"])
        .args([
            "-e",
            "tcp.flags",
            "-e",
            "tcp.options.mss_val",
            "-e",
            "tcp.options.sack_perm",
            "-e",
            "tcp.options.timestamp.tsval",
        ])
        .args([
            "-e",
            "tcp.options.wscale.shift",
            "-e",
            "tcp.hdr_len",
            "-e",
            "tcp.checksum.status",
            "-e",
            "_ws.malformed",
        ])
        .output()
        .expect("run tshark");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim_end(), "0x0002|1460|0402|1000|7|40|1|", "tshark -T fields of the SYN");
}

/// Field values osilab's receiver reported, by name, over every record going up.
fn reported(report: &serde_json::Value, field: &str) -> Vec<String> {
    report["up"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["fields"].as_array().unwrap().iter())
        .filter(|f| f["name"] == field)
        .map(|f| as_tshark(&f["value"]))
        .collect()
}

/// `osilab send ARGS --format json`, parsed.
fn report(args: &[&str]) -> serde_json::Value {
    let mut full = vec!["send"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--format", "json"]);
    serde_json::from_str(&osilab_ok(&full)).expect("JSON report")
}

#[test]
fn http_request_and_responses_dissect_as_http() {
    if !require_tool("tshark", "http_request_and_responses_dissect_as_http") {
        return;
    }
    let get = ["--app", "http", "--method", "GET", "--path", "/index.html"];
    let rows = check("http-get", &get);
    assert_eq!(rows.len(), 1);
    let r = report(&get);
    assert_eq!(reported(&r, "http.request.method"), ["GET"]);
    assert_eq!(reported(&r, "http.request.uri"), ["/index.html"]);
    // A POST whose body spans several segments: tshark reassembles it, as osilab does.
    let body = "field=value&".repeat(300);
    let post = ["--app", "http", "--method", "POST", "--path", "/form", "--body", &body];
    assert!(check("http-post", &post).len() > 1);
    assert_eq!(reported(&report(&post), "http.request.method"), ["POST"]);
    for (name, extra) in [("http-200", &[][..]), ("http-200-chunked", &["--chunked", "7"][..])] {
        let mut args = vec!["--app", "http", "--status", "200", "--body", "Olá, mundo!"];
        args.extend_from_slice(extra);
        check(name, &args);
        assert_eq!(reported(&report(&args), "http.response.code"), ["200"], "{name}");
    }
}

#[test]
fn dns_queries_and_responses_dissect_as_dns() {
    if !require_tool("tshark", "dns_queries_and_responses_dissect_as_dns") {
        return;
    }
    let cases: &[(&str, &[&str], &str, &str)] = &[
        ("dns-q-a", &["--query", "www.example", "--type", "A"], "dns.qry.type", "1"),
        ("dns-q-aaaa", &["--query", "www.example", "--type", "AAAA"], "dns.qry.type", "28"),
        ("dns-r-a", &["--query", "www.example", "--type", "A", "--answer", "192.0.2.10"], "dns.a", "192.0.2.10"),
        (
            "dns-r-aaaa",
            &["--query", "www.example", "--type", "AAAA", "--answer", "2001:db8::5"],
            "dns.aaaa",
            "2001:db8::5",
        ),
        (
            "dns-r-cname",
            &["--query", "www.example", "--type", "CNAME", "--answer", "web.example"],
            "dns.cname",
            "web.example",
        ),
    ];
    for (name, opts, field, want) in cases {
        let mut args = vec!["--app", "dns"];
        args.extend_from_slice(opts);
        check(name, &args);
        let r = report(&args);
        assert_eq!(reported(&r, "dns.qry.name"), ["www.example"], "{name}");
        assert_eq!(reported(&r, field), [*want], "{name}");
    }
}

#[test]
fn encrypted_chat_dissects_as_tls_application_data() {
    if !require_tool("tshark", "encrypted_chat_dissects_as_tls_application_data") {
        return;
    }
    let key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let args = ["--app", "chat", "--key", key, "Olá, sala!"];
    let rows = check_with("chat-tls", &args, &["-d", "tcp.port==3000,tls"]);
    assert_eq!(rows.len(), 1);
    let r = report(&args);
    assert_eq!(reported(&r, "tls.record.content_type"), ["23"]);
    assert_eq!(reported(&r, "tls.record.version"), ["0x0303"]);
    assert_eq!(r["delivered"], "Olá, sala!");
}
