//! `osilab dissect FILE`: read the capture frame by frame, dissect each, filter, and write it in
//! the chosen format to stdout as it goes.

use super::args::DissectArgs;
use super::config_err;
use crate::capture::CaptureReader;
use crate::dissect::filter::Filter;
use crate::dissect::output::{Format, Writer};
use crate::dissect::{fields, Dissector};
use crate::error::{Error, Result};
use std::io::{self, Write};

/// The output options `dissect` and `live capture` share (`--format`, `-e`, `--count`,
/// `--filter`), checked before any frame is read.
pub(super) struct Plan {
    pub(super) format: Format,
    pub(super) fields: Vec<String>,
    pub(super) count: Option<u64>,
    pub(super) filter: Option<Filter>,
}

impl Plan {
    pub(super) fn new(format: &str, fields: &[String], count: Option<&str>, filter: Option<&str>) -> Result<Plan> {
        let format: Format = if fields.is_empty() {
            format.parse().map_err(config_err)?
        } else {
            // -e only makes sense with fields; an explicit other format is a contradiction.
            match format {
                "tree" | "fields" => Format::Fields,
                other => {
                    return Err(config_err(format!("-e prints fields; it cannot be combined with --format {other}")))
                }
            }
        };
        if format == Format::Fields && fields.is_empty() {
            return Err(config_err("--format fields needs at least one -e FIELD (e.g. -e ip.src -e ip.dst)"));
        }
        fields::validate(fields).map_err(config_err)?;
        let count = match count {
            None => None,
            Some(c) => match c.parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(config_err(format!("--count takes a number of frames of at least 1, not {c:?}"))),
            },
        };
        let filter = match filter {
            None => None,
            Some(f) => Some(Filter::parse(f).map_err(|e| config_err(format!("--filter {f:?}: {e}")))?),
        };
        Ok(Plan { format, fields: fields.to_vec(), count, filter })
    }
}

fn plan(a: &DissectArgs) -> Result<Plan> {
    Plan::new(&a.format, &a.fields, a.count.as_deref(), a.filter.as_deref())
}

/// Run `osilab dissect`.
pub fn dissect(a: &DissectArgs) -> Result<()> {
    let plan = plan(a)?;
    let mut reader = CaptureReader::open(&a.file)?;
    let stdout = io::stdout().lock();
    let mut out = Writer::new(io::BufWriter::with_capacity(1 << 16, stdout), plan.format, plan.fields);
    let mut dissector = Dissector::new()?;
    // -T fields prints values only: the records need no human text (a filter reads fields and
    // protocols, which are there either way).
    dissector.set_detail(plan.format != Format::Fields);
    let progress = std::fs::metadata(&a.file).ok().and_then(|m| crate::capture::progress(m.len()));
    // A closed pipe (`osilab dissect big.pcap | head`) ends the run quietly, as tshark does.
    let quiet_pipe = |e: io::Error| -> Result<()> {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(Error::io(format!("writing the output: {e}")))
        }
    };
    let mut failure = None;
    while let Some(next) = reader.next_frame() {
        let frame = match next {
            Ok(f) => f,
            Err(e) => {
                // Frames before the damage were dissected and written; say where it stopped.
                failure = Some(e);
                break;
            }
        };
        // The dissected frame borrows the reader's buffer: it is written (or filtered out)
        // before the reader is asked anything else.
        let d = dissector.dissect(&frame);
        let shown = !plan.filter.as_ref().is_some_and(|f| !f.matches(&d.records));
        let written = if shown { out.frame(&d) } else { Ok(()) };
        dissector.recycle(d);
        if let Some(p) = &progress {
            p.set_position(reader.bytes_read());
        }
        if let Err(e) = written {
            return quiet_pipe(e);
        }
        if !shown {
            continue;
        }
        if plan.count.is_some_and(|n| out.written() >= n) {
            break;
        }
    }
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    let stopped_early = matches!(plan.count, Some(n) if out.written() >= n);
    let end = if failure.is_none() && !stopped_early { dissector.finish() } else { Vec::new() };
    if plan.format == Format::Fields {
        // Fields output is one line per frame and nothing else; what the capture left unfinished
        // is said on stderr.
        for r in &end {
            for x in &r.expert {
                eprintln!("osilab: end of capture: {x}");
            }
        }
    }
    match out.finish(&end) {
        Ok(mut w) => {
            if let Err(e) = w.flush() {
                return quiet_pipe(e);
            }
        }
        Err(e) => return quiet_pipe(e),
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
