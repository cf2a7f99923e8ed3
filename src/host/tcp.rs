//! TCP on a host: the connections (each a [`TcpConn`] state machine, RFC 9293), found by their
//! 4-tuple; listeners that turn a SYN into a new connection (§3.10.7.2) while their backlog has
//! room; RST for a segment no socket wants (§3.10.7.1); and the socket calls on stream sockets.

use super::socket::{PortEntry, SockError, SockEvent, SockState, SockType};
use super::{Host, NoteKind};
use crate::layer::{Context, LayerId, Meta, PduName};
use crate::layers::l4_transport::conn::{reset_for, ConnConfig, ConnEvent, TcpConn, TcpState};
use crate::layers::l4_transport::{RelativeTo, TcpSegment, TcpView};
use crate::time::Instant;
use crate::trace::{Check, Direction, Record, Trace};
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};

type SysResult<T> = std::result::Result<T, SockError>;

struct Entry {
    conn: TcpConn,
    /// The socket that owns it (None once closed by the process, or before `accept`).
    sock: Option<usize>,
    /// The listening socket it came from, until accepted.
    listener: Option<usize>,
    /// Queued on the listener's accept queue already.
    queued: bool,
    /// The peer's FIN has been received: reads return end of file once the data is read.
    eof: bool,
    /// A hard error to report.
    error: Option<SockError>,
    /// When its next timer is due (mirrors `conn.poll_timeout()`).
    deadline: Option<Instant>,
}

/// The host's TCP connections.
#[derive(Default)]
pub(super) struct Connections {
    entries: Vec<Option<Entry>>,
    by_tuple: HashMap<(SocketAddr, SocketAddr), usize>,
    /// Connections not yet accepted, by the listening socket they came to: the listen queue
    /// whose length the backlog bounds (RFC 9293 §3.10.7.2), without a scan of every connection.
    pending: HashMap<usize, BTreeSet<usize>>,
    /// How many connections each local port has (for `port_in_use` without a scan).
    local_ports: HashMap<u16, usize>,
    /// Connections touched since the last flush.
    dirty: BTreeSet<usize>,
    /// (deadline, connection) for every connection with a timer.
    timers: BTreeSet<(Instant, usize)>,
    free: Vec<usize>,
    /// Retransmissions so far (for the summary): by timeout, fast.
    pub retransmissions: u64,
}

impl Connections {
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|t| t.0)
    }

    fn insert(&mut self, e: Entry) -> usize {
        let key = (e.conn.local(), e.conn.remote());
        let listener = e.listener;
        let i = match self.free.pop() {
            Some(i) => {
                self.entries[i] = Some(e);
                i
            }
            None => {
                self.entries.push(Some(e));
                self.entries.len() - 1
            }
        };
        if self.by_tuple.insert(key, i).is_none() {
            *self.local_ports.entry(key.0.port()).or_default() += 1;
        }
        if let Some(l) = listener {
            self.pending.entry(l).or_default().insert(i);
        }
        self.dirty.insert(i);
        i
    }

    /// Connection `c` leaves its listener's queue (accepted, or the listener closed).
    fn detach(&mut self, c: usize) {
        if let Some(l) = self.get(c).and_then(|e| e.listener.take()) {
            self.unpend(l, c);
        }
    }

    /// Forget that connection `c` waits on listener `l`.
    fn unpend(&mut self, l: usize, c: usize) {
        if let Some(set) = self.pending.get_mut(&l) {
            set.remove(&c);
            if set.is_empty() {
                self.pending.remove(&l);
            }
        }
    }

    /// Connections waiting on listening socket `l` to be accepted, in index order.
    fn pending_on(&self, l: usize) -> impl Iterator<Item = usize> + '_ {
        self.pending.get(&l).into_iter().flatten().copied()
    }

    fn get(&mut self, i: usize) -> Option<&mut Entry> {
        self.entries.get_mut(i).and_then(Option::as_mut)
    }

    pub(super) fn port_in_use(&self, port: u16) -> bool {
        self.local_ports.contains_key(&port)
    }

    /// (ss state, Recv-Q, Send-Q) of connection `c`.
    pub(super) fn queue_sizes(&self, c: usize) -> (String, usize, usize) {
        match self.entries.get(c).and_then(Option::as_ref) {
            Some(e) => (e.conn.state().ss_name().to_string(), e.conn.recv_queue(), e.conn.send_queue()),
            None => ("CLOSE".into(), 0, 0),
        }
    }

    /// Connections no process holds any more (closing, TIME-WAIT), as port-table rows.
    pub(super) fn orphans(&self) -> Vec<PortEntry> {
        self.entries
            .iter()
            .flatten()
            .filter(|e| e.sock.is_none() && e.listener.is_none())
            .map(|e| PortEntry {
                netid: "tcp",
                state: e.conn.state().ss_name().to_string(),
                recv_q: e.conn.recv_queue(),
                send_q: e.conn.send_queue(),
                local: e.conn.local().to_string(),
                peer: e.conn.remote().to_string(),
                process: String::new(),
            })
            .collect()
    }
}

