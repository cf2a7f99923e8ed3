//! DNS messages (RFC 1035) over UDP: queries and responses for A, AAAA and CNAME.
//!
//! CONTRACT (used by the stack and the CLI; keep these names and signatures):
//! - `RrType`, `DnsKind`, `DnsConfig`, `DnsApplication::new(cfg) -> Result<Self>`, `impl Layer`
//! - `question_text(name, rrtype) -> String` and `answer_text(name, ttl, rrtype, rdata) -> String`:
//!   the presentation-format lines that make up the SDU (see the module docs).
//!
//! The SDU is the message in presentation format, one line per entry, as dig prints it
//! ([`text`]): the question `www.example. IN AAAA`, then for a response one line per answer,
//! `www.example. 300 IN CNAME web.example.`, `web.example. 300 IN AAAA 2001:db8::5`. Going down,
//! the application parses it strictly and builds the message ([`message`]): a query (QR=0,
//! RD=1 as dig sets it, ID from the config) or a response (QR=1, RD=1, RA=1, NOERROR) whose
//! owner names and CNAME targets are compressed with pointers to earlier names (RFC 1035 §4.1.4,
//! [`name`]); a message over 512 bytes is refused (RFC 1035 §4.2.1: no EDNS here). Going up,
//! it checks every length, count, label and pointer and delivers the canonical text of what it
//! read, so that canonical text comes out as it went in.
//!
//! Read first: RFC 1035 §3.1, §4.1, §4.1.4, §4.2.1, §5.1; RFC 3596 §2; RFC 3597 §5; RFC 2181 §8.
//!
//! UDP only: one datagram is one message, nothing is buffered. Over TCP a message would need
//! RFC 1035 §4.2.2's 2-byte length prefix; a DNS message arriving over TCP is refused with an
//! error that says so.

pub mod capture;
pub mod message;
pub mod name;
#[cfg(test)]
mod tests;
pub mod text;

use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Pdu, PduName};
use crate::trace::{Check, Direction, Field, Record, Value};
use message::{flags, Answer, Header, HeaderView, Message, Parsed, Question, RData, HEADER_LEN, UDP_MAX};
use name::{Name, PROTO};
use serde::Serialize;
use std::fmt;

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

impl RrType {
    /// The type number on the wire.
    pub fn number(self) -> u16 {
        match self {
            RrType::A => 1,
            RrType::Aaaa => 28,
            RrType::Cname => 5,
            RrType::Other(n) => n,
        }
    }

    /// The type with this number (1, 5 and 28 become their variants, never `Other`).
    pub fn from_number(n: u16) -> RrType {
        match n {
            1 => RrType::A,
            28 => RrType::Aaaa,
            5 => RrType::Cname,
            n => RrType::Other(n),
        }
    }

    /// The name Wireshark gives the type in its Info column and tree (packet-dns.c
    /// `dns_types_vals`), for the common ones; `Unknown (n)` otherwise.
    pub fn wireshark_name(self) -> String {
        let known = match self.number() {
            1 => "A",
            2 => "NS",
            5 => "CNAME",
            6 => "SOA",
            12 => "PTR",
            13 => "HINFO",
            15 => "MX",
            16 => "TXT",
            28 => "AAAA",
            33 => "SRV",
            35 => "NAPTR",
            39 => "DNAME",
            41 => "OPT",
            43 => "DS",
            46 => "RRSIG",
            47 => "NSEC",
            48 => "DNSKEY",
            52 => "TLSA",
            64 => "SVCB",
            65 => "HTTPS",
            99 => "SPF",
            255 => "ANY",
            257 => "CAA",
            n => return format!("Unknown ({n})"),
        };
        known.to_string()
    }

