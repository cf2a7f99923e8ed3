//! Link tests: serialization and propagation against `timing()`, the inter-frame gap, queueing
//! and tail drop, impairment rates over 10k frames with a fixed seed, bit errors caught by the
//! receiver's L1 or FCS on real frames, and the geometric sampling's mean and cost.

use super::*;
use crate::addr::MacAddr;
use crate::error::ErrorKind;
use crate::layer::{Context, Data, Layer, Pdu};
use crate::layers::l1_physical::{encode, frame_bits, Physical, PhysicalConfig};
use crate::layers::l2_data_link::{fcs_ok, DataLink, DataLinkConfig};

const A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);

fn t(ns: u64) -> Instant {
    Instant::from_nanos(ns)
}

/// A real Ethernet II frame (FCS included) from A to B carrying `payload_len` bytes, built by L2.
fn frame(payload_len: usize, fill: u8) -> Vec<u8> {
    let cfg = DataLinkConfig { local: A, remote: B, vlan: None, promiscuous: false, capture: false };
    let mut sdu = Pdu::bytes(vec![fill; payload_len]);
    sdu.meta.ethertype = Some(0x0800);
    let mut cx = Context::default();
    let mut out = DataLink::new(cfg).encapsulate(sdu, &mut cx).expect("L2 frames it");
    out.remove(0).into_bytes(LayerId::DataLink).expect("bytes").0
}

/// The frame as the link's line code puts it on the wire.
fn signal(cfg: &LinkConfig, frame: &[u8]) -> Signal {
    Signal {
        code: cfg.line_code,
        rate: cfg.bandwidth,
        start: Instant::ZERO,
        symbols: encode(cfg.line_code, &frame_bits(frame)),
    }
}

/// A small signal for tests that only look at times (the link does not read the symbols).
fn blip(cfg: &LinkConfig) -> Signal {
    Signal { code: cfg.line_code, rate: cfg.bandwidth, start: Instant::ZERO, symbols: Vec::new() }
}

fn delivered(o: Outcome) -> Vec<Delivery> {
    match o {
        Outcome::Delivered(d) => d,
        other => panic!("expected a delivery, got {other:?}"),
    }
}

fn dropped(o: &Outcome) -> Option<DropReason> {
    match o {
        Outcome::Dropped { reason, .. } => Some(*reason),
        Outcome::Delivered(_) => None,
    }
}

/// 10 Mbit/s: a bit time is 100 ns.
fn ten_meg() -> LinkConfig {
    LinkConfig { delay: Duration::from_micros(5), line_code: LineCode::NrzL, ..LinkConfig::default() }
}

#[test]
fn serialization_then_propagation() {
    let cfg = ten_meg();
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(1);
    let d = delivered(link.transmit(Dir::AtoB, blip(&cfg), 64, t(1_000), &mut rng));
    assert_eq!(d.len(), 1);
    // (8 preamble/SFD + 64) bytes × 8 = 576 bits × 100 ns = 57.6 µs, then 5 µs of cable.
    let tm = timing(LineCode::NrzL, BitRate(10_000_000), 64);
    assert_eq!(tm.duration, Duration::from_nanos(57_600));
    assert_eq!(d[0].start, t(1_000));
    assert_eq!(d[0].signal.start, t(1_000));
    assert_eq!(d[0].at, t(1_000) + tm.duration + Duration::from_micros(5));
    assert_eq!(d[0].at, t(63_600));
    assert!(!d[0].duplicate && !d[0].reordered && d[0].flipped == 0);
    // The medium is free after the frame and the 96-bit-time gap: 9.6 µs at 10 Mbit/s.
    assert_eq!(link.free_at(Dir::AtoB), t(1_000 + 57_600 + 9_600));
    assert_eq!(link.free_at(Dir::BtoA), Instant::ZERO, "the other direction is untouched");
}

#[test]
fn timing_follows_the_line_code_at_every_rate() {
    for code in LineCode::ALL {
        for (rate, len) in [(10_000_000, 64), (100_000_000, 1518), (1_000_000_000, 300)] {
            let cfg = LinkConfig { line_code: code, bandwidth: BitRate(rate), ..LinkConfig::default() };
            let mut link = Link::new(cfg.clone()).unwrap();
            let d = delivered(link.transmit(Dir::BtoA, blip(&cfg), len, t(7), &mut Rng::new(1)));
            let tm = timing(code, BitRate(rate), len);
            assert_eq!(d[0].at, t(7) + tm.duration + cfg.delay, "{code} {rate} {len}");
            assert_eq!(link.timing(len), tm);
        }
    }
}

