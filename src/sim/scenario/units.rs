//! The little languages inside a scenario's strings: durations, bit rates, probabilities, line
//! codes, addresses with a prefix ([`Cidr`]), endpoints (`IP` or `IP:port`) and names.
//!
//! Every parser returns `Err(message)` where the message quotes what it was given and shows what
//! it expected; the loader puts the file, line and field in front of it.

use crate::layers::l1_physical::{BitRate, LineCode};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// What the duration parser shows as examples.
const DURATION_EXAMPLES: &str = "like \"250ms\", \"1.5s\", \"2us\", \"10ns\", \"1m\"";
/// What the rate parser shows as examples.
const RATE_EXAMPLES: &str = "like \"100Mbit/s\", \"10Mbps\", \"1Gbit/s\", \"56kbit/s\"";

/// Why a decimal number scaled by a unit did not give a whole number.
enum Scaled {
    /// Not digits with at most one decimal point.
    NotNumber,
    /// The value is finer than the smallest unit (a fraction of a nanosecond or of a bit/s).
    Fraction,
    /// Too large for 64 bits.
    Overflow,
}

/// `num` (digits, optionally `.` and more digits) times `unit`, exactly, in integer arithmetic so
/// that "1.1s" is 1 100 000 000 ns and not one float rounding away from it.
fn scaled(num: &str, unit: u64) -> Result<u64, Scaled> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(Scaled::NotNumber);
    }
    if frac.len() > 18 {
        return Err(Scaled::Fraction);
    }
    let unit = u128::from(unit);
    let int_v: u128 = if int.is_empty() { 0 } else { int.parse().map_err(|_| Scaled::Overflow)? };
    let frac_v: u128 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| Scaled::NotNumber)? };
    let denom = 10u128.pow(frac.len() as u32);
    let frac_scaled = frac_v * unit;
    if frac_scaled % denom != 0 {
        return Err(Scaled::Fraction);
    }
    let total = int_v.checked_mul(unit).and_then(|v| v.checked_add(frac_scaled / denom)).ok_or(Scaled::Overflow)?;
    u64::try_from(total).map_err(|_| Scaled::Overflow)
}

/// Splits "1.5 s" into ("1.5", "s"): the number is the leading digits and dots.
fn split_number(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    (&s[..end], s[end..].trim())
}

/// A duration: a decimal number and a unit, `ns`, `us` (or `µs`), `ms`, `s`, `m` (minutes) or `h`;
/// "0" alone is zero. Negative or unit-less durations are refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("{s:?} is negative: a duration counts forward from the start of the run"));
    }
    let (num, unit) = split_number(t);
    let bad = || format!("{s:?} is not a duration ({DURATION_EXAMPLES})");
    let per_unit: u64 = match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" if !num.is_empty() && num.bytes().all(|b| b == b'0' || b == b'.') => 1,
        "" if !num.is_empty() => return Err(format!("{s:?} has no unit ({DURATION_EXAMPLES})")),
        _ => return Err(bad()),
    };
    match scaled(num, per_unit) {
        Ok(ns) => Ok(Duration::from_nanos(ns)),
        Err(Scaled::NotNumber) => Err(bad()),
        Err(Scaled::Fraction) => Err(format!("{s:?} is finer than the simulation's 1 ns resolution")),
        Err(Scaled::Overflow) => Err(format!("{s:?} is too long (the simulated clock stops at about 584 years)")),
    }
}

/// Writes a duration the way the parser reads it: the largest unit that shows it exactly.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    for (unit, name) in [(3_600_000_000_000u128, "h"), (60_000_000_000, "m"), (1_000_000_000, "s")] {
        if ns >= unit && ns % unit == 0 {
            return format!("{}{name}", ns / unit);
        }
    }
    for (unit, name) in [(1_000_000_000u128, "s"), (1_000_000, "ms"), (1_000, "us")] {
        if ns >= unit {
            let whole = ns / unit;
            let frac = ns % unit;
            if frac == 0 {
                return format!("{whole}{name}");
            }
            let width = unit.ilog10() as usize;
            let digits = format!("{frac:0width$}");
            return format!("{whole}.{}{name}", digits.trim_end_matches('0'));
        }
    }
    format!("{ns}ns")
}

