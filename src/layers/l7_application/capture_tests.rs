//! Capture-mode tests for L7: DNS messages and HTTP exchanges from real captures (dig against
//! dnsmasq, curl against python's http.server, across a veth pair) with the values tshark 4.0.17
//! printed for them, hand-made pieces for the framing, the errors and the bounds, and arbitrary
//! pieces that must never panic.

use super::capture::{looks_like_http, AppCapture, AppCaptureConfig, AppKind};
use crate::layer::{Context, Data, Layer, Meta, Pdu};
use crate::layers::l4_transport::Piece;
use crate::trace::{Group, Severity};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

const C: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const S: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// A piece as L4 passes it up in capture mode: from the client (port 40000) or the server.
fn piece(proto: u8, stream: u32, from_client: bool, port: u16, bytes: &[u8], marks: Piece) -> Pdu {
    let (src, dst, sp, dp) = if from_client { (C, S, 40000, port) } else { (S, C, port, 40000) };
    let mut meta = Meta {
        offset: 54,
        ip_proto: Some(proto),
        src_ip: Some(src),
        dst_ip: Some(dst),
        src_port: Some(sp),
        dst_port: Some(dp),
        stream: Some(stream),
        ..Meta::default()
    };
    marks.mark(&mut meta);
    Pdu { data: Data::Bytes(bytes.to_vec()), meta }
}

fn plain() -> Piece {
    Piece::default()
}

/// Feed one piece; the frame's context.
fn feed(l7: &mut AppCapture, p: Pdu) -> Context {
    let mut cx = Context::default();
    l7.decapsulate(p, &mut cx).unwrap();
    cx
}

