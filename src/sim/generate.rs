//! Scenarios made by program rather than by hand: a chat room of any size, for the tests (3 and
//! 50 clients, with and without loss) and the benchmark (1,000 clients). The generator writes
//! TOML text, and [`chat_room`] feeds it to the same loader as a file ([`scenario::parse`]), so a
//! generated room is checked and built exactly like `fixtures/scenarios/chat-room.toml`.
//! [`check_chat_room`] reads the programs after a run and says whether every message arrived.
//!
//! # The network
//!
//! A two-tier switched LAN, as a building wires one: access switches of `access_ports` ports
//! (48 by default) each take `access_ports − 1` clients on 100 Mbit/s copper and one 1 Gbit/s
//! uplink (their last port) to a core switch; the server hangs off core port 1 at 1 Gbit/s. One
//! subnet (one broadcast domain): every client's ARP request for the server is flooded to every
//! port, as on a real flat LAN. The server's link gets a transmit queue of two frames per client,
//! since it sends one relayed line to every other client at once.
//!
//! Addresses: up to 253 clients fit 192.0.2.0/24 (RFC 5737 §3, documentation; server `.1`,
//! clients from `.2`). A larger room does not fit any IPv4 documentation range, so it is numbered
//! from 198.18.0.0/15, the block set aside for benchmarking network devices (RFC 2544 Appendix
//! C.2.2, RFC 6890 §2.2.2), in the smallest prefix that holds it (1,000 clients: 198.18.0.0/22).
//! The loader warns about those addresses, as about any outside the documentation ranges.
//!
//! # The script
//!
//! Three phases, far enough apart that one ends before the next begins: clients join 1 ms apart;
//! after a settling time every client says its messages in rounds (one message per client per
//! round, clients 1 ms apart, so the server's relays of one message have left before the next
//! arrives); after another settling time the clients leave, 1 ms apart, and the run ends one
//! settling time later. The settling time is 1 s on perfect links and 300 s when frames are lost.
//! Loss makes TCP wait for its retransmission timer, which doubles at each loss of the same
//! segment (RFC 6298 §5.5), and an ACK lost after a retransmission inflates the next RTT sample
//! (the timestamp echoed is the original's, RFC 7323 §4.3) and so the RTO: in a 50-client room at
//! 5 % loss per link, a client's last lines were still being retransmitted a minute after they
//! were sent. A client that leaves before they arrive never reads them, so the room waits long
//! enough for that not to happen. Idle simulated time costs nothing.

use super::build::ProcessRef;
use super::scenario::units::format_duration;
use super::scenario::{self, Scenario};
use super::world::World;
use crate::apps::chat::{ChatClient, ChatServer};
use crate::error::{Error, Result};
use crate::host::Program;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Duration;

/// The chat server's TCP port (the seeds' chat room).
pub const CHAT_PORT: u16 = 3000;
/// The most clients numbered in 192.0.2.0/24: 254 hosts, less the server.
pub const MAX_DOCUMENTATION_CLIENTS: usize = 253;
/// The most clients numbered in 198.18.0.0/15: 2^17 − 2 hosts, less the server.
pub const MAX_CLIENTS: usize = (1 << 17) - 3;

/// What chat room to make.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRoomSpec {
    /// How many clients (at least 1).
    pub clients: usize,
    /// How many messages each client says.
    pub messages_each: usize,
    /// Probability that a frame is lost, on every link (0 to 1).
    pub loss: f64,
    /// Ports per access switch (at least 2): one uplink, the rest for clients.
    pub access_ports: usize,
    /// The scenario's seed.
    pub seed: u64,
}

impl ChatRoomSpec {
    /// `clients` clients saying `messages_each` messages each on perfect links, 48-port access
    /// switches, seed 1.
    pub fn new(clients: usize, messages_each: usize) -> ChatRoomSpec {
        ChatRoomSpec { clients, messages_each, loss: 0.0, access_ports: 48, seed: 1 }
    }

    /// The same room with `loss` on every link.
    pub fn with_loss(self, loss: f64) -> ChatRoomSpec {
        ChatRoomSpec { loss, ..self }
    }

    /// The time between phases (see the module's documentation).
    pub fn settle(&self) -> Duration {
        if self.loss > 0.0 {
            Duration::from_secs(300)
        } else {
            Duration::from_secs(1)
        }
    }

    /// Client `i`'s (from 0) host name and nick.
    pub fn nick(i: usize) -> String {
        format!("c{}", i + 1)
    }

    /// The text of message `k` (from 0) of client `i`.
    pub fn text(i: usize, k: usize) -> String {
        format!("message {} from {}", k + 1, Self::nick(i))
    }

    /// The access switches needed.
    pub fn access_switches(&self) -> usize {
        self.clients.div_ceil(self.access_ports.saturating_sub(1).max(1))
    }

    fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::config(None, format!("chat room: {m}")));
        if self.clients == 0 || self.clients > MAX_CLIENTS {
            return bad(format!("{} clients: give 1 to {MAX_CLIENTS}", self.clients));
        }
        if !(0.0..=1.0).contains(&self.loss) {
            return bad(format!("loss {} is not a probability in [0, 1]", self.loss));
        }
        if !(2..=4096).contains(&self.access_ports) {
            return bad(format!("{} ports per access switch: give 2 to 4096 (one is the uplink)", self.access_ports));
        }
        if self.access_switches() + 1 > 4096 {
            return bad(format!("{} access switches do not fit one core switch of 4096 ports", self.access_switches()));
        }
        Ok(())
    }

    /// The subnet: (network, prefix length). See the module's documentation.
    fn subnet(&self) -> (Ipv4Addr, u8) {
        if self.clients <= MAX_DOCUMENTATION_CLIENTS {
            return (Ipv4Addr::new(192, 0, 2, 0), 24);
        }
        // Hosts: the clients and the server, besides the network and broadcast addresses.
        let need = self.clients as u64 + 3;
        let bits = 64 - (need - 1).leading_zeros();
        (Ipv4Addr::new(198, 18, 0, 0), (32 - bits) as u8)
    }

    /// Host `n` of the subnet (the server is 1, client `i` is `i + 2`).
    fn host_addr(&self, n: usize) -> Ipv4Addr {
        let (net, _) = self.subnet();
        Ipv4Addr::from(u32::from(net) + n as u32)
    }

    /// When client `i` starts (and connects).
    fn start(&self, i: usize) -> Duration {
        Duration::from_millis(10) + GAP * i as u32
    }

    /// When the talking starts: every client has joined.
    fn talk_start(&self) -> Duration {
        self.start(self.clients) + self.settle()
    }

    /// One round of messages: every client says one, 1 ms apart, then 100 ms of quiet.
    fn round(&self) -> Duration {
        GAP * self.clients as u32 + Duration::from_millis(100)
    }

    /// When client `i` says message `k`.
    pub fn say_at(&self, i: usize, k: usize) -> Duration {
        self.talk_start() + self.round() * k as u32 + GAP * i as u32
    }

    /// When client `i` leaves.
    fn leave_at(&self, i: usize) -> Duration {
        self.talk_start() + self.round() * self.messages_each as u32 + self.settle() + GAP * i as u32
    }

    /// When the run ends.
    pub fn until(&self) -> Duration {
        self.leave_at(self.clients) + self.settle()
    }
}

/// The time between one client's step and the next's.
const GAP: Duration = Duration::from_millis(1);

/// The chat room as scenario TOML text, as a person would write it.
pub fn chat_room_toml(spec: &ChatRoomSpec) -> Result<String> {
    spec.check()?;
    let (_, prefix) = spec.subnet();
    let per = spec.access_ports - 1;
    let server = spec.host_addr(1);
    let mut t = String::new();
    let w = &mut t;
    let _ = writeln!(w, "# Generated by osilab::sim::generate::chat_room: {spec:?}");
    let _ = writeln!(w, "name = \"chat-room-{}\"", spec.clients);
    let _ = writeln!(
        w,
        "description = \"A chat server and {} clients on {} access switch{} and a core switch\"",
        spec.clients,
        spec.access_switches(),
        if spec.access_switches() == 1 { "" } else { "es" }
    );
    let _ = writeln!(w, "seed = {}", spec.seed);
    let _ = writeln!(w, "until = \"{}\"\n", format_duration(spec.until()));
    let _ = writeln!(w, "[[switch]]\nname = \"core\"\nports = {}\n", spec.access_switches() + 1);
    for s in 1..=spec.access_switches() {
        let _ = writeln!(w, "[[switch]]\nname = \"acc{s}\"\nports = {}\n", spec.access_ports);
    }
    let _ = writeln!(w, "[[host]]\nname = \"server\"\nipv4 = \"{server}/{prefix}\"\n");
    for i in 0..spec.clients {
        let _ = writeln!(
            w,
            "[[host]]\nname = \"{}\"\nipv4 = \"{}/{prefix}\"\n",
            ChatRoomSpec::nick(i),
            spec.host_addr(i + 2)
        );
    }
    let loss = if spec.loss > 0.0 { format!("loss = {}\n", spec.loss) } else { String::new() };
    let queue = (2 * spec.clients).max(scenario::DEFAULT_QUEUE);
    let _ = writeln!(w, "[[link]]\na = \"server\"\nb = \"core:1\"\nbandwidth = \"1Gbit/s\"\nqueue = {queue}\n{loss}");
    for s in 1..=spec.access_switches() {
        let _ = writeln!(
            w,
            "[[link]]\na = \"acc{s}:{}\"\nb = \"core:{}\"\nbandwidth = \"1Gbit/s\"\n{loss}",
            spec.access_ports,
            s + 1
        );
    }
    for i in 0..spec.clients {
        let _ = writeln!(
            w,
            "[[link]]\na = \"{}\"\nb = \"acc{}:{}\"\n{loss}",
            ChatRoomSpec::nick(i),
            i / per + 1,
            i % per + 1
        );
    }
    let _ = writeln!(w, "[[process]]\nhost = \"server\"\nprogram = \"chat-server\"\nport = {CHAT_PORT}\n");
    for i in 0..spec.clients {
        let nick = ChatRoomSpec::nick(i);
        let _ =
            writeln!(w, "[[process]]\nhost = \"{nick}\"\nprogram = \"chat-client\"\nserver = \"{server}:{CHAT_PORT}\"");
        let _ = writeln!(w, "nick = \"{nick}\"\nstart = \"{}\"", format_duration(spec.start(i)));
        let _ = writeln!(w, "leave_at = \"{}\"\nsay = [", format_duration(spec.leave_at(i)));
        for k in 0..spec.messages_each {
            let _ = writeln!(
                w,
                "    {{ at = \"{}\", text = \"{}\" }},",
                format_duration(spec.say_at(i, k)),
                ChatRoomSpec::text(i, k)
            );
        }
        let _ = writeln!(w, "]\n");
    }
    Ok(t)
}

