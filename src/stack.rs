//! The pipeline: a configured stack of seven layers. Sending runs 7→1 (`encapsulate`), receiving
//! runs 1→7 (`decapsulate`); each pass returns its [`Trace`].
//!
//! The stack only moves data units between the layers and notes where each record came from; all
//! protocol work is in [`crate::layers`]. Like the layers, it does no I/O and reads no clock.

use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layer::{Context, Data, Layer, LayerId, Pdu};
use crate::layers::l1_physical::{BitRate, LineCode, Physical, PhysicalConfig, Signal};
use crate::layers::l2_data_link::arp::{ArpPacket, ETHERTYPE_ARP};
use crate::layers::l2_data_link::{DataLink, DataLinkConfig, VlanTag, MTU as ETHERNET_MTU};
use crate::layers::l3_network::{EchoConfig, Network, NetworkConfig};
use crate::layers::l4_transport::{TcpParams, Transport, TransportConfig, TransportKind};
use crate::layers::l5_session::{Role, SessionConfig, SocketSession};
use crate::layers::l6_presentation::{Compression, Presentation, PresentationConfig, TextEncoding};
use crate::layers::l7_application::chat::{ChatApplication, ChatCommand, ChatConfig};
use crate::layers::l7_application::dns::{DnsApplication, DnsConfig, DnsKind};
use crate::layers::l7_application::http::{HttpApplication, HttpConfig, HttpKind};
use crate::layers::l7_application::RawApplication;
use crate::rng::Rng;
use crate::time::Instant;
use crate::trace::Trace;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One end of the dialogue: a station's MAC, a host's IP address and a process's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// The interface's MAC address.
    pub mac: MacAddr,
    /// The host's IP address.
    pub ip: IpAddr,
    /// The socket's port.
    pub port: u16,
}

/// Everything a stack needs, seen from one end. [`StackConfig::mirror`] gives the other end's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackConfig {
    /// TCP, UDP or ICMP echo.
    pub transport: TransportKind,
    /// This end.
    pub local: Endpoint,
    /// The other end.
    pub remote: Endpoint,
    /// An 802.1Q tag on every frame.
    pub vlan: Option<VlanTag>,
    /// The link MTU (largest IP packet).
    pub mtu: usize,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 "don't fragment"; `None` chooses as Linux does: set for TCP (path MTU discovery),
    /// clear for UDP and ICMP so that large datagrams are fragmented.
    pub dont_fragment: Option<bool>,
    /// The line code on the wire.
    pub line_code: LineCode,
    /// The bit rate on the wire.
    pub rate: BitRate,
    /// Probability of a flipped symbol on the wire.
    pub bit_error_rate: f64,
    /// Seed for every random choice (initial sequence numbers, IP identification, bit errors).
    pub seed: u64,
    /// The application (L7) and what it sends.
    pub app: App,
    /// The session model (L5).
    pub model: Model,
    /// The text encoding on the wire (L6).
    pub encoding: TextEncoding,
    /// The compression (L6).
    pub compression: Compression,
    /// A pre-shared 256-bit secret: encrypt at L6 (ChaCha20-Poly1305 in TLS 1.3 records). Shown
    /// in JSON only as the cipher it turns on, never as the key.
    #[serde(rename = "encryption", serialize_with = "ser_encryption")]
    pub key: Option<Key>,
}

/// A 256-bit secret. Its `Debug` says only that there is one, so no log line prints a key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Key(pub [u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

fn ser_encryption<S: serde::Serializer>(key: &Option<Key>, s: S) -> Result<S::Ok, S::Error> {
    key.map(|_| "chacha20-poly1305 (TLS 1.3 records)").serialize(s)
}

/// The application at L7 and what this end sends with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum App {
    /// The message bytes as given.
    Raw,
    /// The chat room's line protocol.
    Chat(ChatConfig),
    /// HTTP/1.1.
    Http(HttpConfig),
    /// DNS over UDP (the ID is drawn from the seed).
    Dns(DnsKind),
}

