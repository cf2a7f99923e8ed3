//! HTTP in capture mode: one direction of a captured connection, read with the same
//! [`Decoder`](super::message::Decoder), as an observer.
//!
//! - Requests and responses are both read (the decoder takes either start line); the other
//!   direction's requests are handed over with [`HttpApplication::expect_response_to`], so that
//!   a response to HEAD has no content (RFC 9110 §9.3.2) and a response names the URI it answers
//!   (`http.response_for.uri`).
//! - A message's record comes on the frame that completes it, as tshark reports a reassembled
//!   message, with Wireshark's Chat expert item for its first line.
//! - A response delimited by the connection's close (RFC 9112 §6.3 rule 8) is held until the
//!   sender's FIN ([`Piece::fin`]) and recorded on the FIN's frame, as tshark does.
//! - A message that breaks the syntax gets an expert item and the direction gives up: what
//!   follows is shown as data, until a piece of the stream begins with a start line again (as
//!   tshark retries on each segment). A gap in the stream ([`Piece::gap_before`]) abandons the
//!   message under way, with an expert item.
//!
//! Bounded as the decoder is (a message is at most [`super::message::MAX_MESSAGE`] bytes), plus
//! a close-delimited body of at most [`MAX_BODY`].

use super::message::{tshark_text, Framing, Message, Parsed, Request, StartLine, MAX_BODY};
use super::{fields, record, HttpApplication, HttpConfig, HttpKind, L7, TITLE};
use crate::layer::{Context, Data, Meta, Pdu, PduName};
use crate::layers::l4_transport::Piece;
use crate::layers::l7_application::capture::data_record;
use crate::trace::{Direction, Expert, Field, Group, Record, Severity};

/// What an HTTP observer keeps besides the decoder.
#[derive(Debug, Clone, Default)]
pub struct Observer {
    /// Gave up after a malformed message: shown as data until a start line begins a piece.
    lost: bool,
    /// A response delimited by the connection's close, its body so far, and the request it
    /// answers.
    until_close: Option<(Message, Option<Request>)>,
    /// Requests read since the last [`HttpApplication::take_requests`].
    requests: Vec<Request>,
}

/// The methods Wireshark recognises at the start of a request (RFC 9110 §9, RFC 5789, WebDAV):
/// a piece that begins with one of them and a space, or with `HTTP/1.`, begins a message.
const METHODS: [&str; 16] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
];

/// Whether `b` begins like an HTTP/1.x message: a request line's method and space, or a status
/// line's version.
pub fn looks_like_start(b: &[u8]) -> bool {
    b.starts_with(b"HTTP/1.") || METHODS.iter().any(|m| b.starts_with(m.as_bytes()) && b.get(m.len()) == Some(&b' '))
}

/// Wireshark's expert item for a message's first line: "GET / HTTP/1.1\r\n" (Chat/Sequence).
fn chat(m: &Message) -> Expert {
    let line = match &m.start {
        StartLine::Request { method, target, version } => format!("{method} {target} {version}"),
        StartLine::Status { version, code, phrase } => format!("{version} {code} {}", tshark_text(phrase)),
    };
    Expert::new(Severity::Chat, Group::Sequence, format!("{line}\\r\\n"), None)
}

/// The request a message is, for the response to it: its method and full URI.
fn request_of(m: &Message) -> Option<Request> {
    let StartLine::Request { method, target, .. } = &m.start else {
        return None;
    };
    let hosts: Vec<_> = m.headers.iter().filter(|f| f.is("Host")).collect();
    // Wireshark's request URI: the full URI when there is one Host, else the target as sent.
    let uri = match (hosts.as_slice(), target.starts_with('/')) {
        ([h], true) => Some(format!("http://{}{target}", tshark_text(h.value()))),
        _ => Some(target.clone()),
    };
    Some(Request { method: method.clone(), uri })
}