fn field(cx: &Context, name: &str) -> String {
    cx.trace.values(name).iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

fn experts(cx: &Context) -> Vec<String> {
    cx.trace.records.iter().flat_map(|r| &r.expert).map(|e| e.message.to_string()).collect()
}

const QUERY: &str =
    "19a00120000100000000000103777777076578616d706c6503636f6d000001000100002904d000000000000c000a0008f81b344c81ef8aaa";
const ANSWER: &str = "19a08580000100010000000103777777076578616d706c6503636f6d0000010001c00c00010001000000000004c000025000002904d0000000000000";
const CNAME: &str = "35e68580000100010000000105616c696173076578616d706c6503636f6d0000010001c00c0005000100000000001103777777076578616d706c6503636f6d0000002904d0000000000000";
const TCP_AAAA: &str = "0049a05985800001000100000001046d61696c076578616d706c6503636f6d00001c0001c00c001c000100000000001020010db800000000000000000000002500002904d0000000000000";

#[test]
fn dns_over_udp_as_tshark_prints_it() {
    let mut l7 = AppCapture::default();
    let cx = feed(&mut l7, piece(17, 0, true, 53, &hex(QUERY), plain()));
    // tshark -T fields on dig's query (EDNS with a client cookie).
    let want = [
        ("dns.id", "0x19a0"),
        ("dns.flags.response", "0"),
        ("dns.flags.authenticated", "1"),
        ("dns.qry.name", "www.example.com"),
        ("dns.qry.name.len", "15"),
        ("dns.count.labels", "3"),
        ("dns.qry.type", "1"),
        ("dns.qry.class", "0x0001"),
        ("dns.resp.name", "<Root>"),
        ("dns.resp.type", "41"),
        ("dns.rr.udp_payload_size", "1232"),
        ("dns.resp.ext_rcode", "0x00"),
        ("dns.resp.z", "0x0000"),
        ("dns.resp.z.do", "0"),
        ("dns.resp.len", "12"),
        ("dns.opt.code", "10"),
        ("dns.opt.len", "8"),
        ("dns.opt.data", "f81b344c81ef8aaa"),
        ("dns.opt.cookie.client", "f81b344c81ef8aaa"),
        ("dns.opt.cookie.server", "<MISSING>"),
    ];
    for (f, v) in want {
        assert_eq!(field(&cx, f), v, "{f}");
    }
    assert_eq!(cx.trace.records[0].title, "Domain Name System (query)");
    let cx = feed(&mut l7, piece(17, 0, false, 53, &hex(ANSWER), plain()));
    let want = [
        ("dns.flags.response", "1"),
        ("dns.flags.rcode", "0"),
        ("dns.resp.name", "www.example.com,<Root>"),
        ("dns.resp.type", "1,41"),
        ("dns.resp.class", "0x0001"),
        ("dns.resp.ttl", "0"),
        ("dns.resp.len", "4,0"),
        ("dns.a", "192.0.2.80"),
    ];
    for (f, v) in want {
        assert_eq!(field(&cx, f), v, "{f}");
    }
    let cx = feed(&mut l7, piece(17, 1, false, 53, &hex(CNAME), plain()));
    assert_eq!(field(&cx, "dns.cname"), "www.example.com");
    assert_eq!(field(&cx, "dns.resp.type"), "5,41");
    assert_eq!(
        cx.trace.records[0].summary,
        "Standard query response 0x35e6 A alias.example.com CNAME www.example.com OPT"
    );
    assert_eq!(l7.kind(17, 0), Some(AppKind::Dns));
}

#[test]
fn dns_over_tcp_is_framed_by_its_length() {
    let mut l7 = AppCapture::default();
    let msg = hex(TCP_AAAA);
    // dig +tcp: length 73 and the message in one segment.
    let cx = feed(&mut l7, piece(6, 0, false, 53, &msg, plain()));
    assert_eq!(field(&cx, "dns.length"), "73");
    assert_eq!(field(&cx, "dns.aaaa"), "2001:db8::25");
    // The same message cut in two: the record comes with the second piece.
    let cx = feed(&mut l7, piece(6, 1, false, 53, &msg[..30], plain()));
    assert!(cx.trace.records.is_empty());
    let cx = feed(&mut l7, piece(6, 1, false, 53, &msg[30..], plain()));
    assert_eq!(field(&cx, "dns.id"), "0xa059");
    // Two messages in one piece: two records.
    let two = [msg.clone(), msg.clone()].concat();
    let cx = feed(&mut l7, piece(6, 2, false, 53, &two, plain()));
    assert_eq!(field(&cx, "dns.id"), "0xa059,0xa059");
    // A gap abandons the message under way; the end of the capture reports a cut one.
    let _ = feed(&mut l7, piece(6, 3, false, 53, &msg[..10], plain()));
    let cx = feed(&mut l7, piece(6, 3, false, 53, &msg[..10], Piece { gap_before: true, fin: false }));
    assert!(experts(&cx)[0].starts_with("A gap in the TCP stream cut the DNS message"));
    let mut cx = Context::default();
    l7.finish(&mut cx).unwrap();
    assert!(experts(&cx)[0].starts_with("The capture ended 10 bytes into a DNS message over TCP"));
}

#[test]
fn malformed_dns_shows_what_was_read() {
    let mut l7 = AppCapture::default();
    // The question name is a pointer to itself: tshark shows Wireshark's loop name, length 36.
    let cx = feed(&mut l7, piece(17, 0, true, 53, &hex("123401000001000000000000c00c00010001"), plain()));
    assert_eq!(field(&cx, "dns.qry.name"), "<Name contains a pointer that loops>");
    assert_eq!(field(&cx, "dns.qry.name.len"), "36");
    assert_eq!(field(&cx, "dns.count.labels"), "1");
    assert_eq!(field(&cx, "dns.qry.type"), "1");
    // tshark says nothing more; osilab adds that the message is malformed, at the name.
    let e = &cx.trace.records[0].expert;
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].severity, e[0].group), (Severity::Warning, Group::Malformed));
    assert!(e[0].message.contains("loops"));
    // Cut inside the answer: the question stays, the answer is not shown, an expert says why.
    let cx = feed(&mut l7, piece(17, 1, false, 53, &hex(ANSWER)[..40], plain()));
    assert_eq!(field(&cx, "dns.qry.name"), "www.example.com");
    assert_eq!(field(&cx, "dns.resp.name"), "");
    let e = &cx.trace.records[0].expert[0];
    assert_eq!((e.severity, e.group), (Severity::Error, Group::Malformed));
    assert_eq!(e.offset, Some(54 + 35));
    // A header cut short, an undefined label type: experts, no panic, no error.
    let cx = feed(&mut l7, piece(17, 2, true, 53, &[0x12, 0x34, 1], plain()));
    assert_eq!(cx.trace.records.len(), 1);
    let cx = feed(&mut l7, piece(17, 3, true, 53, &hex("000101000001000000000000806162630000010001"), plain()));
    assert!(experts(&cx)[0].contains("0x80"));
    // An empty datagram: no DNS record, as tshark shows none.
    let cx = feed(&mut l7, piece(17, 4, true, 53, &[], plain()));
    assert!(cx.trace.records.is_empty());
}

