//! Scenarios: a network, the programs that run on it and a timed script, written as TOML.
//!
//! [`load`] (a file) and [`parse`] (text) turn a scenario into a [`Scenario`]: plain data, every
//! name resolved to an index, every address, duration and rate parsed and checked, defaults filled
//! in. Nothing here simulates: the world builder reads a `Scenario` and makes hosts, links and
//! switches from it. A mistake is a [`ScenarioError`] naming the file, the line and the field:
//!
//! ```text
//! fixtures/scenarios/x.toml:14: link[2].b: unknown device "sw9" (devices: server, alice, bob, sw1)
//! x.toml:7: host "alice".ipv4: "192.0.2.300/24" is not an IP address with a prefix (like 192.0.2.10/24)
//! ```
//!
//! Things that are allowed but probably not meant (an interface no link reaches, an address
//! outside the documentation ranges, a say after the end of the run) are [`Scenario::warnings`].
//!
//! # The format
//!
//! `fixtures/scenarios/README.md` has the same reference with a full annotated example; the files
//! beside it are working scenarios. Keys are lower case; every table refuses keys it does not know,
//! naming the ones it does. Arrays are 0-based in messages (`link[0]` is the first `[[link]]`).
//!
//! **Top level**: `name` (required), `description`, `seed` (default [`DEFAULT_SEED`]; the CLI's
//! `--seed` overrides it), `until` (default [`DEFAULT_UNTIL`]; `--until` overrides it).
//!
//! **Values**:
//! - durations are strings: a decimal number and `ns`, `us`/`µs`, `ms`, `s`, `m` (minutes) or `h`
//!   ("250ms", "1.5s"); exact to the nanosecond.
//! - rates are bits per second: "100Mbit/s", "10Mbps", "1Gbit/s", "56kbit/s", "10M", or an integer.
//! - probabilities are numbers from 0 to 1, or strings like "10%".
//! - addresses are literals: `"192.0.2.10/24"` (with prefix) for interfaces, `"192.0.2.10:3000"` or
//!   `"[2001:db8::10]:3000"` for endpoints. Any address is accepted; one outside the documentation
//!   ranges (RFC 5737, RFC 3849, RFC 9637) gets a warning, since pcaps get shared.
//! - names of devices and interfaces: `a-z`, `0-9`, `-` (RFC 1123 host name labels), unique across
//!   hosts, routers and switches.
//!
//! **`[[switch]]`**: `name`, `ports` (default: the highest port a link uses), `ageing` (default
//! 300 s, IEEE 802.1D §7.9.2), `table_limit` (MAC table entries, default [`DEFAULT_TABLE_LIMIT`]).
//!
//! **`[[host]]` and `[[router]]`** (a router forwards between its interfaces): `name`; either the
//! short form for one interface `eth0` (`ipv4`, `ipv6`, `mac`, `mtu` on the host itself) or one
//! `[[host.interface]]` per interface (`name`, `ipv4`, `ipv6`, `mac`, `mtu`); `gateway` (an IPv4
//! default route), `gateway6` (IPv6), `[[host.route]]` (`to` = a prefix, `via` = a next hop). A
//! gateway or next hop must lie in one of the interfaces' subnets. The MAC defaults to
//! `02:00:DD:DD:DD:II`, locally administered (IEEE 802 §8.3), from the device's and the
//! interface's position; the MTU to 1500 (at least 68 for IPv4, RFC 791; 1280 with IPv6, RFC 8200
//! §5; at most 1500, Ethernet's payload).
//!
//! **`[[link]]`**: `a`, `b` name the ends: `"server"` (its only or next unlinked interface, or a
//! switch's next free port), `"r1:eth1"`, `"sw1:3"` (switch ports count from 1). `bandwidth`
//! (default 100 Mbit/s), `delay` (propagation, default 500 ns, about 100 m of cable), `mtu`
//! (default: the smaller of the ends' MTUs; no larger than either), `queue` (frames waiting to be
//! sent, default 100), `loss`, `ber` (per bit on the wire), `duplicate`, `reorder` (default 0),
//! `line_code` (`nrz-l`, `nrzi`, `manchester`, `4b5b-nrzi`, `4b5b-mlt3`; default by rate: up to
//! 10 Mbit/s Manchester as 10BASE-T, up to 100 Mbit/s 4B/5B + MLT-3 as 100BASE-TX, above NRZ-L).
//!
//! **`[[process]]`**: `host` (a host or router), `program` (see [`Program`]), `name` (default: the
//! program), `start` (default "0s"), and the program's own options, listed in [`Program`]'s
//! variants. Script processes are driven by **`[[script]]`** lines: `at`, `process` =
//! `"host/name"`, `call` and the call's options (see [`Call`]). Script lines may come in any order;
//! they are sorted by time, stably.

