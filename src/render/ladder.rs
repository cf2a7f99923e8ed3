//! The ladder (sequence) diagram of a simulation (`osilab simulate --format svg`): one vertical
//! lifeline per device, time going down, one arrow per frame from the row where its sender put it
//! on a link to the row where the far end took it in, labelled with the row's summary (shortened
//! to fit, in full as a tooltip); socket calls, program output and state changes as notes on the
//! lifeline; a lost frame ends in a ✗ on its link, a frame dropped on arrival in a ✗ at the
//! device that dropped it.
//!
//! Time is drawn as an ordinal axis: one row per event, with the event's number and real time in
//! the left column. Events are microseconds apart inside a burst and seconds apart between bursts,
//! so a linear axis would squash each burst into a line; a dashed rule marks a jump of 100 ms or
//! more. The drawing stops after [`MAX_EVENTS`] events and says how many more there were.
//!
//! The timeline has a row for a frame leaving (`out`, with the link) and one for it arriving
//! (`in`, or `drop` when the receiver refused it, with the link). A link carries each direction
//! first in, first out (IEEE 802.3 §4.2.3.2: one frame at a time), so an arriving row is matched
//! with the oldest frame still on that link from the other end; a frame the link duplicated
//! waits there twice; one it held back (reordered) is matched last, unless its FCS matches.

use super::svg::{colours, fit, fit_first, text_width, Anchor, Svg, WIDTH};
use crate::sim::scenario::Scenario;
use crate::sim::timeline::{seconds, Row, RowKind};
use crate::sim::world::World;
use crate::time::Instant;
use crate::trace::{Trace, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The most events one drawing holds (about 5500 pixels high); the rest is left out with a note.
pub const MAX_EVENTS: usize = 250;

/// Where the lifelines' area begins and ends (the time column is left of it).
const AREA: (f64, f64) = (150.0, WIDTH - 12.0);
/// The vertical distance between two event rows.
const PITCH: f64 = 22.0;
/// The device boxes' top and height.
const HEAD: f64 = 86.0;
const HEAD_H: f64 = 36.0;
/// A time jump this long or longer between two rows gets a dashed rule.
const JUMP_NS: u64 = 100_000_000;
/// The colour of losses and drops.
const RED: &str = "#c62828";

/// A device drawn as a lifeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifeline {
    /// Its name in the scenario (and in the timeline's `device` column).
    pub name: String,
    /// "host", "router" or "switch".
    pub kind: &'static str,
    /// Its addresses, comma-separated (empty for a switch).
    pub address: String,
}

/// A link between two devices, by the name the timeline gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// The link's name (`client-sw1`).
    pub name: String,
    /// The device at one end.
    pub a: String,
    /// The device at the other end.
    pub b: String,
}

/// The devices and links of a scenario, as the ladder needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// The devices, in the scenario's order.
    pub devices: Vec<Lifeline>,
    /// The links.
    pub links: Vec<Wire>,
}