impl HttpApplication {
    /// An HTTP observer of one direction of a captured connection (see [`capture`](self)).
    pub fn capture() -> Self {
        let cfg = HttpConfig { kind: HttpKind::Response { status: 200, chunked: None }, content_type: String::new() };
        HttpApplication {
            cfg,
            rx: super::message::Decoder::lenient(),
            until_close: None,
            observer: Some(Observer::default()),
        }
    }

    /// The requests read since the last call (for the other direction's
    /// [`HttpApplication::expect_response_to`]).
    pub fn take_requests(&mut self) -> Vec<Request> {
        self.observer.as_mut().map(|o| std::mem::take(&mut o.requests)).unwrap_or_default()
    }

    /// A request went the other way: the next final response read here answers it.
    pub fn expect_response_to(&mut self, request: Request) {
        self.rx.expect_response_to(request);
    }

    /// Bytes held for messages not yet whole.
    pub fn buffered(&self) -> usize {
        let close = self.observer.as_ref().and_then(|o| o.until_close.as_ref()).map_or(0, |(m, _)| m.body.len());
        self.rx.received() + close
    }

    /// The record of a whole message read in a capture.
    fn observed_record(m: &Message, at: Option<usize>, answers: Option<Request>, obs: &mut Observer) -> Record {
        let mut r = record(Direction::Up, m, at);
        if m.framing == Framing::UntilClose {
            // Recorded at the sender's FIN: the body is whole, so the fields are shown.
            r.fields = fields(m);
            r.notes.retain(|n| !n.starts_with("Wireshark waits"));
        }
        if let Some(uri) = answers.and_then(|q| q.uri) {
            let f = Field::text("http.response_for.uri", "Request URI", uri);
            match r.fields.iter().position(|f| f.name == "http.file_data") {
                Some(i) => r.fields.insert(i, f),
                None => r.fields.push(f),
            }
        }
        r.expert.insert(0, chat(m));
        if let Some(q) = request_of(m) {
            obs.requests.push(q);
        }
        r
    }

