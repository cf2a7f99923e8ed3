//! A small HTTP/1.1 server (RFC 9112) serving fixed files, and a client that GETs one URL and
//! closes, like `curl` (resolving a host name through DNS first).

use super::dns::{Lookup, LookupResult};
use super::Listen;
use crate::host::{Fd, Program, SockEvent, SockType, Sys};
use crate::layers::l7_application::dns::message::RData;
use crate::layers::l7_application::dns::name::Name;
use crate::layers::l7_application::dns::RrType;
use crate::layers::l7_application::http::message::{emit_request, emit_response, Decoder, Parsed, StartLine};
use std::any::Any;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// The server: `GET`/`HEAD` of a known path → 200 with the file; unknown path → 404; another
/// method → 405 (RFC 9110 §15.5.6). Keeps connections open (HTTP/1.1 persistence) until the
/// client closes, or closes after answering `Connection: close`.
#[derive(Debug, Default)]
pub struct HttpServer {
    port: u16,
    on: Listen,
    files: BTreeMap<String, (String, Vec<u8>)>,
    listeners: Vec<Fd>,
    conns: BTreeMap<Fd, Decoder>,
    /// (method, target, status) of each request answered.
    pub served: Vec<(String, String, u16)>,
}

impl HttpServer {
    /// A server on `port` (on the families `on` says) with `files`: path → (content type, body).
    pub fn new(port: u16, on: Listen, files: BTreeMap<String, (String, Vec<u8>)>) -> Self {
        HttpServer { port, on, files, ..Default::default() }
    }
}

