//! DNS in capture mode: any message a capture holds, read as tshark reads it, not just the
//! question-and-answers this application sends.
//!
//! Every section is read (RFC 1035 §4.1: the questions, then the answer, authority and
//! additional records), any type and class, EDNS's OPT pseudo-record (RFC 6891 §6.1) with its
//! options, and the record data of the common types (A, AAAA, CNAME, NS, PTR, MX, TXT, SOA, SRV)
//! under Wireshark's field names. Names are followed through compression pointers in any
//! direction, as Wireshark does, and a pointer loop gives Wireshark's
//! `<Name contains a pointer that loops>` (RFC 1035 §4.1.4 asks for prior occurrences; a capture
//! shows what was sent). A message cut short or with an impossible label keeps the fields read
//! before the fault and gets an expert item (Wireshark's "Malformed Packet"); nothing fails.
//!
//! Over TCP each message is preceded by its two-byte length (RFC 1035 §4.2.2), shown as
//! `dns.length`.

use super::message::{flags, HeaderView, HEADER_LEN};
use super::name::{wireshark_text, PROTO};
use super::{header_fields, title, ttl_words, DnsApplication, DnsConfig, DnsKind, RrType};
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Pdu, PduName};
use crate::layers::l4_transport::Piece;
use crate::trace::{text_if, Direction, Expert, Field, Group, Record, Severity, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

const L7: LayerId = LayerId::Application;

/// Wireshark's name for a compression loop.
pub const LOOP_NAME: &str = "<Name contains a pointer that loops>";

/// A name as Wireshark reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownName {
    /// As `dns.qry.name` prints it.
    pub text: String,
    /// `dns.qry.name.len`: the raw string's length, 0 when it is one octet long.
    pub len: usize,
    /// `dns.count.labels`: the raw string's dots plus one, 0 when it is one octet long.
    pub labels: usize,
    /// The message offset just after the name where it sits.
    pub end: usize,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()).map(u32::from_be_bytes)
}

/// Where message offset `p` is in the frame, when the message sits in one.
fn at(base: Option<usize>, p: usize) -> Option<usize> {
    base.map(|b| b + p)
}

fn truncated(base: Option<usize>, p: usize, what: impl Into<String>, needed: usize, len: usize) -> Error {
    Error::truncated(L7, PROTO, at(base, p), what, needed, len)
}

/// Read the name at `start` of `msg` as Wireshark's `get_dns_name` does (RFC 1035 §3.1,
/// §4.1.4): labels, then pointers followed anywhere inside the message; once as many octets
/// were looked at as the message holds, a pointer is taken to loop. An error (malformed) for a
/// name cut short, a pointer outside the message, or the 0x80 label type.
pub fn read_name(msg: &[u8], start: usize, base: Option<usize>) -> Result<ShownName> {
    let mut raw: Vec<u8> = Vec::new();
    let mut pos = start;
    let mut end = None;
    let mut looked = 0usize;
    let special = |text: &str, end: usize| ShownName { text: text.to_string(), len: text.len(), labels: 1, end };
    loop {
        let Some(&len) = msg.get(pos) else {
            return Err(truncated(base, pos, "domain name", pos + 1, msg.len()));
        };
        match len >> 6 {
            0b00 if len == 0 => {
                let end = end.unwrap_or(pos + 1);
                if raw.is_empty() {
                    raw.extend_from_slice(b"<Root>");
                }
                let n = raw.len();
                let (len, labels) = if n > 1 { (n, raw.iter().filter(|&&c| c == b'.').count() + 1) } else { (0, 0) };
                return Ok(ShownName { text: wireshark_text(&raw), len, labels, end });
            }
            0b00 => {
                let n = usize::from(len);
                let Some(label) = msg.get(pos + 1..pos + 1 + n) else {
                    return Err(truncated(base, pos, format!("{n}-octet label"), pos + 1 + n, msg.len()));
                };
                if !raw.is_empty() {
                    raw.push(b'.');
                }
                raw.extend_from_slice(label);
                looked += n;
                pos += 1 + n;
            }
            0b11 => {
                let Some(&low) = msg.get(pos + 1) else {
                    return Err(truncated(base, pos, "compression pointer", pos + 2, msg.len()));
                };
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                end.get_or_insert(pos + 2);
                looked += 1;
                if looked >= msg.len() {
                    return Ok(special(LOOP_NAME, end.unwrap_or(pos + 2)));
                }
                if target >= msg.len() {
                    return Err(Error::invalid(
                        L7,
                        PROTO,
                        at(base, pos),
                        "compression pointer",
                        format!("an offset inside the {}-byte message (RFC 1035 §4.1.4)", msg.len()),
                        format!("offset {target}"),
                    ));
                }
                pos = target;
            }
            // RFC 6891 §5 retired the extended label types; Wireshark names 0b01 and fails on 0b10.
            0b01 => return Ok(special("<Unknown extended label>", end.unwrap_or(pos + 1))),
            _ => {
                return Err(Error::invalid(
                    L7,
                    PROTO,
                    at(base, pos),
                    "label length",
                    "0 to 63 (RFC 1035 §3.1) or a pointer 0xc0–0xff (§4.1.4)",
                    format!("0x{len:02x} (label type 0b10, undefined)"),
                ));
            }
        }
    }
}

