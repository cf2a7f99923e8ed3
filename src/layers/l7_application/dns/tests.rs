//! Tests of the DNS application: known bytes explained from RFC 1035, decoding a hand-written
//! compressed response, every error path, round trips (codec, text, a whole exchange over UDP)
//! and arbitrary input never panicking; and, when tshark is installed, every `dns.*` field
//! compared with what tshark prints.

use super::message::{Answer, Message, Question, RData};
use super::name::{self, Name};
use super::*;
use crate::error::ErrorKind;
use crate::layer::Meta;
use crate::layers::l4_transport::TransportKind;
use crate::stack::{App, Exchange, StackConfig};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Where the message sits in the frame in these tests: Ethernet 14 + IPv4 20 + UDP 8.
const AT: usize = 42;

fn app(kind: DnsKind) -> DnsApplication {
    DnsApplication::new(DnsConfig { id: 0x1a2b, kind }).unwrap()
}

fn down(kind: DnsKind, sdu: &str) -> Result<(Vec<u8>, Context)> {
    let mut cx = Context::default();
    let out = app(kind).encapsulate(Pdu::bytes(sdu.as_bytes().to_vec()), &mut cx)?;
    assert_eq!(out.len(), 1, "one message per SDU");
    let bytes = out.into_iter().next().unwrap().into_bytes(LayerId::Application).unwrap().0;
    Ok((bytes, cx))
}

fn up_pdu(bytes: &[u8], proto: u8) -> Pdu {
    Pdu { data: Data::Bytes(bytes.to_vec()), meta: Meta { offset: AT, ip_proto: Some(proto), ..Meta::default() } }
}

fn up(bytes: &[u8]) -> Result<(String, Context)> {
    let mut cx = Context::default();
    let got = app(DnsKind::Query).decapsulate(up_pdu(bytes, 17), &mut cx)?.expect("one message, one SDU");
    Ok((String::from_utf8(got.into_bytes(LayerId::Application).unwrap().0).unwrap(), cx))
}

fn up_err(bytes: &[u8]) -> Error {
    up(bytes).map(|(t, _)| t).expect_err("must be refused")
}

fn name(s: &str) -> Name {
    Name::parse_text(s).unwrap()
}

/// `www.example. IN AAAA` as dig sends it, ID 0x1a2b: every byte from RFC 1035 §4.1.
const QUERY: [u8; 29] = [
    0x1a, 0x2b, // §4.1.1 ID
    0x01, 0x00, // QR=0 (query), OPCODE=0 (QUERY), AA=0, TC=0, RD=1 | RA=0, Z=0, AD=0, CD=0, RCODE=0
    0x00, 0x01, // QDCOUNT 1
    0x00, 0x00, // ANCOUNT 0
    0x00, 0x00, // NSCOUNT 0
    0x00, 0x00, // ARCOUNT 0
    3, b'w', b'w', b'w', // §4.1.2 QNAME: §3.1 a length octet, then the label
    7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', // the second label
    0,    // the root label ends the name
    0x00, 0x1c, // QTYPE 28, AAAA (RFC 3596 §2.1)
    0x00, 0x01, // QCLASS 1, IN (§3.2.4)
];

/// The response: `www.example.` is a CNAME for `web.example.`, which has AAAA 2001:db8::5.
const RESPONSE: [u8; 75] = [
    0x1a, 0x2b, // ID, copied from the query
    0x81, 0x80, // QR=1, OPCODE=0, AA=0, TC=0, RD=1 | RA=1, Z=0, AD=0, CD=0, RCODE=0 (NOERROR)
    0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, // 1 question, 2 answers, no others
    // 12: the question, as in the query
    3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0, 0x00, 0x1c, 0x00, 0x01,
    // 29: answer 1, owner www.example. as a pointer (§4.1.4: 11 then the 14-bit offset 12)
    0xc0, 0x0c, //
    0x00, 0x05, // TYPE 5, CNAME
    0x00, 0x01, // CLASS IN
    0x00, 0x00, 0x01, 0x2c, // TTL 300
    0x00, 0x06, // RDLENGTH 6: the compressed name below
    3, b'w', b'e', b'b', 0xc0, 0x10, // 41: web, then a pointer into the middle of QNAME: 16, "example"
    // 47: answer 2, owner web.example. as a pointer to the CNAME's target at 41
    0xc0, 0x29, //
    0x00, 0x1c, 0x00, 0x01, // TYPE AAAA, CLASS IN
    0x00, 0x00, 0x01, 0x2c, // TTL 300
    0x00, 0x10, // RDLENGTH 16 (RFC 3596 §2.2)
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, // 2001:db8::5
];

const RESPONSE_TEXT: &str =
    "www.example. IN AAAA\nwww.example. 300 IN CNAME web.example.\nweb.example. 300 IN AAAA 2001:db8::5";

