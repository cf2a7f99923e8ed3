//! What IPv4 and IPv6 do alike, written once for both families.
//!
//! Going down: the payload and its protocol (an ICMP message, or the upper layer's SDU with its
//! `meta.ip_proto`), the payload cut into fragments of (MTU − headers) & !7 bytes, and the
//! record and PDU of each packet sent ([`Outbound`]). Going up: the host's checks that read the
//! same in both families (Ethernet padding, TTL / hop limit, destination, protocol), one
//! fragment fed to the reassembler, and the delivery of the payload ([`Inbound`]).
//!
//! What the families say differently lives in their [`Family`] table (`ipv4::FAMILY`,
//! `ipv6::FAMILY`); header layouts, the IPv4 checksum and the IPv6 Fragment header stay in
//! `ipv4.rs` and `ipv6.rs`.

use super::reassembly::{Fragment, Key, Outcome, OverlapPolicy, Problem, Reassembled};
use super::{expired_note, icmp, proto_shown, supported_proto, Network, ETHERNET_MIN_PAYLOAD};
use crate::error::{Error, Result};
use crate::layer::{Context, Data, LayerId, Meta, Part, Pdu};
use crate::trace::{Field, Record};
use etherparse::IpFragOffset;
use std::net::IpAddr;

const L3: LayerId = LayerId::Network;

/// What differs between IPv4 and IPv6 in the steps they share: numbers, names and standards.
pub(super) struct Family {
    /// The protocol errors name ("IPv4", "IPv6").
    pub proto: &'static str,
    /// The version number (4, 6), and whether it is 6 (for [`supported_proto`]).
    pub version: u8,
    pub v6: bool,
    /// The length of the smallest header (20, 40).
    pub min_header: usize,
    /// The EtherType of the packets sent.
    pub ethertype: u16,
    /// The protocol number of ICMP in this family (1 ICMP, 58 ICMPv6).
    pub icmp: u8,
    /// What the fragments make up, in notes and errors ("datagram", "packet").
    pub unit: &'static str,
    /// The standard fragmentation notes cite ("RFC 791 §3.2", "RFC 8200 §4.5").
    pub fragmentation: &'static str,
    /// The More Fragments flag's name ("MF", "M").
    pub more_flag: &'static str,
    /// What a fragment with more to follow and a length not in 8-byte blocks breaks.
    pub length_rule: &'static str,
    /// What a fragment that reaches past the largest payload makes too long.
    pub too_long: &'static str,
    /// What that length should be, given the largest payload.
    pub too_long_expected: fn(usize) -> String,
    /// The note on an exact duplicate fragment (the held note follows it).
    pub duplicate: &'static str,
    /// How overlapping fragments are treated (it also words the error on an overlap).
    pub overlap: OverlapPolicy,
    /// Offset of the fragment offset field from the start of the header that holds it (the IPv4
    /// header, the IPv6 Fragment header): where errors about a fragment point.
    pub frag_field: usize,
    /// The length field that ends the packet ("total length", "payload length").
    pub length_field: &'static str,
    /// The standard for the Ethernet padding after it ("RFC 894", "RFC 2464").
    pub padding_rfc: &'static str,
    /// The hop counter's name ("TTL", "hop limit") and the standard that forbids 0.
    pub ttl: (&'static str, &'static str),
    /// The destination accepted besides this host's own address (limited broadcast, all-nodes).
    pub also_for_us: IpAddr,
    /// The protocol field's name ("protocol", "next header") and how a refusal of it begins
    /// ("no handler for", "unrecognized").
    pub proto_field: (&'static str, &'static str),
    /// What an unsupported protocol is, in the error (with the answer a host gives).
    pub unsupported: &'static str,
    /// The protocols this host handles, in the error.
    pub supported: &'static str,
}

/// Going down: the payload and its protocol number. With an echo configured, or an SDU that
/// says it is ICMP, the payload is an ICMP message (built and recorded by `icmp`); otherwise
/// the SDU as it is, under the protocol the layer above named in `meta.ip_proto`.
pub(super) fn payload_down(
    net: &mut Network,
    fam: &Family,
    sdu: Vec<u8>,
    meta: &Meta,
    src: IpAddr,
    dst: IpAddr,
    cx: &mut Context,
) -> Result<(Vec<u8>, u8)> {
    if net.cfg.echo.is_some() || meta.ip_proto == Some(fam.icmp) {
        let ttl = net.cfg.ttl;
        return Ok((icmp::encapsulate(net, sdu, src, dst, ttl, cx)?, fam.icmp));
    }
    match meta.ip_proto {
        Some(p) => Ok((sdu, p)),
        None => Err(Error::config(Some(L3), "the layer above did not say which protocol it carries (meta.ip_proto)")),
    }
}

