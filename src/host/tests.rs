//! Hosts wired back to back (no simulated link: a frame arrives 10 µs after it is sent), to
//! check the host's own behaviour: ARP, UDP, ping, a router's TTL and fragmentation, ICMP
//! errors, neighbor discovery.

use super::*;
use crate::apps::bulk::{UdpSender, UdpSink};
use crate::apps::ping::{Ping, PingResult};
use crate::apps::script::{Script, ScriptCall};
use crate::apps::Listen;
use std::time::Duration;

/// Hosts and cables: `(host, iface) ↔ (host, iface)`.
struct Bench {
    hosts: Vec<Host>,
    wires: Vec<((usize, usize), (usize, usize))>,
    now: Instant,
    /// Every frame delivered: (from host, to host, bytes).
    log: Vec<(usize, usize, Vec<u8>)>,
}

fn mac(n: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 0, n])
}

fn iface(name: &str, n: u8, v4: &str, v6: Option<&str>, mtu: usize) -> InterfaceConfig {
    let (a, l) = v4.split_once('/').unwrap();
    InterfaceConfig {
        name: name.into(),
        mac: mac(n),
        ipv4: Some(Prefix::new(a.parse().unwrap(), l.parse().unwrap())),
        ipv6: v6.map(|s| {
            let (a, l) = s.split_once('/').unwrap();
            Prefix::new(a.parse().unwrap(), l.parse().unwrap())
        }),
        mtu,
    }
}

fn host(name: &str, ifaces: Vec<InterfaceConfig>, gw: Option<&str>, forwarding: bool) -> Host {
    let routes = gw.map(|g| (Prefix::default_for(g.parse().unwrap()), g.parse().unwrap())).into_iter().collect();
    Host::new(HostConfig { name: name.into(), interfaces: ifaces, routes, forwarding, seed: 7, ttl: 64 }).unwrap()
}

impl Bench {
    fn peer(&self, h: usize, i: usize) -> Option<(usize, usize)> {
        self.wires.iter().find_map(|&(a, b)| {
            if a == (h, i) {
                Some(b)
            } else if b == (h, i) {
                Some(a)
            } else {
                None
            }
        })
    }

    /// Run until nothing is left to do or `until`.
    fn run(&mut self, until: Duration) {
        let end = Instant::ZERO + until;
        let mut in_flight: Vec<(Instant, usize, usize, Vec<u8>)> = Vec::new();
        for _ in 0..1_000_000 {
            for h in 0..self.hosts.len() {
                while let Some(f) = self.hosts[h].poll_transmit() {
                    if let Some((p, pi)) = self.peer(h, f.iface) {
                        in_flight.push((self.now + Duration::from_micros(10), p, pi, f.bytes.clone()));
                        self.log.push((h, p, f.bytes));
                    }
                }
            }
            let next_frame = in_flight.iter().map(|f| f.0).min();
            let next_timer = self.hosts.iter().filter_map(Host::poll_timeout).min();
            let Some(next) = [next_frame, next_timer].into_iter().flatten().min() else { break };
            if next > end {
                break;
            }
            self.now = next;
            if let Some(k) = in_flight.iter().position(|f| f.0 == next) {
                let (_, h, i, bytes) = in_flight.remove(k);
                self.hosts[h].receive(i, bytes, next);
            } else {
                for h in &mut self.hosts {
                    if h.poll_timeout().is_some_and(|t| t <= next) {
                        h.on_timeout(next);
                    }
                }
            }
        }
    }

    fn notes(&mut self, h: usize) -> Vec<String> {
        self.hosts[h].take_notes().into_iter().map(|n| n.text).collect()
    }
}

fn sock(s: &str) -> std::net::SocketAddr {
    s.parse().unwrap()
}

fn program<T: 'static>(h: &Host, pid: Pid) -> &T {
    h.program(pid).unwrap().as_any().downcast_ref::<T>().unwrap()
}