/// The record of a TCP segment read back from its bytes, sequence numbers relative to the
/// connection's initial ones as Wireshark shows them.
fn tcp_record(direction: Direction, wire: &[u8], rel: Option<RelativeTo>) -> Record {
    let mut r = Record::new(LayerId::Transport, direction, "tcp", String::new(), PduName::Segment);
    if let Ok(view) = TcpView::new(wire, 0) {
        if let Ok(seg) = TcpSegment::from_view(&view) {
            r.title = seg.title(rel);
            r.summary = seg.summary(rel);
            r.fields = seg.fields(&view, rel, true);
            r.payload_len = seg.payload.len();
        }
        r.header = 0..view.header_len();
        r.overhead = view.header_len();
    }
    r
}

impl Host {
    /// The MSS to advertise on a connection to `remote` (RFC 9293 §3.7.1: the outgoing
    /// interface's MTU less the IP and TCP fixed headers).
    fn mss_for(&self, remote: IpAddr) -> u16 {
        let mtu = self.routes.lookup(remote).map_or(1500, |(r, _)| self.ifaces[r.iface].cfg.mtu);
        let ip = if remote.is_ipv4() { 20 } else { 40 };
        u16::try_from(mtu.saturating_sub(ip + 20)).unwrap_or(u16::MAX).max(1)
    }

    pub(super) fn tcp_connect(&mut self, i: usize, to: SocketAddr) -> SysResult<()> {
        match self.sockets[i].state {
            SockState::Connection(_) => return Err(SockError::IsConn),
            SockState::Listening { .. } => return Err(SockError::Invalid),
            _ => {}
        }
        let (src, _, _) = self.source_for(to.ip())?;
        let bound = self.autobind(i)?;
        let local = SocketAddr::new(if bound.ip().is_unspecified() { src } else { bound.ip() }, bound.port());
        if self.tcp.by_tuple.contains_key(&(local, to)) {
            return Err(SockError::AddrInUse);
        }
        let iss = self.random_u32();
        let mut cfg = ConnConfig::new(local, to, iss);
        cfg.mss = self.mss_for(to.ip());
        let conn = TcpConn::connect(cfg, self.now);
        let c = self.tcp.insert(Entry {
            conn,
            sock: Some(i),
            listener: None,
            queued: false,
            eof: false,
            error: None,
            deadline: None,
        });
        let s = &mut self.sockets[i];
        s.local = Some(local);
        s.remote = Some(to);
        s.state = SockState::Connection(c);
        Ok(())
    }

    pub(super) fn sys_listen(&mut self, pid: super::Pid, fd: super::Fd, backlog: usize) -> SysResult<()> {
        let i = self.sock_index(pid, fd)?;
        if self.sockets[i].ty != SockType::Stream {
            return Err(SockError::Invalid);
        }
        match self.sockets[i].state {
            SockState::Fresh | SockState::Bound | SockState::Listening { .. } => {}
            _ => return Err(SockError::Invalid),
        }
        let bound = self.autobind(i)?;
        self.ports.add_listening(bound.port(), i);
        // Linux caps the backlog at net.core.somaxconn (4096) and counts one more than asked.
        self.sockets[i].state = SockState::Listening { backlog: backlog.clamp(1, 4096) };
        Ok(())
    }

