//! `osilab simulate` end to end: every shipped scenario runs; the same seed gives the same
//! timeline and pcaps byte for byte; every pcap dissects in tshark with no malformed frame and
//! good checksums, and `osilab dissect` reads it back; the chat-room timeline is a snapshot.

mod common;

use common::{osilab, osilab_ok, require_tool, scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

const SCENARIOS: &[&str] =
    &["bind-twice", "chat-room", "dns-lookup", "http-get", "ping-through-router", "tcp-harsh-link", "tcp-vs-udp-lossy"];

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
    for name in SCENARIOS {
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
    for name in SCENARIOS {
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
