//! The transmission control block (RFC 9293 §3.3.1) and the user calls on it: OPEN (§3.10.1),
//! SEND (§3.10.2), RECEIVE (§3.10.3), CLOSE (§3.10.4), ABORT (§3.10.5), and the timeouts
//! (§3.10.8).

use super::super::options::TcpOption;
use super::super::reassembly::RecvQueue;
use super::super::tcp::{TcpFlags, TcpSegment};
use super::cc::NewReno;
use super::event::{ConnEvent, ConnStats, RetransmitReason, SockError};
use super::rto::RtoEstimator;
use super::sack::Scoreboard;
use super::send::SendBuffer;
use super::{seq_le, seq_lt, ConnConfig, TcpState};
use crate::time::Instant;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

/// RFC 9293 §3.7.1: without an MSS option, the peer is taken to receive 536-byte segments over
/// IPv4 (576 − 40).
pub const DEFAULT_MSS_V4: u16 = 536;
/// The same over IPv6: 1220 (the minimum MTU 1280 − 60; RFC 8200 §5 and RFC 9293 §3.7.1).
pub const DEFAULT_MSS_V6: u16 = 1220;
/// The largest window scale shift (RFC 7323 §2.3).
pub const MAX_WINDOW_SCALE: u8 = 14;
/// The bytes the timestamps option takes on every segment, with its two NOPs (RFC 7323 §3.2).
pub const TIMESTAMPS_LEN: u32 = 12;

/// One TCP connection (see the module documentation of [`super`]).
#[derive(Debug, Clone)]
pub struct TcpConn {
    pub(super) cfg: ConnConfig,
    pub(super) state: TcpState,

    // Send sequence variables (RFC 9293 §3.3.1). SND.MAX is BSD's: one past the highest
    // sequence number sent, which SND.NXT falls back from when the sender goes back after a
    // timeout.
    pub(super) iss: u32,
    pub(super) snd_una: u32,
    pub(super) snd_nxt: u32,
    pub(super) snd_max: u32,
    pub(super) snd_wnd: u32,
    pub(super) max_snd_wnd: u32,
    pub(super) snd_wl1: u32,
    pub(super) snd_wl2: u32,
    pub(super) send_buf: SendBuffer,
    /// Our FIN's sequence number, once CLOSE has been called.
    pub(super) fin_seq: Option<u32>,
    /// CLOSE was called in SYN-RECEIVED: the FIN goes after the handshake (§3.10.4).
    pub(super) close_pending: bool,

    // Receive sequence variables.
    pub(super) irs: u32,
    pub(super) recv: RecvQueue,
    /// Delivered in order, not yet read by the application.
    pub(super) rx: VecDeque<u8>,
    /// The right edge of the window last advertised, RCV.NXT + RCV.WND: never moved left
    /// (RFC 9293 §3.8.6, "shrinking the window" is strongly discouraged).
    pub(super) rcv_adv: u32,
    /// The sequence number of the peer's FIN, once seen (perhaps ahead of RCV.NXT).
    pub(super) peer_fin: Option<u32>,
    /// The peer's FIN has been taken in order: end of stream.
    pub(super) fin_received: bool,
    /// The start of the latest segment held out of order (its SACK block goes first, RFC 2018
    /// §4).
    pub(super) last_held: Option<u32>,
    /// The largest data segment received (at most `rcv_mss`): "full-sized" for delayed ACKs.
    pub(super) max_seg_seen: u32,

    // Negotiated in the handshake.
    /// Data bytes in a full segment we send: min(peer's MSS, ours) less the timestamps option.
    pub(super) snd_mss: u32,
    /// Data bytes in a full segment the peer sends us.
    pub(super) rcv_mss: u32,
    pub(super) ts_on: bool,
    pub(super) ts_recent: u32,
    pub(super) last_ack_sent: u32,
    pub(super) ws_on: bool,
    pub(super) snd_wscale: u8,
    pub(super) rcv_wscale: u8,
    pub(super) sack_on: bool,