    pub(super) fn sys_accept(&mut self, pid: super::Pid, fd: super::Fd) -> SysResult<(super::Fd, SocketAddr)> {
        let i = self.sock_index(pid, fd)?;
        if !matches!(self.sockets[i].state, SockState::Listening { .. }) {
            return Err(SockError::Invalid);
        }
        let c = self.sockets[i].accept_queue.pop_front().ok_or(SockError::WouldBlock)?;
        let v6 = self.sockets[i].v6;
        let Some(e) = self.tcp.get(c) else { return Err(SockError::WouldBlock) };
        let (local, remote) = (e.conn.local(), e.conn.remote());
        let mut s = super::socket::Socket::new(pid, 0, SockType::Stream, v6);
        s.local = Some(local);
        s.remote = Some(remote);
        s.state = SockState::Connection(c);
        let nfd = self.new_fd(pid, s);
        let si = self.sockets.len() - 1;
        let (readable, eof) = match self.tcp.get(c) {
            Some(e) => {
                e.sock = Some(si);
                (e.conn.recv_queue() > 0, e.eof)
            }
            None => (false, false),
        };
        self.tcp.detach(c);
        if readable || eof {
            self.raise(si, SockEvent::Readable);
        }
        Ok((nfd, remote))
    }

    pub(super) fn tcp_send(&mut self, i: usize, data: &[u8]) -> SysResult<usize> {
        let SockState::Connection(c) = self.sockets[i].state else {
            return Err(self.sockets[i].error.take().unwrap_or(SockError::NotConn));
        };
        let Some(e) = self.tcp.get(c) else { return Err(SockError::Pipe) };
        if let Some(err) = e.error.take() {
            return Err(err);
        }
        let r = e.conn.send(data).map_err(map_conn_error);
        self.tcp.dirty.insert(c);
        r
    }

    pub(super) fn tcp_recv(&mut self, i: usize) -> SysResult<Vec<u8>> {
        let SockState::Connection(c) = self.sockets[i].state else {
            // The connection is gone: its error once (SO_ERROR), then "not connected".
            return Err(self.sockets[i].error.take().unwrap_or(SockError::NotConn));
        };
        let Some(e) = self.tcp.get(c) else { return Ok(Vec::new()) };
        let data = e.conn.recv(usize::MAX);
        self.tcp.dirty.insert(c);
        if !data.is_empty() {
            return Ok(data);
        }
        let Some(e) = self.tcp.get(c) else { return Ok(Vec::new()) };
        if let Some(err) = e.error.take().or_else(|| e.conn.take_error().map(map_conn_error)) {
            return Err(err);
        }
        if e.eof || e.conn.at_eof() {
            return Ok(Vec::new());
        }
        Err(SockError::WouldBlock)
    }

    pub(super) fn tcp_close(&mut self, i: usize) {
        let now = self.now;
        match self.sockets[i].state {
            SockState::Listening { .. } => {
                // Connections not yet accepted are reset (Linux: RST to each).
                let pending: Vec<usize> = self.tcp.pending_on(i).collect();
                for c in pending {
                    if let Some(e) = self.tcp.get(c) {
                        e.conn.abort(now);
                    }
                    self.tcp.detach(c);
                    self.tcp.dirty.insert(c);
                }
                self.sockets[i].accept_queue.clear();
            }
            SockState::Connection(c) => {
                if let Some(e) = self.tcp.get(c) {
                    e.conn.close(now);
                    e.sock = None;
                }
                self.tcp.dirty.insert(c);
            }
            _ => {}
        }
    }

