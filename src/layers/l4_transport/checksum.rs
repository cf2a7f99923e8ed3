//! Transport checksums over the IP pseudo-header, for UDP (RFC 768; RFC 8200 §8.1 for IPv6) and
//! TCP (RFC 9293 §3.1), on top of the shared [`crate::layers::checksum`].

use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::layers::checksum as inet;
use serde::Serialize;
use std::net::IpAddr;

/// IP protocol number of TCP (IANA "Assigned Internet Protocol Numbers").
pub const IP_PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const IP_PROTO_UDP: u8 = 17;

/// What a receiver found when it verified a transport checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ChecksumStatus {
    /// The checksum verifies (RFC 1071: the sum over pseudo-header and segment is all ones).
    Good {
        /// The value carried.
        value: u16,
    },
    /// The checksum does not verify.
    Bad {
        /// The value carried in the segment.
        carried: u16,
        /// The value the sender should have put there.
        computed: u16,
    },
    /// UDP over IPv4 with a checksum of 0: the sender did not compute one (RFC 768), accepted.
    NotComputed,
    /// UDP over IPv6 with a checksum of 0: not allowed, the datagram must be discarded
    /// (RFC 8200 §8.1).
    Missing {
        /// The value the sender should have put there.
        computed: u16,
    },
}

impl ChecksumStatus {
    /// True when a receiver accepts the segment (a good checksum, or none over IPv4 UDP).
    pub fn is_acceptable(self) -> bool {
        matches!(self, ChecksumStatus::Good { .. } | ChecksumStatus::NotComputed)
    }

    /// The status as a trace [`Check`](crate::trace::Check) detail: "0x802a (computed 0x802a)".
    pub fn detail(self) -> String {
        match self {
            ChecksumStatus::Good { value } => format!("0x{value:04x} (computed 0x{value:04x})"),
            ChecksumStatus::Bad { carried, computed } => format!("0x{carried:04x} (computed 0x{computed:04x})"),
            ChecksumStatus::NotComputed => "0x0000: not computed by the sender (allowed over IPv4, RFC 768)".into(),
            ChecksumStatus::Missing { computed } => {
                format!(
                    "0x0000 (computed 0x{computed:04x}): a zero UDP checksum is not allowed over IPv6 (RFC 8200 §8.1)"
                )
            }
        }
    }
}

/// The pseudo-header, or an error when the two addresses are of different families or the
/// length does not fit the pseudo-header's length field.
fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize, what: &'static str) -> Result<inet::PseudoHeader> {
    if src.is_ipv4() != dst.is_ipv4() {
        return Err(Error::invalid(
            LayerId::Transport,
            what,
            None,
            "pseudo-header addresses",
            "both IPv4 or both IPv6",
            format!("source {src}, destination {dst}"),
        ));
    }
    // RFC 768 / RFC 9293 §3.1: a 16-bit length over IPv4; RFC 8200 §8.1: 32 bits over IPv6.
    let max = if src.is_ipv4() { usize::from(u16::MAX) } else { u32::MAX as usize };
    inet::pseudo_header_inline(src, dst, proto, len).ok_or_else(|| too_long(what, len, max))
}

fn too_long(what: &'static str, len: usize, max: usize) -> Error {
    Error::invalid(
        LayerId::Transport,
        what,
        None,
        "segment length",
        format!("at most {max} bytes"),
        format!("{len} bytes"),
    )
}

/// The checksum a sender puts in the field at `field` of `segment`: the one's complement of the
/// one's-complement sum over the pseudo-header and the segment with the field zeroed (RFC 1071).
/// A UDP sender sends a computed 0 as 0xFFFF, since 0 means "no checksum" (RFC 768); TCP sends 0.
pub fn compute(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8], field: usize) -> Result<u16> {
    let what = if proto == IP_PROTO_UDP { "UDP" } else { "TCP" };
    let sum = inet::compute(&pseudo_header(src, dst, proto, segment.len(), what)?, segment, field);
    Ok(if proto == IP_PROTO_UDP && sum == 0 { 0xffff } else { sum })
}

/// Verify the checksum carried at `field`: RFC 1071 §1: the sum over the pseudo-header and the
/// whole segment, checksum included, is all ones (so 0x0000 and 0xFFFF both verify when the
/// computed value is 0).
pub fn verify(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8], field: usize) -> Result<ChecksumStatus> {
    let carried = match segment.get(field..field + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    let what = if proto == IP_PROTO_UDP { "UDP" } else { "TCP" };
    let (sum, good) = inet::compute_and_verify(&pseudo_header(src, dst, proto, segment.len(), what)?, segment, field);
    // As `compute` sends it.
    let computed = if proto == IP_PROTO_UDP && sum == 0 { 0xffff } else { sum };
    if proto == IP_PROTO_UDP && carried == 0 {
        return Ok(match src {
            IpAddr::V4(_) => ChecksumStatus::NotComputed,
            IpAddr::V6(_) => ChecksumStatus::Missing { computed },
        });
    }
    Ok(if good { ChecksumStatus::Good { value: carried } } else { ChecksumStatus::Bad { carried, computed } })
}
