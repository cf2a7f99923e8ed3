//! Records without human text ([`Dissector::set_detail`]`(false)`, what `-T fields` uses) hold
//! exactly what the detailed ones hold for `-e` and `--filter`: the same records, protocols,
//! fields (names, labels, values, nesting), expert items and places; only titles, summaries,
//! notes, check details and fields' renderings may be left out. Checked frame by frame on every
//! fixture, and on damaged copies of their frames (so the error paths are compared too).

use super::{Dissected, Dissector};
use crate::capture::{CaptureReader, Frame};
use crate::rng::Rng;
use crate::trace::{Expert, Record, Value};
use std::path::{Path, PathBuf};

/// What a record must keep without detail.
type Kept<'a> = (
    &'a str,
    crate::layer::LayerId,
    Vec<(&'a str, &'a str, &'a Value, u8)>,
    &'a [Expert],
    Option<usize>,
    Option<usize>,
    std::ops::Range<usize>,
    usize,
    Vec<(&'a str, bool)>,
);

fn kept(r: &Record) -> Kept<'_> {
    (
        &r.protocol,
        r.layer,
        r.fields.iter().map(|f| (&*f.name, &*f.label, &f.value, f.depth)).collect(),
        &r.expert,
        r.frame,
        r.at,
        r.header.clone(),
        r.payload_len,
        r.checks.iter().map(|c| (&*c.name, c.ok)).collect(),
    )
}

fn assert_same(what: &str, full: &[Record], lean: &[Record]) {
    assert_eq!(full.len(), lean.len(), "{what}: record count");
    for (a, b) in full.iter().zip(lean) {
        assert_eq!(kept(a), kept(b), "{what}: {}", a.protocol);
    }
}

fn fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["captures", "malformed"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
        let Ok(entries) = std::fs::read_dir(&root) else { continue };
        files.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng"))),
        );
    }
    files.sort();
    files
}

/// Both dissectors take every frame of `file`, each frame first as it is and then, when `rng`
/// is given, damaged (a few bytes changed, or cut short).
fn compare_file(file: &Path, mut rng: Option<&mut Rng>) -> usize {
    let Ok(mut reader) = CaptureReader::open(file) else { return 0 };
    let mut full = Dissector::new().expect("dissector");
    let mut lean = Dissector::new().expect("dissector");
    lean.set_detail(false);
    let mut n = 0;
    while let Some(Ok(f)) = reader.next_frame() {
        let what = format!("{} frame {}", file.display(), f.number);
        let (a, b): (Dissected<'_>, Dissected<'_>) = (full.dissect(&f), lean.dissect(&f));
        assert_same(&what, &a.records, &b.records);
        n += 1;
        let Some(rng) = rng.as_deref_mut() else { continue };
        for _ in 0..4 {
            let mut bytes = f.data.to_vec();
            if bytes.is_empty() {
                break;
            }
            if rng.chance(0.25) {
                let len = bytes.len();
                bytes.truncate(rng.next_u32() as usize % len);
            } else {
                for _ in 0..1 + rng.next_u32() % 3 {
                    let len = bytes.len();
                    let i = rng.next_u32() as usize % len;
                    bytes[i] = rng.next_u32() as u8;
                }
            }
            let g = Frame { data: &bytes, caplen: bytes.len(), ..f };
            let (a, b) = (full.dissect(&g), lean.dissect(&g));
            assert_same(&format!("{what} (damaged)"), &a.records, &b.records);
        }
    }
    assert_same(&format!("{} end of capture", file.display()), &full.finish(), &lean.finish());
    n
}

#[test]
fn lean_records_keep_what_fields_and_filters_read() {
    let files = fixtures();
    assert!(files.len() >= 15, "fixtures: {files:?}");
    let frames: usize = files.iter().map(|f| compare_file(f, None)).sum();
    assert!(frames > 100, "{frames} frames");
}

#[test]
fn lean_records_keep_what_fields_and_filters_read_on_damaged_frames() {
    let mut rng = Rng::new(0x05c1_1ab5);
    for f in fixtures() {
        compare_file(&f, Some(&mut rng));
    }
}
