//! The retransmission timeout estimator of RFC 6298.
//!
//! RFC 6298 §2: before any RTT sample RTO = the initial value (1 s, §2.1). The first sample R
//! sets SRTT = R, RTTVAR = R/2 (§2.2); each later sample R' sets RTTVAR = (1 − β)·RTTVAR +
//! β·|SRTT − R'| and then SRTT = (1 − α)·SRTT + α·R', with α = 1/8, β = 1/4 (§2.3, RTTVAR first,
//! from the old SRTT). Either way RTO = SRTT + max(G, K·RTTVAR) with K = 4 and G the clock
//! granularity (1 ms here, the TCP timestamp clock's tick), rounded up to the minimum (§2.4: 1 s;
//! Linux uses 200 ms, `TCP_RTO_MIN`, the default here) and capped at the maximum (§2.5, at least
//! 60 s; 120 s as Linux's `TCP_RTO_MAX`).
//!
//! §5.5: when the timer expires the RTO doubles ("back off the timer"), up to the maximum; the
//! backed-off value stays until a new sample is taken (Karn's algorithm, §3, keeps samples of
//! retransmitted segments out: the caller never passes them unless timestamps disambiguate).

use std::time::Duration;

/// K in RFC 6298 §2: RTO = SRTT + max(G, K·RTTVAR).
pub const K: u32 = 4;
/// G in RFC 6298 §2: the clock granularity, 1 ms.
pub const GRANULARITY: Duration = Duration::from_millis(1);

/// SRTT, RTTVAR and the current RTO of one connection (RFC 6298 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtoEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
    backoffs: u32,
}

impl RtoEstimator {
    /// Before any sample: RTO = `initial` (RFC 6298 §2.1), kept within [`min`, `max`].
    pub fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        let max = max.max(min);
        RtoEstimator { srtt: None, rttvar: Duration::ZERO, rto: initial.clamp(min, max), min, max, backoffs: 0 }
    }

    /// SRTT, once there is a sample.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// RTTVAR (zero before the first sample).
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// The current RTO, back-off included.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// How many times the timer has backed off since the last sample.
    pub fn backoffs(&self) -> u32 {
        self.backoffs
    }

    /// Take one RTT measurement (RFC 6298 §2.2 / §2.3) and recompute the RTO (§2.4, §2.5). A new
    /// sample ends any back-off.
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                // §2.3: RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4, with the
                // SRTT from before this sample; then SRTT <- (1 - alpha) * SRTT + alpha * R',
                // alpha = 1/8.
                let delta = if srtt > r { srtt - r } else { r - srtt };
                self.rttvar = self.rttvar * 3 / 4 + delta / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        self.backoffs = 0;
        self.rto = self.computed();
    }

    /// RFC 6298 §2: SRTT + max(G, K·RTTVAR), within [min, max].
    fn computed(&self) -> Duration {
        let srtt = self.srtt.unwrap_or_default();
        let var = self.rttvar.saturating_mul(K).max(GRANULARITY);
        srtt.saturating_add(var).clamp(self.min, self.max)
    }

    /// RFC 6298 §5.5: the timer expired, RTO = RTO · 2 (at most the maximum).
    pub fn back_off(&mut self) {
        self.rto = self.rto.saturating_mul(2).min(self.max);
        self.backoffs = self.backoffs.saturating_add(1);
    }

    /// RFC 6298 §5.7: the SYN's timer expired and no sample has been taken: once the connection
    /// is established the RTO is re-initialized to 3 s (when it is below that).
    pub fn syn_timed_out_fallback(&mut self) {
        if self.srtt.is_none() {
            self.backoffs = 0;
            self.rto = Duration::from_secs(3).clamp(self.min, self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn est() -> RtoEstimator {
        RtoEstimator::new(Duration::from_secs(1), ms(200), Duration::from_secs(120))
    }

    #[test]
    fn initial_rto_is_one_second() {
        let e = est();
        assert_eq!(e.rto(), Duration::from_secs(1));
        assert_eq!(e.srtt(), None);
    }

    #[test]
    fn rfc6298_numbers_on_a_known_sequence() {
        // RFC 6298 §2 with the minimum out of the way (1 ms), so the formulas show.
        let mut e = RtoEstimator::new(Duration::from_secs(1), ms(1), Duration::from_secs(120));
        // First sample 100 ms: SRTT 100, RTTVAR 50, RTO = 100 + 4*50 = 300 ms.
        e.sample(ms(100));
        assert_eq!((e.srtt(), e.rttvar(), e.rto()), (Some(ms(100)), ms(50), ms(300)));
        // 140 ms: RTTVAR = 3/4*50 + 1/4*|100-140| = 37.5 + 10 = 47.5; SRTT = 7/8*100 + 1/8*140
        // = 87.5 + 17.5 = 105; RTO = 105 + 190 = 295 ms.
        e.sample(ms(140));
        assert_eq!(e.rttvar(), Duration::from_micros(47_500));
        assert_eq!(e.srtt(), Some(ms(105)));
        assert_eq!(e.rto(), ms(295));
        // 60 ms: RTTVAR = 3/4*47.5 + 1/4*45 = 35.625 + 11.25 = 46.875; SRTT = 7/8*105 + 7.5
        // = 91.875 + 7.5 = 99.375; RTO = 99.375 + 187.5 = 286.875 ms.
        e.sample(ms(60));
        assert_eq!(e.rttvar(), Duration::from_micros(46_875));
        assert_eq!(e.srtt(), Some(Duration::from_micros(99_375)));
        assert_eq!(e.rto(), Duration::from_micros(286_875));
    }

    #[test]
    fn granularity_floors_the_variance_term() {
        // A steady RTT drives RTTVAR towards zero; max(G, K*RTTVAR) keeps 1 ms.
        let mut e = RtoEstimator::new(Duration::from_secs(1), Duration::ZERO, Duration::from_secs(120));
        for _ in 0..200 {
            e.sample(ms(10));
        }
        assert_eq!(e.srtt(), Some(ms(10)));
        assert_eq!(e.rto(), ms(11));
    }

    #[test]
    fn minimum_applies() {
        let mut e = est();
        e.sample(ms(10));
        // 10 + 4*5 = 30 ms, below the 200 ms minimum.
        assert_eq!(e.rto(), ms(200));
    }

    #[test]
    fn back_off_doubles_up_to_the_maximum_and_a_sample_ends_it() {
        let mut e = est();
        let mut seen = vec![e.rto()];
        for _ in 0..9 {
            e.back_off();
            seen.push(e.rto());
        }
        let secs: Vec<u64> = seen.iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 120, 120, 120]);
        assert_eq!(e.backoffs(), 9);
        e.sample(ms(100));
        assert_eq!(e.rto(), ms(300));
        assert_eq!(e.backoffs(), 0);
    }

    #[test]
    fn syn_fallback_is_three_seconds_without_a_sample() {
        let mut e = est();
        e.back_off();
        e.syn_timed_out_fallback();
        assert_eq!(e.rto(), Duration::from_secs(3));
        let mut e = est();
        e.sample(ms(100));
        e.syn_timed_out_fallback();
        assert_eq!(e.rto(), ms(300));
    }
}