#[test]
fn query_known_bytes() {
    let (bytes, cx) = down(DnsKind::Query, "www.example. IN AAAA").unwrap();
    assert_eq!(bytes, QUERY);
    let r = &cx.trace.records[0];
    assert_eq!((&*r.protocol, r.title.as_str()), ("dns", "Domain Name System (query)"));
    assert_eq!(r.summary, "Standard query 0x1a2b AAAA www.example");
    assert_eq!((r.header.clone(), r.payload_len, r.overhead), (0..12, 17, 12));
    assert_eq!(r.direction, Direction::Down);
    let (text, _) = up(&QUERY).unwrap();
    assert_eq!(text, "www.example. IN AAAA");
}

#[test]
fn response_known_bytes_with_compression() {
    let (bytes, cx) = down(DnsKind::Response, RESPONSE_TEXT).unwrap();
    assert_eq!(bytes, RESPONSE);
    let r = &cx.trace.records[0];
    assert_eq!(r.title, "Domain Name System (response)");
    assert_eq!(r.summary, "Standard query response 0x1a2b AAAA www.example CNAME web.example AAAA 2001:db8::5");
}

#[test]
fn decodes_hand_written_compressed_response_exactly() {
    let p = Message::parse(&RESPONSE, AT).unwrap();
    assert_eq!(p.header.flags, 0x8180);
    assert_eq!(p.pointers, 3, "two owners and the CNAME target");
    assert_eq!(p.rdlengths, vec![6, 16]);
    let m = p.message;
    assert_eq!(m.question, Question { name: name("www.example."), qtype: RrType::Aaaa });
    assert_eq!(
        m.answers,
        vec![
            Answer { name: name("www.example."), ttl: 300, rdata: RData::Cname(name("web.example.")) },
            Answer {
                name: name("web.example."),
                ttl: 300,
                rdata: RData::Aaaa(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5))
            },
        ]
    );
    let (text, cx) = up(&RESPONSE).unwrap();
    assert_eq!(text, RESPONSE_TEXT);
    let r = &cx.trace.records[0];
    assert!(r.checks.iter().all(|c| c.ok));
    let vals = |n: &str| r.fields.iter().filter(|f| f.name == n).map(|f| f.value.to_string()).collect::<Vec<_>>();
    assert_eq!(vals("dns.resp.name"), ["www.example", "web.example"]);
    assert_eq!(vals("dns.resp.len"), ["6", "16"]);
    assert_eq!(vals("dns.cname"), ["web.example"]);
    assert_eq!(vals("dns.aaaa"), ["2001:db8::5"]);
    assert_eq!(vals("dns.flags"), ["0x8180"]);
    assert_eq!(vals("dns.resp.class"), ["0x0001", "0x0001"]);
}

#[test]
fn a_response_fields_in_wire_order() {
    let sdu = "www.example. IN A\nwww.example. 300 IN A 192.0.2.10";
    let (bytes, cx) = down(DnsKind::Response, sdu).unwrap();
    let names: Vec<&str> = cx.trace.records[0].fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "dns.id",
            "dns.flags",
            "dns.flags.response",
            "dns.flags.opcode",
            "dns.flags.authoritative",
            "dns.flags.truncated",
            "dns.flags.recdesired",
            "dns.flags.recavail",
            "dns.flags.z",
            "dns.flags.authenticated",
            "dns.flags.checkdisable",
            "dns.flags.rcode",
            "dns.count.queries",
            "dns.count.answers",
            "dns.count.auth_rr",
            "dns.count.add_rr",
            "dns.qry.name",
            "dns.qry.name.len",
            "dns.count.labels",
            "dns.qry.type",
            "dns.qry.class",
            "dns.resp.name",
            "dns.resp.type",
            "dns.resp.class",
            "dns.resp.ttl",
            "dns.resp.len",
            "dns.a",
        ]
    );
    assert_eq!(cx.trace.records[0].summary, "Standard query response 0x1a2b A www.example A 192.0.2.10");
    assert_eq!(bytes.len(), 12 + 17 + 2 + 10 + 4, "the owner is a 2-byte pointer");
    assert_eq!(up(&bytes).unwrap().0, sdu);
}

#[test]
fn generic_types_round_trip_in_rfc3597_form() {
    let sdu = "x.example. IN TYPE65280\nx.example. 60 IN TYPE65280 \\# 3 616263\nx.example. 0 IN TYPE99 \\# 0";
    let (bytes, cx) = down(DnsKind::Response, sdu).unwrap();
    assert_eq!(up(&bytes).unwrap().0, sdu);
    assert!(cx.trace.records[0].notes.iter().any(|n| n.contains("\\# 3 616263")));
    // RFC 3597 §5: TYPE1 and \# are allowed for known types; the canonical form is the mnemonic.
    let (b2, _) = down(DnsKind::Response, "a. IN TYPE1\na. 1 IN TYPE1 \\# 4 c000020a").unwrap();
    assert_eq!(up(&b2).unwrap().0, "a. IN A\na. 1 IN A 192.0.2.10");
    let (b3, _) = down(DnsKind::Response, "a. IN CNAME\na. 1 IN CNAME \\# 3 01 62 00").unwrap();
    assert_eq!(up(&b3).unwrap().0, "a. IN CNAME\na. 1 IN CNAME b.");
}

