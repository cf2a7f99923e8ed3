//! `--format fields`: one line per frame, the values of the `-e` fields separated by tabs, as
//! `tshark -T fields` prints them (tshark 4.0 defaults: `-E separator=/t`, `-E occurrence=a`,
//! `-E aggregator=,`, no header, no quoting).
//!
//! A field's value is its [`Value`](crate::trace::Value)'s `Display`, which every layer already
//! writes in tshark's text (integers in decimal; flags and checksums as `0x` and the field's hex
//! width; MACs `aa:bb:…`; booleans `0`/`1`; `ip.frag_offset` in 8-byte units). Every occurrence
//! in the frame's records, in order, is joined with `,`; an absent field prints nothing.

use crate::trace::Record;
use std::collections::HashMap;
use std::fmt::Write as _;

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
        let _ = write!(out, "{}", f.value);
    }
}

/// One line of `-T fields` output (without the newline).
pub fn line(records: &[Record], names: &[String], out: &mut String) {
    Columns::new(names).line(records, out);
}

/// The `-e` columns, and where each field name goes: one pass over a frame's fields fills every
/// column (a frame has a few dozen fields, a command line up to hundreds of `-e`).
#[derive(Debug, Clone)]
pub struct Columns {
    /// Field name → the columns that print it (a name may be asked for twice).
    index: HashMap<String, Vec<usize>>,
    cols: Vec<String>,
}

impl Columns {
    /// The columns for these names, in order.
    pub fn new(names: &[String]) -> Self {
        let mut index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            index.entry(n.clone()).or_default().push(i);
        }
        Columns { index, cols: vec![String::new(); names.len()] }
    }

    /// Append the frame's line (without the newline) to `out`.
    pub fn line(&mut self, records: &[Record], out: &mut String) {
        for c in &mut self.cols {
            c.clear();
        }
        for f in records.iter().flat_map(|r| r.fields.iter()) {
            let Some(cols) = self.index.get(f.name.as_ref()) else { continue };
            for &i in cols {
                let c = &mut self.cols[i];
                if !c.is_empty() {
                    c.push(',');
                }
                let _ = write!(c, "{}", f.value);
            }
        }
        for (i, c) in self.cols.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            out.push_str(c);
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
