//! DNS messages (RFC 1035) over UDP: queries and responses for A, AAAA and CNAME.
//!
//! CONTRACT (used by the stack and the CLI; keep these names and signatures):
//! - `RrType`, `DnsKind`, `DnsConfig`, `DnsApplication::new(cfg) -> Result<Self>`, `impl Layer`
//! - `question_text(name, rrtype) -> String` and `answer_text(name, ttl, rrtype, rdata) -> String`:
//!   the presentation-format lines that make up the SDU (see the module docs).

use crate::error::{Error, Result};
use crate::layer::{Context, Layer, LayerId, Pdu};
use serde::Serialize;

/// A resource record type (RFC 1035 §3.2.2, RFC 3596 for AAAA); an open enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RrType {
    /// 1: an IPv4 address.
    A,
    /// 28: an IPv6 address.
    Aaaa,
    /// 5: the canonical name of an alias.
    Cname,
    /// Any other type number.
    Other(u16),
}

/// Query or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DnsKind {
    /// A resolver's query (RD set, like dig).
    Query,
    /// A server's response (QR, RD, RA set).
    Response,
}

/// DNS configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DnsConfig {
    /// The message ID.
    pub id: u16,
    /// Query or response.
    pub kind: DnsKind,
}

/// The DNS application.
#[derive(Debug, Clone)]
pub struct DnsApplication {
    cfg: DnsConfig,
}

impl DnsApplication {
    /// A DNS application.
    pub fn new(cfg: DnsConfig) -> Result<Self> {
        Ok(DnsApplication { cfg })
    }
}

/// The SDU line for a question: `www.example. IN AAAA`.
pub fn question_text(name: &str, rrtype: RrType) -> String {
    format!("{name} IN {rrtype:?}")
}

/// The SDU line for an answer: `www.example. 300 IN AAAA 2001:db8::5`.
pub fn answer_text(name: &str, ttl: u32, rrtype: RrType, rdata: &str) -> String {
    format!("{name} {ttl} IN {rrtype:?} {rdata}")
}

impl Layer for DnsApplication {
    fn id(&self) -> LayerId {
        LayerId::Application
    }
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        let _ = &self.cfg;
        Err(Error::config(Some(LayerId::Application), "dns not built yet"))
    }
    fn decapsulate(&mut self, _pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Err(Error::config(Some(LayerId::Application), "dns not built yet"))
    }
}
