//! Capture mode (issue 4, `osilab dissect`): L7 as an analyzer of every conversation in a
//! capture, choosing each one's application by port as tshark 4.0 does by default.
//!
//! [`AppCapture`] takes what [`TransportCapture`](crate::layers::l4_transport::TransportCapture)
//! passes up (one direction of one conversation: `meta.ip_proto`, `meta.stream`, the ports and
//! addresses, and for TCP the [`Piece`] marks) and hands it to an application instance per
//! (transport, stream, direction):
//!
//! | ports (TCP / UDP)                                                          | application |
//! |----------------------------------------------------------------------------|-------------|
//! | 53 (TCP with RFC 1035 §4.2.2's two-byte length, UDP one message each)      | DNS         |
//! | TCP 80, 631, 1900, 2710, 2869, 3128, 3132, 3689, 5985, 8080, 8088, 11371   | HTTP        |
//! | 3000                                                                       | chat        |
//! | anything else                                                              | `data`      |
//!
//! The port table is tshark 4.0.17's (`tshark -G decodes`), tried with the lower port first,
//! then the higher (packet-tcp.c / packet-udp.c `decode_*_ports`); a port that tshark gives to
//! a dissector osilab does not have ([`super::ports`]) makes the conversation data. tshark's
//! HTTP heuristic for TCP is applied too, where no dissector holds either port: a conversation
//! whose segment begins with a line that starts or ends with `HTTP/1.` is read as HTTP from that
//! segment on, both ways (so HTTP on port 8000 is found, as tshark finds it). The chat protocol is osilab's own: tshark shows it
//! as data (and UDP 3000 as DIS).
//!
//! Each instance runs the application's own code in its capture mode
//! ([`HttpApplication::capture`], [`dns::capture`](super::dns::capture), [`ChatApplication::capture`]); malformed
//! data is an expert item, never an error, and the direction it came in is then shown as data
//! (HTTP resumes at a segment that begins a message). Undissected bytes are Wireshark's `data`
//! record (`data.data`, `data.len`).
//!
//! Bounded: at most [`AppCaptureConfig::max_streams`] conversations (the least recently used
//! forgotten, with an expert note), each application's own limits, and at most
//! [`AppCaptureConfig::max_buffered_total`] bytes held for unfinished messages in all: past it,
//! the direction that grew gives up with an expert item.

use super::chat::ChatApplication;
use super::dns::DnsApplication;
use super::http::HttpApplication;
use super::preview;
use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Meta, Pdu, PduName};
use crate::layers::l4_transport::capture::Lru;
use crate::layers::l4_transport::Piece;
use crate::trace::{text_if, Direction, Expert, Field, Group, Record, Severity, Value};

const L7: LayerId = LayerId::Application;

/// The default bound on conversations followed at once.
pub const MAX_STREAMS: usize = 100_000;
/// The default bound on bytes held for unfinished messages, all conversations together.
pub const MAX_BUFFERED_TOTAL: usize = 256 << 20;

/// Settings of [`AppCapture`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppCaptureConfig {
    /// The most conversations followed at once; the least recently used is forgotten.
    pub max_streams: usize,
    /// The most bytes held for unfinished messages in all conversations.
    pub max_buffered_total: usize,
}

impl Default for AppCaptureConfig {
    fn default() -> Self {
        AppCaptureConfig { max_streams: MAX_STREAMS, max_buffered_total: MAX_BUFFERED_TOTAL }
    }
}

/// The application a conversation is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppKind {
    /// DNS (RFC 1035).
    Dns,
    /// HTTP/1.x (RFC 9112).
    Http,
    /// osilab's chat protocol.
    Chat,
    /// Not dissected: Wireshark's `data`.
    Data,
}

/// The IP protocol numbers.
const TCP: u8 = 6;
const UDP: u8 = 17;

/// The application tshark 4.0 registers on one port (`tshark -G decodes`), for the ones osilab
/// reads.
fn port_app(ip_proto: u8, port: u16) -> Option<AppKind> {
    Some(match (ip_proto, port) {
        (TCP | UDP, 53) => AppKind::Dns,
        (TCP, 80 | 631 | 1900 | 2710 | 2869 | 3128 | 3132 | 3689 | 5985 | 8080 | 8088 | 11371) => AppKind::Http,
        (TCP | UDP, 3000) => AppKind::Chat,
        _ => return None,
    })
}

