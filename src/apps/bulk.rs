//! Bulk transfer programs for comparing transports: a TCP sender and sink, a UDP sender, and a
//! UDP sink that can echo. Messages are lines; a byte count sends a known pattern (byte i is
//! `i mod 251`, a prime, so a shifted or repeated block shows).

use super::{take_lines, until, Listen};
use crate::host::{Fd, Program, SockEvent, SockType, Sys};
use std::any::Any;
use std::net::SocketAddr;
use std::time::Duration;

/// Byte `i` of the pattern a byte-count transfer sends.
pub fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

/// What a sender sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// These messages, one at each interval (TCP: each followed by LF).
    Messages(Vec<String>),
    /// This many bytes of the pattern, as fast as the transport takes them.
    Bytes(usize),
}

/// A TCP client that connects and sends its payload, then closes.
#[derive(Debug)]
pub struct TcpSender {
    to: SocketAddr,
    payload: Payload,
    interval: Duration,
    start_at: Duration,
    fd: Option<Fd>,
    next: usize,
    /// Bytes accepted by the socket.
    pub sent: usize,
    /// The connection's error, if any.
    pub error: Option<String>,
    /// Closed after sending everything.
    pub done: bool,
}

impl TcpSender {
    /// Send `payload` to `to`, messages `interval` apart, starting at `start_at` (run time).
    pub fn new(to: SocketAddr, payload: Payload, interval: Duration, start_at: Duration) -> Self {
        TcpSender { to, payload, interval, start_at, fd: None, next: 0, sent: 0, error: None, done: false }
    }

    fn pump(&mut self, sys: &mut Sys<'_>) {
        let Some(fd) = self.fd else { return };
        if let Payload::Bytes(total) = self.payload {
            while self.sent < total {
                let chunk: Vec<u8> = (self.sent..total.min(self.sent + 65536)).map(pattern).collect();
                match sys.send(fd, &chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => self.sent += n,
                }
            }
            self.finish(sys);
        }
    }

    fn finish(&mut self, sys: &mut Sys<'_>) {
        if let (Some(fd), false) = (self.fd, self.done) {
            let _ = sys.close(fd);
            self.done = true;
        }
    }
}

