//! The [`Trace`]: what every layer did, as a list of [`Record`]s.
//!
//! A record names the layer, the protocol and its data unit, lists the header and trailer fields
//! under their Wireshark display-filter names (`eth.src`, `ip.ttl`, `tcp.flags`), gives the byte
//! ranges of the header and trailer inside that layer's PDU, the payload length and the overhead
//! the layer adds, and, on the way up, each check that was made (FCS, checksums) and its result.
//!
//! `Display` prints the trace as a tree (like `tshark -V`), so a test can
//! `insta::assert_snapshot!(trace.to_string())`.

use crate::addr::MacAddr;
use crate::layer::{LayerId, Part, PduName};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// Bytes as lower-case hex, two digits each and no separators, as `tshark -T fields` prints bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// The first `max` bytes as hex, and how many there are in all when that is not all of them.
pub fn hex_preview(bytes: &[u8], max: usize) -> String {
    if bytes.len() > max {
        format!("{}… ({} bytes in all)", hex(&bytes[..max]), bytes.len())
    } else {
        hex(bytes)
    }
}

/// A character as errors name it: `'€' (U+20AC)`, or just `U+0009` for one that does not print
/// (a control character or white space, which quoted would say nothing).
pub fn char_name(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("{c:?} (U+{:04X})", u32::from(c))
    }
}

/// Going down the stack (sending) or up (receiving).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// 7→1, encapsulation.
    Down,
    /// 1→7, decapsulation.
    Up,
}

/// A field's value, typed so that each output format can print it its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An unsigned integer, printed in decimal.
    Uint(u64),
    /// An integer printed as `0x` and `digits` hex digits, as tshark prints flags and checksums.
    Hex { value: u64, digits: u8 },
    /// A flag bit, printed `1`/`0` (tshark -T fields) or "Set"/"Not set" (tree).
    Bool(bool),
    /// A MAC address.
    Mac(MacAddr),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// Raw bytes, printed as hex.
    Bytes(Vec<u8>),
    /// Text.
    Text(String),
    /// A time in seconds, printed with nine decimals (`1700000000.123456789`, `-0.000010000`),
    /// as tshark prints `frame.time_epoch` and `frame.time_delta`: `ns` nanoseconds, below zero
    /// when `negative`. Kept as a number, so that a frame's times cost no text until printed.
    Seconds { ns: u64, negative: bool },
}

impl fmt::Display for Value {
    /// The value as `tshark -T fields` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Value {
    /// Write the value as `tshark -T fields` prints it (its `Display`) to any text sink, without
    /// `core::fmt` for the common kinds (see `crate::digits`).
    pub fn write_to<W: fmt::Write + ?Sized>(&self, w: &mut W) -> fmt::Result {
        self.write_sink(&mut crate::digits::Fmt(w))
    }

    /// As [`Value::write_to`], to bytes (the `-T fields` line), which take digits without a
    /// UTF-8 check.
    pub fn write_bytes(&self, out: &mut Vec<u8>) {
        // Writing to a Vec does not fail.
        let _ = self.write_sink(out);
    }

    fn write_sink<S: crate::digits::Sink + ?Sized>(&self, w: &mut S) -> fmt::Result {
        use crate::digits;
        match self {
            Value::Uint(v) => digits::dec(w, *v),
            Value::Hex { value, digits } => digits::hex(w, *value, *digits),
            Value::Bool(b) => w.ascii(if *b { b"1" } else { b"0" }),
            Value::Mac(m) => digits::mac(w, &m.0),
            Value::Ipv4(a) => digits::ipv4(w, *a),
            Value::Ipv6(a) => w.args(format_args!("{a}")),
            Value::Bytes(b) => digits::hex_bytes(w, b),
            Value::Text(t) => w.text(t),
            Value::Seconds { ns, negative } => {
                if *negative {
                    w.ascii(b"-")?;
                }
                digits::dec(w, ns / 1_000_000_000)?;
                w.ascii(b".")?;
                digits::dec_padded(w, ns % 1_000_000_000, 9)
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Uint(v) => s.serialize_u64(*v),
            Value::Bool(b) => s.serialize_bool(*b),
            other => s.collect_str(other),
        }
    }
}

/// A field's name or label: almost always a literal, so it costs no allocation.
pub type Name = Cow<'static, str>;

/// Human text (a title, a summary, a note, a field's rendering) made by `f` only when `detail`
/// asks for it, else empty: see [`Context::detail`](crate::layer::Context::detail).
#[inline]
pub fn text_if(detail: bool, f: impl FnOnce() -> String) -> String {
    if detail {
        f()
    } else {
        String::new()
    }
}

/// One header or trailer field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The Wireshark display-filter name (`ip.ttl`); L1 fields, which Wireshark does not dissect,
    /// are named `phy.*`.
    pub name: Name,
    /// The human label, as in `tshark -V` ("Time to Live").
    pub label: Name,
    /// The value.
    pub value: Value,
    /// The human rendering after the label ("0x02, Don't fragment") when it is more than the
    /// value; empty means the value's own text (see [`Field::shown_text`]), which is then only
    /// written out when a tree or JSON asks for it.
    pub shown: Name,
    /// Nesting depth under the previous shallower field (flags under `tcp.flags`).
    pub depth: u8,
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Field", 5)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("label", &self.label)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("shown", &self.shown_text())?;
        st.serialize_field("depth", &self.depth)?;
        st.end()
    }
}