#[test]
fn names_escape_and_root() {
    let n = Name::from_labels(vec![b"a.b".to_vec(), b"sp ace\\\x01\xff".to_vec()]).unwrap();
    assert_eq!(n.to_text(), "a\\.b.sp\\032ace\\\\\\001\\255.");
    assert_eq!(Name::parse_text(&n.to_text()).unwrap(), n);
    assert_eq!(Name::root().to_text(), ".");
    assert_eq!(name(".").wireshark(), "<Root>");
    assert_eq!((name(".").wireshark_len(), name(".").wireshark_labels()), (6, 1));
    assert_eq!((name("a.").wireshark_len(), name("a.").wireshark_labels()), (0, 0), "packet-dns.c: one octet counts 0");
    assert_eq!((name("a\\.b.ex.").wireshark_len(), name("a\\.b.ex.").wireshark_labels()), (6, 3));
    let (bytes, _) = down(DnsKind::Query, ". IN A").unwrap();
    assert_eq!(&bytes[12..], [0, 0, 1, 0, 1]);
    assert_eq!(up(&bytes).unwrap().0, ". IN A");
}

#[test]
fn helpers_write_canonical_lines() {
    assert_eq!(question_text("www.example", RrType::Aaaa), "www.example. IN AAAA");
    assert_eq!(question_text("www.example.", RrType::Other(15)), "www.example. IN TYPE15");
    assert_eq!(answer_text("www.example.", 300, RrType::Aaaa, "2001:DB8:0::5"), "www.example. 300 IN AAAA 2001:db8::5");
    assert_eq!(answer_text("www.example", 300, RrType::Cname, "web.example"), "www.example. 300 IN CNAME web.example.");
    assert_eq!(answer_text("a.", 1, RrType::Other(99), "\\# 2 AB cd"), "a. 1 IN TYPE99 \\# 2 abcd");
    let sdu = [question_text("www.example.", RrType::A), answer_text("www.example.", 300, RrType::A, "192.0.2.10")]
        .join("\n");
    let (bytes, _) = down(DnsKind::Response, &sdu).unwrap();
    assert_eq!(up(&bytes).unwrap().0, sdu);
    assert_eq!("aaaa".parse::<RrType>().unwrap(), RrType::Aaaa);
    assert_eq!(RrType::from_number(5), RrType::Cname);
    assert_eq!(RrType::Other(28).number(), 28);
}

#[test]
fn ttl_words_match_wireshark() {
    assert_eq!(ttl_words(300), "5 minutes");
    assert_eq!(ttl_words(0), "0 seconds");
    assert_eq!(ttl_words(3661), "1 hour, 1 minute, 1 second");
    assert_eq!(ttl_words(90000), "1 day, 1 hour");
}

// ---------------------------------------------------------------- errors on the receive path

fn invalid_at(e: &Error) -> (Option<usize>, &str) {
    match &e.kind {
        ErrorKind::Invalid { what, .. } => (e.offset, what.as_str()),
        other => panic!("expected an invalid-content error, got {other:?} ({e})"),
    }
}

fn truncated_at(e: &Error) -> Option<usize> {
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "expected truncation, got {e}");
    e.offset
}

#[test]
fn truncated_header_at_every_length() {
    for n in 0..12 {
        let e = up_err(&QUERY[..n]);
        assert_eq!(e.layer, Some(LayerId::Application));
        assert_eq!(truncated_at(&e), Some(AT + n), "{e}");
    }
}

#[test]
fn every_prefix_of_a_message_is_truncated() {
    for n in 12..RESPONSE.len() {
        let e = up_err(&RESPONSE[..n]);
        let at = truncated_at(&e).unwrap();
        assert!((AT..=AT + n).contains(&at), "prefix {n}: {e}");
    }
    for n in 12..QUERY.len() {
        truncated_at(&up_err(&QUERY[..n]));
    }
}

#[test]
fn counts_beyond_the_data() {
    let mut b = RESPONSE.to_vec();
    b[7] = 3; // ANCOUNT 3, two present
    let e = up_err(&b);
    assert_eq!(truncated_at(&e), Some(AT + RESPONSE.len()));
    assert!(e.to_string().contains("answer 3 of 3"), "{e}");
}

