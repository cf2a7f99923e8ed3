//! Throughput of the simulator. Speed targets live here (`cargo bench`), never in timed unit tests.
//!
//! - `engine/*`: the classic "hold" model of event-queue benchmarking: N events pending; each step
//!   pops the earliest and schedules one new event at now + a random delay, so the queue stays at
//!   N. One element = one pop + one schedule. `osilab` is [`EventQueue`]; `binary-heap` is the same
//!   workload (same seeded delays) on a bare `std::collections::BinaryHeap<Reverse<(time, seq)>>`
//!   holding the events inline with no cancellation and no slab, the floor a generic queue is
//!   measured against. The target: at least 5 million events/s.
//! - `chat-room/N`: a whole chat room of N clients ([`ChatRoomSpec`]: 48-port access switches
//!   under a core switch, every client saying its messages and leaving), built and then run to
//!   its end with recording off. One element = one event the world handled
//!   ([`World::events`]), so the throughput is events/s of the whole simulator: devices, layers,
//!   PHY line coding and TCP included, not the queue alone. Building the world is not measured.
//!   The first run is checked ([`check_chat_room`]: every message delivered once, in order) and
//!   its wall time printed.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use osilab::rng::Rng;
use osilab::sim::build::{build, ProcessRef};
use osilab::sim::engine::EventQueue;
use osilab::sim::generate::{chat_room, check_chat_room, ChatRoomSpec};
use osilab::sim::world::World;
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

/// The chat rooms measured: (clients, messages each).
const ROOMS: [(usize, usize); 2] = [(100, 2), (1_000, 1)];

/// A chat room built and ready to run, with what to check after.
fn room(spec: &ChatRoomSpec) -> (World, Vec<ProcessRef>, Instant) {
    let sc = chat_room(spec).expect("the generated chat room loads");
    let (mut w, refs) = build(&sc, sc.seed).expect("the generated chat room builds");
    // Nobody reads the timeline or the pcaps of a benchmark run: keep none of it.
    w.set_recording(false);
    (w, refs, Instant::ZERO + sc.until)
}

/// Criterion's options that take a value (`--sample-size 10`): their values are no filters.
const VALUE_OPTIONS: &[&str] = &[
    "-c",
    "--color",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--profile-time",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
    "--format",
];

/// Whether criterion's filter (`cargo bench --bench sim -- FILTER`, its first positional
/// argument) may select `id`. The checked first run of a room takes seconds (a minute for 1,000
/// clients), so it is skipped when the filter names something else (`engine`, `chat-room/100`).
fn wanted(id: &str) -> bool {
    let mut args = std::env::args().skip(1);
    let mut filter = None;
    while let Some(a) = args.next() {
        if VALUE_OPTIONS.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            filter = Some(a);
            break;
        }
    }
    let Some(f) = filter else { return true };
    // "chat-room/100" selects chat-room/100, not chat-room/1000; "chat" selects both.
    id.find(f.as_str()).is_some_and(|i| !id[i + f.len()..].starts_with(|c: char| c.is_ascii_digit())) || f.contains(id)
}

fn chat(c: &mut Criterion) {
    let mut g = c.benchmark_group("chat-room");
    // A run takes seconds: ten runs, one each, rather than criterion's growing batches.
    g.sample_size(10);
    g.sampling_mode(criterion::SamplingMode::Flat);
    for (clients, messages) in ROOMS {
        if !wanted(&format!("chat-room/{clients}")) {
            continue;
        }
        let spec = ChatRoomSpec::new(clients, messages);
        // One run first, outside the measurement: it must deliver everything (a benchmark of a
        // broken room measures nothing), and its event count is every run's (same seed).
        let (mut w, refs, until) = room(&spec);
        let t = std::time::Instant::now();
        w.run(until);
        let wall = t.elapsed();
        let tally = check_chat_room(&w, &refs, messages).unwrap_or_else(|e| panic!("{clients} clients: {e}"));
        let events = w.events();
        eprintln!(
            "chat-room/{clients}: {events} events, {} lines relayed, {:.2} s wall, {:.2} M events/s (first run)",
            tally.relayed,
            wall.as_secs_f64(),
            events as f64 / wall.as_secs_f64() / 1e6
        );
        drop(w);
        g.throughput(Throughput::Elements(events));
        g.bench_function(BenchmarkId::from_parameter(clients), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // Building the world is not measured: the events are.
                    let (mut w, _, until) = room(&spec);
                    let t = std::time::Instant::now();
                    w.run(until);
                    total += t.elapsed();
                    assert_eq!(w.events(), events);
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, engine, chat);
criterion_main!(benches);
