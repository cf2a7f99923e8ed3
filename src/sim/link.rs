//! A point-to-point link: the cable between two device ports, full duplex, carrying L1 signals.
//!
//! Each direction (A→B, B→A) has its own transmitter: a queue of frames waiting for the medium
//! and the time the medium is next free. A frame handed to the link at `now` starts when the
//! medium is free (the previous frame's last symbol plus Ethernet's inter-frame gap of 96 bit
//! times, IEEE 802.3 §4.4.2), takes its serialization time on the wire (bits ÷ bit rate,
//! [`timing`]), then the propagation delay; it has arrived when its last symbol reaches the far
//! end. The link computes all of this when the frame is handed over and returns the arrival
//! time(s): it schedules nothing itself, so it is a pure function of its state, the frame, `now`
//! and the [`Rng`] it is handed.
//!
//! Impairments, and what each one looks like in Wireshark at the receiving end:
//! - **queue full** (tail drop, like a full `txqueuelen`): the frame never reaches the wire; it is
//!   missing from a capture at either end, and TCP sees a gap (`tcp.analysis.lost_segment`, then
//!   retransmissions).
//! - **too big**: a frame longer than the link's MTU allows is discarded (IEEE 802.3 §4.2.4.2.1
//!   calls it frameTooLong); absent at the far end.
//! - **loss**: the frame goes on the wire (it occupies the medium and a capture at the sender
//!   sees it) but never arrives; absent in a capture at the receiver.
//! - **bit errors**: symbols are flipped on the wire; the receiver's L1 may find a code violation
//!   or a broken preamble and drop the frame, or decode it and its L2 find the bad FCS
//!   (`eth.fcs.status == "Bad"` when Wireshark is told to check FCS) and drop it. Dropping it is
//!   the receiver's job, not the link's.
//! - **duplication**: a second, identical copy arrives one frame time after the first; Wireshark
//!   shows the same frame twice (`tcp.analysis.duplicate_ack` / `tcp.analysis.retransmission`
//!   for TCP, a repeated `ip.id` for IPv4).
//! - **reordering**: the frame is held back by `reorder_delay`, so frames sent after it arrive
//!   first (`tcp.analysis.out_of_order` / `tcp.analysis.lost_segment` at the receiver).
//!
//! The impairments draw from the `Rng` in a fixed order per frame (loss; bit errors; duplicate;
//! reorder of each copy), and only when their probability is above zero, so that a run is
//! reproduced by its seed, and a link without impairments draws nothing.

use crate::error::{Error, Result};
use crate::layer::LayerId;
use crate::layers::l1_physical::{timing, BitRate, Level, LineCode, Signal, Timing};
use crate::layers::l2_data_link::{FCS_LEN, HEADER_LEN};
use crate::rng::Rng;
use crate::time::Instant;
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

/// The smallest MTU a link may have: every IPv4 link must carry 68-byte datagrams unfragmented
/// (RFC 791 §3.2, "Fragmentation"; RFC 1122 §3.3.3). IPv6 needs 1280 (RFC 8200 §5), which the
/// scenario checks for links that carry IPv6.
pub const MIN_MTU: usize = 68;
/// The largest MTU a link may have: a 9000-byte "jumbo" payload, the common vendor limit (IEEE 802.3
/// itself allows 1500, §3.2.7).
pub const MAX_MTU: usize = 9000;
/// The 802.1Q tag a frame may carry on top of the MTU (IEEE 802.3 §3.5: a Q-tagged frame may be
/// 4 bytes longer).
const VLAN_TAG_LEN: usize = 4;

/// Configuration of a link (the same in both directions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkConfig {
    /// The bit rate on the wire.
    pub bandwidth: BitRate,
    /// Propagation delay, end to end (about 5 ns per metre of copper or fibre).
    pub delay: Duration,
    /// The largest payload (MAC client data) a frame may carry, in bytes: 1500 for Ethernet
    /// (IEEE 802.3 §3.2.7).
    pub mtu: usize,
    /// How many frames may wait at each sending end for the medium (not counting the one being
    /// sent), like Linux's `txqueuelen`; a frame arriving when this many wait is dropped. 0 means
    /// no limit.
    pub queue_limit: usize,
    /// Probability that a frame is lost in flight.
    pub loss: f64,
    /// Probability that each symbol on the wire is flipped.
    pub bit_error_rate: f64,
    /// Probability that a frame arrives twice.
    pub duplicate: f64,
    /// Probability that a frame is held back by [`LinkConfig::reorder_delay`].
    pub reorder: f64,
    /// How long a reordered frame is held back.
    pub reorder_delay: Duration,
    /// The line code both ends use.
    pub line_code: LineCode,
}

