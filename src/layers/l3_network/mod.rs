//! L3 network: IPv4 (with fragmentation and reassembly), IPv6, ICMPv4 and ICMPv6 echo.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `EchoConfig`, `NetworkConfig`, `Network::new(cfg) -> Result<Network>`, `impl Layer for Network`

use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu};
use serde::Serialize;
use std::net::IpAddr;

/// Send the SDU as the data of an ICMP (ICMPv6 over IPv6) echo request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EchoConfig {
    /// Identifier.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
}

/// L3 configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkConfig {
    /// This host's address (source of packets sent; packets received must be addressed to it).
    pub local: IpAddr,
    /// The peer (same family as `local`).
    pub remote: IpAddr,
    /// IPv4 TTL / IPv6 hop limit of packets sent.
    pub ttl: u8,
    /// The link MTU: the largest IP packet sent without fragmenting (≥ 68 for IPv4, RFC 791;
    /// ≥ 1280 for IPv6, RFC 8200 §5).
    pub mtu: usize,
    /// Set DF on IPv4 packets sent (then a packet larger than the MTU is an error, not fragmented).
    pub dont_fragment: bool,
    /// Identification of the first IPv4 packet sent; each next packet takes the next value.
    pub ident: u16,
    /// Carry the SDU in an ICMP echo request instead of handing it a transport header.
    pub echo: Option<EchoConfig>,
    /// Accept packets addressed to any host (a capture).
    pub promiscuous: bool,
}

/// The network layer.
#[derive(Debug, Clone)]
pub struct Network {
    cfg: NetworkConfig,
}

impl Network {
    /// A network layer with this configuration, or a config error (mixed families, MTU too small).
    pub fn new(cfg: NetworkConfig) -> Result<Self> {
        Ok(Network { cfg })
    }
}

impl Layer for Network {
    fn id(&self) -> LayerId {
        LayerId::Network
    }
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        let _ = &self.cfg;
        Err(crate::error::Error::config(Some(LayerId::Network), "L3 not built yet"))
    }
    fn decapsulate(&mut self, _pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Err(crate::error::Error::config(Some(LayerId::Network), "L3 not built yet"))
    }
}