/// The class's name as Wireshark shows it ("IN (0x0001)").
fn class_text(class: u16) -> String {
    let name = match class {
        1 => "IN",
        2 => "CS",
        3 => "CH",
        4 => "HS",
        0xfe => "NONE",
        0xff => "ANY",
        _ => "Unknown",
    };
    format!("{name} (0x{class:04x})")
}

fn type_field(name: &'static str, t: u16, detail: bool) -> Field {
    Field::uint(name, "Type", t)
        .shown_if(detail, || format!("{} ({t})", RrType::from_number(t).wireshark_description()))
}

/// EDNS option codes (RFC 6891 §6.1.2), as Wireshark names them.
fn option_name(code: u16) -> String {
    let s = match code {
        0 => "Reserved",
        1 => "LLQ - Long-lived query",
        2 => "UL - Update lease",
        3 => "NSID - Name Server Identifier",
        4 => "Owner (reserved)",
        5 => "DAU - DNSSEC Algorithm Understood (RFC6975)",
        6 => "DHU - DS Hash Understood (RFC6975)",
        7 => "N3U - NSEC3 Hash Understood (RFC6975)",
        8 => "CSUBNET - Client subnet",
        9 => "EDNS EXPIRE (RFC7314)",
        10 => "COOKIE",
        11 => "EDNS TCP Keepalive",
        12 => "PADDING",
        13 => "CHAIN",
        15 => "Extended DNS Error",
        _ => return format!("Unknown ({code})"),
    };
    s.to_string()
}

/// What reading a message found, for the record and its Info line.
struct Reader<'a> {
    msg: &'a [u8],
    base: Option<usize>,
    /// Whether to make human text ([`Context::detail`]): renderings and the Info line.
    detail: bool,
    fields: Vec<Field>,
    info: Vec<String>,
    /// Names whose compression pointers loop: shown as Wireshark shows them, and said here.
    expert: Vec<Expert>,
}

