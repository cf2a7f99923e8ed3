//! The chat room (`crate::layers::l7_application::chat` defines its line protocol): a server
//! that relays each client's messages to every other connected client, and clients that join,
//! say their lines at set times, and leave.

use super::{recv_all, take_lines, until, Listen};
use crate::host::{Fd, Program, SockEvent, SockType, Sys};
use crate::layers::l7_application::chat::ChatLine;
use std::any::Any;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// The server: listens on a port, accepts every client, and relays: a client's `JOIN nick`
/// becomes `JOINED nick`, `MSG text` becomes `FROM nick text`, `LEAVE` (or the connection
/// closing) becomes `LEFT nick`, each sent to every *other* joined client.
#[derive(Debug, Default)]
pub struct ChatServer {
    port: u16,
    on: Listen,
    backlog: usize,
    listeners: Vec<Fd>,
    clients: BTreeMap<Fd, Client>,
    /// Lines relayed (one per recipient).
    pub relayed: u64,
    /// Lines received that broke the protocol, with the error.
    pub refused: Vec<String>,
}

#[derive(Debug, Default)]
struct Client {
    nick: Option<String>,
    buf: Vec<u8>,
}

impl ChatServer {
    /// A server on `port`, on the families `on` says, with `listen`'s backlog.
    pub fn new(port: u16, on: Listen, backlog: usize) -> Self {
        ChatServer { port, on, backlog, ..Default::default() }
    }

    fn broadcast(&mut self, sys: &mut Sys<'_>, from: Fd, line: &ChatLine) {
        let bytes = line.emit();
        let to: Vec<Fd> =
            self.clients.iter().filter(|(fd, c)| **fd != from && c.nick.is_some()).map(|(fd, _)| *fd).collect();
        for fd in to {
            if sys.send(fd, &bytes).is_ok() {
                self.relayed += 1;
            }
        }
    }

    fn gone(&mut self, sys: &mut Sys<'_>, fd: Fd) {
        if let Some(c) = self.clients.remove(&fd) {
            if let Some(nick) = c.nick {
                self.broadcast(sys, fd, &ChatLine::Left { nick });
            }
        }
        let _ = sys.close(fd);
    }
}

impl Program for ChatServer {
    fn start(&mut self, sys: &mut Sys<'_>) {
        self.listeners = super::serve(sys, SockType::Stream, self.on, self.port, self.backlog);
        if self.listeners.is_empty() {
            return sys.exit(1);
        }
        sys.log(format!("chat server listening on port {}", self.port));
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent) {
        if self.listeners.contains(&fd) {
            while let Ok((c, _)) = sys.accept(fd) {
                self.clients.insert(c, Client::default());
            }
            return;
        }
        match ev {
            SockEvent::Readable | SockEvent::PeerClosed => {
                let mut got = Vec::new();
                let eof = recv_all(sys, fd, &mut got);
                let lines = self
                    .clients
                    .get_mut(&fd)
                    .map(|c| {
                        c.buf.extend_from_slice(&got);
                        take_lines(&mut c.buf)
                    })
                    .unwrap_or_default();
                for raw in lines {
                    match ChatLine::parse_bytes(&raw) {
                        Ok(ChatLine::Join { nick }) => {
                            if let Some(c) = self.clients.get_mut(&fd) {
                                c.nick = Some(nick.clone());
                            }
                            sys.log(format!("{nick} joined"));
                            self.broadcast(sys, fd, &ChatLine::Joined { nick });
                        }
                        Ok(ChatLine::Msg { text }) => {
                            let nick = self.clients.get(&fd).and_then(|c| c.nick.clone());
                            match nick {
                                Some(nick) => self.broadcast(sys, fd, &ChatLine::From { nick, text }),
                                None => self.refused.push("MSG before JOIN".into()),
                            }
                        }
                        Ok(ChatLine::Leave) => {
                            self.gone(sys, fd);
                            return;
                        }
                        Ok(other) => self.refused.push(format!("a client sent a server line: {other}")),
                        Err(e) => self.refused.push(e.to_string()),
                    }
                }
                if eof || ev == SockEvent::PeerClosed {
                    self.gone(sys, fd);
                }
            }
            SockEvent::Error(_) => self.gone(sys, fd),
            _ => {}
        }
    }

