//! The socket calls (the TCP parts are in `tcp.rs`), UDP (RFC 768) and ping sockets on a host,
//! ICMP errors handed to the sockets they concern, and IPv6 neighbor discovery.

use super::program::IcmpReport;
use super::socket::{Datagram, Fd, Pid, SockError, SockEvent, SockState, SockType, Socket, RCVBUF};
use super::{Host, NoteKind, Prefix};
use crate::layer::{Context, LayerId, Meta, PduName};
use crate::layers::l3_network::forward::{self, IcmpError};
use crate::layers::l3_network::{nd, Echo, EchoKind};
use crate::layers::l4_transport::checksum::ChecksumStatus;
use crate::layers::l4_transport::udp::{self, UdpDatagram, UdpView};
use crate::trace::{Check, Direction, Record, Trace};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

pub(super) use nd::solicited_node;

/// RFC 768 over IPv4: at most 65,535 − 20 − 8 bytes of data.
const MAX_UDP_V4: usize = 65_507;
/// Over IPv6 without jumbograms: 65,535 − 8.
const MAX_UDP_V6: usize = 65_527;

type SysResult<T> = std::result::Result<T, SockError>;

impl Host {
    pub(super) fn sock_index(&self, pid: Pid, fd: Fd) -> SysResult<usize> {
        self.fds.get(&(pid, fd)).copied().ok_or(SockError::BadFd)
    }

    pub(super) fn socket_type(&self, pid: Pid, fd: Fd) -> Option<SockType> {
        self.sock_index(pid, fd).ok().map(|i| self.sockets[i].ty)
    }

    pub(super) fn new_fd(&mut self, pid: Pid, sock: Socket) -> Fd {
        let fd = match self.procs.iter_mut().find(|p| p.pid == pid) {
            Some(p) => {
                let fd = p.next_fd;
                p.next_fd += 1;
                fd
            }
            None => 3,
        };
        let i = self.sockets.len();
        if let Some(l) = sock.local {
            self.ports.add_bound(l.port(), i);
        }
        self.sockets.push(Socket { fd, ..sock });
        self.fds.insert((pid, fd), i);
        fd
    }

    pub(super) fn raise(&mut self, sock: usize, ev: SockEvent) {
        let s = &self.sockets[sock];
        if s.state != SockState::Closed {
            self.events.push_back((s.pid, s.fd, ev));
        }
    }

    pub(super) fn sys_socket(&mut self, pid: Pid, ty: SockType, v6: bool) -> SysResult<Fd> {
        let has = self.ifaces.iter().any(|i| if v6 { i.cfg.ipv6.is_some() } else { i.cfg.ipv4.is_some() });
        if !has {
            return Err(SockError::AfNoSupport);
        }
        Ok(self.new_fd(pid, Socket::new(pid, 0, ty, v6)))
    }

    pub(super) fn sys_bind(&mut self, pid: Pid, fd: Fd, addr: SocketAddr) -> SysResult<SocketAddr> {
        let i = self.sock_index(pid, fd)?;
        let s = &self.sockets[i];
        if s.state != SockState::Fresh {
            return Err(SockError::Invalid);
        }
        if addr.is_ipv6() != s.v6 {
            return Err(SockError::AfNoSupport);
        }
        if !addr.ip().is_unspecified() && !self.owns(addr.ip()) {
            return Err(SockError::AddrNotAvail);
        }
        let (ty, v6) = (s.ty, s.v6);
        let port = if addr.port() == 0 {
            self.alloc_ephemeral(ty, v6)?
        } else if self.port_taken(ty, v6, Some(addr.ip()), addr.port()) {
            return Err(SockError::AddrInUse);
        } else {
            addr.port()
        };
        let bound = SocketAddr::new(addr.ip(), port);
        self.ports.add_bound(port, i);
        let s = &mut self.sockets[i];
        s.local = Some(bound);
        s.state = SockState::Bound;
        s.echo_id = port;
        Ok(bound)
    }