    /// Wireshark's description in the tree's "Type:" line (packet-dns.c `dns_types_description_vals`,
    /// as `tshark -G values` lists them for `dns.qry.type`).
    pub fn wireshark_description(self) -> String {
        let n = self.number();
        let known = match n {
            0 => "Unused",
            1 => "A (Host Address)",
            2 => "NS (authoritative Name Server)",
            3 => "MD (Mail Destination)",
            4 => "MF (Mail Forwarder)",
            5 => "CNAME (Canonical NAME for an alias)",
            6 => "SOA (Start Of a zone of Authority)",
            7 => "MB (MailBox domain name)",
            8 => "MG (Mail Group member)",
            9 => "MR (Mail Rename domain)",
            10 => "NULL RR",
            11 => "WKS (Well Known Service)",
            12 => "PTR (domain name PoinTeR)",
            13 => "HINFO (host information)",
            14 => "MINFO (Mailbox or mail list information)",
            15 => "MX (Mail eXchange)",
            16 => "TXT (Text strings)",
            17 => "RP (Responsible Person)",
            18 => "AFSDB (AFS Data Base location)",
            19 => "X25 (XX.25 PSDN address)",
            20 => "ISDN (ISDN address)",
            21 => "RT (Route Through)",
            22 => "NSAP (NSAP address)",
            23 => "NSAP-PTR (NSAP domain name pointer)",
            24 => "SIG (security signature)",
            25 => "KEY (security key)",
            26 => "PX (X.400 mail mapping information)",
            27 => "GPOS (Geographical Position)",
            28 => "AAAA (IPv6 Address)",
            29 => "LOC (Location Information)",
            30 => "NXT (Next Domain)",
            31 => "EID (Endpoint Identifier)",
            32 => "NIMLOC (Nimrod Locator)",
            33 => "SRV (Server Selection)",
            34 => "ATMA (ATM Address)",
            35 => "NAPTR (Naming Authority Pointer)",
            36 => "KX (Key Exchanger)",
            37 => "CERT",
            38 => "A6 (OBSOLETE - use AAAA)",
            39 => "DNAME",
            40 => "SINK",
            41 => "OPT",
            42 => "APL",
            43 => "DS (Delegation Signer)",
            44 => "SSHFP (SSH Key Fingerprint)",
            45 => "IPSECKEY",
            46 => "RRSIG (Resource Record Signature)",
            47 => "NSEC (Next Secure)",
            48 => "DNSKEY (DNS Public Key)",
            49 => "DHCID",
            50 => "NSEC3",
            51 => "NSEC3PARAM",
            52 => "TLSA",
            55 => "HIP (Host Identity Protocol)",
            57 => "RKEY",
            58 => "TALINK (Trust Anchor LINK)",
            59 => "CDS (Child DS)",
            60 => "CDNSKEY (DNSKEY(s) the Child wants reflected in DS)",
            61 => "OPENPGPKEY (OpenPGP Key)",
            62 => "CSYNC (Child-to-Parent Synchronization)",
            63 => "ZONEMD",
            64 => "SVCB (General Purpose Service Endpoints)",
            65 => "HTTPS (HTTPS Specific Service Endpoints)",
            99 => "SPF",
            100 => "UINFO",
            101 => "UID",
            102 => "GID",
            103 => "UNSPEC",
            104 => "NID (NodeID)",
            105 => "L32 (Locator32)",
            106 => "L64 (Locator64)",
            107 => "LP (Locator FQDN)",
            108 => "EUI48",
            109 => "EUI64",
            249 => "TKEY (Transaction Key)",
            250 => "TSIG (Transaction Signature)",
            251 => "IXFR (incremental transfer)",
            252 => "AXFR (transfer of an entire zone)",
            253 => "MAILB (mailbox-related RRs)",
            254 => "MAILA (mail agent RRs)",
            255 => "* (A request for all records the server/cache has available)",
            256 => "URI",
            257 => "CAA (Certification Authority Restriction)",
            32768 => "TA (DNSSEC Trust Authorities)",
            32769 => "DLV (DNSSEC Lookaside Validation)",
            65281 => "WINS",
            65282 => "WINS-R",
            65422 => "XPF",
            _ => return format!("Unknown ({n})"),
        };
        known.to_string()
    }
}

impl fmt::Display for RrType {
    /// The mnemonic: `A`, `AAAA`, `CNAME`, or `TYPEnnn` (RFC 3597 §5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RrType::A => f.write_str("A"),
            RrType::Aaaa => f.write_str("AAAA"),
            RrType::Cname => f.write_str("CNAME"),
            RrType::Other(n) => write!(f, "TYPE{n}"),
        }
    }
}

