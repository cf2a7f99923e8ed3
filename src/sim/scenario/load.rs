//! Reading a scenario: TOML text → checked [`Scenario`], or an error naming file, line and field.
//!
//! The TOML is parsed into `toml`'s spanned document tree ([`DeTable`]), which keeps the byte span
//! of every key and value; the loader walks it table by table, so that every message can name the
//! line of the value at fault and its field path (`link[2].b`, `host "alice".ipv4`). Every table
//! refuses keys it does not know (like serde's `deny_unknown_fields`), listing those it does.

use super::units::{self, Cidr};
use super::*;
use crate::layers::l7_application::chat::ChatLine;
use crate::layers::l7_application::dns::name::Name;
use crate::layers::l7_application::dns::text::parse_type;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

type Res<T> = Result<T, ScenarioError>;

/// Reads a scenario file. Files an `http-server` serves from disk are read relative to it.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioError(Box::new(Diagnostic {
            file: file.clone(),
            line: None,
            field: String::new(),
            message: format!("cannot read the scenario: {e}"),
            hint: None,
        }))
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse_with_base(&text, &file, base)
}

/// Parses scenario text; `name` is the file name used in messages. Files an `http-server` serves
/// from disk are read relative to the current directory.
pub fn parse(text: &str, name: &str) -> Result<Scenario, ScenarioError> {
    parse_with_base(text, name, Path::new("."))
}

/// Parses scenario text, reading the files an `http-server` serves relative to `base`.
pub fn parse_with_base(text: &str, name: &str, base: &Path) -> Result<Scenario, ScenarioError> {
    let ld = Loader { text, file: name, base, warnings: Vec::new() };
    let root = DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| ld.line(&s));
        let message = e.message().trim_end().to_string();
        ScenarioError(Box::new(Diagnostic {
            file: name.to_string(),
            line,
            field: String::new(),
            message: format!("not valid TOML: {message}"),
            hint: None,
        }))
    })?;
    let span = root.span();
    let root = Tbl { t: root.get_ref(), span, path: String::new() };
    ld.scenario(&root)
}

/// The loader's state: the text (for line numbers), the file's name and the warnings so far.
struct Loader<'a> {
    text: &'a str,
    file: &'a str,
    base: &'a Path,
    warnings: Vec<Diagnostic>,
}

/// A value in the document with its span and its field path.
#[derive(Clone)]
struct Val<'a> {
    v: &'a DeValue<'a>,
    span: Range<usize>,
    field: String,
}

/// A table in the document with its span (its header) and its path.
struct Tbl<'a> {
    t: &'a DeTable<'a>,
    span: Range<usize>,
    path: String,
}

/// Keys of the top level.
const ROOT_KEYS: &[&str] =
    &["name", "description", "seed", "until", "switch", "host", "router", "link", "process", "script"];
/// Keys of a `[[switch]]`.
const SWITCH_KEYS: &[&str] = &["name", "ports", "ageing", "table_limit"];
/// Keys of a `[[host]]` / `[[router]]`.
const NODE_KEYS: &[&str] = &["name", "ipv4", "ipv6", "mac", "mtu", "gateway", "gateway6", "interface", "route"];
/// The keys of the short form (one interface given on the host itself).
const SHORT_FORM_KEYS: &[&str] = &["ipv4", "ipv6", "mac", "mtu"];
/// Keys of a `[[host.interface]]`.
const INTERFACE_KEYS: &[&str] = &["name", "ipv4", "ipv6", "mac", "mtu"];
/// Keys of a `[[host.route]]`.
const ROUTE_KEYS: &[&str] = &["to", "via"];
/// Keys of a `[[link]]`.
const LINK_KEYS: &[&str] =
    &["a", "b", "bandwidth", "delay", "mtu", "queue", "loss", "ber", "duplicate", "reorder", "line_code"];
/// Keys every `[[process]]` has.
const PROCESS_KEYS: &[&str] = &["host", "name", "program", "start"];
/// Keys of a `[[script]]` line besides the call's own.
const SCRIPT_KEYS: &[&str] = &["at", "process", "call"];
/// The socket calls a script line can make.
const CALLS: &[&str] =
    &["socket", "bind", "listen", "accept", "connect", "send", "recv", "sendto", "recvfrom", "close"];

/// The option keys of each program.
fn program_keys(program: &str) -> &'static [&'static str] {
    match program {
        "chat-server" | "udp-echo" | "tcp-sink" | "udp-sink" => &["port"],
        "chat-client" => &["server", "nick", "say", "leave_at"],
        "http-server" => &["port", "files"],
        "http-get" => &["url", "resolver"],
        "dns-server" => &["port", "record"],
        "dns-query" => &["server", "query", "type"],
        "ping" => &["target", "count", "interval", "size", "ttl"],
        "tcp-sender" | "udp-sender" => &["to", "messages", "bytes", "interval"],
        _ => &[],
    }
}

/// The option keys of each socket call (`fd` is for all but `socket`).
fn call_keys(call: &str) -> &'static [&'static str] {
    match call {
        "socket" => &["type", "family"],
        "bind" => &["fd", "addr"],
        "listen" => &["fd", "backlog"],
        "connect" => &["fd", "to"],
        "send" => &["fd", "text"],
        "sendto" => &["fd", "text", "to"],
        "recv" | "recvfrom" => &["fd", "max"],
        _ => &["fd"],
    }
}

/// A word from `choices` within two edits of `word`, for a "did you mean" hint.
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
    choices.into_iter().map(|c| (distance(word, c), c)).filter(|(d, _)| *d <= 2).min_by_key(|(d, _)| *d).map(|(_, c)| c)
}

fn did_you_mean<'c>(word: &str, choices: impl IntoIterator<Item = &'c str>) -> Option<String> {
    closest(word, choices).map(|c| format!("did you mean \"{c}\"?"))
}

/// Quoted names joined by ", ".
fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items.into_iter().map(|s| s.as_ref().to_string()).collect::<Vec<_>>().join(", ")
}

/// The field path `path.key` (`key` alone at the top level).
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Tbl<'a> {
    /// The value under `key`.
    fn get(&self, key: &str) -> Option<Val<'a>> {
        self.t.get(key).map(|v: &'a Spanned<DeValue<'a>>| Val {
            v: v.get_ref(),
            span: v.span(),
            field: join(&self.path, key),
        })
    }

    /// Whether `key` is present.
    fn has(&self, key: &str) -> bool {
        self.t.get(key).is_some()
    }

    /// The value under `key`, or an error saying it is missing.
    fn req(&self, ld: &Loader, key: &str, what: &str) -> Res<Val<'a>> {
        self.get(key).ok_or_else(|| ld.err(&self.span, &self.path, format!("missing {key:?} ({what})")))
    }

    /// Refuses keys outside `allowed` (the first in the file), naming the allowed ones.
    fn only(&self, ld: &Loader, allowed: &[&str], whose: &str) -> Res<()> {
        let mut unknown: Vec<(&Spanned<std::borrow::Cow<'a, str>>, ())> =
            self.t.iter().filter(|(k, _)| !allowed.contains(&k.get_ref().as_ref())).map(|(k, _)| (k, ())).collect();
        unknown.sort_by_key(|(k, _)| k.span().start);
        match unknown.first() {
            None => Ok(()),
            Some((k, _)) => {
                let key = k.get_ref().as_ref();
                let field = if self.path.is_empty() { String::new() } else { self.path.clone() };
                Err(ld.err_hint(
                    &k.span(),
                    &field,
                    format!("unknown key {key:?} ({whose} keys: {})", list(allowed)),
                    did_you_mean(key, allowed.iter().copied()),
                ))
            }
        }
    }
}

