//! L2 with the FCS left to the network card ([`DataLink::set_fcs_by_nic`], live mode): frames
//! go out complete but for the FCS, and frames come in without one, of any length a card
//! hands over.

use super::arp::ArpPacket;
use super::*;
use crate::error::ErrorKind;
use std::net::Ipv4Addr;

const A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
const B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);

fn nic_link(local: MacAddr, remote: MacAddr) -> DataLink {
    let mut l = DataLink::new(DataLinkConfig { local, remote, vlan: None, promiscuous: false, capture: false });
    l.set_fcs_by_nic(true);
    l
}

fn sdu(payload: &[u8], ethertype: u16) -> Pdu {
    let mut p = Pdu::bytes(payload.to_vec());
    p.meta.ethertype = Some(ethertype);
    p
}

fn arp_request() -> Vec<u8> {
    ArpPacket::request(A, Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)).emit()
}

#[test]
fn sent_frames_are_padded_but_end_before_the_fcs() {
    let mut cx = Context::default();
    let out = nic_link(A, B).encapsulate(sdu(b"hi", 0x88b5), &mut cx).unwrap();
    let (bytes, _) = out.into_iter().next().unwrap().into_bytes(LayerId::DataLink).unwrap();
    // 14 header + 2 payload + 44 padding = 60: the minimum size without the FCS.
    assert_eq!(bytes.len(), 60);
    assert_eq!(&bytes[..6], &B.0);
    assert_eq!(&bytes[12..16], &[0x88, 0xb5, b'h', b'i']);
    assert!(bytes[16..].iter().all(|&b| b == 0));
    let eth = &cx.trace.records[0];
    assert!(eth.field("eth.fcs").is_none(), "no FCS field: the card adds it");
    assert_eq!(eth.overhead, 14 + 44);
    assert_eq!(eth.trailer, Some(16..60));
    assert!(eth.notes.iter().any(|n| n.contains("appended by the network card")));
}

#[test]
fn a_short_frame_without_fcs_is_taken_in() {
    // The kernel's own ARP reply on a veth pair: 42 bytes, no padding, no FCS.
    let mut frame = B.0.to_vec();
    frame.extend_from_slice(&A.0);
    frame.extend_from_slice(&[0x08, 0x06]);
    frame.extend_from_slice(&ArpPacket::reply_to(&ArpPacket::parse(&arp_request(), 0).unwrap(), A).emit());
    frame[..6].copy_from_slice(&A.0);
    assert_eq!(frame.len(), 42);
    let mut cx = Context::default();
    let up = nic_link(A, B).decapsulate(Pdu::bytes(frame), &mut cx).unwrap().unwrap();
    assert_eq!(up.meta.ethertype, Some(0x0806));
    let (bytes, _) = up.into_bytes(LayerId::DataLink).unwrap();
    assert_eq!(bytes.len(), ArpPacket::LEN);
    let eth = &cx.trace.records[0];
    assert!(eth.field("eth.fcs").is_none());
    assert!(eth.checks.iter().all(|c| c.name != "eth.fcs.status"), "no FCS to check");
    assert!(eth.notes.iter().any(|n| n.contains("stripped by the network card")));
}

#[test]
fn without_fcs_the_last_four_bytes_are_payload() {
    let mut frame = A.0.to_vec();
    frame.extend_from_slice(&B.0);
    frame.extend_from_slice(&[0x88, 0xb5]);
    frame.extend_from_slice(&[7; 50]);
    let mut cx = Context::default();
    let up = nic_link(A, B).decapsulate(Pdu::bytes(frame), &mut cx).unwrap().unwrap();
    let (bytes, _) = up.into_bytes(LayerId::DataLink).unwrap();
    assert_eq!(bytes, vec![7; 50]);
}

#[test]
fn still_refused_without_fcs_a_cut_header_and_an_oversized_frame() {
    let mut cx = Context::default();
    let e = nic_link(A, B).decapsulate(Pdu::bytes(vec![0; 13]), &mut cx).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "{e}");
    // 1515 bytes untagged: one more than 14 + 1500.
    let mut frame = A.0.to_vec();
    frame.extend_from_slice(&B.0);
    frame.extend_from_slice(&[0x88, 0xb5]);
    frame.resize(1515, 0);
    let e = nic_link(A, B).decapsulate(Pdu::bytes(frame.clone()), &mut cx).unwrap_err();
    assert_eq!(e.offset, Some(1514), "{e}");
    assert!(e.to_string().contains("without the FCS"), "{e}");
    frame.truncate(1514);
    assert!(nic_link(A, B).decapsulate(Pdu::bytes(frame), &mut cx).is_ok());
}

#[test]
fn the_round_trip_between_two_cards_delivers_the_payload() {
    let mut cx = Context::default();
    let payload: Vec<u8> = (0..=255).collect();
    let out = nic_link(A, B).encapsulate(sdu(&payload, 0x88b5), &mut cx).unwrap();
    let frame = out.into_iter().next().unwrap();
    let up = nic_link(B, A).decapsulate(frame, &mut cx).unwrap().unwrap();
    assert_eq!(up.into_bytes(LayerId::DataLink).unwrap().0, payload);
}