#[test]
fn label_longer_than_63() {
    let mut b = QUERY.to_vec();
    b[16] = 0x40; // "example"'s length octet: 64 has the top bits 01
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + 16), "label length"));
    b[16] = 0x80;
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + 16), "label length"));
}

fn query_with_qname(qname: &[u8]) -> Vec<u8> {
    let mut b = QUERY[..12].to_vec();
    b.extend_from_slice(qname);
    b.extend_from_slice(&[0, 1, 0, 1]);
    b
}

#[test]
fn name_longer_than_255() {
    let mut qname = Vec::new();
    for _ in 0..4 {
        qname.push(63);
        qname.extend_from_slice(&[b'a'; 63]);
    }
    qname.push(0); // 4 × 64 + 1 = 257 octets
    let e = up_err(&query_with_qname(&qname));
    assert_eq!(invalid_at(&e), (Some(AT + 12 + 3 * 64), "domain name length"));
    // 255 exactly is fine: 3 × 64 + 62 + 1.
    let mut ok = Vec::new();
    for _ in 0..3 {
        ok.push(63);
        ok.extend_from_slice(&[b'a'; 63]);
    }
    ok.push(61);
    ok.extend_from_slice(&[b'b'; 61]);
    ok.push(0);
    assert_eq!(ok.len(), 255);
    assert!(up(&query_with_qname(&ok)).is_ok());
}

#[test]
fn forward_pointer() {
    // QNAME is a pointer to offset 14, after itself.
    let b = query_with_qname(&[0xc0, 14, 0]);
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + 12), "compression pointer"));
    // A pointer to itself is a loop of one.
    let e = up_err(&query_with_qname(&[0xc0, 12]));
    assert_eq!(invalid_at(&e), (Some(AT + 12), "compression pointer"));
    assert!(e.to_string().contains("to itself"), "{e}");
}

#[test]
fn pointer_loop() {
    // "a" then a pointer back to the start of the same name: a.a.a.a… for ever.
    let e = up_err(&query_with_qname(&[1, b'a', 0xc0, 12]));
    assert_eq!(invalid_at(&e), (Some(AT + 14), "compression pointer"));
    assert!(e.to_string().contains("loop"), "{e}");
    // Into the middle of its own labels.
    let e = up_err(&query_with_qname(&[2, b'x', b'y', 0xc0, 13]));
    assert!(e.to_string().contains("loop"), "{e}");
}

#[test]
fn pointer_out_of_range() {
    let e = up_err(&query_with_qname(&[0xc1, 0x00]));
    assert_eq!(invalid_at(&e), (Some(AT + 12), "compression pointer"));
    assert!(e.to_string().contains("beyond the message"), "{e}");
    // A pointer whose second octet is missing.
    truncated_at(&up_err(&QUERY[..12].iter().copied().chain([0xc0]).collect::<Vec<_>>()));
}

#[test]
fn too_many_pointers() {
    // Answer 1 (owner: the root) holds a chain of 65 pointers, each to the one before; answer
    // 2's owner points at the last: 66 pointers to follow.
    let mut b = vec![0x1a, 0x2b, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    b.extend_from_slice(&[0, 0, 1, 0, 1]); // question: the root, A, IN
    b.extend_from_slice(&[0, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 130]); // root owner, TYPE65280, TTL 0, RDLENGTH 130
    let start = b.len();
    b.extend_from_slice(&[0xc0, 12]);
    for k in 1..65 {
        let prev = (start + 2 * (k - 1)) as u16;
        b.extend_from_slice(&(0xc000 | prev).to_be_bytes());
    }
    let last = (start + 128) as u16;
    b.extend_from_slice(&(0xc000 | last).to_be_bytes());
    b.extend_from_slice(&[0xff, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    let e = up_err(&b);
    assert!(e.to_string().contains("at most 64 pointers"), "{e}");
}

#[test]
fn bad_rdlength() {
    let sdu = "www.example. IN A\nwww.example. 300 IN A 192.0.2.10";
    let (good, _) = down(DnsKind::Response, sdu).unwrap();
    let len_at = good.len() - 6;
    // A with RDLENGTH 5 and 5 octets present.
    let mut b = good.clone();
    b[len_at + 1] = 5;
    b.push(0);
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + len_at), "DNS RDLENGTH"));
    // AAAA with 4 octets.
    let mut b = good.clone();
    b[len_at - 7] = 28;
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + len_at), "DNS RDLENGTH"));
    // A CNAME whose RDLENGTH says more than its name.
    let mut b = RESPONSE.to_vec();
    b[40] = 7;
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + 39), "DNS RDLENGTH"));
    // RDLENGTH past the end.
    let mut b = good;
    b[len_at + 1] = 9;
    truncated_at(&up_err(&b));
}

