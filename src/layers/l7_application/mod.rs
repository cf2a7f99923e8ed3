//! L7 application: `raw` (the message bytes as given, shown under Wireshark's generic `data`
//! protocol), [`chat`] (the chat room's line protocol), [`http`] (HTTP/1.1) and [`dns`] (DNS
//! over UDP). Each is its own [`Layer`]; the stack picks one. In a capture ([`capture`],
//! `osilab dissect`), [`capture::AppCapture`] picks one per conversation by port, as tshark
//! does, and runs it in its capture mode.

pub mod capture;
#[cfg(test)]
mod capture_tests;
pub mod chat;
pub mod dns;
pub mod http;
pub mod ports;

use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu, PduName};
use crate::trace::{Direction, Field, Record, Value};

/// The `raw` application: carries the message bytes unchanged.
#[derive(Debug, Clone, Default)]
pub struct RawApplication;

fn record(direction: Direction, bytes: &[u8]) -> Record {
    let mut r = Record::new(LayerId::Application, direction, "data", "Data (raw application)", PduName::Data);
    r.summary = format!("{} bytes: {}", bytes.len(), preview(bytes));
    r.payload_len = bytes.len();
    r.fields.push(Field::new("data.data", "Data", Value::Bytes(bytes.to_vec())).shown(preview(bytes)));
    r.fields.push(Field::uint("data.len", "Length", bytes.len() as u64));
    r
}

/// The bytes as text when they are UTF-8 (quoted, escapes shown), otherwise as hex; long
/// messages are cut at 64 characters with the rest counted, never silently.
pub fn preview(bytes: &[u8]) -> String {
    const MAX: usize = 64;
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            let n = s.chars().count();
            let head: String = s.chars().take(MAX).collect();
            if n > MAX {
                format!("{:?}… ({} more characters)", head, n - MAX)
            } else {
                format!("{head:?}")
            }
        }
        Err(_) => crate::trace::hex_preview(bytes, MAX / 2),
    }
}

impl Layer for RawApplication {
    fn id(&self) -> LayerId {
        LayerId::Application
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        let (bytes, meta) = sdu.into_bytes(LayerId::Application)?;
        cx.trace.push(record(Direction::Down, &bytes));
        Ok(vec![Pdu { data: crate::layer::Data::Bytes(bytes), meta }])
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(LayerId::Application)?;
        cx.trace.push(record(Direction::Up, &bytes));
        Ok(Some(Pdu { data: crate::layer::Data::Bytes(bytes), meta }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip_records_both_ways() {
        let mut app = RawApplication;
        let mut cx = Context::default();
        let down = app.encapsulate(Pdu::bytes(b"hi".to_vec()), &mut cx).unwrap();
        let up = app.decapsulate(down.into_iter().next().unwrap(), &mut cx).unwrap().unwrap();
        assert_eq!(up.into_bytes(LayerId::Application).unwrap().0, b"hi");
        assert_eq!(cx.trace.records.len(), 2);
        assert_eq!(cx.trace.records[0].field("data.len").unwrap().value, Value::Uint(2));
    }

    #[test]
    fn preview_cuts_and_counts() {
        assert_eq!(preview(b"hi"), "\"hi\"");
        let long = "x".repeat(70);
        assert!(preview(long.as_bytes()).ends_with("(6 more characters)"));
        assert_eq!(preview(&[0xff, 0x00]), "ff00");
    }
}
