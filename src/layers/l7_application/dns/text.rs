//! The SDU: a message in presentation format, one line per entry, as dig prints it (RFC 1035
//! §5.1 master-file syntax, RFC 3597 §5 for types without a mnemonic here):
//!
//! ```text
//! www.example. IN AAAA
//! www.example. 300 IN CNAME web.example.
//! web.example. 300 IN AAAA 2001:db8::5
//! ```
//!
//! The first line is the question (`NAME IN TYPE`), each further line an answer
//! (`NAME TTL IN TYPE RDATA`). Types are `A`, `AAAA`, `CNAME` or `TYPEnnn` with the data as
//! `\# LENGTH HEX`. Lines are separated by `\n` (one final `\n` is allowed); fields by blanks.
//! The canonical text (what [`to_text`] writes and the receiver delivers) has single spaces,
//! upper-case mnemonics, RFC 5952 IPv6 addresses, lower-case hex and no final `\n`.

use super::message::{Answer, Question, RData, MAX_TTL};
use super::name::{Name, PROTO};
use super::{DnsKind, RrType};
use crate::error::{Error, Result};
use crate::layer::LayerId;

/// The canonical line of a question.
pub fn question_line(q: &Question) -> String {
    format!("{} IN {}", q.name.to_text(), q.qtype)
}

/// The canonical text of a record's data.
pub fn rdata_text(r: &RData) -> String {
    match r {
        RData::A(ip) => ip.to_string(),
        RData::Aaaa(ip) => ip.to_string(),
        RData::Cname(n) => n.to_text(),
        RData::Other { data, .. } if data.is_empty() => "\\# 0".into(),
        RData::Other { data, .. } => {
            format!("\\# {} {}", data.len(), crate::trace::hex(data))
        }
    }
}

/// The canonical line of an answer.
pub fn answer_line(a: &Answer) -> String {
    format!("{} {} IN {} {}", a.name.to_text(), a.ttl, a.rdata.rtype(), rdata_text(&a.rdata))
}

/// The canonical SDU of a question and its answers.
pub fn to_text(q: &Question, answers: &[Answer]) -> String {
    let mut lines = vec![question_line(q)];
    lines.extend(answers.iter().map(answer_line));
    lines.join("\n")
}

fn line_error(n: usize, expected: impl Into<String>, found: impl Into<String>) -> Error {
    Error::invalid(LayerId::Application, PROTO, None, format!("SDU line {n}"), expected, found)
}

/// A type mnemonic: `A`, `AAAA`, `CNAME` or `TYPEnnn` (RFC 3597 §5), in any case.
pub fn parse_type(s: &str) -> std::result::Result<RrType, String> {
    let up = s.to_ascii_uppercase();
    match up.as_str() {
        "A" => Ok(RrType::A),
        "AAAA" => Ok(RrType::Aaaa),
        "CNAME" => Ok(RrType::Cname),
        _ => match up.strip_prefix("TYPE").map(|d| (d, d.parse::<u16>())) {
            Some((d, Ok(n))) if !d.starts_with(['+', '0']) || d == "0" => Ok(RrType::from_number(n)),
            _ => Err(format!("type {s:?}: A, AAAA, CNAME or TYPEnnn with the data as \\# LENGTH HEX (RFC 3597 §5)")),
        },
    }
}

fn parse_class(s: &str) -> std::result::Result<(), String> {
    if s.eq_ignore_ascii_case("IN") || s.eq_ignore_ascii_case("CLASS1") {
        Ok(())
    } else {
        Err(format!("class {s:?}: the class is IN (RFC 1035 §3.2.4)"))
    }
}

/// RFC 3597 §5: `\# LENGTH HEX…`, the hex in one or more words, exactly LENGTH octets.
fn parse_generic(words: &[&str]) -> std::result::Result<Vec<u8>, String> {
    let Some(len) = words.get(1) else {
        return Err("\\# without a length (RFC 3597 §5: \\# LENGTH HEX)".into());
    };
    let len: u16 = len.parse().map_err(|_| format!("data length {len:?}: 0 to 65535 (RFC 3597 §5)"))?;
    let hex: String = words[2..].concat();
    if hex.len() % 2 != 0 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("data {hex:?}: hex digits, two per octet (RFC 3597 §5)"));
    }
    let data: Vec<u8> = hex
        .as_bytes()
        .chunks(2)
        .map(|p| {
            let d = |c: u8| char::from(c).to_digit(16).unwrap_or(0) as u8;
            d(p[0]) << 4 | d(p.get(1).copied().unwrap_or(b'0'))
        })
        .collect();
    if data.len() != usize::from(len) {
        return Err(format!("\\# {len} with {} octets of hex: the length counts the octets (RFC 3597 §5)", data.len()));
    }
    Ok(data)
}