impl Reader<'_> {
    fn name(&mut self, p: usize) -> Result<ShownName> {
        let n = read_name(self.msg, p, self.base)?;
        if n.text == LOOP_NAME {
            // RFC 1035 §4.1.4: a pointer points to a prior occurrence of a name; one that leads
            // back into itself never ends. Wireshark shows the name and no expert item; a
            // malformed message deserves one.
            self.expert.push(Expert::new(
                Severity::Warning,
                Group::Malformed,
                "Name contains a compression pointer that loops (RFC 1035 §4.1.4: pointers lead to a prior \
                 occurrence of a name)",
                at(self.base, p),
            ));
        }
        Ok(n)
    }

    fn need(&self, p: usize, n: usize, what: &str) -> Result<()> {
        if self.msg.len() < p + n {
            return Err(truncated(self.base, p, what, p + n, self.msg.len()));
        }
        Ok(())
    }

    /// A question (RFC 1035 §4.1.2); the offset after it.
    fn question(&mut self, p: usize) -> Result<usize> {
        let n = self.name(p)?;
        self.fields.push(Field::text("dns.qry.name", "Name", n.text.clone()));
        self.fields.push(Field::uint("dns.qry.name.len", "Name Length", n.len as u64));
        self.fields.push(Field::uint("dns.count.labels", "Label Count", n.labels as u64));
        let p = n.end;
        self.need(p, 4, "question type and class")?;
        let t = be16(self.msg, p).unwrap_or(0);
        let class = be16(self.msg, p + 2).unwrap_or(0);
        self.fields.push(type_field("dns.qry.type", t, self.detail));
        self.fields.push(Field::hex("dns.qry.class", "Class", class, 4).shown_if(self.detail, || class_text(class)));
        if self.detail {
            self.info.push(format!("{} {}", RrType::from_number(t).wireshark_name(), n.text));
        }
        Ok(p + 4)
    }

    /// A resource record (RFC 1035 §4.1.3; RFC 6891 §6.1.2 for OPT); the offset after it.
    fn record(&mut self, p: usize) -> Result<usize> {
        let owner = self.name(p)?;
        let p = owner.end;
        // Wireshark reads the fixed part before showing any of the record.
        self.need(p, 10, "record type, class, TTL and data length")?;
        let t = be16(self.msg, p).unwrap_or(0);
        if t == 33 {
            // RFC 2782: the owner is _Service._Proto.Name; Wireshark shows its parts instead.
            let mut parts = owner.text.splitn(3, '.');
            let labels = [("dns.srv.service", "Service"), ("dns.srv.proto", "Protocol"), ("dns.srv.name", "Name")];
            for ((f, label), part) in labels.into_iter().zip(&mut parts) {
                self.fields.push(Field::text(f, label, part));
            }
        } else {
            self.fields.push(Field::text("dns.resp.name", "Name", owner.text.clone()));
        }
        self.fields.push(type_field("dns.resp.type", t, self.detail));
        let class = be16(self.msg, p + 2).unwrap_or(0);
        let ttl = be32(self.msg, p + 4).unwrap_or(0);
        let rdlen = usize::from(be16(self.msg, p + 8).unwrap_or(0));
        let start = p + 10;
        let name = RrType::from_number(t).wireshark_name();
        if t == 41 {
            let z = (ttl & 0xffff) as u16;
            self.fields.extend([
                Field::uint("dns.rr.udp_payload_size", "UDP payload size", class),
                Field::hex("dns.resp.ext_rcode", "Higher bits in extended RCODE", ttl >> 24, 2),
                Field::uint("dns.resp.edns0_version", "EDNS0 version", (ttl >> 16) & 0xff),
                Field::hex("dns.resp.z", "Z", z, 4),
                Field::flag("dns.resp.z.do", "DO bit", z & 0x8000 != 0)
                    .shown(if z & 0x8000 != 0 {
                        "Accepts DNSSEC security RRs"
                    } else {
                        "Cannot handle DNSSEC security RRs"
                    })
                    .depth(1),
                Field::hex("dns.resp.z.reserved", "Reserved", z & 0x7fff, 4).depth(1),
                Field::uint("dns.resp.len", "Data length", rdlen as u64),
            ]);
            self.info.push(name);
            self.need(start, rdlen, "OPT record data")?;
            self.options(start, start + rdlen)?;
            return Ok(start + rdlen);
        }
        let detail = self.detail;
        self.fields.extend([
            Field::hex("dns.resp.class", "Class", class, 4).shown_if(detail, || class_text(class)),
            Field::uint("dns.resp.ttl", "Time to live", ttl).shown_if(detail, || format!("{ttl} ({})", ttl_words(ttl))),
            Field::uint("dns.resp.len", "Data length", rdlen as u64),
        ]);
        if self.msg.len() < start + rdlen {
            self.need(start, rdlen, &format!("{name} record data (RDLENGTH {rdlen})"))?;
        }
        let data = self.msg.get(start..start + rdlen).unwrap_or(&[]);
        let shown = self.rdata(t, start, data)?;
        if detail {
            self.info.push(if shown.is_empty() { name } else { format!("{name} {shown}") });
        }
        Ok(start + rdlen)
    }

    /// A record's data of type `t` at `start`: its fields, and what the Info line shows of it.
    fn rdata(&mut self, t: u16, start: usize, data: &[u8]) -> Result<String> {
        let name_at = |r: &mut Self, field: &'static str, label: &'static str, p: usize| -> Result<String> {
            let n = r.name(p)?;
            r.fields.push(Field::text(field, label, n.text.clone()));
            Ok(n.text)
        };
        let u16_at = |p: usize| be16(self.msg, p).unwrap_or(0);
        Ok(match (t, data.len()) {
            (1, 4) => {
                let a = Ipv4Addr::new(data[0], data[1], data[2], data[3]);
                self.fields.push(Field::new("dns.a", "Address", Value::Ipv4(a)));
                text_if(self.detail, || a.to_string())
            }
            (28, 16) => {
                let a = <[u8; 16]>::try_from(data).map(Ipv6Addr::from).unwrap_or(Ipv6Addr::UNSPECIFIED);
                self.fields.push(Field::new("dns.aaaa", "AAAA Address", Value::Ipv6(a)));
                text_if(self.detail, || a.to_string())
            }
            (5, _) => name_at(self, "dns.cname", "CNAME", start)?,
            (2, _) => name_at(self, "dns.ns", "Name Server", start)?,
            (12, _) => name_at(self, "dns.ptr.domain_name", "Domain Name", start)?,
            (15, 3..) => {
                let pref = u16_at(start);
                self.fields.push(Field::uint("dns.mx.preference", "Preference", pref));
                let host = name_at(self, "dns.mx.mail_exchange", "Mail Exchange", start + 2)?;
                format!("{pref} {host}")
            }
            (33, 7..) => {
                self.fields.push(Field::uint("dns.srv.priority", "Priority", u16_at(start)));
                self.fields.push(Field::uint("dns.srv.weight", "Weight", u16_at(start + 2)));
                self.fields.push(Field::uint("dns.srv.port", "Port", u16_at(start + 4)));
                let target = name_at(self, "dns.srv.target", "Target", start + 6)?;
                format!("{} {} {} {target}", u16_at(start), u16_at(start + 2), u16_at(start + 4))
            }
            (16, _) => {
                // RFC 1035 §3.3.14: one or more <character-string>s, each a length octet and text.
                let mut i = 0;
                let mut texts = Vec::new();
                while let Some(&n) = data.get(i) {
                    let n = usize::from(n);
                    let Some(txt) = data.get(i + 1..i + 1 + n) else {
                        return Err(truncated(
                            self.base,
                            start + i,
                            "TXT string",
                            start + i + 1 + n,
                            start + data.len(),
                        ));
                    };
                    let txt = crate::layers::l7_application::http::message::tshark_text(txt);
                    self.fields.push(Field::uint("dns.txt.length", "TXT Length", n as u64));
                    self.fields.push(Field::text("dns.txt", "TXT", txt.clone()));
                    texts.push(txt);
                    i += 1 + n;
                }
                texts.join(" ")
            }
            (6, _) => {
                let m = self.name(start)?;
                self.fields.push(Field::text("dns.soa.mname", "Primary name server", m.text.clone()));
                let r = self.name(m.end)?;
                self.fields.push(Field::text("dns.soa.rname", "Responsible authority's mailbox", r.text));
                self.need(r.end, 20, "SOA numbers")?;
                let names = [
                    ("dns.soa.serial_number", "Serial Number"),
                    ("dns.soa.refresh_interval", "Refresh Interval"),
                    ("dns.soa.retry_interval", "Retry Interval"),
                    ("dns.soa.expire_limit", "Expire limit"),
                    ("dns.soa.minimum_ttl", "Minimum TTL"),
                ];
                for (i, (f, label)) in names.into_iter().enumerate() {
                    self.fields.push(Field::uint(f, label, be32(self.msg, r.end + 4 * i).unwrap_or(0)));
                }
                m.text
            }
            _ => String::new(),
        })
    }

    /// EDNS options in `start..end` (RFC 6891 §6.1.2): code, length, data.
    fn options(&mut self, start: usize, end: usize) -> Result<()> {
        let mut p = start;
        while p < end {
            self.need(p, 4, "EDNS option code and length")?;
            let code = be16(self.msg, p).unwrap_or(0);
            let len = usize::from(be16(self.msg, p + 2).unwrap_or(0));
            let Some(data) = self.msg.get(p + 4..p + 4 + len).filter(|_| p + 4 + len <= end) else {
                return Err(truncated(self.base, p + 2, "EDNS option data", p + 4 + len, end));
            };
            let name = option_name(code);
            self.fields.extend([
                Field::text("dns.opt", "Option", "").shown(name.clone()),
                Field::uint("dns.opt.code", "Option Code", code).shown(format!("{name} ({code})")).depth(1),
                Field::uint("dns.opt.len", "Option Length", len as u64).depth(1),
                Field::new("dns.opt.data", "Option Data", Value::Bytes(data.to_vec())).depth(1),
            ]);
            // RFC 7873 §4: an 8-byte client cookie, then the server's (8 to 32 bytes) if any.
            if code == 10 && len >= 8 {
                let (client, server) = data.split_at(8);
                self.fields
                    .push(Field::new("dns.opt.cookie.client", "Client Cookie", Value::Bytes(client.to_vec())).depth(1));
                // Without a server cookie tshark still lists the field, as "<MISSING>".
                let server = if server.is_empty() {
                    Field::text("dns.opt.cookie.server", "Server Cookie", "<MISSING>")
                } else {
                    Field::new("dns.opt.cookie.server", "Server Cookie", Value::Bytes(server.to_vec()))
                };
                self.fields.push(server.depth(1));
            }
            p += 4 + len;
        }
        Ok(())
    }
}

