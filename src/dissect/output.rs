//! Writing dissected frames as they come (streaming: nothing is kept once a frame is written):
//! `tree` (like `tshark -V`), `hex` (like `tshark -x`, then which layer owns which bytes),
//! `json` (an array of frames, each layer's fields keyed by display-filter name) and `fields`
//! (like `tshark -T fields`).

use super::{fields, Dissected};
use crate::render::{frame_map, hexdump};
use crate::trace::{Field, Record, Value};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::io::{self, Write};
use std::str::FromStr;

/// An output format of `osilab dissect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Every layer's fields, like `tshark -V`.
    Tree,
    /// The bytes, like `tshark -x`, and the layers' byte ranges.
    Hex,
    /// Frames with their layers and fields, machine-readable.
    Json,
    /// The `-e` fields, one line per frame, like `tshark -T fields`.
    Fields,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tree" => Ok(Format::Tree),
            "hex" => Ok(Format::Hex),
            "json" => Ok(Format::Json),
            "fields" => Ok(Format::Fields),
            _ => Err(format!("unknown format {s:?} for dissect: expected tree, hex, json or fields")),
        }
    }
}

/// Writes frames in one format.
pub struct Writer<W: Write> {
    out: W,
    format: Format,
    fields: fields::Columns,
    written: u64,
    line: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// A writer of `format` (with the `-e` field names for `fields`).
    pub fn new(out: W, format: Format, fields: Vec<String>) -> Self {
        Writer { out, format, fields: fields::Columns::new(&fields), written: 0, line: Vec::new() }
    }

    /// Frames written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Write one frame.
    pub fn frame(&mut self, d: &Dissected<'_>) -> io::Result<()> {
        let first = self.written == 0;
        self.written += 1;
        match self.format {
            Format::Fields => {
                self.line.clear();
                self.fields.line(&d.records, &mut self.line);
                self.line.push(b'\n');
                self.out.write_all(&self.line)
            }
            Format::Tree => {
                if !first {
                    self.out.write_all(b"\n")?;
                }
                write_tree(&mut self.out, &d.records)
            }
            Format::Hex => {
                if !first {
                    self.out.write_all(b"\n")?;
                }
                write_hex(&mut self.out, d)
            }
            Format::Json => {
                self.out.write_all(if first { b"[\n  " } else { b",\n  " })?;
                let v = JsonFrame { d };
                let mut ser = serde_json::Serializer::with_formatter(&mut self.out, Indented::new(1));
                v.serialize(&mut ser).map_err(io::Error::other)
            }
        }
    }

    /// The records of the end of the capture (what the layers still held), then the end of the
    /// output.
    pub fn finish(mut self, end: &[Record]) -> io::Result<W> {
        match self.format {
            Format::Json => {
                if self.written == 0 {
                    self.out.write_all(b"[")?;
                }
                if !end.is_empty() {
                    self.out.write_all(if self.written == 0 { b"\n  " } else { b",\n  " })?;
                    let v = JsonEnd { end };
                    let mut ser = serde_json::Serializer::with_formatter(&mut self.out, Indented::new(1));
                    v.serialize(&mut ser).map_err(io::Error::other)?;
                }
                self.out.write_all(b"\n]\n")?;
            }
            Format::Tree | Format::Hex => {
                if !end.is_empty() {
                    self.out.write_all(b"\n== End of capture ==\n")?;
                    write_tree(&mut self.out, end)?;
                }
            }
            // One line per frame and nothing else, as tshark: end-of-capture items go to stderr
            // through the caller's summary.
            Format::Fields => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_tree<W: Write>(out: &mut W, records: &[Record]) -> io::Result<()> {
    for r in records {
        write!(out, "{r}")?;
    }
    Ok(())
}

fn write_hex<W: Write>(out: &mut W, d: &Dissected<'_>) -> io::Result<()> {
    writeln!(out, "Frame {} ({} bytes captured of {}):", d.number, d.bytes.len(), d.len)?;
    out.write_all(hexdump(d.bytes).as_bytes())?;
    let frame = usize::try_from(d.number).unwrap_or(0);
    let spans = frame_map(&d.records, frame, d.bytes.len());
    if !spans.is_empty() {
        writeln!(out, "Layers:")?;
        for s in spans {
            writeln!(out, "  {:04x}-{:04x}  {:>5} bytes  {}", s.start, s.end - 1, s.end - s.start, s.label)?;
        }
    }
    // Data put together from several frames (a reassembled datagram, an HTTP message) is not in
    // the frame's bytes: tshark -x shows it in its own tab, here its records say so.
    for (proto, e) in d.expert() {
        writeln!(out, "{proto}: {e}")?;
    }
    Ok(())
}

/// A record's fields as a JSON object keyed by display-filter name, in wire order; a name that
/// occurs more than once (several DNS answers) maps to an array of its values.
struct FieldMap<'a>(&'a [Field]);

impl Serialize for FieldMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seen: Vec<&str> = Vec::new();
        let mut map = s.serialize_map(None)?;
        for f in self.0 {
            if seen.contains(&f.name.as_ref()) {
                continue;
            }
            seen.push(&f.name);
            let all: Vec<&Value> = self.0.iter().filter(|g| g.name == f.name).map(|g| &g.value).collect();
            if all.len() == 1 {
                map.serialize_entry(&f.name, all[0])?;
            } else {
                map.serialize_entry(&f.name, &all)?;
            }
        }
        map.end()
    }
}