#[test]
fn header_checks() {
    let cases: [(usize, u8, usize, &str); 8] = [
        (2, 0x09, 2, "DNS opcode"),              // OPCODE 1 (IQUERY)
        (2, 0x03, 2, "DNS TC (truncated) flag"), // TC
        (3, 0x40, 3, "DNS Z flag"),
        (3, 0x03, 3, "DNS RCODE"), // NXDOMAIN
        (5, 0x00, 4, "DNS QDCOUNT"),
        (5, 0x02, 4, "DNS QDCOUNT"),
        (9, 0x01, 8, "DNS NSCOUNT"),
        (11, 0x01, 10, "DNS ARCOUNT"),
    ];
    for (byte, value, at, what) in cases {
        let mut b = QUERY.to_vec();
        b[byte] = value;
        assert_eq!(invalid_at(&up_err(&b)), (Some(AT + at), what), "byte {byte} = {value:#x}");
    }
    let mut b = QUERY.to_vec();
    b[28] = 3; // QCLASS CH
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + 27), "DNS QCLASS"));
    let mut b = RESPONSE.to_vec();
    b[34] = 4; // answer CLASS HS
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + 33), "DNS answer CLASS"));
    // AD and CD are accepted (and shown).
    let mut b = RESPONSE.to_vec();
    b[3] |= 0x30;
    let (_, cx) = up(&b).unwrap();
    assert_eq!(cx.trace.records[0].field("dns.flags.authenticated").unwrap().value, Value::Bool(true));
}

#[test]
fn trailing_bytes_and_oversize() {
    let mut b = QUERY.to_vec();
    b.push(0);
    assert_eq!(invalid_at(&up_err(&b)), (Some(AT + 29), "DNS message length"));
    let mut big = QUERY.to_vec();
    big.resize(513, 0);
    let e = up_err(&big);
    assert_eq!(invalid_at(&e), (Some(AT + 512), "DNS message length"));
    assert!(e.to_string().contains("512 bytes without EDNS (RFC 1035 §4.2.1)"), "{e}");
}

#[test]
fn high_ttl_reads_as_zero() {
    let mut b = RESPONSE.to_vec();
    b[35] = 0x80; // answer 1's TTL: 0x8000012c
    let (text, cx) = up(&b).unwrap();
    assert!(text.contains("www.example. 0 IN CNAME"), "{text}");
    assert!(cx.trace.records[0].notes.iter().any(|n| n.contains("RFC 2181 §8")));
}

#[test]
fn over_tcp_is_refused() {
    let mut cx = Context::default();
    let e = app(DnsKind::Query).decapsulate(up_pdu(&QUERY, 6), &mut cx).unwrap_err();
    assert_eq!(invalid_at(&e), (Some(AT), "DNS transport"));
    assert!(e.to_string().contains("over UDP only"), "{e}");
    assert!(cx.trace.records[0].notes[0].starts_with("discarded"));
}

#[test]
fn refused_message_still_recorded() {
    let mut b = QUERY.to_vec();
    b[16] = 0x40;
    let mut cx = Context::default();
    assert!(app(DnsKind::Query).decapsulate(up_pdu(&b, 17), &mut cx).is_err());
    let r = &cx.trace.records[0];
    assert_eq!(r.field("dns.id").unwrap().value.to_string(), "0x1a2b");
    assert!(r.notes[0].contains("label length"));
}

// ---------------------------------------------------------------- errors on the send path

fn sdu_err(kind: DnsKind, sdu: &str) -> String {
    let e = down(kind, sdu).map(|_| ()).expect_err(sdu);
    assert_eq!((e.layer, e.offset), (Some(LayerId::Application), None), "{e}");
    assert!(matches!(e.kind, ErrorKind::Invalid { .. }), "{e}");
    e.to_string()
}

