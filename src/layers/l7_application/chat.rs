//! The chat room's line protocol (the seeds' chat room: a server on TCP port 3000 relays every
//! message to all connected clients).
//!
//! # The protocol
//!
//! This is osilab's own protocol: no RFC defines it and Wireshark has no dissector for it (it
//! shows the bytes as `data`). This section is its definition.
//!
//! A chat connection carries **lines** of UTF-8 text (RFC 3629), each ending in one LF byte
//! (`"\n"`, 0x0A). A client sends three kinds of line to the server, the server sends three kinds
//! to each client:
//!
//! | Line                  | Sent by | Meaning                                            |
//! |-----------------------|---------|----------------------------------------------------|
//! | `JOIN <nick>`         | client  | "call me `<nick>` in the room"                     |
//! | `MSG <text>`          | client  | "say `<text>` to the room"                         |
//! | `LEAVE`               | client  | "I am leaving" (no argument)                       |
//! | `FROM <nick> <text>`  | server  | "`<nick>` said `<text>`" (the relay of a `MSG`)    |
//! | `JOINED <nick>`       | server  | "`<nick>` has joined the room"                     |
//! | `LEFT <nick>`         | server  | "`<nick>` has left the room"                       |
//!
//! ## Grammar (ABNF, RFC 5234)
//!
//! ```abnf
//! chat-line     = client-line / server-line
//! client-line   = join / msg / leave
//! server-line   = from / joined / left
//!
//! join          = %s"JOIN"   SP nick LF
//! msg           = %s"MSG"    SP text LF
//! leave         = %s"LEAVE"  LF
//! from          = %s"FROM"   SP nick SP text LF
//! joined        = %s"JOINED" SP nick LF
//! left          = %s"LEFT"   SP nick LF
//!
//! nick          = 1*nick-char              ; 1 to 32 octets in all
//! text          = text-first *text-char    ; 1 to 1000 octets in all
//! nick-char     = %x21-7E / UTF8-nonascii  ; no SP, no White_Space (see below)
//! text-first    = %x21-7E / UTF8-nonascii  ; anything printable but SP
//! text-char     = SP / text-first
//! UTF8-nonascii = UTF8-2 / UTF8-3 / UTF8-4 ; RFC 3629 §4
//!
//! ; SP = %x20 and LF = %x0A (RFC 5234 Appendix B.1).
//! ```
//!
//! `%s"..."` is RFC 7405's case-sensitive string: a plain `"JOIN"` in RFC 5234 (§2.3) would also
//! match `join` and `Join`, and this protocol's command words are upper case only.
//!
//! Rules ABNF cannot say, stated here:
//! - **Line length**: a line is at most [`MAX_LINE`] = 1100 octets, its LF included. A receiver
//!   refuses a longer line, and refuses to keep buffering once 1100 octets have come with no LF:
//!   that bounds what one connection can make the server hold.
//! - **Lengths count octets, not characters** (in ASCII they are the same; `á` is 2 octets, `😀`
//!   4): a nick is 1 to [`MAX_NICK`] = 32 octets, a text 1 to [`MAX_TEXT`] = 1000 octets. The limit
//!   keeps lines short: the longest legal line, a `FROM` with a 32-octet nick and a 1000-octet text,
//!   is 5 + 32 + 1 + 1000 + 1 = 1039 octets, under the 1100-octet line limit and inside one TCP
//!   segment of a 1500-byte-MTU Ethernet (1448 bytes of payload with TCP timestamps).
//! - **No control characters** anywhere in a line: U+0000–U+001F and U+007F. The ABNF's ranges
//!   leave them out; the only one allowed is the LF that ends the line.
//! - **No CR**: a line ends in LF alone, never CR LF. A CR before the LF is a control character
//!   inside the line and is refused with an error that says so (an osilab choice, stricter than
//!   the "be liberal" of SMTP or HTTP/1.1, so that there is exactly one way to end a line).
//! - **A nick is one word**: besides SP, it holds no character with the Unicode White_Space
//!   property (U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
//! - **Exactly one space** before each argument: `MSG  hi` (two spaces) is refused rather than
//!   read as the text `" hi"`, which is why `text-first` excludes SP. A text may contain spaces
//!   after its first character, a nick never.
//!
//! ## What the layer carries (the SDU)
//!
//! The configured [`ChatCommand`] says which line this end sends; the SDU handed down by the user
//! is the line's **argument**: the nick for `JOIN`, `JOINED`, `LEFT`; the text for `MSG` and `FROM`
//! (the nick of a `FROM` is configuration, [`ChatCommand::From`]); nothing for `LEAVE`.
//! [`encapsulate`](Layer::encapsulate) checks the SDU against the grammar (not UTF-8, empty, too
//! long, a control character, a space in a nick: an error naming L7) and emits
//! `<COMMAND> <argument>\n`.
//!
//! Going up, [`decapsulate`](Layer::decapsulate) reads a byte stream: TCP delivers it in pieces
//! (MSS-sized segments) that need not end at a line's end. The layer buffers the bytes of a line
//! until its LF arrives ([`Layer::holding`] is true meanwhile, and the piece's record says how
//! many bytes are held), parses each complete line, and passes up the argument of each: several
//! lines in one piece give their arguments concatenated, one record per line. For `FROM` the data
//! passed up is the text; the nick is in the record (`chat.nick`).
//!
//! A line that breaks the grammar is an error naming L7, at the byte offset in the frame when the
//! whole line sits in that frame, with no offset when it was put together from several pieces.
//!
//! ## Records
//!
//! Protocol `chat`, title `Chat room protocol (osilab): MSG`, PDU "data", summary like
//! `MSG "Olá, sala!"` or `FROM ana "Olá, sala!"`. The byte ranges teach the line's structure: the
//! **header** is the command word with its space(s) (`"MSG "`, `"FROM ana "`, `"LEAVE"`), the
//! **payload** is the argument (the SDU), the **trailer** is the LF; the overhead is header +
//! trailer. Fields, in wire order (osilab names: Wireshark has no `chat` protocol):
//! `chat.command`, `chat.nick`, `chat.text`, `chat.line_len` (octets, LF included). Going up,
//! each line gets a check `chat.line.status` (grammar and length).
//!
//! Going up, the ranges are positions in the piece of the stream this layer was handed (so that a
//! byte map of the frame shows them). A line completed in this piece but begun in an earlier one
//! is recorded when its LF arrives, with the ranges of the bytes it has in this piece (its header
//! range is empty when the command word came earlier) and a note saying how many pieces it took.
//! Bytes left waiting for their LF get a record titled `Chat room protocol (osilab): partial
//! line`, whose note says how many bytes are held and how many more a line may still take.

