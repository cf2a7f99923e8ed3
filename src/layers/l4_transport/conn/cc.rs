//! Congestion control: RFC 5681 (slow start, congestion avoidance, fast retransmit and fast
//! recovery) with the NewReno modification of RFC 6582 (partial acknowledgments keep fast recovery
//! going until everything outstanding when it began is acknowledged).
//!
//! The initial window is RFC 6928's 10 segments by default, as Linux (`TCP_INIT_CWND`); `None` in
//! [`super::ConnConfig::initial_window`] gives RFC 5681 §3.1's IW (2, 3 or 4 segments by SMSS).
//! Congestion avoidance counts bytes (RFC 5681 §3.1, "appropriate byte counting", RFC 3465): cwnd
//! grows by one SMSS each time a full cwnd of data has been acknowledged.

/// What an acknowledgment asks of the sender, beyond moving SND.UNA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcAction {
    /// Nothing to retransmit.
    None,
    /// Retransmit the first unacknowledged segment now: the third duplicate ACK (RFC 5681 §3.2,
    /// step 2) or a partial ACK during fast recovery (RFC 6582 §3.2, step 5).
    Retransmit,
}

/// The congestion state of one connection's sending side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReno {
    smss: u32,
    cwnd: u32,
    ssthresh: u32,
    dupacks: u32,
    /// RFC 6582 §3.2 "recover": the highest sequence number sent when fast recovery (or an RTO)
    /// began; `in_recovery` says whether fast recovery is on.
    recover: Option<u32>,
    in_recovery: bool,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance.
    acked_in_ca: u32,
}

/// RFC 5681 §3.1, equation (1): IW = 4·SMSS for SMSS ≤ 1095, 3·SMSS up to 2190, else 2·SMSS.
pub fn rfc5681_initial_window(smss: u32) -> u32 {
    match smss {
        0..=1095 => 4 * smss,
        1096..=2190 => 3 * smss,
        _ => 2 * smss,
    }
}

impl NewReno {
    /// A sender with SMSS `smss` and an initial window of `iw_segments` segments (RFC 6928), or
    /// RFC 5681's IW when `None`. ssthresh starts "arbitrarily high" (RFC 5681 §3.1).
    pub fn new(smss: u32, iw_segments: Option<u32>) -> Self {
        let smss = smss.max(1);
        let cwnd = match iw_segments {
            Some(n) => n.max(1).saturating_mul(smss),
            None => rfc5681_initial_window(smss),
        };
        NewReno { smss, cwnd, ssthresh: u32::MAX, dupacks: 0, recover: None, in_recovery: false, acked_in_ca: 0 }
    }

    /// cwnd in bytes.
    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    /// ssthresh in bytes (`u32::MAX` until the first loss).
    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    /// Duplicate ACKs counted in a row.
    pub fn dupacks(&self) -> u32 {
        self.dupacks
    }

    /// True during fast recovery.
    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// The sender's MSS changed (the handshake settled it): the initial window follows.
    pub fn set_smss(&mut self, smss: u32, iw_segments: Option<u32>) {
        *self = NewReno::new(smss, iw_segments);
    }

    /// RFC 5681 §3.1, equation (4): ssthresh = max(FlightSize / 2, 2·SMSS).
    fn halve(&mut self, flight: u32) {
        self.ssthresh = (flight / 2).max(2 * self.smss);
    }

    /// An ACK that moved SND.UNA forward by `acked` bytes (SND.UNA is now `ack`) with `flight`
    /// bytes still outstanding after it.
    ///
    /// cwnd grows only while it is being used: when the data in flight before this ACK
    /// (`flight + acked`) was at least half of cwnd (RFC 7661 §4.3's "validated" test), so a
    /// sender held back by the peer's window or by its application does not grow an untested
    /// window without bound.
    pub fn on_new_ack(&mut self, ack: u32, acked: u32, flight: u32) -> CcAction {
        self.dupacks = 0;
        if self.in_recovery {
            let full = match self.recover {
                Some(r) => super::seq_le(r, ack),
                None => true,
            };
            if full {
                // RFC 6582 §3.2 step 3, full acknowledgment: deflate the window,
                // cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), and leave fast recovery.
                self.cwnd = self.ssthresh.min(flight.max(self.smss) + self.smss);
                self.in_recovery = false;
                self.recover = None;
                return CcAction::None;
            }
            // Step 5, partial acknowledgment: retransmit the first unacknowledged segment,
            // deflate cwnd by the amount acknowledged and add back one SMSS if that was at least
            // one SMSS.
            self.cwnd = self.cwnd.saturating_sub(acked);
            if acked >= self.smss {
                self.cwnd += self.smss;
            }
            self.cwnd = self.cwnd.max(self.smss);
            return CcAction::Retransmit;
        }
        if self.recover.is_some_and(|r| super::seq_le(r, ack)) {
            // Past "recover": forget it, so that it cannot look ahead again 2^31 bytes later.
            self.recover = None;
        }
        let validated = u64::from(flight) + u64::from(acked) >= u64::from(self.cwnd / 2);
        if !validated {
            return CcAction::None;
        }
        if self.cwnd < self.ssthresh {
            // RFC 5681 §3.1, equation (2): slow start, cwnd += min(N, SMSS).
            self.cwnd = self.cwnd.saturating_add(acked.min(self.smss));
        } else {
            // Congestion avoidance, byte counting: one SMSS per cwnd of acknowledged data.
            self.acked_in_ca = self.acked_in_ca.saturating_add(acked);
            if self.acked_in_ca >= self.cwnd {
                self.acked_in_ca -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(self.smss);
            }
        }
        CcAction::None
    }

