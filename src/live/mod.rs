//! `osilab live`: osilab on a real network interface (behind the default `live` feature, the
//! only code that uses pnet).
//!
//! ```text
//!   osilab's Host (ARP/ND, IPv4/IPv6, ICMP, TCP, the apps: the code simulate runs)
//!        ▲ receive(frame, now)                  │ poll_transmit()
//!   Session: the real clock → Instant, timers, trace rows
//!        ▲ LinkFrame::wire() (offload done, VLAN tag back)   │ Link::send
//!   Link: pnet's datalink channel on one named interface (AF_PACKET), read with recvmsg
//!        ▲                                                   ▼
//!   the interface (a veth end, a NIC) ── the Linux kernel and real programs beyond it
//! ```
//!
//! - [`link`]: the [`Link`]: open a named interface (clear errors for a missing
//!   CAP_NET_RAW, an unknown interface with the list of those there are, an interface down),
//!   send a frame, receive one with a timeout.
//! - [`offload`]: what a card does that a veth leaves undone (checksum and TCP segmentation
//!   offload), and the 802.1Q tag Linux strips into metadata, put back.
//! - [`session`]: one of osilab's hosts on a link, driven by the monotonic clock.
//! - [`sys`]: the `packet(7)` calls pnet does not make (the only `unsafe` code).
//!
//! Frames cross the packet socket without FCS: the host's L2 leaves it to the card
//! ([`crate::host::Host::set_fcs_by_nic`]).

pub mod link;
pub mod offload;
pub mod session;
pub mod sys;

pub use link::{Link, LinkFrame, LinkOptions, Way};
pub use session::{AppOutput, Ended, HostOptions, Session};