    /// An ICMP error about one of our segments: a handshake still under way gives up with the
    /// error (RFC 1122 §4.2.3.9 leaves this to the host; Linux does so for hard errors);
    /// established connections treat it as soft and go on.
    pub(super) fn tcp_icmp_error(&mut self, local: SocketAddr, remote: SocketAddr, errno: SockError) {
        let Some(&c) = self.tcp.by_tuple.get(&(local, remote)) else { return };
        let now = self.now;
        if let Some(e) = self.tcp.get(c) {
            if e.conn.state() == TcpState::SynSent {
                e.conn.abort(now);
                e.error = Some(errno);
                if let Some(s) = e.sock {
                    self.raise(s, SockEvent::Error(errno));
                }
            }
        }
        self.tcp.dirty.insert(c);
    }

    /// A TCP segment arrived for one of our addresses.
    pub(super) fn tcp_input(&mut self, payload: Vec<u8>, meta: Meta, cx: &mut Context) -> Option<String> {
        let (Some(src), Some(dst)) = (meta.src_ip, meta.dst_ip) else { return None };
        let view = match TcpView::new(&payload, meta.offset) {
            Ok(v) => v,
            Err(e) => return Some(self.drop_packet(format!("L4: {e}"))),
        };
        let status = match view.verify(src, dst) {
            Ok(s) => s,
            Err(e) => return Some(self.drop_packet(format!("L4: {e}"))),
        };
        let seg = match TcpSegment::from_view(&view) {
            Ok(s) => s,
            Err(e) => return Some(self.drop_packet(format!("L4: {e}"))),
        };
        let local = SocketAddr::new(dst, seg.dst_port);
        let remote = SocketAddr::new(src, seg.src_port);
        let found = self.tcp.by_tuple.get(&(local, remote)).copied();
        let rel_of = |e: &Entry| RelativeTo { seq: e.conn.irs(), ack: e.conn.config().iss };
        let mut r = tcp_record(Direction::Up, &payload, None);
        r.checks.push(Check::new("tcp.checksum.status", "Checksum", status.is_acceptable(), status.detail()));
        if !status.is_acceptable() {
            r.notes.push("bad checksum: discarded (RFC 9293 §3.10.7.4)".into());
            cx.trace.push(r);
            return Some(self.drop_packet(format!("bad TCP checksum: from {remote}")));
        }
        let now = self.now;
        if let Some(c) = found {
            if let Some(e) = self.tcp.get(c) {
                let before = e.conn.state();
                e.conn.on_segment(&seg, now);
                let after = e.conn.state();
                // Numbers relative to both initial sequence numbers, known once the SYN is in.
                let checks = std::mem::take(&mut r.checks);
                r = tcp_record(Direction::Up, &payload, Some(rel_of(e)));
                r.checks = checks;
                if before != after {
                    r.notes.push(format!("{} → {}", before.rfc_name(), after.rfc_name()));
                }
            }
            self.tcp.dirty.insert(c);
            cx.trace.push(r);
            return None;
        }
        // RFC 9293 §3.10.7.2: a SYN (without ACK or RST) to a listening socket opens a connection.
        let syn_only = seg.flags.contains(crate::layers::l4_transport::TcpFlags::SYN)
            && !seg.flags.contains(crate::layers::l4_transport::TcpFlags::ACK)
            && !seg.flags.contains(crate::layers::l4_transport::TcpFlags::RST);
        let listener = self.ports.listening(seg.dst_port).find(|&i| {
            let s = &self.sockets[i];
            matches!(s.state, SockState::Listening { .. })
                && s.v6 == dst.is_ipv6()
                && s.local.is_some_and(|l| l.port() == seg.dst_port && (l.ip().is_unspecified() || l.ip() == dst))
        });
        if let (Some(l), true) = (listener, syn_only) {
            let SockState::Listening { backlog } = self.sockets[l].state else { return None };
            let waiting = self.tcp.pending_on(l).count();
            if waiting > backlog {
                r.notes.push(format!("listen queue of {local} full (backlog {backlog}): SYN dropped"));
                cx.trace.push(r);
                return Some(self.drop_packet(format!("listen queue full: {local}")));
            }
            let iss = self.random_u32();
            let mut cfg = ConnConfig::new(local, remote, iss);
            cfg.mss = self.mss_for(src);
            let Some(conn) = TcpConn::accept(cfg, &seg, now) else {
                cx.trace.push(r);
                return Some(self.drop_packet(format!("L4: SYN to {local} not acceptable")));
            };
            let checks = std::mem::take(&mut r.checks);
            r = tcp_record(Direction::Up, &payload, Some(RelativeTo { seq: conn.irs(), ack: conn.config().iss }));
            r.checks = checks;
            r.notes.push(format!("SYN to listening socket {local}: SYN-RECEIVED, answer SYN-ACK"));
            cx.trace.push(r);
            self.tcp.insert(Entry {
                conn,
                sock: None,
                listener: Some(l),
                queued: false,
                eof: false,
                error: None,
                deadline: None,
            });
            return None;
        }
        // RFC 9293 §3.10.7.1: no connection and no listener: RST (never in answer to an RST).
        let answer = reset_for(&seg);
        r.notes.push(format!(
            "no socket for {local}: {}",
            if answer.is_some() { "answered with RST" } else { "RST ignored" }
        ));
        cx.trace.push(r);
        if let Some(rst) = answer {
            if let Ok(wire) = rst.emit(dst, src) {
                let mut t = Trace::default();
                // Numbered as Wireshark numbers a conversation's first segments: the RST's
                // own sequence number is 1 past its base, its ACK relative to the SYN's ISN.
                let rel = RelativeTo { seq: rst.seq.wrapping_sub(1), ack: seg.seq };
                t.push(tcp_record(Direction::Down, &wire, Some(rel)));
                let _ = self.send_ip(Some(dst), src, 6, wire, None, true, t);
            }
        }
        Some(self.drop_packet(format!("no socket: TCP port {}", seg.dst_port)))
    }

