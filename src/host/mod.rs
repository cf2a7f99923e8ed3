//! A host's network stack, sans I/O: frames in, frames out, timers, and the socket calls of its
//! processes. The simulator (`crate::sim`) drives hosts with simulated links; live mode
//! (`osilab live`, the `live` feature) drives the same code with a real interface. Both share
//! every line of protocol code.
//!
//! ```text
//!   processes (Program)  ── socket calls (Sys) ──┐
//!                                                 ▼
//!   sockets: ports, listeners, TCP connections (l4_transport::conn), UDP, ping
//!   IP: one Network layer per interface and family (routing table, neighbor cache, forwarding)
//!   L2: one DataLink per interface (Ethernet II, ARP)
//!        ▲ receive(iface, frame)           │ poll_transmit() → Frame
//! ```
//!
//! L1 is not here: a frame leaves the host as bytes with their FCS, and the medium (a simulated
//! link's PHY, or a NIC) turns them into symbols.
//!
//! A router is a host with forwarding on (RFC 1812): packets for other hosts are checked,
//! their TTL decremented, fragmented for a smaller next-hop MTU, and ICMP errors sent back when
//! they cannot go on.

pub mod neighbor;
pub mod program;
pub mod route;
pub mod socket;
mod tcp;
#[cfg(test)]
mod tests;
mod transport;

pub use program::{Program, Sys};
pub use route::{Prefix, Route, RoutingTable};
pub use socket::{Fd, Pid, PortEntry, SockError, SockEvent, SockType};

use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Meta, Pdu};
use crate::layers::l2_data_link::arp::{ArpOp, ArpPacket, ETHERTYPE_ARP};
use crate::layers::l2_data_link::{DataLink, DataLinkConfig};
use crate::layers::l3_network::forward::{self, IcmpError};
use crate::layers::l3_network::{Echo, EchoKind, Network, NetworkConfig};
use crate::rng::Rng;
use crate::time::Instant;
use crate::trace::{Direction, Record, Trace};
use neighbor::NeighborCache;
use socket::Socket;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};

/// IPv4's EtherType.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// IPv6's EtherType.
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// Its name (eth0).
    pub name: String,
    /// Its MAC address.
    pub mac: MacAddr,
    /// Its IPv4 address and subnet.
    pub ipv4: Option<Prefix>,
    /// Its IPv6 address and subnet.
    pub ipv6: Option<Prefix>,
    /// The largest IP packet it sends (1500 on Ethernet).
    pub mtu: usize,
}

/// A host (or, with `forwarding`, a router).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// Its name.
    pub name: String,
    /// Its interfaces, in order (index 0 is the first).
    pub interfaces: Vec<InterfaceConfig>,
    /// Static routes: destination, gateway.
    pub routes: Vec<(Prefix, IpAddr)>,
    /// Forward packets for other hosts (a router, RFC 1812).
    pub forwarding: bool,
    /// Seed of the host's random choices (initial sequence numbers, ephemeral ports, IP IDs).
    pub seed: u64,
    /// TTL / hop limit of packets it sends (64, as Linux).
    pub ttl: u8,
}

struct Interface {
    cfg: InterfaceConfig,
    link: DataLink,
    net4: Option<Network>,
    net6: Option<Network>,
}

/// A frame the host sends: bytes with FCS (unless the interface leaves it to the network card,
/// [`Host::set_fcs_by_nic`]), on an interface, with the records of its way down.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The interface index.
    pub iface: usize,
    /// The Ethernet frame, FCS included (but see [`Host::set_fcs_by_nic`]).
    pub bytes: Vec<u8>,
    /// What each layer did, 7→2.
    pub trace: Trace,
}

/// What a host notes for the timeline besides frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// A socket call and its result (like strace).
    Call,
    /// A program's own output (a chat line shown, a ping reply).
    App,
    /// A packet dropped, and why.
    Drop,
    /// A state change (a TCP state, an ARP entry).
    Info,
}

/// A timeline note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// When.
    pub at: Instant,
    /// The process, if a process made it.
    pub pid: Option<Pid>,
    /// Its kind.
    pub kind: NoteKind,
    /// The text.
    pub text: String,
}

/// A frame received: its records 2→7, and why it stopped, if it was dropped.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// What each layer did.
    pub trace: Trace,
    /// The reason it was dropped, if it was.
    pub dropped: Option<String>,
}

/// Counters for the run's summary.
#[derive(Debug, Clone, Default)]
pub struct HostStats {
    /// Frames received, sent.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Packets forwarded (routers).
    pub forwarded: u64,
    /// Drops by reason.
    pub drops: BTreeMap<String, u64>,
    /// Bytes sent per layer (header and trailer bytes each layer added), indexed by layer number.
    pub bytes_by_layer: [u64; 8],
}

/// A packet waiting for its next hop's MAC address.
#[derive(Debug, Clone)]
struct Waiting {
    iface: usize,
    ethertype: u16,
    packet: Vec<u8>,
    trace: Trace,
    /// The datagram's source, to tell (ICMP host unreachable or a socket error) if resolution fails.
    src: IpAddr,
}