/// The record of one DNS message (`msg` starts with its header) as tshark shows it: `base` is
/// where it starts in the frame (`None` when it was put together from several segments), and
/// `tcp_length` its two-byte length prefix over TCP. A fault stops the reading with an expert
/// item; the fields read before it stay.
pub fn message_record(msg: &[u8], base: Option<usize>, tcp_length: Option<u16>, detail: bool) -> Record {
    let mut r = Record::new(L7, Direction::Up, "dns", "Domain Name System", PduName::Data);
    let prefix = usize::from(tcp_length.is_some()) * 2;
    let mut reader = Reader { msg, base, detail, fields: Vec::new(), info: Vec::new(), expert: Vec::new() };
    if let Some(n) = tcp_length {
        reader.fields.push(Field::uint("dns.length", "Length", n));
    }
    let h = match HeaderView::new(msg, base.unwrap_or(0)) {
        Ok(v) => v.header(),
        Err(e) => {
            r.fields = reader.fields;
            r.payload_len = msg.len();
            r.summary = format!("malformed DNS message ({} bytes)", msg.len());
            r.expert.push(malformed(&Error { offset: base.map(|b| b + msg.len()), ..e }));
            return r;
        }
    };
    let response = h.flags & flags::QR != 0;
    r.title = text_if(detail, || title(response).to_string());
    r.header = prefix..prefix + HEADER_LEN;
    r.overhead = prefix + HEADER_LEN;
    r.payload_len = msg.len() - HEADER_LEN;
    reader.fields.extend(header_fields(&h, detail));
    let mut p = HEADER_LEN;
    let outcome = (|| -> Result<usize> {
        for _ in 0..h.qdcount {
            p = reader.question(p)?;
        }
        for _ in 0..u32::from(h.ancount) + u32::from(h.nscount) + u32::from(h.arcount) {
            p = reader.record(p)?;
        }
        Ok(p)
    })();
    let rcode = h.flags & flags::RCODE;
    let mut summary = if !detail {
        String::new()
    } else if response {
        let mut s = format!("Standard query response 0x{:04x}", h.id);
        if rcode != 0 {
            s.push_str(&format!(" {}", super::message::rcode_name(rcode)));
        }
        s
    } else {
        format!("Standard query 0x{:04x}", h.id)
    };
    for i in &reader.info {
        summary.push(' ');
        summary.push_str(i);
    }
    r.summary = summary;
    r.fields = reader.fields;
    r.expert = reader.expert;
    match outcome {
        Ok(end) if end < msg.len() => {
            r.notes.push(format!("{} bytes after the last record the header counts", msg.len() - end))
        }
        Ok(_) => {}
        Err(e) => r.expert.push(malformed(&e)),
    }
    r
}

