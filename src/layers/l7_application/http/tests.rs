use super::message::{self, parse, Framing, Parsed, StartLine};
use super::*;
use crate::error::ErrorKind;
use crate::layer::Meta;
use crate::stack::{App, Exchange, StackConfig};
use crate::trace::Value;
use proptest::prelude::*;

const V: &str = env!("CARGO_PKG_VERSION");

fn request(method: &str, target: &str, host: &str) -> HttpApplication {
    HttpApplication::new(HttpConfig {
        kind: HttpKind::Request { method: method.into(), target: target.into(), host: host.into() },
        content_type: "text/plain".into(),
    })
    .unwrap()
}

fn response(status: u16, chunked: Option<usize>) -> HttpApplication {
    HttpApplication::new(HttpConfig { kind: HttpKind::Response { status, chunked }, content_type: "text/plain".into() })
        .unwrap()
}

fn down(app: &mut HttpApplication, body: &[u8]) -> (Vec<u8>, Record) {
    let mut cx = Context::default();
    let mut pdus = app.encapsulate(Pdu::bytes(body.to_vec()), &mut cx).unwrap();
    assert_eq!(pdus.len(), 1);
    assert_eq!(cx.trace.records.len(), 1);
    let bytes = pdus.remove(0).into_bytes(L7).unwrap().0;
    (bytes, cx.trace.records.remove(0))
}

fn piece(bytes: &[u8], offset: usize) -> Pdu {
    Pdu { data: Data::Bytes(bytes.to_vec()), meta: Meta { offset, ..Default::default() } }
}

/// Feed `pieces` to a fresh receiver: what it delivered and its records, or the first error.
fn up(pieces: &[&[u8]]) -> Result<(Vec<u8>, Vec<Record>)> {
    let mut rx = request("GET", "/", "h");
    let mut cx = Context::default();
    let mut out = Vec::new();
    for p in pieces {
        if let Some(pdu) = rx.decapsulate(piece(p, 54), &mut cx)? {
            out.extend(pdu.into_bytes(L7)?.0);
        }
    }
    Ok((out, cx.trace.records))
}

fn text(r: &Record, name: &str) -> String {
    r.field(name).map(|f| f.value.to_string()).unwrap_or_else(|| panic!("no {name} in {r}"))
}

fn all(r: &Record, name: &str) -> Vec<String> {
    r.fields.iter().filter(|f| f.name == name).map(|f| f.value.to_string()).collect()
}

// ---- known bytes -------------------------------------------------------------------------

#[test]
fn get_request_known_bytes() {
    let (bytes, r) = down(&mut request("GET", "/index.html", "192.0.2.2"), b"");
    let want = format!("GET /index.html HTTP/1.1\r\nHost: 192.0.2.2\r\nUser-Agent: osilab/{V}\r\nAccept: */*\r\n\r\n");
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), want);
    assert_eq!(r.protocol, "http");
    assert_eq!(r.title, "Hypertext Transfer Protocol");
    assert_eq!(r.direction, Direction::Down);
    assert_eq!(r.summary, "GET /index.html HTTP/1.1");
    assert_eq!(r.header, 0..bytes.len());
    assert_eq!((r.payload_len, r.overhead), (0, bytes.len()));
    let names: Vec<&str> = r.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "http.request.method",
            "http.request.uri",
            "http.request.version",
            "http.request.line",
            "http.host",
            "http.request.line",
            "http.user_agent",
            "http.request.line",
            "http.accept",
            "http.request.full_uri",
        ]
    );
    assert_eq!(text(&r, "http.request.method"), "GET");
    assert_eq!(text(&r, "http.request.uri"), "/index.html");
    assert_eq!(text(&r, "http.request.version"), "HTTP/1.1");
    assert_eq!(text(&r, "http.host"), "192.0.2.2");
    assert_eq!(text(&r, "http.user_agent"), format!("osilab/{V}"));
    assert_eq!(text(&r, "http.accept"), "*/*");
    assert_eq!(text(&r, "http.request.full_uri"), "http://192.0.2.2/index.html");
    assert_eq!(
        all(&r, "http.request.line"),
        ["Host: 192.0.2.2\\r\\n".to_string(), format!("User-Agent: osilab/{V}\\r\\n"), "Accept: */*\\r\\n".to_string()]
    );
    // No Date: osilab's clock is simulated (RFC 9110 §6.6.1).
    assert!(!String::from_utf8_lossy(&bytes).contains("Date:"));
}

#[test]
fn post_request_carries_type_and_length() {
    let (bytes, r) = down(&mut request("POST", "/submit", "www.example"), b"hello");
    let want = format!(
        "POST /submit HTTP/1.1\r\nHost: www.example\r\nUser-Agent: osilab/{V}\r\nAccept: */*\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    );
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), want);
    assert_eq!(r.summary, "POST /submit HTTP/1.1  (text/plain)");
    assert_eq!(text(&r, "http.content_type"), "text/plain");
    assert_eq!(text(&r, "http.content_length_header"), "5");
    assert_eq!(r.field("http.content_length").unwrap().value, Value::Uint(5));
    assert_eq!(text(&r, "http.file_data"), "hello");
    assert_eq!((r.payload_len, r.overhead), (5, bytes.len() - 5));
    assert_eq!(r.header, 0..bytes.len() - 5);
    // RFC 9110 §8.6: a POST without content still says so.
    let (bytes, _) = down(&mut request("POST", "/", "h"), b"");
    assert!(String::from_utf8(bytes).unwrap().ends_with("Accept: */*\r\nContent-Length: 0\r\n\r\n"));
}

