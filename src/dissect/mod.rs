//! `osilab dissect`: read a capture and take every frame up the stack, with the same layer code
//! `send` uses, each layer in capture mode (an analyzer, not a host: it accepts everything,
//! records each failed check as an [`Expert`] item and goes on).
//!
//! ```text
//!   pcap / pcapng record ─► frame (L1: what the capture saw of the wire)
//!     ─► link header: Ethernet II / 802.1Q / ARP (L2), Linux cooked capture v1/v2, or none (raw IP)
//!     ─► IPv4 / IPv6 with reassembly, ICMP / ICMPv6 (L3)
//!     ─► TCP conversations with stream reassembly, UDP (L4)
//!     ─► DNS, HTTP/1.1, the chat protocol, or data, chosen by port (L7)
//! ```
//!
//! Layers 5 and 6 take no part: a capture of real programs is in the TCP/IP model, where the
//! socket is the session and the application does its own presentation.
//!
//! A layer that cannot read its bytes further (a truncated header, an impossible length) returns
//! an error; the dissector turns it into a `_ws.malformed` record naming the layer and the byte
//! offset, and goes on with the next frame. Only an unreadable file stops the run (see
//! [`crate::capture`]). Memory stays flat: one frame at a time, and every table the layers keep
//! (fragments, conversations, held stream bytes) is bounded.

pub mod fields;
pub mod filter;
#[cfg(test)]
mod lean_tests;
pub mod output;

use crate::capture::{Frame, FrameKind, LinkType};
use crate::error::Error;
use crate::layer::{Context, Data, Layer, LayerId, Meta, Pdu, PduName};
use crate::layers::l2_data_link::arp::ETHERTYPE_ARP;
use crate::layers::l2_data_link::sll::SllHeader;
use crate::layers::l2_data_link::{DataLink, DataLinkConfig};
use crate::layers::l3_network::{Network, NetworkConfig};
use crate::layers::l4_transport::capture::TransportCapture;
use crate::layers::l7_application::capture::AppCapture;
use crate::time::Instant;
use crate::trace::{text_if, Direction, Expert, Field, Group, Record, Severity, Value};

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// One frame of the capture, dissected.
#[derive(Debug, Clone)]
pub struct Dissected<'a> {
    /// 1-based, in file order.
    pub number: u64,
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// The link type of the record.
    pub link: LinkType,
    /// The frame's length on the wire.
    pub len: usize,
    /// The bytes the capture holds (`caplen` of them).
    pub bytes: &'a [u8],
    /// The frame record, then every layer's records, bottom up (several per layer when a frame
    /// carries several PDUs or completes a reassembly).
    pub records: Vec<Record>,
}

impl Dissected<'_> {
    /// Every expert item of the frame, with the protocol that raised it.
    pub fn expert(&self) -> impl Iterator<Item = (&str, &Expert)> {
        self.records.iter().flat_map(|r| r.expert.iter().map(move |e| (&*r.protocol, e)))
    }
}

/// The layers in capture mode, and the clock of the capture.
pub struct Dissector {
    link: DataLink,
    net: Network,
    transport: TransportCapture,
    app: AppCapture,
    first_ts: Option<u64>,
    prev_ts: Option<u64>,
    /// Whether records carry their human text ([`Context::detail`]).
    detail: bool,
    /// The record list of a frame given back with [`Dissector::recycle`], empty, for the next.
    spare: Vec<Record>,
}

impl std::fmt::Debug for Dissector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dissector").field("first_ts", &self.first_ts).finish_non_exhaustive()
    }
}

/// Where a PDU came from, for its records' `at`: the offset of its first byte in the frame when
/// its bytes are the frame's bytes there, else `None` (reassembled from several frames).
fn place(frame: &[u8], pdu: &Pdu) -> Option<usize> {
    let Data::Bytes(b) = &pdu.data else { return None };
    let at = pdu.meta.offset;
    (frame.get(at..at + b.len()) == Some(b.as_slice())).then_some(at)
}

