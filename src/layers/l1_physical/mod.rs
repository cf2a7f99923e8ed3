//! L1 physical: the frame as bits on the medium.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `LineCode` (FromStr: nrz|nrz-l|nrzi|manchester|4b5b|mlt3; Display the canonical CLI name)
//! - `BitRate` (FromStr: `10M|100M|1G|<bits per second>`; `bps()`)
//! - `Level`, `Signal`
//! - `PhysicalConfig`, `Physical::new(cfg)`, `impl Layer for Physical`
//! - pure functions for the `--format bits` renderer: [`frame_bits`], [`encode`], [`decode`],
//!   [`timing`] / [`Timing`], [`levels_to_string`]
//!
//! Going down, the Ethernet frame (FCS included) gets the preamble and SFD (IEEE 802.3 §3.2.1,
//! §4.2.5), becomes a bit stream sent least significant bit first (§3.3), is line coded
//! (code.rs), may have symbols flipped by the medium (seeded [`Rng`]), and is scheduled on the
//! medium no earlier than the inter-frame gap after the previous frame (§4.4.2: 96 bit times).
//! Going up, the symbols are decoded, every code rule is checked, the preamble and SFD are found
//! and stripped, and the frame's bytes go to L2.

mod code;
#[cfg(test)]
mod tests;

pub use code::{data_bit_of_symbol, decode, encode, group_name, nibble_of_group, Bits, DATA_GROUPS};
pub use code::{GROUP_H, GROUP_I, GROUP_J, GROUP_K, GROUP_R, GROUP_T};

use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Pdu, PduName};
use crate::rng::Rng;
use crate::time::Instant;
use crate::trace::{Check, Direction, Field, Record, Value};
use bitvec::prelude::*;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A line code: how bits become signal levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum LineCode {
    /// Non-return-to-zero, level: 1 high, 0 low.
    #[serde(rename = "nrz")]
    NrzL,
    /// Non-return-to-zero, inverted: 1 toggles the level, 0 keeps it.
    #[serde(rename = "nrzi")]
    Nrzi,
    /// Manchester, IEEE 802.3 convention (10BASE-T): 0 is high→low, 1 is low→high.
    #[serde(rename = "manchester")]
    Manchester,
    /// 4B/5B code groups sent with NRZI (100BASE-FX).
    #[serde(rename = "4b5b")]
    FourBFiveB,
    /// 4B/5B code groups sent with MLT-3 (100BASE-TX, without the scrambler).
    #[serde(rename = "mlt3")]
    Mlt3,
}

/// A bit rate in bits per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct BitRate(pub u64);

/// One signal level on the medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Level {
    /// −V
    Low,
    /// 0 V (MLT-3's middle level)
    Zero,
    /// +V
    High,
}

/// A line-coded frame on the medium.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// The line code.
    pub code: LineCode,
    /// The data bit rate.
    pub rate: BitRate,
    /// When the first symbol goes on the wire.
    pub start: Instant,
    /// The symbols, in transmission order.
    pub symbols: Vec<Level>,
}

/// L1 configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhysicalConfig {
    /// The line code.
    pub code: LineCode,
    /// The data bit rate.
    pub rate: BitRate,
    /// Probability that each symbol is flipped on the medium (0 for none).
    pub bit_error_rate: f64,
    /// Seed of the bit-error RNG.
    pub seed: u64,
}

/// The preamble: seven octets of 1010_1010 on the wire (IEEE 802.3 §3.2.1, §4.2.5).
pub const PREAMBLE: [u8; 7] = [0x55; 7];
/// The start frame delimiter, 1010_1011 on the wire (IEEE 802.3 §3.2.2).
pub const SFD: u8 = 0xd5;
/// Preamble + SFD, in octets: L1's overhead.
pub const PREAMBLE_SFD_LEN: usize = 8;
/// The inter-frame gap, in bit times (IEEE 802.3 §4.4.2: interFrameGap = 96 bits).
pub const IFG_BITS: u64 = 96;
/// How many symbol indices a bit-error note lists.
const NOTED_FLIPS: usize = 8;

