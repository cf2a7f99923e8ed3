//! SEGMENT ARRIVES (RFC 9293 §3.10.7): SYN-SENT (§3.10.7.3) and the other states (§3.10.7.4),
//! step by step in the RFC's order: sequence number, RST, (security,) SYN, ACK, (URG,) text,
//! FIN. LISTEN (§3.10.7.2) is [`TcpConn::accept`]; CLOSED (§3.10.7.1) is [`super::reset_for`].

use super::super::options::TcpOption;
use super::super::reassembly::Arrival;
use super::super::tcp::{TcpFlags, TcpSegment};
use super::cc::CcAction;
use super::event::{ConnEvent, RetransmitReason, SockError};
use super::{seq_le, seq_lt, TcpConn, TcpState};
use crate::time::Instant;
use std::time::Duration;

impl TcpConn {
    /// A segment for this connection arrived (its checksum checked by the owner). A segment
    /// whose ports are not this connection's is ignored; so is everything once CLOSED (the owner
    /// answers those with [`super::reset_for`]).
    pub fn on_segment(&mut self, seg: &TcpSegment, now: Instant) {
        if seg.src_port != self.cfg.remote.port() || seg.dst_port != self.cfg.local.port() {
            return;
        }
        self.stats.segments_received += 1;
        self.stats.bytes_received += seg.payload.len() as u64;
        match self.state {
            TcpState::Closed | TcpState::Listen => {}
            TcpState::SynSent => self.syn_sent_arrives(seg, now),
            _ => self.synchronized_arrives(seg, now),
        }
    }

    /// A bare RST `<SEQ=seq><CTL=RST>`, the reply to an unacceptable ACK in SYN-SENT and
    /// SYN-RECEIVED.
    fn bare_rst(&self, seq: u32) -> TcpSegment {
        let mut r = self.rst_segment(seq);
        r.flags = TcpFlags::RST;
        r.ack = 0;
        r
    }

    /// RFC 9293 §3.10.7.3, "If the state is SYN-SENT".
    fn syn_sent_arrives(&mut self, seg: &TcpSegment, now: Instant) {
        let f = seg.flags;
        let rst = f.contains(TcpFlags::RST);
        let ack = f.contains(TcpFlags::ACK);
        // First, check the ACK bit: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
        // (unless the RST bit is set) <SEQ=SEG.ACK><CTL=RST> and discard the segment."
        if ack && (seq_le(seg.ack, self.iss) || seq_lt(self.snd_max, seg.ack)) {
            if !rst {
                self.rst_pending = Some(self.bare_rst(seg.ack));
            }
            return;
        }
        // Second, check the RST bit: with an acceptable ACK the connection is refused; without
        // an ACK the RST is dropped.
        if rst {
            if ack {
                self.error = Some(SockError::ConnectionRefused);
                self.events.push_back(ConnEvent::Refused);
                self.enter_closed();
            }
            return;
        }
        // Fourth, check the SYN bit (the third, security, does not apply).
        if !f.contains(TcpFlags::SYN) {
            return;
        }
        self.take_peer_syn(seg);
        // Our SYN advertised an unscaled window; RCV.WND starts from it.
        let syn_window = self.cfg.recv_buffer.min(u32::from(u16::MAX));
        self.rcv_adv = self.recv.rcv_nxt().wrapping_add(syn_window);
        if ack {
            // "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to
            // ESTABLISHED, form an ACK segment and send it."
            self.window_from_syn(seg);
            self.establish(now);
            self.new_ack(seg, now);
            self.ack_now = true;
            self.handshake_ack = true;
            // "If there are other controls or text in the segment, then continue processing
            // at the sixth step": data on the SYN-ACK starts after the SYN.
            if !seg.payload.is_empty() || f.contains(TcpFlags::FIN) {
                self.segment_text(seg.seq.wrapping_add(1), &seg.payload, f.contains(TcpFlags::FIN), now);
            }
        } else {
            // "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT>
            // <CTL=SYN,ACK> and send it" (simultaneous open): our SYN goes again, with ACK.
            self.set_state(TcpState::SynReceived);
            self.snd_nxt = self.iss;
            self.resend_reason = None;
        }
    }

