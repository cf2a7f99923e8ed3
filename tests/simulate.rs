//! `osilab simulate` end to end: every shipped scenario runs; the same seed gives the same
//! timeline and pcaps byte for byte; every pcap dissects in tshark with no malformed frame and
//! good checksums, and `osilab dissect` reads it back; frame rows carry L5–L7 (the chat line, the
//! HTTP status, the DNS answer) and `--inspect` prints them 1→7 in, 7→1 out; the chat-room
//! timeline is a snapshot.

mod common;

use common::{osilab, osilab_ok, require_tool, scratch};
use osilab::layer::LayerId;
use osilab::sim::timeline::{Row, RowKind};
use osilab::sim::world::World;
use osilab::time::Instant;
use osilab::trace::{Direction, Record};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every scenario that ships in fixtures/scenarios/, by name.
fn scenarios() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("fixtures/scenarios")
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    assert!(v.len() >= 5, "{v:?}");
    v
}

fn scenario(name: &str) -> String {
    format!("fixtures/scenarios/{name}.toml")
}

fn pcaps(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[test]
fn same_seed_same_timeline_and_pcaps() {
    for name in &scenarios() {
        let (a, b) = (scratch(&format!("sim-det-a-{name}")), scratch(&format!("sim-det-b-{name}")));
        let out_a = osilab_ok(&["simulate", &scenario(name), "--seed", "7", "--pcap-dir", a.to_str().unwrap()]);
        let out_b = osilab_ok(&["simulate", &scenario(name), "--seed", "7", "--pcap-dir", b.to_str().unwrap()]);
        assert_eq!(out_a, out_b, "{name}: timelines differ");
        let (pa, pb) = (pcaps(&a), pcaps(&b));
        assert_eq!(pa.len(), pb.len());
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap(), "{name}: {} differs", x.display());
        }
    }
}

#[test]
fn chat_room_messages_arrive_and_the_summary_says_so() {
    let out = osilab_ok(&["simulate", &scenario("chat-room")]);
    for nick in ["alice", "bob", "carol"] {
        assert!(out.contains(&format!("{nick}: sent 2 messages, received 4 from others")), "{out}");
    }
    assert!(out.contains("connect(3, 192.0.2.10:3000) = -1 EINPROGRESS (handshake started: SYN sent)"));
    assert!(out.contains("[SYN]") && out.contains("[SYN, ACK]"));
    assert!(out.contains("tcp   LISTEN 0      128    0.0.0.0:3000"), "{out}");
}

#[test]
fn tcp_delivers_everything_on_the_lossy_link_and_udp_does_not() {
    let out = osilab_ok(&["simulate", &scenario("tcp-vs-udp-lossy")]);
    assert!(out.contains("tcp-sink :9000: 220 bytes, 20 lines received"), "{out}");
    let udp = out.lines().find(|l| l.contains("udp-sink :9001:")).unwrap();
    let got: usize = udp.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(got < 20, "{udp}");
    assert!(out.contains("lost on the link"));
}

#[test]
fn inspect_shows_the_layers_of_one_event() {
    let out = osilab_ok(&["simulate", &scenario("http-get"), "--inspect", "12"]);
    assert!(out.starts_with("event 12 at "), "{out}");
    let bad = osilab(&["simulate", &scenario("http-get"), "--inspect", "100000"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("the run has events 1 to"));
}

#[test]
fn every_pcap_dissects_cleanly_in_tshark_and_in_osilab() {
    if !require_tool("tshark", "every_pcap_dissects_cleanly_in_tshark_and_in_osilab") {
        return;
    }
    for name in &scenarios() {
        let dir = scratch(&format!("sim-tshark-{name}"));
        osilab_ok(&["simulate", &scenario(name), "--pcap-dir", dir.to_str().unwrap()]);
        for p in pcaps(&dir) {
            let out = Command::new("tshark")
                .args(["-r", p.to_str().unwrap(), "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"])
                .args(["-o", "udp.check_checksum:TRUE", "-T", "fields", "-e", "frame.number", "-e", "_ws.malformed"])
                .args(["-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status"])
                .args(["-e", "icmp.checksum.status", "-e", "icmpv6.checksum.status"])
                .output()
                .unwrap();
            assert!(out.status.success(), "tshark failed on {}", p.display());
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let cols: Vec<&str> = line.split('\t').collect();
                assert!(cols[1].is_empty(), "{}: malformed frame: {line}", p.display());
                for c in &cols[2..] {
                    // Status 1 is good; 2 unverified; only "0" (bad) is a failure.
                    assert!(!c.split(',').any(|v| v == "0"), "{}: bad checksum: {line}", p.display());
                }
            }
            // osilab reads its own pcaps back.
            let back = osilab(&["dissect", p.to_str().unwrap()]);
            assert_eq!(back.status.code(), Some(0), "{}", String::from_utf8_lossy(&back.stderr));
            let text = String::from_utf8_lossy(&back.stdout);
            assert!(!text.contains("Malformed"), "{}: {text}", p.display());
        }
    }
}

