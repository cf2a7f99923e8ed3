//! A small HTTP/1.1 server (RFC 9112) serving fixed files, and a client that GETs one URL and
//! closes, like `curl`.

use crate::host::{Fd, Program, SockEvent, SockType, Sys};
use crate::layers::l7_application::http::message::{emit_request, emit_response, Decoder, Parsed, StartLine};
use std::any::Any;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// The server: `GET`/`HEAD` of a known path → 200 with the file; unknown path → 404; another
/// method → 405 (RFC 9110 §15.5.6). Keeps connections open (HTTP/1.1 persistence) until the
/// client closes, or closes after answering `Connection: close`.
#[derive(Debug, Default)]
pub struct HttpServer {
    port: u16,
    v6: bool,
    files: BTreeMap<String, (String, Vec<u8>)>,
    listener: Option<Fd>,
    conns: BTreeMap<Fd, Decoder>,
    /// (method, target, status) of each request answered.
    pub served: Vec<(String, String, u16)>,
}

impl HttpServer {
    /// A server on `port` with `files`: path → (content type, body).
    pub fn new(port: u16, v6: bool, files: BTreeMap<String, (String, Vec<u8>)>) -> Self {
        HttpServer { port, v6, files, ..Default::default() }
    }
}

impl Program for HttpServer {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Some(fd) = super::serve(sys, SockType::Stream, self.v6, self.port, 128) else { return sys.exit(1) };
        self.listener = Some(fd);
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent) {
        if Some(fd) == self.listener {
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

/// The client: `GET path` from `server` with `Host: host`, reads the response, closes.
#[derive(Debug)]
pub struct HttpGet {
    server: SocketAddr,
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
            server,
            host: host.into(),
            path: path.into(),
            fd: None,
            dec: Decoder::new(),
            response: None,
            error: None,
        }
    }
}

impl Program for HttpGet {
    fn start(&mut self, sys: &mut Sys<'_>) {
        let Ok(fd) = sys.socket(SockType::Stream, self.server.is_ipv6()) else { return sys.exit(1) };
        self.fd = Some(fd);
        if let Err(e) = sys.connect(fd, self.server) {
            self.error = Some(e.to_string());
        }
    }

    fn on_socket(&mut self, sys: &mut Sys<'_>, fd: Fd, ev: SockEvent) {
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

    fn on_timer(&mut self, _sys: &mut Sys<'_>, _token: u64) {}

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
