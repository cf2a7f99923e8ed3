//! The book (`book/src/`) is tested text.
//!
//! - Every ```` ```console ```` block runs. A block is trycmd's format: `$ osilab …` lines, each
//!   optionally followed by `? N` (the exit code; 0 when absent), then the output. Each command
//!   runs from the repository root with the `osilab` binary this crate builds, and what it prints
//!   (stdout and stderr together) must be the lines that follow, exactly, but for `...` lines (any
//!   lines) and `[..]` (any text within a line). The comparison is snapbox's, the engine of
//!   trycmd, called directly: trycmd's own runner turns every `\` in a program's output into `/`
//!   (for Windows paths) before comparing, and osilab prints `\n`, `\r\n` and `\x..` escapes.
//!   `BOOK=overwrite cargo test --test book` rewrites the output of the steps that differ: in full
//!   where the book has no `...` (so a new block can be written as its `$ osilab …` line alone),
//!   keeping the cuts where the output changed only in its numbers (see [`realign`]); the others
//!   are reported, to be fixed by hand. Steps running `osilab live` are skipped, saying so, when
//!   this osilab has no `live` subcommand.
//! - Every relative link and image resolves to a file, and every `#anchor` to a heading.
//! - Every fence names its language (a bare fence is Rust to rustdoc and a test to trycmd),
//!   console blocks run only `osilab`, and every chapter with a ```` ```rust ```` block is one of
//!   the doctests in `src/lib.rs` (`mod book_doctests`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The figures osilab draws for the book (`osilab send … --format svg`, `osilab simulate …
/// --format svg`), generated into `book/src/figures/` by a test of their own.
const FIGURES: [&str; 6] = [
    "encapsulation-chat.svg",
    "encapsulation-http.svg",
    "ladder-http-get.svg",
    "ladder-chat-room.svg",
    "ladder-ttl-exceeded.svg",
    "ladder-retransmission.svg",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn src_dir() -> PathBuf {
    root().join("book").join("src")
}

/// Every Markdown file of the book, sorted.
fn chapters() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(src_dir())
        .expect("book/src is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    assert!(files.len() > 10, "book/src holds the chapters");
    files
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Whether this build of osilab has the `live` subcommand (the `live` feature, once merged).
fn osilab_has_live() -> bool {
    Command::new(env!("CARGO_BIN_EXE_osilab"))
        .args(["live", "--help"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Splits a command line as a POSIX shell would split one with no variables, globs or escapes
/// outside quotes: words, 'single-quoted' and "double-quoted" (with `\"` and `\\`) strings.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed ' in {line}")),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(format!("unclosed \" in {line}")),
                        },
                        Some(c) => w.push(c),
                        None => return Err(format!("unclosed \" in {line}")),
                    }
                }
            }
            '$' | '`' | '|' | '>' | '<' | ';' | '&' | '*' | '\\' => {
                return Err(format!("`{c}` needs a shell: console blocks run osilab directly ({line})"))
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// One `$ osilab …` line of a console block and what it must print.
struct Step {
    chapter: PathBuf,
    /// 1-based line of the `$` line.
    line: usize,
    command: String,
    status: i32,
    expected: String,
    /// 0-based line range of the expected output (with the `? N` line, if any) in the chapter.
    output: std::ops::Range<usize>,
}

/// The steps of every console block of a chapter.
fn steps(chapter: &Path) -> Vec<Step> {
    let text = read(chapter);
    let (blocks, _) = split_fences(&text);
    let mut out = Vec::new();
    for b in blocks.iter().filter(|b| b.lang == "console") {
        // b.line is the fence's 1-based line; body line i is at 0-based line b.line + i.
        let mut i = 0;
        while i < b.body.len() {
            let Some(command) = b.body[i].strip_prefix("$ ") else {
                panic!("{}:{}: expected a `$ osilab …` line", name(chapter), b.line + i + 1);
            };
            let first = i + 1;
            let mut j = first;
            let mut status = 0;
            if let Some(code) = b.body.get(j).and_then(|l| l.strip_prefix("? ")) {
                status = code
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{}:{}: `? N` takes an exit code", name(chapter), b.line + j + 1));
                j += 1;
            }
            let mut end = j;
            while end < b.body.len() && !b.body[end].starts_with("$ ") {
                end += 1;
            }
            let mut lines: Vec<&str> = b.body[j..end].iter().map(String::as_str).collect();
            while lines.last() == Some(&"") {
                lines.pop();
            }
            out.push(Step {
                chapter: chapter.to_path_buf(),
                line: b.line + i + 1,
                command: command.to_string(),
                status,
                expected: lines.join("\n"),
                output: b.line + first..b.line + first + (end - first),
            });
            i = end;
        }
    }
    out
}

/// What a step printed when it differs from the book: its exit code and output.
struct Fresh {
    code: i32,
    output: String,
}

/// Runs a step; Err is the report of what differs, and what osilab printed.
fn run(step: &Step) -> Result<(), (String, Option<Fresh>)> {
    let at = format!("{}:{}", name(&step.chapter), step.line);
    let words = shell_words(&step.command).map_err(|e| (format!("{at}: {e}"), None))?;
    if words.first().map(String::as_str) != Some("osilab") {
        return Err((format!("{at}: console blocks run osilab only"), None));
    }
    let output = snapbox::cmd::Command::new(env!("CARGO_BIN_EXE_osilab"))
        .args(&words[1..])
        .current_dir(root())
        .stderr_to_stdout()
        .output()
        .map_err(|e| (format!("{at}: cannot run osilab: {e}"), None))?;
    let actual = String::from_utf8_lossy(&output.stdout).trim_end_matches('\n').to_string();
    let code = output.status.code().unwrap_or(-1);
    let compared = snapbox::Assert::new().normalize_paths(false).try_eq(
        Some(&at),
        snapbox::Data::text(actual.clone()),
        snapbox::Data::text(step.expected.clone()),
    );
    let mut report = Vec::new();
    if code != step.status {
        report.push(format!("{at}: `{}` exited with {code}, the book says {}", step.command, step.status));
    }
    if let Err(e) = compared {
        report.push(format!("{at}: `{}` printed something else:\n{e}", step.command));
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err((report.join("\n"), Some(Fresh { code, output: actual })))
    }
}

#[test]
fn console_blocks_print_what_the_book_says() {
    let live = osilab_has_live();
    let mut all = Vec::new();
    let mut skipped = 0;
    for chapter in chapters() {
        for step in steps(&chapter) {
            // `osilab live` comes with the `live` feature (and its branch); without it, say so.
            if !live && step.command.starts_with("osilab live ") {
                skipped += 1;
                continue;
            }
            all.push(step);
        }
    }
    if skipped > 0 {
        eprintln!("SKIPPED {skipped} console step(s) running `osilab live`: this osilab has no `live` subcommand");
    }
    assert!(all.len() > 30, "the book runs osilab in many places");
    // Two threads: the steps take about a second each in a debug build.
    let results: Vec<Result<(), (String, Option<Fresh>)>> = std::thread::scope(|s| {
        let half = all.len() / 2;
        let (a, b) = all.split_at(half);
        let ha = s.spawn(|| a.iter().map(run).collect::<Vec<_>>());
        let hb = s.spawn(|| b.iter().map(run).collect::<Vec<_>>());
        let mut r = ha.join().expect("steps run");
        r.extend(hb.join().expect("steps run"));
        r
    });
    let overwrite = std::env::var("BOOK").is_ok_and(|v| v == "overwrite");
    let mut failures = Vec::new();
    let mut rewrites: Vec<(&Step, String)> = Vec::new();
    for (step, r) in all.iter().zip(results) {
        if let Err((report, fresh)) = r {
            // An elided block keeps its cuts where osilab's output differs from it only in
            // numbers (a PID, a port, a time); anything else is left for a person to redo.
            let redone = match &fresh {
                Some(f) if overwrite => realign(&step.expected, &f.output).map(|mut text| {
                    if f.code != 0 {
                        text.insert_str(0, &format!("? {}\n", f.code));
                    }
                    text
                }),
                _ => None,
            };
            match redone {
                Some(text) => rewrites.push((step, text)),
                None => failures.push(report),
            }
        }
    }
    // Rewrite from the bottom of each chapter up, so that line numbers stay valid.
    rewrites.sort_by(|a, b| (&a.0.chapter, b.0.line).cmp(&(&b.0.chapter, a.0.line)));
    for (step, fresh) in &rewrites {
        let text = read(&step.chapter);
        let mut lines: Vec<&str> = text.split('\n').collect();
        let mut end = step.output.end;
        while end > step.output.start && lines[end - 1].is_empty() {
            end -= 1;
        }
        lines.splice(step.output.start..end, fresh.split('\n'));
        std::fs::write(&step.chapter, lines.join("\n")).expect("the chapter is writable");
        eprintln!("rewrote {}:{}", name(&step.chapter), step.line);
    }
    assert!(
        failures.is_empty(),
        "{} of {} console steps differ:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

/// The book's expected text remade from `actual`, with the same lines left out. Without `...`
/// (or with `[..]`, which cannot be remade) that is `actual` itself, or None. With `...`, each run
/// of kept lines goes where `actual` has lines that differ from it at most in their numbers
/// ([`number_distance`]), the nearest such place after the previous run (the first and last runs
/// stay at the start and end when no `...` is there); None when a run has no such place.
fn realign(expected: &str, actual: &str) -> Option<String> {
    if expected.contains("[..]") {
        return None;
    }
    let act: Vec<&str> = actual.lines().collect();
    let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
    for l in expected.lines() {
        if l == "..." {
            runs.push(Vec::new());
        } else if let Some(r) = runs.last_mut() {
            r.push(l);
        }
    }
    if runs.len() == 1 {
        return Some(actual.to_string());
    }
    let last = runs.len() - 1;
    let mut out: Vec<&str> = Vec::new();
    let mut cursor = 0;
    for (k, run) in runs.iter().enumerate() {
        if k > 0 {
            out.push("...");
        }
        if run.is_empty() {
            continue;
        }
        let n = run.len();
        let best = (cursor..=act.len().checked_sub(n)?)
            .filter(|&p| (k > 0 || p == cursor) && (k < last || p + n == act.len()))
            .filter_map(|p| {
                run.iter()
                    .zip(&act[p..p + n])
                    .map(|(a, b)| number_distance(a, b))
                    .sum::<Option<usize>>()
                    .map(|d| (d, p))
            })
            .min()?;
        out.extend(&act[best.1..best.1 + n]);
        cursor = best.1 + n;
    }
    Some(out.join("\n"))
}

/// How many numbers differ between two lines that differ in nothing else (the length of a run of
/// spaces aside, as table columns widen); None when they differ in anything else.
fn number_distance(a: &str, b: &str) -> Option<usize> {
    fn tokens(s: &str) -> Vec<(u8, &str)> {
        let class = |c: char| {
            if c.is_ascii_digit() {
                0
            } else if c == ' ' {
                1
            } else {
                2
            }
        };
        let mut out = Vec::new();
        let mut start = 0;
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if chars.peek().map_or(true, |&(_, d)| class(d) != class(c)) {
                out.push((class(c), &s[start..i + c.len_utf8()]));
                start = i + c.len_utf8();
            }
        }
        out
    }
    let (ta, tb) = (tokens(a), tokens(b));
    if ta.len() != tb.len() {
        return None;
    }
    let mut d = 0;
    for ((ka, xa), (kb, xb)) in ta.iter().zip(&tb) {
        match (ka, kb) {
            (0, 0) => d += usize::from(xa != xb),
            (1, 1) => {}
            _ if xa == xb => {}
            _ => return None,
        }
    }
    Some(d)
}

#[test]
fn realign_keeps_the_cuts_when_only_numbers_change() {
    let expected = "head\n...\n  5  h1 [pid 1] send(3, \"message 05\")\n...\nend (pid 1)";
    let actual = "head\nx\n  4  h1 [pid 1000] send(3, \"message 04\")\n  5  h1 [pid 1000] send(3, \"message 05\")\ny\nend (pid 1000)";
    assert_eq!(
        realign(expected, actual).as_deref(),
        Some("head\n...\n  5  h1 [pid 1000] send(3, \"message 05\")\n...\nend (pid 1000)")
    );
    // A kept line whose words changed cannot be placed.
    assert_eq!(realign(expected, "head\n  5  h1 [pid 1] recv(3)\nend (pid 1)"), None);
    // Without cuts, the new output is the new text.
    assert_eq!(realign("a 1", "a 2").as_deref(), Some("a 2"));
    assert_eq!(number_distance("tcp   LISTEN 0  5    0.0.0.0:3000", "tcp   LISTEN 0  5      0.0.0.0:3000"), Some(0));
    assert_eq!(number_distance("pid=2,fd=3", "pid=1001,fd=3"), Some(1));
    assert_eq!(number_distance("pid=2", "pid:2"), None);
}

#[test]
fn shell_words_split_like_the_shell() {
    assert_eq!(
        shell_words("osilab send \"Olá, sala!\" --app chat").unwrap(),
        ["osilab", "send", "Olá, sala!", "--app", "chat"]
    );
    assert_eq!(
        shell_words("osilab  dissect x.pcap --filter 'tcp.port == 3000'").unwrap(),
        ["osilab", "dissect", "x.pcap", "--filter", "tcp.port == 3000"]
    );
    assert_eq!(shell_words(r#"a "b \"c\" \\" ''"#).unwrap(), ["a", r#"b "c" \"#, ""]);
    assert!(shell_words("osilab send $(printf x)").is_err());
    assert!(shell_words("osilab send hi | grep x").is_err());
    assert!(shell_words("osilab send 'hi").is_err());
}

/// One fenced block: its info string's first word and its lines.
struct Block {
    lang: String,
    line: usize,
    body: Vec<String>,
}

/// The fenced code blocks of a Markdown text, and the text outside them (blocks blanked).
fn split_fences(text: &str) -> (Vec<Block>, Vec<String>) {
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut open: Option<(String, Block)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence: String = trimmed.chars().take_while(|&c| c == '`' || c == '~').collect();
        match open.take() {
            Some((f, mut b)) => {
                if fence.len() >= f.len() && fence.starts_with(&f[..1]) && trimmed[fence.len()..].trim().is_empty() {
                    blocks.push(b);
                } else {
                    b.body.push(line.to_string());
                    open = Some((f, b));
                }
                prose.push(String::new());
            }
            None if fence.len() >= 3 && fence.chars().all(|c| c == fence.chars().next().unwrap_or('`')) => {
                let info = trimmed[fence.len()..].trim();
                let lang = info.split([',', ' ']).next().unwrap_or("").to_string();
                open = Some((fence, Block { lang, line: i + 1, body: Vec::new() }));
                prose.push(String::new());
            }
            None => prose.push(line.to_string()),
        }
    }
    if let Some((_, b)) = open {
        panic!("a fence opened on line {} is never closed", b.line);
    }
    (blocks, prose)
}

#[test]
fn every_fence_names_its_language_and_console_blocks_run_only_osilab() {
    let mut problems = Vec::new();
    for chapter in chapters() {
        let (blocks, _) = split_fences(&read(&chapter));
        for b in blocks {
            let at = format!("{}:{}", name(&chapter), b.line);
            if b.lang.is_empty() {
                problems.push(format!("{at}: a fence with no language (say text, sh, console, rust, toml…)"));
            }
            if b.lang == "console" {
                match b.body.first() {
                    Some(first) if first.starts_with("$ ") => {}
                    _ => problems.push(format!("{at}: a console block starts with its `$ osilab …` line")),
                }
                for l in b.body.iter().filter(|l| l.starts_with("$ ")) {
                    if !l.starts_with("$ osilab ") {
                        problems.push(format!("{at}: console blocks run osilab only (use ```sh for `{l}`)"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rust_block_is_a_doctest() {
    let lib = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("lib.rs"));
    let mut rust_chapters = 0;
    for chapter in chapters() {
        let (blocks, _) = split_fences(&read(&chapter));
        if blocks.iter().any(|b| b.lang == "rust") {
            rust_chapters += 1;
            let include = format!("include_str!(\"../book/src/{}\")", name(&chapter));
            assert!(lib.contains(&include), "{} has Rust blocks: src/lib.rs needs `{include}`", name(&chapter));
        }
    }
    assert!(rust_chapters >= 1, "the snapshot-testing chapter has Rust blocks");
}

/// A heading's id as mdbook makes it: the text, lower case, spaces as `-`, only letters, digits,
/// `-` and `_` kept.
fn heading_id(heading: &str) -> String {
    let text: String = heading.chars().filter(|&c| c != '`' && c != '*').collect();
    // A link in a heading shows its text only.
    let text = strip_link_targets(&text);
    text.trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

fn strip_link_targets(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("](") {
        out.push_str(&rest[..i]);
        match rest[i..].find(')') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace('[', "")
}

/// The ids of a chapter's headings, with mdbook's `-1`, `-2` for repeats.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let (_, prose) = split_fences(text);
    let mut ids = BTreeSet::new();
    for line in prose {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let base = heading_id(&line[hashes..]);
            let mut id = base.clone();
            let mut n = 1;
            while ids.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
            ids.insert(id);
        }
    }
    ids
}

/// The targets of inline links and images (`[text](target)`, `![alt](target)`) and of reference
/// definitions (`[label]: target`) outside code blocks and code spans, with their line numbers.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let (_, prose) = split_fences(text);
    let mut out = Vec::new();
    for (i, line) in prose.iter().enumerate() {
        // Code spans hold no links.
        let mut plain = String::new();
        for (k, part) in line.split('`').enumerate() {
            if k % 2 == 0 {
                plain.push_str(part);
            }
        }
        let trimmed = plain.trim_start();
        if trimmed.starts_with('[') {
            if let Some(j) = trimmed.find("]: ") {
                let target = trimmed[j + 3..].split_whitespace().next().unwrap_or("");
                out.push((i + 1, target.to_string()));
                continue;
            }
        }
        let mut rest = plain.as_str();
        while let Some(j) = rest.find("](") {
            let after = &rest[j + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((i + 1, target.trim_matches(|c| c == '<' || c == '>').to_string()));
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn every_link_and_image_resolves() {
    let src = src_dir();
    // Before the figures are merged (book/src/figures/ absent), the six figures the book embeds
    // are expected, not missing; once the directory exists, every one must be there.
    let figures_merged = src.join("figures").is_dir();
    let mut problems = Vec::new();
    let mut pending = BTreeSet::new();
    let mut linked = BTreeSet::new();
    for chapter in chapters() {
        let text = read(&chapter);
        for (line, target) in link_targets(&text) {
            let at = format!("{}:{line}", name(&chapter));
            if target.is_empty() {
                problems.push(format!("{at}: an empty link target"));
                continue;
            }
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() { chapter.clone() } else { src.join(path) };
            if !file.starts_with(&src) || path.contains("..") {
                problems.push(format!("{at}: `{target}` leaves book/src (mdbook would not copy it)"));
                continue;
            }
            if !file.is_file() {
                let figure = path.strip_prefix("figures/").filter(|f| FIGURES.contains(f));
                match figure {
                    Some(f) if !figures_merged => {
                        pending.insert(f.to_string());
                    }
                    _ => problems.push(format!("{at}: `{target}`: no such file book/src/{path}")),
                }
                continue;
            }
            if file.extension().is_some_and(|x| x == "md") {
                linked.insert(name(&file));
            }
            if let Some(a) = anchor {
                let ids = heading_ids(&read(&file));
                if !ids.contains(a) {
                    problems.push(format!("{at}: `{target}`: no heading with id `{a}` in {}", name(&file)));
                }
            }
        }
    }
    // Every chapter is reachable from SUMMARY.md.
    let summary = read(&src.join("SUMMARY.md"));
    let in_summary: BTreeSet<String> = link_targets(&summary).into_iter().map(|(_, t)| t).collect();
    for chapter in chapters() {
        let n = name(&chapter);
        if n != "SUMMARY.md" && !in_summary.contains(&n) {
            problems.push(format!("{n} is not in SUMMARY.md"));
        }
    }
    if !pending.is_empty() {
        eprintln!(
            "figures not generated yet (book/src/figures/ is absent), expected: {}",
            pending.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_book_embeds_every_figure() {
    let mut used = BTreeSet::new();
    for chapter in chapters() {
        for (_, t) in link_targets(&read(&chapter)) {
            if let Some(f) = t.strip_prefix("figures/") {
                used.insert(f.to_string());
            }
        }
    }
    for f in FIGURES {
        assert!(used.contains(f), "no chapter embeds figures/{f}");
    }
}

#[test]
fn every_numbered_chapter_ends_with_exercises() {
    let summary = read(&src_dir().join("SUMMARY.md"));
    let mut numbered = 0;
    for (_, target) in link_targets(&summary) {
        if ["introduction.md", "chat-protocol.md"].contains(&target.as_str()) {
            continue;
        }
        numbered += 1;
        let text = read(&src_dir().join(&target));
        let (_, prose) = split_fences(&text);
        let headings: Vec<&String> = prose.iter().filter(|l| l.starts_with("## ")).collect();
        assert_eq!(
            headings.last().map(|h| h.as_str()),
            Some("## Exercises"),
            "{target}: the last section is `## Exercises`"
        );
    }
    assert_eq!(numbered, 13, "the thirteen chapters of issue 7");
}

#[test]
fn the_link_checker_reads_links_anchors_and_code() {
    let md = "# Title `x`\n## L2: Ethernet and ARP\n```text\n[no](nowhere.md)\n```\n\
              See [a](b.md#c) and ![f](figures/x.svg \"t\") but not `[c](d.md)`.\n[r]: ref.md\n## L2: Ethernet and ARP\n";
    let targets: Vec<String> = link_targets(md).into_iter().map(|(_, t)| t).collect();
    assert_eq!(targets, ["b.md#c", "figures/x.svg", "ref.md"]);
    let ids = heading_ids(md);
    assert!(ids.contains("title-x"), "{ids:?}");
    assert!(ids.contains("l2-ethernet-and-arp"), "{ids:?}");
    assert!(ids.contains("l2-ethernet-and-arp-1"), "{ids:?}");
}