mod load;
pub mod units;

#[cfg(test)]
mod tests;

pub use load::{load, parse, parse_with_base};
pub use units::Cidr;

use crate::addr::MacAddr;
use crate::layers::l1_physical::{BitRate, LineCode};
use crate::layers::l7_application::dns::RrType;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The seed when a scenario names none.
pub const DEFAULT_SEED: u64 = 1;
/// How long a run lasts when the scenario names no `until`.
pub const DEFAULT_UNTIL: Duration = Duration::from_secs(10);
/// Interface and link MTU when none is given: Ethernet's payload (IEEE 802.3 §3.2.7).
pub const DEFAULT_MTU: u16 = 1500;
/// The largest MTU allowed: Ethernet II without jumbo frames.
pub const MAX_MTU: u16 = 1500;
/// The smallest MTU for IPv4: every host must take a 68-octet datagram unfragmented (RFC 791 §3.2).
pub const MIN_MTU_IPV4: u16 = 68;
/// The smallest MTU for IPv6 (RFC 8200 §5).
pub const MIN_MTU_IPV6: u16 = 1280;
/// A link's bandwidth when none is given.
pub const DEFAULT_BANDWIDTH: BitRate = BitRate(100_000_000);
/// A link's propagation delay when none is given: about 100 m of twisted pair (signals travel at
/// roughly two thirds of the speed of light).
pub const DEFAULT_DELAY: Duration = Duration::from_nanos(500);
/// Frames that may wait at each end of a link when no `queue` is given.
pub const DEFAULT_QUEUE: usize = 100;
/// A switch's MAC table ageing time when none is given (IEEE 802.1D-2004 §7.9.2, Table 7-5).
pub const DEFAULT_AGEING: Duration = Duration::from_secs(300);
/// A switch's MAC table size when none is given.
pub const DEFAULT_TABLE_LIMIT: usize = 8192;
/// DNS records' TTL when none is given, in seconds.
pub const DEFAULT_DNS_TTL: u32 = 300;
/// The pause between messages of a tcp-sender / udp-sender when none is given.
pub const DEFAULT_SEND_INTERVAL: Duration = Duration::from_millis(10);
/// A `listen` call's backlog when none is given (the classic `listen(fd, 5)`).
pub const DEFAULT_BACKLOG: u32 = 5;
/// The most bytes a `recv` / `recvfrom` asks for when no `max` is given.
pub const DEFAULT_RECV_MAX: usize = 4096;

/// The line code a link gets when none is given: what Ethernet uses at that rate.
pub fn default_line_code(rate: BitRate) -> LineCode {
    match rate.bps() {
        0..=10_000_000 => LineCode::Manchester,
        10_000_001..=100_000_000 => LineCode::Mlt3,
        _ => LineCode::NrzL,
    }
}

/// A loaded, checked scenario: plain data for the world builder.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it came from, as given to [`load`] / [`parse`] (used in messages).
    pub file: String,
    /// `name`.
    pub name: String,
    /// `description`, or empty.
    pub description: String,
    /// `seed`, or [`DEFAULT_SEED`].
    pub seed: u64,
    /// `until`, or [`DEFAULT_UNTIL`].
    pub until: Duration,
    /// Hosts, routers and switches, in the order they appear in the file; a [`DeviceId`] indexes it.
    pub devices: Vec<Device>,
    /// The links, in file order.
    pub links: Vec<Link>,
    /// The processes, in file order; a [`ProcessId`] indexes it.
    pub processes: Vec<Process>,
    /// The script lines, sorted by `at` (stably: lines at the same time keep the file's order).
    pub script: Vec<ScriptStep>,
    /// Things that load but are probably not meant.
    pub warnings: Vec<Diagnostic>,
}

