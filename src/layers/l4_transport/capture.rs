//! Capture mode (issue 4, `osilab dissect`): the transport layer as an analyzer watching every
//! conversation in a capture, as Wireshark's TCP and UDP dissectors do, rather than a host that
//! owns one socket.
//!
//! [`TransportCapture`] finds (or starts) the conversation of each segment or datagram: the
//! unordered pair of (address, port) endpoints and the protocol, numbered from 0 in order of first
//! appearance, separately for TCP and UDP (Wireshark's `tcp.stream` / `udp.stream`). A TCP
//! conversation keeps one capture-mode [`Transport`] per direction, which reads the segment with
//! the host path's code ([`TcpView`], [`TcpSegment::fields`], the checksum, [`RecvQueue`]) but as
//! an observer:
//!
//! - No port is refused and no receive window is enforced (the peers accepted what they
//!   accepted); a bad checksum is a failed check and an expert item, and the data still goes up.
//! - Each direction's sequence space is learned as Wireshark learns it (`packet-tcp.c`,
//!   `tcp_analyze_sequence_number`): the base is the ISN from a SYN, else the first sequence
//!   number seen less one, and a segment with ACK set gives the other direction's base as its
//!   acknowledgment number less one when that is not known yet. `tcp.seq`, `tcp.ack` and
//!   `tcp.nxtseq` are relative to those bases; without ACK, `tcp.ack` is the raw field.
//! - Wireshark's sequence analysis is run (its expert items, same words): previous segment not
//!   captured, ACKed unseen segment, retransmission, spurious and fast retransmission,
//!   out-of-order, keep-alive, window update, duplicate ACK, zero window, and the SYN, FIN and RST
//!   notes.
//! - What goes up follows tshark's defaults (`tcp.reassemble_out_of_order: FALSE`,
//!   `tcp.no_subdissector_on_error: TRUE`): each segment's payload in capture order, except a
//!   retransmission or an out-of-order segment (data at or before what was seen already), which
//!   is noted and not passed up again, and a keep-alive byte. Data after a segment that was never
//!   captured goes up at once, marked as following a gap ([`Piece::gap_before`]).
//! - With [`CaptureConfig::reassemble_out_of_order`], segments beyond a gap are held in the
//!   direction's [`RecvQueue`] until the gap is filled (at most [`MAX_HELD_BYTES`] per direction
//!   and [`CaptureConfig::max_held_total`] in all); when a cap is hit the gap is given up with an
//!   expert item and dissection resumes at the held data; [`Layer::finish`] reports what is
//!   still held at the end of the capture.
//!
//! What goes up carries `meta.src_port`, `meta.dst_port`, `meta.stream` and `meta.offset` (the
//! payload's frame offset; `meta.detached` when the bytes are not exactly this segment's
//! payload, i.e. put together from held segments), and, for TCP, the [`Piece`] marks. A FIN in
//! order ends its direction: it goes up as a piece marked [`Piece::fin`], empty when the FIN
//! segment carries no data (the end of a body delimited by the connection's close is shown on the
//! FIN's frame, as tshark does).
//!
//! Every table is bounded: at most [`CaptureConfig::max_conversations`] conversations per
//! transport, the least recently used forgotten first (closed ones before open ones) with an
//! expert note on the frame that evicts it.

use super::checksum::{ChecksumStatus, IP_PROTO_TCP, IP_PROTO_UDP};
use super::options::TcpOption;
use super::reassembly::{seq_le, seq_lt, Arrival, RecvQueue, MAX_HELD_BYTES};
use super::tcp::{self, RelativeTo, TcpFlags, TcpSegment, TcpView};
use super::udp::{self, UdpView};
use super::{tcp_up_record, TcpParams, Transport, TransportConfig, TransportKind};
use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Meta, Pdu, PduName};
use crate::layers::checksum as inet;
use crate::trace::{Check, Direction, Expert, Field, Group, Record, Severity};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// The receive window an observer uses: half the sequence space, the most that modular
/// comparisons order (RFC 9293 §3.4). An observer enforces no window.
pub const OBSERVED_WINDOW: u32 = i32::MAX as u32;
/// The default bound on conversations per transport.
pub const MAX_CONVERSATIONS: usize = 100_000;
/// The default bound on bytes held out of order in all conversations together.
pub const MAX_HELD_TOTAL: usize = 64 << 20;
/// Wireshark's out-of-order threshold before the first round-trip time is known: 3 ms.
const OOO_THRESHOLD_NS: u64 = 3_000_000;
/// Wireshark's window for a fast retransmission after duplicate ACKs: 20 ms.
const FAST_RETRANSMISSION_NS: u64 = 20_000_000;

const L4: LayerId = LayerId::Transport;

/// Settings of [`TransportCapture`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureConfig {
    /// The most conversations kept per transport (TCP, UDP); the least recently used is forgotten.
    pub max_conversations: usize,
    /// Hold segments that arrive beyond a gap until it is filled (Wireshark's
    /// `tcp.reassemble_out_of_order`, off by default as in tshark 4.0).
    pub reassemble_out_of_order: bool,
    /// The most bytes held out of order in all conversations together.
    pub max_held_total: usize,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            max_conversations: MAX_CONVERSATIONS,
            reassemble_out_of_order: false,
            max_held_total: MAX_HELD_TOTAL,
        }
    }
}

/// What the layer above must know about a piece of a TCP byte stream besides its bytes:
/// carried up in the PDU's meta (`Meta::gap_before`, `Meta::fin`) by [`TransportCapture`], read
/// with [`Piece::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Piece {
    /// Bytes before this piece were never captured (or were given up): the stream is not
    /// contiguous here, and a message under way cannot be completed.
    pub gap_before: bool,
    /// The sender's FIN follows this piece in order: its direction has ended.
    pub fin: bool,
}

impl Piece {
    /// The marks of a piece passed up by [`TransportCapture`] (none for any other PDU).
    pub fn of(meta: &Meta) -> Piece {
        Piece { gap_before: meta.gap_before, fin: meta.fin }
    }

    /// Put the marks in `meta`.
    pub fn mark(self, meta: &mut Meta) {
        meta.gap_before = self.gap_before;
        meta.fin = self.fin;
    }
}

/// A table of at most `cap` entries that forgets the least recently used one first, preferring
/// entries marked closed. Every operation is O(log n).
#[derive(Debug, Clone)]
pub struct Lru<K, V> {
    map: HashMap<K, Slot<V>>,
    open: BTreeMap<u64, K>,
    closed: BTreeMap<u64, K>,
    tick: u64,
    cap: usize,
}

#[derive(Debug, Clone)]
struct Slot<V> {
    value: V,
    used: u64,
    closed: bool,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    /// An empty table of at most `cap` entries (at least 1).
    pub fn new(cap: usize) -> Self {
        Lru { map: HashMap::new(), open: BTreeMap::new(), closed: BTreeMap::new(), tick: 0, cap: cap.max(1) }
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The entry for `k`, marked as just used.
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let slot = self.map.get_mut(k)?;
        let order = if slot.closed { &mut self.closed } else { &mut self.open };
        order.remove(&slot.used);
        self.tick += 1;
        slot.used = self.tick;
        order.insert(self.tick, k.clone());
        Some(&mut slot.value)
    }