/// One packet's share of the payload going down.
#[derive(Debug, Clone, Copy)]
pub(super) struct Piece<'a> {
    /// Byte offset of `data` in the payload.
    pub offset: usize,
    /// The bytes this packet carries.
    pub data: &'a [u8],
    /// More fragments follow.
    pub more: bool,
    /// Fragment i of n, when the payload was cut in several.
    pub part: Option<Part>,
}

impl<'a> Piece<'a> {
    /// The whole payload in one packet.
    pub fn whole(payload: &'a [u8]) -> Self {
        Piece { offset: 0, data: payload, more: false, part: None }
    }

    /// The fragment offset field for this piece (8-byte blocks, 13 bits), or an error at the
    /// field of the header that starts `header_at` bytes into the packet.
    pub fn frag_offset(&self, fam: &Family, header_at: usize) -> Result<IpFragOffset> {
        let units = self.offset / 8;
        IpFragOffset::try_new(units as u16).map_err(|_| {
            Error::invalid(
                L3,
                fam.proto,
                header_at + fam.frag_field,
                "fragment offset",
                "at most 8191 blocks",
                units.to_string(),
            )
        })
    }
}

/// Cut a payload into fragments, each carrying the MTU less `headers` bytes rounded down to a
/// multiple of 8 (RFC 791 §3.2, RFC 8200 §4.5: fragment offsets count 8-octet blocks), the
/// last one the rest. Each piece is part i of n when there are several.
pub(super) fn cut(payload: &[u8], mtu: usize, headers: usize) -> Vec<Piece<'_>> {
    // The MTU floors (68, 1280) leave at least 48 bytes; 8 keeps the cut sound regardless.
    let per = (mtu.saturating_sub(headers) & !7).max(8);
    let count = payload.len().div_ceil(per);
    payload
        .chunks(per)
        .enumerate()
        .map(|(i, data)| Piece {
            offset: i * per,
            data,
            more: i + 1 < count,
            part: (count > 1).then_some(Part { index: i + 1, count }),
        })
        .collect()
}

/// The packets one SDU becomes going down: each is recorded, and handed down with the meta the
/// layer below needs.
pub(super) struct Outbound<'f> {
    fam: &'f Family,
    meta: Meta,
    /// The length of the whole payload (fragment notes count within it).
    whole: usize,
    pdus: Vec<Pdu>,
}

impl<'f> Outbound<'f> {
    /// Packets from `src` to `dst` carrying `whole` bytes of protocol `proto`, under the meta
    /// the layer above gave.
    pub fn new(fam: &'f Family, mut meta: Meta, proto: u8, src: IpAddr, dst: IpAddr, whole: usize) -> Self {
        meta.ethertype = Some(fam.ethertype);
        meta.ip_proto = Some(proto);
        meta.src_ip = Some(src);
        meta.dst_ip = Some(dst);
        Outbound { fam, meta, whole, pdus: Vec::new() }
    }

    /// One packet sent, carrying `piece`, with its record (a fragment's record notes which).
    pub fn push(&mut self, cx: &mut Context, piece: &Piece<'_>, mut r: Record, packet: Vec<u8>) {
        let mut meta = self.meta.clone();
        if let Some(part) = piece.part {
            r.part = Some(part);
            r.notes.push(format!(
                "fragment {} of {}: data bytes {}..{} of {} ({})",
                part.index,
                part.count,
                piece.offset,
                piece.offset + piece.data.len(),
                self.whole,
                self.fam.fragmentation
            ));
            meta.part = Some(part);
        }
        cx.trace.push(r);
        self.pdus.push(Pdu { data: Data::Bytes(packet), meta });
    }

    /// The packets, in order.
    pub fn finish(self) -> Vec<Pdu> {
        self.pdus
    }
}

