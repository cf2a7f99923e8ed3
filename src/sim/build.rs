//! From a loaded [`Scenario`] to a [`World`] ready to run: hosts and routers with their
//! interfaces and routes, switches, links, and each process with its program, started at its
//! time.

use super::link::LinkConfig;
use super::scenario::{self, Call, DeviceKind, Family, Payload, Program as Spec, Scenario, SocketType, UrlHost};
use super::switch::SwitchConfig;
use super::world::World;
use crate::apps::bulk::{self, TcpSender, TcpSink, UdpSender, UdpSink};
use crate::apps::chat::{ChatClient, ChatServer};
use crate::apps::dns::{DnsQuery, DnsServer};
use crate::apps::http::{HttpGet, HttpServer};
use crate::apps::ping::Ping;
use crate::apps::script::{Script, ScriptCall};
use crate::apps::Listen;
use crate::error::{Error, Result};
use crate::host::{Host, HostConfig, InterfaceConfig, Prefix, Program, SockType};
use crate::layers::l7_application::dns::message::RData;
use crate::layers::l7_application::dns::name::Name;
use crate::layers::l7_application::dns::RrType;
use crate::rng::Rng;
use crate::time::Instant;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The processes as built: (node, pid-to-be order, name) so results can be read after the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRef {
    /// The host's node index.
    pub node: usize,
    /// The host's name.
    pub host: String,
    /// The process name.
    pub name: String,
}

/// Build the world for `sc` with `seed`.
pub fn build(sc: &Scenario, seed: u64) -> Result<(World, Vec<ProcessRef>)> {
    let mut world = World::new(seed);
    let mut nodes = Vec::new();
    let mut rng = Rng::new(seed ^ 0x5ce0_a210);
    for (i, d) in sc.devices.iter().enumerate() {
        let node = match &d.kind {
            DeviceKind::Host(n) | DeviceKind::Router(n) => {
                let mut routes = Vec::new();
                if let Some(g) = n.gateway {
                    routes.push((Prefix::default_for(IpAddr::V4(g)), IpAddr::V4(g)));
                }
                if let Some(g) = n.gateway6 {
                    routes.push((Prefix::default_for(IpAddr::V6(g)), IpAddr::V6(g)));
                }
                routes.extend(n.routes.iter().map(|r| (Prefix::new(r.to.addr, r.to.prefix), r.via)));
                let host = Host::new(HostConfig {
                    name: d.name.clone(),
                    interfaces: n
                        .interfaces
                        .iter()
                        .map(|x| InterfaceConfig {
                            name: x.name.clone(),
                            mac: x.mac,
                            ipv4: x.ipv4.map(|c| Prefix::new(c.addr, c.prefix)),
                            ipv6: x.ipv6.map(|c| Prefix::new(c.addr, c.prefix)),
                            mtu: usize::from(x.mtu),
                        })
                        .collect(),
                    routes,
                    forwarding: d.is_router(),
                    seed: rng.next_u64() ^ i as u64,
                    ttl: 64,
                })
                .map_err(|e| at_line(&sc.file, d.line, e))?;
                world.add_host(host)
            }
            DeviceKind::Switch(s) => world
                .add_switch(&d.name, s.ports, SwitchConfig { ageing: s.ageing, table_limit: s.table_limit })
                .map_err(|e| at_line(&sc.file, d.line, e))?,
        };
        nodes.push(node);
    }
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for l in &sc.links {
        let a = &sc.devices[l.a.device.0].name;
        let b = &sc.devices[l.b.device.0].name;
        let mut name = format!("{a}-{b}");
        let n = names.entry(name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            name = format!("{name}-{n}");
        }
        let cfg = LinkConfig {
            bandwidth: l.bandwidth,
            delay: l.delay,
            mtu: usize::from(l.mtu),
            queue_limit: l.queue,
            loss: l.loss,
            bit_error_rate: l.ber,
            duplicate: l.duplicate,
            reorder: l.reorder,
            reorder_delay: Duration::from_millis(1).max(l.delay),
            line_code: l.line_code,
        };
        world
            .connect(&name, (nodes[l.a.device.0], l.a.port), (nodes[l.b.device.0], l.b.port), cfg)
            .map_err(|e| at_line(&sc.file, l.line, e))?;
    }
    let mut refs = Vec::new();
    for (k, p) in sc.processes.iter().enumerate() {
        let steps: Vec<(Duration, ScriptCall)> =
            sc.script.iter().filter(|s| s.process.0 == k).map(|s| (s.at, script_call(&s.call))).collect();
        let ipv4 = sc.devices[p.host.0].node().map_or(true, |n| n.interfaces.iter().any(|i| i.ipv4.is_some()));
        let program = program(&p.program, steps, rng.next_u32(), ipv4)?;
        let node = nodes[p.host.0];
        world.spawn_at(node, &p.name, program, Instant::ZERO + p.start);
        refs.push(ProcessRef { node, host: sc.devices[p.host.0].name.clone(), name: p.name.clone() });
    }
    Ok((world, refs))
}

fn at_line(file: &str, line: usize, e: Error) -> Error {
    Error::config(e.layer, format!("{file}:{line}: {e}"))
}

