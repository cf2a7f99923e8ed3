//! The command line, end to end: snapshots of `osilab demo` and of `osilab send` in every
//! format, and one clear line with exit code 2 for each kind of bad argument.

mod common;

use common::{osilab, osilab_ok};

#[test]
fn demo_tree() {
    insta::assert_snapshot!("demo_tree", osilab_ok(&["demo"]));
}

/// Part 2 is the chat room: its first three messages, each relayed by the server to the two
/// other clients, with the server's port table.
#[test]
fn demo_part_two_chat_room() {
    let both = osilab_ok(&["demo"]);
    let out = osilab_ok(&["demo", "--part", "2"]);
    assert!(both.starts_with("Part 1: one message through the seven layers"), "{both}");
    assert!(both.ends_with(&out), "the default demo is part 1 then part 2");
    for (who, line) in [
        ("bob", "FROM alice Olá, sala!"),
        ("carol", "FROM alice Olá, sala!"),
        ("alice", "FROM bob Hi alice!"),
        ("carol", "FROM bob Hi alice!"),
        ("alice", "FROM carol Hello both"),
        ("bob", "FROM carol Hello both"),
    ] {
        assert_eq!(out.matches(&format!("{who} sees: {line}")).count(), 1, "{who} / {line}\n{out}");
    }
    for nick in ["alice", "bob", "carol"] {
        assert!(out.contains(&format!("{nick}: sent 1 message, received 2 from others")), "{out}");
    }
    assert!(out.contains("tcp   LISTEN 0      128    0.0.0.0:3000"), "{out}");
    assert_eq!(out.matches("tcp   ESTAB").count(), 3, "{out}");
    insta::assert_snapshot!("demo_part_two", out);
    let json = osilab_ok(&["demo", "--part", "2", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v["scenario"], "chat-room");
    assert!(v["events"].as_array().map_or(0, |e| e.len()) > 200);
    // Part 1 alone is the frame of `send --app chat`: the other formats show only it.
    assert!(!osilab_ok(&["demo", "--part", "1"]).contains("Part 2"));
    assert!(!osilab_ok(&["demo", "--format", "hex"]).contains("Part 2"));
}

#[test]
fn demo_hex() {
    insta::assert_snapshot!("demo_hex", osilab_ok(&["demo", "--format", "hex"]));
}

#[test]
fn demo_bits() {
    insta::assert_snapshot!("demo_bits", osilab_ok(&["demo", "--format", "bits"]));
}

#[test]
fn demo_json() {
    let out = osilab_ok(&["demo", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["delivered"], "Olá, sala!");
    assert_eq!(v["intact"], true);
    insta::assert_snapshot!("demo_json", out);
}

#[test]
fn send_icmp_hex_both_families() {
    insta::assert_snapshot!("send_icmp4_hex", osilab_ok(&["send", "--transport", "icmp", "ping", "--format", "hex"]));
    insta::assert_snapshot!(
        "send_icmp6_hex",
        osilab_ok(&["send", "--transport", "icmp", "--to", "2001:db8::2", "ping", "--format", "hex"])
    );
}

#[test]
fn send_tree() {
    insta::assert_snapshot!("send_tree", osilab_ok(&["send", "hello"]));
}

#[test]
fn send_hex() {
    insta::assert_snapshot!("send_hex", osilab_ok(&["send", "hello", "--format", "hex"]));
}

#[test]
fn send_bits() {
    insta::assert_snapshot!("send_bits", osilab_ok(&["send", "hello", "--format", "bits"]));
}

#[test]
fn send_bits_4b5b() {
    insta::assert_snapshot!(
        "send_bits_4b5b",
        osilab_ok(&["send", "hello", "--format", "bits", "--line-code", "4b5b", "--rate", "100M"])
    );
}

#[test]
fn send_json() {
    let out = osilab_ok(&["send", "hello", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["intact"], true);
    assert_eq!(v["delivered"], "hello");
    insta::assert_snapshot!("send_json", out);
}

#[test]
fn send_udp_ipv6_vlan_tree() {
    insta::assert_snapshot!(
        "send_udp_ipv6_vlan_tree",
        osilab_ok(&["send", "--transport", "udp", "--to", "[2001:db8::2]:5000", "--vlan", "10", "v6 over a VLAN"])
    );
}

#[test]
fn send_fragmented_udp_tree() {
    let msg = "0123456789".repeat(30);
    insta::assert_snapshot!(
        "send_fragmented_udp_tree",
        osilab_ok(&["send", "--transport", "udp", "--mtu", "128", &msg])
    );
}

#[test]
fn send_arp_hex() {
    insta::assert_snapshot!(
        "send_arp_hex",
        osilab_ok(&["send", "--arp", "--transport", "udp", "hello", "--format", "hex"])
    );
}

#[test]
fn send_icmp_tree() {
    insta::assert_snapshot!("send_icmp_tree", osilab_ok(&["send", "--transport", "icmp", "ping!"]));
}

#[test]
fn send_from_file_is_byte_exact() {
    let dir = common::scratch("cli-file");
    let path = dir.join("msg.bin");
    let bytes: Vec<u8> = (0..=255u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let out = osilab_ok(&["send", "--file", path.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v["delivered_hex"], hex);
    assert_eq!(v["intact"], true);
}

#[test]
fn pcap_is_written() {
    let dir = common::scratch("cli-pcap");
    let path = dir.join("out.pcap");
    osilab_ok(&["send", "--transport", "udp", "--mtu", "576", &"z".repeat(1200), "--pcap", path.to_str().unwrap()]);
    let b = std::fs::read(&path).unwrap();
    assert_eq!(&b[..4], &[0x4d, 0x3c, 0xb2, 0xa1], "nanosecond pcap magic");
    // Three fragments: count the records by walking the file.
    let (mut at, mut n) = (24usize, 0);
    while at + 16 <= b.len() {
        let incl = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + incl;
        n += 1;
    }
    assert_eq!(at, b.len());
    assert_eq!(n, 3);
}

/// Each bad argument: exit code 2, nothing on stdout, one line on stderr naming the problem.
#[test]
fn bad_arguments_exit_2_with_one_clear_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["demo", "--part", "3"], "3 is not in 1..=2"),
        (&["demo", "--part", "2", "--format", "hex"], "use --format tree, json or svg"),
        (&["demo", "--part", "2", "--pcap", "x.pcap"], "--pcap writes part 1's frames"),
        (&["send", "x", "--to", "192.0.2.300:80"], "bad address"),
        (&["send", "x", "--from", "nonsense"], "bad address"),
        (&["send", "x", "--mtu", "67"], "MTU 67 is below the minimum of 68"),
        (&["send", "x", "--mtu", "1279", "--to", "[2001:db8::2]:80"], "minimum of 1280"),
        (&["send", "x", "--mtu", "9000"], "above Ethernet"),
        (&["send", "x", "--mtu", "big"], "bad MTU"),
        (&["send", "x", "--line-code", "ami"], "unknown line code"),
        (&["send", "x", "--rate", "fast"], "bad rate"),
        (&["send", "x", "--format", "xml"], "unknown format"),
        (&["send", "x", "--transport", "sctp"], "unknown transport"),
        (&["send", "x", "--src-mac", "02:00:00:00:00"], "bad MAC"),
        (&["send", "x", "--src-mac", "ff:ff:ff:ff:ff:ff"], "group address"),
        (&["send", "x", "--vlan", "4095"], "L2 data link: 802.1Q VLAN ID 4095"),
        (&["send", "x", "--vlan", "7", "--vlan-pcp", "8"], "priority (PCP) 8"),
        (&["send", "x", "--df", "--to", "[2001:db8::2]:80"], "IPv6 has no"),
        (&["send", "x", "--ttl", "0"], "L3 network: TTL / hop limit 0"),
        (&["send", "x", "--ttl", "256"], "bad TTL"),
        (&["send", "x", "--ber", "2"], "not a probability"),
        (&["send", "x", "--to", "192.0.2.2:0"], "port 0"),
        (
            &["send", "x", "--from", "192.0.2.1:5", "--to", "[2001:db8::2]:80"],
            "local address 192.0.2.1 and remote address 2001:db8::2 are of different IP versions",
        ),
        (&["send", "--file", "/nonexistent/osilab-test"], "cannot read"),
        (&["send", "--transport", "udp", "--df", "--mtu", "576", &"y".repeat(1000)], "DF"),
        (&["send"], "give a MESSAGE or --file PATH"),
        (&["send", "x", "--app", "smtp"], "unknown application"),
        (&["send", "--app", "dns"], "--app dns needs --query"),
        (&["send", "--app", "dns", "--query", "www.example", "hello"], "give no MESSAGE"),
        (&["send", "--app", "dns", "--query", "www.example", "--type", "MX"], "MX"),
        (&["send", "--app", "dns", "--query", "www.example", "--transport", "tcp"], "DNS is carried over UDP"),
        (&["send", "--app", "chat", "--chat", "from", "hi"], "give --nick"),
        (&["send", "--app", "chat", "--chat", "leave", "bye"], "LEAVE takes no argument"),
        (&["send", "--app", "chat", "--chat", "shout", "hi"], "unknown chat line"),
        (&["send", "--app", "http", "--transport", "icmp"], "ICMP echo carries raw data"),
        (&["send", "--app", "http", "--status", "abc"], "bad status"),
        (&["send", "x", "--body", "y"], "cannot be used with"),
        (&["send", "--body", "y"], "--body is for --app http"),
        (&["send", "x", "--path", "/a"], "--path is for --app http"),
        (&["send", "x", "--type", "AAAA"], "--type is for --app dns"),
        (&["send", "--app", "http", "--nick", "ana"], "--nick is for --app chat"),
        (&["send", "--app", "chat", "--nick", "ana", "hi"], "goes with --chat from"),
        (&["send", "x", "--key", "+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0+0"], "64 hex digits"),
        (&["send", "x", "--model", "osi"], "osi model"),
        (&["send", "x", "--model", "iso"], "unknown model"),
        (&["send", "x", "--key", "abcd"], "64 hex digits"),
        (&["send", "x", "--encoding", "ebcdic"], "unknown encoding"),
        (&["send", "x", "--compress", "zip"], "unknown compression"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, needle) in cases {
        let out = osilab(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {err}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
        assert!(err.contains(needle), "{args:?}: expected {needle:?} in {err:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(err.starts_with("osilab: error: "), "{args:?}: {err:?}");
    }
}

/// Each application in `tree` and `json`, as the issue asks: the L5-L7 records in both.
#[test]
fn each_app_in_tree_and_json() {
    let cases: &[(&str, &[&str])] = &[
        ("app_chat_msg", &["--app", "chat", "Olá, sala!"]),
        ("app_chat_from", &["--app", "chat", "--chat", "from", "--nick", "ana", "Olá, sala!"]),
        ("app_http_get", &["--app", "http", "--method", "GET", "--path", "/index.html"]),
        ("app_http_200_chunked", &["--app", "http", "--status", "200", "--chunked", "8", "--body", "Olá, mundo!"]),
        ("app_dns_query", &["--app", "dns", "--query", "www.example", "--type", "AAAA"]),
        ("app_dns_response", &["--app", "dns", "--query", "www.example", "--type", "AAAA", "--answer", "2001:db8::5"]),
        (
            "app_raw_utf16_gzip_tls",
            &[
                "--encoding",
                "utf-16be",
                "--compress",
                "gzip",
                "--key",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "Olá, sala!",
            ],
        ),
    ];
    for (name, args) in cases {
        let mut a = vec!["send"];
        a.extend_from_slice(args);
        let tree = osilab_ok(&a);
        assert!(tree.contains("identical to the message sent"), "{name}: {tree}");
        insta::assert_snapshot!(format!("{name}_tree"), tree);
        a.extend_from_slice(&["--format", "json"]);
        let json = osilab_ok(&a);
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v["intact"], true, "{name}");
        for layer in [5, 6, 7] {
            assert!(v["up"].as_array().unwrap().iter().any(|r| r["layer"] == layer), "{name}: an L{layer} record");
        }
        insta::assert_snapshot!(format!("{name}_json"), json);
    }
}

/// `--key-file` holds the key as 64 hex digits or as 32 raw bytes; both give the same records.
#[test]
fn key_file_as_hex_or_raw_bytes() {
    let dir = common::scratch("cli-keyfile");
    let key: Vec<u8> = (0u8..32).collect();
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let (h, r, bad) = (dir.join("key.hex"), dir.join("key.bin"), dir.join("key.bad"));
    std::fs::write(&h, format!("{hex}\n")).unwrap();
    std::fs::write(&r, &key).unwrap();
    std::fs::write(&bad, b"too short").unwrap();
    let run = |p: &std::path::Path| {
        osilab_ok(&["send", "--app", "chat", "--key-file", p.to_str().unwrap(), "hi", "--format", "hex"])
    };
    let with_hex = run(&h);
    assert_eq!(with_hex, run(&r), "the same key, the same ciphertext");
    assert_eq!(with_hex, osilab_ok(&["send", "--app", "chat", "--key", &hex, "hi", "--format", "hex"]));
    let out = osilab(&["send", "--app", "chat", "--key-file", bad.to_str().unwrap(), "hi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits or 32 raw bytes"));
}