impl AppKind {
    /// tshark's choice by port: the lower port's dissector, else the higher's; `data` when the
    /// dissector is one osilab does not have, or there is none.
    pub fn by_ports(ip_proto: u8, a: u16, b: u16) -> AppKind {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        for p in [lo, hi].into_iter().filter(|&p| p != 0) {
            if let Some(k) = port_app(ip_proto, p) {
                return k;
            }
            if super::ports::registered(ip_proto, p) {
                return AppKind::Data;
            }
        }
        AppKind::Data
    }

    /// Whether tshark tries its heuristic dissectors on the conversation: no dissector holds
    /// either port.
    pub fn heuristics_apply(ip_proto: u8, a: u16, b: u16) -> bool {
        [a, b].iter().all(|&p| port_app(ip_proto, p).is_none() && !super::ports::registered(ip_proto, p))
    }
}

/// tshark's HTTP heuristic for TCP (packet-http.c, `dissect_http_heur_tcp`): the segment holds
/// a whole first line, and it starts with `HTTP/1.` or its last 8 characters do (a request line
/// ends with the version), case-insensitively.
pub fn looks_like_http(b: &[u8]) -> bool {
    let Some(end) = b.iter().position(|&c| c == b'\r' || c == b'\n') else {
        return false;
    };
    let line = &b[..end];
    let starts = |s: &[u8]| s.len() >= 7 && s[..7].eq_ignore_ascii_case(b"HTTP/1.");
    line.len() != 8 && (starts(line) || (line.len() > 8 && starts(&line[line.len() - 8..])))
}

/// Wireshark's record for bytes no dissector took: `data.data` (hex), `data.len`. Without
/// `detail`, no human text ([`Context::detail`]).
pub fn data_record(bytes: &[u8], detail: bool) -> Record {
    data_record_of(bytes.to_vec(), detail)
}

/// [`data_record`] of bytes the caller no longer needs.
pub fn data_record_of(bytes: Vec<u8>, detail: bool) -> Record {
    let n = bytes.len();
    let mut r = Record::new(L7, Direction::Up, "data", text_if(detail, || format!("Data ({n} bytes)")), PduName::Data);
    r.summary = text_if(detail, || format!("{n} bytes: {}", preview(&bytes)));
    r.payload_len = n;
    let shown = text_if(detail, || preview(&bytes));
    r.fields.reserve_exact(2);
    r.fields.push(Field::new("data.data", "Data", Value::Bytes(bytes)).shown(shown));
    r.fields.push(Field::uint("data.len", "Length", n as u64));
    r
}

/// One direction's reader.
#[derive(Debug, Clone)]
enum Reader {
    /// Shown as data.
    Data,
    /// DNS: over UDP each datagram a message, over TCP length-prefixed messages.
    Dns(Box<DnsApplication>),
    /// HTTP.
    Http(Box<HttpApplication>),
    /// The chat protocol over TCP (lines across segments).
    Chat(Box<ChatApplication>),
    /// Gave up after malformed data: shown as data.
    Lost,
}

impl Reader {
    fn new(kind: AppKind, ip_proto: u8) -> Reader {
        match (kind, ip_proto) {
            (AppKind::Dns, _) => Reader::Dns(Box::new(DnsApplication::capture())),
            (AppKind::Http, _) => Reader::Http(Box::new(HttpApplication::capture())),
            (AppKind::Chat, _) => Reader::Chat(Box::new(ChatApplication::capture())),
            (AppKind::Data, _) => Reader::Data,
        }
    }

    fn buffered(&self) -> usize {
        match self {
            Reader::Dns(a) => a.buffered(),
            Reader::Http(h) => h.buffered(),
            Reader::Chat(c) => c.buffered(),
            Reader::Data | Reader::Lost => 0,
        }
    }
}

/// The readers of one conversation, by direction (0: from the lower endpoint).
#[derive(Debug, Clone)]
struct Conversation {
    ip_proto: u8,
    kind: AppKind,
    /// tshark's HTTP heuristic may still claim it (TCP, no dissector on either port).
    heuristic: bool,
    dirs: [Reader; 2],
}

impl Conversation {
    fn new(ip_proto: u8, kind: AppKind) -> Self {
        Conversation {
            ip_proto,
            kind,
            heuristic: false,
            dirs: [Reader::new(kind, ip_proto), Reader::new(kind, ip_proto)],
        }
    }

    /// The conversation of a piece between these ports.
    fn between(ip_proto: u8, sp: u16, dp: u16) -> Self {
        let mut c = Conversation::new(ip_proto, AppKind::by_ports(ip_proto, sp, dp));
        c.heuristic = ip_proto == TCP && AppKind::heuristics_apply(ip_proto, sp, dp);
        c
    }