impl std::str::FromStr for RrType {
    type Err = String;
    /// `A`, `AAAA`, `CNAME` or `TYPEnnn`, in any case.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        text::parse_type(s)
    }
}

/// Query or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
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
    /// Capture mode ([`capture`]): the TCP framing of the direction observed; `None` for an
    /// endpoint.
    observer: Option<capture::TcpFramer>,
}

impl DnsApplication {
    /// A DNS application.
    pub fn new(cfg: DnsConfig) -> Result<Self> {
        Ok(DnsApplication { cfg, observer: None })
    }

    /// The message this application sends for an SDU (parsed strictly, see [`text`]).
    pub fn message_for(&self, sdu: &[u8]) -> Result<Message> {
        let (question, answers) = text::parse_sdu(sdu, self.cfg.kind)?;
        let flags = match self.cfg.kind {
            // RFC 1035 §4.1.1: QR=0, OPCODE=0 (QUERY), RD=1 as dig sends it.
            DnsKind::Query => flags::RD,
            // QR=1, RD copied from the query, RA=1 (a recursive server), RCODE=0 (NOERROR).
            DnsKind::Response => flags::QR | flags::RD | flags::RA,
        };
        Ok(Message { id: self.cfg.id, flags, question, answers })
    }
}

/// The canonical form of a name the CLI was given: as parsed, or with the final dot added when
/// only that is missing; unchanged when it is no name (the SDU parser then says why).
fn canonical_name(name: &str) -> String {
    Name::parse_text(name)
        .or_else(|_| Name::parse_text(&format!("{name}.")))
        .map_or_else(|_| name.to_string(), |n| n.to_text())
}

/// The SDU line for a question: `www.example. IN AAAA`. The name is written canonically (a
/// missing final dot is added).
pub fn question_text(name: &str, rrtype: RrType) -> String {
    format!("{} IN {rrtype}", canonical_name(name))
}

/// The SDU line for an answer: `www.example. 300 IN AAAA 2001:db8::5`. The name and data are
/// written canonically when they parse (a CNAME target's missing final dot is added).
pub fn answer_text(name: &str, ttl: u32, rrtype: RrType, rdata: &str) -> String {
    let words: Vec<&str> = rdata.split_ascii_whitespace().collect();
    let data = match (rrtype, &words[..]) {
        (RrType::Cname, [one]) if !one.starts_with('\\') => canonical_name(one),
        _ => text::parse_rdata(rrtype, &words).map_or_else(|_| rdata.to_string(), |r| text::rdata_text(&r)),
    };
    format!("{} {ttl} IN {rrtype} {data}", canonical_name(name))
}

/// Wireshark's rendering of a TTL (`unsigned_time_secs_to_str`): "5 minutes", "1 hour, 1 second".
pub(crate) fn ttl_words(ttl: u32) -> String {
    if ttl == 0 {
        return "0 seconds".into();
    }
    let parts = [(ttl / 86400, "day"), (ttl / 3600 % 24, "hour"), (ttl / 60 % 60, "minute"), (ttl % 60, "second")];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    words.join(", ")
}

/// The title tshark heads the subtree with.
pub(crate) fn title(response: bool) -> &'static str {
    if response {
        "Domain Name System (response)"
    } else {
        "Domain Name System (query)"
    }
}

/// The Info column: "Standard query 0x1a2b AAAA www.example", "Standard query response 0x1a2b
/// AAAA www.example CNAME web.example AAAA 2001:db8::5" (packet-dns.c, `dissect_dns_common`).
fn summary(m: &Message) -> String {
    let response = m.flags & flags::QR != 0;
    let mut s = format!(
        "Standard query{} 0x{:04x} {} {}",
        if response { " response" } else { "" },
        m.id,
        m.question.qtype.wireshark_name(),
        m.question.name.wireshark()
    );
    for a in &m.answers {
        s.push(' ');
        s.push_str(&a.rdata.rtype().wireshark_name());
        match &a.rdata {
            RData::A(ip) => s.push_str(&format!(" {ip}")),
            RData::Aaaa(ip) => s.push_str(&format!(" {ip}")),
            RData::Cname(n) => s.push_str(&format!(" {}", n.wireshark())),
            RData::Other { .. } => {}
        }
    }
    s
}