impl<'a> Val<'a> {
    fn type_error(&self, ld: &Loader, expected: &str) -> ScenarioError {
        ld.err(&self.span, &self.field, format!("expected {expected}, found a {}", self.v.type_str()))
    }

    fn str(&self, ld: &Loader) -> Res<&'a str> {
        match self.v {
            DeValue::String(s) => Ok(s.as_ref()),
            _ => Err(self.type_error(ld, "a string")),
        }
    }

    fn int(&self, ld: &Loader) -> Res<i128> {
        match self.v {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| ld.err(&self.span, &self.field, format!("{} is too large", i.as_str()))),
            _ => Err(self.type_error(ld, "an integer")),
        }
    }

    /// An integer in `lo..=hi`; `what` names it in the message ("port", "mtu").
    fn int_in<T: TryFrom<i128>>(&self, ld: &Loader, lo: i128, hi: i128, what: &str) -> Res<T> {
        let v = self.int(ld)?;
        if v < lo || v > hi {
            return Err(ld.err(&self.span, &self.field, format!("{what} {v} is out of range ({lo} to {hi})")));
        }
        T::try_from(v).map_err(|_| ld.err(&self.span, &self.field, format!("{what} {v} is out of range")))
    }

    fn port(&self, ld: &Loader) -> Res<u16> {
        self.int_in(ld, 1, 65535, "port")
    }

    fn number(&self, ld: &Loader) -> Res<f64> {
        match self.v {
            DeValue::Float(f) => f
                .as_str()
                .parse()
                .map_err(|_| ld.err(&self.span, &self.field, format!("{} is not a number", f.as_str()))),
            DeValue::Integer(_) => Ok(self.int(ld)? as f64),
            _ => Err(self.type_error(ld, "a number")),
        }
    }

    fn probability(&self, ld: &Loader) -> Res<f64> {
        let p = match self.v {
            DeValue::String(s) => units::parse_percent(s),
            _ => units::parse_probability(self.number(ld)?),
        };
        p.map_err(|m| ld.err(&self.span, &self.field, m))
    }

    fn duration(&self, ld: &Loader) -> Res<Duration> {
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

    fn rate(&self, ld: &Loader) -> Res<BitRate> {
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

    fn table(&self, ld: &Loader, path: String) -> Res<Tbl<'a>> {
        match self.v {
            DeValue::Table(t) => Ok(Tbl { t, span: self.span.clone(), path }),
            _ => Err(self.type_error(ld, "a table")),
        }
    }

    fn array(&self, ld: &Loader) -> Res<Vec<Val<'a>>> {
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
    fn tables(&self, ld: &Loader) -> Res<Vec<Tbl<'a>>> {
        match self.v {
            DeValue::Table(_) => Ok(vec![self.table(ld, self.field.clone())?]),
            _ => self.array(ld)?.into_iter().map(|v| v.table(ld, v.field.clone())).collect(),
        }
    }

    fn ip(&self, ld: &Loader) -> Res<IpAddr> {
        let s = self.str(ld)?;
        s.trim().parse().map_err(|_| {
            ld.err(&self.span, &self.field, format!("{s:?} is not an IP address (like 192.0.2.10 or 2001:db8::10)"))
        })
    }

    fn endpoint(&self, ld: &Loader, default_port: Option<u16>) -> Res<SocketAddr> {
        let s = self.str(ld)?;
        units::parse_endpoint(s, default_port).map_err(|m| ld.err(&self.span, &self.field, m))
    }
}

/// Where an address is already in use: its owner's label and line.
struct Owner {
    label: String,
    line: usize,
}

impl<'a> Loader<'a> {
    /// The 1-based line of a byte offset.
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn diag(&self, span: &Range<usize>, field: &str, message: String, hint: Option<String>) -> Diagnostic {
        Diagnostic { file: self.file.to_string(), line: Some(self.line(span)), field: field.to_string(), message, hint }
    }

    fn err(&self, span: &Range<usize>, field: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError(Box::new(self.diag(span, field, message.into(), None)))
    }

    fn err_hint(&self, span: &Range<usize>, field: &str, message: String, hint: Option<String>) -> ScenarioError {
        ScenarioError(Box::new(self.diag(span, field, message, hint)))
    }

    fn warn(&mut self, span: &Range<usize>, field: &str, message: impl Into<String>) {
        let d = self.diag(span, field, message.into(), None);
        self.warnings.push(d);
    }

