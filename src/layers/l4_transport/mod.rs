//! L4 transport: UDP and TCP wire formats, with checksums over the IP pseudo-header, and data
//! transfer on an established TCP connection.
//!
//! Read first: RFC 768 (UDP), RFC 9293 §3.1 (the TCP header), §3.4 (sequence numbers) and
//! §3.10.7.4 (a segment arrives), RFC 7323 (timestamps, window scale), RFC 2018 (SACK),
//! RFC 1071 (the Internet checksum), RFC 8200 §8.1 (the IPv6 pseudo-header).
//!
//! Map: [`checksum`] (pseudo-header checksum), [`udp`] ([`UdpDatagram`]), [`tcp`]
//! ([`TcpSegment`], [`TcpFlags`]), [`options`] ([`TcpOption`]), [`reassembly`] ([`RecvQueue`]:
//! RCV.NXT and the segments held out of order), [`conn`] ([`TcpConn`]: the connection state
//! machine of RFC 9293, sans-I/O, with RFC 6298 retransmission and RFC 5681 congestion control,
//! driven by the host of `osilab simulate`). The [`Transport`] layer itself sends and receives
//! data segments on a connection taken as established, in the state [`TcpParams`] gives.
//!
//! Capture mode ([`capture`], `osilab dissect`): the same segment code observes conversations in
//! a capture, as Wireshark does, instead of receiving on one socket: [`TransportCapture`] keeps a
//! capture-mode [`Transport`] per direction of every TCP conversation.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `TransportKind`, `TcpParams`, `TransportConfig`, `Transport::new(cfg) -> Result<Transport>`,
//!   `impl Layer for Transport`
//! - `TransportCapture::new(CaptureConfig) `, `impl Layer for TransportCapture`, `Piece::of(&Meta)`

pub mod capture;
#[cfg(test)]
mod capture_tests;
pub mod checksum;
pub mod conn;
pub mod options;
pub mod reassembly;
pub mod tcp;
#[cfg(test)]
mod tests;
pub mod udp;

pub use capture::{CaptureConfig, Piece, TransportCapture};
pub use checksum::ChecksumStatus;
pub use conn::{reset_for, ConnConfig, ConnEvent, ConnStats, SockError, TcpConn, TcpState};
pub use options::TcpOption;
pub use reassembly::RecvQueue;
pub use tcp::{RelativeTo, TcpFlags, TcpParsed, TcpSegment, TcpView};
pub use udp::{UdpDatagram, UdpParsed, UdpView};

use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Meta, Part, Pdu, PduName};
use crate::trace::{text_if, Check, Direction, Field, Record};
use checksum::{IP_PROTO_TCP, IP_PROTO_UDP};
use reassembly::Arrival;
use serde::Serialize;
use std::net::IpAddr;

/// Which transport carries the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// TCP (RFC 9293): segments on an established connection.
    Tcp,
    /// UDP (RFC 768): one datagram.
    Udp,
    /// No transport header: the message rides in an ICMP echo at L3 (ping).
    Icmp,
}

impl TransportKind {
    /// "TCP", "UDP" or "ICMP".
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Tcp => "TCP",
            TransportKind::Udp => "UDP",
            TransportKind::Icmp => "ICMP",
        }
    }
}

/// The TCP connection state a data segment is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TcpParams {
    /// SND.NXT: the sequence number of the first byte sent.
    pub snd_nxt: u32,
    /// RCV.NXT: the next sequence number expected from the peer (sent as the ACK number).
    pub rcv_nxt: u32,
    /// The receive window advertised (unscaled header value).
    pub window: u16,
    /// The peer's MSS: the largest payload of one segment.
    pub mss: u16,
    /// Send the RFC 7323 timestamps option on each segment.
    pub timestamps: bool,
    /// TS.Recent: the TSecr to echo.
    pub ts_recent: u32,
}

