//! Fragment reassembly for IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5), with the hole-descriptor
//! list of RFC 815.
//!
//! Read this first: RFC 791 §3.2 ("Fragmentation and Reassembly"), RFC 815 (the hole list),
//! RFC 1122 §3.3.2 (reassembly timeout), RFC 8200 §4.5 (the IPv6 Fragment header) and RFC 5722
//! (overlapping IPv6 fragments are an attack, not an accident).
//!
//! The reassembler knows nothing of headers: the caller hands it the key of the datagram, the
//! byte offset and data of one fragment and its "more fragments" flag, and gets back whether the
//! datagram is still waiting, complete, or broken. Errors are a small local enum that the caller,
//! which knows where the fragment sits in the frame, turns into an [`Error`](crate::error::Error).

use crate::time::Instant;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::time::Duration;

/// RFC 1122 §3.3.2: "a realistic minimum reassembly time would be 60 seconds"; RFC 8200 §4.5:
/// abandon reassembly if not complete within 60 seconds of the first-arriving fragment.
pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(60);

/// At most this many datagrams are reassembled at once; a new one evicts the oldest (a bounded
/// buffer, as every real stack has, so that arbitrary input cannot exhaust memory).
pub const MAX_DATAGRAMS: usize = 64;

/// What identifies the fragments of one datagram.
///
/// RFC 791 §3.2: source, destination, protocol and identification. RFC 8200 §4.5: source,
/// destination and identification (`proto` is then `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 protocol; `None` for IPv6.
    pub proto: Option<u8>,
    /// Identification (16 bits in IPv4, 32 in IPv6).
    pub id: u32,
}

/// How overlapping fragments are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlapPolicy {
    /// IPv4: overlaps that carry the same bytes are accepted (retransmitted or re-fragmented
    /// data); overlaps that disagree are refused.
    SameBytes,
    /// IPv6, RFC 8200 §4.5 / RFC 5722: any overlap abandons the datagram, except an exact
    /// duplicate (same offset, length and bytes), which may be dropped alone.
    ExactDuplicateOnly,
}

/// One fragment handed to the reassembler.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Byte offset of `data` in the datagram's payload (fragment offset × 8).
    pub offset: usize,
    /// The fragment's data.
    pub data: &'a [u8],
    /// More fragments follow (MF / M flag).
    pub more: bool,
    /// The upper-layer protocol this fragment announces (IPv6: the Fragment header's Next
    /// Header, which counts only on the first fragment, RFC 8200 §4.5).
    pub proto: u8,
}

/// What became of a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Held; `received` bytes are in, `total` is known once the last fragment has arrived.
    Held { received: usize, total: Option<usize> },
    /// An exact duplicate of a fragment already held: dropped, the datagram still waits.
    Duplicate { received: usize, total: Option<usize> },
    /// The datagram is complete.
    Complete(Reassembled),
}

/// A complete datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// The payload, all fragments' data in order.
    pub data: Vec<u8>,
    /// The number of distinct fragments it was built from (duplicates not counted).
    pub fragments: usize,
    /// The protocol announced by the first fragment (offset 0).
    pub proto: u8,
}

/// Why a fragment was refused (the datagram's buffer is then discarded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// RFC 791 §3.2 / RFC 8200 §4.5: a fragment with more to follow must carry a multiple of 8 bytes.
    NotMultipleOf8 { len: usize },
    /// The reassembled payload would exceed `limit` bytes (RFC 791: 65535 − header; RFC 8200 §4.5).
    TooLong { end: usize, limit: usize },
    /// Two fragments overlap with different bytes (IPv4), or overlap at all (IPv6).
    Overlap { at: usize, earlier: Range<usize> },
    /// A last fragment ends elsewhere than an earlier last fragment, or data lies beyond the end.
    BeyondEnd { end: usize, total: usize },
}

/// An RFC 815 hole descriptor: bytes `first..=last` are still missing (`last` = `usize::MAX`
/// while the last fragment has not arrived: "infinity").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hole {
    first: usize,
    last: usize,
}

#[derive(Debug, Clone)]
struct Buffer {
    first_seen: Instant,
    holes: Vec<Hole>,
    data: Vec<u8>,
    /// The byte ranges received so far (for overlap checks).
    pieces: Vec<Range<usize>>,
    total: Option<usize>,
    proto: Option<u8>,
}

