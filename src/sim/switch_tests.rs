//! Switch tests: learning, flooding, forwarding, filtering, station moves, ageing, the table
//! limit, frames the switch must drop (bad FCS, runts, giants), 802.1Q passing through, the
//! `show mac address-table` text, and arbitrary input.

use super::*;
use crate::error::ErrorKind;
use crate::layer::{Layer, Pdu};
use crate::layers::l2_data_link::{DataLink, DataLinkConfig, VlanTag};
use proptest::prelude::*;

const A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);
const B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0b]);
const C: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0c]);
const D: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0d]);

fn s(secs: f64) -> Instant {
    Instant::from_nanos((secs * 1e9) as u64)
}

/// A real Ethernet II frame (FCS included) from `src` to `dst`, built by L2.
fn frame_tagged(src: MacAddr, dst: MacAddr, vlan: Option<VlanTag>) -> Vec<u8> {
    let cfg = DataLinkConfig { local: src, remote: dst, vlan, promiscuous: false, capture: false };
    let mut sdu = Pdu::bytes(b"payload".to_vec());
    sdu.meta.ethertype = Some(0x0800);
    let mut cx = Context::default();
    let mut out = DataLink::new(cfg).encapsulate(sdu, &mut cx).expect("L2 frames it");
    out.remove(0).into_bytes(LayerId::DataLink).expect("bytes").0
}

fn frame(src: MacAddr, dst: MacAddr) -> Vec<u8> {
    frame_tagged(src, dst, None)
}

fn switch(ports: usize) -> Switch {
    Switch::new("sw1", ports, SwitchConfig::default()).unwrap()
}

/// Receive and return (egress ports, the record's title); checks the frames are unchanged.
fn rx(sw: &mut Switch, port: usize, f: &[u8], now: Instant) -> (Vec<usize>, String) {
    let mut cx = Context::new(now);
    let out = sw.receive(port, f, now, &mut cx);
    assert!(out.iter().all(|(_, g)| g == f), "frames are forwarded unchanged");
    assert_eq!(cx.trace.records.len(), 1, "one record per frame");
    let r = &cx.trace.records[0];
    assert_eq!((r.layer, r.protocol.as_ref()), (LayerId::DataLink, "switch"));
    (out.into_iter().map(|(p, _)| p).collect(), r.title.clone())
}

#[test]
fn learns_floods_then_forwards() {
    let mut sw = switch(4);
    let (ports, title) = rx(&mut sw, 1, &frame(A, B), s(0.0));
    assert_eq!(ports, [2, 3, 4], "B is unknown: flooded");
    assert_eq!(title, "Switch sw1: learned 02:00:00:00:00:0a on port 1; flooded to ports 2, 3, 4");
    assert_eq!(sw.lookup(A, s(0.0)), Some(1));

    let (ports, title) = rx(&mut sw, 3, &frame(B, A), s(0.1));
    assert_eq!(ports, [1], "A is known on port 1");
    assert_eq!(title, "Switch sw1: learned 02:00:00:00:00:0b on port 3; forwarded to port 1");

    let (ports, title) = rx(&mut sw, 1, &frame(A, B), s(0.2));
    assert_eq!(ports, [3]);
    assert_eq!(title, "Switch sw1: forwarded to port 3", "a refresh is not news");
    let st = sw.stats();
    assert_eq!((st.received, st.flooded, st.forwarded, st.learned), (3, 1, 2, 2));
}