    // Timers (RFC 9293 §3.10.8, RFC 6298 §5) and RTT measurement.
    pub(super) rto: RtoEstimator,
    pub(super) rto_at: Option<Instant>,
    /// Expiries in a row without SND.UNA moving.
    pub(super) retries: u32,
    pub(super) persist_at: Option<Instant>,
    pub(super) persist_backoff: u32,
    pub(super) delack_at: Option<Instant>,
    pub(super) timewait_at: Option<Instant>,
    /// The segment being timed: the sequence number whose acknowledgment ends the measurement,
    /// and when it was sent (Karn: only ever a segment sent once).
    pub(super) rtt_timed: Option<(u32, Instant)>,
    /// A retransmission cancelled the timing: the next ACK's TSecr may give the sample.
    pub(super) karn_blocked: bool,
    pub(super) syn_retransmitted: bool,
    pub(super) cc: NewReno,

    // What poll_transmit owes.
    pub(super) ack_now: bool,
    /// The third segment of the handshake goes out on its own, before any data (as Linux's
    /// `tcp_rcv_synsent_state_process` sends it), so a trace shows SYN, SYN-ACK, ACK.
    pub(super) handshake_ack: bool,
    pub(super) fast_rtx: bool,
    /// A duplicate ACK in fast recovery with SACK: resend the next hole.
    pub(super) sack_rtx: bool,
    /// What the peer reported holding above SND.UNA.
    pub(super) sacked: Scoreboard,
    /// Holes below this were already resent in this recovery.
    pub(super) rxt_next: u32,
    pub(super) probe_pending: bool,
    /// What a send below SND.MAX is, when it happens (set by the timeout, a probe, a duplicate
    /// SYN; `None` for the SYN-ACK of a simultaneous open, which is no retransmission).
    pub(super) resend_reason: Option<RetransmitReason>,
    pub(super) rst_pending: Option<TcpSegment>,

    // The application side.
    pub(super) events: VecDeque<ConnEvent>,
    pub(super) error: Option<SockError>,
    pub(super) want_writable: bool,
    pub(super) was_established: bool,
    /// Opened by [`TcpConn::accept`].
    pub(super) passive: bool,
    pub(super) stats: ConnStats,
}

impl TcpConn {
    fn blank(cfg: ConnConfig, state: TcpState) -> TcpConn {
        let iss = cfg.iss;
        let rto = RtoEstimator::new(cfg.rto_initial, cfg.rto_min, cfg.rto_max);
        let mss = u32::from(cfg.mss).max(1);
        let cc = NewReno::new(mss, cfg.initial_window);
        let send_buf = SendBuffer::new(iss.wrapping_add(1), cfg.send_buffer);
        TcpConn {
            state,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: 0,
            snd_wl2: 0,
            send_buf,
            fin_seq: None,
            close_pending: false,
            irs: 0,
            recv: RecvQueue::new(0, 0),
            rx: VecDeque::new(),
            rcv_adv: 0,
            peer_fin: None,
            fin_received: false,
            last_held: None,
            max_seg_seen: 0,
            snd_mss: mss,
            rcv_mss: mss,
            ts_on: false,
            ts_recent: 0,
            last_ack_sent: 0,
            ws_on: false,
            snd_wscale: 0,
            rcv_wscale: 0,
            sack_on: false,
            rto,
            rto_at: None,
            retries: 0,
            persist_at: None,
            persist_backoff: 0,
            delack_at: None,
            timewait_at: None,
            rtt_timed: None,
            karn_blocked: false,
            syn_retransmitted: false,
            cc,
            ack_now: false,
            handshake_ack: false,
            fast_rtx: false,
            sack_rtx: false,
            sacked: Scoreboard::default(),
            rxt_next: iss,
            probe_pending: false,
            resend_reason: Some(RetransmitReason::Timeout),
            rst_pending: None,
            events: VecDeque::new(),
            error: None,
            want_writable: false,
            was_established: false,
            passive: false,
            stats: ConnStats::default(),
            cfg,
        }
    }