    fn scenario(mut self, root: &Tbl<'a>) -> Res<Scenario> {
        root.only(&self, ROOT_KEYS, "top-level")?;
        let name = root.req(&self, "name", "the scenario's name")?.str(&self)?.to_string();
        let description = match root.get("description") {
            Some(v) => v.str(&self)?.to_string(),
            None => String::new(),
        };
        let seed = match root.get("seed") {
            Some(v) => v.int_in(&self, 0, i128::from(u64::MAX), "seed")?,
            None => DEFAULT_SEED,
        };
        let until = match root.get("until") {
            Some(v) => v.duration(&self)?,
            None => DEFAULT_UNTIL,
        };

        // Devices, in file order whatever their kind.
        let mut tables: Vec<(&str, Tbl<'a>)> = Vec::new();
        for kind in ["switch", "host", "router"] {
            if let Some(v) = root.get(kind) {
                for (i, mut t) in v.tables(&self)?.into_iter().enumerate() {
                    t.path = format!("{kind}[{i}]");
                    tables.push((kind, t));
                }
            }
        }
        tables.sort_by_key(|(_, t)| t.span.start);
        let mut devices = Vec::new();
        let mut addrs: HashMap<IpAddr, Owner> = HashMap::new();
        let mut mac_spans: Vec<Option<Range<usize>>> = Vec::new();
        for (kind, mut t) in tables {
            let device = self.device(kind, &mut t, devices.len(), &devices, &mut addrs, &mut mac_spans)?;
            devices.push(device);
        }
        self.check_macs(&devices, &mac_spans)?;

        let mut links = Vec::new();
        if let Some(v) = root.get("link") {
            for (i, mut t) in v.tables(&self)?.into_iter().enumerate() {
                t.path = format!("link[{i}]");
                let link = self.link(&t, &devices, &links)?;
                links.push(link);
            }
        }
        self.finish_topology(&mut devices, &links);

        let mut processes = Vec::new();
        if let Some(v) = root.get("process") {
            for (i, mut t) in v.tables(&self)?.into_iter().enumerate() {
                t.path = format!("process[{i}]");
                let p = self.process(&mut t, &devices, &addrs)?;
                processes.push(p);
            }
        }

        let mut script = Vec::new();
        if let Some(v) = root.get("script") {
            for (i, mut t) in v.tables(&self)?.into_iter().enumerate() {
                t.path = format!("script[{i}]");
                script.push(self.script_step(&mut t, &devices, &processes)?);
            }
        }
        script.sort_by_key(|s: &ScriptStep| s.at);

        self.late_warnings(until, &devices, &processes, &script);
        Ok(Scenario {
            file: self.file.to_string(),
            name,
            description,
            seed,
            until,
            devices,
            links,
            processes,
            script,
            warnings: self.warnings,
        })
    }

    /// A `[[host]]`, `[[router]]` or `[[switch]]`; `index` is its position among all devices.
    fn device(
        &mut self,
        kind: &str,
        t: &mut Tbl<'a>,
        index: usize,
        earlier: &[Device],
        addrs: &mut HashMap<IpAddr, Owner>,
        mac_spans: &mut Vec<Option<Range<usize>>>,
    ) -> Res<Device> {
        let name_v = t.req(self, "name", &format!("every {kind} needs a name"))?;
        let name = name_v.str(self)?.to_string();
        units::check_name(&name).map_err(|m| self.err(&name_v.span, &name_v.field, m))?;
        if let Some(other) = earlier.iter().find(|d| d.name == name) {
            return Err(self.err(
                &name_v.span,
                &name_v.field,
                format!("{name:?} is already the name of the {} on line {}", other.kind_name(), other.line),
            ));
        }
        t.path = format!("{kind} {name:?}");
        let line = self.line(&t.span);
        let kind = match kind {
            "switch" => {
                t.only(self, SWITCH_KEYS, "a switch's")?;
                let ports = match t.get("ports") {
                    Some(v) => v.int_in(self, 1, 4096, "ports")?,
                    None => 0,
                };
                let ageing = match t.get("ageing") {
                    Some(v) => v.duration(self)?,
                    None => DEFAULT_AGEING,
                };
                let table_limit = match t.get("table_limit") {
                    Some(v) => v.int_in(self, 1, 1 << 24, "table_limit")?,
                    None => DEFAULT_TABLE_LIMIT,
                };
                DeviceKind::Switch(SwitchSpec { ports, ageing, table_limit })
            }
            "router" => DeviceKind::Router(self.node(t, "a router's", index, addrs, mac_spans)?),
            _ => DeviceKind::Host(self.node(t, "a host's", index, addrs, mac_spans)?),
        };
        Ok(Device { name, line, kind })
    }

    /// A host's or router's interfaces and routes.
    fn node(
        &mut self,
        t: &Tbl<'a>,
        whose: &str,
        index: usize,
        addrs: &mut HashMap<IpAddr, Owner>,
        mac_spans: &mut Vec<Option<Range<usize>>>,
    ) -> Res<Node> {
        t.only(self, NODE_KEYS, whose)?;
        let device = t.path.clone();
        let dev_name = t.get("name").and_then(|v| match v.v {
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        });
        let dev_name = dev_name.unwrap_or_default();
        let mut interfaces: Vec<Interface> = Vec::new();
        let kind = device.split(' ').next().unwrap_or("host").to_string();
        if let Some(v) = t.get("interface") {
            if let Some(k) = SHORT_FORM_KEYS.iter().find(|k| t.has(k)) {
                let bad = t.get(k).map(|v| v.span).unwrap_or(t.span.clone());
                return Err(self.err_hint(
                    &bad,
                    &join(&device, k),
                    format!(
                        "{k} on the {kind} itself (the one-interface short form) cannot be mixed with \
                         [[{kind}.interface]]"
                    ),
                    Some(format!("move it into one of the [[{kind}.interface]] tables")),
                ));
            }
            for (i, mut it) in v.tables(self)?.into_iter().enumerate() {
                it.path = format!("{device}.interface[{i}]");
                it.only(self, INTERFACE_KEYS, "an interface's")?;
                let nv = it.req(self, "name", "every interface needs a name, like \"eth0\"")?;
                let iname = nv.str(self)?.to_string();
                units::check_name(&iname).map_err(|m| self.err(&nv.span, &nv.field, m))?;
                if interfaces.iter().any(|x| x.name == iname) {
                    return Err(self.err(
                        &nv.span,
                        &nv.field,
                        format!("{dev_name} already has an interface {iname:?}"),
                    ));
                }
                it.path = format!("{device}.interface {iname:?}");
                let (iface, mac_span) = self.interface(&it, iname, &dev_name, index, interfaces.len(), addrs)?;
                interfaces.push(iface);
                mac_spans.push(mac_span);
            }
        } else {
            if !SHORT_FORM_KEYS[..2].iter().any(|k| t.has(k)) {
                return Err(self.err_hint(
                    &t.span,
                    &device,
                    format!("has no address: a {kind} needs ipv4 (and/or ipv6) or [[{kind}.interface]] tables"),
                    Some("like ipv4 = \"192.0.2.10/24\"".into()),
                ));
            }
            let (iface, mac_span) = self.interface(t, "eth0".into(), &dev_name, index, 0, addrs)?;
            interfaces.push(iface);
            mac_spans.push(mac_span);
        }
        if interfaces.is_empty() {
            return Err(self.err(&t.span, &device, format!("has no interfaces: add a [[{kind}.interface]]")));
        }
        let subnets = |ip: IpAddr| interfaces.iter().flat_map(|i| [i.ipv4, i.ipv6]).flatten().find(|c| c.contains(ip));
        let own = |ip: IpAddr| interfaces.iter().flat_map(|i| [i.ipv4, i.ipv6]).flatten().any(|c| c.addr == ip);
        let all_subnets =
            || list(interfaces.iter().flat_map(|i| [i.ipv4, i.ipv6]).flatten().map(|c| format!("{}", c.subnet())));
        let check_hop = |ld: &Loader, v: &Val, ip: IpAddr| -> Res<()> {
            if own(ip) {
                return Err(ld.err(&v.span, &v.field, format!("{ip} is this {kind}'s own address, not a next hop")));
            }
            if subnets(ip).is_none() {
                return Err(ld.err(
                    &v.span,
                    &v.field,
                    format!(
                        "{ip} is not in any subnet of this {kind}'s interfaces ({}): it could not be reached",
                        all_subnets()
                    ),
                ));
            }
            Ok(())
        };
        let mut gateway = None;
        if let Some(v) = t.get("gateway") {
            match v.ip(self)? {
                IpAddr::V4(a) => {
                    check_hop(self, &v, IpAddr::V4(a))?;
                    gateway = Some(a);
                }
                IpAddr::V6(a) => {
                    return Err(self.err(&v.span, &v.field, format!("{a} is IPv6: gateway is IPv4's, use gateway6")))
                }
            }
        }
        let mut gateway6 = None;
        if let Some(v) = t.get("gateway6") {
            match v.ip(self)? {
                IpAddr::V6(a) => {
                    check_hop(self, &v, IpAddr::V6(a))?;
                    gateway6 = Some(a);
                }
                IpAddr::V4(a) => {
                    return Err(self.err(&v.span, &v.field, format!("{a} is IPv4: gateway6 is IPv6's, use gateway")))
                }
            }
        }
        let mut routes = Vec::new();
        if let Some(v) = t.get("route") {
            for (i, mut rt) in v.tables(self)?.into_iter().enumerate() {
                rt.path = format!("{device}.route[{i}]");
                rt.only(self, ROUTE_KEYS, "a route's")?;
                let to_v = rt.req(self, "to", "the destination, like \"198.51.100.0/24\"")?;
                let to_s = to_v.str(self)?;
                let to: Cidr = to_s.parse().map_err(|m| self.err(&to_v.span, &to_v.field, m))?;
                if to.subnet() != to {
                    self.warn(
                        &to_v.span,
                        &to_v.field,
                        format!("{to} has host bits set: the route is for {}", to.subnet()),
                    );
                }
                let via_v = rt.req(self, "via", "the next hop's address")?;
                let via = via_v.ip(self)?;
                if via.is_ipv4() != to.is_ipv4() {
                    return Err(self.err(
                        &via_v.span,
                        &via_v.field,
                        format!(
                            "{via} is {} but the route is for {} ({to})",
                            units::family_name(via),
                            units::family_name(to.addr)
                        ),
                    ));
                }
                check_hop(self, &via_v, via)?;
                routes.push(Route { to: to.subnet(), via });
            }
        }
        Ok(Node { interfaces, gateway, gateway6, routes })
    }

    /// One interface from `t` (an `[[x.interface]]`, or the host itself in the short form).
    /// Returns it with the span of an explicit `mac`, if one was given.
    fn interface(
        &mut self,
        t: &Tbl<'a>,
        name: String,
        dev_name: &str,
        dev_index: usize,
        if_index: usize,
        addrs: &mut HashMap<IpAddr, Owner>,
    ) -> Res<(Interface, Option<Range<usize>>)> {
        let label = format!("{dev_name}:{name}");
        let mut ipv4 = None;
        if let Some(v) = t.get("ipv4") {
            ipv4 = Some(self.cidr(&v, true, &label, addrs)?);
        }
        let mut ipv6 = None;
        if let Some(v) = t.get("ipv6") {
            ipv6 = Some(self.cidr(&v, false, &label, addrs)?);
        }
        if ipv4.is_none() && ipv6.is_none() {
            return Err(self.err(&t.span, &t.path, "has no address: give it ipv4 and/or ipv6"));
        }
        let (mac, mac_span) = match t.get("mac") {
            Some(v) => {
                let s = v.str(self)?;
                let mac: MacAddr =
                    s.parse().map_err(|e: crate::addr::MacParseError| self.err(&v.span, &v.field, e.to_string()))?;
                if mac.is_multicast() {
                    return Err(self.err(
                        &v.span,
                        &v.field,
                        format!(
                            "{mac} is a group (multicast) address: an interface needs an individual one \
                             (first octet even, IEEE 802 §8.2)"
                        ),
                    ));
                }
                (mac, Some(v.span))
            }
            None => (derived_mac(dev_index, if_index), None),
        };
        let mtu = match t.get("mtu") {
            Some(v) => {
                let m: u16 = v.int_in(self, 0, 65535, "mtu")?;
                check_mtu(m, ipv6.is_some()).map_err(|msg| self.err(&v.span, &v.field, msg))?;
                m
            }
            None => DEFAULT_MTU,
        };
        Ok((Interface { name, mac, ipv4, ipv6, mtu }, mac_span))
    }

    /// An interface address: `ipv4` (when `v4`) or `ipv6`, with its prefix.
    /// Two interfaces with the same address are an error; `label` (`host:iface`) names the owner.
    fn cidr(&mut self, v: &Val<'a>, v4: bool, label: &str, addrs: &mut HashMap<IpAddr, Owner>) -> Res<Cidr> {
        let s = v.str(self)?;
        let example = if v4 { "192.0.2.10/24" } else { "2001:db8::10/64" };
        let family = if v4 { "IPv4" } else { "IPv6" };
        let c: Cidr = s.parse().map_err(|_: String| {
            self.err(&v.span, &v.field, format!("{s:?} is not an {family} address with a prefix (like {example})"))
        })?;
        if c.is_ipv4() != v4 {
            let other = if v4 { "ipv6" } else { "ipv4" };
            return Err(self.err(&v.span, &v.field, format!("{s:?} is not an {family} address: put it in {other}")));
        }
        if let Some(bc) = c.broadcast() {
            if IpAddr::V4(bc) == c.addr {
                return Err(self.err(
                    &v.span,
                    &v.field,
                    format!("{c} is the broadcast address of {} (RFC 919): pick a host address", c.subnet()),
                ));
            }
            if c.network() == c.addr {
                return Err(self.err(
                    &v.span,
                    &v.field,
                    format!("{c} is the network address of {} (RFC 950): pick a host address", c.subnet()),
                ));
            }
        }
        if c.addr.is_unspecified() || c.addr.is_multicast() || c.addr.is_loopback() {
            return Err(self.err(&v.span, &v.field, format!("{} cannot be an interface's address", c.addr)));
        }
        if !units::is_documentation(c.addr) {
            let ranges = if v4 {
                "192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737)"
            } else {
                "2001:db8::/32 (RFC 3849)"
            };
            self.warn(
                &v.span,
                &v.field,
                format!("{} is outside the documentation ranges {ranges}: pcaps of this run may be shared", c.addr),
            );
        }
        if let Some(prev) = addrs.get(&c.addr) {
            return Err(self.err(
                &v.span,
                &v.field,
                format!("{} is already the address of {} (line {})", c.addr, prev.label, prev.line),
            ));
        }
        addrs.insert(c.addr, Owner { label: label.to_string(), line: self.line(&v.span) });
        Ok(c)
    }

    /// Two interfaces with the same MAC address (given, or given and derived) are an error.
    fn check_macs(&self, devices: &[Device], mac_spans: &[Option<Range<usize>>]) -> Res<()> {
        let mut seen: HashMap<MacAddr, String> = HashMap::new();
        let mut k = 0;
        for d in devices {
            if let Some(n) = d.node() {
                for i in &n.interfaces {
                    let label = format!("{}:{}", d.name, i.name);
                    if let Some(prev) = seen.get(&i.mac) {
                        let span = mac_spans.get(k).cloned().flatten().unwrap_or(0..0);
                        let line_span = if span == (0..0) { None } else { Some(span) };
                        let field = format!("{} {:?}.mac", d.kind_name(), d.name);
                        return Err(match line_span {
                            Some(s) => self.err(&s, &field, format!("{} is already the MAC address of {prev}", i.mac)),
                            None => ScenarioError(Box::new(Diagnostic {
                                file: self.file.to_string(),
                                line: Some(d.line),
                                field,
                                message: format!("the derived MAC {} of {label} is already {prev}'s", i.mac),
                                hint: Some("give one of them another mac".into()),
                            })),
                        });
                    }
                    seen.insert(i.mac, label);
                    k += 1;
                }
            }
        }
        Ok(())
    }

    /// A `[[link]]`.
    fn link(&mut self, t: &Tbl<'a>, devices: &[Device], links: &[Link]) -> Res<Link> {
        t.only(self, LINK_KEYS, "a link's")?;
        let a = self.link_end(t, "a", devices, links, None)?;
        let b = self.link_end(t, "b", devices, links, Some(&a))?;
        let bandwidth = match t.get("bandwidth") {
            Some(v) => v.rate(self)?,
            None => DEFAULT_BANDWIDTH,
        };
        let delay = match t.get("delay") {
            Some(v) => v.duration(self)?,
            None => DEFAULT_DELAY,
        };
        let end_ifaces: Vec<(&LinkEnd, &Interface)> = [&a, &b]
            .into_iter()
            .filter_map(|e| {
                devices.get(e.device.0).and_then(|d| d.node()).and_then(|n| n.interfaces.get(e.port)).map(|i| (e, i))
            })
            .collect();
        let has_v6 = end_ifaces.iter().any(|(_, i)| i.ipv6.is_some());
        let mtu = match t.get("mtu") {
            Some(v) => {
                let m: u16 = v.int_in(self, 0, 65535, "mtu")?;
                check_mtu(m, has_v6).map_err(|msg| self.err(&v.span, &v.field, msg))?;
                if let Some((e, i)) = end_ifaces.iter().find(|(_, i)| i.mtu < m) {
                    return Err(self.err(
                        &v.span,
                        &v.field,
                        format!(
                            "mtu {m} is larger than {}'s own mtu {}: frames that size could not leave it",
                            e.label, i.mtu
                        ),
                    ));
                }
                m
            }
            None => end_ifaces.iter().map(|(_, i)| i.mtu).min().unwrap_or(DEFAULT_MTU),
        };
        let queue = match t.get("queue") {
            Some(v) => v.int_in(self, 1, 1 << 20, "queue")?,
            None => DEFAULT_QUEUE,
        };
        let mut probs = [0.0f64; 4];
        for (p, key) in probs.iter_mut().zip(["loss", "ber", "duplicate", "reorder"]) {
            if let Some(v) = t.get(key) {
                *p = v.probability(self)?;
            }
        }
        let [loss, ber, duplicate, reorder] = probs;
        let line_code = match t.get("line_code") {
            Some(v) => units::parse_line_code(v.str(self)?).map_err(|m| self.err(&v.span, &v.field, m))?,
            None => default_line_code(bandwidth),
        };
        Ok(Link {
            a,
            b,
            bandwidth,
            delay,
            mtu,
            queue,
            loss,
            ber,
            duplicate,
            reorder,
            line_code,
            line: self.line(&t.span),
        })
    }

    /// One end of a link: `device`, `device:iface` or `switch:port`.
    fn link_end(
        &self,
        t: &Tbl<'a>,
        key: &str,
        devices: &[Device],
        links: &[Link],
        other: Option<&LinkEnd>,
    ) -> Res<LinkEnd> {
        let v = t.req(self, key, "the device at this end, like \"server\", \"r1:eth1\" or \"sw1:3\"")?;
        let s = v.str(self)?;
        let (dev, port) = match s.split_once(':') {
            Some((d, p)) => (d, Some(p)),
            None => (s, None),
        };
        let Some(id) = devices.iter().position(|d| d.name == dev) else {
            return Err(self.err_hint(
                &v.span,
                &v.field,
                format!("unknown device {dev:?} (devices: {})", list(devices.iter().map(|d| d.name.as_str()))),
                did_you_mean(dev, devices.iter().map(|d| d.name.as_str())),
            ));
        };
        let device = &devices[id];
        let used_by = |port: usize| {
            links
                .iter()
                .enumerate()
                .find(|(_, l)| [&l.a, &l.b].iter().any(|e| e.device.0 == id && e.port == port))
                .map(|(i, l)| (i, l.line))
                .or_else(|| {
                    other.filter(|o| o.device.0 == id && o.port == port).map(|_| (links.len(), self.line(&t.span)))
                })
        };
        let (index, label) = match (&device.kind, port) {
            (DeviceKind::Switch(sw), Some(p)) => {
                let n: usize = match p.parse() {
                    Ok(n) if n >= 1 => n,
                    _ => {
                        return Err(self.err(
                            &v.span,
                            &v.field,
                            format!(
                                "{p:?} is not a port of switch {dev} (ports are numbered from 1, like \"{dev}:1\")"
                            ),
                        ))
                    }
                };
                if sw.ports > 0 && n > sw.ports {
                    return Err(self.err(
                        &v.span,
                        &v.field,
                        format!("switch {dev} has ports 1 to {}, not {n}", sw.ports),
                    ));
                }
                (n - 1, format!("{dev}:{n}"))
            }
            (DeviceKind::Switch(sw), None) => {
                let limit = if sw.ports > 0 { sw.ports } else { usize::MAX };
                match (0..limit).find(|&p| used_by(p).is_none()) {
                    Some(p) => (p, format!("{dev}:{}", p + 1)),
                    None => {
                        return Err(self.err(
                            &v.span,
                            &v.field,
                            format!("every port of switch {dev} (1 to {}) is already linked", sw.ports),
                        ))
                    }
                }
            }
            (DeviceKind::Host(n) | DeviceKind::Router(n), Some(p)) => match n.interface(p) {
                Some((i, _)) => (i, format!("{dev}:{p}")),
                None => {
                    let names: Vec<&str> = n.interfaces.iter().map(|i| i.name.as_str()).collect();
                    return Err(self.err_hint(
                        &v.span,
                        &v.field,
                        format!(
                            "{} {dev} has no interface {p:?} (its interfaces: {})",
                            device.kind_name(),
                            list(&names)
                        ),
                        did_you_mean(p, names.iter().copied()),
                    ));
                }
            },
            (DeviceKind::Host(n) | DeviceKind::Router(n), None) => {
                match (0..n.interfaces.len()).find(|&i| used_by(i).is_none()) {
                    Some(i) => (i, format!("{dev}:{}", n.interfaces[i].name)),
                    None => {
                        return Err(self.err_hint(
                            &v.span,
                            &v.field,
                            format!("every interface of {dev} is already linked"),
                            Some(format!("add a [[{}.interface]] to {dev}", device.kind_name())),
                        ))
                    }
                }
            }
        };
        if let Some((i, line)) = used_by(index) {
            let what =
                if i == links.len() { "this link's other end".to_string() } else { format!("link[{i}] (line {line})") };
            return Err(self.err(
                &v.span,
                &v.field,
                format!("{label} is already linked by {what}: a port takes one cable"),
            ));
        }
        Ok(LinkEnd { device: DeviceId(id), port: index, label })
    }

    /// After the links: switches get their port counts; unlinked interfaces get warnings.
    fn finish_topology(&mut self, devices: &mut [Device], links: &[Link]) {
        for (id, d) in devices.iter_mut().enumerate() {
            let ends: Vec<&LinkEnd> = links.iter().flat_map(|l| [&l.a, &l.b]).filter(|e| e.device.0 == id).collect();
            let line = d.line;
            let span = self.line_span(line);
            let kind = d.kind_name();
            let name = d.name.clone();
            match &mut d.kind {
                DeviceKind::Switch(sw) => {
                    let highest = ends.iter().map(|e| e.port + 1).max().unwrap_or(0);
                    if sw.ports == 0 {
                        sw.ports = highest;
                    }
                    if ends.is_empty() {
                        self.warn(&span, &format!("switch {name:?}"), "no link reaches this switch");
                    }
                }
                DeviceKind::Host(n) | DeviceKind::Router(n) => {
                    let idle: Vec<String> = n
                        .interfaces
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !ends.iter().any(|e| e.port == *i))
                        .map(|(_, i)| i.name.clone())
                        .collect();
                    for iname in idle {
                        self.warn(
                            &span,
                            &format!("{kind} {name:?}"),
                            format!("interface {iname} is not linked to anything"),
                        );
                    }
                }
            }
        }
    }

