//! L1 tests: known signals worked out by hand from IEEE 802.3, timing numbers, round trips,
//! every kind of code violation, single-symbol errors, seeded bit errors, arbitrary input.

use super::*;
use crate::error::ErrorKind;
use proptest::prelude::*;

fn cfg(code: LineCode, rate: u64) -> PhysicalConfig {
    PhysicalConfig { code, rate: BitRate(rate), bit_error_rate: 0.0, seed: 1 }
}

/// The levels of a string drawn with '+', '0', '-'.
fn levels(s: &str) -> Vec<Level> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '+' => Level::High,
            '0' => Level::Zero,
            '-' => Level::Low,
            other => panic!("bad level {other:?} in test"),
        })
        .collect()
}

/// Bits from a string of '0'/'1' (spaces ignored), in transmission order.
fn bit_string(s: &str) -> Bits {
    s.chars().filter(|c| !c.is_whitespace()).map(|c| c == '1').collect()
}

fn to_bit_string(b: &BitSlice<u8, Lsb0>) -> String {
    b.iter().by_vals().map(|x| if x { '1' } else { '0' }).collect()
}

/// A tiny independent NRZI reader: a change of level is a 1 (line starts Low).
fn nrzi_code_bits(symbols: &[Level]) -> String {
    let mut prev = Level::Low;
    symbols
        .iter()
        .map(|&l| {
            let b = if l != prev { '1' } else { '0' };
            prev = l;
            b
        })
        .collect()
}

fn send(phy: &mut Physical, frame: &[u8], cx: &mut Context) -> Signal {
    let mut out = phy.encapsulate(Pdu::bytes(frame.to_vec()), cx).unwrap();
    assert_eq!(out.len(), 1);
    match out.remove(0).data {
        Data::Signal(s) => s,
        Data::Bytes(_) => panic!("L1 produced bytes"),
    }
}

fn receive(signal: Signal) -> Result<Vec<u8>> {
    let mut phy = Physical::new(cfg(signal.code, signal.rate.bps()));
    let mut cx = Context::default();
    let pdu = Pdu { data: Data::Signal(signal), meta: crate::layer::Meta { offset: 99, ..Default::default() } };
    let up = phy.decapsulate(pdu, &mut cx)?.expect("L1 always produces a frame");
    assert_eq!(up.meta.offset, 0);
    Ok(up.into_bytes(LayerId::Physical)?.0)
}

fn signal(code: LineCode, symbols: Vec<Level>) -> Signal {
    Signal { code, rate: BitRate(100_000_000), start: Instant::ZERO, symbols }
}

fn code_error_bit(e: &Error) -> usize {
    match &e.kind {
        ErrorKind::Code { bit, .. } => *bit,
        other => panic!("expected an L1 code error, got {other:?}"),
    }
}

