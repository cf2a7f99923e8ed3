//! Reassembly in capture mode: the host's reassembler (RFC 791 §3.2, RFC 8200 §4.5, RFC 815)
//! plus, for each datagram being put together, where its fragments came from, so that the frame
//! that completes it can list them as tshark does:
//!
//! ```text
//! [3 IPv4 Fragments (3008 bytes): #1(1480), #2(1480), #3(48)]   ip.fragments
//!     [Frame: 1, payload: 0-1479 (1480 bytes)]                   ip.fragment (one per fragment)
//!     [Fragment count: 3]                                        ip.fragment.count
//!     [Reassembled IPv4 length: 3008]                            ip.reassembled.length
//!     [Reassembled IPv4 data: 080071f4…]                         ip.reassembled.data
//! ```
//!
//! (`ipv6.*` likewise, but `ipv6.fragments` is an FT_NONE item: `tshark -T fields` prints `1`.)
//! The table holds entries only for datagrams the reassembler holds, so it has the same bounds
//! ([`MAX_DATAGRAMS`], [`MAX_PIECES`]).

use super::super::ip::{problem_error, Family};
use super::super::reassembly::{Fragment, Key, Outcome, Reassembled, MAX_DATAGRAMS, MAX_PIECES};
use super::super::{expired_note, Network};
use super::none_field;
use crate::layer::Context;
use crate::trace::{text_if, Expert, Field, Group, Record, Severity, Value};
use std::collections::BTreeMap;

/// One fragment received: the frame it came in (if known) and its place in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// 1-based frame number, if the dissector gave it.
    pub frame: Option<usize>,
    /// Offset of its data in the datagram's payload.
    pub offset: usize,
    /// Bytes of data.
    pub len: usize,
}

/// The fragments of each datagram being reassembled.
#[derive(Debug, Clone, Default)]
pub struct Table {
    map: BTreeMap<Key, Vec<Piece>>,
}

impl Table {
    fn add(&mut self, key: Key, piece: Piece) {
        if self.map.len() >= MAX_DATAGRAMS && !self.map.contains_key(&key) {
            // The reassembler evicts in step; this only keeps the table bounded on its own.
            if let Some(k) = self.map.keys().next().copied() {
                self.map.remove(&k);
            }
        }
        let v = self.map.entry(key).or_default();
        if v.len() <= MAX_PIECES {
            v.push(piece);
        }
    }

    fn take(&mut self, key: &Key) -> Vec<Piece> {
        self.map.remove(key).unwrap_or_default()
    }

    /// Datagrams listed, and the most fragments listed for one (for the tests' bounds).
    #[cfg(test)]
    pub fn sizes(&self) -> (usize, usize) {
        (self.map.len(), self.map.values().map(Vec::len).max().unwrap_or(0))
    }
}

/// Drop the datagrams held longer than the reassembly timeout (RFC 1122 §3.3.2, RFC 8200
/// §4.5), each an expert item on `r`.
pub(super) fn expire(net: &mut Network, cx: &Context, r: &mut Record) {
    for gone in net.reassembler.expire(cx.now) {
        r.expert.push(Expert::new(Severity::Note, Group::Reassemble, expired_note(&gone), None));
        net.capture.fragments.take(&gone.key);
    }
}

