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

/// A server's start: `socket`, `bind` to the wildcard address on `port`, and for a stream socket
/// `listen` with `backlog`. `None` when a call failed (its error is on the timeline already).
pub(crate) fn serve(sys: &mut Sys<'_>, ty: SockType, v6: bool, port: u16, backlog: usize) -> Option<Fd> {
    let fd = sys.socket(ty, v6).ok()?;
    let any: IpAddr = if v6 { Ipv6Addr::UNSPECIFIED.into() } else { Ipv4Addr::UNSPECIFIED.into() };
    sys.bind(fd, SocketAddr::new(any, port)).ok()?;
    if ty == SockType::Stream {
        sys.listen(fd, backlog).ok()?;
    }
    Some(fd)
}