    /// Active OPEN (RFC 9293 §3.10.1): SYN-SENT, with the SYN ready for
    /// [`TcpConn::poll_transmit`].
    pub fn connect(cfg: ConnConfig, _now: Instant) -> TcpConn {
        let mut c = TcpConn::blank(cfg, TcpState::SynSent);
        c.events.push_back(ConnEvent::StateChanged { from: TcpState::Closed, to: TcpState::SynSent });
        c
    }

    /// Passive OPEN completed by a SYN that reached a listener (RFC 9293 §3.10.7.2, "third,
    /// check for a SYN"): RCV.NXT = SEG.SEQ + 1, IRS = SEG.SEQ, the peer's options taken, and
    /// the SYN-ACK ready for [`TcpConn::poll_transmit`], in SYN-RECEIVED.
    ///
    /// `None` when `syn` is not a connection request: a RST (ignored, §3.10.7.2 "first"), a
    /// segment with ACK (answer it with [`super::reset_for`], "second"), or one without SYN
    /// (dropped, "fourth"). Data on the SYN is not kept (the peer sends it again).
    pub fn accept(cfg: ConnConfig, syn: &TcpSegment, now: Instant) -> Option<TcpConn> {
        let f = syn.flags;
        if f.contains(TcpFlags::RST) || f.contains(TcpFlags::ACK) || !f.contains(TcpFlags::SYN) {
            return None;
        }
        let mut c = TcpConn::blank(cfg, TcpState::SynReceived);
        c.events.push_back(ConnEvent::StateChanged { from: TcpState::Listen, to: TcpState::SynReceived });
        c.passive = true;
        c.stats.segments_received += 1;
        c.take_peer_syn(syn);
        c.window_from_syn(syn);
        let _ = now;
        Some(c)
    }

    /// RFC 9293 §3.10.7.2 / §3.10.7.3: IRS and RCV.NXT from the peer's SYN, and its options
    /// (MSS §3.7.1; window scale RFC 7323 §2.2; timestamps §3.2; SACK-permitted RFC 2018 §2).
    /// An option is used only when both sides offered it, so a SYN-ACK we send offers only what
    /// this SYN did.
    pub(super) fn take_peer_syn(&mut self, syn: &TcpSegment) {
        self.irs = syn.seq;
        let rcv_nxt = syn.seq.wrapping_add(1);
        let mut peer_mss = None;
        let mut peer_ws = None;
        let mut peer_sack = false;
        let mut peer_ts = None;
        for o in &syn.options {
            match o {
                TcpOption::Mss(m) => peer_mss = Some(*m),
                TcpOption::WindowScale(s) => peer_ws = Some(*s),
                TcpOption::SackPermitted => peer_sack = true,
                TcpOption::Timestamps { tsval, .. } => peer_ts = Some(*tsval),
                _ => {}
            }
        }
        let default_mss = if self.cfg.remote.is_ipv4() { DEFAULT_MSS_V4 } else { DEFAULT_MSS_V6 };
        let peer_mss = u32::from(peer_mss.unwrap_or(default_mss));
        self.ts_on = self.cfg.timestamps && peer_ts.is_some();
        if let Some(ts) = peer_ts {
            self.ts_recent = ts;
        }
        match (self.cfg.window_scale, peer_ws) {
            (Some(ours), Some(theirs)) => {
                self.ws_on = true;
                self.rcv_wscale = ours.min(MAX_WINDOW_SCALE);
                self.snd_wscale = theirs.min(MAX_WINDOW_SCALE);
            }
            _ => {
                self.ws_on = false;
                self.rcv_wscale = 0;
                self.snd_wscale = 0;
            }
        }
        self.sack_on = self.cfg.sack && peer_sack;
        // RFC 9293 §3.7.1 / RFC 6691: the effective send MSS counts data only; options carried
        // on every segment (the timestamps) come out of it.
        let ts = if self.ts_on { TIMESTAMPS_LEN } else { 0 };
        let ours = u32::from(self.cfg.mss);
        self.snd_mss = peer_mss.min(ours).saturating_sub(ts).max(1);
        self.rcv_mss = ours.saturating_sub(ts).max(1);
        self.cc.set_smss(self.snd_mss, self.cfg.initial_window);
        self.recv = RecvQueue::new(rcv_nxt, 0);
        self.rcv_adv = rcv_nxt;
        self.last_ack_sent = rcv_nxt;
    }