#[test]
fn udp_datagrams_after_arp() {
    let a = host("a", vec![iface("eth0", 1, "192.0.2.1/24", None, 1500)], None, false);
    let b = host("b", vec![iface("eth0", 2, "192.0.2.2/24", None, 1500)], None, false);
    let mut t = Bench { hosts: vec![a, b], wires: vec![((0, 0), (1, 0))], now: Instant::ZERO, log: vec![] };
    let sink = t.hosts[1].spawn("sink", Box::new(UdpSink::new(9000, Listen::Ipv4, true)), Instant::ZERO);
    let msgs: Vec<String> = (1..=3).map(|i| format!("message {i}")).collect();
    let sender = t.hosts[0].spawn(
        "sender",
        Box::new(UdpSender::new(sock("192.0.2.2:9000"), msgs.clone(), Duration::from_millis(1), Duration::ZERO)),
        Instant::ZERO,
    );
    t.run(Duration::from_secs(1));
    assert_eq!(program::<UdpSink>(&t.hosts[1], sink).received, msgs);
    assert_eq!(program::<UdpSender>(&t.hosts[0], sender).replies, msgs, "the sink echoes");
    // The first frame is the ARP request, broadcast; the answer is unicast.
    assert_eq!(&t.log[0].2[..6], &[0xff; 6]);
    assert_eq!(&t.log[0].2[12..14], &[0x08, 0x06]);
    assert!(t.hosts[0].neighbors()[0].starts_with("192.0.2.2 dev eth0 lladdr 02:00:00:00:00:02"));
    let table = socket::format_port_table(&t.hosts[1].port_table());
    assert!(table.contains("udp   UNCONN 0      0      0.0.0.0:9000"), "{table}");
    assert!(table.contains("users:((\"sink\",pid=1000,fd=3))"), "{table}");
}

#[test]
fn bind_twice_is_eaddrinuse_and_port_zero_is_ephemeral() {
    let mut h = host("h", vec![iface("eth0", 1, "192.0.2.1/24", None, 1500)], None, false);
    let step = |at: u64, c| (Duration::from_millis(at), c);
    let script = |port| {
        Script::new(vec![
            step(0, ScriptCall::Socket { ty: SockType::Stream, v6: false }),
            step(1, ScriptCall::Bind { fd: None, addr: sock(&format!("0.0.0.0:{port}")) }),
        ])
    };
    let first = h.spawn("server-a", Box::new(script(3000)), Instant::ZERO);
    let second = h.spawn("server-b", Box::new(script(3000)), Instant::ZERO);
    let third = h.spawn("client", Box::new(script(0)), Instant::ZERO);
    let mut now = Instant::ZERO;
    while let Some(t) = h.poll_timeout() {
        now = t;
        h.on_timeout(now);
    }
    assert!(now < Instant::ZERO + Duration::from_secs(1));
    assert_eq!(program::<Script>(&h, first).results[1], Ok("0.0.0.0:3000".into()));
    assert_eq!(program::<Script>(&h, second).results[1], Err(SockError::AddrInUse));
    let eph = program::<Script>(&h, third).results[1].clone().unwrap();
    let port: u16 = eph.rsplit(':').next().unwrap().parse().unwrap();
    assert!(EPHEMERAL.contains(&port));
    let notes: Vec<String> = h.take_notes().into_iter().map(|n| n.text).collect();
    assert!(
        notes.contains(&"bind(3, 0.0.0.0:3000) = -1 EADDRINUSE (Address already in use)".to_string()),
        "{notes:#?}"
    );
}

/// a (192.0.2.10) — r1 — b (198.51.100.20), r1's far side with a 576-byte MTU.
fn routed() -> Bench {
    let a = host("a", vec![iface("eth0", 1, "192.0.2.10/24", None, 1500)], Some("192.0.2.1"), false);
    let r = host(
        "r1",
        vec![iface("eth0", 2, "192.0.2.1/24", None, 1500), iface("eth1", 3, "198.51.100.1/24", None, 576)],
        None,
        true,
    );
    let b = host("b", vec![iface("eth0", 4, "198.51.100.20/24", None, 576)], Some("198.51.100.1"), false);
    Bench { hosts: vec![a, r, b], wires: vec![((0, 0), (1, 0)), ((1, 1), (2, 0))], now: Instant::ZERO, log: vec![] }
}

#[test]
fn ping_through_a_router_decrements_ttl() {
    let mut t = routed();
    let pid = t.hosts[0].spawn(
        "ping",
        Box::new(Ping::new("198.51.100.20".parse().unwrap(), 4, Duration::from_secs(1), 56, None)),
        Instant::ZERO,
    );
    t.run(Duration::from_secs(10));
    let p = program::<Ping>(&t.hosts[0], pid);
    assert_eq!(p.replies(), 4, "{:?}", p.results);
    // The request left a with TTL 64 and reached b with 63.
    let at_b = t.log.iter().find(|(from, to, f)| *from == 1 && *to == 2 && f[12..14] == [8, 0] && f[23] == 1).unwrap();
    assert_eq!(at_b.2[14 + 8], 63);
    assert_eq!(t.hosts[1].stats().forwarded, 8);
    let notes = t.notes(0);
    assert!(notes.iter().any(|n| n == "4 packets transmitted, 4 received, 0% packet loss"), "{notes:#?}");
}