impl Program for TcpSender {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Ok(fd) = sys.socket(SockType::Stream, self.to.is_ipv6()) else { return sys.exit(1) };
        self.fd = Some(fd);
        if let Err(e) = sys.connect(fd, self.to) {
            self.error = Some(e.to_string());
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, _fd: Fd, ev: SockEvent) {
        match ev {
            SockEvent::Connected => match &self.payload {
                Payload::Bytes(_) => self.pump(sys),
                Payload::Messages(_) => sys.set_timer(until(sys.now(), self.start_at), 0),
            },
            SockEvent::Writable => self.pump(sys),
            SockEvent::Error(e) => {
                self.error = Some(e.to_string());
                sys.log(format!("tcp-sender: {e}"));
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, sys: &mut Sys<'_>, _token: u64) {
        let (Some(fd), Payload::Messages(m)) = (self.fd, &self.payload) else { return };
        let Some(msg) = m.get(self.next).cloned() else { return };
        let count = m.len();
        let mut line = msg.into_bytes();
        line.push(b'\n');
        if let Ok(n) = sys.send(fd, &line) {
            self.sent += n;
        }
        self.next += 1;
        if self.next < count {
            sys.set_timer(self.interval, 0);
        } else {
            self.finish(sys);
        }
    }

    fn report(&self) -> Vec<String> {
        let mut r = vec![format!("tcp-sender → {}: {} bytes sent", self.to, self.sent)];
        r.extend(self.error.iter().map(|e| format!("error: {e}")));
        r
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A TCP server that accepts connections and keeps what each sends.
#[derive(Debug, Default)]
pub struct TcpSink {
    port: u16,
    on: Listen,
    listeners: Vec<Fd>,
    partial: Vec<u8>,
    /// Every byte received, all connections in order of arrival.
    pub data: Vec<u8>,
    /// Lines received.
    pub lines: Vec<String>,
    /// Connections that ended with end of file.
    pub finished: usize,
}

impl TcpSink {
    /// A sink on `port`, on the families `on` says.
    pub fn new(port: u16, on: Listen) -> Self {
        TcpSink { port, on, ..Default::default() }
    }
}

impl Program for TcpSink {
    fn start(&mut self, sys: &mut Sys<'_>) {
        self.listeners = super::serve(sys, SockType::Stream, self.on, self.port, 16);
        if self.listeners.is_empty() {
            sys.exit(1);
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent) {
        if self.listeners.contains(&fd) {
            while sys.accept(fd).is_ok() {}
            return;
        }
        if matches!(ev, SockEvent::Readable | SockEvent::PeerClosed) {
            loop {
                match sys.recv(fd) {
                    Ok(d) if d.is_empty() => {
                        self.finished += 1;
                        let _ = sys.close(fd);
                        break;
                    }
                    Ok(d) => {
                        self.data.extend_from_slice(&d);
                        self.partial.extend_from_slice(&d);
                        for l in take_lines(&mut self.partial) {
                            self.lines.push(String::from_utf8_lossy(&l).into_owned());
                        }
                        if self.partial.len() > 4096 {
                            self.partial.clear();
                        }
                    }
                    Err(_) => break,
                }
            }
        }
    }

    fn on_timer(&mut self, _sys: &mut Sys<'_>, _token: u64) {}

    fn report(&self) -> Vec<String> {
        vec![format!("tcp-sink :{}: {} bytes, {} lines received", self.port, self.data.len(), self.lines.len())]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A UDP client that sends its messages as datagrams, `interval` apart.
#[derive(Debug)]
pub struct UdpSender {
    to: SocketAddr,
    messages: Vec<String>,
    interval: Duration,
    start_at: Duration,
    fd: Option<Fd>,
    next: usize,
    /// Datagrams sent.
    pub sent: usize,
    /// Replies received (from an echoing peer).
    pub replies: Vec<String>,
}

impl UdpSender {
    /// Send `messages` to `to`, `interval` apart from `start_at` (run time).
    pub fn new(to: SocketAddr, messages: Vec<String>, interval: Duration, start_at: Duration) -> Self {
        UdpSender { to, messages, interval, start_at, fd: None, next: 0, sent: 0, replies: Vec::new() }
    }
}

impl Program for UdpSender {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Ok(fd) = sys.socket(SockType::Dgram, self.to.is_ipv6()) else { return sys.exit(1) };
        self.fd = Some(fd);
        sys.set_timer(until(sys.now(), self.start_at), 0);
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, _ev: SockEvent) {
        while let Ok((d, _)) = sys.recvfrom(fd) {
            self.replies.push(String::from_utf8_lossy(&d).into_owned());
        }
    }

    fn on_timer(&mut self, sys: &mut Sys<'_>, _token: u64) {
        let Some(fd) = self.fd else { return };
        let Some(m) = self.messages.get(self.next).cloned() else { return };
        if sys.sendto(fd, m.as_bytes(), self.to).is_ok() {
            self.sent += 1;
        }
        self.next += 1;
        if self.next < self.messages.len() {
            sys.set_timer(self.interval, 0);
        }
    }

    fn report(&self) -> Vec<String> {
        vec![format!("udp-sender → {}: {} datagrams sent, {} replies", self.to, self.sent, self.replies.len())]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A UDP server that keeps every datagram, and sends it back when `echo` (RFC 862's echo).
#[derive(Debug, Default)]
pub struct UdpSink {
    port: u16,
    on: Listen,
    echo: bool,
    /// Datagrams received, in order.
    pub received: Vec<String>,
}

impl UdpSink {
    /// A sink (or echo server) on `port`, on the families `on` says.
    pub fn new(port: u16, on: Listen, echo: bool) -> Self {
        UdpSink { port, on, echo, ..Default::default() }
    }
}

impl Program for UdpSink {
    fn start(&mut self, sys: &mut Sys<'_>) {
        if super::serve(sys, SockType::Dgram, self.on, self.port, 0).is_empty() {
            sys.exit(1);
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, _ev: SockEvent) {
        while let Ok((d, from)) = sys.recvfrom(fd) {
            self.received.push(String::from_utf8_lossy(&d).into_owned());
            if self.echo {
                let _ = sys.sendto(fd, &d, from);
            }
        }
    }

    fn on_timer(&mut self, _sys: &mut Sys<'_>, _token: u64) {}

    fn report(&self) -> Vec<String> {
        vec![format!(
            "udp-{} :{}: {} datagrams received",
            if self.echo { "echo" } else { "sink" },
            self.port,
            self.received.len()
        )]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
