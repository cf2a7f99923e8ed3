//! Numbers and addresses as text without `core::fmt`'s machinery: `osilab dissect -e …` writes
//! tens of values per frame, and `write!` (argument structs, padding logic, a virtual call per
//! piece) costs more than the digits themselves. Each function writes exactly what the `std`
//! formatting named in its doc writes (the tests compare them).

use std::fmt::{self, Write};
use std::net::Ipv4Addr;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Where text goes: any `fmt::Write` (a `String`, a `Formatter`) through [`Fmt`], or raw bytes
/// (`Vec<u8>`, the `-T fields` line), which take the digits without a UTF-8 check.
pub trait Sink {
    /// ASCII bytes (digits and punctuation).
    fn ascii(&mut self, b: &[u8]) -> fmt::Result;
    /// Text.
    fn text(&mut self, s: &str) -> fmt::Result;
    /// What `core::fmt` writes, for the rare kinds written no other way.
    fn args(&mut self, a: fmt::Arguments<'_>) -> fmt::Result;
}

impl Sink for Vec<u8> {
    fn ascii(&mut self, b: &[u8]) -> fmt::Result {
        self.extend_from_slice(b);
        Ok(())
    }

    fn text(&mut self, s: &str) -> fmt::Result {
        self.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn args(&mut self, a: fmt::Arguments<'_>) -> fmt::Result {
        std::io::Write::write_fmt(self, a).map_err(|_| fmt::Error)
    }
}

/// A [`Sink`] over a `fmt::Write`.
pub struct Fmt<'a, W: ?Sized>(pub &'a mut W);

impl<W: Write + ?Sized> Sink for Fmt<'_, W> {
    fn ascii(&mut self, b: &[u8]) -> fmt::Result {
        // The callers pass ASCII only, which is UTF-8.
        self.0.write_str(std::str::from_utf8(b).unwrap_or_default())
    }

    fn text(&mut self, s: &str) -> fmt::Result {
        self.0.write_str(s)
    }

    fn args(&mut self, a: fmt::Arguments<'_>) -> fmt::Result {
        self.0.write_fmt(a)
    }
}

/// `v` in decimal, as `{v}` writes it.
pub fn dec<S: Sink + ?Sized>(w: &mut S, v: u64) -> fmt::Result {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        // v % 10 < 10: the cast cannot truncate.
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    w.ascii(&buf[i..])
}

/// `v` in decimal with at least `width` digits, zero-padded, as `{v:0width$}` writes it.
pub fn dec_padded<S: Sink + ?Sized>(w: &mut S, v: u64, width: usize) -> fmt::Result {
    let mut n = 1;
    let mut rest = v / 10;
    while rest > 0 {
        n += 1;
        rest /= 10;
    }
    for _ in n..width {
        w.ascii(b"0")?;
    }
    dec(w, v)
}

/// `0x` and `v` in lower-case hex, zero-padded to at least `digits` digits, as
/// `0x{v:0digits$x}` writes it.
pub fn hex<S: Sink + ?Sized>(w: &mut S, v: u64, digits: u8) -> fmt::Result {
    let mut buf = [b'0'; 2 + 16];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    // Zero padding: the buffer is zeros already; 16 digits is all a u64 has.
    i = i.min(buf.len() - usize::from(digits).min(16));
    let pad = usize::from(digits).saturating_sub(16);
    i -= 2;
    buf[i] = b'0';
    buf[i + 1] = b'x';
    if pad == 0 {
        return w.ascii(&buf[i..]);
    }
    // More than 16 digits asked for: `0x`, the extra zeros, then the 16 digits.
    w.ascii(b"0x")?;
    for _ in 0..pad {
        w.ascii(b"0")?;
    }
    w.ascii(&buf[i + 2..])
}

/// A MAC address as `MacAddr`'s `Display` writes it: `aa:bb:cc:dd:ee:ff`.
pub fn mac<S: Sink + ?Sized>(w: &mut S, m: &[u8; 6]) -> fmt::Result {
    let mut buf = [b':'; 17];
    for (k, b) in m.iter().enumerate() {
        buf[3 * k] = HEX[usize::from(b >> 4)];
        buf[3 * k + 1] = HEX[usize::from(b & 0xf)];
    }
    w.ascii(&buf)
}

/// An IPv4 address as `Ipv4Addr`'s `Display` writes it: `192.0.2.1`.
pub fn ipv4<S: Sink + ?Sized>(w: &mut S, a: Ipv4Addr) -> fmt::Result {
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (k, o) in a.octets().into_iter().enumerate() {
        if k > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    w.ascii(&buf[..n])
}

/// Bytes as lower-case hex, two digits each, no separators.
pub fn hex_bytes<S: Sink + ?Sized>(w: &mut S, bytes: &[u8]) -> fmt::Result {
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(buf.len() / 2) {
        for (k, b) in chunk.iter().enumerate() {
            buf[2 * k] = HEX[usize::from(b >> 4)];
            buf[2 * k + 1] = HEX[usize::from(b & 0xf)];
        }
        w.ascii(&buf[..2 * chunk.len()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `f` writes, through a `String` and through a `Vec<u8>`: the same text.
    fn run(f: impl Fn(&mut dyn Sink) -> fmt::Result) -> String {
        let mut s = String::new();
        f(&mut Fmt(&mut s)).expect("writing to a String");
        let mut v = Vec::new();
        f(&mut v).expect("writing to a Vec");
        assert_eq!(v, s.as_bytes());
        s
    }

    #[test]
    fn edges_match_std() {
        for v in [0, 1, 9, 10, 99, 100, 65535, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(run(|s| dec(s, v)), v.to_string());
            for width in [0, 1, 9, 25] {
                assert_eq!(run(|s| dec_padded(s, v, width)), format!("{v:0width$}"));
            }
            for d in [0u8, 1, 2, 4, 8, 16, 17, 20] {
                assert_eq!(run(|s| hex(s, v, d)), format!("0x{v:0w$x}", w = usize::from(d)), "{v} {d}");
            }
        }
        assert_eq!(run(|s| mac(s, &[0xff, 0, 0x0a, 0xb0, 1, 0x23])), "ff:00:0a:b0:01:23");
        assert_eq!(run(|s| ipv4(s, Ipv4Addr::new(0, 10, 100, 255))), "0.10.100.255");
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(run(|s| hex_bytes(s, &bytes)), crate::trace::hex(&bytes));
    }

    proptest! {
        #[test]
        fn numbers_and_addresses_match_std(v: u64, d in 0u8..24, m: [u8; 6], a: [u8; 4]) {
            prop_assert_eq!(run(|s| dec(s, v)), v.to_string());
            prop_assert_eq!(run(|s| hex(s, v, d)), format!("0x{v:0w$x}", w = usize::from(d)));
            prop_assert_eq!(run(|s| mac(s, &m)), crate::addr::MacAddr(m).to_string());
            prop_assert_eq!(run(|s| ipv4(s, Ipv4Addr::from(a))), Ipv4Addr::from(a).to_string());
        }
    }
}
