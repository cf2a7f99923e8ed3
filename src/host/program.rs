//! Processes: a [`Program`] runs on a host and talks to the network only through socket calls
//! ([`Sys`]), as a real program does through the kernel. Programs are event-driven (like a
//! program built on `poll(2)`): the host tells them when a socket is readable, a connection is
//! established or refused, and when a timer they set is due. Every call is noted on the
//! timeline like `strace` shows it (`connect(3, 192.0.2.10:3000) = -1 EINPROGRESS`).

use super::socket::{Fd, Pid, SockError, SockEvent, SockType};
use super::{Host, NoteKind};
use crate::layers::l3_network::forward::IcmpError;
use crate::time::Instant;
use std::any::Any;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// A call's result.
pub type SysResult<T> = std::result::Result<T, SockError>;

/// A program a process runs.
pub trait Program {
    /// The process starts.
    fn start(&mut self, sys: &mut Sys<'_>);
    /// Something happened on one of its sockets.
    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent);
    /// A timer it set is due.
    fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64);
    /// What it has to say at the end of the run (messages received, replies), one line each.
    fn report(&self) -> Vec<String> {
        Vec::new()
    }
    /// For tests and the summary: the program as `Any`, to read its results.
    fn as_any(&self) -> &dyn Any;
}

/// An ICMP error reported to a socket (Linux's `IP_RECVERR` queue): who sent it, what it says,
/// and the packet of ours it quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpReport {
    /// The router or host that sent the error.
    pub from: IpAddr,
    /// The error.
    pub kind: IcmpError,
    /// The quoted packet (its IP header and at least 8 bytes of its data).
    pub quoted: Vec<u8>,
}

/// The system-call interface of one process on one host.
pub struct Sys<'h> {
    host: &'h mut Host,
    pid: Pid,
}

impl<'h> Sys<'h> {
    pub(super) fn new(host: &'h mut Host, pid: Pid) -> Self {
        Sys { host, pid }
    }

    /// The process's PID.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The host's name.
    pub fn hostname(&self) -> &str {
        &self.host.name
    }

    /// The simulated time now.
    pub fn now(&self) -> Instant {
        self.host.now
    }

    /// Write a line of the program's own output on the timeline.
    pub fn log(&mut self, text: impl Into<String>) {
        let pid = self.pid;
        self.host.note(Some(pid), NoteKind::App, text);
    }

    fn trace_call<T: std::fmt::Debug>(&mut self, call: String, r: &SysResult<T>, ok: impl FnOnce(&T) -> String) {
        let text = match r {
            Ok(v) => format!("{call} = {}", ok(v)),
            Err(SockError::WouldBlock) => return,
            Err(e) => format!("{call} = -1 {} ({})", e.name(), e.text()),
        };
        let pid = self.pid;
        self.host.note(Some(pid), NoteKind::Call, text);
    }

    /// Call `on_timer(token)` after `delay`.
    pub fn set_timer(&mut self, delay: Duration, token: u64) {
        let at = self.host.now + delay;
        let pid = self.pid;
        if let Some(p) = self.host.procs.iter_mut().find(|p| p.pid == pid) {
            p.timers.insert((at, token));
        }
    }

    /// End the process: its sockets are closed.
    pub fn exit(&mut self, code: i32) {
        let pid = self.pid;
        let fds: Vec<Fd> = self
            .host
            .sockets
            .iter()
            .filter(|s| s.pid == pid && s.state != super::socket::SockState::Closed)
            .map(|s| s.fd)
            .collect();
        for fd in fds {
            let _ = self.close(fd);
        }
        if let Some(p) = self.host.procs.iter_mut().find(|p| p.pid == pid) {
            p.exited = true;
            p.timers.clear();
        }
        self.host.note(Some(pid), NoteKind::Call, format!("exit({code})"));
    }

    /// `socket(AF_INET or AF_INET6, type, 0)`: a new descriptor.
    pub fn socket(&mut self, ty: SockType, v6: bool) -> SysResult<Fd> {
        let r = self.host.sys_socket(self.pid, ty, v6);
        let fam = if v6 { "AF_INET6" } else { "AF_INET" };
        let t = match ty {
            SockType::Stream => "SOCK_STREAM, IPPROTO_TCP",
            SockType::Dgram => "SOCK_DGRAM, IPPROTO_UDP",
            SockType::Ping => "SOCK_DGRAM, IPPROTO_ICMP",
        };
        self.trace_call(format!("socket({fam}, {t})"), &r, |fd| fd.to_string());
        r
    }

    /// `bind(fd, addr)`: port 0 takes an ephemeral port; a port another socket holds gives
    /// EADDRINUSE.
    pub fn bind(&mut self, fd: Fd, addr: SocketAddr) -> SysResult<SocketAddr> {
        let r = self.host.sys_bind(self.pid, fd, addr);
        self.trace_call(format!("bind({fd}, {addr})"), &r, |a| {
            if addr.port() == 0 {
                format!("0 (port {} chosen)", a.port())
            } else {
                "0".into()
            }
        });
        r
    }