#[test]
fn sdu_errors_are_clear() {
    use DnsKind::{Query, Response};
    let cases: &[(DnsKind, &str, &str)] = &[
        (Query, "", "bad SDU line 1"),
        (Query, "www.example IN A", "names are absolute"),
        (Query, "www..example. IN A", "empty label"),
        (Query, "www.example. IN MX", "TYPEnnn"),
        (Query, "www.example. CH A", "class IN"),
        (Query, "www.example. A", "bad SDU line 1"),
        (Query, "www.example. IN A\nwww.example. 1 IN A 192.0.2.1", "bad SDU line 2"),
        (Response, "www.example. IN A\n\nwww.example. 1 IN A 192.0.2.1", "bad SDU line 2: expected an entry"),
        (Response, "www.example. IN A\nwww.example. IN A 192.0.2.1", "bad SDU line 2"),
        (Response, "www.example. IN A\nwww.example. -1 IN A 192.0.2.1", "TTL"),
        (Response, "www.example. IN A\nwww.example. 2147483648 IN A 192.0.2.1", "2147483647"),
        (Response, "www.example. IN A\nwww.example. 1 IN A 192.0.2.256", "not an IPv4 address"),
        (Response, "www.example. IN A\nwww.example. 1 IN A 192.0.2.1 x", "it takes one"),
        (Response, "www.example. IN A\nwww.example. 1 IN AAAA 2001:db8::g", "not an IPv6 address"),
        (Response, "www.example. IN A\nwww.example. 1 IN CNAME web", "CNAME target"),
        (Response, "www.example. IN A\nwww.example. 1 IN TYPE99 abc", "\\# LENGTH HEX"),
        (Response, "www.example. IN A\nwww.example. 1 IN TYPE99 \\# 3 6162", "the length counts the octets"),
        (Response, "www.example. IN A\nwww.example. 1 IN TYPE99 \\# 1 zz", "hex digits"),
        (Response, "www.example. IN A\nwww.example. 1 IN A \\# 3 616263", "4 octets"),
        (Response, "www.example. IN A\nwww.example. 1 IN TYPE05 \\# 0", "TYPEnnn"),
    ];
    for (kind, sdu, want) in cases {
        let e = sdu_err(*kind, sdu);
        assert!(e.contains(want), "{sdu:?}: {e}");
    }
    let label64 = format!("{}.example. IN A", "a".repeat(64));
    assert!(sdu_err(Query, &label64).contains("at most 63 octets"));
    let long = format!("{}. IN A", vec!["b".repeat(63); 4].join("."));
    assert!(sdu_err(Query, &long).contains("at most 255"));
    let mut cx = Context::default();
    let e = app(Query).encapsulate(Pdu::bytes(vec![0xff]), &mut cx).unwrap_err();
    assert!(e.to_string().contains("UTF-8"), "{e}");
}

#[test]
fn over_512_bytes_is_refused() {
    let mut sdu = String::from("www.example. IN AAAA");
    for i in 0..18 {
        sdu.push_str(&format!("\nwww.example. 300 IN AAAA 2001:db8::{i:x}"));
    }
    let e = down(DnsKind::Response, &sdu).unwrap_err();
    assert_eq!((e.layer, e.offset), (Some(LayerId::Application), None));
    assert!(e.to_string().contains("DNS over UDP is limited to 512 bytes without EDNS (RFC 1035 §4.2.1)"), "{e}");
    // 17 answers fit: 29 + 17 × 28 = 505 bytes.
    let fits: String = sdu.lines().take(18).collect::<Vec<_>>().join("\n");
    assert_eq!(down(DnsKind::Response, &fits).unwrap().0.len(), 505);
}

// ---------------------------------------------------------------- round trips

fn ldh_label() -> impl Strategy<Value = Vec<u8>> {
    "[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?".prop_map(String::into_bytes)
}

fn any_label() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..=63)
}

/// Names from a small pool of suffixes, so that compression has work to do.
fn pooled_name() -> impl Strategy<Value = Name> {
    (prop::collection::vec(ldh_label(), 0..3), prop::sample::select(vec!["example.", "example.net.", "net.", "."]))
        .prop_map(|(head, tail)| {
            let mut labels = head;
            labels.extend(name(tail).labels().iter().cloned());
            Name::from_labels(labels).unwrap()
        })
}

fn any_name() -> impl Strategy<Value = Name> {
    prop::collection::vec(any_label(), 0..6).prop_filter_map("at most 255 octets", |l| Name::from_labels(l).ok())
}

fn rr_type() -> impl Strategy<Value = RrType> {
    prop_oneof![Just(RrType::A), Just(RrType::Aaaa), Just(RrType::Cname), any::<u16>().prop_map(RrType::from_number),]
}