impl Scenario {
    /// The device called `name`.
    pub fn device_id(&self, name: &str) -> Option<DeviceId> {
        self.devices.iter().position(|d| d.name == name).map(DeviceId)
    }

    /// The device with this id.
    pub fn device(&self, id: DeviceId) -> Option<&Device> {
        self.devices.get(id.0)
    }

    /// Hosts and routers with their ids.
    pub fn nodes(&self) -> impl Iterator<Item = (DeviceId, &Device, &Node)> {
        self.devices.iter().enumerate().filter_map(|(i, d)| d.node().map(|n| (DeviceId(i), d, n)))
    }

    /// Switches with their ids.
    pub fn switches(&self) -> impl Iterator<Item = (DeviceId, &Device, &SwitchSpec)> {
        self.devices.iter().enumerate().filter_map(|(i, d)| match &d.kind {
            DeviceKind::Switch(s) => Some((DeviceId(i), d, s)),
            _ => None,
        })
    }

    /// The processes on one host, with their ids, in file order.
    pub fn processes_on(&self, host: DeviceId) -> impl Iterator<Item = (ProcessId, &Process)> {
        self.processes.iter().enumerate().filter(move |(_, p)| p.host == host).map(|(i, p)| (ProcessId(i), p))
    }

    /// The link attached to a device's port (an interface index or a switch port index), if any.
    pub fn link_at(&self, device: DeviceId, port: usize) -> Option<(usize, &Link)> {
        self.links.iter().enumerate().find(|(_, l)| [&l.a, &l.b].iter().any(|e| e.device == device && e.port == port))
    }
}

/// An index into [`Scenario::devices`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub usize);

/// An index into [`Scenario::processes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessId(pub usize);

/// A host, router or switch.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Its name, unique in the scenario.
    pub name: String,
    /// The line of its `[[host]]` / `[[router]]` / `[[switch]]` header.
    pub line: usize,
    /// What it is.
    pub kind: DeviceKind,
}

impl Device {
    /// The host or router inside, if it is one.
    pub fn node(&self) -> Option<&Node> {
        match &self.kind {
            DeviceKind::Host(n) | DeviceKind::Router(n) => Some(n),
            DeviceKind::Switch(_) => None,
        }
    }

    /// True for a router (a node that forwards).
    pub fn is_router(&self) -> bool {
        matches!(self.kind, DeviceKind::Router(_))
    }

    /// "host", "router" or "switch".
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            DeviceKind::Host(_) => "host",
            DeviceKind::Router(_) => "router",
            DeviceKind::Switch(_) => "switch",
        }
    }
}

/// What a device is.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceKind {
    /// An end host: it does not forward packets that are not for it (RFC 1122 §3.3.4.2).
    Host(Node),
    /// A router: it forwards between its interfaces, decrementing the IPv4 TTL / IPv6 hop limit and
    /// sending ICMP errors (RFC 1812).
    Router(Node),
    /// An IEEE 802.1D learning bridge.
    Switch(SwitchSpec),
}

/// A host or router: interfaces and routes.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Its interfaces, in file order (the short form makes one, `eth0`). Link ends index it.
    pub interfaces: Vec<Interface>,
    /// The IPv4 default gateway; it lies in one interface's subnet.
    pub gateway: Option<Ipv4Addr>,
    /// The IPv6 default gateway; it lies in one interface's subnet.
    pub gateway6: Option<Ipv6Addr>,
    /// Static routes, in file order.
    pub routes: Vec<Route>,
}

impl Node {
    /// The interface called `name`.
    pub fn interface(&self, name: &str) -> Option<(usize, &Interface)> {
        self.interfaces.iter().enumerate().find(|(_, i)| i.name == name)
    }
}

/// One network interface of a host or router.
#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    /// Its name (`eth0` in the short form), unique on the device.
    pub name: String,
    /// Its MAC address (given, or derived: see the module docs).
    pub mac: MacAddr,
    /// Its IPv4 address and subnet.
    pub ipv4: Option<Cidr>,
    /// Its IPv6 address and subnet.
    pub ipv6: Option<Cidr>,
    /// Its MTU.
    pub mtu: u16,
}