/// The chat room as a loaded scenario: [`chat_room_toml`] read by [`scenario::parse`].
pub fn chat_room(spec: &ChatRoomSpec) -> Result<Scenario> {
    let text = chat_room_toml(spec)?;
    Ok(scenario::parse(&text, &format!("chat-room-{}.toml", spec.clients))?)
}

/// What a finished chat room delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatRoomTally {
    /// Clients that ran.
    pub clients: usize,
    /// `MSG`s the clients sent.
    pub sent: usize,
    /// `FROM` lines the clients received.
    pub received: usize,
    /// Lines the server relayed (`FROM`, `JOINED` and `LEFT`, one per recipient).
    pub relayed: u64,
}

/// After a run of a chat room (any: generated or a file): every client heard every other
/// client's messages exactly once and in the order they were said, and the room finished:
/// every client said all `messages_each` messages without error, the server had no client left
/// connected (every `LEAVE` arrived), and no TCP connection anywhere still held unsent or unread
/// bytes. `Err` names the first thing that is not so.
pub fn check_chat_room(
    w: &World,
    refs: &[ProcessRef],
    messages_each: usize,
) -> std::result::Result<ChatRoomTally, String> {
    let mut clients: BTreeMap<String, &ChatClient> = BTreeMap::new();
    let mut servers: Vec<&ChatServer> = Vec::new();
    for r in refs {
        let h = w.host(r.node).ok_or_else(|| format!("{}: not a host", r.host))?;
        for (pid, name, _) in h.processes() {
            if name != r.name {
                continue;
            }
            let Some(any) = h.program(pid).map(|p| p.as_any()) else { continue };
            if let Some(c) = any.downcast_ref::<ChatClient>() {
                clients.insert(r.host.clone(), c);
            } else if let Some(s) = any.downcast_ref::<ChatServer>() {
                servers.push(s);
            }
        }
    }
    let [server] = servers.as_slice() else { return Err(format!("{} chat servers, not one", servers.len())) };
    let mut tally = ChatRoomTally { clients: clients.len(), sent: 0, received: 0, relayed: server.relayed };
    for (me, c) in &clients {
        if let Some(e) = &c.error {
            return Err(format!("{me}: {e}"));
        }
        if c.sent.len() != messages_each {
            return Err(format!("{me} said {} of its {messages_each} messages", c.sent.len()));
        }
        tally.sent += c.sent.len();
    }
    for (me, c) in &clients {
        let got = c.messages();
        let mut by_sender: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (nick, text) in &got {
            by_sender.entry(nick).or_default().push(text);
        }
        for (other, oc) in &clients {
            let heard = by_sender.remove(other.as_str()).unwrap_or_default();
            let expected: Vec<&str> =
                if other == me { Vec::new() } else { oc.sent.iter().map(String::as_str).collect() };
            if heard != expected {
                return Err(format!(
                    "{me} heard {} lines from {other}, expected {} in order: heard {heard:?}",
                    heard.len(),
                    expected.len()
                ));
            }
        }
        if let Some((nick, _)) = by_sender.into_iter().next() {
            return Err(format!("{me} heard from {nick:?}, who is no client"));
        }
        tally.received += got.len();
    }
    let report = server.report();
    if !report.first().is_some_and(|l| l.ends_with(" to 0 connected clients")) {
        return Err(format!("the server still has clients at the end: {report:?}"));
    }
    for n in 0..w.names().len() {
        let Some(h) = w.host(n) else { continue };
        for row in h.port_table() {
            // Bytes that reach a connection after its process closed it are nobody's to read.
            let unread = if row.process.is_empty() { 0 } else { row.recv_q };
            if row.netid == "tcp" && row.state != "LISTEN" && (unread > 0 || row.send_q > 0) {
                return Err(format!(
                    "{}: TCP {} → {} ({}) still holds {} bytes unread and {} unacknowledged",
                    h.name(),
                    row.local,
                    row.peer,
                    row.state,
                    unread,
                    row.send_q
                ));
            }
        }
    }
    Ok(tally)
}
