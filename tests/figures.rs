//! The book's figures (`book/figures.toml`, drawn into `book/src/figures/`) are osilab's own
//! output: each is regenerated here with the built binary and must match the committed file
//! byte for byte, and parse as an SVG document. Also `--format svg` on the command line: where
//! it is accepted, what it draws, and where it is refused.
//!
//! After a change that moves a figure: `OSILAB_UPDATE_FIGURES=1 cargo test --test figures`.

mod common;

use common::{osilab, osilab_ok};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One `[[figure]]` of the manifest.
struct Figure {
    file: String,
    args: Vec<String>,
}

fn manifest() -> Vec<Figure> {
    let text = std::fs::read_to_string(root().join("book/figures.toml")).expect("read book/figures.toml");
    let v: toml::Table = text.parse().expect("book/figures.toml is TOML");
    let figs = v.get("figure").and_then(|f| f.as_array()).expect("[[figure]] entries");
    figs.iter()
        .map(|f| {
            let file = f.get("file").and_then(|x| x.as_str()).expect("figure.file").to_string();
            let args = f
                .get("args")
                .and_then(|x| x.as_array())
                .expect("figure.args")
                .iter()
                .map(|a| a.as_str().expect("args are strings").to_string())
                .collect();
            Figure { file, args }
        })
        .collect()
}

/// Check that `svg` is an SVG document with a width, a height and a viewBox of the same size,
/// and return (width, height).
fn check_svg(name: &str, svg: &str) -> (f64, f64) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{name} is not well-formed XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg", "{name}: the root element");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"), "{name}: the namespace");
    let num = |a: &str| -> f64 {
        root.attribute(a)
            .unwrap_or_else(|| panic!("{name}: no {a} on <svg>"))
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {a} is not a number"))
    };
    let (w, h) = (num("width"), num("height"));
    let vb: Vec<f64> = root
        .attribute("viewBox")
        .unwrap_or_else(|| panic!("{name}: no viewBox"))
        .split_whitespace()
        .map(|x| x.parse().expect("viewBox numbers"))
        .collect();
    assert_eq!(vb, [0.0, 0.0, w, h], "{name}: the viewBox is the whole drawing");
    assert!(w > 0.0 && h > 0.0 && h < 20_000.0, "{name}: {w}×{h}");
    assert!(root.children().any(|c| c.has_tag_name("title")), "{name}: a <title>");
    (w, h)
}

#[test]
fn every_figure_is_what_osilab_draws_now() {
    let figs = manifest();
    let names: Vec<&str> = figs.iter().map(|f| f.file.as_str()).collect();
    // The names the book's chapters use.
    for want in [
        "encapsulation-chat.svg",
        "encapsulation-http.svg",
        "ladder-http-get.svg",
        "ladder-chat-room.svg",
        "ladder-ttl-exceeded.svg",
        "ladder-retransmission.svg",
    ] {
        assert!(names.contains(&want), "book/figures.toml has no {want}");
    }
    let dir = root().join("book/src/figures");
    let update = std::env::var("OSILAB_UPDATE_FIGURES").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for f in &figs {
        let out =
            Command::new(env!("CARGO_BIN_EXE_osilab")).args(&f.args).current_dir(root()).output().expect("run osilab");
        assert!(out.status.success(), "osilab {} failed: {}", f.args.join(" "), String::from_utf8_lossy(&out.stderr));
        let svg = String::from_utf8(out.stdout).expect("SVG is UTF-8");
        check_svg(&f.file, &svg);
        let path = dir.join(&f.file);
        if update {
            std::fs::create_dir_all(&dir).expect("create book/src/figures");
            std::fs::write(&path, &svg).expect("write figure");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(old) if old == svg => {}
            Ok(_) => stale.push(format!("{} differs from: osilab {}", f.file, f.args.join(" "))),
            Err(_) => stale.push(format!("{} is missing: osilab {}", f.file, f.args.join(" "))),
        }
    }
    assert!(
        stale.is_empty(),
        "figures out of date:\n  {}\nregenerate them with: OSILAB_UPDATE_FIGURES=1 cargo test --test figures",
        stale.join("\n  ")
    );
    // No figure without its command.
    for e in std::fs::read_dir(&dir).expect("book/src/figures") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".svg") || names.contains(&name.as_str()), "{name} is not in book/figures.toml");
    }
}

#[test]
fn every_committed_figure_parses_as_svg() {
    for f in manifest() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/figures").join(&f.file);
        if let Ok(svg) = std::fs::read_to_string(&path) {
            let (w, _) = check_svg(&f.file, &svg);
            assert_eq!(w, 900.0, "{}: the figures' fixed width", f.file);
        }
    }
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect())
        .collect()
}