struct Process {
    pid: Pid,
    name: String,
    program: Option<Box<dyn Program>>,
    next_fd: Fd,
    timers: BTreeSet<(Instant, u64)>,
    exited: bool,
}

/// The PID of the first process started on a host. PIDs below it stand for the system's own
/// processes, which the simulation does not model: on Linux PID 1 is init (systemd), and the
/// programs a user starts after boot get PIDs in the hundreds or thousands.
pub const FIRST_PID: Pid = 1000;

/// The network stack of one host.
pub struct Host {
    name: String,
    ifaces: Vec<Interface>,
    routes: RoutingTable,
    forwarding: bool,
    ttl: u8,
    rng: Rng,
    neigh: NeighborCache<Waiting>,
    sockets: Vec<Socket>,
    /// `sockets` by local port.
    ports: socket::PortIndex,
    fds: HashMap<(Pid, Fd), usize>,
    procs: Vec<Process>,
    tcp: tcp::Connections,
    out: VecDeque<Frame>,
    notes: Vec<Note>,
    events: VecDeque<(Pid, Fd, SockEvent)>,
    next_pid: Pid,
    next_ephemeral: u16,
    stats: HostStats,
    now: Instant,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Linux's ephemeral port range (`net.ipv4.ip_local_port_range`): 32768–60999.
pub const EPHEMERAL: std::ops::RangeInclusive<u16> = 32768..=60999;

fn cfg_err(msg: impl Into<String>) -> Error {
    Error::config(Some(LayerId::Network), msg)
}

impl Host {
    /// A host with these interfaces and routes; the connected subnets are routes of their own.
    pub fn new(cfg: HostConfig) -> Result<Host> {
        if cfg.interfaces.is_empty() {
            return Err(cfg_err(format!("host {} has no interface", cfg.name)));
        }
        let mut routes = RoutingTable::default();
        let mut ifaces = Vec::new();
        for (i, ic) in cfg.interfaces.iter().enumerate() {
            let link = DataLink::new(DataLinkConfig {
                local: ic.mac,
                remote: MacAddr::BROADCAST,
                vlan: None,
                promiscuous: false,
                capture: false,
            });
            link.config().validate()?;
            let net = |p: Option<Prefix>, remote: IpAddr| -> Result<Option<Network>> {
                p.map(|p| {
                    Network::new(NetworkConfig {
                        local: p.addr,
                        remote,
                        ttl: cfg.ttl.max(1),
                        mtu: ic.mtu,
                        dont_fragment: false,
                        ident: (cfg.seed as u16).wrapping_add(i as u16 * 0x1000),
                        echo: None,
                        promiscuous: false,
                        capture: false,
                    })
                })
                .transpose()
            };
            let mut net4 = net(ic.ipv4, IpAddr::V4(Ipv4Addr::BROADCAST))?;
            let mut net6 = net(ic.ipv6, IpAddr::V6(std::net::Ipv6Addr::LOCALHOST))?;
            if let (Some(n), Some(b)) = (net4.as_mut(), ic.ipv4.and_then(|p| p.broadcast())) {
                n.join_group(b);
            }
            if let (Some(n), Some(Prefix { addr: IpAddr::V6(a), .. })) = (net6.as_mut(), ic.ipv6) {
                n.join_group(IpAddr::V6(transport::solicited_node(a)));
            }
            for p in [ic.ipv4, ic.ipv6].into_iter().flatten() {
                routes.add(Route { dest: Prefix::new(p.network(), p.len), via: None, iface: i });
            }
            ifaces.push(Interface { cfg: ic.clone(), link, net4, net6 });
        }
        for (dest, via) in &cfg.routes {
            let Some((r, _)) = routes.lookup(*via) else {
                return Err(cfg_err(format!("host {}: gateway {via} for {dest} is on none of its subnets", cfg.name)));
            };
            routes.add(Route { dest: *dest, via: Some(*via), iface: r.iface });
        }
        let mut rng = Rng::new(cfg.seed ^ 0x6f73_696c_6162_u64);
        let span = u32::from(EPHEMERAL.end() - EPHEMERAL.start()) + 1;
        let next_ephemeral = EPHEMERAL.start() + (rng.next_u32() % span) as u16;
        Ok(Host {
            name: cfg.name,
            ifaces,
            routes,
            forwarding: cfg.forwarding,
            ttl: cfg.ttl.max(1),
            rng,
            neigh: NeighborCache::default(),
            sockets: Vec::new(),
            ports: socket::PortIndex::default(),
            fds: HashMap::new(),
            procs: Vec::new(),
            tcp: tcp::Connections::default(),
            out: VecDeque::new(),
            notes: Vec::new(),
            events: VecDeque::new(),
            next_pid: FIRST_PID,
            next_ephemeral,
            stats: HostStats::default(),
            now: Instant::ZERO,
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it forwards (a router).
    pub fn is_router(&self) -> bool {
        self.forwarding
    }

    /// Interface `i`'s configuration.
    pub fn interface(&self, i: usize) -> Option<&InterfaceConfig> {
        self.ifaces.get(i).map(|x| &x.cfg)
    }

    /// The number of interfaces.
    pub fn interface_count(&self) -> usize {
        self.ifaces.len()
    }

    /// Leave interface `iface`'s FCS to its network card: frames from [`Host::poll_transmit`]
    /// then end before the FCS, and [`Host::receive`] takes frames without one (live mode, where
    /// frames cross Linux's `AF_PACKET` socket as the card hands them over; see
    /// [`DataLink::set_fcs_by_nic`]). False when there is no such interface.
    pub fn set_fcs_by_nic(&mut self, iface: usize, on: bool) -> bool {
        match self.ifaces.get_mut(iface) {
            Some(x) => {
                x.link.set_fcs_by_nic(on);
                true
            }
            None => false,
        }
    }

    /// Whether process `pid` is still running (started and not exited).
    pub fn is_running(&self, pid: Pid) -> bool {
        self.procs.iter().any(|p| p.pid == pid && !p.exited)
    }

    /// The routing table.
    pub fn routes(&self) -> &RoutingTable {
        &self.routes
    }

    /// Counters.
    pub fn stats(&self) -> &HostStats {
        &self.stats
    }

    /// TCP segments sent again (after a timeout or as a fast retransmit).
    pub fn tcp_retransmissions(&self) -> u64 {
        self.tcp.retransmissions
    }

    /// `ip neigh` lines.
    pub fn neighbors(&self) -> Vec<String> {
        self.neigh.show(&self.iface_names(), self.now)
    }

    fn iface_names(&self) -> Vec<String> {
        self.ifaces.iter().map(|i| i.cfg.name.clone()).collect()
    }

    /// Whether `a` is one of this host's addresses.
    pub fn owns(&self, a: IpAddr) -> bool {
        self.ifaces.iter().any(|i| i.cfg.ipv4.map(|p| p.addr) == Some(a) || i.cfg.ipv6.map(|p| p.addr) == Some(a))
    }

    /// The address this host sends from to reach `dst` (the outgoing interface's, RFC 1122
    /// §3.3.4.3), with the route.
    fn source_for(&self, dst: IpAddr) -> std::result::Result<(IpAddr, Route, IpAddr), SockError> {
        let (route, hop) = self.routes.lookup(dst).ok_or(SockError::NetUnreach)?;
        let i = &self.ifaces[route.iface].cfg;
        let src = if dst.is_ipv4() { i.ipv4 } else { i.ipv6 }.ok_or(SockError::NetUnreach)?;
        Ok((src.addr, route, hop))
    }

    // ---- notes and drops -------------------------------------------------------------------

    fn note(&mut self, pid: Option<Pid>, kind: NoteKind, text: impl Into<String>) {
        self.notes.push(Note { at: self.now, pid, kind, text: text.into() });
    }

    fn drop_packet(&mut self, reason: impl Into<String>) -> String {
        let reason = reason.into();
        let key = reason.split(':').next().unwrap_or(&reason).to_string();
        *self.stats.drops.entry(key).or_default() += 1;
        reason
    }

    /// Take the notes made since the last call.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// The next frame to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Frame> {
        let f = self.out.pop_front()?;
        self.stats.frames_out += 1;
        for r in &f.trace.records {
            self.stats.bytes_by_layer[usize::from(r.layer.number())] += r.overhead as u64;
        }
        Some(f)
    }

    // ---- sending ---------------------------------------------------------------------------

    /// Send an IP datagram carrying `payload` of protocol `proto` to `dst` (from `src`, or the
    /// outgoing interface's address), with `trace` holding the records of the layers above.
    /// Fragments when larger than the interface MTU (IPv4 without DF); waits for the next hop's
    /// MAC when it is not known yet.
    #[allow(clippy::too_many_arguments)]
    fn send_ip(
        &mut self,
        src: Option<IpAddr>,
        dst: IpAddr,
        proto: u8,
        payload: Vec<u8>,
        ttl: Option<u8>,
        dont_fragment: bool,
        trace: Trace,
    ) -> std::result::Result<(), SockError> {
        let (_, route, hop) = self.source_for(dst)?;
        self.send_ip_via(route.iface, hop, src, dst, proto, payload, ttl, dont_fragment, trace)
    }

    /// As [`Host::send_ip`], out of interface `iface` to the neighbor `hop` (for multicast, which
    /// has no route).
    #[allow(clippy::too_many_arguments)]
    fn send_ip_via(
        &mut self,
        iface: usize,
        hop: IpAddr,
        src: Option<IpAddr>,
        dst: IpAddr,
        proto: u8,
        payload: Vec<u8>,
        ttl: Option<u8>,
        dont_fragment: bool,
        mut trace: Trace,
    ) -> std::result::Result<(), SockError> {
        let cfg = &self.ifaces.get(iface).ok_or(SockError::NetUnreach)?.cfg;
        let auto_src = if dst.is_ipv4() { cfg.ipv4 } else { cfg.ipv6 }.ok_or(SockError::NetUnreach)?.addr;
        let src = src.unwrap_or(auto_src);
        let now = self.now;
        let default_ttl = self.ttl;
        let x = &mut self.ifaces[iface];
        let net = if dst.is_ipv4() { x.net4.as_mut() } else { x.net6.as_mut() }.ok_or(SockError::NetUnreach)?;
        if net.config().local != src {
            return Err(SockError::AddrNotAvail);
        }
        if net.set_remote(dst).is_err() {
            return Err(SockError::AfNoSupport);
        }
        let ttl = ttl.unwrap_or(default_ttl);
        net.set_ttl(ttl);
        net.set_dont_fragment(dont_fragment);
        // A message the host makes at L3 itself (echo, error, neighbor discovery) has no record
        // from above: its ICMP record, inside the IP packet's.
        if matches!(proto, 1 | 58) && !trace.records.iter().any(|r| r.protocol.starts_with("icmp")) {
            trace.push(crate::layers::l3_network::icmp_record(Direction::Down, proto == 58, &payload, ttl));
        }
        let mut cx = Context::new(now);
        let meta = Meta { ip_proto: Some(proto), src_ip: Some(src), dst_ip: Some(dst), ..Default::default() };
        let pdus = match net.encapsulate(Pdu { data: Data::Bytes(payload), meta }, &mut cx) {
            Ok(p) => p,
            Err(e) => {
                let r = self.drop_packet(format!("L3 refused to send: {e}"));
                self.note(None, NoteKind::Drop, r);
                return Err(SockError::MsgSize);
            }
        };
        let ip_records: Vec<Record> = cx.trace.records.iter().filter(|r| is_ip(r)).cloned().collect();
        let other: Vec<Record> = cx.trace.records.into_iter().filter(|r| !is_ip(r)).collect();
        trace.records.extend(other);
        let n = pdus.len();
        for (k, pdu) in pdus.into_iter().enumerate() {
            let Data::Bytes(packet) = pdu.data else { continue };
            let mut t = if k == 0 { std::mem::take(&mut trace) } else { Trace::default() };
            if ip_records.len() == n {
                t.push(ip_records[k].clone());
            } else if k == 0 {
                t.records.extend(ip_records.iter().cloned());
            }
            let ethertype = if dst.is_ipv4() { ETHERTYPE_IPV4 } else { ETHERTYPE_IPV6 };
            self.send_to_neighbor(iface, hop, Waiting { iface, ethertype, packet, trace: t, src });
        }
        Ok(())
    }

    /// Hand a packet to L2 for the neighbor `hop`, resolving its MAC first if needed.
    fn send_to_neighbor(&mut self, iface: usize, hop: IpAddr, w: Waiting) {
        let group = match hop {
            IpAddr::V4(a) => {
                let bcast = self.ifaces[iface].cfg.ipv4.and_then(|p| p.broadcast());
                (a.is_broadcast() || Some(hop) == bcast).then_some(MacAddr::BROADCAST)
            }
            IpAddr::V6(a) if a.is_multicast() => {
                let o = a.octets();
                Some(MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]]))
            }
            _ => None,
        };
        if let Some(mac) = group.or_else(|| self.neigh.lookup(hop, self.now)) {
            self.emit_frame(w, mac);
            return;
        }
        let (solicit, dropped) = self.neigh.hold(hop, iface, w, self.now);
        if dropped.is_some() {
            let why = format!(
                "neighbor queue full: {} packets already waited for {hop}'s MAC address (L3); the oldest dropped",
                neighbor::PENDING_LIMIT
            );
            let r = self.drop_packet(why);
            self.note(None, NoteKind::Drop, r);
        }
        if solicit {
            self.solicit(iface, hop);
        }
    }

