//! L3 network: IPv4 (with fragmentation and reassembly), IPv6, ICMPv4 and ICMPv6 echo.
//!
//! CONTRACT (public API used by the stack and the CLI; keep these names and signatures):
//! - `EchoConfig`, `NetworkConfig`, `Network::new(cfg) -> Result<Network>`, `impl Layer for Network`
//!
//! Also public: [`Echo`], [`EchoKind`], [`echo_reply`] (build the reply to a received echo
//! request), [`Network::last_echo`], [`Network::set_echo`], [`Network::config`],
//! [`Network::pending_reassemblies`], [`internet_checksum`], [`proto_name`],
//! [`supported_proto`], the `reassembly` module, and the constants below.
//!
//! Capture mode (`NetworkConfig::capture`, `osilab dissect`): the [`capture`] module, with
//! [`Network::set_frame_number`] (so reassembled datagrams can list their frames) and
//! [`Network::last_quote`] (the transport data an ICMP error quoted).
//!
//! On the way up, a host refuses: a bad version / IHL / length, a bad header checksum, TTL or
//! hop limit 0, a packet for another address (unless promiscuous), a protocol it has no
//! handler for (unless promiscuous), trailing bytes that cannot be Ethernet padding, and
//! fragments that overlap with different bytes (IPv4) or at all (IPv6, RFC 5722).
//!
//! Read this first: RFC 791 (IPv4), RFC 815 (reassembly hole list), RFC 1071 (the Internet
//! checksum), RFC 1122 §3.2–3.3 (what a host must do), RFC 792 (ICMP), RFC 8200 (IPv6) and
//! RFC 4443 (ICMPv6).
//!
//! Going down, the SDU from L4 carries `meta.ip_proto` (6 TCP, 17 UDP). With `cfg.echo` set, the
//! SDU instead becomes the data of an ICMP echo request (ICMPv6 over IPv6). With `cfg.echo`
//! unset and `meta.ip_proto` = 1 (58 over IPv6), the SDU is taken to be a complete ICMP message
//! (for instance an echo reply built by [`echo_reply`]) and is sent as it is.
//!
//! Files: `ipv4.rs` and `ipv6.rs` (headers, records, both paths), `ip.rs` (the steps both
//! families share: payload and protocol, cutting fragments, the host's checks, reassembly
//! outcomes, delivery), `icmp.rs` (echo messages), `reassembly.rs` (RFC 815 hole list, shared
//! by both families), `tests.rs`.

pub mod capture;
pub mod forward;
mod icmp;
mod ip;
mod ipv4;
mod ipv6;
pub mod nd;
pub mod reassembly;
#[cfg(test)]
mod tests;

pub use icmp::{echo_reply, Echo, EchoKind};

use crate::error::{Error, Result};
use crate::layer::{Context, Layer, LayerId, Pdu};
use crate::trace::Record;
use reassembly::Reassembler;
use serde::Serialize;
use std::net::IpAddr;

/// Send the SDU as the data of an ICMP (ICMPv6 over IPv6) echo request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EchoConfig {
    /// Identifier.
    pub id: u16,
    /// Sequence number.
    pub seq: u16,
}

/// L3 configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkConfig {
    /// This host's address (source of packets sent; packets received must be addressed to it).
    pub local: IpAddr,
    /// The peer (same family as `local`).
    pub remote: IpAddr,
    /// IPv4 TTL / IPv6 hop limit of packets sent.
    pub ttl: u8,
    /// The link MTU: the largest IP packet sent without fragmenting (≥ 68 for IPv4, RFC 791;
    /// ≥ 1280 for IPv6, RFC 8200 §5).
    pub mtu: usize,
    /// Set DF on IPv4 packets sent (then a packet larger than the MTU is an error, not fragmented).
    pub dont_fragment: bool,
    /// Identification of the first IPv4 packet sent; each next packet takes the next value.
    pub ident: u16,
    /// Carry the SDU in an ICMP echo request instead of handing it a transport header.
    pub echo: Option<EchoConfig>,
    /// Accept packets addressed to any host (a capture).
    pub promiscuous: bool,
    /// Capture mode (`osilab dissect`): an analyzer, not a host; implies `promiscuous`. See
    /// [`capture`] for what changes on the way up.
    pub capture: bool,
}

impl NetworkConfig {
    /// Capture mode, as `osilab dissect` and the simulator's tap read packets: an analyzer of
    /// any address (the configured ones are unused), with the largest MTU.
    pub fn capture() -> Self {
        let any = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        NetworkConfig {
            local: any,
            remote: any,
            ttl: 64,
            mtu: 65535,
            dont_fragment: false,
            ident: 0,
            echo: None,
            promiscuous: true,
            capture: true,
        }
    }
}

