//! HTTP/1.1 message syntax: emitting a message and parsing one out of a byte stream.
//!
//! Read this first: RFC 9112 §2 (message format), §3 (request line), §4 (status line), §5 (field
//! syntax), §6 (message body length), §7 (chunked transfer coding); RFC 9110 §5.6.2 (tokens) and
//! §5.5 (field values).
//!
//! [`Decoder`] reads messages out of a byte stream incrementally: it keeps its place across the
//! pieces TCP delivers (the line being read, the header section so far, the Content-Length
//! countdown or the chunked coding's state), so each received byte is examined a bounded number of
//! times however the stream is cut. [`parse`] is a fresh decoder over one buffer.
//!
//! Both are strict: every line ends in CRLF, field names are tokens with no whitespace before the
//! colon, field values hold no control characters, Content-Length is digits only, and a message
//! never carries both Content-Length and Transfer-Encoding. They never panic: every index is
//! checked against the buffer first.
//!
//! Everything a receiver holds for one message is bounded: at most [`MAX_EMPTY_LINES`] empty lines
//! and [`MAX_HEAD`] bytes before the body (the empty lines included), [`MAX_BODY`] bytes of
//! content, [`MAX_FRAMING`] bytes of chunk framing in at most [`MAX_CHUNKS`] chunks whose size
//! lines are each at most [`MAX_CHUNK_LINE`] bytes, and a trailer section of at most [`MAX_HEAD`]
//! bytes: [`MAX_MESSAGE`] bytes on the wire in all.

/// The largest header section (and trailer section) accepted: 64 KiB.
pub const MAX_HEAD: usize = 64 * 1024;
/// The largest body accepted: 16 MiB (a bound on what a receiver buffers).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The longest chunk-size line (size and extensions, without its CRLF) accepted.
pub const MAX_CHUNK_LINE: usize = 4096;
/// The most empty lines ignored before a start line. RFC 9112 §2.2 asks a server to ignore at
/// least one (some clients send a CRLF after a POST's content); more than this is refused, so that
/// a stream of CRLFs cannot keep a receiver busy forever.
pub const MAX_EMPTY_LINES: usize = 16;
/// The most chunks in one chunked body, the last chunk included (each is an `http.chunk_size`
/// field in the record).
pub const MAX_CHUNKS: usize = 64 * 1024;
/// The most bytes of chunk framing in one body: the chunk-size lines with their CRLFs and the CRLF
/// after each chunk's data. [`MAX_CHUNKS`] chunks of the largest size osilab accepts (7 hex digits)
/// take 11 bytes each, well inside it; 1-byte chunks with long extensions do not.
pub const MAX_FRAMING: usize = 1024 * 1024;
/// The most bytes one message can take on the wire: a head, a body, its chunk framing and a
/// trailer section, each at its limit.
pub const MAX_MESSAGE: usize = MAX_HEAD + MAX_BODY + MAX_FRAMING + MAX_HEAD;

/// The first line of a message (RFC 9112 §3, §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `method SP request-target SP HTTP-version`.
    Request {
        /// A token (RFC 9110 §9).
        method: String,
        /// The request target, as sent.
        target: String,
        /// `HTTP/1.1`.
        version: String,
    },
    /// `HTTP-version SP status-code SP [ reason-phrase ]`.
    Status {
        /// `HTTP/1.1`.
        version: String,
        /// 100..=599.
        code: u16,
        /// The reason phrase (possibly empty), as raw bytes (obs-text allowed).
        phrase: Vec<u8>,
    },
}

/// One field line (RFC 9112 §5): `field-name ":" OWS field-value OWS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLine {
    /// The name as sent (case preserved; compare case-insensitively).
    pub name: String,
    /// Everything after the colon with the leading whitespace skipped (trailing kept, as
    /// Wireshark shows it).
    pub raw_value: Vec<u8>,
    /// The whole line without its CRLF.
    pub line: Vec<u8>,
    /// Where the line starts, from the first byte of the message.
    pub at: usize,
}

impl FieldLine {
    /// The field value with the optional whitespace around it removed (RFC 9110 §5.5).
    pub fn value(&self) -> &[u8] {
        let mut v: &[u8] = &self.raw_value;
        while let [rest @ .., b' ' | b'\t'] = v {
            v = rest;
        }
        v
    }

    /// Whether this field is named `name` (field names are case-insensitive, RFC 9110 §5.1).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// How the body's length was determined (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: a request with neither Content-Length nor Transfer-Encoding (rule 6), or a 1xx,
    /// 204 or 304 response (rule 1).
    Empty,
    /// Content-Length (rule 5).
    Length(usize),
    /// Transfer-Encoding: chunked (rule 4).
    Chunked,
    /// A response with neither: the body runs until the connection closes (rule 8).
    UntilClose,
}

/// A whole message, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The request line or status line.
    pub start: StartLine,
    /// The header section's field lines, in order.
    pub headers: Vec<FieldLine>,
    /// How the body was delimited.
    pub framing: Framing,
    /// For a chunked body, each chunk's size in order, the last chunk's 0 included.
    pub chunks: Vec<usize>,
    /// For a chunked body, the trailer section's lines, each with its CRLF (RFC 9112 §7.1.2).
    pub trailer: Vec<u8>,
    /// The trailer fields.
    pub trailers: Vec<FieldLine>,
    /// The content (de-chunked).
    pub body: Vec<u8>,
    /// Empty lines skipped before the start line (RFC 9112 §2.2).
    pub skipped: usize,
    /// Length of the start line and header section, the blank line included (after `skipped`).
    pub head_len: usize,
    /// Bytes the whole message took in the stream, `skipped` included.
    pub len: usize,
}

