//! `osilab send`.

use super::app::{application, presentation_and_session, sender_is_server, AppName};
use super::args::SendArgs;
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

/// `osilab send`.
pub fn send(a: &SendArgs) -> Result<String> {
    let format: Format = a.format.parse().map_err(config_err)?;
    let (cfg, message) = config(a)?;
    let x = Exchange::run_with(&cfg, &message, a.arp)?;
    if let Some(p) = &a.pcap {
        write_pcap(p, &x)?;
    }
    Ok(render(&x, format))
}

/// Write every frame sent, without FCS, stamped with its start time on the wire.
pub(super) fn write_pcap(path: &Path, x: &Exchange) -> Result<()> {
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

/// Turn `send`'s options into a configuration and the message the application is handed:
/// syntax is checked here, meaning by the layers.
pub fn config(a: &SendArgs) -> Result<(StackConfig, Vec<u8>)> {
    let name = AppName::parse(&a.app)?;
    let transport = match a.transport.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => name.transport(),
        Some("tcp") => TransportKind::Tcp,
        Some("udp") => TransportKind::Udp,
        Some("icmp" | "ping") if name == AppName::Raw => TransportKind::Icmp,
        Some("icmp" | "ping") => return Err(config_err("an ICMP echo carries raw data: use --app raw")),
        Some(other) => return Err(config_err(format!("unknown transport {other:?}: expected tcp, udp or icmp"))),
    };
    let mut cfg = StackConfig { transport, ..StackConfig::default() };
    // A server's answer goes from the server (192.0.2.2, the application's port) to the client.
    let server = sender_is_server(a, name)?;
    cfg.remote.port = name.port();
    if server {
        std::mem::swap(&mut cfg.local, &mut cfg.remote);
    }
    let to = a.to.as_deref().map(|s| parse_endpoint(s, "--to", cfg.remote.port)).transpose()?;
    let from = a.from.as_deref().map(|s| parse_endpoint(s, "--from", cfg.local.port)).transpose()?;
    // An IPv6 peer given without the other end gets the IPv6 documentation default for it.
    let v6 = matches!(to, Some((IpAddr::V6(_), _))) || matches!(from, Some((IpAddr::V6(_), _)));
    if v6 {
        let (client, srv) = (IpAddr::V6(DOC_IPV6_LOCAL), IpAddr::V6(DOC_IPV6_REMOTE));
        (cfg.local.ip, cfg.remote.ip) = if server { (srv, client) } else { (client, srv) };
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
    presentation_and_session(a, &mut cfg)?;
    let (app, message) = application(a, name, &cfg)?;
    cfg.app = app;
    // Each layer checks the values that are its own when the stacks are built.
    Ok((cfg, message))
}