    /// A span that starts on `line` (for messages about a device found after its table was read).
    fn line_span(&self, line: usize) -> Range<usize> {
        let start = if line <= 1 {
            0
        } else {
            self.text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1).unwrap_or(self.text.len())
        };
        start..start
    }

    /// A `[[process]]`.
    fn process(&mut self, t: &mut Tbl<'a>, devices: &[Device], addrs: &HashMap<IpAddr, Owner>) -> Res<Process> {
        let hv = t.req(self, "host", "the host it runs on")?;
        let host_name = hv.str(self)?;
        let Some(host) = devices.iter().position(|d| d.name == host_name) else {
            let hosts: Vec<&str> = devices.iter().filter(|d| d.node().is_some()).map(|d| d.name.as_str()).collect();
            return Err(self.err_hint(
                &hv.span,
                &hv.field,
                format!("unknown host {host_name:?} (hosts and routers: {})", list(&hosts)),
                did_you_mean(host_name, hosts.iter().copied()),
            ));
        };
        if devices[host].node().is_none() {
            return Err(self.err(
                &hv.span,
                &hv.field,
                format!("{host_name} is a switch: processes run on hosts and routers"),
            ));
        }
        let pv = t.req(self, "program", &format!("one of {}", list(Program::NAMES)))?;
        let program = pv.str(self)?;
        if !Program::NAMES.contains(&program) {
            return Err(self.err_hint(
                &pv.span,
                &pv.field,
                format!("unknown program {program:?} (programs: {})", list(Program::NAMES)),
                did_you_mean(program, Program::NAMES),
            ));
        }
        let name = match t.get("name") {
            Some(v) => {
                let n = v.str(self)?;
                units::check_process_name(n).map_err(|m| self.err(&v.span, &v.field, m))?;
                n.to_string()
            }
            None => program.to_string(),
        };
        t.path = format!("process \"{host_name}/{name}\"");
        let own = program_keys(program);
        let allowed: Vec<&str> = PROCESS_KEYS.iter().chain(own).copied().collect();
        let whose = if own.is_empty() {
            format!("{program} takes no options; a process's")
        } else {
            format!("{program}'s options: {}; every process's", list(own))
        };
        t.only(self, &allowed, &whose)?;
        let start = match t.get("start") {
            Some(v) => v.duration(self)?,
            None => Duration::ZERO,
        };
        let program = self.program(t, program, start, host_name, addrs)?;
        Ok(Process { host: DeviceId(host), name, start, program, line: self.line(&t.span) })
    }

    /// Warns when no interface in the scenario has the address `ip`.
    fn warn_unknown_target(&mut self, v: &Val<'a>, ip: IpAddr, addrs: &HashMap<IpAddr, Owner>) {
        if !addrs.contains_key(&ip) {
            self.warn(
                &v.span,
                &v.field,
                format!("no interface in this scenario has the address {ip}: nothing will answer"),
            );
        }
    }

    fn server_port(&self, t: &Tbl<'a>, default: u16) -> Res<u16> {
        match t.get("port") {
            Some(v) => v.port(self),
            None => Ok(default),
        }
    }

    /// A program's options.
    fn program(
        &mut self,
        t: &Tbl<'a>,
        program: &str,
        start: Duration,
        host: &str,
        addrs: &HashMap<IpAddr, Owner>,
    ) -> Res<Program> {
        Ok(match program {
            "chat-server" => Program::ChatServer { port: self.server_port(t, 3000)? },
            "udp-echo" => Program::UdpEcho { port: self.server_port(t, 7)? },
            "tcp-sink" => Program::TcpSink { port: self.server_port(t, 9)? },
            "udp-sink" => Program::UdpSink { port: self.server_port(t, 9)? },
            "chat-client" => self.chat_client(t, start, host, addrs)?,
            "http-server" => self.http_server(t)?,
            "http-get" => {
                let uv = t.req(self, "url", "what to fetch, like \"http://192.0.2.10/index.html\"")?;
                let url = parse_url(uv.str(self)?).map_err(|m| self.err(&uv.span, &uv.field, m))?;
                let resolver = match t.get("resolver") {
                    Some(v) => {
                        let ip = v.ip(self)?;
                        self.warn_unknown_target(&v, ip, addrs);
                        Some(ip)
                    }
                    None => None,
                };
                match &url.host {
                    UrlHost::Name(n) if resolver.is_none() => {
                        return Err(self.err_hint(
                            &uv.span,
                            &uv.field,
                            format!("the URL names the host {n:?}, so it needs a resolver"),
                            Some("add resolver = the DNS server's address, like \"192.0.2.53\"".into()),
                        ))
                    }
                    UrlHost::Ip(ip) => self.warn_unknown_target(&uv, *ip, addrs),
                    UrlHost::Name(_) => {}
                }
                Program::HttpGet { url, resolver }
            }
            "dns-server" => self.dns_server(t)?,
            "dns-query" => {
                let sv = t.req(self, "server", "the DNS server's address, like \"192.0.2.53\"")?;
                let server = sv.endpoint(self, Some(53))?;
                self.warn_unknown_target(&sv, server.ip(), addrs);
                let qv = t.req(self, "query", "the name to look up, like \"www.example.com\"")?;
                let query = dns_name(qv.str(self)?).map_err(|m| self.err(&qv.span, &qv.field, m))?;
                let qtype = match t.get("type") {
                    Some(v) => parse_type(v.str(self)?).map_err(|m| self.err(&v.span, &v.field, m))?,
                    None => RrType::A,
                };
                Program::DnsQuery { server, query, qtype }
            }
            "ping" => {
                let tv = t.req(self, "target", "the address to ping, like \"198.51.100.20\"")?;
                let s = tv.str(self)?;
                let target: IpAddr = s.trim().parse().map_err(|_| {
                    let msg = if s.parse::<SocketAddr>().is_ok() {
                        format!("{s:?} has a port: ping's target is an address alone (ICMP has no ports)")
                    } else {
                        format!("{s:?} is not an IP address (like 198.51.100.20 or 2001:db8::20)")
                    };
                    self.err(&tv.span, &tv.field, msg)
                })?;
                let count = match t.get("count") {
                    Some(v) => v.int_in(self, 1, 1_000_000, "count")?,
                    None => 4,
                };
                let interval = match t.get("interval") {
                    Some(v) => v.duration(self)?,
                    None => Duration::from_secs(1),
                };
                let max_size = if target.is_ipv4() { 65_507 } else { 65_487 };
                let size = match t.get("size") {
                    Some(v) => v.int_in(self, 0, max_size, "size")?,
                    None => 56,
                };
                let ttl = match t.get("ttl") {
                    Some(v) => v.int_in(self, 1, 255, "ttl")?,
                    None => 64,
                };
                Program::Ping { target, count, interval, size, ttl }
            }
            "tcp-sender" | "udp-sender" => {
                let tv = t.req(self, "to", "the receiver's address and port, like \"192.0.2.10:9000\"")?;
                let to = tv.endpoint(self, None)?;
                self.warn_unknown_target(&tv, to.ip(), addrs);
                let payload = match (t.get("messages"), t.get("bytes")) {
                    (Some(m), None) => {
                        let items = m.array(self)?;
                        if items.is_empty() {
                            return Err(self.err(&m.span, &m.field, "is empty: give at least one message"));
                        }
                        let msgs: Res<Vec<String>> = items.iter().map(|v| v.str(self).map(str::to_string)).collect();
                        Payload::Messages(msgs?)
                    }
                    (None, Some(b)) => Payload::Bytes(b.int_in(self, 1, 1 << 40, "bytes")?),
                    (Some(_), Some(b)) => {
                        return Err(self.err(&b.span, &b.field, "give messages or bytes, not both"));
                    }
                    (None, None) => {
                        return Err(self.err_hint(
                            &t.span,
                            &t.path,
                            format!("{program} needs what to send"),
                            Some("add messages = [\"one\", \"two\"] or bytes = 1048576".into()),
                        ));
                    }
                };
                let interval = match t.get("interval") {
                    Some(v) => v.duration(self)?,
                    None => DEFAULT_SEND_INTERVAL,
                };
                if program == "tcp-sender" {
                    Program::TcpSender { to, payload, interval }
                } else {
                    Program::UdpSender { to, payload, interval }
                }
            }
            _ => Program::Script,
        })
    }

    fn chat_client(
        &mut self,
        t: &Tbl<'a>,
        start: Duration,
        host: &str,
        addrs: &HashMap<IpAddr, Owner>,
    ) -> Res<Program> {
        let sv = t.req(self, "server", "the chat server's address, like \"192.0.2.10:3000\"")?;
        let server = sv.endpoint(self, Some(3000))?;
        self.warn_unknown_target(&sv, server.ip(), addrs);
        let nick = match t.get("nick") {
            Some(v) => {
                let n = v.str(self)?;
                chat_check(&format!("JOIN {n}"))
                    .map_err(|m| self.err(&v.span, &v.field, format!("{n:?} is not a nick: {m}")))?;
                n.to_string()
            }
            None => host.to_string(),
        };
        let mut says = Vec::new();
        if let Some(v) = t.get("say") {
            for (i, mut st) in v.tables(self)?.into_iter().enumerate() {
                st.path = format!("{}.say[{i}]", t.path);
                st.only(self, &["at", "text"], "a say's")?;
                let at_v = st.req(self, "at", "when, like \"1s\"")?;
                let at = at_v.duration(self)?;
                if at < start {
                    return Err(self.err(
                        &at_v.span,
                        &at_v.field,
                        format!(
                            "{} is before the process starts ({})",
                            units::format_duration(at),
                            units::format_duration(start)
                        ),
                    ));
                }
                let tv = st.req(self, "text", "what to say")?;
                let text = tv.str(self)?;
                chat_check(&format!("MSG {text}"))
                    .map_err(|m| self.err(&tv.span, &tv.field, format!("cannot be said in the chat room: {m}")))?;
                says.push((Say { at, text: text.to_string() }, at_v.span.clone()));
            }
        }
        says.sort_by_key(|(s, _)| s.at);
        let leave_at = match t.get("leave_at") {
            Some(v) => {
                let at = v.duration(self)?;
                if at < start {
                    return Err(self.err(
                        &v.span,
                        &v.field,
                        format!(
                            "{} is before the process starts ({})",
                            units::format_duration(at),
                            units::format_duration(start)
                        ),
                    ));
                }
                if let Some((last, span)) = says.last().filter(|(s, _)| s.at > at) {
                    return Err(self.err(
                        &v.span,
                        &v.field,
                        format!(
                            "{} is before the say at {} (line {})",
                            units::format_duration(at),
                            units::format_duration(last.at),
                            self.line(span)
                        ),
                    ));
                }
                Some(at)
            }
            None => None,
        };
        Ok(Program::ChatClient { server, nick, says: says.into_iter().map(|(s, _)| s).collect(), leave_at })
    }

    fn http_server(&mut self, t: &Tbl<'a>) -> Res<Program> {
        let port = self.server_port(t, 80)?;
        let mut files = BTreeMap::new();
        match t.get("files") {
            Some(v) => {
                let ft = v.table(self, v.field.clone())?;
                let mut entries: Vec<_> = ft.t.iter().collect();
                entries.sort_by_key(|(k, _)| k.span().start);
                for (k, val) in entries {
                    let path = k.get_ref().as_ref();
                    let field = format!("{}[{path:?}]", ft.path);
                    if !path.starts_with('/') || path.contains(char::is_whitespace) {
                        let msg = format!("{path:?} is not a URL path: it starts with \"/\" and has no spaces");
                        return Err(self.err_hint(&k.span(), &field, msg, Some("like \"/index.html\"".into())));
                    }
                    let fv = Val { v: val.get_ref(), span: val.span(), field: field.clone() };
                    let body = match fv.v {
                        DeValue::String(s) => s.as_bytes().to_vec(),
                        DeValue::Table(_) => {
                            let ref_t = fv.table(self, field.clone())?;
                            ref_t.only(self, &["file"], "a served file's")?;
                            let pv = ref_t.req(self, "file", "a path relative to the scenario file")?;
                            let rel = pv.str(self)?;
                            let full = self.base.join(rel);
                            std::fs::read(&full).map_err(|e| {
                                self.err(&pv.span, &pv.field, format!("cannot read {}: {e}", full.display()))
                            })?
                        }
                        _ => return Err(fv.type_error(self, "the file's content (a string) or { file = \"path\" }")),
                    };
                    files.insert(path.to_string(), body);
                }
            }
            None => self.warn(&t.span, &t.path, "serves no files: every request gets 404 Not Found"),
        }
        Ok(Program::HttpServer { port, files })
    }

    fn dns_server(&mut self, t: &Tbl<'a>) -> Res<Program> {
        let port = self.server_port(t, 53)?;
        let mut records = Vec::new();
        match t.get("record") {
            Some(v) => {
                for (i, mut rt) in v.tables(self)?.into_iter().enumerate() {
                    rt.path = format!("{}.record[{i}]", t.path);
                    rt.only(self, &["name", "type", "value", "ttl"], "a record's")?;
                    let nv = rt.req(self, "name", "the owner name, like \"www.example.com\"")?;
                    let name = dns_name(nv.str(self)?).map_err(|m| self.err(&nv.span, &nv.field, m))?;
                    let tv = rt.req(self, "type", "A, AAAA or CNAME")?;
                    let ty = tv.str(self)?;
                    let vv = rt.req(self, "value", "the record's data")?;
                    let value = vv.str(self)?;
                    let data = match ty.to_ascii_uppercase().as_str() {
                        "A" => RecordData::A(value.parse().map_err(|_| {
                            self.err(
                                &vv.span,
                                &vv.field,
                                format!("{value:?} is not an IPv4 address, which an A record holds (RFC 1035 §3.4.1)"),
                            )
                        })?),
                        "AAAA" => RecordData::Aaaa(value.parse().map_err(|_| {
                            self.err(
                                &vv.span,
                                &vv.field,
                                format!("{value:?} is not an IPv6 address, which AAAA holds (RFC 3596 §2.2)"),
                            )
                        })?),
                        "CNAME" => RecordData::Cname(dns_name(value).map_err(|m| self.err(&vv.span, &vv.field, m))?),
                        _ => {
                            return Err(self.err(
                                &tv.span,
                                &tv.field,
                                format!("{ty:?}: a dns-server serves A, AAAA and CNAME records"),
                            ))
                        }
                    };
                    let ttl = match rt.get("ttl") {
                        Some(v) => v.int_in(self, 0, i128::from(i32::MAX), "ttl")?,
                        None => DEFAULT_DNS_TTL,
                    };
                    records.push(DnsRecord { name, data, ttl });
                }
            }
            None => self.warn(&t.span, &t.path, "holds no records: every query gets NXDOMAIN"),
        }
        Ok(Program::DnsServer { port, records })
    }

    /// A `[[script]]` line.
    fn script_step(&mut self, t: &mut Tbl<'a>, devices: &[Device], processes: &[Process]) -> Res<ScriptStep> {
        let pv = t.req(self, "process", "the script process, as \"host/name\"")?;
        let pname = pv.str(self)?;
        let scripts: Vec<String> = processes
            .iter()
            .filter(|p| p.program == Program::Script)
            .map(|p| format!("{}/{}", devices.get(p.host.0).map(|d| d.name.as_str()).unwrap_or("?"), p.name))
            .collect();
        let matching: Vec<usize> = processes
            .iter()
            .enumerate()
            .filter(|(_, p)| devices.get(p.host.0).is_some_and(|d| format!("{}/{}", d.name, p.name) == pname))
            .map(|(i, _)| i)
            .collect();
        let id = match matching.as_slice() {
            [] => {
                let known = if scripts.is_empty() {
                    "none: add a [[process]] with program = \"script\"".to_string()
                } else {
                    list(&scripts)
                };
                return Err(self.err_hint(
                    &pv.span,
                    &pv.field,
                    format!("no process {pname:?} (script processes: {known})"),
                    did_you_mean(pname, scripts.iter().map(String::as_str)),
                ));
            }
            [one] => *one,
            [_, ..] => {
                return Err(self.err(
                    &pv.span,
                    &pv.field,
                    format!("{} processes are called {pname:?}: give them different names", matching.len()),
                ))
            }
        };
        let p = &processes[id];
        if p.program != Program::Script {
            return Err(self.err(
                &pv.span,
                &pv.field,
                format!("{pname} runs {}, not script: only script processes follow [[script]] lines", p.program.name()),
            ));
        }
        let cv = t.req(self, "call", &format!("one of {}", list(CALLS)))?;
        let call = cv.str(self)?;
        if !CALLS.contains(&call) {
            return Err(self.err_hint(
                &cv.span,
                &cv.field,
                format!("unknown call {call:?} (calls: {})", list(CALLS)),
                did_you_mean(call, CALLS.iter().copied()),
            ));
        }
        t.path = format!("script[{}] ({pname} {call})", t.path.trim_start_matches("script[").trim_end_matches(']'));
        let own = call_keys(call);
        let allowed: Vec<&str> = SCRIPT_KEYS.iter().chain(own).copied().collect();
        t.only(self, &allowed, &format!("{call}'s: {}; every line's", list(own)))?;
        let av = t.req(self, "at", "when, like \"1s\"")?;
        let at = av.duration(self)?;
        if at < p.start {
            return Err(self.err(
                &av.span,
                &av.field,
                format!(
                    "{} is before {pname} starts ({})",
                    units::format_duration(at),
                    units::format_duration(p.start)
                ),
            ));
        }
        let fd = match t.get("fd") {
            Some(v) => {
                let fd: u32 = v.int_in(self, 0, i128::from(u32::MAX), "fd")?;
                if fd < 3 {
                    let std = ["stdin", "stdout", "stderr"][fd as usize];
                    return Err(self.err(
                        &v.span,
                        &v.field,
                        format!("fd {fd} is {std}: sockets get descriptors from 3 up"),
                    ));
                }
                Some(fd)
            }
            None => None,
        };
        let text = |ld: &Loader| -> Res<Vec<u8>> {
            Ok(t.req(ld, "text", "the bytes to send, as text")?.str(ld)?.as_bytes().to_vec())
        };
        let to = |ld: &Loader| -> Res<SocketAddr> {
            t.req(ld, "to", "the peer, like \"192.0.2.10:3000\"")?.endpoint(ld, None)
        };
        let max = |ld: &Loader| -> Res<usize> {
            match t.get("max") {
                Some(v) => v.int_in(ld, 1, 1 << 24, "max"),
                None => Ok(DEFAULT_RECV_MAX),
            }
        };
        let call = match call {
            "socket" => {
                let tv = t.req(self, "type", "tcp or udp")?;
                let kind = match tv.str(self)? {
                    "tcp" => SocketType::Tcp,
                    "udp" => SocketType::Udp,
                    other => {
                        return Err(self.err(
                            &tv.span,
                            &tv.field,
                            format!("{other:?} is not a socket type (tcp or udp)"),
                        ))
                    }
                };
                let family = match t.get("family") {
                    Some(v) => match v.str(self)? {
                        "ipv4" => Family::Ipv4,
                        "ipv6" => Family::Ipv6,
                        other => {
                            return Err(self.err(
                                &v.span,
                                &v.field,
                                format!("{other:?} is not a family (ipv4 or ipv6)"),
                            ))
                        }
                    },
                    None => Family::Ipv4,
                };
                Call::Socket { kind, family }
            }
            "bind" => {
                let v = t.req(self, "addr", "the local address and port, like \"0.0.0.0:3000\"")?;
                let addr = units::parse_bind_addr(v.str(self)?).map_err(|m| self.err(&v.span, &v.field, m))?;
                Call::Bind { fd, addr }
            }
            "listen" => {
                let backlog = match t.get("backlog") {
                    Some(v) => v.int_in(self, 0, 65535, "backlog")?,
                    None => DEFAULT_BACKLOG,
                };
                Call::Listen { fd, backlog }
            }
            "accept" => Call::Accept { fd },
            "connect" => Call::Connect { fd, to: to(self)? },
            "send" => Call::Send { fd, data: text(self)? },
            "sendto" => Call::SendTo { fd, data: text(self)?, to: to(self)? },
            "recv" => Call::Recv { fd, max: max(self)? },
            "recvfrom" => Call::RecvFrom { fd, max: max(self)? },
            _ => Call::Close { fd },
        };
        Ok(ScriptStep { at, process: ProcessId(id), call, line: self.line(&t.span) })
    }

    /// Warnings about things scheduled after the end of the run.
    fn late_warnings(&mut self, until: Duration, devices: &[Device], processes: &[Process], script: &[ScriptStep]) {
        let end = units::format_duration(until);
        let mut late = Vec::new();
        for p in processes {
            let host = devices.get(p.host.0).map(|d| d.name.as_str()).unwrap_or("?");
            let field = format!("process \"{host}/{}\"", p.name);
            if p.start > until {
                late.push((
                    p.line,
                    field.clone(),
                    format!("starts at {}, after the run ends ({end})", units::format_duration(p.start)),
                ));
            }
            if let Program::ChatClient { says, .. } = &p.program {
                if let Some(s) = says.iter().find(|s| s.at > until) {
                    late.push((
                        p.line,
                        field,
                        format!("says {:?} at {}, after the run ends ({end})", s.text, units::format_duration(s.at)),
                    ));
                }
            }
        }
        if let Some(s) = script.iter().find(|s| s.at > until) {
            late.push((
                s.line,
                "script".to_string(),
                format!("a {} at {} comes after the run ends ({end})", s.call.name(), units::format_duration(s.at)),
            ));
        }
        for (line, field, message) in late {
            let span = self.line_span(line);
            self.warn(&span, &field, format!("{message}; give a longer until"));
        }
    }
}

