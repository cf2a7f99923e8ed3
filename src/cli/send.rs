//! `osilab send` and `osilab demo`.

use super::args::{DemoArgs, SendArgs};
use super::config_err;
use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layers::l2_data_link::VlanTag;
use crate::layers::l4_transport::TransportKind;
use crate::pcap::PcapSink;
use crate::render::{render, Format};
use crate::stack::{Exchange, StackConfig, DOC_IPV6_LOCAL, DOC_IPV6_REMOTE};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// The demo's message: the seeds' chat room greeting.
pub const DEMO_MESSAGE: &str = "Olá, sala!";

/// `osilab demo`.
pub fn demo(a: &DemoArgs) -> Result<String> {
    let format: Format = a.format.parse().map_err(config_err)?;
    let cfg = StackConfig::default();
    let x = Exchange::run(&cfg, DEMO_MESSAGE.as_bytes())?;
    if let Some(p) = &a.pcap {
        write_pcap(p, &x)?;
    }
    let mut out = String::new();
    if format == Format::Tree {
        out.push_str(
            "The chat room: a client process on 192.0.2.1 (port 51000) sends \"Olá, sala!\" to the chat\n\
             server on 192.0.2.2, port 3000, over an established TCP connection. Each layer wraps what\n\
             the layer above gave it, the frame crosses the wire as Manchester-coded bits at 10 Mbit/s,\n\
             and the server's stack unwraps it layer by layer, checking each header.\n\n",
        );
    }
    out.push_str(&render(&x, format));
    Ok(out)
}

/// `osilab send`.
pub fn send(a: &SendArgs) -> Result<String> {
    let format: Format = a.format.parse().map_err(config_err)?;
    let cfg = config(a)?;
    let message = match (&a.message, &a.file) {
        (Some(m), None) => m.clone().into_bytes(),
        (None, Some(p)) => std::fs::read(p).map_err(|e| Error::io(format!("cannot read {}: {e}", p.display())))?,
        _ => return Err(config_err("give a MESSAGE or --file PATH, not both")),
    };
    let x = Exchange::run_with(&cfg, &message, a.arp)?;
    if let Some(p) = &a.pcap {
        write_pcap(p, &x)?;
    }
    Ok(render(&x, format))
}

/// Write every frame sent, without FCS, stamped with its start time on the wire.
fn write_pcap(path: &Path, x: &Exchange) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(format!("cannot create {}: {e}", path.display())))?;
    let mut sink = PcapSink::new(std::io::BufWriter::new(file))?;
    for (_, f, _, _) in x.frames() {
        sink.write(f.signal.start, f.without_fcs())?;
    }
    use std::io::Write;
    sink.into_inner().flush().map_err(|e| Error::io(format!("cannot write {}: {e}", path.display())))
}

fn parse_num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T> {
    s.trim().parse().map_err(|_| config_err(format!("bad {what} {s:?}: expected a number")))
}

/// `IP:PORT`, `[IPv6]:PORT`, or a bare address (then `default_port`).
fn parse_endpoint(s: &str, option: &str, default_port: u16) -> Result<(IpAddr, u16)> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok((sa.ip(), sa.port()));
    }
    if let Ok(ip) = s.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok((ip, default_port));
    }
    Err(config_err(format!(
        "bad address {s:?} for {option}: expected IP:PORT like 192.0.2.2:3000 or [2001:db8::2]:3000"
    )))
}

fn parse_mac(s: &str, option: &str) -> Result<MacAddr> {
    s.parse().map_err(|e| config_err(format!("{option}: {e}")))
}

/// Turn `send`'s options into a configuration: syntax is checked here, meaning by the layers.
pub fn config(a: &SendArgs) -> Result<StackConfig> {
    let transport = match a.transport.to_ascii_lowercase().as_str() {
        "tcp" => TransportKind::Tcp,
        "udp" => TransportKind::Udp,
        "icmp" | "ping" => TransportKind::Icmp,
        other => return Err(config_err(format!("unknown transport {other:?}: expected tcp, udp or icmp"))),
    };
    let mut cfg = StackConfig { transport, ..StackConfig::default() };
    let to = a.to.as_deref().map(|s| parse_endpoint(s, "--to", 3000)).transpose()?;
    let from = a.from.as_deref().map(|s| parse_endpoint(s, "--from", 51000)).transpose()?;
    // An IPv6 peer given without the other end gets the IPv6 documentation default for it.
    let v6 = matches!(to, Some((IpAddr::V6(_), _))) || matches!(from, Some((IpAddr::V6(_), _)));
    if v6 {
        cfg.local.ip = IpAddr::V6(DOC_IPV6_LOCAL);
        cfg.remote.ip = IpAddr::V6(DOC_IPV6_REMOTE);
    }
    if let Some((ip, port)) = from {
        (cfg.local.ip, cfg.local.port) = (ip, port);
    }
    if let Some((ip, port)) = to {
        (cfg.remote.ip, cfg.remote.port) = (ip, port);
    }
    if let Some(m) = &a.src_mac {
        cfg.local.mac = parse_mac(m, "--src-mac")?;
    }
    if let Some(m) = &a.dst_mac {
        cfg.remote.mac = parse_mac(m, "--dst-mac")?;
    }
    if let Some(v) = &a.vlan {
        let id: u16 = parse_num(v, "VLAN ID")?;
        let pcp: u8 = a.vlan_pcp.as_deref().map(|p| parse_num(p, "VLAN priority")).transpose()?.unwrap_or(0);
        cfg.vlan = Some(VlanTag { pcp, dei: false, id });
    }
    cfg.mtu = parse_num(&a.mtu, "MTU")?;
    cfg.ttl = parse_num(&a.ttl, "TTL")?;
    cfg.dont_fragment = if a.df {
        Some(true)
    } else if a.no_df {
        Some(false)
    } else {
        None
    };
    cfg.line_code = a.line_code.parse().map_err(config_err)?;
    cfg.rate = a.rate.parse().map_err(config_err)?;
    cfg.bit_error_rate = a
        .ber
        .trim()
        .parse()
        .map_err(|_| config_err(format!("bad bit-error rate {:?}: expected a probability like 1e-4", a.ber)))?;
    cfg.seed = parse_num(&a.seed, "seed")?;
    // Each layer checks the values that are its own when the stacks are built.
    Ok(cfg)
}