impl App {
    /// The name `--app` takes: raw, chat, http, dns.
    pub fn name(&self) -> &'static str {
        match self {
            App::Raw => "raw",
            App::Chat(_) => "chat",
            App::Http(_) => "http",
            App::Dns(_) => "dns",
        }
    }

    /// Whether the application's data is text, which L6 may re-encode: the chat room's lines and
    /// raw data. DNS messages are binary, and HTTP messages octets (RFC 9112 §2.2) whose body's
    /// charset is the application's to declare in Content-Type.
    fn is_text(&self) -> bool {
        matches!(self, App::Raw | App::Chat(_))
    }
}

/// How layers 5 and 6 are realised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// TCP/IP: layers 5–7 merge into the application; the socket does the session's work and L5
    /// adds no bytes.
    Tcpip,
}

impl Default for StackConfig {
    /// The documentation defaults: 192.0.2.1:51000 (02:00:00:00:00:01) → 192.0.2.2:3000
    /// (02:00:00:00:00:02) over TCP, MTU 1500, TTL 64, Manchester at 10 Mbit/s.
    fn default() -> Self {
        StackConfig {
            transport: TransportKind::Tcp,
            local: Endpoint {
                mac: MacAddr([0x02, 0, 0, 0, 0, 0x01]),
                ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                port: 51000,
            },
            remote: Endpoint {
                mac: MacAddr([0x02, 0, 0, 0, 0, 0x02]),
                ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
                port: 3000,
            },
            vlan: None,
            mtu: 1500,
            ttl: 64,
            dont_fragment: None,
            line_code: LineCode::Manchester,
            rate: BitRate(10_000_000),
            bit_error_rate: 0.0,
            seed: 1,
            app: App::Raw,
            model: Model::Tcpip,
            encoding: TextEncoding::Utf8,
            compression: Compression::None,
            key: None,
        }
    }
}

/// The documentation addresses for IPv6 (RFC 3849), used when the peer is IPv6.
pub const DOC_IPV6_LOCAL: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The IPv6 peer's default documentation address.
pub const DOC_IPV6_REMOTE: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

/// Per-connection numbers drawn from the seed, the same at both ends.
#[derive(Debug, Clone, Copy)]
struct Draws {
    /// Initial sequence numbers of the end that sends first and of its peer.
    isn_first: u32,
    isn_second: u32,
    ip_ident: u16,
    echo_id: u16,
    dns_id: u16,
    /// Stands in for a handshake's fresh randoms: binds L6's keys to this connection.
    conn_nonce: [u8; 16],
}

impl StackConfig {
    /// The same dialogue seen from the other end.
    pub fn mirror(&self) -> StackConfig {
        StackConfig { local: self.remote, remote: self.local, ..self.clone() }
    }

