//! L5 session, TCP/IP model: in TCP/IP the session layer is merged into the application, and its
//! duties (open, use and close a dialogue) are done by the socket. This layer adds no bytes; its
//! record names the dialogue by its 5-tuple.

use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu, PduName};
use crate::trace::{Direction, Record};

/// The session layer of the TCP/IP model: the socket, adding no bytes.
#[derive(Debug, Clone)]
pub struct SocketSession {
    /// The dialogue as data this socket sends flows: "TCP 192.0.2.1:51000 → 192.0.2.2:3000".
    pub outgoing: String,
    /// The dialogue as data this socket receives flows: "TCP 192.0.2.2:3000 → 192.0.2.1:51000".
    pub incoming: String,
}

fn record(direction: Direction, len: usize, dialogue: &str) -> Record {
    let mut r =
        Record::new(LayerId::Session, direction, "session", "Session (TCP/IP model: the socket)", PduName::Data);
    r.summary = format!("{dialogue}, {len} bytes");
    r.payload_len = len;
    r.notes.push(
        "in TCP/IP this layer is merged into the application: the socket holds the dialogue, adding no bytes".into(),
    );
    r
}

impl Layer for SocketSession {
    fn id(&self) -> LayerId {
        LayerId::Session
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        cx.trace.push(record(Direction::Down, sdu.len(), &self.outgoing));
        Ok(vec![sdu])
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        cx.trace.push(record(Direction::Up, pdu.len(), &self.incoming));
        Ok(Some(pdu))
    }
}