#[test]
fn back_to_back_frames_keep_the_inter_frame_gap() {
    let cfg = ten_meg();
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(1);
    let tm = timing(cfg.line_code, cfg.bandwidth, 100);
    let first = delivered(link.transmit(Dir::AtoB, blip(&cfg), 100, t(0), &mut rng)).remove(0);
    let second = delivered(link.transmit(Dir::AtoB, blip(&cfg), 100, t(0), &mut rng)).remove(0);
    assert_eq!(second.start, first.start + tm.duration + tm.ifg);
    assert_eq!(second.at - first.at, tm.duration + Duration::from_nanos(9_600));
    // The other direction is full duplex: it starts at once.
    let back = delivered(link.transmit(Dir::BtoA, blip(&cfg), 100, t(0), &mut rng)).remove(0);
    assert_eq!(back.start, t(0));
    // A frame offered after the medium went idle starts when it is offered.
    let idle = t(10_000_000);
    let later = delivered(link.transmit(Dir::AtoB, blip(&cfg), 100, idle, &mut rng)).remove(0);
    assert_eq!(later.start, idle);
    // One offered during the gap waits for its end.
    let gap_end = link.free_at(Dir::AtoB);
    let in_gap = Instant::from_nanos(gap_end.as_nanos() - 1);
    let waited = delivered(link.transmit(Dir::AtoB, blip(&cfg), 100, in_gap, &mut rng)).remove(0);
    assert_eq!(waited.start, gap_end);
}

#[test]
fn a_full_queue_tail_drops() {
    let cfg = LinkConfig { queue_limit: 2, ..ten_meg() };
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(1);
    let tm = timing(cfg.line_code, cfg.bandwidth, 64);
    // The first goes on the wire at once; two wait; the fourth finds the queue full.
    let outs: Vec<Outcome> = (0..4).map(|_| link.transmit(Dir::AtoB, blip(&cfg), 64, t(0), &mut rng)).collect();
    let reasons: Vec<Option<DropReason>> = outs.iter().map(dropped).collect();
    assert_eq!(reasons, [None, None, None, Some(DropReason::QueueFull)]);
    assert_eq!(outs[3], Outcome::Dropped { reason: DropReason::QueueFull, sent: None });
    assert_eq!(link.queued(Dir::AtoB, t(0)), 2);
    // Once the second frame has started, one place is free again.
    let second_start = t(0) + tm.total();
    assert_eq!(link.queued(Dir::AtoB, second_start), 1);
    let ok = delivered(link.transmit(Dir::AtoB, blip(&cfg), 64, second_start, &mut rng)).remove(0);
    assert_eq!(ok.start, t(0) + tm.total() + tm.total() + tm.total());
    assert_eq!(dropped(&link.transmit(Dir::AtoB, blip(&cfg), 64, second_start, &mut rng)), Some(DropReason::QueueFull));
    let s = link.stats().dir(Dir::AtoB);
    assert_eq!((s.offered, s.sent, s.drops(DropReason::QueueFull)), (6, 4, 2));
    assert_eq!(s.bytes_sent, 4 * 64);
}

#[test]
fn an_unlimited_queue_never_drops() {
    let cfg = LinkConfig { queue_limit: 0, ..ten_meg() };
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(1);
    for _ in 0..5_000 {
        assert!(dropped(&link.transmit(Dir::AtoB, blip(&cfg), 1518, t(0), &mut rng)).is_none());
    }
    assert_eq!(link.queued(Dir::AtoB, t(0)), 4_999);
}