/// L4 configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransportConfig {
    /// TCP, UDP or none (ICMP).
    pub kind: TransportKind,
    /// This endpoint's address (for the pseudo-header).
    pub local_ip: IpAddr,
    /// This endpoint's port.
    pub local_port: u16,
    /// The peer's address.
    pub remote_ip: IpAddr,
    /// The peer's port.
    pub remote_port: u16,
    /// TCP connection state (ignored for UDP).
    pub tcp: TcpParams,
    /// Capture mode: observe one direction of a conversation in a capture (the addresses and
    /// ports are the segments' receiver as local, their sender as remote) instead of receiving on
    /// a socket: no port is refused, a bad checksum is reported and the segment still goes up,
    /// the sequence space is learned from the segments seen, no receive window is enforced. See
    /// [`capture`].
    pub capture: bool,
}

/// The largest IPv4 datagram payload: the 16-bit total length minus the 20-byte header without
/// options (RFC 791 §3.1).
pub const MAX_IPV4_PAYLOAD: usize = 65535 - 20;
/// The largest IPv6 payload without a jumbogram: the 16-bit payload length (RFC 8200 §3).
pub const MAX_IPV6_PAYLOAD: usize = 65535;

/// The transport layer.
#[derive(Debug, Clone)]
pub struct Transport {
    cfg: TransportConfig,
    /// SND.NXT: the sequence number of the next byte sent (RFC 9293 §3.3.1).
    snd_nxt: u32,
    /// RCV.NXT and the segments held out of order.
    recv: RecvQueue,
    /// TS.Recent: the peer's latest TSval, echoed as TSecr (RFC 7323 §4.3).
    ts_recent: u32,
    /// Capture mode: what was learned about this direction's sender.
    flow: capture::Flow,
    /// Capture mode: what was learned about the reverse direction (kept in step by
    /// [`TransportCapture`] when it watches both).
    peer: capture::Flow,
}

fn config_error(msg: impl Into<String>) -> Error {
    Error::config(Some(LayerId::Transport), msg)
}

