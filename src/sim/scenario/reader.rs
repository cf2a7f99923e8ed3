//! The document walker under the loader: tables and values with their spans and field paths,
//! typed reads whose errors name the line and field, and the "did you mean" hints.

use super::units;
use super::{BitRate, Diagnostic, ScenarioError};
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// What every reading step returns.
pub(super) type Res<T> = Result<T, ScenarioError>;

/// The loader's state: the text (for line numbers), the file's name and the warnings so far.
pub(super) struct Loader<'a> {
    /// The file's name, for messages.
    pub(super) file: &'a str,
    /// Where an http-server's `{ file = … }` paths start.
    pub(super) base: &'a Path,
    /// The warnings so far.
    pub(super) warnings: Vec<Diagnostic>,
    /// The byte offset where each line starts (line 1 at index 0).
    line_starts: Vec<usize>,
}

/// A value in the document with its span and its field path.
#[derive(Clone)]
pub(super) struct Val<'a> {
    pub(super) v: &'a DeValue<'a>,
    pub(super) span: Range<usize>,
    pub(super) field: String,
}

/// A table in the document with its span (its header) and its path.
pub(super) struct Tbl<'a> {
    pub(super) t: &'a DeTable<'a>,
    pub(super) span: Range<usize>,
    pub(super) path: String,
}

/// The word from `choices` nearest to `word` (Levenshtein distance), if it is within one edit per
/// three characters (at least one), for a "did you mean" hint.
fn closest<'c>(word: &str, choices: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let sub = prev[j] + usize::from(ca != *cb);
                cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        prev[b.len()]
    };
    choices
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= (word.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

pub(super) fn did_you_mean<'c>(word: &str, choices: impl IntoIterator<Item = &'c str>) -> Option<String> {
    closest(word, choices).map(|c| format!("did you mean \"{c}\"?"))
}

/// Quoted names joined by ", ".
pub(super) fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items.into_iter().map(|s| s.as_ref().to_string()).collect::<Vec<_>>().join(", ")
}

/// The field path `path.key` (`key` alone at the top level).
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Tbl<'a> {
    /// The value under `key`.
    pub(super) fn get(&self, key: &str) -> Option<Val<'a>> {
        self.t.get(key).map(|v: &'a Spanned<DeValue<'a>>| Val {
            v: v.get_ref(),
            span: v.span(),
            field: join(&self.path, key),
        })
    }

    /// Whether `key` is present.
    pub(super) fn has(&self, key: &str) -> bool {
        self.t.get(key).is_some()
    }

    /// The value under `key`, or an error saying it is missing.
    pub(super) fn req(&self, ld: &Loader, key: &str, what: &str) -> Res<Val<'a>> {
        self.get(key).ok_or_else(|| ld.err(&self.span, &self.path, format!("missing {key:?} ({what})")))
    }

    /// Refuses keys outside `allowed` (the first in the file), naming the allowed ones:
    /// "unknown key "x" (a link's keys: a, b, …)" where `whose` is "a link's".
    pub(super) fn only(&self, ld: &Loader, allowed: &[&str], whose: &str) -> Res<()> {
        self.only_listed(ld, allowed, || format!("{whose} keys: {}", list(allowed)))
    }

    /// As [`Tbl::only`], with the parenthesis after "unknown key "x"" written by `listing`.
    pub(super) fn only_listed(&self, ld: &Loader, allowed: &[&str], listing: impl FnOnce() -> String) -> Res<()> {
        let unknown = self.t.keys().filter(|k| !allowed.contains(&k.get_ref().as_ref())).min_by_key(|k| k.span().start);
        match unknown {
            None => Ok(()),
            Some(k) => {
                let key = k.get_ref().as_ref();
                Err(ld.err_hint(
                    &k.span(),
                    &self.path,
                    format!("unknown key {key:?} ({})", listing()),
                    did_you_mean(key, allowed.iter().copied()),
                ))
            }
        }
    }
}

impl<'a> Val<'a> {
    pub(super) fn type_error(&self, ld: &Loader, expected: &str) -> ScenarioError {
        let found = self.v.type_str();
        let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        ld.err(&self.span, &self.field, format!("expected {expected}, found {article} {found}"))
    }

