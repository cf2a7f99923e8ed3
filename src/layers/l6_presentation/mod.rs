//! L6 presentation: the transforms the OSI model gives this layer, applied in this order going
//! down and undone in reverse going up: text encoding, compression, encryption.
//!
//! CONTRACT (used by the stack and the CLI; keep these names and signatures):
//! - `TextEncoding` (FromStr: utf-8|utf-16be|iso-8859-1), `Compression` (FromStr: none|deflate|gzip),
//!   `PresentationConfig`, `Presentation::new(cfg) -> Result<Self>`, `impl Layer for Presentation`.

use crate::error::{Error, Result};
use crate::layer::{Context, Layer, LayerId, Pdu};
use serde::Serialize;
use std::str::FromStr;

/// How text is represented as bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TextEncoding {
    /// UTF-8 (RFC 3629): the application's text as it is.
    Utf8,
    /// UTF-16, big-endian, starting with a byte order mark FE FF (RFC 2781).
    Utf16Be,
    /// ISO-8859-1 (Latin-1): one byte per character, U+0000..=U+00FF only.
    Latin1,
}

/// Compression of the (encoded) data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Compression {
    /// None.
    None,
    /// Raw DEFLATE (RFC 1951).
    Deflate,
    /// gzip (RFC 1952).
    Gzip,
}

/// L6 configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresentationConfig {
    /// Whether the application's data is text (chat, HTTP, UTF-8 raw data) or binary (DNS):
    /// only text is re-encoded.
    pub text: bool,
    /// The text encoding on the wire.
    pub encoding: TextEncoding,
    /// The compression.
    pub compression: Compression,
    /// A pre-shared 256-bit secret: encrypt each unit with ChaCha20-Poly1305 (RFC 8439) in TLS 1.3
    /// application-data records (RFC 8446 §5.2).
    #[serde(skip)]
    pub key: Option<[u8; 32]>,
    /// This endpoint ("192.0.2.1:51000") and its peer: each direction of the dialogue gets its own
    /// key and IV, derived from the secret and the sending endpoint.
    pub local: String,
    /// The peer endpoint.
    pub remote: String,
}

/// The presentation layer.
#[derive(Debug, Clone)]
pub struct Presentation {
    cfg: PresentationConfig,
}

impl Presentation {
    /// A presentation layer, or a config error.
    pub fn new(cfg: PresentationConfig) -> Result<Self> {
        Ok(Presentation { cfg })
    }
}

impl Layer for Presentation {
    fn id(&self) -> LayerId {
        LayerId::Presentation
    }
    // TEMPORARY identity until the transforms land (being built now).
    fn encapsulate(&mut self, sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        if self.cfg.key.is_some() || self.cfg.compression != Compression::None || self.cfg.encoding != TextEncoding::Utf8 {
            return Err(Error::config(Some(LayerId::Presentation), "L6 transforms not built yet"));
        }
        Ok(vec![sdu])
    }
    fn decapsulate(&mut self, pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Ok(Some(pdu))
    }
}

impl FromStr for TextEncoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(TextEncoding::Utf8),
            "utf-16be" | "utf16be" | "utf-16" => Ok(TextEncoding::Utf16Be),
            "iso-8859-1" | "latin1" | "latin-1" => Ok(TextEncoding::Latin1),
            _ => Err(format!("unknown encoding {s:?}: expected utf-8, utf-16be or iso-8859-1")),
        }
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "deflate" => Ok(Compression::Deflate),
            "gzip" => Ok(Compression::Gzip),
            _ => Err(format!("unknown compression {s:?}: expected deflate or gzip")),
        }
    }
}