use super::preview;
use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Pdu, PduName};
use crate::trace::{Check, Direction, Field, Record};
use serde::Serialize;
use std::fmt;
use std::ops::Range;

/// The most octets one line may take, its LF included; a receiver refuses longer lines and stops
/// buffering a line that reaches this length with no LF.
pub const MAX_LINE: usize = 1100;
/// The most octets of UTF-8 in a nick.
pub const MAX_NICK: usize = 32;
/// The most octets of UTF-8 in a text.
pub const MAX_TEXT: usize = 1000;

/// The name errors give the protocol.
const PROTOCOL: &str = "chat";
/// Record titles start with this.
const TITLE: &str = "Chat room protocol (osilab)";

/// Which line this endpoint sends; the SDU is the line's argument (see each variant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatCommand {
    /// Client: `JOIN <nick>`; the SDU is the nick.
    Join,
    /// Client: `MSG <text>`; the SDU is the text.
    Msg,
    /// Client: `LEAVE`; the SDU is empty.
    Leave,
    /// Server: `FROM <nick> <text>`, relaying `nick`'s message; the SDU is the text.
    From { nick: String },
    /// Server: `JOINED <nick>`; the SDU is the nick.
    Joined,
    /// Server: `LEFT <nick>`; the SDU is the nick.
    Left,
}

impl ChatCommand {
    /// The command word on the wire: `JOIN`, `MSG`, `LEAVE`, `FROM`, `JOINED`, `LEFT`.
    pub fn word(&self) -> &'static str {
        match self {
            ChatCommand::Join => "JOIN",
            ChatCommand::Msg => "MSG",
            ChatCommand::Leave => "LEAVE",
            ChatCommand::From { .. } => "FROM",
            ChatCommand::Joined => "JOINED",
            ChatCommand::Left => "LEFT",
        }
    }

    /// The line that carries `argument` (the SDU), not yet checked against the grammar.
    pub fn line(&self, argument: &str) -> ChatLine {
        let a = argument.to_string();
        match self {
            ChatCommand::Join => ChatLine::Join { nick: a },
            ChatCommand::Msg => ChatLine::Msg { text: a },
            ChatCommand::Leave => ChatLine::Leave,
            ChatCommand::From { nick } => ChatLine::From { nick: nick.clone(), text: a },
            ChatCommand::Joined => ChatLine::Joined { nick: a },
            ChatCommand::Left => ChatLine::Left { nick: a },
        }
    }
}

/// Chat configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatConfig {
    /// The line sent.
    pub command: ChatCommand,
}

/// One line of the chat protocol, without its LF. [`ChatLine::parse`] checks the grammar in the
/// module docs; `Display` writes the wire form (without the LF; [`ChatLine::emit`] adds it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChatLine {
    /// `JOIN <nick>` (client).
    Join { nick: String },
    /// `MSG <text>` (client).
    Msg { text: String },
    /// `LEAVE` (client).
    Leave,
    /// `FROM <nick> <text>` (server).
    From { nick: String, text: String },
    /// `JOINED <nick>` (server).
    Joined { nick: String },
    /// `LEFT <nick>` (server).
    Left { nick: String },
}

impl ChatLine {
    /// Parse one line given without its LF. The error names L7 and what is wrong; its offset is
    /// the byte offset inside `line`.
    pub fn parse(line: &str) -> Result<ChatLine> {
        ChatLine::parse_bytes(line.as_bytes())
    }

    /// As [`ChatLine::parse`], from the bytes on the wire (which may not be UTF-8).
    pub fn parse_bytes(line: &[u8]) -> Result<ChatLine> {
        parse_line(line).map_err(|bad| {
            let at = bad.at;
            bad.into_error(Some(at))
        })
    }

    /// The command word: `JOIN`, `MSG`, `LEAVE`, `FROM`, `JOINED`, `LEFT`.
    pub fn command(&self) -> &'static str {
        match self {
            ChatLine::Join { .. } => "JOIN",
            ChatLine::Msg { .. } => "MSG",
            ChatLine::Leave => "LEAVE",
            ChatLine::From { .. } => "FROM",
            ChatLine::Joined { .. } => "JOINED",
            ChatLine::Left { .. } => "LEFT",
        }
    }

    /// The nick, for the lines that carry one.
    pub fn nick(&self) -> Option<&str> {
        match self {
            ChatLine::Join { nick }
            | ChatLine::From { nick, .. }
            | ChatLine::Joined { nick }
            | ChatLine::Left { nick } => Some(nick),
            ChatLine::Msg { .. } | ChatLine::Leave => None,
        }
    }

    /// The text, for `MSG` and `FROM`.
    pub fn text(&self) -> Option<&str> {
        match self {
            ChatLine::Msg { text } | ChatLine::From { text, .. } => Some(text),
            _ => None,
        }
    }

    /// What the layer carries for this line (its SDU): the text of `MSG` and `FROM`, the nick of
    /// `JOIN`, `JOINED` and `LEFT`, nothing for `LEAVE`.
    pub fn argument(&self) -> &str {
        match self {
            ChatLine::Msg { text } | ChatLine::From { text, .. } => text,
            ChatLine::Join { nick } | ChatLine::Joined { nick } | ChatLine::Left { nick } => nick,
            ChatLine::Leave => "",
        }
    }

    /// Octets before the argument: the command word and its space(s) (`"MSG "`, `"FROM ana "`,
    /// `"LEAVE"`): the record's header.
    pub fn header_len(&self) -> usize {
        match self {
            ChatLine::Leave => "LEAVE".len(),
            ChatLine::From { nick, .. } => "FROM ".len() + nick.len() + 1,
            other => other.command().len() + 1,
        }
    }

    /// Octets on the wire, LF included.
    pub fn wire_len(&self) -> usize {
        self.header_len() + self.argument().len() + 1
    }

    /// The bytes on the wire: the line and its LF. No check: [`ChatLine::parse`] of the result
    /// (without the LF) succeeds when the line follows the grammar.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = self.to_string().into_bytes();
        out.push(b'\n');
        out
    }
}

impl fmt::Display for ChatLine {
    /// The wire form, without the LF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatLine::Leave => f.write_str("LEAVE"),
            ChatLine::From { nick, text } => write!(f, "FROM {nick} {text}"),
            other => write!(f, "{} {}", other.command(), other.argument()),
        }
    }
}

/// A grammar violation at byte `at` of a line; turned into an [`Error`] once it is known where the
/// line sits (in a frame, in a message being sent, or nowhere).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bad {
    at: usize,
    what: String,
    expected: String,
    found: String,
}

