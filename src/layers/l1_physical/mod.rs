//! L1 physical: the frame as bits on the medium.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `LineCode` (FromStr: nrz|nrz-l|nrzi|manchester|4b5b|mlt3; Display the canonical CLI name)
//! - `BitRate` (FromStr: 10M|100M|1G|<bits per second>; `bps()`)
//! - `Level`, `Signal`
//! - `PhysicalConfig`, `Physical::new(cfg)`, `impl Layer for Physical`

use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu};
use crate::time::Instant;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A line code: how bits become signal levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum LineCode {
    /// Non-return-to-zero, level: 1 high, 0 low.
    NrzL,
    /// Non-return-to-zero, inverted: 1 toggles the level, 0 keeps it.
    Nrzi,
    /// Manchester, IEEE 802.3 convention (10BASE-T): 0 is high→low, 1 is low→high.
    Manchester,
    /// 4B/5B code groups sent with NRZI (100BASE-FX).
    FourBFiveB,
    /// 4B/5B code groups sent with MLT-3 (100BASE-TX, without the scrambler).
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

/// The physical layer.
#[derive(Debug, Clone)]
pub struct Physical {
    cfg: PhysicalConfig,
}

impl Physical {
    /// A physical layer with this configuration.
    pub fn new(cfg: PhysicalConfig) -> Self {
        Physical { cfg }
    }
}

impl Layer for Physical {
    fn id(&self) -> LayerId {
        LayerId::Physical
    }
    fn encapsulate(&mut self, _sdu: Pdu, _cx: &mut Context) -> Result<Vec<Pdu>> {
        let _ = &self.cfg;
        Err(crate::error::Error::config(Some(LayerId::Physical), "L1 not built yet"))
    }
    fn decapsulate(&mut self, _pdu: Pdu, _cx: &mut Context) -> Result<Option<Pdu>> {
        Err(crate::error::Error::config(Some(LayerId::Physical), "L1 not built yet"))
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
        if !(bps.is_finite() && bps >= 1.0 && bps <= 1e12) {
            return Err(bad());
        }
        Ok(BitRate(bps.round() as u64))
    }
}