    fn draws(&self) -> Draws {
        let mut rng = Rng::new(self.seed);
        Draws {
            isn_first: rng.next_u32(),
            isn_second: rng.next_u32(),
            ip_ident: (rng.next_u32() >> 16) as u16,
            echo_id: (rng.next_u32() >> 16) as u16,
            dns_id: (rng.next_u32() >> 16) as u16,
            conn_nonce: {
                let mut n = [0u8; 16];
                n[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
                n[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
                n
            },
        }
    }

    /// The largest TCP payload in one segment: the MTU less the IP and TCP headers and the
    /// 12-byte timestamps option (RFC 9293 §3.7.1, RFC 7323 §3).
    pub fn tcp_payload_per_segment(&self) -> usize {
        let ip = if self.local.ip.is_ipv4() { 20 } else { 40 };
        self.mtu.saturating_sub(ip + 20 + 12)
    }

    fn dont_fragment(&self) -> bool {
        self.dont_fragment.unwrap_or(self.transport == TransportKind::Tcp)
    }

    /// Check what spans layers: each layer checks its own part when [`Stack::from_config`]
    /// builds it (families, MTU minimums, ports, TTL, VLAN, MACs, bit-error rate).
    pub fn validate(&self) -> Result<()> {
        if (self.local.ip, self.local.port) == (self.remote.ip, self.remote.port) {
            return Err(Error::config(
                Some(LayerId::Transport),
                format!("source and destination are the same endpoint ({}): a dialogue needs two", self.dialogue()),
            ));
        }
        if self.mtu > ETHERNET_MTU {
            return Err(Error::config(
                Some(LayerId::DataLink),
                format!("MTU {} is above Ethernet's {ETHERNET_MTU}-byte payload limit (IEEE 802.3 §3.2.7)", self.mtu),
            ));
        }
        if matches!(self.app, App::Dns(_)) && self.transport != TransportKind::Udp {
            return Err(Error::config(
                Some(LayerId::Application),
                "DNS is carried over UDP here (RFC 1035 §4.2.1); DNS over TCP's length framing (§4.2.2) is not built",
            ));
        }
        if self.dont_fragment == Some(true) && self.local.ip.is_ipv6() {
            return Err(Error::config(
                Some(LayerId::Network),
                "IPv6 has no \"don't fragment\" bit: its routers never fragment (RFC 8200 §5)",
            ));
        }
        Ok(())
    }

    /// The connection's identity for L6's key derivation, the same at both ends: a nonce drawn
    /// from the seed (standing in for a handshake's fresh randoms, RFC 8446 §4.1.2) and the two
    /// endpoints in a fixed order. Another seed or another dialogue gives other keys; the same
    /// seed and key give the same keystream, as a deterministic simulation must.
    fn connection_context(&self, nonce: &[u8; 16]) -> Vec<u8> {
        let mut ends = [self.endpoint_name(&self.local), self.endpoint_name(&self.remote)];
        ends.sort();
        let mut c = nonce.to_vec();
        c.extend_from_slice(format!("{} {}", ends[0], ends[1]).as_bytes());
        c
    }

    /// "192.0.2.1:51000" or "\[2001:db8::1\]:51000" (just the address for ICMP, which has no ports).
    pub fn endpoint_name(&self, e: &Endpoint) -> String {
        match (self.transport, e.ip) {
            (TransportKind::Icmp, ip) => ip.to_string(),
            (_, IpAddr::V4(a)) => format!("{a}:{}", e.port),
            (_, IpAddr::V6(a)) => format!("[{a}]:{}", e.port),
        }
    }

    /// The role of the end that sends `app`'s data: a client opens the dialogue (chat's
    /// JOIN/MSG/LEAVE, an HTTP request, a DNS query, raw data), a server answers in it (chat's
    /// FROM/JOINED/LEFT, an HTTP response, a DNS response). The same in a config and its mirror:
    /// the receiving end takes the other role.
    pub fn sender_role(&self) -> Role {
        let serves = match &self.app {
            App::Raw => false,
            App::Chat(c) => matches!(c.command, ChatCommand::From { .. } | ChatCommand::Joined | ChatCommand::Left),
            App::Http(h) => matches!(h.kind, HttpKind::Response { .. }),
            App::Dns(k) => *k == DnsKind::Response,
        };
        if serves {
            Role::Server
        } else {
            Role::Client
        }
    }

    /// "TCP 192.0.2.1:51000 → 192.0.2.2:3000": the dialogue's 5-tuple.
    pub fn dialogue(&self) -> String {
        format!("{} {} → {}", self.transport.name(), self.endpoint_name(&self.local), self.endpoint_name(&self.remote))
    }
}

/// A frame as it leaves L2 and the signal L1 made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct WireFrame {
    /// The Ethernet frame, FCS included.
    pub bytes: Vec<u8>,
    /// The line-coded signal on the medium.
    pub signal: Signal,
}

impl WireFrame {
    /// The frame without its 4-byte FCS, as pcap files hold Ethernet frames.
    pub fn without_fcs(&self) -> &[u8] {
        &self.bytes[..self.bytes.len().saturating_sub(4)]
    }
}

/// What a pass down the stack produced.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Every layer's records, 7→1.
    pub trace: Trace,
    /// The frames on the wire, in order.
    pub frames: Vec<WireFrame>,
}