#[test]
fn chat_room_timeline_snapshot() {
    let out = osilab_ok(&["simulate", &scenario("chat-room"), "--until", "1.5s"]);
    insta::assert_snapshot!("simulate_chat_room_timeline", out);
}

/// Run a scenario file to its end time with its own seed, in the library.
fn run(path: &Path) -> World {
    let sc = osilab::sim::scenario::load(path).unwrap();
    let (mut w, _) = osilab::sim::build::build(&sc, sc.seed).unwrap();
    w.run(Instant::ZERO + sc.until);
    w
}

/// The frame rows of `device` of this kind whose summary contains `text`.
fn rows<'a>(w: &'a World, device: &str, kind: RowKind, text: &str) -> Vec<&'a Row> {
    w.timeline.rows.iter().filter(|r| r.device == device && r.kind == kind && r.summary.contains(text)).collect()
}

fn records(r: &Row) -> &[Record] {
    &r.trace.as_ref().expect("a frame row keeps its layer view").records
}

fn field(r: &Record, name: &str) -> String {
    r.field(name).unwrap_or_else(|| panic!("{} has no {name}", r.protocol)).value.to_string()
}

/// The row number of the first timeline line of `device` and `dir` with layer `layer` whose text
/// contains `text`.
fn row_number(timeline: &str, device: &str, dir: &str, layer: &str, text: &str) -> String {
    timeline
        .lines()
        .find(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() > 4 && w[2] == device && w[3] == dir && w[4] == layer && l.contains(text)
        })
        .unwrap_or_else(|| panic!("no {device} {dir} {layer} row with {text:?}:\n{timeline}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Where each layer's heading is in an `--inspect` text, in printed order.
fn layer_order(inspect: &str) -> Vec<u8> {
    inspect
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix('L')?;
            let n: u8 = l.get(..1)?.parse().ok()?;
            // Headings are "L4 transport (tcp)"; record lines go on with " · ".
            (!l.contains(" · ")).then_some(n)
        })
        .collect()
}

#[test]
fn a_relayed_chat_message_is_an_l7_row_with_its_text() {
    let w = run(Path::new(&scenario("chat-room")));
    let relayed = rows(&w, "bob", RowKind::In, "FROM alice \"Olá, sala!\"");
    assert_eq!(relayed.len(), 1, "{}", w.timeline.text());
    let row = relayed[0];
    assert_eq!(row.layer, Some(7));
    let recs = records(row);
    let chat = recs.iter().find(|r| r.protocol == "chat").expect("an L7 chat record");
    assert_eq!(chat.layer, LayerId::Application);
    assert_eq!(field(chat, "chat.command"), "FROM");
    assert_eq!(field(chat, "chat.text"), "Olá, sala!");
    // L5: bob's socket, bob the client; L6: the program's own UTF-8.
    let session = recs.iter().find(|r| r.layer == LayerId::Session).expect("an L5 record");
    assert_eq!(session.protocol, "session");
    assert_eq!(field(session, "session.role"), "client");
    assert!(field(session, "session.tuple").starts_with("TCP 192.0.2.10:3000 → 192.0.2.12:"), "{session}");
    let l6 = recs.iter().find(|r| r.layer == LayerId::Presentation).expect("an L6 record");
    assert_eq!(field(l6, "presentation.encoding"), "UTF-8");
    assert_eq!(l6.overhead, 0);
    // Coming in: 1→7, every record read on the way up.
    let layers: Vec<u8> = recs.iter().map(|r| r.layer.number()).collect();
    assert!(layers.windows(2).all(|p| p[0] <= p[1]), "{layers:?}");
    assert_eq!((layers.first(), layers.last()), (Some(&1), Some(&7)));
    assert!(recs.iter().all(|r| r.direction == Direction::Up));
    // The server relays it to bob and to carol: two out rows at L7, the server's end the server.
    let out = rows(&w, "server", RowKind::Out, "FROM alice \"Olá, sala!\"");
    assert_eq!(out.len(), 2);
    for r in out {
        let session = records(r).iter().find(|r| r.layer == LayerId::Session).unwrap();
        assert_eq!(field(session, "session.role"), "server");
        assert!(records(r).iter().all(|r| r.direction == Direction::Down));
    }
    // Rows without application bytes stay as they were: a bare ACK is L4, an ARP reply L2.
    assert!(w.timeline.rows.iter().any(|r| r.kind == RowKind::In && r.layer == Some(4) && r.summary.contains("[ACK]")));
    assert!(w.timeline.rows.iter().any(|r| r.layer == Some(2) && r.summary.contains(" is at ")));
}

#[test]
fn inspect_of_the_http_response_prints_l1_to_l7_with_the_status() {
    let timeline = osilab_ok(&["simulate", &scenario("http-get")]);
    let n = row_number(&timeline, "client", "in", "L7", "HTTP/1.1 200 OK");
    let out = osilab_ok(&["simulate", &scenario("http-get"), "--inspect", &n]);
    assert!(out.contains("in HTTP/1.1 200 OK  (text/html)"), "{out}");
    assert!(out.contains("layers 1→7, as the device read it"), "{out}");
    assert_eq!(layer_order(&out), [1, 2, 3, 4, 5, 6, 7], "{out}");
    assert!(out.contains("L7 application (http)"), "{out}");
    assert!(out.contains("Status Code: 200  [http.response.code]"), "{out}");
    assert!(out.contains("Role: client  [session.role]"), "{out}");
    assert!(out.contains("the HTTP program writes the start line and header fields as ASCII text itself"), "{out}");
    // The request the server read is an L7 row too, with Wireshark's Info.
    row_number(&timeline, "web", "in", "L7", "GET /index.html HTTP/1.1");
}