const GET: &[u8] = b"GET /file.txt HTTP/1.1\r\nHost: 192.0.2.2:8000\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";
const HEAD_200: &[u8] =
    b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nContent-type: text/plain\r\nContent-Length: 10\r\n\r\n";

#[test]
fn http_fields_on_the_frame_that_completes_the_message() {
    // Port 8000 is not an HTTP port: tshark's heuristic finds the request line.
    let mut l7 = AppCapture::default();
    let cx = feed(&mut l7, piece(6, 0, true, 8000, GET, plain()));
    assert_eq!(l7.kind(6, 0), Some(AppKind::Http));
    assert_eq!(field(&cx, "http.request.method"), "GET");
    assert_eq!(field(&cx, "http.request.uri"), "/file.txt");
    assert_eq!(field(&cx, "http.request.full_uri"), "http://192.0.2.2:8000/file.txt");
    assert_eq!(experts(&cx), ["GET /file.txt HTTP/1.1\\r\\n"]);
    assert_eq!(cx.trace.records[0].expert[0].severity, Severity::Chat);
    // The response's head in one segment, its body in the next: the record comes with the body.
    let cx = feed(&mut l7, piece(6, 0, false, 8000, HEAD_200, plain()));
    assert!(cx.trace.records.is_empty());
    let cx = feed(&mut l7, piece(6, 0, false, 8000, b"0123456789", plain()));
    assert_eq!(field(&cx, "http.response.code"), "200");
    assert_eq!(field(&cx, "http.content_length"), "10");
    assert_eq!(field(&cx, "http.response_for.uri"), "http://192.0.2.2:8000/file.txt");
    assert_eq!(experts(&cx), ["HTTP/1.0 200 OK\\r\\n"]);
}