    /// Bind to an ephemeral port on the wildcard address if not bound yet (as `connect`,
    /// `sendto` and `listen` do implicitly).
    pub(super) fn autobind(&mut self, i: usize) -> SysResult<SocketAddr> {
        if let Some(a) = self.sockets[i].local {
            return Ok(a);
        }
        let (ty, v6) = (self.sockets[i].ty, self.sockets[i].v6);
        let port = self.alloc_ephemeral(ty, v6)?;
        let any: IpAddr = if v6 { Ipv6Addr::UNSPECIFIED.into() } else { std::net::Ipv4Addr::UNSPECIFIED.into() };
        self.ports.add_bound(port, i);
        let s = &mut self.sockets[i];
        s.local = Some(SocketAddr::new(any, port));
        s.echo_id = port;
        if s.state == SockState::Fresh {
            s.state = SockState::Bound;
        }
        Ok(SocketAddr::new(any, port))
    }

    pub(super) fn sys_connect(&mut self, pid: Pid, fd: Fd, to: SocketAddr) -> SysResult<()> {
        let i = self.sock_index(pid, fd)?;
        if to.is_ipv6() != self.sockets[i].v6 {
            return Err(SockError::AfNoSupport);
        }
        match self.sockets[i].ty {
            SockType::Stream => self.tcp_connect(i, to),
            SockType::Dgram | SockType::Ping => {
                self.source_for(to.ip())?;
                self.autobind(i)?;
                let s = &mut self.sockets[i];
                s.remote = Some(to);
                s.state = SockState::Associated;
                Ok(())
            }
        }
    }

    pub(super) fn sys_send(&mut self, pid: Pid, fd: Fd, data: &[u8]) -> SysResult<usize> {
        let i = self.sock_index(pid, fd)?;
        match self.sockets[i].ty {
            SockType::Stream => self.tcp_send(i, data),
            _ => {
                let to = self.sockets[i].remote.ok_or(SockError::NotConn)?;
                self.sys_sendto_index(i, data, to)
            }
        }
    }

    pub(super) fn sys_sendto(&mut self, pid: Pid, fd: Fd, data: &[u8], to: Option<SocketAddr>) -> SysResult<usize> {
        let i = self.sock_index(pid, fd)?;
        match (self.sockets[i].ty, to.or(self.sockets[i].remote)) {
            (SockType::Stream, _) => self.tcp_send(i, data),
            (_, Some(to)) => self.sys_sendto_index(i, data, to),
            (_, None) => Err(SockError::NotConn),
        }
    }

    fn sys_sendto_index(&mut self, i: usize, data: &[u8], to: SocketAddr) -> SysResult<usize> {
        if let Some(e) = self.sockets[i].error.take() {
            return Err(e);
        }
        if to.is_ipv6() != self.sockets[i].v6 {
            return Err(SockError::AfNoSupport);
        }
        let local = self.autobind(i)?;
        let (src, _, _) = self.source_for(to.ip())?;
        let src = if local.ip().is_unspecified() { src } else { local.ip() };
        let ttl = self.sockets[i].ttl;
        if self.sockets[i].ty == SockType::Ping {
            return self.ping_send(i, data, src, to.ip(), ttl);
        }
        let max = if to.is_ipv6() { MAX_UDP_V6 } else { MAX_UDP_V4 };
        if data.len() > max {
            return Err(SockError::MsgSize);
        }
        let dgram = UdpDatagram { src_port: local.port(), dst_port: to.port(), payload: data.to_vec() };
        let wire = dgram.emit(src, to.ip()).map_err(|_| SockError::Invalid)?;
        let mut trace = Trace::default();
        trace.push(udp_record(Direction::Down, &wire));
        // UDP leaves DF clear so a large datagram is fragmented (Linux's default for UDP without PMTU discovery).
        self.send_ip(Some(src), to.ip(), 17, wire, ttl, false, trace)?;
        Ok(data.len())
    }

