//! L4 transport: UDP and TCP wire formats, with checksums over the IP pseudo-header.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `TransportKind`, `TcpParams`, `TransportConfig`, `Transport::new(cfg) -> Result<Transport>`,
//!   `impl Layer for Transport`

use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu};
use serde::Serialize;
use std::net::IpAddr;

/// Which transport carries the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// TCP (RFC 9293): segments on an established connection.
    Tcp,
    /// UDP (RFC 768): one datagram.
    Udp,
    /// No transport header: the message rides in an ICMP echo at L3 (ping).
    Icmp,
}

/// The TCP connection state a data segment is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TcpParams {
    /// SND.NXT: the sequence number of the first byte sent.
    pub snd_nxt: u32,
    /// RCV.NXT: the next sequence number expected from the peer (sent as the ACK number).
    pub rcv_nxt: u32,
    /// The receive window advertised (unscaled header value).
    pub window: u16,
    /// The peer's MSS: the largest payload of one segment.
    pub mss: u16,
    /// Send the RFC 7323 timestamps option on each segment.
    pub timestamps: bool,
    /// TS.Recent: the TSecr to echo.
    pub ts_recent: u32,
}

/// L4 configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransportConfig {
    /// TCP, UDP or none (ICMP).
    pub kind: TransportKind,
    /// This endpoint's address (for the pseudo-header).
    pub local_ip: IpAddr,
    /// This endpoint's port.
    pub local_port: u16,
    /// The peer's address.
    pub remote_ip: IpAddr,
    /// The peer's port.
    pub remote_port: u16,
    /// TCP connection state (ignored for UDP).
    pub tcp: TcpParams,
}

/// The transport layer.
#[derive(Debug, Clone)]
pub struct Transport {
    cfg: TransportConfig,
}

impl Transport {
    /// A transport layer with this configuration, or a config error.
    pub fn new(cfg: TransportConfig) -> Result<Self> {
        Ok(Transport { cfg })
    }
}

impl Layer for Transport {
    fn id(&self) -> LayerId {
        LayerId::Transport
    }
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        let _ = &self.cfg;
        Err(crate::error::Error::config(Some(LayerId::Transport), "L4 not built yet"))
    }
    fn decapsulate(&mut self, _pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Err(crate::error::Error::config(Some(LayerId::Transport), "L4 not built yet"))
    }
}