#[test]
fn ttl_1_gets_time_exceeded_and_an_unused_address_host_unreachable() {
    let mut t = routed();
    let ttl1 = t.hosts[0].spawn(
        "ping",
        Box::new(Ping::new("198.51.100.20".parse().unwrap(), 1, Duration::from_secs(1), 56, Some(1))),
        Instant::ZERO,
    );
    let nobody = t.hosts[0].spawn(
        "ping",
        Box::new(Ping::new("198.51.100.99".parse().unwrap(), 1, Duration::from_secs(1), 56, None)),
        Instant::ZERO,
    );
    t.run(Duration::from_secs(10));
    let router: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(
        program::<Ping>(&t.hosts[0], ttl1).results,
        vec![PingResult::Error { seq: 1, from: router, text: "Time to live exceeded".into() }]
    );
    assert_eq!(
        program::<Ping>(&t.hosts[0], nobody).results,
        vec![PingResult::Error { seq: 1, from: router, text: "Destination Host Unreachable".into() }]
    );
    // Three ARP requests from the router for the unused address, one second apart.
    let asks = t
        .log
        .iter()
        .filter(|(from, _, f)| *from == 1 && f[12..14] == [8, 6] && f[38..42] == [198, 51, 100, 99])
        .count();
    assert_eq!(asks, 3);
}

#[test]
fn the_router_fragments_for_the_smaller_mtu_and_b_reassembles() {
    let mut t = routed();
    let big = "x".repeat(1400);
    let sink = t.hosts[2].spawn("sink", Box::new(UdpSink::new(9000, Listen::Ipv4, false)), Instant::ZERO);
    t.hosts[0].spawn(
        "sender",
        Box::new(UdpSender::new(sock("198.51.100.20:9000"), vec![big.clone()], Duration::ZERO, Duration::ZERO)),
        Instant::ZERO,
    );
    t.run(Duration::from_secs(5));
    assert_eq!(program::<UdpSink>(&t.hosts[2], sink).received, vec![big]);
    let fragments = t.log.iter().filter(|(from, to, f)| *from == 1 && *to == 2 && f[12..14] == [8, 0]).count();
    assert_eq!(fragments, 3, "1428 bytes of UDP in 552-byte pieces");
}

#[test]
fn udp_to_a_closed_port_is_refused() {
    let a = host("a", vec![iface("eth0", 1, "192.0.2.1/24", None, 1500)], None, false);
    let b = host("b", vec![iface("eth0", 2, "192.0.2.2/24", None, 1500)], None, false);
    let mut t = Bench { hosts: vec![a, b], wires: vec![((0, 0), (1, 0))], now: Instant::ZERO, log: vec![] };
    let step = |ms: u64, c| (Duration::from_millis(ms), c);
    let pid = t.hosts[0].spawn(
        "client",
        Box::new(Script::new(vec![
            step(0, ScriptCall::Socket { ty: SockType::Dgram, v6: false }),
            step(1, ScriptCall::Connect { fd: None, to: sock("192.0.2.2:4444") }),
            step(2, ScriptCall::Send { fd: None, data: b"hello?".to_vec() }),
            step(100, ScriptCall::Recv { fd: None }),
        ])),
        Instant::ZERO,
    );
    t.run(Duration::from_secs(1));
    assert_eq!(program::<Script>(&t.hosts[0], pid).results[3], Err(SockError::ConnRefused));
    assert_eq!(t.hosts[1].stats().drops.get("no socket"), Some(&1));
}

#[test]
fn ping6_after_neighbor_discovery() {
    let a = host("a", vec![iface("eth0", 1, "192.0.2.1/24", Some("2001:db8::1/64"), 1500)], None, false);
    let b = host("b", vec![iface("eth0", 2, "192.0.2.2/24", Some("2001:db8::2/64"), 1500)], None, false);
    let mut t = Bench { hosts: vec![a, b], wires: vec![((0, 0), (1, 0))], now: Instant::ZERO, log: vec![] };
    let pid = t.hosts[0].spawn(
        "ping",
        Box::new(Ping::new("2001:db8::2".parse().unwrap(), 2, Duration::from_secs(1), 56, None)),
        Instant::ZERO,
    );
    t.run(Duration::from_secs(5));
    assert_eq!(program::<Ping>(&t.hosts[0], pid).replies(), 2);
    // The first frame is a neighbor solicitation to 33:33:ff:00:00:02, hop limit 255.
    let ns = &t.log[0].2;
    assert_eq!(&ns[..6], &[0x33, 0x33, 0xff, 0, 0, 2]);
    assert_eq!((ns[14 + 7], ns[14 + 40]), (255, 135));
    assert!(t.hosts[0].neighbors()[0].starts_with("2001:db8::2 dev eth0 lladdr 02:00:00:00:00:02"));
}