    /// A ping socket's send: `data` is the ICMP echo request header and payload as the program
    /// wrote it; the identifier is the socket's (as Linux's ping sockets overwrite it) and the
    /// checksum is computed here.
    fn ping_send(&mut self, i: usize, data: &[u8], src: IpAddr, dst: IpAddr, ttl: Option<u8>) -> SysResult<usize> {
        if data.len() < 8 {
            return Err(SockError::Invalid);
        }
        let seq = u16::from_be_bytes([data[6], data[7]]);
        let echo =
            Echo { kind: EchoKind::Request, id: self.sockets[i].echo_id, seq, data: data[8..].to_vec(), src, dst };
        let proto = echo.ip_proto();
        self.send_ip(Some(src), dst, proto, echo.to_bytes(), ttl, false, Trace::default())?;
        Ok(data.len())
    }

    pub(super) fn sys_recv(&mut self, pid: Pid, fd: Fd) -> SysResult<(Vec<u8>, Option<SocketAddr>)> {
        let i = self.sock_index(pid, fd)?;
        if self.sockets[i].ty == SockType::Stream {
            return self.tcp_recv(i).map(|d| (d, self.sockets[i].remote));
        }
        let s = &mut self.sockets[i];
        if let Some(d) = s.datagrams.pop_front() {
            s.queued -= d.data.len();
            return Ok((d.data, Some(d.from)));
        }
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        Err(SockError::WouldBlock)
    }

    pub(super) fn sys_close(&mut self, pid: Pid, fd: Fd) -> SysResult<()> {
        let i = self.sock_index(pid, fd)?;
        if self.sockets[i].ty == SockType::Stream {
            self.tcp_close(i);
        }
        self.sockets[i].state = SockState::Closed;
        if let Some(l) = self.sockets[i].local {
            self.ports.remove(l.port(), i);
        }
        self.fds.remove(&(pid, fd));
        Ok(())
    }

    pub(super) fn sys_set_ttl(&mut self, pid: Pid, fd: Fd, ttl: u8) -> SysResult<()> {
        let i = self.sock_index(pid, fd)?;
        if ttl == 0 {
            return Err(SockError::Invalid);
        }
        self.sockets[i].ttl = Some(ttl);
        Ok(())
    }

    pub(super) fn sys_recv_error(&mut self, pid: Pid, fd: Fd) -> Option<IcmpReport> {
        let i = self.sock_index(pid, fd).ok()?;
        self.sockets[i].errors.pop_front()
    }

    /// RFC 768 / RFC 1122 §4.1.3: check the checksum, find the socket bound to the destination
    /// port (a connected socket only takes datagrams from its peer), or answer ICMP port
    /// unreachable (RFC 1122 §4.1.3.1).
    pub(super) fn udp_input(
        &mut self,
        payload: Vec<u8>,
        meta: Meta,
        original: &[u8],
        iface: usize,
        cx: &mut Context,
    ) -> Option<String> {
        let (Some(src), Some(dst)) = (meta.src_ip, meta.dst_ip) else { return None };
        let view = match UdpView::new(&payload, meta.offset) {
            Ok(v) => v,
            Err(e) => return Some(self.drop_packet(format!("L4: {e}"))),
        };
        let mut r = udp_record(Direction::Up, &payload);
        let status = view.verify(src, dst).unwrap_or(ChecksumStatus::Bad { carried: view.checksum(), computed: 0 });
        r.checks.push(Check::new("udp.checksum.status", "Checksum", status.is_acceptable(), status.detail()));
        if !status.is_acceptable() {
            r.notes.push("bad checksum: discarded (RFC 1122 §4.1.3.4)".into());
            cx.trace.push(r);
            return Some(self.drop_packet(format!("bad UDP checksum: from {src}")));
        }
        let (sport, dport) = (view.src_port(), view.dst_port());
        let from = SocketAddr::new(src, sport);
        let data = view.payload().to_vec();
        let found = self.ports.bound(dport).find(|&i| {
            let s = &self.sockets[i];
            s.ty == SockType::Dgram
                && s.state != SockState::Closed
                && s.v6 == dst.is_ipv6()
                && s.local.is_some_and(|l| l.port() == dport && (l.ip().is_unspecified() || l.ip() == dst))
                && s.remote.map_or(true, |r| r == from)
        });
        let Some(i) = found else {
            r.notes.push(format!("no socket on UDP port {dport}: the host answers ICMP port unreachable"));
            cx.trace.push(r);
            self.send_icmp_error(IcmpError::PortUnreachable, original, iface);
            return Some(self.drop_packet(format!("no socket: UDP port {dport}")));
        };
        let s = &mut self.sockets[i];
        if s.queued + data.len() > RCVBUF {
            s.drops += 1;
            r.notes.push("the socket's receive buffer is full: discarded".into());
            cx.trace.push(r);
            return Some(self.drop_packet(format!("receive buffer full: UDP port {dport}")));
        }
        r.notes.push(format!("delivered to pid {} fd {}", s.pid, s.fd));
        s.queued += data.len();
        s.datagrams.push_back(Datagram { from, data });
        cx.trace.push(r);
        self.raise(i, SockEvent::Readable);
        None
    }

