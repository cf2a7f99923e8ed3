//! `ping` (RFC 792 echo / RFC 4443 §4.1): echo requests at an interval over a ping socket, each
//! reply or ICMP error printed as iputils' ping prints it, then the statistics.

use crate::host::{Fd, Program, SockEvent, SockType, Sys};
use crate::time::Instant;
use std::any::Any;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// What happened to one echo request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingResult {
    /// A reply came after this round-trip time.
    Reply {
        /// Sequence number.
        seq: u16,
        /// Round-trip time.
        rtt: Duration,
    },
    /// An ICMP error came back from `from`.
    Error {
        /// Sequence number.
        seq: u16,
        /// Who sent it.
        from: IpAddr,
        /// What it said.
        text: String,
    },
}

/// The ping program.
#[derive(Debug)]
pub struct Ping {
    target: IpAddr,
    count: u16,
    interval: Duration,
    size: usize,
    ttl: Option<u8>,
    fd: Option<Fd>,
    sent: BTreeMap<u16, Instant>,
    /// Replies and errors, in order of arrival.
    pub results: Vec<PingResult>,
}

const FINISH: u64 = u64::MAX;

impl Ping {
    /// Ping `target` `count` times, `interval` apart, with `size` bytes of data and TTL `ttl`.
    pub fn new(target: IpAddr, count: u16, interval: Duration, size: usize, ttl: Option<u8>) -> Self {
        Ping { target, count, interval, size, ttl, fd: None, sent: BTreeMap::new(), results: Vec::new() }
    }

    /// Replies received.
    pub fn replies(&self) -> usize {
        self.results.iter().filter(|r| matches!(r, PingResult::Reply { .. })).count()
    }
}

impl Program for Ping {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Ok(fd) = sys.socket(SockType::Ping, self.target.is_ipv6()) else { return sys.exit(2) };
        if let Some(t) = self.ttl {
            let _ = sys.set_ttl(fd, t);
        }
        self.fd = Some(fd);
        sys.log(format!("PING {} ({}) {} data bytes", self.target, self.target, self.size));
        sys.set_timer(Duration::ZERO, 1);
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, _ev: SockEvent) {
        while let Some(e) = sys.recv_error(fd) {
            // The quoted echo request's sequence number: 6 bytes into its ICMP header.
            let seq = crate::layers::l3_network::forward::inspect_quoted(&e.quoted)
                .ok()
                .and_then(|t| e.quoted.get(t.header_len + 6..t.header_len + 8))
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            sys.log(format!("From {} icmp_seq={seq} {}", e.from, e.kind.text()));
            self.results.push(PingResult::Error { seq, from: e.from, text: e.kind.text().to_string() });
        }
        while let Ok((msg, from)) = sys.recvfrom(fd) {
            if msg.len() < 8 {
                continue;
            }
            let seq = u16::from_be_bytes([msg[6], msg[7]]);
            let Some(t0) = self.sent.get(&seq).copied() else { continue };
            let rtt = Duration::from_nanos(sys.now().as_nanos().saturating_sub(t0.as_nanos()));
            sys.log(format!(
                "{} bytes from {}: icmp_seq={seq} time={:.3} ms",
                msg.len(),
                from.ip(),
                rtt.as_secs_f64() * 1000.0
            ));
            self.results.push(PingResult::Reply { seq, rtt });
        }
    }

    fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64) {
        let Some(fd) = self.fd else { return };
        if token == FINISH {
            // iputils waits up to 10 s (its linger) for the answers still missing.
            let last = self.sent.values().max().copied().unwrap_or(Instant::ZERO);
            let waited = sys.now().as_nanos().saturating_sub(last.as_nanos());
            if self.results.len() < self.sent.len() && waited < Duration::from_secs(10).as_nanos() as u64 {
                sys.set_timer(Duration::from_secs(1), FINISH);
                return;
            }
            let n = self.sent.len();
            let got = self.replies();
            let loss = (n - got) * 100 / n.max(1);
            sys.log(format!("--- {} ping statistics ---", self.target));
            sys.log(format!("{n} packets transmitted, {got} received, {loss}% packet loss"));
            let _ = sys.close(fd);
            sys.exit(if got > 0 { 0 } else { 1 });
            return;
        }
        let seq = token as u16;
        // ICMP echo request: type, code, checksum, identifier (the socket's), sequence; then the
        // data as iputils fills it (0x10, 0x11, … after its timestamp; here from the first byte).
        let t = if self.target.is_ipv6() { 128 } else { 8 };
        let mut msg = vec![t, 0, 0, 0, 0, 0];
        msg.extend_from_slice(&seq.to_be_bytes());
        msg.extend((0..self.size).map(|i| (0x10 + i) as u8));
        self.sent.insert(seq, sys.now());
        let _ = sys.sendto(fd, &msg, std::net::SocketAddr::new(self.target, 0));
        if seq < self.count {
            sys.set_timer(self.interval, token + 1);
        } else {
            sys.set_timer(Duration::from_secs(1), FINISH);
        }
    }

    fn report(&self) -> Vec<String> {
        vec![format!("ping {}: {} sent, {} replies", self.target, self.sent.len(), self.replies())]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
