//! L5 session, TCP/IP model.
//!
//! In the OSI model the session layer opens, uses and closes a dialogue between two
//! applications. In TCP/IP there is no such layer: layers 5–7 merge into the application, and the
//! dialogue is the socket's. So this layer adds no bytes; its record shows the dialogue as the
//! socket calls that carry it (POSIX `socket`, `bind`, `listen`, `accept`, `connect`, `send`,
//! `recv`, `sendto`, `recvfrom`, `close`) and its 5-tuple, and says plainly that the layer is
//! merged into the application.
//!
//! The `osi` model (ISO 8327-1 session SPDUs over RFC 1006) will be a second implementation of
//! [`Layer`] chosen by [`Model`]; this one is `Model::Tcpip`.

use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu, PduName};
use crate::layers::l4_transport::TransportKind;
use crate::stack::Model;
use crate::trace::{Direction, Field, Record};
use serde::Serialize;

/// Which side of the dialogue an end is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Opens the dialogue (`connect`, or the first `sendto`).
    Client,
    /// Waits for it (`bind` to a known port, `listen`, `accept`).
    Server,
}

impl Role {
    fn other(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

/// L5 configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionConfig {
    /// The model (only TCP/IP here).
    pub model: Model,
    /// The socket's transport.
    pub transport: TransportKind,
    /// This end, "192.0.2.1:51000".
    pub local: String,
    /// The peer, "192.0.2.2:3000".
    pub remote: String,
    /// The role of the end that sends the application's data; the receiving end has the other.
    pub sender_role: Role,
    /// IPv6 (AF_INET6) rather than IPv4 (AF_INET).
    pub ipv6: bool,
}

/// The session layer of the TCP/IP model: the socket, adding no bytes.
#[derive(Debug, Clone)]
pub struct SocketSession {
    cfg: SessionConfig,
    /// On the way up: the socket has been opened (its opening calls are in an earlier record).
    open_up: bool,
}

impl SocketSession {
    /// A session layer.
    pub fn new(cfg: SessionConfig) -> Self {
        SocketSession { cfg, open_up: false }
    }

    fn family(&self) -> &'static str {
        if self.cfg.ipv6 {
            "AF_INET6"
        } else {
            "AF_INET"
        }
    }

    /// The socket calls, in order, by which this end carries `len` bytes: `sending` or not, as
    /// `role`; `opening` includes the calls that set the socket up (the first piece of a
    /// dialogue). Each is (call, what it does).
    fn calls(&self, sending: bool, role: Role, len: usize, opening: bool) -> Vec<(String, &'static str)> {
        let (l, r) = (&self.cfg.local, &self.cfg.remote);
        let mut c: Vec<(String, &'static str)> = Vec::new();
        match (self.cfg.transport, role) {
            _ if !opening => {}
            (TransportKind::Tcp, Role::Client) => {
                c.push((
                    format!("socket({}, SOCK_STREAM)", self.family()),
                    "a TCP socket, a file descriptor for the process",
                ));
                c.push((
                    format!("connect({r})"),
                    "the kernel picks the local port and opens the connection (its SYN, SYN-ACK, ACK come before this trace's segments)",
                ));
            }
            (TransportKind::Tcp, Role::Server) => {
                c.push((format!("socket({}, SOCK_STREAM)", self.family()), "the listening socket"));
                c.push((format!("bind({l})"), "claims the server's port (EADDRINUSE if another socket has it)"));
                c.push(("listen(128)".into(), "the kernel queues incoming connections, up to the backlog"));
                c.push((format!("accept() = {r}"), "a new socket for this one client's connection"));
            }
            (TransportKind::Udp, Role::Client) => {
                c.push((format!("socket({}, SOCK_DGRAM)", self.family()), "a UDP socket: no connection to open"));
            }
            (TransportKind::Udp, Role::Server) => {
                c.push((format!("socket({}, SOCK_DGRAM)", self.family()), "a UDP socket"));
                c.push((format!("bind({l})"), "claims the server's port"));
            }
            (TransportKind::Icmp, _) => {
                let proto = if self.cfg.ipv6 { "IPPROTO_ICMPV6" } else { "IPPROTO_ICMP" };
                c.push((
                    format!("socket({}, SOCK_DGRAM, {proto})", self.family()),
                    "a ping socket: the kernel builds the echo's header",
                ));
            }
        }
        let stream = self.cfg.transport == TransportKind::Tcp;
        c.push(match (stream, sending) {
            (true, true) => (format!("send({len})"), "bytes into the connection's byte stream"),
            (true, false) => (format!("recv() = {len}"), "bytes out of the connection's byte stream"),
            (false, true) => (format!("sendto({r}, {len})"), "one datagram, one message"),
            (false, false) => (format!("recvfrom() = {len} from {r}"), "one datagram, one message"),
        });
        if stream && sending {
            c.push(("close()".into(), "ends the dialogue (its FIN comes after this trace's segments)"));
        }
        c
    }

    fn record(&self, direction: Direction, len: usize, opening: bool) -> Record {
        let sending = direction == Direction::Down;
        let role = if sending { self.cfg.sender_role } else { self.cfg.sender_role.other() };
        let proto = self.cfg.transport.name();
        let (from, to) =
            if sending { (&self.cfg.local, &self.cfg.remote) } else { (&self.cfg.remote, &self.cfg.local) };
        let mut r =
            Record::new(LayerId::Session, direction, "session", "Session (TCP/IP model: the socket)", PduName::Data);
        r.summary = format!(
            "{proto} {from} → {to}, {len} bytes, {} side",
            if role == Role::Client { "client" } else { "server" }
        );
        r.payload_len = len;
        let Model::Tcpip = self.cfg.model;
        r.fields.push(
            Field::text("session.model", "Model", "tcpip").shown("TCP/IP: layers 5–7 merged into the application"),
        );
        r.fields.push(Field::text("session.role", "Role", if role == Role::Client { "client" } else { "server" }));
        r.fields.push(Field::text("session.tuple", "5-tuple", format!("{proto} {from} → {to}")));
        for (call, what) in self.calls(sending, role, len, opening) {
            r.fields.push(Field::text("session.call", "Socket call", call.clone()).shown(format!("{call}: {what}")));
        }
        r.notes.push("in TCP/IP the session layer is merged into the application: the socket holds the dialogue, and this layer adds no bytes".into());
        r
    }
}

impl Layer for SocketSession {
    fn id(&self) -> LayerId {
        LayerId::Session
    }