impl Field {
    /// A field whose human rendering is its value.
    #[inline]
    pub fn new(name: impl Into<Name>, label: impl Into<Name>, value: Value) -> Self {
        Field { name: name.into(), label: label.into(), value, shown: Name::Borrowed(""), depth: 0 }
    }

    /// What a tree shows after the label: the rendering given with [`Field::shown`], else the
    /// value ("Set" / "Not set" for a flag).
    pub fn shown_text(&self) -> Cow<'_, str> {
        if !self.shown.is_empty() {
            return Cow::Borrowed(&self.shown);
        }
        match &self.value {
            Value::Bool(true) => Cow::Borrowed("Set"),
            Value::Bool(false) => Cow::Borrowed("Not set"),
            Value::Text(t) => Cow::Borrowed(t),
            v => Cow::Owned(v.to_string()),
        }
    }

    /// A decimal integer field.
    #[inline]
    pub fn uint(name: impl Into<Name>, label: impl Into<Name>, v: impl Into<u64>) -> Self {
        Field::new(name, label, Value::Uint(v.into()))
    }

    /// A hex field of `digits` digits.
    #[inline]
    pub fn hex(name: impl Into<Name>, label: impl Into<Name>, v: impl Into<u64>, digits: u8) -> Self {
        Field::new(name, label, Value::Hex { value: v.into(), digits })
    }

    /// A flag field.
    #[inline]
    pub fn flag(name: impl Into<Name>, label: impl Into<Name>, v: bool) -> Self {
        Field::new(name, label, Value::Bool(v))
    }

    /// A text field.
    #[inline]
    pub fn text(name: impl Into<Name>, label: impl Into<Name>, v: impl Into<String>) -> Self {
        Field::new(name, label, Value::Text(v.into()))
    }

    /// Replace the human rendering.
    #[inline]
    pub fn shown(mut self, shown: impl Into<Name>) -> Self {
        self.shown = shown.into();
        self
    }

    /// Replace the human rendering with what `f` makes, when the record is in detail (else
    /// `f` is not run): see [`Context::detail`](crate::layer::Context::detail).
    #[inline]
    pub fn shown_if<S: Into<Name>>(mut self, detail: bool, f: impl FnOnce() -> S) -> Self {
        if detail {
            self.shown = f().into();
        }
        self
    }

    /// Nest under the previous field.
    #[inline]
    pub fn depth(mut self, depth: u8) -> Self {
        self.depth = depth;
        self
    }
}

/// One check a layer made on the way up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The Wireshark status field it matches (`eth.fcs.status`, `ip.checksum.status`).
    pub name: Name,
    /// What was checked ("Frame check sequence").
    pub label: Name,
    /// Whether it passed.
    pub ok: bool,
    /// The values, e.g. "0x1c2d3e4f (computed 0x1c2d3e4f)".
    pub detail: String,
}

impl Check {
    /// A check that passed or failed.
    pub fn new(name: impl Into<Name>, label: impl Into<Name>, ok: bool, detail: impl Into<String>) -> Self {
        Check { name: name.into(), label: label.into(), ok, detail: detail.into() }
    }
}