#[test]
fn an_out_row_prints_7_to_1() {
    let timeline = osilab_ok(&["simulate", &scenario("http-get")]);
    let n = row_number(&timeline, "web", "out", "L7", "HTTP/1.1 200 OK");
    let out = osilab_ok(&["simulate", &scenario("http-get"), "--inspect", &n]);
    assert!(out.contains("layers 7→1, as the device built it"), "{out}");
    assert_eq!(layer_order(&out), [7, 6, 5, 4, 3, 2, 1], "{out}");
    assert!(out.contains("Role: server  [session.role]"), "{out}");
    // An ARP reply going out: the ARP packet first, then the Ethernet header built around it.
    let n = row_number(&timeline, "web", "out", "L2", " is at ");
    let out = osilab_ok(&["simulate", &scenario("http-get"), "--inspect", &n]);
    let (arp, eth) = (out.find("L2 data link (arp)").unwrap(), out.find("L2 data link (eth)").unwrap());
    assert!(arp < eth && layer_order(&out) == [2, 2, 1], "{out}");
}

#[test]
fn a_dns_answer_row_names_the_answer() {
    let w = run(Path::new(&scenario("dns-lookup")));
    let answers = rows(&w, "client", RowKind::In, "Standard query response");
    assert_eq!(answers.len(), 1, "{}", w.timeline.text());
    let row = answers[0];
    assert_eq!(row.layer, Some(7));
    assert!(row.summary.ends_with(" A www.example.com A 192.0.2.80"), "{}", row.summary);
    let dns = records(row).iter().find(|r| r.protocol == "dns").expect("an L7 dns record");
    assert_eq!(field(dns, "dns.a"), "192.0.2.80");
    let l6 = records(row).iter().find(|r| r.layer == LayerId::Presentation).unwrap();
    assert_eq!(field(l6, "presentation.encoding"), "binary (RFC 1035)");
    // The query went out as an L7 row of the client, and the client opened the dialogue.
    let query = rows(&w, "client", RowKind::Out, "Standard query 0x");
    assert_eq!(query.len(), 1);
    let session = records(query[0]).iter().find(|r| r.layer == LayerId::Session).unwrap();
    assert_eq!(field(session, "session.role"), "client");
}

#[test]
fn a_message_split_over_segments_shows_on_the_segment_that_completes_it() {
    // The web server's MTU of 68 (IPv4's least) makes its TCP segments carry 16 bytes each.
    let text = std::fs::read_to_string(scenario("http-get"))
        .unwrap()
        .replace("name = \"web\"\nipv4 = \"192.0.2.80/24\"", "name = \"web\"\nipv4 = \"192.0.2.80/24\"\nmtu = 68");
    assert!(text.contains("mtu = 68"));
    let dir = scratch("sim-l7-split");
    let path = dir.join("split.toml");
    std::fs::write(&path, text).unwrap();
    let w = run(&path);
    let segments: Vec<&Row> = w
        .timeline
        .rows
        .iter()
        .filter(|r| r.device == "client" && r.kind == RowKind::In && r.layer >= Some(5))
        .collect();
    let (last, before) = segments.split_last().expect("segments of the response");
    assert!(before.len() > 5, "{}", w.timeline.text());
    // Each segment before the last carries bytes for the socket (L5) but no message yet.
    for r in before {
        assert_eq!(r.layer, Some(5), "{}", r.summary);
        assert!(r.summary.starts_with("80 → ") && r.summary.contains(" Len=16 "), "{}", r.summary);
    }
    assert_eq!(last.layer, Some(7));
    assert_eq!(last.summary, "HTTP/1.1 200 OK  (text/html)");
    let http = records(last).iter().find(|r| r.protocol == "http").unwrap();
    assert_eq!(field(http, "http.response.code"), "200");
}

#[test]
fn every_byte_of_a_lossy_tcp_stream_shows_once_at_l7_on_each_end() {
    // 20 lines of 11 bytes over a lossy link: retransmissions carry nothing new up, so the data
    // records of each end's rows add up to the stream, once.
    let w = run(Path::new(&scenario("tcp-vs-udp-lossy")));
    for (device, kind) in [("sender", RowKind::Out), ("receiver", RowKind::In)] {
        let bytes: u64 = w
            .timeline
            .rows
            .iter()
            .filter(|r| r.device == device && r.kind == kind && r.summary.contains(" → 9000 "))
            .flat_map(records)
            .filter(|r| r.protocol == "data")
            .map(|r| field(r, "data.len").parse::<u64>().unwrap())
            .sum();
        assert_eq!(bytes, 220, "{device}\n{}", w.timeline.text());
    }
}
