//! HTTP/1.1 (RFC 9112 message syntax, RFC 9110 semantics).
//!
//! CONTRACT (used by the stack and the CLI; keep these names and signatures):
//! - `HttpKind`, `HttpConfig`, `HttpApplication::new(cfg) -> Result<Self>`, `impl Layer`
//!
//! The SDU is the message body (possibly empty). Going down, the application wraps it in a
//! request or a response ([`message::emit_request`], [`message::emit_response`]). Going up, it
//! reads the byte stream TCP delivers with one [`message::Decoder`] that keeps its place across
//! pieces (the header section ends at CRLF CRLF; the body's length comes from Content-Length or
//! the chunked coding, RFC 9112 §6.3), strictly and within bounded memory, and delivers each body
//! once its message is whole; several messages in one piece are all delivered, their bodies
//! concatenated, one record each. A response delimited by the connection's close (RFC 9112 §6.3
//! rule 8) is delivered as it arrives; [`Layer::finish`] records that it ended there, and reports
//! any other message the end of the stream cut short (RFC 9112 §8).
//!
//! Records carry Wireshark's `http.*` fields with the values `tshark -T fields` prints (tshark 4.0),
//! on the frame whose arrival completed the message, as tshark reports a reassembled message.

pub mod capture;
pub mod message;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Pdu, PduName};
use crate::trace::{Direction, Field, Record};
use message::{tshark_text, Decoder, FieldLine, Framing, Message, ParseError, Parsed, StartLine};
use serde::Serialize;

/// What this endpoint sends; the SDU is always the message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpKind {
    /// A client's request.
    Request {
        /// GET, POST, HEAD, PUT, DELETE, OPTIONS… (a token, RFC 9110 §9).
        method: String,
        /// The request target in origin form, e.g. `/index.html` (RFC 9112 §3.2.1).
        target: String,
        /// The Host header's value (RFC 9110 §7.2), e.g. `192.0.2.2` or `www.example`.
        host: String,
    },
    /// A server's response.
    Response {
        /// The status code, 100..=599 (RFC 9110 §15).
        status: u16,
        /// Send the body with `Transfer-Encoding: chunked` in chunks of at most this many bytes
        /// (RFC 9112 §7.1), instead of `Content-Length`.
        chunked: Option<usize>,
    },
}

/// HTTP configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpConfig {
    /// Request or response.
    pub kind: HttpKind,
    /// The body's media type, sent as Content-Type when there is a body.
    pub content_type: String,
}

/// The HTTP application.
#[derive(Debug, Clone)]
pub struct HttpApplication {
    cfg: HttpConfig,
    /// The receiving side's place in the stream: the message under way, parsed so far.
    rx: Decoder,
    /// A response without Content-Length or chunked coding has begun: everything after it is its
    /// body, until the connection closes (RFC 9112 §6.3 rule 8). The body's bytes so far.
    until_close: Option<usize>,
    /// Capture mode (see [`capture`]); `None` for an endpoint.
    observer: Option<capture::Observer>,
}

const L7: LayerId = LayerId::Application;
const PROTO: &str = "HTTP";
const TITLE: &str = "Hypertext Transfer Protocol";

fn config(msg: impl Into<String>) -> Error {
    Error::config(Some(L7), msg)
}