/// How serious an expert item is: Wireshark's expert severities (`_ws.expert.severity`), lowest
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Usual workflow (a SYN, a connection refused by the peer).
    Chat,
    /// Notable but normal (a retransmission, a reassembled PDU).
    Note,
    /// Unusual: possibly a problem (a bad checksum, an unknown protocol).
    Warning,
    /// A serious problem: malformed or truncated data.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Chat => "Chat",
            Severity::Note => "Note",
            Severity::Warning => "Warning",
            Severity::Error => "Error",
        })
    }
}

/// What an expert item is about: Wireshark's expert groups (`_ws.expert.group`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// A checksum or CRC did not verify.
    Checksum,
    /// Sequence numbers: a gap, a retransmission, data out of order.
    Sequence,
    /// A response's code (an HTTP or DNS error, an ICMP error).
    Response,
    /// A request's code.
    Request,
    /// Data that was not dissected (an unknown EtherType or protocol).
    Undecoded,
    /// Reassembly of fragments or of a stream.
    Reassemble,
    /// Malformed or truncated data.
    Malformed,
    /// A protocol rule broken or a value out of range.
    Protocol,
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Group::Checksum => "Checksum",
            Group::Sequence => "Sequence",
            Group::Response => "Response",
            Group::Request => "Request",
            Group::Undecoded => "Undecoded",
            Group::Reassemble => "Reassemble",
            Group::Malformed => "Malformed",
            Group::Protocol => "Protocol",
        })
    }
}

/// One expert item, as Wireshark's expert info reports it: a capture (`osilab dissect`) records
/// what a host would refuse, and goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expert {
    /// How serious.
    pub severity: Severity,
    /// About what.
    pub group: Group,
    /// What was found, naming the field and values ("Bad checksum [should be 0x1c46]"); often a
    /// literal, which costs no allocation.
    pub message: Name,
    /// The byte of the frame it is about, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
}

impl Expert {
    /// An expert item.
    pub fn new(severity: Severity, group: Group, message: impl Into<Name>, offset: impl Into<Option<usize>>) -> Self {
        Expert { severity, group, message: message.into(), offset: offset.into() }
    }

    /// The item for an error that stopped a layer: truncated data is Malformed, a checksum is a
    /// Checksum problem, anything else a Protocol one; all of severity Error.
    pub fn from_error(e: &crate::error::Error) -> Self {
        use crate::error::ErrorKind;
        let group = match e.kind {
            ErrorKind::Truncated { .. } => Group::Malformed,
            ErrorKind::Checksum { .. } => Group::Checksum,
            _ => Group::Protocol,
        };
        Expert::new(Severity::Error, group, e.to_string(), e.offset)
    }
}

impl fmt::Display for Expert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[Expert Info ({}/{}): {}", self.severity, self.group, self.message)?;
        if let Some(o) = self.offset {
            write!(f, " (byte {o})")?;
        }
        f.write_str("]")
    }
}

fn ser_range<S: Serializer>(r: &Range<usize>, s: S) -> Result<S::Ok, S::Error> {
    [r.start, r.end].serialize(s)
}

fn ser_opt_range<S: Serializer>(r: &Option<Range<usize>>, s: S) -> Result<S::Ok, S::Error> {
    r.as_ref().map(|r| [r.start, r.end]).serialize(s)
}

/// What one layer did to one data unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Which layer.
    pub layer: LayerId,
    /// Down (encapsulate) or up (decapsulate).
    pub direction: Direction,
    /// The protocol's Wireshark filter name (`eth`, `vlan`, `ip`, `ipv6`, `tcp`, `udp`, `icmp`, `arp`, `phy`, `data`).
    pub protocol: Name,
    /// The protocol's full name as `tshark -V` heads its subtree ("Internet Protocol Version 4").
    pub title: String,
    /// What the data unit is called at this layer.
    pub pdu: PduName,
    /// Which of several PDUs one SDU became, if several.
    pub part: Option<Part>,
    /// A one-line summary, like Wireshark's Info column.
    pub summary: String,
    /// Byte range of this record's header inside the data unit its layer handled: the frame for
    /// L2 records (Ethernet, 802.1Q, ARP), the IP packet for L3 records (IP, ICMP), the segment or
    /// datagram for L4. On the way up that data unit starts at byte [`Record::at`] of the frame.
    #[serde(serialize_with = "ser_range")]
    pub header: Range<usize>,
    /// Byte range of the trailer (padding, FCS), if any.
    #[serde(serialize_with = "ser_opt_range")]
    pub trailer: Option<Range<usize>>,
    /// Length of the payload this layer carries (the SDU).
    pub payload_len: usize,
    /// Bytes this layer adds (header + trailer; for L1, preamble and SFD).
    pub overhead: usize,
    /// Header and trailer fields, in wire order.
    pub fields: Vec<Field>,
    /// Checks made on the way up.
    pub checks: Vec<Check>,
    /// Anything else worth saying (a fragment held for reassembly, a merged layer).
    pub notes: Vec<String>,
    /// Expert items (a capture's failed checks, malformed data): see [`Expert`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expert: Vec<Expert>,
    /// On the receive path, which frame (1-based) this record was made from, filled in by the stack.
    pub frame: Option<usize>,
    /// On the receive path, the offset of this layer's PDU inside that frame, filled in by the stack
    /// (`None` for data reassembled from several frames).
    pub at: Option<usize>,
}

