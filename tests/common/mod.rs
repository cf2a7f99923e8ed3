//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Run the osilab binary with these arguments.
pub fn osilab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osilab")).args(args).output().expect("run osilab")
}

/// stdout as text, asserting exit 0.
pub fn osilab_ok(args: &[&str]) -> String {
    let out = osilab(args);
    assert!(
        out.status.success(),
        "osilab {args:?} failed with {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// True under CI (`CI=true`), where an oracle that is missing is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether an external tool can be run. When it cannot: under CI, panic; locally, print why the
/// test is skipped and return false.
pub fn require_tool(tool: &str, test: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        if in_ci() {
            panic!("{test}: `{tool}` is required under CI=true but was not found (install it in .ci/run)");
        }
        eprintln!("SKIPPED {test}: `{tool}` not found (install it to run this oracle test; CI does)");
    }
    found
}

/// A fresh scratch directory under the target dir, removed first if left from an earlier run.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}
