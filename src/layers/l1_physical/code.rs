//! The line codes: bits ⇄ signal levels, as pure functions.
//!
//! Read this first:
//! - IEEE 802.3 §3.2.1 and §4.2.5: preamble (seven 0x55 octets) and SFD (0xD5); §3.3: each octet is
//!   sent least significant bit first, so the SFD reads 1010_1011 on the wire.
//! - IEEE 802.3 Clause 14 (10BASE-T), which sends Clause 7's Manchester code: a 0 is high then low,
//!   a 1 is low then high (the transition at mid-bit carries the bit).
//! - IEEE 802.3 §24.2.2.1, Table 24-1 (100BASE-X PCS): 4B/5B code groups; each nibble, bit 0 first
//!   as the MII carries it, becomes a 5-bit code group sent leftmost bit (bit 4) first. The first
//!   preamble octet (nibbles 0101 0101) is replaced by the start-of-stream delimiter /J/K/ and the
//!   end-of-stream delimiter /T/R/ follows the last data nibble (§24.2.2.1).
//! - IEEE 802.3 §26 (100BASE-FX) by reference to ANSI X3.166: NRZI; ANSI X3.263 (TP-PMD, used by
//!   100BASE-TX §25): MLT-3, cycling 0, +, 0, − on every 1. The 100BASE-TX scrambler is not modelled.
//!
//! Offsets in errors are *data-bit* offsets counted from the first preamble bit (error.rs's
//! contract); the message also names the symbol index inside the [`Signal`](super::Signal).

use super::{Level, LineCode};
use crate::error::{Error, Result};
use crate::layer::LayerId;
use bitvec::prelude::*;

/// The bit stream type used throughout L1: octets sent least significant bit first.
pub type Bits = BitVec<u8, Lsb0>;

/// 4B/5B data code groups for nibbles 0x0..=0xF (IEEE 802.3 Table 24-1), written as in the table:
/// bit 4 (the first transmitted) is the most significant bit of the `u8`.
pub const DATA_GROUPS: [u8; 16] = [
    0b11110, 0b01001, 0b10100, 0b10101, 0b01010, 0b01011, 0b01110, 0b01111, //
    0b10010, 0b10011, 0b10110, 0b10111, 0b11010, 0b11011, 0b11100, 0b11101,
];
/// /I/ idle (Table 24-1); never part of a stream, only between streams.
pub const GROUP_I: u8 = 0b11111;
/// /J/ first half of the start-of-stream delimiter (Table 24-1).
pub const GROUP_J: u8 = 0b11000;
/// /K/ second half of the start-of-stream delimiter (Table 24-1).
pub const GROUP_K: u8 = 0b10001;
/// /T/ first half of the end-of-stream delimiter (Table 24-1).
pub const GROUP_T: u8 = 0b01101;
/// /R/ second half of the end-of-stream delimiter (Table 24-1).
pub const GROUP_R: u8 = 0b00111;
/// /H/ transmit error (Table 24-1).
pub const GROUP_H: u8 = 0b00100;

/// The nibble carried by a data code group, if `group` is one (Table 24-1).
pub fn nibble_of_group(group: u8) -> Option<u8> {
    DATA_GROUPS.iter().position(|&g| g == group).and_then(|n| u8::try_from(n).ok())
}

/// The Table 24-1 name of a code group, for messages ("/J/", "/5/", "invalid /V/").
pub fn group_name(group: u8) -> String {
    let bits = format!("{group:05b}");
    match group {
        GROUP_I => format!("/I/ {bits}"),
        GROUP_J => format!("/J/ {bits}"),
        GROUP_K => format!("/K/ {bits}"),
        GROUP_T => format!("/T/ {bits}"),
        GROUP_R => format!("/R/ {bits}"),
        GROUP_H => format!("/H/ {bits}"),
        g => match nibble_of_group(g) {
            Some(n) => format!("/{n:X}/ {bits}"),
            None => format!("/V/ {bits} (not in Table 24-1)"),
        },
    }
}

/// The MLT-3 cycle (ANSI X3.263): a 1 moves one step along it, a 0 stays.
const MLT3_CYCLE: [Level; 4] = [Level::Zero, Level::High, Level::Zero, Level::Low];