fn rdata() -> impl Strategy<Value = RData> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| RData::A(Ipv4Addr::from(a))),
        any::<[u8; 16]>().prop_map(|a| RData::Aaaa(Ipv6Addr::from(a))),
        pooled_name().prop_map(RData::Cname),
        (
            any::<u16>().prop_filter("not A, CNAME or AAAA", |t| ![1, 5, 28].contains(t)),
            prop::collection::vec(any::<u8>(), 0..24)
        )
            .prop_map(|(rtype, data)| RData::Other { rtype, data }),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    (pooled_name(), 0..=message::MAX_TTL, rdata()).prop_map(|(name, ttl, rdata)| Answer { name, ttl, rdata })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn name_text_round_trip(n in any_name()) {
        prop_assert_eq!(Name::parse_text(&n.to_text()).unwrap(), n);
    }

    #[test]
    fn name_wire_round_trip(n in any_name(), lead in prop::collection::vec(any::<u8>(), 0..8)) {
        let mut b = lead.clone();
        name::Compressor::default().emit(&n, &mut b, true);
        let r = name::read(&b, lead.len(), 0).unwrap();
        prop_assert_eq!(r.end, b.len());
        prop_assert_eq!(r.name, n);
    }

    #[test]
    fn codec_round_trip(
        id in any::<u16>(),
        response in any::<bool>(),
        q in (pooled_name(), rr_type()),
        answers in prop::collection::vec(answer(), 0..8),
    ) {
        let flags = if response { 0x8180 } else { 0x0100 };
        let m = Message { id, flags, question: Question { name: q.0, qtype: q.1 }, answers };
        let (bytes, written) = m.emit();
        prop_assume!(bytes.len() <= 512);
        let p = Message::parse(&bytes, AT).unwrap();
        prop_assert_eq!(p.pointers, written);
        prop_assert_eq!(&p.message, &m);
        // And through the text: the canonical SDU parses back to the same message.
        let sdu = text::to_text(&m.question, &m.answers);
        let (q2, a2) = text::parse_sdu(sdu.as_bytes(), DnsKind::Response).unwrap();
        prop_assert_eq!((&q2, &a2), (&m.question, &m.answers));
        // Compression never makes a message longer, and finds every shared owner.
        let plain: usize = 12 + m.question.name.wire_len() + 4
            + m.answers.iter().map(|a| a.name.wire_len() + 10 + match &a.rdata {
                RData::A(_) => 4, RData::Aaaa(_) => 16, RData::Cname(n) => n.wire_len(), RData::Other { data, .. } => data.len(),
            }).sum::<usize>();
        prop_assert!(bytes.len() <= plain);
    }

    #[test]
    fn layer_round_trip(
        response in any::<bool>(),
        q in (pooled_name(), rr_type()),
        answers in prop::collection::vec(answer(), 0..6),
    ) {
        let (kind, answers) = if response { (DnsKind::Response, answers) } else { (DnsKind::Query, vec![]) };
        let sdu = text::to_text(&Question { name: q.0, qtype: q.1 }, &answers);
        match down(kind, &sdu) {
            Ok((bytes, _)) => prop_assert_eq!(up(&bytes).unwrap().0, sdu),
            Err(e) => prop_assert!(e.to_string().contains("512 bytes"), "{}", e),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = up(&b);
    }

    #[test]
    fn damaged_messages_never_panic(flips in prop::collection::vec((0..RESPONSE.len(), any::<u8>()), 1..6), cut in 0..=RESPONSE.len()) {
        let mut b = RESPONSE.to_vec();
        for (i, v) in flips {
            b[i] = v;
        }
        b.truncate(cut.max(1));
        if let Err(e) = up(&b) {
            prop_assert_eq!(e.layer, Some(LayerId::Application));
            let at = e.offset.unwrap();
            prop_assert!((AT..=AT + 512).contains(&at));
        }
    }

    #[test]
    fn arbitrary_sdu_never_panics(s in "[ -~\n]{0,120}", kind in prop_oneof![Just(DnsKind::Query), Just(DnsKind::Response)]) {
        let _ = down(kind, &s);
    }
}

fn udp(app: App) -> StackConfig {
    let mut cfg = StackConfig { app, transport: TransportKind::Udp, ..StackConfig::default() };
    cfg.remote.port = 53;
    cfg
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn exchange_round_trip(
        response in any::<bool>(),
        ipv6 in any::<bool>(),
        q in (pooled_name(), rr_type()),
        answers in prop::collection::vec(answer(), 0..5),
    ) {
        let kind = if response { DnsKind::Response } else { DnsKind::Query };
        let answers = if response { answers } else { vec![] };
        let sdu = text::to_text(&Question { name: q.0, qtype: q.1 }, &answers);
        let mut cfg = udp(App::Dns(kind));
        if ipv6 {
            cfg.local.ip = crate::stack::DOC_IPV6_LOCAL.into();
            cfg.remote.ip = crate::stack::DOC_IPV6_REMOTE.into();
        }
        match Exchange::run(&cfg, sdu.as_bytes()) {
            Ok(x) => {
                prop_assert!(x.delivered_intact(), "{:?}", x.received.error);
                let dns: Vec<_> = x.received.trace.records.iter().filter(|r| r.protocol == "dns").collect();
                prop_assert_eq!(dns.len(), 1);
                prop_assert_eq!(dns[0].at, Some(if ipv6 { 62 } else { 42 }));
            }
            Err(e) => prop_assert!(e.to_string().contains("512 bytes"), "{}", e),
        }
    }
}

#[test]
fn exchange_over_udp_delivers_intact() {
    let x = Exchange::run(&udp(App::Dns(DnsKind::Response)), RESPONSE_TEXT.as_bytes()).unwrap();
    assert!(x.delivered_intact(), "{:?}", x.received.error);
    let r = x.received.trace.records.iter().find(|r| r.protocol == "dns").unwrap();
    assert_eq!(r.at, Some(42));
    assert!(r.summary.starts_with("Standard query response 0x"));
}