#[test]
fn frames_over_the_mtu_and_foreign_signals_are_refused() {
    let cfg = LinkConfig { mtu: 576, ..ten_meg() };
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(1);
    assert_eq!(cfg.max_frame_len(), 576 + 14 + 4 + 4);
    assert!(dropped(&link.transmit(Dir::AtoB, blip(&cfg), 598, t(0), &mut rng)).is_none());
    assert_eq!(dropped(&link.transmit(Dir::AtoB, blip(&cfg), 599, t(0), &mut rng)), Some(DropReason::TooBig));
    let manchester = Signal { code: LineCode::Manchester, ..blip(&cfg) };
    assert_eq!(dropped(&link.transmit(Dir::AtoB, manchester, 64, t(0), &mut rng)), Some(DropReason::Incompatible));
    let fast = Signal { rate: BitRate(100_000_000), ..blip(&cfg) };
    assert_eq!(dropped(&link.transmit(Dir::AtoB, fast, 64, t(0), &mut rng)), Some(DropReason::Incompatible));
    // Refused frames never occupy the medium.
    let s = link.stats().dir(Dir::AtoB);
    assert_eq!((s.offered, s.sent, s.total_drops()), (4, 1, 3));
}

#[test]
fn validate_names_the_bad_setting() {
    let bad = |c: LinkConfig| match Link::new(c) {
        Err(Error { layer: Some(LayerId::Physical), kind: ErrorKind::Config(m), .. }) => m,
        other => panic!("expected an L1 config error, got {other:?}"),
    };
    assert!(bad(LinkConfig { bandwidth: BitRate(0), ..LinkConfig::default() }).contains("bandwidth"));
    assert!(bad(LinkConfig { mtu: 67, ..LinkConfig::default() }).contains("MTU 67"));
    assert!(bad(LinkConfig { mtu: 9001, ..LinkConfig::default() }).contains("MTU 9001"));
    assert!(bad(LinkConfig { loss: 1.5, ..LinkConfig::default() }).contains("loss 1.5"));
    assert!(bad(LinkConfig { bit_error_rate: -0.1, ..LinkConfig::default() }).contains("bit error rate"));
    assert!(bad(LinkConfig { duplicate: f64::NAN, ..LinkConfig::default() }).contains("duplicate NaN"));
    assert!(bad(LinkConfig { reorder: 0.1, reorder_delay: Duration::ZERO, ..LinkConfig::default() })
        .contains("reorder delay"));
    assert!(Link::new(LinkConfig { mtu: 68, loss: 1.0, ..LinkConfig::default() }).is_ok());
    let msg = Link::new(LinkConfig { loss: 2.0, ..LinkConfig::default() }).unwrap_err().to_string();
    assert_eq!(msg, "L1 physical: link loss 2 is not a probability in [0, 1]");
}

#[test]
fn no_impairments_draw_no_random_numbers() {
    let cfg = ten_meg();
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(9);
    for i in 0..100 {
        link.transmit(Dir::AtoB, blip(&cfg), 64, t(i * 1_000_000), &mut rng);
    }
    assert_eq!(rng.next_u64(), Rng::new(9).next_u64());
}

/// 10k back-to-back frames through `cfg`, returning every delivery with its frame number.
fn run_10k(cfg: &LinkConfig, seed: u64) -> (Vec<(usize, Delivery)>, LinkStats) {
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let tm = timing(cfg.line_code, cfg.bandwidth, 64);
    for i in 0..10_000u32 {
        // Offered as fast as the medium takes them, so the queue never fills.
        let now = Instant::ZERO + tm.total() * i;
        if let Outcome::Delivered(ds) = link.transmit(Dir::AtoB, blip(cfg), 64, now, &mut rng) {
            out.extend(ds.into_iter().map(|d| (i as usize, d)));
        }
    }
    (out, link.stats().clone())
}

/// |observed − n·p| within 5 standard deviations of the binomial.
fn within_bounds(observed: u64, n: u64, p: f64) -> bool {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    (observed as f64 - mean).abs() <= 5.0 * sd
}