#[test]
fn send_draws_each_layer_of_its_own_message() {
    let svg = osilab_ok(&["send", "--transport", "udp", "--format", "svg", "a <b> & \"c\" é"]);
    check_svg("send", &svg);
    let t = texts(&svg);
    // The message, escaped in the file and whole in the text.
    assert!(t.iter().any(|s| s == "\"a <b> & \\\"c\\\" é\""), "{t:?}");
    for (label, size) in [("UDP h", "8 B"), ("IPv4 h", "20 B"), ("Ethernet h", "14 B"), ("pad", "8 B")] {
        assert!(t.iter().any(|s| s.starts_with(label)), "{label}: {t:?}");
        assert!(t.iter().any(|s| s == size), "{size}: {t:?}");
    }
    // The 64-byte minimum frame: 4 bytes of padding before the FCS (IEEE 802.3 §3.2.7).
    assert!(t.iter().any(|s| s == "Ethernet frame") && t.iter().any(|s| s == "64 B"), "{t:?}");
    // One band per layer.
    for l in
        ["L7 application", "L6 presentation", "L5 session", "L4 transport", "L3 network", "L2 data link", "L1 physical"]
    {
        assert_eq!(t.iter().filter(|s| *s == l).count(), 1, "{l}: {t:?}");
    }
    // The same arguments give the same bytes.
    assert_eq!(svg, osilab_ok(&["send", "--transport", "udp", "--format", "svg", "a <b> & \"c\" é"]));
}

#[test]
fn demo_draws_part_one_as_encapsulation_and_part_two_as_a_ladder() {
    let one = osilab_ok(&["demo", "--format", "svg"]);
    assert_eq!(one, osilab_ok(&["demo", "--part", "1", "--format", "svg"]));
    assert!(texts(&one).iter().any(|s| s == "\"Olá, sala!\""));
    let two = osilab_ok(&["demo", "--part", "2", "--format", "svg"]);
    check_svg("demo part 2", &two);
    let t = texts(&two);
    for dev in ["server", "sw1", "alice", "bob", "carol"] {
        assert!(t.iter().any(|s| s == dev), "{dev}: {t:?}");
    }
    assert!(t.iter().any(|s| s.contains("MSG \"Olá, sala!\"")), "{t:?}");
}

#[test]
fn simulate_draws_a_ladder_in_a_window() {
    let svg = osilab_ok(&["simulate", "fixtures/scenarios/http-get.toml", "--format", "svg"]);
    check_svg("http-get", &svg);
    let t = texts(&svg);
    for s in ["[SYN] Seq=0", "[SYN, ACK] Seq=0 Ack=1", "GET /index.html HTTP/1.1", "HTTP/1.1 200 OK", "[FIN, ACK]"] {
        assert!(t.iter().any(|x| x.contains(s)), "{s}: {t:?}");
    }
    // A window: only the events from 0.5 s on, the first of which is the client starting.
    let later = osilab_ok(&["simulate", "fixtures/scenarios/http-get.toml", "--from", "0.5s", "--format", "svg"]);
    let t = texts(&later);
    assert!(t.iter().any(|s| s == "#5"), "{t:?}");
    assert!(!t.iter().any(|s| s == "#4"), "{t:?}");
    // --from also trims the timeline.
    let text = osilab_ok(&["simulate", "fixtures/scenarios/http-get.toml", "--from", "0.5s"]);
    assert!(text.contains("(from 0.500000000 s: 4 earlier events not shown)"), "{text}");
    assert!(!text.contains("listen(3, 128)"), "{text}");
}

#[test]
fn a_long_run_is_cut_with_a_note() {
    // The whole chat room: over 400 events.
    let svg = osilab_ok(&["simulate", "fixtures/scenarios/chat-room.toml", "--format", "svg"]);
    check_svg("chat-room", &svg);
    assert!(svg.len() < 400_000, "{} bytes", svg.len());
    let t = texts(&svg);
    assert!(
        t.iter().any(|s| s.contains("more events up to") && s.contains("choose a window with --from and --until")),
        "{t:?}"
    );
}

#[test]
fn svg_is_refused_where_it_draws_nothing() {
    let out = osilab(&["dissect", "fixtures/captures/none.pcap", "--format", "svg"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown format \"svg\" for dissect"), "{err}");
    let out =
        osilab(&["simulate", "fixtures/scenarios/http-get.toml", "--from", "5s", "--until", "1s", "--format", "svg"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--from 5s is after the end of the run"), "{err}");
    let out = osilab(&["send", "--format", "png", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected tree, hex, bits, json or svg"));
}
