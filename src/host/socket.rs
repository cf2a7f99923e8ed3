//! Sockets as a process sees them (POSIX `socket(2)`, `bind(2)`, `listen(2)`, `accept(2)`,
//! `connect(2)`, `send(2)`/`recv(2)`, `sendto(2)`/`recvfrom(2)`, `close(2)`), the errors they
//! return (Linux's errno names and `strerror` texts), and the host's port table as `ss -tuanp`
//! prints it.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;

/// A process identifier.
pub type Pid = u32;
/// A file descriptor, per process; sockets start at 3 (0–2 are stdin, stdout, stderr).
pub type Fd = u32;

/// The kind of socket (`socket(2)`'s type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SockType {
    /// SOCK_STREAM: TCP.
    Stream,
    /// SOCK_DGRAM: UDP.
    Dgram,
    /// SOCK_DGRAM with IPPROTO_ICMP (Linux's unprivileged ping socket): ICMP echo.
    Ping,
}

impl SockType {
    /// "tcp", "udp", "icmp" as `ss` names them.
    pub fn netid(self) -> &'static str {
        match self {
            SockType::Stream => "tcp",
            SockType::Dgram => "udp",
            SockType::Ping => "icmp",
        }
    }
}

/// A socket call's failure: Linux's errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SockError {
    /// The address (port) is already bound by another socket.
    AddrInUse,
    /// The address is not one of this host's.
    AddrNotAvail,
    /// No socket with this descriptor in the process.
    BadFd,
    /// The call does not apply to this socket's state or type.
    Invalid,
    /// The socket is already connected.
    IsConn,
    /// The socket is not connected.
    NotConn,
    /// Nothing is listening on the remote port: the peer answered RST.
    ConnRefused,
    /// The peer reset the connection.
    ConnReset,
    /// The connection timed out (no answer after every retransmission).
    TimedOut,
    /// No route to the host (address resolution failed, or ICMP host unreachable).
    HostUnreach,
    /// No route to the network.
    NetUnreach,
    /// Writing to a connection the peer (or this end) has shut down.
    Pipe,
    /// The operation would block (nothing to read, nothing to accept, the send buffer is full).
    WouldBlock,
    /// A connect is under way (non-blocking connect).
    InProgress,
    /// The message is too long for one datagram.
    MsgSize,
    /// No ephemeral port left.
    NoPorts,
    /// The address family does not match the socket's.
    AfNoSupport,
}

impl SockError {
    /// The errno name (`EADDRINUSE`).
    pub fn name(self) -> &'static str {
        match self {
            SockError::AddrInUse => "EADDRINUSE",
            SockError::AddrNotAvail => "EADDRNOTAVAIL",
            SockError::BadFd => "EBADF",
            SockError::Invalid => "EINVAL",
            SockError::IsConn => "EISCONN",
            SockError::NotConn => "ENOTCONN",
            SockError::ConnRefused => "ECONNREFUSED",
            SockError::ConnReset => "ECONNRESET",
            SockError::TimedOut => "ETIMEDOUT",
            SockError::HostUnreach => "EHOSTUNREACH",
            SockError::NetUnreach => "ENETUNREACH",
            SockError::Pipe => "EPIPE",
            SockError::WouldBlock => "EAGAIN",
            SockError::InProgress => "EINPROGRESS",
            SockError::MsgSize => "EMSGSIZE",
            SockError::NoPorts => "EADDRNOTAVAIL",
            SockError::AfNoSupport => "EAFNOSUPPORT",
        }
    }

    /// Linux's `strerror` text.
    pub fn text(self) -> &'static str {
        match self {
            SockError::AddrInUse => "Address already in use",
            SockError::AddrNotAvail | SockError::NoPorts => "Cannot assign requested address",
            SockError::BadFd => "Bad file descriptor",
            SockError::Invalid => "Invalid argument",
            SockError::IsConn => "Transport endpoint is already connected",
            SockError::NotConn => "Transport endpoint is not connected",
            SockError::ConnRefused => "Connection refused",
            SockError::ConnReset => "Connection reset by peer",
            SockError::TimedOut => "Connection timed out",
            SockError::HostUnreach => "No route to host",
            SockError::NetUnreach => "Network is unreachable",
            SockError::Pipe => "Broken pipe",
            SockError::WouldBlock => "Resource temporarily unavailable",
            SockError::InProgress => "Operation now in progress",
            SockError::MsgSize => "Message too long",
            SockError::AfNoSupport => "Address family not supported by protocol",
        }
    }
}