/// Going up, first: the packet starts with this family's version number (RFC 791 §3.1, RFC 8200
/// §3) and holds at least its smallest header. `off` is the packet's frame offset.
pub(super) fn check_version(fam: &Family, bytes: &[u8], off: usize) -> Result<()> {
    let what = || format!("{} header", fam.proto);
    let Some(&first) = bytes.first() else {
        return Err(Error::truncated(L3, fam.proto, off, what(), fam.min_header, 0));
    };
    let version = first >> 4;
    if version != fam.version {
        return Err(Error::invalid(L3, fam.proto, off, "IP version", fam.version.to_string(), version.to_string()));
    }
    if bytes.len() < fam.min_header {
        return Err(Error::truncated(L3, fam.proto, off, what(), fam.min_header, bytes.len()));
    }
    Ok(())
}

/// A packet on its way up, from the moment its header has been read: the checks the families
/// share, reassembly and delivery. Every way out (a refusal, a packet held or consumed, a
/// delivery) puts the packet's record on the trace once, with a note saying what happened.
pub(super) struct Inbound<'a> {
    net: &'a mut Network,
    cx: &'a mut Context,
    fam: &'a Family,
    /// The packet's record, collecting its notes.
    pub r: Record,
    src: IpAddr,
    dst: IpAddr,
}

impl<'a> Inbound<'a> {
    /// The packet from `src` to `dst` whose record is `r`.
    pub fn new(
        net: &'a mut Network,
        cx: &'a mut Context,
        fam: &'a Family,
        r: Record,
        src: IpAddr,
        dst: IpAddr,
    ) -> Self {
        Inbound { net, cx, fam, r, src, dst }
    }

    /// Refuse the packet: the note goes on its record, the record on the trace, and `e` is the
    /// error to return.
    pub fn refuse(self, note: impl Into<String>, e: Error) -> Error {
        self.stop::<()>(note);
        e
    }

    /// Take the packet no further (held, consumed): the note goes on its record, the record on
    /// the trace.
    pub fn stop<T>(mut self, note: impl Into<String>) -> Option<T> {
        self.r.notes.push(note.into());
        self.cx.trace.push(self.r);
        None
    }

    /// Bytes after the packet's own length (`end` of the `len` received; the length field says
    /// `length`) are Ethernet padding only if the frame needed padding at all: then they are
    /// trimmed, else `too_many` is the error.
    pub fn trim_padding(
        mut self,
        len: usize,
        end: usize,
        length: usize,
        too_many: impl FnOnce() -> Error,
    ) -> Result<Self> {
        if len > end {
            let field = self.fam.length_field;
            if len > ETHERNET_MIN_PAYLOAD {
                let note = format!("bytes after the {field}, too many to be Ethernet padding: discarded");
                return Err(self.refuse(note, too_many()));
            }
            self.r.notes.push(format!(
                "{} bytes after the {field} ({length}) are Ethernet padding: trimmed ({})",
                len - end,
                self.fam.padding_rfc
            ));
        }
        Ok(self)
    }

    /// RFC 1122 §3.2.1.7 / RFC 8200 §3: a host never sends TTL (hop limit) 0 and a router
    /// discards a packet whose count reaches 0: one that arrives with 0 was never valid. `at` is
    /// the field's frame offset.
    pub fn check_ttl(self, ttl: u8, at: usize) -> Result<Self> {
        if ttl != 0 {
            return Ok(self);
        }
        let (name, rule) = self.fam.ttl;
        let e = Error::invalid(L3, self.fam.proto, at, format!("{name} ({rule})"), "at least 1", "0");
        Err(self.refuse(format!("{name} 0: discarded"), e))
    }

    /// RFC 1122 §3.2.1.3: a host accepts packets addressed to itself (or to the limited
    /// broadcast / all-nodes address), unless it is a capture. `at` is the destination field's
    /// frame offset.
    pub fn check_destination(self, at: usize) -> Result<Self> {
        let (dst, local) = (self.dst, self.net.cfg.local);
        if dst == local || dst == self.fam.also_for_us || self.net.groups.contains(&dst) || self.net.cfg.promiscuous {
            return Ok(self);
        }
        let e = Error::invalid(
            L3,
            self.fam.proto,
            at,
            "destination address: not addressed to this host",
            local.to_string(),
            dst.to_string(),
        );
        Err(self.refuse("not addressed to this host: discarded", e))
    }