impl Bad {
    fn new(at: usize, what: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Bad { at, what: what.into(), expected: expected.into(), found: found.into() }
    }

    fn into_error(self, offset: Option<usize>) -> Error {
        Error::invalid(LayerId::Application, PROTOCOL, offset, self.what, self.expected, self.found)
    }
}

/// The module docs: "No control characters": U+0000–U+001F and U+007F.
fn is_control(c: char) -> bool {
    c <= '\u{1f}' || c == '\u{7f}'
}

/// The error for control character `c` at byte `at` of a line, in `what` (a CR gets its own
/// words: module docs, "No CR").
fn control(at: usize, c: char, what: &str) -> Bad {
    if c == '\r' {
        Bad::new(at, "line end", "\"\\n\" alone: chat lines do not end in CR LF", "CR (0x0d)")
    } else {
        Bad::new(
            at,
            what,
            "no control characters (U+0000–U+001F, U+007F) inside a line",
            format!("control character {}", crate::trace::char_name(c)),
        )
    }
}

const COMMANDS: [&str; 6] = ["JOIN", "MSG", "LEAVE", "FROM", "JOINED", "LEFT"];
const COMMANDS_EXPECTED: &str = "JOIN, MSG or LEAVE (client) or FROM, JOINED or LEFT (server)";

/// The grammar in the module docs, on one line without its LF. Checks run in the order a reader
/// meets them: the length, the encoding, control characters, the command word, its argument.
fn parse_line(line: &[u8]) -> std::result::Result<ChatLine, Bad> {
    // Module docs, "Line length": at most MAX_LINE octets with the LF, so the LF must come by
    // byte MAX_LINE - 1.
    if line.len() >= MAX_LINE {
        return Err(Bad::new(
            MAX_LINE - 1,
            "line length",
            format!("at most {MAX_LINE} bytes, \"\\n\" included"),
            format!("{} bytes", line.len() + 1),
        ));
    }
    // RFC 3629 §4: the line is UTF-8.
    let s = std::str::from_utf8(line).map_err(|e| {
        let at = e.valid_up_to();
        let byte = line.get(at).map_or(String::new(), |b| format!("byte 0x{b:02x}, "));
        Bad::new(at, "encoding", "UTF-8 text (RFC 3629)", format!("{byte}not valid UTF-8"))
    })?;
    // Module docs, "No control characters" and "No CR".
    if let Some((at, c)) = s.char_indices().find(|&(_, c)| is_control(c)) {
        return Err(control(at, c, "character"));
    }
    let (word, rest) = s.split_at(s.find(' ').unwrap_or(s.len()));
    let w = word.len();
    let command = match COMMANDS.iter().find(|&&c| c == word) {
        Some(c) => *c,
        None => {
            let found = if s.is_empty() {
                "an empty line".to_string()
            } else if word.is_empty() {
                "a space".to_string()
            } else {
                preview(word.as_bytes())
            };
            let upper = word.to_ascii_uppercase();
            let expected = match COMMANDS.iter().find(|&&c| c == upper) {
                Some(c) => format!("{c:?}: command words are upper case"),
                None => COMMANDS_EXPECTED.to_string(),
            };
            return Err(Bad::new(0, "command word", expected, found));
        }
    };
    if command == "LEAVE" {
        if rest.is_empty() {
            return Ok(ChatLine::Leave);
        }
        return Err(Bad::new(w, "LEAVE line", "no argument: \"LEAVE\" then \"\\n\"", preview(rest.as_bytes())));
    }
    let wants = if command == "MSG" { "a text" } else { "a nick" };
    let arg = argument(rest, w, command, wants)?;
    let at = w + 1;
    Ok(match command {
        "JOIN" => ChatLine::Join { nick: check_nick(arg, at)?.to_string() },
        "JOINED" => ChatLine::Joined { nick: check_nick(arg, at)?.to_string() },
        "LEFT" => ChatLine::Left { nick: check_nick(arg, at)?.to_string() },
        "MSG" => ChatLine::Msg { text: check_text(arg, at)?.to_string() },
        _ => {
            // FROM SP nick SP text: the nick has no space, so the first space ends it.
            let Some(sp) = arg.find(' ') else {
                return Err(Bad::new(
                    at + arg.len(),
                    "FROM line",
                    "a space and a text after the nick",
                    "the end of the line",
                ));
            };
            let nick = check_nick(&arg[..sp], at)?;
            let text = argument(&arg[sp..], at + sp, "FROM", "a text")?;
            ChatLine::From { nick: nick.to_string(), text: check_text(text, at + sp + 1)?.to_string() }
        }
    })
}

/// `rest` is what follows the command word (or the nick of a FROM) at byte `w`: exactly one SP,
/// then an argument that does not start with SP.
fn argument<'a>(rest: &'a str, w: usize, command: &str, wants: &str) -> std::result::Result<&'a str, Bad> {
    let what = format!("{command} line");
    match rest.strip_prefix(' ') {
        None => Err(Bad::new(w, what, format!("a space and {wants}"), "the end of the line")),
        Some("") => Err(Bad::new(w + 1, what, wants.to_string(), "the end of the line")),
        Some(a) if a.starts_with(' ') => {
            Err(Bad::new(w + 1, what, format!("exactly one space before {wants}"), "a second space"))
        }
        Some(a) => Ok(a),
    }
}

/// Module docs: `nick = 1*nick-char`, 1 to 32 octets, no White_Space. `at` is where it starts.
fn check_nick(nick: &str, at: usize) -> std::result::Result<&str, Bad> {
    if nick.is_empty() {
        return Err(Bad::new(at, "nick", "1 to 32 bytes of UTF-8", "an empty nick"));
    }
    if let Some((i, c)) = nick.char_indices().find(|&(_, c)| is_control(c)) {
        return Err(control(at + i, c, "nick"));
    }
    if let Some((i, c)) = nick.char_indices().find(|&(_, c)| c.is_whitespace()) {
        return Err(Bad::new(
            at + i,
            "nick",
            "one word: no space or other whitespace",
            format!("{} inside {}", crate::trace::char_name(c), preview(nick.as_bytes())),
        ));
    }
    if nick.len() > MAX_NICK {
        return Err(Bad::new(at, "nick", format!("1 to {MAX_NICK} bytes of UTF-8"), format!("{} bytes", nick.len())));
    }
    Ok(nick)
}

