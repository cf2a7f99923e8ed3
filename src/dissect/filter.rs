//! `--filter`: a small subset of Wireshark's display-filter language, evaluated on a frame's
//! records after dissection (so that frames not shown still feed reassembly, as in tshark).
//!
//! ```text
//! expr    = or
//! or      = and *( ("||" / "or") and )
//! and     = unary *( ("&&" / "and") unary )
//! unary   = ("!" / "not") unary / "(" expr ")" / test
//! test    = NAME [ op VALUE ]            ; a protocol (dns), a field (tcp.flags.syn) or a field test
//! op      = "==" / "eq" / "!=" / "ne" / "<" / "lt" / "<=" / "le" / ">" / "gt" / ">=" / "ge" / "contains"
//! VALUE   = a number (decimal or 0x hex), an address, or a "quoted string"
//! ```
//!
//! As in Wireshark, `a == v` holds when *any* occurrence of `a` equals `v`, and `a != v` is
//! `!(a == v)`. A bare name holds when the frame has that protocol or field. `tcp.port`,
//! `udp.port`, `ip.addr`, `ipv6.addr` and `eth.addr` stand for either end.

use crate::trace::{Record, Value};
use std::net::IpAddr;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
    /// A protocol or field is present.
    Has(String),
    /// A field compared with a value.
    Cmp(String, Op, String),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `contains` (text, or the hex of bytes).
    Contains,
}

/// The pseudo-fields that stand for both ends.
fn either_end(name: &str) -> Option<[&'static str; 2]> {
    Some(match name {
        "tcp.port" => ["tcp.srcport", "tcp.dstport"],
        "udp.port" => ["udp.srcport", "udp.dstport"],
        "ip.addr" => ["ip.src", "ip.dst"],
        "ipv6.addr" => ["ipv6.src", "ipv6.dst"],
        "eth.addr" => ["eth.src", "eth.dst"],
        _ => return None,
    })
}

impl Filter {
    /// Parse a filter, or say where it went wrong.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let tokens = lex(text)?;
        if tokens.is_empty() {
            return Err("empty filter".into());
        }
        let mut p = Parser { tokens, at: 0 };
        let f = p.or()?;
        match p.tokens.get(p.at) {
            None => Ok(f),
            Some(t) => Err(format!("unexpected {:?} at token {} of the filter", t.text(), p.at + 1)),
        }
    }

    /// Whether the frame whose records these are passes.
    pub fn matches(&self, records: &[Record]) -> bool {
        match self {
            Filter::And(a, b) => a.matches(records) && b.matches(records),
            Filter::Or(a, b) => a.matches(records) || b.matches(records),
            Filter::Not(a) => !a.matches(records),
            Filter::Has(name) => {
                records.iter().any(|r| r.protocol == *name)
                    || names(name).iter().any(|n| records.iter().flat_map(|r| &r.fields).any(|f| f.name == *n))
            }
            Filter::Cmp(name, Op::Ne, v) => !Filter::Cmp(name.clone(), Op::Eq, v.clone()).matches(records),
            Filter::Cmp(name, op, v) => {
                let ns = names(name);
                records
                    .iter()
                    .flat_map(|r| &r.fields)
                    .filter(|f| ns.iter().any(|n| f.name == *n))
                    .any(|f| compare(&f.value, *op, v))
            }
        }
    }
}

fn names(name: &str) -> Vec<&str> {
    either_end(name).map_or_else(|| vec![name], |e| e.to_vec())
}