#[test]
fn loss_duplication_and_reordering_rates() {
    let cfg = LinkConfig { loss: 0.1, duplicate: 0.05, reorder: 0.1, ..ten_meg() };
    let (ds, stats) = run_10k(&cfg, 2024);
    let s = stats.dir(Dir::AtoB);
    let lost = s.drops(DropReason::Loss);
    assert!(within_bounds(lost, 10_000, 0.1), "lost {lost}");
    assert!(within_bounds(s.duplicated, 10_000 - lost, 0.05), "duplicated {}", s.duplicated);
    let copies = 10_000 - lost + s.duplicated;
    assert!(within_bounds(s.reordered, copies, 0.1), "reordered {}", s.reordered);
    assert_eq!(ds.len() as u64, copies);
    assert_eq!(s.delivered, copies);
    assert_eq!(ds.iter().filter(|(_, d)| d.duplicate).count() as u64, s.duplicated);
    assert_eq!(ds.iter().filter(|(_, d)| d.reordered).count() as u64, s.reordered);
    assert!(ds.iter().all(|(_, d)| d.flipped == 0), "no bit errors configured");

    // A duplicate is the same frame again, one frame time later (unless itself reordered).
    let tm = timing(cfg.line_code, cfg.bandwidth, 64);
    for w in ds.windows(2) {
        let ((i, a), (j, b)) = (&w[0], &w[1]);
        if b.duplicate && i == j && !a.reordered && !b.reordered {
            assert_eq!(b.at - a.at, tm.total());
            assert_eq!(a.signal.symbols, b.signal.symbols);
        }
    }
    // A reordered frame arrives after frames sent after it: 1 ms holds back ~14 frame times
    // (the last few frames have nothing sent after them).
    let mut overtaken = 0;
    for (n, (i, d)) in ds.iter().enumerate() {
        let held = d.reordered && !d.duplicate && *i < 9_990;
        if held && ds.iter().skip(n + 1).take(40).any(|(j, e)| j > i && e.at < d.at) {
            overtaken += 1;
        }
    }
    let reordered_originals = ds.iter().filter(|(i, d)| d.reordered && !d.duplicate && *i < 9_990).count();
    assert!(reordered_originals > 500);
    assert_eq!(overtaken, reordered_originals, "every held-back frame is overtaken");
    // Arrival order is not send order, and the same seed gives the same run.
    let mut arrivals: Vec<(Instant, usize)> = ds.iter().map(|(i, d)| (d.at, *i)).collect();
    arrivals.sort();
    assert!(arrivals.windows(2).any(|w| w[0].1 > w[1].1));
    assert_eq!(run_10k(&cfg, 2024).0, ds);
    assert_ne!(run_10k(&cfg, 2025).0, ds);
}

#[test]
fn loss_happens_on_the_wire() {
    let cfg = LinkConfig { loss: 1.0, ..ten_meg() };
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(1);
    assert_eq!(
        link.transmit(Dir::AtoB, blip(&cfg), 64, t(5), &mut rng),
        Outcome::Dropped { reason: DropReason::Loss, sent: Some(t(5)) }
    );
    // The lost frame still took the medium for its time and gap.
    assert_eq!(link.free_at(Dir::AtoB), t(5) + timing(cfg.line_code, cfg.bandwidth, 64).total());
}

/// Send `n` real frames through a link with bit errors; decode each copy with the receiver's L1
/// and check its FCS. Returns (frames with flips, frames without).
fn ber_through_receiver(code: LineCode, ber: f64, n: usize) -> (usize, usize) {
    let cfg = LinkConfig { line_code: code, bit_error_rate: ber, ..ten_meg() };
    let mut link = Link::new(cfg.clone()).unwrap();
    let mut rng = Rng::new(77);
    let mut rx = Physical::new(PhysicalConfig { code, rate: cfg.bandwidth, bit_error_rate: 0.0, seed: 0 });
    let (mut bad, mut good) = (0, 0);
    for i in 0..n {
        let f = frame(46 + i % 200, i as u8);
        let now = Instant::ZERO + Duration::from_millis(i as u64);
        for d in delivered(link.transmit(Dir::AtoB, signal(&cfg, &f), f.len(), now, &mut rng)) {
            let mut cx = Context::new(d.at);
            let up = rx.decapsulate(Pdu { data: Data::Signal(d.signal), meta: Default::default() }, &mut cx);
            let got = match up {
                Ok(Some(Pdu { data: Data::Bytes(b), .. })) => Some(b),
                Ok(_) => panic!("L1 passes up bytes or fails"),
                Err(e) => {
                    assert!(d.flipped > 0, "an intact signal decodes: {e}");
                    None
                }
            };
            if d.flipped == 0 {
                assert_eq!(got.as_deref(), Some(&f[..]), "an intact frame arrives as sent");
                good += 1;
            } else {
                // Caught by L1 (code violation, preamble) or by the FCS.
                if let Some(b) = got {
                    assert!(!fcs_ok(&b), "frame {i}: {} flipped symbols, yet the FCS verifies", d.flipped);
                }
                bad += 1;
            }
        }
    }
    (bad, good)
}