    /// Run the timers of connections that are due.
    pub(super) fn tcp_timeouts(&mut self) {
        let now = self.now;
        while let Some(&(at, c)) = self.tcp.timers.first() {
            if at > now {
                break;
            }
            self.tcp.timers.pop_first();
            if let Some(e) = self.tcp.get(c) {
                e.deadline = None;
                e.conn.on_timeout(now);
            }
            self.tcp.dirty.insert(c);
        }
    }

    /// Send what the touched connections have to send, tell their sockets what happened, and
    /// re-arm their timers.
    pub(super) fn tcp_flush(&mut self) {
        let now = self.now;
        while let Some(c) = self.tcp.dirty.pop_first() {
            let mut out = Vec::new();
            let mut events = Vec::new();
            let ttl;
            {
                let sock = self.tcp.entries.get(c).and_then(Option::as_ref).and_then(|e| e.sock);
                ttl = sock.and_then(|s| self.sockets[s].ttl);
            }
            let Some(e) = self.tcp.get(c) else { continue };
            for _ in 0..10_000 {
                match e.conn.poll_transmit(now) {
                    Some(seg) => out.push(seg),
                    None => break,
                }
            }
            while let Some(ev) = e.conn.poll_event() {
                events.push(ev);
            }
            let (local, remote) = (e.conn.local(), e.conn.remote());
            let rel = RelativeTo { seq: e.conn.config().iss, ack: e.conn.irs() };
            let closed = e.conn.state() == TcpState::Closed;
            let old = e.deadline;
            let new = if closed { None } else { e.conn.poll_timeout() };
            e.deadline = new;
            if let Some(t) = old {
                self.tcp.timers.remove(&(t, c));
            }
            if let Some(t) = new {
                self.tcp.timers.insert((t, c));
            }
            for seg in out {
                let Ok(wire) = seg.emit(local.ip(), remote.ip()) else { continue };
                let mut t = Trace::default();
                t.push(tcp_record(Direction::Down, &wire, Some(rel)));
                if let Err(err) = self.send_ip(Some(local.ip()), remote.ip(), 6, wire, ttl, true, t) {
                    let r = self.drop_packet(format!("cannot send: TCP {local} → {remote}: {err}"));
                    self.note(None, NoteKind::Drop, r);
                }
            }
            for ev in events {
                self.conn_event(c, ev);
            }
            if closed {
                self.release(c);
            }
        }
    }

