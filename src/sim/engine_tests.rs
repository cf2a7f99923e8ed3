//! Engine tests: order by time then scheduling order, cancellation, clamping of past times,
//! determinism, and the queue against a sorted reference on random workloads.

use super::*;
use crate::rng::Rng;
use proptest::prelude::*;

fn t(ns: u64) -> Instant {
    Instant::from_nanos(ns)
}

fn drain<E>(q: &mut EventQueue<E>) -> Vec<(u64, E)> {
    std::iter::from_fn(|| q.pop()).map(|(at, e)| (at.as_nanos(), e)).collect()
}

#[test]
fn pops_by_time_then_scheduling_order() {
    let mut q = EventQueue::new();
    q.schedule(t(30), "c");
    q.schedule(t(10), "a1");
    q.schedule(t(20), "b");
    q.schedule(t(10), "a2");
    q.schedule(t(10), "a3");
    assert_eq!(q.len(), 5);
    assert_eq!(q.peek_time(), Some(t(10)));
    assert_eq!(drain(&mut q), vec![(10, "a1"), (10, "a2"), (10, "a3"), (20, "b"), (30, "c")]);
    assert_eq!(q.now(), t(30));
    assert!(q.is_empty());
    assert_eq!(q.pop(), None);
    assert_eq!(q.popped(), 5);
}

#[test]
fn pop_advances_now_and_schedule_in_is_relative() {
    let mut q = EventQueue::new();
    q.schedule(t(1_000), 1);
    assert_eq!(q.pop(), Some((t(1_000), 1)));
    assert_eq!(q.now(), t(1_000));
    q.schedule_in(Duration::from_micros(2), 2);
    assert_eq!(q.peek_time(), Some(t(3_000)));
    // An event scheduled while running another at the same instant comes after those already due.
    q.schedule_in(Duration::ZERO, 3);
    assert_eq!(drain(&mut q), vec![(1_000, 3), (3_000, 2)]);
}

#[test]
fn cancel_removes_only_the_named_event() {
    let mut q = EventQueue::new();
    let a = q.schedule(t(5), 'a');
    let b = q.schedule(t(5), 'b');
    let c = q.schedule(t(7), 'c');
    assert!(q.is_pending(b));
    assert!(q.cancel(b));
    assert!(!q.is_pending(b));
    assert!(!q.cancel(b), "a second cancel does nothing");
    assert_eq!(q.len(), 2);
    // Cancelling the top keeps peek_time exact.
    assert!(q.cancel(a));
    assert_eq!(q.peek_time(), Some(t(7)));
    assert_eq!(drain(&mut q), vec![(7, 'c')]);
    assert!(!q.cancel(c), "an event that ran cannot be cancelled");
    assert_eq!(q.peek_time(), None);
}

#[test]
fn stale_handle_does_not_cancel_the_slots_next_event() {
    let mut q = EventQueue::new();
    let old = q.schedule(t(1), "old");
    assert_eq!(q.pop(), Some((t(1), "old")));
    // The freed slot is reused by the next event; the old handle must not touch it.
    let new = q.schedule(t(2), "new");
    assert_eq!(old.slot, new.slot, "the slab reuses freed slots");
    assert!(!q.cancel(old));
    assert!(q.is_pending(new));
    assert_eq!(q.pop(), Some((t(2), "new")));
}

#[test]
fn cancelled_events_deep_in_the_heap_are_skipped() {
    let mut q = EventQueue::new();
    let ids: Vec<EventId> = (0..100u64).map(|i| q.schedule(t(i * 10), i)).collect();
    for id in ids.iter().skip(1).step_by(2) {
        assert!(q.cancel(*id));
    }
    assert_eq!(q.len(), 50);
    let got: Vec<u64> = drain(&mut q).into_iter().map(|(_, e)| e).collect();
    assert_eq!(got, (0..100).step_by(2).collect::<Vec<_>>());
    assert_eq!(q.len(), 0);
}

#[test]
fn past_times_clamp_to_now_without_panicking() {
    let mut q = EventQueue::new();
    q.schedule(t(100), "first");
    q.schedule(t(100), "second");
    assert_eq!(q.pop(), Some((t(100), "first")));
    q.schedule(t(3), "late");
    q.schedule(Instant::ZERO, "later");
    assert_eq!(q.clamped(), 2);
    // Clamped to now, and after the event already due now.
    assert_eq!(drain(&mut q), vec![(100, "second"), (100, "late"), (100, "later")]);
    assert_eq!(q.now(), t(100));
}