impl Default for LinkConfig {
    /// 10BASE-T: 10 Mbit/s Manchester (as `osilab send` defaults to), 100 m of cable (500 ns),
    /// MTU 1500, a queue of 1000 frames (Linux's default `txqueuelen`), no impairments; a
    /// reordered frame would be held back 1 ms.
    fn default() -> Self {
        LinkConfig {
            bandwidth: BitRate(10_000_000),
            delay: Duration::from_nanos(500),
            mtu: 1500,
            queue_limit: 1000,
            loss: 0.0,
            bit_error_rate: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(1),
            line_code: LineCode::Manchester,
        }
    }
}

impl LinkConfig {
    /// Check the configuration: a positive bandwidth, an MTU in [68, 9000], probabilities in
    /// [0, 1], and a reorder delay when frames are reordered.
    pub fn validate(&self) -> Result<()> {
        let err = |msg: String| Err(Error::config(Some(LayerId::Physical), msg));
        if self.bandwidth.bps() == 0 {
            return err("link bandwidth is 0 bit/s: a link must carry at least 1 bit/s".into());
        }
        if !(MIN_MTU..=MAX_MTU).contains(&self.mtu) {
            return err(format!(
                "link MTU {} is outside [{MIN_MTU}, {MAX_MTU}]: IPv4 needs at least {MIN_MTU} bytes (RFC 791), \
                 and {MAX_MTU} is the largest (jumbo) payload",
                self.mtu
            ));
        }
        for (name, p) in [
            ("loss", self.loss),
            ("bit error rate", self.bit_error_rate),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return err(format!("link {name} {p} is not a probability in [0, 1]"));
            }
        }
        if self.reorder > 0.0 && self.reorder_delay.is_zero() {
            return err(format!(
                "link reorder {} needs a reorder delay above 0: a frame held back by nothing is not reordered",
                self.reorder
            ));
        }
        Ok(())
    }

    /// The longest frame the link carries, FCS included: the MTU plus the Ethernet header, one
    /// 802.1Q tag (IEEE 802.3 §3.5) and the FCS. The link does not parse frames, so an untagged
    /// frame may be up to 4 bytes over the MTU, as on an 802.3 port sized for tagged frames.
    pub fn max_frame_len(&self) -> usize {
        self.mtu + HEADER_LEN + VLAN_TAG_LEN + FCS_LEN
    }
}

/// One direction of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Dir {
    /// From end A to end B.
    AtoB,
    /// From end B to end A.
    BtoA,
}

impl Dir {
    /// Both directions.
    pub const BOTH: [Dir; 2] = [Dir::AtoB, Dir::BtoA];

    /// 0 for A→B, 1 for B→A.
    pub fn index(self) -> usize {
        match self {
            Dir::AtoB => 0,
            Dir::BtoA => 1,
        }
    }

    /// The other direction.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::AtoB => Dir::BtoA,
            Dir::BtoA => Dir::AtoB,
        }
    }
}

impl fmt::Display for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dir::AtoB => "A→B",
            Dir::BtoA => "B→A",
        })
    }
}

/// Why the link did not deliver a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// `queue_limit` frames were already waiting at the sending end (tail drop).
    QueueFull,
    /// The frame is longer than the link's MTU allows ([`LinkConfig::max_frame_len`]).
    TooBig,
    /// Lost in flight (the `loss` impairment).
    Loss,
    /// The signal's line code or bit rate is not the link's: the two PHYs would not understand
    /// each other (a wiring mistake in the caller).
    Incompatible,
}

impl DropReason {
    /// All reasons, in the order [`LinkStats`] counts them.
    pub const ALL: [DropReason; 4] =
        [DropReason::QueueFull, DropReason::TooBig, DropReason::Loss, DropReason::Incompatible];

    fn index(self) -> usize {
        match self {
            DropReason::QueueFull => 0,
            DropReason::TooBig => 1,
            DropReason::Loss => 2,
            DropReason::Incompatible => 3,
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::QueueFull => "queue full",
            DropReason::TooBig => "frame too big for the link MTU",
            DropReason::Loss => "lost on the link",
            DropReason::Incompatible => "line code or bit rate differs from the link's",
        })
    }
}

