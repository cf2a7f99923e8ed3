//! The DNS message (RFC 1035 §4.1): a 12-byte header, the question, the answers; a checked
//! [`HeaderView`] over the bytes and a [`Message`] representation with `parse` and `emit`.
//!
//! Read first: RFC 1035 §4.1.1 (header), §4.1.2 (question), §4.1.3 (resource record), §4.1.4
//! (compression), §4.2.1 (512 bytes over UDP); RFC 3596 §2 (AAAA); RFC 2181 §8 (TTL).
//!
//! Contract: [`HeaderView::new`] checks the length once; its accessors then never panic. Every
//! other read goes through `get`, so no input can make this module panic.

use super::name::{self, Compressor, Name, PROTO};
use super::RrType;
use crate::error::{Error, Result};
use crate::layer::LayerId;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// RFC 1035 §4.1.1: the header is 12 octets.
pub const HEADER_LEN: usize = 12;
/// RFC 1035 §4.2.1: "Messages carried by UDP are restricted to 512 bytes (not counting the IP or
/// UDP headers)", unless EDNS (RFC 6891) says otherwise, which this application does not send.
pub const UDP_MAX: usize = 512;
/// RFC 1035 §3.2.4: class IN, the Internet.
pub const CLASS_IN: u16 = 1;
/// RFC 1035 §4.1.3: TYPE, CLASS, TTL and RDLENGTH after a record's owner name.
const RR_FIXED: usize = 10;

/// The header's fields (RFC 1035 §4.1.1), as byte ranges of the message.
mod field {
    use std::ops::Range;
    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QDCOUNT: Range<usize> = 4..6;
    pub const ANCOUNT: Range<usize> = 6..8;
    pub const NSCOUNT: Range<usize> = 8..10;
    pub const ARCOUNT: Range<usize> = 10..12;
}

/// The bits of the flags word (RFC 1035 §4.1.1; AD and CD from RFC 4035 §3.2).
pub mod flags {
    /// QR: a response.
    pub const QR: u16 = 0x8000;
    /// OPCODE: 0 is a standard query.
    pub const OPCODE: u16 = 0x7800;
    /// AA: authoritative answer.
    pub const AA: u16 = 0x0400;
    /// TC: truncated.
    pub const TC: u16 = 0x0200;
    /// RD: recursion desired.
    pub const RD: u16 = 0x0100;
    /// RA: recursion available.
    pub const RA: u16 = 0x0080;
    /// Z: reserved, zero (RFC 1035 §4.1.1).
    pub const Z: u16 = 0x0040;
    /// AD: authentic data (RFC 4035 §3.2.3).
    pub const AD: u16 = 0x0020;
    /// CD: checking disabled (RFC 4035 §3.2.2).
    pub const CD: u16 = 0x0010;
    /// RCODE: 0 is NOERROR.
    pub const RCODE: u16 = 0x000f;
}

fn be16(b: &[u8], r: Range<usize>) -> u16 {
    b.get(r).and_then(|s| <[u8; 2]>::try_from(s).ok()).map_or(0, u16::from_be_bytes)
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()).map_or(0, u32::from_be_bytes)
}

/// A view of a message whose 12-byte header is present.
#[derive(Debug, Clone, Copy)]
pub struct HeaderView<'a> {
    b: &'a [u8],
}

