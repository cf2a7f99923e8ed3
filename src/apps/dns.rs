//! A DNS server with fixed records (RFC 1035 §4, over UDP port 53) and a resolver that asks one
//! question and prints the answer as `dig` does.

use crate::host::{Fd, Program, SockEvent, SockType, Sys};
use crate::layers::l7_application::dns::message::{flags, Answer, Message, Question, RData};
use crate::layers::l7_application::dns::name::Name;
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
    v6: bool,
    records: Vec<(Name, u32, RData)>,
    fd: Option<Fd>,
    /// (name, type, answers) of each query answered.
    pub answered: Vec<(String, String, usize)>,
}

impl DnsServer {
    /// A server on `port` with `records`: (name, TTL, data).
    pub fn new(port: u16, v6: bool, records: Vec<(Name, u32, RData)>) -> Self {
        DnsServer { port, v6, records, ..Default::default() }
    }
}

impl Program for DnsServer {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Some(fd) = super::serve(sys, SockType::Dgram, self.v6, self.port, 0) else { return sys.exit(1) };
        self.fd = Some(fd);
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
            let answers: Vec<Answer> = self
                .records
                .iter()
                .filter(|(n, _, d)| n.to_text().eq_ignore_ascii_case(&qname.to_text()) && d.rtype() == qtype)
                .map(|(n, ttl, d)| Answer { name: n.clone(), ttl: *ttl, rdata: d.clone() })
                .collect();
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

/// The resolver: one query (RD set, as dig sends it), retried after `timeout` up to `tries`
/// times (dig's +time=5 +tries=3), then the answer section printed.
#[derive(Debug)]
pub struct DnsQuery {
    server: SocketAddr,
    name: Name,
    qtype: RrType,
    id: u16,
    tries: u32,
    fd: Option<Fd>,
    /// The answers received (name, TTL, data as text), and the RCODE.
    pub answer: Option<(u16, Vec<String>)>,
}

const TIMEOUT: Duration = Duration::from_secs(5);

impl DnsQuery {
    /// Ask `server` for `name`'s `qtype` records with message ID `id`.
    pub fn new(server: SocketAddr, name: Name, qtype: RrType, id: u16) -> Self {
        DnsQuery { server, name, qtype, id, tries: 0, fd: None, answer: None }
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
        sys.set_timer(TIMEOUT, u64::from(self.tries));
    }
}

impl Program for DnsQuery {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Ok(fd) = sys.socket(SockType::Dgram, self.server.is_ipv6()) else { return sys.exit(1) };
        self.fd = Some(fd);
        self.ask(sys);
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, _ev: SockEvent) {
        while let Ok((r, from)) = sys.recvfrom(fd) {
            let Ok(p) = Message::parse(&r, 0) else { continue };
            // RFC 5452 §9.1: accept only a response from the server asked, with our ID and question.
            if from != self.server || p.message.id != self.id || p.message.flags & flags::QR == 0 {
                continue;
            }
            let rcode = p.message.flags & flags::RCODE;
            let lines: Vec<String> = p
                .message
                .answers
                .iter()
                .map(|a| {
                    let data = match &a.rdata {
                        RData::A(ip) => ip.to_string(),
                        RData::Aaaa(ip) => ip.to_string(),
                        RData::Cname(n) => n.to_text(),
                        RData::Other { data, .. } => crate::trace::hex(data),
                    };
                    format!("{}\t{}\tIN\t{}\t{data}", a.name.to_text(), a.ttl, a.rdata.rtype())
                })
                .collect();
            sys.log(format!(
                ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}",
                crate::layers::l7_application::dns::message::rcode_name(rcode),
                self.id
            ));
            for l in &lines {
                sys.log(l.clone());
            }
            self.answer = Some((rcode, lines));
            let _ = sys.close(fd);
            self.fd = None;
        }
    }

    fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64) {
        if self.answer.is_some() || token != u64::from(self.tries) {
            return;
        }
        if self.tries < 3 {
            self.ask(sys);
        } else {
            sys.log(";; connection timed out; no servers could be reached");
            if let Some(fd) = self.fd.take() {
                let _ = sys.close(fd);
            }
        }
    }

    fn report(&self) -> Vec<String> {
        match &self.answer {
            Some((rcode, a)) => vec![format!("dns {}: rcode {rcode}, {} answers", self.name.to_text(), a.len())],
            None => vec![format!("dns {}: no answer", self.name.to_text())],
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