#[test]
fn response_with_content_length_known_bytes() {
    let (bytes, r) = down(&mut response(200, None), b"hello");
    let want =
        format!("HTTP/1.1 200 OK\r\nServer: osilab/{V}\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(String::from_utf8(bytes).unwrap(), want);
    assert_eq!(r.summary, "HTTP/1.1 200 OK  (text/plain)");
    assert_eq!(text(&r, "http.response.version"), "HTTP/1.1");
    assert_eq!(r.field("http.response.code").unwrap().value, Value::Uint(200));
    assert_eq!(text(&r, "http.response.code.desc"), "OK");
    assert_eq!(text(&r, "http.response.phrase"), "OK");
    assert_eq!(text(&r, "http.server"), format!("osilab/{V}"));
    assert_eq!(
        all(&r, "http.response.line"),
        [
            format!("Server: osilab/{V}\\r\\n"),
            "Content-Type: text/plain\\r\\n".into(),
            "Content-Length: 5\\r\\n".into()
        ]
    );
}

#[test]
fn chunked_response_known_bytes() {
    let (bytes, r) = down(&mut response(200, Some(4)), b"hello");
    let want = format!(
        "HTTP/1.1 200 OK\r\nServer: osilab/{V}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
         4\r\nhell\r\n1\r\no\r\n0\r\n\r\n"
    );
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), want);
    assert_eq!(text(&r, "http.transfer_encoding"), "chunked");
    assert_eq!(all(&r, "http.chunk_size"), ["4", "1", "0"]);
    assert_eq!(text(&r, "http.file_data"), "hello");
    assert!(r.field("http.content_length_header").is_none());
    // Framing: "4\r\n" "\r\n" "1\r\n" "\r\n" "0\r\n\r\n" = 3+2+3+2+5 bytes.
    assert_eq!(r.overhead, bytes.len() - 5);
    assert_eq!(r.header.end, bytes.len() - 5 - 15);
    // Chunk sizes are hex (RFC 9112 §7.1).
    let (bytes, _) = down(&mut response(200, Some(26)), &[b'z'; 30]);
    assert!(String::from_utf8(bytes)
        .unwrap()
        .ends_with(&format!("\r\n\r\n1a\r\n{}\r\n4\r\nzzzz\r\n0\r\n\r\n", "z".repeat(26))));
}

#[test]
fn hand_written_chunked_response_with_extension_and_trailer() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                 5;name=val\r\nhello\r\n6 ; ext\r\n world\r\n0\r\nX-Sum: 11\r\nX-B: 2\r\n\r\n";
    let Ok(Parsed::Complete(m)) = parse(wire) else { panic!("not complete") };
    assert_eq!(m.body, b"hello world");
    assert_eq!(m.chunks, [5, 6, 0]);
    assert_eq!(m.framing, Framing::Chunked);
    assert_eq!(m.trailer, b"X-Sum: 11\r\nX-B: 2\r\n");
    assert_eq!(m.trailers.len(), 2);
    assert_eq!((m.trailers[0].name.as_str(), m.trailers[0].value()), ("X-Sum", &b"11"[..]));
    assert_eq!(m.len, wire.len());
    assert_eq!(m.head_len, 47);
    let (body, recs) = up(&[wire]).unwrap();
    assert_eq!(body, b"hello world");
    let r = &recs[0];
    assert_eq!(r.summary, "HTTP/1.1 200 OK");
    assert_eq!(all(r, "http.chunk_size"), ["5", "6", "0"]);
    assert_eq!(text(r, "http.chunked_trailer_part"), "X-Sum: 11\\r\\nX-B: 2\\r\\n");
    assert_eq!(text(r, "http.file_data"), "hello world");
    assert_eq!(r.header, 0..47);
    assert_eq!((r.payload_len, r.overhead), (11, wire.len() - 11));
}

