//! # osilab: an OSI-layer protocol simulator
//!
//! Every one of the seven layers does its real job on real bytes. A message goes **down** the
//! stack on the sender, each layer wrapping what the layer above gave it, until L1 turns the frame
//! into line-coded bits; on the receiver it goes **up**, each layer checking and stripping its part.
//!
//! ```text
//!   send:  L7 data → L6 data → L5 data → L4 segment/datagram → L3 packet → L2 frame → L1 bits
//!   recv:  L1 bits → L2 frame → L3 packet → L4 segment → L5 data → L6 data → L7 data
//! ```
//!
//! ## Map of the crate
//! - [`layer`]: the seam: the [`Layer`](layer::Layer) trait (`encapsulate` / `decapsulate`), the
//!   [`Pdu`](layer::Pdu) passed between layers, [`LayerId`](layer::LayerId).
//! - [`trace`]: the [`Trace`](trace::Trace) of [`Record`](trace::Record)s every layer writes, with
//!   fields under Wireshark display-filter names; `Display` prints it as a tree.
//! - [`layers`]: one module per layer: `l1_physical` (line codes, timing, bit errors),
//!   `l2_data_link` (Ethernet II, 802.1Q, FCS, ARP), `l3_network` (IPv4 with fragmentation,
//!   IPv6, ICMP echo), `l4_transport` (UDP, TCP), `l5_session`, `l6_presentation`,
//!   `l7_application`.
//! - [`stack`]: the pipeline: a [`Stack`](stack::Stack) of seven layers built from a
//!   [`StackConfig`](stack::StackConfig), and an [`Exchange`](stack::Exchange) (send, then receive).
//! - [`render`]: tree, hex, bits and JSON output; [`pcap`]: writing pcap files; [`capture`]:
//!   reading pcap and pcapng files; [`dissect`]: `osilab dissect`, every captured frame up the
//!   layers in capture mode, printed like tshark.
//! - `live` (feature `live`, on by default): `osilab live`, osilab's frames and hosts on a real
//!   interface through pnet, against real peers.
//! - [`cli`]: the `osilab` command line. [`error`], [`time`], [`rng`], [`addr`]: the basics.
//!
//! ## Use from Rust
//! Build a stack, send a message, and look at (or snapshot) the trace:
//!
//! ```
//! use osilab::stack::{Stack, StackConfig};
//! use osilab::time::Instant;
//!
//! let cfg = StackConfig::default(); // TCP 192.0.2.1:51000 → 192.0.2.2:3000
//! let mut client = Stack::from_config(&cfg)?;
//! let sent = client.encapsulate(b"hello", Instant::ZERO)?;
//! assert_eq!(sent.frames.len(), 1);
//! // Seven layers went down: one record each.
//! assert_eq!(sent.trace.records.len(), 7);
//! assert!(sent.trace.to_string().contains("[ip.ttl]"));
//!
//! // The server's stack is the mirror image; it takes the signal off the wire.
//! let mut server = Stack::from_config(&cfg.mirror())?;
//! let got = server.decapsulate(sent.frames.into_iter().map(|f| f.signal), Instant::ZERO);
//! assert!(got.error.is_none());
//! assert_eq!(got.delivered, b"hello");
//! // In a test of your own: insta::assert_snapshot!(got.trace.to_string());
//! # Ok::<(), osilab::Error>(())
//! ```
//!
//! ## Invariants
//! `layers` and `stack` never import `cli`, `pcap` or `pnet`, never read the OS clock and do no
//! I/O: they are pure functions of bytes, configuration and the `now` they are handed, and they
//! fail only by returning an [`Error`] that names the layer and byte offset.

pub mod addr;
pub mod apps;
pub mod capture;
pub mod cli;
mod digits;
pub mod dissect;
pub mod error;
pub mod host;
pub mod layer;
pub mod layers;
#[cfg(feature = "live")]
pub mod live;
pub mod pcap;
pub mod render;
pub mod rng;
pub mod sim;
pub mod stack;
pub mod time;
pub mod trace;

pub use error::{Error, Result};

/// The book's chapters that hold Rust blocks: `cargo test --doc` compiles and runs each block
/// (`tests/book.rs` checks that every such chapter is listed here).
#[cfg(doctest)]
mod book_doctests {
    #[doc = include_str!("../book/src/snapshot-testing.md")]
    struct SnapshotTesting;
}