    fn emit_frame(&mut self, w: Waiting, dst_mac: MacAddr) {
        let mut cx = Context::new(self.now);
        let meta = Meta { ethertype: Some(w.ethertype), dst_mac: Some(dst_mac), ..Default::default() };
        let link = &mut self.ifaces[w.iface].link;
        match link.encapsulate(Pdu { data: Data::Bytes(w.packet), meta }, &mut cx) {
            Ok(frames) => {
                let mut trace = w.trace;
                trace.records.extend(cx.trace.records);
                for f in frames {
                    if let Data::Bytes(bytes) = f.data {
                        self.out.push_back(Frame { iface: w.iface, bytes, trace: std::mem::take(&mut trace) });
                    }
                }
            }
            Err(e) => {
                let r = self.drop_packet(format!("L2 refused to send: {e}"));
                self.note(None, NoteKind::Drop, r);
            }
        }
    }

    /// Ask who has `ip`: an ARP request (RFC 826) for IPv4, a neighbor solicitation (RFC 4861
    /// §7.2.2) for IPv6.
    fn solicit(&mut self, iface: usize, ip: IpAddr) {
        let cfg = &self.ifaces[iface].cfg;
        match (ip, cfg.ipv4) {
            (IpAddr::V4(target), Some(p)) => {
                let IpAddr::V4(ours) = p.addr else { return };
                let req = ArpPacket::request(cfg.mac, ours, target);
                self.send_arp(iface, &req, MacAddr::BROADCAST);
            }
            (IpAddr::V6(target), _) => self.send_ns(iface, target),
            _ => {}
        }
    }