/// The program a process spec runs; `ipv4`: whether its host has an IPv4 address (a name is
/// then looked up as A records, otherwise as AAAA).
fn program(spec: &Spec, steps: Vec<(Duration, ScriptCall)>, draw: u32, ipv4: bool) -> Result<Box<dyn Program>> {
    Ok(match spec {
        Spec::ChatServer { port } => Box::new(ChatServer::new(*port, Listen::Dual, 128)),
        Spec::ChatClient { server, nick, says, leave_at } => {
            Box::new(ChatClient::new(*server, nick, says.iter().map(|s| (s.at, s.text.clone())).collect(), *leave_at))
        }
        Spec::HttpServer { port, files } => Box::new(HttpServer::new(
            *port,
            Listen::Dual,
            files.iter().map(|(k, v)| (k.clone(), (content_type(k).to_string(), v.clone()))).collect(),
        )),
        Spec::HttpGet { url, resolver } => match (&url.host, resolver) {
            (UrlHost::Ip(ip), _) => {
                let host = match ip {
                    IpAddr::V6(a) => format!("[{a}]"),
                    a => a.to_string(),
                };
                let host = if url.port == 80 { host } else { format!("{host}:{}", url.port) };
                Box::new(HttpGet::new(SocketAddr::new(*ip, url.port), &host, &url.path))
            }
            (UrlHost::Name(n), Some(server)) => {
                let name = Name::parse_text(&fqdn(n)).map_err(dns_err)?;
                let qtype = if ipv4 { RrType::A } else { RrType::Aaaa };
                let resolver = SocketAddr::new(*server, 53);
                Box::new(HttpGet::by_name(resolver, name, qtype, (draw >> 16) as u16, url.port, &url.path))
            }
            // The loader requires a resolver for a name (and says so with its line).
            (UrlHost::Name(n), None) => {
                return Err(Error::config(
                    Some(crate::layer::LayerId::Application),
                    format!("http-get of {n}: a host name needs a resolver (the DNS server's address)"),
                ))
            }
        },
        Spec::DnsServer { port, records } => {
            let mut rr = Vec::new();
            for r in records {
                let name = Name::parse_text(&fqdn(&r.name)).map_err(dns_err)?;
                let data = match &r.data {
                    scenario::RecordData::A(a) => RData::A(*a),
                    scenario::RecordData::Aaaa(a) => RData::Aaaa(*a),
                    scenario::RecordData::Cname(c) => RData::Cname(Name::parse_text(&fqdn(c)).map_err(dns_err)?),
                };
                rr.push((name, r.ttl, data));
            }
            Box::new(DnsServer::new(*port, Listen::Dual, rr))
        }
        Spec::DnsQuery { server, query, qtype } => {
            let name = Name::parse_text(&fqdn(query)).map_err(dns_err)?;
            Box::new(DnsQuery::new(*server, name, *qtype, (draw >> 16) as u16))
        }
        Spec::Ping { target, count, interval, size, ttl } => {
            Box::new(Ping::new(*target, u16::try_from(*count).unwrap_or(u16::MAX), *interval, *size, Some(*ttl)))
        }
        Spec::UdpEcho { port } => Box::new(UdpSink::new(*port, Listen::Dual, true)),
        Spec::UdpSink { port } => Box::new(UdpSink::new(*port, Listen::Dual, false)),
        Spec::TcpSink { port } => Box::new(TcpSink::new(*port, Listen::Dual)),
        Spec::TcpSender { to, payload, interval } => {
            let p = match payload {
                Payload::Messages(m) => bulk::Payload::Messages(m.clone()),
                Payload::Bytes(n) => bulk::Payload::Bytes(usize::try_from(*n).unwrap_or(usize::MAX)),
            };
            Box::new(TcpSender::new(*to, p, *interval, Duration::ZERO))
        }
        Spec::UdpSender { to, payload, interval } => {
            let m = match payload {
                Payload::Messages(m) => m.clone(),
                Payload::Bytes(n) => {
                    let n = usize::try_from(*n).unwrap_or(usize::MAX);
                    (0..n.div_ceil(1024))
                        .map(|k| {
                            (k * 1024..(k * 1024 + 1024).min(n))
                                .map(|i| (b'a' + bulk::pattern(i) % 26) as char)
                                .collect()
                        })
                        .collect()
                }
            };
            Box::new(UdpSender::new(*to, m, *interval, Duration::ZERO))
        }
        Spec::Script => Box::new(Script::new(steps)),
    })
}

fn fqdn(s: &str) -> String {
    if s.ends_with('.') {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

fn dns_err(e: String) -> Error {
    Error::config(Some(crate::layer::LayerId::Application), e)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html" | "htm") => "text/html",
        Some("json") => "application/json",
        Some("css") => "text/css",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    }
}

fn script_call(c: &Call) -> ScriptCall {
    match c {
        Call::Socket { kind, family } => ScriptCall::Socket {
            ty: match kind {
                SocketType::Tcp => SockType::Stream,
                SocketType::Udp => SockType::Dgram,
            },
            v6: *family == Family::Ipv6,
        },
        Call::Bind { fd, addr } => ScriptCall::Bind { fd: *fd, addr: *addr },
        Call::Listen { fd, backlog } => ScriptCall::Listen { fd: *fd, backlog: *backlog as usize },
        Call::Accept { fd } => ScriptCall::Accept { fd: *fd },
        Call::Connect { fd, to } => ScriptCall::Connect { fd: *fd, to: *to },
        Call::Send { fd, data } => ScriptCall::Send { fd: *fd, data: data.clone() },
        Call::Recv { fd, .. } => ScriptCall::Recv { fd: *fd },
        Call::SendTo { fd, to, data } => ScriptCall::SendTo { fd: *fd, data: data.clone(), to: *to },
        Call::RecvFrom { fd, .. } => ScriptCall::RecvFrom { fd: *fd },
        Call::Close { fd } => ScriptCall::Close { fd: *fd },
    }
}