    /// An echo reply goes to the ping socket whose identifier it carries.
    pub(super) fn ping_reply(&mut self, e: Echo) {
        let found = self.sockets.iter().position(|s| {
            s.ty == SockType::Ping && s.state != SockState::Closed && s.echo_id == e.id && s.v6 == e.is_v6()
        });
        if let Some(i) = found {
            let msg = e.to_bytes();
            let s = &mut self.sockets[i];
            s.queued += msg.len();
            s.datagrams.push_back(Datagram { from: SocketAddr::new(e.src, 0), data: msg });
            self.raise(i, SockEvent::Readable);
        }
    }

    /// An ICMP error about a packet we sent: queue it on the socket that sent it; a connected
    /// UDP socket also gets the matching errno (Linux: ECONNREFUSED for port unreachable).
    pub(super) fn icmp_error_to_socket(&mut self, kind: IcmpError, from: IpAddr, quoted: &[u8]) {
        let Ok(t) = forward::inspect_quoted(quoted) else { return };
        let l4 = quoted.get(t.header_len..).unwrap_or_default();
        let be16 = |i: usize| l4.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let report = IcmpReport { from, kind, quoted: quoted.to_vec() };
        let errno = match kind {
            IcmpError::PortUnreachable | IcmpError::ProtocolUnreachable => SockError::ConnRefused,
            IcmpError::NetUnreachable => SockError::NetUnreach,
            IcmpError::FragmentationNeeded { .. } | IcmpError::PacketTooBig { .. } => SockError::MsgSize,
            _ => SockError::HostUnreach,
        };
        let found = match t.proto {
            17 => {
                let (Some(sport), Some(dport)) = (be16(0), be16(2)) else { return };
                self.sockets.iter().position(|s| {
                    s.ty == SockType::Dgram
                        && s.state != SockState::Closed
                        && s.local.is_some_and(|l| l.port() == sport)
                        && s.remote.map_or(true, |r| r.port() == dport && r.ip() == t.dst)
                })
            }
            1 | 58 => {
                let Some(id) = be16(4) else { return };
                self.sockets
                    .iter()
                    .position(|s| s.ty == SockType::Ping && s.state != SockState::Closed && s.echo_id == id)
            }
            6 => {
                let (Some(sport), Some(dport)) = (be16(0), be16(2)) else { return };
                self.tcp_icmp_error(SocketAddr::new(t.src, sport), SocketAddr::new(t.dst, dport), errno);
                return;
            }
            _ => None,
        };
        if let Some(i) = found {
            let s = &mut self.sockets[i];
            s.errors.push_back(report);
            if s.ty == SockType::Dgram && s.state == SockState::Associated {
                s.error = Some(errno);
                self.raise(i, SockEvent::Error(errno));
            } else {
                self.raise(i, SockEvent::Readable);
            }
        }
    }

