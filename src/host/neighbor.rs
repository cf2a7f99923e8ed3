//! The neighbor cache: IP address → MAC address on one link, for ARP (RFC 826, RFC 1122
//! §2.3.2) and IPv6 neighbor discovery (RFC 4861 §7.3) alike. While an address is being resolved
//! its packets wait here (RFC 1122 §2.3.2.2: "SHOULD save at least one"); when resolution fails
//! after [`MAX_PROBES`] requests one [`RETRANS_TIMER`] apart, they are given up and the sender
//! is told the host is unreachable (RFC 4861 §7.2.2; Linux's `mcast_solicit` 3, 1 s apart).

use crate::addr::MacAddr;
use crate::time::Instant;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// RFC 4861 §10 RETRANS_TIMER: 1 s between requests.
pub const RETRANS_TIMER: Duration = Duration::from_secs(1);
/// RFC 4861 §10 MAX_MULTICAST_SOLICIT: 3 requests before giving up.
pub const MAX_PROBES: u32 = 3;
/// RFC 4861 §10 REACHABLE_TIME: an entry is trusted for 30 s (Linux's base_reachable_time), then
/// resolved again.
pub const REACHABLE_TIME: Duration = Duration::from_secs(30);
/// Packets kept per unresolved neighbor; the oldest is dropped beyond. RFC 1122 §2.3.2.2 asks
/// for at least one; Linux keeps `unres_qlen` packets, whose default was 101 before it came to
/// be counted in bytes (`unres_qlen_bytes`, about 200 kB).
pub const PENDING_LIMIT: usize = 101;

#[derive(Debug, Clone)]
enum State<T> {
    Incomplete { iface: usize, probes: u32, next: Instant, pending: Vec<T> },
    Reachable { mac: MacAddr, iface: usize, until: Instant },
}

/// What a timeout asks of the host.
#[derive(Debug)]
pub struct Expired<T> {
    /// Neighbors to ask again: (interface, address).
    pub ask: Vec<(usize, IpAddr)>,
    /// Neighbors that never answered, with the packets that waited for them.
    pub failed: Vec<(IpAddr, Vec<T>)>,
}

/// The cache; `T` is what waits for an answer (a packet ready but for its destination MAC).
#[derive(Debug, Clone)]
pub struct NeighborCache<T> {
    entries: BTreeMap<IpAddr, State<T>>,
    /// Packets dropped because too many waited for one neighbor.
    pub overflow_drops: u64,
}

impl<T> Default for NeighborCache<T> {
    fn default() -> Self {
        NeighborCache { entries: BTreeMap::new(), overflow_drops: 0 }
    }
}

impl<T> NeighborCache<T> {
    /// The MAC of `ip` if known and still reachable at `now`.
    pub fn lookup(&self, ip: IpAddr, now: Instant) -> Option<MacAddr> {
        match self.entries.get(&ip) {
            Some(State::Reachable { mac, until, .. }) if *until > now => Some(*mac),
            _ => None,
        }
    }

    /// Whether `ip` has an entry (complete or not): RFC 826's merge rule updates only those.
    pub fn has(&self, ip: IpAddr) -> bool {
        self.entries.contains_key(&ip)
    }

    /// Record that `ip` is at `mac` on `iface`; returns the packets that were waiting for it.
    pub fn learn(&mut self, ip: IpAddr, mac: MacAddr, iface: usize, now: Instant) -> Vec<T> {
        let old = self.entries.insert(ip, State::Reachable { mac, iface, until: now + REACHABLE_TIME });
        match old {
            Some(State::Incomplete { pending, .. }) => pending,
            _ => Vec::new(),
        }
    }

    /// Hold `item` until `ip` is resolved. Returns whether a request should be sent now (a new
    /// resolution started; false when one is already under way), and the oldest waiting item,
    /// dropped to make room when [`PENDING_LIMIT`] were already waiting.
    pub fn hold(&mut self, ip: IpAddr, iface: usize, item: T, now: Instant) -> (bool, Option<T>) {
        match self.entries.get_mut(&ip) {
            Some(State::Incomplete { pending, .. }) => {
                let dropped = (pending.len() >= PENDING_LIMIT).then(|| pending.remove(0));
                if dropped.is_some() {
                    self.overflow_drops += 1;
                }
                pending.push(item);
                (false, dropped)
            }
            _ => {
                self.entries
                    .insert(ip, State::Incomplete { iface, probes: 1, next: now + RETRANS_TIMER, pending: vec![item] });
                (true, None)
            }
        }
    }