#[test]
fn bit_errors_are_caught_by_the_receiver() {
    for code in [LineCode::NrzL, LineCode::Nrzi, LineCode::Manchester, LineCode::FourBFiveB, LineCode::Mlt3] {
        let (bad, good) = ber_through_receiver(code, 2e-4, 400);
        assert!(bad > 20 && good > 20, "{code}: {bad} corrupted, {good} intact");
    }
}

#[test]
fn a_flipped_bit_fails_the_fcs_at_l2() {
    // NRZ-L: one flipped symbol is one flipped bit; put it in the payload and L2 must refuse.
    let cfg = LinkConfig { line_code: LineCode::NrzL, ..ten_meg() };
    let f = frame(100, 0x5a);
    let mut s = signal(&cfg, &f);
    let bit = (8 + 30) * 8 + 3;
    s.symbols[bit] = s.symbols[bit].flipped();
    let mut cx = Context::default();
    let mut rx =
        Physical::new(PhysicalConfig { code: cfg.line_code, rate: cfg.bandwidth, bit_error_rate: 0.0, seed: 0 });
    let up = rx.decapsulate(Pdu { data: Data::Signal(s), meta: Default::default() }, &mut cx).unwrap().unwrap();
    let l2 = DataLinkConfig { local: B, remote: A, vlan: None, promiscuous: false, capture: false };
    let err = DataLink::new(l2).decapsulate(up, &mut cx).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Checksum { .. }), "{err}");
    assert_eq!(err.layer, Some(LayerId::DataLink));
}

#[test]
fn geometric_sampling_has_the_expected_mean() {
    let mut rng = Rng::new(5);
    // 1000 frames of 24,000 symbols (a 1518-byte frame in Manchester is about that) at 1e-3.
    let mut total = 0u64;
    for _ in 0..1_000 {
        let mut sym = vec![Level::Low; 24_000];
        let n = flip_symbols(&mut sym, 1e-3, &mut rng);
        assert_eq!(sym.iter().filter(|&&l| l == Level::High).count(), n, "n counts the flipped symbols");
        total += n as u64;
    }
    assert!(within_bounds(total, 24_000_000, 1e-3), "{total} flips, expected about 24,000");
    // At 1e-6 over 10k such frames: about 240.
    let mut total = 0u64;
    let mut sym = vec![Level::Low; 24_000];
    for _ in 0..10_000 {
        total += flip_symbols(&mut sym, 1e-6, &mut rng) as u64;
    }
    assert!(within_bounds(total, 240_000_000, 1e-6), "{total} flips, expected about 240");
    // Where the errors land is uniform: the halves of a frame get about the same share.
    let mut halves = [0u64; 2];
    for _ in 0..2_000 {
        let mut sym = vec![Level::Low; 1_000];
        flip_symbols(&mut sym, 0.01, &mut rng);
        for (i, l) in sym.iter().enumerate() {
            if *l == Level::High {
                halves[i / 500] += 1;
            }
        }
    }
    assert!(within_bounds(halves[0], halves[0] + halves[1], 0.5), "{halves:?}");
}

#[test]
fn geometric_sampling_costs_one_draw_per_error_plus_one() {
    let mut sym = vec![Level::Low; 24_000];
    let mut rng = Rng::new(11);
    let mut reference = rng.clone();
    let n = flip_symbols(&mut sym, 1e-6, &mut rng);
    for _ in 0..=n {
        reference.next_u64();
    }
    assert_eq!(rng.next_u64(), reference.next_u64(), "{n} errors, {} draws expected", n + 1);
    // The extremes draw nothing.
    let mut r0 = Rng::new(3);
    assert_eq!(flip_symbols(&mut sym, 0.0, &mut r0), 0);
    assert_eq!(flip_symbols(&mut sym, 1.0, &mut r0), 24_000);
    assert_eq!(r0.next_u64(), Rng::new(3).next_u64());
    assert_eq!(flip_symbols(&mut [], 0.5, &mut r0), 0);
}