/// A bit rate: a decimal number and a unit in bits per second (`bit/s`, `bps`, `kbit/s`, `kbps`,
/// `Mbit/s`, `Mbps`, `Gbit/s`, `Gbps`; or the L1 CLI's short `k`, `M`, `G`), SI prefixes (k = 1000,
/// as IEEE 802.3 counts its rates). Bytes per second (`MB/s`) are refused with a hint; so is zero.
pub fn parse_rate(s: &str) -> Result<BitRate, String> {
    let t = s.trim();
    let (num, unit) = split_number(t);
    let bad = || format!("{s:?} is not a bit rate ({RATE_EXAMPLES})");
    if unit.contains('B') {
        return Err(format!(
            "{s:?} looks like bytes per second: rates are in bits per second ({RATE_EXAMPLES}; 1 MB/s = 8 Mbit/s)"
        ));
    }
    let lower = unit.to_ascii_lowercase();
    let (prefix, rest) = match lower.chars().next() {
        Some('k') => (1_000, &lower[1..]),
        Some('m') => (1_000_000, &lower[1..]),
        Some('g') => (1_000_000_000, &lower[1..]),
        _ => (1, lower.as_str()),
    };
    if !matches!(rest, "" | "bit/s" | "bps" | "b/s" | "bits/s") || (prefix == 1 && rest.is_empty() && !unit.is_empty())
    {
        return Err(bad());
    }
    match scaled(num, prefix) {
        Ok(0) => Err(format!("{s:?} is zero: a link needs a bandwidth above 0 bit/s")),
        Ok(bps) => Ok(BitRate(bps)),
        Err(Scaled::NotNumber) => Err(bad()),
        Err(Scaled::Fraction) => Err(format!("{s:?} is not a whole number of bits per second")),
        Err(Scaled::Overflow) => Err(format!("{s:?} is too fast to count in 64 bits")),
    }
}

/// A probability in [0, 1], from a number or a percentage string like "10%".
pub fn parse_probability(p: f64) -> Result<f64, String> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a probability: expected a number from 0 to 1 (0.1 = 10 %), or a string like \"10%\""))
    }
}

/// A percentage string ("10%", "0.5 %") as a probability in [0, 1].
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let bad = || format!("{s:?} is not a probability: expected a number from 0 to 1, or a percentage like \"10%\"");
    let num = s.trim().strip_suffix('%').ok_or_else(bad)?.trim();
    let v: f64 = num.parse().map_err(|_| bad())?;
    if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
        return Err(format!("{s:?} is not a percentage from 0% to 100%"));
    }
    Ok(v / 100.0)
}

/// A line code by the scenario's names (`nrz-l`, `nrzi`, `manchester`, `4b5b-nrzi`, `4b5b-mlt3`)
/// or the L1 CLI's (`nrz`, `4b5b`, `mlt3`: [`LineCode`]'s `FromStr`).
pub fn parse_line_code(s: &str) -> Result<LineCode, String> {
    match s.to_ascii_lowercase().as_str() {
        "4b5b-nrzi" => Ok(LineCode::FourBFiveB),
        "4b5b-mlt3" => Ok(LineCode::Mlt3),
        other => LineCode::from_str(other)
            .map_err(|_| format!("{s:?} is not a line code: expected nrz-l, nrzi, manchester, 4b5b-nrzi or 4b5b-mlt3")),
    }
}

/// An IP address with a prefix length: an interface's address and its subnet (RFC 4632 §3.1
/// notation for IPv4, RFC 4291 §2.3 for IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The address (an interface's own, or a route's destination).
    pub addr: IpAddr,
    /// The prefix length: 0–32 for IPv4, 0–128 for IPv6.
    pub prefix: u8,
}

