//! The encapsulation figure (`osilab send --format svg`): the sender's pass down the stack drawn
//! as one band per layer, L7 at the top to L1 at the bottom. Each band shows what its layer adds
//! (header and trailer, with their byte counts) around its payload, and the payload box lies
//! exactly under the whole data unit of the band above, so the eye sees each layer wrap the one
//! above (the model of ISO/IEC 7498-1 §5.6: an (N)-PDU is (N)-PCI plus an (N)-SDU, the (N+1)-PDU).
//!
//! Every number comes from the sender's records: the header and trailer ranges, `payload_len`
//! and, for L1, the `phy.*` fields (bits, symbols, line code, rate, time on the wire). Box widths
//! grow with the byte count but not in proportion (a 20-byte header next to a 1460-byte payload
//! would be a sliver); the figure says so.
//!
//! A message sent as several frames (TCP segments, IP fragments) is drawn for its first frame:
//! below the layer that split it, the bands hold the first piece, and the payload box says which
//! part of the data unit above it carries.

use super::svg::{colours, fit, fit_first, text_width, Anchor, Svg, WIDTH};
use super::tree::human_nanos;
use crate::layer::LayerId;
use crate::layers::l7_application::preview;
use crate::stack::Exchange;
use crate::trace::{Record, Trace, Value};

/// Where the label column ends and the boxes begin, and where they end.
const AREA: (f64, f64) = (150.0, WIDTH - 16.0);
/// The narrowest and widest the message box at the top is made room for (its text decides).
const TOP_W: (f64, f64) = (140.0, 300.0);
/// The height of a band's boxes, and the gap between two bands (where the guide lines run).
const BOX_H: f64 = 40.0;
const GAP: f64 = 24.0;
/// The first band's top.
const TOP: f64 = 96.0;

/// One band: a record of the sender's trace and what it adds.
#[derive(Debug)]
struct Band<'a> {
    rec: &'a Record,
    /// Records inside this one's header (an 802.1Q tag in the Ethernet header).
    tags: Vec<&'a Record>,
    /// Header and trailer widths, in pixels.
    hw: f64,
    tw: f64,
}

/// The records drawn, top to bottom: every record of L7–L5 (L6 may have several transforms),
/// then, for L4–L1, the first record of each protocol (the first segment, fragment and frame);
/// a record whose header lies inside another's of its layer and adds nothing (an 802.1Q tag,
/// counted in the Ethernet header) is noted in that band instead.
fn bands(trace: &Trace) -> Vec<Band<'_>> {
    let mut seen: Vec<(LayerId, &str)> = Vec::new();
    let mut out: Vec<Band> = Vec::new();
    for r in &trace.records {
        if r.layer.number() <= 4 {
            if seen.contains(&(r.layer, &*r.protocol)) {
                continue;
            }
            seen.push((r.layer, &*r.protocol));
            if r.overhead == 0 && !r.header.is_empty() {
                if let Some(b) = out.last_mut().filter(|b| b.rec.layer == r.layer) {
                    b.tags.push(r);
                    continue;
                }
            }
        }
        out.push(Band { rec: r, tags: Vec::new(), hw: 0.0, tw: 0.0 });
    }
    out
}

/// A protocol's short name for labels.
fn short(r: &Record) -> String {
    match &*r.protocol {
        "eth" => "Ethernet".into(),
        "vlan" => "802.1Q".into(),
        "ip" => "IPv4".into(),
        "ipv6" => "IPv6".into(),
        "tcp" => "TCP".into(),
        "udp" => "UDP".into(),
        "icmp" => "ICMP".into(),
        "icmpv6" => "ICMPv6".into(),
        "arp" => "ARP".into(),
        "http" => "HTTP".into(),
        "dns" => "DNS".into(),
        "tls" => "TLS".into(),
        "chat" | "data" => r.protocol.to_string(),
        // L5 and L6 records, and L4's "no transport" under ping: the layer names what it holds.
        _ => r.layer.name().to_string(),
    }
}