fn flag_text(set: bool, yes: &'static str, no: &'static str) -> &'static str {
    if set {
        yes
    } else {
        no
    }
}

/// The header fields (RFC 1035 §4.1.1) under tshark 4.0's names, in wire order. A query shows
/// no AA, RA, AD or RCODE, as tshark does. Without `detail`, the renderings that would need
/// text made are left out ([`Context::detail`](crate::layer::Context::detail)).
pub(crate) fn header_fields(h: &Header, detail: bool) -> Vec<Field> {
    let f = h.flags;
    let response = f & flags::QR != 0;
    let opcode = (f & flags::OPCODE) >> 11;
    let rcode = f & flags::RCODE;
    let kind = || {
        if response {
            format!("Standard query response, {}", message::rcode_name(rcode))
        } else {
            "Standard query".into()
        }
    };
    let bit = |b: u16| f & b != 0;
    let mut v = Vec::with_capacity(16);
    v.extend([
        Field::hex("dns.id", "Transaction ID", h.id, 4),
        Field::hex("dns.flags", "Flags", f, 4).shown_if(detail, || format!("0x{f:04x} {}", kind())),
        Field::flag("dns.flags.response", "Response", response)
            .shown(flag_text(response, "Message is a response", "Message is a query"))
            .depth(1),
        Field::uint("dns.flags.opcode", "Opcode", opcode)
            .shown_if(detail, || if opcode == 0 { "Standard query (0)".into() } else { format!("Unknown ({opcode})") })
            .depth(1),
    ]);
    if response {
        v.push(
            Field::flag("dns.flags.authoritative", "Authoritative", bit(flags::AA))
                .shown(flag_text(
                    bit(flags::AA),
                    "Server is an authority for domain",
                    "Server is not an authority for domain",
                ))
                .depth(1),
        );
    }
    v.push(
        Field::flag("dns.flags.truncated", "Truncated", bit(flags::TC))
            .shown(flag_text(bit(flags::TC), "Message is truncated", "Message is not truncated"))
            .depth(1),
    );
    v.push(
        Field::flag("dns.flags.recdesired", "Recursion desired", bit(flags::RD))
            .shown(flag_text(bit(flags::RD), "Do query recursively", "Don't do query recursively"))
            .depth(1),
    );
    if response {
        v.push(
            Field::flag("dns.flags.recavail", "Recursion available", bit(flags::RA))
                .shown(flag_text(
                    bit(flags::RA),
                    "Server can do recursive queries",
                    "Server can't do recursive queries",
                ))
                .depth(1),
        );
    }
    v.push(
        Field::flag("dns.flags.z", "Z", bit(flags::Z))
            .shown(if bit(flags::Z) { "reserved (1)" } else { "reserved (0)" })
            .depth(1),
    );
    if !response && bit(flags::AD) {
        // A query with AD set (RFC 6840 §5.7: the resolver understands it): tshark names it so.
        v.push(Field::flag("dns.flags.authenticated", "AD bit", true).depth(1));
    }
    if response {
        v.push(
            Field::flag("dns.flags.authenticated", "Answer authenticated", bit(flags::AD))
                .shown(flag_text(
                    bit(flags::AD),
                    "Answer/authority portion was authenticated by the server",
                    "Answer/authority portion was not authenticated by the server",
                ))
                .depth(1),
        );
    }
    v.push(
        Field::flag("dns.flags.checkdisable", "Non-authenticated data", bit(flags::CD))
            .shown(flag_text(bit(flags::CD), "Acceptable", "Unacceptable"))
            .depth(1),
    );
    if response {
        v.push(
            Field::uint("dns.flags.rcode", "Reply code", rcode)
                .shown_if(detail, || format!("{} ({rcode})", message::rcode_name(rcode)))
                .depth(1),
        );
    }
    v.push(Field::uint("dns.count.queries", "Questions", h.qdcount));
    v.push(Field::uint("dns.count.answers", "Answer RRs", h.ancount));
    v.push(Field::uint("dns.count.auth_rr", "Authority RRs", h.nscount));
    v.push(Field::uint("dns.count.add_rr", "Additional RRs", h.arcount));
    v
}

