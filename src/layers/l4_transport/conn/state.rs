//! The connection states of RFC 9293 §3.3.2 (Figure 6, the state diagram).

use serde::Serialize;
use std::fmt;

/// A TCP connection's state (RFC 9293 §3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TcpState {
    /// Waiting for a connection request. A listening socket is the host's; a [`super::TcpConn`]
    /// is never in this state (a SYN to a listener makes a new one in SYN-RECEIVED).
    Listen,
    /// Our SYN is sent; waiting for the peer's SYN and the ACK of ours.
    SynSent,
    /// Both SYNs seen (the peer's received, ours sent); waiting for the ACK of ours.
    SynReceived,
    /// The handshake is done: data flows both ways.
    Established,
    /// We closed (FIN sent); waiting for its ACK or the peer's FIN.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's FIN.
    FinWait2,
    /// The peer closed (its FIN received); waiting for our application to close.
    CloseWait,
    /// Both closed at once: our FIN sent, the peer's received, waiting for the ACK of ours.
    Closing,
    /// The peer closed first and then we did; waiting for the ACK of our FIN.
    LastAck,
    /// Both FINs acknowledged; waiting 2·MSL so that late segments die out (RFC 9293 §3.6.1).
    TimeWait,
    /// No connection.
    Closed,
}

impl TcpState {
    /// The name RFC 9293 gives the state ("SYN-SENT", "ESTABLISHED").
    pub fn rfc_name(self) -> &'static str {
        match self {
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Closed => "CLOSED",
        }
    }

    /// The name `ss` prints in its State column ("ESTAB", "SYN-RECV", "UNCONN" for closed).
    pub fn ss_name(self) -> &'static str {
        match self {
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECV",
            TcpState::Established => "ESTAB",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Closed => "UNCONN",
        }
    }

    /// True once the handshake has completed and until the connection is gone (RFC 9293
    /// §3.10.7.4 calls these, and SYN-RECEIVED, the synchronized states).
    pub fn is_synchronized(self) -> bool {
        !matches!(self, TcpState::Listen | TcpState::SynSent | TcpState::SynReceived | TcpState::Closed)
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rfc_name())
    }
}
