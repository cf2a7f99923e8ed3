//! What to send next. In order: a RST owed; the SYN or SYN-ACK; a fast retransmission; data
//! (retransmitted after a timeout, or new) within min(cwnd, SND.WND) once Nagle (RFC 9293
//! §3.7.4) and sender-side SWS avoidance (§3.8.6.2.1) allow it, with the FIN on the last
//! segment; a zero-window probe (§3.8.6.1); an ACK or a window update. Each call sends at most
//! one segment; the owner calls until `None`.

use super::super::options::TcpOption;
use super::super::tcp::{TcpFlags, TcpSegment};
use super::event::{ConnEvent, RetransmitReason};
use super::tcb::MAX_WINDOW_SCALE;
use super::{seq_le, seq_lt, seq_max, TcpConn, TcpState};
use crate::time::Instant;

impl TcpConn {
    /// The next segment to send now, if any (see the module documentation of [`super`]).
    pub fn poll_transmit(&mut self, now: Instant) -> Option<TcpSegment> {
        if let Some(rst) = self.rst_pending.take() {
            self.stats.segments_sent += 1;
            return Some(rst);
        }
        match self.state {
            TcpState::Closed | TcpState::Listen => return None,
            TcpState::SynSent | TcpState::SynReceived => {
                if self.snd_nxt == self.iss {
                    return Some(self.send_syn(now));
                }
                if self.state == TcpState::SynReceived && self.ack_now {
                    return Some(self.pure_ack(now));
                }
                return None;
            }
            TcpState::TimeWait => return if self.ack_now { Some(self.pure_ack(now)) } else { None },
            _ => {}
        }
        if std::mem::take(&mut self.handshake_ack) {
            return Some(self.pure_ack(now));
        }
        if std::mem::take(&mut self.fast_rtx) {
            if let Some(seg) = self.retransmit_first(now) {
                return Some(seg);
            }
        }
        if std::mem::take(&mut self.sack_rtx) {
            if let Some(seg) = self.retransmit_hole(now) {
                return Some(seg);
            }
        }
        let probe = std::mem::take(&mut self.probe_pending);
        if let Some(seg) = self.send_data(now, probe) {
            return Some(seg);
        }
        if probe {
            if let Some(seg) = self.window_probe(now) {
                return Some(seg);
            }
        }
        if self.ack_now || self.window_update_due() {
            return Some(self.pure_ack(now));
        }
        self.check_persist(now);
        None
    }

    /// The SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), `<SEQ=ISS>`, with the options: MSS (RFC
    /// 9293 §3.7.1), SACK-permitted, timestamps, window scale, in Linux's order. A SYN-ACK
    /// offers only what the peer's SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2). The window on
    /// a SYN is never scaled.
    fn send_syn(&mut self, now: Instant) -> TcpSegment {
        let syn_ack = self.state == TcpState::SynReceived;
        let tsval = self.ts_now(now);
        let options = if syn_ack {
            TcpOption::linux_syn(
                self.cfg.mss,
                self.sack_on,
                self.ts_on.then_some((tsval, self.ts_recent)),
                self.ws_on.then_some(self.rcv_wscale),
            )
        } else {
            TcpOption::linux_syn(
                self.cfg.mss,
                self.cfg.sack,
                self.cfg.timestamps.then_some((tsval, 0)),
                self.cfg.window_scale.map(|w| w.min(MAX_WINDOW_SCALE)),
            )
        };
        let window = self.cfg.recv_buffer.min(u32::from(u16::MAX));
        let mut flags = TcpFlags::SYN;
        let mut ack = 0;
        if syn_ack {
            flags |= TcpFlags::ACK;
            let rcv_nxt = self.recv.rcv_nxt();
            ack = rcv_nxt;
            self.rcv_adv = seq_max(self.rcv_adv, rcv_nxt.wrapping_add(window));
            self.last_ack_sent = rcv_nxt;
            self.ack_now = false;
        }
        let seg = TcpSegment {
            src_port: self.cfg.local.port(),
            dst_port: self.cfg.remote.port(),
            seq: self.iss,
            ack,
            flags,
            window: window as u16,
            urgent: 0,
            options,
            payload: Vec::new(),
        };
        self.stats.segments_sent += 1;
        self.after_send(now, self.iss, 1, None);
        seg
    }