/// One copy of a frame arriving at the far end.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// When the last symbol arrives at the far end: when the receiver has the whole frame.
    pub at: Instant,
    /// When the first symbol left the sending end (also `signal.start`).
    pub start: Instant,
    /// The symbols as they arrive, bit errors included.
    pub signal: Signal,
    /// How many symbols were flipped on the wire.
    pub flipped: usize,
    /// True for the second copy of a duplicated frame.
    pub duplicate: bool,
    /// True when this copy was held back by the reorder delay.
    pub reordered: bool,
}

/// What became of a frame handed to the link.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The frame arrives at the far end: once, or twice when duplicated, in order of `at`.
    Delivered(Vec<Delivery>),
    /// The frame does not arrive.
    Dropped {
        /// Why.
        reason: DropReason,
        /// When its first symbol went on the wire, if it did (a frame lost in flight); `None`
        /// when it never left the sending end.
        sent: Option<Instant>,
    },
}

/// Counters of one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirStats {
    /// Frames handed to the link.
    pub offered: u64,
    /// Frames that went on the wire (the offered ones not dropped before sending).
    pub sent: u64,
    /// Bytes of those frames (FCS included, preamble not).
    pub bytes_sent: u64,
    /// Copies delivered to the far end (a duplicated frame counts twice).
    pub delivered: u64,
    /// Bytes of those copies.
    pub bytes_delivered: u64,
    /// Drops, indexed as [`DropReason::ALL`].
    pub dropped: [u64; 4],
    /// Frames that arrived twice.
    pub duplicated: u64,
    /// Copies held back by the reorder delay.
    pub reordered: u64,
    /// Frames with at least one flipped symbol.
    pub corrupted: u64,
    /// Symbols flipped in all.
    pub symbols_flipped: u64,
}

impl DirStats {
    /// Drops for one reason.
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()]
    }

    /// Drops for all reasons.
    pub fn total_drops(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// Counters of a link, per direction (index with [`Dir::index`] or use [`LinkStats::dir`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LinkStats {
    /// A→B, then B→A.
    pub dirs: [DirStats; 2],
}

impl LinkStats {
    /// One direction's counters.
    pub fn dir(&self, d: Dir) -> &DirStats {
        &self.dirs[d.index()]
    }
}

/// One direction's transmitter.
#[derive(Debug, Clone, Default)]
struct Transmitter {
    /// When the next frame may start: the previous frame's end plus the inter-frame gap.
    free_at: Instant,
    /// Start times of the frames accepted and not yet on the wire at the last call, in order.
    waiting: VecDeque<Instant>,
}

/// A point-to-point, full-duplex link (see the module documentation).
#[derive(Debug, Clone)]
pub struct Link {
    cfg: LinkConfig,
    tx: [Transmitter; 2],
    stats: LinkStats,
}