/// A minimum-size frame (64 bytes, FCS included) whose bytes are all different from their neighbours.
fn frame64() -> Vec<u8> {
    (0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect()
}

// ---- known signals ------------------------------------------------------------------------------

#[test]
fn preamble_and_sfd_bits_are_lsb_first() {
    let b = frame_bits(&[0x01]);
    assert_eq!(b.len(), 72);
    // 802.3 §3.2.2: the SFD is seen on the wire as 10101011.
    assert_eq!(to_bit_string(&b[56..64]), "10101011");
    assert_eq!(to_bit_string(&b[0..8]), "10101010");
    // 0x01 goes out least significant bit first.
    assert_eq!(to_bit_string(&b[64..72]), "10000000");
}

#[test]
fn nrz_and_nrzi_of_the_preamble() {
    let b = frame_bits(&[]);
    assert_eq!(levels_to_string(&encode(LineCode::NrzL, &b[0..8])), "+-+-+-+-");
    // NRZI from Low: 1 toggles, 0 keeps: 1→+ 0→+ 1→- 0→- …
    assert_eq!(levels_to_string(&encode(LineCode::Nrzi, &b[0..8])), "++--++--");
    // The SFD's closing "11" toggles twice.
    assert_eq!(levels_to_string(&encode(LineCode::Nrzi, &b)[56..64]), "++--++-+");
}

#[test]
fn manchester_sfd_is_as_802_3_draws_it() {
    // 1 = low→high, 0 = high→low; SFD bits 1010_1011.
    let s = encode(LineCode::Manchester, &frame_bits(&[]));
    assert_eq!(s.len(), 128);
    assert_eq!(levels_to_string(&s[112..128]), "-++--++--++--+-+");
    // Every bit cell has its mid-bit transition.
    assert!(s.chunks(2).all(|p| p[0] != p[1]));
}

#[test]
fn four_b_five_b_code_groups_follow_table_24_1() {
    assert_eq!(DATA_GROUPS[0x0], 0b11110);
    assert_eq!(DATA_GROUPS[0x5], 0b01011);
    assert_eq!(DATA_GROUPS[0xE], 0b11100);
    assert_eq!((GROUP_J, GROUP_K, GROUP_T, GROUP_R), (0b11000, 0b10001, 0b01101, 0b00111));
    assert_eq!(nibble_of_group(0b10101), Some(3));
    assert_eq!(nibble_of_group(GROUP_J), None);
    assert_eq!(group_name(GROUP_R), "/R/ 00111");
    assert!(group_name(0b00000).starts_with("/V/"));

    // Frame byte 0x0E: low nibble E first (11100), then 0 (11110).
    let s = encode(LineCode::FourBFiveB, &frame_bits(&[0x0e]));
    let expected = String::from("11000 10001") // /J/K/ in place of the first 0x55
        + &"01011 01011 ".repeat(6) // six more preamble octets: nibbles 5, 5
        + "01011 11011" // SFD 0xD5: 5 then D
        + "11100 11110" // 0x0E: E then 0
        + "01101 00111"; // /T/R/
    assert_eq!(nrzi_code_bits(&s), to_bit_string(&bit_string(&expected)));
    // The J/K delimiter itself, as NRZI levels from Low.
    assert_eq!(levels_to_string(&s[..10]), "+----++++-");
}

#[test]
fn mlt3_of_the_start_delimiter() {
    // Code bits 11000 10001 from 0 V: 1→+ 1→0 0 0 0 1→- 0 0 0 1→0.
    let s = encode(LineCode::Mlt3, &frame_bits(&[]));
    assert_eq!(levels_to_string(&s[..10]), "+0000----0");
    // Never straight from + to − or back.
    assert!(s.windows(2).all(|w| !matches!((w[0], w[1]), (Level::High, Level::Low) | (Level::Low, Level::High))));
}

#[test]
fn levels_draw_as_characters() {
    assert_eq!(levels_to_string(&[Level::High, Level::Zero, Level::Low]), "+0-");
    assert_eq!(levels_to_string(&[]), "");
}

// ---- timing ---------------------------------------------------------------------------------------

#[test]
fn minimum_frame_at_10_mbit_takes_67_2_microseconds_with_its_gap() {
    let t = timing(LineCode::Manchester, BitRate(10_000_000), 64);
    assert_eq!(t.bits, 576);
    assert_eq!(t.symbols, 1152);
    assert_eq!(t.baud, 20e6);
    assert_eq!(t.duration, Duration::from_nanos(57_600));
    assert_eq!(t.ifg, Duration::from_nanos(9_600));
    assert_eq!(t.total(), Duration::from_nanos(67_200));
}

#[test]
fn timing_at_100m_and_1g() {
    let t = timing(LineCode::Mlt3, BitRate(100_000_000), 64);
    assert_eq!((t.bits, t.symbols, t.baud), (576, 730, 125e6));
    assert_eq!((t.duration, t.ifg), (Duration::from_nanos(5_760), Duration::from_nanos(960)));
    let t = timing(LineCode::NrzL, BitRate(1_000_000_000), 1518);
    assert_eq!((t.bits, t.symbols), (12_208, 12_208));
    assert_eq!((t.duration, t.ifg), (Duration::from_nanos(12_208), Duration::from_nanos(96)));
    // An odd rate rounds to the nearest nanosecond: 576 bits at 3 bit/s = 192 s; 96 bits = 32 s.
    let t = timing(LineCode::Nrzi, BitRate(3), 64);
    assert_eq!((t.duration, t.ifg), (Duration::from_secs(192), Duration::from_secs(32)));
    let t = timing(LineCode::FourBFiveB, BitRate(7), 0);
    assert_eq!(t.duration, Duration::from_nanos(9_142_857_143)); // 64 / 7 s
    assert_eq!(t.baud, 8.75);
}

#[test]
fn timing_symbols_match_the_encoder() {
    for code in LineCode::ALL {
        for len in [0usize, 1, 14, 60, 64, 1518] {
            let frame = vec![0xa5; len];
            let t = timing(code, BitRate(100_000_000), len);
            assert_eq!(t.symbols as usize, encode(code, &frame_bits(&frame)).len(), "{code} {len}");
            assert_eq!(t.bits as usize, frame_bits(&frame).len());
        }
    }
    assert_eq!(LineCode::FourBFiveB.coding_overhead_percent(), 25);
    assert_eq!(LineCode::Manchester.coding_overhead_percent(), 100);
    assert_eq!(LineCode::NrzL.coding_overhead_percent(), 0);
}

#[test]
fn frames_wait_for_the_medium_and_the_inter_frame_gap() {
    let mut phy = Physical::new(cfg(LineCode::Manchester, 10_000_000));
    let mut cx = Context::new(Instant::ZERO);
    assert_eq!(send(&mut phy, &frame64(), &mut cx).start, Instant::ZERO);
    // Sent at the same instant: starts after 57.6 µs + 9.6 µs.
    assert_eq!(send(&mut phy, &frame64(), &mut cx).start, Instant::from_nanos(67_200));
    assert_eq!(phy.next_free(), Instant::from_nanos(134_400));
    assert!(cx.trace.records[1].notes.iter().any(|n| n.starts_with("waited 67200 ns")));
    // Sent after the medium is free: starts at now.
    cx.now = Instant::from_nanos(1_000_000);
    assert_eq!(send(&mut phy, &frame64(), &mut cx).start, Instant::from_nanos(1_000_000));
}

// ---- records --------------------------------------------------------------------------------------

#[test]
fn encapsulate_records_the_phy_fields() {
    let mut phy = Physical::new(cfg(LineCode::Manchester, 100_000_000));
    let mut cx = Context::new(Instant::from_nanos(1_500));
    let s = send(&mut phy, &[0u8; 66], &mut cx);
    assert_eq!((s.code, s.rate, s.start, s.symbols.len()), (LineCode::Manchester, BitRate(100_000_000), cx.now, 1184));
    let r = &cx.trace.records[0];
    assert_eq!((r.layer, r.direction, r.pdu), (LayerId::Physical, Direction::Down, PduName::Bits));
    assert_eq!(r.protocol, "phy");
    assert_eq!(r.title, "Physical layer: 100 Mbit/s, Manchester, 592 bits, 1184 symbols");
    assert_eq!((r.header.clone(), r.payload_len, r.overhead, r.trailer.clone()), (0..8, 66, 8, None));
    let names: Vec<&str> = r.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "phy.line_code",
            "phy.rate",
            "phy.preamble",
            "phy.sfd",
            "phy.bits",
            "phy.symbols",
            "phy.baud",
            "phy.start",
            "phy.duration",
            "phy.ifg",
            "phy.coding_overhead"
        ]
    );
    let v = |n: &str| r.field(n).unwrap().value.to_string();
    assert_eq!(v("phy.line_code"), "manchester");
    assert_eq!(v("phy.rate"), "100000000");
    assert_eq!(v("phy.preamble"), "55555555555555");
    assert_eq!(v("phy.sfd"), "0xd5");
    assert_eq!(v("phy.bits"), "592");
    assert_eq!(v("phy.symbols"), "1184");
    assert_eq!(v("phy.baud"), "200000000");
    assert_eq!(r.field("phy.baud").unwrap().shown, "200 Mbaud");
    assert_eq!(v("phy.start"), "0.000001500");
    assert_eq!(v("phy.duration"), "5920");
    assert_eq!(r.field("phy.duration").unwrap().shown, "5920 ns (5.92 µs)");
    assert_eq!(v("phy.ifg"), "960");
    assert_eq!(v("phy.coding_overhead"), "100%");
}