fn class_field(name: &'static str) -> Field {
    Field::hex(name, "Class", message::CLASS_IN, 4).shown("IN (0x0001)")
}

/// The question's fields (RFC 1035 §4.1.2).
fn question_fields(q: &Question) -> Vec<Field> {
    let t = q.qtype;
    vec![
        Field::text("dns.qry.name", "Name", q.name.wireshark()),
        Field::uint("dns.qry.name.len", "Name Length", q.name.wireshark_len() as u64),
        Field::uint("dns.count.labels", "Label Count", q.name.wireshark_labels() as u64),
        Field::uint("dns.qry.type", "Type", t.number()).shown(format!(
            "{} ({})",
            t.wireshark_description(),
            t.number()
        )),
        class_field("dns.qry.class"),
    ]
}

/// An answer's fields (RFC 1035 §4.1.3); `rdlength` as on the wire.
fn answer_fields(a: &Answer, rdlength: usize) -> Vec<Field> {
    let t = a.rdata.rtype();
    let mut v = vec![
        Field::text("dns.resp.name", "Name", a.name.wireshark()),
        Field::uint("dns.resp.type", "Type", t.number()).shown(format!(
            "{} ({})",
            t.wireshark_description(),
            t.number()
        )),
        class_field("dns.resp.class"),
        Field::uint("dns.resp.ttl", "Time to live", a.ttl).shown(format!("{} ({})", a.ttl, ttl_words(a.ttl))),
        Field::uint("dns.resp.len", "Data length", rdlength as u64),
    ];
    match &a.rdata {
        RData::A(ip) => v.push(Field::new("dns.a", "Address", Value::Ipv4(*ip))),
        RData::Aaaa(ip) => v.push(Field::new("dns.aaaa", "AAAA Address", Value::Ipv6(*ip))),
        RData::Cname(n) => v.push(Field::text("dns.cname", "CNAME", n.wireshark())),
        // Wireshark dissects many other types its own way (dns.txt, dns.mx.*): no field here.
        RData::Other { .. } => {}
    }
    v
}

/// The record of one message, read back from its bytes.
fn record(direction: Direction, bytes: &[u8], p: &Parsed) -> Record {
    let m = &p.message;
    let response = m.flags & flags::QR != 0;
    let mut r = Record::new(LayerId::Application, direction, "dns", title(response), PduName::Data);
    r.summary = summary(m);
    r.header = 0..HEADER_LEN;
    r.payload_len = bytes.len() - HEADER_LEN;
    r.overhead = HEADER_LEN;
    r.fields = header_fields(&p.header, true);
    r.fields.extend(question_fields(&m.question));
    for (a, &rdlength) in m.answers.iter().zip(&p.rdlengths) {
        r.fields.extend(answer_fields(a, rdlength));
    }
    for a in &m.answers {
        if let RData::Other { rtype, data } = &a.rdata {
            r.notes.push(format!(
                "TYPE{rtype} data ({} octets, shown in RFC 3597's generic form): {}",
                data.len(),
                text::rdata_text(&a.rdata)
            ));
        }
    }
    r.notes.push(format!(
        "{} bytes on the wire ({} at most over UDP, RFC 1035 §4.2.1); {} compression pointer{} (RFC 1035 §4.1.4)",
        bytes.len(),
        UDP_MAX,
        p.pointers,
        if p.pointers == 1 { "" } else { "s" }
    ));
    r.notes.extend(p.notes.iter().cloned());
    r
}

impl Layer for DnsApplication {
    fn id(&self) -> LayerId {
        LayerId::Application
    }

    fn holding(&self) -> bool {
        self.buffered() > 0
    }