/// Undissected bytes, as Wireshark's `data` protocol shows them.
fn data_record(layer: LayerId, bytes: Vec<u8>, why: Option<String>, detail: bool) -> Record {
    let n = bytes.len();
    let title = text_if(detail, || format!("Data ({n} bytes)"));
    let mut r = Record::new(layer, Direction::Up, "data", title, PduName::Data);
    r.summary = text_if(detail, || format!("{n} bytes: {}", crate::layers::l7_application::preview(&bytes)));
    r.payload_len = n;
    r.fields.reserve_exact(2);
    r.fields.push(Field::new("data.data", "Data", Value::Bytes(bytes)));
    r.fields.push(Field::uint("data.len", "Length", n as u64));
    if let Some(why) = why {
        r.expert.push(Expert::new(Severity::Note, Group::Undecoded, why, None));
    }
    r
}

/// The record for an error that stopped a layer: Wireshark's "[Malformed Packet]".
fn malformed(layer: LayerId, e: &Error) -> Record {
    let proto = if e.protocol.is_empty() { layer.name() } else { e.protocol };
    let mut r = Record::new(
        e.layer.unwrap_or(layer),
        Direction::Up,
        "_ws.malformed",
        format!("[Malformed Packet: {proto}]"),
        PduName::Data,
    );
    r.summary = e.to_string();
    r.expert.push(Expert::from_error(e));
    r
}

