//! The simulated network: hosts and routers ([`crate::host::Host`]), switches and links, driven
//! by one [`EventQueue`]. Every frame a device sends is line coded by the PHY of its port, goes
//! through the link (queueing, serialization, propagation, impairments) and is decoded by the
//! PHY at the far end before the device's L2 sees it. Everything that happens is a row of the
//! [`Timeline`]; every frame put on a link is kept for that link's pcap. A host's frame rows
//! carry its stack's L1–L4 records and, for its own traffic, the L5–L7 records its
//! [`AppTap`] reads from the frame (the application's messages, as tshark would show them).
//! A run nobody will read (a benchmark, a test that reads only the programs' results) turns
//! all that off with [`World::set_recording`]: the world then keeps no rows, layer views,
//! captures or taps, and its memory stays flat however long the run.

use super::engine::{EventId, EventQueue};
use super::link::{Dir, Link, LinkConfig, Outcome};
use super::switch::{Switch, SwitchConfig};
use super::tap::AppTap;
use super::timeline::{Row, RowKind, Timeline};
use crate::error::{Error, Result};
use crate::host::{Host, Note, NoteKind, Program};
use crate::layer::{Context, Data, Layer, LayerId, Pdu};
use crate::layers::l1_physical::{Physical, PhysicalConfig, Signal};
use crate::rng::Rng;
use crate::time::Instant;
use crate::trace::{Record, Trace};
use std::time::Duration;

/// A device.
pub enum Device {
    /// A host or router.
    Host(Box<Host>),
    /// A switch.
    Switch(Box<Switch>),
}

struct Port {
    phy: Physical,
    /// The link on this port and the direction frames sent from here take.
    link: Option<(usize, Dir)>,
}

struct Node {
    name: String,
    device: Device,
    ports: Vec<Port>,
    /// The pending timer event of a host: when, and its id.
    timer: Option<(Instant, EventId)>,
    /// A host's reader of L5–L7 in its own frames, made at its first frame row.
    tap: Option<Box<AppTap>>,
}

/// One link and what was captured on it.
pub struct LinkState {
    /// Its name, for its pcap file (`server-sw1`).
    pub name: String,
    /// The link.
    pub link: Link,
    /// (node, port) at end A and end B.
    pub ends: [(usize, usize); 2],
    /// Frames as they went on the wire (without FCS, as pcap holds Ethernet), with the time
    /// their first bit left, in order.
    pub capture: Vec<(Instant, Vec<u8>)>,
}

enum Event {
    Arrive { link: usize, dir: Dir, signal: Signal },
    Timer { node: usize },
    Spawn { node: usize, name: String, program: Box<dyn Program> },
}

/// The network and its clock.
pub struct World {
    queue: EventQueue<Event>,
    nodes: Vec<Node>,
    links: Vec<LinkState>,
    rng: Rng,
    seed: u64,
    /// Keep timeline rows and link captures (see [`World::set_recording`]).
    record: bool,
    /// Everything that happened.
    pub timeline: Timeline,
}

impl World {
    /// An empty network whose random choices come from `seed`.
    pub fn new(seed: u64) -> World {
        World {
            queue: EventQueue::new(),
            nodes: Vec::new(),
            links: Vec::new(),
            rng: Rng::new(seed),
            seed,
            record: true,
            timeline: Timeline::default(),
        }
    }

    /// Record the run (the default) or not. When off, the world keeps no timeline rows (nor the
    /// layer view of each frame they hold) and no link captures, and skips the text it would
    /// have put in them; everything else (the devices' state and counters, the programs' results,
    /// [`Summary`](super::summary::Summary)) is the same, and so is the run: recording never
    /// changes what happens, only what is kept.
    pub fn set_recording(&mut self, on: bool) {
        self.record = on;
    }

    /// Whether the run is recorded.
    pub fn is_recording(&self) -> bool {
        self.record
    }

    /// Append a timeline row, when recording.
    fn row(&mut self, r: Row) {
        if self.record {
            self.timeline.push(r);
        }
    }

    /// Add a host (or router); returns its node index. Its ports are its interfaces.
    pub fn add_host(&mut self, host: Host) -> usize {
        let name = host.name().to_string();
        let ports = (0..host.interface_count()).map(|_| self.port()).collect();
        self.nodes.push(Node { name, device: Device::Host(Box::new(host)), ports, timer: None, tap: None });
        self.nodes.len() - 1
    }