/// A static route: packets for `to` go to the next hop `via`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destination prefix (host bits cleared: `198.51.100.0/24`).
    pub to: Cidr,
    /// The next hop, of the same family, in one of the node's subnets.
    pub via: IpAddr,
}

/// A switch.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchSpec {
    /// How many ports it has (numbered 1 to `ports` in the file; link ends hold the 0-based index).
    pub ports: usize,
    /// How long a MAC table entry lives with no frame from that source.
    pub ageing: Duration,
    /// The most MAC table entries.
    pub table_limit: usize,
}

/// A cable between two device ports.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// One end.
    pub a: LinkEnd,
    /// The other end.
    pub b: LinkEnd,
    /// Bit rate.
    pub bandwidth: BitRate,
    /// Propagation delay.
    pub delay: Duration,
    /// The largest IP packet the link carries.
    pub mtu: u16,
    /// Frames that may wait at each sending end.
    pub queue: usize,
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a bit on the wire is flipped.
    pub ber: f64,
    /// Probability that a frame arrives twice.
    pub duplicate: f64,
    /// Probability that a frame is held back behind later ones.
    pub reorder: f64,
    /// The L1 line code.
    pub line_code: LineCode,
    /// The line of its `[[link]]` header.
    pub line: usize,
}

/// One end of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEnd {
    /// The device.
    pub device: DeviceId,
    /// On a host or router, the index into [`Node::interfaces`]; on a switch, the 0-based port
    /// index (the file's port 1 is index 0).
    pub port: usize,
    /// How the end prints: `server:eth0`, `sw1:3` (1-based port number).
    pub label: String,
}

/// A program run on a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    /// The host (or router) it runs on.
    pub host: DeviceId,
    /// Its name, as the port table shows it (`ss -p`); default the program's name.
    pub name: String,
    /// When it starts; hosts give PIDs in order of start.
    pub start: Duration,
    /// The program and its options.
    pub program: Program,
    /// The line of its `[[process]]` header.
    pub line: usize,
}

/// The built-in programs, with their options (the keys of a `[[process]]` table).
#[derive(Debug, Clone, PartialEq)]
pub enum Program {
    /// `chat-server`: the chat room (`crate::layers::l7_application::chat`) on TCP `port`
    /// (default 3000); relays each message to every other client.
    ChatServer {
        /// `port`.
        port: u16,
    },
    /// `chat-client`: connects to `server` (`IP` or `IP:port`, default port 3000), sends
    /// `JOIN nick`, a `MSG` for each `say`, and `LEAVE` at `leave_at` (then closes).
    ChatClient {
        /// `server`.
        server: SocketAddr,
        /// `nick` (default: the host's name).
        nick: String,
        /// `[[process.say]]` (`at`, `text`) or `say = [{ at = …, text = … }]`, sorted by time.
        says: Vec<Say>,
        /// `leave_at`: when to send `LEAVE` and close; never when absent.
        leave_at: Option<Duration>,
    },
    /// `http-server`: serves `files` on TCP `port` (default 80).
    HttpServer {
        /// `port`.
        port: u16,
        /// `[process.files]`: `"/path" = "content"` or `"/path" = { file = "relative/path" }`
        /// (read relative to the scenario file).
        files: BTreeMap<String, Vec<u8>>,
    },
    /// `http-get`: one GET of `url`.
    HttpGet {
        /// `url` = `http://HOST[:PORT]/PATH`.
        url: HttpUrl,
        /// `resolver`: the DNS server that resolves a name in the URL (required then).
        resolver: Option<IpAddr>,
    },
    /// `dns-server`: answers from `records` on UDP `port` (default 53).
    DnsServer {
        /// `port`.
        port: u16,
        /// `[[process.record]]`: `name`, `type` (A, AAAA, CNAME), `value`, `ttl` (default 300).
        records: Vec<DnsRecord>,
    },
    /// `dns-query`: asks `server` (`IP`, default port 53) for `query` of `type` (default A).
    DnsQuery {
        /// `server`.
        server: SocketAddr,
        /// `query`: the name asked.
        query: String,
        /// `type`.
        qtype: RrType,
    },
    /// `ping`: ICMP / ICMPv6 echo requests to `target`.
    Ping {
        /// `target`: an IP literal.
        target: IpAddr,
        /// `count` (default 4).
        count: u32,
        /// `interval` (default 1 s).
        interval: Duration,
        /// `size`: ICMP data bytes (default 56, as ping's `-s`).
        size: usize,
        /// `ttl`: IPv4 TTL / IPv6 hop limit (default 64).
        ttl: u8,
    },
    /// `udp-echo`: sends every datagram on UDP `port` back to its sender (RFC 862).
    UdpEcho {
        /// `port` (default 7, RFC 862).
        port: u16,
    },
    /// `tcp-sink`: accepts connections on TCP `port` and reads everything (RFC 863's discard).
    TcpSink {
        /// `port` (default 9, RFC 863).
        port: u16,
    },
    /// `udp-sink`: reads every datagram on UDP `port` (RFC 863's discard).
    UdpSink {
        /// `port` (default 9, RFC 863).
        port: u16,
    },
    /// `tcp-sender`: connects to `to` and sends the payload, then closes.
    TcpSender {
        /// `to`: `IP:port`.
        to: SocketAddr,
        /// `messages = [...]` or `bytes = N`.
        payload: Payload,
        /// `interval` between messages (default 10 ms).
        interval: Duration,
    },
    /// `udp-sender`: sends the payload to `to`, one datagram per message.
    UdpSender {
        /// `to`: `IP:port`.
        to: SocketAddr,
        /// `messages = [...]` or `bytes = N`.
        payload: Payload,
        /// `interval` between datagrams (default 10 ms).
        interval: Duration,
    },
    /// `script`: makes the socket calls of the `[[script]]` lines that name it; no options.
    Script,
}