impl<'a> HeaderView<'a> {
    /// RFC 1035 §4.1.1: the header is 12 octets; `base` is the message's offset in the frame.
    pub fn new(b: &'a [u8], base: usize) -> Result<Self> {
        if b.len() < HEADER_LEN {
            return Err(Error::truncated(
                LayerId::Application,
                PROTO,
                base + b.len(),
                "DNS header",
                HEADER_LEN,
                b.len(),
            ));
        }
        Ok(HeaderView { b })
    }
    /// ID.
    pub fn id(&self) -> u16 {
        be16(self.b, field::ID)
    }
    /// The flags word (QR, OPCODE, AA, TC, RD, RA, Z, AD, CD, RCODE).
    pub fn flags(&self) -> u16 {
        be16(self.b, field::FLAGS)
    }
    /// QDCOUNT.
    pub fn qdcount(&self) -> u16 {
        be16(self.b, field::QDCOUNT)
    }
    /// ANCOUNT.
    pub fn ancount(&self) -> u16 {
        be16(self.b, field::ANCOUNT)
    }
    /// NSCOUNT.
    pub fn nscount(&self) -> u16 {
        be16(self.b, field::NSCOUNT)
    }
    /// ARCOUNT.
    pub fn arcount(&self) -> u16 {
        be16(self.b, field::ARCOUNT)
    }

    /// The header as a value.
    pub fn header(&self) -> Header {
        Header {
            id: self.id(),
            flags: self.flags(),
            qdcount: self.qdcount(),
            ancount: self.ancount(),
            nscount: self.nscount(),
            arcount: self.arcount(),
        }
    }
}

/// The header's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// ID.
    pub id: u16,
    /// The flags word.
    pub flags: u16,
    /// QDCOUNT.
    pub qdcount: u16,
    /// ANCOUNT.
    pub ancount: u16,
    /// NSCOUNT.
    pub nscount: u16,
    /// ARCOUNT.
    pub arcount: u16,
}

/// A record's data, by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// RFC 1035 §3.4.1: 4 octets.
    A(Ipv4Addr),
    /// RFC 3596 §2.2: 16 octets.
    Aaaa(Ipv6Addr),
    /// RFC 1035 §3.3.1: a name (compressible, RFC 3597 §4).
    Cname(Name),
    /// Any other type (never 1, 5 or 28): its data as opaque octets (RFC 3597 §5).
    Other {
        /// The type number.
        rtype: u16,
        /// The RDATA.
        data: Vec<u8>,
    },
}

impl RData {
    /// The record type.
    pub fn rtype(&self) -> RrType {
        match self {
            RData::A(_) => RrType::A,
            RData::Aaaa(_) => RrType::Aaaa,
            RData::Cname(_) => RrType::Cname,
            RData::Other { rtype, .. } => RrType::from_number(*rtype),
        }
    }

    /// The data of a record of type `rtype` given as uncompressed octets (RFC 3597 §5's `\#`
    /// form), checked like the wire: 4 octets for A, 16 for AAAA, one whole name for CNAME.
    pub fn from_generic(rtype: RrType, data: &[u8]) -> std::result::Result<RData, String> {
        match rtype {
            RrType::A => <[u8; 4]>::try_from(data)
                .map(|a| RData::A(Ipv4Addr::from(a)))
                .map_err(|_| format!("an A record's data is 4 octets (RFC 1035 §3.4.1), not {}", data.len())),
            RrType::Aaaa => <[u8; 16]>::try_from(data)
                .map(|a| RData::Aaaa(Ipv6Addr::from(a)))
                .map_err(|_| format!("an AAAA record's data is 16 octets (RFC 3596 §2.2), not {}", data.len())),
            RrType::Cname => {
                let mut labels = Vec::new();
                let mut i = 0;
                loop {
                    let Some(&n) = data.get(i) else {
                        return Err("a CNAME's data ends inside its name".into());
                    };
                    let n = usize::from(n);
                    if n == 0 {
                        break;
                    }
                    if n > name::MAX_LABEL {
                        return Err(format!("a CNAME's name holds a label length of {n} (at most 63, no pointers)"));
                    }
                    let label = data.get(i + 1..i + 1 + n).ok_or("a CNAME's data ends inside a label")?;
                    labels.push(label.to_vec());
                    i += 1 + n;
                }
                if i + 1 != data.len() {
                    return Err(format!("{} octets after the CNAME's name", data.len() - i - 1));
                }
                Name::from_labels(labels).map(RData::Cname)
            }
            RrType::Other(t) => Ok(RData::Other { rtype: t, data: data.to_vec() }),
        }
    }
}