impl Topology {
    /// The topology of a built scenario: its devices (kinds and addresses from the scenario) and
    /// its links (names and ends from the world, which named them).
    pub fn of(sc: &Scenario, world: &World) -> Topology {
        let devices = sc
            .devices
            .iter()
            .map(|d| Lifeline {
                name: d.name.clone(),
                kind: d.kind_name(),
                address: d
                    .node()
                    .map(|n| {
                        n.interfaces
                            .iter()
                            .filter_map(|i| i.ipv4.as_ref().or(i.ipv6.as_ref()))
                            .map(|c| c.addr.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let names = world.names();
        let name = |n: usize| names.get(n).cloned().unwrap_or_default();
        let links = world
            .links()
            .iter()
            .map(|l| Wire { name: l.name.clone(), a: name(l.ends[0].0), b: name(l.ends[1].0) })
            .collect();
        Topology { devices, links }
    }

    /// The lifelines from left to right, as indices into `devices`: the hosts in scenario order,
    /// then each router and switch just right of the first device it is linked to (so that
    /// `h1 r1 h2` and `server sw1 alice bob carol` read along their links); a device linked to
    /// nothing drawn goes last.
    pub fn order(&self) -> Vec<usize> {
        let mut placed: Vec<usize> = (0..self.devices.len()).filter(|&i| self.devices[i].kind == "host").collect();
        let mut rest: Vec<usize> = (0..self.devices.len()).filter(|i| !placed.contains(i)).collect();
        loop {
            let before = rest.len();
            rest.retain(|&d| {
                let at = placed.iter().position(|&p| self.linked(d, p));
                if let Some(at) = at {
                    placed.insert(at + 1, d);
                }
                at.is_none()
            });
            if rest.is_empty() || rest.len() == before {
                break;
            }
        }
        placed.extend(rest);
        placed
    }

    fn linked(&self, a: usize, b: usize) -> bool {
        let (a, b) = (&self.devices[a].name, &self.devices[b].name);
        self.links.iter().any(|l| (&l.a == a && &l.b == b) || (&l.a == b && &l.b == a))
    }

    /// The device at the other end of `link` from `device`.
    fn other_end(&self, link: &str, device: &str) -> Option<&str> {
        let l = self.links.iter().find(|l| l.name == link)?;
        if l.a == device {
            Some(&l.b)
        } else {
            Some(&l.a)
        }
    }

    fn is_link(&self, name: &str) -> bool {
        self.links.iter().any(|l| l.name == name)
    }

    fn kind(&self, device: &str) -> &'static str {
        self.devices.iter().find(|d| d.name == device).map_or("", |d| d.kind)
    }
}

/// How a frame's arrow ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Taken in at row N.
    Arrive(usize),
    /// Dropped on arrival at row N (a switch filtering, a bad FCS, a router's TTL check).
    Refused(usize),
    /// Lost on the link (row N is the link's drop note).
    Lost(usize),
}

/// A frame on a link, not yet arrived.
#[derive(Debug, Clone)]
struct Pending {
    out: usize,
    from: String,
    held: bool,
    fcs: Option<u64>,
}

/// Which rows are the two ends of one frame.
#[derive(Debug, Default)]
struct Matching {
    /// By `out` row: how its frame ended.
    end: BTreeMap<usize, End>,
    /// By arriving (`in` or refused `drop`) row: the `out` row of its frame.
    from: BTreeMap<usize, usize>,
}

/// The Ethernet FCS of a frame's records, if they hold one.
fn fcs(t: Option<&Trace>) -> Option<u64> {
    t?.records.iter().filter(|r| r.protocol == "eth").find_map(|r| match r.field("eth.fcs").map(|f| &f.value) {
        Some(Value::Hex { value, .. }) => Some(*value),
        _ => None,
    })
}

/// Match every arriving row with the row its frame left by (see the module docs).
fn matching(rows: &[Row], topo: &Topology) -> Matching {
    let mut m = Matching::default();
    let mut pending: BTreeMap<&str, Vec<Pending>> = BTreeMap::new();
    let mut last_out: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let link = r.link.as_deref().filter(|l| topo.is_link(l));
        match (r.kind, link) {
            (RowKind::Out, Some(l)) => {
                pending.entry(l).or_default().push(Pending {
                    out: i,
                    from: r.device.clone(),
                    held: false,
                    fcs: fcs(r.trace.as_ref()),
                });
                last_out.insert(l, i);
            }
            (RowKind::In | RowKind::Drop, Some(l)) => {
                let Some(q) = pending.get_mut(l) else { continue };
                let here = fcs(r.trace.as_ref());
                let from_far = |p: &&Pending| p.from != r.device;
                let pick = q
                    .iter()
                    .position(|p| from_far(&p) && here.is_some() && p.fcs == here)
                    .or_else(|| q.iter().position(|p| from_far(&p) && !p.held))
                    .or_else(|| q.iter().position(|p| from_far(&p)));
                if let Some(k) = pick {
                    let p = q.remove(k);
                    let end = if r.kind == RowKind::In { End::Arrive(i) } else { End::Refused(i) };
                    m.end.insert(p.out, end);
                    m.from.insert(i, p.out);
                }
            }
            // What the link itself did to the frame it was last handed.
            (RowKind::Drop | RowKind::Info, None) if topo.is_link(&r.device) => {
                let l = r.device.as_str();
                let Some(&out) = last_out.get(l) else { continue };
                let Some(q) = pending.get_mut(l) else { continue };
                let Some(k) = q.iter().position(|p| p.out == out) else { continue };
                if r.kind == RowKind::Drop {
                    q.remove(k);
                    m.end.insert(out, End::Lost(i));
                } else if r.summary.contains("duplicated") {
                    let copy = q[k].clone();
                    q.insert(k + 1, copy);
                } else if r.summary.contains("held back") {
                    q[k].held = true;
                }
            }
            _ => {}
        }
    }
    m
}

/// An unsigned field of a record.
fn uint(r: &crate::trace::Record, name: &str) -> Option<u64> {
    match r.field(name).map(|f| &f.value) {
        Some(Value::Uint(v)) => Some(*v),
        Some(Value::Bool(b)) => Some(u64::from(*b)),
        _ => None,
    }
}

/// The `out` rows that resend TCP sequence space their sender had already sent on that
/// connection: Wireshark's "TCP Retransmission" (a segment with data, SYN or FIN whose sequence
/// number is below the next one expected; RFC 9293 §3.4 sequence space).
fn retransmissions(rows: &[Row]) -> BTreeSet<usize> {
    let mut next: BTreeMap<(String, String, String, u64, u64), u32> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.kind == RowKind::Out) {
        let Some(t) = &r.trace else { continue };
        let Some(tcp) = t.records.iter().find(|x| x.protocol == "tcp") else { continue };
        let ip = t.records.iter().find(|x| x.protocol == "ip" || x.protocol == "ipv6");
        let addr =
            |n: &str| ip.and_then(|ip| ip.fields.iter().find(|f| f.name.ends_with(n))).map(|f| f.value.to_string());
        let (Some(sp), Some(dp)) = (uint(tcp, "tcp.srcport"), uint(tcp, "tcp.dstport")) else { continue };
        let Some(seq) = uint(tcp, "tcp.seq_raw").or_else(|| uint(tcp, "tcp.seq")) else { continue };
        let seq = seq as u32;
        let len = uint(tcp, "tcp.len").unwrap_or(0)
            + uint(tcp, "tcp.flags.syn").unwrap_or(0)
            + uint(tcp, "tcp.flags.fin").unwrap_or(0);
        if len == 0 {
            continue;
        }
        let key = (r.device.clone(), addr(".src").unwrap_or_default(), addr(".dst").unwrap_or_default(), sp, dp);
        let end = seq.wrapping_add(len as u32);
        match next.get(&key) {
            // Sequence numbers compare modulo 2^32 (RFC 9293 §3.4).
            Some(&n) if (seq.wrapping_sub(n) as i32) < 0 => {
                out.insert(i);
                if (end.wrapping_sub(n) as i32) > 0 {
                    next.insert(key, end);
                }
            }
            _ => {
                next.insert(key, end);
            }
        }
    }
    out
}

/// A frame summary's label choices, longest first: TCP's without the window, timestamps and
/// handshake options, then without the ports too.
fn label_choices(s: &str) -> Vec<String> {
    if s.contains(" id=0x") {
        // An ICMP echo: its sequence number and TTL say more than its identifier.
        let kept: Vec<&str> = s.split_whitespace().filter(|w| !w.starts_with("id=")).collect();
        return vec![s.to_string(), kept.join(" ")];
    }
    if !(s.contains('[') && s.contains("Seq=")) {
        return vec![s.to_string()];
    }
    let skip = ["Win=", "TSval=", "TSecr=", "MSS=", "WS=", "SACK_PERM", "SLE=", "SRE="];
    let kept: Vec<&str> = s.split(' ').filter(|w| !skip.iter().any(|k| w.starts_with(k))).collect();
    let full = kept.join(" ");
    let bare = full.find('[').map(|i| full[i..].to_string()).unwrap_or_else(|| full.clone());
    vec![full, bare]
}

/// What a row is drawn as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The start of a frame's arrow.
    Send,
    /// The end of one (and, for a refused frame, a note saying why).
    Receive,
    /// A note on the device's lifeline.
    Note,
    /// The ✗ of a frame lost on its link.
    Loss,
}

