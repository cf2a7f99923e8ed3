//! A DNS server with fixed records (RFC 1035 §4, over UDP port 53) and a resolver that asks one
//! question and prints the answer as `dig` does.

use super::Listen;
use crate::host::{Fd, Program, SockError, SockEvent, SockType, Sys};
use crate::layers::l7_application::dns::message::{flags, Answer, HeaderView, Message, Question, RData};
use crate::layers::l7_application::dns::name::{self, Name};
use crate::layers::l7_application::dns::RrType;
use std::any::Any;
use std::net::SocketAddr;
use std::time::Duration;

/// The server: answers each query from its records (AA set: it is authoritative for them),
/// NXDOMAIN (RCODE 3) for a name it has no record of, and an empty answer (NODATA) for a known
/// name without records of the asked type (RFC 2308 §2).
#[derive(Debug, Default)]
pub struct DnsServer {
    port: u16,
    on: Listen,
    records: Vec<(Name, u32, RData)>,
    /// (name, type, answers) of each query answered.
    pub answered: Vec<(String, String, usize)>,
}

impl DnsServer {
    /// A server on `port` (on the families `on` says) with `records`: (name, TTL, data).
    pub fn new(port: u16, on: Listen, records: Vec<(Name, u32, RData)>) -> Self {
        DnsServer { port, on, records, ..Default::default() }
    }
}

/// The longest CNAME chain the server follows in one answer.
const MAX_CHAIN: usize = 8;

impl DnsServer {
    /// The answer section for `qname`/`qtype`: its records of that type; or, for a name that is
    /// an alias, its CNAME record and then the answer for the canonical name, as an authoritative
    /// server restarts the lookup (RFC 1034 §4.3.2 step 3a), at most [`MAX_CHAIN`] aliases deep.
    fn answers(&self, qname: &Name, qtype: RrType) -> Vec<Answer> {
        let mut out = Vec::new();
        let mut name = qname.clone();
        for _ in 0..=MAX_CHAIN {
            let exact = self.records_of(&name, qtype);
            if !exact.is_empty() || qtype == RrType::Cname {
                out.extend(exact);
                break;
            }
            let Some(alias) = self.records_of(&name, RrType::Cname).into_iter().next() else { break };
            let RData::Cname(target) = &alias.rdata else { break };
            name = target.clone();
            out.push(alias);
        }
        out
    }

    /// `name`'s records of type `rtype` (names compare case-insensitively, RFC 1035 §2.3.3).
    fn records_of(&self, name: &Name, rtype: RrType) -> Vec<Answer> {
        let wanted = name.to_text();
        self.records
            .iter()
            .filter(|(n, _, r)| r.rtype() == rtype && n.to_text().eq_ignore_ascii_case(&wanted))
            .map(|(n, ttl, r)| Answer { name: n.clone(), ttl: *ttl, rdata: r.clone() })
            .collect()
    }
}