    /// One of our own packets could not be sent: its next hop never answered address resolution.
    pub(super) fn unreachable_to_socket(&mut self, packet: &[u8]) {
        let from = forward::inspect_quoted(packet).map(|t| t.src);
        if let Ok(src) = from {
            self.icmp_error_to_socket(IcmpError::HostUnreachable, src, packet);
        }
    }

    /// Neighbor discovery (RFC 4861 §7.2.3–§7.2.5): answer a solicitation for our address,
    /// learn the neighbor from a solicitation's source or an advertisement's target option.
    pub(super) fn nd_input(&mut self, iface: usize, from: forward::Transit, msg: &[u8], _cx: &mut Context) {
        let Some(m) = nd::parse(msg) else { return };
        // §7.1.1 / §7.1.2: only messages with hop limit 255 are valid.
        if from.ttl != nd::HOP_LIMIT {
            let r = self.drop_packet(format!("ND: hop limit {} is not 255 (RFC 4861 §7.1)", from.ttl));
            self.note(None, NoteKind::Drop, r);
            return;
        }
        let now = self.now;
        let ours = match self.ifaces[iface].cfg.ipv6 {
            Some(Prefix { addr: IpAddr::V6(a), .. }) => a,
            _ => return,
        };
        match m.icmp_type {
            nd::NEIGHBOR_SOLICITATION if m.target == ours => {
                let IpAddr::V6(asker) = from.src else { return };
                if let (Some(mac), false) = (m.lladdr, asker.is_unspecified()) {
                    let waiting = self.neigh.learn(from.src, mac, iface, now);
                    for w in waiting {
                        self.emit_frame(w, mac);
                    }
                }
                let mac = self.ifaces[iface].cfg.mac;
                let msg = nd::advertisement(ours, mac, ours, asker);
                let _ =
                    self.send_ip(Some(ours.into()), from.src, 58, msg, Some(nd::HOP_LIMIT), false, Trace::default());
            }
            nd::NEIGHBOR_ADVERTISEMENT => {
                if let Some(mac) = m.lladdr {
                    let waiting = self.neigh.learn(IpAddr::V6(m.target), mac, iface, now);
                    for w in waiting {
                        self.emit_frame(w, mac);
                    }
                }
            }
            _ => {}
        }
    }

    /// Send a neighbor solicitation for `target` on `iface` (to its solicited-node group).
    pub(super) fn send_ns(&mut self, iface: usize, target: Ipv6Addr) {
        let cfg = &self.ifaces[iface].cfg;
        let Some(Prefix { addr: IpAddr::V6(ours), .. }) = cfg.ipv6 else { return };
        let msg = nd::solicitation(ours, cfg.mac, target);
        let group = IpAddr::V6(solicited_node(target));
        let _ = self.send_ip_via(
            iface,
            group,
            Some(ours.into()),
            group,
            58,
            msg,
            Some(nd::HOP_LIMIT),
            false,
            Trace::default(),
        );
    }
}

/// The record of a UDP datagram (RFC 768), read back from its bytes.
pub(super) fn udp_record(direction: Direction, wire: &[u8]) -> Record {
    let mut r = Record::new(LayerId::Transport, direction, "udp", String::new(), PduName::Datagram);
    if let Ok(v) = UdpView::new(wire, 0) {
        r.title = udp::title(v.src_port(), v.dst_port());
        r.summary = udp::summary(v.src_port(), v.dst_port(), v.payload().len());
        r.header = 0..udp::HEADER_LEN;
        r.payload_len = v.payload().len();
        r.overhead = udp::HEADER_LEN;
        r.fields = udp::header_fields(v.src_port(), v.dst_port(), v.length(), v.checksum());
    }
    r
}