    fn buffered(&self) -> usize {
        self.dirs.iter().map(Reader::buffered).sum()
    }

    /// One piece of direction `d`'s data: its records in `cx`, and what the application passes
    /// up (a body, chat arguments), if anything.
    fn feed(&mut self, d: usize, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Option<Pdu> {
        if self.heuristic && looks_like_http(&bytes) {
            // tshark's heuristic makes the conversation HTTP from here on.
            *self = Conversation::new(TCP, AppKind::Http);
        }
        let piece = Piece::of(&meta);
        let (mine, other) = split(&mut self.dirs, d);
        match mine {
            Reader::Data | Reader::Lost => {
                if !bytes.is_empty() {
                    cx.trace.push(data_record_of(bytes, cx.detail));
                }
                None
            }
            Reader::Dns(a) => a.decapsulate(Pdu { data: Data::Bytes(bytes), meta }, cx).ok().flatten(),
            Reader::Http(h) => {
                let up = h.decapsulate(Pdu { data: Data::Bytes(bytes), meta }, cx).ok().flatten();
                let requests = h.take_requests();
                if let Reader::Http(o) = other {
                    requests.into_iter().for_each(|q| o.expect_response_to(q));
                }
                up
            }
            Reader::Chat(_) if bytes.is_empty() && !piece.fin => None,
            Reader::Chat(c) => {
                if piece.gap_before {
                    let lost = c.drop_held();
                    if lost > 0 {
                        cx.trace.push(gap_record("chat", "Chat room protocol (osilab)", lost));
                    }
                }
                let udp = self.ip_proto == UDP;
                // tshark has no chat dissector: it shows the bytes as data, and so does the chat
                // reader before its own records.
                if !bytes.is_empty() {
                    cx.trace.push(data_record(&bytes, cx.detail));
                }
                let result = c.decapsulate(Pdu { data: Data::Bytes(bytes), meta }, cx);
                // A datagram is whole: a line without its LF is cut short.
                let end = self.ip_proto == UDP || piece.fin;
                let result = match (result, end) {
                    (Ok(up), true) => c.finish(cx).map(|()| up),
                    (r, _) => r,
                };
                match result {
                    Ok(up) => up,
                    Err(e) => {
                        chat_failed(&e, cx);
                        // Over UDP the next datagram starts afresh; over TCP the stream is lost.
                        *mine = if udp { Reader::Chat(Box::new(ChatApplication::capture())) } else { Reader::Lost };
                        None
                    }
                }
            }
        }
    }

    /// The end of the capture: what each direction still holds is reported.
    fn finish(&mut self, cx: &mut Context) {
        for r in &mut self.dirs {
            match r {
                Reader::Http(h) => {
                    let _ = h.finish(cx);
                }
                Reader::Chat(c) => {
                    if let Err(e) = c.finish(cx) {
                        chat_failed(&e, cx);
                    }
                }
                Reader::Dns(a) => {
                    let _ = a.finish(cx);
                }
                Reader::Data | Reader::Lost => {}
            }
        }
    }
}

/// The two directions' readers, `d`'s first.
fn split(dirs: &mut [Reader; 2], d: usize) -> (&mut Reader, &mut Reader) {
    let (a, b) = dirs.split_at_mut(1);
    if d == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}

/// The record of a message abandoned because of a gap in the TCP stream.
fn gap_record(protocol: &'static str, title: &str, lost: usize) -> Record {
    let mut r = Record::new(L7, Direction::Up, protocol, title, PduName::Data);
    r.summary = format!("[message abandoned] {lost} bytes of it were held before a gap");
    r.expert.push(Expert::new(
        Severity::Warning,
        Group::Reassemble,
        format!("A gap in the TCP stream cut the message under way ({lost} bytes held): it is abandoned"),
        None,
    ));
    r
}

/// A chat line broke the grammar: the expert item goes on the chat record that says so.
fn chat_failed(e: &Error, cx: &mut Context) {
    let x = Expert::new(Severity::Error, Group::Malformed, e.to_string(), e.offset);
    match cx.trace.records.last_mut().filter(|r| r.protocol == "chat") {
        Some(r) => r.expert.push(x),
        None => {
            let mut r = Record::new(L7, Direction::Up, "chat", "Chat room protocol (osilab)", PduName::Data);
            r.expert.push(x);
            cx.trace.push(r);
        }
    }
}

/// L7 in capture mode: every conversation's application data (see the module docs).
#[derive(Debug, Clone)]
pub struct AppCapture {
    cfg: AppCaptureConfig,
    streams: Lru<(u8, u32), Conversation>,
    /// Bytes held for unfinished messages, all conversations together.
    buffered: usize,
}

impl Default for AppCapture {
    fn default() -> Self {
        AppCapture::new(AppCaptureConfig::default())
    }
}

impl AppCapture {
    /// A reader of every conversation's application data, with these bounds.
    pub fn new(cfg: AppCaptureConfig) -> Self {
        AppCapture { cfg, streams: Lru::new(cfg.max_streams), buffered: 0 }
    }