impl Transport {
    /// A transport layer with this configuration, or a config error: the two addresses of
    /// different families (the pseudo-header holds one family), a remote port of 0 for TCP or UDP
    /// (port 0 is reserved and cannot be a destination), a TCP local port of 0, a TCP MSS of 0.
    pub fn new(cfg: TransportConfig) -> Result<Self> {
        if cfg.local_ip.is_ipv4() != cfg.remote_ip.is_ipv4() {
            return Err(config_error(format!(
                "local address {} and remote address {} are of different IP versions: the checksum's \
                 pseudo-header holds one family",
                cfg.local_ip, cfg.remote_ip
            )));
        }
        if cfg.capture {
            // An observer refuses nothing a sender may put on the wire: port 0 and any MSS are
            // reported, not refused; the receive queue is set up from the first segment seen.
            return Ok(Transport {
                snd_nxt: 0,
                recv: RecvQueue::new(0, capture::OBSERVED_WINDOW),
                ts_recent: 0,
                flow: capture::Flow::default(),
                peer: capture::Flow::default(),
                cfg,
            });
        }
        if cfg.kind != TransportKind::Icmp && cfg.remote_port == 0 {
            return Err(config_error("remote port 0 is reserved and cannot be a destination port"));
        }
        if cfg.kind == TransportKind::Tcp {
            if cfg.local_port == 0 {
                return Err(config_error("TCP local port 0 is reserved (RFC 9293 §3.1 needs a port)"));
            }
            if cfg.tcp.mss == 0 {
                return Err(config_error("TCP MSS 0 would carry no data: give an MSS of at least 1"));
            }
        }
        Ok(Transport {
            snd_nxt: cfg.tcp.snd_nxt,
            recv: RecvQueue::new(cfg.tcp.rcv_nxt, u32::from(cfg.tcp.window)),
            ts_recent: cfg.tcp.ts_recent,
            flow: capture::Flow::default(),
            peer: capture::Flow::default(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.cfg
    }

    /// SND.NXT: the sequence number the next byte sent will carry.
    pub fn snd_nxt(&self) -> u32 {
        self.snd_nxt
    }

    /// RCV.NXT: the sequence number expected next from the peer (sent as the ACK number).
    pub fn rcv_nxt(&self) -> u32 {
        self.recv.rcv_nxt()
    }

    /// TS.Recent: the TSecr the next segment echoes.
    pub fn ts_recent(&self) -> u32 {
        self.ts_recent
    }

    /// Bytes received out of order and held until the gap before them is filled.
    pub fn held_bytes(&self) -> usize {
        self.recv.held_bytes()
    }

    /// Numbers relative to the initial sequence numbers, as Wireshark shows them: the state in
    /// the config is the first after the handshake, so ISS = snd_nxt − 1 and IRS = rcv_nxt − 1.
    fn relative_sent(&self) -> RelativeTo {
        RelativeTo { seq: self.cfg.tcp.snd_nxt.wrapping_sub(1), ack: self.cfg.tcp.rcv_nxt.wrapping_sub(1) }
    }

    fn relative_received(&self) -> RelativeTo {
        RelativeTo { seq: self.cfg.tcp.rcv_nxt.wrapping_sub(1), ack: self.cfg.tcp.snd_nxt.wrapping_sub(1) }
    }

    /// The largest transport PDU one IP datagram holds with these addresses.
    fn max_ip_payload(&self) -> usize {
        if self.cfg.local_ip.is_ipv4() {
            MAX_IPV4_PAYLOAD
        } else {
            MAX_IPV6_PAYLOAD
        }
    }

    fn down_meta(&self, mut meta: Meta, proto: Option<u8>) -> Meta {
        meta.ip_proto = proto;
        meta.src_ip = Some(self.cfg.local_ip);
        meta.dst_ip = Some(self.cfg.remote_ip);
        meta.part = None;
        meta
    }

    /// The addresses of the pseudo-header on the receive path: from L3's meta, else the config's.
    fn up_addresses(&self, meta: &Meta) -> (IpAddr, IpAddr) {
        (meta.src_ip.unwrap_or(self.cfg.remote_ip), meta.dst_ip.unwrap_or(self.cfg.local_ip))
    }

    /// RFC 9293 §3.10.7.1 / RFC 1122 §4.1.3.1: a segment for a port with no socket is refused.
    fn check_port(&self, dst_port: u16, offset: usize, proto: &'static str) -> Result<()> {
        if dst_port == self.cfg.local_port {
            return Ok(());
        }
        let answer = if proto == "TCP" { "would answer RST" } else { "would answer ICMP port unreachable" };
        Err(Error::invalid(
            LayerId::Transport,
            proto,
            offset + 2,
            format!("{proto} destination port"),
            format!("{} (the local socket)", self.cfg.local_port),
            format!("{dst_port}: no socket on port {dst_port}: the host {answer}"),
        ))
    }

    fn check_proto(&self, meta: &Meta) -> Result<()> {
        let (want, name) = match self.cfg.kind {
            TransportKind::Tcp => (IP_PROTO_TCP, "TCP"),
            TransportKind::Udp => (IP_PROTO_UDP, "UDP"),
            TransportKind::Icmp => {
                // Only an ICMP / ICMPv6 echo's data may come up here; any other protocol has no
                // handler on this host (it would answer "protocol unreachable", RFC 1122 §3.2.2.1).
                return match meta.ip_proto {
                    Some(1 | 58) => Ok(()),
                    other => Err(Error::invalid(
                        LayerId::Transport,
                        "none",
                        meta.offset,
                        "IP protocol",
                        "1 or 58: an ICMP echo's data (no transport layer is configured)",
                        match other {
                            Some(p) => p.to_string(),
                            None => "none (L3 did not say)".into(),
                        },
                    )),
                };
            }
        };
        if meta.ip_proto == Some(want) {
            return Ok(());
        }
        Err(Error::invalid(
            LayerId::Transport,
            name,
            meta.offset,
            "IP protocol",
            format!("{want} ({name}, the configured transport)"),
            match meta.ip_proto {
                Some(p) => p.to_string(),
                None => "none (L3 did not say)".into(),
            },
        ))
    }

    fn encapsulate_udp(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Vec<Pdu>> {
        let max = self.max_ip_payload() - udp::HEADER_LEN;
        if bytes.len() > max {
            let family = if self.cfg.local_ip.is_ipv4() { "IPv4" } else { "IPv6" };
            return Err(Error::invalid(
                LayerId::Transport,
                "UDP",
                None,
                "UDP payload length",
                format!("at most {max} bytes (one {family} datagram; UDP does not segment)"),
                format!("{} bytes", bytes.len()),
            ));
        }
        let dgram = UdpDatagram { src_port: self.cfg.local_port, dst_port: self.cfg.remote_port, payload: bytes };
        let wire = dgram.emit(self.cfg.local_ip, self.cfg.remote_ip)?;
        // The fields are read back from the bytes sent, as on the receive path.
        let view = UdpView::new(&wire, 0)?;
        let mut r = Record::new(
            LayerId::Transport,
            Direction::Down,
            "udp",
            udp::title(dgram.src_port, dgram.dst_port),
            PduName::Datagram,
        );
        r.summary = udp::summary(dgram.src_port, dgram.dst_port, dgram.payload.len());
        r.header = 0..udp::HEADER_LEN;
        r.payload_len = dgram.payload.len();
        r.overhead = udp::HEADER_LEN;
        r.fields = udp::header_fields(view.src_port(), view.dst_port(), view.length(), view.checksum());
        cx.trace.push(r);
        Ok(vec![Pdu { data: Data::Bytes(wire), meta: self.down_meta(meta, Some(IP_PROTO_UDP)) }])
    }

    fn encapsulate_tcp(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Vec<Pdu>> {
        let mss = usize::from(self.cfg.tcp.mss).max(1);
        // An empty SDU still goes out: one segment with PSH and no data.
        let chunks: Vec<&[u8]> = if bytes.is_empty() { vec![&[]] } else { bytes.chunks(mss).collect() };
        let count = chunks.len();
        let rel = self.relative_sent();
        let mut seq = self.snd_nxt;
        let mut out = Vec::with_capacity(count);
        let mut records = Vec::with_capacity(count);
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == count;
            let mut flags = TcpFlags::ACK;
            if last {
                // RFC 9293 §3.9.1: the sender sets PSH on the last segment of what the application
                // handed over, so the receiver delivers it promptly.
                flags |= TcpFlags::PSH;
            }
            let ts = self.cfg.tcp.timestamps.then(|| (cx.now.as_millis_u32(), self.ts_recent));
            let seg = TcpSegment {
                src_port: self.cfg.local_port,
                dst_port: self.cfg.remote_port,
                seq,
                ack: self.recv.rcv_nxt(),
                flags,
                window: self.cfg.tcp.window,
                urgent: 0,
                options: TcpOption::linux_established(ts, &[]),
                payload: chunk.to_vec(),
            };
            let hlen = seg.header_len().unwrap_or(tcp::MIN_HEADER_LEN);
            if hlen + chunk.len() > self.max_ip_payload() {
                return Err(Error::invalid(
                    LayerId::Transport,
                    "TCP",
                    None,
                    "TCP segment length",
                    format!(
                        "at most {} bytes (one IP datagram): lower the MSS below {}",
                        self.max_ip_payload(),
                        self.cfg.tcp.mss
                    ),
                    format!("{} bytes", hlen + chunk.len()),
                ));
            }
            let wire = seg.emit(self.cfg.local_ip, self.cfg.remote_ip)?;
            // The fields are read from the bytes sent, as on the receive path.
            let view = TcpView::new(&wire, 0)?;
            let part = (count > 1).then_some(Part { index: i + 1, count });
            let mut r = Record::new(LayerId::Transport, Direction::Down, "tcp", seg.title(Some(rel)), PduName::Segment);
            r.summary = seg.summary(Some(rel));
            r.part = part;
            r.header = 0..view.header_len();
            r.payload_len = chunk.len();
            r.overhead = view.header_len();
            r.fields = seg.fields(&view, Some(rel), true);
            if count > 1 && i == 0 {
                r.notes.push(format!(
                    "the {}-byte message is cut into {count} segments of at most MSS {} bytes; PSH only on the last",
                    bytes.len(),
                    self.cfg.tcp.mss
                ));
            }
            records.push(r);
            let mut m = self.down_meta(meta.clone(), Some(IP_PROTO_TCP));
            m.part = part;
            out.push(Pdu { data: Data::Bytes(wire), meta: m });
            seq = seq.wrapping_add(chunk.len() as u32);
        }
        // Commit only once every segment was built.
        self.snd_nxt = seq;
        records.into_iter().for_each(|r| cx.trace.push(r));
        Ok(out)
    }

    fn decapsulate_udp(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
        let off = meta.offset;
        let (src, dst) = self.up_addresses(&meta);
        let view = UdpView::new(&bytes, off)?;
        let status = view.verify(src, dst)?;
        let mut r = Record::new(
            LayerId::Transport,
            Direction::Up,
            "udp",
            udp::title(view.src_port(), view.dst_port()),
            PduName::Datagram,
        );
        r.summary = udp::summary(view.src_port(), view.dst_port(), view.payload().len());
        r.header = 0..udp::HEADER_LEN;
        r.payload_len = view.payload().len();
        r.overhead = udp::HEADER_LEN;
        r.fields = udp::header_fields(view.src_port(), view.dst_port(), view.length(), view.checksum());
        r.checks.push(Check::new("udp.checksum.status", "Checksum", status.is_acceptable(), status.detail()));
        if view.trimmed() > 0 {
            r.notes.push(format!(
                "{} bytes after the datagram's length ({}) are not part of it and were dropped",
                view.trimmed(),
                view.length()
            ));
        }
        let at = off + udp::field::CHECKSUM.start;
        let err = match status {
            ChecksumStatus::Good { .. } => None,
            ChecksumStatus::NotComputed => {
                r.notes.push("checksum 0: the sender computed none (RFC 768 allows this over IPv4); accepted".into());
                None
            }
            ChecksumStatus::Bad { carried, computed } => {
                Some(Error::checksum(LayerId::Transport, "UDP", at, "UDP checksum", computed.into(), carried.into(), 2))
            }
            ChecksumStatus::Missing { computed } => Some(Error::invalid(
                LayerId::Transport,
                "UDP",
                at,
                "UDP checksum",
                format!("0x{computed:04x}: over IPv6 the checksum is mandatory (RFC 8200 §8.1)"),
                "0x0000 (none computed)",
            )),
        };
        let err = err.or_else(|| self.check_port(view.dst_port(), off, "UDP").err());
        if let Some(e) = err {
            r.notes.push(format!("discarded: {e}"));
            cx.trace.push(r);
            return Err(e);
        }
        cx.trace.push(r);
        let payload = view.payload().to_vec();
        let mut meta = meta;
        meta.offset = off + udp::HEADER_LEN;
        meta.part = None;
        Ok(Some(Pdu { data: Data::Bytes(payload), meta }))
    }

    fn decapsulate_tcp(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
        let off = meta.offset;
        let (src, dst) = self.up_addresses(&meta);
        let rel = self.relative_received();
        let view = TcpView::new(&bytes, off)?;
        let status = view.verify(src, dst)?;
        let parsed = TcpSegment::from_view(&view);
        let mut r = tcp_up_record(&view, parsed.as_ref().ok(), Some(rel), true, false, &mut |_, _| {});
        r.checks.push(Check::new("tcp.checksum.status", "Checksum", status.is_acceptable(), status.detail()));
        // RFC 9293 §3.10.7.4 / RFC 1122 §4.2.2.7: a segment with a bad checksum is discarded.
        if let ChecksumStatus::Bad { carried, computed } = status {
            let e = Error::checksum(
                LayerId::Transport,
                "TCP",
                off + tcp::field::CHECKSUM.start,
                "TCP checksum",
                computed.into(),
                carried.into(),
                2,
            );
            r.notes.push(format!("discarded: {e}"));
            cx.trace.push(r);
            return Err(e);
        }
        let seg = match parsed {
            Ok(seg) => seg,
            Err(e) => {
                r.notes.push(format!("discarded: {e}"));
                cx.trace.push(r);
                return Err(e);
            }
        };
        if let Err(e) = self.check_port(seg.dst_port, off, "TCP") {
            r.notes.push(format!("discarded: {e}"));
            cx.trace.push(r);
            return Err(e);
        }
        let delivered = self.receive_segment(&seg, &mut r);
        cx.trace.push(r);
        Ok(delivered.map(|data| {
            let mut meta = meta;
            meta.offset = off + view.header_len();
            meta.part = None;
            Pdu { data: Data::Bytes(data), meta }
        }))
    }

    /// RFC 9293 §3.10.7.4 for a synchronized connection: returns the bytes that go up now, and
    /// says what happened in the record's notes. The steps run in the RFC's order: the sequence
    /// number (acceptability), RST, SYN, the ACK field, then the segment text and FIN.
    fn receive_segment(&mut self, seg: &TcpSegment, r: &mut Record) -> Option<Vec<u8>> {
        let rcv_nxt = self.recv.rcv_nxt();
        let rel = |s: u32| s.wrapping_sub(self.cfg.tcp.rcv_nxt.wrapping_sub(1));
        let rst = seg.flags.contains(TcpFlags::RST);
        // First step, "check sequence number": SEG.LEN counts the data and one for each of SYN
        // and FIN (RFC 9293 §3.4).
        let seg_len = seg.payload.len() as u32
            + u32::from(seg.flags.contains(TcpFlags::SYN))
            + u32::from(seg.flags.contains(TcpFlags::FIN));
        if !self.recv.acceptable(seg.seq, seg_len) {
            r.notes.push(self.unacceptable_note(seg, seg_len, rst));
            return None;
        }
        if rst || seg.flags.contains(TcpFlags::SYN) {
            r.notes.push(format!(
                "{} on an established connection: handled by the connection state machine (not built yet); \
                 no data delivered",
                if rst { "RST" } else { "SYN" }
            ));
            return None;
        }
        // Fifth step: "if the ACK bit is off, drop the segment and return".
        if !seg.flags.contains(TcpFlags::ACK) {
            r.notes.push("ACK bit off on an established connection: dropped (RFC 9293 §3.10.7.4)".into());
            return None;
        }
        // Fifth step, ESTABLISHED: "If the ACK acknowledges something not yet sent (SEG.ACK >
        // SND.NXT), then send an ACK, drop the segment, and return" (RFC 9293 §3.10.7.4).
        if reassembly::seq_lt(self.snd_nxt, seg.ack) {
            r.notes.push(format!(
                "ACK {} (relative {}) acknowledges data never sent: SND.NXT is {} (relative {}): dropped; \
                 a real TCP would answer with an ACK (RFC 9293 §3.10.7.4)",
                seg.ack,
                seg.ack.wrapping_sub(self.cfg.tcp.snd_nxt.wrapping_sub(1)),
                self.snd_nxt,
                self.snd_nxt.wrapping_sub(self.cfg.tcp.snd_nxt.wrapping_sub(1)),
            ));
            return None;
        }
        // RFC 7323 §4.3: remember the peer's TSval to echo, from acceptable segments that are in
        // order.
        if let Some((tsval, _)) = seg.timestamps() {
            if reassembly::seq_le(seg.seq, rcv_nxt) && reassembly::seq_le(self.ts_recent, tsval) {
                self.ts_recent = tsval;
            }
        }
        let fin = seg.flags.contains(TcpFlags::FIN);
        let data = if seg.payload.is_empty() {
            if seg.seq != rcv_nxt {
                r.notes.push(format!(
                    "no data, seq {} (relative {}) is not RCV.NXT {} (relative {}): nothing to deliver",
                    seg.seq,
                    rel(seg.seq),
                    rcv_nxt,
                    rel(rcv_nxt)
                ));
                return None;
            }
            if seg.flags.contains(TcpFlags::PSH) {
                r.notes.push("no data, PSH: an empty message is delivered".into());
                Some(Vec::new())
            } else {
                r.notes.push("no data: an acknowledgment only".into());
                None
            }
        } else {
            let end = seg.seq.wrapping_add(seg.payload.len() as u32);
            match self.recv.arrive(seg.seq, &seg.payload) {
                Arrival::Deliver { data, own, from_held, trimmed } => {
                    if trimmed > 0 {
                        r.notes.push(format!("the first {trimmed} bytes were received already and are trimmed"));
                    }
                    if from_held > 0 {
                        r.notes.push(format!(
                            "in order: {own} bytes from this segment and {} from {from_held} held segment(s) \
                             delivered; RCV.NXT is now {} (relative {})",
                            data.len() - own,
                            self.recv.rcv_nxt(),
                            rel(self.recv.rcv_nxt())
                        ));
                    } else {
                        r.notes.push(format!(
                            "in order: {own} bytes delivered; RCV.NXT is now {} (relative {})",
                            self.recv.rcv_nxt(),
                            rel(self.recv.rcv_nxt())
                        ));
                    }
                    Some(data)
                }
                Arrival::Held { waiting_for } => {
                    r.notes.push(format!(
                        "out of order: held until seq {waiting_for} (relative {}) arrives",
                        rel(waiting_for)
                    ));
                    return None;
                }
                Arrival::DuplicateOfHeld { waiting_for } => {
                    r.notes.push(format!(
                        "duplicate of held data: seq {}..{} (relative {}..{}) is held already, still waiting \
                         for seq {waiting_for} (relative {}); not stored again",
                        seg.seq,
                        end,
                        rel(seg.seq),
                        rel(end),
                        rel(waiting_for)
                    ));
                    return None;
                }
                // Data wholly before RCV.NXT with its FIN at RCV.NXT (the only acceptable way to
                // get here): nothing to deliver, the FIN below still counts.
                Arrival::Duplicate => {
                    r.notes.push(format!(
                        "duplicate: seq {}..{} (relative {}..{}) was delivered already (a retransmission)",
                        seg.seq,
                        end,
                        rel(seg.seq),
                        rel(end)
                    ));
                    None
                }
                // Checked above; kept so that the queue's own answer is never lost.
                Arrival::OutsideWindow => {
                    r.notes.push(self.unacceptable_note(seg, seg_len, false));
                    return None;
                }
                Arrival::Dropped => {
                    r.notes.push(format!(
                        "out of order, and {} bytes are held already: dropped (the sender will retransmit)",
                        self.recv.held_bytes()
                    ));
                    return None;
                }
            }
        };
        // A FIN takes one sequence number after the data (RFC 9293 §3.4) when it arrives in order.
        if fin && seg.seq.wrapping_add(seg.payload.len() as u32) == self.recv.rcv_nxt() {
            self.recv.advance(1);
            r.notes.push("FIN: the peer has no more data to send (closing is the state machine's job)".into());
        }
        data
    }

    /// Why a segment failed RFC 9293 §3.10.7.4's acceptability test: "seq a..b (relative ..)
    /// … outside the receive window [RCV.NXT, RCV.NXT+RCV.WND): dropped; …".
    fn unacceptable_note(&self, seg: &TcpSegment, seg_len: u32, rst: bool) -> String {
        let rel = |s: u32| s.wrapping_sub(self.cfg.tcp.rcv_nxt.wrapping_sub(1));
        let (lo, hi) = self.recv.window();
        let end = seg.seq.wrapping_add(seg_len);
        let what = if seg_len == 0 {
            format!("seq {} (relative {}), no data,", seg.seq, rel(seg.seq))
        } else if reassembly::seq_le(end, lo) {
            // RFC 9293 §3.10.7.4: old duplicates are unacceptable too; the ACK a real TCP sends
            // tells the peer what did arrive.
            format!(
                "duplicate: seq {}..{} (relative {}..{}) was delivered already (a retransmission),",
                seg.seq,
                end,
                rel(seg.seq),
                rel(end)
            )
        } else {
            format!("seq {}..{} (relative {}..{})", seg.seq, end, rel(seg.seq), rel(end))
        };
        let zero =
            if self.recv.rcv_wnd() == 0 { " (the window is zero: only an empty segment at RCV.NXT fits)" } else { "" };
        // "If an incoming segment is not acceptable, an acknowledgment should be sent in reply
        // (unless the RST bit is set, if so drop the segment and return)".
        let answer = if rst { "an RST is never answered" } else { "a real TCP would answer with an ACK" };
        format!("{what} outside the receive window [{lo}, {hi}): dropped; {answer}{zero}")
    }
}

/// The record of a received segment: title, byte ranges, summary and fields (with relative
/// sequence numbers when `rel` is known); without `seg` (its options did not parse) only the
/// title and ranges. Without `detail`, no human text ([`Context::detail`]). `options_read` and
/// `more` as for [`TcpSegment::fields_with`].
fn tcp_up_record(
    view: &TcpView<'_>,
    seg: Option<&TcpSegment>,
    rel: Option<RelativeTo>,
    detail: bool,
    options_read: bool,
    more: &mut dyn FnMut(&'static str, &mut Vec<Field>),
) -> Record {
    let title = text_if(detail, || match seg {
        Some(seg) => seg.title(rel),
        None => format!("Transmission Control Protocol, Src Port: {}, Dst Port: {}", view.src_port(), view.dst_port()),
    });
    let mut r = Record::new(LayerId::Transport, Direction::Up, "tcp", title, PduName::Segment);
    r.header = 0..view.header_len();
    r.payload_len = view.payload().len();
    r.overhead = view.header_len();
    if let Some(seg) = seg {
        r.summary = text_if(detail, || seg.summary(rel));
        r.fields = seg.fields_with(view, rel, detail, options_read, more);
        let junk = options::nonzero_padding(&seg.options, view.options_bytes());
        if junk > 0 && detail {
            r.notes.push(format!(
                "the {junk} bytes of padding after End of Option List are not zero (RFC 9293 §3.1: \
                 \"The padding is composed of zeros.\"): ignored; Wireshark marks them \
                 \"Non-zero header padding\""
            ));
        }
    }
    r
}

fn icmp_record(direction: Direction, len: usize) -> Record {
    let mut r = Record::new(
        LayerId::Transport,
        direction,
        "none",
        "No transport layer: the message rides in an ICMP echo, directly on IP",
        PduName::Data,
    );
    r.summary = format!("no transport header, {len} bytes");
    r.payload_len = len;
    r.notes.push("ping has no ports and no transport header: L3 carries the data in an ICMP echo".into());
    r
}

impl Layer for Transport {
    fn id(&self) -> LayerId {
        LayerId::Transport
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        let (bytes, meta) = sdu.into_bytes(LayerId::Transport)?;
        match self.cfg.kind {
            TransportKind::Udp => self.encapsulate_udp(bytes, meta, cx),
            TransportKind::Tcp => self.encapsulate_tcp(bytes, meta, cx),
            TransportKind::Icmp => {
                cx.trace.push(icmp_record(Direction::Down, bytes.len()));
                Ok(vec![Pdu { data: Data::Bytes(bytes), meta: self.down_meta(meta, None) }])
            }
        }
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(LayerId::Transport)?;
        if self.cfg.capture {
            return self.observe(bytes, meta, cx);
        }
        self.check_proto(&meta)?;
        match self.cfg.kind {
            TransportKind::Udp => self.decapsulate_udp(bytes, meta, cx),
            TransportKind::Tcp => self.decapsulate_tcp(bytes, meta, cx),
            TransportKind::Icmp => {
                cx.trace.push(icmp_record(Direction::Up, bytes.len()));
                Ok(Some(Pdu { data: Data::Bytes(bytes), meta }))
            }
        }
    }

    fn holding(&self) -> bool {
        self.held_bytes() > 0
    }

    /// The stream ended with data held out of order: the bytes before it never came. In capture
    /// mode that is reported as an expert item, not an error.
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        if self.cfg.capture {
            self.observe_finish(cx);
            return Ok(());
        }
        let held = self.held_bytes();
        if held == 0 {
            return Ok(());
        }
        let mut r = Record::new(LayerId::Transport, Direction::Up, "tcp", "TCP stream incomplete", PduName::Segment);
        r.summary = format!("{held} bytes held out of order, waiting for seq {} that never came", self.rcv_nxt());
        cx.trace.push(r);
        Err(Error::invalid(
            LayerId::Transport,
            "TCP",
            None,
            "byte stream (RFC 9293 §3.10.7.4: data is delivered in order)",
            format!("the bytes from seq {}", self.rcv_nxt()),
            format!("the stream ended with {held} bytes held after a gap"),
        ))
    }
}