impl Link {
    /// A link with this configuration, idle, or a configuration error
    /// ([`LinkConfig::validate`]).
    pub fn new(cfg: LinkConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Link { cfg, tx: Default::default(), stats: LinkStats::default() })
    }

    /// The configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.cfg
    }

    /// The counters.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// When the medium in direction `dir` is next free for a new frame to start (the last
    /// accepted frame's end plus the inter-frame gap).
    pub fn free_at(&self, dir: Dir) -> Instant {
        self.tx[dir.index()].free_at
    }

    /// How many frames wait in direction `dir` at `now` (accepted, not yet started).
    pub fn queued(&self, dir: Dir, now: Instant) -> usize {
        self.tx[dir.index()].waiting.iter().filter(|&&s| s > now).count()
    }

    /// The timing of a frame of `frame_len` bytes (FCS included) on this link.
    pub fn timing(&self, frame_len: usize) -> Timing {
        timing(self.cfg.line_code, self.cfg.bandwidth, frame_len)
    }

    /// Hand the link a frame of `frame_len` bytes (FCS included), line coded as `signal`, at
    /// `now`, to send in direction `dir`. Says when it arrives (or that it does not); the caller
    /// schedules the arrival. Impairments draw from `rng` (see the module documentation).
    pub fn transmit(&mut self, dir: Dir, mut signal: Signal, frame_len: usize, now: Instant, rng: &mut Rng) -> Outcome {
        let cfg = &self.cfg;
        let stats = &mut self.stats.dirs[dir.index()];
        let tx = &mut self.tx[dir.index()];
        stats.offered += 1;
        let drop = |stats: &mut DirStats, reason: DropReason, sent: Option<Instant>| {
            stats.dropped[reason.index()] += 1;
            Outcome::Dropped { reason, sent }
        };
        if signal.code != cfg.line_code || signal.rate != cfg.bandwidth {
            return drop(stats, DropReason::Incompatible, None);
        }
        if frame_len > cfg.max_frame_len() {
            return drop(stats, DropReason::TooBig, None);
        }
        // Frames that started by now are on the wire or gone: only later starts still wait.
        while tx.waiting.front().is_some_and(|&s| s <= now) {
            tx.waiting.pop_front();
        }
        if cfg.queue_limit > 0 && tx.waiting.len() >= cfg.queue_limit {
            return drop(stats, DropReason::QueueFull, None);
        }

        // IEEE 802.3 §4.4.2: start no earlier than the previous frame's end plus the IFG.
        let t = timing(cfg.line_code, cfg.bandwidth, frame_len);
        let start = now.max(tx.free_at);
        tx.free_at = start + t.total();
        if start > now {
            tx.waiting.push_back(start);
        }
        stats.sent += 1;
        stats.bytes_sent += frame_len as u64;

        // Impairments, in a fixed order: loss, bit errors, duplicate, reorder.
        if rng.chance(cfg.loss) {
            return drop(stats, DropReason::Loss, Some(start));
        }
        let flipped = flip_symbols(&mut signal.symbols, cfg.bit_error_rate, rng);
        if flipped > 0 {
            stats.corrupted += 1;
            stats.symbols_flipped += flipped as u64;
        }
        signal.start = start;
        let arrive = start + t.duration + cfg.delay;
        let copy = if rng.chance(cfg.duplicate) {
            stats.duplicated += 1;
            // The copy follows one frame time (and gap) behind the original.
            let later = start + t.total();
            Some(Delivery {
                at: arrive + t.total(),
                start: later,
                signal: Signal { start: later, ..signal.clone() },
                flipped,
                duplicate: true,
                reordered: false,
            })
        } else {
            None
        };
        let mut out = Vec::with_capacity(1 + usize::from(copy.is_some()));
        out.push(Delivery { at: arrive, start, signal, flipped, duplicate: false, reordered: false });
        out.extend(copy);
        for d in &mut out {
            if rng.chance(cfg.reorder) {
                d.at += cfg.reorder_delay;
                d.reordered = true;
                stats.reordered += 1;
            }
        }
        out.sort_by_key(|d| d.at);
        stats.delivered += out.len() as u64;
        stats.bytes_delivered += (out.len() * frame_len) as u64;
        Outcome::Delivered(out)
    }
}

/// Flip each symbol independently with probability `ber`; returns how many were flipped.
///
/// Drawing one number per symbol would cost 24,000 draws for a 1518-byte Manchester frame to
/// find, at a rate of 1e-6, usually nothing. Instead the gap before the next error is drawn: the
/// number of good symbols before an error is geometric, P(G = k) = (1 − p)^k · p, and by inverse
/// transform sampling G = ⌊ln U / ln(1 − p)⌋ for U uniform on (0, 1] (Devroye, "Non-Uniform Random
/// Variate Generation", 1986, §X.2). The cost is one draw per error, plus one per frame.
pub fn flip_symbols(symbols: &mut [Level], ber: f64, rng: &mut Rng) -> usize {
    if ber <= 0.0 || symbols.is_empty() || ber.is_nan() {
        return 0;
    }
    if ber >= 1.0 {
        symbols.iter_mut().for_each(|s| *s = s.flipped());
        return symbols.len();
    }
    let ln_keep = (-ber).ln_1p();
    let mut flipped = 0;
    let mut i = 0usize;
    loop {
        // U on (0, 1]: ln U is finite and ≤ 0, so the gap is finite and ≥ 0.
        let u = 1.0 - rng.next_f64();
        let gap = (u.ln() / ln_keep).floor();
        let left = symbols.len() - i;
        if gap.is_nan() || gap >= left as f64 {
            return flipped;
        }
        i += gap as usize;
        if let Some(s) = symbols.get_mut(i) {
            *s = s.flipped();
            flipped += 1;
        }
        i += 1;
        if i >= symbols.len() {
            return flipped;
        }
    }
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