#[test]
fn decapsulate_records_checks_and_timing() {
    let mut tx = Physical::new(cfg(LineCode::FourBFiveB, 100_000_000));
    let mut cx = Context::default();
    let s = send(&mut tx, &frame64(), &mut cx);
    let mut rx = Physical::new(cfg(LineCode::FourBFiveB, 100_000_000));
    let mut cx = Context::default();
    let up = rx.decapsulate(Pdu { data: Data::Signal(s), meta: Default::default() }, &mut cx).unwrap().unwrap();
    assert_eq!(up.data, Data::Bytes(frame64()));
    let r = &cx.trace.records[0];
    assert_eq!((r.direction, r.header.clone(), r.payload_len, r.overhead), (Direction::Up, 0..8, 64, 8));
    assert_eq!(r.title, "Physical layer: 100 Mbit/s, 4B/5B + NRZI, 576 bits, 730 symbols");
    let checks: Vec<(&str, bool)> = r.checks.iter().map(|c| (&*c.name, c.ok)).collect();
    assert_eq!(checks, [("phy.code", true), ("phy.sfd", true), ("phy.octets", true)]);
    assert_eq!(r.field("phy.duration").unwrap().value, Value::Uint(5_760));
    assert_eq!(r.field("phy.coding_overhead").unwrap().value.to_string(), "25%");
    assert_eq!(r.field("phy.sfd").unwrap().value.to_string(), "0xd5");
    assert!(r.notes.iter().any(|n| n.contains("/J/K/")));
}