/// What a pass up the stack produced.
#[derive(Debug, Clone)]
pub struct Received {
    /// Every layer's records, frame by frame, 1→7.
    pub trace: Trace,
    /// The bytes delivered to the application, in order.
    pub delivered: Vec<u8>,
    /// ARP packets received: L2 hands them to ARP rather than up to IP (RFC 826).
    pub arp: Vec<ArpPacket>,
    /// The first error, if a layer rejected a frame (the trace shows everything before it).
    pub error: Option<Error>,
}

/// Seven layers, ordered L7 (index 0) to L1 (index 6).
pub struct Stack {
    layers: Vec<Box<dyn Layer>>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.layers.iter().map(|l| l.id())).finish()
    }
}

impl Stack {
    /// A stack of the given layers, which must be L7, L6, …, L1 in that order.
    pub fn new(layers: Vec<Box<dyn Layer>>) -> Result<Self> {
        let ids: Vec<LayerId> = layers.iter().map(|l| l.id()).collect();
        if ids != LayerId::DOWN {
            return Err(Error::config(None, format!("a stack needs layers 7 to 1 in order, got {ids:?}")));
        }
        Ok(Stack { layers })
    }

    /// The stack for one end of a dialogue: the configured application, the presentation
    /// transforms, the session of the configured model, then TCP/UDP, IP, Ethernet and the line
    /// code.
    pub fn from_config(cfg: &StackConfig) -> Result<Self> {
        cfg.validate()?;
        let d = cfg.draws();
        // The end with the lower (address, port) takes the first ISN, its peer the second, so both
        // ends agree on both (`validate` refuses identical endpoints).
        let first = (cfg.local.ip, cfg.local.port) < (cfg.remote.ip, cfg.remote.port);
        let (isn_local, isn_remote) = if first { (d.isn_first, d.isn_second) } else { (d.isn_second, d.isn_first) };
        let tcp = TcpParams {
            snd_nxt: isn_local.wrapping_add(1),
            rcv_nxt: isn_remote.wrapping_add(1),
            window: 64240,
            mss: u16::try_from(cfg.tcp_payload_per_segment()).unwrap_or(u16::MAX),
            timestamps: true,
            ts_recent: 0,
        };
        let echo = (cfg.transport == TransportKind::Icmp).then_some(EchoConfig { id: d.echo_id, seq: 1 });
        let link = DataLinkConfig {
            local: cfg.local.mac,
            remote: cfg.remote.mac,
            vlan: cfg.vlan,
            promiscuous: false,
            capture: false,
        };
        link.validate()?;
        let phy =
            PhysicalConfig { code: cfg.line_code, rate: cfg.rate, bit_error_rate: cfg.bit_error_rate, seed: cfg.seed };
        phy.validate()?;
        let app: Box<dyn Layer> = match &cfg.app {
            App::Raw => Box::new(RawApplication),
            App::Chat(c) => Box::new(ChatApplication::new(c.clone())?),
            App::Http(h) => Box::new(HttpApplication::new(h.clone())?),
            App::Dns(kind) => Box::new(DnsApplication::new(DnsConfig { id: d.dns_id, kind: *kind })?),
        };
        let presentation = Presentation::new(PresentationConfig {
            text: cfg.app.is_text(),
            encoding: cfg.encoding,
            compression: cfg.compression,
            key: cfg.key.map(|k| k.0),
            context: cfg.connection_context(&d.conn_nonce),
            local: cfg.endpoint_name(&cfg.local),
            remote: cfg.endpoint_name(&cfg.remote),
        })?;
        // The session layer of the chosen model (the `osi` model's SPDUs will be a second arm).
        let session: Box<dyn Layer> = match cfg.model {
            Model::Tcpip => Box::new(SocketSession::new(SessionConfig {
                model: cfg.model,
                transport: cfg.transport,
                local: cfg.endpoint_name(&cfg.local),
                remote: cfg.endpoint_name(&cfg.remote),
                sender_role: cfg.sender_role(),
                ipv6: cfg.local.ip.is_ipv6(),
            })),
        };
        let layers: Vec<Box<dyn Layer>> = vec![
            app,
            Box::new(presentation),
            session,
            Box::new(Transport::new(TransportConfig {
                kind: cfg.transport,
                local_ip: cfg.local.ip,
                local_port: cfg.local.port,
                remote_ip: cfg.remote.ip,
                remote_port: cfg.remote.port,
                tcp,
                capture: false,
            })?),
            Box::new(Network::new(NetworkConfig {
                local: cfg.local.ip,
                remote: cfg.remote.ip,
                ttl: cfg.ttl,
                mtu: cfg.mtu,
                dont_fragment: cfg.dont_fragment(),
                ident: d.ip_ident,
                echo,
                promiscuous: false,
                capture: false,
            })?),
            Box::new(DataLink::new(link)),
            Box::new(Physical::new(phy)),
        ];
        Stack::new(layers)
    }

