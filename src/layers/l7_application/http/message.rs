//! HTTP/1.1 message syntax: emitting a message and parsing one out of a byte stream.
//!
//! Read this first: RFC 9112 §2 (message format), §3 (request line), §4 (status line), §5 (field
//! syntax), §6 (message body length), §7 (chunked transfer coding); RFC 9110 §5.6.2 (tokens) and
//! §5.5 (field values).
//!
//! [`parse`] is strict: every line ends in CRLF, field names are tokens with no whitespace before
//! the colon, field values hold no control characters, Content-Length is digits only, and a
//! message never carries both Content-Length and Transfer-Encoding. It never panics: every index
//! is checked against the buffer first.

/// The largest header section (and trailer section) accepted: 64 KiB.
pub const MAX_HEAD: usize = 64 * 1024;
/// The largest body accepted: 16 MiB (a bound on what a receiver buffers).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The longest chunk-size line (size and extensions) accepted.
pub const MAX_CHUNK_LINE: usize = 4096;

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

/// The position of the first CRLF at or after `from`, if any.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?.windows(2).position(|w| w == b"\r\n").map(|p| p + from)
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

/// The field lines of a section that starts at `from` and ends with the empty line at `end`
/// (the CRLF CRLF's second CRLF).
fn parse_fields(buf: &[u8], mut from: usize, end: usize) -> Result<Vec<FieldLine>, ParseError> {
    let mut out = Vec::new();
    while from < end {
        let eol = find_crlf(buf, from).filter(|&e| e <= end).unwrap_or(end);
        let line = &buf[from..eol];
        check_line(line, from, "field line")?;
        out.push(parse_field_line(line, from)?);
        from = eol + 2;
    }
    Ok(out)
}

/// RFC 9112 §6.3: how long the body is, from the start line and header fields.
fn framing(start: &StartLine, headers: &[FieldLine]) -> Result<Framing, ParseError> {
    let te: Vec<&FieldLine> = headers.iter().filter(|f| f.is("Transfer-Encoding")).collect();
    let cl: Vec<&FieldLine> = headers.iter().filter(|f| f.is("Content-Length")).collect();
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

/// RFC 9112 §7.1: the chunked body starting at `from`: chunks, last-chunk, trailer section.
/// Returns the body, chunk sizes, raw trailer lines, trailer fields and the end offset.
#[allow(clippy::type_complexity)]
fn parse_chunked(
    buf: &[u8],
    mut from: usize,
) -> Result<Result<(Vec<u8>, Vec<usize>, Vec<u8>, Vec<FieldLine>, usize), Parsed>, ParseError> {
    let mut body = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let Some(eol) = find_crlf(buf, from) else {
            if buf.len() - from > MAX_CHUNK_LINE {
                return Err(err(from, "chunk-size line", format!("at most {MAX_CHUNK_LINE} bytes"), "more"));
            }
            return Ok(Err(Parsed::Incomplete { what: "a chunk-size line", needed: None }));
        };
        let line = &buf[from..eol];
        check_line(line, from, "chunk-size line")?;
        // chunk-size = 1*HEXDIG; chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 {
            let found = line.first().map_or("an empty line".to_string(), |&b| show_byte(b));
            return Err(err(from, "chunk size", "hexadecimal digits (RFC 9112 §7.1)", found));
        }
        let ext = &line[digits..];
        let ext_start = ext.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        if ext_start < ext.len() && ext[ext_start] != b';' {
            return Err(err(
                from + digits + ext_start,
                "chunk size",
                "hexadecimal digits, then chunk extensions after ';' (RFC 9112 §7.1.1)",
                show_byte(ext[ext_start]),
            ));
        }
        if ext_start == ext.len() && ext_start > 0 {
            return Err(err(from + digits, "chunk size", "no whitespace without an extension (RFC 9112 §7.1)", "' '"));
        }
        if let Some(p) = ext.iter().position(|&b| !is_field_char(b)) {
            return Err(err(from + digits + p, "chunk extension", "no control characters", show_byte(ext[p])));
        }
        let size = std::str::from_utf8(&line[..digits]).ok().and_then(|s| usize::from_str_radix(s, 16).ok());
        let size = match size {
            Some(s) if s <= MAX_BODY && body.len() + s <= MAX_BODY => s,
            _ => {
                return Err(err(
                    from,
                    "chunk size",
                    format!("a body of at most {MAX_BODY} bytes (osilab's limit)"),
                    tshark_text(&line[..digits]),
                ))
            }
        };
        sizes.push(size);
        from = eol + 2;
        if size == 0 {
            break;
        }
        let have = buf.len() - from;
        if have < size + 2 {
            return Ok(Err(Parsed::Incomplete { what: "the rest of a chunk", needed: Some(size + 2 - have) }));
        }
        body.extend_from_slice(&buf[from..from + size]);
        from += size;
        if &buf[from..from + 2] != b"\r\n" {
            return Err(err(
                from,
                "chunk data",
                "CRLF after the chunk's data (RFC 9112 §7.1)",
                tshark_text(&buf[from..from + 2]),
            ));
        }
        from += 2;
    }
    // RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then CRLF.
    let trailer_start = from;
    if buf.get(from..from + 2) == Some(&b"\r\n"[..]) {
        return Ok(Ok((body, sizes, Vec::new(), Vec::new(), from + 2)));
    }
    let Some(end) = buf.get(from..).and_then(|b| b.windows(4).position(|w| w == b"\r\n\r\n")) else {
        if buf.len() - from > MAX_HEAD {
            return Err(err(from, "trailer section", format!("at most {MAX_HEAD} bytes"), "more"));
        }
        return Ok(Err(Parsed::Incomplete { what: "the end of the trailer section", needed: None }));
    };
    let end = from + end + 2; // the empty line's CRLF
    if end - trailer_start > MAX_HEAD {
        return Err(err(
            from,
            "trailer section",
            format!("at most {MAX_HEAD} bytes"),
            (end - trailer_start).to_string(),
        ));
    }
    let trailers = parse_fields(buf, from, end)?;
    Ok(Ok((body, sizes, buf[trailer_start..end].to_vec(), trailers, end + 2)))
}