/// Module docs: `text = text-first *text-char`, 1 to 1000 octets. `at` is where it starts.
fn check_text(text: &str, at: usize) -> std::result::Result<&str, Bad> {
    if text.is_empty() {
        return Err(Bad::new(at, "text", "1 to 1000 bytes of UTF-8", "an empty text"));
    }
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| is_control(c)) {
        return Err(control(at + i, c, "text"));
    }
    if text.len() > MAX_TEXT {
        return Err(Bad::new(at, "text", format!("1 to {MAX_TEXT} bytes of UTF-8"), format!("{} bytes", text.len())));
    }
    Ok(text)
}

/// The chat application: sends the configured line, receives a stream of lines.
#[derive(Debug, Clone)]
pub struct ChatApplication {
    cfg: ChatConfig,
    /// Received bytes of a line whose LF has not come yet (fewer than [`MAX_LINE`]).
    held: Vec<u8>,
    /// How many pieces of the stream those bytes came in.
    held_pieces: usize,
}

impl ChatApplication {
    /// A chat application, or a config error (the nick of a `FROM` that breaks the grammar).
    pub fn new(cfg: ChatConfig) -> Result<Self> {
        if let ChatCommand::From { nick } = &cfg.command {
            check_nick(nick, 0).map_err(|b| {
                Error::config(
                    Some(LayerId::Application),
                    format!("bad nick {nick:?} for FROM: expected {}, found {}", b.expected, b.found),
                )
            })?;
        }
        Ok(ChatApplication { cfg, held: Vec::new(), held_pieces: 0 })
    }

    /// A chat reader for one direction of a captured connection (`osilab dissect`): it reads
    /// any of the six lines, client's or server's, as [`Layer::decapsulate`] always does; the
    /// configured command only matters for sending.
    pub fn capture() -> Self {
        ChatApplication { cfg: ChatConfig { command: ChatCommand::Msg }, held: Vec::new(), held_pieces: 0 }
    }

    /// Bytes held for a line whose LF has not come (fewer than [`MAX_LINE`]).
    pub fn buffered(&self) -> usize {
        self.held.len()
    }

    /// Forget the line under way (a gap in a captured stream): how many bytes were held.
    pub fn drop_held(&mut self) -> usize {
        self.held_pieces = 0;
        std::mem::take(&mut self.held).len()
    }

    /// The line that carries `sdu`, checked against the grammar (an error naming L7 otherwise).
    fn line_for(&self, sdu: &[u8]) -> Result<ChatLine> {
        let cmd = &self.cfg.command;
        let word = cmd.word();
        let send_err = |what: &str, expected: String, found: String| {
            Error::invalid(LayerId::Application, PROTOCOL, None, what, expected, found)
        };
        let arg = std::str::from_utf8(sdu).map_err(|e| {
            let byte = sdu.get(e.valid_up_to()).map_or(String::new(), |b| format!("byte 0x{b:02x} "));
            send_err(
                "message",
                "UTF-8 text (RFC 3629): chat lines are text".into(),
                format!("{byte}at byte {} of the message, not valid UTF-8", e.valid_up_to()),
            )
        })?;
        if *cmd == ChatCommand::Leave && !arg.is_empty() {
            return Err(send_err("message", "nothing: LEAVE takes no argument".into(), format!("{} bytes", sdu.len())));
        }
        let line = cmd.line(arg);
        // The argument's own limits first, so that a long message is "text too long", not "line
        // too long".
        let checked = match cmd {
            ChatCommand::Leave => Ok(""),
            ChatCommand::Msg | ChatCommand::From { .. } => check_text(arg, line.header_len()),
            _ => check_nick(arg, line.header_len()),
        };
        let h = line.header_len();
        let wire = line.to_string();
        checked.map(|_| ()).and_then(|()| parse_line(wire.as_bytes()).map(|_| ())).map_err(|b| {
            let found = match b.at.checked_sub(h) {
                Some(k) => format!("{} (byte {k} of the message)", b.found),
                None => b.found,
            };
            // "MSG text", but not "MSG MSG line" when the parser already named the command.
            let what = if b.what.starts_with(word) { b.what.to_string() } else { format!("{word} {}", b.what) };
            send_err(&what, b.expected, found)
        })?;
        Ok(line)
    }
}

/// Where a received line's bytes sit in the piece being decapsulated: it starts at `start`, after
/// `before` bytes that came in earlier pieces (when `before > 0`, `start` is 0).
#[derive(Debug, Clone, Copy)]
struct Place {
    start: usize,
    before: usize,
}

impl Place {
    /// Byte `p` of the line, as a position in this piece (0 for bytes of earlier pieces).
    fn map(self, p: usize) -> usize {
        self.start + p.saturating_sub(self.before)
    }

    fn range(self, r: Range<usize>) -> Range<usize> {
        self.map(r.start)..self.map(r.end)
    }
}

/// The record of one line (`place` of its bytes in the PDU this layer handles).
fn line_record(direction: Direction, line: &ChatLine, place: Place) -> Record {
    let mut r =
        Record::new(LayerId::Application, direction, PROTOCOL, format!("{TITLE}: {}", line.command()), PduName::Data);
    let h = line.header_len();
    let a = line.argument().len();
    r.summary = match line {
        ChatLine::Leave => "LEAVE".to_string(),
        ChatLine::Msg { text } => format!("MSG {}", preview(text.as_bytes())),
        ChatLine::From { nick, text } => format!("FROM {nick} {}", preview(text.as_bytes())),
        other => format!("{} {}", other.command(), other.argument()),
    };
    r.header = place.range(0..h);
    r.trailer = Some(place.range(h + a..h + a + 1));
    r.payload_len = a;
    r.overhead = h + 1;
    r.fields.push(Field::text("chat.command", "Command", line.command()));
    if let Some(nick) = line.nick() {
        r.fields.push(Field::text("chat.nick", "Nick", nick));
    }
    if let Some(text) = line.text() {
        r.fields.push(Field::text("chat.text", "Text", text).shown(preview(text.as_bytes())));
    }
    let len = line.wire_len();
    r.fields
        .push(Field::uint("chat.line_len", "Line length", len as u64).shown(format!("{len} bytes, \"\\n\" included")));
    r
}

/// The record of a line that broke the grammar.
fn bad_record(e: &Error, len: usize) -> Record {
    let mut r = Record::new(LayerId::Application, Direction::Up, PROTOCOL, format!("{TITLE}: bad line"), PduName::Data);
    r.summary = format!("bad line ({len} bytes)");
    r.checks.push(Check::new("chat.line.status", "Line grammar and length", false, e.to_string()));
    r.notes.push(format!("discarded: {e}"));
    r
}