#[test]
fn group_destinations_flood_and_group_sources_are_not_learned() {
    let mut sw = switch(3);
    rx(&mut sw, 2, &frame(B, A), s(0.0));
    let (ports, title) = rx(&mut sw, 1, &frame(A, MacAddr::BROADCAST), s(0.0));
    assert_eq!(ports, [2, 3]);
    assert!(title.ends_with("flooded to ports 2, 3"), "{title}");
    // A multicast destination floods even though it could never be learned.
    let mcast = MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]);
    assert_eq!(rx(&mut sw, 3, &frame(C, mcast), s(0.0)).0, [1, 2]);
    // A frame claiming a group source is forwarded by its destination but teaches nothing.
    let mut bogus = frame(C, A);
    bogus[6] |= 0x01;
    let n = bogus.len();
    let crc = crate::layers::l2_data_link::fcs(&bogus[..n - 4]);
    bogus[n - 4..].copy_from_slice(&crc.to_le_bytes());
    let (ports, _) = rx(&mut sw, 2, &bogus, s(0.0));
    assert_eq!(ports, [1]);
    assert_eq!(sw.mac_table(s(0.0)).len(), 3, "A, B and C; not the group address");
}

#[test]
fn a_destination_on_the_ingress_port_is_filtered() {
    // A and C share port 1 (a hub behind it): C → A never leaves port 1.
    let mut sw = switch(4);
    rx(&mut sw, 1, &frame(A, B), s(0.0));
    let (ports, title) = rx(&mut sw, 1, &frame(C, A), s(0.0));
    assert!(ports.is_empty());
    assert_eq!(title, "Switch sw1: learned 02:00:00:00:00:0c on port 1; filtered (destination on the ingress port)");
    assert_eq!(sw.stats().filtered, 1);
}

#[test]
fn reserved_addresses_are_never_relayed() {
    let mut sw = switch(4);
    // 01-80-C2-00-00-00: the STP bridge group address (IEEE 802.1D §7.12.6).
    let (ports, title) = rx(&mut sw, 2, &frame(A, MacAddr([0x01, 0x80, 0xc2, 0, 0, 0])), s(0.0));
    assert!(ports.is_empty());
    assert!(title.ends_with("filtered (IEEE 802.1D reserved address, not relayed)"), "{title}");
    // 01-80-C2-00-00-10 is outside the reserved block: flooded.
    assert_eq!(rx(&mut sw, 2, &frame(A, MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x10])), s(0.0)).0, [1, 3, 4]);
}

#[test]
fn a_station_that_moves_is_followed() {
    let mut sw = switch(4);
    rx(&mut sw, 1, &frame(A, B), s(0.0));
    let (_, title) = rx(&mut sw, 4, &frame(A, B), s(1.0));
    assert_eq!(title, "Switch sw1: 02:00:00:00:00:0a moved from port 1 to port 4; flooded to ports 1, 2, 3");
    assert_eq!(sw.lookup(A, s(1.0)), Some(4));
    assert_eq!(rx(&mut sw, 2, &frame(B, A), s(1.0)).0, [4]);
    assert_eq!(sw.stats().moved, 1);
}

#[test]
fn entries_age_out() {
    let cfg = SwitchConfig { ageing: Duration::from_secs(10), ..SwitchConfig::default() };
    let mut sw = Switch::new("sw1", 3, cfg).unwrap();
    rx(&mut sw, 1, &frame(A, B), s(0.0));
    rx(&mut sw, 2, &frame(B, A), s(5.0));
    assert_eq!(sw.lookup(A, s(9.999)), Some(1));
    assert_eq!(sw.mac_table(s(9.0)), vec![(A, 1, Duration::from_secs(9)), (B, 2, Duration::from_secs(4))]);
    // 10 s without a frame from A: gone, so frames to A flood again.
    assert_eq!(sw.lookup(A, s(10.0)), None);
    assert_eq!(rx(&mut sw, 2, &frame(B, A), s(10.0)).0, [1, 3]);
    assert_eq!(sw.mac_table(s(10.0)), vec![(B, 2, Duration::ZERO)], "B's frame refreshed B");
    // A frame from A restarts its entry; an aged entry relearned counts as learned again.
    let (_, title) = rx(&mut sw, 1, &frame(A, B), s(12.0));
    assert!(title.starts_with("Switch sw1: learned 02:00:00:00:00:0a on port 1;"), "{title}");
    assert_eq!(sw.stats().aged_out, 1);
    // expire() frees the room of entries past their age.
    assert_eq!(sw.expire(s(20.0)), 1, "B, last seen at 10 s");
    assert_eq!(sw.mac_table(s(20.0)).len(), 1);
}