    /// The entry for `k`, without marking it used.
    pub fn peek(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|s| &s.value)
    }

    /// Put `v` under `k` (replacing what was there), as just used and open; when that makes one
    /// too many, the least recently used other entry (closed ones first) is removed and returned.
    pub fn insert(&mut self, k: K, v: V) -> Option<(K, V)> {
        self.remove(&k);
        let evicted = if self.map.len() >= self.cap { self.evict() } else { None };
        self.tick += 1;
        self.open.insert(self.tick, k.clone());
        self.map.insert(k, Slot { value: v, used: self.tick, closed: false });
        evicted
    }

    fn evict(&mut self) -> Option<(K, V)> {
        let (_, k) = self.closed.pop_first().or_else(|| self.open.pop_first())?;
        self.map.remove(&k).map(|s| (k, s.value))
    }

    /// Remove the entry for `k`.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let slot = self.map.remove(k)?;
        let order = if slot.closed { &mut self.closed } else { &mut self.open };
        order.remove(&slot.used);
        Some(slot.value)
    }

    /// Mark the entry for `k` closed (forgotten before open ones) or open.
    pub fn set_closed(&mut self, k: &K, closed: bool) {
        if let Some(slot) = self.map.get_mut(k) {
            if slot.closed != closed {
                let (from, to) =
                    if closed { (&mut self.open, &mut self.closed) } else { (&mut self.closed, &mut self.open) };
                from.remove(&slot.used);
                to.insert(slot.used, k.clone());
                slot.closed = closed;
            }
        }
    }

    /// Every entry, in no particular order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut().map(|s| &mut s.value)
    }

    /// Every entry with its key, in no particular order.
    pub fn entries_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.map.iter_mut().map(|(k, s)| (k, &mut s.value))
    }

    /// Every entry, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|s| &s.value)
    }
}

/// A conversation: the protocol and its two endpoints, the lower one first, so that both
/// directions find the same conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvKey {
    /// The IP protocol (6 TCP, 17 UDP).
    pub proto: u8,
    /// The lower (address, port).
    pub lo: (IpAddr, u16),
    /// The higher (address, port).
    pub hi: (IpAddr, u16),
}

impl Hash for ConvKey {
    /// The key's fields as one run of bytes, hashed in one call: the table's hasher is keyed
    /// SipHash (the endpoints come from the capture), whose cost is mostly per call.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut b = [0u8; 1 + 2 * (1 + 16 + 2)];
        b[0] = self.proto;
        let mut n = 1;
        for (ip, port) in [self.lo, self.hi] {
            let (family, addr) = match ip {
                IpAddr::V4(a) => (4, a.to_ipv6_mapped().octets()),
                IpAddr::V6(a) => (6, a.octets()),
            };
            b[n] = family;
            b[n + 1..n + 17].copy_from_slice(&addr);
            b[n + 17..n + 19].copy_from_slice(&port.to_be_bytes());
            n += 19;
        }
        state.write(&b);
    }
}

impl ConvKey {
    /// The conversation of a segment from `src` to `dst`, and its direction: 0 from the lower
    /// endpoint, 1 from the higher.
    pub fn of(proto: u8, src: (IpAddr, u16), dst: (IpAddr, u16)) -> (ConvKey, usize) {
        if src <= dst {
            (ConvKey { proto, lo: src, hi: dst }, 0)
        } else {
            (ConvKey { proto, lo: dst, hi: src }, 1)
        }
    }

    /// "192.0.2.1:40000 ↔ 192.0.2.2:80".
    pub fn name(&self) -> String {
        let end = |(ip, port): (IpAddr, u16)| match ip {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        };
        format!("{} ↔ {}", end(self.lo), end(self.hi))
    }
}

/// Wireshark's sequence analysis flags (`TCP_A_*` in packet-tcp.c).
mod flag {
    pub const RETRANSMISSION: u32 = 0x0001;
    pub const LOST_PACKET: u32 = 0x0002;
    pub const ACK_LOST_PACKET: u32 = 0x0004;
    pub const KEEP_ALIVE: u32 = 0x0008;
    pub const DUPLICATE_ACK: u32 = 0x0010;
    pub const ZERO_WINDOW: u32 = 0x0020;
    pub const ZERO_WINDOW_PROBE: u32 = 0x0040;
    pub const ZERO_WINDOW_PROBE_ACK: u32 = 0x0080;
    pub const KEEP_ALIVE_ACK: u32 = 0x0100;
    pub const OUT_OF_ORDER: u32 = 0x0200;
    pub const FAST_RETRANSMISSION: u32 = 0x0400;
    pub const WINDOW_UPDATE: u32 = 0x0800;
    pub const SPURIOUS_RETRANSMISSION: u32 = 0x4000;
    /// Data at or before what was seen already: not passed up again (tshark's
    /// `tcp.no_subdissector_on_error`; a fast retransmission is passed up, as tshark 4.0 does).
    pub const NOT_NEW: u32 = RETRANSMISSION | SPURIOUS_RETRANSMISSION | OUT_OF_ORDER;
}

/// What an observer learned about one direction of a TCP conversation (Wireshark's
/// `tcp_flow_t`). Sequence numbers of 0 mean "not seen yet", as in Wireshark, whose checks this
/// reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flow {
    /// The base relative numbers count from: the ISN, or the first sequence number seen less one.
    base: Option<u32>,
    /// The highest sequence number seen plus the segment's length (0: none yet).
    nextseq: u32,
    /// When `nextseq` last advanced (ns).
    nextseq_time: u64,
    /// The highest contiguous sequence number seen, for "ACKed unseen segment".
    max_to_be_acked: u32,
    /// The last acknowledgment number this side sent.
    lastack: u32,
    /// When it was sent (ns).
    lastack_time: u64,
    /// The last window this side advertised (`u32::MAX`: none yet).
    window: u32,
    /// Duplicate ACKs in a row (-1 after an "ACKed unseen segment").
    dupacks: i32,
    /// The analysis flags of this side's last segment.
    last_flags: u32,
    /// When this side last sent a SYN (ns), for the first round-trip time.
    syn_time: Option<u64>,
    /// SYN to the ACK that completes the handshake (ns): the out-of-order threshold.
    first_rtt: Option<u64>,
    /// This side sent the first FIN of the conversation.
    closing_initiator: bool,
    /// This side sent a FIN.
    fin_seen: bool,
    /// This side sent an RST.
    rst_seen: bool,
    /// The end of this direction (its FIN in order) went up.
    ended: bool,
    /// Bytes were never captured before what goes up next.
    gap_pending: bool,
    /// Out-of-order mode: the receive queue starts at the first segment seen.
    synced: bool,
    /// Out-of-order mode: where this side's FIN sits, once data before it has come.
    fin_at: Option<u32>,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            base: None,
            nextseq: 0,
            nextseq_time: 0,
            max_to_be_acked: 0,
            lastack: 0,
            lastack_time: 0,
            window: u32::MAX,
            dupacks: 0,
            last_flags: 0,
            syn_time: None,
            first_rtt: None,
            closing_initiator: false,
            fin_seen: false,
            rst_seen: false,
            ended: false,
            gap_pending: false,
            synced: false,
            fin_at: None,
        }
    }
}