/// A request as the response to it needs it: its method (a response to HEAD has no content, RFC
/// 9110 §9.3.2) and its full URI when it has one (Wireshark's `http.response_for.uri`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: String,
    /// `http://host/target`, when the request had one Host and an origin-form target.
    pub uri: Option<String>,
}

/// The most requests a decoder keeps waiting for their responses (pipelining, RFC 9112 §9.3).
pub const MAX_PENDING_REQUESTS: usize = 1024;

impl Message {
    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The value of the first header field named `name`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|f| f.is(name)).map(FieldLine::value)
    }
}

/// The outcome of [`parse`] on the bytes held so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole message at the front of the buffer.
    Complete(Message),
    /// Not yet: `needed` more bytes at least when that is known.
    Incomplete {
        /// What is awaited.
        what: &'static str,
        /// How many more bytes are needed, when known.
        needed: Option<usize>,
    },
}

/// A syntax error at byte `at` of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Offset from the first byte of the message.
    pub at: usize,
    /// What is wrong.
    pub what: String,
    /// What the standard allows.
    pub expected: String,
    /// What was there.
    pub found: String,
}

fn err(at: usize, what: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> ParseError {
    ParseError { at, what: what.into(), expected: expected.into(), found: found.into() }
}

/// RFC 9110 §5.6.2: `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
/// "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 §5.6.2: `token = 1*tchar`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// RFC 9110 §5.5: a field value holds VCHAR, SP, HTAB and obs-text (0x80–0xFF), nothing else.
fn is_field_char(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// A byte shown for an error message.
fn show_byte(b: u8) -> String {
    match b {
        0x21..=0x7e => format!("'{}'", b as char),
        _ => format!("0x{b:02x}"),
    }
}

/// Text as tshark's `-T fields` prints a string field: up to the first NUL, with backspace, tab,
/// newline, form feed and carriage return escaped (`\b \t \n \f \r`), other ASCII as is, and each
/// byte above 0x7f as U+FFFD.
pub fn tshark_text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes.iter().take_while(|&&b| b != 0) {
        match b {
            0x08 => s.push_str("\\b"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            0x0c => s.push_str("\\f"),
            b'\r' => s.push_str("\\r"),
            0x80.. => s.push('\u{fffd}'),
            _ => s.push(char::from(b)),
        }
    }
    s
}

/// The reason phrase RFC 9110 §15 gives a status code; empty for codes it does not name (the
/// reason phrase is optional, RFC 9112 §4).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Whether a response with this status never has content (RFC 9110 §6.4.1; RFC 9112 §6.3 rule 1).
pub fn status_has_no_content(code: u16) -> bool {
    (100..200).contains(&code) || code == 204 || code == 304
}

/// A request message: `METHOD target HTTP/1.1`, Host, User-Agent, Accept, and for content
/// Content-Type (when `content_type` is not empty) and Content-Length. Methods that define a
/// meaning for content (POST, PUT, PATCH) send `Content-Length: 0` when there is none (RFC 9110
/// §8.6).
pub fn emit_request(method: &str, target: &str, host: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: osilab/{}\r\nAccept: */*\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if !body.is_empty() && !content_type.is_empty() {
        m.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        m.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    m.push_str("\r\n");
    let mut out = m.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A response message: `HTTP/1.1 code phrase`, Server, Content-Type (when there is content and
/// `content_type` is not empty), then either Content-Length or, with `chunked: Some(n)`,
/// Transfer-Encoding: chunked and the body in chunks of at most `n` bytes (RFC 9112 §7.1). A 1xx
/// or 204 response carries neither (RFC 9110 §8.6, RFC 9112 §6.1), nor does a 304 here.
pub fn emit_response(code: u16, content_type: &str, chunked: Option<usize>, body: &[u8]) -> Vec<u8> {
    let mut m = format!("HTTP/1.1 {code} {}\r\nServer: osilab/{}\r\n", reason_phrase(code), env!("CARGO_PKG_VERSION"));
    if !body.is_empty() && !content_type.is_empty() {
        m.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    let framed = !status_has_no_content(code);
    match chunked {
        Some(_) if framed => m.push_str("Transfer-Encoding: chunked\r\n"),
        None if framed => m.push_str(&format!("Content-Length: {}\r\n", body.len())),
        _ => {}
    }
    m.push_str("\r\n");
    let mut out = m.into_bytes();
    match chunked {
        Some(n) if framed => {
            for chunk in body.chunks(n.max(1)) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            // RFC 9112 §7.1: last-chunk and an empty trailer section.
            out.extend_from_slice(b"0\r\n\r\n");
        }
        _ => out.extend_from_slice(body),
    }
    out
}

/// RFC 9112 §2.2: a bare CR or LF inside the head is not a line ending this parser accepts.
fn check_line(line: &[u8], at: usize, what: &str) -> Result<(), ParseError> {
    match line.iter().position(|&b| b == b'\r' || b == b'\n') {
        Some(p) => Err(err(at + p, what, "lines ending in CRLF (RFC 9112 §2.2)", "a bare CR or LF")),
        None => Ok(()),
    }
}

/// RFC 9112 §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`; only major version 1 is HTTP/1.x.
fn parse_version(v: &[u8], at: usize) -> Result<String, ParseError> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => {
            Ok(String::from_utf8_lossy(v).into_owned())
        }
        [b'H', b'T', b'T', b'P', b'/', a, b'.', d] if a.is_ascii_digit() && d.is_ascii_digit() => {
            Err(err(at, "HTTP version", "HTTP/1.x (RFC 9112 §2.3)", String::from_utf8_lossy(v)))
        }
        _ => Err(err(at, "HTTP version", "HTTP/<digit>.<digit> (RFC 9112 §2.3)", tshark_text(v))),
    }
}

/// RFC 9112 §3: `request-line = method SP request-target SP HTTP-version`.
fn parse_request_line(line: &[u8]) -> Result<StartLine, ParseError> {
    let sp1 = line.iter().position(|&b| b == b' ').ok_or_else(|| {
        err(0, "request line", "method SP request-target SP HTTP-version (RFC 9112 §3)", tshark_text(line))
    })?;
    let method = &line[..sp1];
    if let Some(p) = method.iter().position(|&b| !is_tchar(b)) {
        return Err(err(p, "request method", "a token (RFC 9110 §5.6.2)", show_byte(method[p])));
    }
    if method.is_empty() {
        return Err(err(0, "request method", "a token (RFC 9110 §5.6.2)", "nothing"));
    }
    let rest = &line[sp1 + 1..];
    let sp2 = rest.iter().position(|&b| b == b' ').ok_or_else(|| {
        err(sp1 + 1, "request line", "method SP request-target SP HTTP-version (RFC 9112 §3)", tshark_text(line))
    })?;
    let target = &rest[..sp2];
    let t0 = sp1 + 1;
    if target.is_empty() {
        return Err(err(t0, "request target", "a target between single spaces (RFC 9112 §3)", "an empty target"));
    }
    if let Some(p) = target.iter().position(|&b| !(0x21..=0x7e).contains(&b)) {
        return Err(err(
            t0 + p,
            "request target",
            "visible ASCII, no whitespace (RFC 9112 §3.2, RFC 3986)",
            show_byte(target[p]),
        ));
    }
    let v0 = t0 + sp2 + 1;
    let version = parse_version(&rest[sp2 + 1..], v0)?;
    Ok(StartLine::Request {
        method: String::from_utf8_lossy(method).into_owned(),
        target: String::from_utf8_lossy(target).into_owned(),
        version,
    })
}

/// RFC 9112 §4: `status-line = HTTP-version SP status-code SP [ reason-phrase ]`.
fn parse_status_line(line: &[u8]) -> Result<StartLine, ParseError> {
    let shape = "HTTP-version SP 3DIGIT SP [ reason-phrase ] (RFC 9112 §4)";
    let sp1 = line.iter().position(|&b| b == b' ').ok_or_else(|| err(0, "status line", shape, tshark_text(line)))?;
    let version = parse_version(&line[..sp1], 0)?;
    let code = line.get(sp1 + 1..sp1 + 4).unwrap_or(&[]);
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(err(sp1 + 1, "status code", "three digits (RFC 9112 §4)", tshark_text(code)));
    }
    let n = code.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    if !(100..=599).contains(&n) {
        return Err(err(sp1 + 1, "status code", "100 to 599 (RFC 9110 §15)", n.to_string()));
    }
    if line.get(sp1 + 4) != Some(&b' ') {
        let found = line.get(sp1 + 4).map_or("the end of the line".to_string(), |&b| show_byte(b));
        return Err(err(sp1 + 4, "status line", "a space after the status code (RFC 9112 §4)", found));
    }
    let phrase = line.get(sp1 + 5..).unwrap_or(&[]);
    // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
    if let Some(p) = phrase.iter().position(|&b| !is_field_char(b)) {
        return Err(err(
            sp1 + 5 + p,
            "reason phrase",
            "HTAB, SP, VCHAR or obs-text (RFC 9112 §4)",
            show_byte(phrase[p]),
        ));
    }
    Ok(StartLine::Status { version, code: n, phrase: phrase.to_vec() })
}

/// RFC 9112 §5: `field-line = field-name ":" OWS field-value OWS`, with no whitespace between
/// the name and the colon (§5.1) and no obsolete line folding (§5.2).
fn parse_field_line(line: &[u8], at: usize) -> Result<FieldLine, ParseError> {
    if let [b' ' | b'\t', ..] = line {
        return Err(err(
            at,
            "field line",
            "no obsolete line folding (RFC 9112 §5.2)",
            "a line starting with whitespace",
        ));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or_else(|| err(at, "field line", "field-name \":\" field-value (RFC 9112 §5)", tshark_text(line)))?;
    let name = &line[..colon];
    if let Some(p) = name.iter().position(|&b| !is_tchar(b)) {
        let (what, expected) = if matches!(name[p], b' ' | b'\t') && name[p..].iter().all(|&b| b == b' ' || b == b'\t')
        {
            ("field line", "no whitespace between the field name and the colon (RFC 9112 §5.1)")
        } else {
            ("field name", "a token (RFC 9110 §5.1, §5.6.2)")
        };
        return Err(err(at + p, what, expected, show_byte(name[p])));
    }
    if name.is_empty() {
        return Err(err(at, "field name", "a token (RFC 9110 §5.1)", "nothing before the colon"));
    }
    let value = &line[colon + 1..];
    if let Some(p) = value.iter().position(|&b| !is_field_char(b)) {
        return Err(err(
            at + colon + 1 + p,
            "field value",
            "VCHAR, SP, HTAB or obs-text (RFC 9110 §5.5)",
            show_byte(value[p]),
        ));
    }
    let lead = value.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    Ok(FieldLine {
        name: String::from_utf8_lossy(name).into_owned(),
        raw_value: value[lead..].to_vec(),
        line: line.to_vec(),
        at,
    })
}

/// RFC 9112 §6.3: how long the body is, from the start line and header fields.
fn framing(start: &StartLine, headers: &[FieldLine]) -> Result<Framing, ParseError> {
    let te: Vec<&FieldLine> = headers.iter().filter(|f| f.is("Transfer-Encoding")).collect();
    let cl: Vec<&FieldLine> = headers.iter().filter(|f| f.is("Content-Length")).collect();
    let (StartLine::Request { version, .. } | StartLine::Status { version, .. }) = start;
    if let (Some(t), "HTTP/1.0") = (te.first(), version.as_str()) {
        // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding; a recipient MUST treat such a
        // message's framing as faulty, even with a Content-Length.
        return Err(err(
            t.at,
            "message framing",
            "no Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: its framing is faulty)",
            "Transfer-Encoding",
        ));
    }
    if let (Some(t), Some(c)) = (te.first(), cl.first()) {
        return Err(err(
            t.at.max(c.at),
            "message framing",
            "Content-Length or Transfer-Encoding, never both (RFC 9112 §6.1: a request smuggling risk)",
            "both",
        ));
    }
    if let StartLine::Status { code, .. } = start {
        if status_has_no_content(*code) {
            return Ok(Framing::Empty); // rule 1
        }
    }
    if !te.is_empty() {
        // Rule 4; RFC 9112 §7: chunked is applied once, last; no other coding is implemented here.
        let codings: Vec<String> = te
            .iter()
            .flat_map(|f| f.value().split(|&b| b == b','))
            .map(|c| String::from_utf8_lossy(c).trim_matches([' ', '\t']).to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if codings.len() != 1 || !codings[0].eq_ignore_ascii_case("chunked") {
            return Err(err(
                te[0].at,
                "Transfer-Encoding",
                "chunked alone (RFC 9112 §7; no other transfer coding is implemented)",
                codings.join(", "),
            ));
        }
        return Ok(Framing::Chunked);
    }
    if !cl.is_empty() {
        // Rule 5: digits only; a list of identical values may be taken as one.
        let mut len: Option<u64> = None;
        for f in &cl {
            for v in f.value().split(|&b| b == b',') {
                let v = String::from_utf8_lossy(v).trim_matches([' ', '\t']).to_string();
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(f.at, "Content-Length", "1*DIGIT (RFC 9110 §8.6)", v));
                }
                let n = v.parse::<u64>().unwrap_or(u64::MAX);
                match len {
                    Some(prev) if prev != n => {
                        return Err(err(
                            f.at,
                            "Content-Length",
                            "repeated values that agree (RFC 9112 §6.3 rule 5)",
                            format!("{prev} and {n}"),
                        ))
                    }
                    _ => len = Some(n),
                }
            }
        }
        let n = len.unwrap_or(0);
        return match usize::try_from(n) {
            Ok(n) if n <= MAX_BODY => Ok(Framing::Length(n)),
            _ => Err(err(
                cl[0].at,
                "Content-Length",
                format!("at most {MAX_BODY} bytes (osilab's limit)"),
                n.to_string(),
            )),
        };
    }
    Ok(match start {
        StartLine::Request { .. } => Framing::Empty,     // rule 6
        StartLine::Status { .. } => Framing::UntilClose, // rule 8
    })
}

/// RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host field.
fn check_host(start: &StartLine, headers: &[FieldLine], at: usize) -> Result<(), ParseError> {
    if let StartLine::Request { version, .. } = start {
        let hosts: Vec<&FieldLine> = headers.iter().filter(|f| f.is("Host")).collect();
        let n = hosts.len();
        if version == "HTTP/1.1" && n != 1 {
            let at = hosts.get(1).map_or(at, |f| f.at);
            return Err(err(
                at,
                "Host",
                "exactly one Host field in an HTTP/1.1 request (RFC 9112 §3.2)",
                n.to_string(),
            ));
        }
    }
    Ok(())
}

/// RFC 9110 §6.5.1: fields that cannot be processed after the content, because a recipient needs
/// them first: message framing, routing, authentication, request modifiers, response controls and
/// the content's format. A trailer section that carries one is refused (lower-case names).
const NOT_IN_TRAILERS: &[&str] = &[
    // Framing (RFC 9112 §6).
    "content-length",
    "transfer-encoding",
    "trailer",
    // Routing (RFC 9110 §7).
    "host",
    // Authentication (RFC 9110 §11).
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "proxy-authenticate",
    // Request modifiers (RFC 9110 §10.1, §13.1, §14.2).
    "expect",
    "max-forwards",
    "te",
    "range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
    // Response controls (RFC 9111 §5.2).
    "cache-control",
    // The content's format (RFC 9110 §8).
    "content-type",
    "content-encoding",
    "content-range",
];

/// The line without its CRLF, or the error for a bare CR or LF in it (RFC 9112 §2.2). `line` ends
/// in LF; `at` is where it starts.
fn line_content<'a>(line: &'a [u8], at: usize, what: &str) -> Result<&'a [u8], ParseError> {
    match line {
        [content @ .., b'\r', b'\n'] => check_line(content, at, what).map(|()| content),
        // The LF is bare: check_line finds it, or an earlier bare CR.
        _ => check_line(line, at, what).and(Err(err(at, what, "lines ending in CRLF (RFC 9112 §2.2)", "a bare LF"))),
    }
}

/// RFC 9112 §7.1: `chunk-size [ chunk-ext ]` of the line at `at`, for a body of `body` bytes so
/// far: the chunk's size.
fn chunk_size(line: &[u8], at: usize, body: usize) -> Result<usize, ParseError> {
    if line.len() > MAX_CHUNK_LINE {
        return Err(err(at, "chunk-size line", format!("at most {MAX_CHUNK_LINE} bytes"), line.len().to_string()));
    }
    // chunk-size = 1*HEXDIG; chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        let found = line.first().map_or("an empty line".to_string(), |&b| show_byte(b));
        return Err(err(at, "chunk size", "hexadecimal digits (RFC 9112 §7.1)", found));
    }
    let ext = &line[digits..];
    let ext_start = ext.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    if ext_start < ext.len() && ext[ext_start] != b';' {
        return Err(err(
            at + digits + ext_start,
            "chunk size",
            "hexadecimal digits, then chunk extensions after ';' (RFC 9112 §7.1.1)",
            show_byte(ext[ext_start]),
        ));
    }
    if ext_start == ext.len() && ext_start > 0 {
        return Err(err(at + digits, "chunk size", "no whitespace without an extension (RFC 9112 §7.1)", "' '"));
    }
    if let Some(p) = ext.iter().position(|&b| !is_field_char(b)) {
        return Err(err(at + digits + p, "chunk extension", "no control characters", show_byte(ext[p])));
    }
    let size = std::str::from_utf8(&line[..digits]).ok().and_then(|s| usize::from_str_radix(s, 16).ok());
    match size {
        Some(s) if s <= MAX_BODY && body + s <= MAX_BODY => Ok(s),
        _ => Err(err(
            at,
            "chunk size",
            format!("a body of at most {MAX_BODY} bytes (osilab's limit)"),
            tshark_text(&line[..digits]),
        )),
    }
}

/// Where a [`Decoder`] is in a message: the states of RFC 9112 §2.1 (`start-line *( field-line
/// CRLF ) CRLF [ message-body ]`) and §7.1 (`*chunk last-chunk trailer-section CRLF`). Every state
/// after the start line carries the message read so far.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Between messages: empty lines (skipped, RFC 9112 §2.2) or the start line.
    Start,
    /// The header section's field lines, up to the empty line.
    Fields(Box<Message>),
    /// Content-Length (RFC 9112 §6.3 rule 5): this many bytes of content still to come.
    Body(Box<Message>, usize),
    /// Chunked: a chunk-size line.
    ChunkSize(Box<Message>),
    /// Chunked: this many bytes of a chunk's data still to come.
    ChunkData(Box<Message>, usize),
    /// Chunked: the CRLF after a chunk's data; the first `.2` of its bytes are in `.1`.
    ChunkEnd(Box<Message>, [u8; 2], usize),
    /// Chunked: the trailer section after the last chunk (RFC 9112 §7.1.2).
    Trailer(Box<Message>),
    /// A response without Content-Length or chunked coding (RFC 9112 §6.3 rule 8): whatever is
    /// left in the input is its body.
    UntilClose(Box<Message>),
}

/// What is still missing when a stream ends inside a message (RFC 9112 §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Bytes of the message received (empty lines before it not counted).
    pub received: usize,
    /// The fewest bytes the whole message could have taken: exact for a Content-Length body.
    pub needed: usize,
    /// Where the stream ended: "a message whose body needs 100 bytes (40 received)".
    pub what: String,
}

/// An incremental HTTP/1.1 message reader: [`Decoder::feed`] it the stream piece by piece. Offsets
/// in its errors count from the first byte it was fed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoder {
    phase: Phase,
    /// The line being read (start line, field line, chunk-size line, trailer line), its LF
    /// included once it has come.
    line: Vec<u8>,
    /// Where `line` starts in the stream.
    line_at: usize,
    /// Bytes of the stream consumed.
    pos: usize,
    /// Empty lines skipped before the current start line.
    skipped: usize,
    /// Where the current message starts in the stream: its first empty line, else its start line.
    first: usize,
    /// Bytes of chunk framing so far in the current message.
    framing: usize,
    /// The requests whose responses this stream carries, oldest first (a capture's other
    /// direction tells them): a response to HEAD has no content.
    requests: std::collections::VecDeque<Request>,
    /// Capture mode: read what a capture holds as tshark does, rather than refuse it (a bare LF
    /// ends a field line, a request need not carry Host).
    lenient: bool,
    /// The message whose header section failed, kept for a capture to show its start line.
    failed: Option<Box<Message>>,
    /// The request the response being read answers (see [`Decoder::take_answered`]).
    answered: Option<Request>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Decoder {
            phase: Phase::Start,
            line: Vec::new(),
            line_at: 0,
            pos: 0,
            skipped: 0,
            first: 0,
            framing: 0,
            requests: std::collections::VecDeque::new(),
            lenient: false,
            failed: None,
            answered: None,
        }
    }

    /// For the response just completed by [`Decoder::feed`]: the request it answers (the other
    /// direction's, in order), when [`Decoder::expect_response_to`] was told of it.
    pub fn take_answered(&mut self) -> Option<Request> {
        self.answered.take()
    }

    /// A decoder for a capture: a field line or the empty line may end in a bare LF (RFC 9112
    /// §2.2 lets a recipient accept it), and a request without Host is read, not refused; what
    /// a capture holds is shown as tshark shows it.
    pub fn lenient() -> Self {
        Decoder { lenient: true, ..Decoder::new() }
    }

    /// The message whose header section broke the syntax in the last [`Decoder::feed`], if it
    /// got past its start line.
    pub fn take_failed(&mut self) -> Option<Message> {
        self.failed.take().map(|m| *m)
    }

    /// A line that ends the header (or trailer) section: CRLF, or a bare LF when lenient.
    fn is_empty_line(&self, line: &[u8]) -> bool {
        line == b"\r\n" || (self.lenient && line == b"\n")
    }

    /// A line's content without its line ending, or the error for a bare CR or LF in it.
    fn content<'a>(&self, line: &'a [u8], at: usize, what: &str) -> Result<&'a [u8], ParseError> {
        match line {
            [content @ .., b'\n'] if self.lenient && !content.ends_with(b"\r") => {
                check_line(content, at, what).map(|()| content)
            }
            _ => line_content(line, at, what),
        }
    }

    /// A request was sent the other way (a capture reads both directions): the next final
    /// response read here answers it (RFC 9112 §9.3). At most [`MAX_PENDING_REQUESTS`] wait; the
    /// oldest is forgotten beyond that.
    pub fn expect_response_to(&mut self, request: Request) {
        if self.requests.len() >= MAX_PENDING_REQUESTS {
            self.requests.pop_front();
        }
        self.requests.push_back(request);
    }

    /// Forget the message under way (after an error) and wait for a new one; the stream position
    /// goes on.
    pub fn reset(&mut self) {
        let requests = std::mem::take(&mut self.requests);
        let (lenient, answered) = (self.lenient, self.answered.take());
        *self = Decoder {
            pos: self.pos,
            line_at: self.pos,
            first: self.pos,
            requests,
            lenient,
            answered,
            ..Decoder::new()
        };
    }

    /// Bytes consumed since the start of the stream.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes held in the line buffer (at most one line, which the limits bound).
    pub fn buffered(&self) -> usize {
        self.line.len()
    }

    /// Empty lines skipped since the last message (RFC 9112 §2.2).
    pub fn skipped_lines(&self) -> usize {
        self.skipped
    }

    /// True while part of a message has been read (not counting empty lines before it, nor the CR
    /// of one).
    pub fn in_message(&self) -> bool {
        !matches!(self.phase, Phase::Start) || !matches!(self.line.as_slice(), [] | [b'\r'])
    }

    /// Where the current message began in the stream (its first empty line, else its start
    /// line), once any of it has come.
    pub fn message_start(&self) -> Option<usize> {
        match (&self.phase, self.skipped) {
            (_, 1..) => Some(self.first),
            (Phase::Start, _) if self.line.is_empty() => None,
            (Phase::Start, _) => Some(self.line_at),
            _ => Some(self.first),
        }
    }

    /// Bytes of the current message read so far, from its start line on.
    pub fn received(&self) -> usize {
        match self.phase {
            Phase::Start => self.line.len(),
            _ => self.pos - self.first - 2 * self.skipped,
        }
    }

    /// What the stream's end cuts short, or `None` when no message is under way.
    pub fn cut(&self) -> Option<Cut> {
        if !self.in_message() {
            return None;
        }
        let received = self.received();
        let (what, missing) = match &self.phase {
            Phase::Start => ("a message inside its start line".to_string(), 2),
            Phase::Fields(_) => ("a message whose header section was not finished (no CRLF CRLF)".to_string(), 2),
            Phase::Body(m, left) => {
                let n = m.body.len() + left;
                (format!("a message whose body needs {n} bytes ({} received)", m.body.len()), *left)
            }
            Phase::ChunkSize(m) | Phase::ChunkData(m, _) | Phase::ChunkEnd(m, _, _) => {
                let missing = match &self.phase {
                    Phase::ChunkData(_, left) => left + 2,
                    Phase::ChunkEnd(_, _, got) => 2 - got,
                    _ => 0,
                };
                let what = format!(
                    "a chunked message whose body needs its last chunk ({} bytes of data in {} chunk(s) received)",
                    m.body.len(),
                    m.chunks.len()
                );
                (what, missing + 5) // + "0\r\n\r\n"
            }
            Phase::Trailer(_) => ("a chunked message inside its trailer section".to_string(), 2),
            Phase::UntilClose(_) => return None,
        };
        Some(Cut { received, needed: received + missing, what })
    }

    /// What is awaited now.
    fn waiting(&self) -> Parsed {
        let (what, needed) = match &self.phase {
            Phase::Start => ("the end of the start line", None),
            Phase::Fields(_) => ("the end of the header section (CRLF CRLF)", None),
            Phase::Body(_, left) => ("the rest of the body", Some(*left)),
            Phase::ChunkSize(_) => ("a chunk-size line", None),
            Phase::ChunkData(_, left) => ("the rest of a chunk", Some(left + 2)),
            Phase::ChunkEnd(_, _, got) => ("the rest of a chunk", Some(2 - got)),
            Phase::Trailer(_) => ("the end of the trailer section", None),
            Phase::UntilClose(_) => ("the connection to close", None),
        };
        Parsed::Incomplete { what, needed }
    }

    /// Read from `input` until a message is complete or the input is used up: the bytes consumed
    /// and the outcome. After an error, [`Decoder::reset`] before feeding more.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Parsed), ParseError> {
        self.failed = None;
        let mut i = 0;
        loop {
            let rest = &input[i..];
            match std::mem::replace(&mut self.phase, Phase::Start) {
                // RFC 9112 §6.3 rule 8: all that is left is body.
                Phase::UntilClose(mut m) => {
                    m.body.extend_from_slice(rest);
                    self.pos += rest.len();
                    return Ok((input.len(), Parsed::Complete(self.complete(m))));
                }
                phase if rest.is_empty() => {
                    self.phase = phase;
                    return Ok((i, self.waiting()));
                }
                // Content-Length: count down.
                Phase::Body(mut m, left) => {
                    let n = left.min(rest.len());
                    m.body.extend_from_slice(&rest[..n]);
                    (i, self.pos) = (i + n, self.pos + n);
                    if n == left {
                        return Ok((i, Parsed::Complete(self.complete(m))));
                    }
                    self.phase = Phase::Body(m, left - n);
                }
                // A chunk's data, then its CRLF.
                Phase::ChunkData(mut m, left) => {
                    let n = left.min(rest.len());
                    m.body.extend_from_slice(&rest[..n]);
                    (i, self.pos) = (i + n, self.pos + n);
                    self.phase = if n == left { Phase::ChunkEnd(m, [0; 2], 0) } else { Phase::ChunkData(m, left - n) };
                }
                Phase::ChunkEnd(m, mut crlf, mut got) => {
                    while got < 2 && i < input.len() {
                        crlf[got] = input[i];
                        (got, i, self.pos) = (got + 1, i + 1, self.pos + 1);
                    }
                    if got < 2 {
                        self.phase = Phase::ChunkEnd(m, crlf, got);
                        continue;
                    }
                    if &crlf != b"\r\n" {
                        return Err(err(
                            self.pos - 2,
                            "chunk data",
                            "CRLF after the chunk's data (RFC 9112 §7.1)",
                            tshark_text(&crlf),
                        ));
                    }
                    self.add_framing(2, self.pos - 2)?;
                    self.phase = Phase::ChunkSize(m);
                }
                // The line-by-line parts: start line, header fields, chunk-size lines, trailers.
                phase => {
                    self.phase = phase;
                    if self.line.is_empty() {
                        // A new line begins here (after a chunk's data, too).
                        self.line_at = self.pos;
                    }
                    let old = self.line.len();
                    let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |p| p + 1);
                    self.line.extend_from_slice(&rest[..end]);
                    (i, self.pos) = (i + end, self.pos + end);
                    self.check_limits()?;
                    if self.line.last() != Some(&b'\n') {
                        self.check_partial_start_line(old)?;
                        continue;
                    }
                    if let Some(m) = self.line_done()? {
                        return Ok((i, Parsed::Complete(m)));
                    }
                }
            }
        }
    }

    /// The message is whole: its length, and a fresh start for the next one.
    fn complete(&mut self, mut m: Box<Message>) -> Message {
        m.len = self.pos - self.first;
        self.reset();
        *m
    }

    /// Count `n` bytes of chunk framing at `at` against [`MAX_FRAMING`].
    fn add_framing(&mut self, n: usize, at: usize) -> Result<(), ParseError> {
        self.framing += n;
        if self.framing > MAX_FRAMING {
            return Err(err(
                at,
                "chunked body",
                format!("at most {MAX_FRAMING} bytes of chunk framing (osilab's limit)"),
                self.framing.to_string(),
            ));
        }
        Ok(())
    }

    /// The limits on what is held, checked whenever the line grows.
    fn check_limits(&self) -> Result<(), ParseError> {
        let head = |len: usize, at: usize| {
            if len > MAX_HEAD {
                return Err(err(
                    at,
                    "header section",
                    format!("at most {MAX_HEAD} bytes, empty lines before it included (osilab's limit)"),
                    "more without CRLF CRLF",
                ));
            }
            Ok(())
        };
        let whole = self.line.last() == Some(&b'\n');
        match &self.phase {
            Phase::Start => head(2 * self.skipped + self.line.len(), self.line_at),
            Phase::Fields(m) => head(2 * self.skipped + m.head_len + self.line.len(), self.first + 2 * self.skipped),
            Phase::ChunkSize(_) if !whole && self.line.len() > MAX_CHUNK_LINE => {
                Err(err(self.line_at, "chunk-size line", format!("at most {MAX_CHUNK_LINE} bytes"), "more"))
            }
            Phase::Trailer(m) if m.trailer.len() + self.line.len() > MAX_HEAD => {
                let at = self.line_at - m.trailer.len();
                Err(err(at, "trailer section", format!("at most {MAX_HEAD} bytes"), "more"))
            }
            _ => Ok(()),
        }
    }

    /// A start line still without its end is checked as far as it goes, so that garbage fails
    /// early: printable text, a CR only as its last byte so far. `old` bytes were checked before.
    fn check_partial_start_line(&self, old: usize) -> Result<(), ParseError> {
        if !matches!(self.phase, Phase::Start) {
            return Ok(());
        }
        let from = old.saturating_sub(1);
        let last = self.line.len() - 1;
        let bad = |(i, &b): &(usize, &u8)| match b {
            b'\r' => *i < last,
            b'\n' => true,
            b => !is_field_char(b),
        };
        match self.line.iter().enumerate().skip(from).find(bad) {
            Some((p, &b)) => {
                Err(err(self.line_at + p, "start line", "printable text ending in CRLF (RFC 9112 §2.2)", show_byte(b)))
            }
            None => Ok(()),
        }
    }

    /// A whole line (ending in LF) is in `self.line`: act on it.
    fn line_done(&mut self) -> Result<Option<Message>, ParseError> {
        let line = std::mem::take(&mut self.line);
        let at = self.line_at;
        let first = self.first;
        // Field lines' offsets count from the message's first byte.
        let rebase = |e: ParseError| ParseError { at: e.at + first, ..e };
        match std::mem::replace(&mut self.phase, Phase::Start) {
            // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request
            // line; osilab ignores up to MAX_EMPTY_LINES before either start line.
            Phase::Start if line == b"\r\n" => {
                if self.skipped == 0 {
                    self.first = at;
                }
                self.skipped += 1;
                if self.skipped > MAX_EMPTY_LINES {
                    return Err(err(
                        at,
                        "empty lines before the start line",
                        format!("at most {MAX_EMPTY_LINES} (RFC 9112 §2.2 asks that at least one be ignored; osilab's limit)"),
                        format!("{} or more", self.skipped),
                    ));
                }
                Ok(None)
            }
            Phase::Start => {
                if self.skipped == 0 {
                    self.first = at;
                }
                let content = self.content(&line, at, "start line")?;
                let start = if content.starts_with(b"HTTP/") {
                    parse_status_line(content)
                } else {
                    parse_request_line(content)
                }
                .map_err(|e| ParseError { at: e.at + at, ..e })?;
                self.phase = Phase::Fields(Box::new(Message {
                    start,
                    headers: Vec::new(),
                    framing: Framing::Empty,
                    chunks: Vec::new(),
                    trailer: Vec::new(),
                    trailers: Vec::new(),
                    body: Vec::new(),
                    skipped: 2 * self.skipped,
                    head_len: line.len(),
                    len: 0,
                }));
                Ok(None)
            }
            // The empty line ends the header section: the framing decides what follows.
            Phase::Fields(mut m) if self.is_empty_line(&line) => {
                m.head_len += line.len();
                let checked = if self.lenient { Ok(()) } else { check_host(&m.start, &m.headers, m.skipped) };
                match checked.and_then(|()| framing(&m.start, &m.headers)) {
                    Ok(f) => m.framing = f,
                    Err(e) => {
                        self.failed = Some(m);
                        return Err(rebase(e));
                    }
                }
                // A final response answers the oldest request still waiting (RFC 9112 §9.3); an
                // interim 1xx other than 101 does not (RFC 9110 §15.2).
                self.answered = None;
                if let StartLine::Status { code, .. } = &m.start {
                    if !(100..200).contains(code) || *code == 101 {
                        self.answered = self.requests.pop_front();
                    }
                }
                // RFC 9110 §9.3.2: the response to a HEAD request has no content.
                if self.answered.as_ref().is_some_and(|r| r.method == "HEAD") {
                    m.framing = Framing::Empty;
                }
                self.phase = match m.framing {
                    Framing::Empty | Framing::Length(0) => return Ok(Some(self.complete(m))),
                    Framing::Length(n) => Phase::Body(m, n),
                    Framing::Chunked => Phase::ChunkSize(m),
                    Framing::UntilClose => Phase::UntilClose(m),
                };
                Ok(None)
            }
            Phase::Fields(mut m) => {
                let parsed = self
                    .content(&line, at, "field line")
                    .and_then(|content| parse_field_line(content, at - first).map_err(rebase));
                match parsed {
                    Ok(f) => m.headers.push(f),
                    Err(e) => {
                        self.failed = Some(m);
                        return Err(e);
                    }
                }
                m.head_len += line.len();
                self.phase = Phase::Fields(m);
                Ok(None)
            }
            Phase::ChunkSize(mut m) => {
                let content = line_content(&line, at, "chunk-size line")?;
                let size = chunk_size(content, at, m.body.len())?;
                if m.chunks.len() >= MAX_CHUNKS {
                    return Err(err(
                        at,
                        "chunked body",
                        format!("at most {MAX_CHUNKS} chunks (osilab's limit)"),
                        format!("{} or more", MAX_CHUNKS + 1),
                    ));
                }
                self.add_framing(line.len(), at)?;
                m.chunks.push(size);
                self.phase = if size == 0 { Phase::Trailer(m) } else { Phase::ChunkData(m, size) };
                Ok(None)
            }
            // RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then the final CRLF.
            Phase::Trailer(m) if self.is_empty_line(&line) => Ok(Some(self.complete(m))),
            Phase::Trailer(mut m) => {
                let content = line_content(&line, at, "field line")?;
                let f = parse_field_line(content, at - first).map_err(rebase)?;
                if NOT_IN_TRAILERS.contains(&f.name.to_ascii_lowercase().as_str()) {
                    return Err(err(
                        at,
                        "trailer field",
                        "no field that frames, routes, authenticates, modifies or describes the message (RFC 9110 §6.5.1)",
                        tshark_text(f.name.as_bytes()),
                    ));
                }
                m.trailer.extend_from_slice(&line);
                m.trailers.push(f);
                self.phase = Phase::Trailer(m);
                Ok(None)
            }
            // Not a line-by-line part: nothing to do (feed only calls this for those).
            phase => {
                self.phase = phase;
                Ok(None)
            }
        }
    }
}

/// Parse the message at the front of `buf`: a whole [`Message`], [`Parsed::Incomplete`] when more
/// bytes must come first, or the first syntax error (its offset counted from `buf[0]`). A response
/// delimited by the connection's close takes all of `buf` as its body.
pub fn parse(buf: &[u8]) -> Result<Parsed, ParseError> {
    Decoder::new().feed(buf).map(|(_, parsed)| parsed)
}
