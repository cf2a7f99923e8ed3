//! Throughput of the pipeline. Speed targets live here (`cargo bench`), never in timed unit tests.
//!
//! - `exchange/*`: one message down the sender's stack and up the receiver's, every layer's
//!   trace included (what `osilab send` does), for a small chat line and a 3000-byte message that
//!   TCP segments and UDP fragments.
//! - `l1/*`: line-coding and decoding one full-size (1518-byte) frame.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use osilab::layers::l1_physical::{decode, encode, frame_bits, LineCode};
use osilab::layers::l4_transport::TransportKind;
use osilab::stack::{Exchange, StackConfig};
use std::hint::black_box;

fn exchange(c: &mut Criterion) {
    let mut g = c.benchmark_group("exchange");
    for (name, kind, len) in [
        ("tcp-11B", TransportKind::Tcp, 11),
        ("tcp-3000B", TransportKind::Tcp, 3000),
        ("udp-3000B-fragmented", TransportKind::Udp, 3000),
    ] {
        let cfg = StackConfig { transport: kind, line_code: LineCode::NrzL, ..StackConfig::default() };
        let msg = vec![b'x'; len];
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &msg, |b, msg| {
            b.iter(|| {
                let x = Exchange::run(&cfg, black_box(msg)).expect("runs");
                assert!(x.delivered_intact());
                x
            })
        });
    }
    g.finish();
}

fn line_codes(c: &mut Criterion) {
    let mut g = c.benchmark_group("l1");
    let frame = vec![0xa5u8; 1518];
    let bits = frame_bits(&frame);
    g.throughput(Throughput::Bytes(frame.len() as u64));
    for code in LineCode::ALL {
        let symbols = encode(code, &bits);
        g.bench_function(BenchmarkId::new("encode", code), |b| b.iter(|| encode(code, black_box(&bits))));
        g.bench_function(BenchmarkId::new("decode", code), |b| {
            b.iter(|| decode(code, black_box(&symbols)).expect("decodes"))
        });
    }
    g.finish();
}

criterion_group!(benches, exchange, line_codes);
criterion_main!(benches);
