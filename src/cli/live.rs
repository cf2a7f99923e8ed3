//! `osilab live`: `send` (inject what `osilab send` builds), `capture` (dissect what the
//! interface carries), and osilab's own host talking to real peers: `ping`, `http-get`, `dns`,
//! `chat-server`. Output goes out as it happens; the result is the exit code.

use super::args::{
    LiveArgs, LiveCaptureArgs, LiveChatServerArgs, LiveCommand, LiveDnsArgs, LiveHost, LiveHttpGetArgs, LiveIface,
    LivePingArgs, LiveSendArgs,
};
use super::config_err;
use crate::addr::MacAddr;
use crate::apps::chat::ChatServer;
use crate::apps::dns::DnsQuery;
use crate::apps::http::HttpGet;
use crate::apps::ping::Ping;
use crate::apps::Listen;
use crate::capture::{Frame, FrameKind, LinkType};
use crate::dissect::output::{Format, Writer};
use crate::dissect::Dissector;
use crate::error::{Error, Result};
use crate::host::{Host, Pid, Prefix};
use crate::layer::{Context, Layer, Meta, Pdu};
use crate::layers::l2_data_link::arp::{ArpOp, ArpPacket, ETHERTYPE_ARP};
use crate::layers::l2_data_link::{DataLink, DataLinkConfig, FrameHeader};
use crate::layers::l7_application::dns::name::Name;
use crate::layers::l7_application::dns::RrType;
use crate::live::link::{self, Link, LinkOptions};
use crate::live::session::{clock_seed, AppOutput, Ended, HostOptions, Session};
use crate::pcap::PcapSink;
use crate::render::{render, Format as SendFormat};
use crate::stack::{Endpoint, Exchange, StackConfig};
use crate::time::Instant;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Run an `osilab live` command; the exit code.
pub fn live(a: &LiveArgs) -> Result<i32> {
    match &a.command {
        LiveCommand::Send(s) => send(s),
        LiveCommand::Capture(c) => capture(c),
        LiveCommand::Ping(p) => ping(p),
        LiveCommand::HttpGet(h) => http_get(h),
        LiveCommand::Dns(d) => dns(d),
        LiveCommand::ChatServer(c) => chat_server(c),
    }
}

// ---- option parsing ----------------------------------------------------------------------------

/// Seconds: `2`, `0.5`, or with a unit (`250ms`).
fn seconds(s: &str, option: &str) -> Result<Duration> {
    let t = s.trim();
    let d = match t.parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=86_400.0).contains(&x) => Duration::from_secs_f64(x),
        Ok(_) => return Err(config_err(format!("{option} {s:?}: expected 0 to 86400 seconds"))),
        Err(_) => {
            crate::sim::scenario::units::parse_duration(t).map_err(|e| config_err(format!("{option} {s:?}: {e}")))?
        }
    };
    Ok(d)
}

fn number<T: std::str::FromStr>(s: &str, option: &str) -> Result<T> {
    s.trim().parse().map_err(|_| config_err(format!("{option} {s:?}: expected a number")))
}

fn ip(s: &str, option: &str) -> Result<IpAddr> {
    s.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| config_err(format!("{option} {s:?}: expected an IP address like 192.0.2.2 or 2001:db8::2")))
}

/// `192.0.2.1/24`, `2001:db8::1/64`.
fn cidr(s: &str) -> Result<Prefix> {
    let Some((a, len)) = s.trim().split_once('/') else {
        return Err(config_err(format!("--ip {s:?}: give the subnet too, like 192.0.2.1/24 or 2001:db8::1/64")));
    };
    let addr = ip(a, "--ip")?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len.parse() {
        Ok(n) if n <= max => n,
        _ => return Err(config_err(format!("--ip {s:?}: the prefix length is 0 to {max}"))),
    };
    if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() {
        return Err(config_err(format!(
            "--ip {s:?}: a host's address is unicast (not unspecified, loopback or multicast)"
        )));
    }
    Ok(Prefix::new(addr, len))
}

fn mac(s: &str, option: &str) -> Result<MacAddr> {
    s.parse().map_err(|e| config_err(format!("{option}: {e}")))
}

