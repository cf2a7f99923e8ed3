//! `--format fields`: one line per frame, the values of the `-e` fields separated by tabs, as
//! `tshark -T fields` prints them (tshark 4.0 defaults: `-E separator=/t`, `-E occurrence=a`,
//! `-E aggregator=,`, no header, no quoting).
//!
//! A field's value is its [`Value`](crate::trace::Value)'s `Display`, which every layer already
//! writes in tshark's text (integers in decimal; flags and checksums as `0x` and the field's hex
//! width; MACs `aa:bb:…`; booleans `0`/`1`; `ip.frag_offset` in 8-byte units). Every occurrence
//! in the frame's records, in order, is joined with `,`; an absent field prints nothing.

use crate::trace::{Name, Record};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The fields `osilab dissect -e` accepts, one per line, sorted: every display-filter name a record
/// of a capture can carry, so that a typo is an error and not an empty column. A test dissects every
/// capture in `fixtures/` and fails on a field name missing here.
pub const KNOWN_LIST: &str = include_str!("known_fields.txt");

/// Whether `-e` knows this field.
pub fn known(name: &str) -> bool {
    KNOWN_LIST.lines().any(|l| l == name)
}

/// Check the `-e` names: each must be a field osilab knows. The error lists the known ones.
pub fn validate(names: &[String]) -> Result<(), String> {
    for n in names {
        if !known(n) {
            let all: Vec<&str> = KNOWN_LIST.lines().collect();
            return Err(format!("unknown field {n:?} for -e; the known fields are: {}", all.join(" ")));
        }
    }
    Ok(())
}

/// All values of the field `name` in `records`, as tshark prints them, joined with `,`.
pub fn value(records: &[Record], name: &str, out: &mut String) {
    let mut first = true;
    for f in records.iter().flat_map(|r| r.fields.iter()).filter(|f| f.name == name) {
        if !first {
            out.push(',');
        }
        first = false;
        let _ = f.value.write_to(out);
    }
}

