//! The end of a run: what each process has to report (messages delivered per chat client,
//! replies, bytes), retransmissions, drops and why, bytes each layer added, and each host's
//! port table as `ss -tuanp` prints it.

use super::link::{Dir, DropReason};
use super::timeline::RowKind;
use super::world::{Device, World};
use crate::host::socket::format_port_table;
use crate::layer::LayerId;
use serde::Serialize;
use std::collections::BTreeMap;

/// The summary as data (JSON) and text.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Events handled.
    pub events: u64,
    /// Simulated time at the end, in seconds.
    pub end: String,
    /// Per process: "host/name (pid N)" → its report lines.
    pub processes: Vec<(String, Vec<String>)>,
    /// TCP retransmissions, all hosts.
    pub retransmissions: u64,
    /// Drops by reason (hosts' and links').
    pub drops: BTreeMap<String, u64>,
    /// Header and trailer bytes sent, per layer (L1's preamble and SFD included).
    pub bytes_by_layer: BTreeMap<String, u64>,
    /// Each host's port table.
    pub port_tables: Vec<(String, String)>,
    /// Each switch's MAC address table.
    pub mac_tables: Vec<(String, String)>,
}

impl Summary {
    /// Gather it from a world after its run.
    pub fn of(w: &World) -> Summary {
        let mut processes = Vec::new();
        let mut drops: BTreeMap<String, u64> = BTreeMap::new();
        let mut retransmissions = 0;
        let mut layers = [0u64; 8];
        let mut port_tables = Vec::new();
        for (i, name) in w.names().iter().enumerate() {
            let Some(Device::Host(h)) = w.device(i) else { continue };
            for (pid, pname, report) in h.processes() {
                processes.push((format!("{name}/{pname} (pid {pid})"), report));
            }
            retransmissions += h.tcp_retransmissions();
            for (k, v) in &h.stats().drops {
                *drops.entry(format!("{name}: {k}")).or_default() += v;
            }
            for (l, b) in h.stats().bytes_by_layer.iter().enumerate() {
                layers[l] += b;
            }
            port_tables.push((name.clone(), format_port_table(&h.port_table())));
        }
        for l in w.links() {
            for d in Dir::BOTH {
                let s = l.link.stats().dir(d);
                for r in DropReason::ALL {
                    let n = s.drops(r);
                    if n > 0 {
                        *drops.entry(format!("link {} {d}: {r}", l.name)).or_default() += n;
                    }
                }
                if s.corrupted > 0 {
                    *drops
                        .entry(format!("link {} {d}: frames with flipped bits (dropped by the receiver's FCS)", l.name))
                        .or_default() += s.corrupted;
                }
                // L1's own overhead: preamble and SFD, 8 bytes a frame.
                layers[1] += 8 * s.sent;
            }
        }
        // L5–L7 add their framing in the programs (a chat line's command word and LF, an HTTP
        // head, a DNS header and question), which the hosts' stacks see as payload: counted
        // from the records of each message a host sent, as its timeline rows read them (each
        // message once: the tap passes retransmitted bytes up only once).
        let hosts: std::collections::BTreeSet<String> = w
            .names()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| matches!(w.device(*i), Some(Device::Host(_))))
            .map(|(_, n)| n)
            .collect();
        // (A run that kept no records — `World::set_recording(false)` — has none to count: its
        // summary leaves L5–L7 out.)
        for row in w.timeline.rows.iter().filter(|r| r.kind == RowKind::Out && hosts.contains(&r.device)) {
            for rec in row.trace.iter().flat_map(|t| &t.records).filter(|r| r.layer >= LayerId::Session) {
                layers[usize::from(rec.layer.number())] += rec.overhead as u64;
            }
        }
        let counted = if w.is_recording() { 7u8 } else { 4 };
        let bytes_by_layer = (1..=counted)
            .filter_map(|n| LayerId::from_number(n).map(|l| (l.to_string(), layers[usize::from(n)])))
            .collect();
        Summary {
            events: w.events(),
            end: super::timeline::seconds(w.now()),
            processes,
            retransmissions,
            drops,
            bytes_by_layer,
            port_tables,
            mac_tables: w.switch_tables(),
        }
    }

    /// The text form.
    pub fn text(&self) -> String {
        let mut o = format!("\nSummary after {} s ({} events)\n", self.end, self.events);
        o.push_str("\nProcesses:\n");
        for (who, lines) in &self.processes {
            o.push_str(&format!("  {who}\n"));
            for l in lines {
                o.push_str(&format!("    {l}\n"));
            }
        }
        o.push_str(&format!("\nTCP retransmissions: {}\n", self.retransmissions));
        o.push_str("\nDrops:\n");
        if self.drops.is_empty() {
            o.push_str("  none\n");
        }
        for (why, n) in &self.drops {
            o.push_str(&format!("  {n:>6}  {why}\n"));
        }
        o.push_str("\nBytes added by each layer (headers and trailers sent):\n");
        for (l, b) in &self.bytes_by_layer {
            o.push_str(&format!("  {l:<16} {b}\n"));
        }
        for (h, t) in &self.port_tables {
            o.push_str(&format!("\nPort table of {h} (ss -tuanp):\n"));
            for line in t.lines() {
                o.push_str(&format!("  {line}\n"));
            }
        }
        for (s, t) in &self.mac_tables {
            o.push_str(&format!("\nMAC address table of {s}:\n"));
            for line in t.lines() {
                o.push_str(&format!("  {line}\n"));
            }
        }
        o
    }
}
