//! The seam between the layers: the [`Layer`] trait, the [`Pdu`] that passes between two adjacent
//! layers, and the [`Context`] a call is made in (the simulated `now` and the [`Trace`]).
//!
//! Going down, a layer's `encapsulate` turns one SDU from the layer above into one or more PDUs
//! for the layer below (more than one when IPv4 fragments or TCP segments). Going up, its
//! `decapsulate` turns one PDU from below into at most one SDU for the layer above (none while a
//! fragment waits for its siblings). Each call appends a [`Record`](crate::trace::Record) to the
//! trace for every PDU it produces (down) or consumes (up), one per protocol in it (Ethernet and
//! its 802.1Q tag, IP and its ICMP message).

use crate::error::Result;
use crate::layers::l1_physical::Signal;
use crate::time::Instant;
use crate::trace::Trace;
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;

/// The seven layers of the OSI reference model (ISO/IEC 7498-1), numbered from the wire up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LayerId {
    /// L1: bits on the medium.
    Physical = 1,
    /// L2: frames between neighbours on one link.
    DataLink = 2,
    /// L3: packets across networks.
    Network = 3,
    /// L4: segments / datagrams between processes.
    Transport = 4,
    /// L5: the dialogue between two applications.
    Session = 5,
    /// L6: the representation of data (encoding, compression, encryption).
    Presentation = 6,
    /// L7: the application's own protocol.
    Application = 7,
}

impl LayerId {
    /// All seven, from the top (7) down to the wire (1): the order of sending.
    pub const DOWN: [LayerId; 7] = [
        LayerId::Application,
        LayerId::Presentation,
        LayerId::Session,
        LayerId::Transport,
        LayerId::Network,
        LayerId::DataLink,
        LayerId::Physical,
    ];

    /// 1..=7.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The layer's name as the OSI model gives it, in lower case.
    pub fn name(self) -> &'static str {
        match self {
            LayerId::Physical => "physical",
            LayerId::DataLink => "data link",
            LayerId::Network => "network",
            LayerId::Transport => "transport",
            LayerId::Session => "session",
            LayerId::Presentation => "presentation",
            LayerId::Application => "application",
        }
    }

    /// The layer with this number, if 1..=7.
    pub fn from_number(n: u8) -> Option<LayerId> {
        LayerId::DOWN.into_iter().find(|l| l.number() == n)
    }
}

impl fmt::Display for LayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{} {}", self.number(), self.name())
    }
}

impl Serialize for LayerId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

/// What a layer's data unit is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PduName {
    /// L5–L7.
    Data,
    /// L4 with TCP.
    Segment,
    /// L4 with UDP.
    Datagram,
    /// L3.
    Packet,
    /// L2.
    Frame,
    /// L1.
    Bits,
}

impl fmt::Display for PduName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PduName::Data => "data",
            PduName::Segment => "segment",
            PduName::Datagram => "datagram",
            PduName::Packet => "packet",
            PduName::Frame => "frame",
            PduName::Bits => "bits",
        })
    }
}

/// Which of several PDUs that one SDU became (IPv4 fragment 2 of 3, TCP segment 1 of 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Part {
    /// 1-based.
    pub index: usize,
    /// How many there are.
    pub count: usize,
}

/// The contents of a data unit: bytes everywhere but below L1's encapsulate, where it is a
/// line-coded [`Signal`].
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// L2 and above.
    Bytes(Vec<u8>),
    /// L1 on the medium.
    Signal(Signal),
}

/// What one layer tells its neighbour besides the bytes, as a kernel's packet metadata does: the
/// protocol number that selects the next header, the addresses the transport checksum covers, and
/// where this PDU sits inside the frame (so that errors can name the frame's byte offset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// Offset of this PDU's first byte from the start of the Ethernet frame (receive path).
    pub offset: usize,
    /// The EtherType of an L2 payload (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP).
    pub ethertype: Option<u16>,
    /// The IP protocol / next header of an L3 payload (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).
    pub ip_proto: Option<u8>,
    /// Network-layer source address of the datagram this PDU belongs to.
    pub src_ip: Option<IpAddr>,
    /// Network-layer destination address.
    pub dst_ip: Option<IpAddr>,
    /// A link-layer destination other than the configured neighbour (e.g. broadcast for ARP).
    pub dst_mac: Option<crate::addr::MacAddr>,
    /// Which of several PDUs one SDU became.
    pub part: Option<Part>,
    /// The transport's source port (set by L4 going up, for an application chosen by port).
    pub src_port: Option<u16>,
    /// The transport's destination port.
    pub dst_port: Option<u16>,
    /// On the way up in a capture: which conversation the data belongs to, numbered from 0 in
    /// order of first appearance per transport, as Wireshark's `tcp.stream` / `udp.stream`.
    pub stream: Option<u32>,
    /// On the way up in a capture: bytes of this stream are missing before these (a segment that
    /// was not captured), so an application must not join them to what came before.
    pub gap_before: bool,
    /// On the way up in a capture: the sender's FIN follows these bytes (RFC 9293 §3.6): its
    /// stream ends here, which ends a close-delimited HTTP body.
    pub fin: bool,
    /// On the way up: the bytes no longer sit at `offset` in the frame (they were decrypted,
    /// decompressed or re-encoded), so an error in them names no byte of the frame.
    pub detached: bool,
}

