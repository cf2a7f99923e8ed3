//! A process that makes the socket calls a scenario lists, at their times: the way to show
//! `bind` twice on one port (EADDRINUSE), a `connect` to a closed port (ECONNREFUSED), or the
//! handshake a `connect` + `accept` cause. Each call and its result is on the timeline as
//! strace would show it.

use super::until;
use crate::host::{Fd, Program, SockError, SockEvent, SockType, Sys};
use std::any::Any;
use std::net::SocketAddr;
use std::time::Duration;

/// One call. A call's `fd` of `None` means the process's most recent socket (or accepted one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptCall {
    /// `socket(family, type)`.
    Socket {
        /// Stream or datagram.
        ty: SockType,
        /// AF_INET6.
        v6: bool,
    },
    /// `bind(fd, addr)`.
    Bind {
        /// Descriptor.
        fd: Option<Fd>,
        /// Address.
        addr: SocketAddr,
    },
    /// `listen(fd, backlog)`.
    Listen {
        /// Descriptor.
        fd: Option<Fd>,
        /// Backlog.
        backlog: usize,
    },
    /// `accept(fd)`.
    Accept {
        /// Descriptor.
        fd: Option<Fd>,
    },
    /// `connect(fd, to)`.
    Connect {
        /// Descriptor.
        fd: Option<Fd>,
        /// Peer.
        to: SocketAddr,
    },
    /// `send(fd, data)`.
    Send {
        /// Descriptor.
        fd: Option<Fd>,
        /// Data.
        data: Vec<u8>,
    },
    /// `recv(fd)`.
    Recv {
        /// Descriptor.
        fd: Option<Fd>,
    },
    /// `sendto(fd, data, to)`.
    SendTo {
        /// Descriptor.
        fd: Option<Fd>,
        /// Data.
        data: Vec<u8>,
        /// Peer.
        to: SocketAddr,
    },
    /// `recvfrom(fd)`.
    RecvFrom {
        /// Descriptor.
        fd: Option<Fd>,
    },
    /// `close(fd)`.
    Close {
        /// Descriptor.
        fd: Option<Fd>,
    },
}

/// The script process.
#[derive(Debug, Default)]
pub struct Script {
    steps: Vec<(Duration, ScriptCall)>,
    last: Option<Fd>,
    /// Each call's result: Ok(value as text) or the errno.
    pub results: Vec<Result<String, SockError>>,
    /// Data read by recv/recvfrom.
    pub received: Vec<Vec<u8>>,
}

impl Script {
    /// A script of calls at their times (since the run's start).
    pub fn new(mut steps: Vec<(Duration, ScriptCall)>) -> Self {
        steps.sort_by_key(|s| s.0);
        Script { steps, ..Default::default() }
    }
}

impl Program for Script {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let now = sys.now();
        for (i, (at, _)) in self.steps.iter().enumerate() {
            sys.set_timer(until(now, *at), i as u64);
        }
    }

    fn on_socket(&mut self, _sys: &mut Sys<'_>, _fd: Fd, _ev: SockEvent) {}

    fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64) {
        let Some((_, call)) = self.steps.get(token as usize).cloned() else { return };
        let fd = |f: Option<Fd>| f.or(self.last).unwrap_or(3);
        let r: Result<String, SockError> = match call {
            ScriptCall::Socket { ty, v6 } => sys.socket(ty, v6).map(|f| {
                self.last = Some(f);
                f.to_string()
            }),
            ScriptCall::Bind { fd: f, addr } => sys.bind(fd(f), addr).map(|a| a.to_string()),
            ScriptCall::Listen { fd: f, backlog } => sys.listen(fd(f), backlog).map(|_| "0".into()),
            ScriptCall::Accept { fd: f } => sys.accept(fd(f)).map(|(n, peer)| {
                self.last = Some(n);
                format!("{n} {peer}")
            }),
            ScriptCall::Connect { fd: f, to } => sys.connect(fd(f), to).map(|_| "0".into()),
            ScriptCall::Send { fd: f, data } => sys.send(fd(f), &data).map(|n| n.to_string()),
            ScriptCall::Recv { fd: f } => sys.recv(fd(f)).map(|d| {
                let n = d.len();
                self.received.push(d);
                n.to_string()
            }),
            ScriptCall::SendTo { fd: f, data, to } => sys.sendto(fd(f), &data, to).map(|n| n.to_string()),
            ScriptCall::RecvFrom { fd: f } => sys.recvfrom(fd(f)).map(|(d, from)| {
                let n = d.len();
                self.received.push(d);
                format!("{n} {from}")
            }),
            ScriptCall::Close { fd: f } => sys.close(fd(f)).map(|_| "0".into()),
        };
        self.results.push(r);
    }

    fn report(&self) -> Vec<String> {
        let failed = self.results.iter().filter(|r| r.is_err()).count();
        vec![format!("script: {} calls, {failed} failed", self.results.len())]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