    fn on_timer(&mut self, _sys: &mut Sys<'_>, _token: u64) {}

    fn report(&self) -> Vec<String> {
        let mut r = vec![format!("relayed {} lines to {} connected clients", self.relayed, self.clients.len())];
        r.extend(self.refused.iter().map(|e| format!("refused: {e}")));
        r
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A client: connects, sends `JOIN nick`, says each line at its time (since the start of the
/// run), and leaves (`LEAVE`, then close) at `leave_at` if given.
#[derive(Debug, Default)]
pub struct ChatClient {
    server: Option<SocketAddr>,
    nick: String,
    says: Vec<(Duration, String)>,
    leave_at: Option<Duration>,
    fd: Option<Fd>,
    connected: bool,
    /// Lines waiting for the connection.
    backlog: Vec<ChatLine>,
    buf: Vec<u8>,
    /// Every line received from the server, in order.
    pub received: Vec<ChatLine>,
    /// Lines sent (`MSG`s).
    pub sent: Vec<String>,
    /// The connection's error, if it failed.
    pub error: Option<String>,
}

const LEAVE: u64 = u64::MAX;

impl ChatClient {
    /// A client of `server` called `nick`, saying `says` (time since the run's start, text).
    pub fn new(server: SocketAddr, nick: &str, says: Vec<(Duration, String)>, leave_at: Option<Duration>) -> Self {
        ChatClient { server: Some(server), nick: nick.to_string(), says, leave_at, ..Default::default() }
    }

    /// The `FROM` lines received: (nick, text).
    pub fn messages(&self) -> Vec<(String, String)> {
        self.received
            .iter()
            .filter_map(|l| match l {
                ChatLine::From { nick, text } => Some((nick.clone(), text.clone())),
                _ => None,
            })
            .collect()
    }

    fn say(&mut self, sys: &mut Sys<'_>, line: ChatLine) {
        match (self.fd, self.connected) {
            (Some(fd), true) => {
                let _ = sys.send(fd, &line.emit());
            }
            _ => self.backlog.push(line),
        }
    }
}

impl Program for ChatClient {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Some(server) = self.server else { return };
        let Ok(fd) = sys.socket(SockType::Stream, server.is_ipv6()) else { return sys.exit(1) };
        self.fd = Some(fd);
        if let Err(e) = sys.connect(fd, server) {
            self.error = Some(e.to_string());
            return sys.exit(1);
        }
        let now = sys.now();
        for (i, (at, _)) in self.says.iter().enumerate() {
            sys.set_timer(until(now, *at), i as u64);
        }
        if let Some(at) = self.leave_at {
            sys.set_timer(until(now, at), LEAVE);
        }
        self.backlog.insert(0, ChatLine::Join { nick: self.nick.clone() });
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent) {
        match ev {
            SockEvent::Connected => {
                self.connected = true;
                for line in std::mem::take(&mut self.backlog) {
                    let _ = sys.send(fd, &line.emit());
                }
            }
            SockEvent::Readable | SockEvent::PeerClosed => {
                let eof = recv_all(sys, fd, &mut self.buf);
                for raw in take_lines(&mut self.buf) {
                    match ChatLine::parse_bytes(&raw) {
                        Ok(line) => {
                            sys.log(format!("{} sees: {line}", self.nick));
                            self.received.push(line);
                        }
                        Err(e) => self.error = Some(e.to_string()),
                    }
                }
                if eof {
                    let _ = sys.close(fd);
                    self.fd = None;
                }
            }
            SockEvent::Error(e) => {
                self.error = Some(e.to_string());
                sys.log(format!("{}: {e}", self.nick));
                let _ = sys.close(fd);
                self.fd = None;
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64) {
        if token == LEAVE {
            self.say(sys, ChatLine::Leave);
            if let (Some(fd), true) = (self.fd, self.connected) {
                let _ = sys.close(fd);
                self.fd = None;
            }
            return;
        }
        if let Some((_, text)) = self.says.get(token as usize).cloned() {
            self.sent.push(text.clone());
            self.say(sys, ChatLine::Msg { text });
        }
    }

    fn report(&self) -> Vec<String> {
        let mut r = vec![format!(
            "{}: sent {} message{}, received {} from others",
            self.nick,
            self.sent.len(),
            if self.sent.len() == 1 { "" } else { "s" },
            self.messages().len()
        )];
        if let Some(e) = &self.error {
            r.push(format!("error: {e}"));
        }
        r
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