fn host_options(h: &LiveHost) -> Result<HostOptions> {
    let (mut ipv4, mut ipv6) = (None, None);
    for s in &h.ip {
        let p = cidr(s)?;
        let slot = if p.addr.is_ipv4() { &mut ipv4 } else { &mut ipv6 };
        if slot.replace(p).is_some() {
            return Err(config_err(format!("--ip {s:?}: one address of each family at most")));
        }
    }
    let mut gateways = Vec::new();
    for g in &h.gateway {
        let gw = ip(g, "--gateway")?;
        let on_link = [ipv4, ipv6].into_iter().flatten().any(|p| p.contains(gw));
        if !on_link {
            return Err(config_err(format!("--gateway {gw}: not on the subnet of any --ip")));
        }
        if gateways.iter().any(|x: &IpAddr| x.is_ipv4() == gw.is_ipv4()) {
            return Err(config_err(format!("--gateway {gw}: one default gateway per family")));
        }
        gateways.push(gw);
    }
    Ok(HostOptions {
        iface: h.link.iface.clone(),
        ipv4,
        ipv6,
        mac: h.mac.as_deref().map(|m| mac(m, "--mac")).transpose()?,
        gateways,
        promiscuous: h.link.promiscuous,
        seed: h.seed.as_deref().map(|s| number(s, "--seed")).transpose()?.unwrap_or_else(clock_seed),
        ttl: 64,
    })
}

/// The host must have an address of `target`'s family.
fn check_family(o: &HostOptions, target: IpAddr, what: &str) -> Result<()> {
    let has = if target.is_ipv4() { o.ipv4.is_some() } else { o.ipv6.is_some() };
    if has {
        Ok(())
    } else {
        Err(config_err(format!(
            "{what} {target} is {}: give osilab an address of that family with --ip",
            if target.is_ipv4() { "IPv4" } else { "IPv6" }
        )))
    }
}

/// Process `pid`'s program, as the type it is.
fn program<T: 'static>(h: &Host, pid: Pid) -> Option<&T> {
    h.program(pid)?.as_any().downcast_ref::<T>()
}

/// Whether the host still has a TCP connection that is not done (TIME-WAIT is done: the close
/// completed).
fn closing(h: &Host) -> bool {
    h.port_table().iter().any(|e| e.netid == "tcp" && !matches!(e.state.as_str(), "LISTEN" | "TIME-WAIT" | "UNCONN"))
}

// ---- ping ------------------------------------------------------------------------------------

fn ping(a: &LivePingArgs) -> Result<i32> {
    let o = host_options(&a.host)?;
    let target = ip(&a.target, "TARGET")?;
    check_family(&o, target, "the target")?;
    let count: u16 = match number::<u16>(&a.count, "--count")? {
        0 => return Err(config_err("--count: at least 1")),
        n => n,
    };
    let interval = seconds(&a.interval, "--interval")?.max(Duration::from_millis(1));
    let size: usize = number(&a.size, "--size")?;
    if size > 65_000 {
        return Err(config_err("--size: at most 65000 data bytes"));
    }
    let ttl = a.ttl.as_deref().map(|t| number::<u8>(t, "--ttl")).transpose()?;
    let limit = match &a.timeout {
        Some(t) => seconds(t, "--timeout")?,
        // Each request, then ping's own linger (1 s, then up to 10 s for late replies).
        None => interval * u32::from(count) + Duration::from_secs(12),
    };
    let mut s = Session::open(&o, a.host.trace, AppOutput::Stdout)?;
    let pid = s.spawn("ping", Box::new(Ping::new(target, count, interval, size, ttl)))?;
    let ended = s.run_until(limit, |h| !h.is_running(pid))?;
    s.end();
    let replies = program::<Ping>(s.host(), pid).map_or(0, Ping::replies);
    if ended != Ended::Done {
        // Stopped before ping's own end (Ctrl-C, or --timeout): the statistics, as ping prints them then.
        println!("--- {target} ping statistics ---");
        match ended {
            Ended::Interrupted => println!("interrupted: {replies} replies received"),
            _ => println!("gave up after {:.1} s: {replies} replies received", limit.as_secs_f64()),
        }
    }
    Ok(if replies > 0 { 0 } else { 1 })
}

// ---- http-get --------------------------------------------------------------------------------

/// The host of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum UrlHost {
    /// An address literal.
    Ip(IpAddr),
    /// A name, to be resolved (absolute: it ends with a dot).
    Name(String),
}

/// A parsed `http://HOST[:PORT]/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    host: UrlHost,
    port: u16,
    /// The authority as written, for the Host header field (RFC 9110 §7.2).
    authority: String,
    path: String,
}

