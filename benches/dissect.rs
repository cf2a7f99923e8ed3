//! Throughput of `osilab dissect` (frames per second), on a large capture generated from the real
//! captures in fixtures/captures: every frame of every fixture, repeated with rising timestamps,
//! read back through the streaming reader, dissected up the stack and written as `-T fields`
//! with the field list to a sink, which is what `osilab dissect -e …` does.
//!
//! To compare with tshark on the same capture, set `OSILAB_BENCH_PCAP=/tmp/big.pcap`: the bench
//! also writes the generated capture there, and
//! `time tshark -n -r /tmp/big.pcap -T fields -e … > /dev/null` gives tshark's frames/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use osilab::capture::CaptureReader;
use osilab::dissect::output::{Format, Writer};
use osilab::dissect::Dissector;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

const FIELDS: &str = "frame.len eth.src eth.dst eth.type vlan.id arp.opcode arp.src.proto_ipv4 \
    arp.dst.proto_ipv4 ip.version ip.hdr_len ip.len ip.id ip.flags.mf ip.frag_offset ip.ttl ip.proto ip.checksum \
    ip.src ip.dst ipv6.plen ipv6.nxt ipv6.hlim ipv6.src ipv6.dst icmp.type icmp.code icmpv6.type tcp.srcport \
    tcp.dstport tcp.seq_raw tcp.ack_raw tcp.hdr_len tcp.flags tcp.window_size_value tcp.checksum tcp.len \
    tcp.options.mss_val udp.srcport udp.dstport udp.length udp.checksum dns.id dns.flags.response dns.qry.name \
    dns.qry.type dns.a dns.aaaa http.request.method http.request.uri http.response.code";

/// How many frames the generated capture holds.
const FRAMES: usize = 200_000;

/// The Ethernet frames of the Ethernet-link fixtures, in file order.
fn fixture_frames() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/captures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    let mut frames = Vec::new();
    for f in files {
        let mut r = CaptureReader::open(&f).expect("fixture opens");
        while let Some(Ok(fr)) = r.next_frame() {
            if fr.link == osilab::capture::LinkType::Ethernet {
                frames.push(fr.data.to_vec());
            }
        }
    }
    assert!(!frames.is_empty(), "no Ethernet frames in fixtures/captures");
    frames
}

/// A classic pcap of `FRAMES` frames cycling through the fixtures' frames, 10 µs apart.
fn big_capture() -> Vec<u8> {
    let frames = fixture_frames();
    let header = PcapHeader { datalink: DataLink::ETHERNET, ..PcapHeader::default() };
    let mut w = PcapWriter::with_header(Vec::new(), header).expect("pcap header");
    for i in 0..FRAMES {
        let f = &frames[i % frames.len()];
        let ts = Duration::from_micros(1_700_000_000_000_000 + 10 * i as u64);
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, f)).expect("pcap record");
    }
    w.into_writer()
}

fn dissect_all(pcap: &[u8], fields: &[String]) -> u64 {
    let mut reader = CaptureReader::new(Cursor::new(pcap)).expect("reads");
    let mut d = Dissector::new().expect("dissector");
    // As `osilab dissect -e …` does: values only, no human text.
    d.set_detail(false);
    let mut out = Writer::new(std::io::sink(), Format::Fields, fields.to_vec());
    while let Some(Ok(f)) = reader.next_frame() {
        let x = d.dissect(&f);
        out.frame(&x).expect("sink");
        d.recycle(x);
    }
    let n = out.written();
    let _ = out.finish(&d.finish());
    n
}

fn dissect(c: &mut Criterion) {
    let pcap = big_capture();
    if let Ok(path) = std::env::var("OSILAB_BENCH_PCAP") {
        std::fs::write(&path, &pcap).expect("write OSILAB_BENCH_PCAP");
        eprintln!("wrote the generated capture ({FRAMES} frames) to {path}");
    }
    let fields: Vec<String> = FIELDS.split_whitespace().map(String::from).collect();
    let mut g = c.benchmark_group("dissect");
    g.sample_size(10);
    g.throughput(Throughput::Elements(FRAMES as u64));
    g.bench_function("fields-200k-frames", |b| b.iter(|| assert_eq!(dissect_all(&pcap, &fields), FRAMES as u64)));
    g.finish();
}

criterion_group!(benches, dissect);
criterion_main!(benches);