#[test]
fn tcp_transfer_then_close_and_a_refused_connect() {
    use crate::apps::bulk::{Payload, TcpSender, TcpSink};
    let a = host("a", vec![iface("eth0", 1, "192.0.2.1/24", None, 1500)], None, false);
    let b = host("b", vec![iface("eth0", 2, "192.0.2.2/24", None, 1500)], None, false);
    let mut t = Bench { hosts: vec![a, b], wires: vec![((0, 0), (1, 0))], now: Instant::ZERO, log: vec![] };
    let sink = t.hosts[1].spawn("sink", Box::new(TcpSink::new(5001, Listen::Ipv4)), Instant::ZERO);
    let n = 200_000;
    let sender = t.hosts[0].spawn(
        "sender",
        Box::new(TcpSender::new(sock("192.0.2.2:5001"), Payload::Bytes(n), Duration::ZERO, Duration::ZERO)),
        Instant::ZERO,
    );
    let step = |ms: u64, c| (Duration::from_millis(ms), c);
    let refused = t.hosts[0].spawn(
        "client",
        Box::new(Script::new(vec![
            step(0, ScriptCall::Socket { ty: SockType::Stream, v6: false }),
            step(1, ScriptCall::Connect { fd: None, to: sock("192.0.2.2:7") }),
            step(500, ScriptCall::Recv { fd: None }),
        ])),
        Instant::ZERO,
    );
    t.run(Duration::from_secs(5));
    let got = &program::<TcpSink>(&t.hosts[1], sink).data;
    assert_eq!(got.len(), n);
    assert!(got.iter().enumerate().all(|(i, &b)| b == crate::apps::bulk::pattern(i)));
    assert_eq!(program::<TcpSink>(&t.hosts[1], sink).finished, 1);
    assert!(program::<TcpSender>(&t.hosts[0], sender).done);
    assert_eq!(program::<Script>(&t.hosts[0], refused).results[2], Err(SockError::ConnRefused));
    // The active closer waits in TIME-WAIT (2 MSL = 60 s), held by no process.
    let table = socket::format_port_table(&t.hosts[0].port_table());
    assert!(table.contains("TIME-WAIT"), "{table}");
    let table = socket::format_port_table(&t.hosts[1].port_table());
    assert!(table.contains("tcp   LISTEN 0      16     0.0.0.0:5001"), "{table}");
}

/// The listen queue (RFC 9293 §3.10.7.2, Linux's backlog): with backlog 1, two connections wait
/// to be accepted and a third SYN is dropped; closing the listener resets those waiting, and the
/// port is free to bind again at once.
#[test]
fn a_full_listen_queue_drops_syns_and_closing_the_listener_resets_the_waiting() {
    let a = host("a", vec![iface("eth0", 1, "192.0.2.1/24", None, 1500)], None, false);
    let b = host("b", vec![iface("eth0", 2, "192.0.2.2/24", None, 1500)], None, false);
    let mut t = Bench { hosts: vec![a, b], wires: vec![((0, 0), (1, 0))], now: Instant::ZERO, log: vec![] };
    let step = |ms: u64, c| (Duration::from_millis(ms), c);
    let server = t.hosts[1].spawn(
        "server",
        Box::new(Script::new(vec![
            step(0, ScriptCall::Socket { ty: SockType::Stream, v6: false }),
            step(0, ScriptCall::Bind { fd: None, addr: sock("0.0.0.0:4000") }),
            step(0, ScriptCall::Listen { fd: None, backlog: 1 }),
            step(2000, ScriptCall::Close { fd: Some(3) }),
            step(2100, ScriptCall::Socket { ty: SockType::Stream, v6: false }),
            step(2100, ScriptCall::Bind { fd: None, addr: sock("0.0.0.0:4000") }),
        ])),
        Instant::ZERO,
    );
    let clients: Vec<Pid> = (1..=3)
        .map(|k| {
            t.hosts[0].spawn(
                &format!("client{k}"),
                Box::new(Script::new(vec![
                    step(100 * k, ScriptCall::Socket { ty: SockType::Stream, v6: false }),
                    step(100 * k, ScriptCall::Connect { fd: None, to: sock("192.0.2.2:4000") }),
                    step(5000, ScriptCall::Recv { fd: None }),
                ])),
                Instant::ZERO,
            )
        })
        .collect();
    t.run(Duration::from_secs(6));
    let results = |pid| program::<Script>(&t.hosts[0], pid).results.clone();
    assert_eq!(results(clients[0])[2], Err(SockError::ConnReset));
    assert_eq!(results(clients[1])[2], Err(SockError::ConnReset));
    assert_eq!(results(clients[2])[2], Err(SockError::ConnRefused));
    assert_eq!(t.hosts[1].stats().drops.get("listen queue full"), Some(&2), "{:?}", t.hosts[1].stats().drops);
    assert_eq!(program::<Script>(&t.hosts[1], server).results[5], Ok("0.0.0.0:4000".into()));
}