/// The facts of one segment the analysis needs.
#[derive(Debug, Clone, Copy)]
struct Facts {
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    seglen: u32,
    window: u32,
    now: u64,
}

impl Facts {
    fn has(&self, f: TcpFlags) -> bool {
        self.flags.contains(f)
    }

    fn syn_fin_rst(&self) -> bool {
        self.has(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST)
    }
}

/// `a > b` in sequence space.
fn seq_gt(a: u32, b: u32) -> bool {
    seq_lt(b, a)
}

/// The result of the analysis of one segment.
#[derive(Debug, Clone, Copy, Default)]
struct Analysis {
    flags: u32,
    dupack: i32,
}

/// Wireshark's sequence analysis of one segment sent by `fwd` (the other direction is `rev`),
/// in its order and with its rules (packet-tcp.c, `tcp_analyze_sequence_number`), updating both.
fn analyze(fwd: &mut Flow, rev: &mut Flow, s: &Facts) -> Analysis {
    let mut a = Analysis::default();
    let seq = s.seq;
    let repeats = s.seglen == 0 && s.seq == fwd.nextseq && s.ack == fwd.lastack && !s.syn_fin_rst();
    // A zero window probe: one byte at the next sequence number into a zero window.
    let probe = s.seglen == 1 && seq == fwd.nextseq && rev.window == 0;
    if probe {
        a.flags |= flag::ZERO_WINDOW_PROBE;
    } else {
        if s.window == 0 && !s.syn_fin_rst() {
            a.flags |= flag::ZERO_WINDOW;
        }
        // Beyond the highest sequence number seen: a segment before it was not captured.
        if fwd.nextseq != 0 && seq_gt(seq, fwd.nextseq) && !s.has(TcpFlags::RST) {
            a.flags |= flag::LOST_PACKET;
        }
        // A keep-alive: 0 or 1 byte one before the next sequence number.
        if s.seglen <= 1 && seq == fwd.nextseq.wrapping_sub(1) && !s.syn_fin_rst() {
            a.flags |= flag::KEEP_ALIVE;
        }
        if repeats && s.window != 0 && s.window != fwd.window {
            a.flags |= flag::WINDOW_UPDATE;
        }
        let same = repeats && s.window == fwd.window;
        if same && s.window != 0 && rev.last_flags & flag::KEEP_ALIVE != 0 {
            a.flags |= flag::KEEP_ALIVE_ACK;
        } else if same && s.window == 0 && rev.last_flags & flag::ZERO_WINDOW_PROBE != 0 {
            a.flags |= flag::ZERO_WINDOW_PROBE_ACK;
        } else if same && s.window != 0 {
            fwd.dupacks = if fwd.dupacks == -1 { 1 } else { fwd.dupacks.saturating_add(1) };
            a.flags |= flag::DUPLICATE_ACK;
            a.dupack = fwd.dupacks;
        }
    }
    if s.ack != fwd.lastack {
        fwd.dupacks = 0;
    }
    // Acknowledging beyond what the other side was seen to send: a segment was not captured.
    if s.has(TcpFlags::ACK) && rev.max_to_be_acked != 0 && seq_gt(s.ack, rev.max_to_be_acked) {
        if seq_gt(rev.max_to_be_acked, rev.nextseq) {
            rev.max_to_be_acked = rev.nextseq;
            a.flags |= flag::ACK_LOST_PACKET;
        } else {
            if rev.dupacks == 0 {
                a.flags |= flag::ACK_LOST_PACKET;
            }
            rev.dupacks = -1;
        }
    }
    let syn_fin = u32::from(s.has(TcpFlags::SYN | TcpFlags::FIN));
    if (s.seglen > 0 || syn_fin == 1) && a.flags & flag::KEEP_ALIVE == 0 {
        // Not advancing: before the highest sequence number seen; one byte of overlap on a
        // longer segment is allowed (after a zero window probe).
        let not_advanced =
            fwd.nextseq != 0 && seq_lt(seq, fwd.nextseq) && !(s.seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq);
        let threshold = rev.first_rtt.or(fwd.first_rtt).unwrap_or(OOO_THRESHOLD_NS);
        if s.seglen > 0 && rev.lastack != 0 && seq_le(seq.wrapping_add(s.seglen), rev.lastack) {
            a.flags |= flag::SPURIOUS_RETRANSMISSION;
        } else if not_advanced
            && rev.dupacks >= 2
            && rev.lastack == seq
            && s.now.saturating_sub(rev.lastack_time) < FAST_RETRANSMISSION_NS
        {
            a.flags |= flag::FAST_RETRANSMISSION;
        } else if not_advanced
            && s.now.saturating_sub(fwd.nextseq_time) < threshold
            && fwd.nextseq != seq.wrapping_add(s.seglen).wrapping_add(syn_fin)
        {
            a.flags |= flag::OUT_OF_ORDER;
        } else if not_advanced {
            a.flags |= flag::RETRANSMISSION;
        }
    }
    let next = seq.wrapping_add(s.seglen).wrapping_add(syn_fin);
    if (seq_gt(next, fwd.nextseq) || fwd.nextseq == 0) && !probe {
        fwd.nextseq = next;
        fwd.nextseq_time = s.now;
    }
    if (seq == fwd.max_to_be_acked || fwd.max_to_be_acked == 0) && !probe {
        fwd.max_to_be_acked = fwd.nextseq;
    }
    fwd.window = s.window;
    fwd.lastack = s.ack;
    fwd.lastack_time = s.now;
    fwd.last_flags = a.flags;
    a
}

/// The expert items of an analysis, in the order tshark prints them, with its words.
fn analysis_experts(a: &Analysis) -> Vec<Expert> {
    let seq = |sev, msg: &'static str| Expert::new(sev, Group::Sequence, msg, None);
    let mut v = Vec::new();
    let f = a.flags;
    if f & flag::RETRANSMISSION != 0 {
        v.push(seq(Severity::Note, "This frame is a (suspected) retransmission"));
    }
    if f & flag::FAST_RETRANSMISSION != 0 {
        v.push(seq(Severity::Note, "This frame is a (suspected) fast retransmission"));
        v.push(seq(Severity::Note, "This frame is a (suspected) retransmission"));
    }
    if f & flag::SPURIOUS_RETRANSMISSION != 0 {
        v.push(seq(Severity::Note, "This frame is a (suspected) spurious retransmission"));
        v.push(seq(Severity::Note, "This frame is a (suspected) retransmission"));
    }
    if f & flag::OUT_OF_ORDER != 0 {
        v.push(seq(Severity::Warning, "This frame is a (suspected) out-of-order segment"));
    }
    if f & flag::LOST_PACKET != 0 {
        v.push(seq(Severity::Warning, "Previous segment(s) not captured (common at capture start)"));
    }
    if f & flag::ACK_LOST_PACKET != 0 {
        v.push(seq(Severity::Warning, "ACKed segment that wasn't captured (common at capture start)"));
    }
    if f & flag::WINDOW_UPDATE != 0 {
        v.push(seq(Severity::Chat, "TCP window update"));
    }
    if f & flag::KEEP_ALIVE != 0 {
        v.push(seq(Severity::Note, "TCP keep-alive segment"));
    }
    if f & flag::KEEP_ALIVE_ACK != 0 {
        v.push(seq(Severity::Note, "ACK to a TCP keep-alive segment"));
    }
    if f & flag::DUPLICATE_ACK != 0 {
        v.push(Expert::new(Severity::Note, Group::Sequence, format!("Duplicate ACK (#{})", a.dupack), None));
    }
    if f & flag::ZERO_WINDOW_PROBE != 0 {
        v.push(seq(Severity::Note, "TCP Zero Window Probe"));
    }
    if f & flag::ZERO_WINDOW != 0 {
        v.push(seq(Severity::Warning, "TCP Zero Window segment"));
    }
    if f & flag::ZERO_WINDOW_PROBE_ACK != 0 {
        v.push(seq(Severity::Note, "ACK to a TCP Zero Window Probe"));
    }
    v
}

