//! One of osilab's hosts ([`crate::host::Host`], the very code `simulate` runs) on a real
//! interface, driven by the real clock: each frame read goes to [`Host::receive`], each due
//! timer to [`Host::on_timeout`], and after either every frame from [`Host::poll_transmit`] goes
//! out on the link, as the simulator's world does after every event.
//!
//! Time: the host is handed [`crate::time::Instant`]s, nanoseconds since the session started,
//! read from the monotonic clock here and nowhere else. Every wait is bounded: the caller gives
//! a deadline, and a read never blocks past the host's next timer.

use super::link::{Link, LinkFrame, LinkOptions, Way};
use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::host::{Host, HostConfig, InterfaceConfig, NoteKind, Pid, Prefix, Program};
use crate::layer::LayerId;
use crate::sim::tap::{self, AppTap};
use crate::sim::timeline::{seconds, Row, RowKind};
use crate::time::Instant;
use crate::trace::Trace;
use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

/// The monotonic clock mapped onto the hosts' [`Instant`]: zero when the session starts.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: std::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Clock {
        Clock { start: std::time::Instant::now() }
    }

    /// Now, as nanoseconds since the start.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }
}

/// A seed for a session's random choices (initial sequence numbers, ephemeral ports, IP IDs)
/// when the user gives none: the wall clock's nanoseconds, so that two runs against the same
/// peer do not reuse a connection's 4-tuple and sequence space (RFC 6528 §3).
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
}

/// The host's configuration on the interface.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The interface.
    pub iface: String,
    /// Its IPv4 address and subnet (an address the machine itself does not own).
    pub ipv4: Option<Prefix>,
    /// Its IPv6 address and subnet.
    pub ipv6: Option<Prefix>,
    /// Its MAC address; the interface's own when `None`.
    pub mac: Option<MacAddr>,
    /// Default gateways (one per family at most).
    pub gateways: Vec<IpAddr>,
    /// Put the interface in promiscuous mode (needed when `mac` is not the interface's own on
    /// a real card, which filters frames by destination).
    pub promiscuous: bool,
    /// Seed of the host's random choices.
    pub seed: u64,
    /// TTL / hop limit of its packets.
    pub ttl: u8,
}

/// Where a program's own output lines (ping's replies, dig's answer) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppOutput {
    /// Standard output, as the familiar tool prints them.
    Stdout,
    /// Standard error.
    Stderr,
    /// Only in the trace (standard output carries data, like the body `curl` prints).
    TraceOnly,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The condition was met.
    Done,
    /// The deadline came first.
    TimedOut,
    /// The user pressed Ctrl-C.
    Interrupted,
}

/// A host on a live link.
pub struct Session {
    host: Host,
    link: Link,
    clock: Clock,
    trace: bool,
    app_out: AppOutput,
    rows: usize,
    device: String,
    /// With `--trace`: L5–L7 of the host's own frames, read as `simulate`'s timeline reads them
    /// (made at the first frame).
    tap: Option<Box<AppTap>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("link", &self.link).finish_non_exhaustive()
    }
}

fn warn(msg: &str) {
    eprintln!("osilab: warning: {msg}");
}