    fn send_arp(&mut self, iface: usize, p: &ArpPacket, to: MacAddr) {
        let w = Waiting {
            iface,
            ethertype: ETHERTYPE_ARP,
            packet: p.emit(),
            trace: Trace::default(),
            src: IpAddr::V4(p.sender_ip),
        };
        self.emit_frame(w, to);
    }

    // ---- receiving -------------------------------------------------------------------------

    /// A frame (with its FCS) arrived on interface `iface` at `now`.
    pub fn receive(&mut self, iface: usize, frame: Vec<u8>, now: Instant) -> Received {
        self.now = self.now.max(now);
        self.stats.frames_in += 1;
        let mut cx = Context::new(self.now);
        let mut rx = Received::default();
        let Some(x) = self.ifaces.get_mut(iface) else {
            rx.dropped = Some(self.drop_packet(format!("no interface {iface}")));
            return rx;
        };
        let up = x.link.decapsulate(Pdu::bytes(frame), &mut cx);
        let pdu = match up {
            Ok(Some(p)) => p,
            Ok(None) => {
                rx.trace = cx.trace;
                return rx;
            }
            Err(e) => {
                rx.trace = cx.trace;
                let what = if e.to_string().contains("FCS") { "bad FCS" } else { "L2" };
                rx.dropped = Some(self.drop_packet(format!("{what}: {e}")));
                return rx;
            }
        };
        let Ok((bytes, meta)) = pdu.into_bytes(LayerId::DataLink) else {
            return rx;
        };
        match meta.ethertype {
            Some(ETHERTYPE_ARP) => {
                match ArpPacket::parse(&bytes, meta.offset) {
                    Ok(p) => self.arp_input(iface, p),
                    Err(e) => rx.dropped = Some(self.drop_packet(format!("ARP: {e}"))),
                }
                rx.trace = cx.trace;
            }
            Some(ETHERTYPE_IPV4) | Some(ETHERTYPE_IPV6) => {
                rx.dropped = self.ip_input(iface, bytes, meta, &mut cx);
                rx.trace = cx.trace;
            }
            other => {
                rx.trace = cx.trace;
                rx.dropped =
                    Some(self.drop_packet(format!("L2: no handler for EtherType {:#06x}", other.unwrap_or(0))));
            }
        }
        self.after_activity();
        rx
    }