impl Program {
    /// The names of the programs, as `program` takes them.
    pub const NAMES: [&'static str; 13] = [
        "chat-server",
        "chat-client",
        "http-server",
        "http-get",
        "dns-server",
        "dns-query",
        "ping",
        "udp-echo",
        "tcp-sink",
        "udp-sink",
        "tcp-sender",
        "udp-sender",
        "script",
    ];

    /// The program's name, as `program` takes it.
    pub fn name(&self) -> &'static str {
        match self {
            Program::ChatServer { .. } => "chat-server",
            Program::ChatClient { .. } => "chat-client",
            Program::HttpServer { .. } => "http-server",
            Program::HttpGet { .. } => "http-get",
            Program::DnsServer { .. } => "dns-server",
            Program::DnsQuery { .. } => "dns-query",
            Program::Ping { .. } => "ping",
            Program::UdpEcho { .. } => "udp-echo",
            Program::TcpSink { .. } => "tcp-sink",
            Program::UdpSink { .. } => "udp-sink",
            Program::TcpSender { .. } => "tcp-sender",
            Program::UdpSender { .. } => "udp-sender",
            Program::Script => "script",
        }
    }
}

/// What a sender sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Each string is one message (one `send` / one datagram).
    Messages(Vec<String>),
    /// This many bytes (a repeating pattern), written in MSS-sized (TCP) or MTU-sized (UDP) pieces.
    Bytes(u64),
}

/// One chat message a client says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    /// When (time since the start of the run, not of the process).
    pub at: Duration,
    /// The text (checked against the chat protocol's grammar).
    pub text: String,
}

/// An `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// The host part.
    pub host: UrlHost,
    /// The port (default 80).
    pub port: u16,
    /// The path, starting with `/` (query included).
    pub path: String,
}

/// The host part of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlHost {
    /// An IP literal (`[...]` for IPv6, RFC 3986 §3.2.2).
    Ip(IpAddr),
    /// A name, resolved through the process's `resolver`.
    Name(String),
}

/// One record a dns-server holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner name (`www.example.com`), without the root dot.
    pub name: String,
    /// The record's data, which says its type.
    pub data: RecordData,
    /// Its TTL in seconds.
    pub ttl: u32,
}

/// A record's data (RFC 1035 §3.3, §3.4.1; RFC 3596 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// `A`: an IPv4 address.
    A(Ipv4Addr),
    /// `AAAA`: an IPv6 address.
    Aaaa(Ipv6Addr),
    /// `CNAME`: the canonical name.
    Cname(String),
}