#[test]
fn a_full_table_evicts_the_oldest_entry() {
    let cfg = SwitchConfig { table_limit: 2, ..SwitchConfig::default() };
    let mut sw = Switch::new("sw1", 4, cfg).unwrap();
    rx(&mut sw, 1, &frame(A, D), s(1.0));
    rx(&mut sw, 2, &frame(B, D), s(2.0));
    rx(&mut sw, 1, &frame(A, D), s(3.0)); // A is now the more recent
    let mut cx = Context::new(s(4.0));
    sw.receive(3, &frame(C, D), s(4.0), &mut cx);
    assert_eq!(cx.trace.records[0].notes, ["the table was full (2 entries): evicted 02:00:00:00:00:0b"]);
    let macs: Vec<MacAddr> = sw.mac_table(s(4.0)).into_iter().map(|(m, _, _)| m).collect();
    assert_eq!(macs, [A, C]);
    assert_eq!(sw.stats().evicted, 1);
    // Aged entries make room before anything live is evicted.
    let cfg = SwitchConfig { table_limit: 2, ageing: Duration::from_secs(10) };
    let mut sw = Switch::new("sw1", 4, cfg).unwrap();
    rx(&mut sw, 1, &frame(A, D), s(0.0));
    rx(&mut sw, 2, &frame(B, D), s(8.0));
    rx(&mut sw, 3, &frame(C, D), s(11.0));
    let st = sw.stats();
    assert_eq!((st.evicted, st.aged_out), (0, 1));
    assert_eq!(sw.mac_table(s(11.0)).len(), 2);
}

#[test]
fn damaged_short_and_long_frames_are_dropped() {
    let mut sw = switch(3);
    let mut bad = frame(A, B);
    bad[20] ^= 0x04;
    let mut cx = Context::new(s(0.0));
    assert!(sw.receive(1, &bad, s(0.0), &mut cx).is_empty());
    let r = &cx.trace.records[0];
    assert_eq!(r.title, "Switch sw1: dropped: bad FCS");
    assert!(!r.checks[0].ok && r.checks[0].name == "eth.fcs.status");
    assert!(sw.mac_table(s(0.0)).is_empty(), "nothing is learned from a damaged frame");

    let good = frame(A, B);
    let (ports, title) = rx(&mut sw, 1, &good[..63], s(0.0));
    assert!(ports.is_empty() && title.contains("runt"), "{title}");
    let giant = vec![0u8; 1523];
    let (ports, title) = rx(&mut sw, 1, &giant, s(0.0));
    assert!(ports.is_empty() && title.contains("too long"), "{title}");
    for port in [0, 4] {
        let (ports, title) = rx(&mut sw, port, &good, s(0.0));
        assert!(ports.is_empty() && title.ends_with("dropped: no such port"), "{title}");
    }
    let st = sw.stats();
    assert_eq!((st.bad_fcs, st.runts, st.too_long, st.bad_port, st.received), (1, 1, 1, 2, 5));
    assert_eq!(st.learned, 0);
}

#[test]
fn tagged_frames_pass_through_unchanged() {
    let mut sw = switch(3);
    let tagged = frame_tagged(A, B, Some(VlanTag { pcp: 5, dei: false, id: 42 }));
    assert_eq!(&tagged[12..14], &[0x81, 0x00]);
    let mut cx = Context::new(s(0.0));
    let out = sw.receive(2, &tagged, s(0.0), &mut cx);
    assert_eq!(out, vec![(1, tagged.clone()), (3, tagged.clone())]);
    assert_eq!(sw.lookup(A, s(0.0)), Some(2));
}