/// One line of `-T fields` output (without the newline).
pub fn line(records: &[Record], names: &[String], out: &mut String) {
    let mut bytes = Vec::new();
    Columns::new(names).line(records, &mut bytes);
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// The multiply-rotate hash of rustc's `FxHasher`: the keys are the `-e` names the user typed,
/// so there is no flooding to guard against, and SipHash costs more than the lookup it serves.
#[derive(Debug, Clone, Copy, Default)]
pub struct NameHasher(u64);

impl NameHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The `-e` columns, and where each field name goes: one pass over a frame's fields finds every
/// column's values (a frame has a few dozen fields, a command line up to hundreds of `-e`), then
/// the line is written column by column.
#[derive(Debug, Clone)]
pub struct Columns {
    /// Field name → its target: the index of the name among the distinct names asked for.
    index: HashMap<String, u32, BuildHasherDefault<NameHasher>>,
    /// Each column's target (a name asked for twice is one target, printed twice).
    columns: Vec<u32>,
    /// Per target, the frame's fields of that name, in order, as (record, field) indices.
    found: Vec<Vec<(usize, usize)>>,
    /// Names met as string literals, by address: see [`Columns::target`].
    literals: Box<[Literal; Literal::SLOTS]>,
}

/// One slot of the literal-name cache: a literal's address and length, and its entry in
/// `targets` ([`Literal::NONE`] for a name no column prints).
#[derive(Debug, Clone, Copy)]
struct Literal {
    addr: usize,
    len: u32,
    target: u32,
}

impl Literal {
    const NONE: u32 = u32::MAX;
    /// An empty slot: no name has this length (names that long are not cached).
    const EMPTY: Literal = Literal { addr: 0, len: u32::MAX, target: Literal::NONE };
    /// Slots in the cache (a power of two): the program has a few hundred name literals, and
    /// two that share a slot would evict each other on every frame.
    const SLOTS: usize = 4096;
}

impl Columns {
    /// The columns for these names, in order.
    pub fn new(names: &[String]) -> Self {
        let mut index: HashMap<String, u32, BuildHasherDefault<NameHasher>> = HashMap::default();
        let mut columns = Vec::with_capacity(names.len());
        for n in names {
            let next = u32::try_from(index.len()).unwrap_or(Literal::NONE);
            columns.push(*index.entry(n.clone()).or_insert(next));
        }
        Columns {
            found: vec![Vec::new(); index.len()],
            index,
            columns,
            literals: Box::new([Literal::EMPTY; Literal::SLOTS]),
        }
    }

    /// The entry in `targets` for a field name, or [`Literal::NONE`]. Almost every name is a
    /// string literal (`Cow::Borrowed` of a `&'static str`), which is never freed or changed:
    /// its address and length stand for its text, so a name met before is found by its address
    /// without hashing or comparing the text.
    fn target(&mut self, name: &Name) -> u32 {
        let s: &'static str = match name {
            Cow::Borrowed(s) => s,
            Cow::Owned(s) => return self.index.get(s.as_str()).copied().unwrap_or(Literal::NONE),
        };
        let addr = s.as_ptr() as usize;
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        // Fibonacci hashing of the address picks the slot.
        let slot = (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15_u64 as usize) >> 20) & (Literal::SLOTS - 1);
        // The mask keeps the slot inside the table.
        let l = &mut self.literals[slot];
        if l.addr == addr && l.len == len {
            return l.target;
        }
        let target = self.index.get(s).copied().unwrap_or(Literal::NONE);
        if len != u32::MAX {
            *l = Literal { addr, len, target };
        }
        target
    }

    /// Append the frame's line (without the newline) to `out`, as UTF-8. Within a column, a
    /// value that follows text gets a `,` before it.
    pub fn line(&mut self, records: &[Record], out: &mut Vec<u8>) {
        for v in &mut self.found {
            v.clear();
        }
        for (ri, r) in records.iter().enumerate() {
            for (fi, f) in r.fields.iter().enumerate() {
                let t = self.target(&f.name);
                if let Some(v) = self.found.get_mut(t as usize) {
                    v.push((ri, fi));
                }
            }
        }
        for (i, &t) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            let start = out.len();
            for &(ri, fi) in self.found.get(t as usize).map_or(&[][..], Vec::as_slice) {
                let Some(f) = records.get(ri).and_then(|r| r.fields.get(fi)) else { continue };
                if out.len() > start {
                    out.push(b',');
                }
                f.value.write_bytes(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{LayerId, PduName};
    use crate::trace::{Direction, Field};

    fn rec(fields: Vec<Field>) -> Record {
        let mut r = Record::new(LayerId::Network, Direction::Up, "ip", "t", PduName::Packet);
        r.fields = fields;
        r
    }

    #[test]
    fn occurrences_join_with_commas_and_absent_fields_are_empty() {
        let outer = rec(vec![Field::uint("ip.ttl", "TTL", 64u8), Field::hex("ip.checksum", "c", 0x1234u16, 4)]);
        let inner = rec(vec![Field::uint("ip.ttl", "TTL", 1u8)]);
        let mut s = String::new();
        line(&[outer, inner], &["ip.ttl".into(), "udp.srcport".into(), "ip.checksum".into()], &mut s);
        assert_eq!(s, "64,1\t\t0x1234");
    }

    #[test]
    fn names_are_found_whether_literal_or_built() {
        let built = |n: &str| Field::uint(String::from(n), "x", 7u8);
        let r = rec(vec![
            Field::uint("ip.ttl", "TTL", 64u8),
            built("ip.ttl"),
            built("udp.srcport"),
            Field::uint("ip.ttl", "TTL", 1u8),
            Field::uint("ip.id", "ID", 9u8),
        ]);
        let names: Vec<String> = ["ip.ttl", "udp.srcport", "ip.ttl", "ip.src"].map(String::from).to_vec();
        let mut c = Columns::new(&names);
        for _ in 0..3 {
            // The second and third frames find the literals in the cache.
            let mut s = Vec::new();
            c.line(std::slice::from_ref(&r), &mut s);
            assert_eq!(s, b"64,7,1\t7\t64,7,1\t");
        }
    }

    #[test]
    fn unknown_field_is_an_error_listing_the_known_ones() {
        let e = validate(&["ip.srcc".into()]).unwrap_err();
        assert!(e.contains("\"ip.srcc\"") && e.contains(" ip.src ") && e.contains("http.response.code"));
        assert!(validate(&["ip.src".into(), "dns.a".into()]).is_ok());
    }

    #[test]
    fn the_issue_list_is_known() {
        let list = "frame.len eth.src eth.dst eth.type vlan.id arp.opcode arp.src.proto_ipv4 arp.dst.proto_ipv4 \
            ip.version ip.hdr_len ip.len ip.id ip.flags.mf ip.frag_offset ip.ttl ip.proto ip.checksum ip.src ip.dst \
            ipv6.plen ipv6.nxt ipv6.hlim ipv6.src ipv6.dst icmp.type icmp.code icmpv6.type tcp.srcport tcp.dstport \
            tcp.seq_raw tcp.ack_raw tcp.hdr_len tcp.flags tcp.window_size_value tcp.checksum tcp.len \
            tcp.options.mss_val udp.srcport udp.dstport udp.length udp.checksum dns.id dns.flags.response \
            dns.qry.name dns.qry.type dns.a dns.aaaa http.request.method http.request.uri http.response.code";
        let names: Vec<String> = list.split_whitespace().map(String::from).collect();
        assert_eq!(validate(&names), Ok(()));
    }
}
