//! Scenario loader tests: every shipped scenario loads; every rule's exact message.

use super::*;
use std::path::Path;

#[test]
fn every_shipped_scenario_loads_without_warnings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.warnings.is_empty(), "{}: {:?}", path.display(), s.warnings);
            n += 1;
        }
    }
    assert_eq!(n, 6);
}
