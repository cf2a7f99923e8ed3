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

/// At most this many distinct fragments are held for one datagram; one more abandons the
/// datagram (reported like an eviction). Fragments carry at least 8 bytes each (RFC 791 §3.2), so
/// an IPv6 packet never needs more than 8192, but IPv4 accepts overlapping fragments with the same
/// bytes, and without a bound a sender could make every arrival cost more than the last.
pub const MAX_PIECES: usize = 1024;

/// The [`Expired::reason`] of a datagram abandoned at [`MAX_PIECES`].
pub const TOO_MANY_PIECES: &str = "abandoned after more than 1024 fragments";

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
    /// The datagram already held [`MAX_PIECES`] fragments: it is abandoned with this one.
    Abandoned(Expired),
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
    /// RFC 791 §3.2 / RFC 8200 §4.5: fragments carry data in 8-byte blocks, and one with more to
    /// follow and no data makes no progress (`offset` is where it claims to be in the payload).
    EmptyNotLast { offset: usize },
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
    /// The byte ranges received so far (for overlap checks), sorted by start as they arrive.
    pieces: Vec<Range<usize>>,
    /// Bytes covered by `pieces` (IPv4 pieces may overlap: each byte counted once), kept as
    /// pieces arrive.
    received: usize,
    /// The furthest end of any piece.
    max_end: usize,
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
            received: 0,
            max_end: 0,
            total: None,
            proto: None,
        }
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
                gone.push(Expired { key: *key, received: b.received, reason: "timed out" });
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
        // What is wrong with the fragment alone is found before any buffer is made or evicted for
        // it; the datagram it belongs to, if held, is discarded as for any other problem.
        if let Err(p) = check_alone(frag, limit) {
            self.buffers.remove(&key);
            return (Err(p), None);
        }
        let mut evicted = None;
        if !self.buffers.contains_key(&key) && self.buffers.len() >= MAX_DATAGRAMS {
            let oldest = self.buffers.iter().min_by_key(|(_, b)| b.first_seen).map(|(k, _)| *k);
            if let Some(k) = oldest {
                if let Some(b) = self.buffers.remove(&k) {
                    evicted = Some(Expired { key: k, received: b.received, reason: "evicted" });
                }
            }
        }
        let buf = self.buffers.entry(key).or_insert_with(|| Buffer::new(now));
        let result = add(buf, key, frag, policy);
        match &result {
            Err(_) | Ok(Outcome::Complete(_) | Outcome::Abandoned(_)) => {
                self.buffers.remove(&key);
            }
            Ok(_) => {}
        }
        (result, evicted)
    }
}

/// The checks that need no other fragment.
fn check_alone(frag: Fragment<'_>, limit: usize) -> Result<(), Problem> {
    let end = frag.offset.saturating_add(frag.data.len());
    // RFC 791 §3.2: "the fragment offset is measured in units of 8 octets", so every fragment
    // but the last carries data in 8-octet blocks; one with MF = 1 and no data at all carries
    // none and makes no progress (RFC 8200 §4.5: a fragment with M = 1 carries a multiple of 8
    // bytes, and an empty one is no fragment of anything). Refused, so that such fragments
    // cannot pile up in a buffer.
    if frag.more && frag.data.is_empty() {
        return Err(Problem::EmptyNotLast { offset: frag.offset });
    }
    // RFC 791 §3.2 (fragments carry 8-octet blocks) and RFC 8200 §4.5 (a fragment with M = 1
    // whose length is not a multiple of 8 is discarded).
    if frag.more && frag.data.len() % 8 != 0 {
        return Err(Problem::NotMultipleOf8 { len: frag.data.len() });
    }
    if end > limit {
        return Err(Problem::TooLong { end, limit });
    }
    Ok(())
}

