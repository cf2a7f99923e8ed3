//! An L2 switch: an IEEE 802.1D transparent (learning) bridge, store-and-forward.
//!
//! Read first: IEEE 802.1D-2004 §7.5 (frame reception), §7.7 (the forwarding process: which
//! ports a frame goes to), §7.8 (the learning process), §7.9 (the filtering database and its
//! ageing), §7.12.6 (reserved addresses).
//!
//! For each frame received on a port the switch
//! 1. discards it if it is a runt (shorter than the 64-byte minimum, IEEE 802.3 §4.2.4.2.2), too
//!    long (over 1522 bytes, §4.2.4.2.1 and §3.5), or its FCS does not verify (§3.2.9: a
//!    store-and-forward switch has the whole frame and drops a damaged one rather than pass it on);
//! 2. learns its source address on the ingress port (§7.8), unless the source is a group address
//!    (which no station may send from, IEEE 802.3 §3.2.3);
//! 3. never forwards a frame to one of the reserved group addresses 01-80-C2-00-00-00 to -0F
//!    (§7.12.6: those are for the bridge itself: STP, LACP, pause frames…);
//! 4. floods broadcast, multicast and unknown unicast to every port but the ingress; sends known
//!    unicast to its port; and filters it when that port is the ingress (§7.7.1: a frame is never
//!    sent back where it came from).
//!
//! The filtering database (the "MAC address table") holds dynamic entries that age out after
//! `ageing` without a frame from that source (§7.9.2; 300 s by default, Table 7-5), and at most
//! `table_limit` of them: when full, the entry seen longest ago makes room (a real switch's CAM
//! is bounded too; what it does when full varies, this one evicts the oldest).
//!
//! The frame bytes are forwarded unchanged: the switch is VLAN-unaware, so an 802.1Q tag passes
//! through as it came, and every entry is shown in VLAN 1. Ports are numbered from 1, as on
//! a switch's front panel (and in 802.1D's port numbers).

use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::{Context, LayerId, PduName};
use crate::layers::l2_data_link::{fcs_ok, MAX_TAGGED_FRAME_LEN, MIN_FRAME_LEN};
use crate::time::Instant;
use crate::trace::{Check, Direction, Field, Record, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::Duration;

/// The switch's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwitchConfig {
    /// How long an entry lives without a frame from its address (IEEE 802.1D §7.9.2).
    pub ageing: Duration,
    /// The most entries the table holds.
    pub table_limit: usize,
}

impl Default for SwitchConfig {
    /// 300 s ageing (IEEE 802.1D Table 7-5's recommended value), 8192 entries.
    fn default() -> Self {
        SwitchConfig { ageing: Duration::from_secs(300), table_limit: 8192 }
    }
}

impl SwitchConfig {
    /// Check the settings: IEEE 802.1D Table 7-5 allows an ageing time of 10 s to 1,000,000 s
    /// (shorter ones are accepted here, for experiments, but not 0), and the table must hold
    /// at least one entry.
    pub fn validate(&self) -> Result<()> {
        if self.ageing.is_zero() {
            return Err(Error::config(
                Some(LayerId::DataLink),
                "switch ageing time is 0: entries would expire as soon as they are learned \
                 (IEEE 802.1D recommends 300 s)",
            ));
        }
        if self.table_limit == 0 {
            return Err(Error::config(
                Some(LayerId::DataLink),
                "switch table limit is 0: the switch could learn no address",
            ));
        }
        Ok(())
    }
}

/// A filtering-database entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    port: usize,
    seen: Instant,
}

/// The switch's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SwitchStats {
    /// Frames received on any port.
    pub received: u64,
    /// Frames sent to one known port.
    pub forwarded: u64,
    /// Frames flooded to every other port.
    pub flooded: u64,
    /// Frames not sent on: destination on the ingress port, or a reserved address.
    pub filtered: u64,
    /// Frames dropped for a bad FCS.
    pub bad_fcs: u64,
    /// Frames dropped as runts (under 64 bytes).
    pub runts: u64,
    /// Frames dropped as too long (over 1522 bytes).
    pub too_long: u64,
    /// Frames "received" on a port the switch does not have (a wiring mistake in the caller).
    pub bad_port: u64,
    /// Addresses learned (new entries).
    pub learned: u64,
    /// Addresses that moved to another port.
    pub moved: u64,
    /// Entries removed for age.
    pub aged_out: u64,
    /// Entries evicted because the table was full.
    pub evicted: u64,
}