impl Buffer {
    fn new(now: Instant) -> Self {
        Buffer {
            first_seen: now,
            holes: vec![Hole { first: 0, last: usize::MAX }],
            data: Vec::new(),
            pieces: Vec::new(),
            total: None,
            proto: None,
        }
    }

    fn received(&self) -> usize {
        // Pieces may overlap (IPv4 same-byte overlaps): count the bytes covered, not the sum.
        let mut ranges: Vec<Range<usize>> = self.pieces.clone();
        ranges.sort_by_key(|r| r.start);
        let mut covered = 0;
        let mut end = 0;
        for r in ranges {
            let start = r.start.max(end);
            if r.end > start {
                covered += r.end - start;
                end = r.end;
            }
        }
        covered
    }
}

/// A datagram abandoned before it was complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// Its key.
    pub key: Key,
    /// Bytes that had arrived.
    pub received: usize,
    /// Why: "timed out" or "evicted".
    pub reason: &'static str,
}

/// The datagrams being reassembled.
#[derive(Debug, Clone, Default)]
pub struct Reassembler {
    buffers: BTreeMap<Key, Buffer>,
}

impl Reassembler {
    /// Nothing held.
    pub fn new() -> Self {
        Reassembler::default()
    }

    /// How many datagrams are waiting for fragments.
    pub fn pending(&self) -> usize {
        self.buffers.len()
    }

    /// Discard datagrams whose first fragment arrived more than [`REASSEMBLY_TIMEOUT`] before
    /// `now` (RFC 1122 §3.3.2; RFC 8200 §4.5).
    pub fn expire(&mut self, now: Instant) -> Vec<Expired> {
        let mut gone = Vec::new();
        self.buffers.retain(|key, b| {
            let keep = now - b.first_seen <= REASSEMBLY_TIMEOUT;
            if !keep {
                gone.push(Expired { key: *key, received: b.received(), reason: "timed out" });
            }
            keep
        });
        gone
    }

    /// Add one fragment of the datagram `key`, arriving at `now`. `limit` is the largest payload
    /// the reassembled datagram may have. On a [`Problem`] the datagram's buffer is discarded.
    pub fn insert(
        &mut self,
        key: Key,
        now: Instant,
        frag: Fragment<'_>,
        limit: usize,
        policy: OverlapPolicy,
    ) -> (Result<Outcome, Problem>, Option<Expired>) {
        let mut evicted = None;
        if !self.buffers.contains_key(&key) && self.buffers.len() >= MAX_DATAGRAMS {
            let oldest = self.buffers.iter().min_by_key(|(_, b)| b.first_seen).map(|(k, _)| *k);
            if let Some(k) = oldest {
                if let Some(b) = self.buffers.remove(&k) {
                    evicted = Some(Expired { key: k, received: b.received(), reason: "evicted" });
                }
            }
        }
        let buf = self.buffers.entry(key).or_insert_with(|| Buffer::new(now));
        let result = add(buf, frag, limit, policy);
        match &result {
            Err(_) | Ok(Outcome::Complete(_)) => {
                self.buffers.remove(&key);
            }
            Ok(_) => {}
        }
        (result, evicted)
    }
}