/// RFC 791 ("Every internet module must be able to forward a datagram of 68 octets without
/// further fragmentation"): the smallest IPv4 MTU.
pub const IPV4_MIN_MTU: usize = 68;
/// RFC 8200 §5: every link that carries IPv6 has an MTU of at least 1280 octets.
pub const IPV6_MIN_MTU: usize = 1280;

/// The network layer.
#[derive(Debug, Clone)]
pub struct Network {
    cfg: NetworkConfig,
    /// Identification of the next IPv4 datagram (RFC 791 §3.2), or of the next fragmented IPv6
    /// packet (RFC 8200 §4.5, widened to 32 bits).
    next_ident: u32,
    /// Sequence number of the next echo request (starts at `cfg.echo.seq`, +1 per request, as
    /// ping does).
    next_echo_seq: Option<u16>,
    /// Datagrams waiting for their other fragments.
    reassembler: Reassembler,
    /// The last ICMP echo request or reply received.
    last_echo: Option<Echo>,
    /// The last ICMP / ICMPv6 message received that was not an echo (an error, neighbor
    /// discovery): consumed at L3, kept here for the host to act on.
    last_icmp: Option<Vec<u8>>,
    /// Group addresses this host has joined besides the broadcast / all-nodes address: a
    /// subnet's directed broadcast (RFC 919), IPv6 solicited-node multicast (RFC 4291 §2.7.1).
    groups: Vec<IpAddr>,
    /// Capture mode's own state (frame numbers of held fragments, the last ICMP quote).
    capture: capture::State,
}

