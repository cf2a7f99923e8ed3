//! TCP options (RFC 9293 §3.1 and §3.2; MSS RFC 9293 §3.7.1; window scale and timestamps
//! RFC 7323; SACK RFC 2018).
//!
//! Two forms (RFC 9293 §3.1, "Options"): a single kind octet (End of Option List 0, No-Operation
//! 1), or kind, length (counting kind and length) and data. [`TcpOption`] is an open enum: a kind
//! it does not know survives a round trip as [`TcpOption::Unknown`].
//!
//! etherparse's `TcpOptionElement` covers the known kinds but rejects unknown ones and has no
//! End-of-List element, so the codec here is our own; a test checks it against etherparse.

use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::trace::{Field, Name, Value};
use etherparse::TcpOptionElement;
use std::fmt::Write as _;

/// Option kinds (IANA "TCP Option Kind Numbers").
pub mod kind {
    /// End of Option List (RFC 9293 §3.1).
    pub const EOL: u8 = 0;
    /// No-Operation (RFC 9293 §3.1).
    pub const NOP: u8 = 1;
    /// Maximum Segment Size (RFC 9293 §3.1, §3.7.1).
    pub const MSS: u8 = 2;
    /// Window Scale (RFC 7323 §2.2).
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK-Permitted (RFC 2018 §2).
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK (RFC 2018 §3).
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323 §3.2).
    pub const TIMESTAMPS: u8 = 8;
}

/// The most option bytes a header holds: data offset 15 words − 5 words of fixed header
/// (RFC 9293 §3.1).
pub const MAX_OPTIONS_LEN: usize = 40;

/// One TCP option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOption {
    /// Kind 0: the end of the options; what follows is padding (RFC 9293 §3.1).
    EndOfList,
    /// Kind 1: padding between options, e.g. to align a timestamp on 4 bytes.
    Nop,
    /// Kind 2, length 4: the largest segment the sender can receive (SYN only, RFC 9293 §3.7.1).
    Mss(u16),
    /// Kind 3, length 3: the window shift count (SYN only, RFC 7323 §2.2).
    WindowScale(u8),
    /// Kind 4, length 2: the sender can receive SACK options (SYN only, RFC 2018 §2).
    SackPermitted,
    /// Kind 5, length 2 + 8n: blocks of data received out of order, (left edge, right edge)
    /// (RFC 2018 §3); at most 4 fit in the option space.
    Sack(Vec<(u32, u32)>),
    /// Kind 8, length 10: TSval, the sender's clock; TSecr, the TSval echoed (RFC 7323 §3.2).
    Timestamps {
        /// Timestamp value.
        tsval: u32,
        /// Timestamp echo reply.
        tsecr: u32,
    },
    /// Any other kind, with its data (the bytes after kind and length).
    Unknown {
        /// The kind.
        kind: u8,
        /// The option's data.
        data: Vec<u8>,
    },
}

fn malformed(offset: usize, what: &str, expected: impl Into<String>, found: impl Into<String>) -> Error {
    Error::invalid(LayerId::Transport, "TCP", offset, what, expected, found)
}