/// `http://HOST[:PORT]/PATH`, HOST an address (IPv6 in brackets) or a name (RFC 3986 §3.2).
fn parse_url(url: &str) -> Result<Url> {
    let bad = |why: &str| config_err(format!("URL {url:?}: {why}"));
    let rest = url.strip_prefix("http://").ok_or_else(|| bad("only http:// URLs (no TLS)"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(|| bad("an IPv6 address ends with ]"))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let host = match host.parse::<IpAddr>() {
        Ok(a) => UrlHost::Ip(a),
        Err(_) if !host.is_empty() && !authority.starts_with('[') => {
            let absolute = if host.ends_with('.') { host.to_string() } else { format!("{host}.") };
            Name::parse_text(&absolute).map_err(|e| bad(&format!("the host is neither an address nor a name: {e}")))?;
            UrlHost::Name(absolute)
        }
        Err(_) => return Err(bad("the host is neither an address nor a name")),
    };
    let port: u16 = match port {
        None => 80,
        Some(p) => p.parse().map_err(|_| bad("the port is a number from 1 to 65535"))?,
    };
    if port == 0 {
        return Err(bad("the port is a number from 1 to 65535"));
    }
    Ok(Url { host, port, authority: authority.to_string(), path: path.to_string() })
}

fn http_get(a: &LiveHttpGetArgs) -> Result<i32> {
    let o = host_options(&a.host)?;
    let url = parse_url(&a.url)?;
    let limit = seconds(&a.timeout, "--timeout")?;
    let get = match &url.host {
        UrlHost::Ip(ip) => {
            check_family(&o, *ip, "the server")?;
            HttpGet::new(SocketAddr::new(*ip, url.port), &url.authority, &url.path)
        }
        UrlHost::Name(name) => {
            // As curl asks the system's resolver: a DNS lookup first (A when osilab has IPv4,
            // else AAAA), then the connection to the first address.
            let Some(dns) = &a.dns_server else {
                return Err(config_err(format!(
                    "URL {:?}: to resolve the name {name}, give a DNS server with --dns-server IP",
                    a.url
                )));
            };
            let resolver = SocketAddr::new(ip(dns, "--dns-server")?, 53);
            check_family(&o, resolver.ip(), "the DNS server")?;
            let qtype = if o.ipv4.is_some() { RrType::A } else { RrType::Aaaa };
            let name = Name::parse_text(name).map_err(|e| config_err(format!("URL {:?}: {e}", a.url)))?;
            let id = crate::rng::Rng::new(o.seed ^ 0xd15).next_u32() as u16;
            HttpGet::by_name(resolver, name, qtype, id, url.port, &url.path)
        }
    };
    let mut s = Session::open(&o, a.host.trace, AppOutput::TraceOnly)?;
    let pid = s.spawn("http-get", Box::new(get))?;
    let client = |h: &Host| program::<HttpGet>(h, pid).map(|g| (g.response.is_some(), g.error.is_some()));
    let ended = s.run_until(limit, |h| client(h).is_some_and(|(r, e)| r || e) || !h.is_running(pid))?;
    // The client closed after the response: let the FIN exchange finish (bounded).
    s.run_until(Duration::from_secs(3), |h| !closing(h))?;
    s.end();
    let (response, error) =
        program::<HttpGet>(s.host(), pid).map_or((None, None), |g| (g.response.clone(), g.error.clone()));
    match (response, error) {
        (Some((_code, body)), _) => {
            match &a.output {
                Some(p) => {
                    std::fs::write(p, &body).map_err(|e| Error::io(format!("cannot write {}: {e}", p.display())))?
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(&body);
                    let _ = out.flush();
                }
            }
            Ok(0)
        }
        (None, Some(e)) => Err(Error::io(format!("http-get {}: {e}", a.url))),
        (None, None) => {
            let why = match ended {
                Ended::TimedOut => format!("no response within {limit:?}"),
                Ended::Interrupted => "interrupted before the response".into(),
                Ended::Done => "no response".into(),
            };
            Err(Error::io(format!("http-get {}: {why}", a.url)))
        }
    }
}

// ---- dns -------------------------------------------------------------------------------------

fn dns(a: &LiveDnsArgs) -> Result<i32> {
    let o = host_options(&a.host)?;
    let server = SocketAddr::new(ip(&a.server, "--server")?, number(&a.port, "--port")?);
    check_family(&o, server.ip(), "the server")?;
    // As dig: a name without its final dot is taken from the root.
    let absolute = if a.query.ends_with('.') { a.query.clone() } else { format!("{}.", a.query) };
    let name = Name::parse_text(&absolute).map_err(|e| config_err(format!("QUERY {:?}: {e}", a.query)))?;
    let qtype: RrType = a.rrtype.parse().map_err(|e: String| config_err(format!("--type: {e}")))?;
    let limit = seconds(&a.timeout, "--timeout")?;
    let id = crate::rng::Rng::new(o.seed ^ 0xd15).next_u32() as u16;
    let mut s = Session::open(&o, a.host.trace, AppOutput::Stdout)?;
    let pid = s.spawn("dns", Box::new(DnsQuery::new(server, name, qtype, id)))?;
    let answered = |h: &Host| program::<DnsQuery>(h, pid).is_some_and(|q| q.answer.is_some());
    s.run_until(limit, |h| answered(h) || !h.is_running(pid))?;
    s.end();
    if answered(s.host()) {
        return Ok(0);
    }
    // The resolver says so itself after its last try; stopped before that, say it for it.
    if s.host().port_table().iter().any(|e| e.netid == "udp") {
        println!(";; connection timed out; no servers could be reached");
    }
    Ok(1)
}

// ---- chat-server -----------------------------------------------------------------------------

fn chat_server(a: &LiveChatServerArgs) -> Result<i32> {
    let o = host_options(&a.host)?;
    let port: u16 = number(&a.port, "--port")?;
    let duration = seconds(&a.duration, "--duration")?;
    let mut s = Session::open(&o, a.host.trace, AppOutput::Stdout)?;
    let pid = s.spawn("chat-server", Box::new(ChatServer::new(port, Listen::Dual, 128)))?;
    s.run_until(duration, |h| !h.is_running(pid))?;
    s.end();
    if let Some(p) = s.host().program(pid) {
        for line in p.report() {
            eprintln!("osilab: chat-server: {line}");
        }
    }
    Ok(0)
}

// ---- send ------------------------------------------------------------------------------------

fn send(a: &LiveSendArgs) -> Result<i32> {
    let format: SendFormat = a.send.format.parse().map_err(config_err)?;
    let (mut cfg, message) = super::send::config(&a.send)?;
    // The frames leave from this interface: its MAC is the source unless the user says otherwise.
    if a.send.src_mac.is_none() {
        if let Some(m) = link::interface_mac(&a.link.iface)? {
            cfg.local.mac = m;
        }
    } else {
        link::find_interface(&a.link.iface)?;
    }
    let mut link = if a.dry_run {
        None
    } else {
        Some(Link::open(&a.link.iface, &LinkOptions { promiscuous: a.link.promiscuous, outgoing: false })?)
    };
    let x = match (&mut link, a.send.arp) {
        (Some(l), true) => {
            let resolved = resolve(l, &cfg)?;
            cfg.remote = Endpoint { mac: resolved, ..cfg.remote };
            Exchange::run_with(&cfg, &message, false)?
        }
        // A dry run shows the ARP exchange as `osilab send --arp` does (with the simulated peer).
        _ => Exchange::run_with(&cfg, &message, a.send.arp)?,
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(render(&x, format).as_bytes());
    let _ = out.flush();
    if let Some(p) = &a.send.pcap {
        let file = std::fs::File::create(p).map_err(|e| Error::io(format!("cannot create {}: {e}", p.display())))?;
        let mut sink = PcapSink::new(std::io::BufWriter::new(file))?;
        for f in &x.sent.frames {
            sink.write(f.signal.start, f.without_fcs())?;
        }
        sink.into_inner().flush().map_err(|e| Error::io(format!("cannot write {}: {e}", p.display())))?;
    }
    let Some(l) = &mut link else {
        eprintln!("osilab: dry run: {} frame(s) not sent on {}", x.sent.frames.len(), a.link.iface);
        return Ok(0);
    };
    let mut bytes = 0;
    for f in &x.sent.frames {
        l.send(f.without_fcs())?;
        bytes += f.without_fcs().len();
    }
    eprintln!("osilab: sent {} frame(s), {bytes} bytes, on {}", x.sent.frames.len(), a.link.iface);
    // The receiving half of the output is osilab's mirror of the peer, as `osilab send` shows it.
    eprintln!("osilab: (the receiver shown is osilab's model of the peer; a capture shows what the real one did)");
    Ok(0)
}

/// Ask the real network who has the destination (RFC 826): a broadcast request, up to three
/// times a second apart, and the first reply's sender MAC.
fn resolve(l: &mut Link, cfg: &StackConfig) -> Result<MacAddr> {
    let (IpAddr::V4(ours), IpAddr::V4(theirs)) = (cfg.local.ip, cfg.remote.ip) else {
        return Err(config_err("--arp resolves IPv4 addresses; IPv6 uses neighbor discovery (give --dst-mac)"));
    };
    let mut l2 = DataLink::new(DataLinkConfig {
        local: cfg.local.mac,
        remote: MacAddr::BROADCAST,
        vlan: cfg.vlan,
        promiscuous: false,
        capture: false,
    });
    l2.set_fcs_by_nic(true);
    let ask = ArpPacket::request(cfg.local.mac, ours, theirs);
    let meta = Meta { ethertype: Some(ETHERTYPE_ARP), dst_mac: Some(MacAddr::BROADCAST), ..Default::default() };
    let frames =
        l2.encapsulate(Pdu { data: crate::layer::Data::Bytes(ask.emit()), meta }, &mut Context::new(Instant::ZERO))?;
    let start = std::time::Instant::now();
    for _ in 0..3 {
        for f in &frames {
            if let crate::layer::Data::Bytes(b) = &f.data {
                l.send(b)?;
            }
        }
        let until = std::time::Instant::now() + Duration::from_secs(1);
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let Some(f) = l.recv(left)? else { break };
            let bytes = f.captured();
            let Ok(h) = FrameHeader::parse(&bytes, 0) else { continue };
            if h.ethertype != ETHERTYPE_ARP {
                continue;
            }
            let Ok(p) = ArpPacket::parse(bytes.get(h.len()..).unwrap_or_default(), h.len()) else { continue };
            if p.operation == ArpOp::Reply && p.sender_ip == theirs && p.target_ip == ours {
                eprintln!(
                    "osilab: ARP: {theirs} is at {} (answered in {:.3} ms)",
                    p.sender_mac,
                    start.elapsed().as_secs_f64() * 1000.0
                );
                return Ok(p.sender_mac);
            }
        }
    }
    Err(Error::io(format!("live send --arp: no ARP reply from {theirs} on {} after 3 requests", l.name())))
}

// ---- capture ---------------------------------------------------------------------------------

fn capture(a: &LiveCaptureArgs) -> Result<i32> {
    let super::dissect::Plan { format, count, filter, .. } =
        super::dissect::Plan::new(&a.format, &a.fields, a.count.as_deref(), a.filter.as_deref())?;
    let limit = seconds(&a.timeout, "--timeout")?;
    let mut pcap = match &a.pcap {
        Some(p) => {
            let file =
                std::fs::File::create(p).map_err(|e| Error::io(format!("cannot create {}: {e}", p.display())))?;
            Some(PcapSink::new(std::io::BufWriter::new(file))?)
        }
        None => None,
    };
    let mut l = open_capture(&a.link)?;
    eprintln!(
        "osilab: capturing on {} (at most {} s{})",
        l.name(),
        limit.as_secs_f64(),
        count.map_or(String::new(), |n| format!(", {n} frames"))
    );
    let stdout = std::io::stdout().lock();
    let mut out = Writer::new(std::io::BufWriter::new(stdout), format, a.fields.clone());
    let mut dissector = Dissector::new()?;
    dissector.set_detail(format != Format::Fields);
    let deadline = std::time::Instant::now() + limit;
    let mut number = 0u64;
    let broken_pipe = |e: std::io::Error| -> Result<i32> {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(0)
        } else {
            Err(Error::io(format!("writing the output: {e}")))
        }
    };
    crate::live::sys::catch_interrupt();
    loop {
        if count.is_some_and(|n| out.written() >= n) || crate::live::sys::interrupted() {
            break;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let Some(f) = l.recv(left)? else { continue };
        let ts_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        // --as-wire: the offload work done (a frame may become several); a frame it cannot
        // finish is shown as it came.
        let frames = match (a.as_wire, f.offload.pending()) {
            (true, true) => f.wire().unwrap_or_else(|_| vec![f.captured()]),
            _ => vec![f.captured()],
        };
        for bytes in frames {
            number += 1;
            let frame = Frame {
                number,
                ts_ns,
                has_ts: true,
                kind: FrameKind::Packet,
                link: LinkType::Ethernet,
                caplen: bytes.len(),
                orig_len: if a.as_wire { bytes.len() } else { f.wire_len.max(bytes.len()) },
                data: &bytes,
                file_offset: 0,
            };
            let d = dissector.dissect(&frame);
            let shown = !filter.as_ref().is_some_and(|x| !x.matches(&d.records));
            let written = if shown { out.frame(&d) } else { Ok(()) };
            dissector.recycle(d);
            if let Err(e) = written {
                return broken_pipe(e);
            }
            if let (true, Some(p)) = (shown, pcap.as_mut()) {
                p.write(Instant::from_nanos(ts_ns), &bytes)?;
            }
            if count.is_some_and(|n| out.written() >= n) {
                break;
            }
        }
    }
    let end = dissector.finish();
    let shown = out.written();
    match out.finish(&end) {
        Ok(mut w) => {
            if let Err(e) = w.flush() {
                return broken_pipe(e);
            }
        }
        Err(e) => return broken_pipe(e),
    }
    if let Some(p) = pcap {
        p.into_inner().flush().map_err(|e| Error::io(format!("writing the pcap: {e}")))?;
    }
    eprintln!("osilab: {number} frame(s) captured, {shown} shown");
    Ok(0)
}

fn open_capture(i: &LiveIface) -> Result<Link> {
    let l = Link::open(&i.iface, &LinkOptions { promiscuous: i.promiscuous, outgoing: true })?;
    for w in l.warnings() {
        eprintln!("osilab: warning: {w}");
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_an_address_or_a_name_a_port_and_a_path() {
        let u = parse_url("http://192.0.2.2:8000/big.bin?x=1").unwrap();
        assert_eq!((u.host, u.port), (UrlHost::Ip("192.0.2.2".parse().unwrap()), 8000));
        assert_eq!((u.authority.as_str(), u.path.as_str()), ("192.0.2.2:8000", "/big.bin?x=1"));
        let u = parse_url("http://[2001:db8::2]/").unwrap();
        assert_eq!((u.host, u.port), (UrlHost::Ip("2001:db8::2".parse().unwrap()), 80));
        assert_eq!((u.authority.as_str(), u.path.as_str()), ("[2001:db8::2]", "/"));
        assert_eq!(parse_url("http://192.0.2.2").unwrap().path, "/");
        let u = parse_url("http://www.example.test:8080/a").unwrap();
        assert_eq!((u.host, u.port), (UrlHost::Name("www.example.test.".into()), 8080));
        for bad in [
            "https://192.0.2.2/",
            "http://192.0.2.2:0/",
            "http://[2001:db8::2/",
            "http://[www.example.test]/",
            "http://192.0.2.2:x/",
            "http:///path",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_need_their_subnet_and_must_be_unicast() {
        let p = cidr("192.0.2.1/24").unwrap();
        assert_eq!((p.addr, p.len), ("192.0.2.1".parse().unwrap(), 24));
        assert_eq!(cidr("2001:db8::1/64").unwrap().len, 64);
        assert!(cidr("192.0.2.1").unwrap_err().to_string().contains("give the subnet too"));
        for bad in ["192.0.2.1/33", "2001:db8::1/129", "0.0.0.0/0", "224.0.0.1/4", "127.0.0.1/8", "x/24"] {
            assert!(cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_are_numbers_or_durations_within_a_day() {
        assert_eq!(seconds("2", "--timeout").unwrap(), Duration::from_secs(2));
        assert_eq!(seconds("0.25", "--timeout").unwrap(), Duration::from_millis(250));
        assert_eq!(seconds("250ms", "--timeout").unwrap(), Duration::from_millis(250));
        for bad in ["-1", "NaN", "inf", "100000", "soon"] {
            assert!(seconds(bad, "--timeout").is_err(), "{bad}");
        }
    }

    #[test]
    fn gateways_must_be_on_a_subnet_one_per_family() {
        let args = |gw: &[&str]| LiveHost {
            link: LiveIface { iface: "lo".into(), promiscuous: false },
            ip: vec!["192.0.2.1/24".into(), "2001:db8::1/64".into()],
            mac: None,
            gateway: gw.iter().map(|s| s.to_string()).collect(),
            trace: false,
            seed: Some("7".into()),
        };
        let o = host_options(&args(&["192.0.2.254", "2001:db8::fe"])).unwrap();
        assert_eq!(o.gateways.len(), 2);
        assert_eq!(o.seed, 7);
        assert!(host_options(&args(&["198.51.100.1"])).unwrap_err().to_string().contains("not on the subnet"));
        assert!(host_options(&args(&["192.0.2.254", "192.0.2.253"]))
            .unwrap_err()
            .to_string()
            .contains("one default gateway per family"));
        let mut two = args(&[]);
        two.ip.push("192.0.2.9/24".into());
        assert!(host_options(&two).unwrap_err().to_string().contains("one address of each family"));
    }
}