/// What to draw of one scenario run.
#[derive(Debug)]
pub struct Ladder<'a> {
    /// The heading: the scenario's name.
    pub title: String,
    /// The line under it: what the scenario shows.
    pub description: String,
    /// The seed of the run, said under the heading.
    pub seed: u64,
    /// The devices and links.
    pub topology: &'a Topology,
    /// Every row of the run (arrows are matched over all of them).
    pub rows: &'a [Row],
    /// The first time drawn (`--from`).
    pub from: Instant,
    /// The most events drawn.
    pub max_events: usize,
    /// The command that made the run, for the footer (e.g. `osilab simulate http-get.toml`).
    pub command: String,
}

/// One row's place in the drawing.
#[derive(Debug, Clone)]
struct Slot {
    y: f64,
    at: Instant,
    ids: Vec<usize>,
}

/// A text drawn after every line and box, so that it stays readable on top (with a white halo).
#[derive(Debug, Clone)]
struct Label {
    x: f64,
    y: f64,
    /// Degrees, clockwise.
    rotate: f64,
    anchor: Anchor,
    text: String,
    tip: String,
    fill: String,
}

/// A rectangle, as (left, top, right, bottom).
type Rect = (f64, f64, f64, f64);

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// A label to be put along the line from `a` to `b`.
#[derive(Debug, Clone)]
struct Along {
    a: (f64, f64),
    b: (f64, f64),
    /// Its texts, longest first: the first that fits the line's length is drawn.
    choices: Vec<String>,
    tip: String,
    fill: String,
}