/// `02:00:DD:DD:DD:II`: locally administered (the U/L bit, IEEE 802-2014 §8.3), unicast, from the
/// device's position (24 bits, from 1) and the interface's (from 1), so every derived MAC differs.
fn derived_mac(dev_index: usize, if_index: usize) -> MacAddr {
    let d = (dev_index as u32).wrapping_add(1).to_be_bytes();
    let i = (if_index as u8).wrapping_add(1);
    MacAddr([0x02, 0x00, d[1], d[2], d[3], i])
}

/// An MTU's range: at least 68 for IPv4 (RFC 791 §3.2), 1280 with IPv6 (RFC 8200 §5), at most
/// 1500 (an Ethernet II payload, IEEE 802.3 §3.2.7).
fn check_mtu(m: u16, ipv6: bool) -> Result<(), String> {
    if m < MIN_MTU_IPV4 {
        Err(format!("mtu {m} is below IPv4's minimum of {MIN_MTU_IPV4} (RFC 791)"))
    } else if ipv6 && m < MIN_MTU_IPV6 {
        Err(format!("mtu {m} is below IPv6's minimum of {MIN_MTU_IPV6} (RFC 8200 §5), and IPv6 is in use here"))
    } else if m > MAX_MTU {
        Err(format!("mtu {m} is above {MAX_MTU}, the most an Ethernet II frame carries"))
    } else {
        Ok(())
    }
}