impl Level {
    /// The level a bit error turns this one into. Two-level codes: High ↔ Low. MLT-3's middle
    /// level has two neighbours; the rule chosen here, deterministically, is Zero → High (so a
    /// flipped MLT-3 symbol is High→Low, Low→High or Zero→High).
    pub fn flipped(self) -> Level {
        match self {
            Level::High => Level::Low,
            Level::Low | Level::Zero => Level::High,
        }
    }

    /// The level as one character: '+' High, '0' Zero, '-' Low.
    pub fn symbol(self) -> char {
        match self {
            Level::High => '+',
            Level::Zero => '0',
            Level::Low => '-',
        }
    }
}

impl LineCode {
    /// All five, in CLI order.
    pub const ALL: [LineCode; 5] =
        [LineCode::NrzL, LineCode::Nrzi, LineCode::Manchester, LineCode::FourBFiveB, LineCode::Mlt3];

    /// The human name ("Manchester", "4B/5B + NRZI").
    pub fn name(self) -> &'static str {
        code::protocol(self)
    }

    /// Symbols per data bit as a fraction (numerator, denominator): 1, 2 (Manchester) or 5/4 (4B/5B).
    pub fn symbols_per_bit(self) -> (u64, u64) {
        match self {
            LineCode::NrzL | LineCode::Nrzi => (1, 1),
            LineCode::Manchester => (2, 1),
            LineCode::FourBFiveB | LineCode::Mlt3 => (5, 4),
        }
    }

    /// Extra symbols over one per bit, in percent (0, 100 for Manchester, 25 for 4B/5B).
    pub fn coding_overhead_percent(self) -> u64 {
        let (n, d) = self.symbols_per_bit();
        (n - d) * 100 / d
    }
}

/// Preamble, SFD and frame as the bits go on the wire: each octet least significant bit first
/// (IEEE 802.3 §3.3), so `Lsb0` bit order is transmission order.
pub fn frame_bits(frame: &[u8]) -> Bits {
    let mut octets = Vec::with_capacity(PREAMBLE_SFD_LEN + frame.len());
    octets.extend_from_slice(&PREAMBLE);
    octets.push(SFD);
    octets.extend_from_slice(frame);
    Bits::from_vec(octets)
}

/// Levels drawn as characters: '+' High, '0' Zero, '-' Low.
pub fn levels_to_string(levels: &[Level]) -> String {
    levels.iter().map(|l| l.symbol()).collect()
}

/// How long a frame occupies the medium.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timing {
    /// Data bits on the wire: (8 + frame length) × 8, preamble and SFD included.
    pub bits: u64,
    /// Symbols sent (for 4B/5B and MLT-3 including the /T/R/ delimiter's 10).
    pub symbols: u64,
    /// Symbol rate (baud): the bit rate × symbols per bit.
    pub baud: f64,
    /// Serialization time: bits / bit rate, rounded to the nearest nanosecond.
    pub duration: Duration,
    /// Inter-frame gap: 96 bit times (IEEE 802.3 §4.4.2).
    pub ifg: Duration,
}

impl Timing {
    /// Serialization time plus the inter-frame gap: how soon the next frame may start.
    pub fn total(&self) -> Duration {
        self.duration + self.ifg
    }
}

