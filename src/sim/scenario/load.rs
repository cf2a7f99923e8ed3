//! Reading a scenario: TOML text → checked [`Scenario`], or an error naming file, line and field.
//!
//! The TOML is parsed into `toml`'s spanned document tree ([`DeTable`]), which keeps the byte span
//! of every key and value; the loader walks it table by table, so that every message can name the
//! line of the value at fault and its field path (`link[2].b`, `host "alice".ipv4`). Every table
//! refuses keys it does not know (like serde's `deny_unknown_fields`), listing those it does.

use super::reader::{did_you_mean, join, list, Loader, Res, Tbl, Val};
use super::units::{self, Cidr};
use super::*;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};

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
    let ld = Loader::new(text, name, base);
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
/// Where an interface's `mac` was given (span and field), or `None` for a derived MAC.
type MacAt = Option<(Range<usize>, String)>;

/// The ports that have a cable: (device index, port index) → link index.
type Taken = HashMap<(usize, usize), usize>;

/// Where an address is already in use: its owner's label and line.
pub(super) struct Owner {
    label: String,
    line: usize,
}

impl<'a> Loader<'a> {
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
        let mut mac_at: Vec<MacAt> = Vec::new();
        for (kind, mut t) in tables {
            let device = self.device(kind, &mut t, devices.len(), &devices, &mut addrs, &mut mac_at)?;
            devices.push(device);
        }
        self.check_macs(&devices, &mac_at)?;

        let mut links = Vec::new();
        let mut taken = Taken::new();
        if let Some(v) = root.get("link") {
            for (i, mut t) in v.tables(&self)?.into_iter().enumerate() {
                t.path = format!("link[{i}]");
                let link = self.link(&t, &devices, &links, &taken)?;
                taken.insert((link.a.device.0, link.a.port), links.len());
                taken.insert((link.b.device.0, link.b.port), links.len());
                links.push(link);
            }
        }
        self.finish_topology(&mut devices, &taken);

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
        mac_at: &mut Vec<MacAt>,
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
            "router" => DeviceKind::Router(self.node(t, "router", index, addrs, mac_at)?),
            _ => DeviceKind::Host(self.node(t, "host", index, addrs, mac_at)?),
        };
        Ok(Device { name, line, kind })
    }

    /// A host's or router's interfaces and routes.
    fn node(
        &mut self,
        t: &Tbl<'a>,
        kind: &str,
        index: usize,
        addrs: &mut HashMap<IpAddr, Owner>,
        mac_at: &mut Vec<MacAt>,
    ) -> Res<Node> {
        t.only(self, NODE_KEYS, &format!("a {kind}'s"))?;
        let device = t.path.clone();
        let dev_name = t.get("name").and_then(|v| match v.v {
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        });
        let dev_name = dev_name.unwrap_or_default();
        let mut interfaces: Vec<Interface> = Vec::new();
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
                mac_at.push(mac_span);
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
            mac_at.push(mac_span);
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
    /// Returns it with the span and field of an explicit `mac`, if one was given.
    fn interface(
        &mut self,
        t: &Tbl<'a>,
        name: String,
        dev_name: &str,
        dev_index: usize,
        if_index: usize,
        addrs: &mut HashMap<IpAddr, Owner>,
    ) -> Res<(Interface, MacAt)> {
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
                (mac, Some((v.span, v.field)))
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
    fn check_macs(&self, devices: &[Device], mac_at: &[MacAt]) -> Res<()> {
        let mut seen: HashMap<MacAddr, String> = HashMap::new();
        let mut k = 0;
        for d in devices {
            if let Some(n) = d.node() {
                for i in &n.interfaces {
                    let label = format!("{}:{}", d.name, i.name);
                    if let Some(prev) = seen.get(&i.mac) {
                        return Err(match mac_at.get(k).cloned().flatten() {
                            Some((span, field)) => {
                                self.err(&span, &field, format!("{} is already the MAC address of {prev}", i.mac))
                            }
                            None => ScenarioError(Box::new(Diagnostic {
                                file: self.file.to_string(),
                                line: Some(d.line),
                                field: format!("{} {:?}", d.kind_name(), d.name),
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
    fn link(&mut self, t: &Tbl<'a>, devices: &[Device], links: &[Link], taken: &Taken) -> Res<Link> {
        t.only(self, LINK_KEYS, "a link's")?;
        let a = self.link_end(t, "a", devices, links, taken, None)?;
        let b = self.link_end(t, "b", devices, links, taken, Some(&a))?;
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
        taken: &Taken,
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
            taken.get(&(id, port)).and_then(|&i| links.get(i).map(|l| (i, l.line))).or_else(|| {
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
    fn finish_topology(&mut self, devices: &mut [Device], taken: &Taken) {
        let mut ports: HashMap<usize, Vec<usize>> = HashMap::new();
        for &(device, port) in taken.keys() {
            ports.entry(device).or_default().push(port);
        }
        for (id, d) in devices.iter_mut().enumerate() {
            let used = ports.get(&id).map(Vec::as_slice).unwrap_or(&[]);
            let field = format!("{} {:?}", d.kind_name(), d.name);
            let mut idle = Vec::new();
            match &mut d.kind {
                DeviceKind::Switch(sw) => {
                    if sw.ports == 0 {
                        sw.ports = used.iter().map(|p| p + 1).max().unwrap_or(0);
                    }
                    if used.is_empty() {
                        idle.push("no link reaches this switch".to_string());
                    }
                }
                DeviceKind::Host(n) | DeviceKind::Router(n) => {
                    for (i, iface) in n.interfaces.iter().enumerate() {
                        if !used.contains(&i) {
                            idle.push(format!("interface {} is not linked to anything", iface.name));
                        }
                    }
                }
            }
            if !idle.is_empty() {
                let span = self.line_span(d.line);
                for message in idle {
                    self.warn(&span, &field, message);
                }
            }
        }
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