impl Cidr {
    /// `addr/prefix`, or `None` when the prefix is too long for the family.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        (prefix <= Self::max_prefix(addr)).then_some(Cidr { addr, prefix })
    }

    fn max_prefix(addr: IpAddr) -> u8 {
        if addr.is_ipv4() {
            32
        } else {
            128
        }
    }

    /// True for an IPv4 address.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// The address as IPv4, if it is one.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }

    /// The address as IPv6, if it is one.
    pub fn ipv6(&self) -> Option<Ipv6Addr> {
        match self.addr {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        }
    }

    fn mask4(prefix: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
    }

    fn mask6(prefix: u8) -> u128 {
        u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
    }

    /// The subnet's network address (the address with the host bits cleared).
    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & Self::mask4(self.prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & Self::mask6(self.prefix))),
        }
    }

    /// The subnet itself: the network address with this prefix (`192.0.2.10/24` → `192.0.2.0/24`).
    pub fn subnet(&self) -> Cidr {
        Cidr { addr: self.network(), prefix: self.prefix }
    }

    /// The IPv4 directed broadcast address of the subnet (all host bits set, RFC 919 §7), for
    /// IPv4 prefixes up to /30 (a /31 has none, RFC 3021; nor has a /32).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        match self.addr {
            IpAddr::V4(a) if self.prefix <= 30 => Some(Ipv4Addr::from(u32::from(a) | !Self::mask4(self.prefix))),
            _ => None,
        }
    }

    /// Whether `ip` lies in this subnet (same family, same prefix bits).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let m = Self::mask4(self.prefix);
                u32::from(a) & m == u32::from(b) & m
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let m = Self::mask6(self.prefix);
                u128::from(a) & m == u128::from(b) & m
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = String;
    /// `192.0.2.10/24` or `2001:db8::10/64`; the prefix is required.
    fn from_str(s: &str) -> Result<Self, String> {
        let example = if s.contains(':') { "2001:db8::10/64" } else { "192.0.2.10/24" };
        let bad = || format!("{s:?} is not an IP address with a prefix (like {example})");
        let (a, p) = s.trim().split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        Cidr::new(addr, prefix).ok_or_else(|| {
            format!("{s:?}: a prefix length is at most {} for {}", Self::max_prefix(addr), family_name(addr))
        })
    }
}

/// "IPv4" or "IPv6".
pub fn family_name(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// An address from the ranges set aside for documentation: 192.0.2.0/24, 198.51.100.0/24 and
/// 203.0.113.0/24 (RFC 5737 §3), 2001:db8::/32 (RFC 3849 §2) and 3fff::/20 (RFC 9637 §3).
/// Scenarios may use any address, but pcaps get shared, so the loader warns about the others.
pub fn is_documentation(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => matches!(a.octets(), [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _]),
        IpAddr::V6(a) => {
            let s = a.segments();
            (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] & 0xf000 == 0)
        }
    }
}

/// An endpoint literal: `IP:port` (`[v6]:port` for IPv6), or a bare `IP` (also `[v6]`) when the
/// program has a well-known `default_port`. Names are refused: these are addresses, not URLs.
pub fn parse_endpoint(s: &str, default_port: Option<u16>) -> Result<SocketAddr, String> {
    let t = s.trim();
    if let Ok(sa) = t.parse::<SocketAddr>() {
        if sa.port() == 0 {
            return Err(format!("{s:?}: port 0 is not a destination (ports are 1 to 65535)"));
        }
        return Ok(sa);
    }
    let bare = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(t);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return match default_port {
            Some(p) => Ok(SocketAddr::new(ip, p)),
            None => Err(format!("{s:?} has no port (like {})", SocketAddr::new(ip, 9000))),
        };
    }
    if let Some((_, port)) = t.rsplit_once(':') {
        if port.parse::<u32>().is_ok_and(|p| p > 65535) {
            return Err(format!("{s:?}: port {port} is out of range (ports are 1 to 65535)"));
        }
    }
    let like = if default_port.is_some() { "192.0.2.10 or 192.0.2.10:3000" } else { "192.0.2.10:3000" };
    Err(format!("{s:?} is not an IP address and port (like {like}; [2001:db8::10]:3000 for IPv6)"))
}

/// A local address to bind: like [`parse_endpoint`] but port 0 (an ephemeral port) is allowed,
/// and a bare `:3000` means the unspecified IPv4 address `0.0.0.0:3000`.
pub fn parse_bind_addr(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    let full = if t.starts_with(':') { format!("0.0.0.0{t}") } else { t.to_string() };
    full.parse::<SocketAddr>().map_err(|_| {
        format!("{s:?} is not a local address and port (like 0.0.0.0:3000, [::]:3000, 192.0.2.10:0 or :3000)")
    })
}

/// A device or interface name: 1 to 63 of `a-z`, `0-9`, `-`, not starting or ending with `-` (a
/// host name label, RFC 1123 §2.1), so that it can be printed anywhere unquoted.
pub fn check_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a name: use 1 to 63 of a-z, 0-9 and - (not first or last), like \"sw1\" or \"web-server\""
        ))
    }
}

/// A process name (the `ss -p` column): 1 to 32 printable ASCII characters, no space and no `/`
/// (the script names a process as `host/name`).
pub fn check_process_name(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
        Ok(())
    } else {
        Err(format!("{s:?} is not a process name: use 1 to 32 printable characters without spaces or \"/\""))
    }
}