struct JsonLayer<'a>(&'a Record);

impl Serialize for JsonLayer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("layer", &r.layer)?;
        map.serialize_entry("protocol", &r.protocol)?;
        map.serialize_entry("title", &r.title)?;
        map.serialize_entry("pdu", &r.pdu)?;
        if !r.summary.is_empty() {
            map.serialize_entry("summary", &r.summary)?;
        }
        map.serialize_entry("at", &r.at)?;
        map.serialize_entry("header_len", &r.header.len())?;
        map.serialize_entry("payload_len", &r.payload_len)?;
        map.serialize_entry("fields", &FieldMap(&r.fields))?;
        if !r.checks.is_empty() {
            map.serialize_entry("checks", &r.checks)?;
        }
        if !r.notes.is_empty() {
            map.serialize_entry("notes", &r.notes)?;
        }
        if !r.expert.is_empty() {
            map.serialize_entry("expert", &r.expert)?;
        }
        map.end()
    }
}

struct JsonFrame<'a> {
    d: &'a Dissected<'a>,
}

impl Serialize for JsonFrame<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.d;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("number", &d.number)?;
        map.serialize_entry("time_epoch", &super::seconds(d.ts_ns))?;
        map.serialize_entry("link", d.link.name())?;
        map.serialize_entry("len", &d.len)?;
        map.serialize_entry("caplen", &d.bytes.len())?;
        let layers: Vec<JsonLayer<'_>> = d.records.iter().map(JsonLayer).collect();
        map.serialize_entry("layers", &layers)?;
        map.end()
    }
}

struct JsonEnd<'a> {
    end: &'a [Record],
}

impl Serialize for JsonEnd<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("end_of_capture", &self.end.iter().map(JsonLayer).collect::<Vec<_>>())?;
        map.end()
    }
}

/// serde_json's pretty printer, indented one level deeper (each frame sits inside the array).
struct Indented {
    inner: serde_json::ser::PrettyFormatter<'static>,
    base: usize,
}

impl Indented {
    fn new(base: usize) -> Self {
        Indented { inner: serde_json::ser::PrettyFormatter::with_indent(b"  "), base }
    }

    fn pad<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        for _ in 0..self.base {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        // The closing brace follows a newline the inner formatter wrote (when the object had
        // members), so the base indent goes before it.
        let mut buf = Vec::new();
        self.inner.end_object(&mut buf)?;
        write_padded(self, w, &buf)
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let mut buf = Vec::new();
        self.inner.end_array(&mut buf)?;
        write_padded(self, w, &buf)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        let mut buf = Vec::new();
        self.inner.begin_object_key(&mut buf, first)?;
        write_padded(self, w, &buf)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_object_value(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        let mut buf = Vec::new();
        self.inner.begin_array_value(&mut buf, first)?;
        write_padded(self, w, &buf)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.inner.end_array_value(w)
    }
}

/// Write what the inner formatter produced, with the base indent after each newline (and before
/// the first line of the top-level value).
fn write_padded<W: ?Sized + Write>(f: &Indented, w: &mut W, buf: &[u8]) -> io::Result<()> {
    for (i, part) in buf.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            w.write_all(b"\n")?;
            f.pad(w)?;
        }
        w.write_all(part)?;
    }
    Ok(())
}
