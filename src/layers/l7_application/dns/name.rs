//! Domain names: their wire form (RFC 1035 §3.1 labels, §4.1.4 compression) and their
//! presentation form (RFC 1035 §5.1: `www.example.`, with `\.`, `\\` and `\DDD` escapes).
//!
//! Read first: RFC 1035 §3.1 (a name is a sequence of labels, each at most 63 octets, the whole
//! name at most 255 octets counting the length octets and the final root label) and §4.1.4 (a
//! name may end in a 2-octet pointer, top bits `11`, to a prior occurrence of the same suffix).

use crate::error::{Error, Result};
use crate::layer::LayerId;

/// RFC 1035 §3.1 / §2.3.4: a label is at most 63 octets.
pub const MAX_LABEL: usize = 63;
/// RFC 1035 §3.1 / §2.3.4: a name is at most 255 octets on the wire (length octets and the
/// final zero included).
pub const MAX_NAME: usize = 255;
/// RFC 1035 §4.1.4: pointer offsets are 14 bits, so only the first 16 KiB can be pointed at.
const MAX_POINTER_TARGET: usize = 0x3fff;
/// A bound on the pointers followed in one name. Every pointer must point before the labels it
/// ends (which alone rules out loops); the bound keeps even a long chain of pointers cheap.
pub const MAX_POINTERS: usize = 64;

/// The protocol name in errors.
pub(crate) const PROTO: &str = "DNS";

/// A domain name: its labels, from the leftmost, without the root (empty) label. Always valid:
/// no empty label, each at most 63 octets, at most 255 octets on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Name {
    labels: Vec<Vec<u8>>,
}

/// Why a list of labels is not a name.
fn check_labels(labels: &[Vec<u8>]) -> std::result::Result<(), String> {
    if labels.iter().any(|l| l.is_empty()) {
        return Err("an empty label (only the root label is empty, RFC 1035 §3.1)".into());
    }
    if let Some(l) = labels.iter().find(|l| l.len() > MAX_LABEL) {
        return Err(format!("a {}-octet label: labels are at most {MAX_LABEL} octets (RFC 1035 §3.1)", l.len()));
    }
    let wire = wire_len(labels);
    if wire > MAX_NAME {
        return Err(format!("{wire} octets on the wire: names are at most {MAX_NAME} (RFC 1035 §3.1)"));
    }
    Ok(())
}

fn wire_len(labels: &[Vec<u8>]) -> usize {
    labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1
}

/// The bytes written unescaped in presentation form: printable ASCII except the characters
/// with a meaning in master files (RFC 1035 §5.1), as BIND writes them.
fn plain(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$')
}

impl Name {
    /// The root name `.`.
    pub fn root() -> Name {
        Name::default()
    }

    /// A name from its labels, checked against RFC 1035 §3.1.
    pub fn from_labels(labels: Vec<Vec<u8>>) -> std::result::Result<Name, String> {
        check_labels(&labels)?;
        Ok(Name { labels })
    }

    /// The labels, leftmost first, without the root label.
    pub fn labels(&self) -> &[Vec<u8>] {
        &self.labels
    }

    /// True for the root name.
    pub fn is_root(&self) -> bool {
        self.labels.is_empty()
    }

    /// Octets on the wire, uncompressed.
    pub fn wire_len(&self) -> usize {
        wire_len(&self.labels)
    }

    /// Parse the presentation form (RFC 1035 §5.1): absolute (ending in `.`), labels separated by
    /// `.`, `\X` for a literal X and `\DDD` (decimal) for any octet. The error says what is wrong.
    pub fn parse_text(s: &str) -> std::result::Result<Name, String> {
        if s == "." {
            return Ok(Name::root());
        }
        if s.is_empty() {
            return Err("an empty name (the root is \".\")".into());
        }
        let b = s.as_bytes();
        let mut labels = Vec::new();
        let mut label = Vec::new();
        let mut i = 0;
        let mut absolute = false;
        while i < b.len() {
            match b[i] {
                b'\\' => {
                    let digits = b.get(i + 1..i + 4).filter(|d| d.iter().all(u8::is_ascii_digit));
                    if let Some(d) = digits {
                        let v = d.iter().fold(0u32, |acc, x| acc * 10 + u32::from(x - b'0'));
                        let v = u8::try_from(v).map_err(|_| format!("\\{} is not an octet (\\000 to \\255)", v))?;
                        label.push(v);
                        i += 4;
                    } else {
                        match b.get(i + 1) {
                            Some(&c) if c.is_ascii_graphic() && !c.is_ascii_digit() => {
                                label.push(c);
                                i += 2;
                            }
                            _ => return Err("a '\\' not followed by a character or three digits (\\DDD)".into()),
                        }
                    }
                }
                b'.' => {
                    if label.is_empty() {
                        return Err(format!("an empty label at character {} (\"..\" or a leading '.')", i + 1));
                    }
                    labels.push(std::mem::take(&mut label));
                    i += 1;
                    if i == b.len() {
                        absolute = true;
                    }
                }
                c if c.is_ascii_graphic() => {
                    label.push(c);
                    i += 1;
                }
                c => {
                    return Err(format!("the byte 0x{c:02x} at character {}: write it as \\DDD (RFC 1035 §5.1)", i + 1))
                }
            }
        }
        if !absolute {
            return Err(format!("a relative name {s:?}: names are absolute, end it with '.' ({s}.)"));
        }
        check_labels(&labels)?;
        Ok(Name { labels })
    }