#[test]
fn failed_decapsulation_still_records_the_failed_check() {
    let mut s = encode(LineCode::Manchester, &frame_bits(&frame64()));
    s[200] = s[201];
    let mut rx = Physical::new(cfg(LineCode::Manchester, 10_000_000));
    let mut cx = Context::default();
    let pdu = Pdu { data: Data::Signal(signal(LineCode::Manchester, s)), meta: Default::default() };
    let e = rx.decapsulate(pdu, &mut cx).unwrap_err();
    assert_eq!(code_error_bit(&e), 100);
    let r = &cx.trace.records[0];
    assert_eq!(r.checks.len(), 1);
    assert_eq!((&*r.checks[0].name, r.checks[0].ok), ("phy.code", false));
    assert!(!cx.trace.all_checks_ok());
}

// ---- errors ---------------------------------------------------------------------------------------

#[test]
fn manchester_pair_without_mid_bit_transition() {
    let mut s = encode(LineCode::Manchester, &frame_bits(&[0x42]));
    s[131] = s[130]; // bit 65
    let e = decode(LineCode::Manchester, &s).unwrap_err();
    assert_eq!(code_error_bit(&e), 65);
    assert!(e.to_string().contains("no mid-bit transition"), "{e}");
    assert!(e.to_string().contains("at bit 65"), "{e}");
    // A half bit cell at the end.
    let mut s = encode(LineCode::Manchester, &frame_bits(&[0x42]));
    s.pop();
    assert!(decode(LineCode::Manchester, &s).unwrap_err().to_string().contains("half a bit cell"));
    // 0 V has no place in a Manchester signal.
    assert!(decode(LineCode::Manchester, &levels("0+")).is_err());
}

#[test]
fn two_level_codes_refuse_0_volts() {
    for code in [LineCode::NrzL, LineCode::Nrzi, LineCode::FourBFiveB] {
        let e = decode(code, &levels("+-+0")).unwrap_err();
        assert_eq!(code_error_bit(&e), data_bit_of_symbol(code, 3), "{code}");
    }
}

#[test]
fn invalid_4b5b_code_group() {
    let mut s = encode(LineCode::FourBFiveB, &frame_bits(&[0xff]));
    // Groups 16 and 17 carry the frame's two nibbles, /F/ 11101 each. Turn group 17 (symbols
    // 85..90, data bits 68..72) into 00000 (/V/) by holding the level.
    let before = s[84];
    s[85..90].fill(before);
    let e = decode(LineCode::FourBFiveB, &s).unwrap_err();
    assert_eq!(code_error_bit(&e), 68);
    assert!(e.to_string().contains("invalid code group /V/ 00000"), "{e}");
    // /I/ inside the stream is invalid too.
    let code_bits = bit_string("11000 10001 11111");
    let e = decode(LineCode::FourBFiveB, &nrzi(&code_bits)).unwrap_err();
    assert!(e.to_string().contains("/I/"), "{e}");
    assert_eq!(code_error_bit(&e), 8);
}

/// NRZI levels of a code-bit string, written independently of the encoder.
fn nrzi(code_bits: &BitSlice<u8, Lsb0>) -> Vec<Level> {
    let mut l = Level::Low;
    code_bits
        .iter()
        .by_vals()
        .map(|b| {
            if b {
                l = if l == Level::Low { Level::High } else { Level::Low };
            }
            l
        })
        .collect()
}

