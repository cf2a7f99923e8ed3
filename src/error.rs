//! Errors that say where: which layer, which byte offset, what was expected and what was found.
//!
//! Length problems ([`ErrorKind::Truncated`]) and content problems ([`ErrorKind::Invalid`],
//! [`ErrorKind::Checksum`]) are different variants, so a caller can tell "the frame was cut short"
//! from "the frame was damaged". Offsets are counted from the first byte of the Ethernet frame (the
//! destination MAC) on the receive path, and from the first bit after nothing at all at L1 (the
//! first preamble bit), so that a user can find the byte in `--format hex` or in Wireshark.

use crate::layer::LayerId;
use std::fmt;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error raised by a layer (or by configuration), naming the layer and, where it applies, the
/// byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    /// The layer that found the problem; `None` for configuration errors outside any layer.
    pub layer: Option<LayerId>,
    /// The protocol inside that layer ("Ethernet II", "IPv4", "TCP"...).
    pub protocol: &'static str,
    /// Byte offset from the start of the frame (bit offset for L1 [`ErrorKind::Code`] errors).
    pub offset: Option<usize>,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The data ends before a header or a length field says it should.
    Truncated { what: String, needed: usize, available: usize },
    /// A field holds a value the standard does not allow (or that this host refuses).
    Invalid { what: String, expected: String, found: String },
    /// A checksum / CRC did not verify.
    Checksum { what: String, expected: u64, found: u64, width: u8 },
    /// An L1 line-code violation or framing problem, at a bit offset.
    Code { what: String, bit: usize },
    /// A bad option or argument (bad address, MTU below 68, unknown line code...).
    Config(String),
    /// Reading or writing a file failed.
    Io(String),
}

impl Error {
    /// A length error. `offset` is a byte of the received frame, or `None` on the send path.
    pub fn truncated(
        layer: LayerId,
        protocol: &'static str,
        offset: impl Into<Option<usize>>,
        what: impl Into<String>,
        needed: usize,
        available: usize,
    ) -> Self {
        Error {
            layer: Some(layer),
            protocol,
            offset: offset.into(),
            kind: ErrorKind::Truncated { what: what.into(), needed, available },
        }
    }

    /// A content error: `what` at `offset` should be `expected` but is `found`. `offset` is a byte
    /// of the received frame, or `None` on the send path (nothing has been framed yet).
    pub fn invalid(
        layer: LayerId,
        protocol: &'static str,
        offset: impl Into<Option<usize>>,
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error {
            layer: Some(layer),
            protocol,
            offset: offset.into(),
            kind: ErrorKind::Invalid { what: what.into(), expected: expected.into(), found: found.into() },
        }
    }

    /// A checksum mismatch; `width` is the checksum's size in bytes (2 for the Internet checksum,
    /// 4 for CRC-32) and only affects how the values print.
    pub fn checksum(
        layer: LayerId,
        protocol: &'static str,
        offset: usize,
        what: impl Into<String>,
        expected: u64,
        found: u64,
        width: u8,
    ) -> Self {
        Error {
            layer: Some(layer),
            protocol,
            offset: Some(offset),
            kind: ErrorKind::Checksum { what: what.into(), expected, found, width },
        }
    }

    /// An L1 code violation at a bit offset (counted from the first bit of the preamble).
    pub fn code(layer: LayerId, protocol: &'static str, bit: usize, what: impl Into<String>) -> Self {
        Error { layer: Some(layer), protocol, offset: None, kind: ErrorKind::Code { what: what.into(), bit } }
    }

    /// A configuration error, for a layer or for the whole run.
    pub fn config(layer: Option<LayerId>, msg: impl Into<String>) -> Self {
        Error { layer, protocol: "", offset: None, kind: ErrorKind::Config(msg.into()) }
    }

    /// An I/O error (files, pcaps).
    pub fn io(msg: impl Into<String>) -> Self {
        Error { layer: None, protocol: "", offset: None, kind: ErrorKind::Io(msg.into()) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(layer) = self.layer {
            write!(f, "L{} {}", layer.number(), layer.name())?;
            if !self.protocol.is_empty() {
                write!(f, " ({})", self.protocol)?;
            }
            if let Some(off) = self.offset {
                write!(f, " at byte {off}")?;
            }
            if let ErrorKind::Code { bit, .. } = &self.kind {
                write!(f, " at bit {bit}")?;
            }
            f.write_str(": ")?;
        }
        match &self.kind {
            ErrorKind::Truncated { what, needed, available } => {
                write!(f, "truncated {what}: needs {needed} bytes, only {available} present")
            }
            ErrorKind::Invalid { what, expected, found } => {
                write!(f, "bad {what}: expected {expected}, found {found}")
            }
            ErrorKind::Checksum { what, expected, found, width } => {
                let w = usize::from(*width) * 2;
                write!(f, "{what} mismatch: computed 0x{expected:0w$x}, frame carries 0x{found:0w$x}")
            }
            ErrorKind::Code { what, .. } => f.write_str(what),
            ErrorKind::Config(msg) | ErrorKind::Io(msg) => f.write_str(msg),
        }
    }
}