    /// The presentation form, absolute, escaped as BIND does: `www.example.`, `.` for the root.
    pub fn to_text(&self) -> String {
        if self.is_root() {
            return ".".into();
        }
        let mut s = String::new();
        for l in &self.labels {
            for &c in l {
                if plain(c) {
                    s.push(char::from(c));
                } else if c.is_ascii_graphic() {
                    s.push('\\');
                    s.push(char::from(c));
                } else {
                    s.push_str(&format!("\\{c:03}"));
                }
            }
            s.push('.');
        }
        s
    }

    /// The labels joined with `.` as raw octets, or `<Root>`: the string Wireshark builds
    /// (`expand_dns_name` / `get_dns_name` in packet-dns.c), before it formats it for display.
    fn wireshark_raw(&self) -> Vec<u8> {
        if self.is_root() {
            return b"<Root>".to_vec();
        }
        self.labels.join(&b'.')
    }

    /// The name as Wireshark shows it (`dns.qry.name`, `dns.resp.name`, `dns.cname`): no final
    /// dot, `<Root>` for the root, control octets escaped as C does (`\001`, `\t`); octets that
    /// are not UTF-8 shown as U+FFFD.
    pub fn wireshark(&self) -> String {
        wireshark_text(&self.wireshark_raw())
    }

    /// `dns.qry.name.len`: the length of Wireshark's raw string, or 0 when it is one octet long
    /// (packet-dns.c, `name_len > 1 ? name_len : 0`; the root's `<Root>` counts 6).
    pub fn wireshark_len(&self) -> usize {
        let n = self.wireshark_raw().len();
        if n > 1 {
            n
        } else {
            0
        }
    }

    /// `dns.count.labels`: the dots in Wireshark's raw string plus one, or 0 when that string is
    /// one octet long (packet-dns.c, `qname_labels_count`). A `.` inside a label counts too.
    pub fn wireshark_labels(&self) -> usize {
        let raw = self.wireshark_raw();
        if raw.len() > 1 {
            raw.iter().filter(|&&c| c == b'.').count() + 1
        } else {
            0
        }
    }
}

/// A name's raw string (labels joined with `.`, or a marker such as `<Root>`) as Wireshark shows
/// it: control octets escaped as C does (`\001`, `\t`), octets that are not UTF-8 as U+FFFD.
pub fn wireshark_text(raw: &[u8]) -> String {
    let mut s = String::new();
    for ch in String::from_utf8_lossy(raw).chars() {
        match ch {
            '\u{7}' => s.push_str("\\a"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{b}' => s.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => s.push_str(&format!("\\{:03o}", c as u32)),
            c => s.push(c),
        }
    }
    s
}

/// Writes names into a message, replacing each suffix already written by a pointer to it
/// (RFC 1035 §4.1.4). Suffixes match octet for octet, so the receiver reads back the exact case
/// that was written.
#[derive(Debug, Default)]
pub struct Compressor {
    /// Each suffix written so far and the message offset where it starts.
    known: Vec<(Vec<Vec<u8>>, u16)>,
}

impl Compressor {
    /// Append `name` to `msg` (whose first byte is the message's first byte), compressed with
    /// pointers when `compress`; returns how many pointers it wrote (0 or 1).
    pub fn emit(&mut self, name: &Name, msg: &mut Vec<u8>, compress: bool) -> usize {
        let labels = name.labels();
        for i in 0..labels.len() {
            let suffix = &labels[i..];
            let found = compress.then(|| self.known.iter().find(|(s, _)| s.as_slice() == suffix)).flatten();
            if let Some(&(_, at)) = found {
                msg.extend_from_slice(&(0xc000 | at).to_be_bytes());
                return 1;
            }
            if let Ok(at) = u16::try_from(msg.len()) {
                if usize::from(at) <= MAX_POINTER_TARGET {
                    self.known.push((suffix.to_vec(), at));
                }
            }
            // A label's length is below 64 (`Name` is valid), so its top bits are 00.
            msg.push(labels[i].len() as u8);
            msg.extend_from_slice(&labels[i]);
        }
        msg.push(0);
        0
    }
}

/// A name read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadName {
    /// The name.
    pub name: Name,
    /// The message offset just after the name where it sits (after its pointer, if any).
    pub end: usize,
    /// How many pointers were followed.
    pub pointers: usize,
}

