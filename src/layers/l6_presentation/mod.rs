//! L6 presentation. For now the identity: the bytes are passed on as they are, and the trace says
//! so. Text encodings, compression and encryption come with the next issue.

use crate::error::Result;
use crate::layer::{Context, Layer, LayerId, Pdu, PduName};
use crate::trace::{Direction, Record};

/// The presentation layer with no transform.
#[derive(Debug, Clone, Default)]
pub struct Presentation;

fn record(direction: Direction, len: usize) -> Record {
    let mut r = Record::new(LayerId::Presentation, direction, "pres", "Presentation (no transform)", PduName::Data);
    r.summary = format!("{len} bytes in, {len} bytes out: no encoding, compression or encryption applied");
    r.payload_len = len;
    r
}

impl Layer for Presentation {
    fn id(&self) -> LayerId {
        LayerId::Presentation
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        cx.trace.push(record(Direction::Down, sdu.len()));
        Ok(vec![sdu])
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        cx.trace.push(record(Direction::Up, pdu.len()));
        Ok(Some(pdu))
    }
}