/// A record's data in presentation form for type `t`: its own syntax, or `\#` for any type.
pub fn parse_rdata(t: RrType, words: &[&str]) -> std::result::Result<RData, String> {
    if words.first() == Some(&"\\#") {
        let data = parse_generic(words)?;
        return RData::from_generic(t, &data);
    }
    let one = match words {
        [w] => *w,
        [] => return Err(format!("no data for the {t} record")),
        _ => return Err(format!("{} words of data for the {t} record: it takes one", words.len())),
    };
    match t {
        RrType::A => {
            one.parse().map(RData::A).map_err(|_| format!("{one:?} is not an IPv4 address (A, RFC 1035 §3.4.1)"))
        }
        RrType::Aaaa => {
            one.parse().map(RData::Aaaa).map_err(|_| format!("{one:?} is not an IPv6 address (AAAA, RFC 3596 §2.2)"))
        }
        RrType::Cname => Name::parse_text(one).map(RData::Cname).map_err(|e| format!("CNAME target: {e}")),
        RrType::Other(n) => Err(format!("TYPE{n} data in the generic form: \\# LENGTH HEX (RFC 3597 §5)")),
    }
}

fn parse_name(n: usize, s: &str) -> Result<Name> {
    Name::parse_text(s).map_err(|e| line_error(n, "an absolute domain name such as www.example.", e))
}

/// Parse a question line: `NAME IN TYPE`. `n` is its line number.
pub fn parse_question(n: usize, line: &str) -> Result<Question> {
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    let [name, class, qtype] = words[..] else {
        return Err(line_error(
            n,
            "a question: NAME IN TYPE, e.g. \"www.example. IN AAAA\"",
            format!("{} words: {line:?}", words.len()),
        ));
    };
    let name = parse_name(n, name)?;
    parse_class(class).map_err(|e| line_error(n, "the class IN", e))?;
    let qtype = parse_type(qtype).map_err(|e| line_error(n, "a type", e))?;
    Ok(Question { name, qtype })
}

/// Parse an answer line: `NAME TTL IN TYPE RDATA`. `n` is its line number.
pub fn parse_answer(n: usize, line: &str) -> Result<Answer> {
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    if words.len() < 5 {
        return Err(line_error(
            n,
            "an answer: NAME TTL IN TYPE DATA, e.g. \"www.example. 300 IN A 192.0.2.10\"",
            format!("{} words: {line:?}", words.len()),
        ));
    }
    let name = parse_name(n, words[0])?;
    let ttl = words[1]
        .parse::<u32>()
        .ok()
        .filter(|t| *t <= MAX_TTL && words[1].bytes().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| line_error(n, "a TTL in seconds, 0 to 2147483647 (RFC 2181 §8)", format!("{:?}", words[1])))?;
    parse_class(words[2]).map_err(|e| line_error(n, "the class IN", e))?;
    let t = parse_type(words[3]).map_err(|e| line_error(n, "a type", e))?;
    let rdata = parse_rdata(t, &words[4..]).map_err(|e| line_error(n, format!("{t} data"), e))?;
    Ok(Answer { name, ttl, rdata })
}

/// Parse the SDU: a question line and, for a response, answer lines; a query's SDU is exactly
/// the question.
pub fn parse_sdu(sdu: &[u8], kind: DnsKind) -> Result<(Question, Vec<Answer>)> {
    let text = std::str::from_utf8(sdu).map_err(|e| {
        Error::invalid(
            LayerId::Application,
            PROTO,
            None,
            "DNS SDU",
            "UTF-8 text: the message in presentation format",
            format!("a byte that is not UTF-8 at SDU byte {}", e.valid_up_to()),
        )
    })?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Err(line_error(1, "a question such as \"www.example. IN AAAA\"", "an empty SDU"));
    }
    let lines: Vec<&str> = text.split('\n').collect();
    if let Some((i, _)) = lines.iter().enumerate().find(|(_, l)| l.trim().is_empty()) {
        return Err(line_error(i + 1, "an entry (one per line)", "an empty line"));
    }
    if kind == DnsKind::Query && lines.len() != 1 {
        return Err(line_error(2, "nothing: a query's SDU is its one question line", format!("{:?}", lines[1])));
    }
    let question = parse_question(1, lines[0])?;
    let answers = lines[1..].iter().enumerate().map(|(i, l)| parse_answer(i + 2, l)).collect::<Result<Vec<_>>>()?;
    Ok((question, answers))
}