impl TcpOption {
    /// The options Linux puts on a SYN (`tcp_options_write`, net/ipv4/tcp_output.c), in its
    /// order: MSS; SACK-permitted packed with the timestamps (or NOP, NOP, timestamps without
    /// SACK); NOP, NOP, SACK-permitted when there are no timestamps; NOP, window scale.
    /// With everything on: `02 04 mss | 04 02 08 0a tsval tsecr | 01 03 03 ws`.
    pub fn linux_syn(mss: u16, sack_permitted: bool, timestamps: Option<(u32, u32)>, wscale: Option<u8>) -> Vec<Self> {
        let mut v = vec![TcpOption::Mss(mss)];
        match (timestamps, sack_permitted) {
            (Some((tsval, tsecr)), true) => {
                v.extend([TcpOption::SackPermitted, TcpOption::Timestamps { tsval, tsecr }])
            }
            (Some((tsval, tsecr)), false) => {
                v.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::Timestamps { tsval, tsecr }])
            }
            (None, true) => v.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::SackPermitted]),
            (None, false) => {}
        }
        if let Some(ws) = wscale {
            v.extend([TcpOption::Nop, TcpOption::WindowScale(ws)]);
        }
        v
    }

    /// The options Linux puts on a segment of an established connection: NOP, NOP, timestamps
    /// (so TSval and TSecr sit on 4-byte boundaries, RFC 7323 Appendix A), then NOP, NOP, SACK
    /// when there are out-of-order blocks to report.
    pub fn linux_established(timestamps: Option<(u32, u32)>, sack: &[(u32, u32)]) -> Vec<Self> {
        let mut v = Vec::new();
        if let Some((tsval, tsecr)) = timestamps {
            v.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::Timestamps { tsval, tsecr }]);
        }
        if !sack.is_empty() {
            v.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::Sack(sack.to_vec())]);
        }
        v
    }

    /// The kind octet.
    pub fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => kind::EOL,
            TcpOption::Nop => kind::NOP,
            TcpOption::Mss(_) => kind::MSS,
            TcpOption::WindowScale(_) => kind::WINDOW_SCALE,
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamps { .. } => kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// The encoded length: 1 for EOL and NOP, else the length octet's value.
    pub fn len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::Nop => 1,
            TcpOption::Mss(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(blocks) => 2 + 8 * blocks.len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Never: every option has at least its kind octet.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Append the option's bytes to `out`, or an error for an option that cannot be encoded
    /// (a SACK with no block or more than 4, unknown data longer than 38 bytes, an unknown kind
    /// that is really 0 or 1).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let bad = |what: &str, expected: &str, found: String| {
            Error::invalid(LayerId::Transport, "TCP", None, what, expected, found)
        };
        let len =
            u8::try_from(self.len()).map_err(|_| bad("TCP option length", "at most 40", self.len().to_string()))?;
        match self {
            TcpOption::EndOfList | TcpOption::Nop => out.push(self.kind()),
            TcpOption::Mss(v) => out.extend([kind::MSS, len, (v >> 8) as u8, *v as u8]),
            TcpOption::WindowScale(s) => out.extend([kind::WINDOW_SCALE, len, *s]),
            TcpOption::SackPermitted => out.extend([kind::SACK_PERMITTED, len]),
            TcpOption::Sack(blocks) => {
                // RFC 2018 §3: 1 to 4 blocks (4 × 8 + 2 = 34 of the 40 option bytes).
                if blocks.is_empty() || blocks.len() > 4 {
                    return Err(bad("SACK option", "1 to 4 blocks", format!("{} blocks", blocks.len())));
                }
                out.extend([kind::SACK, len]);
                for (l, r) in blocks {
                    out.extend(l.to_be_bytes());
                    out.extend(r.to_be_bytes());
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                out.extend([kind::TIMESTAMPS, len]);
                out.extend(tsval.to_be_bytes());
                out.extend(tsecr.to_be_bytes());
            }
            TcpOption::Unknown { kind, data } => {
                if *kind <= kind::NOP {
                    return Err(bad("unknown TCP option kind", "2 to 255", kind.to_string()));
                }
                if data.len() > MAX_OPTIONS_LEN - 2 {
                    return Err(bad("TCP option length", "at most 40", self.len().to_string()));
                }
                out.extend([*kind, len]);
                out.extend(data);
            }
        }
        Ok(())
    }

    /// Parse the options area of a header. `offset` is the frame offset of `bytes[0]`, for the
    /// errors. RFC 9293 §3.1: after End of Option List the rest is padding; when that padding is
    /// all zeros (as senders write it) each zero is listed as an `EndOfList`, as Wireshark shows
    /// it, so that emitting the list gives the same bytes back.
    pub fn parse_all(bytes: &[u8], offset: usize) -> Result<Vec<TcpOption>> {
        match TcpOption::parse_prefix(bytes, offset) {
            (options, None) => Ok(options),
            (_, Some(e)) => Err(e),
        }
    }

    /// As [`TcpOption::parse_all`], but a malformed option does not lose the ones before it:
    /// the options read up to the first malformed one, and its error. A capture shows those, as
    /// Wireshark lists the options it could read before the bad one.
    pub fn parse_prefix(bytes: &[u8], offset: usize) -> (Vec<TcpOption>, Option<Error>) {
        // Most headers carry a handful (NOP, NOP, Timestamps; a SYN's MSS, SACK_PERM, WS).
        let mut out = Vec::with_capacity(if bytes.is_empty() { 0 } else { 6 });
        let mut i = 0;
        while let Some(&k) = bytes.get(i) {
            match TcpOption::parse_one(bytes, i, k, offset) {
                Ok(None) => {
                    let rest = bytes.get(i..).unwrap_or(&[]);
                    let n = if rest.iter().all(|&b| b == 0) { rest.len() } else { 1 };
                    out.extend(std::iter::repeat(TcpOption::EndOfList).take(n));
                    break;
                }
                Ok(Some((opt, len))) => {
                    out.push(opt);
                    i += len;
                }
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// The option of kind `k` at `bytes[i]` and the octets it takes; `None` for End of Option
    /// List (the rest is padding).
    fn parse_one(bytes: &[u8], i: usize, k: u8, offset: usize) -> Result<Option<(TcpOption, usize)>> {
        let at = offset + i;
        match k {
            kind::EOL => return Ok(None),
            kind::NOP => return Ok(Some((TcpOption::Nop, 1))),
            _ => {}
        }
        // RFC 9293 §3.1: kind, length, data; the length counts kind and length octets.
        let Some(&len) = bytes.get(i + 1) else {
            return Err(malformed(
                at,
                &format!("TCP option {k} ({})", kind_name(k)),
                "a length octet",
                "the end of the header",
            ));
        };
        let len = usize::from(len);
        if len < 2 {
            return Err(malformed(
                at + 1,
                &format!("TCP option {k} ({}) length", kind_name(k)),
                "at least 2 (kind and length octets)",
                len.to_string(),
            ));
        }
        let Some(body) = bytes.get(i + 2..i + len) else {
            return Err(malformed(
                at + 1,
                &format!("TCP option {k} ({}) length", kind_name(k)),
                format!("at most {} (the bytes left in the header)", bytes.len() - i),
                format!("{len}: the option overruns the header"),
            ));
        };
        let fixed = |want: usize| -> Result<()> {
            if len == want {
                Ok(())
            } else {
                Err(malformed(
                    at + 1,
                    &format!("TCP option {k} ({}) length", kind_name(k)),
                    want.to_string(),
                    len.to_string(),
                ))
            }
        };
        let be32 = |b: &[u8], at: usize| -> u32 {
            b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()).map_or(0, u32::from_be_bytes)
        };
        let opt = match k {
            kind::MSS => {
                fixed(4)?; // RFC 9293 §3.2
                TcpOption::Mss(u16::from_be_bytes([body[0], body[1]]))
            }
            kind::WINDOW_SCALE => {
                fixed(3)?; // RFC 7323 §2.2
                TcpOption::WindowScale(body[0])
            }
            kind::SACK_PERMITTED => {
                fixed(2)?; // RFC 2018 §2
                TcpOption::SackPermitted
            }
            kind::SACK => {
                // RFC 2018 §3: length 2 + 8n, n ≥ 1.
                if len < 10 || (len - 2) % 8 != 0 {
                    return Err(malformed(at + 1, "TCP option 5 (SACK) length", "2 + 8n, n ≥ 1", len.to_string()));
                }
                TcpOption::Sack(body.chunks_exact(8).map(|c| (be32(c, 0), be32(c, 4))).collect())
            }
            kind::TIMESTAMPS => {
                fixed(10)?; // RFC 7323 §3.2
                TcpOption::Timestamps { tsval: be32(body, 0), tsecr: be32(body, 4) }
            }
            _ => TcpOption::Unknown { kind: k, data: body.to_vec() },
        };
        Ok(Some((opt, len)))
    }

    /// The option as etherparse's element, where etherparse has one (not EOL, not unknown
    /// kinds, not SACK with more than 4 blocks).
    pub fn to_etherparse(&self) -> Option<TcpOptionElement> {
        Some(match self {
            TcpOption::Nop => TcpOptionElement::Noop,
            TcpOption::Mss(v) => TcpOptionElement::MaximumSegmentSize(*v),
            TcpOption::WindowScale(s) => TcpOptionElement::WindowScale(*s),
            TcpOption::SackPermitted => TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOption::Sack(b) => {
                let (first, rest) = b.split_first()?;
                if rest.len() > 3 {
                    return None;
                }
                let mut more = [None; 3];
                for (m, r) in more.iter_mut().zip(rest) {
                    *m = Some(*r);
                }
                TcpOptionElement::SelectiveAcknowledgement(*first, more)
            }
            TcpOption::Timestamps { tsval, tsecr } => TcpOptionElement::Timestamp(*tsval, *tsecr),
            TcpOption::EndOfList | TcpOption::Unknown { .. } => return None,
        })
    }

    /// The option from etherparse's element.
    pub fn from_etherparse(e: &TcpOptionElement) -> Self {
        match e {
            TcpOptionElement::Noop => TcpOption::Nop,
            TcpOptionElement::MaximumSegmentSize(v) => TcpOption::Mss(*v),
            TcpOptionElement::WindowScale(s) => TcpOption::WindowScale(*s),
            TcpOptionElement::SelectiveAcknowledgementPermitted => TcpOption::SackPermitted,
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                TcpOption::Sack(std::iter::once(*first).chain(rest.iter().flatten().copied()).collect())
            }
            TcpOptionElement::Timestamp(v, e) => TcpOption::Timestamps { tsval: *v, tsecr: *e },
        }
    }

    /// The option's short name as Wireshark lists it after "Options: (12 bytes), ".
    pub fn name(&self) -> &'static str {
        match self {
            TcpOption::EndOfList => "End of Option List (EOL)",
            TcpOption::Nop => "No-Operation (NOP)",
            TcpOption::Mss(_) => "Maximum segment size",
            TcpOption::WindowScale(_) => "Window scale",
            TcpOption::SackPermitted => "SACK permitted",
            TcpOption::Sack(_) => "SACK",
            TcpOption::Timestamps { .. } => "Timestamps",
            TcpOption::Unknown { kind, .. } => other_kind(*kind).1,
        }
    }

    /// The option in the Info column ("MSS=1460", "SACK_PERM", "WS=128", "TSval=5 TSecr=9",
    /// "SLE=1 SRE=2"), or nothing for padding. SACK edges are shown minus `sack_base` (Wireshark's
    /// relative numbers: the ISN of the data they acknowledge; 0 for raw).
    pub fn info(&self, sack_base: u32) -> Option<String> {
        match self {
            TcpOption::Mss(v) => Some(format!("MSS={v}")),
            TcpOption::WindowScale(s) => Some(format!("WS={}", wscale_multiplier(*s))),
            TcpOption::SackPermitted => Some("SACK_PERM".into()),
            TcpOption::Sack(b) => Some(
                b.iter()
                    .map(|(l, r)| format!("SLE={} SRE={}", l.wrapping_sub(sack_base), r.wrapping_sub(sack_base)))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            TcpOption::Timestamps { tsval, tsecr } => Some(format!("TSval={tsval} TSecr={tsecr}")),
            TcpOption::EndOfList | TcpOption::Nop | TcpOption::Unknown { .. } => None,
        }
    }

    /// The option's fields as `tshark -V` shows them: a subtree head at `depth` ("TCP Option -
    /// Timestamps: TSval 5, TSecr 9"), then kind, length and values one level deeper. SACK edges
    /// are shown minus `sack_base`, as in [`TcpOption::info`].
    pub fn fields(&self, depth: u8, sack_base: u32) -> Vec<Field> {
        let mut f = Vec::new();
        self.push_fields(&mut f, depth, sack_base, true);
        f
    }

    /// "TCP Option - " and the option's [`TcpOption::name`], as its subtree head's label.
    fn label(&self) -> Name {
        Name::Borrowed(match self {
            TcpOption::EndOfList => "TCP Option - End of Option List (EOL)",
            TcpOption::Nop => "TCP Option - No-Operation (NOP)",
            TcpOption::Mss(_) => "TCP Option - Maximum segment size",
            TcpOption::WindowScale(_) => "TCP Option - Window scale",
            TcpOption::SackPermitted => "TCP Option - SACK permitted",
            TcpOption::Sack(_) => "TCP Option - SACK",
            TcpOption::Timestamps { .. } => "TCP Option - Timestamps",
            TcpOption::Unknown { .. } => return Name::Owned(format!("TCP Option - {}", self.name())),
        })
    }

    /// [`TcpOption::fields`] appended to `f`, with their renderings only when `detail`
    /// ([`Context::detail`](crate::layer::Context::detail)).
    pub fn push_fields(&self, f: &mut Vec<Field>, depth: u8, sack_base: u32, detail: bool) {
        let rel = |v: &u32| v.wrapping_sub(sack_base);
        let mut bytes = Vec::new();
        let encoded = self.emit(&mut bytes).is_ok();
        let name = match self {
            TcpOption::EndOfList => "tcp.options.eol",
            TcpOption::Nop => "tcp.options.nop",
            TcpOption::Mss(_) => "tcp.options.mss",
            TcpOption::WindowScale(_) => "tcp.options.wscale",
            TcpOption::SackPermitted => "tcp.options.sack_perm",
            TcpOption::Sack(_) => "tcp.options.sack",
            TcpOption::Timestamps { .. } => "tcp.options.timestamp",
            TcpOption::Unknown { kind, .. } => other_kind(*kind).0,
        };
        let shown = || match self {
            TcpOption::Mss(v) => format!("{v} bytes"),
            TcpOption::WindowScale(s) => format!("{s} (multiply by {})", wscale_multiplier(*s)),
            TcpOption::Sack(b) => b.iter().map(|(l, r)| format!("{}-{}", rel(l), rel(r))).collect::<Vec<_>>().join(" "),
            TcpOption::Timestamps { tsval, tsecr } => format!("TSval {tsval}, TSecr {tsecr}"),
            TcpOption::EndOfList | TcpOption::Nop | TcpOption::SackPermitted | TcpOption::Unknown { .. } => {
                String::new()
            }
        };
        let head = Field::new(name, self.label(), Value::Bytes(if encoded { bytes } else { Vec::new() }));
        let d = depth + 1;
        f.push(head.shown_if(detail, shown).depth(depth));
        f.push(
            Field::uint("tcp.option_kind", "Kind", self.kind())
                .shown_if(detail, || format!("{} ({})", kind_name(self.kind()), self.kind()))
                .depth(d),
        );
        if !matches!(self, TcpOption::EndOfList | TcpOption::Nop) {
            f.push(Field::uint("tcp.option_len", "Length", self.len() as u64).depth(d));
        }
        match self {
            TcpOption::Mss(v) => f.push(Field::uint("tcp.options.mss_val", "MSS Value", *v).depth(d)),
            TcpOption::WindowScale(s) => {
                f.push(Field::uint("tcp.options.wscale.shift", "Shift count", *s).depth(d));
                f.push(Field::uint("tcp.options.wscale.multiplier", "Multiplier", wscale_multiplier(*s)).depth(d));
            }
            TcpOption::Sack(blocks) => {
                for (l, r) in blocks {
                    f.push(Field::uint("tcp.options.sack_le", "TCP SACK Left Edge", rel(l)).depth(d));
                    f.push(Field::uint("tcp.options.sack_re", "TCP SACK Right Edge", rel(r)).depth(d));
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                f.push(Field::uint("tcp.options.timestamp.tsval", "Timestamp value", *tsval).depth(d));
                f.push(Field::uint("tcp.options.timestamp.tsecr", "Timestamp echo reply", *tsecr).depth(d));
            }
            TcpOption::Unknown { kind, data } if !data.is_empty() && other_kind(*kind).1 == "Unknown" => {
                f.push(Field::new("tcp.options.unknown.payload", "Payload", Value::Bytes(data.clone())).depth(d));
            }
            _ => {}
        }
    }
}

/// 2^shift, as Wireshark shows the multiplier (RFC 7323 §2.3 caps the shift at 14; a larger
/// value is shown as 2^14).
fn wscale_multiplier(shift: u8) -> u32 {
    1u32 << shift.min(14)
}

/// The kind's name as tshark 4.0 shows `tcp.option_kind` (its value table).
pub fn kind_name(k: u8) -> &'static str {
    match k {
        0 => "End of Option List",
        1 => "No-Operation",
        2 => "Maximum Segment Size",
        3 => "Window Scale",
        4 => "SACK Permitted",
        5 => "SACK",
        6 => "Echo",
        7 => "Echo Reply",
        8 => "Time Stamp Option",
        9 => "Partial Order Connection Permitted",
        10 => "Partial Order Service Profile",
        11 => "CC",
        12 => "CC.NEW",
        13 => "CC.ECHO",
        14 => "TCP Alternate Checksum Request",
        15 => "TCP Alternate Checksum Data",
        16 => "Skeeter",
        17 => "Bubba",
        18 => "Trailer Checksum Option",
        19 => "MD5 Signature Option",
        20 => "SCPS Capabilities",
        21 => "Selective Negative Acknowledgements",
        22 => "Record Boundaries",
        23 => "Corruption experienced",
        24 => "SNAP",
        25 => "Unassigned",
        26 => "TCP Compression Filter",
        27 => "Quick-Start Response",
        28 => "User Timeout Option",
        29 => "The TCP Authentication Option",
        30 => "Multipath TCP",
        34 => "TCP Fast Open Cookie",
        76 => "Riverbed Probe",
        78 => "Riverbed Transparency",
        172 => "Accurate ECN Order 0",
        174 => "Accurate ECN Order 1",
        253 => "RFC3692-style Experiment 1",
        254 => "RFC3692-style Experiment 2",
        _ => "Unknown",
    }
}