/// `n` bit times at `bps`, rounded to the nearest nanosecond.
fn bit_times(n: u64, bps: u64) -> Duration {
    let bps = u128::from(bps.max(1));
    let nanos = (u128::from(n) * 1_000_000_000 + bps / 2) / bps;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The timing of a frame of `frame_len` bytes (FCS included, preamble and SFD not) sent with
/// `code` at `rate`.
pub fn timing(code: LineCode, rate: BitRate, frame_len: usize) -> Timing {
    let bits = (PREAMBLE_SFD_LEN as u64).saturating_add(frame_len as u64).saturating_mul(8);
    let symbols = match code {
        LineCode::NrzL | LineCode::Nrzi => bits,
        LineCode::Manchester => bits.saturating_mul(2),
        // /J/K/ stands in for the first octet (same 10 symbols); /T/R/ adds 10 (§24.2.2.1).
        LineCode::FourBFiveB | LineCode::Mlt3 => (bits / 4).saturating_mul(5).saturating_add(10),
    };
    let (n, d) = code.symbols_per_bit();
    let bps = rate.bps().max(1);
    Timing {
        bits,
        symbols,
        baud: bps as f64 * n as f64 / d as f64,
        duration: bit_times(bits, bps),
        ifg: bit_times(IFG_BITS, bps),
    }
}

/// A span in nanoseconds with a readable unit: "57600 ns (57.6 µs)".
fn show_nanos(d: Duration) -> String {
    let ns = d.as_nanos();
    let f = ns as f64;
    match ns {
        0..=999 => format!("{ns} ns"),
        1_000..=999_999 => format!("{ns} ns ({} µs)", f / 1e3),
        1_000_000..=999_999_999 => format!("{ns} ns ({} ms)", f / 1e6),
        _ => format!("{ns} ns ({} s)", f / 1e9),
    }
}

/// A symbol rate with a unit: "125 Mbaud".
fn show_baud(baud: f64) -> String {
    if baud >= 1e9 {
        format!("{} Gbaud", baud / 1e9)
    } else if baud >= 1e6 {
        format!("{} Mbaud", baud / 1e6)
    } else if baud >= 1e3 {
        format!("{} kbaud", baud / 1e3)
    } else {
        format!("{baud} baud")
    }
}

fn title(cfg_code: LineCode, rate: BitRate, bits: Option<u64>, symbols: usize) -> String {
    match bits {
        Some(b) => format!("Physical layer: {rate}, {}, {b} bits, {symbols} symbols", cfg_code.name()),
        None => format!("Physical layer: {rate}, {}, {symbols} symbols", cfg_code.name()),
    }
}

/// The fields every L1 record starts with.
fn head_fields(r: &mut Record, code: LineCode, rate: BitRate) {
    r.fields.push(Field::text("phy.line_code", "Line code", code.to_string()).shown(code.name()));
    r.fields.push(Field::uint("phy.rate", "Bit rate", rate.bps()).shown(rate.to_string()));
}

/// Preamble, SFD and the timing fields, in wire order.
fn frame_fields(r: &mut Record, preamble: &[u8], sfd: u8, start: Instant, t: &Timing, symbols: usize, code: LineCode) {
    r.fields.push(Field::new("phy.preamble", "Preamble", Value::Bytes(preamble.to_vec())));
    r.fields.push(Field::hex("phy.sfd", "Start frame delimiter", sfd, 2));
    r.fields.push(Field::uint("phy.bits", "Bits on the wire", t.bits));
    r.fields.push(Field::uint("phy.symbols", "Symbols", symbols as u64));
    let baud = if t.baud.fract() == 0.0 && t.baud < u64::MAX as f64 {
        Value::Uint(t.baud as u64)
    } else {
        Value::Text(t.baud.to_string())
    };
    r.fields.push(Field::new("phy.baud", "Symbol rate", baud).shown(show_baud(t.baud)));
    r.fields.push(Field::text("phy.start", "Start time", start.to_string()).shown(format!("{start} s")));
    let dur_ns = u64::try_from(t.duration.as_nanos()).unwrap_or(u64::MAX);
    r.fields.push(Field::uint("phy.duration", "Serialization time", dur_ns).shown(show_nanos(t.duration)));
    let ifg_ns = u64::try_from(t.ifg.as_nanos()).unwrap_or(u64::MAX);
    r.fields.push(
        Field::uint("phy.ifg", "Inter-frame gap", ifg_ns)
            .shown(format!("{} ({IFG_BITS} bit times)", show_nanos(t.ifg))),
    );
    let pct = code.coding_overhead_percent();
    r.fields.push(Field::text("phy.coding_overhead", "Coding overhead", format!("{pct}%")));
}

fn code_notes(r: &mut Record, code: LineCode) {
    if matches!(code, LineCode::FourBFiveB | LineCode::Mlt3) {
        r.notes.push(
            "/J/K/ replaces the first preamble octet and /T/R/ follows the FCS (IEEE 802.3 §24.2.2.1); \
             /T/R/ goes out during the inter-frame gap, so it is not in the serialization time"
                .to_string(),
        );
    }
    if code == LineCode::Mlt3 {
        r.notes.push("the 100BASE-TX scrambler is not modelled: MLT-3 carries the plain 4B/5B code bits".to_string());
    }
}

/// Check the preamble and find the SFD (IEEE 802.3 §4.2.5, §4.2.6): the bits must alternate
/// 1010… from the first bit, and the first break must be the SFD's closing "11" at bits 62–63
/// (56 preamble bits + 8 SFD bits). Returns nothing on success; the frame starts at bit 64.
fn check_preamble(code: LineCode, bits: &BitSlice<u8, Lsb0>) -> Result<()> {
    let proto = code::protocol(code);
    for (i, b) in bits.iter().by_vals().enumerate() {
        let expected = i % 2 == 0;
        if b == expected {
            continue;
        }
        if i % 2 == 0 {
            return Err(Error::code(
                LayerId::Physical,
                proto,
                i,
                format!("preamble broken at bit {i}: two 0 bits in a row where 1010… alternates"),
            ));
        }
        if i == PREAMBLE_SFD_LEN * 8 - 1 {
            return Ok(());
        }
        let sfd_at = i.saturating_sub(7);
        return Err(Error::code(
            LayerId::Physical,
            proto,
            sfd_at,
            format!("SFD found at bit {sfd_at}, expected at bit 56 after a 56-bit preamble"),
        ));
    }
    Err(Error::code(
        LayerId::Physical,
        proto,
        bits.len(),
        format!("no SFD: the signal ends after {} preamble bits", bits.len()),
    ))
}

impl PhysicalConfig {
    /// Check the configuration: the bit-error rate is a probability.
    pub fn validate(&self) -> Result<()> {
        let ber = self.bit_error_rate;
        if !(0.0..=1.0).contains(&ber) {
            return Err(Error::config(
                Some(LayerId::Physical),
                format!("bit error rate {ber} is not a probability in [0, 1]"),
            ));
        }
        Ok(())
    }
}

/// The physical layer: one transmitter and receiver on one medium.
#[derive(Debug, Clone)]
pub struct Physical {
    cfg: PhysicalConfig,
    /// Bit errors on the medium; its state carries over from frame to frame.
    rng: Rng,
    /// When the medium is next free: the end of the previous frame plus the inter-frame gap.
    next_free: Instant,
}

impl Physical {
    /// A physical layer with this configuration.
    pub fn new(cfg: PhysicalConfig) -> Self {
        let rng = Rng::new(cfg.seed);
        Physical { cfg, rng, next_free: Instant::ZERO }
    }

    /// The configuration.
    pub fn config(&self) -> &PhysicalConfig {
        &self.cfg
    }

    /// When the next frame may start at the earliest (previous end + inter-frame gap).
    pub fn next_free(&self) -> Instant {
        self.next_free
    }

    /// Flip each symbol with probability `bit_error_rate`; returns how many and the first few indices.
    fn impair(&mut self, symbols: &mut [Level]) -> (usize, Vec<usize>) {
        let mut count = 0;
        let mut first = Vec::new();
        if self.cfg.bit_error_rate > 0.0 {
            for (i, s) in symbols.iter_mut().enumerate() {
                if self.rng.chance(self.cfg.bit_error_rate) {
                    *s = s.flipped();
                    count += 1;
                    if first.len() < NOTED_FLIPS {
                        first.push(i);
                    }
                }
            }
        }
        (count, first)
    }
}

impl Layer for Physical {
    fn id(&self) -> LayerId {
        LayerId::Physical
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        self.cfg.validate()?;
        let ber = self.cfg.bit_error_rate;
        let (frame, meta) = sdu.into_bytes(LayerId::Physical)?;
        let (code, rate) = (self.cfg.code, self.cfg.rate);
        let mut symbols = encode(code, &frame_bits(&frame));
        let t = timing(code, rate, frame.len());
        let start = cx.now.max(self.next_free);
        self.next_free = start + t.total();
        let (flips, first) = self.impair(&mut symbols);

        let mut r = Record::new(
            LayerId::Physical,
            Direction::Down,
            "phy",
            title(code, rate, Some(t.bits), symbols.len()),
            PduName::Bits,
        );
        r.summary = format!(
            "{} bits as {} {} symbols at {rate}, on the wire {start}–{} s",
            t.bits,
            symbols.len(),
            code.name(),
            start + t.duration
        );
        r.header = 0..PREAMBLE_SFD_LEN;
        r.payload_len = frame.len();
        r.overhead = PREAMBLE_SFD_LEN;
        head_fields(&mut r, code, rate);
        frame_fields(&mut r, &PREAMBLE, SFD, start, &t, symbols.len(), code);
        code_notes(&mut r, code);
        if start > cx.now {
            r.notes.push(format!(
                "waited {} for the medium: the previous frame and its inter-frame gap end at {start} s",
                show_nanos(start - cx.now)
            ));
        }
        if ber > 0.0 {
            let list: Vec<String> = first.iter().map(|i| i.to_string()).collect();
            let more = if flips > first.len() { ", …" } else { "" };
            r.notes.push(match flips {
                0 => format!("bit errors: none of {} symbols flipped (error rate {ber})", symbols.len()),
                _ => format!(
                    "bit errors: {flips} of {} symbols flipped (error rate {ber}, seed {}) at symbol {}{more}",
                    symbols.len(),
                    self.cfg.seed,
                    list.join(", ")
                ),
            });
        }
        cx.trace.push(r);
        Ok(vec![Pdu { data: Data::Signal(Signal { code, rate, start, symbols }), meta }])
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let Pdu { data, mut meta } = pdu;
        let signal = match data {
            Data::Signal(s) => s,
            Data::Bytes(_) => {
                return Err(Error::config(
                    Some(LayerId::Physical),
                    "received bytes where a line-coded signal was expected: L1 decapsulates signals",
                ))
            }
        };
        let (code, rate, n) = (signal.code, signal.rate, signal.symbols.len());
        let mut r = Record::new(LayerId::Physical, Direction::Up, "phy", title(code, rate, None, n), PduName::Bits);
        head_fields(&mut r, code, rate);
        let fail = |mut r: Record, cx: &mut Context, e: Error| {
            r.summary = format!("{n} {} symbols: {e}", code.name());
            r.fields.push(Field::uint("phy.symbols", "Symbols", n as u64));
            r.fields.push(
                Field::text("phy.start", "Start time", signal.start.to_string()).shown(format!("{} s", signal.start)),
            );
            cx.trace.push(r);
            Err(e)
        };

        // The line code's rules (802.3 Clause 7 Manchester, §24.2.2.1 4B/5B, ANSI X3.263 MLT-3).
        let bits = match decode(code, &signal.symbols) {
            Ok(b) => b,
            Err(e) => {
                r.checks.push(Check::new("phy.code", "Line code", false, e.to_string()));
                return fail(r, cx, e);
            }
        };
        r.checks.push(Check::new("phy.code", "Line code", true, format!("{n} symbols, no code violations")));

        // Preamble and SFD (802.3 §4.2.5, §4.2.6).
        if let Err(e) = check_preamble(code, &bits) {
            r.checks.push(Check::new("phy.sfd", "Start frame delimiter", false, e.to_string()));
            return fail(r, cx, e);
        }
        r.checks.push(Check::new("phy.sfd", "Start frame delimiter", true, "0xd5 after a 56-bit preamble"));

        // The frame is whole octets (802.3 §3.4: a frame that is not an integral number of octets is invalid).
        let body = bits.get(PREAMBLE_SFD_LEN * 8..).unwrap_or_default();
        let extra = body.len() % 8;
        if extra != 0 {
            let at = bits.len() - extra;
            let e = Error::code(
                LayerId::Physical,
                code::protocol(code),
                at,
                format!("{} bits after the SFD are not whole octets ({extra} bits left over)", body.len()),
            );
            r.checks.push(Check::new("phy.octets", "Whole octets", false, e.to_string()));
            return fail(r, cx, e);
        }
        let frame: Vec<u8> = body.chunks_exact(8).map(|c| c.load_le::<u8>()).collect();
        r.checks.push(Check::new("phy.octets", "Whole octets", true, format!("{} octets", frame.len())));

        let t = timing(code, rate, frame.len());
        r.title = title(code, rate, Some(t.bits), n);
        r.summary = format!(
            "{n} {} symbols → {} bits: preamble and SFD found, {}-byte frame",
            code.name(),
            bits.len(),
            frame.len()
        );
        r.header = 0..PREAMBLE_SFD_LEN;
        r.payload_len = frame.len();
        r.overhead = PREAMBLE_SFD_LEN;
        let head: Vec<u8> = bits.chunks_exact(8).take(PREAMBLE_SFD_LEN).map(|c| c.load_le::<u8>()).collect();
        let (pre, sfd) = head.split_at(PREAMBLE.len());
        frame_fields(&mut r, pre, sfd.first().copied().unwrap_or(0), signal.start, &t, n, code);
        code_notes(&mut r, code);
        cx.trace.push(r);
        meta.offset = 0;
        Ok(Some(Pdu { data: Data::Bytes(frame), meta }))
    }
}

impl fmt::Display for LineCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LineCode::NrzL => "nrz",
            LineCode::Nrzi => "nrzi",
            LineCode::Manchester => "manchester",
            LineCode::FourBFiveB => "4b5b",
            LineCode::Mlt3 => "mlt3",
        })
    }
}

