//! In-order delivery on the receive side (RFC 9293 §3.4, §3.10.7.4 "Segment Arrives", first and
//! seventh steps): data at RCV.NXT goes to the application, data beyond it is held until the gap
//! is filled, data before it has been delivered already.
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
/// buffer is finite; the sender retransmits what was dropped).
pub const MAX_HELD_BYTES: usize = 1 << 20;

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
    /// Wholly before RCV.NXT: a duplicate (a retransmission of data already delivered).
    Duplicate,
    /// Beyond RCV.NXT with the hold buffer full: dropped (the sender will retransmit).
    Dropped,
}

/// The receive sequence state: RCV.NXT and the segments held out of order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecvQueue {
    rcv_nxt: u32,
    /// (SEG.SEQ, data), kept sorted by sequence number from RCV.NXT.
    held: Vec<(u32, Vec<u8>)>,
}

impl RecvQueue {
    /// A queue expecting `rcv_nxt` next.
    pub fn new(rcv_nxt: u32) -> Self {
        RecvQueue { rcv_nxt, held: Vec::new() }
    }

    /// RCV.NXT: the next sequence number expected.
    pub fn rcv_nxt(&self) -> u32 {
        self.rcv_nxt
    }

    /// Advance RCV.NXT by `n` without data (a SYN or FIN occupies one sequence number).
    pub fn advance(&mut self, n: u32) {
        self.rcv_nxt = self.rcv_nxt.wrapping_add(n);
    }

    /// Bytes held out of order.
    pub fn held_bytes(&self) -> usize {
        self.held.iter().map(|(_, d)| d.len()).sum()
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

    /// Take one segment's data starting at `seq` (non-empty: zero-length segments carry no data
    /// to order and are not given here).
    pub fn arrive(&mut self, seq: u32, payload: &[u8]) -> Arrival {
        let end = seq.wrapping_add(payload.len() as u32);
        if seq_le(end, self.rcv_nxt) {
            return Arrival::Duplicate;
        }
        if seq_lt(self.rcv_nxt, seq) {
            if self.held_bytes() + payload.len() > MAX_HELD_BYTES {
                return Arrival::Dropped;
            }
            let at = self.held.iter().position(|(s, _)| seq_lt(seq, *s)).unwrap_or(self.held.len());
            self.held.insert(at, (seq, payload.to_vec()));
            return Arrival::Held { waiting_for: self.rcv_nxt };
        }
        // seq <= RCV.NXT < end: trim what was received already (RFC 9293 §3.10.7.4).
        let trimmed = self.rcv_nxt.wrapping_sub(seq) as usize;
        let mut data = payload.get(trimmed..).unwrap_or(&[]).to_vec();
        let own = data.len();
        self.rcv_nxt = end;
        let mut from_held = 0;
        loop {
            // Held segments now wholly received are dropped; the first that reaches past RCV.NXT
            // and starts at or before it follows on.
            self.held.retain(|(s, d)| seq_lt(self.rcv_nxt, s.wrapping_add(d.len() as u32)));
            let Some(i) = self.held.iter().position(|(s, _)| seq_le(*s, self.rcv_nxt)) else { break };
            let (s, d) = self.held.remove(i);
            let skip = self.rcv_nxt.wrapping_sub(s) as usize;
            let more = d.get(skip..).unwrap_or(&[]);
            data.extend_from_slice(more);
            self.rcv_nxt = self.rcv_nxt.wrapping_add(more.len() as u32);
            from_held += 1;
        }
        Arrival::Deliver { data, own, from_held, trimmed }
    }
}