    /// RFC 826 "Packet Reception": merge the sender into the table if it is there; if the
    /// target is us, add it anyway and answer a request.
    fn arp_input(&mut self, iface: usize, p: ArpPacket) {
        let Some(IpAddr::V4(ours)) = self.ifaces[iface].cfg.ipv4.map(|p| p.addr) else { return };
        let sender = IpAddr::V4(p.sender_ip);
        let for_us = p.target_ip == ours;
        if self.neigh.has(sender) || for_us {
            if p.sender_ip.is_unspecified() {
                return;
            }
            let waiting = self.neigh.learn(sender, p.sender_mac, iface, self.now);
            for w in waiting {
                self.emit_frame(w, p.sender_mac);
            }
        }
        if for_us && p.operation == ArpOp::Request {
            let mac = self.ifaces[iface].cfg.mac;
            let reply = ArpPacket::reply_to(&p, mac);
            self.send_arp(iface, &reply, p.sender_mac);
        }
    }

    /// The interface whose network layer takes packets for `dst`: the one with that address
    /// (weak host model, RFC 1122 §3.3.4.2: any interface's address is accepted on any
    /// interface), or the arrival interface for a group it joined (broadcast, all-nodes,
    /// solicited-node multicast).
    fn local_net(&self, dst: IpAddr, arrived_on: usize) -> Option<(usize, bool)> {
        let v6 = dst.is_ipv6();
        fn net(i: &Interface, v6: bool) -> Option<&Network> {
            if v6 {
                i.net6.as_ref()
            } else {
                i.net4.as_ref()
            }
        }
        if let Some(i) = self.ifaces.iter().position(|i| net(i, v6).is_some_and(|n| n.config().local == dst)) {
            return Some((i, v6));
        }
        net(&self.ifaces[arrived_on], v6).is_some_and(|n| n.accepts(dst)).then_some((arrived_on, v6))
    }