#[test]
fn missing_start_and_end_delimiters() {
    // /I/ where /J/ belongs.
    let e = decode(LineCode::FourBFiveB, &nrzi(&bit_string("11111 10001 01101 00111"))).unwrap_err();
    assert_eq!(code_error_bit(&e), 0);
    assert!(e.to_string().contains("missing /J/K/"), "{e}");
    // /J/ then not /K/.
    let e = decode(LineCode::FourBFiveB, &nrzi(&bit_string("11000 11000 01101 00111"))).unwrap_err();
    assert_eq!(code_error_bit(&e), 4);
    assert!(e.to_string().contains("expected /K/"), "{e}");
    // No /T/R/: the signal stops after the data.
    let s = encode(LineCode::FourBFiveB, &frame_bits(&frame64()));
    let e = decode(LineCode::FourBFiveB, &s[..s.len() - 10]).unwrap_err();
    assert!(e.to_string().contains("missing /T/R/"), "{e}");
    assert_eq!(code_error_bit(&e), 576);
    // /T/ without /R/.
    let e = decode(LineCode::FourBFiveB, &nrzi(&bit_string("11000 10001 01101 11110"))).unwrap_err();
    assert!(e.to_string().contains("/T/ followed by /0/"), "{e}");
    // Something after /T/R/.
    let e = decode(LineCode::FourBFiveB, &nrzi(&bit_string("11000 10001 01101 00111 11110"))).unwrap_err();
    assert!(e.to_string().contains("after /T/R/"), "{e}");
    // Not whole code groups.
    let e = decode(LineCode::FourBFiveB, &s[..s.len() - 1]).unwrap_err();
    assert!(e.to_string().contains("not whole 5-bit code groups"), "{e}");
    // Empty signal.
    assert!(decode(LineCode::FourBFiveB, &[]).unwrap_err().to_string().contains("expected /J/"));
}

#[test]
fn mlt3_impossible_transitions() {
    // + straight to −.
    let e = decode(LineCode::Mlt3, &levels("+-")).unwrap_err();
    assert!(e.to_string().contains("impossible MLT-3 transition + → -"), "{e}");
    // 0 → + → 0 → + : after + and 0 the next step is −.
    let e = decode(LineCode::Mlt3, &levels("+0+")).unwrap_err();
    assert!(e.to_string().contains("next step is -"), "{e}");
    // The line starts at 0 V and its first step is +.
    assert!(decode(LineCode::Mlt3, &levels("-")).is_err());
    // In a frame: symbol 400 is data bit 320.
    let mut s = encode(LineCode::Mlt3, &frame_bits(&frame64()));
    s[400] = match s[399] {
        Level::High => Level::Low,
        Level::Low => Level::High,
        // At 0 V the impossible step is back to the level just left.
        Level::Zero => s[..399].iter().rev().find(|l| **l != Level::Zero).copied().unwrap_or(Level::Low),
    };
    let e = decode(LineCode::Mlt3, &s).unwrap_err();
    assert_eq!(code_error_bit(&e), 320);
}

#[test]
fn missing_or_misplaced_sfd() {
    // Preamble only, no SFD.
    let pre = Bits::from_vec(vec![0x55; 7]);
    let e = receive(signal(LineCode::NrzL, encode(LineCode::NrzL, &pre))).unwrap_err();
    assert_eq!(code_error_bit(&e), 56);
    assert!(e.to_string().contains("no SFD"), "{e}");
    // Preamble shortened by one octet: SFD found at bit 48.
    let mut short = vec![0x55; 6];
    short.extend_from_slice(&[0xd5, 1, 2, 3]);
    let e = receive(signal(LineCode::NrzL, encode(LineCode::NrzL, &Bits::from_vec(short)))).unwrap_err();
    assert_eq!(code_error_bit(&e), 48);
    assert!(e.to_string().contains("SFD found at bit 48"), "{e}");
    // A broken preamble: two 0s.
    let mut b = frame_bits(&[1]);
    b.set(10, false);
    let e = receive(signal(LineCode::NrzL, encode(LineCode::NrzL, &b))).unwrap_err();
    assert_eq!(code_error_bit(&e), 10);
    assert!(e.to_string().contains("preamble broken"), "{e}");
}