impl Along {
    /// The label just above the line and turned to follow it (never upside down, whichever way
    /// the line goes), as Stevens draws segments in his time lines; centred on the line if that
    /// spot is free, else slid along it to the nearest place that does not cover a note or
    /// another label (`taken`); and the rectangle it covers.
    fn place(&self, taken: &[Rect]) -> (Label, Vec<Rect>) {
        let (p, q) = if self.b.0 >= self.a.0 { (self.a, self.b) } else { (self.b, self.a) };
        let (dx, dy) = (q.0 - p.0, q.1 - p.1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let angle = dy.atan2(dx);
        let (cos, sin) = (angle.cos(), angle.sin());
        // The text's place as small upright boxes along it (one box around a turned text
        // would cover much more than the text).
        let at = |d: f64, w: f64| {
            let (x, y) = (p.0 + d * cos, p.1 + d * sin);
            let pieces = (w / 20.0).ceil().max(1.0);
            let piece = w / pieces;
            let (hx, hy) = (cos.abs() * piece / 2.0 + sin.abs() * 5.0, sin.abs() * piece / 2.0 + cos.abs() * 5.0);
            let boxes: Vec<Rect> = (0..pieces as usize)
                .map(|k| {
                    let along = d - w / 2.0 + piece * (k as f64 + 0.5);
                    // The baseline is 4 px above the line; the text's middle about 8 px.
                    let (cx, cy) = (p.0 + along * cos + 8.0 * sin, p.1 + along * sin - 8.0 * cos);
                    (cx - hx, cy - hy, cx + hx, cy + hy)
                })
                .collect();
            ((x + 4.0 * sin, y - 4.0 * cos), boxes)
        };
        let mid = len / 2.0;
        // Each text that fits, longest first, at each spot from the middle outwards; then the
        // shortest shortened to the line, and to half of it.
        let mut texts: Vec<String> =
            self.choices.iter().filter(|c| text_width(c, 10.0) <= len - 22.0).cloned().collect();
        let last = self.choices.last().map_or("", String::as_str);
        for room in [len - 22.0, len / 2.0 - 22.0] {
            let t = fit(last, room, 10.0);
            if !texts.contains(&t) {
                texts.push(t);
            }
        }
        let mut found = None;
        for t in &texts {
            let w = text_width(t, 10.0);
            let (lo, hi) = (w / 2.0 + 10.0, len - w / 2.0 - 10.0);
            let mut spots = vec![mid];
            let mut k = 1.0;
            while mid - 12.0 * k >= lo || mid + 12.0 * k <= hi {
                for d in [mid - 12.0 * k, mid + 12.0 * k] {
                    if (lo..=hi).contains(&d) {
                        spots.push(d);
                    }
                }
                k += 1.0;
            }
            if let Some(spot) =
                spots.iter().map(|&d| at(d, w)).find(|(_, bs)| !bs.iter().any(|b| taken.iter().any(|x| overlaps(x, b))))
            {
                found = Some((t.clone(), spot));
                break;
            }
        }
        let (text, ((x, y), rects)) = found.unwrap_or_else(|| {
            let refs: Vec<&str> = self.choices.iter().map(String::as_str).collect();
            let t = fit_first(&refs, len - 22.0, 10.0);
            let w = text_width(&t, 10.0);
            (t, at(mid, w))
        });
        let label = Label {
            x,
            y,
            rotate: angle.to_degrees(),
            anchor: Anchor::Middle,
            text,
            tip: self.tip.clone(),
            fill: self.fill.clone(),
        };
        (label, rects)
    }
}

/// A note's box, drawn over the arrows and under every label.
#[derive(Debug, Clone)]
struct NoteBox {
    rect: Rect,
    fill: &'static str,
    stroke: &'static str,
    label: Label,
}

/// Which side of `x` a point is on: -1, 0 or 1.
fn side(x: f64, other: f64) -> i8 {
    if other > x + 0.5 {
        1
    } else if other < x - 0.5 {
        -1
    } else {
        0
    }
}

/// The ladder of `l` as an SVG document.
pub fn ladder(l: &Ladder) -> String {
    let topo = l.topology;
    let rows = l.rows;
    let order = topo.order();
    let n = order.len().max(1);
    let spacing = (AREA.1 - AREA.0) / n as f64;
    let col: BTreeMap<&str, f64> = order
        .iter()
        .enumerate()
        .map(|(c, &d)| (topo.devices[d].name.as_str(), AREA.0 + spacing * (c as f64 + 0.5)))
        .collect();
    let x_of = |d: &str| col.get(d).copied();
    let m = matching(rows, topo);
    let resent = retransmissions(rows);
    // Where each frame's arrow goes, as (sender, receiver) x.
    let receiver_x = |i: usize| -> Option<f64> {
        let r = &rows[i];
        match m.end.get(&i) {
            Some(End::Arrive(j) | End::Refused(j)) => x_of(&rows[*j].device),
            _ => topo.other_end(r.link.as_deref()?, &r.device).and_then(x_of),
        }
    };
    let sender_x = |j: usize| -> Option<f64> {
        let r = &rows[j];
        match m.from.get(&j) {
            Some(&o) => x_of(&rows[o].device),
            None => topo.other_end(r.link.as_deref()?, &r.device).and_then(x_of),
        }
    };
    let shape = |r: &Row| -> Option<Shape> {
        if topo.is_link(&r.device) {
            return (r.kind == RowKind::Drop).then_some(Shape::Loss);
        }
        x_of(&r.device)?;
        let on_link = r.link.as_deref().is_some_and(|k| topo.is_link(k));
        Some(match r.kind {
            RowKind::Out if on_link => Shape::Send,
            RowKind::In | RowKind::Drop if on_link => Shape::Receive,
            _ => Shape::Note,
        })
    };

    // Rows to slots.
    let first = rows.partition_point(|r| r.at < l.from);
    let mut slots: Vec<Slot> = Vec::new();
    let mut slot_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut left_out = 0usize;
    let mut left_out_until = None;
    let mut shapes: Vec<(usize, Shape)> = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(first) {
        let Some(s) = shape(r) else { continue };
        if left_out > 0 || slots.len() >= l.max_events.max(1) {
            left_out += 1;
            left_out_until = Some(r.at);
            continue;
        }
        // A frame a switch or router forwards the moment it came in shares that row, when it
        // leaves on the other side (its label then has the room).
        let share = s == Shape::Send
            && slots.last().and_then(|sl| sl.ids.last()).is_some_and(|&j| {
                let p = &rows[j];
                p.kind == RowKind::In && p.device == r.device && p.at == r.at && {
                    let x = x_of(&r.device).unwrap_or(0.0);
                    let a = sender_x(j).map(|o| side(x, o));
                    let b = receiver_x(i).map(|o| side(x, o));
                    matches!((a, b), (Some(a), Some(b)) if a != 0 && b != 0 && a != b)
                }
            });
        if !share {
            let y = HEAD + HEAD_H + 26.0 + PITCH * slots.len() as f64;
            slots.push(Slot { y, at: r.at, ids: Vec::new() });
        }
        let k = slots.len() - 1;
        slots[k].ids.push(i);
        slot_of.insert(i, k);
        shapes.push((i, s));
    }
    let y_of = |i: usize| slot_of.get(&i).map(|&k| slots[k].y);

    let mut svg = Svg::new();
    svg.text(16.0, 28.0, "title", Anchor::Start, "", &fit(&l.title, WIDTH - 32.0, 16.0 * 0.95), Some(&l.title));
    svg.text(
        16.0,
        48.0,
        "sub",
        Anchor::Start,
        "",
        &fit(&l.description, WIDTH - 32.0, 12.0 * 0.95),
        Some(&l.description),
    );
    let span = match (slots.first(), slots.last()) {
        (Some(a), Some(b)) => format!(
            "events #{} to #{}, {} s to {} s",
            a.ids.first().map_or(0, |&i| rows[i].id),
            b.ids.last().map_or(0, |&i| rows[i].id),
            seconds(a.at),
            seconds(b.at)
        ),
        _ => format!("no events from {} s", seconds(l.from)),
    };
    let sub = format!("Seed {} · {span} · time runs down, one row per event (not to scale)", l.seed);
    svg.text(16.0, 66.0, "sub", Anchor::Start, "#666666", &sub, None);

    // Device boxes and lifelines.
    let bottom = slots.last().map_or(HEAD + HEAD_H + 20.0, |s| s.y + PITCH * 0.75);
    let box_w = (spacing - 10.0).min(220.0);
    for &d in &order {
        let dev = &topo.devices[d];
        let Some(x) = x_of(&dev.name) else { continue };
        svg.line((x, HEAD + HEAD_H), (x, bottom), "#9a9a9a", r#"stroke-width="1.2""#);
        let tip = format!("{} {} {}", dev.kind, dev.name, dev.address);
        svg.rect(x - box_w / 2.0, HEAD, box_w, HEAD_H, "#f4f4f4", "#666666", r#"rx="4""#, Some(tip.trim()));
        svg.text(x, HEAD + 15.0, "bold", Anchor::Middle, "", &fit(&dev.name, box_w - 8.0, 11.0), None);
        let what = if dev.address.is_empty() { dev.kind.to_string() } else { format!("{} {}", dev.kind, dev.address) };
        svg.text(x, HEAD + 29.0, "small", Anchor::Middle, "#555555", &fit(&what, box_w - 8.0, 10.0), None);
    }

    // The time column, and rules where time jumps.
    let mut last_time: Option<Instant> = None;
    for s in &slots {
        let ids: Vec<String> = s.ids.iter().map(|&i| rows[i].id.to_string()).collect();
        svg.text(62.0, s.y + 3.5, "small", Anchor::End, "#888888", &format!("#{}", ids.join(",")), None);
        if let Some(t) = last_time {
            let gap = s.at.as_nanos().saturating_sub(t.as_nanos());
            if gap >= JUMP_NS {
                let ry = s.y - PITCH / 2.0;
                svg.line((8.0, ry), (WIDTH - 8.0, ry), "#bbbbbb", r#"stroke-dasharray="6 4""#);
                let later = format!("{} later", duration_text(u128::from(gap)));
                svg.text(WIDTH - 10.0, ry - 3.0, "small halo", Anchor::End, "#777777", &later, None);
            }
        }
        if last_time != Some(s.at) {
            svg.text(68.0, s.y + 3.5, "small", Anchor::Start, "", &seconds(s.at), None);
        }
        last_time = Some(s.at);
    }

    let mut labels: Vec<Label> = Vec::new();
    // What labels must not cover: notes, and the labels already placed.
    let mut taken: Vec<Rect> = Vec::new();
    let mut alongs: Vec<Along> = Vec::new();
    let mut notes: Vec<NoteBox> = Vec::new();
    let mut layers_used: BTreeSet<u8> = BTreeSet::new();
    let note_at = |r: &Row, x: f64, y: f64| note(r, x, y, spacing, (AREA.0, AREA.1));
    // Arrows.
    for &(i, s) in &shapes {
        let r = &rows[i];
        let (Some(y1), Some(x_self)) = (y_of(i), x_of(&r.device)) else { continue };
        match s {
            Shape::Send => {
                let Some(x2) = receiver_x(i) else { continue };
                let end = m.end.get(&i).copied();
                let end_row = match end {
                    Some(End::Arrive(j) | End::Refused(j)) => Some(j),
                    _ => None,
                };
                let layer = r.layer.max(end_row.and_then(|j| rows[j].layer)).unwrap_or(2);
                layers_used.insert(layer);
                let c = colours(layer).strong;
                // A switch's own summary is about ports; the far end says what the frame is.
                let text = match end_row {
                    Some(j) if topo.kind(&r.device) == "switch" && topo.kind(&rows[j].device) != "switch" => {
                        rows[j].summary.clone()
                    }
                    _ => r.summary.clone(),
                };
                let prefix = if resent.contains(&i) { "[TCP Retransmission] " } else { "" };
                let mut tip = format!(
                    "#{} {} s {} → {} ({}): {prefix}{}",
                    r.id,
                    seconds(r.at),
                    r.device,
                    topo.other_end(r.link.as_deref().unwrap_or(""), &r.device).unwrap_or("?"),
                    r.link.as_deref().unwrap_or("-"),
                    text
                );
                let dir = if x2 >= x_self { 1.0 } else { -1.0 };
                let colour = if prefix.is_empty() { c } else { RED };
                let choices: Vec<String> = label_choices(&text).iter().map(|c| format!("{prefix}{c}")).collect();
                svg.group(&tip);
                let drawn_to = match end {
                    Some(End::Arrive(j) | End::Refused(j)) if y_of(j).is_some() => {
                        let y2 = y_of(j).unwrap_or(y1);
                        if matches!(end, Some(End::Refused(_))) {
                            let xe = x2 - dir * 7.0;
                            svg.line((x_self, y1), (xe, y2), c, r#"stroke-width="1.5""#);
                            cross(&mut svg, xe, y2);
                            (xe, y2)
                        } else {
                            arrow(&mut svg, (x_self, y1), (x2, y2), c, false);
                            (x2, y2)
                        }
                    }
                    Some(End::Lost(j)) => {
                        // The link is the gap between the two lifelines: the ✗ is on it.
                        let xm = x_self + (x2 - x_self) * 0.7;
                        let ym = y_of(j).unwrap_or(y1 + PITCH * 0.8);
                        svg.line((x_self, y1), (xm, ym), c, r#"stroke-width="1.5""#);
                        cross(&mut svg, xm, ym);
                        let why = rows[j].summary.rsplit(": ").next().unwrap_or("lost").to_string();
                        let w = text_width(&why, 10.0);
                        let x0 = if dir > 0.0 { xm + 9.0 } else { xm - 9.0 - w };
                        let label = Label {
                            x: xm + dir * 9.0,
                            y: ym + 4.0,
                            rotate: 0.0,
                            anchor: if dir > 0.0 { Anchor::Start } else { Anchor::End },
                            text: why,
                            tip: rows[j].summary.clone(),
                            fill: RED.into(),
                        };
                        labels.push(label);
                        taken.push((x0, ym - 5.0, x0 + w, ym + 6.0));
                        (xm, ym)
                    }
                    _ => {
                        // It arrives after the last row drawn, or never before the run ended.
                        let to = (x_self + (x2 - x_self) * 0.6, y1 + PITCH * 0.8);
                        svg.line((x_self, y1), to, c, r#"stroke-width="1.5" stroke-dasharray="4 3""#);
                        tip.push_str(" (not arrived by the last row drawn)");
                        to
                    }
                };
                svg.end_group();
                alongs.push(Along { a: (x_self, y1), b: drawn_to, choices, tip, fill: colour.into() });
            }
            Shape::Receive => {
                if m.from.get(&i).is_some_and(|o| slot_of.contains_key(o)) {
                    // Drawn with its frame; a refused one also gets its reason below.
                    if r.kind == RowKind::Drop {
                        notes.push(note_at(r, x_self, y1));
                    }
                    continue;
                }
                // Its frame left before the first row drawn.
                let Some(x0) = sender_x(i) else { continue };
                let layer = r.layer.unwrap_or(2);
                layers_used.insert(layer);
                let c = colours(layer).strong;
                let tip = format!(
                    "#{} {} s {} ← {}: {}",
                    r.id,
                    seconds(r.at),
                    r.device,
                    r.link.as_deref().unwrap_or("-"),
                    r.summary
                );
                svg.group(&tip);
                let y0 = y1 - PITCH * 0.8;
                if r.kind == RowKind::Drop {
                    svg.line((x0, y0), (x_self, y1), c, r#"stroke-width="1.5" stroke-dasharray="4 3""#);
                    cross(&mut svg, x_self, y1);
                } else {
                    arrow(&mut svg, (x0, y0), (x_self, y1), c, true);
                }
                svg.end_group();
                alongs.push(Along {
                    a: (x0, y0),
                    b: (x_self, y1),
                    choices: label_choices(&r.summary),
                    tip,
                    fill: c.into(),
                });
                if r.kind == RowKind::Drop {
                    notes.push(note_at(r, x_self, y1));
                }
            }
            Shape::Note => notes.push(note_at(r, x_self, y1)),
            Shape::Loss => {}
        }
    }
    // Notes over the arrows; then the arrows' labels, each where it covers no note and no
    // label placed before it.
    for n in notes {
        if n.fill != "none" {
            let (l, t, r, b) = n.rect;
            svg.rect(l, t, r - l, b - t, n.fill, n.stroke, r#"rx="3""#, None);
        }
        taken.push(n.rect);
        labels.push(n.label);
    }
    for a in &alongs {
        let (label, rects) = a.place(&taken);
        taken.extend(rects);
        labels.push(label);
    }
    for l in &labels {
        if !l.text.is_empty() {
            svg.text_rotated(l.x, l.y, l.rotate, "small halo", l.anchor, &l.fill, &l.text, Some(&l.tip));
        }
    }

    // What was left out, the legend and how to read it.
    let mut y = bottom + 22.0;
    if left_out > 0 {
        let t = format!(
            "… {left_out} more events up to {} s are not drawn: choose a window with --from and --until.",
            left_out_until.map(seconds).unwrap_or_default()
        );
        svg.text(16.0, y, "bold", Anchor::Start, RED, &t, None);
        y += 20.0;
    }
    let mut x = 16.0;
    for &layer in layers_used.iter().rev() {
        let c = colours(layer).strong;
        let name = crate::layer::LayerId::from_number(layer).map_or(format!("L{layer}"), |id| id.to_string());
        svg.line((x, y - 4.0), (x + 24.0, y - 4.0), c, r#"stroke-width="2""#);
        svg.text(x + 30.0, y, "small", Anchor::Start, "", &name, None);
        x += 30.0 + text_width(&name, 10.0) + 18.0;
    }
    let items = [
        ("call", "socket call (L5)"),
        ("app", "program output"),
        ("info", "state change"),
        ("drop", "lost or dropped"),
    ];
    for (kind, what) in items {
        let w = text_width(what, 10.0);
        match kind {
            "drop" => {
                cross(&mut svg, x + 5.0, y - 4.0);
                svg.text(x + 14.0, y, "small", Anchor::Start, RED, what, None);
                x += 14.0 + w + 18.0;
            }
            _ => {
                let (fill, stroke, ink) = note_style(kind);
                svg.rect(x, y - 12.0, w + 8.0, 16.0, fill, stroke, r#"rx="3""#, None);
                svg.text(x + 4.0, y, "small", Anchor::Start, ink, what, None);
                x += w + 8.0 + 18.0;
            }
        }
    }
    y += 22.0;
    let foot =
        "Left: each event's number and time in seconds. Hover an arrow or a note for its whole text. Event N's layers:";
    svg.text(16.0, y, "small", Anchor::Start, "#555555", foot, None);
    let cmd = format!("{} --inspect N", l.command);
    svg.text(16.0, y + 15.0, "small", Anchor::Start, "#333333", &fit(&cmd, WIDTH - 32.0, 10.0), Some(&cmd));
    svg.finish(y + 24.0, &l.title)
}

/// Colours of a note: fill, border and text.
fn note_style(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "call" => (colours(5).light, colours(5).strong, "#4d3d00"),
        "app" => (colours(7).light, colours(7).strong, "#4a2457"),
        "drop" => ("#ffffff", RED, RED),
        _ => ("none", "none", "#666666"),
    }
}

/// A note beside a lifeline at `x`: to its right (to its left for a lifeline at the right
/// edge), up to two lifelines wide, within `area`.
fn note(r: &Row, x: f64, y: f64, spacing: f64, area: (f64, f64)) -> NoteBox {
    let kind = match r.kind {
        RowKind::Call => "call",
        RowKind::App => "app",
        RowKind::Drop => "drop",
        _ => "info",
    };
    let leftward = x + spacing > area.1;
    let edge = if leftward { x - area.0 } else { area.1 - x };
    let room = (2.0 * spacing).min(edge) - 14.0;
    let who = r.pid.map(|p| format!("[pid {p}] ")).unwrap_or_default();
    let mut text = r.summary.trim_start_matches(&who).to_string();
    if r.kind == RowKind::Drop {
        text = format!("✗ {text}");
    }
    let tip = format!("#{} {} s {}: {who}{}", r.id, seconds(r.at), r.device, r.summary);
    // A long state change keeps its first word and its outcome: "TCP … ESTABLISHED".
    let short = match text.rsplit_once(": ") {
        Some((head, last)) if r.kind == RowKind::Info => {
            format!("{} … {last}", head.split(' ').next().unwrap_or(""))
        }
        _ => text.clone(),
    };
    let shown = fit_first(&[&text, &short], room - 8.0, 10.0);
    let w = text_width(&shown, 10.0) + 8.0;
    let (fill, stroke, ink) = note_style(kind);
    let bx = if leftward { x - 6.0 - w } else { x + 6.0 };
    NoteBox {
        rect: (bx, y - 8.0, bx + w, y + 8.0),
        fill,
        stroke,
        label: Label {
            x: bx + 4.0,
            y: y + 3.5,
            rotate: 0.0,
            anchor: Anchor::Start,
            text: shown,
            tip,
            fill: ink.into(),
        },
    }
}

/// "0.46 s", "1.00 s": a jump between two rows, roughly.
fn duration_text(ns: u128) -> String {
    format!("{:.2} s", ns as f64 / 1e9)
}

/// A line with an arrowhead at its end.
fn arrow(svg: &mut Svg, (x1, y1): (f64, f64), (x2, y2): (f64, f64), colour: &str, dashed: bool) {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (x2 - 8.0 * ux, y2 - 8.0 * uy);
    let extra = if dashed { r#"stroke-width="1.5" stroke-dasharray="4 3""# } else { r#"stroke-width="1.5""# };
    svg.line((x1, y1), (bx, by), colour, extra);
    svg.polygon(&[(x2, y2), (bx - 3.5 * uy, by + 3.5 * ux), (bx + 3.5 * uy, by - 3.5 * ux)], colour);
}

/// A red ✗ centred on (x, y).
fn cross(svg: &mut Svg, x: f64, y: f64) {
    let s = 4.5;
    svg.line((x - s, y - s), (x + s, y + s), RED, r#"stroke-width="2.2""#);
    svg.line((x - s, y + s), (x + s, y - s), RED, r#"stroke-width="2.2""#);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{build::build, scenario};

    fn run(toml: &str, until_ms: u64) -> (Topology, Vec<Row>) {
        let sc = scenario::parse(toml, "test.toml").unwrap();
        let (mut world, _) = build(&sc, sc.seed).unwrap();
        world.run(Instant::ZERO + std::time::Duration::from_millis(until_ms));
        (Topology::of(&sc, &world), world.timeline.rows.clone())
    }

    fn draw(topo: &Topology, rows: &[Row], from: Instant) -> String {
        ladder(&Ladder {
            title: "t".into(),
            description: "d".into(),
            seed: 1,
            topology: topo,
            rows,
            from,
            max_events: MAX_EVENTS,
            command: "osilab simulate t.toml".into(),
        })
    }

    const HTTP_GET: &str = include_str!("../../fixtures/scenarios/http-get.toml");
    const LOSSY: &str = include_str!("../../fixtures/scenarios/tcp-vs-udp-lossy.toml");

    #[test]
    fn switches_and_routers_stand_between_their_neighbours() {
        let dev = |name: &str, kind| Lifeline { name: name.into(), kind, address: String::new() };
        let wire = |a: &str, b: &str| Wire { name: format!("{a}-{b}"), a: a.into(), b: b.into() };
        let t = Topology {
            devices: vec![dev("sw1", "switch"), dev("server", "host"), dev("alice", "host"), dev("r1", "router")],
            links: vec![wire("server", "sw1"), wire("alice", "sw1"), wire("sw1", "r1")],
        };
        let names: Vec<&str> = t.order().iter().map(|&i| t.devices[i].name.as_str()).collect();
        assert_eq!(names, ["server", "sw1", "r1", "alice"]);
    }

    #[test]
    fn one_arrow_per_frame_that_arrived() {
        let (topo, rows) = run(HTTP_GET, 3_000);
        let m = matching(&rows, &topo);
        let arrived = rows.iter().filter(|r| r.kind == RowKind::In).count();
        assert!(arrived > 20);
        // Every frame that arrived came from exactly one out row, on its link, from its far end.
        assert_eq!(m.from.len(), arrived);
        for (&j, &o) in &m.from {
            assert_eq!(rows[o].kind, RowKind::Out);
            assert_eq!(rows[o].link, rows[j].link);
            assert_ne!(rows[o].device, rows[j].device);
            assert!(rows[o].at <= rows[j].at);
        }
        let svg = draw(&topo, &rows, Instant::ZERO);
        // One arrowhead per arrival: nothing was lost or refused here.
        assert_eq!(svg.matches("<polygon").count(), arrived, "{svg}");
        assert_eq!(svg, draw(&topo, &rows, Instant::ZERO), "deterministic");
    }

    #[test]
    fn a_lost_frame_ends_in_a_cross_and_a_resent_segment_is_marked() {
        let (topo, rows) = run(LOSSY, 30_000);
        let m = matching(&rows, &topo);
        let lost = rows.iter().filter(|r| r.kind == RowKind::Drop && topo.is_link(&r.device)).count();
        assert!(lost > 0);
        assert_eq!(m.end.values().filter(|e| matches!(e, End::Lost(_))).count(), lost);
        let resent: Vec<usize> = retransmissions(&rows).iter().map(|&i| rows[i].id).collect();
        // As the run's summary counts them ("TCP retransmissions: 2"), at the segments that
        // resend Seq=34 after their ACK was lost.
        assert_eq!(resent.len(), 2, "{resent:?}");
        for &id in &resent {
            assert!(rows[id - 1].summary.contains("Seq=34 "), "{}", rows[id - 1].summary);
        }
        let svg = draw(&topo, &rows, Instant::ZERO + std::time::Duration::from_millis(260));
        assert!(svg.contains("[TCP Retransmission]"), "{svg}");
        assert!(svg.contains(">lost on the link</text>"), "{svg}");
    }

    #[test]
    fn notes_are_escaped_and_windows_are_bounded() {
        let (topo, mut rows) = run(HTTP_GET, 3_000);
        let mut r = Row::note(Instant::ZERO, "web", RowKind::App, Some(1), "<script>&\"x\"</script>\u{1}".into());
        r.id = rows.len() + 1;
        rows.insert(0, r);
        let svg = draw(&topo, &rows, Instant::ZERO);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;&amp;&quot;x&quot;&lt;/script&gt;\u{fffd}"), "{svg}");
        let few = ladder(&Ladder {
            max_events: 10,
            ..Ladder {
                title: "t".into(),
                description: "d".into(),
                seed: 1,
                topology: &topo,
                rows: &rows,
                from: Instant::ZERO,
                max_events: 0,
                command: String::new(),
            }
        });
        assert!(few.contains("more events up to"), "{few}");
        assert!(few.len() < svg.len() / 2);
    }

    #[test]
    fn tcp_labels_lose_options_before_ports() {
        let c = label_choices("36040 → 80 [SYN] Seq=0 Win=65535 Len=0 MSS=1460 SACK_PERM TSval=500 TSecr=0 WS=128");
        assert_eq!(c, ["36040 → 80 [SYN] Seq=0 Len=0", "[SYN] Seq=0 Len=0"]);
        assert_eq!(label_choices("MSG \"hi\""), ["MSG \"hi\""]);
    }
}