/// Wireshark's "Malformed Packet" for DNS, saying what was wrong.
fn malformed(e: &Error) -> Expert {
    Expert::new(Severity::Error, Group::Malformed, format!("Malformed Packet (DNS): {e}"), e.offset)
}

/// The two-byte length of a DNS message over TCP (RFC 1035 §4.2.2) and the messages framed so far.
#[derive(Debug, Clone, Default)]
pub struct TcpFramer {
    buf: Vec<u8>,
}

impl TcpFramer {
    /// Bytes held for a message not yet whole (at most 2 + 65535).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forget a message under way (a gap in the stream): how many bytes were held.
    pub fn reset(&mut self) -> usize {
        let n = self.buf.len();
        self.buf.clear();
        n
    }

    /// Take a piece of the stream (whose first byte is at `base` in the frame, when it sits in
    /// one) and return the record of every message it completes.
    pub fn feed(&mut self, piece: &[u8], base: Option<usize>, detail: bool) -> Vec<Record> {
        let held_before = self.buf.len();
        self.buf.extend_from_slice(piece);
        let mut out = Vec::new();
        let mut used = 0;
        while let Some(n) = be16(&self.buf, used) {
            let len = usize::from(n);
            let Some(msg) = self.buf.get(used + 2..used + 2 + len) else {
                break;
            };
            // The message sits in this frame when none of it was held from an earlier piece.
            let at = base.filter(|_| used >= held_before).map(|b| b + used - held_before + 2);
            let mut r = message_record(msg, at, Some(n), detail);
            if used < held_before {
                r.notes.push("reassembled from several TCP segments".into());
            }
            out.push(r);
            used += 2 + len;
        }
        self.buf.drain(..used);
        out
    }
}

