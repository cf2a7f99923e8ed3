//! The timeline: every event of a run as a numbered row, like Packet Tracer's simulation mode
//! (time, device, direction, layer, what happened), with socket calls beside the frames they
//! cause. Each frame row keeps its device's layer view, which `--inspect N` prints: L1–L4 from
//! the device's stack and, for a host's own traffic, L5–L7 from its [`super::tap::AppTap`].

use crate::host::Pid;
use crate::layer::LayerId;
use crate::time::Instant;
use crate::trace::{Direction, Record, Trace};
use serde::Serialize;
use std::fmt::Write as _;

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    /// A frame leaving a device.
    Out,
    /// A frame taken in by a device.
    In,
    /// A frame or packet dropped, and why.
    Drop,
    /// A socket call (strace style).
    Call,
    /// A program's own output.
    App,
    /// A state change (a connection established, an ICMP error noted).
    Info,
}

impl RowKind {
    /// The word the text timeline prints for it.
    pub fn word(self) -> &'static str {
        match self {
            RowKind::Out => "out",
            RowKind::In => "in",
            RowKind::Drop => "drop",
            RowKind::Call => "call",
            RowKind::App => "app",
            RowKind::Info => "info",
        }
    }
}

/// One event.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// 1-based, in order.
    pub id: usize,
    /// When (seconds since the start in text and JSON).
    #[serde(serialize_with = "ser_time")]
    pub at: Instant,
    /// The device (or link, for what a link did).
    pub device: String,
    /// What kind of row.
    pub kind: RowKind,
    /// The process, for calls and program output.
    pub pid: Option<Pid>,
    /// The link a frame left or arrived by.
    pub link: Option<String>,
    /// The highest layer involved.
    pub layer: Option<u8>,
    /// The summary (Wireshark's Info column for frames).
    pub summary: String,
    /// The device's layer view of the frame (out: 7→1, in: 1→7).
    #[serde(skip)]
    pub trace: Option<Trace>,
}

fn ser_time<S: serde::Serializer>(t: &Instant, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&seconds(*t))
}

/// "1.000250000": seconds with nanoseconds.
pub fn seconds(t: Instant) -> String {
    let n = t.as_nanos();
    format!("{}.{:09}", n / 1_000_000_000, n % 1_000_000_000)
}

impl Row {
    /// A frame row. Its records are put in the order the device handled them
    /// ([`view_order`]), so that [`Timeline::inspect`] prints them as they are.
    pub fn frame(at: Instant, device: &str, kind: RowKind, link: &str, summary: String, mut trace: Trace) -> Row {
        view_order(kind, &mut trace);
        let layer =
            trace.records.iter().map(|r| r.layer).filter(|l| *l != LayerId::Physical).max().map(LayerId::number);
        Row {
            id: 0,
            at,
            device: device.to_string(),
            kind,
            pid: None,
            link: Some(link.to_string()),
            layer,
            summary,
            trace: Some(trace),
        }
    }

    /// A note row.
    pub fn note(at: Instant, device: &str, kind: RowKind, pid: Option<Pid>, text: String) -> Row {
        let layer = match kind {
            // The socket interface: TCP/IP's session, merged into the application.
            RowKind::Call => Some(5),
            RowKind::App => Some(7),
            _ => None,
        };
        Row { id: 0, at, device: device.to_string(), kind, pid, link: None, layer, summary: text, trace: None }
    }
}

/// Whether a frame row's records are its device's way down (it built the frame) rather than up:
/// an `out` row, or a frame dropped on its way out (its records made going down).
fn going_down(kind: RowKind, trace: &Trace) -> bool {
    match kind {
        RowKind::Out => true,
        RowKind::In => false,
        _ => trace.records.first().is_some_and(|r| r.direction == Direction::Down),
    }
}

/// Within one layer, how deep a protocol sits: the header that carries the others (Ethernet,
/// IP) is 0, an 802.1Q tag inside it 1, what they carry (ARP, ICMP) 2.
fn depth(r: &Record) -> u8 {
    match &*r.protocol {
        "eth" | "ip" | "ipv6" | "phy" => 0,
        "vlan" | "ieee8021ad" => 1,
        _ => 2,
    }
}

/// Put a frame's records in the order its device handled them, as the layer view asks:
/// going down 7→1 (within a layer the inner protocol first: an ARP packet, then the Ethernet
/// header around it, since L2 records the header first when it builds the frame), coming up
/// 1→7 (the order it read them; several records of one layer keep their order). Stable.
pub fn view_order(kind: RowKind, trace: &mut Trace) {
    if going_down(kind, trace) {
        trace.records.sort_by_key(|r| (std::cmp::Reverse(r.layer), std::cmp::Reverse(depth(r))));
    } else {
        trace.records.sort_by_key(|r| r.layer);
    }
}

/// All rows of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timeline {
    /// The rows, in order.
    pub rows: Vec<Row>,
}

impl Timeline {
    /// Append a row (numbered in order).
    pub fn push(&mut self, mut r: Row) {
        r.id = self.rows.len() + 1;
        self.rows.push(r);
    }