/// `1700000000.123456789`: seconds and nanoseconds, as tshark prints `frame.time_epoch`.
fn seconds(ns: u64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

impl Dissector {
    /// A dissector with empty state (no fragments, no conversations yet).
    pub fn new() -> crate::error::Result<Self> {
        let link = DataLink::new(DataLinkConfig::capture());
        let net = Network::new(NetworkConfig::capture())?;
        Ok(Dissector {
            link,
            net,
            transport: TransportCapture::default(),
            app: AppCapture::new(Default::default()),
            first_ts: None,
            prev_ts: None,
            detail: true,
            spare: Vec::new(),
        })
    }

    /// Give back a frame once it is written: the next frame's records go into its list, which
    /// saves allocating one per frame. Optional.
    pub fn recycle(&mut self, d: Dissected<'_>) {
        let mut records = d.records;
        records.clear();
        self.spare = records;
    }

    /// Whether the records carry their human text (on by default): titles, summaries, notes,
    /// check details and fields' renderings. Output that prints field values only (`-T fields`)
    /// turns it off; fields, protocols and expert items are the same either way
    /// ([`Context::detail`]).
    pub fn set_detail(&mut self, detail: bool) {
        self.detail = detail;
    }

    /// The frame record: what the capture saw of the wire (L1's view of the frame).
    fn frame_record(&mut self, f: &Frame<'_>) -> Record {
        let (first, prev) = if f.has_ts {
            (*self.first_ts.get_or_insert(f.ts_ns), self.prev_ts.replace(f.ts_ns).unwrap_or(f.ts_ns))
        } else {
            (0, 0)
        };
        let (len, cap) = (f.orig_len, f.data.len());
        let detail = self.detail;
        let title = text_if(detail, || {
            format!(
                "Frame {}: {len} bytes on wire ({} bits), {cap} bytes captured ({} bits)",
                f.number,
                len * 8,
                cap * 8
            )
        });
        let mut r = Record::new(LayerId::Physical, Direction::Up, "frame", title, PduName::Bits);
        r.summary = text_if(detail, || format!("link type {}, {len} bytes on the wire", f.link));
        r.payload_len = cap;
        r.fields.reserve_exact(6);
        let signed = |a: u64, b: u64| Value::Seconds { ns: a.abs_diff(b), negative: a < b };
        // A pcapng Simple Packet Block carries no time: tshark leaves the time fields empty.
        if f.has_ts {
            let epoch = Value::Seconds { ns: f.ts_ns, negative: false };
            let shown = text_if(detail, || format!("{epoch} seconds"));
            r.fields.push(Field::new("frame.time_epoch", "Epoch Time", epoch).shown(shown));
            r.fields.push(Field::new(
                "frame.time_delta",
                "Time delta from previous captured frame",
                signed(f.ts_ns, prev),
            ));
            r.fields.push(Field::new(
                "frame.time_relative",
                "Time since reference or first frame",
                signed(f.ts_ns, first),
            ));
        }
        r.fields.push(Field::uint("frame.number", "Frame Number", f.number));
        r.fields.push(
            Field::uint("frame.len", "Frame Length", len as u64)
                .shown_if(detail, || format!("{len} bytes ({} bits)", len * 8)),
        );
        r.fields.push(
            Field::uint("frame.cap_len", "Capture Length", cap as u64)
                .shown_if(detail, || format!("{cap} bytes ({} bits)", cap * 8)),
        );
        if cap < len {
            // tshark's "[Packet size limited during capture]": the layers see only the bytes kept,
            // so a length field that counts beyond them is the capture's doing, not the sender's.
            r.expert.push(Expert::new(
                Severity::Note,
                Group::Malformed,
                format!(
                    "Packet size limited during capture: the capture kept the first {cap} of {len} bytes (its \
                     snapshot length); length checks in the layers above see only those"
                ),
                cap,
            ));
        }
        r
    }

    /// Take one frame up the stack.
    pub fn dissect<'a>(&mut self, f: &Frame<'a>) -> Dissected<'a> {
        // The layers' clock is the capture's: reassembly timeouts and ICMP's data_time need it.
        let mut cx = Context::new(Instant::from_nanos(f.ts_ns));
        cx.detail = self.detail;
        cx.trace.records = std::mem::take(&mut self.spare);
        // A frame makes a handful of records (frame, link, network, transport, application).
        cx.trace.records.reserve(8);
        self.net.set_frame_number(usize::try_from(f.number).unwrap_or(usize::MAX));
        let frame_rec = self.frame_record(f);
        cx.trace.push(frame_rec);
        let bytes = f.data;
        let mut run = Run { frame: bytes, wire_len: f.orig_len, cx };
        match f.kind {
            FrameKind::Packet => run.go(self, f.link),
            FrameKind::Custom { pen, .. } => {
                let whole = Pdu::bytes(bytes.to_vec());
                run.data(
                    LayerId::Physical,
                    whole,
                    Some(format!("a pcapng custom block (enterprise {pen}): not a packet")),
                );
            }
            FrameKind::SystemdJournal => {
                let whole = Pdu::bytes(bytes.to_vec());
                run.data(LayerId::Physical, whole, Some("a pcapng systemd journal entry: not a packet".into()));
            }
        }
        let mut records = run.cx.trace.records;
        for r in &mut records {
            r.frame = usize::try_from(f.number).ok();
        }
        Dissected { number: f.number, ts_ns: f.ts_ns, link: f.link, len: f.orig_len, bytes, records }
    }

    /// The capture has ended: what the layers still hold (fragments, stream bytes after a gap,
    /// unfinished messages) is reported, bottom up. Never an error: a capture may end anywhere.
    pub fn finish(&mut self) -> Vec<Record> {
        let mut cx = Context::new(Instant::ZERO);
        let layers: [(LayerId, &mut dyn Layer); 3] = [
            (LayerId::Network, &mut self.net),
            (LayerId::Transport, &mut self.transport),
            (LayerId::Application, &mut self.app),
        ];
        for (id, layer) in layers {
            if let Err(e) = layer.finish(&mut cx) {
                let mut r = malformed(id, &e);
                r.protocol = "_ws.end_of_capture".into();
                r.title = format!("[End of capture: {}]", id);
                if let Some(x) = r.expert.first_mut() {
                    x.severity = Severity::Warning;
                    x.group = Group::Reassemble;
                }
                cx.trace.push(r);
            }
        }
        cx.trace.records
    }
}

/// One frame on its way up.
struct Run<'a> {
    frame: &'a [u8],
    /// The frame's length on the wire (more than `frame.len()` when the snap length cut it).
    wire_len: usize,
    cx: Context,
}