/// The expert item for a transport checksum that does not verify: Wireshark's words, and why a
/// capture so often holds such checksums. When the field holds the pseudo-header's sum alone,
/// it says so: that is what Linux leaves for a network card that computes the checksum
/// (CHECKSUM_PARTIAL), and a capture on the sending host sees it before the card does.
fn bad_checksum(carried: u16, computed: u16, (src, dst): (IpAddr, IpAddr), proto: u8, len: usize, at: usize) -> Expert {
    let partial = inet::pseudo_header_inline(src, dst, proto, len).map(|ph| !inet::internet_checksum(&[&ph]));
    // Built piece by piece: a capture on the sending host has this on most of its segments.
    let mut msg = String::with_capacity(160);
    msg.push_str("Bad checksum [should be ");
    let _ = crate::digits::hex(&mut crate::digits::Fmt(&mut msg), u64::from(computed), 4);
    if partial == Some(carried) {
        msg.push_str("] (");
        let _ = crate::digits::hex(&mut crate::digits::Fmt(&mut msg), u64::from(carried), 4);
        msg.push_str(
            " is the pseudo-header's sum alone: the checksum was left to the network card and captured before it \
             was filled in)",
        );
    } else {
        msg.push_str(
            "] (outgoing packets captured on the sending host often carry offloaded checksums not yet filled in)",
        );
    }
    Expert::new(Severity::Error, Group::Checksum, msg, at)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()).map(u32::from_be_bytes)
}

/// Insert `f` just after the first field named `after` (at the end when there is none).
fn stream_field(name: &'static str, stream: u32) -> Field {
    Field::uint(name, "Stream index", stream)
}

/// A direction's observer: the segments' receiver as local, their sender as remote.
fn observer(kind: TransportKind, from: (IpAddr, u16), to: (IpAddr, u16)) -> Transport {
    let tcp = TcpParams { snd_nxt: 0, rcv_nxt: 0, window: 0, mss: 0, timestamps: false, ts_recent: 0 };
    Transport {
        cfg: TransportConfig {
            kind,
            local_ip: to.0,
            local_port: to.1,
            remote_ip: from.0,
            remote_port: from.1,
            tcp,
            capture: true,
        },
        snd_nxt: 0,
        recv: RecvQueue::new(0, OBSERVED_WINDOW),
        ts_recent: 0,
        flow: Flow::default(),
        peer: Flow::default(),
    }
}

/// What a conversation-level observer tells a direction's observer about one segment.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    /// Hold segments beyond a gap.
    hold: bool,
    /// How many more bytes may be held (all conversations together).
    room: usize,
    /// This SYN starts a new conversation on the ports of an earlier one.
    reused: bool,
}

impl Transport {
    /// Capture mode, one direction on its own (`impl Layer for Transport` with `capture` set).
    pub(super) fn observe(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
        match self.cfg.kind {
            TransportKind::Tcp => {
                let ctx = Ctx { hold: false, room: MAX_HELD_BYTES, reused: false };
                self.observe_tcp(bytes, meta, ctx, cx)
            }
            TransportKind::Udp => self.observe_udp(bytes, meta, cx),
            TransportKind::Icmp => {
                cx.trace.push(super::icmp_record(Direction::Up, bytes.len()));
                Ok(Some(Pdu { data: Data::Bytes(bytes), meta }))
            }
        }
    }

    /// Learn the bases of relative numbers from a segment (packet-tcp.c): this direction's from
    /// its first segment (a SYN's ISN, else the sequence number less one), the other's from the
    /// first acknowledgment number seen less one.
    fn learn_bases(&mut self, seq: u32, ack: u32, flags: TcpFlags) {
        if self.flow.base.is_none() {
            self.flow.base = Some(if flags.contains(TcpFlags::SYN) { seq } else { seq.wrapping_sub(1) });
        }
        if self.peer.base.is_none() && flags.contains(TcpFlags::ACK) {
            self.peer.base = Some(ack.wrapping_sub(1));
        }
    }

    fn relative(&self) -> RelativeTo {
        RelativeTo { seq: self.flow.base.unwrap_or(0), ack: self.peer.base.unwrap_or(0) }
    }

    /// The record of a header that cannot be read in full: the fields tshark shows before it
    /// stops (the ports of a header under 20 bytes; with a bogus data offset, the fixed header's
    /// fields as far as tshark lists them).
    fn partial_tcp(&mut self, b: &[u8], meta: &Meta) -> Record {
        let mut r = Record::new(L4, Direction::Up, "tcp", "Transmission Control Protocol", PduName::Segment);
        r.header = 0..b.len().min(tcp::MIN_HEADER_LEN);
        let (Some(sp), Some(dp)) = (be16(b, 0), be16(b, 2)) else {
            return r;
        };
        r.title = format!("Transmission Control Protocol, Src Port: {sp}, Dst Port: {dp}");
        r.fields.push(Field::uint("tcp.srcport", "Source Port", sp));
        r.fields.push(Field::uint("tcp.dstport", "Destination Port", dp));
        let (Some(seq), Some(ack), Some(&off), Some(&fl)) = (be32(b, 4), be32(b, 8), b.get(12), b.get(13)) else {
            return r;
        };
        if b.len() < tcp::MIN_HEADER_LEN {
            return r;
        }
        if let Some(s) = meta.stream {
            r.fields.push(stream_field("tcp.stream", s));
        }
        let flags = TcpFlags(u16::from(off & 0x0f) << 8 | u16::from(fl));
        self.learn_bases(seq, ack, flags);
        let rel = self.relative();
        let hlen = usize::from(off >> 4) * 4;
        let short = hlen < tcp::MIN_HEADER_LEN;
        if short {
            r.fields.push(Field::uint("tcp.len", "TCP Segment Len", b.len().saturating_sub(hlen) as u64));
        }
        r.fields.push(Field::uint("tcp.seq", "Sequence Number", seq.wrapping_sub(rel.seq)));
        r.fields.push(Field::uint("tcp.seq_raw", "Sequence Number (raw)", seq));
        if !short {
            let ack_rel = if flags.contains(TcpFlags::ACK) { ack.wrapping_sub(rel.ack) } else { ack };
            r.fields.push(Field::uint("tcp.ack", "Acknowledgment Number", ack_rel));
            r.fields.push(Field::uint("tcp.ack_raw", "Acknowledgment number (raw)", ack));
        }
        r.fields.push(
            Field::uint("tcp.hdr_len", "Header Length", hlen as u64).shown(format!("{hlen} bytes ({})", hlen / 4)),
        );
        if !short {
            r.fields.push(Field::hex("tcp.flags", "Flags", flags.bits(), 4).shown(format!(
                "0x{:03x} ({})",
                flags.bits(),
                flags.names()
            )));
            let (win, sum, urg) = (be16(b, 14).unwrap_or(0), be16(b, 16).unwrap_or(0), be16(b, 18).unwrap_or(0));
            r.fields.push(Field::uint("tcp.window_size_value", "Window", win));
            r.fields.push(Field::hex("tcp.checksum", "Checksum", sum, 4));
            r.fields.push(Field::uint("tcp.urgent_pointer", "Urgent Pointer", urg));
        }
        r.notes.push(format!(
            "the header length field says {hlen} bytes and {} are present: the segment cannot be read further",
            b.len()
        ));
        r
    }