impl Program for HttpServer {
    fn start(&mut self, sys: &mut Sys<'_>) {
        self.listeners = super::serve(sys, SockType::Stream, self.on, self.port, 128);
        if self.listeners.is_empty() {
            sys.exit(1);
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent) {
        if self.listeners.contains(&fd) {
            while let Ok((c, _)) = sys.accept(fd) {
                self.conns.insert(c, Decoder::new());
            }
            return;
        }
        if !matches!(ev, SockEvent::Readable | SockEvent::PeerClosed) {
            return;
        }
        let mut input = Vec::new();
        let mut eof = false;
        loop {
            match sys.recv(fd) {
                Ok(d) if d.is_empty() => {
                    eof = true;
                    break;
                }
                Ok(d) => input.extend_from_slice(&d),
                Err(_) => break,
            }
        }
        let mut at = 0;
        while at < input.len() {
            let Some(dec) = self.conns.get_mut(&fd) else { break };
            match dec.feed(&input[at..]) {
                Ok((used, Parsed::Complete(m))) => {
                    at += used.max(1);
                    let (method, target) = match &m.start {
                        StartLine::Request { method, target, .. } => (method.clone(), target.clone()),
                        StartLine::Status { .. } => (String::new(), String::new()),
                    };
                    let (code, ctype, body) = match (method.as_str(), self.files.get(&target)) {
                        ("GET" | "HEAD", Some((t, b))) => (200, t.clone(), b.clone()),
                        ("GET" | "HEAD", None) => (404, "text/plain".into(), b"not found\n".to_vec()),
                        _ => (405, "text/plain".into(), b"method not allowed\n".to_vec()),
                    };
                    let mut resp = emit_response(code, &ctype, None, &body);
                    if method == "HEAD" {
                        resp.truncate(resp.len() - body.len());
                    }
                    let _ = sys.send(fd, &resp);
                    sys.log(format!("\"{method} {target} HTTP/1.1\" {code} {}", body.len()));
                    self.served.push((method, target, code));
                    let close = m.header("connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
                    if close {
                        let _ = sys.close(fd);
                        self.conns.remove(&fd);
                        return;
                    }
                }
                Ok((used, Parsed::Incomplete { .. })) => at += used.max(input.len() - at),
                Err(e) => {
                    let _ = sys.send(fd, &emit_response(400, "text/plain", None, b"bad request\n"));
                    sys.log(format!("bad request: {} at byte {}", e.what, e.at));
                    let _ = sys.close(fd);
                    self.conns.remove(&fd);
                    return;
                }
            }
        }
        if eof {
            let _ = sys.close(fd);
            self.conns.remove(&fd);
        }
    }

    fn on_timer(&mut self, _sys: &mut Sys<'_>, _token: u64) {}

    fn report(&self) -> Vec<String> {
        vec![format!("http-server :{}: {} requests answered", self.port, self.served.len())]
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The client: `GET path` from `server` with `Host: host`, reads the response, closes. Given a
/// host name instead of an address ([`HttpGet::by_name`]), it first resolves the name with a DNS
/// [`Lookup`] (as curl asks the system's resolver), then connects to the first address of the
/// answer, after any CNAME chain.
#[derive(Debug)]
pub struct HttpGet {
    server: Option<SocketAddr>,
    resolve: Option<(Lookup, u16)>,
    host: String,
    path: String,
    fd: Option<Fd>,
    dec: Decoder,
    /// The status code and body received.
    pub response: Option<(u16, Vec<u8>)>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl HttpGet {
    /// GET `path` from `server`, naming `host` in the Host field.
    pub fn new(server: SocketAddr, host: &str, path: &str) -> Self {
        HttpGet {
            server: Some(server),
            resolve: None,
            host: host.into(),
            path: path.into(),
            fd: None,
            dec: Decoder::new(),
            response: None,
            error: None,
        }
    }

    /// GET `path` from the host `name` on `port`: first ask the DNS server `resolver` for its
    /// `qtype` (A or AAAA) records with message ID `id`. The Host field is the name (and the port
    /// when it is not 80, RFC 9110 §7.2).
    pub fn by_name(resolver: SocketAddr, name: Name, qtype: RrType, id: u16, port: u16, path: &str) -> Self {
        let text = name.to_text();
        let host = text.trim_end_matches('.');
        let host = if port == 80 { host.to_string() } else { format!("{host}:{port}") };
        let mut g = HttpGet::new(SocketAddr::new(resolver.ip(), port), &host, path);
        g.server = None;
        g.resolve = Some((Lookup::new(resolver, name, qtype, id), port));
        g
    }

    fn connect(&mut self, sys: &mut Sys<'_>, server: SocketAddr) {
        self.server = Some(server);
        let Ok(fd) = sys.socket(SockType::Stream, server.is_ipv6()) else { return sys.exit(1) };
        self.fd = Some(fd);
        if let Err(e) = sys.connect(fd, server) {
            self.error = Some(e.to_string());
        }
    }

    /// The lookup ended: connect to the first address, or give up saying why (as curl's
    /// "Could not resolve host").
    fn resolved(&mut self, sys: &mut Sys<'_>, r: LookupResult) {
        let Some((lookup, port)) = self.resolve.take() else { return };
        let name = lookup.name().to_text();
        let name = name.trim_end_matches('.');
        let addr = match &r {
            LookupResult::Answered { answers, .. } => answers.iter().find_map(|a| match a.rdata {
                RData::A(ip) => Some(IpAddr::V4(ip)),
                RData::Aaaa(ip) => Some(IpAddr::V6(ip)),
                _ => None,
            }),
            LookupResult::TimedOut => None,
        };
        match (addr, r) {
            (Some(ip), _) => {
                sys.log(format!("resolved {name} to {ip}"));
                self.connect(sys, SocketAddr::new(ip, port));
            }
            (None, LookupResult::TimedOut) => {
                self.error = Some(format!("could not resolve host {name}: the DNS server did not answer"));
                sys.log(format!("http-get: could not resolve host {name} (no answer from the DNS server)"));
            }
            (None, LookupResult::Answered { rcode, .. }) => {
                let status = crate::layers::l7_application::dns::message::rcode_mnemonic(rcode);
                self.error = Some(format!("could not resolve host {name}: {status}, no address"));
                sys.log(format!("http-get: could not resolve host {name} ({status}, no address)"));
            }
        }
    }
}

impl Program for HttpGet {
    fn start(&mut self, sys: &mut Sys<'_>) {
        match (&mut self.resolve, self.server) {
            (Some((lookup, _)), _) => {
                if lookup.start(sys).is_err() {
                    sys.exit(1);
                }
            }
            (None, Some(server)) => self.connect(sys, server),
            (None, None) => sys.exit(1),
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent) {
        if let Some((lookup, _)) = &mut self.resolve {
            if lookup.fd() == Some(fd) {
                if let Some(r) = lookup.on_socket(sys) {
                    self.resolved(sys, r);
                }
            }
            return;
        }
        match ev {
            SockEvent::Connected => {
                let req = emit_request("GET", &self.path, &self.host, "", b"");
                let _ = sys.send(fd, &req);
            }
            SockEvent::Readable | SockEvent::PeerClosed => loop {
                match sys.recv(fd) {
                    Ok(d) if d.is_empty() => {
                        let _ = sys.close(fd);
                        self.fd = None;
                        break;
                    }
                    Ok(d) => match self.dec.feed(&d) {
                        Ok((_, Parsed::Complete(m))) => {
                            if let StartLine::Status { code, .. } = m.start {
                                sys.log(format!("HTTP/1.1 {code}: {} bytes", m.body.len()));
                                self.response = Some((code, m.body));
                            }
                            let _ = sys.close(fd);
                            self.fd = None;
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            self.error = Some(format!("bad response: {} at byte {}", e.what, e.at));
                            let _ = sys.close(fd);
                            self.fd = None;
                            break;
                        }
                    },
                    Err(_) => break,
                }
            },
            SockEvent::Error(e) => {
                self.error = Some(e.to_string());
                sys.log(format!("http-get: {e}"));
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, sys: &mut Sys<'_>, token: u64) {
        if let Some((lookup, _)) = &mut self.resolve {
            if let Some(r) = lookup.on_timer(sys, token) {
                self.resolved(sys, r);
            }
        }
    }

    fn report(&self) -> Vec<String> {
        match (&self.response, &self.error) {
            (Some((code, body)), _) => vec![format!("GET {}: {code}, {} bytes", self.path, body.len())],
            (None, Some(e)) => vec![format!("GET {}: {e}", self.path)],
            (None, None) => vec![format!("GET {}: no response", self.path)],
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
