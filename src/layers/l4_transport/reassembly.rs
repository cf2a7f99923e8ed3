//! In-order delivery on the receive side (RFC 9293 §3.4, §3.10.7.4 "Segment Arrives", first and
//! seventh steps): a segment that does not overlap the receive window [RCV.NXT, RCV.NXT+RCV.WND)
//! is not acceptable and is dropped ([`acceptable`]); data at RCV.NXT goes to the application,
//! data beyond it is held until the gap is filled (once: bytes held already are not stored
//! again), data before it has been delivered already.
//!
//! Sequence numbers wrap at 2^32; comparisons are made modulo 2^32 (RFC 9293 §3.4: "a < b"
//! means `(a - b) as i32 < 0`), so the queue works across the wrap.

/// `a < b` in sequence space (RFC 9293 §3.4).
pub fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a <= b` in sequence space.
pub fn seq_le(a: u32, b: u32) -> bool {
    a == b || seq_lt(a, b)
}

/// The most bytes held out of order before new out-of-order segments are dropped (a receiver's
/// buffer is finite; the sender retransmits what was dropped). The receive window bounds where a
/// held segment may start, but partly overlapping segments can each reach past it, so the cap
/// stays.
pub const MAX_HELD_BYTES: usize = 1 << 20;

/// RFC 9293 §3.10.7.4, first step, the acceptability table: may a segment of `seg_len` sequence
/// numbers (data, plus one each for SYN and FIN) starting at `seq` be processed, given
/// RCV.NXT = `rcv_nxt` and RCV.WND = `rcv_wnd`?
///
/// | SEG.LEN | RCV.WND | acceptable when                                              |
/// |---------|---------|--------------------------------------------------------------|
/// | 0       | 0       | SEG.SEQ = RCV.NXT                                            |
/// | 0       | > 0     | RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND                         |
/// | > 0     | 0       | never                                                        |
/// | > 0     | > 0     | the first or the last sequence number is inside the window:  |
/// |         |         | RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, or                     |
/// |         |         | RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND               |
///
/// Read literally, the last row misses one way to overlap the window: a segment that starts
/// before RCV.NXT and ends past RCV.NXT+RCV.WND (an old segment re-sent with more new data than
/// the window holds). It carries the byte at RCV.NXT, so it overlaps the window and is accepted
/// here, as Linux's `tcp_sequence` does; §3.10.7.4 then processes only its new part ("If a
/// segment's contents straddle the boundary between old and new, only the new parts are
/// processed").
///
/// Comparisons are modulo 2^32 (RFC 9293 §3.4).
pub fn acceptable(rcv_nxt: u32, rcv_wnd: u32, seq: u32, seg_len: u32) -> bool {
    let right = rcv_nxt.wrapping_add(rcv_wnd);
    let in_window = |s: u32| seq_le(rcv_nxt, s) && seq_lt(s, right);
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => in_window(seq),
        (_, 0) => false,
        (_, _) => {
            // Holding RCV.NXT is measured as an unsigned offset from SEG.SEQ, so that a segment
            // about 2^31 away cannot look like one that reaches both sides of the window.
            let holds_rcv_nxt = rcv_nxt.wrapping_sub(seq) < seg_len;
            in_window(seq) || in_window(seq.wrapping_add(seg_len - 1)) || holds_rcv_nxt
        }
    }
}

/// What became of one arriving segment's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// In order: these bytes go to the application now (this segment's new bytes, then any held
    /// segments that now follow on). `from_held` counts the held segments used.
    Deliver {
        /// The bytes, in order, starting at the old RCV.NXT.
        data: Vec<u8>,
        /// How many of them came from this segment (after trimming what was already received).
        own: usize,
        /// How many held segments followed on.
        from_held: usize,
        /// Bytes at the segment's start that had been received already and were trimmed.
        trimmed: usize,
    },
    /// Beyond RCV.NXT: held until the gap before it is filled.
    Held {
        /// RCV.NXT, the byte still missing.
        waiting_for: u32,
    },
    /// Beyond RCV.NXT, and every byte of it is held already (a retransmission of out-of-order
    /// data): not stored a second time.
    DuplicateOfHeld {
        /// RCV.NXT, the byte still missing.
        waiting_for: u32,
    },
    /// Wholly before RCV.NXT: a duplicate (a retransmission of data already delivered).
    Duplicate,
    /// Not acceptable (RFC 9293 §3.10.7.4): it does not overlap the receive window
    /// [RCV.NXT, RCV.NXT+RCV.WND). Dropped.
    OutsideWindow,
    /// Beyond RCV.NXT with the hold buffer full: dropped (the sender will retransmit).
    Dropped,
}

/// The receive sequence state: RCV.NXT, RCV.WND and the segments held out of order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecvQueue {
    rcv_nxt: u32,
    /// RCV.WND: how far past RCV.NXT a segment may start (RFC 9293 §3.3.1). The application
    /// reads what is delivered at once, so the window does not shrink as data arrives.
    rcv_wnd: u32,
    /// (SEG.SEQ, data), kept sorted by sequence number from RCV.NXT. Every held segment starts
    /// after RCV.NXT and inside the window, so the modular order is a total order here.
    held: Vec<(u32, Vec<u8>)>,
    /// The sum of the held segments' lengths, kept as they come and go.
    held_len: usize,
}

impl RecvQueue {
    /// A queue expecting `rcv_nxt` next, with a receive window of `rcv_wnd` sequence numbers.
    pub fn new(rcv_nxt: u32, rcv_wnd: u32) -> Self {
        RecvQueue { rcv_nxt, rcv_wnd, held: Vec::new(), held_len: 0 }
    }

    /// RCV.NXT: the next sequence number expected.
    pub fn rcv_nxt(&self) -> u32 {
        self.rcv_nxt
    }

    /// RCV.WND: the receive window.
    pub fn rcv_wnd(&self) -> u32 {
        self.rcv_wnd
    }

    /// Set RCV.WND: a connection whose application reads slowly advertises what its receive
    /// buffer has room for (RFC 9293 §3.8.6), and acceptability follows it.
    pub fn set_rcv_wnd(&mut self, rcv_wnd: u32) {
        self.rcv_wnd = rcv_wnd;
    }

    /// The receive window as sequence numbers [RCV.NXT, RCV.NXT+RCV.WND) (modulo 2^32).
    pub fn window(&self) -> (u32, u32) {
        (self.rcv_nxt, self.rcv_nxt.wrapping_add(self.rcv_wnd))
    }

    /// RFC 9293 §3.10.7.4: is a segment of `seg_len` sequence numbers at `seq` acceptable now?
    /// See [`acceptable`].
    pub fn acceptable(&self, seq: u32, seg_len: u32) -> bool {
        acceptable(self.rcv_nxt, self.rcv_wnd, seq, seg_len)
    }

    /// Advance RCV.NXT by `n` without data (a SYN or FIN occupies one sequence number).
    pub fn advance(&mut self, n: u32) {
        self.rcv_nxt = self.rcv_nxt.wrapping_add(n);
    }

    /// Bytes held out of order.
    pub fn held_bytes(&self) -> usize {
        self.held_len
    }

    /// Segments held out of order.
    pub fn held_segments(&self) -> usize {
        self.held.len()
    }

    /// The held blocks as SACK (left edge, right edge) pairs (RFC 2018 §3), in sequence order,
    /// adjacent blocks merged.
    pub fn sack_blocks(&self) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for (seq, data) in &self.held {
            let end = seq.wrapping_add(data.len() as u32);
            match out.last_mut() {
                Some((_, r)) if seq_le(*seq, *r) => {
                    if seq_lt(*r, end) {
                        *r = end;
                    }
                }
                _ => out.push((*seq, end)),
            }
        }
        out
    }

    /// True when every byte of `seq .. end` is in some held segment.
    fn all_held(&self, seq: u32, end: u32) -> bool {
        let mut covered = seq;
        for (s, d) in &self.held {
            if seq_lt(covered, *s) {
                // Sorted by start: nothing after this reaches back into the gap at `covered`.
                break;
            }
            let e = s.wrapping_add(d.len() as u32);
            if seq_lt(covered, e) {
                covered = e;
            }
            if seq_le(end, covered) {
                return true;
            }
        }
        seq_le(end, covered)
    }

    /// Take one segment's data starting at `seq` (non-empty: zero-length segments carry no data
    /// to order and are not given here).
    pub fn arrive(&mut self, seq: u32, payload: &[u8]) -> Arrival {
        let end = seq.wrapping_add(payload.len() as u32);
        if seq_le(end, self.rcv_nxt) {
            return Arrival::Duplicate;
        }
        // RFC 9293 §3.10.7.4, first step: a segment that does not overlap the window is not
        // acceptable, however far ahead it claims to be.
        if !self.acceptable(seq, payload.len() as u32) {
            return Arrival::OutsideWindow;
        }
        if seq_lt(self.rcv_nxt, seq) {
            if self.all_held(seq, end) {
                return Arrival::DuplicateOfHeld { waiting_for: self.rcv_nxt };
            }
            if self.held_len + payload.len() > MAX_HELD_BYTES {
                return Arrival::Dropped;
            }
            let at = self.held.partition_point(|(s, _)| seq_le(*s, seq));
            self.held.insert(at, (seq, payload.to_vec()));
            self.held_len += payload.len();
            return Arrival::Held { waiting_for: self.rcv_nxt };
        }
        // seq <= RCV.NXT < end: trim what was received already (RFC 9293 §3.10.7.4).
        let trimmed = self.rcv_nxt.wrapping_sub(seq) as usize;
        let mut data = payload.get(trimmed..).unwrap_or(&[]).to_vec();
        let own = data.len();
        self.rcv_nxt = end;
        let from_held = self.drain_held(&mut data);
        Arrival::Deliver { data, own, from_held, trimmed }
    }

    /// Append to `data` the held segments that now follow on from RCV.NXT, advancing it; how
    /// many were used. Held segments are sorted by start: walk them from the front. One wholly
    /// received already is discarded; one that starts at or before RCV.NXT and reaches past it
    /// follows on; the first that starts past RCV.NXT leaves a gap, and it and all after it stay.
    fn drain_held(&mut self, data: &mut Vec<u8>) -> usize {
        let mut from_held = 0;
        let mut used = 0;
        for (s, d) in &self.held {
            if seq_lt(self.rcv_nxt, *s) {
                break;
            }
            used += 1;
            self.held_len -= d.len();
            let e = s.wrapping_add(d.len() as u32);
            if seq_le(e, self.rcv_nxt) {
                continue;
            }
            let skip = self.rcv_nxt.wrapping_sub(*s) as usize;
            let more = d.get(skip..).unwrap_or(&[]);
            data.extend_from_slice(more);
            self.rcv_nxt = e;
            from_held += 1;
        }
        self.held.drain(..used);
        from_held
    }

    /// Give up on the gap before the first held segment (an observer, not a receiver: the
    /// missing bytes were never captured and no retransmission will bring them): RCV.NXT jumps
    /// to that segment and the held data that now follows on is returned, with the sequence
    /// number the gap began at and its length. `None` when nothing is held.
    pub fn skip_gap(&mut self) -> Option<SkippedGap> {
        let &(first, _) = self.held.first()?;
        let from = self.rcv_nxt;
        let missing = first.wrapping_sub(from);
        self.rcv_nxt = first;
        let mut data = Vec::new();
        let segments = self.drain_held(&mut data);
        Some(SkippedGap { from, missing, data, segments })
    }
}

/// What [`RecvQueue::skip_gap`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedGap {
    /// RCV.NXT before the jump: the first sequence number never seen.
    pub from: u32,
    /// How many sequence numbers were skipped.
    pub missing: u32,
    /// The held bytes that follow on from the gap, in order.
    pub data: Vec<u8>,
    /// How many held segments they came from.
    pub segments: usize,
}