/// Encode `bits` (in transmission order) as `code`'s signal levels.
///
/// For [`LineCode::FourBFiveB`] and [`LineCode::Mlt3`] the first octet of `bits` is taken to be
/// the first preamble octet and is sent as /J/K/ whatever its value (802.3 §24.2.2.1); /T/R/ is
/// appended; a last partial nibble is padded with zeros. [`decode`] gives /J/K/ back as 0x55,
/// so `decode(encode(b)) == b` whenever `b` starts with 0x55 and is whole nibbles (every
/// [`frame_bits`](super::frame_bits) output is).
pub fn encode(code: LineCode, bits: &BitSlice<u8, Lsb0>) -> Vec<Level> {
    match code {
        LineCode::NrzL => bits.iter().by_vals().map(nrz_level).collect(),
        LineCode::Nrzi => nrzi_encode(bits.iter().by_vals()),
        LineCode::Manchester => bits
            .iter()
            .by_vals()
            .flat_map(|b| if b { [Level::Low, Level::High] } else { [Level::High, Level::Low] })
            .collect(),
        LineCode::FourBFiveB => nrzi_encode(code_groups(bits).iter().by_vals()),
        LineCode::Mlt3 => mlt3_encode(code_groups(bits).iter().by_vals()),
    }
}

/// Decode `code`'s signal levels back into bits, checking every code rule on the way: a level the
/// code does not use, a Manchester pair without its mid-bit transition, an MLT-3 step that skips
/// the cycle, an invalid 4B/5B code group, a missing /J/K/ or /T/R/.
pub fn decode(code: LineCode, symbols: &[Level]) -> Result<Bits> {
    match code {
        LineCode::NrzL => {
            symbols.iter().enumerate().map(|(i, &l)| two_level(code, i, l).map(|_| l == Level::High)).collect()
        }
        LineCode::Nrzi => nrzi_decode(code, symbols),
        LineCode::Manchester => manchester_decode(symbols),
        LineCode::FourBFiveB => groups_decode(code, &nrzi_decode(code, symbols)?),
        LineCode::Mlt3 => groups_decode(code, &mlt3_decode(symbols)?),
    }
}

/// The data bit a symbol index belongs to (what an error's `bit` names).
pub fn data_bit_of_symbol(code: LineCode, symbol: usize) -> usize {
    match code {
        LineCode::NrzL | LineCode::Nrzi => symbol,
        LineCode::Manchester => symbol / 2,
        LineCode::FourBFiveB | LineCode::Mlt3 => symbol / 5 * 4,
    }
}

/// The protocol named in L1 errors.
pub(super) fn protocol(code: LineCode) -> &'static str {
    match code {
        LineCode::NrzL => "NRZ-L",
        LineCode::Nrzi => "NRZI",
        LineCode::Manchester => "Manchester",
        LineCode::FourBFiveB => "4B/5B + NRZI",
        LineCode::Mlt3 => "4B/5B + MLT-3",
    }
}

fn violation(code: LineCode, symbol: usize, what: impl Into<String>) -> Error {
    let bit = data_bit_of_symbol(code, symbol);
    Error::code(LayerId::Physical, protocol(code), bit, format!("{} (symbol {symbol})", what.into()))
}

fn nrz_level(b: bool) -> Level {
    if b {
        Level::High
    } else {
        Level::Low
    }
}

/// NRZ and NRZI use two levels only; a `Zero` is a code violation.
fn two_level(code: LineCode, i: usize, l: Level) -> Result<()> {
    if l == Level::Zero {
        return Err(violation(code, i, "code violation: 0 V level in a two-level code"));
    }
    Ok(())
}

/// NRZI: a 1 toggles the level, a 0 keeps it; the line starts Low.
fn nrzi_encode(bits: impl Iterator<Item = bool>) -> Vec<Level> {
    let mut level = Level::Low;
    bits.map(|b| {
        if b {
            level = level.flipped();
        }
        level
    })
    .collect()
}

fn nrzi_decode(code: LineCode, symbols: &[Level]) -> Result<Bits> {
    let mut prev = Level::Low;
    let mut out = Bits::with_capacity(symbols.len());
    for (i, &l) in symbols.iter().enumerate() {
        two_level(code, i, l)?;
        out.push(l != prev);
        prev = l;
    }
    Ok(out)
}

/// MLT-3: start at 0 V (the cycle's first step); each 1 moves one step along 0, +, 0, −.
fn mlt3_encode(bits: impl Iterator<Item = bool>) -> Vec<Level> {
    let mut step = 0usize;
    bits.map(|b| {
        if b {
            step = (step + 1) % MLT3_CYCLE.len();
        }
        MLT3_CYCLE[step]
    })
    .collect()
}

/// MLT-3 decoding: the level either stays (0) or takes the cycle's next step (1); anything else
/// (+ straight to −, or back to the level just left) cannot be produced by a transmitter.
fn mlt3_decode(symbols: &[Level]) -> Result<Bits> {
    let mut step = 0usize;
    let mut out = Bits::with_capacity(symbols.len());
    for (i, &l) in symbols.iter().enumerate() {
        let next = (step + 1) % MLT3_CYCLE.len();
        if l == MLT3_CYCLE[step] {
            out.push(false);
        } else if l == MLT3_CYCLE[next] {
            out.push(true);
            step = next;
        } else {
            let prev = if i == 0 { Level::Zero } else { symbols[i - 1] };
            return Err(violation(
                LineCode::Mlt3,
                i,
                format!(
                    "impossible MLT-3 transition {} → {} (after {} the next step is {})",
                    prev.symbol(),
                    l.symbol(),
                    MLT3_CYCLE[step].symbol(),
                    MLT3_CYCLE[next].symbol()
                ),
            ));
        }
    }
    Ok(out)
}

