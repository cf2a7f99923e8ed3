//! Layers 5–7 of a host's frames for the timeline: what `tshark` would show above TCP/UDP if it
//! captured on that host's interface.
//!
//! A host's stack ([`crate::host`]) records L2–L4 of each frame it sends or takes in; its
//! programs read and write bytes through sockets, so the application's messages appear in no
//! frame's records. An [`AppTap`] (one per host, made when the host's first frame is recorded)
//! is fed every frame of the host's own traffic, out and in, in the order of the timeline, and
//! reads it with the capture-mode layers `osilab dissect` uses: L2, L3 (with fragment
//! reassembly), [`TransportCapture`] (TCP conversations, Wireshark's sequence analysis, stream
//! reassembly) and [`AppCapture`] (DNS, HTTP, the chat protocol or `data`, chosen by port as
//! tshark chooses). A message split over segments therefore shows on the segment that completes
//! it, and a retransmission shows nothing new, exactly as in a capture. Segments that arrive out
//! of order are held until the gap is filled (tshark's `tcp.reassemble_out_of_order: TRUE`), as
//! the host's own TCP holds them (RFC 9293 §3.10.7.4).
//!
//! Each piece of a conversation's bytes gets, above the transport's records:
//!
//! - **L5** — the TCP/IP model's session, the socket (as `osilab send` shows it, see
//!   [`crate::layers::l5_session`]): a `session` record with the same fields (`session.model`,
//!   `session.role`, `session.tuple`), no bytes added. The role is that of this host's end:
//!   client when it opened the dialogue (sent the SYN, or the first datagram), else server. The
//!   socket calls that moved the bytes are the host's own `call` rows.
//! - **L6** — in the TCP/IP model the application does its own presentation: the chat program
//!   writes UTF-8 lines, HTTP/1.1 is ASCII text with a body as its `Content-Type` says, DNS is a
//!   binary format with length-prefixed labels. A `presentation` record says which, and adds no
//!   header (there is none on the wire).
//! - **L7** — the application's records, exactly as [`AppCapture`] makes them for `osilab
//!   dissect` (for the chat protocol, the `data` record tshark shows and then the chat line).
//!
//! A piece that completes no message yet (the first segments of a long HTTP response) gets the
//! L5 record only. Bounded: every table holds at most [`MAX_CONVERSATIONS`] conversations (the
//! least recently used forgotten), and at most [`MAX_HELD`] bytes are held out of order and
//! [`MAX_BUFFERED`] for unfinished messages, per host. Deterministic: the tap reads only the
//! frames and the simulated time.

use crate::error::Result;
use crate::layer::{Context, Data, Layer, LayerId, Meta, Pdu, PduName};
use crate::layers::l2_data_link::{DataLink, DataLinkConfig};
use crate::layers::l3_network::{Network, NetworkConfig};
use crate::layers::l4_transport::capture::{CaptureConfig, Lru, TransportCapture};
use crate::layers::l7_application::capture::{AppCapture, AppCaptureConfig, AppKind};
use crate::time::Instant;
use crate::trace::{Direction, Field, Record, Value};
use std::net::IpAddr;

/// The most conversations a host's tap follows at once (per transport, and for roles).
pub const MAX_CONVERSATIONS: usize = 4096;
/// The most bytes a host's tap holds beyond gaps in TCP streams, all conversations together.
pub const MAX_HELD: usize = 4 << 20;
/// The most bytes a host's tap holds for unfinished messages, all conversations together.
pub const MAX_BUFFERED: usize = 4 << 20;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const TCP: u8 = 6;
const UDP: u8 = 17;
/// TCP's SYN and ACK flag bits (RFC 9293 §3.1).
const SYN: u64 = 0x002;
const ACK: u64 = 0x010;

/// An endpoint: address and port.
type End = (IpAddr, u16);

/// One host's observer of its own frames (see the module docs).
pub struct AppTap {
    link: DataLink,
    net: Network,
    transport: TransportCapture,
    app: AppCapture,
    /// The client end (the one that opened the dialogue) of each conversation, by (IP
    /// protocol, stream index).
    openers: Lru<(u8, u32), End>,
    /// Frames fed so far.
    frames: usize,
}

impl std::fmt::Debug for AppTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppTap").field("frames", &self.frames).finish_non_exhaustive()
    }
}

impl AppTap {
    /// A tap with empty state.
    pub fn new() -> Result<AppTap> {
        let link = DataLink::new(DataLinkConfig::capture());
        let net = Network::new(NetworkConfig::capture())?;
        let transport = TransportCapture::new(CaptureConfig {
            max_conversations: MAX_CONVERSATIONS,
            reassemble_out_of_order: true,
            max_held_total: MAX_HELD,
        });
        let app =
            AppCapture::new(AppCaptureConfig { max_streams: MAX_CONVERSATIONS, max_buffered_total: MAX_BUFFERED });
        Ok(AppTap { link, net, transport, app, openers: Lru::new(MAX_CONVERSATIONS), frames: 0 })
    }