/// What the switch did with one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Forward(usize),
    Flood(Vec<usize>),
    FilterSamePort(usize),
    FilterReserved,
    Drop(&'static str),
}

/// What learning did with the source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Learned {
    /// A group address, or the frame was dropped first.
    Nothing,
    /// A new entry (evicting the oldest if the table was full).
    New { evicted: Option<MacAddr> },
    /// The address was known on another port.
    Moved { from: usize },
    /// Known on this port: its age restarts.
    Refreshed,
}

/// An IEEE 802.1D learning bridge with `ports` ports (see the module documentation).
#[derive(Debug, Clone)]
pub struct Switch {
    name: String,
    ports: usize,
    cfg: SwitchConfig,
    table: BTreeMap<MacAddr, Entry>,
    stats: SwitchStats,
}

impl Switch {
    /// A switch named `name` with ports 1..=`ports` and an empty table, or a configuration error.
    pub fn new(name: impl Into<String>, ports: usize, cfg: SwitchConfig) -> Result<Self> {
        let name = name.into();
        cfg.validate()?;
        if ports == 0 {
            return Err(Error::config(Some(LayerId::DataLink), format!("switch {name} has no ports")));
        }
        Ok(Switch { name, ports, cfg, table: BTreeMap::new(), stats: SwitchStats::default() })
    }

    /// The switch's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many ports it has (numbered 1..=ports).
    pub fn ports(&self) -> usize {
        self.ports
    }

    /// The settings.
    pub fn config(&self) -> &SwitchConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &SwitchStats {
        &self.stats
    }

    /// The port `mac` is known on at `now`, if it is (and its entry has not aged out).
    pub fn lookup(&self, mac: MacAddr, now: Instant) -> Option<usize> {
        self.table.get(&mac).filter(|e| !self.stale(e, now)).map(|e| e.port)
    }

    /// The live entries at `now`: (address, port, age), in address order.
    pub fn mac_table(&self, now: Instant) -> Vec<(MacAddr, usize, Duration)> {
        self.table.iter().filter(|(_, e)| !self.stale(e, now)).map(|(m, e)| (*m, e.port, now - e.seen)).collect()
    }

