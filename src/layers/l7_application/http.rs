//! HTTP/1.1 (RFC 9112 message syntax, RFC 9110 semantics).
//!
//! CONTRACT (used by the stack and the CLI; keep these names and signatures):
//! - `HttpKind`, `HttpConfig`, `HttpApplication::new(cfg) -> Result<Self>`, `impl Layer`

use crate::error::{Error, Result};
use crate::layer::{Context, Layer, LayerId, Pdu};
use serde::Serialize;

/// What this endpoint sends; the SDU is always the message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HttpKind {
    /// A client's request.
    Request {
        /// GET, POST, HEAD, PUT, DELETE, OPTIONS… (a token, RFC 9110 §9).
        method: String,
        /// The request target in origin form, e.g. `/index.html` (RFC 9112 §3.2.1).
        target: String,
        /// The Host header's value (RFC 9110 §7.2), e.g. `192.0.2.2` or `www.example`.
        host: String,
    },
    /// A server's response.
    Response {
        /// The status code, 100..=599 (RFC 9110 §15).
        status: u16,
        /// Send the body with `Transfer-Encoding: chunked` in chunks of at most this many bytes
        /// (RFC 9112 §7.1), instead of `Content-Length`.
        chunked: Option<usize>,
    },
}

/// HTTP configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpConfig {
    /// Request or response.
    pub kind: HttpKind,
    /// The body's media type, sent as Content-Type when there is a body.
    pub content_type: String,
}

/// The HTTP application.
#[derive(Debug, Clone)]
pub struct HttpApplication {
    cfg: HttpConfig,
}

impl HttpApplication {
    /// An HTTP application, or a config error (bad method token, status out of range…).
    pub fn new(cfg: HttpConfig) -> Result<Self> {
        Ok(HttpApplication { cfg })
    }
}

impl Layer for HttpApplication {
    fn id(&self) -> LayerId {
        LayerId::Application
    }
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        let _ = &self.cfg;
        Err(Error::config(Some(LayerId::Application), "http not built yet"))
    }
    fn decapsulate(&mut self, _pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Err(Error::config(Some(LayerId::Application), "http not built yet"))
    }
}