impl HttpApplication {
    /// An HTTP application, or a config error (bad method token, status out of range…).
    pub fn new(cfg: HttpConfig) -> Result<Self> {
        match &cfg.kind {
            HttpKind::Request { method, target, host } => {
                if !message::is_token(method.as_bytes()) {
                    return Err(config(format!(
                        "HTTP method {method:?} is not a token (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_`|~)"
                    )));
                }
                if !target.starts_with('/') {
                    return Err(config(format!(
                        "HTTP request target {target:?} must be in origin form, starting with '/' (RFC 9112 §3.2.1)"
                    )));
                }
                if let Some(c) = target.chars().find(|c| !c.is_ascii_graphic()) {
                    return Err(config(format!(
                        "HTTP request target {target:?} holds {c:?}: only visible ASCII, no spaces or control characters (RFC 9112 §3.2; percent-encode the rest, RFC 3986 §2.1)"
                    )));
                }
                if host.is_empty() {
                    return Err(config("HTTP Host is empty: an HTTP/1.1 request names its host (RFC 9112 §3.2)"));
                }
                if let Some(c) = host.chars().find(|c| !c.is_ascii_graphic()) {
                    return Err(config(format!(
                        "HTTP Host {host:?} holds {c:?}: a host has no spaces or control characters (RFC 9110 §7.2)"
                    )));
                }
            }
            HttpKind::Response { status, chunked } => {
                if !(100..=599).contains(status) {
                    return Err(config(format!("HTTP status {status} is outside 100..=599 (RFC 9110 §15)")));
                }
                if *chunked == Some(0) {
                    return Err(config(
                        "HTTP chunk size must be at least 1 byte (RFC 9112 §7.1: a 0 chunk ends the body)",
                    ));
                }
            }
        }
        if let Some(c) = cfg.content_type.chars().find(|&c| c.is_control() || !c.is_ascii()) {
            return Err(config(format!(
                "HTTP Content-Type {:?} holds {c:?}: a field value is visible ASCII and spaces (RFC 9110 §5.5)",
                cfg.content_type
            )));
        }
        Ok(HttpApplication { cfg, rx: Decoder::new(), until_close: None, observer: None })
    }

    /// The whole message for `body`, or a config error when this message may not have content.
    fn emit(&self, body: &[u8]) -> Result<Vec<u8>> {
        let ct = &self.cfg.content_type;
        match &self.cfg.kind {
            HttpKind::Request { method, target, host } => {
                if method == "HEAD" && !body.is_empty() {
                    return Err(config(format!(
                        "a HEAD request has no content ({} bytes given): its response is a GET's without the body (RFC 9110 §9.3.2)",
                        body.len()
                    )));
                }
                Ok(message::emit_request(method, target, host, ct, body))
            }
            HttpKind::Response { status, chunked } => {
                if message::status_has_no_content(*status) && !body.is_empty() {
                    return Err(config(format!(
                        "a {status} response has no content ({} bytes given) (RFC 9110 §6.4.1, §15; RFC 9112 §6.3)",
                        body.len()
                    )));
                }
                if let Some(n) = chunked.filter(|_| !message::status_has_no_content(*status)) {
                    let chunks = body.len().div_ceil(n) + 1;
                    if chunks > message::MAX_CHUNKS {
                        return Err(config(format!(
                            "{} bytes in chunks of {n} make {chunks} chunks, the last included: a receiver takes at most {} (osilab's limit); use larger chunks",
                            body.len(),
                            message::MAX_CHUNKS
                        )));
                    }
                }
                Ok(message::emit_response(*status, ct, *chunked, body))
            }
        }
    }
}

/// Wireshark's "Status Code Description" (`http.response.code.desc`), as tshark 4.0 prints it
/// (its own table, which follows older RFCs in places: "Request Time-out", "Request Entity Too
/// Large").
pub fn wireshark_code_desc(code: u16) -> String {
    let s = match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        199 => "Informational - Others",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        299 => "Success - Others",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        399 => "Redirection - Others",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        499 => "Client Error - Others",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        599 => "Server Error - Others",
        _ => return format!("Unknown ({code})"),
    };
    s.to_string()
}

/// The Wireshark field for a header Wireshark names, by header name (lower case): (field, label).
fn header_field(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name.to_ascii_lowercase().as_str() {
        "host" => ("http.host", "Host"),
        "user-agent" => ("http.user_agent", "User-Agent"),
        "accept" => ("http.accept", "Accept"),
        "accept-language" => ("http.accept_language", "Accept-Language"),
        "accept-encoding" => ("http.accept_encoding", "Accept Encoding"),
        "content-type" => ("http.content_type", "Content-Type"),
        "content-length" => ("http.content_length_header", "Content-Length"),
        "content-encoding" => ("http.content_encoding", "Content-Encoding"),
        "transfer-encoding" => ("http.transfer_encoding", "Transfer-Encoding"),
        "server" => ("http.server", "Server"),
        "connection" => ("http.connection", "Connection"),
        "date" => ("http.date", "Date"),
        "cache-control" => ("http.cache_control", "Cache-Control"),
        "location" => ("http.location", "Location"),
        "referer" => ("http.referer", "Referer"),
        "last-modified" => ("http.last_modified", "Last-Modified"),
        _ => return None,
    })
}