/// The question (RFC 1035 §4.1.2); its class is always IN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// QNAME.
    pub name: Name,
    /// QTYPE.
    pub qtype: RrType,
}

/// An answer record (RFC 1035 §4.1.3); its class is always IN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The owner name.
    pub name: Name,
    /// TTL in seconds, 0 to 2³¹−1 (RFC 2181 §8).
    pub ttl: u32,
    /// The type and data.
    pub rdata: RData,
}

/// RFC 2181 §8: a TTL is 0 to 2³¹−1; one with the top bit set is read as 0.
pub const MAX_TTL: u32 = 0x7fff_ffff;

/// A DNS message as this application sends it: one question and its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// ID.
    pub id: u16,
    /// The flags word.
    pub flags: u16,
    /// The question.
    pub question: Question,
    /// The answers.
    pub answers: Vec<Answer>,
}

/// A message read from the wire and what the reading found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The header as it was.
    pub header: Header,
    /// The message.
    pub message: Message,
    /// Each answer's RDLENGTH as on the wire.
    pub rdlengths: Vec<usize>,
    /// Names that end in a compression pointer where they sit (pointers written).
    pub pointers: usize,
    /// Anything worth saying (a TTL read as 0).
    pub notes: Vec<String>,
}

impl Message {
    /// The bytes (RFC 1035 §4.1), owner names and CNAME targets compressed (§4.1.4), and how
    /// many pointers were written.
    pub fn emit(&self) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(UDP_MAX);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        // More answers than 16 bits count cannot fit in 512 bytes: the size check refuses them.
        out.extend_from_slice(&u16::try_from(self.answers.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        let mut comp = Compressor::default();
        let mut pointers = comp.emit(&self.question.name, &mut out, true);
        out.extend_from_slice(&self.question.qtype.number().to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        for a in &self.answers {
            pointers += comp.emit(&a.name, &mut out, true);
            out.extend_from_slice(&a.rdata.rtype().number().to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&a.ttl.to_be_bytes());
            let len_at = out.len();
            out.extend_from_slice(&[0, 0]);
            match &a.rdata {
                RData::A(ip) => out.extend_from_slice(&ip.octets()),
                RData::Aaaa(ip) => out.extend_from_slice(&ip.octets()),
                RData::Cname(n) => pointers += comp.emit(n, &mut out, true),
                RData::Other { data, .. } => out.extend_from_slice(data),
            }
            let len = u16::try_from(out.len() - len_at - 2).unwrap_or(u16::MAX);
            out[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
        }
        (out, pointers)
    }

    /// Read a message (every check of RFC 1035 §4.1 and of this application's scope); errors
    /// name the frame offset `base + ` the message offset.
    pub fn parse(b: &[u8], base: usize) -> Result<Parsed> {
        let bad = |at: usize, what: &str, expected: String, found: String| {
            Error::invalid(LayerId::Application, PROTO, base + at, what, expected, found)
        };
        let v = HeaderView::new(b, base)?;
        // RFC 1035 §4.2.1: at most 512 bytes over UDP without EDNS.
        if b.len() > UDP_MAX {
            return Err(bad(
                UDP_MAX,
                "DNS message length",
                format!("at most {UDP_MAX} bytes: DNS over UDP is limited to 512 bytes without EDNS (RFC 1035 §4.2.1)"),
                format!("{} bytes", b.len()),
            ));
        }
        let header = v.header();
        let f = header.flags;
        // RFC 1035 §4.1.1: OPCODE 0 is a standard query, the only kind this application speaks.
        let opcode = (f & flags::OPCODE) >> 11;
        if opcode != 0 {
            return Err(bad(2, "DNS opcode", "0, a standard query (RFC 1035 §4.1.1)".into(), opcode.to_string()));
        }
        // RFC 1035 §4.2.1: a truncated answer is retried over TCP, which this application lacks.
        if f & flags::TC != 0 {
            return Err(bad(
                2,
                "DNS TC (truncated) flag",
                "clear: a truncated message is retried over TCP (RFC 1035 §4.2.1), which this application does not speak".into(),
                "set".into(),
            ));
        }
        // RFC 1035 §4.1.1: "Z: Reserved for future use. Must be zero in all queries and responses."
        if f & flags::Z != 0 {
            return Err(bad(3, "DNS Z flag", "0 (RFC 1035 §4.1.1: reserved, must be zero)".into(), "1".into()));
        }
        let rcode = f & flags::RCODE;
        if rcode != 0 {
            return Err(bad(
                3,
                "DNS RCODE",
                "0, NOERROR: the SDU format carries a question and its answers, not errors (RFC 1035 §4.1.1)".into(),
                format!("{rcode} ({})", rcode_name(rcode)),
            ));
        }
        // RFC 9619 §2: a standard query has exactly one question.
        if header.qdcount != 1 {
            return Err(bad(
                field::QDCOUNT.start,
                "DNS QDCOUNT",
                "1: a standard query holds one question (RFC 9619 §2)".into(),
                header.qdcount.to_string(),
            ));
        }
        if header.nscount != 0 || header.arcount != 0 {
            let (at, what, n) = if header.nscount != 0 {
                (field::NSCOUNT.start, "DNS NSCOUNT", header.nscount)
            } else {
                (field::ARCOUNT.start, "DNS ARCOUNT", header.arcount)
            };
            return Err(bad(
                at,
                what,
                "0: this application carries questions and answers only (no authority or additional records, no EDNS)"
                    .into(),
                n.to_string(),
            ));
        }
        let mut pointers = 0;
        let mut notes = Vec::new();
        // RFC 1035 §4.1.2: QNAME, QTYPE, QCLASS.
        let q = name::read(b, HEADER_LEN, base)?;
        pointers += usize::from(q.pointers > 0);
        let mut pos = q.end;
        if b.len() < pos + 4 {
            return Err(Error::truncated(LayerId::Application, PROTO, base + pos, "DNS question", pos + 4, b.len()));
        }
        let qtype = RrType::from_number(be16(b, pos..pos + 2));
        let qclass = be16(b, pos + 2..pos + 4);
        if qclass != CLASS_IN {
            return Err(bad(pos + 2, "DNS QCLASS", "1, IN (RFC 1035 §3.2.4)".into(), format!("{qclass}")));
        }
        pos += 4;
        let question = Question { name: q.name, qtype };
        // RFC 1035 §4.1.3: NAME, TYPE, CLASS, TTL, RDLENGTH, RDATA — ANCOUNT times.
        let mut answers = Vec::with_capacity(usize::from(header.ancount).min(UDP_MAX / 11));
        let mut rdlengths = Vec::with_capacity(answers.capacity());
        for i in 0..header.ancount {
            let owner = name::read(b, pos, base).map_err(|mut e| {
                if let crate::error::ErrorKind::Truncated { what, .. } = &mut e.kind {
                    *what = format!("answer {} of {} (ANCOUNT): {what}", i + 1, header.ancount);
                }
                e
            })?;
            pointers += usize::from(owner.pointers > 0);
            pos = owner.end;
            if b.len() < pos + RR_FIXED {
                return Err(Error::truncated(
                    LayerId::Application,
                    PROTO,
                    base + pos,
                    format!("answer {} of {} (ANCOUNT): type, class, TTL and RDLENGTH", i + 1, header.ancount),
                    pos + RR_FIXED,
                    b.len(),
                ));
            }
            let rtype = RrType::from_number(be16(b, pos..pos + 2));
            let class = be16(b, pos + 2..pos + 4);
            if class != CLASS_IN {
                return Err(bad(pos + 2, "DNS answer CLASS", "1, IN (RFC 1035 §3.2.4)".into(), class.to_string()));
            }
            let mut ttl = be32(b, pos + 4);
            if ttl > MAX_TTL {
                notes.push(format!("answer {}: TTL {ttl} has its top bit set: read as 0 (RFC 2181 §8)", i + 1));
                ttl = 0;
            }
            let len_at = pos + 8;
            let rdlength = usize::from(be16(b, len_at..len_at + 2));
            let start = pos + RR_FIXED;
            let end = start + rdlength;
            if b.len() < end {
                return Err(Error::truncated(
                    LayerId::Application,
                    PROTO,
                    base + start,
                    format!("answer {} RDATA (RDLENGTH {rdlength})", i + 1),
                    end,
                    b.len(),
                ));
            }
            let rdlen_bad =
                |expected: String| bad(len_at, "DNS RDLENGTH", expected, format!("{rdlength} for a {} record", rtype));
            let rdata = match rtype {
                RrType::A if rdlength != 4 => return Err(rdlen_bad("4 for an A record (RFC 1035 §3.4.1)".into())),
                RrType::Aaaa if rdlength != 16 => {
                    return Err(rdlen_bad("16 for an AAAA record (RFC 3596 §2.2)".into()))
                }
                RrType::A | RrType::Aaaa => RData::from_generic(rtype, b.get(start..end).unwrap_or_default())
                    .map_err(|e| bad(start, "DNS RDATA", "an address".into(), e))?,
                RrType::Cname => {
                    let target = name::read(b, start, base)?;
                    if target.end != end {
                        return Err(rdlen_bad(format!(
                            "{}, the length of the CNAME's name as written (RFC 1035 §3.3.1)",
                            target.end - start
                        )));
                    }
                    pointers += usize::from(target.pointers > 0);
                    RData::Cname(target.name)
                }
                RrType::Other(t) => RData::Other { rtype: t, data: b.get(start..end).unwrap_or_default().to_vec() },
            };
            answers.push(Answer { name: owner.name, ttl, rdata });
            rdlengths.push(rdlength);
            pos = end;
        }
        if pos != b.len() {
            return Err(bad(
                pos,
                "DNS message length",
                format!("{pos} bytes, where the last record the header counts ends"),
                format!("{} bytes ({} more)", b.len(), b.len() - pos),
            ));
        }
        let message = Message { id: header.id, flags: header.flags, question, answers };
        Ok(Parsed { header, message, rdlengths, pointers, notes })
    }
}

/// RFC 6895 §2.3: the RCODE's mnemonic, as `dig` prints it in `status:` (NOERROR, NXDOMAIN…);
/// `RCODE<n>` for one without a mnemonic.
pub fn rcode_mnemonic(rcode: u16) -> String {
    let m = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        _ => return format!("RCODE{rcode}"),
    };
    m.to_string()
}

/// RFC 1035 §4.1.1 and RFC 6895 §2.3: the RCODE's name, as Wireshark shows it (`dns.flags.rcode`'s
/// values in `tshark -G values`).
pub fn rcode_name(rcode: u16) -> &'static str {
    match rcode {
        0 => "No error",
        1 => "Format error",
        2 => "Server failure",
        3 => "No such name",
        4 => "Not implemented",
        5 => "Refused",
        6 => "Name exists",
        7 => "RRset exists",
        8 => "RRset does not exist",
        9 => "Not authoritative",
        10 => "Name out of zone",
        11 => "DSO-Type not implemented",
        16 => "Bad OPT Version or TSIG Signature Failure",
        17 => "Key not recognized",
        18 => "Signature out of time window",
        19 => "Bad TKEY Mode",
        20 => "Duplicate key name",
        21 => "Algorithm not supported",
        22 => "Bad Truncation",
        23 => "Bad/missing Server Cookie",
        _ => "Unknown error",
    }
}