    /// The next time a request is due or an attempt gives up.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|s| match s {
                State::Incomplete { next, .. } => Some(*next),
                State::Reachable { .. } => None,
            })
            .min()
    }

    /// Ask again where no answer came within [`RETRANS_TIMER`]; give up after [`MAX_PROBES`];
    /// forget reachable entries past their time.
    pub fn on_timeout(&mut self, now: Instant) -> Expired<T> {
        let mut ask = Vec::new();
        let mut gone = Vec::new();
        for (ip, s) in self.entries.iter_mut() {
            match s {
                State::Incomplete { iface, probes, next, .. } if *next <= now => {
                    if *probes >= MAX_PROBES {
                        gone.push(*ip);
                    } else {
                        *probes += 1;
                        *next = now + RETRANS_TIMER;
                        ask.push((*iface, *ip));
                    }
                }
                State::Reachable { until, .. } if *until <= now => gone.push(*ip),
                _ => {}
            }
        }
        let mut failed = Vec::new();
        for ip in gone {
            if let Some(State::Incomplete { pending, .. }) = self.entries.remove(&ip) {
                failed.push((ip, pending));
            }
        }
        Expired { ask, failed }
    }

    /// `ip neigh` lines: address, interface name, MAC and state.
    pub fn show(&self, names: &[String], now: Instant) -> Vec<String> {
        self.entries
            .iter()
            .map(|(ip, s)| match s {
                State::Reachable { mac, iface, until } => {
                    let dev = names.get(*iface).map_or("?", String::as_str);
                    let state = if *until > now { "REACHABLE" } else { "STALE" };
                    format!("{ip} dev {dev} lladdr {mac} {state}")
                }
                State::Incomplete { iface, .. } => {
                    let dev = names.get(*iface).map_or("?", String::as_str);
                    format!("{ip} dev {dev} INCOMPLETE")
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 9]);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn packets_wait_for_the_answer_then_go() {
        let mut c = NeighborCache::default();
        let t0 = Instant::ZERO;
        assert!(c.hold(ip("192.0.2.9"), 0, "p1", t0).0);
        assert!(!c.hold(ip("192.0.2.9"), 0, "p2", t0).0);
        assert_eq!(c.lookup(ip("192.0.2.9"), t0), None);
        assert_eq!(c.learn(ip("192.0.2.9"), MAC, 0, t0), vec!["p1", "p2"]);
        assert_eq!(c.lookup(ip("192.0.2.9"), t0), Some(MAC));
        assert_eq!(c.lookup(ip("192.0.2.9"), t0 + REACHABLE_TIME), None);
    }

    #[test]
    fn three_requests_then_unreachable() {
        let mut c = NeighborCache::default();
        let mut now = Instant::ZERO;
        c.hold(ip("192.0.2.9"), 0, 1, now);
        let mut dropped = Vec::new();
        for k in 0..PENDING_LIMIT + 1 {
            dropped.extend(c.hold(ip("192.0.2.9"), 0, 2 + k, now).1);
        }
        // The oldest go first: the first packet, then the second.
        assert_eq!(dropped, vec![1, 2]);
        assert_eq!(c.overflow_drops, 2);
        let mut asks = 1;
        let mut failed = Vec::new();
        for _ in 0..10 {
            let Some(t) = c.poll_timeout() else { break };
            now = t;
            let e = c.on_timeout(now);
            asks += e.ask.len();
            failed.extend(e.failed);
        }
        assert_eq!(asks, MAX_PROBES as usize);
        // The packets still waiting come back with the failure, for their ICMP errors.
        assert_eq!(failed, vec![(ip("192.0.2.9"), (3..PENDING_LIMIT + 3).collect::<Vec<_>>())]);
        assert_eq!(now, Instant::ZERO + RETRANS_TIMER * MAX_PROBES);
    }
}