impl Network {
    /// A network layer with this configuration, or a config error (mixed families, MTU too small).
    pub fn new(cfg: NetworkConfig) -> Result<Self> {
        let l3 = Some(LayerId::Network);
        match (cfg.local, cfg.remote) {
            (IpAddr::V4(_), IpAddr::V4(_)) if cfg.mtu < IPV4_MIN_MTU => {
                return Err(Error::config(
                    l3,
                    format!("IPv4 MTU {} is below the minimum of {IPV4_MIN_MTU} bytes (RFC 791)", cfg.mtu),
                ));
            }
            (IpAddr::V6(_), IpAddr::V6(_)) if cfg.mtu < IPV6_MIN_MTU => {
                return Err(Error::config(
                    l3,
                    format!("IPv6 MTU {} is below the minimum of {IPV6_MIN_MTU} bytes (RFC 8200 §5)", cfg.mtu),
                ));
            }
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {}
            (l, r) => {
                return Err(Error::config(
                    l3,
                    format!("local address {l} and remote address {r} are not of the same IP version"),
                ));
            }
        }
        if cfg.ttl == 0 {
            // RFC 1122 §3.2.1.7: a host MUST NOT send a datagram with a TTL of zero (RFC 8200
            // §3: the hop limit likewise).
            return Err(Error::config(l3, "TTL / hop limit 0 is not allowed (RFC 1122 §3.2.1.7)"));
        }
        Ok(Network {
            next_ident: u32::from(cfg.ident),
            next_echo_seq: cfg.echo.map(|e| e.seq),
            cfg,
            reassembler: Reassembler::new(),
            last_echo: None,
            last_icmp: None,
            groups: Vec::new(),
            capture: capture::State::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NetworkConfig {
        &self.cfg
    }

    /// Send the next SDUs as echo requests with this identifier and sequence number (the
    /// sequence then counts up from `echo.seq`), or stop doing so with `None`.
    pub fn set_echo(&mut self, echo: Option<EchoConfig>) {
        self.cfg.echo = echo;
        self.next_echo_seq = echo.map(|e| e.seq);
    }

    /// The last ICMP / ICMPv6 echo request or reply received (what ping needs to match a reply
    /// to its request, or to answer a request with [`echo_reply`]).
    pub fn last_echo(&self) -> Option<&Echo> {
        self.last_echo.as_ref()
    }

    /// Take the last ICMP / ICMPv6 message received that was not an echo (an error such as
    /// time exceeded or destination unreachable, or a neighbor discovery message): L3 records
    /// and consumes it; the host reads it here to act on it (report it to a socket, learn a
    /// neighbor).
    pub fn take_last_icmp(&mut self) -> Option<Vec<u8>> {
        self.last_icmp.take()
    }

    /// Accept packets sent to the group address `group` too (a subnet's directed broadcast, RFC
    /// 919; an IPv6 solicited-node multicast address, RFC 4291 §2.7.1, which neighbor discovery
    /// sends to).
    pub fn join_group(&mut self, group: IpAddr) {
        if !self.groups.contains(&group) {
            self.groups.push(group);
        }
    }

    /// Whether packets to `dst` are for this host: its address, the limited broadcast / all-nodes
    /// address, or a group it joined.
    pub fn accepts(&self, dst: IpAddr) -> bool {
        dst == self.cfg.local
            || dst == IpAddr::V4(std::net::Ipv4Addr::BROADCAST)
            || dst == IpAddr::V6(std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1))
            || self.groups.contains(&dst)
    }

    /// Send the next packets to `remote` (a host talks to many peers through one network layer;
    /// the transport's pseudo-header must then name the same address). Same family only.
    pub fn set_remote(&mut self, remote: IpAddr) -> Result<()> {
        if remote.is_ipv4() != self.cfg.local.is_ipv4() {
            return Err(Error::config(
                Some(LayerId::Network),
                format!("remote {remote} is not of the same IP version as the local address {}", self.cfg.local),
            ));
        }
        self.cfg.remote = remote;
        Ok(())
    }

    /// The TTL / hop limit of the next packets (ping's `-t`, 255 for neighbor discovery).
    pub fn set_ttl(&mut self, ttl: u8) {
        self.cfg.ttl = ttl.max(1);
    }

    /// Set or clear IPv4's "don't fragment" on the next packets (TCP sets it, RFC 1191).
    pub fn set_dont_fragment(&mut self, df: bool) {
        self.cfg.dont_fragment = df && self.cfg.local.is_ipv4();
    }

    /// Capture mode: the number (1-based) of the frame about to be decapsulated, so that the
    /// frame completing a fragmented datagram can list the frames its fragments came in
    /// (tshark's `ip.fragment` / `ipv6.fragment`). Without it those items are left out.
    pub fn set_frame_number(&mut self, frame: usize) {
        self.capture.frame = Some(frame);
    }

    /// Capture mode: what the last decapsulated packet's ICMP / ICMPv6 error quoted of the
    /// invoking packet's transport (its ports and the quoted payload), for the dissector to hand
    /// to the application layer as tshark does (tshark dissects a quoted DNS query). `None`
    /// when that packet was no ICMP error.
    pub fn last_quote(&self) -> Option<&capture::Quote> {
        self.capture.last_quote.as_ref()
    }

    /// In capture mode: whether the last packet decapsulated was a fragment held for reassembly
    /// (its bytes go nowhere yet; tshark shows them as data).
    pub fn last_held(&self) -> bool {
        self.capture.last_held
    }

    /// Datagrams currently waiting for more fragments.
    pub fn pending_reassemblies(&self) -> usize {
        self.reassembler.pending()
    }

    /// The identification of the next IPv4 datagram, advancing the counter (wrapping at 2^16).
    fn take_ident16(&mut self) -> u16 {
        let id = self.next_ident as u16;
        self.next_ident = u32::from(id.wrapping_add(1));
        id
    }

    /// The identification of the next fragmented IPv6 packet (32 bits).
    fn take_ident32(&mut self) -> u32 {
        let id = self.next_ident;
        self.next_ident = id.wrapping_add(1);
        id
    }

    /// The echo identifier and sequence of the next echo request, advancing the sequence.
    fn take_echo(&mut self) -> Option<EchoConfig> {
        let cfg = self.cfg.echo?;
        let seq = self.next_echo_seq.unwrap_or(cfg.seq);
        self.next_echo_seq = Some(seq.wrapping_add(1));
        Some(EchoConfig { id: cfg.id, seq })
    }

    /// Reassembly buffers older than the timeout are dropped; each is noted on `rec`.
    fn expire_reassembly(&mut self, cx: &Context, rec: &mut Record) {
        for gone in self.reassembler.expire(cx.now) {
            rec.notes.push(expired_note(&gone));
        }
    }

    /// L4's transport checksum covers the pseudo-header it was told; sending from other
    /// addresses would put a wrong checksum on the wire.
    fn check_meta_addresses(&self, sdu: &Pdu) -> Result<()> {
        for (which, meta, ours) in
            [("source", sdu.meta.src_ip, self.cfg.local), ("destination", sdu.meta.dst_ip, self.cfg.remote)]
        {
            if let Some(addr) = meta {
                if addr != ours {
                    return Err(Error::config(
                        Some(LayerId::Network),
                        format!(
                            "the layer above used {which} address {addr} (for its checksum) but L3 is \
                             configured with {ours}"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn expired_note(gone: &reassembly::Expired) -> String {
    format!(
        "reassembly of datagram {} → {} id {:#x} {} ({} bytes discarded; RFC 1122 §3.3.2)",
        gone.key.src, gone.key.dst, gone.key.id, gone.reason, gone.received
    )
}

impl Layer for Network {
    fn id(&self) -> LayerId {
        LayerId::Network
    }

    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>> {
        self.check_meta_addresses(&sdu)?;
        match (self.cfg.local, self.cfg.remote) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => ipv4::encapsulate(self, src, dst, sdu, cx),
            (IpAddr::V6(src), IpAddr::V6(dst)) => ipv6::encapsulate(self, src, dst, sdu, cx),
            // Network::new refuses mixed families; a config built by hand still gets an error.
            _ => Err(Error::config(Some(LayerId::Network), "local and remote are of different IP versions")),
        }
    }

    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>> {
        let (bytes, meta) = pdu.into_bytes(LayerId::Network)?;
        if self.cfg.capture {
            return capture::decapsulate(self, bytes, meta, cx);
        }
        match meta.ethertype {
            Some(ipv4::ETHERTYPE) => ipv4::decapsulate(self, bytes, meta, cx),
            Some(ipv6::ETHERTYPE) => ipv6::decapsulate(self, bytes, meta, cx),
            // Without an L2 below (a raw IP capture), the version nibble decides (RFC 8200 §3).
            None => match bytes.first().map(|b| b >> 4) {
                Some(6) => ipv6::decapsulate(self, bytes, meta, cx),
                _ => ipv4::decapsulate(self, bytes, meta, cx),
            },
            Some(other) => Err(Error::invalid(
                LayerId::Network,
                "IP",
                meta.offset.saturating_sub(2),
                "unsupported EtherType",
                "0x0800 (IPv4) or 0x86dd (IPv6)",
                format!("{other:#06x}"),
            )),
        }
    }

    fn holding(&self) -> bool {
        self.pending_reassemblies() > 0
    }

    /// The capture ended with datagrams still missing fragments: they can never be delivered
    /// (a host would drop them when its reassembly timer expires, RFC 1122 §3.3.2).
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        let n = self.pending_reassemblies();
        if n == 0 {
            return Ok(());
        }
        let mut r = crate::trace::Record::new(
            LayerId::Network,
            crate::trace::Direction::Up,
            "ip",
            "Reassembly incomplete",
            crate::layer::PduName::Packet,
        );
        r.summary = format!("{n} datagram(s) still missing fragments when the stream ended");
        cx.trace.push(r);
        Err(Error::invalid(
            LayerId::Network,
            "IP",
            None,
            "reassembly (RFC 791 §3.2, RFC 8200 §4.5)",
            "every fragment of each datagram",
            format!("{n} datagram(s) still missing fragments when the stream ended"),
        ))
    }
}

pub use crate::layers::checksum::internet_checksum;

/// IEEE 802.3 §3.2.9 / RFC 894: an Ethernet frame's payload is padded to at least 46 bytes.
/// Bytes after the IP packet's own length can only be that padding when the payload is no
/// longer than this; more means the length field is wrong.
pub const ETHERNET_MIN_PAYLOAD: usize = 46;

/// The record of an ICMP (RFC 792) or ICMPv6 (RFC 4443) message a host builds itself (an echo,
/// an error, neighbor discovery), as Wireshark shows it; `ttl` is the carrying packet's TTL /
/// hop limit.
pub fn icmp_record(direction: crate::trace::Direction, v6: bool, msg: &[u8], ttl: u8) -> crate::trace::Record {
    icmp::record(direction, v6, msg, ttl, true)
}

/// The protocols this host has a handler for above IP: ICMP (ICMPv6 over IPv6), TCP and UDP.
/// Others are refused as a host does (RFC 1122 §3.2.2.1: ICMP Protocol Unreachable; RFC 8200
/// §4: ICMPv6 Parameter Problem code 1), except by a promiscuous capture.
pub fn supported_proto(v6: bool, proto: u8) -> bool {
    matches!((v6, proto), (false, 1) | (true, 58) | (_, 6) | (_, 17))
}

/// The name Wireshark gives an IP protocol number (`ip.proto` / `ipv6.nxt`): an open set, any
/// number has a name.
pub fn proto_name(p: u8) -> &'static str {
    match p {
        0 => "IPv6 Hop-by-Hop Option",
        1 => "ICMP",
        2 => "IGMP",
        6 => "TCP",
        17 => "UDP",
        43 => "Routing Header for IPv6",
        44 => "Fragment Header for IPv6",
        58 => "ICMPv6",
        59 => "No Next Header for IPv6",
        60 => "Destination Options for IPv6",
        other => etherparse::IpNumber(other).keyword_str().unwrap_or("Unknown"),
    }
}

/// "UDP (17)", as tshark shows `ip.proto`.
fn proto_shown(p: u8) -> String {
    format!("{} ({p})", proto_name(p))
}