    fn ip_input(&mut self, iface: usize, bytes: Vec<u8>, meta: Meta, cx: &mut Context) -> Option<String> {
        let transit = match forward::inspect(&bytes, meta.offset) {
            Ok(t) => t,
            Err(e) => return Some(self.drop_packet(format!("L3: {e}"))),
        };
        let Some((local_iface, v6)) = self.local_net(transit.dst, iface) else {
            if self.forwarding {
                return self.forward(iface, bytes, transit, cx);
            }
            let r = format!("L3: not addressed to this host ({}), and it does not forward", transit.dst);
            cx.trace.push(forward::transit_record(Direction::Up, &bytes));
            return Some(self.drop_packet(r));
        };
        let x = &mut self.ifaces[local_iface];
        let Some(net) = (if v6 { x.net6.as_mut() } else { x.net4.as_mut() }) else {
            return Some(self.drop_packet("L3: no address of this family"));
        };
        // A UDP datagram for no socket is answered with port unreachable, which quotes it.
        let original = if transit.proto == 17 { bytes.clone() } else { Vec::new() };
        let up = net.decapsulate(Pdu { data: Data::Bytes(bytes), meta }, cx);
        let icmp = net.take_last_icmp();
        let echo = net.last_echo().cloned();
        match up {
            Err(e) => Some(self.drop_packet(format!("L3: {e}"))),
            Ok(None) => {
                if let Some(msg) = icmp {
                    self.icmp_input(local_iface, transit, &msg, cx);
                }
                None
            }
            Ok(Some(pdu)) => {
                let Ok((payload, meta)) = pdu.into_bytes(LayerId::Network) else { return None };
                match meta.ip_proto {
                    Some(1 | 58) => {
                        if let Some(e) = echo {
                            self.echo_input(e);
                        }
                        None
                    }
                    Some(6) => self.tcp_input(payload, meta, cx),
                    Some(17) => self.udp_input(payload, meta, &original, local_iface, cx),
                    Some(p) => Some(self.drop_packet(format!("L4: no handler for protocol {p}"))),
                    None => None,
                }
            }
        }
    }

    /// An echo request is answered (RFC 1122 §3.2.2.6); a reply goes to the ping socket whose
    /// identifier it carries.
    fn echo_input(&mut self, e: Echo) {
        match e.kind {
            EchoKind::Request => {
                if let Some(reply) = crate::layers::l3_network::echo_reply(&e) {
                    let proto = reply.ip_proto();
                    let _ = self.send_ip(
                        Some(reply.src),
                        reply.dst,
                        proto,
                        reply.to_bytes(),
                        None,
                        false,
                        Trace::default(),
                    );
                }
            }
            EchoKind::Reply => self.ping_reply(e),
        }
    }

    /// An ICMP message that is not an echo: an error about a packet we sent (to its socket), or
    /// neighbor discovery.
    fn icmp_input(&mut self, iface: usize, from: forward::Transit, msg: &[u8], cx: &mut Context) {
        let v6 = from.is_v6();
        if v6 && matches!(msg.first(), Some(135 | 136)) {
            self.nd_input(iface, from, msg, cx);
            return;
        }
        let Some((kind, quoted)) = forward::parse_icmp_error(msg, v6) else { return };
        let Ok(orig) = forward::inspect_quoted(quoted) else { return };
        self.note(
            None,
            NoteKind::Info,
            format!("ICMP from {}: {} (about {} → {})", from.src, kind.text(), orig.src, orig.dst),
        );
        self.icmp_error_to_socket(kind, from.src, quoted);
    }

    // ---- forwarding (routers) --------------------------------------------------------------

    fn forward(&mut self, iface: usize, mut bytes: Vec<u8>, t: forward::Transit, cx: &mut Context) -> Option<String> {
        cx.trace.push({
            let mut r = forward::transit_record(Direction::Up, &bytes);
            r.notes.push(format!("not for this router: forward to {}", t.dst));
            r
        });
        bytes.truncate(t.len);
        // RFC 1812 §5.3.1: a packet whose TTL would reach 0 is discarded with time exceeded.
        if t.ttl <= 1 {
            self.send_icmp_error(IcmpError::TimeExceeded, &bytes, iface);
            return Some(self.drop_packet(format!("TTL exceeded: TTL {} at router {}", t.ttl, self.name)));
        }
        let Some((route, hop)) = self.routes.lookup(t.dst) else {
            self.send_icmp_error(IcmpError::NetUnreachable, &bytes, iface);
            return Some(self.drop_packet(format!("no route: to {}", t.dst)));
        };
        if forward::decrement_ttl(&mut bytes).is_err() {
            return Some(self.drop_packet("L3: header too short to forward"));
        }
        let mtu = self.ifaces[route.iface].cfg.mtu;
        let packets = if t.len <= mtu {
            vec![bytes]
        } else if t.is_v6() {
            self.send_icmp_error(IcmpError::PacketTooBig { mtu: mtu as u32 }, &bytes, iface);
            return Some(self.drop_packet(format!("packet too big: {} bytes for MTU {mtu}", t.len)));
        } else if t.dont_fragment {
            self.send_icmp_error(IcmpError::FragmentationNeeded { mtu: mtu as u16 }, &bytes, iface);
            return Some(self.drop_packet(format!("fragmentation needed: {} bytes with DF for MTU {mtu}", t.len)));
        } else {
            match forward::fragment_v4(&bytes, mtu) {
                Ok(f) => f,
                Err(e) => return Some(self.drop_packet(format!("L3: {e}"))),
            }
        };
        self.stats.forwarded += 1;
        let n = packets.len();
        for (k, p) in packets.into_iter().enumerate() {
            let mut r = forward::transit_record(Direction::Down, &p);
            r.notes
                .push(format!("forwarded by {} via {}: TTL decremented", self.name, self.ifaces[route.iface].cfg.name));
            if n > 1 {
                r.part = Some(crate::layer::Part { index: k + 1, count: n });
                r.notes.push(format!("fragment {} of {n} for MTU {mtu} (RFC 791 §3.2)", k + 1));
            }
            let mut trace = Trace::default();
            trace.push(r);
            let ethertype = if t.is_v6() { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 };
            self.send_to_neighbor(
                route.iface,
                hop,
                Waiting { iface: route.iface, ethertype, packet: p, trace, src: t.src },
            );
        }
        None
    }