impl Layer for ChatApplication {
    fn id(&self) -> LayerId {
        LayerId::Application
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        let (bytes, meta) = sdu.into_bytes(LayerId::Application)?;
        let line = self.line_for(&bytes)?;
        cx.trace.push(line_record(Direction::Down, &line, Place { start: 0, before: 0 }));
        Ok(vec![Pdu { data: Data::Bytes(line.emit()), meta }])
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(LayerId::Application)?;
        let mut delivered = Vec::new();
        let mut lines = 0;
        // The first byte of the current line in this piece.
        let mut start = 0;
        while let Some(nl) = bytes.get(start..).and_then(|rest| rest.iter().position(|&b| b == b'\n')) {
            let end = start + nl;
            let before = self.held.len();
            let pieces = self.held_pieces + 1;
            let mut line = std::mem::take(&mut self.held);
            self.held_pieces = 0;
            line.extend_from_slice(bytes.get(start..end).unwrap_or_default());
            match parse_line(&line) {
                Ok(parsed) => {
                    let mut r = line_record(Direction::Up, &parsed, Place { start, before });
                    r.checks.push(Check::new(
                        "chat.line.status",
                        "Line grammar and length",
                        true,
                        format!("a {} line, {} of at most {MAX_LINE} bytes", parsed.command(), line.len() + 1),
                    ));
                    if before > 0 {
                        r.notes.push(format!(
                            "line put together from {pieces} pieces of the byte stream: its first {before} bytes \
                             came earlier; the byte ranges are those of its bytes in this piece"
                        ));
                    }
                    cx.trace.push(r);
                    delivered.extend_from_slice(parsed.argument().as_bytes());
                    lines += 1;
                }
                Err(bad) => {
                    // An offset in the frame only when the whole line sits in this one.
                    let offset = (before == 0).then(|| meta.offset.saturating_add(start).saturating_add(bad.at));
                    let e = bad.into_error(offset);
                    cx.trace.push(bad_record(&e, line.len() + 1));
                    return Err(e);
                }
            }
            start = end + 1;
        }
        let rest = bytes.get(start..).unwrap_or_default();
        if !rest.is_empty() {
            let before = self.held.len();
            self.held.extend_from_slice(rest);
            self.held_pieces += 1;
            let n = self.held.len();
            // Module docs, "Line length": no unbounded buffering.
            if n >= MAX_LINE {
                let offset = (before == 0).then(|| meta.offset.saturating_add(start).saturating_add(MAX_LINE - 1));
                let e = Bad::new(
                    MAX_LINE - 1,
                    "line length",
                    format!("\"\\n\" within {MAX_LINE} bytes"),
                    format!("{n} bytes and no \"\\n\" yet"),
                )
                .into_error(offset);
                self.held.clear();
                self.held_pieces = 0;
                cx.trace.push(bad_record(&e, n));
                return Err(e);
            }
            let mut r = Record::new(
                LayerId::Application,
                Direction::Up,
                PROTOCOL,
                format!("{TITLE}: partial line"),
                PduName::Data,
            );
            r.summary = format!("partial line, {n} bytes held");
            r.notes.push(format!(
                "waiting for at most {} more bytes: the line's \"\\n\" has not come yet ({n} bytes held from {} \
                 pieces; a line is at most {MAX_LINE} bytes)",
                MAX_LINE - n,
                self.held_pieces
            ));
            cx.trace.push(r);
        }
        // An empty piece (the end of the stream, a FIN) carries no line: nothing to show, as
        // tshark shows nothing above TCP for a bare FIN.
        if lines == 0 {
            return Ok(None);
        }
        Ok(Some(Pdu { data: Data::Bytes(delivered), meta }))
    }

    fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// The connection ended: a line without its LF was cut short.
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let n = self.held.len();
        self.held.clear();
        let mut r = Record::new(
            LayerId::Application,
            Direction::Up,
            PROTOCOL,
            format!("{TITLE}: cut-short line"),
            PduName::Data,
        );
        r.summary = format!("the stream ended {n} bytes into a line, before its \"\\n\"");
        r.checks.push(Check::new(
            "chat.line.status",
            "Line",
            false,
            format!("{n} bytes with no LF at the end of the stream"),
        ));
        cx.trace.push(r);
        Err(Error::truncated(
            LayerId::Application,
            PROTOCOL,
            None,
            "chat line (the stream ended before its \"\\n\")",
            n + 1,
            n,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::layer::Meta;
    use crate::stack::{App, Exchange, StackConfig};
    use crate::trace::Value;
    use proptest::prelude::*;

    fn app(command: ChatCommand) -> ChatApplication {
        ChatApplication::new(ChatConfig { command }).unwrap()
    }

    fn from(nick: &str) -> ChatCommand {
        ChatCommand::From { nick: nick.into() }
    }

    /// Encapsulate `sdu`: the wire bytes and the record.
    fn send(command: ChatCommand, sdu: &[u8]) -> Result<(Vec<u8>, Record)> {
        let mut cx = Context::default();
        let mut pdus = app(command).encapsulate(Pdu::bytes(sdu.to_vec()), &mut cx)?;
        assert_eq!(pdus.len(), 1);
        assert_eq!(cx.trace.records.len(), 1);
        let (bytes, _) = pdus.remove(0).into_bytes(LayerId::Application)?;
        Ok((bytes, cx.trace.records.remove(0)))
    }

    /// A piece of the stream at byte `offset` of its frame.
    fn piece(bytes: &[u8], offset: usize) -> Pdu {
        Pdu { data: Data::Bytes(bytes.to_vec()), meta: Meta { offset, ..Meta::default() } }
    }

    /// Feed `pieces` to a receiver: what each returned, and the trace.
    fn receive(pieces: &[&[u8]]) -> (ChatApplication, Vec<Result<Option<Vec<u8>>>>, Context) {
        let mut rx = app(ChatCommand::Msg);
        let mut cx = Context::default();
        let out = pieces
            .iter()
            .map(|p| {
                rx.decapsulate(piece(p, 66), &mut cx)
                    .map(|o| o.map(|pdu| pdu.into_bytes(LayerId::Application).unwrap().0))
            })
            .collect();
        (rx, out, cx)
    }

    fn text(r: &Record, name: &str) -> Option<String> {
        r.field(name).map(|f| f.value.to_string())
    }

    #[test]
    fn known_bytes_msg_ola_sala() {
        let (wire, r) = send(ChatCommand::Msg, "Olá, sala!".as_bytes()).unwrap();
        // "MSG" SP, then "Olá, sala!" in UTF-8 (á = U+00E1 = C3 A1, RFC 3629 §3), then LF.
        assert_eq!(
            wire,
            [0x4d, 0x53, 0x47, 0x20, 0x4f, 0x6c, 0xc3, 0xa1, 0x2c, 0x20, 0x73, 0x61, 0x6c, 0x61, 0x21, 0x0a]
        );
        assert_eq!(r.protocol, "chat");
        assert_eq!(r.title, "Chat room protocol (osilab): MSG");
        assert_eq!(r.pdu, PduName::Data);
        assert_eq!(r.summary, "MSG \"Olá, sala!\"");
        assert_eq!((r.header.clone(), r.payload_len, r.trailer.clone(), r.overhead), (0..4, 11, Some(15..16), 5));
        assert_eq!(r.pdu_len(), wire.len());
        let names: Vec<&str> = r.fields.iter().map(|f| &*f.name).collect();
        assert_eq!(names, ["chat.command", "chat.text", "chat.line_len"]);
        assert_eq!(text(&r, "chat.text").as_deref(), Some("Olá, sala!"));
        assert_eq!(r.field("chat.line_len").unwrap().value, Value::Uint(16));
        // And back up.
        let (rx, out, cx) = receive(&[&wire]);
        assert_eq!(out[0].as_ref().unwrap().as_deref(), Some("Olá, sala!".as_bytes()));
        assert!(!rx.holding());
        let up = &cx.trace.records[0];
        assert_eq!((up.direction, up.header.clone(), up.trailer.clone()), (Direction::Up, 0..4, Some(15..16)));
        assert!(up.checks.iter().all(|c| c.ok && c.name == "chat.line.status"));
    }

    #[test]
    fn every_command_both_ways() {
        // (command, SDU, wire, header, nick, text)
        type Case = (ChatCommand, &'static str, &'static str, Range<usize>, Option<&'static str>, Option<&'static str>);
        let cases: [Case; 6] = [
            (ChatCommand::Join, "ana", "JOIN ana\n", 0..5, Some("ana"), None),
            (ChatCommand::Msg, "Olá, sala!", "MSG Olá, sala!\n", 0..4, None, Some("Olá, sala!")),
            (ChatCommand::Leave, "", "LEAVE\n", 0..5, None, None),
            (from("ana"), "Olá, sala!", "FROM ana Olá, sala!\n", 0..9, Some("ana"), Some("Olá, sala!")),
            (ChatCommand::Joined, "bruno", "JOINED bruno\n", 0..7, Some("bruno"), None),
            (ChatCommand::Left, "bruno", "LEFT bruno\n", 0..5, Some("bruno"), None),
        ];
        for (command, sdu, wire, header, nick, txt) in cases {
            let word = command.word();
            let (bytes, down) = send(command, sdu.as_bytes()).unwrap();
            assert_eq!(bytes, wire.as_bytes(), "{word}");
            let n = wire.len();
            assert_eq!(down.header, header, "{word}");
            assert_eq!(down.payload_len, sdu.len(), "{word}");
            assert_eq!(down.trailer, Some(n - 1..n), "{word}");
            assert_eq!(down.overhead, header.len() + 1, "{word}");
            let (_, out, cx) = receive(&[wire.as_bytes()]);
            assert_eq!(out[0].as_ref().unwrap().as_deref(), Some(sdu.as_bytes()), "{word}");
            let up = &cx.trace.records[0];
            for r in [&down, up] {
                assert_eq!(text(r, "chat.command").as_deref(), Some(word));
                assert_eq!(text(r, "chat.nick").as_deref(), nick, "{word}");
                assert_eq!(text(r, "chat.text").as_deref(), txt, "{word}");
                assert_eq!(r.field("chat.line_len").unwrap().value, Value::Uint(n as u64));
                assert_eq!(r.title, format!("Chat room protocol (osilab): {word}"));
            }
            assert_eq!((up.header.clone(), up.trailer.clone()), (down.header.clone(), down.trailer.clone()));
            // The line type says the same.
            let line = ChatLine::parse(wire.trim_end_matches('\n')).unwrap();
            assert_eq!(line.command(), word);
            assert_eq!((line.nick(), line.text(), line.argument()), (nick, txt, sdu));
            assert_eq!(line.to_string() + "\n", wire);
            assert_eq!(line.emit(), wire.as_bytes());
            assert_eq!(line.wire_len(), n);
        }
        assert_eq!(send(from("ana"), "Olá, sala!".as_bytes()).unwrap().1.summary, "FROM ana \"Olá, sala!\"");
        assert_eq!(send(ChatCommand::Join, b"ana").unwrap().1.summary, "JOIN ana");
        assert_eq!(send(ChatCommand::Leave, b"").unwrap().1.summary, "LEAVE");
    }

    #[test]
    fn limits_are_octets_and_inclusive() {
        let nick = "á".repeat(16); // 32 octets, 16 characters
        assert!(ChatLine::parse(&format!("JOIN {nick}")).is_ok());
        assert!(ChatLine::parse(&format!("JOIN {nick}x")).is_err());
        let longest = ChatLine::From { nick: "n".repeat(MAX_NICK), text: "t".repeat(MAX_TEXT) };
        assert_eq!(longest.wire_len(), 1039);
        assert!(longest.wire_len() <= MAX_LINE);
        assert_eq!(ChatLine::parse(&longest.to_string()).unwrap(), longest);
        assert!(send(ChatCommand::Msg, "😀".repeat(250).as_bytes()).is_ok());
        // Spaces inside a text are fine, and so is a non-ASCII space at its start.
        assert!(ChatLine::parse("MSG a  b ").is_ok());
        assert!(ChatLine::parse("MSG \u{a0}x").is_ok());
    }

    /// The error a line gives inside a frame: kind Invalid, layer L7, offset `66 + at`.
    fn bad_line(line: &[u8]) -> Error {
        let mut wire = line.to_vec();
        wire.push(b'\n');
        let (rx, out, cx) = receive(&[&wire]);
        let e = out.into_iter().next().unwrap().unwrap_err();
        assert!(!rx.holding());
        assert_eq!(e.layer, Some(LayerId::Application), "{e}");
        assert!(matches!(e.kind, ErrorKind::Invalid { .. }), "{e}");
        assert!(e.to_string().starts_with("L7 application (chat) at byte "), "{e}");
        let r = cx.trace.records.last().unwrap();
        assert!(r.checks.iter().any(|c| !c.ok), "a failed check is recorded");
        // The same from ChatLine::parse_bytes, with the offset in the line.
        let direct = ChatLine::parse_bytes(line).unwrap_err();
        assert_eq!(direct.offset.map(|o| o + 66), e.offset);
        e
    }

    #[test]
    fn each_grammar_violation_is_an_l7_error_at_its_byte() {
        let cases: [(&[u8], usize, &str); 22] = [
            (b"msg hi", 0, "\"MSG\": command words are upper case"),
            (b"Join ana", 0, "\"JOIN\": command words are upper case"),
            (b"HELLO ana", 0, "JOIN, MSG or LEAVE"),
            (b"", 0, "an empty line"),
            (b" MSG hi", 0, "a space"),
            (b"MSG", 3, "a space and a text"),
            (b"JOIN", 4, "a space and a nick"),
            (b"MSG ", 4, "expected a text, found the end of the line"),
            (b"LEAVE now", 5, "no argument"),
            (b"LEAVE ", 5, "no argument"),
            (b"MSG  hi", 4, "exactly one space"),
            (b"JOIN  ana", 5, "exactly one space"),
            (b"FROM ana  hi", 9, "exactly one space"),
            (b"FROM ana", 8, "a space and a text after the nick"),
            (b"JOIN ana maria", 8, "U+0020"),
            (b"JOINED ana\xc2\xa0maria", 10, "U+00A0"),
            (b"MSG tab\there", 7, "control character U+0009"),
            (b"MSG del\x7f", 7, "control character U+007F"),
            (b"MSG hi\r", 6, "CR LF"),
            (b"LEAVE\r", 5, "CR LF"),
            (b"MSG ol\xe1", 6, "byte 0xe1, not valid UTF-8"),
            (b"MSG \xff", 4, "not valid UTF-8"),
        ];
        for (line, at, says) in cases {
            let e = bad_line(line);
            assert_eq!(e.offset, Some(66 + at), "{:?}: {e}", String::from_utf8_lossy(line));
            assert!(e.to_string().contains(says), "{:?}: {e}", String::from_utf8_lossy(line));
        }
        // Too long: nick, text, line.
        let e = bad_line(format!("JOIN {}", "n".repeat(33)).as_bytes());
        assert_eq!(e.offset, Some(66 + 5));
        assert!(e.to_string().contains("1 to 32 bytes of UTF-8, found 33 bytes"), "{e}");
        let e = bad_line(format!("FROM ana {}", "t".repeat(1001)).as_bytes());
        assert_eq!(e.offset, Some(66 + 9));
        assert!(e.to_string().contains("found 1001 bytes"), "{e}");
        let e = bad_line(format!("MSG {}", "t".repeat(1096)).as_bytes());
        assert_eq!(e.offset, Some(66 + 1099));
        assert!(e.to_string().contains("at most 1100 bytes, \"\\n\" included, found 1101 bytes"), "{e}");
        // A LF inside a &str given to parse is a control character like any other.
        assert!(ChatLine::parse("MSG a\nb").unwrap_err().to_string().contains("U+000A"));
    }

    #[test]
    fn a_partial_line_is_held_and_refused_past_the_limit() {
        let (rx, out, cx) = receive(&[b"MSG ", &[b'x'; 600]]);
        assert!(matches!(out[..], [Ok(None), Ok(None)]));
        assert!(rx.holding());
        let note = &cx.trace.records[1].notes[0];
        assert!(
            note.contains("waiting for at most 496 more bytes") && note.contains("604 bytes held from 2"),
            "{note}"
        );
        // 1100 bytes and no LF: refused, in one piece with the offset, across pieces without.
        let (rx, out, _) = receive(&[&[b'x'; 1100]]);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.offset, Some(66 + 1099), "{e}");
        assert!(!rx.holding(), "nothing is kept after the error");
        let (_, out, _) = receive(&[b"MSG ", &[b'x'; 1096]]);
        assert!(out[0].as_ref().unwrap().is_none());
        let e = out[1].as_ref().unwrap_err();
        assert_eq!((e.layer, e.offset), (Some(LayerId::Application), None), "{e}");
        assert!(e.to_string().contains("found 1100 bytes and no \"\\n\" yet"), "{e}");
        // 1099 bytes held is still a line that may end.
        let (_, out, _) = receive(&[&[b'x'; 1099]]);
        assert!(out[0].as_ref().unwrap().is_none());
    }

    #[test]
    fn a_line_split_byte_by_byte_is_delivered_when_its_lf_comes() {
        let wire = "FROM ana Olá\n".as_bytes();
        let pieces: Vec<&[u8]> = wire.chunks(1).collect();
        let (rx, out, cx) = receive(&pieces);
        for o in &out[..wire.len() - 1] {
            assert_eq!(o.as_ref().unwrap(), &None);
        }
        assert_eq!(out.last().unwrap().as_ref().unwrap().as_deref(), Some("Olá".as_bytes()));
        assert!(!rx.holding());
        let last = cx.trace.records.last().unwrap();
        // Only the LF is in the last piece: no header bytes here, the trailer is byte 0.
        assert_eq!((last.header.clone(), last.trailer.clone(), last.payload_len), (0..0, Some(0..1), 4));
        assert!(last.notes[0].contains("14 pieces") && last.notes[0].contains("first 13 bytes"), "{:?}", last.notes);
        assert_eq!(text(last, "chat.nick").as_deref(), Some("ana"));
        // The header split in two: "FR" then "OM ana Olá\n": the header's rest is 0..7.
        let (_, _, cx) = receive(&[&wire[..2], &wire[2..]]);
        assert_eq!(cx.trace.records[1].header, 0..7);
        assert_eq!(cx.trace.records[1].trailer, Some(11..12));
        // A bad line across pieces: no offset in any one frame.
        let (_, out, _) = receive(&[b"ms", b"g hi\n"]);
        assert_eq!(out[1].as_ref().unwrap_err().offset, None);
    }

    #[test]
    fn several_lines_in_one_piece_are_delivered_together_one_record_each() {
        let (rx, out, cx) = receive(&[b"JOIN ana\nMSG oi\nLEAVE\nMSG pa", b"rtial\n"]);
        assert_eq!(out[0].as_ref().unwrap().as_deref(), Some(&b"anaoi"[..]));
        assert_eq!(out[1].as_ref().unwrap().as_deref(), Some(&b"partial"[..]));
        assert!(!rx.holding());
        let r = &cx.trace.records;
        let titles: Vec<&str> = r.iter().map(|r| r.title.rsplit(": ").next().unwrap()).collect();
        assert_eq!(titles, ["JOIN", "MSG", "LEAVE", "partial line", "MSG"]);
        assert_eq!((r[1].header.clone(), r[1].trailer.clone()), (9..13, Some(15..16)));
        assert_eq!((r[2].header.clone(), r[2].trailer.clone()), (16..21, Some(21..22)));
        // A bad second line names its own byte: 66 + 9 (line start) + 0.
        let (_, out, _) = receive(&[b"JOIN ana\nmsg oi\n"]);
        assert_eq!(out[0].as_ref().unwrap_err().offset, Some(66 + 9));
    }

    #[test]
    fn send_path_errors_name_l7_and_the_message_byte() {
        let cases: [(ChatCommand, &[u8], &str); 9] = [
            (ChatCommand::Msg, b"ol\xe1", "byte 0xe1 at byte 2 of the message, not valid UTF-8"),
            (ChatCommand::Msg, b"", "empty text"),
            (ChatCommand::Join, b"", "empty nick"),
            (ChatCommand::Leave, b"bye", "LEAVE takes no argument"),
            (ChatCommand::Join, b"ana maria", "(byte 3 of the message)"),
            (ChatCommand::Msg, b" hi", "exactly one space"),
            (ChatCommand::Msg, b"two\nlines", "U+000A (byte 3 of the message)"),
            (from("ana"), b"oi\r", "CR"),
            (ChatCommand::Left, &[b'n'; 33], "found 33 bytes"),
        ];
        for (command, sdu, says) in cases {
            let e = send(command, sdu).unwrap_err();
            assert_eq!((e.layer, e.offset), (Some(LayerId::Application), None), "{e}");
            assert!(e.to_string().contains(says), "{e}");
        }
        let e = send(ChatCommand::Msg, &[b'x'; 5000]).unwrap_err();
        assert!(e.to_string().contains("1 to 1000 bytes of UTF-8, found 5000 bytes"), "{e}");
        // A FROM's nick is configuration.
        for nick in ["", "a b", "n\u{2003}n", &"n".repeat(33), "a\tb"] {
            let e = ChatApplication::new(ChatConfig { command: from(nick) }).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Config(_)) && e.layer == Some(LayerId::Application), "{e}");
        }
    }

    #[test]
    fn exchange_over_tcp_delivers_a_text_bigger_than_one_segment() {
        let cfg = StackConfig { app: App::Chat(ChatConfig { command: from("ana") }), mtu: 576, ..Default::default() };
        let message = "Olá, sala! ".repeat(83); // 996 bytes
        assert!(message.len() > cfg.tcp_payload_per_segment());
        let x = Exchange::run(&cfg, message.as_bytes()).unwrap();
        assert!(x.sent.frames.len() >= 2);
        assert!(x.delivered_intact(), "{:?}", x.received.error);
        let chat: Vec<&Record> = x.received.trace.layer(LayerId::Application).collect();
        assert_eq!(chat.first().unwrap().title, "Chat room protocol (osilab): partial line");
        let last = chat.last().unwrap();
        assert_eq!(text(last, "chat.nick").as_deref(), Some("ana"));
        assert!(last.notes.iter().any(|n| n.contains("put together from")), "{:?}", last.notes);
        // The frame with the line's start carries the header at the start of the TCP payload.
        let down = x.sent.trace.layer(LayerId::Application).next().unwrap();
        assert_eq!(down.header, 0..9);
    }

    fn nick() -> impl Strategy<Value = String> {
        "[^\\s\\x00-\\x1f\\x7f]{1,8}"
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        "[^ \\x00-\\x1f\\x7f][^\\x00-\\x1f\\x7f]{0,249}"
    }

    /// A command and an SDU it accepts.
    fn valid() -> impl Strategy<Value = (ChatCommand, String)> {
        prop_oneof![
            nick().prop_map(|n| (ChatCommand::Join, n)),
            text_strategy().prop_map(|t| (ChatCommand::Msg, t)),
            Just((ChatCommand::Leave, String::new())),
            (nick(), text_strategy()).prop_map(|(n, t)| (ChatCommand::From { nick: n }, t)),
            nick().prop_map(|n| (ChatCommand::Joined, n)),
            nick().prop_map(|n| (ChatCommand::Left, n)),
        ]
    }

    proptest! {
        #[test]
        fn round_trip_through_the_layer_in_random_pieces(
            lines in proptest::collection::vec(valid(), 1..5),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut cx = Context::default();
            let mut stream = Vec::new();
            let mut sdus = Vec::new();
            for (command, sdu) in &lines {
                let line = command.line(sdu);
                prop_assert_eq!(ChatLine::parse(&line.to_string()).unwrap(), line.clone());
                let pdus = app(command.clone()).encapsulate(Pdu::bytes(sdu.as_bytes().to_vec()), &mut cx).unwrap();
                stream.extend(pdus.into_iter().flat_map(|p| p.into_bytes(LayerId::Application).unwrap().0));
                sdus.extend_from_slice(sdu.as_bytes());
            }
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            at.extend([0, stream.len()]);
            at.sort_unstable();
            let mut rx = app(ChatCommand::Msg);
            let mut got = Vec::new();
            for w in at.windows(2) {
                let Some(p) = stream.get(w[0]..w[1]) else { continue };
                if let Some(up) = rx.decapsulate(piece(p, 0), &mut cx).unwrap() {
                    got.extend(up.into_bytes(LayerId::Application).unwrap().0);
                }
            }
            prop_assert_eq!(got, sdus);
            prop_assert!(!rx.holding());
            let up = cx.trace.records.iter().filter(|r| r.direction == Direction::Up && r.field("chat.command").is_some());
            prop_assert_eq!(up.count(), lines.len());
        }

        #[test]
        fn arbitrary_bytes_in_arbitrary_pieces_never_panic(
            pieces in proptest::collection::vec(proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(b'\n'), Just(b' '), Just(b'M')], 0..1500), 1..4),
            offset in 0usize..10_000,
        ) {
            let mut rx = app(ChatCommand::Msg);
            let mut cx = Context::default();
            for p in &pieces {
                match rx.decapsulate(piece(p, offset), &mut cx) {
                    Ok(_) => prop_assert!(rx.held.len() < MAX_LINE),
                    Err(e) => {
                        prop_assert_eq!(e.layer, Some(LayerId::Application));
                        break;
                    }
                }
            }
            let _ = ChatLine::parse_bytes(&pieces[0]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn round_trip_through_a_whole_exchange((command, sdu) in valid(), mtu in 300usize..1500) {
            let cfg = StackConfig { app: App::Chat(ChatConfig { command }), mtu, ..Default::default() };
            let x = Exchange::run(&cfg, sdu.as_bytes()).unwrap();
            prop_assert!(x.delivered_intact(), "{:?}", x.received.error);
        }
    }
}