impl Session {
    /// Open the interface and build the host on it. `trace`: print every frame in and out,
    /// layer by layer, and every note, to standard error.
    pub fn open(o: &HostOptions, trace: bool, app_out: AppOutput) -> Result<Session> {
        if o.ipv4.is_none() && o.ipv6.is_none() {
            return Err(Error::config(None, "live: the host needs an address: --ip 192.0.2.1/24 (or an IPv6 one)"));
        }
        let link = Link::open(&o.iface, &LinkOptions { promiscuous: o.promiscuous, outgoing: false })?;
        for w in link.warnings() {
            warn(w);
        }
        for p in [o.ipv4, o.ipv6].into_iter().flatten() {
            let owners = super::link::owners_of(p.addr);
            if !owners.is_empty() {
                warn(&format!(
                    "this machine's kernel owns {} too (on {}): it will answer for it beside osilab; give osilab an \
                     address of its own",
                    p.addr,
                    owners.join(", ")
                ));
            }
        }
        let mac = match (o.mac, link.mac()) {
            (Some(m), own) => {
                if Some(m) != own && !o.promiscuous {
                    warn(&format!(
                        "{m} is not {}'s own MAC address: a real card passes frames for it only in promiscuous mode \
                         (--promiscuous); a veth passes them anyway",
                        o.iface
                    ));
                }
                m
            }
            (None, Some(own)) => own,
            (None, None) => {
                return Err(Error::config(None, format!("live: {} has no MAC address: give one with --mac", o.iface)))
            }
        };
        let cfg = HostConfig {
            name: "osilab".into(),
            interfaces: vec![InterfaceConfig {
                name: o.iface.clone(),
                mac,
                ipv4: o.ipv4,
                ipv6: o.ipv6,
                mtu: link.mtu().clamp(68, 1500),
            }],
            routes: o.gateways.iter().map(|g| (Prefix::default_for(*g), *g)).collect(),
            forwarding: false,
            seed: o.seed,
            ttl: o.ttl,
        };
        let mut host = Host::new(cfg)?;
        host.set_fcs_by_nic(0, true);
        super::sys::catch_interrupt();
        let s =
            Session { host, link, clock: Clock::start(), trace, app_out, rows: 0, device: "osilab".into(), tap: None };
        if trace {
            let addrs: Vec<String> =
                [o.ipv4, o.ipv6].into_iter().flatten().map(|p| format!("{}/{}", p.addr, p.len)).collect();
            eprintln!(
                "osilab live: host {} on {} ({mac}, {}), MTU {}",
                s.device,
                o.iface,
                addrs.join(", "),
                s.link.mtu()
            );
            eprintln!("{:>5}  {:<13} {:<4} {:<3} what", "#", "time (s)", "dir", "L");
        }
        Ok(s)
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The link.
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// Now, on the session's clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Start `program` as process `name`; its first frames go out at once.
    pub fn spawn(&mut self, name: &str, program: Box<dyn Program>) -> Result<Pid> {
        let now = self.clock.now();
        let pid = self.host.spawn(name, program, now);
        self.flush(now)?;
        Ok(pid)
    }

    /// Run until `done` says so (asked after every event), `limit` has passed, or the user pressed
    /// Ctrl-C.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Host) -> bool) -> Result<Ended> {
        let deadline = self.clock.now() + limit;
        loop {
            if done(&self.host) {
                return Ok(Ended::Done);
            }
            if super::sys::interrupted() {
                return Ok(Ended::Interrupted);
            }
            let now = self.clock.now();
            if now >= deadline {
                return Ok(Ended::TimedOut);
            }
            if self.host.poll_timeout().is_some_and(|t| t <= now) {
                self.host.on_timeout(now);
                self.flush(now)?;
                if done(&self.host) {
                    return Ok(Ended::Done);
                }
            }
            let now = self.clock.now();
            let next = self.host.poll_timeout().map_or(deadline, |t| t.min(deadline));
            // At least a millisecond: a timer the host left due cannot spin the loop.
            let wait = if next > now { next - now } else { Duration::from_millis(1) };
            if let Some(f) = self.link.recv(wait)? {
                self.input(f)?;
            }
            // (`done` is asked again at the top: after a frame as after a timer.)
        }
    }

    /// With `--trace`: the run's summary on standard error, as `simulate` ends its timeline:
    /// frames in and out, drops by reason, and the host's port table (`ss -tuan`).
    pub fn end(&self) {
        if !self.trace {
            return;
        }
        let st = self.host.stats();
        let mut e = std::io::stderr().lock();
        let _ = writeln!(
            e,
            "\nosilab live: {:.3} s, {} frames in, {} out, {} TCP retransmissions",
            self.clock.now().since_start().as_secs_f64(),
            st.frames_in,
            st.frames_out,
            self.host.tcp_retransmissions()
        );
        for (why, n) in &st.drops {
            let _ = writeln!(e, "  dropped {n}: {why}");
        }
        let ports = self.host.port_table();
        if !ports.is_empty() {
            let _ = writeln!(
                e,
                "  {:<5} {:<10} {:<6} {:<6} {:<24} {:<24} process",
                "netid", "state", "recv-q", "send-q", "local", "peer"
            );
            for p in ports {
                let _ = writeln!(
                    e,
                    "  {:<5} {:<10} {:<6} {:<6} {:<24} {:<24} {}",
                    p.netid, p.state, p.recv_q, p.send_q, p.local, p.peer, p.process
                );
            }
        }
    }

