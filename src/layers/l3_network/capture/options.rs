//! IPv4 options (RFC 791 §3.1 "Options"; RFC 2113 Router Alert), listed as tshark 4.0 lists
//! them: one `ip.options.<name>` item per option (its bytes), and under it `ip.opt.type` with
//! its copy / class / number bits, `ip.opt.len`, and the option's own fields.
//!
//! Single-octet options: End of Option List (0, which ends the list) and No-Operation (1).
//! Others: type, length (counting type and length octets), data. Decoded: Record Route (7),
//! Loose and Strict Source Route (131, 137), Timestamp (68), Stream ID (136), Router Alert
//! (148). Others are named "Unknown" in a note, with no fields, as tshark shows them. An option
//! whose length is below 2 or runs past the header ends the list with Wireshark's warning.
//!
//! A source route changes what tshark calls the destination: the header's destination field is
//! then `ip.cur_rt` (the current hop), and the route's last address is `ip.dst`, listed inside
//! the option ([`Options::final_dst`]).

use super::{be16, be32, byte, ipv4_at};
use crate::trace::{Expert, Field, Group, Severity, Value};
use std::net::Ipv4Addr;

/// What the options say.
#[derive(Debug, Clone, Default)]
pub(super) struct Options {
    /// The fields, in wire order.
    pub fields: Vec<Field>,
    /// Expert items (a bad option length).
    pub expert: Vec<Expert>,
    /// Notes (options tshark names but does not decode).
    pub notes: Vec<String>,
    /// The last address of a source route option, which tshark takes for the destination.
    pub final_dst: Option<Ipv4Addr>,
}

/// Wireshark's name for an option number (the low 5 bits) and the field name of its item.
fn name(t: u8) -> Option<(&'static str, &'static str, &'static str)> {
    // (item field, item label, number name)
    Some(match t {
        0 => ("ip.options.eol", "End of Options List (EOL)", "End of Option List (EOL)"),
        1 => ("ip.options.nop", "No-Operation (NOP)", "No-Operation (NOP)"),
        7 => ("ip.options.record_route", "Record Route", "Record route"),
        131 => ("ip.options.route", "Loose Source Route", "Loose source route"),
        137 => ("ip.options.source_route", "Strict Source Route", "Strict source route"),
        68 => ("ip.options.timestamp", "Time Stamp", "Time stamp"),
        136 => ("ip.options.sid", "Stream ID", "Stream identifier"),
        148 => ("ip.options.routeralert", "Router Alert", "Router Alert"),
        _ => return None,
    })
}

/// `ip.opt.type` and its three parts (RFC 791: copied flag, option class, option number).
fn type_fields(t: u8, number_name: &str, depth: u8) -> Vec<Field> {
    let copy = t & 0x80 != 0;
    let class = (t >> 5) & 3;
    let class_name = match class {
        0 => "Control",
        2 => "Debugging and measurement",
        _ => "Reserved for future use",
    };
    let number = t & 0x1f;
    vec![
        Field::uint("ip.opt.type", "Type", t).depth(depth),
        Field::flag("ip.opt.type.copy", "Copy on fragmentation", copy)
            .shown(if copy { "Yes" } else { "No" })
            .depth(depth + 1),
        Field::uint("ip.opt.type.class", "Class", class).shown(format!("{class_name} ({class})")).depth(depth + 1),
        Field::uint("ip.opt.type.number", "Number", number).shown(format!("{number_name} ({number})")).depth(depth + 1),
    ]
}

/// The options in `opts` (the header's bytes 20..IHL×4), whose first byte is at frame offset `at`.
pub(super) fn parse(opts: &[u8], at: usize) -> Options {
    let mut out = Options::default();
    let mut i = 0;
    while i < opts.len() {
        let t = byte(opts, i);
        let known = name(t);
        if t == 0 || t == 1 {
            let (item, label, number) = known.unwrap_or(("", "", ""));
            out.fields.push(Field::new(item, format!("IP Option - {label}"), Value::Bytes(vec![t])));
            out.fields.extend(type_fields(t, number, 1));
            i += 1;
            if t == 0 {
                break;
            }
            continue;
        }
        let label = known.map_or_else(|| format!("Unknown (0x{t:02x})"), |k| k.1.to_string());
        let Some(&len) = opts.get(i + 1) else {
            out.expert.push(Expert::new(
                Severity::Warning,
                Group::Protocol,
                format!("{label} (length byte past end of options)"),
                at + i,
            ));
            break;
        };
        let len = usize::from(len);
        if len < 2 {
            out.expert.push(Expert::new(
                Severity::Warning,
                Group::Protocol,
                format!("{label} (with too-short option length = {len} byte{})", if len == 1 { "" } else { "s" }),
                at + i,
            ));
            break;
        }
        if i + len > opts.len() {
            out.expert.push(Expert::new(
                Severity::Warning,
                Group::Protocol,
                format!("{label} (option length = {len} bytes says option goes past end of options)"),
                at + i,
            ));
            break;
        }
        let o = &opts[i..i + len];
        match known {
            Some((item, label, number)) => {
                let mut head = Field::new(item, format!("IP Option - {label}"), Value::Bytes(o.to_vec()))
                    .shown(format!("({len} bytes)"));
                if t == 148 {
                    head = head.shown(format!("({len} bytes): {}", ra_name(be16(o, 2))));
                }
                out.fields.push(head);
                out.fields.extend(type_fields(t, number, 1));
                out.fields.push(Field::uint("ip.opt.len", "Length", len as u64).depth(1));
                body(t, o, &mut out);
            }
            None => out.notes.push(format!("IPv4 option {label} ({len} bytes) not decoded")),
        }
        i += len;
    }
    out
}