    /// One Ethernet frame (without its FCS, as a capture holds it) that the host `sent` or
    /// took in at `now`: the records above L4 it carries, L5 first, each with the direction the
    /// host handled it in. Empty when it carries no application bytes (ARP, ICMP, a bare ACK,
    /// a retransmission) or nothing can be read from it.
    pub fn observe(&mut self, frame: Vec<u8>, sent: bool, now: Instant) -> Vec<Record> {
        self.frames += 1;
        // L2–L4 only feed the analysis: their records are not kept, so they skip their text.
        let mut low = Context::new(now);
        low.detail = false;
        let whole = Pdu { data: Data::Bytes(frame), meta: Meta::default() };
        let Ok(Some(l3)) = self.link.decapsulate(whole, &mut low) else { return Vec::new() };
        if !matches!(l3.meta.ethertype, Some(ETHERTYPE_IPV4 | ETHERTYPE_IPV6)) {
            return Vec::new();
        }
        self.net.set_frame_number(self.frames);
        let Ok(Some(l4)) = self.net.decapsulate(l3, &mut low) else { return Vec::new() };
        let (proto, src, dst) = match (l4.meta.ip_proto, l4.meta.src_ip, l4.meta.dst_ip) {
            (Some(p @ (TCP | UDP)), Some(s), Some(d)) => (p, s, d),
            _ => return Vec::new(),
        };
        low.trace.records.clear();
        let up = self.transport.decapsulate(l4, &mut low);
        if let Some(r) = low.trace.records.iter().rev().find(|r| r.layer == LayerId::Transport) {
            self.note_opener(proto, src, dst, r);
        }
        let Ok(Some(piece)) = up else { return Vec::new() };
        let len = piece.len();
        let meta = piece.meta.clone();
        let mut cx = Context::new(now);
        // Capture mode never fails on what the bytes hold: malformed data is an expert item.
        let _ = self.app.decapsulate(piece, &mut cx);
        let app = cx.trace.records;
        if len == 0 && app.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(app.len() + 2);
        out.push(self.session_record(&meta, len, sent));
        if !app.is_empty() {
            let kind = meta.stream.and_then(|s| self.app.kind(proto, s)).unwrap_or(AppKind::Data);
            out.push(presentation_record(kind, len));
            out.extend(app);
        }
        let direction = if sent { Direction::Down } else { Direction::Up };
        for r in &mut out {
            r.direction = direction;
        }
        out
    }

    /// Learn who opened a conversation from its first segment seen: the sender of a SYN
    /// without ACK (RFC 9293 §3.5), the receiver of a SYN-ACK, the sender of a UDP
    /// conversation's first datagram. A TCP conversation first seen mid-stream has no known
    /// opener.
    fn note_opener(&mut self, proto: u8, src: IpAddr, dst: IpAddr, l4: &Record) {
        let name = |tcp: &'static str, udp: &'static str| if proto == TCP { tcp } else { udp };
        let (Some(stream), Some(sp), Some(dp)) = (
            number(l4, name("tcp.stream", "udp.stream")),
            number(l4, name("tcp.srcport", "udp.srcport")),
            number(l4, name("tcp.dstport", "udp.dstport")),
        ) else {
            return;
        };
        let (Ok(stream), Ok(sp), Ok(dp)) = (u32::try_from(stream), u16::try_from(sp), u16::try_from(dp)) else {
            return;
        };
        let key = (proto, stream);
        if self.openers.get_mut(&key).is_some() {
            return;
        }
        let opener = if proto == UDP {
            Some((src, sp))
        } else {
            match number(l4, "tcp.flags").map(|f| (f & SYN != 0, f & ACK != 0)) {
                Some((true, false)) => Some((src, sp)),
                Some((true, true)) => Some((dst, dp)),
                _ => None,
            }
        };
        if let Some(o) = opener {
            self.openers.insert(key, o);
        }
    }

    /// L5 in the TCP/IP model: the socket this piece went through, with the record shape of
    /// [`crate::layers::l5_session`] (no bytes added).
    fn session_record(&mut self, meta: &Meta, len: usize, sent: bool) -> Record {
        let proto = if meta.ip_proto == Some(TCP) { "TCP" } else { "UDP" };
        let end = |ip: Option<IpAddr>, port: Option<u16>| ip.zip(port);
        let (from, to) = (end(meta.src_ip, meta.src_port), end(meta.dst_ip, meta.dst_port));
        let local = if sent { from } else { to };
        let role = match (meta.ip_proto.zip(meta.stream), local) {
            (Some(key), Some(local)) => {
                self.openers.get_mut(&key).map(|o| if *o == local { "client" } else { "server" })
            }
            _ => None,
        };
        let text = |e: Option<End>| match e {
            Some((IpAddr::V6(a), p)) => format!("[{a}]:{p}"),
            Some((a, p)) => format!("{a}:{p}"),
            None => "?".into(),
        };
        let tuple = format!("{proto} {} → {}", text(from), text(to));
        let mut r = Record::new(
            LayerId::Session,
            Direction::Up,
            "session",
            "Session (TCP/IP model: the socket)",
            PduName::Data,
        );
        r.summary = match (len, meta.fin) {
            (0, true) => format!("{tuple}: end of stream (FIN)"),
            _ => format!("{tuple}, {len} bytes"),
        };
        if let Some(role) = role {
            r.summary.push_str(&format!(", {role} side"));
        }
        r.payload_len = len;
        r.fields.push(
            Field::text("session.model", "Model", "tcpip").shown("TCP/IP: layers 5–7 merged into the application"),
        );
        if let Some(role) = role {
            r.fields.push(Field::text("session.role", "Role", role));
        }
        r.fields.push(Field::text("session.tuple", "5-tuple", tuple));
        r.notes.push(
            "in TCP/IP the session layer is merged into the application: the socket holds the dialogue, and this \
             layer adds no bytes"
                .into(),
        );
        r.notes.push(format!(
            "the socket calls that moved these bytes are this device's `call` rows ({})",
            match (proto, sent) {
                ("TCP", true) => "send",
                ("TCP", false) => "recv",
                (_, true) => "sendto",
                (_, false) => "recvfrom",
            }
        ));
        r
    }
}