    /// RFC 9293 §3.10.7.4, "Otherwise" (SYN-RECEIVED and the synchronized states).
    fn synchronized_arrives(&mut self, seg: &TcpSegment, now: Instant) {
        let f = seg.flags;
        // The peer's SYN again while we are in SYN-RECEIVED: our SYN-ACK was lost, send it
        // again now (as Linux does) rather than answer with an ACK.
        if self.state == TcpState::SynReceived
            && f.contains(TcpFlags::SYN)
            && !f.contains(TcpFlags::ACK)
            && !f.contains(TcpFlags::RST)
            && seg.seq == self.irs
        {
            self.snd_nxt = self.iss;
            self.resend_reason = Some(RetransmitReason::DuplicateSyn);
            return;
        }

        // First, check the sequence number: the acceptability table (RFC 9293 §3.10.7.4, see
        // `reassembly::acceptable`) against the window we advertised. "If an incoming segment
        // is not acceptable, an acknowledgment should be sent in reply (unless the RST bit is
        // set)"; in TIME-WAIT a FIN sent again also restarts the 2·MSL timeout (eighth step).
        self.recv.set_rcv_wnd(self.rcv_wnd());
        if !self.recv.acceptable(seg.seq, seg.seg_len()) {
            self.stats.unacceptable_segments += 1;
            if !f.contains(TcpFlags::RST) {
                self.ack_now = true;
                let end = seg.seq.wrapping_add(seg.payload.len() as u32);
                if !seg.payload.is_empty() && seq_le(end, self.recv.rcv_nxt()) {
                    self.stats.duplicate_segments += 1;
                }
                if self.state == TcpState::TimeWait && f.contains(TcpFlags::FIN) {
                    self.timewait_at = Some(now + self.cfg.time_wait);
                }
            }
            return;
        }
        // RFC 7323 §4.3: TS.Recent follows the segment that the ACKs we send refer to.
        if self.ts_on {
            if let Some((tsval, _)) = seg.timestamps() {
                if seq_le(seg.seq, self.last_ack_sent) && seq_le(self.ts_recent, tsval) {
                    self.ts_recent = tsval;
                }
            }
        }

        // Second, check the RST bit. RFC 5961 §3.2: only a RST at exactly RCV.NXT resets; one
        // elsewhere in the window gets a challenge ACK.
        if f.contains(TcpFlags::RST) {
            if seg.seq != self.recv.rcv_nxt() {
                self.ack_now = true;
                return;
            }
            self.reset_by_peer();
            return;
        }

        // Fourth, check the SYN bit: in a synchronized state a SYN is answered by a challenge
        // ACK and dropped (RFC 9293 §3.10.7.4 with RFC 5961 §4.2).
        if f.contains(TcpFlags::SYN) {
            self.ack_now = true;
            return;
        }

        // Fifth, check the ACK field: "if the ACK bit is off, drop the segment and return".
        if !f.contains(TcpFlags::ACK) {
            return;
        }
        if self.state == TcpState::SynReceived {
            // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state and continue
            // processing with the variables SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <-
            // SEG.ACK. If the segment acknowledgment is not acceptable, form a reset segment
            // <SEQ=SEG.ACK><CTL=RST> and send it."
            if seq_lt(self.snd_una, seg.ack) && seq_le(seg.ack, self.snd_max) {
                self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = seg.ack;
                self.establish(now);
            } else {
                self.rst_pending = Some(self.bare_rst(seg.ack));
                return;
            }
        }
        // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop
        // the segment, and return" (SND.NXT here is the highest sent, SND.MAX). RFC 5961 §5.2:
        // so is an ACK older than SND.UNA − MAX.SND.WND.
        if seq_lt(self.snd_max, seg.ack) || seq_lt(seg.ack, self.snd_una.wrapping_sub(self.max_snd_wnd)) {
            self.ack_now = true;
            return;
        }
        let wnd = u32::from(seg.window) << self.snd_wscale;
        let advances = seq_lt(self.snd_una, seg.ack);
        if advances {
            self.new_ack(seg, now);
        }
        if self.sack_on {
            // RFC 2018 §5: the SACK option of an acceptable ACK updates the scoreboard.
            if let Some(blocks) = seg.options.iter().find_map(|o| match o {
                TcpOption::Sack(b) => Some(b.as_slice()),
                _ => None,
            }) {
                self.sacked.add(blocks, self.snd_una, self.snd_max);
            }
        }
        if !advances && seg.ack == self.snd_una && self.is_duplicate_ack(seg, wnd) {
            self.stats.dup_acks_received += 1;
            let flight = self.snd_max.wrapping_sub(self.snd_una);
            let in_recovery = self.cc.in_recovery();
            if self.cc.on_dupack(self.snd_una, flight, self.snd_max) == CcAction::Retransmit {
                self.fast_rtx = true;
            } else if in_recovery && !self.sacked.is_empty() {
                self.sack_rtx = true;
            }
        }
        // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If (SND.WL1 <
        // SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <- SEG.WND, set
        // SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK."
        if seq_le(self.snd_una, seg.ack)
            && (seq_lt(self.snd_wl1, seg.seq) || (self.snd_wl1 == seg.seq && seq_le(self.snd_wl2, seg.ack)))
        {
            self.snd_wnd = wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(wnd);
            self.snd_wl1 = seg.seq;
            self.snd_wl2 = seg.ack;
        }
        // The states' own ACK processing.
        match self.state {
            // "In addition to the processing for the ESTABLISHED state, if the FIN segment is now
            // acknowledged, then enter FIN-WAIT-2 and continue processing in that state."
            TcpState::FinWait1 if self.our_fin_acked() => self.set_state(TcpState::FinWait2),
            // CLOSING: "if the ACK acknowledges our FIN, then enter the TIME-WAIT state".
            TcpState::Closing if self.our_fin_acked() => self.enter_time_wait(now),
            // LAST-ACK: "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state".
            TcpState::LastAck if self.our_fin_acked() => {
                self.enter_closed();
                return;
            }
            _ => {}
        }

        // Sixth, the URG bit: urgent data is not implemented (see the module documentation).
        // Seventh and eighth: the segment text and the FIN.
        if !seg.payload.is_empty() || f.contains(TcpFlags::FIN) {
            self.segment_text(seg.seq, &seg.payload, f.contains(TcpFlags::FIN), now);
        }
    }