/// RFC 2113 §2.1: the Router Alert value.
fn ra_name(v: u16) -> String {
    if v == 0 {
        "Router shall examine packet (0)".to_string()
    } else {
        format!("Reserved ({v})")
    }
}

/// The fields after type and length.
fn body(t: u8, o: &[u8], out: &mut Options) {
    let len = o.len();
    match t {
        // RFC 791: Record Route, Loose / Strict Source Route: a pointer, then route slots.
        7 | 131 | 137 => {
            let Some(&ptr) = o.get(2) else { return };
            out.fields.push(Field::uint("ip.opt.ptr", "Pointer", ptr).depth(1));
            let slots = (len - 3) / 4;
            for k in 0..slots {
                let a = ipv4_at(o, 3 + 4 * k);
                let next = usize::from(ptr) == 4 + 4 * k;
                let mark = if next { " <- (next)" } else { "" };
                if t == 7 {
                    let recorded = 3 + 4 * k < usize::from(ptr).saturating_sub(1);
                    let (n, l) =
                        if recorded { ("ip.rec_rt", "Recorded Route") } else { ("ip.empty_rt", "Empty Route") };
                    out.fields.push(Field::new(n, l, Value::Ipv4(a)).shown(format!("{a}{mark}")).depth(1));
                } else if k + 1 == slots {
                    out.final_dst = Some(a);
                    out.fields.push(Field::new("ip.dst", "Destination Address", Value::Ipv4(a)).depth(1));
                } else {
                    out.fields.push(
                        Field::new("ip.src_rt", "Source Route", Value::Ipv4(a)).shown(format!("{a}{mark}")).depth(1),
                    );
                }
            }
        }
        // RFC 791: Internet Timestamp: pointer, overflow and flag, then stamps (and addresses).
        68 if len >= 4 => {
            let (ptr, of) = (o[2], o[3]);
            let (overflow, flag) = (of >> 4, of & 0x0f);
            let flag_name = match flag {
                0 => "Time stamps only",
                1 => "Time stamp and address",
                3 => "Time stamps for prespecified addresses",
                _ => "Unknown",
            };
            out.fields.push(Field::uint("ip.opt.ptr", "Pointer", ptr).depth(1));
            out.fields.push(Field::uint("ip.opt.overflow", "Overflow", overflow).depth(1));
            out.fields
                .push(Field::hex("ip.opt.flag", "Flag", flag, 2).shown(format!("{flag_name} (0x{flag:x})")).depth(1));
            let mut k = 4;
            let with_addr = flag == 1 || flag == 3;
            while k + 4 <= len {
                if with_addr {
                    if k + 8 > len {
                        break;
                    }
                    let a = ipv4_at(o, k);
                    let shown = if a.is_unspecified() { "-".to_string() } else { a.to_string() };
                    out.fields
                        .push(Field::new("ip.opt.time_stamp_addr", "Address", Value::Ipv4(a)).shown(shown).depth(1));
                    k += 4;
                }
                out.fields.push(Field::uint("ip.opt.time_stamp", "Time stamp", be32(o, k)).depth(1));
                k += 4;
            }
        }
        // RFC 791: Stream Identifier.
        136 if len >= 4 => out.fields.push(Field::uint("ip.opt.sid", "Stream Identifier", be16(o, 2)).depth(1)),
        // RFC 2113: Router Alert.
        148 if len >= 4 => {
            let v = be16(o, 2);
            out.fields.push(Field::uint("ip.opt.ra", "Router Alert", v).shown(ra_name(v)).depth(1));
        }
        _ => {}
    }
}