    /// One TCP segment of this direction, observed (see the module docs).
    fn observe_tcp(&mut self, bytes: Vec<u8>, meta: Meta, ctx: Ctx, cx: &mut Context) -> Result<Option<Pdu>> {
        let off = meta.offset;
        let addrs = self.up_addresses(&meta);
        let view = match TcpView::new(&bytes, off) {
            Ok(v) => v,
            Err(e) => {
                let r = self.partial_tcp(&bytes, &meta);
                cx.trace.push(r);
                return Err(e);
            }
        };
        let status = view.verify(addrs.0, addrs.1)?;
        let (options, opt_err) = TcpOption::parse_prefix(view.options_bytes(), off + tcp::field::OPTIONS);
        let mut seg = TcpSegment {
            src_port: view.src_port(),
            dst_port: view.dst_port(),
            seq: view.seq(),
            ack: view.ack(),
            flags: view.flags(),
            window: view.window(),
            urgent: view.urgent(),
            options,
            payload: view.payload().to_vec(),
        };
        let hlen = view.header_len();
        let f = seg.flags;
        let (syn, fin, rst, ackf) = (
            f.contains(TcpFlags::SYN),
            f.contains(TcpFlags::FIN),
            f.contains(TcpFlags::RST),
            f.contains(TcpFlags::ACK),
        );
        let now = cx.now.as_nanos();
        self.learn_bases(seg.seq, seg.ack, f);
        if syn && !ackf {
            self.flow.syn_time = Some(now);
        } else if ackf && !syn && self.flow.first_rtt.is_none() {
            if let Some(t) = self.flow.syn_time {
                let rtt = now.saturating_sub(t);
                self.flow.first_rtt = Some(rtt);
                self.peer.first_rtt = Some(rtt);
            }
        }
        let rel = self.relative();
        let detail = cx.detail;
        let next = seg.seq.wrapping_add(seg.seg_len()).wrapping_sub(rel.seq);
        // tshark's order: tcp.stream after the ports; tcp.nxtseq after the sequence numbers and,
        // without ACK, tcp.ack as it is (not relative) before tcp.ack_raw.
        let mut more = |after: &'static str, f: &mut Vec<Field>| match after {
            "tcp.dstport" => f.extend(meta.stream.map(|s| stream_field("tcp.stream", s))),
            "tcp.seq_raw" => {
                f.push(
                    Field::uint("tcp.nxtseq", "Next Sequence Number", next)
                        .shown_if(detail, || format!("{next}    (relative sequence number)")),
                );
                if !ackf {
                    f.push(Field::uint("tcp.ack", "Acknowledgment Number", seg.ack));
                }
            }
            _ => {}
        };
        // The options were read from this header just above (parse_prefix).
        let mut r = tcp_up_record(&view, Some(&seg), Some(rel), detail, true, &mut more);
        r.checks.push(Check::new(
            "tcp.checksum.status",
            "Checksum",
            status.is_acceptable(),
            cx.text(|| status.detail()),
        ));
        // Expert items in tshark's order: the header's fields, then the sequence analysis.
        if !ackf && seg.ack != 0 {
            r.expert.push(Expert::new(
                Severity::Note,
                Group::Protocol,
                "The acknowledgment number field is nonzero while the ACK flag is not set",
                off + tcp::field::ACK.start,
            ));
        }
        let chat = |m: String| Expert::new(Severity::Chat, Group::Sequence, m, None);
        if syn && ackf {
            r.expert.push(chat(format!("Connection establish acknowledge (SYN+ACK): server port {}", seg.src_port)));
        } else if syn {
            r.expert.push(chat(format!("Connection establish request (SYN): server port {}", seg.dst_port)));
        }
        if rst {
            self.flow.rst_seen = true;
            r.expert.push(Expert::new(Severity::Warning, Group::Sequence, "Connection reset (RST)", None));
        }
        if fin {
            self.flow.fin_seen = true;
            r.expert.push(chat("Connection finish (FIN)".into()));
            // The first FIN of the conversation initiates the closing; one after the other
            // side's undergoes it.
            let msg = if self.peer.closing_initiator {
                "This frame undergoes the connection closing"
            } else {
                self.flow.closing_initiator = true;
                "This frame initiates the connection closing"
            };
            r.expert.push(Expert::new(Severity::Note, Group::Sequence, msg, None));
        }
        if let ChecksumStatus::Bad { carried, computed } = status {
            let at = off + tcp::field::CHECKSUM.start;
            r.expert.push(bad_checksum(carried, computed, addrs, IP_PROTO_TCP, bytes.len(), at));
        }
        if !syn && seg.options.iter().any(|o| matches!(o, TcpOption::Mss(_))) {
            r.expert.push(Expert::new(
                Severity::Warning,
                Group::Protocol,
                "The non-SYN packet does contain a MSS option",
                None,
            ));
        }
        if let Some(e) = opt_err {
            r.expert.push(Expert::new(Severity::Warning, Group::Malformed, e.to_string(), e.offset));
            r.notes.push("the options after the malformed one are not read".into());
        }
        let facts = Facts {
            seq: seg.seq,
            ack: seg.ack,
            flags: f,
            seglen: seg.payload.len() as u32,
            window: u32::from(seg.window),
            now,
        };
        let a = analyze(&mut self.flow, &mut self.peer, &facts);
        if ctx.reused {
            r.expert.push(Expert::new(
                Severity::Note,
                Group::Sequence,
                "A new tcp session is started with the same ports as an earlier session in this trace",
                None,
            ));
        }
        r.expert.extend(analysis_experts(&a));
        let payload = std::mem::take(&mut seg.payload);
        let up = if ctx.hold {
            self.pass_up_ordered(&seg, payload, ctx.room, &mut r)
        } else {
            self.pass_up_as_seen(&seg, payload, a, &mut r)
        };
        cx.trace.push(r);
        Ok(up.map(|(data, piece, detached)| {
            let mut meta = meta;
            meta.offset = off + hlen;
            meta.src_port = Some(seg.src_port);
            meta.dst_port = Some(seg.dst_port);
            // Data L3 put together from fragments stays detached from this frame.
            meta.detached |= detached;
            piece.mark(&mut meta);
            Pdu { data: Data::Bytes(data), meta }
        }))
    }

    /// tshark's default: the payload goes up as it is seen, unless it is not new (a
    /// retransmission, an out-of-order segment) or a keep-alive; a FIN in order ends the
    /// direction. `(data, marks, detached)` when anything goes up.
    fn pass_up_as_seen(
        &mut self,
        seg: &TcpSegment,
        payload: Vec<u8>,
        a: Analysis,
        r: &mut Record,
    ) -> Option<(Vec<u8>, Piece, bool)> {
        let not_new = a.flags & flag::NOT_NEW != 0;
        if a.flags & flag::LOST_PACKET != 0 {
            self.flow.gap_pending = true;
        }
        let data = !payload.is_empty() && !not_new && a.flags & flag::KEEP_ALIVE == 0;
        if !payload.is_empty() && !data {
            r.notes.push(if not_new {
                format!(
                    "{} bytes seen before: not passed up again (tshark's tcp.no_subdissector_on_error)",
                    payload.len()
                )
            } else {
                "a keep-alive byte: not part of the stream".to_string()
            });
        }
        let fin = seg.flags.contains(TcpFlags::FIN) && !not_new && !self.flow.ended;
        if !data && !fin {
            return None;
        }
        self.flow.ended |= fin;
        let piece = Piece { gap_before: std::mem::take(&mut self.flow.gap_pending), fin };
        if piece.gap_before {
            r.notes.push("passed up after a gap: the bytes before it were never captured".into());
        }
        if fin {
            r.notes.push("FIN: the sender's byte stream ends here".into());
        }
        Some((if data { payload } else { Vec::new() }, piece, false))
    }

    /// Out-of-order reassembly: data beyond a gap is held in the receive queue until the gap is
    /// filled, within [`MAX_HELD_BYTES`] for this direction and `room` bytes more in all; past
    /// that the gap is given up and what is held goes up.
    fn pass_up_ordered(
        &mut self,
        seg: &TcpSegment,
        payload: Vec<u8>,
        room: usize,
        r: &mut Record,
    ) -> Option<(Vec<u8>, Piece, bool)> {
        let syn = seg.flags.contains(TcpFlags::SYN);
        let start = seg.seq.wrapping_add(u32::from(syn));
        if !self.flow.synced {
            self.recv = RecvQueue::new(start, OBSERVED_WINDOW);
            self.flow.synced = true;
        }
        if seg.flags.contains(TcpFlags::FIN) && self.flow.fin_at.is_none() {
            self.flow.fin_at = Some(start.wrapping_add(payload.len() as u32));
        }
        let mut out = Vec::new();
        let mut gap = false;
        let mut detached = false;
        let mut delivered = false;
        if !payload.is_empty() {
            let beyond = seq_lt(self.recv.rcv_nxt(), start);
            let limit = MAX_HELD_BYTES.min(self.recv.held_bytes() + room);
            if beyond && self.recv.held_bytes() + payload.len() > limit {
                gap |= self.give_up_gap(&mut out, r);
                if seq_lt(self.recv.rcv_nxt(), start) && payload.len() > limit {
                    // Nothing more can be held: skip to this segment.
                    self.recv = RecvQueue::new(start, OBSERVED_WINDOW);
                    gap = true;
                }
            }
            match self.recv.arrive(start, &payload) {
                Arrival::Deliver { data, own, from_held, trimmed } => {
                    detached = from_held > 0 || trimmed > 0 || !out.is_empty();
                    r.notes.push(format!("in order: {own} bytes, and {} held bytes after them", data.len() - own));
                    out.extend_from_slice(&data);
                    delivered = true;
                }
                Arrival::Held { waiting_for } => r.notes.push(format!(
                    "beyond a gap: held until seq {waiting_for} (relative {}) is captured",
                    waiting_for.wrapping_sub(self.flow.base.unwrap_or(0))
                )),
                Arrival::DuplicateOfHeld { .. } | Arrival::Duplicate => {
                    r.notes.push("seen before: not passed up again".into())
                }
                Arrival::OutsideWindow | Arrival::Dropped => r.notes.push("beyond what can be held: dropped".into()),
            }
        }
        delivered |= !out.is_empty();
        let mut fin = false;
        if let Some(at) = self.flow.fin_at {
            if self.recv.rcv_nxt() == at && !self.flow.ended {
                self.recv.advance(1);
                self.flow.ended = true;
                fin = true;
                r.notes.push("FIN: the sender's byte stream ends here".into());
            }
        }
        if !delivered && !fin {
            return None;
        }
        let piece = Piece { gap_before: gap, fin };
        Some((out, piece, detached))
    }

    /// Give up the gap before the first held segment: the held data that follows on goes into
    /// `out`, with an expert item. False when nothing was held.
    fn give_up_gap(&mut self, out: &mut Vec<u8>, r: &mut Record) -> bool {
        let held = self.recv.held_bytes();
        let Some(skip) = self.recv.skip_gap() else {
            return false;
        };
        let base = self.flow.base.unwrap_or(0);
        r.expert.push(Expert::new(
            Severity::Warning,
            Group::Sequence,
            format!(
                "Previous segment(s) not captured: gave up waiting for seq {}..{} ({} bytes) with {held} bytes held; \
                 dissection resumes after the gap",
                skip.from.wrapping_sub(base),
                skip.from.wrapping_add(skip.missing).wrapping_sub(base),
                skip.missing
            ),
            None,
        ));
        out.extend_from_slice(&skip.data);
        true
    }

    /// The end of the capture: data still held beyond a gap is reported (not an error).
    pub(super) fn observe_finish(&mut self, cx: &mut Context) {
        let held = self.recv.held_bytes();
        if held == 0 {
            return;
        }
        let base = self.flow.base.unwrap_or(0);
        let mut r = Record::new(L4, Direction::Up, "tcp", "TCP stream incomplete", PduName::Segment);
        r.summary = format!(
            "{}:{} → {}:{}: {held} bytes held after a gap",
            self.cfg.remote_ip, self.cfg.remote_port, self.cfg.local_ip, self.cfg.local_port
        );
        r.expert.push(Expert::new(
            Severity::Warning,
            Group::Reassemble,
            format!(
                "The capture ended with {held} bytes held after a gap: seq {} (relative {}) was never captured, so \
                 they were not dissected",
                self.recv.rcv_nxt(),
                self.recv.rcv_nxt().wrapping_sub(base)
            ),
            None,
        ));
        cx.trace.push(r);
    }

    /// The record of a UDP header that cannot be read in full: the fields tshark shows.
    fn partial_udp(b: &[u8], stream: Option<u32>) -> Record {
        let mut r = Record::new(L4, Direction::Up, "udp", "User Datagram Protocol", PduName::Datagram);
        r.header = 0..b.len().min(udp::HEADER_LEN);
        if let (Some(sp), Some(dp)) = (be16(b, 0), be16(b, 2)) {
            r.title = udp::title(sp, dp);
            r.fields.push(Field::uint("udp.srcport", "Source Port", sp));
            r.fields.push(Field::uint("udp.dstport", "Destination Port", dp));
        }
        if let Some(len) = be16(b, 4) {
            r.fields.push(Field::uint("udp.length", "Length", len));
            if usize::from(len) >= udp::HEADER_LEN {
                if let Some(sum) = be16(b, 6) {
                    r.fields.push(Field::hex("udp.checksum", "Checksum", sum, 4));
                }
                if let Some(s) = stream {
                    r.fields.push(stream_field("udp.stream", s));
                }
            }
        }
        r
    }

    /// One UDP datagram, observed: as the host path reads it, but no port is refused and a bad
    /// or missing checksum is reported and the payload still goes up.
    fn observe_udp(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
        let off = meta.offset;
        let addrs = self.up_addresses(&meta);
        let view = match UdpView::new(&bytes, off) {
            Ok(v) => v,
            Err(e) => {
                let mut r = Transport::partial_udp(&bytes, meta.stream);
                // A length beyond the bytes present (a bogus length, or a frame cut by the
                // snaplen): tshark still shows the bytes that are there as the payload.
                let len = be16(&bytes, udp::field::LENGTH.start).map_or(0, usize::from);
                if bytes.len() >= udp::HEADER_LEN && len > bytes.len() {
                    let avail = bytes.len() - udp::HEADER_LEN;
                    r.payload_len = avail;
                    r.expert.push(Expert::new(
                        Severity::Error,
                        Group::Malformed,
                        format!(
                            "Bad length value {len} > IP payload length ({} bytes): the {avail} bytes after the \
                             header go up",
                            bytes.len()
                        ),
                        off + udp::field::LENGTH.start,
                    ));
                    cx.trace.push(r);
                    let mut meta = meta;
                    meta.offset = off + udp::HEADER_LEN;
                    meta.src_port = be16(&bytes, 0);
                    meta.dst_port = be16(&bytes, 2);
                    meta.part = None;
                    return Ok(Some(Pdu { data: Data::Bytes(bytes[udp::HEADER_LEN..].to_vec()), meta }));
                }
                cx.trace.push(r);
                return Err(e);
            }
        };
        let status = view.verify(addrs.0, addrs.1)?;
        let (sp, dp) = (view.src_port(), view.dst_port());
        let mut r = Record::new(L4, Direction::Up, "udp", cx.text(|| udp::title(sp, dp)), PduName::Datagram);
        r.summary = cx.text(|| udp::summary(sp, dp, view.payload().len()));
        r.header = 0..udp::HEADER_LEN;
        r.payload_len = view.payload().len();
        r.overhead = udp::HEADER_LEN;
        r.fields = udp::header_fields(sp, dp, view.length(), view.checksum());
        if let Some(s) = meta.stream {
            r.fields.push(stream_field("udp.stream", s));
        }
        r.checks.push(Check::new(
            "udp.checksum.status",
            "Checksum",
            status.is_acceptable(),
            cx.text(|| status.detail()),
        ));
        let at = off + udp::field::CHECKSUM.start;
        match status {
            ChecksumStatus::Bad { carried, computed } => {
                r.expert.push(bad_checksum(carried, computed, addrs, IP_PROTO_UDP, view.bytes().len(), at));
            }
            ChecksumStatus::Missing { computed } => r.expert.push(Expert::new(
                Severity::Error,
                Group::Checksum,
                format!(
                    "Illegal checksum value (0) [should be 0x{computed:04x}]: over IPv6 the UDP checksum is mandatory \
                     (RFC 8200 §8.1)"
                ),
                at,
            )),
            ChecksumStatus::NotComputed if cx.detail => {
                r.notes.push("checksum 0: the sender computed none (RFC 768 allows this over IPv4)".into())
            }
            ChecksumStatus::NotComputed | ChecksumStatus::Good { .. } => {}
        }
        if view.trimmed() > 0 && cx.detail {
            r.notes.push(format!(
                "{} bytes after the datagram's length ({}) are not part of it",
                view.trimmed(),
                view.length()
            ));
        }
        cx.trace.push(r);
        let payload = view.payload().to_vec();
        let mut meta = meta;
        meta.offset = off + udp::HEADER_LEN;
        meta.src_port = Some(sp);
        meta.dst_port = Some(dp);
        meta.part = None;
        Ok(Some(Pdu { data: Data::Bytes(payload), meta }))
    }
}