#[test]
fn reason_phrases_and_empty_phrase() {
    let (bytes, r) = down(&mut response(404, None), b"");
    assert!(bytes.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
    assert!(String::from_utf8(bytes).unwrap().ends_with("Content-Length: 0\r\n\r\n"));
    assert_eq!(text(&r, "http.response.code.desc"), "Not Found");
    // A code RFC 9110 names no phrase for: the phrase is empty but the space stays (RFC 9112 §4).
    let (bytes, r) = down(&mut response(299, None), b"");
    assert!(bytes.starts_with(b"HTTP/1.1 299 \r\n"));
    assert!(r.field("http.response.phrase").is_none());
    assert_eq!(text(&r, "http.response.code.desc"), "Success - Others");
    assert_eq!(wireshark_code_desc(209), "Unknown (209)");
    // 204 carries neither Content-Length nor Transfer-Encoding (RFC 9110 §8.6, RFC 9112 §6.1).
    let (bytes, _) = down(&mut response(204, Some(8)), b"");
    assert_eq!(String::from_utf8(bytes).unwrap(), format!("HTTP/1.1 204 No Content\r\nServer: osilab/{V}\r\n\r\n"));
}

#[test]
fn tshark_text_escapes_as_tshark_prints() {
    assert_eq!(message::tshark_text(b"a\nb\tc\r\x08\x0c"), "a\\nb\\tc\\r\\b\\f");
    assert_eq!(message::tshark_text(b"a\x00b"), "a");
    assert_eq!(message::tshark_text("é".as_bytes()), "\u{fffd}\u{fffd}");
    assert_eq!(message::tshark_text(b"\x01\x07\x0b\\"), "\x01\x07\x0b\\");
}

// ---- receiving: buffering, pipelining ------------------------------------------------------

#[test]
fn message_split_at_every_point_is_delivered_once() {
    let (wire, _) = down(&mut request("POST", "/up", "h"), b"0123456789");
    for cut in 1..wire.len() {
        let mut rx = request("GET", "/", "h");
        let mut cx = Context::default();
        assert_eq!(rx.decapsulate(piece(&wire[..cut], 54), &mut cx).unwrap(), None, "cut {cut}");
        assert!(rx.holding());
        let r = &cx.trace.records[0];
        assert!(r.fields.is_empty(), "no http.* fields before the message is whole");
        assert!(r.notes[0].starts_with("waiting for"), "{r}");
        let got = rx.decapsulate(piece(&wire[cut..], 54), &mut cx).unwrap().unwrap();
        assert_eq!(got.into_bytes(L7).unwrap().0, b"0123456789");
        assert!(!rx.holding());
        assert_eq!(cx.trace.records.len(), 2);
        assert_eq!(text(&cx.trace.records[1], "http.request.method"), "POST");
    }
    // Content-Length says how much is still missing.
    let mut rx = request("GET", "/", "h");
    let mut cx = Context::default();
    rx.decapsulate(piece(&wire[..wire.len() - 4], 54), &mut cx).unwrap();
    assert!(cx.trace.records[0].notes[0].starts_with("waiting for 4 more bytes"), "{}", cx.trace.records[0]);
}

#[test]
fn chunked_byte_by_byte() {
    let (wire, _) = down(&mut response(200, Some(3)), b"abcdefgh");
    let pieces: Vec<&[u8]> = wire.chunks(1).collect();
    let (body, recs) = up(&pieces).unwrap();
    assert_eq!(body, b"abcdefgh");
    assert_eq!(recs.len(), wire.len());
    assert_eq!(recs.iter().filter(|r| !r.fields.is_empty()).count(), 1);
    assert_eq!(all(recs.last().unwrap(), "http.chunk_size"), ["3", "3", "2", "0"]);
}

#[test]
fn pipelined_messages_are_all_delivered() {
    let (a, _) = down(&mut request("POST", "/a", "h"), b"first");
    let (b, _) = down(&mut request("PUT", "/b", "h"), b"second");
    let (c, _) = down(&mut request("GET", "/c", "h"), b"");
    let mut all3 = [a.clone(), b.clone(), c.clone()].concat();
    let (body, recs) = up(&[&all3]).unwrap();
    assert_eq!(body, b"firstsecond");
    assert_eq!(recs.len(), 3);
    let methods: Vec<String> = recs.iter().map(|r| text(r, "http.request.method")).collect();
    assert_eq!(methods, ["POST", "PUT", "GET"]);
    assert_eq!(recs[1].header.start, a.len(), "each header range sits where its message starts");
    // A whole message then half of the next: the first is delivered, the rest held.
    all3.truncate(a.len() + 10);
    let mut rx = request("GET", "/", "h");
    let mut cx = Context::default();
    let got = rx.decapsulate(piece(&all3, 0), &mut cx).unwrap().unwrap();
    assert_eq!(got.into_bytes(L7).unwrap().0, b"first");
    assert!(rx.holding());
    assert!(cx.trace.records[0].notes.iter().any(|n| n.starts_with("next message: waiting")));
    let got = rx.decapsulate(piece(&b[10..], 0), &mut cx).unwrap().unwrap();
    assert_eq!(got.into_bytes(L7).unwrap().0, b"second");
}

#[test]
fn request_without_length_has_no_body() {
    let (body, recs) = up(&[b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"]).unwrap();
    assert!(body.is_empty());
    assert_eq!(recs.len(), 2);
}

#[test]
fn response_without_length_runs_until_close() {
    let mut rx = request("GET", "/", "h");
    let mut cx = Context::default();
    let got = rx.decapsulate(piece(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nabc", 54), &mut cx).unwrap();
    assert_eq!(got.unwrap().into_bytes(L7).unwrap().0, b"abc");
    let r = &cx.trace.records[0];
    assert!(r.fields.is_empty(), "tshark shows such a response only at the close");
    assert!(r.notes[0].contains("until the connection closes"));
    // Everything after is body, even what looks like a message.
    let more = b"HTTP/1.1 200 OK\r\n\r\n";
    let got = rx.decapsulate(piece(more, 54), &mut cx).unwrap();
    assert_eq!(got.unwrap().into_bytes(L7).unwrap().0, more);
    assert!(!rx.holding());
}

#[test]
fn no_content_statuses_ignore_length() {
    let (body, recs) =
        up(&[b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"]).unwrap();
    assert!(body.is_empty());
    assert_eq!(recs.len(), 2);
    assert_eq!(text(&recs[1], "http.response.code"), "100");
}

#[test]
fn leading_empty_lines_are_skipped() {
    let (body, recs) = up(&[b"\r\n\r\nPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"]).unwrap();
    assert_eq!(body, b"hi");
    assert_eq!(recs[0].header.start, 4);
}

#[test]
fn header_values_as_tshark_shows_them() {
    let (_, recs) =
        up(&[b"GET /p?a=1&&b=2 HTTP/1.1\r\nHost:\t h  \r\nX-Foo: bar\r\nConnection: keep-alive\r\n\r\n"]).unwrap();
    let r = &recs[0];
    assert_eq!(text(r, "http.host"), "h  ", "tshark keeps trailing whitespace");
    assert_eq!(text(r, "http.request.uri.path"), "/p");
    assert_eq!(text(r, "http.request.uri.query"), "a=1&&b=2");
    assert_eq!(all(r, "http.request.uri.query.parameter"), ["a=1", "b=2"], "empty parameters skipped, as tshark does");
    assert_eq!(text(r, "http.connection"), "keep-alive");
    assert_eq!(all(r, "http.request.line").len(), 3);
    assert_eq!(text(r, "http.request.full_uri"), "http://h/p?a=1&&b=2");
    assert_eq!(all(r, "http.request.line")[0], "Host:\\t h  \\r\\n");
}

// ---- errors ------------------------------------------------------------------------------

/// The error for one piece arriving at frame offset 54.
fn bad(wire: &[u8]) -> Error {
    up(&[wire]).expect_err("should fail")
}

fn assert_invalid(wire: &[u8], at: usize, what: &str) {
    let e = bad(wire);
    assert_eq!(e.layer, Some(L7), "{e}");
    assert_eq!(e.offset, Some(54 + at), "{e}");
    match &e.kind {
        ErrorKind::Invalid { what: w, .. } => assert_eq!(w, what, "{e}"),
        k => panic!("{k:?}"),
    }
}

#[test]
fn bad_start_lines() {
    assert_invalid(b"G(T / HTTP/1.1\r\n\r\n", 1, "request method");
    assert_invalid(b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 4, "request target");
    assert_invalid(b"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 5, "request target");
    assert_invalid(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 6, "HTTP version");
    assert_invalid(b"GET / HTTQ/1.1\r\nHost: h\r\n\r\n", 6, "HTTP version");
    assert_invalid(b"GET /\r\n\r\n", 4, "request line");
    assert_invalid(b"HTTP/1.1 20 OK\r\n\r\n", 9, "status code");
    assert_invalid(b"HTTP/1.1 600 Nope\r\n\r\n", 9, "status code");
    assert_invalid(b"HTTP/1.1 200\r\n\r\n", 12, "status line");
    assert_invalid(b"HTTP/1.1 200 O\x01K\r\n\r\n", 14, "reason phrase");
    assert_invalid(b"GET / HTTP/1.1\nHost: h\r\n\r\n", 14, "start line");
    assert_invalid(b"GET / HT\rTP/1.1\r\n\r\n", 8, "start line");
    assert_invalid(b"\x00GET", 0, "start line");
}

#[test]
fn bad_header_fields() {
    // RFC 9112 §5.1: no whitespace between the name and the colon.
    assert_invalid(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 20, "field line");
    assert_invalid(b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 25, "field line");
    assert_invalid(b"GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", 18, "field name");
    assert_invalid(b"GET / HTTP/1.1\r\n: h\r\n\r\n", 16, "field name");
    assert_invalid(b"GET / HTTP/1.1\r\nHost h\r\n\r\n", 16, "field line");
    assert_invalid(b"GET / HTTP/1.1\r\nHost: h\x7f\r\n\r\n", 23, "field value");
    assert_invalid(b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 23, "field line");
    // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request.
    assert_invalid(b"GET / HTTP/1.1\r\n\r\n", 0, "Host");
    assert_invalid(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 25, "Host");
}

#[test]
fn bad_framing() {
    let h = b"POST / HTTP/1.1\r\nHost: h\r\n";
    let with = |extra: &str| [&h[..], extra.as_bytes()].concat();
    // RFC 9112 §6.1: both is how requests are smuggled.
    assert_invalid(
        &with("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc"),
        h.len() + 19,
        "message framing",
    );
    assert_invalid(&with("Content-Length: +3\r\n\r\nabc"), h.len(), "Content-Length");
    assert_invalid(&with("Content-Length: 0x3\r\n\r\nabc"), h.len(), "Content-Length");
    assert_invalid(&with("Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), h.len() + 19, "Content-Length");
    assert_invalid(&with("Content-Length: 3, 4\r\n\r\nabcd"), h.len(), "Content-Length");
    assert_invalid(&with("Content-Length: 99999999999999999999999\r\n\r\n"), h.len(), "Content-Length");
    assert_invalid(&with("Transfer-Encoding: gzip, chunked\r\n\r\n"), h.len(), "Transfer-Encoding");
    assert_invalid(&with("Transfer-Encoding: chunked, chunked\r\n\r\n"), h.len(), "Transfer-Encoding");
    // Repeated equal values are one length (RFC 9112 §6.3 rule 5).
    let (body, _) = up(&[&with("Content-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc")]).unwrap();
    assert_eq!(body, b"abc");
}

#[test]
fn bad_chunks() {
    let h = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let n = h.len();
    let with = |extra: &[u8]| [&h[..], extra].concat();
    assert_invalid(&with(b"g\r\n"), n, "chunk size");
    assert_invalid(&with(b"\r\n"), n, "chunk size");
    assert_invalid(&with(b"5x\r\nhello\r\n0\r\n\r\n"), n + 1, "chunk size");
    assert_invalid(&with(b"5 \r\nhello\r\n0\r\n\r\n"), n + 1, "chunk size");
    assert_invalid(&with(b"5;a\x01\r\nhello\r\n0\r\n\r\n"), n + 3, "chunk extension");
    assert_invalid(&with(b"5\r\nhelloXY0\r\n\r\n"), n + 8, "chunk data");
    assert_invalid(&with(b"fffffffffffffffffff\r\n"), n, "chunk size");
    assert_invalid(&with(b"1000001\r\n"), n, "chunk size");
    assert_invalid(&with(b"0\r\nX : y\r\n\r\n"), n + 4, "field line");
    // Located after earlier chunks too (the line starts after the previous chunk's CRLF).
    assert_invalid(&with(b"2\r\nhi\r\n3\r\nabc\r\ng\r\n"), n + 15, "chunk size");
    assert_invalid(&with(b"2\r\nhi\r\n0\r\nX-A: 1\r\nX : y\r\n\r\n"), n + 19, "field line");
}

#[test]
fn header_section_limit() {
    let mut wire = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    while wire.len() <= message::MAX_HEAD + 10 {
        wire.extend_from_slice(b"X-Pad: 0123456789012345678901234567890123456789\r\n");
    }
    let e = bad(&wire);
    assert!(e.to_string().contains("header section"), "{e}");
    // Held without the end: the limit still stops the buffering.
    let e = bad(&[b"GET / HTTP/1.1\r\n".as_slice(), &vec![b'a'; message::MAX_HEAD + 1]].concat());
    assert!(e.to_string().contains("header section"), "{e}");
    let e = bad(&vec![b'a'; message::MAX_HEAD + 1]);
    assert!(e.to_string().contains("header section"), "{e}");
}

#[test]
fn error_spanning_pieces_has_no_offset() {
    let e = up(&[b"GET / HT", b"TP/1.1\r\nHost : h\r\n\r\n"]).unwrap_err();
    assert_eq!(e.offset, None, "{e}");
    // A message that starts inside the piece is located in the frame.
    let e = up(&[b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost : h\r\n\r\n"]).unwrap_err();
    assert_eq!(e.offset, Some(54 + 27 + 20), "{e}");
}

#[test]
fn error_clears_what_is_held() {
    let mut rx = request("GET", "/", "h");
    let mut cx = Context::default();
    assert!(rx.decapsulate(piece(b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 0), &mut cx).is_err());
    assert!(!rx.holding());
}

// ---- empty lines, bounds, incremental reading --------------------------------------------

/// The kind's `what` of an invalid-content error.
fn what(e: &Error) -> &str {
    match &e.kind {
        ErrorKind::Invalid { what, .. } => what,
        k => panic!("{k:?}"),
    }
}

#[test]
fn empty_lines_are_drained_not_held() {
    let mut rx = request("GET", "/", "h");
    let mut cx = Context::default();
    for n in 1..message::MAX_EMPTY_LINES {
        assert_eq!(rx.decapsulate(piece(b"\r\n", 54), &mut cx).unwrap(), None);
        assert!(!rx.holding(), "empty lines are not part of a message");
        assert_eq!(rx.rx.buffered(), 0, "nothing kept of them");
        assert_eq!(cx.trace.records[n - 1].summary, format!("[empty lines] {n} before a start line, ignored"));
    }
    // Half an empty line is not a message either; its LF makes the 16th.
    assert_eq!(rx.decapsulate(piece(b"\r", 54), &mut cx).unwrap(), None);
    assert!(!rx.holding());
    let got =
        rx.decapsulate(piece(b"\nPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi", 54), &mut cx).unwrap();
    assert_eq!(got.unwrap().into_bytes(L7).unwrap().0, b"hi");
    let r = cx.trace.records.last().unwrap();
    assert_eq!(r.header.start, 1, "the start line follows the LF in this piece");
    assert!(r.notes.iter().any(|n| n == "16 empty line(s) before the start line ignored (RFC 9112 §2.2)"), "{r}");
    assert_eq!(r.overhead, 32 + r.header.len(), "the skipped lines are the message's overhead");
    // The next message counts afresh.
    let got = rx.decapsulate(piece(b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 54), &mut cx).unwrap();
    assert_eq!(got.unwrap().into_bytes(L7).unwrap().0, b"");
}

#[test]
fn too_many_empty_lines_are_refused() {
    let crlfs = b"\r\n".repeat(message::MAX_EMPTY_LINES + 1);
    let e = bad(&crlfs);
    assert_eq!(e.layer, Some(L7), "{e}");
    assert_eq!(what(&e), "empty lines before the start line");
    assert_eq!(e.offset, Some(54 + 2 * message::MAX_EMPTY_LINES), "the line one too many");
    // One at a time, the count goes on across pieces (the offset is gone: the run began earlier).
    let pieces: Vec<&[u8]> = crlfs.chunks(2).collect();
    let e = up(&pieces).unwrap_err();
    assert_eq!((what(&e), e.offset), ("empty lines before the start line", None));
    assert!(up(&pieces[1..]).is_ok(), "{} are fine", message::MAX_EMPTY_LINES);
}

#[test]
fn empty_lines_count_toward_the_head_limit() {
    let head = |pad: usize| format!("GET / HTTP/1.1\r\nHost: h\r\nX-Pad: {}\r\n\r\n", "a".repeat(pad)).into_bytes();
    let fixed = head(0).len();
    let wire = head(message::MAX_HEAD - 20 - fixed);
    assert_eq!(wire.len(), message::MAX_HEAD - 20);
    assert!(up(&[&wire]).is_ok());
    assert!(up(&[&[b"\r\n".repeat(10).as_slice(), &wire].concat()]).is_ok(), "20 bytes of empty lines still fit");
    let e = up(&[&[b"\r\n".repeat(11).as_slice(), &wire].concat()]).unwrap_err();
    assert_eq!(what(&e), "header section", "{e}");
    assert_eq!(e.offset, Some(54 + 22), "located at the start line");
}

#[test]
fn decoder_holds_no_more_than_a_line() {
    // A body at the limit, in TCP-sized pieces: the body is counted down, never buffered twice.
    let mut wire = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", message::MAX_BODY).into_bytes();
    let head = wire.len();
    wire.resize(head + message::MAX_BODY, b'x');
    let mut d = message::Decoder::new();
    let mut done = None;
    for p in wire.chunks(1460) {
        let (n, parsed) = d.feed(p).unwrap();
        assert_eq!(n, p.len());
        assert!(d.buffered() <= 1460);
        if d.position() > head {
            assert_eq!(d.buffered(), 0, "no line is held inside the body");
        }
        if let Parsed::Complete(m) = parsed {
            done = Some(m);
        }
    }
    let m = done.expect("complete");
    assert_eq!((m.body.len(), m.len), (message::MAX_BODY, wire.len()));
    // Chunked, one byte at a time: only the current line is held, and the outcome is parse's.
    let (wire, _) = down(&mut response(200, Some(5)), &[b'c'; 4000]);
    let mut d = message::Decoder::new();
    let mut done = None;
    for (i, b) in wire.iter().enumerate() {
        let (n, parsed) = d.feed(std::slice::from_ref(b)).unwrap();
        assert_eq!((n, d.position()), (1, i + 1));
        assert!(d.buffered() <= 100, "at most one line held");
        if let Parsed::Complete(m) = parsed {
            done = Some(m);
        }
    }
    assert_eq!(Some(Parsed::Complete(done.unwrap())), parse(&wire).ok());
}

#[test]
fn chunk_framing_is_bounded() {
    let h = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let n = h.len();
    // A chunk-size line over the limit fails even when its CRLF came with it.
    let long = [b"1;x=".as_slice(), &vec![b'a'; message::MAX_CHUNK_LINE], b"\r\nz\r\n0\r\n\r\n"].concat();
    assert_invalid(&[&h[..], &long].concat(), n, "chunk-size line");
    let ok = [b"1;x=".as_slice(), &vec![b'a'; message::MAX_CHUNK_LINE - 4], b"\r\nz\r\n0\r\n\r\n"].concat();
    assert_eq!(up(&[&[&h[..], &ok].concat()]).unwrap().0, b"z");
    // 1-byte chunks with long extensions: the framing allowance runs out, at a located chunk.
    let one = [b"1;x=".as_slice(), &vec![b'a'; 4000], b"\r\nz\r\n"].concat();
    let count = message::MAX_FRAMING / one.len() + 1;
    let e = bad(&[&h[..], &one.repeat(count)].concat());
    assert_eq!(what(&e), "chunked body", "{e}");
    assert!(e.to_string().contains("chunk framing"), "{e}");
    // Where the allowance is crossed: a size line (with its CRLF) or the CRLF after a chunk's data.
    let (mut framed, mut at, mut crossed) = (0, n, None);
    while crossed.is_none() {
        for (len, skip) in [(one.len() - 3, one.len() - 2), (2, 2)] {
            framed += len;
            if framed > message::MAX_FRAMING && crossed.is_none() {
                crossed = Some(at);
            }
            at += skip;
        }
    }
    assert_eq!(e.offset, Some(54 + crossed.unwrap()));
    // Too many chunks, however small their framing.
    let e = bad(&[&h[..], &b"1\r\nz\r\n".repeat(message::MAX_CHUNKS + 1)].concat());
    assert_eq!(what(&e), "chunked body", "{e}");
    assert!(e.to_string().contains(&format!("at most {} chunks", message::MAX_CHUNKS)), "{e}");
    assert_eq!(e.offset, Some(54 + n + message::MAX_CHUNKS * 6));
    let wire = [&h[..], &b"1\r\nz\r\n".repeat(message::MAX_CHUNKS - 1), b"0\r\n\r\n"].concat();
    assert_eq!(up(&[&wire]).unwrap().0.len(), message::MAX_CHUNKS - 1);
}

#[test]
fn sending_more_chunks_than_a_receiver_takes_is_a_config_error() {
    let mut cx = Context::default();
    let e = response(200, Some(1)).encapsulate(Pdu::bytes(vec![b'a'; message::MAX_CHUNKS]), &mut cx).unwrap_err();
    assert_eq!(e.layer, Some(L7));
    assert!(matches!(e.kind, ErrorKind::Config(_)), "{e}");
    assert!(e.to_string().contains("chunks"), "{e}");
    let (_, r) = down(&mut response(200, Some(1)), &vec![b'a'; message::MAX_CHUNKS - 1]);
    assert_eq!(all(&r, "http.chunk_size").len(), message::MAX_CHUNKS);
}

// ---- the end of the stream ---------------------------------------------------------------

/// Feed `pieces`, then end the stream: finish's outcome and the records.
fn up_then_end(pieces: &[&[u8]]) -> (Result<()>, Vec<Record>, bool) {
    let mut rx = request("GET", "/", "h");
    let mut cx = Context::default();
    for p in pieces {
        rx.decapsulate(piece(p, 54), &mut cx).unwrap();
    }
    let res = rx.finish(&mut cx);
    let held = rx.holding();
    assert!(rx.finish(&mut cx).is_ok(), "a second end finds nothing held");
    (res, cx.trace.records, held)
}

fn truncated(res: Result<()>) -> (String, usize, usize) {
    let e = res.unwrap_err();
    assert_eq!(e.layer, Some(L7), "{e}");
    assert_eq!(e.offset, None, "the end of a stream is no byte of a frame");
    assert!(e.to_string().contains("(RFC 9112 §8: incomplete message)"), "{e}");
    match e.kind {
        ErrorKind::Truncated { what, needed, available } => (what, needed, available),
        k => panic!("{k:?}"),
    }
}

#[test]
fn finish_with_nothing_held_is_ok() {
    let (res, recs, _) = up_then_end(&[]);
    assert!(res.is_ok() && recs.is_empty());
    let (res, recs, _) = up_then_end(&[b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", b"\r\n\r\n", b"\r"]);
    assert!(res.is_ok(), "empty lines after a message are no message");
    assert_eq!(recs.len(), 3);
}

#[test]
fn finish_inside_the_head_is_an_error() {
    let (res, recs, held) = up_then_end(&[b"GET / HTTP/1.1\r\nHost: h\r\n"]);
    let (what, needed, available) = truncated(res);
    assert_eq!(
        what,
        "message: the connection ended 25 bytes into a message whose header section was not finished (no CRLF CRLF) (RFC 9112 §8: incomplete message)"
    );
    assert_eq!((needed, available), (27, 25));
    assert!(!held, "what was held is dropped");
    let r = recs.last().unwrap();
    assert!(r.summary.starts_with("[incomplete message] the connection ended 25 bytes into"), "{r}");
    assert!(r.fields.is_empty());
    let (what, ..) = truncated(up_then_end(&[b"GET / HT"]).0);
    assert!(what.contains("ended 8 bytes into a message inside its start line"), "{what}");
}

#[test]
fn finish_short_of_content_length_is_an_error() {
    let wire = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789";
    let (res, recs, _) = up_then_end(&[&wire[..20], &wire[20..]]);
    let (what, needed, available) = truncated(res);
    assert_eq!(
        what,
        format!(
            "message: the connection ended {} bytes into a message whose body needs 100 bytes (10 received) (RFC 9112 §8: incomplete message)",
            wire.len()
        )
    );
    assert_eq!((needed, available), (wire.len() + 90, wire.len()));
    assert!(recs.last().unwrap().summary.contains("whose body needs 100 bytes"));
}

#[test]
fn finish_before_the_last_chunk_is_an_error() {
    let h = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".as_slice();
    for (tail, missing) in [
        (&b"5\r\nhel"[..], 2 + 2 + 5),
        (&b"5\r\nhello"[..], 2 + 5),
        (&b"5\r\nhello\r\n"[..], 5),
        (&b"5\r\nhello\r\n1"[..], 5),
    ] {
        let wire = [h, tail].concat();
        let (what, needed, available) = truncated(up_then_end(&[&wire]).0);
        assert!(what.contains("a chunked message whose body needs its last chunk"), "{what}");
        assert_eq!((needed, available), (wire.len() + missing, wire.len()), "{what}");
    }
    // In the trailer section.
    let (what, ..) = truncated(up_then_end(&[&[h, b"0\r\nX-Sum: 1\r\n"].concat()]).0);
    assert!(what.contains("inside its trailer section"), "{what}");
}

#[test]
fn finish_ends_a_body_delimited_by_the_close() {
    let (res, recs, held) = up_then_end(&[b"HTTP/1.1 200 OK\r\n\r\nabc", b"defg"]);
    assert!(res.is_ok(), "the close is what ends such a body (RFC 9112 §6.3 rule 8)");
    assert!(!held);
    assert_eq!(recs.len(), 3);
    let r = &recs[2];
    assert_eq!(r.summary, "End of stream: the body that ran until the connection closed is complete (7 bytes)");
    assert!(r.notes[0].contains("delivered as they arrived"), "{r}");
}

// ---- strictness --------------------------------------------------------------------------

#[test]
fn http_1_0_with_transfer_encoding_is_faulty_framing() {
    for start in ["POST / HTTP/1.0\r\n", "HTTP/1.0 200 OK\r\n"] {
        let te = format!("{start}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assert_invalid(te.as_bytes(), start.len(), "message framing");
        assert!(bad(te.as_bytes()).to_string().contains("RFC 9112 §6.1"));
        // Even with a Content-Length (RFC 9112 §6.1).
        let both = format!("{start}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nhi");
        assert_invalid(both.as_bytes(), start.len() + 19, "message framing");
        assert!(bad(both.as_bytes()).to_string().contains("HTTP/1.0"));
        // HTTP/1.0 with Content-Length alone is fine.
        let ok = format!("{start}Content-Length: 2\r\n\r\nhi");
        assert_eq!(up(&[ok.as_bytes()]).unwrap().0, b"hi");
    }
}

#[test]
fn framing_and_routing_fields_are_refused_in_trailers() {
    let h = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n";
    let n = h.len();
    for field in
        ["Content-Length: 2", "transfer-encoding: chunked", "Host: h", "Content-Type: text/plain", "Trailer: X"]
    {
        let wire = [&h[..], b"X-Sum: 1\r\n", field.as_bytes(), b"\r\n\r\n"].concat();
        assert_invalid(&wire, n + 10, "trailer field");
        assert!(bad(&wire).to_string().contains("RFC 9110 §6.5.1"), "{field}");
    }
    let ok = [&h[..], b"X-Sum: 1\r\nServer-Timing: a\r\n\r\n"].concat();
    let (body, recs) = up(&[&ok]).unwrap();
    assert_eq!(body, b"hi");
    assert_eq!(text(&recs[0], "http.chunked_trailer_part"), "X-Sum: 1\\r\\nServer-Timing: a\\r\\n");
}

// ---- configuration -----------------------------------------------------------------------

#[test]
fn bad_configs_name_l7() {
    let req = |m: &str, t: &str, h: &str| {
        HttpApplication::new(HttpConfig {
            kind: HttpKind::Request { method: m.into(), target: t.into(), host: h.into() },
            content_type: "text/plain".into(),
        })
    };
    let resp = |status, chunked| {
        HttpApplication::new(HttpConfig { kind: HttpKind::Response { status, chunked }, content_type: String::new() })
    };
    for e in [
        req("GE T", "/", "h"),
        req("", "/", "h"),
        req("GET", "index.html", "h"),
        req("GET", "/a b", "h"),
        req("GET", "/a\nb", "h"),
        req("GET", "/é", "h"),
        req("GET", "/", ""),
        req("GET", "/", "a b"),
        resp(99, None),
        resp(600, None),
        resp(200, Some(0)),
        HttpApplication::new(HttpConfig {
            kind: HttpKind::Response { status: 200, chunked: None },
            content_type: "text/plain\r\nX: y".into(),
        }),
    ] {
        let e = e.unwrap_err();
        assert_eq!(e.layer, Some(L7));
        assert!(matches!(e.kind, ErrorKind::Config(_)), "{e}");
    }
    assert!(req("M-SEARCH", "/a?b=c%20d", "[2001:db8::2]:8080").is_ok());
}

#[test]
fn content_where_none_is_allowed_is_an_error() {
    let mut cx = Context::default();
    for (mut app, why) in [
        (request("HEAD", "/", "h"), "HEAD"),
        (response(204, None), "204"),
        (response(304, None), "304"),
        (response(101, None), "101"),
    ] {
        let e = app.encapsulate(Pdu::bytes(b"x".to_vec()), &mut cx).unwrap_err();
        assert_eq!(e.layer, Some(L7), "{why}");
        assert!(e.to_string().contains("no content"), "{e}");
        assert!(app.encapsulate(Pdu::bytes(Vec::new()), &mut cx).is_ok());
    }
}

// ---- properties --------------------------------------------------------------------------

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_string()),
        Just("POST".to_string()),
        Just("PUT".to_string()),
        Just("DELETE".to_string()),
        Just("OPTIONS".to_string()),
        "[A-Z][A-Z!#$%&'*+.^_`|~0-9-]{0,11}",
    ]
}

fn config() -> impl Strategy<Value = HttpConfig> {
    let req = (method(), "/[!-~]{0,40}", "[a-z0-9.:-]{1,20}").prop_map(|(method, target, host)| HttpKind::Request {
        method,
        target,
        host,
    });
    let resp = (prop_oneof![Just(200u16), Just(201), Just(404), Just(500), 200u16..600], prop::option::of(1usize..300))
        .prop_map(|(status, chunked)| HttpKind::Response { status, chunked });
    (
        prop_oneof![req, resp],
        prop_oneof![Just(String::new()), Just("text/plain".to_string()), "[a-z]{1,8}/[a-z+.-]{1,12}"],
    )
        .prop_map(|(kind, content_type)| HttpConfig { kind, content_type })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..3000),
        "[ -~\n]{0,200}".prop_map(String::into_bytes)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn codec_round_trip(cfg in config(), body in body(), cut in any::<prop::sample::Index>()) {
        let mut tx = HttpApplication::new(cfg.clone()).unwrap();
        let mut cx = Context::default();
        let res = tx.encapsulate(Pdu::bytes(body.clone()), &mut cx);
        let forbidden = match &cfg.kind {
            HttpKind::Request { method, .. } => method == "HEAD",
            HttpKind::Response { status, .. } => message::status_has_no_content(*status),
        };
        if forbidden && !body.is_empty() {
            prop_assert!(res.is_err());
            return Ok(());
        }
        let wire = res.unwrap().remove(0).into_bytes(L7).unwrap().0;
        let Ok(Parsed::Complete(m)) = parse(&wire) else { panic!("sent bytes do not parse") };
        prop_assert_eq!(&m.body, &body);
        prop_assert_eq!(m.len, wire.len());
        match (&cfg.kind, &m.start) {
            (HttpKind::Request { method, target, .. }, StartLine::Request { method: m2, target: t2, .. }) => {
                prop_assert_eq!(method, m2);
                prop_assert_eq!(target, t2);
            }
            (HttpKind::Response { status, .. }, StartLine::Status { code, .. }) => prop_assert_eq!(status, code),
            _ => prop_assert!(false, "wrong kind of message"),
        }
        // Through a receiver, in two pieces cut anywhere.
        let cut = cut.index(wire.len() + 1);
        let (got, recs) = up(&[&wire[..cut], &wire[cut..]]).unwrap();
        prop_assert_eq!(&got, &body);
        let last = recs.last().unwrap();
        prop_assert_eq!(&last.fields, &cx.trace.records[0].fields, "sender and receiver report the same fields");
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), cut in any::<prop::sample::Index>()) {
        let cut = cut.index(bytes.len() + 1);
        let _ = up(&[&bytes[..cut], &bytes[cut..]]);
        let _ = parse(&bytes);
    }

    #[test]
    fn how_the_stream_is_cut_changes_nothing(
        body in body(),
        chunk in prop::option::of(1usize..50),
        flip in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let (mut wire, _) = down(&mut response(200, chunk), &body);
        wire.extend_from_slice(&down(&mut request("POST", "/next", "h"), b"second").0);
        if let Some((i, b)) = flip {
            let i = i.index(wire.len());
            wire[i] = b;
        }
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        at.extend([0, wire.len()]);
        at.sort_unstable();
        let pieces: Vec<&[u8]> = at.windows(2).map(|w| &wire[w[0]..w[1]]).collect();
        let whole = up(&[&wire]);
        let cut = up(&pieces);
        prop_assert_eq!(whole.is_ok(), cut.is_ok(), "{:?} / {:?}", whole.as_ref().err(), cut.as_ref().err());
        if let (Ok((b1, r1)), Ok((b2, r2))) = (whole, cut) {
            prop_assert_eq!(b1, b2);
            let f1: Vec<_> = r1.iter().filter(|r| !r.fields.is_empty()).map(|r| &r.fields).collect();
            let f2: Vec<_> = r2.iter().filter(|r| !r.fields.is_empty()).map(|r| &r.fields).collect();
            prop_assert_eq!(f1, f2);
        }
    }

    #[test]
    fn mangled_messages_never_panic(
        body in body(),
        chunk in 1usize..50,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let (mut wire, _) = down(&mut response(200, Some(chunk)), &body);
        for (i, b) in flips {
            let i = i.index(wire.len());
            wire[i] = b;
        }
        let pieces: Vec<&[u8]> = wire.chunks(chunk).collect();
        let _ = up(&pieces);
    }
}

// ---- through a whole stack ---------------------------------------------------------------

fn http_stack(kind: HttpKind, port: u16) -> StackConfig {
    let mut cfg =
        StackConfig { app: App::Http(HttpConfig { kind, content_type: "text/plain".into() }), ..Default::default() };
    cfg.remote.port = port;
    cfg
}

fn get_kind(method: &str) -> HttpKind {
    HttpKind::Request { method: method.into(), target: "/upload".into(), host: "192.0.2.2".into() }
}

#[test]
fn exchange_large_bodies_over_tcp() {
    let body: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    for kind in [
        get_kind("POST"),
        HttpKind::Response { status: 200, chunked: None },
        HttpKind::Response { status: 200, chunked: Some(1000) },
    ] {
        let cfg = http_stack(kind.clone(), 80);
        let x = Exchange::run(&cfg, &body).unwrap();
        assert!(x.delivered_intact(), "{kind:?}: {:?}", x.received.error);
        assert!(x.sent.frames.len() >= 4, "a body over several segments");
        let recs: Vec<&Record> = x.received.trace.layer(L7).collect();
        assert_eq!(recs.len(), x.sent.frames.len(), "one L7 record per piece");
        let whole: Vec<&&Record> = recs.iter().filter(|r| !r.fields.is_empty()).collect();
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0].frame, Some(x.sent.frames.len()), "reported on the frame that completed it");
        assert_eq!(whole[0].payload_len, body.len());
        assert_eq!(whole[0].header, 0..0, "its header arrived in the first frame, not this one");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn exchange_round_trip(cfg in config(), body in body()) {
        let forbidden = match &cfg.kind {
            HttpKind::Request { method, .. } => method == "HEAD",
            HttpKind::Response { status, .. } => message::status_has_no_content(*status),
        };
        prop_assume!(!forbidden || body.is_empty());
        let stack = StackConfig { app: App::Http(cfg), ..Default::default() };
        let x = Exchange::run(&stack, &body).unwrap();
        prop_assert!(x.delivered_intact(), "{:?}", x.received.error);
    }
}

// ---- Wireshark agrees ----------------------------------------------------------------------

/// Every http.* field the receiver reports, per frame, as `tshark -T fields` prints it for the
/// same frame of a pcap of the exchange (TCP port 80). Skips without tshark.
#[test]
fn tshark_reads_the_same_fields() {
    use std::process::Command;
    if Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("tshark not installed: skipping tshark_reads_the_same_fields");
        return;
    }
    let dir = std::env::temp_dir().join(format!("osilab-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: Vec<(&str, HttpKind, Vec<u8>)> = vec![
        (
            "get",
            HttpKind::Request { method: "GET".into(), target: "/index.html".into(), host: "192.0.2.2".into() },
            vec![],
        ),
        (
            "post",
            HttpKind::Request { method: "POST".into(), target: "/form?x=1&y=2".into(), host: "www.example".into() },
            b"name=osi&layer=7\ttab\n".to_vec(),
        ),
        ("ok", HttpKind::Response { status: 200, chunked: None }, b"hello, world".to_vec()),
        ("chunked", HttpKind::Response { status: 200, chunked: Some(7) }, b"a chunked body of some length".to_vec()),
        ("big", HttpKind::Response { status: 200, chunked: None }, "Olá! ".repeat(900).into_bytes()),
        ("bigchunked", HttpKind::Response { status: 404, chunked: Some(1000) }, vec![b'q'; 4000]),
        ("bigpost", get_kind("PUT"), vec![b'z'; 3500]),
        ("odd", HttpKind::Response { status: 299, chunked: None }, vec![]),
    ];
    for (name, kind, body) in cases {
        let cfg = http_stack(kind, 80);
        let x = Exchange::run(&cfg, &body).unwrap();
        assert!(x.delivered_intact(), "{name}");
        let mut sink = crate::pcap::PcapSink::new(Vec::new()).unwrap();
        for f in &x.sent.frames {
            sink.write(f.signal.start, f.without_fcs()).unwrap();
        }
        let pcap = dir.join(format!("{name}.pcap"));
        std::fs::write(&pcap, sink.into_inner()).unwrap();
        for n in 1..=x.sent.frames.len() {
            let mut fields: Vec<(String, Vec<String>)> = Vec::new();
            for r in x.received.trace.layer(L7).filter(|r| r.frame == Some(n)) {
                for f in &r.fields {
                    match fields.iter_mut().find(|(k, _)| *k == f.name) {
                        Some((_, v)) => v.push(f.value.to_string()),
                        None => fields.push((f.name.to_string(), vec![f.value.to_string()])),
                    }
                }
            }
            // Frames that only carry part of a message: tshark must show no HTTP there either.
            let asked: Vec<String> = if fields.is_empty() {
                vec!["http.request.method".into(), "http.response.code".into()]
            } else {
                fields.iter().map(|(k, _)| k.clone()).collect()
            };
            let mut cmd = Command::new("tshark");
            cmd.args(["-n", "-r"]).arg(&pcap).args(["-Y", &format!("frame.number == {n}")]);
            cmd.args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]);
            for k in &asked {
                cmd.args(["-e", k]);
            }
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8(out.stdout).unwrap();
            let theirs: Vec<&str> = text.trim_end_matches('\n').split('|').collect();
            if fields.is_empty() {
                assert!(theirs.iter().all(|t| t.is_empty()), "{name} frame {n}: tshark shows HTTP: {text}");
                continue;
            }
            assert_eq!(theirs.len(), fields.len(), "{name} frame {n}: {text}");
            for ((k, ours), t) in fields.iter().zip(theirs) {
                assert_eq!(ours.join(","), t, "{name} frame {n}: {k}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