/// Manchester decoding (802.3 Clause 7, used by 10BASE-T Clause 14): every bit cell must change level at mid-bit.
fn manchester_decode(symbols: &[Level]) -> Result<Bits> {
    let code = LineCode::Manchester;
    let mut out = Bits::with_capacity(symbols.len() / 2);
    let mut pairs = symbols.chunks_exact(2);
    for (n, pair) in pairs.by_ref().enumerate() {
        match (pair[0], pair[1]) {
            (Level::High, Level::Low) => out.push(false),
            (Level::Low, Level::High) => out.push(true),
            (a, b) => {
                return Err(violation(
                    code,
                    2 * n,
                    format!("Manchester code violation: no mid-bit transition ({}{})", a.symbol(), b.symbol()),
                ))
            }
        }
    }
    if !pairs.remainder().is_empty() {
        return Err(violation(code, symbols.len() - 1, "Manchester code violation: half a bit cell at the end"));
    }
    Ok(out)
}

/// Push a code group, bit 4 first (802.3 §24.2.2.1).
fn push_group(out: &mut Bits, group: u8) {
    for i in (0..5).rev() {
        out.push(group >> i & 1 == 1);
    }
}

/// The 4B/5B code-bit stream: /J/K/ in place of the first octet, one code group per nibble (bit 0
/// of the nibble is the first bit sent), then /T/R/ (802.3 §24.2.2.1).
fn code_groups(bits: &BitSlice<u8, Lsb0>) -> Bits {
    let mut out = Bits::with_capacity(bits.len() * 5 / 4 + 20);
    push_group(&mut out, GROUP_J);
    push_group(&mut out, GROUP_K);
    let data = bits.get(8..).unwrap_or_default();
    for nibble in data.chunks(4) {
        let n = nibble.iter().by_vals().enumerate().fold(0usize, |acc, (i, b)| acc | usize::from(b) << i);
        push_group(&mut out, DATA_GROUPS[n & 0xf]);
    }
    push_group(&mut out, GROUP_T);
    push_group(&mut out, GROUP_R);
    out
}

/// Undo [`code_groups`]: check /J/K/, translate data groups to nibbles, stop at /T/R/ which must
/// end the stream. /J/K/ come back as 0101 0101, the preamble octet they replaced (§24.2.2.1).
fn groups_decode(code: LineCode, code_bits: &BitSlice<u8, Lsb0>) -> Result<Bits> {
    let whole = code_bits.len() / 5 * 5;
    if whole != code_bits.len() {
        return Err(violation(code, whole, format!("{} code bits are not whole 5-bit code groups", code_bits.len())));
    }
    let groups: Vec<u8> =
        code_bits.chunks_exact(5).map(|g| g.iter().by_vals().fold(0u8, |acc, b| acc << 1 | u8::from(b))).collect();
    let found = |i: usize| groups.get(i).map_or_else(|| "end of signal".to_string(), |&g| group_name(g));
    if groups.first() != Some(&GROUP_J) {
        return Err(violation(
            code,
            0,
            format!("missing /J/K/ start-of-stream delimiter: expected /J/, found {}", found(0)),
        ));
    }
    if groups.get(1) != Some(&GROUP_K) {
        return Err(violation(
            code,
            5,
            format!("missing /J/K/ start-of-stream delimiter: expected /K/, found {}", found(1)),
        ));
    }
    let mut out = Bits::with_capacity(groups.len() * 4);
    out.extend_from_bitslice(bits![u8, Lsb0; 1, 0, 1, 0, 1, 0, 1, 0]);
    let mut i = 2;
    loop {
        let Some(&g) = groups.get(i) else {
            return Err(violation(code, 5 * i, "missing /T/R/ end-of-stream delimiter: the signal ends first"));
        };
        if let Some(n) = nibble_of_group(g) {
            (0..4).for_each(|k| out.push(n >> k & 1 == 1));
            i += 1;
        } else if g == GROUP_T {
            if groups.get(i + 1) != Some(&GROUP_R) {
                return Err(violation(
                    code,
                    5 * (i + 1),
                    format!("missing /T/R/ end-of-stream delimiter: /T/ followed by {}", found(i + 1)),
                ));
            }
            if i + 2 != groups.len() {
                return Err(violation(code, 5 * (i + 2), format!("code group {} after /T/R/", found(i + 2))));
            }
            return Ok(out);
        } else {
            return Err(violation(code, 5 * i, format!("invalid code group {} inside the stream", group_name(g))));
        }
    }
}