    /// RFC 5681 §2: a duplicate ACK (a) arrives with data outstanding, (b) carries no data,
    /// (c) has neither SYN nor FIN, (d) acknowledges SND.UNA (checked by the caller), (e)
    /// advertises the same window as before. Also (here): the window is not zero, because the
    /// answers to zero-window probes look just like that.
    fn is_duplicate_ack(&self, seg: &TcpSegment, wnd: u32) -> bool {
        self.snd_max != self.snd_una
            && seg.payload.is_empty()
            && !seg.flags.contains(TcpFlags::SYN)
            && !seg.flags.contains(TcpFlags::FIN)
            && wnd == self.snd_wnd
            && self.snd_wnd != 0
    }

    /// A RST in the window at RCV.NXT (RFC 9293 §3.10.7.4, second step, by state).
    fn reset_by_peer(&mut self) {
        match self.state {
            // "If this connection was initiated with a passive OPEN, then return this connection
            // to LISTEN state": the listener is the owner's, so this connection just ends. An
            // active open (simultaneous) is refused.
            TcpState::SynReceived => {
                let refused = !self.passive;
                self.error = Some(if refused { SockError::ConnectionRefused } else { SockError::ConnectionReset });
                self.events.push_back(if refused { ConnEvent::Refused } else { ConnEvent::Reset });
            }
            // "Any outstanding RECEIVEs and SEND should receive 'reset' responses. All segment
            // queues should be flushed." Bytes already delivered stay readable, as on Linux.
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 | TcpState::CloseWait => {
                self.error = Some(SockError::ConnectionReset);
                self.events.push_back(ConnEvent::Reset);
            }
            // CLOSING, LAST-ACK, TIME-WAIT: "enter the CLOSED state, delete the TCB".
            _ => {}
        }
        self.send_buf = super::SendBuffer::new(self.send_buf.end(), 0);
        self.enter_closed();
    }