/// A record's numeric field, if it has one by that name.
fn number(r: &Record, name: &str) -> Option<u64> {
    match r.field(name)?.value {
        Value::Uint(v) | Value::Hex { value: v, .. } => Some(v),
        _ => None,
    }
}

/// L6 in the TCP/IP model: no header on the wire, the application's own encoding, said plainly.
fn presentation_record(kind: AppKind, len: usize) -> Record {
    let (encoding, how) = match kind {
        AppKind::Chat => ("UTF-8", "the chat program writes its lines as UTF-8 text itself (RFC 3629)"),
        AppKind::Http => (
            "ASCII text",
            "the HTTP program writes the start line and header fields as ASCII text itself (RFC 9112 §2.2); the \
             body is what its Content-Type says",
        ),
        AppKind::Dns => (
            "binary (RFC 1035)",
            "the DNS program encodes its messages itself: a binary format, names as length-prefixed labels (RFC \
             1035 §3.1, §4.1)",
        ),
        AppKind::Data => (
            "unknown",
            "osilab does not read this application (tshark shows its bytes as data): its encoding is its own",
        ),
    };
    let mut r = Record::new(
        LayerId::Presentation,
        Direction::Up,
        "presentation",
        "Presentation (TCP/IP model: done by the application)",
        PduName::Data,
    );
    r.summary = format!("{encoding}, no header: the application's own encoding");
    r.payload_len = len;
    r.fields.push(
        Field::text("presentation.model", "Model", "tcpip").shown("TCP/IP: the application does its own presentation"),
    );
    r.fields.push(Field::text("presentation.encoding", "Encoding", encoding));
    r.notes.push(how.into());
    r
}

/// The Info column of a frame whose application records are `upper`: the summaries of its
/// application's messages (several joined by ", "), or `None` when there are none (no
/// message, or bytes shown only as `data`, where tshark's Info column keeps the transport's
/// line).
pub fn info(upper: &[Record]) -> Option<String> {
    let mut parts = upper
        .iter()
        .filter(|r| r.layer == LayerId::Application && r.protocol != "data" && !r.summary.is_empty())
        .map(|r| r.summary.as_str());
    let first = parts.next()?;
    Some(parts.fold(first.to_string(), |mut s, p| {
        s.push_str(", ");
        s.push_str(p);
        s
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(layer: LayerId, protocol: &'static str, summary: &str) -> Record {
        let mut r = Record::new(layer, Direction::Up, protocol, protocol, PduName::Data);
        r.summary = summary.into();
        r
    }

    #[test]
    fn the_info_column_is_the_messages_not_the_data_or_the_socket() {
        let l7 = LayerId::Application;
        let session = rec(LayerId::Session, "session", "TCP 192.0.2.1:1 → 192.0.2.2:3000, 9 bytes");
        let data = rec(l7, "data", "9 bytes: \"JOIN bob\\n\"");
        assert_eq!(info(&[session.clone(), data.clone()]), None, "bytes shown as data keep the transport's line");
        let two = [session, data, rec(l7, "chat", "JOIN bob"), rec(l7, "chat", "MSG \"hi\"")];
        assert_eq!(info(&two).as_deref(), Some("JOIN bob, MSG \"hi\""));
        assert_eq!(info(&[]), None);
    }

    #[test]
    fn a_frame_that_is_not_ip_or_not_a_frame_gives_nothing() {
        let mut tap = AppTap::new().unwrap();
        assert!(tap.observe(Vec::new(), true, Instant::ZERO).is_empty());
        assert!(tap.observe(vec![0xff; 7], false, Instant::ZERO).is_empty());
        // An ARP request (broadcast, EtherType 0x0806): L2 only.
        let mut arp = vec![0xff; 6];
        arp.extend([0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
        arp.extend([0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2]);
        arp.resize(60, 0);
        assert!(tap.observe(arp, true, Instant::ZERO).is_empty());
    }
}