/// One TCP conversation: its stream index and an observer per direction (0: from the lower
/// endpoint).
#[derive(Debug, Clone)]
struct TcpConversation {
    stream: u32,
    dirs: [Transport; 2],
}

impl TcpConversation {
    fn new(stream: u32, key: &ConvKey) -> Self {
        TcpConversation {
            stream,
            dirs: [observer(TransportKind::Tcp, key.lo, key.hi), observer(TransportKind::Tcp, key.hi, key.lo)],
        }
    }

    fn held(&self) -> usize {
        self.dirs.iter().map(Transport::held_bytes).sum()
    }

    /// Closed by FIN both ways or by an RST: forgotten first when the table is full.
    fn closed(&self) -> bool {
        let [a, b] = &self.dirs;
        (a.flow.fin_seen && b.flow.fin_seen) || a.flow.rst_seen || b.flow.rst_seen
    }
}

/// L4 in capture mode: every TCP and UDP conversation of a capture (see the module docs).
#[derive(Debug, Clone)]
pub struct TransportCapture {
    cfg: CaptureConfig,
    tcp: Lru<ConvKey, TcpConversation>,
    udp: Lru<ConvKey, u32>,
    next_tcp: u32,
    next_udp: u32,
    /// Bytes held out of order in all TCP conversations.
    held: usize,
    /// Reads UDP datagrams (it keeps no state).
    udp_reader: Transport,
}