impl fmt::Display for SockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.text())
    }
}

impl std::error::Error for SockError {}

/// What happened on a socket, for the process that owns it (what `poll(2)` would report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockEvent {
    /// A connect completed: the handshake is done.
    Connected,
    /// Data (or a datagram, or an echo reply) is ready to read.
    Readable,
    /// A listening socket has a connection to accept.
    Acceptable,
    /// The peer closed its direction (FIN): reads now return end of file after the data.
    PeerClosed,
    /// The connection failed or was reset; the error is the socket's pending error.
    Error(SockError),
    /// The connection is fully closed.
    Closed,
    /// Room in the send buffer again after a `send` took less than it was given.
    Writable,
}

/// Where a socket is in its life, as far as the socket layer (not TCP) is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockState {
    /// Created, not bound.
    Fresh,
    /// Bound to a local address.
    Bound,
    /// Listening, with its backlog.
    Listening {
        /// At most this many connections wait to be accepted (`listen(2)`'s backlog).
        backlog: usize,
    },
    /// A TCP socket with a connection (the host's connection index).
    Connection(usize),
    /// A UDP/ping socket with a default peer (`connect(2)` on a datagram socket).
    Associated,
    /// Closed by the process (the connection may linger in the host, e.g. TIME-WAIT).
    Closed,
}

/// A datagram waiting to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The sender.
    pub from: SocketAddr,
    /// The payload.
    pub data: Vec<u8>,
}

/// The socket layer's record of one socket.
#[derive(Debug, Clone)]
pub struct Socket {
    /// Owner.
    pub pid: Pid,
    /// The owner's descriptor.
    pub fd: Fd,
    /// Stream, datagram or ping.
    pub ty: SockType,
    /// IPv6 (AF_INET6) rather than IPv4 (AF_INET).
    pub v6: bool,
    /// The bound local address (port 0 until bound).
    pub local: Option<SocketAddr>,
    /// The peer (connected or associated).
    pub remote: Option<SocketAddr>,
    /// The state.
    pub state: SockState,
    /// Connections waiting to be accepted (listening sockets): the host's connection indices.
    pub accept_queue: VecDeque<usize>,
    /// Datagrams waiting to be read (UDP, ping).
    pub datagrams: VecDeque<Datagram>,
    /// Bytes of datagrams waiting (bounded by [`RCVBUF`]).
    pub queued: usize,
    /// An error to report on the next call (SO_ERROR): a refused connect, an ICMP error.
    pub error: Option<SockError>,
    /// Datagrams dropped because the receive buffer was full.
    pub drops: u64,
    /// IP_TTL: the TTL / hop limit of what it sends (`None`: the host's default).
    pub ttl: Option<u8>,
    /// ICMP errors about what it sent (Linux's IP_RECVERR queue).
    pub errors: VecDeque<super::program::IcmpReport>,
    /// Ping sockets: the echo identifier (Linux uses the socket's local "port").
    pub echo_id: u16,
}

/// The receive buffer of a datagram socket (Linux's default rmem, 212,992 bytes).
pub const RCVBUF: usize = 212_992;

impl Socket {
    /// A fresh socket.
    pub fn new(pid: Pid, fd: Fd, ty: SockType, v6: bool) -> Socket {
        Socket {
            pid,
            fd,
            ty,
            v6,
            local: None,
            remote: None,
            state: SockState::Fresh,
            accept_queue: VecDeque::new(),
            datagrams: VecDeque::new(),
            queued: 0,
            error: None,
            drops: 0,
            ttl: None,
            errors: VecDeque::new(),
            echo_id: 0,
        }
    }
}