/// Feed one fragment to the reassembler (`limit`: the largest payload; `header_at`: the frame
/// offset of the header holding the fragment fields, for a refused fragment's expert item).
/// Notes and expert items go on `r`. The datagram and its fragments, in payload order, when
/// this fragment completes it.
#[allow(clippy::too_many_arguments)]
pub(super) fn reassemble(
    net: &mut Network,
    cx: &Context,
    r: &mut Record,
    fam: &Family,
    key: Key,
    frag: Fragment<'_>,
    limit: usize,
    header_at: usize,
) -> Option<(Reassembled, Vec<Piece>)> {
    let piece = Piece { frame: net.capture.frame, offset: frag.offset, len: frag.data.len() };
    let (result, evicted) = net.reassembler.insert(key, cx.now, frag, limit, fam.overlap);
    if let Some(gone) = evicted {
        r.expert.push(Expert::new(Severity::Note, Group::Reassemble, expired_note(&gone), None));
        net.capture.fragments.take(&gone.key);
    }
    match result {
        Ok(Outcome::Held { received, total }) => {
            net.capture.fragments.add(key, piece);
            net.capture.last_held = true;
            let total = total.map_or_else(|| "?".to_string(), |t| t.to_string());
            r.notes.push(format!("fragment held for reassembly ({received} of {total} bytes)"));
            None
        }
        Ok(Outcome::Duplicate { .. }) => {
            r.notes.push(fam.duplicate.to_string());
            None
        }
        Ok(Outcome::Abandoned(gone)) => {
            net.capture.fragments.take(&key);
            r.expert.push(Expert::new(Severity::Warning, Group::Reassemble, expired_note(&gone), None));
            None
        }
        Ok(Outcome::Complete(done)) => {
            let mut pieces = net.capture.fragments.take(&key);
            pieces.push(piece);
            pieces.sort_by_key(|p| p.offset);
            if cx.detail {
                r.notes.push(format!("reassembled from {} fragments ({} bytes)", done.fragments, done.data.len()));
            }
            Some((done, pieces))
        }
        Err(p) => {
            net.capture.fragments.take(&key);
            let e = problem_error(fam, &p, header_at);
            r.expert.push(Expert::new(Severity::Error, Group::Reassemble, format!("{e}"), e.offset));
            None
        }
    }
}

/// The names and labels of one family's reassembly fields.
struct Names {
    fam: &'static str,
    fragment: (&'static str, &'static str),
    count: &'static str,
    length: (&'static str, &'static str),
    data: (&'static str, &'static str),
}

const V4: Names = Names {
    fam: "IPv4",
    fragment: ("ip.fragment", "IPv4 Fragment"),
    count: "ip.fragment.count",
    length: ("ip.reassembled.length", "Reassembled IPv4 length"),
    data: ("ip.reassembled.data", "Reassembled IPv4 data"),
};

const V6: Names = Names {
    fam: "IPv6",
    fragment: ("ipv6.fragment", "IPv6 Fragment"),
    count: "ipv6.fragment.count",
    length: ("ipv6.reassembled.length", "Reassembled IPv6 length"),
    data: ("ipv6.reassembled.data", "Reassembled IPv6 data"),
};

/// tshark's fields for a reassembled datagram, after the header of the fragment that completed
/// it. The `ip.fragment` items are left out unless every fragment's frame number is known.
/// Without `detail`, no renderings ([`Context::detail`]).
pub(super) fn fields(v6: bool, data: &[u8], pieces: &[Piece], detail: bool) -> Vec<Field> {
    let n = if v6 { &V6 } else { &V4 };
    let heading = || {
        let list: Vec<String> = pieces.iter().map(|x| format!("#{}({})", x.frame.unwrap_or(0), x.len)).collect();
        format!("{} {} Fragments ({} bytes): {}", pieces.len(), n.fam, data.len(), list.join(", "))
    };
    let mut f = Vec::with_capacity(pieces.len() + 4);
    f.push(if v6 {
        none_field("ipv6.fragments", "IPv6 Fragments", text_if(detail, heading))
    } else {
        Field::new("ip.fragments", "IPv4 Fragments", Value::Bytes(data.to_vec())).shown_if(detail, heading)
    });
    if pieces.iter().all(|x| x.frame.is_some()) {
        for x in pieces {
            let frame = x.frame.unwrap_or(0);
            let end = (x.offset + x.len).saturating_sub(1);
            f.push(
                Field::uint(n.fragment.0, n.fragment.1, frame as u64)
                    .shown_if(detail, || format!("Frame: {frame}, payload: {}-{end} ({} bytes)", x.offset, x.len))
                    .depth(1),
            );
        }
    }
    f.push(Field::uint(n.count, "Fragment count", pieces.len() as u64).depth(1));
    f.push(Field::uint(n.length.0, n.length.1, data.len() as u64).depth(1));
    f.push(
        Field::new(n.data.0, n.data.1, Value::Bytes(data.to_vec()))
            .shown_if(detail, || crate::trace::hex_preview(data, 36))
            .depth(1),
    );
    f
}