    /// A duplicate ACK (RFC 5681 §2's definition, checked by the caller) for SND.UNA = `snd_una`,
    /// with `flight` bytes outstanding and `snd_max` the highest sequence number sent.
    pub fn on_dupack(&mut self, snd_una: u32, flight: u32, snd_max: u32) -> CcAction {
        self.dupacks = self.dupacks.saturating_add(1);
        if self.in_recovery {
            // RFC 5681 §3.2 step 4: inflate by one SMSS for each further duplicate.
            self.cwnd = self.cwnd.saturating_add(self.smss);
            return CcAction::None;
        }
        if self.dupacks != 3 {
            return CcAction::None;
        }
        // RFC 6582 §3.2 step 2: enter fast retransmit only when the cumulative ACK covers more
        // than "recover" (after a timeout, duplicates of what was resent do not start another
        // reduction).
        if let Some(r) = self.recover {
            if !super::seq_le(r, snd_una) {
                return CcAction::None;
            }
        }
        // RFC 5681 §3.2 steps 2 and 3: ssthresh by equation (4), retransmit, cwnd = ssthresh +
        // 3·SMSS.
        self.halve(flight);
        self.recover = Some(snd_max);
        self.in_recovery = true;
        self.cwnd = self.ssthresh.saturating_add(3 * self.smss);
        CcAction::Retransmit
    }

    /// The retransmission timer expired (RFC 5681 §3.1: ssthresh by equation (4), cwnd = LW =
    /// one SMSS; RFC 6582 §3.2 step 4: recover = the highest sequence number sent). Only the first
    /// expiry for the same data halves ssthresh again ("when a TCP sender detects segment loss
    /// using the retransmission timer and the given segment has already been retransmitted ...
    /// ssthresh is held constant", RFC 5681 §3.1).
    pub fn on_timeout(&mut self, flight: u32, snd_max: u32, first_expiry: bool) {
        if first_expiry {
            self.halve(flight);
        }
        self.cwnd = self.smss;
        self.dupacks = 0;
        self.in_recovery = false;
        self.recover = Some(snd_max);
        self.acked_in_ca = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_windows() {
        assert_eq!(rfc5681_initial_window(1460), 4380);
        assert_eq!(rfc5681_initial_window(536), 2144);
        assert_eq!(rfc5681_initial_window(4000), 8000);
        assert_eq!(NewReno::new(1448, Some(10)).cwnd(), 14480);
        assert_eq!(NewReno::new(1460, None).cwnd(), 4380);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = NewReno::new(1000, Some(2));
        // Slow start: one SMSS per ACK of a full segment.
        c.on_new_ack(1000, 1000, 1000);
        assert_eq!(c.cwnd(), 3000);
        c.on_timeout(8000, 9000, true);
        assert_eq!((c.cwnd(), c.ssthresh()), (1000, 4000));
        for ack in 1..=3 {
            c.on_new_ack(ack * 1000, 1000, 4000);
        }
        assert_eq!(c.cwnd(), 4000);
        // Congestion avoidance: +1 SMSS after a full cwnd (4000 bytes) is acknowledged.
        for ack in 4..=6 {
            c.on_new_ack(ack * 1000, 1000, 4000);
        }
        assert_eq!(c.cwnd(), 4000);
        c.on_new_ack(7000, 1000, 4000);
        assert_eq!(c.cwnd(), 5000);
    }

    #[test]
    fn an_unused_window_does_not_grow() {
        let mut c = NewReno::new(1000, Some(10));
        // 2 KB in flight of a 10 KB cwnd: application- or receiver-limited.
        c.on_new_ack(1000, 1000, 1000);
        assert_eq!(c.cwnd(), 10_000);
        c.on_new_ack(2000, 1000, 4000);
        assert_eq!(c.cwnd(), 11_000);
    }

    #[test]
    fn third_dupack_retransmits_and_partial_ack_keeps_recovery() {
        let mut c = NewReno::new(1000, Some(10));
        assert_eq!(c.on_dupack(0, 10_000, 10_000), CcAction::None);
        assert_eq!(c.on_dupack(0, 10_000, 10_000), CcAction::None);
        assert_eq!(c.on_dupack(0, 10_000, 10_000), CcAction::Retransmit);
        assert_eq!((c.ssthresh(), c.cwnd()), (5000, 8000));
        assert_eq!(c.on_dupack(0, 10_000, 10_000), CcAction::None);
        assert_eq!(c.cwnd(), 9000);
        // Partial ACK (recover = 10000 not reached): retransmit again, stay in recovery.
        assert_eq!(c.on_new_ack(3000, 3000, 7000), CcAction::Retransmit);
        assert!(c.in_recovery());
        assert_eq!(c.cwnd(), 7000);
        // Full ACK: cwnd = min(ssthresh, max(flight, SMSS) + SMSS).
        assert_eq!(c.on_new_ack(10_000, 7000, 0), CcAction::None);
        assert!(!c.in_recovery());
        assert_eq!(c.cwnd(), 2000);
    }

    #[test]
    fn no_fast_retransmit_for_duplicates_below_recover_after_a_timeout() {
        let mut c = NewReno::new(1000, Some(10));
        c.on_timeout(10_000, 10_000, true);
        for _ in 0..3 {
            assert_eq!(c.on_dupack(2000, 8000, 10_000), CcAction::None);
        }
        c.on_new_ack(10_500, 1000, 0);
        for _ in 0..2 {
            c.on_dupack(10_500, 5000, 15_000);
        }
        assert_eq!(c.on_dupack(10_500, 5000, 15_000), CcAction::Retransmit);
    }
}
