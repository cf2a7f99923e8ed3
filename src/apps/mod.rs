//! The programs processes run on osilab's hosts: the chat room's server and clients, an HTTP
//! server and client, a DNS server and resolver, ping, bulk senders and sinks, and a script of
//! raw socket calls. Each is a [`Program`](crate::host::Program): it reaches the network only
//! through socket calls, so the simulator and live mode run the same code.

pub mod bulk;
pub mod chat;
pub mod dns;
pub mod http;
pub mod ping;
pub mod script;
#[cfg(test)]
mod tests;

use crate::host::{Fd, SockType, Sys};
use crate::time::Instant;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The delay from `now` until `at` (zero when `at` has passed).
pub(crate) fn until(now: Instant, at: Duration) -> Duration {
    at.saturating_sub(now.since_start())
}

/// Split complete LF-terminated lines off the front of `buf` (each without its LF).
pub(crate) fn take_lines(buf: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    while let Some(i) = buf.iter().position(|&b| b == b'\n') {
        let mut line: Vec<u8> = buf.drain(..=i).collect();
        line.pop();
        lines.push(line);
    }
    lines
}

/// Read everything `fd` holds now onto `buf` (`recv` until it would block); true when the peer
/// has closed (a `recv` returned end of stream).
pub(crate) fn recv_all(sys: &mut Sys<'_>, fd: Fd, buf: &mut Vec<u8>) -> bool {
    loop {
        match sys.recv(fd) {
            Ok(d) if d.is_empty() => return true,
            Ok(d) => buf.extend_from_slice(&d),
            Err(_) => return false,
        }
    }
}

/// The address families a server listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Listen {
    /// IPv4 only (`0.0.0.0`).
    Ipv4,
    /// IPv6 only (`[::]`, with `IPV6_V6ONLY`).
    Ipv6,
    /// Each family the host has an address of: one socket on `0.0.0.0` and one on `[::]`, as a
    /// server configured with `listen 80; listen [::]:80;` (nginx) has. On a host with no
    /// address at all, IPv4 (whose `socket` call then fails with the reason).
    #[default]
    Dual,
}

impl Listen {
    /// IPv6 only when `v6`, IPv4 only otherwise.
    pub fn only(v6: bool) -> Listen {
        if v6 {
            Listen::Ipv6
        } else {
            Listen::Ipv4
        }
    }

    /// The families (`true` for IPv6) to open a socket for on this host.
    fn families(self, sys: &Sys<'_>) -> Vec<bool> {
        match self {
            Listen::Ipv4 => vec![false],
            Listen::Ipv6 => vec![true],
            Listen::Dual => {
                let has: Vec<bool> = [false, true].into_iter().filter(|v6| sys.has_address(*v6)).collect();
                if has.is_empty() {
                    vec![false]
                } else {
                    has
                }
            }
        }
    }
}

/// A server's start: for each family of `on`, `socket`, `bind` to the wildcard address on
/// `port`, and for a stream socket `listen` with `backlog`. The sockets that made it (a failed
/// call's error is on the timeline already); none means the server cannot run.
pub(crate) fn serve(sys: &mut Sys<'_>, ty: SockType, on: Listen, port: u16, backlog: usize) -> Vec<Fd> {
    let mut fds = Vec::new();
    for v6 in on.families(sys) {
        let Ok(fd) = sys.socket(ty, v6) else { continue };
        let any: IpAddr = if v6 { Ipv6Addr::UNSPECIFIED.into() } else { Ipv4Addr::UNSPECIFIED.into() };
        let bound = sys.bind(fd, SocketAddr::new(any, port)).is_ok();
        if bound && (ty != SockType::Stream || sys.listen(fd, backlog).is_ok()) {
            fds.push(fd);
        } else {
            let _ = sys.close(fd);
        }
    }
    fds
}