/// The host's sockets by local port, so that finding the socket a datagram or a SYN is for, and
/// whether a port is taken, looks at the sockets on that port instead of at every socket the
/// host ever made (a server with a thousand connections would otherwise scan a thousand sockets
/// per SYN and per bind). Indices are kept in ascending order, so the first match is the one a
/// scan of the socket table would have found.
#[derive(Debug, Default)]
pub(super) struct PortIndex {
    /// Sockets with a local address that are not closed, by local port.
    bound: HashMap<u16, BTreeSet<usize>>,
    /// Listening sockets, by local port.
    listening: HashMap<u16, BTreeSet<usize>>,
}

impl PortIndex {
    /// The sockets bound to `port` (any address), in index order.
    pub(super) fn bound(&self, port: u16) -> impl Iterator<Item = usize> + '_ {
        self.bound.get(&port).into_iter().flatten().copied()
    }

    /// The sockets listening on `port`, in index order.
    pub(super) fn listening(&self, port: u16) -> impl Iterator<Item = usize> + '_ {
        self.listening.get(&port).into_iter().flatten().copied()
    }

    /// Socket `i` now has a local address on `port`.
    pub(super) fn add_bound(&mut self, port: u16, i: usize) {
        self.bound.entry(port).or_default().insert(i);
    }

    /// Socket `i` (bound to `port`) now listens.
    pub(super) fn add_listening(&mut self, port: u16, i: usize) {
        self.listening.entry(port).or_default().insert(i);
    }

    /// Socket `i` (bound to `port`) is closed.
    pub(super) fn remove(&mut self, port: u16, i: usize) {
        for map in [&mut self.bound, &mut self.listening] {
            if let Some(set) = map.get_mut(&port) {
                set.remove(&i);
                if set.is_empty() {
                    map.remove(&port);
                }
            }
        }
    }
}

/// One line of the port table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortEntry {
    /// tcp, udp, icmp.
    pub netid: &'static str,
    /// LISTEN, ESTAB, TIME-WAIT, UNCONN…
    pub state: String,
    /// Bytes received, not yet read.
    pub recv_q: usize,
    /// Bytes sent, not yet acknowledged (TCP) / backlog (listening).
    pub send_q: usize,
    /// Local address:port.
    pub local: String,
    /// Peer address:port, or `*`.
    pub peer: String,
    /// `users:(("name",pid=N,fd=M))`, empty for a connection no process holds (TIME-WAIT).
    pub process: String,
}

/// `192.0.2.1:3000`, `[2001:db8::1]:3000` (IPv6 in brackets), `0.0.0.0:*`.
pub fn addr_text(a: Option<SocketAddr>, v6: bool) -> String {
    match a {
        Some(a) => a.to_string(),
        None if v6 => "[::]:*".into(),
        None => "0.0.0.0:*".into(),
    }
}

/// The table as `ss -tuanp` prints it (columns padded to their widest entry).
pub fn format_port_table(rows: &[PortEntry]) -> String {
    let head = ["Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Process"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.netid.to_string(),
                r.state.clone(),
                r.recv_q.to_string(),
                r.send_q.to_string(),
                r.local.clone(),
                r.peer.clone(),
                r.process.clone(),
            ]
        })
        .collect();
    let mut width = head.map(str::len);
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |c: Vec<&str>| {
        let mut l = String::new();
        for (i, (s, w)) in c.iter().zip(width).enumerate() {
            if i + 1 == c.len() {
                l.push_str(s);
            } else {
                l.push_str(s);
                l.push_str(&" ".repeat(w - s.chars().count() + 1));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(head.to_vec());
    for c in &cells {
        line(c.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_like_linux() {
        assert_eq!(SockError::AddrInUse.to_string(), "EADDRINUSE (Address already in use)");
        assert_eq!(SockError::ConnRefused.to_string(), "ECONNREFUSED (Connection refused)");
    }

    #[test]
    fn port_table_lines_up_like_ss() {
        let rows = [PortEntry {
            netid: "tcp",
            state: "LISTEN".into(),
            recv_q: 0,
            send_q: 5,
            local: "0.0.0.0:3000".into(),
            peer: "0.0.0.0:*".into(),
            process: "users:((\"chat-server\",pid=1,fd=3))".into(),
        }];
        let t = format_port_table(&rows);
        assert_eq!(
            t,
            "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
             tcp   LISTEN 0      5      0.0.0.0:3000       0.0.0.0:*         users:((\"chat-server\",pid=1,fd=3))\n"
        );
    }
}