    /// Remove the entries that have aged out by `now` (IEEE 802.1D §7.9.2); returns how many.
    /// Entries that aged out are ignored anyway; this only frees their room.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.table.len();
        let ageing = self.cfg.ageing;
        self.table.retain(|_, e| now - e.seen < ageing);
        let n = before - self.table.len();
        self.stats.aged_out += n as u64;
        n
    }

    /// The table as `show mac address-table` prints it on a Cisco switch (plus each entry's age).
    pub fn mac_address_table(&self, now: Instant) -> MacAddressTable<'_> {
        MacAddressTable { switch: self, now }
    }

    fn stale(&self, e: &Entry, now: Instant) -> bool {
        now - e.seen >= self.cfg.ageing
    }

    /// Take in a frame (FCS included, as L1 decoded it) on `port` (1-based) at `now`; returns
    /// the (egress port, frame) pairs to send, in port order, and records what it did in
    /// `cx.trace`.
    pub fn receive(&mut self, port: usize, frame: &[u8], now: Instant, cx: &mut Context) -> Vec<(usize, Vec<u8>)> {
        self.stats.received += 1;
        let dst = mac_at(frame, 0);
        let src = mac_at(frame, 6);
        let mut fcs_check = None;
        let mut learned = Learned::Nothing;
        let verdict = if port == 0 || port > self.ports {
            self.stats.bad_port += 1;
            Verdict::Drop("no such port")
        } else if frame.len() < MIN_FRAME_LEN {
            self.stats.runts += 1;
            Verdict::Drop("runt (under 64 bytes, IEEE 802.3 §4.2.4.2.2)")
        } else if frame.len() > MAX_TAGGED_FRAME_LEN {
            self.stats.too_long += 1;
            Verdict::Drop("frame too long (over 1522 bytes, IEEE 802.3 §4.2.4.2.1)")
        } else if !fcs_ok(frame) {
            self.stats.bad_fcs += 1;
            fcs_check = Some(false);
            Verdict::Drop("bad FCS")
        } else {
            fcs_check = Some(true);
            if !src.is_multicast() {
                learned = self.learn(src, port, now);
            }
            self.forward(dst, port, now)
        };

        let out: Vec<(usize, Vec<u8>)> = match &verdict {
            Verdict::Forward(p) => vec![(*p, frame.to_vec())],
            Verdict::Flood(ps) => ps.iter().map(|&p| (p, frame.to_vec())).collect(),
            _ => Vec::new(),
        };
        cx.trace.push(self.record(port, frame, dst, src, fcs_check, learned, &verdict, cx));
        out
    }

    /// IEEE 802.1D §7.8: the source address is reachable through the ingress port.
    fn learn(&mut self, src: MacAddr, port: usize, now: Instant) -> Learned {
        let ageing = self.cfg.ageing;
        if let Some(e) = self.table.get_mut(&src) {
            let fresh = now - e.seen < ageing;
            let from = e.port;
            *e = Entry { port, seen: now };
            return match (fresh, from == port) {
                (true, true) => Learned::Refreshed,
                (true, false) => {
                    self.stats.moved += 1;
                    Learned::Moved { from }
                }
                (false, _) => {
                    self.stats.aged_out += 1;
                    self.stats.learned += 1;
                    Learned::New { evicted: None }
                }
            };
        }
        let mut evicted = None;
        if self.table.len() >= self.cfg.table_limit {
            self.expire(now);
        }
        if self.table.len() >= self.cfg.table_limit {
            // The least recently seen entry (lowest address among equals: deterministic).
            let oldest = self.table.iter().min_by_key(|(m, e)| (e.seen, **m)).map(|(m, _)| *m);
            if let Some(m) = oldest {
                self.table.remove(&m);
                self.stats.evicted += 1;
                evicted = Some(m);
            }
        }
        self.table.insert(src, Entry { port, seen: now });
        self.stats.learned += 1;
        Learned::New { evicted }
    }

    /// IEEE 802.1D §7.7: where a good frame goes.
    fn forward(&mut self, dst: MacAddr, ingress: usize, now: Instant) -> Verdict {
        // §7.12.6, Table 7-10: 01-80-C2-00-00-00 … -0F are never relayed.
        if dst.0[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && dst.0[5] <= 0x0f {
            self.stats.filtered += 1;
            return Verdict::FilterReserved;
        }
        let known = if dst.is_multicast() { None } else { self.lookup(dst, now) };
        match known {
            Some(p) if p == ingress => {
                self.stats.filtered += 1;
                Verdict::FilterSamePort(p)
            }
            Some(p) => {
                self.stats.forwarded += 1;
                Verdict::Forward(p)
            }
            None => {
                self.stats.flooded += 1;
                Verdict::Flood((1..=self.ports).filter(|&p| p != ingress).collect())
            }
        }
    }

    /// The trace record: an L2 record of protocol `switch` (no Wireshark protocol: a capture
    /// shows only the frames), with the frame's `eth.dst` / `eth.src` and the decision.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        port: usize,
        frame: &[u8],
        dst: MacAddr,
        src: MacAddr,
        fcs: Option<bool>,
        learned: Learned,
        verdict: &Verdict,
        cx: &Context,
    ) -> Record {
        let (action, egress): (&str, &[usize]) = match verdict {
            Verdict::Forward(p) => ("forward", std::slice::from_ref(p)),
            Verdict::Flood(ps) => ("flood", ps),
            Verdict::FilterSamePort(_) | Verdict::FilterReserved => ("filter", &[]),
            Verdict::Drop(_) => ("drop", &[]),
        };
        let title = cx.text(|| {
            let mut t = format!("Switch {}: ", self.name);
            match learned {
                Learned::New { .. } => {
                    let _ = write!(t, "learned {src} on port {port}; ");
                }
                Learned::Moved { from } => {
                    let _ = write!(t, "{src} moved from port {from} to port {port}; ");
                }
                Learned::Refreshed | Learned::Nothing => {}
            }
            match verdict {
                Verdict::Forward(p) => {
                    let _ = write!(t, "forwarded to port {p}");
                }
                Verdict::Flood(ps) if ps.is_empty() => t.push_str("flooded to no port (the only port is the ingress)"),
                Verdict::Flood(ps) => {
                    let list: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
                    let plural = if ps.len() == 1 { "port" } else { "ports" };
                    let _ = write!(t, "flooded to {plural} {}", list.join(", "));
                }
                Verdict::FilterSamePort(_) => t.push_str("filtered (destination on the ingress port)"),
                Verdict::FilterReserved => t.push_str("filtered (IEEE 802.1D reserved address, not relayed)"),
                Verdict::Drop(why) => {
                    let _ = write!(t, "dropped: {why}");
                }
            }
            t
        });
        let mut r = Record::new(LayerId::DataLink, Direction::Up, "switch", title, PduName::Frame);
        r.summary = cx.text(|| {
            let why = match (verdict, dst.is_multicast()) {
                (Verdict::Flood(_), true) => " (group address)",
                (Verdict::Flood(_), false) => " (unknown unicast)",
                _ => "",
            };
            format!("port {port}: {src} → {dst}, {}-byte frame, {action}{why}", frame.len())
        });
        r.header = 0..frame.len().min(12);
        r.payload_len = frame.len().saturating_sub(12);
        if frame.len() >= 12 {
            r.fields.push(Field::new("eth.dst", "Destination", Value::Mac(dst)));
            r.fields.push(Field::new("eth.src", "Source", Value::Mac(src)));
        }
        r.fields.push(Field::uint("switch.in_port", "Ingress port", port as u64));
        r.fields.push(Field::text("switch.action", "Action", action));
        for &p in egress {
            r.fields.push(Field::uint("switch.out_port", "Egress port", p as u64));
        }
        if let Some(ok) = fcs {
            let detail = if ok { "correct" } else { "incorrect: the frame was damaged on the way" };
            r.checks.push(Check::new("eth.fcs.status", "Frame check sequence", ok, detail));
        }
        if let Learned::New { evicted: Some(old) } = learned {
            r.notes.push(cx.text(|| format!("the table was full ({} entries): evicted {old}", self.cfg.table_limit)));
        }
        r
    }
}