fn add(buf: &mut Buffer, key: Key, frag: Fragment<'_>, policy: OverlapPolicy) -> Result<Outcome, Problem> {
    let start = frag.offset;
    let end = start.saturating_add(frag.data.len());
    if let Some(total) = buf.total {
        if end > total || (!frag.more && end != total) {
            return Err(Problem::BeyondEnd { end, total });
        }
    }
    if !frag.more && buf.max_end > end {
        return Err(Problem::BeyondEnd { end: buf.max_end, total: end });
    }
    // Overlaps with what is already held: only pieces that start before this one ends can
    // overlap it (pieces are sorted by start). `buf.data` agrees with every piece, so each byte
    // of the fragment is compared with it once, however many pieces cover it (`checked` is where
    // the comparison has reached).
    let before_end = buf.pieces.partition_point(|p| p.start < end);
    let mut exact = false;
    let mut checked = start;
    for piece in &buf.pieces[..before_end] {
        let lo = start.max(piece.start);
        let hi = end.min(piece.end);
        if lo >= hi {
            continue;
        }
        let from = lo.max(checked);
        let same = from >= hi || buf.data.get(from..hi) == frag.data.get(from - start..hi - start);
        checked = checked.max(hi);
        let this_exact = same && piece.start == start && piece.end == end;
        // IPv4 (RFC 791 §3.2) accepts overlaps that repeat the same bytes; RFC 8200 §4.5 and
        // RFC 5722 accept only an exact duplicate.
        if !same || (policy == OverlapPolicy::ExactDuplicateOnly && !this_exact) {
            return Err(Problem::Overlap { at: lo, earlier: piece.clone() });
        }
        exact |= this_exact;
    }
    if exact {
        return Ok(Outcome::Duplicate { received: buf.received, total: buf.total });
    }
    // RFC 1122 §3.3.2 leaves buffer management to the host: one fragment beyond the bound
    // abandons the datagram.
    if buf.pieces.len() >= MAX_PIECES {
        return Ok(Outcome::Abandoned(Expired { key, received: buf.received, reason: TOO_MANY_PIECES }));
    }
    // The bytes this fragment adds: its overlap with each RFC 815 hole (holes are exactly the
    // bytes not yet received, so no piece is counted twice).
    buf.received +=
        buf.holes.iter().map(|h| end.min(h.last.saturating_add(1)).saturating_sub(start.max(h.first))).sum::<usize>();
    // Store the bytes.
    if buf.data.len() < end {
        buf.data.resize(end, 0);
    }
    if let Some(dst) = buf.data.get_mut(start..end) {
        dst.copy_from_slice(frag.data);
    }
    let at = buf.pieces.partition_point(|p| p.start <= start);
    buf.pieces.insert(at, start..end);
    buf.max_end = buf.max_end.max(end);
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
        total => Ok(Outcome::Held { received: buf.received, total }),
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
    fn an_empty_fragment_with_more_to_follow_is_refused() {
        let mut r = Reassembler::new();
        assert_eq!(put(&mut r, 8, &[], true), Err(Problem::EmptyNotLast { offset: 8 }));
        assert_eq!(r.pending(), 0, "no buffer is made for it");
        // Refused alongside a held datagram, it discards that datagram as any refusal does.
        assert!(put(&mut r, 0, &[1; 8], true).is_ok());
        assert_eq!(put(&mut r, 16, &[], true), Err(Problem::EmptyNotLast { offset: 16 }));
        assert_eq!(r.pending(), 0);
        // An empty last fragment still tells where the datagram ends.
        assert!(put(&mut r, 0, &[1; 8], true).is_ok());
        let Ok(Outcome::Complete(done)) = put(&mut r, 8, &[], false) else { panic!("not complete") };
        assert_eq!((done.data, done.fragments), (vec![1; 8], 2));
    }

    #[test]
    fn a_refused_fragment_evicts_nothing() {
        let mut r = Reassembler::new();
        for id in 0..MAX_DATAGRAMS as u32 {
            let frag = Fragment { offset: 0, data: &[0; 8], more: true, proto: 17 };
            assert!(r.insert(Key { id, ..KEY }, Instant::ZERO, frag, 65515, OverlapPolicy::SameBytes).0.is_ok());
        }
        for data in [&[][..], &[0; 12][..]] {
            let frag = Fragment { offset: 8, data, more: true, proto: 17 };
            let (res, evicted) = r.insert(Key { id: 999, ..KEY }, Instant::ZERO, frag, 65515, OverlapPolicy::SameBytes);
            assert!(res.is_err());
            assert_eq!(evicted, None);
            assert_eq!(r.pending(), MAX_DATAGRAMS);
        }
    }

    #[test]
    fn received_counts_overlapping_bytes_once_and_pieces_stay_sorted() {
        let mut r = Reassembler::new();
        let data: Vec<u8> = (0..48).collect();
        assert_eq!(put(&mut r, 32, &data[32..40], true), Ok(Outcome::Held { received: 8, total: None }));
        assert_eq!(put(&mut r, 8, &data[8..24], true), Ok(Outcome::Held { received: 24, total: None }));
        // 0..16 overlaps 8..24 with the same bytes: 8 new bytes, not 16.
        assert_eq!(put(&mut r, 0, &data[..16], true), Ok(Outcome::Held { received: 32, total: None }));
        // Covered twice over (0..16 and 8..24): nothing new.
        assert_eq!(put(&mut r, 8, &data[8..16], true), Ok(Outcome::Held { received: 32, total: None }));
        // Sorted by start; equal starts keep their order of arrival.
        assert_eq!(r.buffers[&KEY].pieces, [0..16, 8..24, 8..16, 32..40]);
        assert_eq!(put(&mut r, 8, &data[8..24], true), Ok(Outcome::Duplicate { received: 32, total: None }));
        // The last fragment, overlapping 32..40: 8 new bytes at 40..48, the end known.
        assert_eq!(put(&mut r, 24, &data[24..48], false).map(|o| matches!(o, Outcome::Complete(_))), Ok(true));
        // Different bytes under a later piece are still found.
        assert!(put(&mut r, 0, &data[..16], true).is_ok());
        assert!(put(&mut r, 8, &data[8..24], true).is_ok());
        let mut bad = data[..24].to_vec();
        bad[20] ^= 1;
        assert_eq!(put(&mut r, 0, &bad, true), Err(Problem::Overlap { at: 8, earlier: 8..24 }));
    }

    #[test]
    fn too_many_pieces_abandon_the_datagram() {
        assert!(TOO_MANY_PIECES.contains(&MAX_PIECES.to_string()));
        let mut r = Reassembler::new();
        // IPv4 takes overlaps with the same bytes: 0..8, 0..16, ... are all distinct pieces.
        let zeros = vec![0u8; 8 * (MAX_PIECES + 1)];
        for i in 1..=MAX_PIECES {
            let got = put(&mut r, 0, &zeros[..8 * i], true);
            assert_eq!(got, Ok(Outcome::Held { received: 8 * i, total: None }), "piece {i}");
        }
        // At the bound an exact duplicate is still only a duplicate...
        assert_eq!(put(&mut r, 0, &zeros[..8], true), Ok(Outcome::Duplicate { received: 8192, total: None }));
        // ...and one more piece abandons the datagram.
        let got = put(&mut r, 0, &zeros, true);
        assert_eq!(got, Ok(Outcome::Abandoned(Expired { key: KEY, received: 8192, reason: TOO_MANY_PIECES })));
        assert_eq!(r.pending(), 0);
        // The next fragment of that datagram starts afresh.
        assert_eq!(put(&mut r, 0, &zeros[..8], true), Ok(Outcome::Held { received: 8, total: None }));
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