fn add(buf: &mut Buffer, frag: Fragment<'_>, limit: usize, policy: OverlapPolicy) -> Result<Outcome, Problem> {
    let start = frag.offset;
    let end = start.saturating_add(frag.data.len());
    // RFC 791 §3.2 (fragments carry 8-octet blocks) and RFC 8200 §4.5 (a fragment with M = 1
    // whose length is not a multiple of 8 is discarded).
    if frag.more && frag.data.len() % 8 != 0 {
        return Err(Problem::NotMultipleOf8 { len: frag.data.len() });
    }
    if end > limit {
        return Err(Problem::TooLong { end, limit });
    }
    if let Some(total) = buf.total {
        if end > total || (!frag.more && end != total) {
            return Err(Problem::BeyondEnd { end, total });
        }
    }
    if !frag.more {
        if let Some(max_end) = buf.pieces.iter().map(|r| r.end).max() {
            if max_end > end {
                return Err(Problem::BeyondEnd { end: max_end, total: end });
            }
        }
    }
    // Overlaps with what is already held.
    for piece in &buf.pieces {
        let lo = start.max(piece.start);
        let hi = end.min(piece.end);
        if lo >= hi {
            continue;
        }
        let exact = piece.start == start && piece.end == end && buf.data.get(start..end) == Some(frag.data);
        if exact {
            return Ok(Outcome::Duplicate { received: buf.received(), total: buf.total });
        }
        let same = buf.data.get(lo..hi) == frag.data.get(lo - start..hi - start);
        if policy == OverlapPolicy::ExactDuplicateOnly || !same {
            return Err(Problem::Overlap { at: lo, earlier: piece.clone() });
        }
    }
    // Store the bytes.
    if buf.data.len() < end {
        buf.data.resize(end, 0);
    }
    if let Some(dst) = buf.data.get_mut(start..end) {
        dst.copy_from_slice(frag.data);
    }
    buf.pieces.push(start..end);
    if start == 0 {
        buf.proto = Some(frag.proto);
    }
    if !frag.more {
        buf.total = Some(end);
    }
    // RFC 815 §3: fill the holes this fragment covers.
    let last = if end == 0 { None } else { Some(end - 1) };
    let mut holes = Vec::with_capacity(buf.holes.len() + 1);
    for hole in buf.holes.drain(..) {
        // Step 2/3: no overlap with this hole (an empty fragment covers nothing).
        let Some(frag_last) = last else {
            holes.push(hole);
            continue;
        };
        if start > hole.last || frag_last < hole.first {
            holes.push(hole);
            continue;
        }
        // Step 4 deletes the hole; steps 5 and 6 put back what this fragment leaves uncovered.
        if start > hole.first {
            holes.push(Hole { first: hole.first, last: start - 1 });
        }
        if frag_last < hole.last && frag.more {
            holes.push(Hole { first: frag_last + 1, last: hole.last });
        }
    }
    // The last fragment bounds the datagram: a hole starting at or past the end is no hole.
    if let Some(total) = buf.total {
        holes.retain(|h| h.first < total);
        for h in &mut holes {
            h.last = h.last.min(total.saturating_sub(1));
        }
    }
    buf.holes = holes;
    // Step 8: no holes left and the end is known: complete.
    match buf.total {
        Some(total) if buf.holes.is_empty() => {
            let mut data = std::mem::take(&mut buf.data);
            data.truncate(total);
            Ok(Outcome::Complete(Reassembled { data, fragments: buf.pieces.len(), proto: buf.proto.unwrap_or(0) }))
        }
        total => Ok(Outcome::Held { received: buf.received(), total }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const KEY: Key = Key {
        src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        proto: Some(17),
        id: 1,
    };

    fn put(r: &mut Reassembler, offset: usize, data: &[u8], more: bool) -> Result<Outcome, Problem> {
        r.insert(KEY, Instant::ZERO, Fragment { offset, data, more, proto: 17 }, 65515, OverlapPolicy::SameBytes).0
    }

    #[test]
    fn holes_are_filled_per_rfc_815() {
        let mut r = Reassembler::new();
        // The middle first: holes 0..=7 and 16..=∞.
        assert_eq!(put(&mut r, 8, &[2; 8], true), Ok(Outcome::Held { received: 8, total: None }));
        assert_eq!(r.buffers[&KEY].holes, [Hole { first: 0, last: 7 }, Hole { first: 16, last: usize::MAX }]);
        // The last: the infinite hole ends at 23.
        assert_eq!(put(&mut r, 24, &[4; 3], false), Ok(Outcome::Held { received: 11, total: Some(27) }));
        assert_eq!(r.buffers[&KEY].holes, [Hole { first: 0, last: 7 }, Hole { first: 16, last: 23 }]);
        assert_eq!(put(&mut r, 0, &[1; 8], true), Ok(Outcome::Held { received: 19, total: Some(27) }));
        let Ok(Outcome::Complete(done)) = put(&mut r, 16, &[3; 8], true) else { panic!("not complete") };
        assert_eq!(done.data, [[1; 8], [2; 8], [3; 8]].concat().into_iter().chain([4; 3]).collect::<Vec<u8>>());
        assert_eq!((done.fragments, done.proto), (4, 17));
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn eviction_keeps_memory_bounded() {
        let mut r = Reassembler::new();
        for id in 0..=MAX_DATAGRAMS as u32 {
            let key = Key { id, ..KEY };
            let frag = Fragment { offset: 0, data: &[0; 8], more: true, proto: 17 };
            let (res, evicted) =
                r.insert(key, Instant::from_nanos(u64::from(id)), frag, 65515, OverlapPolicy::SameBytes);
            assert!(res.is_ok());
            assert_eq!(evicted.map(|e| e.key.id), (id as usize == MAX_DATAGRAMS).then_some(0));
        }
        assert_eq!(r.pending(), MAX_DATAGRAMS);
    }
}