#[test]
fn the_record_carries_wireshark_names() {
    let mut sw = switch(3);
    let mut cx = Context::new(s(0.0));
    sw.receive(1, &frame(A, B), s(0.0), &mut cx);
    let t = &cx.trace;
    assert_eq!(t.values("eth.src"), [&Value::Mac(A)]);
    assert_eq!(t.values("eth.dst"), [&Value::Mac(B)]);
    assert_eq!(t.values("switch.in_port"), [&Value::Uint(1)]);
    assert_eq!(t.values("switch.out_port"), [&Value::Uint(2), &Value::Uint(3)]);
    assert_eq!(t.values("switch.action"), [&Value::Text("flood".into())]);
    assert_eq!(
        t.records[0].summary,
        "port 1: 02:00:00:00:00:0a → 02:00:00:00:00:0b, 64-byte frame, flood (unknown unicast)"
    );
    assert!(t.all_checks_ok());
    // Without detail, the same fields and no text.
    let mut cx = Context { detail: false, ..Context::new(s(0.0)) };
    sw.receive(1, &frame(A, B), s(0.0), &mut cx);
    assert!(cx.trace.records[0].title.is_empty() && cx.trace.records[0].summary.is_empty());
    assert_eq!(cx.trace.values("switch.out_port").len(), 2, "B is still unknown");
}

#[test]
fn show_mac_address_table() {
    let mut sw = switch(4);
    rx(&mut sw, 1, &frame(A, B), s(0.0));
    rx(&mut sw, 3, &frame(B, A), s(42.5));
    let text = sw.mac_address_table(s(100.0)).to_string();
    assert_eq!(
        text,
        "          Mac Address Table (sw1 at 100.000000000 s)\n\
         -------------------------------------------\n\
         \n\
         Vlan    Mac Address       Type        Ports    Age (s)\n\
         ----    -----------       --------    -----    -------\n\
         \x20  1    0200.0000.000a    DYNAMIC     1        100\n\
         \x20  1    0200.0000.000b    DYNAMIC     3        57\n\
         Total Mac Addresses for this criterion: 2"
    );
}

#[test]
fn bad_settings_are_config_errors() {
    let msg = |r: Result<Switch>| match r {
        Err(Error { layer: Some(LayerId::DataLink), kind: ErrorKind::Config(m), .. }) => m,
        other => panic!("expected an L2 config error, got {other:?}"),
    };
    assert!(msg(Switch::new("sw9", 0, SwitchConfig::default())).contains("switch sw9 has no ports"));
    let zero_age = SwitchConfig { ageing: Duration::ZERO, ..SwitchConfig::default() };
    assert!(msg(Switch::new("sw1", 2, zero_age)).contains("ageing time is 0"));
    let no_room = SwitchConfig { table_limit: 0, ..SwitchConfig::default() };
    assert!(msg(Switch::new("sw1", 2, no_room)).contains("table limit is 0"));
}

#[test]
fn one_port_switch_floods_nowhere() {
    let mut sw = switch(1);
    let (ports, title) = rx(&mut sw, 1, &frame(A, B), s(0.0));
    assert!(ports.is_empty());
    assert!(title.ends_with("flooded to no port (the only port is the ingress)"), "{title}");
}

proptest! {
    /// Any bytes on any port: no panic, one record, and every frame sent on is the input.
    #[test]
    fn arbitrary_frames(bytes in proptest::collection::vec(any::<u8>(), 0..1600), port in 0usize..6) {
        let mut sw = switch(4);
        let mut cx = Context::new(s(0.0));
        let out = sw.receive(port, &bytes, s(0.0), &mut cx);
        prop_assert_eq!(cx.trace.records.len(), 1);
        prop_assert!(out.iter().all(|(p, f)| *f == bytes && (1..=4).contains(p) && *p != port));
        prop_assert!(out.is_empty() || fcs_ok(&bytes));
    }
}