#[test]
fn far_future_saturates() {
    let mut q = EventQueue::new();
    q.schedule(t(u64::MAX - 1), 1);
    assert_eq!(q.pop(), Some((t(u64::MAX - 1), 1)));
    q.schedule_in(Duration::from_secs(u64::MAX), 2);
    assert_eq!(q.pop(), Some((t(u64::MAX), 2)));
}

#[test]
fn pop_until_and_advance_to() {
    let mut q = EventQueue::new();
    q.schedule(t(10), 'a');
    q.schedule(t(20), 'b');
    assert_eq!(q.pop_until(t(15)), Some((t(10), 'a')));
    assert_eq!(q.pop_until(t(15)), None);
    assert_eq!(q.len(), 1);
    assert!(q.advance_to(t(15)));
    assert_eq!(q.now(), t(15));
    assert!(!q.advance_to(t(25)), "cannot skip the event at 20");
    assert!(!q.advance_to(t(5)), "cannot go back");
    assert_eq!(q.pop_until(t(20)), Some((t(20), 'b')));
}

/// The hold model the bench runs: same seed, same sequence of (time, event).
fn hold_run(seed: u64, pending: u64, steps: usize) -> Vec<(u64, u64)> {
    let mut rng = Rng::new(seed);
    let mut q = EventQueue::new();
    for i in 0..pending {
        q.schedule(t(rng.next_u64() % 1_000), i);
    }
    let mut out = Vec::new();
    for _ in 0..steps {
        let Some((at, e)) = q.pop() else { break };
        out.push((at.as_nanos(), e));
        // Delays in steps of 10 ns make many ties, which only the sequence number orders.
        q.schedule_in(Duration::from_nanos(rng.next_u64() % 5 * 10), e);
    }
    out
}

#[test]
fn deterministic_for_a_seed() {
    let a = hold_run(42, 500, 5_000);
    assert_eq!(a, hold_run(42, 500, 5_000));
    assert_ne!(a, hold_run(43, 500, 5_000));
    assert!(a.windows(2).all(|w| w[0].0 <= w[1].0), "time never runs backwards");
}

#[derive(Debug, Clone)]
enum Op {
    Schedule(u64),
    Cancel(usize),
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..50).prop_map(Op::Schedule),
        // Far apart: keys in the radix heap's high buckets.
        1 => (0u64..1 << 40).prop_map(Op::Schedule),
        1 => any::<usize>().prop_map(Op::Cancel),
        2 => Just(Op::Pop),
    ]
}

proptest! {
    /// Against a plain list sorted by (time, seq): same pops, same `len`, same `peek_time`.
    #[test]
    fn matches_a_sorted_reference(ops in proptest::collection::vec(op(), 0..300)) {
        let mut q = EventQueue::new();
        let mut ids = Vec::new();
        // Reference: pending (time, seq) pairs; the event's payload is its seq.
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Schedule(d) => {
                    // Offsets may point before now: both clamp.
                    let at = (now + d).saturating_sub(20);
                    let id = q.schedule(t(at), ids.len() as u64);
                    reference.push((at.max(now), id.seq()));
                    ids.push(id);
                }
                Op::Cancel(i) if !ids.is_empty() => {
                    let id = ids[i % ids.len()];
                    let was = reference.iter().position(|&(_, s)| s == id.seq());
                    prop_assert_eq!(q.cancel(id), was.is_some());
                    if let Some(p) = was {
                        reference.remove(p);
                    }
                }
                Op::Cancel(_) => {}
                Op::Pop => {
                    reference.sort();
                    let want = if reference.is_empty() { None } else { Some(reference.remove(0)) };
                    let got = q.pop().map(|(at, e)| (at.as_nanos(), e));
                    prop_assert_eq!(got, want);
                    if let Some((at, _)) = want {
                        now = at;
                    }
                }
            }
            reference.sort();
            prop_assert_eq!(q.len(), reference.len());
            prop_assert_eq!(q.peek_time().map(|i| i.as_nanos()), reference.first().map(|r| r.0));
        }
    }
}