/// An integer as a filter writes it: decimal or `0x` hex.
fn int(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn compare(value: &Value, op: Op, want: &str) -> bool {
    let ord = match value {
        Value::Uint(n) | Value::Hex { value: n, .. } => int(want).map(|w| n.cmp(&w)),
        Value::Bool(b) => match want {
            "1" | "true" | "True" | "TRUE" => Some(b.cmp(&true)),
            "0" | "false" | "False" | "FALSE" => Some(b.cmp(&false)),
            _ => None,
        },
        Value::Ipv4(a) => want.parse::<IpAddr>().ok().map(|w| IpAddr::V4(*a).cmp(&w)),
        Value::Ipv6(a) => want.parse::<IpAddr>().ok().map(|w| IpAddr::V6(*a).cmp(&w)),
        Value::Mac(m) => Some(m.to_string().as_str().cmp(want.to_ascii_lowercase().replace('-', ":").as_str())),
        Value::Bytes(_) | Value::Text(_) | Value::Seconds { .. } => Some(value.to_string().as_str().cmp(want)),
    };
    match op {
        Op::Contains => value.to_string().contains(want),
        Op::Eq => ord == Some(std::cmp::Ordering::Equal),
        Op::Ne => ord != Some(std::cmp::Ordering::Equal),
        Op::Lt => ord == Some(std::cmp::Ordering::Less),
        Op::Le => matches!(ord, Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)),
        Op::Gt => ord == Some(std::cmp::Ordering::Greater),
        Op::Ge => matches!(ord, Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Sym(&'static str),
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Word(w) | Token::Quoted(w) => w,
            Token::Sym(s) => s,
        }
    }
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if c.is_whitespace() {
            i += 1;
        } else if let Some(s) = ["==", "!=", "<=", ">=", "&&", "||"].into_iter().find(|s| *s == two) {
            out.push(Token::Sym(s));
            i += 2;
        } else if let Some(s) = ["<", ">", "!", "(", ")"].into_iter().find(|s| s.starts_with(c)) {
            out.push(Token::Sym(s));
            i += 1;
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated string in the filter at character {}", i + 1)),
                    Some('"') => break,
                    Some('\\') => {
                        if let Some(&n) = chars.get(i + 1) {
                            s.push(n);
                        }
                        i += 2;
                        continue;
                    }
                    Some(&ch) => s.push(ch),
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Quoted(s));
        } else if c.is_ascii_alphanumeric() || "._-:/[]".contains(c) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "._-:/[]".contains(chars[i])) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected character {c:?} in the filter at character {}", i + 1));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat_any(&mut self, words: &[&str]) -> bool {
        let hit = match self.peek() {
            Some(Token::Sym(s)) => words.contains(s),
            Some(Token::Word(w)) => words.contains(&w.as_str()),
            _ => false,
        };
        if hit {
            self.at += 1;
        }
        hit
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut f = self.and()?;
        while self.eat_any(&["||", "or"]) {
            f = Filter::Or(Box::new(f), Box::new(self.and()?));
        }
        Ok(f)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut f = self.unary()?;
        while self.eat_any(&["&&", "and"]) {
            f = Filter::And(Box::new(f), Box::new(self.unary()?));
        }
        Ok(f)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.eat_any(&["!", "not"]) {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.eat_any(&["("]) {
            let f = self.or()?;
            if !self.eat_any(&[")"]) {
                return Err("missing ')' in the filter".into());
            }
            return Ok(f);
        }
        let name = match self.peek() {
            Some(Token::Word(w)) if w.contains(|c: char| c.is_ascii_alphabetic()) => w.clone(),
            Some(t) => return Err(format!("expected a protocol or field name in the filter, found {:?}", t.text())),
            None => return Err("the filter ends where a protocol or field name was expected".into()),
        };
        self.at += 1;
        const OPS: [(&str, &str, Op); 7] = [
            ("==", "eq", Op::Eq),
            ("!=", "ne", Op::Ne),
            ("<=", "le", Op::Le),
            (">=", "ge", Op::Ge),
            ("<", "lt", Op::Lt),
            (">", "gt", Op::Gt),
            ("", "contains", Op::Contains),
        ];
        let Some(op) = OPS.iter().find(|(s, w, _)| self.peek_sym(s) || self.peek_word(w)).map(|o| o.2) else {
            return Ok(Filter::Has(name));
        };
        self.at += 1;
        let value = match self.peek() {
            Some(Token::Word(w) | Token::Quoted(w)) => w.clone(),
            _ => return Err(format!("expected a value after {name} in the filter")),
        };
        self.at += 1;
        Ok(Filter::Cmp(name, op, value))
    }

    fn peek_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Token::Sym(t)) if *t == s)
    }

    fn peek_word(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(t)) if t == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{LayerId, PduName};
    use crate::trace::{Direction, Field};
    use std::net::Ipv4Addr;

    fn frame() -> Vec<Record> {
        let mut ip = Record::new(LayerId::Network, Direction::Up, "ip", "IPv4", PduName::Packet);
        ip.fields.push(Field::new("ip.src", "Source", Value::Ipv4(Ipv4Addr::new(192, 0, 2, 1))));
        ip.fields.push(Field::new("ip.dst", "Destination", Value::Ipv4(Ipv4Addr::new(192, 0, 2, 2))));
        let mut tcp = Record::new(LayerId::Transport, Direction::Up, "tcp", "TCP", PduName::Segment);
        tcp.fields.push(Field::uint("tcp.srcport", "Source Port", 51000u16));
        tcp.fields.push(Field::uint("tcp.dstport", "Destination Port", 3000u16));
        tcp.fields.push(Field::hex("tcp.flags", "Flags", 0x018u16, 4));
        tcp.fields.push(Field::flag("tcp.flags.syn", "Syn", false));
        vec![ip, tcp]
    }

    fn m(f: &str) -> bool {
        Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}")).matches(&frame())
    }

    #[test]
    fn protocols_fields_and_comparisons() {
        assert!(m("tcp"));
        assert!(!m("udp"));
        assert!(!m("dns"));
        assert!(m("tcp.port == 3000"));
        assert!(m("tcp.port eq 51000"));
        assert!(!m("tcp.port == 80"));
        assert!(m("tcp.dstport >= 3000 && tcp.dstport < 3001"));
        assert!(m("ip.addr == 192.0.2.2"));
        assert!(m("ip.src != 192.0.2.9"));
        assert!(m("tcp.flags == 0x0018"));
        assert!(m("tcp.flags == 24"));
        assert!(m("tcp.flags.syn == 0"));
        assert!(m("!udp and (tcp.dstport == 3000 or dns)"));
        assert!(!m("not tcp"));
        assert!(m("ip.src contains \"192.0\""));
    }

    #[test]
    fn bad_filters_say_why() {
        for (f, want) in [
            ("", "empty"),
            ("tcp.port ==", "expected a value"),
            ("(tcp", "missing ')'"),
            ("tcp $ 3", "unexpected character '$'"),
            ("== 3", "expected a protocol or field name"),
            ("tcp udp", "unexpected \"udp\""),
            ("http.host == \"x", "unterminated string"),
        ] {
            let e = Filter::parse(f).unwrap_err();
            assert!(e.contains(want), "{f:?}: {e}");
        }
    }
}