    /// The text form: one line per row.
    pub fn text(&self) -> String {
        let dev = self.rows.iter().map(|r| r.device.chars().count()).max().unwrap_or(6).max(6);
        let mut out = String::new();
        let _ = writeln!(out, "{:>5}  {:<13} {:<dev$} {:<4} {:<3} what", "#", "time (s)", "device", "dir", "L");
        for r in &self.rows {
            let layer = r.layer.map_or("-".to_string(), |l| format!("L{l}"));
            let who = match r.pid {
                Some(p) => format!("[pid {p}] "),
                None => String::new(),
            };
            let link = match (&r.link, r.kind) {
                (Some(l), RowKind::Out) => format!("  → {l}"),
                (Some(l), RowKind::In | RowKind::Drop) => format!("  ← {l}"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{:>5}  {:<13} {:<dev$} {:<4} {:<3} {who}{}{link}",
                r.id,
                seconds(r.at),
                r.device,
                r.kind.word(),
                layer,
                r.summary
            );
        }
        out
    }

    /// `--inspect N`: row N's device and its layer view of the PDU, each layer's header in the
    /// order the device handled them (7→1 going out, 1→7 coming in).
    pub fn inspect(&self, id: usize) -> Option<String> {
        let r = self.rows.get(id.checked_sub(1)?)?;
        let mut out =
            format!("event {} at {} s on {}: {} {}\n", r.id, seconds(r.at), r.device, r.kind.word(), r.summary);
        match &r.trace {
            Some(t) => {
                let order = if going_down(r.kind, t) {
                    "7→1, as the device built it"
                } else {
                    "1→7, as the device read it"
                };
                let _ = writeln!(out, "layers {order}:");
                for rec in &t.records {
                    let _ = writeln!(out, "\n{} ({})", rec.layer, rec.protocol);
                    let _ = writeln!(out, "{rec}");
                }
            }
            None => out.push_str("(no frame: this event is a call or a note)\n"),
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::PduName;

    fn trace(recs: &[(LayerId, &'static str, Direction)]) -> Trace {
        let mut t = Trace::default();
        for &(l, p, d) in recs {
            t.push(Record::new(l, d, p, p, PduName::Data));
        }
        t
    }

    fn order(t: &Trace) -> Vec<&str> {
        t.records.iter().map(|r| &*r.protocol).collect()
    }

    #[test]
    fn out_rows_go_7_to_1_with_the_inner_protocol_first() {
        use LayerId::*;
        let down = Direction::Down;
        // As the host records them: L2 writes the Ethernet header's record before the ARP
        // packet's; L5–L7 are put first by the world; L1 comes last.
        let mut t = trace(&[(DataLink, "eth", down), (DataLink, "arp", down), (Physical, "phy", down)]);
        view_order(RowKind::Out, &mut t);
        assert_eq!(order(&t), ["arp", "eth", "phy"]);
        let mut t = trace(&[
            (Application, "http", down),
            (Presentation, "presentation", down),
            (Session, "session", down),
            (Transport, "tcp", down),
            (Network, "ip", down),
            (DataLink, "eth", down),
            (DataLink, "vlan", down),
            (Physical, "phy", down),
        ]);
        view_order(RowKind::Out, &mut t);
        assert_eq!(order(&t), ["http", "presentation", "session", "tcp", "ip", "vlan", "eth", "phy"]);
        // An ICMP message is built before the IP header around it.
        let mut t = trace(&[(Network, "icmp", down), (Network, "ip", down), (DataLink, "eth", down)]);
        view_order(RowKind::Out, &mut t);
        assert_eq!(order(&t), ["icmp", "ip", "eth"]);
    }

    #[test]
    fn in_rows_go_1_to_7_in_the_order_read() {
        use LayerId::*;
        let up = Direction::Up;
        let mut t = trace(&[
            (Physical, "phy", up),
            (DataLink, "eth", up),
            (DataLink, "arp", up),
            (Network, "ip", up),
            (Network, "icmp", up),
        ]);
        view_order(RowKind::In, &mut t);
        assert_eq!(order(&t), ["phy", "eth", "arp", "ip", "icmp"]);
        let mut tl = Timeline::default();
        tl.push(Row::frame(Instant::ZERO, "h", RowKind::In, "l", "x".into(), t));
        let text = tl.inspect(1).unwrap();
        assert!(text.contains("layers 1→7, as the device read it"), "{text}");
        // A frame dropped on its way out is shown as it was built.
        let t = trace(&[(Transport, "tcp", Direction::Down), (Network, "ip", Direction::Down)]);
        tl.push(Row::frame(Instant::ZERO, "h", RowKind::Drop, "-", "no link".into(), t));
        let text = tl.inspect(2).unwrap();
        assert!(text.contains("layers 7→1, as the device built it"), "{text}");
        assert!(text.find("(tcp)").unwrap() < text.find("(ip)").unwrap(), "{text}");
    }
}