    /// In capture mode, a message over TCP cut short by the end of the capture is reported (an
    /// expert item, not an error); an endpoint holds nothing.
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        self.observe_finish(cx);
        Ok(())
    }

    /// Parse the SDU (presentation format), build the message, refuse it above 512 bytes
    /// (RFC 1035 §4.2.1), and record it as read back from the bytes.
    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        let (text, meta) = sdu.into_bytes(LayerId::Application)?;
        let m = self.message_for(&text)?;
        let (bytes, _) = m.emit();
        if bytes.len() > UDP_MAX {
            return Err(Error::invalid(
                LayerId::Application,
                PROTO,
                None,
                "DNS message length",
                format!("at most {UDP_MAX} bytes: DNS over UDP is limited to 512 bytes without EDNS (RFC 1035 §4.2.1)"),
                format!("{} bytes ({} answers)", bytes.len(), m.answers.len()),
            ));
        }
        // The fields are read back from the bytes sent, as on the receive path.
        let parsed = Message::parse(&bytes, 0)?;
        let mut r = record(Direction::Down, &bytes, &parsed);
        r.notes.insert(
            0,
            format!(
                "SDU: {} bytes of text, {} line(s) → a {}-byte message",
                text.len(),
                1 + m.answers.len(),
                bytes.len()
            ),
        );
        cx.trace.push(r);
        Ok(vec![Pdu { data: Data::Bytes(bytes), meta }])
    }

    /// Check and read one message (one UDP datagram), and deliver its canonical text.
    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(LayerId::Application)?;
        if self.observer.is_some() {
            return Ok(self.observe(bytes, meta, cx));
        }
        let base = meta.offset;
        // RFC 1035 §4.2.2: over TCP a message is preceded by a 2-byte length; this application
        // speaks DNS over UDP only (§4.2.1).
        if meta.ip_proto == Some(6) {
            let e = Error::invalid(
                LayerId::Application,
                PROTO,
                base,
                "DNS transport",
                "UDP: this DNS application speaks RFC 1035 §4.2.1 over UDP only (DNS over TCP, §4.2.2, adds a 2-byte length prefix it does not handle)",
                "TCP",
            );
            cx.trace.push(failed(&bytes, &e));
            return Err(e);
        }
        let parsed = match Message::parse(&bytes, base) {
            Ok(p) => p,
            Err(e) => {
                cx.trace.push(failed(&bytes, &e));
                return Err(e);
            }
        };
        let mut r = record(Direction::Up, &bytes, &parsed);
        r.checks.push(Check::new(
            "osilab.dns.length",
            "Message length",
            true,
            format!(
                "{} bytes: a 12-byte header, every counted record present, nothing after (≤ 512, RFC 1035 §4.2.1)",
                bytes.len()
            ),
        ));
        r.checks.push(Check::new(
            "osilab.dns.names",
            "Names",
            true,
            format!(
                "labels ≤ 63 octets, names ≤ 255 (RFC 1035 §3.1), {} pointer(s), each to a prior occurrence (§4.1.4)",
                parsed.pointers
            ),
        ));
        let m = &parsed.message;
        let text = text::to_text(&m.question, &m.answers);
        r.notes.push(format!("delivers {} bytes of text: {}", text.len(), text.replace('\n', " / ")));
        cx.trace.push(r);
        Ok(Some(Pdu { data: Data::Bytes(text.into_bytes()), meta }))
    }
}

/// The record of a message that was refused: what the header says, if it is there, and why.
fn failed(bytes: &[u8], e: &Error) -> Record {
    let mut r = Record::new(LayerId::Application, Direction::Up, "dns", "Domain Name System", PduName::Data);
    r.summary = format!("malformed DNS message ({} bytes)", bytes.len());
    if let Ok(v) = HeaderView::new(bytes, 0) {
        let h = v.header();
        r.title = title(h.flags & flags::QR != 0).into();
        r.header = 0..HEADER_LEN;
        r.payload_len = bytes.len() - HEADER_LEN;
        r.overhead = HEADER_LEN;
        r.fields = header_fields(&h, true);
    } else {
        r.payload_len = bytes.len();
    }
    r.notes.push(format!("discarded: {e}"));
    r
}