    /// Add a switch with `ports` ports.
    pub fn add_switch(&mut self, name: &str, ports: usize, cfg: SwitchConfig) -> Result<usize> {
        let sw = Switch::new(name, ports, cfg)?;
        let ports = (0..ports).map(|_| self.port()).collect();
        self.nodes.push(Node {
            name: name.to_string(),
            device: Device::Switch(Box::new(sw)),
            ports,
            timer: None,
            tap: None,
        });
        Ok(self.nodes.len() - 1)
    }

    fn port(&mut self) -> Port {
        let seed = self.rng.next_u64();
        let cfg = PhysicalConfig {
            code: crate::layers::l1_physical::LineCode::Manchester,
            rate: crate::layers::l1_physical::BitRate(10_000_000),
            bit_error_rate: 0.0,
            seed,
        };
        Port { phy: Physical::new(cfg), link: None }
    }

    /// Connect port `pa` of node `a` to port `pb` of node `b` with a link; the PHYs at both
    /// ends take the link's line code and rate.
    pub fn connect(&mut self, name: &str, a: (usize, usize), b: (usize, usize), cfg: LinkConfig) -> Result<usize> {
        let link = Link::new(cfg.clone())?;
        for (n, p) in [a, b] {
            let node =
                self.nodes.get(n).ok_or_else(|| Error::config(Some(LayerId::Physical), format!("no node {n}")))?;
            let port = node.ports.get(p).ok_or_else(|| {
                Error::config(Some(LayerId::Physical), format!("{} has no port {}", node.name, p + 1))
            })?;
            if port.link.is_some() {
                return Err(Error::config(
                    Some(LayerId::Physical),
                    format!("port {} of {} already has a link", p + 1, node.name),
                ));
            }
        }
        let i = self.links.len();
        for (dir, (n, p)) in [(Dir::AtoB, a), (Dir::BtoA, b)] {
            let seed = self.rng.next_u64();
            let port = &mut self.nodes[n].ports[p];
            port.phy =
                Physical::new(PhysicalConfig { code: cfg.line_code, rate: cfg.bandwidth, bit_error_rate: 0.0, seed });
            port.link = Some((i, dir));
        }
        self.links.push(LinkState { name: name.to_string(), link, ends: [a, b], capture: Vec::new() });
        Ok(i)
    }

    /// Start `program` as process `name` on host `node` at `at`.
    pub fn spawn_at(&mut self, node: usize, name: &str, program: Box<dyn Program>, at: Instant) {
        self.queue.schedule(at, Event::Spawn { node, name: name.to_string(), program });
    }

    /// The node index of the device called `name`.
    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The device at `node`.
    pub fn device(&self, node: usize) -> Option<&Device> {
        self.nodes.get(node).map(|n| &n.device)
    }

    /// The host at `node`, if it is one.
    pub fn host(&self, node: usize) -> Option<&Host> {
        match self.nodes.get(node).map(|n| &n.device) {
            Some(Device::Host(h)) => Some(h),
            _ => None,
        }
    }

    /// Every device's name, in order.
    pub fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    /// The links.
    pub fn links(&self) -> &[LinkState] {
        &self.links
    }

    /// The simulated time now.
    pub fn now(&self) -> Instant {
        self.queue.now()
    }