    /// SND.UNA < SEG.ACK =< SND.MAX: the peer acknowledged new data (RFC 9293 §3.10.7.4 fifth
    /// step): drop it from the send buffer, take an RTT sample (RFC 6298 §3, RFC 7323 §4.1),
    /// grow or deflate cwnd (RFC 5681, RFC 6582), and manage the timer (RFC 6298 §5.2, §5.3).
    pub(super) fn new_ack(&mut self, seg: &TcpSegment, now: Instant) {
        let ack = seg.ack;
        let acked = self.send_buf.acknowledge(ack);
        self.sacked.advance(ack);
        self.stats.bytes_acked += acked as u64;
        self.snd_una = ack;
        if seq_lt(self.snd_nxt, ack) {
            self.snd_nxt = ack;
        }
        self.retries = 0;

        let mut sampled = false;
        if let Some((end, at)) = self.rtt_timed {
            if seq_le(end, ack) {
                self.rto.sample(now - at);
                self.rtt_timed = None;
                sampled = true;
            }
        }
        if !sampled && self.karn_blocked && self.ts_on {
            // RFC 7323 §4.1: the echoed timestamp dates the segment this ACK answers, whether or
            // not it was a retransmission, so it measures where Karn's algorithm cannot.
            if let Some((_, tsecr)) = seg.timestamps() {
                let elapsed = self.ts_now(now).wrapping_sub(tsecr);
                if tsecr != 0 && (elapsed as i32) >= 0 {
                    self.rto.sample(Duration::from_millis(u64::from(elapsed)));
                    sampled = true;
                }
            }
        }
        if sampled {
            self.karn_blocked = false;
        }

        let flight = self.snd_max.wrapping_sub(self.snd_una);
        if self.cc.on_new_ack(ack, acked as u32, flight) == CcAction::Retransmit {
            // A partial ACK in fast recovery (RFC 6582 §3.2 step 5): the first unacknowledged
            // segment goes again, unless the SACK holes already resent it in this recovery.
            if self.sack_on && seq_lt(self.snd_una, self.rxt_next) {
                self.sack_rtx = true;
            } else {
                self.fast_rtx = true;
            }
        }
        self.rto_at = if self.snd_una == self.snd_max { None } else { Some(now + self.rto.rto()) };
        if self.want_writable && self.send_buf.free() > 0 {
            self.want_writable = false;
            self.events.push_back(ConnEvent::Writable);
        }
    }

    /// Our TSval now: the millisecond clock plus the connection's offset (RFC 7323 §5.4).
    pub(super) fn ts_now(&self, now: Instant) -> u32 {
        now.as_millis_u32().wrapping_add(self.cfg.ts_offset)
    }