    /// Send `message` down the stack at `now`: 7→1, every layer's records in the trace, and the
    /// frames (with their signals) that go on the wire.
    pub fn encapsulate(&mut self, message: &[u8], now: Instant) -> Result<Sent> {
        self.encapsulate_from(LayerId::Application, Pdu::bytes(message.to_vec()), now)
    }

    /// Send a data unit down from layer `top` (inclusive) to the wire: how protocols that live
    /// below the application enter the stack (an ARP packet enters at L2, with its EtherType and
    /// broadcast destination in the meta).
    pub fn encapsulate_from(&mut self, top: LayerId, sdu: Pdu, now: Instant) -> Result<Sent> {
        let mut cx = Context::new(now);
        let mut pdus = vec![sdu];
        let mut frames = Vec::new();
        for layer in self.layers.iter_mut().filter(|l| l.id() <= top) {
            if layer.id() == LayerId::Physical {
                // The frames, as they are handed to L1 (whichever layer the pass started at).
                frames = pdus
                    .iter()
                    .map(|p| match &p.data {
                        Data::Bytes(b) => Ok(b.clone()),
                        Data::Signal(_) => Err(Error::config(Some(LayerId::Physical), "L1 was handed a signal")),
                    })
                    .collect::<Result<Vec<_>>>()?;
            }
            let mut below = Vec::with_capacity(pdus.len());
            for pdu in pdus {
                below.extend(layer.encapsulate(pdu, &mut cx)?);
            }
            pdus = below;
        }
        let signals = pdus.into_iter().map(|p| match p.data {
            Data::Signal(s) => Ok(s),
            Data::Bytes(_) => Err(Error::config(Some(LayerId::Physical), "L1 produced bytes, not a signal")),
        });
        let frames = frames
            .into_iter()
            .zip(signals)
            .map(|(bytes, signal)| Ok(WireFrame { bytes, signal: signal? }))
            .collect::<Result<Vec<_>>>()?;
        Ok(Sent { trace: cx.trace, frames })
    }