    /// A frame from the link: the offload work a card would have done, then up the host's
    /// stack; what the host sends in answer goes out.
    fn input(&mut self, f: LinkFrame) -> Result<()> {
        if f.way == Way::Out {
            return Ok(());
        }
        let now = self.clock.now();
        if f.truncated {
            self.row(Row::note(
                now,
                &self.device,
                RowKind::Drop,
                None,
                format!("a frame longer than the read buffer was cut ({} bytes read)", f.bytes.len()),
            ));
            return Ok(());
        }
        let frames = match f.wire() {
            Ok(v) => v,
            Err(why) => {
                self.row(Row::note(now, &self.device, RowKind::Drop, None, format!("link: {why}")));
                return Ok(());
            }
        };
        if self.trace {
            let mut what = Vec::new();
            if let Some((_, tag)) = f.vlan {
                what.push(format!("802.1Q tag (VLAN {}) restored from the packet socket's metadata", tag.id));
            }
            if f.offload.pending() {
                what.push(format!("done for the kernel that sent it: {}", f.offload.describe()));
            }
            if !what.is_empty() {
                self.row(Row::note(now, &self.device, RowKind::Info, None, format!("link: {}", what.join("; "))));
            }
        }
        for bytes in frames {
            let captured = if self.trace { bytes.clone() } else { Vec::new() };
            let rx = self.host.receive(0, bytes, now);
            let mut trace = rx.trace;
            let (kind, summary) = match rx.dropped {
                Some(why) => (RowKind::Drop, why),
                None => {
                    let mut summary = crate::host::info(&trace);
                    let upper = self.upper(captured, &trace, false, now);
                    if let Some(s) = tap::info(&upper) {
                        summary = s;
                    }
                    trace.records.extend(upper);
                    (RowKind::In, summary)
                }
            };
            let link = self.link.name().to_string();
            self.row(Row::frame(now, &self.device, kind, &link, summary, trace));
            self.flush(now)?;
        }
        Ok(())
    }

    /// Send what the host has to send; show its notes.
    fn flush(&mut self, now: Instant) -> Result<()> {
        while let Some(f) = self.host.poll_transmit() {
            self.link.send(&f.bytes)?;
            if !self.trace {
                continue;
            }
            let mut trace = f.trace;
            let mut summary = crate::host::info(&trace);
            if summary.is_empty() {
                summary = format!("{}-byte frame", f.bytes.len());
            }
            let upper = self.upper(f.bytes, &trace, true, now);
            if let Some(s) = tap::info(&upper) {
                summary = s;
            }
            // Going out, the layers above came first.
            trace.records.splice(0..0, upper);
            let link = self.link.name().to_string();
            self.row(Row::frame(now, &self.device, RowKind::Out, &link, summary, trace));
        }
        for n in self.host.take_notes() {
            if n.kind == NoteKind::App && n.pid.is_some() {
                self.app_line(&n.text);
            }
            let kind = match n.kind {
                NoteKind::Call => RowKind::Call,
                NoteKind::App => RowKind::App,
                NoteKind::Drop => RowKind::Drop,
                NoteKind::Info => RowKind::Info,
            };
            self.row(Row::note(n.at, &self.device, kind, n.pid, n.text));
        }
        Ok(())
    }

    /// With `--trace`, the records above L4 of a frame the host sent or took in (its
    /// application's messages, as `simulate` shows them); nothing for a frame without IP.
    fn upper(&mut self, frame: Vec<u8>, trace: &Trace, sent: bool, now: Instant) -> Vec<crate::trace::Record> {
        let ip = trace.records.iter().any(|r| r.layer == LayerId::Network && matches!(&*r.protocol, "ip" | "ipv6"));
        if !self.trace || !ip {
            return Vec::new();
        }
        if self.tap.is_none() {
            self.tap = AppTap::new().ok().map(Box::new);
        }
        match &mut self.tap {
            Some(t) => t.observe(frame, sent, now),
            None => Vec::new(),
        }
    }

    fn app_line(&self, text: &str) {
        match self.app_out {
            AppOutput::Stdout => {
                let mut o = std::io::stdout().lock();
                let _ = writeln!(o, "{text}");
                let _ = o.flush();
            }
            AppOutput::Stderr => eprintln!("{text}"),
            AppOutput::TraceOnly => {}
        }
    }

    /// One row of the trace (standard error), numbered, with a frame's layers below it.
    fn row(&mut self, r: Row) {
        if !self.trace {
            return;
        }
        self.rows += 1;
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(format_row(self.rows, &r).as_bytes());
    }
}

/// A trace row as `simulate`'s timeline prints it, and for a frame each layer's record below it
/// (as `simulate --inspect` shows one: 7→2 going out, 2→7 coming in; L5–L7 from the tap).
pub fn format_row(id: usize, r: &Row) -> String {
    let layer = r.layer.map_or("-".to_string(), |l| format!("L{l}"));
    let who = r.pid.map(|p| format!("[pid {p}] ")).unwrap_or_default();
    let link = match (&r.link, r.kind) {
        (Some(l), RowKind::Out) => format!("  → {l}"),
        (Some(l), RowKind::In | RowKind::Drop) => format!("  ← {l}"),
        _ => String::new(),
    };
    let word = r.kind.word();
    let mut s = format!("{id:>5}  {:<13} {word:<4} {layer:<3} {who}{}{link}\n", seconds(r.at), r.summary);
    if let Some(t) = &r.trace {
        s.push_str(&indent_records(t));
    }
    s
}

fn indent_records(t: &Trace) -> String {
    let mut s = String::new();
    for rec in &t.records {
        for line in rec.to_string().lines() {
            s.push_str("         ");
            s.push_str(line);
            s.push('\n');
        }
    }
    s
}
