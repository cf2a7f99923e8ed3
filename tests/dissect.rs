//! `osilab dissect` on real captures (fixtures/captures, made by real programs across a veth pair)
//! and on malformed ones (fixtures/malformed): tshark is the referee for every field, snapshots
//! hold the tree, hex and JSON views, and no input makes osilab panic.

mod common;

use common::{osilab, osilab_ok, require_tool};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fields issue 4 names: `osilab dissect -e …` must print exactly what `tshark -T fields -e …`
/// prints for each of them, frame by frame.
const FIELDS: &str = "frame.len eth.src eth.dst eth.type vlan.id arp.opcode arp.src.proto_ipv4 \
    arp.dst.proto_ipv4 ip.version ip.hdr_len ip.len ip.id ip.flags.mf ip.frag_offset ip.ttl ip.proto ip.checksum \
    ip.src ip.dst ipv6.plen ipv6.nxt ipv6.hlim ipv6.src ipv6.dst icmp.type icmp.code icmpv6.type tcp.srcport \
    tcp.dstport tcp.seq_raw tcp.ack_raw tcp.hdr_len tcp.flags tcp.window_size_value tcp.checksum tcp.len \
    tcp.options.mss_val udp.srcport udp.dstport udp.length udp.checksum dns.id dns.flags.response dns.qry.name \
    dns.qry.type dns.a dns.aaaa http.request.method http.request.uri http.response.code";

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")))
        .collect();
    files.sort();
    files
}