impl Run<'_> {
    /// Call one layer; its records get their place in the frame. `Err` has been recorded as a
    /// malformed record already.
    fn call(&mut self, layer: &mut dyn Layer, pdu: Pdu) -> Result<Option<Pdu>, ()> {
        let at = place(self.frame, &pdu);
        let first = self.cx.trace.records.len();
        let id = layer.id();
        let result = layer.decapsulate(pdu, &mut self.cx);
        for r in &mut self.cx.trace.records[first..] {
            r.at = at;
        }
        match result {
            Ok(up) => Ok(up),
            Err(mut e) => {
                if at.is_none() {
                    // An offset into reassembled data names no byte of this frame.
                    e.offset = None;
                }
                let mut r = malformed(id, &e);
                r.at = at;
                self.cx.trace.push(r);
                Err(())
            }
        }
    }

    /// An ICMP error quoting a TCP or UDP header: the quoted header belongs to a conversation,
    /// whose index tshark prints as `tcp.stream` / `udp.stream`.
    fn quoted_stream(&mut self, d: &mut Dissector, first_l3: usize) {
        let Some(q) = d.net.last_quote() else { return };
        let (Some(sp), Some(dp)) = (q.src_port, q.dst_port) else { return };
        let (proto, src, dst) = (q.proto, q.src, q.dst);
        let (name, field) = match proto {
            6 => ("tcp", "tcp.stream"),
            17 => ("udp", "udp.stream"),
            _ => return,
        };
        let Some(stream) = d.transport.quoted_stream(proto, (src, sp), (dst, dp)) else { return };
        if let Some(r) = self.cx.trace.records[first_l3..].iter_mut().rev().find(|r| r.protocol == name) {
            r.fields.push(Field::uint(field, "Stream index", stream));
        }
    }

    /// A fragment that does not complete its datagram (L3 says so: `Network::last_held`): tshark
    /// shows its bytes as data.
    fn held_fragment(&mut self, first_l3: usize) {
        let Some(ip) = self.cx.trace.records.get(first_l3) else { return };
        if !matches!(&*ip.protocol, "ip" | "ipv6") {
            return;
        }
        let Some(at) = ip.at else { return };
        let start = at + ip.header.end;
        let Some(bytes) = self.frame.get(start..start + ip.payload_len) else { return };
        let mut r = data_record(LayerId::Network, bytes.to_vec(), None, self.cx.detail);
        r.at = Some(start);
        self.cx.trace.push(r);
    }

    fn data(&mut self, layer: LayerId, pdu: Pdu, why: Option<String>) {
        let at = place(self.frame, &pdu);
        let bytes = match pdu.data {
            Data::Bytes(b) => b,
            Data::Signal(_) => Vec::new(),
        };
        if bytes.is_empty() && why.is_none() {
            return;
        }
        let mut r = data_record(layer, bytes, why, self.cx.detail);
        r.at = at;
        for x in &mut r.expert {
            x.offset = at;
        }
        self.cx.trace.push(r);
    }

    fn go(&mut self, d: &mut Dissector, link: LinkType) {
        let whole = Pdu { data: Data::Bytes(self.frame.to_vec()), meta: Meta::default() };
        let l3 = match link {
            LinkType::Ethernet => {
                let Ok(Some(up)) = self.call(&mut d.link, whole) else { return };
                up
            }
            LinkType::LinuxSll | LinkType::LinuxSll2 => {
                let version = if link == LinkType::LinuxSll { 1 } else { 2 };
                let parsed =
                    if version == 1 { SllHeader::parse_v1(self.frame, 0) } else { SllHeader::parse_v2(self.frame, 0) };
                let h = match parsed {
                    Ok(h) => h,
                    Err(e) => {
                        // tshark shows the fields that fit before the cut, then "Malformed".
                        let mut r = malformed(LayerId::DataLink, &e);
                        r.fields = SllHeader::partial_fields(self.frame, version);
                        r.at = Some(0);
                        self.cx.trace.push(r);
                        return;
                    }
                };
                if h.is_netlink() {
                    let why = "a netlink message (ARPHRD_NETLINK), not a network frame: not dissected".to_string();
                    self.data(LayerId::DataLink, whole, Some(why));
                    return;
                }
                let hlen = h.len();
                let payload = self.frame.get(hlen..).unwrap_or_default();
                let mut r = h.record(payload.len());
                r.at = Some(0);
                self.cx.trace.push(r);
                let pdu = Pdu {
                    data: Data::Bytes(payload.to_vec()),
                    meta: Meta { offset: hlen, ethertype: h.ethertype(), ..Meta::default() },
                };
                match (h.ethertype(), h.protocol) {
                    (Some(_), _) => pdu,
                    // Linux's ETH_P_802_3 / ETH_P_ALL style pseudo-protocol 3: a whole Ethernet frame.
                    (None, 0x0003) => {
                        let Ok(Some(up)) = self.call(&mut d.link, pdu) else { return };
                        up
                    }
                    (None, _) => {
                        self.data(LayerId::DataLink, pdu, None);
                        return;
                    }
                }
            }
            LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => {
                let ethertype = match link {
                    LinkType::Ipv4 => Some(ETHERTYPE_IPV4),
                    LinkType::Ipv6 => Some(ETHERTYPE_IPV6),
                    _ => None,
                };
                Pdu { meta: Meta { ethertype, ..Meta::default() }, ..whole }
            }
            LinkType::Other(n) => {
                let why =
                    format!("link type {n} is not dissected (osilab reads Ethernet, raw IP and Linux cooked captures)");
                self.data(LayerId::DataLink, whole, Some(why));
                return;
            }
        };
        match l3.meta.ethertype {
            // RFC 826: ARP is answered at L2; its record is already there. What follows the
            // packet is padding or a trailer.
            Some(ETHERTYPE_ARP) => {
                let (at, n) = (l3.meta.offset, l3.len());
                self.trailer(at, n, self.frame.len().saturating_sub(at));
                return;
            }
            Some(ETHERTYPE_IPV4 | ETHERTYPE_IPV6) | None => {}
            Some(t) => {
                let why = format!("EtherType 0x{t:04x} is not dissected: shown as data");
                self.data(LayerId::Network, l3, Some(why));
                return;
            }
        }
        let l3_at = l3.meta.offset;
        let l3_len = l3.len();
        let first_l3 = self.cx.trace.records.len();
        let result = self.call(&mut d.net, l3);
        // The IP record's length is the packet's own: what follows it in the frame is a trailer.
        if result.is_ok() {
            if let Some(ip) = self.cx.trace.records.get(first_l3).filter(|r| matches!(&*r.protocol, "ip" | "ipv6")) {
                let used = ip.pdu_len();
                self.trailer(l3_at, used, l3_len);
            }
        }
        if let Ok(None) = result {
            if d.net.last_held() {
                self.held_fragment(first_l3);
            }
            self.quoted_stream(d, first_l3);
        }
        let Ok(Some(l4)) = result else { return };
        match l4.meta.ip_proto {
            Some(6 | 17) => {}
            // An echo's data: Wireshark shows it as data under ICMP.
            Some(1 | 58) => {
                self.data(LayerId::Network, l4, None);
                return;
            }
            Some(p) => {
                let why = format!(
                    "IP protocol {p} ({}) is not dissected: shown as data",
                    crate::layers::l3_network::proto_name(p)
                );
                self.data(LayerId::Transport, l4, Some(why));
                return;
            }
            None => return,
        }
        let Ok(Some(l7)) = self.call(&mut d.transport, l4) else { return };
        let _ = self.call(&mut d.app, l7);
    }

    /// Bytes of the link-layer payload after the packet's own length (`used` bytes of the
    /// `len` from `at`): Ethernet padding, an FCS the NIC kept, or a trailer, added to the link
    /// layer's record as tshark shows them (L2's `trailer` has the rules).
    fn trailer(&mut self, at: usize, used: usize, len: usize) {
        if used >= len {
            return;
        }
        let Some(extra) = self.frame.get(at + used..at + len) else { return };
        let l2 = self.cx.trace.records.iter().rposition(|r| {
            r.layer == LayerId::DataLink && matches!(&*r.protocol, "eth" | "vlan" | "ieee8021ad" | "sll")
        });
        let Some(k) = l2 else { return };
        if self.cx.trace.records[k].protocol == "sll" {
            self.cx.trace.records[k].fields.push(crate::layers::l2_data_link::sll::trailer_field(extra));
            return;
        }
        let tagged = self.cx.trace.records.iter().any(|r| matches!(&*r.protocol, "vlan" | "ieee8021ad"));
        let t = crate::layers::l2_data_link::trailer::trailer(self.wire_len, extra, tagged, Some(at + used));
        let r = &mut self.cx.trace.records[k];
        r.fields.extend(t.fields);
        r.expert.extend(t.expert);
    }
}