#[test]
fn bits_that_are_not_whole_octets() {
    let b = frame_bits(&[0xaa, 0xbb]);
    let e = receive(signal(LineCode::Nrzi, encode(LineCode::Nrzi, &b[..77]))).unwrap_err();
    assert_eq!(code_error_bit(&e), 72);
    assert!(e.to_string().contains("not whole octets"), "{e}");
    // 4B/5B with an odd number of data nibbles (valid code groups throughout).
    let e = receive(signal(LineCode::FourBFiveB, encode(LineCode::FourBFiveB, &b[..68]))).unwrap_err();
    assert_eq!(code_error_bit(&e), 64);
}

#[test]
fn bytes_into_decapsulate_is_a_configuration_error() {
    let mut rx = Physical::new(cfg(LineCode::NrzL, 10_000_000));
    let e = rx.decapsulate(Pdu::bytes(vec![1, 2, 3]), &mut Context::default()).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Config(_)));
}

#[test]
fn bad_bit_error_rates_are_refused() {
    for ber in [-0.1, 1.5, f64::NAN] {
        let mut phy = Physical::new(PhysicalConfig { bit_error_rate: ber, ..cfg(LineCode::NrzL, 10_000_000) });
        let e = phy.encapsulate(Pdu::bytes(vec![0; 60]), &mut Context::default()).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Config(_)), "{ber}");
    }
}

// ---- bit errors -----------------------------------------------------------------------------------

#[test]
fn a_flipped_level_follows_the_documented_rule() {
    assert_eq!(Level::High.flipped(), Level::Low);
    assert_eq!(Level::Low.flipped(), Level::High);
    assert_eq!(Level::Zero.flipped(), Level::High);
}

/// Every single flipped symbol of a minimum frame is caught by L1 or changes the frame's bytes.
#[test]
fn every_single_symbol_error_is_caught_or_changes_the_frame() {
    let frame = frame64();
    for code in LineCode::ALL {
        let clean = encode(code, &frame_bits(&frame));
        let (mut caught, mut changed) = (0, 0);
        for i in 0..clean.len() {
            let mut s = clean.clone();
            s[i] = s[i].flipped();
            match receive(signal(code, s)) {
                Err(_) => caught += 1,
                Ok(bytes) => {
                    assert_ne!(bytes, frame, "{code}: flipping symbol {i} went unnoticed");
                    changed += 1;
                }
            }
        }
        assert_eq!(caught + changed, clean.len());
        if code == LineCode::Manchester {
            assert_eq!(changed, 0, "every Manchester flip is a code violation");
        }
    }
}

#[test]
fn seeded_bit_errors_are_reproducible_and_the_rng_runs_on() {
    let c = PhysicalConfig { bit_error_rate: 0.01, seed: 42, ..cfg(LineCode::Mlt3, 100_000_000) };
    let run = || {
        let mut phy = Physical::new(c.clone());
        let mut cx = Context::default();
        let a = send(&mut phy, &frame64(), &mut cx);
        let b = send(&mut phy, &frame64(), &mut cx);
        (a.symbols, b.symbols, cx.trace)
    };
    let (a1, b1, t1) = run();
    let (a2, b2, t2) = run();
    assert_eq!((&a1, &b1), (&a2, &b2));
    assert_eq!(t1, t2);
    let clean = encode(LineCode::Mlt3, &frame_bits(&frame64()));
    assert_ne!(a1, clean, "730 symbols at 1% should see an error with this seed");
    assert_ne!(a1, b1, "the second frame draws fresh errors");
    let flips = a1.iter().zip(&clean).filter(|(x, y)| x != y).count();
    let note = t1.records[0].notes.iter().find(|n| n.starts_with("bit errors")).unwrap();
    assert!(note.starts_with(&format!("bit errors: {flips} of 730 symbols flipped")), "{note}");
}

#[test]
fn error_rate_one_flips_every_symbol() {
    let c = PhysicalConfig { bit_error_rate: 1.0, ..cfg(LineCode::NrzL, 10_000_000) };
    let mut phy = Physical::new(c);
    let s = send(&mut phy, &[0x0f], &mut Context::default());
    let clean = encode(LineCode::NrzL, &frame_bits(&[0x0f]));
    assert!(s.symbols.iter().zip(&clean).all(|(a, b)| *a == b.flipped()));
    assert!(receive(s).is_err());
}