impl Program for DnsServer {
    fn start(&mut self, sys: &mut Sys<'_>) {
        if super::serve(sys, SockType::Dgram, self.on, self.port, 0).is_empty() {
            sys.exit(1);
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, _ev: SockEvent) {
        while let Ok((q, from)) = sys.recvfrom(fd) {
            let Ok(parsed) = Message::parse(&q, 0) else {
                sys.log(format!("malformed query from {from}: ignored"));
                continue;
            };
            let query = parsed.message;
            if query.flags & flags::QR != 0 {
                continue;
            }
            let qname = query.question.name.clone();
            let qtype = query.question.qtype;
            let known = self.records.iter().any(|(n, _, _)| n.to_text().eq_ignore_ascii_case(&qname.to_text()));
            let answers = self.answers(&qname, qtype);
            let rcode = if known { 0 } else { 3 };
            let reply = Message {
                id: query.id,
                flags: flags::QR | flags::AA | (query.flags & flags::RD) | rcode,
                question: Question { name: qname.clone(), qtype },
                answers,
            };
            self.answered.push((qname.to_text(), format!("{qtype:?}"), reply.answers.len()));
            let _ = sys.sendto(fd, &reply.emit().0, from);
        }
    }

    fn on_timer(&mut self, _sys: &mut Sys<'_>, _token: u64) {}

    fn report(&self) -> Vec<String> {
        vec![format!("dns-server :{}: {} queries answered", self.port, self.answered.len())]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One stub-resolver lookup (RFC 1035 §7.2), as a host's resolver library makes it: one question
/// with RD set over UDP, retried after [`TIMEOUT`] up to three times (dig's `+time=5 +tries=3`,
/// glibc's `timeout:5 attempts:2` and one more), and only a response from the server asked, with
/// the query's ID and a matching question, accepted (RFC 5452 §9.1). It is a part of a program,
/// not a program: [`DnsQuery`] prints what it finds as `dig` does, and
/// [`HttpGet`](super::http::HttpGet) resolves a URL's host name with it before connecting.
#[derive(Debug)]
pub struct Lookup {
    server: SocketAddr,
    name: Name,
    qtype: RrType,
    id: u16,
    tries: u32,
    fd: Option<Fd>,
}

/// How a [`Lookup`] ended.
#[derive(Debug, Clone, PartialEq)]
pub enum LookupResult {
    /// The server answered: its RCODE and answer section.
    Answered {
        /// The response code (0 NOERROR, 3 NXDOMAIN…).
        rcode: u16,
        /// The answer records, in order (a CNAME chain comes before the addresses).
        answers: Vec<Answer>,
    },
    /// No response after every try.
    TimedOut,
}

/// The retry timer's tokens are `LOOKUP_TIMER + try`: a program that owns a [`Lookup`] keeps its
/// own timers below this.
pub const LOOKUP_TIMER: u64 = 1 << 32;

impl Lookup {
    /// A lookup of `name`'s `qtype` records at `server`, with message ID `id`.
    pub fn new(server: SocketAddr, name: Name, qtype: RrType, id: u16) -> Self {
        Lookup { server, name, qtype, id, tries: 0, fd: None }
    }

    /// The name asked about.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The socket, while the lookup waits for its answer.
    pub fn fd(&self) -> Option<Fd> {
        self.fd
    }

    /// Open the UDP socket and send the first query.
    pub fn start(&mut self, sys: &mut Sys<'_>) -> Result<(), SockError> {
        let fd = sys.socket(SockType::Dgram, self.server.is_ipv6())?;
        self.fd = Some(fd);
        self.ask(sys);
        Ok(())
    }

    fn ask(&mut self, sys: &mut Sys<'_>) {
        let Some(fd) = self.fd else { return };
        let q = Message {
            id: self.id,
            flags: flags::RD,
            question: Question { name: self.name.clone(), qtype: self.qtype },
            answers: Vec::new(),
        };
        self.tries += 1;
        let _ = sys.sendto(fd, &q.emit().0, self.server);
        sys.set_timer(TIMEOUT, LOOKUP_TIMER + u64::from(self.tries));
    }

    fn finish(&mut self, sys: &mut Sys<'_>) {
        if let Some(fd) = self.fd.take() {
            let _ = sys.close(fd);
        }
    }

    /// The socket is readable: the result once the response has come (the socket is then closed).
    pub fn on_socket(&mut self, sys: &mut Sys<'_>) -> Option<LookupResult> {
        let fd = self.fd?;
        while let Ok((r, from)) = sys.recvfrom(fd) {
            if from != self.server {
                continue;
            }
            let answered = match Message::parse(&r, 0) {
                Ok(p) => self
                    .ours(p.message.id, p.message.flags, &p.message.question)
                    .then_some((p.message.flags & flags::RCODE, p.message.answers)),
                // The message codec reads answers only; an error response (NXDOMAIN, SERVFAIL,
                // REFUSED…) is read here: its header and question, nothing after.
                Err(_) => self.error_response(&r).map(|rcode| (rcode, Vec::new())),
            };
            if let Some((rcode, answers)) = answered {
                self.finish(sys);
                return Some(LookupResult::Answered { rcode, answers });
            }
        }
        None
    }

    /// A response to this query: QR set, our ID, our question (RFC 5452 §9.1).
    fn ours(&self, id: u16, f: u16, q: &Question) -> bool {
        id == self.id
            && f & flags::QR != 0
            && q.qtype == self.qtype
            && q.name.to_text().eq_ignore_ascii_case(&self.name.to_text())
    }

    /// The RCODE of an error response to this query (RFC 1035 §4.1.1: header, then one
    /// question of QNAME, QTYPE, QCLASS), `None` for anything else.
    fn error_response(&self, r: &[u8]) -> Option<u16> {
        let h = HeaderView::new(r, 0).ok()?.header();
        let rcode = h.flags & flags::RCODE;
        if rcode == 0 || h.qdcount != 1 {
            return None;
        }
        let q = name::read(r, 12, 0).ok()?;
        let qtype = RrType::from_number(u16::from_be_bytes([*r.get(q.end)?, *r.get(q.end + 1)?]));
        self.ours(h.id, h.flags, &Question { name: q.name, qtype }).then_some(rcode)
    }

    /// A timer fired: a retry, or [`LookupResult::TimedOut`] after the last try. `None` for a
    /// token that is not the lookup's current one.
    pub fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64) -> Option<LookupResult> {
        if self.fd.is_none() || token != LOOKUP_TIMER + u64::from(self.tries) {
            return None;
        }
        if self.tries < 3 {
            self.ask(sys);
            return None;
        }
        self.finish(sys);
        Some(LookupResult::TimedOut)
    }
}

/// An answer record as dig prints it: name, TTL, class, type, data.
pub fn answer_line(a: &Answer) -> String {
    let data = match &a.rdata {
        RData::A(ip) => ip.to_string(),
        RData::Aaaa(ip) => ip.to_string(),
        RData::Cname(n) => n.to_text(),
        RData::Other { data, .. } => crate::trace::hex(data),
    };
    format!("{}\t{}\tIN\t{}\t{data}", a.name.to_text(), a.ttl, a.rdata.rtype())
}

/// The resolver program: one [`Lookup`], its answer printed as `dig` does.
#[derive(Debug)]
pub struct DnsQuery {
    lookup: Lookup,
    /// The answers received (name, TTL, data as text), and the RCODE.
    pub answer: Option<(u16, Vec<String>)>,
}

const TIMEOUT: Duration = Duration::from_secs(5);

impl DnsQuery {
    /// Ask `server` for `name`'s `qtype` records with message ID `id`.
    pub fn new(server: SocketAddr, name: Name, qtype: RrType, id: u16) -> Self {
        DnsQuery { lookup: Lookup::new(server, name, qtype, id), answer: None }
    }

    fn done(&mut self, sys: &mut Sys<'_>, r: LookupResult) {
        match r {
            LookupResult::Answered { rcode, answers } => {
                sys.log(format!(
                    ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}",
                    crate::layers::l7_application::dns::message::rcode_mnemonic(rcode),
                    self.lookup.id
                ));
                let lines: Vec<String> = answers.iter().map(answer_line).collect();
                for l in &lines {
                    sys.log(l.clone());
                }
                self.answer = Some((rcode, lines));
            }
            LookupResult::TimedOut => sys.log(";; connection timed out; no servers could be reached"),
        }
    }
}

impl Program for DnsQuery {
    fn start(&mut self, sys: &mut Sys<'_>) {
        if self.lookup.start(sys).is_err() {
            sys.exit(1);
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, _fd: Fd, _ev: SockEvent) {
        if let Some(r) = self.lookup.on_socket(sys) {
            self.done(sys, r);
        }
    }

    fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64) {
        if let Some(r) = self.lookup.on_timer(sys, token) {
            self.done(sys, r);
        }
    }

    fn report(&self) -> Vec<String> {
        match &self.answer {
            Some((rcode, a)) => vec![format!("dns {}: rcode {rcode}, {} answers", self.lookup.name.to_text(), a.len())],
            None => vec![format!("dns {}: no answer", self.lookup.name.to_text())],
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