    /// Receive signals off the wire: each goes up 1→7 as far as it can (a fragment stops at L3
    /// until its datagram is complete). Stops at the first error, which is returned with the trace
    /// so far.
    pub fn decapsulate<I: IntoIterator<Item = Signal>>(&mut self, signals: I, now: Instant) -> Received {
        let mut cx = Context::new(now);
        let mut delivered = Vec::new();
        let mut arp = Vec::new();
        let mut error = None;
        // Layers that held data (a fragment, an out-of-order segment) when a frame stopped at them:
        // what they pass up next was put together from several frames.
        let mut holding = [false; 7];
        'frames: for (i, signal) in signals.into_iter().enumerate() {
            let mut pdu = Pdu { data: Data::Signal(signal), meta: Default::default() };
            let mut reassembled = false;
            for (k, layer) in self.layers.iter_mut().enumerate().rev() {
                let at = pdu.meta.offset;
                let first = cx.trace.records.len();
                let result = layer.decapsulate(pdu, &mut cx);
                for r in &mut cx.trace.records[first..] {
                    r.frame = Some(i + 1);
                    r.at = (!reassembled).then_some(at);
                }
                match result {
                    // RFC 826: an ARP packet is for the address-resolution module beside IP, not for IP.
                    Ok(Some(up)) if layer.id() == LayerId::DataLink && up.meta.ethertype == Some(ETHERTYPE_ARP) => {
                        let parsed = up.into_bytes(LayerId::DataLink).and_then(|(b, m)| ArpPacket::parse(&b, m.offset));
                        match parsed {
                            Ok(p) => arp.push(p),
                            Err(e) => {
                                error = Some(e);
                                break 'frames;
                            }
                        }
                        continue 'frames;
                    }
                    Ok(Some(up)) => {
                        // Data put together from several frames, or transformed (decrypted,
                        // decompressed), no longer sits at one place in this frame.
                        reassembled |= std::mem::take(&mut holding[k]) || up.meta.detached;
                        pdu = up;
                    }
                    Ok(None) => {
                        holding[k] |= layer.holding();
                        continue 'frames;
                    }
                    Err(mut e) => {
                        // An offset into data reassembled from several frames names no byte of this one.
                        if reassembled {
                            e.offset = None;
                        }
                        error = Some(e);
                        break 'frames;
                    }
                }
            }
            match pdu.data {
                Data::Bytes(b) => delivered.extend_from_slice(&b),
                Data::Signal(_) => {
                    error = Some(Error::config(Some(LayerId::Application), "a signal reached the application"));
                    break;
                }
            }
        }
        // The stream has ended: whatever a layer still holds can never be completed (a truncated
        // TLS record, half a chat line, missing fragments), bottom layer first.
        if error.is_none() {
            for layer in self.layers.iter_mut().rev() {
                let first = cx.trace.records.len();
                let result = layer.finish(&mut cx);
                for r in &mut cx.trace.records[first..] {
                    r.at = None;
                }
                if let Err(e) = result {
                    error = Some(Error { offset: None, ..e });
                    break;
                }
            }
        }
        Received { trace: cx.trace, delivered, arp, error }
    }
}

/// An ARP exchange before the message (RFC 826): the sender broadcasts "who has `<ip>`?", the
/// receiver's stack answers with its MAC, and the sender sends the message to that MAC.
#[derive(Debug, Clone)]
pub struct ArpExchange {
    /// The sender's request, down L2 → L1.
    pub request: Sent,
    /// The receiver taking the request up L1 → L2 → ARP.
    pub request_rx: Received,
    /// The receiver's reply, down L2 → L1.
    pub reply: Sent,
    /// The sender taking the reply up.
    pub reply_rx: Received,
    /// The MAC address the sender learned.
    pub resolved: MacAddr,
}

/// One message sent from one end of a dialogue and received at the other: what `osilab send`
/// shows.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The sender's configuration (the receiver's is its mirror).
    pub config: StackConfig,
    /// The message handed to the sender's application.
    pub message: Vec<u8>,
    /// The ARP exchange that resolved the receiver's MAC first, if asked for.
    pub arp: Option<ArpExchange>,
    /// The sender's pass down.
    pub sent: Sent,
    /// The receiver's pass up.
    pub received: Received,
}

/// When the last symbol of the last frame of `sent` leaves the wire.
fn end_of(sent: &Sent, cfg: &StackConfig) -> Instant {
    sent.frames.last().map_or(Instant::ZERO, |f| {
        f.signal.start + crate::layers::l1_physical::timing(cfg.line_code, cfg.rate, f.bytes.len()).duration
    })
}

impl Exchange {
    /// Build both ends from `config`, send `message` at time zero, and receive every frame.
    pub fn run(config: &StackConfig, message: &[u8]) -> Result<Exchange> {
        Exchange::run_with(config, message, false)
    }

    /// As [`Exchange::run`]; with `arp`, the sender first resolves the receiver's MAC address with
    /// an ARP request and reply (IPv4 only: IPv6 uses neighbor discovery).
    pub fn run_with(config: &StackConfig, message: &[u8], arp: bool) -> Result<Exchange> {
        // The sender first, so that a bad option is reported from the user's side of the dialogue.
        let mut sender = Stack::from_config(config)?;
        let mut receiver = Stack::from_config(&config.mirror())?;
        let (arp, start) = if arp {
            let x = Exchange::resolve(config, &mut receiver)?;
            let t = end_of(&x.reply, &config.mirror());
            (Some(x), t)
        } else {
            (None, Instant::ZERO)
        };
        // The sender's frames go to the MAC address ARP resolved (or the configured neighbour).
        if let Some(a) = &arp {
            sender = Stack::from_config(&StackConfig {
                remote: Endpoint { mac: a.resolved, ..config.remote },
                ..config.clone()
            })?;
        }
        let sent = sender.encapsulate(message, start)?;
        let received = receiver.decapsulate(sent.frames.iter().map(|f| f.signal.clone()), end_of(&sent, config));
        Ok(Exchange { config: config.clone(), message: message.to_vec(), arp, sent, received })
    }