/// Read the name at `start` of `msg` (a whole DNS message), following pointers (RFC 1035
/// §4.1.4). Errors name the frame offset `base + ` the message offset of the bad octet.
///
/// Checks: every label length octet and label inside the message; top bits `00` (a label of at
/// most 63 octets, RFC 1035 §3.1) or `11` (a pointer), never `01`/`10` (RFC 6891 §5 retired
/// extended labels); each pointer inside the message, before itself, and before the labels it
/// ends (a prior occurrence, §4.1.4 — which rules out loops); at most [`MAX_POINTERS`] pointers;
/// the name at most 255 octets (§3.1).
pub fn read(msg: &[u8], start: usize, base: usize) -> Result<ReadName> {
    let mut labels = Vec::new();
    let mut pos = start;
    // Where the labels being read began: the name's start, then each pointer's target.
    let mut segment = start;
    let mut end = None;
    let mut pointers = 0;
    let mut octets = 1; // the final root label
    loop {
        let Some(&len) = msg.get(pos) else {
            return Err(Error::truncated(LayerId::Application, PROTO, base + pos, "domain name", pos + 1, msg.len()));
        };
        match len >> 6 {
            0b00 if len == 0 => {
                let end = end.unwrap_or(pos + 1);
                let name = Name { labels };
                return Ok(ReadName { name, end, pointers });
            }
            0b00 => {
                let n = usize::from(len);
                octets += 1 + n;
                if octets > MAX_NAME {
                    return Err(Error::invalid(
                        LayerId::Application,
                        PROTO,
                        base + pos,
                        "domain name length",
                        format!("at most {MAX_NAME} octets (RFC 1035 §3.1)"),
                        format!("{octets} octets with this label"),
                    ));
                }
                let Some(label) = msg.get(pos + 1..pos + 1 + n) else {
                    return Err(Error::truncated(
                        LayerId::Application,
                        PROTO,
                        base + pos,
                        format!("{n}-octet label"),
                        pos + 1 + n,
                        msg.len(),
                    ));
                };
                labels.push(label.to_vec());
                pos += 1 + n;
            }
            0b11 => {
                let Some(&low) = msg.get(pos + 1) else {
                    return Err(Error::truncated(
                        LayerId::Application,
                        PROTO,
                        base + pos,
                        "compression pointer",
                        pos + 2,
                        msg.len(),
                    ));
                };
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                let bad = |expected: String, found: String| {
                    Error::invalid(LayerId::Application, PROTO, base + pos, "compression pointer", expected, found)
                };
                if target >= msg.len() {
                    return Err(bad(
                        format!("an offset inside the {}-byte message (RFC 1035 §4.1.4)", msg.len()),
                        format!("offset {target}, beyond the message"),
                    ));
                }
                if target >= pos {
                    return Err(bad(
                        format!("an offset before the pointer at {pos}: a pointer refers to a prior occurrence (RFC 1035 §4.1.4)"),
                        format!("offset {target} (forward{})", if target == pos { ": to itself, a loop" } else { "" }),
                    ));
                }
                if target >= segment {
                    return Err(bad(
                        format!("an offset before {segment}, where the labels it ends begin (RFC 1035 §4.1.4)"),
                        format!("offset {target}: a pointer loop"),
                    ));
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(bad(
                        format!("at most {MAX_POINTERS} pointers in one name"),
                        format!("pointer number {pointers}"),
                    ));
                }
                end.get_or_insert(pos + 2);
                pos = target;
                segment = target;
            }
            _ => {
                return Err(Error::invalid(
                    LayerId::Application,
                    PROTO,
                    base + pos,
                    "label length",
                    "0 to 63 (RFC 1035 §3.1) or a pointer 0xc0–0xff (§4.1.4); 0x40–0xbf are the extended label types RFC 6891 §5 retired",
                    format!("{len} (0x{len:02x})"),
                ));
            }
        }
    }
}
