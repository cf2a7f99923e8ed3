//! A link to a real network interface: pnet's datalink channel (an `AF_PACKET` socket bound to
//! one named interface) sends frames; receiving reads the same socket with `recvmsg(2)`, because
//! pnet's receiver drops what a host needs besides the bytes (`packet(7)`): the direction (a
//! frame this host sent, `PACKET_OUTGOING`, is not input), the 802.1Q tag Linux moved into
//! metadata (`PACKET_AUXDATA`), and the checksum and segmentation work the sending kernel left
//! to a card (`PACKET_VNET_HDR`, see [`super::offload`]).
//!
//! Frames cross the socket without their FCS (the card adds and checks it). Promiscuous mode is
//! asked for only when the caller says so; frames are sent only on the interface named.

use super::offload::{self, Offload, VNET_HDR_LEN};
use super::sys;
use crate::addr::MacAddr;
use crate::error::{Error, Result};
use crate::layers::l2_data_link::VlanTag;
use pnet::datalink::{self, Channel, DataLinkReceiver, DataLinkSender, NetworkInterface};
use std::os::fd::RawFd;
use std::time::Duration;

/// The largest frame read: a TCP segmentation super-segment is at most 64 KiB of IP packet.
const READ_BUFFER: usize = 256 * 1024;

/// How to open a link.
#[derive(Debug, Clone, Default)]
pub struct LinkOptions {
    /// Ask the interface to pass frames for every address (`PACKET_MR_PROMISC`).
    pub promiscuous: bool,
    /// Also read the frames this host's kernel sends out of the interface (a capture wants
    /// them; a host of osilab's does not: they are not input).
    pub outgoing: bool,
}

/// Which way a frame crossed the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Arrived on the interface.
    In,
    /// Sent out of it by this machine's kernel (or another program on it).
    Out,
}

/// A frame read from the interface.
#[derive(Debug, Clone)]
pub struct LinkFrame {
    /// The bytes as Linux handed them over (no FCS, the VLAN tag not yet restored, offload
    /// work not yet done).
    pub bytes: Vec<u8>,
    /// Which way it went.
    pub way: Way,
    /// The 802.1Q tag Linux took out of the frame, with its TPID.
    pub vlan: Option<(u16, VlanTag)>,
    /// Work the sending kernel left to the card.
    pub offload: Offload,
    /// The frame was longer than the read buffer and was cut.
    pub truncated: bool,
    /// Its length as it came in (before any cut; with the VLAN tag).
    pub wire_len: usize,
}

impl LinkFrame {
    /// The frame as a capture shows it (as tcpdump would, but with the VLAN tag put back):
    /// offload work is left undone.
    pub fn captured(&self) -> Vec<u8> {
        match self.vlan {
            Some((tpid, tag)) => offload::restore_vlan(&self.bytes, tpid, tci(tag)),
            None => self.bytes.clone(),
        }
    }

    /// The frame(s) as they would cross a wire: the offload work done (checksums finished,
    /// super-segments cut), the VLAN tag put back.
    pub fn wire(&self) -> std::result::Result<Vec<Vec<u8>>, String> {
        let frames = offload::finish(&self.bytes, &self.offload)?;
        Ok(match self.vlan {
            Some((tpid, tag)) => frames.iter().map(|f| offload::restore_vlan(f, tpid, tci(tag))).collect(),
            None => frames,
        })
    }
}

/// The Tag Control Information of `tag` (IEEE 802.1Q §9.6): PCP, DEI, VID.
fn tci(tag: VlanTag) -> u16 {
    (u16::from(tag.pcp & 7) << 13) | (u16::from(tag.dei) << 12) | (tag.id & 0x0fff)
}

/// An open link on one interface.
pub struct Link {
    name: String,
    mac: Option<MacAddr>,
    mtu: usize,
    fd: RawFd,
    tx: Box<dyn DataLinkSender>,
    // Held so that the socket stays open: pnet closes it when both halves are gone. Frames are
    // read with recvmsg on `fd`, not through it.
    _rx: Box<dyn DataLinkReceiver>,
    buf: Vec<u8>,
    send_buf: Vec<u8>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").field("name", &self.name).field("mac", &self.mac).finish_non_exhaustive()
    }
}

fn link_err(msg: impl Into<String>) -> Error {
    Error::io(msg)
}

/// The names of the interfaces this machine (this network namespace) has.
pub fn interface_names() -> Vec<String> {
    datalink::interfaces().into_iter().map(|i| i.name).collect()
}

/// The interface called `name`: an error listing those that exist when there is none.
pub fn find_interface(name: &str) -> Result<NetworkInterface> {
    let all = datalink::interfaces();
    all.iter().find(|i| i.name == name).cloned().ok_or_else(|| {
        let names: Vec<String> = all.into_iter().map(|i| i.name).collect();
        link_err(format!(
            "live: no interface {name:?} here; the interfaces are: {}",
            if names.is_empty() { "(none)".to_string() } else { names.join(", ") }
        ))
    })
}

/// The MAC address of interface `name` (`None` for an interface without one, like a tunnel).
pub fn interface_mac(name: &str) -> Result<Option<MacAddr>> {
    Ok(find_interface(name)?.mac.map(|m| MacAddr(m.octets())).filter(|m| *m != MacAddr::ZERO))
}

/// The interfaces of this machine (this network namespace) that have address `ip`.
pub fn owners_of(ip: std::net::IpAddr) -> Vec<String> {
    datalink::interfaces().into_iter().filter(|i| i.ips.iter().any(|n| n.ip() == ip)).map(|i| i.name).collect()
}