/// A data unit passing between two adjacent layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Pdu {
    /// Bytes or, below L1, a signal.
    pub data: Data,
    /// What the neighbouring layer needs to know about it.
    pub meta: Meta,
}

impl Pdu {
    /// A PDU of bytes with empty metadata.
    pub fn bytes(bytes: Vec<u8>) -> Self {
        Pdu { data: Data::Bytes(bytes), meta: Meta::default() }
    }

    /// The bytes, or an error naming `layer` when a signal arrived where bytes were expected (a
    /// stack assembled out of order).
    pub fn into_bytes(self, layer: LayerId) -> Result<(Vec<u8>, Meta)> {
        match self.data {
            Data::Bytes(b) => Ok((b, self.meta)),
            Data::Signal(_) => Err(crate::error::Error::config(
                Some(layer),
                "received a line-coded signal where bytes were expected: is the stack ordered 7→1?",
            )),
        }
    }

    /// The byte length (0 for a signal).
    pub fn len(&self) -> usize {
        match &self.data {
            Data::Bytes(b) => b.len(),
            Data::Signal(_) => 0,
        }
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The bytes `range` of `bytes`, kept in the same allocation (those before it moved down, those
/// after it dropped); empty when `range` is not inside `bytes`. Going up, a layer passes its
/// payload on this way rather than copying it into a new buffer.
pub fn keep_range(mut bytes: Vec<u8>, range: std::ops::Range<usize>) -> Vec<u8> {
    if range.start > range.end || range.end > bytes.len() {
        return Vec::new();
    }
    bytes.truncate(range.end);
    bytes.drain(..range.start);
    bytes
}

/// The context of one call: the simulated time and the trace being recorded.
#[derive(Debug, Clone)]
pub struct Context {
    /// Now, on the simulation's clock. Layers never read the OS clock.
    pub now: Instant,
    /// Where each layer appends its records.
    pub trace: Trace,
    /// Whether records carry their human text: titles, summaries, notes, the details of checks
    /// and a field's rendering after its label ([`Field::shown`](crate::trace::Field::shown)).
    /// On by default. `osilab dissect -T fields` turns it off: it prints field values only, and
    /// building text nobody reads was most of its time. Fields (names and values), protocols
    /// and expert items are the same either way: they are what `-e` and `--filter` read.
    pub detail: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context::new(Instant::default())
    }
}

impl Context {
    /// A context at `now` with an empty trace, recording in detail.
    pub fn new(now: Instant) -> Self {
        Context { now, trace: Trace::default(), detail: true }
    }

    /// Human text made by `f` when the records are in detail, else an empty string (and `f` is
    /// not run): see [`Context::detail`].
    pub fn text(&self, f: impl FnOnce() -> String) -> String {
        crate::trace::text_if(self.detail, f)
    }
}

/// One layer of the stack. Both paths are pure functions of the bytes, the layer's configuration
/// and state, and `cx.now`: no I/O, no clock, no panics on any input.
pub trait Layer {
    /// Which layer this is.
    fn id(&self) -> LayerId;

    /// Going down (7→1): wrap one SDU from the layer above into one or more PDUs for the layer
    /// below, recording each in `cx.trace`.
    fn encapsulate(&mut self, sdu: Pdu, cx: &mut Context) -> Result<Vec<Pdu>>;

    /// Going up (1→7): check and strip this layer's header (and trailer) from a PDU, recording what
    /// was checked in `cx.trace`. `Ok(None)` means the PDU was consumed without producing an SDU
    /// yet (a fragment waiting for the rest, an ARP packet answered at this layer).
    fn decapsulate(&mut self, pdu: Pdu, cx: &mut Context) -> Result<Option<Pdu>>;

    /// True while the layer holds received data it has not passed up yet (fragments awaiting
    /// reassembly, segments out of order): what it passes up next may be put together from
    /// several frames.
    fn holding(&self) -> bool {
        false
    }

    /// The stream has ended (the peer closed the connection, or the capture is over): data still
    /// held can never be completed. A layer holding some returns an error naming itself and what
    /// was cut short (a truncated TLS record, an unfinished chat line or HTTP message, missing
    /// fragments); one holding nothing returns `Ok`.
    fn finish(&mut self, cx: &mut Context) -> Result<()> {
        let _ = cx;
        Ok(())
    }
}