    /// SND.WND from a SYN or SYN-ACK: never scaled (RFC 7323 §2.2), and it sets SND.WL1/WL2.
    pub(super) fn window_from_syn(&mut self, seg: &TcpSegment) {
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
        self.snd_wl1 = seg.seq;
        self.snd_wl2 = seg.ack;
    }

    /// The state now.
    pub fn state(&self) -> TcpState {
        self.state
    }

    /// Our address and port.
    pub fn local(&self) -> SocketAddr {
        self.cfg.local
    }

    /// The peer's address and port.
    pub fn remote(&self) -> SocketAddr {
        self.cfg.remote
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &ConnConfig {
        &self.cfg
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        self.events.pop_front()
    }

    /// The counters and the current RTT, RTO and window estimates.
    pub fn stats(&self) -> ConnStats {
        let mut s = self.stats.clone();
        s.srtt = self.rto.srtt();
        s.rttvar = self.rto.rttvar();
        s.rto = self.rto.rto();
        s.cwnd = self.cc.cwnd();
        s.ssthresh = self.cc.ssthresh();
        s.snd_wnd = self.snd_wnd;
        s.snd_mss = self.snd_mss;
        s
    }

    /// IRS, the peer's initial sequence number (0 before its SYN arrived): Wireshark's relative
    /// numbers count from it.
    pub fn irs(&self) -> u32 {
        self.irs
    }

    /// SND.UNA, SND.NXT and RCV.NXT (RFC 9293 §3.3.1), for displays and tests.
    pub fn sequence(&self) -> (u32, u32, u32) {
        (self.snd_una, self.snd_nxt, self.recv.rcv_nxt())
    }

    /// Data bytes in the send buffer (unsent and unacknowledged), as `ss` shows Send-Q.
    pub fn send_queue(&self) -> usize {
        self.send_buf.len()
    }

    /// Data bytes received and not yet read, as `ss` shows Recv-Q.
    pub fn recv_queue(&self) -> usize {
        self.rx.len()
    }

    /// True when the peer's FIN has been taken and every byte before it read: `recv` returns
    /// nothing more, ever (end of stream).
    pub fn at_eof(&self) -> bool {
        self.fin_received && self.rx.is_empty()
    }

    /// The error that ended the connection (ECONNREFUSED, ECONNRESET, ETIMEDOUT), if any; taken
    /// once, as `SO_ERROR`.
    pub fn take_error(&mut self) -> Option<SockError> {
        self.error.take()
    }

    pub(super) fn set_state(&mut self, to: TcpState) {
        if self.state != to {
            self.events.push_back(ConnEvent::StateChanged { from: self.state, to });
            self.state = to;
        }
    }

    /// Enter CLOSED: every timer off, nothing more to send but a RST already queued.
    pub(super) fn enter_closed(&mut self) {
        if self.state == TcpState::Closed {
            return;
        }
        self.set_state(TcpState::Closed);
        self.rto_at = None;
        self.persist_at = None;
        self.delack_at = None;
        self.timewait_at = None;
        self.ack_now = false;
        self.fast_rtx = false;
        self.probe_pending = false;
        self.events.push_back(ConnEvent::Closed);
    }

    /// Enter TIME-WAIT (RFC 9293 §3.6.1): only the 2·MSL timer runs.
    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        self.set_state(TcpState::TimeWait);
        self.rto_at = None;
        self.persist_at = None;
        self.fast_rtx = false;
        self.probe_pending = false;
        self.timewait_at = Some(now + self.cfg.time_wait);
    }