/// What a failed socket call means, in the user's words.
fn socket_error(e: std::io::Error, iface: &str) -> Error {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => link_err(format!(
            "live: not allowed to open a packet socket on {iface} (missing CAP_NET_RAW): run as root or give the \
             binary cap_net_raw (sudo setcap cap_net_raw+ep $(which osilab))"
        )),
        Some(libc::ENETDOWN) => link_err(format!("live: interface {iface} is down (ip link set {iface} up)")),
        Some(libc::ENODEV) | Some(libc::ENXIO) => link_err(format!("live: interface {iface} has gone")),
        _ => link_err(format!("live: packet socket on {iface}: {e}")),
    }
}

impl Link {
    /// Open the interface called `name`.
    pub fn open(name: &str, opts: &LinkOptions) -> Result<Link> {
        let iface = find_interface(name)?;
        if !iface.is_up() {
            return Err(link_err(format!("live: interface {name} is down (bring it up: ip link set {name} up)")));
        }
        let mut warnings = Vec::new();
        if !iface.is_running() {
            warnings.push(format!(
                "interface {name} is up but has no carrier (is the cable, or the other end of the veth pair, down?)"
            ));
        }
        let fd = sys::packet_socket().map_err(|e| socket_error(e, name))?;
        // PACKET_AUXDATA: each frame's status and stripped VLAN tag; PACKET_VNET_HDR: the
        // offload work left in it. Both before pnet binds the socket, so every frame has them.
        let setup = sys::set_packet_option(fd, libc::PACKET_AUXDATA, 1)
            .and_then(|_| sys::set_packet_option(fd, libc::PACKET_VNET_HDR, 1));
        if let Err(e) = setup {
            sys::close(fd);
            return Err(socket_error(e, name));
        }
        if !opts.outgoing {
            // Kernels before 4.20 refuse it: outgoing frames are then told apart by their
            // packet type (`Way::Out`).
            let _ = sys::set_packet_option(fd, libc::PACKET_IGNORE_OUTGOING, 1);
        }
        let cfg = datalink::Config {
            write_buffer_size: 4096,
            read_buffer_size: 4096,
            read_timeout: Some(Duration::from_millis(1)),
            write_timeout: Some(Duration::from_secs(1)),
            promiscuous: opts.promiscuous,
            socket_fd: Some(fd),
            ..Default::default()
        };
        // pnet binds the socket to the interface (ETH_P_ALL), adds the promiscuous membership
        // if asked, and makes it non-blocking; on failure it closes it.
        let (tx, rx) = match datalink::channel(&iface, cfg) {
            Ok(Channel::Ethernet(tx, rx)) => (tx, rx),
            Ok(_) => return Err(link_err(format!("live: {name}: pnet opened a channel that is not Ethernet"))),
            Err(e) => return Err(socket_error(e, name)),
        };
        Ok(Link {
            name: name.to_string(),
            mac: iface.mac.map(|m| MacAddr(m.octets())).filter(|m| *m != MacAddr::ZERO),
            mtu: sys::mtu(name),
            fd,
            tx,
            _rx: rx,
            buf: vec![0; READ_BUFFER],
            send_buf: Vec::with_capacity(VNET_HDR_LEN + 1518),
            warnings,
        })
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interface's own MAC address.
    pub fn mac(&self) -> Option<MacAddr> {
        self.mac
    }

    /// The interface's MTU.
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// What was odd about the interface when it was opened (no carrier).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Send one Ethernet frame (without FCS: the card adds it).
    pub fn send(&mut self, frame: &[u8]) -> Result<()> {
        // PACKET_VNET_HDR: every frame written starts with a virtio_net_hdr; all zero says
        // "nothing left to do" (checksums complete, no segmentation).
        self.send_buf.clear();
        self.send_buf.resize(VNET_HDR_LEN, 0);
        self.send_buf.extend_from_slice(frame);
        match self.tx.send_to(&self.send_buf, None) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => match e.raw_os_error() {
                Some(libc::EMSGSIZE) => Err(link_err(format!(
                    "live: {}: a {}-byte frame is too long for the interface (MTU {})",
                    self.name,
                    frame.len(),
                    self.mtu
                ))),
                _ => Err(socket_error(e, &self.name)),
            },
            None => Err(link_err(format!("live: {}: the frame does not fit pnet's write buffer", self.name))),
        }
    }

    /// The next frame, waiting at most `timeout`; `None` when none came.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<LinkFrame>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let raw = match sys::receive(self.fd, &mut self.buf) {
                Ok(Some(f)) => f,
                Ok(None) => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() || !sys::wait_readable(self.fd, left).map_err(|e| socket_error(e, &self.name))? {
                        return Ok(None);
                    }
                    continue;
                }
                Err(e) => return Err(socket_error(e, &self.name)),
            };
            if raw.data.len() < VNET_HDR_LEN {
                continue;
            }
            let offload = Offload::parse(&raw.data[..VNET_HDR_LEN]);
            let bytes = raw.data[VNET_HDR_LEN..].to_vec();
            let vlan = (raw.status & libc::TP_STATUS_VLAN_VALID != 0).then(|| {
                let tpid = if raw.status & libc::TP_STATUS_VLAN_TPID_VALID != 0 && raw.vlan_tpid != 0 {
                    raw.vlan_tpid
                } else {
                    0x8100
                };
                let t = raw.vlan_tci;
                (tpid, VlanTag { pcp: (t >> 13) as u8, dei: t & 0x1000 != 0, id: t & 0x0fff })
            });
            let way = if raw.pkttype == sys::PACKET_OUTGOING { Way::Out } else { Way::In };
            let tag_len = if vlan.is_some() { 4 } else { 0 };
            let wire_len = if raw.len > 0 { raw.len as usize } else { bytes.len() } + tag_len;
            return Ok(Some(LinkFrame { bytes, way, vlan, offload, truncated: raw.truncated, wire_len }));
        }
    }
}