/// The six bytes at `at` as a MAC address, or zeros when the frame is too short (a runt, which
/// is dropped anyway).
fn mac_at(frame: &[u8], at: usize) -> MacAddr {
    frame.get(at..at + 6).and_then(|b| <[u8; 6]>::try_from(b).ok()).map(MacAddr).unwrap_or_default()
}

/// The MAC address table at one instant, printed like Cisco IOS's `show mac address-table`:
/// VLAN, address in Cisco's dotted form, type (always DYNAMIC: learned), port; plus its age.
#[derive(Debug, Clone, Copy)]
pub struct MacAddressTable<'a> {
    switch: &'a Switch,
    now: Instant,
}

impl fmt::Display for MacAddressTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.switch.mac_table(self.now);
        writeln!(f, "          Mac Address Table ({} at {} s)", self.switch.name, self.now)?;
        writeln!(f, "-------------------------------------------")?;
        writeln!(f)?;
        writeln!(f, "Vlan    Mac Address       Type        Ports    Age (s)")?;
        writeln!(f, "----    -----------       --------    -----    -------")?;
        for (mac, port, age) in &entries {
            let o = mac.0;
            let dotted = format!("{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}", o[0], o[1], o[2], o[3], o[4], o[5]);
            writeln!(f, "{:>4}    {dotted}    DYNAMIC     {port:<5}    {}", 1, age.as_secs())?;
        }
        write!(f, "Total Mac Addresses for this criterion: {}", entries.len())
    }
}

#[cfg(test)]
#[path = "switch_tests.rs"]
mod tests;