/// Wireshark's option subtree (display-filter name, short name) for a kind osilab carries as
/// [`TcpOption::Unknown`]: Wireshark knows many more kinds than this layer interprets.
fn other_kind(k: u8) -> (&'static str, &'static str) {
    match k {
        6 => ("tcp.options.echo", "Echo"),
        7 => ("tcp.options.echoreply", "Echo reply"),
        11 => ("tcp.options.cc", "CC"),
        12 => ("tcp.options.ccnew", "CC.NEW"),
        13 => ("tcp.options.ccecho", "CC.ECHO"),
        19 => ("tcp.options.md5", "TCP MD5 signature"),
        20 => ("tcp.options.scps", "SCPS capabilities"),
        21 => ("tcp.options.snack", "Selective Negative Acknowledgment"),
        22 => ("tcp.options.scpsrec", "SCPS record boundary"),
        23 => ("tcp.options.scpscor", "SCPS corruption experienced"),
        27 => ("tcp.options.qs", "Quick-Start"),
        28 => ("tcp.options.user_to", "User Timeout"),
        29 => ("tcp.options.ao", "TCP AO"),
        34 => ("tcp.options.tfo", "TCP Fast Open"),
        76 => ("tcp.options.rvbd.probe", "Riverbed Probe"),
        78 => ("tcp.options.rvbd.trpy", "Riverbed Transparency"),
        172 | 174 => ("tcp.options.acc_ecn", "Accurate ECN"),
        253 | 254 => ("tcp.options.experimental", "Experimental"),
        _ => ("tcp.options.unknown", "Unknown"),
    }
}