impl FromStr for LineCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "nrz" | "nrz-l" | "nrzl" => LineCode::NrzL,
            "nrzi" => LineCode::Nrzi,
            "manchester" => LineCode::Manchester,
            "4b5b" | "4b/5b" => LineCode::FourBFiveB,
            "mlt3" | "mlt-3" => LineCode::Mlt3,
            _ => return Err(format!("unknown line code {s:?}: expected nrz, nrzi, manchester, 4b5b or mlt3")),
        })
    }
}

impl BitRate {
    /// Bits per second.
    pub fn bps(self) -> u64 {
        self.0
    }
}

impl fmt::Display for BitRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            r if r >= 1_000_000_000 && r % 1_000_000_000 == 0 => write!(f, "{} Gbit/s", r / 1_000_000_000),
            r if r >= 1_000_000 && r % 1_000_000 == 0 => write!(f, "{} Mbit/s", r / 1_000_000),
            r if r >= 1_000 && r % 1_000 == 0 => write!(f, "{} kbit/s", r / 1_000),
            r => write!(f, "{r} bit/s"),
        }
    }
}

impl FromStr for BitRate {
    type Err = String;
    /// `10M`, `100M`, `1G`, `2.5G`, `64k` or a plain number of bits per second.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad rate {s:?}: expected e.g. 10M, 100M, 1G or a number of bits per second");
        let t = s.trim();
        let (num, mult) = match t.char_indices().last() {
            Some((i, 'k' | 'K')) => (&t[..i], 1e3),
            Some((i, 'm' | 'M')) => (&t[..i], 1e6),
            Some((i, 'g' | 'G')) => (&t[..i], 1e9),
            _ => (t, 1.0),
        };
        let v: f64 = num.parse().map_err(|_| bad())?;
        let bps = v * mult;
        if !(1.0..=1e12).contains(&bps) {
            return Err(bad());
        }
        Ok(BitRate(bps.round() as u64))
    }
}