    /// Seventh and eighth steps: the segment's data starting at `seq`, then its FIN.
    fn segment_text(&mut self, seq: u32, payload: &[u8], fin: bool, now: Instant) {
        let receiving = matches!(self.state, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2);
        let mut fin = fin;
        if !payload.is_empty() {
            if !receiving {
                // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur since a FIN has
                // been received from the remote side. Ignore the segment text."
                return;
            }
            // Only the part inside the window is processed (§3.10.7.4: "segments with higher
            // beginning sequence numbers ... may be held"; the tail past RCV.NXT+RCV.WND is
            // trimmed, and a FIN after a trimmed tail goes with it).
            let right = self.recv.rcv_nxt().wrapping_add(self.rcv_wnd());
            let keep = if seq_lt(seq, right) { (right.wrapping_sub(seq) as usize).min(payload.len()) } else { 0 };
            if keep < payload.len() {
                fin = false;
            }
            let data = payload.get(..keep).unwrap_or(&[]);
            if !data.is_empty() {
                self.max_seg_seen = self.max_seg_seen.max(data.len() as u32).min(self.rcv_mss);
                self.take_data(seq, data, now);
            } else {
                self.ack_now = true;
            }
        }
        if fin && self.peer_fin.is_none() {
            self.peer_fin = Some(seq.wrapping_add(payload.len() as u32));
        }
        self.take_fin_if_due(now);
    }

    /// Hand in-window data to the receive queue and decide the ACK: out-of-order data and a
    /// segment that fills a gap are acknowledged at once (RFC 5681 §4.2), in-order data may
    /// wait for the delayed-ACK timer (RFC 9293 §3.8.6.3).
    fn take_data(&mut self, seq: u32, data: &[u8], now: Instant) {
        let was_empty = self.rx.is_empty();
        match self.recv.arrive(seq, data) {
            Arrival::Deliver { data, from_held, trimmed, .. } => {
                self.stats.bytes_delivered += data.len() as u64;
                self.rx.extend(data);
                if was_empty && !self.rx.is_empty() {
                    self.events.push_back(ConnEvent::DataAvailable);
                }
                if from_held > 0 || trimmed > 0 || self.recv.held_segments() > 0 {
                    self.ack_now = true;
                } else {
                    self.schedule_ack(now);
                }
            }
            Arrival::Held { .. } | Arrival::DuplicateOfHeld { .. } => {
                self.stats.out_of_order_segments += 1;
                self.last_held = Some(seq);
                self.ack_now = true;
            }
            Arrival::Duplicate => {
                self.stats.duplicate_segments += 1;
                self.ack_now = true;
            }
            Arrival::OutsideWindow | Arrival::Dropped => self.ack_now = true,
        }
    }

    /// RFC 9293 §3.8.6.3 / RFC 5681 §4.2: an ACK at least for every second full-sized segment,
    /// otherwise within the delayed-ACK time.
    fn schedule_ack(&mut self, now: Instant) {
        match self.cfg.delayed_ack {
            None => self.ack_now = true,
            Some(delay) => {
                let unacked = self.recv.rcv_nxt().wrapping_sub(self.last_ack_sent);
                if unacked >= 2 * self.max_seg_seen.max(1) {
                    self.ack_now = true;
                } else if self.delack_at.is_none() {
                    self.delack_at = Some(now + delay);
                }
            }
        }
    }

    /// Eighth step, once every byte before the peer's FIN is in: RCV.NXT passes the FIN, it is
    /// acknowledged, the application sees end of stream, and the state moves (ESTABLISHED →
    /// CLOSE-WAIT; FIN-WAIT-1 → CLOSING, or TIME-WAIT if our FIN is acknowledged; FIN-WAIT-2 →
    /// TIME-WAIT).
    fn take_fin_if_due(&mut self, now: Instant) {
        if self.fin_received || self.peer_fin != Some(self.recv.rcv_nxt()) {
            return;
        }
        self.recv.advance(1);
        self.fin_received = true;
        self.ack_now = true;
        self.events.push_back(ConnEvent::PeerClosed);
        match self.state {
            TcpState::SynReceived | TcpState::Established => self.set_state(TcpState::CloseWait),
            TcpState::FinWait1 if self.our_fin_acked() => self.enter_time_wait(now),
            TcpState::FinWait1 => self.set_state(TcpState::Closing),
            TcpState::FinWait2 => self.enter_time_wait(now),
            _ => {}
        }
    }
}