    /// A protocol this host has no handler for is refused (RFC 1122 §3.2.2.1, RFC 8200 §4),
    /// except by a capture, which notes it. `at` is the protocol field's frame offset.
    pub fn check_proto(mut self, proto: u8, at: usize) -> Result<Self> {
        if supported_proto(self.fam.v6, proto) {
            return Ok(self);
        }
        let (field, refused) = self.fam.proto_field;
        if self.net.cfg.promiscuous {
            self.r.notes.push(format!("no handler for {field} {proto} on this host (captured anyway)"));
            return Ok(self);
        }
        let e = Error::invalid(L3, self.fam.proto, at, self.fam.unsupported, self.fam.supported, proto_shown(proto));
        Err(self.refuse(format!("{refused} {field} {proto}: discarded"), e))
    }

    /// Feed one fragment of the datagram `key` to the reassembler (`limit`: the largest payload
    /// it may reach; `header_at`: the frame offset of the header holding the fragment fields).
    /// `Ok(None)` while the datagram waits or once it is given up; the datagram when this
    /// fragment completes it; an error when the fragment is refused (the datagram is discarded).
    pub fn reassemble(
        mut self,
        key: Key,
        frag: Fragment<'_>,
        limit: usize,
        header_at: usize,
    ) -> Result<Option<(Self, Reassembled)>> {
        let (result, evicted) = self.net.reassembler.insert(key, self.cx.now, frag, limit, self.fam.overlap);
        if let Some(gone) = evicted {
            self.r.notes.push(expired_note(&gone));
        }
        match result {
            Ok(Outcome::Held { received, total }) => Ok(self.stop(held_note(received, total))),
            Ok(Outcome::Duplicate { received, total }) => {
                let note = format!("{}; {}", self.fam.duplicate, held_note(received, total));
                Ok(self.stop(note))
            }
            // RFC 1122 §3.3.2: the buffer is the host's to bound; the datagram is given up, as on
            // eviction, and this fragment with it.
            Ok(Outcome::Abandoned(gone)) => Ok(self.stop(expired_note(&gone))),
            Ok(Outcome::Complete(done)) => {
                self.r.notes.push(format!("reassembled from {} fragments ({} bytes)", done.fragments, done.data.len()));
                Ok(Some((self, done)))
            }
            Err(p) => {
                let e = problem_error(self.fam, &p, header_at);
                let note = format!("fragment refused, {} discarded: {e}", self.fam.unit);
                Err(self.refuse(note, e))
            }
        }
    }

    /// Hand the payload up: the packet's record goes on the trace, then an ICMP message goes
    /// to `icmp` and any other payload to the layer above. `meta` is the one L2 gave, `hlen`
    /// the bytes of IP headers before the payload, `ttl` the packet's TTL / hop limit.
    pub fn deliver(self, payload: Vec<u8>, mut meta: Meta, proto: u8, ttl: u8, hlen: usize) -> Result<Option<Pdu>> {
        meta.src_ip = Some(self.src);
        meta.dst_ip = Some(self.dst);
        meta.ip_proto = Some(proto);
        meta.offset += hlen;
        self.cx.trace.push(self.r);
        if proto == self.fam.icmp {
            return icmp::decapsulate(self.net, payload, meta, ttl, hlen, self.cx);
        }
        Ok(Some(Pdu { data: Data::Bytes(payload), meta }))
    }
}

/// "fragment held for reassembly (1480 of ? bytes)".
fn held_note(received: usize, total: Option<usize>) -> String {
    let total = total.map_or_else(|| "?".to_string(), |t| t.to_string());
    format!("fragment held for reassembly ({received} of {total} bytes)")
}