/// A chat line checked against the chat protocol's grammar; the error without its layer prefix.
fn chat_check(line: &str) -> Result<(), String> {
    ChatLine::parse(line).map(|_| ()).map_err(|mut e| {
        e.layer = None;
        e.offset = None;
        e.to_string()
    })
}

/// A DNS name (RFC 1035 §5.1 presentation form; the final dot is optional here), returned without
/// the final dot.
fn dns_name(s: &str) -> Result<String, String> {
    let trimmed = s.trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(format!("{s:?} is not a DNS name (like www.example.com)"));
    }
    Name::parse_text(&format!("{trimmed}.")).map_err(|m| format!("{s:?} is not a DNS name: {m}"))?;
    Ok(trimmed.to_string())
}

/// `http://HOST[:PORT][/PATH]` (RFC 9110 §4.2.1); HOST an IP literal (`[v6]`) or a name.
fn parse_url(s: &str) -> Result<HttpUrl, String> {
    let bad = |why: &str| format!("{s:?} is not an http URL ({why}; like \"http://192.0.2.10/index.html\")");
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(format!("{s:?}: https needs TLS, which http-get does not speak; use http://"));
    }
    if !lower.starts_with("http://") {
        return Err(bad("it starts with http://"));
    }
    let rest = &s["http://".len()..];
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if path.contains(char::is_whitespace) {
        return Err(bad("spaces in a path are written %20"));
    }
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(|| bad("an IPv6 literal ends with ]"))?;
        let ip: Ipv6Addr = h.parse().map_err(|_| bad("not an IPv6 literal in []"))?;
        (UrlHost::Ip(IpAddr::V6(ip)), after.strip_prefix(':'))
    } else {
        let (h, p) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if h.is_empty() {
            return Err(bad("no host"));
        }
        let host = match h.parse::<Ipv4Addr>() {
            Ok(ip) => UrlHost::Ip(IpAddr::V4(ip)),
            Err(_) if h.bytes().all(|b| b.is_ascii_digit() || b == b'.') => return Err(bad("not an IPv4 address")),
            Err(_) => UrlHost::Name(dns_name(h)?),
        };
        (host, p)
    };
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(bad("a port is 1 to 65535")),
        },
    };
    Ok(HttpUrl { host, port, path: path.to_string() })
}