impl Record {
    /// A record with no fields yet.
    pub fn new(
        layer: LayerId,
        direction: Direction,
        protocol: impl Into<Name>,
        title: impl Into<String>,
        pdu: PduName,
    ) -> Self {
        Record {
            layer,
            direction,
            protocol: protocol.into(),
            title: title.into(),
            pdu,
            part: None,
            summary: String::new(),
            header: 0..0,
            trailer: None,
            payload_len: 0,
            overhead: 0,
            fields: Vec::new(),
            checks: Vec::new(),
            notes: Vec::new(),
            expert: Vec::new(),
            frame: None,
            at: None,
        }
    }

    /// The first field with this display-filter name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The total PDU length at this layer (header + payload + trailer).
    pub fn pdu_len(&self) -> usize {
        self.header.len() + self.payload_len + self.trailer.as_ref().map_or(0, |t| t.len())
    }
}

/// Every record of one pass down or up the stack, in the order the layers made them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The records.
    pub records: Vec<Record>,
}

impl Trace {
    /// Append a record.
    pub fn push(&mut self, r: Record) {
        self.records.push(r);
    }

    /// The records of one layer.
    pub fn layer(&self, id: LayerId) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.layer == id)
    }

    /// All values of a display-filter field, in order.
    pub fn values(&self, name: &str) -> Vec<&Value> {
        self.records.iter().flat_map(|r| r.fields.iter()).filter(|f| f.name == name).map(|f| &f.value).collect()
    }

    /// True when every check in the trace passed.
    pub fn all_checks_ok(&self) -> bool {
        self.records.iter().flat_map(|r| &r.checks).all(|c| c.ok)
    }
}

impl fmt::Display for Record {
    /// One record as a `tshark -V`-like subtree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut head = format!("L{} {} · {} · {}", self.layer.number(), self.layer.name(), self.pdu, self.title);
        if let Some(p) = self.part {
            let _ = write!(head, " [{} of {}]", p.index, p.count);
        }
        writeln!(f, "{head}")?;
        if !self.summary.is_empty() {
            writeln!(f, "    {}", self.summary)?;
        }
        let bytes = |n: usize| if n == 1 { "1 byte".to_string() } else { format!("{n} bytes") };
        let mut sizes = format!("    header {}..{} ({})", self.header.start, self.header.end, bytes(self.header.len()));
        let _ = write!(sizes, ", payload {}", self.payload_len);
        if let Some(t) = &self.trailer {
            let _ = write!(sizes, ", trailer {}..{} ({})", t.start, t.end, bytes(t.len()));
        }
        let _ = write!(sizes, ", overhead {}", self.overhead);
        writeln!(f, "{sizes}")?;
        for fld in &self.fields {
            let indent = 4 + 4 * usize::from(fld.depth);
            writeln!(f, "{:indent$}{}: {}  [{}]", "", fld.label, fld.shown_text(), fld.name)?;
        }
        for c in &self.checks {
            let mark = if c.ok { "ok " } else { "BAD" };
            writeln!(f, "    [{mark}] {}: {}  [{}]", c.label, c.detail, c.name)?;
        }
        for n in &self.notes {
            writeln!(f, "    note: {n}")?;
        }
        for e in &self.expert {
            writeln!(f, "    {e}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Trace {
    /// The tree format: each record as a subtree, in order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}