/// Parse the message at the front of `buf`: a whole [`Message`], [`Parsed::Incomplete`] when more
/// bytes must come first, or the first syntax error (its offset counted from `buf[0]`).
pub fn parse(buf: &[u8]) -> Result<Parsed, ParseError> {
    // RFC 9112 §2.2: empty lines before the start line are skipped.
    let mut skipped = 0;
    while buf.get(skipped..skipped + 2) == Some(&b"\r\n"[..]) {
        skipped += 2;
    }
    let rest = &buf[skipped..];
    let is_response = rest.starts_with(b"HTTP/");
    // The start line, checked as soon as it is whole, so that garbage fails early.
    let Some(first_eol) = find_crlf(buf, skipped) else {
        if rest.len() > MAX_HEAD {
            return Err(err(skipped, "header section", format!("at most {MAX_HEAD} bytes"), "more without CRLF CRLF"));
        }
        let bad = |(i, &b): &(usize, &u8)| match b {
            b'\r' => i + 1 < rest.len(),
            b'\n' => true,
            b => !is_field_char(b),
        };
        if let Some((p, _)) = rest.iter().enumerate().find(bad) {
            return Err(err(
                skipped + p,
                "start line",
                "printable text ending in CRLF (RFC 9112 §2.2)",
                show_byte(rest[p]),
            ));
        }
        return Ok(Parsed::Incomplete { what: "the end of the start line", needed: None });
    };
    let line = &buf[skipped..first_eol];
    check_line(line, skipped, "start line")?;
    let start = if is_response { parse_status_line(line) } else { parse_request_line(line) }
        .map_err(|e| ParseError { at: e.at + skipped, ..e })?;
    // The header section ends with an empty line (CRLF CRLF).
    let head_end = if buf.get(first_eol..first_eol + 4) == Some(&b"\r\n\r\n"[..]) {
        Some(first_eol + 2)
    } else {
        buf[first_eol..].windows(4).position(|w| w == b"\r\n\r\n").map(|p| first_eol + p + 2)
    };
    let Some(head_end) = head_end else {
        if rest.len() > MAX_HEAD {
            return Err(err(skipped, "header section", format!("at most {MAX_HEAD} bytes (osilab's limit)"), "more"));
        }
        return Ok(Parsed::Incomplete { what: "the end of the header section (CRLF CRLF)", needed: None });
    };
    if head_end + 2 - skipped > MAX_HEAD {
        return Err(err(
            skipped,
            "header section",
            format!("at most {MAX_HEAD} bytes (osilab's limit)"),
            (head_end + 2 - skipped).to_string(),
        ));
    }
    let headers = parse_fields(buf, first_eol + 2, head_end)?;
    check_host(&start, &headers, skipped)?;
    let framing = framing(&start, &headers)?;
    let body_start = head_end + 2;
    let head_len = body_start - skipped;
    let mut m = Message {
        start,
        headers,
        framing,
        chunks: Vec::new(),
        trailer: Vec::new(),
        trailers: Vec::new(),
        body: Vec::new(),
        skipped,
        head_len,
        len: body_start,
    };
    match framing {
        Framing::Empty => {}
        Framing::Length(n) => {
            let have = buf.len() - body_start;
            if have < n {
                return Ok(Parsed::Incomplete { what: "the rest of the body", needed: Some(n - have) });
            }
            m.body = buf[body_start..body_start + n].to_vec();
            m.len = body_start + n;
        }
        Framing::Chunked => match parse_chunked(buf, body_start)? {
            Ok((body, chunks, trailer, trailers, end)) => {
                m.body = body;
                m.chunks = chunks;
                m.trailer = trailer;
                m.trailers = trailers;
                m.len = end;
            }
            Err(incomplete) => return Ok(incomplete),
        },
        Framing::UntilClose => {
            m.body = buf[body_start..].to_vec();
            m.len = buf.len();
        }
    }
    Ok(Parsed::Complete(m))
}