    /// One piece of one direction's byte stream, observed (see [`capture`](self)): the bodies of
    /// the messages it completes go up.
    pub(super) fn observe(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Option<Pdu> {
        let piece = Piece::of(&meta);
        let mut obs = self.observer.take().unwrap_or_default();
        let body = self.observe_piece(&bytes, &meta, piece, &mut obs, cx);
        self.observer = Some(obs);
        body.map(|b| Pdu { data: Data::Bytes(b), meta })
    }

    fn observe_piece(
        &mut self,
        bytes: &[u8],
        meta: &Meta,
        piece: Piece,
        obs: &mut Observer,
        cx: &mut Context,
    ) -> Option<Vec<u8>> {
        let base = (!meta.detached).then_some(meta.offset);
        if piece.gap_before && (self.rx.in_message() || obs.until_close.is_some()) {
            let held = self.buffered();
            let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
            r.summary = format!("[message abandoned] {held} bytes of it were held before a gap");
            r.expert.push(Expert::new(
                Severity::Warning,
                Group::Reassemble,
                format!("A gap in the TCP stream cut the HTTP message under way ({held} bytes held): it is abandoned"),
                None,
            ));
            cx.trace.push(r);
            self.rx.reset();
            obs.until_close = None;
            obs.lost = !looks_like_start(bytes);
        }
        if obs.lost {
            if !looks_like_start(bytes) {
                if !bytes.is_empty() {
                    cx.trace.push(data_record(bytes, cx.detail));
                }
                return None;
            }
            obs.lost = false;
            self.rx.reset();
        }
        if let Some((m, _)) = &mut obs.until_close {
            if m.body.len() + bytes.len() > MAX_BODY {
                let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
                r.summary = "[body too long] a body delimited by the connection's close".into();
                r.expert.push(Expert::new(
                    Severity::Warning,
                    Group::Reassemble,
                    format!("A body delimited by the connection's close exceeds {MAX_BODY} bytes (osilab's limit): not reassembled further"),
                    None,
                ));
                cx.trace.push(r);
                obs.until_close = None;
                obs.lost = true;
                return None;
            }
            m.body.extend_from_slice(bytes);
            if piece.fin {
                if let Some((m, q)) = obs.until_close.take() {
                    let r = HttpApplication::observed_record(&m, None, q, obs);
                    cx.trace.push(r);
                    return Some(m.body);
                }
            }
            return None;
        }
        let start = self.rx.position();
        let mut i = 0;
        let mut body = Vec::new();
        let mut complete = 0;
        loop {
            let began = self.rx.message_start();
            match self.rx.feed(&bytes[i..]) {
                Ok((n, Parsed::Complete(m))) => {
                    i += n;
                    let answers = self.rx.take_answered();
                    if m.framing == Framing::UntilClose {
                        // RFC 9112 §6.3 rule 8: the rest of the stream is its body.
                        obs.until_close = Some((m, answers));
                        if piece.fin {
                            if let Some((m, q)) = obs.until_close.take() {
                                let r = HttpApplication::observed_record(&m, None, q, obs);
                                cx.trace.push(r);
                                body.extend_from_slice(&m.body);
                                complete += 1;
                            }
                        }
                        break;
                    }
                    let head = (self.rx.position() - m.len + m.skipped).checked_sub(start);
                    let r = HttpApplication::observed_record(&m, head, answers, obs);
                    cx.trace.push(r);
                    // Wireshark hands a body to the dissector of its media type; without
                    // Content-Type it is shown as data.
                    if !m.body.is_empty() && m.header("Content-Type").is_none() {
                        cx.trace.push(data_record(&m.body, cx.detail));
                    }
                    body.extend_from_slice(&m.body);
                    complete += 1;
                    if i >= bytes.len() {
                        break;
                    }
                }
                Ok((_, Parsed::Incomplete { .. })) => break,
                Err(e) => {
                    let here = began.map_or(true, |b| b >= start);
                    let offset = e.at.checked_sub(start).filter(|_| here).and_then(|p| base.map(|b| b + p));
                    let err = e.into_error(offset);
                    // What was read of it (its start line, the fields before the bad one) is shown,
                    // as tshark shows a message line by line.
                    let mut r = match self.rx.take_failed() {
                        Some(m) => {
                            let mut r = record(Direction::Up, &m, None);
                            r.fields = fields(&m);
                            r.expert.push(chat(&m));
                            r
                        }
                        None => Record::new(L7, Direction::Up, "http", TITLE, PduName::Data),
                    };
                    r.summary = format!("[malformed HTTP message] {}", r.summary).trim_end().to_string();
                    r.expert.push(Expert::new(Severity::Error, Group::Malformed, err.to_string(), err.offset));
                    r.notes.push("the rest of this direction is shown as data until a message starts a segment".into());
                    cx.trace.push(r);
                    let rest = bytes.get(i..).unwrap_or_default();
                    if !rest.is_empty() {
                        cx.trace.push(data_record(rest, cx.detail));
                    }
                    self.rx.reset();
                    obs.lost = true;
                    break;
                }
            }
        }
        // A piece that only adds to a message under way gets no record: tshark shows HTTP only on
        // the frame that completes the message.
        (complete > 0).then_some(body)
    }

    /// The end of the capture: a message cut short is reported, not an error.
    pub(super) fn observe_finish(&mut self, cx: &mut Context) {
        let obs = self.observer.get_or_insert_with(Observer::default);
        let close = obs.until_close.take();
        let cut = self.rx.cut();
        self.rx.reset();
        let what = match (close, cut) {
            (Some((m, _)), _) => format!(
                "The capture ended before the connection closed: the response whose body runs until then ({} bytes so \
                 far) is not shown, as tshark does not show it",
                m.body.len()
            ),
            (None, Some(cut)) => format!(
                "The capture ended {} bytes into {}: the message is incomplete (RFC 9112 §8)",
                cut.received, cut.what
            ),
            (None, None) => return,
        };
        let mut r = Record::new(L7, Direction::Up, "http", TITLE, PduName::Data);
        r.summary = "[incomplete message at the end of the capture]".into();
        r.expert.push(Expert::new(Severity::Warning, Group::Reassemble, what, None));
        cx.trace.push(r);
    }
}