    /// How many conversations are followed now.
    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    /// The application a conversation is read as (after tshark's HTTP heuristic, if it fired).
    pub fn kind(&self, ip_proto: u8, stream: u32) -> Option<AppKind> {
        self.streams.peek(&(ip_proto, stream)).map(|c| c.kind)
    }
}

impl Layer for AppCapture {
    fn id(&self) -> LayerId {
        L7
    }

    /// Capture mode reads; it sends nothing.
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        Err(Error::config(Some(L7), "the capture-mode application layer reads a capture; it does not send"))
    }

    /// One piece of one direction of a conversation, as L4 passes it up in capture mode. Never
    /// an error for what the bytes hold: malformed data is an expert item.
    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(L7)?;
        let ip_proto = meta.ip_proto.unwrap_or(0);
        let (sp, dp) = (meta.src_port.unwrap_or(0), meta.dst_port.unwrap_or(0));
        // Direction 0 runs from the lower endpoint, as L4 numbers them.
        let d = match (meta.src_ip, meta.dst_ip) {
            (Some(s), Some(t)) => usize::from((s, sp) > (t, dp)),
            _ => usize::from(sp > dp),
        };
        let Some(stream) = meta.stream else {
            // No conversation to follow: this piece alone.
            let mut c = Conversation::between(ip_proto, sp, dp);
            let up = c.feed(d, bytes, meta, cx);
            c.finish(cx);
            return Ok(up);
        };
        let key = (ip_proto, stream);
        let first = cx.trace.records.len();
        let mut evicted = None;
        if self.streams.peek(&key).is_none() {
            let c = Conversation::between(ip_proto, sp, dp);
            if let Some(((p, s), old)) = self.streams.insert(key, c) {
                self.buffered = self.buffered.saturating_sub(old.buffered());
                evicted = Some(Expert::new(
                    Severity::Note,
                    Group::Reassemble,
                    format!(
                        "Stream table full ({} conversations): the least recently used, {} stream {s}, was forgotten{}",
                        self.cfg.max_streams,
                        if p == TCP { "TCP" } else { "UDP" },
                        match old.buffered() {
                            0 => String::new(),
                            n => format!(" with {n} bytes of unfinished messages"),
                        }
                    ),
                    None,
                ));
            }
        }
        let Some(c) = self.streams.get_mut(&key) else {
            return Err(Error::config(Some(L7), "the stream table lost an entry it had just made"));
        };
        let before = c.buffered();
        let up = c.feed(d, bytes, meta, cx);
        let mut after = c.buffered();
        if self.buffered + after > self.cfg.max_buffered_total + before {
            // Over the budget: the direction that grew gives up its unfinished message.
            let held = c.dirs[d].buffered();
            c.dirs[d] = Reader::Lost;
            let mut r = Record::new(L7, Direction::Up, "data", "Data", PduName::Data);
            r.summary = format!("[gave up] {held} bytes of an unfinished message dropped");
            r.expert.push(Expert::new(
                Severity::Warning,
                Group::Reassemble,
                format!(
                    "{held} bytes of an unfinished message dropped: {} bytes are held in all, the most osilab holds; \
                     the rest of this direction is shown as data",
                    self.buffered + after - before
                ),
                None,
            ));
            cx.trace.push(r);
            after = c.buffered();
        }
        self.buffered = (self.buffered + after).saturating_sub(before);
        if let Some(e) = evicted {
            match cx.trace.records.get_mut(first) {
                Some(r) => r.expert.push(e),
                None => {
                    let mut r = data_record(&[], cx.detail);
                    r.expert.push(e);
                    cx.trace.push(r);
                }
            }
        }
        Ok(up)
    }

    fn holding(&self) -> bool {
        self.buffered > 0
    }

    /// The end of the capture: unfinished messages are reported as expert items, in stream
    /// order (not an error).
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        let mut all: Vec<(&(u8, u32), &mut Conversation)> = self.streams.entries_mut().collect();
        all.sort_by_key(|(k, _)| **k);
        for (_, c) in all {
            c.finish(cx);
        }
        self.buffered = 0;
        Ok(())
    }
}