impl RecordData {
    /// The record's type.
    pub fn rr_type(&self) -> RrType {
        match self {
            RecordData::A(_) => RrType::A,
            RecordData::Aaaa(_) => RrType::Aaaa,
            RecordData::Cname(_) => RrType::Cname,
        }
    }
}

/// One `[[script]]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStep {
    /// When.
    pub at: Duration,
    /// The script process that makes the call.
    pub process: ProcessId,
    /// The call.
    pub call: Call,
    /// The line of its `[[script]]` header.
    pub line: usize,
}

/// A socket call. `fd` is the file descriptor it acts on; `None` means the process's most recent
/// socket (descriptors count from 3, after stdin, stdout and stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `socket`: `type` = `tcp` | `udp`, `family` = `ipv4` (default) | `ipv6`.
    Socket {
        /// `type`.
        kind: SocketType,
        /// `family`.
        family: Family,
    },
    /// `bind`: `addr` = `"0.0.0.0:3000"` (`":3000"` for short; port 0 = an ephemeral port).
    Bind {
        /// `fd`.
        fd: Option<u32>,
        /// `addr`.
        addr: SocketAddr,
    },
    /// `listen`: `backlog` (default 5).
    Listen {
        /// `fd`.
        fd: Option<u32>,
        /// `backlog`.
        backlog: u32,
    },
    /// `accept`: takes the next connection of a listening socket.
    Accept {
        /// `fd`.
        fd: Option<u32>,
    },
    /// `connect`: `to` = `"192.0.2.10:3000"`.
    Connect {
        /// `fd`.
        fd: Option<u32>,
        /// `to`.
        to: SocketAddr,
    },
    /// `send`: `text`.
    Send {
        /// `fd`.
        fd: Option<u32>,
        /// `text`.
        data: Vec<u8>,
    },
    /// `recv`: `max` bytes (default 4096).
    Recv {
        /// `fd`.
        fd: Option<u32>,
        /// `max`.
        max: usize,
    },
    /// `sendto`: `text` to `to`.
    SendTo {
        /// `fd`.
        fd: Option<u32>,
        /// `to`.
        to: SocketAddr,
        /// `text`.
        data: Vec<u8>,
    },
    /// `recvfrom`: `max` bytes (default 4096).
    RecvFrom {
        /// `fd`.
        fd: Option<u32>,
        /// `max`.
        max: usize,
    },
    /// `close`.
    Close {
        /// `fd`.
        fd: Option<u32>,
    },
}

impl Call {
    /// The call's name, as `call` takes it.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Socket { .. } => "socket",
            Call::Bind { .. } => "bind",
            Call::Listen { .. } => "listen",
            Call::Accept { .. } => "accept",
            Call::Connect { .. } => "connect",
            Call::Send { .. } => "send",
            Call::Recv { .. } => "recv",
            Call::SendTo { .. } => "sendto",
            Call::RecvFrom { .. } => "recvfrom",
            Call::Close { .. } => "close",
        }
    }
}

/// A socket's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketType {
    /// `SOCK_STREAM`.
    Tcp,
    /// `SOCK_DGRAM`.
    Udp,
}

/// A socket's address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `AF_INET`.
    Ipv4,
    /// `AF_INET6`.
    Ipv6,
}

/// A message about a scenario: where (file, line, field) and what. Errors and warnings both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given to [`load`] / [`parse`].
    pub file: String,
    /// The 1-based line, when the message is about a place in the file.
    pub line: Option<usize>,
    /// The field, like `link[2].b` or `host "alice".ipv4`; empty for the file as a whole.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// A suggestion, printed on a second line.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// `file:line: field: message`, and `  hint: …` on a second line when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// A scenario that cannot be loaded, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub Box<Diagnostic>);

impl ScenarioError {
    /// The file, line, field and message.
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.0
    }
}

impl From<ScenarioError> for crate::error::Error {
    /// A configuration error outside any layer, so the CLI prints it like every other error.
    fn from(e: ScenarioError) -> Self {
        crate::error::Error::config(None, e.to_string())
    }
}