impl Default for TransportCapture {
    fn default() -> Self {
        TransportCapture::new(CaptureConfig::default())
    }
}

/// The expert note for a conversation forgotten to make room.
fn evicted_expert(proto: &str, stream: u32, key: &ConvKey, closed: bool, held: usize, cap: usize) -> Expert {
    let state = if closed { "closed" } else { "not closed" };
    let lost = if held > 0 { format!("; its {held} held bytes were dropped") } else { String::new() };
    Expert::new(
        Severity::Note,
        Group::Sequence,
        format!(
            "Conversation table full ({cap} {proto} conversations): the least recently used, {proto} stream {stream} \
             ({}, {state}), was forgotten{lost}; a later packet of it starts a new stream",
            key.name()
        ),
        None,
    )
}

impl TransportCapture {
    /// An observer of every conversation, with these bounds.
    pub fn new(cfg: CaptureConfig) -> Self {
        let any = (IpAddr::from([0, 0, 0, 0]), 0);
        TransportCapture {
            cfg,
            tcp: Lru::new(cfg.max_conversations),
            udp: Lru::new(cfg.max_conversations),
            next_tcp: 0,
            next_udp: 0,
            held: 0,
            udp_reader: observer(TransportKind::Udp, any, any),
        }
    }

    /// How many conversations are tracked now: (TCP, UDP).
    pub fn conversations(&self) -> (usize, usize) {
        (self.tcp.len(), self.udp.len())
    }

    /// The stream index of the conversation a header quoted in an ICMP error belongs to (tshark
    /// gives the quoted TCP or UDP header the `tcp.stream` / `udp.stream` of its conversation,
    /// and starts one when the conversation was not seen): found, or started without learning
    /// anything from the quote. `None` for another protocol.
    pub fn quoted_stream(&mut self, ip_proto: u8, src: (IpAddr, u16), dst: (IpAddr, u16)) -> Option<u32> {
        let (key, _) = ConvKey::of(ip_proto, src, dst);
        match ip_proto {
            IP_PROTO_TCP => {
                if let Some(c) = self.tcp.get_mut(&key) {
                    return Some(c.stream);
                }
                let s = self.next_tcp;
                self.next_tcp = self.next_tcp.wrapping_add(1);
                if let Some((_, old)) = self.tcp.insert(key, TcpConversation::new(s, &key)) {
                    self.held = self.held.saturating_sub(old.held());
                }
                Some(s)
            }
            IP_PROTO_UDP => {
                if let Some(&mut s) = self.udp.get_mut(&key) {
                    return Some(s);
                }
                let s = self.next_udp;
                self.next_udp = self.next_udp.wrapping_add(1);
                self.udp.insert(key, s);
                Some(s)
            }
            _ => None,
        }
    }