    /// Send ICMP error `kind` about `original` back to its source, from the address of the
    /// interface it arrived on (RFC 1812 §4.3.2.4).
    fn send_icmp_error(&mut self, kind: IcmpError, original: &[u8], arrived_on: usize) {
        if !forward::should_answer(original) {
            return;
        }
        let Ok(t) = forward::inspect(original, 0) else { return };
        // RFC 1812 §4.3.2.4: from an address of the interface the error leaves by (the way
        // back to the packet's source), else of the one the packet came in on.
        let cfg = &self.ifaces[arrived_on].cfg;
        let fallback = (if t.is_v6() { cfg.ipv6 } else { cfg.ipv4 }).map(|p| p.addr);
        let Some(src) = self.source_for(t.src).ok().map(|s| s.0).or(fallback) else { return };
        let msg = forward::icmp_error(kind, original, src, t.src);
        let proto = if t.is_v6() { 58 } else { 1 };
        let _ = self.send_ip(Some(src), t.src, proto, msg, None, false, Trace::default());
        self.note(None, NoteKind::Info, format!("sent ICMP {} to {}", kind.text(), t.src));
    }

    // ---- timers ----------------------------------------------------------------------------

    /// The earliest time something is due (a retransmission, an ARP retry, a program's timer).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let procs = self.procs.iter().filter(|p| !p.exited).filter_map(|p| p.timers.first().map(|t| t.0));
        [self.neigh.poll_timeout(), self.tcp.poll_timeout()].into_iter().flatten().chain(procs).min()
    }

    /// Run what is due at `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let expired = self.neigh.on_timeout(self.now);
        for (iface, ip) in expired.ask {
            self.solicit(iface, ip);
        }
        for (ip, waiting) in expired.failed {
            let r = self.drop_packet(format!("address resolution failed: no answer from {ip}"));
            self.note(None, NoteKind::Drop, r);
            for w in waiting {
                if self.owns(w.src) {
                    self.unreachable_to_socket(&w.packet);
                } else {
                    // RFC 1812 §4.3.3.1: a router that cannot resolve the next hop answers host unreachable.
                    self.send_icmp_error(IcmpError::HostUnreachable, &w.packet, w.iface);
                }
            }
        }
        self.tcp_timeouts();
        // Programs' timers.
        for i in 0..self.procs.len() {
            while let Some(&(at, token)) = self.procs[i].timers.first() {
                if at > self.now || self.procs[i].exited {
                    break;
                }
                self.procs[i].timers.pop_first();
                let pid = self.procs[i].pid;
                self.with_program(pid, |p, sys| p.on_timer(sys, token));
            }
        }
        self.after_activity();
    }

    /// After any input: send what TCP has to send, and let programs react to their sockets'
    /// events (each may make calls that cause more), until nothing is left (bounded).
    fn after_activity(&mut self) {
        for _ in 0..10_000 {
            self.tcp_flush();
            let Some((pid, fd, ev)) = self.events.pop_front() else { break };
            // An event queued before the process closed the descriptor is not delivered, as
            // epoll(7) forgets a closed descriptor.
            if self.sock_index(pid, fd).is_ok() {
                self.with_program(pid, |p, sys| p.on_socket(sys, fd, ev));
            }
        }
        self.tcp_flush();
    }

    fn with_program(&mut self, pid: Pid, f: impl FnOnce(&mut dyn Program, &mut Sys<'_>)) {
        let Some(i) = self.procs.iter().position(|p| p.pid == pid) else { return };
        if self.procs[i].exited {
            return;
        }
        let Some(mut prog) = self.procs[i].program.take() else { return };
        {
            let mut sys = Sys::new(self, pid);
            f(prog.as_mut(), &mut sys);
        }
        if let Some(p) = self.procs.iter_mut().find(|p| p.pid == pid) {
            p.program = Some(prog);
        }
    }

    // ---- processes -------------------------------------------------------------------------

    /// Start `program` as a new process named `name` at `now`; returns its PID.
    pub fn spawn(&mut self, name: &str, program: Box<dyn Program>, now: Instant) -> Pid {
        self.now = self.now.max(now);
        let pid = self.next_pid;
        self.next_pid += 1;
        self.procs.push(Process {
            pid,
            name: name.to_string(),
            program: Some(program),
            next_fd: 3,
            timers: BTreeSet::new(),
            exited: false,
        });
        self.note(Some(pid), NoteKind::Info, format!("process {name} started (pid {pid})"));
        self.with_program(pid, |p, sys| p.start(sys));
        self.after_activity();
        pid
    }

    /// Each process: PID, name and its program's own report lines.
    pub fn processes(&self) -> Vec<(Pid, String, Vec<String>)> {
        self.procs
            .iter()
            .map(|p| (p.pid, p.name.clone(), p.program.as_ref().map(|g| g.report()).unwrap_or_default()))
            .collect()
    }

    /// A process's program, to read its results.
    pub fn program(&self, pid: Pid) -> Option<&dyn Program> {
        self.procs.iter().find(|p| p.pid == pid).and_then(|p| p.program.as_deref())
    }

    fn process_name(&self, pid: Pid) -> String {
        self.procs.iter().find(|p| p.pid == pid).map_or_else(|| "?".into(), |p| p.name.clone())
    }

    /// The port table, as `ss -tuanp` shows it.
    pub fn port_table(&self) -> Vec<PortEntry> {
        let mut rows = Vec::new();
        for s in &self.sockets {
            if s.state == socket::SockState::Closed {
                continue;
            }
            let process = format!("users:((\"{}\",pid={},fd={}))", self.process_name(s.pid), s.pid, s.fd);
            let (state, recv_q, send_q) = match (&s.state, s.ty) {
                (socket::SockState::Listening { backlog }, _) => ("LISTEN".to_string(), s.accept_queue.len(), *backlog),
                (socket::SockState::Connection(c), _) => {
                    let (st, r, w) = self.tcp.queue_sizes(*c);
                    (st, r, w)
                }
                (_, SockType::Stream) => ("UNCONN".to_string(), 0, 0),
                (socket::SockState::Associated, _) => ("ESTAB".to_string(), s.queued, 0),
                _ => ("UNCONN".to_string(), s.queued, 0),
            };
            if s.ty == SockType::Stream && s.local.is_none() {
                continue;
            }
            rows.push(PortEntry {
                netid: s.ty.netid(),
                state,
                recv_q,
                send_q,
                local: socket::addr_text(s.local, s.v6),
                peer: match (&s.state, s.remote) {
                    (socket::SockState::Listening { .. }, _) | (_, None) => {
                        if s.v6 {
                            "[::]:*".into()
                        } else {
                            "0.0.0.0:*".into()
                        }
                    }
                    (_, Some(r)) => r.to_string(),
                },
                process,
            });
        }
        rows.extend(self.tcp.orphans());
        rows
    }

    fn alloc_ephemeral(&mut self, ty: SockType, v6: bool) -> std::result::Result<u16, SockError> {
        let span = u32::from(EPHEMERAL.end() - EPHEMERAL.start()) + 1;
        for _ in 0..span {
            let p = self.next_ephemeral;
            self.next_ephemeral = if p >= *EPHEMERAL.end() { *EPHEMERAL.start() } else { p + 1 };
            if !self.port_taken(ty, v6, None, p) {
                return Ok(p);
            }
        }
        Err(SockError::NoPorts)
    }

    /// Whether a socket of `ty` already holds `port` on `ip` (or on the wildcard address).
    fn port_taken(&self, ty: SockType, v6: bool, ip: Option<IpAddr>, port: u16) -> bool {
        let kind = |t: SockType| if t == SockType::Ping { SockType::Dgram } else { t };
        self.ports.bound(port).map(|i| &self.sockets[i]).any(|s| {
            s.state != socket::SockState::Closed
                && kind(s.ty) == kind(ty)
                && s.v6 == v6
                && s.local.is_some_and(|l| {
                    l.port() == port
                        && (ip.is_none()
                            || l.ip().is_unspecified()
                            || Some(l.ip()) == ip
                            || ip.is_some_and(|i| i.is_unspecified()))
                })
        }) || (ty == SockType::Stream && self.tcp.port_in_use(port))
    }

    fn random_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }
}

fn is_ip(r: &Record) -> bool {
    r.layer == LayerId::Network && (r.protocol == "ip" || r.protocol == "ipv6")
}

/// The summary line of a record list: the top-most record's summary, as Wireshark's Info column.
/// Of several records of that layer, the message carried rather than its carrier (an ICMP
/// message rather than its IP packet, ARP rather than its Ethernet frame), whichever order the
/// trace holds them in.
pub fn info(trace: &Trace) -> String {
    let shown = |r: &&Record| r.layer != LayerId::Physical && !r.summary.is_empty();
    let Some(top) = trace.records.iter().filter(shown).map(|r| r.layer).max() else { return String::new() };
    let carrier = |r: &Record| matches!(&*r.protocol, "eth" | "vlan" | "ip" | "ipv6");
    let at_top: Vec<&Record> = trace.records.iter().filter(shown).filter(|r| r.layer == top).collect();
    at_top.iter().rev().find(|r| !carrier(r)).or(at_top.last()).map(|r| r.summary.clone()).unwrap_or_default()
}