/// The media type of a Content-Type value, lower case, without parameters (as Wireshark's Info
/// column shows it).
fn media_type(value: &[u8]) -> String {
    let v = String::from_utf8_lossy(value);
    v.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The one-line summary, like Wireshark's Info column: "GET /index.html HTTP/1.1",
/// "HTTP/1.1 200 OK  (text/plain)".
fn summary(m: &Message) -> String {
    let mut s = match &m.start {
        StartLine::Request { method, target, version } => format!("{method} {target} {version}"),
        StartLine::Status { version, code, phrase } => format!("{version} {code} {}", tshark_text(phrase)),
    };
    if !m.body.is_empty() {
        if let Some(ct) = m.header("Content-Type") {
            s.push_str(&format!("  ({})", media_type(ct)));
        }
    }
    s.trim_end().to_string()
}

/// A header (or trailer) line as Wireshark's `http.request.line` / `http.response.line` prints it.
fn line_text(f: &FieldLine) -> String {
    format!("{}\\r\\n", tshark_text(&f.line))
}

/// The fields of a whole message, in wire order, named and valued as tshark 4.0 prints them.
pub(crate) fn fields(m: &Message) -> Vec<Field> {
    let mut out = Vec::new();
    let line_name = match &m.start {
        StartLine::Request { method, target, version } => {
            out.push(Field::text("http.request.method", "Request Method", method.as_str()));
            out.push(Field::text("http.request.uri", "Request URI", target.as_str()));
            if let Some((path, query)) = target.split_once('?') {
                if !query.is_empty() {
                    out.push(Field::text("http.request.uri.path", "Request URI Path", path).depth(1));
                    out.push(Field::text("http.request.uri.query", "Request URI Query", query).depth(1));
                    for p in query.split('&').filter(|p| !p.is_empty()) {
                        out.push(
                            Field::text("http.request.uri.query.parameter", "Request URI Query Parameter", p).depth(2),
                        );
                    }
                }
            }
            out.push(Field::text("http.request.version", "Request Version", version.as_str()));
            ("http.request.line", "Request line")
        }
        StartLine::Status { version, code, phrase } => {
            out.push(Field::text("http.response.version", "Response Version", version.as_str()));
            out.push(Field::uint("http.response.code", "Status Code", *code));
            out.push(Field::text("http.response.code.desc", "Status Code Description", wireshark_code_desc(*code)));
            if !phrase.is_empty() {
                out.push(Field::text("http.response.phrase", "Response Phrase", tshark_text(phrase)));
            }
            ("http.response.line", "Response line")
        }
    };
    for h in &m.headers {
        out.push(Field::text(line_name.0, line_name.1, line_text(h)));
        if let Some((name, label)) = header_field(&h.name) {
            out.push(Field::text(name, label, tshark_text(&h.raw_value)).depth(1));
            if name == "http.content_length_header" {
                let v = h.value();
                if !v.is_empty() && v.iter().all(u8::is_ascii_digit) {
                    if let Some(n) = std::str::from_utf8(v).ok().and_then(|s| s.parse::<u64>().ok()) {
                        out.push(Field::uint("http.content_length", "Content length", n).depth(2));
                    }
                }
            }
        }
    }
    if let StartLine::Request { target, .. } = &m.start {
        let hosts: Vec<&FieldLine> = m.headers.iter().filter(|f| f.is("Host")).collect();
        if let ([host], true) = (hosts.as_slice(), target.starts_with('/')) {
            let uri = format!("http://{}{target}", tshark_text(host.value()));
            out.push(Field::text("http.request.full_uri", "Full request URI", uri));
        }
    }
    for &size in &m.chunks {
        let unit = if size == 1 { "octet" } else { "octets" };
        out.push(Field::uint("http.chunk_size", "Chunk size", size as u64).shown(format!("{size} {unit}")));
    }
    if !m.trailer.is_empty() {
        out.push(Field::text("http.chunked_trailer_part", "trailer-part", tshark_text(&m.trailer)));
    }
    if !m.body.is_empty() {
        let shown = format!("{} bytes: {}", m.body.len(), super::preview(&m.body));
        out.push(Field::text("http.file_data", "File Data", tshark_text(&m.body)).shown(shown));
    }
    out
}

/// The record of one whole message; `at` is where its start line is in the data unit the layer
/// handled, `None` when it began in an earlier piece of the stream (its header is then in another
/// frame).
pub(crate) fn record(direction: Direction, m: &Message, at: Option<usize>) -> Record {
    let mut r = Record::new(L7, direction, "http", TITLE, PduName::Data);
    r.summary = summary(m);
    match at {
        Some(at) => r.header = at..at + m.head_len,
        None => r.notes.push(format!(
            "reassembled from several segments: {} bytes of header (start line and fields) arrived in earlier frames",
            m.head_len
        )),
    }
    r.payload_len = m.body.len();
    r.overhead = m.len - m.body.len();
    match m.framing {
        Framing::UntilClose => {
            r.notes.push(format!(
                "no Content-Length and not chunked: the body runs until the connection closes (RFC 9112 §6.3 rule 8); the {} bytes received so far are delivered, and everything after them is body too",
                m.body.len()
            ));
            r.notes.push(
                "Wireshark waits for the connection to close before showing such a response, so no http.* fields are reported here"
                    .to_string(),
            );
        }
        _ => r.fields = fields(m),
    }
    match m.framing {
        Framing::Chunked => r.notes.push(format!(
            "chunked body: {} chunk(s) of data, {} bytes of chunk framing (RFC 9112 §7.1)",
            m.chunks.len().saturating_sub(1),
            m.len - m.skipped - m.head_len - m.body.len()
        )),
        Framing::Empty if !m.is_request() => {
            r.notes.push("a 1xx, 204 or 304 response has no content (RFC 9112 §6.3 rule 1)".to_string())
        }
        _ => {}
    }
    if m.skipped > 0 {
        r.notes.push(format!("{} empty line(s) before the start line ignored (RFC 9112 §2.2)", m.skipped / 2));
    }
    r
}

impl ParseError {
    /// The layer error, at frame offset `offset` when it is known.
    fn into_error(self, offset: Option<usize>) -> Error {
        Error::invalid(L7, PROTO, offset, self.what, self.expected, self.found)
    }
}

impl Layer for HttpApplication {
    fn id(&self) -> LayerId {
        L7
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        let (body, meta) = sdu.into_bytes(L7)?;
        let bytes = self.emit(&body)?;
        // The record is read back from the bytes as a receiver reads them.
        let m = match message::parse(&bytes) {
            Ok(Parsed::Complete(m)) => m,
            Ok(Parsed::Incomplete { what, .. }) => {
                return Err(config(format!("HTTP built an incomplete message (awaiting {what}): a bug")))
            }
            Err(e) => return Err(config(format!("HTTP built a message it cannot parse: bad {}: {}", e.what, e.found))),
        };
        cx.trace.push(record(Direction::Down, &m, Some(m.skipped)));
        Ok(vec![Pdu { data: Data::Bytes(bytes), meta }])
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(L7)?;
        if self.observer.is_some() {
            return Ok(self.observe(bytes, meta, cx));
        }
        if let Some(so_far) = &mut self.until_close {
            // RFC 9112 §6.3 rule 8: the close-delimited body goes on.
            *so_far += bytes.len();
            let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
            r.summary =
                format!("Continuation: {} more bytes of a body that runs until the connection closes", bytes.len());
            r.payload_len = bytes.len();
            r.notes.push("body until close (RFC 9112 §6.3 rule 8): delivered as it arrives".to_string());
            cx.trace.push(r);
            return Ok(Some(Pdu { data: Data::Bytes(bytes), meta }));
        }
        // Stream positions from here on: where this piece starts.
        let piece = self.rx.position();
        let mut i = 0;
        let mut body = Vec::new();
        let mut complete = 0;
        let mut waiting = None;
        loop {
            // Where the message under way began, before this call (`None`: it begins in it).
            let began = self.rx.message_start();
            match self.rx.feed(&bytes[i..]) {
                Ok((n, Parsed::Complete(m))) => {
                    i += n;
                    // Where its start line is in this piece, when it is in it.
                    let head = self.rx.position() - m.len + m.skipped;
                    cx.trace.push(record(Direction::Up, &m, head.checked_sub(piece)));
                    body.extend_from_slice(&m.body);
                    complete += 1;
                    if m.framing == Framing::UntilClose {
                        self.until_close = Some(m.body.len());
                        break;
                    }
                    if i == bytes.len() {
                        break;
                    }
                }
                Ok((_, Parsed::Incomplete { what, needed })) => {
                    if self.rx.in_message() {
                        waiting = Some((what, needed));
                    }
                    break;
                }
                Err(e) => {
                    // Offsets name a byte of this frame only when the message began in it.
                    let here = began.map_or(true, |b| b >= piece);
                    let offset = e.at.checked_sub(piece).filter(|_| here).map(|p| meta.offset + p);
                    self.rx.reset();
                    return Err(e.into_error(offset));
                }
            }
        }
        if let Some((what, needed)) = waiting {
            let held = self.rx.received();
            let note = match needed {
                Some(n) => format!("waiting for {n} more bytes ({what}); {held} bytes of the message held"),
                None => format!("waiting for {what}; {held} bytes of the message held"),
            };
            if complete == 0 {
                let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
                r.summary = format!("[segment of a message being reassembled] {held} bytes held");
                r.notes.push(note);
                r.notes.push("Wireshark shows the message on the frame that completes it".to_string());
                cx.trace.push(r);
                return Ok(None);
            }
            if let Some(r) = cx.trace.records.last_mut() {
                r.notes.push(format!("next message: {note}"));
            }
        } else if complete == 0 && !bytes.is_empty() {
            // Only empty lines (or the CR of one): read and dropped, nothing is held.
            let n = self.rx.skipped_lines();
            let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
            r.summary = format!("[empty lines] {n} before a start line, ignored");
            r.overhead = bytes.len();
            r.notes.push(format!(
                "RFC 9112 §2.2: empty lines before a start line are ignored (osilab takes at most {}); nothing is held",
                message::MAX_EMPTY_LINES
            ));
            cx.trace.push(r);
            return Ok(None);
        }
        Ok(Some(Pdu { data: Data::Bytes(body), meta }))
    }

    fn holding(&self) -> bool {
        self.rx.in_message()
    }

    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        if self.observer.is_some() {
            self.observe_finish(cx);
            return Ok(());
        }
        if let Some(n) = self.until_close.take() {
            // RFC 9112 §6.3 rule 8: the close is what ends this body, so it is complete.
            let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
            r.summary = format!("End of stream: the body that ran until the connection closed is complete ({n} bytes)");
            r.notes.push(
                "no Content-Length and not chunked: the connection's close ends the body (RFC 9112 §6.3 rule 8); its bytes were delivered as they arrived"
                    .to_string(),
            );
            cx.trace.push(r);
            return Ok(());
        }
        let Some(cut) = self.rx.cut() else {
            self.rx.reset();
            return Ok(());
        };
        self.rx.reset();
        let what = format!(
            "message: the connection ended {} bytes into {} (RFC 9112 §8: incomplete message)",
            cut.received, cut.what
        );
        let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
        r.summary = format!("[incomplete message] the connection ended {} bytes into {}", cut.received, cut.what);
        r.notes.push(
            "RFC 9112 §8: a message cut short by the end of the stream is incomplete; nothing of it was delivered"
                .to_string(),
        );
        cx.trace.push(r);
        Err(Error::truncated(L7, PROTO, None, what, cut.needed, cut.received))
    }
}