/// The error for a refused fragment, at its fragment offset field (`header_at` = frame offset of
/// the header that holds it).
pub(super) fn problem_error(fam: &Family, p: &Problem, header_at: usize) -> Error {
    let invalid = |what: &str, expected: String, found: String| {
        Error::invalid(L3, fam.proto, header_at + fam.frag_field, what, expected, found)
    };
    let more = fam.more_flag;
    match p {
        Problem::EmptyNotLast { offset } => invalid(
            fam.length_rule,
            format!("at least 8 bytes of data when {more} is set"),
            format!("an empty fragment at payload offset {offset} with {more} set: it makes no progress"),
        ),
        Problem::NotMultipleOf8 { len } => invalid(fam.length_rule, "a multiple of 8".into(), format!("{len} bytes")),
        Problem::TooLong { end, limit } => {
            invalid(fam.too_long, (fam.too_long_expected)(*limit), format!("{end} bytes"))
        }
        Problem::Overlap { at, earlier } => {
            let (what, expected, found) = match fam.overlap {
                OverlapPolicy::SameBytes => ("overlapping fragments", "the same bytes as", "different bytes"),
                OverlapPolicy::ExactDuplicateOnly => (
                    "overlapping fragments (RFC 8200 §4.5, RFC 5722: the packet is abandoned)",
                    "no overlap with",
                    "an overlap",
                ),
            };
            invalid(
                what,
                format!("{expected} the fragment holding {}..{}", earlier.start, earlier.end),
                format!("{found} from payload offset {at}"),
            )
        }
        Problem::BeyondEnd { end, total } => invalid(
            "fragment end",
            format!("within the {}'s {total} bytes set by its last fragment", fam.unit),
            format!("data up to byte {end}"),
        ),
    }
}

/// Wireshark's short DSCP name, as in the DS field's summary (RFC 2474 class selectors, RFC 2597
/// AF, RFC 3246 EF, RFC 5865 Voice Admit, RFC 8622 LE).
pub(super) fn dscp_name(d: u8) -> String {
    match d {
        0 => "CS0".into(),
        1 => "LE".into(),
        8 | 16 | 24 | 32 | 40 | 48 | 56 => format!("CS{}", d / 8),
        44 => "VOICE-ADMIT".into(),
        46 => "EF PHB".into(),
        10 | 12 | 14 | 18 | 20 | 22 | 26 | 28 | 30 | 34 | 36 | 38 => format!("AF{}{}", d / 8, (d % 8) / 2),
        _ => "Unknown".into(),
    }
}

/// Wireshark's long DSCP name, as on the `ip.dsfield.dscp` line ("Class Selector 6").
pub(super) fn dscp_long_name(d: u8) -> String {
    match d {
        0 => "Default".into(),
        1 => "Lower Effort".into(),
        8 | 16 | 24 | 32 | 40 | 48 | 56 => format!("Class Selector {}", d / 8),
        44 => "Voice Admit".into(),
        46 => "Expedited Forwarding".into(),
        10 | 12 | 14 | 18 | 20 | 22 | 26 | 28 | 30 | 34 | 36 | 38 => {
            format!("Assured Forwarding {}{}", d / 8, (d % 8) / 2)
        }
        _ => "Unknown".into(),
    }
}

/// ECN names (RFC 3168 §5): short, as in the DS field summary, and long.
pub(super) fn ecn_names(e: u8) -> (&'static str, &'static str) {
    match e & 3 {
        0 => ("Not-ECT", "Not ECN-Capable Transport"),
        1 => ("ECT(1)", "ECN-Capable Transport codepoint '01'"),
        2 => ("ECT(0)", "ECN-Capable Transport codepoint '10'"),
        _ => ("CE", "Congestion Experienced"),
    }
}

/// The names of the DSCP and ECN sub-fields of one family's DS field.
#[derive(Debug, Clone, Copy)]
pub(super) struct DsNames {
    dscp: &'static str,
    ecn: &'static str,
}

impl DsNames {
    /// Under `ip.dsfield`.
    pub const IP: DsNames = DsNames { dscp: "ip.dsfield.dscp", ecn: "ip.dsfield.ecn" };
    /// Under `ipv6.tclass`.
    pub const IPV6: DsNames = DsNames { dscp: "ipv6.tclass.dscp", ecn: "ipv6.tclass.ecn" };
}

/// The DSCP and ECN sub-fields (RFC 2474 §3, RFC 3168 §5), with their renderings when `detail`.
pub(super) fn ds_fields(fields: &mut Vec<Field>, names: DsNames, ds: u8, detail: bool) {
    let (dscp, ecn) = (ds >> 2, ds & 3);
    fields.push(
        Field::uint(names.dscp, "Differentiated Services Codepoint", dscp)
            .shown_if(detail, || format!("{} ({dscp})", dscp_long_name(dscp)))
            .depth(1),
    );
    fields.push(
        Field::uint(names.ecn, "Explicit Congestion Notification", ecn)
            .shown_if(detail, || format!("{} ({ecn})", ecn_names(ecn).1))
            .depth(1),
    );
}