    /// SEND (RFC 9293 §3.10.2): queue application data; how many bytes were taken (fewer than
    /// given when the send buffer fills; then [`ConnEvent::Writable`] follows when room opens).
    /// Data given before the handshake completes is sent after it. Errors: EAGAIN when no byte
    /// fits, EPIPE after CLOSE, ENOTCONN on a connection that never was, and once the error that
    /// ended it (ECONNRESET, ECONNREFUSED, ETIMEDOUT).
    pub fn send(&mut self, data: &[u8]) -> Result<usize, SockError> {
        match self.state {
            TcpState::SynSent | TcpState::SynReceived | TcpState::Established | TcpState::CloseWait => {
                if self.close_pending {
                    return Err(SockError::BrokenPipe);
                }
                if data.is_empty() {
                    return Ok(0);
                }
                let n = self.send_buf.push(data);
                if n < data.len() {
                    self.want_writable = true;
                }
                if n == 0 {
                    return Err(SockError::WouldBlock);
                }
                Ok(n)
            }
            TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing | TcpState::LastAck | TcpState::TimeWait => {
                Err(SockError::BrokenPipe)
            }
            TcpState::Listen => Err(SockError::NotConnected),
            TcpState::Closed => Err(self.error.take().unwrap_or(if self.was_established {
                SockError::BrokenPipe
            } else {
                SockError::NotConnected
            })),
        }
    }

    /// RECEIVE (RFC 9293 §3.10.3): take up to `limit` bytes delivered in order. Reading opens
    /// the receive window; the window update goes out with the next `poll_transmit` when it has
    /// grown enough (receiver-side SWS avoidance, §3.8.6.2.2). Empty when nothing is waiting
    /// (see [`TcpConn::at_eof`] for the end of the stream).
    pub fn recv(&mut self, limit: usize) -> Vec<u8> {
        let n = limit.min(self.rx.len());
        self.rx.drain(..n).collect()
    }

    /// CLOSE (RFC 9293 §3.10.4): this side sends no more. In ESTABLISHED the FIN follows the
    /// queued data (FIN-WAIT-1); in CLOSE-WAIT likewise (LAST-ACK); in SYN-RECEIVED it waits for
    /// the handshake; in SYN-SENT the connection is simply deleted. Otherwise nothing to do.
    pub fn close(&mut self, _now: Instant) {
        match self.state {
            TcpState::SynSent => self.enter_closed(),
            TcpState::SynReceived => self.close_pending = true,
            TcpState::Established => {
                self.fin_seq = Some(self.send_buf.end());
                self.set_state(TcpState::FinWait1);
            }
            TcpState::CloseWait => {
                self.fin_seq = Some(self.send_buf.end());
                self.set_state(TcpState::LastAck);
            }
            _ => {}
        }
    }

    /// ABORT (RFC 9293 §3.10.5): in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1/2 and CLOSE-WAIT a
    /// RST goes out (`<SEQ=SND.NXT><CTL=RST>`, with ACK as Linux sends it); in every state the
    /// connection is then CLOSED and the queues are flushed.
    pub fn abort(&mut self, _now: Instant) {
        let send_rst = matches!(
            self.state,
            TcpState::SynReceived
                | TcpState::Established
                | TcpState::FinWait1
                | TcpState::FinWait2
                | TcpState::CloseWait
        );
        if send_rst {
            self.rst_pending = Some(self.rst_segment(self.snd_nxt));
        }
        self.send_buf = SendBuffer::new(self.send_buf.end(), 0);
        self.rx.clear();
        self.enter_closed();
    }

    /// A RST+ACK from this connection at `seq`.
    pub(super) fn rst_segment(&self, seq: u32) -> TcpSegment {
        TcpSegment {
            src_port: self.cfg.local.port(),
            dst_port: self.cfg.remote.port(),
            seq,
            ack: self.recv.rcv_nxt(),
            flags: TcpFlags::RST | TcpFlags::ACK,
            window: 0,
            urgent: 0,
            options: Vec::new(),
            payload: Vec::new(),
        }
    }