    /// `listen(fd, backlog)`.
    pub fn listen(&mut self, fd: Fd, backlog: usize) -> SysResult<()> {
        let r = self.host.sys_listen(self.pid, fd, backlog);
        self.trace_call(format!("listen({fd}, {backlog})"), &r, |_| "0".into());
        r
    }

    /// `accept(fd)`: the next established connection, as a new descriptor and the peer's address
    /// (EAGAIN when none waits).
    pub fn accept(&mut self, fd: Fd) -> SysResult<(Fd, SocketAddr)> {
        let r = self.host.sys_accept(self.pid, fd);
        self.trace_call(format!("accept({fd})"), &r, |(nfd, peer)| format!("{nfd} (from {peer})"));
        r
    }

    /// `connect(fd, addr)`: TCP starts the handshake (the process hears `Connected` or an
    /// error later, as with a non-blocking connect); UDP just records the peer.
    pub fn connect(&mut self, fd: Fd, addr: SocketAddr) -> SysResult<()> {
        let r = self.host.sys_connect(self.pid, fd, addr);
        let stream = self.host.socket_type(self.pid, fd) == Some(SockType::Stream);
        let call = format!("connect({fd}, {addr})");
        match (&r, stream) {
            (Ok(()), true) => {
                let pid = self.pid;
                self.host.note(
                    Some(pid),
                    NoteKind::Call,
                    format!("{call} = -1 EINPROGRESS (handshake started: SYN sent)"),
                );
            }
            _ => self.trace_call(call, &r, |_| "0".into()),
        }
        r
    }

    /// `send(fd, data)`: bytes queued (TCP may take fewer when its send buffer is full).
    pub fn send(&mut self, fd: Fd, data: &[u8]) -> SysResult<usize> {
        let r = self.host.sys_send(self.pid, fd, data);
        self.trace_call(format!("send({fd}, {}, {})", quote(data), data.len()), &r, |n| n.to_string());
        r
    }

    /// `recv(fd)`: the bytes received (TCP) or the next datagram; an empty vector is end of
    /// file (the peer closed); EAGAIN when nothing waits.
    pub fn recv(&mut self, fd: Fd) -> SysResult<Vec<u8>> {
        let r = self.host.sys_recv(self.pid, fd).map(|(d, _)| d);
        self.trace_call(format!("recv({fd})"), &r, |d| format!("{} {}", d.len(), quote(d)));
        r
    }

    /// `sendto(fd, data, to)`: one datagram.
    pub fn sendto(&mut self, fd: Fd, data: &[u8], to: SocketAddr) -> SysResult<usize> {
        let r = self.host.sys_sendto(self.pid, fd, data, Some(to));
        self.trace_call(format!("sendto({fd}, {}, {}, {to})", quote(data), data.len()), &r, |n| n.to_string());
        r
    }

    /// `recvfrom(fd)`: the next datagram and its sender.
    pub fn recvfrom(&mut self, fd: Fd) -> SysResult<(Vec<u8>, SocketAddr)> {
        let r = self.host.sys_recv(self.pid, fd).and_then(|(d, from)| from.map(|f| (d, f)).ok_or(SockError::NotConn));
        self.trace_call(format!("recvfrom({fd})"), &r, |(d, from)| format!("{} {} from {from}", d.len(), quote(d)));
        r
    }

    /// `close(fd)`: TCP sends FIN after what is queued (the connection lives on until the
    /// close completes, TIME-WAIT included).
    pub fn close(&mut self, fd: Fd) -> SysResult<()> {
        let r = self.host.sys_close(self.pid, fd);
        self.trace_call(format!("close({fd})"), &r, |_| "0".into());
        r
    }

    /// `setsockopt(fd, IPPROTO_IP, IP_TTL, ttl)`.
    pub fn set_ttl(&mut self, fd: Fd, ttl: u8) -> SysResult<()> {
        let r = self.host.sys_set_ttl(self.pid, fd, ttl);
        self.trace_call(format!("setsockopt({fd}, IP_TTL, {ttl})"), &r, |_| "0".into());
        r
    }

    /// The next ICMP error queued on the socket (`recvmsg(fd, MSG_ERRQUEUE)`), if any.
    pub fn recv_error(&mut self, fd: Fd) -> Option<IcmpReport> {
        self.host.sys_recv_error(self.pid, fd)
    }

    /// Whether the host has an address of this family on some interface (`getifaddrs`).
    pub fn has_address(&self, v6: bool) -> bool {
        self.host.ifaces.iter().any(|i| if v6 { i.cfg.ipv6.is_some() } else { i.cfg.ipv4.is_some() })
    }

    /// The socket's local address (`getsockname`).
    pub fn local_addr(&self, fd: Fd) -> Option<SocketAddr> {
        self.host
            .sockets
            .iter()
            .find(|s| s.pid == self.pid && s.fd == fd && s.state != super::socket::SockState::Closed)?
            .local
    }
}

/// Data as strace shows it: a quoted string, cut after 32 bytes.
fn quote(d: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in d.iter().take(32) {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    if d.len() > 32 {
        s.push_str("...");
    }
    s
}