#[test]
fn no_error_rate_no_rng_draws() {
    let mut phy = Physical::new(cfg(LineCode::Nrzi, 10_000_000));
    let mut cx = Context::default();
    let s = send(&mut phy, &frame64(), &mut cx);
    assert_eq!(s.symbols, encode(LineCode::Nrzi, &frame_bits(&frame64())));
    assert!(cx.trace.records[0].notes.iter().all(|n| !n.starts_with("bit errors")));
}

// ---- parsing of the configuration -----------------------------------------------------------------

#[test]
fn line_codes_and_rates_parse_and_print() {
    for code in LineCode::ALL {
        assert_eq!(code.to_string().parse::<LineCode>(), Ok(code));
    }
    assert_eq!("NRZ-L".parse::<LineCode>(), Ok(LineCode::NrzL));
    assert_eq!("mlt-3".parse::<LineCode>(), Ok(LineCode::Mlt3));
    assert!("ami".parse::<LineCode>().is_err());
    assert_eq!("10M".parse::<BitRate>(), Ok(BitRate(10_000_000)));
    assert_eq!("1G".parse::<BitRate>().map(|r| r.to_string()), Ok("1 Gbit/s".to_string()));
    assert_eq!("2.5G".parse::<BitRate>(), Ok(BitRate(2_500_000_000)));
    assert!("0".parse::<BitRate>().is_err());
}

// ---- properties -----------------------------------------------------------------------------------

fn any_code() -> impl Strategy<Value = LineCode> {
    prop::sample::select(LineCode::ALL.to_vec())
}

fn any_level() -> impl Strategy<Value = Level> {
    prop::sample::select(vec![Level::Low, Level::Zero, Level::High])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn layer_round_trip(code in any_code(), frame in prop::collection::vec(any::<u8>(), 0..2000),
                        rate in prop::sample::select(vec![10_000_000u64, 100_000_000, 1_000_000_000])) {
        let mut tx = Physical::new(cfg(code, rate));
        let mut cx = Context::default();
        let s = send(&mut tx, &frame, &mut cx);
        prop_assert_eq!(s.symbols.len() as u64, timing(code, BitRate(rate), frame.len()).symbols);
        prop_assert_eq!(receive(s).unwrap(), frame);
    }

    #[test]
    fn pure_round_trip(code in any_code(), frame in prop::collection::vec(any::<u8>(), 0..2000)) {
        let bits = frame_bits(&frame);
        prop_assert_eq!(decode(code, &encode(code, &bits)).unwrap(), bits);
    }

    #[test]
    fn bit_level_codes_round_trip_any_bits(code in prop::sample::select(vec![LineCode::NrzL, LineCode::Nrzi, LineCode::Manchester]),
                                          bits in prop::collection::vec(any::<bool>(), 0..500)) {
        let bits: Bits = bits.into_iter().collect();
        prop_assert_eq!(decode(code, &encode(code, &bits)).unwrap(), bits);
    }

    #[test]
    fn one_flipped_symbol_is_caught_or_changes_the_frame(code in any_code(),
                                                         frame in prop::collection::vec(any::<u8>(), 0..200),
                                                         at in any::<prop::sample::Index>()) {
        let mut s = encode(code, &frame_bits(&frame));
        let i = at.index(s.len());
        s[i] = s[i].flipped();
        if let Ok(bytes) = receive(signal(code, s)) {
            prop_assert_ne!(bytes, frame);
        }
    }

    #[test]
    fn arbitrary_symbols_never_panic(code in any_code(), symbols in prop::collection::vec(any_level(), 0..3000)) {
        let _ = receive(signal(code, symbols));
    }

    #[test]
    fn damaged_frames_never_panic(code in any_code(), frame in prop::collection::vec(any::<u8>(), 0..300),
                                  hits in prop::collection::vec((any::<prop::sample::Index>(), any_level()), 1..6),
                                  cut in any::<prop::sample::Index>()) {
        let mut s = encode(code, &frame_bits(&frame));
        for (at, l) in hits {
            let i = at.index(s.len());
            s[i] = l;
        }
        let keep = cut.index(s.len() + 1);
        s.truncate(keep);
        let _ = receive(signal(code, s));
    }
}