    fn conn_event(&mut self, c: usize, ev: ConnEvent) {
        let Some(e) = self.tcp.get(c) else { return };
        let sock = e.sock;
        let listener = e.listener;
        let (local, remote) = (e.conn.local(), e.conn.remote());
        let text = |what: &str| format!("TCP {local} ↔ {remote}: {what}");
        match ev {
            ConnEvent::Connected => {
                if let Some(s) = sock {
                    self.raise(s, SockEvent::Connected);
                } else if let Some(l) = listener {
                    if let Some(e) = self.tcp.get(c) {
                        if e.queued {
                            return;
                        }
                        e.queued = true;
                    }
                    self.sockets[l].accept_queue.push_back(c);
                    self.raise(l, SockEvent::Acceptable);
                }
                self.note(None, NoteKind::Info, text("ESTABLISHED"));
            }
            ConnEvent::DataAvailable => {
                if let Some(s) = sock {
                    self.raise(s, SockEvent::Readable);
                }
            }
            ConnEvent::PeerClosed => {
                if let Some(e) = self.tcp.get(c) {
                    e.eof = true;
                }
                if let Some(s) = sock {
                    self.raise(s, SockEvent::PeerClosed);
                }
            }
            ConnEvent::Refused | ConnEvent::Reset | ConnEvent::TimedOut => {
                let err = match ev {
                    ConnEvent::Refused => SockError::ConnRefused,
                    ConnEvent::Reset => SockError::ConnReset,
                    _ => SockError::TimedOut,
                };
                if let Some(e) = self.tcp.get(c) {
                    e.error = Some(err);
                }
                self.note(None, NoteKind::Info, text(err.text()));
                if let Some(s) = sock {
                    self.raise(s, SockEvent::Error(err));
                }
            }
            ConnEvent::Writable => {
                if let Some(s) = sock {
                    self.raise(s, SockEvent::Writable);
                }
            }
            ConnEvent::Retransmitted { .. } => {
                self.tcp.retransmissions += 1;
            }
            ConnEvent::Closed => {
                if let Some(s) = sock {
                    self.raise(s, SockEvent::Closed);
                }
            }
            _ => {}
        }
    }

    /// Forget a closed connection.
    fn release(&mut self, c: usize) {
        let Some(e) = self.tcp.entries.get_mut(c).and_then(Option::take) else { return };
        let local = e.conn.local();
        if self.tcp.by_tuple.remove(&(local, e.conn.remote())).is_some() {
            if let Some(n) = self.tcp.local_ports.get_mut(&local.port()) {
                *n -= 1;
                if *n == 0 {
                    self.tcp.local_ports.remove(&local.port());
                }
            }
        }
        if let Some(t) = e.deadline {
            self.tcp.timers.remove(&(t, c));
        }
        if let Some(l) = e.listener {
            self.tcp.unpend(l, c);
            self.sockets[l].accept_queue.retain(|&x| x != c);
        }
        if let Some(s) = e.sock {
            // The socket stays open (reads give its error or end of file) but has no connection.
            if self.sockets[s].state == SockState::Connection(c) {
                self.sockets[s].state = SockState::Bound;
                self.sockets[s].error = self.sockets[s].error.or(e.error);
            }
        }
        self.tcp.free.push(c);
    }
}

fn map_conn_error(e: crate::layers::l4_transport::conn::SockError) -> SockError {
    use crate::layers::l4_transport::conn::SockError as C;
    match e {
        C::NotConnected => SockError::NotConn,
        C::BrokenPipe => SockError::Pipe,
        C::ConnectionReset => SockError::ConnReset,
        C::ConnectionRefused => SockError::ConnRefused,
        C::TimedOut => SockError::TimedOut,
        C::WouldBlock => SockError::WouldBlock,
    }
}