    /// One message, one dialogue: the socket is opened, written and closed.
    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        cx.trace.push(self.record(Direction::Down, sdu.len(), true));
        Ok(vec![sdu])
    }

    /// Each piece the transport delivers is one read; the socket's opening calls show once.
    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let opening = !std::mem::replace(&mut self.open_up, true);
        cx.trace.push(self.record(Direction::Up, pdu.len(), opening));
        Ok(Some(pdu))
    }

    /// The peer closed: a stream socket reads end-of-file and is closed.
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        if self.open_up && self.cfg.transport == TransportKind::Tcp {
            let mut r = self.record(Direction::Up, 0, false);
            r.summary = "the peer closed the connection: recv() returns 0, the socket is closed".into();
            r.fields.retain(|f| f.name != "session.call");
            r.fields.push(
                Field::text("session.call", "Socket call", "recv() = 0")
                    .shown("recv() = 0: end of stream, the peer closed"),
            );
            r.fields.push(
                Field::text("session.call", "Socket call", "close()").shown("close(): ends this end of the dialogue"),
            );
            cx.trace.push(r);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(transport: TransportKind, sender_role: Role) -> SocketSession {
        SocketSession::new(SessionConfig {
            model: Model::Tcpip,
            transport,
            local: "192.0.2.1:51000".into(),
            remote: "192.0.2.2:3000".into(),
            sender_role,
            ipv6: false,
        })
    }

    fn calls(r: &Record) -> Vec<String> {
        r.fields.iter().filter(|f| f.name == "session.call").map(|f| f.value.to_string()).collect()
    }

    #[test]
    fn tcp_client_sends_and_server_receives() {
        let mut s = session(TransportKind::Tcp, Role::Client);
        let mut cx = Context::default();
        let out = s.encapsulate(Pdu::bytes(b"hello".to_vec()), &mut cx).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 5, "no bytes added");
        let down = &cx.trace.records[0];
        assert_eq!(calls(down), ["socket(AF_INET, SOCK_STREAM)", "connect(192.0.2.2:3000)", "send(5)", "close()"]);
        assert_eq!(down.field("session.tuple").unwrap().value.to_string(), "TCP 192.0.2.1:51000 → 192.0.2.2:3000");
        assert_eq!(down.overhead, 0);
        // The receiving end of the same dialogue is the server (its config is the mirror).
        let mut server = SocketSession::new(SessionConfig {
            local: "192.0.2.2:3000".into(),
            remote: "192.0.2.1:51000".into(),
            ..s.cfg.clone()
        });
        server.decapsulate(out.into_iter().next().unwrap(), &mut cx).unwrap();
        let up = &cx.trace.records[1];
        assert_eq!(
            calls(up),
            [
                "socket(AF_INET, SOCK_STREAM)",
                "bind(192.0.2.2:3000)",
                "listen(128)",
                "accept() = 192.0.2.1:51000",
                "recv() = 5"
            ]
        );
        // A second piece of the same stream is one more read, not a second socket.
        server.decapsulate(Pdu::bytes(b"more".to_vec()), &mut cx).unwrap();
        assert_eq!(calls(&cx.trace.records[2]), ["recv() = 4"]);
        // The peer closes: end of file, then close.
        server.finish(&mut cx).unwrap();
        assert_eq!(calls(&cx.trace.records[3]), ["recv() = 0", "close()"]);
        let up = &cx.trace.records[1];
        assert_eq!(up.field("session.tuple").unwrap().value.to_string(), "TCP 192.0.2.1:51000 → 192.0.2.2:3000");
        assert_eq!(up.field("session.role").unwrap().value.to_string(), "server");
    }

    #[test]
    fn udp_server_answers() {
        let mut s = session(TransportKind::Udp, Role::Server);
        let mut cx = Context::default();
        s.encapsulate(Pdu::bytes(vec![0; 40]), &mut cx).unwrap();
        assert_eq!(
            calls(&cx.trace.records[0]),
            ["socket(AF_INET, SOCK_DGRAM)", "bind(192.0.2.1:51000)", "sendto(192.0.2.2:3000, 40)"]
        );
    }

    #[test]
    fn record_says_the_layer_is_merged() {
        let mut s = session(TransportKind::Icmp, Role::Client);
        let mut cx = Context::default();
        s.encapsulate(Pdu::bytes(vec![1]), &mut cx).unwrap();
        let r = &cx.trace.records[0];
        assert!(r.notes[0].contains("merged into the application"));
        assert_eq!(calls(r)[0], "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)");
    }
}