    pub(super) fn str(&self, ld: &Loader) -> Res<&'a str> {
        match self.v {
            DeValue::String(s) => Ok(s.as_ref()),
            _ => Err(self.type_error(ld, "a string")),
        }
    }

    pub(super) fn int(&self, ld: &Loader) -> Res<i128> {
        match self.v {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| ld.err(&self.span, &self.field, format!("{} is too large", i.as_str()))),
            _ => Err(self.type_error(ld, "an integer")),
        }
    }

    /// An integer in `lo..=hi`; `what` names it in the message ("port", "mtu").
    pub(super) fn int_in<T: TryFrom<i128>>(&self, ld: &Loader, lo: i128, hi: i128, what: &str) -> Res<T> {
        let v = self.int(ld)?;
        if v < lo || v > hi {
            return Err(ld.err(&self.span, &self.field, format!("{what} {v} is out of range ({lo} to {hi})")));
        }
        T::try_from(v).map_err(|_| ld.err(&self.span, &self.field, format!("{what} {v} is out of range")))
    }

    pub(super) fn port(&self, ld: &Loader) -> Res<u16> {
        self.int_in(ld, 1, 65535, "port")
    }

    pub(super) fn number(&self, ld: &Loader) -> Res<f64> {
        match self.v {
            DeValue::Float(f) => f
                .as_str()
                .parse()
                .map_err(|_| ld.err(&self.span, &self.field, format!("{} is not a number", f.as_str()))),
            DeValue::Integer(_) => Ok(self.int(ld)? as f64),
            _ => Err(self.type_error(ld, "a number")),
        }
    }

    pub(super) fn probability(&self, ld: &Loader) -> Res<f64> {
        let p = match self.v {
            DeValue::String(s) => units::parse_percent(s),
            _ => units::parse_probability(self.number(ld)?),
        };
        p.map_err(|m| ld.err(&self.span, &self.field, m))
    }

    pub(super) fn duration(&self, ld: &Loader) -> Res<Duration> {
        match self.v {
            DeValue::String(s) => units::parse_duration(s).map_err(|m| ld.err(&self.span, &self.field, m)),
            DeValue::Integer(_) | DeValue::Float(_) if self.number(ld)? == 0.0 => Ok(Duration::ZERO),
            DeValue::Integer(_) | DeValue::Float(_) => Err(ld.err(
                &self.span,
                &self.field,
                "a duration needs a unit: write it as a string like \"250ms\", \"1.5s\", \"2us\", \"10ns\", \"1m\"",
            )),
            _ => Err(self.type_error(ld, "a duration like \"1.5s\"")),
        }
    }

    pub(super) fn rate(&self, ld: &Loader) -> Res<BitRate> {
        match self.v {
            DeValue::String(s) => units::parse_rate(s).map_err(|m| ld.err(&self.span, &self.field, m)),
            DeValue::Integer(_) => {
                let v: u64 = self.int_in(ld, 0, i128::from(u64::MAX), "bandwidth")?;
                if v == 0 {
                    return Err(ld.err(&self.span, &self.field, "zero: a link needs a bandwidth above 0 bit/s"));
                }
                Ok(BitRate(v))
            }
            _ => Err(self.type_error(ld, "a bit rate like \"100Mbit/s\"")),
        }
    }

    pub(super) fn table(&self, ld: &Loader, path: String) -> Res<Tbl<'a>> {
        match self.v {
            DeValue::Table(t) => Ok(Tbl { t, span: self.span.clone(), path }),
            _ => Err(self.type_error(ld, "a table")),
        }
    }

    pub(super) fn array(&self, ld: &Loader) -> Res<Vec<Val<'a>>> {
        match self.v {
            DeValue::Array(a) => Ok(a
                .iter()
                .enumerate()
                .map(|(i, v)| Val { v: v.get_ref(), span: v.span(), field: format!("{}[{i}]", self.field) })
                .collect()),
            _ => Err(self.type_error(ld, "an array")),
        }
    }

    /// An array of tables (`[[x]]` or `x = [{…}]`), or a single table (`[x]`) as an array of one.
    pub(super) fn tables(&self, ld: &Loader) -> Res<Vec<Tbl<'a>>> {
        match self.v {
            DeValue::Table(_) => Ok(vec![self.table(ld, self.field.clone())?]),
            _ => self.array(ld)?.into_iter().map(|v| v.table(ld, v.field.clone())).collect(),
        }
    }

    pub(super) fn ip(&self, ld: &Loader) -> Res<IpAddr> {
        let s = self.str(ld)?;
        s.trim().parse().map_err(|_| {
            ld.err(&self.span, &self.field, format!("{s:?} is not an IP address (like 192.0.2.10 or 2001:db8::10)"))
        })
    }

    pub(super) fn endpoint(&self, ld: &Loader, default_port: Option<u16>) -> Res<SocketAddr> {
        let s = self.str(ld)?;
        units::parse_endpoint(s, default_port).map_err(|m| ld.err(&self.span, &self.field, m))
    }
}

impl<'a> Loader<'a> {
    /// A loader for `text`, called `file` in messages.
    pub(super) fn new(text: &str, file: &'a str, base: &'a Path) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Loader { file, base, warnings: Vec::new(), line_starts }
    }

    /// The 1-based line of a byte offset.
    pub(super) fn line(&self, span: &Range<usize>) -> usize {
        self.line_starts.partition_point(|&start| start <= span.start).max(1)
    }

    pub(super) fn diag(&self, span: &Range<usize>, field: &str, message: String, hint: Option<String>) -> Diagnostic {
        Diagnostic { file: self.file.to_string(), line: Some(self.line(span)), field: field.to_string(), message, hint }
    }

    pub(super) fn err(&self, span: &Range<usize>, field: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError(Box::new(self.diag(span, field, message.into(), None)))
    }

    pub(super) fn err_hint(
        &self,
        span: &Range<usize>,
        field: &str,
        message: String,
        hint: Option<String>,
    ) -> ScenarioError {
        ScenarioError(Box::new(self.diag(span, field, message, hint)))
    }

    pub(super) fn warn(&mut self, span: &Range<usize>, field: &str, message: impl Into<String>) {
        let d = self.diag(span, field, message.into(), None);
        self.warnings.push(d);
    }

    /// A span that starts on `line` (for messages about a device found after its table was read).
    pub(super) fn line_span(&self, line: usize) -> Range<usize> {
        let start = self.line_starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        start..start
    }
}