#[test]
fn exchange_over_tcp_is_refused_clearly() {
    // The stack refuses the configuration before anything is sent...
    let cfg = StackConfig { app: App::Dns(DnsKind::Query), ..StackConfig::default() };
    let e = Exchange::run(&cfg, b"www.example. IN AAAA").unwrap_err();
    assert_eq!(e.layer, Some(LayerId::Application));
    assert!(e.to_string().contains("carried over UDP"), "{e}");
    // ...and a DNS layer handed a TCP segment's data refuses it too.
    let mut app = DnsApplication::new(DnsConfig { id: 1, kind: DnsKind::Query }).unwrap();
    let mut cx = crate::layer::Context::default();
    let pdu = Pdu {
        data: crate::layer::Data::Bytes(vec![0; 12]),
        meta: crate::layer::Meta { ip_proto: Some(6), ..Default::default() },
    };
    let e = app.decapsulate(pdu, &mut cx).unwrap_err();
    assert!(e.to_string().contains("over UDP only"), "{e}");
}

/// The `dns.*` values of one record, per field, joined as tshark joins occurrences.
fn field_values(r: &Record) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for f in r.fields.iter().filter(|f| f.name.starts_with("dns.")) {
        match out.iter_mut().find(|(n, _)| *n == f.name) {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&f.value.to_string());
            }
            None => out.push((f.name.to_string(), f.value.to_string())),
        }
    }
    out
}

/// Every field osilab reports, compared with `tshark -T fields` on a pcap of the frames (port
/// 53), for a query and responses with CNAME + AAAA, with A, with a generic type and the root.
/// Skips when tshark is not installed.
#[test]
fn fields_match_tshark() {
    if std::process::Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("tshark not installed: skipping the field comparison");
        return;
    }
    let cases = [
        (DnsKind::Query, "www.example. IN AAAA"),
        (DnsKind::Response, RESPONSE_TEXT),
        (DnsKind::Response, "www.example. IN A\nwww.example. 300 IN A 192.0.2.10"),
        (DnsKind::Response, "x.example. IN TYPE65280\nx.example. 3661 IN TYPE65280 \\# 3 616263"),
        (DnsKind::Query, ". IN A"),
        (DnsKind::Query, "a. IN CNAME"),
        (DnsKind::Response, "a\\.b.e-x.example. IN A\na\\.b.e-x.example. 0 IN CNAME ex.\nex. 1 IN A 0.0.0.0"),
        (
            DnsKind::Response,
            "c\\001\\255\\009.x. IN A\nc\\001\\255\\009.x. 0 IN CNAME \\200\\\\y.\n\\200\\\\y. 1 IN A 0.0.0.0",
        ),
    ];
    let dir = std::env::temp_dir().join(format!("osilab-dns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (kind, sdu)) in cases.iter().enumerate() {
        let x = Exchange::run(&udp(App::Dns(*kind)), sdu.as_bytes()).unwrap();
        assert!(x.delivered_intact(), "{sdu}: {:?}", x.received.error);
        let rec = x.received.trace.records.iter().find(|r| r.protocol == "dns").unwrap();
        let ours = field_values(rec);
        let path = dir.join(format!("dns{i}.pcap"));
        let mut sink = crate::pcap::PcapSink::new(Vec::new()).unwrap();
        for f in &x.sent.frames {
            sink.write(f.signal.start, f.without_fcs()).unwrap();
        }
        std::fs::write(&path, sink.into_inner()).unwrap();
        let mut cmd = std::process::Command::new("tshark");
        cmd.arg("-n").arg("-r").arg(&path).args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=a"]);
        cmd.args(["-E", "aggregator=,", "-e", "_ws.malformed", "-e", "_ws.expert.severity"]);
        cmd.args(["-e", "_ws.col.Info"]);
        for (n, _) in &ours {
            cmd.args(["-e", n]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8(out.stdout).unwrap();
        let vals: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
        assert_eq!(vals.len(), ours.len() + 3, "{line}");
        assert_eq!(rec.summary, vals[2], "{sdu}: the Info column");
        assert_eq!(vals[0], "", "{sdu}: tshark finds the frame malformed");
        // PI_WARN = 0x00600000 (epan/proto.h): notes and chats (an unknown type) are fine.
        let worst = vals[1].split(',').filter_map(|s| s.parse::<u32>().ok()).max().unwrap_or(0);
        assert!(worst < 0x0060_0000, "{sdu}: tshark warns (severity {worst:#x})");
        for ((n, v), theirs) in ours.iter().zip(&vals[3..]) {
            assert_eq!(v, theirs, "{sdu}: {n}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
