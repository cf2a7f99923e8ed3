//! Processes and the script: each built-in program's options, and the `[[script]]` socket calls.

use super::load::Owner;
use super::reader::{did_you_mean, list, Loader, Res, Tbl, Val};
use super::units;
use super::*;
use crate::layers::l7_application::chat::ChatLine;
use crate::layers::l7_application::dns::name::Name;
use crate::layers::l7_application::dns::text::parse_type;
use std::collections::HashMap;
use toml::de::DeValue;

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

impl<'a> Loader<'a> {
    /// A `[[process]]`.
    pub(super) fn process(
        &mut self,
        t: &mut Tbl<'a>,
        devices: &[Device],
        addrs: &HashMap<IpAddr, Owner>,
    ) -> Res<Process> {
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
        t.only_listed(self, &allowed, || {
            let every = format!("every process's keys: {}", list(PROCESS_KEYS));
            match own {
                [] => format!("{program} takes no options; {every}"),
                _ => format!("{program}'s options: {}; {every}", list(own)),
            }
        })?;
        let start = match t.get("start") {
            Some(v) => v.duration(self)?,
            None => Duration::ZERO,
        };
        let program = self.program(t, program, start, &devices[host], addrs)?;
        Ok(Process { host: DeviceId(host), name, start, program, line: self.line(&t.span) })
    }

    /// Checks an address a program sends to: the host must have an address of its family (an
    /// error), and some interface should have the address itself (a warning, unless `anyone` is
    /// false: a ping may aim at nobody on purpose).
    fn target(
        &mut self,
        v: &Val<'a>,
        ip: IpAddr,
        from: &Device,
        addrs: &HashMap<IpAddr, Owner>,
        anyone: bool,
    ) -> Res<()> {
        let has_family = from.node().is_some_and(|n| {
            n.interfaces.iter().any(|i| if ip.is_ipv4() { i.ipv4.is_some() } else { i.ipv6.is_some() })
        });
        if !has_family {
            let family = units::family_name(ip);
            return Err(self.err(
                &v.span,
                &v.field,
                format!("{} has no {family} address, so it cannot reach {ip}", from.name),
            ));
        }
        if anyone && !addrs.contains_key(&ip) {
            self.warn(
                &v.span,
                &v.field,
                format!("no interface in this scenario has the address {ip}: nothing will answer"),
            );
        }
        Ok(())
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
        from: &Device,
        addrs: &HashMap<IpAddr, Owner>,
    ) -> Res<Program> {
        Ok(match program {
            "chat-server" => Program::ChatServer { port: self.server_port(t, 3000)? },
            "udp-echo" => Program::UdpEcho { port: self.server_port(t, 7)? },
            "tcp-sink" => Program::TcpSink { port: self.server_port(t, 9)? },
            "udp-sink" => Program::UdpSink { port: self.server_port(t, 9)? },
            "chat-client" => self.chat_client(t, start, from, addrs)?,
            "http-server" => self.http_server(t)?,
            "http-get" => {
                let uv = t.req(self, "url", "what to fetch, like \"http://192.0.2.10/index.html\"")?;
                let url = parse_url(uv.str(self)?).map_err(|m| self.err(&uv.span, &uv.field, m))?;
                let resolver = match t.get("resolver") {
                    Some(v) => {
                        let ip = v.ip(self)?;
                        self.target(&v, ip, from, addrs, true)?;
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
                    UrlHost::Ip(ip) => self.target(&uv, *ip, from, addrs, true)?,
                    UrlHost::Name(_) => {}
                }
                Program::HttpGet { url, resolver }
            }
            "dns-server" => self.dns_server(t)?,
            "dns-query" => {
                let sv = t.req(self, "server", "the DNS server's address, like \"192.0.2.53\"")?;
                let server = sv.endpoint(self, Some(53))?;
                self.target(&sv, server.ip(), from, addrs, true)?;
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
                self.target(&tv, target, from, addrs, false)?;
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
                self.target(&tv, to.ip(), from, addrs, true)?;
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
        from: &Device,
        addrs: &HashMap<IpAddr, Owner>,
    ) -> Res<Program> {
        let sv = t.req(self, "server", "the chat server's address, like \"192.0.2.10:3000\"")?;
        let server = sv.endpoint(self, Some(3000))?;
        self.target(&sv, server.ip(), from, addrs, true)?;
        let nick = match t.get("nick") {
            Some(v) => {
                let n = v.str(self)?;
                chat_check(&format!("JOIN {n}")).map_err(|m| self.err(&v.span, &v.field, m))?;
                n.to_string()
            }
            None => from.name.clone(),
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
                chat_check(&format!("MSG {text}")).map_err(|m| self.err(&tv.span, &tv.field, m))?;
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
    pub(super) fn script_step(
        &mut self,
        t: &mut Tbl<'a>,
        devices: &[Device],
        processes: &[Process],
    ) -> Res<ScriptStep> {
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
        t.only_listed(self, &allowed, || {
            format!("{call}'s options: {}; every line's keys: {}", list(own), list(SCRIPT_KEYS))
        })?;
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