    fn decapsulate_tcp(&mut self, bytes: Vec<u8>, mut meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
        let (Some(src), Some(dst)) = (meta.src_ip, meta.dst_ip) else {
            return Err(no_addresses(meta.offset));
        };
        let (Some(sp), Some(dp)) = (be16(&bytes, 0), be16(&bytes, 2)) else {
            return self.short_tcp(bytes, meta, cx);
        };
        meta.src_port = Some(sp);
        meta.dst_port = Some(dp);
        if bytes.len() < tcp::MIN_HEADER_LEN {
            return self.short_tcp(bytes, meta, cx);
        }
        let (key, d) = ConvKey::of(IP_PROTO_TCP, (src, sp), (dst, dp));
        let seq = be32(&bytes, 4).unwrap_or(0);
        let flags = TcpFlags(u16::from(bytes[13]));
        let syn_only = flags.contains(TcpFlags::SYN) && !flags.contains(TcpFlags::ACK);
        // packet-tcp.c: a SYN whose sequence number is not the base of its direction starts a
        // new conversation on the same ports.
        let (fresh, reused) = match self.tcp.peek(&key) {
            None => (true, false),
            Some(c) => {
                let reuse = syn_only && c.dirs[d].flow.base.is_some_and(|b| b != seq);
                (reuse, reuse)
            }
        };
        let mut evicted = None;
        if fresh {
            if let Some(old) = self.tcp.remove(&key) {
                self.held = self.held.saturating_sub(old.held());
            }
            let stream = self.next_tcp;
            self.next_tcp = self.next_tcp.wrapping_add(1);
            if let Some((k, old)) = self.tcp.insert(key, TcpConversation::new(stream, &key)) {
                self.held = self.held.saturating_sub(old.held());
                let cap = self.cfg.max_conversations;
                evicted = Some(evicted_expert("TCP", old.stream, &k, old.closed(), old.held(), cap));
            }
        }
        let hold = self.cfg.reassemble_out_of_order;
        let room = self.cfg.max_held_total.saturating_sub(self.held);
        let Some(conv) = self.tcp.get_mut(&key) else {
            return Err(Error::config(Some(L4), "the conversation table lost an entry it had just made"));
        };
        meta.stream = Some(conv.stream);
        let before = conv.held();
        let (first, second) = conv.dirs.split_at_mut(1);
        let (me, other) = if d == 0 { (&mut first[0], &mut second[0]) } else { (&mut second[0], &mut first[0]) };
        me.peer = other.flow;
        let records = cx.trace.records.len();
        let result = me.observe_tcp(bytes, meta, Ctx { hold, room, reused }, cx);
        other.flow = me.peer;
        let after = conv.held();
        let closed = conv.closed();
        self.held = (self.held + after).saturating_sub(before);
        self.tcp.set_closed(&key, closed);
        if let (Some(e), Some(r)) = (evicted, cx.trace.records.get_mut(records)) {
            r.expert.push(e);
        }
        result
    }

    /// A header too short to name a conversation: read by a direction-less observer, which
    /// records what it can and returns the error.
    fn short_tcp(&mut self, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
        let mut t = observer(TransportKind::Tcp, (IpAddr::from([0, 0, 0, 0]), 0), (IpAddr::from([0, 0, 0, 0]), 0));
        t.observe_tcp(bytes, meta, Ctx { hold: false, room: 0, reused: false }, cx)
    }

    fn decapsulate_udp(&mut self, bytes: Vec<u8>, mut meta: Meta, cx: &mut Context) -> Result<Option<Pdu>> {
        let (Some(src), Some(dst)) = (meta.src_ip, meta.dst_ip) else {
            return Err(no_addresses(meta.offset));
        };
        // tshark numbers the conversation once the length field is at least the header's.
        if let (Some(sp), Some(dp), Some(len)) = (be16(&bytes, 0), be16(&bytes, 2), be16(&bytes, 4)) {
            meta.src_port = Some(sp);
            meta.dst_port = Some(dp);
            if usize::from(len) >= udp::HEADER_LEN {
                let (key, _) = ConvKey::of(IP_PROTO_UDP, (src, sp), (dst, dp));
                let mut evicted = None;
                let stream = match self.udp.get_mut(&key) {
                    Some(&mut s) => s,
                    None => {
                        let s = self.next_udp;
                        self.next_udp = self.next_udp.wrapping_add(1);
                        if let Some((k, old)) = self.udp.insert(key, s) {
                            evicted = Some(evicted_expert("UDP", old, &k, false, 0, self.cfg.max_conversations));
                        }
                        s
                    }
                };
                meta.stream = Some(stream);
                let records = cx.trace.records.len();
                let result = self.udp_reader.observe_udp(bytes, meta, cx);
                if let (Some(e), Some(r)) = (evicted, cx.trace.records.get_mut(records)) {
                    r.expert.push(e);
                }
                return result;
            }
        }
        self.udp_reader.observe_udp(bytes, meta, cx)
    }
}

fn no_addresses(offset: usize) -> Error {
    Error::invalid(
        L4,
        "TCP/UDP",
        offset,
        "network-layer addresses",
        "the source and destination addresses from L3 (the checksum's pseudo-header and the conversation need them)",
        "none",
    )
}

impl Layer for TransportCapture {
    fn id(&self) -> LayerId {
        L4
    }

    /// Capture mode observes: it sends nothing.
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        Err(Error::config(Some(L4), "the capture-mode transport layer observes a capture; it does not send"))
    }

    /// A TCP segment (`meta.ip_proto` 6) or UDP datagram (17) from L3, with `meta.src_ip` and
    /// `meta.dst_ip` set: its conversation's data goes up (see the module docs).
    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(L4)?;
        match meta.ip_proto {
            Some(IP_PROTO_TCP) => self.decapsulate_tcp(bytes, meta, cx),
            Some(IP_PROTO_UDP) => self.decapsulate_udp(bytes, meta, cx),
            other => Err(Error::invalid(
                L4,
                "TCP/UDP",
                meta.offset,
                "IP protocol",
                "6 (TCP) or 17 (UDP)",
                other.map_or("none (L3 did not say)".to_string(), |p| p.to_string()),
            )),
        }
    }

    fn holding(&self) -> bool {
        self.held > 0
    }

    /// The end of the capture: every direction that still holds data beyond a gap reports it, in
    /// stream order (expert items, not an error).
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        let mut waiting: Vec<&mut TcpConversation> = self.tcp.values_mut().filter(|c| c.held() > 0).collect();
        waiting.sort_by_key(|c| c.stream);
        for c in waiting {
            for t in &mut c.dirs {
                t.observe_finish(cx);
            }
        }
        Ok(())
    }
}