    /// Bookkeeping for a segment of `seg_len` sequence numbers sent at `seq`: SND.NXT and
    /// SND.MAX; a retransmission is reported (with `forced` as its reason, or the pending one)
    /// and spoils the RTT timing (Karn, RFC 6298 §3); otherwise a new segment is timed if none
    /// is; and the retransmission timer starts if it is not running (RFC 6298 §5.1).
    fn after_send(&mut self, now: Instant, seq: u32, seg_len: u32, forced: Option<RetransmitReason>) {
        if seg_len == 0 {
            return;
        }
        let end = seq.wrapping_add(seg_len);
        if seq_lt(seq, self.snd_max) {
            let reason = forced.or(self.resend_reason);
            if let Some(reason) = reason {
                self.record_retransmission(seq, seg_len, reason);
            }
            self.rtt_timed = None;
            self.karn_blocked = true;
        } else if self.rtt_timed.is_none() {
            self.rtt_timed = Some((end, now));
        }
        if seq_lt(self.snd_nxt, end) {
            self.snd_nxt = end;
        }
        self.snd_max = seq_max(self.snd_max, end);
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rto.rto());
        }
    }

    fn record_retransmission(&mut self, seq: u32, len: u32, reason: RetransmitReason) {
        match reason {
            RetransmitReason::Timeout => self.stats.retransmissions_timeout += 1,
            RetransmitReason::FastRetransmit => self.stats.retransmissions_fast += 1,
            RetransmitReason::WindowProbe | RetransmitReason::DuplicateSyn => self.stats.retransmissions_other += 1,
        }
        self.stats.retransmitted_bytes += u64::from(len);
        self.events.push_back(ConnEvent::Retransmitted { seq, len, reason });
    }

    /// The options on a segment after the handshake: timestamps (RFC 7323 §3.2: TSval our
    /// clock, TSecr = TS.Recent) and, to a peer that permitted them, SACK blocks for the data
    /// held out of order (RFC 2018 §4: the block holding the latest arrival first; at most 3
    /// beside the timestamps, 4 without). Also the data bytes left for the payload.
    fn established_options(&self, now: Instant) -> (Vec<TcpOption>, usize) {
        let ts = self.ts_on.then(|| (self.ts_now(now), self.ts_recent));
        let mut blocks = Vec::new();
        if self.sack_on {
            blocks = self.recv.sack_blocks();
            if let Some(latest) = self.last_held {
                let holds = |&(l, r): &(u32, u32)| seq_le(l, latest) && seq_lt(latest, r);
                if let Some(i) = blocks.iter().position(holds) {
                    let b = blocks.remove(i);
                    blocks.insert(0, b);
                }
            }
            blocks.truncate(if ts.is_some() { 3 } else { 4 });
        }
        let options = TcpOption::linux_established(ts, &blocks);
        // snd_mss already leaves room for the timestamps; SACK blocks take from the data.
        let sack_len = if blocks.is_empty() { 0 } else { 4 + 8 * blocks.len() };
        let room = (self.snd_mss as usize).saturating_sub(sack_len).max(1);
        (options, room)
    }

    /// A segment from this connection with ACK = RCV.NXT and the window now (every segment but
    /// the first SYN carries them, RFC 9293 §3.10.7.4): sending it settles any ACK owed.
    fn build(&mut self, seq: u32, flags: TcpFlags, payload: Vec<u8>, options: Vec<TcpOption>) -> TcpSegment {
        let window = self.select_window();
        let ack = self.recv.rcv_nxt();
        self.last_ack_sent = ack;
        self.ack_now = false;
        self.delack_at = None;
        self.stats.segments_sent += 1;
        self.stats.bytes_sent += payload.len() as u64;
        TcpSegment {
            src_port: self.cfg.local.port(),
            dst_port: self.cfg.remote.port(),
            seq,
            ack,
            flags: flags | TcpFlags::ACK,
            window,
            urgent: 0,
            options,
            payload,
        }
    }

    /// The window to advertise, as the header's (scaled) value, and the right edge it sets.
    /// RFC 9293 §3.8.6.2.2 (receiver-side SWS avoidance): the right edge RCV.NXT+RCV.WND moves
    /// only when the buffer space beyond it is at least min(half the buffer, one full segment);
    /// it never moves left (§3.8.6: shrinking the window is strongly discouraged): data up to
    /// the furthest edge advertised stays acceptable. A scaled window (RFC 7323 §2.3) is rounded
    /// down, so the peer may see the edge retract by less than 2^shift bytes (RFC 7323
    /// Appendix F expects this); the buffer is never overcommitted.
    fn window_candidate(&self) -> (u16, u32) {
        let nxt = self.recv.rcv_nxt();
        let current = self.rcv_wnd();
        let free = self.cfg.recv_buffer.saturating_sub(u32::try_from(self.rx.len()).unwrap_or(u32::MAX));
        let threshold = (self.cfg.recv_buffer / 2).min(self.rcv_mss).max(1);
        let wanted = if free >= current.saturating_add(threshold) { free } else { current };
        let shift = u32::from(self.rcv_wscale);
        let wanted = wanted.min(u32::from(u16::MAX) << shift);
        let field = wanted >> shift;
        let edge = nxt.wrapping_add(field << shift);
        (field as u16, seq_max(self.rcv_adv, edge))
    }

    /// Advertise the window now: the header value, and RCV.NXT+RCV.WND remembered.
    fn select_window(&mut self) -> u16 {
        let (field, edge) = self.window_candidate();
        self.rcv_adv = edge;
        field
    }

    /// A window update on its own (no data, no ACK owed) is worth a segment when the window
    /// would at least double, as Linux's `tcp_cleanup_rbuf` decides (so a zero window is
    /// reopened at once); smaller growth rides on the next ACK.
    fn window_update_due(&self) -> bool {
        if !matches!(self.state, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2) || self.fin_received {
            return false;
        }
        let (_, edge) = self.window_candidate();
        let current = self.rcv_wnd();
        let next = edge.wrapping_sub(self.recv.rcv_nxt());
        seq_lt(self.rcv_adv, edge) && next >= current.saturating_mul(2)
    }

    /// The sequence number of a segment without data: SND.MAX (BSD's choice: after going back
    /// for a retransmission, SND.NXT may lie below what the peer has); SND.NXT while probing a
    /// zero window (the probe byte is not in the peer's window).
    fn ack_seq(&self) -> u32 {
        if self.persist_at.is_some() {
            self.snd_nxt
        } else {
            self.snd_max
        }
    }

    /// An ACK alone.
    fn pure_ack(&mut self, now: Instant) -> TcpSegment {
        let (options, _) = self.established_options(now);
        let seq = self.ack_seq();
        self.build(seq, TcpFlags::ACK, Vec::new(), options)
    }

    /// RFC 5681 §3.2 step 2 / RFC 6582 §3.2 step 5: send the first unacknowledged segment again.
    fn retransmit_first(&mut self, now: Instant) -> Option<TcpSegment> {
        if self.snd_una == self.snd_max {
            return None;
        }
        let seq = self.snd_una;
        let (options, room) = self.established_options(now);
        let sent = self.snd_max.wrapping_sub(seq) as usize;
        let len = self.send_buf.available_from(seq).min(room).min(sent);
        let end = seq.wrapping_add(len as u32);
        let fin = self.fin_seq == Some(end) && seq_lt(end, self.snd_max);
        if len == 0 && !fin {
            return None;
        }
        let payload = self.send_buf.read(seq, len);
        let mut flags = TcpFlags::ACK;
        if fin {
            flags |= TcpFlags::FIN;
        }
        let seg = self.build(seq, flags, payload, options);
        self.after_send(now, seq, len as u32 + u32::from(fin), Some(RetransmitReason::FastRetransmit));
        self.rxt_next = end;
        Some(seg)
    }

    /// In fast recovery with SACK, a further duplicate ACK: resend the first hole not yet
    /// resent below the highest SACKed byte (RFC 6675 §4, NextSeg rule 1), one segment at most.
    fn retransmit_hole(&mut self, now: Instant) -> Option<TcpSegment> {
        if !self.cc.in_recovery() {
            return None;
        }
        let from = seq_max(self.rxt_next, self.snd_una);
        let (seq, hole_end) = self.sacked.hole_from(from)?;
        let (options, room) = self.established_options(now);
        let len = self.send_buf.available_from(seq).min(room).min(hole_end.wrapping_sub(seq) as usize);
        if len == 0 {
            return None;
        }
        let payload = self.send_buf.read(seq, len);
        let seg = self.build(seq, TcpFlags::ACK, payload, options);
        self.after_send(now, seq, len as u32, Some(RetransmitReason::FastRetransmit));
        self.rxt_next = seq.wrapping_add(len as u32);
        Some(seg)
    }

    /// Data from SND.NXT, and the FIN after the last byte. Within min(cwnd, SND.WND) less what
    /// is in flight (RFC 5681 §3.1, RFC 9293 §3.8.6); new data also waits for Nagle (RFC 9293
    /// §3.7.4: with data unacknowledged, only full segments) and sender-side SWS avoidance
    /// (§3.8.6.2.1: send a full segment, or all that is queued, or at least half the largest
    /// window the peer has offered). `force`: the persist timer fired, send what fits.
    fn send_data(&mut self, now: Instant, force: bool) -> Option<TcpSegment> {
        // Going back after a timeout: what the peer SACKed is not sent again.
        while seq_lt(self.snd_nxt, self.snd_max) {
            match self.sacked.covering(self.snd_nxt) {
                Some(r) => self.snd_nxt = r,
                None => break,
            }
        }
        let fin_pending = self.fin_seq.is_some_and(|f| seq_le(self.snd_nxt, f));
        let avail = self.send_buf.available_from(self.snd_nxt);
        if avail == 0 && !fin_pending {
            return None;
        }
        let (options, room) = self.established_options(now);
        let in_flight = self.snd_nxt.wrapping_sub(self.snd_una);
        let usable = self.snd_wnd.min(self.cc.cwnd()).saturating_sub(in_flight) as usize;
        let is_rtx = seq_lt(self.snd_nxt, self.snd_max);
        let mut len = avail.min(room).min(usable);
        if is_rtx {
            // A resend stops where the next SACKed block begins.
            if let Some(next) = self.sacked.next_after(self.snd_nxt) {
                len = len.min(next.wrapping_sub(self.snd_nxt) as usize);
            }
        }
        if avail > 0 && len == 0 {
            return None;
        }
        if len > 0 && !is_rtx && !force {
            let full = len == room;
            let all = len == avail;
            let idle = self.snd_una == self.snd_max;
            let sws_half = !all && idle && len as u32 >= self.max_snd_wnd / 2;
            if !(full || (all && (self.cfg.nodelay || idle || fin_pending)) || sws_half) {
                return None;
            }
        }
        let seq = self.snd_nxt;
        let end = seq.wrapping_add(len as u32);
        let fin = fin_pending && self.fin_seq == Some(end);
        if len == 0 && !fin {
            return None;
        }
        let payload = self.send_buf.read(seq, len);
        let mut flags = TcpFlags::ACK;
        if len > 0 && len == avail {
            flags |= TcpFlags::PSH;
        }
        if fin {
            flags |= TcpFlags::FIN;
        }
        let seg = self.build(seq, flags, payload, options);
        self.after_send(now, seq, len as u32 + u32::from(fin), None);
        Some(seg)
    }

    /// RFC 9293 §3.8.6.1: the window is zero and the persist timer fired: send one byte of new
    /// data beyond it. It is counted as sent (SND.MAX) but SND.NXT stays, so that if the peer
    /// drops it, it goes again with the data once the window opens.
    fn window_probe(&mut self, now: Instant) -> Option<TcpSegment> {
        let seq = self.snd_nxt;
        let payload = self.send_buf.read(seq, 1);
        if payload.is_empty() {
            return None;
        }
        let (options, _) = self.established_options(now);
        let seg = self.build(seq, TcpFlags::ACK, payload, options);
        self.snd_max = seq_max(self.snd_max, seq.wrapping_add(1));
        self.resend_reason = Some(RetransmitReason::WindowProbe);
        self.stats.window_probes += 1;
        Some(seg)
    }

    /// After a `poll_transmit` that sent nothing: with data waiting that the windows (or SWS
    /// avoidance) hold back and nothing in flight to bring an ACK, the persist timer runs (RFC
    /// 9293 §3.8.6.1; RFC 1122 §4.2.3.4's override timeout); otherwise it stops.
    fn check_persist(&mut self, now: Instant) {
        let waiting = self.send_buf.available_from(self.snd_nxt) > 0;
        if waiting && self.rto_at.is_none() {
            if self.persist_at.is_none() {
                self.persist_at = Some(now + self.persist_interval());
            }
        } else {
            self.persist_at = None;
            self.persist_backoff = 0;
        }
    }
}