fn name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn tshark_fields(file: &Path, fields: &[&str]) -> String {
    let mut cmd = Command::new("tshark");
    // Default preferences only: no personal profile may change what tshark prints.
    cmd.env("WIRESHARK_CONFIG_DIR", std::env::temp_dir().join("osilab-no-wireshark-profile"));
    cmd.arg("-n").arg("-r").arg(file).arg("-T").arg("fields");
    for f in fields {
        cmd.arg("-e").arg(f);
    }
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark on {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("tshark output is UTF-8")
}

#[test]
fn every_field_agrees_with_tshark_on_every_capture() {
    if !require_tool("tshark", "every_field_agrees_with_tshark_on_every_capture") {
        return;
    }
    let fields: Vec<&str> = FIELDS.split_whitespace().collect();
    let captures = fixtures("captures");
    assert!(captures.len() >= 10, "expected the real captures in fixtures/captures, found {captures:?}");
    let mut problems = Vec::new();
    for file in &captures {
        let want = tshark_fields(file, &fields);
        let mut args = vec!["dissect".to_string(), file.to_string_lossy().into_owned()];
        for f in &fields {
            args.push("-e".into());
            args.push((*f).into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let got = osilab_ok(&args);
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
        if w.len() != g.len() {
            problems.push(format!("{}: tshark printed {} frames, osilab {}", name(file), w.len(), g.len()));
        }
        for (i, (wl, gl)) in w.iter().zip(&g).enumerate() {
            let (wv, gv): (Vec<&str>, Vec<&str>) = (wl.split('\t').collect(), gl.split('\t').collect());
            for (k, f) in fields.iter().enumerate() {
                let (a, b) = (wv.get(k).copied().unwrap_or(""), gv.get(k).copied().unwrap_or(""));
                if a != b {
                    problems.push(format!("{} frame {}: {f}: tshark {a:?}, osilab {b:?}", name(file), i + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} disagreements:\n{}", problems.len(), problems.join("\n"));
}

/// A snapshot name for a fixture and format.
fn snap(file: &str, format: &str) -> String {
    format!("dissect_{}_{format}", file.replace(['.', '-'], "_"))
}

fn dissect_fixture(file: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures").join(file);
    let mut all = vec!["dissect", path.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    osilab_ok(&all)
}

#[test]
fn tree_hex_and_json_snapshots() {
    for (file, count) in [("ping4.pcap", "4"), ("dns.pcap", "2"), ("http.pcap", "6"), ("udp-refused.pcap", "4")] {
        for format in ["tree", "hex", "json"] {
            let out = dissect_fixture(file, &["--format", format, "--count", count]);
            insta::assert_snapshot!(snap(file, format), out);
        }
    }
}

#[test]
fn filter_and_count() {
    let all = dissect_fixture("dns.pcap", &["-e", "frame.number", "-e", "dns.qry.name"]);
    let dns = dissect_fixture("dns.pcap", &["-e", "frame.number", "-e", "dns.qry.name", "--filter", "dns"]);
    assert!(dns.lines().count() >= 2 && dns.lines().count() <= all.lines().count());
    assert!(dns.lines().all(|l| l.split('\t').nth(1).is_some_and(|n| !n.is_empty())), "{dns}");
    let one = dissect_fixture("dns.pcap", &["-e", "frame.number", "--filter", "dns.flags.response == 1", "-c", "1"]);
    assert_eq!(one.lines().count(), 1, "{one}");
    let tcp = dissect_fixture("tcp-socat.pcap", &["-e", "tcp.dstport", "-Y", "tcp.port == 3000 && tcp.flags.syn == 1"]);
    assert!(!tcp.is_empty() && tcp.lines().count() <= 2, "{tcp}");
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let ping = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures/ping4.pcap");
    let ping = ping.to_str().expect("utf-8 path");
    for (args, want) in [
        (vec!["dissect", ping, "-e", "ip.srcc"], "unknown field \"ip.srcc\""),
        (vec!["dissect", ping, "--format", "fields"], "needs at least one -e"),
        (vec!["dissect", ping, "--format", "xml"], "unknown format \"xml\""),
        (vec!["dissect", ping, "--count", "0"], "--count takes a number"),
        (vec!["dissect", ping, "--filter", "tcp.port =="], "expected a value"),
        (vec!["dissect", "/nonexistent/osilab.pcap"], "/nonexistent/osilab.pcap"),
    ] {
        let out = osilab(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("osilab: error: ") && err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

/// Every malformed capture is dissected without a panic; each frame's error names its layer and
/// byte offset; only an unreadable file is a fatal error (exit 2, one line).
#[test]
fn malformed_captures_give_their_errors() {
    let mut report = String::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/malformed");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("fixtures/malformed").filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.retain(|p| p.extension().and_then(|e| e.to_str()) == Some("pcap"));
    files.sort();
    assert!(files.len() >= 15, "expected the malformed cases, found {files:?}");
    for f in &files {
        let out = osilab(&["dissect", f.to_str().expect("utf-8 path"), "--format", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", name(f));
        report.push_str(&format!("== {} (exit {})\n", name(f), out.status.code().unwrap_or(-1)));
        if !out.status.success() {
            assert_eq!(out.status.code(), Some(2), "{}", name(f));
            // The checkout's path is no part of the error worth pinning in a snapshot.
            report.push_str(&stderr.replace(env!("CARGO_MANIFEST_DIR"), "<checkout>"));
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
        for frame in v.as_array().into_iter().flatten() {
            for layer in frame["layers"].as_array().into_iter().flatten() {
                for x in layer["expert"].as_array().into_iter().flatten() {
                    let at = x["offset"].as_u64().map(|o| format!(" [byte {o}]")).unwrap_or_default();
                    report.push_str(&format!(
                        "frame {} {}: {}/{}: {}{at}\n",
                        frame["number"],
                        layer["protocol"].as_str().unwrap_or(""),
                        x["severity"].as_str().unwrap_or(""),
                        x["group"].as_str().unwrap_or(""),
                        x["message"].as_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    insta::assert_snapshot!("dissect_malformed", report);
}

/// `-e` refuses names it does not know, so every field a capture can produce must be known: each
/// field name in the JSON of every fixture (real and malformed) is in `src/dissect/known_fields.txt`.
#[test]
fn every_field_shown_is_known_to_dash_e() {
    let known: Vec<&str> = osilab::dissect::fields::KNOWN_LIST.lines().collect();
    let mut missing = std::collections::BTreeSet::new();
    for f in fixtures("captures").iter().chain(&fixtures("malformed")) {
        let out = osilab(&["dissect", f.to_str().expect("utf-8 path"), "--format", "json"]);
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else { continue };
        for frame in v.as_array().into_iter().flatten() {
            let layers = frame["layers"].as_array().into_iter().chain(frame["end_of_capture"].as_array());
            for layer in layers.flatten() {
                for name in layer["fields"].as_object().into_iter().flat_map(|m| m.keys()) {
                    if !known.contains(&name.as_str()) {
                        missing.insert(name.clone());
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "add to src/dissect/known_fields.txt: {missing:?}");
}

mod no_panics {
    use osilab::capture::{CaptureReader, Frame, FrameKind, LinkType};
    use osilab::dissect::Dissector;
    use proptest::prelude::*;

    /// Every frame of the real captures, with its link type.
    fn real_frames() -> Vec<(LinkType, Vec<u8>)> {
        let mut out = Vec::new();
        for f in super::fixtures("captures") {
            let mut r = CaptureReader::open(&f).expect("fixture opens");
            while let Some(Ok(fr)) = r.next_frame() {
                out.push((fr.link, fr.data.to_vec()));
            }
        }
        out
    }

    fn frame(n: u64, link: LinkType, data: &[u8]) -> Frame<'_> {
        Frame {
            number: n,
            ts_ns: 1_700_000_000_000_000_000 + n * 1000,
            has_ts: true,
            kind: FrameKind::Packet,
            link,
            caplen: data.len(),
            orig_len: data.len(),
            data,
            file_offset: 0,
        }
    }

    const LINKS: [LinkType; 6] =
        [LinkType::Ethernet, LinkType::RawIp, LinkType::Ipv4, LinkType::Ipv6, LinkType::LinuxSll, LinkType::LinuxSll2];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Real frames with bytes changed (one dissector for the whole sequence, so that damaged
        /// fragments and segments meet the reassembly state of intact ones): never a panic, and
        /// every frame gets its frame record.
        #[test]
        fn damaged_real_frames(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>()), 1..64)) {
            let frames = real_frames();
            let mut d = Dissector::new().expect("dissector");
            for (i, (fi, bi, v)) in edits.iter().enumerate() {
                let (link, bytes) = &frames[fi.index(frames.len())];
                let mut b = bytes.clone();
                let k = bi.index(b.len().max(1));
                if k < b.len() {
                    b[k] = *v;
                }
                let cut = if v % 7 == 0 { k } else { b.len() };
                let x = d.dissect(&frame(i as u64 + 1, *link, &b[..cut]));
                prop_assert_eq!(&*x.records[0].protocol, "frame");
            }
            let _ = d.finish();
        }

        /// Arbitrary bytes under every link type.
        #[test]
        fn arbitrary_bytes(li in 0..LINKS.len(), data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut d = Dissector::new().expect("dissector");
            let x = d.dissect(&frame(1, LINKS[li], &data));
            prop_assert!(!x.records.is_empty());
            let _ = d.finish();
        }
    }
}