    /// Events handled so far.
    pub fn events(&self) -> u64 {
        self.queue.popped()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Run every event up to and including `until`.
    pub fn run(&mut self, until: Instant) {
        while let Some((now, ev)) = self.queue.pop_until(until) {
            match ev {
                Event::Arrive { link, dir, signal } => self.arrive(now, link, dir, signal),
                Event::Timer { node } => {
                    if self.nodes[node].timer.map(|t| t.0) == Some(now) {
                        self.nodes[node].timer = None;
                        if let Device::Host(h) = &mut self.nodes[node].device {
                            h.on_timeout(now);
                        }
                        self.after(node, now);
                    }
                }
                Event::Spawn { node, name, program } => {
                    if let Device::Host(h) = &mut self.nodes[node].device {
                        h.spawn(&name, program, now);
                    }
                    self.after(node, now);
                }
            }
        }
    }

    /// A frame's last symbol reached the far end of `link` (travelling `dir`).
    fn arrive(&mut self, now: Instant, link: usize, dir: Dir, signal: Signal) {
        let (n, p) = self.links[link].ends[match dir {
            Dir::AtoB => 1,
            Dir::BtoA => 0,
        }];
        let mut cx = Context::new(now);
        cx.detail = self.record;
        let decoded = self.nodes[n].ports[p]
            .phy
            .decapsulate(Pdu { data: Data::Signal(signal), meta: Default::default() }, &mut cx);
        let name = self.nodes[n].name.clone();
        let link_name = self.links[link].name.clone();
        let frame = match decoded.map(|p| p.map(|p| p.data)) {
            Ok(Some(Data::Bytes(b))) => b,
            other => {
                let why = match other {
                    Err(e) => format!("L1: {e}"),
                    _ => "L1: no frame decoded".into(),
                };
                self.row(Row::frame(now, &name, RowKind::Drop, &link_name, why, cx.trace));
                return;
            }
        };
        match &mut self.nodes[n].device {
            Device::Host(h) => {
                // The frame as a capture holds it (no FCS), for the host's tap.
                let captured = if self.record { frame[..frame.len().saturating_sub(4)].to_vec() } else { Vec::new() };
                let rx = h.receive(p, frame, now);
                let mut trace = cx.trace;
                trace.records.extend(rx.trace.records);
                let (kind, summary) = match rx.dropped {
                    Some(why) => (RowKind::Drop, why),
                    None => {
                        let mut summary = String::new();
                        if self.record {
                            summary = crate::host::info(&trace);
                            let upper = self.upper(n, captured, &trace, false, now);
                            if let Some(s) = super::tap::info(&upper) {
                                summary = s;
                            }
                            trace.records.extend(upper);
                        }
                        (RowKind::In, summary)
                    }
                };
                self.row(Row::frame(now, &name, kind, &link_name, summary, trace));
                self.after(n, now);
            }
            Device::Switch(sw) => {
                // The switch numbers its ports from 1, as on a front panel.
                let out = sw.receive(p + 1, &frame, now, &mut cx);
                let summary = cx.trace.records.last().map(|r| r.summary.clone()).unwrap_or_default();
                let kind = if out.is_empty() { RowKind::Drop } else { RowKind::In };
                self.row(Row::frame(now, &name, kind, &link_name, summary, cx.trace));
                for (egress, bytes) in out {
                    self.send(n, egress.saturating_sub(1), bytes, Trace::default(), now);
                }
            }
        }
    }

    /// After a host did something: put its frames on their links, note what it said, and
    /// re-arm its timer.
    fn after(&mut self, n: usize, now: Instant) {
        let mut frames = Vec::new();
        let mut notes: Vec<Note> = Vec::new();
        let mut next = None;
        if let Device::Host(h) = &mut self.nodes[n].device {
            while let Some(f) = h.poll_transmit() {
                frames.push(f);
            }
            notes = h.take_notes();
            next = h.poll_timeout();
        }
        if !self.record {
            notes.clear();
        }
        let name = self.nodes[n].name.clone();
        for note in notes {
            let kind = match note.kind {
                NoteKind::Call => RowKind::Call,
                NoteKind::App => RowKind::App,
                NoteKind::Drop => RowKind::Drop,
                NoteKind::Info => RowKind::Info,
            };
            self.row(Row::note(note.at, &name, kind, note.pid, note.text));
        }
        for f in frames {
            self.send(n, f.iface, f.bytes, f.trace, now);
        }
        let node = &mut self.nodes[n];
        if node.timer.map(|t| t.0) != next {
            if let Some((_, id)) = node.timer.take() {
                self.queue.cancel(id);
            }
            if let Some(at) = next {
                let at = at.max(now);
                let id = self.queue.schedule(at, Event::Timer { node: n });
                self.nodes[n].timer = Some((at, id));
            }
        }
    }

    /// The L5–L7 records of a frame host `n` `sent` or took in (`frame` without its FCS, `trace`
    /// its stack's records), read by the host's [`AppTap`]: only for the host's own traffic, an
    /// IP packet it sent or that was for it. A router reads the packets it forwards no higher
    /// than L3, and so does its row. Empty for a switch.
    fn upper(&mut self, n: usize, frame: Vec<u8>, trace: &Trace, sent: bool, now: Instant) -> Vec<Record> {
        let node = &mut self.nodes[n];
        let Device::Host(h) = &node.device else { return Vec::new() };
        let has = |layer: LayerId, protocols: &[&str]| {
            trace.records.iter().any(|r| r.layer == layer && protocols.contains(&&*r.protocol))
        };
        let own = !h.is_router() || has(LayerId::Transport, &["tcp", "udp"]);
        if !own || !has(LayerId::Network, &["ip", "ipv6"]) {
            return Vec::new();
        }
        if node.tap.is_none() {
            node.tap = AppTap::new().ok().map(Box::new);
        }
        match &mut node.tap {
            Some(tap) => tap.observe(frame, sent, now),
            None => Vec::new(),
        }
    }

    /// Node `n` sends `frame` (FCS included) out of `port`: its PHY line codes it and the link
    /// carries it.
    fn send(&mut self, n: usize, port: usize, frame: Vec<u8>, mut trace: Trace, now: Instant) {
        let name = self.nodes[n].name.clone();
        let Some((l, dir)) = self.nodes[n].ports.get(port).and_then(|p| p.link) else {
            self.row(Row::frame(now, &name, RowKind::Drop, "-", "no link on this port".into(), trace));
            return;
        };
        let mut cx = Context::new(now);
        cx.detail = self.record;
        let len = frame.len();
        // The capture holds the frame without its FCS, as pcap holds Ethernet.
        let without_fcs = if self.record { frame[..len.saturating_sub(4)].to_vec() } else { Vec::new() };
        let coded = self.nodes[n].ports[port].phy.encapsulate(Pdu::bytes(frame), &mut cx);
        trace.records.extend(cx.trace.records);
        let link_name = self.links[l].name.clone();
        let signal = match coded.ok().and_then(|mut v| v.pop()).map(|p| p.data) {
            Some(Data::Signal(s)) => s,
            _ => {
                self.row(Row::frame(
                    now,
                    &name,
                    RowKind::Drop,
                    &link_name,
                    "L1 could not code the frame".into(),
                    trace,
                ));
                return;
            }
        };
        let mut summary = if self.record { crate::host::info(&trace) } else { String::new() };
        if summary.is_empty() && self.record {
            summary = format!("{len}-byte frame out of port {}", port + 1);
        }
        if self.record {
            let upper = self.upper(n, without_fcs.clone(), &trace, true, now);
            if let Some(s) = super::tap::info(&upper) {
                summary = s;
            }
            // Going out, the layers above came first.
            trace.records.splice(0..0, upper);
        }
        let outcome = self.links[l].link.transmit(dir, signal, len, now, &mut self.rng);
        match outcome {
            Outcome::Delivered(copies) => {
                if let (Some(first), true) = (copies.first(), self.record) {
                    self.links[l].capture.push((first.start, without_fcs));
                }
                self.row(Row::frame(now, &name, RowKind::Out, &link_name, summary, trace));
                for c in copies {
                    if self.record && (c.reordered || c.duplicate || c.flipped > 0) {
                        let what = [
                            (c.duplicate, "duplicated".to_string()),
                            (c.reordered, "held back (reordered)".to_string()),
                            (c.flipped > 0, format!("{} symbols flipped", c.flipped)),
                        ]
                        .into_iter()
                        .filter(|x| x.0)
                        .map(|x| x.1)
                        .collect::<Vec<_>>()
                        .join(", ");
                        self.row(Row::note(
                            now,
                            &link_name,
                            RowKind::Info,
                            None,
                            format!("link {link_name}: frame {what}"),
                        ));
                    }
                    self.queue.schedule(c.at, Event::Arrive { link: l, dir, signal: c.signal });
                }
            }
            Outcome::Dropped { reason, sent } => {
                if let (Some(t), true) = (sent, self.record) {
                    self.links[l].capture.push((t, without_fcs));
                }
                self.row(Row::frame(now, &name, RowKind::Out, &link_name, summary, trace));
                self.row(Row::note(now, &link_name, RowKind::Drop, None, format!("link {link_name}: {reason}")));
            }
        }
    }

    /// Write one pcap per link into `dir` (`<link name>.pcap`); returns the paths.
    pub fn write_pcaps(&self, dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}: {e}", dir.display())))?;
        let mut paths = Vec::new();
        for l in &self.links {
            let path = dir.join(format!("{}.pcap", l.name));
            let file =
                std::fs::File::create(&path).map_err(|e| Error::io(format!("cannot write {}: {e}", path.display())))?;
            let mut sink = crate::pcap::PcapSink::new(std::io::BufWriter::new(file))?;
            // In time order: a frame handed to a busy link starts after those queued before it,
            // but both directions share the file (stable sort keeps same-time frames in order).
            let mut frames: Vec<&(Instant, Vec<u8>)> = l.capture.iter().collect();
            frames.sort_by_key(|f| f.0);
            for (at, f) in frames {
                sink.write(*at, f)?;
            }
            use std::io::Write;
            sink.into_inner().flush().map_err(|e| Error::io(format!("cannot write {}: {e}", path.display())))?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// The switches' MAC address tables, as `show mac address-table` prints them.
    pub fn switch_tables(&self) -> Vec<(String, String)> {
        let now = self.now();
        self.nodes
            .iter()
            .filter_map(|n| match &n.device {
                Device::Switch(s) => Some((n.name.clone(), s.mac_address_table(now).to_string())),
                _ => None,
            })
            .collect()
    }

    /// How long a run of `until` is, as a duration since the start.
    pub fn elapsed(&self) -> Duration {
        self.now().since_start()
    }
}
