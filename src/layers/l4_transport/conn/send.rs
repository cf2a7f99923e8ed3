//! The send buffer (RFC 9293 §3.3.1, the send sequence space): the application's bytes from
//! SND.UNA on, both those sent and not yet acknowledged (kept for retransmission) and those not
//! yet sent. Sequence numbers wrap at 2^32; the byte with sequence number `s` is at index
//! `s − start`.
//!
//! ```text
//!      start (the first unacknowledged data byte)
//!      |<----------------- len() ----------------->|
//!      [ sent, unacknowledged | not yet sent       ]
//! ```

use super::seq_lt;
use std::collections::VecDeque;

/// Bytes queued by the application, from the first unacknowledged one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendBuffer {
    start: u32,
    bytes: VecDeque<u8>,
    capacity: usize,
}

impl SendBuffer {
    /// An empty buffer whose first byte will have sequence number `start`, holding at most
    /// `capacity` bytes.
    pub fn new(start: u32, capacity: usize) -> Self {
        SendBuffer { start, bytes: VecDeque::new(), capacity }
    }

    /// The sequence number of the first byte held.
    pub fn start(&self) -> u32 {
        self.start
    }

    /// The sequence number just past the last byte held.
    pub fn end(&self) -> u32 {
        self.start.wrapping_add(self.bytes.len() as u32)
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Room left for the application.
    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.bytes.len())
    }

    /// Append as much of `data` as fits; how many bytes were taken.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        self.bytes.extend(data.iter().take(n));
        n
    }

    /// Bytes held from sequence number `seq` to the end (0 when `seq` is outside the buffer).
    pub fn available_from(&self, seq: u32) -> usize {
        let off = seq.wrapping_sub(self.start) as usize;
        self.bytes.len().saturating_sub(off)
    }

    /// Up to `max` bytes starting at sequence number `seq` (fewer at the end of the buffer, none
    /// when `seq` is outside it).
    pub fn read(&self, seq: u32, max: usize) -> Vec<u8> {
        let off = seq.wrapping_sub(self.start) as usize;
        if off >= self.bytes.len() {
            return Vec::new();
        }
        let end = off.saturating_add(max).min(self.bytes.len());
        self.bytes.range(off..end).copied().collect()
    }

    /// The peer acknowledged everything before `ack`: drop those bytes. Returns how many were
    /// dropped (0 when `ack` is not past `start`).
    pub fn acknowledge(&mut self, ack: u32) -> usize {
        if !seq_lt(self.start, ack) {
            return 0;
        }
        let n = (ack.wrapping_sub(self.start) as usize).min(self.bytes.len());
        self.bytes.drain(..n);
        self.start = self.start.wrapping_add(n as u32);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_read_acknowledge_across_the_wrap() {
        let mut b = SendBuffer::new(u32::MAX - 2, 8);
        assert_eq!(b.push(b"0123456789"), 8);
        assert_eq!(b.free(), 0);
        assert_eq!(b.end(), 5);
        assert_eq!(b.read(u32::MAX, 4), b"2345");
        assert_eq!(b.available_from(1), 4);
        assert_eq!(b.acknowledge(1), 4);
        assert_eq!(b.start(), 1);
        assert_eq!(b.read(1, 100), b"4567");
        // Old or equal acknowledgments drop nothing; one past the end drops all there is.
        assert_eq!(b.acknowledge(0), 0);
        assert_eq!(b.acknowledge(100), 4);
        assert!(b.is_empty());
        assert_eq!(b.read(5, 1), b"");
    }
}