impl DnsApplication {
    /// A DNS reader for one direction of a captured conversation (see [`capture`](self)): any
    /// message, over UDP one per datagram, over TCP framed by its length.
    pub fn capture() -> Self {
        DnsApplication { cfg: DnsConfig { id: 0, kind: DnsKind::Query }, observer: Some(TcpFramer::default()) }
    }

    /// Bytes held for a message over TCP not yet whole.
    pub fn buffered(&self) -> usize {
        self.observer.as_ref().map_or(0, TcpFramer::buffered)
    }

    /// One datagram, or one piece of a TCP stream, observed: a record per message it completes
    /// (none for an empty datagram, as tshark shows none); the piece goes up when it completed
    /// any.
    pub(super) fn observe(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Option<Pdu> {
        let base = (!meta.detached).then_some(meta.offset);
        if meta.ip_proto != Some(6) {
            if bytes.is_empty() {
                return None;
            }
            cx.trace.push(message_record(&bytes, base, None, cx.detail));
            return Some(Pdu { data: Data::Bytes(bytes), meta });
        }
        let framer = self.observer.get_or_insert_with(TcpFramer::default);
        if Piece::of(&meta).gap_before {
            let lost = framer.reset();
            if lost > 0 {
                let mut r = Record::new(L7, Direction::Up, "dns", "Domain Name System", PduName::Data);
                r.summary = format!("[message abandoned] {lost} bytes of it were held before a gap");
                r.expert.push(Expert::new(
                    Severity::Warning,
                    Group::Reassemble,
                    format!(
                        "A gap in the TCP stream cut the DNS message under way ({lost} bytes held): it is abandoned"
                    ),
                    None,
                ));
                cx.trace.push(r);
            }
        }
        let records = framer.feed(&bytes, base, cx.detail);
        let any = !records.is_empty();
        cx.trace.records.extend(records);
        any.then_some(Pdu { data: Data::Bytes(bytes), meta })
    }

    /// The end of the capture: a message over TCP cut short is reported.
    pub(super) fn observe_finish(&mut self, cx: &mut Context) {
        let n = self.observer.as_mut().map_or(0, TcpFramer::reset);
        if n > 0 {
            let mut r = Record::new(L7, Direction::Up, "dns", "Domain Name System", PduName::Data);
            r.summary = format!("[incomplete message] {n} bytes at the end of the capture");
            r.expert.push(Expert::new(
                Severity::Warning,
                Group::Reassemble,
                format!("The capture ended {n} bytes into a DNS message over TCP (RFC 1035 §4.2.2)"),
                None,
            ));
            cx.trace.push(r);
        }
    }
}