    /// The earliest deadline among the retransmission, persist, delayed-ACK and TIME-WAIT
    /// timers; `None` when none runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.rto_at, self.persist_at, self.delack_at, self.timewait_at].into_iter().flatten().min()
    }

    /// Fire every timer that is due at `now` (RFC 9293 §3.10.8, RFC 6298 §5.4–5.6).
    pub fn on_timeout(&mut self, now: Instant) {
        if self.timewait_at.is_some_and(|t| t <= now) {
            // RFC 9293 §3.10.8, time-wait timeout: delete the TCB, enter CLOSED.
            self.timewait_at = None;
            self.enter_closed();
            return;
        }
        if self.delack_at.is_some_and(|t| t <= now) {
            self.delack_at = None;
            self.ack_now = true;
        }
        if self.rto_at.is_some_and(|t| t <= now) {
            self.rto_at = None;
            self.retransmission_timeout(now);
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            // RFC 9293 §3.8.6.1: probe the zero window; RFC 1122 §4.2.2.17: back off
            // exponentially between probes.
            self.persist_backoff = self.persist_backoff.saturating_add(1);
            self.persist_at = Some(now + self.persist_interval());
            self.probe_pending = true;
        }
    }

    /// The persist interval: the RTO doubled for each probe already sent, at most RTO max.
    pub(super) fn persist_interval(&self) -> Duration {
        let shift = self.persist_backoff.min(16);
        self.rto.rto().saturating_mul(1 << shift).min(self.cfg.rto_max)
    }

    /// RFC 6298 §5.4–5.6 with RFC 5681 §3.1: retransmit the earliest unacknowledged segment
    /// (here: go back to SND.UNA), back off the timer, cwnd to one segment; or give up.
    fn retransmission_timeout(&mut self, now: Instant) {
        if self.snd_una == self.snd_max {
            return;
        }
        let limit = match self.state {
            TcpState::SynSent | TcpState::SynReceived => self.cfg.syn_retries,
            TcpState::Closed | TcpState::Listen | TcpState::TimeWait => return,
            _ => self.cfg.max_retries,
        };
        self.stats.timeouts += 1;
        if self.retries >= limit {
            self.error = Some(SockError::TimedOut);
            self.events.push_back(ConnEvent::TimedOut);
            self.enter_closed();
            return;
        }
        let flight = self.snd_max.wrapping_sub(self.snd_una);
        self.cc.on_timeout(flight, self.snd_max, self.retries == 0);
        self.retries += 1;
        self.rto.back_off();
        if matches!(self.state, TcpState::SynSent | TcpState::SynReceived) {
            self.syn_retransmitted = true;
        }
        self.snd_nxt = self.snd_una;
        self.resend_reason = Some(RetransmitReason::Timeout);
        self.fast_rtx = false;
        self.sack_rtx = false;
        self.rtt_timed = None;
        self.karn_blocked = true;
        // §5.5/5.6: the timer restarts with the backed-off RTO.
        self.rto_at = Some(now + self.rto.rto());
    }

    /// Whether the FIN we sent is acknowledged.
    pub(super) fn our_fin_acked(&self) -> bool {
        self.fin_seq.is_some_and(|f| seq_lt(f, self.snd_una))
    }

    /// RCV.WND now: from RCV.NXT to the right edge last advertised.
    pub(super) fn rcv_wnd(&self) -> u32 {
        let nxt = self.recv.rcv_nxt();
        if seq_le(self.rcv_adv, nxt) {
            0
        } else {
            self.rcv_adv.wrapping_sub(nxt)
        }
    }

    /// The handshake completed: ESTABLISHED (RFC 9293 §3.10.7.3 / §3.10.7.4 fifth step).
    pub(super) fn establish(&mut self, now: Instant) {
        self.set_state(TcpState::Established);
        self.was_established = true;
        self.events.push_back(ConnEvent::Connected);
        self.retries = 0;
        if self.syn_retransmitted {
            self.rto.syn_timed_out_fallback();
        }
        if self.snd_una == self.snd_max {
            self.rto_at = None;
        }
        if self.close_pending {
            self.close_pending = false;
            self.close(now);
        }
    }
}