#[test]
fn a_response_to_head_has_no_body() {
    let mut l7 = AppCapture::default();
    let head = b"HEAD /file.txt HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n";
    let _ = feed(&mut l7, piece(6, 0, true, 80, head, plain()));
    // Content-Length 10 and no body: complete at once (RFC 9110 §9.3.2), as tshark shows it.
    let cx = feed(&mut l7, piece(6, 0, false, 80, HEAD_200, plain()));
    assert_eq!(field(&cx, "http.response.code"), "200");
    // The next response on the connection is read from its first byte.
    let _ = feed(&mut l7, piece(6, 0, true, 80, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", plain()));
    let cx = feed(&mut l7, piece(6, 0, false, 80, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", plain()));
    assert_eq!(
        (field(&cx, "http.response.code"), field(&cx, "http.response_for.uri")),
        ("404".into(), "http://x/".into())
    );
}

#[test]
fn a_close_delimited_body_is_shown_on_the_fin() {
    let mut l7 = AppCapture::default();
    let _ = feed(&mut l7, piece(6, 0, true, 80, b"GET / HTTP/1.0\r\n\r\n", plain()));
    let cx =
        feed(&mut l7, piece(6, 0, false, 80, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello", plain()));
    assert!(cx.trace.records.is_empty());
    let cx = feed(&mut l7, piece(6, 0, false, 80, b" world", plain()));
    assert!(cx.trace.records.is_empty());
    let cx = feed(&mut l7, piece(6, 0, false, 80, b"", Piece { gap_before: false, fin: true }));
    // tshark: http.response.code 200 and the body on the FIN's frame; the request had no Host,
    // so the URI it answers is the target.
    assert_eq!(field(&cx, "http.response.code"), "200");
    assert_eq!(field(&cx, "http.file_data"), "hello world");
    assert_eq!(field(&cx, "http.response_for.uri"), "/");
    // Without a FIN, the end of the capture reports it.
    let _ = feed(&mut l7, piece(6, 1, false, 80, b"HTTP/1.0 200 OK\r\n\r\nabc", plain()));
    let mut cx = Context::default();
    l7.finish(&mut cx).unwrap();
    assert!(experts(&cx)[0].starts_with("The capture ended before the connection closed"));
}

#[test]
fn malformed_http_is_an_expert_item_then_data_until_a_message_starts() {
    let mut l7 = AppCapture::default();
    // A bad header line after a good request line: the request line's fields stay (as tshark).
    let cx = feed(&mut l7, piece(6, 0, true, 80, b"GET / HTTP/1.1\r\nHost x\r\n\r\n", plain()));
    assert_eq!(field(&cx, "http.request.method"), "GET");
    let e = cx.trace.records[0].expert.iter().find(|e| e.group == Group::Malformed).unwrap();
    assert!(e.message.contains("field line"), "{}", e.message);
    // Then data...
    let cx = feed(&mut l7, piece(6, 0, true, 80, b"garbage", plain()));
    assert_eq!((field(&cx, "data.data"), field(&cx, "data.len")), ("67617262616765".into(), "7".into()));
    // ...until a piece begins with a request line.
    let cx = feed(&mut l7, piece(6, 0, true, 80, b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n", plain()));
    assert_eq!(field(&cx, "http.request.uri"), "/again");
    // A bad request line, and a line ending in a bare LF (read, as tshark reads it).
    let cx = feed(&mut l7, piece(6, 1, true, 80, b"GET/index.html\r\nHost: x\r\n\r\n", plain()));
    assert_eq!(field(&cx, "http.request.method"), "");
    assert!(!experts(&cx).is_empty());
    let cx = feed(&mut l7, piece(6, 2, true, 80, b"GET / HTTP/1.1\nHost: x\n\n", plain()));
    assert_eq!(field(&cx, "http.request.method"), "GET");
    // A gap in the middle of a message abandons it.
    let _ = feed(&mut l7, piece(6, 3, true, 80, b"GET / HTTP/1.1\r\nHo", plain()));
    let cx = feed(&mut l7, piece(6, 3, true, 80, b"st: x\r\n\r\n", Piece { gap_before: true, fin: false }));
    assert!(experts(&cx)[0].starts_with("A gap in the TCP stream cut the HTTP message"));
    assert_eq!(field(&cx, "data.len"), "9");
}

#[test]
fn chat_on_port_3000_is_data_then_chat_lines() {
    let mut l7 = AppCapture::default();
    let cx = feed(&mut l7, piece(6, 0, true, 3000, b"JOIN alice\nMSG hel", plain()));
    // tshark shows the bytes as data; osilab's chat reader follows.
    assert_eq!(field(&cx, "data.len"), "18");
    assert_eq!(field(&cx, "chat.command"), "JOIN");
    let cx = feed(&mut l7, piece(6, 0, true, 3000, b"lo room\n", plain()));
    assert_eq!(field(&cx, "chat.text"), "hello room");
    // A CR before the LF breaks the grammar: an expert item, then data only.
    let cx = feed(&mut l7, piece(6, 0, true, 3000, b"LEAVE\r\n", plain()));
    assert!(cx.trace.records.iter().any(|r| r.expert.iter().any(|e| e.group == Group::Malformed)));
    let cx = feed(&mut l7, piece(6, 0, true, 3000, b"LEAVE\n", plain()));
    assert_eq!((field(&cx, "data.len"), field(&cx, "chat.command")), ("6".into(), "".into()));
    // Over UDP each datagram stands alone.
    let cx = feed(&mut l7, piece(17, 0, true, 3000, b"MSG hi", plain()));
    assert!(cx.trace.records.iter().any(|r| !r.expert.is_empty()));
    let cx = feed(&mut l7, piece(17, 0, true, 3000, b"MSG hi\n", plain()));
    assert_eq!(field(&cx, "chat.text"), "hi");
}

#[test]
fn other_ports_are_data() {
    let mut l7 = AppCapture::default();
    let cx = feed(&mut l7, piece(17, 0, true, 4001, b"JOIN bob\n", plain()));
    assert_eq!((field(&cx, "data.data"), field(&cx, "data.len")), ("4a4f494e20626f620a".into(), "9".into()));
    assert_eq!(cx.trace.records[0].title, "Data (9 bytes)");
    let cx = feed(&mut l7, piece(6, 1, true, 9999, b"", Piece { gap_before: false, fin: true }));
    assert!(cx.trace.records.is_empty());
    // No stream index: read on its own.
    let mut p = piece(17, 0, true, 53, &hex(QUERY), plain());
    p.meta.stream = None;
    assert_eq!(field(&feed(&mut l7, p), "dns.id"), "0x19a0");
    assert!(l7.encapsulate(Pdu::bytes(vec![]), &mut Context::default()).is_err());
}

#[test]
fn port_choice_follows_tshark() {
    assert_eq!(AppKind::by_ports(17, 40000, 53), AppKind::Dns);
    assert_eq!(AppKind::by_ports(6, 80, 53), AppKind::Dns, "the lower port first");
    assert_eq!(AppKind::by_ports(6, 8080, 50000), AppKind::Http);
    assert_eq!(AppKind::by_ports(17, 8080, 50000), AppKind::Data, "HTTP's ports are TCP's");
    assert_eq!(AppKind::by_ports(6, 3000, 51000), AppKind::Chat);
    assert_eq!(AppKind::by_ports(6, 0, 8000), AppKind::Data);
    assert!(looks_like_http(b"GET / HTTP/1.1\r\n"));
    assert!(looks_like_http(b"http/1.0 200 OK\r\n"));
    assert!(!looks_like_http(b"GET / HTTP/1.1"), "no line end yet");
    assert!(!looks_like_http(b"HTTP/1.0\r\n"), "a line of exactly 8 characters");
    assert!(!looks_like_http(b"JOIN alice\n"));
    // A port tshark gives to another dissector (11211 memcache) is data, and no heuristic runs.
    assert_eq!(AppKind::by_ports(6, 8000, 11211), AppKind::Data);
    assert!(!AppKind::heuristics_apply(6, 8000, 11211));
    assert!(AppKind::heuristics_apply(6, 8000, 50470));
    let mut l7 = AppCapture::default();
    let mut p = piece(6, 0, true, 8000, GET, plain());
    p.meta.src_port = Some(11211);
    assert_eq!(field(&feed(&mut l7, p), "http.request.method"), "");
}

#[test]
fn tables_and_buffers_are_bounded() {
    let mut l7 = AppCapture::new(AppCaptureConfig { max_streams: 2, max_buffered_total: 100 });
    let _ = feed(&mut l7, piece(6, 0, true, 80, b"GET / HTTP/1.1\r\nHo", plain()));
    let _ = feed(&mut l7, piece(6, 1, true, 80, b"GET", plain()));
    let cx = feed(&mut l7, piece(6, 2, true, 80, b"GET", plain()));
    assert_eq!(l7.streams(), 2);
    assert!(experts(&cx)[0].starts_with("Stream table full (2 conversations): the least recently used, TCP stream 0"));
    // A body larger than the budget: the direction gives up.
    let _ = feed(&mut l7, piece(6, 3, false, 80, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", plain()));
    let cx = feed(&mut l7, piece(6, 3, false, 80, &[b'x'; 200], plain()));
    assert!(experts(&cx).iter().any(|m| m.contains("unfinished message dropped")));
    let cx = feed(&mut l7, piece(6, 3, false, 80, &[b'x'; 10], plain()));
    assert_eq!(field(&cx, "data.len"), "10");
    assert!(!l7.holding() || l7.streams() <= 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Arbitrary pieces on the ports of every application, in any order, with any marks, never
    /// panic and never make L7 fail.
    #[test]
    fn arbitrary_pieces_never_panic(
        pieces in prop::collection::vec(
            (any::<bool>(), 0u32..3, any::<bool>(), 0usize..6, prop::collection::vec(any::<u8>(), 0..120), any::<bool>(), any::<bool>()),
            1..30,
        ),
    ) {
        let ports = [53u16, 80, 3000, 8000, 4001, 5353];
        let mut l7 = AppCapture::new(AppCaptureConfig { max_streams: 3, max_buffered_total: 300 });
        for (tcp, stream, client, port, bytes, gap, fin) in pieces {
            let p = piece(if tcp { 6 } else { 17 }, stream, client, ports[port], &bytes, Piece { gap_before: gap, fin });
            prop_assert!(l7.decapsulate(p, &mut Context::default()).is_ok());
        }
        prop_assert!(l7.finish(&mut Context::default()).is_ok());
    }

    /// Well-formed HTTP and DNS cut at arbitrary places give the same records as uncut.
    #[test]
    fn cutting_the_stream_anywhere_gives_the_same_messages(cut in 1usize..80) {
        let stream = [GET, b"GET /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc".as_slice()].concat();
        let cut = cut.min(stream.len() - 1);
        let mut l7 = AppCapture::default();
        let mut methods = Vec::new();
        for part in [&stream[..cut], &stream[cut..]] {
            let cx = feed(&mut l7, piece(6, 0, true, 80, part, plain()));
            methods.extend(cx.trace.values("http.request.uri").iter().map(|v| v.to_string()));
        }
        prop_assert_eq!(methods, vec!["/file.txt".to_string(), "/b".to_string()]);
        let msg = hex(TCP_AAAA);
        let cut = cut.min(msg.len() - 1);
        let mut l7 = AppCapture::default();
        let mut ids = Vec::new();
        for part in [&msg[..cut], &msg[cut..]] {
            let cx = feed(&mut l7, piece(6, 0, false, 53, part, plain()));
            ids.extend(cx.trace.values("dns.id").iter().map(|v| v.to_string()));
        }
        prop_assert_eq!(ids, vec!["0xa059".to_string()]);
    }
}