    /// The ARP request from the sender and the reply from `receiver`'s host.
    fn resolve(config: &StackConfig, receiver: &mut Stack) -> Result<ArpExchange> {
        let (IpAddr::V4(ours), IpAddr::V4(theirs)) = (config.local.ip, config.remote.ip) else {
            return Err(Error::config(
                Some(LayerId::DataLink),
                "ARP resolves IPv4 addresses; IPv6 uses neighbor discovery (RFC 4861) instead",
            ));
        };
        let arp_pdu = |p: &ArpPacket, to: MacAddr| Pdu {
            data: Data::Bytes(p.emit()),
            meta: crate::layer::Meta { ethertype: Some(ETHERTYPE_ARP), dst_mac: Some(to), ..Default::default() },
        };
        // The sender does not know the receiver's MAC yet: its request goes to everyone.
        let mut sender = Stack::from_config(config)?;
        let ask = ArpPacket::request(config.local.mac, ours, theirs);
        let request = sender.encapsulate_from(LayerId::DataLink, arp_pdu(&ask, MacAddr::BROADCAST), Instant::ZERO)?;
        let arrival = end_of(&request, config);
        let request_rx = receiver.decapsulate(request.frames.iter().map(|f| f.signal.clone()), arrival);
        if let Some(e) = request_rx.error.clone() {
            return Err(e);
        }
        // The receiver answers a request for its own address, straight to the asker (RFC 826, "Packet Reception").
        let heard = request_rx.arp.first().cloned().ok_or_else(|| {
            Error::config(Some(LayerId::DataLink), "the ARP request did not reach the receiver's ARP module")
        })?;
        let peer = config.mirror();
        if heard.target_ip != theirs {
            return Err(Error::config(Some(LayerId::DataLink), format!("no host answers ARP for {}", heard.target_ip)));
        }
        let answer = ArpPacket::reply_to(&heard, peer.local.mac);
        let reply = receiver.encapsulate_from(LayerId::DataLink, arp_pdu(&answer, heard.sender_mac), arrival)?;
        let reply_rx = sender.decapsulate(reply.frames.iter().map(|f| f.signal.clone()), end_of(&reply, &peer));
        if let Some(e) = reply_rx.error.clone() {
            return Err(e);
        }
        let resolved = reply_rx
            .arp
            .first()
            .map(|p| p.sender_mac)
            .ok_or_else(|| Error::config(Some(LayerId::DataLink), "no ARP reply reached the sender"))?;
        Ok(ArpExchange { request, request_rx, reply, reply_rx, resolved })
    }

    /// True when the receiver's application got exactly the message, with no error on the way.
    pub fn delivered_intact(&self) -> bool {
        self.received.error.is_none() && self.received.delivered == self.message
    }

    /// Every frame on the wire in time order, each with a label, the frame and the records of the
    /// stack that received it (for its byte map), and its number in that stack's pass.
    pub fn frames(&self) -> Vec<(&'static str, &WireFrame, &Trace, usize)> {
        let mut all = Vec::new();
        if let Some(a) = &self.arp {
            all.extend(
                a.request.frames.iter().enumerate().map(|(i, f)| ("ARP request", f, &a.request_rx.trace, i + 1)),
            );
            all.extend(a.reply.frames.iter().enumerate().map(|(i, f)| ("ARP reply", f, &a.reply_rx.trace, i + 1)));
        }
        all.extend(self.sent.frames.iter().enumerate().map(|(i, f)| ("message", f, &self.received.trace, i + 1)));
        all
    }
}
