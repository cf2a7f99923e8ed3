//! Throughput of the simulator. Speed targets live here (`cargo bench`), never in timed unit tests.
//!
//! - `engine/*`: the classic "hold" model of event-queue benchmarking: N events pending; each step
//!   pops the earliest and schedules one new event at now + a random delay, so the queue stays at
//!   N. One element = one pop + one schedule. `osilab` is [`EventQueue`]; `binary-heap` is the same
//!   workload (same seeded delays) on a bare `std::collections::BinaryHeap<Reverse<(time, seq)>>`
//!   holding the events inline with no cancellation and no slab, the floor a generic queue is
//!   measured against. The target: at least 5 million events/s.
//! - `chat-room/*` (the lead's): the chat room with 1,000 clients, see the placeholder below.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use osilab::rng::Rng;
use osilab::sim::engine::EventQueue;
use osilab::time::Instant;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

/// Pops (and as many schedules) per measured iteration.
const STEPS: u64 = 100_000;
/// Mean delays of a new event, ns (the delays are uniform on [0, 2 × mean)): 1 µs makes many
/// events share an instant (100k events over 2 µs), as a busy LAN does; 1 ms spreads them out, as
/// timers do.
const MEAN_DELAYS: [(&str, u64); 2] = [("1us", 1_000), ("1ms", 1_000_000)];

/// A payload of the size a world's event might have (an id and a kind).
#[derive(Debug, Clone, Copy)]
struct Ev {
    target: u32,
    kind: u32,
}

/// The `EventQueue` hold model: `steps` pops, each scheduling one event.
fn hold_osilab(q: &mut EventQueue<Ev>, rng: &mut Rng, mean: u64, steps: u64) -> u64 {
    let mut sum = 0u64;
    for _ in 0..steps {
        let Some((_, ev)) = q.pop() else { break };
        sum = sum.wrapping_add(u64::from(ev.target));
        let delay = Duration::from_nanos(rng.next_u64() % (2 * mean));
        q.schedule_in(delay, Ev { target: ev.target, kind: ev.kind ^ 1 });
    }
    sum
}

/// The same hold model on a bare `BinaryHeap`, events inline, (time, seq) ordering.
fn hold_binary_heap(
    h: &mut BinaryHeap<Reverse<(u64, u64, u32, u32)>>,
    seq: &mut u64,
    rng: &mut Rng,
    mean: u64,
    steps: u64,
) -> u64 {
    let mut sum = 0u64;
    for _ in 0..steps {
        let Some(Reverse((now, _, target, kind))) = h.pop() else { break };
        sum = sum.wrapping_add(u64::from(target));
        let at = now + rng.next_u64() % (2 * mean);
        *seq += 1;
        h.push(Reverse((at, *seq, target, kind ^ 1)));
    }
    sum
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(STEPS));
    for (label, mean) in MEAN_DELAYS {
        for pending in [1_000u32, 100_000] {
            g.bench_function(BenchmarkId::new(format!("osilab-{label}"), pending), |b| {
                let mut rng = Rng::new(1);
                let mut q = EventQueue::with_capacity(pending as usize);
                for i in 0..pending {
                    q.schedule(Instant::from_nanos(rng.next_u64() % (2 * mean)), Ev { target: i, kind: 0 });
                }
                b.iter(|| black_box(hold_osilab(&mut q, &mut rng, mean, STEPS)));
                assert_eq!(q.len(), pending as usize);
            });
            g.bench_function(BenchmarkId::new(format!("binary-heap-{label}"), pending), |b| {
                let mut rng = Rng::new(1);
                let mut h = BinaryHeap::with_capacity(pending as usize);
                let mut seq = 0u64;
                for i in 0..pending {
                    seq += 1;
                    h.push(Reverse((rng.next_u64() % (2 * mean), seq, i, 0u32)));
                }
                b.iter(|| black_box(hold_binary_heap(&mut h, &mut seq, &mut rng, mean, STEPS)));
                assert_eq!(h.len(), pending as usize);
            });
        }
    }
    g.finish();
}

// The chat room with 1,000 clients (the second benchmark) goes here, as a `chat-room`
// group: load fixtures/scenarios/chat-room.toml scaled to 1,000 clients, run it to the end, and
// report events/s (Throughput::Elements = events the run popped) and the run's wall time.
// It needs the world (src/sim/world.rs, the lead's), so it is added with it.

criterion_group!(benches, engine);
criterion_main!(benches);