/// What a record's whole data unit is called: "TCP segment", "IPv4 packet", "chat data".
fn unit(r: &Record) -> String {
    let name = short(r);
    let pdu = r.pdu.to_string();
    if r.protocol == "phy" {
        "bits".into()
    } else if name == pdu {
        name
    } else {
        format!("{name} {pdu}")
    }
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

/// A box's width for `n` bytes: growing with the count, slowly.
fn raw_width(n: usize, base: f64) -> f64 {
    if n == 0 {
        0.0
    } else {
        base + 9.0 * ((n + 1) as f64).log2()
    }
}

/// The header box's label choices, longest first; `tags` are the records inside the header
/// (an 802.1Q tag in the Ethernet header).
fn header_names(r: &Record, tags: &[&Record]) -> Vec<String> {
    if r.protocol == "phy" {
        return vec!["preamble+SFD".into(), "pre+SFD".into()];
    }
    let mut n = short(r);
    if !tags.is_empty() {
        let inner: Vec<String> = tags.iter().map(|t| short(t)).collect();
        n = format!("{}+{}", if r.protocol == "eth" { "Eth" } else { &n }, inner.join("+"));
    }
    vec![format!("{n} header"), format!("{n} hdr"), n, short(r)]
}

/// The trailer box's label choices, longest first.
fn trailer_names(r: &Record) -> Vec<String> {
    match &*r.protocol {
        "eth" if r.field("eth.padding").is_some() => vec!["padding+FCS".into(), "pad+FCS".into(), "FCS".into()],
        "eth" => vec!["FCS".into()],
        "chat" => vec!["line end".into(), "LF".into()],
        _ => {
            let n = short(r);
            vec![format!("{n} trailer"), format!("{n} trl"), n]
        }
    }
}

/// A box with up to two centred lines of text that are shortened to fit, and a tooltip.
#[allow(clippy::too_many_arguments)]
fn labelled_box(
    svg: &mut Svg,
    (x, y, w): (f64, f64, f64),
    (fill, stroke): (&str, &str),
    first: &[String],
    second: &str,
    tip: &str,
) {
    svg.group(tip);
    svg.rect(x, y, w, BOX_H, fill, stroke, r#"stroke-width="1.2" rx="3""#, None);
    let room = w - 8.0;
    let cx = x + w / 2.0;
    let choices: Vec<&str> = first.iter().map(String::as_str).collect();
    let one = fit_first(&choices, room, 11.0);
    if !one.is_empty() {
        svg.text(cx, y + 17.0, "bold", Anchor::Middle, "", &one, None);
    }
    let two = fit(second, room, 11.0);
    if !two.is_empty() {
        svg.text(cx, y + 32.0, "", Anchor::Middle, "", &two, None);
    }
    svg.end_group();
}

/// A field's shown text, or "?" when the record has no such field.
fn shown(r: &Record, name: &str) -> String {
    r.field(name).map(|f| f.shown_text().into_owned()).unwrap_or_else(|| "?".into())
}

/// The message box's two lines: the message (quoted, shortened) and its size.
fn message_lines(x: &Exchange) -> (String, String) {
    let m = preview(&x.message);
    (fit(&m, TOP_W.1 - 16.0, 11.0), format!("message · {}", bytes(x.message.len())))
}

/// The encapsulation of the exchange's message, as an SVG document.
pub fn encapsulation(x: &Exchange) -> String {
    let mut bands = bands(&x.sent.trace);
    let frames = x.sent.frames.len();
    let title = format!("Encapsulation: {} over {}", x.config.app.name(), x.config.dialogue());
    let mut svg = Svg::new();
    svg.text(16.0, 30.0, "title", Anchor::Start, "", &title, None);
    let sub1 = "Down the sender's stack, L7 to L1: each layer's payload (the light box) is the whole data unit of the layer above.";
    let mut sub2 = match frames {
        0 => "No frame was sent.".to_string(),
        1 => format!("One frame of {} crosses the wire.", bytes(x.sent.frames.first().map_or(0, |f| f.bytes.len()))),
        n => format!("The message became {n} frames: the first is drawn."),
    };
    if x.arp.is_some() {
        sub2.push_str(" (An ARP request and reply came first: not drawn.)");
    }
    svg.text(16.0, 52.0, "sub", Anchor::Start, "", sub1, None);
    svg.text(16.0, 70.0, "sub", Anchor::Start, "", &sub2, None);
    if bands.is_empty() {
        return svg.finish(TOP + 40.0, &title);
    }

    // Widths: the boxes of every band must fit beside the message box at the top.
    for b in &mut bands {
        // Room for the label's longest form, or more for more bytes.
        let label = |names: Vec<String>| names.first().map_or(0.0, |n| text_width(n, 11.0) + 10.0);
        let (h, t) = (b.rec.header.len(), b.rec.trailer.as_ref().map_or(0, |t| t.len()));
        b.hw = if h > 0 { raw_width(h, 48.0).max(label(header_names(b.rec, &b.tags))) } else { 0.0 };
        b.tw = if t > 0 { raw_width(t, 36.0).max(label(trailer_names(b.rec))) } else { 0.0 };
    }
    let top_payload = bands[0].rec.payload_len > 0;
    let (m1, m2) = message_lines(x);
    let top_w = (text_width(&m1, 11.0).max(text_width(&m2, 11.0)) + 16.0).clamp(TOP_W.0, TOP_W.1);
    let wanted: f64 = bands.iter().map(|b| b.hw + b.tw).sum();
    let room = AREA.1 - AREA.0 - if top_payload { top_w } else { 0.0 };
    if wanted > room && wanted > 0.0 {
        let k = room / wanted;
        for b in &mut bands {
            b.hw *= k;
            b.tw *= k;
        }
    }
    // Each band's whole data unit, [left, right], from the bottom band (the whole area) up.
    let n = bands.len();
    let mut pdu = vec![(AREA.0, AREA.1); n];
    for i in (0..n - 1).rev() {
        pdu[i] = (pdu[i + 1].0 + bands[i + 1].hw, pdu[i + 1].1 - bands[i + 1].tw);
    }
    if !top_payload {
        // Nothing but header (an HTTP request without a body): the header takes the top.
        bands[0].hw = pdu[0].1 - pdu[0].0 - bands[0].tw;
    }

    let mut y = TOP;
    for (i, b) in bands.iter().enumerate() {
        let r = b.rec;
        let layer = r.layer.number();
        let c = colours(layer);
        let (l, rt) = pdu[i];
        // The guide lines: the band above's whole unit is this band's payload.
        if i > 0 {
            let pl = l + b.hw;
            let pr = rt - b.tw;
            for gx in [pl, pr] {
                svg.line((gx, y - GAP), (gx, y), "#888888", r#"stroke-dasharray="3 3""#);
            }
        }
        // The label column: layer, data unit, size and what the layer adds.
        let added = r.header.len() + r.trailer.as_ref().map_or(0, |t| t.len());
        svg.rect(16.0, y, 6.0, BOX_H, c.strong, "none", "", None);
        svg.text(28.0, y + 12.0, "layer", Anchor::Start, c.strong, &format!("L{} {}", layer, r.layer.name()), None);
        svg.text(28.0, y + 25.0, "small", Anchor::Start, "", &fit(&unit(r), AREA.0 - 36.0, 10.0), None);
        let size = format!("{} B, adds {added} B", r.pdu_len());
        svg.text(28.0, y + 37.0, "small", Anchor::Start, "#555555", &fit(&size, AREA.0 - 36.0, 10.0), None);

        let mut x0 = l;
        if b.hw > 0.0 {
            let tip = format!(
                "{}: header, bytes {}..{} of the {} ({}){}\n{}",
                r.title,
                r.header.start,
                r.header.end,
                unit(r),
                bytes(r.header.len()),
                b.tags
                    .iter()
                    .map(|t| format!("; {} inside it: {}", t.title, bytes(t.header.len())))
                    .collect::<String>(),
                r.summary
            );
            let mut size = format!("{} B", r.header.len());
            for t in &b.tags {
                size.push_str(&format!(" ({} B {})", t.header.len(), short(t)));
            }
            if i == 0 && !top_payload && !r.summary.is_empty() {
                // A message that is all header (an HTTP request without a body): say which.
                size = format!("{size}: {}", r.summary);
            }
            labelled_box(&mut svg, (x0, y, b.hw), (c.fill, c.strong), &header_names(r, &b.tags), &size, &tip);
            x0 += b.hw;
        }
        let x1 = rt - b.tw;
        if x1 - x0 > 0.5 {
            let (first, second, tip, fill, stroke) = if i == 0 {
                (
                    vec![m1.clone()],
                    m2.clone(),
                    format!(
                        "The message handed to the application: {} ({})",
                        preview(&x.message),
                        bytes(r.payload_len)
                    ),
                    "#ffffff",
                    "#888888",
                )
            } else {
                let above = bands[i - 1].rec;
                let whole = above.pdu_len();
                let mut second = format!("{} B", r.payload_len);
                if let Some(p) = r.part {
                    second = format!("{} of {} B (part {} of {})", r.payload_len, whole, p.index, p.count);
                } else if r.payload_len != whole {
                    second = format!("{} B (was {} B)", r.payload_len, whole);
                }
                if b.hw == 0.0 && b.tw == 0.0 {
                    // A layer that adds nothing says what it did instead.
                    let what = if r.summary.is_empty() { r.title.clone() } else { r.summary.clone() };
                    second = format!("{second}: {what}");
                }
                let ca = colours(above.layer.number());
                let mut tip = format!(
                    "{}: payload, {} — the {} from {} above",
                    r.title,
                    bytes(r.payload_len),
                    unit(above),
                    above.layer
                );
                for note in &r.notes {
                    tip.push_str(&format!("\nnote: {note}"));
                }
                (vec![unit(above)], second, tip, ca.light, ca.strong)
            };
            labelled_box(&mut svg, (x0, y, x1 - x0), (fill, stroke), &first, &second, &tip);
        }
        if b.tw > 0.0 {
            let t = r.trailer.clone().unwrap_or(0..0);
            let tip =
                format!("{}: trailer, bytes {}..{} of the {} ({})", r.title, t.start, t.end, unit(r), bytes(t.len()));
            labelled_box(
                &mut svg,
                (x1, y, b.tw),
                (c.fill, c.strong),
                &trailer_names(r),
                &format!("{} B", t.len()),
                &tip,
            );
        }
        y += BOX_H;
        if r.protocol == "phy" {
            let ns = |name: &str| match r.field(name).map(|f| &f.value) {
                Some(Value::Uint(n)) => human_nanos(u128::from(*n)),
                _ => shown(r, name),
            };
            let line = format!(
                "{} bits → {} {} symbols at {}: {} on the wire, then a {} gap",
                shown(r, "phy.bits"),
                shown(r, "phy.symbols"),
                shown(r, "phy.line_code"),
                shown(r, "phy.rate"),
                ns("phy.duration"),
                ns("phy.ifg"),
            );
            svg.text(AREA.0, y + 16.0, "", Anchor::Start, c.strong, &fit(&line, AREA.1 - AREA.0, 11.0), Some(&line));
            y += 20.0;
        }
        y += GAP;
    }
    let foot = "Box widths grow with the byte counts but are not to scale. Hover a box for its byte range.";
    let foot_w = text_width(foot, 10.0);
    svg.text(WIDTH - 16.0 - foot_w.min(WIDTH - 32.0), y, "small", Anchor::Start, "#666666", foot, None);
    svg.finish(y + 14.0, &title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::l7_application::chat::{ChatCommand, ChatConfig};
    use crate::stack::{App, StackConfig};

    fn chat(msg: &str) -> Exchange {
        let cfg = StackConfig { app: App::Chat(ChatConfig { command: ChatCommand::Msg }), ..StackConfig::default() };
        Exchange::run(&cfg, msg.as_bytes()).unwrap()
    }

    #[test]
    fn one_band_per_layer_with_the_records_byte_counts() {
        let x = chat("Olá, sala!");
        let b = bands(&x.sent.trace);
        let layers: Vec<u8> = b.iter().map(|b| b.rec.layer.number()).collect();
        assert_eq!(layers, [7, 6, 5, 4, 3, 2, 1]);
        // Each payload is the whole unit of the band above (no transform changes sizes here).
        for w in b.windows(2) {
            assert_eq!(w[1].rec.payload_len, w[0].rec.pdu_len(), "{} under {}", w[1].rec.protocol, w[0].rec.protocol);
        }
        let svg = encapsulation(&x);
        for (label, size) in [("chat header", "4 B"), ("TCP header", "32 B"), ("IPv4 header", "20 B"), ("FCS", "4 B")] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label} in\n{svg}");
            assert!(svg.contains(&format!(">{size}</text>")), "{size} in\n{svg}");
        }
        assert!(svg.contains(">Ethernet frame</text>") && svg.contains(">86 B</text>"), "{svg}");
        assert!(svg.contains("752 bits → 1504 Manchester symbols at 10 Mbit/s"), "{svg}");
        assert_eq!(svg.matches("class=\"layer\"").count(), 7);
    }

    #[test]
    fn the_message_is_escaped_and_output_is_deterministic() {
        let x = chat(r#"<b>&"fish" 'n' chips</b> ☕"#);
        let a = encapsulation(&x);
        assert_eq!(a, encapsulation(&chat(r#"<b>&"fish" 'n' chips</b> ☕"#)));
        assert!(!a.contains("<b>"), "{a}");
        assert!(a.contains("&lt;b&gt;&amp;"), "{a}");
    }

    #[test]
    fn a_split_message_draws_its_first_frame_and_says_so() {
        let cfg = StackConfig { mtu: 576, ..StackConfig::default() };
        let x = Exchange::run(&cfg, &[b'a'; 1200]).unwrap();
        let b = bands(&x.sent.trace);
        assert_eq!(b.iter().filter(|b| b.rec.layer == LayerId::DataLink).count(), 1);
        let svg = encapsulation(&x);
        assert!(svg.contains("became 3 frames"), "{svg}");
        assert!(svg.contains("524 of 1200 B (part 1 of 3)"), "{svg}");
    }
}