/// Encode a list of options and pad with zeros to a multiple of 4 bytes (RFC 9293 §3.1: "The
/// TCP header padding is used to ensure that the TCP header ends ... on a 32-bit boundary.
/// The padding is composed of zeros."). An error beyond 40 bytes.
pub fn emit_all(options: &[TcpOption]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for o in options {
        o.emit(&mut out)?;
    }
    if out.len() > MAX_OPTIONS_LEN {
        return Err(Error::invalid(
            LayerId::Transport,
            "TCP",
            None,
            "TCP options length",
            format!("at most {MAX_OPTIONS_LEN} bytes (data offset 15)"),
            format!("{} bytes", out.len()),
        ));
    }
    out.resize(out.len().div_ceil(4) * 4, 0);
    Ok(out)
}

/// How many bytes of an options area `wire` follow the options `parsed` from it: the padding
/// after End of Option List when it is not all zeros, which [`TcpOption::parse_all`] does not
/// list (RFC 9293 §3.1: "The padding is composed of zeros."; Wireshark marks it "Non-zero
/// header padding", an error).
pub fn nonzero_padding(parsed: &[TcpOption], wire: &[u8]) -> usize {
    wire.len().saturating_sub(parsed.iter().map(TcpOption::len).sum())
}

/// "Options: (12 bytes), No-Operation (NOP), No-Operation (NOP), Timestamps".
pub fn summary(options: &[TcpOption], len: usize) -> String {
    let mut s = format!("({len} bytes)");
    for o in options {
        let _ = write!(s, ", {}", o.name());
    }
    s
}
